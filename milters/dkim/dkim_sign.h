/*++
 * NAME
 *	dkim_sign 3h
 * SUMMARY
 *	DKIM-Signature generation with keys parsed once (RFC 6376, RFC 8463)
 * SYNOPSIS
 *	#include "dkim_sign.h"
 * DESCRIPTION
 *	Keys. dkim_key_from_pkey() wraps a private key that the caller has
 *	already decoded (once, at load time: never per message). It accepts
 *	RSA of 1024 to 8192 bits and Ed25519, signs and verifies a test
 *	digest to prove the key usable, and takes its own reference to pkey
 *	(EVP_PKEY_up_ref): the caller still frees its own reference with
 *	EVP_PKEY_free(), whether the call succeeded or not. dkim_key_free()
 *	takes NULL and returns NULL. dkim_key_algorithm() is the a= value
 *	("rsa-sha256" or "ed25519-sha256"); dkim_key_bits() is the RSA
 *	modulus size, or 256 for Ed25519. dkim_key_dns_record() returns the
 *	TXT record to publish at <selector>._domainkey.<domain>:
 *	"v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo DER>" or
 *	"v=DKIM1; k=ed25519; p=<base64 of the 32-byte public key>" (RFC 8463
 *	4); the caller frees it with free(). NULL only if OpenSSL cannot
 *	encode the key. Long RSA records must be split into several
 *	character-strings of at most 255 bytes in the zone file.
 *
 *	Signing. The body hash comes from struct dkim_body_canon (see
 *	dkim_canon.h). dkim_sign_header() selects the header fields to sign
 *	(dkim_canon_select()), hashes them and the new signature field, signs
 *	with the key and returns in *value_out the complete DKIM-Signature
 *	field value (the caller frees it with free()): everything after
 *	"DKIM-Signature:", starting with one space:
 *
 *	 v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel;
 *		t=1700000000; h=from:from:to:subject; bh=...;
 *		b=...
 *
 *	Tags come in the order v a c d s t [x] h bh b; never l= (a length
 *	limit invites appended content) nor i= (the default, @d, is right).
 *	Lines are folded with "\n\t" (LF only: libmilter and Postfix want LF
 *	in header values and write CRLF), at most 78 columns counting a tab
 *	as 8, unless one value (a long d=, s= or h= name) cannot fit.
 *
 *	The signature covers the field exactly as the receiver will see it:
 *	"DKIM-Signature:" + value, with the value's "\n" turned into CRLF
 *	and b= empty (RFC 6376 3.7). The milter must therefore insert it
 *	byte for byte, named DKIM_SIGN_FIELD_NAME: negotiate
 *	SMFIP_HDR_LEADSPC and pass the value as returned, or, without
 *	SMFIP_HDR_LEADSPC (Postfix then adds one space after the colon
 *	itself), pass value + 1.
 *
 *	Header fields are given in message order as struct dkim_header_field
 *	(dkim_canon.h), each field the whole "Name:value" the receiver will
 *	see; with libmilter that is name + ":" + value when SMFIP_HDR_LEADSPC
 *	was negotiated (the value keeps its leading space) and folding "\n"
 *	may stay as it is. The message must contain a From field, and From
 *	must be in sign_headers or oversign_headers (RFC 6376 5.4).
 *	Names of oversign_headers that are also in oversign_if_present are
 *	over-signed only when the message has such a field (the MTA may add
 *	them after signing: dkim_canon_oversign()); the list may be empty.
 *
 *	Several signatures over one body (e.g. RSA and Ed25519 for the same
 *	domain): dkim_sign_headers() signs n requests with one body hash
 *	and returns n values, all or none. The requests must share the body
 *	canonicalization, since the body hash depends on it. None of the
 *	new signatures covers another (unless DKIM-Signature is in the sign
 *	list, which then means the existing ones), so their order of
 *	insertion does not matter.
 *
 *	Validation: domain and selector must be ASCII DNS names (labels of
 *	letters, digits, "-" and "_"; convert an IDN domain to its A-label
 *	first); names in the header lists must be RFC 5322 field names
 *	without ';' (it would end the h= tag);
 *	timestamp >= 0 and, when expire is not 0, expire > timestamp.
 * THREAD SAFETY
 *	A struct dkim_key is immutable once made and may be shared by
 *	threads signing at the same time; free it only when no thread uses
 *	it. Everything else is per call.
 * DIAGNOSTICS
 *	dkim_key_from_pkey() returns NULL, and the signing functions return
 *	-1, with *why set to a static string. Failures inside OpenSSL clear
 *	OpenSSL's thread-local error queue.
 *--*/
#ifndef POSTMILL_DKIM_SIGN_H
#define POSTMILL_DKIM_SIGN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "dkim_canon.h"

#define DKIM_SIGN_FIELD_NAME	"DKIM-Signature"	/* insert exactly so */

struct dkim_key;			/* opaque */

struct dkim_sign_request {
	const char	*domain;		/* d=, ASCII */
	const char	*selector;		/* s= */
	const struct dkim_key *key;
	int		 header_canon;		/* enum dkim_canon_mode */
	int		 body_canon;		/* enum dkim_canon_mode */
	long long	 timestamp;		/* t=, seconds since the epoch */
	long long	 expire;		/* x=, 0: none */
	const char *const *sign_headers;	/* names to sign if present */
	size_t		 n_sign;
	const char *const *oversign_headers;	/* names signed once more */
	size_t		 n_oversign;
	const char *const *oversign_if_present;	/* ... only when present */
	size_t		 n_oversign_if_present;
};

struct dkim_key *dkim_key_from_pkey(EVP_PKEY *pkey, const char **why);
struct dkim_key *dkim_key_free(struct dkim_key *key);
const char *dkim_key_algorithm(const struct dkim_key *key);
int	dkim_key_bits(const struct dkim_key *key);
char   *dkim_key_dns_record(const struct dkim_key *key);

int	dkim_sign_header(const struct dkim_sign_request *req,
	    const struct dkim_header_field *headers, size_t n_headers,
	    const unsigned char body_hash[DKIM_CANON_DIGEST_LEN],
	    char **value_out, const char **why);
int	dkim_sign_headers(const struct dkim_sign_request *reqs,
	    size_t n_reqs, const struct dkim_header_field *headers,
	    size_t n_headers,
	    const unsigned char body_hash[DKIM_CANON_DIGEST_LEN],
	    char **values_out, const char **why);

#endif
