/*++
 * NAME
 *	bounce_policy_test 1
 * SUMMARY
 *	unit tests of postmill-bounce's decisions
 *	(milters/bounce/bounce_policy.c, bounce_msg.c, common/hosted.c)
 * DESCRIPTION
 *	Tables: the plan of one recipient by class, reason and action under
 *	the default policy (reputation reasons never suppress, delivered
 *	resets); the configuration checks (unknown and forbidden reasons,
 *	a reason in both lists, bad expiries); scope tags; address
 *	normalization; recipients at the bounce domain; the reply text
 *	(no CR, LF or '%'); events built from a report, with the message
 *	record's recipient as fallback; events about addresses the message
 *	was not sent to (unlisted: never suppress); the bounded buffer; the hosted
 *	decision.
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
#include <unistd.h>

#include "cfg.h"
#include "hosted.h"
#include "xalloc.h"
#include "../../milters/bounce/bounce_conf.h"
#include "../../milters/bounce/bounce_msg.h"
#include "../../milters/bounce/bounce_policy.h"

/* a local part of 450 octets: parses (ADDR_LOCAL_MAX), longer than out[] */
#define L10		"aaaaaaaaaa"
#define L50		L10 L10 L10 L10 L10
#define LONG_LOCAL	L50 L50 L50 L50 L50 L50 L50 L50 L50

/* conf_with - the defaults, with some rows overridden by "name = value" text */
static struct bounce_conf *
conf_with(const char *text, struct errlist *el)
{
	char path[] = "/tmp/bpolXXXXXX";
	const struct cfg_section *secs[] = {&bounce_section};
	void *values[1] = {NULL};
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	if (cfg_load(path, secs, 1, values, el) < 0)
		values[0] = NULL;
	unlink(path);
	return values[0];
}

/* test_plan - one recipient's effect on the suppression list */
static void
test_plan(void **state)
{
	struct errlist el = ERRLIST_INIT;
	struct bounce_conf *c = conf_with("bounce_soft_threshold = 3\n", &el);
	struct bounce_policy pol;
	static const struct {
		const char *name;
		enum bounce_class cls;
		enum bounce_reason reason;
		const char *action;
		bool sup, soft, reset;
		long long expiry_ms;
	} cases[] = {
		{"user unknown", BOUNCE_CLASS_HARD, BOUNCE_REASON_USER_UNKNOWN, "failed", true, false, false, 365LL * 86400000},
		{"domain unknown", BOUNCE_CLASS_HARD, BOUNCE_REASON_DOMAIN_UNKNOWN, "failed", true, false, false, 30LL * 86400000},
		{"suspended", BOUNCE_CLASS_SOFT, BOUNCE_REASON_SUSPENDED, "failed", true, false, false, 90LL * 86400000},
		{"complaint, forever", BOUNCE_CLASS_COMPLAINT, BOUNCE_REASON_COMPLAINT, "", true, false, false, 0},
		{"mailbox full counts", BOUNCE_CLASS_SOFT, BOUNCE_REASON_MAILBOX_FULL, "failed", false, true, false, 14LL * 86400000},
		{"too large counts", BOUNCE_CLASS_SOFT, BOUNCE_REASON_MESSAGE_TOO_LARGE, "failed", false, true, false, 14LL * 86400000},
		{"policy never", BOUNCE_CLASS_SOFT, BOUNCE_REASON_POLICY_REJECTED, "failed", false, false, false, 0},
		{"spam never", BOUNCE_CLASS_SOFT, BOUNCE_REASON_SPAM_REJECTED, "failed", false, false, false, 0},
		{"rate limit never", BOUNCE_CLASS_SOFT, BOUNCE_REASON_RATE_LIMITED, "failed", false, false, false, 0},
		{"delivered resets", BOUNCE_CLASS_NONE, BOUNCE_REASON_OTHER, "delivered", false, false, true, 0},
		{"relayed resets", BOUNCE_CLASS_NONE, BOUNCE_REASON_OTHER, "relayed", false, false, true, 0},
		{"delayed: nothing", BOUNCE_CLASS_NONE, BOUNCE_REASON_MAILBOX_FULL, "delayed", false, false, false, 0},
		{"auto reply resets", BOUNCE_CLASS_AUTO_REPLY, BOUNCE_REASON_AUTO_REPLY, "", false, false, true, 0},
	};

	assert_non_null(c);
	assert_int_equal(bounce_policy_from_conf(c, &pol, "t", &el), 0);
	assert_int_equal(pol.soft_threshold, 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bounce_rcpt r;
		struct bounce_rcpt_plan p;

		memset(&r, 0, sizeof(r));
		r.cls = cases[i].cls;
		r.reason = cases[i].reason;
		snprintf(r.action, sizeof(r.action), "%s", cases[i].action);
		bounce_policy_plan(&pol, &r, &p);
		if (p.suppress != cases[i].sup || p.soft != cases[i].soft
		    || p.reset != cases[i].reset || p.expiry_ms != cases[i].expiry_ms)
			tcase_bad(cases[i].name, "got sup=%d soft=%d reset=%d exp=%lld, "
				  "want sup=%d soft=%d reset=%d exp=%lld", p.suppress, p.soft,
				  p.reset, p.expiry_ms, cases[i].sup, cases[i].soft,
				  cases[i].reset, cases[i].expiry_ms);
	}
	cfg_values_free(&bounce_section, c);
	tcase_done();
}

