/*++
 * NAME
 *	dkim_loginmap 3
 * SUMMARY
 *	who may sign as which From address (Postfix smtpd_sender_login_maps form)
 * DESCRIPTION
 *	See dkim_loginmap.h for the syntax and the lookup order. This file
 *	does no I/O: dkim_tabfile.c reads the file and hands over its text.
 *
 *	The map is an array of entries sorted by key, searched with a binary
 *	search that compares the table key with the pieces of the probe
 *	(local part, "@", domain), lowercasing as it goes: a lookup allocates
 *	nothing and copies nothing.
 * THREAD SAFETY
 *	Immutable after dkim_loginmap_parse().
 *--*/

/* System library. */

#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_loginmap.h"

struct dkim_loginmap_entry {
	char	       *key;		/* lowercased "user@domain" or "@domain" */
	unsigned	line;		/* first physical line of the entry */
	char	      **owners;		/* SASL login names, as written */
	size_t		nowners;
};

struct dkim_loginmap {
	struct dkim_loginmap_entry *entries;	/* sorted by key */
	size_t		count;
	size_t		cap;
	char	       *delimiters;	/* recipient_delimiter set, or NULL */
};

/* A lookup key in three pieces: local part, "@", domain. */
struct dkim_loginmap_probe {
	const char     *piece[3];
	size_t		len[3];
};

#define LM_SEPARATORS	", \t\r"

/* lm_entry_free - release one entry's strings */
static void
lm_entry_free(struct dkim_loginmap_entry *e)
{
	free(e->key);
	for (size_t i = 0; i < e->nowners; i++)
		free(e->owners[i]);
	free(e->owners);
}

/* dkim_loginmap_free - release the map; takes NULL, returns NULL */
struct dkim_loginmap *
dkim_loginmap_free(struct dkim_loginmap *map)
{
	if (map == NULL)
		return NULL;
	for (size_t i = 0; i < map->count; i++)
		lm_entry_free(&map->entries[i]);
	free(map->entries);
	free(map->delimiters);
	free(map);
	return NULL;
}

/* lm_lower - lowercase ASCII letters in place; other bytes unchanged */
static void
lm_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s - 'A' + 'a');
}

/* lm_normalize_key - "user@dom", "@dom" or bare "dom" -> lowercased key */
static char *
lm_normalize_key(const char *word, const char **why)
{
	const char *at = strchr(word, '@');
	char   *key;

	for (const char *p = word; *p; p++) {
		if ((unsigned char) *p < 0x20 || *p == 0x7f) {
			*why = "control character in address";
			return NULL;
		}
	}
	if (at == NULL) {
		if (strchr(word, '.') == NULL) {
			*why = "a bare user name matches only in Postfix's local "
			    "domains, which postmill does not know; "
			    "write user@domain";
			return NULL;
		}
		key = xasprintf("@%s", word);
	} else {
		if (strchr(at + 1, '@') != NULL) {
			*why = "more than one @ in address";
			return NULL;
		}
		if (at[1] == '\0') {
			*why = "empty domain after @";
			return NULL;
		}
		key = xstrdup(word);
	}
	lm_lower(key);
	return key;
}

/* lm_split_owners - split "a, b c" into a vector of names */
static size_t
lm_split_owners(const char *value, char ***owners)
{
	size_t	n = 0;
	const char *p = value;

	*owners = NULL;
	while (*p) {
		size_t	len;

		p += strspn(p, LM_SEPARATORS);
		len = strcspn(p, LM_SEPARATORS);
		if (len == 0)
			break;
		*owners = xrealloc(*owners, (n + 1) * sizeof(**owners));
		(*owners)[n++] = xstrndup(p, len);
		p += len;
	}
	return n;
}

