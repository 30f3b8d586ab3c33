/*++
 * NAME
 *	dkim_signtable 3
 * SUMMARY
 *	the OpenDKIM SigningTable: patterns, their keys, shadowed lines
 * DESCRIPTION
 *	dkim_signtable_load() parses the signing table text (syntax in
 *	dkim_tables.h). Each pattern is lowercased and normalised to a
 *	local-part glob and a domain glob (or one glob over the whole
 *	address); lines with an identical normalised pattern are merged into
 *	one rule, in order of first appearance, with at most
 *	DKIM_TABLES_MAX_KEYS "name[:signer]" keys. Key names are resolved in
 *	the key table now ("%" is resolved at lookup). In a file: table a
 *	line that an earlier pattern shadows entirely is refused, because
 *	OpenDKIM would search that table by specificity and we search in
 *	line order.
 *
 *	dkim_signtable_rule_matches() tells whether a rule takes an address;
 *	dkim_signtable_rule_free() releases one rule's strings.
 * MEMORY
 *	Rules belong to the tables; dkim_tables_free() releases them.
 * THREAD SAFETY
 *	Loading is for start-up; matching only reads.
 *--*/

/* System library. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_tables_priv.h"

/* tb_normalize_pattern - fill lglob/dglob/norm; false and why if invalid */
static bool
tb_normalize_pattern(const char *text, struct dkim_signtable_rule *r, const char **why)
{
	char   *p = xstrdup(text);
	char   *at = strchr(p, '@');

	dkim_tabtext_lower(p);
	for (const char *q = p; *q; q++) {
		if ((unsigned char) *q < 0x20 || *q == 0x7f) {
			*why = "control character in pattern";
			free(p);
			return false;
		}
	}
	if (at == NULL && strchr(p, '*') != NULL) {
		r->norm = p;			/* a glob over the whole address */
		return true;
	}
	if (at == NULL) {
		/* Bare domain; a leading dot is OpenDKIM's "any subdomain". */
		if (strcmp(p, ".") == 0) {
			*why = "empty domain";
			free(p);
			return false;
		}
		r->lglob = xstrdup("*");
		r->dglob = (p[0] == '.') ? xasprintf("*%s", p) : xstrdup(p);
	} else {
		*at = '\0';
		if (strchr(at + 1, '@') != NULL) {
			*why = "more than one @";
			free(p);
			return false;
		}
		if (p[0] == '\0') {
			*why = "empty local part; write *@domain";
			free(p);
			return false;
		}
		if (at[1] == '\0') {
			*why = "empty domain; write user@* for any domain";
			free(p);
			return false;
		}
		r->lglob = xstrdup(p);
		r->dglob = (at[1] == '.') ? xasprintf("*%s", at + 1) :
		    xstrdup(at + 1);
	}
	free(p);
	r->norm = xasprintf("%s@%s", r->lglob, r->dglob);
	return true;
}

/* tb_rule_covers - does every address that b matches also match a */
static bool
tb_rule_covers(const struct dkim_signtable_rule *a, const struct dkim_signtable_rule *b)
{
	/*
	 * For '*'-only globs, b's language is inside a's exactly when a
	 * matches b's own text with b's '*' taken as a character that only a
	 * '*' in a can match; dkim_tabtext_glob() treats a '*' in the text that way.
	 */
	if (a->lglob == NULL)
		return dkim_tabtext_glob(a->norm, b->norm);
	if (b->lglob == NULL)
		return false;			/* could, but we do not claim it */
	return dkim_tabtext_glob(a->lglob, b->lglob) && dkim_tabtext_glob(a->dglob, b->dglob);
}

/* tb_check_signer - OpenDKIM's i= template: printable, one @, no ';' */
static const char *
tb_check_signer(const char *s)
{
	const char *at = strchr(s, '@');

	if (*s == '\0')
		return "empty signer after ':'";
	for (const char *p = s; *p; p++)
		if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f
		    || *p == ';')
			return "signer may hold printable ASCII except ';' only";
	if (at == NULL || strchr(at + 1, '@') != NULL || at[1] == '\0')
		return "signer must be [user]@domain";
	return NULL;
}

