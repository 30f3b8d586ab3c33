/*++
 * NAME
 *	bounce_ref_test 1
 * SUMMARY
 *	unit tests of the reference header and the Feedback-ID builder
 *	(milters/bounce/bounce_ref.c, bounce_fbid.c)
 * DESCRIPTION
 *	Reference: round trips with their expiry edge; every character
 *	changed in turn (never ok); a tag is never a reference nor the
 *	other way round; key rotation (ok while the old key is listed,
 *	unknown_key once removed); white space and case of a header value;
 *	malformed values.
 *	Feedback-ID: the sources and their checks (the SenderId must be
 *	stable per sender and 5-15 characters), the values built for
 *	messages (hashes checked against values computed outside C), the
 *	cleaning of untrusted header values, empty fields, no SenderId.
 *	Parameters: bounce_ref, bounce_ref_lifetime, bounce_fbl_addresses
 *	and bounce_feedback_id as the configuration loader checks them.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "errlist.h"
#include "../../milters/bounce/bounce_conf.h"

#include "../../milters/bounce/bounce_fbid.h"
#include "../../milters/bounce/bounce_keys.h"
#include "../../milters/bounce/bounce_ref.h"
#include "../../milters/bounce/bounce_tag.h"

#define NOW	1700000000LL

static const unsigned char id1[BOUNCE_TAG_ID_LEN] = {
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23,
};

static const char *const sec_old = "old-secret-0123456789abcdef";
static const char *const sec_new = "new-secret-fedcba9876543210";

/* ring_of - a keyring of the given secrets, in order */
static void
ring_of(struct bounce_keyring *ring, const char *const *secrets, size_t n)
{
	const char *why;

	memset(ring, 0, sizeof(*ring));
	for (size_t i = 0; i < n; i++)
		if (bounce_keyring_add(ring, (const unsigned char *)secrets[i],
				       strlen(secrets[i]), &why) < 0)
			fail_msg("keyring_add(%s): %s", secrets[i], why);
}

/* test_ref_round_trip - encode, decode at several times */
static void
test_ref_round_trip(void **state)
{
	static const struct {
		const char *name;
		long long expires, now;
		enum bounce_tag_status want;
	} cases[] = {
		{"a day left", NOW + 86400, NOW, BOUNCE_TAG_OK},
		{"one second left", NOW + 1, NOW, BOUNCE_TAG_OK},
		{"expired at the second", NOW, NOW, BOUNCE_TAG_EXPIRED},
		{"expired long ago", NOW - 86400 * 30, NOW, BOUNCE_TAG_EXPIRED},
		{"the largest expiry", 0xffffffffLL, NOW, BOUNCE_TAG_OK},
	};
	struct bounce_keyring ring;
	struct bounce_tag t;
	char ref[BOUNCE_REF_CHARS + 1];
	const char *why;

	ring_of(&ring, &sec_new, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum bounce_tag_status st;

		assert_int_equal(bounce_ref_encode(&ring.keys[0], id1, cases[i].expires,
						   ref), 0);
		if (strlen(ref) != BOUNCE_REF_CHARS)
			tcase_bad(cases[i].name, "got length %zu, want %d", strlen(ref),
				  BOUNCE_REF_CHARS);
		for (const char *cp = ref; *cp; cp++)
			if (!(islower((unsigned char)*cp) || (*cp >= '2' && *cp <= '7')))
				tcase_bad(cases[i].name, "got '%c', want lower-case base32", *cp);
		st = bounce_ref_decode(&ring, ref, strlen(ref), cases[i].now, &t, &why);
		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  bounce_tag_status_name(st), why,
				  bounce_tag_status_name(cases[i].want));
		else if (memcmp(t.id, id1, sizeof(id1)) != 0 || t.expires != cases[i].expires)
			tcase_bad(cases[i].name, "got expires %lld, want %lld and the id",
				  t.expires, cases[i].expires);
	}
	tcase_done();
}

