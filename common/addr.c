/*++
 * NAME
 *	addr 3
 * SUMMARY
 *	strict parsers for From-style header values and SMTP envelope paths
 * DESCRIPTION
 *	See addr.h for the contract.
 *
 *	Header values go through a small lexer that skips CFWS (comments
 *	are counted with a depth counter, never recursed into) and returns
 *	atoms, quoted strings, domain literals and single special characters.
 *	The parser on top is a loop over list elements: it reads the run of
 *	words and dots that starts an element, then decides by the token
 *	after it what the run was: a display name ("<"), a group name (":")
 *	or a local part ("@"). A local part is then lexed a second time from
 *	the saved position to build its unquoted text, so the parser keeps
 *	no token array and its memory is bounded by the input length.
 *
 *	Envelope paths (RFC 5321) allow no CFWS at all and are scanned byte by
 *	byte by a separate, simpler function.
 *
 *	Nothing here logs, keeps state or exits; all strings handed out are
 *	allocated with xalloc and owned by the caller (see addr.h).
 *--*/
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "addr.h"
#include "xalloc.h"

/* Raw (pre-IDNA) domain text we are willing to hand to libidn2. */
#define ADDR_DOMAIN_RAW_MAX	1024

/* Longest literal body: "IPv6:" plus an IPv6 address with IPv4 tail. */
#define ADDR_LITERAL_MAX	64

enum addr_tok_type {
	ADDR_TOK_END,
	ADDR_TOK_ATOM,
	ADDR_TOK_QSTR,
	ADDR_TOK_LITERAL,
	ADDR_TOK_SPECIAL,		/* one of < > : ; @ , . */
	ADDR_TOK_ERROR,
};

struct addr_tok {
	enum addr_tok_type type;
	size_t	 start;			/* source span [start, end) */
	size_t	 end;
	char	 c;			/* the character of a special */
};

struct addr_lex {
	const char *s;
	size_t	 len;
	size_t	 pos;			/* next byte to lex */
	bool	 peeked;		/* tok holds the next token */
	size_t	 tok_from;		/* pos before tok was lexed */
	struct addr_tok tok;
	const char *why;		/* set with ADDR_TOK_ERROR */
};

struct addr_parser {
	struct addr_lex lex;
	struct addr_list *out;
	size_t	 cap;			/* allocated items */
	size_t	 max;			/* max mailboxes */
	const char *why;
};

/* A run of words and dots that starts a list element. */
struct addr_phrase {
	size_t	 save;			/* lexer position before it */
	size_t	 ntok;
	size_t	 start;			/* span of the first..last token */
	size_t	 end;
	bool	 first_is_word;		/* obs-phrase must start with a word */
	bool	 local_ok;		/* word *("." word), RFC 5322 §4.4 */
};

/* is_atext - RFC 5322 §3.2.3 atext, plus UTF-8 octets (RFC 6532 §3.2) */
static bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ctl - control characters other than HTAB; never allowed */
static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* is_wsp - SP or HTAB */
static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ascii_lower - lowercase one ASCII letter; locale independent */
static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ascii_caseeq_n - n bytes equal, ignoring ASCII case */
static bool
ascii_caseeq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* utf8_valid - well-formed UTF-8: no overlongs, surrogates, > U+10FFFF */
static bool
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/*
 * Lexer for header values.
 */

/* lex_fold - step over a line break at pos; it must be folding (§3.2.2) */
static bool
lex_fold(struct addr_lex *lx, bool at_end_ok)
{
	size_t n;

	if (lx->s[lx->pos] == '\n')
		n = 1;
	else if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '\n')
		n = 2;
	else {
		lx->why = "bare CR";
		return false;
	}
	lx->pos += n;
	if (lx->pos < lx->len && is_wsp((unsigned char)lx->s[lx->pos]))
		return true;
	/* The caller may have passed the field with its terminating CRLF. */
	if (lx->pos == lx->len && at_end_ok)
		return true;
	lx->why = "line break not followed by whitespace";
	return false;
}

