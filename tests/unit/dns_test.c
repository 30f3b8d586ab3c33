/*++
 * NAME
 *	dns_test 1
 * SUMMARY
 *	unit tests for the DNS client (common/dns.c) against a real knotd
 * DESCRIPTION
 *	The group setup starts one knotd (tests/unit/knot_fixture.c) on
 *	127.0.0.1 (and ::1 when the host has it) serving example.test, plus
 *	broken.test without a zone file (SERVFAIL); names outside both get
 *	REFUSED. Tables:
 *	- servers: resolver strings, accepted (with their normalized form)
 *	  or rejected (with a piece of the reason);
 *	- txt: one query each against knotd, the wanted status, rcode,
 *	  records (as a set) and transport.
 *	Then single tests for what a table can't say: the timeout bounds
 *	(a silent UDP server, a closed port, a server whose TCP never
 *	answers; elapsed time measured), fall-over to a second server,
 *	forged and late datagrams, a malformed answer, records of another
 *	owner, EDNS0 FORMERR fallback (hand-made fake servers in threads),
 *	IPv6, a zone reload, 8 threads x 50 queries, knot_fixture_txt().
 *	Nothing here reads the system resolver: every query goes to a
 *	server this program started on loopback. dns_resolver_new(NULL) is
 *	only built and described, never queried.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns.h"
#include "knot_fixture.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SLACK_MS	150	/* scheduling noise allowed over a bound */

/*
 * Fixture data: generated records, kept to compare answers with.
 */
enum {
	GEN_DKIM4096,			/* v=DKIM1; k=rsa; p=<736 chars> */
	GEN_HUGE0, GEN_HUGE1, GEN_HUGE2, GEN_HUGE3,	/* 4 x 1000 bytes */
	GEN_MAX,			/* DNS_MAX_TXT_LEN bytes */
	GEN_TOOLONG,			/* one more */
	GEN_COUNT
};

static char *gen[GEN_COUNT];
static struct knot_fixture kf;
static bool knot_ok;			/* knotd runs */
static char knot_err[256];

/* now_ms - monotonic milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* gen_fill - len pseudo-random characters of the base64 alphabet */
static char *
gen_fill(const char *prefix, size_t len, unsigned seed)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	*s = xmalloc(len + 1);
	size_t	plen = strlen(prefix);

	memcpy(s, prefix, plen < len ? plen : len);
	for (size_t i = plen; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		s[i] = b64[(seed >> 16) & 63];
	}
	s[len] = '\0';
	return s;
}

/* zone_add_txt - append "owner TXT <quoted data>" */
static void
zone_add_txt(FILE *fp, const char *owner, const char *data, size_t len)
{
	char	*q = knot_fixture_txt(data, len);

	fprintf(fp, "%s TXT %s\n", owner, q);
	free(q);
}

/* zone_text - example.test, serial and the value of "t" given */
static char *
zone_text(unsigned serial, const char *t_value)
{
	char	*text = NULL;
	size_t	len = 0;
	FILE	*fp = open_memstream(&text, &len);

	fprintf(fp, "$ORIGIN example.test.\n$TTL 300\n"
		"@ SOA ns hostmaster %u 3600 600 86400 300\n"
		"@ NS ns\nns A 127.0.0.1\n", serial);
	fprintf(fp, "t TXT \"%s\"\n", t_value);
	fprintf(fp, "multi TXT \"abc\" \"def\" \"\" \"ghi\"\n");
	fprintf(fp, "three TXT \"one\"\nthree TXT \"two\"\nthree TXT \"three\"\n");
	fprintf(fp, "nul TXT \"a\\000b\"\n");
	fprintf(fp, "empty TXT \"\"\n");
	fprintf(fp, "quote TXT \"say \\\"hi\\\" \\\\ bye\"\n");
	zone_add_txt(fp, "sel._domainkey", gen[GEN_DKIM4096], strlen(gen[GEN_DKIM4096]));
	for (int i = GEN_HUGE0; i <= GEN_HUGE3; i++)
		zone_add_txt(fp, "huge", gen[i], strlen(gen[i]));
	zone_add_txt(fp, "max", gen[GEN_MAX], strlen(gen[GEN_MAX]));
	zone_add_txt(fp, "toolong", gen[GEN_TOOLONG], strlen(gen[GEN_TOOLONG]));
	for (int i = 0; i < DNS_MAX_RECORDS; i++)
		fprintf(fp, "many32 TXT \"r%02d\"\n", i);
	for (int i = 0; i <= DNS_MAX_RECORDS; i++)
		fprintf(fp, "many33 TXT \"r%02d\"\n", i);
	fprintf(fp, "alias CNAME t\nalias2 CNAME alias\nALIAS3 CNAME Alias2\n");
	fprintf(fp, "loop1 CNAME loop2\nloop2 CNAME loop1\n");
	fprintf(fp, "dangling CNAME nowhere\n");
	fprintf(fp, "out CNAME target.other.test.\n");
	fprintf(fp, "aonly A 192.0.2.1\n");
	fprintf(fp, "leaf.ent TXT \"leaf\"\n");
	/* labels with any octets (RFC 7208 7.4 macro expansions make them) */
	fprintf(fp, "macro\\037percent\\032\\032space\\03720url-space TXT \"mania\"\n");
	fprintf(fp, "back\\092slash TXT \"backslash\"\n");
	fprintf(fp, "back\\032slash TXT \"escape decoded\"\n");
	fprintf(fp, "mxnames MX 10 a\\.b.example.test.\nmxnames MX 20 a\\032b.example.test.\n");
	fclose(fp);
	return text;
}

