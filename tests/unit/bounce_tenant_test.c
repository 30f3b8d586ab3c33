/*++
 * NAME
 *	bounce_tenant_test 1
 * SUMMARY
 *	unit tests of the tenant table, the rate thresholds and the
 *	one-click unsubscribe token (milters/bounce/bounce_tenant.c,
 *	bounce_pause.c, bounce_unsub.c)
 * DESCRIPTION
 *	Tables of rows: table texts with the file:line problems they must
 *	report (or the tenants they define); lookups by login and sender;
 *	rate texts and their parts per million; review/pause decisions at
 *	their edges; tokens: round trip, every character changed (never
 *	ok), expiry edge, rotation, malformed input, the derived rings.
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

#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_common.h"
#include "errlist.h"
#include "xalloc.h"
#include "../../milters/bounce/bounce_conf.h"
#include "../../milters/bounce/bounce_tag.h"
#include "../../milters/bounce/bounce.h"
#include "../../milters/bounce/bounce_pause.h"
#include "../../milters/bounce/bounce_tenant.h"
#include "../../milters/bounce/bounce_unsub.h"

/* table texts: no error wants n tenants; else the joined errors contain err */
static const struct {
	const char *name, *text, *err;
	size_t n;
} parse_rows[] = {
	{"empty", "", NULL, 0},
	{"comments", "# nothing\n   \n\t# more\n", NULL, 0},
	{"domain", "acme.example bounces.acme.example\n", NULL, 1},
	{"login", "login:Bob -\n", NULL, 1},
	{"options", "acme.example b.acme.example unsubscribe # c\n", NULL, 1},
	{"crlf", "a.example b.a.example\r\nc.example -\r\n", NULL, 2},
	{"no newline at end", "a.example -", NULL, 1},
	{"one field", "acme.example\n", "t:1: expected KEY BOUNCE-DOMAIN", 0},
	{"address key", "bob@acme.example b.example\n", "t:1: key must be", 0},
	{"bad key domain", "a..example b.example\n", "t:1: sender domain:", 0},
	{"bad bounce domain", "a.example b..example\n", "t:1: bounce domain:", 0},
	{"single label", "a.example localhost\n", "t:1: bounce domain localhost: not a fully", 0},
	{"unknown option", "a.example b.example unsub\n", "t:1: unknown option", 0},
	{"empty login", "login: b.example\n", "t:1: empty login", 0},
	{"duplicate", "a.example -\n\nA.EXAMPLE b.example\n", "t:3: tenant a.example already defined at line 1", 0},
	{"duplicate login any case", "login:bob -\nlogin:BOB -\n", "t:2: tenant login:bob already", 0},
	{"second line bad", "a.example -\nb.example\n", "t:2: expected", 0},
	{"nul", "a.example -\nb.ex\0ample -\n", "t:2: NUL octet", 0},
	{"subdomains, leading dot", ".acme.example b.acme.example\n", NULL, 1},
	{"subdomains, star", "*.acme.example -\nacme.example -\n", NULL, 2},
	{"dot and star name one tenant", ".a.example -\n*.A.example -\n",
	 "t:2: tenant .a.example already defined at line 1", 0},
	{"star inside a label", "a*.example -\n", "t:1: a '*' only as *.DOMAIN", 0},
	{"star alone", "* -\n", "t:1: a '*' only as *.DOMAIN", 0},
	{"star dot star", "*.*.example -\n", "t:1: a '*' only as *.DOMAIN", 0},
	{"dot alone", ". -\n", "t:1: sender domain:", 0},
	{"two dots", "..a.example -\n", "t:1: sender domain:", 0},
	{"secrets and unsubscribe", "a.example b.a.example secret=/etc/s1,secret=/etc/s2 "
	 "unsubscribe\n", NULL, 1},
	{"secret, relative path", "a.example b.a.example secret=s1\n",
	 "t:1: secret=PATH: the path must be absolute", 0},
	{"secret, empty path", "a.example b.a.example secret=\n",
	 "t:1: secret=PATH: the path must be absolute", 0},
	{"secret twice", "a.example b.a.example secret=/s,secret=/s\n",
	 "t:1: secret=PATH: the same file twice", 0},
	{"secret without own bounce domain", "x.example -\na.example - secret=/s\n",
	 "t:2: secret= needs the tenant's own bounce domain", 0},
	{"seventeen secrets", "a.example b.a.example secret=/1 secret=/2 secret=/3 secret=/4 "
	 "secret=/5 secret=/6 secret=/7 secret=/8 secret=/9 secret=/10 secret=/11 secret=/12 "
	 "secret=/13 secret=/14 secret=/15 secret=/16 secret=/17\n",
	 "t:1: more than 16 secret= options", 0},
};

