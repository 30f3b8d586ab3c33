/*++
 * NAME
 *	bounce_text 3
 * SUMMARY
 *	non-standard bounce texts and auto-replies (see bounce_text.h)
 * DESCRIPTION
 *	The phrase lists below are data: lowercase, matched with
 *	bounce_reason_find() (case-insensitive, a space matches any run of
 *	white space). They come from the MTAs of the corpus and the large
 *	providers' documented texts.
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_dsn.h"
#include "bounce_mime.h"
#include "bounce_reason.h"
#include "bounce_text.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DIAG_LINES	8	/* lines after an address line kept as its reason */

/* Where the copy of the original message starts in one-part bounces. */
static const char *const copy_markers[] = {
	"--- below this line is a copy of the message",	/* qmail */
	"------ this is a copy of the message",		/* Exim */
	"------ this is a copy of your message",
	"----- original message -----",
	"-----original message-----",
	"--- original message ---",
	"original message follows",
	"----- unsent message below -----",		/* Sendmail */
	"----- returned message follows -----",
	"message headers follow",			/* DragonFly dma */
	"--- the header of the original message is following",	/* GMX */
	"original message:",				/* Verizon */
};

/* From: of bounces (lowercase substrings of the whole value) */
static const char *const bounce_from[] = {
	"mailer-daemon", "postmaster@", "mail delivery", "maildelivery",
	"mail administrator", "mdaemon",
};

/* Subject: of bounces */
static const char *const bounce_subject[] = {
	"undelivered mail", "undeliverable", "undeliverable:",
	"delivery status notification", "delivery failure", "delivery failed",
	"delivery has failed", "failure notice", "mail delivery failed",
	"returned mail", "returned to sender", "non-delivery", "nondeliverable",
	"not delivered", "could not be delivered", "delivery problem",
	"mail system error", "delivery notification", "delayed mail",
	"delivery delayed", "warning: could not send message",
	"message not delivered",
};

/* Body phrases of bounces */
static const char *const bounce_phrases[] = {
	"could not be delivered", "couldn't be delivered", "wasn't delivered",
	"was not delivered", "delivery has failed", "delivery failed",
	"permanent error", "permanent fatal error", "following address(es) failed",
	"following addresses had permanent", "failed permanently",
	"undeliverable", "unable to deliver", "wasn't able to deliver",
	"not able to deliver", "non-delivery", "could not deliver",
	"message not delivered", "delivery to the following recipient",
	"mail delivery failed", "this is the mail system at host",
	"delivery status notification", "delivery is delayed",
	"has not yet been delivered", "has been delayed",
	"delivery attempts will continue", "will keep trying",
	"you are not a member of this mailing list",	/* FML */
	"message could not be delivered to mobile",	/* Verizon */
	"error message below:",				/* Apache James */
};

/* A warning of delay, not a final failure */
static const char *const delay_phrases[] = {
	"this is a warning only", "this is only a warning", "warning only",
	"delivery attempts will continue", "will continue trying",
	"will keep trying", "will retry", "will be retried", "still trying",
	"has not yet been delivered", "not been delivered yet",
	"delivery is delayed", "delivery delayed", "delayed mail",
	"delivery has been delayed", "no need to resend",
	"do not need to resend",
};

/* ... unless it says that it gave up */
static const char *const final_phrases[] = {
	"permanent error", "permanent fatal", "given up", "gave up",
	"giving up", "retry timeout exceeded",
	"failed permanently", "delivery has failed",
};

/* Header fields that only challenge-response systems add */
static const char *const challenge_headers[] = {
	"X-BoxTrapper", "X-TMDA-Confirm", "X-Spam-Arrest", "X-Challenge",
	"X-Mailwasher", "X-ChoiceMail-Registration-Request", "X-Bluebottle-Request",
};

