/*++
 * NAME
 *	bounce_classify_test 1
 * SUMMARY
 *	unit tests of the bounce classifier, its reason table and the corpus
 * DESCRIPTION
 *	The corpus test reads tests/unit/data/bounces/EXPECTED (or
 *	$POSTMILL_TEST_DATA/EXPECTED) and classifies every file it lists,
 *	checking class, reason, first failed recipient and status; it also
 *	fails when a .eml file in the corpus is not listed. Tables: names
 *	both ways; every row of the reason table reached by its own pattern
 *	(no row hidden by an earlier one); diagnostics to reasons (text
 *	before code, word starts, wrapped lines); status codes to reasons;
 *	the expired rule and the class rule; recipients of bounce texts;
 *	inline messages for the edge cases (not a message, a bounce of a
 *	bounce, too many recipients, a cut message); the JSON line.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <dirent.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "../../milters/bounce/bounce_classify.h"
#include "../../milters/bounce/bounce_reason.h"
#include "../../milters/bounce/bounce_report_json.h"
#include "../../milters/bounce/bounce_smtp.h"
#include "../../milters/bounce/bounce_text.h"

#define CORPUS_MIN	60

/* data_dir - the corpus directory */
static const char *
data_dir(void)
{
	const char *dir = getenv("POSTMILL_TEST_DATA");

	return dir ? dir : "tests/unit/data/bounces";
}

/* slurp - a whole file, or NULL */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;

	if (fp == NULL)
		return NULL;
	buf = malloc(BOUNCE_MSG_MAX);
	*len = fread(buf, 1, BOUNCE_MSG_MAX, fp);
	fclose(fp);
	return buf;
}

/* first_failed - the first failed recipient, else the first, else NULL */
static const struct bounce_rcpt *
first_failed(const struct bounce_report *r)
{
	size_t i;

	for (i = 0; i < r->nrcpt; i++)
		if (r->rcpt[i].cls != BOUNCE_CLASS_NONE
		    && strcmp(r->rcpt[i].action, "failed") == 0)
			return &r->rcpt[i];
	for (i = 0; i < r->nrcpt; i++)
		if (r->rcpt[i].cls != BOUNCE_CLASS_NONE)
			return &r->rcpt[i];
	return r->nrcpt ? &r->rcpt[0] : NULL;
}

/* count_eml - .eml files in the corpus subdirectories */
static size_t
count_eml(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d, *e;
	DIR *top, *sub;
	size_t n = 0, l;

	if ((top = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(top)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if ((sub = opendir(path)) == NULL)
			continue;
		while ((e = readdir(sub)) != NULL)
			if ((l = strlen(e->d_name)) > 4
			    && strcmp(e->d_name + l - 4, ".eml") == 0)
				n++;
		closedir(sub);
	}
	closedir(top);
	return n;
}

/* test_corpus - every message of the manifest */
static void
test_corpus(void **state)
{
	char path[PATH_MAX], line[1024], file[256], cls[32], reason[32];
	char rcpt[400], status[32];
	struct bounce_report *r = malloc(sizeof(*r));
	const struct bounce_rcpt *f;
	const char *why, *got_rcpt, *got_status;
	size_t len, n = 0, neml;
	char *msg;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/EXPECTED", data_dir());
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255s %31s %31s %399s %31s", file, cls, reason,
			   rcpt, status) != 5) {
			tcase_bad("EXPECTED", "bad line: %s", line);
			continue;
		}
		n++;
		snprintf(path, sizeof(path), "%s/%s", data_dir(), file);
		if ((msg = slurp(path, &len)) == NULL) {
			tcase_bad(file, "cannot read %s", path);
			continue;
		}
		why = NULL;
		if (bounce_classify(msg, len, r, &why) != 0) {
			tcase_bad(file, "got error \"%s\", want a report", why);
			free(msg);
			continue;
		}
		f = first_failed(r);
		got_rcpt = f && f->recipient[0] ? f->recipient : "-";
		got_status = f && f->status[0] ? f->status : "-";
		if (strcmp(bounce_class_name(r->cls), cls) != 0
		    || strcmp(bounce_reason_name(r->reason), reason) != 0
		    || strcmp(got_rcpt, rcpt) != 0
		    || strcmp(got_status, status) != 0)
			tcase_bad(file, "got %s %s %s %s, want %s %s %s %s",
				  bounce_class_name(r->cls),
				  bounce_reason_name(r->reason), got_rcpt,
				  got_status, cls, reason, rcpt, status);
		free(msg);
	}
	fclose(fp);
	if (n < CORPUS_MIN)
		tcase_bad("corpus size", "got %zu messages, want at least %d", n,
			  CORPUS_MIN);
	if ((neml = count_eml(data_dir())) != n)
		tcase_bad("manifest", "got %zu .eml files, %zu listed in EXPECTED",
			  neml, n);
	free(r);
	tcase_done();
}

