/*++
 * NAME
 *	dns_typed_test 1
 * SUMMARY
 *	unit tests for the typed DNS queries, TTLs and the result cache
 * DESCRIPTION
 *	One knotd (tests/unit/knot_fixture.c) on 127.0.0.1 serves typed.test,
 *	a reverse zone for 192.0.2.0/24 and one for 2001:db8::/32, plus
 *	broken.test without a zone file (SERVFAIL). Tables:
 *	- addr: dns_query_a()/dns_query_aaaa(), the addresses as a set and
 *	  the TTL (CNAME hops included, RFC 2308 5 for negative answers);
 *	- names: dns_query_mx()/dns_query_ptr(), names and preferences.
 *	Then the cache: hits after a zone reload, expiry at max_ttl,
 *	negative caching, no caching of SERVFAIL, LRU eviction, case
 *	folding, dns_query_txt() through the cache, threads.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "knot_fixture.h"
#include "tcase.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct knot_fixture kf;
static bool knot_ok;
static char knot_err[256];

/* zone_typed - typed.test; "v" is the address of the record that changes */
static char *
zone_typed(unsigned serial, const char *v, bool later)
{
	char	*text = NULL;
	size_t	len = 0;
	FILE	*fp = open_memstream(&text, &len);

	fprintf(fp, "$ORIGIN typed.test.\n$TTL 300\n"
		"@ SOA ns hostmaster %u 3600 600 86400 60\n"
		"@ NS ns\nns A 127.0.0.1\n", serial);
	fprintf(fp, "a1 A 192.0.2.1\n");
	fprintf(fp, "a2 A 192.0.2.1\na2 A 192.0.2.2\n");
	fprintf(fp, "six AAAA 2001:db8::1\n");
	fprintf(fp, "both A 192.0.2.3\nboth AAAA 2001:db8::3\n");
	fprintf(fp, "alias 100 CNAME a2\n");
	fprintf(fp, "ttl30 30 A 192.0.2.30\n");
	fprintf(fp, "mx MX 10 a1\nmx MX 20 six.typed.test.\n");
	fprintf(fp, "nullmx MX 0 .\n");
	fprintf(fp, "mxalias CNAME mx\n");
	fprintf(fp, "t TXT \"v=spf1 -all\"\n");
	fprintf(fp, "changes A %s\n", v);
	fprintf(fp, "n1 A 192.0.2.101\nn2 A 192.0.2.102\nn3 A 192.0.2.103\n");
	if (later)
		fprintf(fp, "later A 192.0.2.200\n");
	for (int i = 0; i < DNS_MAX_RECORDS + 3; i++)
		fprintf(fp, "manymx MX %d m%d\n", i, i);
	for (int i = 0; i < DNS_MAX_ADDRS; i++)
		fprintf(fp, "addrmax A 10.0.%d.%d\n", i / 250, i % 250 + 1);
	for (int i = 0; i <= DNS_MAX_ADDRS; i++)
		fprintf(fp, "addrover A 10.1.%d.%d\n", i / 250, i % 250 + 1);
	fclose(fp);
	return text;
}

static const char zone_rev4[] =
	"$ORIGIN 2.0.192.in-addr.arpa.\n$TTL 300\n"
	"@ SOA ns.typed.test. hostmaster.typed.test. 1 3600 600 86400 60\n"
	"@ NS ns.typed.test.\n"
	"1 PTR a1.typed.test.\n"
	"2 PTR a2.typed.test.\n2 PTR alias.typed.test.\n";

static const char zone_rev6[] =
	"$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.\n$TTL 300\n"
	"@ SOA ns.typed.test. hostmaster.typed.test. 1 3600 600 86400 60\n"
	"@ NS ns.typed.test.\n"
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 PTR six.typed.test.\n";

