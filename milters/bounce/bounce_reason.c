/*++
 * NAME
 *	bounce_reason 3
 * SUMMARY
 *	the reason table and the class rule (see bounce_reason.h)
 * DESCRIPTION
 *	The table is grouped by reason, in this order, because the first
 *	match wins:
 *	  rate_limited	first: receivers send "550 5.1.1" or "5.7.1" with a
 *			rate-limit text, and such texts seldom name anything
 *			else
 *	  spam_rejected	content and reputation blocks (block lists)
 *	  domain_unknown before user_unknown: "domain does not exist" must
 *			not end as "does not exist"
 *	  suspended	before user_unknown: "account disabled" is not gone
 *	  user_unknown
 *	  mailbox_full, message_too_large, policy_rejected
 *	  expired, network_error, system_error: the weakest texts last
 *	Patterns come from the bounces of the corpus
 *	(tests/unit/data/bounces/) and the documented texts of the large
 *	providers; keep them specific enough not to match help texts.
 *--*/
#include <stdbool.h>
#include <string.h>

#include "bounce_reason.h"

#define R(p, r)	{p, BOUNCE_REASON_##r}

static const struct bounce_reason_row rows[] = {
	/* the receiver limits the sender's rate */
	R("rate limit", RATE_LIMITED),
	R("ratelimit", RATE_LIMITED),
	R("rate-limit", RATE_LIMITED),
	R("too many messages", RATE_LIMITED),
	R("too many connections", RATE_LIMITED),
	R("too many concurrent", RATE_LIMITED),
	R("too many emails", RATE_LIMITED),
	R("too many mails", RATE_LIMITED),
	R("too many recipients", RATE_LIMITED),
	R("too much mail", RATE_LIMITED),
	R("sending rate", RATE_LIMITED),
	R("message rate", RATE_LIMITED),
	R("connection rate", RATE_LIMITED),
	R("receiving mail at a rate", RATE_LIMITED),	/* Gmail 4.2.1 */
	R("receiving mail too quickly", RATE_LIMITED),
	R("exceeded the rate", RATE_LIMITED),
	R("throttl", RATE_LIMITED),
	R("slow down", RATE_LIMITED),
	R("deferred due to user complaints", SPAM_REJECTED), /* Yahoo TS */
	R("temporarily deferred", RATE_LIMITED),	/* Yahoo TS01/TS02 */

	/* content and reputation */
	R("spam", SPAM_REJECTED),
	R("unsolicited", SPAM_REJECTED),
	R("junk mail", SPAM_REJECTED),
	R("bulk mail", SPAM_REJECTED),
	R("blacklist", SPAM_REJECTED),
	R("black list", SPAM_REJECTED),
	R("blocklist", SPAM_REJECTED),
	R("block list", SPAM_REJECTED),
	R("blocked using", SPAM_REJECTED),
	R("listed at", SPAM_REJECTED),
	R("listed on", SPAM_REJECTED),
	R("dnsbl", SPAM_REJECTED),
	R("rbl", SPAM_REJECTED),
	R("sorbs", SPAM_REJECTED),
	R("barracuda", SPAM_REJECTED),
	R("reputation", SPAM_REJECTED),
	R("banned sending ip", SPAM_REJECTED),	/* O365 5.7.606 */
	R("content rejected", SPAM_REJECTED),
	R("message content", SPAM_REJECTED),
	R("content filter", SPAM_REJECTED),
	R("virus", SPAM_REJECTED),
	R("malware", SPAM_REJECTED),
	R("phishing", SPAM_REJECTED),
	R("malicious", SPAM_REJECTED),

	/* the domain does not exist or takes no mail (RFC 7505 null MX) */
	R("host or domain name not found", DOMAIN_UNKNOWN),	/* Postfix */
	R("domain not found", DOMAIN_UNKNOWN),
	R("domain name not found", DOMAIN_UNKNOWN),
	R("domain couldn't be found", DOMAIN_UNKNOWN),
	R("domain name couldn't be found", DOMAIN_UNKNOWN),
	R("domain could not be found", DOMAIN_UNKNOWN),
	R("no such domain", DOMAIN_UNKNOWN),
	R("domain does not exist", DOMAIN_UNKNOWN),
	R("domain doesn't exist", DOMAIN_UNKNOWN),
	R("unknown domain", DOMAIN_UNKNOWN),
	R("invalid domain", DOMAIN_UNKNOWN),
	R("nxdomain", DOMAIN_UNKNOWN),
	R("null mx", DOMAIN_UNKNOWN),
	R("nullmx", DOMAIN_UNKNOWN),
	R("does not accept mail", DOMAIN_UNKNOWN),	/* Postfix, null MX */
	R("no mx", DOMAIN_UNKNOWN),
	R("no valid mx", DOMAIN_UNKNOWN),
	R("mx lookup", DOMAIN_UNKNOWN),
	R("name service error", DOMAIN_UNKNOWN),
	R("unrouteable address", DOMAIN_UNKNOWN),	/* Exim */
	R("unroutable address", DOMAIN_UNKNOWN),
	R("all relevant mx records point to non-existent hosts", DOMAIN_UNKNOWN),
	R("bad destination system address", DOMAIN_UNKNOWN),

	/* the mailbox exists but is switched off */
	R("account disabled", SUSPENDED),
	R("account is disabled", SUSPENDED),
	R("account has been disabled", SUSPENDED),
	R("mailbox disabled", SUSPENDED),
	R("mailbox is disabled", SUSPENDED),
	R("mailbox has been disabled", SUSPENDED),
	R("is disabled", SUSPENDED),		/* Gmail 5.2.1 */
	R("disabled account", SUSPENDED),
	R("account suspended", SUSPENDED),
	R("account is suspended", SUSPENDED),
	R("account has been suspended", SUSPENDED),
	R("mailbox suspended", SUSPENDED),
	R("user suspended", SUSPENDED),
	R("inactive", SUSPENDED),
	R("deactivated", SUSPENDED),
	R("account expired", SUSPENDED),
	R("account has expired", SUSPENDED),
	R("account locked", SUSPENDED),
	R("account is locked", SUSPENDED),
	R("discontinued", SUSPENDED),		/* Yahoo */
	R("no longer active", SUSPENDED),

	/* the address does not exist */
	R("user unknown", USER_UNKNOWN),
	R("unknown user", USER_UNKNOWN),
	R("user is unknown", USER_UNKNOWN),
	R("no such user", USER_UNKNOWN),
	R("user not found", USER_UNKNOWN),
	R("user does not exist", USER_UNKNOWN),
	R("user doesn't exist", USER_UNKNOWN),
	R("unknown recipient", USER_UNKNOWN),
	R("recipient unknown", USER_UNKNOWN),
	R("recipient not found", USER_UNKNOWN),
	R("recipientnotfound", USER_UNKNOWN),		/* Exchange */
	R("no such recipient", USER_UNKNOWN),
	R("invalid recipient", USER_UNKNOWN),
	R("recipient does not exist", USER_UNKNOWN),
	R("unknown address", USER_UNKNOWN),
	R("address unknown", USER_UNKNOWN),
	R("addressee unknown", USER_UNKNOWN),
	R("unknown mailbox", USER_UNKNOWN),
	R("mailbox unknown", USER_UNKNOWN),
	R("no such mailbox", USER_UNKNOWN),
	R("mailbox not found", USER_UNKNOWN),
	R("mailbox does not exist", USER_UNKNOWN),
	R("mailbox doesn't exist", USER_UNKNOWN),
	R("mailbox unavailable", USER_UNKNOWN),
	R("mailbox is unavailable", USER_UNKNOWN),
	R("invalid mailbox", USER_UNKNOWN),
	R("not a valid mailbox", USER_UNKNOWN),
	R("no mailbox here by that name", USER_UNKNOWN),	/* qmail */
	R("unknown local part", USER_UNKNOWN),		/* Exim */
	R("unknown or illegal alias", USER_UNKNOWN),	/* Sendmail */
	R("account does not exist", USER_UNKNOWN),
	R("account doesn't exist", USER_UNKNOWN),
	R("doesn't have a", USER_UNKNOWN),	/* Yahoo: "... yahoo.com account" */
	R("does not have an account", USER_UNKNOWN),
	R("address couldn't be found", USER_UNKNOWN),	/* Gmail */
	R("couldn't be found", USER_UNKNOWN),		/* Exchange */
	R("could not be found", USER_UNKNOWN),
	R("address not found", USER_UNKNOWN),
	R("invalid address", USER_UNKNOWN),
	R("address does not exist", USER_UNKNOWN),
	R("address doesn't exist", USER_UNKNOWN),
	R("bad destination mailbox", USER_UNKNOWN),
	R("undeliverable address", USER_UNKNOWN),
	R("not listed in domino directory", USER_UNKNOWN),
	R("no longer exists", USER_UNKNOWN),
	R("does not exist", USER_UNKNOWN),
	R("doesn't exist", USER_UNKNOWN),

	/* the mailbox is full */
	R("mailbox full", MAILBOX_FULL),
	R("mailbox is full", MAILBOX_FULL),
	R("mail box full", MAILBOX_FULL),
	R("inbox is full", MAILBOX_FULL),
	R("mailfolder is full", MAILBOX_FULL),
	R("mailbox has exceeded", MAILBOX_FULL),
	R("mailbox exceeds", MAILBOX_FULL),
	R("mailbox size limit", MAILBOX_FULL),
	R("mailbox quota", MAILBOX_FULL),
	R("over quota", MAILBOX_FULL),
	R("overquota", MAILBOX_FULL),
	R("quota exceeded", MAILBOX_FULL),
	R("exceeded quota", MAILBOX_FULL),
	R("exceeds quota", MAILBOX_FULL),
	R("disk quota", MAILBOX_FULL),
	R("exceeded storage", MAILBOX_FULL),
	R("out of storage", MAILBOX_FULL),		/* Gmail 4.2.2 */
	R("insufficient storage", MAILBOX_FULL),
	R("storage allocation", MAILBOX_FULL),		/* RFC 5321 552 */

	/* the message is too big */
	R("message too large", MESSAGE_TOO_LARGE),
	R("message is too large", MESSAGE_TOO_LARGE),
	R("message too big", MESSAGE_TOO_LARGE),
	R("message is too big", MESSAGE_TOO_LARGE),
	R("message size exceeds", MESSAGE_TOO_LARGE),
	R("message size exceeded", MESSAGE_TOO_LARGE),
	R("message length exceeds", MESSAGE_TOO_LARGE),
	R("exceeds size limit", MESSAGE_TOO_LARGE),	/* Postfix */
	R("exceeds the size limit", MESSAGE_TOO_LARGE),
	R("exceeds the maximum", MESSAGE_TOO_LARGE),
	R("size limit", MESSAGE_TOO_LARGE),
	R("too large", MESSAGE_TOO_LARGE),

	/* the receiver's policy refuses the sender */
	R("relay access denied", POLICY_REJECTED),
	R("relaying denied", POLICY_REJECTED),
	R("relay not permitted", POLICY_REJECTED),
	R("administrative prohibition", POLICY_REJECTED),	/* Exim */
	R("access denied", POLICY_REJECTED),
	R("not permitted", POLICY_REJECTED),
	R("not allowed", POLICY_REJECTED),
	R("not authorized", POLICY_REJECTED),
	R("unauthorized", POLICY_REJECTED),
	R("authentication", POLICY_REJECTED),
	R("spf", POLICY_REJECTED),
	R("dmarc", POLICY_REJECTED),
	R("dkim", POLICY_REJECTED),
	R("reverse dns", POLICY_REJECTED),
	R("ptr record", POLICY_REJECTED),
	R("sender address rejected", POLICY_REJECTED),
	R("policy", POLICY_REJECTED),
	R("prohibited", POLICY_REJECTED),
	R("blocked", POLICY_REJECTED),
	R("banned", POLICY_REJECTED),
	R("denied", POLICY_REJECTED),

	/* the queue lifetime ran out */
	R("retry timeout exceeded", EXPIRED),		/* Exim */
	R("delivery time expired", EXPIRED),
	R("message expired", EXPIRED),
	R("expired", EXPIRED),
	R("too long in queue", EXPIRED),
	R("queue lifetime", EXPIRED),

	/* the path to the receiver failed */
	R("connection refused", NETWORK_ERROR),
	R("connection timed out", NETWORK_ERROR),
	R("timed out", NETWORK_ERROR),
	R("timeout", NETWORK_ERROR),
	R("no route to host", NETWORK_ERROR),
	R("network is unreachable", NETWORK_ERROR),
	R("host unreachable", NETWORK_ERROR),
	R("connection reset", NETWORK_ERROR),
	R("lost connection", NETWORK_ERROR),
	R("broken pipe", NETWORK_ERROR),
	R("tls", NETWORK_ERROR),
	R("handshake", NETWORK_ERROR),
	R("could not connect", NETWORK_ERROR),
	R("unable to connect", NETWORK_ERROR),
	R("temporary failure in name resolution", NETWORK_ERROR),

	/* the receiving system failed */
	R("mail loop", SYSTEM_ERROR),
	R("loops back to myself", SYSTEM_ERROR),	/* Postfix */
	R("too many hops", SYSTEM_ERROR),
	R("hop count exceeded", SYSTEM_ERROR),
	R("routing loop", SYSTEM_ERROR),
	R("insufficient system storage", SYSTEM_ERROR),
	R("no space left", SYSTEM_ERROR),
	R("internal error", SYSTEM_ERROR),
	R("local error", SYSTEM_ERROR),
	R("system error", SYSTEM_ERROR),
	R("configuration error", SYSTEM_ERROR),
	R("server busy", SYSTEM_ERROR),
	R("service unavailable", SYSTEM_ERROR),
	R("service not available", SYSTEM_ERROR),
	R("temporarily unavailable", SYSTEM_ERROR),
};

