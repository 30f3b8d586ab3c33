/*++
 * NAME
 *	limit_txn 3
 * SUMMARY
 *	one SMTP transaction's reservations: reserve, commit, refund
 * DESCRIPTION
 *	See limit_txn.h. Reservations are kept per call (key value), because
 *	a refund script may only touch the keys of one hash tag.
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_conf.h"
#include "limit_store.h"
#include "limit_txn.h"
#include "xalloc.h"

#define LIMIT_TXN_SETTLE_BATCH	500	/* ids per settle call (REDIS_MAX_SCRIPT_ARGS) */

enum { LT_NONE, LT_COUNTED, LT_UNCERTAIN };

/* one reservation: a check call that counted, or whose reply never came */
struct lt_id {
	char		id[LIMIT_RESV_ID_LEN + 1];
	bool		uncertain;	/* the reply timed out: refund, never confirm */
};

struct lt_set {
	struct lt_id	*ids;
	size_t		 n;
};

struct limit_txn {
	struct limit_plan plan;
	struct lt_set	*sets;		/* parallel to plan.calls */
	long long	 reserved[LIMIT_WHAT_N];	/* by enum limit_what */
	bool		 message_done;	/* a stage with the message rules passed */
	long long	 unconfirmed;	/* the last commit: confirmations without reply */
	long long	 ttl_us;	/* of the journal entries */
	const char	*prefix;	/* borrowed from the opts of the checks */
};

/* limit_txn_new - a transaction over a plan (taken over) */
struct limit_txn *
limit_txn_new(struct limit_plan *plan)
{
	struct limit_txn *t = xcalloc(1, sizeof(*t));

	t->plan = *plan;
	plan->calls = NULL;
	plan->ncalls = 0;
	t->sets = xcalloc(t->plan.ncalls ? t->plan.ncalls : 1, sizeof(*t->sets));
	return t;
}

/* lt_set_clear - forget one call's reservations */
static void
lt_set_clear(struct lt_set *s)
{
	free(s->ids);
	s->ids = NULL;
	s->n = 0;
}

/* limit_txn_free - release; reservations are forgotten, not refunded */
struct limit_txn *
limit_txn_free(struct limit_txn *t)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->plan.ncalls; i++)
		lt_set_clear(&t->sets[i]);
	free(t->sets);
	limit_plan_free(&t->plan);
	free(t);
	return NULL;
}

/* limit_txn_empty - no rule applies to this transaction */
bool
limit_txn_empty(const struct limit_txn *t)
{
	return t->plan.ncalls == 0;
}

/* limit_txn_has - does any call count this what */
bool
limit_txn_has(const struct limit_txn *t, enum limit_what what)
{
	for (size_t i = 0; i < t->plan.ncalls; i++)
		if (limit_call_counts(&t->plan.calls[i], what))
			return true;
	return false;
}

/*
 * lt_cost - what call c counts at a stage of what: the recipient rules at
 * RCPT, and the message rules at RCPT and end of message while the
 * message is not reserved yet
 */
static void
lt_cost(const struct limit_txn *t, const struct limit_call *c, enum limit_what what,
	long long cost[LIMIT_WHAT_N])
{
	cost[LIMIT_WHAT_RECIPIENTS] = what == LIMIT_WHAT_RECIPIENTS
	    && limit_call_counts(c, LIMIT_WHAT_RECIPIENTS) ? 1 : 0;
	cost[LIMIT_WHAT_MESSAGES] = !t->message_done
	    && limit_call_counts(c, LIMIT_WHAT_MESSAGES) ? 1 : 0;
}

/* limit_txn_due - would limit_txn_check() of this stage make a call */
bool
limit_txn_due(const struct limit_txn *t, enum limit_what what)
{
	long long cost[LIMIT_WHAT_N];

	for (size_t i = 0; i < t->plan.ncalls; i++) {
		lt_cost(t, &t->plan.calls[i], what, cost);
		if (cost[LIMIT_WHAT_RECIPIENTS] + cost[LIMIT_WHAT_MESSAGES] > 0)
			return true;
	}
	return false;
}

