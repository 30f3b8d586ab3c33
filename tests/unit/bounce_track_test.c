/*++
 * NAME
 *	bounce_track_test 1
 * SUMMARY
 *	unit tests of open and click tracking (milters/bounce/bounce_track_*.c)
 * DESCRIPTION
 *	Tables of rows: tokens (round trip, every character changed never
 *	verifies, other keys, malformed texts, URLs refused), requests to
 *	the endpoint (redirect, pixel, 404 for anything else, 405), single
 *	tags (which links are rewritten and how), HTML streams and whole
 *	MIME bodies (identity, quoted-printable and base64 parts, text
 *	parts, signed subtrees, attachments, broken encodings). Expected
 *	texts name tokens as {c:N:URL} (BASE/c/ and the token of link N to
 *	URL) and {o} / {O} (the pixel, unwrapped / wrapped); encoded parts
 *	are checked by decoding the output with bounce_mime.c, an
 *	independent decoder, and every row is fed in chunks of many sizes,
 *	which must not change one output octet.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "../../milters/bounce/bounce_keys.h"
#include "../../milters/bounce/bounce_mime.h"
#include "../../milters/bounce/bounce_track.h"
#include "../../milters/bounce/bounce_track_msg.h"

#define BASE	"https://t.example/x"

static struct bounce_keyring ring, other;
static struct bounce_track_conf conf;

/* setup - a key, a message id, a tenant */
static void
setup(void)
{
	const char *why;
	static const char s1[] = "track-test-secret-0123456789", s2[] = "another-secret-abcdefghijkl";

	if (ring.n > 0)
		return;
	assert_int_equal(bounce_keyring_add(&ring, (const unsigned char *)s1, strlen(s1), &why), 0);
	assert_int_equal(bounce_keyring_add(&other, (const unsigned char *)s2, strlen(s2), &why), 0);
	conf.key = &ring.keys[0];
	conf.base = BASE;
	for (int i = 0; i < BOUNCE_TAG_ID_LEN; i++)
		conf.id[i] = (unsigned char)(i + 1);
	conf.tenant = "acme.test";
	conf.url_max = 2048;
}

/* growing output buffer */
struct sbuf {
	char	*p;
	size_t	 n, cap;
};

