/*++
 * NAME
 *	limit_milter 3
 * SUMMARY
 *	postmill-limit libmilter callbacks
 * DESCRIPTION
 *	Thin callbacks (STYLE 2.2): each gets its state, copies what it
 *	needs, calls limit_txn_* (which calls limit_store_* and
 *	limit_decide()), maps the verdict to a reply and logs one line per
 *	decision with the queue id.
 *
 *	Transaction life: envfrom takes a configuration snapshot, gathers
 *	the facts (login, sender, client address) and builds the plan; when
 *	no rule applies the message is accepted at once (SMFIS_ACCEPT: no
 *	further callbacks for it). envrcpt reserves one recipient and, with
 *	the first one accepted, the message, in the same Redis call per key
 *	value (limit_txn.h): a message over a message limit is refused at
 *	RCPT, before its data, and costs no call of its own. eom only
 *	confirms what the transaction reserved (it checks the message only
 *	when no RCPT did). abort, close, a new envfrom before eom, and our
 *	own refusal at eom refund what the transaction reserved. Postfix sends ABORT also after
 *	a transaction that ended normally; by then nothing is reserved any
 *	more, so that is harmless.
 *
 *	postmill-limit must be the LAST milter in smtpd_milters: once its
 *	end of message committed, a later milter that rejects the message
 *	leaves the count behind (Postfix does not tell earlier milters that
 *	a message they passed was then refused). A milter before it that
 *	rejects makes Postfix send ABORT to it, which refunds.
 *
 *	Protocol: no HELO, DATA, header, body or unknown-command callbacks.
 *	Every stage the MTA waits for costs it and us a round trip, so the
 *	MTA is asked for no reply (SMFIP_NR_*) where the configuration
 *	snapshot current at negotiation can never answer but "go on":
 *	connect always; MAIL unless limit_tenant_pause is on
 *	(limit_policy_mail_answers()); RCPT only when there is no rule at
 *	all (limit_policy_rcpt_answers(): message rules are checked at RCPT
 *	too). The callbacks follow what the connection negotiated
 *	(milter_conn's nr), not the snapshot of the message: after a reload
 *	that turned the pause on or added the first rule, the checks run as
 *	usual, and a refusal that a no-reply stage cannot give is owed
 *	and given by the next stage that has a reply (RCPT, else end of
 *	message, which always has one); so is the tempfail of a MAIL
 *	without a snapshot. A message no rule counts is accepted at MAIL
 *	(no further callbacks), or, when MAIL has no reply, at the first
 *	RCPT that has one; else it goes on to end of message.
 *
 *	Replies: a recipient over a limit gets 451 4.7.1 (550 5.7.1 for a
 *	rule with "reject") at RCPT, and so does every RCPT of a message
 *	over a message limit; when Redis cannot answer, limit_on_redis_error says
 *	tempfail (451 4.3.0) or accept. Every reply comes from the one
 *	table in limit_reply.c. Log lines (facility mail; milter_conn_decision()
 *	ends each in client=ADDR and, authenticated, login=LOGIN):
 *	  QID: limit: action=tempfail stage=rcpt key=sasl:alice rule=plan
 *	      limit=day used=50000/50000 retry_after=3h12m rcpt=<...>
 *	  QID: limit: action=tempfail stage=rcpt key=... rule=burst limit=rate
 *	      used=100/100 retry_after=1s rcpt=<...>  (a message rule)
 *	  QID: limit: action=accept stage=eom key=... rule=... limit=...
 *	      used=12/100  (a message a message rule counts: the tightest
 *	      limit of the RCPT check that reserved it)
 *	  QID: limit: action=accept stage=rcpt key=... reason=redis_error
 *	      error="timeout" policy=accept
 *	  QID: limit: action=refund reason=abort recipients=3 messages=1
 *--*/
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "limit.h"
#include "limit_milter.h"
#include "limit_pause.h"
#include "limit_reply.h"
#include "limit_stats.h"
#include "log.h"
#include "milter_conn.h"
#include "milter_main.h"
#include "milter_reply.h"
#include "xalloc.h"

/* a refusal owed by a no-reply stage; LIMIT_OWED_TEMPFAIL: no reply text */
#define LIMIT_OWED_TEMPFAIL	(-1)

