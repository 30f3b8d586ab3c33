/*++
 * NAME
 *	dkim_keytable 3
 * SUMMARY
 *	the OpenDKIM KeyTable: parse its lines, load each key once
 * DESCRIPTION
 *	dkim_keytable_load() parses the key table text (syntax in
 *	dkim_tables.h): one "name domain:selector:keyfile" entry per line,
 *	checked field by field, every problem added to el with file:line.
 *	Each key file is read through dkim_keyfile_read() once, however many
 *	entries name it (a cache keyed by path, kept for the load only), and
 *	every entry holds its own reference to the shared EVP_PKEY. Entries
 *	are stored in file order (t->keys) and, once loaded, sorted by name
 *	(t->by_name) for dkim_keytable_find(), a binary search; a name
 *	defined twice is an error naming both lines.
 * MEMORY
 *	Entries belong to the tables; dkim_tables_free() releases them.
 * THREAD SAFETY
 *	Loading is for start-up; dkim_keytable_find() only reads.
 *--*/

/* System library. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL. */

#include <openssl/evp.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_tables_priv.h"

struct tb_cache {			/* load time only: one per key file */
	char	       *path;
	EVP_PKEY       *pkey;		/* NULL: failed, see why */
	char	       *why;
};

/* tb_has_8bit - any byte outside ASCII */
static bool
tb_has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s >= 0x80)
			return true;
	return false;
}

/* tb_key_name_cmp - qsort: by name, then line */
static int
tb_key_name_cmp(const void *a, const void *b)
{
	const struct dkim_keytable_entry *x = *(struct dkim_keytable_entry *const *) a;
	const struct dkim_keytable_entry *y = *(struct dkim_keytable_entry *const *) b;
	int	d = strcmp(x->pub.name, y->pub.name);

	if (d != 0)
		return d;
	return (x->pub.line > y->pub.line) - (x->pub.line < y->pub.line);
}