/* lt_add - remember one reservation id of a call */
static void
lt_add(struct lt_set *s, const char *id, bool uncertain)
{
	if (s->n == LIMIT_TXN_MAX_SPANS)
		return;			/* it expires on its own (the ttl) */
	s->ids = xrealloc(s->ids, (s->n + 1) * sizeof(*s->ids));
	snprintf(s->ids[s->n].id, sizeof(s->ids[s->n].id), "%s", id);
	s->ids[s->n].uncertain = uncertain;
	s->n++;
}

/*
 * lt_settle - confirm or refund the ids of one call (one hash tag), in
 * batches that fit one script call. Uncertain ids are never confirmed:
 * limit_txn_commit() refunds them apart. 0 or -1 + err; *missing:
 * confirmed ids that had expired already.
 */
static int
lt_settle(const struct lt_set *s, const struct limit_call *c, struct redis_pool *p,
	  const char *prefix, long long now_us, long long ttl_us,
	  enum limit_settle_op op, long long *missing, const char **err)
{
	const char **ids;
	int rc = 0;

	if (s->n == 0)
		return 0;
	ids = xcalloc(s->n, sizeof(*ids));
	for (size_t i = 0; i < s->n; i++)
		ids[i] = s->ids[i].id;
	for (size_t b = 0; b < s->n; b += LIMIT_TXN_SETTLE_BATCH) {
		size_t k = s->n - b < LIMIT_TXN_SETTLE_BATCH ? s->n - b : LIMIT_TXN_SETTLE_BATCH;
		long long done, miss;
		const char *e = NULL;

		if (limit_store_settle(p, prefix, c->keyval, now_us, ttl_us, op,
				       ids + b, k, &done, &miss, &e) < 0) {
			if (rc == 0)
				*err = e;
			rc = -1;
		} else if (op == LIMIT_SETTLE_CONFIRM && missing != NULL) {
			*missing += miss;
		}
	}
	free(ids);
	return rc;
}

/*
 * lt_maybe_ran - could a call that failed with err have run in Redis?
 * Not when it was never sent (back-off, no connection) or the server
 * refused the connection; a timeout or a connection lost after sending
 * may have left it queued.
 */
static bool
lt_maybe_ran(const char *err)
{
	static const char *const never[] = {
		"backing off", "connect timeout", "connection refused", "AUTH:",
		"SELECT:", "NOAUTH", "LOADING", "READONLY", "invalid command format",
		"command refused", "reservation already settled",
	};

	if (err == NULL)
		return true;
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strncmp(err, never[i], strlen(never[i])) == 0)
			return false;
	return true;
}

/* lt_ratio - used/limit of a usage, for the tightest limit */
static double
lt_ratio(const struct limit_usage *u)
{
	if (u->limit < 0)
		return -1;
	return u->limit == 0 ? 2.0 : (double)u->used / (double)u->limit;
}

/*
 * lt_refund_stage - give back what calls 0..n-1 of a refused stage counted
 * (and what the call that failed may have counted); what Redis cannot
 * take now stays in the transaction, refunded at its end, or expires
 */
static void
lt_refund_stage(struct limit_txn *t, char (*ids)[LIMIT_RESV_ID_LEN + 1],
		const unsigned char *what, size_t n, struct redis_pool *p,
		const struct limit_txn_opts *o, long long now_us,
		struct limit_outcome *out)
{
	for (size_t j = 0; j < n; j++) {
		struct lt_set tmp = {NULL, 0};
		const char *err = NULL;

		if (what[j] == LT_NONE)
			continue;
		lt_add(&tmp, ids[j], what[j] == LT_UNCERTAIN);
		out->redis_calls++;
		if (lt_settle(&tmp, &t->plan.calls[j], p, o->prefix, now_us, o->ttl_us,
			      LIMIT_SETTLE_REFUND, NULL, &err) < 0) {
			if (out->error[0] == '\0')
				snprintf(out->error, sizeof(out->error), "refund: %s",
					 err ? err : "?");
			lt_add(&t->sets[j], ids[j], true);
		}
		lt_set_clear(&tmp);
	}
}

