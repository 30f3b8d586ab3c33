/*++
 * NAME
 *	events_parse 3
 * SUMMARY
 *	Postfix mail log lines, parsed (see events_parse.h)
 * DESCRIPTION
 *	The formats are Postfix's own (src/global/log_adhoc.c writes the
 *	"to=<R>, relay=, delay=, delays=, dsn=, status=" lines,
 *	src/qmgr/qmgr_active.c "from=<S>, size=, nrcpt=", src/cleanup
 *	"message-id=", src/smtpd/smtpd_check.c "reject: RCPT from").
 *	Postfix quotes nothing in these addresses, so an address ends at
 *	the ">" followed by the next field's ", " (to=, from=), or by " " (a
 *	reject line's from= and to=); a ">" inside the address is kept.
 *	Every copy is bounded by its array; nothing reads past len.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_parse.h"

/* ep_find - first occurrence of pat in [s, s+len), or NULL */
static const char *
ep_find(const char *s, size_t len, const char *pat)
{
	size_t plen = strlen(pat);

	if (plen == 0 || len < plen)
		return NULL;
	for (size_t i = 0; i + plen <= len; i++)
		if (s[i] == pat[0] && memcmp(s + i, pat, plen) == 0)
			return s + i;
	return NULL;
}

/* ep_copy - len bytes into dst, cut, control bytes as '?' */
static void
ep_copy(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t n = len < dstlen - 1 ? len : dstlen - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* ep_starts - does [s, s+len) start with pat */
static int
ep_starts(const char *s, size_t len, const char *pat)
{
	size_t plen = strlen(pat);

	return len >= plen && memcmp(s, pat, plen) == 0;
}

/*
 * ep_is_qid - Postfix queue ids: short ones are upper-case hex
 * (src/global/mail_queue.h), long ones (enable_long_queue_ids) letters and
 * digits with a 'z' between the time and the inode parts; so "warning" or
 * "connect" never pass
 */
static int
ep_is_qid(const char *s, size_t len)
{
	int hex = 1, z = 0;

	if (len < 5 || len > EVENTS_QID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
		      || (c >= 'a' && c <= 'z')))
			return 0;
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			hex = 0;
		z += c == 'z';
	}
	return hex || (len >= 12 && z == 1 && s[0] != 'z' && s[len - 1] != 'z');
}

/*
 * ep_addr - after "KEY=<" at s: the address up to the ">" that is followed
 * by term (or by the end when term is NULL); *end is past the ">"
 */
static int
ep_addr(const char *s, size_t len, const char *term, char *dst, size_t dstlen,
	size_t *end)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '>')
			continue;
		if (term == NULL ? i + 1 == len
		    : ep_starts(s + i + 1, len - i - 1, term)) {
			ep_copy(dst, dstlen, s, i);
			*end = i + 1;
			return 0;
		}
	}
	return -1;
}

/* ep_field - ", KEY=VALUE" between s and s+len: VALUE up to ", " */
static void
ep_field(const char *s, size_t len, const char *key, char *dst, size_t dstlen)
{
	const char *p = ep_find(s, len, key), *v, *e;

	dst[0] = '\0';
	if (p == NULL)
		return;
	v = p + strlen(key);
	e = ep_find(v, len - (size_t)(v - s), ", ");
	ep_copy(dst, dstlen, v, e != NULL ? (size_t)(e - v) : len - (size_t)(v - s));
}

/* ep_num - a decimal number after key in [s, s+len), or -1 */
static long long
ep_num(const char *s, size_t len, const char *key)
{
	const char *p = ep_find(s, len, key);
	long long n = 0;
	size_t i, digits = 0;

	if (p == NULL)
		return -1;
	i = (size_t)(p - s) + strlen(key);
	for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 15; i++, digits++)
		n = n * 10 + (s[i] - '0');
	return digits ? n : -1;
}

