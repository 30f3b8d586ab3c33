/*++
 * NAME
 *	bounce_fbl_test 1
 * SUMMARY
 *	unit tests of complaints mapped back (milters/bounce/bounce_fbl.c)
 * DESCRIPTION
 *	bounce_fbl_origin() on complaint layouts: an ARF report with the
 *	original as message/rfc822 (redacted, as Yahoo and AOL send it),
 *	as text/rfc822-headers (RFC 6522), as base64, Microsoft's JMRP
 *	(multipart/mixed, no report part), a report without an original,
 *	two reference fields, a reference inside a message the original
 *	itself returns (not ours to read), no header at all.
 *	bounce_fbl_decide() on the evidence: each source alone, agreeing
 *	sources, a tampered reference (also beside a genuine tag), two
 *	references, a tampered tag, sources naming different messages,
 *	tags of other domains, a removed key, an expired reference.
 *	bounce_fbl_rcpt(): named and listed, redacted with one recipient,
 *	redacted with several, an incomplete record, nothing at all.
 *	bounce_fbl_is_complaint(): the feedback types.
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

#include "../../milters/bounce/bounce_fbl.h"
#include "../../milters/bounce/bounce_keys.h"
#include "../../milters/bounce/bounce_ref.h"
#include "../../milters/bounce/bounce_tag.h"

#define NOW	1700000000LL
#define DOMAIN	"bounces.test"
#define TDOMAIN	"bounces.tenant.test"	/* a tenant's bounce domain, its own ring */