/* test_parse - every row of parse_rows */
static void
test_parse(void **state)
{
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		struct bounce_tenants *t = xcalloc(1, sizeof(*t));
		struct errlist el = ERRLIST_INIT;
		const char *txt = parse_rows[i].text;
		size_t len = strlen(txt);
		char *all;
		int n;

		if (strcmp(parse_rows[i].name, "nul") == 0)
			len = 25;
		n = bounce_tenant_parse(txt, len, "t", t, &el);
		all = errlist_join(&el);
		if (parse_rows[i].err == NULL && (n != 0 || t->n != parse_rows[i].n))
			tcase_bad(parse_rows[i].name, "got %d errors (%s) %zu tenants, "
				  "want 0 errors %zu tenants", n, all ? all : "",
				  t->n, parse_rows[i].n);
		if (parse_rows[i].err != NULL
		    && (n == 0 || all == NULL || strstr(all, parse_rows[i].err) == NULL))
			tcase_bad(parse_rows[i].name, "got \"%s\", want \"%s\"",
				  all ? all : "", parse_rows[i].err);
		free(all);
		errlist_free(&el);
		bounce_tenants_free(t);
	}
	tcase_done();
}

/* test_long_line - a line over the limit is reported, the next one read */
static void
test_long_line(void **state)
{
	struct bounce_tenants *t = xcalloc(1, sizeof(*t));
	struct errlist el = ERRLIST_INIT;
	char *txt = xmalloc(3000);

	memset(txt, 'a', 2000);
	snprintf(txt + 2000, 1000, " -\nb.example -\n");
	assert_int_equal(bounce_tenant_parse(txt, strlen(txt), "t", t, &el), 1);
	assert_non_null(strstr(el.msgs[0], "t:1: line longer than 1024"));
	assert_int_equal(t->n, 1);
	errlist_free(&el);
	bounce_tenants_free(t);
	free(txt);
}

/* lookups: login wins; domain exact; none */
static const struct {
	const char *name, *login, *sender, *want, *want_bd;
} find_rows[] = {
	{"domain", NULL, "x@acme.example", "acme.example", "bounces.acme.example"},
	{"domain any case", NULL, "x@ACME.example", "acme.example", "bounces.acme.example"},
	{"login wins", "Bob", "x@acme.example", "login:bob", NULL},
	{"unknown login, domain", "eve", "x@acme.example", "acme.example", "bounces.acme.example"},
	{"subdomain: .acme.example", NULL, "x@mail.acme.example", ".acme.example",
	 "bounces.sub.example"},
	{"deeper subdomain", NULL, "x@a.b.Acme.example", ".acme.example", "bounces.sub.example"},
	{"most specific parent wins", NULL, "x@fr.eu.acme.example", ".eu.acme.example",
	 "bounces.eu.example"},
	{"deeper, most specific parent", NULL, "x@a.fr.eu.acme.example", ".eu.acme.example",
	 "bounces.eu.example"},
	{"exact beats a parent", NULL, "x@mail.eu.acme.example", "mail.eu.acme.example", NULL},
	{"*.DOMAIN is not DOMAIN", NULL, "x@eu.acme.example", ".acme.example",
	 "bounces.sub.example"},
	{"label boundary", NULL, "x@notacme.example", NULL, NULL},
	{"login beats subdomain", "bob", "x@mail.acme.example", "login:bob", NULL},
	{"no tenant", NULL, "x@other.example", NULL, NULL},
	{"null sender", NULL, "<>", NULL, NULL},
};

