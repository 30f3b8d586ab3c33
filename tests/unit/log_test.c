/*++
 * NAME
 *	log_test 1
 * SUMMARY
 *	unit tests of logging (common/log.c)
 * DESCRIPTION
 *	log_escape() is tested from a table: escapes, truncation with "...",
 *	escapes never split, exact fits, tiny buffers. Every row writes into a
 *	buffer with guard bytes behind dstlen that must stay untouched.
 *
 *	log_msg() writes to syslog, which the test machines do not run; its
 *	stderr copy (log_open(..., true)) is what these tests read: fd 2 is
 *	pointed at a temporary file for the duration of each test.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stderr_capture.h"


/* BIN - a string literal with NUL bytes and its length */
#define BIN(s)	s, sizeof(s) - 1

#define GUARD	16

/* test_escape - the table */
static void
test_escape(void **state)
{
	static const struct {
		const char *name;
		const char *src;
		size_t srclen;
		size_t dstlen;
		const char *want;
	} cases[] = {
		{"plain", BIN("hello world"), 64, "hello world"},
		{"empty", BIN(""), 64, ""},
		{"printable edges", BIN(" ~!<>@\"'"), 64, " ~!<>@\"'"},
		{"backslash doubled", BIN("a\\b"), 64, "a\\\\b"},
		{"CR LF", BIN("\r\n"), 64, "\\x0d\\x0a"},
		{"tab", BIN("a\tb"), 64, "a\\x09b"},
		{"escape byte", BIN("\x1b[31m"), 64, "\\x1b[31m"},
		{"DEL", BIN("\x7f"), 64, "\\x7f"},
		{"8-bit", BIN("\x80\xff"), 64, "\\x80\\xff"},
		{"UTF-8", BIN("caf\xc3\xa9"), 64, "caf\\xc3\\xa9"},
		{"NUL inside", BIN("a\0b"), 64, "a\\x00b"},
		{"srclen shorter than the text", "hello", 3, 64, "hel"},
		/* exact fits are not cut */
		{"exact fit", BIN("hello"), 6, "hello"},
		{"exact fit, escape", BIN("a\x01"), 6, "a\\x01"},
		{"exact fit, backslash", BIN("ab\\cd"), 7, "ab\\\\cd"},
		/* one byte short: cut, "..." marks it */
		{"one short", BIN("hello"), 5, "h..."},
		{"cut", BIN("hello world"), 8, "hell..."},
		{"cut, escape not split", BIN("ab\x01" "cd"), 8, "ab..."},
		{"cut, escape fits", BIN("a\x01" "cdefgh"), 9, "a\\x01..."},
		{"cut, backslash not split", BIN("abc\\defgh"), 8, "abc..."},
		{"cut, all escapes", BIN("\x01\x02\x03"), 9, "\\x01..."},
		/* tiny buffers */
		{"dstlen 1", BIN("hello"), 1, ""},
		{"dstlen 1, empty", BIN(""), 1, ""},
		{"dstlen 2", BIN("hello"), 2, ""},
		{"dstlen 2, fits", BIN("h"), 2, "h"},
		{"dstlen 3", BIN("hello"), 3, ""},
		{"dstlen 4, cut", BIN("hello"), 4, "..."},
		{"dstlen 4, fits", BIN("abc"), 4, "abc"},
		{"dstlen 4, escape", BIN("\x01"), 4, "..."},
		{"dstlen 5, cut", BIN("hello"), 5, "h..."},
		{"dstlen 5, fits", BIN("abcd"), 5, "abcd"},
		{"dstlen 5, escape", BIN("\x01"), 5, "\\x01"},
		{"dstlen 5, escape cut", BIN("\x01" "a"), 5, "..."},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t dstlen = cases[i].dstlen;
		char *buf = malloc(dstlen + GUARD);
		char *ret;

		assert_non_null(buf);
		memset(buf, 'Z', dstlen + GUARD);
		ret = log_escape(buf, dstlen, cases[i].src, cases[i].srclen);
		if (ret != buf)
			tcase_bad(cases[i].name, "got %p, want dst %p", (void *)ret,
			    (void *)buf);
		if (memchr(buf, '\0', dstlen) == NULL)
			tcase_bad(cases[i].name, "got no NUL within dstlen %zu", dstlen);
		else if (strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf,
			    cases[i].want);
		for (size_t g = dstlen; g < dstlen + GUARD; g++) {
			if (buf[g] != 'Z') {
				tcase_bad(cases[i].name, "got a write at byte %zu, "
				    "want none past dstlen %zu", g, dstlen);
				break;
			}
		}
		free(buf);
	}
	tcase_done();
}

