/*++
 * NAME
 *	dkim_sign 3
 * SUMMARY
 *	DKIM-Signature generation with keys parsed once (RFC 6376, RFC 8463)
 * DESCRIPTION
 *	See dkim_sign.h for the interface.
 *
 *	Why not libopendkim: it decodes the PEM private key again for every
 *	message, which costs as much as the RSA operation itself and nearly
 *	all of an Ed25519 signature. Here the EVP_PKEY is decoded once and
 *	each signature is: select and canonicalize the header fields, hash
 *	them and the new field (RFC 6376 3.7) with SHA-256, then sign that
 *	digest. For RSA the digest goes into RSASSA-PKCS1-v1_5 with SHA-256
 *	(the same bytes EVP_DigestSign over the data would produce); for
 *	Ed25519 the 32-byte digest is the message of PureEdDSA (RFC 8463 3).
 *
 *	The field value is built first with an empty b=, which always starts
 *	a line of its own, so what is hashed is exactly the final value up
 *	to "b=": verifiers delete the b= value together with the folding
 *	inside it (3.5, 3.7).
 * THREAD SAFETY
 *	struct dkim_key is immutable after dkim_key_from_pkey(); OpenSSL 3
 *	allows concurrent signing operations with one EVP_PKEY, each with
 *	its own EVP_PKEY_CTX / EVP_MD_CTX as here.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "xalloc.h"
#include "dkim_sign.h"
#include "name_code.h"

#define DKIM_SIGN_MAX_COLS	78	/* RFC 5322 2.1.1 SHOULD */
#define DKIM_SIGN_TAB_COLS	8	/* a folded line starts with a tab */
#define DKIM_SIGN_MIN_RSA_BITS	1024	/* sanity; policy is the caller's */
#define DKIM_SIGN_MAX_RSA_BITS	8192	/* beyond: far over 1 ms a message */
#define DKIM_SIGN_MAX_SIG	(DKIM_SIGN_MAX_RSA_BITS / 8)
#define DKIM_SIGN_B64_LEN(n)	(4 * (((n) + 2) / 3))

enum dkim_key_type {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

struct dkim_key {
	EVP_PKEY	*pkey;		/* our own reference */
	int		 type;		/* enum dkim_key_type */
	int		 bits;
	size_t		 sig_len;	/* signature size in bytes */
};

/* Folded header value under construction. */
struct dkim_sign_text {
	char		*s;
	size_t		 len;
	size_t		 size;
	size_t		 col;		/* columns used on the current line */
};

/* dkim_sign_fail - set the reason, drop OpenSSL's queued errors */
static int
dkim_sign_fail(const char **why, const char *reason)
{
	ERR_clear_error();
	*why = reason;
	return -1;
}

/* dkim_sign_digest - sign a SHA-256 digest with the key */
static int
dkim_sign_digest(const struct dkim_key *key,
		 const unsigned char digest[DKIM_CANON_DIGEST_LEN],
		 unsigned char *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mctx;
	int ok;

	*sig_len = key->sig_len;
	if (key->type == DKIM_KEY_RSA) {
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
		ok = pctx != NULL
		    && EVP_PKEY_sign_init(pctx) == 1
		    && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
		    && EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1
		    && EVP_PKEY_sign(pctx, sig, sig_len, digest,
				     DKIM_CANON_DIGEST_LEN) == 1;
		EVP_PKEY_CTX_free(pctx);
	} else {
		/* RFC 8463 3: PureEdDSA over the hash, no second digest */
		mctx = EVP_MD_CTX_new();
		ok = mctx != NULL
		    && EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL,
					     key->pkey, NULL) == 1
		    && EVP_DigestSign(mctx, sig, sig_len, digest,
				      DKIM_CANON_DIGEST_LEN) == 1;
		EVP_MD_CTX_free(mctx);
	}
	return ok && *sig_len == key->sig_len ? 0 : -1;
}

/* dkim_sign_verify_digest - check a signature made by dkim_sign_digest() */
static int
dkim_sign_verify_digest(const struct dkim_key *key,
			const unsigned char digest[DKIM_CANON_DIGEST_LEN],
			const unsigned char *sig, size_t sig_len)
{
	EVP_PKEY_CTX *pctx;
	EVP_MD_CTX *mctx;
	int ok;

	if (key->type == DKIM_KEY_RSA) {
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
		ok = pctx != NULL
		    && EVP_PKEY_verify_init(pctx) == 1
		    && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1
		    && EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1
		    && EVP_PKEY_verify(pctx, sig, sig_len, digest,
				       DKIM_CANON_DIGEST_LEN) == 1;
		EVP_PKEY_CTX_free(pctx);
	} else {
		mctx = EVP_MD_CTX_new();
		ok = mctx != NULL
		    && EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL,
					       key->pkey, NULL) == 1
		    && EVP_DigestVerify(mctx, sig, sig_len, digest,
					DKIM_CANON_DIGEST_LEN) == 1;
		EVP_MD_CTX_free(mctx);
	}
	return ok ? 0 : -1;
}

