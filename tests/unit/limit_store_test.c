/*++
 * NAME
 *	limit_store_test 1
 * SUMMARY
 *	unit tests of the Redis side of postmill-limit against a real
 *	redis-server (milters/limit/limit_store.c, limit_txn.c)
 * DESCRIPTION
 *	The group setup starts two redis-servers with redis_fixture.c on
 *	127.0.0.1 and free ports: "main", and "victim", which the failure
 *	tests stop and freeze (SIGSTOP). The clock is an argument of every
 *	call, so the tests choose "now" and the results are exact:
 *	- quotas: N pass, the next is refused with the window's end as the
 *	  wait; the counter expires at the window's end (PTTL); a new window
 *	  starts from zero; the key names carry one hash tag per key value;
 *	- atomicity: when one limit of a call refuses, no limit counts;
 *	- GCRA: burst, then one per emission interval; the wait it returns
 *	  is the exact time until the next one passes;
 *	- overrides: a count, unlimited, exempt, a rate, garbage (ignored),
 *	  each applying to the very next call;
 *	- a look without counting writes nothing;
 *	- refunds: quotas back to zero (and no counter created for a window
 *	  that ended), rates only by what has not drained;
 *	- transactions (limit_txn): two key values where the second refuses:
 *	  the first is refunded at once; an abort refunds everything; a
 *	  commit keeps the counts;
 *	- the message reserved with its first accepted recipient, a table of
 *	  transactions (rm_cases): one script call per RCPT and key value
 *	  whatever the rules (INFO commandstats), one settle call at the end;
 *	  a message over its limit refuses the first RCPT and counts nothing;
 *	  the message counted once for several recipients, not at all when
 *	  every recipient was refused, kept when a later one is refused,
 *	  refunded with the recipients by an abort; a key value with message
 *	  rules only is checked at RCPT;
 *	- a confirmation whose reply timed out (Redis frozen): the commit
 *	  accepts, Redis confirms when it resumes; one never sent fails and
 *	  the refund gives everything back;
 *	- NOSCRIPT after SCRIPT FLUSH;
 *	- exactness under concurrency: 8 threads with their own pools (as
 *	  separate milter processes would be) race 400 attempts at a quota
 *	  of 100: exactly 100 pass, and the counter says 100;
 *	- reservations by id (scripts v3): a retried id counts nothing; a
 *	  refund sent twice gives back once (quota and rate), also after a
 *	  confirmation; a refund that comes before its check makes the check
 *	  count nothing; a reservation never confirmed stops counting after
 *	  its ttl (time moved through the scripts' now argument), a confirmed
 *	  one stays, and one confirmed after its ttl is reported as expired;
 *	- a check whose reply timed out (Redis frozen, then thawed): Redis
 *	  runs it when it resumes, and the transaction's refund, or the
 *	  process's deferred refund when that failed, takes it back exactly
 *	  once; a second refund after the ttl changes nothing;
 *	- the bytes written: a rate's state, a quota's counter, the journal
 *	  record (pending, confirmed) and its expiry score, exactly;
 *	- a stopped and a frozen Redis: the error, its time bound, and the
 *	  verdict under both values of limit_on_redis_error.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errlist.h"
#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "xalloc.h"
#include "../../milters/limit/limit_conf.h"
#include "../../milters/limit/limit_store.h"
#include "../../milters/limit/limit_txn.h"

#define SLACK_MS	150
#define T_CONNECT_MS	300
#define T_COMMAND_MS	200
#define TTL_US		(600LL * 1000000)	/* limit_reservation_ttl */

static struct redis_fixture rf_main, rf_victim;
static bool have_redis;
static char fixture_err[256];

#define NEED_REDIS() do { \
	if (!have_redis) { \
		fprintf(stderr, "    redis-server not available: %s\n", fixture_err); \
		skip(); \
	} \
} while (0)

/* now_us - the wall clock, as the milter reads it */
static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* pool_for - a pool with the tests' timeouts */
static struct redis_pool *
pool_for(const char *server)
{
	struct redis_conf c;
	const char *why;
	struct redis_pool *p;

	memset(&c, 0, sizeof(c));
	c.server = server;
	c.connect_timeout_ms = T_CONNECT_MS;
	c.command_timeout_ms = T_COMMAND_MS;
	c.backoff_min_ms = 100;
	c.backoff_max_ms = 400;
	if ((p = redis_pool_new(&c, &why)) == NULL)
		fail_msg("redis_pool_new: %s", why);
	return p;
}

