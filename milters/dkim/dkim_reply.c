/*++
 * NAME
 *	dkim_reply 3
 * SUMMARY
 *	postmill-dkim: verdict to SMTP reply
 * DESCRIPTION
 *	See dkim_reply.h. Codes: a message we cannot sign for its own sake
 *	(no usable From, header section over the limit) is X.7.0 when
 *	deferred (RFC 3463 "other or undefined security status") and 5.7.1
 *	when refused; our own failures (signer, state) are 4.3.0 ("other or
 *	undefined mail system status"), never a 5xx (STYLE 2.5).
 *--*/

/* Application-specific. */

#include "dkim_reply.h"

static const struct milter_reply dkim_replies[] = {
	{DKIM_REPLY_STATE_FAILED, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary failure, try again later"},
	{DKIM_REPLY_SIGNER_ERROR, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary DKIM signing failure, try again later"},
	{DKIM_REPLY_HEADERS_TOO_LARGE_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.7.0",
	 "Message cannot be DKIM-signed: header section too large"},
	{DKIM_REPLY_BAD_FROM_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.7.0",
	 "Message cannot be DKIM-signed: check the From header"},
	{DKIM_REPLY_LOGIN_NOT_ALLOWED, SMFIS_REJECT, "550", "5.7.1",
	 "Sender address not owned by the authenticated user"},
	{DKIM_REPLY_HEADERS_TOO_LARGE_REJECT, SMFIS_REJECT, "550", "5.7.1",
	 "Message cannot be DKIM-signed: header section too large"},
	{DKIM_REPLY_BAD_FROM_REJECT, SMFIS_REJECT, "550", "5.7.1",
	 "Message cannot be DKIM-signed: malformed, missing or several From addresses"},
};

const struct milter_reply_table dkim_reply_table = {
	"dkim", dkim_replies, sizeof(dkim_replies) / sizeof(dkim_replies[0]),
};

/* dkim_reply_of - the reply of a policy result; NONE for sign and skip */
enum dkim_reply
dkim_reply_of(enum dkim_action action, enum dkim_reason reason)
{
	switch (action) {
	case DKIM_ACT_TEMPFAIL:
		if (reason == DKIM_R_SIGNER_ERROR)
			return DKIM_REPLY_SIGNER_ERROR;
		if (reason == DKIM_R_HEADERS_TOO_LARGE)
			return DKIM_REPLY_HEADERS_TOO_LARGE_TEMPFAIL;
		return DKIM_REPLY_BAD_FROM_TEMPFAIL;
	case DKIM_ACT_REJECT:
		if (reason == DKIM_R_LOGIN_NOT_ALLOWED)
			return DKIM_REPLY_LOGIN_NOT_ALLOWED;
		if (reason == DKIM_R_HEADERS_TOO_LARGE)
			return DKIM_REPLY_HEADERS_TOO_LARGE_REJECT;
		return DKIM_REPLY_BAD_FROM_REJECT;
	case DKIM_ACT_SIGN:
	case DKIM_ACT_SKIP:
		break;
	}
	return DKIM_REPLY_NONE;
}
