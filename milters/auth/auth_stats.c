/*++
 * NAME
 *	auth_stats 3
 * SUMMARY
 *	postmill-auth's counters (see common/stats.h)
 * DESCRIPTION
 *	Per inbound message, what the log line "auth: action=..." says:
 *	postmill_auth_messages_total{action,reason}, the DMARC result and
 *	the policy applied (postmill_auth_dmarc_total{result,policy}), the
 *	SPF result of the checked identity (postmill_auth_spf_total
 *	{result}), and each DKIM signature's result
 *	(postmill_auth_dkim_signatures_total{result}). Families are
 *	registered on first use.
 *--*/
#include <pthread.h>
#include <stdio.h>

#include "auth_stats.h"
#include "stats.h"

static struct stats_family *as_messages, *as_dmarc, *as_spf, *as_dkim;
static pthread_once_t as_once = PTHREAD_ONCE_INIT;

/* auth_stats_init - the families, once */
static void
auth_stats_init(void)
{
	as_messages = stats_counter("postmill_auth_messages_total",
				    "Inbound messages by action and reason.", "action,reason");
	as_dmarc = stats_counter("postmill_auth_dmarc_total",
				 "DMARC results and the published policy.", "result,policy");
	as_spf = stats_counter("postmill_auth_spf_total", "SPF results.", "result");
	as_dkim = stats_counter("postmill_auth_dkim_signatures_total",
				"DKIM signature verification results.", "result");
}

/* auth_stats_message - one message's results */
void
auth_stats_message(const char *action, const char *reason, const char *dmarc,
		   const char *policy, const char *spf)
{
	char	v[128];

	pthread_once(&as_once, auth_stats_init);
	snprintf(v, sizeof(v), "%s,%s", action, reason);
	stats_inc(as_messages, v);
	snprintf(v, sizeof(v), "%s,%s", dmarc, policy);
	stats_inc(as_dmarc, v);
	stats_inc(as_spf, spf);
}

/* auth_stats_dkim - one signature's result */
void
auth_stats_dkim(const char *result)
{
	pthread_once(&as_once, auth_stats_init);
	stats_inc(as_dkim, result);
}