/* lex_quoted_pair - check the quoted-pair at pos (§3.2.1) and skip it */
static bool
lex_quoted_pair(struct addr_lex *lx)
{
	unsigned char c;

	if (lx->pos + 1 >= lx->len) {
		lx->why = "backslash at end of value";
		return false;
	}
	c = (unsigned char)lx->s[lx->pos + 1];
	/* VCHAR / WSP, and UTF-8 (RFC 6532 §3.2); not obs-qp's CTLs. */
	if (!(c >= 0x21 && c != 0x7f) && !is_wsp(c)) {
		lx->why = "bad quoted-pair";
		return false;
	}
	lx->pos += 2;
	return true;
}

/* lex_comment - skip a comment, nested up to ADDR_COMMENT_DEPTH_MAX */
static bool
lex_comment(struct addr_lex *lx)
{
	unsigned depth = 0;

	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '(') {
			if (++depth > ADDR_COMMENT_DEPTH_MAX) {
				lx->why = "comments nested too deeply";
				return false;
			}
			lx->pos++;
		} else if (c == ')') {
			lx->pos++;
			if (--depth == 0)
				return true;
		} else if (c == '\\') {
			if (!lex_quoted_pair(lx))
				return false;
		} else if (c == '\r' || c == '\n') {
			if (!lex_fold(lx, false))
				return false;
		} else if (is_ctl(c)) {
			lx->why = c ? "control character in comment" :
			    "NUL in comment";
			return false;
		} else {
			lx->pos++;
		}
	}
	lx->why = "unterminated comment";
	return false;
}

/* lex_cfws - skip whitespace, folding and comments */
static bool
lex_cfws(struct addr_lex *lx)
{
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (is_wsp(c))
			lx->pos++;
		else if (c == '\r' || c == '\n') {
			if (!lex_fold(lx, true))
				return false;
		} else if (c == '(') {
			if (!lex_comment(lx))
				return false;
		} else
			return true;
	}
	return true;
}

/* lex_qstr - scan a quoted string (§3.2.4) starting at its '"' */
static bool
lex_qstr(struct addr_lex *lx)
{
	lx->pos++;
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == '"') {
			lx->pos++;
			return true;
		} else if (c == '\\') {
			if (!lex_quoted_pair(lx))
				return false;
		} else if (c == '\r' || c == '\n') {
			if (!lex_fold(lx, false))
				return false;
		} else if (is_ctl(c)) {
			lx->why = c ? "control character in quoted string" :
			    "NUL in quoted string";
			return false;
		} else {
			lx->pos++;
		}
	}
	lx->why = "unterminated quoted string";
	return false;
}

/*
 * lex_literal - scan a domain literal (§3.4.1) starting at its '['.
 * Only plain dtext: no FWS and no obsolete quoted-pairs inside, because
 * the only literals we accept are address literals (see addr.h).
 */
static bool
lex_literal(struct addr_lex *lx)
{
	lx->pos++;
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == ']') {
			lx->pos++;
			return true;
		}
		if (c < 33 || c > 126 || c == '[' || c == '\\') {
			lx->why = "bad character in domain literal";
			return false;
		}
		lx->pos++;
	}
	lx->why = "unterminated domain literal";
	return false;
}

/* lex_scan - lex the token at pos into lx->tok */
static void
lex_scan(struct addr_lex *lx)
{
	struct addr_tok *t = &lx->tok;
	unsigned char c;

	lx->tok_from = lx->pos;
	memset(t, 0, sizeof(*t));
	if (!lex_cfws(lx)) {
		t->type = ADDR_TOK_ERROR;
		return;
	}
	t->start = lx->pos;
	if (lx->pos >= lx->len) {
		t->type = ADDR_TOK_END;
		t->end = lx->pos;
		return;
	}
	c = (unsigned char)lx->s[lx->pos];
	if (is_atext(c)) {
		while (lx->pos < lx->len
		       && is_atext((unsigned char)lx->s[lx->pos]))
			lx->pos++;
		t->type = ADDR_TOK_ATOM;
	} else if (c == '"') {
		t->type = lex_qstr(lx) ? ADDR_TOK_QSTR : ADDR_TOK_ERROR;
	} else if (c == '[') {
		t->type = lex_literal(lx) ? ADDR_TOK_LITERAL : ADDR_TOK_ERROR;
	} else if (c != '\0' && strchr("<>:;@,.", c) != NULL) {
		t->type = ADDR_TOK_SPECIAL;
		t->c = (char)c;
		lx->pos++;
	} else {
		t->type = ADDR_TOK_ERROR;
		if (c == ')')
			lx->why = "unbalanced ')'";
		else if (c == ']')
			lx->why = "unbalanced ']'";
		else if (c == '\\')
			lx->why = "backslash outside quotes";
		else if (c == '\0')
			lx->why = "NUL in value";
		else
			lx->why = "control character in value";
	}
	t->end = lx->pos;
}

