/*++
 * NAME
 *	milter_conn_test 1
 * SUMMARY
 *	per-message facts every milter derives the same way
 * DESCRIPTION
 *	milter_conn_facts(): authenticated from {auth_authen}, the login's
 *	escaped form for log lines, internal from the client address and
 *	internal_hosts; milter_conn_end_message() forgets them.
 *	The "go on" answer of a stage. The decision line every module
 *	logs: milter_conn_decision_format() in a table (login or none, no
 *	fields, fields cut so that client= and login= still fit, a control
 *	byte in the fields), and milter_conn_decision() through log_msg()'s
 *	stderr copy (the queue id without a context, LOG_DEBUG off).
 *--*/
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cidr.h"
#include "log.h"
#include "milter_conn.h"
#include "stderr_capture.h"
#include "tcase.h"

struct facts_case {
	const char	*name;
	const char	*login;		/* {auth_authen}, NULL: not sent */
	const char	*addr;		/* client, NULL: "unknown"/local */
	bool		 want_auth, want_internal;
	const char	*want_login, *want_log;
};

static const struct facts_case cases[] = {
	{"no login, outside", NULL, "192.0.2.1", false, false, "", ""},
	{"empty login is none", "", "10.1.2.3", false, true, "", ""},
	{"login, internal v4", "alice", "10.1.2.3", true, true, "alice", "alice"},
	{"login, internal v6", "bob", "2001:db8::5", true, true, "bob", "bob"},
	{"v6 outside", NULL, "2001:db9::5", false, false, "", ""},
	{"local submission is not internal", "carol", NULL, true, false, "carol", "carol"},
	{"a login with a newline is escaped for logs", "ev\nil", "192.0.2.1", true, false,
	 "ev\nil", "ev\\x0ail"},
};

static void
test_milter_conn_facts(void **state)
{
	struct cidr_list hosts = {0};
	struct cidr nets[2];
	const char *why;

	assert_int_equal(cidr_parse("10.0.0.0/8", &nets[0], &why), 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &nets[1], &why), 0);
	hosts.items = nets;
	hosts.count = 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct facts_case *c = &cases[i];
		struct milter_conn mc;

		memset(&mc, 0, sizeof(mc));
		if (c->addr != NULL && strchr(c->addr, ':') != NULL) {
			struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

			inet_pton(AF_INET6, c->addr, &s6.sin6_addr);
			milter_conn_connect(&mc, (struct sockaddr *)&s6);
		} else if (c->addr != NULL) {
			struct sockaddr_in s4 = {.sin_family = AF_INET};

			inet_pton(AF_INET, c->addr, &s4.sin_addr);
			milter_conn_connect(&mc, (struct sockaddr *)&s4);
		} else {
			milter_conn_connect(&mc, NULL);
		}
		milter_conn_facts(&mc, c->login, &hosts);
		if (mc.authenticated != c->want_auth || mc.internal != c->want_internal
		    || strcmp(mc.login, c->want_login) != 0
		    || strcmp(mc.login_log, c->want_log) != 0)
			fail_msg("%s: got auth=%d internal=%d login=%s log=%s, want %d %d %s %s",
				 c->name, mc.authenticated, mc.internal, mc.login, mc.login_log,
				 c->want_auth, c->want_internal, c->want_login, c->want_log);
		milter_conn_end_message(&mc);
		assert_false(mc.authenticated || mc.internal);
		assert_string_equal(mc.login, "");
		assert_string_equal(mc.qid, "");
	}
}

/* the "go on" answer of a stage, by the SMFIP_NR_* flags granted */
static const struct go_on_case {
	const char	*name;
	bool		 have_conn;
	unsigned long	 nr;
	unsigned long	 stage;
	sfsistat	 want;
} go_on_cases[] = {
	{"granted", true, SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIP_NR_MAIL, SMFIS_NOREPLY},
	{"not granted", true, SMFIP_NR_CONN, SMFIP_NR_MAIL, SMFIS_CONTINUE},
	{"none granted", true, 0, SMFIP_NR_HDR, SMFIS_CONTINUE},
	{"no state yet", false, 0, SMFIP_NR_CONN, SMFIS_CONTINUE},
};