/* test_ref_tamper - every position, every other character: never ok */
static void
test_ref_tamper(void **state)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct bounce_keyring ring;
	struct bounce_tag t;
	char ref[BOUNCE_REF_CHARS + 1], bad[BOUNCE_REF_CHARS + 1];
	const char *why;

	ring_of(&ring, &sec_new, 1);
	assert_int_equal(bounce_ref_encode(&ring.keys[0], id1, NOW + 3600, ref), 0);
	for (size_t i = 0; i < BOUNCE_REF_CHARS; i++)
		for (size_t a = 0; a < 32; a++) {
			enum bounce_tag_status st;

			if (alpha[a] == ref[i])
				continue;
			memcpy(bad, ref, sizeof(bad));
			bad[i] = alpha[a];
			st = bounce_ref_decode(&ring, bad, BOUNCE_REF_CHARS, NOW, &t, &why);
			if (st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED) {
				char name[64];

				snprintf(name, sizeof(name), "position %zu -> '%c'", i, alpha[a]);
				tcase_bad(name, "got %s, want a refusal", bounce_tag_status_name(st));
			}
		}
	tcase_done();
}

/* test_ref_not_tag - a tag is no reference, a reference no tag */
static void
test_ref_not_tag(void **state)
{
	struct bounce_keyring ring;
	struct bounce_tag t;
	char tag[BOUNCE_TAG_CHARS + 1], ref[BOUNCE_REF_CHARS + 1];
	const char *why;
	enum bounce_tag_status st;

	ring_of(&ring, &sec_new, 1);
	assert_int_equal(bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, tag), 0);
	assert_int_equal(bounce_ref_encode(&ring.keys[0], id1, NOW + 3600, ref), 0);
	if (strcmp(tag, ref) == 0)
		tcase_bad("same id and expiry", "got the same text for tag and ref");
	st = bounce_ref_decode(&ring, tag, strlen(tag), NOW, &t, &why);
	if (st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED)
		tcase_bad("tag as ref", "got %s, want a refusal", bounce_tag_status_name(st));
	st = bounce_tag_decode(&ring, ref, strlen(ref), NOW, &t, &why);
	if (st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED)
		tcase_bad("ref as tag", "got %s, want a refusal", bounce_tag_status_name(st));
	/* the version byte alone changed to a tag's: the MAC label still differs */
	st = bounce_tag_open(&ring, BOUNCE_TAG_VERSION, "postmill-bounce ref", tag,
			     strlen(tag), NOW, &t, &why);
	if (st != BOUNCE_TAG_BAD_MAC)
		tcase_bad("tag with the ref's label", "got %s, want bad_mac",
			  bounce_tag_status_name(st));
	tcase_done();
}

/* test_ref_rotation - the old key verifies while listed */
static void
test_ref_rotation(void **state)
{
	const char *both[] = {sec_new, sec_old};
	struct bounce_keyring old, rotated, new_only;
	struct bounce_tag t;
	char ref[BOUNCE_REF_CHARS + 1];
	const char *why;
	static const struct {
		const char *name;
		int ring;		/* 0 old, 1 rotated, 2 new only */
		enum bounce_tag_status want;
	} cases[] = {
		{"signed and checked by the old key", 0, BOUNCE_TAG_OK},
		{"new key first, old still listed", 1, BOUNCE_TAG_OK},
		{"old key removed", 2, BOUNCE_TAG_UNKNOWN_KEY},
	};

	ring_of(&old, &sec_old, 1);
	ring_of(&rotated, both, 2);
	ring_of(&new_only, &sec_new, 1);
	assert_int_equal(bounce_ref_encode(&old.keys[0], id1, NOW + 3600, ref), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bounce_keyring *r = cases[i].ring == 0 ? &old
		    : cases[i].ring == 1 ? &rotated : &new_only;
		enum bounce_tag_status st = bounce_ref_decode(r, ref, strlen(ref), NOW,
							      &t, &why);

		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got %s, want %s", bounce_tag_status_name(st),
				  bounce_tag_status_name(cases[i].want));
	}
	tcase_done();
}

