/*++
 * NAME
 *	limit_reply 3h
 * SUMMARY
 *	postmill-limit: every SMTP reply it gives, in one table
 * SYNOPSIS
 *	#include "limit_reply.h"
 * DESCRIPTION
 *	limit_reply_table maps each enum limit_reply verdict to the
 *	sfsistat, reply code, enhanced status code and text
 *	(milter_reply.h). The "%s" of the over-limit rows is the text
 *	limit_reply_make() (limit_policy.h) builds: which limit of which
 *	rule, and when to retry; of the paused rows the text
 *	limit_pause_text() builds. limit_reply_of_pause() is the reply of a
 *	paused tenant under limit_tenant_pause. Pure.
 *--*/
#ifndef POSTMILL_LIMIT_REPLY_H
#define POSTMILL_LIMIT_REPLY_H

#include "milter_reply.h"

enum limit_reply {
	LIMIT_REPLY_REDIS_ERROR,	/* limit_on_redis_error=tempfail */
	LIMIT_REPLY_EXCEEDED,		/* refused, no usage to name */
	LIMIT_REPLY_OVER_TEMPFAIL,	/* a limit refuses: try later */
	LIMIT_REPLY_OVER_REJECT,	/* a limit whose rule says reject */
	LIMIT_REPLY_PAUSED_TEMPFAIL,	/* limit_tenant_pause=tempfail */
	LIMIT_REPLY_PAUSED_REJECT,	/* limit_tenant_pause=reject */
};

extern const struct milter_reply_table limit_reply_table;

enum limit_reply limit_reply_of_pause(int tenant_pause);

#endif