/* ep_to - "to=<R>, [orig_to=<O>,] relay=.., dsn=.., status=WORD (TEXT)" */
static int
ep_to(const char *s, size_t len, struct events_line *out, const char **why)
{
	const char *st, *w, *paren;
	size_t end, rest;

	if (ep_addr(s + 4, len - 4, ", ", out->addr, sizeof(out->addr), &end) < 0) {
		*why = "to=<: no closing '>'";
		return -1;
	}
	s += 4 + end;
	len -= 4 + end;
	if ((st = ep_find(s, len, ", status=")) == NULL) {
		*why = "to= line without status=";
		return -1;
	}
	if (ep_starts(s, len, ", orig_to=<")) {
		size_t e2;

		if (ep_addr(s + 11, len - 11, ", ", out->orig_to, sizeof(out->orig_to),
			    &e2) < 0) {
			*why = "orig_to=<: no closing '>'";
			return -1;
		}
	}
	ep_field(s, (size_t)(st - s), ", relay=", out->relay, sizeof(out->relay));
	ep_field(s, (size_t)(st - s), ", delay=", out->delay, sizeof(out->delay));
	ep_field(s, (size_t)(st - s), ", dsn=", out->dsn, sizeof(out->dsn));
	w = st + 9;
	rest = len - (size_t)(w - s);
	for (end = 0; end < rest && w[end] >= 'a' && w[end] <= 'z'; end++)
		;
	if (end == 0) {
		*why = "empty status";
		return -1;
	}
	ep_copy(out->status, sizeof(out->status), w, end);
	if ((paren = ep_find(w + end, rest - end, " (")) != NULL) {
		size_t tl = rest - (size_t)(paren + 2 - w);

		if (tl > 0 && paren[2 + tl - 1] == ')')
			tl--;
		ep_copy(out->text, sizeof(out->text), paren + 2, tl);
	}
	out->kind = EVENTS_L_TO;
	return 0;
}

/* ep_from - "from=<S>, size=N, nrcpt=N (queue active)" or "..., status=expired" */
static int
ep_from(const char *s, size_t len, struct events_line *out, const char **why)
{
	size_t end;

	if (ep_addr(s + 6, len - 6, ", ", out->addr, sizeof(out->addr), &end) < 0) {
		*why = "from=<: no closing '>'";
		return -1;
	}
	s += 6 + end;
	len -= 6 + end;
	if (ep_starts(s, len, ", status=expired")) {
		out->kind = EVENTS_L_EXPIRED;
		ep_copy(out->status, sizeof(out->status), "expired", 7);
		return 0;
	}
	out->size = ep_num(s, len, ", size=");
	out->nrcpt = ep_num(s, len, ", nrcpt=");
	if (out->nrcpt < 0) {
		*why = "from= line without nrcpt=";
		return -1;
	}
	out->kind = EVENTS_L_FROM;
	return 0;
}

/* ep_reject - "[milter-]reject: RCPT from C: REPLY; from=<S> to=<R> ..." */
static int
ep_reject(const char *s, size_t len, struct events_line *out, const char **why)
{
	const char *r = ep_find(s, len, ": "), *semi, *f, *t;
	size_t end;

	if (r == NULL || (r = ep_find(r + 2, len - (size_t)(r + 2 - s), ": ")) == NULL) {
		*why = "reject line without a reply";
		return -1;
	}
	r += 2;
	if ((semi = ep_find(r, len - (size_t)(r - s), "; from=<")) == NULL) {
		*why = "reject line without from=";
		return -1;
	}
	ep_copy(out->text, sizeof(out->text), r, (size_t)(semi - r));
	f = semi + 8;
	if (ep_addr(f, len - (size_t)(f - s), " to=<", out->addr, sizeof(out->addr),
		    &end) < 0) {
		*why = "reject line: from=<: no closing '>'";
		return -1;
	}
	t = f + end + 5;
	if (ep_addr(t, len - (size_t)(t - s), " ", out->rcpt, sizeof(out->rcpt), &end) < 0) {
		*why = "reject line: to=<: no closing '>'";
		return -1;
	}
	out->kind = EVENTS_L_REJECT;
	return 0;
}