/* test_conf_errors - every bad setting is reported with its name */
static void
test_conf_errors(void **state)
{
	static const struct {
		const char *name, *text, *want;
	} cases[] = {
		{"unknown reason", "bounce_suppress_reasons = user_unknown, nosuch\n", "nosuch: unknown reason"},
		{"policy may not suppress", "bounce_suppress_reasons = policy_rejected\n", "never suppresses"},
		{"rate limit may not count", "bounce_soft_reasons = rate_limited\n", "never suppresses"},
		{"in both lists", "bounce_soft_reasons = user_unknown\n", "also in bounce_suppress_reasons"},
		{"expiry without =", "bounce_suppress_expiry = user_unknown\n", "expected REASON=DURATION"},
		{"expiry bad unit", "bounce_suppress_expiry = user_unknown=3x\n", "user_unknown=3x"},
		{"expiry unknown reason", "bounce_suppress_expiry = bogus=3d\n", "unknown reason"},
		{"bad scope", "bounce_suppress_scope = planet\n", "bounce_suppress_scope"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		struct bounce_conf *c = conf_with(cases[i].text, &el);
		char *all = errlist_join(&el);

		if (c != NULL)
			tcase_bad(cases[i].name, "got a loaded config, want an error");
		else if (strstr(all, cases[i].want) == NULL)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", all, cases[i].want);
		free(all);
		errlist_free(&el);
		cfg_values_free(&bounce_section, c);
	}
	tcase_done();
}

/* test_scope_addr - scope tags, normalization, bounce-domain recipients */
static void
test_scope_addr(void **state)
{
	static const struct {
		const char *name;
		int scope;
		const char *sender, *want;	/* want NULL: -1 */
	} scopes[] = {
		{"sender", BOUNCE_SCOPE_SENDER, "alice@example.test", "s:alice@example.test"},
		{"domain", BOUNCE_SCOPE_DOMAIN, "alice@example.test", "d:example.test"},
		{"global", BOUNCE_SCOPE_GLOBAL, "", "g"},
		{"off", BOUNCE_SCOPE_OFF, "alice@example.test", NULL},
		{"sender empty", BOUNCE_SCOPE_SENDER, "", NULL},
		{"domain without @", BOUNCE_SCOPE_DOMAIN, "postmaster", NULL},
	};
	static const struct {
		const char *name, *in, *want;
	} norms[] = {
		{"brackets, case", "<Alice@Example.TEST>", "alice@example.test"},
		{"bare", "bob@x.test", "bob@x.test"},
		{"null path", "<>", NULL},
		{"space", "<a b@x.test>", NULL},
		{"empty", "", NULL},
	};
	static const struct {
		const char *name, *path;
		int want;
		const char *local;
	} locals[] = {
		{"ours", "<b-abc@bounces.test>", 1, "b-abc"},
		{"ours, upper-case domain", "<B-ABC@BOUNCES.Test>", 1, "B-ABC"},
		{"other domain", "<b-abc@example.test>", 0, NULL},
		{"subdomain is not ours", "<b-abc@x.bounces.test>", 0, NULL},
		{"garbage", "<@@>", -1, NULL},
		{"garbage at ours", "<a b@bounces.test>", 1, ""},
		{"garbage at ours, no brackets", "a b@BOUNCES.TEST", 1, ""},
		{"garbage at another", "<a b@bounces.test.x>", -1, NULL},
		{"null path", "<>", -1, NULL},
		{"local part over the buffer", "<b-" LONG_LOCAL "@bounces.test>", 1, ""},
		{"local part over the buffer, elsewhere", "<b-" LONG_LOCAL "@x.test>", 0, NULL},
	};
	char out[400];

	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		int r = bounce_scope_tag(scopes[i].scope, scopes[i].sender, out, sizeof(out));

		if ((scopes[i].want == NULL) != (r < 0)
		    || (r == 0 && strcmp(out, scopes[i].want) != 0))
			tcase_bad(scopes[i].name, "got %d \"%s\", want \"%s\"", r,
				  r == 0 ? out : "", scopes[i].want ? scopes[i].want : "-1");
	}
	for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		int r = bounce_addr_norm(norms[i].in, strlen(norms[i].in), out, sizeof(out));

		if ((norms[i].want == NULL) != (r < 0)
		    || (r == 0 && strcmp(out, norms[i].want) != 0))
			tcase_bad(norms[i].name, "got %d \"%s\", want \"%s\"", r,
				  r == 0 ? out : "", norms[i].want ? norms[i].want : "-1");
	}
	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		int r = bounce_rcpt_local(locals[i].path, strlen(locals[i].path),
					  "bounces.test", out, sizeof(out));

		if (r != locals[i].want || (r == 1 && strcmp(out, locals[i].local) != 0))
			tcase_bad(locals[i].name, "got %d \"%s\", want %d \"%s\"", r,
				  r == 1 ? out : "", locals[i].want,
				  locals[i].local ? locals[i].local : "");
	}
	tcase_done();
}

