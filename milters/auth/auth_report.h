/*++
 * NAME
 *	auth_report 3h
 * SUMMARY
 *	the resinfo elements of our Authentication-Results header
 * SYNOPSIS
 *	#include "auth_report.h"
 * DESCRIPTION
 *	auth_report_results() turns the verdicts of one message into the
 *	results auth_ar_write() writes (RFC 8601): spf for the MAIL FROM
 *	identity (smtp.mailfrom, the whole address as RFC 8601 2.7.2
 *	allows) unless the sender was null, and spf for the HELO identity
 *	(smtp.helo) whenever it was checked, each with problem= as reason
 *	for temperror and permerror (RFC 7208 8.6, 8.7); one dkim per signature
 *	verified (header.d, header.s, header.a, header.b with the first 8
 *	characters of b= as RFC 6008 suggests, the key size as a comment,
 *	reason= when it did not pass), "dkim=none" when there was none, and
 *	dmarc with header.from, policy.dmarc (the policy applied after the
 *	record's sp, np and t were processed, as RFC 9989's registration of
 *	policy.dmarc says: p=reject with t=y is quarantine),
 *	policy.published-domain-policy (the record's p as published) and
 *	policy.applied-disposition (what we did; "none" in a dry run). Pure; returns the number of results written (at most max).
 *--*/
#ifndef POSTMILL_AUTH_REPORT_H
#define POSTMILL_AUTH_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_ar.h"
#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "auth_policy.h"
#include "auth_spf.h"

struct auth_report_in {
	const struct auth_spf		*spf;		/* NULL: not checked */
	const struct auth_dkim_sig	*sigs;
	size_t				 nsigs;
	bool				 dmarc_done;
	const struct auth_dmarc_result	*dmarc;
	const char			*from_domain;
	enum auth_dmarc_res		 dmarc_res;	/* after trusted upstream */
	const struct auth_verdict	*verdict;
};

size_t auth_report_results(const struct auth_report_in *in,
			   struct auth_ar_result *out, size_t max);

#endif