/* cmd - a command that must work; its reply as text ("(nil)", integers) */
static char *
cmd(struct redis_pool *p, const char *fmt, ...)
{
	const char *err = NULL;
	redisReply *r;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	r = redis_vcommand(p, &err, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("%s: %s", fmt, err);
	s = redis_fixture_reply_text(r);
	freeReplyObject(r);
	return s;
}

/* cmd_int - an integer (or integer text) reply */
static long long
cmd_int(struct redis_pool *p, const char *fmt, const char *arg)
{
	char *s = cmd(p, fmt, arg);
	long long v = strcmp(s, "(nil)") == 0 ? -999 : atoll(s);

	free(s);
	return v;
}

/* same_reply - a reply (from cmd()) against the text it must be; frees both */
static void
same_reply(const char *what, char *got, char *want)
{
	if (strcmp(got, want) != 0)
		tcase_bad(what, "got \"%s\", want \"%s\"", got, want);
	free(got);
	free(want);
}

/* rules - parsed rules or a failed test */
static struct limit_rules *
rules(const char *text)
{
	struct errlist el = ERRLIST_INIT;
	struct limit_rules *r = limit_rules_parse(text, strlen(text), "t", &el);

	if (r == NULL) {
		char *e = errlist_join(&el);

		fail_msg("rules: %s", e);
	}
	return r;
}

/* key_of - the Redis key of limit j of rule i for key value kv at now_us t */
static char *
key_of(const struct limit_rules *r, size_t i, size_t j, const char *prefix,
       const char *kv, long long t)
{
	return limit_store_limit_key(prefix, kv, &r->rules[i], &r->rules[i].limits[j],
				     t / 1000, 0, NULL);
}

/* plan_for - the plan of a message from login/ip */
static void
plan_for(const struct limit_rules *r, const char *login, const char *ip,
	 struct limit_plan *plan)
{
	struct limit_facts f;
	unsigned char a[16];

	memset(&f, 0, sizeof(f));
	if (login)
		f.login = xstrdup(login);
	if (ip && inet_pton(AF_INET, ip, a) == 1)
		limit_facts_set_ip(&f, AF_INET, a);
	limit_plan_build(r, &f, plan);
	limit_facts_free(&f);
}

/* check - one limit_store_check(); -1 on a Redis error */
static int
check(struct redis_pool *p, const char *prefix, const struct limit_call *c,
      enum limit_what what, long long now, bool commit, struct limit_result *out)
{
	struct limit_check_req req = {prefix, c, {0, 0}, commit, now, 0, NULL, 0};
	const char *err = NULL;
	int rc;

	req.cost[what] = 1;
	rc = limit_store_check(p, &req, out, &err);

	if (rc < 0)
		fprintf(stderr, "    check: %s\n", err);
	return rc;
}

/* next_hour - the start of the next hour (UTC), microseconds */
static long long
next_hour_us(void)
{
	long long h = 3600LL * 1000000;

	return (now_us() / h + 1) * h;
}

/* test_quota - N pass, then refusals until the window ends */
static void
test_quota(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t = next_hour_us() + 5 * 60 * 1000000LL;	/* hh:05 next hour */
	char *key, *s;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("q sasl messages quota=3/hour\n");
	plan_for(r, "alice", NULL, &plan);
	for (int i = 1; i <= 5; i++) {
		struct limit_result res;

		assert_int_equal(check(p, "t1:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
				       t + i, true, &res), 0);
		assert_int_equal(res.n, 1);
		if (i <= 3) {
			if (res.status != LIMIT_ST_COUNTED || res.u[0].used != i
			    || res.u[0].limit != 3 || res.u[0].amount != 1)
				tcase_bad("within", "attempt %d: got status %d used %lld/%lld",
					  i, res.status, res.u[0].used, res.u[0].limit);
		} else if (res.status != LIMIT_ST_REFUSED || !res.u[0].over
			   || res.u[0].used != 3 || res.u[0].amount != 0
			   /* 55 minutes to the end of the window */
			   || res.u[0].retry_ms != 55 * 60 * 1000LL) {
			tcase_bad("over", "attempt %d: got status %d used %lld retry %lld",
				  i, res.status, res.u[0].used, res.u[0].retry_ms);
		}
		if (i == 1) {
			/* the key: prefix, one hash tag, rule, what, window, window id */
			if (strncmp(res.u[0].key, "t1:{sasl:alice}:q:messages:hour:", 32) != 0)
				tcase_bad("key", "got \"%s\"", res.u[0].key);
		}
		limit_result_free(&res);
	}
	/* the counter expires when the window ends: at most an hour from now */
	key = key_of(r, 0, 0, "t1:", "sasl:alice", t);
	s = cmd(p, "GET %s", key);
	assert_string_equal(s, "3");
	free(s);
	{
		long long pttl = cmd_int(p, "PTTL %s", key);
		long long want = (t / 3600000000LL + 1) * 3600000LL - now_us() / 1000;

		if (pttl < want - 2000 || pttl > want + 10)
			tcase_bad("pttl", "got %lld, want about %lld", pttl, want);
	}
	free(key);
	/* the next window starts afresh */
	{
		struct limit_result res;

		assert_int_equal(check(p, "t1:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
				       t + 3600LL * 1000000, true, &res), 0);
		if (res.status != LIMIT_ST_COUNTED || res.u[0].used != 1)
			tcase_bad("next window", "got status %d used %lld", res.status,
				  res.u[0].used);
		limit_result_free(&res);
	}
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* test_atomic - one limit refuses: nothing counts anywhere */
static void
test_atomic(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t = next_hour_us() + 1000;
	int passed = 0;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("a sasl recipients quota=10/day quota=2/hour\n"
		  "b sasl recipients quota=5/1000d\n");
	plan_for(r, "bob", NULL, &plan);
	assert_int_equal(plan.ncalls, 1);
	for (int i = 0; i < 6; i++) {
		struct limit_result res;

		assert_int_equal(check(p, "t2:", &plan.calls[0], LIMIT_WHAT_RECIPIENTS,
				       t + i, true, &res), 0);
		assert_int_equal(res.n, 3);
		if (res.status == LIMIT_ST_COUNTED)
			passed++;
		else if (!res.u[1].over || res.u[0].over || res.u[2].over
			 || res.u[0].used != 2 || res.u[2].used != 2)
			tcase_bad("refused", "got over %d%d%d used %lld %lld %lld",
				  res.u[0].over, res.u[1].over, res.u[2].over,
				  res.u[0].used, res.u[1].used, res.u[2].used);
		limit_result_free(&res);
	}
	if (passed != 2)
		tcase_bad("passed", "got %d, want 2", passed);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* test_gcra - burst, then one per interval, exact waits */
static void
test_gcra(void **state)
{
	static const struct {
		long long at_ms;	/* after t0 */
		bool pass;
		long long retry_ms;	/* when refused */
	} steps[] = {
		/* rate=10/1s: one per 100 ms; burst 3 */
		{0, true, 0}, {0, true, 0}, {0, true, 0}, {0, false, 100},
		{50, false, 50}, {100, true, 0}, {100, false, 100},
		{250, true, 0}, {260, false, 40},
		/* a quiet second: the whole burst again */
		{1500, true, 0}, {1500, true, 0}, {1500, true, 0}, {1500, false, 100},
	};
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t0 = now_us();

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("g sasl messages rate=10/1s burst=3\n");
	plan_for(r, "carol", NULL, &plan);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct limit_result res;
		char name[32];

		snprintf(name, sizeof(name), "step %zu (+%lldms)", i, steps[i].at_ms);
		assert_int_equal(check(p, "t3:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
				       t0 + steps[i].at_ms * 1000, true, &res), 0);
		if ((res.status == LIMIT_ST_COUNTED) != steps[i].pass)
			tcase_bad(name, "got %s, want %s", res.status == LIMIT_ST_COUNTED ?
				  "pass" : "refused", steps[i].pass ? "pass" : "refused");
		else if (!steps[i].pass && res.u[0].retry_ms != steps[i].retry_ms)
			tcase_bad(name, "got retry %lld ms, want %lld", res.u[0].retry_ms,
				  steps[i].retry_ms);
		else if (steps[i].pass && (res.u[0].amount != 100000 || res.u[0].end_us == 0))
			tcase_bad(name, "got amount %lld end %lld", res.u[0].amount,
				  res.u[0].end_us);
		limit_result_free(&res);
	}
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* test_overrides - take effect on the very next call */
static void
test_overrides(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t = now_us();
	char *ok, *s;
	struct limit_result res;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("o sasl messages quota=1/1000d\n"
		  "g sasl messages rate=1/1h burst=1\n");
	plan_for(r, "dave", NULL, &plan);
	ok = limit_store_override_key("t4:", "sasl:dave");
	assert_string_equal(ok, "t4:{sasl:dave}:override");
	s = limit_store_field(&r->rules[0], &r->rules[0].limits[0]);
	assert_string_equal(s, "o:1000d");
	free(s);

	/* defaults: one passes, the second is refused */
	assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES, t, true, &res), 0);
	assert_int_equal(res.status, LIMIT_ST_COUNTED);
	limit_result_free(&res);
	assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES, t + 1, true, &res), 0);
	assert_int_equal(res.status, LIMIT_ST_REFUSED);
	assert_true(res.u[0].over && res.u[1].over);
	limit_result_free(&res);

	/* raise the quota, make the rate unlimited: passes at once */
	free(cmd(p, "HSET %s o:1000d 3 g:rate -1", ok));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
				       t + 2 + i, true, &res), 0);
		if (res.status != (i < 2 ? LIMIT_ST_COUNTED : LIMIT_ST_REFUSED)
		    || res.u[0].limit != 3 || res.u[1].limit != -1)
			tcase_bad("raised", "attempt %d: got status %d limits %lld %lld", i,
				  res.status, res.u[0].limit, res.u[1].limit);
		limit_result_free(&res);
	}
	/* unlimited quota, a rate of 1000/s with burst 2 */
	free(cmd(p, "HSET %s o:1000d -1 g:rate %s", ok, "1000 1000 2"));
	assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES, t + 10, true, &res), 0);
	if (res.status != LIMIT_ST_COUNTED || res.u[0].limit != -1 || res.u[1].limit != 2
	    || res.u[1].amount != 1000)
		tcase_bad("rate override", "got status %d limits %lld %lld amount %lld",
			  res.status, res.u[0].limit, res.u[1].limit, res.u[1].amount);
	limit_result_free(&res);
	/* garbage is ignored: the configured values apply */
	free(cmd(p, "HSET %s o:1000d lots g:rate %s", ok, "1 2"));
	assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES, t + 20, false, &res), 0);
	if (res.u[0].limit != 1 || res.u[1].limit != 1)
		tcase_bad("garbage", "got limits %lld %lld, want 1 1", res.u[0].limit,
			  res.u[1].limit);
	limit_result_free(&res);
	/* exempt: nothing counted, nothing refused */
	free(cmd(p, "HSET %s exempt 1", ok));
	assert_int_equal(check(p, "t4:", &plan.calls[0], LIMIT_WHAT_MESSAGES, t + 30, true, &res), 0);
	if (res.status != LIMIT_ST_EXEMPT || res.u[0].amount != 0)
		tcase_bad("exempt", "got status %d", res.status);
	limit_result_free(&res);
	free(ok);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/*
 * test_rate_override_bucket - what an override of a rate does to a bucket
 * in use: a new interval starts it empty (a burst at the new rate passes
 * at once, however recent the earlier messages), a new burst alone keeps
 * it. Every row is exact: the clock is an argument.
 */
static void
test_rate_override_bucket(void **state)
{
	static const struct {
		const char *name;
		const char *override;	/* g:rate field; "" removes it; NULL keeps */
		long long at_us;	/* after t0 */
		int n;			/* attempts at that instant */
		int want_pass;		/* how many of them pass */
		long long retry_ms;	/* the wait of the first refused one */
	} steps[] = {
		/* configured 100/1s burst 100: 5 at once, then the override at the same instant */
		{"config: 5 at once", NULL, 0, 5, 5, 0},
		/* 50 ms of debt at 100/s: half a day at 1/1d if carried over */
		{"1/1d burst 1: the burst of 1 passes", "1 86400000 1", 0, 2, 1, 86400000},
		{"1/1d burst 1: a second later still refused", NULL, 1000000, 1, 0, 86399000},
		/* same interval, another burst: the bucket (1 message) is kept */
		{"1/1d burst 3: 2 more fit", "1 86400000 3", 2000000, 3, 2, 86398000},
		/* back to the configuration: a new interval again, 100 pass */
		{"override removed: a fresh configured burst", "", 3000000, 101, 100, 10},
	};
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t0 = now_us();
	char *ok;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("g sasl messages rate=100/1s burst=100\n");
	plan_for(r, "gina", NULL, &plan);
	ok = limit_store_override_key("t12:", "sasl:gina");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int passed = 0;
		long long retry = -1;

		if (steps[i].override != NULL && *steps[i].override != '\0')
			free(cmd(p, "HSET %s g:rate %s", ok, steps[i].override));
		else if (steps[i].override != NULL)
			free(cmd(p, "HDEL %s g:rate", ok));
		for (int k = 0; k < steps[i].n; k++) {
			struct limit_result res;

			assert_int_equal(check(p, "t12:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
					       t0 + steps[i].at_us, true, &res), 0);
			if (res.status == LIMIT_ST_COUNTED)
				passed++;
			else if (retry < 0)
				retry = res.u[0].retry_ms;
			limit_result_free(&res);
		}
		if (passed != steps[i].want_pass)
			tcase_bad(steps[i].name, "got %d passed, want %d", passed,
				  steps[i].want_pass);
		else if (passed < steps[i].n && retry != steps[i].retry_ms)
			tcase_bad(steps[i].name, "got retry %lld ms, want %lld", retry,
				  steps[i].retry_ms);
	}
	free(ok);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* test_peek - a look counts nothing */
