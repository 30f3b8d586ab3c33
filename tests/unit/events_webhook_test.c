/*++
 * NAME
 *	events_webhook_test 1
 * SUMMARY
 *	unit tests of the webhook table, signature and JSON body
 *	(tools/postmill-events/events_wh_table.c)
 * DESCRIPTION
 *	The table parser on good and bad tables: each problem with its
 *	"path:line:" and all of them in one run; https or loopback http
 *	only; duplicate tenants; comments, blank lines, CRLF, tabs. Secret
 *	files: mode 0644 refused, short secret refused, 0600 read (the
 *	trailing newline is not part of the secret). The signature against
 *	a vector computed with Python's hmac module; the JSON body of an
 *	event with quotes, backslashes and control characters round-trips
 *	through json-c.
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
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "events_webhook.h"

struct tcase_wh {
	const char *name, *text;
	size_t	 errors, rows;
	const char *msg;		/* a substring of the joined errors, or NULL */
};

/* test_parse - the table */
static void
test_parse(void **state)
{
	static const struct tcase_wh tc[] = {
		{"one", "customer.test https://hooks.example/x /etc/s\n", 0, 1, NULL},
		{"comments blanks crlf tabs", "# c\n\n  \r\nA.test\thttps://h/x\t/s\r\n", 0, 1, NULL},
		{"lower-cased tenant", "CUSTOMER.Test https://h/x /s\n", 0, 1, NULL},
		{"loopback http", "a http://127.0.0.1:8080/x /s\nb http://[::1]:9/x /s\n", 0, 2, NULL},
		{"plain http elsewhere", "a http://hooks.example/x /s\n", 1, 0,
		 "t:1: http://hooks.example/x: plain http:// only"},
		{"http to 127.0.0.10", "a http://127.0.0.10/x /s\n", 1, 0, "plain http"},
		{"ftp", "a ftp://h/x /s\n", 1, 0, "must start with https://"},
		{"two words", "a https://h/x\n", 1, 0, "t:1: expected TENANT URL SECRET_FILE, got 2 words"},
		{"four words", "a https://h/x /s extra\n", 1, 0, "got 4 words"},
		{"relative secret", "a https://h/x s\n", 1, 0, "absolute path"},
		{"twice", "a https://h/x /s\nA https://h/y /s\n", 1, 1, "t:2: tenant a is listed twice"},
		{"all errors in one run", "a ftp://x /s\n\nb https://h\nc https://h/x /s\n", 2, 1,
		 "t:3:"},
		{"no host", "a https:// /s\n", 1, 0, "without a host"},
		{"NUL ends the line", "a https://h/x /s\0junk\n", 0, 1, NULL},
		{"empty", "", 0, 0, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		struct events_wh_table t;
		size_t	 len = strlen(tc[i].text), e;
		char	*all;

		if (strcmp(tc[i].name, "NUL ends the line") == 0)
			len = 22;
		e = events_wh_parse(tc[i].text, len, "t", &t, &el);
		all = errlist_join(&el);
		if (e != tc[i].errors || el.count != tc[i].errors)
			tcase_bad(tc[i].name, "%zu errors (%zu listed), want %zu: %s", e, el.count,
				  tc[i].errors, all);
		if (t.n != tc[i].rows)
			tcase_bad(tc[i].name, "%zu rows, want %zu", t.n, tc[i].rows);
		if (tc[i].msg != NULL && strstr(all, tc[i].msg) == NULL)
			tcase_bad(tc[i].name, "errors \"%s\" lack \"%s\"", all, tc[i].msg);
		if (strcmp(tc[i].name, "lower-cased tenant") == 0
		    && (t.n != 1 || strcmp(t.v[0].tenant, "customer.test") != 0
			|| events_wh_find(&t, "Customer.TEST") == NULL))
			tcase_bad(tc[i].name, "tenant not lower-cased or not found");
		free(all);
		errlist_free(&el);
		events_wh_table_free(&t);
	}
	tcase_done();
}

/* wfile - write a file with a mode */
static void
wfile(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* test_load - secrets: mode, length, newline */
static void
test_load(void **state)
{
	char	 dir[] = "/tmp/pm-wh-XXXXXX", tab[128], s1[128], s2[128], s3[128], text[512];
	struct errlist el = ERRLIST_INIT;
	struct events_wh_table t;
	char	*all;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(s1, sizeof(s1), "%s/good", dir);
	snprintf(s2, sizeof(s2), "%s/open", dir);
	snprintf(s3, sizeof(s3), "%s/short", dir);
	snprintf(tab, sizeof(tab), "%s/table", dir);
	wfile(s1, "0123456789abcdef0123456789abcdef\n", 0600);
	wfile(s2, "0123456789abcdef0123456789abcdef\n", 0644);
	wfile(s3, "short\n", 0600);
	snprintf(text, sizeof(text), "a https://h/x %s\nb https://h/x %s\nc https://h/x %s\n",
		 s1, s2, s3);
	wfile(tab, text, 0644);
	assert_int_equal(events_wh_load(tab, &t, &el), -1);
	all = errlist_join(&el);
	assert_int_equal(el.count, 2);
	assert_non_null(strstr(all, ":2: "));
	assert_non_null(strstr(all, "chmod 600"));
	assert_non_null(strstr(all, ":3: "));
	assert_non_null(strstr(all, "16 to 256 bytes"));
	free(all);
	errlist_free(&el);
	snprintf(text, sizeof(text), "a https://h/x %s\n", s1);
	wfile(tab, text, 0644);
	assert_int_equal(events_wh_load(tab, &t, &el), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.v[0].secretlen, 32);
	assert_memory_equal(t.v[0].secret, "0123456789abcdef0123456789abcdef", 32);
	events_wh_table_free(&t);
	unlink(s1);
	unlink(s2);
	unlink(s3);
	unlink(tab);
	rmdir(dir);
}

/* test_sign - a vector from Python: hmac.new(key, b"1700000000." + body, sha256) */
static void
test_sign(void **state)
{
	static const char body[] = "{\"id\":\"x\"}";
	char	 out[65];

	(void)state;
	events_wh_sign((const unsigned char *)"0123456789abcdef0123456789abcdef", 32,
		       "1700000000", body, strlen(body), out);
	assert_string_equal(out, "1d3a1a80c8ad0d56d3cc81d488b5779dbdd6367281fd813d1d9b8d7a5cd0204b");
}

/* test_json - the body is JSON whatever the values hold */
static void
test_json(void **state)
{
	struct events_ev e;
	json_object *o;
	char	*s;

	(void)state;
	memset(&e, 0, sizeof(e));
	events_ev_set(&e, "id", "abc");
	events_ev_set(&e, "diagnostic", "550 \"quoted\" back\\slash\x01 ctl");
	events_ev_set(&e, "recipient", "x@y");
	s = events_wh_json(&e);
	o = json_tokener_parse(s);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "diagnostic")),
			    "550 \"quoted\" back\\slash\x01 ctl");
	assert_string_equal(json_object_get_string(json_object_object_get(o, "id")), "abc");
	json_object_put(o);
	free(s);
	for (size_t i = 0; i < e.n; i++)
		free(e.v[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("events_webhook", tests, NULL, NULL);
}
