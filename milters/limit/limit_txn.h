/*++
 * NAME
 *	limit_txn 3h
 * SUMMARY
 *	one SMTP transaction's reservations: reserve, commit, refund
 * SYNOPSIS
 *	#include "limit_txn.h"
 * DESCRIPTION
 *	Only accepted mail counts. A recipient is reserved when its RCPT is
 *	accepted, and the message with the first recipient accepted: in the
 *	same call per key value (limit_store.h), so that a message costs no
 *	Redis round trip of its own and a message over its limit is refused
 *	at RCPT, before the client sends its data (as Postfix's
 *	smtpd_client_message_rate_limit refuses at MAIL). A transaction that
 *	ends any other way (ABORT, a connection closed before end of
 *	message, a new MAIL, or a refusal at end of message) gives back
 *	everything it reserved, the message included; a recipient refused
 *	after one was accepted gives back only its own count. This module
 *	keeps those reservations and drives limit_store.h; it knows nothing
 *	of libmilter (limit_milter.c feeds it).
 *
 *	limit_txn_new() takes the transaction's plan (limit_rules.h; the txn
 *	owns it afterwards). limit_txn_check() runs one stage: for each call
 *	(key value) with rules to check, one check-and-count. At RCPT
 *	(LIMIT_WHAT_RECIPIENTS) those are the recipient rules (cost 1
 *	recipient) and, until a stage with them has passed, the message
 *	rules (cost 1 message); a key value with message rules only is
 *	checked too. At end of message (LIMIT_WHAT_MESSAGES) only message
 *	rules not checked yet are (for a transaction whose RCPT never ran a
 *	check); limit_txn_due() says whether a stage has any call to make.
 *	A call is atomic: when one of its limits (recipient or message) is
 *	over, it counts nothing. The first call that does not accept ends
 *	the stage, and the calls before it that counted in this stage are
 *	refunded at once, so a refused recipient leaves no count behind,
 *	and neither does the message when every recipient was refused. A
 *	call Redis could not answer follows on_redis_error: under accept it
 *	counts nothing and the stage goes on; under tempfail the stage is
 *	refused like an over limit. What a stage counted is added to the
 *	transaction's reservations (recipients and messages apart, for the
 *	refund's log line).
 *
 *	The outcome names the decisive call and usage: the refusing one, or
 *	for an accepted stage the tightest limit over all calls (for the
 *	log line). redis_calls counts round trips, refunds included.
 *
 *	Every check call carries a fresh reservation id (128 random bits,
 *	limit_store.h): the script journals what it counted under that id,
 *	pending for opts.ttl_us. limit_txn_commit() confirms the ids (the
 *	mail was accepted, the counts stay); *expired says how many had
 *	expired already (the transaction lasted longer than the ttl: those
 *	were given back, the mail is under-counted). It fails (-1, the ids
 *	kept for the caller's refund) only when a confirmation surely did
 *	not run (never sent: Redis known down). A confirmation whose reply
 *	did not come (timeout, connection lost) may run yet, when a frozen
 *	Redis resumes: refusing the mail then and refunding would over-count
 *	it whenever the refund reached Redis after the late confirmation
 *	and the ttl, so the commit succeeds and leaves those ids to Redis
 *	(limit_txn_unconfirmed() counts them, *err says why): confirmed when
 *	it runs them, else given back by the ttl. limit_txn_refund()
 *	refunds every id (one settle call per key value) and forgets those
 *	Redis took (the others stay, for a retry);
 *	it returns how many recipients and messages it gave back, for the
 *	log. Both are idempotent in Redis: a refund sent twice gives back
 *	once.
 *
 *	A check whose reply did not come (timeout, connection lost) may
 *	still run: Redis runs what it had queued when it resumes. Its id is
 *	kept as uncertain and refunded, never confirmed: at once when its
 *	stage is refused, else with the transaction (commit refunds it too).
 *	A refund of an id Redis has not seen leaves a mark that makes the
 *	late check count nothing. A refund or a confirmation that Redis
 *	cannot take now stays in the transaction (a failed commit too, so
 *	that the caller can refund instead); limit_txn_defer() then moves
 *	the ids to the process's queue of deferred refunds (at most
 *	LIMIT_TXN_MAX_DEFERRED ids, each kept until its ttl), and
 *	limit_txn_retry_deferred() sends up to max of its entries (one per
 *	key value), stopping at the first failure; *ids says how many ids
 *	went through. What the process never gets through (it was killed,
 *	Redis stayed away) the ttl gives back. So after any fault, usage
 *	equals accepted mail once Redis answers and at most the ttl has
 *	passed; sooner when a later transaction of the process retries.
 *
 *	Rate refunds give back only the part of a reservation that has not
 *	drained yet: a reservation ending at e (microseconds of TAT time) of
 *	amount a is worth min(a, max(0, e - now)) at time now; giving back
 *	more would credit the sender with time that has passed anyway.
 *	Quota refunds decrement the window counter the unit went into (a
 *	window that has ended in between is left alone).

 *	Bounds: at most LIMIT_TXN_MAX_SPANS ids per key value are remembered
 *	(more are not refunded by the transaction; they expire).
 * THREAD SAFETY
 *	A transaction belongs to one milter connection (one thread at a time).
 *--*/
