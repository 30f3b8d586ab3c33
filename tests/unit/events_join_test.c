/*++
 * NAME
 *	events_join_test 1
 * SUMMARY
 *	unit tests of the join: log lines + message records + the bounce
 *	stream into events (tools/postmill-events/events_join.c,
 *	events_store.c), against a private redis-server
 * DESCRIPTION
 *	Each case saves postmill-bounce's records (bounce_store.c, the real
 *	writer), feeds log lines, commits after the lines marked "|" (a
 *	batch boundary: the queue state must come back from Redis), and
 *	compares the stream with the events wanted, in order, as
 *	"type rcpt[ class reason]". Cases: delivered/deferred/bounced with a
 *	re-activated message (no second accepted); a tag whose record has
 *	another queue id (forged: nothing); untagged mail (nothing); an
 *	expired message (bounced soft expired only for the recipients
 *	without a final state); a queue id reused after "removed"; a
 *	suppressed recipient; bounce-stream entries (a DSN about a
 *	recipient the log already bounced: nothing; another: bounced; a
 *	complaint: complained; a delay: nothing). The record of ID2 was
 *	tagged for an authenticated login (login bob, tenant login:bob): its
 *	events carry that tenant, not the sender's domain. The entries of
 *	bounce_stream.h's other writers: a one-click unsubscribe (tenant
 *	from the entry), an open (tenant from ID2's record), a click (url;
 *	ID1's record has no tenant: the sender's domain), a tenant pause
 *	(nothing). Rows name the tenant (" t=...") when it is not
 *	customer.test. The committed position and ids: the same line gives
 *	the same id.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_fixture.h"
#include "redis.h"
#include "bounce_store.h"
#include "events.h"

static struct redis_fixture rf;
static bool have_redis;
static char fixture_err[256];
static struct redis_pool *pool;
static struct events_conf conf;

#define NEED_REDIS() do { \
	if (!have_redis) { \
		fprintf(stderr, "    redis-server not available: %s\n", fixture_err); \
		skip(); \
	} \
} while (0)

/* id 0123456789abcdeffedc, version 1, key 0 */
#define TAG1	"b-aeaaci2fm6e2xtpp73oaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bounces.test"
#define ID1	"0123456789abcdeffedc"
/* id 00112233445566778899 */
#define TAG2	"b-aeaaaejcgncfkztxrcmqaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bounces.test"
#define ID2	"00112233445566778899"
#define P	"Dec 06 20:03:00 mx postfix/"

struct jcase {
	const char *name;
	const char *lines[16];	/* "|" commits */
	const char *bounces[6];	/* "kind class rcpt id" entries added before the last commit */
	const char *want[12];
};

