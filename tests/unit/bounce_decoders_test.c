/*++
 * NAME
 *	bounce_decoders_test 1
 * SUMMARY
 *	table-driven tests of the per-MTA and per-provider bounce decoders
 * DESCRIPTION
 *	One table per decoder, each row a short text in the layout or the
 *	wording of one MTA or provider (written after their published or
 *	observed formats, not copied from the development corpus):
 *	- text layouts: the recipients bounce_text_recipients() finds and
 *	  the diagnostic it keeps for the first (DragonFly, IMail, V5
 *	  Sendmail transcripts, bullet lists, quoted addresses, Messaging
 *	  Server and EZweb blocks, KDDI, X6, FML, CJK text after a domain);
 *	- Amazon SES notifications (bounce_ses_parse): bare, SNS-wrapped and
 *	  folded, bounce, delivery, complaint, not SES;
 *	- vendors' own verdicts: PowerMTA bounce categories, SES bounce
 *	  subtypes (bounce_formats.h, bounce_ses.h);
 *	- providers' documented codes (bounce_provider_code): Orange/La
 *	  Poste, Cox, Spectrum, GoDaddy, i.ua, and near misses;
 *	- whole messages through bounce_classify(): the decoder named, the
 *	  recipient, class and reason (broken MIME, raw DSN fields, JMRP,
 *	  AOL's one-block DSN, Final-Recipient with the ORCPT kept, SES);
 *	- provider and MTA wordings to reasons (bounce_reason_decide), with
 *	  the "why" naming the phrase;
 *	- the reporting MTA by its header signs and its own words for an
 *	  unknown address, by the Reporting-MTA and its fixed templates
 *	  (bounce_mta.h: Amazon SES receiving); a provider's facts keyed by the
 *	  recipient's domain or Remote-MTA (bounce_provider_rcpt: KDDI au);
 *	- the stage rule: "user unknown" at RCPT, after DATA and at no named
 *	  stage, with and without an X.1.x status, the reporter's own words
 *	  or the provider's fact.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../milters/bounce/bounce_classify.h"
#include "../../milters/bounce/bounce_formats.h"
#include "../../milters/bounce/bounce_mta.h"
#include "../../milters/bounce/bounce_provider.h"
#include "../../milters/bounce/bounce_reason.h"
#include "../../milters/bounce/bounce_ses.h"
#include "../../milters/bounce/bounce_smtp.h"
#include "../../milters/bounce/bounce_text.h"

/* test_layouts - recipients and their diagnostic, per MTA layout */
static void
test_layouts(void **state)
{
	static const struct {
		const char *name, *text, *want, *diag;	/* want: "a b" */
	} cases[] = {
		{"DragonFly dma",
		 "This is the DragonFly Mail Agent v0.13 at x.test.\n\n"
		 "There was an error delivering your mail to <a@y.test>.\n\n"
		 "mx.y.test [192.0.2.1] did not like our RCPT TO:\n"
		 "550 5.1.1 no such user\n", "a@y.test", "error delivering"},
		{"IMail", "Unknown user: a@y.test\n", "a@y.test", "Unknown user"},
		{"IMail userid", "Invalid final delivery userid: a@y.test\n",
		 "a@y.test", "Invalid final"},
		{"reason then address needs a reason", "To: a@y.test\n", "", ""},
		{"V5 Sendmail transcript",
		 "550 y.test (smtp)... 550 Host unknown\n"
		 "554 <a@y.test>... 550 Host unknown (Authoritative answer)\n",
		 "a@y.test", "Host unknown"},
		{"Sendmail transcript: the exchange goes to the next recipient",
		 "While talking to mx.y.test:\n>>> MAIL From:<s@x.test>\n"
		 "<<< 501 <s@x.test>... no access from mail server [192.0.2.1]\n"
		 "554 <a@y.test>... Remote protocol error\n"
		 "550 z.test (smtp)... 550 Host unknown\n"
		 "554 <b@z.test>... 550 Host unknown\n",
		 "a@y.test b@z.test", ">>> MAIL From:<s@x.test> <<< 501"},
		{"... while talking to, a host line between",
		 "... while talking to mx.y.test.:\n>>> DATA\n<<< 550 go away\n"
		 "421 y.test (smtp)... Deferred: Connection reset\n"
		 "554 <a@y.test>... Remote protocol error\n", "a@y.test",
		 ">>> DATA <<< 550 go away Remote protocol error"},
		{"bullet list", "failed permanently:\n   * a@y.test\n", "a@y.test", ""},
		{"quoted address (GMX)",
		 "The following address failed:\n\"a@y.test\":\n"
		 "SMTP error from remote server after RCPT command:\n"
		 "5.2.2 <a@y.test>... Mailbox Full\n", "a@y.test", "Mailbox Full"},
		{"Messaging Server block",
		 "Your message cannot be delivered to the following recipients:\n"
		 "  Recipient address: a@y.test\n"
		 "  Reason: Remote SMTP server has rejected address\n"
		 "  Diagnostic code: smtp; 550 5.1.1 unknown\n\n"
		 "  Recipient address: b@y.test\n  Reason: full\n",
		 "a@y.test b@y.test", "Diagnostic code: smtp; 550"},
		{"EZweb block",
		 "Each of the following recipients was rejected:\n"
		 "    Recipient: <a@y.test>\n    >>> RCPT TO:<a@y.test>\n"
		 "    <<< 550 5.1.1 unknown\n", "a@y.test", "<<< 550"},
		{"KDDI", "     Could not be delivered to: <a@y.test>\n"
		 "     As their mailbox is full.\n", "a@y.test", "Could not"},
		{"X6", "The following recipients returned permanent errors: "
		 "a@y.test. Reason: refused", "a@y.test", "Reason"},
		{"FML", "You are not a member of this mailing list <l@y.test>.\n",
		 "l@y.test", "not a member"},
		{"CJK after the domain",
		 "Your message to a@example.jp\xe6\x82\xa8\xe5\xa5\xbd\xef\xbc\x8c "
		 "failed\n", "a@example.jp", "Your message"},
		{"IDN keeps its non-ASCII label",
		 "<a@mail.m\xc3\xbcnchen.de>:\n", "a@mail.m\xc3\xbcnchen.de", ""},
	};
	struct bounce_text_rcpt out[4];
	char got[512];
	size_t i, n, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = bounce_text_recipients(cases[i].text, strlen(cases[i].text),
					   "me@bounce.test", NULL, out, 4);
		got[0] = '\0';
		for (k = 0; k < n; k++) {
			if (k)
				strncat(got, " ", sizeof(got) - strlen(got) - 1);
			strncat(got, out[k].addr, sizeof(got) - strlen(got) - 1);
		}
		if (strcmp(got, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", got,
				  cases[i].want);
		else if (n > 0 && strstr(out[0].diag, cases[i].diag) == NULL)
			tcase_bad(cases[i].name, "diagnostic \"%s\" lacks \"%s\"",
				  out[0].diag, cases[i].diag);
	}
	/* the exchange is the first recipient's only */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strncmp(cases[i].name, "Sendmail transcript", 19) == 0
		    && (n = bounce_text_recipients(cases[i].text,
						   strlen(cases[i].text), NULL,
						   NULL, out, 4)) == 2
		    && strstr(out[1].diag, ">>>") != NULL)
			tcase_bad(cases[i].name, "second recipient got \"%s\"",
				  out[1].diag);
	tcase_done();
}