/* sb_out - append to a growing buffer (the walker's output) */
static void
sb_out(void *arg, const char *p, size_t n)
{
	struct sbuf *b = arg;

	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* expand - {c:N:URL} {o} {O} in a want text */
static char *
expand(const char *s)
{
	struct sbuf b = {NULL, 0, 0};
	char tok[BOUNCE_TRACK_TOKEN_MAX + 1], img[BOUNCE_TRACK_TOKEN_MAX + 512];

	sb_out(&b, "", 0);
	while (*s) {
		if (strncmp(s, "{c:", 3) == 0) {
			char *colon, *end = strchr(s, '}');
			unsigned link = (unsigned)strtoul(s + 3, &colon, 10);
			const char *url = colon + 1;
			int n = bounce_track_encode(conf.key, 'c', conf.id, conf.tenant, link, url,
						    (size_t)(end - url), tok, sizeof(tok));

			assert_true(n > 0);
			sb_out(&b, BASE "/c/", strlen(BASE "/c/"));
			sb_out(&b, tok, (size_t)n);
			s = end + 1;
		} else if (strncmp(s, "{o}", 3) == 0 || strncmp(s, "{O}", 3) == 0) {
			int n = bounce_track_pixel(&conf, s[1] == 'O', img, sizeof(img));

			assert_true(n > 0);
			sb_out(&b, img, (size_t)n);
			s += 3;
		} else {
			sb_out(&b, s, 1);
			s++;
		}
	}
	return b.p;
}

/* test_token_roundtrip - encode, decode; every character changed fails */
static void
test_token_roundtrip(void **state)
{
	char tok[BOUNCE_TRACK_TOKEN_MAX + 1];
	struct bounce_track_token t;
	const char *why, *url = "https://shop.example/a?b=1&c=2#x";
	int n;

	(void)state;
	setup();
	n = bounce_track_encode(conf.key, 'c', conf.id, "acme.test", 7, url, strlen(url),
				tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(bounce_track_decode(&ring, tok, (size_t)n, &t, &why), BOUNCE_TRACK_OK);
	assert_int_equal(t.kind, 'c');
	assert_int_equal(t.link, 7);
	assert_string_equal(t.url, url);
	assert_string_equal(t.tenant, "acme.test");
	assert_memory_equal(t.id, conf.id, BOUNCE_TAG_ID_LEN);
	assert_int_equal(bounce_track_decode(&other, tok, (size_t)n, &t, &why),
			 BOUNCE_TRACK_UNKNOWN_KEY);
	for (int i = 0; i < n; i++) {
		const char *alpha = "AQgw-_";

		for (const char *a = alpha; *a; a++) {
			char copy[BOUNCE_TRACK_TOKEN_MAX + 1];
			enum bounce_track_status st;

			if (tok[i] == *a)
				continue;
			memcpy(copy, tok, (size_t)n + 1);
			copy[i] = *a;
			st = bounce_track_decode(&ring, copy, (size_t)n, &t, &why);
			if (st == BOUNCE_TRACK_OK)
				tcase_bad("flip", "position %d to %c verified, want refused", i, *a);
			if (t.url[0] != '\0' || t.tenant[0] != '\0')
				tcase_bad("flip", "position %d: fields filled on refusal", i);
		}
	}
	n = bounce_track_encode(conf.key, 'o', conf.id, "acme.test", 0, "", 0, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(bounce_track_decode(&ring, tok, (size_t)n, &t, &why), BOUNCE_TRACK_OK);
	assert_int_equal(t.kind, 'o');
	assert_string_equal(t.url, "");
	tcase_done();
}

/* URLs encode accepts (1) or refuses (0) */
static const struct {
	const char *url;
	int ok;
} url_rows[] = {
	{"https://a.example/", 1},
	{"http://a.example", 1},
	{"HTTPS://A.EXAMPLE/x?y=%20", 1},
	{"javascript:alert(1)", 0},
	{"https://", 0},
	{"https:///evil.example", 0},
	{"https://a.example/with space", 0},
	{"https://a.example/\x01", 0},
	{"https://a.example/\xc3\xa9", 0},
	{"https:\\\\evil.example", 0},
	{"ftp://a.example/", 0},
	{"//a.example/", 0},
};

/* test_token_urls - only absolute http(s) URLs of printable ASCII */
static void
test_token_urls(void **state)
{
	char tok[BOUNCE_TRACK_TOKEN_MAX + 1], big[BOUNCE_TRACK_URL_MAX + 2];

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(url_rows) / sizeof(url_rows[0]); i++) {
		int n = bounce_track_encode(conf.key, 'c', conf.id, "t", 0, url_rows[i].url,
					    strlen(url_rows[i].url), tok, sizeof(tok));

		if ((n > 0) != url_rows[i].ok)
			tcase_bad(url_rows[i].url, "got %d, want %s", n, url_rows[i].ok ? "ok" : "-1");
	}
	memset(big, 'a', sizeof(big));
	memcpy(big, "https://", 8);
	big[sizeof(big) - 1] = '\0';
	if (bounce_track_encode(conf.key, 'c', conf.id, "t", 0, big, strlen(big), tok,
				sizeof(tok)) != -1)
		tcase_bad("too long", "encoded, want -1");
	if (bounce_track_encode(conf.key, 'c', conf.id, "t", 0, big, BOUNCE_TRACK_URL_MAX, tok,
				sizeof(tok)) <= 0)
		tcase_bad("longest", "refused, want a token");
	if (bounce_track_encode(conf.key, 'o', conf.id, "t", 1, "", 0, tok, sizeof(tok)) != -1)
		tcase_bad("open with a link", "encoded, want -1");
	if (bounce_track_encode(conf.key, 'x', conf.id, "t", 0, "", 0, tok, sizeof(tok)) != -1)
		tcase_bad("kind x", "encoded, want -1");
	tcase_done();
}

/* malformed token texts */
static const struct {
	const char *name, *text;
	enum bounce_track_status want;
} bad_rows[] = {
	{"empty", "", BOUNCE_TRACK_MALFORMED},
	{"short", "AAAA", BOUNCE_TRACK_MALFORMED},
	{"not base64url", "AAAAAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAA", BOUNCE_TRACK_MALFORMED},
	{"padding", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", BOUNCE_TRACK_MALFORMED},
	{"length mod 4 = 1", "AAAAAAAAA", BOUNCE_TRACK_MALFORMED},
	{"version 0", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", BOUNCE_TRACK_MALFORMED},
};

/* test_token_malformed - refused before any MAC */
static void
test_token_malformed(void **state)
{
	struct bounce_track_token t;
	const char *why;

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		enum bounce_track_status st = bounce_track_decode(&ring, bad_rows[i].text,
								  strlen(bad_rows[i].text), &t, &why);

		if (st != bad_rows[i].want)
			tcase_bad(bad_rows[i].name, "got %s (%s), want %s",
				  bounce_track_status_name(st), why,
				  bounce_track_status_name(bad_rows[i].want));
	}
	tcase_done();
}

/* test_request - what the endpoint answers */
static void
test_request(void **state)
{
	char c[BOUNCE_TRACK_TOKEN_MAX + 1], o[BOUNCE_TRACK_TOKEN_MAX + 1], path[8000];
	struct bounce_track_token t;
	unsigned status;
	const char *why;
	const struct {
		const char *name, *method, *fmt, *tok;
		enum bounce_track_what want;
		unsigned status;
	} rows[] = {
		{"click", "GET", "/c/", c, BOUNCE_TRACK_REDIRECT, 302},
		{"click under a prefix", "GET", "/t/c/", c, BOUNCE_TRACK_REDIRECT, 302},
		{"click HEAD", "HEAD", "/c/", c, BOUNCE_TRACK_REDIRECT, 302},
		{"open", "GET", "/o/", o, BOUNCE_TRACK_PIXEL, 200},
		{"open token as click", "GET", "/c/", o, BOUNCE_TRACK_REFUSE, 404},
		{"click token as open", "GET", "/o/", c, BOUNCE_TRACK_REFUSE, 404},
		{"POST", "POST", "/c/", c, BOUNCE_TRACK_REFUSE, 405},
		{"other path", "GET", "/u/", c, BOUNCE_TRACK_REFUSE, 404},
		{"garbage", "GET", "/c/", "https:%2f%2fevil.example", BOUNCE_TRACK_REFUSE, 404},
		{"empty", "GET", "/c/", "", BOUNCE_TRACK_REFUSE, 404},
	};

	(void)state;
	setup();
	assert_true(bounce_track_encode(conf.key, 'c', conf.id, "acme.test", 3,
					"https://x.example/", 18, c, sizeof(c)) > 0);
	assert_true(bounce_track_encode(conf.key, 'o', conf.id, "acme.test", 0, "", 0, o,
					sizeof(o)) > 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum bounce_track_what w;

		snprintf(path, sizeof(path), "%s%s", rows[i].fmt, rows[i].tok);
		w = bounce_track_request(&ring, rows[i].method, path, &t, &status, &why);
		if (w != rows[i].want || status != rows[i].status)
			tcase_bad(rows[i].name, "got %d %u (%s), want %d %u", w, status, why,
				  rows[i].want, rows[i].status);
		if (w == BOUNCE_TRACK_REFUSE && t.url[0] != '\0')
			tcase_bad(rows[i].name, "refused with a URL");
		if (w == BOUNCE_TRACK_REDIRECT && strcmp(t.url, "https://x.example/") != 0)
			tcase_bad(rows[i].name, "got url %s", t.url);
	}
	tcase_done();
}

/* tags: rc 1 rewritten into want (expanded), 0 and -1 left alone */
static const struct {
	const char *name, *tag;
	bool wrap;
	int rc;
	const char *want;
} tag_rows[] = {
	{"double quotes", "<a href=\"https://s.example/p?a=1\">", false, 1,
	 "<a href=\"{c:0:https://s.example/p?a=1}\">"},
	{"single quotes", "<a class='x' href='http://s.example/'>", false, 1,
	 "<a class='x' href=\"{c:0:http://s.example/}\">"},
	{"unquoted", "<a href=https://s.example/x title=t>", false, 1,
	 "<a href=\"{c:0:https://s.example/x}\" title=t>"},
	{"upper case", "<A HREF=\"HTTPS://S.EXAMPLE/\">", false, 1,
	 "<A href=\"{c:0:HTTPS://S.EXAMPLE/}\">"},
	{"area", "<area shape=rect href=\"https://s.example/m\" alt=\"m\">", false, 1,
	 "<area shape=rect href=\"{c:0:https://s.example/m}\" alt=\"m\">"},
	{"blanks around =", "<a\r\n href = \"https://s.example/\" >", false, 1,
	 "<a\r\n href=\"{c:0:https://s.example/}\" >"},
	{"&amp; undone", "<a href=\"https://s.example/?a=1&amp;b=2&#38;c=3&#x26;d\">", false, 1,
	 "<a href=\"{c:0:https://s.example/?a=1&b=2&c=3&d}\">"},
	{"lone &", "<a href=\"https://s.example/?a=1&b=2\">", false, 1,
	 "<a href=\"{c:0:https://s.example/?a=1&b=2}\">"},
	{"wrapped", "<a id=1 href=\"https://s.example/\">x", false, 0, NULL},
	{"wrap", "<a id=1 href=\"https://s.example/\" class=c>", true, 1,
	 "<a id=1 \r\nhref=\"{c:0:https://s.example/}\"\r\n class=c>"},
	{"first href counts", "<a href=\"#top\" href=\"https://s.example/\">", false, 0, NULL},
	{"mailto", "<a href=\"mailto:x@example.com\">", false, 0, NULL},
	{"relative", "<a href=\"/local\">", false, 0, NULL},
	{"javascript", "<a href=\"javascript:go()\">", false, 0, NULL},
	{"no href", "<a name=\"top\">", false, 0, NULL},
	{"abbr is no a", "<abbr href=\"https://s.example/\">", false, 0, NULL},
	{"link element", "<link href=\"https://s.example/s.css\">", false, 0, NULL},
	{"img src", "<img src=\"https://s.example/i.png\">", false, 0, NULL},
	{"data-href", "<a data-href=\"https://s.example/\">", false, 0, NULL},
	{"other reference", "<a href=\"https://s.example/&copy;\">", false, -1, NULL},
	{"legacy reference", "<a href=\"https://s.example/?x&lt/\">", false, -1, NULL},
	{"non-ASCII", "<a href=\"https://s.example/\xc3\xa9\">", false, -1, NULL},
	{"blank inside", "<a href=\"https://s.example/a b\">", false, -1, NULL},
	{"ours already", "<a href=\"" BASE "/c/AAAA\">", false, -1, NULL},
	{"unterminated quote", "<a href=\"https://s.example/>", false, 0, NULL},
	{"> ends the tag early", "<a x >href=\"https://s.example/\">", false, 0, NULL},
};

/* test_tag - one tag */
static void
test_tag(void **state)
{
	char out[BOUNCE_TRACK_TAG_MAX + BOUNCE_TRACK_TOKEN_MAX + 512];
	size_t outn;
	const char *why;

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(tag_rows) / sizeof(tag_rows[0]); i++) {
		int rc = bounce_track_tag(&conf, tag_rows[i].tag, strlen(tag_rows[i].tag), 0,
					  tag_rows[i].wrap, out, sizeof(out), &outn, &why);

		if (rc != tag_rows[i].rc) {
			tcase_bad(tag_rows[i].name, "got rc %d (%s), want %d", rc, why, tag_rows[i].rc);
			continue;
		}
		if (rc == 1) {
			char *want = expand(tag_rows[i].want);

			if (outn != strlen(want) || memcmp(out, want, outn) != 0)
				tcase_bad(tag_rows[i].name, "got %.*s, want %s", (int)outn, out, want);
			free(want);
		}
	}
	tcase_done();
}

/* HTML streams: input, wrap, want (expanded) */
static const struct {
	const char *name, *in;
	bool wrap;
	const char *want;
	unsigned links;
} html_rows[] = {
	{"simple",
	 "<html><body><p>Hi <a href=\"https://s.example/1\">one</a></p></body></html>", false,
	 "<html><body><p>Hi <a href=\"{c:0:https://s.example/1}\">one</a></p>{o}</body></html>", 1},
	{"two links and area",
	 "<body><a href='https://s.example/1'>1</a><map><area href=https://s.example/2></map>"
	 "</BODY>", false,
	 "<body><a href=\"{c:0:https://s.example/1}\">1</a><map><area href=\"{c:1:https://s.example/2}\">"
	 "</map>{o}</BODY>", 2},
	{"no body: pixel at the end", "<p><a href=\"http://s.example/\">x</a>", false,
	 "<p><a href=\"{c:0:http://s.example/}\">x</a>{o}", 1},
	{"comment", "<!-- <a href=\"https://s.example/c\"> --><a href=\"https://s.example/d\">",
	 false, "<!-- <a href=\"https://s.example/c\"> --><a href=\"{c:0:https://s.example/d}\">{o}", 1},
	{"empty comment", "<!--><a href=\"https://s.example/d\">", false,
	 "<!--><a href=\"{c:0:https://s.example/d}\">{o}", 1},
	{"script", "<script>var s = '<a href=\"https://s.example/s\">';</script>"
	 "<a href=\"https://s.example/t\">", false,
	 "<script>var s = '<a href=\"https://s.example/s\">';</script>"
	 "<a href=\"{c:0:https://s.example/t}\">{o}", 1},
	{"textarea and title",
	 "<title><a href=\"https://s.example/t\"></title><textarea><a href=\"https://s.example/x\">"
	 "</TEXTAREA ><a href=\"https://s.example/y\">", false,
	 "<title><a href=\"https://s.example/t\"></title><textarea><a href=\"https://s.example/x\">"
	 "</TEXTAREA ><a href=\"{c:0:https://s.example/y}\">{o}", 1},
	{"style", "<style>a>b{}</style><a href=\"https://s.example/u\">", false,
	 "<style>a>b{}</style><a href=\"{c:0:https://s.example/u}\">{o}", 1},
	{"> inside a value", "<a title=\"a>b\" href=\"https://s.example/v\">", false,
	 "<a title=\"a>b\" href=\"{c:0:https://s.example/v}\">{o}", 1},
	{"apostrophe in unquoted", "<a title=it's href=\"https://s.example/w\">x</a>", false,
	 "<a title=it's href=\"{c:0:https://s.example/w}\">x</a>{o}", 1},
	{"a < b", "1 < 2 <a href=\"https://s.example/\">", false,
	 "1 < 2 <a href=\"{c:0:https://s.example/}\">{o}", 1},
	{"wrapped body", "<body>\r\n<a href=\"https://s.example/\">x</a>\r\n</body>", true,
	 "<body>\r\n<a \r\nhref=\"{c:0:https://s.example/}\"\r\n>x</a>\r\n{O}</body>", 1},
	{"unclosed tag at the end", "<p>x<a href=\"https://s.example/", false,
	 "<p>x<a href=\"https://s.example/{o}", 0},
	{"only the first </body>", "</body></body>", false, "{o}</body></body>", 0},
};

/* feed - text through a stream in chunks of size step (0: whole) */
static void
html_run(const char *in, bool wrap, size_t step, struct sbuf *out, unsigned *links)
{
	struct bounce_track_html h;
	size_t n = strlen(in);

	bounce_track_html_init(&h, &conf, wrap, sb_out, out);
	for (size_t i = 0; i < n; i += step ? step : n)
		bounce_track_html_feed(&h, in + i, step && n - i > step ? step : n - i);
	bounce_track_html_finish(&h);
	*links = h.links;
	bounce_track_html_free(&h);
}

/* test_html - streams, and every chunking gives the same octets */
static void
test_html(void **state)
{
	static const size_t steps[] = {0, 1, 2, 3, 5, 7, 16, 64};

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(html_rows) / sizeof(html_rows[0]); i++) {
		char *want = expand(html_rows[i].want);

		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct sbuf out = {NULL, 0, 0};
			unsigned links;

			sb_out(&out, "", 0);
			html_run(html_rows[i].in, html_rows[i].wrap, steps[s], &out, &links);
			if (strcmp(out.p, want) != 0)
				tcase_bad(html_rows[i].name, "step %zu: got\n%s\nwant\n%s", steps[s],
					  out.p, want);
			if (links != html_rows[i].links)
				tcase_bad(html_rows[i].name, "got %u links, want %u", links,
					  html_rows[i].links);
			free(out.p);
		}
		free(want);
	}
	tcase_done();
}

