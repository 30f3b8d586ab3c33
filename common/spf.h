/*++
 * NAME
 *	spf 3h
 * SUMMARY
 *	Sender Policy Framework evaluator (RFC 7208)
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	struct spf_evaluator *spf_evaluator_new(const struct dns_resolver *dns,
 *		unsigned max_lookups, unsigned max_void);
 *	void spf_evaluator_set_max_time(struct spf_evaluator *e, long ms);
 *	void	spf_evaluator_set_max_time(struct spf_evaluator *e, long ms);
struct spf_evaluator *spf_evaluator_free(struct spf_evaluator *e);
 *	enum spf_result spf_check(const struct spf_evaluator *e,
 *		const struct spf_query *q, long now, struct spf_outcome *out);
 *	const char *spf_result_name(enum spf_result res);
 *	int spf_received_spf(char *buf, size_t size,
 *		const struct spf_query *q, const struct spf_outcome *out);
 * DESCRIPTION
 *	spf_evaluator_new() binds a resolver (borrowed: it must outlive the
 *	evaluator) and the processing limits of RFC 7208 4.6.4: at most
 *	max_lookups terms that cause DNS queries (0 means SPF_MAX_LOOKUPS,
 *	the RFC's 10) and at most max_void lookups that return no answer
 *	(0 means SPF_MAX_VOID, the RFC's 2). The evaluator is immutable: any
 *	number of threads may call spf_check() on it at once. It never
 *	fails; spf_evaluator_free() takes NULL and returns NULL.
 *	spf_evaluator_set_max_time() (before the evaluator is shared) bounds
 *	the wall time of one spf_check(): no DNS query starts after ms
 *	(default SPF_MAX_TIME_MS, 0 too), and the result is then temperror.
 *	Each query is bounded by the resolver's own deadline as well.
 *
 *	spf_check() runs check_host() (RFC 7208 section 4) for the identity
 *	q->identity: SPF_ID_MAILFROM checks the domain of q->mail_from (or
 *	"postmaster@" q->helo for a null sender, RFC 7208 2.4), SPF_ID_HELO
 *	checks q->helo (RFC 7208 2.3). now is the time for the %{t} macro.
 *	It always fills *out and returns out->result. All strings in *out
 *	are NUL-terminated and truncated to fit; they hold text from DNS,
 *	so escape them before logging.
 *
 *	spf_result_name() gives the lower-case result name of RFC 7208 2.6
 *	("pass", "fail", "softfail", "neutral", "none", "temperror",
 *	"permerror"), as Received-SPF and Authentication-Results want it.
 *
 *	spf_received_spf() writes the value of a Received-SPF header field
 *	(RFC 7208 9.1, without "Received-SPF: " and without a final CRLF):
 *	the result, a comment, and key=value pairs client-ip, envelope-from,
 *	helo, receiver, identity, and mechanism (or problem for temperror
 *	and permerror). Values that are not a dot-atom are quoted. It returns
 *	the length written, or -1 when it did not fit in size bytes (buf is
 *	then an empty string if size > 0).
 * BOUNDS
 *	Records longer than SPF_MAX_RECORD_LEN or with more than
 *	SPF_MAX_TERMS terms are permerrors; includes and redirects nest at
 *	most SPF_MAX_DEPTH deep (the lookup limit stops them first); a macro
 *	expands to at most SPF_MAX_DOMAIN_LEN characters for a domain
 *	(RFC 7208 7.3: left labels are dropped) and SPF_MAX_EXP_LEN for an
 *	explanation.
 *--*/
#ifndef POSTMILL_SPF_H
#define POSTMILL_SPF_H

#include <stddef.h>

#define SPF_MAX_LOOKUPS		10	/* RFC 7208 4.6.4 */
#define SPF_MAX_VOID		2	/* RFC 7208 4.6.4 */
#define SPF_MAX_MX_NAMES	10	/* RFC 7208 4.6.4: per mx mechanism */
#define SPF_MAX_PTR_NAMES	10	/* RFC 7208 4.6.4: per ptr / %{p} */
#define SPF_MAX_DEPTH		16	/* include + redirect nesting */
#define SPF_MAX_RECORD_LEN	4096	/* bytes of one record */
#define SPF_MAX_TERMS		128	/* terms in one record */
#define SPF_MAX_DOMAIN_LEN	253	/* RFC 7208 7.3 */
#define SPF_MAX_EXP_LEN		511	/* fits spf_outcome.explanation */
#define SPF_MAX_TIME_MS		20000L	/* RFC 7208 4.6.4: "at least 20 seconds" */

struct dns_resolver;

enum spf_result {
	SPF_RES_NONE,
	SPF_RES_NEUTRAL,
	SPF_RES_PASS,
	SPF_RES_FAIL,
	SPF_RES_SOFTFAIL,
	SPF_RES_TEMPERROR,
	SPF_RES_PERMERROR,
};

enum spf_identity {
	SPF_ID_MAILFROM,
	SPF_ID_HELO,
};

struct spf_query {
	const char	*client_ip;	/* textual IPv4 or IPv6; ::ffff:a.b.c.d is IPv4 */
	const char	*helo;		/* HELO/EHLO argument as given */
	const char	*mail_from;	/* without <>; NULL or "": postmaster@helo */
	const char	*receiver;	/* our host name, for %{r} */
	enum spf_identity identity;
};

struct spf_outcome {
	enum spf_result	result;
	char		domain[256];	/* the domain checked */
	char		mechanism[256];	/* term that matched, "default" or "" */
	char		explanation[512]; /* expanded exp= text on fail, or "" */
	char		problem[256];	/* why temperror/permerror, or "" */
	unsigned	dns_lookups;	/* terms that counted (RFC 7208 4.6.4) */
	unsigned	void_lookups;
};

struct spf_evaluator;

struct spf_evaluator *spf_evaluator_new(const struct dns_resolver *dns,
					unsigned max_lookups, unsigned max_void);
void	spf_evaluator_set_max_time(struct spf_evaluator *e, long ms);
struct spf_evaluator *spf_evaluator_free(struct spf_evaluator *e);
enum spf_result spf_check(const struct spf_evaluator *e,
			  const struct spf_query *q, long now,
			  struct spf_outcome *out);
const char *spf_result_name(enum spf_result res);
int	spf_received_spf(char *buf, size_t size, const struct spf_query *q,
			 const struct spf_outcome *out);

#endif
