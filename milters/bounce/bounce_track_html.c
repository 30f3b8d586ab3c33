/*++
 * NAME
 *	bounce_track_html 3
 * SUMMARY
 *	rewrite the links of an HTML text and add the open pixel, streaming
 * DESCRIPTION
 *	See bounce_track.h. bounce_track_tag() reads one tag as the HTML
 *	tokenizer does (HTML Living Standard section 13.2.5: attribute
 *	names end at blank, '/', '>' or '='; a value is double-quoted,
 *	single-quoted or unquoted; of two attributes of one name the first
 *	counts) and never changes anything but the href value of an <a> or
 *	<area>. The stream keeps the octets it does not rewrite exactly as
 *	they came, and holds at most one tag (BOUNCE_TRACK_TAG_MAX).
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_track.h"
#include "xalloc.h"

enum { BH_TEXT, BH_TAG, BH_COMMENT, BH_SKIPTAG };

#define BH_WRAP_MAX	998	/* RFC 5322 section 2.1.1, without CRLF */

/* bh_blank - HTML's ASCII whitespace */
static int
bh_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f';
}

/* bh_alpha - ASCII letter */
static int
bh_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* bh_alnum - ASCII letter or digit */
static int
bh_alnum(char ch)
{
	return bh_alpha(ch) || (ch >= '0' && ch <= '9');
}

/* bh_is - does tag (after '<', len) open with name, then a name end */
static int
bh_is(const char *tag, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(tag, name, n) == 0
	    && (bh_blank(tag[n]) || tag[n] == '/' || tag[n] == '>');
}

/*
 * bh_unref - an href value with its character references undone into
 * out; only &amp; (any case of AMP as HTML knows it: &amp; &AMP;) and
 * &#38; &#x26; are undone, a lone '&' (not followed by a name and ';'
 * or by "#") stays; anything else is -1: we cannot say what URL a
 * browser would follow, so the link is left alone
 */
static int
bh_unref(const char *v, size_t len, char *out, size_t cap, size_t *outn)
{
	size_t o = 0, i = 0;

	while (i < len) {
		char ch = v[i];

		if (ch == '&') {
			size_t j = i + 1;

			if (j < len && v[j] == '#') {
				unsigned long val = 0;
				int hex = j + 1 < len && (v[j + 1] == 'x' || v[j + 1] == 'X');
				size_t k = j + 1 + (size_t)hex, d0 = k;

				for (; k < len && k - d0 < 8; k++) {
					int dv = v[k] >= '0' && v[k] <= '9' ? v[k] - '0'
					    : hex && v[k] >= 'a' && v[k] <= 'f' ? v[k] - 'a' + 10
					    : hex && v[k] >= 'A' && v[k] <= 'F' ? v[k] - 'A' + 10 : -1;

					if (dv < 0)
						break;
					val = val * (hex ? 16 : 10) + (unsigned long)dv;
				}
				if (k == d0 || k >= len || v[k] != ';' || val != '&')
					return -1;
				i = k + 1;
			} else {
				while (j < len && bh_alnum(v[j]))
					j++;
				if (j < len && v[j] == ';') {
					if (!(j - i - 1 == 3 && (strncmp(v + i + 1, "amp", 3) == 0
								 || strncmp(v + i + 1, "AMP", 3) == 0)))
						return -1;
					i = j + 1;
				} else if (j == i + 1 || j == len || v[j] == '=') {
					i++;	/* a literal '&' (section 13.2.5.72) */
				} else {
					return -1;	/* "&copy/", legacy references */
				}
			}
			ch = '&';
		} else {
			i++;
		}
		if (o == cap)
			return -1;
		out[o++] = ch;
	}
	*outn = o;
	return 0;
}

/* bh_put - append to out; -1 when it does not fit */
static int
bh_put(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	if (n > cap - *o)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	return 0;
}

/*
 * bounce_track_tag - one complete tag ("<...>"): 1 rewritten into out
 * (*outn octets), 0 nothing to track here, -1 an http(s) link left as it
 * is (*why: too long, references, the line would be too long)
 */