/* Subject and text of challenge-response requests */
static const char *const challenge_phrases[] = {
	"please confirm your message", "confirm that you sent",
	"confirm your e-mail", "confirm your email", "verify your email address",
	"verify your e-mail address", "verify that you are a human",
	"prove you are a human", "you are not in my list of approved senders",
	"is protected by spamarrest", "spam arrest", "boxtrapper",
	"challenge-response", "whitelist request", "authorize your message",
	"request to be added to the whitelist", "awaiting your confirmation",
};

/* The first lines of vacation replies sent without any header sign */
static const char *const vacation_phrases[] = {
	"i am away on vacation", "i am away until", "i am out of the office",
	"i'm out of the office", "i am currently out of the office",
	"i will be out of the office", "i will be traveling for work",
	"i am on vacation", "i'm on vacation", "i am on annual leave",
	"thank you for your email. i am", "out of office until",
};

/* Subjects of vacation and out-of-office replies (RFC 2047 decoded) */
static const char *const vacation_subject[] = {
	"out of office", "out of the office", "automatic reply", "auto reply",
	"autoreply", "auto-reply", "auto response", "autoresponse",
	"auto-response", "automatic response", "away from", "on vacation",
	"vacation", "on leave", "abwesenheit", "automatische antwort",
	"r\xc3\xa9ponse automatique", "reponse automatique", "absence",
	"respuesta autom", "risposta automatica", "fuori ufficio",
	"afwezig", "automatisch antwoord", "away notice", "i am away",
	"i'm away", "holiday",
};

/* Lines after which a receiver's reply is quoted */
static const char *const response_markers[] = {
	"the response from the remote server was:",
	"the response was:",
	"remote server returned",
	"the error that the other server returned was:",
};

/* Labels of a recipient line whose reason is in the indented lines below */
static const char *const block_markers[] = {
	"recipient address: ",		/* Sun/Oracle Messaging Server, PMDF */
	"recipient: ",			/* EZweb, other Japanese carriers */
	"rcpt to: ",			/* Apache James "Message details:" */
};

/* Phrases directly followed by the failed address */
static const char *const addr_markers[] = {
	"wasn't delivered to ", "was not delivered to ",
	"could not be delivered to ", "couldn't be delivered to ",
	"unable to deliver your message to ", "failed to deliver to ",
	"delivery to the following recipient failed permanently: ",
	"your message to ", "delivery failed for ",
	"message could not be delivered to ",
	"error delivering your mail to ",		/* DragonFly dma */
	"could not be delivered to: ",			/* au one net (KDDI) */
	"undeliverable to ",				/* Ipswitch IMail */
	"the following recipients returned permanent errors: ",	/* X6 */
	"you are not a member of this mailing list ",	/* FML */
};

/* any_phrase - does the text contain one of the phrases */
static bool
any_phrase(const char *s, size_t len, const char *const *list, size_t n)
{
	size_t i, a, b;

	for (i = 0; i < n; i++)
		if (bounce_reason_find(s, len, list[i], &a, &b))
			return true;
	return false;
}

/* bounce_text_cut - the notification without an appended original */
size_t
bounce_text_cut(const char *text, size_t len)
{
	size_t i, a, b, cut = len;

	for (i = 0; i < NELEM(copy_markers); i++)
		if (bounce_reason_find(text, cut, copy_markers[i], &a, &b))
			cut = a;
	return cut;
}

/* bounce_text_is_bounce - From, Subject or text of a delivery failure */
int
bounce_text_is_bounce(const char *from, const char *subject,
		      const char *text, size_t len)
{
	if (from && any_phrase(from, strlen(from), bounce_from,
			       NELEM(bounce_from)))
		return 1;
	if (subject && any_phrase(subject, strlen(subject), bounce_subject,
				  NELEM(bounce_subject)))
		return 1;
	return any_phrase(text, len, bounce_phrases, NELEM(bounce_phrases));
}

/* bounce_text_is_delay - a delay warning that did not give up */
int
bounce_text_is_delay(const char *text, size_t len)
{
	return any_phrase(text, len, delay_phrases, NELEM(delay_phrases))
	    && !any_phrase(text, len, final_phrases, NELEM(final_phrases));
}

