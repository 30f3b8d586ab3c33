/*++
 * NAME
 *	events_wh_send 3
 * SUMMARY
 *	the webhook sender: stream position, POSTs, retries, dead letters
 * DESCRIPTION
 *	See events_webhook.h for the contract. One thread, one libcurl
 *	multi handle; memory is bounded by events_webhook_max_in_flight
 *	jobs (each holding one event's JSON, at most a few KiB) and a window
 *	of EW_WINDOW stream ids whose fate is not settled yet; response
 *	bodies are read and dropped. Redis keys (PREFIX{ev}:...):
 *	  wh:pos	the last stream id every earlier one of which is settled
 *	  wh:retry	sorted set: stream id -> due time (ms)
 *	  wh:att	hash: stream id -> failed attempts
 *	  dead		the dead-letter stream
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "events_webhook.h"
#include "log.h"
#include "stats.h"
#include "xalloc.h"

#define EW_WINDOW	1024
#define EW_ID_MAX	64

struct ew_slot {			/* one stream id in the window */
	char	 id[EW_ID_MAX];
	bool	 settled;
};

struct ew_job {
	CURL	*h;
	struct curl_slist *hdrs;
	char	*body;
	char	 id[EW_ID_MAX];		/* stream entry id */
	char	 evid[48];		/* the event's own id */
	char	 tenant[256];
	const struct events_wh *wh;
	int	 slot;			/* window index, or -1: a retry */
	bool	 busy;
};

struct ew {
	const struct events_wh_ctx *x;
	CURLM	*m;
	struct ew_job *jobs;
	size_t	 njobs, inflight;
	struct ew_slot win[EW_WINDOW];
	size_t	 whead, wlen;		/* ring */
	char	 read[EW_ID_MAX];	/* last id read from the stream */
	char	*k_pos, *k_retry, *k_att, *k_dead, *k_stream;
};

static struct stats_family *ew_posts, *ew_retries, *ew_dead;

/* ew_now_ms - wall clock: due times are shared with other processes */
static long long
ew_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ew_discard - response bodies are not kept */
static size_t
ew_discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

/* ew_event - an entry's field/value array as an event */
static void
ew_event(const redisReply *kv, struct events_ev *e)
{
	static const char *const names[] = {"id", "type", "time", "tenant", "sender",
		"recipient", "queue_id", "message_id", "tag_id", "relay", "dsn", "delay",
		"class", "reason", "diagnostic", "source", NULL};

	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		if (kv->element[i]->type != REDIS_REPLY_STRING
		    || kv->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		for (int k = 0; names[k] != NULL; k++)
			if (strcmp(kv->element[i]->str, names[k]) == 0)
				events_ev_set(e, names[k], kv->element[i + 1]->str);
	}
}

/* ew_ev_free - the values */
static void
ew_ev_free(struct events_ev *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
}

/* ew_launch - start the POST of one event; 0, or -1 when no job is free */
static int
ew_launch(struct ew *w, const char *id, const struct events_ev *e,
	  const struct events_wh *wh, int slot)
{
	struct ew_job *j = NULL;
	char	 ts[24], sig[65], hdr[160];

	for (size_t i = 0; i < w->njobs; i++)
		if (!w->jobs[i].busy) {
			j = &w->jobs[i];
			break;
		}
	if (j == NULL)
		return -1;
	memset(j, 0, sizeof(*j));
	j->busy = true;
	j->slot = slot;
	j->wh = wh;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->evid, sizeof(j->evid), "%s", events_ev_get(e, "id"));
	snprintf(j->tenant, sizeof(j->tenant), "%s", events_ev_get(e, "tenant"));
	j->body = events_wh_json(e);
	snprintf(ts, sizeof(ts), "%lld", ew_now_ms() / 1000);
	events_wh_sign(wh->secret, wh->secretlen, ts, j->body, strlen(j->body), sig);
	j->hdrs = curl_slist_append(j->hdrs, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "X-Postmill-Event-Id: %s", j->evid);
	j->hdrs = curl_slist_append(j->hdrs, hdr);
	snprintf(hdr, sizeof(hdr), "X-Postmill-Timestamp: %s", ts);
	j->hdrs = curl_slist_append(j->hdrs, hdr);
	snprintf(hdr, sizeof(hdr), "X-Postmill-Signature: v1=%s", sig);
	j->hdrs = curl_slist_append(j->hdrs, hdr);
	j->hdrs = curl_slist_append(j->hdrs, "Expect:");
	j->h = curl_easy_init();
	if (j->h == NULL)
		abort();
	curl_easy_setopt(j->h, CURLOPT_URL, wh->url);
	curl_easy_setopt(j->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
	curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, (long)w->x->conf->webhook_timeout);
	curl_easy_setopt(j->h, CURLOPT_CONNECTTIMEOUT_MS, (long)w->x->conf->webhook_timeout);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(j->h, CURLOPT_USERAGENT, "postmill-events/" POSTMILL_VERSION);
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, ew_discard);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_multi_add_handle(w->m, j->h);
	w->inflight++;
	return 0;
}

