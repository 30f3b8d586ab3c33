/*++
 * NAME
 *	bounce_state 3
 * SUMMARY
 *	what one configuration snapshot of postmill-bounce loads
 * DESCRIPTION
 *	bounce_state_load() checks that the bounce domain is set and
 *	valid, reads the secrets (bounce_keys.h: modes checked), builds the
 *	policy and makes the Redis pool (no connection yet: a Redis that is
 *	down is a runtime condition, bounce_on_redis_error). Every problem
 *	goes into the errlist; on any problem nothing is returned, so a bad
 *	reload keeps the previous snapshot.
 *--*/
#include <stdio.h>
#include <stdlib.h>

#include "addr.h"
#include "bounce.h"
#include "redis_common.h"
#include "xalloc.h"

/* bounce_state_free - release a loaded state */
void
bounce_state_free(void *state)
{
	struct bounce_state *st = state;

	if (st == NULL)
		return;
	st->pool = redis_pool_free(st->pool);
	st->keys = bounce_keyring_free(st->keys);
	free(st->domain);
	free(st);
}

/* bounce_state_load - domain, secrets, policy, Redis pool */
void *
bounce_state_load(const struct common_conf *common, const void *confp,
		  const char *config_path, struct errlist *el)
{
	const struct bounce_conf *conf = confp;
	struct bounce_state *st = xcalloc(1, sizeof(*st));
	size_t before = el->count;
	const char *why;

	st->conf = conf;
	if (conf->domain == NULL)
		errlist_add_at(el, config_path, 0, "bounce_domain is empty: "
			       "tagged senders need a domain whose MX is this MTA");
	else if ((st->domain = addr_domain_normalize(conf->domain, &why)) == NULL)
		errlist_add_at(el, config_path, 0, "bounce_domain = %s: %s",
			       conf->domain, why);
	st->keys = bounce_keys_load(&conf->secret_files, el);
	(void)bounce_policy_from_conf(conf, &st->pol, config_path, el);
	st->pool = redis_common_pool(common, config_path, el);
	if (el->count != before) {
		bounce_state_free(st);
		return NULL;
	}
	return st;
}

/* bounce_state_describe - what -n prints about a good configuration */
void
bounce_state_describe(const void *state, FILE *fp)
{
	const struct bounce_state *st = state;

	fprintf(fp, "bounce domain %s, %zu secret%s (signing key id %u), redis %s\n",
		st->domain, st->keys->n, st->keys->n == 1 ? "" : "s",
		st->keys->keys[0].id, redis_pool_server(st->pool));
}
