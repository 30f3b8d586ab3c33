/*++
 * NAME
 *	cidr_test 1
 * SUMMARY
 *	unit tests of IPv4/IPv6 networks (common/cidr.c)
 * DESCRIPTION
 *	Table-driven: cidr_parse() on good and bad text, then matching of
 *	client addresses (text and struct sockaddr) against lists, including
 *	IPv4-mapped IPv6 clients, /0, /128 and prefixes that end inside a
 *	byte. A failing row prints "name: got X, want Y" and the others still
 *	run.
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

#include "cidr.h"


/* test_parse - good networks, in the canonical form inet_ntop gives */
static void
test_parse(void **state)
{
	static const struct {
		const char *name, *in;
		int family;
		const char *addr;	/* inet_ntop of the network */
		unsigned prefix;
	} cases[] = {
		{"v4 /24", "192.0.2.0/24", AF_INET, "192.0.2.0", 24},
		{"v4 bare", "192.0.2.1", AF_INET, "192.0.2.1", 32},
		{"v4 /32", "192.0.2.1/32", AF_INET, "192.0.2.1", 32},
		{"v4 /0", "0.0.0.0/0", AF_INET, "0.0.0.0", 0},
		{"v4 /8", "10.0.0.0/8", AF_INET, "10.0.0.0", 8},
		{"v4 /7, last bit clear", "10.0.0.0/7", AF_INET, "10.0.0.0", 7},
		{"v4 all ones", "255.255.255.255/32", AF_INET, "255.255.255.255", 32},
		{"v4 leading zero prefix", "10.0.0.0/08", AF_INET, "10.0.0.0", 8},
		{"v6 /32", "2001:db8::/32", AF_INET6, "2001:db8::", 32},
		{"v6 bare", "::1", AF_INET6, "::1", 128},
		{"v6 /128", "2001:db8::1/128", AF_INET6, "2001:db8::1", 128},
		{"v6 /0", "::/0", AF_INET6, "::", 0},
		{"v6 /65", "2001:db8:0:0:8000::/65", AF_INET6, "2001:db8:0:0:8000::", 65},
		{"v6 long form", "2001:0db8:0000:0000:0000:0000:0000:0001/128",
		 AF_INET6, "2001:db8::1", 128},
		{"v6 upper case", "2001:DB8::/32", AF_INET6, "2001:db8::", 32},
		{"v4-mapped network stays v6", "::ffff:192.0.2.0/120", AF_INET6,
		 "::ffff:192.0.2.0", 120},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c;
		const char *why = NULL;
		char got[INET6_ADDRSTRLEN];

		if (cidr_parse(cases[i].in, &c, &why) != 0) {
			tcase_bad(cases[i].name, "\"%s\": got error \"%s\", want %s/%u",
			    cases[i].in, why, cases[i].addr, cases[i].prefix);
			continue;
		}
		if (c.family != cases[i].family)
			tcase_bad(cases[i].name, "got family %d, want %d", c.family,
			    cases[i].family);
		if (c.prefix != cases[i].prefix)
			tcase_bad(cases[i].name, "got prefix %u, want %u", c.prefix,
			    cases[i].prefix);
		inet_ntop(c.family, c.addr, got, sizeof(got));
		if (strcmp(got, cases[i].addr) != 0)
			tcase_bad(cases[i].name, "got %s, want %s", got, cases[i].addr);
	}
	tcase_done();
}

