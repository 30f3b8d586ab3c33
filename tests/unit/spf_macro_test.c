/*++
 * NAME
 *	spf_macro_test 1
 * SUMMARY
 *	unit tests for the SPF macro expander (common/spf_macro.c)
 * DESCRIPTION
 *	The examples of RFC 7208 section 7.4 verbatim (sender
 *	strong-bad@email.example.com, client 192.0.2.3 or 2001:db8::cb01),
 *	then transformers, delimiters, URL escaping, the letters only
 *	explanations may use, the 253-character cut of 7.3, and syntax
 *	errors. Inputs are passed with their length and no NUL after them.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spf_macro.h"
#include "tcase.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum { V4, V6 };

struct macro_case {
	const char	*name;
	const char	*in;
	int		ip;		/* V4: 192.0.2.3, V6: 2001:db8::cb01 */
	enum spf_macro_mode mode;
	const char	*want;		/* NULL: error */
};

static const struct macro_case cases[] = {
	/* RFC 7208 7.4, verbatim */
	{"7.4 s", "%{s}", V4, SPF_MACRO_DOMAIN, "strong-bad@email.example.com"},
	{"7.4 o", "%{o}", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"7.4 d", "%{d}", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"7.4 d4", "%{d4}", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"7.4 d3", "%{d3}", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"7.4 d2", "%{d2}", V4, SPF_MACRO_DOMAIN, "example.com"},
	{"7.4 d1", "%{d1}", V4, SPF_MACRO_DOMAIN, "com"},
	{"7.4 dr", "%{dr}", V4, SPF_MACRO_DOMAIN, "com.example.email"},
	{"7.4 d2r", "%{d2r}", V4, SPF_MACRO_DOMAIN, "example.email"},
	{"7.4 l", "%{l}", V4, SPF_MACRO_DOMAIN, "strong-bad"},
	{"7.4 l-", "%{l-}", V4, SPF_MACRO_DOMAIN, "strong.bad"},
	{"7.4 lr", "%{lr}", V4, SPF_MACRO_DOMAIN, "strong-bad"},
	{"7.4 lr-", "%{lr-}", V4, SPF_MACRO_DOMAIN, "bad.strong"},
	{"7.4 l1r-", "%{l1r-}", V4, SPF_MACRO_DOMAIN, "strong"},
	{"7.4 ir.v._spf.d2", "%{ir}.%{v}._spf.%{d2}", V4, SPF_MACRO_DOMAIN,
	 "3.2.0.192.in-addr._spf.example.com"},
	{"7.4 lr-.lp._spf.d2", "%{lr-}.lp._spf.%{d2}", V4, SPF_MACRO_DOMAIN,
	 "bad.strong.lp._spf.example.com"},
	{"7.4 lr-.lp.ir.v._spf.d2", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", V4,
	 SPF_MACRO_DOMAIN, "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
	{"7.4 ir.v.l1r-.lp._spf.d2", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", V4,
	 SPF_MACRO_DOMAIN, "3.2.0.192.in-addr.strong.lp._spf.example.com"},
	{"7.4 d2.trusted-domains", "%{d2}.trusted-domains.example.net", V4,
	 SPF_MACRO_DOMAIN, "example.com.trusted-domains.example.net"},
	{"7.4 IPv6 ir.v._spf.d2", "%{ir}.%{v}._spf.%{d2}", V6, SPF_MACRO_DOMAIN,
	 "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
	/* more letters */
	{"i v4", "%{i}", V4, SPF_MACRO_DOMAIN, "192.0.2.3"},
	{"i v6 nibbles", "%{i}", V6, SPF_MACRO_DOMAIN,
	 "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1"},
	{"v v6", "%{v}", V6, SPF_MACRO_DOMAIN, "ip6"},
	{"h", "%{h}", V4, SPF_MACRO_DOMAIN, "mx.example.org"},
	{"p given", "%{p}", V4, SPF_MACRO_DOMAIN, "mx.example.org"},
	{"p2", "%{p2}.trusted.example.net", V4, SPF_MACRO_DOMAIN,
	 "example.org.trusted.example.net"},
	{"c v4 exp", "%{c}", V4, SPF_MACRO_EXP, "192.0.2.3"},
	{"c v6 exp: RFC 5952 text", "%{c}", V6, SPF_MACRO_EXP, "2001:db8::cb01"},
	{"r exp", "%{r}", V4, SPF_MACRO_EXP, "mybox.example.net"},
	{"t exp", "%{t}", V4, SPF_MACRO_EXP, "1700000000"},
	{"c in domain-spec", "%{c}", V4, SPF_MACRO_DOMAIN, NULL},
	{"r in domain-spec", "%{r}.x.example", V4, SPF_MACRO_DOMAIN, NULL},
	{"t in domain-spec", "%{t}.x.example", V4, SPF_MACRO_DOMAIN, NULL},
	/* escapes, case */
	{"%% %_ %-", "a%%b%_c%-d", V4, SPF_MACRO_EXP, "a%b c%20d"},
	{"upper case escapes", "%{S}", V4, SPF_MACRO_EXP,
	 "strong-bad%40email.example.com"},
	{"upper L keeps unreserved", "%{L}", V4, SPF_MACRO_DOMAIN, "strong-bad"},
	{"upper letter with transformers", "%{D2R}", V4, SPF_MACRO_DOMAIN,
	 "example.email"},
	{"R transformer upper", "%{dR}", V4, SPF_MACRO_DOMAIN, "com.example.email"},
	{"big digit", "%{d128}", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"huge digit capped", "%{d99999999999999999999}", V4, SPF_MACRO_DOMAIN,
	 "email.example.com"},
	{"several delimiters", "%{s-.}", V4, SPF_MACRO_DOMAIN,
	 "strong.bad@email.example.com"},
	{"'@' is no delimiter", "%{s@}", V4, SPF_MACRO_DOMAIN, NULL},
	{"all delimiters", "%{l.-+,/_=}", V4, SPF_MACRO_DOMAIN, "strong.bad"},
	{"delimiter and reverse", "%{sr-}", V4, SPF_MACRO_DOMAIN,
	 "bad@email.example.com.strong"},
	{"trailing dot dropped", "%{d}.", V4, SPF_MACRO_DOMAIN, "email.example.com"},
	{"trailing dot kept in exp", "%{d}.", V4, SPF_MACRO_EXP, "email.example.com."},
	{"spaces in exp", "See http://%{d}/why.html?s=%{S} now", V4, SPF_MACRO_EXP,
	 "See http://email.example.com/why.html?s=strong-bad%40email.example.com now"},
	{"literal text", "_spf.example.com", V4, SPF_MACRO_DOMAIN, "_spf.example.com"},
	{"empty", "", V4, SPF_MACRO_DOMAIN, ""},
	/* errors */
	{"lone %", "a%", V4, SPF_MACRO_DOMAIN, NULL},
	{"% then letter", "%d", V4, SPF_MACRO_DOMAIN, NULL},
	{"unknown letter", "%{x}", V4, SPF_MACRO_DOMAIN, NULL},
	{"no close", "%{d", V4, SPF_MACRO_DOMAIN, NULL},
	{"zero digit (7.3)", "%{d0}", V4, SPF_MACRO_DOMAIN, NULL},
	{"bad delimiter", "%{d:}", V4, SPF_MACRO_DOMAIN, NULL},
	{"r before digits", "%{dr2}", V4, SPF_MACRO_DOMAIN, NULL},
	{"empty braces", "%{}", V4, SPF_MACRO_DOMAIN, NULL},
	{"space in domain-spec", "a b", V4, SPF_MACRO_DOMAIN, NULL},
	{"control in exp", "a\tb", V4, SPF_MACRO_EXP, NULL},
	{"non-ASCII", "caf\xc3\xa9", V4, SPF_MACRO_EXP, NULL},
	{"NUL inside", "a\0b", V4, SPF_MACRO_DOMAIN, NULL},
};

/* set_ctx - the RFC 7208 7.4 values */
static void
set_ctx(struct spf_macro_ctx *ctx, int ip)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->local = "strong-bad";
	ctx->sender_domain = "email.example.com";
	ctx->domain = "email.example.com";
	if (ip == V4) {
		ctx->family = AF_INET;
		inet_pton(AF_INET, "192.0.2.3", ctx->ip);
	} else {
		ctx->family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::cb01", ctx->ip);
	}
	ctx->ptr = "mx.example.org";
	ctx->helo = "mx.example.org";
	ctx->receiver = "mybox.example.net";
	ctx->now = 1700000000;
}

/* test_table - every row; the input is copied so nothing follows it */
static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct macro_case *c = &cases[i];
		size_t	len = strlen(c->in);
		struct spf_macro_ctx ctx;
		char	out[600], *in;
		const char *why = NULL;
		int	n, chk;

		if (strcmp(c->name, "NUL inside") == 0)
			len = 3;
		in = malloc(len ? len : 1);
		memcpy(in, c->in, len);
		set_ctx(&ctx, c->ip);
		n = spf_macro_expand(in, len, &ctx, c->mode, out, sizeof(out), &why);
		chk = spf_macro_check(in, len, c->mode, &why);
		if (c->want == NULL && n >= 0)
			tcase_bad(c->name, "got \"%s\", want an error", out);
		else if (c->want != NULL && n < 0)
			tcase_bad(c->name, "got error (%s), want \"%s\"", why, c->want);
		else if (c->want != NULL && strcmp(out, c->want) != 0)
			tcase_bad(c->name, "got \"%s\", want \"%s\"", out, c->want);
		else if (c->want != NULL && (size_t)n != strlen(out))
			tcase_bad(c->name, "got length %d, want %zu", n, strlen(out));
		else if ((chk == 0) != (c->want != NULL))
			tcase_bad(c->name, "check got %d, expand disagrees", chk);
		free(in);
	}
	tcase_done();
}

