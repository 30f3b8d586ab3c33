/*++
 * NAME
 *	spf_eval 3
 * SUMMARY
 *	check_host() of RFC 7208 over the DNS client
 * DESCRIPTION
 *	See spf.h for the interface. One spf_check() call owns one struct
 *	spf_run (heap, freed before return): the macro values, the counters
 *	of RFC 7208 4.6.4 and the outcome being filled. The evaluator itself
 *	only holds the borrowed resolver and the limits, so it is shared by
 *	all threads without a lock.
 *
 *	Order of work per record (RFC 7208 4.4 - 4.7): select the one SPF
 *	TXT record, parse all of it (a syntax error anywhere is permerror),
 *	evaluate mechanisms left to right, then redirect=, then the default
 *	neutral. Limits: at most max_lookups terms that query DNS (include,
 *	a, mx, ptr, exists, redirect), at most max_void queries that come
 *	back NXDOMAIN or empty, at most SPF_MAX_MX_NAMES MX names per mx
 *	mechanism and SPF_MAX_PTR_NAMES PTR names per ptr mechanism or %{p}.
 *	Every DNS failure other than "no such name/data" is temperror
 *	(the issue: a timeout or SERVFAIL gives temperror).
 *
 *	Explanations (RFC 7208 6.2) come only from records evaluated at the
 *	top level (the first record and those reached by redirect=), never
 *	from included ones, and any trouble fetching or expanding one just
 *	leaves the explanation empty.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dns.h"
#include "spf.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "xalloc.h"

#define SPF_MAX_LOCAL	256		/* sender local part we accept */

struct spf_evaluator {
	const struct dns_resolver *dns;
	unsigned	max_lookups;
	unsigned	max_void;
	long		max_time_ms;	/* whole evaluation */
};

/* One check_host() run; lives for one spf_check() call. */
struct spf_run {
	const struct spf_evaluator *ev;
	struct spf_macro_ctx ctx;	/* ctx.domain changes per record */
	char		local[SPF_MAX_LOCAL + 1];
	char		sender_domain[SPF_MAX_DOMAIN_LEN + 2];
	bool		ptr_done;	/* %{p} computed */
	char		ptr[SPF_MAX_DOMAIN_LEN + 2];
	struct spf_outcome *out;
	bool		limit_hit;	/* a limit error that must propagate */
	long long	deadline_ms;	/* monotonic */
};

/* Outcome of a term evaluation. */
enum {
	SPF_NOMATCH,
	SPF_MATCH,
	SPF_ERROR,			/* r->out->result and problem are set */
};

/* spf_result_name - RFC 7208 2.6 names */
const char *
spf_result_name(enum spf_result res)
{
	switch (res) {
	case SPF_RES_NONE:
		return "none";
	case SPF_RES_NEUTRAL:
		return "neutral";
	case SPF_RES_PASS:
		return "pass";
	case SPF_RES_FAIL:
		return "fail";
	case SPF_RES_SOFTFAIL:
		return "softfail";
	case SPF_RES_TEMPERROR:
		return "temperror";
	case SPF_RES_PERMERROR:
		return "permerror";
	}
	return "permerror";
}

/* spf_evaluator_new - see spf.h */
struct spf_evaluator *
spf_evaluator_new(const struct dns_resolver *dns, unsigned max_lookups,
		  unsigned max_void)
{
	struct spf_evaluator *e = xcalloc(1, sizeof(*e));

	e->dns = dns;
	e->max_lookups = max_lookups ? max_lookups : SPF_MAX_LOOKUPS;
	e->max_void = max_void ? max_void : SPF_MAX_VOID;
	e->max_time_ms = SPF_MAX_TIME_MS;
	return e;
}

/* spf_evaluator_set_max_time - bound one evaluation; before sharing e */
void
spf_evaluator_set_max_time(struct spf_evaluator *e, long ms)
{
	e->max_time_ms = ms > 0 ? ms : SPF_MAX_TIME_MS;
}