static void
test_peek(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	struct limit_result res;
	long long t = now_us();
	char *s;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("q sasl messages quota=1/1000d rate=1/s\n");
	plan_for(r, "erin", NULL, &plan);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(check(p, "t5:", &plan.calls[0], LIMIT_WHAT_MESSAGES,
				       t, false, &res), 0);
		assert_int_equal(res.status, LIMIT_ST_COUNTED);
		assert_int_equal(res.u[0].used, 0);
		assert_false(res.u[0].over);
		limit_result_free(&res);
	}
	s = cmd(p, "KEYS %s", "t5:*");
	assert_string_equal(s, "[0]");
	free(s);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
}

/* test_refund_store - quotas back, rates by what has not drained */
static void
test_refund_store(void **state)
{
	struct limit_refund_item items[3];
	struct redis_pool *p;
	const char *err;
	long long t = now_us();
	char *s;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	free(cmd(p, "SET t6:{x}:q 5 PX 100000"));
	free(cmd(p, "SET t6:{x}:q2 1 PX 100000"));
	{
		char *v = xasprintf("%lld 500000", t + 3000000);

		free(cmd(p, "SET t6:{x}:r %s PX 100000", v));
		free(v);
	}
	items[0] = (struct limit_refund_item){"t6:{x}:q", LIMIT_TYPE_QUOTA, 2, 0};
	items[1] = (struct limit_refund_item){"t6:{x}:q2", LIMIT_TYPE_QUOTA, 1, 0};
	/*
	 * counted at an interval of 1 s, the state is at 0.5 s now: an
	 * override started the bucket afresh since, the reservation is not
	 * in it and nothing goes back
	 */
	items[2] = (struct limit_refund_item){"t6:{x}:r", LIMIT_TYPE_RATE, 2000000, 1000000};
	assert_int_equal(limit_store_refund(p, t, items, 3, &err), 0);
	s = cmd(p, "GET t6:{x}:q");
	assert_string_equal(s, "3");
	free(s);
	s = cmd(p, "EXISTS t6:{x}:q2");		/* at zero: deleted */
	assert_string_equal(s, "0");
	free(s);
	s = cmd(p, "GET t6:{x}:r");
	{
		char *want = xasprintf("%lld 500000", t + 3000000);

		assert_string_equal(s, want);
		free(want);
	}
	free(s);
	/* counted at its own interval (0.5 s): 1 s of it goes back */
	items[0] = (struct limit_refund_item){"t6:{x}:r", LIMIT_TYPE_RATE, 1000000, 500000};
	assert_int_equal(limit_store_refund(p, t, items, 1, &err), 0);
	s = cmd(p, "GET t6:{x}:r");
	{
		char *want = xasprintf("%lld 500000", t + 2000000);

		assert_string_equal(s, want);
		free(want);
	}
	free(s);
	/* the TTL survives a quota refund */
	assert_true(cmd_int(p, "PTTL %s", "t6:{x}:q") > 90000);
	/* a window that ended: no counter is created */
	items[0] = (struct limit_refund_item){"t6:{x}:gone", LIMIT_TYPE_QUOTA, 1, 0};
	assert_int_equal(limit_store_refund(p, t, items, 1, &err), 0);
	s = cmd(p, "EXISTS t6:{x}:gone");
	assert_string_equal(s, "0");
	free(s);
	/* a rate refunded past now: deleted */
	items[0] = (struct limit_refund_item){"t6:{x}:r", LIMIT_TYPE_RATE, 5000000, 500000};
	assert_int_equal(limit_store_refund(p, t, items, 1, &err), 0);
	s = cmd(p, "EXISTS t6:{x}:r");
	assert_string_equal(s, "0");
	free(s);
	redis_pool_free(p);
}

