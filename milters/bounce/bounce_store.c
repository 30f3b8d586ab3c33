/*++
 * NAME
 *	bounce_store 3
 * SUMMARY
 *	postmill-bounce's state in Redis
 * DESCRIPTION
 *	See bounce_store.h for the keys. Every write that must be atomic is
 *	one Lua script run by redis_evalsha() (EVAL once after NOSCRIPT): a
 *	counter or an entry is never left without its expiry (STYLE
 *	anti-pattern 9), and a bounce is never half recorded.
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_store.h"
#include "log.h"
#include "xalloc.h"

/* KEYS[1] record; ARGV: ttl_ms, then field value pairs */
static const char bs_save_lua[] =
"-- postmill-bounce save v1\n"
"redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
"redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
"return 1\n";

/* KEYS[1] suppression; ARGV: expiry_ms, then field value pairs */
static const char bs_add_lua[] =
"-- postmill-bounce add v1\n"
"redis.call('DEL', KEYS[1])\n"
"redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
"if tonumber(ARGV[1]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end\n"
"return 1\n";

/*
 * KEYS: 1 stream, 2 stats, then per recipient i: sup (1 + 2i), soft (2 + 2i).
 * ARGV: 1 now_ms, 2 maxlen, 3 sender, 4 queue id, 5 message id, 6 kind,
 * 7 soft threshold, 8 soft window ms, 9 stats (1/0), 10 n, then per
 * recipient 11 values: rcpt class reason status diagnostic action
 * suppress soft reset expiry_ms scoped.
 */
static const char bs_record_lua[] =
"-- postmill-bounce record v1\n"
"local now = tonumber(ARGV[1])\n"
"local now_s = math.floor(now / 1000)\n"
"local thr, win = tonumber(ARGV[7]), tonumber(ARGV[8])\n"
"local n = tonumber(ARGV[10])\n"
"local out = {}\n"
"for i = 1, n do\n"
"  local b = 10 + (i - 1) * 11\n"
"  local rcpt, cls, reason = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]\n"
"  local status, diag, action = ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]\n"
"  local sup, soft = ARGV[b + 7] == '1', ARGV[b + 8] == '1'\n"
"  local reset, exp = ARGV[b + 9] == '1', tonumber(ARGV[b + 10])\n"
"  local scoped = ARGV[b + 11] == '1'\n"
"  local supkey, softkey = KEYS[1 + 2 * i], KEYS[2 + 2 * i]\n"
"  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'time', now_s,\n"
"    'sender', ARGV[3], 'recipient', rcpt, 'class', cls, 'reason', reason,\n"
"    'status', status, 'diagnostic', diag, 'action', action,\n"
"    'queue_id', ARGV[4], 'message_id', ARGV[5], 'kind', ARGV[6])\n"
"  if ARGV[9] == '1' then\n"
"    redis.call('HINCRBY', KEYS[2], 'total', 1)\n"
"    redis.call('HINCRBY', KEYS[2], 'class:' .. cls, 1)\n"
"    redis.call('HINCRBY', KEYS[2], 'reason:' .. reason, 1)\n"
"  end\n"
"  local suppressed, count = 0, 0\n"
"  if scoped then\n"
"    if reset then redis.call('DEL', softkey) end\n"
"    if soft then\n"
"      count = redis.call('INCR', softkey)\n"
"      if count == 1 then redis.call('PEXPIRE', softkey, win) end\n"
"      if count >= thr then sup = true; redis.call('DEL', softkey) end\n"
"    end\n"
"    if sup then\n"
"      local expires = 0\n"
"      if exp > 0 then expires = math.floor((now + exp) / 1000) end\n"
"      redis.call('DEL', supkey)\n"
"      redis.call('HSET', supkey, 'reason', reason, 'class', cls,\n"
"        'status', status, 'diagnostic', diag, 'sender', ARGV[3],\n"
"        'queue_id', ARGV[4], 'time', now_s, 'expires', expires)\n"
"      if exp > 0 then redis.call('PEXPIRE', supkey, exp) end\n"
"      suppressed = 1\n"
"    end\n"
"  end\n"
"  out[#out + 1] = suppressed\n"
"  out[#out + 1] = count\n"
"end\n"
"return out\n";

#define BS_RECORD_FIXED		10
#define BS_RECORD_PER		11

static pthread_once_t bs_once = PTHREAD_ONCE_INIT;
static char bs_save_sha[41], bs_add_sha[41], bs_record_sha[41];

