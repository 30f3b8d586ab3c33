/*++
 * NAME
 *	bounce_classify 3
 * SUMMARY
 *	returned message -> report: kind, recipients, class and reason
 * DESCRIPTION
 *	See bounce_classify.h for the contract. The order of the decision:
 *	1. a message/feedback-report part that parses: a complaint (ARF)
 *	   when its Feedback-Type is a reader's (abuse, fraud), else a
 *	   report of kind arf with class none (auth-failure, not-spam,
 *	   virus, other: bounce_fbl_is_complaint());
 *	   an Apple Mail unsubscribe request or a Microsoft JMRP report
 *	   (the original attached, X-HmXmrOriginalRecipient): a complaint;
 *	2. a message/delivery-status part with recipients: a DSN, each
 *	   recipient with its own status, diagnostic and reason; a
 *	   recipient without a Diagnostic-Code borrows the reason the text
 *	   part gives for the same address;
 *	3. an Amazon SES notification (JSON, bare or SNS-wrapped);
 *	4. a mailer daemon's message whose body holds DSN fields outside
 *	   a delivery-status part (broken MIME, a bounce inside a bounce
 *	   notice), when its text names nobody or the fields carry a
 *	   Diagnostic-Code: a DSN read from the raw body;
 *	5. a challenge-response request: an auto-reply;
 *	6. a strong auto-reply sign (bounce_text_auto_reply() == 2) on a
 *	   message that is not from a MAILER-DAEMON: an auto-reply;
 *	7. a bounce by From, Subject or text: a text bounce, recipients
 *	   found in the text (bounce_text.h: per-MTA layouts), else
 *	   X-Failed-Recipients (Exim, Google), else a quoted original's
 *	   To:, else the To: of the returned header;
 *	8. Auto-Submitted other than "no", or a vacation text without any
 *	   header sign: an auto-reply;
 *	9. otherwise a message of unknown kind, class none.
 *	Parts inside a returned message (message/rfc822) never count as the
 *	report's own parts: the original could itself be a bounce.
 *
 *	The working memory (about 200 KiB: the part list, the decoded
 *	report and text) comes from xmalloc() and is freed before return.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_arf.h"
#include "bounce_classify.h"
#include "bounce_dsn.h"
#include "bounce_fbl.h"
#include "bounce_formats.h"
#include "bounce_mime.h"
#include "bounce_mta.h"
#include "bounce_reason.h"
#include "bounce_ses.h"
#include "bounce_smtp.h"
#include "bounce_text.h"
#include "name_code.h"
#include "xalloc.h"

struct work {
	struct bounce_mime mime;
	struct bounce_dsn dsn;
	struct bounce_arf arf;
	struct bounce_ses ses;
	struct bounce_text_rcpt trcpt[BOUNCE_MAX_RCPTS];
	size_t	ntrcpt;
	char	from[1024];		/* header values, unfolded */
	char	from_addr[321];
	char	to_addr[321];
	char	subject[1024];
	char	decoder[24];		/* the text decoder that found rcpts */
	const char *dsn_decoder;	/* "rfc3464" or "rfc3464-raw" */
	enum bounce_mta mta;		/* the reporting MTA, by its header */
	char	text[BOUNCE_TEXT_MAX];	/* the notification, NUL-terminated */
	size_t	textlen;
	size_t	fulllen;		/* with an appended original, if any */
	char	buf[BOUNCE_TEXT_MAX];	/* a decoded report part */
};

static const struct name_code class_names[] = {
	{"none", BOUNCE_CLASS_NONE},
	{"hard", BOUNCE_CLASS_HARD},
	{"soft", BOUNCE_CLASS_SOFT},
	{"complaint", BOUNCE_CLASS_COMPLAINT},
	{"auto_reply", BOUNCE_CLASS_AUTO_REPLY},
	{NULL, -1},
};

static const struct name_code reason_names[] = {
	{"other", BOUNCE_REASON_OTHER},
	{"user_unknown", BOUNCE_REASON_USER_UNKNOWN},
	{"mailbox_full", BOUNCE_REASON_MAILBOX_FULL},
	{"domain_unknown", BOUNCE_REASON_DOMAIN_UNKNOWN},
	{"policy_rejected", BOUNCE_REASON_POLICY_REJECTED},
	{"spam_rejected", BOUNCE_REASON_SPAM_REJECTED},
	{"message_too_large", BOUNCE_REASON_MESSAGE_TOO_LARGE},
	{"rate_limited", BOUNCE_REASON_RATE_LIMITED},
	{"expired", BOUNCE_REASON_EXPIRED},
	{"network_error", BOUNCE_REASON_NETWORK_ERROR},
	{"system_error", BOUNCE_REASON_SYSTEM_ERROR},
	{"suspended", BOUNCE_REASON_SUSPENDED},
	{"auto_reply", BOUNCE_REASON_AUTO_REPLY},
	{"complaint", BOUNCE_REASON_COMPLAINT},
	{NULL, -1},
};

