/*++
 * NAME
 *	bounce_policy 3
 * SUMMARY
 *	postmill-bounce decisions as plain functions
 * DESCRIPTION
 *	See bounce_policy.h.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "bounce_fbl.h"
#include "bounce_msg.h"
#include "bounce_policy.h"

/* bp_never - reasons that say nothing against the address */
static bool
bp_never(int reason)
{
	return reason == BOUNCE_REASON_POLICY_REJECTED
	    || reason == BOUNCE_REASON_SPAM_REJECTED
	    || reason == BOUNCE_REASON_RATE_LIMITED
	    || reason == BOUNCE_REASON_AUTO_REPLY;
}

/* bp_reason_list - a list parameter of reason names into flags */
static void
bp_reason_list(const struct cfg_list *l, const char *param, bool *flags,
	       const char *path, struct errlist *el)
{
	for (size_t i = 0; i < l->count; i++) {
		int r = bounce_reason_by_name(l->items[i]);

		if (r < 0 || r >= BOUNCE_NREASONS)
			errlist_add_at(el, path, 0, "%s = %s: unknown reason", param,
				       l->items[i]);
		else if (bp_never(r))
			errlist_add_at(el, path, 0, "%s = %s: this reason never "
				       "suppresses: it is about the sender's "
				       "reputation or an auto-reply, not the address",
				       param, l->items[i]);
		else
			flags[r] = true;
	}
}

/* bounce_policy_from_conf - see bounce_policy.h */
int
bounce_policy_from_conf(const struct bounce_conf *c, struct bounce_policy *pol,
			const char *path, struct errlist *el)
{
	size_t before = el->count;
	long long def = -1;
	bool set[BOUNCE_NREASONS] = {false};

	memset(pol, 0, sizeof(*pol));
	pol->scope = c->suppress_scope;
	pol->soft_threshold = c->soft_threshold;
	pol->soft_window_ms = c->soft_window;
	bp_reason_list(&c->suppress_reasons, "bounce_suppress_reasons",
		       pol->suppress_now, path, el);
	bp_reason_list(&c->soft_reasons, "bounce_soft_reasons", pol->soft, path, el);
	for (int r = 0; r < BOUNCE_NREASONS; r++)
		if (pol->suppress_now[r] && pol->soft[r])
			errlist_add_at(el, path, 0, "bounce_soft_reasons = %s: also in "
				       "bounce_suppress_reasons", bounce_reason_name(r));
	for (size_t i = 0; i < c->suppress_expiry.count; i++) {
		const char *item = c->suppress_expiry.items[i], *eq = strchr(item, '=');
		char name[32];
		long long ms;
		const char *why;
		int r = -2;

		if (eq == NULL || (size_t)(eq - item) >= sizeof(name) || eq == item) {
			errlist_add_at(el, path, 0, "bounce_suppress_expiry = %s: "
				       "expected REASON=DURATION", item);
			continue;
		}
		memcpy(name, item, (size_t)(eq - item));
		name[eq - item] = '\0';
		if (strcmp(name, "*") != 0
		    && ((r = bounce_reason_by_name(name)) < 0 || r >= BOUNCE_NREASONS)) {
			errlist_add_at(el, path, 0, "bounce_suppress_expiry = %s: "
				       "unknown reason", item);
			continue;
		}
		if (cfg_parse_time(eq + 1, "s", &ms, &why) < 0) {
			errlist_add_at(el, path, 0, "bounce_suppress_expiry = %s: %s",
				       item, why);
			continue;
		}
		if (r == -2)
			def = ms;
		else {
			pol->expiry_ms[r] = ms;
			set[r] = true;
		}
	}
	for (int r = 0; r < BOUNCE_NREASONS; r++)
		if (!set[r])
			pol->expiry_ms[r] = def >= 0 ? def : 14LL * 86400 * 1000;
	return el->count == before ? 0 : -1;
}

/* bounce_policy_plan - what one recipient does to the suppression list */
void
bounce_policy_plan(const struct bounce_policy *pol, const struct bounce_rcpt *r,
		   struct bounce_rcpt_plan *out)
{
	int reason = (int)r->reason;

	memset(out, 0, sizeof(*out));
	if (reason < 0 || reason >= BOUNCE_NREASONS)
		reason = BOUNCE_REASON_OTHER;
	switch (r->cls) {
	case BOUNCE_CLASS_NONE:
		/* RFC 3464 2.3.3: the address took the mail */
		if (strcmp(r->action, "delivered") == 0 || strcmp(r->action, "relayed") == 0
		    || strcmp(r->action, "expanded") == 0)
			out->reset = true;
		return;
	case BOUNCE_CLASS_AUTO_REPLY:
		/* a vacation reply proves the mailbox exists */
		out->reset = true;
		return;
	case BOUNCE_CLASS_HARD:
	case BOUNCE_CLASS_SOFT:
	case BOUNCE_CLASS_COMPLAINT:
		break;
	}
	/* RFC 3464 2.3.3: a delay warning; the final report, if any, counts */
	if (strcmp(r->action, "delayed") == 0)
		return;
	if (bp_never(reason))
		return;
	out->expiry_ms = pol->expiry_ms[reason];
	if (pol->suppress_now[reason])
		out->suppress = true;
	else if (pol->soft[reason] && pol->soft_threshold > 0)
		out->soft = true;
}

/* bounce_addr_norm - lower-cased envelope address for keys */
int
bounce_addr_norm(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (len >= 2 && in[0] == '<' && in[len - 1] == '>') {
		in++;
		len -= 2;
	}
	if (len == 0 || len > BOUNCE_ADDR_MAX || len >= outlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch < 0x21 || ch == 0x7f)
			return -1;
		out[o++] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
	}
	out[o] = '\0';
	return 0;
}