/* bs_init - the scripts' SHA-1 names, once */
static void
bs_init(void)
{
	redis_script_sha1(bs_save_lua, bs_save_sha);
	redis_script_sha1(bs_add_lua, bs_add_sha);
	redis_script_sha1(bs_record_lua, bs_record_sha);
}

/* bounce_store_msg_key - PREFIX{m:ID} */
char *
bounce_store_msg_key(const char *prefix, const char *idhex)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "m:%s", idhex);
	return redis_key(prefix, tag, NULL);
}

/* bs_suffix_key - PREFIX{TAG}:WHAT:RCPT */
static char *
bs_suffix_key(const char *prefix, const char *tag, const char *what,
	      const char *rcpt)
{
	char *suffix = xasprintf(":%s:%s", what, rcpt), *k;

	k = redis_key(prefix, tag, suffix);
	free(suffix);
	return k;
}

/* bounce_store_sup_key - PREFIX{SCOPE}:sup:RCPT */
char *
bounce_store_sup_key(const char *prefix, const char *scope_tag, const char *rcpt)
{
	return bs_suffix_key(prefix, scope_tag, "sup", rcpt);
}

/* bounce_store_soft_key - PREFIX{SCOPE}:soft:RCPT */
char *
bounce_store_soft_key(const char *prefix, const char *scope_tag, const char *rcpt)
{
	return bs_suffix_key(prefix, scope_tag, "soft", rcpt);
}

/* bounce_store_stats_key - PREFIX{s:SENDER}:stats */
char *
bounce_store_stats_key(const char *prefix, const char *sender)
{
	char *tag = xasprintf("s:%s", sender), *k;

	k = redis_key(prefix, tag, ":stats");
	free(tag);
	return k;
}

/* bs_script_reply - common checks of a script's reply; 0 or -1 + *err */
static int
bs_script_reply(struct redis_pool *p, redisReply *r, int want_type,
		const char *what, const char **err)
{
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARNING, NULL, "bounce: redis %s: %.200s",
			redis_pool_server(p), r->str ? r->str : "?");
		*err = what;
		return -1;
	}
	if (r->type != want_type) {
		*err = "unexpected reply from Redis";
		return -1;
	}
	*err = NULL;
	return 0;
}

/* bounce_store_save_message - the record of a tagged message */
int
bounce_store_save_message(struct redis_pool *p, const char *prefix,
			  const char *idhex, const char *sender, const char *qid,
			  const char *rcpts, size_t nrcpts, const char *login,
			  const char *tenant, long long now_ms, long long ttl_ms,
			  const char **err)
{
	char *key = bounce_store_msg_key(prefix, idhex);
	char ttl[24], t[24], nr[24];
	const char *args[15];
	long long one;
	int rc;

	snprintf(ttl, sizeof(ttl), "%lld", ttl_ms);
	snprintf(t, sizeof(t), "%lld", now_ms / 1000);
	snprintf(nr, sizeof(nr), "%zu", nrcpts);
	args[0] = ttl;
	args[1] = "sender"; args[2] = sender;
	args[3] = "queue_id"; args[4] = qid;
	args[5] = "rcpts"; args[6] = rcpts;
	args[7] = "time"; args[8] = t;
	args[9] = "nrcpts"; args[10] = nr;
	args[11] = "login"; args[12] = login != NULL ? login : "";
	args[13] = "tenant"; args[14] = tenant != NULL ? tenant : "";
	pthread_once(&bs_once, bs_init);
	rc = redis_evalsha_int(p, bs_save_lua, bs_save_sha, 1, (const char **)&key, 15,
			       args, &one, "Redis refused the save script", "bounce", err);
	free(key);
	return rc;
}

/* bs_copy - a reply string into a fixed array, cut and NUL-terminated */
static void
bs_copy(char *dst, size_t dstlen, const redisReply *e)
{
	size_t n = 0;

	if (e != NULL && (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)) {
		n = e->len < dstlen - 1 ? e->len : dstlen - 1;
		memcpy(dst, e->str, n);
	}
	dst[n] = '\0';
}

/* bs_list_count - entries of a comma-separated list */
static long long
bs_list_count(const char *s)
{
	long long n = *s != '\0';

	for (; *s != '\0'; s++)
		n += *s == ',';
	return n;
}

/*
 * bs_hashn - judge an HMGET reply of n fields: 1 when the hash exists
 * (r kept for the caller to read and free), 0 when absent (its first
 * field is nil), -1 on error (*err set); r is freed unless 1
 */
