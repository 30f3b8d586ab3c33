/*++
 * NAME
 *	dkim_tables 3
 * SUMMARY
 *	which mail is signed with which key: OpenDKIM KeyTable and SigningTable
 * DESCRIPTION
 *	See dkim_tables.h for the table syntax and the API. This file loads
 *	the three tables into one snapshot and frees it; the work is done by
 *	one file per concern:
 *	dkim_tabfile.c		table names, reading and lexing the files
 *	dkim_keyfile.c		reading and checking one private key file
 *	dkim_keytable.c		the key table
 *	dkim_signtable.c	the signing table
 *	dkim_loginmap.c		the sender login map
 *	dkim_tables_lookup.c	the lookup of a From address
 *	dkim_tabtext.c		case, LDH names and globs they share
 *
 *	Layout of a loaded snapshot (dkim_tables_priv.h): keys[] in key
 *	table order, each holding its own reference to the EVP_PKEY of its
 *	file; by_name[] the same keys sorted by name for binary search;
 *	rules[] one per distinct signing table pattern, in order of first
 *	appearance, each with the keys of every line that has that pattern.
 * THREAD SAFETY
 *	Nothing is written after dkim_tables_load() returns.
 *--*/

/* System library. */

#include <stdlib.h>
#include <string.h>

/* OpenSSL. */

#include <openssl/evp.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_loginmap.h"
#include "dkim_tables_priv.h"

/* dkim_tables_read_key - one key file, checked as the loader does */
EVP_PKEY *
dkim_tables_read_key(const char *path, bool strict_permissions,
		     long min_rsa_bits, struct errlist *el)
{
	char	why[DKIM_TABLES_WHY_MAX];
	EVP_PKEY *pkey = dkim_keyfile_read(path, strict_permissions, min_rsa_bits,
				     why, sizeof(why));

	if (pkey == NULL)
		errlist_add(el, "%s: %s", path, why);
	return pkey;
}

/* dkim_tables_load - the three tables and every key, or NULL */
struct dkim_tables *
dkim_tables_load(const char *key_table, const char *signing_table,
		 const char *login_map, const struct dkim_tables_options *opt,
		 struct errlist *el)
{
	static const struct dkim_tables_options defaults =
	    DKIM_TABLES_OPTIONS_INIT;
	struct dkim_tables *t = xcalloc(1, sizeof(*t));
	size_t	errors_before = el->count;
	const char *kpath = NULL;
	const char *spath = NULL;
	char   *text;
	size_t	len = 0;
	bool	refile = false;
	bool	have_keys = false;

	if (opt == NULL)
		opt = &defaults;

	if (key_table == NULL || *key_table == '\0')
		errlist_add(el, "no key table configured");
	else if ((kpath = dkim_tabfile_path(key_table, &refile, el)) != NULL
		 && (text = dkim_tabfile_read(kpath, &len, el)) != NULL) {
		dkim_keytable_load(t, kpath, text, len, opt, el);
		have_keys = true;
		free(text);
	}
	if (t->by_name == NULL)
		t->by_name = xcalloc(1, sizeof(*t->by_name));

	if (signing_table == NULL || *signing_table == '\0')
		errlist_add(el, "no signing table configured");
	else if ((spath = dkim_tabfile_path(signing_table, &refile, el)) != NULL
		 && (text = dkim_tabfile_read(spath, &len, el)) != NULL) {
		dkim_signtable_load(t, spath, refile, text, len, have_keys,
				  kpath, el);
		free(text);
	}

	if (login_map != NULL && *login_map != '\0') {
		const char *lpath = dkim_tabfile_map_path(login_map, el);

		if (lpath != NULL && (text = dkim_tabfile_read(lpath, &len, el)) != NULL) {
			t->loginmap = dkim_loginmap_parse(lpath, text, len,
						      opt->recipient_delimiter,
							  el);
			free(text);
		}
	}
	if (el->count > errors_before)
		return dkim_tables_free(t);
	return t;
}

/* dkim_tables_free - release everything; takes NULL, returns NULL */
struct dkim_tables *
dkim_tables_free(struct dkim_tables *t)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->nkeys; i++) {
		EVP_PKEY_free(t->keys[i].pub.pkey);
		free(t->keys[i].store);
	}
	free(t->keys);
	free(t->by_name);
	for (size_t i = 0; i < t->nrules; i++)
		dkim_signtable_rule_free(&t->rules[i]);
	free(t->rules);
	dkim_loginmap_free(t->loginmap);
	free(t);
	return NULL;
}

/* dkim_tables_status_name - for log lines */
const char *
dkim_tables_status_name(enum dkim_tables_status s)
{
	switch (s) {
	case DKIM_TABLES_NOMATCH:
		return "no_match";
	case DKIM_TABLES_MATCH:
		return "match";
	case DKIM_TABLES_NOKEY:
		return "no_key";
	case DKIM_TABLES_BADADDR:
		return "bad_address";
	}
	return "unknown";
}

/* dkim_tables_loginmap - the sender login map, or NULL */
const struct dkim_loginmap *
dkim_tables_loginmap(const struct dkim_tables *t)
{
	return t ? t->loginmap : NULL;
}

/* dkim_tables_key_count - number of key table entries */
size_t
dkim_tables_key_count(const struct dkim_tables *t)
{
	return t ? t->nkeys : 0;
}

/* dkim_tables_key_at - entry i in key table order, or NULL */
const struct dkim_tables_key *
dkim_tables_key_at(const struct dkim_tables *t, size_t i)
{
	return (t && i < t->nkeys) ? &t->keys[i].pub : NULL;
}

/* dkim_tables_key_find - entry by name, or NULL */
const struct dkim_tables_key *
dkim_tables_key_find(const struct dkim_tables *t, const char *name)
{
	const struct dkim_keytable_entry *k = t ? dkim_keytable_find(t, name) : NULL;

	return k ? &k->pub : NULL;
}

/* dkim_tables_pattern_count - distinct signing table patterns */
size_t
dkim_tables_pattern_count(const struct dkim_tables *t)
{
	return t ? t->nrules : 0;
}
