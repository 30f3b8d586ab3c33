/*++
 * NAME
 *	cfg_events 3
 * SUMMARY
 *	the postmill-events parameter table
 * DESCRIPTION
 *	One row per events_ parameter; the only place their defaults live.
 *	The bounce prefix and stream must name what postmill-bounce writes
 *	(bounce_key_prefix, bounce_stream): the message records and the
 *	bounce/complaint events that postmill-events joins with the log.
 *--*/
#include <stddef.h>

#include "cfg_events.h"

#define E(field) offsetof(struct events_conf, field)

static const struct cfg_param events_params[] = {
	{"events_maillog", CFG_STR, "/var/log/mail.log", E(maillog), 0, 0, NULL, NULL,
	 "The Postfix log to follow (its maillog_file, or the syslog file with Postfix's lines); rotation and truncation are noticed."},
	{"events_key_prefix", CFG_STR, "pmevents:", E(key_prefix), 0, 0, NULL, NULL,
	 "Prefix of postmill-events' Redis keys: the event stream PREFIX{ev}:stream, the read positions, the per-queue-id state and the webhook lists."},
	{"events_stream_maxlen", CFG_INT, "1000000", E(stream_maxlen), 1000, 0, NULL, NULL,
	 "Approximate bound of the event stream (XADD MAXLEN ~); older events are trimmed."},
	{"events_state_ttl", CFG_TIME, "7d", E(state_ttl), 60000, 0, NULL, "s",
	 "How long the state of one queued message (its tag, sender, recipients, Message-ID) is kept; at least Postfix's maximal_queue_lifetime."},
	{"events_poll_interval", CFG_TIME, "200ms", E(poll_interval), 10, 10000, NULL, "ms",
	 "How often the log and the bounce stream are polled when there is nothing new."},
	{"events_batch_lines", CFG_INT, "512", E(batch_lines), 1, 100000, NULL, NULL,
	 "Log lines per commit: the events of a batch and the new log position are written to Redis in one atomic script."},
	{"events_bounce_key_prefix", CFG_STR, "pmbounce:", E(bounce_key_prefix), 0, 0, NULL, NULL,
	 "postmill-bounce's bounce_key_prefix: where the records of tagged messages are read."},
	{"events_bounce_stream", CFG_STR, "pmbounce:events", E(bounce_stream), 0, 0, NULL, NULL,
	 "postmill-bounce's bounce_stream: bounces and complaints that came back, turned into bounced and complained events."},
	{"events_webhook_table", CFG_STR, "", E(webhook_table), 0, 0, NULL, NULL,
	 "File of per-tenant webhooks, one per line: TENANT URL SECRET_FILE (empty: no webhooks)."},
	{"events_webhook_timeout", CFG_TIME, "10s", E(webhook_timeout), 100, 120000, NULL, "ms",
	 "Time limit of one webhook POST (connect, TLS, request and response)."},
	{"events_webhook_max_in_flight", CFG_INT, "8", E(webhook_max_in_flight), 1, 256, NULL, NULL,
	 "Webhook POSTs under way at once, all endpoints together."},
	{"events_webhook_retry_min", CFG_TIME, "1s", E(webhook_retry_min), 10, 0, NULL, "ms",
	 "Wait before the first retry of a failed POST; it doubles with each try."},
	{"events_webhook_retry_max", CFG_TIME, "1h", E(webhook_retry_max), 10, 0, NULL, "ms",
	 "Longest wait between two tries."},
	{"events_webhook_max_attempts", CFG_INT, "12", E(webhook_max_attempts), 1, 1000, NULL, NULL,
	 "Tries of one event before it goes to the tenant's dead-letter list."},
	{"events_webhook_dead_maxlen", CFG_INT, "100000", E(webhook_dead_maxlen), 1, 0, NULL, NULL,
	 "Approximate bound of the dead-letter stream PREFIX{ev}:dead."},
	{"events_metrics_tenants", CFG_INT, "50", E(metrics_tenants), 0, 120, NULL, NULL,
	 "Tenants that get their own tenant label in the per-tenant metrics (postmill_tenant_*_total), the first seen since the start; the events of any other tenant count as tenant=\"other\" (bounded series)."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* events_validate - prefixes and the log path must be set */
static void
events_validate(const void *values, const char *path, struct errlist *el)
{
	const struct events_conf *c = values;

	if (c->maillog == NULL || c->maillog[0] != '/')
		errlist_add_at(el, path, 0, "events_maillog must be an absolute path");
	if (c->key_prefix == NULL)
		errlist_add_at(el, path, 0, "events_key_prefix is empty");
	if (c->bounce_key_prefix == NULL || c->bounce_stream == NULL)
		errlist_add_at(el, path, 0, "events_bounce_key_prefix and events_bounce_stream must be set");
	if (c->webhook_retry_min > c->webhook_retry_max)
		errlist_add_at(el, path, 0, "events_webhook_retry_min is above events_webhook_retry_max");
}

const struct cfg_section cfg_events_section = {
	"events", "events_", events_params, sizeof(struct events_conf),
	events_validate,
};