/* group_setup - generate the records and start knotd */
static int
group_setup(void **state)
{
	struct knot_fixture_zone zones[2];
	char	*text;

	(void)state;
	gen[GEN_DKIM4096] = gen_fill("v=DKIM1; k=rsa; p=MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA",
				     18 + 736, 1);
	for (int i = GEN_HUGE0; i <= GEN_HUGE3; i++) {
		char	prefix[16];

		snprintf(prefix, sizeof(prefix), "huge%d-", i - GEN_HUGE0);
		gen[i] = gen_fill(prefix, 1000, (unsigned)i);
	}
	gen[GEN_MAX] = gen_fill("max-", DNS_MAX_TXT_LEN, 7);
	gen[GEN_TOOLONG] = gen_fill("toolong-", DNS_MAX_TXT_LEN + 1, 8);
	if (!knot_fixture_available()) {
		snprintf(knot_err, sizeof(knot_err), "knotd/knotc not installed");
		return 0;
	}
	text = zone_text(1, "hello world");
	zones[0].name = "example.test";
	zones[0].text = text;
	zones[1].name = "broken.test";
	zones[1].text = NULL;
	knot_ok = knot_fixture_start(&kf, zones, 2,
				     knot_fixture_have_ipv6() ? KNOT_FIXTURE_IPV6 : 0,
				     knot_err, sizeof(knot_err)) == 0;
	free(text);
	return 0;
}

/* group_teardown - stop knotd, free the records */
static int
group_teardown(void **state)
{
	(void)state;
	if (knot_ok)
		knot_fixture_stop(&kf);
	for (int i = 0; i < GEN_COUNT; i++)
		gen[i] = xfree(gen[i]);
	return 0;
}

/* need_knot - skip the test when knotd could not start */
#define need_knot() do { \
	if (!knot_ok) { \
		print_message("knotd unavailable: %s\n", knot_err); \
		skip(); \
	} \
} while (0)

/* resolver - build one or fail the test */
static struct dns_resolver *
resolver(const char *servers, long timeout_ms)
{
	const char *why = NULL;
	struct dns_resolver *r = dns_resolver_new(servers, timeout_ms, &why);

	if (r == NULL)
		fail_msg("dns_resolver_new(\"%s\"): %s", servers, why);
	return r;
}

/*
 * Resolver strings.
 */
struct server_case {
	const char	*name;
	const char	*servers;
	long		 timeout_ms;
	const char	*want;		/* normalized; NULL: must fail */
	const char	*want_why;	/* piece of the error */
};

static const struct server_case server_cases[] = {
	{"v4", "127.0.0.1", 1000, "127.0.0.1@53", NULL},
	{"v4-port", "127.0.0.1@5353", 1000, "127.0.0.1@5353", NULL},
	{"v6-port", "::1@5353", 1000, "::1@5353", NULL},
	{"v6-long", "2001:db8::53", 1000, "2001:db8::53@53", NULL},
	{"three-mixed", "127.0.0.1@5353, ::1@5353,192.0.2.1", 1000,
	 "127.0.0.1@5353, ::1@5353, 192.0.2.1@53", NULL},
	{"blank-separated", " 192.0.2.1\t192.0.2.2 ", 1000,
	 "192.0.2.1@53, 192.0.2.2@53", NULL},
	{"port-max", "192.0.2.1@65535", 1000, "192.0.2.1@65535", NULL},
	{"timeout-min", "192.0.2.1", 1, "192.0.2.1@53", NULL},
	{"timeout-max", "192.0.2.1", DNS_MAX_TIMEOUT_MS, "192.0.2.1@53", NULL},
	{"four-servers", "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4", 1000,
	 NULL, "more than 3 servers"},
	{"hostname", "localhost", 1000, NULL, "not a numeric"},
	{"colon-port", "127.0.0.1:5353", 1000, NULL, "ADDR@PORT"},
	{"brackets", "[::1]@53", 1000, NULL, "without brackets"},
	{"port-empty", "127.0.0.1@", 1000, NULL, "bad port"},
	{"port-zero", "127.0.0.1@0", 1000, NULL, "bad port"},
	{"port-big", "127.0.0.1@65536", 1000, NULL, "bad port"},
	{"port-letters", "127.0.0.1@53x", 1000, NULL, "bad port"},
	{"port-sign", "127.0.0.1@+53", 1000, NULL, "bad port"},
	{"port-long", "127.0.0.1@000053", 1000, NULL, "bad port"},
	{"at-only", "@53", 1000, NULL, "missing address"},
	{"double-comma", "192.0.2.1,,192.0.2.2", 1000, NULL, "empty server"},
	{"leading-comma", ",192.0.2.1", 1000, NULL, "empty server"},
	{"trailing-comma", "192.0.2.1,", 1000, NULL, "empty server"},
	{"bad-v4", "192.0.2.256", 1000, NULL, "not a numeric"},
	{"timeout-zero", "192.0.2.1", 0, NULL, "timeout must be"},
	{"timeout-negative", "192.0.2.1", -5, NULL, "timeout must be"},
	{"timeout-too-big", "192.0.2.1", DNS_MAX_TIMEOUT_MS + 1, NULL, "timeout must be"},
};

