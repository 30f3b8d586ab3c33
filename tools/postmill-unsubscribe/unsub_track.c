/*++
 * NAME
 *	unsub_track 3
 * SUMMARY
 *	the click redirect and the open pixel of tracked mail
 * DESCRIPTION
 *	See unsub.h. The decision is bounce_track_request() (pure, unit
 *	tested and fuzzed): only a token whose MAC verifies, of the kind
 *	its path names, is followed; anything else is 404 with no Location
 *	header, so the endpoint never redirects where a token we made did
 *	not say (no open redirect). A GET records one event on the bounce
 *	stream (unsub_track_record()); a HEAD answers the same and records
 *	nothing. When Redis fails the reader still gets the link or the
 *	pixel: the event is lost and logged, the mail keeps working.
 *
 *	Stream entry (the format postmill-events reads from bounce_stream,
 *	tools/postmill-events/events_join.c): time (seconds), kind "click"
 *	or "open", class "engagement", reason and action "clicked" or
 *	"opened", source "track", tenant, message_id (the tag id: the
 *	message record, PREFIX{m:ID}), and from that record while it lives:
 *	sender, queue_id, recipient (when the message had one recipient;
 *	else empty, with recipients N); link (index in the message) and url
 *	for a click; first "1" for the first open of a message or the first
 *	click of a link, else "0" (unique counts without a second store).
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce_store.h"
#include "bounce_tag.h"
#include "log.h"
#include "stats.h"
#include "unsub.h"
#include "xalloc.h"

/* the 1x1 transparent GIF (GIF89a, 43 octets) */
static const unsigned char ut_gif[] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

static struct stats_family *ut_requests;
static pthread_once_t ut_once = PTHREAD_ONCE_INIT;

/* ut_stats_init - the counter, once */
static void
ut_stats_init(void)
{
	ut_requests = stats_counter("postmill_track_requests_total",
				    "Click and open tracking requests, by kind and result.",
				    "kind,result");
}

/* ut_count - one request */
static void
ut_count(char kind, const char *result)
{
	char v[64];

	pthread_once(&ut_once, ut_stats_init);
	snprintf(v, sizeof(v), "%s,%s", kind == BOUNCE_TRACK_CLICK ? "click"
		 : kind == BOUNCE_TRACK_OPEN ? "open" : "other", result);
	stats_inc(ut_requests, v);
}

/*
 * KEYS: the message record, the first-time marker, the stream. ARGV: now
 * s, kind, reason, tenant, message id, link, url, marker ttl ms, maxlen.
 */
static const char ut_lua[] =
"-- postmill-track v1\n"
"local r = redis.call('HMGET', KEYS[1], 'sender', 'queue_id', 'rcpts', 'nrcpts')\n"
"local rcpt, n = '', tonumber(r[4] or '0') or 0\n"
"if n == 1 and r[3] then rcpt = r[3] end\n"
"local first = '0'\n"
"if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[8]) then first = '1' end\n"
"local f = {'time', ARGV[1], 'kind', ARGV[2], 'class', 'engagement', 'reason', ARGV[3],\n"
"  'action', ARGV[3], 'source', 'track', 'tenant', ARGV[4], 'message_id', ARGV[5],\n"
"  'sender', r[1] or '', 'queue_id', r[2] or '', 'recipient', rcpt,\n"
"  'recipients', tostring(n), 'first', first}\n"
"if ARGV[2] == 'click' then\n"
"  table.insert(f, 'link'); table.insert(f, ARGV[6])\n"
"  table.insert(f, 'url'); table.insert(f, ARGV[7])\n"
"end\n"
"redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', unpack(f))\n"
"return tonumber(first)\n";

static char ut_sha[41];

/* ut_sha_init - the script's SHA1, once */
static void
ut_sha_init(void)
{
	redis_script_sha1(ut_lua, ut_sha);
}