struct limit_conn {
	struct milter_conn mc;		/* first: client, snapshot, login, qid */
	/* the message in progress */
	struct limit_txn *txn;
	bool		 owed;		/* a refusal the next replied stage gives */
	int		 owed_reply;	/* enum limit_reply, or LIMIT_OWED_TEMPFAIL */
	char		*owed_text;	/* its "%s", or NULL */
	bool		 have_msg;	/* msg is the RCPT that reserved the message */
	struct limit_outcome msg;	/* for the end-of-message log line */
};

/* limit_now_us - wall clock in microseconds (shared with other nodes) */
static long long
limit_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* limit_state_of - this message's loaded state */
static const struct limit_state *
limit_state_of(const struct limit_conn *c)
{
	return c->mc.snap->state;
}

/* limit_conn_refund - give back what the transaction reserved, log it;
 * false when Redis did not take it */
static bool
limit_conn_refund(struct limit_conn *c, const char *why)
{
	long long rcpts, msgs;
	const char *err = NULL;

	if (c->txn == NULL || limit_txn_pending(c->txn) == 0)
		return true;
	if (limit_txn_refund(c->txn, limit_state_of(c)->pool, limit_now_us(),
			     &rcpts, &msgs, &err) < 0) {
		milter_conn_decision(&c->mc, NULL, LOG_WARNING, "limit", "refund",
			"reason=%s recipients=%lld messages=%lld status=failed why=\"%s\" (retried by later transactions; "
			"else they count until limit_reservation_ttl has passed)", why,
			rcpts, msgs, err ? err : "?");
		return false;
	}
	if (rcpts + msgs > 0) {
		milter_conn_decision(&c->mc, NULL, LOG_INFO, "limit", "refund",
				     "reason=%s recipients=%lld messages=%lld", why, rcpts, msgs);
		limit_stats_refund(why, rcpts + msgs);
	}
	return true;
}

/*
 * limit_retry_deferred - refunds that failed earlier in this process
 * (limit_txn.h), retried at MAIL and end of message while some wait and
 * Redis is not known to be down: a few key values per transaction, so
 * that a backlog costs no session more than that
 */
static void
limit_retry_deferred(const struct limit_state *st, const char *qid)
{
	long long ids = 0;
	const char *err = NULL;
	struct redis_pool_stats ps;

	if (limit_txn_deferred() == 0)
		return;
	/* while the pool backs off, the next real call is the probe */
	redis_pool_stats(st->pool, &ps);
	if (ps.down)
		return;
	limit_txn_retry_deferred(st->pool, limit_now_us(), 4, &ids, &err);
	/* not milter_conn_decision(): these are other transactions'
	 * reservations, and this connection's client= would name the wrong one */
	if (ids > 0) {
		log_msg(LOG_INFO, qid, "limit: action=refund reason=retry reservations=%lld",
			ids);
		limit_stats_refund("retry", ids);
	}
}

/* limit_conn_end_message - refund what is left, drop message state */
static void
limit_conn_end_message(struct limit_conn *c, const char *why)
{
	if (c->txn != NULL) {
		/* what Redis did not take waits in the process's queue */
		if (!limit_conn_refund(c, why))
			limit_txn_defer(c->txn, limit_now_us());
		c->txn = limit_txn_free(c->txn);
	}
	c->owed = false;
	c->owed_text = xfree(c->owed_text);
	c->have_msg = false;
	milter_conn_end_message(&c->mc);
}

/*
 * limit_refuse - a refusal at a stage: given now when the stage has a
 * reply, else owed to the next one that has (the first refusal counts)
 */
static sfsistat
limit_refuse(SMFICTX *ctx, struct limit_conn *c, unsigned long nr_bit,
	     int reply, const char *text)
{
	if (!milter_conn_no_reply(&c->mc, nr_bit))
		return reply == LIMIT_OWED_TEMPFAIL ? SMFIS_TEMPFAIL
		    : milter_reply_apply(ctx, &limit_reply_table, reply, text);
	if (!c->owed) {
		c->owed = true;
		c->owed_reply = reply;
		c->owed_text = text != NULL ? xstrdup(text) : NULL;
	}
	return SMFIS_NOREPLY;
}