static void
test_milter_conn_go_on(void **state)
{
	for (size_t i = 0; i < sizeof(go_on_cases) / sizeof(go_on_cases[0]); i++) {
		const struct go_on_case *c = &go_on_cases[i];
		struct milter_conn mc = {.nr = c->nr};
		const struct milter_conn *p = c->have_conn ? &mc : NULL;

		if (milter_conn_go_on(p, c->stage) != c->want)
			fail_msg("%s: go on answered %d, want %d", c->name,
				 milter_conn_go_on(p, c->stage), c->want);
		if (milter_conn_no_reply(p, c->stage) != (c->want == SMFIS_NOREPLY))
			fail_msg("%s: no_reply disagrees", c->name);
	}
}

/* fields longer than any line: "a=xxxx...", filled in by main() */
static char long_fields[3000];

/* the one decision line, without the queue id */
static const struct decision_case {
	const char	*name;
	size_t		 len;		/* buffer size */
	const char	*module, *action, *fields, *client, *login;
	const char	*want;		/* "A*B": fills buf, starts A, ends B */
} decision_cases[] = {
	{"fields, no login", 200, "dkim", "sign", "signatures=a.test/s1/rsa-sha256",
	 "192.0.2.1", NULL,
	 "dkim: action=sign signatures=a.test/s1/rsa-sha256 client=192.0.2.1"},
	{"fields and login", 200, "dkim", "reject", "reason=login_not_allowed from_domain=a.test",
	 "198.51.100.40", "bob",
	 "dkim: action=reject reason=login_not_allowed from_domain=a.test "
	 "client=198.51.100.40 login=bob"},
	{"empty login is none", 200, "limit", "accept", "stage=eom", "::1", "",
	 "limit: action=accept stage=eom client=::1"},
	{"no fields: no double space", 200, "auth", "skip", "", "local", NULL,
	 "auth: action=skip client=local"},
	{"no fields, with login", 200, "auth", "skip", "", "2001:db8::25", "alice",
	 "auth: action=skip client=2001:db8::25 login=alice"},
	{"NULL fields", 200, "bounce", "accept", NULL, "127.0.0.1", NULL,
	 "bounce: action=accept client=127.0.0.1"},
	{"leading blank in the fields is dropped", 200, "dkim", "sign",
	 " signatures=x long_lines=broken(fields=1,body=no)", "127.0.0.1", NULL,
	 "dkim: action=sign signatures=x long_lines=broken(fields=1,body=no) client=127.0.0.1"},
	{"escaped login stays escaped", 200, "dkim", "sign", "signatures=x", "127.0.0.1",
	 "ev\\x0ail", "dkim: action=sign signatures=x client=127.0.0.1 login=ev\\x0ail"},
	{"a control byte in the fields becomes ?", 200, "bounce", "ignore",
	 "kind=arf why=\"a\nFORGED: b\rc\td\"", "127.0.0.1", NULL,
	 "bounce: action=ignore kind=arf why=\"a?FORGED: b?c?d\" client=127.0.0.1"},
	{"fields exactly fill the buffer", 42, "m", "a", "f=0123456789",
	 "192.0.2.1", NULL, "m: action=a f=0123456789 client=192.0.2.1"},
	{"one byte short: the fields are cut", 41, "m", "a", "f=0123456789",
	 "192.0.2.1", NULL, "m: action=a f=012345... client=192.0.2.1"},
	{"cut fields keep client and login", 70, "limit", "tempfail",
	 "stage=rcpt key=sasl:alice rule=plan limit=day used=1/1", "192.0.2.7", "alice",
	 "limit: action=tempfail stage=rcpt key... client=192.0.2.7 login=alice"},
	{"overflowing fields in a full-size line", MILTER_CONN_DECISION_MAX, "bounce",
	 "record", long_fields, "2001:db8::1", "carol",
	 "bounce: action=record a=xxxx*xxx... client=2001:db8::1 login=carol"},
	{"no room for fields at all", 40, "bounce", "record", "kind=dsn",
	 "192.0.2.1", NULL, "bounce: action=record client=192.0.2.1"},
	{"no room for the tail either: cut, one line", 20, "bounce", "record",
	 "kind=dsn", "192.0.2.1", "carol", "bounce: action=reco"},
};

