/*++
 * NAME
 *	limit_store 3
 * SUMMARY
 *	postmill-limit's state in Redis: key names and the Lua scripts
 * DESCRIPTION
 *	See limit_store.h for the keys and the semantics. Redis runs a Lua
 *	script atomically: no other command runs between the script's GET
 *	and its INCRBY, on any connection, from any Postfix node. That is
 *	what makes the limits exact: the check and the count are one step,
 *	and a count happens only when every limit of the call allowed it.
 *
 *	Numbers in the scripts are Lua doubles, exact up to 2^53: counts are
 *	bounded by LIMIT_MAX_COUNT and times are microseconds since the epoch
 *	(about 2^51 today). Times are written back with "%.0f", because
 *	tostring() keeps only 14 significant digits.
 *
 *	The scripts' SHA-1 names are computed once (pthread_once) and the
 *	sources sent only after a NOSCRIPT reply (redis_evalsha()).
 *--*/
#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_store.h"
#include "log.h"
#include "xalloc.h"

/*
 * The reservation journal (v3), shared by the check and the settle script.
 * KEYS of one hash tag: R, a hash id -> record (JSON: s = state "p"
 * pending, "c" confirmed, "x" refunded; i = the items counted, numbers as
 * decimal strings because cjson keeps 14 digits), and Z, a sorted set id ->
 * expiry (us, the caller's clock). ls_reverse gives one record's counts
 * back, rates only by what has not drained at now; ls_expire removes at
 * most 16 records whose expiry has passed, giving pending ones back: a
 * reservation nobody confirmed (a worker killed, a reply that timed out)
 * stops counting once its ttl has passed.
 */
#define LS_JOURNAL_LUA \
"local function ls_reverse(rec, now)\n" \
"  for _, it in ipairs(rec.i or {}) do\n" \
"    local k, amt = it[1], tonumber(it[3])\n" \
"    if it[2] == 'q' then\n" \
"      if redis.call('EXISTS', k) == 1 then\n" \
"        if redis.call('DECRBY', k, amt) <= 0 then redis.call('DEL', k) end\n" \
"      end\n" \
"    else\n" \
"      local t, e = tonumber(it[4]), tonumber(it[5])\n" \
"      local left = e - now\n" \
"      if left > amt then left = amt end\n" \
"      local v = redis.call('GET', k)\n" \
"      local x, y\n" \
"      if v then x, y = string.match(v, '^(%d+) (%d+)$') end\n" \
"      if left > 0 and x and tonumber(y) == t then\n" \
"        local tat = tonumber(x) - left\n" \
"        if tat <= now then\n" \
"          redis.call('DEL', k)\n" \
"        else\n" \
"          redis.call('SET', k, string.format('%.0f %.0f', tat, t), 'PX',\n" \
"                     math.ceil((tat - now) / 1000) + 1000)\n" \
"        end\n" \
"      end\n" \
"    end\n" \
"  end\n" \
"end\n" \
"local function ls_expire(R, Z, now)\n" \
"  local ids = redis.call('ZRANGEBYSCORE', Z, '-inf', string.format('%.0f', now),\n" \
"                         'LIMIT', 0, 16)\n" \
"  for _, id in ipairs(ids) do\n" \
"    local v = redis.call('HGET', R, id)\n" \
"    if v then\n" \
"      local rec = cjson.decode(v)\n" \
"      if rec.s == 'p' then ls_reverse(rec, now) end\n" \
"      redis.call('HDEL', R, id)\n" \
"    end\n" \
"    redis.call('ZREM', Z, id)\n" \
"  end\n" \
"end\n" \
"local function ls_keep(R, Z, ms)\n" \
"  ms = math.ceil(ms)\n" \
"  for _, k in ipairs({R, Z}) do\n" \
"    if redis.call('PTTL', k) < ms then redis.call('PEXPIRE', k, ms) end\n" \
"  end\n" \
"end\n"

