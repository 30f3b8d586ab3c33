/*++
 * NAME
 *	auth_aggr_test 1
 * SUMMARY
 *	unit tests of DMARC aggregate reports: the recorded row
 *	(milters/auth/auth_record*.c) and the report (auth_aggr_*.c)
 * DESCRIPTION
 *	Tables: rows written and read back (escaping of every separator,
 *	controls, UTF-8), rows refused by the parser, the policy line, the
 *	row a message's verdicts make (disposition, override reason, dkim
 *	order, what is not recorded), XML escaping, rua parsing (size
 *	suffixes, schemes, escapes, not DMARC1), names (unique-id, Report-ID,
 *	file name). Then a whole report with awkward rows is gzipped,
 *	gunzipped and validated with xmllint against tests/dmarc/rfc9990.xsd,
 *	the message is checked for the RFC 9990 Subject; and the Redis store
 *	runs against a private redis-server: counts per identical row, TTLs
 *	on every key, the day's row budget.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "redis_fixture.h"
#include "tcase.h"
#include "../../milters/auth/auth_aggr.h"
#include "../../milters/auth/auth_record.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define XSD		"tests/dmarc/rfc9990.xsd"

/* a_row - a row with everything set */
static struct auth_record_row
a_row(const char *ip, const char *sel)
{
	struct auth_record_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.source_ip, sizeof(r.source_ip), "%s", ip);
	snprintf(r.header_from, sizeof(r.header_from), "example.com");
	snprintf(r.envelope_from, sizeof(r.envelope_from), "bounce.example.com");
	snprintf(r.disposition, sizeof(r.disposition), "quarantine");
	r.dkim_aligned = false;
	r.spf_aligned = true;
	snprintf(r.reason, sizeof(r.reason), "policy_test_mode");
	snprintf(r.comment, sizeof(r.comment), "t=y");
	snprintf(r.spf_domain, sizeof(r.spf_domain), "bounce.example.com");
	snprintf(r.spf_result, sizeof(r.spf_result), "pass");
	r.ndkim = 2;
	snprintf(r.dkim[0].domain, sizeof(r.dkim[0].domain), "example.com");
	snprintf(r.dkim[0].selector, sizeof(r.dkim[0].selector), "%s", sel);
	snprintf(r.dkim[0].result, sizeof(r.dkim[0].result), "fail");
	snprintf(r.dkim[1].domain, sizeof(r.dkim[1].domain), "esp.example");
	snprintf(r.dkim[1].selector, sizeof(r.dkim[1].selector), "s2");
	snprintf(r.dkim[1].result, sizeof(r.dkim[1].result), "pass");
	return r;
}

/* test_row_roundtrip - what is written reads back the same, escaped */
static void
test_row_roundtrip(void **state)
{
	static const struct {
		const char *name, *ip, *sel, *want;
	} cases[] = {
		{"plain", "192.0.2.1", "s1",
		 "1|192.0.2.1|example.com|bounce.example.com|quarantine|fail|pass|"
		 "policy_test_mode|t=y|bounce.example.com|pass|example.com/s1/fail,esp.example/s2/pass"},
		{"separators in a selector", "2001:db8::1", "a|b/c,d%e f",
		 "1|2001:db8::1|example.com|bounce.example.com|quarantine|fail|pass|"
		 "policy_test_mode|t=y|bounce.example.com|pass|"
		 "example.com/a%7Cb%2Fc%2Cd%25e%20f/fail,esp.example/s2/pass"},
		{"UTF-8 selector", "192.0.2.1", "s\xc3\xa9l",
		 "1|192.0.2.1|example.com|bounce.example.com|quarantine|fail|pass|"
		 "policy_test_mode|t=y|bounce.example.com|pass|example.com/s%C3%A9l/fail,esp.example/s2/pass"},
		{"XML specials", "192.0.2.1", "<&'\">",
		 "1|192.0.2.1|example.com|bounce.example.com|quarantine|fail|pass|"
		 "policy_test_mode|t=y|bounce.example.com|pass|example.com/<&'\">/fail,esp.example/s2/pass"},
	};
	char buf[AUTH_RECORD_ROW_MAX];
	struct auth_record_row r, back;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		r = a_row(cases[i].ip, cases[i].sel);
		if (auth_record_row_format(&r, buf, sizeof(buf)) < 0 || strcmp(buf, cases[i].want)) {
			tcase_bad(cases[i].name, "got %s, want %s", buf, cases[i].want);
			continue;
		}
		if (auth_record_row_parse(buf, strlen(buf), &back, &why) < 0) {
			tcase_bad(cases[i].name, "parse: got %s, want ok", why);
			continue;
		}
		if (memcmp(&r, &back, sizeof(r)) != 0)
			tcase_bad(cases[i].name, "read back differs");
	}
	r = a_row("192.0.2.1", "s1");
	if (auth_record_row_format(&r, buf, 40) != -1 || buf[0] != '\0')
		tcase_bad("too small", "got %s, want -1 and \"\"", buf);
	tcase_done();
}