/* limit_txn_check - one stage (RCPT or end of message); see limit_txn.h */
void
limit_txn_check(struct limit_txn *t, struct redis_pool *p,
		const struct limit_txn_opts *o, enum limit_what what,
		long long now_us, struct limit_outcome *out)
{
	size_t nc = t->plan.ncalls ? t->plan.ncalls : 1;
	struct limit_result *results = xcalloc(nc, sizeof(*results));
	unsigned char *counted = xcalloc(nc, 1);
	char (*ids)[LIMIT_RESV_ID_LEN + 1] = xcalloc(nc, sizeof(*ids));
	bool any[LIMIT_WHAT_N] = {false, false}, with_message = false;

	t->ttl_us = o->ttl_us;
	t->prefix = o->prefix;

	memset(out, 0, sizeof(*out));
	out->v.action = LIMIT_ACT_ACCEPT;
	out->v.reason = LIMIT_R_WITHIN;
	out->v.index = LIMIT_NONE;
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		struct limit_check_req req = {
			o->prefix, &t->plan.calls[i], {0, 0}, true, now_us, o->offset_ms,
			ids[i], o->ttl_us,
		};
		const char *err = NULL;
		struct limit_verdict v;
		int rc;

		lt_cost(t, &t->plan.calls[i], what, req.cost);
		if (req.cost[LIMIT_WHAT_RECIPIENTS] + req.cost[LIMIT_WHAT_MESSAGES] == 0)
			continue;
		with_message = with_message || req.cost[LIMIT_WHAT_MESSAGES] > 0;
		out->calls_made++;
		out->redis_calls++;
		limit_store_resv_id(ids[i]);
		rc = limit_store_check(p, &req, &results[i], &err);
		/* no reply: the script may still run (a frozen Redis runs what
		 * it has queued when it resumes); its id is refunded later */
		if (rc < 0 && lt_maybe_ran(err))
			counted[i] = LT_UNCERTAIN;
		v = limit_decide(rc < 0 ? NULL : &results[i], o->on_redis_error);
		if (rc < 0 && out->error[0] == '\0')
			snprintf(out->error, sizeof(out->error), "%s", err ? err : "?");
		if (v.action != LIMIT_ACT_ACCEPT) {
			out->v = v;
			out->keyval = t->plan.calls[i].keyval;
			out->have_usage = rc == 0 && v.index != LIMIT_NONE;
			if (out->have_usage) {
				out->u = results[i].u[v.index];
				out->u.key = NULL;
			}
			/* this stage counts nothing: give back what it counted */
			lt_refund_stage(t, ids, counted, i + 1, p, o, now_us, out);
			goto done;
		}
		if (rc < 0) {
			/* on_redis_error = accept: this call counts nothing */
			out->v = v;
			out->keyval = t->plan.calls[i].keyval;
			out->have_usage = false;
			continue;
		}
		counted[i] = results[i].status == LIMIT_ST_COUNTED ? LT_COUNTED : LT_NONE;
		for (int w = 0; w < LIMIT_WHAT_N; w++)
			any[w] = any[w] || (counted[i] == LT_COUNTED && req.cost[w] > 0);
		if (out->v.reason == LIMIT_R_REDIS_ERROR)
			continue;		/* the error is the story of this stage */
		/* the log line names the tightest limit over all calls */
		if (v.index != LIMIT_NONE && (!out->have_usage
		    || lt_ratio(&results[i].u[v.index]) > lt_ratio(&out->u))) {
			out->v = v;
			out->keyval = t->plan.calls[i].keyval;
			out->have_usage = true;
			out->u = results[i].u[v.index];
			out->u.key = NULL;
		} else if (out->keyval == NULL) {
			out->v = v;
			out->keyval = t->plan.calls[i].keyval;
		}
	}
	for (size_t i = 0; i < t->plan.ncalls; i++)
		if (counted[i] != LT_NONE)
			lt_add(&t->sets[i], ids[i], counted[i] == LT_UNCERTAIN);
	for (int w = 0; w < LIMIT_WHAT_N; w++)
		if (any[w])
			t->reserved[w]++;
	/* the message passed: later stages leave its rules out, even when
	 * nothing was counted (exempt, or Redis failed under accept) */
	if (with_message)
		t->message_done = true;
done:
	for (size_t i = 0; i < t->plan.ncalls; i++)
		limit_result_free(&results[i]);
	free(results);
	free(counted);
	free(ids);
}