static const struct name_code kind_names[] = {
	{"unknown", BOUNCE_KIND_UNKNOWN},
	{"dsn", BOUNCE_KIND_DSN},
	{"arf", BOUNCE_KIND_ARF},
	{"auto_reply", BOUNCE_KIND_AUTO_REPLY},
	{"text", BOUNCE_KIND_TEXT},
	{NULL, -1},
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* bc_name - a row's word, or fallback for a value no row has */
static const char *
bc_name(const struct name_code *table, int code, const char *fallback)
{
	const char *w = name_code_str(table, code);

	return w ? w : fallback;
}

/* bounce_class_name - "hard", "soft", ... */
const char *
bounce_class_name(enum bounce_class c)
{
	return bc_name(class_names, c, "none");
}

/* bounce_reason_name - "user_unknown", ... */
const char *
bounce_reason_name(enum bounce_reason r)
{
	return bc_name(reason_names, r, "other");
}

/* bounce_kind_name - "dsn", "arf", ... */
const char *
bounce_kind_name(enum bounce_kind k)
{
	return bc_name(kind_names, k, "unknown");
}

/* bounce_class_by_name - inverse of bounce_class_name, -1 if unknown */
int
bounce_class_by_name(const char *name)
{
	return name_code(class_names, NAME_CODE_FLAG_NONE, name);
}

/* bounce_reason_by_name - inverse of bounce_reason_name, -1 if unknown */
int
bounce_reason_by_name(const char *name)
{
	return name_code(reason_names, NAME_CODE_FLAG_NONE, name);
}

/* copy - bounded string copy, truncating */
static void
copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* header_addr - the address in a From/To value: <...> first, else any */
static void
header_addr(const char *v, char *out, size_t cap)
{
	const char *lt = strchr(v, '<');
	size_t a, b, len = strlen(v), from = 0;

	out[0] = '\0';
	if (lt != NULL && strchr(lt, '>') != NULL)
		from = (size_t)(lt - v) + 1;
	if (bounce_text_find_addr(v, len, from, &a, &b)
	    || bounce_text_find_addr(v, len, 0, &a, &b))
		snprintf(out, cap, "%.*s", (int)(b - a), v + a);
}

/* in_returned - is the part inside a returned message */
static bool
in_returned(const struct bounce_mime *m, size_t i)
{
	int p;

	for (p = m->part[i].parent; p >= 0; p = m->part[p].parent)
		if (strcmp(m->part[p].type, "message/rfc822") == 0
		    || strcmp(m->part[p].type, "message/global") == 0)
			return true;
	return false;
}

/* find_part - first part of one of the types, outside returned messages */
static const struct bounce_part *
find_part(const struct bounce_mime *m, const char *t1, const char *t2)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		if (!in_returned(m, i) && (strcmp(m->part[i].type, t1) == 0
					   || (t2 && strcmp(m->part[i].type,
							    t2) == 0)))
			return &m->part[i];
	return NULL;
}

/* returned_header - Message-ID and To of the returned message */
static void
returned_header(struct work *w, struct bounce_report *out)
{
	const struct bounce_mime *m = &w->mime;
	const char *hdr = NULL;
	size_t i, hdrlen = 0;
	char val[1024];

	for (i = 0; i < m->nparts && hdr == NULL; i++) {
		if (in_returned(m, i))
			continue;
		if (strcmp(m->part[i].type, "text/rfc822-headers") == 0) {
			hdr = m->part[i].body;
			hdrlen = m->part[i].bodylen;
		} else if ((strcmp(m->part[i].type, "message/rfc822") == 0
			    || strcmp(m->part[i].type, "message/global") == 0)
			   && i + 1 < m->nparts
			   && m->part[i + 1].parent == (int)i) {
			hdr = m->part[i + 1].hdr;
			hdrlen = m->part[i + 1].hdrlen;
		}
	}
	if (hdr == NULL)
		return;
	if (bounce_mime_header(hdr, hdrlen, "Message-ID", val, sizeof(val)))
		copy(out->original_message_id, sizeof(out->original_message_id),
		     val);
	if (bounce_mime_header(hdr, hdrlen, "To", val, sizeof(val)))
		header_addr(val, out->original_rcpt_hint,
			    sizeof(out->original_rcpt_hint));
}

