/*++
 * NAME
 *	milter_reply_test 1
 * SUMMARY
 *	unit tests of the verdict-to-reply tables (common/milter_reply.c,
 *	milters/<m>/<m>_reply.c for dkim, auth, bounce, limit)
 * DESCRIPTION
 *	text/<row>	a row's text with its argument: none, at the start,
 *			middle or end, NULL, too long for the buffer.
 *	bytes/<row>	every verdict of the four milters against the reply
 *			the client reads, byte for byte ("550 5.7.1 text",
 *			the wordings the callbacks wrote before the tables).
 *	rules/<table>	each table: every verdict once, REJECT with a 5xx
 *			and TEMPFAIL with a 4xx, the enhanced code of the
 *			same class (RFC 3463 section 2), at most one "%s"
 *			and no other '%', no CR or LF.
 *	map/<row>	dkim_reply_of(), auth_reply_of(),
 *			limit_reply_of_pause(), dkim_policy_signer_error().
 *	Failures read "got X, want Y".
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcase.h"
#include "milter_reply.h"
#include "../../milters/auth/auth_reply.h"
#include "../../milters/bounce/bounce_reply.h"
#include "../../milters/dkim/dkim_conf.h"
#include "../../milters/dkim/dkim_reply.h"
#include "../../milters/limit/limit_conf.h"
#include "../../milters/limit/limit_reply.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* test_text - the argument in place of "%s" */
static void
test_text(void **state)
{
	static const struct {
		const char *name, *text, *arg;
		size_t len;
		const char *want;
		bool want_fits;
	} cases[] = {
		{"no %s", "Temporary failure", "x", 64, "Temporary failure", true},
		{"middle", "DMARC policy of %s rejects", "example.com", 64,
		 "DMARC policy of example.com rejects", true},
		{"start", "%s: suppressed", "<a@b>", 64, "<a@b>: suppressed", true},
		{"end", "SPF check of %s", "example.com", 64, "SPF check of example.com", true},
		{"whole", "%s", "quota text", 64, "quota text", true},
		{"NULL arg", "SPF check of %s failed", NULL, 64, "SPF check of  failed", true},
		{"arg with %", "%s", "50% off", 64, "50% off", true},
		{"exact fit", "ab%s", "cd", 5, "abcd", true},
		{"one short", "ab%s", "cde", 5, "abcd", false},
		{"tiny buffer", "abc", NULL, 1, "", false},
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct milter_reply r = {0, SMFIS_REJECT, "550", "5.7.1", cases[i].text};
		char buf[64];
		bool fits = milter_reply_text(&r, cases[i].arg, buf, cases[i].len);

		if (strcmp(buf, cases[i].want) != 0 || fits != cases[i].want_fits)
			tcase_bad(cases[i].name, "got \"%s\" fits=%d, want \"%s\" fits=%d",
				  buf, fits, cases[i].want, cases[i].want_fits);
	}
	tcase_done();
}

