/*++
 * NAME
 *	events 3h
 * SUMMARY
 *	postmill-events: the batch of one commit, events, the log follower
 * SYNOPSIS
 *	#include "events.h"
 * DESCRIPTION
 *	Redis keys (PREFIX = events_key_prefix; one hash tag, "{ev}", so that
 *	the commit script may touch them all, also on a Redis Cluster):
 *	  PREFIX{ev}:stream	the events (XADD MAXLEN ~ events_stream_maxlen)
 *	  PREFIX{ev}:pos	"DEV:INO:OFFSET:FP" of the next log line to
 *				read (FP: events_follow.c's fingerprint of
 *				the file's first line; "DEV:INO:OFFSET" of
 *				older versions is read as FP 0)
 *	  PREFIX{ev}:bpos	the last bounce-stream entry id turned into
 *				events
 *	  PREFIX{ev}:q:QID	hash: one queued message: msgid (Message-ID),
 *				id (tag id), sender, tenant, rcpts, acc
 *				(accepted events emitted), fin (recipients
 *				with a final state); TTL events_state_ttl;
 *				deleted at "removed"
 *	  PREFIX{ev}:bx:ID:RCPT	the log reported this recipient bounced:
 *				the DSN that comes back is not a second event
 *	  PREFIX{ev}:wh:...	the webhook sender's (events_webhook.h)
 *
 *	A batch (events_batch) gathers the events of up to events_batch_lines
 *	log lines and the queue-id states they touched; events_store_commit()
 *	writes them, and the new log position, in ONE Lua script: after a
 *	crash the log is read again from the last committed position, so an
 *	event is in the stream exactly once per committed line, and its id
 *	(a SHA-256 of the line's file, offset, text and the recipient) is
 *	the same if the line is ever read twice.
 *
 *	Event fields (strings): id, type (accepted, delivered, deferred,
 *	bounced, complained, suppressed, unsubscribed, opened, clicked),
 *	time (seconds), tenant (the tenant postmill-bounce chose at tagging
 *	and wrote in the message record: its tenant table's name, where a
 *	SASL login's login:NAME wins over the sender domain; else the
 *	domain of the original envelope sender), sender, recipient,
 *	queue_id, message_id (the Message-ID header), tag_id (the
 *	postmill-bounce record), and as they apply: relay, dsn, class (hard,
 *	soft, complaint), reason, diagnostic, delay, url and link (clicked),
 *	first (opened, clicked), source (log, dsn, arf, smtp, unsubscribe,
 *	track). The bounce_stream entries they come from: bounce_stream.h.
 * THREAD SAFETY
 *	The batch and the follower belong to the log thread.
 *--*/
#ifndef POSTMILL_EVENTS_H
#define POSTMILL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cfg_events.h"
#include "events_parse.h"
#include "redis.h"

#define EVENTS_MAX_FIELDS	20
#define EVENTS_RCPTS_MAX	4096	/* bytes of a state's recipient list */
#define EVENTS_READ_BUF		65536
#define EVENTS_ROTATED_SCAN	10000	/* directory entries looked at */
#define EVENTS_FP_MAX		4096	/* octets of a first line fingerprinted */

struct events_ev {
	size_t		 n;		/* field/value pairs */
	const char	*f[EVENTS_MAX_FIELDS];
	char		*v[EVENTS_MAX_FIELDS];	/* owned */
};

/* one queued message's state, loaded once per batch */
struct events_q {
	char		 qid[EVENTS_QID_MAX + 1];
	char		 msgid[256];
	char		 id[EVENTS_ID_HEX];	/* "" untagged */
	char		 sender[EVENTS_ADDR_MAX + 1];
	char		 tenant[264];	/* bounce_msgrec's tenant fits */
	char		 rcpts[EVENTS_RCPTS_MAX];
	char		 fin[EVENTS_RCPTS_MAX];
	bool		 acc;
	bool		 dirty;
	bool		 deleted;
};

struct events_batch {
	struct events_ev *ev;
	size_t		 nev, evcap;
	struct events_q	*q;
	size_t		 nq, qcap;
	char		**bx;		/* PREFIX{ev}:bx:... keys to set */
	size_t		 nbx;
	char		 bpos[64];	/* new bounce-stream position, or "" */
};

struct events_pos {
	unsigned long long dev, ino;
	long long	 off;
	unsigned long long fp;		/* the file's first line, 0 unknown */
};

struct events_follow {
	char		*path;
	int		 fd;		/* the plain file, or -1 */
	struct gzFile_s	*gz;		/* a gzip'ed rotated file, or NULL */
	bool		 rotated;	/* reading a rotated file's tail */
	struct events_pos pos;		/* of buf[start] */
	char		 buf[EVENTS_READ_BUF];
	size_t		 start, end;
	bool		 skipping;	/* the rest of an over-long line */
	struct events_pos lost;		/* a saved file not found at open */
};

/* events_metrics.c */
#define EVENTS_METRICS_TENANTS_MAX	120	/* 2 x 120 + 2 < STATS_MAX_CHILDREN */
void	events_metrics_init(long long max);
void	events_metrics_count(const struct events_batch *b);

/* events_batch.c */
void	events_batch_init(struct events_batch *b);
void	events_batch_reset(struct events_batch *b);
struct events_ev *events_batch_add(struct events_batch *b);
void	events_ev_set(struct events_ev *e, const char *field, const char *value);
const char *events_ev_get(const struct events_ev *e, const char *field);
void	events_ev_id(struct events_ev *e, const struct events_pos *pos,
		     const char *line, size_t len, unsigned index);

/* events_follow.c */
void	events_follow_init(struct events_follow *f, const char *path);
int	events_follow_next(struct events_follow *f, const char **line,
			   size_t *len, struct events_pos *at);
int	events_follow_lost(struct events_follow *f, struct events_pos *lost);
void	events_follow_close(struct events_follow *f);

/* events_store.c */
int	events_store_load_pos(struct redis_pool *p, const char *prefix,
			      struct events_pos *pos, char *bpos, size_t bposlen,
			      const char **err);
int	events_store_commit(struct redis_pool *p, const struct events_conf *c,
			    const struct events_batch *b,
			    const struct events_pos *pos, const char **err);
int	events_store_load_q(struct redis_pool *p, const char *prefix,
			    const char *qid, struct events_q *q, const char **err);
int	events_store_bx_exists(struct redis_pool *p, const char *prefix,
			       const char *id, const char *rcpt, const char **err);
char   *events_store_key(const char *prefix, const char *suffix);

/* events_join.c */
struct events_join {
	struct redis_pool *pool;
	const struct events_conf *conf;
	struct events_batch *batch;
	unsigned long	 parsed, parse_errors;
};
int	events_join_line(struct events_join *j, const char *line, size_t len,
			 const struct events_pos *at, const char **err);
int	events_join_bounces(struct events_join *j, const char *after,
			    size_t max, const char **err);
void	events_tenant_of(const char *sender, char *out, size_t outlen);

#endif
