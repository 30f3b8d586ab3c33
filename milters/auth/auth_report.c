/*++
 * NAME
 *	auth_report 3
 * SUMMARY
 *	the resinfo elements of our Authentication-Results header
 * DESCRIPTION
 *	See auth_report.h.
 *--*/
#include <stdio.h>
#include <string.h>

#include "auth_report.h"

/* rp_set - method and result of a fresh element */
static struct auth_ar_result *
rp_set(struct auth_ar_result *r, const char *method, const char *result)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->result, sizeof(r->result), "%s", result);
	return r;
}

/* rp_disposition - the word for what we did */
static const char *
rp_disposition(const struct auth_verdict *v)
{
	switch (v->action) {
	case AUTH_ACT_QUARANTINE: return "quarantine";
	case AUTH_ACT_REJECT: return "reject";
	default: return "none";
	}
}

/* rp_spf - one spf result: smtp.mailfrom or smtp.helo */
static void
rp_spf(struct auth_ar_result *r, const struct spf_outcome *o, const char *prop,
       const char *value)
{
	rp_set(r, "spf", spf_result_name(o->result));
	if ((o->result == SPF_RES_TEMPERROR || o->result == SPF_RES_PERMERROR)
	    && o->problem[0] != '\0')
		snprintf(r->reason, sizeof(r->reason), "%s", o->problem);
	auth_ar_result_prop(r, "smtp", prop, value);
}

/* auth_report_results - see auth_report.h */
size_t
auth_report_results(const struct auth_report_in *in, struct auth_ar_result *out,
		    size_t max)
{
	size_t n = 0, i;

	if (in->spf != NULL && in->spf->done) {
		const struct auth_spf *spf = in->spf;

		if (!spf->null_sender && n + 2 < max)
			rp_spf(&out[n++], &spf->mfrom, "mailfrom", spf->mail_from);
		if (spf->helo_checked && n + 2 < max)
			rp_spf(&out[n++], &spf->heloid, "helo", spf->helo);
	}
	for (i = 0; i < in->nsigs && n + 1 < max; i++) {
		const struct auth_dkim_sig *s = &in->sigs[i];
		struct auth_ar_result *r = rp_set(&out[n++], "dkim",
						  auth_dkim_res_name(s->res));

		if (s->key_bits > 0)
			snprintf(r->comment, sizeof(r->comment), "%u-bit key", s->key_bits);
		if (s->res != AUTH_DKIM_PASS && s->why && *s->why)
			snprintf(r->reason, sizeof(r->reason), "%s", s->why);
		auth_ar_result_prop(r, "header", "d", s->domain);
		auth_ar_result_prop(r, "header", "s", s->selector);
		if (s->alg[0])
			auth_ar_result_prop(r, "header", "a", s->alg);
		if (s->b[0])
			auth_ar_result_prop(r, "header", "b", s->b);
	}
	if (in->nsigs == 0 && n + 1 < max)
		rp_set(&out[n++], "dkim", "none");
	if (in->dmarc_done && n < max) {
		struct auth_ar_result *r = rp_set(&out[n++], "dmarc",
						  auth_dmarc_res_name(in->dmarc_res));

		if (in->dmarc->why && in->dmarc_res != AUTH_DMARC_PASS)
			snprintf(r->reason, sizeof(r->reason), "%s", in->dmarc->why);
		auth_ar_result_prop(r, "header", "from", in->from_domain);
		if (in->dmarc->record_found) {
			/*
			 * policy.dmarc (RFC 9989 IANA registration): the policy
			 * applied after t, sp and np; the record's p beside it
			 */
			auth_ar_result_prop(r, "policy", "dmarc",
					    auth_dmarc_p_name(auth_dmarc_p_applied(
						in->dmarc->policy, in->dmarc->rec.testing)));
			auth_ar_result_prop(r, "policy", "published-domain-policy",
					    auth_dmarc_p_name(in->dmarc->rec.p));
			auth_ar_result_prop(r, "policy", "applied-disposition",
					    rp_disposition(in->verdict));
			if (in->dmarc->rec.testing)
				snprintf(r->comment, sizeof(r->comment), "t=y testing");
		}
	}
	return n;
}