int
bounce_track_tag(const struct bounce_track_conf *c, const char *tag, size_t len,
		 unsigned link, bool wrap, char *out, size_t outlen, size_t *outn,
		 const char **why)
{
	char url[BOUNCE_TRACK_URL_MAX + 1], tok[BOUNCE_TRACK_TOKEN_MAX + 1];
	size_t p, ns = 0, ve = 0, vs = 0, vn = 0, ul, o = 0, bl = strlen(c->base);
	int found = 0, tl;

	*outn = 0;
	*why = "";
	if (len < 3 || tag[0] != '<' || tag[len - 1] != '>')
		return 0;
	if (bh_is(tag + 1, len - 1, "a"))
		p = 2;
	else if (bh_is(tag + 1, len - 1, "area"))
		p = 5;
	else
		return 0;
	while (p < len - 1 && !found) {
		size_t s, e;

		while (p < len - 1 && (bh_blank(tag[p]) || tag[p] == '/'))
			p++;
		if (p >= len - 1 || tag[p] == '>')
			break;		/* the tag ends here (section 13.2.5.32) */
		s = p;
		if (tag[p] == '=')
			p++;		/* section 13.2.5.32: '=' starts a name */
		while (p < len - 1 && !bh_blank(tag[p]) && tag[p] != '/' && tag[p] != '='
		       && tag[p] != '>')
			p++;
		e = p;
		while (p < len - 1 && bh_blank(tag[p]))
			p++;
		if (p < len - 1 && tag[p] == '=') {
			p++;
			while (p < len - 1 && bh_blank(tag[p]))
				p++;
			if (p < len - 1 && (tag[p] == '"' || tag[p] == '\'')) {
				const char *q = memchr(tag + p + 1, tag[p], len - 1 - (p + 1));

				if (q == NULL)
					return 0;	/* not a complete tag: leave it */
				vs = p + 1;
				vn = (size_t)(q - (tag + vs));
				p = vs + vn + 1;
			} else {
				vs = p;
				while (p < len - 1 && !bh_blank(tag[p]) && tag[p] != '>')
					p++;
				vn = p - vs;
			}
			if (e - s == 4 && strncasecmp(tag + s, "href", 4) == 0) {
				found = 1;
				ns = s;
				ve = p;
			}
		} else if (e - s == 4 && strncasecmp(tag + s, "href", 4) == 0) {
			return 0;	/* href without a value: the first one counts */
		}
	}
	if (!found)
		return 0;
	if (!(vn >= 5 && (strncasecmp(tag + vs, "http:", 5) == 0
			  || (vn >= 6 && strncasecmp(tag + vs, "https:", 6) == 0))))
		return 0;		/* mailto:, tel:, #anchor, relative */
	if (bh_unref(tag + vs, vn, url, c->url_max < BOUNCE_TRACK_URL_MAX ? c->url_max
		     : BOUNCE_TRACK_URL_MAX, &ul) < 0) {
		*why = vn > c->url_max ? "url_too_long" : "character_reference";
		return -1;
	}
	if (!bounce_track_url_ok(url, ul)) {
		*why = "url_not_ascii";
		return -1;
	}
	if (ul > bl && strncasecmp(url, c->base, bl) == 0 && url[bl] == '/') {
		*why = "ours";		/* tracked already */
		return -1;
	}
	tl = bounce_track_encode(c->key, BOUNCE_TRACK_CLICK, c->id, c->tenant, link,
				 url, ul, tok, sizeof(tok));
	if (tl < 0) {
		*why = "token";
		return -1;
	}
	if (wrap && 6 + bl + 3 + (size_t)tl + 1 > BH_WRAP_MAX) {
		*why = "line_too_long";
		return -1;
	}
	if (bh_put(out, outlen, &o, tag, ns) < 0
	    || (wrap && bh_put(out, outlen, &o, "\r\n", 2) < 0)
	    || bh_put(out, outlen, &o, "href=\"", 6) < 0
	    || bh_put(out, outlen, &o, c->base, bl) < 0
	    || bh_put(out, outlen, &o, "/c/", 3) < 0
	    || bh_put(out, outlen, &o, tok, (size_t)tl) < 0
	    || bh_put(out, outlen, &o, "\"", 1) < 0
	    || (wrap && bh_put(out, outlen, &o, "\r\n", 2) < 0)
	    || bh_put(out, outlen, &o, tag + ve, len - ve) < 0) {
		*why = "buffer";
		return -1;
	}
	*outn = o;
	return 1;
}

