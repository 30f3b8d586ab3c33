/*++
 * NAME
 *	dns 3h
 * SUMMARY
 *	small synchronous, thread-safe DNS stub client with an optional cache
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	struct dns_resolver *dns_resolver_new(const char *servers,
 *		long timeout_ms, const char **why);
 *	int dns_resolver_set_attempts(struct dns_resolver *r, int attempts,
 *		const char **why);
 *	const char *dns_resolver_servers(const struct dns_resolver *r);
 *	long dns_resolver_max_wait_ms(const struct dns_resolver *r);
 *	struct dns_resolver *dns_resolver_free(struct dns_resolver *r);
 *
 *	int dns_query_txt(const struct dns_resolver *r, const char *name,
 *		struct dns_txt_result *out);
 *	void dns_txt_result_clear(struct dns_txt_result *out);
 *	int dns_query_a(const struct dns_resolver *r, const char *name,
 *		struct dns_addr_result *out);
 *	int dns_query_aaaa(const struct dns_resolver *r, const char *name,
 *		struct dns_addr_result *out);
 *	int dns_query_mx(const struct dns_resolver *r, const char *name,
 *		struct dns_name_result *out);
 *	int dns_query_ptr(const struct dns_resolver *r, int family,
 *		const unsigned char *addr, struct dns_name_result *out);
 *	void dns_name_result_clear(struct dns_name_result *out);
 *	const char *dns_status_str(int status);
 *
 *	int dns_resolver_enable_cache(struct dns_resolver *r,
 *		size_t max_entries, unsigned max_ttl, const char **why);
 *	void dns_resolver_cache_stats(const struct dns_resolver *r,
 *		struct dns_cache_stats *st);
 * DESCRIPTION
 *	dns_resolver_new() reads the servers to ask. NULL, "" or only blanks
 *	means the system's /etc/resolv.conf (read once, here, with
 *	res_ninit()). Otherwise "ADDR[@PORT][, ADDR[@PORT]...]": at most
 *	DNS_MAX_SERVERS numeric IPv4 or IPv6 addresses separated by commas
 *	and/or blanks, port 53 by default ("127.0.0.1@5353, ::1@5353").
 *	timeout_ms (1..DNS_MAX_TIMEOUT_MS) is the time one round over all the
 *	servers may take; a query makes at most "attempts" rounds (default
 *	DNS_DEFAULT_ATTEMPTS), so no query lasts longer than
 *	dns_resolver_max_wait_ms() = timeout_ms * attempts, UDP, TCP fallback
 *	and retries included. On error it returns NULL and sets *why to a
 *	static message. dns_resolver_set_attempts() (1..DNS_MAX_ATTEMPTS) must
 *	be called before the resolver is shared. dns_resolver_servers() gives
 *	the servers as "ADDR@PORT, ..." for log lines; borrowed, valid until
 *	dns_resolver_free(), which takes NULL and returns NULL.
 *
 *	dns_query_txt() asks for the TXT records of name (trailing dot
 *	optional, no search list: the name is always absolute). It returns
 *	out->status, one of:
 *	DNS_OK		out->count >= 1 records in out->txt[]: each the
 *			concatenation of one record's character-strings
 *			(RFC 1035 3.3.14; RFC 6376 3.6.2.2 for DKIM keys),
 *			with its length since TXT data may hold NUL bytes,
 *			plus a terminating NUL not counted in len.
 *	DNS_NXDOMAIN	the name does not exist.
 *	DNS_NODATA	the name exists but has no TXT record.
 *	DNS_TEMPFAIL	timeout, SERVFAIL, network error: retry later.
 *	DNS_PERMFAIL	REFUSED, NOTIMP, FORMERR, a malformed answer, more
 *			than DNS_MAX_RECORDS records or one longer than
 *			DNS_MAX_TXT_LEN, an invalid name: retrying won't help.
 *	out->rcode is the RCODE of the answer used, or of the last answer
 *	seen when every server failed (-1: no answer at all);
 *	out->via_tcp says the answer came over TCP after a truncated UDP one,
 *	out->why is a short static text for log lines. CNAMEs inside the
 *	answer are followed (at most DNS_MAX_CNAME); answer records owned by
 *	any other name are ignored. The caller owns *out and releases what
 *	the query allocated with dns_txt_result_clear() (idempotent); a query
 *	overwrites *out without freeing what it held.
 *
 *	All results carry ttl: for DNS_OK the smallest TTL of the answer
 *	records, for DNS_NXDOMAIN and DNS_NODATA the negative TTL of RFC
 *	2308 5 (the smaller of the SOA record's TTL and its MINIMUM field;
 *	0 without a SOA), and 0 otherwise. An answer from the cache gives
 *	the time it has left.
 *
 *	dns_query_a() and dns_query_aaaa() ask for the A (RFC 1035 3.4.1) or
 *	AAAA (RFC 3596) records of name, into out->addr[] (family AF_INET
 *	with 4 bytes, or AF_INET6 with 16, network order). More than
 *	DNS_MAX_ADDRS records is DNS_PERMFAIL.
 *
 *	dns_query_mx() asks for the MX records of name (RFC 1035 3.3.9):
 *	out->name[i].name is the exchange in presentation form without the
 *	trailing dot ("" for the root, the RFC 7505 null MX), pref its
 *	preference, in answer order. dns_query_ptr() asks for the PTR records
 *	of the reverse name of addr (family AF_INET: 4 bytes, in-addr.arpa;
 *	AF_INET6: 16 bytes, ip6.arpa nibbles, RFC 3596 2.5). Both keep at
 *	most DNS_MAX_RECORDS names and set out->truncated when there were
 *	more (RFC 7208 4.6.4 uses only the first ten anyway). The names are
 *	allocated: release them with dns_name_result_clear() (idempotent).
 *
 *	dns_status_str() names a status for log lines ("nxdomain").
 * CACHE
 *	dns_resolver_enable_cache() gives r a cache of at most max_entries
 *	answers (1..DNS_MAX_CACHE_ENTRIES), each kept at most max_ttl
 *	seconds (1..DNS_MAX_CACHE_TTL). Call it before r is shared. Every
 *	typed query then looks there first, dns_query_txt() included. What
 *	is kept is the answer message as the server sent it (so CNAME
 *	chains and TTLs read the same as fresh ones), for the smallest TTL of
 *	its answer records; NXDOMAIN and NODATA answers for their negative
 *	TTL (RFC 2308 5), and not at all without a SOA record. Timeouts,
 *	SERVFAIL and other failures are never cached: the next query asks
 *	again. Answers longer than DNS_CACHE_MAX_MSG bytes are not kept.
 *	When full, the least recently used entry goes (expired ones first
 *	when met). One mutex guards the cache, held only to copy a message
 *	in or out. dns_resolver_cache_stats() reads the counters (for tests
 *	and log lines); all zero without a cache.
 * TRANSPORT
 *	The client does its own UDP and TCP exchanges instead of res_nsend():
 *	glibc counts res_state timeouts in whole seconds, its TCP fallback
 *	(send_vc) blocks in connect() and read() without any timeout, and
 *	IPv6 servers need the private _u._ext fields of struct __res_state.
 *	Here each try has a millisecond deadline (poll), a fresh socket and
 *	kernel-chosen source port, a random query id, and an answer is taken
 *	only if its id, QR, opcode and question match the query (late or
 *	forged datagrams are dropped and the wait goes on). Queries carry
 *	EDNS0 (RFC 6891) with a DNS_EDNS_UDP_SIZE buffer, so a 4096-bit RSA
 *	DKIM key fits in one datagram; larger answers come back truncated
 *	(TC) and are asked again over TCP to the same server. A FORMERR to an
 *	EDNS0 query is retried once without EDNS0 (RFC 6891 7). Answers are
 *	parsed with ns_initparse()/ns_parserr().
 *
 *	Within a round each server gets timeout_ms / nservers. SERVFAIL,
 *	timeouts and network errors move to the next server and are retried
 *	in the next round; REFUSED, NOTIMP, FORMERR and malformed answers
 *	move on and drop that server for the rest of the query. When no
 *	server gives an answer the status is DNS_TEMPFAIL if any failure was
 *	temporary, else DNS_PERMFAIL.
 * THREAD SAFETY
 *	A resolver is immutable once built (after set_attempts and
 *	enable_cache): any number of threads may query through one resolver
 *	at once. A query holds no socket beyond its own call and no lock but
 *	the cache's, briefly.
 * BOUNDS
 *	Messages up to 65535 bytes (the DNS maximum over TCP), at most
 *	DNS_MAX_RECORDS TXT records of at most DNS_MAX_TXT_LEN bytes each,
 *	DNS_MAX_ADDRS addresses, DNS_MAX_RECORDS names.
 *--*/