/* test_ses - Amazon SES notifications */
static void
test_ses(void **state)
{
	static const struct {
		const char *name, *body;
		enum bounce_ses_type type;
		const char *addr, *status, *sub;
	} cases[] = {
		{"bare bounce",
		 "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":"
		 "\"Permanent\",\"bounceSubType\":\"General\",\"bouncedRecipients\":"
		 "[{\"emailAddress\":\"a@y.test\",\"action\":\"failed\",\"status\":"
		 "\"5.1.1\",\"diagnosticCode\":\"smtp; 550 5.1.1 user unknown\"}]},"
		 "\"mail\":{\"destination\":[\"a@y.test\"]}}",
		 BOUNCE_SES_BOUNCE, "a@y.test", "5.1.1", "General"},
		{"SNS wrapped, folded",
		 "{\n  \"Type\" : \"Notification\",\n  \"Message\" : \"{\\\"notific"
		 "ationType\\\":\\\"Bounce\\\",\\\"bounce\\\":{\\\"bounceSubType\\\":"
		 "\\\"MailboxFull\\\",\\\"bouncedRecipients\\\":[{\\\"emailAdd\n ress"
		 "\\\":\\\"b@y.test\\\"}]}}\"\n}\n",
		 BOUNCE_SES_BOUNCE, "b@y.test", "", "MailboxFull"},
		{"event publishing delivery",
		 "{\"eventType\":\"Delivery\",\"mail\":{},\"delivery\":{"
		 "\"recipients\":[\"c@y.test\", \"d@y.test\"],\"smtpResponse\":"
		 "\"250 2.6.0 Message received\"}}",
		 BOUNCE_SES_DELIVERY, "c@y.test", "", ""},
		{"complaint",
		 "{\"notificationType\":\"Complaint\",\"complaint\":{"
		 "\"complainedRecipients\":[{\"emailAddress\":\"e@y.test\"}],"
		 "\"complaintFeedbackType\":\"abuse\"}}",
		 BOUNCE_SES_COMPLAINT, "e@y.test", "", "abuse"},
		{"other JSON", "{\"Type\":\"SubscriptionConfirmation\"}",
		 BOUNCE_SES_NONE, "", "", ""},
		{"not JSON", "Hello, notificationType: Bounce",
		 BOUNCE_SES_NONE, "", "", ""},
		{"no recipients", "{\"notificationType\":\"Bounce\"}",
		 BOUNCE_SES_NONE, "", "", ""},
	};
	struct bounce_ses *ses = malloc(sizeof(*ses));
	char scratch[4096];
	size_t i;
	int ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = bounce_ses_parse(cases[i].body, strlen(cases[i].body),
				      scratch, sizeof(scratch), ses);
		if (ok != (cases[i].type != BOUNCE_SES_NONE))
			tcase_bad(cases[i].name, "got %d", ok);
		else if (ok && (ses->type != cases[i].type
				|| strcmp(ses->rcpt[0].addr, cases[i].addr) != 0
				|| strcmp(ses->rcpt[0].status, cases[i].status) != 0
				|| strcmp(ses->sub_type, cases[i].sub) != 0))
			tcase_bad(cases[i].name, "got type %d %s %s %s", ses->type,
				  ses->rcpt[0].addr, ses->rcpt[0].status,
				  ses->sub_type);
	}
	free(ses);
	tcase_done();
}

