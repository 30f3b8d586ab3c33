/*++
 * NAME
 *	b64url_test 1
 * SUMMARY
 *	unpadded base64url: RFC 4648 vectors, strict decoding
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "b64url.h"

struct b64_case {
	const char	*bytes;		/* NULL: a decode that must fail */
	const char	*text;
	const char	*why;
};

static const struct b64_case cases[] = {
	{"", "", NULL},			/* RFC 4648 section 10, unpadded */
	{"f", "Zg", NULL},
	{"fo", "Zm8", NULL},
	{"foo", "Zm9v", NULL},
	{"foob", "Zm9vYg", NULL},
	{"fooba", "Zm9vYmE", NULL},
	{"foobar", "Zm9vYmFy", NULL},
	{"\xfb\xff", "-_8", NULL},	/* the URL alphabet */
	{NULL, "Zm9vY", "bad length"},
	{NULL, "Zm9v+g", "not base64url"},
	{NULL, "Zm9v/g", "not base64url"},
	{NULL, "Zm9vYg==", "not base64url"},
	{NULL, "Zh", "non-zero padding bits"},	/* "f" has one spelling: Zg */
	{NULL, "Zm9", "non-zero padding bits"},
};

static void
test_b64url(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct b64_case *c = &cases[i];
		unsigned char raw[64];
		char text[64];
		const char *why = NULL;
		size_t n;
		int rc = b64url_decode(c->text, strlen(c->text), raw, sizeof(raw), &n, &why);

		if (c->bytes == NULL) {
			if (rc != -1 || why == NULL || strcmp(why, c->why) != 0)
				fail_msg("%s: got %d %s, want -1 %s", c->text, rc, why ? why : "-", c->why);
			continue;
		}
		if (rc != 0 || n != strlen(c->bytes) || memcmp(raw, c->bytes, n) != 0)
			fail_msg("%s: decode got %d (%zu bytes)", c->text, rc, n);
		if (b64url_encode((const unsigned char *)c->bytes, strlen(c->bytes), text,
				  sizeof(text)) != (int)strlen(c->text) || strcmp(text, c->text) != 0)
			fail_msg("%s: encode got %s", c->text, text);
	}
}

/* bounds: the output sizes are checked, both ways */
static void
test_b64url_bounds(void **state)
{
	unsigned char raw[2];
	char text[5];
	const char *why;
	size_t n;

	assert_int_equal(b64url_encode((const unsigned char *)"foo", 3, text, 4), -1);
	assert_int_equal(b64url_encode((const unsigned char *)"foo", 3, text, 5), 4);
	assert_int_equal(b64url_decode("Zm9v", 4, raw, 2, &n, &why), -1);
	assert_string_equal(why, "bad length");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_b64url_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
