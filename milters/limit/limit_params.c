/*++
 * NAME
 *	limit_params 3
 * SUMMARY
 *	the postmill-limit parameter table
 * DESCRIPTION
 *	One row per limit_ parameter; the only place their defaults live.
 *
 *	limit_on_redis_error defaults to tempfail: while Redis cannot answer
 *	no limit can be enforced, and a 4xx reply only delays mail (the
 *	client retries), where accepting would let a sender exceed a plan
 *	that somebody pays for. Sites that prefer mail to flow set accept.
 *
 *	limit_reservation_ttl: a reservation that is neither confirmed nor
 *	refunded (a worker killed with SIGKILL, Redis unreachable until the
 *	transaction ended) is given back once it has passed. It must exceed
 *	the longest transaction, MAIL to end of message: Postfix bounds each
 *	step (smtpd_timeout 300s, milter timeouts) but not their sum, and a
 *	reservation that expires before its end of message leaves that mail
 *	uncounted (logged). 15 minutes is three smtpd_timeouts.
 *
 *	limit_utc_offset is a fixed offset: calendar windows (hour, day,
 *	week, month) start at local midnight of that offset. Zones with
 *	daylight saving time are not supported on purpose: a day of 23 or
 *	25 hours would change a quota's meaning twice a year.
 *--*/
#include <stddef.h>

#include "limit_conf.h"
#include "limit_window.h"
#include "xalloc.h"

#define L(field) offsetof(struct limit_conf, field)

/* the words of the CFG_ENUM rows, each beside its value */
static const struct name_code limit_on_error_codes[] = {
	{"tempfail", LIMIT_ON_ERROR_TEMPFAIL},
	{"accept", LIMIT_ON_ERROR_ACCEPT},
	{NULL, -1},
};

static const struct name_code limit_pause_codes[] = {
	{"off", LIMIT_PAUSE_OFF},
	{"tempfail", LIMIT_PAUSE_TEMPFAIL},
	{"reject", LIMIT_PAUSE_REJECT},
	{NULL, -1},
};

static const struct cfg_param limit_params[] = {
	{"limit_socket", CFG_STR, "unix:/run/postmill/limit.sock", L(socket), 0, 0, NULL, NULL,
	 "Where postmill-limit listens: unix:/path, inet:port@host or inet6:port@host."},
	{"limit_pid_file", CFG_STR, "/run/postmill/limit.pid", L(pid_file), 0, 0, NULL, NULL,
	 "Pid file of the postmill-limit supervisor (empty: none)."},
	{"limit_rules_file", CFG_STR, POSTMILL_SYSCONFDIR "/limit.rules", L(rules_file), 0, 0, NULL, NULL,
	 "Rules: \"name key what limit... [tempfail|reject]\" and \"exempt kind value...\" lines (see postmill-limit(8))."},
	{"limit_on_redis_error", CFG_ENUM, "tempfail", L(on_redis_error), 0, 0, limit_on_error_codes, NULL,
	 "What to do when Redis cannot answer in time: tempfail (451 4.3.0), or accept the mail uncounted and log it."},
	{"limit_key_prefix", CFG_STR, "pmlimit:", L(key_prefix), 0, 0, NULL, NULL,
	 "Prefix of every Redis key postmill-limit writes; Postfix nodes that share limits must use the same."},
	{"limit_utc_offset", CFG_STR, "+00:00", L(utc_offset), 0, 0, NULL, NULL,
	 "Fixed offset from UTC (+HH:MM) at which calendar windows (hour, day, week, month) start; no daylight saving time."},
	{"limit_log_accepted", CFG_BOOL, "yes", L(log_accepted), 0, 0, NULL, NULL,
	 "Log a line for accepted recipients and messages too, not only for refused ones."},
	{"limit_reservation_ttl", CFG_TIME, "15m", L(reservation_ttl), 1000, 86400000LL, NULL, "s",
	 "How long a reservation (a recipient at RCPT, the message with its first recipient) counts before the transaction confirms or refunds it; after that, e.g. when its worker was killed, it is given back. Longer than the longest SMTP transaction."},
	{"limit_tenant_pause", CFG_ENUM, "off", L(tenant_pause), 0, 0, limit_pause_codes, NULL,
	 "Mail of a tenant postmill-bounce paused (bounce or complaint rate): refused at MAIL with 451 4.7.1 (tempfail) or 550 5.7.1 (reject) until postmillctl tenant resume; off (the default: no Redis call at MAIL): not checked."},
	{"limit_tenant_pause_prefix", CFG_STR, "pmbounce:", L(tenant_pause_prefix), 0, 0, NULL, NULL,
	 "Where the pauses are in Redis: postmill-bounce's bounce_key_prefix."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* limit_validate - cross-parameter checks */
static void
limit_validate(const void *values, const char *path, struct errlist *el)
{
	const struct limit_conf *c = values;
	long long off;
	const char *why;

	if (limit_utc_offset_parse(c->utc_offset ? c->utc_offset : "", &off, &why) < 0)
		errlist_add_at(el, path, 0, "limit_utc_offset = %s: %s",
			       c->utc_offset ? c->utc_offset : "", why);
	if (c->key_prefix == NULL)
		errlist_add_at(el, path, 0, "limit_key_prefix is empty: keys "
			       "would mix with other applications' keys");
}

const struct cfg_section limit_section = {
	"limit", "limit_", limit_params, sizeof(struct limit_conf), limit_validate,
};
