/*++
 * NAME
 *	dkim_sign_bench 1
 * SUMMARY
 *	CPU time per message of postmill's DKIM signer (not part of make check)
 * SYNOPSIS
 *	make build/lib/libdkim.a build/lib/libpostmill.a
 *	cc -O2 -std=c11 -D_GNU_SOURCE -Icommon -Imilters/dkim \
 *	    -I/usr/include/opendkim -o build/dkim_sign_bench \
 *	    bench/dkim_sign_bench.c build/lib/libdkim.a \
 *	    build/lib/libpostmill.a -lopendkim -lcrypto
 *	build/dkim_sign_bench [iterations]
 * DESCRIPTION
 *	Signs a message with typical headers (12 fields, one folded) and a
 *	4 KB body, with RSA-2048 and with Ed25519. The private keys are
 *	decoded from PEM once, before timing, as the milter does at load.
 *	One "message" is what the milter does per message: body hash
 *	(relaxed, fed in 1 KB chunks) plus dkim_sign_header(). The time is
 *	process CPU time (CLOCK_PROCESS_CPUTIME_ID) divided by the count,
 *	so it includes everything on this thread.
 *
 *	For reference, the same message is signed by libopendkim, which
 *	decodes the PEM key for every message.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <opendkim/dkim.h>

#include "dkim_canon.h"
#include "dkim_sign.h"

#define BODY_SIZE	4096

static const char *const headers[] = {
	"Received: from client.example.net (client.example.net [192.0.2.7])\n"
	"\tby mx.example.com (Postfix) with ESMTPSA id 4ABCDEF123",
	"From: Alice Example <alice@example.com>",
	"To: Bob Example <bob@example.net>",
	"Cc: carol@example.org",
	"Subject: Quarterly report, draft 3",
	"Date: Mon, 1 Jan 2024 10:00:00 +0100",
	"Message-ID: <20240101090000.12345@example.com>",
	"MIME-Version: 1.0",
	"Content-Type: text/plain; charset=utf-8",
	"Content-Transfer-Encoding: 8bit",
	"User-Agent: bench/1.0",
	"X-Mailer: bench",
};
#define N_HEADERS	(sizeof(headers) / sizeof(headers[0]))

static const char *const sign_list[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding",
};
static const char *const oversign_list[] = {"From"};

static char body[BODY_SIZE];
static struct dkim_header_field fields[N_HEADERS];

/* cpu_us - process CPU time in microseconds */
static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* fail - report and exit */
static void
fail(const char *what, const char *why)
{
	fprintf(stderr, "dkim_sign_bench: %s: %s\n", what, why ? why : "");
	exit(1);
}

/* pem_roundtrip - PEM text of a new key, and the key decoded from it once */
static EVP_PKEY *
pem_roundtrip(EVP_PKEY *gen, char **pem_out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	EVP_PKEY *pkey;
	char *data;
	long len;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, gen, NULL, NULL, 0,
						    NULL, NULL) != 1)
		fail("PEM", "write");
	len = BIO_get_mem_data(bio, &data);
	*pem_out = strndup(data, (size_t) len);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (pkey == NULL || *pem_out == NULL)
		fail("PEM", "read");
	BIO_free(bio);
	return pkey;
}

/* one_message - what the milter does per message */
static void
one_message(const struct dkim_sign_request *req)
{
	unsigned char bh[DKIM_CANON_DIGEST_LEN];
	struct dkim_body_canon bc;
	const char *why = NULL;
	char *value;
	size_t off;

	if (dkim_canon_body_init(&bc, req->body_canon, &why) != 0)
		fail("body init", why);
	for (off = 0; off < sizeof(body); off += 1024)
		dkim_canon_body_feed(&bc, body + off, 1024);
	if (dkim_canon_body_final(&bc, bh, &why) != 0)
		fail("body final", why);
	if (dkim_sign_header(req, fields, N_HEADERS, bh, &value, &why) != 0)
		fail("sign", why);
	free(value);
}

/* body_only - the body hash alone */
static void
body_only(int mode)
{
	unsigned char bh[DKIM_CANON_DIGEST_LEN];
	struct dkim_body_canon bc;
	const char *why = NULL;

	if (dkim_canon_body_init(&bc, mode, &why) != 0)
		fail("body init", why);
	dkim_canon_body_feed(&bc, body, sizeof(body));
	if (dkim_canon_body_final(&bc, bh, &why) != 0)
		fail("body final", why);
}

