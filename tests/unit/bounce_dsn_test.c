/*++
 * NAME
 *	bounce_dsn_test 1
 * SUMMARY
 *	unit tests of the RFC 3464 / RFC 3463 parser (bounce_dsn.c)
 * DESCRIPTION
 *	Tables: status codes (valid, invalid, in free text); address field
 *	values; delivery-status bodies with one and several recipients,
 *	folded diagnostics, a missing empty line, junk lines, no recipient
 *	and more recipients than kept.
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

#include "../../milters/bounce/bounce_dsn.h"

/* test_status - RFC 3463 codes at the start of a value */
static void
test_status(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"5.1.1", "5.1.1"}, {"4.4.7 (delivery time expired)", "4.4.7"},
		{"2.0.0", "2.0.0"}, {"5.1.10", "5.1.10"}, {"5.7.509", "5.7.509"},
		{"5.1.1.", "5.1.1"}, {"3.1.1", ""}, {"5.1", ""}, {"5..1", ""},
		{"5.1.1234", ""}, {"5.1.1.1", ""}, {"51.1.1", ""}, {"", ""},
		{"5.1.x", ""}, {"x5.1.1", ""},
	};
	char out[16];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out[0] = '\0';
		n = bounce_dsn_status(cases[i].in, strlen(cases[i].in), out,
				      sizeof(out));
		if (n != strlen(cases[i].want) || (n && strcmp(out, cases[i].want)))
			tcase_bad(cases[i].in, "got \"%.*s\", want \"%s\"",
				  (int)n, out, cases[i].want);
	}
	tcase_done();
}

/* test_find_status - codes in free text */
static void
test_find_status(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"smtp; 550 5.1.1 <a@b>: user unknown", "5.1.1"},
		{"550-5.1.1 The email account", "5.1.1"},
		{"host 10.5.1.1 said 550 5.7.1 no", "5.7.1"},
		{"Remote Server returned '550 5.1.10 RESOLVER'", "5.1.10"},
		{"(#5.1.1)", "5.1.1"},
		{"552 1 Requested mail action aborted", ""},
		{"554.30 disabled", ""},
		{"version 1.5.1.1", ""},
		{"", ""},
	};
	char out[16];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce_dsn_find_status(cases[i].in, strlen(cases[i].in), out,
				       sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			tcase_bad(cases[i].in, "got \"%s\", want \"%s\"", out,
				  cases[i].want);
	}
	tcase_done();
}

/* test_addr - address field values */
static void
test_addr(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"rfc822; a@b.test", "a@b.test"},
		{"rfc822;a@b.test", "a@b.test"},
		{"RFC822; <a@b.test>", "a@b.test"},
		{"a@b.test", "a@b.test"},
		{"<a@b.test>", "a@b.test"},
		{"rfc822; a@b.test (Joe)", "a@b.test"},
		{"utf-8; u@b.test", "u@b.test"},
		{"rfc822;", ""},
		{"x-type;x@y;z", "x@y;z"}, {"a@b;c", "a@b;c"},
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce_dsn_addr(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			tcase_bad(cases[i].in, "got \"%s\", want \"%s\"", out,
				  cases[i].want);
	}
	bounce_dsn_addr("rfc822; abcdef@x", out, 4);
	if (strcmp(out, "abc") != 0)
		tcase_bad("bounded", "got \"%s\", want \"abc\"", out);
	tcase_done();
}

struct want_rcpt {
	const char *final, *orig, *action, *status, *diag, *mta;
};

