/*++
 * NAME
 *	auth_reply 3
 * SUMMARY
 *	postmill-auth: verdict to SMTP reply
 * DESCRIPTION
 *	See auth_reply.h. Codes: SPF fail is 550 5.7.23 and SPF temperror
 *	451 4.7.24 (RFC 7372 section 3.2, "SPF validation failed" and "SPF
 *	validation error"); a DMARC reject is 550 5.7.1, a From that is not
 *	exactly one address 5.7.1 or 4.7.1, and a DMARC temperror 451 4.3.0
 *	(our lookup failed, not the sender).
 *--*/

/* Application-specific. */

#include "auth_reply.h"

static const struct milter_reply auth_replies[] = {
	{AUTH_REPLY_BAD_FROM_REJECT, SMFIS_REJECT, "550", "5.7.1",
	 "Message must have exactly one From address"},
	{AUTH_REPLY_SPF_FAIL, SMFIS_REJECT, "550", "5.7.23",
	 "SPF check of %s failed"},
	{AUTH_REPLY_DMARC_REJECT, SMFIS_REJECT, "550", "5.7.1",
	 "DMARC policy of %s rejects this message"},
	{AUTH_REPLY_SPF_TEMPERROR, SMFIS_TEMPFAIL, "451", "4.7.24",
	 "SPF check of %s failed temporarily, try again later"},
	{AUTH_REPLY_BAD_FROM_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.7.1",
	 "Message must have exactly one From address"},
	{AUTH_REPLY_DMARC_TEMPERROR, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "DMARC check failed temporarily, try again later"},
};

const struct milter_reply_table auth_reply_table = {
	"auth", auth_replies, sizeof(auth_replies) / sizeof(auth_replies[0]),
};

/* auth_reply_of - the reply of a verdict; NONE for accept and quarantine */
enum auth_reply
auth_reply_of(const struct auth_verdict *v)
{
	switch (v->action) {
	case AUTH_ACT_REJECT:
		if (v->reason == AUTH_R_FROM)
			return AUTH_REPLY_BAD_FROM_REJECT;
		if (v->reason == AUTH_R_SPF_FAIL)
			return AUTH_REPLY_SPF_FAIL;
		return AUTH_REPLY_DMARC_REJECT;
	case AUTH_ACT_TEMPFAIL:
		if (v->reason == AUTH_R_SPF_TEMPERROR)
			return AUTH_REPLY_SPF_TEMPERROR;
		if (v->reason == AUTH_R_FROM)
			return AUTH_REPLY_BAD_FROM_TEMPFAIL;
		return AUTH_REPLY_DMARC_TEMPERROR;
	case AUTH_ACT_ACCEPT:
	case AUTH_ACT_QUARANTINE:
		break;
	}
	return AUTH_REPLY_NONE;
}
