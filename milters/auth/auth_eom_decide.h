/*++
 * NAME
 *	auth_eom_decide 3h
 * SUMMARY
 *	postmill-auth: everything decided at end of message, as plain
 *	functions
 * SYNOPSIS
 *	#include "auth_eom_decide.h"
 *
 *	void	auth_eom_decide_dmarc_input(const struct auth_eom_in *in,
 *					    struct auth_eom_decision *d);
 *	void	auth_eom_decide(const struct auth_eom_in *in,
 *				const struct auth_dmarc_result *dr,
 *				struct auth_eom_decision *d);
 * DESCRIPTION
 *	The end-of-message callback gathers the facts (SPF outcome, From
 *	values, DKIM results, what trusted upstreams vouched for, the client
 *	address, the configuration) into a struct auth_eom_in and applies
 *	what these two functions decide; the only I/O between them is the
 *	DMARC evaluation (DNS).
 *
 *	auth_eom_decide_dmarc_input() extracts the From domain and builds
 *	the DMARC input: the SPF identity's result, replaced by a trusted
 *	upstream's spf=pass when ours did not pass (the upstream saw the
 *	original MAIL FROM), and the d= of every passing signature followed
 *	by the trusted upstream dkim=pass domains. d->dmarc_wanted says
 *	whether DMARC is to be evaluated (the From is exactly one address).
 *
 *	auth_eom_decide() takes the DMARC result (NULL when not evaluated)
 *	and decides the rest: the DMARC result after a trusted upstream's
 *	dmarc=pass for the same From domain, the trusted sender (From
 *	domain in auth_trusted_senders) and trusted forwarder (client in
 *	auth_trusted_forwarders), the verdict (auth_policy_decide()), the
 *	Received-SPF and Authentication-Results values to prepend, the
 *	quarantine (smfi_quarantine() or an X-Postmill-Quarantine header,
 *	auth_quarantine_mode), the reply (auth_reply.h) and whether the
 *	message is counted for aggregate reports.
 *
 *	Pure: no libmilter, no I/O, no clock, no globals.
 * MEMORY
 *	Pointers in the decision point into *in, *d itself or static
 *	strings: valid while both live. The decision is large (two header
 *	values): allocate it, not on a thread stack.
 *--*/
#ifndef POSTMILL_AUTH_EOM_DECIDE_H
#define POSTMILL_AUTH_EOM_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "auth_from.h"
#include "auth_policy.h"
#include "auth_reply.h"
#include "auth_spf.h"
#include "auth_upstream.h"
#include "cfg.h"
#include "cidr.h"

#define AUTH_EOM_HDR_MAX	16384	/* one header value we add */

struct auth_eom_in {
	const struct auth_spf		*spf;		/* NULL: SPF not checked */
	const struct auth_from_field	*from;		/* kept From values */
	size_t				 nfrom;		/* From fields seen */
	const struct auth_dkim_sig	*sigs;		/* our verification */
	size_t				 nsigs;
	const struct auth_upstream	*upstream;	/* trusted passes */
	const struct sockaddr		*client;	/* NULL: no IP address */
	const struct cidr_list		*trusted_forwarders;
	const struct cfg_list		*trusted_senders;
	const char			*authserv_id;
	struct auth_policy_options	 opt;
	int				 quarantine_mode; /* enum auth_quarantine_mode */
	bool				 reporting;	/* auth_report_record */
};

enum auth_eom_quarantine {
	AUTH_EOM_QUARANTINE_NONE,
	AUTH_EOM_QUARANTINE_MILTER,	/* smfi_quarantine(text) */
	AUTH_EOM_QUARANTINE_HEADER,	/* X-Postmill-Quarantine: text */
};

struct auth_eom_decision {
	/* auth_eom_decide_dmarc_input() */
	const struct spf_outcome *spf;		/* the identity's; NULL: none */
	const char		*spf_domain;	/* "" when none */
	struct auth_from	 from;
	const char		*from_why;
	bool			 dmarc_wanted;
	struct auth_dmarc_input	 din;
	/* auth_eom_decide() */
	struct auth_dmarc_result dmarc;		/* after upstream trust */
	struct auth_policy_input pin;
	struct auth_verdict	 v;
	bool			 add_received_spf;
	bool			 received_spf_ok;	/* the value fit */
	char			 received_spf[AUTH_EOM_HDR_MAX];
	char			 ar[AUTH_EOM_HDR_MAX];	/* Authentication-Results */
	enum auth_eom_quarantine quarantine;
	char			 quarantine_text[300];
	enum auth_reply		 reply;
	const char		*reply_arg;	/* the "%s" of the reply */
	bool			 record;	/* count for aggregate reports */
};

void	auth_eom_decide_dmarc_input(const struct auth_eom_in *in,
				    struct auth_eom_decision *d);
void	auth_eom_decide(const struct auth_eom_in *in,
			const struct auth_dmarc_result *dr,
			struct auth_eom_decision *d);

#endif
