/*++
 * NAME
 *	dkim_canon_test 1
 * SUMMARY
 *	unit tests for DKIM canonicalization (milters/dkim/dkim_canon.c)
 * DESCRIPTION
 *	Tables, one cmocka test per row:
 *	body/<row>	body canonicalization vectors (RFC 6376 3.4.3-3.4.5).
 *			Each is fed whole, split at every point, split at
 *			every pair of points (short inputs) and byte by byte;
 *			the digest and length must equal SHA-256 of the
 *			expected canonical form, computed by OpenSSL. The
 *			vector is also checked against ref_body(), a plain
 *			whole-buffer rendering of the RFC text.
 *	header/<row>	header field canonicalization (3.4.1, 3.4.2).
 *	select/<row>	h= selection and hashing order (5.4.2).
 *	Plus: random bodies in random chunks against ref_body(), a 10 MB
 *	body built together with its expected canonical form, a million
 *	empty lines, and the API's error paths. Failures read "got X,
 *	want Y".
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "dkim_canon.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define S(lit)		lit, sizeof(lit) - 1	/* literal and its length */

#define SIMPLE		DKIM_CANON_MODE_SIMPLE
#define RELAXED		DKIM_CANON_MODE_RELAXED

/*
 * Helpers.
 */

/* sha256 - one-shot digest by OpenSSL: the independent reference */
static void
sha256(const void *p, size_t n, unsigned char out[DKIM_CANON_DIGEST_LEN])
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, DKIM_CANON_DIGEST_LEN);
}

/* hex - digest as hex for messages; static buffer, tests are serial */
static const char *
hex(const unsigned char *d, char *buf)
{
	size_t i;

	for (i = 0; i < DKIM_CANON_DIGEST_LEN; i++)
		snprintf(buf + 2 * i, 3, "%02x", d[i]);
	return buf;
}

/* visible - escape bytes for a failure message */
static char *
visible(const char *s, size_t n)
{
	char *out = xmalloc(4 * n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c == '\r') {
			memcpy(out + o, "\\r", 2);
			o += 2;
		} else if (c == '\n') {
			memcpy(out + o, "\\n", 2);
			o += 2;
		} else if (c == '\t') {
			memcpy(out + o, "\\t", 2);
			o += 2;
		} else if (c < 32 || c > 126) {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			out[o++] = (char) c;
		}
	}
	out[o] = '\0';
	return out;
}

/* canon_cuts - canonicalize in pieces ending at the given offsets */
static void
canon_cuts(int mode, const char *in, size_t len, const size_t *cuts,
	   size_t n_cuts, unsigned char digest[DKIM_CANON_DIGEST_LEN],
	   unsigned long long *length)
{
	struct dkim_body_canon bc;
	const char *why = NULL;
	size_t start = 0, i;

	assert_int_equal(dkim_canon_body_init(&bc, mode, &why), 0);
	for (i = 0; i < n_cuts; i++) {
		dkim_canon_body_feed(&bc, in + start, cuts[i] - start);
		start = cuts[i];
	}
	dkim_canon_body_feed(&bc, in + start, len - start);
	if (dkim_canon_body_final(&bc, digest, &why) != 0)
		fail_msg("final: %s", why);
	*length = dkim_canon_body_length(&bc);
}

/* check_cuts - canon_cuts() must give SHA-256(want) and strlen(want) */
static void
check_cuts(const char *name, int mode, const char *in, size_t len,
	   const size_t *cuts, size_t n_cuts, const char *want,
	   size_t want_len)
{
	unsigned char got[DKIM_CANON_DIGEST_LEN], exp[DKIM_CANON_DIGEST_LEN];
	char h1[2 * DKIM_CANON_DIGEST_LEN + 1], h2[2 * DKIM_CANON_DIGEST_LEN + 1];
	unsigned long long length;
	size_t i;

	canon_cuts(mode, in, len, cuts, n_cuts, got, &length);
	sha256(want, want_len, exp);
	if (memcmp(got, exp, sizeof(got)) != 0 || length != want_len) {
		char *v = visible(want, want_len);

		fprintf(stderr, "%s: cuts at", name);
		for (i = 0; i < n_cuts; i++)
			fprintf(stderr, " %zu", cuts[i]);
		fprintf(stderr, "\n");
		fail_msg("%s: got digest %s length %llu, want %s length %zu "
			 "(\"%s\")", name, hex(got, h1), length, hex(exp, h2),
			 want_len, v);
	}
}

/*
 * ref_body - RFC 6376 3.4.3/3.4.4 rendered literally, on a whole buffer:
 * split into CRLF-terminated lines (plus an unterminated last line),
 * transform each line, drop trailing empty lines, join with CRLF.
 */