/* split_failed - the first multipart, outside returned messages, with no parts */
static const struct bounce_part *
split_failed(const struct bounce_mime *m)
{
	size_t i, j;

	for (i = 0; i < m->nparts; i++) {
		if (strncmp(m->part[i].type, "multipart/", 10) != 0
		    || in_returned(m, i))
			continue;
		for (j = i + 1; j < m->nparts; j++)
			if (m->part[j].parent == (int)i)
				break;
		if (j == m->nparts)
			return &m->part[i];
	}
	return NULL;
}

/* notification - the human-readable text of the report */
static void
notification(struct work *w)
{
	const struct bounce_mime *m = &w->mime;
	const struct bounce_part *pt;

	pt = find_part(m, "text/plain", NULL);
	if (pt == NULL)
		pt = find_part(m, "text/html", NULL);
	if (pt == NULL)
		pt = split_failed(m);
	if (pt != NULL && strncmp(pt->type, "multipart/", 10) == 0) {
		/*
		 * A multipart whose boundary never occurs or is lost (a relay
		 * or an anonymiser changed it, a parameter folded without
		 * white space): its body is all there is to read.
		 */
		w->textlen = pt->bodylen < sizeof(w->text) - 1
		    ? pt->bodylen : sizeof(w->text) - 1;
		memcpy(w->text, pt->body, w->textlen);
		w->text[w->textlen] = '\0';
		w->fulllen = w->textlen;
		w->textlen = bounce_text_cut(w->text, w->textlen);
		return;
	}
	if (pt == NULL) {
		w->text[0] = '\0';
		w->textlen = 0;
		w->fulllen = 0;
		return;
	}
	w->textlen = bounce_mime_text(pt, w->text, sizeof(w->text));
	w->text[w->textlen] = '\0';
	w->fulllen = w->textlen;
	w->textlen = bounce_text_cut(w->text, w->textlen);
}

/* generic_status - "X.0.0": RFC 3463 3.1, other or undefined status */
static bool
generic_status(const char *s)
{
	return s[0] != '\0' && strcmp(s + 1, ".0.0") == 0;
}

/* finish_rcpt - status fallback, action, reason and class of one recipient */
static void
finish_rcpt(struct bounce_rcpt *r, const char *fallback, size_t flen,
	    const char *ctx, enum bounce_mta mta)
{
	char code[sizeof(r->status)];
	struct bounce_reason_in in;
	struct bounce_reason_ctx rctx;
	enum bounce_smtp_cmd cmd;
	size_t a, b;

	/*
	 * Exim writes Status: 5.0.0 for every failure; the receiver's own
	 * code in the diagnostic ("552 5.2.2 ...") says more. It may be a
	 * 4.x.x that the reporting MTA gave up on: that is what was said.
	 * A reply quoted inside a relay's wrapper (Amazon SES) is the
	 * receiver's and ranks above the wrapper's own code.
	 */
	if (bounce_smtp_inner(r->diagnostic, strlen(r->diagnostic), &a, &b)
	    && bounce_dsn_find_status(r->diagnostic + a, b - a, code,
				      sizeof(code)) > 0
	    && !generic_status(code))
		copy(r->status, sizeof(r->status), code);
	if (generic_status(r->status)
	    && bounce_dsn_find_status(r->diagnostic, strlen(r->diagnostic),
				      code, sizeof(code)) > 0
	    && !generic_status(code))
		copy(r->status, sizeof(r->status), code);
	if (r->status[0] == '\0')
		bounce_dsn_find_status(r->diagnostic, strlen(r->diagnostic),
				       r->status, sizeof(r->status));
	if (r->status[0] == '\0' && fallback != NULL)
		bounce_dsn_find_status(fallback, flen, r->status,
				       sizeof(r->status));
	if (r->action[0] == '\0') {
		/* RFC 3464 2.3.3 makes Action required; infer it. */
		if (r->status[0] == '2')
			copy(r->action, sizeof(r->action), "delivered");
		else if (r->status[0] == '4')
			copy(r->action, sizeof(r->action), "delayed");
		else
			copy(r->action, sizeof(r->action), "failed");
	}
	/* RFC 3464 2.3.3 "expired" is not a registered action; Sendgrid uses it */
	if (strcmp(r->action, "expired") == 0)
		copy(r->action, sizeof(r->action), "failed");
	cmd = bounce_smtp_command(r->diagnostic, strlen(r->diagnostic));
	if (cmd == BOUNCE_SMTP_NONE && ctx != NULL)
		cmd = bounce_smtp_command(ctx, strlen(ctx));
	if (cmd == BOUNCE_SMTP_NONE && fallback != NULL)
		cmd = bounce_smtp_command(fallback, flen);
	copy(r->command, sizeof(r->command), bounce_smtp_command_name(cmd));
	if (strcmp(r->action, "failed") == 0 || strcmp(r->action, "delayed") == 0) {
		in.diag = r->diagnostic;
		in.dlen = strlen(r->diagnostic);
		in.text = fallback;
		in.tlen = flen;
		in.status = r->status;
		in.action = r->action;
		in.cmd = (int)cmd;
		rctx.rcpt = r->recipient;
		rctx.remote_mta = r->remote_mta;
		rctx.mta = (int)mta;
		r->reason = bounce_reason_decide_ctx(&in, &rctx, r->why,
						     sizeof(r->why));
	} else {
		r->reason = BOUNCE_REASON_OTHER;
		snprintf(r->why, sizeof(r->why), "action %s", r->action);
	}
	{
		enum bounce_reason vr;
		const char *note;

		if (strcmp(r->action, "failed") == 0
		    && bounce_mta_verdict(mta, &vr, &note)) {
			r->reason = vr;
			copy(r->why, sizeof(r->why), note);
		}
	}
	r->cls = bounce_class_of(r->reason, r->action, r->status);
	if (r->why[0] == '\0')
		copy(r->why, sizeof(r->why), "nothing decided");
}

