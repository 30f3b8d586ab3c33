/*++
 * NAME
 *	bounce_smtp 3h
 * SUMMARY
 *	what a bounce text says about the SMTP dialogue that failed
 * SYNOPSIS
 *	#include "bounce_smtp.h"
 * DESCRIPTION
 *	bounce_smtp_command() finds the SMTP command that the receiver
 *	answered with the failure, in the words the reporting MTAs use
 *	("(in reply to end of DATA command)" in Postfix, "SMTP error from
 *	remote mail server after RCPT TO:" in Exim, ">>> DATA" in a
 *	Sendmail transcript, "did not like our final DATA" in DragonFly,
 *	..., or a line that is only the verb, as m-FILTER prints it). The
 *	earliest mention in the text wins. It matters because
 *	"550 User unknown" in reply to DATA comes from a content filter
 *	after the recipient was accepted (RFC 5321 section 3.3: the
 *	mailbox is checked at RCPT), and a refusal of MAIL FROM is about
 *	the sender, never the recipient.
 *
 *	bounce_smtp_inner() finds the receiver's own reply quoted inside a
 *	relaying MTA's or a provider's wrapper text (Amazon SES: "5.1.0 -
 *	Unknown address error 550-'5.2.2 <a@b>... Mailbox Full'"): the
 *	bounds of the quoted reply, so that the receiver's words rank above
 *	the wrapper's generic ones. Returns 1 when found.
 *
 *	Both take (pointer, length), match ASCII case-insensitively, and
 *	never read outside the buffer.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_SMTP_H
#define POSTMILL_BOUNCE_SMTP_H

#include <stddef.h>

enum bounce_smtp_cmd {
	BOUNCE_SMTP_NONE,
	BOUNCE_SMTP_CONN,		/* greeting, connection level */
	BOUNCE_SMTP_HELO,
	BOUNCE_SMTP_MAIL,
	BOUNCE_SMTP_RCPT,
	BOUNCE_SMTP_DATA,
};

enum bounce_smtp_cmd bounce_smtp_command(const char *s, size_t len);
const char *bounce_smtp_command_name(enum bounce_smtp_cmd c);
int	bounce_smtp_inner(const char *s, size_t len, size_t *start,
			  size_t *end);

#endif
