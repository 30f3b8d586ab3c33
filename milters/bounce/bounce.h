/*++
 * NAME
 *	bounce 3h
 * SUMMARY
 *	postmill-bounce internals: what one configuration snapshot loads
 * DESCRIPTION
 *	struct bounce_state is built by bounce_state_load() (bounce_state.c)
 *	from a loaded configuration: the normalized bounce domain, the
 *	keyring of secrets, the policy (reason lists, expiries) and the
 *	Redis pool (it connects lazily, on the first call). It is immutable
 *	and shared by every thread; the pool is thread-safe and lives as
 *	long as the snapshot.
 *
 * *	Modules, each with its own header:
 *	bounce_tag.h	 the tag codec		bounce_keys.h	the secrets
 *	bounce_policy.h	 decisions		bounce_store.h	Redis
 *	bounce_msg.h	 one message's facts	bounce_milter.h	callbacks
 *	bounce_classify.h the classifier (branch bounce-classify)
 *	bounce_ref.h	 the reference header	bounce_fbid.h	Feedback-ID
 *	bounce_fbl.h	 complaints mapped back
 *--*/
#ifndef POSTMILL_BOUNCE_H
#define POSTMILL_BOUNCE_H

#include <stdio.h>

#include "bounce_conf.h"
#include "bounce_fbid.h"
#include "bounce_keys.h"
#include "bounce_pause.h"
#include "bounce_tenant.h"
#include "bounce_policy.h"
#include "cfg_common.h"
#include "errlist.h"
#include "redis.h"

struct bounce_state {
	const struct bounce_conf *conf;	/* borrowed from the snapshot */
	char		*domain;	/* normalized bounce_domain */
	struct bounce_keyring *keys;
	struct bounce_policy pol;
	struct redis_pool *pool;
	struct bounce_fbid fbid;	/* Feedback-ID sources; n 0: none */
	char	       **fbl_local;	/* FBL local parts, lower case */
	size_t		 nfbl;
	long long	 record_ttl;	/* ms: the longer lifetime */
	struct bounce_tenants *tenants;	/* bounce_tenant_table, or NULL */
	struct bounce_bdomain *bdomains; /* [0]: bounce_domain */
	size_t		 nbdomains;
	struct bounce_pause_conf pause;
	struct bounce_keyring *unsub_keys; /* one-click tokens */
	struct bounce_keyring *track_keys; /* click and open tokens */
};

const struct bounce_bdomain *bounce_state_bdomain(const struct bounce_state *st,
						  const char *domain);
struct bounce_keyring *bounce_keyring_derive(const struct bounce_keyring *ring,
					     const char *label);

int	 bounce_state_is_fbl(const struct bounce_state *st, const char *local);

void	*bounce_state_load(const struct common_conf *common, const void *conf,
			   const char *config_path, struct errlist *el);
void	 bounce_state_free(void *state);
void	 bounce_state_describe(const void *state, FILE *fp);

#endif