/* dkim_key_from_pkey - check a decoded private key and wrap it */
struct dkim_key *
dkim_key_from_pkey(EVP_PKEY *pkey, const char **why)
{
	static const unsigned char probe[DKIM_CANON_DIGEST_LEN] = "postmill dkim key self-test";
	unsigned char sig[DKIM_SIGN_MAX_SIG];
	struct dkim_key *key;
	size_t sig_len;
	int size;

	if (pkey == NULL) {
		dkim_sign_fail(why, "no key");
		return NULL;
	}
	key = xcalloc(1, sizeof(*key));
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		key->type = DKIM_KEY_RSA;
		key->bits = EVP_PKEY_get_bits(pkey);
		if (key->bits < DKIM_SIGN_MIN_RSA_BITS) {
			dkim_sign_fail(why, "RSA key shorter than 1024 bits");
			return xfree(key);
		}
		if (key->bits > DKIM_SIGN_MAX_RSA_BITS) {
			dkim_sign_fail(why, "RSA key longer than 8192 bits");
			return xfree(key);
		}
		break;
	case EVP_PKEY_ED25519:
		key->type = DKIM_KEY_ED25519;
		key->bits = 256;
		break;
	case EVP_PKEY_RSA_PSS:
		dkim_sign_fail(why, "RSA-PSS key: rsa-sha256 needs a plain RSA key");
		return xfree(key);
	default:
		dkim_sign_fail(why, "key is neither RSA nor Ed25519");
		return xfree(key);
	}
	size = EVP_PKEY_get_size(pkey);
	if (size <= 0 || (size_t) size > sizeof(sig)) {
		dkim_sign_fail(why, "unexpected signature size");
		return xfree(key);
	}
	key->sig_len = (size_t) size;
	key->pkey = pkey;

	/* a public key, or a broken one, fails here rather than per message */
	if (dkim_sign_digest(key, probe, sig, &sig_len) < 0) {
		dkim_sign_fail(why, "key cannot sign (no private part?)");
		return xfree(key);
	}
	if (dkim_sign_verify_digest(key, probe, sig, sig_len) < 0) {
		dkim_sign_fail(why, "key self-test: signature does not verify");
		return xfree(key);
	}
	if (EVP_PKEY_up_ref(pkey) != 1) {
		dkim_sign_fail(why, "cannot take a reference to the key");
		return xfree(key);
	}
	return key;
}

/* dkim_key_free - drop our reference; takes and returns NULL */
struct dkim_key *
dkim_key_free(struct dkim_key *key)
{
	if (key != NULL) {
		EVP_PKEY_free(key->pkey);
		xfree(key);
	}
	return NULL;
}

/* dkim_key_algorithm - the a= value this key signs with */
const char *
dkim_key_algorithm(const struct dkim_key *key)
{
	return key->type == DKIM_KEY_RSA ? "rsa-sha256" : "ed25519-sha256";
}

/* dkim_key_bits - RSA modulus bits, or 256 for Ed25519 */
int
dkim_key_bits(const struct dkim_key *key)
{
	return key->bits;
}

/* dkim_sign_base64 - encode into a new NUL-terminated string */
static char *
dkim_sign_base64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(DKIM_SIGN_B64_LEN(len) + 1);

	EVP_EncodeBlock((unsigned char *) out, data, (int) len);
	return out;
}

/* dkim_key_dns_record - the TXT record publishing the public key */
char *
dkim_key_dns_record(const struct dkim_key *key)
{
	unsigned char raw[32];
	unsigned char *der = NULL;
	unsigned char *p;
	char *b64;
	char *rec;
	size_t raw_len = sizeof(raw);
	int len;

	if (key->type == DKIM_KEY_RSA) {
		/* RFC 6376 3.6.1: p= is the DER SubjectPublicKeyInfo */
		if ((len = i2d_PUBKEY(key->pkey, NULL)) <= 0) {
			ERR_clear_error();
			return NULL;
		}
		p = der = xmalloc((size_t) len);
		if (i2d_PUBKEY(key->pkey, &p) != len) {
			ERR_clear_error();
			xfree(der);
			return NULL;
		}
		b64 = dkim_sign_base64(der, (size_t) len);
		xfree(der);
		rec = xasprintf("v=DKIM1; k=rsa; p=%s", b64);
	} else {
		/* RFC 8463 4: p= is the raw 32-byte public key */
		if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &raw_len) != 1
		    || raw_len != sizeof(raw)) {
			ERR_clear_error();
			return NULL;
		}
		b64 = dkim_sign_base64(raw, raw_len);
		rec = xasprintf("v=DKIM1; k=ed25519; p=%s", b64);
	}
	xfree(b64);
	return rec;
}