/* test_row_refused - the parser's checks */
static void
test_row_refused(void **state)
{
	static const struct {
		const char *name, *text;
	} cases[] = {
		{"empty", ""},
		{"version 2", "2|192.0.2.1|a.example||none|fail|fail|||||"},
		{"11 fields", "1|192.0.2.1|a.example||none|fail|fail||||"},
		{"13 fields", "1|192.0.2.1|a.example||none|fail|fail||||||"},
		{"not an ip", "1|mail.example|a.example||none|fail|fail|||||"},
		{"no header_from", "1|192.0.2.1|||none|fail|fail|||||"},
		{"bad disposition", "1|192.0.2.1|a.example||discard|fail|fail|||||"},
		{"bad alignment", "1|192.0.2.1|a.example||none|yes|fail|||||"},
		{"bad reason", "1|192.0.2.1|a.example||none|fail|fail|forwarded||||"},
		{"bad spf result", "1|192.0.2.1|a.example||none|fail|fail|||a.example|unknown|"},
		{"spf result without domain", "1|192.0.2.1|a.example||none|fail|fail||||pass|"},
		{"bad dkim result", "1|192.0.2.1|a.example||none|fail|fail|||||d.example/s/bogus"},
		{"dkim without domain", "1|192.0.2.1|a.example||none|fail|fail||||/s/pass"},
		{"dkim two parts", "1|192.0.2.1|a.example||none|fail|fail|||||d.example/pass"},
		{"raw space", "1|192.0.2.1|a example||none|fail|fail|||||"},
		{"escaped control", "1|192.0.2.1|a%0Aexample||none|fail|fail|||||"},
		{"escaped NUL", "1|192.0.2.1|a%00||none|fail|fail|||||"},
		{"short escape", "1|192.0.2.1|a%4||none|fail|fail|||||"},
		{"escape at end", "1|192.0.2.1|a.example||none|fail|fail|||||d/s/pass%"},
		{"bad hex", "1|192.0.2.1|a%G0||none|fail|fail|||||"},
		{"17 dkim", "1|192.0.2.1|a.example||none|fail|fail|||||a/s/pass,a/s/pass,a/s/pass,"
		 "a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass,"
		 "a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass,a/s/pass"},
	};
	struct auth_record_row r;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (auth_record_row_parse(cases[i].text, strlen(cases[i].text), &r, &why) == 0)
			tcase_bad(cases[i].name, "got ok, want refused");
	/* not NUL-terminated: the parser reads len bytes only */
	if (auth_record_row_parse("1|192.0.2.1|a.example||none|fail|fail|||||XXXX",
				  strlen("1|192.0.2.1|a.example||none|fail|fail|||||"), &r,
				  &why) != 0)
		tcase_bad("len bounds", "got %s, want ok", why);
	tcase_done();
}