/* test_servers - one server_cases row */
static void
test_servers(void **state)
{
	const struct server_case *c = *state;
	const char *why = NULL;
	struct dns_resolver *r = dns_resolver_new(c->servers, c->timeout_ms, &why);

	if (c->want == NULL) {
		if (r != NULL)
			fail_msg("%s: got accepted as \"%s\", want error \"%s\"",
				 c->name, dns_resolver_servers(r), c->want_why);
		if (why == NULL || strstr(why, c->want_why) == NULL)
			fail_msg("%s: got error \"%s\", want \"%s\"", c->name,
				 why != NULL ? why : "(null)", c->want_why);
		return;
	}
	if (r == NULL)
		fail_msg("%s: got error \"%s\", want \"%s\"", c->name, why, c->want);
	if (strcmp(dns_resolver_servers(r), c->want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", c->name,
			 dns_resolver_servers(r), c->want);
	if (dns_resolver_max_wait_ms(r) != c->timeout_ms * DNS_DEFAULT_ATTEMPTS)
		fail_msg("%s: got max wait %ld, want %ld", c->name,
			 dns_resolver_max_wait_ms(r), c->timeout_ms * DNS_DEFAULT_ATTEMPTS);
	dns_resolver_free(r);
}

/* test_attempts - dns_resolver_set_attempts bounds and effect */
static void
test_attempts(void **state)
{
	struct dns_resolver *r = resolver("192.0.2.1", 300);
	const char *why = NULL;

	(void)state;
	assert_int_equal(dns_resolver_set_attempts(r, 0, &why), -1);
	assert_non_null(strstr(why, "attempts must be"));
	assert_int_equal(dns_resolver_set_attempts(r, DNS_MAX_ATTEMPTS + 1, &why), -1);
	assert_int_equal(dns_resolver_set_attempts(r, 3, &why), 0);
	assert_int_equal(dns_resolver_max_wait_ms(r), 900);
	assert_null(dns_resolver_free(r));
	assert_null(dns_resolver_free(NULL));
}

/* test_system_resolver - NULL, "" and blanks read resolv.conf; no query */
static void
test_system_resolver(void **state)
{
	const char *inputs[] = {NULL, "", " \t "};

	(void)state;
	for (size_t i = 0; i < NELEM(inputs); i++) {
		const char *why = NULL;
		struct dns_resolver *r = dns_resolver_new(inputs[i], 1000, &why);

		if (r == NULL)
			fail_msg("input %zu: got error \"%s\", want the system servers",
				 i, why);
		if (strchr(dns_resolver_servers(r), '@') == NULL)
			fail_msg("input %zu: got servers \"%s\", want ADDR@PORT",
				 i, dns_resolver_servers(r));
		dns_resolver_free(r);
	}
}

/*
 * TXT queries against knotd.
 */
#define ANY	-1

struct txt_case {
	const char	*name;
	const char	*qname;
	enum dns_status	 want;
	int		 want_rcode;
	int		 want_count;		/* ANY: don't check */
	const char	*want_txt[4];		/* as a set; NULL ends */
	int		 want_gen[4];		/* gen[] indexes; 0 ends (GEN_DKIM4096 is 1-based here) */
	int		 want_tcp;		/* 0, 1, ANY */
	const char	*want_why;		/* piece of out->why, or NULL */
};

#define G(i)	((i) + 1)

static const struct txt_case txt_cases[] = {
	{"short", "t.example.test", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"trailing-dot", "t.example.test.", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"upper-case", "T.EXAMPLE.Test", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"strings-concatenated", "multi.example.test", DNS_OK, 0, 1, {"abcdefghi"}, {0}, 0, NULL},
	{"three-records", "three.example.test", DNS_OK, 0, 3, {"one", "two", "three"}, {0}, 0, NULL},
	{"quotes-and-backslash", "quote.example.test", DNS_OK, 0, 1,
	 {"say \"hi\" \\ bye"}, {0}, 0, NULL},
	{"empty-string", "empty.example.test", DNS_OK, 0, 1, {""}, {0}, 0, NULL},
	{"dkim-4096-edns0", "sel._domainkey.example.test", DNS_OK, 0, 1, {NULL},
	 {G(GEN_DKIM4096)}, 0, NULL},
	{"over-1232-tcp", "huge.example.test", DNS_OK, 0, 4, {NULL},
	 {G(GEN_HUGE0), G(GEN_HUGE1), G(GEN_HUGE2), G(GEN_HUGE3)}, 1, NULL},
	{"max-length", "max.example.test", DNS_OK, 0, 1, {NULL}, {G(GEN_MAX)}, 1, NULL},
	{"too-long", "toolong.example.test", DNS_PERMFAIL, 0, 0, {NULL}, {0}, 1,
	 "longer than"},
	{"max-records", "many32.example.test", DNS_OK, 0, DNS_MAX_RECORDS, {NULL}, {0}, ANY, NULL},
	{"too-many-records", "many33.example.test", DNS_PERMFAIL, 0, 0, {NULL}, {0}, ANY,
	 "more than 32 TXT records"},
	{"cname", "alias.example.test", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"cname-chain", "alias2.example.test", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"cname-chain-case", "alias3.example.test", DNS_OK, 0, 1, {"hello world"}, {0}, 0, NULL},
	{"cname-loop", "loop1.example.test", DNS_PERMFAIL, ANY, 0, {NULL}, {0}, 0, "CNAME loop"},
	{"cname-dangling", "dangling.example.test", DNS_NXDOMAIN, 3, 0, {NULL}, {0}, 0, NULL},
	{"cname-out-of-zone", "out.example.test", DNS_NODATA, 0, 0, {NULL}, {0}, 0, NULL},
	{"nxdomain", "nope.example.test", DNS_NXDOMAIN, 3, 0, {NULL}, {0}, 0, "NXDOMAIN"},
	{"nodata", "aonly.example.test", DNS_NODATA, 0, 0, {NULL}, {0}, 0, "no TXT"},
	{"nodata-empty-non-terminal", "ent.example.test", DNS_NODATA, 0, 0, {NULL}, {0}, 0, NULL},
	{"nodata-apex", "example.test", DNS_NODATA, 0, 0, {NULL}, {0}, 0, NULL},
	{"servfail", "x.broken.test", DNS_TEMPFAIL, 2, 0, {NULL}, {0}, 0, "SERVFAIL"},
	{"refused", "x.other.test", DNS_PERMFAIL, 5, 0, {NULL}, {0}, 0, "REFUSED"},
	{"name-empty", "", DNS_PERMFAIL, -1, 0, {NULL}, {0}, 0, "empty domain name"},
	{"name-label-64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.test",
	 DNS_PERMFAIL, -1, 0, {NULL}, {0}, 0, "invalid domain name"},
	{"name-empty-label", "a..example.test", DNS_PERMFAIL, -1, 0, {NULL}, {0}, 0,
	 "invalid domain name"},
	{"name-two-trailing-dots", "t.example.test..", DNS_PERMFAIL, -1, 0, {NULL}, {0}, 0,
	 "invalid domain name"},
	/* issue 15: any octet in a label, taken literally, no escapes */
	{"name-percent-space", "macro%percent  space%20url-space.example.test", DNS_OK, 0, 1,
	 {"mania"}, {0}, 0, NULL},
	{"name-backslash-literal", "back\\slash.example.test", DNS_OK, 0, 1,
	 {"backslash"}, {0}, 0, NULL},
	{"name-escape-not-decoded", "back\\032slash.example.test", DNS_NXDOMAIN, 3, 0,
	 {NULL}, {0}, 0, NULL},
};

/* txt_has - does the result hold these bytes (any position) */
static bool
txt_has(const struct dns_txt_result *res, const char *want, size_t len,
	bool *used)
{
	for (size_t i = 0; i < res->count; i++) {
		if (!used[i] && res->txt[i].len == len
		    && memcmp(res->txt[i].data, want, len) == 0
		    && res->txt[i].data[len] == '\0') {
			used[i] = true;
			return true;
		}
	}
	return false;
}

/* test_txt - one txt_cases row against knotd */
static void
test_txt(void **state)
{
	const struct txt_case *c = *state;
	struct dns_resolver *r;
	struct dns_txt_result res;
	bool	used[DNS_MAX_RECORDS] = {false};
	int	got;

	need_knot();
	r = resolver(kf.servers, 2000);
	got = dns_query_txt(r, c->qname, &res);
	if (got != (int)res.status)
		fail_msg("%s: returned %d, out->status %d", c->name, got, res.status);
	if (got != (int)c->want)
		fail_msg("%s: got %s (%s, rcode %d), want %s", c->name,
			 dns_status_str(got), res.why, res.rcode, dns_status_str(c->want));
	if (c->want_rcode != ANY && res.rcode != c->want_rcode)
		fail_msg("%s: got rcode %d, want %d", c->name, res.rcode, c->want_rcode);
	if (c->want_count != ANY && (int)res.count != c->want_count)
		fail_msg("%s: got %zu records, want %d", c->name, res.count, c->want_count);
	for (int i = 0; i < 4 && c->want_txt[i] != NULL; i++)
		if (!txt_has(&res, c->want_txt[i], strlen(c->want_txt[i]), used))
			fail_msg("%s: got no record \"%s\" (first: \"%.40s\")", c->name,
				 c->want_txt[i], res.count ? res.txt[0].data : "");
	for (int i = 0; i < 4 && c->want_gen[i] != 0; i++) {
		const char *w = gen[c->want_gen[i] - 1];

		if (!txt_has(&res, w, strlen(w), used))
			fail_msg("%s: got no record of %zu bytes \"%.20s...\"", c->name,
				 strlen(w), w);
	}
	if (c->want_tcp != ANY && res.via_tcp != (c->want_tcp == 1))
		fail_msg("%s: got via_tcp=%d, want %d", c->name, res.via_tcp, c->want_tcp);
	if (c->want_why != NULL && strstr(res.why, c->want_why) == NULL)
		fail_msg("%s: got why \"%s\", want \"%s\"", c->name, res.why, c->want_why);
	if (res.why == NULL)
		fail_msg("%s: got why NULL", c->name);
	dns_txt_result_clear(&res);
	dns_txt_result_clear(&res);		/* idempotent */
	assert_int_equal(res.count, 0);
	dns_resolver_free(r);
}

/*
 * test_names_literal - MX names come back as the literal text that
 * dns_query_init() reads (a space stays a space, not "\\032"); a name
 * with "." inside a label cannot be such text and is left out
 */
static void
test_names_literal(void **state)
{
	struct dns_resolver *r;
	struct dns_name_result res;

	(void)state;
	need_knot();
	r = resolver(kf.servers, 2000);
	if (dns_query_mx(r, "mxnames.example.test", &res) != DNS_OK)
		fail_msg("got %s (%s), want OK", dns_status_str(res.status), res.why);
	if (res.count != 1 || strcmp(res.name[0].name, "a b.example.test") != 0)
		fail_msg("got %zu names, first \"%s\", want 1: \"a b.example.test\"",
			 res.count, res.count ? res.name[0].name : "");
	dns_name_result_clear(&res);
	dns_resolver_free(r);
}

/* test_nul_inside - TXT data with a NUL byte keeps its length */
static void
test_nul_inside(void **state)
{
	struct dns_resolver *r;
	struct dns_txt_result res;

	(void)state;
	need_knot();
	r = resolver(kf.servers, 2000);
	assert_int_equal(dns_query_txt(r, "nul.example.test", &res), DNS_OK);
	assert_int_equal(res.count, 1);
	if (res.txt[0].len != 3 || memcmp(res.txt[0].data, "a\0b", 4) != 0)
		fail_msg("got %zu bytes, want 3: 'a' NUL 'b' NUL-terminated", res.txt[0].len);
	dns_txt_result_clear(&res);
	dns_resolver_free(r);
}

/*
 * Fake servers for the failure paths: a UDP socket (and a TCP listener
 * on the same port) on 127.0.0.1, answered by a thread per the mode.
 */
enum fake_mode {
	FAKE_SILENT,		/* never reads: every query times out */
	FAKE_TC,		/* UDP says TC; TCP accepts, never answers */
	FAKE_FORGED_FIRST,	/* wrong id, wrong question, no question, then the answer */
	FAKE_MALFORMED,		/* right id, ANCOUNT 1, no record */
	FAKE_OTHER_OWNER,	/* a record of another owner, then ours */
	FAKE_FORMERR_EDNS,	/* FORMERR to EDNS0, answers without */
};

struct fake_server {
	enum fake_mode	 mode;
	int		 udp;
	int		 tcp;
	unsigned	 port;
	char		 servers[32];
	pthread_t	 thread;
	atomic_bool	 stop;
	atomic_int	 queries;
	atomic_int	 edns_queries;
};

/* fake_qlen - bytes of header + question in query q, or 0 */
static size_t
fake_qlen(const unsigned char *q, size_t len)
{
	size_t	i = 12;

	while (i < len && q[i] != 0)
		i += 1 + q[i];
	return i + 5 <= len ? i + 5 : 0;
}

/* fake_put_txt - append one TXT RR (owner = wire name or NULL: 0xC00C) */
static size_t
fake_put_txt(unsigned char *out, size_t n, const unsigned char *owner,
	     size_t ownerlen, const char *text)
{
	size_t	tlen = strlen(text);

	if (owner == NULL) {
		out[n++] = 0xc0;
		out[n++] = 12;
	} else {
		memcpy(out + n, owner, ownerlen);
		n += ownerlen;
	}
	out[n++] = 0; out[n++] = 16;		/* TXT */
	out[n++] = 0; out[n++] = 1;		/* IN */
	out[n++] = 0; out[n++] = 0; out[n++] = 1; out[n++] = 0;	/* TTL */
	out[n++] = 0; out[n++] = (unsigned char)(tlen + 1);
	out[n++] = (unsigned char)tlen;
	memcpy(out + n, text, tlen);
	return n + tlen;
}

/* fake_reply - header + question of q with flags, ancount, rcode */
static size_t
fake_reply(const unsigned char *q, size_t qlen, unsigned char *out,
	   unsigned char flags2, unsigned ancount, unsigned rcode)
{
	memcpy(out, q, qlen);
	out[2] = 0x80 | (q[2] & 0x01) | flags2;	/* QR, RD copied */
	out[3] = (unsigned char)(0x80 | rcode);	/* RA */
	out[6] = 0;
	out[7] = (unsigned char)ancount;
	out[8] = out[9] = out[10] = out[11] = 0;
	return qlen;
}

/* fake_answer - what a fake server sends for one query */
static void
fake_answer(struct fake_server *fs, const unsigned char *q, size_t len,
	    const struct sockaddr *from, socklen_t fromlen)
{
	static const unsigned char evil[] = "\004evil\007example\0";
	unsigned char out[1024];
	size_t	qlen = fake_qlen(q, len), n;
	bool	edns = len >= 12 && q[11] != 0;

	if (qlen == 0)
		return;
	atomic_fetch_add(&fs->queries, 1);
	if (edns)
		atomic_fetch_add(&fs->edns_queries, 1);
	switch (fs->mode) {
	case FAKE_TC:
		n = fake_reply(q, qlen, out, 0x02, 0, 0);
		break;
	case FAKE_FORGED_FIRST:
		n = fake_reply(q, qlen, out, 0, 1, 0);
		n = fake_put_txt(out, n, NULL, 0, "forged");
		out[0] ^= 0x5a;			/* wrong id */
		sendto(fs->udp, out, n, 0, from, fromlen);
		out[0] ^= 0x5a;
		out[13] ^= 0x20;		/* question name case: fine */
		out[qlen - 3] ^= 0x01;		/* wrong QTYPE: not our answer */
		sendto(fs->udp, out, n, 0, from, fromlen);
		out[qlen - 3] ^= 0x01;
		n = fake_reply(q, qlen, out, 0, 0, 3);	/* NXDOMAIN, no question */
		out[4] = out[5] = 0;
		sendto(fs->udp, out, 12, 0, from, fromlen);
		n = fake_reply(q, qlen, out, 0, 1, 0);
		n = fake_put_txt(out, n, NULL, 0, "real");
		break;
	case FAKE_MALFORMED:
		n = fake_reply(q, qlen, out, 0, 1, 0);
		break;
	case FAKE_OTHER_OWNER:
		n = fake_reply(q, qlen, out, 0, 2, 0);
		n = fake_put_txt(out, n, evil, sizeof(evil) - 1, "evil");
		n = fake_put_txt(out, n, NULL, 0, "ours");
		break;
	case FAKE_FORMERR_EDNS:
		if (edns) {
			n = fake_reply(q, qlen, out, 0, 0, 1);
			out[4] = out[5] = 0;	/* old servers drop the question */
			n = 12;
		} else {
			n = fake_reply(q, qlen, out, 0, 1, 0);
			n = fake_put_txt(out, n, NULL, 0, "noedns");
		}
		break;
	default:
		return;
	}
	sendto(fs->udp, out, n, 0, from, fromlen);
}

/* fake_main - the fake server's thread */
static void *
fake_main(void *arg)
{
	struct fake_server *fs = arg;

	while (!atomic_load(&fs->stop)) {
		struct pollfd pfd = {fs->udp, POLLIN, 0};
		unsigned char q[2048];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t	n;

		if (poll(&pfd, 1, 20) != 1)
			continue;
		n = recvfrom(fs->udp, q, sizeof(q), 0, (struct sockaddr *)&from,
			     &fromlen);
		if (n > 0)
			fake_answer(fs, q, (size_t)n, (struct sockaddr *)&from, fromlen);
	}
	return NULL;
}

/* fake_start - bind UDP and TCP on one 127.0.0.1 port; thread unless silent */
static void
fake_start(struct fake_server *fs, enum fake_mode mode)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(fs, 0, sizeof(*fs));
	fs->mode = mode;
	for (int tries = 0; tries < 20; tries++) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fs->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fs->tcp >= 0);
		assert_int_equal(bind(fs->tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(listen(fs->tcp, 8), 0);
		assert_int_equal(getsockname(fs->tcp, (struct sockaddr *)&sin, &len), 0);
		fs->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fs->udp >= 0);
		if (bind(fs->udp, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			break;
		close(fs->udp);
		close(fs->tcp);
		fs->udp = fs->tcp = -1;
	}
	assert_true(fs->udp >= 0);
	fs->port = ntohs(sin.sin_port);
	snprintf(fs->servers, sizeof(fs->servers), "127.0.0.1@%u", fs->port);
	if (mode != FAKE_SILENT)
		assert_int_equal(pthread_create(&fs->thread, NULL, fake_main, fs), 0);
}

/* fake_stop - join the thread, close the sockets */
static void
fake_stop(struct fake_server *fs)
{
	if (fs->mode != FAKE_SILENT) {
		atomic_store(&fs->stop, true);
		pthread_join(fs->thread, NULL);
	}
	close(fs->udp);
	close(fs->tcp);
}

/* closed_port - a loopback UDP port nobody listens on (ICMP unreachable) */
static unsigned
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* timed_query - one query; elapsed ms in *ms */
static int
timed_query(struct dns_resolver *r, const char *name,
	    struct dns_txt_result *res, long long *ms)
{
	long long t0 = now_ms();
	int	rc = dns_query_txt(r, name, res);

	*ms = now_ms() - t0;
	return rc;
}

/* test_timeout_silent - a server that never answers: TEMPFAIL at timeout x attempts */
static void
test_timeout_silent(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;
	long long ms;

	(void)state;
	fake_start(&fs, FAKE_SILENT);
	r = resolver(fs.servers, 200);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_TEMPFAIL);
	print_message("silent server, 200 ms x 2 attempts: %lld ms (%s)\n", ms, res.why);
	assert_string_equal(res.why, "timeout");
	assert_int_equal(res.rcode, -1);
	if (ms < 400 - 20 || ms > 400 + SLACK_MS)
		fail_msg("got %lld ms, want 400 ms (+%d)", ms, SLACK_MS);

	/* three attempts: 600 ms */
	assert_int_equal(dns_resolver_set_attempts(r, 3, &res.why), 0);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_TEMPFAIL);
	print_message("silent server, 200 ms x 3 attempts: %lld ms\n", ms);
	if (ms < 600 - 20 || ms > 600 + SLACK_MS)
		fail_msg("got %lld ms, want 600 ms (+%d)", ms, SLACK_MS);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_timeout_three_silent - 3 silent servers share one budget */
