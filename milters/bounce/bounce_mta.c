/*++
 * NAME
 *	bounce_mta 3
 * SUMMARY
 *	reporting MTA by header signs; its own unknown-address wordings
 * DESCRIPTION
 *	See bounce_mta.h. Both tables are data, a source noted per row:
 *	the header signs are those the MTAs put on every report they write
 *	(the same signs Sisimai's per-MTA modules test, Sisimai::Lhost::*),
 *	the wordings those that the MTA writes when its own lookup of the
 *	mailbox failed (the "userunknown" lists of the same modules).
 *	Phrases are lowercase and matched with bounce_reason_find(): a
 *	space matches any run of white space.
 *--*/
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "bounce_mime.h"
#include "bounce_mta.h"
#include "bounce_reason.h"
#include "name_code.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * header field, a substring of its value ("" = any value; the whole
 * value, spaces aside, when exact), the MTA
 */
static const struct {
	const char *field;
	const char *value;
	enum bounce_mta mta;
	const char *src;
	int	exact;
} signs[] = {
	{"X-SPASIGN", "NG", BOUNCE_MTA_AU_SPASIGN,
	 "KDDI au (EZweb): the recipient's spam filter refused", 1},
	{"X-Mailer", "<SMTP32 v", BOUNCE_MTA_IMAIL,
	 "Ipswitch IMail: X-Mailer <SMTP32 vNNN>", 0},
	{"X-NAI-Header", "Modified by McAfee", BOUNCE_MTA_MCAFEE,
	 "McAfee Email and Web Security Appliance", 0},
	{"From", "postmaster@hotmail.com", BOUNCE_MTA_OUTLOOK,
	 "Outlook.com (Hotmail) DSNs", 0},
	{"From", "postmaster@outlook.com", BOUNCE_MTA_OUTLOOK,
	 "Outlook.com DSNs", 0},
	{"From", "postmaster@live.com", BOUNCE_MTA_OUTLOOK,
	 "Outlook.com (Windows Live) DSNs", 0},
	{"From", "mailer-daemon@messagelabs.com", BOUNCE_MTA_MESSAGELABS,
	 "Symantec MessageLabs", 0},
	{"X-MX-Bounce", "", BOUNCE_MTA_MXLOGIC, "McAfee MXLogic", 0},
	{"X-MXL-Hash", "", BOUNCE_MTA_MXLOGIC, "McAfee MXLogic", 0},
	{"X-MXL-NoteHash", "", BOUNCE_MTA_MXLOGIC, "McAfee MXLogic", 0},
	{"From", "mailer-daemon@corp.mail.ru", BOUNCE_MTA_MAILRU, "Mail.ru", 0},
	{"From", "mailer-daemon@mail.ru", BOUNCE_MTA_MAILRU, "Mail.ru", 0},
	{"From", "mailer-daemon@yahoo.", BOUNCE_MTA_YAHOO,
	 "Yahoo: MAILER-DAEMON@yahoo.com, yahoo.co.jp, ...", 0},
};

/* the MTA's own words for a mailbox its lookup did not find */
static const struct {
	enum bounce_mta mta;
	const char *phrase;
	const char *src;
} own_unknown[] = {
	{BOUNCE_MTA_IMAIL, "unknown user", "IMail: \"Unknown user: a@b\""},
	{BOUNCE_MTA_IMAIL, "invalid final delivery userid", "IMail"},
	{BOUNCE_MTA_MCAFEE, "unknown user", "McAfee: \"550 Unknown user a@b\""},
	{BOUNCE_MTA_MCAFEE, "user not exist", "McAfee: \"<a@b>... User not exist\""},
	{BOUNCE_MTA_MCAFEE, "no such user", "McAfee"},
	{BOUNCE_MTA_OUTLOOK, "requested action not taken: mailbox unavailable",
	 "Outlook.com: its 550 for a mailbox that does not exist"},
	{BOUNCE_MTA_MESSAGELABS, "no such user", "MessageLabs"},
	{BOUNCE_MTA_MXLOGIC, "user not found", "MXLogic"},
	{BOUNCE_MTA_MAILRU, "user not found", "Mail.ru"},
	{BOUNCE_MTA_YAHOO, "doesn't have a", "Yahoo: \"dd This user doesn't "
	 "have a yahoo.com account\""},
	{BOUNCE_MTA_YAHOO, "requested mail action aborted, mailbox not found",
	 "Yahoo's 552 for a mailbox that does not exist"},
};

/*
 * Fixed report texts with a documented meaning. Amazon SES receiving:
 * the Bounce action of a receipt rule answers with one of the console's
 * templates (SES developer guide, "Bounce action"); "Mailbox does not
 * exist" is what the domain's rule chose to say, a filter's refusal.
 */
static const struct {
	enum bounce_mta mta;
	const char *phrase;
	enum bounce_reason reason;
} own_reason[] = {
	{BOUNCE_MTA_SES_RECEIVING, "mailbox does not exist",
	 BOUNCE_REASON_POLICY_REJECTED},
	{BOUNCE_MTA_SES_RECEIVING, "temporary failure", BOUNCE_REASON_OTHER},
	{BOUNCE_MTA_SES_RECEIVING, "message too large",
	 BOUNCE_REASON_MESSAGE_TOO_LARGE},
	{BOUNCE_MTA_SES_RECEIVING, "mailbox full", BOUNCE_REASON_MAILBOX_FULL},
	{BOUNCE_MTA_SES_RECEIVING, "message content rejected",
	 BOUNCE_REASON_POLICY_REJECTED},
};

