/*++
 * NAME
 *	auth_policy 3h
 * SUMMARY
 *	what postmill-auth does with a message: the disposition decision
 * SYNOPSIS
 *	#include "auth_policy.h"
 * DESCRIPTION
 *	auth_policy_decide() maps the facts the milter gathered (From
 *	extraction, DMARC result, SPF result, local trust) and the
 *	configured actions to a verdict. Pure: no I/O, no globals.
 *
 *	Order, first hit wins:
 *	1. SPF fail with reject_on_spf_fail: reject (550 5.7.23, RFC 7372),
 *	   unless the sender or client is trusted;
 *	   SPF temperror with reject_on_spf_fail and temperror_action
 *	   tempfail: tempfail (a fail was possible; RFC 7208 8.6 lets the
 *	   receiver defer), unless trusted; with accept, go on;
 *	2. the From field is not exactly one address: from_action (reject
 *	   by default: RFC 9989 cannot evaluate such a message, and a
 *	   message with two From addresses is how DMARC gets bypassed);
 *	3. DMARC temperror: temperror_action (accept and mark, or tempfail);
 *	4. DMARC not fail (pass, none, permerror): accept;
 *	5. DMARC fail: the requested policy (p, sp or np). With t=y (RFC
 *	   9989 testing mode) the policy applied is one step softer: reject
 *	   becomes quarantine, quarantine becomes none, as pct=0 did under
 *	   RFC 7489 6.6.4. A trusted sender (From domain listed) or trusted
 *	   forwarder (client listed) is never rejected or quarantined:
 *	   applied none, reason trusted_*. quarantine and reject follow.
 *	dry_run turns every reject, quarantine and tempfail into accept and
 *	keeps what would have happened in would (for the log and for
 *	policy.applied-disposition).
 *
 *	auth_policy_checks_client() says whether a client's mail is ours to
 *	check at all: an authenticated or internal client sends outbound
 *	mail, checked only with auth_check_authenticated or
 *	auth_check_internal.
 *--*/
#ifndef POSTMILL_AUTH_POLICY_H
#define POSTMILL_AUTH_POLICY_H

#include <stdbool.h>

#include "auth_dmarc.h"
#include "auth_from.h"

enum auth_action {
	AUTH_ACT_ACCEPT,
	AUTH_ACT_QUARANTINE,
	AUTH_ACT_REJECT,
	AUTH_ACT_TEMPFAIL,
};

enum auth_reason {
	AUTH_R_NONE,			/* nothing to object to */
	AUTH_R_SPF_FAIL,
	AUTH_R_SPF_TEMPERROR,
	AUTH_R_FROM,			/* from status says which */
	AUTH_R_DMARC_TEMPERROR,
	AUTH_R_DMARC_POLICY,		/* fail + p/sp/np */
	AUTH_R_DMARC_TESTING,		/* fail, t=y softened it */
	AUTH_R_TRUSTED_SENDER,
	AUTH_R_TRUSTED_FORWARDER,
};

enum auth_on_temperror {	/* words: auth_params.c */
	AUTH_TEMPERROR_ACCEPT, AUTH_TEMPERROR_TEMPFAIL,
};

enum auth_on_bad_from {	/* words: auth_params.c */
	AUTH_BAD_FROM_REJECT, AUTH_BAD_FROM_TEMPFAIL, AUTH_BAD_FROM_ACCEPT,
};

struct auth_policy_input {
	enum auth_from_status	 from;
	bool			 dmarc_done;	/* DMARC evaluated */
	enum auth_dmarc_res	 dmarc;
	enum auth_dmarc_p	 requested;	/* p/sp/np of the record */
	bool			 testing;	/* t=y */
	bool			 spf_fail;	/* MAIL FROM (or HELO) SPF fail */
	bool			 trusted_sender;
	bool			 trusted_forwarder;
	bool			 spf_temperror;	/* MAIL FROM (or HELO) SPF temperror */
};

struct auth_policy_options {
	bool	reject_on_spf_fail;
	int	on_temperror;		/* enum auth_on_temperror */
	int	on_bad_from;		/* enum auth_on_bad_from */
	bool	dry_run;
};

struct auth_verdict {
	enum auth_action action;	/* what the milter does */
	enum auth_action would;		/* before dry_run */
	enum auth_reason reason;
};

struct auth_verdict auth_policy_decide(const struct auth_policy_input *in,
				       const struct auth_policy_options *opt);
bool	auth_policy_checks_client(bool authenticated, bool internal,
				  bool check_authenticated, bool check_internal);
const char *auth_action_name(enum auth_action a);
const char *auth_reason_name(enum auth_reason r);

#endif
