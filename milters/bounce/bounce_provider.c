/*++
 * NAME
 *	bounce_provider 3
 * SUMMARY
 *	providers' error codes -> reasons (see bounce_provider.h)
 * DESCRIPTION
 *	The tables are the providers' published code lists:
 *	  Orange / La Poste	"Codes d'erreur" of the Orange postmaster pages
 *	  Cox			cox.com "Email error codes" (AUP#...)
 *	  Spectrum		spectrum.net "Understanding email error codes"
 *	  GoDaddy		"Email bounce codes" (IBnnn)
 *	  i.ua			mail.i.ua/err/N
 *	  Facebook		postmaster.facebook.com response codes
 *	Blocks of the sending host or sender are policy_rejected, whatever
 *	spam listing caused them (the address is not at fault); content
 *	judged spam is spam_rejected.
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_provider.h"
#include "bounce_reason.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define P(code, r)	{code, BOUNCE_REASON_##r}

struct code_row {
	const char *code;
	enum bounce_reason reason;
};

/* Orange (OFR...) and La Poste (LPN...): the three digits after '_' */
static const struct code_row orange[] = {
	P("101", POLICY_REJECTED),	/* blocked, listed at Spamhaus */
	P("102", POLICY_REJECTED),	/* source IP blocked for spam */
	P("103", POLICY_REJECTED),	/* service refused to the IP */
	P("104", RATE_LIMITED),		/* too many connections */
	P("105", OTHER), P("107", OTHER), P("108", OTHER), P("109", OTHER),
	P("201", OTHER),		/* "please try later": says nothing */
	P("305", POLICY_REJECTED),	/* invalid authentication code */
	P("401", POLICY_REJECTED),	/* SPF: not allowed to send */
	P("402", POLICY_REJECTED),	/* authentication required */
	P("403", POLICY_REJECTED), P("405", POLICY_REJECTED),
	P("415", POLICY_REJECTED),	/* invalid sender */
	P("416", USER_UNKNOWN),		/* invalid recipient */
	P("417", MAILBOX_FULL),		/* recipient over quota */
	P("418", USER_UNKNOWN),		/* invalid recipient */
	P("420", SUSPENDED),		/* archived recipient */
	P("421", POLICY_REJECTED),	/* mail from not owned by user */
	P("423", OTHER), P("424", OTHER),
	P("426", SUSPENDED),		/* recipient account blocked */
	P("505", SYSTEM_ERROR),		/* service refused after DATA */
	P("506", SPAM_REJECTED),	/* mail rejected: content */
	P("510", POLICY_REJECTED),	/* blocked after DATA */
	P("513", OTHER),
	P("514", MESSAGE_TOO_LARGE),
	P("517", POLICY_REJECTED),	/* DMARC verification failed */
	P("630", POLICY_REJECTED),	/* client host rejected */
	P("999", POLICY_REJECTED),	/* service refused to the IP */
};

/* Cox: the token after "AUP#" */
static const struct code_row cox[] = {
	P("CXBL", POLICY_REJECTED), P("CXTHRT", POLICY_REJECTED),
	P("CXMJ", POLICY_REJECTED), P("CXDNS", POLICY_REJECTED),
	P("CXSNDR", POLICY_REJECTED), P("CXSMTP", POLICY_REJECTED),
	P("CXCNCT", RATE_LIMITED), P("CXMXRT", RATE_LIMITED),
	P("CDRBL", POLICY_REJECTED),
	P("IPBL0001", POLICY_REJECTED), P("IPBL0010", POLICY_REJECTED),
	P("IPBL0011", POLICY_REJECTED), P("IPBL0100", POLICY_REJECTED),
	P("IPBL0101", POLICY_REJECTED), P("IPBL0110", POLICY_REJECTED),
	P("IPBL0111", POLICY_REJECTED), P("IPBL1000", POLICY_REJECTED),
	P("IPBL1001", POLICY_REJECTED), P("IPBL1010", POLICY_REJECTED),
	P("IPBL1011", POLICY_REJECTED), P("IPBL1100", POLICY_REJECTED),
	P("IPBL1101", POLICY_REJECTED), P("IPBL1110", POLICY_REJECTED),
	P("IPBL1111", POLICY_REJECTED), P("IPBL00001", POLICY_REJECTED),
	P("URLBL011", SPAM_REJECTED), P("URLBL101", SPAM_REJECTED),
	P("URLBL110", SPAM_REJECTED), P("URLBL1001", SPAM_REJECTED),
};

