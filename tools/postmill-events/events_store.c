/*++
 * NAME
 *	events_store 3
 * SUMMARY
 *	postmill-events' Redis state (keys in events.h)
 * DESCRIPTION
 *	events_store_commit() runs one Lua script: every event of the batch
 *	(XADD MAXLEN ~), every queue state it changed (HSET + PEXPIRE, or
 *	DEL after "removed"), the bounce markers, the bounce-stream position
 *	and the log position; all or nothing, so a crash between two commits
 *	re-reads exactly the uncommitted lines.
 *	events_store_load_pos() reads both positions (0 and pos zeroed when
 *	there are none yet). events_store_load_q() reads one queue state (1
 *	found, 0 none). All return -1 with *err on Redis trouble.
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "xalloc.h"

/*
 * KEYS: 1 stream, 2 pos, 3 bpos, then the q and bx keys.
 * ARGV: 1 maxlen, 2 pos, 3 bpos ("" keep), 4 ttl_ms, then records:
 *   "E" n f1 v1 ... fn vn	an event
 *   "Q" k n f1 v1 ...		HSET KEYS[k] + PEXPIRE ttl
 *   "D" k			DEL KEYS[k]
 *   "B" k			SET KEYS[k] 1 PX ttl
 */
static const char es_commit_lua[] =
"-- postmill-events commit v1\n"
"local i = 5\n"
"while i <= #ARGV do\n"
"  local op = ARGV[i]\n"
"  if op == 'E' then\n"
"    local n = tonumber(ARGV[i + 1])\n"
"    local a = {'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*'}\n"
"    for k = 1, 2 * n do a[#a + 1] = ARGV[i + 1 + k] end\n"
"    redis.call(unpack(a))\n"
"    i = i + 2 + 2 * n\n"
"  elseif op == 'Q' then\n"
"    local key, n = KEYS[tonumber(ARGV[i + 1])], tonumber(ARGV[i + 2])\n"
"    local a = {'HSET', key}\n"
"    for k = 1, 2 * n do a[#a + 1] = ARGV[i + 2 + k] end\n"
"    redis.call(unpack(a))\n"
"    redis.call('PEXPIRE', key, ARGV[4])\n"
"    i = i + 3 + 2 * n\n"
"  elseif op == 'D' then\n"
"    redis.call('DEL', KEYS[tonumber(ARGV[i + 1])])\n"
"    i = i + 2\n"
"  elseif op == 'B' then\n"
"    redis.call('SET', KEYS[tonumber(ARGV[i + 1])], '1', 'PX', ARGV[4])\n"
"    i = i + 2\n"
"  else\n"
"    return redis.error_reply('bad record ' .. tostring(op))\n"
"  end\n"
"end\n"
"redis.call('SET', KEYS[2], ARGV[2])\n"
"if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3]) end\n"
"return 1\n";

static pthread_once_t es_once = PTHREAD_ONCE_INIT;
static char es_commit_sha[41];

/* es_init - the script's name */
static void
es_init(void)
{
	redis_script_sha1(es_commit_lua, es_commit_sha);
}

/* events_store_key - PREFIX{ev}SUFFIX, allocated */
char *
events_store_key(const char *prefix, const char *suffix)
{
	return redis_key(prefix, "ev", suffix);
}

/* events_store_load_pos - the log and bounce-stream positions */
int
events_store_load_pos(struct redis_pool *p, const char *prefix,
		      struct events_pos *pos, char *bpos, size_t bposlen,
		      const char **err)
{
	char *k1 = events_store_key(prefix, ":pos"), *k2 = events_store_key(prefix, ":bpos");
	redisReply *r = redis_command(p, err, "MGET %s %s", k1, k2);
	int rc = -1;

	free(k1);
	free(k2);
	memset(pos, 0, sizeof(*pos));
	bpos[0] = '\0';
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
		*err = "unexpected reply from Redis";
		goto out;
	}
	/* "DEV:INO:OFF:FP", or the "DEV:INO:OFF" of older versions (FP 0) */
	if (r->element[0]->type == REDIS_REPLY_STRING
	    && sscanf(r->element[0]->str, "%llu:%llu:%lld:%llu", &pos->dev, &pos->ino,
		      &pos->off, &pos->fp) < 3)
		memset(pos, 0, sizeof(*pos));
	if (r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(bpos, bposlen, "%s", r->element[1]->str);
	rc = 0;
out:
	freeReplyObject(r);
	return rc;
}

