/*++
 * NAME
 *	privdrop_test 1
 * SUMMARY
 *	unit tests of the privilege drop and the shared -n checks
 *	(common/privdrop.c, common/check.c)
 * DESCRIPTION
 *	Table-driven. privdrop_lookup() and privdrop_check_ids() on real
 *	accounts: root, nobody, names that do not exist (as root the lookup
 *	gives ids; as another user it gives -1 and no error, there being
 *	nothing to drop). privdrop_as_user() runs a function in a child
 *	that became the user and brings its errors back. check_readable(),
 *	check_dir_writable() and check_listen() on files, directories and
 *	addresses made for the test (192.0.2.1, TEST-NET-1, is on no
 *	interface). Every error names path:LINE. A failing row prints
 *	"name: got X, want Y".
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "privdrop.h"

static char dir[] = "/tmp/pm-privdrop-XXXXXX";
static char conf[256];

/* setup - a directory and a config file where each parameter has a line */
static int
setup(void **state)
{
	FILE *fp;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	chmod(dir, 0755);
	snprintf(conf, sizeof(conf), "%s/t.conf", dir);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fputs("# test\nrun_user = x\nrun_group = x\nstats_dir = x\nlisten = x\n", fp);
	fclose(fp);
	return 0;
}

/* teardown - remove what the tests made */
static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* joined - every message, for the "want" substring */
static const char *
joined(const struct errlist *el, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < el->count && used + 1 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s|", el->msgs[i]);
	return buf;
}

/* test_ids - lookup and -n check of run_user/run_group */
static void
test_ids(void **state)
{
	static const struct {
		const char *name, *user, *group;
		int want_rc;		/* privdrop_lookup, as root */
		const char *want;	/* in the messages; NULL: none */
		const char *want2;	/* and this too */
	} cases[] = {
		{"no run_user: nothing to do", NULL, NULL, 0, NULL, NULL},
		{"nobody", "nobody", NULL, 0, NULL, NULL},
		{"nobody, group root", "nobody", "root", 0, NULL, NULL},
		{"no such user", "no-such-user-pm", NULL, -1,
		 ":2: run_user = no-such-user-pm: no such user", NULL},
		{"root refused", "root", NULL, -1,
		 ":2: run_user = root: running as root is refused", NULL},
		{"no such group", "nobody", "no-such-group-pm", -1,
		 ":3: run_group = no-such-group-pm: no such group", NULL},
		{"both wrong: both said", "no-such-user-pm", "no-such-group-pm", -1,
		 ":2: run_user = no-such-user-pm: no such user",
		 ":3: run_group = no-such-group-pm: no such group"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct common_conf c;
		struct errlist el = ERRLIST_INIT, el2 = ERRLIST_INIT;
		uid_t uid;
		gid_t gid;
		char buf[2048];
		int rc;

		memset(&c, 0, sizeof(c));
		c.run_user = (char *)cases[i].user;
		c.run_group = (char *)cases[i].group;
		rc = privdrop_lookup(&c, conf, &uid, &gid, &el);
		privdrop_check_ids(&c, conf, &el2);
		if (getuid() != 0) {
			/* not root: nothing to drop, whatever the names */
			if (rc != 0 || uid != (uid_t)-1 || el.count != 0)
				tcase_bad(cases[i].name, "not root: got rc %d uid %d, "
				    "want 0 and -1", rc, (int)uid);
		} else {
			if (rc != cases[i].want_rc)
				tcase_bad(cases[i].name, "got rc %d, want %d", rc,
				    cases[i].want_rc);
			if (rc == 0 && cases[i].user != NULL) {
				struct passwd *pw = getpwnam(cases[i].user);

				if (uid != pw->pw_uid)
					tcase_bad(cases[i].name, "got uid %d, want %d",
					    (int)uid, (int)pw->pw_uid);
				if (cases[i].group == NULL && gid != pw->pw_gid)
					tcase_bad(cases[i].name, "got gid %d, want %d",
					    (int)gid, (int)pw->pw_gid);
				if (cases[i].group != NULL && gid != 0)
					tcase_bad(cases[i].name, "got gid %d, want 0",
					    (int)gid);
			}
		}
		/* the -n check says the same whoever runs it */
		if (cases[i].want == NULL && el2.count != 0)
			tcase_bad(cases[i].name, "got \"%s\", want no message",
			    joined(&el2, buf, sizeof(buf)));
		if (cases[i].want != NULL
		    && strstr(joined(&el2, buf, sizeof(buf)), cases[i].want) == NULL)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf,
			    cases[i].want);
		if (cases[i].want2 != NULL
		    && strstr(joined(&el2, buf, sizeof(buf)), cases[i].want2) == NULL)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf,
			    cases[i].want2);
		errlist_free(&el);
		errlist_free(&el2);
	}
	tcase_done();
}