/* opendkim_message - the same message signed by libopendkim */
static void
opendkim_message(DKIM_LIB *lib, const char *pem, dkim_alg_t alg)
{
	unsigned char hdr[2048];
	unsigned char line[1024];
	DKIM_STAT st;
	size_t i, k, n;
	DKIM *d;

	d = dkim_sign(lib, (const unsigned char *) "bench", NULL,
		      (dkim_sigkey_t) pem, (const unsigned char *) "sel",
		      (const unsigned char *) "example.com", DKIM_CANON_RELAXED,
		      DKIM_CANON_RELAXED, alg, -1, &st);
	if (d == NULL)
		fail("dkim_sign", dkim_getresultstr(st));
	for (i = 0; i < N_HEADERS; i++) {
		/* libopendkim wants CRLF folding */
		for (k = n = 0; headers[i][k] != '\0' && n + 2 < sizeof(line); k++) {
			if (headers[i][k] == '\n')
				line[n++] = '\r';
			line[n++] = (unsigned char) headers[i][k];
		}
		dkim_header(d, line, n);
	}
	dkim_eoh(d);
	dkim_body(d, (unsigned char *) body, sizeof(body));
	if ((st = dkim_eom(d, NULL)) != DKIM_STAT_OK)
		fail("dkim_eom", dkim_getresultstr(st));
	if (dkim_getsighdr(d, hdr, sizeof(hdr), 16) != DKIM_STAT_OK)
		fail("dkim_getsighdr", "");
	dkim_free(d);
}

/* main - time each variant; argument: iterations (default 2000) */
int
main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 2000;
	const char *why = NULL;
	struct {
		const char *label;
		EVP_PKEY *gen;
		dkim_alg_t od_alg;
		int scale;
	} algs[] = {
		{"RSA-2048", NULL, DKIM_SIGN_RSASHA256, 1},
		{"Ed25519", NULL, DKIM_SIGN_ED25519SHA256, 10},
	};
	DKIM_LIB *lib;
	size_t i, a;
	double t0, t1;
	int n, k;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (char) ((i % 72 == 70) ? '\r' : (i % 72 == 71) ? '\n'
		    : (i % 9 == 8) ? ' ' : 'a' + i % 26);
	memcpy(body + sizeof(body) - 2, "\r\n", 2);	/* as Postfix sends it */
	for (i = 0; i < N_HEADERS; i++) {
		fields[i].field = headers[i];
		fields[i].field_len = strlen(headers[i]);
		fields[i].name = headers[i];
		fields[i].name_len = (size_t) (strchr(headers[i], ':') - headers[i]);
	}
	algs[0].gen = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	algs[1].gen = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if ((lib = dkim_init(NULL, NULL)) == NULL)
		fail("dkim_init", "");

	printf("per message: 12 header fields, %d-byte body, relaxed/relaxed; "
	       "CPU microseconds\n", BODY_SIZE);
	for (k = DKIM_CANON_MODE_SIMPLE; k <= DKIM_CANON_MODE_RELAXED; k++) {
		n = iters * 20;
		t0 = cpu_us();
		for (i = 0; i < (size_t) n; i++)
			body_only(k);
		t1 = cpu_us();
		printf("  body hash only (%s):%*s %8.2f\n",
		       k == DKIM_CANON_MODE_SIMPLE ? "simple" : "relaxed",
		       k == DKIM_CANON_MODE_SIMPLE ? 2 : 1, "", (t1 - t0) / n);
	}
	for (a = 0; a < 2; a++) {
		char *pem;
		EVP_PKEY *pkey = pem_roundtrip(algs[a].gen, &pem);
		struct dkim_key *key = dkim_key_from_pkey(pkey, &why);
		struct dkim_sign_request req = {
			.domain = "example.com", .selector = "sel", .key = key,
			.header_canon = DKIM_CANON_MODE_RELAXED,
			.body_canon = DKIM_CANON_MODE_RELAXED,
			.timestamp = 1700000000, .expire = 0,
			.sign_headers = sign_list,
			.n_sign = sizeof(sign_list) / sizeof(sign_list[0]),
			.oversign_headers = oversign_list, .n_oversign = 1,
		};

		if (key == NULL)
			fail("dkim_key_from_pkey", why);
		n = iters * algs[a].scale;
		for (k = 0; k < n / 10 + 1; k++)	/* warm up */
			one_message(&req);
		t0 = cpu_us();
		for (k = 0; k < n; k++)
			one_message(&req);
		t1 = cpu_us();
		printf("  %-8s postmill, key parsed once:     %8.2f  (%d messages)\n",
		       algs[a].label, (t1 - t0) / n, n);

		n = iters / (a == 0 ? 2 : 1);
		t0 = cpu_us();
		for (k = 0; k < n; k++)
			opendkim_message(lib, pem, algs[a].od_alg);
		t1 = cpu_us();
		printf("  %-8s libopendkim, PEM per message: %8.2f  (%d messages)\n",
		       algs[a].label, (t1 - t0) / n, n);
		dkim_key_free(key);
		EVP_PKEY_free(pkey);
		EVP_PKEY_free(algs[a].gen);
		free(pem);
	}
	dkim_close(lib);
	return 0;
}
