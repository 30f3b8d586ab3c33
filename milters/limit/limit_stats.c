/*++
 * NAME
 *	limit_stats 3
 * SUMMARY
 *	postmill-limit's counters (see common/stats.h)
 * DESCRIPTION
 *	postmill_limit_decisions_total{stage,action,reason,rule}: every
 *	decision at RCPT and at end of message, whether or not it is logged
 *	(limit_log_accepted); rule is the rule that decided ("" when none
 *	did, e.g. no rule applies or Redis failed); rule names come from the
 *	rules file, so their number is bounded by it.
 *	postmill_limit_refunds_total{reason}: recipients and messages given
 *	back. Families are registered on first use.
 *--*/
#include <pthread.h>
#include <stdio.h>

#include "limit_stats.h"
#include "stats.h"

static struct stats_family *ls_decisions, *ls_refunds;
static pthread_once_t ls_once = PTHREAD_ONCE_INIT;

/* limit_stats_init - the families, once */
static void
limit_stats_init(void)
{
	ls_decisions = stats_counter("postmill_limit_decisions_total",
				     "Limit decisions by stage, action, reason and rule.",
				     "stage,action,reason,rule");
	ls_refunds = stats_counter("postmill_limit_refunds_total",
				   "Counts given back (recipients and messages), by reason.", "reason");
}

/* limit_stats_decision - one decision */
void
limit_stats_decision(const char *stage, const char *action, const char *reason,
		     const char *rule)
{
	char	v[192];

	pthread_once(&ls_once, limit_stats_init);
	snprintf(v, sizeof(v), "%s,%s,%s,%s", stage, action, reason, rule ? rule : "");
	stats_inc(ls_decisions, v);
}

/* limit_stats_refund - n counts given back */
void
limit_stats_refund(const char *reason, long long n)
{
	pthread_once(&ls_once, limit_stats_init);
	stats_add(ls_refunds, reason, n);
}