/* text_rcpt_diag - the text's diagnostic for an address, or NULL */
static const char *
text_rcpt_diag(const struct work *w, const char *addr)
{
	size_t i;

	for (i = 0; i < w->ntrcpt; i++)
		if (strcasecmp(w->trcpt[i].addr, addr) == 0
		    && w->trcpt[i].diag[0] != '\0')
			return w->trcpt[i].diag;
	return NULL;
}

/* full_addr - local@domain with both parts */
static bool
full_addr(const char *a)
{
	const char *at = strrchr(a, '@');

	return at != NULL && at != a && at[1] != '\0';
}

/*
 * raw_dsn - RFC 3464 fields in a message whose MIME structure is broken:
 * no part header ("Content-Type: message/delivery-status" missing), a
 * boundary that never occurs, the report inside an attached bounce. The
 * fields from the first line that starts a DSN block to the next MIME
 * boundary line, parsed as a delivery-status body.
 */
static bool
raw_dsn(struct work *w)
{
	static const char *const starts[] = {
		"reporting-mta:", "final-recipient:", "original-recipient:",
	};
	const char *body = w->mime.part[0].body, *p, *e;
	size_t len = w->mime.part[0].bodylen, off = 0, i, end;
	const char *pwhy;

	while (off < len) {
		for (i = 0; i < NELEM(starts); i++)
			if (len - off > strlen(starts[i])
			    && strncasecmp(body + off, starts[i],
					   strlen(starts[i])) == 0)
				break;
		if (i < NELEM(starts))
			break;
		p = memchr(body + off, '\n', len - off);
		off = p ? (size_t)(p - body) + 1 : len;
	}
	if (off >= len)
		return false;
	/* to the next boundary line ("\n--") */
	for (end = off; end < len; end = (size_t)(e - body) + 1) {
		e = memchr(body + end, '\n', len - end);
		if (e == NULL) {
			end = len;
			break;
		}
		if ((size_t)(e - body) + 2 < len && e[1] == '-' && e[2] == '-') {
			end = (size_t)(e - body) + 1;
			break;
		}
	}
	if (bounce_dsn_parse(body + off, end - off, &w->dsn, &pwhy) != 0)
		return false;
	for (i = 0; i < w->dsn.nrcpt; i++)
		if (!full_addr(w->dsn.rcpt[i].final_recipient)
		    && !full_addr(w->dsn.rcpt[i].original_recipient))
			return false;
	return true;
}

/* powermta_category - PowerMTA's own verdict, for a failed recipient */
static void
powermta_category(struct bounce_rcpt *r, const char *cat)
{
	enum bounce_reason reason;

	if (strcmp(r->action, "failed") != 0
	    || !bounce_powermta_category(cat, strlen(cat), &reason))
		return;
	r->reason = reason;
	r->cls = bounce_class_of(r->reason, r->action, r->status);
	snprintf(r->why, sizeof(r->why), "X-PowerMTA-BounceCategory: %.40s", cat);
}

