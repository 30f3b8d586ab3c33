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
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "bounce.h"
#include "redis_common.h"
#include "redis_persist.h"
#include "xalloc.h"

/* bounce_state_free - release a loaded state */
void
bounce_state_free(void *state)
{
	struct bounce_state *st = state;

	if (st == NULL)
		return;
	st->pool = redis_pool_free(st->pool);
	for (size_t i = 0; i < st->nfbl; i++)
		free(st->fbl_local[i]);
	free(st->fbl_local);
	st->keys = bounce_keyring_free(st->keys);
	free(st->domain);
	free(st);
}

/* bs_fbl_load - the FBL local parts; an address must be at bounce_domain */
static void
bs_fbl_load(struct bounce_state *st, const struct cfg_list *l,
	    const char *config_path, struct errlist *el)
{
	st->fbl_local = xcalloc(l->count + 1, sizeof(*st->fbl_local));
	for (size_t i = 0; i < l->count; i++) {
		const char *a = l->items[i], *at = strchr(a, '@'), *why;
		char *dom;

		if (at != NULL && st->domain != NULL) {
			dom = addr_domain_normalize(at + 1, &why);
			if (dom == NULL || strcmp(dom, st->domain) != 0)
				errlist_add_at(el, config_path, 0, "bounce_fbl_addresses: "
					       "%s: not at bounce_domain %s", a, st->domain);
			free(dom);
		}
		st->fbl_local[st->nfbl] = at != NULL ? xstrndup(a, (size_t)(at - a))
		    : xstrdup(a);
		for (char *cp = st->fbl_local[st->nfbl]; *cp; cp++)
			if (*cp >= 'A' && *cp <= 'Z')
				*cp += 'a' - 'A';
		st->nfbl++;
	}
}

/* bounce_state_is_fbl - is a local part at the bounce domain an FBL address */
int
bounce_state_is_fbl(const struct bounce_state *st, const char *local)
{
	for (size_t i = 0; i < st->nfbl; i++)
		if (strcasecmp(st->fbl_local[i], local) == 0)
			return 1;
	return 0;
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
	char errbuf[300];

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
	bs_fbl_load(st, &conf->fbl_addresses, config_path, el);
	if (bounce_fbid_parse((const char *const *)conf->feedback_id.items,
			      conf->feedback_id.count, &st->fbid, errbuf,
			      sizeof(errbuf)) < 0)
		errlist_add_at(el, config_path, 0, "bounce_feedback_id: %s", errbuf);
	st->record_ttl = conf->tag_lifetime;
	if (conf->ref && conf->ref_lifetime > st->record_ttl)
		st->record_ttl = conf->ref_lifetime;
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
	fprintf(fp, "bounce reference header %s, %zu feedback-loop address%s, "
		"Feedback-ID %s\n", st->conf->ref ? "on" : "off", st->nfbl,
		st->nfbl == 1 ? "" : "es", st->fbid.n > 0 ? "on" : "off");
	{
		/* quotas, overrides and suppressions must survive a Redis restart */
		char	text[256];
		int	rc = redis_persistence(st->pool, text, sizeof(text));

		fprintf(fp, "%sredis persistence: %s\n", rc == 0 ? "WARNING: " : rc < 0 ? "note: " : "",
			text);
	}
}