/* test_escape_zero - dstlen 0 writes nothing */
static void
test_escape_zero(void **state)
{
	char buf[4] = {'Z', 'Z', 'Z', 'Z'};

	assert_ptr_equal(log_escape(buf, 0, "hello", 5), buf);
	assert_memory_equal(buf, "ZZZZ", 4);
}

/* test_escape_long - every dstlen from 0 to beyond the escaped length */
static void
test_escape_long(void **state)
{
	unsigned char src[300];
	size_t total = 0;

	/* a mix: plain, backslash, control, 8-bit */
	for (size_t i = 0; i < sizeof(src); i++) {
		src[i] = (unsigned char)(i % 4 == 0 ? 'a' : i % 4 == 1 ? '\\'
					 : i % 4 == 2 ? 0x01 : 0xe9);
		total += i % 4 == 0 ? 1 : i % 4 == 1 ? 2 : 4;
	}
	for (size_t dstlen = 1; dstlen <= total + 2; dstlen++) {
		char *buf = malloc(dstlen + GUARD);
		char name[32];
		size_t len;

		snprintf(name, sizeof(name), "dstlen %zu", dstlen);
		assert_non_null(buf);
		memset(buf, 'Z', dstlen + GUARD);
		log_escape(buf, dstlen, (const char *)src, sizeof(src));
		len = strnlen(buf, dstlen);
		if (len >= dstlen) {
			tcase_bad(name, "got no NUL, want one");
		} else if (dstlen > total) {
			/* everything fits, nothing cut */
			if (len != total || strstr(buf, "...") != NULL)
				tcase_bad(name, "got %zu bytes, want all %zu uncut", len,
				    total);
		} else if (dstlen >= 4
			   && (len < 3 || strcmp(buf + len - 3, "...") != 0)) {
			tcase_bad(name, "got \"%s\", want \"...\" at the end", buf);
		} else if (dstlen >= 4) {
			size_t body = len - 3, o = 0, k = 0;

			/* the body ends on the boundary of a whole escape */
			while (o < body && k < sizeof(src)) {
				o += k % 4 == 0 ? 1 : k % 4 == 1 ? 2 : 4;
				k++;
			}
			if (o != body)
				tcase_bad(name, "got an escape split at byte %zu", body);
			/* and the next escape (at most 4 bytes) did not fit */
			if (body + 7 < dstlen)
				tcase_bad(name, "got %zu bytes, want at most 4 unused",
				    len);
		} else if (len != 0) {
			tcase_bad(name, "got \"%s\", want \"\"", buf);
		}
		for (size_t g = dstlen; g < dstlen + GUARD; g++)
			if (buf[g] != 'Z') {
				tcase_bad(name, "got a write past dstlen");
				break;
			}
		free(buf);
	}
	tcase_done();
}

/*
 * log_msg() through its stderr copy.
 */
