/*++
 * NAME
 *	dkim_rotate 3
 * SUMMARY
 *	DKIM key rotation: state file parser and writer, table text edits
 * DESCRIPTION
 *	See dkim_rotate.h for the state file format and the edits. The
 *	state file is read by a root-run tool from a directory an attacker
 *	should not control, but it is treated as untrusted anyway: every
 *	length is bounded, no field is trusted to be NUL-free, and nothing
 *	is kept that the grammar does not allow. Pure functions: no I/O,
 *	no clock, no globals; the edits leave every byte they do not change
 *	as it was, so comments and unrelated lines survive byte for byte.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_rotate.h"
#include "name_code.h"
#include "xalloc.h"

#define RT_SPACE	" \t\r\v\f"	/* dkim_tabfile.c's TB_SPACE */

/* a growing output buffer */
struct rt_buf {
	char	       *data;
	size_t		len;
	size_t		cap;
};

/* rt_put - append n bytes */
static void
rt_put(struct rt_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* rt_puts - append a string */
static void
rt_puts(struct rt_buf *b, const char *s)
{
	rt_put(b, s, strlen(s));
}

/* rt_done - the NUL-terminated result (never NULL) */
static char *
rt_done(struct rt_buf *b, size_t *outlen)
{
	if (b->data == NULL)
		rt_put(b, "", 0);
	*outlen = b->len;
	return b->data;
}

/* rt_is_space - a field separator of the tables */
static bool
rt_is_space(char c)
{
	return c != '\0' && strchr(RT_SPACE, c) != NULL;
}

 /*
  * Names, times.
  */

/* dkim_rotate_name_ok - a key name the key table accepts, writable here */
int
dkim_rotate_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 255 || (len == 1 && s[0] == '%'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ':' || s[i] == '#')
			return 0;
	return 1;
}

/* dkim_rotate_ldh_ok - dot-separated labels of letters, digits, '-', '_' */
int
dkim_rotate_ldh_ok(const char *s, size_t len)
{
	size_t	label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char	c = s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			   || (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

/* rt_days_from_civil - days since 1970-01-01 (proleptic Gregorian) */
static long long
rt_days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* dkim_rotate_time_format - Unix seconds as YYYY-MM-DDTHH:MM:SSZ */
void
dkim_rotate_time_format(long long t, char *buf, size_t len)
{
	long long z, era, secs;
	unsigned doe, yoe, doy, mp, d, m;
	long long y;

	if (t < 0)
		t = 0;
	secs = t % 86400;
	z = t / 86400 + 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d,
		 secs / 3600, secs / 60 % 60, secs % 60);
}

/* rt_digits - n decimal digits at s; -1 if not */
static long long
rt_digits(const char *s, size_t n)
{
	long long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* dkim_rotate_time_parse - YYYY-MM-DDTHH:MM:SSZ to Unix seconds; 0 or -1 */
int
dkim_rotate_time_parse(const char *s, size_t len, long long *t)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long long y, mo, d, h, mi, se;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T'
	    || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	y = rt_digits(s, 4);
	mo = rt_digits(s + 5, 2);
	d = rt_digits(s + 8, 2);
	h = rt_digits(s + 11, 2);
	mi = rt_digits(s + 14, 2);
	se = rt_digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]
	    || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*t = rt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400
	    + h * 3600 + mi * 60 + se;
	return 0;
}

 /*
  * State file.
  */

/* the phase word of the state file, both ways */
static const struct name_code rt_phases[] = {
	{"publish", DKIM_ROTATE_PUBLISH},
	{"overlap", DKIM_ROTATE_OVERLAP},
	{"done", DKIM_ROTATE_DONE},
	{NULL, -1},
};

/* dkim_rotate_phase_name - the word in the file */
const char *
dkim_rotate_phase_name(enum dkim_rotate_phase phase)
{
	const char *w = name_code_str(rt_phases, phase);

	return w ? w : "?";
}

