/*++
 * NAME
 *	dns_answer 3
 * SUMMARY
 *	DNS answer walking, TTLs and the typed queries
 * DESCRIPTION
 *	dns_lookup() is the path every typed query takes: the cache (when
 *	enabled), else dns_exchange(); then NXDOMAIN, NODATA or a walk over
 *	the answer records owned by the query name or the end of its CNAME
 *	chain. A type needs only its result struct and a record function.
 *	See dns.h for the interface.
 *--*/
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_priv.h"
#include "xalloc.h"

/* What every typed result shares; copied into the result's own fields. */
struct dns_meta {
	enum dns_status	status;
	int		rcode;
	bool		via_tcp;
	const char	*why;
	unsigned	ttl;
};

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
 * ignored. Returns the number of records given to fn, or -1 with *why;
 * *ttl is the smallest TTL of those records and the CNAMEs followed.
 */
static int
dns_walk_answer(ns_msg *msg, const struct dns_query *q,
		int (*fn) (ns_msg *, const ns_rr *, void *, const char **),
		void *ctx, unsigned *ttl, const char **why)
{
	unsigned char target[NS_MAXCDNAME];
	int	nan = ns_msg_count(*msg, ns_s_an), found = 0;
	ns_rr	rr;

	*ttl = UINT32_MAX;
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
			if (ns_rr_ttl(rr) < *ttl)
				*ttl = ns_rr_ttl(rr);
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
		if (fn(msg, &rr, ctx, why) < 0)
			return -1;
		if (ns_rr_ttl(rr) < *ttl)
			*ttl = ns_rr_ttl(rr);
		found++;
	}
	return found;
}

/* dns_txt_add - one TXT record: its character-strings, concatenated */
static int
dns_txt_add(ns_msg *msg, const ns_rr *rr, void *ctx, const char **why)
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


/*
 * dns_msg_ttl - how long an answer may be kept: the smallest answer TTL,
 * or for NXDOMAIN and empty answers the negative TTL of RFC 2308 5 (SOA
 * TTL capped by its MINIMUM). False when there is no SOA to say it.
 */
bool
dns_msg_ttl(ns_msg *msg, int rcode, unsigned *ttl)
{
	int	nan = ns_msg_count(*msg, ns_s_an);
	int	nns = ns_msg_count(*msg, ns_s_ns);
	ns_rr	rr;

	if (rcode != ns_r_nxdomain && nan > 0) {
		*ttl = UINT32_MAX;
		for (int i = 0; i < nan; i++) {
			if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
				return false;
			if (ns_rr_ttl(rr) < *ttl)
				*ttl = ns_rr_ttl(rr);
		}
		return true;
	}
	for (int i = 0; i < nns; i++) {
		unsigned minimum;

		if (ns_parserr(msg, ns_s_ns, i, &rr) < 0)
			return false;
		if (ns_rr_type(rr) != ns_t_soa || ns_rr_rdlen(rr) < 20)
			continue;
		/* MINIMUM is the last of the five 32-bit fields (RFC 1035 3.3.13) */
		minimum = ns_get32(ns_rr_rdata(rr) + ns_rr_rdlen(rr) - 4);
		*ttl = ns_rr_ttl(rr) < minimum ? ns_rr_ttl(rr) : minimum;
		return true;
	}
	return false;
}

/*
 * dns_lookup - ask (cache first), then classify: DNS_OK with fn called
 * for each record, DNS_NXDOMAIN, DNS_NODATA, or a failure. On a walk
 * failure clear(ctx) frees what fn kept.
 */
