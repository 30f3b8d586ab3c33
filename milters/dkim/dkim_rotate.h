/*++
 * NAME
 *	dkim_rotate 3h
 * SUMMARY
 *	DKIM key rotation: the state file and the table edits, without I/O
 * SYNOPSIS
 *	#include "dkim_rotate.h"
 * DESCRIPTION
 *	"postmillctl dkim rotate" keeps one record per domain in a state
 *	file beside the key table (KEYTABLE.rotation) and edits the key and
 *	signing tables as text. Everything here is pure: text in, text out,
 *	no I/O, no clock, no globals; the caller reads, validates (by
 *	loading the edited tables with dkim_tables_load()) and renames.
 * STATE FILE
 *	Lines end with LF. Blank lines and lines whose first non-blank byte
 *	is '#' are comments. Every other line is one rotation:
 *
 *	    DOMAIN PHASE FIELD=VALUE ...
 *
 *	separated by spaces or tabs. DOMAIN is an LDH name in lower case,
 *	at most once per file. PHASE is "publish" (new key made, its TXT
 *	record not yet seen in DNS; the signing table is unchanged),
 *	"overlap" (signing with both keys since dual-since) or "done" (the
 *	old key left both tables at done). Fields, each at most once:
 *	    old=NAME		the key being replaced (key table name)
 *	    old-selector=S	its selector
 *	    new=NAME		the new key's name
 *	    new-selector=S	its selector
 *	    new-path=PATH	its key file (absolute or ./ ../ relative)
 *	    new-spki=sha256:HEX	SHA-256 of its DER SubjectPublicKeyInfo,
 *				64 lower-case hex digits: the table entry
 *				must still hold the key we made
 *	    started=TIME	when the key was made
 *	    dual-since=TIME	when dual signing began (overlap, done)
 *	    done=TIME		when the old key was retired (done)
 *	TIME is UTC as YYYY-MM-DDTHH:MM:SSZ (years 1970..9999). Values are
 *	printable ASCII without spaces or '#'; key names cannot hold ':'
 *	(as in the key table); selectors are LDH labels. Unknown fields,
 *	missing or duplicate fields, and fields that do not belong to the
 *	phase are errors: the file is ours, a surprise in it means someone
 *	else edited it.
 *
 *	dkim_rotate_parse() fills a struct dkim_rotate_state (at most
 *	DKIM_ROTATE_MAX_RECS records, lines of at most DKIM_ROTATE_LINE_MAX
 *	bytes) or returns -1 with *why and *line. dkim_rotate_format()
 *	returns the file text (a comment header, then one line per record).
 * TABLE EDITS
 *	The tables are edited as OpenDKIM reads them (dkim_tables(3)): a
 *	'#' starts a comment anywhere on a line, fields are separated by
 *	space, tab, CR, VT or FF, the first field of a signing table line
 *	is the pattern and each further field is "name[:signer]". Bytes
 *	outside the changed fields, comments included, are kept as they
 *	are.
 *
 *	dkim_rotate_signtab_scan() counts the signing table lines naming
 *	the old key only, the new key only, and both.
 *	dkim_rotate_signtab_add() inserts " NEW[:signer]" right after each
 *	"OLD[:signer]" field of a line that does not already name NEW (the
 *	signer copied, so both signatures carry the same i=).
 *	dkim_rotate_signtab_drop() removes each OLD field and the blanks
 *	after it (before it, when it is the line's last field), so that the
 *	line reads as if OLD had never been there; it fails (NULL, *why, *line) when a line would be left
 *	with no key.
 *	dkim_rotate_keytab_insert() inserts LINE (without end of line)
 *	after the key table line whose name is AFTER (at the end when there
 *	is none), with that line's end of line (LF or CR LF).
 *	dkim_rotate_keytab_remove() removes every line whose name is NAME.
 *	The edit functions return a new NUL-terminated text (*outlen bytes)
 *	the caller frees, and the number of lines changed.
 *--*/
#ifndef POSTMILL_DKIM_ROTATE_H
#define POSTMILL_DKIM_ROTATE_H

#include <stddef.h>

#define DKIM_ROTATE_MAX_RECS	10000
#define DKIM_ROTATE_LINE_MAX	8192
#define DKIM_ROTATE_SPKI_PREFIX	"sha256:"

enum dkim_rotate_phase {
	DKIM_ROTATE_PUBLISH,
	DKIM_ROTATE_OVERLAP,
	DKIM_ROTATE_DONE,
};

struct dkim_rotate_rec {
	char	       *domain;
	enum dkim_rotate_phase phase;
	char	       *old_key;
	char	       *old_selector;
	char	       *new_key;
	char	       *new_selector;
	char	       *new_path;
	char	       *new_spki;	/* "sha256:<64 hex>" */
	long long	started;	/* Unix seconds */
	long long	dual_since;	/* overlap, done; else 0 */
	long long	done;		/* done; else 0 */
	unsigned	line;		/* in the file it came from; 0: new */
};

struct dkim_rotate_state {
	struct dkim_rotate_rec *recs;
	size_t		count;
};

int	dkim_rotate_parse(const char *text, size_t len,
			  struct dkim_rotate_state *out, const char **why,
			  unsigned *line);
char   *dkim_rotate_format(const struct dkim_rotate_state *st, size_t *outlen);
void	dkim_rotate_state_clear(struct dkim_rotate_state *st);
struct dkim_rotate_rec *dkim_rotate_find(struct dkim_rotate_state *st,
					 const char *domain);
/* dkim_rotate_put - add or replace the record of rec->domain (copied) */
void	dkim_rotate_put(struct dkim_rotate_state *st,
			const struct dkim_rotate_rec *rec);
void	dkim_rotate_rec_clear(struct dkim_rotate_rec *rec);
const char *dkim_rotate_phase_name(enum dkim_rotate_phase phase);
/* time <-> "YYYY-MM-DDTHH:MM:SSZ" (buf of at least 21 bytes) */
void	dkim_rotate_time_format(long long t, char *buf, size_t len);
int	dkim_rotate_time_parse(const char *s, size_t len, long long *t);
/* a key name as the key table allows it (non-empty, no ':', '#', blank) */
int	dkim_rotate_name_ok(const char *s, size_t len);
int	dkim_rotate_ldh_ok(const char *s, size_t len);

struct dkim_rotate_scan {
	size_t		old_only;	/* lines naming OLD, not NEW */
	size_t		new_only;	/* lines naming NEW, not OLD */
	size_t		both;
	unsigned	first_old_only;	/* line numbers, 0: none */
	unsigned	first_new_only;
};

void	dkim_rotate_signtab_scan(const char *text, size_t len, const char *old_key,
				 const char *new_key, struct dkim_rotate_scan *out);
char   *dkim_rotate_signtab_add(const char *text, size_t len, const char *old_key,
				const char *new_key, size_t *outlen, size_t *changed);
char   *dkim_rotate_signtab_drop(const char *text, size_t len, const char *old_key,
				 size_t *outlen, size_t *changed,
				 const char **why, unsigned *line);
char   *dkim_rotate_keytab_insert(const char *text, size_t len, const char *after,
				  const char *line, size_t *outlen);
char   *dkim_rotate_keytab_remove(const char *text, size_t len, const char *name,
				  size_t *outlen, size_t *changed);

#endif
