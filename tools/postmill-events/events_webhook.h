/*++
 * NAME
 *	events_webhook 3h
 * SUMMARY
 *	per-tenant webhooks: the table, the signature, the sender
 * SYNOPSIS
 *	#include "events_webhook.h"
 * DESCRIPTION
 *	The table (events_webhook_table) has one webhook per line:
 *	  TENANT URL SECRET_FILE
 *	separated by blanks; '#' starts a comment line; blank lines are
 *	ignored. TENANT is a tenant name as events carry it (events.h: the
 *	tenant table's name, e.g. login:bob, or the sender's domain;
 *	compared without case); URL is https://..., or http:// to
 *	127.0.0.1 or [::1] only (a local relay, tests): events carry
 *	addresses, they do not cross networks in clear. SECRET_FILE holds the
 *	HMAC key, 16-256 bytes, mode 0600 or stricter. A tenant appears once.
 *	events_wh_parse() is pure: text and length, every problem added to
 *	el as "path:line: ...", returns the number of errors;
 *	events_wh_load() reads the file, parses it and reads the secrets.
 *	events_wh_table_free() frees the rows (secrets cleansed).
 *	events_wh_find() is the row of a tenant, or NULL.
 *
 *	Signature. Every POST carries
 *	  X-Postmill-Event-Id: ID		(deduplicate on this)
 *	  X-Postmill-Timestamp: T		(seconds since the epoch)
 *	  X-Postmill-Signature: v1=HEX
 *	where HEX is the lower-case hex HMAC-SHA256(secret, T "." BODY), BODY
 *	the exact bytes of the request body. A receiver recomputes it and
 *	compares in constant time (Python: hmac.compare_digest), and refuses
 *	a T too far from its clock (replays). events_wh_sign() writes the
 *	64 hex digits and a NUL.
 *	events_wh_json() makes the body: a JSON object of the event's
 *	fields (all strings); the caller frees it.
 *
 *	Sender (events_wh_run(), a thread): reads the event stream from its
 *	own committed position (PREFIX{ev}:wh:pos), POSTs each event of a
 *	tenant with a webhook, at most events_webhook_max_in_flight at once
 *	(libcurl multi), each bounded by events_webhook_timeout, response
 *	bodies discarded after 64 KiB. A 2xx is delivered. Anything else
 *	(an error status, a timeout, a refused connection) puts the event
 *	on the retry schedule, PREFIX{ev}:wh:retry (a sorted set by due time,
 *	attempts in PREFIX{ev}:wh:att), with a wait of events_webhook_retry_min
 *	doubled per attempt up to events_webhook_retry_max; after
 *	events_webhook_max_attempts it is appended to the dead-letter stream
 *	PREFIX{ev}:dead (the event, tenant, url, attempts, last error).
 *	The stream position advances only over events that are delivered,
 *	scheduled for retry, or not for any webhook, and a retry taken is
 *	leased (its due time moved past the timeout) before it is sent: a
 *	crash or restart sends again at most what was in flight. Delivery is
 *	at-least-once; order is not kept across retries.
 * THREAD SAFETY
 *	The table is immutable once loaded. The sender is one thread.
 *--*/
#ifndef POSTMILL_EVENTS_WEBHOOK_H
#define POSTMILL_EVENTS_WEBHOOK_H

#include <stddef.h>

#include "cfg_events.h"
#include "errlist.h"
#include "events.h"
#include "redis.h"

#define EVENTS_WH_URL_MAX	1000
#define EVENTS_WH_SECRET_MIN	16
#define EVENTS_WH_SECRET_MAX	256
#define EVENTS_WH_MAX		10000	/* rows */
#define EVENTS_WH_BODY_MAX	65536	/* response bytes read */

struct events_wh {
	char		 tenant[256];
	char		 url[EVENTS_WH_URL_MAX + 1];
	char		 secret_file[1024];
	unsigned char	 secret[EVENTS_WH_SECRET_MAX];
	size_t		 secretlen;
	unsigned	 line;		/* in the table file */
};

struct events_wh_table {
	struct events_wh *v;
	size_t		 n;
};

size_t	events_wh_parse(const char *text, size_t len, const char *path,
			struct events_wh_table *t, struct errlist *el);
int	events_wh_load(const char *path, struct events_wh_table *t,
		       struct errlist *el);
void	events_wh_table_free(struct events_wh_table *t);
const struct events_wh *events_wh_find(const struct events_wh_table *t,
				       const char *tenant);
void	events_wh_sign(const unsigned char *secret, size_t secretlen,
		       const char *ts, const char *body, size_t bodylen,
		       char out[65]);
char   *events_wh_json(const struct events_ev *e);

struct events_wh_ctx {
	struct redis_pool *pool;
	const struct events_conf *conf;
	const struct events_wh_table *table;
	volatile int	*stop;
};

void   *events_wh_run(void *ctx);

#endif
