/*++
 * NAME
 *	bounce_store 3h
 * SUMMARY
 *	postmill-bounce's state in Redis: message records, suppression
 *	list, counters, the event stream
 * SYNOPSIS
 *	#include "bounce_store.h"
 * DESCRIPTION
 *	Keys (prefix "pmbounce:" by default; redis_key() escapes the tags):
 *	  PREFIX{m:ID}			hash: the record of one tagged
 *					message: sender, queue_id, rcpts
 *					(comma-separated, at most
 *					BOUNCE_STORE_MAX_RCPTS), nrcpts
 *					(how many there were), time,
 *					login (the SASL login, "" when
 *					none), tenant (bounce_tenant.h's
 *					name, "" when none); TTL
 *					the longer of the tag's and the
 *					reference's lifetimes (a complaint
 *					maps back through either)
 *	  PREFIX{SCOPE}:sup:RCPT	hash: one suppression: reason,
 *					class, status, diagnostic, sender,
 *					queue_id, time, expires (seconds;
 *					0: forever); TTL = expiry
 *	  PREFIX{SCOPE}:soft:RCPT	soft bounces since the window
 *					started; TTL = the window
 *	  PREFIX{s:SENDER}:stats	hash: total, class:CLASS,
 *					reason:REASON
 *	  STREAM			one entry per recipient of a
 *					bounce: time, sender, recipient,
 *					class, reason, status, diagnostic,
 *					action, queue_id (of the original
 *					message), message_id, kind
 *	SCOPE is bounce_scope_tag()'s; addresses are bounce_addr_norm()'s.
 *
 *	bounce_store_save_message() writes a record (one EVALSHA: HSET and
 *	PEXPIRE together, never a record without expiry).
 *	bounce_store_load_message() reads one: 1 found, 0 gone, -1 error;
 *	out->rcpts_complete says that rcpts lists every recipient (nrcpts
 *	is there and no larger than the list), so a recipient missing from
 *	it was not one of the message's.
 *	bounce_store_check() is the RCPT check, one HMGET: 1 suppressed
 *	(out filled), 0 not, -1 error.
 *	bounce_store_record() records a classified bounce in ONE EVALSHA:
 *	per recipient an XADD (MAXLEN ~), the sender's counters (HINCRBY),
 *	and by the recipient's plan (bounce_policy.h): the soft count is
 *	reset (delivered), or incremented (the window starts with the first
 *	soft bounce; at the threshold the recipient is suppressed and the
 *	count dropped), and a suppression entry is written with its expiry.
 *	out->suppressed[i] and out->soft_count[i] tell what happened.
 *	bounce_store_add() and bounce_store_remove() are postmillctl's.
 *	All return 0/1 or -1 with *err from redis.h, or about a reply the
 *	script cannot have sent. now_ms is the caller's clock.
 * THREAD SAFETY
 *	Thread-safe (the pool is); everything else is per call.
 *--*/
#ifndef POSTMILL_BOUNCE_STORE_H
#define POSTMILL_BOUNCE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_classify.h"
#include "bounce_policy.h"
#include "redis.h"

#define BOUNCE_STORE_MAX_RCPTS	100

struct bounce_msgrec {
	char		 sender[BOUNCE_ADDR_MAX + 1];
	char		 qid[64];
	char		 rcpts[2048];	/* comma-separated, maybe cut */
	bool		 rcpts_complete;	/* rcpts names them all */
	long long	 time;		/* seconds */
	char		 login[256];	/* {auth_authen}; "" none or older */
	char		 tenant[263];	/* BOUNCE_TENANT_NAME_MAX + 1; "" none */
};

struct bounce_supp {
	char		 reason[32];
	char		 status[16];
	char		 diagnostic[512];
	long long	 since;		/* seconds */
	long long	 expires;	/* seconds, 0: forever */
};

struct bounce_event {
	const char	*rcpt;		/* normalized */
	const char	*cls;		/* bounce_class_name() */
	const char	*reason;
	const char	*status;
	const char	*diagnostic;
	const char	*action;
	struct bounce_rcpt_plan plan;
};

struct bounce_record_req {
	const char	*prefix;
	const char	*stream;
	long long	 maxlen;
	const char	*sender;	/* "" when the record is gone */
	const char	*scope_tag;	/* NULL: no suppression list */
	const char	*orig_qid;
	const char	*msgid;		/* hex */
	const char	*kind;
	long long	 now_ms;
	long long	 soft_threshold;
	long long	 soft_window_ms;
	size_t		 n;
	const struct bounce_event *ev;
};

struct bounce_record_result {
	bool		 suppressed[BOUNCE_MAX_RCPTS];
	long long	 soft_count[BOUNCE_MAX_RCPTS];
};

char   *bounce_store_msg_key(const char *prefix, const char *idhex);
char   *bounce_store_sup_key(const char *prefix, const char *scope_tag,
			     const char *rcpt);
char   *bounce_store_soft_key(const char *prefix, const char *scope_tag,
			      const char *rcpt);
char   *bounce_store_stats_key(const char *prefix, const char *sender);

int	bounce_store_save_message(struct redis_pool *p, const char *prefix,
				  const char *idhex, const char *sender,
				  const char *qid, const char *rcpts,
				  size_t nrcpts, const char *login,
				  const char *tenant, long long now_ms,
				  long long ttl_ms, const char **err);
int	bounce_store_load_message(struct redis_pool *p, const char *prefix,
				  const char *idhex, struct bounce_msgrec *out,
				  const char **err);
int	bounce_store_check(struct redis_pool *p, const char *prefix,
			   const char *scope_tag, const char *rcpt,
			   struct bounce_supp *out, const char **err);
int	bounce_store_record(struct redis_pool *p,
			    const struct bounce_record_req *req,
			    struct bounce_record_result *out, const char **err);
int	bounce_store_add(struct redis_pool *p, const char *prefix,
			 const char *scope_tag, const char *rcpt,
			 const char *reason, const char *diagnostic,
			 long long now_ms, long long expiry_ms, const char **err);
int	bounce_store_remove(struct redis_pool *p, const char *prefix,
			    const char *scope_tag, const char *rcpt,
			    const char **err);

#endif
