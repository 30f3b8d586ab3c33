/*++
 * NAME
 *	bounce_pause 3
 * SUMMARY
 *	a tenant's rolling rates, review and pause, in Redis
 * DESCRIPTION
 *	See bounce_pause.h. One Lua script does every mode ("sent",
 *	"outcome", "get"): counting and deciding happen in one atomic step,
 *	so two milters recording bounces of one tenant at once count both
 *	and pause it once (one event).
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_pause.h"
#include "bounce_store.h"
#include "log.h"
#include "name_code.h"
#include "xalloc.h"

/*
 * KEYS: rate, pause, stream, message record.
 * ARGV: mode, now_ms, slot_ms, nslots, nsent, nhard, ncompl, min_volume,
 * review_bounce_ppm, review_complaint_ppm, pause_bounce_ppm,
 * pause_complaint_ppm, tenant, stream maxlen, then (outcome, once) the
 * marks "h:ADDR" / "c:ADDR": counted only when new in the record
 */
static const char bp_lua[] =
"-- postmill-bounce tenant rates v2\n"
"local mode, now, slot_ms, nslots = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"local slot = math.floor(now / slot_ms)\n"
"local i = slot % nslots\n"
"if mode == 'once' then\n"
"  mode = 'outcome'\n"
"  local nh, nc = 0, 0\n"
"  local known = redis.call('EXISTS', KEYS[4]) == 1\n"
"  for j = 15, #ARGV do\n"
"    if not known or redis.call('HSETNX', KEYS[4], 'o:' .. ARGV[j], '1') == 1 then\n"
"      if string.sub(ARGV[j], 1, 2) == 'h:' then nh = nh + 1 else nc = nc + 1 end\n"
"    end\n"
"  end\n"
"  ARGV[6], ARGV[7] = nh, nc\n"
"end\n"
"if mode ~= 'get' then\n"
"  local e = tonumber(redis.call('HGET', KEYS[1], 'e' .. i) or '-1')\n"
"  if e ~= slot then\n"
"    redis.call('HSET', KEYS[1], 'e' .. i, string.format('%d', slot), 's' .. i, 0, 'h' .. i, 0, 'c' .. i, 0)\n"
"  end\n"
"  redis.call('HINCRBY', KEYS[1], 's' .. i, ARGV[5])\n"
"  redis.call('HINCRBY', KEYS[1], 'h' .. i, ARGV[6])\n"
"  redis.call('HINCRBY', KEYS[1], 'c' .. i, ARGV[7])\n"
"  redis.call('PEXPIRE', KEYS[1], string.format('%d', slot_ms * (nslots + 1)))\n"
"end\n"
"if mode == 'sent' then\n"
"  if redis.call('EXISTS', KEYS[4]) == 1 then\n"
"    redis.call('HSET', KEYS[4], 'tenant', ARGV[13])\n"
"  end\n"
"  return {'ok', 0, 0, 0, 0, '0', ''}\n"
"end\n"
"local s, h, c = 0, 0, 0\n"
"for j = 0, nslots - 1 do\n"
"  local v = redis.call('HMGET', KEYS[1], 'e' .. j, 's' .. j, 'h' .. j, 'c' .. j)\n"
"  local e = tonumber(v[1] or '-1')\n"
"  if e > slot - nslots and e <= slot then\n"
"    s = s + tonumber(v[2] or '0'); h = h + tonumber(v[3] or '0'); c = c + tonumber(v[4] or '0')\n"
"  end\n"
"end\n"
"local st = redis.call('HMGET', KEYS[2], 'state', 'since', 'reason')\n"
"local state, since, reason = st[1] or 'ok', st[2] or '0', st[3] or ''\n"
"if mode == 'get' then return {state, s, h, c, 0, since, reason} end\n"
"local minv = tonumber(ARGV[8])\n"
"local rb, rc, pb, pc = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])\n"
"local function above(n, ppm) return ppm > 0 and n * 1000000 > ppm * s end\n"
"local function pct(n) return string.format('%.2f%%', n * 100 / s) end\n"
"local function ppct(p) return string.format('%g%%', p / 10000) end\n"
"local new, why = 'ok', ''\n"
"if s >= minv and s > 0 then\n"
"  if above(h, pb) then new, why = 'paused', 'bounce rate ' .. pct(h) .. ' (' .. h .. '/' .. s .. ') above ' .. ppct(pb)\n"
"  elseif above(c, pc) then new, why = 'paused', 'complaint rate ' .. pct(c) .. ' (' .. c .. '/' .. s .. ') above ' .. ppct(pc)\n"
"  elseif above(h, rb) then new, why = 'review', 'bounce rate ' .. pct(h) .. ' (' .. h .. '/' .. s .. ') above ' .. ppct(rb)\n"
"  elseif above(c, rc) then new, why = 'review', 'complaint rate ' .. pct(c) .. ' (' .. c .. '/' .. s .. ') above ' .. ppct(rc)\n"
"  end\n"
"end\n"
"if new == 'ok' or state == 'paused' or state == new then\n"
"  return {state, s, h, c, 0, since, reason}\n"
"end\n"
"redis.call('HSET', KEYS[2], 'state', new, 'since', ARGV[2], 'reason', why, 'sent', s, 'hard', h, 'complaints', c)\n"
"redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[14], '*', 'time', math.floor(now / 1000),\n"
"  'kind', 'tenant_' .. new, 'tenant', ARGV[13], 'sent', s, 'hard', h, 'complaints', c, 'reason', why)\n"
"return {new, s, h, c, 1, ARGV[2], why}\n";