/* test_ref_values - header values: space, case, junk */
static void
test_ref_values(void **state)
{
	struct bounce_keyring ring;
	struct bounce_tag t;
	char ref[BOUNCE_REF_CHARS + 1], v[200];
	const char *why;
	static const struct {
		const char *name;
		const char *pre, *post;	/* around the genuine value */
		int	 cut;		/* characters of it kept, -1 all */
		enum bounce_tag_status want;
	} cases[] = {
		{"as written", "", "", -1, BOUNCE_TAG_OK},
		{"leading space", " ", "", -1, BOUNCE_TAG_OK},
		{"folded", "\r\n\t", "\r\n", -1, BOUNCE_TAG_OK},
		{"trailing junk", "", " x", -1, BOUNCE_TAG_MALFORMED},
		{"two values", "", " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -1,
		 BOUNCE_TAG_MALFORMED},
		{"cut", "", "", 40, BOUNCE_TAG_MALFORMED},
		{"empty", "", "", 0, BOUNCE_TAG_MALFORMED},
		{"padding", "", "=", -1, BOUNCE_TAG_MALFORMED},
		{"angle brackets", "<", ">", -1, BOUNCE_TAG_MALFORMED},
	};

	ring_of(&ring, &sec_new, 1);
	assert_int_equal(bounce_ref_encode(&ring.keys[0], id1, NOW + 3600, ref), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum bounce_tag_status st;
		int keep = cases[i].cut < 0 ? BOUNCE_REF_CHARS : cases[i].cut;

		snprintf(v, sizeof(v), "%s%.*s%s", cases[i].pre, keep, ref, cases[i].post);
		st = bounce_ref_decode(&ring, v, strlen(v), NOW, &t, &why);
		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  bounce_tag_status_name(st), why,
				  bounce_tag_status_name(cases[i].want));
	}
	/* upper case: base32 has no case */
	for (char *cp = ref; *cp; cp++)
		*cp = (char)toupper((unsigned char)*cp);
	if (bounce_ref_decode(&ring, ref, strlen(ref), NOW, &t, &why) != BOUNCE_TAG_OK)
		tcase_bad("upper case", "got %s, want ok", why);
	tcase_done();
}

/* test_fbid_parse - which source lists are accepted */
static void
test_fbid_parse(void **state)
{
	static const struct {
		const char *name;
		const char *items[6];
		size_t n;
		const char *want;	/* NULL: accepted; else in the error */
	} cases[] = {
		{"none", {NULL}, 0, NULL},
		{"SenderId only, hashed domain", {"hash:sender_domain"}, 1, NULL},
		{"all four", {"header:X-Campaign-ID", "login", "header:X-Mail-Type",
			      "hash:sender_domain"}, 4, NULL},
		{"literal SenderId", {"sender_domain", "literal:esp01"}, 2, NULL},
		{"hashed literal", {"hash:literal:x"}, 1, NULL},
		{"case of the words", {"HASH:Login"}, 1, NULL},
		{"five", {"login", "login", "login", "login", "hash:login"}, 5, "at most 4"},
		{"SenderId from a header", {"hash:header:X-Sender-Id"}, 1, "SenderId"},
		{"SenderId in clear", {"sender_domain"}, 1, "SenderId"},
		{"literal SenderId too short", {"literal:abcd"}, 1, "SenderId"},
		{"literal SenderId too long", {"literal:abcdefghijklmnop"}, 1, "SenderId"},
		{"literal with a colon", {"literal:a:b", "hash:login"}, 2, "letters, digits"},
		{"empty literal", {"literal:", "hash:login"}, 2, "literal of 1-"},
		{"header with a space", {"header:X Campaign", "hash:login"}, 2, "header field name"},
		{"empty header name", {"header:", "hash:login"}, 2, "header name"},
		{"unknown source", {"tenant", "hash:login"}, 2, "unknown source"},
	};
	struct bounce_fbid f;
	char err[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = bounce_fbid_parse(cases[i].items, cases[i].n, &f, err, sizeof(err));
		if (cases[i].want == NULL && rc != 0)
			tcase_bad(cases[i].name, "got \"%s\", want accepted", err);
		else if (cases[i].want != NULL && (rc == 0 || strstr(err, cases[i].want) == NULL))
			tcase_bad(cases[i].name, "got rc %d \"%s\", want an error with \"%s\"",
				  rc, err, cases[i].want);
		else if (rc == 0 && f.n != cases[i].n)
			tcase_bad(cases[i].name, "got %zu fields, want %zu", f.n, cases[i].n);
	}
	tcase_done();
}