/* test_html_long_tag - a tag over the buffer passes unchanged */
static void
test_html_long_tag(void **state)
{
	size_t n = BOUNCE_TRACK_TAG_MAX + 100;
	char *in = xmalloc(n + 64), *want;
	struct sbuf out = {NULL, 0, 0};
	unsigned links;

	(void)state;
	setup();
	memcpy(in, "<a title=\"", 10);
	memset(in + 10, 'x', n - 10);
	strcpy(in + n, "\" href=\"https://s.example/\">z");
	sb_out(&out, "", 0);
	html_run(in, false, 1000, &out, &links);
	want = xasprintf("%s%s", in, "{o}");
	{
		char *w = expand(want);

		assert_int_equal(links, 0);
		assert_string_equal(out.p, w);
		free(w);
	}
	free(want);
	free(in);
	free(out.p);
}

/* MIME bodies */
static const struct {
	const char *name, *ctype, *cte, *body;
	bool failed;
	unsigned links, pixels;
	const char *want;	/* exact output (expanded), or NULL */
	const char *html;	/* else: the decoded HTML part, expanded */
} mime_rows[] = {
	{"alternative 7bit", "multipart/alternative; boundary=\"b1\"", "",
	 "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\n<a href=\"https://s.example/p\">\r\n"
	 "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<body><a href=\"https://s.example/h\">"
	 "h</a></body>\r\n--b1--\r\nepilogue\r\n",
	 false, 1, 1,
	 "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\n<a href=\"https://s.example/p\">\r\n"
	 "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<body><a \r\nhref=\"{c:0:https://s.example/h}\"\r\n>"
	 "h</a>{O}</body>\r\n--b1--\r\nepilogue\r\n", NULL},
	{"top-level html", "text/html", "8bit",
	 "<p><a href=\"https://s.example/1\">1</a>\r\n<a href=\"https://s.example/2\">2</a></p>\r\n",
	 false, 2, 1,
	 "<p><a \r\nhref=\"{c:0:https://s.example/1}\"\r\n>1</a>\r\n<a \r\nhref=\"{c:1:https://s.example/2}\"\r\n>2</a></p>{O}\r\n",
	 NULL},
	{"text/plain only", "text/plain", "", "<a href=\"https://s.example/\">\r\n", false, 0, 0,
	 "<a href=\"https://s.example/\">\r\n", NULL},
	{"quoted-printable", "multipart/alternative; boundary=b2", "7bit",
	 "--b2\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\n"
	 "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	 "<html><body><p>Caf=E9 <a href=3D\"https://s.example/?a=3D1&amp;b=3D2\">lin=\r\n"
	 "k</a>  \r\nend=20\r\n</p></body></html>\r\n--b2--\r\n",
	 false, 1, 1, NULL,
	 "<html><body><p>Caf\xe9 <a href=\"{c:0:https://s.example/?a=1&b=2}\">link</a>\r\n"
	 "end \r\n</p>{o}</body></html>"},
	{"base64", "multipart/mixed; boundary=b3", "",
	 "--b3\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	 /* <body><a href="https://s.example/b64">x</a></body> */
	 "PGJvZHk+PGEgaHJlZj0iaHR0cHM6Ly9zLmV4YW1wbGUvYjY0Ij54PC9hPjwvYm9keT4=\r\n"
	 "--b3--\r\n", false, 1, 1, NULL,
	 "<body><a href=\"{c:0:https://s.example/b64}\">x</a>{o}</body>"},
	{"signed subtree untouched", "multipart/mixed; boundary=o", "",
	 "--o\r\nContent-Type: multipart/signed; boundary=s; protocol=\"application/pgp-signature\"\r\n\r\n"
	 "--s\r\nContent-Type: text/html\r\n\r\n<a href=\"https://s.example/\">\r\n--s\r\n"
	 "Content-Type: application/pgp-signature\r\n\r\nSIG\r\n--s--\r\n--o--\r\n",
	 false, 0, 0,
	 "--o\r\nContent-Type: multipart/signed; boundary=s; protocol=\"application/pgp-signature\"\r\n\r\n"
	 "--s\r\nContent-Type: text/html\r\n\r\n<a href=\"https://s.example/\">\r\n--s\r\n"
	 "Content-Type: application/pgp-signature\r\n\r\nSIG\r\n--s--\r\n--o--\r\n", NULL},
	{"attachment untouched", "multipart/mixed; boundary=m", "",
	 "--m\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=a.html\r\n\r\n"
	 "<a href=\"https://s.example/\">\r\n--m--\r\n", false, 0, 0,
	 "--m\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=a.html\r\n\r\n"
	 "<a href=\"https://s.example/\">\r\n--m--\r\n", NULL},
	{"utf-16 untouched", "text/html; charset=utf-16", "base64", "PABhAA==\r\n", false, 0, 0,
	 "PABhAA==\r\n", NULL},
	{"nested related", "multipart/mixed; boundary=\"x\"", "",
	 "--x\r\nContent-Type: multipart/related; boundary=\"y\"\r\n\r\n--y\r\nContent-Type: text/html\r\n\r\n"
	 "<a href=\"https://s.example/n\">\r\n--y--\r\n--x\r\nContent-Type: image/png\r\n\r\nPNG\r\n--x--\r\n",
	 false, 1, 1,
	 "--x\r\nContent-Type: multipart/related; boundary=\"y\"\r\n\r\n--y\r\nContent-Type: text/html\r\n\r\n"
	 "<a \r\nhref=\"{c:0:https://s.example/n}\"\r\n>{O}\r\n--y--\r\n--x\r\nContent-Type: image/png\r\n\r\nPNG\r\n--x--\r\n",
	 NULL},
	{"broken base64", "text/html", "base64", "PGE+P\r\n", true, 0, 0, NULL, NULL},
	{"stray = in QP", "text/html", "quoted-printable", "<a href=\"x\">=\r\n=G1\r\n", true, 0, 0,
	 NULL, NULL},
	{"close without CRLF", "multipart/alternative; boundary=z", "",
	 "--z\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--z--", false, 0, 1,
	 "--z\r\nContent-Type: text/html\r\n\r\n<p>x</p>{O}\r\n--z--", NULL},
	{"LF line ends", "multipart/alternative; boundary=z", "",
	 "--z\nContent-Type: text/html\n\n<a href=\"http://s.example/\">x</a></body>\n--z--\n", false, 1, 1,
	 "--z\nContent-Type: text/html\n\n<a \r\nhref=\"{c:0:http://s.example/}\"\r\n>x</a>{O}</body>\n--z--\n",
	 NULL},
};

