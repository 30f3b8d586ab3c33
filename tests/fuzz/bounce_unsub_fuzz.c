/*++
 * NAME
 *	bounce_unsub_fuzz 1
 * SUMMARY
 *	libFuzzer target for the one-click unsubscribe token decoder
 * DESCRIPTION
 *	Feeds the input (no terminating NUL) to bounce_unsub_decode() with
 *	the seed corpus's key, and aborts when the result breaks the
 *	contract in bounce_unsub.h: why is always set; a token that passes
 *	re-encodes to exactly the input (one spelling per token), with a
 *	tenant and recipient of printable octets. The same bytes as a path
 *	and as a POST body go through bounce_unsub_request(): a refusal
 *	always has a 4xx status, and only a decodable token is ever acted
 *	on. ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_keys.h"
#include "bounce_unsub.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_unsub_fuzz: %s\n", what);
	abort();
}

static struct bounce_keyring ring;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sec[] = "fuzz-unsub-secret-0123456789";
	struct bounce_unsub u;
	enum bounce_unsub_status st;
	const char *why = NULL;
	char *copy;

	if (ring.n == 0 && bounce_keyring_add(&ring, (const unsigned char *)sec,
					      strlen(sec), &why) < 0)
		fuzz_fail(why);
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	why = NULL;
	st = bounce_unsub_decode(&ring, copy, size, 1700000000LL, &u, &why);
	if (why == NULL)
		fuzz_fail("no why");
	if (st == BOUNCE_UNSUB_OK || st == BOUNCE_UNSUB_EXPIRED) {
		char again[BOUNCE_UNSUB_TOKEN_MAX + 1];
		unsigned char id[BOUNCE_UNSUB_MSGID_LEN];
		int n;

		for (size_t i = 0; u.msgid[0] != '\0' && i < sizeof(id); i++) {
			unsigned v;

			if (sscanf(u.msgid + 2 * i, "%2x", &v) != 1)
				fuzz_fail("message id not hex");
			id[i] = (unsigned char)v;
		}
		n = bounce_unsub_encode_ref(&ring.keys[0], u.tenant, u.rcpt,
					    u.msgid[0] != '\0' ? id : NULL, u.expires,
					    again, sizeof(again));

		if (n < 0 || (size_t)n != size || memcmp(again, copy, size) != 0)
			fuzz_fail("accepted a second spelling of a token");
	}
	{
		char *path = malloc(size + 4), *body = malloc(size ? size : 1);
		struct bounce_unsub u2;
		unsigned status;
		enum bounce_unsub_what w;

		if (path != NULL && body != NULL) {
			memcpy(path, "/u/", 3);
			memcpy(path + 3, data, size);
			path[size + 3] = '\0';
			memcpy(body, data, size);
			w = bounce_unsub_request(&ring, "POST", path, body, size,
						 1700000000LL, &u2, &status, &why);
			if (w == BOUNCE_UNSUB_REFUSE && (status < 400 || status > 499))
				fuzz_fail("refusal without a 4xx status");
			if (w != BOUNCE_UNSUB_REFUSE && u2.rcpt[0] == '\0')
				fuzz_fail("acted on no recipient");
		}
		free(path);
		free(body);
	}
	free(copy);
	return 0;
}
