/*++
 * NAME
 *	bounce_classify 3h
 * SUMMARY
 *	what a returning message says: bounce, delay, complaint, auto-reply
 * SYNOPSIS
 *	#include "bounce_classify.h"
 * DESCRIPTION
 *	bounce_classify() reads one whole message (header and body, CRLF or
 *	LF line ends, not NUL-terminated) that came back to a bounce address
 *	and fills a struct bounce_report: what kind of report it is, and
 *	for every recipient it names, the status, action, diagnostic, remote
 *	MTA, class and reason.
 *
 *	Kinds: an RFC 3464 delivery status notification (multipart/report;
 *	report-type=delivery-status, or a bare message/delivery-status part),
 *	an RFC 5965 feedback report (complaint), an RFC 3834 auto-reply
 *	(Auto-Submitted: auto-replied, X-Autoreply, Precedence: auto_reply,
 *	vacation subjects), or a non-standard bounce text of a well-known
 *	MTA or mailbox provider (qmail, Exim, Postfix/Sendmail plain text,
 *	Exchange/Office 365, Gmail, Yahoo...).
 *
 *	The reason comes from what the receiver said, most exact first
 *	(bounce_reason.h): a provider's documented code (bounce_provider.h),
 *	the receiver's reply quoted inside a relay's wrapper, the phrase
 *	table on the diagnostic, then on the notification text, then the
 *	RFC 3463 status; the refused SMTP command adjusts it
 *	(bounce_smtp.h). The class is about the address:
 *	  hard		user_unknown, domain_unknown (no MX, null MX) unless
 *			the status is temporary
 *	  soft		any other failed delivery, whatever its code, and a
 *			delay warning (Action: delayed, reason expired unless
 *			the text says more; the suppression policy never
 *			counts it, so one failure never counts twice)
 *	  complaint	a reader's feedback report (ARF abuse or fraud,
 *			Microsoft JMRP, an SES complaint, an Apple Mail
 *			unsubscribe request); an ARF report of another
 *			type (auth-failure, not-spam, virus, other) is
 *			kind arf with class none
 *	  auto_reply	an auto-reply or a challenge-response request
 *	  none		no failure: delivered, relayed, expanded
 *	Each recipient names the decoder that read it and why its reason
 *	was chosen (decoder, why); command is the refused SMTP command.
 *	recipient is the RFC 3464 Final-Recipient, original the
 *	Original-Recipient (RFC 3461 ORCPT) when it differs: the address the
 *	sender used, which the milter records.
 *
 *	A generic RFC 3463 Status (X.0.0, what Exim writes for every
 *	failure) is replaced by the receiver's own code when the diagnostic
 *	holds a more specific one (a 4.x.x too, when the reporting MTA gave
 *	up on a temporary failure).
 *
 *	report->cls and report->reason are those of the first failed
 *	recipient (else the first delayed one), or of the complaint or
 *	auto-reply;
 *	BOUNCE_CLASS_NONE and BOUNCE_REASON_OTHER when nothing failed.
 *	At most BOUNCE_MAX_RCPTS recipients are kept; strings are truncated
 *	to their arrays, always NUL-terminated, control characters replaced.
 *
 *	The caller caps the message at BOUNCE_MSG_MAX bytes (a bounce
 *	carries at most the original's header and a short text; the walker
 *	also bounds depth, parts and header bytes, see bounce_mime.h) and
 *	may pass any prefix of a longer message.
 *
 *	bounce_classify() returns 0 when the message was classified (out
 *	filled; kind BOUNCE_KIND_UNKNOWN when it is mail of no known kind,
 *	with class none), or -1 when it cannot be parsed at all (no header
 *	block), with *why set to a static string and out set to kind
 *	UNKNOWN, class none, reason other.
 *
 *	bounce_class_name() and bounce_reason_name() give the words used in
 *	logs, headers, Redis and JSON: "hard", "user_unknown", ...
 *	bounce_class_by_name() and bounce_reason_by_name() map them back (-1
 *	when unknown). bounce_kind_name() names a kind ("dsn", "arf", ...).
 *
 *	bounce_classify_main() is the "postmill-bounce --classify FILE..."
 *	mode (bounce_classify_cli.c): argv[0] is the program, argv[1]
 *	"--classify"; it prints one JSON object per file and returns the
 *	exit status.
 * THREAD SAFETY
 *	Reentrant; no I/O (except bounce_classify_main), no clock, no
 *	globals. struct bounce_report is about 32 KiB: allocate it, do not
 *	put it on a small thread stack.
 *--*/
