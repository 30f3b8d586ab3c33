/*++
 * NAME
 *	bounce_ses 3
 * SUMMARY
 *	Amazon SES notifications by mail (see bounce_ses.h)
 * DESCRIPTION
 *	Not a JSON parser: the folded, escaped text is not JSON. The body is
 *	unfolded (a line break and the white space after it removed, as the
 *	folding mail system added them) and unescaped one level (\" -> ",
 *	\\ -> \, \/ -> /), so that the SNS-wrapped and the bare forms read
 *	the same; then members are found by their quoted names. The field
 *	names are Amazon's documented ones ("Amazon SES notification
 *	contents", "Contents of event data that Amazon SES publishes").
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bounce_ses.h"

/* unfold - the body without folds and one level of escapes, NUL-terminated */
static size_t
unfold(const char *s, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len && o + 1 < cap) {
		if (s[i] == '\r' || s[i] == '\n') {
			while (i < len && (s[i] == '\r' || s[i] == '\n'))
				i++;
			if (i < len && (s[i] == ' ' || s[i] == '\t'))
				i++;	/* the fold's own space */
			continue;
		}
		if (s[i] == '\\' && i + 1 < len
		    && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '/')) {
			out[o++] = s[i + 1];
			i += 2;
			continue;
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
	return o;
}