/* raw_dsn_says_more - raw DSN fields with a diagnostic for someone */
static bool
raw_dsn_says_more(const struct work *w)
{
	size_t i;

	for (i = 0; i < w->dsn.nrcpt; i++)
		if (w->dsn.rcpt[i].diagnostic[0] != '\0')
			return true;
	return false;
}

/* from_dsn - every recipient of a delivery status report */
static void
from_dsn(struct work *w, struct bounce_report *out)
{
	const struct bounce_dsn_rcpt *d;
	struct bounce_rcpt *r;
	const char *diag;
	size_t i;
	bool single = w->dsn.nrcpt == 1;

	out->kind = BOUNCE_KIND_DSN;
	copy(out->original_envelope_id, sizeof(out->original_envelope_id),
	     w->dsn.envelope_id);
	for (i = 0; i < w->dsn.nrcpt; i++) {
		d = &w->dsn.rcpt[i];
		r = &out->rcpt[out->nrcpt++];
		/*
		 * RFC 3464 2.3.2: Final-Recipient is the address the report
		 * is about; Original-Recipient (RFC 3461 ORCPT) the one the
		 * sender used, which the milter matches against what it sent.
		 * A Final-Recipient without a local part ("@mx.example", seen
		 * from old Sendmail) names no one.
		 */
		copy(r->recipient, sizeof(r->recipient),
		     full_addr(d->final_recipient) ? d->final_recipient
		     : d->original_recipient);
		if (r->recipient[0] == '\0' && single && w->ntrcpt == 1)
			copy(r->recipient, sizeof(r->recipient), w->trcpt[0].addr);
		if (strcasecmp(d->original_recipient, r->recipient) != 0)
			copy(r->original, sizeof(r->original),
			     d->original_recipient);
		copy(r->status, sizeof(r->status), d->status);
		copy(r->action, sizeof(r->action), d->action);
		copy(r->diagnostic, sizeof(r->diagnostic), d->diagnostic);
		copy(r->remote_mta, sizeof(r->remote_mta), d->remote_mta);
		diag = text_rcpt_diag(w, d->final_recipient);
		if (diag == NULL)
			diag = text_rcpt_diag(w, r->recipient);
		if (r->diagnostic[0] == '\0' && diag != NULL)
			copy(r->diagnostic, sizeof(r->diagnostic), diag);
		copy(r->decoder, sizeof(r->decoder), w->dsn_decoder);
		finish_rcpt(r, single ? w->text : NULL, single ? w->textlen : 0,
			    diag, w->mta != BOUNCE_MTA_UNKNOWN ? w->mta
			    : bounce_mta_by_reporting(w->dsn.reporting_mta));
		powermta_category(r, d->category);
	}
}

/* quoted_to - the "To:" line of an original quoted in a one-part text */
static bool
quoted_to(const struct work *w, char *out, size_t cap)
{
	const char *t = w->text, *p;
	size_t len = w->fulllen, off = 0, a, b, e;

	while (off < len && (p = memchr(t + off, '\n', len - off)) != NULL) {
		off = (size_t)(p - t) + 1;
		while (off < len && (t[off] == ' ' || t[off] == '\t'))
			off++;
		if (off + 3 >= len || strncasecmp(t + off, "to:", 3) != 0)
			continue;
		p = memchr(t + off, '\n', len - off);
		e = p ? (size_t)(p - t) : len;
		if (bounce_text_find_addr(t, e, off + 3, &a, &b)
		    && !(strlen(w->from_addr) == b - a
			 && strncasecmp(t + a, w->from_addr, b - a) == 0)
		    && !(strlen(w->to_addr) == b - a
			 && strncasecmp(t + a, w->to_addr, b - a) == 0)) {
			snprintf(out, cap, "%.*s", (int)(b - a), t + a);
			return true;
		}
	}
	return false;
}

