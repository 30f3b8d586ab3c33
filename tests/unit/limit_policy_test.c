/*++
 * NAME
 *	limit_policy_test 1
 * SUMMARY
 *	unit tests of the limit decision and replies (milters/limit/limit_policy.c)
 * DESCRIPTION
 *	limit_decide() over a table of call results: Redis failed (both
 *	policies), exempt, counted (which limit is the tightest), refused
 *	(tempfail, reject, reject beats tempfail, the longest wait wins, a
 *	refused status without a refusing limit stays a refusal). Then the
 *	SMTP replies (codes and texts) and the log words; which stages can
 *	answer anything but "go on" under a configuration.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "errlist.h"
#include "../../milters/limit/limit_conf.h"
#include "../../milters/limit/limit_policy.h"
#include "../../milters/limit/limit_reply.h"
#include "milter_reply.h"

static struct limit_rule rule_t, rule_r;	/* tempfail and reject rules */

/* setup - two rules with a quota and a rate each */
static int
setup(void **state)
{
	snprintf(rule_t.name, sizeof(rule_t.name), "plan");
	rule_t.what = LIMIT_WHAT_RECIPIENTS;
	rule_t.nlimits = 2;
	rule_t.limits[0].type = LIMIT_TYPE_QUOTA;
	snprintf(rule_t.limits[0].name, sizeof(rule_t.limits[0].name), "day");
	rule_t.limits[1].type = LIMIT_TYPE_RATE;
	snprintf(rule_t.limits[1].name, sizeof(rule_t.limits[1].name), "rate");
	rule_r = rule_t;
	snprintf(rule_r.name, sizeof(rule_r.name), "monthly");
	snprintf(rule_r.limits[0].name, sizeof(rule_r.limits[0].name), "month");
	rule_r.what = LIMIT_WHAT_MESSAGES;
	rule_r.reject = true;
	return 0;
}

