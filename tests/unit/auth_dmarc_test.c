/*++
 * NAME
 *	auth_dmarc_test 1
 * SUMMARY
 *	unit tests of DMARC (milters/auth/auth_dmarc*.c, auth_psl.c)
 * DESCRIPTION
 *	The record parser over a table of TXT texts; the tree-walk targets;
 *	organizational domains and whole evaluations against a fixed zone
 *	served by a table-driven lookup function (which also counts the
 *	queries, so the 8-name bound and the cache are checked); the PSL
 *	method against Debian's list (skipped when the publicsuffix
 *	package is missing). DNS against a real server is covered end to
 *	end (tests/e2e/test_auth.py).
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tcase.h"
#include "errlist.h"
#include "xalloc.h"
#include "../../milters/auth/auth_dmarc.h"
#include "../../milters/auth/auth_dmarc_record.h"
#include "../../milters/auth/auth_psl.h"

/* rec_str - a record in one line, for comparisons */
static void
rec_str(const struct auth_dmarc_record *r, char *buf, size_t size)
{
	snprintf(buf, size, "p=%s sp=%s np=%s psd=%c t=%d adkim=%c aspf=%c given=%d%s%s",
		 auth_dmarc_p_name(r->p), auth_dmarc_p_name(r->sp),
		 auth_dmarc_p_name(r->np), r->psd, r->testing,
		 r->adkim_strict ? 's' : 'r', r->aspf_strict ? 's' : 'r', r->p_given,
		 r->policy_invalid ? " invalid" : "", r->rua_valid ? " rua" : "");
}