static const struct jcase cases[] = {
	{"outcomes", {
	  P "cleanup[1]: 4A0001: message-id=<m1@customer.test>",
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)", "|",
	  P "smtp[3]: 4A0001: to=<a@ok.test>, relay=r, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
	  P "smtp[3]: 4A0001: to=<b@x.test>, relay=r, delay=1, delays=0/0/0/1, dsn=4.2.2, status=deferred (452 4.2.2 full)",
	  "|",
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)",
	  P "smtp[3]: 4A0001: to=<B@X.test>, relay=r, delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced "
	    "(host x said: 550 5.1.1 <b@x.test>: User unknown (in reply to RCPT TO command))",
	  P "qmgr[2]: 4A0001: removed", NULL},
	 {NULL},
	 {"accepted a@ok.test", "accepted b@x.test", "delivered a@ok.test", "deferred b@x.test",
	  "bounced b@x.test hard user_unknown", NULL}},
	{"forged tag", {
	  P "qmgr[2]: 4B0002: from=<" TAG1 ">, size=300, nrcpt=1 (queue active)",
	  P "smtp[3]: 4B0002: to=<a@ok.test>, relay=r, dsn=2.0.0, status=sent (250 ok)", NULL},
	 {NULL}, {NULL}},
	{"untagged", {
	  P "qmgr[2]: 4C0003: from=<alice@customer.test>, size=300, nrcpt=1 (queue active)",
	  P "smtp[3]: 4C0003: to=<a@ok.test>, relay=r, dsn=2.0.0, status=sent (250 ok)", NULL},
	 {NULL}, {NULL}},
	{"expired", {
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)",
	  P "smtp[3]: 4A0001: to=<a@ok.test>, relay=r, dsn=2.0.0, status=sent (250 ok)",
	  P "smtp[3]: 4A0001: to=<b@x.test>, relay=r, dsn=4.4.1, status=deferred (connect refused)", "|",
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, status=expired, returned to sender",
	  P "qmgr[2]: 4A0001: removed", NULL},
	 {NULL},
	 {"accepted a@ok.test", "accepted b@x.test", "delivered a@ok.test", "deferred b@x.test",
	  "bounced b@x.test soft expired", NULL}},
	{"queue id reused", {
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)",
	  P "qmgr[2]: 4A0001: removed",
	  P "qmgr[2]: 4A0001: from=<" TAG2 ">, size=300, nrcpt=1 (queue active)", NULL},
	 {NULL},
	 {"accepted a@ok.test", "accepted b@x.test", "accepted c@y.test t=login:bob", NULL}},
	{"login tenant", {
	  P "qmgr[2]: 4A0001: from=<" TAG2 ">, size=300, nrcpt=1 (queue active)",
	  P "smtp[3]: 4A0001: to=<c@y.test>, relay=r, dsn=2.0.0, status=sent (250 ok)", "|", NULL},
	 {"dsn hard c@y.test " ID2, NULL},
	 {"accepted c@y.test t=login:bob", "delivered c@y.test t=login:bob",
	  "bounced c@y.test hard user_unknown t=login:bob", NULL}},
	{"unsubscribe and tracking", {"|", NULL},
	 {"unsubscribe - r@x.test -", "open - c@y.test " ID2, "click - a@ok.test " ID1,
	  "tenant_paused - - -", NULL},
	 {"unsubscribed r@x.test unsubscribed t=acme.test", "opened c@y.test t=login:bob",
	  "clicked a@ok.test url=https://example.test/x", NULL}},
	{"suppressed", {
	  P "smtpd[4]: NOQUEUE: milter-reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <g@x.test>: "
	    "recipient suppressed since 2026-12-06 20:00:00 UTC after a bounce: user_unknown; "
	    "from=<Alice@Customer.test> to=<g@x.test> proto=ESMTP helo=<h>",
	  P "smtpd[4]: NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 <r@x>: Relay access "
	    "denied; from=<s@y> to=<r@x> proto=ESMTP helo=<h>", NULL},
	 {NULL},
	 {"suppressed g@x.test user_unknown", NULL}},
	{"bounce stream", {
	  P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)",
	  P "smtp[3]: 4A0001: to=<b@x.test>, relay=r, dsn=5.1.1, status=bounced (550 5.1.1 unknown user)",
	  "|", NULL},
	 {"dsn hard b@x.test " ID1, "dsn soft a@ok.test " ID1, "arf complaint a@ok.test " ID1,
	  "dsn none a@ok.test " ID1, NULL},
	 {"accepted a@ok.test", "accepted b@x.test", "bounced b@x.test hard user_unknown",
	  "bounced a@ok.test soft mailbox_full", "complained a@ok.test complaint complaint", NULL}},
};

