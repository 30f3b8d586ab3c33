/*++
 * NAME
 *	bounce_mime_test 1
 * SUMMARY
 *	unit tests of the MIME walker (milters/bounce/bounce_mime.c)
 * DESCRIPTION
 *	Tables: header block ends (CRLF, LF, none); field lookup with
 *	folding, case, controls and truncation; RFC 2047 encoded-words;
 *	whole messages walked into parts (types, depths, parents, bodies),
 *	including a missing close delimiter, a boundary that is a prefix of
 *	another, the part and depth limits, an mbox From line and inputs
 *	that are not messages; transfer decodings and HTML text.
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

#include "../../milters/bounce/bounce_mime.h"

/* test_split - where the header block ends */
static void
test_split(void **state)
{
	static const struct {
		const char *name, *in;
		size_t	hdrlen, body_off;
	} cases[] = {
		{"crlf", "A: b\r\nC: d\r\n\r\nbody", 12, 14},
		{"lf", "A: b\n\nbody", 5, 6},
		{"no body", "A: b\r\n", 6, 6},
		{"empty first line", "\r\nbody", 0, 2},
		{"folded", "A: b\r\n c\r\n\r\nx", 10, 12},
	};
	size_t i, hl, off;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hl = bounce_mime_split(cases[i].in, strlen(cases[i].in), &off);
		if (hl != cases[i].hdrlen || off != cases[i].body_off)
			tcase_bad(cases[i].name, "got %zu/%zu, want %zu/%zu", hl,
				  off, cases[i].hdrlen, cases[i].body_off);
	}
	tcase_done();
}

/* test_header - field lookup and unfolding */
static void
test_header(void **state)
{
	static const struct {
		const char *name, *hdr, *field;
		size_t	cap;
		int	found;
		const char *want;
	} cases[] = {
		{"simple", "Subject: hi\r\n", "subject", 64, 1, "hi"},
		{"folded", "Subject: a\r\n  b\r\n\tc\r\nX: y\r\n", "Subject", 64, 1,
		 "a b c"},
		{"second field", "A: 1\nB:2\n", "b", 64, 1, "2"},
		{"first of two", "A: 1\nA: 2\n", "a", 64, 1, "1"},
		{"missing", "A: 1\n", "b", 64, 0, ""},
		{"stops at body", "A: 1\n\nB: 2\n", "b", 64, 0, ""},
		{"prefix name", "Subjects: x\n", "Subject", 64, 0, ""},
		{"space before colon", "Subject : x\n", "Subject", 64, 1, "x"},
		{"controls", "A: x\001y\n", "a", 64, 1, "x?y"},
		{"truncated", "A: abcdef\n", "a", 4, 1, "abc"},
		{"junk line skipped", "not a header\nA: 1\n", "a", 64, 1, "1"},
		{"empty value", "A:\n", "a", 64, 1, ""},
	};
	char buf[64];
	size_t i;
	int got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = bounce_mime_header(cases[i].hdr, strlen(cases[i].hdr),
					 cases[i].field, buf, cases[i].cap);
		if (got != cases[i].found || strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got %d \"%s\", want %d \"%s\"",
				  got, buf, cases[i].found, cases[i].want);
	}
	tcase_done();
}

/* test_words - RFC 2047 encoded-words */
static void
test_words(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} cases[] = {
		{"plain", "Out of Office", "Out of Office"},
		{"q", "=?utf-8?Q?Out_of_Office=3A?= x", "Out of Office: x"},
		{"b", "=?UTF-8?B?QXV0b21hdGljIHJlcGx5?=", "Automatic reply"},
		{"adjacent words", "=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
		{"word then text", "=?utf-8?q?a?= b", "a b"},
		{"bad encoding", "=?utf-8?x?a?=", "=?utf-8?x?a?="},
		{"unterminated", "=?utf-8?q?abc", "=?utf-8?q?abc"},
		{"space inside", "=?utf-8?q?a b?=", "=?utf-8?q?a b?="},
		{"latin1 bytes", "=?iso-8859-1?q?R=E9ponse?=", "R\xe9ponse"},
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bounce_mime_decode_words(cases[i].in, strlen(cases[i].in), buf,
					 sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf,
				  cases[i].want);
	}
	bounce_mime_decode_words("=?utf-8?q?abcdef?=", 18, buf, 4);
	if (strcmp(buf, "abc") != 0)
		tcase_bad("bounded", "got \"%s\", want \"abc\"", buf);
	tcase_done();
}