/* limit_pay - give the owed refusal (at a stage with a reply) */
static sfsistat
limit_pay(SMFICTX *ctx, const struct limit_conn *c)
{
	if (c->owed_reply == LIMIT_OWED_TEMPFAIL)
		return SMFIS_TEMPFAIL;
	return milter_reply_apply(ctx, &limit_reply_table, c->owed_reply, c->owed_text);
}

/* limit_log - one line per decision; see the file header */
static void
limit_log(SMFICTX *ctx, struct limit_conn *c, const char *stage,
	  const struct limit_outcome *o, const char *rcpt, long long refunded)
{
	char key[160], rc[300], used[48], wait[32], extra[64];
	const struct limit_state *st = limit_state_of(c);
	int prio;

	limit_stats_decision(stage, limit_action_name(o->v.action),
			     limit_reason_name(o->v.reason),
			     o->have_usage ? o->u.rule->name : "");
	if (o->v.reason == LIMIT_R_REDIS_ERROR)
		prio = LOG_WARNING;
	else if (o->v.action != LIMIT_ACT_ACCEPT)
		prio = LOG_NOTICE;
	else if (st->log_accepted)
		prio = LOG_INFO;
	else
		return;
	log_escape(key, sizeof(key), o->keyval ? o->keyval : "-",
		   strlen(o->keyval ? o->keyval : "-"));
	rc[0] = extra[0] = '\0';
	if (rcpt != NULL) {
		char esc[256];

		snprintf(rc, sizeof(rc), " rcpt=%s", log_escape(esc, sizeof(esc), rcpt,
								 strlen(rcpt)));
	}
	if (refunded > 0)
		snprintf(extra, sizeof(extra), " refunded_recipients=%lld", refunded);
	if (o->v.reason == LIMIT_R_REDIS_ERROR) {
		milter_conn_decision(&c->mc, ctx, prio, "limit", limit_action_name(o->v.action),
			"stage=%s key=%s reason=redis_error error=\"%s\" policy=%s%s%s",
			stage, key, o->error, st->opts.on_redis_error == LIMIT_ON_ERROR_ACCEPT ?
			"accept" : "tempfail", rc, extra);
		return;
	}
	if (!o->have_usage) {
		milter_conn_decision(&c->mc, ctx, prio, "limit", limit_action_name(o->v.action),
			"stage=%s key=%s reason=%s%s%s", stage, key,
			limit_reason_name(o->v.reason), rc, extra);
		return;
	}
	if (o->u.limit < 0)
		snprintf(used, sizeof(used), "%lld/unlimited", o->u.used);
	else
		snprintf(used, sizeof(used), "%lld/%lld", o->u.used, o->u.limit);
	if (o->v.action != LIMIT_ACT_ACCEPT)
		milter_conn_decision(&c->mc, ctx, prio, "limit", limit_action_name(o->v.action),
			"stage=%s key=%s rule=%s limit=%s used=%s retry_after=%s%s%s",
			stage, key, o->u.rule->name, o->u.def->name, used,
			limit_duration_format(o->u.retry_ms, wait, sizeof(wait)), rc, extra);
	else
		milter_conn_decision(&c->mc, ctx, prio, "limit", "accept",
			"stage=%s key=%s rule=%s limit=%s used=%s%s", stage, key, o->u.rule->name, o->u.def->name,
			used, rc);
}

/* limit_reply - map a negative outcome to the SMTP reply */
static sfsistat
limit_reply(SMFICTX *ctx, const struct limit_outcome *o)
{
	struct limit_reply_out r;

	if (o->v.action == LIMIT_ACT_ACCEPT)
		return SMFIS_CONTINUE;
	limit_reply_make(&o->v, o->have_usage ? &o->u : NULL, &r);
	return milter_reply_apply(ctx, &limit_reply_table, r.reply, r.text);
}

/*
 * limit_xxfi_negotiate - skip the stages we do not use; no reply where
 * the current configuration can only go on (see the file header)
 */