/* group_setup - start knotd with the zones */
static int
group_setup(void **state)
{
	struct knot_fixture_zone zones[4];
	char	*text;

	(void)state;
	if (!knot_fixture_available()) {
		snprintf(knot_err, sizeof(knot_err), "knotd/knotc not installed");
		return 0;
	}
	text = zone_typed(1, "192.0.2.50", false);
	zones[0] = (struct knot_fixture_zone) {"typed.test", text};
	zones[1] = (struct knot_fixture_zone) {"2.0.192.in-addr.arpa", zone_rev4};
	zones[2] = (struct knot_fixture_zone) {"8.b.d.0.1.0.0.2.ip6.arpa", zone_rev6};
	zones[3] = (struct knot_fixture_zone) {"broken.test", NULL};
	knot_ok = knot_fixture_start(&kf, zones, 4, 0, knot_err,
				     sizeof(knot_err)) == 0;
	free(text);
	return 0;
}

/* group_teardown - stop knotd */
static int
group_teardown(void **state)
{
	(void)state;
	if (knot_ok)
		knot_fixture_stop(&kf);
	return 0;
}

#define need_knot() do { \
	if (!knot_ok) { \
		print_message("knotd unavailable: %s\n", knot_err); \
		skip(); \
	} \
} while (0)

/* resolver - one for knotd, optionally with a cache */
static struct dns_resolver *
resolver(size_t cache_entries, unsigned cache_ttl)
{
	const char *why = NULL;
	struct dns_resolver *r = dns_resolver_new(kf.servers, 1000, &why);

	if (r == NULL)
		fail_msg("dns_resolver_new: %s", why);
	if (cache_entries > 0
	    && dns_resolver_enable_cache(r, cache_entries, cache_ttl, &why) < 0)
		fail_msg("enable_cache: %s", why);
	return r;
}

/* cmp_str - qsort on strings */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* addr_set - the addresses as a sorted, comma-separated string */
static void
addr_set(const struct dns_addr_result *res, char *buf, size_t size)
{
	char	text[DNS_MAX_ADDRS][INET6_ADDRSTRLEN];
	char	*p[DNS_MAX_ADDRS];
	size_t	used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < res->count; i++) {
		inet_ntop(res->addr[i].family, res->addr[i].addr, text[i],
			  sizeof(text[i]));
		p[i] = text[i];
	}
	qsort(p, res->count, sizeof(p[0]), cmp_str);
	for (size_t i = 0; i < res->count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? "," : "", p[i]);
}

/* name_set - "pref name" pairs, sorted, comma-separated */
static void
name_set(const struct dns_name_result *res, char *buf, size_t size)
{
	char	text[DNS_MAX_RECORDS][300];
	char	*p[DNS_MAX_RECORDS];
	size_t	used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < res->count; i++) {
		snprintf(text[i], sizeof(text[i]), "%u %s", res->name[i].pref,
			 res->name[i].name);
		p[i] = text[i];
	}
	qsort(p, res->count, sizeof(p[0]), cmp_str);
	for (size_t i = 0; i < res->count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 i ? "," : "", p[i]);
}

struct addr_case {
	const char	*name;
	const char	*qname;
	bool		aaaa;
	int		status;
	const char	*want;		/* sorted set; NULL: don't compare */
	unsigned	ttl;
};

static const struct addr_case addr_cases[] = {
	{"one A", "a1.typed.test", false, DNS_OK, "192.0.2.1", 300},
	{"two A", "a2.typed.test", false, DNS_OK, "192.0.2.1,192.0.2.2", 300},
	{"AAAA", "six.typed.test", true, DNS_OK, "2001:db8::1", 300},
	{"A of AAAA-only name: NODATA, SOA minimum", "six.typed.test", false,
	 DNS_NODATA, "", 60},
	{"AAAA of both", "both.typed.test.", true, DNS_OK, "2001:db8::3", 300},
	{"A via CNAME: TTL of the hop", "alias.typed.test", false, DNS_OK,
	 "192.0.2.1,192.0.2.2", 100},
	{"own TTL", "ttl30.typed.test", false, DNS_OK, "192.0.2.30", 30},
	{"NXDOMAIN: SOA minimum", "nope.typed.test", false, DNS_NXDOMAIN, "", 60},
	{"128 A records", "addrmax.typed.test", false, DNS_OK, NULL, 300},
	{"129 A records", "addrover.typed.test", false, DNS_PERMFAIL, "", 0},
	{"SERVFAIL", "x.broken.test", false, DNS_TEMPFAIL, "", 0},
	{"outside every zone: REFUSED", "x.elsewhere.test", false, DNS_PERMFAIL, "", 0},
	{"bad name", "a..b", false, DNS_PERMFAIL, "", 0},
};

