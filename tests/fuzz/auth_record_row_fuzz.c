/*++
 * NAME
 *	auth_record_row_fuzz 1
 * SUMMARY
 *	libFuzzer target for the report row and policy parsers (auth_record.h)
 * DESCRIPTION
 *	Parses the input (exact-size copy, may hold NULs) as a row and as a
 *	policy line, as postmillctl reads them back from Redis, and aborts
 *	when a contract breaks: an accepted row writes back to exactly the
 *	same row (format and parse are inverses), has a numeric source_ip, a
 *	header_from, at most AUTH_RECORD_SIGS_MAX dkim results; a refused one
 *	has a why.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_record.h"

/* fuzz_fail - report and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_record_row_fuzz: %s\n", what);
	abort();
}

/* LLVMFuzzerTestOneInput - one row, one policy */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[AUTH_RECORD_ROW_MAX + 1];
	struct auth_record_row r, back;
	struct auth_record_policy p;
	char *buf = malloc(size ? size : 1);
	const char *why = NULL;
	int n;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (auth_record_row_parse(buf, size, &r, &why) == 0) {
		if (r.source_ip[0] == '\0' || r.header_from[0] == '\0'
		    || r.ndkim > AUTH_RECORD_SIGS_MAX)
			fuzz_fail("accepted a row without ip or header_from");
		if ((n = auth_record_row_format(&r, text, sizeof(text))) < 0)
			fuzz_fail("an accepted row does not format");
		if (auth_record_row_parse(text, (size_t)n, &back, &why) != 0
		    || memcmp(&r, &back, sizeof(r)) != 0)
			fuzz_fail("format and parse are not inverses");
	} else if (why == NULL) {
		fuzz_fail("refused without why");
	}
	why = NULL;
	if (auth_record_policy_parse(buf, size, &p, &why) != 0 && why == NULL)
		fuzz_fail("policy refused without why");
	free(buf);
	return 0;
}
