/*++
 * NAME
 *	milter_conn_test 1
 * SUMMARY
 *	per-message facts every milter derives the same way
 * DESCRIPTION
 *	milter_conn_facts(): authenticated from {auth_authen}, the login's
 *	escaped form for log lines, internal from the client address and
 *	internal_hosts; milter_conn_end_message() forgets them.
 *--*/
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cidr.h"
#include "milter_conn.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_milter_conn_facts),
		cmocka_unit_test(test_milter_conn_go_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
