/*++
 * NAME
 *	auth_dmarc 3h
 * SUMMARY
 *	DMARC evaluation (RFC 9989): policy discovery, organizational
 *	domains, alignment
 * SYNOPSIS
 *	#include "auth_dmarc.h"
 * DESCRIPTION
 *	One struct auth_dmarc_ctx per message. It asks for TXT records
 *	through the function it is given (the milter passes dns_query_txt()
 *	on the shared resolver, unit tests a table), counts the queries
 *	against max_queries and remembers every answer, so the tree walks
 *	of the From domain and of the SPF and DKIM domains, which share
 *	their upper labels, ask for each name once.
 *
 *	The DNS Tree Walk (RFC 9989 section 4.10): ask _dmarc.D for D, then
 *	for D minus its first label, and so on up to the last label; a
 *	name with 8 or more labels jumps to its last 7 first, so a walk
 *	asks at most 8 names. At each name only records starting with
 *	v=DMARC1 count; two or more of them there make the record invalid.
 *
 *	auth_dmarc_evaluate() does the whole check for one From domain:
 *	1. Policy discovery (section 4.10.1): the Author Domain's own
 *	   record, else the record of its Organizational Domain, else that
 *	   of its Public Suffix Domain (the name with psd=y where the walk
 *	   stopped). A record at a name between the Author and the
 *	   Organizational Domain only helps find the latter: it is never
 *	   the policy (Appendix B.4.2). Several DMARC records at one name
 *	   are discarded as if none were there (4.10 step 2). None found:
 *	   result none. A temporary DNS failure: temperror.
 *	   A policy record whose p (or sp, np) is present but invalid
 *	   (4.10.1): with a valid rua it counts as p=none; without one no
 *	   DMARC processing applies (result none, record_found false).
 *	   With org_mode psl (RFC 7489 section 6.6.3), only the From domain
 *	   and its PSL organizational domain are asked.
 *	2. The organizational domain of the From domain (section 4.10.2):
 *	   walking up, the first record with psd=n names it; a record with
 *	   psd=y names the domain one label below it (at the From domain
 *	   itself: the From domain; the walk stops at either); otherwise
 *	   the record with the fewest labels; with no record at all, the
 *	   From domain itself. psl: the PSL.
 *	3. Alignment (section 4.4): an identifier that passed (the SPF
 *	   MAIL FROM domain, or HELO for a null sender, and each passing
 *	   DKIM d=) aligns strictly when it equals the From domain, and
 *	   relaxed when their organizational domains are equal. Only a
 *	   An SPF temperror on an identity that would align makes the
 *	   result temperror rather than fail (unless something else
 *	   aligned): a pass was possible, and a DNS failure must not
 *	   reject mail (the issue: temperror gets its own action).
 *	   Only a
 *	   subdomain of the From organizational domain can have the same
 *	   one, so others cost no query. When the query budget runs out
 *	   during alignment the identifier counts as not aligned: a sender
 *	   cannot buy a softer verdict by adding signatures with deep d=.
 *	4. The policy requested (section 5.3, 4.7): p when the record is
 *	   the From domain's own; otherwise np when the From domain does
 *	   not exist (an NXDOMAIN answer for it, asked only then) and np
 *	   is given, else sp when given, else p. t=y is kept in testing;
 *	   the disposition decision (auth_policy.h) applies it.
 *	The result is pass when any identifier aligned, else fail.
 * THREAD SAFETY
 *	A context belongs to one message; the lookup function must be
 *	thread-safe when contexts are used in parallel.
 *--*/
#ifndef POSTMILL_AUTH_DMARC_H
#define POSTMILL_AUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "auth_dmarc_record.h"
#include "dns.h"

#define AUTH_DMARC_WALK_MAX	8	/* RFC 9989 4.10: names per walk */
#define AUTH_DMARC_CACHE_MAX	48	/* names remembered per message */
#define AUTH_DMARC_DKIM_MAX	32	/* passing DKIM domains considered */

struct auth_psl;

/* auth_dmarc_txt_fn - TXT lookup; returns and fills out->status */
typedef int (*auth_dmarc_txt_fn)(void *arg, const char *name,
				 struct dns_txt_result *out);

enum auth_dmarc_org_mode {
	AUTH_DMARC_ORG_TREE_WALK,
	AUTH_DMARC_ORG_PSL,
};

enum auth_dmarc_res {
	AUTH_DMARC_NONE,
	AUTH_DMARC_PASS,
	AUTH_DMARC_FAIL,
	AUTH_DMARC_TEMPERROR,
	AUTH_DMARC_PERMERROR,
};

enum auth_dmarc_which {		/* which tag gave the policy */
	AUTH_DMARC_WHICH_P,
	AUTH_DMARC_WHICH_SP,
	AUTH_DMARC_WHICH_NP,
};

struct auth_dmarc_entry;

struct auth_dmarc_ctx {
	auth_dmarc_txt_fn	 txt;
	void			*arg;
	enum auth_dmarc_org_mode mode;
	const struct auth_psl	*psl;		/* mode psl only */
	unsigned		 max_queries;
	unsigned		 queries;	/* asked so far */
	bool			 budget_hit;
	size_t			 ncache;
	struct auth_dmarc_entry	*cache;		/* AUTH_DMARC_CACHE_MAX */
};

struct auth_dmarc_input {
	const char	*from_domain;		/* normalized */
	const char	*spf_domain;		/* MAIL FROM (HELO if null sender) */
	bool		 spf_pass;
	bool		 spf_temperror;		/* that identity: SPF temperror */
	const char	*dkim_domains[AUTH_DMARC_DKIM_MAX]; /* d= of passing sigs */
	size_t		 ndkim;
};

struct auth_dmarc_result {
	enum auth_dmarc_res	res;
	const char		*why;		/* static, for logs and AR */
	struct auth_dmarc_record rec;		/* valid when record_found */
	bool			 record_found;
	char			 record_domain[ADDR_DOMAIN_MAX + 1];
	char			 org_domain[ADDR_DOMAIN_MAX + 1];
	enum auth_dmarc_p	 policy;	/* requested by p/sp/np */
	enum auth_dmarc_which	 which;
	bool			 from_nxdomain;
	bool			 spf_aligned;
	bool			 dkim_aligned;
	char			 dkim_domain[ADDR_DOMAIN_MAX + 1]; /* the aligned one */
};

void	auth_dmarc_ctx_init(struct auth_dmarc_ctx *c, auth_dmarc_txt_fn txt,
			    void *arg, enum auth_dmarc_org_mode mode,
			    const struct auth_psl *psl, unsigned max_queries);
void	auth_dmarc_ctx_clear(struct auth_dmarc_ctx *c);
void	auth_dmarc_evaluate(struct auth_dmarc_ctx *c,
			    const struct auth_dmarc_input *in,
			    struct auth_dmarc_result *out);
/* auth_dmarc_org_domain - org domain of d into buf; 0, or -1 temperror */
int	auth_dmarc_org_domain(struct auth_dmarc_ctx *c, const char *d,
			      char *buf, size_t size);
/* auth_dmarc_walk_names - the names a walk from d asks, in order */
size_t	auth_dmarc_walk_names(const char *d, const char **names, size_t max);
const char *auth_dmarc_res_name(enum auth_dmarc_res r);
/* auth_dmarc_p_applied - policy after t=y (one step softer when testing) */
enum auth_dmarc_p auth_dmarc_p_applied(enum auth_dmarc_p requested, bool testing);

#endif