static int
dns_lookup(const struct dns_resolver *r, const char *name, int type,
	   int (*fn) (ns_msg *, const ns_rr *, void *, const char **), void *ctx,
	   void (*clear) (void *), const char *nodata_why, struct dns_meta *m)
{
	struct dns_query q;
	struct dns_exchange x;
	const char *why = "invalid domain name";
	unsigned ttl;
	int	n;

	memset(m, 0, sizeof(*m));
	m->rcode = -1;
	if (dns_query_init(&q, name, type, &why) < 0) {
		m->status = DNS_PERMFAIL;
		m->why = why;
		return m->status;
	}
	memset(&x, 0, sizeof(x));
	x.ans = xmalloc(DNS_MAX_MSG);
	if (r->cache == NULL || !dns_cache_get(r->cache, &q, &x)) {
		dns_exchange(r, &q, &x);
		if (r->cache != NULL && x.status == DNS_OK)
			dns_cache_put(r->cache, &q, &x);
	}
	m->rcode = x.rcode;
	m->via_tcp = x.via_tcp;
	m->status = x.status;
	m->why = x.why;
	if (x.status != DNS_OK) {
		/* nothing else to do */
	} else if (x.rcode == ns_r_nxdomain) {
		m->status = DNS_NXDOMAIN;
		m->why = "no such domain (NXDOMAIN)";
		if (dns_msg_ttl(&x.msg, x.rcode, &ttl))
			m->ttl = ttl;
	} else if ((n = dns_walk_answer(&x.msg, &q, fn, ctx, &ttl, &why)) < 0) {
		clear(ctx);
		m->status = DNS_PERMFAIL;
		m->why = why;
	} else if (n == 0) {
		m->status = DNS_NODATA;
		m->why = nodata_why;
		if (dns_msg_ttl(&x.msg, ns_r_nxdomain, &ttl))
			m->ttl = ttl;
	} else {
		m->ttl = ttl;
	}
	if (x.cached && x.ttl_left >= 0 && m->ttl > (unsigned long)x.ttl_left)
		m->ttl = (unsigned)x.ttl_left;
	xfree(x.ans);
	return m->status;
}

/* dns_txt_clear_ctx - dns_txt_result_clear() for dns_lookup() */
static void
dns_txt_clear_ctx(void *ctx)
{
	dns_txt_result_clear(ctx);
}

/* dns_query_txt - TXT records of name; see dns.h */
int
dns_query_txt(const struct dns_resolver *r, const char *name,
	      struct dns_txt_result *out)
{
	struct dns_meta m;

	memset(out, 0, sizeof(*out));
	dns_lookup(r, name, ns_t_txt, dns_txt_add, out, dns_txt_clear_ctx,
		   "no TXT record at that name", &m);
	out->status = m.status;
	out->rcode = m.rcode;
	out->via_tcp = m.via_tcp;
	out->why = m.why;
	out->ttl = m.ttl;
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

/* dns_addr_add - one A or AAAA record */
static int
dns_addr_add(ns_msg *msg, const ns_rr *rr, void *ctx, const char **why)
{
	struct dns_addr_result *out = ctx;
	size_t	want = ns_rr_type(*rr) == ns_t_a ? 4 : 16;
	struct dns_addr *a;

	if (ns_rr_rdlen(*rr) != want) {
		*why = want == 4 ? "malformed A record" : "malformed AAAA record";
		return -1;
	}
	if (out->count == DNS_MAX_ADDRS) {
		*why = "more than " DNS_STR(DNS_MAX_ADDRS) " address records";
		return -1;
	}
	a = &out->addr[out->count++];
	a->family = want == 4 ? AF_INET : AF_INET6;
	memset(a->addr, 0, sizeof(a->addr));
	memcpy(a->addr, ns_rr_rdata(*rr), want);
	return 0;
}

/* dns_addr_clear_ctx - nothing allocated; forget the records */
static void
dns_addr_clear_ctx(void *ctx)
{
	((struct dns_addr_result *)ctx)->count = 0;
}

/* dns_query_addr - A or AAAA */
static int
dns_query_addr(const struct dns_resolver *r, const char *name, int type,
	       struct dns_addr_result *out)
{
	struct dns_meta m;

