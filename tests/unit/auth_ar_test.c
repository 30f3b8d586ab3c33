/*++
 * NAME
 *	auth_ar_test 1
 * SUMMARY
 *	unit tests of the Authentication-Results parser and writer
 *	(milters/auth/auth_ar.c)
 * DESCRIPTION
 *	Parser rows: an input, the status, the authserv-id and a summary of
 *	every result ("method=result[reason]{ptype.prop=value ...}" joined
 *	by "; "). They cover comments and folding everywhere CFWS may be,
 *	quoted ids, versions, "none", many results against the limit,
 *	garbage after a good id, and inputs that are not NUL-terminated.
 *	Writer rows: results in, the exact header value out (quoting,
 *	comments, escaping of control bytes, truncation). A round trip
 *	checks that what we write parses back to what we wrote.
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
#include "../../milters/auth/auth_ar.h"

/* summarize - the parsed results as one line */
static void
summarize(const struct auth_ar *ar, char *buf, size_t size)
{
	size_t i, j, n = 0;

	buf[0] = '\0';
	if (ar->none)
		n += snprintf(buf + n, size - n, "none");
	for (i = 0; i < ar->nresults && n < size; i++) {
		const struct auth_ar_result *r = &ar->results[i];

		n += snprintf(buf + n, size - n, "%s%s=%s", i ? "; " : "",
			      r->method, r->result);
		if (r->version && n < size)
			n += snprintf(buf + n, size - n, "/v%d", r->version);
		if (r->reason[0] && n < size)
			n += snprintf(buf + n, size - n, "[%s]", r->reason);
		if (r->nprops && n < size) {
			n += snprintf(buf + n, size - n, "{");
			for (j = 0; j < r->nprops && n < size; j++)
				n += snprintf(buf + n, size - n, "%s%s.%s=%s",
					      j ? " " : "", r->props[j].ptype,
					      r->props[j].property, r->props[j].value);
			if (n < size)
				n += snprintf(buf + n, size - n, "}");
		}
	}
}

/* many - "id; " then n "spf=pass" results */
static char *
many(size_t n)
{
	char *s = malloc(16 + n * 16);
	size_t i, k = 0;

	k += sprintf(s, "mx.example.net");
	for (i = 0; i < n; i++)
		k += sprintf(s + k, "; spf=pass");
	return s;
}

