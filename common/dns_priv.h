/*++
 * NAME
 *	dns_priv 3h
 * SUMMARY
 *	what the files of the DNS client share (not for other modules)
 * DESCRIPTION
 *	The client is split by concern: dns.c (configuration), dns_transport.c
 *	(UDP/TCP exchanges under a deadline), dns_answer.c (answer walking and
 *	the typed queries), dns_cache.c (the optional result cache). Only
 *	dns.h is public.
 *--*/
#ifndef POSTMILL_DNS_PRIV_H
#define POSTMILL_DNS_PRIV_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define DNS_MAX_MSG	65535	/* RFC 1035 4.2.2: TCP length is 16 bits */
#define DNS_HDR_LEN	12
#define DNS_STR2(x)	#x
#define DNS_STR(x)	DNS_STR2(x)

struct dns_server {
	struct sockaddr_storage sa;
	socklen_t	salen;
};

struct dns_cache;

struct dns_resolver {
	struct dns_server server[DNS_MAX_SERVERS];
	int		nserver;
	long		timeout_ms;		/* one round over all servers */
	int		attempts;		/* rounds */
	char		desc[DNS_MAX_SERVERS * (NI_MAXHOST + 10)];
	struct dns_cache *cache;		/* NULL: no cache; locked inside */
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

/* What the transport (or the cache) hands to the answer walker. */
struct dns_exchange {
	unsigned char	*ans;			/* DNS_MAX_MSG bytes */
	size_t		len;
	ns_msg		msg;			/* parsed ans (status DNS_OK) */
	int		rcode;			/* last seen; -1: none */
	bool		via_tcp;
	bool		cached;			/* ans came from the cache */
	long		ttl_left;		/* cached: seconds left */
	enum dns_status	status;			/* OK: NOERROR or NXDOMAIN */
	const char	*why;
};

long long dns_now_ms(void);
int	dns_query_init(struct dns_query *q, const char *name, int type,
		       const char **why);
void	dns_exchange(const struct dns_resolver *r, struct dns_query *q,
		     struct dns_exchange *x);
bool	dns_msg_ttl(ns_msg *msg, int rcode, unsigned *ttl);

bool	dns_cache_get(struct dns_cache *c, const struct dns_query *q,
		      struct dns_exchange *x);
void	dns_cache_put(struct dns_cache *c, const struct dns_query *q,
		      struct dns_exchange *x);
struct dns_cache *dns_cache_free(struct dns_cache *c);

#endif