/* dkim_keytable_find - binary search by name */
const struct dkim_keytable_entry *
dkim_keytable_find(const struct dkim_tables *t, const char *name)
{
	size_t	lo = 0;
	size_t	hi = t->nkeys;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;
		int	d = strcmp(t->by_name[mid]->pub.name, name);

		if (d == 0)
			return t->by_name[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* tb_subst_percent - copy s with every '%' replaced by dom; caller frees */
static char *
tb_subst_percent(const char *s, const char *dom)
{
	size_t	n = 1;
	char   *out;
	char   *o;

	for (const char *p = s; *p; p++)
		n += (*p == '%') ? strlen(dom) : 1;
	out = o = xmalloc(n);
	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			memcpy(o, dom, strlen(dom));
			o += strlen(dom);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* tb_cached_key - read a key file once; new reference, or NULL and why */
static EVP_PKEY *
tb_cached_key(struct tb_cache **cache, size_t *ncache, const char *path,
	      const struct dkim_tables_options *opt, const char **why)
{
	struct tb_cache *c = NULL;
	char	buf[DKIM_TABLES_WHY_MAX];

	for (size_t i = 0; i < *ncache; i++) {
		if (strcmp((*cache)[i].path, path) == 0) {
			c = &(*cache)[i];
			break;
		}
	}
	if (c == NULL) {
		*cache = xrealloc(*cache, (*ncache + 1) * sizeof(**cache));
		c = &(*cache)[(*ncache)++];
		c->path = xstrdup(path);
		c->why = NULL;
		c->pkey = dkim_keyfile_read(path, opt->strict_permissions,
				      opt->min_rsa_bits, buf, sizeof(buf));
		if (c->pkey == NULL)
			c->why = xstrdup(buf);
	}
	if (c->pkey == NULL) {
		*why = c->why;
		return NULL;
	}
	EVP_PKEY_up_ref(c->pkey);
	return c->pkey;
}

/* tb_add_key - store one entry; strings in one block */
static struct dkim_keytable_entry *
tb_add_key(struct dkim_tables *t, size_t *cap, const char *name,
	   const char *domain, const char *selector, const char *path,
	   unsigned line)
{
	struct dkim_keytable_entry *k;
	size_t	ln = strlen(name) + 1;
	size_t	ld = strlen(domain) + 1;
	size_t	ls = strlen(selector) + 1;
	size_t	lp = strlen(path) + 1;

	if (t->nkeys == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		t->keys = xrealloc(t->keys, *cap * sizeof(*t->keys));
	}
	k = &t->keys[t->nkeys++];
	memset(k, 0, sizeof(*k));
	k->store = xmalloc(ln + ld + ls + lp);
	memcpy(k->store, name, ln);
	memcpy(k->store + ln, domain, ld);
	memcpy(k->store + ln + ld, selector, ls);
	memcpy(k->store + ln + ld + ls, path, lp);
	/* Pointers are set once the array stops moving (tb_fix_pointers). */
	k->pub.line = line;
	return k;
}

/* tb_fix_pointers - point each pub field into its store block */
static void
tb_fix_pointers(struct dkim_tables *t)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		struct dkim_keytable_entry *k = &t->keys[i];
		const char *p = k->store;

		k->pub.name = p;
		p += strlen(p) + 1;
		k->pub.domain = p;
		p += strlen(p) + 1;
		k->pub.selector = p;
		p += strlen(p) + 1;
		k->pub.path = p;
	}
}

/* tb_key_line - check and load one key table line */
static void
tb_key_line(struct dkim_tables *t, size_t *cap, struct tb_cache **cache,
	    size_t *ncache, const char *table, unsigned line, char *text,
	    const struct dkim_tables_options *opt, struct errlist *el)
{
	char   *name = text;
	char   *value = dkim_tabfile_split(text);
	char   *domain;
	char   *selector;
	char   *path;
	char   *c1;
	char   *c2;
	char   *subst = NULL;
	const char *why = NULL;
	struct dkim_keytable_entry *k;
	bool	bad = false;

	if (strchr(name, ':') != NULL || strcmp(name, "%") == 0) {
		errlist_add_at(el, table, line, "key name \"%s\": a key name "
			       "cannot contain ':' or be \"%%\"", name);
		return;
	}
	if ((c1 = strchr(value, ':')) == NULL
	    || (c2 = strchr(c1 + 1, ':')) == NULL) {
		errlist_add_at(el, table, line, "key \"%s\": want "
			       "domain:selector:keyfile, got \"%s\"", name,
			       value);
		k = tb_add_key(t, cap, name, "", "", "", line);
		k->bad = true;
		return;
	}
	*c1 = *c2 = '\0';
	domain = value;
	selector = c1 + 1;
	path = c2 + 1;

	if (strcmp(domain, "%") != 0) {
		dkim_tabtext_lower(domain);
		if (!dkim_tabtext_is_ldh(domain)) {
			errlist_add_at(el, table, line, "key \"%s\": domain "
				       "\"%s\" is not a domain name%s", name,
				       domain, tb_has_8bit(domain) ?
				       "; write an IDN as A-labels (xn--...)" : "");
			bad = true;
		}
	}
	if (!dkim_tabtext_is_ldh(selector)) {
		errlist_add_at(el, table, line, "key \"%s\": selector \"%s\" "
			       "is not a DNS label sequence (letters, digits, "
			       "'-', '.')", name, selector);
		bad = true;
	}
	if (path[0] == '\0') {
		errlist_add_at(el, table, line, "key \"%s\": no key file "
			       "after domain:selector:", name);
		bad = true;
	} else if (path[0] != '/' && strncmp(path, "./", 2) != 0
		   && strncmp(path, "../", 3) != 0) {
		/* Not echoed: it may be key data. */
		errlist_add_at(el, table, line, "key \"%s\": the third field "
			       "does not start with /, ./ or ../; inline key "
			       "data is not supported, put the key in a file "
			       "with mode 0600", name);
		bad = true;
	} else if (strchr(path, '%') != NULL) {
		if (strcmp(domain, "%") == 0) {
			errlist_add_at(el, table, line, "key \"%s\": %s: a "
				       "'%%' in the key file name needs a "
				       "fixed domain; keys are read once at "
				       "start, so list one entry per domain",
				       name, path);
			bad = true;
		} else {
			subst = tb_subst_percent(path, domain);
			path = subst;
		}
	}
	k = tb_add_key(t, cap, name, domain, selector, path, line);
	k->bad = bad;
	if (!bad) {
		k->pub.pkey = tb_cached_key(cache, ncache, path, opt, &why);
		if (k->pub.pkey == NULL) {
			errlist_add_at(el, table, line, "key \"%s\": %s: %s",
				       name, path, why);
			k->bad = true;
		} else {
			bool	rsa = EVP_PKEY_get_base_id(k->pub.pkey) == EVP_PKEY_RSA;

			k->pub.alg = rsa ? DKIM_TABLES_ALG_RSA_SHA256 :
			    DKIM_TABLES_ALG_ED25519_SHA256;
			k->pub.algorithm = rsa ? "rsa-sha256" : "ed25519-sha256";
			k->pub.bits = EVP_PKEY_get_bits(k->pub.pkey);
		}
	}
	free(subst);
}

/* dkim_keytable_load - parse the key table text and read every key */
void
dkim_keytable_load(struct dkim_tables *t, const char *table, const char *text,
		 size_t len, const struct dkim_tables_options *opt,
		 struct errlist *el)
{
	struct dkim_tabfile_lines it = {text, len, 0, 0, NULL, 0};
	struct tb_cache *cache = NULL;
	size_t	ncache = 0;
	size_t	cap = 0;
	char   *line;

	while ((line = dkim_tabfile_next_line(&it, table, el)) != NULL)
		tb_key_line(t, &cap, &cache, &ncache, table, it.lineno, line,
			    opt, el);
	free(it.buf);
	for (size_t i = 0; i < ncache; i++) {
		EVP_PKEY_free(cache[i].pkey);
		free(cache[i].path);
		free(cache[i].why);
	}
	free(cache);

	tb_fix_pointers(t);
	t->by_name = xcalloc(t->nkeys ? t->nkeys : 1, sizeof(*t->by_name));
	for (size_t i = 0; i < t->nkeys; i++)
		t->by_name[i] = &t->keys[i];
	if (t->nkeys > 1)
		qsort(t->by_name, t->nkeys, sizeof(*t->by_name),
		      tb_key_name_cmp);
	for (size_t i = 1; i < t->nkeys; i++) {
		if (strcmp(t->by_name[i]->pub.name,
			   t->by_name[i - 1]->pub.name) == 0)
			errlist_add_at(el, table, t->by_name[i]->pub.line,
				       "key \"%s\" is already defined on line %u",
				       t->by_name[i]->pub.name,
				       t->by_name[i - 1]->pub.line);
	}
}
