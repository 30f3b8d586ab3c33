/*++
 * NAME
 *	auth_reply 3h
 * SUMMARY
 *	postmill-auth: every SMTP reply it gives, in one table
 * SYNOPSIS
 *	#include "auth_reply.h"
 * DESCRIPTION
 *	auth_reply_table maps each enum auth_reply verdict to the sfsistat,
 *	reply code, enhanced status code and text (milter_reply.h). The
 *	"%s" of a text is the From domain (DMARC) or the SPF identity's
 *	domain (SPF). auth_reply_of() is the reply of a policy verdict,
 *	AUTH_REPLY_NONE for accept and quarantine. Pure.
 *--*/
#ifndef POSTMILL_AUTH_REPLY_H
#define POSTMILL_AUTH_REPLY_H

#include "milter_reply.h"
#include "auth_policy.h"

enum auth_reply {
	AUTH_REPLY_NONE,
	AUTH_REPLY_BAD_FROM_REJECT,	/* auth_on_bad_from=reject */
	AUTH_REPLY_SPF_FAIL,		/* auth_reject_on_spf_fail */
	AUTH_REPLY_DMARC_REJECT,	/* p=reject, and what follows it */
	AUTH_REPLY_SPF_TEMPERROR,	/* with auth_on_temperror=tempfail */
	AUTH_REPLY_BAD_FROM_TEMPFAIL,	/* auth_on_bad_from=tempfail */
	AUTH_REPLY_DMARC_TEMPERROR,	/* auth_on_temperror=tempfail */
};

extern const struct milter_reply_table auth_reply_table;

enum auth_reply auth_reply_of(const struct auth_verdict *v);

#endif
