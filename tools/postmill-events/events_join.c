/*++
 * NAME
 *	events_join 3
 * SUMMARY
 *	log lines and bounce-stream entries into events (see events.h)
 * DESCRIPTION
 *	events_join_line() turns one log line into the events it means:
 *	  message-id=	the Message-ID is kept in the queue state
 *	  from=<b-TAG@...>, first time for this queue id: the tag's message
 *			record (postmill-bounce) is read; when its queue id
 *			is this line's, the message is ours: one "accepted"
 *			per recipient the milter accepted. Later from= lines
 *			(the message comes back from the deferred queue) add
 *			nothing. Untagged mail makes no events.
 *	  to=		delivered (sent), deferred (each try), bounced (the
 *			reason and class from the text by postmill-bounce's
 *			rules, bounce_reason.h; the recipient is marked so
 *			that the DSN which comes back is not counted again)
 *	  status=expired	bounced (soft, expired) for every recipient
 *			without a final state
 *	  removed	the queue state is dropped (Postfix reuses ids)
 *	  reject: RCPT ... recipient suppressed ...	suppressed (the
 *			reply postmill-bounce gives, bounce_policy.c)
 *	events_join_bounces() reads up to max entries of the bounce stream
 *	after the last one done (their shape: bounce_stream.h): a failed
 *	DSN is "bounced" unless the log already reported it, an ARF report
 *	"complained", a one-click unsubscribe "unsubscribed", the tracking
 *	endpoint's open and click entries "opened" and "clicked" (with url,
 *	link, first); delays,
 *	auto-replies and tenant reviews are not events. An entry that names
 *	a message (message_id) is completed from its record: sender, queue
 *	id, and the tenant when the entry has none.
 *	The tenant is the one postmill-bounce chose at tagging and wrote in
 *	the message record (its tenant table: the SASL login's tenant wins
 *	over the sender domain's); without one, the domain of the original
 *	envelope sender.
 *	Both return 0, or -1 with *err when Redis failed: the batch is then
 *	thrown away and read again.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bounce_classify.h"
#include "bounce_policy.h"
#include "bounce_reason.h"
#include "bounce_smtp.h"
#include "bounce_store.h"
#include "bounce_stream.h"
#include "events.h"
#include "xalloc.h"

/* events_tenant_of - the domain of sender, lower case; "" when none */
void
events_tenant_of(const char *sender, char *out, size_t outlen)
{
	const char *at = strrchr(sender, '@');
	size_t n = 0;

	if (at != NULL)
		for (at++; *at != '\0' && n + 1 < outlen; at++)
			out[n++] = (char)(*at >= 'A' && *at <= 'Z' ? *at - 'A' + 'a' : *at);
	out[n] = '\0';
}

/* ej_norm - an address as postmill-bounce keys it, or as given */
static void
ej_norm(const char *in, char *out, size_t outlen)
{
	if (bounce_addr_norm(in, strlen(in), out, outlen) < 0)
		snprintf(out, outlen, "%s", in);
}

/*
 * ej_tenant - the tenant of a tagged message: the one postmill-bounce
 * found at tagging (its tenant table; a login:NAME key wins over the
 * sender's domain, so mail of an authenticated login is its tenant's
 * whatever sender it uses), else the domain of the envelope sender
 */
static void
ej_tenant(const struct bounce_msgrec *rec, char *out, size_t outlen)
{
	if (rec->tenant[0] != '\0')
		snprintf(out, outlen, "%s", rec->tenant);
	else
		events_tenant_of(rec->sender, out, outlen);
}

/* ej_q - the state of qid in this batch, loaded once */
static struct events_q *
ej_q(struct events_join *j, const char *qid, const char **err)
{
	struct events_batch *b = j->batch;
	struct events_q *q;

	for (size_t i = 0; i < b->nq; i++)
		if (strcmp(b->q[i].qid, qid) == 0)
			return &b->q[i];
	if (b->nq == b->qcap) {
		b->qcap = b->qcap ? 2 * b->qcap : 64;
		b->q = xrealloc(b->q, b->qcap * sizeof(*b->q));
	}
	q = &b->q[b->nq];
	memset(q, 0, sizeof(*q));
	snprintf(q->qid, sizeof(q->qid), "%s", qid);
	if (events_store_load_q(j->pool, j->conf->key_prefix, qid, q, err) < 0)
		return NULL;
	b->nq++;
	return q;
}