/* test_find - every row of find_rows */
static void
test_find(void **state)
{
	static const char txt[] = "acme.example bounces.acme.example unsubscribe\n"
	    "login:bob -\n"
	    ".acme.example bounces.sub.example\n"
	    "*.eu.acme.example bounces.eu.example\n"
	    "mail.eu.acme.example -\n";
	struct bounce_tenants *t = xcalloc(1, sizeof(*t));
	struct errlist el = ERRLIST_INIT;

	assert_int_equal(bounce_tenant_parse(txt, strlen(txt), "t", t, &el), 0);
	for (size_t i = 0; i < sizeof(find_rows) / sizeof(find_rows[0]); i++) {
		const struct bounce_tenant *r = bounce_tenant_find(t, find_rows[i].login,
								   find_rows[i].sender);
		const char *got = r ? r->name : NULL, *bd = r ? r->bounce_domain : NULL;

		if ((got == NULL) != (find_rows[i].want == NULL)
		    || (got != NULL && strcmp(got, find_rows[i].want) != 0)
		    || (bd == NULL) != (find_rows[i].want_bd == NULL)
		    || (bd != NULL && strcmp(bd, find_rows[i].want_bd) != 0))
			tcase_bad(find_rows[i].name, "got %s/%s, want %s/%s",
				  got ? got : "NULL", bd ? bd : "NULL",
				  find_rows[i].want ? find_rows[i].want : "NULL",
				  find_rows[i].want_bd ? find_rows[i].want_bd : "NULL");
	}
	assert_true(bounce_tenant_by_name(t, "ACME.example")->unsubscribe);
	assert_false(bounce_tenant_by_name(t, "login:bob")->unsubscribe);
	assert_null(bounce_tenant_by_name(t, "nobody"));
	assert_string_equal(bounce_tenant_by_name(t, "*.EU.acme.example")->name, ".eu.acme.example");
	assert_true(bounce_tenant_by_name(t, ".eu.acme.example")->subdomains);
	assert_false(bounce_tenant_by_name(t, "mail.eu.acme.example")->subdomains);
	bounce_tenants_free(t);
	tcase_done();
}

/* rates: text, ppm (-1: an error) */
static const struct {
	const char *text;
	long long ppm;
} rate_rows[] = {
	{"5%", 50000}, {"0.1%", 1000}, {"10%", 100000}, {"0.5%", 5000},
	{"100%", 1000000}, {"0", 0}, {"0%", 0}, {"0.05", 50000},
	{"1", 1000000}, {"0.0001%", 1}, {"0.000001", 1}, {"12.345%", 123450},
	{"", -1}, {"%", -1}, {"abc", -1}, {"5 %", -1}, {"-1%", -1},
	{"101%", -1}, {"2", -1}, {"1000%", -1}, {"0.00001%", -1},
	{"0.0000001", -1}, {"1.2.3", -1}, {".%", -1}, {"5%%", -1},
};

/* test_rates - every row of rate_rows */
static void
test_rates(void **state)
{
	for (size_t i = 0; i < sizeof(rate_rows) / sizeof(rate_rows[0]); i++) {
		long long ppm = -1;
		const char *why = NULL;
		int rc = bounce_rate_parse(rate_rows[i].text, strlen(rate_rows[i].text),
					   &ppm, &why);

		if (rate_rows[i].ppm < 0 && (rc != -1 || why == NULL))
			tcase_bad(rate_rows[i].text, "got %d (%lld), want an error", rc, ppm);
		if (rate_rows[i].ppm >= 0 && (rc != 0 || ppm != rate_rows[i].ppm))
			tcase_bad(rate_rows[i].text, "got %d %lld, want %lld", rc, ppm,
				  rate_rows[i].ppm);
	}
	tcase_done();
}

/* decisions with review 5 % / 0.1 %, pause 10 % / 0.5 %, volume 100 */
static const struct {
	const char *name;
	long long sent, hard, compl;
	enum bounce_pause_state want;
} decide_rows[] = {
	{"below volume", 99, 99, 99, BOUNCE_PAUSE_OK},
	{"nothing sent", 0, 5, 0, BOUNCE_PAUSE_OK},
	{"clean", 1000, 10, 0, BOUNCE_PAUSE_OK},
	{"bounce at review, not above", 1000, 50, 0, BOUNCE_PAUSE_OK},
	{"bounce above review", 1000, 51, 0, BOUNCE_PAUSE_REVIEW},
	{"bounce at pause", 1000, 100, 0, BOUNCE_PAUSE_REVIEW},
	{"bounce above pause", 1000, 101, 0, BOUNCE_PAUSE_PAUSED},
	{"complaint at review", 1000, 0, 1, BOUNCE_PAUSE_OK},
	{"complaint above review", 1000, 0, 2, BOUNCE_PAUSE_REVIEW},
	{"complaint above pause", 1000, 0, 6, BOUNCE_PAUSE_PAUSED},
	{"exactly at volume", 100, 11, 0, BOUNCE_PAUSE_PAUSED},
};