/* ew_job_end - free a finished job */
static void
ew_job_end(struct ew *w, struct ew_job *j)
{
	curl_multi_remove_handle(w->m, j->h);
	curl_easy_cleanup(j->h);
	curl_slist_free_all(j->hdrs);
	free(j->body);
	j->busy = false;
	w->inflight--;
}

/* ew_backoff - the wait before attempt att + 1 */
static long long
ew_backoff(const struct events_conf *c, long long att)
{
	long long d = c->webhook_retry_min;

	for (long long i = 1; i < att && d < c->webhook_retry_max; i++)
		d *= 2;
	return d < c->webhook_retry_max ? d : c->webhook_retry_max;
}

/* ew_failed - schedule a retry or dead-letter it; 0, or -1 (Redis) */
static int
ew_failed(struct ew *w, struct ew_job *j, const char *why)
{
	const struct events_conf *c = w->x->conf;
	redisReply *r;
	const char *err;
	long long att;
	char	 maxlen[24], atts[24];

	r = redis_command(w->x->pool, &err, "HINCRBY %s %s 1", w->k_att, j->id);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	att = r->integer;
	freeReplyObject(r);
	if (att < c->webhook_max_attempts) {
		r = redis_command(w->x->pool, &err, "ZADD %s %lld %s", w->k_retry,
				  ew_now_ms() + ew_backoff(c, att), j->id);
		stats_inc(ew_retries, "");
		log_msg(LOG_INFO, NULL, "events: webhook tenant=%s event=%s attempt=%lld "
			"failed (%s); retry in %lldms", j->tenant, j->evid, att, why,
			ew_backoff(c, att));
	} else {
		snprintf(maxlen, sizeof(maxlen), "%lld", c->webhook_dead_maxlen);
		snprintf(atts, sizeof(atts), "%lld", att);
		{
			const char *argv[] = {"XADD", w->k_dead, "MAXLEN", "~", maxlen, "*",
				"event_id", j->evid, "stream_id", j->id, "tenant", j->tenant,
				"url", j->wh->url, "attempts", atts, "error", why, "body", j->body};

			r = redis_commandargv(w->x->pool, 20, argv, NULL, &err);
		}
		if (r != NULL && r->type != REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			r = redis_command(w->x->pool, &err, "ZREM %s %s", w->k_retry, j->id);
			if (r != NULL)
				freeReplyObject(r);
			r = redis_command(w->x->pool, &err, "HDEL %s %s", w->k_att, j->id);
		}
		stats_inc(ew_dead, "");
		log_msg(LOG_WARNING, NULL, "events: webhook tenant=%s event=%s dead after "
			"%lld attempts (%s)", j->tenant, j->evid, att, why);
	}
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		if (r)
			freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* ew_delivered - forget a retried event's schedule; 0 or -1 */
static int
ew_delivered(struct ew *w, struct ew_job *j)
{
	redisReply *r;
	const char *err;

	stats_inc(ew_posts, "ok");
	if (j->slot >= 0)
		return 0;		/* never failed: nothing scheduled */
	r = redis_command(w->x->pool, &err, "ZREM %s %s", w->k_retry, j->id);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	r = redis_command(w->x->pool, &err, "HDEL %s %s", w->k_att, j->id);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* ew_done - finished transfers: settle or schedule */
static void
ew_done(struct ew *w)
{
	CURLMsg	*msg;
	int	 left;

	while ((msg = curl_multi_info_read(w->m, &left)) != NULL) {
		struct ew_job *j;
		long	 code = 0;
		char	 why[128];
		int	 rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (msg->data.result == CURLE_OK && code >= 200 && code < 300) {
			rc = ew_delivered(w, j);
		} else {
			if (msg->data.result != CURLE_OK)
				snprintf(why, sizeof(why), "%s", curl_easy_strerror(msg->data.result));
			else
				snprintf(why, sizeof(why), "HTTP %ld", code);
			stats_inc(ew_posts, "failed");
			rc = ew_failed(w, j, why);
		}
		/* Redis trouble: not settled; the event is sent again later */
		if (j->slot >= 0 && rc == 0)
			w->win[j->slot].settled = true;
		else if (j->slot >= 0)
			w->read[0] = '\0';	/* re-read from the committed position */
		ew_job_end(w, j);
	}
}

/* ew_advance - move wh:pos over the settled front of the window */
static void
ew_advance(struct ew *w)
{
	char	 last[EW_ID_MAX] = "";
	const char *err;
	redisReply *r;

	while (w->wlen > 0 && w->win[w->whead].settled) {
		snprintf(last, sizeof(last), "%s", w->win[w->whead].id);
		w->whead = (w->whead + 1) % EW_WINDOW;
		w->wlen--;
	}
	if (last[0] == '\0')
		return;
	r = redis_command(w->x->pool, &err, "SET %s %s", w->k_pos, last);
	if (r != NULL)
		freeReplyObject(r);
}

/* ew_take_retries - launch due retries, leased past the timeout first */
static void
ew_take_retries(struct ew *w, size_t free_slots)
{
	long long now = ew_now_ms();
	redisReply *r, *e;
	const char *err;

	r = redis_command(w->x->pool, &err, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %lu",
			  w->k_retry, now, (unsigned long)free_slots);
	if (r == NULL)
		return;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const char *id = r->element[i]->str;
		const struct events_wh *wh = NULL;
		struct events_ev ev;
		redisReply *z;

		if (r->element[i]->type != REDIS_REPLY_STRING)
			continue;
		z = redis_command(w->x->pool, &err, "ZADD %s %lld %s", w->k_retry,
				  now + w->x->conf->webhook_timeout + 1000, id);
		if (z == NULL)
			break;
		freeReplyObject(z);
		e = redis_command(w->x->pool, &err, "XRANGE %s %s %s", w->k_stream, id, id);
		if (e == NULL)
			break;
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 1
		    && e->element[0]->type == REDIS_REPLY_ARRAY && e->element[0]->elements == 2) {
			ew_event(e->element[0]->element[1], &ev);
			wh = events_wh_find(w->x->table, events_ev_get(&ev, "tenant"));
			if (wh != NULL)
				(void)ew_launch(w, id, &ev, wh, -1);
			ew_ev_free(&ev);
		}
		if (wh == NULL) {	/* trimmed from the stream, or the tenant's
					 * webhook was removed: nothing to send */
			z = redis_command(w->x->pool, &err, "ZREM %s %s", w->k_retry, id);
			if (z)
				freeReplyObject(z);
			z = redis_command(w->x->pool, &err, "HDEL %s %s", w->k_att, id);
			if (z)
				freeReplyObject(z);
		}
		freeReplyObject(e);
	}
	freeReplyObject(r);
}