/* test_policy - the policy line */
static void
test_policy(void **state)
{
	struct auth_record_policy p = {"example.com", "reject", "quarantine", "none",
				       's', 'r', 'y', true}, back;
	const char *bad[] = {"1|reject|reject|reject|r|r|n", "1|reject|reject|bogus|r|r|n|treewalk",
			     "1|reject|reject|reject|x|r|n|treewalk",
			     "1|reject|reject|reject|r|r|n|dns", "2|none|none|none|r|r|n|psl"};
	char buf[AUTH_RECORD_POLICY_MAX];
	const char *why;
	size_t i;

	(void)state;
	assert_int_not_equal(auth_record_policy_format(&p, buf, sizeof(buf)), -1);
	assert_string_equal(buf, "1|reject|quarantine|none|s|r|y|psl");
	assert_int_equal(auth_record_policy_parse(buf, strlen(buf), &back, &why), 0);
	assert_string_equal(back.p, "reject");
	assert_string_equal(back.sp, "quarantine");
	assert_string_equal(back.np, "none");
	assert_true(back.adkim == 's' && back.aspf == 'r' && back.testing == 'y' && back.psl);
	for (i = 0; i < NELEM(bad); i++)
		if (auth_record_policy_parse(bad[i], strlen(bad[i]), &back, &why) == 0)
			tcase_bad(bad[i], "got ok, want refused");
	tcase_done();
}

/* test_build - the row a message's verdicts make */
static void
test_build(void **state)
{
	static const struct {
		const char *name;
		const char *ip;
		bool found;
		enum auth_dmarc_res res, eval;	/* after upstream, evaluated */
		enum auth_dmarc_p policy;
		enum auth_action action, would;
		enum auth_reason reason;
		bool dry;
		bool want_record;
		const char *disp, *rtype, *dkim0;
	} cases[] = {
		{"pass, p=reject", "192.0.2.1", 1, AUTH_DMARC_PASS, AUTH_DMARC_PASS,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE, 0, 1,
		 "pass", "", "example.com"},
		{"pass, p=none", "192.0.2.1", 1, AUTH_DMARC_PASS, AUTH_DMARC_PASS,
		 AUTH_DMARC_P_NONE, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE, 0, 1,
		 "none", "", "example.com"},
		{"fail, rejected", "192.0.2.1", 1, AUTH_DMARC_FAIL, AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_REJECT, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY, 0, 1,
		 "reject", "", "example.com"},
		{"t=y", "192.0.2.1", 1, AUTH_DMARC_FAIL, AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_QUARANTINE, AUTH_ACT_QUARANTINE,
		 AUTH_R_DMARC_TESTING, 0, 1, "quarantine", "policy_test_mode", "example.com"},
		{"trusted forwarder", "192.0.2.1", 1, AUTH_DMARC_FAIL, AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT,
		 AUTH_R_TRUSTED_FORWARDER, 0, 1, "none", "trusted_forwarder", "example.com"},
		{"dry run", "192.0.2.1", 1, AUTH_DMARC_FAIL, AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_ACCEPT, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY, 1, 1,
		 "none", "local_policy", "example.com"},
		{"upstream pass", "192.0.2.1", 1, AUTH_DMARC_PASS, AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE, 0, 1,
		 "pass", "local_policy", "example.com"},
		{"no record", "192.0.2.1", 0, AUTH_DMARC_NONE, AUTH_DMARC_NONE,
		 AUTH_DMARC_P_NONE, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE, 0, 0,
		 NULL, NULL, NULL},
		{"tempfail", "192.0.2.1", 1, AUTH_DMARC_TEMPERROR, AUTH_DMARC_TEMPERROR,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_TEMPFAIL, AUTH_ACT_TEMPFAIL,
		 AUTH_R_DMARC_TEMPERROR, 0, 0, NULL, NULL, NULL},
		{"local client", "local", 1, AUTH_DMARC_PASS, AUTH_DMARC_PASS,
		 AUTH_DMARC_P_REJECT, AUTH_ACT_ACCEPT, AUTH_ACT_ACCEPT, AUTH_R_NONE, 0, 0,
		 NULL, NULL, NULL},
	};
	/* header order: a failing signature, a third-party pass, the aligned pass */
	struct auth_dkim_sig sigs[3] = {
		{AUTH_DKIM_FAIL, "bad", "example.com", "old", "", "", 0},
		{AUTH_DKIM_PASS, "", "esp.example", "e1", "", "", 0},
		{AUTH_DKIM_PASS, "", "example.com", "s1", "", "", 0},
	};
	struct auth_record_row row;
	struct auth_record_policy pol;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct auth_dmarc_result dr;
		struct auth_verdict v = {cases[i].action, cases[i].would, cases[i].reason};
		struct auth_record_in in;
		bool got;

		memset(&dr, 0, sizeof(dr));
		dr.res = cases[i].eval;
		dr.record_found = cases[i].found;
		dr.rec.p = cases[i].policy;
		dr.rec.sp = AUTH_DMARC_P_UNSET;
		dr.rec.np = AUTH_DMARC_P_UNSET;
		dr.policy = cases[i].policy;
		dr.dkim_aligned = cases[i].eval == AUTH_DMARC_PASS;
		snprintf(dr.dkim_domain, sizeof(dr.dkim_domain), "example.com");
		snprintf(dr.record_domain, sizeof(dr.record_domain), "example.com");
		in = (struct auth_record_in){cases[i].ip, NULL, sigs, 3, "example.com", &dr,
					     cases[i].res, &v, cases[i].dry, false};
		got = auth_record_build(&in, &row, &pol);
		if (got != cases[i].want_record) {
			tcase_bad(cases[i].name, "recorded %d, want %d", got, cases[i].want_record);
			continue;
		}
		if (!got)
			continue;
		if (strcmp(row.disposition, cases[i].disp) || strcmp(row.reason, cases[i].rtype))
			tcase_bad(cases[i].name, "got %s/%s, want %s/%s", row.disposition,
				  row.reason, cases[i].disp, cases[i].rtype);
		/* RFC 9990: the aligned pass first, other passes, then failures */
		if (row.ndkim != 3 || strcmp(row.dkim[0].selector, "s1")
		    || strcmp(row.dkim[1].selector, "e1") || strcmp(row.dkim[2].selector, "old"))
			tcase_bad(cases[i].name, "dkim order %s,%s,%s", row.dkim[0].selector,
				  row.dkim[1].selector, row.dkim[2].selector);
		if (strcmp(pol.sp, pol.p) || strcmp(pol.np, pol.p) || pol.testing != 'n')
			tcase_bad(cases[i].name, "policy defaults sp=%s np=%s", pol.sp, pol.np);
		if (row.spf_result[0] != '\0')
			tcase_bad(cases[i].name, "spf without a check: %s", row.spf_result);
	}
	tcase_done();
}