/* a usage: rule (T or R), limit index, over, used, limit, retry */
#define U(rl, li, over, used, lim, retry) \
	{&rule_##rl, &rule_##rl.limits[li], NULL, over, used, lim, retry, 0, 0}

/* test_decide - the table */
static void
test_decide(void **state)
{
	static struct limit_usage
	    within[] = {U(t, 0, false, 10, 100, 5000), U(t, 1, false, 3, 4, 100),
			U(r, 0, false, 1, 1000, 9)},
	    unlimited[] = {U(t, 0, false, 10, -1, 0), U(t, 1, false, 0, -1, 0)},
	    zero[] = {U(t, 0, false, 0, 5, 1), U(t, 1, false, 0, 0, 1)},
	    one_over[] = {U(t, 0, false, 10, 100, 5000), U(t, 1, true, 4, 4, 250)},
	    two_over[] = {U(t, 0, true, 100, 100, 60000), U(t, 1, true, 4, 4, 250)},
	    rej_over[] = {U(t, 1, true, 4, 4, 250), U(r, 0, true, 5, 5, 900000)},
	    rej_short[] = {U(r, 0, true, 5, 5, 10), U(t, 0, true, 100, 100, 900000)},
	    rej_two[] = {U(r, 0, true, 5, 5, 10), U(r, 1, true, 5, 5, 20), U(t, 0, true, 1, 1, 99)},
	    none_over[] = {U(t, 0, false, 10, 100, 5000)};
	static const struct {
		const char *name;
		int have;	/* 0: Redis failed */
		enum limit_status status;
		struct limit_usage *u;
		size_t n;
		int on_error;
		enum limit_action want;
		enum limit_reason want_reason;
		size_t want_index;
	} cases[] = {
		{"redis down, tempfail", 0, 0, NULL, 0, LIMIT_ON_ERROR_TEMPFAIL,
		 LIMIT_ACT_TEMPFAIL, LIMIT_R_REDIS_ERROR, LIMIT_NONE},
		{"redis down, accept", 0, 0, NULL, 0, LIMIT_ON_ERROR_ACCEPT,
		 LIMIT_ACT_ACCEPT, LIMIT_R_REDIS_ERROR, LIMIT_NONE},
		{"exempt", 1, LIMIT_ST_EXEMPT, unlimited, 2, LIMIT_ON_ERROR_TEMPFAIL,
		 LIMIT_ACT_ACCEPT, LIMIT_R_EXEMPT, LIMIT_NONE},
		{"within: tightest is 3/4", 1, LIMIT_ST_COUNTED, within, 3,
		 LIMIT_ON_ERROR_TEMPFAIL, LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, 1},
		{"within, all unlimited", 1, LIMIT_ST_COUNTED, unlimited, 2,
		 LIMIT_ON_ERROR_TEMPFAIL, LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, LIMIT_NONE},
		{"within, a zero limit is tightest", 1, LIMIT_ST_COUNTED, zero, 2,
		 LIMIT_ON_ERROR_TEMPFAIL, LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, 1},
		{"no limits at all", 1, LIMIT_ST_COUNTED, NULL, 0,
		 LIMIT_ON_ERROR_TEMPFAIL, LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, LIMIT_NONE},
		{"one over", 1, LIMIT_ST_REFUSED, one_over, 2, LIMIT_ON_ERROR_ACCEPT,
		 LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER, 1},
		{"two over: longest wait", 1, LIMIT_ST_REFUSED, two_over, 2,
		 LIMIT_ON_ERROR_ACCEPT, LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER, 0},
		{"reject beats tempfail", 1, LIMIT_ST_REFUSED, rej_over, 2,
		 LIMIT_ON_ERROR_ACCEPT, LIMIT_ACT_REJECT, LIMIT_R_OVER, 1},
		{"reject beats a longer tempfail", 1, LIMIT_ST_REFUSED, rej_short, 2,
		 LIMIT_ON_ERROR_ACCEPT, LIMIT_ACT_REJECT, LIMIT_R_OVER, 0},
		{"two rejects: longest wait", 1, LIMIT_ST_REFUSED, rej_two, 3,
		 LIMIT_ON_ERROR_ACCEPT, LIMIT_ACT_REJECT, LIMIT_R_OVER, 1},
		{"refused but no limit over: still refused", 1, LIMIT_ST_REFUSED,
		 none_over, 1, LIMIT_ON_ERROR_ACCEPT, LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER,
		 LIMIT_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_result r = {cases[i].status, cases[i].u, cases[i].n};
		struct limit_verdict v = limit_decide(cases[i].have ? &r : NULL,
						      cases[i].on_error);

		if (v.action != cases[i].want || v.reason != cases[i].want_reason
		    || v.index != cases[i].want_index)
			tcase_bad(cases[i].name, "got %s/%s/%zd, want %s/%s/%zd",
				  limit_action_name(v.action), limit_reason_name(v.reason),
				  (ssize_t)v.index, limit_action_name(cases[i].want),
				  limit_reason_name(cases[i].want_reason),
				  (ssize_t)cases[i].want_index);
	}
	tcase_done();
}

/* test_reply - codes and texts */
static void
test_reply(void **state)
{
	static struct limit_usage
	    quota_t = U(t, 0, true, 50000, 50000, 11520000),
	    rate_t = U(t, 1, true, 100, 100, 50),
	    quota_r = U(r, 0, true, 1000000, 1000000, 8 * 86400000LL + 3 * 3600000),
	    rate_r = U(r, 1, true, 10, 10, 1500);
	static const struct {
		const char *name;
		struct limit_verdict v;
		struct limit_usage *u;
		const char *rcode, *xcode, *text;
	} cases[] = {
		{"quota tempfail", {LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER, 0}, &quota_t, "451", "4.7.1",
		 "Sending quota exceeded: 50000 recipients per day (rule plan); try again in 3h12m"},
		{"rate tempfail", {LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER, 0}, &rate_t, "451", "4.7.1",
		 "Sending rate exceeded: recipients rule plan, at most 100 at once; try again in 1s"},
		{"quota reject", {LIMIT_ACT_REJECT, LIMIT_R_OVER, 0}, &quota_r, "550", "5.7.1",
		 "Sending quota exhausted: 1000000 messages per month (rule monthly); it renews in 8d3h"},
		/* a message rule refuses at RCPT now: the text names the messages */
		{"message rate at RCPT", {LIMIT_ACT_REJECT, LIMIT_R_OVER, 1}, &rate_r, "550", "5.7.1",
		 "Sending rate exceeded: messages rule monthly, at most 10 at once; try again in 2s"},
		{"redis error", {LIMIT_ACT_TEMPFAIL, LIMIT_R_REDIS_ERROR, LIMIT_NONE}, NULL,
		 "451", "4.3.0", "Temporary failure checking sending limits; try again later"},
		{"refused, no usage", {LIMIT_ACT_TEMPFAIL, LIMIT_R_OVER, LIMIT_NONE}, NULL,
		 "451", "4.7.1", "Sending limit exceeded; try again later"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_reply_out r;
		const struct milter_reply *row;
		char text[MILTER_REPLY_TEXT_MAX];

		/* the reply the client reads: the table's row, the text in its %s */
		limit_reply_make(&cases[i].v, cases[i].u, &r);
		if ((row = milter_reply_find(&limit_reply_table, r.reply)) == NULL) {
			tcase_bad(cases[i].name, "got reply %d, no row in limit_reply_table",
				  (int)r.reply);
			continue;
		}
		milter_reply_text(row, r.text, text, sizeof(text));
		if (strcmp(row->rcode, cases[i].rcode) != 0
		    || strcmp(row->xcode, cases[i].xcode) != 0
		    || strcmp(text, cases[i].text) != 0)
			tcase_bad(cases[i].name, "got \"%s %s %s\", want \"%s %s %s\"",
				  row->rcode, row->xcode, text, cases[i].rcode, cases[i].xcode,
				  cases[i].text);
		/* libmilter and SMTP: one line, no '%' */
		if (strpbrk(text, "\r\n%") != NULL)
			tcase_bad(cases[i].name, "reply text has CR, LF or %%");
	}
	tcase_done();
}

/* test_names - log words: one token each, distinct */
static void
test_names(void **state)
{
	const char *words[] = {
		limit_action_name(LIMIT_ACT_ACCEPT), limit_action_name(LIMIT_ACT_TEMPFAIL),
		limit_action_name(LIMIT_ACT_REJECT), limit_reason_name(LIMIT_R_WITHIN),
		limit_reason_name(LIMIT_R_EXEMPT), limit_reason_name(LIMIT_R_OVER),
		limit_reason_name(LIMIT_R_REDIS_ERROR),
	};

	assert_string_equal(words[0], "accept");
	assert_string_equal(words[1], "tempfail");
	assert_string_equal(words[2], "reject");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (const char *c = words[i]; *c; c++)
			if (!islower((unsigned char)*c) && *c != '_')
				tcase_bad(words[i], "got character '%c', want [a-z_]", *c);
		for (size_t j = i + 1; j < sizeof(words) / sizeof(words[0]); j++)
			if (strcmp(words[i], words[j]) == 0)
				tcase_bad(words[i], "got it twice");
	}
	tcase_done();
}

/* test_eom_choices - unconfirmed reservations, tenant pause lookups */
static void
test_eom_choices(void **state)
{
	static const struct {
		const char *name;
		struct limit_verdict v;
		int on_error;
		struct limit_verdict want;
	} un[] = {
		{"accept policy keeps the verdict", {LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, 2},
		 LIMIT_ON_ERROR_ACCEPT, {LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, 2}},
		{"tempfail policy", {LIMIT_ACT_ACCEPT, LIMIT_R_WITHIN, 2},
		 LIMIT_ON_ERROR_TEMPFAIL, {LIMIT_ACT_TEMPFAIL, LIMIT_R_REDIS_ERROR, LIMIT_NONE}},
	};
	static const struct {
		const char *name;
		int mode;
		bool auth, internal, want;
	} pz[] = {
		{"off", LIMIT_PAUSE_OFF, 1, 1, 0},
		{"outside client", LIMIT_PAUSE_TEMPFAIL, 0, 0, 0},
		{"authenticated", LIMIT_PAUSE_TEMPFAIL, 1, 0, 1},
		{"internal", LIMIT_PAUSE_REJECT, 0, 1, 1},
	};

	for (size_t i = 0; i < sizeof(un) / sizeof(un[0]); i++) {
		struct limit_verdict got = limit_decide_unconfirmed(un[i].v, un[i].on_error);

		if (got.action != un[i].want.action || got.reason != un[i].want.reason
		    || got.index != un[i].want.index)
			tcase_bad(un[i].name, "got %s/%s/%zu, want %s/%s/%zu",
				  limit_action_name(got.action), limit_reason_name(got.reason),
				  got.index, limit_action_name(un[i].want.action),
				  limit_reason_name(un[i].want.reason), un[i].want.index);
	}
	for (size_t i = 0; i < sizeof(pz) / sizeof(pz[0]); i++)
		if (limit_policy_checks_pause(pz[i].mode, pz[i].auth, pz[i].internal)
		    != pz[i].want)
			tcase_bad(pz[i].name, "got %d, want %d", !pz[i].want, pz[i].want);
	tcase_done();
}

/*
 * test_stage_answers - can MAIL and RCPT answer anything but "go on" (the
 * SMFIP_NR_* a connection negotiates): RCPT whenever a rule counts,
 * recipients or messages, since a message is checked with its first
 * recipient; MAIL only under a tenant pause
 */
static void
test_stage_answers(void **state)
{
	static const struct {
		const char *name;
		const char *rules;	/* NULL: no rules known */
		bool want_rcpt;
	} rc[] = {
		{"no rules known", NULL, true},
		{"no rules", "", false},
		{"only exemptions", "exempt sasl alice\n", false},
		{"a recipient rule", "r sasl recipients quota=10/day\n", true},
		{"a message rule", "m sender messages rate=10/1s\n", true},
		{"both", "r sasl recipients quota=10/day\nm sasl messages quota=1/day\n", true},
	};
	static const struct {
		int pause;
		bool want;
	} mail[] = {
		{LIMIT_PAUSE_OFF, false}, {LIMIT_PAUSE_TEMPFAIL, true}, {LIMIT_PAUSE_REJECT, true},
	};

	for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		struct limit_rules *r = NULL;
		bool got;

		if (rc[i].rules != NULL
		    && (r = limit_rules_parse(rc[i].rules, strlen(rc[i].rules), "t", &el)) == NULL) {
			char *e = errlist_join(&el);

			tcase_bad(rc[i].name, "rules do not parse: %s", e);
			free(e);
			errlist_free(&el);
			continue;
		}
		got = limit_policy_rcpt_answers(r);
		if (got != rc[i].want_rcpt)
			tcase_bad(rc[i].name, "RCPT answers: got %d, want %d", got, rc[i].want_rcpt);
		limit_rules_free(r);
		errlist_free(&el);
	}
	for (size_t i = 0; i < sizeof(mail) / sizeof(mail[0]); i++)
		if (limit_policy_mail_answers(mail[i].pause) != mail[i].want)
			tcase_bad("MAIL", "pause %d: got %d, want %d", mail[i].pause,
				  !mail[i].want, mail[i].want);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_eom_choices),
		cmocka_unit_test(test_stage_answers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
