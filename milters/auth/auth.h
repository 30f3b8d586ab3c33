/*++
 * NAME
 *	auth 3h
 * SUMMARY
 *	postmill-auth internals: what one configuration snapshot loads
 * DESCRIPTION
 *	struct auth_state is built by auth_state_load() (auth_state.c) from
 *	a loaded configuration: the DNS resolver (common dns_resolver and
 *	dns_timeout, with a cache of auth_dns_cache_size answers), the SPF
 *	evaluator on that resolver (its time limit auth_spf_time_limit),
 *	the libopendkim handle, the public suffix list when
 *	auth_dmarc_org_domain = psl, the authserv-id and the host name (the
 *	SPF receiver when the MTA sends no {j}). Immutable, shared by every
 *	thread, freed with its snapshot.
 *
 *	With auth_report_record, report_pool is a Redis pool on the common
 *	redis_* parameters whose command and connect time limits are
 *	auth_report_timeout (auth_record.h); NULL otherwise.
 *
 *	auth_txt() is the TXT lookup the DMARC and DKIM code get: the
 *	state's resolver, arg is the struct auth_state.
 *--*/
#ifndef POSTMILL_AUTH_H
#define POSTMILL_AUTH_H

#include <stdio.h>

#include "auth_conf.h"
#include "auth_dkim.h"
#include "auth_psl.h"
#include "cfg_common.h"
#include "dns.h"
#include "errlist.h"
#include "redis.h"
#include "spf.h"

struct auth_state {
	const struct auth_conf	*conf;		/* borrowed from the snapshot */
	struct dns_resolver	*dns;
	struct spf_evaluator	*spf;		/* on dns */
	struct auth_dkim_lib	*dkim;
	struct auth_psl		*psl;		/* NULL unless mode psl */
	struct redis_pool	*report_pool;	/* NULL unless auth_report_record */
	char			 authserv_id[256];
	char			 hostname[256];
};

void	*auth_state_load(const struct common_conf *common, const void *conf,
			 const char *config_path, struct errlist *el);
void	 auth_state_free(void *state);
void	 auth_state_describe(const void *state, FILE *fp);
int	 auth_txt(void *arg, const char *name, struct dns_txt_result *out);

#endif