/* test_decide - every row of decide_rows */
static void
test_decide(void **state)
{
	struct bounce_pause_conf c = {
		.window_ms = 86400000, .min_volume = 100,
		.review_bounce_ppm = 50000, .review_complaint_ppm = 1000,
		.pause_bounce_ppm = 100000, .pause_complaint_ppm = 5000,
	};

	for (size_t i = 0; i < sizeof(decide_rows) / sizeof(decide_rows[0]); i++) {
		enum bounce_pause_state got = bounce_pause_decide(&c, decide_rows[i].sent,
								  decide_rows[i].hard,
								  decide_rows[i].compl);

		if (got != decide_rows[i].want)
			tcase_bad(decide_rows[i].name, "got %s, want %s",
				  bounce_pause_state_name(got),
				  bounce_pause_state_name(decide_rows[i].want));
	}
	c.pause_bounce_ppm = 0;		/* 0: never */
	assert_int_equal(bounce_pause_decide(&c, 1000, 1000, 0), BOUNCE_PAUSE_REVIEW);
	tcase_done();
}

/* ring - one or two secrets */
static void
ring(struct bounce_keyring *r, const char *a, const char *b)
{
	const char *why;

	memset(r, 0, sizeof(*r));
	assert_int_equal(bounce_keyring_add(r, (const unsigned char *)a, strlen(a), &why), 0);
	if (b != NULL)
		assert_int_equal(bounce_keyring_add(r, (const unsigned char *)b,
						    strlen(b), &why), 0);
}

#define NOW 1700000000LL

/* refuses_every_change - a token with any one character changed never decodes */
static void
refuses_every_change(const struct bounce_keyring *r, char *tok, int n)
{
	struct bounce_unsub u;
	const char *why;

	for (int i = 0; i < n; i++) {
		char save = tok[i];

		tok[i] = save == 'A' ? 'B' : 'A';
		if (bounce_unsub_decode(r, tok, (size_t)n, NOW, &u, &why) == BOUNCE_UNSUB_OK)
			tcase_bad("changed character", "position %d accepted", i);
		tok[i] = save;
	}
}

/* test_token_roundtrip - encode, decode, every character changed, expiry */
static void
test_token_roundtrip(void **state)
{
	struct bounce_keyring r, r2, *d;
	struct bounce_unsub u;
	char tok[BOUNCE_UNSUB_TOKEN_MAX + 1], id[33];
	const char *why;
	int n;

	ring(&r, "unsub-secret-0123456789abcdef", NULL);
	n = bounce_unsub_encode(&r.keys[0], "acme.example", "rcpt@example.org",
				NOW + 100, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				"qrstuvwxyz0123456789-_"), (size_t)n);
	assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW, &u, &why),
			 BOUNCE_UNSUB_OK);
	assert_string_equal(u.tenant, "acme.example");
	assert_string_equal(u.rcpt, "rcpt@example.org");
	assert_int_equal(u.expires, NOW + 100);
	bounce_unsub_id(&u, id);
	assert_int_equal(strlen(id), 32);
	/* the expiry edge: valid through its second */
	assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW + 100, &u, &why),
			 BOUNCE_UNSUB_OK);
	assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW + 101, &u, &why),
			 BOUNCE_UNSUB_EXPIRED);
	/* every character changed: never ok */
	refuses_every_change(&r, tok, n);
	/* a token cut or extended */
	assert_int_not_equal(bounce_unsub_decode(&r, tok, (size_t)n - 1, NOW, &u, &why),
			     BOUNCE_UNSUB_OK);
	/* rotation: a new key first still accepts the old one's tokens */
	ring(&r2, "new-unsub-secret-fedcba987654", "unsub-secret-0123456789abcdef");
	assert_int_equal(bounce_unsub_decode(&r2, tok, (size_t)n, NOW, &u, &why),
			 BOUNCE_UNSUB_OK);
	ring(&r2, "new-unsub-secret-fedcba987654", NULL);
	assert_int_not_equal(bounce_unsub_decode(&r2, tok, (size_t)n, NOW, &u, &why),
			     BOUNCE_UNSUB_OK);
	/* a derived ring (per domain, unsubscribe) does not accept the base ring's */
	d = bounce_keyring_derive(&r, "unsubscribe");
	assert_int_equal(d->keys[0].id, r.keys[0].id);
	assert_int_equal(bounce_unsub_decode(d, tok, (size_t)n, NOW, &u, &why),
			 BOUNCE_UNSUB_FORGED);
	bounce_keyring_free(d);
	tcase_done();
}

