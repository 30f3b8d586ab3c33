/*++
 * NAME
 *	auth_record 3
 * SUMMARY
 *	count one aggregate-report row in Redis
 * DESCRIPTION
 *	See auth_record.h for the keys. The script runs atomically: the
 *	check of the day's row budget, the count and the expiry of every key
 *	it touches are one step, so no key is ever left without a TTL and
 *	two nodes counting at once cannot overrun max_rows.
 *--*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_record.h"
#include "log.h"
#include "xalloc.h"

static atomic_ulong ar_failures;	/* recordings Redis did not take */

/*
 * KEYS: rows hash, domains hash, nrows counter, dropped counter.
 * ARGV: row, policy domain, policy text, ttl seconds, max rows.
 * Returns 1 counted, 0 dropped (the day already has max rows).
 */
static const char ar_store_lua[] =
"-- postmill-auth dmarc record v1\n"
"local ttl = tonumber(ARGV[4])\n"
"if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then\n"
"  local n = tonumber(redis.call('GET', KEYS[3]) or '0')\n"
"  if n >= tonumber(ARGV[5]) then\n"
"    redis.call('INCR', KEYS[4])\n"
"    redis.call('EXPIRE', KEYS[4], ttl)\n"
"    return 0\n"
"  end\n"
"  redis.call('INCR', KEYS[3])\n"
"  redis.call('EXPIRE', KEYS[3], ttl)\n"
"end\n"
"redis.call('HINCRBY', KEYS[1], ARGV[1], 1)\n"
"redis.call('EXPIRE', KEYS[1], ttl)\n"
"redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n"
"redis.call('EXPIRE', KEYS[2], ttl)\n"
"return 1\n";

static char ar_store_sha[41];
static pthread_once_t ar_store_once = PTHREAD_ONCE_INIT;

/* ar_store_init - the script's SHA-1 name, once */
static void
ar_store_init(void)
{
	redis_script_sha1(ar_store_lua, ar_store_sha);
}

/* auth_record_store_script - the Lua source */
const char *
auth_record_store_script(void)
{
	return ar_store_lua;
}

/* auth_record_store - see auth_record.h */
int
auth_record_store(struct redis_pool *pool, const struct auth_record_store_conf *conf,
		  const struct auth_record_row *row, const struct auth_record_policy *pol,
		  time_t now, const char **why)
{
	char day[9], rowtext[AUTH_RECORD_ROW_MAX], poltext[AUTH_RECORD_POLICY_MAX];
	char ttl[24], max[24], *suffix;
	const char *keys[4], *args[5];
	redisReply *r;
	int rc = -1;

	pthread_once(&ar_store_once, ar_store_init);
	if (auth_record_row_format(row, rowtext, sizeof(rowtext)) < 0
	    || auth_record_policy_format(pol, poltext, sizeof(poltext)) < 0) {
		*why = "row too long";
		return -1;
	}
	auth_record_day(now, day);
	suffix = xasprintf("rows:%s", pol->domain);
	keys[0] = redis_key(conf->prefix, day, suffix);
	keys[1] = redis_key(conf->prefix, day, "domains");
	keys[2] = redis_key(conf->prefix, day, "nrows");
	keys[3] = redis_key(conf->prefix, day, "dropped");
	snprintf(ttl, sizeof(ttl), "%ld", conf->retention_s);
	snprintf(max, sizeof(max), "%lld", conf->max_rows);
	args[0] = rowtext;
	args[1] = pol->domain;
	args[2] = poltext;
	args[3] = ttl;
	args[4] = max;
	r = redis_evalsha(pool, ar_store_lua, ar_store_sha, 4, keys, 5, args, why);
	if (r != NULL) {
		if (r->type == REDIS_REPLY_INTEGER) {
			rc = r->integer == 1 ? 1 : 0;
			*why = NULL;
		} else {
			*why = r->type == REDIS_REPLY_ERROR ? "error reply" : "unexpected reply";
		}
		freeReplyObject(r);
	}
	for (int i = 0; i < 4; i++)
		free((char *)keys[i]);
	free(suffix);
	return rc;
}

/* auth_record_message - see auth_record.h */
void
auth_record_message(struct redis_pool *pool, const struct auth_record_store_conf *conf,
		    const struct auth_record_in *in, time_t now, const char *qid)
{
	struct auth_record_row row;
	struct auth_record_policy pol;
	const char *why = NULL;
	unsigned long n;
	int rc;

	if (!auth_record_build(in, &row, &pol))
		return;
	if ((rc = auth_record_store(pool, conf, &row, &pol, now, &why)) > 0)
		return;
	if (rc == 0) {
		if (log_debug_level() > 0)
			log_msg(LOG_DEBUG, qid, "auth: report: not counted: the day "
				"has auth_report_max_rows rows");
		return;
	}
	n = atomic_fetch_add(&ar_failures, 1) + 1;
	if (why != NULL && strcmp(why, "backing off") == 0) {
		if (log_debug_level() > 0)
			log_msg(LOG_DEBUG, qid, "auth: report: not recorded: redis "
				"backing off (%lu failures)", n);
		return;
	}
	log_msg(LOG_WARNING, qid, "auth: report: not recorded: redis %s: %s "
		"(%lu failures since start; mail is not affected)",
		redis_pool_server(pool), why ? why : "?", n);
}
