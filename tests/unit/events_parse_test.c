/*++
 * NAME
 *	events_parse_test 1
 * SUMMARY
 *	unit tests of the mail log parser (tools/postmill-events/events_parse.c)
 * DESCRIPTION
 *	A table of real Postfix 3.7 log lines (postlogd's and rsyslog's
 *	time formats) and what each must give: kind, queue id, address,
 *	status, dsn, relay, delay, text; lines that are not ours (warnings,
 *	connects, other programs) are OTHER and 0; broken lines (no closing
 *	'>', no status) are -1 and OTHER; every prefix of every line parses
 *	without reading past its length; the VERP tag's message id.
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

#include "events_parse.h"

struct pcase {
	const char *name;
	const char *line;
	int	 rc;
	enum events_kind kind;
	const char *qid, *addr, *status, *dsn, *relay, *text, *extra;
};

#define TAG "b-aeaaci2fm6e2xtpp73oaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bounces.test"

static const struct pcase cases[] = {
	{"sent", "Dec 06 20:03:00 pfs1m0 postfix-pfs1m0/smtp[3637]: E2DC8A752A2: "
	 "to=<x@example.net>, relay=127.0.0.1[127.0.0.1]:31257, delay=0.02, "
	 "delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
	 0, EVENTS_L_TO, "E2DC8A752A2", "x@example.net", "sent", "2.0.0",
	 "127.0.0.1[127.0.0.1]:31257", "250 2.0.0 Ok", "0.02"},
	{"deferred", "Dec  6 20:03:00 h postfix/smtp[1]: 4F00A1: to=<y@remote.test>, "
	 "relay=127.0.0.1[127.0.0.1]:2525, delay=1.1, delays=0/0/0/1.1, dsn=4.5.0, "
	 "status=deferred (host 127.0.0.1[127.0.0.1] said: 450 4.5.0 Error: command "
	 "failed (in reply to RCPT TO command))",
	 0, EVENTS_L_TO, "4F00A1", "y@remote.test", "deferred", "4.5.0",
	 "127.0.0.1[127.0.0.1]:2525", "host 127.0.0.1[127.0.0.1] said: 450 4.5.0 Error: "
	 "command failed (in reply to RCPT TO command)", "1.1"},
	{"bounced orig_to", "2026-12-06T20:03:00.123456+00:00 mx postfix/smtp[9]: "
	 "ABCDEF123: to=<gone@remote.test>, orig_to=<Gone@Remote.test>, relay=none, "
	 "delay=0.1, delays=0/0/0/0, dsn=5.1.1, status=bounced (host x said: 550 5.1.1 "
	 "<gone@remote.test>: User unknown (in reply to RCPT TO command))",
	 0, EVENTS_L_TO, "ABCDEF123", "gone@remote.test", "bounced", "5.1.1", "none",
	 "host x said: 550 5.1.1 <gone@remote.test>: User unknown (in reply to RCPT TO "
	 "command)", "0.1"},
	{"sent no text", "Dec 6 1 h postfix/local[1]: ABCDEF: to=<a@b>, relay=local, "
	 "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent",
	 0, EVENTS_L_TO, "ABCDEF", "a@b", "sent", "2.0.0", "local", "", "0"},
	{"to with >", "Dec 6 1 h postfix/smtp[1]: ABCDEF: to=<a>b@c>, relay=r, "
	 "dsn=2.0.0, status=sent (ok)",
	 0, EVENTS_L_TO, "ABCDEF", "a>b@c", "sent", "2.0.0", "r", "ok", ""},
	{"from", "Dec 06 20:03:00 pfs1m0 postfix-pfs1m0/qmgr[3631]: E2DC8A752A2: "
	 "from=<" TAG ">, size=393, nrcpt=2 (queue active)",
	 0, EVENTS_L_FROM, "E2DC8A752A2", TAG, "", "", "", "", "2"},
	{"from null", "Dec 06 20:03:00 h postfix/qmgr[1]: ABCDE1: from=<>, size=3, "
	 "nrcpt=1 (queue active)", 0, EVENTS_L_FROM, "ABCDE1", "", "", "", "", "", "1"},
	{"expired", "Dec 06 20:03:00 h postfix/qmgr[1]: ABCDE1: from=<a@b>, "
	 "status=expired, returned to sender", 0, EVENTS_L_EXPIRED, "ABCDE1", "a@b",
	 "expired", "", "", "", ""},
	{"message-id", "Dec 06 20:03:00 h postfix/cleanup[1]: ABCDE1: "
	 "message-id=<363c@example.test>", 0, EVENTS_L_MSGID, "ABCDE1", "", "", "",
	 "", "", "363c@example.test"},
	{"message-id bare", "Dec 06 20:03:00 h postfix/cleanup[1]: ABCDE1: "
	 "message-id=abc", 0, EVENTS_L_MSGID, "ABCDE1", "", "", "", "", "", "abc"},
	{"removed", "Dec 06 20:03:00 h postfix/qmgr[1]: ABCDE1: removed", 0,
	 EVENTS_L_REMOVED, "ABCDE1", "", "", "", "", "", ""},
	{"milter-reject rcpt", "Dec 06 20:03:00 h postfix/smtpd[1]: NOQUEUE: "
	 "milter-reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <gone@remote.test>: "
	 "recipient suppressed since 2026-12-06 20:00:00 UTC after a bounce: "
	 "user_unknown; from=<alice@customer.test> to=<gone@remote.test> proto=ESMTP "
	 "helo=<client.test>", 0, EVENTS_L_REJECT, "", "alice@customer.test", "", "",
	 "", "550 5.1.1 <gone@remote.test>: recipient suppressed since 2026-12-06 "
	 "20:00:00 UTC after a bounce: user_unknown", "gone@remote.test"},
	{"reject rcpt qid", "Dec 06 20:03:00 h postfix/smtpd[1]: ABCDE1: reject: RCPT "
	 "from unknown[127.0.0.1]: 554 5.7.1 <r@x>: Relay access denied; from=<s@y> "
	 "to=<r@x> proto=ESMTP helo=<h>", 0, EVENTS_L_REJECT, "ABCDE1", "s@y", "", "",
	 "", "554 5.7.1 <r@x>: Relay access denied", "r@x"},
	{"client", "Dec 06 20:03:00 h postfix/smtpd[1]: ABCDE1: client=unknown[127.0.0.1]",
	 0, EVENTS_L_OTHER, "ABCDE1", "", "", "", "", "", ""},
	{"warning", "Dec 06 20:03:00 h postfix/smtpd[1]: warning: hostname x does not "
	 "resolve", 0, EVENTS_L_OTHER, "", "", "", "", "", "", ""},
	{"connect", "Dec 06 20:03:00 h postfix/smtpd[1]: connect from unknown[127.0.0.1]",
	 0, EVENTS_L_OTHER, "", "", "", "", "", "", ""},
	{"no header", "just text", 0, EVENTS_L_OTHER, "", "", "", "", "", "", ""},
	{"empty", "", 0, EVENTS_L_OTHER, "", "", "", "", "", "", ""},
	{"to unterminated", "Dec 06 h postfix/smtp[1]: ABCDE1: to=<x@y, relay=r, "
	 "status=sent (ok)", -1, EVENTS_L_OTHER, "ABCDE1", "", "", "", "", "", ""},
	{"to no status", "Dec 06 h postfix/smtp[1]: ABCDE1: to=<x@y>, relay=r, dsn=2.0.0",
	 -1, EVENTS_L_OTHER, "ABCDE1", "", "", "", "", "", ""},
	{"from no nrcpt", "Dec 06 h postfix/qmgr[1]: ABCDE1: from=<x@y>, size=1", -1,
	 EVENTS_L_OTHER, "ABCDE1", "", "", "", "", "", ""},
	{"bad qid", "Dec 06 h postfix/qmgr[1]: AB-DE1: removed", 0, EVENTS_L_OTHER,
	 "", "", "", "", "", "", ""},
	{"control bytes", "Dec 06 h postfix/smtp[1]: ABCDE1: to=<a\001b@c>, relay=r, "
	 "dsn=2.0.0, status=sent (o\033k)", 0, EVENTS_L_TO, "ABCDE1", "a?b@c", "sent",
	 "2.0.0", "r", "o?k", ""},
};

/* check_one - a row's expectations; the extra column per kind */
static void
check_one(const struct pcase *c)
{
	struct events_line l;
	const char *why, *extra = "";
	char buf[32];
	int rc = events_parse_line(c->line, strlen(c->line), &l, &why);

	if (rc != c->rc)
		tcase_bad(c->name, "rc %d, want %d (why %s)", rc, c->rc, why ? why : "-");
	if (rc < 0 && why == NULL)
		tcase_bad(c->name, "rc -1 without why");
	if (l.kind != c->kind)
		tcase_bad(c->name, "kind %d, want %d", l.kind, c->kind);
#define EQ(f, w) if (strcmp(l.f, w) != 0) tcase_bad(c->name, #f " \"%s\", want \"%s\"", l.f, w)
	EQ(qid, c->qid);
	EQ(addr, c->addr);
	EQ(status, c->status);
	EQ(dsn, c->dsn);
	EQ(relay, c->relay);
	EQ(text, c->text);
	switch (l.kind) {
	case EVENTS_L_TO: extra = l.delay; break;
	case EVENTS_L_FROM: snprintf(buf, sizeof(buf), "%ld", l.nrcpt); extra = buf; break;
	case EVENTS_L_MSGID: extra = l.msgid; break;
	case EVENTS_L_REJECT: extra = l.rcpt; break;
	default: break;
	}
	if (strcmp(extra, c->extra) != 0)
		tcase_bad(c->name, "extra \"%s\", want \"%s\"", extra, c->extra);
}