/* test_parse_errors - each bad network with the reason */
static void
test_parse_errors(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} cases[] = {
		{"v4 host bits", "192.0.2.1/24", "host bits"},
		{"v4 host bits /7", "11.0.0.0/7", "host bits"},
		{"v4 host bits /0", "0.0.0.1/0", "host bits"},
		{"v4 host bit last", "10.0.0.1/31", "host bits"},
		{"v6 host bits", "2001:db8::1/64", "host bits"},
		{"v6 host bits /127", "::1/127", "host bits"},
		{"v6 host bits /65", "2001:db8::4000:0:0:0/65", "host bits"},
		{"v4 prefix 33", "10.0.0.0/33", "bad prefix"},
		{"v6 prefix 129", "::/129", "bad prefix"},
		{"empty prefix", "10.0.0.0/", "bad prefix"},
		{"junk after prefix", "10.0.0.0/8x", "bad prefix"},
		{"negative prefix", "10.0.0.0/-1", "bad prefix"},
		{"minus zero", "0.0.0.0/-0", "bad prefix"},
		{"plus sign", "10.0.0.0/+8", "bad prefix"},
		{"space in prefix", "10.0.0.0/ 8", "bad prefix"},
		{"two slashes", "::1/128/1", "bad prefix"},
		{"huge prefix", "10.0.0.0/99999999999999999999", "bad prefix"},
		{"empty", "", "not an IPv4 or IPv6"},
		{"only a prefix", "/8", "not an IPv4 or IPv6"},
		{"name", "localhost", "not an IPv4 or IPv6"},
		{"short v4", "10.1", "not an IPv4 or IPv6"},
		{"five parts", "1.2.3.4.5", "not an IPv4 or IPv6"},
		{"v4 octet 256", "256.0.0.0", "not an IPv4 or IPv6"},
		{"space before slash", "10.0.0.0 /8", "not an IPv4 or IPv6"},
		{"v6 zone", "fe80::1%eth0", "not an IPv4 or IPv6"},
		{"v6 brackets", "[::1]", "not an IPv4 or IPv6"},
		{"too long", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/1",
		 "too long"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr c;
		const char *why = NULL;

		if (cidr_parse(cases[i].in, &c, &why) == 0)
			tcase_bad(cases[i].name, "\"%s\": got success, want \"%s\"",
			    cases[i].in, cases[i].want);
		else if (why == NULL || strstr(why, cases[i].want) == NULL)
			tcase_bad(cases[i].name, "\"%s\": got \"%s\", want \"%s\"",
			    cases[i].in, why ? why : "(null)", cases[i].want);
	}
	tcase_done();
}

/* make_list - parse space-separated networks; the test fails on a bad one */
static void
make_list(const char *text, struct cidr_list *list)
{
	char *copy = strdup(text), *save = NULL;

	assert_non_null(copy);
	list->items = calloc(16, sizeof(struct cidr));
	list->count = 0;
	assert_non_null(list->items);
	for (char *w = strtok_r(copy, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		const char *why = NULL;

		assert_true(list->count < 16);
		if (cidr_parse(w, &list->items[list->count], &why) != 0)
			fail_msg("network \"%s\": %s", w, why);
		list->count++;
	}
	free(copy);
}

/* make_sa - a client address as the socket address libmilter hands over */
static const struct sockaddr *
make_sa(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		return (struct sockaddr *)ss;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
		return (struct sockaddr *)ss;
	}
	return NULL;
}

