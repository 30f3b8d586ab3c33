/*++
 * NAME
 *	events_parse_fuzz 1
 * SUMMARY
 *	libFuzzer target for the mail log parser (events_parse.h)
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	events_parse_line() and events_tag_id(), and aborts when a result
 *	breaks the contract: -1 always with why and kind OTHER; every
 *	string field NUL-terminated within its array and free of control
 *	bytes; a tag id of exactly 20 hex digits. ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events_parse.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "events_parse_fuzz: %s\n", what);
	abort();
}

/* fuzz_str - NUL within the array, no control byte */
static void
fuzz_str(const char *s, size_t size, const char *what)
{
	const char *nul = memchr(s, '\0', size);

	if (nul == NULL)
		fuzz_fail(what);
	for (const char *p = s; p < nul; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fuzz_fail(what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events_line l;
	const char *why = NULL;
	char *copy = malloc(size ? size : 1), hex[EVENTS_ID_HEX];
	int rc;

	memcpy(copy, data, size);
	rc = events_parse_line(copy, size, &l, &why);
	if (rc < 0 && (why == NULL || l.kind != EVENTS_L_OTHER))
		fuzz_fail("-1 without why, or not OTHER");
	if (rc != 0 && rc != -1)
		fuzz_fail("rc");
#define S(f) fuzz_str(l.f, sizeof(l.f), #f)
	S(time); S(service); S(qid); S(addr); S(orig_to); S(rcpt); S(status);
	S(dsn); S(relay); S(delay); S(text); S(msgid);
	if (events_tag_id(copy, size, hex) == 0) {
		if (strlen(hex) != 20 || strspn(hex, "0123456789abcdef") != 20)
			fuzz_fail("tag id");
	}
	free(copy);
	return 0;
}