static void
test_parse(void **state)
{
	static const struct {
		const char *name, *in;
		size_t max;
		enum auth_ar_status want;
		const char *want_id, *want_sum;
	} cases[] = {
		{"simple", "mx.example.net; spf=pass smtp.mailfrom=a@example.com",
		 0, AUTH_AR_OK, "mx.example.net", "spf=pass{smtp.mailfrom=a@example.com}"},
		{"rfc8601 example", "example.com;\n\t  dkim=pass (good signature) header.d=mail-router.example.net;\n\t"
		 "  dkim=fail (bad signature) header.d=newyork.example.com",
		 0, AUTH_AR_OK, "example.com",
		 "dkim=pass{header.d=mail-router.example.net}; dkim=fail{header.d=newyork.example.com}"},
		{"version and none", "example.org 1; none", 0, AUTH_AR_OK, "example.org", "none"},
		{"none alone", "example.org;none", 0, AUTH_AR_OK, "example.org", "none"},
		{"comments everywhere", "(c1) example.com (c2 (nested)) ; (c3) spf (x) = (y) pass (z) "
		 "smtp (a) . (b) mailfrom (c) = (d) example.net (e)", 0, AUTH_AR_OK, "example.com",
		 "spf=pass{smtp.mailfrom=example.net}"},
		{"quoted id", "\"example.com\"; dkim=pass", 0, AUTH_AR_OK, "example.com", "dkim=pass"},
		{"upper case", "EXAMPLE.com; DKIM=PASS Header.D=Example.COM", 0, AUTH_AR_OK,
		 "EXAMPLE.com", "dkim=pass{header.d=Example.COM}"},
		{"reason quoted", "x; dmarc=fail reason=\"p=reject; \\\"quoted\\\"\" header.from=a.example",
		 0, AUTH_AR_OK, "x", "dmarc=fail[p=reject; \"quoted\"]{header.from=a.example}"},
		{"method version", "x; dkim/1=pass header.b=AbC/+=", 0, AUTH_AR_OK, "x",
		 "dkim=pass/v1{header.b=AbC/+=}"},
		{"quoted local part", "x; spf=pass smtp.mailfrom=\"a b\"@example.com", 0, AUTH_AR_OK,
		 "x", "spf=pass{smtp.mailfrom=a b@example.com}"},
		{"trailing semicolon", "x; spf=pass;", 0, AUTH_AR_OK, "x", "spf=pass"},
		{"id only", "x", 0, AUTH_AR_OK, "x", ""},
		{"empty", "", 0, AUTH_AR_NO_ID, "", ""},
		{"only cfws", "  (comment) ", 0, AUTH_AR_NO_ID, "", ""},
		{"semicolon first", "; spf=pass", 0, AUTH_AR_NO_ID, "", ""},
		{"unterminated comment", "x (oops; spf=pass", 0, AUTH_AR_SYNTAX, "x", ""},
		{"garbage after id", "x; =====", 0, AUTH_AR_SYNTAX, "x", ""},
		{"missing result", "x; spf= smtp.mailfrom=a", 0, AUTH_AR_SYNTAX, "x", ""},
		{"good then bad", "x; spf=pass; dkim", 0, AUTH_AR_SYNTAX, "x", "spf=pass"},
		{"limit", "x; spf=pass; dkim=fail; dmarc=none", 2, AUTH_AR_TOO_MANY, "x",
		 "spf=pass; dkim=fail"},
		{"bare CR", "x;\r spf=pass", 0, AUTH_AR_SYNTAX, "x", ""},
		{"unfolded line break", "x;\r\nspf=pass", 0, AUTH_AR_SYNTAX, "x", ""},
		{"crlf folding", "x;\r\n\tspf=pass", 0, AUTH_AR_OK, "x", "spf=pass"},
		{"deep comments", "x ((((((((((deep)))))))))); spf=pass", 0, AUTH_AR_SYNTAX, "x", ""},
		{"result after none", "x; none; spf=pass", 0, AUTH_AR_SYNTAX, "x", "none"},
		{"nul in value", "x; spf=pass smtp.mailfrom=a\0b", 0, AUTH_AR_SYNTAX, "x", ""},
		{"properties dropped past cap", "x; dkim=pass a.a=1 b.b=2 c.c=3 d.d=4 e.e=5 f.f=6 g.g=7",
		 0, AUTH_AR_OK, "x", "dkim=pass{a.a=1 b.b=2 c.c=3 d.d=4 e.e=5 f.f=6}"},
	};
	static struct auth_ar ar;
	char sum[2048];
	size_t i;
	const char *why;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* an exact-length copy: the parser must not read past len */
		size_t len = strlen(cases[i].in);
		char *in;
		enum auth_ar_status st;

		if (strcmp(cases[i].name, "nul in value") == 0)
			len = 29;
		in = malloc(len ? len : 1);
		memcpy(in, cases[i].in, len);
		st = auth_ar_parse(in, len, cases[i].max, &ar, &why);
		summarize(&ar, sum, sizeof(sum));
		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got status %s (%s), want %s",
				  auth_ar_status_str(st), why ? why : "-",
				  auth_ar_status_str(cases[i].want));
		else if (strcmp(ar.authserv_id, cases[i].want_id) != 0)
			tcase_bad(cases[i].name, "got id \"%s\", want \"%s\"",
				  ar.authserv_id, cases[i].want_id);
		else if (strcmp(sum, cases[i].want_sum) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", sum,
				  cases[i].want_sum);
		else if ((st == AUTH_AR_OK) != (why == NULL))
			tcase_bad(cases[i].name, "got why %s with status %s",
				  why ? why : "NULL", auth_ar_status_str(st));
		free(in);
	}
	tcase_done();
}