/*
 * KEYS[1]: the override hash; KEYS[1+i]: the state of limit i; then the
 * journal's R and Z (see LS_JOURNAL_LUA).
 * ARGV: now_us commit(0|1) n, then six per limit:
 *   quota: "q" field count window_end_ms 0 cost
 *   rate:  "r" field count period_ms burst cost
 * then the reservation id ("" none: not journaled) and its ttl_us. Each
 * limit has its own cost (v4), so that one call checks a recipient (cost
 * 1 in the recipient rules' limits) and its message (cost 1 in the
 * message rules' limits) at once.
 * Returns {status, n, then per limit: over used limit retry_ms end_us amount};
 * status 0 refused (nothing counted), 1 counted, 2 exempt (nothing counted),
 * 3 the id is in the journal already (a retry, or a refund that came
 * first: this late call counts nothing).
 *
 * Expired journal entries are removed first (at most 16 per call), so
 * that a reservation past its ttl never counts against this decision. A
 * counted call with an id records what it counted as pending, expiring at
 * now + ttl; the journal keys live as long as the longest state key they
 * may have to correct.
 *
 * A rate's state is "tat t": the GCRA's theoretical arrival time (us) and
 * the emission interval t (us) it was counted at. When the interval in
 * force differs from t (an override of the rate was set, changed or
 * removed since), the bucket starts empty: the sender may send a burst at
 * the new rate at once. Carrying the old debt over would leave a
 * fraction of a message from the old rate in the new bucket (a message
 * 5 ms ago at 100/s is half a message, i.e. half a day at 1/1d), so
 * whether the first message after "rate=1/1d burst=1" passed would
 * depend on how fast the previous ones came. A change of burst alone
 * keeps the bucket (same interval): its messages count against the new
 * burst. Quotas keep their count; an override changes only the limit.
 */