/* test_provider_codes - providers' documented codes */
static void
test_provider_codes(void **state)
{
	static const struct {
		const char *text;
		int found;
		enum bounce_reason want;
		const char *what;
	} cases[] = {
		{"550 5.5.0 Le compte du destinataire est bloque. LPN007_426", 1,
		 BOUNCE_REASON_SUSPENDED, "Orange/La Poste code 426"},
		{"Mail rejete. Mail rejected. OFR_506 [506]", 1,
		 BOUNCE_REASON_SPAM_REJECTED, "Orange/La Poste code 506"},
		{"Invalid recipient. LPN416 (in reply to RCPT TO command)", 1,
		 BOUNCE_REASON_USER_UNKNOWN, "Orange/La Poste code 416"},
		{"Service refused, please try later. LPN001_108", 1,
		 BOUNCE_REASON_OTHER, "Orange/La Poste code 108"},
		{"550 5.1.0 <a@x> sender rejected. AUP#CXBL", 1,
		 BOUNCE_REASON_POLICY_REJECTED, "Cox code CXBL"},
		{"550 5.1.0 sender rejected. AUP#In-1310", 1,
		 BOUNCE_REASON_RATE_LIMITED, "Spectrum code 1310"},
		{"550 x.test From: Domain is invalid. IB506", 1,
		 BOUNCE_REASON_POLICY_REJECTED, "GoDaddy code IB506"},
		{"550 Mailbox is frozen. See http://mail.i.ua/err/3/", 1,
		 BOUNCE_REASON_SUSPENDED, "i.ua code 3"},
		{"550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes", 1,
		 BOUNCE_REASON_USER_UNKNOWN, "Facebook code RCP-P1"},
		{"XRCP-P1 inside a word", 0, BOUNCE_REASON_OTHER, ""},
		{"LPN007_777 is not a listed code", 0, BOUNCE_REASON_OTHER, ""},
		{"XOFR_506 is inside a word", 0, BOUNCE_REASON_OTHER, ""},
		{"IB5060 has too many digits", 0, BOUNCE_REASON_OTHER, ""},
		{"AUP#", 0, BOUNCE_REASON_OTHER, ""},
		{"", 0, BOUNCE_REASON_OTHER, ""},
	};
	enum bounce_reason r;
	char what[64];
	size_t i;
	int found;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = BOUNCE_REASON_OTHER;
		what[0] = '\0';
		found = bounce_provider_code(cases[i].text, strlen(cases[i].text),
					     &r, what, sizeof(what));
		if (found != cases[i].found
		    || (found && (r != cases[i].want
				  || strcmp(what, cases[i].what) != 0)))
			tcase_bad(cases[i].text, "got %d %s \"%s\"", found,
				  bounce_reason_name(r), what);
	}
	tcase_done();
}

/* test_vendor_tables - PowerMTA categories and SES subtypes */
static void
test_vendor_tables(void **state)
{
	static const struct {
		const char *in;
		int found;
		enum bounce_reason want;
	} pmta[] = {
		{"bad-mailbox", 1, BOUNCE_REASON_USER_UNKNOWN},
		{"Quota-Issues ", 1, BOUNCE_REASON_MAILBOX_FULL},
		{"spam-related", 1, BOUNCE_REASON_SPAM_REJECTED},
		{"policy-related", 1, BOUNCE_REASON_POLICY_REJECTED},
		{"inactive-mailbox", 1, BOUNCE_REASON_SUSPENDED},
		{"other", 0, BOUNCE_REASON_OTHER},
		{"", 0, BOUNCE_REASON_OTHER},
	}, ses[] = {
		{"NoEmail", 1, BOUNCE_REASON_USER_UNKNOWN},
		{"OnAccountSuppressionList", 1, BOUNCE_REASON_USER_UNKNOWN},
		{"MessageTooLarge", 1, BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"ContentRejected", 1, BOUNCE_REASON_POLICY_REJECTED},
		{"General", 0, BOUNCE_REASON_OTHER},
		{"Undetermined", 0, BOUNCE_REASON_OTHER},
	};
	enum bounce_reason r;
	size_t i;
	int found;

	for (i = 0; i < sizeof(pmta) / sizeof(pmta[0]); i++) {
		r = BOUNCE_REASON_OTHER;
		found = bounce_powermta_category(pmta[i].in, strlen(pmta[i].in), &r);
		if (found != pmta[i].found || r != pmta[i].want)
			tcase_bad(pmta[i].in, "PowerMTA: got %d %s", found,
				  bounce_reason_name(r));
	}
	for (i = 0; i < sizeof(ses) / sizeof(ses[0]); i++) {
		r = BOUNCE_REASON_OTHER;
		found = bounce_ses_subtype(ses[i].in, &r);
		if (found != ses[i].found || r != ses[i].want)
			tcase_bad(ses[i].in, "SES: got %d %s", found,
				  bounce_reason_name(r));
	}
	tcase_done();
}