/* spf_now_ms - monotonic milliseconds */
static long long
spf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* spf_evaluator_free - takes NULL, returns NULL */
struct spf_evaluator *
spf_evaluator_free(struct spf_evaluator *e)
{
	return xfree(e);
}

/* spf_error - set the result and a problem text; returns SPF_ERROR */
static int
spf_error(struct spf_run *r, enum spf_result res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
spf_error(struct spf_run *r, enum spf_result res, const char *fmt, ...)
{
	va_list	ap;

	r->out->result = res;
	va_start(ap, fmt);
	vsnprintf(r->out->problem, sizeof(r->out->problem), fmt, ap);
	va_end(ap);
	return SPF_ERROR;
}

/* spf_copy - bounded copy of len bytes into a field of size bytes */
static void
spf_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * spf_domain_ok - RFC 7208 4.3: a multi-label name, labels 1..63
 * octets, at most 253 in all (one trailing dot allowed) and no address
 * literal ("[192.0.2.1]"). Any octet may be in a label: macro expansion
 * (7.3) makes names with "%", spaces and "%20" (the examples of 7.4, the
 * suite's macro-mania-in-domain) or with a local part's octets, and
 * they are looked up as they are (common/dns encodes labels literally).
 */
static bool
spf_domain_ok(const char *d)
{
	size_t	len = strlen(d), label = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_MAX_DOMAIN_LEN || d[0] == '[')
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return false;
			labels++;
			label = 0;
		} else {
			label++;
		}
	}
	return labels >= 2;
}

/* spf_count_lookup - RFC 7208 4.6.4: one more DNS-querying term */
static int
spf_count_lookup(struct spf_run *r)
{
	if (++r->out->dns_lookups > r->ev->max_lookups) {
		r->limit_hit = true;
		return spf_error(r, SPF_RES_PERMERROR,
				 "more than %u DNS-querying terms (RFC 7208 4.6.4)",
				 r->ev->max_lookups);
	}
	return SPF_NOMATCH;
}

/* spf_count_void - RFC 7208 4.6.4: one more empty answer */
static int
spf_count_void(struct spf_run *r)
{
	if (++r->out->void_lookups > r->ev->max_void) {
		r->limit_hit = true;
		return spf_error(r, SPF_RES_PERMERROR,
				 "more than %u void DNS lookups (RFC 7208 4.6.4)",
				 r->ev->max_void);
	}
	return SPF_NOMATCH;
}

/*
 * spf_out_of_time - RFC 7208 4.6.4 lets an evaluation be cut off (20 s at
 * least): each query has its own deadline, but an mx with ten names, each
 * of them slow, would otherwise take ten times as long. temperror: the
 * policy may well say pass next time.
 */
static bool
spf_out_of_time(struct spf_run *r)
{
	if (spf_now_ms() < r->deadline_ms)
		return false;
	r->limit_hit = true;
	spf_error(r, SPF_RES_TEMPERROR,
		  "evaluation took longer than %ld ms (RFC 7208 4.6.4)",
		  r->ev->max_time_ms);
	return true;
}

/* spf_addr_match - first prefix bits of a and b equal */
static bool
spf_addr_match(const unsigned char *a, const unsigned char *b, int prefix)
{
	int	bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - bits))) == 0;
}

/*
 * spf_addrs - A (IPv4 client) or AAAA (IPv6 client) records of name:
 * DNS_OK with res filled, a void (counted), or an error (temperror).
 * A void returns SPF_NOMATCH with res->count 0.
 */