/* dkim_sign_text_put - append text that contains no line break */
static void
dkim_sign_text_put(struct dkim_sign_text *t, const char *s, size_t n)
{
	if (t->size - t->len < n + 1) {
		t->size = t->size * 2 > t->len + n + 1 ? t->size * 2
		    : t->len + n + 1 + 256;
		t->s = xrealloc(t->s, t->size);
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
	t->col += n;
}

/* dkim_sign_text_fold - start a continuation line (LF: libmilter form) */
static void
dkim_sign_text_fold(struct dkim_sign_text *t)
{
	dkim_sign_text_put(t, "\n\t", 2);
	t->col = DKIM_SIGN_TAB_COLS;
}

/* dkim_sign_text_sep - a space, or a fold if n more columns do not fit */
static void
dkim_sign_text_sep(struct dkim_sign_text *t, size_t n)
{
	if (t->col + 1 + n > DKIM_SIGN_MAX_COLS && t->col > DKIM_SIGN_TAB_COLS)
		dkim_sign_text_fold(t);
	else
		dkim_sign_text_put(t, " ", 1);
}

/* dkim_sign_text_tag - append "name=value;" as one unit */
static void
dkim_sign_text_tag(struct dkim_sign_text *t, const char *name,
		   const char *value)
{
	size_t nlen = strlen(name);
	size_t vlen = strlen(value);

	dkim_sign_text_sep(t, nlen + 1 + vlen + 1);
	dkim_sign_text_put(t, name, nlen);
	dkim_sign_text_put(t, "=", 1);
	dkim_sign_text_put(t, value, vlen);
	dkim_sign_text_put(t, ";", 1);
}

/* dkim_sign_text_hlist - append h=, folding after a colon where needed */
static void
dkim_sign_text_hlist(struct dkim_sign_text *t, const char *const *names,
		     size_t n)
{
	size_t i, k, len;
	char c;

	for (i = 0; i < n; i++) {
		len = strlen(names[i]) + 1;	/* with ':' or ';' */
		if (i == 0) {
			dkim_sign_text_sep(t, 2 + len);
			dkim_sign_text_put(t, "h=", 2);
		} else if (t->col + len > DKIM_SIGN_MAX_COLS) {
			dkim_sign_text_fold(t);	/* FWS after ':' (3.5 h=) */
		}
		/* lowercase: verifiers compare case-insensitively anyway */
		for (k = 0; names[i][k] != '\0'; k++) {
			c = names[i][k];
			if (c >= 'A' && c <= 'Z')
				c = (char) (c + 32);
			dkim_sign_text_put(t, &c, 1);
		}
		dkim_sign_text_put(t, i + 1 < n ? ":" : ";", 1);
	}
}

/* dkim_sign_text_b64 - append base64 filling lines; FWS inside is free */
static void
dkim_sign_text_b64(struct dkim_sign_text *t, const char *b64)
{
	size_t left = strlen(b64);
	size_t room;

	while (left > 0) {
		if (t->col >= DKIM_SIGN_MAX_COLS)
			dkim_sign_text_fold(t);
		room = DKIM_SIGN_MAX_COLS - t->col;
		if (room > left)
			room = left;
		dkim_sign_text_put(t, b64, room);
		b64 += room;
		left -= room;
	}
}

/* dkim_sign_dnsname_ok - ASCII labels of letters, digits, '-', '_' */
static int
dkim_sign_dnsname_ok(const char *s)
{
	size_t label = 0;
	size_t len = 0;
	unsigned char c;

	for (; (c = (unsigned char) *s) != '\0'; s++, len++) {
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return len > 0 && len <= 253 && label > 0;
}

/* dkim_sign_fieldname_ok - RFC 5322 ftext, and no ';' (ends an h= tag) */
static int
dkim_sign_fieldname_ok(const char *s)
{
	size_t len = 0;
	unsigned char c;

	for (; (c = (unsigned char) *s) != '\0'; s++, len++)
		if (c < 33 || c > 126 || c == ':' || c == ';')
			return 0;
	return len > 0 && len <= 998;
}

/* dkim_sign_is_from - is this field name "From", in any case? */
static int
dkim_sign_is_from(const char *name, size_t len)
{
	static const char from[] = "from";
	size_t i;

	if (len != 4)
		return 0;
	for (i = 0; i < 4; i++)		/* ASCII only, whatever the locale */
		if ((name[i] | 0x20) != from[i])
			return 0;
	return 1;
}

/* dkim_sign_has_from - does the message have a From field? */
static int
dkim_sign_has_from(const struct dkim_header_field *headers, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dkim_sign_is_from(headers[i].name, headers[i].name_len))
			return 1;
	return 0;
}

/* dkim_sign_list_has_from - is From in the list (any case)? */
static int
dkim_sign_list_has_from(const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dkim_sign_is_from(list[i], strlen(list[i])))
			return 1;
	return 0;
}