static const char limit_check_lua[] =
"-- postmill-limit check v4\n"
LS_JOURNAL_LUA
"local now = tonumber(ARGV[1])\n"
"local commit = ARGV[2] == '1'\n"
"local n = tonumber(ARGV[3])\n"
"local R, Z = KEYS[n + 2], KEYS[n + 3]\n"
"local id, ttl = ARGV[3 + 6 * n + 1], tonumber(ARGV[3 + 6 * n + 2])\n"
"ls_expire(R, Z, now)\n"
"if commit and id ~= '' and redis.call('HEXISTS', R, id) == 1 then\n"
"  local o = {3, n}\n"
"  for i = 1, 6 * n do o[2 + i] = 0 end\n"
"  return o\n"
"end\n"
"local fields = {'exempt'}\n"
"for i = 1, n do fields[i + 1] = ARGV[3 + (i - 1) * 6 + 2] end\n"
"local ov = redis.call('HMGET', KEYS[1], unpack(fields))\n"
"local out = {1, n}\n"
"if ov[1] then\n"
"  out[1] = 2\n"
"  for i = 1, n do\n"
"    local b = #out\n"
"    out[b + 1] = 0; out[b + 2] = 0; out[b + 3] = -1\n"
"    out[b + 4] = 0; out[b + 5] = 0; out[b + 6] = 0\n"
"  end\n"
"  return out\n"
"end\n"
"local now_ms = math.floor(now / 1000)\n"
"local st = {}\n"
"local over = false\n"
"for i = 1, n do\n"
"  local b = 3 + (i - 1) * 6\n"
"  local s = {q = ARGV[b + 1] == 'q', key = KEYS[i + 1], endus = 0}\n"
"  local cost = tonumber(ARGV[b + 6])\n"
"  s.cost = cost\n"
"  local a, p, c = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])\n"
"  local o = ov[i + 1]\n"
"  if s.q then\n"
"    local lim = a\n"
"    if o then\n"
"      local x = tonumber(o)\n"
"      if x and x >= -1 and x == math.floor(x) then lim = x end\n"
"    end\n"
"    s.lim = lim\n"
"    s.used = tonumber(redis.call('GET', s.key)) or 0\n"
"    s.wend = p\n"
"    s.ok = lim < 0 or s.used + cost <= lim\n"
"    s.retry = p - now_ms\n"
"    s.amount = cost\n"
"  else\n"
"    local r, per, burst = a, p, c\n"
"    if o then\n"
"      if o == '-1' then\n"
"        r = -1\n"
"      else\n"
"        local x, y, z = string.match(o, '^(%d+) (%d+) (%d+)$')\n"
"        x, y, z = tonumber(x), tonumber(y), tonumber(z)\n"
"        if x and x > 0 and y > 0 and z > 0 then r, per, burst = x, y, z end\n"
"      end\n"
"    end\n"
"    if r < 0 then\n"
"      s.unlimited = true\n"
"      s.lim = -1; s.used = 0; s.ok = true; s.retry = 0; s.amount = 0\n"
"    else\n"
"      local t = math.floor(per * 1000 / r)\n"
"      if t < 1 then t = 1 end\n"
"      local tat, was = 0, t\n"
"      local v = redis.call('GET', s.key)\n"
"      if v then\n"
"        local x, y = string.match(v, '^(%d+) (%d+)$')\n"
"        if x then tat, was = tonumber(x), tonumber(y) end\n"
"      end\n"
"      -- filled at another interval (an override set, changed or removed\n"
"      -- since): the bucket starts empty, see limit_check_lua's comment\n"
"      if was ~= t then tat = now end\n"
"      if tat < now then tat = now end\n"
"      s.t = t; s.new = tat + cost * t\n"
"      s.lim = burst\n"
"      s.used = math.ceil((tat - now) / t)\n"
"      s.ok = s.new - now <= burst * t\n"
"      if s.ok then\n"
"        s.retry = math.ceil((tat - now) / 1000)\n"
"      else\n"
"        s.retry = math.ceil((s.new - now - burst * t) / 1000)\n"
"      end\n"
"      s.amount = cost * t\n"
"    end\n"
"  end\n"
"  if not s.ok then over = true end\n"
"  st[i] = s\n"
"end\n"
"if over then out[1] = 0 end\n"
"local items, keep = {}, 2 * ttl / 1000\n"
"for i = 1, n do\n"
"  local s = st[i]\n"
"  if commit and not over then\n"
"    if s.q then\n"
"      s.used = redis.call('INCRBY', s.key, s.cost)\n"
"      redis.call('PEXPIREAT', s.key, s.wend)\n"
"      items[#items + 1] = {s.key, 'q', tostring(s.cost)}\n"
"      if s.wend - now_ms > keep then keep = s.wend - now_ms end\n"
"    elseif not s.unlimited then\n"
"      redis.call('SET', s.key, string.format('%.0f %.0f', s.new, s.t), 'PX',\n"
"                 math.ceil((s.new - now) / 1000) + 1000)\n"
"      s.used = math.ceil((s.new - now) / s.t)\n"
"      s.retry = math.ceil((s.new - now) / 1000)\n"
"      s.endus = s.new\n"
"      items[#items + 1] = {s.key, 'r', string.format('%.0f', s.amount),\n"
"        string.format('%.0f', s.t), string.format('%.0f', s.new)}\n"
"      if (s.new - now) / 1000 > keep then keep = (s.new - now) / 1000 end\n"
"    end\n"
"  else\n"
"    s.amount = 0\n"
"  end\n"
"  local b = #out\n"
"  out[b + 1] = s.ok and 0 or 1\n"
"  out[b + 2] = s.used\n"
"  out[b + 3] = s.lim\n"
"  out[b + 4] = s.retry\n"
"  out[b + 5] = s.endus\n"
"  out[b + 6] = s.amount\n"
"end\n"
"if commit and not over and id ~= '' then\n"
"  redis.call('HSET', R, id, cjson.encode({s = 'p', i = items}))\n"
"  redis.call('ZADD', Z, string.format('%.0f', now + ttl), id)\n"
"  ls_keep(R, Z, keep + 1000)\n"
"end\n"
"return out\n";

/*
 * KEYS[i]: a state key; ARGV[1]: now_us, then per key: "q"|"r" amount t,
 * where a rate's amount is microseconds counted at interval t: when the
 * state is at another interval now, the bucket was started afresh since
 * (an override) and does not hold the reservation: nothing to refund.
 * A quota counter that does not exist (its window ended) is left alone:
 * DECRBY would create it without an expiry.
 */