static const char report[] =
	"From: MAILER-DAEMON@mx.test\r\n"
	"Content-Type: multipart/report; report-type=\"Delivery-Status\";\r\n"
	"\tboundary=\"B1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--B1\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"text\r\n"
	"--B1\r\n"
	"Content-Type: message/delivery-status\r\n"
	"\r\n"
	"Reporting-MTA: dns; mx.test\r\n"
	"--B1  \r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: orig\r\n"
	"Content-Type: multipart/alternative; boundary=B1x\r\n"
	"\r\n"
	"--B1x\r\n"
	"\r\n"
	"plain\r\n"
	"--B1x\r\n"
	"Content-Type: text/html; charset=UTF-8\r\n"
	"\r\n"
	"<p>html</p>\r\n"
	"--B1x--\r\n"
	"--B1--\r\n"
	"epilogue\r\n";

/* test_walk - a DSN with a returned multipart message */
static void
test_walk(void **state)
{
	static const struct {
		const char *type, *body;
		int	depth, parent;
	} want[] = {
		{"multipart/report", NULL, 0, -1},
		{"text/plain", "text", 1, 0},
		{"message/delivery-status", "Reporting-MTA: dns; mx.test", 1, 0},
		{"message/rfc822", NULL, 1, 0},
		{"multipart/alternative", NULL, 2, 3},
		{"text/plain", "plain", 3, 4},
		{"text/html", "<p>html</p>", 3, 4},
	};
	struct bounce_mime *m = calloc(1, sizeof(*m));
	const char *why = NULL;
	char name[32];
	size_t i;

	if (bounce_mime_walk(report, strlen(report), m, &why) != 0)
		fail_msg("walk failed: %s", why);
	if (m->nparts != sizeof(want) / sizeof(want[0]) || m->truncated)
		tcase_bad("nparts", "got %zu (truncated %d), want %zu",
			  m->nparts, m->truncated, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < m->nparts && i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(name, sizeof(name), "part %zu", i);
		if (strcmp(m->part[i].type, want[i].type) != 0
		    || m->part[i].depth != want[i].depth
		    || m->part[i].parent != want[i].parent)
			tcase_bad(name, "got %s depth %d parent %d, want %s %d %d",
				  m->part[i].type, m->part[i].depth,
				  m->part[i].parent, want[i].type, want[i].depth,
				  want[i].parent);
		if (want[i].body != NULL
		    && (m->part[i].bodylen != strlen(want[i].body)
			|| memcmp(m->part[i].body, want[i].body,
				  m->part[i].bodylen) != 0))
			tcase_bad(name, "got body \"%.*s\", want \"%s\"",
				  (int)m->part[i].bodylen, m->part[i].body,
				  want[i].body);
	}
	if (strcmp(m->part[0].report_type, "delivery-status") != 0)
		tcase_bad("report-type", "got \"%s\"", m->part[0].report_type);
	if (strcmp(m->part[0].boundary, "B1") != 0)
		tcase_bad("boundary", "got \"%s\"", m->part[0].boundary);
	if (strcmp(m->part[6].charset, "utf-8") != 0)
		tcase_bad("charset", "got \"%s\"", m->part[6].charset);
	free(m);
	tcase_done();
}

/* count_type - how many parts have a type */
static size_t
count_type(const struct bounce_mime *m, const char *type)
{
	size_t i, n = 0;

	for (i = 0; i < m->nparts; i++)
		n += strcmp(m->part[i].type, type) == 0;
	return n;
}

/* test_walk_edges - odd structures and the limits */
static void
test_walk_edges(void **state)
{
	static const struct {
		const char *name, *msg;
		int	rc;
		size_t	nparts;
		int	truncated;
	} cases[] = {
		{"empty", "", -1, 0, 0},
		{"not a header", "Hello world\r\n\r\nbody", -1, 0, 0},
		{"starts with blank", "\r\nbody", -1, 0, 0},
		{"mbox From line", "From a@b Mon Jan  1 00:00:00 2024\nA: b\n\nx", 0,
		 1, 0},
		{"no body", "Subject: x", 0, 1, 0},
		{"no close delimiter",
		 "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n",
		 0, 3, 0},
		{"prefix boundary is not a delimiter",
		 "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bb\n--b--\n",
		 0, 2, 0},
		{"multipart without boundary",
		 "Content-Type: multipart/mixed\n\n--b\n\none\n", 0, 1, 0},
		{"bad content type kept default",
		 "Content-Type: garbage\n\nx", 0, 1, 0},
		{"digest defaults to messages",
		 "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in\n\nx\n--d--\n",
		 0, 3, 0},
	};
	struct bounce_mime *m = calloc(1, sizeof(*m));
	const char *why;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		rc = bounce_mime_walk(cases[i].msg, strlen(cases[i].msg), m, &why);
		if (rc != cases[i].rc || (rc == 0 && (m->nparts != cases[i].nparts
						      || m->truncated
						      != cases[i].truncated))
		    || (rc != 0) != (why != NULL))
			tcase_bad(cases[i].name, "got rc %d nparts %zu trunc %d, "
				  "want %d %zu %d", rc, m->nparts, m->truncated,
				  cases[i].rc, cases[i].nparts,
				  cases[i].truncated);
	}
	if (bounce_mime_walk(cases[9].msg, strlen(cases[9].msg), m, &why) == 0
	    && count_type(m, "message/rfc822") != 1)
		tcase_bad("digest part type", "got %zu message/rfc822",
			  count_type(m, "message/rfc822"));
	free(m);
	tcase_done();
}