/* bounce_text_is_challenge - a challenge-response request */
int
bounce_text_is_challenge(const char *hdr, size_t hdrlen, const char *subject,
			 const char *text, size_t len)
{
	char val[256];
	size_t i;

	for (i = 0; i < NELEM(challenge_headers); i++)
		if (bounce_mime_header(hdr, hdrlen, challenge_headers[i], val,
				       sizeof(val)))
			return 1;
	if (subject && any_phrase(subject, strlen(subject), challenge_phrases,
				  NELEM(challenge_phrases)))
		return 1;
	return any_phrase(text, len < 4096 ? len : 4096, challenge_phrases,
			  NELEM(challenge_phrases));
}

/* bounce_text_is_vacation - a vacation text in the first lines */
int
bounce_text_is_vacation(const char *text, size_t len)
{
	return any_phrase(text, len < 2048 ? len : 2048, vacation_phrases,
			  NELEM(vacation_phrases));
}

/* bounce_text_auto_reply - RFC 3834 signs in a header block */
int
bounce_text_auto_reply(const char *hdr, size_t hdrlen)
{
	char val[1024], dec[1024];
	size_t n;

	if (bounce_mime_header(hdr, hdrlen, "X-Autoreply", val, sizeof(val))
	    || bounce_mime_header(hdr, hdrlen, "X-Autorespond", val,
				  sizeof(val)))
		return 2;
	if (bounce_mime_header(hdr, hdrlen, "Precedence", val, sizeof(val))
	    && strcasecmp(val, "auto_reply") == 0)
		return 2;
	if (bounce_mime_header(hdr, hdrlen, "Subject", val, sizeof(val))) {
		n = bounce_mime_decode_words(val, strlen(val), dec, sizeof(dec));
		if (any_phrase(dec, n, vacation_subject, NELEM(vacation_subject)))
			return 2;
	}
	/* RFC 3834 section 5.1: "no" or absent means a person sent it. */
	if (bounce_mime_header(hdr, hdrlen, "Auto-Submitted", val, sizeof(val))
	    && strncasecmp(val, "no", 2) != 0)
		return 1;
	return 0;
}

/* is_local_char - atext (RFC 5322 3.2.3) and the dot */
static bool
is_local_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c >= 0x80
	    || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

/* is_domain_char - letters, digits, hyphen, dot (and UTF-8) */
static bool
is_domain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c == '-' || c == '.' || c >= 0x80;
}

/*
 * ascii_domain_end - where an ASCII domain ends when text in another script
 * follows it without a space ("a@example.jp\xe6\x82\xa8\xe5\xa5\xbd" in
 * a Japanese or Chinese greeting): at the first non-ASCII byte, when what
 * is before it is a dotted name and what follows has no dot; an IDN like
 * "mail.m\xc3\xbcnchen.de" keeps its dot after the non-ASCII part.
 */
static size_t
ascii_domain_end(const unsigned char *u, size_t from, size_t end)
{
	size_t k, dot = 0;

	for (k = from; k < end && u[k] < 0x80; k++)
		if (u[k] == '.')
			dot = k;
	if (k == end || dot == 0 || k - dot < 3)
		return end;
	if (memchr(u + k, '.', end - k) != NULL)
		return end;
	return k;
}

/* bounce_text_find_addr - the next local@domain at or after from */
int
bounce_text_find_addr(const char *s, size_t len, size_t from, size_t *start,
		      size_t *end)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *at;
	size_t i = from, a, b;

	while (i < len && (at = memchr(s + i, '@', len - i)) != NULL) {
		i = (size_t)(at - s);
		for (a = i; a > 0 && is_local_char(u[a - 1]); a--)
			/* left */ ;
		while (a < i && s[a] == '.')
			a++;
		for (b = i + 1; b < len && is_domain_char(u[b]); b++)
			/* right */ ;
		b = ascii_domain_end(u, i + 1, b);
		while (b > i + 1 && (s[b - 1] == '.' || s[b - 1] == '-'))
			b--;
		if (a < i && b > i + 1 && i - a <= 64 && b - i - 1 <= 255
		    && s[i + 1] != '.' && s[i + 1] != '-'
		    && memchr(s + i + 1, '.', b - i - 1) != NULL) {
			*start = a;
			*end = b;
			return 1;
		}
		i++;
	}
	return 0;
}

