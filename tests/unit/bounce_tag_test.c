/*++
 * NAME
 *	bounce_tag_test 1
 * SUMMARY
 *	unit tests of the bounce tag codec and its keyring
 *	(milters/bounce/bounce_tag.c, bounce_keys.c)
 * DESCRIPTION
 *	Round trips; every character of a tag changed in turn (never OK);
 *	the expiry edge (valid one second before, expired at the second);
 *	key rotation (a tag of the old key still passes while it is listed,
 *	unknown_key once it is removed); upper- and mixed-case tags; malformed
 *	lengths and characters, no NUL needed; the "b-" local part, its
 *	length (<= 64); keyring rules (short secret, duplicate); and the
 *	secret-file checks (mode 0644 refused, 0600 read, trailing newline
 *	dropped).
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
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"
#include "../../milters/bounce/bounce_keys.h"
#include "../../milters/bounce/bounce_tag.h"

#define NOW	1700000000LL

static const unsigned char id1[BOUNCE_TAG_ID_LEN] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc,
};

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

static const char *const sec_old = "old-secret-0123456789abcdef";
static const char *const sec_new = "new-secret-fedcba9876543210";

/* test_round_trip - encode, decode, same fields; lower case, 48 chars */
static void
test_round_trip(void **state)
{
	static const long long exps[] = {NOW + 1, NOW + 86400 * 7, 0xffffffffLL};
	struct bounce_keyring ring;
	struct bounce_tag t;
	char tag[BOUNCE_TAG_CHARS + 1];
	const char *why;

	ring_of(&ring, &sec_new, 1);
	for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
		char name[32];
		enum bounce_tag_status st;

		snprintf(name, sizeof(name), "expiry %lld", exps[i]);
		assert_int_equal(bounce_tag_encode(&ring.keys[0], id1, exps[i], tag), 0);
		if (strlen(tag) != BOUNCE_TAG_CHARS)
			tcase_bad(name, "got length %zu, want %d", strlen(tag), BOUNCE_TAG_CHARS);
		for (const char *cp = tag; *cp; cp++)
			if (!(islower((unsigned char)*cp) || (*cp >= '2' && *cp <= '7')))
				tcase_bad(name, "got character '%c', want lower-case base32", *cp);
		st = bounce_tag_decode(&ring, tag, strlen(tag), NOW, &t, &why);
		if (st != BOUNCE_TAG_OK)
			tcase_bad(name, "got %s (%s), want ok", bounce_tag_status_name(st), why);
		else if (memcmp(t.id, id1, sizeof(id1)) != 0 || t.expires != exps[i]
			 || t.key_id != ring.keys[0].id)
			tcase_bad(name, "got expires %lld key %u, want %lld key %u",
				  t.expires, t.key_id, exps[i], ring.keys[0].id);
	}
	tcase_done();
}

/* test_tamper - every position, every other character: never ok */
static void
test_tamper(void **state)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	struct bounce_keyring ring;
	struct bounce_tag t;
	char tag[BOUNCE_TAG_CHARS + 1], bad[BOUNCE_TAG_CHARS + 1];
	const char *why;
	unsigned tried = 0;

	ring_of(&ring, &sec_new, 1);
	assert_int_equal(bounce_tag_encode(&ring.keys[0], id1, NOW + 3600, tag), 0);
	for (size_t i = 0; i < BOUNCE_TAG_CHARS; i++) {
		for (size_t a = 0; a < 32; a++) {
			enum bounce_tag_status st;

			if (alpha[a] == tag[i])
				continue;
			memcpy(bad, tag, sizeof(bad));
			bad[i] = alpha[a];
			st = bounce_tag_decode(&ring, bad, BOUNCE_TAG_CHARS, NOW, &t, &why);
			tried++;
			if (st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED) {
				char name[64];

				snprintf(name, sizeof(name), "position %zu -> '%c'", i, alpha[a]);
				tcase_bad(name, "got %s, want a refusal",
					  bounce_tag_status_name(st));
			}
		}
	}
	assert_int_equal(tried, BOUNCE_TAG_CHARS * 31);
	tcase_done();
}