/* mime_run - a row through the walker in chunks of step */
static void
mime_run(size_t i, size_t step, struct sbuf *out, struct bounce_track_mime *m)
{
	const char *b = mime_rows[i].body;
	size_t n = strlen(b);

	bounce_track_mime_init(m, &conf, mime_rows[i].ctype, strlen(mime_rows[i].ctype),
			       mime_rows[i].cte, strlen(mime_rows[i].cte), sb_out, out);
	for (size_t k = 0; k < n; k += step ? step : n)
		bounce_track_mime_feed(m, b + k, step && n - k > step ? step : n - k);
	bounce_track_mime_finish(m);
}

/* mime_html - the decoded text/html part of headers + body, by bounce_mime.c */
static char *
mime_html(const char *ctype, const char *cte, const char *body, size_t *len)
{
	char *msg = xasprintf("Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n%s",
			      ctype, cte[0] ? cte : "7bit", body);
	struct bounce_mime *mm = xcalloc(1, sizeof(*mm));
	const char *why;
	char *out = NULL;

	assert_int_equal(bounce_mime_walk(msg, strlen(msg), mm, &why), 0);
	for (size_t p = 0; p < mm->nparts; p++)
		if (strcmp(mm->part[p].type, "text/html") == 0) {
			out = xmalloc(mm->part[p].bodylen + 1);
			*len = bounce_mime_decode(&mm->part[p], out, mm->part[p].bodylen);
			/* the walker keeps the delimiter's line break: drop it */
			while (*len > 0 && (out[*len - 1] == '\n' || out[*len - 1] == '\r'))
				(*len)--;
			break;
		}
	free(mm);
	free(msg);
	return out;
}