static void
test_timeout_three_silent(void **state)
{
	struct fake_server fs[3];
	struct dns_resolver *r;
	struct dns_txt_result res;
	char	servers[128];
	long long ms;

	(void)state;
	for (int i = 0; i < 3; i++)
		fake_start(&fs[i], FAKE_SILENT);
	snprintf(servers, sizeof(servers), "%s, %s, %s", fs[0].servers,
		 fs[1].servers, fs[2].servers);
	r = resolver(servers, 300);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_TEMPFAIL);
	print_message("3 silent servers, 300 ms x 2 attempts: %lld ms\n", ms);
	if (ms < 600 - 20 || ms > 600 + SLACK_MS)
		fail_msg("got %lld ms, want 600 ms (+%d)", ms, SLACK_MS);
	dns_resolver_free(r);
	for (int i = 0; i < 3; i++)
		fake_stop(&fs[i]);
}

/* test_timeout_tcp - TC over UDP, then a TCP server that never answers */
static void
test_timeout_tcp(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;
	long long ms;

	(void)state;
	fake_start(&fs, FAKE_TC);
	r = resolver(fs.servers, 200);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_TEMPFAIL);
	print_message("TC then silent TCP, 200 ms x 2 attempts: %lld ms (%s)\n", ms, res.why);
	assert_non_null(strstr(res.why, "TCP"));
	if (ms > 400 + SLACK_MS)
		fail_msg("got %lld ms, want <= 400 ms (+%d)", ms, SLACK_MS);
	assert_int_equal(atomic_load(&fs.queries), 2);	/* one UDP try per round */
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_closed_port - ICMP port unreachable fails fast, not at the timeout */
static void
test_closed_port(void **state)
{
	struct dns_resolver *r;
	struct dns_txt_result res;
	char	servers[32];
	long long ms;

	(void)state;
	snprintf(servers, sizeof(servers), "127.0.0.1@%u", closed_port());
	r = resolver(servers, 1000);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_TEMPFAIL);
	print_message("closed port, 1000 ms x 2 attempts: %lld ms (%s)\n", ms, res.why);
	assert_non_null(strstr(res.why, "refused"));
	if (ms > 100)
		fail_msg("got %lld ms, want < 100 ms", ms);
	dns_resolver_free(r);
}