/* test_statuses - the table: input, now, ring -> status */
static void
test_statuses(void **state)
{
	struct bounce_keyring both, newonly, oldonly, none;
	char t_new[BOUNCE_TAG_CHARS + 1], t_old[BOUNCE_TAG_CHARS + 1];
	char upper[BOUNCE_TAG_CHARS + 1], mixed[BOUNCE_TAG_CHARS + 1];
	char nonul[BOUNCE_TAG_CHARS + 8];
	const char *rot[2] = {sec_new, sec_old};

	ring_of(&both, rot, 2);
	ring_of(&newonly, &sec_new, 1);
	ring_of(&oldonly, &sec_old, 1);
	memset(&none, 0, sizeof(none));
	assert_int_equal(bounce_tag_encode(&newonly.keys[0], id1, NOW + 10, t_new), 0);
	assert_int_equal(bounce_tag_encode(&oldonly.keys[0], id1, NOW + 10, t_old), 0);
	for (size_t i = 0; i <= BOUNCE_TAG_CHARS; i++) {
		upper[i] = (char)toupper((unsigned char)t_new[i]);
		mixed[i] = i % 2 ? upper[i] : t_new[i];
	}
	/* the tag followed by garbage and no NUL: len says where it ends */
	memcpy(nonul, t_new, BOUNCE_TAG_CHARS);
	memcpy(nonul + BOUNCE_TAG_CHARS, "zzzzzzzz", 8);

	struct {
		const char *name;
		const char *text;
		size_t len;		/* (size_t)-1: strlen */
		long long now;
		const struct bounce_keyring *ring;
		enum bounce_tag_status want;
	} cases[] = {
		{"valid", t_new, (size_t)-1, NOW, &newonly, BOUNCE_TAG_OK},
		{"one second before expiry", t_new, (size_t)-1, NOW + 9, &newonly, BOUNCE_TAG_OK},
		{"at expiry", t_new, (size_t)-1, NOW + 10, &newonly, BOUNCE_TAG_EXPIRED},
		{"after expiry", t_new, (size_t)-1, NOW + 86400, &newonly, BOUNCE_TAG_EXPIRED},
		{"upper case", upper, (size_t)-1, NOW, &newonly, BOUNCE_TAG_OK},
		{"mixed case", mixed, (size_t)-1, NOW, &newonly, BOUNCE_TAG_OK},
		{"no NUL after the tag", nonul, BOUNCE_TAG_CHARS, NOW, &newonly, BOUNCE_TAG_OK},
		{"rotation: new key signs, both accepted", t_new, (size_t)-1, NOW, &both, BOUNCE_TAG_OK},
		{"rotation: old tag still accepted", t_old, (size_t)-1, NOW, &both, BOUNCE_TAG_OK},
		{"rotation: old key removed", t_old, (size_t)-1, NOW, &newonly, BOUNCE_TAG_UNKNOWN_KEY},
		{"expired tag of removed key", t_old, (size_t)-1, NOW + 99, &newonly, BOUNCE_TAG_UNKNOWN_KEY},
		{"empty", "", 0, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"one short", t_new, BOUNCE_TAG_CHARS - 1, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"one long", nonul, BOUNCE_TAG_CHARS + 1, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"digit 1 (not base32)", "1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", (size_t)-1, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"padding '='", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=", (size_t)-1, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"NUL inside", "aaaaaaaaaaaaaaaaaaaaaaa\0aaaaaaaaaaaaaaaaaaaaaaaa", BOUNCE_TAG_CHARS, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"version 0", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", (size_t)-1, NOW, &newonly, BOUNCE_TAG_MALFORMED},
		{"empty keyring", t_new, (size_t)-1, NOW, &none, BOUNCE_TAG_UNKNOWN_KEY},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bounce_tag t;
		const char *why = NULL;
		size_t len = cases[i].len == (size_t)-1 ? strlen(cases[i].text) : cases[i].len;
		enum bounce_tag_status st = bounce_tag_decode(cases[i].ring, cases[i].text,
							      len, cases[i].now, &t, &why);

		if (st != cases[i].want)
			tcase_bad(cases[i].name, "got %s (%s), want %s",
				  bounce_tag_status_name(st), why ? why : "-",
				  bounce_tag_status_name(cases[i].want));
		if (why == NULL)
			tcase_bad(cases[i].name, "got no why");
	}
	tcase_done();
}

