/*++
 * NAME
 *	auth_report_test 1
 * SUMMARY
 *	unit tests of the Authentication-Results elements (milters/auth/auth_report.c)
 * DESCRIPTION
 *	One table: signatures (none, pass with key size and b=, fail with a
 *	reason, several), DMARC (not evaluated, no record, pass, fail with
 *	the disposition applied, dry run, t=y) and a small result array;
 *	each row compares the header auth_ar_write() makes of the results.
 *	The spf elements are tested with real checks in auth_spf_test.c.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tcase.h"
#include "../../milters/auth/auth_report.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct auth_dkim_sig sig_pass = {
	AUTH_DKIM_PASS, "", "example.test", "s1", "rsa-sha256", "AbCdEfGh", 2048,
};
static const struct auth_dkim_sig sig_fail = {
	AUTH_DKIM_FAIL, "body hash mismatch", "evil.test", "k", "ed25519-sha256", "", 0,
};

/* test_results - rows of facts against the header written */
static void
test_results(void **state)
{
	static const struct {
		const char *name;
		size_t nsigs;
		int sigs;		/* 1: pass, 2: fail, 3: pass then fail */
		int dmarc;		/* 0: not done, 1: no record, 2: record */
		enum auth_dmarc_res res;
		bool testing;
		enum auth_action action;
		size_t max;
		const char *want;
		int sp;			/* 1: the policy came from sp=quarantine */
	} cases[] = {
		{"nothing", 0, 0, 0, AUTH_DMARC_NONE, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=none", 0},
		{"pass with key size", 1, 1, 0, AUTH_DMARC_NONE, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=pass (2048-bit key) header.d=example.test header.s=s1 "
		 "header.a=rsa-sha256 header.b=AbCdEfGh", 0},
		{"fail with reason", 1, 2, 0, AUTH_DMARC_NONE, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=fail reason=\"body hash mismatch\" header.d=evil.test "
		 "header.s=k header.a=ed25519-sha256", 0},
		{"two signatures", 2, 3, 0, AUTH_DMARC_NONE, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=pass (2048-bit key) header.d=example.test header.s=s1 "
		 "header.a=rsa-sha256 header.b=AbCdEfGh;\n\tdkim=fail reason=\"body hash "
		 "mismatch\" header.d=evil.test header.s=k header.a=ed25519-sha256", 0},
		{"dmarc none", 0, 0, 1, AUTH_DMARC_NONE, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=none reason=\"no DMARC record\" "
		 "header.from=example.test", 0},
		{"dmarc pass", 1, 1, 2, AUTH_DMARC_PASS, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=pass (2048-bit key) header.d=example.test header.s=s1 "
		 "header.a=rsa-sha256 header.b=AbCdEfGh;\n\tdmarc=pass header.from=example.test "
		 "policy.dmarc=reject policy.published-domain-policy=reject policy.applied-disposition=none", 0},
		{"dmarc fail rejected", 0, 0, 2, AUTH_DMARC_FAIL, 0, AUTH_ACT_REJECT, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=fail reason=\"no aligned SPF or DKIM pass\" "
		 "header.from=example.test policy.dmarc=reject policy.published-domain-policy=reject policy.applied-disposition=reject", 0},
		{"dry run applies none", 0, 0, 2, AUTH_DMARC_FAIL, 0, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=fail reason=\"no aligned SPF or DKIM pass\" "
		 "header.from=example.test policy.dmarc=reject policy.published-domain-policy=reject policy.applied-disposition=none", 0},
		{"t=y comment", 0, 0, 2, AUTH_DMARC_FAIL, 1, AUTH_ACT_QUARANTINE, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=fail (t=y testing) reason=\"no aligned SPF or "
		 "DKIM pass\" header.from=example.test policy.dmarc=quarantine "
		 "policy.published-domain-policy=reject policy.applied-disposition=quarantine", 0},
		{"t=y, sp=quarantine: none", 0, 0, 2, AUTH_DMARC_FAIL, 1, AUTH_ACT_ACCEPT, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=fail (t=y testing) reason=\"no aligned SPF or "
		 "DKIM pass\" header.from=example.test policy.dmarc=none "
		 "policy.published-domain-policy=reject policy.applied-disposition=none", 1},
		{"sp=quarantine applied", 0, 0, 2, AUTH_DMARC_FAIL, 0, AUTH_ACT_QUARANTINE, 8,
		 "mx.test;\n\tdkim=none;\n\tdmarc=fail reason=\"no aligned SPF or DKIM pass\" "
		 "header.from=example.test policy.dmarc=quarantine "
		 "policy.published-domain-policy=reject policy.applied-disposition=quarantine", 1},
		{"room for dmarc kept", 2, 3, 2, AUTH_DMARC_PASS, 0, AUTH_ACT_ACCEPT, 2,
		 "mx.test;\n\tdkim=pass (2048-bit key) header.d=example.test header.s=s1 "
		 "header.a=rsa-sha256 header.b=AbCdEfGh;\n\tdmarc=pass header.from=example.test "
		 "policy.dmarc=reject policy.published-domain-policy=reject policy.applied-disposition=none", 0},
	};
	struct auth_ar_result out[8];
	char buf[4096];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct auth_dkim_sig sigs[2];
		struct auth_dmarc_result dr;
		struct auth_verdict v = {cases[i].action, cases[i].action, AUTH_R_NONE};
		struct auth_report_in in = {0};
		size_t n;

		memset(&dr, 0, sizeof(dr));
		sigs[0] = cases[i].sigs == 2 ? sig_fail : sig_pass;
		sigs[1] = sig_fail;
		in.sigs = sigs;
		in.nsigs = cases[i].nsigs;
		in.dmarc_done = cases[i].dmarc != 0;
		dr.res = cases[i].res;
		dr.why = cases[i].res == AUTH_DMARC_NONE ? "no DMARC record"
		    : cases[i].res == AUTH_DMARC_FAIL ? "no aligned SPF or DKIM pass" : "aligned";
		dr.record_found = cases[i].dmarc == 2;
		dr.rec.p = AUTH_DMARC_P_REJECT;
		dr.policy = cases[i].sp ? AUTH_DMARC_P_QUARANTINE : AUTH_DMARC_P_REJECT;
		dr.rec.testing = cases[i].testing;
		in.dmarc = &dr;
		in.dmarc_res = cases[i].res;
		in.from_domain = "example.test";
		in.verdict = &v;
		n = auth_report_results(&in, out, cases[i].max);
		if (n > cases[i].max) {
			tcase_bad(cases[i].name, "got %zu results, want at most %zu", n,
				  cases[i].max);
			continue;
		}
		auth_ar_write(buf, sizeof(buf), "mx.test", out, n);
		if (strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf, cases[i].want);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
	};

	return cmocka_run_group_tests_name("auth_report", tests, NULL, NULL);
}
