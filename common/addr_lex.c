/*++
 * NAME
 *	addr_lex 3
 * SUMMARY
 *	the lexer for RFC 5322 header values, and the UTF-8 check
 * DESCRIPTION
 *	Header values go through a small lexer that skips CFWS (comments
 *	are counted with a depth counter, never recursed into) and returns
 *	atoms, quoted strings, domain literals and single special characters.
 *	addr_lex_peek() looks at the next token, addr_lex_take() consumes
 *	it; addr_lex_save() and addr_lex_restore() let the parser lex a
 *	local part a second time (see addr_mailbox.c). A lexing error is
 *	sticky and leaves its reason in the lexer's why.
 *
 *	addr_utf8_valid() checks that a local part is well-formed UTF-8
 *	(RFC 6532 §3.2, RFC 6531 §3.3); both parsers use it.
 *
 *	Reads only the value it is given; no allocation, no state.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "addr_priv.h"

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

/* addr_utf8_valid - well-formed UTF-8: no overlongs, surrogates, > U+10FFFF */
bool
addr_utf8_valid(const unsigned char *s, size_t len)
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

/*
 * lex_text_byte - one unit of a comment's or a quoted string's text (the
 * same ctext/qtext rules, §3.2.2 and §3.2.4): a quoted-pair, folding, or
 * one byte; ctl and nul name the error for a control byte and for NUL
 */
static bool
lex_text_byte(struct addr_lex *lx, const char *ctl, const char *nul)
{
	unsigned char c = (unsigned char)lx->s[lx->pos];

	if (c == '\\')
		return lex_quoted_pair(lx);
	if (c == '\r' || c == '\n')
		return lex_fold(lx, false);
	if (is_ctl(c)) {
		lx->why = c ? ctl : nul;
		return false;
	}
	lx->pos++;
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
		} else if (!lex_text_byte(lx, "control character in comment",
					  "NUL in comment")) {
			return false;
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
		}
		if (!lex_text_byte(lx, "control character in quoted string",
				   "NUL in quoted string"))
			return false;
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

/* addr_lex_peek - the next token, without consuming it */
const struct addr_tok *
addr_lex_peek(struct addr_lex *lx)
{
	if (!lx->peeked) {
		lex_scan(lx);
		lx->peeked = true;
	}
	return &lx->tok;
}

/* addr_lex_take - consume the next token; returns a copy */
struct addr_tok
addr_lex_take(struct addr_lex *lx)
{
	struct addr_tok t = *addr_lex_peek(lx);

	/* Errors are sticky: never step past them. */
	if (t.type != ADDR_TOK_ERROR)
		lx->peeked = false;
	return t;
}

/* addr_lex_save - position to come back to, before any peeked token */
size_t
addr_lex_save(const struct addr_lex *lx)
{
	return lx->peeked ? lx->tok_from : lx->pos;
}

/* addr_lex_restore - go back to a saved position */
void
addr_lex_restore(struct addr_lex *lx, size_t pos)
{
	lx->pos = pos;
	lx->peeked = false;
}

/* addr_tok_is - token is the special character c */
bool
addr_tok_is(const struct addr_tok *t, char c)
{
	return t->type == ADDR_TOK_SPECIAL && t->c == c;
}