/* dkim_sign_check - validate a request before doing any work */
static int
dkim_sign_check(const struct dkim_sign_request *req,
		const struct dkim_header_field *headers, size_t n_headers,
		const char **why)
{
	size_t i;

	if (req->key == NULL)
		return dkim_sign_fail(why, "no signing key");
	if (req->domain == NULL || !dkim_sign_dnsname_ok(req->domain))
		return dkim_sign_fail(why, "domain is not an ASCII DNS name");
	if (req->selector == NULL || !dkim_sign_dnsname_ok(req->selector))
		return dkim_sign_fail(why, "selector is not an ASCII DNS name");
	if ((req->header_canon != DKIM_CANON_MODE_SIMPLE
	     && req->header_canon != DKIM_CANON_MODE_RELAXED)
	    || (req->body_canon != DKIM_CANON_MODE_SIMPLE
		&& req->body_canon != DKIM_CANON_MODE_RELAXED))
		return dkim_sign_fail(why, "unknown canonicalization");
	if (req->timestamp < 0)
		return dkim_sign_fail(why, "negative timestamp");
	if (req->expire != 0 && req->expire <= req->timestamp)
		return dkim_sign_fail(why, "expiry not after the timestamp");
	for (i = 0; i < req->n_sign; i++)
		if (!dkim_sign_fieldname_ok(req->sign_headers[i]))
			return dkim_sign_fail(why, "bad name in sign_headers");
	for (i = 0; i < req->n_oversign; i++)
		if (!dkim_sign_fieldname_ok(req->oversign_headers[i]))
			return dkim_sign_fail(why, "bad name in oversign_headers");

	/* RFC 6376 5.4: the From header field MUST be signed */
	if (!dkim_sign_list_has_from(req->sign_headers, req->n_sign)
	    && !dkim_sign_list_has_from(req->oversign_headers, req->n_oversign))
		return dkim_sign_fail(why, "From is not among the headers to sign");
	if (!dkim_sign_has_from(headers, n_headers))
		return dkim_sign_fail(why, "message has no From header field");
	return 0;
}

/* dkim_sign_build - the field value up to "b=", and the h= list */
static void
dkim_sign_build(struct dkim_sign_text *t, const struct dkim_sign_request *req,
		const char *const *hnames, size_t n_hnames,
		const unsigned char body_hash[DKIM_CANON_DIGEST_LEN])
{
	/* the c= words (RFC 6376 section 3.5) */
	static const struct name_code canon_names[] = {
		{"simple", DKIM_CANON_MODE_SIMPLE},
		{"relaxed", DKIM_CANON_MODE_RELAXED},
		{NULL, -1},
	};
	char num[32];
	char *bh;

	t->col = sizeof(DKIM_SIGN_FIELD_NAME ":") - 1;
	dkim_sign_text_tag(t, "v", "1");
	dkim_sign_text_tag(t, "a", dkim_key_algorithm(req->key));
	snprintf(num, sizeof(num), "%s/%s", name_code_str(canon_names, req->header_canon),
		 name_code_str(canon_names, req->body_canon));
	dkim_sign_text_tag(t, "c", num);
	dkim_sign_text_tag(t, "d", req->domain);
	dkim_sign_text_tag(t, "s", req->selector);
	snprintf(num, sizeof(num), "%lld", req->timestamp);
	dkim_sign_text_tag(t, "t", num);
	if (req->expire != 0) {
		snprintf(num, sizeof(num), "%lld", req->expire);
		dkim_sign_text_tag(t, "x", num);
	}
	dkim_sign_text_hlist(t, hnames, n_hnames);
	bh = dkim_sign_base64(body_hash, DKIM_CANON_DIGEST_LEN);
	dkim_sign_text_tag(t, "bh", bh);
	xfree(bh);

	/* b= starts its own line, so the hashed prefix never depends on b= */
	dkim_sign_text_fold(t);
	dkim_sign_text_put(t, "b=", 2);
}

