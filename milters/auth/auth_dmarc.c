/*++
 * NAME
 *	auth_dmarc 3
 * SUMMARY
 *	DMARC evaluation (RFC 9989): policy discovery, organizational
 *	domains, alignment
 * DESCRIPTION
 *	See auth_dmarc.h. No I/O of its own: every DNS question goes through
 *	the context's lookup function and lands in its small cache.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_dmarc.h"
#include "auth_psl.h"
#include "xalloc.h"

enum dm_lk {
	DM_LK_NONE,		/* no DMARC record at the name */
	DM_LK_RECORD,		/* exactly one */
	DM_LK_MULTI,		/* several: invalid */
	DM_LK_TEMP,		/* DNS temporary failure */
	DM_LK_BUDGET,		/* not asked: the query budget is spent */
};

struct auth_dmarc_entry {
	char			 name[ADDR_DOMAIN_MAX + 1];
	enum dm_lk		 lk;
	struct auth_dmarc_record rec;
};

/* auth_dmarc_ctx_init - a context for one message */
void
auth_dmarc_ctx_init(struct auth_dmarc_ctx *c, auth_dmarc_txt_fn txt, void *arg,
		    enum auth_dmarc_org_mode mode, const struct auth_psl *psl,
		    unsigned max_queries)
{
	memset(c, 0, sizeof(*c));
	c->txt = txt;
	c->arg = arg;
	c->mode = mode;
	c->psl = psl;
	c->max_queries = max_queries;
	c->cache = xcalloc(AUTH_DMARC_CACHE_MAX, sizeof(*c->cache));
}

/* auth_dmarc_ctx_clear - release what the context holds */
void
auth_dmarc_ctx_clear(struct auth_dmarc_ctx *c)
{
	free(c->cache);
	c->cache = NULL;
	c->ncache = 0;
}

/* dm_ask - one counted query; false when the budget is spent */
static bool
dm_ask(struct auth_dmarc_ctx *c, const char *name, struct dns_txt_result *r)
{
	if (c->queries >= c->max_queries) {
		c->budget_hit = true;
		return false;
	}
	c->queries++;
	memset(r, 0, sizeof(*r));
	c->txt(c->arg, name, r);
	return true;
}

/* dm_lookup - the DMARC record(s) at _dmarc.domain, cached */
static enum dm_lk
dm_lookup(struct auth_dmarc_ctx *c, const char *domain,
	  struct auth_dmarc_record *rec)
{
	struct dns_txt_result r;
	struct auth_dmarc_record one;
	char qname[ADDR_DOMAIN_MAX + 16];
	enum dm_lk lk = DM_LK_NONE;
	size_t i, valid = 0;

	for (i = 0; i < c->ncache; i++)
		if (strcmp(c->cache[i].name, domain) == 0) {
			*rec = c->cache[i].rec;
			return c->cache[i].lk;
		}
	if (strlen(domain) > ADDR_DOMAIN_MAX - 7)
		return DM_LK_NONE;		/* _dmarc.D would not be a name */
	snprintf(qname, sizeof(qname), "_dmarc.%s", domain);
	if (!dm_ask(c, qname, &r))
		return DM_LK_BUDGET;
	if (r.status == DNS_TEMPFAIL) {
		lk = DM_LK_TEMP;
	} else if (r.status == DNS_OK) {
		for (i = 0; i < r.count; i++)
			if (auth_dmarc_record_parse(r.txt[i].data, r.txt[i].len, &one,
						    NULL) == AUTH_DMARC_REC_OK) {
				if (valid++ == 0)
					*rec = one;
			}
		lk = valid == 0 ? DM_LK_NONE : valid == 1 ? DM_LK_RECORD : DM_LK_MULTI;
	}
	dns_txt_result_clear(&r);
	if (c->ncache < AUTH_DMARC_CACHE_MAX) {
		struct auth_dmarc_entry *e = &c->cache[c->ncache++];

		snprintf(e->name, sizeof(e->name), "%s", domain);
		e->lk = lk;
		if (lk == DM_LK_RECORD)
			e->rec = *rec;
	}
	return lk;
}

