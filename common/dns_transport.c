/*++
 * NAME
 *	dns_transport 3
 * SUMMARY
 *	DNS over UDP and TCP under one deadline
 * DESCRIPTION
 *	dns_exchange() asks the servers in turn (UDP with EDNS0, TCP after
 *	TC) under one deadline and hands back one NOERROR or NXDOMAIN
 *	message that ns_initparse() accepted. See dns.h (TRANSPORT) for why
 *	this is not res_nsend(). Everything a query uses lives on its stack
 *	or in the answer buffer its caller owns.
 *--*/
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "dns_priv.h"

/* Outcome of asking one server. */
enum {
	DNS_ASK_DONE,				/* usable answer in hand */
	DNS_ASK_TEMP,				/* try the others, and again */
	DNS_ASK_PERM,				/* try the others, not again */
};

/* Outcome of one socket exchange. */
enum {
	DNS_IO_OK,
	DNS_IO_TIMEOUT,
	DNS_IO_ERROR,
};

/* dns_random_id - unpredictable query id (RFC 5452 9.2) */
static unsigned
dns_random_id(void)
{
	uint16_t id;
	struct timespec ts;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
		return id;
	/* entropy pool not ready (early boot): weak, but never blocks */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned)(ts.tv_nsec ^ (ts.tv_nsec >> 16)
			  ^ (long)(uintptr_t)&ts) & 0xffff;
}

/*
 * dns_name_wire - the wire form of a name taken literally: labels split
 * at ".", every other octet (space, "%", "\\", ...) is part of its label
 * (RFC 2181 11: any binary string is a label; RFC 7208 macro expansions
 * make such names). No presentation-format escapes: ns_name_pton() would
 * read "\\" as one. One trailing dot allowed; "." alone is the root.
 * Returns the wire length, or 0 when a label is empty or over 63 octets
 * or the name over 255.
 */
static size_t
dns_name_wire(const char *name, unsigned char *wire, size_t size)
{
	size_t	n = 0, len = strlen(name);

	if (len == 1 && name[0] == '.') {
		wire[0] = 0;
		return 1;
	}
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t s = 0; s < len;) {
		size_t	e = s;

		while (e < len && name[e] != '.')
			e++;
		if (e == s || e - s > 63 || n + 1 + (e - s) + 1 > size
		    || n + 1 + (e - s) + 1 > NS_MAXCDNAME)
			return 0;
		wire[n++] = (unsigned char)(e - s);
		memcpy(wire + n, name + s, e - s);
		n += e - s;
		s = e + 1;
		if (e < len && s == len)
			return 0;		/* an empty label before the dot we cut */
	}
	wire[n++] = 0;
	return n;
}

/* dns_query_init - check name and keep its wire form */
int
dns_query_init(struct dns_query *q, const char *name, int type,
	       const char **why)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->type = type;
	if (name[0] == '\0') {
		*why = "empty domain name";
		return -1;
	}
	/* labels 1..63 octets, name <= 255 octets, taken literally */
	if ((q->wlen = dns_name_wire(name, q->wname, sizeof(q->wname))) == 0) {
		*why = "invalid domain name";
		return -1;
	}
	return 0;
}

/* dns_query_build - header, question, optional OPT (RFC 1035 4.1, RFC 6891 6.1) */
static void
dns_query_build(struct dns_query *q, bool edns)
{
	unsigned char *p = q->buf;

	q->id = dns_random_id();
	ns_put16(q->id, p);
	p[2] = 0x01;				/* RD: a stub wants recursion */
	p[3] = 0;
	ns_put16(1, p + 4);			/* QDCOUNT */
	ns_put16(0, p + 6);
	ns_put16(0, p + 8);
	ns_put16(edns ? 1 : 0, p + 10);		/* ARCOUNT */
	p += DNS_HDR_LEN;
	memcpy(p, q->wname, q->wlen);
	p += q->wlen;
	ns_put16((unsigned)q->type, p);
	ns_put16(ns_c_in, p + 2);
	p += 4;
	if (edns) {
		*p++ = 0;			/* owner: root */
		ns_put16(ns_t_opt, p);
		ns_put16(DNS_EDNS_UDP_SIZE, p + 2);
		ns_put32(0, p + 4);		/* ext. RCODE, version 0, no DO */
		ns_put16(0, p + 8);		/* no options */
		p += 10;
	}
	q->len = (size_t)(p - q->buf);
}

