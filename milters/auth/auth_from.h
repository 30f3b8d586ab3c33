/*++
 * NAME
 *	auth_from 3h
 * SUMMARY
 *	the one From address DMARC evaluates
 * SYNOPSIS
 *	#include "auth_from.h"
 * DESCRIPTION
 *	auth_from_extract() takes the values of every From header field of
 *	a message (nfields of them, each untrusted text with its length,
 *	not NUL-terminated) and finds the Author Domain: RFC 9989 (as RFC
 *	7489 section 6.6.1 before it) applies DMARC to exactly one address.
 *	The address parser is common/addr.c (RFC 5322 with groups, comments
 *	and the obsolete syntax); this module only decides what DMARC makes
 *	of its result:
 *	AUTH_FROM_OK		one field, one mailbox (a group holding one
 *				mailbox counts: RFC 6854); out->domain set;
 *	AUTH_FROM_NONE		no From field, or one with no mailbox at all
 *				("Undisclosed:;", only CFWS);
 *	AUTH_FROM_FIELDS	more than one From field (RFC 5322 3.6
 *				allows one);
 *	AUTH_FROM_ADDRESSES	more than one mailbox in the field;
 *	AUTH_FROM_MALFORMED	the value does not parse (*why says why), or
 *				the domain is an address literal, which has
 *				no DMARC record.
 *	The caller maps every status but OK to the configured reply.
 *	auth_from_status_str() names a status for log lines.
 * THREAD SAFETY
 *	Reentrant; no state.
 *--*/
#ifndef POSTMILL_AUTH_FROM_H
#define POSTMILL_AUTH_FROM_H

#include <stddef.h>

#include "addr.h"

enum auth_from_status {
	AUTH_FROM_OK,
	AUTH_FROM_NONE,
	AUTH_FROM_FIELDS,
	AUTH_FROM_ADDRESSES,
	AUTH_FROM_MALFORMED,
};

struct auth_from_field {
	const char	*value;
	size_t		 len;
};

struct auth_from {
	char	domain[ADDR_DOMAIN_MAX + 1];	/* lowercase A-labels */
};

enum auth_from_status auth_from_extract(const struct auth_from_field *fields,
					size_t nfields, struct auth_from *out,
					const char **why);
const char *auth_from_status_str(enum auth_from_status status);

#endif