/* test_match - client addresses against lists, as text and as sockaddr */
static void
test_match(void **state)
{
	static const struct {
		const char *name;
		const char *nets;	/* space separated */
		const char *client;
		bool want;
	} cases[] = {
		{"v4 inside", "127.0.0.0/8", "127.0.0.1", true},
		{"v4 top of net", "127.0.0.0/8", "127.255.255.255", true},
		{"v4 outside", "127.0.0.0/8", "128.0.0.1", false},
		{"v4-mapped client", "127.0.0.0/8", "::ffff:127.0.0.1", true},
		{"v4-mapped client outside", "127.0.0.0/8", "::ffff:128.0.0.1", false},
		{"v4-compatible is not mapped", "127.0.0.0/8", "::127.0.0.1", false},
		{"v6 client, v4 net", "127.0.0.0/8", "::1", false},
		{"v4 client, v6 net", "::1", "127.0.0.1", false},
		{"v4 /0 any v4", "0.0.0.0/0", "203.0.113.9", true},
		{"v4 /0 mapped", "0.0.0.0/0", "::ffff:203.0.113.9", true},
		{"v4 /0 not v6", "0.0.0.0/0", "2001:db8::1", false},
		{"v6 /0 any v6", "::/0", "2001:db8::1", true},
		{"v6 /0 not v4", "::/0", "192.0.2.1", false},
		{"v4 /32 same", "192.0.2.1", "192.0.2.1", true},
		{"v4 /32 next", "192.0.2.1", "192.0.2.2", false},
		{"v4 /25 low half", "192.0.2.0/25", "192.0.2.127", true},
		{"v4 /25 high half", "192.0.2.0/25", "192.0.2.128", false},
		{"v4 /23 second", "192.0.2.0/23", "192.0.3.5", true},
		{"v4 /23 beyond", "192.0.2.0/23", "192.0.4.1", false},
		{"v4 /31", "192.0.2.4/31", "192.0.2.5", true},
		{"v4 /31 next", "192.0.2.4/31", "192.0.2.6", false},
		{"v4 /9 in", "10.128.0.0/9", "10.200.0.1", true},
		{"v4 /9 out", "10.128.0.0/9", "10.127.0.1", false},
		{"v6 /128 same", "2001:db8::1/128", "2001:db8::1", true},
		{"v6 /128 next", "2001:db8::1/128", "2001:db8::2", false},
		{"v6 /32 in", "2001:db8::/32", "2001:db8:ffff::1", true},
		{"v6 /32 out", "2001:db8::/32", "2001:db9::1", false},
		{"v6 /65 in", "2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", true},
		{"v6 /65 out", "2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", false},
		{"loopback v6", "::1", "::1", true},
		{"list, second item", "10.0.0.0/8 192.0.2.0/24 2001:db8::/32",
		 "192.0.2.9", true},
		{"list, last item", "10.0.0.0/8 192.0.2.0/24 2001:db8::/32",
		 "2001:db8::25", true},
		{"list, none", "10.0.0.0/8 192.0.2.0/24 2001:db8::/32",
		 "198.51.100.1", false},
		{"empty list", "", "127.0.0.1", false},
		/* text that is not an address never matches */
		{"name", "0.0.0.0/0 ::/0", "localhost", false},
		{"empty text", "0.0.0.0/0 ::/0", "", false},
		{"trailing space", "0.0.0.0/0 ::/0", "127.0.0.1 ", false},
		{"with prefix", "0.0.0.0/0 ::/0", "127.0.0.1/32", false},
		{"bracketed", "0.0.0.0/0 ::/0", "[::1]", false},
		{"zone", "0.0.0.0/0 ::/0", "fe80::1%lo", false},
		{"short v4", "0.0.0.0/0 ::/0", "127.1", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cidr_list list;
		struct sockaddr_storage ss;
		const struct sockaddr *sa;
		bool got;

		make_list(cases[i].nets, &list);
		got = cidr_list_match_text(&list, cases[i].client);
		if (got != cases[i].want)
			tcase_bad(cases[i].name, "text \"%s\" in \"%s\": got %d, want %d",
			    cases[i].client, cases[i].nets, got, cases[i].want);
		if ((sa = make_sa(cases[i].client, &ss)) != NULL) {
			got = cidr_list_match_sa(&list, sa);
			if (got != cases[i].want)
				tcase_bad(cases[i].name, "sockaddr %s in \"%s\": got %d, "
				    "want %d", cases[i].client, cases[i].nets, got,
				    cases[i].want);
		}
		cidr_list_free(&list);
		if (list.items != NULL || list.count != 0)
			tcase_bad(cases[i].name, "got a list after cidr_list_free, want "
			    "an empty one");
	}
	tcase_done();
}

/* test_match_odd - NULL address, other socket families, raw bytes */
static void
test_match_odd(void **state)
{
	struct cidr_list list, empty = {NULL, 0};
	struct sockaddr_un sun;
	struct cidr c;
	const char *why;
	unsigned char v4[4] = {192, 0, 2, 1};
	unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};

	make_list("0.0.0.0/0 ::/0", &list);
	assert_false(cidr_list_match_text(&list, NULL));
	assert_false(cidr_list_match_sa(&list, NULL));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_false(cidr_list_match_sa(&list, (struct sockaddr *)&sun));
	assert_false(cidr_list_match_text(&empty, "127.0.0.1"));
	cidr_list_free(&list);
	cidr_list_free(&empty);		/* an empty list frees fine */

	assert_int_equal(cidr_parse("192.0.2.0/24", &c, &why), 0);
	assert_true(cidr_match_bytes(&c, AF_INET, v4));
	assert_false(cidr_match_bytes(&c, AF_INET6, v6));
	assert_false(cidr_match_bytes(&c, AF_UNIX, v4));
	assert_int_equal(cidr_parse("2001:db8::/32", &c, &why), 0);
	assert_true(cidr_match_bytes(&c, AF_INET6, v6));
	assert_false(cidr_match_bytes(&c, AF_INET, v4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_odd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
