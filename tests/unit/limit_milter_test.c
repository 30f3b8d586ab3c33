/*++
 * NAME
 *	limit_milter_test 1
 * SUMMARY
 *	unit tests of postmill-limit's protocol negotiation and of what its
 *	callbacks answer (milters/limit/limit_milter.c)
 * DESCRIPTION
 *	The callbacks run as the engine calls them (tests/unit/
 *	milter_fixture.h), under a configuration loaded from a postmill.conf
 *	and made current as a start or reload does. Redis is 127.0.0.1:1,
 *	where nothing listens: every check fails at once, and under
 *	limit_on_redis_error=tempfail a stage that has a reply answers 451
 *	4.3.0. So a stage that must answer shows it, and one that negotiated
 *	no reply (SMFIP_NR_*) must say SMFIS_NOREPLY.
 *
 *	Rows: the flags asked for when the MTA offers every one
 *	(limit_policy_mail_answers(), limit_policy_rcpt_answers()) and
 *	when it offers none; RCPT has a reply whenever a rule counts,
 *	recipients or messages (a message is checked with its first
 *	recipient); a message no rule counts (accepted at MAIL, or at the
 *	first RCPT with a reply); and a reload that adds a rule to a
 *	connection that negotiated no RCPT reply: the check is made at RCPT,
 *	the refusal is owed to end of message.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "milter_fixture.h"
#include "tcase.h"
#include "../../milters/limit/limit_milter.h"

#define NR_ALL	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
	| SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_HDR | SMFIP_NR_BODY)
#define NO_ALL	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT \
	| SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define NOT_SENT	(-100)		/* the MTA does not call this stage */

#define RCPT_RULE	"rq sender recipients quota=10/day\n"
#define MSG_RULE	"mr sender messages rate=10/1s\n"
#define SASL_RCPT_RULE	"sq sasl recipients quota=10/day\n"
#define SASL_MSG_RULE	"sm sasl messages rate=10/1s\n"
#define PAUSE		"limit_tenant_pause = tempfail\n"
#define NO_RULES	"# no rules\n"

struct lm_case {
	const char	*name;
	const char	*rules;		/* the rules file */
	const char	*extra;		/* more postmill.conf lines */
	unsigned long	 offered;	/* the MTA's SMFIP_NR_* */
	const char	*reload_rules;	/* installed after negotiation, or NULL */
	unsigned long	 want_nr;	/* SMFIP_NR_* negotiated */
	int		 want_conn, want_mail, want_rcpt, want_eom;
	const char	*want_reply;	/* the last reply text's start, or "" */
};

static const struct lm_case cases[] = {
	{"recipient rule: MAIL without reply, RCPT with", RCPT_RULE, "", NR_ALL, NULL,
	 SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_TEMPFAIL,
	 NOT_SENT, "451 4.3.0 "},
	{"message rule: RCPT with reply (the message is checked there)", MSG_RULE, "",
	 NR_ALL, NULL, SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY,
	 SMFIS_TEMPFAIL, NOT_SENT, "451 4.3.0 "},
	{"no rules: no reply before end of message", NO_RULES, "", NR_ALL, NULL,
	 SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT, SMFIS_NOREPLY, SMFIS_NOREPLY,
	 SMFIS_NOREPLY, SMFIS_CONTINUE, ""},
	{"tenant pause: MAIL keeps its reply", MSG_RULE, PAUSE, NR_ALL, NULL,
	 SMFIP_NR_CONN, SMFIS_NOREPLY, SMFIS_CONTINUE, SMFIS_TEMPFAIL,
	 NOT_SENT, "451 4.3.0 "},
	{"tenant pause, no rules", NO_RULES, PAUSE, NR_ALL, NULL,
	 SMFIP_NR_CONN | SMFIP_NR_RCPT, SMFIS_NOREPLY, SMFIS_ACCEPT, NOT_SENT,
	 NOT_SENT, ""},
	{"tenant pause, both rules", RCPT_RULE MSG_RULE, "limit_tenant_pause = reject\n",
	 NR_ALL, NULL, SMFIP_NR_CONN, SMFIS_NOREPLY, SMFIS_CONTINUE, SMFIS_TEMPFAIL,
	 NOT_SENT, "451 4.3.0 "},
	{"MTA offers no reply flags", RCPT_RULE MSG_RULE, "", 0, NULL, 0, SMFIS_CONTINUE,
	 SMFIS_CONTINUE, SMFIS_TEMPFAIL, NOT_SENT, "451 4.3.0 "},
	{"MTA offers no reply flags, message rule", MSG_RULE, "", 0, NULL, 0,
	 SMFIS_CONTINUE, SMFIS_CONTINUE, SMFIS_TEMPFAIL, NOT_SENT, "451 4.3.0 "},
	{"uncounted: accepted at the first RCPT", SASL_RCPT_RULE, "", NR_ALL, NULL,
	 SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_ACCEPT,
	 NOT_SENT, ""},
	{"uncounted by a message rule: accepted at the first RCPT", SASL_MSG_RULE, "",
	 NR_ALL, NULL, SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY,
	 SMFIS_ACCEPT, NOT_SENT, ""},
	{"uncounted, MAIL with reply: accepted there", SASL_RCPT_RULE, PAUSE, NR_ALL, NULL,
	 SMFIP_NR_CONN, SMFIS_NOREPLY, SMFIS_ACCEPT, NOT_SENT, NOT_SENT, ""},
	{"reload adds a message rule: checked at RCPT, refused at the end", NO_RULES, "",
	 NR_ALL, MSG_RULE, SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT,
	 SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_TEMPFAIL, "451 4.3.0 "},
	{"reload adds a recipient rule: refused at the end", NO_RULES, "", NR_ALL,
	 RCPT_RULE MSG_RULE, SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT,
	 SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_NOREPLY, SMFIS_TEMPFAIL, "451 4.3.0 "},
	{"reload to a message rule only: RCPT still replies", RCPT_RULE, "", NR_ALL,
	 MSG_RULE, SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY,
	 SMFIS_TEMPFAIL, NOT_SENT, "451 4.3.0 "},
	{"reload drops every rule: RCPT still replies, accepts", RCPT_RULE, "", NR_ALL,
	 NO_RULES, SMFIP_NR_CONN | SMFIP_NR_MAIL, SMFIS_NOREPLY, SMFIS_NOREPLY,
	 SMFIS_ACCEPT, NOT_SENT, ""},
};

