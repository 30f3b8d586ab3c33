/*++
 * NAME
 *	auth_record 3h
 * SUMMARY
 *	what postmill-auth keeps of each message for DMARC aggregate reports
 *	(RFC 9990), and how it is kept in Redis
 * SYNOPSIS
 *	#include "auth_record.h"
 * DESCRIPTION
 *	An aggregate report (RFC 9990, "Aggregate Reports") is one XML document per
 *	Policy Domain and day; each "record" element is one distinct
 *	combination of source IP, identifiers, DMARC evaluation and SPF/DKIM
 *	results, with the number of messages that had it. So postmill-auth
 *	keeps a count per distinct row, not a row per message.
 *
 *	auth_record_build() (pure) turns the verdicts of one message into a
 *	struct auth_record_row and the policy the message was evaluated
 *	under into a struct auth_record_policy. It returns false when the
 *	message is not reported: no DMARC record was found (nobody asked
 *	for reports), the verdict was tempfail (the client will send the
 *	message again, and it would be counted twice), or the client address
 *	is not a numeric IP address (a local submission: source_ip is
 *	required). What the row holds:
 *	- source_ip, header_from (the From domain), envelope_from (the MAIL
 *	  FROM domain, "" for the null reverse-path, RFC 9990, "identifiers");
 *	- policy_evaluated: disposition (what was done: reject, quarantine,
 *	  none; "pass" for a DMARC pass under an enforcing policy, as the
 *	  schema's ActionDispositionType says), dkim and spf (aligned pass or
 *	  fail, RFC 9989 4.4), and one override reason when the disposition
 *	  is not what the policy asked for: policy_test_mode (t=y),
 *	  trusted_forwarder (auth_trusted_forwarders), local_policy
 *	  (auth_trusted_senders, a dry run, an SPF reject, a trusted upstream
 *	  dmarc=pass), with a short comment;
 *	- auth_results: spf (the MAIL FROM identity, or postmaster@HELO for
 *	  the null sender, RFC 7208 2.4; scope mfrom) unless SPF was not
 *	  checked, and up to AUTH_RECORD_SIGS_MAX dkim results in the order
 *	  RFC 9990 prefers ("DKIM Signatures in Aggregate Reports"): passes with d= equal to the From domain,
 *	  the aligned pass, other passes, then the rest.
 *
 *	auth_record_row_format() writes a row as one line of text, the Redis
 *	hash field: "1|ip|from|mailfrom|disposition|dkim|spf|reason|comment|
 *	spfdomain|spfresult|d/s/result,d/s/result". Every value is
 *	percent-encoded: bytes outside 0x21..0x7e and the separators % | / ,
 *	become %XX, so any selector or domain (untrusted text from the
 *	message) keeps the fields apart. auth_record_row_parse() reads one
 *	back (untrusted: len bytes, no NUL needed) and checks every field
 *	against the values the report schema allows, so a row postmillctl
 *	turns into XML is always valid. auth_record_policy_format() and
 *	auth_record_policy_parse() do the same for the policy:
 *	"1|p|sp|np|adkim|aspf|testing|method". Both formats return the length
 *	written or -1 when it does not fit; the parsers return 0 or -1 with
 *	*why (static).
 *
 *	auth_record_day() writes the UTC day of now as YYYYMMDD: a report
 *	covers one UTC day (RFC 9990 recommends day boundaries in UTC).
 *
 *	Redis (auth_record_store()): per UTC day D and Policy Domain P,
 *	  PREFIX{D}rows:P	hash: row text -> message count
 *	  PREFIX{D}domains	hash: P -> policy text (the last one seen: RFC
 *				9990: "the final configuration observed")
 *	  PREFIX{D}nrows	distinct rows of the day, all domains
 *	  PREFIX{D}dropped	messages not counted: the day had max_rows rows
 *	  PREFIX{D}sent:P	set by postmillctl once P's report for D is sent
 *	All keys of a day carry the tag {D} (one Redis Cluster slot) and
 *	expire retention seconds after the last write: memory is bounded by
 *	max_rows distinct rows a day, over retention days. One Lua script
 *	counts and sets the expiry atomically (STYLE 3.9: never INCR then
 *	EXPIRE as two commands). auth_record_store() returns 1 counted, 0
 *	dropped (the day is full), -1 Redis failed (*why).
 * THREAD SAFETY
 *	Pure functions are reentrant; auth_record_store() is as safe as the
 *	pool (any thread).
 *--*/