/* test_names - names both ways */
static void
test_names(void **state)
{
	int i;

	for (i = BOUNCE_CLASS_NONE; i <= BOUNCE_CLASS_AUTO_REPLY; i++)
		if (bounce_class_by_name(bounce_class_name(i)) != i)
			tcase_bad(bounce_class_name(i), "class round trip");
	for (i = BOUNCE_REASON_OTHER; i <= BOUNCE_REASON_COMPLAINT; i++)
		if (bounce_reason_by_name(bounce_reason_name(i)) != i)
			tcase_bad(bounce_reason_name(i), "reason round trip");
	if (strcmp(bounce_class_name(BOUNCE_CLASS_HARD), "hard") != 0
	    || strcmp(bounce_reason_name(BOUNCE_REASON_USER_UNKNOWN),
		      "user_unknown") != 0
	    || bounce_reason_by_name("nonsense") != -1
	    || strcmp(bounce_kind_name(BOUNCE_KIND_ARF), "arf") != 0)
		tcase_bad("names", "unexpected spelling");
	tcase_done();
}

/* test_table_rows - every row is reached by its own pattern */
static void
test_table_rows(void **state)
{
	const struct bounce_reason_row *rows;
	enum bounce_reason got;
	size_t n, i;
	int row;

	rows = bounce_reason_rows(&n);
	for (i = 0; i < n; i++) {
		got = bounce_reason_from_text(rows[i].pattern,
					      strlen(rows[i].pattern), &row);
		if (got != rows[i].reason)
			tcase_bad(rows[i].pattern, "got %s (row %d), want %s",
				  bounce_reason_name(got), row,
				  bounce_reason_name(rows[i].reason));
	}
	tcase_done();
}

/* test_text - diagnostics to reasons */
static void
test_text(void **state)
{
	static const struct {
		const char *in;
		enum bounce_reason want;
	} cases[] = {
		{"smtp; 550 5.1.1 <a@b>: Recipient address rejected: User unknown",
		 BOUNCE_REASON_USER_UNKNOWN},
		{"550 5.1.1 Recipient rate limit exceeded", BOUNCE_REASON_RATE_LIMITED},
		{"550 5.7.1 No such user here", BOUNCE_REASON_USER_UNKNOWN},
		{"550 5.1.1 <a@b>: Recipient\n    address rejected: USER\n UNKNOWN",
		 BOUNCE_REASON_USER_UNKNOWN},
		{"550 5.1.2 The domain does not exist", BOUNCE_REASON_DOMAIN_UNKNOWN},
		{"The email account that you tried to reach is disabled.",
		 BOUNCE_REASON_SUSPENDED},
		{"verbly said no", BOUNCE_REASON_OTHER},
		{"blocked using zen.spamhaus.test", BOUNCE_REASON_POLICY_REJECTED},
		{"552-5.2.2 The recipient's inbox is out of storage space and "
		 "inactive.", BOUNCE_REASON_MAILBOX_FULL},
		{"550-5.7.26 ... SPF ... To best protect our users from spam, the "
		 "message has been blocked.", BOUNCE_REASON_POLICY_REJECTED},
		{"smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
		 BOUNCE_REASON_USER_UNKNOWN},
		{"550 Ip frequency limited [...] Blocked IP 192.0.2.22",
		 BOUNCE_REASON_RATE_LIMITED},
		{"delivery temporarily suspended: connect to x: Connection refused",
		 BOUNCE_REASON_NETWORK_ERROR},
		{"452 4.2.2 Mailbox full", BOUNCE_REASON_MAILBOX_FULL},
		{"message size 30753 exceeds size limit 20000",
		 BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"", BOUNCE_REASON_OTHER},
		{"550 5.0.0 go away", BOUNCE_REASON_OTHER},
	};
	enum bounce_reason got;
	size_t i;
	int row;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = bounce_reason_from_text(cases[i].in, strlen(cases[i].in),
					      &row);
		if (got != cases[i].want || (got == BOUNCE_REASON_OTHER) != (row < 0))
			tcase_bad(cases[i].in, "got %s, want %s",
				  bounce_reason_name(got),
				  bounce_reason_name(cases[i].want));
	}
	tcase_done();
}

