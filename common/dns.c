/*++
 * NAME
 *	dns 3
 * SUMMARY
 *	small synchronous, thread-safe DNS stub client
 * DESCRIPTION
 *	See dns.h for the interface and the reasons for doing our own UDP
 *	and TCP exchanges. This file has three layers:
 *	- configuration: dns_resolver_new() and its server list parser;
 *	- transport: dns_exchange() asks the servers in turn (UDP with EDNS0,
 *	  TCP after TC) under one deadline and hands back one NOERROR or
 *	  NXDOMAIN message that ns_initparse() accepted;
 *	- answer walking: dns_walk_answer() follows CNAMEs inside the answer
 *	  section and calls a per-type function for each record owned by the
 *	  final name. A new type (A, AAAA, MX) needs only its result struct,
 *	  its record function and a dns_query_<type>() of a dozen lines.
 *
 *	Everything a query uses lives on its stack or in one buffer it
 *	allocates and frees, so queries share nothing but the immutable
 *	struct dns_resolver.
 *--*/
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "xalloc.h"

#define DNS_MAX_MSG	65535	/* RFC 1035 4.2.2: TCP length is 16 bits */
#define DNS_HDR_LEN	12
#define DNS_BLANKS	" \t\r\n"
#define DNS_STR2(x)	#x
#define DNS_STR(x)	DNS_STR2(x)

struct dns_server {
	struct sockaddr_storage sa;
	socklen_t	salen;
};

struct dns_resolver {
	struct dns_server server[DNS_MAX_SERVERS];
	int		nserver;
	long		timeout_ms;		/* one round over all servers */
	int		attempts;		/* rounds */
	char		desc[DNS_MAX_SERVERS * (NI_MAXHOST + 10)];
};

/* One query on the wire: rebuilt for each try (fresh id, EDNS0 or not). */
struct dns_query {
	const char	*name;			/* as the caller gave it */
	unsigned char	wname[NS_MAXCDNAME];	/* uncompressed wire form */
	size_t		wlen;
	int		type;
	unsigned	id;
	unsigned char	buf[512];
	size_t		len;
};

/* What the transport hands to the answer walker. */
struct dns_exchange {
	unsigned char	*ans;			/* DNS_MAX_MSG bytes */
	size_t		len;
	ns_msg		msg;			/* parsed ans (status DNS_OK) */
	int		rcode;			/* last seen; -1: none */
	bool		via_tcp;
	enum dns_status	status;			/* OK: NOERROR or NXDOMAIN */
	const char	*why;
};

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

/* dns_now_ms - monotonic milliseconds, for deadlines */
static long long
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dns_status_str - name a status for log lines */
const char *
dns_status_str(int status)
{
	switch (status) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_TEMPFAIL:
		return "tempfail";
	case DNS_PERMFAIL:
		return "permfail";
	default:
		return "unknown";
	}
}

/* dns_parse_server - one "ADDR[@PORT]" token of len bytes */
static int
dns_parse_server(const char *tok, size_t len, struct dns_server *out,
		 const char **why)
{
	char		host[NI_MAXHOST];
	const char	*at;
	size_t		hostlen;
	unsigned long	port = 53;
	struct addrinfo	hints, *ai;

	at = memrchr(tok, '@', len);
	hostlen = at != NULL ? (size_t)(at - tok) : len;
	if (hostlen == 0) {
		*why = "missing address before '@'";
		return -1;
	}
	if (hostlen >= sizeof(host)) {
		*why = "server address too long";
		return -1;
	}
	if (at != NULL) {
		const char *p = at + 1, *end = tok + len;

		if (p == end || end - p > 5) {
			*why = "bad port after '@' (want 1-65535)";
			return -1;
		}
		for (port = 0; p < end; p++) {
			if (*p < '0' || *p > '9') {
				*why = "bad port after '@' (want 1-65535)";
				return -1;
			}
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port < 1 || port > 65535) {
			*why = "bad port after '@' (want 1-65535)";
			return -1;
		}
	}
	memcpy(host, tok, hostlen);
	host[hostlen] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
		const char *colon = strchr(host, ':');

		if (colon != NULL && strchr(colon + 1, ':') == NULL)
			*why = "write ADDR@PORT, not ADDR:PORT";
		else if (host[0] == '[')
			*why = "write IPv6 addresses without brackets (::1@53)";
		else
			*why = "not a numeric IPv4 or IPv6 address";
		return -1;
	}
	if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
	    || ai->ai_addrlen > sizeof(out->sa)) {
		freeaddrinfo(ai);
		*why = "not a numeric IPv4 or IPv6 address";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->sa, ai->ai_addr, ai->ai_addrlen);
	out->salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (out->sa.ss_family == AF_INET)
		((struct sockaddr_in *)&out->sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&out->sa)->sin6_port = htons((uint16_t)port);
	return 0;
}

