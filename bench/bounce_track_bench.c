/*++
 * NAME
 *	bounce_track_bench 1
 * SUMMARY
 *	CPU time and memory of open and click tracking per message (not part
 *	of make check)
 * SYNOPSIS
 *	make build/lib/libbounce.a build/lib/libpostmill.a
 *	cc -O2 -std=c11 -D_GNU_SOURCE -Icommon -Imilters/bounce \
 *	    -o build/bounce_track_bench bench/bounce_track_bench.c \
 *	    build/lib/libbounce.a build/lib/libpostmill.a -lcrypto -lhiredis -lpthread
 *	build/bounce_track_bench [iterations]
 * DESCRIPTION
 *	A newsletter-like multipart/alternative message: a text part and an
 *	HTML part of about 100 KB with 100 links, sent 8bit, quoted-printable
 *	and base64; and a 10 MB HTML body (8bit, 10,000 links). Each body
 *	goes through the walker (bounce_track_mime) in 64 KB chunks, as a
 *	milter gets it, into a counting sink. Printed: process CPU time
 *	per message and MB/s of input, and the walker's own memory (the
 *	struct and its buffers, the same whatever the message).
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce_keys.h"
#include "bounce_track.h"

struct sink {
	size_t	 n;
};

/* sink_out - count the walker's output */
static void
sink_out(void *arg, const char *p, size_t n)
{
	(void)p;
	((struct sink *)arg)->n += n;
}

/* append - grow a string */
static void
append(char **s, size_t *len, size_t *cap, const char *t, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((*s = realloc(*s, *cap)) == NULL)
			abort();
	}
	memcpy(*s + *len, t, n);
	*len += n;
	(*s)[*len] = '\0';
}

/* html - about size octets of HTML with a link every size/links octets */
static char *
html(size_t size, unsigned links, size_t *len)
{
	char *s = NULL, line[256];
	size_t cap = 0, every = size / links;
	unsigned k = 0;

	*len = 0;
	append(&s, len, &cap, "<html><body>\r\n", 14);
	while (*len < size) {
		int n;

		if (*len / every >= k && k < links)
			n = snprintf(line, sizeof(line), "<p><a href=\"https://shop.example/item/%u?utm_source=news&amp;utm_medium=mail\">Item %u</a></p>\r\n", k, k), k++;
		else
			n = snprintf(line, sizeof(line), "<p>Caf\xc3\xa9 text of the newsletter, a paragraph of words and <b>bold</b>.</p>\r\n");
		append(&s, len, &cap, line, (size_t)n);
	}
	append(&s, len, &cap, "</body></html>\r\n", 16);
	return s;
}

/* qp - a quoted-printable encoding (soft breaks at 76) */
static char *
qp(const char *in, size_t n, size_t *len)
{
	char *s = NULL, t[4];
	size_t cap = 0, col = 0;

	*len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\r' && i + 1 < n && in[i + 1] == '\n') {
			append(&s, len, &cap, "\r\n", 2);
			i++;
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || c == ' ')
			t[0] = (char)c, t[1] = 0;
		else
			snprintf(t, sizeof(t), "=%02X", c);
		if (col + strlen(t) > 75) {
			append(&s, len, &cap, "=\r\n", 3);
			col = 0;
		}
		append(&s, len, &cap, t, strlen(t));
		col += strlen(t);
	}
	return s;
}

/* b64 - base64 in lines of 76 */
static char *
b64(const char *in, size_t n, size_t *len)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = NULL, q[4];
	size_t cap = 0, col = 0;

	*len = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0)
		    | (i + 2 < n ? (unsigned char)in[i + 2] : 0);

		q[0] = a[v >> 18 & 63];
		q[1] = a[v >> 12 & 63];
		q[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? a[v & 63] : '=';
		if (col == 76) {
			append(&s, len, &cap, "\r\n", 2);
			col = 0;
		}
		append(&s, len, &cap, q, 4);
		col += 4;
	}
	append(&s, len, &cap, "\r\n", 2);
	return s;
}

/* cpu - process CPU seconds */
static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* run - iterations of one body; prints a line */
static void
run(const char *name, const struct bounce_track_conf *c, const char *ct, const char *cte,
    const char *body, size_t len, int iters)
{
	struct bounce_track_mime *m = malloc(sizeof(*m));
	struct sink s = {0};
	unsigned links = 0;
	double t0 = cpu(), dt;

	for (int i = 0; i < iters; i++) {
		bounce_track_mime_init(m, c, ct, strlen(ct), cte, strlen(cte), sink_out, &s);
		for (size_t k = 0; k < len; k += 65536)
			bounce_track_mime_feed(m, body + k, len - k > 65536 ? 65536 : len - k);
		bounce_track_mime_finish(m);
		if (m->failed) {
			fprintf(stderr, "%s: failed: %s\n", name, m->why);
			exit(1);
		}
		links = m->links;
		bounce_track_mime_free(m);
	}
	dt = cpu() - t0;
	printf("%-28s %8zu octets %5u links  %8.3f ms/message  %7.1f MB/s  out %+.1f%%\n", name,
	       len, links, dt * 1000 / iters, (double)len * iters / dt / 1e6,
	       100.0 * ((double)s.n / iters - (double)len) / (double)len);
	free(m);
}

int
main(int argc, char **argv)
{
	static const char sec[] = "bench-secret-0123456789abcdef";
	static struct bounce_keyring ring;
	struct bounce_track_conf c;
	const char *why;
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	size_t hl, ql, bl, bigl, len = 0, cap = 0;
	char *h = html(100000, 100, &hl), *q = qp(h, hl, &ql), *b = b64(h, hl, &bl);
	char *big = html(10000000, 10000, &bigl);
	const char *ctes[3] = {"8bit", "quoted-printable", "base64"};
	const char *enc[3] = {h, q, b};
	size_t encl[3] = {hl, ql, bl};

	if (bounce_keyring_add(&ring, (const unsigned char *)sec, strlen(sec), &why) < 0)
		return 1;
	memset(&c, 0, sizeof(c));
	c.key = &ring.keys[0];
	c.base = "https://t.provider.example/t";
	c.tenant = "acme.example";
	c.url_max = 2048;
	for (int i = 0; i < 3; i++) {
		const char *pre = "--b\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
		    "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: ";
		char *msg = NULL, name[64];

		len = cap = 0;
		append(&msg, &len, &cap, pre, strlen(pre));
		append(&msg, &len, &cap, ctes[i], strlen(ctes[i]));
		append(&msg, &len, &cap, "\r\n\r\n", 4);
		append(&msg, &len, &cap, enc[i], encl[i]);
		append(&msg, &len, &cap, "\r\n--b--\r\n", 9);
		snprintf(name, sizeof(name), "alternative, html %s", ctes[i]);
		run(name, &c, "multipart/alternative; boundary=b", "", msg, len, iters);
		free(msg);
	}
	run("10 MB html 8bit", &c, "text/html; charset=utf-8", "8bit", big, bigl,
	    iters / 50 > 0 ? iters / 50 : 1);
	printf("walker memory: %zu octets struct + %d header + %d tag + %d rewrite buffer\n",
	       sizeof(struct bounce_track_mime), BOUNCE_TRACK_HDR_MAX, BOUNCE_TRACK_TAG_MAX,
	       BOUNCE_TRACK_TAG_MAX + BOUNCE_TRACK_TOKEN_MAX + BOUNCE_TRACK_BASE_MAX + 64);
	free(h);
	free(q);
	free(b);
	free(big);
	return 0;
}
