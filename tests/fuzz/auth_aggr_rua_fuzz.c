/*++
 * NAME
 *	auth_aggr_rua_fuzz 1
 * SUMMARY
 *	libFuzzer target for the rua parser of postmillctl dmarc report
 * DESCRIPTION
 *	Parses the input (exact-size copy, may hold NULs) as a DMARC TXT
 *	record and aborts when a contract of auth_aggr.h breaks: at most
 *	max URIs; each address has exactly one '@', no byte that could split
 *	a header field or an argv word (controls, space, <>()",;:\[]), a
 *	lowercase host without a trailing dot; -1 only for a record that does
 *	not start with v=DMARC1.
 *--*/
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_aggr.h"

/* fuzz_fail - report and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_aggr_rua_fuzz: %s\n", what);
	abort();
}

/* LLVMFuzzerTestOneInput - one record */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_aggr_uri u[3];
	char *buf = malloc(size ? size : 1);
	const char *why = NULL;
	int n, i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	n = auth_aggr_rua_parse(buf, size, u, 3, &why);
	if (n < 0 && auth_aggr_is_dmarc1(buf, size))
		fuzz_fail("a v=DMARC1 record refused");
	if (n > 3)
		fuzz_fail("more URIs than max");
	for (i = 0; i < n; i++) {
		const char *a = u[i].addr, *at = strchr(a, '@');
		size_t hl = strlen(u[i].host);

		if (at == NULL || strchr(at + 1, '@') != NULL || at == a)
			fuzz_fail("address without exactly one @");
		for (; *a; a++)
			if ((unsigned char)*a <= 0x20 || (unsigned char)*a >= 0x7f
			    || strchr("<>(),;:\\\"[]", *a) != NULL)
				fuzz_fail("address with a special byte");
		if (hl == 0 || u[i].host[hl - 1] == '.' || u[i].host[0] == '.'
		    || strstr(u[i].host, "..") != NULL)
			fuzz_fail("empty host, empty label or trailing dot");
		for (a = u[i].host; *a; a++)
			if (isupper((unsigned char)*a))
				fuzz_fail("host not lowercase");
	}
	free(buf);
	return 0;
}
