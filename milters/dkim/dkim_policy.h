/*++
 * NAME
 *	dkim_policy 3h
 * SUMMARY
 *	the signing decision, as a plain function
 * SYNOPSIS
 *	#include "dkim_policy.h"
 * DESCRIPTION
 *	dkim_policy_decide() says what postmill-dkim does with one message,
 *	from facts the milter gathered (who the client is, what the From
 *	header holds, whether the signing table has keys, whether the login
 *	owns the From address) and the configured actions. It does no I/O
 *	and reads no globals, so unit tests drive it from a table.
 *
 *	Order of the checks, first hit wins:
 *	1. the client is neither authenticated nor internal (or signing for
 *	   that kind is off): skip, external_client;
 *	2. the header section was over the configured limits: unsignable;
 *	3. no From field, several From fields, a From that does not parse,
 *	   several addresses in From (RFC 6376 section 8.15: sign none):
 *	   unsignable;
 *	4. no key for the From address: skip, no_key;
 *	5. an authenticated login that the sender login map does not allow
 *	   for the From address: login_mismatch_action;
 *	6. sign.
 *	"unsignable" means dkim_unsignable_action: skip, tempfail or reject.
 *
 *	dkim_policy_signer_error() is the verdict when signing failed after
 *	the decision (body hash, signer, header change): signer_error,
 *	tempfail or skip as dkim_on_signer_error says.
 *--*/
#ifndef POSTMILL_DKIM_POLICY_H
#define POSTMILL_DKIM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_action {
	DKIM_ACT_SIGN,
	DKIM_ACT_SKIP,		/* pass unsigned */
	DKIM_ACT_TEMPFAIL,	/* 451 4.7.0 */
	DKIM_ACT_REJECT,	/* 550 5.7.1 */
};

enum dkim_reason {
	DKIM_R_SIGN,
	DKIM_R_EXTERNAL_CLIENT,
	DKIM_R_HEADERS_TOO_LARGE,
	DKIM_R_NO_FROM,
	DKIM_R_MULTIPLE_FROM,
	DKIM_R_MALFORMED_FROM,
	DKIM_R_MULTIPLE_ADDRESSES,
	DKIM_R_NO_KEY,
	DKIM_R_LOGIN_NOT_ALLOWED,
	DKIM_R_SIGNER_ERROR,
	DKIM_R_FROM_REWRITTEN,	/* the MTA rewrites From in a way we cannot predict */
};

enum dkim_from_state {
	DKIM_FROM_OK,		/* exactly one field with exactly one address */
	DKIM_FROM_MISSING,
	DKIM_FROM_SEVERAL_FIELDS,
	DKIM_FROM_MALFORMED,
	DKIM_FROM_SEVERAL_ADDRESSES,
};

enum dkim_login_state {
	DKIM_LOGIN_UNCHECKED,	/* no map, or the client did not authenticate */
	DKIM_LOGIN_ALLOWED,
	DKIM_LOGIN_NOT_LISTED,	/* the address has owners; this login is not one */
	DKIM_LOGIN_NO_OWNER,	/* the map has no entry for the address */
};

struct dkim_policy_input {
	bool			authenticated;	/* {auth_authen} present */
	bool			internal;	/* client in internal_hosts */
	bool			headers_over_limit;
	enum dkim_from_state	from;
	size_t			keys;		/* signing-table keys found */
	enum dkim_login_state	login;
	bool			from_unpredictable; /* dkim_smaddr.h: Sendmail's From */
};

struct dkim_policy_options {
	bool	sign_authenticated;
	bool	sign_internal;
	int	unsignable_action;	/* enum dkim_unsignable_action */
	int	login_mismatch_action;	/* enum dkim_mismatch_action */
};

struct dkim_verdict {
	enum dkim_action	action;
	enum dkim_reason	reason;
};

struct dkim_verdict dkim_policy_decide(const struct dkim_policy_input *in,
				       const struct dkim_policy_options *opt);
/* dkim_policy_hosted - is this client's mail ours to look at at all */
bool dkim_policy_hosted(bool authenticated, bool internal,
			const struct dkim_policy_options *opt);
/* dkim_policy_signer_error - our signing failed: tempfail or skip */
struct dkim_verdict dkim_policy_signer_error(int signer_error_action);
const char *dkim_reason_name(enum dkim_reason reason);
const char *dkim_action_name(enum dkim_action action);

#endif
