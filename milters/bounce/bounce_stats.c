/*++
 * NAME
 *	bounce_stats 3
 * SUMMARY
 *	postmill-bounce's counters (see common/stats.h)
 * DESCRIPTION
 *	postmill_bounce_tagged_total: outbound messages tagged;
 *	postmill_bounce_records_total{kind,class,reason}: bounces and
 *	complaints recorded; postmill_bounce_suppressions_total{kind}:
 *	recipients they suppressed; postmill_bounce_refused_total{reason}:
 *	RCPTs refused (bad tag, suppressed recipient);
 *	postmill_bounce_redis_errors_total{stage}: decisions Redis could not
 *	serve. Families are registered on first use.
 *--*/
#include <pthread.h>
#include <stdio.h>

#include "bounce_stats.h"
#include "stats.h"

static struct stats_family *bs_tagged, *bs_records, *bs_supp, *bs_refused, *bs_redis,
    *bs_tenant;
static pthread_once_t bs_once = PTHREAD_ONCE_INIT;

/* bounce_stats_init - the families, once */
static void
bounce_stats_init(void)
{
	bs_tagged = stats_counter("postmill_bounce_tagged_total",
				  "Outbound messages given a bounce tag.", NULL);
	bs_records = stats_counter("postmill_bounce_records_total",
				   "Bounces and complaints recorded, by kind, class and reason.",
				   "kind,class,reason");
	bs_supp = stats_counter("postmill_bounce_suppressions_total",
				"Recipients suppressed, by the kind of report.", "kind");
	bs_refused = stats_counter("postmill_bounce_refused_total",
				   "RCPTs refused: an invalid tag, or a suppressed recipient.", "reason");
	bs_redis = stats_counter("postmill_bounce_redis_errors_total",
				 "Decisions Redis could not serve in time, by stage.", "stage");
	bs_tenant = stats_counter("postmill_bounce_tenant_state_total",
				  "Tenants put under review or paused by their bounce or complaint rate.",
				  "state");
}

/* bounce_stats_tenant - a tenant put under review or paused */
void
bounce_stats_tenant(const char *state)
{
	pthread_once(&bs_once, bounce_stats_init);
	stats_inc(bs_tenant, state);
}

/* bounce_stats_tagged - one message tagged */
void
bounce_stats_tagged(void)
{
	pthread_once(&bs_once, bounce_stats_init);
	stats_inc(bs_tagged, NULL);
}

/* bounce_stats_record - one report recorded, suppressing nsup recipients */
void
bounce_stats_record(const char *kind, const char *cls, const char *reason, size_t nsup)
{
	char	v[128];

	pthread_once(&bs_once, bounce_stats_init);
	snprintf(v, sizeof(v), "%s,%s,%s", kind, cls, reason);
	stats_inc(bs_records, v);
	if (nsup > 0)
		stats_add(bs_supp, kind, (long long)nsup);
}

/* bounce_stats_refused - one RCPT refused */
void
bounce_stats_refused(const char *reason)
{
	pthread_once(&bs_once, bounce_stats_init);
	stats_inc(bs_refused, reason);
}

/* bounce_stats_redis_error - Redis failed a decision */
void
bounce_stats_redis_error(const char *stage)
{
	pthread_once(&bs_once, bounce_stats_init);
	stats_inc(bs_redis, stage);
}
