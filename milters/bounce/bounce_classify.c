/*++
 * NAME
 *	bounce_classify 3
 * SUMMARY
 *	bounce report -> class and reason (see bounce_classify.h)
 *--*/
#include <string.h>

#include "bounce_classify.h"

static const char *const class_names[] = {
	[BOUNCE_CLASS_NONE] = "none",
	[BOUNCE_CLASS_HARD] = "hard",
	[BOUNCE_CLASS_SOFT] = "soft",
	[BOUNCE_CLASS_COMPLAINT] = "complaint",
	[BOUNCE_CLASS_AUTO_REPLY] = "auto_reply",
};

static const char *const reason_names[] = {
	[BOUNCE_REASON_OTHER] = "other",
	[BOUNCE_REASON_USER_UNKNOWN] = "user_unknown",
	[BOUNCE_REASON_MAILBOX_FULL] = "mailbox_full",
	[BOUNCE_REASON_DOMAIN_UNKNOWN] = "domain_unknown",
	[BOUNCE_REASON_POLICY_REJECTED] = "policy_rejected",
	[BOUNCE_REASON_SPAM_REJECTED] = "spam_rejected",
	[BOUNCE_REASON_MESSAGE_TOO_LARGE] = "message_too_large",
	[BOUNCE_REASON_RATE_LIMITED] = "rate_limited",
	[BOUNCE_REASON_EXPIRED] = "expired",
	[BOUNCE_REASON_NETWORK_ERROR] = "network_error",
	[BOUNCE_REASON_SYSTEM_ERROR] = "system_error",
	[BOUNCE_REASON_SUSPENDED] = "suspended",
	[BOUNCE_REASON_AUTO_REPLY] = "auto_reply",
	[BOUNCE_REASON_COMPLAINT] = "complaint",
};

static const char *const kind_names[] = {
	[BOUNCE_KIND_UNKNOWN] = "unknown",
	[BOUNCE_KIND_DSN] = "dsn",
	[BOUNCE_KIND_ARF] = "arf",
	[BOUNCE_KIND_AUTO_REPLY] = "auto_reply",
	[BOUNCE_KIND_TEXT] = "text",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* bounce_class_name - "hard", "soft", ... */
const char *
bounce_class_name(enum bounce_class c)
{
	return (size_t)c < NELEM(class_names) ? class_names[c] : "none";
}

/* bounce_reason_name - "user_unknown", ... */
const char *
bounce_reason_name(enum bounce_reason r)
{
	return (size_t)r < NELEM(reason_names) ? reason_names[r] : "other";
}

/* bounce_kind_name - "dsn", "arf", ... */
const char *
bounce_kind_name(enum bounce_kind k)
{
	return (size_t)k < NELEM(kind_names) ? kind_names[k] : "unknown";
}

/* bounce_class_by_name - inverse of bounce_class_name, -1 if unknown */
int
bounce_class_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(class_names); i++)
		if (strcmp(class_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* bounce_reason_by_name - inverse of bounce_reason_name, -1 if unknown */
int
bounce_reason_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(reason_names); i++)
		if (strcmp(reason_names[i], name) == 0)
			return (int)i;
	return -1;
}

/* bounce_classify - placeholder until the parser lands */
int
bounce_classify(const char *msg, size_t len, struct bounce_report *out,
		const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = "not implemented yet";
	return -1;
}