/* test_status - RFC 3463 codes to reasons */
static void
test_status(void **state)
{
	static const struct {
		const char *in;
		enum bounce_reason want;
	} cases[] = {
		{"5.1.1", BOUNCE_REASON_USER_UNKNOWN},
		{"5.1.10", BOUNCE_REASON_DOMAIN_UNKNOWN},
		{"5.1.2", BOUNCE_REASON_DOMAIN_UNKNOWN},
		{"5.2.1", BOUNCE_REASON_SUSPENDED},
		{"4.2.2", BOUNCE_REASON_MAILBOX_FULL},
		{"5.3.4", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"5.4.4", BOUNCE_REASON_DOMAIN_UNKNOWN},
		{"4.4.4", BOUNCE_REASON_NETWORK_ERROR},
		{"4.4.1", BOUNCE_REASON_NETWORK_ERROR},
		{"4.4.7", BOUNCE_REASON_EXPIRED},
		{"5.7.1", BOUNCE_REASON_POLICY_REJECTED},
		{"5.7.13", BOUNCE_REASON_SUSPENDED},
		{"5.7.26", BOUNCE_REASON_POLICY_REJECTED},
		{"5.3.0", BOUNCE_REASON_SYSTEM_ERROR},
		{"5.0.0", BOUNCE_REASON_OTHER},
		{"", BOUNCE_REASON_OTHER},
		{"x", BOUNCE_REASON_OTHER},
	};
	enum bounce_reason got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if ((got = bounce_reason_from_status(cases[i].in)) != cases[i].want)
			tcase_bad(cases[i].in, "got %s, want %s",
				  bounce_reason_name(got),
				  bounce_reason_name(cases[i].want));
	tcase_done();
}