static const unsigned char id1[BOUNCE_TAG_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const unsigned char id2[BOUNCE_TAG_ID_LEN] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static struct bounce_keyring ring, other, tring;
static struct bounce_bdomain bdoms[2] = {{DOMAIN, &ring}, {TDOMAIN, &tring}};

/* setup - a ring with the signing key, a key nobody configured, a tenant's */
static int
setup(void **state)
{
	static const char s1[] = "fbl-test-secret-0123456789", s2[] = "removed-secret-0123456789";
	const char *why;

	memset(&ring, 0, sizeof(ring));
	memset(&other, 0, sizeof(other));
	memset(&tring, 0, sizeof(tring));
	if (bounce_keyring_add(&ring, (const unsigned char *)s1, strlen(s1), &why) < 0
	    || bounce_keyring_add(&other, (const unsigned char *)s2, strlen(s2), &why) < 0
	    || bounce_keyring_add(&tring, (const unsigned char *)"tenant-secret-0123456789",
				  24, &why) < 0)
		return -1;
	/* as bounce_keyring_derive() makes a tenant domain's ring: the ids of
	 * the global ring, other secrets */
	tring.keys[0].id = ring.keys[0].id;
	return 0;
}

/* a Yahoo-style report (after RFC 5965 3.3) with a redacted recipient */
static const char yahoo_fmt[] =
"From: staff@hotmail.test\r\n"
"To: fbl@bounces.test\r\n"
"Subject: FW: hello\r\n"
"MIME-Version: 1.0\r\n"
"Content-Type: multipart/report; report-type=feedback-report;\r\n"
"\tboundary=\"----=_Part_1\"\r\n"
"\r\n"
"------=_Part_1\r\n"
"Content-Type: text/plain; charset=us-ascii\r\n"
"\r\n"
"This is an email abuse report for an email message from customer.test\r\n"
"\r\n"
"------=_Part_1\r\n"
"Content-Type: message/feedback-report\r\n"
"\r\n"
"Feedback-Type: abuse\r\n"
"User-Agent: Yahoo!-Mail-Feedback/2.0\r\n"
"Version: 0.1\r\n"
"Original-Mail-From: <%s>\r\n"
"Original-Rcpt-To: redacted@isp.test\r\n"
"Reported-Domain: customer.test\r\n"
"\r\n"
"------=_Part_1\r\n"
"Content-Type: message/rfc822\r\n"
"Content-Disposition: inline\r\n"
"\r\n"
"X-Apparently-To: redacted@isp.test; Thu, 29 Apr 2026 23:34:45 +0000\r\n"
"Return-Path: <%s>\r\n"
"From: Alice <alice@customer.test>\r\n"
"To: redacted@isp.test\r\n"
"Subject: hello\r\n"
"X-Postmill-Ref: %s\r\n"
"\r\n"
"Hello.\r\n"
"\r\n"
"------=_Part_1--\r\n";

static const char headers_only[] =
"From: <abuse@isp.test>\n"
"To: fbl@bounces.test\n"
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\n"
"\n"
"--B\n"
"Content-Type: message/feedback-report\n"
"\n"
"Feedback-Type: fraud\n"
"Version: 1\n"
"\n"
"--B\n"
"Content-Type: text/rfc822-headers\n"
"\n"
"From: alice@customer.test\n"
"X-Postmill-Ref:\n"
" abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop\n"
"return-path: b-x@bounces.test\n"
"\n"
"--B--\n";

static const char jmrp[] =
"From: staff@hotmail.test\r\n"
"Subject: complaint about message from 192.0.2.1\r\n"
"MIME-Version: 1.0\r\n"
"Content-Type: multipart/mixed; boundary=\"J\"\r\n"
"\r\n"
"--J\r\n"
"Content-Type: message/rfc822\r\n"
"\r\n"
"X-HmXmrOriginalRecipient: <redacted>\r\n"
"From: alice@customer.test\r\n"
"To: redacted\r\n"
"X-Postmill-Ref: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
"\r\n"
"Hi\r\n"
"--J--\r\n";

static const char no_original[] =
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"N\"\r\n"
"\r\n"
"--N\r\n"
"Content-Type: message/feedback-report\r\n"
"\r\n"
"Feedback-Type: abuse\r\n"
"Original-Mail-From: b-y@bounces.test\r\n"
"\r\n"
"--N--\r\n";

static const char two_refs[] =
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"T\"\r\n"
"\r\n"
"--T\r\n"
"Content-Type: message/feedback-report\r\n"
"\r\n"
"Feedback-Type: abuse\r\n"
"\r\n"
"--T\r\n"
"Content-Type: message/rfc822\r\n"
"\r\n"
"X-Postmill-Ref: first\r\n"
"x-postmill-ref: second\r\n"
"\r\n"
"--T--\r\n";

/* the original is itself a bounce that returns a message with a reference */
static const char nested[] =
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"O\"\r\n"
"\r\n"
"--O\r\n"
"Content-Type: message/feedback-report\r\n"
"\r\n"
"Feedback-Type: abuse\r\n"
"\r\n"
"--O\r\n"
"Content-Type: message/rfc822\r\n"
"\r\n"
"From: MAILER-DAEMON@x.test\r\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"I\"\r\n"
"\r\n"
"--I\r\n"
"Content-Type: message/rfc822\r\n"
"\r\n"
"X-Postmill-Ref: inner\r\n"
"\r\n"
"--I--\r\n"
"--O--\r\n";

/* base64 of "Return-Path: <b-z@bounces.test>\r\nX-Postmill-Ref: b64\r\n\r\nHi\r\n" */
static const char base64_original[] =
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"S\"\r\n"
"\r\n"
"--S\r\n"
"Content-Type: message/feedback-report\r\n"
"\r\n"
"Feedback-Type: auth-failure\r\n"
"\r\n"
"--S\r\n"
"Content-Type: message/rfc822\r\n"
"Content-Transfer-Encoding: base64\r\n"
"\r\n"
"UmV0dXJuLVBhdGg6IDxiLXpAYm91bmNlcy50ZXN0Pg0KWC1Qb3N0bWlsbC1SZWY6IGI2NA0KDQpI\r\n"
"aQ0K\r\n"
"--S--\r\n";

/* test_origin - the evidence each layout gives */
static void
test_origin(void **state)
{
	static char yahoo[4096];
	static const struct {
		const char *name;
		const char *msg;
		int	 rc;
		int	 is_arf, has_original;
		size_t	 nref;
		const char *ref, *return_path, *mail_from, *type;
	} cases[] = {
		{"yahoo, redacted", yahoo, 0, 1, 1, 1, "REF", "b-rp@bounces.test",
		 "b-mf@bounces.test", "abuse"},
		{"text/rfc822-headers, folded", headers_only, 0, 1, 1, 1,
		 "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop", "b-x@bounces.test",
		 "", "fraud"},
		{"jmrp, no report part", jmrp, 0, 0, 1, 1,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", "", ""},
		{"report without original", no_original, 0, 1, 0, 0, "", "",
		 "b-y@bounces.test", "abuse"},
		{"two references", two_refs, 0, 1, 1, 2, "first", "", "", "abuse"},
		{"reference of a returned message's returned message", nested, 0, 1, 1, 0,
		 "", "", "", "abuse"},
		{"base64 original", base64_original, 0, 1, 1, 1, "b64", "b-z@bounces.test",
		 "", "auth-failure"},
		{"no header", "\r\nbody only\r\n", -1, 0, 0, 0, "", "", "", ""},
		{"empty", "", -1, 0, 0, 0, "", "", "", ""},
	};
	struct bounce_fbl_origin o;
	const char *why;

	snprintf(yahoo, sizeof(yahoo), yahoo_fmt, "b-mf@bounces.test", "b-rp@bounces.test",
		 "REF");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = bounce_fbl_origin(cases[i].msg, strlen(cases[i].msg), &o, &why);

		if (rc != cases[i].rc) {
			tcase_bad(cases[i].name, "got rc %d, want %d", rc, cases[i].rc);
			continue;
		}
		if (o.is_arf != cases[i].is_arf || o.has_original != cases[i].has_original
		    || o.nref != cases[i].nref)
			tcase_bad(cases[i].name, "got arf %d original %d nref %zu, want %d %d %zu",
				  o.is_arf, o.has_original, o.nref, cases[i].is_arf,
				  cases[i].has_original, cases[i].nref);
		if (strcmp(o.ref, cases[i].ref) != 0)
			tcase_bad(cases[i].name, "got ref \"%s\", want \"%s\"", o.ref, cases[i].ref);
		if (strcmp(o.return_path, cases[i].return_path) != 0)
			tcase_bad(cases[i].name, "got return path \"%s\", want \"%s\"",
				  o.return_path, cases[i].return_path);
		if (strcmp(o.mail_from, cases[i].mail_from) != 0)
			tcase_bad(cases[i].name, "got mail from \"%s\", want \"%s\"",
				  o.mail_from, cases[i].mail_from);
		if (strcmp(o.feedback_type, cases[i].type) != 0)
			tcase_bad(cases[i].name, "got type \"%s\", want \"%s\"",
				  o.feedback_type, cases[i].type);
	}
	tcase_done();
}

/* token kinds for the decide table */
enum tok { T_NONE, T_REF1, T_REF2, T_REF1_BAD, T_REF_OLDKEY, T_REF1_EXPIRED,
	   T_TAG1, T_TAG2, T_TAG1_BAD, T_TAG1_OTHER_DOMAIN, T_TAG_OLDKEY, T_JUNK,
	   T_TTAG1, T_TTAG2, T_TTAG1_GLOBALKEY, T_TAG1_TENANTKEY };

/* tok_text - the text of one token (a header value, or an address) */
static void
tok_text(enum tok k, bool addr, char *out, size_t outlen)
{
	char t[BOUNCE_TAG_CHARS + 1];
	const char *dom = DOMAIN;

	out[0] = '\0';
	switch (k) {
	case T_NONE:
		return;
	case T_JUNK:
		snprintf(out, outlen, addr ? "someone@" DOMAIN : "not-a-reference");
		return;
	case T_REF1: case T_REF1_BAD:
		bounce_ref_encode(&ring.keys[0], id1, NOW + 3600, t);
		break;
	case T_REF2:
		bounce_ref_encode(&ring.keys[0], id2, NOW + 3600, t);
		break;
	case T_REF1_EXPIRED:
		bounce_ref_encode(&ring.keys[0], id1, NOW - 3600, t);
		break;
	case T_REF_OLDKEY:
		bounce_ref_encode(&other.keys[0], id1, NOW + 3600, t);
		break;
	case T_TAG1: case T_TAG1_BAD:
		bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, t);
		break;
	case T_TAG1_OTHER_DOMAIN:
		bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, t);
		dom = "elsewhere.test";
		break;
	case T_TAG2:
		bounce_tag_encode(&ring.keys[0], id2, NOW + 3600, t);
		break;
	case T_TAG_OLDKEY:
		bounce_tag_encode(&other.keys[0], id1, NOW + 3600, t);
		break;
	case T_TTAG1:		/* at the tenant's domain, its ring */
		bounce_tag_encode(&tring.keys[0], id1, NOW + 3600, t);
		dom = TDOMAIN;
		break;
	case T_TTAG2:
		bounce_tag_encode(&tring.keys[0], id2, NOW + 3600, t);
		dom = TDOMAIN;
		break;
	case T_TTAG1_GLOBALKEY:	/* at the tenant's domain, the global ring */
		bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, t);
		dom = TDOMAIN;
		break;
	case T_TAG1_TENANTKEY:	/* at the global domain, the tenant's ring */
		bounce_tag_encode(&tring.keys[0], id1, NOW + 3600, t);
		break;
	}
	if (k == T_REF1_BAD || k == T_TAG1_BAD)
		t[20] = t[20] == 'a' ? 'b' : 'a';
	if (addr)
		snprintf(out, outlen, "b-%s@%s", t, dom);
	else
		snprintf(out, outlen, "%s", t);
}