/* test_token_v2 - a token that names its message (version 2) */
static void
test_token_v2(void **state)
{
	static const unsigned char msgid[BOUNCE_UNSUB_MSGID_LEN] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc};
	struct bounce_keyring r;
	struct bounce_unsub u;
	char tok[BOUNCE_UNSUB_TOKEN_MAX + 1], v1[BOUNCE_UNSUB_TOKEN_MAX + 1];
	const char *why;
	int n, n1;

	(void)state;
	ring(&r, "unsub-secret-0123456789abcdef", NULL);
	n = bounce_unsub_encode_ref(&r.keys[0], "acme.example", "rcpt@example.org", msgid,
				    NOW + 100, tok, sizeof(tok));
	n1 = bounce_unsub_encode(&r.keys[0], "acme.example", "rcpt@example.org", NOW + 100,
				 v1, sizeof(v1));
	assert_true(n > 0 && n1 > 0);
	assert_true(n == n1 + 13 || n == n1 + 14);	/* 10 more octets, base64url */
	assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW, &u, &why),
			 BOUNCE_UNSUB_OK);
	assert_string_equal(u.msgid, "0123456789abcdeffedc");
	assert_string_equal(u.tenant, "acme.example");
	assert_string_equal(u.rcpt, "rcpt@example.org");
	/* version 1 has none */
	assert_int_equal(bounce_unsub_decode(&r, v1, (size_t)n1, NOW, &u, &why),
			 BOUNCE_UNSUB_OK);
	assert_string_equal(u.msgid, "");
	/* every character changed (the message id's too): never ok */
	refuses_every_change(&r, tok, n);
	/* the version octet, in the second character's top 2 bits: 1 (the
	 * same octets read without a message id) and 3 (unknown) refused */
	{
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int v = (int)(strchr(b64, tok[1]) - b64);
		char save = tok[1];

		assert_int_equal(v >> 4, 2);
		tok[1] = b64[v ^ 0x30];		/* version 1 */
		assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW, &u, &why),
				 BOUNCE_UNSUB_MALFORMED);
		tok[1] = b64[v ^ 0x10];		/* version 3 */
		assert_int_equal(bounce_unsub_decode(&r, tok, (size_t)n, NOW, &u, &why),
				 BOUNCE_UNSUB_MALFORMED);
		assert_string_equal(why, "unknown version");
		tok[1] = save;
	}
	tcase_done();
}