/* test_addr - the addr table */
static void
test_addr(void **state)
{
	struct dns_resolver *r;

	(void)state;
	need_knot();
	r = resolver(0, 0);
	for (size_t i = 0; i < NELEM(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct dns_addr_result res;
		char	got[4096];

		if (c->aaaa)
			dns_query_aaaa(r, c->qname, &res);
		else
			dns_query_a(r, c->qname, &res);
		addr_set(&res, got, sizeof(got));
		if ((int)res.status != c->status)
			tcase_bad(c->name, "status got %s (%s), want %s",
				  dns_status_str(res.status), res.why,
				  dns_status_str(c->status));
		else if (c->want != NULL && strcmp(got, c->want) != 0)
			tcase_bad(c->name, "got %s, want %s", got, c->want);
		else if (res.ttl != c->ttl)
			tcase_bad(c->name, "ttl got %u, want %u", res.ttl, c->ttl);
		else if (c->want == NULL && res.count != DNS_MAX_ADDRS)
			tcase_bad(c->name, "count got %zu, want %d", res.count,
				  DNS_MAX_ADDRS);
	}
	dns_resolver_free(r);
	tcase_done();
}

struct name_case {
	const char	*name;
	const char	*qname;		/* MX name, or an address for PTR */
	int		status;
	const char	*want;
	bool		truncated;
};

static const struct name_case name_cases[] = {
	{"MX", "mx.typed.test", DNS_OK, "10 a1.typed.test,20 six.typed.test", false},
	{"MX via CNAME", "mxalias.typed.test", DNS_OK,
	 "10 a1.typed.test,20 six.typed.test", false},
	{"null MX (RFC 7505)", "nullmx.typed.test", DNS_OK, "0 ", false},
	{"no MX", "a1.typed.test", DNS_NODATA, "", false},
	{"MX of nothing", "nope.typed.test", DNS_NXDOMAIN, "", false},
	{"PTR v4", "192.0.2.1", DNS_OK, "0 a1.typed.test", false},
	{"PTR v4 two", "192.0.2.2", DNS_OK, "0 a2.typed.test,0 alias.typed.test", false},
	{"PTR v4 none", "192.0.2.9", DNS_NXDOMAIN, "", false},
	{"PTR v6 nibbles", "2001:db8::1", DNS_OK, "0 six.typed.test", false},
	{"PTR v6 none", "2001:db8::2", DNS_NXDOMAIN, "", false},
};

/* test_names - the names table; the MX/PTR choice follows the qname */
static void
test_names(void **state)
{
	struct dns_resolver *r;

	(void)state;
	need_knot();
	r = resolver(0, 0);
	for (size_t i = 0; i < NELEM(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		struct dns_name_result res;
		unsigned char a[16];
		char	got[4096];

		if (inet_pton(AF_INET, c->qname, a) == 1)
			dns_query_ptr(r, AF_INET, a, &res);
		else if (inet_pton(AF_INET6, c->qname, a) == 1)
			dns_query_ptr(r, AF_INET6, a, &res);
		else
			dns_query_mx(r, c->qname, &res);
		name_set(&res, got, sizeof(got));
		if ((int)res.status != c->status)
			tcase_bad(c->name, "status got %s (%s), want %s",
				  dns_status_str(res.status), res.why,
				  dns_status_str(c->status));
		else if (strcmp(got, c->want) != 0)
			tcase_bad(c->name, "got \"%s\", want \"%s\"", got, c->want);
		else if (res.truncated != c->truncated)
			tcase_bad(c->name, "truncated got %d, want %d",
				  res.truncated, c->truncated);
		dns_name_result_clear(&res);
		dns_name_result_clear(&res);	/* idempotent */
	}
	dns_resolver_free(r);
	tcase_done();
}

/* test_mx_truncated - more MX than DNS_MAX_RECORDS: the first ones, flagged */
static void
test_mx_truncated(void **state)
{
	struct dns_resolver *r;
	struct dns_name_result res;

	(void)state;
	need_knot();
	r = resolver(0, 0);
	assert_int_equal(dns_query_mx(r, "manymx.typed.test", &res), DNS_OK);
	assert_int_equal(res.count, DNS_MAX_RECORDS);
	assert_true(res.truncated);
	dns_name_result_clear(&res);
	assert_int_equal(res.count, 0);
	dns_resolver_free(r);
}

/* first_addr - the text of the first A record of name, or the status */
static const char *
first_addr(struct dns_resolver *r, const char *name, char *buf, size_t size,
	   unsigned *ttl)
{
	struct dns_addr_result res;

	if (dns_query_a(r, name, &res) != DNS_OK)
		snprintf(buf, size, "%s", dns_status_str(res.status));
	else
		inet_ntop(AF_INET, res.addr[0].addr, buf, (socklen_t)size);
	if (ttl != NULL)
		*ttl = res.ttl;
	return buf;
}

/* reload - typed.test with another "changes" address and/or "later" */
static void
reload(unsigned serial, const char *v, bool later)
{
	char	*text = zone_typed(serial, v, later);

	assert_int_equal(knot_fixture_reload(&kf, "typed.test", text), 0);
	free(text);
}

/* test_cache_hit - a cached answer outlives a zone change until expiry */
static void
test_cache_hit(void **state)
{
	struct dns_resolver *r, *plain;
	struct dns_cache_stats st;
	char	buf[64];
	unsigned ttl;

	(void)state;
	need_knot();
	r = resolver(100, 1);
	plain = resolver(0, 0);
	reload(10, "192.0.2.50", false);
	assert_string_equal(first_addr(r, "changes.typed.test", buf, sizeof(buf), &ttl),
			    "192.0.2.50");
	assert_int_equal(ttl, 300);
	reload(11, "192.0.2.51", false);
	/* the plain resolver sees the change: the cache is the resolver's */
	assert_string_equal(first_addr(plain, "changes.typed.test", buf, sizeof(buf), NULL),
			    "192.0.2.51");
	assert_string_equal(first_addr(r, "Changes.TYPED.test.", buf, sizeof(buf), &ttl),
			    "192.0.2.50");
	assert_true(ttl <= 1);			/* capped at max_ttl, time left */
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 1);
	tcase_sleep_ms(1100);
	assert_string_equal(first_addr(r, "changes.typed.test", buf, sizeof(buf), NULL),
			    "192.0.2.51");
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.misses, 2);
	dns_resolver_cache_stats(plain, &st);
	assert_int_equal(st.hits + st.misses + st.entries, 0);
	dns_resolver_free(plain);
	dns_resolver_free(r);
}

