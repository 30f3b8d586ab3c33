/*++
 * NAME
 *	spf_macro 3
 * SUMMARY
 *	SPF macro checker and expander (RFC 7208 section 7)
 * DESCRIPTION
 *	See spf_macro.h. One walker serves both the check (ctx NULL: parse
 *	only) and the expansion, so the two can never disagree on what is
 *	valid. Output goes through a bounded appender; nothing allocates.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "spf_macro.h"

#define SPF_MACRO_DELIMS	".-+,/_="	/* RFC 7208 7.1 delimiter */
#define SPF_MACRO_MAX_VALUE	1024		/* one macro's value */
#define SPF_MACRO_MAX_DIGITS	1000		/* more parts than any value has */

/* Bounded output: overflow is remembered, the walk goes on to check syntax. */
struct spf_out {
	char	*buf;
	size_t	size, len;
	bool	overflow;
};

/* spf_out_add - append n bytes */
static void
spf_out_add(struct spf_out *o, const char *p, size_t n)
{
	if (o->buf == NULL)
		return;
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* spf_macro_value - the raw value of a macro letter (lower case) */
static int
spf_macro_value(char letter, const struct spf_macro_ctx *ctx, char *buf,
		size_t size)
{
	static const char hex[] = "0123456789abcdef";
	int	n = -1;

	switch (letter) {
	case 's':
		n = snprintf(buf, size, "%s@%s", ctx->local, ctx->sender_domain);
		break;
	case 'l':
		n = snprintf(buf, size, "%s", ctx->local);
		break;
	case 'o':
		n = snprintf(buf, size, "%s", ctx->sender_domain);
		break;
	case 'd':
		n = snprintf(buf, size, "%s", ctx->domain);
		break;
	case 'i':
		if (ctx->family == AF_INET) {
			n = snprintf(buf, size, "%u.%u.%u.%u", ctx->ip[0],
				     ctx->ip[1], ctx->ip[2], ctx->ip[3]);
		} else {
			/* RFC 7208 7.3: dot-format nibbles for IPv6 */
			size_t	k = 0;

			for (int i = 0; i < 16 && k + 4 < size; i++) {
				buf[k++] = hex[ctx->ip[i] >> 4];
				buf[k++] = '.';
				buf[k++] = hex[ctx->ip[i] & 0x0f];
				buf[k++] = '.';
			}
			buf[k - 1] = '\0';
			n = (int)k - 1;
		}
		break;
	case 'c':
		if (inet_ntop(ctx->family, ctx->ip, buf, (socklen_t)size) != NULL)
			n = (int)strlen(buf);
		break;
	case 'p':
		n = snprintf(buf, size, "%s", ctx->ptr ? ctx->ptr : "unknown");
		break;
	case 'v':
		n = snprintf(buf, size, "%s", ctx->family == AF_INET
			     ? "in-addr" : "ip6");
		break;
	case 'h':
		n = snprintf(buf, size, "%s", ctx->helo);
		break;
	case 'r':
		n = snprintf(buf, size, "%s", ctx->receiver && *ctx->receiver
			     ? ctx->receiver : "unknown");
		break;
	case 't':
		n = snprintf(buf, size, "%ld", ctx->now);
		break;
	}
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* spf_is_unreserved - RFC 3986 2.3 */
static bool
spf_is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
	    || c == '~';
}

/*
 * spf_macro_transform - split value at delims, reverse, keep the right
 * digits parts (0: all), join with "." (RFC 7208 7.3); escape if upper.
 */
static void
spf_macro_transform(const char *value, size_t vlen, unsigned digits,
		    bool reverse, const char *delims, size_t ndelims,
		    bool escape, struct spf_out *o)
{
	unsigned short start[SPF_MACRO_MAX_VALUE + 1], plen[SPF_MACRO_MAX_VALUE + 1];
	size_t	nparts = 0, first, p0 = 0;

	for (size_t i = 0; i <= vlen; i++) {
		if (i == vlen || memchr(delims, value[i], ndelims) != NULL) {
			start[nparts] = (unsigned short)p0;
			plen[nparts] = (unsigned short)(i - p0);
			nparts++;
			p0 = i + 1;
		}
	}
	if (reverse) {
		for (size_t i = 0; i < nparts / 2; i++) {
			unsigned short s = start[i], l = plen[i];

			start[i] = start[nparts - 1 - i];
			plen[i] = plen[nparts - 1 - i];
			start[nparts - 1 - i] = s;
			plen[nparts - 1 - i] = l;
		}
	}
	first = digits > 0 && digits < nparts ? nparts - digits : 0;
	for (size_t i = first; i < nparts; i++) {
		const char *p = value + start[i];

		if (i > first)
			spf_out_add(o, ".", 1);
		if (!escape) {
			spf_out_add(o, p, plen[i]);
			continue;
		}
		for (size_t k = 0; k < plen[i]; k++) {
			unsigned char c = (unsigned char)p[k];
			char	esc[4];

			if (spf_is_unreserved(c)) {
				spf_out_add(o, (const char *)&c, 1);
			} else {
				snprintf(esc, sizeof(esc), "%%%02X", c);
				spf_out_add(o, esc, 3);
			}
		}
	}
}

/*
 * spf_macro_walk - parse s; with ctx, expand into o. 0 or -1 with *why.
 */
static int
spf_macro_walk(const char *s, size_t len, const struct spf_macro_ctx *ctx,
	       enum spf_macro_mode mode, struct spf_out *o, const char **why)
{
	size_t	i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		const char *letters = mode == SPF_MACRO_EXP ? "slodipvhcrt"
		    : "slodipvh";
		char	letter, value[SPF_MACRO_MAX_VALUE];
		unsigned digits = 0;
		bool	reverse = false, have_digits = false;
		size_t	dstart;
		int	vlen;

		if (c != '%') {
			if (c == ' ' && mode == SPF_MACRO_EXP) {
				spf_out_add(o, " ", 1);
				i++;
				continue;
			}
			if (c < 0x21 || c > 0x7e) {
				*why = mode == SPF_MACRO_EXP
				    ? "control or non-ASCII character in explanation"
				    : "control, space or non-ASCII character in domain-spec";
				return -1;
			}
			spf_out_add(o, s + i, 1);
			i++;
			continue;
		}
		if (i + 1 >= len) {
			*why = "'%' at the end of a macro-string";
			return -1;
		}
		switch (s[i + 1]) {
		case '%':
			spf_out_add(o, "%", 1);
			i += 2;
			continue;
		case '_':
			spf_out_add(o, " ", 1);
			i += 2;
			continue;
		case '-':
			spf_out_add(o, "%20", 3);
			i += 2;
			continue;
		case '{':
			break;
		default:
			*why = "'%' not followed by '%', '_', '-' or '{'";
			return -1;
		}
		i += 2;
		if (i >= len || s[i] == '\0'
		    || strchr(letters, s[i] | 0x20) == NULL) {
			*why = i < len && strchr("crt", s[i] | 0x20) != NULL
			    ? "macros c, r and t are for explanations only"
			    : "unknown macro letter";
			return -1;
		}
		letter = s[i++];
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			digits = digits * 10 + (unsigned)(s[i] - '0');
			if (digits > SPF_MACRO_MAX_DIGITS)
				digits = SPF_MACRO_MAX_DIGITS;
			have_digits = true;
			i++;
		}
		if (have_digits && digits == 0) {
			*why = "macro DIGIT transformer is zero";
			return -1;
		}
		if (i < len && (s[i] == 'r' || s[i] == 'R')) {
			reverse = true;
			i++;
		}
		dstart = i;
		while (i < len && s[i] != '\0' && strchr(SPF_MACRO_DELIMS, s[i]) != NULL)
			i++;
		if (i >= len || s[i] != '}') {
			*why = "bad macro transformer or delimiter, or no '}'";
			return -1;
		}
		i++;
		if (ctx == NULL)
			continue;
		if ((vlen = spf_macro_value((char)(letter | 0x20), ctx, value,
					    sizeof(value))) < 0) {
			o->overflow = true;
			continue;
		}
		spf_macro_transform(value, (size_t)vlen, digits, reverse,
				    dstart < i - 1 ? s + dstart : ".",
				    dstart < i - 1 ? i - 1 - dstart : 1,
				    letter >= 'A' && letter <= 'Z', o);
	}
	return 0;
}

