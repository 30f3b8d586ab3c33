/*++
 * NAME
 *	bounce_fbl_fuzz 1
 * SUMMARY
 *	libFuzzer target for complaints mapped back (bounce_fbl.c) and the
 *	reference header decoder (bounce_ref.c)
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	bounce_fbl_origin() and judges what it found with
 *	bounce_fbl_decide() against a one-key ring; feeds it also to
 *	bounce_ref_decode() and, as an untrusted header value, to
 *	bounce_fbid_build(). Aborts when a result breaks a contract:
 *	- the strings found are NUL-terminated within their arrays;
 *	- nref 0 means no ref text; a mapping needs evidence;
 *	- a reference the fuzzer cannot sign never verifies (the key is
 *	  not in the corpus), so a decide of "mapped" means a genuine
 *	  token, which needs the key: it never happens;
 *	- a built Feedback-ID has no character outside the allowed set.
 *	Seeds: the ARF reports of the development set (sisimai-arf-*.eml,
 *	from Sisimai's set-of-emails, BSD 2-Clause: corpus/bounce_fbl/NOTICE)
 *	and hand-made layouts (fbl-*.eml).
 *	ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_fbid.h"
#include "bounce_fbl.h"
#include "bounce_keys.h"
#include "bounce_ref.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_fbl_fuzz: %s\n", what);
	abort();
}

static struct bounce_keyring ring;
static struct bounce_bdomain bd = {"bounces.test", &ring};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const items[] = {"header:X-C", "login", "hash:sender_domain"};
	struct bounce_fbl_origin o;
	struct bounce_fbid f;
	struct bounce_fbid_in in;
	struct bounce_tag t;
	unsigned char id[BOUNCE_TAG_ID_LEN];
	char fb[BOUNCE_FBID_VALUE_MAX], err[300], *copy, *val;
	const char *why = NULL, *via = NULL;
	enum bounce_fbl_map m;

	if (ring.n == 0 && bounce_keyring_add(&ring, (const unsigned char *)
					      "fuzz-secret-not-in-the-corpus", 29, &why) < 0)
		fuzz_fail(why);
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (bounce_fbl_origin(copy, size, &o, &why) == 0) {
		if (strnlen(o.ref, sizeof(o.ref)) == sizeof(o.ref)
		    || strnlen(o.return_path, sizeof(o.return_path)) == sizeof(o.return_path)
		    || strnlen(o.mail_from, sizeof(o.mail_from)) == sizeof(o.mail_from)
		    || strnlen(o.feedback_type, sizeof(o.feedback_type))
		    == sizeof(o.feedback_type))
			fuzz_fail("unterminated string");
		if (o.nref == 0 && o.ref[0] != '\0')
			fuzz_fail("ref text without a field");
		m = bounce_fbl_decide(&bd, 1, &o, 1700000000LL, id, &via, &why);
		if (why == NULL || via == NULL)
			fuzz_fail("no why or via");
		if (m == BOUNCE_FBL_MAPPED)
			fuzz_fail("mapped without the key");
	}
	if (why == NULL)
		fuzz_fail("no why");
	if (bounce_ref_decode(&ring, copy, size, 1700000000LL, &t, &why) == BOUNCE_TAG_OK)
		fuzz_fail("a reference verified without the key");
	/* the input as a campaign header value */
	val = malloc(size + 1);
	if (val != NULL) {
		memcpy(val, data, size);
		val[size] = '\0';
		if (bounce_fbid_parse(items, 3, &f, err, sizeof(err)) < 0)
			fuzz_fail(err);
		memset(&in, 0, sizeof(in));
		in.hdr[0] = val;
		in.login = val;
		in.sender = "a@b.test";
		if (bounce_fbid_build(&f, &in, fb, sizeof(fb)) == 0)
			for (const char *cp = fb; *cp; cp++)
				if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
				      || (*cp >= '0' && *cp <= '9') || strchr("._@+=/-_:", *cp)))
					fuzz_fail("unclean Feedback-ID");
		free(val);
	}
	free(copy);
	return 0;
}
