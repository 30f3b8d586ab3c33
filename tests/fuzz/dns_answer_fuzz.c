/*++
 * NAME
 *	dns_answer_fuzz 1
 * SUMMARY
 *	libFuzzer target for the DNS client: answers over UDP and TCP
 * DESCRIPTION
 *	The DNS client (common/dns*.c) is the largest parser of network
 *	input in postmill. This target drives its public API (dns_query_txt,
 *	_a, _aaaa, _mx, _ptr, with and without the cache) against a server
 *	thread on 127.0.0.1 that answers every query with bytes from the
 *	fuzz input, so that the whole path runs as in production: reply
 *	matching, truncation (TC) and the TCP retry with its 2-byte length
 *	framing, ns_initparse, the CNAME walk, compression pointers (loops
 *	included), every record parser, negative TTLs and the cache's copy.
 *
 *	Input: byte 0 selects (bits 0-2) the query type and (bit 3) a
 *	second, cached query; bits 4-7 turn OFF the patches the server
 *	applies so that most answers reach the parsers (without them
 *	nearly every random answer would fail the ID/question match):
 *	bit 4 the UDP ID, bit 5 the UDP question, bit 6 the TCP ID, bit 7
 *	the TCP question. Bytes 1-2: the UDP answer's length (big-endian,
 *	capped by what is left); then the UDP answer; the rest is the TCP
 *	stream as sent, length prefix included (so short, long and split
 *	framings are all reachable).
 *
 *	The invariants checked besides ASan/UBSan: a result's status is one
 *	of enum dns_status, returned too, with a reason when it failed;
 *	counts stay within
 *	DNS_MAX_RECORDS / DNS_MAX_ADDRS; TXT data is NUL-terminated at its
 *	length; names are NUL-terminated; an answer that came over TCP says
 *	so only when the UDP answer had TC set.
 *--*/
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "dns.h"

#define FZ_HDR		12
#define FZ_MAX		65535

static int fz_udp = -1, fz_tcp = -1;
static unsigned short fz_port;
static pthread_mutex_t fz_lock = PTHREAD_MUTEX_INITIALIZER;
static const uint8_t *fz_udp_ans, *fz_tcp_ans;
static size_t fz_udp_len, fz_tcp_len;
static unsigned fz_flags;

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "dns_answer_fuzz: %s\n", what);
	abort();
}

/* fz_question_len - length of the question (name + type + class) of a query */
static size_t
fz_question_len(const unsigned char *q, size_t len)
{
	size_t i = FZ_HDR;

	while (i < len && q[i] != 0)
		i += 1 + q[i];
	return i + 5 <= len ? i + 5 - FZ_HDR : 0;
}

/* fz_patch - make an answer claim to answer query q (ID, question) */
static size_t
fz_patch(unsigned char *ans, size_t len, const unsigned char *q, size_t qlen,
	 bool id, bool question)
{
	size_t ql = fz_question_len(q, qlen);

	if (id && len >= 2 && qlen >= 2)
		memcpy(ans, q, 2);
	if (question && ql > 0 && len >= FZ_HDR) {
		/* QDCOUNT 1 and the question in place, the rest as given */
		ans[4] = 0;
		ans[5] = 1;
		if (len < FZ_HDR + ql)
			len = FZ_HDR + ql;
		memcpy(ans + FZ_HDR, q + FZ_HDR, ql);
	}
	return len;
}

/*
 * fz_servfail - a well-formed SERVFAIL for q after the fuzzed answer: a
 * client that ignored the fuzzed one as not matching stops waiting now
 * instead of at its deadline (a client that took it has closed its
 * socket), so a run costs microseconds, not the timeout.
 */
static void
fz_servfail(const unsigned char *q, size_t qlen, const struct sockaddr_in *to,
	    socklen_t tolen)
{
	unsigned char a[FZ_HDR + 300];
	size_t ql = fz_question_len(q, qlen);

	if (ql == 0 || ql > sizeof(a) - FZ_HDR)
		return;
	memset(a, 0, FZ_HDR);
	memcpy(a, q, 2);
	a[2] = 0x80 | (q[2] & 0x01);	/* QR, RD copied */
	a[3] = 0x02;			/* SERVFAIL */
	a[5] = 1;
	memcpy(a + FZ_HDR, q + FZ_HDR, ql);
	(void)sendto(fz_udp, a, FZ_HDR + ql, 0, (const struct sockaddr *)to, tolen);
}