/* lex_peek - the next token, without consuming it */
static const struct addr_tok *
lex_peek(struct addr_lex *lx)
{
	if (!lx->peeked) {
		lex_scan(lx);
		lx->peeked = true;
	}
	return &lx->tok;
}

/* lex_take - consume the next token; returns a copy */
static struct addr_tok
lex_take(struct addr_lex *lx)
{
	struct addr_tok t = *lex_peek(lx);

	/* Errors are sticky: never step past them. */
	if (t.type != ADDR_TOK_ERROR)
		lx->peeked = false;
	return t;
}

/* lex_save - position to come back to, before any peeked token */
static size_t
lex_save(const struct addr_lex *lx)
{
	return lx->peeked ? lx->tok_from : lx->pos;
}

/* lex_restore - go back to a saved position */
static void
lex_restore(struct addr_lex *lx, size_t pos)
{
	lx->pos = pos;
	lx->peeked = false;
}

/* tok_is - token is the special character c */
static bool
tok_is(const struct addr_tok *t, char c)
{
	return t->type == ADDR_TOK_SPECIAL && t->c == c;
}

/*
 * Domains.
 */

/* domain_check_ldh - labels of letters, digits, hyphens (RFC 5321 §4.1.2) */
static const char *
domain_check_ldh(const char *d, size_t len)
{
	size_t i, label = 0;

	if (len > ADDR_DOMAIN_MAX)
		return "domain too long";
	for (i = 0; i < len; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			if (d[i - 1] == '-')
				return "label ends with hyphen";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		      || c == '-'))
			return "bad character in domain";
		if (c == '-' && label == 0)
			return "label starts with hyphen";
		if (++label > ADDR_LABEL_MAX)
			return "label too long";
	}
	if (label == 0)
		return "empty label in domain";
	if (d[len - 1] == '-')
		return "label ends with hyphen";
	return NULL;
}

/*
 * domain_literal - validate and lowercase "[IPv4]" or "[IPv6:addr]".
 * RFC 5321 §4.1.3 also has General-address-literal, but no other tag is
 * registered, so anything else is rejected.
 */
static char *
domain_literal(const char *d, size_t len, const char **why)
{
	char body[ADDR_LITERAL_MAX + 1];
	unsigned char bin[16];
	size_t blen, i;
	char *out;
	int ok;

	if (len < 3 || d[len - 1] != ']') {
		*why = "bad domain literal";
		return NULL;
	}
	blen = len - 2;
	if (blen > ADDR_LITERAL_MAX) {
		*why = "bad domain literal";
		return NULL;
	}
	for (i = 0; i < blen; i++)
		body[i] = ascii_lower(d[1 + i]);
	body[blen] = '\0';
	if (blen > 5 && memcmp(body, "ipv6:", 5) == 0)
		ok = inet_pton(AF_INET6, body + 5, bin);
	else
		ok = inet_pton(AF_INET, body, bin);
	if (ok != 1) {
		*why = "bad domain literal";
		return NULL;
	}
	out = xmalloc(blen + 3);
	out[0] = '[';
	memcpy(out + 1, body, blen);
	out[blen + 1] = ']';
	out[blen + 2] = '\0';
	return out;
}

