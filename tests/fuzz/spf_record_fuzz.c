/*++
 * NAME
 *	spf_record_fuzz 1
 * SUMMARY
 *	libFuzzer target for the SPF record parser and macro expander
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	spf_record_parse() (as is, and behind "v=spf1 " so the fuzzer need
 *	not find the version first) and to spf_macro_expand() in both modes,
 *	and aborts when a result breaks the contract in spf_record.h and
 *	spf_macro.h:
 *	- a failed parse gives a reason; a good one at most SPF_MAX_TERMS
 *	  terms whose strings lie inside the input, qualifiers in "+-~?",
 *	  CIDR lengths within their family's range, and every domain-spec,
 *	  redirect= and exp= passes spf_domain_spec_ok();
 *	- spf_macro_check() and spf_macro_expand() agree on validity;
 *	- an expansion is NUL-terminated at the returned length, which a
 *	  domain expansion keeps within SPF_MAX_DOMAIN_LEN.
 *	ASan/UBSan catch the rest.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"
#include "spf_record.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "spf_record_fuzz: %s\n", what);
	abort();
}

/* fuzz_inside - does [p, p+n) lie within [buf, buf+len) */
static bool
fuzz_inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

/* fuzz_record - parse and check the invariants */
static void
fuzz_record(const char *buf, size_t len, struct spf_record *rec)
{
	const char *why = NULL;

	if (spf_record_parse(buf, len, rec, &why) < 0) {
		if (why == NULL || *why == '\0')
			fuzz_fail("failure without a reason");
		return;
	}
	if (rec->nterms > SPF_MAX_TERMS)
		fuzz_fail("too many terms");
	for (size_t i = 0; i < rec->nterms; i++) {
		const struct spf_term *t = &rec->term[i];

		if (strchr("+-~?", t->qualifier) == NULL || t->qualifier == '\0')
			fuzz_fail("bad qualifier");
		if (!fuzz_inside(t->text, t->text_len, buf, len))
			fuzz_fail("term text outside the input");
		if (t->spec != NULL && !fuzz_inside(t->spec, t->spec_len, buf, len))
			fuzz_fail("domain-spec outside the input");
		if (t->cidr4 > 32 || t->cidr6 > 128)
			fuzz_fail("CIDR length out of range");
		if (t->spec != NULL && t->mech != SPF_MECH_IP4 && t->mech != SPF_MECH_IP6
		    && !spf_domain_spec_ok(t->spec, t->spec_len))
			fuzz_fail("accepted a bad domain-spec");
	}
	if (rec->redirect != NULL
	    && (!fuzz_inside(rec->redirect, rec->redirect_len, buf, len)
		|| !spf_domain_spec_ok(rec->redirect, rec->redirect_len)))
		fuzz_fail("bad redirect");
	if (rec->exp != NULL
	    && (!fuzz_inside(rec->exp, rec->exp_len, buf, len)
		|| !spf_domain_spec_ok(rec->exp, rec->exp_len)))
		fuzz_fail("bad exp");
}

/* fuzz_macro - expand in one mode, compare with the checker */
static void
fuzz_macro(const char *buf, size_t len, enum spf_macro_mode mode)
{
	struct spf_macro_ctx ctx;
	char	out[1024];
	const char *why = NULL;
	int	n, chk;

	memset(&ctx, 0, sizeof(ctx));
	ctx.local = "strong-bad";
	ctx.sender_domain = "email.example.com";
	ctx.domain = "email.example.com";
	ctx.family = len % 2 ? AF_INET : AF_INET6;
	inet_pton(ctx.family, ctx.family == AF_INET ? "192.0.2.3" : "2001:db8::cb01",
		  ctx.ip);
	ctx.helo = "mx.example.org";
	ctx.now = 1700000000;
	n = spf_macro_expand(buf, len, &ctx, mode, out, sizeof(out), &why);
	chk = spf_macro_check(buf, len, mode, &why);
	if (n >= 0 && chk < 0)
		fuzz_fail("expanded what the checker rejects");
	if (n < 0 && chk == 0 && strcmp(why, "macro expansion too long") != 0
	    && strcmp(why, "expanded domain name too long") != 0)
		fuzz_fail("failed to expand what the checker accepts");
	if (n >= 0 && (size_t)n != strlen(out))
		fuzz_fail("length does not match the string");
	if (n >= 0 && mode == SPF_MACRO_DOMAIN && n > SPF_MAX_DOMAIN_LEN)
		fuzz_fail("domain expansion over 253 characters");
}

/* LLVMFuzzerTestOneInput - one input through every entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copies, so reads past len are caught by ASan */
	char	*buf = malloc(size ? size : 1);
	char	*pre = malloc(size + 7);
	struct spf_record *rec = malloc(sizeof(*rec));

	if (buf == NULL || pre == NULL || rec == NULL)
		abort();
	memcpy(buf, data, size);
	memcpy(pre, "v=spf1 ", 7);
	memcpy(pre + 7, data, size);
	fuzz_record(buf, size, rec);
	fuzz_record(pre, size + 7, rec);
	fuzz_macro(buf, size, SPF_MACRO_DOMAIN);
	fuzz_macro(buf, size, SPF_MACRO_EXP);
	(void)spf_record_is_spf(buf, size);
	free(rec);
	free(pre);
	free(buf);
	return 0;
}