static const char limit_refund_lua[] =
"-- postmill-limit refund v3\n"
"local now = tonumber(ARGV[1])\n"
"for i = 1, #KEYS do\n"
"  local k, amt, t = KEYS[i], tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])\n"
"  if ARGV[3 * i - 1] == 'q' then\n"
"    if redis.call('EXISTS', k) == 1 then\n"
"      if redis.call('DECRBY', k, amt) <= 0 then redis.call('DEL', k) end\n"
"    end\n"
"  else\n"
"    local v = redis.call('GET', k)\n"
"    local x, y\n"
"    if v then x, y = string.match(v, '^(%d+) (%d+)$') end\n"
"    if x then\n"
"      local tat, cur = tonumber(x), tonumber(y)\n"
"      if t > 0 and cur ~= t then\n"
"        -- the bucket started afresh at another interval since: the\n"
"        -- reservation is not in it\n"
"      elseif math.floor(tat - amt) <= now then\n"
"        redis.call('DEL', k)\n"
"      else\n"
"        tat = math.floor(tat - amt)\n"
"        redis.call('SET', k, string.format('%.0f %.0f', tat, cur), 'PX',\n"
"                   math.ceil((tat - now) / 1000) + 1000)\n"
"      end\n"
"    end\n"
"  end\n"
"end\n"
"return #KEYS\n";

/*
 * KEYS: the journal's R and Z. ARGV: now_us ttl_us op ids..., op "c"
 * (confirm: the mail was accepted, the counts stay) or "x" (refund).
 * Idempotent, in any order with the check script:
 *   confirm: pending -> confirmed; confirmed: nothing; refunded or
 *	absent (expired, never ran): nothing, counted as missing;
 *   refund: pending or confirmed -> given back (ls_reverse) and marked
 *	refunded; refunded: nothing; absent: marked refunded, so that a
 *	check still queued behind (a reply that timed out) counts nothing.
 * Marks live until now + ttl. Returns {done, missing}.
 */
static const char limit_settle_lua[] =
"-- postmill-limit settle v3\n"
LS_JOURNAL_LUA
"local R, Z = KEYS[1], KEYS[2]\n"
"local now, ttl, op = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]\n"
"local done, missing = 0, 0\n"
"for j = 4, #ARGV do\n"
"  local id = ARGV[j]\n"
"  local v = redis.call('HGET', R, id)\n"
"  local rec = v and cjson.decode(v)\n"
"  if op == 'c' then\n"
"    if rec and rec.s == 'p' then\n"
"      rec.s = 'c'\n"
"      redis.call('HSET', R, id, cjson.encode(rec))\n"
"      done = done + 1\n"
"    elseif rec and rec.s == 'c' then\n"
"      done = done + 1\n"
"    else\n"
"      missing = missing + 1\n"
"    end\n"
"  elseif not rec or rec.s ~= 'x' then\n"
"    if rec then ls_reverse(rec, now) end\n"
"    redis.call('HSET', R, id, '{\"s\":\"x\"}')\n"
"    redis.call('ZADD', Z, string.format('%.0f', now + ttl), id)\n"
"    done = done + 1\n"
"  end\n"
"end\n"
"ls_expire(R, Z, now)\n"
"ls_keep(R, Z, 2 * ttl / 1000 + 1000)\n"
"return {done, missing}\n";

#define LS_PER_LIMIT_ARGS	6
#define LS_PER_LIMIT_OUT	6

static pthread_once_t ls_once = PTHREAD_ONCE_INIT;
static char ls_check_sha[41], ls_refund_sha[41], ls_settle_sha[41];

/* ls_init - the scripts' SHA-1 names, once */
static void
ls_init(void)
{
	redis_script_sha1(limit_check_lua, ls_check_sha);
	redis_script_sha1(limit_refund_lua, ls_refund_sha);
	redis_script_sha1(limit_settle_lua, ls_settle_sha);
}

/* limit_store_check_script - the source, for tests and postmillctl */
const char *
limit_store_check_script(void)
{
	return limit_check_lua;
}

/* limit_store_refund_script - the source, for tests */
const char *
limit_store_refund_script(void)
{
	return limit_refund_lua;
}

/* limit_store_override_key - "pmlimit:{sasl:alice}:override" */
char *
limit_store_override_key(const char *prefix, const char *keyval)
{
	return redis_key(prefix, keyval, ":override");
}

