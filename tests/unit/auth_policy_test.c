/*++
 * NAME
 *	auth_policy_test 1
 * SUMMARY
 *	unit tests of the disposition decision (milters/auth/auth_policy.c)
 * DESCRIPTION
 *	One table of facts and options against the verdict wanted: DMARC
 *	results and policies, t=y, trusted senders and forwarders, dry run,
 *	bad From fields under each setting, temperror actions, SPF reject.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcase.h"
#include "../../milters/auth/auth_policy.h"

#define OK	AUTH_FROM_OK
#define PASS	AUTH_DMARC_PASS
#define FAIL	AUTH_DMARC_FAIL
#define TEMP	AUTH_DMARC_TEMPERROR
#define R	AUTH_DMARC_P_REJECT
#define Q	AUTH_DMARC_P_QUARANTINE
#define N	AUTH_DMARC_P_NONE
#define ACC	AUTH_ACT_ACCEPT
#define QUA	AUTH_ACT_QUARANTINE
#define REJ	AUTH_ACT_REJECT
#define TMP	AUTH_ACT_TEMPFAIL

static void
test_decide(void **state)
{
	static const struct {
		const char *name;
		struct auth_policy_input in;
		struct auth_policy_options opt;
		enum auth_action want, want_would;
		enum auth_reason want_reason;
	} cases[] = {
		{"pass", {OK, 1, PASS, R, 0, 0, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_NONE},
		{"none", {OK, 1, AUTH_DMARC_NONE, N, 0, 0, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_NONE},
		{"permerror", {OK, 1, AUTH_DMARC_PERMERROR, N, 0, 0, 0, 0, 0}, {0}, ACC, ACC,
		 AUTH_R_NONE},
		{"fail reject", {OK, 1, FAIL, R, 0, 0, 0, 0, 0}, {0}, REJ, REJ, AUTH_R_DMARC_POLICY},
		{"fail quarantine", {OK, 1, FAIL, Q, 0, 0, 0, 0, 0}, {0}, QUA, QUA,
		 AUTH_R_DMARC_POLICY},
		{"fail none", {OK, 1, FAIL, N, 0, 0, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_DMARC_POLICY},
		{"t=y reject", {OK, 1, FAIL, R, 1, 0, 0, 0, 0}, {0}, QUA, QUA, AUTH_R_DMARC_TESTING},
		{"t=y quarantine", {OK, 1, FAIL, Q, 1, 0, 0, 0, 0}, {0}, ACC, ACC,
		 AUTH_R_DMARC_TESTING},
		{"t=y pass", {OK, 1, PASS, R, 1, 0, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_NONE},
		{"trusted sender", {OK, 1, FAIL, R, 0, 0, 1, 0, 0}, {0}, ACC, ACC,
		 AUTH_R_TRUSTED_SENDER},
		{"trusted forwarder", {OK, 1, FAIL, Q, 0, 0, 0, 1, 0}, {0}, ACC, ACC,
		 AUTH_R_TRUSTED_FORWARDER},
		{"dry run", {OK, 1, FAIL, R, 0, 0, 0, 0, 0}, {0, 0, 0, 1}, ACC, REJ,
		 AUTH_R_DMARC_POLICY},
		{"temperror accept", {OK, 1, TEMP, N, 0, 0, 0, 0, 0}, {0, AUTH_TEMPERROR_ACCEPT, 0, 0},
		 ACC, ACC, AUTH_R_DMARC_TEMPERROR},
		{"temperror tempfail", {OK, 1, TEMP, N, 0, 0, 0, 0, 0},
		 {0, AUTH_TEMPERROR_TEMPFAIL, 0, 0}, TMP, TMP, AUTH_R_DMARC_TEMPERROR},
		{"temperror tempfail dry", {OK, 1, TEMP, N, 0, 0, 0, 0, 0},
		 {0, AUTH_TEMPERROR_TEMPFAIL, 0, 1}, ACC, TMP, AUTH_R_DMARC_TEMPERROR},
		{"two From fields", {AUTH_FROM_FIELDS, 0, 0, N, 0, 0, 0, 0, 0}, {0}, REJ, REJ,
		 AUTH_R_FROM},
		{"two addresses tempfail", {AUTH_FROM_ADDRESSES, 0, 0, N, 0, 0, 0, 0, 0},
		 {0, 0, AUTH_BAD_FROM_TEMPFAIL, 0}, TMP, TMP, AUTH_R_FROM},
		{"no From accept", {AUTH_FROM_NONE, 0, 0, N, 0, 0, 0, 0, 0},
		 {0, 0, AUTH_BAD_FROM_ACCEPT, 0}, ACC, ACC, AUTH_R_FROM},
		{"bad From trusted", {AUTH_FROM_MALFORMED, 0, 0, N, 0, 0, 0, 1, 0}, {0}, ACC, ACC,
		 AUTH_R_TRUSTED_FORWARDER},
		{"spf fail off", {OK, 1, PASS, R, 0, 1, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_NONE},
		{"spf fail on", {OK, 1, PASS, R, 0, 1, 0, 0, 0}, {1, 0, 0, 0}, REJ, REJ,
		 AUTH_R_SPF_FAIL},
		{"spf fail on trusted", {OK, 1, PASS, R, 0, 1, 1, 0, 0}, {1, 0, 0, 0}, ACC, ACC,
		 AUTH_R_TRUSTED_SENDER},
		{"dmarc not done", {OK, 0, FAIL, R, 0, 0, 0, 0, 0}, {0}, ACC, ACC, AUTH_R_NONE},
		{"spf temperror, reject off", {OK, 1, FAIL, R, 0, 0, 0, 0, 1},
		 {0, AUTH_TEMPERROR_TEMPFAIL, 0, 0}, REJ, REJ, AUTH_R_DMARC_POLICY},
		{"spf temperror tempfail", {OK, 1, PASS, R, 0, 0, 0, 0, 1},
		 {1, AUTH_TEMPERROR_TEMPFAIL, 0, 0}, TMP, TMP, AUTH_R_SPF_TEMPERROR},
		{"spf temperror accept", {OK, 1, PASS, R, 0, 0, 0, 0, 1},
		 {1, AUTH_TEMPERROR_ACCEPT, 0, 0}, ACC, ACC, AUTH_R_NONE},
		{"spf temperror trusted", {OK, 1, PASS, R, 0, 0, 0, 1, 1},
		 {1, AUTH_TEMPERROR_TEMPFAIL, 0, 0}, ACC, ACC, AUTH_R_TRUSTED_FORWARDER},
		{"spf temperror dry run", {OK, 1, PASS, R, 0, 0, 0, 0, 1},
		 {1, AUTH_TEMPERROR_TEMPFAIL, 0, 1}, ACC, TMP, AUTH_R_SPF_TEMPERROR},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_verdict v = auth_policy_decide(&cases[i].in, &cases[i].opt);

		if (v.action != cases[i].want || v.would != cases[i].want_would
		    || v.reason != cases[i].want_reason)
			tcase_bad(cases[i].name, "got %s/%s/%s, want %s/%s/%s",
				  auth_action_name(v.action), auth_action_name(v.would),
				  auth_reason_name(v.reason), auth_action_name(cases[i].want),
				  auth_action_name(cases[i].want_would),
				  auth_reason_name(cases[i].want_reason));
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
	};

	return cmocka_run_group_tests_name("auth_policy", tests, NULL, NULL);
}