static sfsistat
limit_xxfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		     unsigned long f2, unsigned long f3, unsigned long *pf0,
		     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH
	    | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_CONN;
	struct milter_snapshot *snap = milter_snapshot_acquire();
	struct limit_conn *c;

	/* no snapshot cannot happen after start-up: then every stage replies */
	if (snap != NULL) {
		const struct limit_conf *lc = snap->conf;
		const struct limit_state *st = snap->state;

		if (!limit_policy_mail_answers(lc->tenant_pause))
			want |= SMFIP_NR_MAIL;
		if (!limit_policy_rcpt_answers(st->rules))
			want |= SMFIP_NR_RCPT;
		milter_snapshot_release(snap);
	}
	*pf0 = 0;
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	/* negotiate comes before connect: the session state starts here */
	c = milter_conn_get(ctx, sizeof(*c));
	c->mc.nr = *pf1 & (SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT);
	return SMFIS_CONTINUE;
}

/* limit_xxfi_connect - remember the client address */
static sfsistat
limit_xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct limit_conn *c = milter_conn_get(ctx, sizeof(*c));

	milter_conn_connect(&c->mc, sa);
	return milter_conn_go_on(&c->mc, SMFIP_NR_CONN);
}

/*
 * limit_pause_refuse - is this hosted message's tenant paused
 * (limit_pause.h): true with the reply and its text, or false
 */
static bool
limit_pause_refuse(SMFICTX *ctx, struct limit_conn *c, const char *sender,
		   enum limit_reply *reply, char *text, size_t textlen)
{
	const struct limit_conf *lc = c->mc.snap->conf;
	struct limit_pause lp;
	const char *err = NULL;
	int r;

	if (!limit_policy_checks_pause(lc->tenant_pause, c->mc.authenticated,
				       c->mc.internal))
		return false;
	r = limit_pause_check(limit_state_of(c)->pool, lc->tenant_pause_prefix,
			      c->mc.login, sender, &lp, &err);
	if (r < 0)
		log_msg(LOG_WARNING, milter_conn_qid(&c->mc, ctx), "limit: tenant pause not "
			"checked: %s", err ? err : "?");
	if (r != 1)
		return false;	/* a lookup that failed lets the mail go on */
	limit_pause_text(&lp, text, textlen);
	milter_conn_decision(&c->mc, ctx, LOG_NOTICE, "limit",
			     lc->tenant_pause == LIMIT_PAUSE_REJECT ? "reject" : "tempfail",
			     "stage=mail reason=tenant_paused tenant=%s why=\"%s\"",
			     lp.tenant, lp.reason);
	limit_stats_decision("mail", lc->tenant_pause == LIMIT_PAUSE_REJECT ? "reject"
			     : "tempfail", "tenant_paused", "-");
	*reply = limit_reply_of_pause(lc->tenant_pause);
	return true;
}

/* limit_xxfi_envfrom - new transaction: snapshot, facts, plan */
static sfsistat
limit_xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct limit_conn *c = smfi_getpriv(ctx);
	struct limit_facts f = {0};
	struct limit_plan plan;
	enum limit_reply reply;
	char text[600];

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	/* a transaction that never ended (no EOM, no ABORT): refund it */
	limit_conn_end_message(c, "unfinished");
	if (milter_conn_mail(&c->mc, ctx) < 0)	/* cannot happen after start-up */
		return limit_refuse(ctx, c, SMFIP_NR_MAIL, LIMIT_OWED_TEMPFAIL, NULL);
	limit_retry_deferred(limit_state_of(c), LOG_NOQUEUE);
	if (limit_pause_refuse(ctx, c, argv != NULL ? argv[0] : NULL, &reply, text,
			       sizeof(text))) {
		limit_conn_end_message(c, "none");
		return limit_refuse(ctx, c, SMFIP_NR_MAIL, (int)reply, text);
	}
	if (c->mc.authenticated)
		f.login = xstrdup(c->mc.login);
	if (argv != NULL && argv[0] != NULL)
		limit_facts_set_sender(&f, argv[0], strlen(argv[0]));
	limit_facts_set_ip(&f, c->mc.client.family,
			   milter_client_bytes(&c->mc.client));
	limit_plan_build(limit_state_of(c)->rules, &f, &plan);
	limit_facts_free(&f);
	if (plan.ncalls == 0) {
		/* no rule counts this sender: nothing more to see here */
		limit_plan_free(&plan);
		milter_conn_decision(&c->mc, ctx, LOG_DEBUG, "limit", "accept",
				     "reason=no_rules");
		limit_conn_end_message(c, "none");
		/* without a reply here, the first RCPT with one accepts */
		return milter_conn_no_reply(&c->mc, SMFIP_NR_MAIL) ? SMFIS_NOREPLY
		    : SMFIS_ACCEPT;
	}
	c->txn = limit_txn_new(&plan);
	return milter_conn_go_on(&c->mc, SMFIP_NR_MAIL);
}

