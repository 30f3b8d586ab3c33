/*++
 * NAME
 *	limit_policy 3
 * SUMMARY
 *	the limit decision and the SMTP reply, as plain functions
 * DESCRIPTION
 *	See limit_policy.h. Enhanced status codes (RFC 3463): 4.7.1 and
 *	5.7.1 "delivery not authorized" for a sender over its limit, the
 *	codes Postfix's own rate limits use; 4.3.0 "other mail system
 *	problem" when our Redis cannot answer: that is our trouble, and it
 *	never becomes a 5xx (STYLE 2.5).
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_conf.h"
#include "limit_policy.h"
#include "limit_window.h"
#include "xalloc.h"

/* limit_tightest - the counted limit closest to its end, for the log */
size_t
limit_tightest(const struct limit_result *r)
{
	size_t best = LIMIT_NONE;
	double best_ratio = -1;

	for (size_t i = 0; i < r->n; i++) {
		const struct limit_usage *u = &r->u[i];
		double ratio;

		if (u->limit < 0)
			continue;
		ratio = u->limit == 0 ? 2.0 : (double)u->used / (double)u->limit;
		if (ratio > best_ratio) {
			best_ratio = ratio;
			best = i;
		}
	}
	return best;
}

/* limit_decide - the verdict on one call's result; see limit_policy.h */
struct limit_verdict
limit_decide(const struct limit_result *r, int on_redis_error)
{
	struct limit_verdict v = {LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, LIMIT_NONE};

	if (r == NULL) {
		v.reason = LIMIT_R_REDIS_ERROR;
		v.action = on_redis_error == LIMIT_ON_ERROR_ACCEPT ?
		    LIMIT_ACT_ACCEPT : LIMIT_ACT_TEMPFAIL;
		return v;
	}
	switch (r->status) {
	case LIMIT_ST_EXEMPT:
		v.reason = LIMIT_R_EXEMPT;
		return v;
	case LIMIT_ST_COUNTED:
		v.index = limit_tightest(r);
		return v;
	case LIMIT_ST_REFUSED:
		break;
	}
	v.reason = LIMIT_R_OVER;
	v.action = LIMIT_ACT_TEMPFAIL;
	for (size_t i = 0; i < r->n; i++) {
		const struct limit_usage *u = &r->u[i];
		bool reject = u->rule != NULL && u->rule->reject;

		if (!u->over)
			continue;
		/* a permanent "no" beats "not now"; then the longest wait */
		if (v.index == LIMIT_NONE
		    || (reject && v.action != LIMIT_ACT_REJECT)
		    || ((reject == (v.action == LIMIT_ACT_REJECT))
			&& u->retry_ms > r->u[v.index].retry_ms)) {
			v.index = i;
			v.action = reject ? LIMIT_ACT_REJECT : LIMIT_ACT_TEMPFAIL;
		}
	}
	return v;
}

/* limit_decide_unconfirmed - the verdict when confirming reservations failed */
struct limit_verdict
limit_decide_unconfirmed(struct limit_verdict v, int on_redis_error)
{
	struct limit_verdict t = {LIMIT_ACT_TEMPFAIL, LIMIT_R_REDIS_ERROR, LIMIT_NONE};

	return on_redis_error == LIMIT_ON_ERROR_ACCEPT ? v : t;
}

/* limit_per_text - "per day", "per 10s" */
static const char *
limit_per_text(const struct limit_def *d)
{
	return d->name;
}

/* limit_reply_make - the SMTP reply of a negative verdict */
void
limit_reply_make(const struct limit_verdict *v, const struct limit_usage *u,
		 struct limit_reply_out *out)
{
	char wait[32];

	out->text[0] = '\0';
	if (v->reason == LIMIT_R_REDIS_ERROR || u == NULL || u->rule == NULL
	    || u->def == NULL) {
		out->reply = v->reason == LIMIT_R_REDIS_ERROR ? LIMIT_REPLY_REDIS_ERROR
		    : LIMIT_REPLY_EXCEEDED;
		return;
	}
	limit_duration_format(u->retry_ms, wait, sizeof(wait));
	out->reply = v->action == LIMIT_ACT_REJECT ? LIMIT_REPLY_OVER_REJECT
	    : LIMIT_REPLY_OVER_TEMPFAIL;
	if (u->def->type == LIMIT_TYPE_RATE)
		snprintf(out->text, sizeof(out->text),
			 "Sending rate exceeded: %s rule %s, at most %lld at once; "
			 "try again in %s", limit_what_name(u->rule->what),
			 u->rule->name, u->limit, wait);
	else
		snprintf(out->text, sizeof(out->text),
			 "Sending quota %s: %lld %s per %s (rule %s); %s %s",
			 v->action == LIMIT_ACT_REJECT ? "exhausted" : "exceeded",
			 u->limit, limit_what_name(u->rule->what), limit_per_text(u->def),
			 u->rule->name, v->action == LIMIT_ACT_REJECT ?
			 "it renews in" : "try again in", wait);
}

/* limit_policy_checks_pause - is a tenant pause looked up for this client */
bool
limit_policy_checks_pause(int tenant_pause, bool authenticated, bool internal)
{
	return tenant_pause != LIMIT_PAUSE_OFF && (authenticated || internal);
}

/*
 * limit_policy_mail_answers - can MAIL get an answer other than "go on"
 * under this configuration: only a tenant pause refuses there (a Redis
 * error of the pause lookup lets the mail go on, and a message no rule
 * counts needs no answer: the next stage with a reply may accept it)
 */
bool
limit_policy_mail_answers(int tenant_pause)
{
	return tenant_pause != LIMIT_PAUSE_OFF;
}

/*
 * limit_policy_rcpt_answers - can RCPT be refused under these rules: when
 * any rule counts (over a limit, or a Redis error under
 * limit_on_redis_error=tempfail): recipient rules are checked at every
 * RCPT, message rules with the first recipient (limit_txn.h); else RCPT
 * only ever goes on
 */
bool
limit_policy_rcpt_answers(const struct limit_rules *rules)
{
	if (rules == NULL)
		return true;	/* nothing known: keep the reply */
	return rules->nrules > 0;
}

/* limit_action_name - the word logged as action= */
const char *
limit_action_name(enum limit_action action)
{
	switch (action) {
	case LIMIT_ACT_ACCEPT: return "accept";
	case LIMIT_ACT_TEMPFAIL: return "tempfail";
	case LIMIT_ACT_REJECT: return "reject";
	}
	return "unknown";
}

/* limit_reason_name - the word logged as reason= */
const char *
limit_reason_name(enum limit_reason reason)
{
	switch (reason) {
	case LIMIT_R_WITHIN: return "within_limits";
	case LIMIT_R_EXEMPT: return "exempt";
	case LIMIT_R_OVER: return "over_limit";
	case LIMIT_R_REDIS_ERROR: return "redis_error";
	}
	return "unknown";
}

/* limit_result_free - the usages and their keys; the struct is the caller's */
void
limit_result_free(struct limit_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->u[i].key);
	free(r->u);
	r->u = NULL;
	r->n = 0;
}