/* test_fbid_build - the values written for messages */
static void
test_fbid_build(void **state)
{
	/* hashes: base32(SHA-256("postmill-bounce feedback-id" NUL v))[:12],
	 * computed with Python's hashlib and base64 */
	static const struct {
		const char *name;
		const char *items[4];
		size_t n;
		const char *login, *sender, *hdr[4];
		const char *want;	/* NULL: no header */
	} cases[] = {
		{"hashed sender domain", {"hash:sender_domain"}, 1, NULL,
		 "alice@customer.test", {NULL}, "hq7jg4cmepvx"},
		{"hashed sender", {"hash:sender"}, 1, NULL, "alice@customer.test", {NULL},
		 "yx4fck7sz6pm"},
		{"campaign, login, type, SenderId",
		 {"header:X-Campaign-ID", "login", "header:X-Mail-Type", "hash:sender_domain"},
		 4, "alice", "alice@customer.test", {"spring-2026", NULL, "newsletter", NULL},
		 "spring-2026:alice:newsletter:hq7jg4cmepvx"},
		{"hashed login as a field", {"hash:login", "literal:esp01"}, 2, "alice",
		 "a@b.test", {NULL}, "36yqjrxu4bru:esp01"},
		{"missing header: empty field", {"header:X-Campaign-ID", "literal:esp01"}, 2,
		 NULL, "a@b.test", {NULL}, ":esp01"},
		{"colons and spaces cleaned",
		 {"header:X-Campaign-ID", "literal:esp01"}, 2, NULL, "a@b.test",
		 {"  a:b c\t", NULL}, "a_b_c:esp01"},
		{"8-bit and control bytes cleaned", {"header:X-C", "literal:esp01"}, 2, NULL,
		 "a@b.test", {"caf\xc3\xa9\x01", NULL}, "caf___:esp01"},
		{"long value cut at 64",
		 {"header:X-C", "literal:esp01"}, 2, NULL, "a@b.test",
		 {"0123456789012345678901234567890123456789012345678901234567890123456789",
		  NULL}, "0123456789012345678901234567890123456789012345678901234567890123:esp01"},
		{"sender domain in clear", {"sender_domain", "literal:esp01"}, 2, NULL,
		 "alice@customer.test", {NULL}, "customer.test:esp01"},
		{"no login: no SenderId, no header", {"hash:login"}, 1, NULL,
		 "a@b.test", {NULL}, NULL},
		{"empty login: no header", {"hash:login"}, 1, "", "a@b.test", {NULL}, NULL},
		{"nothing configured", {NULL}, 0, "alice", "a@b.test", {NULL}, NULL},
	};
	struct bounce_fbid f;
	struct bounce_fbid_in in;
	char err[300], out[BOUNCE_FBID_VALUE_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		if (bounce_fbid_parse(cases[i].items, cases[i].n, &f, err, sizeof(err)) < 0) {
			tcase_bad(cases[i].name, "parse: %s", err);
			continue;
		}
		memset(&in, 0, sizeof(in));
		in.login = cases[i].login;
		in.sender = cases[i].sender;
		for (size_t k = 0; k < 4; k++)
			in.hdr[k] = cases[i].hdr[k];
		rc = bounce_fbid_build(&f, &in, out, sizeof(out));
		if (cases[i].want == NULL && rc != -1)
			tcase_bad(cases[i].name, "got \"%s\", want no header", out);
		else if (cases[i].want != NULL && (rc != 0 || strcmp(out, cases[i].want) != 0))
			tcase_bad(cases[i].name, "got rc %d \"%s\", want \"%s\"", rc, out,
				  cases[i].want);
	}
	/* a buffer too small writes nothing */
	{
		const char *items[] = {"hash:sender_domain"};

		assert_int_equal(bounce_fbid_parse(items, 1, &f, err, sizeof(err)), 0);
		memset(&in, 0, sizeof(in));
		in.sender = "a@b.test";
		if (bounce_fbid_build(&f, &in, out, 5) != -1 || out[0] != '\0')
			tcase_bad("small buffer", "got \"%s\", want nothing", out);
	}
	tcase_done();
}

