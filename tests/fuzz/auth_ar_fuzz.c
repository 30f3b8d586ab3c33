/*++
 * NAME
 *	auth_ar_fuzz 1
 * SUMMARY
 *	libFuzzer target for the Authentication-Results parser and writer
 * DESCRIPTION
 *	Parses the input (exact-size copy, no NUL) with the default and a
 *	small result limit and aborts when a result breaks auth_ar.h:
 *	never more results than the limit, why set exactly on failure, an
 *	authserv-id whenever the status is not AUTH_AR_NO_ID, every text
 *	NUL-terminated within its field. Then it writes what it parsed and
 *	parses that again: our own output must always parse, with the same
 *	number of results, and contain no line break but the folding.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_ar.h"

/* fuzz_fail - report a broken invariant and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_ar_fuzz: %s\n", what);
	abort();
}

/* fuzz_one - parse with a limit, check, write, parse again */
static void
fuzz_one(const char *buf, size_t size, size_t max)
{
	static struct auth_ar ar, again;
	static char out[65536];
	const char *why;
	enum auth_ar_status st;
	size_t cap = max ? max : AUTH_AR_RESULTS_MAX, i;

	st = auth_ar_parse(buf, size, max, &ar, &why);
	if ((st == AUTH_AR_OK) != (why == NULL))
		fuzz_fail("why/status mismatch");
	if (ar.nresults > cap)
		fuzz_fail("more results than the limit");
	if ((st != AUTH_AR_NO_ID) != ar.have_id)
		fuzz_fail("have_id/status mismatch");
	if (memchr(ar.authserv_id, 0, sizeof(ar.authserv_id)) == NULL)
		fuzz_fail("id not terminated");
	if (!ar.have_id)
		return;
	for (i = 0; i < ar.nresults; i++)
		if (ar.results[i].nprops > AUTH_AR_PROPS_MAX || ar.results[i].method[0] == 0)
			fuzz_fail("bad result");
	if (auth_ar_write(out, sizeof(out), ar.authserv_id, ar.results, ar.nresults) < 0)
		fuzz_fail("write overflow");
	for (i = 0; out[i]; i++)
		if ((out[i] == '\n' && out[i + 1] != '\t') || out[i] == '\r')
			fuzz_fail("line break in output");
	if (auth_ar_parse(out, strlen(out), 0, &again, &why) != AUTH_AR_OK)
		fuzz_fail(why ? why : "own output does not parse");
	if (again.nresults != ar.nresults && !(ar.nresults == 0 && again.none))
		fuzz_fail("own output parses to another count");
}

/* LLVMFuzzerTestOneInput - one input */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_one(buf, size, 0);
	fuzz_one(buf, size, 3);
	free(buf);
	return 0;
}