/* addr_domain_normalize - lowercase A-label copy of a domain, or NULL */
char *
addr_domain_normalize(const char *domain, const char **why)
{
	const char *dummy;
	char *buf, *ace;
	size_t len, i;
	bool ascii = true;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (domain == NULL || *domain == '\0') {
		*why = "empty domain";
		return NULL;
	}
	len = strnlen(domain, ADDR_DOMAIN_RAW_MAX + 1);
	if (len > ADDR_DOMAIN_RAW_MAX) {
		*why = "domain too long";
		return NULL;
	}
	if (domain[0] == '[')
		return domain_literal(domain, len, why);

	buf = xstrndup(domain, len);
	/* A trailing dot is the absolute form of the same name. */
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	if (len == 0) {
		xfree(buf);
		*why = "empty domain";
		return NULL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x80)
			ascii = false;
	if (!ascii) {
		/* U-labels to A-labels; UTS #46 also lowercases. */
		rc = idn2_to_ascii_8z(buf, &ace, IDN2_NONTRANSITIONAL);
		xfree(buf);
		if (rc != IDN2_OK) {
			*why = "invalid international domain name";
			return NULL;
		}
		buf = xstrdup(ace);
		idn2_free(ace);
		len = strlen(buf);
		if (len == 0) {
			xfree(buf);
			*why = "empty domain";
			return NULL;
		}
	}
	for (i = 0; i < len; i++)
		buf[i] = ascii_lower(buf[i]);
	if ((*why = domain_check_ldh(buf, len)) != NULL)
		return xfree(buf);
	return buf;
}

/* addr_domain_is_subdomain - child is parent or below it, ASCII case-blind */
bool
addr_domain_is_subdomain(const char *child, const char *parent)
{
	size_t clen, plen;

	if (child == NULL || parent == NULL || *child == '\0'
	    || *parent == '\0')
		return false;
	clen = strlen(child);
	plen = strlen(parent);
	/* "[192.0.2.1]" must not be "below" "2.1]". */
	if (child[0] == '[' || parent[0] == '[')
		return clen == plen && ascii_caseeq_n(child, parent, clen);
	if (clen == plen)
		return ascii_caseeq_n(child, parent, clen);
	return clen > plen && child[clen - plen - 1] == '.'
	    && ascii_caseeq_n(child + clen - plen, parent, plen);
}

/*
 * Header values (RFC 5322 §3.4, §4.4).
 */

/* parse_domain - the domain after "@": dot-atom, obs-domain or literal */
static char *
parse_domain(struct addr_parser *p)
{
	char buf[ADDR_DOMAIN_RAW_MAX + 1];
	size_t n = 0, alen;
	struct addr_tok t;

	t = lex_take(&p->lex);
	if (t.type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return NULL;
	}
	if (t.type == ADDR_TOK_LITERAL) {
		alen = t.end - t.start;
		if (alen > ADDR_DOMAIN_RAW_MAX) {
			p->why = "bad domain literal";
			return NULL;
		}
		memcpy(buf, p->lex.s + t.start, alen);
		buf[alen] = '\0';
		return addr_domain_normalize(buf, &p->why);
	}
	if (t.type != ADDR_TOK_ATOM) {
		p->why = t.type == ADDR_TOK_QSTR ? "quoted string in domain" :
		    "empty domain";
		return NULL;
	}
	for (;;) {
		alen = t.end - t.start;
		if (alen > ADDR_DOMAIN_RAW_MAX - n) {
			p->why = "domain too long";
			return NULL;
		}
		memcpy(buf + n, p->lex.s + t.start, alen);
		n += alen;
		if (!tok_is(lex_peek(&p->lex), '.'))
			break;
		(void)lex_take(&p->lex);
		if (n >= ADDR_DOMAIN_RAW_MAX) {
			p->why = "domain too long";
			return NULL;
		}
		buf[n++] = '.';
		if (lex_peek(&p->lex)->type != ADDR_TOK_ATOM)
			break;		/* trailing dot, tolerated */
		t = lex_take(&p->lex);
	}
	if (lex_peek(&p->lex)->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return NULL;
	}
	buf[n] = '\0';
	return addr_domain_normalize(buf, &p->why);
}

/* scan_phrase - consume a run of words and dots, noting its shape */
static void
scan_phrase(struct addr_parser *p, struct addr_phrase *ph)
{
	const struct addr_tok *t;
	bool prev_word = false;

	memset(ph, 0, sizeof(*ph));
	ph->save = lex_save(&p->lex);
	ph->local_ok = true;
	for (;;) {
		t = lex_peek(&p->lex);
		if (t->type == ADDR_TOK_ATOM || t->type == ADDR_TOK_QSTR) {
			if (prev_word)
				ph->local_ok = false;	/* "a b@c" */
			prev_word = true;
		} else if (tok_is(t, '.')) {
			if (!prev_word)
				ph->local_ok = false;	/* ".a", "a..b" */
			prev_word = false;
		} else {
			break;
		}
		if (ph->ntok == 0) {
			ph->start = t->start;
			ph->first_is_word = prev_word;
		}
		ph->end = t->end;
		ph->ntok++;
		(void)lex_take(&p->lex);
	}
	if (ph->ntok == 0 || !prev_word)
		ph->local_ok = false;			/* "a.@b" */
}

