/*++
 * NAME
 *	milter_check_test 1
 * SUMMARY
 *	unit tests of the -n start checks (common/milter_check.c)
 * DESCRIPTION
 *	Table-driven: the line of a parameter in a file (last assignment
 *	wins, comments and continuation lines are not assignments, a longer
 *	name is another parameter); line-less "path: name = ..." messages get
 *	their line; socket specs as the start binds them (unix: directory
 *	exists and is writable, absolute, fits sun_path; inet:/inet6: port
 *	1-65535, numeric host; unknown types). Nothing resolves a name: hosts
 *	are literals. A failing row prints "name: got X, want Y".
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
#include <unistd.h>

#include "milter_check.h"

static char dir[] = "/tmp/pm-check-XXXXXX";
static char conf[256];

/* write_conf - the test file */
static void
write_conf(const char *text)
{
	FILE *fp = fopen(conf, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* test_line - where each parameter is set */
static void
test_line(void **state)
{
	static const struct {
		const char *name;
		unsigned want;
	} rows[] = {
		{"run_user", 5},		/* the last assignment wins */
		{"dkim_socket", 2},
		{"dkim_socket_mode", 0},	/* a longer name is not a prefix match */
		{"socket_group", 0},		/* only in a comment */
		{"continued", 0},		/* continuation line */
		{"dkim_pid_file", 7},		/* no space before '=' */
		{"absent", 0},
	};

	(void)state;
	write_conf("run_user = a\n"
		   "dkim_socket = unix:/x\n"
		   "# socket_group = postfix\n"
		   "dkim_key_table = /t\n"
		   "run_user = b\n"
		   "    continued = no\n"
		   "dkim_pid_file=/p\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned got = milter_check_line(conf, rows[i].name);

		if (got != rows[i].want)
			tcase_bad(rows[i].name, "got %u, want %u", got, rows[i].want);
	}
	assert_int_equal(milter_check_line("/nonexistent/pm.conf", "run_user"), 0);
	tcase_done();
}

/* test_locate - messages without a line get the parameter's */
static void
test_locate(void **state)
{
	struct errlist el = ERRLIST_INIT;
	char want[512];

	(void)state;
	write_conf("# x\nredis_server = 1:2:3\n");
	errlist_add_at(&el, conf, 0, "redis_server = 1:2:3: port is not a number");
	errlist_add_at(&el, conf, 0, "unset_param = x: no line to give");
	errlist_add_at(&el, conf, 0, "run_group is set but run_user is empty");
	errlist_add(&el, "other: redis_server = 1");
	milter_check_locate(&el, conf);
	assert_int_equal(el.count, 4);
	snprintf(want, sizeof(want), "%s:2: redis_server = 1:2:3: port is not a number", conf);
	assert_string_equal(el.msgs[0], want);
	snprintf(want, sizeof(want), "%s: unset_param = x: no line to give", conf);
	assert_string_equal(el.msgs[1], want);
	snprintf(want, sizeof(want), "%s: run_group is set but run_user is empty", conf);
	assert_string_equal(el.msgs[2], want);
	assert_string_equal(el.msgs[3], "other: redis_server = 1");
	errlist_free(&el);
}

struct fake_conf {
	char *socket;
	char *pid_file;
};

/* test_socket - specs as smfi_setconn()/smfi_opensocket() take them */
static void
test_socket(void **state)
{
	static const struct cfg_section section = { "dkim", "dkim_", NULL, 0, NULL };
	static const struct milter_app app = {
		.name = "dkim", .section = &section,
		.socket_offset = offsetof(struct fake_conf, socket),
		.pid_file_offset = offsetof(struct fake_conf, pid_file),
	};
	char good_unix[300], nodir[300], file_dir[300], relative[] = "unix:pm.sock";
	char longpath[300];
	const struct {
		const char *spec;
		const char *want;	/* in the message; NULL: accepted */
	} rows[] = {
		{good_unix, NULL},
		{"inet:10025@127.0.0.1", NULL},
		{"inet:10025", NULL},
		{"inet6:10025@::1", NULL},
		{nodir, "No such file or directory"},
		{file_dir, "is not a directory"},
		{relative, "must be absolute"},
		{longpath, "path longer than"},
		{"inet:0@127.0.0.1", "port must be"},
		{"inet:65536@127.0.0.1", "port must be"},
		{"inet:smtp@127.0.0.1", "port must be"},
		{"inet:@127.0.0.1", "port must be"},
		{"tcp:25", "unknown socket type"},
		{"", "dkim_socket is empty"},
	};
	struct common_conf common = { 0 };
	struct fake_conf fc = { 0 };
	struct milter_snapshot snap = { .common = &common, .conf = &fc };

	(void)state;
	snprintf(good_unix, sizeof(good_unix), "unix:%s/dkim.sock", dir);
	snprintf(nodir, sizeof(nodir), "unix:%s/nodir/dkim.sock", dir);
	snprintf(file_dir, sizeof(file_dir), "local:%s/dkim.sock", conf);
	snprintf(longpath, sizeof(longpath), "unix:%s/%0150d.sock", dir, 0);
	write_conf("dkim_socket = x\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		char *got;

		fc.socket = (char *)rows[i].spec;
		milter_check_start(&app, &snap, conf, false, &el);
		got = errlist_join(&el);
		if (rows[i].want == NULL ? el.count != 0
		    : (el.count != 1 || strstr(got, rows[i].want) == NULL
		       || strncmp(got, conf, strlen(conf)) != 0
		       || strncmp(got + strlen(conf), ":1: ", 4) != 0))
			tcase_bad(rows[i].spec, "got \"%s\", want %s%s", got,
				  rows[i].want ? "conf:1: ... " : "no error",
				  rows[i].want ? rows[i].want : "");
		free(got);
		errlist_free(&el);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_socket),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(conf, sizeof(conf), "%s/postmill.conf", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(conf);
	rmdir(dir);
	return rc;
}