/* fz_serve_udp - one query, one answer from the input */
static void
fz_serve_udp(void)
{
	unsigned char q[1500], *ans;
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(fz_udp, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	size_t len;

	if (n < 0)
		return;
	pthread_mutex_lock(&fz_lock);
	ans = malloc(fz_udp_len + FZ_HDR + 300);
	memcpy(ans, fz_udp_ans, fz_udp_len);
	len = fz_patch(ans, fz_udp_len, q, (size_t)n, !(fz_flags & 0x10), !(fz_flags & 0x20));
	pthread_mutex_unlock(&fz_lock);
	(void)sendto(fz_udp, ans, len, 0, (struct sockaddr *)&from, flen);
	free(ans);
	fz_servfail(q, (size_t)n, &from, flen);
}

/* fz_read_all - n bytes from a connected socket (its timeout bounds it) */
static bool
fz_read_all(int fd, unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, buf, n, 0);

		if (r <= 0)
			return false;
		buf += r;
		n -= (size_t)r;
	}
	return true;
}

/* fz_serve_tcp - read one framed query, send the input's TCP stream */
static void
fz_serve_tcp(void)
{
	int fd = accept(fz_tcp, NULL, NULL);
	struct timeval tv = {1, 0};
	unsigned char lenbuf[2], q[FZ_MAX], *out;
	size_t qlen, len;

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!fz_read_all(fd, lenbuf, 2)
	    || !fz_read_all(fd, q, qlen = ((size_t)lenbuf[0] << 8) | lenbuf[1])) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&fz_lock);
	out = malloc(fz_tcp_len + 2 + FZ_HDR + 300);
	memcpy(out, fz_tcp_ans, fz_tcp_len);
	len = fz_tcp_len;
	if (len >= 2) {
		/* the message after the length prefix, patched like a UDP one */
		size_t mlen = fz_patch(out + 2, len - 2, q, qlen, !(fz_flags & 0x40),
				       !(fz_flags & 0x80));

		len = mlen + 2;
	}
	pthread_mutex_unlock(&fz_lock);
	(void)send(fd, out, len, MSG_NOSIGNAL);
	free(out);
	close(fd);
}

/* fz_server - the server thread */
static void *
fz_server(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fz_udp, .events = POLLIN },
			{ .fd = fz_tcp, .events = POLLIN },
		};

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN)
			fz_serve_udp();
		if (p[1].revents & POLLIN)
			fz_serve_tcp();
	}
	return NULL;
}

/* fz_start - UDP and TCP on one free loopback port, and the thread */
static void
fz_start(void)
{
	for (int tries = 0; tries < 100; tries++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fz_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		fz_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fz_udp < 0 || fz_tcp < 0)
			fuzz_fail("socket");
		if (bind(fz_udp, (struct sockaddr *)&sa, sizeof(sa)) < 0
		    || getsockname(fz_udp, (struct sockaddr *)&sa, &len) < 0)
			fuzz_fail("bind udp");
		if (bind(fz_tcp, (struct sockaddr *)&sa, sizeof(sa)) == 0
		    && listen(fz_tcp, 16) == 0) {
			pthread_t tid;

			fz_port = ntohs(sa.sin_port);
			if (pthread_create(&tid, NULL, fz_server, NULL) != 0)
				fuzz_fail("pthread_create");
			pthread_detach(tid);
			return;
		}
		close(fz_udp);
		close(fz_tcp);
	}
	fuzz_fail("no port free for both UDP and TCP");
}

/* fz_check_common - what every result promises */
static void
fz_check_common(int rc, enum dns_status st, const char *why)
{
	if (st > DNS_PERMFAIL)
		fuzz_fail("status out of range");
	if ((st == DNS_TEMPFAIL || st == DNS_PERMFAIL) && (why == NULL || *why == '\0'))
		fuzz_fail("failure without a reason");
	if (rc != (int)st)
		fuzz_fail("return value is not out->status");
	if (st == DNS_OK && why != NULL && *why == '\0')
		fuzz_fail("empty reason");
}