#undef R

/* lower - ASCII tolower */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* is_alnum - ASCII letter or digit */
static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
	    || (c >= 'A' && c <= 'Z');
}

/* is_space - white space, line breaks included */
static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* match_at - pattern at s[i]: case-insensitive, ' ' matches a space run */
static bool
match_at(const unsigned char *s, size_t len, size_t i, const char *pat,
	 size_t *end)
{
	const unsigned char *p = (const unsigned char *)pat;

	for (; *p; p++) {
		if (i >= len)
			return false;
		if (*p == ' ') {
			if (!is_space(s[i]))
				return false;
			while (i < len && is_space(s[i]))
				i++;
		} else if (lower(s[i++]) != *p) {
			return false;
		}
	}
	*end = i;
	return true;
}

/* bounce_reason_find - first match of a pattern that starts a word */
int
bounce_reason_find(const char *text, size_t len, const char *pat,
		   size_t *start, size_t *end)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned char first = (unsigned char)pat[0];
	size_t i;

	for (i = 0; i < len; i++) {
		if (lower(s[i]) != first || (i > 0 && is_alnum(s[i - 1])
					     && is_alnum(first)))
			continue;
		if (match_at(s, len, i, pat, end)) {
			*start = i;
			return 1;
		}
	}
	return 0;
}