/* test_messages - whole messages: decoder, recipient, class, reason */
static void
test_messages(void **state)
{
	static const struct {
		const char *name, *msg, *decoder, *rcpt, *cls, *reason;
	} cases[] = {
		{"boundary never occurs",
		 "From: MAILER-DAEMON@x.test\nSubject: Undelivered Mail\n"
		 "Content-Type: multipart/report; boundary=\"AAA\"\n\n--BBB\n"
		 "Content-Type: text/plain\n\n<a@y.test>: host mx.y.test said: "
		 "550 5.1.1 <a@y.test>: User unknown (in reply to RCPT TO command)\n",
		 "text:generic", "a@y.test", "hard", "user_unknown"},
		{"DSN fields without a part header",
		 "From: MAILER-DAEMON@x.test\nSubject: Returned mail\n"
		 "Content-Type: multipart/report; boundary=\"B\"\n\n--B\n\n"
		 "The following addresses had permanent fatal errors\n--B\n\n"
		 "Reporting-MTA: dns; x.test\n\nFinal-Recipient: rfc822; a@y.test\n"
		 "Action: failed\nStatus: 5.2.2\n--B--\n",
		 "rfc3464-raw", "a@y.test", "soft", "mailbox_full"},
		{"one DSN block for two recipients (AOL)",
		 "From: MAILER-DAEMON@x.test\nContent-Type: multipart/report; "
		 "report-type=delivery-status; boundary=B\n\n--B\n"
		 "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n"
		 "Final-Recipient: rfc822; a@y.test\nAction: failed\nStatus: 5.2.2\n"
		 "Final-Recipient: rfc822; b@y.test\nAction: failed\nStatus: 5.1.1\n"
		 "--B--\n", "rfc3464", "a@y.test", "soft", "mailbox_full"},
		{"Final-Recipient, ORCPT kept",
		 "From: MAILER-DAEMON@x.test\nContent-Type: multipart/report; "
		 "report-type=delivery-status; boundary=B\n\n--B\n"
		 "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
		 "Final-Recipient: rfc822; real@in.y.test\n"
		 "Original-Recipient: rfc822; alias@y.test\nAction: failed\n"
		 "Status: 5.1.1\n--B--\n", "rfc3464", "real@in.y.test", "hard",
		 "user_unknown"},
		{"PowerMTA category",
		 "From: MAILER-DAEMON@x.test\nContent-Type: multipart/report; "
		 "report-type=delivery-status; boundary=B\n\n--B\n"
		 "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
		 "Final-Recipient: rfc822; a@y.test\nAction: failed\nStatus: 5.0.0\n"
		 "Diagnostic-Code: smtp; 550 go away\n"
		 "X-PowerMTA-BounceCategory: quota-issues\n--B--\n",
		 "rfc3464", "a@y.test", "soft", "mailbox_full"},
		{"Microsoft JMRP",
		 "From: staff@hotmail.com\nSubject: complaint about message\n"
		 "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
		 "Content-Type: message/rfc822\n\nX-HmXmrOriginalRecipient: c@y.test\n"
		 "From: me@x.test\nSubject: hi\n\nhello\n--B--\n",
		 "jmrp", "c@y.test", "complaint", "complaint"},
		{"SES bounce, subtype decides",
		 "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification\n\n"
		 "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceSubType\":"
		 "\"MailboxFull\",\"bouncedRecipients\":[{\"emailAddress\":"
		 "\"a@y.test\"}]}}\n", "amazonses", "a@y.test", "soft",
		 "mailbox_full"},
		/* RFC 5965 feedback types: only a reader's complaint counts */
		{"ARF abuse is a complaint",
		 "From: fbl@isp.test\nContent-Type: multipart/report; "
		 "report-type=feedback-report; boundary=B\n\n--B\n"
		 "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
		 "User-Agent: x/1\nVersion: 1\nOriginal-Rcpt-To: r@isp.test\n"
		 "--B--\n", "arf", "r@isp.test", "complaint", "complaint"},
		{"ARF fraud is a complaint",
		 "From: fbl@isp.test\nContent-Type: multipart/report; "
		 "report-type=feedback-report; boundary=B\n\n--B\n"
		 "Content-Type: message/feedback-report\n\nFeedback-Type: Fraud\n"
		 "Original-Rcpt-To: <r@isp.test>\n--B--\n", "arf", "r@isp.test",
		 "complaint", "complaint"},
		{"DMARC failure report (RFC 6591) is no complaint",
		 "From: dmarc@isp.test\nContent-Type: multipart/report; "
		 "report-type=feedback-report; boundary=B\n\n--B\n"
		 "Content-Type: message/feedback-report\n\n"
		 "Feedback-Type: auth-failure\nUser-Agent: x/1\nVersion: 1\n"
		 "Auth-Failure: dmarc\nOriginal-Rcpt-To: r@isp.test\n--B--\n",
		 "arf", "r@isp.test", "none", "other"},
		{"ARF not-spam is no complaint",
		 "From: fbl@isp.test\nContent-Type: multipart/report; "
		 "report-type=feedback-report; boundary=B\n\n--B\n"
		 "Content-Type: message/feedback-report\n\nFeedback-Type: not-spam\n"
		 "Original-Rcpt-To: r@isp.test\n--B--\n", "arf", "r@isp.test",
		 "none", "other"},
		{"KDDI au's filter sign",
		 "From: <Postmaster@ezweb.test>\nSubject: Mail System Error - "
		 "Returned Mail\nX-SPASIGN: NG\n\n<a@ezweb.test>\n\n"
		 "Each of the following recipients was rejected by a remote mail "
		 "server.\n", "text:generic", "a@ezweb.test", "soft",
		 "policy_rejected"},
		{"SES delivery is no bounce",
		 "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification\n\n"
		 "{\"notificationType\":\"Delivery\",\"delivery\":{\"recipients\":"
		 "[\"a@y.test\"],\"smtpResponse\":\"250 2.6.0 ok\"}}\n",
		 "amazonses", "a@y.test", "none", "other"},
		{"user unknown after DATA is a filter (Postfix)",
		 "From: MAILER-DAEMON@x.test\nSubject: Undelivered Mail\n\n"
		 "<a@y.test>: host mx.y.test said: 550 Unknown user a@y.test "
		 "(in reply to end of DATA command)\n",
		 "text:generic", "a@y.test", "soft", "policy_rejected"},
		{"challenge-response by header",
		 "From: bob@y.test\nSubject: Re: hello\nX-BoxTrapper-Queue: 1\n"
		 "X-BoxTrapper: verify\n\nTo get your mail through, reply.\n",
		 "challenge", "bob@y.test", "auto_reply", "auto_reply"},
		{"challenge-response by text",
		 "From: bob@y.test\nSubject: Re: hello\n\nI use a filter. Please "
		 "confirm that you sent this message by replying.\n",
		 "challenge", "bob@y.test", "auto_reply", "auto_reply"},
		{"a mailer daemon is never a challenge",
		 "From: MAILER-DAEMON@y.test\nSubject: Undelivered Mail\n\n"
		 "<a@y.test>: host mx.y.test said: 550 5.1.1 unknown; verify your "
		 "email address (in reply to RCPT TO command)\n",
		 "text:generic", "a@y.test", "hard", "user_unknown"},
		{"delivered (2.x.x) is no bounce",
		 "From: MAILER-DAEMON@x.test\nContent-Type: multipart/report; "
		 "report-type=delivery-status; boundary=B\n\n--B\n"
		 "Content-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
		 "Final-Recipient: rfc822; a@y.test\nAction: delivered\n"
		 "Status: 2.0.0\n--B--\n", "rfc3464", "a@y.test", "none", "other"},
		{"vacation text without a header sign",
		 "From: Carol <carol@y.test>\nSubject: Re: hello\n\nHello, I am out "
		 "of the office until Monday.\n", "rfc3834", "carol@y.test",
		 "auto_reply", "auto_reply"},
		{"ordinary mail to a tag address is nothing",
		 "From: Dave <dave@y.test>\nSubject: Re: hello\n\nThanks, see "
		 "you on Monday.\n", "", "", "none", "other"},
		{"a person forwarding a bounce is no bounce",
		 "From: someone@x.test\nSubject: Fwd: this\n"
		 "Content-Type: multipart/mixed; boundary=B\n\n--B\n\nlook\n--B\n"
		 "Content-Type: message/rfc822\n\nFrom: MAILER-DAEMON@y.test\n\n"
		 "Final-Recipient: rfc822; z@y.test\nAction: failed\nStatus: 5.1.1\n"
		 "--B--\n", "", "", "none", "other"},
	};
	struct bounce_report *r = malloc(sizeof(*r));
	const struct bounce_rcpt *f;
	const char *why;
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (bounce_classify(cases[i].msg, strlen(cases[i].msg), r, &why)
		    != 0) {
			tcase_bad(cases[i].name, "not classified: %s", why);
			continue;
		}
		f = NULL;
		for (k = 0; k < r->nrcpt && f == NULL; k++)
			if (r->rcpt[k].cls != BOUNCE_CLASS_NONE)
				f = &r->rcpt[k];
		if (f == NULL && r->nrcpt > 0)
			f = &r->rcpt[0];
		if (strcmp(bounce_class_name(r->cls), cases[i].cls) != 0
		    || strcmp(bounce_reason_name(r->reason), cases[i].reason) != 0
		    || strcmp(f ? f->recipient : "", cases[i].rcpt) != 0
		    || strcmp(f ? f->decoder : "", cases[i].decoder) != 0)
			tcase_bad(cases[i].name, "got %s %s %s by %s (%s)",
				  bounce_class_name(r->cls),
				  bounce_reason_name(r->reason),
				  f ? f->recipient : "-", f ? f->decoder : "-",
				  f ? f->why : "-");
		else if (f != NULL && r->cls != BOUNCE_CLASS_NONE
			 && f->why[0] == '\0')
			tcase_bad(cases[i].name, "no why");
	}
	if (bounce_classify(cases[3].msg, strlen(cases[3].msg), r, &why) != 0
	    || strcmp(r->rcpt[0].original, "alias@y.test") != 0)
		tcase_bad("ORCPT kept", "got \"%s\"", r->rcpt[0].original);
	free(r);
	tcase_done();
}