/* from_text - the recipients a bounce text names */
static void
from_text(struct work *w, struct bounce_report *out)
{
	struct bounce_rcpt *r;
	char val[1024];
	size_t i, n = w->ntrcpt, a, b, pos;
	bool delay = bounce_text_is_delay(w->text, w->textlen);

	out->kind = BOUNCE_KIND_TEXT;
	/* Exim and Google name them in a header even when the text is odd */
	if (n == 0 && bounce_mime_header(w->mime.part[0].hdr,
					 w->mime.part[0].hdrlen,
					 "X-Failed-Recipients", val, sizeof(val))) {
		for (pos = 0; n < BOUNCE_MAX_RCPTS
		     && bounce_text_find_addr(val, strlen(val), pos, &a, &b);
		     pos = b) {
			snprintf(w->trcpt[n].addr, sizeof(w->trcpt[n].addr),
				 "%.*s", (int)(b - a), val + a);
			w->trcpt[n++].diag[0] = '\0';
		}
	}
	if (n == 0 && quoted_to(w, w->trcpt[0].addr, sizeof(w->trcpt[0].addr))) {
		w->trcpt[0].diag[0] = '\0';
		n = 1;
	}
	if (n == 0) {
		/* Say it failed even when the text does not say for whom: the
		 * caller may know the recipient from its own records. */
		copy(w->trcpt[0].addr, sizeof(w->trcpt[0].addr),
		     out->original_rcpt_hint);
		w->trcpt[0].diag[0] = '\0';
		n = 1;
	}
	for (i = 0; i < n; i++) {
		r = &out->rcpt[out->nrcpt++];
		copy(r->recipient, sizeof(r->recipient), w->trcpt[i].addr);
		copy(r->diagnostic, sizeof(r->diagnostic), w->trcpt[i].diag);
		copy(r->action, sizeof(r->action), delay ? "delayed" : "failed");
		snprintf(r->decoder, sizeof(r->decoder), "text:%s", w->decoder);
		finish_rcpt(r, n == 1 ? w->text : NULL, n == 1 ? w->textlen : 0,
			    NULL, w->mta);
	}
}

/* from_arf - a feedback report: one complaint */
static void
from_arf(struct work *w, struct bounce_report *out)
{
	struct bounce_rcpt *r = &out->rcpt[0];

	out->kind = BOUNCE_KIND_ARF;
	out->nrcpt = 1;
	copy(r->recipient, sizeof(r->recipient), w->arf.original_rcpt_to[0]
	     ? w->arf.original_rcpt_to : out->original_rcpt_hint);
	snprintf(r->diagnostic, sizeof(r->diagnostic), "feedback-type: %s",
		 w->arf.feedback_type);
	copy(r->remote_mta, sizeof(r->remote_mta), w->arf.reporting_mta);
	copy(r->decoder, sizeof(r->decoder), "arf");
	/*
	 * Only a reader's complaint (abuse, fraud) counts: an auth-failure
	 * report (RFC 6591, DMARC failure reports) is about a message that
	 * failed authentication, often one we never sent; not-spam, virus
	 * and other say nothing about what the reader wants.
	 */
	if (!bounce_fbl_is_complaint(w->arf.feedback_type)) {
		snprintf(r->why, sizeof(r->why), "RFC 5965 feedback-type %.32s: "
			 "not a reader's complaint", w->arf.feedback_type);
		r->cls = BOUNCE_CLASS_NONE;
		r->reason = BOUNCE_REASON_OTHER;
		return;
	}
	snprintf(r->why, sizeof(r->why), "RFC 5965 feedback report, "
		 "feedback-type %.32s", w->arf.feedback_type);
	r->cls = BOUNCE_CLASS_COMPLAINT;
	r->reason = BOUNCE_REASON_COMPLAINT;
}

/* from_auto_reply - the person who auto-replied is the recipient */
static void
from_auto_reply(struct work *w, struct bounce_report *out)
{
	struct bounce_rcpt *r = &out->rcpt[0];

	out->kind = BOUNCE_KIND_AUTO_REPLY;
	out->nrcpt = 1;
	copy(r->recipient, sizeof(r->recipient), w->from_addr[0]
	     ? w->from_addr : out->original_rcpt_hint);
	copy(r->diagnostic, sizeof(r->diagnostic), w->subject);
	copy(r->decoder, sizeof(r->decoder), "rfc3834");
	snprintf(r->why, sizeof(r->why), "RFC 3834 auto-reply signs");
	r->cls = BOUNCE_CLASS_AUTO_REPLY;
	r->reason = BOUNCE_REASON_AUTO_REPLY;
}

/*
 * from_ses - an Amazon SES notification. SES's own bounceSubType speaks
 * when the receiver's words do not (documented values: NoEmail,
 * Suppressed, OnAccountSuppressionList, MailboxFull, MessageTooLarge,
 * ContentRejected, AttachmentRejected).
 */