/* test_reply_text - when and why, nothing smfi_setreply cannot take */
static void
test_reply_text(void **state)
{
	char out[600];

	bounce_suppress_text("bob@x.test", "user_unknown",
			     "smtp; 550 5.1.1 <bob@x.test>: 100% gone\r\nX", 1700000000,
			     out, sizeof(out));
	assert_non_null(strstr(out, "2023-11-14 22:13:20 UTC"));
	assert_non_null(strstr(out, "user_unknown"));
	assert_non_null(strstr(out, "<bob@x.test>"));
	assert_null(strchr(out, '%'));
	assert_null(strchr(out, '\r'));
	assert_null(strchr(out, '\n'));
	bounce_suppress_text("bob@x.test", "complaint", "", 0, out, sizeof(out));
	assert_non_null(strstr(out, "an unknown time"));
}

/* test_events - a report into events */
static void
test_events(void **state)
{
	struct errlist el = ERRLIST_INIT;
	struct bounce_conf *c = conf_with("", &el);
	struct bounce_policy pol;
	struct bounce_report *rep = xcalloc(1, sizeof(*rep));
	struct bounce_evslot *s = xcalloc(BOUNCE_MAX_RCPTS, sizeof(*s));
	size_t n;

	assert_non_null(c);
	assert_int_equal(bounce_policy_from_conf(c, &pol, "t", &el), 0);
	/* a DSN with a delivered and a failed recipient */
	rep->kind = BOUNCE_KIND_DSN;
	rep->cls = BOUNCE_CLASS_HARD;
	rep->nrcpt = 2;
	snprintf(rep->rcpt[0].recipient, sizeof(rep->rcpt[0].recipient), "Ok@X.test");
	snprintf(rep->rcpt[0].action, sizeof(rep->rcpt[0].action), "delivered");
	snprintf(rep->rcpt[1].recipient, sizeof(rep->rcpt[1].recipient), "gone@x.test");
	snprintf(rep->rcpt[1].action, sizeof(rep->rcpt[1].action), "failed");
	snprintf(rep->rcpt[1].status, sizeof(rep->rcpt[1].status), "5.1.1");
	rep->rcpt[1].cls = BOUNCE_CLASS_HARD;
	rep->rcpt[1].reason = BOUNCE_REASON_USER_UNKNOWN;
	n = bounce_events_build(rep, &pol, "ok@x.test,gone@x.test", true, s);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].norm, "ok@x.test");
	assert_true(s[0].ev.plan.reset);
	assert_true(s[1].ev.plan.suppress);
	assert_int_equal(bounce_first_failed(s, n), 1);
	/* the address sent to (ORCPT) is recorded, not the alias it became;
	 * a delay warning is recorded but never counts */
	memset(rep, 0, sizeof(*rep));
	rep->kind = BOUNCE_KIND_DSN;
	rep->nrcpt = 2;
	snprintf(rep->rcpt[0].recipient, sizeof(rep->rcpt[0].recipient), "jdoe@internal.x.test");
	snprintf(rep->rcpt[0].original, sizeof(rep->rcpt[0].original), "John@x.test");
	snprintf(rep->rcpt[0].action, sizeof(rep->rcpt[0].action), "failed");
	rep->rcpt[0].cls = BOUNCE_CLASS_HARD;
	rep->rcpt[0].reason = BOUNCE_REASON_USER_UNKNOWN;
	snprintf(rep->rcpt[1].recipient, sizeof(rep->rcpt[1].recipient), "slow@x.test");
	snprintf(rep->rcpt[1].action, sizeof(rep->rcpt[1].action), "delayed");
	rep->rcpt[1].cls = BOUNCE_CLASS_SOFT;
	rep->rcpt[1].reason = BOUNCE_REASON_MAILBOX_FULL;
	n = bounce_events_build(rep, &pol, "john@x.test,slow@x.test", true, s);
	assert_int_equal(n, 2);
	assert_string_equal(s[0].norm, "john@x.test");
	assert_false(s[0].unlisted);
	assert_true(s[0].ev.plan.suppress);
	assert_string_equal(s[1].norm, "slow@x.test");
	assert_false(s[1].ev.plan.suppress);
	assert_false(s[1].ev.plan.soft);
	/* a complaint naming nobody: the record's only recipient */
	memset(rep, 0, sizeof(*rep));
	rep->kind = BOUNCE_KIND_ARF;
	rep->cls = BOUNCE_CLASS_COMPLAINT;
	rep->reason = BOUNCE_REASON_COMPLAINT;
	n = bounce_events_build(rep, &pol, "Carol@x.test", true, s);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].norm, "carol@x.test");
	assert_true(s[0].ev.plan.suppress);
	/* ... with several recipients in the record: unknown, never suppresses */
	n = bounce_events_build(rep, &pol, "a@x.test,b@x.test", true, s);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].norm, "");
	assert_false(s[0].ev.plan.suppress);
	/* nothing failed, nobody named: no event */
	memset(rep, 0, sizeof(*rep));
	assert_int_equal(bounce_events_build(rep, &pol, "a@x.test", true, s), 0);
	assert_int_equal(bounce_first_failed(s, 0), -1);
	free(rep);
	free(s);
	cfg_values_free(&bounce_section, c);
}

