/*++
 * NAME
 *	spf_record_test 1
 * SUMMARY
 *	unit tests for the SPF record parser (common/spf_record.c)
 * DESCRIPTION
 *	One table of records (RFC 7208 4.5, 4.6, 5, 6 and 12): accepted ones
 *	with a digest of what was parsed ("+a/32//-1 -all r=x e=y"), and
 *	rejected ones, each of which makes evaluation a permerror. Then
 *	record selection (spf_record_is_spf), the bounds, and that the
 *	parser never reads past len.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spf_record.h"
#include "tcase.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct rec_case {
	const char	*name;
	const char	*rec;
	const char	*want;		/* digest; NULL: permerror */
};

static const struct rec_case cases[] = {
	{"empty record", "v=spf1", ""},
	{"version case-insensitive (4.5)", "V=SpF1 -ALL", "-all"},
	{"several spaces", "v=spf1   a    -all  ", "+a/-1//-1 -all"},
	{"qualifiers", "v=spf1 +a ?mx ~ptr -all", "+a/-1//-1 ?mx/-1//-1 ~ptr -all"},
	{"mechanism case", "v=spf1 A:Example.COM MX IP4:192.0.2.1 All",
	 "+a:Example.COM/-1//-1 +mx/-1//-1 +ip4/32 +all"},
	{"a/0 (5.3)", "v=spf1 a/0 -all", "+a/0//-1 -all"},
	{"a//0", "v=spf1 a//0", "+a/-1//0"},
	{"a dual cidr", "v=spf1 a:x.example/24//64", "+a:x.example/24//64"},
	{"mx dual cidr", "v=spf1 mx/30//126", "+mx/30//126"},
	{"a cidr 33", "v=spf1 a/33", NULL},
	{"a cidr6 129", "v=spf1 a//129", NULL},
	{"cidr leading zero", "v=spf1 a/032", NULL},
	{"cidr empty", "v=spf1 a/", NULL},
	{"cidr huge", "v=spf1 a/99999999999999999999", NULL},
	{"triple slash", "v=spf1 a///64", NULL},
	{"ip4", "v=spf1 ip4:192.0.2.0/24", "+ip4/24"},
	{"ip4 /0", "v=spf1 ip4:0.0.0.0/0", "+ip4/0"},
	{"ip4 bad", "v=spf1 ip4:192.0.2.256", NULL},
	{"ip4 leading zero", "v=spf1 ip4:1.2.03.4", NULL},
	{"ip4 short", "v=spf1 ip4:1.2.3", NULL},
	{"ip4 no address", "v=spf1 ip4", NULL},
	{"ip4 empty", "v=spf1 ip4:", NULL},
	{"ip4 cidr 33", "v=spf1 ip4:192.0.2.0/33", NULL},
	{"ip4 dual cidr", "v=spf1 ip4:192.0.2.0//64", NULL},
	{"ip4 with IPv6", "v=spf1 ip4:2001:db8::1", NULL},
	{"ip6", "v=spf1 ip6:2001:db8::/32", "+ip6/32"},
	{"ip6 full", "v=spf1 ip6:2001:db8:0:0:0:0:0:1", "+ip6/128"},
	{"ip6 ::", "v=spf1 ip6:::/0", "+ip6/0"},
	{"ip6 ::1", "v=spf1 ip6:::1", "+ip6/128"},
	{"ip6 v4 embedded", "v=spf1 ip6:::ffff:192.0.2.1", "+ip6/128"},
	{"ip6 cidr 128", "v=spf1 ip6:2001:db8::1/128", "+ip6/128"},
	{"ip6 cidr 129", "v=spf1 ip6:2001:db8::1/129", NULL},
	{"ip6 dual cidr", "v=spf1 ip6:2001:db8:://64", NULL},
	{"ip6 bad", "v=spf1 ip6:2001:db8:::1", NULL},
	{"ip6 with IPv4", "v=spf1 ip6:192.0.2.1", NULL},
	{"ip6 zone id", "v=spf1 ip6:fe80::1%eth0", NULL},
	{"all with argument", "v=spf1 all:x.example", NULL},
	{"all with cidr", "v=spf1 all/24", NULL},
	{"include", "v=spf1 include:_spf.example.com -all",
	 "+include:_spf.example.com -all"},
	{"include without domain", "v=spf1 include", NULL},
	{"include empty domain", "v=spf1 include:", NULL},
	{"include cidr", "v=spf1 include:x.example/24", NULL},
	{"exists", "v=spf1 exists:%{i}.bl.example.org", "+exists:%{i}.bl.example.org"},
	{"exists without domain", "v=spf1 exists", NULL},
	{"ptr", "v=spf1 ptr ptr:example.org", "+ptr +ptr:example.org"},
	{"ptr cidr", "v=spf1 ptr/24", NULL},
	{"a empty domain", "v=spf1 a:", NULL},
	{"unknown mechanism", "v=spf1 foo -all", NULL},
	{"mechanism typo", "v=spf1 ip:192.0.2.1", NULL},
	{"qualifier alone", "v=spf1 -", NULL},
	{"two qualifiers", "v=spf1 -?all", NULL},
	{"comma separated", "v=spf1 a,-all", NULL},
	{"domain-spec: only toplabel", "v=spf1 a:museum", NULL},
	{"domain-spec: toplabel with dot", "v=spf1 a:museum.", NULL},
	{"domain-spec: numeric toplabel", "v=spf1 a:foo.example.123", NULL},
	{"domain-spec: IP address", "v=spf1 a:192.0.2.1", NULL},
	{"domain-spec: dash toplabel", "v=spf1 a:foo.example.xn--zz", "+a:foo.example.xn--zz/-1//-1"},
	{"domain-spec: digits-dash toplabel", "v=spf1 a:foo.1-2", "+a:foo.1-2/-1//-1"},
	{"domain-spec: leading dash toplabel", "v=spf1 a:foo.-com", NULL},
	{"domain-spec: trailing dash toplabel", "v=spf1 a:foo.com-", NULL},
	{"domain-spec: trailing dot", "v=spf1 a:foo.example.com.", "+a:foo.example.com./-1//-1"},
	{"domain-spec: colon inside", "v=spf1 a:foo:bar/baz.example.com",
	 "+a:foo:bar/baz.example.com/-1//-1"},
	{"domain-spec: port", "v=spf1 a:example.com:8080", NULL},
	{"domain-spec: ends in macro", "v=spf1 a:%{d}", "+a:%{d}/-1//-1"},
	{"domain-spec: ends in %%", "v=spf1 a:x.%%", "+a:x.%%/-1//-1"},
	{"domain-spec: bad macro", "v=spf1 a:%{x}.example.com", NULL},
	{"domain-spec: c macro", "v=spf1 exists:%{c}.example.com", NULL},
	{"redirect", "v=spf1 redirect=_spf.example.com", "r=_spf.example.com"},
	{"redirect case", "v=spf1 ReDiReCt=_spf.example.com", "r=_spf.example.com"},
	{"redirect twice (6)", "v=spf1 redirect=a.example redirect=b.example", NULL},
	{"redirect empty", "v=spf1 redirect=", NULL},
	{"redirect bad domain", "v=spf1 redirect=nodots", NULL},
	{"exp", "v=spf1 -all exp=explain.%{d}", "-all e=explain.%{d}"},
	{"exp twice (6)", "v=spf1 exp=a.example exp=b.example", NULL},
	{"exp empty", "v=spf1 -all exp=", NULL},
	{"modifier before mechanisms", "v=spf1 redirect=r.example a -all",
	 "+a/-1//-1 -all r=r.example"},
	{"unknown modifier ignored (6)", "v=spf1 moo=cow -all", "-all"},
	{"unknown modifier empty", "v=spf1 moo= -all", "-all"},
	{"unknown modifier with macro", "v=spf1 x-foo=%{d}.y -all", "-all"},
	{"unknown modifier bad macro", "v=spf1 moo=%{x} -all", NULL},
	{"unknown modifier bad name", "v=spf1 9moo=cow -all", NULL},
	{"modifier name chars", "v=spf1 a.b-c_d=e -all", "-all"},
	{"default= is just unknown", "v=spf1 default=deny", ""},
	{"error after match still counts (4.6)", "v=spf1 +all foo", NULL},
	{"tab is no separator", "v=spf1\t-all", NULL},
	{"tab in term", "v=spf1 -all\t", NULL},
	{"non-ASCII", "v=spf1 a:caf\xc3\xa9.example -all", NULL},
	{"version only prefix", "v=spf10 -all", NULL},
	{"no version", "a -all", NULL},
};

