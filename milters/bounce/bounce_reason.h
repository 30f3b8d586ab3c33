/*++
 * NAME
 *	bounce_reason 3h
 * SUMMARY
 *	what the receiver said -> reason and class
 * SYNOPSIS
 *	#include "bounce_reason.h"
 * DESCRIPTION
 *	bounce_reason_from_text() matches free text (a Diagnostic-Code, the
 *	lines of a bounce text) against one ordered table of (pattern,
 *	reason) rows, in bounce_reason.c. The first row that matches wins,
 *	so specific phrases come before general ones. Matching is
 *	case-insensitive (ASCII), a pattern must start a word (the character
 *	before it is not a letter or digit: "rbl" does not match "verbly"),
 *	and a space in a pattern matches any run of white space, line
 *	breaks included, since texts are wrapped anywhere. Only the first
 *	BOUNCE_REASON_TEXT_MAX bytes are read. It returns the reason and sets
 *	*row to the matching row index, or returns BOUNCE_REASON_OTHER with
 *	*row = -1. To extend the table add a row in its group; the unit test
 *	checks that every row matches its own pattern.
 *
 *	bounce_reason_from_status() maps an RFC 3463 code ("5.1.1") to a
 *	reason by its subject and detail (section 3), for when the text says
 *	nothing specific; an empty or unknown code gives other.
 *
 *	bounce_reason_decide() is the whole rule for one recipient: the text
 *	(its diagnostic) when a row matches, else the fallback text (the
 *	whole notification, when it speaks of this recipient alone; may be
 *	NULL) when a row matches, else the status code; then a failure whose status
 *	is temporary (4.x.x with Action failed: the MTA gave up after its
 *	queue lifetime) and whose reason says nothing more specific than
 *	other, network_error or system_error becomes expired.
 *
 *	bounce_reason_decide_ctx() is the same knowing who spoke (ctx, may
 *	be NULL): the reporting MTA (bounce_mta.h) and the recipient and
 *	Remote-MTA, whose domains select a provider's facts; a caller that
 *	knows neither calls bounce_reason_decide(). When in->cmd is none,
 *	the command is read from the diagnostic (bounce_smtp_command()).
 *
 *	"User unknown" is the address's verdict only where the address was
 *	looked up: at RCPT TO (RFC 5321 3.3), or where the status names the
 *	mailbox (X.1.x), the phrase is a single MTA's own (rows marked
 *	definite), the reporting MTA says so in its own words (ctx->mta,
 *	bounce_mta.h) or the receiving provider does (ctx->rcpt,
 *	ctx->remote_mta, bounce_provider_rcpt()). Refused after DATA, or at a stage the
 *	report does not name, the same words may be a filter's (Japanese
 *	carriers answer "550 User unknown" after DATA to a sender the
 *	recipient's filter refuses): policy_rejected, soft, nothing
 *	suppressed on words that do not say which.
 *
 *	bounce_class_of() gives the class of a recipient from its reason and
 *	action: delivered, relayed, expanded and delayed are none; a failure
 *	is hard for user_unknown and domain_unknown and soft otherwise
 *	(issue 9: the class is about the address).
 *
 *	bounce_reason_find() is the matcher alone: the first place where
 *	pattern (lowercase) matches as above; 1 with its bounds, or 0. A
 *	pattern that starts with a punctuation character need not start a
 *	word.
 *
 *	bounce_reason_rows() exposes the table (for tests and documentation).
 * THREAD SAFETY
 *	Reentrant; the table is constant.
 *--*/
#ifndef POSTMILL_BOUNCE_REASON_H
#define POSTMILL_BOUNCE_REASON_H

#include <stddef.h>

#include "bounce_classify.h"

#define BOUNCE_REASON_TEXT_MAX	(64 * 1024)

struct bounce_reason_row {
	const char *pattern;		/* lowercase ASCII */
	enum bounce_reason reason;
	const char *src;		/* who says it this way */
	int	definite;		/* not a filter's words even after DATA */
};

enum bounce_reason bounce_reason_from_text(const char *s, size_t len,
					   int *row);
enum bounce_reason bounce_reason_from_status(const char *status);
struct bounce_reason_in {
	const char *diag;		/* the recipient's diagnostic, or NULL */
	size_t	dlen;
	const char *text;		/* fallback text, or NULL */
	size_t	tlen;
	const char *status;		/* RFC 3463 code, "" when unknown */
	const char *action;		/* RFC 3464 action, lowercase */
	int	cmd;			/* enum bounce_smtp_cmd */
};

/* who spoke: the reporter and the receiver (all may be NULL/unknown) */
struct bounce_reason_ctx {
	const char *rcpt;		/* the recipient */
	const char *remote_mta;		/* RFC 3464 Remote-MTA */
	int	mta;			/* enum bounce_mta: the reporter */
};

enum bounce_reason bounce_reason_decide(const struct bounce_reason_in *in,
					char *why, size_t whycap);
enum bounce_reason bounce_reason_decide_ctx(const struct bounce_reason_in *in,
					    const struct bounce_reason_ctx *ctx,
					    char *why, size_t whycap);
enum bounce_class bounce_class_of(enum bounce_reason reason,
				  const char *action, const char *status);
int	bounce_reason_find(const char *text, size_t len, const char *pat,
			   size_t *start, size_t *end);
const struct bounce_reason_row *bounce_reason_rows(size_t *n);

#endif