/* test_escape - XML text */
static void
test_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"plain.example", "plain.example"},
		{"a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f"},
		{"caf\xc3\xa9", "caf\xc3\xa9"},
		{"bad\xc3(", "bad?("},
		{"ctl\x01x", "ctl?x"},
		{"overlong\xc0\xaf", "overlong??"},
		{"surrogate\xed\xa0\x80", "surrogate???"},
	};
	char out[128];
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		n = auth_aggr_escape(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].want) || n != strlen(cases[i].want))
			tcase_bad(cases[i].in, "got %s, want %s", out, cases[i].want);
	}
	n = auth_aggr_escape("a&b", out, 3);
	if (n != 7 || strcmp(out, "a"))
		tcase_bad("truncated", "got %zu %s, want 7 a", n, out);
	tcase_done();
}

/* test_rua - the destinations of a record */
static void
test_rua(void **state)
{
	static const struct {
		const char *name, *rec;
		int want;
		const char *addr0, *host0;
		unsigned long long size0;
		const char *addr1;
	} cases[] = {
		{"one", "v=DMARC1; p=none; rua=mailto:d@rep.example", 1, "d@rep.example",
		 "rep.example", 0, NULL},
		{"two with sizes", "v=DMARC1;p=reject;rua=mailto:a@x.example!10m, MAILTO:b@Y.Example!5",
		 2, "a@x.example", "x.example", 10485760ULL, "b@Y.Example"},
		{"kilobytes", "v=DMARC1; rua=mailto:a@x.example!50k", 1, "a@x.example", "x.example",
		 51200ULL, NULL},
		{"https skipped", "v=DMARC1; rua=https://r.example/x, mailto:a@x.example", 1,
		 "a@x.example", "x.example", 0, NULL},
		{"escaped", "v=DMARC1; rua=mailto:dmarc%2Breports@x.example", 1,
		 "dmarc+reports@x.example", "x.example", 0, NULL},
		{"hfields dropped", "v=DMARC1; rua=mailto:a@x.example?subject=hi", 1, "a@x.example",
		 "x.example", 0, NULL},
		{"bad size skipped", "v=DMARC1; rua=mailto:a@x.example!10q,mailto:b@x.example", 1,
		 "b@x.example", "x.example", 0, NULL},
		{"no at", "v=DMARC1; rua=mailto:nobody", 0, NULL, NULL, 0, NULL},
		{"header injection", "v=DMARC1; rua=mailto:a@x.example%0ABcc:%20v@e.example", 0,
		 NULL, NULL, 0, NULL},
		{"angle", "v=DMARC1; rua=mailto:<a@x.example>", 0, NULL, NULL, 0, NULL},
		{"no rua", "v=DMARC1; p=reject", 0, NULL, NULL, 0, NULL},
		{"not first", "p=reject; v=DMARC1; rua=mailto:a@x.example", -1, NULL, NULL, 0, NULL},
		{"not dmarc", "v=spf1 -all", -1, NULL, NULL, 0, NULL},
		{"lower dmarc1", "v=dmarc1; rua=mailto:a@x.example", -1, NULL, NULL, 0, NULL},
		{"trailing dot host", "v=DMARC1; rua=mailto:a@x.example.", 1, "a@x.example.",
		 "x.example", 0, NULL},
		{"limit of uris", "v=DMARC1; rua=mailto:a@x.example,mailto:b@x.example,"
		 "mailto:c@x.example", 2, "a@x.example", "x.example", 0, "b@x.example"},
	};
	struct auth_aggr_uri u[2];
	const char *why;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		n = auth_aggr_rua_parse(cases[i].rec, strlen(cases[i].rec), u, 2, &why);
		if (n != cases[i].want) {
			tcase_bad(cases[i].name, "got %d, want %d", n, cases[i].want);
			continue;
		}
		if (n >= 1 && (strcmp(u[0].addr, cases[i].addr0) || strcmp(u[0].host, cases[i].host0)
			       || u[0].max_size != cases[i].size0))
			tcase_bad(cases[i].name, "got %s %s %llu, want %s %s %llu", u[0].addr,
				  u[0].host, u[0].max_size, cases[i].addr0, cases[i].host0,
				  cases[i].size0);
		if (n == 2 && strcmp(u[1].addr, cases[i].addr1))
			tcase_bad(cases[i].name, "got %s, want %s", u[1].addr, cases[i].addr1);
	}
	assert_true(auth_aggr_is_dmarc1(" v = DMARC1 ", 12));
	assert_false(auth_aggr_is_dmarc1("v=DMARC1x", 9));
	assert_false(auth_aggr_is_dmarc1("", 0));
	tcase_done();
}

