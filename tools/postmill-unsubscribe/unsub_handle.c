/*++
 * NAME
 *	unsub_handle 3
 * SUMMARY
 *	the one-click unsubscribe requests (RFC 8058)
 * DESCRIPTION
 *	See unsub.h. A request's body is gathered (bounded) across the
 *	handler's calls in a per-request buffer that unsub_request_done()
 *	frees. The token is the last path segment. The HTML page escapes
 *	the address (it came from a signed token, but is still text).
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce_pause.h"
#include "bounce_store.h"
#include "log.h"
#include "stats.h"
#include "unsub.h"
#include "xalloc.h"

struct unsub_req {
	char	body[UNSUB_BODY_MAX + 1];
	size_t	len;
	int	too_big;
};

static struct stats_family *us_requests;
static pthread_once_t us_once = PTHREAD_ONCE_INIT;

/* us_stats_init - the counter, once */
static void
us_stats_init(void)
{
	us_requests = stats_counter("postmill_unsubscribe_requests_total",
				    "One-click unsubscribe requests, by method and result.",
				    "method,result");
}

/* us_count - one request */
static void
us_count(const char *method, const char *result)
{
	char v[64];

	pthread_once(&us_once, us_stats_init);
	snprintf(v, sizeof(v), "%s,%s", strcmp(method, "POST") == 0 ? "post" : "get", result);
	stats_inc(us_requests, v);
}

/*
 * KEYS: replay marker, suppression entry, stream. ARGV: marker ttl ms,
 * now s, tenant, recipient, maxlen, message id (hex; "" for a version 1
 * token). One token, one suppression, one event
 * (its shape, kind "unsubscribe": bounce_stream.h; postmill-events makes
 * it an "unsubscribed" event).
 */
static const char us_lua[] =
"-- postmill-unsubscribe v2\n"
"if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then return 0 end\n"
"redis.call('DEL', KEYS[2])\n"
"redis.call('HSET', KEYS[2], 'reason', 'unsubscribed', 'status', '', 'diagnostic',\n"
"  'one-click unsubscribe (RFC 8058)', 'time', ARGV[2], 'expires', '0', 'class', 'unsubscribe')\n"
"redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'time', ARGV[2],\n"
"  'kind', 'unsubscribe', 'class', 'unsubscribe', 'reason', 'unsubscribed',\n"
"  'tenant', ARGV[3], 'recipient', ARGV[4], 'action', 'suppressed', 'message_id', ARGV[6])\n"
"return 1\n";

static char us_sha[41];

/* us_sha_init - the script's SHA1, once */
static void
us_sha_init(void)
{
	redis_script_sha1(us_lua, us_sha);
}

/* unsub_apply - suppress; 1 done, 0 done before (replay), -1 *err */
int
unsub_apply(const struct unsub_ctx *ctx, const struct bounce_unsub *tok,
	    long long now_ms, const char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char id[2 * BOUNCE_UNSUB_MAC_LEN + 1], *tag, *keys[3], ttl[24], now[24], ml[24];
	const char *args[6];
	long long left = tok->expires * 1000 - now_ms + 86400000, n;
	int rc = -1;

	bounce_unsub_id(tok, id);
	tag = xasprintf("t:%s", tok->tenant);
	{
		char *suffix = xasprintf(":unsub:%s", id);

		keys[0] = redis_key(ctx->prefix, tag, suffix);
		free(suffix);
	}
	keys[1] = bounce_store_sup_key(ctx->prefix, tag, tok->rcpt);
	keys[2] = xstrdup(ctx->stream);
	free(tag);
	snprintf(ttl, sizeof(ttl), "%lld", left > 0 ? left : 86400000);
	snprintf(now, sizeof(now), "%lld", now_ms / 1000);
	snprintf(ml, sizeof(ml), "%lld", ctx->maxlen > 0 ? ctx->maxlen : 1000000);
	args[0] = ttl;
	args[1] = now;
	args[2] = tok->tenant;
	args[3] = tok->rcpt;
	args[4] = ml;
	args[5] = tok->msgid;
	pthread_once(&once, us_sha_init);
	if (redis_evalsha_int(ctx->pool, us_lua, us_sha, 3, (const char **)keys, 6, args,
			      &n, "Redis refused the unsubscribe script", NULL, err) == 0)
		rc = (int)n;
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	return rc;
}

/* unsub_live_hold - a reference to the configuration in force */
struct unsub_ctx *
unsub_live_hold(struct unsub_live *l)
{
	struct unsub_ctx *c;

	pthread_mutex_lock(&l->mu);
	c = l->cur;
	c->refs++;
	pthread_mutex_unlock(&l->mu);
	return c;
}

/* unsub_live_drop - let go of a reference; the last one frees */
void
unsub_live_drop(struct unsub_live *l, struct unsub_ctx *c)
{
	unsigned left;

	pthread_mutex_lock(&l->mu);
	left = --c->refs;
	pthread_mutex_unlock(&l->mu);
	if (left == 0)
		l->free_ctx(c);
}

