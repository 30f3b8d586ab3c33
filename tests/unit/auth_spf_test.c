/*++
 * NAME
 *	auth_spf_test 1
 * SUMMARY
 *	unit tests of postmill-auth's SPF checks (milters/auth/auth_spf.c)
 * DESCRIPTION
 *	Tables: the MAIL FROM path reader (brackets, null path, source
 *	routes, controls, no "@"), the header folder (width, no line of
 *	blanks, unfolding gives the input back, small buffers), and whole
 *	checks through a private knotd (zone sp.test, broken.test without
 *	a file: SERVFAIL) comparing the identity result, its domain, the
 *	HELO result, the folded Received-SPF and the spf elements of the
 *	Authentication-Results header (auth_report.c).
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "knot_fixture.h"
#include "spf.h"
#include "tcase.h"
#include "../../milters/auth/auth_ar.h"
#include "../../milters/auth/auth_report.h"
#include "../../milters/auth/auth_spf.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NOW		1700000000L

static struct knot_fixture kf;
static bool knot_ok;
static char knot_err[256];
static struct dns_resolver *res;
static struct spf_evaluator *ev;

static const char zone_sp[] =
	"$ORIGIN sp.test.\n$TTL 300\n"
	"@ SOA ns hostmaster 1 3600 600 86400 60\n"
	"@ NS ns\nns A 127.0.0.1\n"
	"pass TXT \"v=spf1 ip4:192.0.2.10 -all\"\n"
	"fail TXT \"v=spf1 -all\"\n"
	"soft TXT \"v=spf1 ~all\"\n"
	"neutral TXT \"v=spf1 ?all\"\n"
	"perm TXT \"v=spf1 ip4:192.0.2.300 -all\"\n"
	"temp TXT \"v=spf1 include:x.broken.test -all\"\n"
	"helo TXT \"v=spf1 ip6:2001:db8::/32 ip4:192.0.2.10 -all\"\n"
	"nospf A 192.0.2.1\n";

/* test_sender - the MAIL FROM path as the MTA gives it */
static void
test_sender(void **state)
{
	static const struct {
		const char *name, *path;
		size_t len;		/* 0: strlen */
		enum auth_spf_sender want;
		const char *want_out;
	} cases[] = {
		{"brackets", "<a@example.test>", 0, AUTH_SPF_SENDER_OK, "a@example.test"},
		{"bare", "a@example.test", 0, AUTH_SPF_SENDER_OK, "a@example.test"},
		{"null", "<>", 0, AUTH_SPF_SENDER_NULL, ""},
		{"empty", "", 0, AUTH_SPF_SENDER_BAD, ""},
		{"source route", "<@r1.test,@r2.test:a@example.test>", 0, AUTH_SPF_SENDER_OK,
		 "a@example.test"},
		{"no at", "<postmaster>", 0, AUTH_SPF_SENDER_BAD, ""},
		{"control", "<a\r@example.test>", 0, AUTH_SPF_SENDER_BAD, ""},
		{"not NUL-terminated", "<a@example.test>XYZ", 16, AUTH_SPF_SENDER_OK,
		 "a@example.test"},
		{"quoted local", "<\"a b\"@example.test>", 0, AUTH_SPF_SENDER_OK,
		 "\"a b\"@example.test"},
		{"one bracket", "<", 0, AUTH_SPF_SENDER_BAD, ""},
	};
	char out[AUTH_SPF_SENDER_MAX], big[AUTH_SPF_SENDER_MAX + 10];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].path);
		enum auth_spf_sender got = auth_spf_sender(cases[i].path, len, out, sizeof(out));

		if (got != cases[i].want || strcmp(out, cases[i].want_out) != 0)
			tcase_bad(cases[i].name, "got %d \"%s\", want %d \"%s\"", got, out,
				  cases[i].want, cases[i].want_out);
	}
	memset(big, 'a', sizeof(big));
	big[5] = '@';
	if (auth_spf_sender(big, sizeof(big), out, sizeof(out)) != AUTH_SPF_SENDER_BAD)
		tcase_bad("too long", "got not BAD, want BAD");
	tcase_done();
}

