/*++
 * NAME
 *	bounce_formats 3
 * SUMMARY
 *	PowerMTA categories and Microsoft JMRP (see bounce_formats.h)
 * DESCRIPTION
 *	The category names are PowerMTA's documented bounce categories
 *	(its "bounce-category-patterns"); JMRP is described in Microsoft's
 *	postmaster documentation (Junk Mail Reporting Program).
 *--*/
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_formats.h"
#include "bounce_text.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* bounce_powermta_category - see bounce_formats.h */
int
bounce_powermta_category(const char *cat, size_t len,
			 enum bounce_reason *reason)
{
	static const struct {
		const char *cat;
		enum bounce_reason reason;
	} cats[] = {
		{"bad-mailbox", BOUNCE_REASON_USER_UNKNOWN},
		{"bad-domain", BOUNCE_REASON_DOMAIN_UNKNOWN},
		{"inactive-mailbox", BOUNCE_REASON_SUSPENDED},
		{"quota-issues", BOUNCE_REASON_MAILBOX_FULL},
		{"message-expired", BOUNCE_REASON_EXPIRED},
		{"no-answer-from-host", BOUNCE_REASON_NETWORK_ERROR},
		{"routing-errors", BOUNCE_REASON_SYSTEM_ERROR},
		{"policy-related", BOUNCE_REASON_POLICY_REJECTED},
		{"spam-related", BOUNCE_REASON_SPAM_REJECTED},
		{"virus-related", BOUNCE_REASON_SPAM_REJECTED},
		{"content-related", BOUNCE_REASON_POLICY_REJECTED},
		{"relaying-issues", BOUNCE_REASON_POLICY_REJECTED},
		{"message-too-large", BOUNCE_REASON_MESSAGE_TOO_LARGE},
	};
	size_t i;

	while (len > 0 && (cat[len - 1] == ' ' || cat[len - 1] == '\r'))
		len--;
	for (i = 0; i < NELEM(cats); i++)
		if (strlen(cats[i].cat) == len
		    && strncasecmp(cat, cats[i].cat, len) == 0) {
			*reason = cats[i].reason;
			return 1;
		}
	return 0;
}

/* bounce_jmrp_recipient - see bounce_formats.h */
int
bounce_jmrp_recipient(const struct bounce_mime *m, char *out, size_t cap)
{
	char val[1024];
	size_t i, a, b;

	for (i = 0; i + 1 < m->nparts; i++) {
		if (strcmp(m->part[i].type, "message/rfc822") != 0
		    || m->part[i + 1].parent != (int)i
		    || !bounce_mime_header(m->part[i + 1].hdr,
					   m->part[i + 1].hdrlen,
					   "X-HmXmrOriginalRecipient", val,
					   sizeof(val)))
			continue;
		if (!bounce_text_find_addr(val, strlen(val), 0, &a, &b))
			return 0;
		snprintf(out, cap, "%.*s", (int)(b - a), val + a);
		return 1;
	}
	return 0;
}