/* unsub_track_record - one event; 1 the first of its kind, 0 not, -1 *err */
int
unsub_track_record(const struct unsub_ctx *ctx, const struct bounce_track_token *tok,
		   long long now_ms, const char **err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	char idhex[BOUNCE_TAG_ID_HEX], now[24], link[16], ml[24], *keys[3], *msg, *suffix;
	const char *args[9];
	int click = tok->kind == BOUNCE_TRACK_CLICK, rc = -1;
	long long first;

	bounce_tag_id_hex(tok->id, idhex);
	keys[0] = bounce_store_msg_key(ctx->prefix, idhex);
	msg = xasprintf("m:%s", idhex);
	suffix = click ? xasprintf(":tk:c%u", tok->link) : xstrdup(":tk:o");
	keys[1] = redis_key(ctx->prefix, msg, suffix);	/* the record's hash slot */
	keys[2] = xstrdup(ctx->stream);
	free(msg);
	free(suffix);
	snprintf(now, sizeof(now), "%lld", now_ms / 1000);
	snprintf(link, sizeof(link), "%u", tok->link);
	snprintf(ml, sizeof(ml), "%lld", ctx->maxlen > 0 ? ctx->maxlen : 1000000);
	args[0] = now;
	args[1] = click ? "click" : "open";
	args[2] = click ? "clicked" : "opened";
	args[3] = tok->tenant;
	args[4] = idhex;
	args[5] = link;
	args[6] = tok->url;
	args[7] = "7776000000";		/* 90 days: "first" is about a campaign */
	args[8] = ml;
	pthread_once(&once, ut_sha_init);
	if (redis_evalsha_int(ctx->pool, ut_lua, ut_sha, 3, (const char **)keys, 9, args,
			      &first, "Redis refused the tracking script", NULL, err) == 0)
		rc = (int)first;
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	return rc;
}

/* ut_reply - a response; Location only for a verified click */
static enum MHD_Result
ut_reply(struct MHD_Connection *conn, unsigned status, const char *type,
	 const void *body, size_t len, const char *location)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, "Content-Type", type);
	/* every open and click must reach us: no cache may answer for us */
	(void)MHD_add_response_header(r, "Cache-Control", "no-store, private");
	(void)MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (location != NULL)
		(void)MHD_add_response_header(r, "Location", location);
	if (status == 405)
		(void)MHD_add_response_header(r, "Allow", "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* unsub_track_handler - a request to .../c/TOKEN or .../o/TOKEN */
enum MHD_Result
unsub_track_handler(const struct unsub_ctx *ctx, struct MHD_Connection *conn,
		    const char *url, const char *method)
{
	struct bounce_track_token *tok = xmalloc(sizeof(*tok));
	enum bounce_track_what what;
	const char *why = "?", *err = NULL;
	char idhex[BOUNCE_TAG_ID_HEX], esc[600];
	unsigned status;
	enum MHD_Result rc;
	int r = 0;

	what = ctx->track_ring == NULL ? BOUNCE_TRACK_REFUSE
	    : bounce_track_request(ctx->track_ring, method, url, tok, &status, &why);
	if (ctx->track_ring == NULL) {
		status = 404;
		why = "tracking is off (no bounce_domain or secrets)";
	}
	if (what == BOUNCE_TRACK_REFUSE) {
		log_msg(LOG_NOTICE, NULL, "track: action=refuse method=%s status=%u why=\"%s\"",
			strcmp(method, "HEAD") == 0 ? "HEAD" : strcmp(method, "GET") == 0
			? "GET" : "other", status, why);
		ut_count(0, status == 405 ? "method" : "not_found");
		free(tok);
		return ut_reply(conn, status, "text/plain; charset=utf-8",
				status == 405 ? "method not allowed\n" : "not found\n",
				status == 405 ? 19 : 10, NULL);
	}
	bounce_tag_id_hex(tok->id, idhex);
	if (strcmp(method, "GET") == 0
	    && (r = unsub_track_record(ctx, tok, (long long)time(NULL) * 1000, &err)) < 0)
		log_msg(LOG_WARNING, NULL, "track: action=%s tenant=%s id=%s event=lost "
			"error=\"%s\"", what == BOUNCE_TRACK_REDIRECT ? "click" : "open",
			tok->tenant, idhex, err ? err : "?");
	else
		log_msg(LOG_INFO, NULL, "track: action=%s tenant=%s id=%s%s%s first=%s",
			what == BOUNCE_TRACK_REDIRECT ? "click" : "open", tok->tenant, idhex,
			what == BOUNCE_TRACK_REDIRECT ? " url=" : "",
			what == BOUNCE_TRACK_REDIRECT ? log_escape(esc, sizeof(esc), tok->url,
								    strlen(tok->url)) : "",
			strcmp(method, "GET") != 0 ? "head" : r == 1 ? "yes" : "no");
	ut_count(tok->kind, r < 0 ? "event_lost" : "ok");
	if (what == BOUNCE_TRACK_REDIRECT)
		rc = ut_reply(conn, 302, "text/plain; charset=utf-8", "", 0, tok->url);
	else
		rc = ut_reply(conn, 200, "image/gif", ut_gif, sizeof(ut_gif), NULL);
	free(tok);
	return rc;
}