static char bp_sha[41];
static pthread_once_t bp_once = PTHREAD_ONCE_INIT;

/* bp_init - the script's SHA1, once */
static void
bp_init(void)
{
	redis_script_sha1(bp_lua, bp_sha);
}

/* bounce_rate_parse - "5%", "0.1%", "0.005" or "0" into parts per million */
int
bounce_rate_parse(const char *s, size_t len, long long *ppm, const char **why)
{
	long long whole = 0, frac = 0;
	int ndec = 0, ndig = 0, pct = 0;
	size_t i = 0;

	if (s == NULL || len == 0) {
		*why = "empty (0 means never)";
		return -1;
	}
	if (s[len - 1] == '%') {
		pct = 1;
		len--;
	}
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
		if (ndig >= 3) {
			*why = "too large";
			return -1;
		}
		whole = whole * 10 + (s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, ndec++) {
			if (ndec >= 6) {
				*why = "more than 6 decimals";
				return -1;
			}
			frac = frac * 10 + (s[i] - '0');
			ndig++;
		}
	}
	if (i != len || ndig == 0) {
		*why = "expected a percentage (5%, 0.1%) or a fraction (0.05)";
		return -1;
	}
	for (; ndec < 6; ndec++)
		frac *= 10;
	/* value = whole.frac; ppm = value * 1e6 (fraction) or * 1e4 (percent) */
	*ppm = pct ? whole * 10000 + frac / 100 : whole * 1000000 + frac;
	if (pct && frac % 100 != 0) {
		*why = "finer than 0.0001%";
		return -1;
	}
	if (*ppm > 1000000) {
		*why = "above 100%";
		return -1;
	}
	return 0;
}

/* bounce_pause_decide - what the rates say, as the script decides */
enum bounce_pause_state
bounce_pause_decide(const struct bounce_pause_conf *c, long long sent,
		    long long hard, long long complaints)
{
#define ABOVE(n, ppm) ((ppm) > 0 && (n) * 1000000 > (ppm) * sent)
	if (sent <= 0 || sent < c->min_volume)
		return BOUNCE_PAUSE_OK;
	if (ABOVE(hard, c->pause_bounce_ppm) || ABOVE(complaints, c->pause_complaint_ppm))
		return BOUNCE_PAUSE_PAUSED;
	if (ABOVE(hard, c->review_bounce_ppm) || ABOVE(complaints, c->review_complaint_ppm))
		return BOUNCE_PAUSE_REVIEW;
	return BOUNCE_PAUSE_OK;
#undef ABOVE
}