/* test_local - "b-TAG" local parts and their length */
static void
test_local(void **state)
{
	struct bounce_keyring ring;
	char tag[BOUNCE_TAG_CHARS + 1], local[80];
	struct bounce_tag t;
	const char *why;

	ring_of(&ring, &sec_new, 1);
	assert_int_equal(bounce_tag_encode(&ring.keys[0], id1, NOW + 60, tag), 0);
	snprintf(local, sizeof(local), "%s%s", BOUNCE_TAG_PREFIX, tag);
	assert_true(strlen(local) <= 64);
	assert_int_equal(strlen(local), BOUNCE_TAG_LOCAL_LEN);
	assert_int_equal(bounce_tag_local_decode(&ring, local, strlen(local), NOW, &t, &why),
			 BOUNCE_TAG_OK);
	for (char *cp = local; *cp; cp++)
		*cp = (char)toupper((unsigned char)*cp);
	assert_int_equal(bounce_tag_local_decode(&ring, local, strlen(local), NOW, &t, &why),
			 BOUNCE_TAG_OK);
	assert_int_equal(bounce_tag_local_decode(&ring, "b", 1, NOW, &t, &why),
			 BOUNCE_TAG_MALFORMED);
	assert_int_equal(bounce_tag_local_decode(&ring, "c-x", 3, NOW, &t, &why),
			 BOUNCE_TAG_MALFORMED);
	assert_int_equal(bounce_tag_local_decode(&ring, "postmaster", 10, NOW, &t, &why),
			 BOUNCE_TAG_MALFORMED);
	{
		char hex[BOUNCE_TAG_ID_HEX];

		bounce_tag_id_hex(id1, hex);
		assert_string_equal(hex, "0123456789abcdeffedc");
	}
}

/* test_keyring - the rules of bounce_keyring_add */
static void
test_keyring(void **state)
{
	struct bounce_keyring ring;
	const char *why;

	memset(&ring, 0, sizeof(ring));
	assert_int_equal(bounce_keyring_add(&ring, (const unsigned char *)"short", 5, &why), -1);
	assert_int_equal(bounce_keyring_add(&ring, (const unsigned char *)sec_new,
					    strlen(sec_new), &why), 0);
	assert_int_equal(bounce_keyring_add(&ring, (const unsigned char *)sec_new,
					    strlen(sec_new), &why), -1);
	assert_non_null(strstr(why, "same key id"));
	assert_int_equal(ring.n, 1);
	assert_ptr_equal(bounce_keyring_find(&ring, ring.keys[0].id), &ring.keys[0]);
	assert_null(bounce_keyring_find(&ring, (ring.keys[0].id + 1) & 255));
}

/* test_files - modes and contents of secret files */
static void
test_files(void **state)
{
	char dir[] = "/tmp/bkeyXXXXXX", good[64], open_[64], shortf[64];
	struct cfg_list list;
	char *items[2];
	struct errlist el = ERRLIST_INIT;
	struct bounce_keyring *ring;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(good, sizeof(good), "%s/good", dir);
	snprintf(open_, sizeof(open_), "%s/open", dir);
	snprintf(shortf, sizeof(shortf), "%s/short", dir);
	assert_non_null(fp = fopen(good, "w"));
	fprintf(fp, "%s\n", sec_new);
	fclose(fp);
	chmod(good, 0600);
	assert_non_null(fp = fopen(open_, "w"));
	fprintf(fp, "%s\n", sec_old);
	fclose(fp);
	chmod(open_, 0644);
	assert_non_null(fp = fopen(shortf, "w"));
	fprintf(fp, "abc\n");
	fclose(fp);
	chmod(shortf, 0600);

	/* the file's secret is the text minus its newline: same id as the string */
	items[0] = good;
	list.items = items;
	list.count = 1;
	ring = bounce_keys_load(&list, &el);
	assert_non_null(ring);
	assert_int_equal(ring->n, 1);
	assert_int_equal(ring->keys[0].id, bounce_key_id((const unsigned char *)sec_new,
							  strlen(sec_new)));
	ring = bounce_keyring_free(ring);

	items[1] = open_;
	list.count = 2;
	assert_null(bounce_keys_load(&list, &el));
	assert_int_equal(el.count, 1);
	assert_non_null(strstr(el.msgs[0], "chmod 600"));
	errlist_free(&el);

	items[0] = shortf;
	list.count = 1;
	assert_null(bounce_keys_load(&list, &el));
	assert_int_equal(el.count, 1);
	assert_non_null(strstr(el.msgs[0], "shorter"));
	errlist_free(&el);

	list.count = 0;
	assert_null(bounce_keys_load(&list, &el));
	assert_int_equal(el.count, 1);
	errlist_free(&el);
	unlink(good);
	unlink(open_);
	unlink(shortf);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