static char *
ref_body(int mode, const char *in, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 3);
	size_t o = 0;		/* output so far */
	size_t keep = 0;	/* output length up to the last non-empty line */
	size_t i = 0, start, end, k;
	int any = 0;

	while (i < len) {
		/* one line: [start, end), terminated by CRLF or the end */
		start = i;
		while (i < len && !(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			i++;
		end = i;
		if (i < len)
			i += 2;
		if (mode == RELAXED) {
			size_t ls = o;
			int sp = 0;

			for (k = start; k < end; k++) {
				if (in[k] == ' ' || in[k] == '\t') {
					sp = 1;
					continue;
				}
				if (sp)
					out[o++] = ' ';
				sp = 0;
				out[o++] = in[k];
			}
			if (o > ls) {
				any = 1;
				keep = o + 2;
			}
		} else {
			memcpy(out + o, in + start, end - start);
			o += end - start;
			if (end > start) {
				any = 1;
				keep = o + 2;
			}
		}
		out[o++] = '\r';
		out[o++] = '\n';
	}
	/* trailing empty lines go; the last non-empty line keeps its CRLF */
	o = keep;
	if (!any)
		o = 0;
	if (o == 0 && mode == SIMPLE) {
		memcpy(out, "\r\n", 2);
		o = 2;
	}
	*out_len = o;
	return out;
}

/*
 * Body vectors.
 */
struct body_case {
	const char	*name;
	int		 mode;
	const char	*in;
	size_t		 in_len;
	const char	*want;
	size_t		 want_len;
};

static const struct body_case body_cases[] = {
	/* RFC 6376 3.4.5 example body */
	{"simple rfc6376 3.4.5", SIMPLE, S(" C \r\nD \t E\r\n\r\n\r\n"),
	 S(" C \r\nD \t E\r\n")},
	{"relaxed rfc6376 3.4.5", RELAXED, S(" C \r\nD \t E\r\n\r\n\r\n"),
	 S(" C\r\nD E\r\n")},

	{"simple empty", SIMPLE, S(""), S("\r\n")},
	{"relaxed empty", RELAXED, S(""), S("")},
	{"simple only crlf", SIMPLE, S("\r\n"), S("\r\n")},
	{"relaxed only crlf", RELAXED, S("\r\n"), S("")},
	{"simple only crlfs", SIMPLE, S("\r\n\r\n\r\n\r\n"), S("\r\n")},
	{"relaxed only crlfs", RELAXED, S("\r\n\r\n\r\n\r\n"), S("")},
	{"simple no final crlf", SIMPLE, S("abc"), S("abc\r\n")},
	{"relaxed no final crlf", RELAXED, S("abc"), S("abc\r\n")},
	{"simple no final crlf, two lines", SIMPLE, S("a\r\n\r\nb"),
	 S("a\r\n\r\nb\r\n")},
	{"relaxed no final crlf, trailing wsp", RELAXED, S("abc \t "),
	 S("abc\r\n")},
	{"simple no final crlf, trailing wsp", SIMPLE, S("abc \t "),
	 S("abc \t \r\n")},
	{"relaxed only wsp, no crlf", RELAXED, S(" \t "), S("")},
	{"simple only wsp, no crlf", SIMPLE, S(" \t "), S(" \t \r\n")},
	{"simple one line", SIMPLE, S("Hello\r\n"), S("Hello\r\n")},
	{"simple trailing empty lines", SIMPLE, S("Hello\r\n\r\n\r\n"),
	 S("Hello\r\n")},
	{"simple leading empty lines kept", SIMPLE, S("\r\n\r\nHi\r\n"),
	 S("\r\n\r\nHi\r\n")},
	{"relaxed leading empty lines kept", RELAXED, S("\r\n \r\nHi\r\n"),
	 S("\r\n\r\nHi\r\n")},
	{"simple inner empty lines kept", SIMPLE, S("a\r\n\r\n\r\nb\r\n\r\n"),
	 S("a\r\n\r\n\r\nb\r\n")},
	{"simple wsp-only line is not empty", SIMPLE, S("a\r\n \r\n\t\r\n"),
	 S("a\r\n \r\n\t\r\n")},
	{"simple wsp-only then empty", SIMPLE, S("a\r\n \r\n\r\n"),
	 S("a\r\n \r\n")},
	{"relaxed wsp-only lines at end", RELAXED,
	 S("a\r\n \r\n\t\t\r\n \t \r\n\r\n"), S("a\r\n")},
	{"relaxed wsp-only line inside", RELAXED, S("a\r\n \t \r\nb\r\n"),
	 S("a\r\n\r\nb\r\n")},
	{"relaxed wsp runs", RELAXED, S("a  b\t\tc \t d\r\n"),
	 S("a b c d\r\n")},
	{"relaxed leading wsp becomes one sp", RELAXED, S("\t \tx\r\n"),
	 S(" x\r\n")},
	{"relaxed trailing wsp", RELAXED, S("x \t\r\ny\t\r\n"),
	 S("x\r\ny\r\n")},
	{"simple wsp untouched", SIMPLE, S(" a  b\t\r\n"), S(" a  b\t\r\n")},
	{"simple bare cr is data", SIMPLE, S("a\rb\r\n"), S("a\rb\r\n")},
	{"relaxed bare cr is data", RELAXED, S("a\rb\r\n"), S("a\rb\r\n")},
	{"simple final bare cr", SIMPLE, S("a\r"), S("a\r\r\n")},
	{"relaxed final bare cr", RELAXED, S("a \r"), S("a \r\r\n")},
	{"simple cr cr lf", SIMPLE, S("a\r\r\n"), S("a\r\r\n")},
	{"relaxed cr cr lf", RELAXED, S("a\r\r\n\r\n"), S("a\r\r\n")},
	{"relaxed wsp before bare cr kept", RELAXED, S("a \rb\r\n"),
	 S("a \rb\r\n")},
	{"relaxed wsp after bare cr", RELAXED, S("a\r \r\n"), S("a\r\r\n")},
	{"simple bare lf is data", SIMPLE, S("a\nb\n"), S("a\nb\n\r\n")},
	{"relaxed bare lf is data", RELAXED, S("a \n b\r\n"),
	 S("a \n b\r\n")},
	{"simple lone lf", SIMPLE, S("\n"), S("\n\r\n")},
	{"relaxed lf cr", RELAXED, S("\n\r"), S("\n\r\r\n")},
	{"simple lf then crlf", SIMPLE, S("\n\r\n\r\n"), S("\n\r\n")},
	{"simple 8-bit", SIMPLE, S("gr\xc3\xbc\xc3\x9f \xff\x80\r\n\r\n"),
	 S("gr\xc3\xbc\xc3\x9f \xff\x80\r\n")},
	{"relaxed 8-bit, nbsp is not wsp", RELAXED,
	 S("\xc2\xa0 x\xa0  \xff\t\r\n"), S("\xc2\xa0 x\xa0 \xff\r\n")},
	{"simple nul", SIMPLE, S("a\0b\r\n\0\r\n"), S("a\0b\r\n\0\r\n")},
	{"relaxed nul", RELAXED, S("\0 \0\r\n"), S("\0 \0\r\n")},
	{"relaxed vt and ff are not wsp", RELAXED, S("a\v\f b \r\n"),
	 S("a\v\f b\r\n")},
	{"simple dot line", SIMPLE, S(".\r\n..\r\n"), S(".\r\n..\r\n")},
	{"relaxed mixed", RELAXED,
	 S("  Hello ,\t world  \r\n\r\n  \r\nBye\t \r\n\t\r\n\r\n"),
	 S(" Hello , world\r\n\r\n\r\nBye\r\n")},
};

/* test_body - one vector, every way of cutting it */
static void
test_body(void **state)
{
	const struct body_case *c = *state;
	size_t cuts[2];
	size_t i, j;
	size_t *bytes;
	size_t ref_len;
	char *ref;

	/* the reference rendering agrees with the hand-written vector */
	ref = ref_body(c->mode, c->in, c->in_len, &ref_len);
	if (ref_len != c->want_len || memcmp(ref, c->want, ref_len) != 0) {
		char *v1 = visible(ref, ref_len), *v2 = visible(c->want, c->want_len);

		fail_msg("%s: ref_body got \"%s\", want \"%s\"", c->name, v1, v2);
	}
	free(ref);

	check_cuts(c->name, c->mode, c->in, c->in_len, NULL, 0, c->want,
		   c->want_len);
	for (i = 0; i <= c->in_len; i++) {
		cuts[0] = i;
		check_cuts(c->name, c->mode, c->in, c->in_len, cuts, 1,
			   c->want, c->want_len);
	}
	if (c->in_len <= 48) {
		for (i = 0; i <= c->in_len; i++)
			for (j = i; j <= c->in_len; j++) {
				cuts[0] = i;
				cuts[1] = j;
				check_cuts(c->name, c->mode, c->in, c->in_len,
					   cuts, 2, c->want, c->want_len);
			}
	}
	bytes = xcalloc(c->in_len + 1, sizeof(*bytes));
	for (i = 0; i < c->in_len; i++)
		bytes[i] = i + 1;
	check_cuts(c->name, c->mode, c->in, c->in_len, bytes, c->in_len,
		   c->want, c->want_len);
	free(bytes);
}

/*
 * Generated bodies.
 */

/* rng - xorshift64*, deterministic */
static uint64_t
rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* test_random_bodies - random bytes, random chunks, against ref_body() */
static void
test_random_bodies(void **state)
{
	static const char alphabet[] = {'a', 'b', ' ', ' ', '\t', '\r', '\r',
	    '\n', '\n', '\r', '\n', '\xff', '\0'};
	char body[400];
	size_t cuts[400];
	size_t len, n_cuts, i, ref_len;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char name[64];
	char *ref;
	int mode, round;

	(void) state;
	for (round = 0; round < 4000; round++) {
		len = rng(&seed) % sizeof(body);
		for (i = 0; i < len; i++)
			body[i] = alphabet[rng(&seed) % sizeof(alphabet)];
		n_cuts = 0;
		for (i = 1; i < len; i++)
			if (rng(&seed) % 8 == 0)
				cuts[n_cuts++] = i;
		for (mode = SIMPLE; mode <= RELAXED; mode++) {
			ref = ref_body(mode, body, len, &ref_len);
			snprintf(name, sizeof(name), "random %d mode %d", round,
				 mode);
			check_cuts(name, mode, body, len, cuts, n_cuts, ref,
				   ref_len);
			free(ref);
		}
	}
}

/* test_long_lines - lines far over 998 bytes, with WSP runs */
static void
test_long_lines(void **state)
{
	size_t len = 0, i, ref_len;
	size_t cuts[3] = {997, 998, 5001};
	char *body = xmalloc(20000);
	clock_t t0;
	double secs;
	char *ref;
	int mode;

	(void) state;
	for (i = 0; i < 6000; i++)
		body[len++] = i % 7 == 0 ? ' ' : i % 11 == 0 ? '\t' : 'x';
	memcpy(body + len, "  \r\n", 4);
	len += 4;
	for (i = 0; i < 3000; i++)
		body[len++] = 'y';
	for (mode = SIMPLE; mode <= RELAXED; mode++) {
		ref = ref_body(mode, body, len, &ref_len);
		check_cuts("long lines", mode, body, len, NULL, 0, ref, ref_len);
		check_cuts("long lines cut", mode, body, len, cuts, 3, ref,
			   ref_len);
		free(ref);
	}
	free(body);

	/*
	 * A 4 MB line of words and no CR, in one chunk: each part of the
	 * line must be scanned a bounded number of times (a per-word rescan
	 * to the end of the chunk would take minutes here).
	 */
	len = 4 * 1024 * 1024;
	body = xmalloc(len);
	for (i = 0; i < len; i++)
		body[i] = i % 6 == 5 ? ' ' : i % 97 == 0 ? '\t' : 'w';
	for (mode = SIMPLE; mode <= RELAXED; mode++) {
		ref = ref_body(mode, body, len, &ref_len);
		t0 = clock();
		check_cuts("4 MB line", mode, body, len, NULL, 0, ref, ref_len);
		secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
		if (secs > 5)
			fail_msg("4 MB line mode %d: got %.1f s CPU, want < 5 s "
				 "(linear time; ~0.05 s expected)", mode, secs);
		free(ref);
	}
	free(body);
}

/* test_ten_megabytes - built with its canonical forms, chunks of all sizes */
static void
test_ten_megabytes(void **state)
{
	static const char *const raw_lines[] = {
		"Lorem ipsum  dolor\tsit amet, \t\r\n",
		"\r\n",
		"  indented \xc3\xa4\xc3\xb6 line\r\n",
		" \t \r\n",
		"x\r\n",
	};
	static const char *const relaxed_lines[] = {
		"Lorem ipsum dolor sit amet,\r\n",
		"\r\n",
		" indented \xc3\xa4\xc3\xb6 line\r\n",
		"\r\n",
		"x\r\n",
	};
	static const char tail[] = "end\r\n\r\n \r\n\t\r\n\r\n";
	const size_t target = 10 * 1024 * 1024;
	char *raw = xmalloc(target + 256);
	char *rel = xmalloc(target + 256);
	size_t raw_len = 0, rel_len = 0, k = 0, l;
	unsigned char got[DKIM_CANON_DIGEST_LEN], exp[DKIM_CANON_DIGEST_LEN];
	struct dkim_body_canon bc;
	unsigned long long length;
	const char *why;
	uint64_t seed = 42;
	size_t pos, n;
	int mode;

	(void) state;
	while (raw_len < target) {
		l = strlen(raw_lines[k % NELEM(raw_lines)]);
		memcpy(raw + raw_len, raw_lines[k % NELEM(raw_lines)], l);
		raw_len += l;
		l = strlen(relaxed_lines[k % NELEM(relaxed_lines)]);
		memcpy(rel + rel_len, relaxed_lines[k % NELEM(relaxed_lines)], l);
		rel_len += l;
		k++;
	}
	/*
	 * End on a non-empty line, then an empty line, two lines of white
	 * space and an empty line. Simple keeps all but the last CRLF (the
	 * tab line is not empty for it); relaxed keeps "end\r\n" only.
	 */
	memcpy(raw + raw_len, tail, strlen(tail));
	memcpy(rel + rel_len, "end\r\n", 5);
	rel_len += 5;

	for (mode = SIMPLE; mode <= RELAXED; mode++) {
		size_t total = raw_len + strlen(tail);

		assert_int_equal(dkim_canon_body_init(&bc, mode, &why), 0);
		for (pos = 0; pos < total; pos += n) {
			n = 1 + rng(&seed) % 16384;
			if (n > total - pos)
				n = total - pos;
			dkim_canon_body_feed(&bc, raw + pos, n);
		}
		assert_int_equal(dkim_canon_body_final(&bc, got, &why), 0);
		length = dkim_canon_body_length(&bc);
		if (mode == SIMPLE) {
			sha256(raw, total - 2, exp);
			assert_int_equal(length, total - 2);
		} else {
			sha256(rel, rel_len, exp);
			assert_int_equal(length, rel_len);
		}
		if (memcmp(got, exp, sizeof(got)) != 0)
			fail_msg("10 MB mode %d: digest differs from OpenSSL's "
				 "over the expected form", mode);
	}
	free(raw);
	free(rel);
}

/* test_many_empty_lines - a million held-back lines, then content */
static void
test_many_empty_lines(void **state)
{
	const size_t n = 1000000;
	char *in = xmalloc(2 * n + 8);
	size_t i;
	int mode;

	(void) state;
	for (i = 0; i < n; i++)
		memcpy(in + 2 * i, "\r\n", 2);
	for (mode = SIMPLE; mode <= RELAXED; mode++) {
		/* only empty lines: nothing (relaxed) or CRLF (simple) */
		check_cuts("million empty", mode, in, 2 * n, NULL, 0,
			   mode == SIMPLE ? "\r\n" : "", mode == SIMPLE ? 2 : 0);
	}
	memcpy(in + 2 * n, "x\r\n", 3);
	for (mode = SIMPLE; mode <= RELAXED; mode++)
		check_cuts("million empty then x", mode, in, 2 * n + 3, NULL, 0,
			   in, 2 * n + 3);
	free(in);
}

/* test_body_api - errors, length while streaming, discard */
static void
test_body_api(void **state)
{
	struct dkim_body_canon bc;
	unsigned char d[DKIM_CANON_DIGEST_LEN];
	const char *why = NULL;

	(void) state;
	assert_int_equal(dkim_canon_body_init(&bc, 7, &why), -1);
	assert_non_null(why);
	dkim_canon_body_discard(&bc);		/* safe after a failed init */

	assert_int_equal(dkim_canon_body_init(&bc, SIMPLE, &why), 0);
	dkim_canon_body_feed(&bc, "ab\r\n\r\n", 6);
	/* "ab" hashed, both line breaks held back */
	assert_int_equal(dkim_canon_body_length(&bc), 2);
	dkim_canon_body_feed(&bc, "c", 1);
	assert_int_equal(dkim_canon_body_length(&bc), 7);
	dkim_canon_body_feed(&bc, NULL, 0);
	assert_int_equal(dkim_canon_body_final(&bc, d, &why), 0);
	assert_int_equal(dkim_canon_body_length(&bc), 9);
	why = NULL;
	assert_int_equal(dkim_canon_body_final(&bc, d, &why), -1);
	assert_non_null(why);
	dkim_canon_body_discard(&bc);		/* safe after final */

	/* aborted message: discard without final; ASan checks the leak */
	assert_int_equal(dkim_canon_body_init(&bc, RELAXED, &why), 0);
	dkim_canon_body_feed(&bc, "x \r", 3);
	dkim_canon_body_discard(&bc);
	dkim_canon_body_discard(&bc);

	/* feeding a finished canonicalizer is remembered */
	assert_int_equal(dkim_canon_body_init(&bc, RELAXED, &why), 0);
	assert_int_equal(dkim_canon_body_final(&bc, d, &why), 0);
	dkim_canon_body_feed(&bc, "x", 1);
	assert_int_equal(bc.failed, 1);
}

/*
 * Header fields.
 */
struct header_case {
	const char	*name;
	int		 mode;
	int		 crlf;
	const char	*in;
	size_t		 in_len;
	const char	*want;		/* NULL: error expected */
	size_t		 want_len;
};

#define HDR_ERR		NULL, 0

static const struct header_case header_cases[] = {
	/* RFC 6376 3.4.5 example header */
	{"relaxed rfc6376 a", RELAXED, 1, S("A: X"), S("a:X\r\n")},
	{"relaxed rfc6376 b", RELAXED, 1, S("B : Y\t\r\n\tZ  "),
	 S("b:Y Z\r\n")},
	{"simple rfc6376 a", SIMPLE, 1, S("A: X"), S("A: X\r\n")},
	{"simple rfc6376 b", SIMPLE, 1, S("B : Y\t\r\n\tZ  "),
	 S("B : Y\t\r\n\tZ  \r\n")},

	{"relaxed plain", RELAXED, 1, S("Subject: Hello World"),
	 S("subject:Hello World\r\n")},
	{"relaxed uppercase name", RELAXED, 1, S("MESSAGE-ID: <A@B>"),
	 S("message-id:<A@B>\r\n")},
	{"relaxed no space after colon", RELAXED, 1, S("To:x@y"),
	 S("to:x@y\r\n")},
	{"relaxed spaces before colon", RELAXED, 1, S("Cc \t :  x@y"),
	 S("cc:x@y\r\n")},
	{"relaxed tabs", RELAXED, 1, S("Subject:\t\ta\t \tb\t"),
	 S("subject:a b\r\n")},
	{"relaxed folded crlf", RELAXED, 1,
	 S("Subject: a long\r\n subject\r\n\tcontinued"),
	 S("subject:a long subject continued\r\n")},
	{"relaxed folded lf (libmilter)", RELAXED, 1,
	 S("Subject: a long\n subject\n\tcontinued"),
	 S("subject:a long subject continued\r\n")},
	{"relaxed fold right after colon", RELAXED, 1, S("To:\r\n x@y"),
	 S("to:x@y\r\n")},
	{"relaxed fold at end", RELAXED, 1, S("To: x@y\r\n \n\t"),
	 S("to:x@y\r\n")},
	{"relaxed empty value", RELAXED, 1, S("X-Empty:"), S("x-empty:\r\n")},
	{"relaxed wsp-only value", RELAXED, 1, S("X-Empty: \t "),
	 S("x-empty:\r\n")},
	{"relaxed colons in value", RELAXED, 1, S("X-A: b: c"),
	 S("x-a:b: c\r\n")},
	{"relaxed 8-bit untouched", RELAXED, 1,
	 S("Subject: Gr\xc3\x9c\xc3\x9f\xe2\x80\x83x"),
	 S("subject:Gr\xc3\x9c\xc3\x9f\xe2\x80\x83x\r\n")},
	{"relaxed 8-bit in name not lowercased", RELAXED, 1, S("X-\xc3\x84: v"),
	 S("x-\xc3\x84:v\r\n")},
	{"relaxed bare cr is data", RELAXED, 1, S("X: a\rb"),
	 S("x:a\rb\r\n")},
	{"relaxed no crlf (signature field)", RELAXED, 0,
	 S("DKIM-Signature: v=1;\n\tb="), S("dkim-signature:v=1; b=")},

	{"simple unchanged", SIMPLE, 1, S("Subject:  Hello \t"),
	 S("Subject:  Hello \t\r\n")},
	{"simple lf folding becomes crlf", SIMPLE, 1, S("Subject: a\n b\n\tc"),
	 S("Subject: a\r\n b\r\n\tc\r\n")},
	{"simple crlf folding kept", SIMPLE, 1, S("Subject: a\r\n b"),
	 S("Subject: a\r\n b\r\n")},
	{"simple mixed folding", SIMPLE, 1, S("S: a\r\n b\n c"),
	 S("S: a\r\n b\r\n c\r\n")},
	{"simple bare cr kept", SIMPLE, 1, S("S: a\rb"), S("S: a\rb\r\n")},
	{"simple no crlf (signature field)", SIMPLE, 0,
	 S("DKIM-Signature: v=1;\n\tb="), S("DKIM-Signature: v=1;\r\n\tb=")},
	{"simple leading lf", SIMPLE, 0, S("\nX:"), S("\r\nX:")},
	{"simple 8-bit", SIMPLE, 1, S("S: \xff\x80"), S("S: \xff\x80\r\n")},

	{"no colon relaxed", RELAXED, 1, S("Subject Hello"), HDR_ERR},
	{"no colon simple", SIMPLE, 1, S("Subject Hello"), HDR_ERR},
	{"empty field", RELAXED, 1, S(""), HDR_ERR},
	{"unknown mode", 9, 1, S("A: b"), HDR_ERR},
};

/* test_header - one header field vector */
static void
test_header(void **state)
{
	const struct header_case *c = *state;
	size_t size = DKIM_CANON_HEADER_BOUND(c->in_len);
	char *out = xmalloc(size);
	const char *why = NULL;
	size_t outlen = 0;
	int rc;

	rc = dkim_canon_header(c->mode, c->in, c->in_len, c->crlf, out, size,
			       &outlen, &why);
	if (c->want == NULL) {
		if (rc != -1 || why == NULL)
			fail_msg("%s: got %d, want -1 with a reason", c->name, rc);
		free(out);
		return;
	}
	if (rc != 0)
		fail_msg("%s: got -1 (%s), want 0", c->name, why);
	if (outlen != c->want_len || memcmp(out, c->want, outlen) != 0) {
		char *v1 = visible(out, outlen), *v2 = visible(c->want, c->want_len);

		fail_msg("%s: got \"%s\", want \"%s\"", c->name, v1, v2);
	}
	assert_true(outlen <= size);

	/* one byte short of the bound is refused, never overrun */
	if (size > 0) {
		rc = dkim_canon_header(c->mode, c->in, c->in_len, c->crlf, out,
				       size - 1, &outlen, &why);
		assert_int_equal(rc, -1);
	}
	free(out);
}

/* test_header_bound - all-LF input reaches the bound exactly */
static void
test_header_bound(void **state)
{
	char in[1 + 2000];
	size_t size = DKIM_CANON_HEADER_BOUND(sizeof(in));
	char *out = xmalloc(size);
	const char *why;
	size_t outlen;

	(void) state;
	in[0] = ':';
	memset(in + 1, '\n', sizeof(in) - 1);
	assert_int_equal(dkim_canon_header(SIMPLE, in, sizeof(in), true, out,
					   size, &outlen, &why), 0);
	assert_int_equal(outlen, 1 + 2 * 2000 + 2);
	assert_true(outlen <= size);
	assert_int_equal(dkim_canon_header(RELAXED, in, sizeof(in), true, out,
					   size, &outlen, &why), 0);
	assert_int_equal(outlen, 3);		/* ":" CRLF */
	free(out);
}

/*
 * Header selection and hashing order.
 */
#define MAXH	12

struct select_case {
	const char	*name;
	const char	*headers[MAXH];		/* "Name:value", NULL ends */
	const char	*sign[MAXH];
	const char	*oversign[MAXH];
	const char	*want_h;		/* names joined with ':' */
	const char	*want_hashed;		/* relaxed, in hash order */
	const char	*if_present[MAXH];	/* over-signed only if present */
};

static const struct select_case select_cases[] = {
	{"plain",
	 {"From: a@x", "To: b@y", "Subject: s", NULL},
	 {"From", "To", "Subject", "Date", NULL}, {NULL},
	 "From:To:Subject",
	 "from:a@x\r\nto:b@y\r\nsubject:s\r\n", {NULL}},
	{"config order, not message order",
	 {"Subject: s", "To: b@y", "From: a@x", NULL},
	 {"From", "To", "Subject", NULL}, {NULL},
	 "From:To:Subject",
	 "from:a@x\r\nto:b@y\r\nsubject:s\r\n", {NULL}},
	{"repeated names, bottom up",
	 {"Received: r1", "From: a@x", "Received: r2", "Received: r3", NULL},
	 {"From", "Received", NULL}, {NULL},
	 "From:Received:Received:Received",
	 "from:a@x\r\nreceived:r3\r\nreceived:r2\r\nreceived:r1\r\n", {NULL}},
	{"over-signed From present",
	 {"From: a@x", "To: b@y", NULL},
	 {"From", "To", NULL}, {"From", NULL},
	 "From:From:To",
	 "from:a@x\r\nto:b@y\r\n", {NULL}},
	{"over-signed absent name listed once",
	 {"From: a@x", NULL},
	 {"From", NULL}, {"From", "Reply-To", NULL},
	 "From:From:Reply-To",
	 "from:a@x\r\n", {NULL}},
	{"over-signed only, present twice",
	 {"From: a@x", "X-T: 1", "X-T: 2", NULL},
	 {"From", NULL}, {"X-T", NULL},
	 "From:X-T:X-T:X-T",
	 "from:a@x\r\nx-t:2\r\nx-t:1\r\n", {NULL}},
	{"case-insensitive names and duplicates",
	 {"FROM: a@x", "subject: s", NULL},
	 {"from", "From", "SUBJECT", NULL}, {"FROM", NULL},
	 "from:from:SUBJECT",
	 "from:a@x\r\nsubject:s\r\n", {NULL}},
	{"absent names skipped",
	 {"From: a@x", NULL},
	 {"Date", "From", "Message-ID", NULL}, {NULL},
	 "From",
	 "from:a@x\r\n", {NULL}},
	{"name prefix does not match",
	 {"From: a@x", "Fromage: b", NULL},
	 {"From", NULL}, {NULL},
	 "From",
	 "from:a@x\r\n", {NULL}},
	{"no headers at all",
	 {NULL},
	 {"From", NULL}, {"To", NULL},
	 "To",
	 "", {NULL}},
	{"folded lf values",
	 {"From: a@x", "Subject: one\n two", NULL},
	 {"From", "Subject", NULL}, {NULL},
	 "From:Subject",
	 "from:a@x\r\nsubject:one two\r\n", {NULL}},
	/* dkim_canon_oversign(): what the MTA may add after the milters */
	{"if-present names absent: their absence is not signed",
	 {"From: a@x", "Subject: s", NULL},
	 {"From", "Subject", "Date", "Message-ID", NULL},
	 {"From", "Subject", "Date", "Message-ID", "Reply-To", NULL},
	 "From:From:Subject:Subject:Reply-To",
	 "from:a@x\r\nsubject:s\r\n",
	 {"date", "message-id", NULL}},
	{"if-present names present: over-signed as usual",
	 {"From: a@x", "Date: d", "Message-Id: <m@x>", NULL},
	 {"From", "Date", "Message-ID", NULL},
	 {"From", "Date", "Message-ID", NULL},
	 "From:From:Date:Date:Message-ID:Message-ID",
	 "from:a@x\r\ndate:d\r\nmessage-id:<m@x>\r\n",
	 {"DATE", "Message-ID", NULL}},
	{"one of two present, twice",
	 {"From: a@x", "Date: d1", "Date: d2", NULL},
	 {"From", NULL},
	 {"From", "Date", "Message-ID", NULL},
	 "From:From:Date:Date:Date",
	 "from:a@x\r\ndate:d2\r\ndate:d1\r\n",
	 {"date", "message-id", NULL}},
	{"if-present name not over-signed at all",
	 {"From: a@x", NULL},
	 {"From", "Date", NULL}, {"From", NULL},
	 "From:From",
	 "from:a@x\r\n",
	 {"date", "x-unused", NULL}},
};

/* count - entries before the NULL */
static size_t
count(const char *const *v)
{
	size_t n = 0;

	while (n < MAXH && v[n] != NULL)
		n++;
	return n;
}

/* test_select - h= list and the bytes hashed for it */
static void
test_select(void **state)
{
	const struct select_case *c = *state;
	struct dkim_header_field h[MAXH];
	size_t n_h = count(c->headers), n_out, i, len = 0;
	unsigned char got[DKIM_CANON_DIGEST_LEN], exp[DKIM_CANON_DIGEST_LEN];
	const char **names;
	const char *oversign[MAXH];
	size_t n_over;
	char joined[512];
	const char *why;
	unsigned int dlen;
	EVP_MD_CTX *md;

	for (i = 0; i < n_h; i++) {
		const char *colon = strchr(c->headers[i], ':');

		h[i].field = c->headers[i];
		h[i].field_len = strlen(c->headers[i]);
		h[i].name = c->headers[i];
		h[i].name_len = (size_t) (colon - c->headers[i]);
	}
	n_over = dkim_canon_oversign(h, n_h, c->oversign, count(c->oversign),
				     c->if_present, count(c->if_present),
				     oversign);
	assert_true(n_over <= count(c->oversign));
	names = dkim_canon_select(h, n_h, c->sign, count(c->sign), oversign,
				  n_over, &n_out);
	joined[0] = '\0';
	for (i = 0; i < n_out; i++) {
		len += (size_t) snprintf(joined + len, sizeof(joined) - len, "%s%s",
					 i ? ":" : "", names[i]);
		assert_true(len < sizeof(joined));
	}
	if (strcmp(joined, c->want_h) != 0)
		fail_msg("%s: got h=%s, want h=%s", c->name, joined, c->want_h);
	assert_true(n_out <= n_h + count(c->oversign));

	md = EVP_MD_CTX_new();
	assert_non_null(md);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(dkim_canon_headers_hash(md, RELAXED, h, n_h, names,
						 n_out, &why), 0);
	assert_int_equal(EVP_DigestFinal_ex(md, got, &dlen), 1);
	EVP_MD_CTX_free(md);
	sha256(c->want_hashed, strlen(c->want_hashed), exp);
	if (memcmp(got, exp, sizeof(got)) != 0) {
		char *v = visible(c->want_hashed, strlen(c->want_hashed));

		fail_msg("%s: hashed bytes differ from \"%s\"", c->name, v);
	}
	free(names);
}

/* test_hash_order - any h= order: each name takes its next instance up */
static void
test_hash_order(void **state)
{
	struct dkim_header_field h[] = {
		{"X", 1, "X: 1", 4}, {"Y", 1, "Y: 1", 4}, {"x", 1, "x: 2", 4},
		{"Z", 1, "Z:3", 3},
	};
	const char *names[] = {"x", "Y", "X", "X", "Q", "z", "y", "Z"};
	const char want[] = "x: 2\r\nY: 1\r\nX: 1\r\nZ:3\r\n";
	unsigned char got[DKIM_CANON_DIGEST_LEN], exp[DKIM_CANON_DIGEST_LEN];
	const char *why;
	unsigned int dlen;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	(void) state;
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(dkim_canon_headers_hash(md, SIMPLE, h, NELEM(h), names,
						 NELEM(names), &why), 0);
	assert_int_equal(EVP_DigestFinal_ex(md, got, &dlen), 1);
	EVP_MD_CTX_free(md);
	sha256(want, sizeof(want) - 1, exp);
	if (memcmp(got, exp, sizeof(got)) != 0)
		fail_msg("hash order: digest differs from SHA-256 of \"%s\"",
			 visible(want, sizeof(want) - 1));
}

/* test_hash_bad_field - a selected field without a colon is an error */
static void
test_hash_bad_field(void **state)
{
	struct dkim_header_field h = {"From", 4, "From", 4};
	const char *names[] = {"From"};
	const char *why = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	(void) state;
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(dkim_canon_headers_hash(md, SIMPLE, &h, 1, names, 1,
						 &why), -1);
	assert_non_null(why);
	EVP_MD_CTX_free(md);
}

/* add_tests - one cmocka test per table row; rows start with a name */
static size_t
add_tests(struct CMUnitTest *t, size_t n, const char *table,
	  CMUnitTestFunction fn, const void *rows, size_t rowsize,
	  size_t nrows)
{
	size_t i;

	for (i = 0; i < nrows; i++) {
		const void *row = (const char *) rows + i * rowsize;
		const char *name = *(const char *const *) row;

		t[n].name = xasprintf("%s/%s", table, name);
		t[n].test_func = fn;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *) (uintptr_t) row;
		n++;
	}
	return n;
}

