/*++
 * NAME
 *	bounce_track_token 3
 * SUMMARY
 *	open and click tracking tokens, and the requests that carry them
 * DESCRIPTION
 *	See bounce_track.h for the format. Pure functions: no I/O, no
 *	clock. The decoder bounds the text before decoding it, refuses any
 *	character outside base64url, non-zero padding bits (one spelling
 *	per token) and any length field that does not match the octets
 *	present, checks the MAC before it believes a field, and checks the
 *	tenant and the URL again after it.
 *--*/
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64url.h"
#include "bounce_track.h"

#define BT_VERSION	1
#define BT_FIXED	(3 + BOUNCE_TAG_ID_LEN + 1)	/* up to the tenant */

/* bt_mac - the 128-bit MAC of raw[0..len) */
static int
bt_mac(const struct bounce_key *key, const unsigned char *raw, size_t len,
       unsigned char mac[BOUNCE_TRACK_MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key->secret, (int)key->len, raw, len, full, &n) == NULL
	    || n < BOUNCE_TRACK_MAC_LEN)
		return -1;
	memcpy(mac, full, BOUNCE_TRACK_MAC_LEN);
	return 0;
}

/* bt_printable - printable ASCII without blanks */
static int
bt_printable(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

/*
 * bounce_track_url_ok - an absolute http or https URL of printable ASCII
 * with a host part: what we rewrite, and all we ever redirect to
 */
int
bounce_track_url_ok(const char *url, size_t len)
{
	size_t s;

	if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
		s = 8;
	else if (len >= 7 && strncasecmp(url, "http://", 7) == 0)
		s = 7;
	else
		return 0;
	if (len == s || url[s] == '/' || url[s] == '\\' || url[s] == '?' || url[s] == '#')
		return 0;		/* no host: "https:///evil" */
	return bt_printable((const unsigned char *)url, len)
	    && memchr(url, '\\', len) == NULL;
}

/* bounce_track_encode - a token; its length, or -1 (too long, bad field) */
int
bounce_track_encode(const struct bounce_key *key, char kind,
		    const unsigned char id[BOUNCE_TAG_ID_LEN], const char *tenant,
		    unsigned link, const char *url, size_t urllen, char *out,
		    size_t outlen)
{
	unsigned char raw[BOUNCE_TRACK_RAW_MAX];
	size_t tl = strlen(tenant), n = 0;

	if ((kind != BOUNCE_TRACK_CLICK && kind != BOUNCE_TRACK_OPEN)
	    || tl == 0 || tl > BOUNCE_TRACK_TENANT_MAX
	    || !bt_printable((const unsigned char *)tenant, tl)
	    || link > BOUNCE_TRACK_LINKS_MAX || urllen > BOUNCE_TRACK_URL_MAX
	    || (kind == BOUNCE_TRACK_CLICK && !bounce_track_url_ok(url, urllen))
	    || (kind == BOUNCE_TRACK_OPEN && (urllen != 0 || link != 0)))
		return -1;
	raw[n++] = BT_VERSION;
	raw[n++] = (unsigned char)key->id;
	raw[n++] = (unsigned char)kind;
	memcpy(raw + n, id, BOUNCE_TAG_ID_LEN);
	n += BOUNCE_TAG_ID_LEN;
	raw[n++] = (unsigned char)tl;
	memcpy(raw + n, tenant, tl);
	n += tl;
	raw[n++] = (unsigned char)(link >> 8);
	raw[n++] = (unsigned char)link;
	raw[n++] = (unsigned char)(urllen >> 8);
	raw[n++] = (unsigned char)urllen;
	if (urllen > 0)
		memcpy(raw + n, url, urllen);
	n += urllen;
	if (bt_mac(key, raw, n, raw + n) < 0)
		return -1;
	n += BOUNCE_TRACK_MAC_LEN;
	return b64url_encode(raw, n, out, outlen);
}

/* bounce_track_decode - check a token; fills out on ok only */
enum bounce_track_status
bounce_track_decode(const struct bounce_keyring *ring, const char *text,
		    size_t len, struct bounce_track_token *out, const char **why)
{
	unsigned char raw[BOUNCE_TRACK_RAW_MAX], mac[BOUNCE_TRACK_MAC_LEN];
	const struct bounce_key *key;
	size_t n = 0, p, tl, ul;

	memset(out, 0, sizeof(*out));
	if (len < 8 || len > BOUNCE_TRACK_TOKEN_MAX || len % 4 == 1) {
		*why = "bad length";
		return BOUNCE_TRACK_MALFORMED;
	}
	if (b64url_decode(text, len, raw, sizeof(raw), &n, why) < 0)
		return BOUNCE_TRACK_MALFORMED;
	if (n < BT_FIXED + 1 + 4 + BOUNCE_TRACK_MAC_LEN) {
		*why = "too short";
		return BOUNCE_TRACK_MALFORMED;
	}
	if (raw[0] != BT_VERSION) {
		*why = "unknown version";
		return BOUNCE_TRACK_MALFORMED;
	}
	p = BT_FIXED;
	tl = raw[p - 1];
	if (tl == 0 || p + tl + 4 + BOUNCE_TRACK_MAC_LEN > n) {
		*why = "bad tenant length";
		return BOUNCE_TRACK_MALFORMED;
	}
	p += tl + 2;
	ul = (size_t)raw[p] << 8 | raw[p + 1];
	p += 2;
	if (ul > BOUNCE_TRACK_URL_MAX || p + ul + BOUNCE_TRACK_MAC_LEN != n) {
		*why = "bad URL length";
		return BOUNCE_TRACK_MALFORMED;
	}
	if ((key = bounce_keyring_find(ring, raw[1])) == NULL) {
		*why = "no such key (removed from bounce_secret_files?)";
		return BOUNCE_TRACK_UNKNOWN_KEY;
	}
	if (bt_mac(key, raw, p + ul, mac) < 0
	    || CRYPTO_memcmp(mac, raw + p + ul, BOUNCE_TRACK_MAC_LEN) != 0) {
		*why = "bad signature";
		return BOUNCE_TRACK_FORGED;
	}
	/* genuine from here on; still, check what we made */
	out->kind = (char)raw[2];
	out->link = (unsigned)raw[BT_FIXED + tl] << 8 | raw[BT_FIXED + tl + 1];
	if ((out->kind != BOUNCE_TRACK_CLICK && out->kind != BOUNCE_TRACK_OPEN)
	    || !bt_printable(raw + BT_FIXED, tl)
	    || (out->kind == BOUNCE_TRACK_CLICK && !bounce_track_url_ok((const char *)raw + p, ul))
	    || (out->kind == BOUNCE_TRACK_OPEN && (ul != 0 || out->link != 0))) {
		memset(out, 0, sizeof(*out));
		*why = "bad kind, tenant or URL";
		return BOUNCE_TRACK_MALFORMED;
	}
	memcpy(out->id, raw + 3, BOUNCE_TAG_ID_LEN);
	memcpy(out->tenant, raw + BT_FIXED, tl);
	memcpy(out->url, raw + p, ul);
	out->key_id = raw[1];
	memcpy(out->mac, raw + p + ul, BOUNCE_TRACK_MAC_LEN);
	*why = "ok";
	return BOUNCE_TRACK_OK;
}

/* bounce_track_status_name - for logs and tests */
const char *
bounce_track_status_name(enum bounce_track_status s)
{
	static const char *const nm[] = {"ok", "malformed", "forged", "unknown_key"};

	return (unsigned)s < sizeof(nm) / sizeof(nm[0]) ? nm[s] : "?";
}

/* bounce_track_is_path - does the path end in /c/TOKEN or /o/TOKEN */
int
bounce_track_is_path(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash - path >= 2 && slash[-2] == '/'
	    && (slash[-1] == BOUNCE_TRACK_CLICK || slash[-1] == BOUNCE_TRACK_OPEN);
}

/* bounce_track_request - what a request to a tracking URL gets */
enum bounce_track_what
bounce_track_request(const struct bounce_keyring *ring, const char *method,
		     const char *path, struct bounce_track_token *tok,
		     unsigned *status, const char **why)
{
	const char *slash = strrchr(path, '/'), *t;

	memset(tok, 0, sizeof(*tok));
	*status = 404;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*status = 405;
		*why = "method not allowed";
		return BOUNCE_TRACK_REFUSE;
	}
	if (!bounce_track_is_path(path)) {
		*why = "not a tracking path";
		return BOUNCE_TRACK_REFUSE;
	}
	t = slash + 1;
	if (bounce_track_decode(ring, t, strlen(t), tok, why) != BOUNCE_TRACK_OK)
		return BOUNCE_TRACK_REFUSE;
	if (tok->kind != slash[-1]) {	/* an open token is no click */
		memset(tok, 0, sizeof(*tok));
		*why = "token of another kind";
		return BOUNCE_TRACK_REFUSE;
	}
	*why = "ok";
	if (tok->kind == BOUNCE_TRACK_CLICK) {
		*status = 302;
		return BOUNCE_TRACK_REDIRECT;
	}
	*status = 200;
	return BOUNCE_TRACK_PIXEL;
}