/* line_bounds - [start, end) of the line at pos, trimmed; next line start */
static void
line_bounds(const char *s, size_t len, size_t pos, size_t *a, size_t *b,
	    size_t *next)
{
	const char *nl = memchr(s + pos, '\n', len - pos);
	size_t e = nl ? (size_t)(nl - s) : len;

	*next = nl ? e + 1 : len;
	while (pos < e && (s[pos] == ' ' || s[pos] == '\t'))
		pos++;
	while (e > pos && (s[e - 1] == ' ' || s[e - 1] == '\t'
			   || s[e - 1] == '\r'))
		e--;
	*a = pos;
	*b = e;
}

/* addr_line - a line that starts with an address: its bounds and the rest */
static bool
addr_line(const char *s, size_t a, size_t b, size_t *as, size_t *ae,
	  size_t *rest)
{
	size_t p = a;

	/* "* a@b" (a list), "554 <a@b>... reason" (a Sendmail V5 transcript) */
	if (p + 1 < b && (s[p] == '*' || s[p] == '-') && s[p + 1] == ' ')
		p += 2;
	else if (p + 4 < b && (s[p] == '4' || s[p] == '5') && s[p + 3] == ' '
		 && s[p + 1] >= '0' && s[p + 1] <= '9' && s[p + 2] >= '0'
		 && s[p + 2] <= '9' && s[p + 4] == '<')
		p += 4;
	if (p < b && (s[p] == '<' || s[p] == '"'))
		p++;
	if (!bounce_text_find_addr(s, b, p, as, ae) || *as != p)
		return false;
	p = *ae;
	if (p < b && (s[p] == '>' || s[p] == '"'))
		p++;
	if (p < b && s[p] == ':')
		p++;
	else if (p + 3 <= b && memcmp(s + p, "...", 3) == 0)
		p += 3;			/* Sendmail "<a@b>... User unknown" */
	else if (p < b && s[p] != ' ' && s[p] != '\t' && s[p] != '(')
		return false;		/* "a@b.test's mailbox" and the like */
	while (p < b && (s[p] == ' ' || s[p] == '\t'))
		p++;
	/* "a@b (expanded from c@d)" says nothing about why */
	if (p < b && s[p] == '(')
		p = b;
	*rest = p;
	return true;
}

/* append - add text to a diagnostic, one space between, bounded */
static void
append(char *diag, size_t cap, const char *s, size_t n)
{
	size_t have = strlen(diag), i;

	if (n == 0)
		return;
	if (have > 0 && have + 1 < cap)
		diag[have++] = ' ';
	for (i = 0; i < n && have + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		diag[have++] = c < 32 || c == 127 ? ' ' : (char)c;
	}
	diag[have] = '\0';
}

/* add_rcpt - a recipient (or more text for one already found) */
static size_t
add_rcpt(struct bounce_text_rcpt *out, size_t n, size_t max, const char *s,
	 size_t as, size_t ae, const char *skip1, const char *skip2)
{
	size_t i, len = ae - as;

	if (len >= sizeof(out[0].addr))
		return (size_t)-1;
	if ((skip1 && strlen(skip1) == len && strncasecmp(skip1, s + as, len) == 0)
	    || (skip2 && strlen(skip2) == len
		&& strncasecmp(skip2, s + as, len) == 0))
		return (size_t)-1;
	for (i = 0; i < n; i++)
		if (strlen(out[i].addr) == len
		    && strncasecmp(out[i].addr, s + as, len) == 0)
			return i;
	if (n >= max)
		return (size_t)-1;
	memcpy(out[n].addr, s + as, len);
	out[n].addr[len] = '\0';
	out[n].diag[0] = '\0';
	return n;
}

