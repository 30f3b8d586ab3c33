/*++
 * NAME
 *	bounce_smtp 3
 * SUMMARY
 *	the failed SMTP command and the receiver's quoted reply
 * DESCRIPTION
 *	See bounce_smtp.h. The phrase table is data: lowercase, matched
 *	with bounce_reason_find() (a space matches any run of white
 *	space), the source of each row noted beside it.
 *--*/
#include <stdbool.h>
#include <string.h>

#include "bounce_reason.h"
#include "bounce_smtp.h"
#include "name_code.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *phrase;
	enum bounce_smtp_cmd cmd;
} cmd_rows[] = {
	/* Postfix smtp(8): "(in reply to RCPT TO command)" */
	{"in reply to end of data command", BOUNCE_SMTP_DATA},
	{"in reply to data command", BOUNCE_SMTP_DATA},
	{"in reply to rcpt to command", BOUNCE_SMTP_RCPT},
	{"in reply to mail from command", BOUNCE_SMTP_MAIL},
	{"in reply to ehlo command", BOUNCE_SMTP_HELO},
	{"in reply to helo command", BOUNCE_SMTP_HELO},
	{"refused to talk to me", BOUNCE_SMTP_CONN},
	/* Exim transports: "SMTP error from remote mail server after ..." */
	{"after end of data", BOUNCE_SMTP_DATA},
	{"after data", BOUNCE_SMTP_DATA},
	{"after rcpt to", BOUNCE_SMTP_RCPT},
	{"after mail from", BOUNCE_SMTP_MAIL},
	{"after ehlo", BOUNCE_SMTP_HELO},
	{"after helo", BOUNCE_SMTP_HELO},
	{"after initial connection", BOUNCE_SMTP_CONN},
	{"after pipelined data", BOUNCE_SMTP_DATA},
	{"after pipelined rcpt to", BOUNCE_SMTP_RCPT},
	{"after pipelined mail from", BOUNCE_SMTP_MAIL},
	/* Sendmail transcript (">>> DATA" then "<<< 550 ...") */
	{">>> data", BOUNCE_SMTP_DATA},
	{">>> rcpt to", BOUNCE_SMTP_RCPT},
	{">>> mail from", BOUNCE_SMTP_MAIL},
	{">>> ehlo", BOUNCE_SMTP_HELO},
	{">>> helo", BOUNCE_SMTP_HELO},
	/* DragonFly Mail Agent: "did not like our final DATA" */
	{"did not like our final data", BOUNCE_SMTP_DATA},
	{"did not like our data", BOUNCE_SMTP_DATA},
	{"did not like our rcpt to", BOUNCE_SMTP_RCPT},
	{"did not like our mail from", BOUNCE_SMTP_MAIL},
	/* qmail-remote: "... but sender was rejected." */
	{"but sender was rejected", BOUNCE_SMTP_MAIL},
	/* OpenSMTPD, Courier, Exchange: "after DATA" variants */
	{"while sending data", BOUNCE_SMTP_DATA},
	{"while sending rcpt to", BOUNCE_SMTP_RCPT},
	{"while sending mail from", BOUNCE_SMTP_MAIL},
	{"failed after i sent the message", BOUNCE_SMTP_DATA}, /* qmail */
	/* qmail-remote.c: " does not like recipient.", " failed on DATA command." */
	{"does not like recipient", BOUNCE_SMTP_RCPT},
	{"failed on data command", BOUNCE_SMTP_DATA},
	/* qmail-remote.c: "Connected to ... but my name was rejected." */
	{"but my name was rejected", BOUNCE_SMTP_HELO},
	/* 1&1 (EinsUndEins): "... for TEXT command", its word for DATA */
	{"for text command", BOUNCE_SMTP_DATA},
	/* GMX, Yahoo, X3, qmail: their own ways of naming RCPT */
	{"after rcpt command", BOUNCE_SMTP_RCPT},		/* GMX */
	{"[rcpt_to]", BOUNCE_SMTP_RCPT},			/* Yahoo */
	{"smtp:rcpt host", BOUNCE_SMTP_RCPT},			/* X3 */
	{"most progress was rcpt to response", BOUNCE_SMTP_RCPT}, /* qmail */
	{"most progress was mail from response", BOUNCE_SMTP_MAIL},
	/* Ipswitch IMail */
	{"smtp connection failed", BOUNCE_SMTP_CONN},
	{"unexpected connection response from server", BOUNCE_SMTP_CONN},
	{"unexpected response to ehlo/helo", BOUNCE_SMTP_HELO},
	{"server response to mail from", BOUNCE_SMTP_MAIL},
	{"additional rcpt to generated following response", BOUNCE_SMTP_RCPT},
	{"data command generated response", BOUNCE_SMTP_DATA},
};