static void
from_ses(struct work *w, struct bounce_report *out)
{
	const struct bounce_ses_rcpt *x;
	struct bounce_rcpt *r;
	enum bounce_reason sub;
	size_t i;

	out->kind = w->ses.type == BOUNCE_SES_COMPLAINT ? BOUNCE_KIND_ARF
	    : BOUNCE_KIND_DSN;
	for (i = 0; i < w->ses.nrcpt; i++) {
		x = &w->ses.rcpt[i];
		r = &out->rcpt[out->nrcpt++];
		copy(r->recipient, sizeof(r->recipient), x->addr);
		copy(r->decoder, sizeof(r->decoder), "amazonses");
		if (w->ses.type == BOUNCE_SES_COMPLAINT) {
			snprintf(r->why, sizeof(r->why), "SES complaint %s",
				 w->ses.sub_type);
			r->cls = BOUNCE_CLASS_COMPLAINT;
			r->reason = BOUNCE_REASON_COMPLAINT;
			continue;
		}
		if (w->ses.type == BOUNCE_SES_DELIVERY) {
			copy(r->diagnostic, sizeof(r->diagnostic),
			     w->ses.smtp_response);
			copy(r->action, sizeof(r->action), "delivered");
		} else {
			copy(r->status, sizeof(r->status), x->status);
			copy(r->diagnostic, sizeof(r->diagnostic), x->diag);
			copy(r->action, sizeof(r->action),
			     x->action[0] ? x->action : "failed");
		}
		finish_rcpt(r, NULL, 0, NULL, BOUNCE_MTA_UNKNOWN);
		if (r->reason == BOUNCE_REASON_OTHER
		    && strcmp(r->action, "failed") == 0
		    && bounce_ses_subtype(w->ses.sub_type, &sub)) {
			r->reason = sub;
			r->cls = bounce_class_of(r->reason, r->action, r->status);
			snprintf(r->why, sizeof(r->why), "SES bounceSubType %s",
				 w->ses.sub_type);
		}
	}
}

/* report_result - the report's class and reason: the first failure's */
static void
report_result(struct bounce_report *out)
{
	size_t i;

	/* a final failure says more than a delay warning beside it */
	for (i = 0; i < out->nrcpt; i++)
		if (out->rcpt[i].cls != BOUNCE_CLASS_NONE
		    && strcmp(out->rcpt[i].action, "failed") == 0) {
			out->cls = out->rcpt[i].cls;
			out->reason = out->rcpt[i].reason;
			return;
		}
	for (i = 0; i < out->nrcpt; i++)
		if (out->rcpt[i].cls != BOUNCE_CLASS_NONE) {
			out->cls = out->rcpt[i].cls;
			out->reason = out->rcpt[i].reason;
			return;
		}
	out->cls = BOUNCE_CLASS_NONE;
	out->reason = BOUNCE_REASON_OTHER;
}

/* decode_part - a report part's body, decoded, into w->buf */
static size_t
decode_part(struct work *w, const struct bounce_part *pt)
{
	return bounce_mime_decode(pt, w->buf, sizeof(w->buf));
}

