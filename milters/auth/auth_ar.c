/*++
 * NAME
 *	auth_ar 3
 * SUMMARY
 *	Authentication-Results (RFC 8601): bounded parser and writer
 * DESCRIPTION
 *	See auth_ar.h for the contract. The parser is a cursor over the
 *	value with one CFWS skipper (comments counted with a depth counter,
 *	never recursed into) and three readers: keyword, value (token or
 *	quoted-string, RFC 2045 section 5.1) and pvalue (a value or
 *	[local-part "@"] domain-name, RFC 8601 section 2.2). Every text is
 *	copied into a fixed field of struct auth_ar, so memory is bounded by
 *	the struct whatever the input.
 *--*/
#include <stdio.h>
#include <string.h>

#include "auth_ar.h"

struct ar_lex {
	const char *s;
	size_t	 len;
	size_t	 pos;
};

/* ar_is_tspecial - RFC 2045 tspecials */
static int
ar_is_tspecial(unsigned char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != '\0';
}

/* ar_is_token - RFC 2045 token character */
static int
ar_is_token(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !ar_is_tspecial(c);
}

/* ar_is_keyword - RFC 8601 Keyword (ldh-str); "_" tolerated */
static int
ar_is_keyword(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* ar_lower - ASCII lowercase in place */
static void
ar_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ar_peek - the next byte, or -1 at the end */
static int
ar_peek(const struct ar_lex *lx)
{
	return lx->pos < lx->len ? (unsigned char)lx->s[lx->pos] : -1;
}

/*
 * ar_cfws - skip white space, folding and comments. A line break must
 * be followed by WSP (folding) unless it ends the value. 0 or -1.
 */
static int
ar_cfws(struct ar_lex *lx, const char **why)
{
	int depth = 0;

	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '\r' || c == '\n') {
			size_t p = lx->pos + (c == '\r');

			if (p >= lx->len || lx->s[p] != '\n') {
				*why = "bare CR";
				return -1;
			}
			p++;
			if (p < lx->len && lx->s[p] != ' ' && lx->s[p] != '\t') {
				*why = "line break without folding";
				return -1;
			}
			lx->pos = p;
			continue;
		}
		if (depth > 0) {
			if (c == '\\' && lx->pos + 1 < lx->len)
				lx->pos++;
			else if (c == '(' && ++depth > AUTH_AR_COMMENT_DEPTH_MAX) {
				*why = "comments nested too deep";
				return -1;
			} else if (c == ')')
				depth--;
			else if (c == 0) {
				*why = "NUL in comment";
				return -1;
			}
			lx->pos++;
			continue;
		}
		if (c == ' ' || c == '\t')
			lx->pos++;
		else if (c == '(') {
			depth = 1;
			lx->pos++;
		} else
			break;
	}
	if (depth > 0) {
		*why = "unterminated comment";
		return -1;
	}
	return 0;
}

/* ar_keyword - read a Keyword into buf; 0 or -1 */
static int
ar_keyword(struct ar_lex *lx, char *buf, size_t size)
{
	size_t n = 0;

	while (lx->pos < lx->len && ar_is_keyword((unsigned char)lx->s[lx->pos])) {
		if (n + 1 >= size)
			return -1;
		buf[n++] = lx->s[lx->pos++];
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* ar_qstring - read a quoted-string (at '"') unquoted into buf at *n */
static int
ar_qstring(struct ar_lex *lx, char *buf, size_t size, size_t *n)
{
	lx->pos++;				/* the opening quote */
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos++];

		if (c == '"') {
			buf[*n] = '\0';
			return 0;
		}
		if (c == '\\') {
			if (lx->pos >= lx->len)
				return -1;
			c = (unsigned char)lx->s[lx->pos++];
		} else if (c == '\r' || c == '\n') {
			continue;		/* folding inside quotes */
		}
		if (c == 0 || *n + 1 >= size)
			return -1;
		buf[(*n)++] = (char)c;
	}
	return -1;
}