/* test_decide - the verdict on each combination of evidence */
static void
test_decide(void **state)
{
	static const struct {
		const char *name;
		enum tok ref, rp, mf;
		size_t	 nref;		/* 0: as ref says */
		enum bounce_fbl_map want;
		const char *via;
		int	 want_id;	/* 1 or 2 */
	} cases[] = {
		{"reference alone", T_REF1, T_NONE, T_NONE, 0, BOUNCE_FBL_MAPPED, "ref", 1},
		{"return path alone", T_NONE, T_TAG1, T_NONE, 0, BOUNCE_FBL_MAPPED,
		 "return_path", 1},
		{"mail from alone", T_NONE, T_NONE, T_TAG2, 0, BOUNCE_FBL_MAPPED, "mail_from", 2},
		{"all three agree", T_REF1, T_TAG1, T_TAG1, 0, BOUNCE_FBL_MAPPED, "ref", 1},
		{"expired reference still names it", T_REF1_EXPIRED, T_NONE, T_NONE, 0,
		 BOUNCE_FBL_MAPPED, "ref", 1},
		{"tampered reference", T_REF1_BAD, T_NONE, T_NONE, 0, BOUNCE_FBL_FORGED,
		 "none", 0},
		{"tampered reference, genuine tag", T_REF1_BAD, T_TAG1, T_NONE, 0,
		 BOUNCE_FBL_FORGED, "none", 0},
		{"malformed reference", T_JUNK, T_TAG1, T_NONE, 0, BOUNCE_FBL_FORGED, "none", 0},
		{"two references", T_REF1, T_NONE, T_NONE, 2, BOUNCE_FBL_FORGED, "none", 0},
		{"tampered tag", T_NONE, T_TAG1_BAD, T_NONE, 0, BOUNCE_FBL_FORGED, "none", 0},
		{"reference and tag disagree", T_REF1, T_TAG2, T_NONE, 0,
		 BOUNCE_FBL_CONFLICT, "none", 0},
		{"tags disagree", T_NONE, T_TAG1, T_TAG2, 0, BOUNCE_FBL_CONFLICT, "none", 0},
		{"nothing", T_NONE, T_NONE, T_NONE, 0, BOUNCE_FBL_NONE, "none", 0},
		{"tag of another domain", T_NONE, T_TAG1_OTHER_DOMAIN, T_NONE, 0,
		 BOUNCE_FBL_NONE, "none", 0},
		{"not a tag at our domain", T_NONE, T_JUNK, T_JUNK, 0, BOUNCE_FBL_NONE, "none", 0},
		{"removed key", T_REF_OLDKEY, T_TAG_OLDKEY, T_NONE, 0, BOUNCE_FBL_NONE, "none", 0},
		{"removed key beside a genuine tag", T_REF_OLDKEY, T_TAG1, T_NONE, 0,
		 BOUNCE_FBL_MAPPED, "return_path", 1},
		{"reference, foreign return path", T_REF2, T_TAG1_OTHER_DOMAIN, T_NONE, 0,
		 BOUNCE_FBL_MAPPED, "ref", 2},
		{"tenant return path alone", T_NONE, T_TTAG1, T_NONE, 0, BOUNCE_FBL_MAPPED,
		 "return_path", 1},
		{"tenant mail from alone", T_NONE, T_NONE, T_TTAG2, 0, BOUNCE_FBL_MAPPED,
		 "mail_from", 2},
		{"reference and tenant tags agree", T_REF1, T_TTAG1, T_TTAG1, 0,
		 BOUNCE_FBL_MAPPED, "ref", 1},
		{"reference and tenant tag disagree", T_REF1, T_TTAG2, T_NONE, 0,
		 BOUNCE_FBL_CONFLICT, "none", 0},
		{"global key at the tenant's domain", T_NONE, T_TTAG1_GLOBALKEY, T_NONE, 0,
		 BOUNCE_FBL_FORGED, "none", 0},
		{"tenant key at the global domain", T_NONE, T_TAG1_TENANTKEY, T_NONE, 0,
		 BOUNCE_FBL_FORGED, "none", 0},
	};
	struct bounce_fbl_origin o;
	unsigned char id[BOUNCE_TAG_ID_LEN];
	const char *via, *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum bounce_fbl_map m;

		memset(&o, 0, sizeof(o));
		tok_text(cases[i].ref, false, o.ref, sizeof(o.ref));
		o.nref = cases[i].nref ? cases[i].nref : cases[i].ref != T_NONE;
		tok_text(cases[i].rp, true, o.return_path, sizeof(o.return_path));
		tok_text(cases[i].mf, true, o.mail_from, sizeof(o.mail_from));
		m = bounce_fbl_decide(bdoms, 2, &o, NOW, id, &via, &why);
		if (m != cases[i].want || strcmp(via, cases[i].via) != 0)
			tcase_bad(cases[i].name, "got %s via %s (%s), want %s via %s",
				  bounce_fbl_map_name(m), via, why,
				  bounce_fbl_map_name(cases[i].want), cases[i].via);
		else if (cases[i].want_id != 0
			 && memcmp(id, cases[i].want_id == 1 ? id1 : id2, sizeof(id)) != 0)
			tcase_bad(cases[i].name, "got another message id, want id%d",
				  cases[i].want_id);
	}
	tcase_done();
}

