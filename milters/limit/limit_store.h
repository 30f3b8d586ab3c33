/*++
 * NAME
 *	limit_store 3h
 * SUMMARY
 *	postmill-limit's state in Redis: key names and the Lua scripts
 * SYNOPSIS
 *	#include "limit_store.h"
 * DESCRIPTION
 *	All state lives in Redis, none in the milter, so that every Postfix
 *	node enforces the same numbers. Keys of one key value share its hash
 *	tag, so that a Redis Cluster keeps them in one slot and one script
 *	may touch them all (prefix "pmlimit:" by default):
 *
 *	  pmlimit:{sasl:alice}:override			hash: per-key overrides
 *	  pmlimit:{sasl:alice}:plan:recipients:day:20261123
 *						quota counter of one window,
 *						expiring when the window ends
 *	  pmlimit:{sasl:alice}:burst:messages:rate	GCRA theoretical
 *						arrival time (microseconds),
 *						expiring when it has passed
 *
 *	limit_store_check() is one check-and-count: one EVALSHA (EVAL once
 *	after NOSCRIPT, see redis.h) of the check script with the keys of
 *	every limit of the call's rules whose "what" has a cost in the
 *	request (cost[what] > 0): a recipient and its message are checked
 *	in one call, each limit with the cost of its rule's what.
 *	Atomically, the script reads the overrides, evaluates every limit
 *	and, only if all of them allow their cost more, counts each cost in
 *	its limits. With commit false it counts nothing (postmillctl's
 *	view: "over" then says whether one more would be refused). The result has one usage per limit, in rule
 *	and limit order; the caller frees it with limit_result_free(). It
 *	returns 0, or -1 with *err from redis.h ("timeout", ...) or about a
 *	reply the script cannot have sent.
 *
 *	Quotas: GET the window counter; allowed when used + cost <= limit;
 *	counting is INCRBY then PEXPIREAT the window's end in the same script
 *	(never a counter without expiry, STYLE anti-pattern 9). retry_ms is
 *	the time until the window ends.
 *
 *	Rates, GCRA with emission interval T = period / count (in whole
 *	microseconds) and burst B: tat = max(stored TAT, now); allowed when
 *	tat + cost*T - now <= B*T; counting stores tat + cost*T. After a
 *	quiet spell B pass at once, then one per T. retry_ms when refused is
 *	the time until one more would pass. The key holds "TAT T": when an
 *	override changes T, the debt (TAT - now) / T carries over in the new
 *	unit, so that a new rate applies to the very next message.
 *
 *	Overrides: the hash field "RULE:LIMIT" ("plan:day", "burst:rate")
 *	replaces the configured value for that key value at once, with no
 *	reload: a quota's field is a count ("100000") or "-1" (unlimited);
 *	a rate's is "COUNT PERIOD_MS BURST" ("40 1000 200") or "-1". The
 *	field "exempt" (any value) exempts the key value from all its rules.
 *	A field the script cannot read is ignored (the default applies);
 *	postmillctl writes only valid ones. limit_store_field() and
 *	limit_store_override_key() name them.
 *
 *	limit_store_refund() gives reservations back, in one EVALSHA for keys
 *	of one hash tag: DECRBY for quotas (a counter that reaches 0 is
 *	deleted), and TAT minus amount microseconds for rates (the caller
 *	computes how much of a reservation has not drained yet; the amount is
 *	scaled when the interval changed since). Returns 0 or -1 + *err.
 *
 *	Reservations (scripts v3; the check script v4 only gives each limit
 *	its own cost, the journal records are the same). A check with a resv_id (limit_txn.h
 *	makes one of 128 random bits per call) also records, in the key
 *	value's journal, what it counted, as "pending" until now + ttl_us:
 *
 *	  pmlimit:{sasl:alice}:resv	hash: id -> state and items counted
 *	  pmlimit:{sasl:alice}:resvexp	sorted set: id -> expiry (us)
 *
 *	limit_store_settle() confirms (mail accepted: the counts stay) or
 *	refunds reservations by id, idempotently and in any order with the
 *	check itself: a refund applied twice gives back once, and a refund
 *	of an id the journal does not know leaves a mark, so that a check
 *	still queued in a frozen Redis behind it (its reply timed out) counts
 *	nothing when it runs. Every call first removes up to 16 expired
 *	entries and gives pending ones back: a reservation that nobody
 *	confirmed or refunded (a worker killed, Redis unreachable until the
 *	transaction ended) stops counting once ttl_us has passed. The
 *	journal keys share the key value's hash tag; the scripts touch the
 *	state keys recorded in the journal, all in that one slot. *done is
 *	how many ids changed or were in the wanted state already, *missing
 *	(confirm only) how many were not pending any more (expired).
 *	Without resv_id a check counts as in v2, unjournaled.
 *
 *	Times: now_us is the milter's clock (CLOCK_REALTIME). Nodes must
 *	keep their clocks in step (NTP): a node whose clock is off by s
 *	seconds moves its window ends and rate arrival times by s.
 * THREAD SAFETY
 *	Thread-safe: the pool is (redis.h); everything else is per call.
 *--*/
#ifndef POSTMILL_LIMIT_STORE_H
#define POSTMILL_LIMIT_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "limit_policy.h"
#include "limit_rules.h"
#include "redis.h"

struct limit_check_req {
	const char	*prefix;	/* limit_key_prefix */
	const struct limit_call *call;	/* key value and its rules */
	long long	 cost[LIMIT_WHAT_N];	/* by enum limit_what: messages,
					 * recipients to count; a what of
					 * cost 0 has its rules left out */
	bool		 commit;	/* false: look only */
	long long	 now_us;
	long long	 offset_ms;	/* limit_utc_offset */
	const char	*resv_id;	/* journal the reservation (NULL: not) */
	long long	 ttl_us;	/* limit_reservation_ttl */
};

#define LIMIT_RESV_ID_LEN	32	/* hex digits of 128 random bits */

enum limit_settle_op {
	LIMIT_SETTLE_CONFIRM,		/* accepted: the counts stay */
	LIMIT_SETTLE_REFUND,		/* not accepted: give them back */
};

struct limit_refund_item {
	const char	*key;
	enum limit_type	 type;
	long long	 amount;	/* quota units or rate microseconds */
	long long	 interval_us;	/* rate: the interval amount was counted at */
};

int	limit_store_check(struct redis_pool *p, const struct limit_check_req *req,
			  struct limit_result *out, const char **err);
int	limit_store_refund(struct redis_pool *p, long long now_us,
			   const struct limit_refund_item *items, size_t n,
			   const char **err);
int	limit_store_settle(struct redis_pool *p, const char *prefix,
			   const char *keyval, long long now_us, long long ttl_us,
			   enum limit_settle_op op, const char *const *ids, size_t n,
			   long long *done, long long *missing, const char **err);
void	limit_store_resv_id(char out[LIMIT_RESV_ID_LEN + 1]);
char   *limit_store_journal_key(const char *prefix, const char *keyval,
				bool expiry);
const char *limit_store_settle_script(void);
char   *limit_store_override_key(const char *prefix, const char *keyval);
char   *limit_store_limit_key(const char *prefix, const char *keyval,
			      const struct limit_rule *rule,
			      const struct limit_def *d, long long now_ms,
			      long long offset_ms, long long *window_end_ms);
char   *limit_store_field(const struct limit_rule *rule,
			  const struct limit_def *d);
const char *limit_store_check_script(void);
const char *limit_store_refund_script(void);

#endif
