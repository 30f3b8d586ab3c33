/*++
 * NAME
 *	limit_policy 3h
 * SUMMARY
 *	the limit decision and the SMTP reply, as plain functions
 * SYNOPSIS
 *	#include "limit_policy.h"
 * DESCRIPTION
 *	struct limit_result is what one check-and-count call returned
 *	(limit_store.h): the status of the whole call and one usage per
 *	limit involved. limit_decide() turns it, with the configured
 *	limit_on_redis_error, into a verdict:
 *
 *	  no result (Redis failed)	on_redis_error: accept, or tempfail
 *					(451 4.3.0); reason redis_error
 *	  exempt (override "exempt")	accept, reason exempt
 *	  refused			the limits that refused: reject (550
 *					5.7.1) when one of their rules says
 *					reject, else tempfail (451 4.7.1); the
 *					usage named is the refusing limit with
 *					the longest wait (a retry before it
 *					would fail again)
 *	  counted			accept; the usage named is the tightest
 *					limit (highest used/limit) for the log
 *
 *	index is LIMIT_NONE when no usage explains the verdict (Redis
 *	failed, all limits unlimited). A refused status with no refusing
 *	limit cannot come from our script; it is treated as tempfail, never
 *	as accept.
 *
 *	limit_reply_make() picks the reply of a negative verdict (a row of
 *	limit_reply.c's table) and writes its text: which limit of which
 *	rule, and when to retry (empty for the rows of fixed text); it never
 *	holds the key
 *	value (a login or address): the client knows who it is, and those are
 *	the client's bytes.
 *
 *	limit_decide_unconfirmed() is the verdict of a message whose
 *	reservations could not be confirmed at end of message (Redis
 *	failed): v as it was under limit_on_redis_error=accept (the
 *	reservations expire uncounted), else tempfail, reason redis_error.
 *
 *	limit_policy_checks_pause() says whether a tenant pause applies to
 *	a client at all: limit_tenant_pause is on and the client is hosted
 *	(authenticated or internal; mail from outside has no tenant).
 *
 *	limit_policy_mail_answers() and limit_policy_rcpt_answers() say
 *	whether MAIL and RCPT can ever be answered with anything but "go
 *	on" under a configuration: the milter asks the MTA for no reply
 *	(SMFIP_NR_MAIL, SMFIP_NR_RCPT) at the stages that cannot, which
 *	saves a round trip per stage. MAIL: only limit_tenant_pause refuses
 *	there. RCPT: when any rule counts, recipients or messages (a
 *	message is reserved, and refused, with its first recipient).
 *
 *	limit_action_name() and limit_reason_name() are the words of the
 *	log lines (action=, reason=).
 * THREAD SAFETY
 *	Reentrant; no I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_LIMIT_POLICY_H
#define POSTMILL_LIMIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "limit_reply.h"
#include "limit_rules.h"

#define LIMIT_NONE	((size_t)-1)

struct limit_usage {
	const struct limit_rule *rule;
	const struct limit_def *def;
	char		*key;		/* the Redis key counted into (owned) */
	bool		 over;		/* this limit refuses (peek: would refuse) */
	long long	 used;		/* after counting, when counted */
	long long	 limit;		/* in effect (override applied); -1: none;
					 * rate: the burst */
	long long	 retry_ms;	/* over: wait until it allows one more;
					 * else quota: until the window ends,
					 * rate: until the bucket is empty */
	long long	 end_us;	/* rate, counted: end of this reservation */
	long long	 amount;	/* counted: quota units or rate microseconds */
};

enum limit_status {
	LIMIT_ST_REFUSED,	/* nothing counted */
	LIMIT_ST_COUNTED,	/* every limit counted */
	LIMIT_ST_EXEMPT,	/* the key value's override says exempt */
};

struct limit_result {
	enum limit_status status;
	struct limit_usage *u;
	size_t		 n;
};

enum limit_action {
	LIMIT_ACT_ACCEPT,
	LIMIT_ACT_TEMPFAIL,
	LIMIT_ACT_REJECT,
};

enum limit_reason {
	LIMIT_R_WITHIN,		/* every limit allowed */
	LIMIT_R_EXEMPT,
	LIMIT_R_OVER,		/* a limit refused */
	LIMIT_R_REDIS_ERROR,
};

struct limit_verdict {
	enum limit_action action;
	enum limit_reason reason;
	size_t		 index;		/* into result->u, or LIMIT_NONE */
};

struct limit_reply_out {
	enum limit_reply reply;		/* the row of limit_reply_table */
	char		 text[256];	/* its "%s" */
};

struct limit_verdict limit_decide(const struct limit_result *r,
				  int on_redis_error);
/* limit_decide_unconfirmed - the verdict when confirming reservations failed */
struct limit_verdict limit_decide_unconfirmed(struct limit_verdict v,
					      int on_redis_error);
size_t	limit_tightest(const struct limit_result *r);
void	limit_reply_make(const struct limit_verdict *v,
			 const struct limit_usage *u, struct limit_reply_out *out);
/* limit_policy_checks_pause - is a tenant pause looked up for this client */
bool	limit_policy_checks_pause(int tenant_pause, bool authenticated,
				  bool internal);
/* limit_policy_mail_answers - can MAIL be refused under limit_tenant_pause */
bool	limit_policy_mail_answers(int tenant_pause);
/* limit_policy_rcpt_answers - can RCPT be refused under these rules (any rule) */
bool	limit_policy_rcpt_answers(const struct limit_rules *rules);
const char *limit_action_name(enum limit_action action);
const char *limit_reason_name(enum limit_reason reason);
void	limit_result_free(struct limit_result *r);

#endif