/* Spectrum: four digits after "AUP#In-" / "AUP#Out-", codes and ranges */
static const struct {
	int lo, hi;
	enum bounce_reason reason;
} spectrum[] = {
	{1000, 1000, BOUNCE_REASON_POLICY_REJECTED},	/* IP blocked */
	{1010, 1080, BOUNCE_REASON_POLICY_REJECTED},	/* account limited */
	{1090, 1090, BOUNCE_REASON_SYSTEM_ERROR},
	{1100, 1150, BOUNCE_REASON_POLICY_REJECTED},	/* IP's DNS */
	{1160, 1190, BOUNCE_REASON_POLICY_REJECTED},	/* domain policy */
	{1200, 1250, BOUNCE_REASON_POLICY_REJECTED},	/* Cloudmark, Spamhaus */
	{1260, 1260, BOUNCE_REASON_NETWORK_ERROR},	/* IPv6 not taken */
	{1300, 1490, BOUNCE_REASON_RATE_LIMITED},	/* connections, volume */
	{1500, 1520, BOUNCE_REASON_POLICY_REJECTED},	/* sender address */
	{1530, 1530, BOUNCE_REASON_MESSAGE_TOO_LARGE},
	{1540, 1550, BOUNCE_REASON_RATE_LIMITED},
	{1560, 1560, BOUNCE_REASON_POLICY_REJECTED},
};

/* GoDaddy: "IBnnn" */
static const struct code_row godaddy[] = {
	P("IB007", RATE_LIMITED), P("IB101", EXPIRED),
	P("IB103", POLICY_REJECTED), P("IB104", POLICY_REJECTED),
	P("IB105", POLICY_REJECTED), P("IB106", POLICY_REJECTED),
	P("IB108", POLICY_REJECTED), P("IB110", POLICY_REJECTED),
	P("IB111", POLICY_REJECTED), P("IB112", POLICY_REJECTED),
	P("IB113", POLICY_REJECTED), P("IB212", SPAM_REJECTED),
	P("IB401", POLICY_REJECTED), P("IB501", POLICY_REJECTED),
	P("IB502", POLICY_REJECTED), P("IB504", RATE_LIMITED),
	P("IB506", POLICY_REJECTED), P("IB508", POLICY_REJECTED),
	P("IB510", RATE_LIMITED), P("IB607", RATE_LIMITED),
	P("IB705", SPAM_REJECTED),
};

/* i.ua: mail.i.ua/err/N */
static const struct code_row iua[] = {
	P("1", POLICY_REJECTED),	/* relaying through i.ua forbidden */
	P("2", USER_UNKNOWN), P("3", SUSPENDED),	/* unused 3 months */
	P("4", MAILBOX_FULL), P("5", RATE_LIMITED),
	P("6", POLICY_REJECTED), P("7", POLICY_REJECTED),	/* HELO */
	P("8", POLICY_REJECTED), P("9", POLICY_REJECTED),	/* listed */
	P("10", POLICY_REJECTED),
};

/* Facebook: "RCP-P1", "POL-T1"... (postmaster.facebook.com/response_codes) */
static const struct code_row facebook[] = {
	P("RCP-P1", USER_UNKNOWN), P("INT-P1", USER_UNKNOWN),
	P("INT-P3", USER_UNKNOWN), P("INT-P4", USER_UNKNOWN),
	P("RCP-P2", POLICY_REJECTED),	/* the recipient's preferences */
	P("RCP-T4", SUSPENDED),
	P("POL-P1", POLICY_REJECTED), P("POL-P2", POLICY_REJECTED),
	P("POL-P3", POLICY_REJECTED), P("POL-P4", POLICY_REJECTED),
	P("POL-P5", SPAM_REJECTED),	/* a virus */
	P("POL-P6", POLICY_REJECTED), P("POL-P7", POLICY_REJECTED),
	P("POL-T1", POLICY_REJECTED), P("POL-T2", POLICY_REJECTED),
	P("POL-T3", POLICY_REJECTED),
	P("MSG-P1", MESSAGE_TOO_LARGE), P("MSG-P2", POLICY_REJECTED),
	P("MSG-P3", POLICY_REJECTED),
	P("DNS-P1", POLICY_REJECTED), P("DNS-P2", POLICY_REJECTED),
	P("DNS-P3", POLICY_REJECTED), P("DNS-T1", POLICY_REJECTED),
	P("DNS-T2", POLICY_REJECTED),
	P("CON-T1", SYSTEM_ERROR), P("CON-T2", RATE_LIMITED),
	P("CON-T3", RATE_LIMITED), P("CON-T4", RATE_LIMITED),
};