	memset(out, 0, sizeof(*out));
	dns_lookup(r, name, type, dns_addr_add, out, dns_addr_clear_ctx,
		   type == ns_t_a ? "no A record at that name"
		   : "no AAAA record at that name", &m);
	out->status = m.status;
	out->rcode = m.rcode;
	out->via_tcp = m.via_tcp;
	out->why = m.why;
	out->ttl = m.ttl;
	return out->status;
}

/* dns_query_a - IPv4 addresses of name; see dns.h */
int
dns_query_a(const struct dns_resolver *r, const char *name,
	    struct dns_addr_result *out)
{
	return dns_query_addr(r, name, ns_t_a, out);
}

/* dns_query_aaaa - IPv6 addresses of name; see dns.h */
int
dns_query_aaaa(const struct dns_resolver *r, const char *name,
	       struct dns_addr_result *out)
{
	return dns_query_addr(r, name, ns_t_aaaa, out);
}

/*
 * dns_wire_text - a wire name as the literal text dns_query_init() reads
 * back (labels joined by "."; the root is ""): 1, or 0 when a label
 * holds "." or NUL, which that text cannot carry.
 */
static int
dns_wire_text(const unsigned char *wire, char *text, size_t size)
{
	size_t	i = 0, n = 0;

	while (i < NS_MAXCDNAME && wire[i] != 0) {
		size_t	len = wire[i];

		if (n + len + 2 > size)
			return 0;
		if (n > 0)
			text[n++] = '.';
		for (size_t j = 1; j <= len; j++) {
			if (wire[i + j] == '.' || wire[i + j] == '\0')
				return 0;
			text[n++] = (char)wire[i + j];
		}
		i += 1 + len;
	}
	text[n] = '\0';
	return 1;
}

/* dns_name_add - one MX (preference + exchange) or PTR (a name) record */
static int
dns_name_add(ns_msg *msg, const ns_rr *rr, void *ctx, const char **why)
{
	struct dns_name_result *out = ctx;
	const unsigned char *rd = ns_rr_rdata(*rr);
	unsigned char wire[NS_MAXCDNAME];
	char	text[NS_MAXDNAME];
	size_t	skip = ns_rr_type(*rr) == ns_t_mx ? 2 : 0;
	unsigned pref = 0;
	int	n;

	if (ns_rr_rdlen(*rr) < skip + 1) {
		*why = skip ? "malformed MX record" : "malformed PTR record";
		return -1;
	}
	if (skip)
		pref = ns_get16(rd);
	n = ns_name_unpack(ns_msg_base(*msg), ns_msg_end(*msg), rd + skip, wire, sizeof(wire));
	if (n < 0 || (size_t)n != ns_rr_rdlen(*rr) - skip) {
		*why = skip ? "malformed MX record" : "malformed PTR record";
		return -1;
	}
	if (out->count == DNS_MAX_RECORDS) {
		out->truncated = true;
		return 0;
	}
	/* literal octets, as names are queried (dns_query_init); "." is "" */
	if (!dns_wire_text(wire, text, sizeof(text)))
		return 0;			/* a "." inside a label: skipped */
	out->name[out->count].pref = pref;
	out->name[out->count].name = xstrdup(text);
	out->count++;
	return 0;
}

/* dns_name_clear_ctx - dns_name_result_clear() for dns_lookup() */
static void
dns_name_clear_ctx(void *ctx)
{
	dns_name_result_clear(ctx);
}

/* dns_query_names - MX or PTR records of name */
static int
dns_query_names(const struct dns_resolver *r, const char *name, int type,
		struct dns_name_result *out)
{
	struct dns_meta m;

	memset(out, 0, sizeof(*out));
	dns_lookup(r, name, type, dns_name_add, out, dns_name_clear_ctx,
		   type == ns_t_mx ? "no MX record at that name"
		   : "no PTR record at that name", &m);
	out->status = m.status;
	out->rcode = m.rcode;
	out->via_tcp = m.via_tcp;
	out->why = m.why;
	out->ttl = m.ttl;
	return out->status;
}

/* dns_query_mx - MX records of name; see dns.h */
int
dns_query_mx(const struct dns_resolver *r, const char *name,
	     struct dns_name_result *out)
{
	return dns_query_names(r, name, ns_t_mx, out);
}

/* dns_query_ptr - PTR records of addr's reverse name (RFC 1035 3.5, RFC 3596 2.5) */
int
dns_query_ptr(const struct dns_resolver *r, int family,
	      const unsigned char *addr, struct dns_name_result *out)
{
	static const char hex[] = "0123456789abcdef";
	char	name[80];
	size_t	n = 0;

	if (family == AF_INET) {
		snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa",
			 addr[3], addr[2], addr[1], addr[0]);
	} else if (family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			name[n++] = hex[addr[i] & 0x0f];
			name[n++] = '.';
			name[n++] = hex[addr[i] >> 4];
			name[n++] = '.';
		}
		memcpy(name + n, "ip6.arpa", sizeof("ip6.arpa"));
	} else {
		memset(out, 0, sizeof(*out));
		out->rcode = -1;
		out->status = DNS_PERMFAIL;
		out->why = "unknown address family";
		return out->status;
	}
	return dns_query_names(r, name, ns_t_ptr, out);
}

/* dns_name_result_clear - free the names; other fields stay */
void
dns_name_result_clear(struct dns_name_result *out)
{
	if (out == NULL)
		return;
	for (size_t i = 0; i < out->count && i < DNS_MAX_RECORDS; i++)
		out->name[i].name = xfree(out->name[i].name);
	out->count = 0;
}
