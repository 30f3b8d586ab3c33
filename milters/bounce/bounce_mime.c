/*++
 * NAME
 *	bounce_mime 3
 * SUMMARY
 *	bounded MIME walker for returned messages (see bounce_mime.h)
 * DESCRIPTION
 *	Lines end at LF; a CR before it is dropped. The walker recurses
 *	once per nesting level, at most BOUNCE_MIME_MAX_DEPTH deep, so its
 *	stack use is bounded (about 1.5 KiB a level). Each level scans only
 *	its own bytes, so the whole walk reads the message at most
 *	BOUNCE_MIME_MAX_DEPTH + 1 times.
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_mime.h"

#define CT_VALUE_MAX	1024	/* an unfolded Content-Type we look into */

/* line_end - end of the line at pos (CR LF / LF excluded), next line in *next */
static size_t
line_end(const char *p, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(p + pos, '\n', len - pos);
	size_t end;

	if (nl == NULL) {
		end = len;
		*next = len;
	} else {
		end = (size_t)(nl - p);
		*next = end + 1;
	}
	if (end > pos && p[end - 1] == '\r')
		end--;
	return end;
}

/* is_wsp - space or horizontal tab (RFC 5234 WSP) */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* lower - ASCII tolower that ignores the locale */
static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* field_name_len - length of a field name at the line [p, end), 0 if none */
static size_t
field_name_len(const char *p, size_t n, const char **colon)
{
	size_t i, namelen;

	/* RFC 5322 section 3.6.8: ftext is printable ASCII except ':'; the
	 * obsolete syntax allows white space before the colon (4.5.3). */
	for (i = 0; i < n && p[i] != ':'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 33 || c > 126) {
			if (!is_wsp(p[i]))
				return 0;
		}
	}
	if (i == n)
		return 0;
	namelen = i;
	while (namelen > 0 && is_wsp(p[namelen - 1]))
		namelen--;
	if (namelen == 0 || memchr(p, ' ', namelen) != NULL
	    || memchr(p, '\t', namelen) != NULL)
		return 0;
	*colon = p + i;
	return namelen;
}

/* bounce_mime_split - length of the header block and offset of the body */
size_t
bounce_mime_split(const char *p, size_t len, size_t *body_off)
{
	size_t pos = 0, next, end;

	while (pos < len) {
		end = line_end(p, len, pos, &next);
		if (end == pos) {
			*body_off = next;
			return pos;
		}
		pos = next;
	}
	*body_off = len;
	return len;
}

/* bounce_mime_next_field - the next field of a header block, 0 at its end */
int
bounce_mime_next_field(const char *p, size_t len, size_t *pos,
		       struct bounce_field *f)
{
	size_t cap = len < BOUNCE_MIME_MAX_HEADER ? len : BOUNCE_MIME_MAX_HEADER;
	size_t end, next, vend, q;
	const char *colon;

	while (*pos < cap) {
		end = line_end(p, cap, *pos, &next);
		if (end == *pos) {
			*pos = next;
			return 0;
		}
		if (is_wsp(p[*pos])
		    || (f->namelen = field_name_len(p + *pos, end - *pos,
						    &colon)) == 0) {
			*pos = next;		/* stray continuation or junk */
			continue;
		}
		f->name = p + *pos;
		f->value = colon + 1;
		vend = end;
		q = next;
		while (q < cap && is_wsp(p[q]))
			vend = line_end(p, cap, q, &q);
		f->valuelen = (size_t)(p + vend - f->value);
		*pos = q;
		return 1;
	}
	*pos = cap;
	return 0;
}

/* bounce_mime_unfold - copy a value unfolded, trimmed, controls replaced */
size_t
bounce_mime_unfold(const char *v, size_t vlen, char *buf, size_t cap)
{
	size_t i, n = 0;
	bool space = false;

	if (cap == 0)
		return 0;
	for (i = 0; i < vlen && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = n > 0;
			continue;
		}
		if (space) {
			buf[n++] = ' ';
			space = false;
			if (n + 1 >= cap)
				break;
		}
		buf[n++] = (c < 32 || c == 127) ? '?' : (char)c;
	}
	buf[n] = '\0';
	return n;
}

