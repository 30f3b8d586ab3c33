/*++
 * NAME
 *	limit_rules_test 1
 * SUMMARY
 *	unit tests of the rules file and key values (milters/limit/limit_rules.c)
 * DESCRIPTION
 *	A good file, read field by field; a table of bad lines, each with
 *	the file:line message it must give; a file with many mistakes that
 *	must all be reported in one run; key values built from the facts of
 *	a message (logins, sender addresses in odd forms, the null sender,
 *	IPv4, IPv6 networks, IPv4-mapped IPv6, exemptions); plans grouping
 *	rules by key value; the operator's key syntax of postmillctl; and
 *	limit_rules_load() on real files.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errlist.h"
#include "../../milters/limit/limit_rules.h"

#define GOOD \
	"# plans of hosted senders\n" \
	"plan  sasl  recipients  quota=50000/day quota=1000000/month  reject\n" \
	"burst\tsasl\tmessages\trate=20/1s burst=100   # per login\n" \
	"\n" \
	"perip  client_ip/48  messages  rate=100/1m\n" \
	"dom sender_domain recipients quota=5/10s tempfail\r\n" \
	"snd sender messages quota=3/hour rate=1/s burst=2\n" \
	"exempt sasl alice bob\n" \
	"exempt client_ip 10.0.0.0/8 2001:db8:ffff::/48\n" \
	"exempt sender Postmaster@Example.COM <>\n" \
	"exempt sender_domain Exempt.Example\n"

/* parse - rules from text or NULL; the errors joined into *errs (caller frees) */
static struct limit_rules *
parse(const char *text, char **errs)
{
	struct errlist el = ERRLIST_INIT;
	struct limit_rules *r = limit_rules_parse(text, strlen(text), "rules", &el);

	*errs = errlist_join(&el);
	if (r != NULL && el.count != 0)
		tcase_bad("parse", "got rules and %zu errors, want one or the other", el.count);
	errlist_free(&el);
	return r;
}

/* test_good - every field of a good file */
static void
test_good(void **state)
{
	char *errs;
	struct limit_rules *r = parse(GOOD, &errs);
	const struct limit_rule *x;

	if (r == NULL)
		fail_msg("good file: got errors \"%s\"", errs);
	free(errs);
	assert_int_equal(r->nrules, 5);

	x = limit_rules_find(r, "plan");
	assert_non_null(x);
	assert_int_equal(x->kind, LIMIT_KEY_SASL);
	assert_int_equal(x->what, LIMIT_WHAT_RECIPIENTS);
	assert_true(x->reject);
	assert_int_equal(x->line, 2);
	assert_int_equal(x->nlimits, 2);
	assert_int_equal(x->limits[0].type, LIMIT_TYPE_QUOTA);
	assert_string_equal(x->limits[0].name, "day");
	assert_int_equal(x->limits[0].count, 50000);
	assert_string_equal(x->limits[1].name, "month");
	assert_int_equal(x->limits[1].window.kind, LIMIT_WIN_MONTH);

	x = limit_rules_find(r, "burst");
	assert_int_equal(x->what, LIMIT_WHAT_MESSAGES);
	assert_false(x->reject);
	assert_int_equal(x->limits[0].type, LIMIT_TYPE_RATE);
	assert_string_equal(x->limits[0].name, "rate");
	assert_int_equal(x->limits[0].count, 20);
	assert_int_equal(x->limits[0].period_ms, 1000);
	assert_int_equal(x->limits[0].burst, 100);

	x = limit_rules_find(r, "perip");
	assert_int_equal(x->kind, LIMIT_KEY_IP);
	assert_int_equal(x->v6_prefix, 48);
	assert_int_equal(x->limits[0].period_ms, 60000);
	assert_int_equal(x->limits[0].burst, 100);	/* default: the count */

	x = limit_rules_find(r, "dom");
	assert_int_equal(x->kind, LIMIT_KEY_DOMAIN);
	assert_string_equal(x->limits[0].name, "10s");
	assert_int_equal(x->line, 6);

	x = limit_rules_find(r, "snd");
	assert_int_equal(x->nlimits, 2);
	assert_int_equal(x->limits[1].burst, 2);
	assert_int_equal(x->limits[1].period_ms, 1000);

	assert_null(limit_rules_find(r, "nope"));
	assert_int_equal(r->exempt[LIMIT_KEY_SASL].count, 2);
	assert_int_equal(r->exempt_ip.count, 2);
	assert_string_equal(r->exempt[LIMIT_KEY_SENDER].items[0], "postmaster@example.com");
	assert_string_equal(r->exempt[LIMIT_KEY_SENDER].items[1], "<>");
	assert_string_equal(r->exempt[LIMIT_KEY_DOMAIN].items[0], "exempt.example");
	limit_rules_free(r);

	/* an empty file is a valid one: no rules, nothing counted */
	r = parse("# nothing yet\n\n", &errs);
	assert_non_null(r);
	assert_int_equal(r->nrules, 0);
	free(errs);
	limit_rules_free(r);
}

