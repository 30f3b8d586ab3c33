/*++
 * NAME
 *	auth_from_test 1
 * SUMMARY
 *	unit tests of the DMARC From extraction (milters/auth/auth_from.c)
 * DESCRIPTION
 *	One table: the From field values of a message (0, 1 or 2 fields),
 *	the status and the Author Domain wanted. Groups, comments, encoded
 *	words, several addresses, IDN, literals, folding, garbage.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcase.h"
#include "../../milters/auth/auth_from.h"

static void
test_extract(void **state)
{
	static const struct {
		const char *name;
		size_t n;
		const char *f1, *f2;
		enum auth_from_status want;
		const char *want_domain;
	} cases[] = {
		{"plain", 1, "alice@Example.COM", NULL, AUTH_FROM_OK, "example.com"},
		{"display name", 1, "\"Alice A.\" <alice@example.com>", NULL, AUTH_FROM_OK, "example.com"},
		{"comments", 1, "(evil@attacker.example) alice@(x)example.com (y)", NULL,
		 AUTH_FROM_OK, "example.com"},
		{"comment in display", 1, "bob@attacker.example (x) <alice@example.com>", NULL,
		 AUTH_FROM_MALFORMED, ""},
		{"encoded word display", 1, "=?utf-8?q?Al=C3=AFce?= <alice@example.com>", NULL,
		 AUTH_FROM_OK, "example.com"},
		{"encoded word address", 1, "=?utf-8?b?YWxpY2VAZXhhbXBsZS5jb20=?=", NULL,
		 AUTH_FROM_MALFORMED, ""},
		{"group with one", 1, "Team: alice@example.com;", NULL, AUTH_FROM_OK, "example.com"},
		{"group with two", 1, "Team: alice@example.com, bob@example.org;", NULL,
		 AUTH_FROM_ADDRESSES, ""},
		{"empty group", 1, "Undisclosed recipients:;", NULL, AUTH_FROM_NONE, ""},
		{"two addresses", 1, "alice@example.com, bob@example.org", NULL,
		 AUTH_FROM_ADDRESSES, ""},
		{"three addresses", 1, "a@a.example, b@b.example, c@c.example", NULL,
		 AUTH_FROM_ADDRESSES, ""},
		{"two fields", 2, "alice@example.com", "alice@example.com", AUTH_FROM_FIELDS, ""},
		{"no field", 0, NULL, NULL, AUTH_FROM_NONE, ""},
		{"empty value", 1, "", NULL, AUTH_FROM_NONE, ""},
		{"only cfws", 1, "  (nobody) ", NULL, AUTH_FROM_NONE, ""},
		{"folded", 1, "Alice\r\n <alice@example.com>", NULL, AUTH_FROM_OK, "example.com"},
		{"idn", 1, "a@b\xc3\xbc\x63her.example", NULL, AUTH_FROM_OK, "xn--bcher-kva.example"},
		{"trailing dot", 1, "a@example.com.", NULL, AUTH_FROM_OK, "example.com"},
		{"literal", 1, "a@[192.0.2.1]", NULL, AUTH_FROM_MALFORMED, ""},
		{"no domain", 1, "alice", NULL, AUTH_FROM_MALFORMED, ""},
		{"garbage", 1, "<<<@@>>", NULL, AUTH_FROM_MALFORMED, ""},
		{"nul", 1, "a@exa\0mple.com", NULL, AUTH_FROM_MALFORMED, ""},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_from_field f[2];
		struct auth_from out;
		const char *why;
		enum auth_from_status st;
		size_t k;

		for (k = 0; k < cases[i].n; k++) {
			const char *v = k ? cases[i].f2 : cases[i].f1;

			f[k].value = v;
			f[k].len = strcmp(cases[i].name, "nul") == 0 ? 14 : strlen(v);
		}
		st = auth_from_extract(f, cases[i].n, &out, &why);
		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  auth_from_status_str(st), why ? why : "-",
				  auth_from_status_str(cases[i].want));
		else if (strcmp(out.domain, cases[i].want_domain) != 0)
			tcase_bad(cases[i].name, "got domain \"%s\", want \"%s\"",
				  out.domain, cases[i].want_domain);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract),
	};

	return cmocka_run_group_tests_name("auth_from", tests, NULL, NULL);
}