/* digest - what was parsed, in a form a table can hold */
static void
digest(const struct spf_record *r, char *buf, size_t size)
{
	static const char *const names[] = {"all", "include", "a", "mx", "ptr",
	    "ip4", "ip6", "exists"};
	size_t	used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->nterms && used < size; i++) {
		const struct spf_term *t = &r->term[i];
		int	n;

		n = snprintf(buf + used, size - used, "%s%c%s", i ? " " : "",
			     t->qualifier, names[t->mech]);
		used += (size_t)n;
		if (t->spec != NULL && t->mech != SPF_MECH_IP4 && t->mech != SPF_MECH_IP6)
			used += (size_t)snprintf(buf + used, size - used, ":%.*s",
						 (int)t->spec_len, t->spec);
		if (t->mech == SPF_MECH_A || t->mech == SPF_MECH_MX)
			used += (size_t)snprintf(buf + used, size - used, "/%d//%d",
						 t->cidr4, t->cidr6);
		else if (t->mech == SPF_MECH_IP4)
			used += (size_t)snprintf(buf + used, size - used, "/%d", t->cidr4);
		else if (t->mech == SPF_MECH_IP6)
			used += (size_t)snprintf(buf + used, size - used, "/%d", t->cidr6);
	}
	if (r->redirect != NULL && used < size)
		used += (size_t)snprintf(buf + used, size - used, "%sr=%.*s",
					 used ? " " : "", (int)r->redirect_len,
					 r->redirect);
	if (r->exp != NULL && used < size)
		snprintf(buf + used, size - used, "%se=%.*s", used ? " " : "",
			 (int)r->exp_len, r->exp);
}