/* test_bad - one mistake per row, with the message it gives */
static void
test_bad(void **state)
{
	static const struct {
		const char *text;
		const char *want;	/* substring of the (only) error */
	} cases[] = {
		{"plan sasl recipients\n", "rules:1: rule \"plan\": want \"name key what"},
		{"plan\n", "want \"name key what"},
		{"p$n sasl messages quota=1/day\n", "rule name \"p$n\""},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa sasl messages quota=1/day\n", "rule name"},
		{"p user messages quota=1/day\n", "\"user\": unknown key"},
		{"p sasl/24 messages quota=1/day\n", "only client_ip takes a prefix"},
		{"p client_ip/0 messages quota=1/day\n", "IPv6 prefix length, 1..128"},
		{"p client_ip/129 messages quota=1/day\n", "IPv6 prefix length"},
		{"p client_ip/x messages quota=1/day\n", "IPv6 prefix length"},
		{"p sasl mails quota=1/day\n", "\"mails\": want messages or recipients"},
		{"p sasl messages tempfail\n", "no quota= or rate="},
		{"p sasl messages quota=1/day tempfail reject\n", "more than one action"},
		{"p sasl messages quota=1/fortnight\n", "\"quota=1/fortnight\": want hour"},
		{"p sasl messages quota=x/day\n", "not a number"},
		{"p sasl messages quota=/day\n", "missing number"},
		{"p sasl messages quota=10000000000000/day\n", "number too large"},
		{"p sasl messages quota=5\n", "want quota=N/WINDOW"},
		{"p sasl messages quota=1/500ms\n", "whole number of seconds"},
		{"p sasl messages quota=1/day quota=2/1d\n", "a second quota of the same window"},
		{"p sasl messages rate=0/1s\n", "number too small"},
		{"p sasl messages rate=5/0s\n", "longer than 0"},
		{"p sasl messages rate=5/1x\n", "unknown time unit"},
		{"p sasl messages rate=2000/1ms\n", "more than one per microsecond"},
		{"p sasl messages rate=1/400d\n", "at most 366d"},
		{"p sasl messages rate=1/s rate=2/m\n", "one rate per rule"},
		{"p sasl messages quota=1/day burst=5\n", "burst= without rate="},
		{"p sasl messages rate=1/s burst=0\n", "number too small"},
		{"p sasl messages rate=1/s burst=2 burst=3\n", "more than one burst"},
		{"p sasl messages rate=1/s whatever\n", "\"whatever\": want quota=N/WINDOW"},
		{"p sasl messages quota=1/1s quota=1/2s quota=1/3s quota=1/4s quota=1/5s "
		 "quota=1/6s quota=1/7s quota=1/8s quota=1/9s\n", "more than 8 limits"},
		{"p sasl messages quota=1/day\np sasl messages quota=2/day\n",
		 "rules:2: rule \"p\" is already defined on line 1"},
		{"exempt sasl\n", "want \"exempt KIND VALUE...\""},
		{"exempt login alice\n", "exempt \"login\": want sasl"},
		{"exempt client_ip/64 ::1\n", "exempt \"client_ip/64\""},
		{"exempt client_ip 10.0.0.1/8\n", "exempt client_ip \"10.0.0.1/8\""},
		{"exempt client_ip example.com\n", "exempt client_ip \"example.com\""},
		{"exempt sender_domain -bad-.example\n", "exempt sender_domain \"-bad-.example\""},
		{"p sasl messages quota=1/day\0x\n", "rules:1: NUL byte in line"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		size_t len = strlen(cases[i].text);
		struct limit_rules *r;

		/* the NUL row: its length reaches past the NUL */
		if (strstr(cases[i].want, "NUL") != NULL)
			len += strlen(cases[i].text + len + 1) + 1;
		r = limit_rules_parse(cases[i].text, len, "rules", &el);
		if (r != NULL) {
			tcase_bad(cases[i].want, "got rules, want an error");
			limit_rules_free(r);
		} else if (el.count != 1 || strstr(el.msgs[0], cases[i].want) == NULL) {
			char *all = errlist_join(&el);

			tcase_bad(cases[i].want, "got %zu error(s) \"%s\"", el.count, all);
			free(all);
		}
		errlist_free(&el);
	}
	tcase_done();
}

/* test_all_errors - one run reports every mistake with its line */
static void
test_all_errors(void **state)
{
	static const char text[] =
	    "ok sasl messages quota=1/day\n"		/* 1 */
	    "bad1 sasl messages\n"			/* 2 */
	    "# comment\n"				/* 3 */
	    "bad2 nobody messages quota=1/day\n"	/* 4 */
	    "bad3 sasl messages quota=1/yesterday rate=1/x\n"	/* 5: two */
	    "exempt client_ip nonsense\n"		/* 6 */
	    "ok sasl messages quota=1/day\n";		/* 7 */
	static const char *const want[] = {
		"rules:2:", "rules:4:", "rules:5: rule \"bad3\": \"quota=1/yesterday\"",
		"rules:5: rule \"bad3\": \"rate=1/x\"", "rules:6:",
		"rules:7: rule \"ok\" is already defined on line 1",
	};
	struct errlist el = ERRLIST_INIT;
	struct limit_rules *r = limit_rules_parse(text, strlen(text), "rules", &el);

	assert_null(r);
	if (el.count != sizeof(want) / sizeof(want[0]))
		tcase_bad("count", "got %zu errors, want %zu", el.count,
			  sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < el.count && i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(el.msgs[i], want[i]) == NULL)
			tcase_bad(want[i], "got \"%s\"", el.msgs[i]);
	errlist_free(&el);
	tcase_done();
}

/* facts_for - facts of a message: login, MAIL FROM path, client address */
static void
facts_for(struct limit_facts *f, const char *login, const char *from,
	  const char *ip)
{
	unsigned char a[16];

	memset(f, 0, sizeof(*f));
	if (login != NULL)
		f->login = strdup(login);
	if (from != NULL)
		limit_facts_set_sender(f, from, strlen(from));
	if (ip != NULL && inet_pton(AF_INET, ip, a) == 1)
		limit_facts_set_ip(f, AF_INET, a);
	else if (ip != NULL && inet_pton(AF_INET6, ip, a) == 1)
		limit_facts_set_ip(f, AF_INET6, a);
}

/* test_key_values - what each rule counts for a message */
static void
test_key_values(void **state)
{
	static const char rules[] =
	    "s sasl messages quota=1/day\n"
	    "a sender messages quota=1/day\n"
	    "d sender_domain messages quota=1/day\n"
	    "i client_ip messages quota=1/day\n"
	    "n client_ip/48 messages quota=1/day\n"
	    "h client_ip/128 messages quota=1/day\n"
	    "exempt sasl root\n"
	    "exempt sender bounce@lists.example\n"
	    "exempt sender_domain exempt.example\n"
	    "exempt client_ip 192.0.2.0/24 2001:db8:ffff::/48\n";
	static const struct {
		const char *name;
		const char *login, *from, *ip;
		const char *rule;
		const char *want;	/* NULL: the rule does not apply */
	} cases[] = {
		{"login", "alice", "<a@b.example>", "198.51.100.1", "s", "sasl:alice"},
		{"login keeps case", "Alice", NULL, NULL, "s", "sasl:Alice"},
		{"login with braces", "al{i}ce", NULL, NULL, "s", "sasl:al{i}ce"},
		{"no login", NULL, "<a@b.example>", NULL, "s", NULL},
		{"empty login", "", NULL, NULL, "s", NULL},
		{"exempt login", "root", NULL, NULL, "s", NULL},
		{"sender", NULL, "<Alice@Example.COM>", NULL, "a", "sender:alice@example.com"},
		{"sender, no brackets", NULL, "bob@example.com", NULL, "a", "sender:bob@example.com"},
		{"sender, route", NULL, "<@relay.example:bob@example.com>", NULL, "a",
		 "sender:bob@example.com"},
		{"sender, quoted", NULL, "<\"B O\"@example.com>", NULL, "a", "sender:b o@example.com"},
		{"sender, IDN", NULL, "<x@B\xc3\xbc" "cher.example>", NULL, "d",
		 "domain:xn--bcher-kva.example"},
		{"null sender", NULL, "<>", NULL, "a", "sender:<>"},
		{"null sender has no domain", NULL, "<>", NULL, "d", NULL},
		{"unparsable sender is counted", NULL, "<a b@c..d>", NULL, "a", "sender:a b@c..d"},
		{"unparsable sender's domain", NULL, "<a b@C..D>", NULL, "d", "domain:c..d"},
		{"postmaster without domain", NULL, "<postmaster>", NULL, "a", "sender:postmaster"},
		{"postmaster without domain, no domain", NULL, "<postmaster>", NULL, "d", NULL},
		{"exempt sender", NULL, "<Bounce@Lists.Example>", NULL, "a", NULL},
		{"exempt sender, domain still counts", NULL, "<bounce@lists.example>", NULL, "d",
		 "domain:lists.example"},
		{"domain", NULL, "<a@Mail.Example.COM.>", NULL, "d", "domain:mail.example.com"},
		{"exempt domain", NULL, "<a@EXEMPT.example>", NULL, "d", NULL},
		{"ipv4", NULL, NULL, "198.51.100.7", "i", "ip:198.51.100.7"},
		{"ipv4, /48 rule", NULL, NULL, "198.51.100.7", "n", "ip:198.51.100.7"},
		{"ipv6 /64 default", NULL, NULL, "2001:db8:1:2:3:4:5:6", "i", "ip:2001:db8:1:2::/64"},
		{"ipv6 /48", NULL, NULL, "2001:db8:1:2:3:4:5:6", "n", "ip:2001:db8:1::/48"},
		{"ipv6 /128", NULL, NULL, "2001:db8:1:2:3:4:5:6", "h", "ip:2001:db8:1:2:3:4:5:6"},
		{"mapped ipv4", NULL, NULL, "::ffff:198.51.100.9", "i", "ip:198.51.100.9"},
		{"exempt ipv4", NULL, NULL, "192.0.2.99", "i", NULL},
		{"exempt mapped ipv4", NULL, NULL, "::ffff:192.0.2.99", "i", NULL},
		{"exempt ipv6", NULL, NULL, "2001:db8:ffff:1::1", "n", NULL},
		{"no address", NULL, NULL, NULL, "i", NULL},
	};
	char *errs;
	struct limit_rules *r = parse(rules, &errs);

	if (r == NULL)
		fail_msg("rules: %s", errs);
	free(errs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_facts f;
		char *got;

		facts_for(&f, cases[i].login, cases[i].from, cases[i].ip);
		got = limit_key_value(r, limit_rules_find(r, cases[i].rule), &f);
		if ((got == NULL) != (cases[i].want == NULL)
		    || (got != NULL && strcmp(got, cases[i].want) != 0))
			tcase_bad(cases[i].name, "got %s, want %s", got ? got : "(none)",
				  cases[i].want ? cases[i].want : "(none)");
		free(got);
		limit_facts_free(&f);
	}
	limit_rules_free(r);
	tcase_done();
}

/* test_plan - rules grouped by key value, in file order */
static void
test_plan(void **state)
{
	static const char rules[] =
	    "p1 sasl recipients quota=100/day\n"
	    "ip client_ip messages rate=10/s\n"
	    "p2 sasl messages rate=5/s\n"
	    "dom sender_domain messages quota=7/hour\n"
	    "ip2 client_ip/128 messages quota=1/day\n";
	char *errs;
	struct limit_rules *r = parse(rules, &errs);
	struct limit_facts f;
	struct limit_plan plan;

	assert_non_null(r);
	free(errs);
	facts_for(&f, "alice", "<a@example.com>", "192.0.2.1");
	limit_plan_build(r, &f, &plan);
	/* sasl (p1, p2), then ip (ip, ip2: same key value for IPv4), then domain */
	assert_int_equal(plan.ncalls, 3);
	assert_string_equal(plan.calls[0].keyval, "sasl:alice");
	assert_int_equal(plan.calls[0].nrules, 2);
	assert_string_equal(plan.calls[0].rules[0]->name, "p1");
	assert_string_equal(plan.calls[0].rules[1]->name, "p2");
	assert_string_equal(plan.calls[1].keyval, "ip:192.0.2.1");
	assert_int_equal(plan.calls[1].nrules, 2);
	assert_string_equal(plan.calls[2].keyval, "domain:example.com");
	assert_true(limit_call_counts(&plan.calls[0], LIMIT_WHAT_RECIPIENTS));
	assert_true(limit_call_counts(&plan.calls[0], LIMIT_WHAT_MESSAGES));
	assert_false(limit_call_counts(&plan.calls[1], LIMIT_WHAT_RECIPIENTS));
	limit_plan_free(&plan);
	limit_facts_free(&f);

	/* IPv6: two prefix lengths, two key values */
	facts_for(&f, NULL, "<>", "2001:db8::1");
	limit_plan_build(r, &f, &plan);
	assert_int_equal(plan.ncalls, 2);
	assert_string_equal(plan.calls[0].keyval, "ip:2001:db8::/64");
	assert_string_equal(plan.calls[1].keyval, "ip:2001:db8::1");
	limit_plan_free(&plan);
	limit_facts_free(&f);

	/* nothing applies */
	facts_for(&f, NULL, "<>", NULL);
	limit_plan_build(r, &f, &plan);
	assert_int_equal(plan.ncalls, 0);
	limit_plan_free(&plan);
	limit_facts_free(&f);
	limit_rules_free(r);
}

/* test_from_key - what postmillctl's operator types */
static void
test_from_key(void **state)
{
	static const struct {
		const char *text;
		int kind;		/* -1: an error */
		const char *rule;	/* rule whose key value we compare */
		const char *want;
	} cases[] = {
		{"sasl:alice", LIMIT_KEY_SASL, "s", "sasl:alice"},
		{"sasl:a:b", LIMIT_KEY_SASL, "s", "sasl:a:b"},
		{"sender:Bob@Example.com", LIMIT_KEY_SENDER, "a", "sender:bob@example.com"},
		{"sender:<>", LIMIT_KEY_SENDER, "a", "sender:<>"},
		{"domain:Example.COM", LIMIT_KEY_DOMAIN, "d", "domain:example.com"},
		{"ip:192.0.2.7", LIMIT_KEY_IP, "i", "ip:192.0.2.7"},
		{"ip:2001:db8:1:2::99", LIMIT_KEY_IP, "i", "ip:2001:db8:1:2::/64"},
		{"ip:2001:db8:1:2::/64", LIMIT_KEY_IP, "i", "ip:2001:db8:1:2::/64"},
		{"ip:example.com", -1, NULL, NULL},
		{"domain:-x-", -1, NULL, NULL},
		{"login:alice", -1, NULL, NULL},
		{"alice", -1, NULL, NULL},
		{"sasl:", -1, NULL, NULL},
	};
	char *errs;
	struct limit_rules *r = parse("s sasl messages quota=1/day\n"
				      "a sender messages quota=1/day\n"
				      "d sender_domain messages quota=1/day\n"
				      "i client_ip messages quota=1/day\n", &errs);

	assert_non_null(r);
	free(errs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct limit_facts f;
		enum limit_key_kind kind = LIMIT_KEY_SASL;
		const char *why = NULL;
		int rc = limit_facts_from_key(&f, cases[i].text, &kind, &why);

		if (cases[i].kind < 0) {
			if (rc == 0)
				tcase_bad(cases[i].text, "got kind %d, want an error", kind);
		} else if (rc < 0 || (int)kind != cases[i].kind) {
			tcase_bad(cases[i].text, "got %s, want kind %d", rc < 0 ? why : "?",
				  cases[i].kind);
		} else {
			char *kv = limit_key_value(r, limit_rules_find(r, cases[i].rule), &f);

			if (kv == NULL || strcmp(kv, cases[i].want) != 0)
				tcase_bad(cases[i].text, "got %s, want %s", kv ? kv : "(none)",
					  cases[i].want);
			free(kv);
		}
		limit_facts_free(&f);
	}
	limit_rules_free(r);
	tcase_done();
}

/* test_load - from a real file, and a missing one */
static void
test_load(void **state)
{
	char path[] = "/tmp/limit-rules-XXXXXX";
	int fd = mkstemp(path);
	struct errlist el = ERRLIST_INIT;
	struct limit_rules *r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, GOOD, strlen(GOOD)), (ssize_t)strlen(GOOD));
	close(fd);
	r = limit_rules_load(path, &el);
	assert_non_null(r);
	assert_int_equal(r->nrules, 5);
	limit_rules_free(r);
	unlink(path);
	r = limit_rules_load(path, &el);
	assert_null(r);
	assert_int_equal(el.count, 1);
	assert_non_null(strstr(el.msgs[0], "No such file"));
	assert_non_null(strstr(el.msgs[0], path));
	errlist_free(&el);
	r = limit_rules_load("/tmp", &el);
	assert_null(r);
	assert_non_null(strstr(el.msgs[0], "not a regular file"));
	errlist_free(&el);
	assert_string_equal(limit_kind_name(LIMIT_KEY_DOMAIN), "sender_domain");
	assert_string_equal(limit_what_name(LIMIT_WHAT_RECIPIENTS), "recipients");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_key_values),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_from_key),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