/* ew_fresh - read new stream entries into free jobs (hiredis knows no %zu) */
static void
ew_fresh(struct ew *w, size_t free_slots)
{
	const char *err;
	redisReply *r, *p;
	size_t	 room = EW_WINDOW - w->wlen;

	if (w->read[0] == '\0') {	/* (re)start at the committed position */
		p = redis_command(w->x->pool, &err, "GET %s", w->k_pos);
		if (p == NULL)
			return;
		snprintf(w->read, sizeof(w->read), "%s",
			 p->type == REDIS_REPLY_STRING ? p->str : "0-0");
		freeReplyObject(p);
		if (w->inflight > 0) {	/* let the old window drain first */
			w->read[0] = '\0';
			return;
		}
		w->wlen = 0;
	}
	if (room == 0 || free_slots == 0)
		return;
	r = redis_command(w->x->pool, &err, "XRANGE %s (%s + COUNT %lu", w->k_stream, w->read,
			  (unsigned long)(free_slots < room ? free_slots : room));
	if (r == NULL)
		return;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		const redisReply *ent = r->element[i];
		const struct events_wh *wh;
		struct events_ev ev;
		size_t	 slot;

		if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2
		    || ent->element[0]->type != REDIS_REPLY_STRING)
			continue;
		slot = (w->whead + w->wlen) % EW_WINDOW;
		snprintf(w->win[slot].id, sizeof(w->win[slot].id), "%s", ent->element[0]->str);
		w->win[slot].settled = true;
		w->wlen++;
		snprintf(w->read, sizeof(w->read), "%s", ent->element[0]->str);
		ew_event(ent->element[1], &ev);
		wh = events_wh_find(w->x->table, events_ev_get(&ev, "tenant"));
		if (wh != NULL) {
			w->win[slot].settled = false;
			(void)ew_launch(w, ent->element[0]->str, &ev, wh, (int)slot);
		}
		ew_ev_free(&ev);
	}
	freeReplyObject(r);
}