/* test_second_server - a silent first server costs its share, then knotd answers */
static void
test_second_server(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;
	char	servers[96];
	long long ms;

	(void)state;
	need_knot();
	fake_start(&fs, FAKE_SILENT);
	snprintf(servers, sizeof(servers), "%s, %s", fs.servers, kf.servers);
	r = resolver(servers, 400);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_OK);
	print_message("silent first server, 400 ms / 2 servers: answer after %lld ms\n", ms);
	assert_string_equal(res.txt[0].data, "hello world");
	if (ms < 200 - 20 || ms > 200 + SLACK_MS)
		fail_msg("got %lld ms, want 200 ms (+%d)", ms, SLACK_MS);
	dns_txt_result_clear(&res);
	dns_resolver_free(r);

	/* a closed port first: no wait at all */
	snprintf(servers, sizeof(servers), "127.0.0.1@%u, %s", closed_port(), kf.servers);
	r = resolver(servers, 400);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_OK);
	if (ms > 100)
		fail_msg("got %lld ms, want < 100 ms", ms);
	dns_txt_result_clear(&res);
	dns_resolver_free(r);

	/* REFUSED from the first server (a zone it lacks) is not the answer */
	snprintf(servers, sizeof(servers), "%s, %s", kf.servers, fs.servers);
	r = resolver(servers, 200);
	assert_int_equal(timed_query(r, "x.other.test", &res, &ms), DNS_TEMPFAIL);
	print_message("REFUSED + silent: %lld ms (%s)\n", ms, res.why);
	if (ms > 400 + SLACK_MS)
		fail_msg("got %lld ms, want <= 400 ms (+%d)", ms, SLACK_MS);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_forged - datagrams with a wrong id or question are ignored */