static int
spf_addrs(struct spf_run *r, const char *name, int family, bool count_void,
	  struct dns_addr_result *res)
{
	if (!spf_domain_ok(name)) {
		res->count = 0;
		return count_void ? spf_count_void(r) : SPF_NOMATCH;
	}
	if (spf_out_of_time(r)) {
		res->count = 0;
		return SPF_ERROR;
	}
	if (family == AF_INET)
		dns_query_a(r->ev->dns, name, res);
	else
		dns_query_aaaa(r->ev->dns, name, res);
	switch (res->status) {
	case DNS_OK:
		return SPF_NOMATCH;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		res->count = 0;
		return count_void ? spf_count_void(r) : SPF_NOMATCH;
	default:
		res->count = 0;
		return spf_error(r, SPF_RES_TEMPERROR, "%s %s: %s",
				 family == AF_INET ? "A" : "AAAA", name, res->why);
	}
}

/* spf_addrs_match - does any address in res hold the client */
static bool
spf_addrs_match(const struct spf_run *r, const struct dns_addr_result *res,
		int prefix)
{
	for (size_t i = 0; i < res->count; i++)
		if (res->addr[i].family == r->ctx.family
		    && spf_addr_match(res->addr[i].addr, r->ctx.ip, prefix))
			return true;
	return false;
}

/*
 * spf_validated_ptrs - RFC 7208 5.5: PTR names of the client whose A or
 * AAAA records hold the client address (at most SPF_MAX_PTR_NAMES
 * looked at). DNS errors just drop names. Calls fn for each validated
 * name until it returns true. SPF_ERROR only for the void limit.
 */
static int
spf_validated_ptrs(struct spf_run *r, bool (*fn) (void *, const char *),
		   void *arg, bool *found)
{
	struct dns_name_result ptr;
	struct dns_addr_result *addrs;
	int	rc = SPF_NOMATCH;

	*found = false;
	if (spf_out_of_time(r))
		return SPF_ERROR;
	dns_query_ptr(r->ev->dns, r->ctx.family, r->ctx.ip, &ptr);
	if (ptr.status == DNS_NXDOMAIN || ptr.status == DNS_NODATA)
		return spf_count_void(r);
	if (ptr.status != DNS_OK)
		return SPF_NOMATCH;		/* 5.5: a DNS error: no match */
	addrs = xmalloc(sizeof(*addrs));
	for (size_t i = 0; i < ptr.count && i < SPF_MAX_PTR_NAMES; i++) {
		/* 5.5: an A/AAAA error skips that name */
		if (spf_addrs(r, ptr.name[i].name, r->ctx.family, true, addrs)
		    == SPF_ERROR) {
			if (r->limit_hit) {
				rc = SPF_ERROR;
				break;
			}
			r->out->result = SPF_RES_NONE;
			r->out->problem[0] = '\0';
			continue;
		}
		if (spf_addrs_match(r, addrs, r->ctx.family == AF_INET ? 32 : 128)
		    && fn(arg, ptr.name[i].name)) {
			*found = true;
			break;
		}
	}
	xfree(addrs);
	dns_name_result_clear(&ptr);
	return rc;
}

/* spf_is_sub - is name target or a subdomain of it (case folded) */
static bool
spf_is_sub(const char *name, const char *target)
{
	size_t	n = strlen(name), t = strlen(target);

	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == t)
		return strncasecmp(name, target, n) == 0;
	return n > t && name[n - t - 1] == '.'
	    && strncasecmp(name + n - t, target, t) == 0;
}

/* For %{p}: RFC 7208 7.3 prefers the domain itself, then a subdomain. */
struct spf_pick {
	const char *domain;
	char	first[SPF_MAX_DOMAIN_LEN + 2];
	char	sub[SPF_MAX_DOMAIN_LEN + 2];
	bool	exact;
};