/* copy_unquoted - append a quoted string's content, unescaped, unfolded */
static size_t
copy_unquoted(char *dst, const char *s, size_t start, size_t end)
{
	size_t i, n = 0;

	/* The lexer validated it: quoted-pairs are complete. */
	for (i = start + 1; i + 1 < end; i++) {
		if (s[i] == '\\')
			dst[n++] = s[++i];
		else if (s[i] != '\r' && s[i] != '\n')
			dst[n++] = s[i];
	}
	return n;
}

/* build_local - re-lex a phrase that is a local part into its text */
static char *
build_local(struct addr_parser *p, const struct addr_phrase *ph)
{
	struct addr_tok t;
	size_t i, n = 0;
	char *local;

	local = xmalloc(ph->end - ph->start + 1);
	lex_restore(&p->lex, ph->save);
	for (i = 0; i < ph->ntok; i++) {
		t = lex_take(&p->lex);
		if (t.type == ADDR_TOK_ATOM) {
			memcpy(local + n, p->lex.s + t.start, t.end - t.start);
			n += t.end - t.start;
		} else if (t.type == ADDR_TOK_QSTR) {
			n += copy_unquoted(local + n, p->lex.s, t.start, t.end);
		} else {
			local[n++] = '.';
		}
	}
	local[n] = '\0';
	if (n == 0)
		p->why = "empty local part";
	else if (n > ADDR_LOCAL_MAX)
		p->why = "local part too long";
	else if (!utf8_valid((const unsigned char *)local, n))
		p->why = "invalid UTF-8 in local part";
	else
		return local;
	return xfree(local);
}

/* build_display - the display name as written, minus folding CR/LF */
static char *
build_display(const struct addr_parser *p, const struct addr_phrase *ph)
{
	char *d = xmalloc(ph->end - ph->start + 1);
	size_t i, n = 0;

	for (i = ph->start; i < ph->end; i++)
		if (p->lex.s[i] != '\r' && p->lex.s[i] != '\n')
			d[n++] = p->lex.s[i];
	d[n] = '\0';
	return d;
}

/* add_mailbox - append to the result, taking ownership of the strings */
static enum addr_status
add_mailbox(struct addr_parser *p, char *local, char *domain, char *display)
{
	struct addr_list *l = p->out;

	if (l->count >= p->max) {
		xfree(local);
		xfree(domain);
		xfree(display);
		p->why = "too many mailboxes";
		return ADDR_TOO_MANY;
	}
	if (l->count == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 2;
		if (p->cap > p->max)
			p->cap = p->max;
		l->items = xrealloc(l->items, p->cap * sizeof(*l->items));
	}
	l->items[l->count].local = local;
	l->items[l->count].domain = domain;
	l->items[l->count].display = display;
	l->count++;
	return ADDR_OK;
}

/* parse_addr_spec - local "@" domain; the local part is already scanned */
static bool
parse_addr_spec(struct addr_parser *p, const struct addr_phrase *ph,
		char **local, char **domain)
{
	const struct addr_tok *t = lex_peek(&p->lex);

	*local = *domain = NULL;
	if (t->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return false;
	}
	if (!tok_is(t, '@')) {
		p->why = ph->ntok ? "missing @" : "empty address";
		return false;
	}
	if (ph->ntok == 0) {
		p->why = "empty local part";
		return false;
	}
	if (!ph->local_ok) {
		p->why = "bad local part";
		return false;
	}
	if ((*local = build_local(p, ph)) == NULL)
		return false;
	(void)lex_take(&p->lex);			/* "@" */
	if ((*domain = parse_domain(p)) == NULL) {
		*local = xfree(*local);
		return false;
	}
	return true;
}

/*
 * parse_route - obs-route in an angle address (§4.4), "@a,@b:". The
 * route is checked and thrown away, as RFC 5321 §C tells receivers to.
 */