/* test_names - unique-id, Report-ID, file name */
static void
test_names(void **state)
{
	char uid[17], uid2[17], rid[128], file[256];

	(void)state;
	auth_aggr_unique_id("mx.example.net", "example.com", 1764979200, uid);
	auth_aggr_unique_id("mx.example.net", "example.com", 1764979200, uid2);
	assert_string_equal(uid, uid2);		/* a re-sent report: same names */
	assert_int_equal(strlen(uid), 16);
	assert_int_equal(strspn(uid, "0123456789abcdef"), 16);
	auth_aggr_unique_id("mx.example.net", "example.org", 1764979200, uid2);
	assert_string_not_equal(uid, uid2);
	assert_true(auth_aggr_report_id(uid, "mx.example.net", rid, sizeof(rid)) > 0);
	assert_int_equal(strlen(rid), 16 + 1 + strlen("mx.example.net"));
	assert_true(auth_aggr_filename("mx.example.net", "example.com", 1764979200, 1765065599,
				       uid, file, sizeof(file)) > 0);
	assert_int_equal(strncmp(file, "mx.example.net!example.com!1764979200!1765065599!", 49), 0);
	assert_string_equal(file + strlen(file) - 7, ".xml.gz");
	assert_int_equal(auth_aggr_filename("r", "d", 1, 2, uid, file, 10), -1);
}

