/*++
 * NAME
 *	milter_client_test 1
 * SUMMARY
 *	unit tests of the connect callback's client address (common/milter_client.c)
 * DESCRIPTION
 *	Table-driven: IPv4, IPv6, IPv4-mapped IPv6 and scoped addresses are
 *	copied with their text; NULL, AF_UNIX and AF_UNSPEC give "local"
 *	without an address. Each sockaddr sits at the end of a buffer of
 *	exactly its own size, so a copy that reads past it shows under
 *	SANITIZE=1. A reused struct forgets the previous client. A failing
 *	row prints "name: got X, want Y" and the others still run.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "milter_client.h"

/* client_sa - a heap sockaddr of exactly its family's size (NULL for none) */
static struct sockaddr *
client_sa(int family, const char *text, uint16_t port)
{
	if (family == AF_INET) {
		struct sockaddr_in *s = calloc(1, sizeof(*s));

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, text, &s->sin_addr), 1);
		return (struct sockaddr *)s;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *s = calloc(1, sizeof(*s));

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		s->sin6_scope_id = 3;
		assert_int_equal(inet_pton(AF_INET6, text, &s->sin6_addr), 1);
		return (struct sockaddr *)s;
	}
	if (family == AF_UNIX) {
		struct sockaddr_un *s = calloc(1, sizeof(*s));

		s->sun_family = AF_UNIX;
		snprintf(s->sun_path, sizeof(s->sun_path), "%s", text);
		return (struct sockaddr *)s;
	}
	if (family == AF_UNSPEC)
		return calloc(1, sizeof(struct sockaddr));
	return NULL;
}

/* test_set - each kind of client address */
static void
test_set(void **state)
{
	static const struct {
		const char *name;
		int family;		/* -1: NULL sockaddr */
		const char *in;
		bool have;
		int want_family;
		const char *want;
	} cases[] = {
		{"v4", AF_INET, "192.0.2.1", true, AF_INET, "192.0.2.1"},
		{"v4 loopback", AF_INET, "127.0.0.1", true, AF_INET, "127.0.0.1"},
		{"v4 any", AF_INET, "0.0.0.0", true, AF_INET, "0.0.0.0"},
		{"v4 broadcast", AF_INET, "255.255.255.255", true, AF_INET,
		 "255.255.255.255"},
		{"v6", AF_INET6, "2001:db8::1", true, AF_INET6, "2001:db8::1"},
		{"v6 loopback", AF_INET6, "::1", true, AF_INET6, "::1"},
		{"v6 long form", AF_INET6, "2001:0db8:0000:0000:0000:0000:0000:0001",
		 true, AF_INET6, "2001:db8::1"},
		{"v6 full width", AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		 true, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"v4-mapped stays v6", AF_INET6, "::ffff:192.0.2.1", true, AF_INET6,
		 "::ffff:192.0.2.1"},
		{"NULL (unknown client)", -1, NULL, false, AF_UNSPEC, "local"},
		{"unix socket", AF_UNIX, "/run/x", false, AF_UNSPEC, "local"},
		{"unspec", AF_UNSPEC, NULL, false, AF_UNSPEC, "local"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr *sa = client_sa(cases[i].family, cases[i].in, 25);
		struct milter_client cl;
		const unsigned char *b;
		unsigned char want_bytes[16];

		/* a previous client must not leak into this one */
		memset(&cl, 0x5a, sizeof(cl));
		milter_client_set(&cl, sa);
		if (cl.have_sa != cases[i].have)
			tcase_bad(cases[i].name, "have_sa: got %d, want %d",
				  cl.have_sa, cases[i].have);
		if (cl.family != cases[i].want_family)
			tcase_bad(cases[i].name, "family: got %d, want %d",
				  cl.family, cases[i].want_family);
		if (strcmp(cl.addr, cases[i].want) != 0)
			tcase_bad(cases[i].name, "addr: got \"%s\", want \"%s\"",
				  cl.addr, cases[i].want);
		b = milter_client_bytes(&cl);
		if (!cases[i].have) {
			if (b != NULL)
				tcase_bad(cases[i].name, "bytes: got an address, "
					  "want NULL");
		} else if (b == NULL) {
			tcase_bad(cases[i].name, "bytes: got NULL, want %s",
				  cases[i].in);
		} else {
			inet_pton(cases[i].want_family, cases[i].in, want_bytes);
			if (memcmp(b, want_bytes, cases[i].want_family == AF_INET
				   ? 4 : 16) != 0)
				tcase_bad(cases[i].name, "bytes differ from %s",
					  cases[i].in);
		}
		if (cases[i].have && ((struct sockaddr *)&cl.sa)->sa_family
		    != cases[i].family)
			tcase_bad(cases[i].name, "sa_family: got %d, want %d",
				  ((struct sockaddr *)&cl.sa)->sa_family,
				  cases[i].family);
		if (cases[i].family == AF_INET6 && cases[i].have
		    && (((struct sockaddr_in6 *)&cl.sa)->sin6_port != htons(25)
			|| ((struct sockaddr_in6 *)&cl.sa)->sin6_scope_id != 3))
			tcase_bad(cases[i].name, "port/scope not copied");
		if (cases[i].family == AF_INET && cases[i].have
		    && ((struct sockaddr_in *)&cl.sa)->sin_port != htons(25))
			tcase_bad(cases[i].name, "port: got %u, want 25",
				  ntohs(((struct sockaddr_in *)&cl.sa)->sin_port));
		free(sa);
	}
	tcase_done();
}

/* test_reuse - a second connect on the same struct replaces the first */
static void
test_reuse(void **state)
{
	struct sockaddr *v6 = client_sa(AF_INET6, "2001:db8::25", 25);
	struct sockaddr *v4 = client_sa(AF_INET, "192.0.2.25", 25);
	struct milter_client cl;

	milter_client_set(&cl, v6);
	assert_string_equal(cl.addr, "2001:db8::25");
	milter_client_set(&cl, v4);
	assert_string_equal(cl.addr, "192.0.2.25");
	assert_int_equal(cl.family, AF_INET);
	/* the v6 bytes beyond a sockaddr_in are gone, not left behind */
	for (size_t i = sizeof(struct sockaddr_in); i < sizeof(cl.sa); i++)
		assert_int_equal(((unsigned char *)&cl.sa)[i], 0);
	milter_client_set(&cl, NULL);
	assert_false(cl.have_sa);
	assert_string_equal(cl.addr, "local");
	assert_null(milter_client_bytes(&cl));
	free(v6);
	free(v4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
