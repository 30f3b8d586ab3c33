/*++
 * NAME
 *	bounce_track_mime 3
 * SUMMARY
 *	walk a message body in chunks; rewrite its HTML parts, copy the rest
 * DESCRIPTION
 *	See bounce_track.h. The walker is a state machine over lines: it
 *	holds one line (BOUNCE_TRACK_LINE_MAX; a longer one goes on in
 *	pieces, and a piece is never a boundary, RFC 2046 section 5.1.1
 *	limits those to 70 characters plus padding) and one part's header
 *	block (BOUNCE_TRACK_HDR_MAX; a longer block makes the part pass
 *	as it is).
 *
 *	The line break before a boundary delimiter belongs to the delimiter
 *	(RFC 2046 section 5.1.1), so in an HTML part every line's break is
 *	held back until the next line shows that the part goes on; at the
 *	delimiter the re-encoded part ends and the held break is written
 *	as it came. A quoted-printable line is decoded whole (trailing
 *	blanks are transport padding, a final '=' a soft break, section
 *	6.7 rules 3 and 5) and the text encoded again: printable ASCII but
 *	'=' as it is, blanks as they are unless at the end of a line, the
 *	rest as =XX, CRLF as a line break, lines of at most 76 characters.
 *	Base64 is decoded by quanta (section 6.8; blanks and line breaks
 *	ignored, padding only at the end) and encoded again in lines of 76.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_mime.h"
#include "bounce_track.h"
#include "xalloc.h"

enum { TM_PASS, TM_HEADERS, TM_HTML };

/* tm_lower - ASCII lower case into out (NUL-terminated, cut) */
static void
tm_lower(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++)
		out[o++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[o] = '\0';
}

/* tm_blank - white space, folding included (a milter gets values folded) */
static int
tm_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* tm_tokenchar - RFC 2045 section 5.1 tspecials, blanks and controls */
static int
tm_tokenchar(char ch)
{
	return (unsigned char)ch > 0x20 && (unsigned char)ch < 0x7f
	    && strchr("()<>@,;:\\\"/[]?=", ch) == NULL;
}

/*
 * bounce_track_ctype - type, subtype (lower case), boundary and charset of
 * a Content-Type value (RFC 2045 section 5.1); 0, or -1 unparsable
 * (comments, RFC 2231 continuations of boundary: type is then "")
 */