/* ep_header - "TIME HOST SERVICE[PID]: " -> time, service; the text after */
static const char *
ep_header(const char *line, size_t len, struct events_line *out)
{
	const char *colon = ep_find(line, len, "]: "), *lb, *sp, *svc;
	size_t n;

	if (colon == NULL)
		return NULL;
	for (lb = colon; lb > line && *lb != '['; lb--)
		;
	if (*lb != '[')
		return NULL;
	for (sp = lb; sp > line && sp[-1] != ' '; sp--)
		;
	for (svc = lb; svc > sp && svc[-1] != '/'; svc--)
		;
	ep_copy(out->service, sizeof(out->service), svc, (size_t)(lb - svc));
	/* TIME is everything before the host: two words back from SERVICE */
	n = sp > line ? (size_t)(sp - line) - 1 : 0;
	while (n > 0 && line[n - 1] != ' ')
		n--;
	if (n > 0)
		n--;
	ep_copy(out->time, sizeof(out->time), line, n);
	return colon + 3;
}

/* events_parse_line - see events_parse.h */
int
events_parse_line(const char *line, size_t len, struct events_line *out,
		  const char **why)
{
	const char *m, *c;
	size_t ml, ql;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->nrcpt = -1;
	out->size = -1;
	*why = NULL;
	if (len > EVENTS_LINE_MAX)
		len = EVENTS_LINE_MAX;
	if ((m = ep_header(line, len, out)) == NULL)
		return 0;
	ml = len - (size_t)(m - line);
	if ((c = ep_find(m, ml, ": ")) == NULL)
		return 0;
	ql = (size_t)(c - m);
	if (ql == 7 && memcmp(m, "NOQUEUE", 7) == 0) {
		out->qid[0] = '\0';
	} else if (ep_is_qid(m, ql)) {
		ep_copy(out->qid, sizeof(out->qid), m, ql);
	} else {
		return 0;		/* "warning: ...", "connect from ..." */
	}
	m = c + 2;
	ml -= ql + 2;
	if (ep_starts(m, ml, "reject: RCPT from ")
	    || ep_starts(m, ml, "milter-reject: RCPT from "))
		rc = ep_reject(m, ml, out, why);
	else if (out->qid[0] == '\0')
		return 0;
	else if (ep_starts(m, ml, "to=<"))
		rc = ep_to(m, ml, out, why);
	else if (ep_starts(m, ml, "from=<"))
		rc = ep_from(m, ml, out, why);
	else if (ep_starts(m, ml, "message-id=")) {
		m += 11;
		ml -= 11;
		if (ml >= 2 && m[0] == '<' && m[ml - 1] == '>') {
			m++;
			ml -= 2;
		}
		ep_copy(out->msgid, sizeof(out->msgid), m, ml);
		out->kind = EVENTS_L_MSGID;
	} else if (ml == 7 && memcmp(m, "removed", 7) == 0)
		out->kind = EVENTS_L_REMOVED;
	if (rc < 0) {
		struct events_line keep = *out;

		memset(out, 0, sizeof(*out));
		memcpy(out->qid, keep.qid, sizeof(out->qid));
		out->kind = EVENTS_L_OTHER;
		out->nrcpt = -1;
		out->size = -1;
	}
	return rc;
}

/* ep_b32 - value of a base32 character (RFC 4648 section 6), any case */
static int
ep_b32(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* events_tag_id - the message id in "b-TAG@DOMAIN"; see events_parse.h */
int
events_tag_id(const char *addr, size_t len, char idhex[EVENTS_ID_HEX])
{
	unsigned char raw[30];
	unsigned long long acc = 0;
	int bits = 0;
	size_t o = 0;

	if (len < 2 + 48 + 2 || (addr[0] != 'b' && addr[0] != 'B') || addr[1] != '-'
	    || addr[50] != '@')
		return -1;
	for (size_t i = 2; i < 50; i++) {
		int v = ep_b32((unsigned char)addr[i]);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			raw[o++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (o != sizeof(raw) || raw[0] != 1)	/* BOUNCE_TAG_VERSION */
		return -1;
	for (size_t i = 0; i < 10; i++)
		snprintf(idhex + 2 * i, 3, "%02x", raw[2 + i]);
	return 0;
}