/* lm_add_entry - parse one logical line "key owners..." */
static void
lm_add_entry(struct dkim_loginmap *map, const char *path, unsigned line,
	     const char *text, struct errlist *el)
{
	struct dkim_loginmap_entry e;
	const char *why = NULL;
	size_t	klen = strcspn(text, " \t\r");
	char   *word = xstrndup(text, klen);
	const char *value = text + klen;

	memset(&e, 0, sizeof(e));
	e.line = line;
	if ((e.key = lm_normalize_key(word, &why)) == NULL) {
		errlist_add_at(el, path, line, "\"%s\": %s", word, why);
		free(word);
		return;
	}
	e.nowners = lm_split_owners(value, &e.owners);
	if (e.nowners == 0) {
		errlist_add_at(el, path, line, "\"%s\": no login names after "
			       "the address", word);
		free(word);
		lm_entry_free(&e);
		return;
	}
	free(word);
	if (map->count == map->cap) {
		map->cap = map->cap ? map->cap * 2 : 16;
		map->entries = xrealloc(map->entries,
					map->cap * sizeof(*map->entries));
	}
	map->entries[map->count++] = e;
}

/* lm_entry_cmp - qsort order: key, then line (so duplicates keep file order) */
static int
lm_entry_cmp(const void *a, const void *b)
{
	const struct dkim_loginmap_entry *x = a;
	const struct dkim_loginmap_entry *y = b;
	int	d = strcmp(x->key, y->key);

	if (d != 0)
		return d;
	return (x->line > y->line) - (x->line < y->line);
}

/* lm_is_blank - only spaces and tabs (and a CR) before the end */
static bool
lm_is_blank(const char *s, size_t len, bool *comment)
{
	size_t	i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	*comment = (i < len && s[i] == '#');
	return i == len;
}

/* dkim_loginmap_parse - parse the text of one table; NULL on any error */
struct dkim_loginmap *
dkim_loginmap_parse(const char *path, const char *text, size_t len,
		    const char *delimiters, struct errlist *el)
{
	struct dkim_loginmap *map = xcalloc(1, sizeof(*map));
	size_t	errors_before = el->count;
	char   *logical = NULL;		/* the logical line being built */
	size_t	loglen = 0;
	unsigned logline = 0;
	unsigned lineno = 0;
	size_t	pos = 0;

	if (delimiters != NULL && *delimiters != '\0')
		map->delimiters = xstrdup(delimiters);

	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t	slen = nl ? (size_t) (nl - s) : len - pos;
		bool	comment;

		pos += slen + (nl != NULL);
		lineno++;
		if (memchr(s, '\0', slen) != NULL) {
			errlist_add_at(el, path, lineno, "NUL byte in line");
			continue;
		}
		if (lm_is_blank(s, slen, &comment) || comment)
			continue;
		if (s[0] == ' ' || s[0] == '\t') {
			/* Postfix: leading whitespace continues a logical line. */
			if (logical == NULL) {
				errlist_add_at(el, path, lineno, "line starts "
					       "with whitespace but there is "
					       "no entry to continue");
				continue;
			}
			logical = xrealloc(logical, loglen + 1 + slen + 1);
			logical[loglen++] = ' ';
			memcpy(logical + loglen, s, slen);
			loglen += slen;
			logical[loglen] = '\0';
			continue;
		}
		if (logical != NULL)
			lm_add_entry(map, path, logline, logical, el);
		free(logical);
		logical = xstrndup(s, slen);
		loglen = slen;
		logline = lineno;
	}
	if (logical != NULL)
		lm_add_entry(map, path, logline, logical, el);
	free(logical);

	if (map->count > 1)
		qsort(map->entries, map->count, sizeof(*map->entries),
		      lm_entry_cmp);
	for (size_t i = 1; i < map->count; i++) {
		if (strcmp(map->entries[i].key, map->entries[i - 1].key) == 0)
			errlist_add_at(el, path, map->entries[i].line,
				       "\"%s\" is already listed on line %u",
				       map->entries[i].key,
				       map->entries[i - 1].line);
	}
	if (el->count > errors_before)
		return dkim_loginmap_free(map);
	return map;
}

