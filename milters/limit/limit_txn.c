/*++
 * NAME
 *	limit_txn 3
 * SUMMARY
 *	one SMTP transaction's reservations: reserve, commit, refund
 * DESCRIPTION
 *	See limit_txn.h. Reservations are kept per call (key value), because
 *	a refund script may only touch the keys of one hash tag.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_conf.h"
#include "limit_store.h"
#include "limit_txn.h"
#include "xalloc.h"

struct lt_span {
	long long	end_us;
	long long	amount;
};

struct lt_resv {
	char		*key;
	enum limit_type	 type;
	long long	 amount;	/* quota units */
	struct lt_span	*spans;		/* rate reservations */
	size_t		 nspans;
	size_t		 cap;
};

struct lt_set {
	struct lt_resv	*r;
	size_t		 n;
};

struct limit_txn {
	struct limit_plan plan;
	struct lt_set	*sets;		/* parallel to plan.calls */
	long long	 reserved[2];	/* by enum limit_what */
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
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].key);
		free(s->r[i].spans);
	}
	free(s->r);
	s->r = NULL;
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

/* lt_add - remember what a counted result reserved */
static void
lt_add(struct lt_set *s, const struct limit_result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct limit_usage *u = &r->u[i];
		struct lt_resv *v = NULL;

		if (u->amount <= 0)
			continue;
		for (size_t j = 0; j < s->n; j++)
			if (strcmp(s->r[j].key, u->key) == 0)
				v = &s->r[j];
		if (v == NULL) {
			s->r = xrealloc(s->r, (s->n + 1) * sizeof(*s->r));
			v = &s->r[s->n++];
			memset(v, 0, sizeof(*v));
			v->key = xstrdup(u->key);
			v->type = u->def->type;
		}
		if (v->type == LIMIT_TYPE_QUOTA) {
			v->amount += u->amount;
			continue;
		}
		if (v->nspans == LIMIT_TXN_MAX_SPANS)
			continue;		/* not refunded: the safe side */
		if (v->nspans == v->cap) {
			v->cap = v->cap ? 2 * v->cap : 4;
			v->spans = xrealloc(v->spans, v->cap * sizeof(*v->spans));
		}
		v->spans[v->nspans].end_us = u->end_us;
		v->spans[v->nspans].amount = u->amount;
		v->nspans++;
	}
}

/* lt_undrained - what of a rate reservation is still to be given back */
static long long
lt_undrained(const struct lt_span *sp, long long now_us)
{
	long long left = sp->end_us - now_us;

	if (left <= 0)
		return 0;
	return left < sp->amount ? left : sp->amount;
}

/* lt_refund_set - one refund call for one key value; 0 or -1 + err */
static int
lt_refund_set(struct lt_set *s, struct redis_pool *p, long long now_us,
	      const char **err)
{
	struct limit_refund_item *items;
	size_t n = 0;
	int rc;

	if (s->n == 0)
		return 0;
	items = xcalloc(s->n, sizeof(*items));
	for (size_t i = 0; i < s->n; i++) {
		long long amount = s->r[i].amount, interval = 0;

		if (s->r[i].type == LIMIT_TYPE_RATE && s->r[i].nspans > 0) {
			/* in units of the last interval (an override may change it) */
			double sum = 0;

			interval = s->r[i].spans[s->r[i].nspans - 1].amount;
			for (size_t j = 0; j < s->r[i].nspans; j++)
				sum += (double)lt_undrained(&s->r[i].spans[j], now_us)
				    * (double)interval / (double)s->r[i].spans[j].amount;
			amount = (long long)sum;
		}
		if (amount <= 0)
			continue;
		items[n].key = s->r[i].key;
		items[n].type = s->r[i].type;
		items[n].amount = amount;
		items[n].interval_us = interval;
		n++;
	}
	rc = n ? limit_store_refund(p, now_us, items, n, err) : 0;
	free(items);
	return rc;
}

/* lt_ratio - used/limit of a usage, for the tightest limit */
static double
lt_ratio(const struct limit_usage *u)
{
	if (u->limit < 0)
		return -1;
	return u->limit == 0 ? 2.0 : (double)u->used / (double)u->limit;
}

/* lt_refund_stage - give back what calls 0..n-1 of a refused stage counted */
static void
lt_refund_stage(const struct limit_result *results, const bool *counted, size_t n,
		struct redis_pool *p, long long now_us, struct limit_outcome *out)
{
	for (size_t j = 0; j < n; j++) {
		struct lt_set tmp = {NULL, 0};
		const char *err = NULL;

		if (!counted[j])
			continue;
		lt_add(&tmp, &results[j]);
		out->redis_calls++;
		if (lt_refund_set(&tmp, p, now_us, &err) < 0 && out->error[0] == '\0')
			snprintf(out->error, sizeof(out->error), "refund: %s", err ? err : "?");
		lt_set_clear(&tmp);
	}
}

/* limit_txn_check - one stage (RCPT or end of message); see limit_txn.h */
void
limit_txn_check(struct limit_txn *t, struct redis_pool *p,
		const struct limit_txn_opts *o, enum limit_what what,
		long long now_us, struct limit_outcome *out)
{
	struct limit_result *results = xcalloc(t->plan.ncalls ? t->plan.ncalls : 1,
					       sizeof(*results));
	bool *counted = xcalloc(t->plan.ncalls ? t->plan.ncalls : 1, sizeof(bool));
	bool any = false;

	memset(out, 0, sizeof(*out));
	out->v.action = LIMIT_ACT_ACCEPT;
	out->v.reason = LIMIT_R_WITHIN;
	out->v.index = LIMIT_NONE;
	for (size_t i = 0; i < t->plan.ncalls; i++) {
		struct limit_check_req req = {
			o->prefix, &t->plan.calls[i], what, 1, true, now_us, o->offset_ms,
		};
		const char *err = NULL;
		struct limit_verdict v;
		int rc;

		if (!limit_call_counts(&t->plan.calls[i], what))
			continue;
		out->calls_made++;
		out->redis_calls++;
		rc = limit_store_check(p, &req, &results[i], &err);
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
			lt_refund_stage(results, counted, i, p, now_us, out);
			goto done;
		}
		if (rc < 0) {
			/* on_redis_error = accept: this call counts nothing */
			out->v = v;
			out->keyval = t->plan.calls[i].keyval;
			out->have_usage = false;
			continue;
		}
		counted[i] = results[i].status == LIMIT_ST_COUNTED;
		any = any || counted[i];
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
		if (counted[i])
			lt_add(&t->sets[i], &results[i]);
	if (any)
		t->reserved[what]++;
done:
	for (size_t i = 0; i < t->plan.ncalls; i++)
		limit_result_free(&results[i]);
	free(results);
	free(counted);
}

/* limit_txn_commit - the mail was accepted: the counts stay */
void
limit_txn_commit(struct limit_txn *t)
{
	for (size_t i = 0; i < t->plan.ncalls; i++)
		lt_set_clear(&t->sets[i]);
	t->reserved[0] = t->reserved[1] = 0;
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

		if (lt_refund_set(&t->sets[i], p, now_us, &e) < 0) {
			if (rc == 0)
				*err = e;
			rc = -1;
		}
		lt_set_clear(&t->sets[i]);
	}
	t->reserved[0] = t->reserved[1] = 0;
	return rc;
}

/* limit_txn_reserved - what is reserved now */
void
limit_txn_reserved(const struct limit_txn *t, long long *recipients,
		   long long *messages)
{
	*recipients = t->reserved[LIMIT_WHAT_RECIPIENTS];
	*messages = t->reserved[LIMIT_WHAT_MESSAGES];
}