/* dkim_rotate_rec_clear - free a record's strings */
void
dkim_rotate_rec_clear(struct dkim_rotate_rec *r)
{
	free(r->domain);
	free(r->old_key);
	free(r->old_selector);
	free(r->new_key);
	free(r->new_selector);
	free(r->new_path);
	free(r->new_spki);
	memset(r, 0, sizeof(*r));
}

/* dkim_rotate_state_clear - free every record */
void
dkim_rotate_state_clear(struct dkim_rotate_state *st)
{
	for (size_t i = 0; i < st->count; i++)
		dkim_rotate_rec_clear(&st->recs[i]);
	free(st->recs);
	st->recs = NULL;
	st->count = 0;
}

/* dkim_rotate_find - the record of a domain (case-insensitive), or NULL */
struct dkim_rotate_rec *
dkim_rotate_find(struct dkim_rotate_state *st, const char *domain)
{
	for (size_t i = 0; i < st->count; i++)
		if (strcasecmp(st->recs[i].domain, domain) == 0)
			return &st->recs[i];
	return NULL;
}

/* rt_dup - copy of a possibly NULL string */
static char *
rt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* dkim_rotate_put - add or replace a domain's record with a copy */
void
dkim_rotate_put(struct dkim_rotate_state *st, const struct dkim_rotate_rec *rec)
{
	struct dkim_rotate_rec *r = dkim_rotate_find(st, rec->domain);
	struct dkim_rotate_rec copy = *rec;

	copy.domain = rt_dup(rec->domain);
	copy.old_key = rt_dup(rec->old_key);
	copy.old_selector = rt_dup(rec->old_selector);
	copy.new_key = rt_dup(rec->new_key);
	copy.new_selector = rt_dup(rec->new_selector);
	copy.new_path = rt_dup(rec->new_path);
	copy.new_spki = rt_dup(rec->new_spki);
	if (r != NULL) {
		dkim_rotate_rec_clear(r);
	} else {
		st->recs = xrealloc(st->recs, (st->count + 1) * sizeof(*st->recs));
		r = &st->recs[st->count++];
	}
	*r = copy;
}

/* rt_value_ok - printable ASCII, no blank, no '#' */
static bool
rt_value_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '#')
			return false;
	return true;
}