static const struct name_code names[] = {
	{"", BOUNCE_MTA_UNKNOWN},
	{"imail", BOUNCE_MTA_IMAIL},
	{"mcafee", BOUNCE_MTA_MCAFEE},
	{"outlook", BOUNCE_MTA_OUTLOOK},
	{"messagelabs", BOUNCE_MTA_MESSAGELABS},
	{"mxlogic", BOUNCE_MTA_MXLOGIC},
	{"mailru", BOUNCE_MTA_MAILRU},
	{"yahoo", BOUNCE_MTA_YAHOO},
	{"ses-receiving", BOUNCE_MTA_SES_RECEIVING},
	{"au", BOUNCE_MTA_AU_SPASIGN},
	{NULL, -1},
};

/* bounce_mta_name - "imail", ..., "" for unknown */
const char *
bounce_mta_name(enum bounce_mta mta)
{
	const char *w = name_code_str(names, mta);

	return w ? w : "";
}

/* contains - value (vlen bytes) holds sub, ASCII case-insensitively */
static bool
contains(const char *v, size_t vlen, const char *sub)
{
	size_t n = strlen(sub), i;

	if (n == 0)
		return true;
	for (i = 0; i + n <= vlen; i++)
		if (strncasecmp(v + i, sub, n) == 0)
			return true;
	return false;
}

/* exact - value (vlen bytes, maybe folded) is s, white space aside */
static bool
exact(const char *v, size_t vlen, const char *s)
{
	size_t n = strlen(s);

	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'
			    || v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
		vlen--;
	return vlen == n && strncasecmp(v, s, n) == 0;
}

/* bounce_mta_identify - the first field that carries a sign wins */
enum bounce_mta
bounce_mta_identify(const char *hdr, size_t hdrlen)
{
	struct bounce_field f;
	size_t pos = 0, i;

	while (bounce_mime_next_field(hdr, hdrlen, &pos, &f))
		for (i = 0; i < NELEM(signs); i++)
			if (f.namelen == strlen(signs[i].field)
			    && strncasecmp(f.name, signs[i].field, f.namelen) == 0
			    && (signs[i].exact ? exact(f.value, f.valuelen,
						       signs[i].value)
				: contains(f.value, f.valuelen, signs[i].value)))
				return signs[i].mta;
	return BOUNCE_MTA_UNKNOWN;
}

/* bounce_mta_own_unknown - see bounce_mta.h */
int
bounce_mta_own_unknown(enum bounce_mta mta, const char *s, size_t len,
		       const char **phrase)
{
	size_t i, a, b;

	if (mta == BOUNCE_MTA_UNKNOWN || s == NULL)
		return 0;
	for (i = 0; i < NELEM(own_unknown); i++)
		if (own_unknown[i].mta == mta
		    && bounce_reason_find(s, len, own_unknown[i].phrase, &a, &b)) {
			*phrase = own_unknown[i].phrase;
			return 1;
		}
	return 0;
}

/* bounce_mta_by_reporting - SES receiving: "inbound-smtp.REGION.amazonaws.com" */
enum bounce_mta
bounce_mta_by_reporting(const char *v)
{
	const char *p, *dot;
	size_t n;

	if (v == NULL)
		return BOUNCE_MTA_UNKNOWN;
	p = strchr(v, ';');
	p = p ? p + 1 : v;
	while (*p == ' ')
		p++;
	for (n = 0; p[n] && p[n] != ' ' && p[n] != '('; n++)
		;
	while (n > 0 && p[n - 1] == '.')
		n--;
	if (n < 13 + 14 || strncasecmp(p, "inbound-smtp.", 13) != 0
	    || strncasecmp(p + n - 14, ".amazonaws.com", 14) != 0)
		return BOUNCE_MTA_UNKNOWN;
	/* one label, the region, between the two */
	dot = memchr(p + 13, '.', n - 13);
	return dot == p + n - 14 && dot > p + 13 ? BOUNCE_MTA_SES_RECEIVING
	    : BOUNCE_MTA_UNKNOWN;
}

/* bounce_mta_own_reason - see bounce_mta.h */
int
bounce_mta_own_reason(enum bounce_mta mta, const char *s, size_t len,
		      enum bounce_reason *reason, const char **phrase)
{
	size_t i, a, b;

	if (mta == BOUNCE_MTA_UNKNOWN || s == NULL)
		return 0;
	for (i = 0; i < NELEM(own_reason); i++)
		if (own_reason[i].mta == mta
		    && bounce_reason_find(s, len, own_reason[i].phrase, &a, &b)) {
			*reason = own_reason[i].reason;
			*phrase = own_reason[i].phrase;
			return 1;
		}
	return 0;
}

/* bounce_mta_verdict - see bounce_mta.h */
int
bounce_mta_verdict(enum bounce_mta mta, enum bounce_reason *reason,
		   const char **note)
{
	if (mta != BOUNCE_MTA_AU_SPASIGN)
		return 0;
	*reason = BOUNCE_REASON_POLICY_REJECTED;
	*note = "X-SPASIGN: NG (KDDI au: the recipient's spam filter refused)";
	return 1;
}
