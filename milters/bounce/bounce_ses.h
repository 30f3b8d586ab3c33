/*++
 * NAME
 *	bounce_ses 3h
 * SUMMARY
 *	Amazon SES bounce, delivery and complaint notifications (JSON)
 * SYNOPSIS
 *	#include "bounce_ses.h"
 * DESCRIPTION
 *	Amazon SES reports bounces, deliveries and complaints as a JSON
 *	object (its "notification contents": notificationType, or eventType
 *	for event publishing, with bounce.bouncedRecipients[], each with
 *	emailAddress, action, status and diagnosticCode; delivery.recipients[]
 *	and smtpResponse; complaint.complainedRecipients[]), sent by mail
 *	either as is or inside an Amazon SNS notification whose "Message"
 *	member is that object as an escaped string. Mail systems fold the
 *	long lines, so the text is not valid JSON any more.
 *
 *	bounce_ses_parse() reads such a body: it unfolds and unescapes it
 *	into scratch (cap bytes), then reads the members it needs by name.
 *	It returns 1 and fills out when the body is an SES notification of
 *	one of the three types, else 0. At most BOUNCE_MAX_RCPTS recipients;
 *	strings are truncated and NUL-terminated.
 *
 *	bounce_ses_subtype() maps SES's documented bounceSubType (NoEmail,
 *	Suppressed, OnAccountSuppressionList, MailboxFull, MessageTooLarge,
 *	ContentRejected, AttachmentRejected) to a reason: 1 and *reason, or
 *	0 for General, Undetermined and anything else.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_SES_H
#define POSTMILL_BOUNCE_SES_H

#include <stddef.h>

#include "bounce_classify.h"

enum bounce_ses_type {
	BOUNCE_SES_NONE,
	BOUNCE_SES_BOUNCE,
	BOUNCE_SES_DELIVERY,
	BOUNCE_SES_COMPLAINT,
};

struct bounce_ses_rcpt {
	char	addr[321];
	char	status[16];
	char	action[16];
	char	diag[512];
};

struct bounce_ses {
	enum bounce_ses_type type;
	char	bounce_type[32];	/* "Permanent", "Transient", ... */
	char	sub_type[40];		/* "General", "MailboxFull", ... */
	char	smtp_response[512];	/* delivery.smtpResponse */
	size_t	nrcpt;
	struct bounce_ses_rcpt rcpt[BOUNCE_MAX_RCPTS];
};

int	bounce_ses_parse(const char *s, size_t len, char *scratch, size_t cap,
			 struct bounce_ses *out);
int	bounce_ses_subtype(const char *sub, enum bounce_reason *reason);

#endif
