/*++
 * NAME
 *	dns 3
 * SUMMARY
 *	small synchronous, thread-safe DNS stub client
 * DESCRIPTION
 *	See dns.h for the interface. The client is split by concern:
 *	- dns.c (this file): configuration, dns_resolver_new() and its
 *	  server list parser;
 *	- dns_transport.c: dns_exchange() asks the servers in turn (UDP with
 *	  EDNS0, TCP after TC) under one deadline;
 *	- dns_answer.c: answer walking (CNAMEs inside the answer section),
 *	  TTLs and the typed queries (TXT, A, AAAA, MX, PTR);
 *	- dns_cache.c: the optional result cache shared by all of them.
 *
 *	Everything a query uses lives on its stack or in one buffer it
 *	allocates and frees, so queries share nothing but the immutable
 *	struct dns_resolver and, when enabled, its locked cache.
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
#include "dns_priv.h"
#include "xalloc.h"

#define DNS_BLANKS	" \t\r\n"

/* dns_now_ms - monotonic milliseconds, for deadlines */
long long
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
	if (r != NULL)
		r->cache = dns_cache_free(r->cache);
	return xfree(r);
}