/* malformed texts */
static const char *const bad_tokens[] = {
	"", "short", "AAAAAAAA", "!!!!!!!!!!!!!!!!!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"AQ==AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"AQEAAAAAAP8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};

/* test_token_malformed - refused, never ok, why always set */
static void
test_token_malformed(void **state)
{
	struct bounce_keyring r;
	struct bounce_unsub u;
	char big[2000];

	ring(&r, "unsub-secret-0123456789abcdef", NULL);
	for (size_t i = 0; i < sizeof(bad_tokens) / sizeof(bad_tokens[0]); i++) {
		const char *why = NULL;
		enum bounce_unsub_status s = bounce_unsub_decode(&r, bad_tokens[i],
								 strlen(bad_tokens[i]),
								 NOW, &u, &why);

		if (s == BOUNCE_UNSUB_OK || s == BOUNCE_UNSUB_EXPIRED || why == NULL)
			tcase_bad(bad_tokens[i], "got %s, want a refusal",
				  bounce_unsub_status_name(s));
	}
	memset(big, 'A', sizeof(big));
	for (size_t len = 800; len < sizeof(big); len++) {
		const char *why;

		if (bounce_unsub_decode(&r, big, len, NOW, &u, &why) == BOUNCE_UNSUB_OK)
			tcase_bad("long", "len %zu accepted", len);
	}
	/* encoder limits */
	{
		char tok[BOUNCE_UNSUB_TOKEN_MAX + 1], rc[400];

		memset(rc, 'a', sizeof(rc) - 1);
		rc[sizeof(rc) - 1] = '\0';
		assert_int_equal(bounce_unsub_encode(&r.keys[0], "t", rc, NOW, tok,
						     sizeof(tok)), -1);
		assert_int_equal(bounce_unsub_encode(&r.keys[0], "t", "a b@c", NOW, tok,
						     sizeof(tok)), -1);
		assert_int_equal(bounce_unsub_encode(&r.keys[0], "", "a@c", NOW, tok,
						     sizeof(tok)), -1);
		assert_int_equal(bounce_unsub_encode(&r.keys[0], "t", "a@c", NOW, tok, 10), -1);
		rc[320] = '\0';
		assert_true(bounce_unsub_encode(&r.keys[0], "t", rc, NOW, tok,
						sizeof(tok)) > 0);
	}
	tcase_done();
}

/* test_request - the HTTP decisions of the one-click URL, in a table */
static void
test_request(void **state)
{
	static const char one[] = "List-Unsubscribe=One-Click";
	struct bounce_keyring r, other;
	struct bounce_unsub u;
	char good[BOUNCE_UNSUB_TOKEN_MAX + 1], old[BOUNCE_UNSUB_TOKEN_MAX + 1];
	char forged[BOUNCE_UNSUB_TOKEN_MAX + 1], p_good[900], p_old[900], p_forged[900];
	const struct {
		const char *name, *method, *path, *body;
		enum bounce_unsub_what want;
		unsigned status;
	} rows[] = {
		{"GET: the page only", "GET", p_good, NULL, BOUNCE_UNSUB_PAGE, 200},
		{"HEAD: the page only", "HEAD", p_good, NULL, BOUNCE_UNSUB_PAGE, 200},
		{"GET with the body: still the page", "GET", p_good, one, BOUNCE_UNSUB_PAGE, 200},
		{"POST one-click", "POST", p_good, one, BOUNCE_UNSUB_DO, 200},
		{"POST multipart", "POST", p_good, "--b\r\nContent-Disposition: form-data; "
		 "name=\"x\"\r\n\r\nList-Unsubscribe=One-Click\r\n--b--", BOUNCE_UNSUB_DO, 200},
		{"POST empty", "POST", p_good, "", BOUNCE_UNSUB_REFUSE, 400},
		{"POST other body", "POST", p_good, "List-Unsubscribe=Yes", BOUNCE_UNSUB_REFUSE, 400},
		{"POST expired", "POST", p_old, one, BOUNCE_UNSUB_REFUSE, 410},
		{"GET expired", "GET", p_old, NULL, BOUNCE_UNSUB_REFUSE, 410},
		{"POST forged", "POST", p_forged, one, BOUNCE_UNSUB_REFUSE, 403},
		{"POST malformed", "POST", "/u/not-a-token", one, BOUNCE_UNSUB_REFUSE, 400},
		{"POST no path", "POST", "/", one, BOUNCE_UNSUB_REFUSE, 400},
		{"PUT", "PUT", p_good, one, BOUNCE_UNSUB_REFUSE, 405},
		{"DELETE", "DELETE", p_good, NULL, BOUNCE_UNSUB_REFUSE, 405},
	};

	ring(&r, "unsub-secret-0123456789abcdef", NULL);
	ring(&other, "other-secret-0123456789abcdef", NULL);
	assert_true(bounce_unsub_encode(&r.keys[0], "acme.test", "a@b.test", NOW + 10, good,
					sizeof(good)) > 0);
	assert_true(bounce_unsub_encode(&r.keys[0], "acme.test", "a@b.test", NOW - 10, old,
					sizeof(old)) > 0);
	assert_true(bounce_unsub_encode(&other.keys[0], "acme.test", "a@b.test", NOW + 10, forged,
					sizeof(forged)) > 0);
	snprintf(p_good, sizeof(p_good), "/u/%s", good);
	snprintf(p_old, sizeof(p_old), "/u/%s", old);
	snprintf(p_forged, sizeof(p_forged), "/x/y/%s", forged);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned st = 0;
		const char *why = NULL;
		enum bounce_unsub_what w = bounce_unsub_request(&r, rows[i].method, rows[i].path,
							       rows[i].body, rows[i].body ?
							       strlen(rows[i].body) : 0, NOW,
							       &u, &st, &why);

		if (w != rows[i].want || st != rows[i].status || why == NULL)
			tcase_bad(rows[i].name, "got %d %u, want %d %u", (int)w, st,
				  (int)rows[i].want, rows[i].status);
		if (w != BOUNCE_UNSUB_REFUSE && strcmp(u.rcpt, "a@b.test") != 0)
			tcase_bad(rows[i].name, "got rcpt %s", u.rcpt);
	}
	tcase_done();
}

