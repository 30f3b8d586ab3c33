/*++
 * NAME
 *	dkim_policy_test 1
 * SUMMARY
 *	unit tests of the signing decision (milters/dkim/dkim_policy.c)
 * DESCRIPTION
 *	One table row per branch of dkim_policy_decide(), plus rows that pin
 *	the order of the checks documented in dkim_policy.h (first hit wins):
 *	hosted client, header limits, From, key, login map, sign. Then the
 *	names logged as action= and reason=.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../../milters/dkim/dkim_conf.h"
#include "../../milters/dkim/dkim_policy.h"


/* shorthands for the table */
#define AUTH	true, false		/* authenticated, not internal */
#define INTERN	false, true		/* internal, not authenticated */
#define BOTH	true, true
#define EXTERN	false, false

#define OK	DKIM_FROM_OK
#define NOFROM	DKIM_FROM_MISSING
#define FIELDS	DKIM_FROM_SEVERAL_FIELDS
#define MALF	DKIM_FROM_MALFORMED
#define ADDRS	DKIM_FROM_SEVERAL_ADDRESSES

#define UNCH	DKIM_LOGIN_UNCHECKED
#define ALLOW	DKIM_LOGIN_ALLOWED
#define NOTL	DKIM_LOGIN_NOT_LISTED
#define NOOWN	DKIM_LOGIN_NO_OWNER

/* options: sign_authenticated, sign_internal, unsignable, mismatch */
#define DEF	{true, true, DKIM_UNSIGNABLE_ACCEPT, DKIM_MISMATCH_PASS}
#define U_TEMP	{true, true, DKIM_UNSIGNABLE_TEMPFAIL, DKIM_MISMATCH_PASS}
#define U_REJ	{true, true, DKIM_UNSIGNABLE_REJECT, DKIM_MISMATCH_PASS}
#define M_REJ	{true, true, DKIM_UNSIGNABLE_ACCEPT, DKIM_MISMATCH_REJECT}
#define ALL_REJ	{true, true, DKIM_UNSIGNABLE_REJECT, DKIM_MISMATCH_REJECT}
#define NO_AUTH	{false, true, DKIM_UNSIGNABLE_REJECT, DKIM_MISMATCH_REJECT}
#define NO_INT	{true, false, DKIM_UNSIGNABLE_REJECT, DKIM_MISMATCH_REJECT}
#define NEITHER	{false, false, DKIM_UNSIGNABLE_REJECT, DKIM_MISMATCH_REJECT}