/* bounce_reason_from_text - the first table row found in the text */
enum bounce_reason
bounce_reason_from_text(const char *text, size_t len, int *row)
{
	size_t r, start, end;

	if (len > BOUNCE_REASON_TEXT_MAX)
		len = BOUNCE_REASON_TEXT_MAX;
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (bounce_reason_find(text, len, rows[r].pattern, &start,
				       &end)) {
			*row = (int)r;
			return rows[r].reason;
		}
	}
	*row = -1;
	return BOUNCE_REASON_OTHER;
}

/* bounce_reason_rows - the table */
const struct bounce_reason_row *
bounce_reason_rows(size_t *n)
{
	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

/* bounce_reason_from_status - RFC 3463 section 3 subject and detail */
enum bounce_reason
bounce_reason_from_status(const char *status)
{
	static const struct {
		const char *code;		/* "S.D", or "S." for a subject */
		enum bounce_reason reason;
	} map[] = {
		{"1.1", BOUNCE_REASON_USER_UNKNOWN},	/* bad destination mailbox */
		{"1.2", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* bad destination system */
		{"1.3", BOUNCE_REASON_USER_UNKNOWN},	/* bad mailbox syntax */
		{"1.6", BOUNCE_REASON_USER_UNKNOWN},	/* mailbox has moved */
		{"1.10", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* null MX, RFC 7505 */
		{"2.1", BOUNCE_REASON_SUSPENDED},	/* mailbox disabled */
		{"2.2", BOUNCE_REASON_MAILBOX_FULL},
		{"2.3", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"3.4", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"4.4", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* unable to route */
		{"4.7", BOUNCE_REASON_EXPIRED},		/* delivery time expired */
		{"4.6", BOUNCE_REASON_SYSTEM_ERROR},	/* routing loop */
		{"5.3", BOUNCE_REASON_RATE_LIMITED},	/* too many recipients */
		{"7.13", BOUNCE_REASON_SUSPENDED},	/* user account disabled */
		{"7.1", BOUNCE_REASON_POLICY_REJECTED},
		{"3.", BOUNCE_REASON_SYSTEM_ERROR},
		{"4.", BOUNCE_REASON_NETWORK_ERROR},
		{"7.", BOUNCE_REASON_POLICY_REJECTED},
	};
	const char *sd;
	size_t i, n;

	if (status == NULL || status[0] == '\0' || status[1] != '.')
		return BOUNCE_REASON_OTHER;
	sd = status + 2;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		n = strlen(map[i].code);
		if (map[i].code[n - 1] == '.') {
			if (strncmp(sd, map[i].code, n) == 0)
				return map[i].reason;
		} else if (strcmp(sd, map[i].code) == 0) {
			/* 4.4.4 is a temporary routing failure, not a domain
			 * that does not exist. */
			if (map[i].reason == BOUNCE_REASON_DOMAIN_UNKNOWN
			    && status[0] != '5')
				return BOUNCE_REASON_NETWORK_ERROR;
			return map[i].reason;
		}
	}
	return BOUNCE_REASON_OTHER;
}

/* bounce_reason_decide - text first, then status; expired after retries */
enum bounce_reason
bounce_reason_decide(const char *text, size_t len, const char *fallback,
		     size_t flen, const char *status, const char *action)
{
	enum bounce_reason r;
	int row;

	r = bounce_reason_from_text(text, len, &row);
	if (row < 0 && fallback != NULL)
		r = bounce_reason_from_text(fallback, flen, &row);
	if (row < 0)
		r = bounce_reason_from_status(status);
	if (action != NULL && strcmp(action, "failed") == 0 && status != NULL
	    && status[0] == '4'
	    && (r == BOUNCE_REASON_OTHER || r == BOUNCE_REASON_NETWORK_ERROR
		|| r == BOUNCE_REASON_SYSTEM_ERROR))
		r = BOUNCE_REASON_EXPIRED;
	return r;
}

/* bounce_class_of - hard only for an address that cannot exist */
enum bounce_class
bounce_class_of(enum bounce_reason reason, const char *action)
{
	if (action == NULL || strcmp(action, "failed") != 0)
		return BOUNCE_CLASS_NONE;
	if (reason == BOUNCE_REASON_USER_UNKNOWN
	    || reason == BOUNCE_REASON_DOMAIN_UNKNOWN)
		return BOUNCE_CLASS_HARD;
	return BOUNCE_CLASS_SOFT;
}