/* response_text - the lines after "The response was:" and the like */
static void
response_text(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i, a, b, e, next, la, lb, lines = 0;

	buf[0] = '\0';
	for (i = 0; i < NELEM(response_markers); i++)
		if (bounce_reason_find(s, len, response_markers[i], &a, &b))
			break;
	if (i == NELEM(response_markers))
		return;
	/* the rest of the marker's line, then the next lines to a gap */
	line_bounds(s, len, b, &la, &lb, &next);
	append(buf, cap, s + la, lb - la);
	for (e = next; e < len && lines < DIAG_LINES; e = next, lines++) {
		line_bounds(s, len, e, &la, &lb, &next);
		if (la == lb) {
			if (buf[0] != '\0')
				break;
			continue;
		}
		append(buf, cap, s + la, lb - la);
	}
}

/* block_rcpt - "Recipient address: a@b" and the indented lines below it */
static size_t
block_rcpt(const char *s, size_t len, size_t a, size_t b, size_t *next,
	   struct bounce_text_rcpt *out, size_t n, size_t max,
	   const char *skip1, const char *skip2)
{
	size_t i, m, as, ae, k, la, lb, nx, lines, plen;

	for (i = 0; i < NELEM(block_markers); i++) {
		plen = strlen(block_markers[i]);
		if (b - a < plen || strncasecmp(s + a, block_markers[i], plen) != 0)
			continue;
		m = a + plen;
		while (m < b && s[m] == ' ')
			m++;
		if (m < b && s[m] == '<')
			m++;
		if (!bounce_text_find_addr(s, b, m, &as, &ae) || as != m)
			continue;
		k = add_rcpt(out, n, max, s, as, ae, skip1, skip2);
		if (k == (size_t)-1)
			return k;
		/* the following indented lines, to a gap or the next label */
		for (lines = 0; *next < len && lines < DIAG_LINES; lines++) {
			if (s[*next] != ' ' && s[*next] != '\t')
				break;
			line_bounds(s, len, *next, &la, &lb, &nx);
			if (la == lb || (lb - la >= strlen(block_markers[i])
					 && strncasecmp(s + la, block_markers[i],
							strlen(block_markers[i])) == 0))
				break;
			append(out[k].diag, sizeof(out[k].diag), s + la, lb - la);
			*next = nx;
		}
		return k;
	}
	return (size_t)-1;
}

/* reason_then_addr - "Unknown user: a@b" (IMail): a reason, then the address */
static size_t
reason_then_addr(const char *s, size_t a, size_t b,
		 struct bounce_text_rcpt *out, size_t n, size_t max,
		 const char *skip1, const char *skip2)
{
	size_t as, ae, e = b, k;
	int row;

	if (e > a && s[e - 1] == '>')
		e--;
	if (!bounce_text_find_addr(s, e, a, &as, &ae) || ae != e || as < a + 3)
		return (size_t)-1;
	k = as;
	if (s[k - 1] == '<')
		k--;
	if (s[k - 1] != ' ' || s[k - 2] != ':')
		return (size_t)-1;
	/* only when the words before it are a known reason, not "To:" */
	if (bounce_reason_from_text(s + a, k - 2 - a, &row) == BOUNCE_REASON_OTHER)
		return (size_t)-1;
	k = add_rcpt(out, n, max, s, as, ae, skip1, skip2);
	if (k != (size_t)-1)
		append(out[k].diag, sizeof(out[k].diag), s + a, b - a);
	return k;
}

