/*++
 * NAME
 *	bounce_reply 3
 * SUMMARY
 *	postmill-bounce: verdict to SMTP reply
 * DESCRIPTION
 *	See bounce_reply.h. Codes: a suppressed recipient is 550 5.1.1
 *	(RFC 3463 "bad destination mailbox address": it bounced before); a
 *	recipient at the bounce domain whose tag does not verify is 550
 *	5.7.1 (a forged or expired return path, refused by policy); our own
 *	trouble (Redis, crypto) is 451 4.3.0, never a 5xx (STYLE 2.5).
 *--*/

/* Application-specific. */

#include "bounce_reply.h"

static const struct milter_reply bounce_replies[] = {
	{BOUNCE_REPLY_REDIS_ERROR, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary failure, please try again later"},
	{BOUNCE_REPLY_CRYPTO_ERROR, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary failure, please try again later"},
	{BOUNCE_REPLY_BAD_TAG, SMFIS_REJECT, "550", "5.7.1",
	 "Invalid bounce address: no message of ours was sent with this return path"},
	{BOUNCE_REPLY_SUPPRESSED, SMFIS_REJECT, "550", "5.1.1", "%s"},
	{BOUNCE_REPLY_REPLACEBODY_FAILED, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary failure, please try again later"},
};

const struct milter_reply_table bounce_reply_table = {
	"bounce", bounce_replies, sizeof(bounce_replies) / sizeof(bounce_replies[0]),
};