/* lines_ok - no line over max octets (CRLF not counted) in the html part */
static int
lines_ok(const char *s, size_t max)
{
	size_t col = 0;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			col = 0;
		else if (++col > max)
			return 0;
	}
	return 1;
}

/* test_mime - whole bodies, in chunks */
static void
test_mime(void **state)
{
	static const size_t steps[] = {0, 1, 2, 3, 13, 100};

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(mime_rows) / sizeof(mime_rows[0]); i++) {
		char *first = NULL;

		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct sbuf out = {NULL, 0, 0};
			struct bounce_track_mime m;

			sb_out(&out, "", 0);
			mime_run(i, steps[s], &out, &m);
			if (m.failed != mime_rows[i].failed)
				tcase_bad(mime_rows[i].name, "step %zu: failed %d (%s), want %d", steps[s],
					  m.failed, m.why ? m.why : "", mime_rows[i].failed);
			if (!m.failed && (m.links != mime_rows[i].links
					  || m.pixels != mime_rows[i].pixels))
				tcase_bad(mime_rows[i].name, "step %zu: got %u links %u pixels, want %u %u",
					  steps[s], m.links, m.pixels, mime_rows[i].links,
					  mime_rows[i].pixels);
			bounce_track_mime_free(&m);
			if (m.failed) {
				free(out.p);
				continue;
			}
			if (first == NULL)
				first = xstrdup(out.p);
			else if (strcmp(first, out.p) != 0)
				tcase_bad(mime_rows[i].name, "step %zu changed the output", steps[s]);
			free(out.p);
		}
		if (first != NULL && mime_rows[i].want != NULL) {
			char *want = expand(mime_rows[i].want);

			if (strcmp(first, want) != 0)
				tcase_bad(mime_rows[i].name, "got\n%s\nwant\n%s", first, want);
			free(want);
		}
		if (first != NULL && mime_rows[i].html != NULL) {
			char *want = expand(mime_rows[i].html), *got;
			size_t len = 0;

			got = mime_html(mime_rows[i].ctype, mime_rows[i].cte, first, &len);
			if (got == NULL || len != strlen(want) || memcmp(got, want, len) != 0)
				tcase_bad(mime_rows[i].name, "decoded\n%.*s\nwant\n%s", (int)len,
					  got ? got : "", want);
			if (!lines_ok(first, 76))
				tcase_bad(mime_rows[i].name, "a line over 76:\n%s", first);
			free(got);
			free(want);
		}
		free(first);
	}
	tcase_done();
}