/* find - the first occurrence of needle in [s, e), or NULL */
static const char *
find(const char *s, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= e; s++)
		if (*s == needle[0] && memcmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/* value_at - after "name", skip ':' and blanks; the string value's bounds */
static bool
value_at(const char *p, const char *e, const char **vs, const char **ve)
{
	while (p < e && (*p == ' ' || *p == ':' || *p == '\t'))
		p++;
	if (p >= e || *p != '"')
		return false;
	*vs = ++p;
	while (p < e && *p != '"') {
		if (*p == '\\' && p + 1 < e)
			p++;
		p++;
	}
	if (p >= e)
		return false;
	*ve = p;
	return true;
}

/* member - the string value of "name" within [s, e) into out */
static bool
member(const char *s, const char *e, const char *name, char *out, size_t cap)
{
	char key[48];
	const char *p, *vs, *ve;
	size_t n;

	snprintf(key, sizeof(key), "\"%s\"", name);
	if ((p = find(s, e, key)) == NULL
	    || !value_at(p + strlen(key), e, &vs, &ve))
		return false;
	n = (size_t)(ve - vs) < cap - 1 ? (size_t)(ve - vs) : cap - 1;
	memcpy(out, vs, n);
	out[n] = '\0';
	return true;
}

/* array_end - the ']' closing the array that starts at p ('['), or e */
static const char *
array_end(const char *p, const char *e)
{
	int depth = 0;
	bool str = false;

	for (; p < e; p++) {
		if (str) {
			if (*p == '\\' && p + 1 < e)
				p++;
			else if (*p == '"')
				str = false;
		} else if (*p == '"') {
			str = true;
		} else if (*p == '[' || *p == '{') {
			depth++;
		} else if ((*p == ']' || *p == '}') && --depth == 0) {
			return p;
		}
	}
	return e;
}

/* objects - each {...} of an array of recipient objects */
static void
objects(const char *s, const char *e, struct bounce_ses *out)
{
	const char *p = s, *oe;
	struct bounce_ses_rcpt *r;

	while (p < e && out->nrcpt < BOUNCE_MAX_RCPTS
	       && (p = memchr(p, '{', (size_t)(e - p))) != NULL) {
		oe = array_end(p, e);
		r = &out->rcpt[out->nrcpt];
		memset(r, 0, sizeof(*r));
		if (member(p, oe, "emailAddress", r->addr, sizeof(r->addr))) {
			member(p, oe, "status", r->status, sizeof(r->status));
			member(p, oe, "action", r->action, sizeof(r->action));
			member(p, oe, "diagnosticCode", r->diag, sizeof(r->diag));
			out->nrcpt++;
		}
		p = oe + 1;
	}
}

/* strings - each "..." of an array of addresses (delivery.recipients) */
static void
strings(const char *s, const char *e, struct bounce_ses *out)
{
	const char *p = s, *vs, *ve;
	struct bounce_ses_rcpt *r;
	size_t n;

	while (p < e && out->nrcpt < BOUNCE_MAX_RCPTS && value_at(p, e, &vs, &ve)) {
		r = &out->rcpt[out->nrcpt++];
		memset(r, 0, sizeof(*r));
		n = (size_t)(ve - vs) < sizeof(r->addr) - 1 ? (size_t)(ve - vs)
		    : sizeof(r->addr) - 1;
		memcpy(r->addr, vs, n);
		r->addr[n] = '\0';
		p = ve + 1;
		while (p < e && (*p == ',' || *p == ' '))
			p++;
	}
}

/* list - the array member "name" of [s, e): objects or strings */
static void
list(const char *s, const char *e, const char *name, bool objs,
     struct bounce_ses *out)
{
	char key[48];
	const char *p, *ae;

	snprintf(key, sizeof(key), "\"%s\"", name);
	if ((p = find(s, e, key)) == NULL)
		return;
	p += strlen(key);
	while (p < e && (*p == ' ' || *p == ':'))
		p++;
	if (p >= e || *p != '[')
		return;
	ae = array_end(p, e);
	if (objs)
		objects(p + 1, ae, out);
	else
		strings(p + 1, ae, out);
}

/* bounce_ses_parse - see bounce_ses.h */
int
bounce_ses_parse(const char *s, size_t len, char *scratch, size_t cap,
		 struct bounce_ses *out)
{
	char type[32];
	const char *e;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'
				|| s[i] == '\n'); i++)
		;
	if (i == len || s[i] != '{' || cap < 2)
		return 0;
	n = unfold(s + i, len - i, scratch, cap);
	e = scratch + n;
	if (!member(scratch, e, "notificationType", type, sizeof(type))
	    && !member(scratch, e, "eventType", type, sizeof(type)))
		return 0;
	if (strcmp(type, "Bounce") == 0) {
		out->type = BOUNCE_SES_BOUNCE;
		member(scratch, e, "bounceType", out->bounce_type,
		       sizeof(out->bounce_type));
		member(scratch, e, "bounceSubType", out->sub_type,
		       sizeof(out->sub_type));
		list(scratch, e, "bouncedRecipients", true, out);
	} else if (strcmp(type, "Delivery") == 0) {
		out->type = BOUNCE_SES_DELIVERY;
		member(scratch, e, "smtpResponse", out->smtp_response,
		       sizeof(out->smtp_response));
		list(scratch, e, "recipients", false, out);
	} else if (strcmp(type, "Complaint") == 0) {
		out->type = BOUNCE_SES_COMPLAINT;
		member(scratch, e, "complaintFeedbackType", out->sub_type,
		       sizeof(out->sub_type));
		list(scratch, e, "complainedRecipients", true, out);
	} else {
		return 0;
	}
	return out->nrcpt > 0;
}

/* bounce_ses_subtype - SES's bounceSubType as a reason, see bounce_ses.h */
int
bounce_ses_subtype(const char *sub, enum bounce_reason *reason)
{
	static const struct {
		const char *sub;
		enum bounce_reason reason;
	} subs[] = {
		{"NoEmail", BOUNCE_REASON_USER_UNKNOWN},
		{"Suppressed", BOUNCE_REASON_USER_UNKNOWN},
		{"OnAccountSuppressionList", BOUNCE_REASON_USER_UNKNOWN},
		{"MailboxFull", BOUNCE_REASON_MAILBOX_FULL},
		{"MessageTooLarge", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"ContentRejected", BOUNCE_REASON_POLICY_REJECTED},
		{"AttachmentRejected", BOUNCE_REASON_POLICY_REJECTED},
	};
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].sub) == 0) {
			*reason = subs[i].reason;
			return 1;
		}
	return 0;
}
