/*++
 * NAME
 *	bounce_reply 3h
 * SUMMARY
 *	postmill-bounce: every SMTP reply it gives, in one table
 * SYNOPSIS
 *	#include "bounce_reply.h"
 * DESCRIPTION
 *	bounce_reply_table maps each enum bounce_reply verdict to the
 *	sfsistat, reply code, enhanced status code and text
 *	(milter_reply.h). The "%s" of BOUNCE_REPLY_SUPPRESSED is the text
 *	bounce_suppress_text() builds (recipient, since, reason).
 *--*/
#ifndef POSTMILL_BOUNCE_REPLY_H
#define POSTMILL_BOUNCE_REPLY_H

#include "milter_reply.h"

enum bounce_reply {
	BOUNCE_REPLY_REDIS_ERROR,	/* bounce_on_redis_error=tempfail */
	BOUNCE_REPLY_CRYPTO_ERROR,	/* RAND_bytes or HMAC failed */
	BOUNCE_REPLY_BAD_TAG,		/* RCPT to a tag we did not make */
	BOUNCE_REPLY_SUPPRESSED,	/* RCPT on the suppression list */
	BOUNCE_REPLY_REPLACEBODY_FAILED, /* a tracked body could not be replaced */
};

extern const struct milter_reply_table bounce_reply_table;

#endif