/* rt_spki_ok - "sha256:" and 64 lower-case hex digits */
static bool
rt_spki_ok(const char *s, size_t len)
{
	size_t	p = sizeof(DKIM_ROTATE_SPKI_PREFIX) - 1;

	if (len != p + 64 || memcmp(s, DKIM_ROTATE_SPKI_PREFIX, p) != 0)
		return false;
	for (size_t i = p; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* rt_path_ok - a key file path the key table accepts */
static bool
rt_path_ok(const char *s, size_t len)
{
	return rt_value_ok(s, len) && len < 4096
	    && (s[0] == '/' || (len > 2 && memcmp(s, "./", 2) == 0)
		|| (len > 3 && memcmp(s, "../", 3) == 0));
}

/* rt_field - one FIELD=VALUE into the record; static reason on error */
static const char *
rt_field(struct dkim_rotate_rec *r, const char *f, size_t len, unsigned *seen)
{
	static const struct {
		const char *name;
		int	kind;		/* 0 name, 1 selector, 2 path, 3 spki, 4 time */
		size_t	off;
	} fields[] = {
		{"old", 0, offsetof(struct dkim_rotate_rec, old_key)},
		{"old-selector", 1, offsetof(struct dkim_rotate_rec, old_selector)},
		{"new", 0, offsetof(struct dkim_rotate_rec, new_key)},
		{"new-selector", 1, offsetof(struct dkim_rotate_rec, new_selector)},
		{"new-path", 2, offsetof(struct dkim_rotate_rec, new_path)},
		{"new-spki", 3, offsetof(struct dkim_rotate_rec, new_spki)},
		{"started", 4, offsetof(struct dkim_rotate_rec, started)},
		{"dual-since", 4, offsetof(struct dkim_rotate_rec, dual_since)},
		{"done", 4, offsetof(struct dkim_rotate_rec, done)},
	};
	const char *eq = memchr(f, '=', len);
	size_t	nlen, vlen;
	const char *v;

	if (eq == NULL)
		return "field without '='";
	nlen = (size_t)(eq - f);
	v = eq + 1;
	vlen = len - nlen - 1;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		bool	ok;

		if (strlen(fields[i].name) != nlen || memcmp(fields[i].name, f, nlen) != 0)
			continue;
		if (*seen & (1u << i))
			return "field given twice";
		*seen |= 1u << i;
		switch (fields[i].kind) {
		case 0: ok = dkim_rotate_name_ok(v, vlen); break;
		case 1: ok = dkim_rotate_ldh_ok(v, vlen); break;
		case 2: ok = rt_path_ok(v, vlen); break;
		case 3: ok = rt_spki_ok(v, vlen); break;
		default:
			return dkim_rotate_time_parse(v, vlen,
			    (long long *)((char *)r + fields[i].off)) < 0
			    ? "time is not YYYY-MM-DDTHH:MM:SSZ" : NULL;
		}
		if (!ok)
			return fields[i].kind == 0 ? "bad key name"
			    : fields[i].kind == 1 ? "bad selector"
			    : fields[i].kind == 2 ? "bad key path"
			    : "new-spki is not sha256:<64 hex digits>";
		*(char **)((char *)r + fields[i].off) = xstrndup(v, vlen);
		return NULL;
	}
	return "unknown field";
}

#define RT_F_COMMON	0x3fu		/* old .. new-spki */
#define RT_F_STARTED	0x40u
#define RT_F_DUAL	0x80u
#define RT_F_DONE	0x100u

/* rt_line - one record line; static reason on error */
static const char *
rt_line(const char *s, size_t len, struct dkim_rotate_rec *r)
{
	const char *end = s + len;
	const char *tok[2];
	size_t	toklen[2];
	unsigned seen = 0, want;
	const char *why;

	for (int i = 0; i < 2; i++) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		tok[i] = s;
		while (s < end && *s != ' ' && *s != '\t')
			s++;
		toklen[i] = (size_t)(s - tok[i]);
		if (toklen[i] == 0)
			return i == 0 ? "empty line" : "no phase after the domain";
	}
	if (!dkim_rotate_ldh_ok(tok[0], toklen[0]))
		return "bad domain";
	for (size_t i = 0; i < toklen[0]; i++)
		if (tok[0][i] >= 'A' && tok[0][i] <= 'Z')
			return "domain not in lower case";
	r->domain = xstrndup(tok[0], toklen[0]);
	switch (name_code_len(rt_phases, NAME_CODE_FLAG_NONE, tok[1], toklen[1])) {
	case DKIM_ROTATE_PUBLISH:
		r->phase = DKIM_ROTATE_PUBLISH, want = RT_F_COMMON | RT_F_STARTED;
		break;
	case DKIM_ROTATE_OVERLAP:
		r->phase = DKIM_ROTATE_OVERLAP, want = RT_F_COMMON | RT_F_STARTED | RT_F_DUAL;
		break;
	case DKIM_ROTATE_DONE:
		r->phase = DKIM_ROTATE_DONE,
		    want = RT_F_COMMON | RT_F_STARTED | RT_F_DUAL | RT_F_DONE;
		break;
	default:
		return "phase is not publish, overlap or done";
	}
	for (;;) {
		const char *f;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s == end)
			break;
		f = s;
		while (s < end && *s != ' ' && *s != '\t')
			s++;
		if ((why = rt_field(r, f, (size_t)(s - f), &seen)) != NULL)
			return why;
	}
	if ((seen & want) != want)
		return "a field of this phase is missing";
	if (seen & ~want)
		return "a field that does not belong to this phase";
	if (strcmp(r->old_key, r->new_key) == 0)
		return "old and new key have the same name";
	if (strcasecmp(r->old_selector, r->new_selector) == 0)
		return "old and new key have the same selector";
	return NULL;
}