/* test_txn - stages over two key values; refunds; commit */
static void
test_txn(void **state)
{
	struct limit_txn_opts o = {"t7:", 0, LIMIT_ON_ERROR_TEMPFAIL, TTL_US};
	struct limit_rules *r;
	struct limit_plan plan;
	struct limit_txn *txn;
	struct limit_outcome out;
	struct redis_pool *p;
	long long t = now_us(), rc, mc;
	const char *err;
	char *ka, *kb;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("a sasl recipients quota=10/1000d\n"
		  "b client_ip recipients quota=2/1000d\n"
		  "m sasl messages quota=1/1000d\n");
	ka = key_of(r, 0, 0, "t7:", "sasl:frank", t);
	kb = key_of(r, 1, 0, "t7:", "ip:192.0.2.9", t);

	/* three recipients: two pass, the third is refused by the ip rule */
	plan_for(r, "frank", "192.0.2.9", &plan);
	txn = limit_txn_new(&plan);
	for (int i = 0; i < 3; i++) {
		limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + i, &out);
		if (out.v.action != (i < 2 ? LIMIT_ACT_ACCEPT : LIMIT_ACT_TEMPFAIL))
			tcase_bad("rcpt", "%d: got %s", i, limit_action_name(out.v.action));
		if (i == 2 && (strcmp(out.keyval, "ip:192.0.2.9") != 0 || !out.have_usage
			       || out.u.used != 2 || out.redis_calls != 3))
			tcase_bad("rcpt 3", "got key %s used %lld calls %u", out.keyval,
				  out.u.used, out.redis_calls);
	}
	/* the sasl count of the refused recipient was given back at once */
	assert_int_equal(cmd_int(p, "GET %s", ka), 2);
	assert_int_equal(cmd_int(p, "GET %s", kb), 2);
	limit_txn_reserved(txn, &rc, &mc);
	assert_int_equal(rc, 2);
	/* the first recipient reserved the message too (rule m) */
	assert_int_equal(mc, 1);
	/* an abort gives both recipients and the message back */
	assert_int_equal(limit_txn_refund(txn, p, t + 10, &rc, &mc, &err), 0);
	assert_int_equal(rc, 2);
	assert_int_equal(mc, 1);
	assert_int_equal(cmd_int(p, "EXISTS %s", ka), 0);
	assert_int_equal(cmd_int(p, "EXISTS %s", kb), 0);
	txn = limit_txn_free(txn);

	/* a message: its recipient and the message limit in one stage; end
	 * of message has nothing left to check; commit keeps it */
	plan_for(r, "frank", "192.0.2.9", &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 20, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	assert_true(out.have_usage);
	assert_string_equal(out.u.rule->name, "m");	/* 1/1: the tightest */
	assert_false(limit_txn_due(txn, LIMIT_WHAT_MESSAGES));
	limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, t + 21, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	assert_int_equal(out.redis_calls, 0);
	{
		long long expired = -1;

		assert_int_equal(limit_txn_commit(txn, p, t + 21, &expired, &err), 0);
		assert_int_equal(expired, 0);
	}
	assert_int_equal(limit_txn_refund(txn, p, t + 22, &rc, &mc, &err), 0);
	assert_int_equal(rc + mc, 0);
	txn = limit_txn_free(txn);
	assert_int_equal(cmd_int(p, "GET %s", ka), 1);

	/* the next message: its first recipient is refused by the message
	 * limit, and nothing of it counts */
	plan_for(r, "frank", "192.0.2.9", &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 30, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_TEMPFAIL);
	assert_true(out.have_usage);
	assert_string_equal(out.u.rule->name, "m");
	assert_int_equal(cmd_int(p, "GET %s", ka), 1);
	limit_txn_reserved(txn, &rc, &mc);
	assert_int_equal(rc + mc, 0);
	assert_int_equal(limit_txn_pending(txn), 0);
	txn = limit_txn_free(txn);
	free(ka);
	free(kb);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/*
 * The message is reserved with its first accepted recipient (limit_txn.h).
 * Rows: the rules (rule 0 and 1 are counted in the checks), the steps
 * ('r' RCPT, 'e' end of message's check, 'c' commit and 'x' refund, each
 * of these two followed by a new transaction), the verdict of each 'r'
 * and 'e' ('a' accept, 't' tempfail, 'j' reject), the script calls Redis
 * ran (INFO commandstats: EVALSHA + EVAL), the counters of limit 0 of
 * rules 0 and 1 after the steps (-1: not a quota, not looked at), what
 * the open transaction holds then, what the last refund gave back, and
 * the rule named by the last refusal.
 */
struct rm_case {
	const char	*name;
	const char	*rules;
	const char	*steps;
	const char	*want;
	long long	 calls;
	long long	 count[2];
	long long	 reserved[2];	/* recipients, messages */
	long long	 refunded[2];	/* recipients, messages; -1: no refund */
	const char	*refused_by;	/* or NULL */
};

#define RM_SASL_R	"r sasl recipients quota=10/1000d\n"
#define RM_SASL_M	"m sasl messages quota=10/1000d\n"

static const struct rm_case rm_cases[] = {
	{"benchmark rules: one call at RCPT, one settle at the end",
	 "r sasl recipients quota=1000000000/day\nm sasl messages rate=1000000/1s\n",
	 "rec", "aa", 2, {1, -1}, {0, 0}, {-1, -1}, NULL},
	{"two recipients count the message once", RM_SASL_R RM_SASL_M,
	 "rr", "aa", 2, {2, 1}, {2, 1}, {-1, -1}, NULL},
	{"a message over its limit refuses the first RCPT, counts nothing",
	 RM_SASL_R "m sasl messages quota=1/1000d\n",
	 "rcrr", "att", 4, {1, 1}, {0, 0}, {-1, -1}, "m"},
	{"a message rule with reject: 550 at RCPT",
	 RM_SASL_R "m sasl messages quota=1/1000d reject\n",
	 "rcr", "aj", 3, {1, 1}, {0, 0}, {-1, -1}, "m"},
	{"every recipient refused: the message is not counted",
	 RM_SASL_R RM_SASL_M "i client_ip recipients quota=1/1000d\n",
	 "rcrr", "att", 10, {1, 1}, {0, 0}, {-1, -1}, "i"},
	{"a later recipient refused: the message stays",
	 "r sasl recipients quota=2/1000d\n" RM_SASL_M,
	 "rrr", "aat", 3, {2, 1}, {2, 1}, {-1, -1}, "r"},
	{"an abort after an accepted RCPT refunds recipient and message",
	 RM_SASL_R RM_SASL_M, "rx", "a", 2, {0, 0}, {0, 0}, {1, 1}, NULL},
	{"an abort after two: both recipients, one message",
	 RM_SASL_R RM_SASL_M, "rrx", "aa", 3, {0, 0}, {0, 0}, {2, 1}, NULL},
	{"a key value with message rules only is checked at RCPT",
	 RM_SASL_R "m client_ip messages quota=10/1000d\n",
	 "rrec", "aaa", 5, {2, 1}, {0, 0}, {-1, -1}, NULL},
	{"message rules only: the first RCPT reserves, the end only confirms",
	 RM_SASL_M, "rrec", "aaa", 2, {1, -1}, {0, 0}, {-1, -1}, NULL},
	{"after an abort the message may come again",
	 RM_SASL_R "m sasl messages quota=1/1000d\n",
	 "rxrrc", "aaa", 5, {2, 1}, {0, 0}, {1, 1}, NULL},
};

/* script_calls - EVALSHA and EVAL calls Redis has run */
static long long
script_calls(struct redis_pool *p)
{
	char *s = cmd(p, "INFO commandstats");
	long long n = 0;

	for (const char *k = s; (k = strstr(k, "cmdstat_eval")) != NULL; k++) {
		const char *c = strstr(k, "calls=");

		if (c != NULL && (strncmp(k, "cmdstat_evalsha:", 16) == 0
				  || strncmp(k, "cmdstat_eval:", 13) == 0))
			n += atoll(c + 6);
	}
	free(s);
	return n;
}

/* rm_count - limit 0 of rule i's counter for the key value of its call */
static long long
rm_count(struct redis_pool *p, const struct limit_rules *r, size_t i,
	 const char *prefix, long long t)
{
	const char *kv = r->rules[i].kind == LIMIT_KEY_IP ? "ip:192.0.2.9" : "sasl:uma";
	char *k = key_of(r, i, 0, prefix, kv, t);
	long long v = cmd_int(p, "GET %s", k);

	free(k);
	return v == -999 ? 0 : v;
}

/* test_rcpt_reserves_message - every row of rm_cases */
static void
test_rcpt_reserves_message(void **state)
{
	NEED_REDIS();
	for (size_t ci = 0; ci < sizeof(rm_cases) / sizeof(rm_cases[0]); ci++) {
		const struct rm_case *c = &rm_cases[ci];
		char prefix[32], verdicts[16] = "", *rb = NULL;
		struct limit_txn_opts o = {prefix, 0, LIMIT_ON_ERROR_TEMPFAIL, TTL_US};
		struct redis_pool *p = pool_for(rf_main.server);
		struct limit_rules *r = rules(c->rules);
		struct limit_plan plan;
		struct limit_txn *txn;
		struct limit_outcome out;
		long long t = now_us(), calls, rc, mc, refunded[2] = {-1, -1};
		const char *err = NULL;
		size_t nv = 0;

		snprintf(prefix, sizeof(prefix), "t16%zu:", ci);
		/* the scripts are cached: no NOSCRIPT round trip in the count */
		free(cmd(p, "SCRIPT LOAD %s", limit_store_check_script()));
		free(cmd(p, "SCRIPT LOAD %s", limit_store_settle_script()));
		plan_for(r, "uma", "192.0.2.9", &plan);
		txn = limit_txn_new(&plan);
		calls = script_calls(p);
		for (const char *st = c->steps; *st != '\0'; st++, t += 10) {
			if (*st == 'r' || *st == 'e') {
				limit_txn_check(txn, p, &o, *st == 'r' ? LIMIT_WHAT_RECIPIENTS
						: LIMIT_WHAT_MESSAGES, t, &out);
				verdicts[nv++] = out.v.action == LIMIT_ACT_ACCEPT ? 'a'
				    : out.v.action == LIMIT_ACT_REJECT ? 'j' : 't';
				if (out.v.action != LIMIT_ACT_ACCEPT) {
					free(rb);
					rb = xstrdup(out.have_usage ? out.u.rule->name : "?");
				}
				continue;
			}
			if (*st == 'c') {
				long long expired;

				if (limit_txn_commit(txn, p, t, &expired, &err) < 0)
					tcase_bad(c->name, "commit: %s", err);
			} else if (limit_txn_refund(txn, p, t, &rc, &mc, &err) < 0) {
				tcase_bad(c->name, "refund: %s", err);
			} else {
				refunded[0] = rc;
				refunded[1] = mc;
			}
			limit_txn_free(txn);
			plan_for(r, "uma", "192.0.2.9", &plan);
			txn = limit_txn_new(&plan);
		}
		verdicts[nv] = '\0';
		calls = script_calls(p) - calls;
		if (strcmp(verdicts, c->want) != 0)
			tcase_bad(c->name, "verdicts %s, want %s", verdicts, c->want);
		if (calls != c->calls)
			tcase_bad(c->name, "%lld script calls, want %lld", calls, c->calls);
		for (size_t i = 0; i < 2; i++)
			if (c->count[i] >= 0 && i < r->nrules && rm_count(p, r, i, prefix, t) != c->count[i])
				tcase_bad(c->name, "rule %zu counts %lld, want %lld", i,
					  rm_count(p, r, i, prefix, t), c->count[i]);
		limit_txn_reserved(txn, &rc, &mc);
		if (rc != c->reserved[0] || mc != c->reserved[1])
			tcase_bad(c->name, "reserved %lld recipients %lld messages, want %lld %lld",
				  rc, mc, c->reserved[0], c->reserved[1]);
		if (refunded[0] != c->refunded[0] || refunded[1] != c->refunded[1])
			tcase_bad(c->name, "refunded %lld recipients %lld messages, want %lld %lld",
				  refunded[0], refunded[1], c->refunded[0], c->refunded[1]);
		if ((c->refused_by == NULL) != (rb == NULL)
		    || (rb != NULL && strcmp(rb, c->refused_by) != 0))
			tcase_bad(c->name, "refused by %s, want %s", rb ? rb : "none",
				  c->refused_by ? c->refused_by : "none");
		free(rb);
		limit_txn_free(txn);
		limit_rules_free(r);
		redis_pool_free(p);
	}
	tcase_done();
}

/* test_txn_rate_refund - a rate reservation given back while undrained */
static void
test_txn_rate_refund(void **state)
{
	struct limit_txn_opts o = {"t8:", 0, LIMIT_ON_ERROR_TEMPFAIL, TTL_US};
	struct limit_rules *r;
	struct limit_plan plan;
	struct limit_txn *txn;
	struct limit_outcome out;
	struct redis_pool *p;
	long long t = now_us(), rc, mc;
	const char *err;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("g sasl recipients rate=1/10s burst=2\n");
	plan_for(r, "gina", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t, &out);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 1, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 2, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_TEMPFAIL);
	/* 3 s later: the first reservation drained 3 of its 10 s; give back
	 * 7 + 10 s: the bucket holds nothing any more, two pass again */
	assert_int_equal(limit_txn_refund(txn, p, t + 3000000, &rc, &mc, &err), 0);
	assert_int_equal(rc, 2);
	txn = limit_txn_free(txn);
	plan_for(r, "gina", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 3000001, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 3000002, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 3000003, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_TEMPFAIL);
	txn = limit_txn_free(txn);
	limit_rules_free(r);
	redis_pool_free(p);
}

