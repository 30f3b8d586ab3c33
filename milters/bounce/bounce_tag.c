/*++
 * NAME
 *	bounce_tag 3
 * SUMMARY
 *	the signed VERP tag of postmill-bounce's envelope senders
 * DESCRIPTION
 *	See bounce_tag.h for the format and the statuses. HMAC-SHA256 is
 *	OpenSSL's (HMAC(3)); nothing here is hand-made cryptography.
 *
 *	bounce_tag_seal() and bounce_tag_open() are the codec with the
 *	version byte and a MAC label as arguments: the tag is version 1
 *	with no label (the MAC of the tags already in flight), the
 *	reference header (bounce_ref.h) version 2 with its own label, so
 *	that one can never be passed off as the other.
 *--*/
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bounce_tag.h"

#define BT_SIGNED	16	/* bytes covered by the MAC */

_Static_assert(BT_SIGNED + BOUNCE_TAG_MAC_LEN == BOUNCE_TAG_BYTES, "tag layout");
_Static_assert(BOUNCE_TAG_BYTES * 8 == BOUNCE_TAG_CHARS * 5, "no partial base32 group");
_Static_assert(BOUNCE_TAG_LOCAL_LEN <= 64, "RFC 5321 4.5.3.1.1: local part <= 64");
_Static_assert(BOUNCE_TAG_MAC_LEN * 8 >= 80, "at least 80 bits of MAC");