/* count_lines - newlines in text */
static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* test_msg - queue id prefix, levels, NOQUEUE, no qid */
static void
test_msg(void **state)
{
	static const struct {
		const char *name;
		int prio;
		const char *qid;
		const char *msg;
		const char *want;	/* after "log_test[pid]: " */
	} cases[] = {
		{"info with qid", LOG_INFO, "3F1A2B1C4",
		 "dkim: action=sign domain=example.com",
		 "3F1A2B1C4: dkim: action=sign domain=example.com\n"},
		{"NOQUEUE", LOG_INFO, LOG_NOQUEUE, "dkim: action=skip",
		 "NOQUEUE: dkim: action=skip\n"},
		{"no qid", LOG_INFO, NULL, "starting", "starting\n"},
		{"notice", LOG_NOTICE, "ABC", "verdict", "ABC: verdict\n"},
		{"warning", LOG_WARNING, "ABC", "redis down",
		 "warning: ABC: redis down\n"},
		{"error", LOG_ERR, NULL, "cannot bind", "error: cannot bind\n"},
		{"crit", LOG_CRIT, NULL, "out of memory", "crit: out of memory\n"},
		{"percent in argument", LOG_INFO, "Q", "%s", "Q: %s\n"},
	};
	char prefix[64];

	log_open("log_test", true);
	log_set_debug(0);
	snprintf(prefix, sizeof(prefix), "log_test[%d]: ", (int)getpid());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out, *p, want[256];

		stderr_capture_start();
		log_msg(cases[i].prio, cases[i].qid, "%s", cases[i].msg);
		out = stderr_capture_end();
		snprintf(want, sizeof(want), "%s%s", prefix, cases[i].want);
		/* "HH:MM:SS.mmm " comes first */
		p = strchr(out, ' ');
		if (count_lines(out) != 1 || p == NULL || strcmp(p + 1, want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"HH:MM:SS.mmm %s\"",
			    out, want);
		else if (p - out != 12 || out[2] != ':' || out[5] != ':'
			 || out[8] != '.')
			tcase_bad(cases[i].name, "got time stamp \"%.*s\", want "
			    "HH:MM:SS.mmm", (int)(p - out), out);
		free(out);
	}
	tcase_done();
}

/* test_debug - LOG_DEBUG only after log_set_debug(1) */
static void
test_debug(void **state)
{
	char *out;

	log_open("log_test", true);
	log_set_debug(0);
	assert_int_equal(log_debug_level(), 0);
	stderr_capture_start();
	log_msg(LOG_DEBUG, "Q1", "hidden %d", 1);
	log_msg(LOG_INFO, "Q1", "shown %d", 1);
	out = stderr_capture_end();
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "Q1: shown 1\n"));
	free(out);

	log_set_debug(1);
	assert_int_equal(log_debug_level(), 1);
	stderr_capture_start();
	log_msg(LOG_DEBUG, "Q2", "visible %d", 2);
	out = stderr_capture_end();
	assert_non_null(strstr(out, "Q2: visible 2\n"));
	assert_int_equal(count_lines(out), 1);
	free(out);

	log_set_debug(0);
	stderr_capture_start();
	log_msg(LOG_DEBUG, "Q3", "hidden again");
	out = stderr_capture_end();
	assert_string_equal(out, "");
	free(out);
}

/* test_long - a huge message is one bounded line */
static void
test_long(void **state)
{
	char *big = malloc(10000), *out;

	assert_non_null(big);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	log_open("log_test", true);
	stderr_capture_start();
	log_msg(LOG_INFO, "QID", "%s", big);
	out = stderr_capture_end();
	assert_int_equal(count_lines(out), 1);
	assert_true(out[strlen(out) - 1] == '\n');
	assert_non_null(strstr(out, "QID: xxxx"));
	assert_true(strlen(out) < 2400);
	free(out);
	free(big);
}

#define NTHREADS	8
#define NLINES		200

/* log_thread - one writer */
static void *
log_thread(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < NLINES; i++)
		log_msg(LOG_INFO, "QTHREAD", "thread=%d line=%d %s", id, i,
			"padding padding padding padding padding padding");
	return NULL;
}

/* test_threads - concurrent lines never interleave */
static void
test_threads(void **state)
{
	pthread_t t[NTHREADS];
	char *out, *line, *save = NULL;
	size_t n = 0;

	log_open("log_test", true);
	stderr_capture_start();
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, log_thread,
						(void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	out = stderr_capture_end();
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		int id, k;
		const char *q = strstr(line, "QTHREAD: thread=");

		if (q == NULL || sscanf(q, "QTHREAD: thread=%d line=%d", &id, &k) != 2
		    || strstr(q + 1, "QTHREAD") != NULL
		    || strstr(line, "padding padding padding padding padding "
			      "padding") == NULL)
			tcase_bad("line", "got \"%s\", want one whole line", line);
		n++;
	}
	if (n != NTHREADS * NLINES)
		tcase_bad("count", "got %zu lines, want %d", n, NTHREADS * NLINES);
	free(out);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_zero),
		cmocka_unit_test(test_escape_long),
		cmocka_unit_test(test_msg),
		cmocka_unit_test(test_debug),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