/* test_noscript - after SCRIPT FLUSH the call still works */
static void
test_noscript(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	struct limit_result res;
	char sha[41], *s;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("q sasl messages quota=5/1000d\n");
	plan_for(r, "hank", NULL, &plan);
	free(cmd(p, "SCRIPT FLUSH"));
	assert_int_equal(check(p, "t9:", &plan.calls[0], LIMIT_WHAT_MESSAGES, now_us(),
			       true, &res), 0);
	assert_int_equal(res.status, LIMIT_ST_COUNTED);
	limit_result_free(&res);
	redis_script_sha1(limit_store_check_script(), sha);
	s = cmd(p, "SCRIPT EXISTS %s", sha);
	assert_string_equal(s, "[1]");
	free(s);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
}

struct racer {
	const char	*server;
	const struct limit_call *call;
	int		 attempts;
	int		 passed;
};

/* racer_main - one "milter process": its own pool, many attempts */
static void *
racer_main(void *arg)
{
	struct racer *rc = arg;
	struct redis_pool *p = pool_for(rc->server);

	for (int i = 0; i < rc->attempts; i++) {
		char id[LIMIT_RESV_ID_LEN + 1];
		struct limit_check_req req = {"t10:", rc->call, {[LIMIT_WHAT_MESSAGES] = 1},
					      true, now_us(), 0, id, TTL_US};
		struct limit_result res;
		const char *err;

		limit_store_resv_id(id);
		if (limit_store_check(p, &req, &res, &err) == 0) {
			if (res.status == LIMIT_ST_COUNTED)
				rc->passed++;
			limit_result_free(&res);
		}
	}
	redis_pool_free(p);
	return NULL;
}

/* test_concurrency - 8 pools race 400 attempts at a quota of 100 */
static void
test_concurrency(void **state)
{
	struct racer racers[8];
	pthread_t tid[8];
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	int total = 0;
	char *key;

	NEED_REDIS();
	r = rules("x sasl messages quota=100/1000d quota=1000/day\n");
	plan_for(r, "ivan", NULL, &plan);
	for (int i = 0; i < 8; i++) {
		racers[i] = (struct racer){rf_main.server, &plan.calls[0], 50, 0};
		pthread_create(&tid[i], NULL, racer_main, &racers[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		total += racers[i].passed;
	}
	assert_int_equal(total, 100);
	p = pool_for(rf_main.server);
	key = key_of(r, 0, 0, "t10:", "sasl:ivan", now_us());
	assert_int_equal(cmd_int(p, "GET %s", key), 100);
	free(key);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
}

/* failure - a check against the victim: rc, error, elapsed ms */
static long long
failure(struct redis_pool *p, const struct limit_call *c, int *rc,
	const char **err)
{
	struct limit_check_req req = {"t11:", c, {[LIMIT_WHAT_MESSAGES] = 1}, true, now_us(), 0,
				      NULL, 0};
	struct limit_result res;
	long long t0 = tcase_now_ms();

	*rc = limit_store_check(p, &req, &res, err);
	if (*rc == 0)
		limit_result_free(&res);
	return tcase_now_ms() - t0;
}

/* test_redis_down - stopped and frozen: the error, its bound, the verdict */
static void
test_redis_down(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	const char *err = NULL;
	long long ms;
	int rc;
	char e[256];
	struct limit_verdict v;

	NEED_REDIS();
	r = rules("q sasl messages quota=5/1000d\n");
	plan_for(r, "judy", NULL, &plan);
	p = pool_for(rf_victim.server);
	ms = failure(p, &plan.calls[0], &rc, &err);
	assert_int_equal(rc, 0);

	/* frozen: the reply never comes; the command timeout bounds the wait */
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	ms = failure(p, &plan.calls[0], &rc, &err);
	if (rc != -1 || strcmp(err, "timeout") != 0 || ms < T_COMMAND_MS - 5
	    || ms > T_COMMAND_MS + SLACK_MS)
		tcase_bad("frozen", "got rc %d \"%s\" after %lld ms, want timeout after %d ms",
			  rc, err ? err : "", ms, T_COMMAND_MS);
	v = limit_decide(NULL, LIMIT_ON_ERROR_TEMPFAIL);
	assert_int_equal(v.action, LIMIT_ACT_TEMPFAIL);
	v = limit_decide(NULL, LIMIT_ON_ERROR_ACCEPT);
	assert_int_equal(v.action, LIMIT_ACT_ACCEPT);
	/* within the back-off: no wait at all */
	ms = failure(p, &plan.calls[0], &rc, &err);
	if (rc != -1 || strcmp(err, "backing off") != 0 || ms > 30)
		tcase_bad("backing off", "got rc %d \"%s\" after %lld ms", rc, err, ms);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);

	/* stopped: refused at once */
	redis_fixture_halt(&rf_victim);
	tcase_sleep_ms(450);		/* past the longest back-off */
	ms = failure(p, &plan.calls[0], &rc, &err);
	if (rc != -1 || ms > 50)
		tcase_bad("stopped", "got rc %d \"%s\" after %lld ms", rc, err ? err : "", ms);
	/* a transaction under on_redis_error=accept counts nothing, passes */
	{
		struct limit_txn_opts o = {"t11:", 0, LIMIT_ON_ERROR_ACCEPT, TTL_US};
		struct limit_plan p2;
		struct limit_txn *txn;
		struct limit_outcome out;

		plan_for(r, "judy", NULL, &p2);
		txn = limit_txn_new(&p2);
		limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, now_us(), &out);
		if (out.v.action != LIMIT_ACT_ACCEPT || out.v.reason != LIMIT_R_REDIS_ERROR
		    || out.error[0] == '\0')
			tcase_bad("txn accept", "got %s/%s \"%s\"", limit_action_name(out.v.action),
				  limit_reason_name(out.v.reason), out.error);
		/* the message passed that stage: a new transaction */
		limit_txn_free(txn);
		plan_for(r, "judy", NULL, &p2);
		txn = limit_txn_new(&p2);
		o.on_redis_error = LIMIT_ON_ERROR_TEMPFAIL;
		limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, now_us(), &out);
		if (out.v.action != LIMIT_ACT_TEMPFAIL || out.v.reason != LIMIT_R_REDIS_ERROR)
			tcase_bad("txn tempfail", "got %s/%s", limit_action_name(out.v.action),
				  limit_reason_name(out.v.reason));
		limit_txn_free(txn);
	}
	if (redis_fixture_restart(&rf_victim, e, sizeof(e)) < 0)
		fail_msg("%s", e);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* settle_one - limit_store_settle() of one id that must work */
static long long
settle_one(struct redis_pool *p, const char *prefix, const char *keyval, long long now,
	   long long ttl, enum limit_settle_op op, const char *id)
{
	long long done = -1, missing = -1;
	const char *err = NULL;

	if (limit_store_settle(p, prefix, keyval, now, ttl, op, &id, 1, &done, &missing,
			       &err) < 0)
		fail_msg("settle: %s", err);
	return done;
}

/* journaled - one journaled check of a message; its status, or -1 */
static int
journaled(struct redis_pool *p, const char *prefix, const struct limit_call *c,
	  long long now, long long ttl, const char *id, const char **err)
{
	struct limit_check_req req = {prefix, c, {[LIMIT_WHAT_MESSAGES] = 1}, true, now, 0,
				      id, ttl};
	struct limit_result res;
	int st;

	if (limit_store_check(p, &req, &res, err) < 0)
		return -1;
	st = (int)res.status;
	limit_result_free(&res);
	return st;
}