/* tb_rule_add_key - one "name[:signer]" field of a signing table line */
static void
tb_rule_add_key(struct dkim_tables *t, struct dkim_signtable_rule *r, char *field,
		const char *table, unsigned line, bool have_keys,
		const char *key_table, struct errlist *el)
{
	char   *colon = strchr(field, ':');
	const char *signer = NULL;
	const char *why;
	const struct dkim_keytable_entry *k = NULL;

	if (colon != NULL) {
		*colon = '\0';
		signer = colon + 1;
		if ((why = tb_check_signer(signer)) != NULL) {
			errlist_add_at(el, table, line, "key \"%s\": signer "
				       "\"%s\": %s", field, signer, why);
			return;
		}
	}
	if (*field == '\0') {
		errlist_add_at(el, table, line, "empty key name");
		return;
	}
	if (strcmp(field, "%") != 0 && (k = dkim_keytable_find(t, field)) == NULL) {
		if (have_keys)
			errlist_add_at(el, table, line, "unknown key \"%s\" "
				       "(not in %s)", field, key_table);
		return;
	}
	for (size_t i = 0; i < r->nkeys; i++) {
		if (r->keys[i].key == k) {
			errlist_add_at(el, table, line, "key \"%s\" is already "
				       "listed for pattern \"%s\" on line %u",
				       field, r->text, r->keys[i].line);
			return;
		}
	}
	if (r->nkeys == DKIM_TABLES_MAX_KEYS) {
		errlist_add_at(el, table, line, "key \"%s\": more than %d keys "
			       "for pattern \"%s\"", field,
			       DKIM_TABLES_MAX_KEYS, r->text);
		return;
	}
	r->keys[r->nkeys].key = k;
	r->keys[r->nkeys].signer = signer ? xstrdup(signer) : NULL;
	r->keys[r->nkeys].line = line;
	r->nkeys++;
}

/* dkim_signtable_rule_free - release one rule's strings */
void
dkim_signtable_rule_free(struct dkim_signtable_rule *r)
{
	free(r->text);
	free(r->norm);
	free(r->lglob);
	free(r->dglob);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i].signer);
}

/* dkim_signtable_load - parse the signing table; merge identical patterns */
void
dkim_signtable_load(struct dkim_tables *t, const char *table, bool refile,
		  const char *text, size_t len, bool have_keys,
		  const char *key_table, struct errlist *el)
{
	struct dkim_tabfile_lines it = {text, len, 0, 0, NULL, 0};
	size_t	cap = 0;
	char   *line;

	while ((line = dkim_tabfile_next_line(&it, table, el)) != NULL) {
		char   *rest = dkim_tabfile_split(line);
		struct dkim_signtable_rule cand;
		struct dkim_signtable_rule *r = NULL;
		const char *why = NULL;

		if (*rest == '\0') {
			errlist_add_at(el, table, it.lineno, "pattern \"%s\": "
				       "no key name", line);
			continue;
		}
		memset(&cand, 0, sizeof(cand));
		if (!tb_normalize_pattern(line, &cand, &why)) {
			errlist_add_at(el, table, it.lineno, "pattern \"%s\": "
				       "%s", line, why);
			continue;
		}
		for (size_t i = 0; i < t->nrules; i++) {
			if (strcmp(t->rules[i].norm, cand.norm) == 0) {
				r = &t->rules[i];
				dkim_signtable_rule_free(&cand);
				break;
			}
		}
		if (r == NULL) {
			if (t->nrules == cap) {
				cap = cap ? cap * 2 : 16;
				t->rules = xrealloc(t->rules,
						    cap * sizeof(*t->rules));
			}
			r = &t->rules[t->nrules++];
			*r = cand;
			r->text = xstrdup(line);
			r->line = it.lineno;
			if (r->lglob == NULL)
				t->have_whole = true;
		}
		while (*rest != '\0') {
			char   *field = rest;

			rest = dkim_tabfile_split(rest);
			tb_rule_add_key(t, r, field, table, it.lineno,
					have_keys, key_table, el);
		}
	}
	free(it.buf);

	/*
	 * OpenDKIM searches a file: table most specific key first; we search
	 * in line order. Refuse a table where that changes the result.
	 */
	if (refile)
		return;
	for (size_t j = 1; j < t->nrules; j++) {
		for (size_t i = 0; i < j; i++) {
			if (tb_rule_covers(&t->rules[i], &t->rules[j])) {
				errlist_add_at(el, table, t->rules[j].line,
					       "pattern \"%s\" is never used: "
					       "\"%s\" on line %u matches first "
					       "(OpenDKIM would pick the more "
					       "specific one; move this line "
					       "up, or use refile:)",
					       t->rules[j].text, t->rules[i].text,
					       t->rules[i].line);
				break;
			}
		}
	}
}

/* dkim_signtable_rule_matches - does the rule take this address */
bool
dkim_signtable_rule_matches(const struct dkim_signtable_rule *r, const char *local,
		const char *domain, const char *whole)
{
	if (r->lglob == NULL)
		return dkim_tabtext_glob(r->norm, whole);
	return dkim_tabtext_glob(r->dglob, domain) && dkim_tabtext_glob(r->lglob, local);
}