/* spf_pick_p - collect candidates for %{p}; stop on the domain itself */
static bool
spf_pick_p(void *arg, const char *name)
{
	struct spf_pick *pk = arg;
	size_t	n = strlen(name), d = strlen(pk->domain);

	if (n > SPF_MAX_DOMAIN_LEN)
		return false;
	if (pk->first[0] == '\0')
		snprintf(pk->first, sizeof(pk->first), "%s", name);
	if (!spf_is_sub(name, pk->domain))
		return false;
	/* the same name, perhaps with a final dot: the best choice */
	if (n == d || (n == d + 1 && name[d] == '.')) {
		pk->exact = true;
		snprintf(pk->sub, sizeof(pk->sub), "%s", name);
		return true;
	}
	if (pk->sub[0] == '\0')
		snprintf(pk->sub, sizeof(pk->sub), "%s", name);
	return false;
}

/* spf_compute_p - the %{p} value, once per run (its lookups are not terms) */
static int
spf_compute_p(struct spf_run *r)
{
	struct spf_pick pk;
	bool	found;

	if (r->ptr_done)
		return SPF_NOMATCH;
	memset(&pk, 0, sizeof(pk));
	pk.domain = r->ctx.domain;
	if (spf_validated_ptrs(r, spf_pick_p, &pk, &found) == SPF_ERROR)
		return SPF_ERROR;
	snprintf(r->ptr, sizeof(r->ptr), "%s", pk.sub[0] ? pk.sub
		 : pk.first[0] ? pk.first : "unknown");
	r->ctx.ptr = r->ptr;
	r->ptr_done = true;
	return SPF_NOMATCH;
}

/* spf_expand_domain - a domain-spec (or the current domain) into buf */
static int
spf_expand_domain(struct spf_run *r, const char *spec, size_t len,
		  char *buf, size_t size)
{
	char	big[SPF_MAX_RECORD_LEN];
	const char *why;

	if (spec == NULL) {
		snprintf(buf, size, "%s", r->ctx.domain);
		return SPF_NOMATCH;
	}
	if (spf_macro_uses_p(spec, len) && spf_compute_p(r) == SPF_ERROR)
		return SPF_ERROR;
	/*
	 * Expand into room for the whole string: RFC 7208 7.3 cuts an
	 * expansion over 253 characters down to fit, it is no error.
	 */
	if (spf_macro_expand(spec, len, &r->ctx, SPF_MACRO_DOMAIN, big,
			     sizeof(big), &why) < 0)
		return spf_error(r, SPF_RES_PERMERROR, "%.*s: %s",
				 (int)(len > 64 ? 64 : len), spec, why);
	spf_copy(buf, size, big, strlen(big));	/* <= 253: fits */
	if (buf[0] == '\0')
		return spf_error(r, SPF_RES_PERMERROR, "%.*s: expands to nothing",
				 (int)(len > 64 ? 64 : len), spec);
	return SPF_NOMATCH;
}

static enum spf_result spf_check_host(struct spf_run *r, const char *domain,
				      unsigned depth, bool top);

/* spf_mech_include - RFC 7208 5.2 */
static int
spf_mech_include(struct spf_run *r, const char *target, unsigned depth)
{
	const char *saved = r->ctx.domain;
	enum spf_result res;

	res = spf_check_host(r, target, depth + 1, false);
	r->ctx.domain = saved;
	switch (res) {
	case SPF_RES_PASS:
		return SPF_MATCH;
	case SPF_RES_FAIL:
	case SPF_RES_SOFTFAIL:
	case SPF_RES_NEUTRAL:
		return SPF_NOMATCH;
	case SPF_RES_TEMPERROR:
		return SPF_ERROR;
	case SPF_RES_PERMERROR:
		return SPF_ERROR;
	default:
		/* 5.2: include of a domain without SPF record is permerror */
		return spf_error(r, SPF_RES_PERMERROR,
				 "include:%s has no SPF record", target);
	}
}