/* test_wordings - provider and MTA wordings to reasons, with why */
static void
test_wordings(void **state)
{
	static const struct {
		const char *src, *text, *status, *action;
		enum bounce_reason want;
		const char *why;	/* a substring of the why */
	} cases[] = {
		{"Gmail 5.7.26", "550-5.7.26 Unauthenticated email from x.test is "
		 "not accepted due to domain's DMARC policy", "5.7.26", "failed",
		 BOUNCE_REASON_POLICY_REJECTED, "dmarc"},
		{"Gmail 5.2.2 inactive", "The recipient's inbox is out of storage "
		 "space and inactive.", "5.2.2", "failed",
		 BOUNCE_REASON_MAILBOX_FULL, "out of storage"},
		{"Gmail DNS, temporary", "DNS Error: DNS type 'mx' lookup of y.test "
		 "responded with code NXDOMAIN", "4.0.0", "failed",
		 BOUNCE_REASON_NETWORK_ERROR, "dns error"},
		{"Gmail DNS, permanent", "DNS Error: DNS type 'mx' lookup of y.test "
		 "responded with code NXDOMAIN", "5.1.2", "failed",
		 BOUNCE_REASON_DOMAIN_UNKNOWN, "5.1.2"},
		{"Gmail null MX", "DNS Error: The domain y.test doesn't receive "
		 "email according to the administrator: returned Null MX",
		 "5.1.10", "failed", BOUNCE_REASON_DOMAIN_UNKNOWN, "null mx"},
		{"Office 365 5.7.606", "550 5.7.606 Access denied, banned sending IP",
		 "5.7.606", "failed", BOUNCE_REASON_POLICY_REJECTED, "banned"},
		{"Office 365 DBEB", "550 5.4.1 Recipient address rejected: Access "
		 "denied", "5.4.1", "failed", BOUNCE_REASON_USER_UNKNOWN,
		 "access denied"},
		{"Microsoft 4.7.650", "451 4.7.650 The mail server has been "
		 "temporarily rate limited due to IP reputation", "4.7.650",
		 "failed", BOUNCE_REASON_POLICY_REJECTED, "reputation"},
		{"Yahoo TSS04", "421 4.7.0 [TSS04] Messages temporarily deferred "
		 "due to unexpected volume or user complaints", "4.7.0", "failed",
		 BOUNCE_REASON_POLICY_REJECTED, "user complaints"},
		{"Tencent", "550 Ip frequency limited", "5.0.0", "failed",
		 BOUNCE_REASON_RATE_LIMITED, "frequency limited"},
		{"Facebook", "550 5.1.1 RCP-P2 Refused due to recipient preferences",
		 "5.1.1", "failed", BOUNCE_REASON_POLICY_REJECTED, "RCP-P2"},
		{"La Poste", "550 5.5.0 The recipient account is blocked.", "5.5.0",
		 "failed", BOUNCE_REASON_SUSPENDED, "account is blocked"},
		{"i.ua", "550 Mailbox is frozen.", "5.0.0", "failed",
		 BOUNCE_REASON_SUSPENDED, "frozen"},
		{"Exchange RESOLVER", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not "
		 "found", "5.1.1", "failed", BOUNCE_REASON_USER_UNKNOWN,
		 "recipnotfound"},
		{"cPanel Exim", "The account or domain may not exist, they may be "
		 "blacklisted, or missing the proper dns entries.", "", "failed",
		 BOUNCE_REASON_DOMAIN_UNKNOWN, "may not exist"},
		{"qmail-ldap", "Unable to contact LDAP server. (#4.4.3) I'm not "
		 "going to try again; this message has been in the queue too long.",
		 "4.4.3", "failed", BOUNCE_REASON_SYSTEM_ERROR, "ldap"},
		{"MessageLabs 542", "smtp; 542 a@y.test Rejected", "5.0.0", "failed",
		 BOUNCE_REASON_USER_UNKNOWN, "542"},
		{"InterScan MSS", "Reason:  Unable to deliver message to <a@y.test> "
		 "(and other recipients in the same domain).", "", "failed",
		 BOUNCE_REASON_USER_UNKNOWN, "InterScan"},
		{"bare 451", "smtp; 451 Could not load the table", "4.0.0", "failed",
		 BOUNCE_REASON_SYSTEM_ERROR, "451"},
		{"delay, nothing said", "", "4.4.7", "delayed",
		 BOUNCE_REASON_EXPIRED, "4.4.7"},
	};
	struct bounce_reason_in in;
	enum bounce_reason got;
	char why[192];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.diag = cases[i].text;
		in.dlen = strlen(cases[i].text);
		in.status = cases[i].status;
		in.action = cases[i].action;
		in.cmd = bounce_smtp_command(cases[i].text, strlen(cases[i].text));
		got = bounce_reason_decide(&in, why, sizeof(why));
		if (got != cases[i].want || strstr(why, cases[i].why) == NULL)
			tcase_bad(cases[i].src, "got %s (%s), want %s (%s)",
				  bounce_reason_name(got), why,
				  bounce_reason_name(cases[i].want), cases[i].why);
	}
	tcase_done();
}