/* test_decide - the order of the decision, the command rules, the class */
static void
test_decide(void **state)
{
	static const struct {
		const char *name, *text, *status, *action;
		int cmd;
		enum bounce_reason reason;
		enum bounce_class cls;
	} cases[] = {
		{"refused, gave up", "Connection refused", "4.4.1", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_NETWORK_ERROR, BOUNCE_CLASS_SOFT},
		{"nothing said, gave up", "", "4.0.0", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_EXPIRED, BOUNCE_CLASS_SOFT},
		{"refused, still trying", "Connection refused", "4.4.1", "delayed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_NETWORK_ERROR, BOUNCE_CLASS_SOFT},
		{"full, gave up", "452 Mailbox full", "4.2.2", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_MAILBOX_FULL, BOUNCE_CLASS_SOFT},
		{"unknown, 4xx, gave up", "user unknown", "4.1.1", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_USER_UNKNOWN, BOUNCE_CLASS_HARD},
		{"domain", "no such domain", "5.1.2", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_DOMAIN_UNKNOWN, BOUNCE_CLASS_HARD},
		{"no MX, temporary", "No MX found", "4.0.0", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_DOMAIN_UNKNOWN, BOUNCE_CLASS_SOFT},
		{"5.7.1 reputation", "poor reputation", "5.7.1", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_POLICY_REJECTED, BOUNCE_CLASS_SOFT},
		{"code only", "", "5.1.1", "failed",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_USER_UNKNOWN, BOUNCE_CLASS_HARD},
		{"delivered", "", "2.0.0", "delivered",
		 BOUNCE_SMTP_NONE, BOUNCE_REASON_OTHER, BOUNCE_CLASS_NONE},
		{"unknown after DATA", "550 Unknown user", "5.0.0", "failed",
		 BOUNCE_SMTP_DATA, BOUNCE_REASON_POLICY_REJECTED, BOUNCE_CLASS_SOFT},
		{"5.1.1 after DATA (pipelined RCPT)", "550 5.1.1 User unknown",
		 "5.1.1", "failed", BOUNCE_SMTP_DATA, BOUNCE_REASON_USER_UNKNOWN,
		 BOUNCE_CLASS_HARD},
		{"Yahoo wording after DATA",
		 "554 This user doesn't have a yahoo.com account", "5.0.0",
		 "failed", BOUNCE_SMTP_DATA, BOUNCE_REASON_USER_UNKNOWN,
		 BOUNCE_CLASS_HARD},
		{"unknown at RCPT", "550 Unknown user", "5.0.0", "failed",
		 BOUNCE_SMTP_RCPT, BOUNCE_REASON_USER_UNKNOWN, BOUNCE_CLASS_HARD},
		{"sender domain at MAIL", "553 example.com does not exist",
		 "5.1.0", "failed", BOUNCE_SMTP_MAIL,
		 BOUNCE_REASON_POLICY_REJECTED, BOUNCE_CLASS_SOFT},
		{"blocklist is policy", "blocked using zen.spamhaus.test",
		 "5.7.1", "failed", BOUNCE_SMTP_RCPT,
		 BOUNCE_REASON_POLICY_REJECTED, BOUNCE_CLASS_SOFT},
		{"local mailer", "x-unix; procmail: No such user", "5.1.1",
		 "failed", BOUNCE_SMTP_NONE, BOUNCE_REASON_SYSTEM_ERROR,
		 BOUNCE_CLASS_SOFT},
		{"local mailer, full", "x-unix; Quota exceeded", "4.3.0",
		 "failed", BOUNCE_SMTP_NONE, BOUNCE_REASON_MAILBOX_FULL,
		 BOUNCE_CLASS_SOFT},
		{"SES wrapper", "5.1.0 - Unknown address error 550-'5.2.2 "
		 "<a@b.test>... Mailbox Full' (delivery attempts: 0)", "5.2.2",
		 "failed", BOUNCE_SMTP_NONE, BOUNCE_REASON_MAILBOX_FULL,
		 BOUNCE_CLASS_SOFT},
	};
	struct bounce_reason_in in;
	enum bounce_reason r;
	enum bounce_class c;
	char why[192];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.diag = cases[i].text;
		in.dlen = strlen(cases[i].text);
		in.status = cases[i].status;
		in.action = cases[i].action;
		in.cmd = cases[i].cmd;
		r = bounce_reason_decide(&in, why, sizeof(why));
		c = bounce_class_of(r, cases[i].action, cases[i].status);
		if (r != cases[i].reason || c != cases[i].cls)
			tcase_bad(cases[i].name, "got %s %s (%s), want %s %s",
				  bounce_class_name(c), bounce_reason_name(r), why,
				  bounce_class_name(cases[i].cls),
				  bounce_reason_name(cases[i].reason));
		else if (why[0] == '\0' && r != BOUNCE_REASON_OTHER)
			tcase_bad(cases[i].name, "no why for %s",
				  bounce_reason_name(r));
	}
	tcase_done();
}

/* test_smtp_command - the failed command in the MTAs' words */
static void
test_smtp_command(void **state)
{
	static const struct {
		const char *in;
		enum bounce_smtp_cmd want;
	} cases[] = {
		{"550 Unknown user (in reply to end of DATA command)",
		 BOUNCE_SMTP_DATA},
		{"said: 550 5.1.1 no (in reply to RCPT TO command)",
		 BOUNCE_SMTP_RCPT},
		{"SMTP error from remote mail server after RCPT TO:<a@b.test>: 550",
		 BOUNCE_SMTP_RCPT},
		{"SMTP error from remote mail server after MAIL FROM:<a@b.test> "
		 "SIZE=1: 553", BOUNCE_SMTP_MAIL},
		{"SMTP error from remote mail server after end of data: 550",
		 BOUNCE_SMTP_DATA},
		{"... while talking to mx.test.:\n>>> DATA\n<<< 550 no",
		 BOUNCE_SMTP_DATA},
		{"mx.test [192.0.2.1] did not like our final DATA:\n550 no",
		 BOUNCE_SMTP_DATA},
		{"Connected to 192.0.2.1 but sender was rejected.",
		 BOUNCE_SMTP_MAIL},
		{"Connected to 192.0.2.1 but my name was rejected.",
		 BOUNCE_SMTP_HELO},
		{"192.0.2.1 does not like recipient.\nRemote host said: 550 no",
		 BOUNCE_SMTP_RCPT},
		{"192.0.2.1 failed on DATA command.", BOUNCE_SMTP_DATA},
		{"550 spam detected for TEXT command", BOUNCE_SMTP_DATA},
		{"host mx.test refused to talk to me: 554 go away",
		 BOUNCE_SMTP_CONN},
		{"first (in reply to RCPT TO command) then "
		 "(in reply to end of DATA command)", BOUNCE_SMTP_RCPT},
		{"550 5.1.1 user unknown", BOUNCE_SMTP_NONE},
		{"", BOUNCE_SMTP_NONE},
	};
	static const struct {
		const char *in, *want;
	} inner[] = {
		{"5.1.0 - Unknown address error 550-'5.2.2 <a@b>... Full' (x)",
		 "5.2.2 <a@b>... Full"},
		{"550 '5.7.1 no'", "5.7.1 no"},
		{"550-'unterminated", NULL},
		{"550 no quote", NULL},
		{"1550-'x'", NULL},
	};
	enum bounce_smtp_cmd got;
	size_t i, a, b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if ((got = bounce_smtp_command(cases[i].in, strlen(cases[i].in)))
		    != cases[i].want)
			tcase_bad(cases[i].in, "got %s, want %s",
				  bounce_smtp_command_name(got),
				  bounce_smtp_command_name(cases[i].want));
	for (i = 0; i < sizeof(inner) / sizeof(inner[0]); i++) {
		int ok = bounce_smtp_inner(inner[i].in, strlen(inner[i].in),
					   &a, &b);

		if (ok != (inner[i].want != NULL)
		    || (ok && (b - a != strlen(inner[i].want)
			       || memcmp(inner[i].in + a, inner[i].want,
					 b - a) != 0)))
			tcase_bad(inner[i].in, "inner reply wrong");
	}
	tcase_done();
}