static void
test_record(void **state)
{
	static const struct {
		const char *name, *in;
		enum auth_dmarc_rec_status want;
		const char *want_rec;
	} cases[] = {
		{"minimal", "v=DMARC1; p=reject", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"all tags", "v=DMARC1;p=quarantine;sp=none;np=reject;psd=n;t=y;adkim=s;aspf=s;"
		 "rua=mailto:a@example.com;pct=10;ri=60;rf=afrf;fo=1", AUTH_DMARC_REC_OK,
		 "p=quarantine sp=none np=reject psd=n t=1 adkim=s aspf=s given=1 rua"},
		{"spaces and case", "  v = DMARC1 ;  P = Reject ; SP=QUARANTINE ; psd = Y ",
		 AUTH_DMARC_REC_OK, "p=reject sp=quarantine np=unset psd=y t=0 adkim=r aspf=r given=1"},
		{"no p", "v=DMARC1; rua=mailto:x@example.com", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0 rua"},
		{"bad p", "v=DMARC1; p=bogus; sp=reject", AUTH_DMARC_REC_OK,
		 "p=none sp=reject np=unset psd=u t=0 adkim=r aspf=r given=0 invalid"},
		{"bad sp", "v=DMARC1; p=reject; sp=rejectt", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1 invalid"},
		{"bad np", "v=DMARC1; p=reject; np=", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1 invalid"},
		{"bad then good p", "v=DMARC1; p=x; p=reject", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"bad p, valid rua", "v=DMARC1; p=rejec; rua=mailto:d@example.com",
		 AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0 invalid rua"},
		{"rua list, one valid", "v=DMARC1; rua=bogus, mailto:d@example.com!10m",
		 AUTH_DMARC_REC_OK, "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0 rua"},
		{"rua invalid", "v=DMARC1; p=x; rua=d@example.com, mailto:, 1x:y, ma%il:x, "
		 "mailto:a b", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0 invalid"},
		{"rua bad escape", "v=DMARC1; rua=mailto:a%2", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0"},
		{"rua https", "v=DMARC1; rua=https://r.example.com/x%20y?a=b", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0 rua"},
		{"bad values ignored", "v=DMARC1; p=reject; adkim=x; aspf=; t=maybe; psd=q",
		 AUTH_DMARC_REC_OK, "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"first value wins", "v=DMARC1; p=none; p=reject", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"pct ignored", "v=DMARC1; p=reject; pct=0", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"garbage tag", "v=DMARC1; p=reject; ;;; junk; =x", AUTH_DMARC_REC_OK,
		 "p=reject sp=unset np=unset psd=u t=0 adkim=r aspf=r given=1"},
		{"v not first", "p=reject; v=DMARC1", AUTH_DMARC_REC_NOT, ""},
		{"v lowercase value", "v=dmarc1; p=reject", AUTH_DMARC_REC_NOT, ""},
		{"spf record", "v=spf1 -all", AUTH_DMARC_REC_NOT, ""},
		{"empty", "", AUTH_DMARC_REC_NOT, ""},
		{"v only", "v=DMARC1", AUTH_DMARC_REC_OK,
		 "p=none sp=unset np=unset psd=u t=0 adkim=r aspf=r given=0"},
		{"DMARC10", "v=DMARC10; p=reject", AUTH_DMARC_REC_NOT, ""},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_dmarc_record r;
		char got[200];
		const char *why;
		size_t len = strlen(cases[i].in);
		char *in = malloc(len ? len : 1);
		enum auth_dmarc_rec_status st;

		memcpy(in, cases[i].in, len);
		st = auth_dmarc_record_parse(in, len, &r, &why);
		if (st != cases[i].want) {
			tcase_bad(cases[i].name, "got status %d (%s), want %d", st,
				  why ? why : "-", cases[i].want);
		} else if (st == AUTH_DMARC_REC_OK) {
			rec_str(&r, got, sizeof(got));
			if (strcmp(got, cases[i].want_rec) != 0)
				tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", got,
					  cases[i].want_rec);
		}
		free(in);
	}
	tcase_done();
}

static void
test_walk_names(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"example.com", "example.com com"},
		{"a.b.example.com", "a.b.example.com b.example.com example.com com"},
		{"1.2.3.4.5.6.7.8.example.com",
		 "1.2.3.4.5.6.7.8.example.com 4.5.6.7.8.example.com 5.6.7.8.example.com "
		 "6.7.8.example.com 7.8.example.com 8.example.com example.com com"},
		{"com", "com"},
		{"", ""},
	};
	size_t i, k, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *names[AUTH_DMARC_WALK_MAX];
		char got[512];
		size_t g = 0;

		got[0] = '\0';
		n = auth_dmarc_walk_names(cases[i].in, names, AUTH_DMARC_WALK_MAX);
		for (k = 0; k < n; k++)
			g += snprintf(got + g, sizeof(got) - g, "%s%s", k ? " " : "", names[k]);
		if (strcmp(got, cases[i].want) != 0 || n > AUTH_DMARC_WALK_MAX)
			tcase_bad(cases[i].in, "got \"%s\", want \"%s\"", got, cases[i].want);
	}
	tcase_done();
}

/*
 * A fixed zone. Names not listed are NXDOMAIN when under "nx." or
 * "gone.", else NODATA. "TEMP" makes a SERVFAIL-like tempfail.
 */
static const struct {
	const char *name, *txt1, *txt2;
} zone[] = {
	{"_dmarc.example.test", "v=DMARC1; p=reject; sp=quarantine; np=reject", NULL},
	{"_dmarc.strict.test", "v=DMARC1; p=reject; adkim=s; aspf=s", NULL},
	{"_dmarc.testing.test", "v=DMARC1; p=reject; t=y", NULL},
	{"_dmarc.qtesting.test", "v=DMARC1; p=quarantine; t=y", NULL},
	{"_dmarc.test", "v=DMARC1; p=none; psd=y", NULL},
	{"_dmarc.psd", "v=DMARC1; p=reject; psd=y", NULL},
	{"_dmarc.org.psd", "v=spf1 -all", NULL},
	{"_dmarc.dept.bigorg.test", "v=DMARC1; p=quarantine; psd=n", NULL},
	{"_dmarc.bigorg.test", "v=DMARC1; p=reject", NULL},
	{"_dmarc.two.test", "v=DMARC1; p=reject", "v=DMARC1; p=none"},
	/* issue 15: a record between the Author and Organizational Domains */
	{"_dmarc.mail.mid.test", "v=DMARC1; p=reject", NULL},
	{"_dmarc.mid.test", "v=DMARC1; p=none", NULL},
	/* several records at the Author Domain: discarded, the walk goes on */
	{"_dmarc.two.par.test", "v=DMARC1; p=none", "v=DMARC1; p=none; t=y"},
	{"_dmarc.par.test", "v=DMARC1; p=reject", NULL},
	/* invalid p, with and without a valid rua */
	{"_dmarc.badp.test", "v=DMARC1; p=rejekt", NULL},
	{"_dmarc.badprua.test", "v=DMARC1; p=rejekt; rua=mailto:d@badprua.test", NULL},
	{"_dmarc.badsp.test", "v=DMARC1; p=reject; sp=nope", NULL},
	/* psd=y at the start of the walk stops it there */
	{"_dmarc.bank.psd2", "v=DMARC1; p=quarantine; psd=y", NULL},
	{"_dmarc.psd2", "v=DMARC1; p=reject", NULL},
	{"_dmarc.temp.test", "TEMP", NULL},
	{"_dmarc.x.tempalign.test", "TEMP", NULL},
	{"_dmarc.tempalign.test", "v=DMARC1; p=reject", NULL},
	{"_dmarc.nonp.test", "v=DMARC1; p=reject; sp=none", NULL},
	{"gone.example.test", "NX", NULL},
	{"gone.nonp.test", "NX", NULL},
	{"sub.example.test", "NODATA", NULL},
};

static unsigned zone_queries;

/* zone_txt - the table as a TXT lookup */
static int
zone_txt(void *arg, const char *name, struct dns_txt_result *out)
{
	size_t i;

	zone_queries++;
	memset(out, 0, sizeof(*out));
	out->status = DNS_NODATA;
	for (i = 0; i < sizeof(zone) / sizeof(zone[0]); i++) {
		if (strcmp(zone[i].name, name) != 0)
			continue;
		if (strcmp(zone[i].txt1, "TEMP") == 0) {
			out->status = DNS_TEMPFAIL;
			return out->status;
		}
		if (strcmp(zone[i].txt1, "NX") == 0) {
			out->status = DNS_NXDOMAIN;
			return out->status;
		}
		if (strcmp(zone[i].txt1, "NODATA") == 0)
			return out->status;
		out->status = DNS_OK;
		out->txt[0].data = xstrdup(zone[i].txt1);
		out->txt[0].len = strlen(zone[i].txt1);
		out->count = 1;
		if (zone[i].txt2 != NULL) {
			out->txt[1].data = xstrdup(zone[i].txt2);
			out->txt[1].len = strlen(zone[i].txt2);
			out->count = 2;
		}
		return out->status;
	}
	return out->status;
}

static void
test_org_domain(void **state)
{
	static const struct {
		const char *in, *want;
		unsigned want_queries;
	} cases[] = {
		{"example.test", "example.test", 2},
		{"a.b.example.test", "example.test", 4},
		{"dept.bigorg.test", "dept.bigorg.test", 1},	/* psd=n stops */
		{"x.dept.bigorg.test", "dept.bigorg.test", 2},
		{"org.psd", "org.psd", 2},			/* psd=y above */
		{"a.org.psd", "org.psd", 3},
		{"psd", "psd", 1},				/* psd=y at the start */
		{"bank.psd2", "bank.psd2", 1},		/* stops, psd2 not asked */
		{"x.mail.mid.test", "mid.test", 4},
		{"two.par.test", "par.test", 3},		/* two discarded */
		{"nothing.invalid", "nothing.invalid", 2},
		{"1.2.3.4.5.6.7.8.9.example.test", "example.test", 8},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_dmarc_ctx c;
		char org[256];

		auth_dmarc_ctx_init(&c, zone_txt, NULL, AUTH_DMARC_ORG_TREE_WALK, NULL, 20);
		zone_queries = 0;
		if (auth_dmarc_org_domain(&c, cases[i].in, org, sizeof(org)) < 0)
			tcase_bad(cases[i].in, "got temperror");
		else if (strcmp(org, cases[i].want) != 0)
			tcase_bad(cases[i].in, "got \"%s\", want \"%s\"", org, cases[i].want);
		else if (zone_queries != cases[i].want_queries)
			tcase_bad(cases[i].in, "got %u queries, want %u", zone_queries,
				  cases[i].want_queries);
		auth_dmarc_ctx_clear(&c);
	}
	tcase_done();
}

static void
test_evaluate(void **state)
{
	static const struct {
		const char *name, *from, *spf;
		int spf_pass;
		const char *dkim1, *dkim2;
		unsigned budget;
		enum auth_dmarc_res want;
		enum auth_dmarc_p want_policy;
		const char *want_record, *want_why;
	} cases[] = {
		{"spf aligned exact", "example.test", "example.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "example.test", "aligned SPF pass"},
		{"spf relaxed", "example.test", "bounce.example.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "example.test", "aligned SPF pass"},
		{"spf not passing", "example.test", "example.test", 0, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "example.test", NULL},
		{"dkim only", "example.test", "other.test", 1, "mail.example.test", NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "example.test", "aligned DKIM pass"},
		{"dkim second", "example.test", NULL, 0, "evil.test", "example.test", 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "example.test", "aligned DKIM pass"},
		{"unaligned", "example.test", "evil.test", 1, "evil.test", NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "example.test", NULL},
		{"strict rejects relaxed", "strict.test", "mail.strict.test", 1,
		 "mail.strict.test", NULL, 20, AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT,
		 "strict.test", NULL},
		{"strict exact", "strict.test", "strict.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "strict.test", NULL},
		{"subdomain sp", "sub.example.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_QUARANTINE, "example.test", NULL},
		{"subdomain relaxed to parent", "sub.example.test", "example.test", 1, NULL,
		 NULL, 20, AUTH_DMARC_PASS, AUTH_DMARC_P_QUARANTINE, "example.test", NULL},
		{"np nonexistent", "gone.example.test", NULL, 0, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "example.test", NULL},
		{"no np: sp", "gone.nonp.test", NULL, 0, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_NONE, "nonp.test", NULL},
		{"tree walk above org", "a.b.c.bigorg.test", "bigorg.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "bigorg.test", NULL},
		{"psd=n org boundary", "x.dept.bigorg.test", "bigorg.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_QUARANTINE, "dept.bigorg.test", NULL},
		{"psd record policy", "org.psd", "org.psd", 0, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "psd", NULL},
		{"psd siblings unaligned", "a.org.psd", "other.psd", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "psd", NULL},
		{"psd same org aligned", "a.org.psd", "b.org.psd", 1, NULL, NULL, 20,
		 AUTH_DMARC_PASS, AUTH_DMARC_P_REJECT, "psd", NULL},
		{"none", "nothing.invalid", "nothing.invalid", 1, NULL, NULL, 20,
		 AUTH_DMARC_NONE, AUTH_DMARC_P_NONE, "", "no DMARC record"},
		{"two records: the PSD's", "two.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_NONE, "test", NULL},
		{"two records, parent applies", "two.par.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "par.test", NULL},
		{"intermediate record not the policy", "x.mail.mid.test", "evil.test", 1, NULL,
		 NULL, 20, AUTH_DMARC_FAIL, AUTH_DMARC_P_NONE, "mid.test", NULL},
		{"intermediate's own mail", "mail.mid.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "mail.mid.test", NULL},
		{"intermediate, aligned with org", "x.mail.mid.test", "mid.test", 1, NULL,
		 NULL, 20, AUTH_DMARC_PASS, AUTH_DMARC_P_NONE, "mid.test", NULL},
		{"deep tree walk B.4.2", "a.b.c.d.e.f.g.h.i.j.k.example.test", "evil.test", 1,
		 NULL, NULL, 20, AUTH_DMARC_FAIL, AUTH_DMARC_P_QUARANTINE, "example.test", NULL},
		{"invalid p, no rua: none", "badp.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_NONE, AUTH_DMARC_P_NONE, "badp.test",
		 "DMARC record without a valid policy or rua"},
		{"invalid p, rua: p=none", "badprua.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_NONE, "badprua.test", NULL},
		{"invalid sp, no rua: none", "badsp.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_NONE, AUTH_DMARC_P_NONE, "badsp.test", NULL},
		{"invalid p at org, subdomain", "x.badp.test", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_NONE, AUTH_DMARC_P_NONE, "badp.test", NULL},
		{"psd=y at start", "bank.psd2", "evil.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_QUARANTINE, "bank.psd2", NULL},
		{"temp in discovery", "temp.test", "temp.test", 1, NULL, NULL, 20,
		 AUTH_DMARC_TEMPERROR, AUTH_DMARC_P_NONE, "", NULL},
		{"temp in alignment", "tempalign.test", NULL, 0, "x.tempalign.test", NULL, 20,
		 AUTH_DMARC_TEMPERROR, AUTH_DMARC_P_REJECT, "tempalign.test", NULL},
		{"budget spent on dkim", "example.test", NULL, 0,
		 "a.b.c.d.e.f.g.example.test", NULL, 3, AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT,
		 "example.test", NULL},
		{"testing kept", "testing.test", NULL, 0, NULL, NULL, 20,
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "testing.test", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_dmarc_ctx c;
		struct auth_dmarc_input in = {0};
		struct auth_dmarc_result r;

		in.from_domain = cases[i].from;
		in.spf_domain = cases[i].spf;
		in.spf_pass = cases[i].spf_pass;
		if (cases[i].dkim1)
			in.dkim_domains[in.ndkim++] = cases[i].dkim1;
		if (cases[i].dkim2)
			in.dkim_domains[in.ndkim++] = cases[i].dkim2;
		auth_dmarc_ctx_init(&c, zone_txt, NULL, AUTH_DMARC_ORG_TREE_WALK, NULL,
				    cases[i].budget);
		zone_queries = 0;
		auth_dmarc_evaluate(&c, &in, &r);
		if (r.res != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  auth_dmarc_res_name(r.res), r.why ? r.why : "-",
				  auth_dmarc_res_name(cases[i].want));
		else if (r.policy != cases[i].want_policy)
			tcase_bad(cases[i].name, "got policy %s, want %s",
				  auth_dmarc_p_name(r.policy),
				  auth_dmarc_p_name(cases[i].want_policy));
		else if (strcmp(r.record_domain, cases[i].want_record) != 0)
			tcase_bad(cases[i].name, "got record at \"%s\", want \"%s\"",
				  r.record_domain, cases[i].want_record);
		else if (cases[i].want_why && strcmp(r.why, cases[i].want_why) != 0)
			tcase_bad(cases[i].name, "got why \"%s\", want \"%s\"", r.why,
				  cases[i].want_why);
		else if (zone_queries > cases[i].budget)
			tcase_bad(cases[i].name, "got %u queries over budget %u",
				  zone_queries, cases[i].budget);
		auth_dmarc_ctx_clear(&c);
	}
	tcase_done();
}

/* test_spf_temperror - an SPF temperror that could have aligned */
static void
test_spf_temperror(void **state)
{
	static const struct {
		const char *name, *from, *spf, *dkim;
		enum auth_dmarc_res want;
	} cases[] = {
		{"aligned temperror", "example.test", "example.test", NULL, AUTH_DMARC_TEMPERROR},
		{"relaxed temperror", "example.test", "bounce.example.test", NULL,
		 AUTH_DMARC_TEMPERROR},
		{"strict: relaxed cannot align", "strict.test", "mail.strict.test", NULL,
		 AUTH_DMARC_FAIL},
		{"unaligned temperror", "example.test", "evil.test", NULL, AUTH_DMARC_FAIL},
		{"dkim aligned anyway", "example.test", "example.test", "example.test",
		 AUTH_DMARC_PASS},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_dmarc_ctx c;
		struct auth_dmarc_input in = {0};
		struct auth_dmarc_result r;

		in.from_domain = cases[i].from;
		in.spf_domain = cases[i].spf;
		in.spf_temperror = true;
		if (cases[i].dkim)
			in.dkim_domains[in.ndkim++] = cases[i].dkim;
		auth_dmarc_ctx_init(&c, zone_txt, NULL, AUTH_DMARC_ORG_TREE_WALK, NULL, 20);
		auth_dmarc_evaluate(&c, &in, &r);
		if (r.res != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  auth_dmarc_res_name(r.res), r.why ? r.why : "-",
				  auth_dmarc_res_name(cases[i].want));
		auth_dmarc_ctx_clear(&c);
	}
	tcase_done();
}

/* test_cache - the From walk and alignment walks ask each name once */
static void
test_cache(void **state)
{
	struct auth_dmarc_ctx c;
	struct auth_dmarc_input in = {0};
	struct auth_dmarc_result r;

	in.from_domain = "a.b.example.test";
	in.spf_domain = "c.b.example.test";
	in.spf_pass = true;
	auth_dmarc_ctx_init(&c, zone_txt, NULL, AUTH_DMARC_ORG_TREE_WALK, NULL, 20);
	zone_queries = 0;
	auth_dmarc_evaluate(&c, &in, &r);
	/*
	 * _dmarc. a.b.example.test b.example.test example.test test, the np
	 * existence check of a.b.example.test, then _dmarc.c.b.example.test:
	 * the alignment walk finds the rest in the cache.
	 */
	if (r.res != AUTH_DMARC_PASS || zone_queries != 6)
		tcase_bad("cache", "got %s after %u queries, want pass after 6",
			  auth_dmarc_res_name(r.res), zone_queries);
	auth_dmarc_ctx_clear(&c);
	tcase_done();
}

static void
test_psl(void **state)
{
	static const char *path = "/usr/share/publicsuffix/public_suffix_list.dat";
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"example.com", "example.com"},
		{"a.b.example.com", "example.com"},
		{"a.example.co.uk", "example.co.uk"},
		{"co.uk", "co.uk"},
		{"com", "com"},
		{"a.b.foo.ck", "b.foo.ck"},		/* *.ck */
		{"a.www.ck", "www.ck"},			/* !www.ck */
		{"sub.example.test", "example.test"},	/* implicit "*" */
		{"x.blogspot.com", "x.blogspot.com"},
		{"a.xn--fiqs8s", "a.xn--fiqs8s"},	/* IDN rule converted */
	};
	struct errlist el = {0};
	struct auth_psl *psl;
	size_t i;

	if (access(path, R_OK) != 0)
		skip();
	psl = auth_psl_load(path, &el);
	assert_non_null(psl);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char org[256];

		if (auth_psl_org_domain(psl, cases[i].in, org, sizeof(org)) < 0
		    || strcmp(org, cases[i].want) != 0)
			tcase_bad(cases[i].in, "got \"%s\", want \"%s\"", org, cases[i].want);
	}
	auth_psl_free(psl);
	psl = auth_psl_load("/nonexistent/psl.dat", &el);
	if (psl != NULL || el.count == 0)
		tcase_bad("missing file", "got a list or no error");
	errlist_free(&el);
	tcase_done();
}

/*
 * test_evaluate_psl - auth_dmarc_org_domain = psl: the Organizational
 * Domain from the list (libpsl), the rest of RFC 9989 4.10.1 unchanged:
 * the Author Domain's record, else the Organizational Domain's; no PSD
 * step and never a record between the two
 */
static void
test_evaluate_psl(void **state)
{
	static const char *path = "tests/unit/data/psl/list.dat";
	static const struct {
		const char *name, *from, *spf;
		enum auth_dmarc_res want;
		enum auth_dmarc_p want_policy;
		const char *want_record, *want_org;
		unsigned max_queries;
	} cases[] = {
		{"own record", "example.test", "evil.test", AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, "example.test", "example.test", 1},
		{"org record, sp", "a.b.example.test", "evil.test", AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_QUARANTINE, "example.test", "example.test", 3},
		{"relaxed by the list", "a.b.example.test", "c.example.test", AUTH_DMARC_PASS,
		 AUTH_DMARC_P_QUARANTINE, "example.test", "example.test", 3},
		{"intermediate record skipped", "x.mail.mid.test", "evil.test", AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_NONE, "mid.test", "mid.test", 3},
		{"several records discarded", "two.par.test", "evil.test", AUTH_DMARC_FAIL,
		 AUTH_DMARC_P_REJECT, "par.test", "par.test", 3},
		{"no PSD step", "a.org.psd", "evil.test", AUTH_DMARC_NONE,
		 AUTH_DMARC_P_NONE, "", "org.psd", 2},
		{"psd=n ignored, the list decides", "x.dept.bigorg.test", "evil.test",
		 AUTH_DMARC_FAIL, AUTH_DMARC_P_REJECT, "bigorg.test", "bigorg.test", 3},
		{"wildcard rule", "a.b.x.wild", "evil.test", AUTH_DMARC_NONE,
		 AUTH_DMARC_P_NONE, "", "b.x.wild", 2},
		{"exception rule", "a.ok.wild", "evil.test", AUTH_DMARC_NONE,
		 AUTH_DMARC_P_NONE, "", "ok.wild", 2},
	};
	struct errlist el = {0};
	struct auth_psl *psl;
	size_t i;

	(void)state;
	psl = auth_psl_load(path, &el);
	assert_non_null(psl);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_dmarc_ctx c;
		struct auth_dmarc_input in = {0};
		struct auth_dmarc_result r;

		in.from_domain = cases[i].from;
		in.spf_domain = cases[i].spf;
		in.spf_pass = true;
		auth_dmarc_ctx_init(&c, zone_txt, NULL, AUTH_DMARC_ORG_PSL, psl, 20);
		zone_queries = 0;
		auth_dmarc_evaluate(&c, &in, &r);
		if (r.res != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  auth_dmarc_res_name(r.res), r.why ? r.why : "-",
				  auth_dmarc_res_name(cases[i].want));
		else if (r.policy != cases[i].want_policy)
			tcase_bad(cases[i].name, "got policy %s, want %s",
				  auth_dmarc_p_name(r.policy),
				  auth_dmarc_p_name(cases[i].want_policy));
		else if (strcmp(r.record_domain, cases[i].want_record) != 0)
			tcase_bad(cases[i].name, "got record at \"%s\", want \"%s\"",
				  r.record_domain, cases[i].want_record);
		else if (strcmp(r.org_domain, cases[i].want_org) != 0)
			tcase_bad(cases[i].name, "got org \"%s\", want \"%s\"",
				  r.org_domain, cases[i].want_org);
		else if (zone_queries > cases[i].max_queries)
			tcase_bad(cases[i].name, "got %u queries, want at most %u",
				  zone_queries, cases[i].max_queries);
		auth_dmarc_ctx_clear(&c);
	}
	auth_psl_free(psl);
	/* a file libpsl reads as holding no rule */
	psl = auth_psl_load("tests/unit/data/psl/empty.dat", &el);
	if (psl != NULL || el.count == 0)
		tcase_bad("no rules", "got a list or no error");
	psl = auth_psl_free(psl);
	errlist_free(&el);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_walk_names),
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_evaluate),
		cmocka_unit_test(test_spf_temperror),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_psl),
		cmocka_unit_test(test_evaluate_psl),
	};

	return cmocka_run_group_tests_name("auth_dmarc", tests, NULL, NULL);
}