/* dkim_rotate_parse - the state file text; 0, or -1 with *why and *line */
int
dkim_rotate_parse(const char *text, size_t len, struct dkim_rotate_state *out,
		  const char **why, unsigned *line)
{
	size_t	pos = 0;

	memset(out, 0, sizeof(*out));
	*line = 0;
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t	n = nl ? (size_t)(nl - s) : len - pos;
		size_t	lead;
		struct dkim_rotate_rec r;

		pos += n + (nl != NULL);
		++*line;
		if (n > DKIM_ROTATE_LINE_MAX) {
			*why = "line too long";
			goto bad;
		}
		if (memchr(s, '\0', n) != NULL) {
			*why = "NUL byte in line";
			goto bad;
		}
		for (lead = 0; lead < n && (s[lead] == ' ' || s[lead] == '\t'); lead++)
			;
		if (lead == n || s[lead] == '#')
			continue;
		if (out->count == DKIM_ROTATE_MAX_RECS) {
			*why = "too many rotations";
			goto bad;
		}
		memset(&r, 0, sizeof(r));
		if ((*why = rt_line(s, n, &r)) == NULL && dkim_rotate_find(out, r.domain) != NULL)
			*why = "a second line for this domain";
		if (*why != NULL) {
			dkim_rotate_rec_clear(&r);
			goto bad;
		}
		r.line = *line;
		out->recs = xrealloc(out->recs, (out->count + 1) * sizeof(*out->recs));
		out->recs[out->count++] = r;
	}
	*line = 0;
	return 0;
bad:
	dkim_rotate_state_clear(out);
	return -1;
}

/* dkim_rotate_format - the state file text; caller frees */
char *
dkim_rotate_format(const struct dkim_rotate_state *st, size_t *outlen)
{
	struct rt_buf b = {0};

	rt_puts(&b,
		"# postmill DKIM key rotations, written by \"postmillctl dkim rotate\".\n"
		"# One line per domain: DOMAIN PHASE FIELD=VALUE...; PHASE is publish\n"
		"# (waiting for the new TXT record), overlap (signing with both keys)\n"
		"# or done. See postmillctl(8). Do not edit while a rotation runs.\n");
	for (size_t i = 0; i < st->count; i++) {
		const struct dkim_rotate_rec *r = &st->recs[i];
		char	t[32];

		rt_puts(&b, r->domain);
		rt_puts(&b, " ");
		rt_puts(&b, dkim_rotate_phase_name(r->phase));
		rt_puts(&b, " old=");
		rt_puts(&b, r->old_key);
		rt_puts(&b, " old-selector=");
		rt_puts(&b, r->old_selector);
		rt_puts(&b, " new=");
		rt_puts(&b, r->new_key);
		rt_puts(&b, " new-selector=");
		rt_puts(&b, r->new_selector);
		rt_puts(&b, " new-path=");
		rt_puts(&b, r->new_path);
		rt_puts(&b, " new-spki=");
		rt_puts(&b, r->new_spki);
		dkim_rotate_time_format(r->started, t, sizeof(t));
		rt_puts(&b, " started=");
		rt_puts(&b, t);
		if (r->phase != DKIM_ROTATE_PUBLISH) {
			dkim_rotate_time_format(r->dual_since, t, sizeof(t));
			rt_puts(&b, " dual-since=");
			rt_puts(&b, t);
		}
		if (r->phase == DKIM_ROTATE_DONE) {
			dkim_rotate_time_format(r->done, t, sizeof(t));
			rt_puts(&b, " done=");
			rt_puts(&b, t);
		}
		rt_puts(&b, "\n");
	}
	return rt_done(&b, outlen);
}

 /*
  * Table lines.
  */