/* ej_in_list - is word an element of the comma-separated list */
static int
ej_in_list(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == wl && memcmp(p, word, wl) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

/* ej_list_add - append word when it fits and is not there */
static void
ej_list_add(char *list, size_t size, const char *word)
{
	size_t n = strlen(list);

	if (ej_in_list(list, word) || n + strlen(word) + 2 > size)
		return;
	snprintf(list + n, size - n, "%s%s", n ? "," : "", word);
}

/* ej_ev - a new event with the common fields of a queued message */
static struct events_ev *
ej_ev(struct events_join *j, const char *type, const struct events_q *q,
      const char *rcpt, const struct events_pos *at, const char *line, size_t len,
      unsigned idx)
{
	struct events_ev *e = events_batch_add(j->batch);
	char t[24];

	events_ev_id(e, at, line, len, idx);
	events_ev_set(e, "type", type);
	snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
	events_ev_set(e, "time", t);
	events_ev_set(e, "tenant", q->tenant);
	events_ev_set(e, "sender", q->sender);
	events_ev_set(e, "recipient", rcpt);
	events_ev_set(e, "queue_id", q->qid);
	events_ev_set(e, "message_id", q->msgid);
	events_ev_set(e, "tag_id", q->id);
	return e;
}

/* ej_from - the first activation of a tagged message: accepted */
static int
ej_from(struct events_join *j, const struct events_line *l, const char *line,
	size_t len, const struct events_pos *at, const char **err)
{
	struct events_q *q = ej_q(j, l->qid, err);
	struct bounce_msgrec *rec;
	char	 id[EVENTS_ID_HEX];
	unsigned idx = 0;
	int	 r;

	if (q == NULL)
		return -1;
	if (q->acc || events_tag_id(l->addr, strlen(l->addr), id) < 0)
		return 0;
	rec = xmalloc(sizeof(*rec));
	r = bounce_store_load_message(j->pool, j->conf->bounce_key_prefix, id, rec, err);
	if (r < 0) {
		free(rec);
		return -1;
	}
	/* the record names this queue id: the tag is genuine and ours */
	if (r == 1 && strcmp(rec->qid, l->qid) == 0) {
		snprintf(q->id, sizeof(q->id), "%s", id);
		snprintf(q->sender, sizeof(q->sender), "%s", rec->sender);
		ej_tenant(rec, q->tenant, sizeof(q->tenant));
		snprintf(q->rcpts, sizeof(q->rcpts), "%s", rec->rcpts);
		q->acc = true;
		q->dirty = true;
		for (char *p = rec->rcpts; *p != '\0';) {
			char *e = strchr(p, ',');

			if (e != NULL)
				*e = '\0';
			(void)ej_ev(j, "accepted", q, p, at, line, len, idx++);
			if (e == NULL)
				break;
			p = e + 1;
		}
	}
	free(rec);
	return 0;
}

/* ej_bounced_fields - reason and class of a failed recipient */
static void
ej_bounced_fields(struct events_ev *e, const char *text, const char *dsn)
{
	struct bounce_reason_in in = {text, strlen(text), NULL, 0, dsn, "failed",
				      BOUNCE_SMTP_NONE};
	enum bounce_reason r = bounce_reason_decide(&in, NULL, 0);

	events_ev_set(e, "class", bounce_class_name(bounce_class_of(r, "failed", dsn)));
	events_ev_set(e, "reason", bounce_reason_name(r));
}

/* ej_bx - remember that the log reported rcpt of message id bounced */
static void
ej_bx(struct events_join *j, const char *id, const char *rcpt)
{
	struct events_batch *b = j->batch;
	char *suffix = xasprintf(":bx:%s:%s", id, rcpt);

	b->bx = xrealloc(b->bx, (b->nbx + 1) * sizeof(*b->bx));
	b->bx[b->nbx++] = events_store_key(j->conf->key_prefix, suffix);
	free(suffix);
}

/* ej_to - one delivery attempt */
static int
ej_to(struct events_join *j, const struct events_line *l, const char *line,
      size_t len, const struct events_pos *at, const char **err)
{
	struct events_q *q = ej_q(j, l->qid, err);
	char	 rcpt[EVENTS_ADDR_MAX + 1];
	const char *type;
	struct events_ev *e;

	if (q == NULL)
		return -1;
	if (q->id[0] == '\0')
		return 0;
	if (strcmp(l->status, "sent") == 0)
		type = "delivered";
	else if (strcmp(l->status, "deferred") == 0)
		type = "deferred";
	else if (strcmp(l->status, "bounced") == 0 || strcmp(l->status, "expired") == 0)
		type = "bounced";
	else
		return 0;		/* "undeliverable", "deliverable": probes */
	ej_norm(l->addr, rcpt, sizeof(rcpt));
	e = ej_ev(j, type, q, rcpt, at, line, len, 0);
	events_ev_set(e, "relay", l->relay);
	events_ev_set(e, "dsn", l->dsn);
	events_ev_set(e, "delay", l->delay);
	events_ev_set(e, "diagnostic", l->text);
	events_ev_set(e, "source", "log");
	if (strcmp(type, "deferred") != 0) {
		ej_list_add(q->fin, sizeof(q->fin), rcpt);
		q->dirty = true;
	}
	if (strcmp(type, "bounced") == 0) {
		ej_bounced_fields(e, l->text, l->dsn);
		ej_bx(j, q->id, rcpt);
	}
	return 0;
}

/* ej_expired - every recipient without a final state bounced */
static int
ej_expired(struct events_join *j, const struct events_line *l, const char *line,
	   size_t len, const struct events_pos *at, const char **err)
{
	struct events_q *q = ej_q(j, l->qid, err);
	char	 rcpts[EVENTS_RCPTS_MAX];
	unsigned idx = 0;

	if (q == NULL)
		return -1;
	if (q->id[0] == '\0')
		return 0;
	snprintf(rcpts, sizeof(rcpts), "%s", q->rcpts);
	for (char *p = rcpts; *p != '\0';) {
		char *e = strchr(p, ',');

		if (e != NULL)
			*e = '\0';
		if (!ej_in_list(q->fin, p)) {
			struct events_ev *ev = ej_ev(j, "bounced", q, p, at, line, len, idx++);

			events_ev_set(ev, "class", bounce_class_name(BOUNCE_CLASS_SOFT));
			events_ev_set(ev, "reason", bounce_reason_name(BOUNCE_REASON_EXPIRED));
			events_ev_set(ev, "source", "log");
			ej_bx(j, q->id, p);
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

/* ej_reject - a recipient refused because postmill-bounce suppressed it */
static void
ej_reject(struct events_join *j, const struct events_line *l, const char *line,
	  size_t len, const struct events_pos *at)
{
	static const char mark[] = "after a bounce: ";
	const char *why;
	char	 reason[32] = "", rcpt[EVENTS_ADDR_MAX + 1];
	struct events_q q;
	struct events_ev *e;
	size_t	 n = 0;

	if (strstr(l->text, "recipient suppressed") == NULL)
		return;
	if ((why = strstr(l->text, mark)) != NULL)
		for (why += sizeof(mark) - 1; why[n] != '\0' && why[n] != ' '
		     && why[n] != '(' && n + 1 < sizeof(reason); n++)
			reason[n] = why[n];
	reason[n] = '\0';
	memset(&q, 0, sizeof(q));
	snprintf(q.qid, sizeof(q.qid), "%s", l->qid);
	ej_norm(l->addr, q.sender, sizeof(q.sender));
	events_tenant_of(q.sender, q.tenant, sizeof(q.tenant));
	ej_norm(l->rcpt, rcpt, sizeof(rcpt));
	e = ej_ev(j, "suppressed", &q, rcpt, at, line, len, 0);
	events_ev_set(e, "reason", reason);
	events_ev_set(e, "diagnostic", l->text);
	events_ev_set(e, "source", "smtp");
}

/* events_join_line - see above */
int
events_join_line(struct events_join *j, const char *line, size_t len,
		 const struct events_pos *at, const char **err)
{
	struct events_line *l = xmalloc(sizeof(*l));
	struct events_q *q;
	const char *why;
	int	 rc = 0;

	j->parsed++;
	if (events_parse_line(line, len, l, &why) < 0) {
		j->parse_errors++;
		free(l);
		return 0;
	}
	switch (l->kind) {
	case EVENTS_L_MSGID:
		if ((q = ej_q(j, l->qid, err)) == NULL) {
			rc = -1;
			break;
		}
		snprintf(q->msgid, sizeof(q->msgid), "%s", l->msgid);
		q->dirty = true;
		q->deleted = false;
		break;
	case EVENTS_L_FROM:
		rc = ej_from(j, l, line, len, at, err);
		break;
	case EVENTS_L_TO:
		rc = ej_to(j, l, line, len, at, err);
		break;
	case EVENTS_L_EXPIRED:
		rc = ej_expired(j, l, line, len, at, err);
		break;
	case EVENTS_L_REMOVED:
		if ((q = ej_q(j, l->qid, err)) == NULL) {
			rc = -1;
			break;
		}
		/* the id may be reused at once: a fresh state after this */
		{
			char qid[EVENTS_QID_MAX + 1];

			snprintf(qid, sizeof(qid), "%s", q->qid);
			memset(q, 0, sizeof(*q));
			snprintf(q->qid, sizeof(q->qid), "%s", qid);
			q->deleted = true;
		}
		break;
	case EVENTS_L_REJECT:
		ej_reject(j, l, line, len, at);
		break;
	default:
		break;
	}
	free(l);
	return rc;
}

/* ej_field - a field of a stream entry (array of field, value) */
static const char *
ej_field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING
		    && strcmp(kv->element[i]->str, name) == 0
		    && kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1]->str;
	return "";
}

/* ej_hexid - a message id as bounce_tag.h writes it: 20 lower-case hex */
static int
ej_hexid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == EVENTS_ID_HEX - 1 && s[n] == '\0';
}

/* ej_entry_type - the event of a stream entry (bounce_stream.h), or NULL */
static const char *
ej_entry_type(const char *kind, const char *cls)
{
	if (strcmp(kind, BOUNCE_STREAM_KIND_UNSUBSCRIBE) == 0)
		return "unsubscribed";
	if (strcmp(kind, BOUNCE_STREAM_KIND_OPEN) == 0)
		return "opened";
	if (strcmp(kind, BOUNCE_STREAM_KIND_CLICK) == 0)
		return "clicked";
	if (strncmp(kind, "tenant_", 7) == 0)
		return NULL;		/* a tenant's review or pause */
	if (strcmp(kind, "arf") == 0 || strcmp(cls, "complaint") == 0)
		return "complained";
	if (strcmp(cls, "hard") == 0 || strcmp(cls, "soft") == 0)
		return "bounced";
	return NULL;			/* delayed, auto-reply, delivered */
}

/* ej_bounce_entry - one entry of bounce_stream (bounce_stream.h) */
static int
ej_bounce_entry(struct events_join *j, const char *eid, const redisReply *kv,
		const char **err)
{
	const char *kind = ej_field(kv, BOUNCE_STREAM_F_KIND), *cls = ej_field(kv, "class");
	const char *rcpt = ej_field(kv, BOUNCE_STREAM_F_RECIPIENT);
	const char *id = ej_field(kv, BOUNCE_STREAM_F_MESSAGE_ID);
	const char *tenant = ej_field(kv, BOUNCE_STREAM_F_TENANT);
	const char *type = ej_entry_type(kind, cls);
	struct events_pos none = {0, 0, 0, 0};
	struct bounce_msgrec *rec = NULL;
	struct events_q q;
	struct events_ev *e;
	int	 r;

	if (type == NULL)
		return 0;
	if (strcmp(type, "bounced") == 0 && id[0] != '\0' && rcpt[0] != '\0') {
		if ((r = events_store_bx_exists(j->pool, j->conf->key_prefix, id, rcpt,
						err)) < 0)
			return -1;
		if (r == 1)
			return 0;	/* the log told it already */
	}
	memset(&q, 0, sizeof(q));
	snprintf(q.sender, sizeof(q.sender), "%s", ej_field(kv, BOUNCE_STREAM_F_SENDER));
	snprintf(q.qid, sizeof(q.qid), "%s", ej_field(kv, BOUNCE_STREAM_F_QUEUE_ID));
	if (ej_hexid(id)) {
		/* the message's record: its tenant, and what the entry lacks */
		snprintf(q.id, sizeof(q.id), "%s", id);
		rec = xmalloc(sizeof(*rec));
		if ((r = bounce_store_load_message(j->pool, j->conf->bounce_key_prefix, id,
						   rec, err)) < 0) {
			free(rec);
			return -1;
		}
		if (r == 0) {
			free(rec);
			rec = NULL;
		}
	}
	if (rec != NULL && q.sender[0] == '\0')
		snprintf(q.sender, sizeof(q.sender), "%s", rec->sender);
	if (rec != NULL && q.qid[0] == '\0')
		snprintf(q.qid, sizeof(q.qid), "%.*s", (int)sizeof(q.qid) - 1, rec->qid);
	if (tenant[0] != '\0')
		snprintf(q.tenant, sizeof(q.tenant), "%s", tenant);
	else if (rec != NULL)
		ej_tenant(rec, q.tenant, sizeof(q.tenant));
	else
		events_tenant_of(q.sender, q.tenant, sizeof(q.tenant));
	free(rec);
	e = ej_ev(j, type, &q, rcpt, &none, eid, strlen(eid), 0);
	if (strcmp(type, "bounced") == 0 || strcmp(type, "complained") == 0) {
		events_ev_set(e, "class", cls);
		events_ev_set(e, "reason", ej_field(kv, "reason"));
		events_ev_set(e, "dsn", ej_field(kv, "status"));
		events_ev_set(e, "diagnostic", ej_field(kv, "diagnostic"));
		events_ev_set(e, "source", kind[0] ? kind : "dsn");
	} else if (strcmp(type, "unsubscribed") == 0) {
		events_ev_set(e, "reason", "unsubscribed");
		events_ev_set(e, "source", "unsubscribe");
	} else {
		if (strcmp(type, "clicked") == 0) {
			events_ev_set(e, "url", ej_field(kv, BOUNCE_STREAM_F_URL));
			events_ev_set(e, "link", ej_field(kv, BOUNCE_STREAM_F_LINK));
		}
		events_ev_set(e, "first", ej_field(kv, BOUNCE_STREAM_F_FIRST));
		events_ev_set(e, "source", "track");
	}
	return 0;
}

/* events_join_bounces - see above */
int
events_join_bounces(struct events_join *j, const char *after, size_t max,
		    const char **err)
{
	char	 start[80], count[24];
	redisReply *r;
	int	 rc = -1;

	if (after[0] != '\0')
		snprintf(start, sizeof(start), "(%s", after);
	else
		snprintf(start, sizeof(start), "-");
	snprintf(count, sizeof(count), "%zu", max);
	r = redis_command(j->pool, err, "XRANGE %s %s + COUNT %s", j->conf->bounce_stream,
			  start, count);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		*err = r->type == REDIS_REPLY_ERROR ? "Redis refused XRANGE"
		    : "unexpected reply from Redis";
		goto out;
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *ent = r->element[i];

		if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2
		    || ent->element[0]->type != REDIS_REPLY_STRING
		    || ent->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		if (ej_bounce_entry(j, ent->element[0]->str, ent->element[1], err) < 0)
			goto out;
		snprintf(j->batch->bpos, sizeof(j->batch->bpos), "%s", ent->element[0]->str);
	}
	rc = (int)r->elements;
out:
	freeReplyObject(r);
	return rc;
}