/* test_origin_decide - a real report with real tokens, end to end */
static void
test_origin_decide(void **state)
{
	char ref[BOUNCE_REF_CHARS + 1], tag[BOUNCE_TAG_CHARS + 1], rp[80], msg[4096];
	struct bounce_fbl_origin o;
	unsigned char id[BOUNCE_TAG_ID_LEN];
	const char *via, *why;
	enum bounce_fbl_map m;

	bounce_ref_encode(&ring.keys[0], id1, NOW + 3600, ref);
	bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, tag);
	snprintf(rp, sizeof(rp), "b-%s@" DOMAIN, tag);
	snprintf(msg, sizeof(msg), yahoo_fmt, "abuse-sender@elsewhere.test", rp, ref);
	assert_int_equal(bounce_fbl_origin(msg, strlen(msg), &o, &why), 0);
	m = bounce_fbl_decide(bdoms, 1, &o, NOW, id, &via, &why);
	if (m != BOUNCE_FBL_MAPPED || strcmp(via, "ref") != 0 || memcmp(id, id1, sizeof(id)))
		tcase_bad("genuine", "got %s via %s (%s), want mapped via ref",
			  bounce_fbl_map_name(m), via, why);
	/* one character of the reference changed in the report */
	ref[5] = ref[5] == 'q' ? 'r' : 'q';
	snprintf(msg, sizeof(msg), yahoo_fmt, "abuse-sender@elsewhere.test", rp, ref);
	assert_int_equal(bounce_fbl_origin(msg, strlen(msg), &o, &why), 0);
	m = bounce_fbl_decide(bdoms, 1, &o, NOW, id, &via, &why);
	if (m != BOUNCE_FBL_FORGED)
		tcase_bad("tampered", "got %s (%s), want forged", bounce_fbl_map_name(m), why);
	tcase_done();
}

