/*++
 * NAME
 *	limit_rules 3h
 * SUMMARY
 *	the rules file of postmill-limit, and which rules a message meets
 * SYNOPSIS
 *	#include "limit_rules.h"
 * DESCRIPTION
 *	The rules file (limit_rules_file) holds one rule or exemption per
 *	line; "#" starts a comment, blank lines are ignored:
 *
 *	  # name   key            what        limits...                        action
 *	  plan     sasl           recipients  quota=50000/day quota=1000000/month reject
 *	  burst    sasl           messages    rate=20/1s burst=100
 *	  perip    client_ip/64   messages    rate=100/1m burst=100
 *	  exempt   sasl           alice bob
 *	  exempt   client_ip      10.0.0.0/8 2001:db8::/32
 *
 *	name: 1 to LIMIT_NAME_MAX letters, digits, "_", "-" or "."; unique;
 *	not "exempt". It appears in key names, logs and SMTP replies.
 *
 *	key: whose sending the rule counts:
 *	  sasl		the SASL login ({auth_authen}); only authenticated mail
 *	  sender	the envelope sender address, compared without ASCII
 *			case; the null sender counts as "<>"
 *	  sender_domain	the envelope sender's domain; not the null sender
 *	  client_ip[/N]	the client address: IPv4 per address, IPv6 per /N
 *			network (default /64, N 1..128)
 *	A message whose fact is missing (no login, no IP address) is not
 *	counted by that rule.
 *
 *	what: "recipients" (counted one per accepted RCPT) or "messages"
 *	(counted one per message at end of message).
 *
 *	limits, at least one, at most LIMIT_MAX_PER_RULE, all checked at once:
 *	  quota=N/WINDOW  at most N per window: hour, day, week, month or a
 *			  duration ("10s", "2h", "3d"); limit_window.h has the
 *			  alignment; one quota per window length
 *	  rate=R/PERIOD   R per PERIOD on average ("20/1s", "100/1m", "5/s"),
 *			  as a GCRA (a token bucket): at most one rate per rule
 *	  burst=B         how many may come at once after a quiet spell
 *			  (default R)
 *	action: "tempfail" (default: 451 4.7.1) or "reject" (550 5.7.1) when
 *	a limit of the rule refuses.
 *
 *	exempt KIND VALUE...: rules of that key kind do not count VALUE:
 *	logins for sasl, addresses for sender, domains for sender_domain,
 *	addresses or networks for client_ip. Any number of such lines.
 *
 *	limit_rules_parse() reads the text and reports every problem as
 *	"path:line: ..." into the errlist (one run lists all); it returns NULL
 *	when there was any. limit_rules_load() reads the file first. Free
 *	with limit_rules_free() (takes NULL, returns NULL).
 *
 *	Key values. A rule counts per "key value", a text such as
 *	"sasl:alice", "sender:bob@example.com", "domain:example.com",
 *	"ip:192.0.2.7" or "ip:2001:db8:1:2::/64". It is the Redis hash tag
 *	of every key of that sender (limit_store.h). limit_key_value()
 *	builds it from the facts of a message, or returns NULL when the rule
 *	does not apply (fact missing or exempt); the caller frees it.
 *
 *	limit_facts_set_sender() fills the sender facts from a MAIL FROM
 *	path (normalized: A-label domain, ASCII lower case); a path the
 *	strict parser refuses is still counted, by its lower-cased text,
 *	so that odd syntax is no way around a limit.
 *	limit_facts_set_ip() takes a client address (IPv4-mapped IPv6 counts
 *	as IPv4). limit_facts_from_key() reads what an operator types
 *	("sasl:alice", "sender:a@b", "domain:b", "ip:192.0.2.7") for
 *	postmillctl. limit_facts_free() frees what the setters allocated.
 *
 *	Plans. limit_plan_build() groups the rules that apply to one message
 *	by key value, in the order of the rules file: one "call" per key
 *	value, because one Redis script may only touch the keys of one hash
 *	tag (one Redis Cluster slot). limit_plan_free() releases it.
 * THREAD SAFETY
 *	A loaded struct limit_rules is immutable; share it between threads.
 *--*/