/* lm_install - the configuration of a row with these rules */
static int
lm_install(const char *rules, const char *extra)
{
	char rpath[320], text[1024];

	snprintf(rpath, sizeof(rpath), "%s", milter_fixture_write("limit.rules", rules));
	snprintf(text, sizeof(text), "redis_server = 127.0.0.1:1\n"
		 "limit_on_redis_error = tempfail\nlimit_rules_file = %s\n%s", rpath, extra);
	return milter_fixture_install(&limit_module, text);
}

/* lm_check - one callback's answer against the row */
static void
lm_check(const struct lm_case *c, const char *stage, int got, int want)
{
	if (got != want)
		tcase_bad(c->name, "%s answered %d, want %d", stage, got, want);
}

/* test_negotiate_and_answers - every row, from negotiation to close */
static void
test_negotiate_and_answers(void **state)
{
	const struct smfiDesc *d = &limit_milter_desc;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct lm_case *c = &cases[i];
		unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;
		char from[] = "<a@example.test>", to[] = "<b@example.test>", host[] = "client";
		char *mail_argv[] = {from, NULL}, *rcpt_argv[] = {to, NULL};
		struct sockaddr_in sin = {.sin_family = AF_INET};
		SMFICTX *ctx = milter_fixture_ctx();
		const char *last = "";
		int r;

		if (lm_install(c->rules, c->extra) < 0) {
			tcase_bad(c->name, "configuration does not load");
			milter_fixture_ctx_free(ctx);
			continue;
		}
		sin.sin_addr.s_addr = htonl(0xc0000207);	/* 192.0.2.7: outside */
		r = d->xxfi_negotiate(ctx, 0, NO_ALL | c->offered, 0, 0, &p0, &p1, &p2, &p3);
		lm_check(c, "negotiate", r, SMFIS_CONTINUE);
		if ((p1 & NR_ALL) != c->want_nr)
			tcase_bad(c->name, "negotiated NR flags 0x%lx, want 0x%lx", p1 & NR_ALL,
				  c->want_nr);
		if ((p1 & ~(NO_ALL | c->offered)) != 0)
			tcase_bad(c->name, "asked for 0x%lx, not offered", p1 & ~(NO_ALL | c->offered));
		if (c->reload_rules != NULL && lm_install(c->reload_rules, c->extra) < 0)
			tcase_bad(c->name, "reload does not load");
		lm_check(c, "connect", d->xxfi_connect(ctx, host, (_SOCK_ADDR *)&sin),
			 c->want_conn);
		lm_check(c, "MAIL", d->xxfi_envfrom(ctx, mail_argv), c->want_mail);
		if (c->want_rcpt != NOT_SENT) {
			lm_check(c, "RCPT", d->xxfi_envrcpt(ctx, rcpt_argv), c->want_rcpt);
			if (*(last = milter_fixture_reply(ctx)) == '\0')
				last = "";
			else if (c->want_rcpt == SMFIS_NOREPLY)
				tcase_bad(c->name, "reply \"%s\" set at a no-reply RCPT", last);
		}
		if (c->want_eom != NOT_SENT) {
			lm_check(c, "end of message", d->xxfi_eom(ctx), c->want_eom);
			last = milter_fixture_reply(ctx);
		} else {
			(void)d->xxfi_abort(ctx);
		}
		if (!milter_fixture_reply_is(last, c->want_reply))
			tcase_bad(c->name, "reply \"%s\", want \"%s...\"", last, c->want_reply);
		(void)d->xxfi_close(ctx);
		milter_fixture_ctx_free(ctx);
	}
	milter_fixture_cleanup();
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate_and_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