/* ctype rows */
static const struct {
	const char *v, *type, *sub, *boundary, *charset;
} ct_rows[] = {
	{"text/html", "text", "html", "", ""},
	{"Text/HTML; Charset=\"UTF-8\"", "text", "html", "", "utf-8"},
	{"multipart/alternative;\r\n boundary=\"a b\\\"c\"", "multipart", "alternative", "a b\"c", ""},
	{"multipart/mixed; boundary=abc; charset=x;", "multipart", "mixed", "abc", "x"},
	{"multipart/mixed; boundary*0=a", "", "", "", ""},
	{"text", "", "", "", ""},
	{"text/html (comment)", "", "", "", ""},
	{"multipart/mixed; boundary=\"\"", "", "", "", ""},
};

/* test_ctype - the Content-Type parser */
static void
test_ctype(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ct_rows) / sizeof(ct_rows[0]); i++) {
		struct bounce_track_ctype ct;

		(void)bounce_track_ctype(ct_rows[i].v, strlen(ct_rows[i].v), &ct);
		if (strcmp(ct.type, ct_rows[i].type) != 0 || (ct.type[0]
		    && (strcmp(ct.subtype, ct_rows[i].sub) != 0
			|| strcmp(ct.boundary, ct_rows[i].boundary) != 0
			|| strcmp(ct.charset, ct_rows[i].charset) != 0)))
			tcase_bad(ct_rows[i].v, "got %s/%s b=%s cs=%s", ct.type, ct.subtype,
				  ct.boundary, ct.charset);
	}
	tcase_done();
}