#ifndef POSTMILL_BOUNCE_CLASSIFY_H
#define POSTMILL_BOUNCE_CLASSIFY_H

#include <stddef.h>

#define BOUNCE_MSG_MAX		(1024 * 1024)	/* caller's cap, bytes */
#define BOUNCE_MAX_RCPTS	32

enum bounce_class {
	BOUNCE_CLASS_NONE,
	BOUNCE_CLASS_HARD,
	BOUNCE_CLASS_SOFT,
	BOUNCE_CLASS_COMPLAINT,
	BOUNCE_CLASS_AUTO_REPLY,
};

enum bounce_reason {
	BOUNCE_REASON_OTHER,
	BOUNCE_REASON_USER_UNKNOWN,
	BOUNCE_REASON_MAILBOX_FULL,
	BOUNCE_REASON_DOMAIN_UNKNOWN,
	BOUNCE_REASON_POLICY_REJECTED,
	BOUNCE_REASON_SPAM_REJECTED,
	BOUNCE_REASON_MESSAGE_TOO_LARGE,
	BOUNCE_REASON_RATE_LIMITED,
	BOUNCE_REASON_EXPIRED,
	BOUNCE_REASON_NETWORK_ERROR,
	BOUNCE_REASON_SYSTEM_ERROR,
	BOUNCE_REASON_SUSPENDED,
	BOUNCE_REASON_AUTO_REPLY,
	BOUNCE_REASON_COMPLAINT,
};

enum bounce_kind {
	BOUNCE_KIND_UNKNOWN,
	BOUNCE_KIND_DSN,
	BOUNCE_KIND_ARF,
	BOUNCE_KIND_AUTO_REPLY,
	BOUNCE_KIND_TEXT,
};

struct bounce_rcpt {
	char	recipient[321];		/* addr-spec, without "rfc822;" */
	char	original[321];		/* RFC 3461 ORCPT when kept, else "" */
	char	status[16];		/* "5.1.1", "" when unknown */
	char	action[16];		/* "failed", "delayed", ... lowercase */
	char	diagnostic[512];	/* "smtp; 550 5.1.1 ..." or body text */
	char	remote_mta[256];	/* "dns; mx.example.test" */
	char	decoder[32];		/* "rfc3464", "text:qmail", ... */
	char	why[192];		/* the phrase or code that decided */
	char	command[12];		/* SMTP command refused: "RCPT", "" */
	enum bounce_class cls;
	enum bounce_reason reason;
};

struct bounce_report {
	enum bounce_kind kind;
	enum bounce_class cls;		/* first failed recipient's, or none */
	enum bounce_reason reason;
	size_t	nrcpt;
	struct bounce_rcpt rcpt[BOUNCE_MAX_RCPTS];
	char	original_message_id[256];	/* of the bounced message */
	char	original_envelope_id[256];	/* RFC 3461 ENVID */
	char	original_rcpt_hint[321];	/* To: of the returned header */
};

const char *bounce_class_name(enum bounce_class c);
const char *bounce_reason_name(enum bounce_reason r);
const char *bounce_kind_name(enum bounce_kind k);
int	bounce_class_by_name(const char *name);
int	bounce_reason_by_name(const char *name);

int	bounce_classify(const char *msg, size_t len, struct bounce_report *out,
			const char **why);

int	bounce_classify_main(int argc, char **argv);

#endif