/*
 * test_settle_idempotent - a refund sent twice gives back once, for a
 * quota and a rate; a confirmed reservation refunded (a confirmation that
 * ran late after the milter answered 451) is given back once; a refund
 * that reaches Redis before its check makes the check count nothing
 */
static void
test_settle_idempotent(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t = now_us();
	char id[LIMIT_RESV_ID_LEN + 1], id2[LIMIT_RESV_ID_LEN + 1], *kq, *kr;
	const char *err = NULL;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("i sasl messages quota=5/1000d rate=1/1d burst=3\n");
	plan_for(r, "ivan", NULL, &plan);
	kq = key_of(r, 0, 0, "t12:", "sasl:ivan", t);
	kr = key_of(r, 0, 1, "t12:", "sasl:ivan", t);
	/* two messages: 2 counted, the bucket holds two days */
	limit_store_resv_id(id);
	limit_store_resv_id(id2);
	assert_int_equal(journaled(p, "t12:", &plan.calls[0], t, TTL_US, id, &err), LIMIT_ST_COUNTED);
	assert_int_equal(journaled(p, "t12:", &plan.calls[0], t + 1, TTL_US, id2, &err),
			 LIMIT_ST_COUNTED);
	assert_int_equal(cmd_int(p, "GET %s", kq), 2);
	/* the same id again (a retry): counts nothing */
	if (journaled(p, "t12:", &plan.calls[0], t + 2, TTL_US, id, &err) != -1
	    || strcmp(err, "reservation already settled") != 0)
		tcase_bad("retry", "got \"%s\", want reservation already settled", err ? err : "");
	assert_int_equal(cmd_int(p, "GET %s", kq), 2);
	/* refund id twice: once given back */
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 3, TTL_US, LIMIT_SETTLE_REFUND, id), 1);
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 4, TTL_US, LIMIT_SETTLE_REFUND, id), 0);
	assert_int_equal(cmd_int(p, "GET %s", kq), 1);
	{
		/* the rate: one day of TAT left (the second message's), not zero */
		char *v = cmd(p, "GET %s", kr);
		long long tat = atoll(v);

		if (tat < t + 86400000000LL - 10 || tat > t + 86400000000LL + 10)
			tcase_bad("rate refund once", "got TAT %s, want about now + 1d", v);
		free(v);
	}
	/* confirmed, then refunded twice (the milter answered 451 after a
	 * confirmation it thought failed): back once */
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 5, TTL_US, LIMIT_SETTLE_CONFIRM, id2), 1);
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 6, TTL_US, LIMIT_SETTLE_CONFIRM, id2), 1);
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 7, TTL_US, LIMIT_SETTLE_REFUND, id2), 1);
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 8, TTL_US, LIMIT_SETTLE_REFUND, id2), 0);
	assert_int_equal(cmd_int(p, "EXISTS %s", kq), 0);
	assert_int_equal(cmd_int(p, "EXISTS %s", kr), 0);
	/* a refund before its check (a check still queued in a frozen Redis) */
	limit_store_resv_id(id);
	assert_int_equal(settle_one(p, "t12:", "sasl:ivan", t + 9, TTL_US, LIMIT_SETTLE_REFUND, id), 1);
	if (journaled(p, "t12:", &plan.calls[0], t + 10, TTL_US, id, &err) != -1)
		tcase_bad("late check", "counted after its refund");
	assert_int_equal(cmd_int(p, "EXISTS %s", kq), 0);
	/* the journal shares the key value's hash tag */
	{
		char *j = limit_store_journal_key("t12:", "sasl:ivan", false);
		char *z = limit_store_journal_key("t12:", "sasl:ivan", true);

		assert_string_equal(j, "t12:{sasl:ivan}:resv");
		assert_string_equal(z, "t12:{sasl:ivan}:resvexp");
		free(j);
		free(z);
	}
	free(kq);
	free(kr);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/*
 * test_bytes - the exact bytes the scripts write (layout v3, which every
 * version of the scripts reads, so old and new milters can share one
 * Redis): a rate's state "tat t", a quota's counter, the journal record
 * as cjson writes it (pending, then confirmed) and its expiry score
 * now + ttl, all as "%.0f" would print them. The scripts write numbers
 * with '%d' where that prints the same digits (limit_store.c): a now
 * with 16 digits and odd last digits checks that nothing is rounded.
 */