/* dns_reply_matches - is msg the answer to q: id, QR, opcode, question */
static bool
dns_reply_matches(const unsigned char *msg, size_t len, const struct dns_query *q)
{
	const unsigned char *qn;
	unsigned qdcount;

	if (len < DNS_HDR_LEN || ns_get16(msg) != q->id)
		return false;
	if ((msg[2] & 0x80) == 0 || (msg[2] & 0x78) != 0)
		return false;			/* not a response, or opcode */
	qdcount = ns_get16(msg + 4);
	if (qdcount == 0) {
		/*
		 * Some servers drop the question from error answers. Accept
		 * that only for RCODEs whose answer we don't use; NOERROR and
		 * NXDOMAIN must show the question they answer.
		 */
		unsigned rcode = msg[3] & 0x0f;

		return rcode == ns_r_formerr || rcode == ns_r_servfail
		    || rcode == ns_r_notimpl || rcode == ns_r_refused;
	}
	if (qdcount != 1 || len < DNS_HDR_LEN + q->wlen + 4)
		return false;
	/*
	 * The question name can't be compressed (nothing precedes it), so
	 * compare wire bytes, folding ASCII case; length bytes are <= 63 and
	 * never fold.
	 */
	qn = msg + DNS_HDR_LEN;
	for (size_t i = 0; i < q->wlen; i++) {
		unsigned a = qn[i], b = q->wname[i];

		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return false;
	}
	return ns_get16(qn + q->wlen) == (unsigned)q->type
	    && ns_get16(qn + q->wlen + 2) == ns_c_in;
}

/* dns_wait - poll fd until deadline: 1 ready (or error pending), 0 timeout, -1 error */
static int
dns_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;

	for (;;) {
		long long left = deadline - dns_now_ms();
		int	n;

		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
		/* timeout or EINTR: the loop re-reads the clock */
	}
}

/* dns_net_why - static text for a socket errno */
static const char *
dns_net_why(int err, bool tcp)
{
	if (err == ECONNREFUSED)
		return tcp ? "TCP connection refused"
		    : "connection refused (nothing listens on the server port)";
	if (err == ENETUNREACH || err == EHOSTUNREACH)
		return "server unreachable";
	if (err == EAFNOSUPPORT)
		return "address family not supported on this host";
	return tcp ? "network error (TCP)" : "network error (UDP)";
}

/* dns_udp_try - one datagram to one server; the matching answer or a failure */
static int
dns_udp_try(const struct dns_server *srv, const struct dns_query *q,
	    long long deadline, unsigned char *ans, size_t *anslen,
	    const char **why)
{
	int	fd, rc;
	ssize_t	n;

	fd = socket(srv->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = dns_net_why(errno, false);
		return DNS_IO_ERROR;
	}
	/* connected: ICMP port unreachable comes back as ECONNREFUSED */
	if (connect(fd, (const struct sockaddr *)&srv->sa, srv->salen) < 0
	    || send(fd, q->buf, q->len, 0) != (ssize_t)q->len) {
		*why = dns_net_why(errno, false);
		close(fd);
		return DNS_IO_ERROR;
	}
	for (;;) {
		if ((rc = dns_wait(fd, POLLIN, deadline)) == 0) {
			*why = "timeout";
			close(fd);
			return DNS_IO_TIMEOUT;
		}
		if (rc < 0) {
			*why = dns_net_why(errno, false);
			close(fd);
			return DNS_IO_ERROR;
		}
		n = recv(fd, ans, DNS_MAX_MSG, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			*why = dns_net_why(errno, false);
			close(fd);
			return DNS_IO_ERROR;
		}
		/* late answers and forgeries are dropped, not fatal (RFC 5452) */
		if (dns_reply_matches(ans, (size_t)n, q)) {
			*anslen = (size_t)n;
			close(fd);
			return DNS_IO_OK;
		}
	}
}