/* test_unlisted - a report about an address the message never went to */
static void
test_unlisted(void **state)
{
	static const struct {
		const char *name;
		const char *rcpt;	/* what the report names ("" nobody) */
		enum bounce_class cls;
		enum bounce_reason reason;
		const char *hint;	/* To: of the returned header */
		const char *rec;	/* the record's recipients */
		bool complete;
		const char *want_norm;
		bool want_unlisted, want_suppress;
	} cases[] = {
		{"listed", "gone@x.test", BOUNCE_CLASS_HARD, BOUNCE_REASON_USER_UNKNOWN,
		 "", "a@x.test,gone@x.test", true, "gone@x.test", false, true},
		{"listed, other case", "GONE@X.test", BOUNCE_CLASS_HARD,
		 BOUNCE_REASON_USER_UNKNOWN, "", "Gone@x.test", true, "gone@x.test", false, true},
		{"a stranger", "victim@x.test", BOUNCE_CLASS_HARD, BOUNCE_REASON_USER_UNKNOWN,
		 "", "a@x.test,gone@x.test", true, "victim@x.test", true, false},
		{"prefix of a listed one", "gone@x.tes", BOUNCE_CLASS_HARD,
		 BOUNCE_REASON_USER_UNKNOWN, "", "gone@x.test", true, "gone@x.tes", true, false},
		{"listed one is a prefix", "gone@x.test.evil", BOUNCE_CLASS_HARD,
		 BOUNCE_REASON_USER_UNKNOWN, "", "gone@x.test", true, "gone@x.test.evil",
		 true, false},
		{"record list cut: not checked", "victim@x.test", BOUNCE_CLASS_HARD,
		 BOUNCE_REASON_USER_UNKNOWN, "", "a@x.test", false, "victim@x.test", false, true},
		{"complaint, To: hint of a stranger", "", BOUNCE_CLASS_COMPLAINT,
		 BOUNCE_REASON_COMPLAINT, "victim@x.test", "a@x.test,b@x.test", true,
		 "victim@x.test", true, false},
		{"complaint, To: hint listed", "", BOUNCE_CLASS_COMPLAINT,
		 BOUNCE_REASON_COMPLAINT, "b@x.test", "a@x.test,b@x.test", true, "b@x.test",
		 false, true},
		{"soft, stranger: not counted", "full@y.test", BOUNCE_CLASS_SOFT,
		 BOUNCE_REASON_MAILBOX_FULL, "", "a@x.test", true, "full@y.test", true, false},
	};
	struct errlist el = ERRLIST_INIT;
	struct bounce_conf *c = conf_with("", &el);
	struct bounce_policy pol;
	struct bounce_report *rep = xcalloc(1, sizeof(*rep));
	struct bounce_evslot *s = xcalloc(BOUNCE_MAX_RCPTS, sizeof(*s));

	(void)state;
	assert_non_null(c);
	assert_int_equal(bounce_policy_from_conf(c, &pol, "t", &el), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		memset(rep, 0, sizeof(*rep));
		rep->cls = cases[i].cls;
		rep->reason = cases[i].reason;
		snprintf(rep->original_rcpt_hint, sizeof(rep->original_rcpt_hint), "%s",
			 cases[i].hint);
		if (cases[i].rcpt[0] != '\0') {
			rep->kind = BOUNCE_KIND_DSN;
			rep->nrcpt = 1;
			snprintf(rep->rcpt[0].recipient, sizeof(rep->rcpt[0].recipient),
				 "%s", cases[i].rcpt);
			snprintf(rep->rcpt[0].action, sizeof(rep->rcpt[0].action), "failed");
			rep->rcpt[0].cls = cases[i].cls;
			rep->rcpt[0].reason = cases[i].reason;
		}
		n = bounce_events_build(rep, &pol, cases[i].rec, cases[i].complete, s);
		if (n != 1) {
			tcase_bad(cases[i].name, "got %zu events, want 1", n);
			continue;
		}
		if (strcmp(s[0].norm, cases[i].want_norm) != 0)
			tcase_bad(cases[i].name, "got rcpt \"%s\", want \"%s\"", s[0].norm,
				  cases[i].want_norm);
		if (s[0].unlisted != cases[i].want_unlisted)
			tcase_bad(cases[i].name, "got unlisted %d, want %d", s[0].unlisted,
				  cases[i].want_unlisted);
		if (s[0].ev.plan.suppress != cases[i].want_suppress)
			tcase_bad(cases[i].name, "got suppress %d, want %d",
				  s[0].ev.plan.suppress, cases[i].want_suppress);
		if (cases[i].want_unlisted && (s[0].ev.plan.soft || s[0].ev.plan.reset))
			tcase_bad(cases[i].name, "got soft %d reset %d, want no plan",
				  s[0].ev.plan.soft, s[0].ev.plan.reset);
	}
	free(rep);
	free(s);
	cfg_values_free(&bounce_section, c);
	tcase_done();
}