static void
test_forged(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;

	(void)state;
	fake_start(&fs, FAKE_FORGED_FIRST);
	r = resolver(fs.servers, 1000);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_int_equal(res.count, 1);
	assert_string_equal(res.txt[0].data, "real");
	dns_txt_result_clear(&res);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_malformed - a matching but broken answer is a permanent failure */
static void
test_malformed(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;
	long long ms;

	(void)state;
	fake_start(&fs, FAKE_MALFORMED);
	r = resolver(fs.servers, 500);
	assert_int_equal(timed_query(r, "t.example.test", &res, &ms), DNS_PERMFAIL);
	assert_non_null(strstr(res.why, "malformed"));
	/* the server is dropped after it, not asked again */
	assert_int_equal(atomic_load(&fs.queries), 1);
	if (ms > 100)
		fail_msg("got %lld ms, want < 100 ms", ms);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_other_owner - answer records owned by another name are ignored */
static void
test_other_owner(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;

	(void)state;
	fake_start(&fs, FAKE_OTHER_OWNER);
	r = resolver(fs.servers, 1000);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_int_equal(res.count, 1);
	assert_string_equal(res.txt[0].data, "ours");
	dns_txt_result_clear(&res);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_formerr_edns - FORMERR to EDNS0 is retried once without it */
static void
test_formerr_edns(void **state)
{
	struct fake_server fs;
	struct dns_resolver *r;
	struct dns_txt_result res;

	(void)state;
	fake_start(&fs, FAKE_FORMERR_EDNS);
	r = resolver(fs.servers, 1000);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_string_equal(res.txt[0].data, "noedns");
	assert_int_equal(atomic_load(&fs.queries), 2);
	assert_int_equal(atomic_load(&fs.edns_queries), 1);
	dns_txt_result_clear(&res);
	dns_resolver_free(r);
	fake_stop(&fs);
}

/* test_ipv6 - knotd on ::1, with the TCP fallback */
static void
test_ipv6(void **state)
{
	struct dns_resolver *r;
	struct dns_txt_result res;

	(void)state;
	need_knot();
	if (!kf.ipv6) {
		print_message("no IPv6 loopback on this host\n");
		skip();
	}
	r = resolver(kf.servers6, 2000);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_string_equal(res.txt[0].data, "hello world");
	dns_txt_result_clear(&res);
	assert_int_equal(dns_query_txt(r, "huge.example.test", &res), DNS_OK);
	assert_int_equal(res.count, 4);
	assert_true(res.via_tcp);
	dns_txt_result_clear(&res);
	assert_int_equal(dns_query_txt(r, "nope.example.test", &res), DNS_NXDOMAIN);
	dns_resolver_free(r);
}

/* test_reload - knot_fixture_reload: new data is served on return */
static void
test_reload(void **state)
{
	struct dns_resolver *r;
	struct dns_txt_result res;
	char	*text;

	(void)state;
	need_knot();
	r = resolver(kf.servers, 2000);
	text = zone_text(1, "reloaded, same serial");
	assert_int_equal(knot_fixture_reload(&kf, "example.test", text), 0);
	free(text);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_string_equal(res.txt[0].data, "reloaded, same serial");
	dns_txt_result_clear(&res);
	text = zone_text(2, "hello world");
	assert_int_equal(knot_fixture_reload(&kf, "example.test", text), 0);
	free(text);
	assert_int_equal(dns_query_txt(r, "t.example.test", &res), DNS_OK);
	assert_string_equal(res.txt[0].data, "hello world");
	dns_txt_result_clear(&res);
	dns_resolver_free(r);
}

/*
 * Concurrency: one resolver, 8 threads, 50 queries each, mixed names.
 */
#define THREADS		8
#define PER_THREAD	50

struct worker {
	const struct dns_resolver *r;
	int		 id;
	int		 wrong;
	char		 first_wrong[160];
};

/* worker_main - PER_THREAD queries; count any answer that is not the right one */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct dns_txt_result res;
		const char *name, *want = NULL;
		enum dns_status want_status = DNS_OK;
		size_t	want_count = 1;
		int	pick = (w->id + i) % 6;

		switch (pick) {
		case 0: name = "t.example.test"; want = "hello world"; break;
		case 1: name = "alias2.example.test"; want = "hello world"; break;
		case 2: name = "multi.example.test"; want = "abcdefghi"; break;
		case 3: name = "sel._domainkey.example.test"; want = gen[GEN_DKIM4096]; break;
		case 4: name = "nope.example.test"; want_status = DNS_NXDOMAIN; want_count = 0; break;
		default: name = "huge.example.test"; want_count = 4; break;
		}
		if (dns_query_txt(w->r, name, &res) != (int)want_status
		    || res.count != want_count
		    || (want != NULL && strcmp(res.txt[0].data, want) != 0)
		    || (pick == 5 && !res.via_tcp)) {
			if (w->wrong++ == 0)
				snprintf(w->first_wrong, sizeof(w->first_wrong),
					 "%s: %s (%s) %zu records", name,
					 dns_status_str(res.status), res.why, res.count);
		}
		dns_txt_result_clear(&res);
	}
	return NULL;
}

/* test_threads - 8 x 50 queries through one resolver, all correct */
static void
test_threads(void **state)
{
	struct dns_resolver *r;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	long long t0;
	int	wrong = 0;

	(void)state;
	need_knot();
	r = resolver(kf.servers, 2000);
	t0 = now_ms();
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].r = r;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		wrong += w[i].wrong;
		if (w[i].wrong)
			print_message("thread %d: %d wrong, first: %s\n", i, w[i].wrong,
				      w[i].first_wrong);
	}
	print_message("%d threads x %d queries: %lld ms, %d wrong\n", THREADS,
		      PER_THREAD, now_ms() - t0, wrong);
	if (wrong != 0)
		fail_msg("got %d wrong answers, want 0", wrong);
	dns_resolver_free(r);
}