/* dns_tcp_send - write len bytes before deadline */
static int
dns_tcp_send(int fd, const unsigned char *buf, size_t len, long long deadline,
	     const char **why)
{
	while (len > 0) {
		ssize_t	n;
		int	rc;

		if ((rc = dns_wait(fd, POLLOUT, deadline)) <= 0) {
			*why = rc == 0 ? "timeout (TCP)" : "network error (TCP)";
			return rc == 0 ? DNS_IO_TIMEOUT : DNS_IO_ERROR;
		}
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			*why = dns_net_why(errno, true);
			return DNS_IO_ERROR;
		}
		buf += n;
		len -= (size_t)n;
	}
	return DNS_IO_OK;
}

/* dns_tcp_recv - read exactly len bytes before deadline */
static int
dns_tcp_recv(int fd, unsigned char *buf, size_t len, long long deadline,
	     const char **why)
{
	while (len > 0) {
		ssize_t	n;
		int	rc;

		if ((rc = dns_wait(fd, POLLIN, deadline)) <= 0) {
			*why = rc == 0 ? "timeout (TCP)" : "network error (TCP)";
			return rc == 0 ? DNS_IO_TIMEOUT : DNS_IO_ERROR;
		}
		n = recv(fd, buf, len, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			*why = dns_net_why(errno, true);
			return DNS_IO_ERROR;
		}
		if (n == 0) {
			*why = "TCP connection closed before the answer";
			return DNS_IO_ERROR;
		}
		buf += n;
		len -= (size_t)n;
	}
	return DNS_IO_OK;
}

/* dns_tcp_try - the query over TCP (RFC 7766), after a truncated UDP answer */
static int
dns_tcp_try(const struct dns_server *srv, const struct dns_query *q,
	    long long deadline, unsigned char *ans, size_t *anslen,
	    const char **why)
{
	unsigned char out[2 + sizeof(q->buf)];
	unsigned char lenbuf[2];
	int	fd, rc, err = 0;
	socklen_t errlen = sizeof(err);
	size_t	alen;

	fd = socket(srv->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*why = dns_net_why(errno, true);
		return DNS_IO_ERROR;
	}
	if (connect(fd, (const struct sockaddr *)&srv->sa, srv->salen) < 0
	    && errno != EINPROGRESS) {
		*why = dns_net_why(errno, true);
		close(fd);
		return DNS_IO_ERROR;
	}
	if ((rc = dns_wait(fd, POLLOUT, deadline)) <= 0) {
		*why = rc == 0 ? "timeout (TCP connect)" : "network error (TCP)";
		close(fd);
		return rc == 0 ? DNS_IO_TIMEOUT : DNS_IO_ERROR;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0 || err != 0) {
		*why = dns_net_why(err, true);
		close(fd);
		return DNS_IO_ERROR;
	}
	ns_put16((unsigned)q->len, out);
	memcpy(out + 2, q->buf, q->len);
	if ((rc = dns_tcp_send(fd, out, q->len + 2, deadline, why)) != DNS_IO_OK
	    || (rc = dns_tcp_recv(fd, lenbuf, 2, deadline, why)) != DNS_IO_OK) {
		close(fd);
		return rc;
	}
	alen = ns_get16(lenbuf);
	if (alen < DNS_HDR_LEN) {
		*why = "malformed answer (TCP length)";
		close(fd);
		return DNS_IO_ERROR;
	}
	if ((rc = dns_tcp_recv(fd, ans, alen, deadline, why)) != DNS_IO_OK) {
		close(fd);
		return rc;
	}
	close(fd);
	/* one query per connection: anything else is not our answer */
	if (!dns_reply_matches(ans, alen, q)) {
		*why = "TCP answer does not match the query";
		return DNS_IO_ERROR;
	}
	*anslen = alen;
	return DNS_IO_OK;
}