/* lt_split - a call's ids: the uncertain ones into u, the others into k */
static void
lt_split(const struct lt_set *s, struct lt_set *u, struct lt_set *k)
{
	for (size_t i = 0; i < s->n; i++)
		lt_add(s->ids[i].uncertain ? u : k, s->ids[i].id, s->ids[i].uncertain);
}

/*
 * limit_txn_commit - the mail is accepted: confirm the reservations (the
 * counts stay), refund the uncertain ones; see limit_txn.h. A confirmation
 * whose reply did not come may have run: when no confirmation surely
 * failed, the mail is accepted and those ids are left to Redis (counted
 * when it runs them, else given back by the ttl); refunding them instead
 * would over-count whenever the refund came after their ttl, a refusal
 * would make the client send the mail again.
 */
int
limit_txn_commit(struct limit_txn *t, struct redis_pool *p, long long now_us,
		 long long *expired, const char **err)
{
	size_t nc = t->plan.ncalls ? t->plan.ncalls : 1;
	struct lt_set *u = xcalloc(nc, sizeof(*u)), *k = xcalloc(nc, sizeof(*k));
	unsigned char *st = xcalloc(nc, 1);	/* 0 confirmed, 1 maybe, 2 failed */
	int rc = 0;

	*err = NULL;
	*expired = 0;
	t->unconfirmed = 0;
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		const char *e = NULL;

		lt_split(&t->sets[i], &u[i], &k[i]);
		/* uncertain ids: given back now, or kept for a later refund */
		if (lt_settle(&u[i], &t->plan.calls[i], p, t->prefix, now_us, t->ttl_us,
			      LIMIT_SETTLE_REFUND, NULL, &e) == 0)
			lt_set_clear(&u[i]);
		e = NULL;
		if (lt_settle(&k[i], &t->plan.calls[i], p, t->prefix, now_us, t->ttl_us,
			      LIMIT_SETTLE_CONFIRM, expired, &e) < 0) {
			st[i] = lt_maybe_ran(e) ? 1 : 2;
			if (*err == NULL || st[i] == 2)
				*err = e;
			if (st[i] == 2)
				rc = -1;
		}
	}
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		lt_set_clear(&t->sets[i]);
		t->sets[i] = u[i];
		if (rc < 0) {
			/* refused: the caller refunds them all, confirmed or not */
			for (size_t j = 0; j < k[i].n; j++)
				lt_add(&t->sets[i], k[i].ids[j].id, false);
		} else if (st[i] == 1) {
			t->unconfirmed += (long long)k[i].n;
		}
		lt_set_clear(&k[i]);
	}
	if (rc == 0) {
		t->reserved[0] = t->reserved[1] = 0;
		if (t->unconfirmed == 0)
			*err = NULL;
	}
	free(u);
	free(k);
	free(st);
	return rc;
}

/* limit_txn_unconfirmed - ids the last commit left to Redis (no reply) */
long long
limit_txn_unconfirmed(const struct limit_txn *t)
{
	return t->unconfirmed;
}

/* limit_txn_refund - give every reservation back; see limit_txn.h */
int
limit_txn_refund(struct limit_txn *t, struct redis_pool *p, long long now_us,
		 long long *recipients, long long *messages, const char **err)
{
	int rc = 0;

	*err = NULL;
	*recipients = t->reserved[LIMIT_WHAT_RECIPIENTS];
	*messages = t->reserved[LIMIT_WHAT_MESSAGES];
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		const char *e = NULL;

		if (lt_settle(&t->sets[i], &t->plan.calls[i], p, t->prefix, now_us,
			      t->ttl_us, LIMIT_SETTLE_REFUND, NULL, &e) < 0) {
			if (rc == 0)
				*err = e;
			rc = -1;
			continue;	/* kept: a later call may retry */
		}
		lt_set_clear(&t->sets[i]);
	}
	if (rc == 0)
		t->reserved[0] = t->reserved[1] = 0;
	return rc;
}

/* limit_txn_pending - ids kept for a refund (certain or not), for tests */
size_t
limit_txn_pending(const struct limit_txn *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->plan.ncalls; i++)
		n += t->sets[i].n;
	return n;
}