/* test_many - 16, 64 and 1000 results never overflow; the cap holds */
static void
test_many(void **state)
{
	static struct auth_ar ar;
	static const size_t ns[] = {16, 17, 64, 65, 1000};
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char *s = many(ns[i]), name[32];
		enum auth_ar_status st = auth_ar_parse(s, strlen(s), 0, &ar, NULL);
		enum auth_ar_status want = ns[i] > AUTH_AR_RESULTS_MAX ?
		    AUTH_AR_TOO_MANY : AUTH_AR_OK;
		size_t wantn = ns[i] > AUTH_AR_RESULTS_MAX ? AUTH_AR_RESULTS_MAX : ns[i];

		snprintf(name, sizeof(name), "%zu results", ns[i]);
		if (st != want || ar.nresults != wantn)
			tcase_bad(name, "got %s/%zu, want %s/%zu", auth_ar_status_str(st),
				  ar.nresults, auth_ar_status_str(want), wantn);
		st = auth_ar_parse(s, strlen(s), 16, &ar, NULL);
		if ((ns[i] > 16) != (st == AUTH_AR_TOO_MANY) || ar.nresults != 16)
			tcase_bad(name, "limit 16: got %s/%zu", auth_ar_status_str(st),
				  ar.nresults);
		free(s);
	}
	tcase_done();
}

/* test_id_is - our id after case and CFWS tricks */
static void
test_id_is(void **state)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{"mx.example.net; spf=pass", 1},
		{"MX.Example.NET; spf=pass", 1},
		{"(forged) mx.example.net (really); dkim=pass", 1},
		{"\"mx.example.net\"; dmarc=pass", 1},
		{"mx.example.net 1; garbage garbage", 1},
		{"mx.example.net", 1},
		{"\r\n mx.example.net;", 1},
		{"mx.example.net.evil; spf=pass", 0},
		{"other.example.net; spf=pass", 0},
		{"mx.example.net\"; spf=pass", 1},	/* garbage after our id: still ours */
		{"", 0},
	};
	static struct auth_ar ar;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		auth_ar_parse(cases[i].in, strlen(cases[i].in), 4, &ar, NULL);
		got = auth_ar_id_is(&ar, "mx.example.net");
		if (got != cases[i].want)
			tcase_bad(cases[i].in, "got %d, want %d", got, cases[i].want);
	}
	tcase_done();
}

/* test_write - exact output */
static void
test_write(void **state)
{
	static struct auth_ar_result spf, dkim1, dkim2, dmarc, evil;
	char buf[2048], small[60];
	int rc;

	snprintf(spf.method, sizeof(spf.method), "spf");
	snprintf(spf.result, sizeof(spf.result), "pass");
	auth_ar_result_prop(&spf, "smtp", "mailfrom", "bounce@example.com");
	snprintf(dkim1.method, sizeof(dkim1.method), "dkim");
	snprintf(dkim1.result, sizeof(dkim1.result), "pass");
	snprintf(dkim1.comment, sizeof(dkim1.comment), "2048-bit key (rsa)");
	auth_ar_result_prop(&dkim1, "header", "d", "example.com");
	auth_ar_result_prop(&dkim1, "header", "s", "sel1");
	auth_ar_result_prop(&dkim1, "header", "a", "rsa-sha256");
	auth_ar_result_prop(&dkim1, "header", "b", "AbC/+9xy");
	snprintf(dkim2.method, sizeof(dkim2.method), "dkim");
	snprintf(dkim2.result, sizeof(dkim2.result), "fail");
	snprintf(dkim2.reason, sizeof(dkim2.reason), "body hash mismatch");
	auth_ar_result_prop(&dkim2, "header", "d", "example.org");
	snprintf(dmarc.method, sizeof(dmarc.method), "dmarc");
	snprintf(dmarc.result, sizeof(dmarc.result), "pass");
	auth_ar_result_prop(&dmarc, "header", "from", "example.com");
	auth_ar_result_prop(&dmarc, "policy", "dmarc", "reject");
	snprintf(evil.method, sizeof(evil.method), "spf");
	snprintf(evil.result, sizeof(evil.result), "none");
	snprintf(evil.comment, sizeof(evil.comment), "a)\r\nX-Evil: 1 (b\\");
	auth_ar_result_prop(&evil, "smtp", "helo", "a\r\nX-Evil: \"1\"");

	struct auth_ar_result all[] = {spf, dkim1, dkim2, dmarc};
	rc = auth_ar_write(buf, sizeof(buf), "mx.example.net", all, 4);
	if (rc != 0 || strcmp(buf, "mx.example.net;\n\tspf=pass smtp.mailfrom=bounce@example.com;\n\t"
		   "dkim=pass (2048-bit key \\(rsa\\)) header.d=example.com header.s=sel1 "
		   "header.a=rsa-sha256 header.b=\"AbC/+9xy\";\n\t"
		   "dkim=fail reason=\"body hash mismatch\" header.d=example.org;\n\t"
		   "dmarc=pass header.from=example.com policy.dmarc=reject") != 0)
		tcase_bad("four results", "got %d \"%s\"", rc, buf);
	rc = auth_ar_write(buf, sizeof(buf), "mx.example.net", NULL, 0);
	if (rc != 0 || strcmp(buf, "mx.example.net; none") != 0)
		tcase_bad("none", "got %d \"%s\"", rc, buf);
	rc = auth_ar_write(buf, sizeof(buf), "mx.example.net", &evil, 1);
	if (rc != 0 || strchr(buf + 16, '\r') || strstr(buf, "\nX-Evil")
	    || strcmp(buf, "mx.example.net;\n\tspf=none (a\\)X-Evil: 1 \\(b\\\\) "
		      "smtp.helo=\"aX-Evil: \\\"1\\\"\"") != 0)
		tcase_bad("injection", "got %d \"%s\"", rc, buf);
	rc = auth_ar_write(small, sizeof(small), "mx.example.net", all, 4);
	if (rc != -1 || strcmp(small, "mx.example.net;\n\tspf=pass smtp.mailfrom=bounce@example.com") != 0)
		tcase_bad("truncated", "got %d \"%s\"", rc, small);
	tcase_done();
}

