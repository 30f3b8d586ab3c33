/*++
 * NAME
 *	bounce_mta 3h
 * SUMMARY
 *	which MTA wrote a bounce, and its own words for an unknown address
 * SYNOPSIS
 *	#include "bounce_mta.h"
 * DESCRIPTION
 *	A few MTAs and gateways say "unknown user" or "no such user" about
 *	a mailbox they looked up themselves (Ipswitch IMail, McAfee's
 *	gateway, Outlook.com, MessageLabs, MXLogic, Mail.ru, Yahoo): in their
 *	reports those words are the verdict on the address, whatever the
 *	stage. From any other reporter the same words may be a receiver's
 *	filter speaking after DATA (bounce_reason.h).
 *
 *	bounce_mta_identify() reads the top-level header block of a bounce
 *	(hdr, hdrlen: as bounce_mime.h gives it) for the header signs these
 *	MTAs put on their reports (a row per sign in bounce_mta.c, with its
 *	source) and returns the MTA, or BOUNCE_MTA_UNKNOWN.
 *
 *	bounce_mta_own_unknown() returns 1 when the text s (len bytes) holds
 *	one of the MTA's own wordings for an unknown address, with the
 *	phrase in *phrase (static); 0 otherwise and for BOUNCE_MTA_UNKNOWN.
 *
 *	bounce_mta_by_reporting() names the MTA by the DSN's Reporting-MTA
 *	("dns; inbound-smtp.us-west-2.amazonaws.com": Amazon SES receiving),
 *	or returns BOUNCE_MTA_UNKNOWN.
 *
 *	bounce_mta_own_reason() returns 1 when the text holds one of the
 *	MTA's fixed report texts whose meaning the MTA documents, with its
 *	reason and phrase: Amazon SES receiving bounces with the template a
 *	receipt rule's Bounce action picked ("Mailbox does not exist" is the
 *	rule's refusal, not a mailbox lookup: policy_rejected; "Temporary
 *	failure" says nothing: other); 0 otherwise.
 *
 *	bounce_mta_verdict() returns 1 with a reason and a static note for
 *	a reporter whose sign alone decides every failed recipient: KDDI
 *	au's "X-SPASIGN: NG", put on the bounce when the recipient's spam
 *	filter refused the message (policy_rejected); 0 otherwise.
 *
 *	bounce_mta_name() names an MTA ("imail", "" for unknown).
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, the tables are constant.
 *--*/
#ifndef POSTMILL_BOUNCE_MTA_H
#define POSTMILL_BOUNCE_MTA_H

#include <stddef.h>

#include "bounce_classify.h"

enum bounce_mta {
	BOUNCE_MTA_UNKNOWN,
	BOUNCE_MTA_IMAIL,
	BOUNCE_MTA_MCAFEE,
	BOUNCE_MTA_OUTLOOK,
	BOUNCE_MTA_MESSAGELABS,
	BOUNCE_MTA_MXLOGIC,
	BOUNCE_MTA_MAILRU,
	BOUNCE_MTA_YAHOO,
	BOUNCE_MTA_SES_RECEIVING,
	BOUNCE_MTA_AU_SPASIGN,
};

enum bounce_mta bounce_mta_identify(const char *hdr, size_t hdrlen);
int	bounce_mta_own_unknown(enum bounce_mta mta, const char *s, size_t len,
			       const char **phrase);
enum bounce_mta bounce_mta_by_reporting(const char *reporting_mta);
int	bounce_mta_own_reason(enum bounce_mta mta, const char *s, size_t len,
			      enum bounce_reason *reason, const char **phrase);
int	bounce_mta_verdict(enum bounce_mta mta, enum bounce_reason *reason,
			   const char **note);
const char *bounce_mta_name(enum bounce_mta mta);

#endif