/* bounce_classify - the whole decision, see bounce_classify.h */
int
bounce_classify(const char *msg, size_t len, struct bounce_report *out,
		const char **why)
{
	struct work *w;
	const struct bounce_part *pt, *top;
	const char *pwhy;
	char val[1024];
	int autosig;

	memset(out, 0, sizeof(*out));
	if (len > BOUNCE_MSG_MAX)
		len = BOUNCE_MSG_MAX;
	w = xmalloc(sizeof(*w));
	/* the two big buffers are written before read; everything else is 0 */
	memset(w, 0, offsetof(struct work, text));
	w->text[0] = '\0';
	w->textlen = 0;
	w->fulllen = 0;
	if (bounce_mime_walk(msg, len, &w->mime, why) < 0) {
		xfree(w);
		return -1;
	}
	top = &w->mime.part[0];
	if (bounce_mime_header(top->hdr, top->hdrlen, "From", w->from,
			       sizeof(w->from)))
		header_addr(w->from, w->from_addr, sizeof(w->from_addr));
	if (bounce_mime_header(top->hdr, top->hdrlen, "To", val, sizeof(val)))
		header_addr(val, w->to_addr, sizeof(w->to_addr));
	if (bounce_mime_header(top->hdr, top->hdrlen, "Subject", val,
			       sizeof(val)))
		bounce_mime_decode_words(val, strlen(val), w->subject,
					 sizeof(w->subject));
	w->mta = bounce_mta_identify(top->hdr, top->hdrlen);
	returned_header(w, out);
	notification(w);
	w->ntrcpt = bounce_text_recipients(w->text, w->textlen, w->from_addr,
					   w->to_addr, w->trcpt,
					   BOUNCE_MAX_RCPTS);
	copy(w->decoder, sizeof(w->decoder), "generic");

	if ((pt = find_part(&w->mime, "message/feedback-report", NULL)) != NULL
	    && bounce_arf_parse(w->buf, decode_part(w, pt), &w->arf,
				&pwhy) == 0) {
		from_arf(w, out);
		out->cls = out->rcpt[0].cls;
		out->reason = out->rcpt[0].reason;
	} else if (bounce_mime_header(top->hdr, top->hdrlen,
				      "X-Apple-Unsubscribe", val, sizeof(val))
		   && strcasecmp(val, "true") == 0 && w->from_addr[0] != '\0') {
		/*
		 * Apple Mail's "Unsubscribe" button mails the List-Unsubscribe
		 * address as the reader; the reader asked for no more mail.
		 */
		struct bounce_rcpt *r = &out->rcpt[0];

		out->kind = BOUNCE_KIND_ARF;
		out->nrcpt = 1;
		copy(r->recipient, sizeof(r->recipient), w->from_addr);
		copy(r->decoder, sizeof(r->decoder), "apple-unsubscribe");
		copy(r->why, sizeof(r->why), "X-Apple-Unsubscribe: true "
		     "(Apple Mail unsubscribe request)");
		r->cls = out->cls = BOUNCE_CLASS_COMPLAINT;
		r->reason = out->reason = BOUNCE_REASON_COMPLAINT;
	} else if (bounce_jmrp_recipient(&w->mime, out->rcpt[0].recipient,
					 sizeof(out->rcpt[0].recipient))) {
		struct bounce_rcpt *r = &out->rcpt[0];

		out->kind = BOUNCE_KIND_ARF;
		out->nrcpt = 1;
		copy(r->decoder, sizeof(r->decoder), "jmrp");
		copy(r->why, sizeof(r->why), "Microsoft JMRP: "
		     "X-HmXmrOriginalRecipient in the attached message");
		r->cls = out->cls = BOUNCE_CLASS_COMPLAINT;
		r->reason = out->reason = BOUNCE_REASON_COMPLAINT;
	} else if ((pt = find_part(&w->mime, "message/delivery-status",
				   "message/global-delivery-status")) != NULL
		   && bounce_dsn_parse(w->buf, decode_part(w, pt), &w->dsn,
				       &pwhy) == 0) {
		w->dsn_decoder = "rfc3464";
		from_dsn(w, out);
		report_result(out);
	} else if (bounce_ses_parse(w->text, w->textlen, w->buf, sizeof(w->buf),
				    &w->ses)) {
		from_ses(w, out);
		if (w->ses.type == BOUNCE_SES_COMPLAINT) {
			out->cls = BOUNCE_CLASS_COMPLAINT;
			out->reason = BOUNCE_REASON_COMPLAINT;
		} else {
			report_result(out);
		}
	} else if (bounce_text_is_bounce(w->from, w->subject, "", 0)
		   && raw_dsn(w) && (w->ntrcpt == 0 || raw_dsn_says_more(w))) {
		/* only in what a mailer daemon sent: a person may forward one */
		w->dsn_decoder = "rfc3464-raw";
		from_dsn(w, out);
		report_result(out);
	} else if (!bounce_text_is_bounce(w->from, NULL, "", 0)
		   && bounce_text_is_challenge(top->hdr, top->hdrlen, w->subject,
					       w->text, w->textlen)) {
		/* a person's filter asks to confirm the sender: alive */
		from_auto_reply(w, out);
		copy(out->rcpt[0].decoder, sizeof(out->rcpt[0].decoder),
		     "challenge");
		copy(out->rcpt[0].why, sizeof(out->rcpt[0].why),
		     "challenge-response request, not a bounce");
		out->cls = BOUNCE_CLASS_AUTO_REPLY;
		out->reason = BOUNCE_REASON_AUTO_REPLY;
	} else if ((autosig = bounce_text_auto_reply(top->hdr, top->hdrlen)) == 2
		   && !bounce_text_is_bounce(w->from, NULL, "", 0)) {
		from_auto_reply(w, out);
		out->cls = BOUNCE_CLASS_AUTO_REPLY;
		out->reason = BOUNCE_REASON_AUTO_REPLY;
	} else if (bounce_text_is_bounce(w->from, w->subject, w->text,
					 w->textlen)) {
		from_text(w, out);
		report_result(out);
	} else if (autosig > 0 || bounce_text_is_vacation(w->text, w->textlen)) {
		from_auto_reply(w, out);
		out->cls = BOUNCE_CLASS_AUTO_REPLY;
		out->reason = BOUNCE_REASON_AUTO_REPLY;
	} else {
		out->kind = BOUNCE_KIND_UNKNOWN;
		out->cls = BOUNCE_CLASS_NONE;
		out->reason = BOUNCE_REASON_OTHER;
	}
	xfree(w);
	return 0;
}
