/*++
 * NAME
 *	addr_priv 3h
 * SUMMARY
 *	what the files of the address parsers share (not for other modules)
 * SYNOPSIS
 *	#include "addr_priv.h"
 * DESCRIPTION
 *	Private to the files addr.c lists; everything else uses addr.h.
 *	The lexer's token and state, the header value parser's state and
 *	phrase, one prototype group per file, each named by its file.
 *--*/
#ifndef POSTMILL_ADDR_PRIV_H
#define POSTMILL_ADDR_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"

/* Raw (pre-IDNA) domain text we are willing to hand to libidn2. */
#define ADDR_DOMAIN_RAW_MAX	1024

/* The header value lexer (addr_lex.c). */
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

/* The header value parser (addr_list.c, addr_mailbox.c). */
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

/*
 * Character classes that both the lexer and addr_path.c need.
 */

/* is_atext - RFC 5322 §3.2.3 atext, plus UTF-8 octets (RFC 6532 §3.2) */
static inline bool
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c >= 0x80)
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* addr_lex.c */
bool addr_utf8_valid(const unsigned char *s, size_t len);
const struct addr_tok *addr_lex_peek(struct addr_lex *lx);
struct addr_tok addr_lex_take(struct addr_lex *lx);
size_t addr_lex_save(const struct addr_lex *lx);
void addr_lex_restore(struct addr_lex *lx, size_t pos);
bool addr_tok_is(const struct addr_tok *t, char c);

/* addr_mailbox.c */
void addr_scan_phrase(struct addr_parser *p, struct addr_phrase *ph);
char *addr_build_display(const struct addr_parser *p,
			 const struct addr_phrase *ph);
bool addr_parse_addr_spec(struct addr_parser *p,
			  const struct addr_phrase *ph,
			  char **local, char **domain);
bool addr_parse_angle(struct addr_parser *p, char **local, char **domain);

#endif