/* spf_mech_mx - RFC 7208 5.4 */
static int
spf_mech_mx(struct spf_run *r, const char *target, int prefix)
{
	struct dns_name_result mx;
	struct dns_addr_result *addrs;
	int	rc = SPF_NOMATCH;

	if (!spf_domain_ok(target))
		return spf_count_void(r);
	if (spf_out_of_time(r))
		return SPF_ERROR;
	dns_query_mx(r->ev->dns, target, &mx);
	if (mx.status == DNS_NXDOMAIN || mx.status == DNS_NODATA)
		return spf_count_void(r);
	if (mx.status != DNS_OK)
		return spf_error(r, SPF_RES_TEMPERROR, "MX %s: %s", target, mx.why);
	if (mx.count > SPF_MAX_MX_NAMES || mx.truncated) {
		dns_name_result_clear(&mx);
		return spf_error(r, SPF_RES_PERMERROR,
				 "mx:%s: more than %d MX records (RFC 7208 4.6.4)",
				 target, SPF_MAX_MX_NAMES);
	}
	addrs = xmalloc(sizeof(*addrs));
	for (size_t i = 0; i < mx.count; i++) {
		if (mx.name[i].name[0] == '\0')
			continue;		/* RFC 7505 null MX */
		rc = spf_addrs(r, mx.name[i].name, r->ctx.family, true, addrs);
		if (rc == SPF_ERROR)
			break;
		if (spf_addrs_match(r, addrs, prefix)) {
			rc = SPF_MATCH;
			break;
		}
	}
	xfree(addrs);
	dns_name_result_clear(&mx);
	return rc;
}

/* spf_ptr_matches - 5.5: a validated name equal to or under target */
static bool
spf_ptr_matches(void *arg, const char *name)
{
	return spf_is_sub(name, arg);
}

/* spf_eval_term - one mechanism; SPF_MATCH, SPF_NOMATCH or SPF_ERROR */
static int
spf_eval_term(struct spf_run *r, const struct spf_term *t, unsigned depth)
{
	char	target[SPF_MAX_DOMAIN_LEN + 2];
	struct dns_addr_result *addrs;
	int	rc, prefix;
	bool	found;

	prefix = r->ctx.family == AF_INET
	    ? (t->cidr4 >= 0 ? t->cidr4 : 32) : (t->cidr6 >= 0 ? t->cidr6 : 128);
	switch (t->mech) {
	case SPF_MECH_ALL:
		return SPF_MATCH;
	case SPF_MECH_IP4:
		return r->ctx.family == AF_INET
		    && spf_addr_match(t->addr, r->ctx.ip, t->cidr4)
		    ? SPF_MATCH : SPF_NOMATCH;
	case SPF_MECH_IP6:
		return r->ctx.family == AF_INET6
		    && spf_addr_match(t->addr, r->ctx.ip, t->cidr6)
		    ? SPF_MATCH : SPF_NOMATCH;
	default:
		break;
	}
	if (spf_count_lookup(r) == SPF_ERROR
	    || spf_expand_domain(r, t->spec, t->spec_len, target,
				 sizeof(target)) == SPF_ERROR)
		return SPF_ERROR;
	switch (t->mech) {
	case SPF_MECH_INCLUDE:
		return spf_mech_include(r, target, depth);
	case SPF_MECH_MX:
		return spf_mech_mx(r, target, prefix);
	case SPF_MECH_PTR:
		rc = spf_validated_ptrs(r, spf_ptr_matches, target, &found);
		return rc == SPF_ERROR ? rc : found ? SPF_MATCH : SPF_NOMATCH;
	case SPF_MECH_A:
	case SPF_MECH_EXISTS:
		addrs = xmalloc(sizeof(*addrs));
		/* 5.7: exists always asks for A, whatever the client family */
		rc = spf_addrs(r, target, t->mech == SPF_MECH_EXISTS ? AF_INET
			       : r->ctx.family, true, addrs);
		if (rc != SPF_ERROR) {
			if (t->mech == SPF_MECH_EXISTS)
				rc = addrs->count > 0 ? SPF_MATCH : SPF_NOMATCH;
			else
				rc = spf_addrs_match(r, addrs, prefix)
				    ? SPF_MATCH : SPF_NOMATCH;
		}
		xfree(addrs);
		return rc;
	default:
		return spf_error(r, SPF_RES_PERMERROR, "unknown mechanism");
	}
}