/* unfold - RFC 5322 2.2.3: remove the line breaks */
static void
unfold(const char *in, char *out, size_t size)
{
	size_t k = 0;

	for (; *in && k + 1 < size; in++)
		if (*in != '\n')
			out[k++] = *in;
	out[k] = '\0';
}

/* longest_line - columns of the longest line, the first after prefix */
static size_t
longest_line(const char *s, size_t prefix)
{
	size_t max = 0, col = prefix;

	for (; *s; s++) {
		if (*s == '\n') {
			col = 0;
			continue;
		}
		if (++col > max)
			max = col;
	}
	return max;
}

/* test_fold - the Received-SPF folder */
static void
test_fold(void **state)
{
	static const struct {
		const char *name, *value;
		size_t prefix;
		const char *want;	/* NULL: only the invariants */
	} cases[] = {
		{"short", "pass (x) a=b", 14, "pass (x) a=b"},
		{"empty", "", 14, ""},
		{"one break", "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee "
		 "ffffffffff gggggggggg", 14,
		 "aaaaaaaaaa bbbbbbbbbb cccccccccc dddddddddd eeeeeeeeee\n ffffffffff gggggggggg"},
		{"long word stays", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "xxxxxxxxxxxxxxxxx y", 14,
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "xxxxxxxxxxxxxxxxx\n y"},
		{"double spaces not split", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  "
		 "bbbbbbbbbbbbbbbbbbbb", 14, NULL},
		{"received-spf", "fail (mx.example.net: domain of someone@fail.sp.test does not "
		 "designate 192.0.2.10 as permitted sender) client-ip=192.0.2.10; "
		 "envelope-from=someone@fail.sp.test; helo=client.example.net; "
		 "receiver=mx.example.net; identity=mailfrom; mechanism=-all", 14, NULL},
	};
	char out[1024], back[1024];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		int n = auth_fold(cases[i].value, cases[i].prefix, out, sizeof(out));
		const char *p;

		unfold(out, back, sizeof(back));
		if (n != (int)strlen(out))
			tcase_bad(cases[i].name, "got length %d, want %zu", n, strlen(out));
		else if (strcmp(back, cases[i].value) != 0)
			tcase_bad(cases[i].name, "got unfolded \"%s\", want \"%s\"", back,
				  cases[i].value);
		else if (cases[i].want && strcmp(out, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", out, cases[i].want);
		else if (strchr(cases[i].value, 'y') == NULL
			 && longest_line(out, cases[i].prefix) > AUTH_FOLD_WIDTH
			 && strstr(cases[i].name, "double") == NULL)
			tcase_bad(cases[i].name, "got a line of %zu columns, want <= %d",
				  longest_line(out, cases[i].prefix), AUTH_FOLD_WIDTH);
		/* no line may hold only white space (RFC 5322 3.2.2) */
		for (p = out; (p = strchr(p, '\n')) != NULL; p++) {
			const char *q = p + 1;

			while (*q == ' ')
				q++;
			if (*q == '\n' || *q == '\0')
				tcase_bad(cases[i].name, "got a blank line in \"%s\"", out);
		}
	}
	if (auth_fold("aaaa bbbb", 14, out, 5) != -1 || out[0] != '\0')
		tcase_bad("small buffer", "got \"%s\", want -1 and \"\"", out);
	tcase_done();
}

/* group_setup - knotd with sp.test and a zone without a file */
static int
group_setup(void **state)
{
	struct knot_fixture_zone zones[2] = {
		{"sp.test", zone_sp},
		{"broken.test", NULL},
	};
	const char *why;

	(void)state;
	if (!knot_fixture_available()) {
		snprintf(knot_err, sizeof(knot_err), "knotd/knotc not installed");
		return 0;
	}
	knot_ok = knot_fixture_start(&kf, zones, 2, 0, knot_err, sizeof(knot_err)) == 0;
	if (knot_ok) {
		if ((res = dns_resolver_new(kf.servers, 1000, &why)) == NULL)
			return -1;
		ev = spf_evaluator_new(res, 0, 0);
	}
	return 0;
}

/* group_teardown - stop knotd */
static int
group_teardown(void **state)
{
	(void)state;
	ev = spf_evaluator_free(ev);
	res = dns_resolver_free(res);
	if (knot_ok)
		knot_fixture_stop(&kf);
	return 0;
}

/* ar_text - the spf results as auth_report gives them, written */
static void
ar_text(const struct auth_spf *s, char *buf, size_t size)
{
	struct auth_ar_result r[8];
	struct auth_report_in in = {0};
	struct auth_verdict v = {AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE};
	size_t n;

	in.spf = s;
	in.verdict = &v;
	n = auth_report_results(&in, r, NELEM(r));
	auth_ar_write(buf, size, "mx.example.net", r, n);
}

/* test_check - whole checks through knotd */
static void
test_check(void **state)
{
	static const struct {
		const char *name, *ip, *helo, *path;
		enum spf_result want, want_helo;
		const char *want_domain, *want_received, *want_ar;
	} cases[] = {
		{"pass", "192.0.2.10", "helo.sp.test", "<a@pass.sp.test>", SPF_RES_PASS,
		 SPF_RES_PASS, "pass.sp.test",
		 "pass (mx.example.net: domain of a@pass.sp.test designates 192.0.2.10 as "
		 "permitted sender) client-ip=192.0.2.10; envelope-from=\"a@pass.sp.test\"; "
		 "helo=helo.sp.test; receiver=mx.example.net; identity=mailfrom; "
		 "mechanism=\"ip4:192.0.2.10\"",
		 "mx.example.net;\n\tspf=pass smtp.mailfrom=a@pass.sp.test;\n\t"
		 "spf=pass smtp.helo=helo.sp.test;\n\tdkim=none"},
		{"fail, helo pass", "192.0.2.10", "helo.sp.test", "<a@fail.sp.test>",
		 SPF_RES_FAIL, SPF_RES_PASS, "fail.sp.test", NULL,
		 "mx.example.net;\n\tspf=fail smtp.mailfrom=a@fail.sp.test;\n\t"
		 "spf=pass smtp.helo=helo.sp.test;\n\tdkim=none"},
		{"softfail", "192.0.2.10", "", "<a@soft.sp.test>", SPF_RES_SOFTFAIL,
		 SPF_RES_NONE, "soft.sp.test", NULL,
		 "mx.example.net;\n\tspf=softfail smtp.mailfrom=a@soft.sp.test;\n\tdkim=none"},
		{"neutral", "192.0.2.10", "x.nospf.sp.test", "<a@neutral.sp.test>",
		 SPF_RES_NEUTRAL, SPF_RES_NONE, "neutral.sp.test", NULL, NULL},
		{"none", "192.0.2.10", "helo.sp.test", "<a@nospf.sp.test>", SPF_RES_NONE,
		 SPF_RES_PASS, "nospf.sp.test", NULL, NULL},
		{"permerror", "192.0.2.10", "helo.sp.test", "<a@perm.sp.test>",
		 SPF_RES_PERMERROR, SPF_RES_PASS, "perm.sp.test", NULL, NULL},
		{"temperror", "192.0.2.10", "helo.sp.test", "<a@temp.sp.test>",
		 SPF_RES_TEMPERROR, SPF_RES_PASS, "temp.sp.test", NULL, NULL},
		{"null sender: HELO", "192.0.2.10", "helo.sp.test", "<>", SPF_RES_PASS,
		 SPF_RES_PASS, "helo.sp.test",
		 "pass (mx.example.net: domain of postmaster@helo.sp.test designates "
		 "192.0.2.10 as permitted sender) client-ip=192.0.2.10; "
		 "helo=helo.sp.test; receiver=mx.example.net; identity=helo; "
		 "mechanism=\"ip4:192.0.2.10\"",
		 "mx.example.net;\n\tspf=pass smtp.helo=helo.sp.test;\n\tdkim=none"},
		{"null sender, HELO fails", "192.0.2.99", "helo.sp.test", "<>", SPF_RES_FAIL,
		 SPF_RES_FAIL, "helo.sp.test", NULL, NULL},
		{"IPv6 HELO pass", "2001:db8::25", "helo.sp.test", "<a@fail.sp.test>",
		 SPF_RES_FAIL, SPF_RES_PASS, "fail.sp.test", NULL, NULL},
		{"null sender, no HELO", "192.0.2.10", "", "<>", SPF_RES_NONE, SPF_RES_NONE,
		 "", NULL, "mx.example.net;\n\tdkim=none"},
		{"upper case domain", "192.0.2.10", "", "<a@PASS.SP.TEST>", SPF_RES_PASS,
		 SPF_RES_NONE, "pass.sp.test", NULL, NULL},
	};
	struct auth_spf *s = malloc(sizeof(*s));
	char rcv[2048], back[2048], ar[2048];
	size_t i;

	if (!knot_ok) {
		print_message("knotd unavailable: %s\n", knot_err);
		free(s);
		skip();
	}
	for (i = 0; i < NELEM(cases); i++) {
		const struct spf_outcome *o;
		const char *domain;

		auth_spf_check(s, ev, cases[i].ip, cases[i].helo, cases[i].path,
			       "mx.example.net", NOW);
		o = auth_spf_identity(s, &domain);
		if (o->result != cases[i].want) {
			tcase_bad(cases[i].name, "got %s (%s), want %s", spf_result_name(o->result),
				  o->problem, spf_result_name(cases[i].want));
			continue;
		}
		if (s->heloid.result != cases[i].want_helo)
			tcase_bad(cases[i].name, "got helo %s, want %s",
				  spf_result_name(s->heloid.result),
				  spf_result_name(cases[i].want_helo));
		if (strcmp(domain, cases[i].want_domain) != 0)
			tcase_bad(cases[i].name, "got domain \"%s\", want \"%s\"", domain,
				  cases[i].want_domain);
		if (auth_spf_received(s, rcv, sizeof(rcv)) < 0) {
			tcase_bad(cases[i].name, "got no Received-SPF, want one");
			continue;
		}
		unfold(rcv, back, sizeof(back));
		if (strncmp(back, spf_result_name(cases[i].want),
			    strlen(spf_result_name(cases[i].want))) != 0)
			tcase_bad(cases[i].name, "got Received-SPF \"%s\", want result first", back);
		if (longest_line(rcv, 14) > AUTH_FOLD_WIDTH)
			tcase_bad(cases[i].name, "got Received-SPF line of %zu columns",
				  longest_line(rcv, 14));
		if (cases[i].want_received && strcmp(back, cases[i].want_received) != 0)
			tcase_bad(cases[i].name, "got Received-SPF \"%s\", want \"%s\"", back,
				  cases[i].want_received);
		ar_text(s, ar, sizeof(ar));
		if (cases[i].want_ar && strcmp(ar, cases[i].want_ar) != 0)
			tcase_bad(cases[i].name, "got AR \"%s\", want \"%s\"", ar,
				  cases[i].want_ar);
		if ((cases[i].want == SPF_RES_TEMPERROR || cases[i].want == SPF_RES_PERMERROR)
		    && strstr(ar, "reason=") == NULL)
			tcase_bad(cases[i].name, "got AR \"%s\", want a reason", ar);
	}
	free(s);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests_name("auth_spf", tests, group_setup, group_teardown);
}