/* cmd_ok - a command whose reply is not needed */
static void
cmd_ok(const char *fmt, ...)
{
	const char *err = NULL;
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redis_vcommand(pool, &err, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("%s: %s", fmt, err);
	freeReplyObject(r);
}

/*
 * add_bounce - an entry as its writer adds it (bounce_stream.h):
 * postmill-bounce's record script, postmill-unsubscribe, the tracking
 * endpoint, a tenant pause
 */
static void
add_bounce(const char *spec)
{
	char	 kind[16], cls[16], rcpt[64], id[32];
	const char *reason;

	if (sscanf(spec, "%15s %15s %63s %31s", kind, cls, rcpt, id) != 4)
		fail_msg("bad spec %s", spec);
	if (strcmp(kind, "unsubscribe") == 0) {		/* unsub_handle.c's */
		cmd_ok("XADD pmbounce:events * time 1 kind unsubscribe class unsubscribe "
		       "reason unsubscribed tenant acme.test recipient %s action suppressed", rcpt);
		return;
	}
	if (strcmp(kind, "open") == 0) {	/* unsub_track.c's, the record's fields left out */
		cmd_ok("XADD pmbounce:events * time 1 kind open class engagement reason opened "
		       "action opened source track recipient %s message_id %s first 1", rcpt, id);
		return;
	}
	if (strcmp(kind, "click") == 0) {
		cmd_ok("XADD pmbounce:events * time 1 kind click class engagement reason clicked "
		       "action clicked source track tenant %s message_id %s recipient %s "
		       "recipients 2 first 0 link 3 url https://example.test/x", "", id, rcpt);
		return;
	}
	if (strcmp(kind, "tenant_paused") == 0) {
		cmd_ok("XADD pmbounce:events * time 1 kind tenant_paused tenant acme.test sent 4 "
		       "hard 4 complaints 0 reason x");
		return;
	}
	reason = strcmp(cls, "complaint") == 0 ? "complaint"
	    : strcmp(cls, "hard") == 0 ? "user_unknown" : "mailbox_full";
	cmd_ok("XADD pmbounce:events * time 1 recipient %s class %s "
	       "reason %s status 5.0.0 diagnostic x action failed message_id %s "
	       "kind %s", rcpt, cls, reason, id, kind);
}

/* commit - the batch so far */
static void
commit(struct events_join *j, const struct events_pos *pos, char *bpos)
{
	const char *err;

	if (events_join_bounces(j, bpos, 256, &err) < 0)
		fail_msg("bounces: %s", err);
	if (events_store_commit(pool, &conf, j->batch, pos, &err) < 0)
		fail_msg("commit: %s", err);
	if (j->batch->bpos[0] != '\0')
		snprintf(bpos, 64, "%s", j->batch->bpos);
	events_batch_reset(j->batch);
}

/* stream_text - the stream as "type rcpt[ class reason]" lines */
static size_t
stream_rows(char rows[][128], size_t max, char ids[][40])
{
	const char *err;
	redisReply *r = redis_command(pool, &err, "XRANGE pmevents:{ev}:stream - +");
	size_t	 n = 0;

	assert_non_null(r);
	for (size_t i = 0; i < r->elements && n < max; i++) {
		const redisReply *kv = r->element[i]->element[1];
		const char *type = "", *rcpt = "", *cls = "", *reason = "", *id = "";
		const char *tenant = "", *url = "";

		for (size_t k = 0; k + 1 < kv->elements; k += 2) {
			const char *f = kv->element[k]->str, *v = kv->element[k + 1]->str;

			if (strcmp(f, "type") == 0) type = v;
			if (strcmp(f, "recipient") == 0) rcpt = v;
			if (strcmp(f, "class") == 0) cls = v;
			if (strcmp(f, "reason") == 0) reason = v;
			if (strcmp(f, "id") == 0) id = v;
			if (strcmp(f, "tenant") == 0) tenant = v;
			if (strcmp(f, "url") == 0) url = v;
		}
		snprintf(rows[n], 128, "%s %s%s%s%s%s%s%s%s%s", type, rcpt, cls[0] ? " " : "", cls,
			 reason[0] ? " " : "", reason,
			 strcmp(tenant, "customer.test") != 0 ? " t=" : "",
			 strcmp(tenant, "customer.test") != 0 ? tenant : "",
			 url[0] ? " url=" : "", url);
		snprintf(ids[n], 40, "%s", id);
		n++;
	}
	freeReplyObject(r);
	return n;
}

/* test_cases - the table */
static void
test_cases(void **state)
{
	(void)state;
	NEED_REDIS();
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct jcase *jc = &cases[c];
		struct events_batch b;
		struct events_join j;
		struct events_pos pos = {1, 2, 0, 0};
		char	 rows[32][128], ids[32][40], bpos[64] = "";
		const char *err;
		size_t	 n, w;

		cmd_ok("FLUSHALL");
		(void)bounce_store_save_message(pool, "pmbounce:", ID1, "alice@customer.test",
						strcmp(jc->name, "forged tag") == 0 ? "FFFFFF" : "4A0001",
						"a@ok.test,b@x.test", 2, NULL, NULL, 1700000000000LL,
						86400000LL, &err);
		/* an authenticated login whose tenant table entry is login:bob */
		(void)bounce_store_save_message(pool, "pmbounce:", ID2, "bob@other.test", "4A0001",
						"c@y.test", 1, "bob", "login:bob", 1700000000000LL,
						86400000LL, &err);
		events_batch_init(&b);
		memset(&j, 0, sizeof(j));
		j.pool = pool;
		j.conf = &conf;
		j.batch = &b;
		for (size_t i = 0; jc->lines[i] != NULL; i++) {
			if (strcmp(jc->lines[i], "|") == 0) {
				commit(&j, &pos, bpos);
				continue;
			}
			if (events_join_line(&j, jc->lines[i], strlen(jc->lines[i]), &pos, &err) < 0)
				fail_msg("%s: line %zu: %s", jc->name, i, err);
			pos.off += (long long)strlen(jc->lines[i]) + 1;
		}
		for (size_t i = 0; jc->bounces[i] != NULL; i++)
			add_bounce(jc->bounces[i]);
		commit(&j, &pos, bpos);
		commit(&j, &pos, bpos);		/* nothing new: nothing twice */
		n = stream_rows(rows, 32, ids);
		for (w = 0; jc->want[w] != NULL; w++)
			if (w >= n || strcmp(rows[w], jc->want[w]) != 0)
				tcase_bad(jc->name, "event %zu \"%s\", want \"%s\"", w,
					  w < n ? rows[w] : "(none)", jc->want[w]);
		if (n != w)
			tcase_bad(jc->name, "%zu events, want %zu (last \"%s\")", n, w,
				  n ? rows[n - 1] : "");
		for (size_t a = 0; a < n; a++)
			for (size_t k = a + 1; k < n; k++)
				if (strcmp(ids[a], ids[k]) == 0)
					tcase_bad(jc->name, "events %zu and %zu share id %s", a, k, ids[a]);
		events_batch_reset(&b);
		free(b.ev);
		free(b.q);
	}
	tcase_done();
}