static bool
parse_route(struct addr_parser *p)
{
	char *dom;

	while (tok_is(lex_peek(&p->lex), ','))
		(void)lex_take(&p->lex);
	for (;;) {
		if (!tok_is(lex_peek(&p->lex), '@')) {
			p->why = lex_peek(&p->lex)->type == ADDR_TOK_ERROR ?
			    p->lex.why : "bad route";
			return false;
		}
		(void)lex_take(&p->lex);
		if ((dom = parse_domain(p)) == NULL)
			return false;
		xfree(dom);
		/* *("," [CFWS] ["@" domain]): a comma before each "@" */
		if (tok_is(lex_peek(&p->lex), ':')) {
			(void)lex_take(&p->lex);
			return true;
		}
		if (!tok_is(lex_peek(&p->lex), ',')) {
			p->why = lex_peek(&p->lex)->type == ADDR_TOK_ERROR ?
			    p->lex.why : "bad route";
			return false;
		}
		while (tok_is(lex_peek(&p->lex), ','))
			(void)lex_take(&p->lex);
		if (tok_is(lex_peek(&p->lex), ':')) {
			(void)lex_take(&p->lex);
			return true;
		}
	}
}

/* parse_angle - "<" [obs-route] addr-spec ">", after the "<" */
static bool
parse_angle(struct addr_parser *p, char **local, char **domain)
{
	const struct addr_tok *t = lex_peek(&p->lex);
	struct addr_phrase ph;

	*local = *domain = NULL;
	if (tok_is(t, '>')) {
		p->why = "empty angle address";
		return false;
	}
	if ((tok_is(t, '@') || tok_is(t, ',')) && !parse_route(p))
		return false;
	scan_phrase(p, &ph);
	if (!parse_addr_spec(p, &ph, local, domain))
		return false;
	t = lex_peek(&p->lex);
	if (tok_is(t, '>')) {
		(void)lex_take(&p->lex);
		return true;
	}
	p->why = t->type == ADDR_TOK_ERROR ? p->lex.why : "missing '>'";
	*local = xfree(*local);
	*domain = xfree(*domain);
	return false;
}

/*
 * unexpected - reason for a special that cannot start a list element.
 * "<" and ":" start elements, "," and "." never get here.
 */
static const char *
unexpected(const struct addr_tok *t)
{
	if (t->c == '@')
		return "empty local part";
	return t->c == ';' ? "unexpected ';'" : "unexpected '>'";
}

/*
 * parse_element - one mailbox, or the start of a group. On a group
 * start *group is set and no separator check is due yet.
 */
static enum addr_status
parse_element(struct addr_parser *p, bool in_group, bool *group)
{
	struct addr_phrase ph;
	const struct addr_tok *t;
	char *local, *domain, *display = NULL;

	*group = false;
	scan_phrase(p, &ph);
	t = lex_peek(&p->lex);
	if (t->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return ADDR_SYNTAX;
	}
	if (tok_is(t, '<')) {
		if (ph.ntok > 0 && !ph.first_is_word) {
			p->why = "bad display name";
			return ADDR_SYNTAX;
		}
		(void)lex_take(&p->lex);
		if (!parse_angle(p, &local, &domain))
			return ADDR_SYNTAX;
		if (ph.ntok > 0)
			display = build_display(p, &ph);
		return add_mailbox(p, local, domain, display);
	}
	if (tok_is(t, ':')) {
		/* RFC 5322 §3.4: group-list holds mailboxes, not groups. */
		if (in_group) {
			p->why = "nested group";
			return ADDR_SYNTAX;
		}
		if (ph.ntok == 0 || !ph.first_is_word) {
			p->why = "group without name";
			return ADDR_SYNTAX;
		}
		(void)lex_take(&p->lex);
		*group = true;
		return ADDR_OK;
	}
	if (ph.ntok == 0 && t->type == ADDR_TOK_SPECIAL) {
		p->why = unexpected(t);
		return ADDR_SYNTAX;
	}
	if (ph.ntok == 0 && t->type == ADDR_TOK_LITERAL) {
		p->why = "unexpected domain literal";
		return ADDR_SYNTAX;
	}
	if (!parse_addr_spec(p, &ph, &local, &domain))
		return ADDR_SYNTAX;
	return add_mailbox(p, local, domain, NULL);
}