/* test_conf - the feedback-loop rows through the configuration loader */
static void
test_conf(void **state)
{
	static const struct {
		const char *name, *text, *want;	/* want: NULL accepted, else in an error */
	} cases[] = {
		{"defaults", "", NULL},
		{"all set", "bounce_ref = no\nbounce_ref_lifetime = 30d\n"
		 "bounce_fbl_addresses = fbl, FBL2@bounces.test\n"
		 "bounce_feedback_id = header:X-Campaign-ID, login,\n    hash:sender_domain\n", NULL},
		{"tag-like FBL address", "bounce_fbl_addresses = b-fbl\n", "\"b-\" starts"},
		{"FBL address with a bracket", "bounce_fbl_addresses = <fbl>\n", "not a local part"},
		{"FBL address without local part", "bounce_fbl_addresses = @bounces.test\n",
		 "not a local part"},
		{"SenderId from a header", "bounce_feedback_id = hash:header:X-Id\n", "SenderId"},
		{"five sources", "bounce_feedback_id = login login login login hash:login\n",
		 "at most 4"},
		{"lifetime without unit is seconds, zero refused", "bounce_ref_lifetime = 0\n",
		 "bounce_ref_lifetime"},
	};
	const struct cfg_section *secs[] = {&bounce_section};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errlist el = ERRLIST_INIT;
		char path[] = "/tmp/brefXXXXXX";
		void *values[1] = {NULL};
		int fd = mkstemp(path), rc;
		FILE *fp = fdopen(fd, "w");
		bool found = false;

		fputs(cases[i].text, fp);
		fclose(fp);
		rc = cfg_load(path, secs, 1, values, &el);
		unlink(path);
		for (size_t k = 0; k < el.count; k++)
			found |= cases[i].want != NULL && strstr(el.msgs[k], cases[i].want) != NULL;
		if (cases[i].want == NULL && (rc < 0 || el.count != 0))
			tcase_bad(cases[i].name, "got %zu errors (%s), want none", el.count,
				  el.count ? el.msgs[0] : "");
		else if (cases[i].want != NULL && !found)
			tcase_bad(cases[i].name, "got %zu errors (%s), want one with \"%s\"",
				  el.count, el.count ? el.msgs[0] : "", cases[i].want);
		if (values[0] != NULL)
			cfg_values_free(&bounce_section, values[0]);
		errlist_free(&el);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_round_trip),
		cmocka_unit_test(test_ref_tamper),
		cmocka_unit_test(test_ref_not_tag),
		cmocka_unit_test(test_ref_rotation),
		cmocka_unit_test(test_ref_values),
		cmocka_unit_test(test_fbid_parse),
		cmocka_unit_test(test_fbid_build),
		cmocka_unit_test(test_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