/* dkim_sign_header - build one complete DKIM-Signature field value */
int
dkim_sign_header(const struct dkim_sign_request *req,
		 const struct dkim_header_field *headers, size_t n_headers,
		 const unsigned char body_hash[DKIM_CANON_DIGEST_LEN],
		 char **value_out, const char **why)
{
	struct dkim_sign_text t = {NULL, 0, 0, 0};
	unsigned char digest[DKIM_CANON_DIGEST_LEN];
	unsigned char sig[DKIM_SIGN_MAX_SIG];
	const char **hnames = NULL;
	const char **oversign;
	size_t n_oversign;
	EVP_MD_CTX *md = NULL;
	char *field = NULL;
	char *canon = NULL;
	char *b64;
	size_t n_hnames;
	size_t field_len;
	size_t canon_len;
	size_t sig_len;
	unsigned int dlen;
	int ret = -1;

	*value_out = NULL;
	if (dkim_sign_check(req, headers, n_headers, why) < 0)
		return -1;
	oversign = xcalloc(req->n_oversign + 1, sizeof(*oversign));
	n_oversign = dkim_canon_oversign(headers, n_headers,
					 req->oversign_headers, req->n_oversign,
					 req->oversign_if_present,
					 req->n_oversign_if_present, oversign);
	hnames = dkim_canon_select(headers, n_headers, req->sign_headers,
				   req->n_sign, oversign, n_oversign,
				   &n_hnames);
	free(oversign);
	dkim_sign_build(&t, req, hnames, n_hnames, body_hash);

	/* the header hash: signed fields, then this field with b= empty */
	if ((md = EVP_MD_CTX_new()) == NULL
	    || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		dkim_sign_fail(why, "cannot initialize SHA-256");
		goto out;
	}
	if (dkim_canon_headers_hash(md, req->header_canon, headers, n_headers,
				    hnames, n_hnames, why) < 0) {
		ERR_clear_error();
		goto out;
	}
	field = xasprintf("%s:%s", DKIM_SIGN_FIELD_NAME, t.s);
	field_len = strlen(field);
	canon = xmalloc(DKIM_CANON_HEADER_BOUND(field_len));
	if (dkim_canon_header(req->header_canon, field, field_len, false,
			      canon, DKIM_CANON_HEADER_BOUND(field_len),
			      &canon_len, why) < 0)
		goto out;
	if (EVP_DigestUpdate(md, canon, canon_len) != 1
	    || EVP_DigestFinal_ex(md, digest, &dlen) != 1
	    || dlen != sizeof(digest)) {
		dkim_sign_fail(why, "SHA-256 of the header fields failed");
		goto out;
	}
	if (dkim_sign_digest(req->key, digest, sig, &sig_len) < 0) {
		dkim_sign_fail(why, "signing operation failed");
		goto out;
	}
	b64 = dkim_sign_base64(sig, sig_len);
	dkim_sign_text_b64(&t, b64);
	xfree(b64);
	*value_out = t.s;
	t.s = NULL;
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	xfree(canon);
	xfree(field);
	xfree(hnames);
	xfree(t.s);
	return ret;
}

/* dkim_sign_headers - several signatures over one body hash, all or none */
int
dkim_sign_headers(const struct dkim_sign_request *reqs, size_t n_reqs,
		  const struct dkim_header_field *headers, size_t n_headers,
		  const unsigned char body_hash[DKIM_CANON_DIGEST_LEN],
		  char **values_out, const char **why)
{
	size_t i;

	for (i = 0; i < n_reqs; i++)
		values_out[i] = NULL;
	if (n_reqs == 0)
		return dkim_sign_fail(why, "no signing request");
	for (i = 1; i < n_reqs; i++)
		if (reqs[i].body_canon != reqs[0].body_canon)
			return dkim_sign_fail(why,
			    "one body hash, but different body canonicalizations");
	for (i = 0; i < n_reqs; i++) {
		if (dkim_sign_header(&reqs[i], headers, n_headers, body_hash,
				     &values_out[i], why) < 0) {
			while (i-- > 0)
				values_out[i] = xfree(values_out[i]);
			return -1;
		}
	}
	return 0;
}