#ifndef POSTMILL_LIMIT_RULES_H
#define POSTMILL_LIMIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"
#include "cidr.h"
#include "errlist.h"
#include "limit_window.h"

#define LIMIT_NAME_MAX		32
#define LIMIT_MAX_RULES		256
#define LIMIT_MAX_PER_RULE	8
#define LIMIT_MAX_PER_KIND	100	/* limits of one key kind and what */
#define LIMIT_MAX_COUNT		1000000000000LL	/* 10^12: exact in Lua */
#define LIMIT_MAX_RATE_PERIOD_MS (366LL * LIMIT_DAY_MS)
#define LIMIT_MAX_FILE		(4 * 1024 * 1024)
#define LIMIT_DEFAULT_V6_PREFIX	64

enum limit_key_kind {
	LIMIT_KEY_SASL,
	LIMIT_KEY_SENDER,
	LIMIT_KEY_DOMAIN,
	LIMIT_KEY_IP,
};
#define LIMIT_KEY_NKINDS	4

enum limit_what {
	LIMIT_WHAT_MESSAGES,
	LIMIT_WHAT_RECIPIENTS,
};
#define LIMIT_WHAT_N	2

enum limit_type {
	LIMIT_TYPE_QUOTA,
	LIMIT_TYPE_RATE,
};

struct limit_def {
	enum limit_type	type;
	char		name[LIMIT_WINDOW_NAME_MAX];	/* "day", "10s", "rate" */
	long long	count;		/* quota: N per window; rate: R per period */
	struct limit_window window;	/* quota */
	long long	period_ms;	/* rate */
	long long	burst;		/* rate */
};

struct limit_rule {
	char		name[LIMIT_NAME_MAX + 1];
	enum limit_key_kind kind;
	unsigned	v6_prefix;	/* LIMIT_KEY_IP */
	enum limit_what	what;
	bool		reject;		/* 550 5.7.1 instead of 451 4.7.1 */
	struct limit_def limits[LIMIT_MAX_PER_RULE];
	size_t		nlimits;
	unsigned	line;
};

struct limit_rules {
	struct limit_rule *rules;
	size_t		 nrules;
	struct cfg_list	 exempt[LIMIT_KEY_IP];	/* sasl, sender, domain values */
	struct cidr_list exempt_ip;
};

struct limit_facts {
	char		*login;		/* {auth_authen}, or NULL */
	char		*sender;	/* "local@domain" or "<>", or NULL */
	char		*sender_domain;	/* or NULL */
	int		 family;	/* AF_INET, AF_INET6, or AF_UNSPEC */
	unsigned char	 addr[16];
};

struct limit_call {
	char		*keyval;	/* "sasl:alice": the hash tag */
	const struct limit_rule **rules;
	size_t		 nrules;
};

struct limit_plan {
	struct limit_call *calls;
	size_t		 ncalls;
};

struct limit_rules *limit_rules_parse(const char *text, size_t len,
				      const char *path, struct errlist *el);
struct limit_rules *limit_rules_load(const char *path, struct errlist *el);
struct limit_rules *limit_rules_free(struct limit_rules *r);
const struct limit_rule *limit_rules_find(const struct limit_rules *r,
					  const char *name);

const char *limit_kind_name(enum limit_key_kind kind);
const char *limit_what_name(enum limit_what what);

void	limit_facts_set_sender(struct limit_facts *f, const char *path,
			       size_t len);
void	limit_facts_set_ip(struct limit_facts *f, int family, const void *addr);
int	limit_facts_from_key(struct limit_facts *f, const char *text,
			     enum limit_key_kind *kind, const char **why);
void	limit_facts_free(struct limit_facts *f);

char   *limit_key_value(const struct limit_rules *r, const struct limit_rule *rule,
			const struct limit_facts *f);
void	limit_plan_build(const struct limit_rules *r, const struct limit_facts *f,
			 struct limit_plan *out);
void	limit_plan_free(struct limit_plan *p);
bool	limit_call_counts(const struct limit_call *c, enum limit_what what);

#endif