/* test_text_rcpts - recipients of bounce texts */
static void
test_text_rcpts(void **state)
{
	static const struct {
		const char *name, *text, *want;	/* want: "a b c" */
	} cases[] = {
		{"qmail", "<a@x.test>:\nno mailbox\n\n<b@x.test>:\nfull\n", "a@x.test b@x.test"},
		{"postfix inline", "<a@x.test>: host y said: 550 no\n", "a@x.test"},
		{"sendmail", "<a@x.test>... User unknown\n", "a@x.test"},
		{"gmail", "wasn't delivered to a@x.test because", "a@x.test"},
		{"skip own address", "<me@bounce.test>:\n<a@x.test>:\n", "a@x.test"},
		{"repeated once", "a@x.test\nsaid no\n\na@x.test\nagain\n", "a@x.test"},
		{"not at line start", "mail for a@x.test failed\n", ""},
		{"possessive", "a@x.test's mailbox is full\n", ""},
		{"no dot in domain", "<a@localhost>:\n", ""},
	};
	struct bounce_text_rcpt out[4];
	char got[256];
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
	}
	tcase_done();
}

/* test_inline - edge cases of whole messages */
static void
test_inline(void **state)
{
	static const char bounce_of_bounce[] =
		"From: someone@x.test\nSubject: Fwd: a report\n"
		"Content-Type: multipart/mixed; boundary=b\n\n"
		"--b\nContent-Type: text/plain\n\nHave a look at this.\n"
		"--b\nContent-Type: message/rfc822\n\n"
		"From: MAILER-DAEMON@y.test\nContent-Type: multipart/report; "
		"report-type=delivery-status; boundary=c\n\n"
		"--c\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; y\n\nFinal-Recipient: rfc822; z@y.test\n"
		"Action: failed\nStatus: 5.1.1\n--c--\n--b--\n";
	struct bounce_report *r = malloc(sizeof(*r));
	size_t cap = 64 * 1024, n = 0, i;
	char *buf = malloc(cap);
	const char *why;

	why = NULL;
	memset(r, 0xff, sizeof(*r));
	if (bounce_classify("garbage", 7, r, &why) != -1 || why == NULL
	    || r->kind != BOUNCE_KIND_UNKNOWN || r->cls != BOUNCE_CLASS_NONE
	    || r->reason != BOUNCE_REASON_OTHER || r->nrcpt != 0)
		tcase_bad("not a message", "got kind %d class %d nrcpt %zu",
			  r->kind, r->cls, r->nrcpt);
	if (bounce_classify("", 0, r, &why) != -1)
		tcase_bad("empty", "want -1");
	if (bounce_classify(bounce_of_bounce, strlen(bounce_of_bounce), r,
			    &why) != 0 || r->kind != BOUNCE_KIND_UNKNOWN
	    || r->cls != BOUNCE_CLASS_NONE)
		tcase_bad("bounce of a bounce", "got kind %s class %s",
			  bounce_kind_name(r->kind), bounce_class_name(r->cls));

	n += snprintf(buf + n, cap - n, "From: MAILER-DAEMON@x.test\n"
		      "Content-Type: multipart/report; boundary=b\n\n--b\n"
		      "Content-Type: message/delivery-status\n\nReporting-MTA: x\n\n");
	for (i = 0; i < 50; i++)
		n += snprintf(buf + n, cap - n, "Final-Recipient: rfc822; u%zu@x.test\n"
			      "Action: %s\nStatus: %s\n\n", i,
			      i < 40 ? "delivered" : "failed",
			      i < 40 ? "2.0.0" : "5.1.1");
	n += snprintf(buf + n, cap - n, "--b--\n");
	if (bounce_classify(buf, n, r, &why) != 0
	    || r->nrcpt != BOUNCE_MAX_RCPTS || r->cls != BOUNCE_CLASS_NONE)
		tcase_bad("50 recipients, failures past the limit",
			  "got nrcpt %zu class %s, want %d none", r->nrcpt,
			  bounce_class_name(r->cls), BOUNCE_MAX_RCPTS);
	/* a prefix of a message: cut in the middle of the report */
	if (bounce_classify(buf, 200, r, &why) != 0 || r->kind != BOUNCE_KIND_DSN)
		tcase_bad("cut message", "got kind %s, want dsn",
			  bounce_kind_name(r->kind));
	free(buf);
	free(r);
	tcase_done();
}