static void
test_bytes(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	long long t = now_us() | 1;
	char id[LIMIT_RESV_ID_LEN + 1], *kq, *kr, *j, *z, *v;
	const char *err = NULL;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("b sasl messages quota=5/1000d rate=10/1s burst=3\n");
	plan_for(r, "bea", NULL, &plan);
	kq = key_of(r, 0, 0, "t15:", "sasl:bea", t);
	kr = key_of(r, 0, 1, "t15:", "sasl:bea", t);
	j = limit_store_journal_key("t15:", "sasl:bea", false);
	z = limit_store_journal_key("t15:", "sasl:bea", true);
	limit_store_resv_id(id);
	assert_int_equal(journaled(p, "t15:", &plan.calls[0], t, TTL_US, id, &err), LIMIT_ST_COUNTED);
	/* 10/s: the emission interval is 100000 us, one message sets tat to t + t */
	same_reply("rate state", cmd(p, "GET %s", kr),
		   xasprintf("%lld 100000", t + 100000));
	v = cmd(p, "GET %s", kq);
	if (strcmp(v, "1") != 0)
		tcase_bad("quota counter", "got \"%s\", want \"1\"", v);
	free(v);
	same_reply("pending record", cmd(p, "HGET %s %s", j, id),
		   xasprintf("{\"s\":\"p\",\"i\":[[\"%s\",\"q\",\"1\"],"
		   "[\"%s\",\"r\",\"100000\",\"100000\",\"%lld\"]]}", kq, kr, t + 100000));
	same_reply("journal expiry", cmd(p, "ZSCORE %s %s", z, id),
		   xasprintf("%lld", t + TTL_US));
	assert_int_equal(settle_one(p, "t15:", "sasl:bea", t + 1, TTL_US, LIMIT_SETTLE_CONFIRM, id), 1);
	same_reply("confirmed record", cmd(p, "HGET %s %s", j, id),
		   xasprintf("{\"s\":\"c\",\"i\":[[\"%s\",\"q\",\"1\"],"
		   "[\"%s\",\"r\",\"100000\",\"100000\",\"%lld\"]]}", kq, kr, t + 100000));
	/* a second message: the bucket's tat moves on by one interval */
	limit_store_resv_id(id);
	assert_int_equal(journaled(p, "t15:", &plan.calls[0], t + 2, TTL_US, id, &err),
			 LIMIT_ST_COUNTED);
	same_reply("rate state, second", cmd(p, "GET %s", kr),
		   xasprintf("%lld 100000", t + 200000));
	free(kq);
	free(kr);
	free(j);
	free(z);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/*
 * test_bytes_costs - the check script v4: one call with the rules of both
 * whats, each limit with its own cost (3 recipients, 1 message here), and
 * the journal record in the layout of v3 (the items carry the amounts)
 */
static void
test_bytes_costs(void **state)
{
	struct limit_rules *r;
	struct limit_plan plan;
	struct redis_pool *p;
	struct limit_result res;
	long long t = now_us() | 1;
	char id[LIMIT_RESV_ID_LEN + 1], *kr, *kq, *j;
	const char *err = NULL;
	struct limit_check_req req = {"t18:", NULL, {[LIMIT_WHAT_MESSAGES] = 1,
				      [LIMIT_WHAT_RECIPIENTS] = 3}, true, t, 0, id, TTL_US};

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("bm sasl messages rate=10/1s burst=3\nbr sasl recipients quota=5/1000d\n");
	plan_for(r, "bo", NULL, &plan);
	req.call = &plan.calls[0];
	kr = key_of(r, 0, 0, "t18:", "sasl:bo", t);
	kq = key_of(r, 1, 0, "t18:", "sasl:bo", t);
	j = limit_store_journal_key("t18:", "sasl:bo", false);
	if (strncmp(limit_store_check_script(), "-- postmill-limit check v4\n",
		    strlen("-- postmill-limit check v4\n")) != 0)
		tcase_bad("version", "the check script is not v4");
	limit_store_resv_id(id);
	assert_int_equal(limit_store_check(p, &req, &res, &err), 0);
	assert_int_equal(res.status, LIMIT_ST_COUNTED);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.u[0].used, 1);	/* one message: one interval */
	assert_int_equal(res.u[1].used, 3);
	limit_result_free(&res);
	same_reply("pending record", cmd(p, "HGET %s %s", j, id),
		   xasprintf("{\"s\":\"p\",\"i\":[[\"%s\",\"r\",\"100000\",\"100000\",\"%lld\"],"
		   "[\"%s\",\"q\",\"3\"]]}", kr, t + 100000, kq));
	/* 3 more recipients would pass 5: the call refuses, counts nothing,
	 * not even its message */
	limit_store_resv_id(id);
	req.now_us = t + 1;
	assert_int_equal(limit_store_check(p, &req, &res, &err), 0);
	assert_int_equal(res.status, LIMIT_ST_REFUSED);
	assert_false(res.u[0].over);
	assert_true(res.u[1].over);
	limit_result_free(&res);
	assert_int_equal(cmd_int(p, "GET %s", kq), 3);
	same_reply("rate state (unchanged)", cmd(p, "GET %s", kr),
		   xasprintf("%lld 100000", t + 100000));
	free(kr);
	free(kq);
	free(j);
	limit_plan_free(&plan);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/*
 * test_expiry - a reservation nobody confirms (its worker killed) stops
 * counting after the ttl; a confirmed one stays. Time moves through the
 * scripts' now argument, not by sleeping.
 */
static void
test_expiry(void **state)
{
	const long long ttl = 1000000;	/* 1 s, in the scripts' time */
	struct limit_txn_opts o = {"t13:", 0, LIMIT_ON_ERROR_TEMPFAIL, ttl};
	struct limit_rules *r;
	struct limit_plan plan;
	struct limit_txn *txn;
	struct limit_outcome out;
	struct redis_pool *p;
	long long t = now_us(), expired, rc, mc;
	const char *err;
	char *kq, *kr;

	NEED_REDIS();
	p = pool_for(rf_main.server);
	r = rules("k sasl recipients quota=2/1000d\n"
		  "s sasl messages rate=1/1d burst=1\n");
	kq = key_of(r, 0, 0, "t13:", "sasl:kim", t);
	kr = key_of(r, 1, 0, "t13:", "sasl:kim", t);
	/* a transaction reserves two recipients and the message (with the
	 * first), then its worker dies: no commit, no refund
	 * (limit_txn_free forgets) */
	plan_for(r, "kim", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t, &out);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 1, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	limit_txn_reserved(txn, &rc, &mc);
	assert_int_equal(mc, 1);
	txn = limit_txn_free(txn);
	assert_int_equal(cmd_int(p, "GET %s", kq), 2);
	assert_int_equal(cmd_int(p, "EXISTS %s", kr), 1);

	/* before the ttl they count: the next recipient is refused */
	plan_for(r, "kim", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + ttl - 1, &out);
	if (out.v.action != LIMIT_ACT_TEMPFAIL)
		tcase_bad("within ttl", "got %s, want tempfail", limit_action_name(out.v.action));
	/* after it they are given back: two recipients and a message pass
	 * (the first recipient's call holds the message: the rate at 1/1d
	 * lets it pass only because the dead message's day was given back) */
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + ttl + 3, &out);
	if (out.v.action != LIMIT_ACT_ACCEPT || !out.have_usage || out.u.used != 1)
		tcase_bad("after ttl", "got %s used %lld, want accept used 1",
			  limit_action_name(out.v.action), out.u.used);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + ttl + 4, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	limit_txn_reserved(txn, &rc, &mc);
	if (rc != 2 || mc != 1)
		tcase_bad("rate after ttl", "reserved %lld recipients %lld messages, want 2 1",
			  rc, mc);
	/* this one is confirmed: it stays after the ttl */
	assert_int_equal(limit_txn_commit(txn, p, t + ttl + 6, &expired, &err), 0);
	assert_int_equal(expired, 0);
	txn = limit_txn_free(txn);
	plan_for(r, "kim", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 3 * ttl, &out);
	if (out.v.action != LIMIT_ACT_TEMPFAIL || !out.have_usage || out.u.used != 2)
		tcase_bad("confirmed stays", "got %s used %lld, want tempfail used 2",
			  limit_action_name(out.v.action), out.u.used);
	assert_int_equal(cmd_int(p, "GET %s", kq), 2);
	assert_int_equal(limit_txn_refund(txn, p, t + 3 * ttl, &rc, &mc, &err), 0);
	txn = limit_txn_free(txn);
	/* a reservation confirmed after its ttl: reported as expired */
	plan_for(r, "kim", NULL, &plan);
	txn = limit_txn_new(&plan);
	{
		struct limit_txn_opts o2 = o;

		o2.prefix = "t13b:";
		limit_txn_check(txn, p, &o2, LIMIT_WHAT_RECIPIENTS, t, &out);
		assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
		/* a second recipient after the ttl: its call expires the first
		 * (recipient and message given back) */
		limit_txn_check(txn, p, &o2, LIMIT_WHAT_RECIPIENTS, t + 2 * ttl, &out);
		assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
		assert_int_equal(limit_txn_commit(txn, p, t + 2 * ttl, &expired, &err), 0);
		assert_int_equal(expired, 1);
	}
	txn = limit_txn_free(txn);
	free(kq);
	free(kr);
	limit_rules_free(r);
	redis_pool_free(p);
	tcase_done();
}

/* hlen - entries in a key value's journal */
static long long
hlen(struct redis_pool *p, const char *prefix, const char *keyval)
{
	char *j = limit_store_journal_key(prefix, keyval, false);
	long long n = cmd_int(p, "HLEN %s", j);

	free(j);
	return n;
}

/*
 * test_timeout_refund - a reservation whose reply timed out: Redis runs
 * the queued script when it resumes; the transaction's refund takes it
 * back, exactly once, so the mail refused with 451 is not counted
 */
static void
test_timeout_refund(void **state)
{
	struct limit_txn_opts o = {"t14:", 0, LIMIT_ON_ERROR_TEMPFAIL, TTL_US};
	struct limit_rules *r;
	struct limit_plan plan;
	struct limit_txn *txn;
	struct limit_outcome out;
	struct redis_pool *p, *admin;
	long long t = now_us(), rc, mc;
	const char *err;
	char *kq;
	int i;

	NEED_REDIS();
	p = pool_for(rf_victim.server);
	admin = pool_for(rf_victim.server);
	r = rules("l sasl messages quota=10/1000d\n");
	kq = key_of(r, 0, 0, "t14:", "sasl:lena", t);
	/* one message counted and confirmed: the script is cached (EVALSHA
	 * runs without the NOSCRIPT round trip) */
	plan_for(r, "lena", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, t, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	assert_int_equal(limit_txn_commit(txn, p, t, &rc, &err), 0);
	txn = limit_txn_free(txn);
	assert_int_equal(cmd_int(admin, "GET %s", kq), 1);

	/* frozen: the check times out, the message is refused (451) */
	plan_for(r, "lena", NULL, &plan);
	txn = limit_txn_new(&plan);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, t + 10, &out);
	if (out.v.action != LIMIT_ACT_TEMPFAIL || out.v.reason != LIMIT_R_REDIS_ERROR)
		tcase_bad("frozen", "got %s/%s", limit_action_name(out.v.action),
			  limit_reason_name(out.v.reason));
	assert_int_equal(limit_txn_pending(txn), 1);
	/* the refund while still frozen fails; the id is kept */
	assert_int_equal(limit_txn_refund(txn, p, t + 11, &rc, &mc, &err), -1);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);
	/* the queued check runs when Redis resumes: wait for its journal entry */
	for (i = 0; i < 500 && hlen(admin, "t14:", "sasl:lena") < 2; i++)
		tcase_sleep_ms(10);
	if (hlen(admin, "t14:", "sasl:lena") != 2 || cmd_int(admin, "GET %s", kq) != 2)
		tcase_bad("late run", "journal %lld counter %lld, want the late check applied "
			  "(2, 2)", hlen(admin, "t14:", "sasl:lena"),
			  cmd_int(admin, "GET %s", kq));
	/* the session ends: its ids wait in the process's queue, and a later
	 * transaction sends them once Redis answers */
	limit_txn_defer(txn, t + 12);
	txn = limit_txn_free(txn);
	assert_int_equal(limit_txn_deferred(), 1);
	for (i = 0; i < 100; i++) {
		long long ids = 0;

		if (limit_txn_retry_deferred(p, t + 13, 4, &ids, &err) == 0) {
			assert_int_equal(ids, 1);
			break;
		}
		tcase_sleep_ms(50);
	}
	assert_int_equal(limit_txn_deferred(), 0);
	if (cmd_int(admin, "GET %s", kq) != 1)
		tcase_bad("deferred refund", "counter %lld, want 1 (the accepted message)",
			  cmd_int(admin, "GET %s", kq));

	/* the same again, but the refund is retried once Redis answers */
	plan_for(r, "lena", NULL, &plan);
	txn = limit_txn_new(&plan);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	tcase_sleep_ms(450);		/* past the back-off of the last failure */
	limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, t + 20, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_TEMPFAIL);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);
	for (i = 0; i < 500 && hlen(admin, "t14:", "sasl:lena") < 3; i++)
		tcase_sleep_ms(10);
	/* end of the transaction: refunded once Redis answers (the pool may
	 * still back off for a moment) */
	for (i = 0; i < 100; i++) {
		if (limit_txn_refund(txn, p, t + 21, &rc, &mc, &err) == 0)
			break;
		tcase_sleep_ms(50);
	}
	if (i == 100)
		tcase_bad("refund", "never worked: %s", err ? err : "?");
	txn = limit_txn_free(txn);
	if (cmd_int(admin, "GET %s", kq) != 1)
		tcase_bad("after refund", "counter %lld, want 1 (the accepted message)",
			  cmd_int(admin, "GET %s", kq));
	plan_for(r, "lena", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_MESSAGES, t + TTL_US + 100, &out);
	if (out.v.action != LIMIT_ACT_ACCEPT || !out.have_usage || out.u.used != 2)
		tcase_bad("after ttl", "got %s used %lld, want accept used 2 (the accepted "
			  "one and this one)", limit_action_name(out.v.action), out.u.used);
	assert_int_equal(limit_txn_refund(txn, p, t + TTL_US + 101, &rc, &mc, &err), 0);
	/* refunded twice: no change */
	assert_int_equal(cmd_int(admin, "GET %s", kq), 1);
	txn = limit_txn_free(txn);
	free(kq);
	limit_rules_free(r);
	redis_pool_free(p);
	redis_pool_free(admin);
	tcase_done();
}

