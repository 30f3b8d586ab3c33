/*++
 * NAME
 *	dkim_reply 3h
 * SUMMARY
 *	postmill-dkim: every SMTP reply it gives, in one table
 * SYNOPSIS
 *	#include "dkim_reply.h"
 * DESCRIPTION
 *	dkim_reply_table maps each enum dkim_reply verdict to the sfsistat,
 *	reply code, enhanced status code and text (milter_reply.h); the
 *	callbacks apply it with milter_reply_apply() and write no reply of
 *	their own. dkim_reply_of() is the verdict of a negative policy
 *	result (action, reason); DKIM_REPLY_NONE for sign and skip. Pure.
 *--*/
#ifndef POSTMILL_DKIM_REPLY_H
#define POSTMILL_DKIM_REPLY_H

#include "milter_reply.h"
#include "dkim_policy.h"

enum dkim_reply {
	DKIM_REPLY_NONE,			/* no refusal */
	DKIM_REPLY_STATE_FAILED,		/* no configuration snapshot */
	DKIM_REPLY_SIGNER_ERROR,		/* dkim_on_signer_error=tempfail */
	DKIM_REPLY_HEADERS_TOO_LARGE_TEMPFAIL,
	DKIM_REPLY_BAD_FROM_TEMPFAIL,		/* dkim_on_unsignable=tempfail */
	DKIM_REPLY_LOGIN_NOT_ALLOWED,		/* sender login map */
	DKIM_REPLY_HEADERS_TOO_LARGE_REJECT,
	DKIM_REPLY_BAD_FROM_REJECT,		/* dkim_on_unsignable=reject */
};

extern const struct milter_reply_table dkim_reply_table;

enum dkim_reply dkim_reply_of(enum dkim_action action, enum dkim_reason reason);

#endif