/* test_mta - the reporting MTA by header signs, and its own words */
static void
test_mta(void **state)
{
	static const struct {
		const char *hdr, *text;
		enum bounce_mta want;
		int own;
	} cases[] = {
		{"From: postmaster@x.test\nX-Mailer: <SMTP32 v8.15>\n",
		 "Unknown user: a@x.test", BOUNCE_MTA_IMAIL, 1},
		{"X-Mailer: <SMTP32 v8.15>\n", "Invalid final delivery userid: a",
		 BOUNCE_MTA_IMAIL, 1},
		{"X-Mailer: <SMTP32 v8.15>\n", "550 5.7.1 blocked",
		 BOUNCE_MTA_IMAIL, 0},
		{"X-NAI-Header: Modified by McAfee Email Gateway\n",
		 "550 Unknown user a@x.test", BOUNCE_MTA_MCAFEE, 1},
		{"From: postmaster@hotmail.com\n",
		 "550 Requested action not taken: mailbox unavailable (-1:2:-3)",
		 BOUNCE_MTA_OUTLOOK, 1},
		{"From: Postmaster <POSTMASTER@OUTLOOK.COM>\n", "550 user unknown",
		 BOUNCE_MTA_OUTLOOK, 0},
		{"From: MAILER-DAEMON@messagelabs.com\n", "550 No such user",
		 BOUNCE_MTA_MESSAGELABS, 1},
		{"X-MX-Bounce: mxlogic/x\n", "550 5.0.0 User not found",
		 BOUNCE_MTA_MXLOGIC, 1},
		{"X-MXL-Hash: 1234\n", "550 unknown user", BOUNCE_MTA_MXLOGIC, 0},
		{"From: Mailer-Daemon@corp.mail.ru\n", "user not found",
		 BOUNCE_MTA_MAILRU, 1},
		{"From: MAILER-DAEMON@yahoo.co.jp\n",
		 "554 delivery error: dd This user doesn't have a yahoo.co.jp "
		 "account", BOUNCE_MTA_YAHOO, 1},
		{"From: MAILER-DAEMON@yahoo.com\n", "552 1 Requested mail action "
		 "aborted, mailbox not found", BOUNCE_MTA_YAHOO, 1},
		{"From: MAILER-DAEMON@yahoo.com\n", "550 User unknown",
		 BOUNCE_MTA_YAHOO, 0},
		{"X-SPASIGN: NG\n", "", BOUNCE_MTA_AU_SPASIGN, 0},
		{"X-SPASIGN:  ng \n", "", BOUNCE_MTA_AU_SPASIGN, 0},
		{"X-SPASIGN: NGX\n", "", BOUNCE_MTA_UNKNOWN, 0},
		{"X-SPASIGN: OK\n", "", BOUNCE_MTA_UNKNOWN, 0},
		/* near misses: a sign in the wrong field, or in a body */
		{"Subject: X-Mailer: <SMTP32 v8.15>\n", "Unknown user: a",
		 BOUNCE_MTA_UNKNOWN, 0},
		{"From: someone@hotmail.com\n", "mailbox unavailable",
		 BOUNCE_MTA_UNKNOWN, 0},
		{"From: MAILER-DAEMON@notyahoo.test\n", "doesn't have a",
		 BOUNCE_MTA_UNKNOWN, 0},
		{"", "", BOUNCE_MTA_UNKNOWN, 0},
	};
	enum bounce_mta m;
	const char *own;
	size_t i;
	int got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = bounce_mta_identify(cases[i].hdr, strlen(cases[i].hdr));
		own = NULL;
		got = bounce_mta_own_unknown(m, cases[i].text,
					     strlen(cases[i].text), &own);
		if (m != cases[i].want || got != cases[i].own
		    || (got && own == NULL))
			tcase_bad(cases[i].hdr, "got %s %d, want %s %d",
				  bounce_mta_name(m), got,
				  bounce_mta_name(cases[i].want), cases[i].own);
	}
	/* only au's filter sign decides by itself */
	{
		enum bounce_reason vr = BOUNCE_REASON_OTHER;
		const char *note = NULL;

		if (!bounce_mta_verdict(BOUNCE_MTA_AU_SPASIGN, &vr, &note)
		    || vr != BOUNCE_REASON_POLICY_REJECTED || note == NULL)
			tcase_bad("au verdict", "got %s", bounce_reason_name(vr));
		if (bounce_mta_verdict(BOUNCE_MTA_IMAIL, &vr, &note)
		    || bounce_mta_verdict(BOUNCE_MTA_UNKNOWN, &vr, &note))
			tcase_bad("verdict", "an MTA without one gave one");
	}
	tcase_done();
}

