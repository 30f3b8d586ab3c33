/*++
 * NAME
 *	addr 3
 * SUMMARY
 *	strict parsers for From-style header values and SMTP envelope paths
 * DESCRIPTION
 *	See addr.h for the contract. The parsers are split by concern
 *	around the private header addr_priv.h:
 *	- addr_lex.c: the lexer for header values (CFWS, comments, quoted
 *	  strings, domain literals) and the UTF-8 check both parsers use;
 *	- addr_domain.c: domain checks and normalization (LDH, address
 *	  literals, IDNA), addr_domain_normalize() and
 *	  addr_domain_is_subdomain();
 *	- addr_mailbox.c: one mailbox of a header value: local part,
 *	  domain, angle address with obs-route, display name;
 *	- addr_list.c: addr_parse_mailbox_list(), the address-list loop
 *	  (elements, groups, separators) that builds the result;
 *	- addr_path.c: addr_parse_path(), the RFC 5321 envelope path;
 *	- addr.c (this file): freeing results and naming a status.
 *
 *	Nothing here logs, keeps state or exits; all strings handed out are
 *	allocated with xalloc and owned by the caller (see addr.h).
 *--*/
#include <stddef.h>

#include "addr.h"
#include "xalloc.h"

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