/* es_args - a growable argv */
struct es_args {
	const char **v;
	char	**own;
	size_t	 n, cap, nown;
};

/* es_push - borrow s */
static void
es_push(struct es_args *a, const char *s)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 256;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
		a->own = xrealloc(a->own, a->cap * sizeof(*a->own));
	}
	a->v[a->n++] = s;
}

/* es_pushf - own a formatted string */
static void
es_pushn(struct es_args *a, long long n)
{
	char *s = xasprintf("%lld", n);

	es_push(a, s);
	a->own[a->nown++] = s;
}

/* es_q_fields - the fields of a queue state */
static void
es_q_fields(struct es_args *a, const struct events_q *q)
{
	es_pushn(a, 7);
	es_push(a, "msgid"); es_push(a, q->msgid);
	es_push(a, "id"); es_push(a, q->id);
	es_push(a, "sender"); es_push(a, q->sender);
	es_push(a, "tenant"); es_push(a, q->tenant);
	es_push(a, "rcpts"); es_push(a, q->rcpts);
	es_push(a, "fin"); es_push(a, q->fin);
	es_push(a, "acc"); es_push(a, q->acc ? "1" : "0");
}

/*
 * es_eval - EVALSHA, then EVAL once on NOSCRIPT (as redis_evalsha(), whose
 * argument bound is for milter callbacks; a batch has many more)
 */
static redisReply *
es_eval(struct redis_pool *p, const struct es_args *keys,
	const struct es_args *args, const char **err)
{
	size_t	 n = 3 + keys->n + args->n;
	const char **v = xcalloc(n, sizeof(*v));
	char	 nk[24];
	redisReply *r;

	snprintf(nk, sizeof(nk), "%zu", keys->n);
	v[0] = "EVALSHA";
	v[1] = es_commit_sha;
	v[2] = nk;
	memcpy(v + 3, keys->v, keys->n * sizeof(*v));
	memcpy(v + 3 + keys->n, args->v, args->n * sizeof(*v));
	r = redis_commandargv(p, (int)n, v, NULL, err);
	if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL
	    && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		v[0] = "EVAL";
		v[1] = es_commit_lua;
		r = redis_commandargv(p, (int)n, v, NULL, err);
	}
	free(v);
	return r;
}

