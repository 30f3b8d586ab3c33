/*++
 * NAME
 *	dkim_policy 3
 * SUMMARY
 *	the signing decision, as a plain function
 * DESCRIPTION
 *	See dkim_policy.h.
 *--*/
#include "dkim_conf.h"
#include "dkim_policy.h"
#include "hosted.h"
#include "name_code.h"

/* dkim_policy_signer_error - our signing failed: tempfail or skip */
struct dkim_verdict
dkim_policy_signer_error(int signer_error_action)
{
	struct dkim_verdict v;

	/* our trouble is never the sender's 5xx (STYLE 2.5) */
	v.action = signer_error_action == DKIM_ERROR_TEMPFAIL ? DKIM_ACT_TEMPFAIL
	    : DKIM_ACT_SKIP;
	v.reason = DKIM_R_SIGNER_ERROR;
	return v;
}

/* dkim_policy_hosted - authenticated or internal, and signing that kind */
bool
dkim_policy_hosted(bool authenticated, bool internal,
		   const struct dkim_policy_options *opt)
{
	return hosted_decide(authenticated, internal, opt->sign_authenticated,
			     opt->sign_internal);
}

/* dkim_unsignable - the verdict for mail we cannot sign */
static struct dkim_verdict
dkim_unsignable(enum dkim_reason reason, const struct dkim_policy_options *opt)
{
	struct dkim_verdict v = {DKIM_ACT_SKIP, reason};

	if (opt->unsignable_action == DKIM_UNSIGNABLE_TEMPFAIL)
		v.action = DKIM_ACT_TEMPFAIL;
	else if (opt->unsignable_action == DKIM_UNSIGNABLE_REJECT)
		v.action = DKIM_ACT_REJECT;
	return v;
}

/* dkim_policy_decide - what to do with one message */
struct dkim_verdict
dkim_policy_decide(const struct dkim_policy_input *in,
		   const struct dkim_policy_options *opt)
{
	struct dkim_verdict v = {DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT};

	if (!dkim_policy_hosted(in->authenticated, in->internal, opt))
		return v;
	if (in->headers_over_limit)
		return dkim_unsignable(DKIM_R_HEADERS_TOO_LARGE, opt);
	switch (in->from) {
	case DKIM_FROM_OK:
		break;
	case DKIM_FROM_MISSING:
		return dkim_unsignable(DKIM_R_NO_FROM, opt);
	case DKIM_FROM_SEVERAL_FIELDS:
		return dkim_unsignable(DKIM_R_MULTIPLE_FROM, opt);
	case DKIM_FROM_MALFORMED:
		return dkim_unsignable(DKIM_R_MALFORMED_FROM, opt);
	case DKIM_FROM_SEVERAL_ADDRESSES:
		return dkim_unsignable(DKIM_R_MULTIPLE_ADDRESSES, opt);
	}
	/*
	 * Sendmail writes From out again after the milters; when its form
	 * cannot be predicted a signature would fail, and one without From
	 * is no DKIM signature (RFC 6376 5.4): unsignable
	 */
	if (in->from_unpredictable)
		return dkim_unsignable(DKIM_R_FROM_REWRITTEN, opt);
	if (in->keys == 0) {
		v.reason = DKIM_R_NO_KEY;
		return v;
	}
	/*
	 * A tenant must not sign with another tenant's key: with a login map,
	 * an authenticated login signs only what the map says it owns. An
	 * address nobody owns is refused as well: a missing map line must
	 * not turn into permission.
	 */
	if (in->authenticated && (in->login == DKIM_LOGIN_NOT_LISTED
				  || in->login == DKIM_LOGIN_NO_OWNER)) {
		v.reason = DKIM_R_LOGIN_NOT_ALLOWED;
		v.action = opt->login_mismatch_action == DKIM_MISMATCH_REJECT ?
		    DKIM_ACT_REJECT : DKIM_ACT_SKIP;
		return v;
	}
	v.action = DKIM_ACT_SIGN;
	v.reason = DKIM_R_SIGN;
	return v;
}

/* dkim_reason_name - the word logged as reason= */
const char *
dkim_reason_name(enum dkim_reason reason)
{
	static const struct name_code names[] = {
		{"signed", DKIM_R_SIGN},
		{"external_client", DKIM_R_EXTERNAL_CLIENT},
		{"headers_too_large", DKIM_R_HEADERS_TOO_LARGE},
		{"no_from", DKIM_R_NO_FROM},
		{"multiple_from_fields", DKIM_R_MULTIPLE_FROM},
		{"malformed_from", DKIM_R_MALFORMED_FROM},
		{"multiple_from_addresses", DKIM_R_MULTIPLE_ADDRESSES},
		{"no_key_for_domain", DKIM_R_NO_KEY},
		{"login_not_allowed", DKIM_R_LOGIN_NOT_ALLOWED},
		{"signer_error", DKIM_R_SIGNER_ERROR},
		{"from_rewritten_by_mta", DKIM_R_FROM_REWRITTEN},
		{NULL, -1},
	};

	const char *w = name_code_str(names, reason);

	return w ? w : "unknown";
}

/* dkim_action_name - the word logged as action= */
const char *
dkim_action_name(enum dkim_action action)
{
	switch (action) {
	case DKIM_ACT_SIGN: return "sign";
	case DKIM_ACT_SKIP: return "skip";
	case DKIM_ACT_TEMPFAIL: return "tempfail";
	case DKIM_ACT_REJECT: return "reject";
	}
	return "unknown";
}
