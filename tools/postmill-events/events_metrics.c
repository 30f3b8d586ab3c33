/*++
 * NAME
 *	events_metrics 3
 * SUMMARY
 *	per-tenant counters of committed events, bounded in tenants
 * DESCRIPTION
 *	events_metrics_init() makes the families (once, at start) and sets
 *	the number of tenants that get a label value of their own.
 *	events_metrics_count() counts the events of a committed batch: the
 *	counters of "postmillctl stats --tenant T", per tenant, on the stats
 *	socket (and so on postmill-exporter's /metrics):
 *	  postmill_tenant_EVENT_total{tenant}	EVENT: sent (the accepted
 *		events), delivered, deferred, complained, unsubscribed,
 *		opened, clicked, suppressed
 *	  postmill_tenant_bounced_total{tenant,class}	class: hard, soft
 *		(anything not hard is soft, as postmillctl stats counts)
 *	One family per counter rather than one with an event label: each
 *	family holds at most STATS_MAX_CHILDREN series.
 *	Cardinality: the first max tenants seen since the start are their
 *	own label value, every later one is tenant="other" (a Prometheus
 *	series set must not grow with the traffic: without a tenant table
 *	every sender domain is a tenant). The bounced family, 2 classes x
 *	max + 2 others, stays below STATS_MAX_CHILDREN for max <=
 *	EVENTS_METRICS_TENANTS_MAX. A tenant name longer than a label value
 *	may be (stats.h) is counted as "other" by stats.h. An event
 *	without a tenant is tenant="none"; a comma (stats.h separates label
 *	values with it) becomes '_'.
 * THREAD SAFETY
 *	events_metrics_count() belongs to the log thread (the admitted
 *	tenants are its own); the counters are stats.h's.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "stats.h"
#include "xalloc.h"

static const char *const emt_names[][2] = {	/* event type, counter */
	{"accepted", "sent"}, {"delivered", "delivered"}, {"deferred", "deferred"},
	{"complained", "complained"}, {"unsubscribed", "unsubscribed"},
	{"opened", "opened"}, {"clicked", "clicked"}, {"suppressed", "suppressed"},
};
#define EMT_N	(sizeof(emt_names) / sizeof(emt_names[0]))

static struct stats_family *emt_fam[EMT_N], *emt_bounced;
static char *emt_tenant[EVENTS_METRICS_TENANTS_MAX];
static size_t emt_n, emt_max;

/* events_metrics_init - the families; max tenants with their own label */
void
events_metrics_init(long long max)
{
	emt_max = max < 0 ? 0 : max > EVENTS_METRICS_TENANTS_MAX
	    ? EVENTS_METRICS_TENANTS_MAX : (size_t)max;
	for (size_t i = 0; i < emt_n; i++)
		free(emt_tenant[i]);
	emt_n = 0;
	for (size_t k = 0; k < EMT_N; k++) {
		char name[64], help[160];

		snprintf(name, sizeof(name), "postmill_tenant_%s_total", emt_names[k][1]);
		snprintf(help, sizeof(help), "Recipients %s per tenant (%s events; tenants past "
			 "events_metrics_tenants are \"other\").", emt_names[k][1], emt_names[k][0]);
		emt_fam[k] = stats_counter(name, help, "tenant");
	}
	emt_bounced = stats_counter("postmill_tenant_bounced_total",
				    "Bounced recipients per tenant and class (hard, soft).",
				    "tenant,class");
}

/* emt_label - the label value of a tenant: itself, "other" or "none" */
static const char *
emt_label(const char *tenant, char *buf, size_t buflen)
{
	size_t i;

	if (tenant[0] == '\0')
		return "none";
	for (i = 0; i < emt_n; i++)
		if (strcmp(emt_tenant[i], tenant) == 0)
			break;
	if (i == emt_n) {
		if (emt_n == emt_max || strcmp(tenant, "other") == 0 || strcmp(tenant, "none") == 0)
			return "other";
		emt_tenant[emt_n++] = xstrdup(tenant);
	}
	snprintf(buf, buflen, "%s", tenant);
	for (char *p = buf; *p != '\0'; p++)
		if (*p == ',')
			*p = '_';
	return buf;
}

/* events_metrics_count - the events of a committed batch */
void
events_metrics_count(const struct events_batch *b)
{
	char	 buf[300], values[400];

	if (emt_bounced == NULL)
		return;
	for (size_t i = 0; i < b->nev; i++) {
		const char *type = events_ev_get(&b->ev[i], "type");
		const char *t = emt_label(events_ev_get(&b->ev[i], "tenant"), buf, sizeof(buf));

		if (strcmp(type, "bounced") == 0) {
			snprintf(values, sizeof(values), "%s,%s", t,
				 strcmp(events_ev_get(&b->ev[i], "class"), "hard") == 0 ? "hard" : "soft");
			stats_inc(emt_bounced, values);
			continue;
		}
		for (size_t k = 0; k < EMT_N; k++)
			if (strcmp(type, emt_names[k][0]) == 0) {
				stats_inc(emt_fam[k], t);
				break;
			}
	}
}