/* test_parse - whole delivery-status bodies */
static void
test_parse(void **state)
{
	static const struct {
		const char *name, *in;
		int	rc;
		const char *reporting_mta, *envid;
		size_t	nrcpt;
		struct want_rcpt r[3];
	} cases[] = {
		{"postfix one recipient",
		 "Reporting-MTA: dns; mx.test\r\n"
		 "X-Postfix-Queue-ID: 4ABC\r\n"
		 "Original-Envelope-Id: env-1\r\n"
		 "Arrival-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
		 "\r\n"
		 "Final-Recipient: rfc822; nobody@dest.test\r\n"
		 "Original-Recipient: rfc822;Nobody@dest.test\r\n"
		 "Action: failed\r\n"
		 "Status: 5.1.1\r\n"
		 "Remote-MTA: dns; mx.dest.test\r\n"
		 "Diagnostic-Code: smtp; 550 5.1.1 <nobody@dest.test>: Recipient\r\n"
		 "    address rejected: User unknown\r\n",
		 0, "dns; mx.test", "env-1", 1,
		 {{"nobody@dest.test", "Nobody@dest.test", "failed", "5.1.1",
		   "smtp; 550 5.1.1 <nobody@dest.test>: Recipient address rejected: User unknown",
		   "dns; mx.dest.test"}}},
		{"three recipients, lf, extra blank lines",
		 "Reporting-MTA: dns; mx.test\n\n\n"
		 "Final-Recipient: rfc822; a@d.test\nAction: delivered\nStatus: 2.0.0\n\n"
		 "Final-Recipient: rfc822; b@d.test\nAction: Failed\nStatus: 5.2.2 (mailbox full)\n\n"
		 "Final-Recipient: rfc822; c@d.test\nAction: delayed\nStatus: 4.4.1\n"
		 "Will-Retry-Until: Tue, 2 Jan 2024 00:00:00 +0000\n\n\n",
		 0, "dns; mx.test", "", 3,
		 {{"a@d.test", "", "delivered", "2.0.0", "", ""},
		  {"b@d.test", "", "failed", "5.2.2", "", ""},
		  {"c@d.test", "", "delayed", "4.4.1", "", ""}}},
		{"no blank line after per-message",
		 "Reporting-MTA: dns; mx.test\nFinal-Recipient: rfc822; a@d.test\n"
		 "Action: failed\nStatus: 5.0.0\n",
		 0, "dns; mx.test", "", 1,
		 {{"a@d.test", "", "failed", "5.0.0", "", ""}}},
		{"junk and bad status",
		 "this is not a field\nReporting-MTA: x\n\n"
		 "  stray continuation\nFinal-Recipient: a@d.test\nAction: failed\n"
		 "Status: 550\nDiagnostic-Code: X-Postfix; unknown user: \"a\"\n",
		 0, "x", "", 1,
		 {{"a@d.test", "", "failed", "", "X-Postfix; unknown user: \"a\"", ""}}},
		{"no recipients", "Reporting-MTA: dns; mx.test\n\n", -1,
		 "dns; mx.test", "", 0, {{0}}},
		{"empty", "", -1, "", "", 0, {{0}}},
	};
	struct bounce_dsn *d = calloc(1, sizeof(*d));
	const struct want_rcpt *w;
	const struct bounce_dsn_rcpt *g;
	const char *why;
	char name[128];
	size_t i, j;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		rc = bounce_dsn_parse(cases[i].in, strlen(cases[i].in), d, &why);
		if (rc != cases[i].rc || d->nrcpt != cases[i].nrcpt
		    || (rc != 0) != (why != NULL)
		    || strcmp(d->reporting_mta, cases[i].reporting_mta)
		    || strcmp(d->envelope_id, cases[i].envid)) {
			tcase_bad(cases[i].name, "got rc %d nrcpt %zu mta \"%s\" "
				  "envid \"%s\", want %d %zu \"%s\" \"%s\"", rc,
				  d->nrcpt, d->reporting_mta, d->envelope_id,
				  cases[i].rc, cases[i].nrcpt,
				  cases[i].reporting_mta, cases[i].envid);
			continue;
		}
		for (j = 0; j < d->nrcpt; j++) {
			w = &cases[i].r[j];
			g = &d->rcpt[j];
			snprintf(name, sizeof(name), "%s: rcpt %zu", cases[i].name, j);
			if (strcmp(g->final_recipient, w->final)
			    || strcmp(g->original_recipient, w->orig)
			    || strcmp(g->action, w->action)
			    || strcmp(g->status, w->status)
			    || strcmp(g->diagnostic, w->diag)
			    || strcmp(g->remote_mta, w->mta))
				tcase_bad(name, "got %s|%s|%s|%s|%s|%s, want "
					  "%s|%s|%s|%s|%s|%s", g->final_recipient,
					  g->original_recipient, g->action,
					  g->status, g->diagnostic, g->remote_mta,
					  w->final, w->orig, w->action, w->status,
					  w->diag, w->mta);
		}
	}
	free(d);
	tcase_done();
}

/* test_many - recipients past the limit are counted, not kept */
static void
test_many(void **state)
{
	struct bounce_dsn *d = calloc(1, sizeof(*d));
	size_t cap = 16384, n = 0, i;
	char *buf = malloc(cap);
	const char *why;

	n += snprintf(buf + n, cap - n, "Reporting-MTA: dns; x\n\n");
	for (i = 0; i < 40; i++)
		n += snprintf(buf + n, cap - n, "Final-Recipient: rfc822; u%zu@d.test\n"
			      "Action: failed\nStatus: 5.1.1\n\n", i);
	if (bounce_dsn_parse(buf, n, d, &why) != 0 || d->nrcpt != BOUNCE_MAX_RCPTS
	    || d->nrcpt_seen != 40 || strcmp(d->rcpt[31].final_recipient,
					      "u31@d.test") != 0)
		tcase_bad("40 recipients", "got nrcpt %zu seen %zu, want %d 40",
			  d->nrcpt, d->nrcpt_seen, BOUNCE_MAX_RCPTS);
	free(buf);
	free(d);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_find_status),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