static const struct bytes_case {
	const char *name;
	const struct milter_reply_table *t;
	int verdict;
	const char *arg;
	sfsistat rc;
	const char *want;
} bytes_cases[] = {
	{"dkim state", &dkim_reply_table, DKIM_REPLY_STATE_FAILED, NULL, SMFIS_TEMPFAIL,
	 "451 4.3.0 Temporary failure, try again later"},
	{"dkim signer error", &dkim_reply_table, DKIM_REPLY_SIGNER_ERROR, NULL, SMFIS_TEMPFAIL,
	 "451 4.3.0 Temporary DKIM signing failure, try again later"},
	{"dkim headers tempfail", &dkim_reply_table, DKIM_REPLY_HEADERS_TOO_LARGE_TEMPFAIL,
	 NULL, SMFIS_TEMPFAIL,
	 "451 4.7.0 Message cannot be DKIM-signed: header section too large"},
	{"dkim From tempfail", &dkim_reply_table, DKIM_REPLY_BAD_FROM_TEMPFAIL, NULL,
	 SMFIS_TEMPFAIL, "451 4.7.0 Message cannot be DKIM-signed: check the From header"},
	{"dkim login", &dkim_reply_table, DKIM_REPLY_LOGIN_NOT_ALLOWED, NULL, SMFIS_REJECT,
	 "550 5.7.1 Sender address not owned by the authenticated user"},
	{"dkim headers reject", &dkim_reply_table, DKIM_REPLY_HEADERS_TOO_LARGE_REJECT, NULL,
	 SMFIS_REJECT, "550 5.7.1 Message cannot be DKIM-signed: header section too large"},
	{"dkim From reject", &dkim_reply_table, DKIM_REPLY_BAD_FROM_REJECT, NULL, SMFIS_REJECT,
	 "550 5.7.1 Message cannot be DKIM-signed: malformed, missing or several From addresses"},
	{"auth From reject", &auth_reply_table, AUTH_REPLY_BAD_FROM_REJECT, "example.com",
	 SMFIS_REJECT, "550 5.7.1 Message must have exactly one From address"},
	{"auth SPF fail", &auth_reply_table, AUTH_REPLY_SPF_FAIL, "example.net", SMFIS_REJECT,
	 "550 5.7.23 SPF check of example.net failed"},
	{"auth DMARC reject", &auth_reply_table, AUTH_REPLY_DMARC_REJECT, "example.com",
	 SMFIS_REJECT, "550 5.7.1 DMARC policy of example.com rejects this message"},
	{"auth SPF temperror", &auth_reply_table, AUTH_REPLY_SPF_TEMPERROR, "example.net",
	 SMFIS_TEMPFAIL, "451 4.7.24 SPF check of example.net failed temporarily, try again later"},
	{"auth From tempfail", &auth_reply_table, AUTH_REPLY_BAD_FROM_TEMPFAIL, "example.com",
	 SMFIS_TEMPFAIL, "451 4.7.1 Message must have exactly one From address"},
	{"auth DMARC temperror", &auth_reply_table, AUTH_REPLY_DMARC_TEMPERROR, "example.com",
	 SMFIS_TEMPFAIL, "451 4.3.0 DMARC check failed temporarily, try again later"},
	{"bounce redis", &bounce_reply_table, BOUNCE_REPLY_REDIS_ERROR, NULL, SMFIS_TEMPFAIL,
	 "451 4.3.0 Temporary failure, please try again later"},
	{"bounce crypto", &bounce_reply_table, BOUNCE_REPLY_CRYPTO_ERROR, NULL, SMFIS_TEMPFAIL,
	 "451 4.3.0 Temporary failure, please try again later"},
	{"bounce bad tag", &bounce_reply_table, BOUNCE_REPLY_BAD_TAG, NULL, SMFIS_REJECT,
	 "550 5.7.1 Invalid bounce address: no message of ours was sent with this return path"},
	{"bounce suppressed", &bounce_reply_table, BOUNCE_REPLY_SUPPRESSED,
	 "<a@example.com>: recipient suppressed", SMFIS_REJECT,
	 "550 5.1.1 <a@example.com>: recipient suppressed"},
	{"bounce tracked body not replaced", &bounce_reply_table, BOUNCE_REPLY_REPLACEBODY_FAILED,
	 NULL, SMFIS_TEMPFAIL, "451 4.3.0 Temporary failure, please try again later"},
	{"limit redis", &limit_reply_table, LIMIT_REPLY_REDIS_ERROR, "", SMFIS_TEMPFAIL,
	 "451 4.3.0 Temporary failure checking sending limits; try again later"},
	{"limit exceeded", &limit_reply_table, LIMIT_REPLY_EXCEEDED, "", SMFIS_TEMPFAIL,
	 "451 4.7.1 Sending limit exceeded; try again later"},
	{"limit over tempfail", &limit_reply_table, LIMIT_REPLY_OVER_TEMPFAIL, "Sending quota x",
	 SMFIS_TEMPFAIL, "451 4.7.1 Sending quota x"},
	{"limit over reject", &limit_reply_table, LIMIT_REPLY_OVER_REJECT, "Sending quota y",
	 SMFIS_REJECT, "550 5.7.1 Sending quota y"},
	{"limit paused tempfail", &limit_reply_table, LIMIT_REPLY_PAUSED_TEMPFAIL,
	 "Sending paused for t", SMFIS_TEMPFAIL, "451 4.7.1 Sending paused for t"},
	{"limit paused reject", &limit_reply_table, LIMIT_REPLY_PAUSED_REJECT,
	 "Sending paused for t", SMFIS_REJECT, "550 5.7.1 Sending paused for t"},
};

