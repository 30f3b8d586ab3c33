/*++
 * NAME
 *	auth_from 3
 * SUMMARY
 *	the one From address DMARC evaluates
 * DESCRIPTION
 *	See auth_from.h. The parsing itself is addr_parse_mailbox_list().
 *--*/
#include <stdio.h>
#include <string.h>

#include "auth_from.h"

/* auth_from_extract - see auth_from.h */
enum auth_from_status
auth_from_extract(const struct auth_from_field *fields, size_t nfields,
		  struct auth_from *out, const char **why)
{
	struct addr_list list;
	enum addr_status st;
	enum auth_from_status res;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	out->domain[0] = '\0';
	if (nfields == 0)
		return AUTH_FROM_NONE;
	if (nfields > 1) {
		*why = "several From fields";
		return AUTH_FROM_FIELDS;
	}
	/* a limit of 2: the second mailbox is enough to refuse */
	st = addr_parse_mailbox_list(fields[0].value, fields[0].len, 2, &list, why);
	switch (st) {
	case ADDR_EMPTY:
		return AUTH_FROM_NONE;
	case ADDR_TOO_MANY:
		*why = "several From addresses";
		return AUTH_FROM_ADDRESSES;
	case ADDR_SYNTAX:
		return AUTH_FROM_MALFORMED;
	case ADDR_OK:
		break;
	}
	if (list.count != 1) {
		*why = "several From addresses";
		res = AUTH_FROM_ADDRESSES;
	} else if (list.items[0].domain[0] == '[') {
		*why = "address literal in From";
		res = AUTH_FROM_MALFORMED;
	} else {
		snprintf(out->domain, sizeof(out->domain), "%s", list.items[0].domain);
		res = AUTH_FROM_OK;
	}
	addr_list_free(&list);
	return res;
}

/* auth_from_status_str - the word logged */
const char *
auth_from_status_str(enum auth_from_status status)
{
	switch (status) {
	case AUTH_FROM_OK: return "ok";
	case AUTH_FROM_NONE: return "no_from";
	case AUTH_FROM_FIELDS: return "multiple_from_fields";
	case AUTH_FROM_ADDRESSES: return "multiple_from_addresses";
	case AUTH_FROM_MALFORMED: return "malformed_from";
	}
	return "unknown";
}