/* test_decide - the table */
static void
test_decide(void **state)
{
	static const struct {
		const char *name;
		struct dkim_policy_input in;	/* auth, internal, over, from, keys, login */
		struct dkim_policy_options opt;
		enum dkim_action want;
		enum dkim_reason want_reason;
	} cases[] = {
		/* 6. sign */
		{"auth signs", {AUTH, false, OK, 1, UNCH, false}, DEF,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"internal signs", {INTERN, false, OK, 1, UNCH, false}, DEF,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"both signs", {BOTH, false, OK, 2, ALLOW, false}, DEF,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"auth, login allowed", {AUTH, false, OK, 1, ALLOW, false}, ALL_REJ,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"auth, several keys", {AUTH, false, OK, 3, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},

		/* 1. not hosted: skip before anything else is looked at */
		{"external", {EXTERN, false, OK, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"external, malformed From", {EXTERN, false, MALF, 1, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"external, no From", {EXTERN, false, NOFROM, 0, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"external, headers over", {EXTERN, true, OK, 1, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"external, no key", {EXTERN, false, OK, 0, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"external, login not listed", {EXTERN, false, OK, 1, NOTL, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"auth, sign_authenticated=no", {AUTH, false, OK, 1, UNCH, false}, NO_AUTH,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"auth, sign_authenticated=no, malformed", {AUTH, false, MALF, 1, NOTL, false},
		 NO_AUTH, DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"internal, sign_internal_hosts=no", {INTERN, false, OK, 1, UNCH, false},
		 NO_INT, DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"both, signing neither", {BOTH, false, OK, 1, UNCH, false}, NEITHER,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"both, sign_authenticated=no", {BOTH, false, OK, 1, UNCH, false}, NO_AUTH,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"both, sign_internal_hosts=no", {BOTH, false, OK, 1, UNCH, false}, NO_INT,
		 DKIM_ACT_SIGN, DKIM_R_SIGN},

		/* 2. header limits: unsignable, before the From checks */
		{"headers over, accept", {AUTH, true, OK, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_HEADERS_TOO_LARGE},
		{"headers over, tempfail", {AUTH, true, OK, 1, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_HEADERS_TOO_LARGE},
		{"headers over, reject", {INTERN, true, OK, 1, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_HEADERS_TOO_LARGE},
		{"headers over and no From", {AUTH, true, NOFROM, 0, NOTL, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_HEADERS_TOO_LARGE},
		{"headers over, no key", {AUTH, true, OK, 0, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_HEADERS_TOO_LARGE},

		/* 3. From: unsignable, each reason with each action */
		{"no From, accept", {AUTH, false, NOFROM, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_NO_FROM},
		{"no From, tempfail", {AUTH, false, NOFROM, 1, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_NO_FROM},
		{"no From, reject", {INTERN, false, NOFROM, 1, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_NO_FROM},
		{"several From, accept", {AUTH, false, FIELDS, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_MULTIPLE_FROM},
		{"several From, tempfail", {AUTH, false, FIELDS, 1, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_MULTIPLE_FROM},
		{"several From, reject", {AUTH, false, FIELDS, 1, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_MULTIPLE_FROM},
		{"malformed From, accept", {AUTH, false, MALF, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_MALFORMED_FROM},
		{"malformed From, tempfail", {INTERN, false, MALF, 1, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_MALFORMED_FROM},
		{"malformed From, reject", {AUTH, false, MALF, 1, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_MALFORMED_FROM},
		{"several addresses, accept", {AUTH, false, ADDRS, 1, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_MULTIPLE_ADDRESSES},
		{"several addresses, tempfail", {AUTH, false, ADDRS, 1, UNCH, false}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_MULTIPLE_ADDRESSES},
		{"several addresses, reject", {BOTH, false, ADDRS, 1, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_MULTIPLE_ADDRESSES},
		/* Sendmail will rewrite From in a way dkim_smaddr cannot predict */
		{"From rewritten by the MTA, accept", {AUTH, false, OK, 1, ALLOW, true}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_FROM_REWRITTEN},
		{"From rewritten by the MTA, tempfail", {INTERN, false, OK, 1, UNCH, true}, U_TEMP,
		 DKIM_ACT_TEMPFAIL, DKIM_R_FROM_REWRITTEN},
		{"From rewritten by the MTA, reject", {AUTH, false, OK, 1, UNCH, true}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_FROM_REWRITTEN},
		{"malformed From wins over rewritten", {AUTH, false, MALF, 1, UNCH, true}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_MALFORMED_FROM},
		{"external, From rewritten", {EXTERN, false, OK, 1, UNCH, true}, U_REJ,
		 DKIM_ACT_SKIP, DKIM_R_EXTERNAL_CLIENT},
		{"malformed From before no key", {AUTH, false, MALF, 0, UNCH, false}, U_REJ,
		 DKIM_ACT_REJECT, DKIM_R_MALFORMED_FROM},
		{"no From before login", {AUTH, false, NOFROM, 1, NOTL, false}, ALL_REJ,
		 DKIM_ACT_REJECT, DKIM_R_NO_FROM},

		/* 4. no key: skip, whatever the unsignable action */
		{"internal, no key", {INTERN, false, OK, 0, UNCH, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_NO_KEY},
		{"auth, no key, all reject", {AUTH, false, OK, 0, UNCH, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_NO_KEY},
		{"no key before login", {AUTH, false, OK, 0, NOTL, false}, ALL_REJ,
		 DKIM_ACT_SKIP, DKIM_R_NO_KEY},

		/* 5. the login map, for authenticated logins only */
		{"login not listed, pass", {AUTH, false, OK, 1, NOTL, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_LOGIN_NOT_ALLOWED},
		{"login not listed, reject", {AUTH, false, OK, 1, NOTL, false}, M_REJ,
		 DKIM_ACT_REJECT, DKIM_R_LOGIN_NOT_ALLOWED},
		{"no owner, pass", {AUTH, false, OK, 1, NOOWN, false}, DEF,
		 DKIM_ACT_SKIP, DKIM_R_LOGIN_NOT_ALLOWED},
		{"no owner, reject", {AUTH, false, OK, 1, NOOWN, false}, M_REJ,
		 DKIM_ACT_REJECT, DKIM_R_LOGIN_NOT_ALLOWED},
		{"mismatch ignores unsignable", {AUTH, false, OK, 1, NOTL, false}, U_REJ,
		 DKIM_ACT_SKIP, DKIM_R_LOGIN_NOT_ALLOWED},
		{"internal and authenticated, not listed", {BOTH, false, OK, 1, NOTL, false},
		 M_REJ, DKIM_ACT_REJECT, DKIM_R_LOGIN_NOT_ALLOWED},
		{"internal unauthenticated, not listed", {INTERN, false, OK, 1, NOTL, false},
		 ALL_REJ, DKIM_ACT_SIGN, DKIM_R_SIGN},
		{"internal unauthenticated, no owner", {INTERN, false, OK, 1, NOOWN, false},
		 ALL_REJ, DKIM_ACT_SIGN, DKIM_R_SIGN},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dkim_verdict v = dkim_policy_decide(&cases[i].in,
							   &cases[i].opt);

		if (v.action != cases[i].want || v.reason != cases[i].want_reason)
			tcase_bad(cases[i].name, "got %s/%s, want %s/%s",
			    dkim_action_name(v.action), dkim_reason_name(v.reason),
			    dkim_action_name(cases[i].want),
			    dkim_reason_name(cases[i].want_reason));
	}
	tcase_done();
}

/* test_hosted - every combination of client kind and options */
static void
test_hosted(void **state)
{
	for (int m = 0; m < 16; m++) {
		bool auth = m & 1, internal = m & 2;
		struct dkim_policy_options opt = {
			(m & 4) != 0, (m & 8) != 0, DKIM_UNSIGNABLE_ACCEPT,
			DKIM_MISMATCH_PASS,
		};
		bool want = (auth && opt.sign_authenticated)
		    || (internal && opt.sign_internal);
		bool got = dkim_policy_hosted(auth, internal, &opt);

		if (got != want) {
			char name[64];

			snprintf(name, sizeof(name), "auth=%d internal=%d opt=%d/%d",
				 auth, internal, opt.sign_authenticated,
				 opt.sign_internal);
			tcase_bad(name, "got %d, want %d", got, want);
		}
	}
	tcase_done();
}

/* test_names - action= and reason= words */
static void
test_names(void **state)
{
	static const struct {
		enum dkim_action action;
		const char *want;
	} actions[] = {
		{DKIM_ACT_SIGN, "sign"}, {DKIM_ACT_SKIP, "skip"},
		{DKIM_ACT_TEMPFAIL, "tempfail"}, {DKIM_ACT_REJECT, "reject"},
		{(enum dkim_action)99, "unknown"}, {(enum dkim_action)-1, "unknown"},
	};
	static const struct {
		enum dkim_reason reason;
		const char *want;
	} reasons[] = {
		{DKIM_R_SIGN, "signed"},
		{DKIM_R_EXTERNAL_CLIENT, "external_client"},
		{DKIM_R_HEADERS_TOO_LARGE, "headers_too_large"},
		{DKIM_R_NO_FROM, "no_from"},
		{DKIM_R_MULTIPLE_FROM, "multiple_from_fields"},
		{DKIM_R_MALFORMED_FROM, "malformed_from"},
		{DKIM_R_MULTIPLE_ADDRESSES, "multiple_from_addresses"},
		{DKIM_R_NO_KEY, "no_key_for_domain"},
		{DKIM_R_LOGIN_NOT_ALLOWED, "login_not_allowed"},
		{DKIM_R_SIGNER_ERROR, "signer_error"},
		{DKIM_R_FROM_REWRITTEN, "from_rewritten_by_mta"},
		{(enum dkim_reason)(DKIM_R_FROM_REWRITTEN + 1), "unknown"},
		{(enum dkim_reason)-1, "unknown"},
	};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		const char *got = dkim_action_name(actions[i].action);

		if (got == NULL || strcmp(got, actions[i].want) != 0)
			tcase_bad(actions[i].want, "action %d: got \"%s\", want \"%s\"",
			    (int)actions[i].action, got ? got : "(null)",
			    actions[i].want);
	}
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		const char *got = dkim_reason_name(reasons[i].reason);

		if (got == NULL || strcmp(got, reasons[i].want) != 0)
			tcase_bad(reasons[i].want, "reason %d: got \"%s\", want \"%s\"",
			    (int)reasons[i].reason, got ? got : "(null)",
			    reasons[i].want);
	}
	/* log words: distinct, lower case and '_' only (one token in key=value) */
	for (int a = DKIM_R_SIGN; a <= DKIM_R_FROM_REWRITTEN; a++) {
		const char *x = dkim_reason_name((enum dkim_reason)a);

		for (const char *c = x; *c; c++)
			if (!islower((unsigned char)*c) && *c != '_')
				tcase_bad(x, "got character '%c', want [a-z_]", *c);
		for (int b = a + 1; b <= DKIM_R_FROM_REWRITTEN; b++)
			if (strcmp(x, dkim_reason_name((enum dkim_reason)b)) == 0)
				tcase_bad(x, "got it for reasons %d and %d, want one", a, b);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_hosted),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
