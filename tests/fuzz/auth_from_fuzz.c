/*++
 * NAME
 *	auth_from_fuzz 1
 * SUMMARY
 *	libFuzzer target for the DMARC From extraction
 * DESCRIPTION
 *	The input is one From value, or two when it holds a line "\nFrom:"
 *	(the split point). Aborts when auth_from_extract() breaks its
 *	contract: OK exactly when a domain comes out; the domain lowercase,
 *	normalized, never a literal; two fields never OK.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_from.h"

/* fuzz_fail - report and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_from_fuzz: %s\n", what);
	abort();
}

/* LLVMFuzzerTestOneInput - one message's From fields */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), *d;
	struct auth_from_field f[2];
	struct auth_from out;
	const char *why;
	const char *split;
	size_t n = 1;
	enum auth_from_status st;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	f[0].value = buf;
	f[0].len = size;
	split = memmem(buf, size, "\nFrom:", 6);
	if (split != NULL) {
		f[0].len = (size_t)(split - buf);
		f[1].value = split + 6;
		f[1].len = size - f[0].len - 6;
		n = 2;
	}
	st = auth_from_extract(f, n, &out, &why);
	if ((st == AUTH_FROM_OK) != (out.domain[0] != '\0'))
		fuzz_fail("domain/status mismatch");
	if (n == 2 && st != AUTH_FROM_FIELDS)
		fuzz_fail("two fields not refused");
	if (st == AUTH_FROM_OK) {
		if (out.domain[0] == '[')
			fuzz_fail("literal accepted");
		d = addr_domain_normalize(out.domain, &why);
		if (d == NULL || strcmp(d, out.domain) != 0)
			fuzz_fail("domain not normalized");
		free(d);
	}
	free(buf);
	return 0;
}
