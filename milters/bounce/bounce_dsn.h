/*++
 * NAME
 *	bounce_dsn 3h
 * SUMMARY
 *	RFC 3464 message/delivery-status parser, RFC 3463 status codes
 * SYNOPSIS
 *	#include "bounce_dsn.h"
 * DESCRIPTION
 *	bounce_dsn_parse() reads the body of a message/delivery-status part
 *	(RFC 3464 section 2.1; also message/global-delivery-status, RFC
 *	6533), already transfer-decoded, as (pointer, length): blocks of
 *	header-like fields separated by empty lines. Fields of the first
 *	kind (Reporting-MTA, Original-Envelope-Id) fill the per-message part
 *	(section 2.2); every block with a recipient field (Final-Recipient,
 *	Original-Recipient, Action or Status) is one per-recipient block
 *	(section 2.3), kept in order, at most BOUNCE_MAX_RCPTS of them
 *	(nrcpt_seen counts them all). A block that mixes both, as some MTAs
 *	write when they omit the empty line, fills both. Unknown fields are
 *	ignored (extension fields, section 2.4).
 *
 *	Values are unfolded and cut to their arrays. Addresses lose their
 *	address type ("rfc822;") and angle brackets. Action is lowercased.
 *	Status is kept only when it is a valid RFC 3463 code (see below);
 *	anything after it (a comment) is dropped. Diagnostic-Code and
 *	Remote-MTA keep their type ("smtp; 550 5.1.1 ...").
 *
 *	Returns 0 when at least one recipient block was found, -1 with *why
 *	otherwise (the per-message fields are filled as far as found).
 *
 *	bounce_dsn_status() validates an RFC 3463 section 2 status code at
 *	the start of s: class 2, 4 or 5, a subject and a detail of one to
 *	three digits each, not followed by a digit or a dot. It copies the
 *	code to out and returns its length, or 0 when there is none.
 *
 *	bounce_dsn_find_status() finds the first such code in free text (a
 *	diagnostic, a bounce text): it must start a word ("550-5.1.1" and
 *	"550 5.1.1" both count, "1.5.1.1" does not).
 *
 *	bounce_dsn_addr() copies an address field value without its type,
 *	comments and angle brackets: "rfc822; <a@b.test>" -> "a@b.test".
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_DSN_H
#define POSTMILL_BOUNCE_DSN_H

#include <stddef.h>

#include "bounce_classify.h"

struct bounce_dsn_rcpt {
	char	final_recipient[321];
	char	original_recipient[321];
	char	action[16];
	char	status[16];
	char	diagnostic[512];
	char	remote_mta[256];
	char	category[32];		/* X-PowerMTA-BounceCategory */
};

struct bounce_dsn {
	char	reporting_mta[256];
	char	envelope_id[256];
	size_t	nrcpt;
	size_t	nrcpt_seen;
	struct bounce_dsn_rcpt rcpt[BOUNCE_MAX_RCPTS];
};

int	bounce_dsn_parse(const char *p, size_t len, struct bounce_dsn *out,
			 const char **why);
size_t	bounce_dsn_status(const char *s, size_t len, char *out, size_t cap);
size_t	bounce_dsn_find_status(const char *s, size_t len, char *out,
			       size_t cap);
size_t	bounce_dsn_addr(const char *v, char *out, size_t cap);

#endif