/* dm_labels - number of labels of a name */
static size_t
dm_labels(const char *d)
{
	size_t n = 1;

	for (; *d; d++)
		if (*d == '.')
			n++;
	return n;
}

/* dm_suffix - the last n labels of d (a pointer into d) */
static const char *
dm_suffix(const char *d, size_t n)
{
	size_t have = dm_labels(d);

	while (have > n) {
		const char *dot = strchr(d, '.');

		if (dot == NULL)
			break;
		d = dot + 1;
		have--;
	}
	return d;
}

/* auth_dmarc_walk_names - RFC 9989 4.10 targets, at most max */
size_t
auth_dmarc_walk_names(const char *d, const char **names, size_t max)
{
	size_t x = dm_labels(d), n = 0, next;

	if (*d == '\0' || max == 0)
		return 0;
	names[n++] = d;
	next = x >= 8 ? 7 : x - 1;
	while (next >= 1 && n < max) {
		names[n++] = dm_suffix(d, next);
		next--;
	}
	return n;
}

/* dm_copy - bounded copy into a result field */
static void
dm_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/*
 * dm_org_walk - RFC 9989 4.10 and 4.10.2: the Organizational Domain of d
 * by the DNS Tree Walk; 0, or -1 on a temporary failure. The walk stops
 * at the first single record with psd=y or psd=n (4.10 steps 2 and 6);
 * several records at one name are discarded like none. Of the names
 * with a record, longest to shortest: psd=n is the Organizational
 * Domain; psd=y, other than at the start, puts it one label below
 * (and *psd names that Public Suffix Domain, whose record is the last
 * choice of 4.10.1); else the record with the fewest labels; with no
 * record at all, d itself.
 */
static int
dm_org_walk(struct auth_dmarc_ctx *c, const char *d, char *buf, size_t size,
	    const char **psd)
{
	const char *names[AUTH_DMARC_WALK_MAX], *best = NULL;
	struct auth_dmarc_record rec;
	size_t n, i;

	if (psd != NULL)
		*psd = NULL;
	n = auth_dmarc_walk_names(d, names, AUTH_DMARC_WALK_MAX);
	for (i = 0; i < n; i++) {
		switch (dm_lookup(c, names[i], &rec)) {
		case DM_LK_TEMP:
		case DM_LK_BUDGET:
			return -1;
		case DM_LK_NONE:
		case DM_LK_MULTI:
			continue;
		case DM_LK_RECORD:
			break;
		}
		if (rec.psd == 'n') {
			dm_copy(buf, size, names[i]);
			return 0;
		}
		if (rec.psd == 'y') {
			if (i == 0) {
				/* the walk stops at its start: d is its own */
				dm_copy(buf, size, d);
				return 0;
			}
			/* a public suffix: the organization is one label below */
			dm_copy(buf, size, dm_suffix(d, dm_labels(names[i]) + 1));
			if (psd != NULL)
				*psd = names[i];
			return 0;
		}
		best = names[i];		/* fewest labels so far */
	}
	dm_copy(buf, size, best ? best : d);
	return 0;
}

/* auth_dmarc_org_domain - RFC 9989 4.10.2, or the PSL */
int
auth_dmarc_org_domain(struct auth_dmarc_ctx *c, const char *d, char *buf,
		      size_t size)
{
	if (c->mode == AUTH_DMARC_ORG_PSL)
		return auth_psl_org_domain(c->psl, d, buf, size) < 0 ? -1 : 0;
	return dm_org_walk(c, d, buf, size, NULL);
}

/* dm_found - the record at name is the policy record */
static enum auth_dmarc_res
dm_found(struct auth_dmarc_result *out, const char *name)
{
	out->record_found = true;
	dm_copy(out->record_domain, sizeof(out->record_domain), name);
	return AUTH_DMARC_PASS;		/* found; the caller goes on */
}