/* test_cache_negative - NXDOMAIN and NODATA are kept for the SOA minimum */
static void
test_cache_negative(void **state)
{
	struct dns_resolver *r;
	struct dns_addr_result res;
	struct dns_cache_stats st;
	char	buf[64];
	unsigned ttl;

	(void)state;
	need_knot();
	r = resolver(100, 3600);
	reload(20, "192.0.2.50", false);
	assert_string_equal(first_addr(r, "later.typed.test", buf, sizeof(buf), &ttl),
			    "nxdomain");
	assert_int_equal(ttl, 60);
	assert_int_equal(dns_query_aaaa(r, "a1.typed.test", &res), DNS_NODATA);
	reload(21, "192.0.2.50", true);
	assert_string_equal(first_addr(r, "later.typed.test", buf, sizeof(buf), &ttl),
			    "nxdomain");
	assert_true(ttl <= 60 && ttl >= 59);
	assert_int_equal(dns_query_aaaa(r, "a1.typed.test", &res), DNS_NODATA);
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.inserts, 2);
	reload(22, "192.0.2.50", false);
	dns_resolver_free(r);
}

/* test_cache_tempfail - SERVFAIL and REFUSED are never kept */
static void
test_cache_tempfail(void **state)
{
	struct dns_resolver *r;
	struct dns_addr_result res;
	struct dns_cache_stats st;

	(void)state;
	need_knot();
	r = resolver(100, 3600);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dns_query_a(r, "x.broken.test", &res), DNS_TEMPFAIL);
		assert_int_equal(dns_query_a(r, "x.elsewhere.test", &res), DNS_PERMFAIL);
	}
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.entries, 0);
	dns_resolver_free(r);
}

