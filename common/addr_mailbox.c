/*++
 * NAME
 *	addr_mailbox 3
 * SUMMARY
 *	one mailbox of an RFC 5322 header value
 * DESCRIPTION
 *	The parts of one list element that addr_list.c finds (RFC 5322
 *	§3.4, §4.4): addr_scan_phrase() consumes the run of words and dots
 *	that starts an element and notes its shape; addr_parse_addr_spec()
 *	reads local "@" domain once the run turned out to be a local part;
 *	addr_parse_angle() reads an angle address, obs-route included;
 *	addr_build_display() copies a display name as written.
 *
 *	A local part is lexed a second time from the saved position to
 *	build its unquoted text, so the parser keeps no token array and its
 *	memory is bounded by the input length.
 *
 *	Errors set the parser's why. Strings returned are the caller's
 *	(xalloc); on failure nothing is left allocated.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "addr_priv.h"
#include "xalloc.h"

/* parse_domain - the domain after "@": dot-atom, obs-domain or literal */
static char *
parse_domain(struct addr_parser *p)
{
	char buf[ADDR_DOMAIN_RAW_MAX + 1];
	size_t n = 0, alen;
	struct addr_tok t;

	t = addr_lex_take(&p->lex);
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
		if (!addr_tok_is(addr_lex_peek(&p->lex), '.'))
			break;
		(void)addr_lex_take(&p->lex);
		if (n >= ADDR_DOMAIN_RAW_MAX) {
			p->why = "domain too long";
			return NULL;
		}
		buf[n++] = '.';
		if (addr_lex_peek(&p->lex)->type != ADDR_TOK_ATOM)
			break;		/* trailing dot, tolerated */
		t = addr_lex_take(&p->lex);
	}
	if (addr_lex_peek(&p->lex)->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return NULL;
	}
	buf[n] = '\0';
	return addr_domain_normalize(buf, &p->why);
}

/* addr_scan_phrase - consume a run of words and dots, noting its shape */
void
addr_scan_phrase(struct addr_parser *p, struct addr_phrase *ph)
{
	const struct addr_tok *t;
	bool prev_word = false;

	memset(ph, 0, sizeof(*ph));
	ph->save = addr_lex_save(&p->lex);
	ph->local_ok = true;
	for (;;) {
		t = addr_lex_peek(&p->lex);
		if (t->type == ADDR_TOK_ATOM || t->type == ADDR_TOK_QSTR) {
			if (prev_word)
				ph->local_ok = false;	/* "a b@c" */
			prev_word = true;
		} else if (addr_tok_is(t, '.')) {
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
		(void)addr_lex_take(&p->lex);
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
	addr_lex_restore(&p->lex, ph->save);
	for (i = 0; i < ph->ntok; i++) {
		t = addr_lex_take(&p->lex);
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
	else if (!addr_utf8_valid((const unsigned char *)local, n))
		p->why = "invalid UTF-8 in local part";
	else
		return local;
	return xfree(local);
}

/* addr_build_display - the display name as written, minus folding CR/LF */
char *
addr_build_display(const struct addr_parser *p, const struct addr_phrase *ph)
{
	char *d = xmalloc(ph->end - ph->start + 1);
	size_t i, n = 0;

	for (i = ph->start; i < ph->end; i++)
		if (p->lex.s[i] != '\r' && p->lex.s[i] != '\n')
			d[n++] = p->lex.s[i];
	d[n] = '\0';
	return d;
}

/* addr_parse_addr_spec - local "@" domain; the local part is scanned */
bool
addr_parse_addr_spec(struct addr_parser *p, const struct addr_phrase *ph,
		char **local, char **domain)
{
	const struct addr_tok *t = addr_lex_peek(&p->lex);

	*local = *domain = NULL;
	if (t->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return false;
	}
	if (!addr_tok_is(t, '@')) {
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
	(void)addr_lex_take(&p->lex);			/* "@" */
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

	while (addr_tok_is(addr_lex_peek(&p->lex), ','))
		(void)addr_lex_take(&p->lex);
	for (;;) {
		if (!addr_tok_is(addr_lex_peek(&p->lex), '@')) {
			p->why = addr_lex_peek(&p->lex)->type ==
			    ADDR_TOK_ERROR ? p->lex.why : "bad route";
			return false;
		}
		(void)addr_lex_take(&p->lex);
		if ((dom = parse_domain(p)) == NULL)
			return false;
		xfree(dom);
		/* *("," [CFWS] ["@" domain]): a comma before each "@" */
		if (addr_tok_is(addr_lex_peek(&p->lex), ':')) {
			(void)addr_lex_take(&p->lex);
			return true;
		}
		if (!addr_tok_is(addr_lex_peek(&p->lex), ',')) {
			p->why = addr_lex_peek(&p->lex)->type ==
			    ADDR_TOK_ERROR ? p->lex.why : "bad route";
			return false;
		}
		while (addr_tok_is(addr_lex_peek(&p->lex), ','))
			(void)addr_lex_take(&p->lex);
		if (addr_tok_is(addr_lex_peek(&p->lex), ':')) {
			(void)addr_lex_take(&p->lex);
			return true;
		}
	}
}

/* addr_parse_angle - "<" [obs-route] addr-spec ">", after the "<" */
bool
addr_parse_angle(struct addr_parser *p, char **local, char **domain)
{
	const struct addr_tok *t = addr_lex_peek(&p->lex);
	struct addr_phrase ph;

	*local = *domain = NULL;
	if (addr_tok_is(t, '>')) {
		p->why = "empty angle address";
		return false;
	}
	if ((addr_tok_is(t, '@') || addr_tok_is(t, ',')) && !parse_route(p))
		return false;
	addr_scan_phrase(p, &ph);
	if (!addr_parse_addr_spec(p, &ph, local, domain))
		return false;
	t = addr_lex_peek(&p->lex);
	if (addr_tok_is(t, '>')) {
		(void)addr_lex_take(&p->lex);
		return true;
	}
	p->why = t->type == ADDR_TOK_ERROR ? p->lex.why : "missing '>'";
	*local = xfree(*local);
	*domain = xfree(*domain);
	return false;
}