/* dns_parse_servers - "ADDR[@PORT][, ADDR[@PORT]...]", commas and/or blanks */
static int
dns_parse_servers(struct dns_resolver *r, const char *s, const char **why)
{
	const char *p = s;
	bool	after_comma = false;

	for (;;) {
		size_t	len;

		p += strspn(p, DNS_BLANKS);
		if (*p == '\0') {
			if (after_comma) {
				*why = "empty server in list (stray comma)";
				return -1;
			}
			return 0;
		}
		if (*p == ',') {
			*why = "empty server in list (stray comma)";
			return -1;
		}
		len = strcspn(p, "," DNS_BLANKS);
		if (r->nserver == DNS_MAX_SERVERS) {
			*why = "more than " DNS_STR(DNS_MAX_SERVERS) " servers";
			return -1;
		}
		if (dns_parse_server(p, len, &r->server[r->nserver], why) < 0)
			return -1;
		r->nserver++;
		p += len;
		p += strspn(p, DNS_BLANKS);
		after_comma = (*p == ',');
		if (after_comma)
			p++;
	}
}

/*
 * dns_system_servers - the nameservers of /etc/resolv.conf, as glibc reads
 * them. res_ninit() keeps IPv4 servers in nsaddr_list[] and IPv6 ones in
 * _u._ext.nsaddrs[] with nsaddr_list[i].sin_family == 0 (glibc's own
 * res_send.c get_nsaddr() reads them the same way). Read once, at setup.
 */
static int
dns_system_servers(struct dns_resolver *r, const char **why)
{
	struct __res_state rs;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		*why = "cannot read the system resolver configuration";
		return -1;
	}
	for (int i = 0; i < rs.nscount && r->nserver < DNS_MAX_SERVERS; i++) {
		struct dns_server *s = &r->server[r->nserver];

		memset(s, 0, sizeof(*s));
		if (rs.nsaddr_list[i].sin_family == AF_INET) {
			memcpy(&s->sa, &rs.nsaddr_list[i], sizeof(struct sockaddr_in));
			s->salen = sizeof(struct sockaddr_in);
			r->nserver++;
		} else if (rs._u._ext.nsaddrs[i] != NULL
			   && rs._u._ext.nsaddrs[i]->sin6_family == AF_INET6) {
			memcpy(&s->sa, rs._u._ext.nsaddrs[i],
			       sizeof(struct sockaddr_in6));
			s->salen = sizeof(struct sockaddr_in6);
			r->nserver++;
		}
	}
	res_nclose(&rs);
	if (r->nserver == 0) {
		*why = "no usable nameserver in the system resolver configuration";
		return -1;
	}
	return 0;
}