/* events_wh_run - the sender thread; see events_webhook.h */
void *
events_wh_run(void *arg)
{
	const struct events_wh_ctx *x = arg;
	struct ew *w = xcalloc(1, sizeof(*w));

	w->x = x;
	ew_posts = stats_counter("postmill_events_webhook_posts_total",
				 "Webhook POSTs, by result (ok: 2xx).", "result");
	ew_retries = stats_counter("postmill_events_webhook_retries_total",
				   "Failed webhook POSTs scheduled for another try.", "");
	ew_dead = stats_counter("postmill_events_webhook_dead_letters_total",
				"Events given up after events_webhook_max_attempts tries.", "");
	w->njobs = (size_t)x->conf->webhook_max_in_flight;
	w->jobs = xcalloc(w->njobs, sizeof(*w->jobs));
	w->k_pos = events_store_key(x->conf->key_prefix, ":wh:pos");
	w->k_retry = events_store_key(x->conf->key_prefix, ":wh:retry");
	w->k_att = events_store_key(x->conf->key_prefix, ":wh:att");
	w->k_dead = events_store_key(x->conf->key_prefix, ":dead");
	w->k_stream = events_store_key(x->conf->key_prefix, ":stream");
	w->m = curl_multi_init();
	curl_multi_setopt(w->m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)w->njobs);
	curl_multi_setopt(w->m, CURLMOPT_MAXCONNECTS, (long)w->njobs);
	while (!*x->stop) {
		int	 running;

		if (w->inflight < w->njobs)
			ew_take_retries(w, w->njobs - w->inflight);
		if (w->inflight < w->njobs)
			ew_fresh(w, w->njobs - w->inflight);
		curl_multi_perform(w->m, &running);
		ew_done(w);
		ew_advance(w);
		curl_multi_poll(w->m, NULL, 0, w->inflight ? 50 : (int)x->conf->poll_interval, NULL);
	}
	for (size_t i = 0; i < w->njobs; i++)
		if (w->jobs[i].busy)
			ew_job_end(w, &w->jobs[i]);
	curl_multi_cleanup(w->m);
	free(w->jobs);
	free(w->k_pos);
	free(w->k_retry);
	free(w->k_att);
	free(w->k_dead);
	free(w->k_stream);
	free(w);
	return NULL;
}