/* lm_probe_cmp - strcmp(key, lowercase(concatenated probe pieces)) */
static int
lm_probe_cmp(const char *key, const struct dkim_loginmap_probe *pr)
{
	const unsigned char *k = (const unsigned char *) key;

	for (int i = 0; i < 3; i++) {
		for (size_t j = 0; j < pr->len[i]; j++) {
			int	c = (unsigned char) pr->piece[i][j];

			if (c >= 'A' && c <= 'Z')
				c = c - 'A' + 'a';
			if (*k != c)
				return (int) *k - c;	/* also when *k == 0 */
			k++;
		}
	}
	return *k != 0;
}

/* lm_find - binary search for the probe */
static const struct dkim_loginmap_entry *
lm_find(const struct dkim_loginmap *map, const struct dkim_loginmap_probe *pr)
{
	size_t	lo = 0;
	size_t	hi = map->count;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;
		int	d = lm_probe_cmp(map->entries[mid].key, pr);

		if (d == 0)
			return &map->entries[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* lm_find_address - the entry that decides for local@domain, or NULL */
static const struct dkim_loginmap_entry *
lm_find_address(const struct dkim_loginmap *map, const char *local,
		const char *domain)
{
	const struct dkim_loginmap_entry *e;
	struct dkim_loginmap_probe pr;
	size_t	llen = local ? strlen(local) : 0;

	pr.piece[0] = local;
	pr.len[0] = llen;
	pr.piece[1] = "@";
	pr.len[1] = 1;
	pr.piece[2] = domain;
	pr.len[2] = strlen(domain);

	/* 1. user+ext@domain */
	if (llen > 0 && (e = lm_find(map, &pr)) != NULL)
		return e;

	/* 2. user@domain, the extension stripped as Postfix does. */
	if (llen > 0 && map->delimiters != NULL) {
		size_t	cut = strcspn(local, map->delimiters);

		if (cut > 0 && cut < llen) {
			pr.len[0] = cut;
			if ((e = lm_find(map, &pr)) != NULL)
				return e;
		}
	}

	/* 3. @domain */
	pr.len[0] = 0;
	return lm_find(map, &pr);
}

/* dkim_loginmap_check - does login own local@domain */
enum dkim_loginmap_result
dkim_loginmap_check(const struct dkim_loginmap *map, const char *local,
		    const char *domain, const char *login,
		    const char **matched_key)
{
	const struct dkim_loginmap_entry *e;

	if (matched_key != NULL)
		*matched_key = NULL;
	if (map == NULL || domain == NULL || *domain == '\0')
		return DKIM_LOGINMAP_NO_ENTRY;
	if ((e = lm_find_address(map, local, domain)) == NULL)
		return DKIM_LOGINMAP_NO_ENTRY;
	if (matched_key != NULL)
		*matched_key = e->key;
	if (login == NULL || *login == '\0')
		return DKIM_LOGINMAP_NOT_LISTED;
	for (size_t i = 0; i < e->nowners; i++) {
		/* Exact on purpose; see dkim_loginmap.h. */
		if (strcmp(e->owners[i], login) == 0)
			return DKIM_LOGINMAP_ALLOWED;
	}
	return DKIM_LOGINMAP_NOT_LISTED;
}

/* dkim_loginmap_allows - check() == DKIM_LOGINMAP_ALLOWED */
bool
dkim_loginmap_allows(const struct dkim_loginmap *map, const char *local,
		     const char *domain, const char *login)
{
	return dkim_loginmap_check(map, local, domain, login, NULL)
	    == DKIM_LOGINMAP_ALLOWED;
}

/* dkim_loginmap_count - number of keys */
size_t
dkim_loginmap_count(const struct dkim_loginmap *map)
{
	return map ? map->count : 0;
}

/* dkim_loginmap_result_name - for log lines */
const char *
dkim_loginmap_result_name(enum dkim_loginmap_result r)
{
	switch (r) {
	case DKIM_LOGINMAP_NO_ENTRY:
		return "no_entry";
	case DKIM_LOGINMAP_NOT_LISTED:
		return "not_listed";
	case DKIM_LOGINMAP_ALLOWED:
		return "allowed";
	}
	return "unknown";
}