/* test_bytes - what the client reads for every verdict */
static void
test_bytes(void **state)
{
	for (size_t i = 0; i < NELEM(bytes_cases); i++) {
		const struct bytes_case *c = &bytes_cases[i];
		const struct milter_reply *r = milter_reply_find(c->t, c->verdict);
		char text[MILTER_REPLY_TEXT_MAX], got[MILTER_REPLY_TEXT_MAX + 32];

		if (r == NULL) {
			tcase_bad(c->name, "got no row, want \"%s\"", c->want);
			continue;
		}
		milter_reply_text(r, c->arg, text, sizeof(text));
		snprintf(got, sizeof(got), "%s %s %s", r->rcode, r->xcode, text);
		if (strcmp(got, c->want) != 0 || r->rc != c->rc)
			tcase_bad(c->name, "got \"%s\" rc=%d, want \"%s\" rc=%d", got,
				  (int)r->rc, c->want, (int)c->rc);
	}
	tcase_done();
}

/* test_rules - the shape of every table */
static void
test_rules(void **state)
{
	static const struct {
		const struct milter_reply_table *t;
		int nverdicts;		/* the enum's values with a row */
		int first;
	} tables[] = {
		{&dkim_reply_table, DKIM_REPLY_BAD_FROM_REJECT, DKIM_REPLY_STATE_FAILED},
		{&auth_reply_table, AUTH_REPLY_DMARC_TEMPERROR, AUTH_REPLY_BAD_FROM_REJECT},
		{&bounce_reply_table, BOUNCE_REPLY_REPLACEBODY_FAILED + 1, BOUNCE_REPLY_REDIS_ERROR},
		{&limit_reply_table, LIMIT_REPLY_PAUSED_REJECT + 1, LIMIT_REPLY_REDIS_ERROR},
	};

	for (size_t i = 0; i < NELEM(tables); i++) {
		const struct milter_reply_table *t = tables[i].t;
		size_t bytes_rows = 0;

		if (t->count != (size_t)tables[i].nverdicts)
			tcase_bad(t->milter, "got %zu rows, want %d", t->count,
				  tables[i].nverdicts);
		for (int v = tables[i].first; v < tables[i].first + tables[i].nverdicts; v++) {
			size_t n = 0;

			for (size_t k = 0; k < t->count; k++)
				n += t->rows[k].verdict == v;
			if (n != 1)
				tcase_bad(t->milter, "verdict %d: got %zu rows, want 1", v, n);
		}
		for (size_t k = 0; k < t->count; k++) {
			const struct milter_reply *r = &t->rows[k];
			const char *pct = strchr(r->text, '%');
			char cls = r->rc == SMFIS_REJECT ? '5' : r->rc == SMFIS_TEMPFAIL ? '4' : '?';

			if (strlen(r->rcode) != 3 || r->rcode[0] != cls || r->xcode[0] != cls
			    || r->xcode[1] != '.')
				tcase_bad(t->milter, "verdict %d: got rc=%d \"%s %s\", want class %c",
					  r->verdict, (int)r->rc, r->rcode, r->xcode, cls);
			if (pct != NULL && (pct[1] != 's' || strchr(pct + 1, '%') != NULL))
				tcase_bad(t->milter, "verdict %d: got text \"%s\", want at most "
					  "one %%s and no other %%", r->verdict, r->text);
			if (strpbrk(r->text, "\r\n") != NULL)
				tcase_bad(t->milter, "verdict %d: got CR or LF in the text",
					  r->verdict);
			for (size_t j = 0; j < NELEM(bytes_cases); j++)
				bytes_rows += bytes_cases[j].t == t
				    && bytes_cases[j].verdict == r->verdict;
		}
		/* every row has its wording pinned in test_bytes */
		if (bytes_rows != t->count)
			tcase_bad(t->milter, "got %zu rows in test_bytes, want %zu", bytes_rows,
				  t->count);
	}
	tcase_done();
}