static const char bt_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* bt_b32_value - the 5-bit value of a base32 character of either case, or -1 */
static int
bt_b32_value(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/*
 * bt_mac - truncated HMAC-SHA256 of (label NUL) and the signed part; 0 or
 * -1. No label: the MAC of the signed part alone (version 1 tags).
 */
static int
bt_mac(const struct bounce_key *key, const char *label,
       const unsigned char *data, unsigned char out[BOUNCE_TAG_MAC_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE], in[64 + BT_SIGNED];
	unsigned int mdlen = 0;
	size_t n = 0;

	if (label != NULL) {
		n = strlen(label) + 1;
		if (n > sizeof(in) - BT_SIGNED)
			return -1;
		memcpy(in, label, n);
	}
	memcpy(in + n, data, BT_SIGNED);
	if (HMAC(EVP_sha256(), key->secret, (int)key->len, in, n + BT_SIGNED, md,
		 &mdlen) == NULL || mdlen < BOUNCE_TAG_MAC_LEN)
		return -1;
	memcpy(out, md, BOUNCE_TAG_MAC_LEN);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* bounce_tag_seal - sign and write a token; 0 or -1 (HMAC failed) */
int
bounce_tag_seal(const struct bounce_key *key, unsigned version,
		const char *label, const unsigned char id[BOUNCE_TAG_ID_LEN],
		long long expires, char out[BOUNCE_TAG_CHARS + 1])
{
	unsigned char b[BOUNCE_TAG_BYTES];
	unsigned long long exp32;
	size_t o = 0;

	/* 32 bits of seconds reach 2106; clamp rather than wrap */
	exp32 = expires < 0 ? 0 : expires > 0xffffffffLL ? 0xffffffffULL
	    : (unsigned long long)expires;
	b[0] = (unsigned char)version;
	b[1] = (unsigned char)key->id;
	memcpy(b + 2, id, BOUNCE_TAG_ID_LEN);
	b[12] = (unsigned char)(exp32 >> 24);
	b[13] = (unsigned char)(exp32 >> 16);
	b[14] = (unsigned char)(exp32 >> 8);
	b[15] = (unsigned char)exp32;
	if (bt_mac(key, label, b, b + BT_SIGNED) < 0)
		return -1;
	/* 5 bytes make 8 characters */
	for (size_t i = 0; i < BOUNCE_TAG_BYTES; i += 5) {
		unsigned long long g = 0;

		for (size_t j = 0; j < 5; j++)
			g = g << 8 | b[i + j];
		for (int k = 7; k >= 0; k--)
			out[o++] = bt_alphabet[(g >> (5 * k)) & 31];
	}
	out[o] = '\0';
	return 0;
}

/* bounce_tag_encode - sign and write a tag; 0 or -1 (HMAC failed) */
int
bounce_tag_encode(const struct bounce_key *key,
		  const unsigned char id[BOUNCE_TAG_ID_LEN], long long expires,
		  char out[BOUNCE_TAG_CHARS + 1])
{
	return bounce_tag_seal(key, BOUNCE_TAG_VERSION, NULL, id, expires, out);
}

/* bounce_tag_open - read and verify a token; see bounce_tag.h */
enum bounce_tag_status
bounce_tag_open(const struct bounce_keyring *ring, unsigned version,
		const char *label, const char *text, size_t len, long long now,
		struct bounce_tag *out, const char **why)
{
	unsigned char b[BOUNCE_TAG_BYTES], mac[BOUNCE_TAG_MAC_LEN];
	const struct bounce_key *key;
	size_t o = 0;

	memset(out, 0, sizeof(*out));
	if (len != BOUNCE_TAG_CHARS) {
		*why = "tag has the wrong length";
		return BOUNCE_TAG_MALFORMED;
	}
	for (size_t i = 0; i < BOUNCE_TAG_CHARS; i += 8) {
		unsigned long long g = 0;

		for (size_t j = 0; j < 8; j++) {
			int v = bt_b32_value((unsigned char)text[i + j]);

			if (v < 0) {
				*why = "tag has a character outside base32";
				return BOUNCE_TAG_MALFORMED;
			}
			g = g << 5 | (unsigned)v;
		}
		for (int k = 4; k >= 0; k--)
			b[o++] = (unsigned char)(g >> (8 * k));
	}
	if (b[0] != version) {
		*why = "tag has an unknown version";
		return BOUNCE_TAG_MALFORMED;
	}
	out->key_id = b[1];
	if ((key = bounce_keyring_find(ring, b[1])) == NULL) {
		*why = "tag was signed by a key that is not configured";
		return BOUNCE_TAG_UNKNOWN_KEY;
	}
	if (bt_mac(key, label, b, mac) < 0) {
		*why = "HMAC failed";
		return BOUNCE_TAG_BAD_MAC;
	}
	if (CRYPTO_memcmp(mac, b + BT_SIGNED, BOUNCE_TAG_MAC_LEN) != 0) {
		*why = "tag signature does not match";
		return BOUNCE_TAG_BAD_MAC;
	}
	memcpy(out->id, b + 2, BOUNCE_TAG_ID_LEN);
	out->expires = (long long)b[12] << 24 | (long long)b[13] << 16
	    | (long long)b[14] << 8 | (long long)b[15];
	if (now >= out->expires) {
		*why = "tag has expired";
		return BOUNCE_TAG_EXPIRED;
	}
	*why = "tag is valid";
	return BOUNCE_TAG_OK;
}

/* bounce_tag_decode - read and verify a tag; see bounce_tag.h */
enum bounce_tag_status
bounce_tag_decode(const struct bounce_keyring *ring, const char *text,
		  size_t len, long long now, struct bounce_tag *out,
		  const char **why)
{
	return bounce_tag_open(ring, BOUNCE_TAG_VERSION, NULL, text, len, now,
			       out, why);
}

/* bounce_tag_local_decode - "b-TAG" as a whole local part */
enum bounce_tag_status
bounce_tag_local_decode(const struct bounce_keyring *ring, const char *local,
			size_t len, long long now, struct bounce_tag *out,
			const char **why)
{
	if (len < 2 || (local[0] != 'b' && local[0] != 'B') || local[1] != '-') {
		memset(out, 0, sizeof(*out));
		*why = "local part does not start with \"b-\"";
		return BOUNCE_TAG_MALFORMED;
	}
	return bounce_tag_decode(ring, local + 2, len - 2, now, out, why);
}

/* bounce_tag_id_hex - message id as 20 hex digits */
void
bounce_tag_id_hex(const unsigned char id[BOUNCE_TAG_ID_LEN],
		  char out[BOUNCE_TAG_ID_HEX])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < BOUNCE_TAG_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * BOUNCE_TAG_ID_LEN] = '\0';
}

/* bounce_tag_status_name - the word logged as tag= */
const char *
bounce_tag_status_name(enum bounce_tag_status st)
{
	switch (st) {
	case BOUNCE_TAG_OK: return "ok";
	case BOUNCE_TAG_MALFORMED: return "malformed";
	case BOUNCE_TAG_BAD_MAC: return "bad_mac";
	case BOUNCE_TAG_EXPIRED: return "expired";
	case BOUNCE_TAG_UNKNOWN_KEY: return "unknown_key";
	}
	return "unknown";
}