/* test_cache_lru - a full cache drops the least recently used entry */
static void
test_cache_lru(void **state)
{
	struct dns_resolver *r;
	struct dns_cache_stats st;
	char	buf[64];

	(void)state;
	need_knot();
	r = resolver(2, 3600);
	first_addr(r, "n1.typed.test", buf, sizeof(buf), NULL);	/* miss */
	first_addr(r, "n2.typed.test", buf, sizeof(buf), NULL);	/* miss */
	first_addr(r, "n1.typed.test", buf, sizeof(buf), NULL);	/* hit: n1 newest */
	first_addr(r, "n3.typed.test", buf, sizeof(buf), NULL);	/* miss, evicts n2 */
	first_addr(r, "n1.typed.test", buf, sizeof(buf), NULL);	/* hit */
	assert_string_equal(first_addr(r, "n2.typed.test", buf, sizeof(buf), NULL),
			    "192.0.2.102");			/* miss, evicts n3 */
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.entries, 2);
	dns_resolver_free(r);
}

/* test_cache_types - one name, several types: separate entries; TXT too */
static void
test_cache_types(void **state)
{
	struct dns_resolver *r;
	struct dns_cache_stats st;
	struct dns_addr_result a;
	struct dns_name_result mx;
	struct dns_txt_result txt;
	const char *why;

	(void)state;
	need_knot();
	r = resolver(100, 3600);
	assert_int_equal(dns_resolver_enable_cache(r, 0, 10, &why), -1);
	assert_int_equal(dns_resolver_enable_cache(r, 10, 0, &why), -1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dns_query_a(r, "both.typed.test", &a), DNS_OK);
		assert_int_equal(a.addr[0].family, AF_INET);
		assert_int_equal(dns_query_aaaa(r, "both.typed.test", &a), DNS_OK);
		assert_int_equal(a.addr[0].family, AF_INET6);
		assert_int_equal(dns_query_mx(r, "mxalias.typed.test", &mx), DNS_OK);
		assert_int_equal(mx.count, 2);
		dns_name_result_clear(&mx);
		assert_int_equal(dns_query_txt(r, "t.typed.test", &txt), DNS_OK);
		assert_string_equal(txt.txt[0].data, "v=spf1 -all");
		assert_int_equal(txt.ttl, 300);
		dns_txt_result_clear(&txt);
	}
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.misses, 4);
	dns_resolver_free(r);
}

struct thread_arg {
	struct dns_resolver *r;
	int	bad;
};

/* thread_main - many queries over five names through a small cache */
static void *
thread_main(void *p)
{
	struct thread_arg *ta = p;
	static const char *const names[] = {"n1", "n2", "n3", "a1", "ttl30"};
	static const char *const want[] = {"192.0.2.101", "192.0.2.102",
	    "192.0.2.103", "192.0.2.1", "192.0.2.30"};

	for (int i = 0; i < 200; i++) {
		char	name[64], buf[64];
		size_t	k = (size_t)i % NELEM(names);

		snprintf(name, sizeof(name), "%s.typed.test", names[k]);
		if (strcmp(first_addr(ta->r, name, buf, sizeof(buf), NULL), want[k]) != 0)
			ta->bad++;
	}
	return NULL;
}

/* test_cache_threads - 4 threads share one cache of 3 entries */
static void
test_cache_threads(void **state)
{
	struct dns_resolver *r;
	struct thread_arg ta[4];
	pthread_t tid[4];
	struct dns_cache_stats st;

	(void)state;
	need_knot();
	r = resolver(3, 3600);
	for (int i = 0; i < 4; i++) {
		ta[i].r = r;
		ta[i].bad = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, thread_main, &ta[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(ta[i].bad, 0);
	}
	dns_resolver_cache_stats(r, &st);
	assert_int_equal(st.hits + st.misses, 800);
	assert_true(st.entries <= 3);
	dns_resolver_free(r);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mx_truncated),
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_cache_negative),
		cmocka_unit_test(test_cache_tempfail),
		cmocka_unit_test(test_cache_lru),
		cmocka_unit_test(test_cache_types),
		cmocka_unit_test(test_cache_threads),
	};

	return cmocka_run_group_tests_name("dns_typed", tests, group_setup,
					   group_teardown);
}