static int
bs_hashn(redisReply *r, size_t n, const char **err)
{
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		*err = r->type == REDIS_REPLY_ERROR ? "Redis refused HMGET"
		    : "unexpected reply from Redis";
		freeReplyObject(r);
		return -1;
	}
	*err = NULL;
	if (r->element[0]->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	return 1;
}

/* bounce_store_load_message - read a record: 1, 0 gone, -1 */
int
bounce_store_load_message(struct redis_pool *p, const char *prefix,
			  const char *idhex, struct bounce_msgrec *out,
			  const char **err)
{
	char *key = bounce_store_msg_key(prefix, idhex), t[24];
	redisReply *r;
	int rc;

	memset(out, 0, sizeof(*out));
	r = redis_command(p, err, "HMGET %s sender queue_id rcpts time nrcpts login tenant",
			  key);
	free(key);
	if ((rc = bs_hashn(r, 7, err)) != 1)
		return rc;
	bs_copy(out->sender, sizeof(out->sender), r->element[0]);
	bs_copy(out->qid, sizeof(out->qid), r->element[1]);
	bs_copy(out->rcpts, sizeof(out->rcpts), r->element[2]);
	bs_copy(t, sizeof(t), r->element[3]);
	out->time = atoll(t);
	/* a list cut at the array's size, or a record without the count */
	bs_copy(t, sizeof(t), r->element[4]);
	out->rcpts_complete = r->element[4]->type == REDIS_REPLY_STRING
	    && r->element[2]->len < sizeof(out->rcpts)
	    && atoll(t) <= bs_list_count(out->rcpts);
	bs_copy(out->login, sizeof(out->login), r->element[5]);
	bs_copy(out->tenant, sizeof(out->tenant), r->element[6]);
	freeReplyObject(r);
	return 1;
}

/* bounce_store_check - is rcpt suppressed for this scope: 1, 0, -1 */
int
bounce_store_check(struct redis_pool *p, const char *prefix,
		   const char *scope_tag, const char *rcpt,
		   struct bounce_supp *out, const char **err)
{
	char *key = bounce_store_sup_key(prefix, scope_tag, rcpt), t[24];
	redisReply *r;
	int rc;

	memset(out, 0, sizeof(*out));
	r = redis_command(p, err, "HMGET %s reason status diagnostic time expires",
			  key);
	free(key);
	if ((rc = bs_hashn(r, 5, err)) != 1)
		return rc;
	bs_copy(out->reason, sizeof(out->reason), r->element[0]);
	bs_copy(out->status, sizeof(out->status), r->element[1]);
	bs_copy(out->diagnostic, sizeof(out->diagnostic), r->element[2]);
	bs_copy(t, sizeof(t), r->element[3]);
	out->since = atoll(t);
	bs_copy(t, sizeof(t), r->element[4]);
	out->expires = atoll(t);
	freeReplyObject(r);
	return 1;
}