static const struct name_code cmd_names[] = {
	{"", BOUNCE_SMTP_NONE},
	{"CONNECT", BOUNCE_SMTP_CONN},
	{"HELO", BOUNCE_SMTP_HELO},
	{"MAIL", BOUNCE_SMTP_MAIL},
	{"RCPT", BOUNCE_SMTP_RCPT},
	{"DATA", BOUNCE_SMTP_DATA},
	{NULL, -1},
};

/* bounce_smtp_command_name - "DATA", "RCPT", ... "" for none */
const char *
bounce_smtp_command_name(enum bounce_smtp_cmd c)
{
	const char *w = name_code_str(cmd_names, c);

	return w ? w : "";
}

/*
 * verb_line - a line that is only an SMTP verb: m-FILTER prints the
 * command under its "SMTP command" heading that way, after the reply
 */
static enum bounce_smtp_cmd
verb_line(const char *s, size_t len)
{
	static const struct {
		const char *verb;
		enum bounce_smtp_cmd cmd;
	} verbs[] = {
		{"DATA", BOUNCE_SMTP_DATA}, {"RCPT TO", BOUNCE_SMTP_RCPT},
		{"MAIL FROM", BOUNCE_SMTP_MAIL}, {"RCPT", BOUNCE_SMTP_RCPT},
		{"MAIL", BOUNCE_SMTP_MAIL},
	};
	size_t a = 0, b, e, i, n;
	const char *nl;

	while (a < len) {
		nl = memchr(s + a, '\n', len - a);
		e = nl ? (size_t)(nl - s) : len;
		b = e;
		while (b > a && (s[b - 1] == '\r' || s[b - 1] == ' '))
			b--;
		for (i = 0; i < NELEM(verbs); i++) {
			n = strlen(verbs[i].verb);
			if (b - a == n && memcmp(s + a, verbs[i].verb, n) == 0)
				return verbs[i].cmd;
		}
		a = e + 1;
	}
	return BOUNCE_SMTP_NONE;
}

/* bounce_smtp_command - the command the earliest mention names */
enum bounce_smtp_cmd
bounce_smtp_command(const char *s, size_t len)
{
	enum bounce_smtp_cmd best = BOUNCE_SMTP_NONE;
	size_t i, a, b, at = len;

	if (len > BOUNCE_REASON_TEXT_MAX)
		len = BOUNCE_REASON_TEXT_MAX;
	for (i = 0; i < NELEM(cmd_rows); i++)
		if (bounce_reason_find(s, at < len ? at : len, cmd_rows[i].phrase,
				       &a, &b) && a < at) {
			at = a;
			best = cmd_rows[i].cmd;
		}
	return best != BOUNCE_SMTP_NONE ? best : verb_line(s, len);
}

/* is_digit - ASCII digit */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* bounce_smtp_inner - a reply "NNN-'...'" or "NNN '...'" quoted in a wrapper */
int
bounce_smtp_inner(const char *s, size_t len, size_t *start, size_t *end)
{
	const char *q;
	size_t i;

	for (i = 0; i + 5 < len; i++) {
		if ((s[i] != '4' && s[i] != '5') || !is_digit(s[i + 1])
		    || !is_digit(s[i + 2]) || (i > 0 && is_digit(s[i - 1]))
		    || (s[i + 3] != '-' && s[i + 3] != ' ') || s[i + 4] != '\'')
			continue;
		q = memchr(s + i + 5, '\'', len - i - 5);
		if (q == NULL || q == s + i + 5)
			return 0;
		*start = i + 5;
		*end = (size_t)(q - s);
		return 1;
	}
	return 0;
}