/* spf_qualifier_result - RFC 7208 4.6.2 */
static enum spf_result
spf_qualifier_result(char q)
{
	switch (q) {
	case '-':
		return SPF_RES_FAIL;
	case '~':
		return SPF_RES_SOFTFAIL;
	case '?':
		return SPF_RES_NEUTRAL;
	default:
		return SPF_RES_PASS;
	}
}

/*
 * spf_explain - RFC 7208 6.2: the exp= text for a fail, expanded; any
 * trouble leaves out->explanation empty. Its lookup is not a term.
 */
static void
spf_explain(struct spf_run *r, const struct spf_record *rec)
{
	char	name[SPF_MAX_DOMAIN_LEN + 2];
	struct dns_txt_result txt;
	const char *why;

	r->out->explanation[0] = '\0';
	if (rec->exp == NULL)
		return;
	if (spf_macro_uses_p(rec->exp, rec->exp_len) && spf_compute_p(r) == SPF_ERROR)
		goto restore;
	if (spf_macro_expand(rec->exp, rec->exp_len, &r->ctx, SPF_MACRO_DOMAIN,
			     name, sizeof(name), &why) < 0 || !spf_domain_ok(name))
		return;
	if (spf_now_ms() >= r->deadline_ms
	    || dns_query_txt(r->ev->dns, name, &txt) != DNS_OK)
		return;
	if (txt.count == 1) {
		const char *s = txt.txt[0].data;
		size_t	len = txt.txt[0].len;

		if (spf_macro_uses_p(s, len) && spf_compute_p(r) == SPF_ERROR) {
			dns_txt_result_clear(&txt);
			goto restore;
		}
		if (spf_macro_expand(s, len, &r->ctx, SPF_MACRO_EXP,
				     r->out->explanation,
				     sizeof(r->out->explanation), &why) < 0)
			r->out->explanation[0] = '\0';
	}
	dns_txt_result_clear(&txt);
	return;
restore:
	/* a %{p} lookup hit the void limit: the fail stands, unexplained */
	r->out->result = SPF_RES_FAIL;
	r->out->problem[0] = '\0';
	r->limit_hit = false;
}

/*
 * spf_fetch - RFC 7208 4.4/4.5: the one SPF record of domain. Returns
 * SPF_MATCH with *txt holding it at index *which, SPF_NOMATCH for none
 * (no name, no TXT, no v=spf1 record), SPF_ERROR otherwise.
 */
static int
spf_fetch(struct spf_run *r, const char *domain, struct dns_txt_result *txt,
	  size_t *which)
{
	size_t	n = 0;

	memset(txt, 0, sizeof(*txt));
	if (spf_out_of_time(r))
		return SPF_ERROR;
	dns_query_txt(r->ev->dns, domain, txt);
	if (txt->status == DNS_NXDOMAIN || txt->status == DNS_NODATA)
		return SPF_NOMATCH;
	if (txt->status != DNS_OK)
		return spf_error(r, SPF_RES_TEMPERROR, "TXT %s: %s", domain,
				 txt->why);
	for (size_t i = 0; i < txt->count; i++) {
		if (spf_record_is_spf(txt->txt[i].data, txt->txt[i].len)) {
			*which = i;
			n++;
		}
	}
	if (n > 1) {
		dns_txt_result_clear(txt);
		return spf_error(r, SPF_RES_PERMERROR,
				 "%s has more than one SPF record (RFC 7208 4.5)",
				 domain);
	}
	if (n == 0) {
		dns_txt_result_clear(txt);
		return SPF_NOMATCH;
	}
	return SPF_MATCH;
}