/* limit_store_journal_key - "pmlimit:{sasl:alice}:resv" (hash), ":resvexp" (zset) */
char *
limit_store_journal_key(const char *prefix, const char *keyval, bool expiry)
{
	return redis_key(prefix, keyval, expiry ? ":resvexp" : ":resv");
}

/* limit_store_settle_script - the source, for tests */
const char *
limit_store_settle_script(void)
{
	return limit_settle_lua;
}

/* limit_store_field - the override field of one limit: "plan:day" */
char *
limit_store_field(const struct limit_rule *rule, const struct limit_def *d)
{
	return xasprintf("%s:%s", rule->name, d->name);
}

/* limit_store_limit_key - the state key of one limit now; see limit_store.h */
char *
limit_store_limit_key(const char *prefix, const char *keyval,
		      const struct limit_rule *rule, const struct limit_def *d,
		      long long now_ms, long long offset_ms,
		      long long *window_end_ms)
{
	char suffix[LIMIT_NAME_MAX + LIMIT_WINDOW_NAME_MAX + 48], id[24];
	long long start, end;

	if (d->type == LIMIT_TYPE_RATE) {
		snprintf(suffix, sizeof(suffix), ":%s:%s:rate", rule->name,
			 limit_what_name(rule->what));
		if (window_end_ms)
			*window_end_ms = 0;
	} else {
		limit_window_bounds(&d->window, now_ms, offset_ms, &start, &end);
		if (limit_window_id(&d->window, start, offset_ms, id, sizeof(id)) < 0)
			snprintf(id, sizeof(id), "%lld", start / 1000);
		snprintf(suffix, sizeof(suffix), ":%s:%s:%s:%s", rule->name,
			 limit_what_name(rule->what), d->name, id);
		if (window_end_ms)
			*window_end_ms = end;
	}
	return redis_key(prefix, keyval, suffix);
}

/* ls_int - an integer element of the reply */
static bool
ls_int(const redisReply *r, size_t i, long long *out)
{
	if (r->element[i] == NULL || r->element[i]->type != REDIS_REPLY_INTEGER)
		return false;
	*out = r->element[i]->integer;
	return true;
}

/* ls_cost - what one rule's limits count in this call; 0: not in it */
static long long
ls_cost(const struct limit_check_req *req, const struct limit_rule *rule)
{
	return (size_t)rule->what < LIMIT_WHAT_N ? req->cost[rule->what] : 0;
}

/* limit_store_check - one check-and-count call; see limit_store.h */
int
limit_store_check(struct redis_pool *p, const struct limit_check_req *req,
		  struct limit_result *out, const char **err)
{
	const struct limit_call *c = req->call;
	size_t n = 0, nargs, nkeys;
	const char **keys, **args;
	char **owned, num[3][24];
	long long now_ms = req->now_us / 1000;
	redisReply *r;
	int rc = -1;

	out->status = LIMIT_ST_COUNTED;
	out->u = NULL;
	out->n = 0;
	for (size_t i = 0; i < c->nrules; i++)
		if (ls_cost(req, c->rules[i]) > 0)
			n += c->rules[i]->nlimits;
	if (n == 0)
		return 0;
	nkeys = 3 + n;
	nargs = 5 + LS_PER_LIMIT_ARGS * n;
	keys = xcalloc(nkeys, sizeof(*keys));
	args = xcalloc(nargs, sizeof(*args));
	/* every string we allocate for the call, freed at the end */
	owned = xcalloc(3 + 5 * n, sizeof(*owned));
	out->u = xcalloc(n, sizeof(*out->u));
	out->n = n;

