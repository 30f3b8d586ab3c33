/*++
 * NAME
 *	dkim_canon_fuzz 1
 * SUMMARY
 *	libFuzzer target for DKIM canonicalization (milters/dkim/dkim_canon.c)
 * DESCRIPTION
 *	The first input byte picks the chunking seed; the rest is the data.
 *	Aborts when a result breaks the contract in dkim_canon.h:
 *	- body, both modes: the digest and canonical length are the same
 *	  whether the data is fed whole, in pseudo-random chunks (sizes
 *	  from the seed, 0 included) or, for short inputs, byte by byte;
 *	- body, both modes: the digest is SHA-256 of ref_body(), a plain
 *	  whole-buffer rendering of RFC 6376 3.4.3/3.4.4;
 *	- header, both modes, with and without CRLF: output within
 *	  DKIM_CANON_HEADER_BOUND (the buffer is exactly that big, so ASan
 *	  sees any overrun); success exactly when there is a colon; simple
 *	  output has no bare LF; relaxed output has no tab, no SP run, no
 *	  line break but the final CRLF, no uppercase ASCII in the name, and
 *	  canonicalizing it again changes nothing;
 *	- selection and hashing over the data split into fields at LF:
 *	  the h= list stays within its bound and hashing never fails on
 *	  fields that have a colon.
 *	ASan/UBSan catch the rest.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim_canon.h"

#define MODES	2

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what, int mode)
{
	fprintf(stderr, "dkim_canon_fuzz: %s (mode %d)\n", what, mode);
	abort();
}

/* ref_body - RFC 6376 3.4.3/3.4.4 on a whole buffer (as in the unit test) */
static unsigned char *
ref_body(int mode, const unsigned char *in, size_t len, size_t *out_len)
{
	unsigned char *out = malloc(len + 3);
	size_t o = 0, keep = 0, i = 0, start, end, k, ls;
	int any = 0, sp;

	if (out == NULL)
		abort();
	while (i < len) {
		start = i;
		while (i < len && !(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			i++;
		end = i;
		if (i < len)
			i += 2;
		ls = o;
		if (mode == DKIM_CANON_MODE_RELAXED) {
			for (sp = 0, k = start; k < end; k++) {
				if (in[k] == ' ' || in[k] == '\t') {
					sp = 1;
					continue;
				}
				if (sp)
					out[o++] = ' ';
				sp = 0;
				out[o++] = in[k];
			}
		} else {
			memcpy(out + o, in + start, end - start);
			o += end - start;
		}
		if (o > ls) {
			any = 1;
			keep = o + 2;
		}
		out[o++] = '\r';
		out[o++] = '\n';
	}
	o = any ? keep : 0;
	if (o == 0 && mode == DKIM_CANON_MODE_SIMPLE) {
		memcpy(out, "\r\n", 2);
		o = 2;
	}
	*out_len = o;
	return out;
}

/* body_digest - canonicalize in chunks; sizes from seed, 0 = whole */
static void
body_digest(int mode, const unsigned char *p, size_t len, uint32_t seed,
	    bool bytewise, unsigned char d[DKIM_CANON_DIGEST_LEN],
	    unsigned long long *length)
{
	struct dkim_body_canon bc;
	const char *why;
	size_t n;

	if (dkim_canon_body_init(&bc, mode, &why) != 0)
		fuzz_fail("init", mode);
	while (len > 0) {
		if (bytewise) {
			n = 1;
		} else if (seed == 0) {
			n = len;
		} else {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % 17;		/* 0..16, 0 included */
			if (n > len)
				n = len;
		}
		dkim_canon_body_feed(&bc, p, n);
		p += n;
		len -= n;
	}
	if (dkim_canon_body_final(&bc, d, &why) != 0)
		fuzz_fail("final", mode);
	*length = dkim_canon_body_length(&bc);
}

/* check_body - chunking never matters, and the result is the RFC's */
static void
check_body(const unsigned char *data, size_t len, uint32_t seed)
{
	unsigned char whole[DKIM_CANON_DIGEST_LEN], other[DKIM_CANON_DIGEST_LEN];
	unsigned long long lw, lo;
	unsigned char *ref;
	unsigned int dlen;
	size_t ref_len;
	int mode;

	for (mode = 0; mode < MODES; mode++) {
		body_digest(mode, data, len, 0, false, whole, &lw);
		body_digest(mode, data, len, seed | 1, false, other, &lo);
		if (memcmp(whole, other, sizeof(whole)) != 0 || lw != lo)
			fuzz_fail("chunked digest differs from whole", mode);
		if (len <= 512) {
			body_digest(mode, data, len, 0, true, other, &lo);
			if (memcmp(whole, other, sizeof(whole)) != 0 || lw != lo)
				fuzz_fail("bytewise digest differs from whole", mode);
		}
		ref = ref_body(mode, data, len, &ref_len);
		if (EVP_Digest(ref, ref_len, other, &dlen, EVP_sha256(), NULL) != 1)
			abort();
		free(ref);
		if (memcmp(whole, other, sizeof(whole)) != 0 || lw != ref_len)
			fuzz_fail("digest differs from the reference", mode);
	}
}

/* check_header - bounds, contract and idempotence of dkim_canon_header */
static void
check_header(const unsigned char *data, size_t len)
{
	const char *in = (const char *) data;
	bool has_colon = memchr(in, ':', len) != NULL;
	size_t size = DKIM_CANON_HEADER_BOUND(len);
	char *out, *again;
	const char *colon, *why;
	size_t outlen, outlen2, i;
	int mode, crlf, rc;

	for (mode = 0; mode < MODES; mode++)
		for (crlf = 0; crlf < 2; crlf++) {
			if ((out = malloc(size)) == NULL)
				abort();
			rc = dkim_canon_header(mode, in, len, crlf, out, size,
					       &outlen, &why);
			if ((rc == 0) != has_colon)
				fuzz_fail("status disagrees with the colon", mode);
			if (rc != 0) {
				free(out);
				continue;
			}
			if (outlen > size)
				fuzz_fail("output over the bound", mode);
			if (crlf && (outlen < 2 || memcmp(out + outlen - 2, "\r\n", 2)))
				fuzz_fail("no final CRLF", mode);
			if (crlf)
				outlen -= 2;
			for (i = 0; i < outlen; i++) {
				if (mode == DKIM_CANON_MODE_SIMPLE) {
					if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
						fuzz_fail("bare LF in simple output", mode);
					continue;
				}
				if (out[i] == '\t' || out[i] == '\n'
				    || (out[i] == ' ' && i + 1 < outlen && out[i + 1] == ' ')
				    || (out[i] == '\r' && i + 1 < outlen && out[i + 1] == '\n'))
					fuzz_fail("white space left in relaxed output", mode);
			}
			if (mode == DKIM_CANON_MODE_RELAXED) {
				colon = memchr(out, ':', outlen);
				if (colon == NULL)
					fuzz_fail("colon lost", mode);
				for (i = 0; out + i < colon; i++)
					if (out[i] >= 'A' && out[i] <= 'Z')
						fuzz_fail("uppercase name", mode);
				if (outlen > 0 && out[outlen - 1] == ' ')
					fuzz_fail("trailing SP", mode);
				if ((again = malloc(DKIM_CANON_HEADER_BOUND(outlen))) == NULL)
					abort();
				if (dkim_canon_header(mode, out, outlen, false, again,
						      DKIM_CANON_HEADER_BOUND(outlen),
						      &outlen2, &why) != 0
				    || outlen2 != outlen
				    || memcmp(again, out, outlen) != 0)
					fuzz_fail("relaxed not idempotent", mode);
				free(again);
			}
			free(out);
		}
}

/* check_select - the data as header fields, one per LF */
static void
check_select(const unsigned char *data, size_t len)
{
	static const char *const sign[] = {"From", "To", "Subject", "x", "A",
	    "Received", "from"};
	static const char *const oversign_all[] = {"From", "Reply-To", "x",
	    "Date"};
	static const char *const if_present[] = {"date", "x", "Message-ID"};
	const char *oversign[4];
	size_t n_over;
	struct dkim_header_field h[64];
	const char *p = (const char *) data, *end = p + len, *nl, *colon;
	const char **names;
	size_t n = 0, n_names;
	const char *why;
	int mode;

	while (p < end && n < 64) {
		nl = memchr(p, '\n', (size_t) (end - p));
		if (nl == NULL)
			nl = end;
		colon = memchr(p, ':', (size_t) (nl - p));
		if (colon != NULL) {
			h[n].name = p;
			h[n].name_len = (size_t) (colon - p);
			h[n].field = p;
			h[n].field_len = (size_t) (nl - p);
			n++;
		}
		p = nl + 1;
	}
	/* absent if-present names are dropped, the others kept in order */
	n_over = dkim_canon_oversign(h, n, oversign_all, 4, if_present, 3,
				     oversign);
	if (n_over < 2 || n_over > 4)
		fuzz_fail("over-sign list lost From or Reply-To", 0);
	names = dkim_canon_select(h, n, sign, 7, oversign, n_over, &n_names);
	if (n_names > n + n_over)
		fuzz_fail("h= list over its bound", 0);
	for (mode = 0; mode < MODES; mode++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
			abort();
		if (dkim_canon_headers_hash(md, mode, h, n, names, n_names,
					    &why) != 0)
			fuzz_fail("hashing fields with a colon failed", mode);
		EVP_MD_CTX_free(md);
	}
	free(names);
}

/* LLVMFuzzerTestOneInput - byte 0 seeds the chunking, the rest is data */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed;

	if (size == 0)
		return 0;
	seed = (uint32_t) data[0] * 2654435761u;
	data++;
	size--;
	check_body(data, size, seed);
	check_header(data, size);
	check_select(data, size);
	return 0;
}