/* test_rcpt - whom the complaint is about */
static void
test_rcpt(void **state)
{
	static const struct {
		const char *name;
		const char *named, *rcpts;
		bool	 complete;
		const char *want, *how;
	} cases[] = {
		{"named and listed", "Reader@ISP.test", "a@x.test,reader@isp.test", true,
		 "reader@isp.test", "named"},
		{"redacted, one recipient", "redacted@isp.test", "reader@isp.test", true,
		 "reader@isp.test", "record"},
		{"no name, one recipient", "", "reader@isp.test", true, "reader@isp.test",
		 "record"},
		{"no name at all, one recipient", NULL, "reader@isp.test", true,
		 "reader@isp.test", "record"},
		{"redacted, several recipients", "redacted@isp.test", "a@isp.test,b@isp.test",
		 true, "redacted@isp.test", "unlisted"},
		{"no name, several recipients", "", "a@isp.test,b@isp.test", true, "", "none"},
		{"incomplete record", "c@isp.test", "a@isp.test,b@isp.test", false,
		 "c@isp.test", "unchecked"},
		{"one recipient, incomplete record", "redacted", "a@isp.test", false,
		 "redacted", "unchecked"},
		{"no record", "c@isp.test", NULL, false, "c@isp.test", "unchecked"},
		{"nothing", "", "", false, "", "none"},
	};
	char out[400];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *how = bounce_fbl_rcpt(cases[i].named, cases[i].rcpts,
						  cases[i].complete, out, sizeof(out));

		if (strcmp(out, cases[i].want) != 0 || strcmp(how, cases[i].how) != 0)
			tcase_bad(cases[i].name, "got \"%s\" by %s, want \"%s\" by %s", out, how,
				  cases[i].want, cases[i].how);
	}
	tcase_done();
}

/* test_is_complaint - feedback types that suppress */
static void
test_is_complaint(void **state)
{
	static const struct {
		const char *type;
		bool	 want;
	} cases[] = {
		{"abuse", true}, {"ABUSE", true}, {"fraud", true}, {"", true},
		{"auth-failure", false}, {"not-spam", false}, {"virus", false},
		{"other", false}, {"abusive", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (bounce_fbl_is_complaint(cases[i].type) != cases[i].want)
			tcase_bad(cases[i].type, "got %d, want %d", !cases[i].want, cases[i].want);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_origin_decide),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_is_complaint),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