/* ar_value - token or quoted-string; 0 or -1 */
static int
ar_value(struct ar_lex *lx, char *buf, size_t size)
{
	size_t n = 0;

	if (ar_peek(lx) == '"')
		return ar_qstring(lx, buf, size, &n);
	while (lx->pos < lx->len && ar_is_token((unsigned char)lx->s[lx->pos])) {
		if (n + 1 >= size)
			return -1;
		buf[n++] = lx->s[lx->pos++];
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/*
 * ar_pvalue - value / [[local-part] "@"] domain-name. A quoted local
 * part may be followed by "@domain"; otherwise the run of printable
 * bytes up to CFWS or ";" (base64 header.b values hold "/" "+" "=").
 */
static int
ar_pvalue(struct ar_lex *lx, char *buf, size_t size)
{
	size_t n = 0;

	if (ar_peek(lx) == '"') {
		if (ar_qstring(lx, buf, size, &n) < 0)
			return -1;
		if (ar_peek(lx) != '@')
			return 0;
	}
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == ';'
		    || c == '"' || c == '\\')
			break;
		if (n + 1 >= size)
			return -1;
		buf[n++] = (char)c;
		lx->pos++;
	}
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* ar_digits - a bounded decimal number; 0 or -1 */
static int
ar_digits(struct ar_lex *lx, int *out)
{
	int v = 0, n = 0;

	while (lx->pos < lx->len && lx->s[lx->pos] >= '0' && lx->s[lx->pos] <= '9') {
		if (++n > 6)
			return -1;
		v = v * 10 + (lx->s[lx->pos++] - '0');
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

#define AR_FAIL(w) do { *why = (w); return AUTH_AR_SYNTAX; } while (0)
#define AR_CFWS() do { if (ar_cfws(&lx, why) < 0) return AUTH_AR_SYNTAX; } while (0)

/* ar_resinfo - one resinfo after its ";" and CFWS, into r */
static enum auth_ar_status
ar_resinfo(struct ar_lex *lx_, struct auth_ar_result *r, const char **why)
{
	struct ar_lex lx = *lx_;
	char kw[AUTH_AR_WORD_MAX];
	enum auth_ar_status st = AUTH_AR_SYNTAX;

	memset(r, 0, sizeof(*r));
	if (ar_keyword(&lx, r->method, sizeof(r->method)) < 0)
		AR_FAIL("bad method");
	ar_lower(r->method);
	AR_CFWS();
	if (ar_peek(&lx) == '/') {
		lx.pos++;
		AR_CFWS();
		if (ar_digits(&lx, &r->version) < 0)
			AR_FAIL("bad method version");
		AR_CFWS();
	}
	if (ar_peek(&lx) != '=')
		AR_FAIL("missing = after method");
	lx.pos++;
	AR_CFWS();
	if (ar_keyword(&lx, r->result, sizeof(r->result)) < 0)
		AR_FAIL("bad result");
	ar_lower(r->result);
	AR_CFWS();
	while (lx.pos < lx.len && ar_peek(&lx) != ';') {
		struct auth_ar_prop p;

		if (ar_keyword(&lx, kw, sizeof(kw)) < 0)
			AR_FAIL("bad property type");
		AR_CFWS();
		if (ar_peek(&lx) == '=' && strcasecmp(kw, "reason") == 0) {
			lx.pos++;
			AR_CFWS();
			if (ar_value(&lx, r->reason, sizeof(r->reason)) < 0)
				AR_FAIL("bad reason");
			AR_CFWS();
			continue;
		}
		if (ar_peek(&lx) != '.')
			AR_FAIL("missing . in property");
		lx.pos++;
		AR_CFWS();
		memcpy(p.ptype, kw, sizeof(p.ptype));
		ar_lower(p.ptype);
		if (ar_keyword(&lx, p.property, sizeof(p.property)) < 0)
			AR_FAIL("bad property");
		ar_lower(p.property);
		AR_CFWS();
		if (ar_peek(&lx) != '=')
			AR_FAIL("missing = in property");
		lx.pos++;
		AR_CFWS();
		if (ar_pvalue(&lx, p.value, sizeof(p.value)) < 0)
			AR_FAIL("bad property value");
		AR_CFWS();
		/* properties beyond the cap are read and dropped */
		if (r->nprops < AUTH_AR_PROPS_MAX)
			r->props[r->nprops++] = p;
	}
	st = AUTH_AR_OK;
	*lx_ = lx;
	return st;
}

/* auth_ar_parse - see auth_ar.h */
enum auth_ar_status
auth_ar_parse(const char *value, size_t len, size_t max_results,
	      struct auth_ar *out, const char **why)
{
	struct ar_lex lx = {value, len, 0};
	const char *dummy;
	enum auth_ar_status st;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	out->have_id = false;
	out->authserv_id[0] = '\0';
	out->version = 0;
	out->none = false;
	out->nresults = 0;
	if (max_results == 0 || max_results > AUTH_AR_RESULTS_MAX)
		max_results = AUTH_AR_RESULTS_MAX;
	if (ar_cfws(&lx, why) < 0)
		return AUTH_AR_NO_ID;
	if (ar_value(&lx, out->authserv_id, sizeof(out->authserv_id)) < 0) {
		out->authserv_id[0] = '\0';
		*why = "bad authserv-id";
		return AUTH_AR_NO_ID;
	}
	out->have_id = true;
	AR_CFWS();
	if (ar_peek(&lx) >= '0' && ar_peek(&lx) <= '9') {
		if (ar_digits(&lx, &out->version) < 0)
			AR_FAIL("bad version");
		AR_CFWS();
	}
	while (lx.pos < lx.len) {
		if (ar_peek(&lx) != ';')
			AR_FAIL("missing ; between results");
		lx.pos++;
		AR_CFWS();
		if (lx.pos >= lx.len)
			break;			/* "id;" : tolerated */
		if (out->none)
			AR_FAIL("result after none");
		if (lx.len - lx.pos >= 4 && strncasecmp(lx.s + lx.pos, "none", 4) == 0
		    && (lx.pos + 4 == lx.len || !ar_is_keyword((unsigned char)lx.s[lx.pos + 4]))) {
			struct ar_lex probe = lx;

			probe.pos += 4;
			if (ar_cfws(&probe, why) < 0)
				return AUTH_AR_SYNTAX;
			if (probe.pos >= probe.len || probe.s[probe.pos] == ';') {
				if (out->nresults > 0)
					AR_FAIL("none after results");
				out->none = true;
				lx = probe;
				continue;
			}
		}
		if (out->nresults >= max_results) {
			*why = "too many results";
			return AUTH_AR_TOO_MANY;
		}
		st = ar_resinfo(&lx, &out->results[out->nresults], why);
		if (st != AUTH_AR_OK)
			return st;
		out->nresults++;
	}
	return AUTH_AR_OK;
}

/* auth_ar_id_is - does this header claim the authserv-id ours */
bool
auth_ar_id_is(const struct auth_ar *ar, const char *ours)
{
	return ar->have_id && ours != NULL && strcasecmp(ar->authserv_id, ours) == 0;
}

/* auth_ar_result_prop - append a property */
bool
auth_ar_result_prop(struct auth_ar_result *r, const char *ptype,
		    const char *property, const char *value)
{
	struct auth_ar_prop *p;

	if (r->nprops >= AUTH_AR_PROPS_MAX)
		return false;
	p = &r->props[r->nprops];
	if (snprintf(p->ptype, sizeof(p->ptype), "%s", ptype) >= (int)sizeof(p->ptype)
	    || snprintf(p->property, sizeof(p->property), "%s", property)
	    >= (int)sizeof(p->property)
	    || snprintf(p->value, sizeof(p->value), "%s", value) >= (int)sizeof(p->value))
		return false;
	r->nprops++;
	return true;
}

/* auth_ar_result_find - value of ptype.property */
const char *
auth_ar_result_find(const struct auth_ar_result *r, const char *ptype,
		    const char *property)
{
	size_t i;

	for (i = 0; i < r->nprops; i++)
		if (strcasecmp(r->props[i].ptype, ptype) == 0
		    && strcasecmp(r->props[i].property, property) == 0)
			return r->props[i].value;
	return NULL;
}

/*
 * The writer. struct ar_out appends with a sticky overflow flag.
 */
struct ar_out {
	char	*buf;
	size_t	 size;
	size_t	 n;
	int	 over;
};

/* ar_putc - one byte */
static void
ar_putc(struct ar_out *o, char c)
{
	if (o->n + 1 >= o->size) {
		o->over = 1;
		return;
	}
	o->buf[o->n++] = c;
	o->buf[o->n] = '\0';
}

/* ar_puts - a string as is (our own syntax only) */
static void
ar_puts(struct ar_out *o, const char *s)
{
	for (; *s; s++)
		ar_putc(o, *s);
}

/* ar_printable - a byte that may appear in a value we write */
static int
ar_printable(unsigned char c)
{
	return c >= 0x20 && c != 0x7f;
}

/* ar_put_value - token as is, else quoted-string; pv allows local@domain */
static void
ar_put_value(struct ar_out *o, const char *v, int pv)
{
	const unsigned char *p;
	int plain = *v != '\0', ats = 0;

	for (p = (const unsigned char *)v; *p; p++) {
		if (pv && *p == '@' && ats++ == 0)
			continue;
		if (!ar_is_token(*p))
			plain = 0;
	}
	if (plain) {
		ar_puts(o, v);
		return;
	}
	ar_putc(o, '"');
	for (p = (const unsigned char *)v; *p; p++) {
		if (!ar_printable(*p))
			continue;
		if (*p == '"' || *p == '\\')
			ar_putc(o, '\\');
		ar_putc(o, (char)*p);
	}
	ar_putc(o, '"');
}

/* ar_put_word - a keyword we were given; anything else dropped */
static void
ar_put_word(struct ar_out *o, const char *w)
{
	for (; *w; w++)
		if (ar_is_keyword((unsigned char)*w))
			ar_putc(o, *w);
}

/* ar_put_comment - " (text)" with ( ) \ escaped */
static void
ar_put_comment(struct ar_out *o, const char *c)
{
	ar_puts(o, " (");
	for (; *c; c++) {
		if (!ar_printable((unsigned char)*c))
			continue;
		if (*c == '(' || *c == ')' || *c == '\\')
			ar_putc(o, '\\');
		ar_putc(o, *c);
	}
	ar_putc(o, ')');
}

/* auth_ar_write - see auth_ar.h */
int
auth_ar_write(char *buf, size_t size, const char *authserv_id,
	      const struct auth_ar_result *results, size_t n)
{
	struct ar_out o = {buf, size, 0, 0};
	size_t i, j, keep;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	ar_put_value(&o, authserv_id, 0);
	if (o.over)
		return -1;
	if (n == 0) {
		ar_puts(&o, "; none");
		return o.over ? -1 : 0;
	}
	for (i = 0; i < n; i++) {
		const struct auth_ar_result *r = &results[i];

		keep = o.n;
		ar_puts(&o, ";\n\t");
		ar_put_word(&o, r->method);
		if (r->version > 0) {
			char v[16];

			snprintf(v, sizeof(v), "/%d", r->version);
			ar_puts(&o, v);
		}
		ar_putc(&o, '=');
		ar_put_word(&o, r->result);
		if (r->comment[0] != '\0')
			ar_put_comment(&o, r->comment);
		if (r->reason[0] != '\0') {
			ar_puts(&o, " reason=");
			ar_put_value(&o, r->reason, 0);
		}
		for (j = 0; j < r->nprops && j < AUTH_AR_PROPS_MAX; j++) {
			ar_putc(&o, ' ');
			ar_put_word(&o, r->props[j].ptype);
			ar_putc(&o, '.');
			ar_put_word(&o, r->props[j].property);
			ar_putc(&o, '=');
			ar_put_value(&o, r->props[j].value, 1);
		}
		if (o.over) {
			buf[keep] = '\0';
			return -1;
		}
	}
	return 0;
}

/* auth_ar_status_str - name a status */
const char *
auth_ar_status_str(enum auth_ar_status status)
{
	switch (status) {
	case AUTH_AR_OK: return "ok";
	case AUTH_AR_TOO_MANY: return "too_many";
	case AUTH_AR_SYNTAX: return "syntax";
	case AUTH_AR_NO_ID: return "no_id";
	}
	return "unknown";
}