#ifndef POSTMILL_AUTH_RECORD_H
#define POSTMILL_AUTH_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "auth_policy.h"
#include "auth_spf.h"
#include "redis.h"

#define AUTH_RECORD_SIGS_MAX	16	/* dkim results kept per row */
#define AUTH_RECORD_ROW_MAX	8192	/* text of one row, worst case encoded */
#define AUTH_RECORD_POLICY_MAX	128

struct auth_record_dkim {
	char	domain[ADDR_DOMAIN_MAX + 1];
	char	selector[64];
	char	result[12];		/* RFC 8601 2.7.1 */
};

struct auth_record_row {
	char	source_ip[AUTH_SPF_IP_MAX];
	char	header_from[ADDR_DOMAIN_MAX + 1];
	char	envelope_from[ADDR_DOMAIN_MAX + 1];	/* "": null sender */
	char	disposition[12];	/* none pass quarantine reject */
	bool	dkim_aligned;
	bool	spf_aligned;
	char	reason[20];		/* "" or a PolicyOverrideType */
	char	comment[64];
	char	spf_domain[ADDR_DOMAIN_MAX + 1];
	char	spf_result[12];		/* "": SPF not checked */
	size_t	ndkim;
	struct auth_record_dkim dkim[AUTH_RECORD_SIGS_MAX];
};

struct auth_record_policy {
	char	domain[ADDR_DOMAIN_MAX + 1];	/* where the record was found */
	char	p[12], sp[12], np[12];	/* effective: sp defaults to p, np to sp */
	char	adkim, aspf;		/* 'r' or 's' */
	char	testing;		/* 'y' or 'n' */
	bool	psl;			/* discovery_method psl, else treewalk */
};

struct auth_record_in {
	const char		*client_ip;	/* numeric, or "local" */
	const struct auth_spf	*spf;		/* NULL: not checked */
	const struct auth_dkim_sig *sigs;
	size_t			 nsigs;
	const char		*from_domain;
	const struct auth_dmarc_result *dmarc;
	enum auth_dmarc_res	 dmarc_res;	/* after trusted upstream */
	const struct auth_verdict *verdict;
	bool			 dry_run;
	bool			 psl;
};

struct auth_record_store_conf {
	const char	*prefix;
	long		 retention_s;
	long long	 max_rows;
};

bool	auth_record_build(const struct auth_record_in *in,
			  struct auth_record_row *row,
			  struct auth_record_policy *pol);
int	auth_record_row_format(const struct auth_record_row *row, char *buf,
			       size_t size);
int	auth_record_row_parse(const char *text, size_t len,
			      struct auth_record_row *row, const char **why);
int	auth_record_policy_format(const struct auth_record_policy *pol,
				  char *buf, size_t size);
int	auth_record_policy_parse(const char *text, size_t len,
				 struct auth_record_policy *pol,
				 const char **why);
void	auth_record_day(time_t now, char out[9]);
int	auth_record_store(struct redis_pool *pool,
			  const struct auth_record_store_conf *conf,
			  const struct auth_record_row *row,
			  const struct auth_record_policy *pol, time_t now,
			  const char **why);
/*
 * auth_record_message - build and store one message's row: best effort.
 * Never fails the message; a Redis failure is logged (LOG_WARNING, once
 * per back-off period: while the pool backs off only at LOG_DEBUG) with
 * the count of failures since start.
 */
void	auth_record_message(struct redis_pool *pool,
			    const struct auth_record_store_conf *conf,
			    const struct auth_record_in *in, time_t now,
			    const char *qid);
/* auth_record_store_script - the Lua source, for tests */
const char *auth_record_store_script(void);

#endif
