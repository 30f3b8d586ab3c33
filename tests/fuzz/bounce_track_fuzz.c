/*++
 * NAME
 *	bounce_track_fuzz 1
 * SUMMARY
 *	libFuzzer target for open and click tracking: tokens, tags, bodies
 * DESCRIPTION
 *	The first octet chooses what the rest is:
 *	  0-63	a token: bounce_track_decode() must set why, and a token that
 *		verifies must encode again to exactly the input (one
 *		spelling per token); as a path it goes through
 *		bounce_track_request(), which only redirects to a URL that
 *		bounce_track_url_ok() accepts, and refuses with 404 or 405
 *	  64-127 one tag for bounce_track_tag(): a rewritten tag must hold
 *		a token that decodes to an http(s) URL
 *	  else	a body: the second octet picks the Content-Type and the
 *		transfer encoding from tables, the third the chunk size; the
 *		body is walked whole and in chunks, which must give the same
 *		octets and the same verdict; a body without an HTML part
 *		walked must come out octet for octet as it went in.
 *	ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_keys.h"
#include "bounce_track.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_track_fuzz: %s\n", what);
	abort();
}

static struct bounce_keyring ring;
static struct bounce_track_conf conf;

struct fbuf {
	char	*p;
	size_t	 n, cap;
};

/* fb_out - the walker's output */
static void
fb_out(void *arg, const char *p, size_t n)
{
	struct fbuf *b = arg;

	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* fuzz_token - the decoder and the request */
static void
fuzz_token(const char *d, size_t n)
{
	struct bounce_track_token t;
	const char *why = NULL;
	char again[BOUNCE_TRACK_TOKEN_MAX + 1], *path;
	unsigned status = 0;
	enum bounce_track_what w;

	if (bounce_track_decode(&ring, d, n, &t, &why) == BOUNCE_TRACK_OK) {
		int k = bounce_track_encode(&ring.keys[0], t.kind, t.id, t.tenant, t.link, t.url,
					    strlen(t.url), again, sizeof(again));

		if (k < 0 || (size_t)k != n || memcmp(again, d, n) != 0)
			fuzz_fail("accepted a second spelling of a token");
	}
	if (why == NULL)
		fuzz_fail("no why");
	if ((path = malloc(n + 4)) == NULL)
		return;
	memcpy(path, "/c/", 3);
	memcpy(path + 3, d, n);
	path[n + 3] = '\0';
	w = bounce_track_request(&ring, "GET", path, &t, &status, &why);
	if (w == BOUNCE_TRACK_REDIRECT && !bounce_track_url_ok(t.url, strlen(t.url)))
		fuzz_fail("redirect to a URL we never make");
	if (w == BOUNCE_TRACK_REFUSE && status != 404 && status != 405)
		fuzz_fail("refusal without 404 or 405");
	free(path);
}

/* fuzz_tag - one tag */
static void
fuzz_tag(const char *d, size_t n)
{
	static char out[BOUNCE_TRACK_TAG_MAX + BOUNCE_TRACK_TOKEN_MAX + 512];
	size_t outn = 0;
	const char *why = NULL, *h, *e, *from = out;
	struct bounce_track_token t;

	if (bounce_track_tag(&conf, d, n, 1, n % 2, out, sizeof(out), &outn, &why) != 1)
		return;
	/* the input may hold the same text elsewhere ("chref=..."): one must verify */
	while ((h = memmem(from, outn - (size_t)(from - out), "href=\"https://t.example/c/",
			   26)) != NULL) {
		h += 26;
		from = h;
		if ((e = memchr(h, '"', outn - (size_t)(h - out))) != NULL
		    && bounce_track_decode(&ring, h, (size_t)(e - h), &t, &why) == BOUNCE_TRACK_OK
		    && t.kind == 'c' && t.link == 1 && bounce_track_url_ok(t.url, strlen(t.url)))
			return;
	}
	fuzz_fail("rewritten tag without a good token");
}

/* fuzz_walk - a body through the walker in chunks of step (0: whole) */
static void
fuzz_walk(const char *ct, const char *cte, const char *d, size_t n, size_t step,
	  struct fbuf *out, struct bounce_track_mime *m)
{
	bounce_track_mime_init(m, &conf, ct, strlen(ct), cte, strlen(cte), fb_out, out);
	for (size_t i = 0; i < n; i += step ? step : n)
		bounce_track_mime_feed(m, d + i, step && n - i > step ? step : n - i);
	bounce_track_mime_finish(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cts[] = {
		"text/html; charset=utf-8", "multipart/alternative; boundary=b",
		"multipart/mixed; boundary=\"=_x\"", "text/plain", "multipart/signed; boundary=b",
	};
	static const char *const ctes[] = {"", "quoted-printable", "base64", "8bit"};
	static const char sec[] = "fuzz-track-secret-0123456789";
	struct bounce_track_mime *m1, *m2;
	struct fbuf o1 = {NULL, 0, 0}, o2 = {NULL, 0, 0};
	const char *why, *d = (const char *)data + 1;
	size_t n;

	if (ring.n == 0) {
		if (bounce_keyring_add(&ring, (const unsigned char *)sec, strlen(sec), &why) < 0)
			fuzz_fail(why);
		conf.key = &ring.keys[0];
		conf.base = "https://t.example";
		conf.tenant = "fuzz.test";
		conf.url_max = 2048;
	}
	if (size < 1)
		return 0;
	n = size - 1;
	if (data[0] < 64) {
		fuzz_token(d, n);
		return 0;
	}
	if (data[0] < 128) {
		fuzz_tag(d, n);
		return 0;
	}
	if (n < 2)
		return 0;
	{
		const char *ct = cts[(unsigned char)d[0] % 5], *cte = ctes[((unsigned char)d[0] / 5) % 4];
		size_t step = (unsigned char)d[1] % 97 + 1;

		d += 2;
		n -= 2;
		m1 = malloc(sizeof(*m1));
		m2 = malloc(sizeof(*m2));
		if (m1 == NULL || m2 == NULL)
			abort();
		fuzz_walk(ct, cte, d, n, 0, &o1, m1);
		fuzz_walk(ct, cte, d, n, step, &o2, m2);
		if (m1->failed != m2->failed)
			fuzz_fail("chunking changed the verdict");
		if (!m1->failed && (o1.n != o2.n || (o1.n > 0 && memcmp(o1.p, o2.p, o1.n) != 0)))
			fuzz_fail("chunking changed the output");
		if (!m1->failed && m1->parts == 0
		    && (o1.n != n || (n > 0 && memcmp(o1.p, d, n) != 0)))
			fuzz_fail("a body without HTML changed");
		bounce_track_mime_free(m1);
		bounce_track_mime_free(m2);
		free(m1);
		free(m2);
		free(o1.p);
		free(o2.p);
	}
	return 0;
}