/* test_fixture_txt - splitting and quoting for zone files */
static void
test_fixture_txt(void **state)
{
	char	data[600], *q;

	(void)state;
	q = knot_fixture_txt("", 0);
	assert_string_equal(q, "\"\"");
	free(q);
	q = knot_fixture_txt("a\"b\\c\0d\n", 8);
	assert_string_equal(q, "\"a\\\"b\\\\c\\000d\\010\"");
	free(q);
	memset(data, 'x', sizeof(data));
	q = knot_fixture_txt(data, sizeof(data));
	/* 255 + 255 + 90, each quoted, separated by one space */
	assert_int_equal(strlen(q), 257 + 1 + 257 + 1 + 92);
	assert_true(q[257] == ' ' && q[258] == '"' && q[515] == ' ');
	free(q);
}

/* test_status_str - every status has a name */
static void
test_status_str(void **state)
{
	(void)state;
	assert_string_equal(dns_status_str(DNS_OK), "ok");
	assert_string_equal(dns_status_str(DNS_NXDOMAIN), "nxdomain");
	assert_string_equal(dns_status_str(DNS_NODATA), "nodata");
	assert_string_equal(dns_status_str(DNS_TEMPFAIL), "tempfail");
	assert_string_equal(dns_status_str(DNS_PERMFAIL), "permfail");
	dns_txt_result_clear(NULL);
}