/* test_positions - the commit stores the position; ids are stable */
static void
test_positions(void **state)
{
	static const char line[] = P "qmgr[2]: 4A0001: from=<" TAG1 ">, size=300, nrcpt=2 (queue active)";
	struct events_pos pos = {7, 8, 1234, 99}, got;
	struct events_ev e1, e2;
	char	 bpos[64];
	const char *err;

	(void)state;
	NEED_REDIS();
	cmd_ok("FLUSHALL");
	assert_int_equal(events_store_load_pos(pool, "pmevents:", &got, bpos, sizeof(bpos), &err), 0);
	assert_int_equal(got.ino, 0);
	{
		struct events_batch b;

		events_batch_init(&b);
		assert_int_equal(events_store_commit(pool, &conf, &b, &pos, &err), 0);
	}
	assert_int_equal(events_store_load_pos(pool, "pmevents:", &got, bpos, sizeof(bpos), &err), 0);
	assert_true(got.dev == 7 && got.ino == 8 && got.off == 1234 && got.fp == 99);
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	events_ev_id(&e1, &pos, line, sizeof(line) - 1, 0);
	events_ev_id(&e2, &pos, line, sizeof(line) - 1, 0);
	assert_string_equal(events_ev_get(&e1, "id"), events_ev_get(&e2, "id"));
	events_ev_id(&e2, &pos, line, sizeof(line) - 1, 1);
	assert_string_not_equal(events_ev_get(&e1, "id"), events_ev_get(&e2, "id"));
	free(e1.v[0]);
	free(e2.v[0]);
}

/* group_setup - a redis-server and a pool */
static int
group_setup(void **state)
{
	(void)state;
	conf.key_prefix = "pmevents:";
	conf.stream_maxlen = 100000;
	conf.state_ttl = 86400000;
	conf.bounce_key_prefix = "pmbounce:";
	conf.bounce_stream = "pmbounce:events";
	if (!redis_fixture_available()) {
		snprintf(fixture_err, sizeof(fixture_err), "not installed");
		return 0;
	}
	if (redis_fixture_start_pool(&rf, 300, 2000, 0, &pool, fixture_err,
				     sizeof(fixture_err)) < 0)
		return 0;
	have_redis = true;
	return 0;
}

/* group_teardown - stop it, by pid */
static int
group_teardown(void **state)
{
	(void)state;
	if (have_redis) {
		redis_fixture_stop_pool(&rf, &pool);
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_positions),
	};

	return cmocka_run_group_tests_name("events_join", tests, group_setup, group_teardown);
}