/* dm_temp - the result when discovery could not finish */
static enum auth_dmarc_res
dm_temp(struct auth_dmarc_ctx *c, struct auth_dmarc_result *out)
{
	out->why = c->budget_hit ? "DNS query budget spent in policy discovery"
	    : "DNS temporary failure in policy discovery";
	return AUTH_DMARC_TEMPERROR;
}

/*
 * dm_discover - the DMARC Policy Record for the Author Domain (RFC 9989
 * 4.10.1): the Author Domain's own, else its Organizational Domain's,
 * else its Public Suffix Domain's; never one at a name between them,
 * which only helps find the Organizational Domain (4.10.2; the example
 * of Appendix B.4.2). Also fills out->org_domain. With org_mode psl
 * the Organizational Domain comes from the PSL (RFC 7489 3.2), and
 * there is no PSD step.
 */
static enum auth_dmarc_res
dm_discover(struct auth_dmarc_ctx *c, const char *from,
	    struct auth_dmarc_result *out)
{
	const char *psd = NULL;
	enum dm_lk lk;
	int rc;

	/* 4.10 step 2: several records at one name are discarded */
	lk = dm_lookup(c, from, &out->rec);
	if (lk == DM_LK_TEMP || lk == DM_LK_BUDGET)
		return dm_temp(c, out);
	if (c->mode == AUTH_DMARC_ORG_PSL)
		rc = auth_psl_org_domain(c->psl, from, out->org_domain,
					 sizeof(out->org_domain));
	else
		rc = dm_org_walk(c, from, out->org_domain, sizeof(out->org_domain),
				 &psd);
	if (rc < 0) {
		if (lk != DM_LK_RECORD)
			return dm_temp(c, out);
		out->why = "DNS temporary failure finding the organizational domain";
		return AUTH_DMARC_TEMPERROR;
	}
	if (lk == DM_LK_RECORD)
		return dm_found(out, from);
	if (strcmp(out->org_domain, from) != 0) {
		lk = dm_lookup(c, out->org_domain, &out->rec);
		if (lk == DM_LK_TEMP || lk == DM_LK_BUDGET)
			return dm_temp(c, out);
		if (lk == DM_LK_RECORD)
			return dm_found(out, out->org_domain);
	}
	if (psd != NULL) {
		lk = dm_lookup(c, psd, &out->rec);
		if (lk == DM_LK_TEMP || lk == DM_LK_BUDGET)
			return dm_temp(c, out);
		if (lk == DM_LK_RECORD)
			return dm_found(out, psd);
	}
	out->why = "no DMARC record";
	return AUTH_DMARC_NONE;
}

/* dm_aligned - does id align with the From domain; -1 temperror */
static int
dm_aligned(struct auth_dmarc_ctx *c, const char *id, const char *from,
	   const char *from_org, bool strict)
{
	char org[ADDR_DOMAIN_MAX + 1];

	if (id == NULL || *id == '\0')
		return 0;
	if (strcasecmp(id, from) == 0)
		return 1;
	if (strict || !addr_domain_is_subdomain(id, from_org))
		return 0;
	if (auth_dmarc_org_domain(c, id, org, sizeof(org)) < 0)
		return c->budget_hit ? 0 : -1;
	return strcmp(org, from_org) == 0;
}

/* dm_exists - false only on an NXDOMAIN answer for the domain */
static bool
dm_exists(struct auth_dmarc_ctx *c, const char *domain)
{
	struct dns_txt_result r;
	bool nx;

	if (!dm_ask(c, domain, &r))
		return true;
	nx = r.status == DNS_NXDOMAIN;
	dns_txt_result_clear(&r);
	return !nx;
}

/* auth_dmarc_evaluate - see auth_dmarc.h */
void
auth_dmarc_evaluate(struct auth_dmarc_ctx *c, const struct auth_dmarc_input *in,
		    struct auth_dmarc_result *out)
{
	const struct auth_dmarc_record *rec = &out->rec;
	bool temp = false, spf_temp = false;
	size_t i;
	int a;