/* spf_set_mechanism - record the matching term at the top level */
static void
spf_set_mechanism(struct spf_run *r, const char *text, size_t len)
{
	spf_copy(r->out->mechanism, sizeof(r->out->mechanism), text, len);
}

/*
 * spf_check_host - RFC 7208 4: evaluate domain's record. top: this record
 * is evaluated for the identity itself (first record or a redirect= from
 * one), so its exp= applies and its matching term is reported.
 */
static enum spf_result
spf_check_host(struct spf_run *r, const char *domain, unsigned depth,
	       bool top)
{
	struct dns_txt_result txt;
	struct spf_record *rec;
	char	dom[SPF_MAX_DOMAIN_LEN + 2];
	size_t	which = 0;
	int	rc;
	enum spf_result res = SPF_RES_NEUTRAL;

	if (depth > SPF_MAX_DEPTH) {
		spf_error(r, SPF_RES_PERMERROR, "include/redirect nested too deep");
		return r->out->result;
	}
	snprintf(dom, sizeof(dom), "%s", domain);
	/* 4.3: a malformed or single-label domain has no SPF policy */
	if (!spf_domain_ok(dom))
		return SPF_RES_NONE;
	rc = spf_fetch(r, dom, &txt, &which);
	if (rc == SPF_ERROR)
		return r->out->result;
	if (rc == SPF_NOMATCH)
		return SPF_RES_NONE;
	rec = xmalloc(sizeof(*rec));
	{
		const char *why;

		if (spf_record_parse(txt.txt[which].data, txt.txt[which].len,
				     rec, &why) < 0) {
			spf_error(r, SPF_RES_PERMERROR, "%s: %s", dom, why);
			goto done;
		}
	}
	r->ctx.domain = dom;
	for (size_t i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->term[i];

		rc = spf_eval_term(r, t, depth);
		r->ctx.domain = dom;
		if (rc == SPF_ERROR)
			goto done;
		if (rc == SPF_MATCH) {
			res = spf_qualifier_result(t->qualifier);
			if (top)
				spf_set_mechanism(r, t->text, t->text_len);
			if (top && res == SPF_RES_FAIL)
				spf_explain(r, rec);
			r->out->result = res;
			goto done;
		}
	}
	if (rec->redirect != NULL) {
		char	target[SPF_MAX_DOMAIN_LEN + 2];

		/* 6.1: redirect= counts as a DNS-querying term */
		if (spf_count_lookup(r) == SPF_ERROR
		    || spf_expand_domain(r, rec->redirect, rec->redirect_len,
					 target, sizeof(target)) == SPF_ERROR)
			goto done;
		res = spf_check_host(r, target, depth + 1, top);
		r->ctx.domain = dom;
		if (res == SPF_RES_NONE) {
			/* 6.1: redirect to a domain without a record */
			spf_error(r, SPF_RES_PERMERROR,
				  "redirect=%s has no SPF record", target);
			goto done;
		}
		r->out->result = res;
		goto done;
	}
	/* 4.7: no match, no redirect */
	if (top)
		spf_set_mechanism(r, "default", 7);
	r->out->result = SPF_RES_NEUTRAL;
done:
	res = r->out->result;
	xfree(rec);
	dns_txt_result_clear(&txt);
	return res;
}

/* spf_parse_ip - textual IPv4/IPv6; IPv4-mapped IPv6 becomes IPv4 */
static bool
spf_parse_ip(const char *text, struct spf_macro_ctx *ctx)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff};
	unsigned char a[16];

	if (text == NULL)
		return false;
	memset(ctx->ip, 0, sizeof(ctx->ip));
	if (inet_pton(AF_INET, text, a) == 1) {
		ctx->family = AF_INET;
		memcpy(ctx->ip, a, 4);
		return true;
	}
	if (inet_pton(AF_INET6, text, a) != 1)
		return false;
	if (memcmp(a, mapped, sizeof(mapped)) == 0) {
		ctx->family = AF_INET;
		memcpy(ctx->ip, a + 12, 4);
	} else {
		ctx->family = AF_INET6;
		memcpy(ctx->ip, a, 16);
	}
	return true;
}