/* expect_separator - after an element: ",", end, or ";" in a group */
static bool
expect_separator(struct addr_parser *p, bool in_group)
{
	const struct addr_tok *t = lex_peek(&p->lex);

	if (t->type == ADDR_TOK_END || tok_is(t, ',')
	    || (in_group && tok_is(t, ';')))
		return true;
	p->why = t->type == ADDR_TOK_ERROR ? p->lex.why :
	    "expected ',' after address";
	return false;
}

/* addr_parse_mailbox_list - parse a From/Sender/Reply-To value */
enum addr_status
addr_parse_mailbox_list(const char *value, size_t len, size_t max_mailboxes,
			struct addr_list *out, const char **why)
{
	struct addr_parser p;
	const struct addr_tok *t;
	enum addr_status st = ADDR_OK;
	size_t naddr = 0, ncomma = 0;
	bool in_group = false, group;

	out->items = NULL;
	out->count = 0;
	memset(&p, 0, sizeof(p));
	p.out = out;
	p.max = max_mailboxes;
	if (p.max == 0 || p.max > ADDR_MAILBOXES_MAX)
		p.max = ADDR_MAILBOXES_MAX;
	p.lex.s = value;
	p.lex.len = value ? len : 0;

	if (p.lex.len > ADDR_VALUE_MAX) {
		p.why = "header value too long";
		st = ADDR_SYNTAX;
		goto done;
	}
	for (;;) {
		t = lex_peek(&p.lex);
		if (t->type == ADDR_TOK_ERROR) {
			p.why = p.lex.why;
			st = ADDR_SYNTAX;
			break;
		}
		if (t->type == ADDR_TOK_END) {
			if (in_group) {
				p.why = "unterminated group";
				st = ADDR_SYNTAX;
			}
			break;
		}
		/* obs-addr-list allows empty elements: "a@b, , c@d". */
		if (tok_is(t, ',')) {
			(void)lex_take(&p.lex);
			ncomma++;
			continue;
		}
		if (in_group && tok_is(t, ';')) {
			(void)lex_take(&p.lex);
			in_group = false;
		} else {
			st = parse_element(&p, in_group, &group);
			if (st != ADDR_OK)
				break;
			naddr++;
			if (group) {
				in_group = true;
				continue;
			}
		}
		if (!expect_separator(&p, in_group)) {
			st = ADDR_SYNTAX;
			break;
		}
	}
	if (st == ADDR_OK && out->count == 0) {
		/* ",,," is not an address-list; "" and "Group: ;" are empty. */
		if (naddr == 0 && ncomma > 0) {
			p.why = "no address in list";
			st = ADDR_SYNTAX;
		} else {
			st = ADDR_EMPTY;
		}
	}
done:
	if (st != ADDR_OK)
		addr_list_free(out);
	if (st != ADDR_SYNTAX && st != ADDR_TOO_MANY)
		p.why = NULL;
	if (why != NULL)
		*why = p.why;
	return st;
}

/* addr_mailbox_free - free the strings of one mailbox and clear it */
void
addr_mailbox_free(struct addr_mailbox *m)
{
	if (m == NULL)
		return;
	m->local = xfree(m->local);
	m->domain = xfree(m->domain);
	m->display = xfree(m->display);
}

/* addr_list_free - free every mailbox; the list struct is the caller's */
void
addr_list_free(struct addr_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++)
		addr_mailbox_free(&list->items[i]);
	list->items = xfree(list->items);
	list->count = 0;
}

/*
 * Envelope paths (RFC 5321 §4.1.2).
 */

/* path_domain - normalize s[start, end) as a Domain or address literal */
static char *
path_domain(const char *s, size_t start, size_t end, const char **why)
{
	char *raw, *dom;

	if (start == end) {
		*why = "empty domain";
		return NULL;
	}
	if (end - start > ADDR_DOMAIN_RAW_MAX) {
		*why = "domain too long";
		return NULL;
	}
	raw = xstrndup(s + start, end - start);
	dom = addr_domain_normalize(raw, why);
	xfree(raw);
	return dom;
}

/* path_route - skip A-d-l ":" (RFC 5321 §4.1.2), checking each domain */
static bool
path_route(const char *s, size_t *pos, size_t end, const char **why)
{
	size_t p = *pos, q;
	char *dom;

	for (;;) {
		if (p >= end || s[p] != '@') {
			*why = "bad source route";
			return false;
		}
		for (q = p + 1; q < end && s[q] != ',' && s[q] != ':'; q++)
			;
		if (q == end) {
			*why = "unterminated source route";
			return false;
		}
		if ((dom = path_domain(s, p + 1, q, why)) == NULL)
			return false;
		xfree(dom);
		p = q + 1;
		if (s[q] == ':') {
			*pos = p;
			return true;
		}
	}
}

