/*++
 * NAME
 *	auth_eom_decide 3
 * SUMMARY
 *	postmill-auth: the end-of-message decisions
 * DESCRIPTION
 *	See auth_eom_decide.h. What a trusted upstream may change, and why:
 *	- its spf=pass stands in for ours only when ours did not pass: a
 *	  forwarder re-sends with its own MAIL FROM, so our SPF check sees
 *	  the forwarder, the upstream saw the author's domain;
 *	- its dkim=pass domains count for DMARC after our own passes
 *	  (a mailing list may have broken the signature it verified);
 *	- its dmarc=pass counts only for the same From domain, and only
 *	  when our own evaluation did not pass; the record's policy and t=
 *	  still come from our evaluation.
 *	Trusted senders and forwarders go to auth_policy_decide(), which
 *	knows what they may override.
 *--*/

/* System library. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Utility library. */

#include "xalloc.h"

/* Application-specific. */

#include "auth_ar.h"
#include "auth_conf.h"
#include "auth_eom_decide.h"
#include "auth_report.h"

#define AUTH_EOM_RESULTS_MAX	(AUTH_DKIM_SIGS_MAX + 4)	/* spf, dkim..., dmarc */

/* auth_eom_decide_dmarc_input - From domain and what DMARC will align */
void
auth_eom_decide_dmarc_input(const struct auth_eom_in *in,
			    struct auth_eom_decision *d)
{
	const struct auth_upstream *up = in->upstream;
	size_t i;

	memset(d, 0, sizeof(*d));
	d->spf_domain = "";
	if (in->spf != NULL && in->spf->done) {
		d->spf = auth_spf_identity(in->spf, &d->spf_domain);
		d->pin.spf_fail = d->spf->result == SPF_RES_FAIL;
		d->pin.spf_temperror = d->spf->result == SPF_RES_TEMPERROR;
		d->din.spf_domain = d->spf_domain;
		d->din.spf_pass = d->spf->result == SPF_RES_PASS;
		d->din.spf_temperror = d->pin.spf_temperror;
	}
	if (!d->din.spf_pass && up != NULL && up->spf_domain != NULL) {
		/* a trusted upstream saw the original MAIL FROM pass */
		d->din.spf_domain = up->spf_domain;
		d->din.spf_pass = true;
		d->din.spf_temperror = false;
	}
	d->pin.from = auth_from_extract(in->from, in->nfrom, &d->from,
					&d->from_why);
	if (d->pin.from != AUTH_FROM_OK)
		return;
	d->dmarc_wanted = true;
	d->din.from_domain = d->from.domain;
	for (i = 0; i < in->nsigs && d->din.ndkim < AUTH_DMARC_DKIM_MAX; i++)
		if (in->sigs[i].res == AUTH_DKIM_PASS)
			d->din.dkim_domains[d->din.ndkim++] = in->sigs[i].domain;
	for (i = 0; up != NULL && i < up->ndkim
	     && d->din.ndkim < AUTH_DMARC_DKIM_MAX; i++)
		d->din.dkim_domains[d->din.ndkim++] = up->dkim[i];
}

/* auth_eom_headers - the Received-SPF and Authentication-Results values */
static void
auth_eom_headers(const struct auth_eom_in *in, struct auth_eom_decision *d)
{
	struct auth_report_in rin = {0};
	struct auth_ar_result *res;
	size_t nres, nmax;

	d->add_received_spf = in->spf != NULL && in->spf->done;
	if (d->add_received_spf)
		d->received_spf_ok = auth_spf_received(in->spf, d->received_spf,
						       sizeof(d->received_spf)) >= 0;
	/*
	 * spf (2), the signatures, dkim=none (when none), dmarc: the count
	 * auth_report_results() can fill, each element zeroed as it fills it
	 * (rp_set()); the whole bound is 36 elements of 4.7 KB, whose
	 * clearing was 2 % of the suite worker's CPU (perf)
	 */
	nmax = in->nsigs + 4 < AUTH_EOM_RESULTS_MAX ? in->nsigs + 4
	    : AUTH_EOM_RESULTS_MAX;
	res = xmalloc(nmax * sizeof(*res));
	rin.spf = d->add_received_spf ? in->spf : NULL;
	rin.sigs = in->sigs;
	rin.nsigs = in->nsigs;
	rin.dmarc_done = d->pin.dmarc_done;
	rin.dmarc = &d->dmarc;
	rin.dmarc_res = d->pin.dmarc;
	rin.from_domain = d->from.domain;
	rin.verdict = &d->v;
	nres = auth_report_results(&rin, res, nmax);
	auth_ar_write(d->ar, sizeof(d->ar), in->authserv_id, res, nres);
	free(res);
}

/* auth_eom_decide - trust, verdict, headers, quarantine, reply */
void
auth_eom_decide(const struct auth_eom_in *in, const struct auth_dmarc_result *dr,
		struct auth_eom_decision *d)
{
	const struct auth_upstream *up = in->upstream;

	memset(&d->dmarc, 0, sizeof(d->dmarc));
	if (d->dmarc_wanted && dr != NULL) {
		d->dmarc = *dr;
		d->pin.dmarc_done = true;
		d->pin.dmarc = dr->res;
		if (dr->res != AUTH_DMARC_PASS && up != NULL && up->dmarc_from != NULL
		    && strcmp(up->dmarc_from, d->from.domain) == 0) {
			/* a trusted upstream already said dmarc=pass for this From */
			d->pin.dmarc = AUTH_DMARC_PASS;
			d->dmarc.why = "trusted upstream dmarc=pass";
		}
		d->pin.requested = dr->policy;
		d->pin.testing = dr->record_found && dr->rec.testing;
		d->pin.trusted_sender = in->trusted_senders != NULL
		    && cfg_list_contains(in->trusted_senders, d->from.domain, true);
	}
	d->pin.trusted_forwarder = in->client != NULL && in->trusted_forwarders != NULL
	    && cidr_list_match_sa(in->trusted_forwarders, in->client);
	d->v = auth_policy_decide(&d->pin, &in->opt);

	auth_eom_headers(in, d);

	d->quarantine = AUTH_EOM_QUARANTINE_NONE;
	d->quarantine_text[0] = '\0';
	if (d->v.action == AUTH_ACT_QUARANTINE) {
		snprintf(d->quarantine_text, sizeof(d->quarantine_text),
			 "DMARC policy of %s", d->from.domain);
		d->quarantine = in->quarantine_mode == AUTH_QUARANTINE_HEADER ?
		    AUTH_EOM_QUARANTINE_HEADER : AUTH_EOM_QUARANTINE_MILTER;
	}
	d->reply = auth_reply_of(&d->v);
	d->reply_arg = d->v.reason == AUTH_R_SPF_FAIL
	    || d->v.reason == AUTH_R_SPF_TEMPERROR ? d->spf_domain : d->from.domain;
	d->record = in->reporting && d->pin.dmarc_done;
}
