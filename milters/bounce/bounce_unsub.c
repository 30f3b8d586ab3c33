/*++
 * NAME
 *	bounce_unsub 3
 * SUMMARY
 *	RFC 8058 one-click unsubscribe tokens
 * DESCRIPTION
 *	See bounce_unsub.h. Pure functions: no I/O, no clock (now is
 *	passed). The decoder bounds the text before decoding, refuses any
 *	character outside base64url and any length field that does not
 *	match the bytes present, and refuses NUL and control octets in the
 *	tenant and recipient (they end up in Redis keys and logs).
 *--*/
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bounce_unsub.h"
#include "b64url.h"
#include "name_code.h"

/* bu_mac - the 128-bit MAC of raw[0..len) */
static int
bu_mac(const struct bounce_key *key, const unsigned char *raw, size_t len,
       unsigned char mac[BOUNCE_UNSUB_MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key->secret, (int)key->len, raw, len, full, &n) == NULL
	    || n < BOUNCE_UNSUB_MAC_LEN)
		return -1;
	memcpy(mac, full, BOUNCE_UNSUB_MAC_LEN);
	return 0;
}

/* bu_text_ok - printable ASCII, no blanks: what a key and a log may hold */
static int
bu_text_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return 0;
	return n > 0;
}

/* bounce_unsub_encode - a version 1 token for tenant and rcpt */
int
bounce_unsub_encode(const struct bounce_key *key, const char *tenant,
		    const char *rcpt, long long expires, char *out, size_t outlen)
{
	return bounce_unsub_encode_ref(key, tenant, rcpt, NULL, expires, out, outlen);
}

/* bounce_unsub_encode_ref - the token, naming message msgid (v2) or not */
int
bounce_unsub_encode_ref(const struct bounce_key *key, const char *tenant,
			const char *rcpt, const unsigned char *msgid,
			long long expires, char *out, size_t outlen)
{
	unsigned char raw[BOUNCE_UNSUB_RAW_MAX];
	size_t tl = strlen(tenant), rl = strlen(rcpt), n = 0;

	if (tl == 0 || tl > BOUNCE_UNSUB_TENANT_MAX || rl == 0
	    || rl > BOUNCE_UNSUB_RCPT_MAX || expires < 0 || expires >= (1LL << 40)
	    || !bu_text_ok((const unsigned char *)tenant, tl)
	    || !bu_text_ok((const unsigned char *)rcpt, rl))
		return -1;
	raw[n++] = msgid != NULL ? 2 : 1;
	raw[n++] = (unsigned char)key->id;
	for (int s = 32; s >= 0; s -= 8)
		raw[n++] = (unsigned char)(expires >> s);
	raw[n++] = (unsigned char)tl;
	memcpy(raw + n, tenant, tl);
	n += tl;
	raw[n++] = (unsigned char)(rl >> 8);
	raw[n++] = (unsigned char)rl;
	memcpy(raw + n, rcpt, rl);
	n += rl;
	if (msgid != NULL) {
		memcpy(raw + n, msgid, BOUNCE_UNSUB_MSGID_LEN);
		n += BOUNCE_UNSUB_MSGID_LEN;
	}
	if (bu_mac(key, raw, n, raw + n) < 0)
		return -1;
	n += BOUNCE_UNSUB_MAC_LEN;
	return b64url_encode(raw, n, out, outlen);
}

