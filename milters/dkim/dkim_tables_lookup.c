/*++
 * NAME
 *	dkim_tables_lookup 3
 * SUMMARY
 *	which keys sign mail from this From address
 * DESCRIPTION
 *	dkim_tables_lookup() (contract in dkim_tables.h) lowercases the
 *	address into bounded buffers, walks the signing table rules in order
 *	and stops at the first match (a linear scan: tables have hundreds of
 *	lines, and a glob match costs less than the header parsing around
 *	it), then copies at most DKIM_TABLES_MAX_KEYS signatures out,
 *	resolving "%" key names and domains and the i= template of each.
 *	No allocation, no locks.
 * THREAD SAFETY
 *	Reads the immutable tables; writes only the caller's match.
 *--*/

/* System library. */

#include <stdio.h>
#include <string.h>

/* Application-specific. */

#include "dkim_tables_priv.h"

/* tb_copy_lower - bounded lowercase copy; false if src is too long */
static bool
tb_copy_lower(char *dst, size_t dstlen, const char *src)
{
	size_t	n = strlen(src);

	if (n >= dstlen)
		return false;
	memcpy(dst, src, n + 1);
	dkim_tabtext_lower(dst);
	return true;
}

/* tb_expand_signer - i= for one signature; "" when unusable */
static void
tb_expand_signer(struct dkim_tables_sig *sig, const char *tmpl,
		 const char *from_domain)
{
	char   *o = sig->signer;
	char   *end = sig->signer + sizeof(sig->signer) - 1;
	char   *at;
	size_t	dl = strlen(sig->domain);
	size_t	sl;

	sig->signer[0] = '\0';
	if (tmpl == NULL)
		return;
	for (const char *p = tmpl; *p; p++) {
		const char *s = (*p == '%') ? from_domain : p;
		size_t	n = (*p == '%') ? strlen(from_domain) : 1;

		if (n > (size_t) (end - o)) {
			sig->signer[0] = '\0';
			return;
		}
		memcpy(o, s, n);
		o += n;
	}
	*o = '\0';

	/*
	 * RFC 6376 section 3.5: the i= domain is d= or a subdomain of it.
	 * OpenDKIM leaves i= out otherwise, and so do we. The '%' may have
	 * brought in a From domain, so check it is a DNS name as well.
	 */
	if ((at = strrchr(sig->signer, '@')) == NULL) {
		sig->signer[0] = '\0';
		return;
	}
	dkim_tabtext_lower(at);
	sl = strlen(at + 1);
	if (!dkim_tabtext_is_ldh(at + 1) || sl < dl
	    || strcmp(at + 1 + sl - dl, sig->domain) != 0
	    || (sl > dl && at[1 + sl - dl - 1] != '.'))
		sig->signer[0] = '\0';
}

/* dkim_tables_lookup - the keys for a From address */
enum dkim_tables_status
dkim_tables_lookup(const struct dkim_tables *t, const char *local,
		   const char *domain, struct dkim_tables_match *m)
{
	char	lbuf[DKIM_TABLES_LOCAL_MAX + 1];
	char	whole[DKIM_TABLES_LOCAL_MAX + 1 + DKIM_TABLES_DOMAIN_MAX + 1];
	const struct dkim_signtable_rule *r = NULL;
	bool	domain_ok;

	m->line = 0;
	m->pattern = NULL;
	m->count = 0;
	m->missing = 0;
	m->from_domain[0] = '\0';
	if (t == NULL || domain == NULL || *domain == '\0')
		return DKIM_TABLES_BADADDR;
	if (!tb_copy_lower(lbuf, sizeof(lbuf), local ? local : "")
	    || !tb_copy_lower(m->from_domain, sizeof(m->from_domain), domain))
		return DKIM_TABLES_BADADDR;
	if (t->have_whole)
		snprintf(whole, sizeof(whole), "%s@%s", lbuf, m->from_domain);
	for (size_t i = 0; i < t->nrules; i++) {
		if (dkim_signtable_rule_matches(&t->rules[i], lbuf, m->from_domain, whole)) {
			r = &t->rules[i];
			break;
		}
	}
	if (r == NULL)
		return DKIM_TABLES_NOMATCH;
	m->line = r->line;
	m->pattern = r->text;

	domain_ok = dkim_tabtext_is_ldh(m->from_domain);
	for (size_t i = 0; i < r->nkeys; i++) {
		const struct dkim_keytable_entry *k = r->keys[i].key;
		struct dkim_tables_sig *sig;
		bool	pct;

		if (k == NULL)				/* "%" key name */
			k = dkim_keytable_find(t, m->from_domain);
		if (k == NULL) {
			m->missing++;
			continue;
		}
		pct = strcmp(k->pub.domain, "%") == 0;
		if (pct && !domain_ok) {
			/* It would go into d= verbatim: never header text. */
			m->missing++;
			continue;
		}
		sig = &m->sig[m->count++];
		sig->key = &k->pub;
		sig->keyname = k->pub.name;
		sig->domain = pct ? m->from_domain : k->pub.domain;
		sig->selector = k->pub.selector;
		sig->pkey = k->pub.pkey;
		sig->alg = k->pub.alg;
		tb_expand_signer(sig, r->keys[i].signer, m->from_domain);
	}
	return m->missing ? DKIM_TABLES_NOKEY : DKIM_TABLES_MATCH;
}