int
bounce_track_ctype(const char *v, size_t len, struct bounce_track_ctype *out)
{
	size_t i = 0, s;

	memset(out, 0, sizeof(*out));
	while (i < len && tm_blank(v[i]))
		i++;
	for (s = i; i < len && tm_tokenchar(v[i]); i++)
		;
	if (i == s || i >= len || v[i] != '/')
		return -1;
	tm_lower(out->type, sizeof(out->type), v + s, i - s);
	for (s = ++i; i < len && tm_tokenchar(v[i]); i++)
		;
	if (i == s) {
		out->type[0] = '\0';
		return -1;
	}
	tm_lower(out->subtype, sizeof(out->subtype), v + s, i - s);
	for (;;) {
		char name[32], val[256];
		size_t ns, nl, vl = 0;

		while (i < len && tm_blank(v[i]))
			i++;
		if (i == len)
			return 0;
		if (v[i] != ';')
			goto bad;
		i++;
		while (i < len && tm_blank(v[i]))
			i++;
		if (i == len)
			return 0;	/* a trailing ';' */
		for (ns = i; i < len && tm_tokenchar(v[i]); i++)
			;
		nl = i - ns;
		while (i < len && tm_blank(v[i]))
			i++;
		if (nl == 0 || i == len || v[i] != '=')
			goto bad;
		i++;
		while (i < len && tm_blank(v[i]))
			i++;
		if (i < len && v[i] == '"') {
			for (i++; i < len && v[i] != '"'; i++) {
				if (v[i] == '\\' && i + 1 < len)
					i++;
				if (vl + 1 < sizeof(val))
					val[vl++] = v[i];
				else
					goto bad;
			}
			if (i == len)
				goto bad;
			i++;
		} else {
			for (; i < len && tm_tokenchar(v[i]); i++) {
				if (vl + 1 < sizeof(val))
					val[vl++] = v[i];
				else
					goto bad;
			}
		}
		val[vl] = '\0';
		tm_lower(name, sizeof(name), v + ns, nl < sizeof(name) ? nl : sizeof(name) - 1);
		if (strcmp(name, "boundary") == 0 && out->boundary[0] == '\0') {
			if (vl == 0 || vl > BOUNCE_TRACK_BOUNDARY_MAX)
				goto bad;
			memcpy(out->boundary, val, vl + 1);
		} else if (strncmp(name, "boundary*", 9) == 0) {
			goto bad;	/* RFC 2231: not for us */
		} else if (strcmp(name, "charset") == 0 && out->charset[0] == '\0') {
			tm_lower(out->charset, sizeof(out->charset), val, vl);
		}
	}
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

/*
 * bounce_track_charset_ok - an ASCII-compatible charset whose multi-octet
 * characters never contain the octets HTML markup is made of ('<', '>',
 * quotes, '=', '&', blanks): only then is markup found in the raw
 * octets. UTF-16/32, UTF-7 and ISO-2022 are not.
 */
int
bounce_track_charset_ok(const char *cs)
{
	static const char *const exact[] = {
		"", "us-ascii", "ascii", "utf-8", "utf8", "koi8-r", "koi8-u", "gb2312",
		"gbk", "gb18030", "big5", "shift_jis", "sjis", "euc-jp", "euc-kr",
		"tis-620", NULL,
	};
	static const char *const prefix[] = {"iso-8859-", "windows-125", "cp125", NULL};

	for (size_t i = 0; exact[i] != NULL; i++)
		if (strcmp(cs, exact[i]) == 0)
			return 1;
	for (size_t i = 0; prefix[i] != NULL; i++)
		if (strncmp(cs, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return 0;
}

/* bounce_track_cte - a Content-Transfer-Encoding value (RFC 2045 section 6.1) */
enum bounce_track_cte
bounce_track_cte(const char *v, size_t len)
{
	char t[32];
	size_t s = 0, e = len;

	while (s < e && (v[s] == ' ' || v[s] == '\t'))
		s++;
	while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	if (e == s)
		return BOUNCE_TRACK_CTE_IDENTITY;	/* absent: 7bit */
	if (e - s >= sizeof(t))
		return BOUNCE_TRACK_CTE_OTHER;
	tm_lower(t, sizeof(t), v + s, e - s);
	if (strcmp(t, "7bit") == 0 || strcmp(t, "8bit") == 0 || strcmp(t, "binary") == 0)
		return BOUNCE_TRACK_CTE_IDENTITY;
	if (strcmp(t, "quoted-printable") == 0)
		return BOUNCE_TRACK_CTE_QP;
	if (strcmp(t, "base64") == 0)
		return BOUNCE_TRACK_CTE_B64;
	return BOUNCE_TRACK_CTE_OTHER;
}

/* tm_signed - a subtree nobody may change: signatures, encryption */
static int
tm_signed(const struct bounce_track_ctype *ct)
{
	return (strcmp(ct->type, "multipart") == 0
		&& (strcmp(ct->subtype, "signed") == 0 || strcmp(ct->subtype, "encrypted") == 0))
	    || (strcmp(ct->type, "application") == 0
		&& (strcmp(ct->subtype, "pkcs7-mime") == 0
		    || strcmp(ct->subtype, "x-pkcs7-mime") == 0
		    || strcmp(ct->subtype, "pgp-encrypted") == 0));
}

/* tm_html_ok - an HTML body we can rewrite */
static int
tm_html_ok(const struct bounce_track_ctype *ct, enum bounce_track_cte cte)
{
	return strcmp(ct->type, "text") == 0 && strcmp(ct->subtype, "html") == 0
	    && bounce_track_charset_ok(ct->charset) && cte != BOUNCE_TRACK_CTE_OTHER;
}

/* bounce_track_mime_wanted - is a message of this Content-Type worth walking */
bool
bounce_track_mime_wanted(const char *ctype, size_t ctlen)
{
	struct bounce_track_ctype ct;

	if (bounce_track_ctype(ctype, ctlen, &ct) < 0 || tm_signed(&ct))
		return false;
	return (strcmp(ct.type, "multipart") == 0 && ct.boundary[0] != '\0')
	    || (strcmp(ct.type, "text") == 0 && strcmp(ct.subtype, "html") == 0);
}

/* tm_flush - the encoder's staged output */
static void
tm_flush(struct bounce_track_mime *m)
{
	if (m->olen > 0)
		m->out(m->arg, m->obuf, m->olen);
	m->olen = 0;
}

/* tm_stage - octets out through the staging buffer */
static void
tm_stage(struct bounce_track_mime *m, const char *p, size_t n)
{
	if (n > sizeof(m->obuf) - m->olen)
		tm_flush(m);
	if (n > sizeof(m->obuf)) {
		m->out(m->arg, p, n);
		return;
	}
	memcpy(m->obuf + m->olen, p, n);
	m->olen += n;
}

/* tm_raw - octets that pass as they are */
static void
tm_raw(struct bounce_track_mime *m, const char *p, size_t n)
{
	if (n > 0)
		tm_stage(m, p, n);
}

/* tm_qp_put - one encoded token, with a soft break before it if needed */
static void
tm_qp_put(struct bounce_track_mime *m, const char *t, size_t k)
{
	if (m->qlen + k > 75) {		/* 75 + '=' = 76: section 6.7 rule 5 */
		tm_stage(m, m->qline, m->qlen);
		tm_stage(m, "=\r\n", 3);
		m->qlen = 0;
	}
	memcpy(m->qline + m->qlen, t, k);
	m->qlen += k;
}

/* tm_qp_endws - a blank at the end of an encoded line is encoded (rule 3) */
static void
tm_qp_endws(struct bounce_track_mime *m)
{
	char t[4];

	if (m->qlen > 0 && (m->qline[m->qlen - 1] == ' ' || m->qline[m->qlen - 1] == '\t')) {
		snprintf(t, sizeof(t), "=%02X", (unsigned char)m->qline[m->qlen - 1]);
		m->qlen--;
		tm_qp_put(m, t, 3);
	}
}

/* tm_qp_byte - one decoded octet into quoted-printable */
static void
tm_qp_byte(struct bounce_track_mime *m, unsigned char b)
{
	char t[4];

	if (m->qcr) {
		m->qcr = false;
		if (b == '\n') {	/* a line break of the text: rule 4 */
			tm_qp_endws(m);
			tm_stage(m, m->qline, m->qlen);
			tm_stage(m, "\r\n", 2);
			m->qlen = 0;
			return;
		}
		tm_qp_put(m, "=0D", 3);
	}
	if (b == '\r') {
		m->qcr = true;
		return;
	}
	if ((b >= 33 && b <= 126 && b != '=') || b == ' ' || b == '\t') {
		t[0] = (char)b;
		tm_qp_put(m, t, 1);
	} else {
		snprintf(t, sizeof(t), "=%02X", b);
		tm_qp_put(m, t, 3);
	}
}

static const char tm_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* tm_b64_quantum - the encoder's 1-3 octets as 4 characters */
static void
tm_b64_quantum(struct bounce_track_mime *m)
{
	char q[4];
	unsigned v = (unsigned)m->enc_in[0] << 16 | (unsigned)m->enc_in[1] << 8 | m->enc_in[2];

	if (m->enc_n == 0)
		return;
	if (m->enc_col >= 76) {
		tm_stage(m, "\r\n", 2);
		m->enc_col = 0;
	}
	q[0] = tm_b64[(v >> 18) & 63];
	q[1] = tm_b64[(v >> 12) & 63];
	q[2] = m->enc_n > 1 ? tm_b64[(v >> 6) & 63] : '=';
	q[3] = m->enc_n > 2 ? tm_b64[v & 63] : '=';
	tm_stage(m, q, 4);
	m->enc_col += 4;
	m->enc_n = 0;
	memset(m->enc_in, 0, sizeof(m->enc_in));
}

/* tm_enc - the rewriter's output, encoded as the part was */
static void
tm_enc(void *arg, const char *p, size_t n)
{
	struct bounce_track_mime *m = arg;

	switch (m->cte) {
	case BOUNCE_TRACK_CTE_QP:
		for (size_t i = 0; i < n; i++)
			tm_qp_byte(m, (unsigned char)p[i]);
		break;
	case BOUNCE_TRACK_CTE_B64:
		for (size_t i = 0; i < n; i++) {
			m->enc_in[m->enc_n++] = (unsigned char)p[i];
			if (m->enc_n == 3)
				tm_b64_quantum(m);
		}
		break;
	default:
		tm_raw(m, p, n);
		break;
	}
}

/* tm_fail - the body cannot be rewritten exactly: the caller keeps it */
static void
tm_fail(struct bounce_track_mime *m, const char *why)
{
	if (!m->failed) {
		m->failed = true;
		m->why = why;
	}
}

/* tm_html_start - an HTML part's body begins */
static void
tm_html_start(struct bounce_track_mime *m, enum bounce_track_cte cte)
{
	m->cte = cte;
	bounce_track_html_init(&m->html, m->conf, cte == BOUNCE_TRACK_CTE_IDENTITY,
			       tm_enc, m);
	m->html.next_link = m->next_link;
	m->in_html = true;
	m->state = TM_HTML;
	m->eollen = 0;
	m->qp_soft = false;
	m->b64acc = 0;
	m->b64n = m->b64pad = 0;
	m->enc_n = m->enc_col = 0;
	m->qlen = 0;
	m->qcr = false;
}

/* tm_html_end - the part ended: flush, encode the rest, the held break */
static void
tm_html_end(struct bounce_track_mime *m)
{
	if (!m->in_html)
		return;
	if (m->cte == BOUNCE_TRACK_CTE_B64 && m->b64n != 0)
		tm_fail(m, "base64 part ends inside a quantum");
	bounce_track_html_finish(&m->html);
	if (m->cte == BOUNCE_TRACK_CTE_QP) {
		if (m->qcr) {
			m->qcr = false;
			tm_qp_put(m, "=0D", 3);
		}
		tm_qp_endws(m);
		tm_stage(m, m->qline, m->qlen);
		m->qlen = 0;
	} else if (m->cte == BOUNCE_TRACK_CTE_B64) {
		tm_b64_quantum(m);
	}
	m->links += m->html.links;
	m->skipped += m->html.skipped;
	m->pixels += m->html.pixel;
	m->next_link = m->html.next_link;
	m->parts++;
	bounce_track_html_free(&m->html);
	m->in_html = false;
	tm_raw(m, m->eol, m->eollen);
	m->eollen = 0;
	m->state = TM_PASS;
}

/* tm_qp_line - one encoded line without its break (section 6.7) */
static void
tm_qp_line(struct bounce_track_mime *m, const char *s, size_t n)
{
	char dec[BOUNCE_TRACK_LINE_MAX];
	size_t o = 0;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;			/* rule 3: transport padding */
	m->qp_soft = n > 0 && s[n - 1] == '=';
	if (m->qp_soft)
		n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			dec[o++] = s[i];
			continue;
		}
		if (i + 2 < n) {
			int hi = s[i + 1], lo = s[i + 2], a, b;

			a = hi >= '0' && hi <= '9' ? hi - '0' : hi >= 'A' && hi <= 'F' ? hi - 'A' + 10
			    : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
			b = lo >= '0' && lo <= '9' ? lo - '0' : lo >= 'A' && lo <= 'F' ? lo - 'A' + 10
			    : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
			if (a >= 0 && b >= 0) {
				dec[o++] = (char)(a << 4 | b);
				i += 2;
				continue;
			}
		}
		tm_fail(m, "quoted-printable '=' not followed by two hex digits");
		return;
	}
	bounce_track_html_feed(&m->html, dec, o);
}

/* tm_b64_text - encoded characters of a base64 part (section 6.8) */
static void
tm_b64_text(struct bounce_track_mime *m, const char *s, size_t n)
{
	char dec[(BOUNCE_TRACK_LINE_MAX / 4 + 1) * 3];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *cp;
		unsigned char ch = (unsigned char)s[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (ch == '=') {
			if (m->b64n < 2) {
				tm_fail(m, "base64 padding too early");
				return;
			}
			m->b64pad++;
			m->b64acc <<= 6;
		} else if (ch == 0 || (cp = strchr(tm_b64, ch)) == NULL) {
			tm_fail(m, "not a base64 character");
			return;
		} else if (m->b64pad > 0 || m->b64done) {
			tm_fail(m, "base64 after padding");
			return;
		} else {
			m->b64acc = m->b64acc << 6 | (unsigned)(cp - tm_b64);
		}
		if (++m->b64n == 4) {
			dec[o++] = (char)(m->b64acc >> 16);
			if (m->b64pad < 2)
				dec[o++] = (char)(m->b64acc >> 8);
			if (m->b64pad < 1)
				dec[o++] = (char)m->b64acc;
			if (m->b64pad > 0)
				m->b64done = true;
			m->b64acc = 0;
			m->b64n = m->b64pad = 0;
		}
	}
	bounce_track_html_feed(&m->html, dec, o);
}

/* tm_html_line - a line (or a piece of one) of an HTML part's body */
static void
tm_html_line(struct bounce_track_mime *m, const char *s, size_t n,
	     const char *eol, size_t eollen, bool complete)
{
	/* the previous line's break: the part went on after it */
	if (m->eollen > 0) {
		if (m->cte == BOUNCE_TRACK_CTE_IDENTITY)
			bounce_track_html_feed(&m->html, m->eol, m->eollen);
		else if (m->cte == BOUNCE_TRACK_CTE_QP && !m->qp_soft)
			bounce_track_html_feed(&m->html, "\r\n", 2);
		m->eollen = 0;
	}
	switch (m->cte) {
	case BOUNCE_TRACK_CTE_QP:
		if (!complete) {
			tm_fail(m, "quoted-printable line too long");
			return;
		}
		tm_qp_line(m, s, n);
		break;
	case BOUNCE_TRACK_CTE_B64:
		tm_b64_text(m, s, n);
		break;
	default:
		bounce_track_html_feed(&m->html, s, n);
		break;
	}
	memcpy(m->eol, eol, eollen);
	m->eollen = eollen;
}

/* tm_boundary - which level's delimiter the line is: level+1, or 0; *close */
static size_t
tm_boundary(const struct bounce_track_mime *m, const char *s, size_t n, bool *close)
{
	if (n < 3 || s[0] != '-' || s[1] != '-')
		return 0;
	for (size_t k = m->depth; k-- > 0;) {
		size_t bl = strlen(m->bnd[k]), i = 2 + bl;

		if (n < i || memcmp(s + 2, m->bnd[k], bl) != 0)
			continue;
		*close = n >= i + 2 && s[i] == '-' && s[i + 1] == '-';
		if (*close)
			i += 2;
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;		/* transport padding */
		if (i == n)
			return k + 1;
	}
	return 0;
}

/* tm_part_begin - a part's header block is complete: how to treat its body */
static void
tm_part_begin(struct bounce_track_mime *m)
{
	char v[1024];
	struct bounce_track_ctype ct;
	enum bounce_track_cte cte = BOUNCE_TRACK_CTE_IDENTITY;

	m->state = TM_PASS;
	if (m->hdr_over)
		return;
	if (bounce_mime_header(m->hdr, m->hdrlen, "Content-Transfer-Encoding", v,
			       sizeof(v)) == 1)
		cte = bounce_track_cte(v, strlen(v));
	if (bounce_mime_header(m->hdr, m->hdrlen, "Content-Type", v, sizeof(v)) != 1
	    || bounce_track_ctype(v, strlen(v), &ct) < 0 || tm_signed(&ct))
		return;		/* text/plain by default (section 5.2); or signed */
	if (strcmp(ct.type, "multipart") == 0) {
		if (ct.boundary[0] != '\0' && cte == BOUNCE_TRACK_CTE_IDENTITY
		    && m->depth < BOUNCE_TRACK_DEPTH) {
			memcpy(m->bnd[m->depth++], ct.boundary, sizeof(ct.boundary));
		}
		return;		/* its preamble passes */
	}
	if (!tm_html_ok(&ct, cte))
		return;
	if (bounce_mime_header(m->hdr, m->hdrlen, "Content-Disposition", v, sizeof(v)) == 1
	    && strncasecmp(v, "attachment", 10) == 0)
		return;		/* a file, not the message's text */
	tm_html_start(m, cte);
}

/* tm_line - one line: s[0..n) then its break (eollen 0: none yet) */
static void
tm_line(struct bounce_track_mime *m, const char *s, size_t n, const char *eol,
	size_t eollen, bool at_start, bool final)
{
	size_t lvl;
	bool close = false;

	if (m->failed)
		return;
	if (at_start && (eollen > 0 || final) && (lvl = tm_boundary(m, s, n, &close)) > 0) {
		if (m->state == TM_HEADERS) {
			tm_raw(m, m->hdr, m->hdrlen);
			m->hdrlen = 0;
		}
		tm_html_end(m);
		m->depth = close ? lvl - 1 : lvl;
		tm_raw(m, s, n);
		tm_raw(m, eol, eollen);
		m->state = close ? TM_PASS : TM_HEADERS;
		m->hdrlen = 0;
		m->hdr_over = false;
		return;
	}
	switch (m->state) {
	case TM_HEADERS:
		if (at_start && n == 0) {	/* the empty line: the body begins */
			tm_raw(m, m->hdr, m->hdrlen);
			tm_raw(m, eol, eollen);
			tm_part_begin(m);
			m->hdrlen = 0;
			return;
		}
		if (!m->hdr_over && m->hdrlen + n + eollen <= BOUNCE_TRACK_HDR_MAX) {
			memcpy(m->hdr + m->hdrlen, s, n);
			memcpy(m->hdr + m->hdrlen + n, eol, eollen);
			m->hdrlen += n + eollen;
		} else {
			if (!m->hdr_over)
				tm_raw(m, m->hdr, m->hdrlen);
			m->hdr_over = true;
			m->hdrlen = 0;
			tm_raw(m, s, n);
			tm_raw(m, eol, eollen);
		}
		break;
	case TM_HTML:
		tm_html_line(m, s, n, eol, eollen, eollen > 0 || final);
		break;
	default:
		tm_raw(m, s, n);
		tm_raw(m, eol, eollen);
		break;
	}
}

/* bounce_track_mime_init - a walker for a body of this type and encoding */
void
bounce_track_mime_init(struct bounce_track_mime *m, const struct bounce_track_conf *c,
		       const char *ctype, size_t ctlen, const char *cte, size_t ctelen,
		       bounce_track_out_fn out, void *arg)
{
	struct bounce_track_ctype ct;
	enum bounce_track_cte e = bounce_track_cte(cte, ctelen);

	memset(m, 0, sizeof(*m));
	m->conf = c;
	m->out = out;
	m->arg = arg;
	m->hdr = xmalloc(BOUNCE_TRACK_HDR_MAX);
	m->state = TM_PASS;
	if (bounce_track_ctype(ctype, ctlen, &ct) < 0 || tm_signed(&ct))
		return;
	if (strcmp(ct.type, "multipart") == 0 && ct.boundary[0] != '\0'
	    && e == BOUNCE_TRACK_CTE_IDENTITY) {
		memcpy(m->bnd[0], ct.boundary, sizeof(ct.boundary));
		m->depth = 1;
	} else if (tm_html_ok(&ct, e)) {
		tm_html_start(m, e);
	}
}

/* bounce_track_mime_feed - the next octets of the body */
void
bounce_track_mime_feed(struct bounce_track_mime *m, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && !m->failed) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (p + i)) + 1 : n - i;

		if (take > sizeof(m->line) - m->linelen)
			take = sizeof(m->line) - m->linelen;
		memcpy(m->line + m->linelen, p + i, take);
		m->linelen += take;
		i += take;
		if (m->line[m->linelen - 1] == '\n') {
			size_t el = m->linelen >= 2 && m->line[m->linelen - 2] == '\r' ? 2 : 1;

			tm_line(m, m->line, m->linelen - el, m->line + m->linelen - el, el,
				!m->cont, false);
			m->linelen = 0;
			m->cont = false;
		} else if (m->linelen == sizeof(m->line)) {
			/* keep a CR that may start the line break */
			size_t keep = m->line[m->linelen - 1] == '\r' ? 1 : 0;

			tm_line(m, m->line, m->linelen - keep, "", 0, !m->cont, false);
			m->cont = true;
			m->line[0] = '\r';
			m->linelen = keep;
		}
	}
}

/* bounce_track_mime_finish - the body ended: the last line, the open part */
void
bounce_track_mime_finish(struct bounce_track_mime *m)
{
	if (!m->failed && m->linelen > 0)
		tm_line(m, m->line, m->linelen, "", 0, !m->cont, true);
	m->linelen = 0;
	if (!m->failed) {
		if (m->state == TM_HEADERS) {
			tm_raw(m, m->hdr, m->hdrlen);
			m->hdrlen = 0;
		}
		tm_html_end(m);
	}
	tm_flush(m);
}

/* bounce_track_mime_free - the buffers; the struct can be inited again */
void
bounce_track_mime_free(struct bounce_track_mime *m)
{
	if (m->in_html)
		bounce_track_html_free(&m->html);
	m->in_html = false;
	free(m->hdr);
	m->hdr = NULL;
}