/* main - one cmocka test per table row, then the fixed tests */
int
main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_random_bodies),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_ten_megabytes),
		cmocka_unit_test(test_many_empty_lines),
		cmocka_unit_test(test_body_api),
		cmocka_unit_test(test_header_bound),
		cmocka_unit_test(test_hash_order),
		cmocka_unit_test(test_hash_bad_field),
	};
	size_t total = NELEM(body_cases) + NELEM(header_cases)
	    + NELEM(select_cases) + NELEM(fixed);
	struct CMUnitTest *t = xcalloc(total, sizeof(*t));
	size_t n = 0, n_named, i;
	int rc;

	n = add_tests(t, n, "body", test_body, body_cases,
		      sizeof(body_cases[0]), NELEM(body_cases));
	n = add_tests(t, n, "header", test_header, header_cases,
		      sizeof(header_cases[0]), NELEM(header_cases));
	n = add_tests(t, n, "select", test_select, select_cases,
		      sizeof(select_cases[0]), NELEM(select_cases));
	n_named = n;
	for (i = 0; i < NELEM(fixed); i++)
		t[n++] = fixed[i];
	rc = _cmocka_run_group_tests("dkim_canon", t, n, NULL, NULL);
	for (i = 0; i < n_named; i++)
		free((char *) t[i].name);
	free(t);
	return rc;
}