/* test_roundtrip - what we write parses back to the same */
static void
test_roundtrip(void **state)
{
	static struct auth_ar_result in[3];
	static struct auth_ar ar;
	char buf[2048];
	size_t i, j;

	snprintf(in[0].method, sizeof(in[0].method), "dkim");
	snprintf(in[0].result, sizeof(in[0].result), "fail");
	snprintf(in[0].reason, sizeof(in[0].reason), "a \"quoted\" ; reason\\");
	snprintf(in[0].comment, sizeof(in[0].comment), "((odd))");
	auth_ar_result_prop(&in[0], "header", "d", "ex;ample.com");
	auth_ar_result_prop(&in[0], "header", "i", "\"x y\"@example.com");
	snprintf(in[1].method, sizeof(in[1].method), "spf");
	snprintf(in[1].result, sizeof(in[1].result), "softfail");
	auth_ar_result_prop(&in[1], "smtp", "mailfrom", "a@b.example");
	snprintf(in[2].method, sizeof(in[2].method), "dmarc");
	snprintf(in[2].result, sizeof(in[2].result), "none");
	if (auth_ar_write(buf, sizeof(buf), "id with space", in, 3) != 0
	    || auth_ar_parse(buf, strlen(buf), 0, &ar, NULL) != AUTH_AR_OK)
		tcase_bad("roundtrip", "does not parse: \"%s\"", buf);
	else if (strcmp(ar.authserv_id, "id with space") != 0 || ar.nresults != 3)
		tcase_bad("roundtrip", "got id \"%s\" n=%zu", ar.authserv_id, ar.nresults);
	else
		for (i = 0; i < 3; i++) {
			if (strcmp(ar.results[i].method, in[i].method) != 0
			    || strcmp(ar.results[i].result, in[i].result) != 0
			    || strcmp(ar.results[i].reason, in[i].reason) != 0
			    || ar.results[i].nprops != in[i].nprops)
				tcase_bad("roundtrip", "result %zu differs: %s", i, buf);
			for (j = 0; j < in[i].nprops; j++)
				if (strcmp(ar.results[i].props[j].value, in[i].props[j].value) != 0)
					tcase_bad("roundtrip", "prop got \"%s\", want \"%s\"",
						  ar.results[i].props[j].value, in[i].props[j].value);
		}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_id_is),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests_name("auth_ar", tests, NULL, NULL);
}
