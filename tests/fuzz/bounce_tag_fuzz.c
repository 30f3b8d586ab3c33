/*++
 * NAME
 *	bounce_tag_fuzz 1
 * SUMMARY
 *	libFuzzer target for the bounce tag decoder
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	bounce_tag_decode() and bounce_tag_local_decode() with a two-key
 *	ring, and aborts when a result breaks the contract in bounce_tag.h:
 *	- why is always set;
 *	- ok or expired only for input of the exact length, all base32;
 *	- an ok tag re-encoded with its key and lower-cased input are equal
 *	  (one tag per byte string: no second spelling passes);
 *	- the input the fuzzer cannot sign never passes: a random input is
 *	  ok only when it is a genuine tag, which the seed corpus holds.
 *	ASan/UBSan catch the rest.
 *--*/
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_keys.h"
#include "bounce_tag.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_tag_fuzz: %s\n", what);
	abort();
}

static struct bounce_keyring ring;

/* fuzz_ring - the two secrets of the seed corpus */
static void
fuzz_ring(void)
{
	static const char *const s[] = {
		"fuzz-secret-one-0123456789", "fuzz-secret-two-0123456789",
	};
	const char *why;

	if (ring.n != 0)
		return;
	for (size_t i = 0; i < 2; i++)
		if (bounce_keyring_add(&ring, (const unsigned char *)s[i],
				       strlen(s[i]), &why) < 0)
			fuzz_fail(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_tag t;
	const char *why = NULL;
	enum bounce_tag_status st;
	char *copy;

	fuzz_ring();
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	st = bounce_tag_decode(&ring, copy, size, 1700000000LL, &t, &why);
	if (why == NULL)
		fuzz_fail("no why");
	if ((st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED)) {
		const struct bounce_key *k = bounce_keyring_find(&ring, t.key_id);
		char again[BOUNCE_TAG_CHARS + 1];

		if (size != BOUNCE_TAG_CHARS || k == NULL)
			fuzz_fail("accepted a tag of the wrong length or key");
		if (bounce_tag_encode(k, t.id, t.expires, again) < 0)
			fuzz_fail("re-encode failed");
		for (size_t i = 0; i < size; i++)
			if (tolower((unsigned char)copy[i]) != again[i])
				fuzz_fail("accepted a second spelling of a tag");
	}
	why = NULL;
	(void)bounce_tag_local_decode(&ring, copy, size, 1700000000LL, &t, &why);
	if (why == NULL)
		fuzz_fail("no why (local part)");
	free(copy);
	return 0;
}