/* bounce_mime_header - first field called name, unfolded; 1 found, 0 not */
int
bounce_mime_header(const char *hdr, size_t hdrlen, const char *name,
		   char *buf, size_t cap)
{
	struct bounce_field f;
	size_t pos = 0, nl = strlen(name);

	while (bounce_mime_next_field(hdr, hdrlen, &pos, &f))
		if (f.namelen == nl && strncasecmp(f.name, name, nl) == 0) {
			bounce_mime_unfold(f.value, f.valuelen, buf, cap);
			return 1;
		}
	if (cap > 0)
		buf[0] = '\0';
	return 0;
}

/* hexval - value of a hex digit, -1 if none */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* b64val - value of a base64 character, -1 if none */
static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* b64_decode - RFC 2045 6.8: other characters ignored, '=' ends the data */
static size_t
b64_decode(const char *in, size_t len, char *out, size_t cap)
{
	unsigned int acc = 0;
	int bits = 0, v;
	size_t i, n = 0;

	for (i = 0; i < len && n < cap; i++) {
		if (in[i] == '=')
			break;
		if ((v = b64val(in[i])) < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return n;
}

/* qp_decode - RFC 2045 6.7; q: RFC 2047 4.2 Q ("_" is a space, no soft breaks) */
static size_t
qp_decode(const char *in, size_t len, char *out, size_t cap, bool q)
{
	size_t i = 0, j, n = 0;
	int hi, lo;

	while (i < len && n < cap) {
		char c = in[i];

		if (q && c == '_') {
			out[n++] = ' ';
			i++;
		} else if (c != '=') {
			out[n++] = c;
			i++;
		} else if (i + 2 < len + 0 && (hi = hexval(in[i + 1])) >= 0
			   && (lo = hexval(in[i + 2])) >= 0) {
			out[n++] = (char)(hi * 16 + lo);
			i += 3;
		} else {
			/* Soft line break: "=", optional white space, line end. */
			for (j = i + 1; j < len && is_wsp(in[j]); j++)
				/* skip */ ;
			if (!q && j < len && (in[j] == '\r' || in[j] == '\n')) {
				if (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n')
					j++;
				i = j + 1;
			} else if (!q && j == len) {
				i = len;
			} else {
				out[n++] = '=';
				i++;
			}
		}
	}
	return n;
}

/* encoded_word - decode "=?cs?E?text?=" at in[i]; end offset, or 0 if none */
static size_t
encoded_word(const char *in, size_t len, size_t i, char *out, size_t cap,
	     size_t *n)
{
	size_t j = i + 2, text, k;
	char enc;

	if (i + 2 > len || in[i] != '=' || in[i + 1] != '?')
		return 0;
	/* charset (with an RFC 2231 language), at most 64 characters */
	while (j < len && j - i < 66 && in[j] != '?' && !is_wsp(in[j]))
		j++;
	if (j >= len || in[j] != '?' || j == i + 2 || j + 2 >= len)
		return 0;
	enc = lower(in[j + 1]);
	if ((enc != 'q' && enc != 'b') || in[j + 2] != '?')
		return 0;
	text = j + 3;
	for (k = text; k + 1 < len && k - text < 1024; k++) {
		if (in[k] == '?' && in[k + 1] == '=')
			break;
		if (in[k] == ' ' || in[k] == '\t' || in[k] == '\r' || in[k] == '\n')
			return 0;
	}
	if (k + 1 >= len || in[k] != '?' || in[k + 1] != '=')
		return 0;
	if (enc == 'b')
		*n += b64_decode(in + text, k - text, out + *n, cap - *n);
	else
		*n += qp_decode(in + text, k - text, out + *n, cap - *n, true);
	return k + 2;
}

/* bounce_mime_decode_words - RFC 2047 encoded-words to raw bytes */
size_t
bounce_mime_decode_words(const char *in, size_t len, char *out, size_t cap)
{
	size_t i = 0, n = 0, end, j, save;

	if (cap == 0)
		return 0;
	cap--;					/* room for the NUL */
	while (i < len && n < cap) {
		if ((end = encoded_word(in, len, i, out, cap, &n)) == 0) {
			out[n++] = in[i++];
			continue;
		}
		i = end;
		/* RFC 2047 section 6.2: white space between two adjacent
		 * encoded-words is not displayed. */
		for (j = i; j < len && (is_wsp(in[j]) || in[j] == '\r'
					|| in[j] == '\n'); j++)
			/* skip */ ;
		if (j > i && j < len) {
			save = n;
			if (encoded_word(in, len, j, out, cap, &n) != 0) {
				n = save;	/* decoded again in the loop */
				i = j;
			}
		}
	}
	out[n] = '\0';
	return n;
}

/* skip_cfws - white space and (nested) comments, RFC 5322 3.2.2 */
static size_t
skip_cfws(const char *s, size_t i)
{
	int depth;

	for (;;) {
		while (s[i] == ' ')
			i++;
		if (s[i] != '(')
			return i;
		for (depth = 0; s[i] != '\0'; i++) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			else if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
}

/* is_tspecial - RFC 2045 5.1 tspecials, white space and NUL end a token */
static bool
is_tspecial(char c)
{
	return c == '\0' || c == ' ' || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* copy_lower - copy at most cap - 1 bytes, lowercased */
static void
copy_lower(char *dst, size_t cap, const char *src, size_t n)
{
	size_t i;

	if (n >= cap)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = lower(src[i]);
	dst[n] = '\0';
}

/* parse_ctype - RFC 2045 5.1: type/subtype and the parameters we use */
static void
parse_ctype(const char *s, struct bounce_part *pt)
{
	char val[CT_VALUE_MAX];
	size_t i, start, namelen, vn;
	const char *name;

	i = skip_cfws(s, 0);
	start = i;
	while (!is_tspecial(s[i]) || s[i] == '/')
		i++;
	if (memchr(s + start, '/', i - start) == NULL)
		return;				/* caller keeps the default */
	copy_lower(pt->type, sizeof(pt->type), s + start, i - start);
	for (;;) {
		i = skip_cfws(s, i);
		if (s[i] != ';') {
			/* junk: resynchronize on the next ';' */
			while (s[i] != '\0' && s[i] != ';')
				i++;
			if (s[i] == '\0')
				return;
		}
		i = skip_cfws(s, i + 1);
		name = s + i;
		while (!is_tspecial(s[i]))
			i++;
		namelen = (size_t)(s + i - name);
		i = skip_cfws(s, i);
		if (s[i] != '=')
			continue;
		i = skip_cfws(s, i + 1);
		vn = 0;
		if (s[i] == '"') {
			for (i++; s[i] != '\0' && s[i] != '"'; i++) {
				if (s[i] == '\\' && s[i + 1] != '\0')
					i++;
				if (vn + 1 < sizeof(val))
					val[vn++] = s[i];
			}
			if (s[i] == '"')
				i++;
		} else {
			while (!is_tspecial(s[i]) || s[i] == '/' || s[i] == '?'
			       || s[i] == '=' || s[i] == ':')
				if (vn + 1 < sizeof(val))
					val[vn++] = s[i++];
				else
					i++;
		}
		val[vn] = '\0';
		if (namelen == 8 && strncasecmp(name, "boundary", 8) == 0) {
			if (vn > 0 && vn < sizeof(pt->boundary))
				memcpy(pt->boundary, val, vn + 1);
		} else if (namelen == 11
			   && strncasecmp(name, "report-type", 11) == 0) {
			copy_lower(pt->report_type, sizeof(pt->report_type),
				   val, vn);
		} else if (namelen == 7 && strncasecmp(name, "charset", 7) == 0) {
			copy_lower(pt->charset, sizeof(pt->charset), val, vn);
		}
	}
}

static void walk(struct bounce_mime *, const char *, size_t, int, int,
		 const char *);

/* is_delimiter - "--boundary" or "--boundary--" and only white space after */
static int
is_delimiter(const char *line, size_t n, const char *b, size_t bl)
{
	size_t i;
	int close = 0;

	if (n < 2 + bl || line[0] != '-' || line[1] != '-'
	    || memcmp(line + 2, b, bl) != 0)
		return 0;
	i = 2 + bl;
	if (i + 1 < n + 0 && line[i] == '-' && line[i + 1] == '-') {
		close = 1;
		i += 2;
	}
	for (; i < n; i++)
		if (!is_wsp(line[i]))
			return 0;
	return close ? 2 : 1;
}

/* walk_multipart - RFC 2046 5.1.1: walk each body part between delimiters */
static void
walk_multipart(struct bounce_mime *m, const char *body, size_t blen,
	       const char *boundary, int depth, int parent, const char *deftype)
{
	size_t bl = strlen(boundary), pos = 0, next, end, start = 0, pend;
	bool open = false;
	int d;

	while (pos < blen) {
		end = line_end(body, blen, pos, &next);
		if ((d = is_delimiter(body + pos, end - pos, boundary, bl)) != 0) {
			if (open) {
				/* The line break before a delimiter is part of
				 * the delimiter (RFC 2046 5.1.1). */
				pend = pos;
				if (pend > start && body[pend - 1] == '\n')
					pend--;
				if (pend > start && body[pend - 1] == '\r')
					pend--;
				walk(m, body + start, pend - start, depth, parent,
				     deftype);
			}
			if (d == 2)
				return;		/* the epilogue is ignored */
			open = true;
			start = next;
		}
		pos = next;
	}
	if (open && start < blen)		/* no close delimiter */
		walk(m, body + start, blen - start, depth, parent, deftype);
}

/* walk - record one entity and walk into what it contains */
static void
walk(struct bounce_mime *m, const char *p, size_t len, int depth, int parent,
     const char *deftype)
{
	char val[CT_VALUE_MAX];
	struct bounce_part *pt;
	size_t boff;
	int idx;

	if (m->nparts >= BOUNCE_MIME_MAX_PARTS) {
		m->truncated = 1;
		return;
	}
	idx = (int)m->nparts++;
	pt = &m->part[idx];
	memset(pt, 0, sizeof(*pt));
	pt->depth = depth;
	pt->parent = parent;
	pt->hdr = p;
	pt->hdrlen = bounce_mime_split(p, len, &boff);
	pt->body = p + boff;
	pt->bodylen = len - boff;
	snprintf(pt->type, sizeof(pt->type), "%s", deftype);
	if (bounce_mime_header(pt->hdr, pt->hdrlen, "Content-Type", val,
			       sizeof(val)))
		parse_ctype(val, pt);
	if (bounce_mime_header(pt->hdr, pt->hdrlen,
			       "Content-Transfer-Encoding", val, sizeof(val))) {
		if (strcasecmp(val, "quoted-printable") == 0)
			pt->cte = BOUNCE_CTE_QP;
		else if (strcasecmp(val, "base64") == 0)
			pt->cte = BOUNCE_CTE_BASE64;
	}
	if (strncmp(pt->type, "multipart/", 10) == 0 && pt->boundary[0]) {
		if (depth + 1 > BOUNCE_MIME_MAX_DEPTH) {
			m->truncated = 1;
			return;
		}
		/* RFC 2046 5.1.5: parts of a digest default to messages */
		walk_multipart(m, pt->body, pt->bodylen, pt->boundary, depth + 1,
			       idx, strcmp(pt->type, "multipart/digest") == 0
			       ? "message/rfc822" : "text/plain");
	} else if ((strcmp(pt->type, "message/rfc822") == 0
		    || strcmp(pt->type, "message/global") == 0)
		   && pt->cte == BOUNCE_CTE_IDENTITY && pt->bodylen > 0) {
		if (depth + 1 > BOUNCE_MIME_MAX_DEPTH) {
			m->truncated = 1;
			return;
		}
		walk(m, pt->body, pt->bodylen, depth + 1, idx, "text/plain");
	}
}

/* bounce_mime_walk - every part of a message, in document order */
int
bounce_mime_walk(const char *msg, size_t len, struct bounce_mime *m,
		 const char **why)
{
	size_t next, end, off = 0;
	const char *colon;

	m->nparts = 0;
	m->truncated = 0;
	if (len == 0) {
		*why = "empty message";
		return -1;
	}
	/* An mbox "From " line, as saved by mail readers. */
	if (len > 5 && memcmp(msg, "From ", 5) == 0) {
		(void)line_end(msg, len, 0, &off);
	}
	end = line_end(msg, len, off, &next);
	if (end == off || is_wsp(msg[off])
	    || field_name_len(msg + off, end - off, &colon) == 0) {
		*why = "message does not start with a header field";
		return -1;
	}
	walk(m, msg + off, len - off, 0, -1, "text/plain");
	return 0;
}

/* bounce_mime_decode - a part's body, transfer encoding undone */
size_t
bounce_mime_decode(const struct bounce_part *part, char *out, size_t cap)
{
	size_t n;

	switch (part->cte) {
	case BOUNCE_CTE_QP:
		return qp_decode(part->body, part->bodylen, out, cap, false);
	case BOUNCE_CTE_BASE64:
		return b64_decode(part->body, part->bodylen, out, cap);
	default:
		n = part->bodylen < cap ? part->bodylen : cap;
		memcpy(out, part->body, n);
		return n;
	}
}

/* entity - replace a few HTML character references; length consumed or 0 */
static size_t
entity(const char *s, size_t len, char *c)
{
	static const struct {
		const char *name;
		char	c;
	} ent[] = {
		{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&nbsp;", ' '},
		{"&quot;", '"'}, {"&#39;", '\''}, {"&#160;", ' '},
	};
	size_t i, n;

	for (i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
		n = strlen(ent[i].name);
		if (n <= len && strncasecmp(s, ent[i].name, n) == 0) {
			*c = ent[i].c;
			return n;
		}
	}
	return 0;
}

/* starts_tag - s begins with "<name" then a non-name character */
static bool
starts_tag(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(s, name, n) == 0
	    && (s[n] == '>' || s[n] == ' ' || s[n] == '/' || s[n] == '\t'
		|| s[n] == '\r' || s[n] == '\n');
}

/* strip_html - tags out, block ends to line breaks, entities replaced */
static size_t
strip_html(char *s, size_t len)
{
	size_t r = 0, w = 0, k;
	const char *close;
	char c;

	while (r < len) {
		if (s[r] == '<') {
			if (starts_tag(s + r, len - r, "<style")
			    || starts_tag(s + r, len - r, "<script")) {
				close = s[r + 2] == 't' || s[r + 2] == 'T'
				    ? "</style" : "</script";
				for (k = r + 1; k + strlen(close) <= len; k++)
					if (strncasecmp(s + k, close,
							strlen(close)) == 0)
						break;
				r = k + strlen(close) <= len ? k : len;
			}
			if (starts_tag(s + r, len - r, "<br")
			    || starts_tag(s + r, len - r, "</p")
			    || starts_tag(s + r, len - r, "</div")
			    || starts_tag(s + r, len - r, "</tr")
			    || starts_tag(s + r, len - r, "</li"))
				s[w++] = '\n';
			while (r < len && s[r] != '>')
				r++;
			r++;
		} else if (s[r] == '&' && (k = entity(s + r, len - r, &c)) > 0) {
			s[w++] = c;
			r += k;
		} else {
			s[w++] = s[r++];
		}
	}
	return w;
}

/* bounce_mime_text - a part's text for reading: decoded, HTML stripped */
size_t
bounce_mime_text(const struct bounce_part *part, char *out, size_t cap)
{
	size_t n, i;

	if (cap == 0)
		return 0;
	n = bounce_mime_decode(part, out, cap - 1);
	if (strcmp(part->type, "text/html") == 0)
		n = strip_html(out, n);
	for (i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	return n;
}
