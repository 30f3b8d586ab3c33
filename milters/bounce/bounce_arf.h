/*++
 * NAME
 *	bounce_arf 3h
 * SUMMARY
 *	RFC 5965 feedback report (ARF) parser
 * SYNOPSIS
 *	#include "bounce_arf.h"
 * DESCRIPTION
 *	bounce_arf_parse() reads the body of a message/feedback-report part
 *	(RFC 5965 section 3.1), already transfer-decoded, as (pointer,
 *	length). The fields are header-like and may be in any order. It
 *	keeps Feedback-Type (lowercased; abuse, fraud, virus, other,
 *	not-spam, auth-failure...), User-Agent, Version, the first
 *	Original-Rcpt-To and Original-Mail-From (without angle brackets),
 *	Source-IP, Reported-Domain, Arrival-Date and Reporting-MTA.
 *
 *	RFC 5965 makes Feedback-Type, User-Agent and Version required.
 *	Providers omit the last two often enough that only Feedback-Type is
 *	demanded: without it the function returns -1 with *why set, else 0.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_ARF_H
#define POSTMILL_BOUNCE_ARF_H

#include <stddef.h>

struct bounce_arf {
	char	feedback_type[32];
	char	user_agent[128];
	char	version[16];
	char	original_rcpt_to[321];
	char	original_mail_from[321];
	char	source_ip[64];
	char	reported_domain[256];
	char	arrival_date[64];
	char	reporting_mta[256];
};

int	bounce_arf_parse(const char *p, size_t len, struct bounce_arf *out,
			 const char **why);

#endif