/* bounce_text_recipients - failed recipients named by a bounce text */
size_t
bounce_text_recipients(const char *s, size_t len, const char *skip1,
		       const char *skip2, struct bounce_text_rcpt *out,
		       size_t max)
{
	char resp[512], code[16];
	size_t n = 0, pos = 0, next, a, b, as, ae, rest, k, i, m, lines;
	size_t ma, mb, la, lb, nx, xa = 0, xb = 0;
	bool talking = false;

	while (pos < len) {
		line_bounds(s, len, pos, &a, &b, &next);
		/*
		 * Sendmail's transcript: "While talking to host:" then the
		 * exchange (">>> MAIL From:<...>", "<<< 501 ...") that failed,
		 * then the line of the recipient it failed for ("554
		 * <a@b>... Remote protocol error"). The exchange says which
		 * command was refused and what the receiver said: it belongs
		 * to the first recipient line after it.
		 */
		if (a < b && bounce_reason_find(s + a, b - a, "while talking to",
						&ma, &mb)) {
			talking = true;
			xa = xb = next;
			pos = next;
			continue;
		}
		if (talking && xb == a && b - a >= 3
		    && (memcmp(s + a, ">>>", 3) == 0
			|| memcmp(s + a, "<<<", 3) == 0)) {
			xb = next;
			pos = next;
			continue;
		}
		if (a < b && addr_line(s, a, b, &as, &ae, &rest)) {
			k = add_rcpt(out, n, max, s, as, ae, skip1, skip2);
			if (k != (size_t)-1) {
				if (k == n)
					n++;
				if (talking && xb > xa) {
					for (m = xa; m < xb; m = nx) {
						line_bounds(s, len, m, &la, &lb,
							    &nx);
						append(out[k].diag,
						       sizeof(out[k].diag),
						       s + la, lb - la);
					}
				}
				talking = false;
				if (rest < b) {
					append(out[k].diag, sizeof(out[k].diag),
					       s + rest, b - rest);
					/* indented continuation lines */
					while (next < len && (s[next] == ' '
							      || s[next] == '\t')) {
						line_bounds(s, len, next, &la,
							    &lb, &nx);
						if (la == lb)
							break;
						append(out[k].diag,
						       sizeof(out[k].diag),
						       s + la, lb - la);
						next = nx;
					}
				} else {
					/* the lines below, to a gap or an address */
					for (lines = 0; next < len
					     && lines < DIAG_LINES; lines++) {
						line_bounds(s, len, next, &la,
							    &lb, &nx);
						if (la == lb || addr_line(s, la, lb,
								&ma, &mb, &rest))
							break;
						append(out[k].diag,
						       sizeof(out[k].diag),
						       s + la, lb - la);
						next = nx;
					}
				}
			}
		} else {
			for (i = 0; i < NELEM(addr_markers); i++) {
				if (!bounce_reason_find(s + a, b - a,
							addr_markers[i], &ma,
							&mb))
					continue;
				m = a + mb;
				if (m < b && s[m] == '<')
					m++;
				if (!bounce_text_find_addr(s, b, m, &as, &ae)
				    || as != m)
					continue;
				k = add_rcpt(out, n, max, s, as, ae, skip1, skip2);
				if (k == (size_t)-1)
					break;
				if (k == n)
					n++;
				append(out[k].diag, sizeof(out[k].diag),
				       s + a, b - a);
				break;
			}
			if (i == NELEM(addr_markers)
			    && (k = block_rcpt(s, len, a, b, &next, out, n, max,
					       skip1, skip2)) != (size_t)-1) {
				if (k == n)
					n++;
			} else if (i == NELEM(addr_markers)
			    && (k = reason_then_addr(s, a, b, out, n, max, skip1,
						     skip2)) != (size_t)-1 && k == n)
				n++;
		}
		pos = next;
	}
	response_text(s, len, resp, sizeof(resp));
	for (k = 0; k < n && resp[0] != '\0'; k++)
		if (bounce_dsn_find_status(out[k].diag, strlen(out[k].diag),
					   code, sizeof(code)) == 0)
			append(out[k].diag, sizeof(out[k].diag), resp,
			       strlen(resp));
	return n;
}