/* test_milter_conn_decision_format - the line, by table */
static void
test_milter_conn_decision_format(void **state)
{
	for (size_t i = 0; i < sizeof(decision_cases) / sizeof(decision_cases[0]); i++) {
		const struct decision_case *c = &decision_cases[i];
		char buf[MILTER_CONN_DECISION_MAX + 16];
		const char *star = strchr(c->want, '*');
		size_t n, plen, slen;

		memset(buf, 'Z', sizeof(buf));
		n = milter_conn_decision_format(buf, c->len, c->module, c->action,
						c->fields, c->client, c->login);
		if (n != strlen(buf) || n >= c->len) {
			tcase_bad(c->name, "got length %zu (strlen %zu), want strlen < %zu",
				  n, strlen(buf), c->len);
			continue;
		}
		if (buf[c->len] != 'Z')
			tcase_bad(c->name, "got a write past the buffer");
		if (strchr(buf, '\n') != NULL || strchr(buf, '\r') != NULL)
			tcase_bad(c->name, "got a line break in \"%s\"", buf);
		if (star == NULL) {
			if (strcmp(buf, c->want) != 0)
				tcase_bad(c->name, "got \"%s\", want \"%s\"", buf, c->want);
			continue;
		}
		plen = (size_t)(star - c->want);
		slen = strlen(star + 1);
		if (n != c->len - 1 || n < plen + slen || strncmp(buf, c->want, plen) != 0
		    || strcmp(buf + n - slen, star + 1) != 0)
			tcase_bad(c->name, "got %zu bytes \"%.40s ... %s\", want %zu bytes "
				  "\"%s\"", n, buf, n > 60 ? buf + n - 60 : buf,
				  c->len - 1, c->want);
	}
	tcase_done();
}

/* capture_line - what milter_conn_decision() writes, after the pid's ": " */
static char *
capture_line(struct milter_conn *mc, int prio, const char *action, const char *fields)
{
	char *text, *p;

	stderr_capture_start();
	milter_conn_decision(mc, NULL, prio, "limit", action, "%s", fields);
	text = stderr_capture_end();
	/* "HH:MM:SS.mmm milter_conn_test[PID]: " comes first */
	if ((p = strstr(text, "]: ")) != NULL)
		memmove(text, p + 3, strlen(p + 3) + 1);
	return text;
}

/* test_milter_conn_decision - the queue id without a context, LOG_DEBUG */
static void
test_milter_conn_decision(void **state)
{
	static const struct {
		const char	*name;
		const char	*qid;		/* mc->qid */
		const char	*login;		/* NULL: not authenticated */
		int		 prio;
		const char	*want;
	} lines[] = {
		{"no queue id yet: NOQUEUE", "", NULL, LOG_INFO,
		 "NOQUEUE: limit: action=refund reason=close client=192.0.2.9\n"},
		{"the queue id last seen", "4F2A91C03", "alice", LOG_INFO,
		 "4F2A91C03: limit: action=refund reason=close client=192.0.2.9 login=alice\n"},
		{"a warning is labelled", "4F2A91C03", NULL, LOG_WARNING,
		 "warning: 4F2A91C03: limit: action=refund reason=close client=192.0.2.9\n"},
		{"LOG_DEBUG is off by default", "4F2A91C03", NULL, LOG_DEBUG, ""},
	};
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct cidr_list none = {0};

	log_open("milter_conn_test", true);
	log_set_debug(0);
	inet_pton(AF_INET, "192.0.2.9", &s4.sin_addr);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct milter_conn mc;
		char *got;

		memset(&mc, 0, sizeof(mc));
		milter_conn_connect(&mc, (struct sockaddr *)&s4);
		milter_conn_facts(&mc, lines[i].login, &none);
		snprintf(mc.qid, sizeof(mc.qid), "%s", lines[i].qid);
		got = capture_line(&mc, lines[i].prio, "refund", "reason=close");
		if (strcmp(got, lines[i].want) != 0)
			tcase_bad(lines[i].name, "got \"%s\", want \"%s\"", got, lines[i].want);
		free(got);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milter_conn_facts),
		cmocka_unit_test(test_milter_conn_go_on),
		cmocka_unit_test(test_milter_conn_decision_format),
		cmocka_unit_test(test_milter_conn_decision),
	};

	memset(long_fields, 'x', sizeof(long_fields) - 1);
	memcpy(long_fields, "a=", 2);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