/* spf_macro_check - is s a valid macro-string; see spf_macro.h */
int
spf_macro_check(const char *s, size_t len, enum spf_macro_mode mode,
		const char **why)
{
	struct spf_out o = {NULL, 0, 0, false};

	return spf_macro_walk(s, len, NULL, mode, &o, why);
}

/* spf_macro_expand - expand s into out; see spf_macro.h */
int
spf_macro_expand(const char *s, size_t len, const struct spf_macro_ctx *ctx,
		 enum spf_macro_mode mode, char *out, size_t size,
		 const char **why)
{
	struct spf_out o = {out, size, 0, false};

	if (size == 0) {
		*why = "no room for the expansion";
		return -1;
	}
	out[0] = '\0';
	if (spf_macro_walk(s, len, ctx, mode, &o, why) < 0)
		return -1;
	if (o.overflow) {
		*why = "macro expansion too long";
		return -1;
	}
	if (mode == SPF_MACRO_DOMAIN) {
		size_t	skip = 0;

		if (o.len > 0 && out[o.len - 1] == '.')
			out[--o.len] = '\0';
		/* RFC 7208 7.3: drop left labels until it fits */
		while (o.len - skip > SPF_MAX_DOMAIN_LEN) {
			const char *dot = memchr(out + skip, '.', o.len - skip);

			if (dot == NULL) {
				*why = "expanded domain name too long";
				return -1;
			}
			skip = (size_t)(dot - out) + 1;
		}
		if (skip > 0) {
			memmove(out, out + skip, o.len - skip + 1);
			o.len -= skip;
		}
	}
	return (int)o.len;
}

/* spf_macro_uses_p - does s hold %{p} (either case) */
bool
spf_macro_uses_p(const char *s, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (s[i] == '%' && s[i + 1] == '%') {
			i++;			/* "%%{p}" is literal text */
			continue;
		}
		if (s[i] == '%' && s[i + 1] == '{' && (s[i + 2] | 0x20) == 'p')
			return true;
	}
	return false;
}
