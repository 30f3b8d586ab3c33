/*++
 * NAME
 *	dkim_dnscheck_test 1
 * SUMMARY
 *	unit tests for the published-key check (milters/dkim/dkim_dnscheck.c)
 * DESCRIPTION
 *	Three tables: check (dkim_dnscheck: a DNS outcome built by hand, our
 *	k= and p=, the wanted status, testing flag and a piece of the
 *	reason), record (dkim_dnscheck_record: our whole record) and parse
 *	(dkim_dnscheck_parse: one tag's value). Each row becomes one cmocka
 *	test named "<table>/<row>". Failures read "got X, want Y". No DNS:
 *	dns_test covers the queries.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dkim_dnscheck.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Two real RSA-2048 SubjectPublicKeyInfo keys and two Ed25519 keys. */
#define RSA_A1	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv3tetcsL2669hAoa6CELa+vIWWwrUQlEHK8VgRDbjL9ACRNHo1glUSVa4"
#define RSA_A2	"QqgHXMZKREU4kifWDtcTecmXACckdoFd32iag2jwfwyAo2mCoDqIaLfsp58w4ThnSeKMShLO0krjxQL81a5OCRR3WvuUOXdUWJy/tC"
#define RSA_A3	"AADK+TAY65wbpiAdzdbztjK6PSo7rLXLBxCc4txBdAmj38QLkoyzhHbMKaXGMx5HdyPs63CVwh0+db47IT2kN/FZdhawqtGVSu"
#define RSA_A4	"EdkDn5RCRsgdxNMreSBt3eTILZdrZO0MkfVp9antOITkC2jUTuChtEtiMU/7le93EkoKRhUJKrRCcgbf6DUbwIDAQAB"
#define RSA_A	RSA_A1 RSA_A2 RSA_A3 RSA_A4
#define RSA_B	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAugvFRFaKMqspzREdheY87tjV/V" \
	"NsS+7zQIL7Jo+Kj/a1dLa+xGxM0m4PtOWkXQmHgOkq1eL00kbkYE4x+x4brkWTb6fDX+t+" \
	"jnyCxYgb8QM74C83p5aEqZ9zioOleZfDt6g/e0CIPTBVLsaWgfW2HGRSyldniVr/OUh2nm" \
	"nZDHlrTyBuWnkLZpnYqnhrjrOlLUlzA+2ys7Lc6iE/18UH2H+YI1LS/f78KPYmkXsXZwib" \
	"CZn6NvUhzcliwUypN3hUU9QKXvA1tMXx4mJz3+brGhzOcIjyTVmTeBU0Yn6m6sOMMEgSF7" \
	"6Hz4sCTUosR2nzIcw8eTT7dC4z/Ctoxk08wQIDAQAB"
#define ED_A	"Zps1xPhu4tt26DlbIisCo4TEi2xcXV5uVOaNA/XJesg="
#define ED_A_NOPAD "Zps1xPhu4tt26DlbIisCo4TEi2xcXV5uVOaNA/XJesg"
#define ED_B	"QRD34Fsp8v5gypW4Dt13w2b2cm/om3lj/qJzXXNbOVA="

#define MAX_TXT	4

/*
 * Generated records.
 */

/* gen_many_tags - 65 distinct tags, one over the parser's bound */
static char *
gen_many_tags(size_t *len)
{
	size_t	cap = 65 * 12 + sizeof("p=" ED_A), n = 0;
	char	*buf = xmalloc(cap);

	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(buf + n, cap - n, "x%d=1; ", i);
	n += (size_t)snprintf(buf + n, cap - n, "p=%s", ED_A);
	*len = n;
	return buf;
}

/* gen_nul - a NUL byte inside p= (TXT data may hold NULs) */
static char *
gen_nul(size_t *len)
{
	static const char rec[] = "v=DKIM1; k=ed25519; p=Zps1xPhu\0tt26DlbIisCo4TEi2xcXV5uVOaNA/XJesg=";
	char	*buf = xmalloc(sizeof(rec));

	memcpy(buf, rec, sizeof(rec));
	*len = sizeof(rec) - 1;
	return buf;
}

/*
 * dkim_dnscheck() cases.
 */
struct check_case {
	const char	*name;
	enum dns_status	 dns;
	const char	*rec[MAX_TXT];		/* TXT records, NULL ends */
	char		*(*gen)(size_t *);	/* or one generated record */
	const char	*want_k;
	const char	*want_p;
	int		 want;
	bool		 want_testing;
	const char	*want_reason;		/* must occur in the reason */
};