/* bounce_track_pixel - the open pixel's <img> into out; length or -1 */
int
bounce_track_pixel(const struct bounce_track_conf *c, bool wrap, char *out,
		   size_t outlen)
{
	char tok[BOUNCE_TRACK_TOKEN_MAX + 1];
	int n;

	if (bounce_track_encode(c->key, BOUNCE_TRACK_OPEN, c->id, c->tenant, 0, "", 0,
				tok, sizeof(tok)) < 0)
		return -1;
	/* alt="": no text for readers without images (WCAG: decorative) */
	n = snprintf(out, outlen, "<img%ssrc=\"%s/o/%s\"%swidth=\"1\" height=\"1\" "
		     "alt=\"\">", wrap ? "\r\n" : " ", c->base, tok, wrap ? "\r\n" : " ");
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* bounce_track_html_init - a stream that writes to out */
void
bounce_track_html_init(struct bounce_track_html *h, const struct bounce_track_conf *c,
		       bool wrap, bounce_track_out_fn out, void *arg)
{
	memset(h, 0, sizeof(*h));
	h->conf = c;
	h->wrap = wrap;
	h->out = out;
	h->arg = arg;
	h->state = BH_TEXT;
	h->tag = xmalloc(BOUNCE_TRACK_TAG_MAX);
	h->bufcap = BOUNCE_TRACK_TAG_MAX + BOUNCE_TRACK_TOKEN_MAX + BOUNCE_TRACK_BASE_MAX + 64;
	h->buf = xmalloc(h->bufcap);
}

/* bh_emit_pixel - once */
static void
bh_emit_pixel(struct bounce_track_html *h)
{
	int n;

	if (h->pixel)
		return;
	if ((n = bounce_track_pixel(h->conf, h->wrap, h->buf, h->bufcap)) > 0) {
		h->out(h->arg, h->buf, (size_t)n);
		h->pixel = true;
	}
}

/*
 * bh_raw_element - the name of a raw text or RCDATA element the tag opens
 * (HTML section 13.1.2: no tags inside until its end tag), or NULL
 */
static const char *
bh_raw_element(const char *t, size_t n)
{
	static const char *const names[] = {"script", "style", "textarea", "title", NULL};

	for (size_t i = 0; names[i] != NULL; i++)
		if (bh_is(t, n, names[i]))
			return names[i];
	return NULL;
}

/* bh_tag_done - a complete tag: rewrite, note script/style, the pixel */
static void
bh_tag_done(struct bounce_track_html *h)
{
	const char *t = h->tag + 1, *raw;
	size_t n = h->taglen - 1, outn;
	const char *why;
	int r;

	h->state = BH_TEXT;
	if (h->raw) {
		size_t rn = strlen(h->rawname);

		if (n > rn + 1 && t[0] == '/' && bh_is(t + 1, n - 1, h->rawname))
			h->raw = false;
		h->out(h->arg, h->tag, h->taglen);
		return;
	}
	if (bh_is(t, n, "/body"))
		bh_emit_pixel(h);
	else if ((raw = bh_raw_element(t, n)) != NULL) {
		if (!(n >= 2 && t[n - 2] == '/')) {
			h->raw = true;
			snprintf(h->rawname, sizeof(h->rawname), "%s", raw);
		}
	} else if (h->next_link <= BOUNCE_TRACK_LINKS_MAX) {
		r = bounce_track_tag(h->conf, h->tag, h->taglen, h->next_link, h->wrap,
				     h->buf, h->bufcap, &outn, &why);
		if (r == 1) {
			h->out(h->arg, h->buf, outn);
			h->next_link++;
			h->links++;
			return;
		}
		if (r < 0)
			h->skipped++;
	}
	h->out(h->arg, h->tag, h->taglen);
}

/* bounce_track_html_feed - the next octets of the HTML text */
void
bounce_track_html_feed(struct bounce_track_html *h, const char *p, size_t n)
{
	size_t i = 0, run = 0;	/* p[run..i) passes unchanged */

#define BH_FLUSH() do { if (i > run) h->out(h->arg, p + run, i - run); } while (0)
	while (i < n) {
		char ch = p[i];

		switch (h->state) {
		case BH_TEXT: {
			const char *lt = memchr(p + i, '<', n - i);

			if (lt == NULL) {
				i = n;
				break;
			}
			i = (size_t)(lt - p);
			BH_FLUSH();
			h->tag[0] = '<';
			h->taglen = 1;
			h->quote = 0;
			h->match = 0;	/* here: "after '='" */
			h->state = BH_TAG;
			run = ++i;
			break;
		}
		case BH_TAG:
			if (h->taglen == 1 && !bh_alpha(ch) && ch != '/' && ch != '!'
			    && ch != '?') {
				h->out(h->arg, "<", 1);	/* "a < b": text */
				h->state = BH_TEXT;
				run = i;
				break;
			}
			h->tag[h->taglen++] = ch;
			i++;
			run = i;
			if (h->taglen == 4 && memcmp(h->tag, "<!--", 4) == 0) {
				h->out(h->arg, h->tag, h->taglen);
				h->state = BH_COMMENT;
				h->match = 2;	/* "<!-->" and "<!--->" end at once */
				break;
			}
			if (h->raw) {
				if (ch == '>')
					bh_tag_done(h);
			} else if (h->quote != 0) {
				if (ch == h->quote)
					h->quote = 0;
			} else if (ch == '>') {
				bh_tag_done(h);
				break;
			} else if (ch == '=') {
				h->match = 1;
			} else if (h->match && (ch == '"' || ch == '\'')) {
				h->quote = ch;
				h->match = 0;
			} else if (!bh_blank(ch)) {
				h->match = 0;
			}
			if (h->state == BH_TAG && h->taglen == BOUNCE_TRACK_TAG_MAX) {
				h->out(h->arg, h->tag, h->taglen);
				h->state = BH_SKIPTAG;
				h->skipped++;
			}
			break;
		case BH_SKIPTAG:
			i++;
			if (h->quote != 0) {
				if (ch == h->quote)
					h->quote = 0;
			} else if (ch == '>') {
				h->state = BH_TEXT;
			} else if (!h->raw && ch == '=') {
				h->match = 1;
			} else if (!h->raw && h->match && (ch == '"' || ch == '\'')) {
				h->quote = ch;
				h->match = 0;
			} else if (!bh_blank(ch)) {
				h->match = 0;
			}
			break;
		case BH_COMMENT:
			i++;
			if (ch == '>' && h->match >= 2)
				h->state = BH_TEXT;
			else if (ch == '-')
				h->match++;
			else
				h->match = 0;
			break;
		}
	}
	if (h->state != BH_TAG)
		BH_FLUSH();
#undef BH_FLUSH
}

/* bounce_track_html_finish - the end of the text: what is held, the pixel */
void
bounce_track_html_finish(struct bounce_track_html *h)
{
	if (h->state == BH_TAG && h->taglen > 0)
		h->out(h->arg, h->tag, h->taglen);	/* never closed */
	h->taglen = 0;
	h->state = BH_TEXT;
	bh_emit_pixel(h);
}

/* bounce_track_html_free - the buffers */
void
bounce_track_html_free(struct bounce_track_html *h)
{
	free(h->tag);
	free(h->buf);
	h->tag = h->buf = NULL;
}