/*
 * test_commit_frozen - end of message confirms what RCPT reserved: a
 * confirmation whose reply times out (Redis frozen) may run when Redis
 * resumes, so the commit succeeds, leaves the ids to Redis, and the count
 * stays once Redis ran it; one that was never sent (back-off) fails and
 * keeps the ids for the refund, which then gives everything back
 */
static void
test_commit_frozen(void **state)
{
	struct limit_txn_opts o = {"t17:", 0, LIMIT_ON_ERROR_TEMPFAIL, TTL_US};
	struct limit_rules *r;
	struct limit_plan plan;
	struct limit_txn *txn, *txn2;
	struct limit_outcome out;
	struct redis_pool *p, *admin;
	long long t = now_us(), expired, rc, mc;
	const char *err;
	char *kr, *km, *j;
	int i;

	NEED_REDIS();
	p = pool_for(rf_victim.server);
	admin = pool_for(rf_victim.server);
	r = rules("r sasl recipients quota=10/1000d\nm sasl messages quota=10/1000d\n");
	kr = key_of(r, 0, 0, "t17:", "sasl:zoe", t);
	km = key_of(r, 1, 0, "t17:", "sasl:zoe", t);
	j = limit_store_journal_key("t17:", "sasl:zoe", false);
	/* the scripts are cached: the frozen call is the confirmation itself */
	free(cmd(admin, "SCRIPT LOAD %s", limit_store_settle_script()));
	plan_for(r, "zoe", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	if (limit_txn_commit(txn, p, t + 1, &expired, &err) != 0
	    || limit_txn_unconfirmed(txn) != 1 || err == NULL || strcmp(err, "timeout") != 0)
		tcase_bad("frozen", "commit: unconfirmed %lld err \"%s\", want 0, 1, timeout",
			  limit_txn_unconfirmed(txn), err ? err : "");
	/* left to Redis: nothing for the transaction to refund */
	assert_int_equal(limit_txn_pending(txn), 0);
	assert_int_equal(limit_txn_refund(txn, p, t + 2, &rc, &mc, &err), 0);
	assert_int_equal(rc + mc, 0);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);
	/* Redis runs the confirmation it had queued: the record is confirmed */
	for (i = 0; i < 500; i++) {
		char *all = cmd(admin, "EVAL %s 1 %s",
				"return table.concat(redis.call('HVALS', KEYS[1]), ' ')", j);
		bool done = strstr(all, "\"s\":\"c\"") != NULL;

		free(all);
		if (done)
			break;
		tcase_sleep_ms(10);
	}
	if (i == 500)
		tcase_bad("late confirmation", "the record was never confirmed");
	txn = limit_txn_free(txn);
	assert_int_equal(cmd_int(admin, "GET %s", kr), 1);
	assert_int_equal(cmd_int(admin, "GET %s", km), 1);

	/* never sent (back-off after a timeout): the commit fails, the ids
	 * stay for the refund, which gives everything back */
	tcase_sleep_ms(450);		/* past the back-off of the timeout */
	plan_for(r, "zoe", NULL, &plan);
	txn = limit_txn_new(&plan);
	limit_txn_check(txn, p, &o, LIMIT_WHAT_RECIPIENTS, t + 10, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_ACCEPT);
	plan_for(r, "zoe", NULL, &plan);
	txn2 = limit_txn_new(&plan);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	limit_txn_check(txn2, p, &o, LIMIT_WHAT_RECIPIENTS, t + 11, &out);
	assert_int_equal(out.v.action, LIMIT_ACT_TEMPFAIL);
	if (limit_txn_commit(txn, p, t + 12, &expired, &err) != -1
	    || err == NULL || strcmp(err, "backing off") != 0 || limit_txn_pending(txn) != 1)
		tcase_bad("never sent", "commit: err \"%s\" pending %zu, want -1, backing off, 1",
			  err ? err : "", limit_txn_pending(txn));
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);
	for (i = 0; i < 100 && limit_txn_refund(txn, p, t + 13, &rc, &mc, &err) < 0; i++)
		tcase_sleep_ms(50);
	for (i = 0; i < 100 && limit_txn_refund(txn2, p, t + 14, &rc, &mc, &err) < 0; i++)
		tcase_sleep_ms(50);
	if (cmd_int(admin, "GET %s", kr) != 1 || cmd_int(admin, "GET %s", km) != 1)
		tcase_bad("refunded", "counters %lld %lld, want 1 1 (the first message)",
			  cmd_int(admin, "GET %s", kr), cmd_int(admin, "GET %s", km));
	limit_txn_free(txn);
	limit_txn_free(txn2);
	free(kr);
	free(km);
	free(j);
	limit_rules_free(r);
	redis_pool_free(p);
	redis_pool_free(admin);
	tcase_done();
}

/* group_setup - two servers */
static int
group_setup(void **state)
{
	(void)state;
	log_open("limit_store_test", false);
	if (!redis_fixture_available()) {
		snprintf(fixture_err, sizeof(fixture_err), "not installed");
		return 0;
	}
	if (redis_fixture_start(&rf_main, 0, NULL, fixture_err, sizeof(fixture_err)) < 0)
		return 0;
	if (redis_fixture_start(&rf_victim, 0, NULL, fixture_err, sizeof(fixture_err)) < 0) {
		redis_fixture_stop(&rf_main);
		return 0;
	}
	have_redis = true;
	return 0;
}

/* group_teardown - stop them, by pid */
static int
group_teardown(void **state)
{
	(void)state;
	if (have_redis) {
		redis_fixture_stop(&rf_main);
		redis_fixture_stop(&rf_victim);
	}
	return 0;
}

/* test_teardown - a failed test must not leave the victim frozen or stopped */
static int
test_teardown(void **state)
{
	char err[256];

	(void)state;
	if (!have_redis)
		return 0;
	if (rf_victim.frozen)
		redis_fixture_thaw(&rf_victim);
	if (rf_victim.pid == 0 && redis_fixture_restart(&rf_victim, err, sizeof(err)) < 0)
		fprintf(stderr, "%s\n", err);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_atomic),
		cmocka_unit_test(test_gcra),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_rate_override_bucket),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_refund_store),
		cmocka_unit_test(test_txn),
		cmocka_unit_test(test_txn_rate_refund),
		cmocka_unit_test(test_rcpt_reserves_message),
		cmocka_unit_test(test_noscript),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_settle_idempotent),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_bytes_costs),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test_teardown(test_timeout_refund, test_teardown),
		cmocka_unit_test_teardown(test_redis_down, test_teardown),
		cmocka_unit_test_teardown(test_commit_frozen, test_teardown),
	};

	return cmocka_run_group_tests_name("limit_store", tests, group_setup,
					   group_teardown);
}
