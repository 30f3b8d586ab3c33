/*++
 * NAME
 *	dmarc_mem 1
 * SUMMARY
 *	Redis memory of one day of DMARC report data (postmill-auth recording)
 * SYNOPSIS
 *	dmarc_mem REDIS-SERVER [MESSAGES]
 * DESCRIPTION
 *	Records MESSAGES (default 1,000,000) messages through the very code
 *	postmill-auth uses at end of message (auth_record_store(): the Lua
 *	script, the keys, the row text), with a synthetic day whose shape
 *	follows what a mid-size receiver sees (a fixed PRNG: every run is the
 *	same):
 *	- 10,000 From domains that publish DMARC, popularity Zipf (s = 1):
 *	  the top domain has ~10% of the mail, the last ones a few messages;
 *	- 93% of messages come from the domain's own senders: the domain of
 *	  rank r has 1 + 200 / sqrt(r) IP addresses (201 for the largest,
 *	  3 for the smallest), SPF and DKIM pass (one of two selectors);
 *	- 4% are forwarded: one of 2,000 forwarder addresses, SPF fail
 *	  (the forwarder's MAIL FROM), DKIM pass;
 *	- 3% are spoofed: an address from a /8 picked at random (almost
 *	  every one a new row), SPF fail, no signature, rejected.
 *	It prints the distinct rows, Redis "used_memory" before and after
 *	(INFO memory) and the bytes per row and per message. The server
 *	should be empty and used by nothing else.
 *--*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_record.h"
#include "redis.h"

#define DOMAINS		10000
#define FORWARDERS	2000

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

/* rnd - xorshift64* */
static unsigned long long
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* used_memory - INFO memory used_memory */
static long long
used_memory(struct redis_pool *p)
{
	const char *err;
	redisReply *r = redis_command(p, &err, "INFO memory");
	long long v = -1;
	char *s;

	if (r != NULL && r->type == REDIS_REPLY_STRING
	    && (s = strstr(r->str, "used_memory:")) != NULL)
		v = atoll(s + strlen("used_memory:"));
	if (r)
		freeReplyObject(r);
	return v;
}

int
main(int argc, char **argv)
{
	struct redis_conf rc = {0};
	struct redis_pool *pool;
	struct auth_record_store_conf sc = {"pmdmarc:", 7 * 86400, 100000000};
	static double cdf[DOMAINS];
	long messages = argc > 2 ? atol(argv[2]) : 1000000, i, dropped = 0;
	long long before, after;
	const char *why;
	double sum = 0;
	redisReply *r;
	long long rows;
	int d;

	if (argc < 2) {
		fprintf(stderr, "usage: dmarc_mem REDIS-SERVER [MESSAGES]\n");
		return 2;
	}
	rc.server = argv[1];
	rc.connect_timeout_ms = rc.command_timeout_ms = 5000;
	rc.backoff_min_ms = rc.backoff_max_ms = 100;
	if ((pool = redis_pool_new(&rc, &why)) == NULL) {
		fprintf(stderr, "dmarc_mem: %s\n", why);
		return 1;
	}
	for (d = 0; d < DOMAINS; d++)
		cdf[d] = (sum += 1.0 / (d + 1));
	before = used_memory(pool);
	for (i = 0; i < messages; i++) {
		struct auth_record_row row;
		struct auth_record_policy pol = {"", "reject", "reject", "reject", 'r', 'r', 'n', false};
		double u = (double)(rnd() >> 11) / 9007199254740992.0 * sum;
		unsigned kind = (unsigned)(rnd() % 100);
		int lo = 0, hi = DOMAINS - 1;

		while (lo < hi) {		/* the domain: Zipf by its CDF */
			int mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		memset(&row, 0, sizeof(row));
		snprintf(pol.domain, sizeof(pol.domain), "domain%d.example", lo);
		snprintf(row.header_from, sizeof(row.header_from), "%s", pol.domain);
		if (kind < 93) {
			unsigned pool_ips = 1 + (unsigned)(200 / sqrt(lo + 1.0));
			unsigned ip = (unsigned)(rnd() % pool_ips);

			snprintf(row.source_ip, sizeof(row.source_ip), "198.%u.%u.%u",
				 (unsigned)(lo >> 8) & 255, (unsigned)lo & 255, ip);
			snprintf(row.envelope_from, sizeof(row.envelope_from), "bounce.%.200s", pol.domain);
			snprintf(row.disposition, sizeof(row.disposition), "pass");
			row.dkim_aligned = row.spf_aligned = true;
			snprintf(row.spf_domain, sizeof(row.spf_domain), "%s", row.envelope_from);
			snprintf(row.spf_result, sizeof(row.spf_result), "pass");
			row.ndkim = 1;
			snprintf(row.dkim[0].domain, sizeof(row.dkim[0].domain), "%s", pol.domain);
			snprintf(row.dkim[0].selector, sizeof(row.dkim[0].selector), "s%u",
				 (unsigned)(rnd() % 2));
			snprintf(row.dkim[0].result, sizeof(row.dkim[0].result), "pass");
		} else if (kind < 97) {
			unsigned f = (unsigned)(rnd() % FORWARDERS);

			snprintf(row.source_ip, sizeof(row.source_ip), "203.0.%u.%u", f >> 8, f & 255);
			snprintf(row.envelope_from, sizeof(row.envelope_from), "lists%u.example", f);
			snprintf(row.disposition, sizeof(row.disposition), "pass");
			row.dkim_aligned = true;
			snprintf(row.spf_domain, sizeof(row.spf_domain), "%s", row.envelope_from);
			snprintf(row.spf_result, sizeof(row.spf_result), "fail");
			row.ndkim = 1;
			snprintf(row.dkim[0].domain, sizeof(row.dkim[0].domain), "%s", pol.domain);
			snprintf(row.dkim[0].selector, sizeof(row.dkim[0].selector), "s0");
			snprintf(row.dkim[0].result, sizeof(row.dkim[0].result), "pass");
		} else {
			unsigned long long x = rnd();

			snprintf(row.source_ip, sizeof(row.source_ip), "45.%u.%u.%u",
				 (unsigned)(x >> 16) & 255, (unsigned)(x >> 8) & 255, (unsigned)x & 255);
			snprintf(row.envelope_from, sizeof(row.envelope_from), "%s", pol.domain);
			snprintf(row.disposition, sizeof(row.disposition), "reject");
			snprintf(row.spf_domain, sizeof(row.spf_domain), "%s", pol.domain);
			snprintf(row.spf_result, sizeof(row.spf_result), "fail");
		}
		if (auth_record_store(pool, &sc, &row, &pol, 1765000000, &why) != 1) {
			if (++dropped < 5)
				fprintf(stderr, "dmarc_mem: not stored: %s\n", why ? why : "dropped");
		}
	}
	after = used_memory(pool);
	r = redis_command(pool, &why, "GET pmdmarc:{20251206}nrows");
	rows = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	if (r)
		freeReplyObject(r);
	printf("messages %ld, policy domains %d (Zipf), distinct rows %lld, not stored %ld\n",
	       messages, DOMAINS, rows, dropped);
	printf("used_memory before %lld, after %lld: %.1f MB for the day, "
	       "%.0f bytes per row, %.1f bytes per message\n", before, after,
	       (after - before) / 1048576.0, rows > 0 ? (double)(after - before) / rows : 0,
	       (double)(after - before) / messages);
	redis_pool_free(pool);
	return dropped ? 1 : 0;
}