	keys[0] = owned[0] = limit_store_override_key(req->prefix, c->keyval);
	snprintf(num[0], sizeof(num[0]), "%lld", req->now_us);
	args[0] = num[0];
	args[1] = req->commit ? "1" : "0";
	snprintf(num[1], sizeof(num[1]), "%zu", n);
	args[2] = num[1];
	keys[1 + n] = owned[1] = limit_store_journal_key(req->prefix, c->keyval, false);
	keys[2 + n] = owned[2] = limit_store_journal_key(req->prefix, c->keyval, true);
	args[3 + LS_PER_LIMIT_ARGS * n] = req->resv_id != NULL && req->commit
	    ? req->resv_id : "";
	snprintf(num[2], sizeof(num[2]), "%lld", req->ttl_us > 0 ? req->ttl_us : 0);
	args[4 + LS_PER_LIMIT_ARGS * n] = num[2];
	{
		size_t k = 0, o = 3;

		for (size_t i = 0; i < c->nrules; i++) {
			const struct limit_rule *rule = c->rules[i];
			long long cost = ls_cost(req, rule);

			if (cost <= 0)
				continue;
			for (size_t j = 0; j < rule->nlimits; j++, k++) {
				const struct limit_def *d = &rule->limits[j];
				const char **a = args + 3 + LS_PER_LIMIT_ARGS * k;
				long long end;

				out->u[k].rule = rule;
				out->u[k].def = d;
				out->u[k].key = limit_store_limit_key(req->prefix, c->keyval,
								      rule, d, now_ms,
								      req->offset_ms, &end);
				keys[1 + k] = out->u[k].key;
				a[0] = d->type == LIMIT_TYPE_QUOTA ? "q" : "r";
				a[1] = owned[o++] = limit_store_field(rule, d);
				a[2] = owned[o++] = xasprintf("%lld", d->count);
				if (d->type == LIMIT_TYPE_QUOTA) {
					a[3] = owned[o++] = xasprintf("%lld", end);
					a[4] = "0";
				} else {
					a[3] = owned[o++] = xasprintf("%lld", d->period_ms);
					a[4] = owned[o++] = xasprintf("%lld", d->burst);
				}
				a[5] = owned[o++] = xasprintf("%lld", cost);
			}
		}
	}

	pthread_once(&ls_once, ls_init);
	r = redis_evalsha(p, limit_check_lua, ls_check_sha, (int)nkeys, keys,
			  (int)nargs, args, err);
	if (r == NULL)
		goto done;
	if (r->type == REDIS_REPLY_ERROR) {
		/* WRONGTYPE, OOM, a script error: the server's own words */
		*err = "Redis refused the limit script";
		log_msg(LOG_WARNING, NULL, "limit: redis %s: %.200s",
			redis_pool_server(p), r->str ? r->str : "?");
		goto done;
	}
	{
		long long status, count;

		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 + LS_PER_LIMIT_OUT * n
		    || !ls_int(r, 0, &status) || !ls_int(r, 1, &count)
		    || status < 0 || status > 3 || count != (long long)n) {
			*err = "unexpected reply to the limit script";
			goto done;
		}
		if (status == 3) {
			/* only a retry of an id, or a call queued behind its refund */
			*err = "reservation already settled";
			goto done;
		}
		out->status = status == 0 ? LIMIT_ST_REFUSED :
		    status == 1 ? LIMIT_ST_COUNTED : LIMIT_ST_EXEMPT;
		for (size_t k = 0; k < n; k++) {
			size_t b = 2 + LS_PER_LIMIT_OUT * k;
			long long over;
			struct limit_usage *u = &out->u[k];

			if (!ls_int(r, b, &over) || !ls_int(r, b + 1, &u->used)
			    || !ls_int(r, b + 2, &u->limit)
			    || !ls_int(r, b + 3, &u->retry_ms)
			    || !ls_int(r, b + 4, &u->end_us)
			    || !ls_int(r, b + 5, &u->amount)) {
				*err = "unexpected reply to the limit script";
				goto done;
			}
			u->over = over != 0;
		}
	}
	*err = NULL;
	rc = 0;
done:
	if (r != NULL)
		freeReplyObject(r);
	for (size_t i = 0; i < 3 + 5 * n; i++)
		free(owned[i]);
	free(owned);
	free(keys);
	free(args);
	if (rc < 0)
		limit_result_free(out);
	return rc;
}

