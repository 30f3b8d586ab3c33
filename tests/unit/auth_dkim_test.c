/*++
 * NAME
 *	auth_dkim_test 1
 * SUMMARY
 *	unit tests of DKIM verification (milters/auth/auth_dkim.c)
 * DESCRIPTION
 *	Messages signed by dkimpy (tests/unit/data/auth_dkim/gen.py: RSA
 *	2048, RSA 512, Ed25519, a revoked key, a missing key, a key whose
 *	lookup fails, an altered body, an altered signed header, two
 *	signatures) go through the verifier the way the milter feeds it:
 *	field by field, the body in small chunks. Keys come from a table
 *	through the lookup hook, so the test needs no DNS; a real server is
 *	covered end to end. The signature limit is checked with max_sigs 1.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcase.h"
#include "xalloc.h"
#include "../../milters/auth/auth_dkim.h"

#define DATA "tests/unit/data/auth_dkim/"

/* slurp - a whole file, NUL-terminated */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
		fail_msg("short read %s", path);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static char *keys;

/* keys_txt - the key table as a TXT lookup */
static int
keys_txt(void *arg, const char *name, struct dns_txt_result *out)
{
	size_t nl = strlen(name);
	const char *p;

	memset(out, 0, sizeof(*out));
	out->status = DNS_NXDOMAIN;
	for (p = keys; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *eol = strchr(p, '\n');
		size_t vl;

		if (strncmp(p, name, nl) != 0 || p[nl] != '\t')
			continue;
		vl = (size_t)((eol ? eol : p + strlen(p)) - (p + nl + 1));
		if (vl == 8 && strncmp(p + nl + 1, "TEMPFAIL", 8) == 0) {
			out->status = DNS_TEMPFAIL;
			return out->status;
		}
		out->status = DNS_OK;
		out->count = 1;
		out->txt[0].data = xmalloc(vl + 1);
		memcpy(out->txt[0].data, p + nl + 1, vl);
		out->txt[0].data[vl] = '\0';
		out->txt[0].len = vl;
		return out->status;
	}
	return out->status;
}

/* verify - feed one message file; results into out */
static size_t
verify(const struct auth_dkim_lib *lib, const char *file,
       struct auth_dkim_sig *out, size_t max)
{
	size_t len, n;
	char *msg = slurp(file, &len), *p = msg, *body;
	const char *why;
	struct auth_dkim_msg *m = auth_dkim_msg_new(lib, keys_txt, NULL, &why);

	assert_non_null(m);
	body = strstr(msg, "\r\n\r\n");
	assert_non_null(body);
	body[2] = '\0';
	while (*p) {
		/* one field: up to a CRLF not followed by WSP */
		char *colon = strchr(p, ':'), *end = p;

		while ((end = strstr(end, "\r\n")) != NULL && (end[2] == ' ' || end[2] == '\t'))
			end += 2;
		*colon = '\0';
		*end = '\0';
		auth_dkim_header(m, p, colon + 1);
		p = end + 2;
	}
	auth_dkim_eoh(m);
	body += 4;
	/* in 3-byte chunks, as a worst case of the MTA's body chunks */
	for (p = body; *p; p += strlen(p) < 3 ? strlen(p) : 3)
		auth_dkim_body(m, (const unsigned char *)p, strlen(p) < 3 ? strlen(p) : 3);
	n = auth_dkim_eom(m, out, max);
	auth_dkim_msg_free(m);
	free(msg);
	return n;
}

static void
test_verify(void **state)
{
	static const struct {
		const char *file, *want;	/* "res/selector/alg/why;..." */
	} cases[] = {
		{"pass", "pass/rsa/rsa-sha256/"},
		{"ed25519", "pass/ed/ed25519-sha256/"},
		{"body", "fail/rsa/rsa-sha256/body hash mismatch"},
		{"header", "fail/rsa/rsa-sha256/signature verification failed"},
		{"small", "policy/small/rsa-sha256/key too small"},
		{"nokey", "permerror/missing/rsa-sha256/no key"},
		{"revoked", "fail/revoked/rsa-sha256/key revoked"},
		{"tempfail", "temperror/tempfail/rsa-sha256/key query failed"},
		{"two", "pass/rsa/rsa-sha256/;pass/ed/ed25519-sha256/"},
	};
	struct auth_dkim_lib *lib;
	struct auth_dkim_sig sigs[8];
	const char *why;
	size_t i, k, n, len;

	keys = slurp(DATA "keys.txt", &len);
	lib = auth_dkim_lib_new(1024, 8, &why);
	assert_non_null(lib);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char file[256], got[512];
		size_t g = 0;

		snprintf(file, sizeof(file), DATA "msg-%s.eml", cases[i].file);
		n = verify(lib, file, sigs, 8);
		got[0] = '\0';
		for (k = 0; k < n; k++) {
			g += snprintf(got + g, sizeof(got) - g, "%s%s/%s/%s/%s", k ? ";" : "",
				      auth_dkim_res_name(sigs[k].res), sigs[k].selector,
				      sigs[k].alg, sigs[k].why);
			if (strcmp(sigs[k].domain, "example.test") != 0 || strlen(sigs[k].b) != 8)
				tcase_bad(cases[i].file, "got d=%s b=%s", sigs[k].domain, sigs[k].b);
		}
		if (strcmp(got, cases[i].want) != 0)
			tcase_bad(cases[i].file, "got \"%s\", want \"%s\"", got, cases[i].want);
	}
	auth_dkim_lib_free(lib);
	/* the limit: only the first signature is verified */
	lib = auth_dkim_lib_new(1024, 1, &why);
	n = verify(lib, DATA "msg-two.eml", sigs, 8);
	if (n != 1 || sigs[0].res != AUTH_DKIM_PASS || strcmp(sigs[0].selector, "rsa") != 0)
		tcase_bad("max_sigs 1", "got %zu results", n);
	auth_dkim_lib_free(lib);
	free(keys);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests_name("auth_dkim", tests, NULL, NULL);
}