	memset(out, 0, sizeof(*out));
	out->policy = AUTH_DMARC_P_NONE;
	out->res = dm_discover(c, in->from_domain, out);
	if (!out->record_found)
		return;
	if (out->rec.policy_invalid) {
		/*
		 * RFC 9989 4.10.1: no valid p (or an invalid sp or np): with a
		 * valid rua, act as if the record said p=none; without one,
		 * no DMARC processing at all.
		 */
		if (!out->rec.rua_valid) {
			out->record_found = false;
			out->res = AUTH_DMARC_NONE;
			out->why = "DMARC record without a valid policy or rua";
			return;
		}
		out->rec.p = AUTH_DMARC_P_NONE;
		out->rec.sp = out->rec.np = AUTH_DMARC_P_UNSET;
		out->rec.testing = false;
	}
	/* the requested policy */
	if (strcmp(out->record_domain, in->from_domain) == 0) {
		out->policy = rec->p;
		out->which = AUTH_DMARC_WHICH_P;
	} else {
		if (rec->np != AUTH_DMARC_P_UNSET && !dm_exists(c, in->from_domain)) {
			out->from_nxdomain = true;
			out->policy = rec->np;
			out->which = AUTH_DMARC_WHICH_NP;
		} else if (rec->sp != AUTH_DMARC_P_UNSET) {
			out->policy = rec->sp;
			out->which = AUTH_DMARC_WHICH_SP;
		} else {
			out->policy = rec->p;
			out->which = AUTH_DMARC_WHICH_P;
		}
	}
	/* alignment: SPF first, then each passing signature */
	if (in->spf_pass) {
		a = dm_aligned(c, in->spf_domain, in->from_domain, out->org_domain,
			       rec->aspf_strict);
		out->spf_aligned = a == 1;
		temp |= a < 0;
	} else if (in->spf_temperror
		   && dm_aligned(c, in->spf_domain, in->from_domain, out->org_domain,
				 rec->aspf_strict) != 0) {
		spf_temp = true;
	}
	for (i = 0; i < in->ndkim && i < AUTH_DMARC_DKIM_MAX && !out->dkim_aligned; i++) {
		a = dm_aligned(c, in->dkim_domains[i], in->from_domain, out->org_domain,
			       rec->adkim_strict);
		if (a == 1) {
			out->dkim_aligned = true;
			dm_copy(out->dkim_domain, sizeof(out->dkim_domain),
				in->dkim_domains[i]);
		}
		temp |= a < 0;
	}
	if (out->spf_aligned || out->dkim_aligned) {
		out->res = AUTH_DMARC_PASS;
		out->why = out->dkim_aligned ? "aligned DKIM pass" : "aligned SPF pass";
	} else if (temp) {
		out->res = AUTH_DMARC_TEMPERROR;
		out->why = "DNS temporary failure checking alignment";
	} else if (spf_temp) {
		out->res = AUTH_DMARC_TEMPERROR;
		out->why = "SPF temperror for an aligned domain";
	} else {
		out->res = AUTH_DMARC_FAIL;
		out->why = "no aligned SPF or DKIM pass";
	}
}

/* auth_dmarc_res_name - result word for AR and logs */
const char *
auth_dmarc_res_name(enum auth_dmarc_res r)
{
	switch (r) {
	case AUTH_DMARC_NONE: return "none";
	case AUTH_DMARC_PASS: return "pass";
	case AUTH_DMARC_FAIL: return "fail";
	case AUTH_DMARC_TEMPERROR: return "temperror";
	case AUTH_DMARC_PERMERROR: return "permerror";
	}
	return "unknown";
}

/*
 * auth_dmarc_p_applied - RFC 9989 t=y: the policy applied is one level
 * below the one requested (reject -> quarantine -> none); see the "t"
 * tag in section 4.7. The requested one already went through sp, np.
 */
enum auth_dmarc_p
auth_dmarc_p_applied(enum auth_dmarc_p requested, bool testing)
{
	if (!testing)
		return requested;
	switch (requested) {
	case AUTH_DMARC_P_REJECT: return AUTH_DMARC_P_QUARANTINE;
	case AUTH_DMARC_P_QUARANTINE: return AUTH_DMARC_P_NONE;
	default: return requested;
	}
}
