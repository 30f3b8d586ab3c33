/*++
 * NAME
 *	bounce_text 3h
 * SUMMARY
 *	non-standard bounce texts and auto-replies: recognise, find recipients
 * SYNOPSIS
 *	#include "bounce_text.h"
 * DESCRIPTION
 *	Many MTAs and providers return mail without a delivery-status part
 *	(qmail, Exim without DSN, old Sendmail, Yahoo, forwarded Exchange
 *	reports), or with one that lacks the diagnostic. These functions
 *	read the human-readable text instead. All take (pointer, length)
 *	and match ASCII case-insensitively.
 *
 *	bounce_text_cut() returns the length of the notification proper:
 *	the text up to the first marker of an appended copy of the original
 *	message ("--- Below this line is a copy of the message." in qmail,
 *	"------ This is a copy of the message" in Exim, "-----Original
 *	Message-----"...), so the original's words are never matched.
 *
 *	bounce_text_is_bounce() says whether a message is a bounce by its
 *	From (MAILER-DAEMON, postmaster, "Mail Delivery ..."), its Subject
 *	("Undelivered Mail Returned to Sender", "Undeliverable:", "failure
 *	notice", ...) or a delivery-failure phrase of the text.
 *
 *	bounce_text_is_delay() says whether the text is a warning of delay
 *	rather than a final failure ("THIS IS A WARNING ONLY", "will keep
 *	trying"), unless it also says it gave up.
 *
 *	bounce_text_is_challenge() says whether a message is a
 *	challenge-response system's request to confirm the sender (TMDA,
 *	BoxTrapper, SpamArrest, Mailwasher and the like): by its headers
 *	(X-BoxTrapper, X-TMDA-Confirm...) or its subject and text ("please
 *	confirm that you sent", "verify your email address"...). Such a
 *	message proves the mailbox exists; it is never a bounce.
 *
 *	bounce_text_is_vacation() says whether the first 2 KB of a text
 *	are a vacation reply ("I am out of the office", ...), for replies
 *	that carry no header sign at all.
 *
 *	bounce_text_auto_reply() reads a header block for RFC 3834 signs:
 *	2 for a strong sign (X-Autoreply, X-Autorespond, Precedence:
 *	auto_reply, a vacation Subject, RFC 2047 decoded), 1 when only
 *	Auto-Submitted is other than "no" (MTAs set it on bounces too,
 *	RFC 3834 section 5), 0 for none.
 *
 *	bounce_text_find_addr() finds the next addr-spec at or after from:
 *	local@domain, the domain with a dot or in brackets; returns 1 and
 *	its bounds, 0 when there is none.
 *
 *	bounce_text_recipients() finds the failed recipients a bounce text
 *	names, in order, at most max: a line that is an address ("<a@b>:",
 *	"a@b"), an address starting a line with its reason ("<a@b>: host
 *	... said: 550 ...", "<a@b>... User unknown"), or an address after a
 *	phrase ("wasn't delivered to a@b", "Your message to a@b couldn't be
 *	delivered"). The diagnostic of a recipient is the rest of its line,
 *	or the lines that follow it up to an empty line or the next address;
 *	a second mention of the same address (Exchange repeats it under
 *	"Diagnostic information for administrators") adds to it. Addresses
 *	equal to skip1 or skip2 (the bounce's own From and To) are ignored.
 *	The text after "The response was:", "The response from the remote
 *	server was:" or "Remote Server returned" is added to every
 *	recipient that has no status code of its own.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_TEXT_H
#define POSTMILL_BOUNCE_TEXT_H

#include <stddef.h>

#define BOUNCE_TEXT_MAX		(64 * 1024)	/* notification text read */

struct bounce_text_rcpt {
	char	addr[321];
	char	diag[512];
};

size_t	bounce_text_cut(const char *text, size_t len);
int	bounce_text_is_bounce(const char *from, const char *subject,
			      const char *text, size_t len);
int	bounce_text_is_delay(const char *text, size_t len);
int	bounce_text_is_vacation(const char *text, size_t len);
int	bounce_text_is_challenge(const char *hdr, size_t hdrlen,
				 const char *subject, const char *text,
				 size_t len);
int	bounce_text_auto_reply(const char *hdr, size_t hdrlen);
int	bounce_text_find_addr(const char *s, size_t len, size_t from,
			      size_t *start, size_t *end);
size_t	bounce_text_recipients(const char *text, size_t len,
			       const char *skip1, const char *skip2,
			       struct bounce_text_rcpt *out, size_t max);

#endif
