/*++
 * NAME
 *	bounce_milter_test 1
 * SUMMARY
 *	unit tests of postmill-bounce's protocol negotiation and of what its
 *	callbacks answer (milters/bounce/bounce_milter.c)
 * DESCRIPTION
 *	The callbacks run as the engine calls them (tests/unit/
 *	milter_fixture.h), under a configuration loaded from a postmill.conf
 *	and made current as a start does. Rows: the MTA offers every
 *	SMFIP_NR_* flag, or none (Sendmail, an old Postfix). With them,
 *	connect, MAIL, header fields, end of header and body chunks answer
 *	nothing (SMFIS_NOREPLY) and set no reply; RCPT keeps its reply (a
 *	recipient at the bounce domain without a valid tag is refused 550
 *	5.7.1 there). Without them, every stage answers "go on". No Redis
 *	is needed: the client is outside and not authenticated, so nothing
 *	is tagged.
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
#include "../../milters/bounce/bounce_milter.h"

#define NR_ALL	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
	| SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_HDR | SMFIP_NR_BODY)
#define NO_ALL	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT \
	| SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT \
	| SMFIF_DELRCPT | SMFIF_CHGFROM)
#define BM_NR	(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR | SMFIP_NR_EOH \
	| SMFIP_NR_BODY)

struct bm_case {
	const char	*name;
	unsigned long	 offered;	/* the MTA's SMFIP_NR_* */
	const char	*rcpt;		/* the recipient */
	unsigned long	 want_nr;	/* SMFIP_NR_* negotiated */
	int		 want_quiet;	/* connect, MAIL, header, EOH, body */
	int		 want_rcpt, want_eom;
	const char	*want_rcpt_reply;	/* the RCPT reply's start, or "" */
};

static const struct bm_case cases[] = {
	{"outbound, NR offered", NR_ALL, "<b@example.test>", BM_NR, SMFIS_NOREPLY,
	 SMFIS_CONTINUE, SMFIS_CONTINUE, ""},
	{"bad tag: RCPT keeps its reply", NR_ALL, "<b-nope@bounces.test>", BM_NR,
	 SMFIS_NOREPLY, SMFIS_REJECT, SMFIS_CONTINUE, "550 5.7.1 "},
	{"postmaster at the bounce domain", NR_ALL, "<Postmaster@bounces.test>", BM_NR,
	 SMFIS_NOREPLY, SMFIS_CONTINUE, SMFIS_CONTINUE, ""},
	{"MTA offers no reply flags", 0, "<b@example.test>", 0, SMFIS_CONTINUE,
	 SMFIS_CONTINUE, SMFIS_CONTINUE, ""},
	{"no reply flags, bad tag", 0, "<b-nope@bounces.test>", 0, SMFIS_CONTINUE,
	 SMFIS_REJECT, SMFIS_CONTINUE, "550 5.7.1 "},
};

/* bm_install - the configuration of every row */
static int
bm_install(void)
{
	char spath[320], text[1024];

	snprintf(spath, sizeof(spath), "%s", milter_fixture_write("bounce.secret",
		 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"));
	snprintf(text, sizeof(text), "redis_server = 127.0.0.1:1\n"
		 "bounce_domain = bounces.test\nbounce_secret_files = %s\n", spath);
	return milter_fixture_install(&bounce_module, text);
}

/* bm_check - one callback's answer against the row; no reply text unless refused */
static void
bm_check(const struct bm_case *c, SMFICTX *ctx, const char *stage, int got, int want)
{
	const char *reply = milter_fixture_reply(ctx);

	if (got != want)
		tcase_bad(c->name, "%s answered %d, want %d", stage, got, want);
	if (got != SMFIS_REJECT && got != SMFIS_TEMPFAIL && reply[0] != '\0')
		tcase_bad(c->name, "%s set reply \"%s\" but answered %d", stage, reply, got);
}

/* test_negotiate_and_answers - every row, from negotiation to close */
static void
test_negotiate_and_answers(void **state)
{
	const struct smfiDesc *d = &bounce_milter_desc;

	(void)state;
	if (bm_install() < 0)
		fail_msg("the configuration does not load");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bm_case *c = &cases[i];
		unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;
		char from[] = "<a@example.test>", host[] = "client", to[128];
		char hname[] = "Subject", hval[] = " hello";
		unsigned char body[] = "body\r\n";
		char *mail_argv[] = {from, NULL}, *rcpt_argv[] = {to, NULL};
		struct sockaddr_in sin = {.sin_family = AF_INET};
		SMFICTX *ctx = milter_fixture_ctx();
		const char *reply;
		int r;

		snprintf(to, sizeof(to), "%s", c->rcpt);
		sin.sin_addr.s_addr = htonl(0xc0000207);	/* 192.0.2.7: outside */
		r = d->xxfi_negotiate(ctx, ACTIONS, NO_ALL | c->offered, 0, 0, &p0, &p1,
				      &p2, &p3);
		bm_check(c, ctx, "negotiate", r, SMFIS_CONTINUE);
		if ((p1 & NR_ALL) != c->want_nr)
			tcase_bad(c->name, "negotiated NR flags 0x%lx, want 0x%lx", p1 & NR_ALL,
				  c->want_nr);
		bm_check(c, ctx, "connect", d->xxfi_connect(ctx, host, (_SOCK_ADDR *)&sin),
			 c->want_quiet);
		bm_check(c, ctx, "MAIL", d->xxfi_envfrom(ctx, mail_argv), c->want_quiet);
		r = d->xxfi_envrcpt(ctx, rcpt_argv);
		if (r != c->want_rcpt)
			tcase_bad(c->name, "RCPT answered %d, want %d", r, c->want_rcpt);
		reply = milter_fixture_reply(ctx);
		if (!milter_fixture_reply_is(reply, c->want_rcpt_reply))
			tcase_bad(c->name, "RCPT reply \"%s\", want \"%s...\"", reply,
				  c->want_rcpt_reply);
		bm_check(c, ctx, "header", d->xxfi_header(ctx, hname, hval), c->want_quiet);
		bm_check(c, ctx, "end of header", d->xxfi_eoh(ctx), c->want_quiet);
		bm_check(c, ctx, "body", d->xxfi_body(ctx, body, sizeof(body) - 1),
			 c->want_quiet);
		bm_check(c, ctx, "end of message", d->xxfi_eom(ctx), c->want_eom);
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