/* test_mta_reporting - SES receiving by Reporting-MTA, its templates */
static void
test_mta_reporting(void **state)
{
	static const struct {
		const char *reporting, *text;
		enum bounce_mta want;
		int found;
		enum bounce_reason reason;
	} cases[] = {
		{"dns; inbound-smtp.us-west-2.amazonaws.com",
		 "smtp; 550 5.1.1 Mailbox does not exist", BOUNCE_MTA_SES_RECEIVING,
		 1, BOUNCE_REASON_POLICY_REJECTED},
		{"dns; inbound-smtp.eu-west-1.amazonaws.com.",
		 "smtp; 450 4.0.0 Temporary failure", BOUNCE_MTA_SES_RECEIVING, 1,
		 BOUNCE_REASON_OTHER},
		{"dns;inbound-smtp.us-east-1.amazonaws.com (x)",
		 "smtp; 552 5.2.2 Mailbox full", BOUNCE_MTA_SES_RECEIVING, 1,
		 BOUNCE_REASON_MAILBOX_FULL},
		{"dns; inbound-smtp.us-east-1.amazonaws.com", "550 5.7.1 go away",
		 BOUNCE_MTA_SES_RECEIVING, 0, BOUNCE_REASON_OTHER},
		/* SES sending, another host of the domain, near misses */
		{"dsn; a27-30.smtp-out.us-west-2.amazonses.com",
		 "Mailbox does not exist", BOUNCE_MTA_UNKNOWN, 0,
		 BOUNCE_REASON_OTHER},
		{"dns; inbound-smtp.amazonaws.com", "Mailbox does not exist",
		 BOUNCE_MTA_UNKNOWN, 0, BOUNCE_REASON_OTHER},
		{"dns; inbound-smtp.a.b.amazonaws.com", "Mailbox does not exist",
		 BOUNCE_MTA_UNKNOWN, 0, BOUNCE_REASON_OTHER},
		{"dns; mx.example.test", "Mailbox does not exist",
		 BOUNCE_MTA_UNKNOWN, 0, BOUNCE_REASON_OTHER},
		{"", "", BOUNCE_MTA_UNKNOWN, 0, BOUNCE_REASON_OTHER},
	};
	enum bounce_mta m;
	enum bounce_reason r;
	const char *ph;
	size_t i;
	int found;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = bounce_mta_by_reporting(cases[i].reporting);
		r = BOUNCE_REASON_OTHER;
		ph = NULL;
		found = bounce_mta_own_reason(m, cases[i].text,
					      strlen(cases[i].text), &r, &ph);
		if (m != cases[i].want || found != cases[i].found
		    || (found && (r != cases[i].reason || ph == NULL)))
			tcase_bad(cases[i].reporting, "got %s %d %s, want %s %d %s",
				  bounce_mta_name(m), found, bounce_reason_name(r),
				  bounce_mta_name(cases[i].want), cases[i].found,
				  bounce_reason_name(cases[i].reason));
	}
	tcase_done();
}

/* test_provider_rcpt - a provider's facts by the receiving domain */
static void
test_provider_rcpt(void **state)
{
	static const struct {
		const char *rcpt, *remote, *text;
		int found;
		enum bounce_reason want;
	} cases[] = {
		{"a@ezweb.ne.jp", NULL, "550 <a@ezweb.ne.jp>: User unknown", 1,
		 BOUNCE_REASON_USER_UNKNOWN},
		{"a@ezweb.ne.jp", NULL, "<<< 550 : User unknown", 1,
		 BOUNCE_REASON_POLICY_REJECTED},
		{"b@au.com", NULL, "550 <b@au.com>:\n User unknown", 1,
		 BOUNCE_REASON_USER_UNKNOWN},
		/* an alias elsewhere, delivered through au's MX */
		{"c@example.test", "dns; lsean.ezweb.ne.jp. (192.0.2.1)",
		 "550 : User unknown", 1, BOUNCE_REASON_POLICY_REJECTED},
		{"c@example.test", "dns;msmx.au.com", "550 <c@x>: User unknown",
		 1, BOUNCE_REASON_USER_UNKNOWN},
		/* the same words from another receiver say nothing certain */
		{"a@example.test", "dns; mx.example.test",
		 "550 <a@example.test>: User unknown", 0, BOUNCE_REASON_OTHER},
		{"a@notezweb.ne.jp", NULL, "550 <a@x>: User unknown", 0,
		 BOUNCE_REASON_OTHER},
		{"a@ezweb.ne.jp", NULL, "550 5.7.1 rejected", 0,
		 BOUNCE_REASON_OTHER},
		{NULL, NULL, "550 : User unknown", 0, BOUNCE_REASON_OTHER},
	};
	enum bounce_reason r;
	char what[96];
	size_t i;
	int found;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = BOUNCE_REASON_OTHER;
		what[0] = '\0';
		found = bounce_provider_rcpt(cases[i].rcpt, cases[i].remote,
					     cases[i].text, strlen(cases[i].text),
					     &r, what, sizeof(what));
		if (found != cases[i].found || (found && (r != cases[i].want
							  || what[0] == '\0')))
			tcase_bad(cases[i].text, "got %d %s \"%s\", want %d %s",
				  found, bounce_reason_name(r), what,
				  cases[i].found, bounce_reason_name(cases[i].want));
	}
	tcase_done();
}

