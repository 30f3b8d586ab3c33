/*++
 * NAME
 *	limit_reply 3
 * SUMMARY
 *	postmill-limit: verdict to SMTP reply
 * DESCRIPTION
 *	See limit_reply.h. Codes: over a limit or paused is 451 4.7.1 ("not
 *	now", RFC 3463 "delivery not authorized") or, where the rule or
 *	limit_tenant_pause says reject, 550 5.7.1; a Redis failure under
 *	limit_on_redis_error=tempfail is 451 4.3.0, never a 5xx (STYLE 2.5).
 *--*/

/* Application-specific. */

#include "limit_conf.h"
#include "limit_reply.h"

static const struct milter_reply limit_replies[] = {
	{LIMIT_REPLY_REDIS_ERROR, SMFIS_TEMPFAIL, "451", "4.3.0",
	 "Temporary failure checking sending limits; try again later"},
	{LIMIT_REPLY_EXCEEDED, SMFIS_TEMPFAIL, "451", "4.7.1",
	 "Sending limit exceeded; try again later"},
	{LIMIT_REPLY_OVER_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.7.1", "%s"},
	{LIMIT_REPLY_OVER_REJECT, SMFIS_REJECT, "550", "5.7.1", "%s"},
	{LIMIT_REPLY_PAUSED_TEMPFAIL, SMFIS_TEMPFAIL, "451", "4.7.1", "%s"},
	{LIMIT_REPLY_PAUSED_REJECT, SMFIS_REJECT, "550", "5.7.1", "%s"},
};

const struct milter_reply_table limit_reply_table = {
	"limit", limit_replies, sizeof(limit_replies) / sizeof(limit_replies[0]),
};

/* limit_reply_of_pause - a paused tenant's reply under limit_tenant_pause */
enum limit_reply
limit_reply_of_pause(int tenant_pause)
{
	return tenant_pause == LIMIT_PAUSE_REJECT ? LIMIT_REPLY_PAUSED_REJECT
	    : LIMIT_REPLY_PAUSED_TEMPFAIL;
}