#ifndef POSTMILL_LIMIT_TXN_H
#define POSTMILL_LIMIT_TXN_H

#include <stdbool.h>
#include <stddef.h>

#include "limit_policy.h"
#include "limit_rules.h"
#include "redis.h"

#define LIMIT_TXN_MAX_SPANS	10000
#define LIMIT_TXN_MAX_DEFERRED	100000	/* ids waiting for a retry, per process */

struct limit_txn_opts {
	const char	*prefix;	/* limit_key_prefix */
	long long	 offset_ms;	/* limit_utc_offset */
	int		 on_redis_error;	/* enum limit_on_error */
	long long	 ttl_us;	/* limit_reservation_ttl */
};

struct limit_outcome {
	struct limit_verdict v;
	const char	*keyval;	/* decisive call's key value, or NULL */
	bool		 have_usage;
	struct limit_usage u;		/* decisive usage; u.key is NULL */
	char		 error[128];	/* Redis trouble, or "" */
	unsigned	 calls_made;	/* check calls with counting rules */
	unsigned	 redis_calls;	/* round trips, refunds included */
};

struct limit_txn;

struct limit_txn *limit_txn_new(struct limit_plan *plan);
struct limit_txn *limit_txn_free(struct limit_txn *t);
bool	limit_txn_empty(const struct limit_txn *t);
bool	limit_txn_has(const struct limit_txn *t, enum limit_what what);
/* limit_txn_due - would limit_txn_check() of this stage make a call */
bool	limit_txn_due(const struct limit_txn *t, enum limit_what what);
void	limit_txn_check(struct limit_txn *t, struct redis_pool *p,
			const struct limit_txn_opts *o, enum limit_what what,
			long long now_us, struct limit_outcome *out);
int	limit_txn_commit(struct limit_txn *t, struct redis_pool *p,
			 long long now_us, long long *expired, const char **err);
long long limit_txn_unconfirmed(const struct limit_txn *t);
size_t	limit_txn_pending(const struct limit_txn *t);
void	limit_txn_defer(struct limit_txn *t, long long now_us);
size_t	limit_txn_deferred(void);
int	limit_txn_retry_deferred(struct redis_pool *p, long long now_us, size_t max,
				 long long *ids, const char **err);
int	limit_txn_refund(struct limit_txn *t, struct redis_pool *p,
			 long long now_us, long long *recipients,
			 long long *messages, const char **err);
/* what is reserved now, for logs and tests */
void	limit_txn_reserved(const struct limit_txn *t, long long *recipients,
			   long long *messages);

#endif