/* test_stage - "user unknown": the address's verdict or a filter's */
static void
test_stage(void **state)
{
	static const struct {
		const char *name, *diag, *status;
		int cmd;
		const char *rcpt, *remote;
		enum bounce_mta mta;
		enum bounce_reason want;
		const char *why;
	} cases[] = {
		{"at RCPT", "550 User unknown", "5.0.0", BOUNCE_SMTP_RCPT, NULL,
		 NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_USER_UNKNOWN,
		 "user unknown"},
		{"the stage in the text, the caller passed none", "host mx.test "
		 "said: 550 User unknown (in reply to RCPT TO command)", "5.0.0",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_USER_UNKNOWN, "user unknown"},
		{"X.1.1 at no stage", "550 5.1.1 User unknown", "5.1.1",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_USER_UNKNOWN, "user unknown"},
		{"after DATA", "550 User unknown", "5.0.0", BOUNCE_SMTP_DATA,
		 NULL, NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_POLICY_REJECTED,
		 "after DATA"},
		{"no stage, generic status", "550 No such user", "5.0.0",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_POLICY_REJECTED, "no stage"},
		{"no stage, no status", "unknown user", "", BOUNCE_SMTP_NONE,
		 NULL, NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_POLICY_REJECTED,
		 "no stage"},
		{"no stage, X.7.1", "550 5.7.1 550 User Unknown: a@x.test",
		 "5.7.1", BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_POLICY_REJECTED, "no stage"},
		{"the reporter's own words", "Unknown user: a@x.test", "",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_IMAIL,
		 BOUNCE_REASON_USER_UNKNOWN, "imail's own words"},
		{"another reporter's words", "550 No such user", "5.0.0",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_IMAIL,
		 BOUNCE_REASON_POLICY_REJECTED, "no stage"},
		{"one MTA's definite phrase", "User not listed in Domino "
		 "Directory", "", BOUNCE_SMTP_NONE, NULL, NULL,
		 BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_USER_UNKNOWN, "domino"},
		{"Exim's local part", "Unknown local part x in <x@y.test>", "",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_USER_UNKNOWN, "unknown local part"},
		{"Yahoo naming itself", "554 delivery error: dd This user "
		 "doesn't have a yahoo.com account", "", BOUNCE_SMTP_NONE, NULL,
		 NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_USER_UNKNOWN,
		 "doesn't have a yahoo"},
		{"Yahoo's sentence elsewhere", "This user doesn't have a x.test "
		 "account", "", BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_POLICY_REJECTED, "no stage"},
		{"KDDI au at no stage", "550 <a@ezweb.ne.jp>: User unknown",
		 "5.0.0", BOUNCE_SMTP_NONE, "a@ezweb.ne.jp", NULL,
		 BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_USER_UNKNOWN, "KDDI"},
		{"KDDI au's filter", "550 : User unknown", "5.1.1",
		 BOUNCE_SMTP_RCPT, NULL, "dns; lsean.ezweb.ne.jp",
		 BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_POLICY_REJECTED, "filter"},
		{"refused at EHLO", "SMTP error from remote mail server after "
		 "EHLO x.test: 550 Rejected", "5.0.0", BOUNCE_SMTP_HELO, NULL,
		 NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_POLICY_REJECTED,
		 "EHLO/HELO"},
		{"connection lost after EHLO", "lost connection with mx.test "
		 "while receiving the initial server greeting", "4.4.2",
		 BOUNCE_SMTP_HELO, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_NETWORK_ERROR, "lost connection"},
		{"5xx after DATA, no cause named", ">>> DATA <<< 550 Your mail "
		 "is not welcome here 554 <a@x.test>... Remote protocol error: "
		 "Connection reset by peer", "", BOUNCE_SMTP_DATA, NULL, NULL,
		 BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_POLICY_REJECTED,
		 "5xx after DATA"},
		{"5xx after DATA, a cause named", "552 5.2.2 Mailbox full (in "
		 "reply to end of DATA command)", "5.2.2", BOUNCE_SMTP_DATA, NULL,
		 NULL, BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_MAILBOX_FULL,
		 "mailbox full"},
		{"4xx after DATA", "451 4.3.0 Temporary local problem (in reply "
		 "to end of DATA command)", "4.3.0", BOUNCE_SMTP_DATA, NULL, NULL,
		 BOUNCE_MTA_UNKNOWN, BOUNCE_REASON_SYSTEM_ERROR,
		 "temporary local problem"},
		{"not about the mailbox", "550 5.7.1 Relaying denied", "5.7.1",
		 BOUNCE_SMTP_NONE, NULL, NULL, BOUNCE_MTA_UNKNOWN,
		 BOUNCE_REASON_POLICY_REJECTED, "relaying denied"},
	};
	struct bounce_reason_in in;
	struct bounce_reason_ctx ctx;
	enum bounce_reason got;
	char why[192];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.diag = cases[i].diag;
		in.dlen = strlen(cases[i].diag);
		in.status = cases[i].status;
		in.action = "failed";
		in.cmd = cases[i].cmd;
		ctx.rcpt = cases[i].rcpt;
		ctx.remote_mta = cases[i].remote;
		ctx.mta = (int)cases[i].mta;
		got = bounce_reason_decide_ctx(&in, &ctx, why, sizeof(why));
		if (got != cases[i].want || strcasestr(why, cases[i].why) == NULL)
			tcase_bad(cases[i].name, "got %s (%s), want %s (%s)",
				  bounce_reason_name(got), why,
				  bounce_reason_name(cases[i].want), cases[i].why);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_ses),
		cmocka_unit_test(test_provider_codes),
		cmocka_unit_test(test_vendor_tables),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_wordings),
		cmocka_unit_test(test_mta),
		cmocka_unit_test(test_mta_reporting),
		cmocka_unit_test(test_provider_rcpt),
		cmocka_unit_test(test_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