/*
 * spf_identity - RFC 7208 2.3/2.4/4.3: the sender and domain to check.
 * A null sender or the HELO identity is postmaster@helo; an empty local
 * part is "postmaster".
 */
static bool
spf_identity(struct spf_run *r, const struct spf_query *q)
{
	const char *helo = q->helo ? q->helo : "";
	const char *s = q->mail_from;
	const char *at;
	size_t	llen;

	if (q->identity == SPF_ID_HELO || s == NULL || *s == '\0') {
		snprintf(r->local, sizeof(r->local), "postmaster");
		return (size_t)snprintf(r->sender_domain, sizeof(r->sender_domain),
					"%s", helo) < sizeof(r->sender_domain);
	}
	if ((at = strrchr(s, '@')) == NULL) {
		snprintf(r->local, sizeof(r->local), "postmaster");
		return (size_t)snprintf(r->sender_domain, sizeof(r->sender_domain),
					"%s", s) < sizeof(r->sender_domain);
	}
	llen = (size_t)(at - s);
	if (llen > SPF_MAX_LOCAL)
		return false;
	if (llen == 0)
		snprintf(r->local, sizeof(r->local), "postmaster");
	else
		spf_copy(r->local, sizeof(r->local), s, llen);
	return (size_t)snprintf(r->sender_domain, sizeof(r->sender_domain),
				"%s", at + 1) < sizeof(r->sender_domain);
}

/* spf_check - check_host() for the query's identity; see spf.h */
enum spf_result
spf_check(const struct spf_evaluator *e, const struct spf_query *q, long now,
	  struct spf_outcome *out)
{
	struct spf_run *r = xcalloc(1, sizeof(*r));
	enum spf_result res;
	size_t	len;

	memset(out, 0, sizeof(*out));
	r->ev = e;
	r->out = out;
	r->deadline_ms = spf_now_ms() + e->max_time_ms;
	r->ctx.now = now;
	r->ctx.helo = q->helo ? q->helo : "";
	r->ctx.receiver = q->receiver;
	if (!spf_identity(r, q)) {
		snprintf(out->domain, sizeof(out->domain), "%.*s", 200,
			 q->identity == SPF_ID_HELO || !q->mail_from
			 ? r->ctx.helo : q->mail_from);
		out->result = SPF_RES_NONE;
		snprintf(out->problem, sizeof(out->problem),
			 "identity too long to check");
		xfree(r);
		return out->result;
	}
	r->ctx.local = r->local;
	r->ctx.sender_domain = r->sender_domain;
	r->ctx.domain = r->sender_domain;
	/* one trailing dot is the same name (RFC 1034 3.1) */
	len = strlen(r->sender_domain);
	if (len > 1 && r->sender_domain[len - 1] == '.')
		r->sender_domain[len - 1] = '\0';
	snprintf(out->domain, sizeof(out->domain), "%s", r->sender_domain);
	if (!spf_parse_ip(q->client_ip, &r->ctx)) {
		out->result = SPF_RES_PERMERROR;
		snprintf(out->problem, sizeof(out->problem),
			 "client address is not an IPv4 or IPv6 address");
		xfree(r);
		return out->result;
	}
	res = spf_check_host(r, r->sender_domain, 0, true);
	out->result = res;
	if (res != SPF_RES_FAIL)
		out->explanation[0] = '\0';
	if (res != SPF_RES_PERMERROR && res != SPF_RES_TEMPERROR)
		out->problem[0] = '\0';
	if (res == SPF_RES_PERMERROR || res == SPF_RES_TEMPERROR
	    || res == SPF_RES_NONE)
		out->mechanism[0] = '\0';
	xfree(r);
	return res;
}