#undef P

/* is_alnum - ASCII letter or digit */
static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
	    || (c >= 'A' && c <= 'Z');
}

/* lookup - a code in a table */
static bool
lookup(const struct code_row *t, size_t n, const char *code, size_t len,
       enum bounce_reason *reason)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(t[i].code) == len
		    && strncasecmp(t[i].code, code, len) == 0) {
			*reason = t[i].reason;
			return true;
		}
	return false;
}

/* word_at - does a word start at s[i] with this prefix (ASCII, any case) */
static bool
word_at(const char *s, size_t len, size_t i, const char *prefix)
{
	size_t n = strlen(prefix);

	return (i == 0 || !is_alnum(s[i - 1])) && len - i >= n
	    && strncasecmp(s + i, prefix, n) == 0;
}

/* orange_code - "OFR006_102", "LPN007_426", "OFR_506", "LPN416" */
static bool
orange_code(const char *s, size_t len, size_t i, enum bounce_reason *r,
	    char *what, size_t cap)
{
	size_t j = i + 3, k;

	while (j < len && is_alnum(s[j]) && j - i < 12)
		j++;
	/* the last three characters before '_' (or of the token) */
	if (j < len && s[j] == '_') {
		for (k = j + 1; k < len && k - j <= 4 && s[k] >= '0' && s[k] <= '9';
		     k++)
			;
		if (k - j - 1 != 3)
			return false;
		j += 1;
	} else {
		if (j - i < 6)
			return false;
		j -= 3;
	}
	if (!lookup(orange, NELEM(orange), s + j, 3, r))
		return false;
	snprintf(what, cap, "Orange/La Poste code %.3s", s + j);
	return true;
}

/* aup_code - Cox "AUP#CXBL", Spectrum "AUP#In-1310" */
static bool
aup_code(const char *s, size_t len, size_t i, enum bounce_reason *r,
	 char *what, size_t cap)
{
	size_t a = i + 4, b = a, k;
	int num = 0;

	while (b < len && (is_alnum(s[b]) || s[b] == '-') && b - a < 24)
		b++;
	if (lookup(cox, NELEM(cox), s + a, b - a, r)) {
		snprintf(what, cap, "Cox code %.*s", (int)(b - a), s + a);
		return true;
	}
	if (b - a < 4)
		return false;
	for (k = b - 4; k < b; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		num = num * 10 + (s[k] - '0');
	}
	for (k = 0; k < NELEM(spectrum); k++)
		if (num >= spectrum[k].lo && num <= spectrum[k].hi) {
			*r = spectrum[k].reason;
			snprintf(what, cap, "Spectrum code %d", num);
			return true;
		}
	return false;
}

