/*++
 * NAME
 *	auth_policy 3
 * SUMMARY
 *	what postmill-auth does with a message: the disposition decision
 * DESCRIPTION
 *	See auth_policy.h.
 *--*/
#include "auth_policy.h"

/* policy_verdict - a verdict, dry_run applied */
static struct auth_verdict
policy_verdict(enum auth_action a, enum auth_reason r,
	       const struct auth_policy_options *opt)
{
	struct auth_verdict v = {a, a, r};

	if (opt->dry_run)
		v.action = AUTH_ACT_ACCEPT;
	return v;
}

/* auth_policy_decide - see auth_policy.h */
struct auth_verdict
auth_policy_decide(const struct auth_policy_input *in,
		   const struct auth_policy_options *opt)
{
	bool trusted = in->trusted_sender || in->trusted_forwarder;
	enum auth_reason trust_reason = in->trusted_sender ?
	    AUTH_R_TRUSTED_SENDER : AUTH_R_TRUSTED_FORWARDER;
	enum auth_dmarc_p p;

	if (in->spf_fail && opt->reject_on_spf_fail)
		return trusted ? policy_verdict(AUTH_ACT_ACCEPT, trust_reason, opt)
		    : policy_verdict(AUTH_ACT_REJECT, AUTH_R_SPF_FAIL, opt);
	if (in->spf_temperror && opt->reject_on_spf_fail
	    && opt->on_temperror == AUTH_TEMPERROR_TEMPFAIL)
		return trusted ? policy_verdict(AUTH_ACT_ACCEPT, trust_reason, opt)
		    : policy_verdict(AUTH_ACT_TEMPFAIL, AUTH_R_SPF_TEMPERROR, opt);
	if (in->from != AUTH_FROM_OK) {
		if (opt->on_bad_from == AUTH_BAD_FROM_ACCEPT)
			return policy_verdict(AUTH_ACT_ACCEPT, AUTH_R_FROM, opt);
		if (opt->on_bad_from == AUTH_BAD_FROM_TEMPFAIL)
			return policy_verdict(AUTH_ACT_TEMPFAIL, AUTH_R_FROM, opt);
		if (trusted)
			return policy_verdict(AUTH_ACT_ACCEPT, trust_reason, opt);
		return policy_verdict(AUTH_ACT_REJECT, AUTH_R_FROM, opt);
	}
	if (!in->dmarc_done)
		return policy_verdict(AUTH_ACT_ACCEPT, AUTH_R_NONE, opt);
	if (in->dmarc == AUTH_DMARC_TEMPERROR)
		return policy_verdict(opt->on_temperror == AUTH_TEMPERROR_TEMPFAIL ?
				      AUTH_ACT_TEMPFAIL : AUTH_ACT_ACCEPT,
				      AUTH_R_DMARC_TEMPERROR, opt);
	if (in->dmarc != AUTH_DMARC_FAIL)
		return policy_verdict(AUTH_ACT_ACCEPT, AUTH_R_NONE, opt);
	/* RFC 9989 t=y: one step softer than requested */
	p = auth_dmarc_p_applied(in->requested, in->testing);
	if (in->testing && p != in->requested && p == AUTH_DMARC_P_NONE)
		return policy_verdict(AUTH_ACT_ACCEPT, AUTH_R_DMARC_TESTING, opt);
	if (p != AUTH_DMARC_P_QUARANTINE && p != AUTH_DMARC_P_REJECT)
		return policy_verdict(AUTH_ACT_ACCEPT, AUTH_R_DMARC_POLICY, opt);
	if (trusted)
		return policy_verdict(AUTH_ACT_ACCEPT, trust_reason, opt);
	return policy_verdict(p == AUTH_DMARC_P_REJECT ? AUTH_ACT_REJECT :
			      AUTH_ACT_QUARANTINE, in->testing ?
			      AUTH_R_DMARC_TESTING : AUTH_R_DMARC_POLICY, opt);
}

/* auth_policy_checks_client - is this client's mail ours to check */
bool
auth_policy_checks_client(bool authenticated, bool internal,
			  bool check_authenticated, bool check_internal)
{
	/* either kind of ours sends outbound mail: both must be wanted */
	if (authenticated && !check_authenticated)
		return false;
	if (internal && !check_internal)
		return false;
	return true;
}

/* auth_action_name - the word logged as action= */
const char *
auth_action_name(enum auth_action a)
{
	switch (a) {
	case AUTH_ACT_ACCEPT: return "accept";
	case AUTH_ACT_QUARANTINE: return "quarantine";
	case AUTH_ACT_REJECT: return "reject";
	case AUTH_ACT_TEMPFAIL: return "tempfail";
	}
	return "unknown";
}

/* auth_reason_name - the word logged as reason= */
const char *
auth_reason_name(enum auth_reason r)
{
	switch (r) {
	case AUTH_R_NONE: return "none";
	case AUTH_R_SPF_FAIL: return "spf_fail";
	case AUTH_R_SPF_TEMPERROR: return "spf_temperror";
	case AUTH_R_FROM: return "from";
	case AUTH_R_DMARC_TEMPERROR: return "dmarc_temperror";
	case AUTH_R_DMARC_POLICY: return "dmarc_policy";
	case AUTH_R_DMARC_TESTING: return "dmarc_testing";
	case AUTH_R_TRUSTED_SENDER: return "trusted_sender";
	case AUTH_R_TRUSTED_FORWARDER: return "trusted_forwarder";
	}
	return "unknown";
}