/* test_truncate - 7.3: over 253 characters, left labels go */
static void
test_truncate(void **state)
{
	struct spf_macro_ctx ctx;
	char	local[200], in[400], out[600];
	const char *why;
	int	n;

	(void)state;
	set_ctx(&ctx, V4);
	/* local part of 100 one-char labels "a.a.a..." = 199 chars */
	for (int i = 0; i < 100; i++) {
		local[2 * i] = 'a';
		local[2 * i + 1] = '.';
	}
	local[199] = '\0';
	ctx.local = local;
	snprintf(in, sizeof(in), "%%{l}.%%{l}.example.com");
	n = spf_macro_expand(in, strlen(in), &ctx, SPF_MACRO_DOMAIN, out,
			     sizeof(out), &why);
	assert_true(n > 0);
	assert_true(n <= SPF_MAX_DOMAIN_LEN);
	assert_true(n >= SPF_MAX_DOMAIN_LEN - 1);
	assert_string_equal(out + n - 12, ".example.com");
	assert_int_equal(out[0], 'a');
	/* explanations are not cut */
	n = spf_macro_expand(in, strlen(in), &ctx, SPF_MACRO_EXP, out,
			     sizeof(out), &why);
	assert_int_equal(n, 199 * 2 + 1 + 12);
	/* but bounded by the buffer */
	n = spf_macro_expand(in, strlen(in), &ctx, SPF_MACRO_EXP, out, 100, &why);
	assert_int_equal(n, -1);
	/* a label of 398 characters goes whole */
	memset(local, 'b', 199);
	ctx.local = local;
	snprintf(in, sizeof(in), "%%{l}%%{l}.example.com");
	assert_int_equal(spf_macro_expand(in, strlen(in), &ctx, SPF_MACRO_DOMAIN,
					  out, sizeof(out), &why), 11);
	assert_string_equal(out, "example.com");
	/* nothing left to cut */
	snprintf(in, sizeof(in), "%%{l}%%{l}");
	assert_int_equal(spf_macro_expand(in, strlen(in), &ctx, SPF_MACRO_DOMAIN,
					  out, sizeof(out), &why), -1);
}

/* test_uses_p - only a real %{p} */
static void
test_uses_p(void **state)
{
	(void)state;
	assert_true(spf_macro_uses_p("%{p}", 4));
	assert_true(spf_macro_uses_p("x.%{P2}.y", 9));
	assert_false(spf_macro_uses_p("%%{p}", 5));
	assert_false(spf_macro_uses_p("%{d}.p", 6));
	assert_false(spf_macro_uses_p("%{p}", 2));	/* length bound */
}

/* test_unknown - NULL p and r are "unknown" (RFC 7208 7.3) */
static void
test_unknown(void **state)
{
	struct spf_macro_ctx ctx;
	char	out[100];
	const char *why;

	(void)state;
	set_ctx(&ctx, V4);
	ctx.ptr = NULL;
	ctx.receiver = NULL;
	assert_int_equal(spf_macro_expand("%{p} %{r}", 9, &ctx, SPF_MACRO_EXP,
					  out, sizeof(out), &why), 15);
	assert_string_equal(out, "unknown unknown");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_uses_p),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests_name("spf_macro", tests, NULL, NULL);
}
