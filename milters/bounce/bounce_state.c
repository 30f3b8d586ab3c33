/*++
 * NAME
 *	bounce_state 3
 * SUMMARY
 *	what one configuration snapshot of postmill-bounce loads
 * DESCRIPTION
 *	bounce_state_load() checks that the bounce domain is set and
 *	valid, reads the secrets (bounce_keys.h: modes checked), builds the
 *	policy and makes the Redis pool (no connection yet: a Redis that is
 *	down is a runtime condition, bounce_on_redis_error), loads the
 *	tenant table (bounce_tenant.h) and derives a keyring for each
 *	tenant bounce domain (from the tenant's own secret= files, else
 *	from bounce_secret_files) and one for one-click tokens (the
 *	secrets' key ids, HMAC-SHA256 of each secret and a label). Every problem
 *	goes into the errlist; on any problem nothing is returned, so a bad
 *	reload keeps the previous snapshot.
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

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
	for (size_t i = 1; i < st->nbdomains; i++)
		bounce_keyring_free(st->bdomains[i].keys);
	free(st->bdomains);
	st->tenants = bounce_tenants_free(st->tenants);
	st->unsub_keys = bounce_keyring_free(st->unsub_keys);
	st->track_keys = bounce_keyring_free(st->track_keys);
	st->keys = bounce_keyring_free(st->keys);
	free(st->domain);
	free(st);
}

/*
 * bs_fbl_load - the FBL local parts, taken at every bounce domain (the
 * global one and each tenant's: a provider's feedback loop is
 * registered per sending domain); an address given with a domain must
 * be at one of them
 */
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
			if (dom == NULL || (strcmp(dom, st->domain) != 0
					    && bounce_state_bdomain(st, dom) == NULL))
				errlist_add_at(el, config_path, 0, "bounce_fbl_addresses: "
					       "%s: not at bounce_domain %s nor at a tenant's "
					       "bounce domain", a, st->domain);
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

/* bounce_state_is_fbl - is a local part at a bounce domain an FBL address */
int
bounce_state_is_fbl(const struct bounce_state *st, const char *local)
{
	for (size_t i = 0; i < st->nfbl; i++)
		if (strcasecmp(st->fbl_local[i], local) == 0)
			return 1;
	return 0;
}

/*
 * bounce_keyring_derive - a ring of the same key ids whose secrets are
 * HMAC-SHA256(secret, "postmill-bounce " LABEL): a tag made for one
 * tenant's bounce domain does not verify at another's (or the global
 * one), yet rotation stays one list of files
 */
struct bounce_keyring *
bounce_keyring_derive(const struct bounce_keyring *ring, const char *label)
{
	struct bounce_keyring *d = xcalloc(1, sizeof(*d));
	char *msg = xasprintf("postmill-bounce %s", label);
	unsigned int mlen;

	for (size_t i = 0; i < ring->n; i++) {
		d->keys[i].id = ring->keys[i].id;
		mlen = 0;
		HMAC(EVP_sha256(), ring->keys[i].secret, (int)ring->keys[i].len,
		     (const unsigned char *)msg, strlen(msg), d->keys[i].secret, &mlen);
		d->keys[i].len = mlen;
	}
	d->n = ring->n;
	free(msg);
	return d;
}

/* bounce_state_bdomain - the accepted bounce domain DOMAIN (any case), or NULL */
const struct bounce_bdomain *
bounce_state_bdomain(const struct bounce_state *st, const char *domain)
{
	for (size_t i = 0; i < st->nbdomains; i++)
		if (strcasecmp(st->bdomains[i].domain, domain) == 0)
			return &st->bdomains[i];
	return NULL;
}

/* bs_same_secrets - do two tenants list the same secret files, in order */
static bool
bs_same_secrets(const struct bounce_tenant *a, const struct bounce_tenant *b)
{
	size_t na = a != NULL ? a->nsecrets : 0, nb = b != NULL ? b->nsecrets : 0;

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a->secrets[i], b->secrets[i]) != 0)
			return false;
	return true;
}

/*
 * bs_tenant_ring - the keys of a tenant's bounce domain: derived from its
 * own secret= files when it has them (read and checked as
 * bounce_secret_files are; problems reported at the table's line), else
 * from the global secrets; NULL on a problem
 */
static struct bounce_keyring *
bs_tenant_ring(const struct bounce_state *st, const struct bounce_tenant *t,
	       struct errlist *el)
{
	struct cfg_list files = {t->secrets, t->nsecrets};
	struct errlist mine = ERRLIST_INIT;
	struct bounce_keyring *own, *d;

	if (t->nsecrets == 0)
		return bounce_keyring_derive(st->keys, t->bounce_domain);
	if ((own = bounce_keys_load(&files, &mine)) == NULL) {
		for (size_t i = 0; i < mine.count; i++)
			errlist_add_at(el, st->conf->tenant_table, t->line, "tenant %s: "
				       "secret %s", t->name, mine.msgs[i]);
		errlist_free(&mine);
		return NULL;
	}
	d = bounce_keyring_derive(own, t->bounce_domain);
	bounce_keyring_free(own);
	return d;
}