/* bounce_provider_code - see bounce_provider.h */
int
bounce_provider_code(const char *s, size_t len, enum bounce_reason *reason,
		     char *what, size_t whatcap)
{
	size_t i, b;

	for (i = 0; i + 4 < len; i++) {
		if ((word_at(s, len, i, "OFR") || word_at(s, len, i, "LPN")
		     || word_at(s, len, i, "OUK"))
		    && orange_code(s, len, i, reason, what, whatcap))
			return 1;
		if (word_at(s, len, i, "AUP#")
		    && aup_code(s, len, i, reason, what, whatcap))
			return 1;
		if (i + 6 <= len && s[i + 3] == '-' && (i + 6 == len
							 || !is_alnum(s[i + 6]))
		    && (i == 0 || !is_alnum(s[i - 1]))
		    && lookup(facebook, NELEM(facebook), s + i, 6, reason)) {
			snprintf(what, whatcap, "Facebook code %.6s", s + i);
			return 1;
		}
		if (word_at(s, len, i, "IB")) {
			for (b = i + 2; b < len && s[b] >= '0' && s[b] <= '9'; b++)
				;
			if (b - i == 5 && (b == len || !is_alnum(s[b]))
			    && lookup(godaddy, NELEM(godaddy), s + i, 5, reason)) {
				snprintf(what, whatcap, "GoDaddy code %.5s", s + i);
				return 1;
			}
		}
		if (len - i > 10 && strncasecmp(s + i, ".i.ua/err/", 10) == 0) {
			for (b = i + 10; b < len && s[b] >= '0' && s[b] <= '9'; b++)
				;
			if (b > i + 10 && lookup(iua, NELEM(iua), s + i + 10,
						 b - i - 10, reason)) {
				snprintf(what, whatcap, "i.ua code %.*s",
					 (int)(b - i - 10), s + i + 10);
				return 1;
			}
		}
	}
	return 0;
}

/*
 * Replies of a provider's receivers, by the domain they serve: a phrase
 * means what the provider says it means only from its own hosts.
 */
static const struct {
	const char *domain;		/* the domain or a parent of it */
	const char *phrase;		/* lowercase, bounce_reason_find() */
	enum bounce_reason reason;
	const char *what;
} rcpt_rows[] = {
	/* KDDI au: the RCPT reply names the address; the filter's does not */
	{"ezweb.ne.jp", ">: user unknown", BOUNCE_REASON_USER_UNKNOWN,
	 "KDDI au: '<address>: User unknown' at RCPT"},
	{"ezweb.ne.jp", "550 : user unknown", BOUNCE_REASON_POLICY_REJECTED,
	 "KDDI au: '550 : User unknown', the domain filter"},
	{"au.com", ">: user unknown", BOUNCE_REASON_USER_UNKNOWN,
	 "KDDI au: '<address>: User unknown' at RCPT"},
	{"au.com", "550 : user unknown", BOUNCE_REASON_POLICY_REJECTED,
	 "KDDI au: '550 : User unknown', the domain filter"},
};

/* in_domain - host (hlen bytes) is domain or below it */
static bool
in_domain(const char *host, size_t hlen, const char *domain)
{
	size_t n = strlen(domain);

	while (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	return hlen >= n && strncasecmp(host + hlen - n, domain, n) == 0
	    && (hlen == n || host[hlen - n - 1] == '.'
		|| host[hlen - n - 1] == '@');
}

/* remote_host - the host name of a Remote-MTA value ("dns; mx.test (...)") */
static size_t
remote_host(const char *v, const char **host)
{
	const char *p = strchr(v, ';');
	size_t n;

	p = p ? p + 1 : v;
	while (*p == ' ')
		p++;
	for (n = 0; p[n] && p[n] != ' ' && p[n] != '(' && p[n] != ']'; n++)
		;
	*host = p;
	return n;
}

/* bounce_provider_rcpt - see bounce_provider.h */
int
bounce_provider_rcpt(const char *rcpt, const char *remote_mta, const char *s,
		     size_t len, enum bounce_reason *reason, char *what,
		     size_t whatcap)
{
	const char *host = NULL;
	size_t i, a, b, hlen = 0;

	if (remote_mta != NULL)
		hlen = remote_host(remote_mta, &host);
	for (i = 0; i < NELEM(rcpt_rows); i++) {
		if (!((rcpt != NULL && in_domain(rcpt, strlen(rcpt),
						 rcpt_rows[i].domain))
		      || (hlen > 0 && in_domain(host, hlen,
						rcpt_rows[i].domain))))
			continue;
		if (bounce_reason_find(s, len, rcpt_rows[i].phrase, &a, &b)) {
			*reason = rcpt_rows[i].reason;
			snprintf(what, whatcap, "%s", rcpt_rows[i].what);
			return 1;
		}
	}
	return 0;
}