#ifndef POSTMILL_DNS_H
#define POSTMILL_DNS_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_MAX_SERVERS		3	/* as glibc's MAXNS */
#define DNS_DEFAULT_ATTEMPTS	2	/* rounds over the servers */
#define DNS_MAX_ATTEMPTS	5
#define DNS_MAX_TIMEOUT_MS	60000L
#define DNS_MAX_RECORDS		32	/* per answer, per type */
#define DNS_MAX_TXT_LEN		8192	/* an 8192-bit RSA key record is ~1.4k */
#define DNS_MAX_CNAME		8	/* CNAME hops followed in one answer */
#define DNS_EDNS_UDP_SIZE	1232	/* DNS flag day 2020: no IP fragments */
#define DNS_MAX_ADDRS		128	/* A/AAAA records per answer */
#define DNS_MAX_CACHE_ENTRIES	1000000
#define DNS_MAX_CACHE_TTL	86400	/* seconds */
#define DNS_CACHE_MAX_MSG	16384	/* larger answers are not cached */

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,
	DNS_NODATA,
	DNS_TEMPFAIL,
	DNS_PERMFAIL,
};

struct dns_resolver;

struct dns_txt {
	char		*data;		/* len bytes + NUL; may hold NULs */
	size_t		 len;
};

struct dns_txt_result {
	enum dns_status	 status;
	int		 rcode;		/* of the answer used/last seen; -1 */
	bool		 via_tcp;	/* answer came over TCP (TC on UDP) */
	const char	*why;		/* static, for log lines */
	size_t		 count;		/* records in txt[] (DNS_OK only) */
	unsigned	 ttl;		/* seconds; see DESCRIPTION */
	struct dns_txt	 txt[DNS_MAX_RECORDS];
};