/* ts_write - a file with TEXT and MODE in DIR; its path (static buffer per slot) */
static const char *
ts_write(const char *dir, const char *name, const char *text, mode_t mode, char *out,
	 size_t outlen)
{
	FILE *fp;

	snprintf(out, outlen, "%s/%s", dir, name);
	fp = fopen(out, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(out, mode), 0);
	return out;
}

/* ts_subst - IN with each "D" replaced by DIR */
static void
ts_subst(const char *in, const char *dir, char *out, size_t outlen)
{
	size_t o = 0, dl = strlen(dir);

	for (; *in && o + dl + 1 < outlen; in++) {
		if (*in == 'D') {
			memcpy(out + o, dir, dl);
			o += dl;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/* ts_state - load a configuration with TABLE as bounce_tenant_table */
static struct bounce_state *
ts_state(const char *dir, const char *table, void *values[2], struct errlist *el)
{
	static const struct cfg_section *const secs[] = {&cfg_common_section, &bounce_section};
	char conf[600], tab[300], gpath[300], text[1200];
	struct bounce_state *st;

	ts_write(dir, "tenants", table, 0644, tab, sizeof(tab));
	snprintf(gpath, sizeof(gpath), "%s/global", dir);
	snprintf(text, sizeof(text), "redis_server = 127.0.0.1:1\nbounce_domain = bounces.test\n"
		 "bounce_secret_files = %s\nbounce_tenant_table = %s\n", gpath, tab);
	ts_write(dir, "postmill.conf", text, 0644, conf, sizeof(conf));
	values[0] = values[1] = NULL;
	if (cfg_load(conf, secs, 2, values, el) < 0)
		return NULL;
	st = bounce_state_load(values[0], values[1], conf, el);
	return st;
}

/* ts_free - the state and the values */
static void
ts_free(struct bounce_state *st, void *values[2])
{
	bounce_state_free(st);
	if (values[0] != NULL)
		cfg_values_free(&cfg_common_section, values[0]);
	if (values[1] != NULL)
		cfg_values_free(&bounce_section, values[1]);
}

/*
 * test_tenant_secrets - secret= through the state loader: a tenant's own
 * secrets make its bounce domain's keys (not the global ones); rotation
 * (new first, old kept) still verifies old tags and signs with the new
 * key; every problem of the files or the table names the table's line
 */
static void
test_tenant_secrets(void **state)
{
	static const struct {
		const char *name, *table, *err;	/* "D" in table: the directory */
	} cases[] = {
		{"world-readable", "a.test b.a.test secret=D/world\n",
		 "tenants:1: tenant a.test: secret D/world: readable or writable by group or others"},
		{"missing", "x.test -\na.test b.a.test secret=D/nope\n",
		 "tenants:2: tenant a.test: secret D/nope: cannot open"},
		{"too short", "a.test b.a.test secret=D/short\n",
		 "tenants:1: tenant a.test: secret D/short: secret shorter than 16 bytes"},
		{"shared domain, other secrets", "a.test b.x.test secret=D/t1\nb.test b.x.test\n",
		 "tenants:2: tenant b.test: bounce domain b.x.test is shared with a tenant whose "
		 "secret= options differ"},
		{"the global bounce domain", "a.test bounces.test secret=D/t1\n",
		 "tenants:1: tenant a.test: bounce domain bounces.test is bounce_domain"},
		{"shared domain, same secrets", "a.test b.x.test secret=D/t1\n"
		 "b.test b.x.test secret=D/t1\n", NULL},
	};
	char dir[] = "/tmp/btsecXXXXXX", path[300], tag[BOUNCE_TAG_CHARS + 3];
	unsigned char id[BOUNCE_TAG_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct bounce_tag t;
	const struct bounce_bdomain *bd;
	const char *why;
	void *values[2];
	struct bounce_state *st;
	struct errlist el = ERRLIST_INIT;
	unsigned old_id;

	assert_non_null(mkdtemp(dir));
	ts_write(dir, "global", "global-secret-0123456789abcdef\n", 0600, path, sizeof(path));
	ts_write(dir, "t1", "tenant-secret-one-0123456789\n", 0600, path, sizeof(path));
	ts_write(dir, "t2", "tenant-secret-two-0123456789\n", 0400, path, sizeof(path));
	ts_write(dir, "world", "tenant-secret-world-0123456789\n", 0644, path, sizeof(path));
	ts_write(dir, "short", "short\n", 0600, path, sizeof(path));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char table[600], want[600], *all;

		ts_subst(cases[i].table, dir, table, sizeof(table));
		ts_subst(cases[i].err ? cases[i].err : "", dir, want, sizeof(want));
		st = ts_state(dir, table, values, &el);
		all = errlist_join(&el);
		if (cases[i].err == NULL && (st == NULL || el.count != 0))
			tcase_bad(cases[i].name, "got \"%s\", want no error", all ? all : "");
		else if (cases[i].err != NULL && (st != NULL || all == NULL || strstr(all, want) == NULL))
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", all ? all : "", want);
		free(all);
		errlist_free(&el);
		ts_free(st, values);
	}
	/* own secret: the tenant domain's ring is not the global one's derivation */
	snprintf(path, sizeof(path), "a.test b.a.test secret=%s/t1\n", dir);
	st = ts_state(dir, path, values, &el);
	assert_non_null(st);
	assert_non_null(bd = bounce_state_bdomain(st, "b.a.test"));
	old_id = bd->keys->keys[0].id;
	assert_int_not_equal(old_id, st->keys->keys[0].id);
	memcpy(tag, "b-", 2);	/* the local part of an address */
	assert_int_equal(bounce_tag_encode(&bd->keys->keys[0], id, 2000000000LL, tag + 2), 0);
	assert_int_equal(bounce_tag_local_decode(bd->keys, tag, strlen(tag), 1900000000LL, &t, &why),
			 BOUNCE_TAG_OK);
	{
		struct bounce_keyring *g = bounce_keyring_derive(st->keys, "b.a.test");

		if (bounce_tag_local_decode(g, tag, strlen(tag), 1900000000LL, &t, &why)
		    == BOUNCE_TAG_OK)
			tcase_bad("own secret", "got a tag the global secrets verify, want not");
		bounce_keyring_free(g);
	}
	ts_free(st, values);
	/* rotation: t2 first signs, t1 still verifies the tag made above */
	snprintf(path, sizeof(path), "a.test b.a.test secret=%s/t2,secret=%s/t1\n", dir, dir);
	st = ts_state(dir, path, values, &el);
	assert_non_null(st);
	assert_non_null(bd = bounce_state_bdomain(st, "b.a.test"));
	assert_int_equal(bd->keys->n, 2);
	assert_int_not_equal(bd->keys->keys[0].id, old_id);
	assert_int_equal(bd->keys->keys[1].id, old_id);
	if (bounce_tag_local_decode(bd->keys, tag, strlen(tag), 1900000000LL, &t, &why)
	    != BOUNCE_TAG_OK || memcmp(t.id, id, sizeof(id)) != 0)
		tcase_bad("rotation", "got \"%s\" for the old key's tag, want ok", why);
	ts_free(st, values);
	/* the old key removed: its tags are no longer known */
	snprintf(path, sizeof(path), "a.test b.a.test secret=%s/t2\n", dir);
	st = ts_state(dir, path, values, &el);
	assert_non_null(st);
	bd = bounce_state_bdomain(st, "b.a.test");
	if (bounce_tag_local_decode(bd->keys, tag, strlen(tag), 1900000000LL, &t, &why)
	    != BOUNCE_TAG_UNKNOWN_KEY)
		tcase_bad("removed", "got \"%s\", want an unknown key", why);
	ts_free(st, values);
	errlist_free(&el);
	{
		static const char *const names[] = {"global", "t1", "t2", "world", "short",
						    "tenants", "postmill.conf"};

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_tenant_secrets),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_token_roundtrip),
		cmocka_unit_test(test_token_v2),
		cmocka_unit_test(test_token_malformed),
		cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