/* one message through bounce_track_msg: headers, body chunks, the new body */
static const struct {
	const char *name, *hdrs[4];	/* name, value pairs */
	size_t body_copies;		/* of a 1 KB HTML paragraph with a link */
	size_t memory, message_max;
	int changed;
	const char *why;
} msg_rows[] = {
	{"small, in memory", {"Content-Type", "text/html", NULL, NULL}, 2, 65536, 1 << 20, 1, "rewritten"},
	{"spills to a file", {"Content-Type", "text/html", NULL, NULL}, 300, 4096, 1 << 20, 1, "rewritten"},
	{"too large", {"Content-Type", "text/html", NULL, NULL}, 1000, 4096, 65536, 0, "too_large"},
	{"DKIM-signed", {"Content-Type", "text/html", "DKIM-Signature", "v=1; a=rsa-sha256"}, 2, 65536,
	 1 << 20, 0, "signed"},
	{"ARC-signed", {"ARC-Message-Signature", "i=1", "Content-Type", "text/html"}, 2, 65536,
	 1 << 20, 0, "signed"},
	{"text/plain", {"Content-Type", "text/plain", NULL, NULL}, 2, 65536, 1 << 20, 0, "no_html"},
	{"no Content-Type", {NULL, NULL, NULL, NULL}, 2, 65536, 1 << 20, 0, "no_html"},
	{"multipart/signed", {"Content-Type", "multipart/signed; boundary=x", NULL, NULL}, 2, 65536,
	 1 << 20, 0, "no_html"},
	{"broken base64", {"Content-Type", "text/html", "Content-Transfer-Encoding", "base64"}, 2, 65536,
	 1 << 20, 0, NULL},
};