/* one line of a table, split as dkim_tabfile.c splits it */
#define RT_MAX_FIELDS	64

struct rt_tline {
	const char     *start;		/* the line, without its end of line */
	size_t		len;
	size_t		eol;		/* bytes of LF (0 or 1) after it */
	size_t		nf;		/* fields before any '#' */
	size_t		off[RT_MAX_FIELDS];
	size_t		flen[RT_MAX_FIELDS];
	bool		more;		/* more fields than RT_MAX_FIELDS */
};

/* rt_next_tline - split the line at *pos; false at the end */
static bool
rt_next_tline(const char *text, size_t len, size_t *pos, struct rt_tline *t)
{
	const char *s, *nl;
	size_t	n, i = 0;

	if (*pos >= len)
		return false;
	s = text + *pos;
	nl = memchr(s, '\n', len - *pos);
	n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl != NULL);
	t->start = s;
	t->len = n;
	t->eol = nl != NULL;
	t->nf = 0;
	t->more = false;
	for (;;) {
		size_t	b;

		while (i < n && rt_is_space(s[i]))
			i++;
		if (i == n || s[i] == '#')
			break;
		b = i;
		while (i < n && !rt_is_space(s[i]) && s[i] != '#')
			i++;
		if (t->nf == RT_MAX_FIELDS) {
			t->more = true;
			break;
		}
		t->off[t->nf] = b;
		t->flen[t->nf] = i - b;
		t->nf++;
	}
	return true;
}

/* rt_key_is - does a signing table field "name[:signer]" name KEY */
static bool
rt_key_is(const char *f, size_t flen, const char *key)
{
	const char *colon = memchr(f, ':', flen);
	size_t	n = colon ? (size_t)(colon - f) : flen;

	return n == strlen(key) && memcmp(f, key, n) == 0;
}

/* rt_names - does any key field (index >= 1) of the line name KEY */
static bool
rt_names(const struct rt_tline *t, const char *key)
{
	for (size_t i = 1; i < t->nf; i++)
		if (rt_key_is(t->start + t->off[i], t->flen[i], key))
			return true;
	return false;
}

/* dkim_rotate_signtab_scan - lines naming OLD only, NEW only, both */
void
dkim_rotate_signtab_scan(const char *text, size_t len, const char *old_key,
			 const char *new_key, struct dkim_rotate_scan *out)
{
	struct rt_tline t;
	size_t	pos = 0;
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	while (rt_next_tline(text, len, &pos, &t)) {
		bool	o, n;

		lineno++;
		if (t.nf < 2)
			continue;
		o = rt_names(&t, old_key);
		n = rt_names(&t, new_key);
		if (o && n) {
			out->both++;
		} else if (o) {
			if (out->old_only++ == 0)
				out->first_old_only = lineno;
		} else if (n) {
			if (out->new_only++ == 0)
				out->first_new_only = lineno;
		}
	}
}

/* dkim_rotate_signtab_add - NEW[:signer] after each OLD field */
char *
dkim_rotate_signtab_add(const char *text, size_t len, const char *old_key,
			const char *new_key, size_t *outlen, size_t *changed)
{
	struct rt_buf b = {0};
	struct rt_tline t;
	size_t	pos = 0;

	*changed = 0;
	while (rt_next_tline(text, len, &pos, &t)) {
		size_t	done = 0;

		if (t.nf >= 2 && rt_names(&t, old_key) && !rt_names(&t, new_key)) {
			for (size_t i = 1; i < t.nf; i++) {
				const char *f = t.start + t.off[i];
				const char *colon;

				if (!rt_key_is(f, t.flen[i], old_key))
					continue;
				rt_put(&b, t.start + done, t.off[i] + t.flen[i] - done);
				done = t.off[i] + t.flen[i];
				rt_puts(&b, " ");
				rt_puts(&b, new_key);
				if ((colon = memchr(f, ':', t.flen[i])) != NULL)
					rt_put(&b, colon, (size_t)(f + t.flen[i] - colon));
			}
			++*changed;
		}
		rt_put(&b, t.start + done, t.len + t.eol - done);
	}
	return rt_done(&b, outlen);
}