/* events_store_commit - the batch and the position, atomically */
int
events_store_commit(struct redis_pool *p, const struct events_conf *c,
		    const struct events_batch *b, const struct events_pos *pos,
		    const char **err)
{
	struct es_args keys = {0}, args = {0};
	char	*kown[3], posv[96], ttl[24], maxlen[24];
	char	**qk = NULL;
	size_t	 nqk = 0;
	redisReply *r;
	int	 rc = -1;

	kown[0] = events_store_key(c->key_prefix, ":stream");
	kown[1] = events_store_key(c->key_prefix, ":pos");
	kown[2] = events_store_key(c->key_prefix, ":bpos");
	for (int i = 0; i < 3; i++)
		es_push(&keys, kown[i]);
	snprintf(maxlen, sizeof(maxlen), "%lld", c->stream_maxlen);
	snprintf(posv, sizeof(posv), "%llu:%llu:%lld:%llu", pos->dev, pos->ino, pos->off,
		 pos->fp);
	snprintf(ttl, sizeof(ttl), "%lld", c->state_ttl);
	es_push(&args, maxlen);
	es_push(&args, posv);
	es_push(&args, b->bpos);
	es_push(&args, ttl);
	for (size_t i = 0; i < b->nev; i++) {
		es_push(&args, "E");
		es_pushn(&args, (long long)b->ev[i].n);
		for (size_t k = 0; k < b->ev[i].n; k++) {
			es_push(&args, b->ev[i].f[k]);
			es_push(&args, b->ev[i].v[k]);
		}
	}
	qk = xcalloc(b->nq + b->nbx + 1, sizeof(*qk));
	for (size_t i = 0; i < b->nq; i++) {
		const struct events_q *q = &b->q[i];
		char *suffix;

		if (!q->dirty && !q->deleted)
			continue;
		suffix = xasprintf(":q:%s", q->qid);
		qk[nqk] = events_store_key(c->key_prefix, suffix);
		free(suffix);
		es_push(&keys, qk[nqk++]);
		es_push(&args, q->deleted ? "D" : "Q");
		es_pushn(&args, (long long)keys.n);
		if (!q->deleted)
			es_q_fields(&args, q);
	}
	for (size_t i = 0; i < b->nbx; i++) {
		es_push(&keys, b->bx[i]);
		es_push(&args, "B");
		es_pushn(&args, (long long)keys.n);
	}
	pthread_once(&es_once, es_init);
	r = es_eval(p, &keys, &args, err);
	if (r == NULL)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARNING, NULL, "events: redis %s: %.200s", redis_pool_server(p),
			r->str ? r->str : "?");
		*err = "Redis refused the commit script";
	} else
		rc = 0;
	freeReplyObject(r);
out:
	for (int i = 0; i < 3; i++)
		free(kown[i]);
	for (size_t i = 0; i < nqk; i++)
		free(qk[i]);
	free(qk);
	for (size_t i = 0; i < args.nown; i++)
		free(args.own[i]);
	free(args.v);
	free(args.own);
	free(keys.v);
	free(keys.own);
	return rc;
}

/* es_copy - a reply string into an array */
static void
es_copy(char *dst, size_t dstlen, const redisReply *e)
{
	size_t n = 0;

	if (e != NULL && e->type == REDIS_REPLY_STRING) {
		n = e->len < dstlen - 1 ? e->len : dstlen - 1;
		memcpy(dst, e->str, n);
	}
	dst[n] = '\0';
}

/* events_store_load_q - one queue state: 1, 0 none, -1 */
int
events_store_load_q(struct redis_pool *p, const char *prefix, const char *qid,
		    struct events_q *q, const char **err)
{
	char *suffix = xasprintf(":q:%s", qid), *key = events_store_key(prefix, suffix), a[4];
	redisReply *r = redis_command(p, err, "HMGET %s msgid id sender tenant rcpts fin acc",
				      key);
	int rc = -1;

	free(suffix);
	free(key);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 7) {
		*err = "unexpected reply from Redis";
		goto out;
	}
	rc = r->element[0]->type != REDIS_REPLY_NIL || r->element[1]->type != REDIS_REPLY_NIL;
	es_copy(q->msgid, sizeof(q->msgid), r->element[0]);
	es_copy(q->id, sizeof(q->id), r->element[1]);
	es_copy(q->sender, sizeof(q->sender), r->element[2]);
	es_copy(q->tenant, sizeof(q->tenant), r->element[3]);
	es_copy(q->rcpts, sizeof(q->rcpts), r->element[4]);
	es_copy(q->fin, sizeof(q->fin), r->element[5]);
	es_copy(a, sizeof(a), r->element[6]);
	q->acc = a[0] == '1';
out:
	freeReplyObject(r);
	return rc;
}

/* events_store_bx_exists - did the log report RCPT of message ID bounced */
int
events_store_bx_exists(struct redis_pool *p, const char *prefix, const char *id,
		       const char *rcpt, const char **err)
{
	char *suffix = xasprintf(":bx:%s:%s", id, rcpt), *key = events_store_key(prefix, suffix);
	redisReply *r = redis_command(p, err, "EXISTS %s", key);
	int rc = -1;

	free(suffix);
	free(key);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rc = r->integer > 0;
	else
		*err = "unexpected reply from Redis";
	freeReplyObject(r);
	return rc;
}