/* fz_query - one typed query and its invariants */
static void
fz_query(const struct dns_resolver *r, unsigned type, bool tc)
{
	static const unsigned char v4[4] = {192, 0, 2, 1};
	int rc;

	switch (type) {
	case 0:
	case 5: {
		struct dns_txt_result t;

		rc = dns_query_txt(r, "sel._domainkey.Example.TEST", &t);
		fz_check_common(rc, t.status, t.why);
		if (t.count > DNS_MAX_RECORDS || (t.status != DNS_OK && t.count != 0))
			fuzz_fail("TXT count");
		for (size_t i = 0; i < t.count; i++)
			if (t.txt[i].len > DNS_MAX_TXT_LEN || t.txt[i].data[t.txt[i].len] != '\0')
				fuzz_fail("TXT data");
		if (t.via_tcp && !tc)
			fuzz_fail("TCP without TC");
		dns_txt_result_clear(&t);
		break;
	}
	case 1:
	case 2:
	case 6: {
		struct dns_addr_result a;

		rc = type == 2 ? dns_query_aaaa(r, "mx1.example.test", &a)
		    : dns_query_a(r, "mx1.example.test", &a);
		fz_check_common(rc, a.status, a.why);
		if (a.count > DNS_MAX_ADDRS || (a.status != DNS_OK && a.count != 0))
			fuzz_fail("address count");
		for (size_t i = 0; i < a.count; i++)
			if (a.addr[i].family != (type == 2 ? AF_INET6 : AF_INET))
				fuzz_fail("address family");
		if (a.via_tcp && !tc)
			fuzz_fail("TCP without TC");
		break;
	}
	default: {
		struct dns_name_result n;

		rc = type == 3 ? dns_query_mx(r, "example.test", &n)
		    : dns_query_ptr(r, AF_INET, v4, &n);
		fz_check_common(rc, n.status, n.why);
		if (n.count > DNS_MAX_RECORDS || (n.status != DNS_OK && n.count != 0))
			fuzz_fail("name count");
		for (size_t i = 0; i < n.count; i++)
			if (n.name[i].name == NULL || strlen(n.name[i].name) > 1024)
				fuzz_fail("name");
		if (n.via_tcp && !tc)
			fuzz_fail("TCP without TC");
		dns_name_result_clear(&n);
		break;
	}
	}
}

/* LLVMFuzzerTestOneInput - one answer (UDP, then maybe TCP) per query */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool started;
	struct dns_resolver *r;
	const char *why = NULL;
	char spec[64];
	size_t ulen;
	bool tc;

	if (size < 3)
		return 0;
	if (!started) {
		fz_start();
		started = true;
	}
	ulen = ((size_t)data[1] << 8) | data[2];
	if (ulen > size - 3)
		ulen = size - 3;
	pthread_mutex_lock(&fz_lock);
	fz_flags = data[0];
	fz_udp_ans = data + 3;
	fz_udp_len = ulen;
	fz_tcp_ans = data + 3 + ulen;
	fz_tcp_len = size - 3 - ulen;
	pthread_mutex_unlock(&fz_lock);
	tc = ulen > 2 && (data[3 + 2] & 0x02) != 0;

	snprintf(spec, sizeof(spec), "127.0.0.1@%u", fz_port);
	/* short: an answer that matches nothing costs the whole timeout */
	if ((r = dns_resolver_new(spec, 30, &why)) == NULL)
		fuzz_fail(why);
	if (dns_resolver_set_attempts(r, 1, &why) < 0)
		fuzz_fail(why);
	if ((data[0] & 0x08) && dns_resolver_enable_cache(r, 16, 3600, &why) < 0)
		fuzz_fail(why);
	fz_query(r, data[0] & 0x07, tc);
	if (data[0] & 0x08)
		fz_query(r, data[0] & 0x07, tc);	/* from the cache, if kept */
	dns_resolver_free(r);
	return 0;
}