/* test_table - every row, from a copy with no NUL after it */
static void
test_table(void **state)
{
	struct spf_record *rec = malloc(sizeof(*rec));

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct rec_case *c = &cases[i];
		size_t	len = strlen(c->rec);
		char	*copy = malloc(len), got[1024];
		const char *why = NULL;
		int	rc;

		memcpy(copy, c->rec, len);
		rc = spf_record_parse(copy, len, rec, &why);
		if (rc == 0)
			digest(rec, got, sizeof(got));
		if (c->want == NULL && rc == 0)
			tcase_bad(c->name, "got \"%s\", want permerror", got);
		else if (c->want != NULL && rc != 0)
			tcase_bad(c->name, "got permerror (%s), want \"%s\"", why, c->want);
		else if (c->want != NULL && strcmp(got, c->want) != 0)
			tcase_bad(c->name, "got \"%s\", want \"%s\"", got, c->want);
		else if (c->want == NULL && (why == NULL || *why == '\0'))
			tcase_bad(c->name, "no reason given");
		free(copy);
	}
	free(rec);
	tcase_done();
}

/* test_is_spf - record selection (RFC 7208 4.5) */
static void
test_is_spf(void **state)
{
	(void)state;
	assert_true(spf_record_is_spf("v=spf1", 6));
	assert_true(spf_record_is_spf("v=spf1 -all", 11));
	assert_true(spf_record_is_spf("V=SPF1 -all", 11));
	assert_true(spf_record_is_spf("v=spf1 -all", 6));	/* len bound */
	assert_false(spf_record_is_spf("v=spf1-all", 10));
	assert_false(spf_record_is_spf("v=spf10", 7));
	assert_false(spf_record_is_spf("v=spf", 5));
	assert_false(spf_record_is_spf(" v=spf1", 7));
	assert_false(spf_record_is_spf("v=DKIM1; p=", 11));
	assert_false(spf_record_is_spf("spf2.0/pra", 10));
}

/* test_bounds - SPF_MAX_TERMS and SPF_MAX_RECORD_LEN */
static void
test_bounds(void **state)
{
	struct spf_record *rec = malloc(sizeof(*rec));
	char	*buf = malloc(SPF_MAX_RECORD_LEN + 100);
	const char *why;
	size_t	len;

	(void)state;
	len = (size_t)sprintf(buf, "v=spf1");
	for (int i = 0; i < SPF_MAX_TERMS; i++)
		len += (size_t)sprintf(buf + len, " a");
	assert_int_equal(spf_record_parse(buf, len, rec, &why), 0);
	assert_int_equal(rec->nterms, SPF_MAX_TERMS);
	len += (size_t)sprintf(buf + len, " a");
	assert_int_equal(spf_record_parse(buf, len, rec, &why), -1);
	/* modifiers don't count as terms */
	len = (size_t)sprintf(buf, "v=spf1");
	for (int i = 0; i < SPF_MAX_TERMS; i++)
		len += (size_t)sprintf(buf + len, " a");
	len += (size_t)sprintf(buf + len, " x=y redirect=r.example");
	assert_int_equal(spf_record_parse(buf, len, rec, &why), 0);
	/* length */
	len = (size_t)sprintf(buf, "v=spf1 ");
	memset(buf + len, ' ', SPF_MAX_RECORD_LEN - len);
	assert_int_equal(spf_record_parse(buf, SPF_MAX_RECORD_LEN, rec, &why), 0);
	buf[SPF_MAX_RECORD_LEN] = ' ';
	assert_int_equal(spf_record_parse(buf, SPF_MAX_RECORD_LEN + 1, rec, &why), -1);
	/* len stops the parser: what follows is never read */
	strcpy(buf, "v=spf1 -all foo");
	assert_int_equal(spf_record_parse(buf, 11, rec, &why), 0);
	assert_int_equal(rec->nterms, 1);
	free(buf);
	free(rec);
}

/* test_domain_spec - spf_domain_spec_ok on its own */
static void
test_domain_spec(void **state)
{
	(void)state;
	assert_true(spf_domain_spec_ok("example.com", 11));
	assert_true(spf_domain_spec_ok("%{d}", 4));
	assert_true(spf_domain_spec_ok("%{ir}.%{v}._spf.%{d2}", 21));
	assert_false(spf_domain_spec_ok("example.com", 7));	/* "example" */
	assert_false(spf_domain_spec_ok("", 0));
	assert_false(spf_domain_spec_ok(".", 1));
	assert_false(spf_domain_spec_ok("x..", 3));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_is_spf),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_domain_spec),
	};

	return cmocka_run_group_tests_name("spf_record", tests, NULL, NULL);
}
