/*++
 * NAME
 *	dkim_stats 3
 * SUMMARY
 *	postmill-dkim's counters (see common/stats.h)
 * DESCRIPTION
 *	postmill_dkim_messages_total{action,reason}: every decision the log
 *	line "dkim: action=... reason=..." records (sign, skip, tempfail,
 *	reject, with the reason word); postmill_dkim_signatures_total
 *	{algorithm}: signatures added. Families are registered on first use.
 *--*/
#include <pthread.h>
#include <stdio.h>

#include "dkim_stats.h"
#include "stats.h"

static struct stats_family *dkim_stats_messages, *dkim_stats_sigs;
static pthread_once_t dkim_stats_once = PTHREAD_ONCE_INIT;

/* dkim_stats_init - the families, once */
static void
dkim_stats_init(void)
{
	dkim_stats_messages = stats_counter("postmill_dkim_messages_total",
					    "Messages by signing decision and reason.", "action,reason");
	dkim_stats_sigs = stats_counter("postmill_dkim_signatures_total",
					"DKIM signatures added, by key algorithm.", "algorithm");
}

/* dkim_stats_message - one decision */
void
dkim_stats_message(const char *action, const char *reason)
{
	char	v[96];

	pthread_once(&dkim_stats_once, dkim_stats_init);
	snprintf(v, sizeof(v), "%s,%s", action, reason ? reason : "");
	stats_inc(dkim_stats_messages, v);
}

/* dkim_stats_signature - one signature added */
void
dkim_stats_signature(const char *algorithm)
{
	pthread_once(&dkim_stats_once, dkim_stats_init);
	stats_inc(dkim_stats_sigs, algorithm);
}