/* as_nobody - what the child sees: its uid, and a file root keeps */
static void
as_nobody(void *arg, struct errlist *el)
{
	const char *secret = arg;

	errlist_add(el, "uid=%d", (int)getuid());
	if (fopen(secret, "r") == NULL)
		errlist_add(el, "%s: unreadable", secret);
	if (setuid(0) == 0)
		errlist_add(el, "got root back");
}

/* test_as_user - a check runs in a child that became run_user */
static void
test_as_user(void **state)
{
	struct common_conf c;
	struct errlist el = ERRLIST_INIT;
	char secret[300], want[400], buf[2048];
	struct passwd *pw = getpwnam("nobody");
	FILE *fp;

	(void)state;
	if (getuid() != 0 || pw == NULL)
		skip();
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	fp = fopen(secret, "w");
	assert_non_null(fp);
	fclose(fp);
	chmod(secret, 0600);
	memset(&c, 0, sizeof(c));
	c.run_user = "nobody";
	privdrop_as_user(&c, conf, as_nobody, secret, &el);
	joined(&el, buf, sizeof(buf));
	snprintf(want, sizeof(want), "as run_user nobody: uid=%d|as run_user nobody: "
		 "%s: unreadable|", (int)pw->pw_uid, secret);
	assert_string_equal(buf, want);
	errlist_free(&el);
	/* a wrong account: the child never runs (the names' check says why) */
	c.run_user = "no-such-user-pm";
	privdrop_as_user(&c, conf, as_nobody, secret, &el);
	assert_int_equal(el.count, 0);
	errlist_free(&el);
}

/* with_dir - want with each "DIR" replaced by the test's directory */
static const char *
with_dir(const char *w, char *out, size_t len)
{
	size_t used = 0;

	while (*w && used + 1 < len) {
		if (strncmp(w, "DIR", 3) == 0) {
			used += (size_t)snprintf(out + used, len - used, "%s", dir);
			w += 3;
		} else
			out[used++] = *w++;
	}
	out[used < len ? used : len - 1] = '\0';
	return out;
}

/* test_files - readable files, writable directories */
static void
test_files(void **state)
{
	static const struct {
		const char *name, *rel;	/* under dir */
		int kind;		/* 0 readable, 1 readable or missing, 2 dir writable */
		const char *want;	/* NULL: no message */
	} cases[] = {
		{"readable file", "t.conf", 0, NULL},
		{"missing file", "nofile", 0, ":4: stats_dir = DIR/nofile: No such file"},
		{"missing file, ok", "nofile", 1, NULL},
		{"missing, no directory", "nodir/f", 1,
		 ":4: stats_dir = DIR/nodir/f: directory DIR/nodir: No such file"},
		{"missing, parent is a file", "t.conf/f", 1, "DIR/t.conf/f: Not a directory"},
		{"directory takes files", "x.sock", 2, NULL},
		{"no such directory", "nodir/x.sock", 2, "directory DIR/nodir: No such file"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		char path[300], want[400], buf[2048];
		const char *w = cases[i].want;

		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].rel);
		if (cases[i].kind < 2)
			check_readable(&el, conf, "stats_dir", path, cases[i].kind == 1);
		else
			check_dir_writable(&el, conf, "stats_dir", path, path);
		joined(&el, buf, sizeof(buf));
		if (w != NULL)
			w = with_dir(w, want, sizeof(want));
		if (w == NULL && el.count != 0)
			tcase_bad(cases[i].name, "got \"%s\", want no message", buf);
		if (w != NULL && strstr(buf, w) == NULL)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf, w);
		errlist_free(&el);
	}
	tcase_done();
}

/* test_listen - addresses this host can bind, or not */
static void
test_listen(void **state)
{
	static const struct {
		const char *name;
		int family;
		const char *addr;
		unsigned port;		/* 0: any free port */
		const char *want;	/* NULL: no message */
	} cases[] = {
		{"loopback, free port", AF_INET, "127.0.0.1", 0, NULL},
		{"IPv6 loopback", AF_INET6, "::1", 0, NULL},
		{"not on this host", AF_INET, "192.0.2.1", 0,
		 ":5: listen = TEXT: cannot bind: Cannot assign requested address"},
		{"IPv6 documentation prefix", AF_INET6, "2001:db8::1", 0,
		 "cannot bind: Cannot assign requested address"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		struct errlist el = ERRLIST_INIT;
		char buf[2048];
		const char *w = cases[i].want;

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)cases[i].family;
		if (cases[i].family == AF_INET)
			inet_pton(AF_INET, cases[i].addr, &((struct sockaddr_in *)&ss)->sin_addr);
		else
			inet_pton(AF_INET6, cases[i].addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
		check_listen(&el, conf, "listen", "TEXT", &ss);
		joined(&el, buf, sizeof(buf));
		if (w == NULL && el.count != 0)
			tcase_bad(cases[i].name, "got \"%s\", want no message", buf);
		if (w != NULL && strstr(buf, w) == NULL)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf, w);
		errlist_free(&el);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_as_user),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