/* dkim_rotate_signtab_drop - remove OLD fields; NULL if a line would empty */
char *
dkim_rotate_signtab_drop(const char *text, size_t len, const char *old_key,
			 size_t *outlen, size_t *changed, const char **why,
			 unsigned *line)
{
	struct rt_buf b = {0};
	struct rt_tline t;
	size_t	pos = 0;

	*changed = 0;
	*line = 0;
	while (rt_next_tline(text, len, &pos, &t)) {
		size_t	done = 0, left = 0;

		++*line;
		if (t.nf >= 2 && rt_names(&t, old_key)) {
			for (size_t i = 1; i < t.nf; i++)
				if (!rt_key_is(t.start + t.off[i], t.flen[i], old_key))
					left++;
			if (left == 0 && !t.more) {
				*why = "the line would name no key";
				free(b.data);
				return NULL;
			}
			for (size_t i = 1; i < t.nf; i++) {
				size_t	from, to;

				if (!rt_key_is(t.start + t.off[i], t.flen[i], old_key))
					continue;
				/*
				 * Drop the field and the blanks after it, so that the
				 * next field takes its place and its separator; the
				 * last field takes the blanks before it instead.
				 */
				if (i + 1 < t.nf) {
					from = t.off[i];
					to = t.off[i + 1];
				} else {
					from = t.off[i - 1] + t.flen[i - 1];
					to = t.off[i] + t.flen[i];
				}
				if (from < done)
					from = done;
				rt_put(&b, t.start + done, from - done);
				done = to;
			}
			++*changed;
		}
		rt_put(&b, t.start + done, t.len + t.eol - done);
	}
	*line = 0;
	return rt_done(&b, outlen);
}

/* dkim_rotate_keytab_insert - LINE after the line naming AFTER (or at the end) */
char *
dkim_rotate_keytab_insert(const char *text, size_t len, const char *after,
			  const char *line, size_t *outlen)
{
	struct rt_buf b = {0};
	struct rt_tline t;
	size_t	pos = 0;
	bool	inserted = false;

	while (rt_next_tline(text, len, &pos, &t)) {
		rt_put(&b, t.start, t.len + t.eol);
		if (!inserted && t.nf >= 1 && t.flen[0] == strlen(after)
		    && memcmp(t.start + t.off[0], after, t.flen[0]) == 0) {
			bool	crlf = t.len > 0 && t.start[t.len - 1] == '\r';

			if (!t.eol)
				rt_puts(&b, "\n");
			rt_puts(&b, line);
			rt_puts(&b, crlf ? "\r\n" : "\n");
			inserted = true;
		}
	}
	if (!inserted) {
		if (b.len > 0 && b.data[b.len - 1] != '\n')
			rt_puts(&b, "\n");
		rt_puts(&b, line);
		rt_puts(&b, "\n");
	}
	return rt_done(&b, outlen);
}

/* dkim_rotate_keytab_remove - drop every line whose name is NAME */
char *
dkim_rotate_keytab_remove(const char *text, size_t len, const char *name,
			  size_t *outlen, size_t *changed)
{
	struct rt_buf b = {0};
	struct rt_tline t;
	size_t	pos = 0;

	*changed = 0;
	while (rt_next_tline(text, len, &pos, &t)) {
		if (t.nf >= 1 && t.flen[0] == strlen(name)
		    && memcmp(t.start + t.off[0], name, t.flen[0]) == 0) {
			++*changed;
			continue;
		}
		rt_put(&b, t.start, t.len + t.eol);
	}
	return rt_done(&b, outlen);
}
