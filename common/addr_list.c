/*++
 * NAME
 *	addr_list 3
 * SUMMARY
 *	addr_parse_mailbox_list(): From, Sender and Reply-To values
 * DESCRIPTION
 *	The parser is a loop over list elements (RFC 5322 §3.4, with the
 *	obsolete syntax of §4.4 and RFC 6854 groups): it reads the run of
 *	words and dots that starts an element, then decides by the token
 *	after it what the run was: a display name ("<"), a group name (":")
 *	or a local part ("@"). The parts of one mailbox are read by
 *	addr_mailbox.c; this file owns groups, separators, empty elements,
 *	the mailbox limit and the result list.
 *
 *	See addr.h for the contract. No state; the result is the caller's
 *	(addr_list_free()).
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "addr_priv.h"
#include "xalloc.h"

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
	addr_scan_phrase(p, &ph);
	t = addr_lex_peek(&p->lex);
	if (t->type == ADDR_TOK_ERROR) {
		p->why = p->lex.why;
		return ADDR_SYNTAX;
	}
	if (addr_tok_is(t, '<')) {
		if (ph.ntok > 0 && !ph.first_is_word) {
			p->why = "bad display name";
			return ADDR_SYNTAX;
		}
		(void)addr_lex_take(&p->lex);
		if (!addr_parse_angle(p, &local, &domain))
			return ADDR_SYNTAX;
		if (ph.ntok > 0)
			display = addr_build_display(p, &ph);
		return add_mailbox(p, local, domain, display);
	}
	if (addr_tok_is(t, ':')) {
		/* RFC 5322 §3.4: group-list holds mailboxes, not groups. */
		if (in_group) {
			p->why = "nested group";
			return ADDR_SYNTAX;
		}
		if (ph.ntok == 0 || !ph.first_is_word) {
			p->why = "group without name";
			return ADDR_SYNTAX;
		}
		(void)addr_lex_take(&p->lex);
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
	if (!addr_parse_addr_spec(p, &ph, &local, &domain))
		return ADDR_SYNTAX;
	return add_mailbox(p, local, domain, NULL);
}

/* expect_separator - after an element: ",", end, or ";" in a group */
static bool
expect_separator(struct addr_parser *p, bool in_group)
{
	const struct addr_tok *t = addr_lex_peek(&p->lex);

	if (t->type == ADDR_TOK_END || addr_tok_is(t, ',')
	    || (in_group && addr_tok_is(t, ';')))
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
		t = addr_lex_peek(&p.lex);
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
		if (addr_tok_is(t, ',')) {
			(void)addr_lex_take(&p.lex);
			ncomma++;
			continue;
		}
		if (in_group && addr_tok_is(t, ';')) {
			(void)addr_lex_take(&p.lex);
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