/* bounce_store_record - one bounce, one script; see bounce_store.h */
int
bounce_store_record(struct redis_pool *p, const struct bounce_record_req *req,
		    struct bounce_record_result *out, const char **err)
{
	size_t n = req->n, nkeys = 2 + 2 * n, nargs = BS_RECORD_FIXED + BS_RECORD_PER * n;
	const char **keys, **args;
	char **owned, num[5][24];
	bool stats = req->sender != NULL && req->sender[0] != '\0';
	redisReply *r;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		*err = NULL;
		return 0;
	}
	if (n > BOUNCE_MAX_RCPTS) {
		*err = "too many recipients in one record";
		return -1;
	}
	keys = xcalloc(nkeys, sizeof(*keys));
	args = xcalloc(nargs, sizeof(*args));
	owned = xcalloc(1 + 3 * n, sizeof(*owned));
	keys[0] = req->stream;
	/* a placeholder key the script never touches when stats is off */
	keys[1] = owned[0] = stats ? bounce_store_stats_key(req->prefix, req->sender)
	    : xstrdup(req->stream);
	snprintf(num[0], sizeof(num[0]), "%lld", req->now_ms);
	snprintf(num[1], sizeof(num[1]), "%lld", req->maxlen);
	snprintf(num[2], sizeof(num[2]), "%lld", req->soft_threshold);
	snprintf(num[3], sizeof(num[3]), "%lld", req->soft_window_ms);
	snprintf(num[4], sizeof(num[4]), "%zu", n);
	args[0] = num[0];
	args[1] = num[1];
	args[2] = req->sender ? req->sender : "";
	args[3] = req->orig_qid ? req->orig_qid : "";
	args[4] = req->msgid ? req->msgid : "";
	args[5] = req->kind ? req->kind : "";
	args[6] = num[2];
	args[7] = num[3];
	args[8] = stats ? "1" : "0";
	args[9] = num[4];
	for (size_t i = 0; i < n; i++) {
		const struct bounce_event *e = &req->ev[i];
		const char **a = args + BS_RECORD_FIXED + BS_RECORD_PER * i;

		if (req->scope_tag != NULL) {
			keys[2 + 2 * i] = owned[1 + 3 * i] =
			    bounce_store_sup_key(req->prefix, req->scope_tag, e->rcpt);
			keys[3 + 2 * i] = owned[2 + 3 * i] =
			    bounce_store_soft_key(req->prefix, req->scope_tag, e->rcpt);
		} else {
			keys[2 + 2 * i] = keys[3 + 2 * i] = req->stream;
		}
		a[0] = e->rcpt;
		a[1] = e->cls;
		a[2] = e->reason;
		a[3] = e->status ? e->status : "";
		a[4] = e->diagnostic ? e->diagnostic : "";
		a[5] = e->action ? e->action : "";
		a[6] = e->plan.suppress ? "1" : "0";
		a[7] = e->plan.soft ? "1" : "0";
		a[8] = e->plan.reset ? "1" : "0";
		a[9] = owned[3 + 3 * i] = xasprintf("%lld", e->plan.expiry_ms);
		a[10] = req->scope_tag != NULL ? "1" : "0";
	}
	pthread_once(&bs_once, bs_init);
	r = redis_evalsha(p, bs_record_lua, bs_record_sha, (int)nkeys, keys,
			  (int)nargs, args, err);
	if (bs_script_reply(p, r, REDIS_REPLY_ARRAY, "Redis refused the record script",
			    err) == 0) {
		if (r->elements != 2 * n) {
			*err = "unexpected reply to the record script";
		} else {
			for (size_t i = 0; i < n; i++) {
				out->suppressed[i] = r->element[2 * i]->integer != 0;
				out->soft_count[i] = r->element[2 * i + 1]->integer;
			}
			rc = 0;
		}
	}
	if (r != NULL)
		freeReplyObject(r);
	for (size_t i = 0; i < 1 + 3 * n; i++)
		free(owned[i]);
	free(owned);
	free(keys);
	free(args);
	return rc;
}

/* bounce_store_add - an operator's suppression */
int
bounce_store_add(struct redis_pool *p, const char *prefix, const char *scope_tag,
		 const char *rcpt, const char *reason, const char *diagnostic,
		 long long now_ms, long long expiry_ms, const char **err)
{
	char *key = bounce_store_sup_key(prefix, scope_tag, rcpt);
	char exp[24], t[24], until[24];
	const char *args[13];
	long long one;
	int rc;

	snprintf(exp, sizeof(exp), "%lld", expiry_ms);
	snprintf(t, sizeof(t), "%lld", now_ms / 1000);
	snprintf(until, sizeof(until), "%lld",
		 expiry_ms > 0 ? (now_ms + expiry_ms) / 1000 : 0);
	args[0] = exp;
	args[1] = "reason"; args[2] = reason;
	args[3] = "diagnostic"; args[4] = diagnostic ? diagnostic : "";
	args[5] = "time"; args[6] = t;
	args[7] = "expires"; args[8] = until;
	args[9] = "class"; args[10] = "manual";
	args[11] = "status"; args[12] = "";
	pthread_once(&bs_once, bs_init);
	rc = redis_evalsha_int(p, bs_add_lua, bs_add_sha, 1, (const char **)&key, 13,
			       args, &one, "Redis refused the add script", "bounce", err);
	free(key);
	return rc;
}

/* bounce_store_remove - drop a suppression; 1 removed, 0 none, -1 */
int
bounce_store_remove(struct redis_pool *p, const char *prefix,
		    const char *scope_tag, const char *rcpt, const char **err)
{
	char *sup = bounce_store_sup_key(prefix, scope_tag, rcpt);
	char *soft = bounce_store_soft_key(prefix, scope_tag, rcpt);
	redisReply *r;
	int rc = -1;

	/* two keys of one hash tag: DEL takes both at once */
	r = redis_command(p, err, "DEL %s %s", sup, soft);
	free(sup);
	free(soft);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER) {
		rc = r->integer > 0 ? 1 : 0;
		*err = NULL;
	} else {
		*err = "unexpected reply from Redis";
	}
	freeReplyObject(r);
	return rc;
}