/*
 * limit_xxfi_envrcpt - reserve one recipient, and with the first one
 * accepted the message (limit_txn.h)
 */
static sfsistat
limit_xxfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct limit_conn *c = smfi_getpriv(ctx);
	struct limit_outcome o;
	struct limit_reply_out r;
	const struct limit_state *st;
	bool with_msg;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->owed)
		return milter_conn_no_reply(&c->mc, SMFIP_NR_RCPT) ? SMFIS_NOREPLY
		    : limit_pay(ctx, c);
	if (c->txn == NULL)	/* no rule counts it: done, where RCPT has a reply */
		return milter_conn_no_reply(&c->mc, SMFIP_NR_RCPT) ? SMFIS_NOREPLY
		    : SMFIS_ACCEPT;
	if (!limit_txn_due(c->txn, LIMIT_WHAT_RECIPIENTS))
		return milter_conn_go_on(&c->mc, SMFIP_NR_RCPT);
	st = limit_state_of(c);
	with_msg = limit_txn_due(c->txn, LIMIT_WHAT_MESSAGES);
	limit_txn_check(c->txn, st->pool, &st->opts, LIMIT_WHAT_RECIPIENTS,
			limit_now_us(), &o);
	limit_log(ctx, c, "rcpt", &o,
		  argv != NULL ? argv[0] : NULL, 0);
	if (o.v.action == LIMIT_ACT_ACCEPT) {
		if (with_msg) {
			c->have_msg = true;
			c->msg = o;
		}
		return milter_conn_go_on(&c->mc, SMFIP_NR_RCPT);
	}
	/* a rule added by a reload, on a connection without RCPT replies:
	 * the message is refused at its end, where everything is refunded */
	limit_reply_make(&o.v, o.have_usage ? &o.u : NULL, &r);
	return limit_refuse(ctx, c, SMFIP_NR_RCPT, (int)r.reply, r.text);
}

/*
 * limit_eom_confirm - confirm the transaction's reservations; false when
 * a confirmation surely did not run (Redis known down: never sent).
 * limit_decide_unconfirmed() then says what follows: under tempfail the
 * caller refuses the message and refunds; under accept the mail passes
 * and the reservations it could not confirm are given back after
 * limit_reservation_ttl (uncounted, as any mail accepted while Redis did
 * not answer). A confirmation whose reply did not come may still run:
 * the mail is accepted and that is logged (limit_txn.h says why).
 */
static bool
limit_eom_confirm(SMFICTX *ctx, struct limit_conn *c, const struct limit_state *st,
		  const char *qid, struct limit_outcome *o)
{
	long long expired = 0;
	const char *err = NULL;

	if (limit_txn_commit(c->txn, st->pool, limit_now_us(), &expired, &err) == 0) {
		if (limit_txn_unconfirmed(c->txn) > 0)
			milter_conn_decision(&c->mc, ctx, LOG_WARNING, "limit", "accept",
					     "stage=eom reservations_unconfirmed=%lld why=\"%s\" (the "
					     "confirmation may still run: counted when Redis runs "
					     "it, else given back after limit_reservation_ttl)",
					     limit_txn_unconfirmed(c->txn), err ? err : "?");
		if (expired > 0)
			milter_conn_decision(&c->mc, ctx, LOG_WARNING, "limit", "accept",
					     "stage=eom reservations_expired=%lld (the transaction "
					     "lasted longer than limit_reservation_ttl: not "
					     "counted)", expired);
		return true;
	}
	snprintf(o->error, sizeof(o->error), "confirm: %s", err ? err : "?");
	log_msg(LOG_WARNING, qid, "limit: reservations not confirmed: %s policy=%s",
		err ? err : "?", st->opts.on_redis_error == LIMIT_ON_ERROR_ACCEPT ?
		"accept" : "tempfail");
	return false;
}