/* the state word in Redis and in postmillctl's output; anything else
 * Redis holds reads as ok (the sentinel) */
static const struct name_code bp_states[] = {
	{"ok", BOUNCE_PAUSE_OK},
	{"review", BOUNCE_PAUSE_REVIEW},
	{"paused", BOUNCE_PAUSE_PAUSED},
	{NULL, BOUNCE_PAUSE_OK},
};

/* bounce_pause_state_name - "ok", "review", "paused" */
const char *
bounce_pause_state_name(enum bounce_pause_state s)
{
	const char *w = name_code_str(bp_states, s);

	return w ? w : "ok";
}

/* bp_tag - "t:NAME", the tenant's hash tag */
static char *
bp_tag(const char *tenant)
{
	return xasprintf("t:%s", tenant);
}

/* bounce_pause_key - PREFIX{t:NAME}:pause */
char *
bounce_pause_key(const char *prefix, const char *tenant)
{
	char *tag = bp_tag(tenant), *k = redis_key(prefix, tag, ":pause");

	free(tag);
	return k;
}

/* bounce_pause_rate_key - PREFIX{t:NAME}:rate */
char *
bounce_pause_rate_key(const char *prefix, const char *tenant)
{
	char *tag = bp_tag(tenant), *k = redis_key(prefix, tag, ":rate");

	free(tag);
	return k;
}

/* bp_str - a reply element as a string into dst */
static void
bp_str(char *dst, size_t dstlen, const redisReply *e)
{
	size_t n = 0;

	if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
		n = e->len < dstlen - 1 ? e->len : dstlen - 1;
		memcpy(dst, e->str, n);
	}
	dst[n] = '\0';
}

/* bp_run - one run of the script; 0 or -1 + *err */
static int
bp_run(struct redis_pool *p, const char *mode, const char *prefix,
       const char *stream, long long maxlen, const char *tenant,
       const char *idhex, long long nsent, long long nhard, long long ncompl,
       const char *const *marks, size_t nmarks,
       const struct bounce_pause_conf *c, long long now_ms,
       struct bounce_pause_status *out, const char **err)
{
	char *keys[4], num[10][24];
	const char **args = xcalloc(14 + nmarks, sizeof(*args));
	long long v[] = {now_ms, c->window_ms / BOUNCE_PAUSE_SLOTS, BOUNCE_PAUSE_SLOTS,
			 nsent, nhard, ncompl, c->min_volume, c->review_bounce_ppm,
			 c->review_complaint_ppm, c->pause_bounce_ppm};
	char pc[24], ml[24];
	redisReply *r;
	int rc = -1;

	if (v[1] < 1)
		v[1] = 1;
	keys[0] = bounce_pause_rate_key(prefix, tenant);
	keys[1] = bounce_pause_key(prefix, tenant);
	keys[2] = xstrdup(stream != NULL ? stream : "pmbounce:events");
	keys[3] = idhex != NULL ? bounce_store_msg_key(prefix, idhex) : xstrdup(keys[0]);
	args[0] = mode;
	for (int i = 0; i < 10; i++) {
		snprintf(num[i], sizeof(num[i]), "%lld", v[i]);
		args[i + 1] = num[i];
	}
	snprintf(pc, sizeof(pc), "%lld", c->pause_complaint_ppm);
	snprintf(ml, sizeof(ml), "%lld", maxlen > 0 ? maxlen : 1000000);
	args[11] = pc;
	args[12] = tenant;
	args[13] = ml;
	for (size_t i = 0; i < nmarks; i++)
		args[14 + i] = marks[i];
	pthread_once(&bp_once, bp_init);
	r = redis_evalsha(p, bp_lua, bp_sha, 4, (const char **)keys, (int)(14 + nmarks), args,
			  err);
	if (r == NULL)
		goto out;
	if (r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARNING, NULL, "bounce: redis %s: %.200s",
			redis_pool_server(p), r->str ? r->str : "?");
		*err = "Redis refused the tenant rates script";
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != 7) {
		*err = "unexpected reply from Redis";
	} else {
		char s[16], since[24];

		memset(out, 0, sizeof(*out));
		bp_str(s, sizeof(s), r->element[0]);
		out->state = name_code(bp_states, NAME_CODE_FLAG_NONE, s);
		out->sent = r->element[1]->integer;
		out->hard = r->element[2]->integer;
		out->complaints = r->element[3]->integer;
		out->changed = (int)r->element[4]->integer;
		bp_str(since, sizeof(since), r->element[5]);
		out->since = atoll(since);
		bp_str(out->reason, sizeof(out->reason), r->element[6]);
		*err = NULL;
		rc = 0;
	}
	freeReplyObject(r);