/* add_tests - one cmocka test per table row */
static size_t
add_tests(struct CMUnitTest *t, size_t n, const char *table,
	  CMUnitTestFunction fn, const void *rows, size_t rowsize,
	  size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const void *row = (const char *)rows + i * rowsize;
		/* Every row struct starts with its name. */
		const char *name = *(const char *const *)row;

		t[n].name = xasprintf("%s/%s", table, name);
		t[n].test_func = fn;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *)(uintptr_t)row;
		n++;
	}
	return n;
}

int
main(void)
{
	static const struct CMUnitTest singles[] = {
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_system_resolver),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_names_literal),
		cmocka_unit_test(test_timeout_silent),
		cmocka_unit_test(test_timeout_three_silent),
		cmocka_unit_test(test_timeout_tcp),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_second_server),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_other_owner),
		cmocka_unit_test(test_formerr_edns),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fixture_txt),
		cmocka_unit_test(test_status_str),
	};
	size_t	ntables = NELEM(server_cases) + NELEM(txt_cases);
	struct CMUnitTest *t = xcalloc(ntables + NELEM(singles), sizeof(*t));
	size_t	n = 0;
	int	rc;

	n = add_tests(t, n, "servers", test_servers, server_cases,
		      sizeof(server_cases[0]), NELEM(server_cases));
	n = add_tests(t, n, "txt", test_txt, txt_cases,
		      sizeof(txt_cases[0]), NELEM(txt_cases));
	for (size_t i = 0; i < NELEM(singles); i++)
		t[n++] = singles[i];
	rc = _cmocka_run_group_tests("dns", t, n, group_setup, group_teardown);
	for (size_t i = 0; i < ntables; i++)
		free((char *)t[i].name);
	free(t);
	return rc;
}