/* a_gunzip - the report back out of its gzip member */
static char *
a_gunzip(const unsigned char *gz, size_t len, size_t *outlen)
{
	z_stream z;
	size_t cap = 1 << 20;
	char *out = malloc(cap);

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)gz;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = cap - z.avail_out;
	inflateEnd(&z);
	return out;
}

/* a_xmllint - validate a document against the XSD; the exit status */
static int
a_xmllint(const char *xml, size_t len)
{
	char path[] = "/tmp/pm-aggr-XXXXXX";
	char cmd[256];
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema %s %s 2>&1", XSD, path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

/* test_report - a whole report: XSD-valid, gzip round trip, message */
static void
test_report(void **state)
{
	struct auth_record_policy pol = {"example.com", "reject", "reject", "quarantine",
					 'r', 's', 'n', false};
	struct auth_aggr_row rows[4];
	struct auth_aggr_meta meta = {"Example & Co <mx>", "dmarc-reports@mx.example.net",
				      "0123456789abcdef@mx.example.net", "postmill test",
				      1764979200, 1765065599};
	struct auth_aggr_mail mail;
	const char *to[] = {"d@rep.example", "e@rep.example"};
	unsigned char *gz = NULL;
	size_t xlen, gzlen, plain_len, mlen;
	char *xml, *plain, *msg, bad[64];
	const char *why;

	(void)state;
	rows[0] = (struct auth_aggr_row){a_row("192.0.2.1", "s1"), 41};
	rows[1] = (struct auth_aggr_row){a_row("2001:db8::25", "<&'\">"), 2};
	rows[2] = (struct auth_aggr_row){a_row("::ffff:192.0.2.7", "s\xc3\xa9l"), 1};
	rows[3] = (struct auth_aggr_row){a_row("198.51.100.9", "s1"), 7};
	/* null sender, no SPF check, no signature, no reason */
	rows[3].row.envelope_from[0] = rows[3].row.spf_domain[0] = rows[3].row.spf_result[0] = 0;
	rows[3].row.reason[0] = rows[3].row.comment[0] = 0;
	rows[3].row.ndkim = 0;
	xml = auth_aggr_xml(&meta, &pol, rows, 4, &xlen);
	if (system("command -v xmllint >/dev/null 2>&1") == 0)
		assert_int_equal(a_xmllint(xml, xlen), 0);
	assert_non_null(strstr(xml, "<org_name>Example &amp; Co &lt;mx&gt;</org_name>"));
	assert_non_null(strstr(xml, "<selector>&lt;&amp;&apos;&quot;&gt;</selector>"));
	assert_non_null(strstr(xml, "<count>41</count>"));
	assert_non_null(strstr(xml, "<envelope_from></envelope_from>"));
	assert_int_equal(auth_aggr_gzip(xml, xlen, &gz, &gzlen, &why), 0);
	assert_true(gzlen < xlen);
	plain = a_gunzip(gz, gzlen, &plain_len);
	assert_int_equal(plain_len, xlen);
	assert_memory_equal(plain, xml, xlen);
	free(plain);

	/* the schema refuses what RFC 9990 does not allow */
	snprintf(bad, sizeof(bad), "%s", "<disposition>quarantine</disposition>");
	{
		char *p = strstr(xml, bad), *copy;

		assert_non_null(p);
		copy = strdup(xml);
		memcpy(copy + (p - xml), "<disposition>discard!!!</disposition>", strlen(bad));
		if (system("command -v xmllint >/dev/null 2>&1") == 0)
			assert_int_not_equal(a_xmllint(copy, xlen), 0);
		free(copy);
	}

	mail = (struct auth_aggr_mail){"dmarc-reports@mx.example.net", to, 2, "example.com",
				       "mx.example.net", meta.report_id,
				       "mx.example.net!example.com!1764979200!1765065599!0123456789abcdef.xml.gz",
				       gz, gzlen, meta.begin, meta.end, 51, 4, 1765000000};
	msg = auth_aggr_message(&mail, &mlen);
	assert_non_null(strstr(msg, "Subject: Report Domain: example.com Submitter: mx.example.net\n"
			       " Report-ID: <0123456789abcdef@mx.example.net>\n"));
	assert_non_null(strstr(msg, "To: d@rep.example,\n e@rep.example\n"));
	assert_non_null(strstr(msg, "Message-ID: <0123456789abcdef@mx.example.net>\n"));
	assert_non_null(strstr(msg, "Content-Type: application/gzip;\n name=\"mx.example.net!"));
	assert_non_null(strstr(msg, "Date: Sat, 06 Dec 2025 05:46:40 +0000\n"));
	/* header and text lines within RFC 5322 2.1.1's 78 here */
	for (char *l = msg; *l && l < strstr(msg, "Content-Type: application"); l = strchr(l, '\n') + 1)
		if (strcspn(l, "\n") > 78 && strncmp(l, "mx.example.net!", 15) != 0)
			fail_msg("line over 78: %.*s", (int)strcspn(l, "\n"), l);
	free(msg);
	free(gz);
	free(xml);
}

/* test_store - counts per identical row, TTLs, the day's budget */
static void
test_store(void **state)
{
	struct redis_fixture rf;
	struct redis_conf rc = {0};
	struct redis_pool *pool;
	struct auth_record_store_conf sc = {"t:", 3600, 2};
	struct auth_record_policy pol = {"example.com", "reject", "reject", "reject",
					 'r', 'r', 'n', false};
	struct auth_record_row a = a_row("192.0.2.1", "s1"), b = a_row("192.0.2.2", "s1"),
			       c = a_row("192.0.2.3", "s1");
	char err[256], row[AUTH_RECORD_ROW_MAX];
	const char *why, *keys[] = {"t:{20251206}rows:example.com", "t:{20251206}domains",
				    "t:{20251206}nrows", "t:{20251206}dropped"};
	time_t now = 1765000000;	/* 2025-12-06 UTC */
	redisReply *r;
	size_t i;

	(void)state;
	if (!redis_fixture_available())
		skip();
	if (redis_fixture_start(&rf, 0, NULL, err, sizeof(err)) < 0)
		fail_msg("redis: %s", err);
	rc.server = rf.server;
	rc.connect_timeout_ms = rc.command_timeout_ms = 2000;
	rc.backoff_min_ms = rc.backoff_max_ms = 100;
	pool = redis_pool_new(&rc, &why);
	assert_non_null(pool);
	for (i = 0; i < 3; i++)
		assert_int_equal(auth_record_store(pool, &sc, &a, &pol, now, &why), 1);
	assert_int_equal(auth_record_store(pool, &sc, &b, &pol, now, &why), 1);
	/* a third distinct row is over the budget of 2: dropped and counted */
	assert_int_equal(auth_record_store(pool, &sc, &c, &pol, now, &why), 0);
	assert_int_equal(auth_record_store(pool, &sc, &a, &pol, now, &why), 1);
	auth_record_row_format(&a, row, sizeof(row));
	r = redis_command(pool, &why, "HGET %s %s", keys[0], row);
	assert_non_null(r);
	assert_string_equal(r->str, "4");
	freeReplyObject(r);
	r = redis_command(pool, &why, "HLEN %s", keys[0]);
	assert_int_equal(r->integer, 2);
	freeReplyObject(r);
	r = redis_command(pool, &why, "HGET %s example.com", keys[1]);
	assert_string_equal(r->str, "1|reject|reject|reject|r|r|n|treewalk");
	freeReplyObject(r);
	r = redis_command(pool, &why, "GET %s", keys[3]);
	assert_string_equal(r->str, "1");
	freeReplyObject(r);
	for (i = 0; i < NELEM(keys); i++) {
		r = redis_command(pool, &why, "TTL %s", keys[i]);
		if (r->integer <= 0 || r->integer > 3600)
			tcase_bad(keys[i], "TTL got %lld, want 1..3600", r->integer);
		freeReplyObject(r);
	}
	/* Redis gone: -1 and a reason, quickly, and no crash */
	redis_fixture_halt(&rf);
	assert_int_equal(auth_record_store(pool, &sc, &a, &pol, now, &why), -1);
	assert_non_null(why);
	redis_pool_free(pool);
	redis_fixture_stop(&rf);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_roundtrip),
		cmocka_unit_test(test_row_refused),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_rua),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