/* test_buf_hosted - the bounded copy; the hosted decision */
static void
test_buf_hosted(void **state)
{
	struct bounce_buf b = {NULL, 0, 10, 0};
	char v[8];

	bounce_buf_add(&b, "0123456", 7);
	bounce_buf_add(&b, "789abc", 6);
	assert_int_equal(b.len, 10);
	assert_int_equal(b.dropped, 3);
	assert_memory_equal(b.data, "0123456789", 10);
	bounce_buf_free(&b);
	assert_int_equal(b.max, 10);
	assert_null(b.data);
	bounce_header_clean(v, sizeof(v), "a\r\nbcdefgh");
	assert_string_equal(v, "a??bcde");

	assert_true(hosted_decide(true, false, true, true));
	assert_true(hosted_decide(false, true, true, true));
	assert_false(hosted_decide(false, false, true, true));
	assert_false(hosted_decide(true, false, false, true));
	assert_false(hosted_decide(false, true, true, false));
	assert_false(hosted_is_internal(NULL, NULL));
}

/* test_record_choices - then=, a tenant's counts, feedback-loop mail */
static void
test_record_choices(void **state)
{
	static const struct {
		const char *name;
		int action;
		bool have_record;
		int want;
	} th[] = {
		{"deliver", BOUNCE_ACTION_DELIVER, true, BOUNCE_ACTION_DELIVER},
		{"redirect", BOUNCE_ACTION_REDIRECT, true, BOUNCE_ACTION_REDIRECT},
		{"redirect, record gone", BOUNCE_ACTION_REDIRECT, false, BOUNCE_ACTION_DELIVER},
		{"discard, record gone", BOUNCE_ACTION_DISCARD, false, BOUNCE_ACTION_DISCARD},
	};
	static const struct {
		const char *name;
		enum bounce_kind kind;
		bool has_original;
		size_t nref;
		const char *type;
		bool want;
	} fb[] = {
		{"arf abuse", BOUNCE_KIND_ARF, 0, 0, "abuse", 1},
		{"arf not a complaint", BOUNCE_KIND_ARF, 0, 0, "not-spam", 0},
		{"returned original with our ref", BOUNCE_KIND_UNKNOWN, 1, 1, "abuse", 1},
		{"returned original, no ref", BOUNCE_KIND_UNKNOWN, 1, 0, "abuse", 0},
		{"a dsn", BOUNCE_KIND_DSN, 1, 1, "abuse", 0},
	};
	struct bounce_evslot *slots = xcalloc(5, sizeof(*slots));
	long long hard, compl;
	char scope[16];
	int r;

	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		if (bounce_policy_then(th[i].action, th[i].have_record) != th[i].want)
			tcase_bad(th[i].name, "got %d, want %d",
				  bounce_policy_then(th[i].action, th[i].have_record), th[i].want);
	for (size_t i = 0; i < sizeof(fb) / sizeof(fb[0]); i++)
		if (bounce_policy_fbl_wanted(fb[i].kind, fb[i].has_original, fb[i].nref,
					     fb[i].type) != fb[i].want)
			tcase_bad(fb[i].name, "got %d, want %d", !fb[i].want, fb[i].want);
	slots[0].ev.cls = bounce_class_name(BOUNCE_CLASS_HARD);
	slots[1].ev.cls = bounce_class_name(BOUNCE_CLASS_HARD);
	slots[1].unlisted = true;		/* not sent by us: not counted */
	slots[2].ev.cls = bounce_class_name(BOUNCE_CLASS_COMPLAINT);
	slots[3].ev.cls = bounce_class_name(BOUNCE_CLASS_SOFT);
	slots[4].ev.cls = bounce_class_name(BOUNCE_CLASS_HARD);
	bounce_policy_tenant_counts(slots, 5, &hard, &compl);
	if (hard != 2 || compl != 1)
		tcase_bad("tenant counts", "got hard=%lld complaints=%lld, want 2 1",
			  hard, compl);
	free(slots);
	/* a tenant's own list goes first; too long: no list, not another's */
	r = bounce_policy_scope("acme", BOUNCE_SCOPE_SENDER, "a@x.example", scope, sizeof(scope));
	if (r != 0 || strcmp(scope, "t:acme") != 0)
		tcase_bad("scope tenant", "got %d \"%s\", want 0 \"t:acme\"", r, scope);
	r = bounce_policy_scope(NULL, BOUNCE_SCOPE_SENDER, "a@x.example", scope, sizeof(scope));
	if (r != 0 || strcmp(scope, "s:a@x.example") != 0)
		tcase_bad("scope sender", "got %d \"%s\", want 0 \"s:a@x.example\"", r, scope);
	r = bounce_policy_scope("a-tenant-name-too-long", BOUNCE_SCOPE_SENDER, "a@x.example",
				scope, sizeof(scope));
	if (r != -1)
		tcase_bad("scope tenant too long", "got %d \"%s\", want -1", r, scope);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_scope_addr),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_unlisted),
		cmocka_unit_test(test_buf_hosted),
		cmocka_unit_test(test_record_choices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