/* test_json - the line of --classify */
static void
test_json(void **state)
{
	static const char msg[] =
		"From: MAILER-DAEMON@x.test\nSubject: failure notice\n\n"
		"<a@x.test>:\nSorry, no mailbox here by that name. (#5.1.1) \xff\n";
	struct bounce_report *r = malloc(sizeof(*r));
	struct json_object *o, *v, *list;
	const char *why;
	char *line;

	if (bounce_classify(msg, strlen(msg), r, &why) != 0)
		fail_msg("classify failed: %s", why);
	line = bounce_report_json(r, "f.eml", NULL);
	if (strchr(line, '\n') != NULL)
		tcase_bad("one line", "got a newline in %s", line);
	o = json_tokener_parse(line);
	if (o == NULL)
		fail_msg("not JSON: %s", line);
#define WANT(key, val) \
	if (!json_object_object_get_ex(o, key, &v) \
	    || strcmp(json_object_get_string(v), val) != 0) \
		tcase_bad(key, "got %s, want %s", \
			  v ? json_object_get_string(v) : "(none)", val)
	WANT("file", "f.eml");
	WANT("class", "hard");
	WANT("reason", "user_unknown");
	WANT("recipient", "a@x.test");
	WANT("status", "5.1.1");
	WANT("diagnostic", "Sorry, no mailbox here by that name. (#5.1.1) ?");
#undef WANT
	if (!json_object_object_get_ex(o, "recipients", &list)
	    || json_object_array_length(list) != 1)
		tcase_bad("recipients", "want an array of 1");
	if (json_object_object_get_ex(o, "error", &v))
		tcase_bad("error", "present without an error");
	json_object_put(o);
	free(line);
	free(r);
	tcase_done();
}

/*
 * test_no_text_part - a message with no text part at all (an image only):
 * no recipient address, no crash. The classifier's work area is malloc'ed and only
 * partly cleared; M_PERTURB fills fresh memory with garbage, so a length
 * left unset there reads far past the text (as a real run did under load).
 */
static void
test_no_text_part(void **state)
{
	static const char msg[] =
	    "From: MAILER-DAEMON@mx.example.net\r\n"
	    "To: b-tag@bounces.test\r\n"
	    "Subject: Undelivered Mail Returned to Sender\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: image/png\r\n\r\nAAAA\r\n--b--\r\n";
	struct bounce_report *r = malloc(sizeof(*r));
	const char *why = NULL;

	(void)state;
	assert_non_null(r);
	mallopt(M_PERTURB, 0x5a);
	for (int i = 0; i < 8; i++) {
		if (bounce_classify(msg, sizeof(msg) - 1, r, &why) == 0)
			assert_true(r->nrcpt == 0 || r->rcpt[0].recipient[0] == '\0');
	}
	mallopt(M_PERTURB, 0);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_no_text_part),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_smtp_command),
		cmocka_unit_test(test_text_rcpts),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