/* bounce_unsub_decode - check a token; fills out on ok and expired */
enum bounce_unsub_status
bounce_unsub_decode(const struct bounce_keyring *ring, const char *text,
		    size_t len, long long now, struct bounce_unsub *out,
		    const char **why)
{
	unsigned char raw[BOUNCE_UNSUB_RAW_MAX], mac[BOUNCE_UNSUB_MAC_LEN];
	const struct bounce_key *key;
	size_t n = 0, p, tl, rl, ml;

	memset(out, 0, sizeof(*out));
	if (len < 8 || len > BOUNCE_UNSUB_TOKEN_MAX || len % 4 == 1) {
		*why = "bad length";
		return BOUNCE_UNSUB_MALFORMED;
	}
	if (b64url_decode(text, len, raw, sizeof(raw), &n, why) < 0)
		return BOUNCE_UNSUB_MALFORMED;
	if (n < 1 + 1 + 5 + 1 + 1 + 2 + 1 + BOUNCE_UNSUB_MAC_LEN
	    || (raw[0] != 1 && raw[0] != 2)) {
		*why = raw[0] != 1 && raw[0] != 2 ? "unknown version" : "too short";
		return BOUNCE_UNSUB_MALFORMED;
	}
	ml = raw[0] == 2 ? BOUNCE_UNSUB_MSGID_LEN : 0;	/* the message id */
	p = 7;
	tl = raw[p++];
	if (tl == 0 || p + tl + 2 > n) {
		*why = "bad tenant length";
		return BOUNCE_UNSUB_MALFORMED;
	}
	p += tl;
	rl = (size_t)raw[p] << 8 | raw[p + 1];
	p += 2;
	if (rl == 0 || rl > BOUNCE_UNSUB_RCPT_MAX || p + rl + ml + BOUNCE_UNSUB_MAC_LEN != n) {
		*why = "bad recipient length";
		return BOUNCE_UNSUB_MALFORMED;
	}
	if ((key = bounce_keyring_find(ring, raw[1])) == NULL) {
		*why = "no such key (removed from bounce_secret_files?)";
		return BOUNCE_UNSUB_UNKNOWN_KEY;
	}
	if (bu_mac(key, raw, p + rl + ml, mac) < 0
	    || CRYPTO_memcmp(mac, raw + p + rl + ml, BOUNCE_UNSUB_MAC_LEN) != 0) {
		*why = "bad signature";
		return BOUNCE_UNSUB_FORGED;
	}
	if (!bu_text_ok(raw + 8, tl) || !bu_text_ok(raw + p, rl)) {
		*why = "control or blank octets";
		return BOUNCE_UNSUB_MALFORMED;
	}
	memcpy(out->tenant, raw + 8, tl);
	memcpy(out->rcpt, raw + p, rl);
	for (int i = 2; i < 7; i++)
		out->expires = out->expires << 8 | raw[i];
	out->key_id = raw[1];
	memcpy(out->mac, raw + p + rl + ml, BOUNCE_UNSUB_MAC_LEN);
	for (size_t i = 0; i < ml; i++)
		snprintf(out->msgid + 2 * i, 3, "%02x", raw[p + rl + i]);
	if (now > out->expires) {
		*why = "expired";
		return BOUNCE_UNSUB_EXPIRED;
	}
	*why = "ok";
	return BOUNCE_UNSUB_OK;
}

/* bounce_unsub_id - the MAC in hex: one token, one unsubscribe */
void
bounce_unsub_id(const struct bounce_unsub *u, char out[2 * BOUNCE_UNSUB_MAC_LEN + 1])
{
	for (size_t i = 0; i < BOUNCE_UNSUB_MAC_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", u->mac[i]);
}

/* bounce_unsub_status_name - for logs and tests */
const char *
bounce_unsub_status_name(enum bounce_unsub_status s)
{
	static const struct name_code n[] = {
		{"ok", BOUNCE_UNSUB_OK},
		{"malformed", BOUNCE_UNSUB_MALFORMED},
		{"forged", BOUNCE_UNSUB_FORGED},
		{"expired", BOUNCE_UNSUB_EXPIRED},
		{"unknown_key", BOUNCE_UNSUB_UNKNOWN_KEY},
		{NULL, -1},
	};
	const char *w = name_code_str(n, s);

	return w ? w : "?";
}

/* bounce_unsub_request - what an HTTP request to the URL asks, and may have */
enum bounce_unsub_what
bounce_unsub_request(const struct bounce_keyring *ring, const char *method,
		     const char *path, const char *body, size_t bodylen,
		     long long now, struct bounce_unsub *tok, unsigned *status,
		     const char **why)
{
	const char *slash = strrchr(path, '/'), *t = slash ? slash + 1 : path;
	int post = strcmp(method, "POST") == 0;

	memset(tok, 0, sizeof(*tok));
	*status = 400;
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*status = 405;
		*why = "method not allowed";
		return BOUNCE_UNSUB_REFUSE;
	}
	switch (bounce_unsub_decode(ring, t, strlen(t), now, tok, why)) {
	case BOUNCE_UNSUB_OK:
		break;
	case BOUNCE_UNSUB_EXPIRED:
		*status = 410;
		return BOUNCE_UNSUB_REFUSE;
	case BOUNCE_UNSUB_FORGED:
	case BOUNCE_UNSUB_UNKNOWN_KEY:
		*status = 403;
		return BOUNCE_UNSUB_REFUSE;
	default:
		return BOUNCE_UNSUB_REFUSE;
	}
	*status = 200;
	if (!post)
		return BOUNCE_UNSUB_PAGE;
	/* RFC 8058 section 3.1: the POST carries List-Unsubscribe=One-Click */
	if (body == NULL || memmem(body, bodylen, "List-Unsubscribe=One-Click", 26) == NULL) {
		*status = 400;
		*why = "POST without List-Unsubscribe=One-Click";
		return BOUNCE_UNSUB_REFUSE;
	}
	*why = "ok";
	return BOUNCE_UNSUB_DO;
}