/* unsub_live_swap - C is in force from now; the old one goes when unused */
void
unsub_live_swap(struct unsub_live *l, struct unsub_ctx *c)
{
	struct unsub_ctx *old;

	c->refs = 1;
	pthread_mutex_lock(&l->mu);
	old = l->cur;
	l->cur = c;
	pthread_mutex_unlock(&l->mu);
	if (old != NULL)
		unsub_live_drop(l, old);
}

/* us_html - text with &<>"' escaped, into out */
static void
us_html(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < outlen; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
		    : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

		if (e != NULL) {
			memcpy(out + o, e, strlen(e));
			o += strlen(e);
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* us_reply - a response with text (copied) */
static enum MHD_Result
us_reply(struct MHD_Connection *conn, unsigned status, const char *type,
	 const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, "Content-Type", type);
	(void)MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == 405)
		(void)MHD_add_response_header(r, "Allow", "GET, HEAD, POST");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* us_page - the confirmation page of a GET: a button, no unsubscribe */
static enum MHD_Result
us_page(struct MHD_Connection *conn, const struct bounce_unsub *tok)
{
	char addr[2000], page[4000];

	us_html(addr, sizeof(addr), tok->rcpt);
	snprintf(page, sizeof(page),
		 "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		 "<title>Unsubscribe</title></head><body>\n"
		 "<p>Unsubscribe %s from this sender's mail?</p>\n"
		 "<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
		 "value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>\n"
		 "</body></html>\n", addr);
	return us_reply(conn, 200, "text/html; charset=utf-8", page);
}

/* us_answer - the decision and its reply, with one configuration */
static enum MHD_Result
us_answer(const struct unsub_ctx *ctx, struct MHD_Connection *conn, const char *url,
	  const char *method, const struct unsub_req *rq)
{
	enum bounce_unsub_what what;
	struct bounce_unsub tok;
	unsigned status;
	const char *err = NULL, *why = NULL;
	char msg[600], esc[400];
	int r;

	what = bounce_unsub_request(ctx->ring, method, url, rq->body, rq->len,
				    (long long)time(NULL), &tok, &status, &why);
	if (what == BOUNCE_UNSUB_REFUSE) {
		log_msg(LOG_NOTICE, NULL, "unsubscribe: action=refuse method=%s status=%u "
			"why=\"%s\"", strcmp(method, "POST") == 0 ? "POST" : "GET", status,
			why ? why : "?");
		us_count(method, status == 410 ? "expired" : status == 403 ? "forged"
			 : status == 405 ? "method" : "bad_request");
		snprintf(msg, sizeof(msg), "%s\n", status == 410 ? "this link has expired"
			 : status == 403 ? "this link is not valid" : status == 405
			 ? "method not allowed" : "bad request");
		return us_reply(conn, status, "text/plain; charset=utf-8", msg);
	}
	if (what == BOUNCE_UNSUB_PAGE) {
		us_count(method, "page");
		return us_page(conn, &tok);
	}
	log_escape(esc, sizeof(esc), tok.rcpt, strlen(tok.rcpt));
	if ((r = unsub_apply(ctx, &tok, (long long)time(NULL) * 1000, &err)) < 0) {
		log_msg(LOG_WARNING, NULL, "unsubscribe: action=tempfail tenant=%s rcpt=<%s> "
			"error=\"%s\"", tok.tenant, esc, err ? err : "?");
		us_count(method, "error");
		return us_reply(conn, 503, "text/plain; charset=utf-8",
				"temporary failure, please try again\n");
	}
	log_msg(LOG_INFO, NULL, "unsubscribe: action=%s tenant=%s rcpt=<%s>",
		r == 1 ? "suppress" : "replay", tok.tenant, esc);
	us_count(method, r == 1 ? "unsubscribed" : "replay");
	return us_reply(conn, 200, "text/plain; charset=utf-8", r == 1
			? "unsubscribed\n" : "already unsubscribed\n");
}

/* unsub_handler - the MHD access handler; see unsub.h */
enum MHD_Result
unsub_handler(void *cls, struct MHD_Connection *conn, const char *url,
	      const char *method, const char *version, const char *upload_data,
	      size_t *upload_data_size, void **req)
{
	struct unsub_live *live = cls;
	struct unsub_ctx *ctx;
	struct unsub_req *rq = *req;
	enum MHD_Result rc;

	(void)version;
	if (rq == NULL) {		/* first call: headers only */
		*req = xcalloc(1, sizeof(struct unsub_req));
		return MHD_YES;
	}
	if (*upload_data_size > 0) {	/* a piece of the body */
		if (rq->len + *upload_data_size > UNSUB_BODY_MAX)
			rq->too_big = 1;
		else {
			memcpy(rq->body + rq->len, upload_data, *upload_data_size);
			rq->len += *upload_data_size;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big) {
		us_count(method, "too_large");
		return us_reply(conn, 413, "text/plain; charset=utf-8", "request body too large\n");
	}
	ctx = unsub_live_hold(live);
	if (bounce_track_is_path(url))
		rc = unsub_track_handler(ctx, conn, url, method);
	else
		rc = us_answer(ctx, conn, url, method, rq);
	unsub_live_drop(live, ctx);
	return rc;
}

/* unsub_request_done - free a request's buffer */
void
unsub_request_done(void *cls, struct MHD_Connection *conn, void **req,
		   enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*req);
	*req = NULL;
}