struct dns_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order; 4 bytes for IPv4 */
};

struct dns_addr_result {
	enum dns_status	 status;
	int		 rcode;
	bool		 via_tcp;
	const char	*why;
	unsigned	 ttl;
	size_t		 count;
	struct dns_addr	 addr[DNS_MAX_ADDRS];
};

struct dns_name {
	unsigned	 pref;		/* MX preference; 0 for PTR */
	char		*name;		/* presentation form, no final dot */
};

struct dns_name_result {
	enum dns_status	 status;
	int		 rcode;
	bool		 via_tcp;
	const char	*why;
	unsigned	 ttl;
	bool		 truncated;	/* more than DNS_MAX_RECORDS names */
	size_t		 count;
	struct dns_name	 name[DNS_MAX_RECORDS];
};

struct dns_cache_stats {
	unsigned long	 hits, misses, inserts, evictions;
	size_t		 entries;
};

struct dns_resolver *dns_resolver_new(const char *servers, long timeout_ms,
				      const char **why);
int	dns_resolver_set_attempts(struct dns_resolver *r, int attempts,
				  const char **why);
const char *dns_resolver_servers(const struct dns_resolver *r);
long	dns_resolver_max_wait_ms(const struct dns_resolver *r);
struct dns_resolver *dns_resolver_free(struct dns_resolver *r);

int	dns_query_txt(const struct dns_resolver *r, const char *name,
		      struct dns_txt_result *out);
void	dns_txt_result_clear(struct dns_txt_result *out);
int	dns_query_a(const struct dns_resolver *r, const char *name,
		    struct dns_addr_result *out);
int	dns_query_aaaa(const struct dns_resolver *r, const char *name,
		       struct dns_addr_result *out);
int	dns_query_mx(const struct dns_resolver *r, const char *name,
		     struct dns_name_result *out);
int	dns_query_ptr(const struct dns_resolver *r, int family,
		      const unsigned char *addr, struct dns_name_result *out);
void	dns_name_result_clear(struct dns_name_result *out);
int	dns_resolver_enable_cache(struct dns_resolver *r, size_t max_entries,
				  unsigned max_ttl, const char **why);
void	dns_resolver_cache_stats(const struct dns_resolver *r,
				 struct dns_cache_stats *st);
const char *dns_status_str(int status);

#endif