/* test_limits - many parts and deep nesting stop at the limits */
static void
test_limits(void **state)
{
	struct bounce_mime *m = calloc(1, sizeof(*m));
	size_t cap = 64 * 1024, n = 0, i;
	char *buf = malloc(cap);
	const char *why;

	/* 200 parts in one multipart */
	n += snprintf(buf + n, cap - n, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (i = 0; i < 200; i++)
		n += snprintf(buf + n, cap - n, "--x\n\npart %zu\n", i);
	n += snprintf(buf + n, cap - n, "--x--\n");
	if (bounce_mime_walk(buf, n, m, &why) != 0
	    || m->nparts != BOUNCE_MIME_MAX_PARTS || !m->truncated)
		tcase_bad("many parts", "got %zu parts truncated %d, want %d 1",
			  m->nparts, m->truncated, BOUNCE_MIME_MAX_PARTS);

	/* 20 nested message/rfc822 */
	n = 0;
	for (i = 0; i < 20; i++)
		n += snprintf(buf + n, cap - n,
			      "Subject: %zu\nContent-Type: message/rfc822\n\n", i);
	n += snprintf(buf + n, cap - n, "Subject: last\n\nbody\n");
	if (bounce_mime_walk(buf, n, m, &why) != 0
	    || m->nparts != BOUNCE_MIME_MAX_DEPTH + 1 || !m->truncated)
		tcase_bad("deep", "got %zu parts truncated %d, want %d 1",
			  m->nparts, m->truncated, BOUNCE_MIME_MAX_DEPTH + 1);
	free(buf);
	free(m);
	tcase_done();
}

/* test_decode - transfer encodings and HTML text */
static void
test_decode(void **state)
{
	static const struct {
		const char *name;
		enum bounce_cte cte;
		const char *type, *body, *want;
	} cases[] = {
		{"identity", BOUNCE_CTE_IDENTITY, "text/plain", "a=3Db", "a=3Db"},
		{"qp", BOUNCE_CTE_QP, "text/plain", "a=3Db", "a=b"},
		{"qp soft break", BOUNCE_CTE_QP, "text/plain", "ab=\r\ncd=  \nef", "abcdef"},
		{"qp bad escape", BOUNCE_CTE_QP, "text/plain", "a=ZZb=", "a=ZZb"},
		{"base64", BOUNCE_CTE_BASE64, "text/plain", "aGVs\r\nbG8=\r\n", "hello"},
		{"base64 junk", BOUNCE_CTE_BASE64, "text/plain", "a*G!V sbG8", "hello"},
		{"html", BOUNCE_CTE_IDENTITY, "text/html",
		 "<html><head><style>p {x}</style></head><body><p>Hi &lt;a@b&gt;</p>x<br>y</body></html>",
		 "Hi <a@b>\nx\ny"},
		{"html unterminated tag", BOUNCE_CTE_IDENTITY, "text/html", "a<b", "a"},
		{"html unterminated style", BOUNCE_CTE_IDENTITY, "text/html", "a<style>x", "a"},
		{"nul replaced", BOUNCE_CTE_BASE64, "text/plain", "YQBi", "a b"},
	};
	struct bounce_part pt;
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&pt, 0, sizeof(pt));
		pt.cte = cases[i].cte;
		snprintf(pt.type, sizeof(pt.type), "%s", cases[i].type);
		pt.body = cases[i].body;
		pt.bodylen = strlen(cases[i].body);
		bounce_mime_text(&pt, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", out,
				  cases[i].want);
	}
	memset(&pt, 0, sizeof(pt));
	snprintf(pt.type, sizeof(pt.type), "text/plain");
	pt.body = "abcdef";
	pt.bodylen = 6;
	if (bounce_mime_text(&pt, out, 4) != 3 || strcmp(out, "abc") != 0)
		tcase_bad("bounded", "got \"%s\", want \"abc\"", out);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_edges),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