static const struct check_case check_cases[] = {
	/* match */
	{"match-rsa", DNS_OK, {"v=DKIM1; k=rsa; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-rsa-k-absent", DNS_OK, {"v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "k=rsa"},
	{"match-v-absent", DNS_OK, {"k=rsa; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-p-only", DNS_OK, {"p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-ed25519", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_A}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_MATCH, false, "k=ed25519"},
	{"match-folded-p", DNS_OK,
	 {"v=DKIM1; k=rsa; p=" RSA_A1 " " RSA_A2 "\r\n\t" RSA_A3 "\t \n " RSA_A4}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-ours-folded", DNS_OK, {"v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A1 "\n " RSA_A2 RSA_A3 " " RSA_A4, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-blanks-around-tags", DNS_OK,
	 {"  v = DKIM1 ;\tk = rsa ;\r\n p = " RSA_A " ;  "}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-no-trailing-semicolon", DNS_OK, {"v=DKIM1;k=rsa;p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-unknown-tags-ignored", DNS_OK,
	 {"v=DKIM1; x_foo=bar; k=rsa; zz9=\"!~\"; p=" RSA_A "; q=whatever"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-among-other-txt", DNS_OK,
	 {"google-site-verification=abc123", "v=spf1 -all", "v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-unpadded-published", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_A_NOPAD}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-h-lists-sha256", DNS_OK, {"v=DKIM1; h=sha1 : sha256; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-s-email", DNS_OK, {"v=DKIM1; s=email; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-s-star", DNS_OK, {"v=DKIM1; s=foo:*; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-n-note", DNS_OK, {"v=DKIM1; n=rotated=2024 see wiki; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},
	{"match-t-s-not-testing", DNS_OK, {"v=DKIM1; t=s; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},

	/* t=y: testing is reported with any status that parsed the record */
	{"testing-t-y", DNS_OK, {"v=DKIM1; t=y; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, true, "testing mode (t=y)"},
	{"testing-t-s-y", DNS_OK, {"v=DKIM1; t = s : y ; p=" ED_A "; k=ed25519"}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_MATCH, true, "t=y"},
	{"testing-stale", DNS_OK, {"v=DKIM1; t=y; p=" RSA_B}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_STALE, true, "differs from ours (k=rsa); testing mode"},
	{"testing-revoked", DNS_OK, {"v=DKIM1; t=y; p="}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_REVOKED, true, "t=y"},
	{"testing-t-yes-is-not-y", DNS_OK, {"v=DKIM1; t=yes; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MATCH, false, "matches"},

	/* stale: another key is published */
	{"stale-other-rsa-key", DNS_OK, {"v=DKIM1; k=rsa; p=" RSA_B}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_STALE, false, "differs"},
	{"stale-other-ed25519-key", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_B}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_STALE, false, "differs"},
	{"stale-ed25519-published-rsa-ours", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_STALE, false, "published k=ed25519, ours is k=rsa"},
	{"stale-rsa-published-ed25519-ours", DNS_OK, {"v=DKIM1; p=" RSA_A}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_STALE, false, "published k=rsa, ours is k=ed25519"},
	{"stale-same-bytes-wrong-k", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_A}, NULL,
	 "rsa", ED_A, DKIM_DNSCHECK_STALE, false, "k=ed25519"},
	{"stale-unknown-k", DNS_OK, {"v=DKIM1; k=dsa; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_STALE, false, "published k=dsa"},

	/* revoked */
	{"revoked-empty-p", DNS_OK, {"v=DKIM1; k=rsa; p="}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_REVOKED, false, "revoked"},
	{"revoked-blank-p", DNS_OK, {"v=DKIM1; p= \t; k=rsa"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_REVOKED, false, "empty p="},
	{"revoked-other-k", DNS_OK, {"v=DKIM1; k=ed25519; p=;"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_REVOKED, false, "revoked"},

	/* missing */
	{"missing-nxdomain", DNS_NXDOMAIN, {NULL}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "NXDOMAIN"},
	{"missing-nodata", DNS_NODATA, {NULL}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "no TXT record"},
	{"missing-ok-but-empty", DNS_OK, {NULL}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "0 TXT record(s)"},
	{"missing-only-other-txt", DNS_OK, {"v=spf1 -all", "hello world", ""}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "3 TXT record(s), none"},
	{"missing-p-inside-other-tag", DNS_OK, {"keep=this; top=1", "dkim=p=x"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "none is a DKIM key record"},
	{"missing-v-not-first-no-p", DNS_OK, {"a=1; v=DKIM1"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "none"},
	{"missing-other-v-with-p", DNS_OK, {"v=spf1 p=x; p=" RSA_A, "v=DMARC1; p=reject"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MISSING, false, "2 TXT record(s), none"},

	/* malformed */
	{"malformed-two-key-records", DNS_OK,
	 {"v=DKIM1; p=" RSA_A, "v=DKIM1; p=" RSA_B}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "2 DKIM key records"},
	{"malformed-two-identical-records", DNS_OK,
	 {"v=DKIM1; p=" RSA_A, "v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "publish exactly one"},
	{"malformed-v-not-first", DNS_OK, {"k=rsa; v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "v= is not the first tag"},
	{"malformed-v-dkim2", DNS_OK, {"v=DKIM2; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "v=DKIM2 is not DKIM1"},
	{"malformed-v-dkim1-no-semicolon", DNS_OK, {"v=DKIM1 p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "not DKIM1"},
	{"malformed-v-lowercase", DNS_OK, {"v=dkim1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "not DKIM1"},
	{"malformed-v-only", DNS_OK, {"v=DKIM1; k=rsa"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "no p= tag"},
	{"malformed-bad-base64-char", DNS_OK, {"v=DKIM1; p=MIIB!IjAN"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "p= is not valid base64"},
	{"malformed-base64-extra-pad", DNS_OK, {"v=DKIM1; p=" RSA_A "="}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "base64"},
	{"malformed-base64-three-pads", DNS_OK, {"v=DKIM1; k=ed25519; p=" ED_A "=="}, NULL,
	 "ed25519", ED_A, DKIM_DNSCHECK_MALFORMED, false, "base64"},
	{"malformed-base64-pad-inside", DNS_OK, {"v=DKIM1; p=QUJD=REVG"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "base64"},
	{"malformed-base64-lone-digit", DNS_OK, {"v=DKIM1; p=" RSA_A "Q"}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "base64"},
	{"malformed-duplicate-p", DNS_OK, {"v=DKIM1; p=" RSA_A "; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "duplicate tag"},
	{"malformed-duplicate-unknown", DNS_OK, {"v=DKIM1; x=1; x=2; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "duplicate tag"},
	{"malformed-empty-tag-spec", DNS_OK, {"v=DKIM1;; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "empty tag-spec"},
	{"malformed-leading-semicolon", DNS_OK, {"; v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "empty tag-spec"},
	{"malformed-missing-equals", DNS_OK, {"v=DKIM1; k rsa; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "missing \"=\""},
	{"malformed-tag-starts-with-digit", DNS_OK, {"v=DKIM1; 1k=rsa; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "start with a letter"},
	{"malformed-non-ascii-value", DNS_OK, {"v=DKIM1; n=caf\xc3\xa9; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "invalid character"},
	{"malformed-nul-in-p", DNS_OK, {NULL}, gen_nul,
	 "ed25519", ED_A, DKIM_DNSCHECK_MALFORMED, false, "invalid character"},
	{"malformed-too-many-tags", DNS_OK, {NULL}, gen_many_tags,
	 "ed25519", ED_A, DKIM_DNSCHECK_MALFORMED, false, "too many tags"},
	{"malformed-h-sha1-only", DNS_OK, {"v=DKIM1; h=sha1; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "h=sha1 does not list sha256"},
	{"malformed-s-not-email", DNS_OK, {"v=DKIM1; s=tlsrpt; p=" RSA_A}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "s=tlsrpt excludes email"},
	{"malformed-our-k", DNS_OK, {"v=DKIM1; p=" RSA_A}, NULL,
	 "dsa", RSA_A, DKIM_DNSCHECK_MALFORMED, false, "our key: k=dsa"},
	{"malformed-our-p", DNS_OK, {"v=DKIM1; p=" RSA_A}, NULL,
	 "rsa", "not base64!", DKIM_DNSCHECK_MALFORMED, false, "our key: p="},
	{"malformed-our-p-empty", DNS_NXDOMAIN, {NULL}, NULL,
	 "rsa", "", DKIM_DNSCHECK_MALFORMED, false, "caller bug"},

	/* the query failed: nothing is known */
	{"tempfail-dns-tempfail", DNS_TEMPFAIL, {NULL}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_TEMPFAIL, false, "DNS lookup failed: timeout"},
	{"tempfail-dns-permfail", DNS_PERMFAIL, {NULL}, NULL,
	 "rsa", RSA_A, DKIM_DNSCHECK_TEMPFAIL, false, "DNS lookup failed: server says REFUSED"},
};

/* fill_dns - a dns_txt_result as dns_query_txt() would leave it */
static void
fill_dns(const struct check_case *c, struct dns_txt_result *dns)
{
	memset(dns, 0, sizeof(*dns));
	dns->status = c->dns;
	dns->rcode = c->dns == DNS_NXDOMAIN ? 3 : 0;
	dns->why = c->dns == DNS_TEMPFAIL ? "timeout"
	    : c->dns == DNS_PERMFAIL ? "server says REFUSED" : "test";
	if (c->gen != NULL) {
		dns->txt[0].data = c->gen(&dns->txt[0].len);
		dns->count = 1;
		return;
	}
	for (size_t i = 0; i < MAX_TXT && c->rec[i] != NULL; i++) {
		dns->txt[i].data = xstrdup(c->rec[i]);
		dns->txt[i].len = strlen(c->rec[i]);
		dns->count++;
	}
}

/* test_check - one check_cases row */
static void
test_check(void **state)
{
	const struct check_case *c = *state;
	struct dns_txt_result dns;
	struct dkim_dnscheck_result res;
	int	got;

	fill_dns(c, &dns);
	got = dkim_dnscheck(&dns, c->want_k, c->want_p, &res);
	dns_txt_result_clear(&dns);
	if (got != (int)res.status)
		fail_msg("%s: returned %d but out->status is %d", c->name, got, res.status);
	if (got != c->want)
		fail_msg("%s: got %s (%s), want %s", c->name, dkim_dnscheck_str(got),
			 res.reason, dkim_dnscheck_str(c->want));
	if (res.testing != c->want_testing)
		fail_msg("%s: got testing=%d, want %d (%s)", c->name, res.testing,
			 c->want_testing, res.reason);
	if (strstr(res.reason, c->want_reason) == NULL)
		fail_msg("%s: got reason \"%s\", want it to contain \"%s\"",
			 c->name, res.reason, c->want_reason);
}

/*
 * dkim_dnscheck_record() cases: our whole record instead of k= and p=.
 */
struct record_case {
	const char	*name;
	const char	*published;
	const char	*ours;
	int		 want;
};

static const struct record_case record_cases[] = {
	{"rsa-match", "v=DKIM1; k=rsa; p=" RSA_A, "v=DKIM1; k=rsa; p=" RSA_A,
	 DKIM_DNSCHECK_MATCH},
	{"ours-without-k-is-rsa", "v=DKIM1; k=rsa; p=" RSA_A, "v=DKIM1; p=" RSA_A,
	 DKIM_DNSCHECK_MATCH},
	{"ed25519-match", "v=DKIM1; k=ed25519; p=" ED_A, "v=DKIM1; k=ed25519; p=" ED_A,
	 DKIM_DNSCHECK_MATCH},
	{"ed25519-vs-rsa", "v=DKIM1; p=" RSA_A, "v=DKIM1; k=ed25519; p=" ED_A,
	 DKIM_DNSCHECK_STALE},
	{"ours-revoked", "v=DKIM1; p=" RSA_A, "v=DKIM1; p=", DKIM_DNSCHECK_MALFORMED},
	{"ours-garbage", "v=DKIM1; p=" RSA_A, ";;", DKIM_DNSCHECK_MALFORMED},
};

/* test_record - one record_cases row */
static void
test_record(void **state)
{
	const struct record_case *c = *state;
	struct dns_txt_result dns;
	struct dkim_dnscheck_result res;
	int	got;

	memset(&dns, 0, sizeof(dns));
	dns.status = DNS_OK;
	dns.count = 1;
	dns.txt[0].data = xstrdup(c->published);
	dns.txt[0].len = strlen(c->published);
	got = dkim_dnscheck_record(&dns, c->ours, &res);
	dns_txt_result_clear(&dns);
	if (got != c->want)
		fail_msg("%s: got %s (%s), want %s", c->name, dkim_dnscheck_str(got),
			 res.reason, dkim_dnscheck_str(c->want));
}

/*
 * dkim_dnscheck_parse() cases: the value one tag gets.
 */
struct parse_case {
	const char	*name;
	const char	*rec;
	int		 want_rc;
	char		 tag;			/* v h k n p s t */
	const char	*want_val;		/* NULL: tag absent */
	bool		 want_v_first;
};

static const struct parse_case parse_cases[] = {
	{"p-trailing-blanks-cut", "v=DKIM1; p=abc \t ; t=y", 0, 'p', "abc", true},
	{"p-inner-blanks-kept", "p=ab c\r\n\td", 0, 'p', "ab c\r\n\td", false},
	{"t-list", "t = y:s ;", 0, 't', "y:s", false},
	{"k-absent", "v=DKIM1; p=x", 0, 'k', NULL, true},
	{"v-late", "p=x; v=DKIM1", 0, 'v', "DKIM1", false},
	{"empty-value", "n=; p=", 0, 'n', "", false},
	{"underscore-tag-ignored", "a_b=1; h=sha256", 0, 'h', "sha256", false},
	{"value-with-equals", "n=a=b; p=x", 0, 'n', "a=b", false},
	{"empty-record", "", -1, 'p', NULL, false},
	{"blank-record", " \t ", -1, 'p', NULL, false},
	{"only-semicolon", ";", -1, 'p', NULL, false},
	{"name-without-value", "p", -1, 'p', NULL, false},
	{"control-char", "p=a\001b", -1, 'p', NULL, false},
};

/* parse_slot - the struct member a tag letter names */
static const struct dkim_dnscheck_tag *
parse_slot(const struct dkim_dnscheck_keyrec *kr, char tag)
{
	switch (tag) {
	case 'v': return &kr->v;
	case 'h': return &kr->h;
	case 'k': return &kr->k;
	case 'n': return &kr->n;
	case 's': return &kr->s;
	case 't': return &kr->t;
	default: return &kr->p;
	}
}

/* test_parse - one parse_cases row */
static void
test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct dkim_dnscheck_keyrec kr;
	const struct dkim_dnscheck_tag *t;
	const char *why = NULL;
	int	rc;

	rc = dkim_dnscheck_parse(c->rec, strlen(c->rec), &kr, &why);
	if (rc != c->want_rc)
		fail_msg("%s: got rc %d (%s), want %d", c->name, rc,
			 why != NULL ? why : "-", c->want_rc);
	if (rc < 0) {
		if (why == NULL)
			fail_msg("%s: got no reason for the error", c->name);
		return;
	}
	t = parse_slot(&kr, c->tag);
	if (c->want_val == NULL) {
		if (t->val != NULL)
			fail_msg("%s: got %c=\"%.*s\", want absent", c->name, c->tag,
				 (int)t->len, t->val);
	} else if (t->val == NULL) {
		fail_msg("%s: got %c= absent, want \"%s\"", c->name, c->tag, c->want_val);
	} else if (t->len != strlen(c->want_val)
		   || memcmp(t->val, c->want_val, t->len) != 0) {
		fail_msg("%s: got %c=\"%.*s\", want \"%s\"", c->name, c->tag,
			 (int)t->len, t->val, c->want_val);
	}
	if (kr.v_first != c->want_v_first)
		fail_msg("%s: got v_first=%d, want %d", c->name, kr.v_first,
			 c->want_v_first);
}

/* test_status_str - every status has a name */
static void
test_status_str(void **state)
{
	(void)state;
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_MATCH), "match");
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_MISSING), "missing");
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_STALE), "stale");
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_REVOKED), "revoked");
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_MALFORMED), "malformed");
	assert_string_equal(dkim_dnscheck_str(DKIM_DNSCHECK_TEMPFAIL), "tempfail");
}

/* add_tests - one cmocka test per table row */
static size_t
add_tests(struct CMUnitTest *t, size_t n, const char *table,
	  CMUnitTestFunction fn, const void *rows, size_t rowsize,
	  size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const void *row = (const char *)rows + i * rowsize;
		/* Every row struct starts with its name. */
		const char *name = *(const char *const *)row;

		t[n].name = xasprintf("%s/%s", table, name);
		t[n].test_func = fn;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *)(uintptr_t)row;
		n++;
	}
	return n;
}

int
main(void)
{
	size_t	total = NELEM(check_cases) + NELEM(record_cases)
	    + NELEM(parse_cases) + 1;
	struct CMUnitTest *t = xcalloc(total, sizeof(*t));
	size_t	n = 0;
	int	rc;

	n = add_tests(t, n, "check", test_check, check_cases,
		      sizeof(check_cases[0]), NELEM(check_cases));
	n = add_tests(t, n, "record", test_record, record_cases,
		      sizeof(record_cases[0]), NELEM(record_cases));
	n = add_tests(t, n, "parse", test_parse, parse_cases,
		      sizeof(parse_cases[0]), NELEM(parse_cases));
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_status_str);
	rc = _cmocka_run_group_tests("dkim_dnscheck", t, n, NULL, NULL);
	for (size_t i = 0; i < n - 1; i++)
		free((char *)t[i].name);
	free(t);
	return rc;
}