/* test_map - verdicts of the policies to table rows */
static void
test_map(void **state)
{
	static const struct {
		const char *name;
		enum dkim_action a;
		enum dkim_reason r;
		enum dkim_reply want;
	} dk[] = {
		{"sign", DKIM_ACT_SIGN, DKIM_R_SIGN, DKIM_REPLY_NONE},
		{"skip", DKIM_ACT_SKIP, DKIM_R_NO_KEY, DKIM_REPLY_NONE},
		{"signer tempfail", DKIM_ACT_TEMPFAIL, DKIM_R_SIGNER_ERROR, DKIM_REPLY_SIGNER_ERROR},
		{"headers tempfail", DKIM_ACT_TEMPFAIL, DKIM_R_HEADERS_TOO_LARGE,
		 DKIM_REPLY_HEADERS_TOO_LARGE_TEMPFAIL},
		{"no From tempfail", DKIM_ACT_TEMPFAIL, DKIM_R_NO_FROM, DKIM_REPLY_BAD_FROM_TEMPFAIL},
		{"two addresses tempfail", DKIM_ACT_TEMPFAIL, DKIM_R_MULTIPLE_ADDRESSES,
		 DKIM_REPLY_BAD_FROM_TEMPFAIL},
		{"login reject", DKIM_ACT_REJECT, DKIM_R_LOGIN_NOT_ALLOWED,
		 DKIM_REPLY_LOGIN_NOT_ALLOWED},
		{"headers reject", DKIM_ACT_REJECT, DKIM_R_HEADERS_TOO_LARGE,
		 DKIM_REPLY_HEADERS_TOO_LARGE_REJECT},
		{"malformed reject", DKIM_ACT_REJECT, DKIM_R_MALFORMED_FROM,
		 DKIM_REPLY_BAD_FROM_REJECT},
	};
	static const struct {
		const char *name;
		struct auth_verdict v;
		enum auth_reply want;
	} au[] = {
		{"accept", {AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE}, AUTH_REPLY_NONE},
		{"quarantine", {AUTH_ACT_QUARANTINE, AUTH_ACT_QUARANTINE, AUTH_R_DMARC_POLICY},
		 AUTH_REPLY_NONE},
		{"dry run", {AUTH_ACT_ACCEPT, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY}, AUTH_REPLY_NONE},
		{"From reject", {AUTH_ACT_REJECT, AUTH_ACT_REJECT, AUTH_R_FROM},
		 AUTH_REPLY_BAD_FROM_REJECT},
		{"SPF reject", {AUTH_ACT_REJECT, AUTH_ACT_REJECT, AUTH_R_SPF_FAIL}, AUTH_REPLY_SPF_FAIL},
		{"DMARC reject", {AUTH_ACT_REJECT, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY},
		 AUTH_REPLY_DMARC_REJECT},
		{"SPF tempfail", {AUTH_ACT_TEMPFAIL, AUTH_ACT_TEMPFAIL, AUTH_R_SPF_TEMPERROR},
		 AUTH_REPLY_SPF_TEMPERROR},
		{"From tempfail", {AUTH_ACT_TEMPFAIL, AUTH_ACT_TEMPFAIL, AUTH_R_FROM},
		 AUTH_REPLY_BAD_FROM_TEMPFAIL},
		{"DMARC tempfail", {AUTH_ACT_TEMPFAIL, AUTH_ACT_TEMPFAIL, AUTH_R_DMARC_TEMPERROR},
		 AUTH_REPLY_DMARC_TEMPERROR},
	};
	struct dkim_verdict se;

	for (size_t i = 0; i < NELEM(dk); i++)
		if (dkim_reply_of(dk[i].a, dk[i].r) != dk[i].want)
			tcase_bad(dk[i].name, "got dkim reply %d, want %d",
				  (int)dkim_reply_of(dk[i].a, dk[i].r), (int)dk[i].want);
	for (size_t i = 0; i < NELEM(au); i++)
		if (auth_reply_of(&au[i].v) != au[i].want)
			tcase_bad(au[i].name, "got auth reply %d, want %d",
				  (int)auth_reply_of(&au[i].v), (int)au[i].want);
	if (limit_reply_of_pause(LIMIT_PAUSE_REJECT) != LIMIT_REPLY_PAUSED_REJECT
	    || limit_reply_of_pause(LIMIT_PAUSE_TEMPFAIL) != LIMIT_REPLY_PAUSED_TEMPFAIL)
		tcase_bad("limit pause", "got %d/%d, want %d/%d",
			  (int)limit_reply_of_pause(LIMIT_PAUSE_REJECT),
			  (int)limit_reply_of_pause(LIMIT_PAUSE_TEMPFAIL),
			  (int)LIMIT_REPLY_PAUSED_REJECT, (int)LIMIT_REPLY_PAUSED_TEMPFAIL);
	se = dkim_policy_signer_error(DKIM_ERROR_TEMPFAIL);
	if (se.action != DKIM_ACT_TEMPFAIL || se.reason != DKIM_R_SIGNER_ERROR)
		tcase_bad("signer error tempfail", "got %s/%s, want tempfail/signer_error",
			  dkim_action_name(se.action), dkim_reason_name(se.reason));
	se = dkim_policy_signer_error(DKIM_ERROR_ACCEPT);
	if (se.action != DKIM_ACT_SKIP || se.reason != DKIM_R_SIGNER_ERROR)
		tcase_bad("signer error accept", "got %s/%s, want skip/signer_error",
			  dkim_action_name(se.action), dkim_reason_name(se.reason));
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
