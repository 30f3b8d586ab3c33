/*++
 * NAME
 *	auth_dmarc_record_fuzz 1
 * SUMMARY
 *	libFuzzer target for the DMARC record parser
 * DESCRIPTION
 *	Parses the input as one TXT record (exact-size copy, may hold NULs)
 *	and aborts when the result breaks auth_dmarc_record.h: an accepted
 *	record always has a p of none, quarantine or reject, sp and np are
 *	unset or a policy, psd is y, n or u; a refused one has a why. The
 *	same input after "v=DMARC1;" must always be accepted.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_dmarc_record.h"

/* fuzz_fail - report and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_dmarc_record_fuzz: %s\n", what);
	abort();
}

/* check - the contract for one parse */
static void
check(const char *buf, size_t size, int must_accept)
{
	struct auth_dmarc_record r;
	const char *why;
	enum auth_dmarc_rec_status st = auth_dmarc_record_parse(buf, size, &r, &why);

	if (st != AUTH_DMARC_REC_OK) {
		if (why == NULL || must_accept)
			fuzz_fail("refused without why, or a v=DMARC1 record refused");
		return;
	}
	if (r.p < AUTH_DMARC_P_NONE || r.p > AUTH_DMARC_P_REJECT)
		fuzz_fail("bad p");
	if (r.sp < AUTH_DMARC_P_UNSET || r.sp > AUTH_DMARC_P_REJECT
	    || r.np < AUTH_DMARC_P_UNSET || r.np > AUTH_DMARC_P_REJECT)
		fuzz_fail("bad sp/np");
	if (r.psd != 'y' && r.psd != 'n' && r.psd != 'u')
		fuzz_fail("bad psd");
}

/* LLVMFuzzerTestOneInput - one record */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), *pre = malloc(size + 9);

	if (buf == NULL || pre == NULL) {
		free(buf);
		free(pre);
		return 0;
	}
	memcpy(buf, data, size);
	check(buf, size, 0);
	memcpy(pre, "v=DMARC1;", 9);
	memcpy(pre + 9, data, size);
	check(pre, size + 9, 1);
	free(buf);
	free(pre);
	return 0;
}
