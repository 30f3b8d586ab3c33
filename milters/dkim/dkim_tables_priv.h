/*++
 * NAME
 *	dkim_tables_priv 3h
 * SUMMARY
 *	the inside of a loaded struct dkim_tables, shared by its files
 * SYNOPSIS
 *	#include "dkim_tables_priv.h"
 * DESCRIPTION
 *	Private to the files that build and read the tables (dkim_tables.c
 *	lists them); everything else uses dkim_tables.h. One prototype
 *	group per file, each named by its file.
 *--*/
#ifndef POSTMILL_DKIM_TABLES_PRIV_H
#define POSTMILL_DKIM_TABLES_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "errlist.h"
#include "dkim_loginmap.h"
#include "dkim_tables.h"

#define DKIM_TABLES_WHY_MAX	512	/* a load error's reason */

/* One key table entry (dkim_keytable.c). */
struct dkim_keytable_entry {
	struct dkim_tables_key pub;
	char	       *store;		/* one block: name, domain, selector, path */
	bool		bad;		/* syntax or key error (load fails) */
};

/* One key of a signing table pattern (dkim_signtable.c). */
struct dkim_signtable_key {
	const struct dkim_keytable_entry *key;	/* NULL: "%", the key named by the From domain */
	char	       *signer;		/* i= template, or NULL */
	unsigned	line;
};

/* One distinct signing table pattern (dkim_signtable.c). */
struct dkim_signtable_rule {
	char	       *text;		/* pattern as first written */
	char	       *norm;		/* lowercased, normalised; identity */
	char	       *lglob;		/* local-part glob, or NULL (whole) */
	char	       *dglob;		/* domain glob, or NULL (whole) */
	unsigned	line;
	size_t		nkeys;
	struct dkim_signtable_key keys[DKIM_TABLES_MAX_KEYS];
};

struct dkim_tables {
	struct dkim_keytable_entry *keys;
	size_t		nkeys;
	struct dkim_keytable_entry **by_name;	/* sorted by name */
	struct dkim_signtable_rule *rules;
	size_t		nrules;
	bool		have_whole;	/* some rule matches the whole address */
	struct dkim_loginmap *loginmap;
};

/* A walk over the lines of an OpenDKIM table (dkim_tabfile.c). */
struct dkim_tabfile_lines {
	const char     *text;
	size_t		len;
	size_t		pos;
	unsigned	lineno;
	char	       *buf;
	size_t		bufsize;
};

/* dkim_tabtext.c */
void	dkim_tabtext_lower(char *s);
bool	dkim_tabtext_is_ldh(const char *s);
bool	dkim_tabtext_glob(const char *p, const char *s);

/* dkim_tabfile.c */
const char *dkim_tabfile_path(const char *spec, bool *refile,
			      struct errlist *el);
const char *dkim_tabfile_map_path(const char *spec, struct errlist *el);
char   *dkim_tabfile_read(const char *path, size_t *len, struct errlist *el);
char   *dkim_tabfile_next_line(struct dkim_tabfile_lines *it,
			       const char *path, struct errlist *el);
char   *dkim_tabfile_split(char *line);

/* dkim_keyfile.c */
EVP_PKEY *dkim_keyfile_read(const char *path, bool strict, long min_rsa_bits,
			    char *why, size_t whylen);

/* dkim_keytable.c */
void	dkim_keytable_load(struct dkim_tables *t, const char *table,
			   const char *text, size_t len,
			   const struct dkim_tables_options *opt,
			   struct errlist *el);
const struct dkim_keytable_entry *dkim_keytable_find(const struct dkim_tables *t,
						     const char *name);

/* dkim_signtable.c */
void	dkim_signtable_load(struct dkim_tables *t, const char *table,
			    bool refile, const char *text, size_t len,
			    bool have_keys, const char *key_table,
			    struct errlist *el);
bool	dkim_signtable_rule_matches(const struct dkim_signtable_rule *r,
				    const char *local, const char *domain,
				    const char *whole);
void	dkim_signtable_rule_free(struct dkim_signtable_rule *r);

#endif