/*
 * limit_xxfi_eom - confirm what the transaction reserved (the message was
 * reserved with its first recipient), or refuse and refund everything
 */
static sfsistat
limit_xxfi_eom(SMFICTX *ctx)
{
	struct limit_conn *c = smfi_getpriv(ctx);
	struct limit_outcome o;
	const struct limit_state *st;
	const char *qid;
	long long rcpts = 0, msgs = 0;
	sfsistat rc;

	if (c != NULL && c->owed) {
		/* a refusal no earlier stage could give; refund the rest */
		rc = limit_pay(ctx, c);
		limit_conn_end_message(c, "refused");
		return rc;
	}
	if (c == NULL || c->txn == NULL) {
		if (c != NULL)
			limit_conn_end_message(c, "none");
		return SMFIS_CONTINUE;
	}
	st = limit_state_of(c);
	qid = milter_conn_qid(&c->mc, ctx);
	if (limit_txn_due(c->txn, LIMIT_WHAT_MESSAGES)) {
		/* no RCPT checked the message (none reached us with a check) */
		limit_txn_check(c->txn, st->pool, &st->opts, LIMIT_WHAT_MESSAGES,
				limit_now_us(), &o);
	} else if (c->have_msg) {
		o = c->msg;		/* the RCPT that reserved the message */
	} else {
		memset(&o, 0, sizeof(o));
		o.v = (struct limit_verdict){LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, LIMIT_NONE};
	}
	if (o.v.action == LIMIT_ACT_ACCEPT
	    && !limit_eom_confirm(ctx, c, st, qid, &o))
		o.v = limit_decide_unconfirmed(o.v, st->opts.on_redis_error);
	if (o.v.action != LIMIT_ACT_ACCEPT) {
		const char *err = NULL;

		limit_txn_reserved(c->txn, &rcpts, &msgs);
		if (limit_txn_refund(c->txn, st->pool, limit_now_us(), &rcpts, &msgs,
				     &err) < 0)
			milter_conn_decision(&c->mc, ctx, LOG_WARNING, "limit", "refund",
				"reason=refused recipients=%lld messages=%lld status=failed "
				"why=\"%s\" (retried by later transactions; else they count "
				"until limit_reservation_ttl has passed)", rcpts, msgs,
				err ? err : "?");
		else
			limit_stats_refund("refused", rcpts + msgs);
	}
	/* a message no message rule counts has its say at RCPT only */
	if (o.v.action != LIMIT_ACT_ACCEPT || limit_txn_has(c->txn, LIMIT_WHAT_MESSAGES))
		limit_log(ctx, c, "eom", &o, NULL, rcpts);
	rc = limit_reply(ctx, &o);
	limit_retry_deferred(st, qid);
	/* after a refusal or a failed confirmation: what is left is refunded */
	limit_conn_end_message(c, "eom");
	return rc;
}

/* limit_xxfi_abort - the MTA dropped the transaction: refund */
static sfsistat
limit_xxfi_abort(SMFICTX *ctx)
{
	struct limit_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		if (c->txn != NULL)
			milter_conn_qid(&c->mc, ctx);
		limit_conn_end_message(c, "abort");
	}
	return SMFIS_CONTINUE;
}

/* limit_xxfi_close - end of the connection; may come with no state */
static sfsistat
limit_xxfi_close(SMFICTX *ctx)
{
	struct limit_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		limit_conn_end_message(c, "close");
	free(milter_conn_take(ctx));
	return SMFIS_CONTINUE;
}

const struct smfiDesc limit_milter_desc = {
	.xxfi_name = "postmill-limit",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = limit_xxfi_connect,
	.xxfi_envfrom = limit_xxfi_envfrom,
	.xxfi_envrcpt = limit_xxfi_envrcpt,
	.xxfi_eom = limit_xxfi_eom,
	.xxfi_abort = limit_xxfi_abort,
	.xxfi_close = limit_xxfi_close,
	.xxfi_negotiate = limit_xxfi_negotiate,
};