/* dns_rcode_why - static text for a failing RCODE */
static const char *
dns_rcode_why(int rcode)
{
	switch (rcode) {
	case ns_r_formerr:
		return "server says FORMERR";
	case ns_r_servfail:
		return "server says SERVFAIL";
	case ns_r_notimpl:
		return "server says NOTIMP";
	case ns_r_refused:
		return "server says REFUSED";
	default:
		return "server gave an unexpected RCODE";
	}
}

/* dns_ask_server - UDP, then TCP if truncated; classify the outcome */
static int
dns_ask_server(const struct dns_resolver *r, const struct dns_server *srv,
	       struct dns_query *q, bool *edns, long long try_end,
	       long long end, struct dns_exchange *x, const char **why)
{
	int	rc;

	x->via_tcp = false;
	for (;;) {
		dns_query_build(q, *edns);
		rc = dns_udp_try(srv, q, try_end, x->ans, &x->len, why);
		if (rc != DNS_IO_OK)
			return DNS_ASK_TEMP;
		x->rcode = x->ans[3] & 0x0f;
		/* RFC 6891 7: a server that predates EDNS0 says FORMERR */
		if (x->rcode == ns_r_formerr && *edns) {
			*edns = false;
			continue;
		}
		break;
	}
	if (x->ans[2] & 0x02) {			/* TC */
		long long tcp_end = dns_now_ms() + r->timeout_ms;

		if (tcp_end > end)
			tcp_end = end;
		rc = dns_tcp_try(srv, q, tcp_end, x->ans, &x->len, why);
		if (rc != DNS_IO_OK)
			return DNS_ASK_TEMP;
		x->via_tcp = true;
		x->rcode = x->ans[3] & 0x0f;
	}
	switch (x->rcode) {
	case ns_r_noerror:
	case ns_r_nxdomain:
		if (ns_initparse(x->ans, (int)x->len, &x->msg) < 0) {
			*why = "malformed answer";
			return DNS_ASK_PERM;
		}
		return DNS_ASK_DONE;
	case ns_r_servfail:
		*why = dns_rcode_why(x->rcode);
		return DNS_ASK_TEMP;
	default:
		*why = dns_rcode_why(x->rcode);
		return DNS_ASK_PERM;
	}
}

/*
 * dns_exchange - ask the servers in turn until one gives a usable answer.
 * Each try gets timeout/nserver ms, a TCP fallback up to timeout ms, and
 * nothing runs past start + timeout * attempts.
 */
void
dns_exchange(const struct dns_resolver *r, struct dns_query *q,
	     struct dns_exchange *x)
{
	long long end = dns_now_ms() + r->timeout_ms * r->attempts;
	long	per_try = r->timeout_ms / r->nserver;
	bool	dropped[DNS_MAX_SERVERS] = {false};
	bool	edns[DNS_MAX_SERVERS];
	bool	temp = false;
	const char *temp_why = "timeout", *perm_why = "no server to ask";

	if (per_try < 1)
		per_try = 1;
	for (int i = 0; i < DNS_MAX_SERVERS; i++)
		edns[i] = true;
	x->rcode = -1;
	x->via_tcp = false;
	for (int round = 0; round < r->attempts; round++) {
		for (int i = 0; i < r->nserver; i++) {
			long long now = dns_now_ms(), try_end;
			const char *why = "timeout";

			if (dropped[i])
				continue;
			if (now >= end)
				goto fail;
			try_end = now + per_try < end ? now + per_try : end;
			switch (dns_ask_server(r, &r->server[i], q, &edns[i],
					       try_end, end, x, &why)) {
			case DNS_ASK_DONE:
				x->status = DNS_OK;
				x->why = "answer received";
				return;
			case DNS_ASK_TEMP:
				temp = true;
				temp_why = why;
				break;
			default:
				dropped[i] = true;
				perm_why = why;
				break;
			}
		}
	}
fail:
	x->via_tcp = false;
	x->status = temp ? DNS_TEMPFAIL : DNS_PERMFAIL;
	x->why = temp ? temp_why : perm_why;
}