/* path_local - Dot-string or Quoted-string, up to the "@" */
static char *
path_local(const char *s, size_t *pos, size_t end, const char **why)
{
	size_t p = *pos, n = 0;
	unsigned char c;
	char *local;
	bool dot = true;		/* at start, as after a dot */

	local = xmalloc(end - p + 1);
	if (p < end && s[p] == '"') {
		/* qtextSMTP / quoted-pairSMTP, RFC 6531 §3.3 for UTF-8 */
		for (p++; p < end && s[p] != '"'; p++) {
			c = (unsigned char)s[p];
			if (c == '\\') {
				if (p + 1 >= end || (unsigned char)s[p + 1] < 32
				    || (unsigned char)s[p + 1] > 126) {
					*why = "bad quoted-pair";
					return xfree(local);
				}
				c = (unsigned char)s[++p];
			}
			/* Controls were rejected by the caller. */
			local[n++] = (char)c;
		}
		if (p >= end) {
			*why = "unterminated quoted string";
			return xfree(local);
		}
		p++;
	} else {
		for (; p < end && s[p] != '@'; p++) {
			c = (unsigned char)s[p];
			if (c == '.') {
				if (dot) {
					*why = "bad local part";
					return xfree(local);
				}
				dot = true;
			} else if (is_atext(c)) {
				dot = false;
			} else {
				*why = "bad character in local part";
				return xfree(local);
			}
			local[n++] = (char)c;
		}
		if (n > 0 && dot) {
			*why = "bad local part";
			return xfree(local);
		}
	}
	local[n] = '\0';
	if (p >= end || s[p] != '@')
		*why = p >= end ? "missing @" : "bad local part";
	else if (n == 0)
		*why = "empty local part";
	else if (n > ADDR_LOCAL_MAX)
		*why = "local part too long";
	else if (!utf8_valid((const unsigned char *)local, n))
		*why = "invalid UTF-8 in local part";
	else {
		*pos = p + 1;
		return local;
	}
	return xfree(local);
}

/* addr_parse_path - parse a MAIL FROM / RCPT TO path */
enum addr_status
addr_parse_path(const char *path, size_t len, struct addr_mailbox *out,
		bool *is_null, const char **why)
{
	const char *dummy;
	size_t i, p = 0, end = len;
	bool bracket = false;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	*is_null = false;
	if (path == NULL || len == 0)
		return ADDR_EMPTY;
	if (len > ADDR_PATH_MAX) {
		*why = "path too long";
		return ADDR_SYNTAX;
	}
	/* No CFWS in RFC 5321, and no controls in any part of a path. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 32 || c == 127) {
			*why = c ? "control character in path" : "NUL in path";
			return ADDR_SYNTAX;
		}
	}
	if (path[0] == '<') {
		if (len < 2 || path[len - 1] != '>') {
			*why = "missing '>'";
			return ADDR_SYNTAX;
		}
		bracket = true;
		p = 1;
		end = len - 1;
		if (p == end) {
			*is_null = true;
			return ADDR_OK;
		}
	}
	if (path[p] == '@') {
		if (!bracket) {
			*why = "source route without brackets";
			return ADDR_SYNTAX;
		}
		if (!path_route(path, &p, end, why))
			return ADDR_SYNTAX;
	}
	if ((out->local = path_local(path, &p, end, why)) == NULL)
		return ADDR_SYNTAX;
	if ((out->domain = path_domain(path, p, end, why)) == NULL) {
		addr_mailbox_free(out);
		return ADDR_SYNTAX;
	}
	return ADDR_OK;
}

/* addr_status_str - name of a status, for logs and test messages */
const char *
addr_status_str(enum addr_status status)
{
	switch (status) {
	case ADDR_OK:
		return "ok";
	case ADDR_EMPTY:
		return "empty";
	case ADDR_SYNTAX:
		return "syntax";
	case ADDR_TOO_MANY:
		return "too many";
	}
	return "unknown";
}