/* dns_describe - "ADDR@PORT, ..." into r->desc */
static void
dns_describe(struct dns_resolver *r)
{
	size_t	used = 0;

	r->desc[0] = '\0';
	for (int i = 0; i < r->nserver; i++) {
		const struct dns_server *s = &r->server[i];
		char	host[NI_MAXHOST];
		unsigned port;
		int	n;

		if (getnameinfo((const struct sockaddr *)&s->sa, s->salen,
				host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(host, sizeof(host), "?");
		port = s->sa.ss_family == AF_INET
		    ? ntohs(((const struct sockaddr_in *)&s->sa)->sin_port)
		    : ntohs(((const struct sockaddr_in6 *)&s->sa)->sin6_port);
		n = snprintf(r->desc + used, sizeof(r->desc) - used, "%s%s@%u",
			     i > 0 ? ", " : "", host, port);
		if (n < 0 || (size_t)n >= sizeof(r->desc) - used)
			break;			/* cannot happen: sized for 3 */
		used += (size_t)n;
	}
}

/* dns_resolver_new - servers to ask and how long to wait; NULL + *why on error */
struct dns_resolver *
dns_resolver_new(const char *servers, long timeout_ms, const char **why)
{
	struct dns_resolver *r;
	int	rc;

	if (timeout_ms < 1 || timeout_ms > DNS_MAX_TIMEOUT_MS) {
		*why = "timeout must be between 1 and "
		    DNS_STR(DNS_MAX_TIMEOUT_MS) " ms";
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->timeout_ms = timeout_ms;
	r->attempts = DNS_DEFAULT_ATTEMPTS;
	if (servers == NULL || servers[strspn(servers, DNS_BLANKS)] == '\0')
		rc = dns_system_servers(r, why);
	else
		rc = dns_parse_servers(r, servers, why);
	if (rc < 0)
		return dns_resolver_free(r);
	dns_describe(r);
	return r;
}

/* dns_resolver_set_attempts - rounds over the servers; before sharing r */
int
dns_resolver_set_attempts(struct dns_resolver *r, int attempts, const char **why)
{
	if (attempts < 1 || attempts > DNS_MAX_ATTEMPTS) {
		*why = "attempts must be between 1 and " DNS_STR(DNS_MAX_ATTEMPTS);
		return -1;
	}
	r->attempts = attempts;
	return 0;
}

/* dns_resolver_servers - "ADDR@PORT, ..."; borrowed from r */
const char *
dns_resolver_servers(const struct dns_resolver *r)
{
	return r->desc;
}

/* dns_resolver_max_wait_ms - upper bound of one query's wall time */
long
dns_resolver_max_wait_ms(const struct dns_resolver *r)
{
	return r->timeout_ms * r->attempts;
}

/* dns_resolver_free - release r; takes NULL, returns NULL */
struct dns_resolver *
dns_resolver_free(struct dns_resolver *r)
{
	return xfree(r);
}

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

/* dns_query_init - check name and keep its wire form */
static int
dns_query_init(struct dns_query *q, const char *name, int type,
	       const char **why)
{
	size_t	i;

	memset(q, 0, sizeof(*q));
	q->name = name;
	q->type = type;
	if (name[0] == '\0') {
		*why = "empty domain name";
		return -1;
	}
	/* labels <= 63 bytes, name <= 255 bytes, escapes decoded */
	if (ns_name_pton(name, q->wname, sizeof(q->wname)) < 0) {
		*why = "invalid domain name";
		return -1;
	}
	for (i = 0; i < sizeof(q->wname) && q->wname[i] != 0; i += q->wname[i] + 1)
		 /* skip labels */ ;
	if (i >= sizeof(q->wname)) {
		*why = "invalid domain name";
		return -1;
	}
	q->wlen = i + 1;
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
static void
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

/* dns_wire_eq - same uncompressed wire-format name, ASCII case folded */
static bool
dns_wire_eq(const unsigned char *a, const unsigned char *b)
{
	size_t	i = 0;

	while (i < NS_MAXCDNAME) {
		unsigned len = a[i];

		if (len != b[i])
			return false;
		if (len == 0)
			return true;
		if (len > 63 || i + 1 + len >= NS_MAXCDNAME)
			return false;
		for (size_t j = i + 1; j <= i + len; j++) {
			unsigned x = a[j], y = b[j];

			if (x >= 'A' && x <= 'Z')
				x += 'a' - 'A';
			if (y >= 'A' && y <= 'Z')
				y += 'a' - 'A';
			if (x != y)
				return false;
		}
		i += 1 + len;
	}
	return false;
}

/* dns_owner_is - is the record's owner (presentation form) the wire name */
static bool
dns_owner_is(const ns_rr *rr, const unsigned char *wire)
{
	unsigned char owner[NS_MAXCDNAME];

	return ns_name_pton(ns_rr_name(*rr), owner, sizeof(owner)) >= 0
	    && dns_wire_eq(owner, wire);
}

/*
 * dns_walk_answer - call fn for each qtype/IN answer record owned by the
 * query name or by the end of a CNAME chain starting there (RFC 1034
 * 3.6.2; records may come in any order). Records owned by other names are
 * ignored. Returns the number of records given to fn, or -1 with *why.
 */
static int
dns_walk_answer(ns_msg *msg, const struct dns_query *q,
		int (*fn) (const ns_rr *, void *, const char **),
		void *ctx, const char **why)
{
	unsigned char target[NS_MAXCDNAME];
	int	nan = ns_msg_count(*msg, ns_s_an), found = 0;
	ns_rr	rr;

	memcpy(target, q->wname, q->wlen);
	for (int hop = 0; q->type != ns_t_cname; hop++) {
		bool	moved = false;

		for (int i = 0; i < nan; i++) {
			unsigned char next[NS_MAXCDNAME];
			int	n;

			if (ns_parserr(msg, ns_s_an, i, &rr) < 0) {
				*why = "malformed answer record";
				return -1;
			}
			if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in
			    || !dns_owner_is(&rr, target))
				continue;
			n = ns_name_unpack(ns_msg_base(*msg), ns_msg_end(*msg),
					   ns_rr_rdata(rr), next, sizeof(next));
			if (n < 0 || n != ns_rr_rdlen(rr)) {
				*why = "malformed CNAME record";
				return -1;
			}
			memcpy(target, next, sizeof(target));
			moved = true;
			break;
		}
		if (!moved)
			break;
		if (hop == DNS_MAX_CNAME) {
			*why = "CNAME loop or chain longer than "
			    DNS_STR(DNS_MAX_CNAME);
			return -1;
		}
	}
	for (int i = 0; i < nan; i++) {
		if (ns_parserr(msg, ns_s_an, i, &rr) < 0) {
			*why = "malformed answer record";
			return -1;
		}
		if ((int)ns_rr_type(rr) != q->type || ns_rr_class(rr) != ns_c_in
		    || !dns_owner_is(&rr, target))
			continue;
		if (fn(&rr, ctx, why) < 0)
			return -1;
		found++;
	}
	return found;
}

/* dns_txt_add - one TXT record: its character-strings, concatenated */
static int
dns_txt_add(const ns_rr *rr, void *ctx, const char **why)
{
	struct dns_txt_result *out = ctx;
	const unsigned char *p = ns_rr_rdata(*rr);
	const unsigned char *end = p + ns_rr_rdlen(*rr);
	size_t	total = 0;
	char	*data, *w;

	/* RFC 1035 3.3.14: one or more <character-string>s filling RDATA */
	for (const unsigned char *s = p; s < end; s += 1 + *s) {
		if ((size_t)(end - s) < 1 + (size_t)*s) {
			*why = "malformed TXT record";
			return -1;
		}
		total += *s;
	}
	if (total > DNS_MAX_TXT_LEN) {
		*why = "TXT record longer than " DNS_STR(DNS_MAX_TXT_LEN) " bytes";
		return -1;
	}
	if (out->count == DNS_MAX_RECORDS) {
		*why = "more than " DNS_STR(DNS_MAX_RECORDS) " TXT records";
		return -1;
	}
	w = data = xmalloc(total + 1);
	for (const unsigned char *s = p; s < end; s += 1 + *s) {
		memcpy(w, s + 1, *s);
		w += *s;
	}
	*w = '\0';
	out->txt[out->count].data = data;
	out->txt[out->count].len = total;
	out->count++;
	return 0;
}

/* dns_query_txt - TXT records of name; see dns.h */
int
dns_query_txt(const struct dns_resolver *r, const char *name,
	      struct dns_txt_result *out)
{
	struct dns_query q;
	struct dns_exchange x;
	const char *why = "invalid domain name";
	int	n;

	memset(out, 0, sizeof(*out));
	out->rcode = -1;
	if (dns_query_init(&q, name, ns_t_txt, &why) < 0) {
		out->status = DNS_PERMFAIL;
		out->why = why;
		return out->status;
	}
	memset(&x, 0, sizeof(x));
	x.ans = xmalloc(DNS_MAX_MSG);
	dns_exchange(r, &q, &x);
	out->rcode = x.rcode;
	out->via_tcp = x.via_tcp;
	out->status = x.status;
	out->why = x.why;
	if (x.status != DNS_OK) {
		/* nothing else to do */
	} else if (x.rcode == ns_r_nxdomain) {
		out->status = DNS_NXDOMAIN;
		out->why = "no such domain (NXDOMAIN)";
	} else if ((n = dns_walk_answer(&x.msg, &q, dns_txt_add,
					out, &why)) < 0) {
		dns_txt_result_clear(out);
		out->status = DNS_PERMFAIL;
		out->why = why;
	} else if (n == 0) {
		out->status = DNS_NODATA;
		out->why = "no TXT record at that name";
	}
	xfree(x.ans);
	return out->status;
}

/* dns_txt_result_clear - free the records; other fields stay */
void
dns_txt_result_clear(struct dns_txt_result *out)
{
	if (out == NULL)
		return;
	for (size_t i = 0; i < out->count && i < DNS_MAX_RECORDS; i++) {
		out->txt[i].data = xfree(out->txt[i].data);
		out->txt[i].len = 0;
	}
	out->count = 0;
}