/* test_table - every row */
static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_one(&cases[i]);
	tcase_done();
}

/* test_prefixes - every prefix of every row, in a buffer of exactly that size */
static void
test_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].line);

		for (size_t k = 0; k <= n; k++) {
			char *b = malloc(k ? k : 1);
			struct events_line l;
			const char *why;

			memcpy(b, cases[i].line, k);
			(void)events_parse_line(b, k, &l, &why);
			free(b);
		}
	}
}

/* test_fields_time - time and service of both formats */
static void
test_fields_time(void **state)
{
	struct events_line l;
	const char *why;

	(void)state;
	assert_int_equal(events_parse_line(cases[0].line, strlen(cases[0].line), &l, &why), 0);
	assert_string_equal(l.time, "Dec 06 20:03:00");
	assert_string_equal(l.service, "smtp");
	assert_int_equal(events_parse_line(cases[2].line, strlen(cases[2].line), &l, &why), 0);
	assert_string_equal(l.time, "2026-12-06T20:03:00.123456+00:00");
	assert_string_equal(l.orig_to, "Gone@Remote.test");
}

struct tcase_tag {
	const char *name, *addr;
	int	 rc;
	const char *hex;
};

/* test_tag_id - the message id of a VERP address */
static void
test_tag_id(void **state)
{
	/* version 1, key 0, id 0x0123456789abcdeffedc: built by hand */
	static const struct tcase_tag tc[] = {
		{"ok", TAG, 0, "0123456789abcdeffedc"},
		{"upper", "B-AEAACI2FM6E2XTPP73OAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@x", 0,
		 "0123456789abcdeffedc"},
		{"short", "b-aeasgrl@bounces.test", -1, ""},
		{"no at", "b-aeaaci2fm6e2xtpp73oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaxbounces", -1, ""},
		{"bad char", "b-1eaaci2fm6e2xtpp73oaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x", -1, ""},
		{"version 0", "b-aaaaci2fm6e2xtpp73oaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x", -1, ""},
		{"not a tag", "alice@customer.test", -1, ""},
		{"empty", "", -1, ""},
	};
	char hex[EVENTS_ID_HEX];

	(void)state;
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		int rc = events_tag_id(tc[i].addr, strlen(tc[i].addr), hex);

		if (rc != tc[i].rc)
			tcase_bad(tc[i].name, "rc %d, want %d", rc, tc[i].rc);
		else if (rc == 0 && strcmp(hex, tc[i].hex) != 0)
			tcase_bad(tc[i].name, "id %s, want %s", hex, tc[i].hex);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_fields_time),
		cmocka_unit_test(test_tag_id),
	};

	return cmocka_run_group_tests_name("events_parse", tests, NULL, NULL);
}