/* test_msg - the milter's side: decisions, memory, the temporary file */
static void
test_msg(void **state)
{
	static const char para[] = "<p>A paragraph of the newsletter with a "
	    "<a href=\"https://s.example/item?a=1&amp;b=2\">link</a> in it, and words.</p>\r\n";

	(void)state;
	setup();
	for (size_t i = 0; i < sizeof(msg_rows) / sizeof(msg_rows[0]); i++) {
		struct bounce_track_limits lim = {msg_rows[i].message_max, msg_rows[i].memory, "/tmp"};
		struct bounce_track_msg *t = bounce_track_msg_new(conf.key, BASE "/", "acme.test", 2048,
								  &lim);
		struct sbuf body = {NULL, 0, 0}, got = {NULL, 0, 0}, want = {NULL, 0, 0};
		struct bounce_track_mime m;
		const char *why, *p;
		size_t n;
		int r;

		for (int k = 0; k < 4 && msg_rows[i].hdrs[k] != NULL; k += 2)
			bounce_track_msg_header(t, msg_rows[i].hdrs[k], msg_rows[i].hdrs[k + 1]);
		sb_out(&body, "", 0);
		for (size_t k = 0; k < msg_rows[i].body_copies; k++)
			sb_out(&body, para, strlen(para));
		(void)bounce_track_msg_start(t, conf.id);
		for (size_t k = 0; k < body.n; k += 1000)
			bounce_track_msg_body(t, body.p + k, body.n - k > 1000 ? 1000 : body.n - k);
		r = bounce_track_msg_finish(t, &why);
		if (r != msg_rows[i].changed || (msg_rows[i].why && strcmp(why, msg_rows[i].why) != 0))
			tcase_bad(msg_rows[i].name, "got %d %s, want %d %s", r, why, msg_rows[i].changed,
				  msg_rows[i].why ? msg_rows[i].why : "(a decoding fault)");
		if (strcmp(msg_rows[i].name, "spills to a file") == 0 && t->fd < 0)
			tcase_bad(msg_rows[i].name, "no temporary file");
		if (t->memcap > msg_rows[i].memory)
			tcase_bad(msg_rows[i].name, "memory %zu over %zu", t->memcap, msg_rows[i].memory);
		if (r == 1) {
			sb_out(&got, "", 0);
			while ((r = bounce_track_msg_next(t, &p, &n)) == 1)
				sb_out(&got, p, n);
			/* the same as the walker gives, alone */
			sb_out(&want, "", 0);
			bounce_track_mime_init(&m, &t->conf, "text/html", 9, "", 0, sb_out, &want);
			bounce_track_mime_feed(&m, body.p, body.n);
			bounce_track_mime_finish(&m);
			bounce_track_mime_free(&m);
			if (r != 0 || got.n != want.n || memcmp(got.p, want.p, got.n) != 0)
				tcase_bad(msg_rows[i].name, "new body of %zu octets (rc %d), want %zu",
					  got.n, r, want.n);
			if (strstr(got.p, BASE "/c/") == NULL || strstr(got.p, BASE "//") != NULL)
				tcase_bad(msg_rows[i].name, "no link to BASE/c/ (the base's '/' kept?)");
		}
		t = bounce_track_msg_free(t);
		free(body.p);
		free(got.p);
		free(want.p);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_roundtrip),
		cmocka_unit_test(test_token_urls),
		cmocka_unit_test(test_token_malformed),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_long_tag),
		cmocka_unit_test(test_mime),
		cmocka_unit_test(test_ctype),
		cmocka_unit_test(test_msg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