out:
	for (int i = 0; i < 4; i++)
		free(keys[i]);
	free(args);
	return rc;
}

/* bounce_pause_sent - count n recipients sent; name the tenant in the record */
int
bounce_pause_sent(struct redis_pool *p, const char *prefix, const char *tenant,
		  const char *idhex, long long n, const struct bounce_pause_conf *c,
		  long long now_ms, const char **err)
{
	struct bounce_pause_status st;

	return bp_run(p, "sent", prefix, NULL, 0, tenant, idhex, n, 0, 0, NULL, 0, c,
		      now_ms, &st, err);
}

/* bounce_pause_tenant_of - the tenant a message record names; 1, 0 none, -1 */
int
bounce_pause_tenant_of(struct redis_pool *p, const char *prefix,
		       const char *idhex, char *out, size_t outlen,
		       const char **err)
{
	char *key = bounce_store_msg_key(prefix, idhex);
	redisReply *r = redis_command(p, err, "HGET %s tenant", key);
	int rc = -1;

	free(key);
	out[0] = '\0';
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING) {
		bp_str(out, outlen, r);
		rc = out[0] != '\0';
	} else if (r->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else {
		*err = "unexpected reply from Redis";
	}
	freeReplyObject(r);
	return rc;
}

/* bounce_pause_outcome - count hard bounces and complaints, then decide */
int
bounce_pause_outcome(struct redis_pool *p, const char *prefix,
		     const char *stream, long long maxlen, const char *tenant,
		     long long nhard, long long ncomplaints,
		     const struct bounce_pause_conf *c, long long now_ms,
		     struct bounce_pause_status *out, const char **err)
{
	return bp_run(p, "outcome", prefix, stream, maxlen, tenant, NULL, 0, nhard,
		      ncomplaints, NULL, 0, c, now_ms, out, err);
}

/* bounce_pause_outcome_once - count each mark of a message once, then decide */
int
bounce_pause_outcome_once(struct redis_pool *p, const char *prefix,
			  const char *stream, long long maxlen, const char *tenant,
			  const char *idhex, const char *const *marks, size_t nmarks,
			  const struct bounce_pause_conf *c, long long now_ms,
			  struct bounce_pause_status *out, const char **err)
{
	return bp_run(p, "once", prefix, stream, maxlen, tenant, idhex, 0, 0, 0,
		      marks, nmarks, c, now_ms, out, err);
}

/* bounce_pause_get - the state and the window's counts; changes nothing */
int
bounce_pause_get(struct redis_pool *p, const char *prefix, const char *tenant,
		 const struct bounce_pause_conf *c, long long now_ms,
		 struct bounce_pause_status *out, const char **err)
{
	return bp_run(p, "get", prefix, NULL, 0, tenant, NULL, 0, 0, 0, NULL, 0, c, now_ms,
		      out, err);
}

/* bounce_pause_resume - lift a review or pause and start a new window */
int
bounce_pause_resume(struct redis_pool *p, const char *prefix,
		    const char *tenant, const char **err)
{
	char *k1 = bounce_pause_key(prefix, tenant);
	char *k2 = bounce_pause_rate_key(prefix, tenant);
	redisReply *r = redis_command(p, err, "DEL %s %s", k1, k2);
	int rc = -1;

	free(k1);
	free(k2);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rc = (int)r->integer;
	else
		*err = "unexpected reply from Redis";
	freeReplyObject(r);
	return rc;
}