/* limit_txn_reserved - what is reserved now */
void
limit_txn_reserved(const struct limit_txn *t, long long *recipients,
		   long long *messages)
{
	*recipients = t->reserved[LIMIT_WHAT_RECIPIENTS];
	*messages = t->reserved[LIMIT_WHAT_MESSAGES];
}

/*
 * The deferred refunds of the process: ids a refund could not send (Redis
 * did not answer), retried by later transactions. One entry per key value;
 * FIFO; at most LIMIT_TXN_MAX_DEFERRED ids (more are left to expire);
 * entries past their ttl are dropped (Redis gave them back already).
 */
struct lt_deferred {
	struct lt_deferred *next;
	char		*prefix;
	char		*keyval;
	long long	 deadline_us;
	long long	 ttl_us;
	struct lt_set	 set;
};

static pthread_mutex_t lt_dmu = PTHREAD_MUTEX_INITIALIZER;
static struct lt_deferred *lt_dhead, *lt_dtail;
static size_t lt_dids;

/* lt_deferred_free - one entry */
static void
lt_deferred_free(struct lt_deferred *d)
{
	free(d->prefix);
	free(d->keyval);
	lt_set_clear(&d->set);
	free(d);
}

/* limit_txn_defer - queue what the transaction could not refund; see limit_txn.h */
void
limit_txn_defer(struct limit_txn *t, long long now_us)
{
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		struct lt_deferred *d;

		if (t->sets[i].n == 0)
			continue;
		d = xcalloc(1, sizeof(*d));
		d->prefix = xstrdup(t->prefix ? t->prefix : "");
		d->keyval = xstrdup(t->plan.calls[i].keyval);
		d->deadline_us = now_us + t->ttl_us;
		d->ttl_us = t->ttl_us;
		d->set = t->sets[i];
		t->sets[i].ids = NULL;
		t->sets[i].n = 0;
		pthread_mutex_lock(&lt_dmu);
		if (lt_dids + d->set.n > LIMIT_TXN_MAX_DEFERRED) {
			pthread_mutex_unlock(&lt_dmu);
			lt_deferred_free(d);	/* it expires on its own */
			continue;
		}
		lt_dids += d->set.n;
		if (lt_dtail)
			lt_dtail->next = d;
		else
			lt_dhead = d;
		lt_dtail = d;
		pthread_mutex_unlock(&lt_dmu);
	}
	t->reserved[0] = t->reserved[1] = 0;
}

/* limit_txn_deferred - ids waiting for a retry in this process */
size_t
limit_txn_deferred(void)
{
	size_t n;

	pthread_mutex_lock(&lt_dmu);
	n = lt_dids;
	pthread_mutex_unlock(&lt_dmu);
	return n;
}

/* limit_txn_retry_deferred - retry up to max entries; see limit_txn.h */
int
limit_txn_retry_deferred(struct redis_pool *p, long long now_us, size_t max,
			 long long *ids, const char **err)
{
	*ids = 0;
	*err = NULL;
	for (size_t k = 0; k < max; k++) {
		struct lt_deferred *d;
		struct limit_call call;

		pthread_mutex_lock(&lt_dmu);
		if ((d = lt_dhead) != NULL) {
			lt_dhead = d->next;
			if (lt_dhead == NULL)
				lt_dtail = NULL;
			lt_dids -= d->set.n;
		}
		pthread_mutex_unlock(&lt_dmu);
		if (d == NULL)
			return 0;
		if (d->deadline_us <= now_us) {
			lt_deferred_free(d);	/* given back by its ttl */
			continue;
		}
		memset(&call, 0, sizeof(call));
		call.keyval = d->keyval;
		if (lt_settle(&d->set, &call, p, d->prefix, now_us, d->ttl_us,
			      LIMIT_SETTLE_REFUND, NULL, err) < 0) {
			/* Redis still away: back to the head, try later */
			d->next = NULL;
			pthread_mutex_lock(&lt_dmu);
			d->next = lt_dhead;
			lt_dhead = d;
			if (lt_dtail == NULL)
				lt_dtail = d;
			lt_dids += d->set.n;
			pthread_mutex_unlock(&lt_dmu);
			return -1;
		}
		*ids += (long long)d->set.n;
		lt_deferred_free(d);
	}
	return 0;
}