/* bounce_scope_tag - the hash tag of a sender's suppression list */
int
bounce_scope_tag(int scope, const char *sender, char *out, size_t outlen)
{
	const char *at;
	int n;

	switch (scope) {
	case BOUNCE_SCOPE_GLOBAL:
		n = snprintf(out, outlen, "g");
		break;
	case BOUNCE_SCOPE_SENDER:
		if (sender == NULL || *sender == '\0')
			return -1;
		n = snprintf(out, outlen, "s:%s", sender);
		break;
	case BOUNCE_SCOPE_DOMAIN:
		if (sender == NULL || (at = strrchr(sender, '@')) == NULL || at[1] == '\0')
			return -1;
		n = snprintf(out, outlen, "d:%s", at + 1);
		break;
	default:
		return -1;
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* bp_at_domain - does the text after the last '@' (up to a closing '>')
 * name the domain; for paths the address parser refuses */
static bool
bp_at_domain(const char *path, size_t len, const char *domain)
{
	size_t at = len, dlen = strlen(domain);

	while (at > 0 && path[at - 1] != '@')
		at--;
	if (at == 0)
		return false;
	if (len > at && path[len - 1] == '>')
		len--;
	return len - at == dlen && strncasecmp(path + at, domain, dlen) == 0;
}

/* bounce_rcpt_local - is this recipient at the bounce domain */
int
bounce_rcpt_local(const char *path, size_t len, const char *domain,
		  char *local, size_t locallen)
{
	struct addr_mailbox m = {0};
	bool is_null = false;
	const char *why;
	int rc = 0;

	if (domain == NULL || locallen == 0)
		return 0;
	if (addr_parse_path(path, len, &m, &is_null, &why) != ADDR_OK || is_null) {
		/* at the bounce domain all the same: it must fail the tag
		 * check, not pass as mail for someone else */
		if (!is_null && bp_at_domain(path, len, domain)) {
			local[0] = '\0';
			return 1;
		}
		return -1;
	}
	if (strcasecmp(m.domain, domain) == 0) {
		if (strlen(m.local) >= locallen) {
			local[0] = '\0';	/* longer than any tag */
			rc = 1;
		} else {
			memcpy(local, m.local, strlen(m.local) + 1);
			rc = 1;
		}
	}
	addr_mailbox_free(&m);
	return rc;
}

/* bp_clean - copy text for an SMTP reply: printable ASCII, no '%' */
static void
bp_clean(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < dstlen; src++) {
		unsigned char ch = (unsigned char)*src;

		dst[o++] = (ch < 0x20 || ch >= 0x7f || ch == '%') ? '?' : (char)ch;
	}
	dst[o] = '\0';
}

/* bounce_suppress_text - the reply text for a suppressed recipient */
void
bounce_suppress_text(const char *rcpt, const char *reason,
		     const char *diagnostic, long long since_s, char *out,
		     size_t outlen)
{
	char r[BOUNCE_ADDR_MAX + 1], why[32], diag[200], when[32];
	time_t t = (time_t)since_s;
	struct tm tm;

	bp_clean(r, sizeof(r), rcpt);
	bp_clean(why, sizeof(why), reason);
	bp_clean(diag, sizeof(diag), diagnostic);
	if (since_s <= 0 || gmtime_r(&t, &tm) == NULL
	    || strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof(when), "an unknown time");
	snprintf(out, outlen, "<%s>: recipient suppressed since %s after a bounce: "
		 "%s%s%s%s", r, when, why, diag[0] ? " (" : "", diag, diag[0] ? ")" : "");
}

/* bounce_policy_scope - a hosted message's suppression list: tenant's first */
int
bounce_policy_scope(const char *tenant, int scope, const char *sender, char *out,
		    size_t outlen)
{
	/* a tenant's mail has the tenant's own suppression list */
	if (tenant != NULL)
		return snprintf(out, outlen, "t:%s", tenant) < (int)outlen ? 0 : -1;
	return bounce_scope_tag(scope, sender, out, outlen);
}

/* bounce_policy_then - deliver, redirect or discard a recorded bounce */
int
bounce_policy_then(int action, bool have_record)
{
	if (action == BOUNCE_ACTION_REDIRECT && !have_record)
		return BOUNCE_ACTION_DELIVER;	/* nobody to redirect to */
	return action;
}

/* bounce_policy_tenant_counts - hard bounces and complaints a tenant sees */
void
bounce_policy_tenant_counts(const struct bounce_evslot *slots, size_t n,
			    long long *hard, long long *complaints)
{
	*hard = *complaints = 0;
	for (size_t i = 0; i < n; i++) {
		if (slots[i].unlisted)
			continue;
		if (strcmp(slots[i].ev.cls, bounce_class_name(BOUNCE_CLASS_HARD)) == 0)
			(*hard)++;
		else if (strcmp(slots[i].ev.cls,
				bounce_class_name(BOUNCE_CLASS_COMPLAINT)) == 0)
			(*complaints)++;
	}
}

/* bounce_policy_fbl_wanted - is this feedback-loop mail a complaint to map */
bool
bounce_policy_fbl_wanted(enum bounce_kind kind, bool has_original, size_t nref,
			 const char *feedback_type)
{
	if (kind != BOUNCE_KIND_ARF
	    && !(kind == BOUNCE_KIND_UNKNOWN && has_original && nref > 0))
		return false;
	return bounce_fbl_is_complaint(feedback_type);
}