/* bs_tenants_load - the table, the tenants' bounce domains and their keys */
static void
bs_tenants_load(struct bounce_state *st, const char *config_path,
		struct errlist *el)
{
	const struct bounce_conf *conf = st->conf;
	const char *why;
	const char *text[4] = {conf->review_bounce_rate, conf->review_complaint_rate,
			       conf->pause_bounce_rate, conf->pause_complaint_rate};
	long long *ppm[4] = {&st->pause.review_bounce_ppm, &st->pause.review_complaint_ppm,
			     &st->pause.pause_bounce_ppm, &st->pause.pause_complaint_ppm};
	const struct bounce_tenant **owner;	/* whose secrets each domain has */

	/* checked by bounce_validate() already: a failure here is not reached */
	for (int i = 0; i < 4; i++)
		if (bounce_rate_parse(text[i], text[i] ? strlen(text[i]) : 0, ppm[i], &why) < 0)
			errlist_add_at(el, config_path, 0, "bounce rate thresholds: %s", why);
	st->pause.window_ms = conf->pause_window;
	st->pause.min_volume = conf->pause_min_volume;
	/* read even when the secrets are bad: every problem is reported */
	if (conf->tenant_table != NULL)
		st->tenants = bounce_tenant_load(conf->tenant_table, el);
	if (st->domain == NULL || st->keys == NULL)
		return;
	st->unsub_keys = bounce_keyring_derive(st->keys, "unsubscribe");
	st->track_keys = bounce_keyring_derive(st->keys, "track");
	st->bdomains = xcalloc(1, sizeof(*st->bdomains));
	st->bdomains[0].domain = st->domain;
	st->bdomains[0].keys = st->keys;
	st->nbdomains = 1;
	if (st->tenants == NULL)
		return;
	owner = xcalloc(st->tenants->n + 1, sizeof(*owner));
	for (size_t i = 0; i < st->tenants->n; i++) {
		const struct bounce_tenant *t = &st->tenants->t[i];
		const struct bounce_bdomain *have;
		struct bounce_keyring *ring;

		if (t->bounce_domain == NULL)
			continue;
		if ((have = bounce_state_bdomain(st, t->bounce_domain)) != NULL) {
			const struct bounce_tenant *o = owner[have - st->bdomains];

			/* one domain, one ring: tenants that share it share secrets */
			if (!bs_same_secrets(t, o))
				errlist_add_at(el, conf->tenant_table, t->line, "tenant %s: "
					       "bounce domain %s %s", t->name, t->bounce_domain,
					       o == NULL ? "is bounce_domain: its keys come "
					       "from bounce_secret_files, not secret="
					       : "is shared with a tenant whose secret= "
					       "options differ");
			continue;
		}
		if ((ring = bs_tenant_ring(st, t, el)) == NULL)
			continue;
		st->bdomains = xrealloc(st->bdomains, (st->nbdomains + 1)
					* sizeof(*st->bdomains));
		st->bdomains[st->nbdomains].domain = t->bounce_domain;
		st->bdomains[st->nbdomains].keys = ring;
		owner[st->nbdomains] = t;
		st->nbdomains++;
	}
	free(owner);
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
	if (bounce_fbid_parse((const char *const *)conf->feedback_id.items,
			      conf->feedback_id.count, &st->fbid, errbuf,
			      sizeof(errbuf)) < 0)
		errlist_add_at(el, config_path, 0, "bounce_feedback_id: %s", errbuf);
	bs_tenants_load(st, config_path, el);
	bs_fbl_load(st, &conf->fbl_addresses, config_path, el);
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
		size_t own = 0, sub = 0;

		for (size_t i = 0; st->tenants != NULL && i < st->tenants->n; i++) {
			own += st->tenants->t[i].nsecrets > 0;
			sub += st->tenants->t[i].subdomains;
		}
		fprintf(fp, "%zu tenant%s, %zu bounce domain%s, one-click unsubscribe %s, "
			"%zu with its own secrets, %zu .DOMAIN\n",
			st->tenants ? st->tenants->n : 0, st->tenants && st->tenants->n == 1
			? "" : "s", st->nbdomains, st->nbdomains == 1 ? "" : "s",
			st->conf->unsubscribe_url ? st->conf->unsubscribe_url : "off", own, sub);
	}
	if (st->conf->track_base_url != NULL) {
		size_t nt = 0;

		for (size_t i = 0; st->tenants != NULL && i < st->tenants->n; i++)
			nt += st->tenants->t[i].track;
		fprintf(fp, "open and click tracking %s for %zu tenant%s\n",
			st->conf->track_base_url, nt, nt == 1 ? "" : "s");
	}
	{
		/* quotas, overrides and suppressions must survive a Redis restart */
		char	text[256];
		int	rc = redis_persistence(st->pool, text, sizeof(text));

		fprintf(fp, "%sredis persistence: %s\n", rc == 0 ? "WARNING: " : rc < 0 ? "note: " : "",
			text);
	}
}