/* limit_store_refund - give reservations back; one hash tag per call */
int
limit_store_refund(struct redis_pool *p, long long now_us,
		   const struct limit_refund_item *items, size_t n,
		   const char **err)
{
	const char **keys, **args;
	char **nums, now[24];
	redisReply *r;
	int rc = -1;

	if (n == 0)
		return 0;
	if (n > (REDIS_MAX_SCRIPT_ARGS - 1) / 4) {
		*err = "too many keys to refund at once";
		return -1;
	}
	keys = xcalloc(n, sizeof(*keys));
	args = xcalloc(1 + 3 * n, sizeof(*args));
	nums = xcalloc(2 * n, sizeof(*nums));
	snprintf(now, sizeof(now), "%lld", now_us);
	args[0] = now;
	for (size_t i = 0; i < n; i++) {
		keys[i] = items[i].key;
		args[1 + 3 * i] = items[i].type == LIMIT_TYPE_QUOTA ? "q" : "r";
		args[2 + 3 * i] = nums[2 * i] = xasprintf("%lld", items[i].amount);
		args[3 + 3 * i] = nums[2 * i + 1] = xasprintf("%lld", items[i].interval_us);
	}
	pthread_once(&ls_once, ls_init);
	r = redis_evalsha(p, limit_refund_lua, ls_refund_sha, (int)n, keys,
			  (int)(1 + 3 * n), args, err);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARNING, NULL, "limit: redis %s: %.200s",
			redis_pool_server(p), r->str ? r->str : "?");
		*err = "Redis refused the refund script";
	} else if (r != NULL && r->type != REDIS_REPLY_INTEGER) {
		*err = "unexpected reply to the refund script";
	} else if (r != NULL) {
		*err = NULL;
		rc = 0;
	}
	if (r != NULL)
		freeReplyObject(r);
	for (size_t i = 0; i < 2 * n; i++)
		free(nums[i]);
	free(nums);
	free(keys);
	free(args);
	return rc;
}

/* limit_store_settle - confirm or refund reservations by id; see limit_store.h */
int
limit_store_settle(struct redis_pool *p, const char *prefix, const char *keyval,
		   long long now_us, long long ttl_us, enum limit_settle_op op,
		   const char *const *ids, size_t n, long long *done,
		   long long *missing, const char **err)
{
	const char *keys[2], **args;
	char *owned[2], now[24], ttl[24];
	redisReply *r;
	int rc = -1;

	*done = *missing = 0;
	*err = NULL;
	if (n == 0)
		return 0;
	if (n > REDIS_MAX_SCRIPT_ARGS - 5) {
		*err = "too many reservations to settle at once";
		return -1;
	}
	keys[0] = owned[0] = limit_store_journal_key(prefix, keyval, false);
	keys[1] = owned[1] = limit_store_journal_key(prefix, keyval, true);
	args = xcalloc(3 + n, sizeof(*args));
	snprintf(now, sizeof(now), "%lld", now_us);
	snprintf(ttl, sizeof(ttl), "%lld", ttl_us > 0 ? ttl_us : 0);
	args[0] = now;
	args[1] = ttl;
	args[2] = op == LIMIT_SETTLE_CONFIRM ? "c" : "x";
	for (size_t i = 0; i < n; i++)
		args[3 + i] = ids[i];
	pthread_once(&ls_once, ls_init);
	r = redis_evalsha(p, limit_settle_lua, ls_settle_sha, 2, keys, (int)(3 + n),
			  args, err);
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		log_msg(LOG_WARNING, NULL, "limit: redis %s: %.200s",
			redis_pool_server(p), r->str ? r->str : "?");
		*err = "Redis refused the settle script";
	} else if (r != NULL && (r->type != REDIS_REPLY_ARRAY || r->elements != 2
				 || !ls_int(r, 0, done) || !ls_int(r, 1, missing))) {
		*err = "unexpected reply to the settle script";
	} else if (r != NULL) {
		*err = NULL;
		rc = 0;
	}
	if (r != NULL)
		freeReplyObject(r);
	free(owned[0]);
	free(owned[1]);
	free(args);
	return rc;
}

/* limit_store_resv_id - a fresh reservation id: 128 random bits in hex */
void
limit_store_resv_id(char out[LIMIT_RESV_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[LIMIT_RESV_ID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t k = getrandom(b + got, sizeof(b) - got, 0);

		if (k > 0)
			got += (size_t)k;
		else if (k < 0 && errno != EINTR)
			abort();	/* no kernel randomness: nothing sane to do */
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[LIMIT_RESV_ID_LEN] = '\0';
}
