/*++
 * NAME
 *	bounce_track 3h
 * SUMMARY
 *	open and click tracking: the signed token, the HTML rewriter, the
 *	MIME body walker
 * SYNOPSIS
 *	#include "bounce_track.h"
 * DESCRIPTION
 *	Tracking is off unless bounce_track_base_url is set and a tenant
 *	has the option "track" (bounce_tenant.h). Its links in text/html
 *	parts become BASE/c/TOKEN and an open pixel BASE/o/TOKEN is added
 *	before </body>; postmill-unsubscribe (unsub.h) answers both.
 *
 *	Token (bounce_track_token.c): the base64url text (RFC 4648 section
 *	5, no padding) of
 *
 *	    version 1 | key id 1 | kind 1 ('c' click, 'o' open)
 *	    | message id 10 (the bounce tag's id: the message record)
 *	    | tenant length 1 | tenant | link index 2 | URL length 2 | URL
 *	    | MAC 16
 *
 *	MAC is HMAC-SHA256 with the tracking ring (the bounce secrets
 *	derived with the label "track", bounce.h) over everything before
 *	it, cut to 128 bits, compared in constant time (CRYPTO_memcmp)
 *	before any field is believed. The token names no recipient: the
 *	message record (bounce_store.h) does, for as long as it lives. The
 *	original URL is carried in the token (no store to lose or fill),
 *	so a link longer than bounce_track_url_max is left as it is. An
 *	open token has link 0 and no URL. Tokens do not expire: a link in
 *	a mail must work as long as the mail is read; removing a secret
 *	from bounce_secret_files ends its links (404).
 *	bounce_track_decode() is pure and bounded (a fuzz target); it also
 *	checks the URL again (http or https, printable ASCII), so nothing
 *	but a URL we took from an href ever reaches a Location header.
 *	bounce_track_request() decides a GET to .../c/TOKEN or .../o/TOKEN:
 *	the kind in the path must be the token's; anything forged,
 *	tampered or malformed is 404 (no redirect anywhere), another method
 *	405.
 *
 *	HTML (bounce_track_html.c): bounce_track_tag() rewrites one
 *	complete tag (pure): an <a> or <area> whose first href is an http
 *	or https URL (HTML character references &amp; &#38; &#x26; undone;
 *	any other reference, blanks, controls or non-ASCII leave the link
 *	alone; so does a link to BASE itself: tracked already) gets
 *	href="BASE/c/TOKEN", links numbered from 0 in the message (at most
 *	BOUNCE_TRACK_LINKS_MAX are rewritten). The html stream (struct
 *	bounce_track_html) feeds decoded HTML through a state machine:
 *	text, tag (quotes tracked, at most BOUNCE_TRACK_TAG_MAX octets
 *	buffered, longer tags pass unchanged), comment, and the text of
 *	script, style, textarea and title (their '<' are not tags: raw
 *	text and RCDATA elements, HTML section 13.1.2); the pixel goes before
 *	the first </body>, or at the end when there is none. With wrap set
 *	(parts sent as 7bit, 8bit or binary, whose lines must stay within
 *	998 octets, RFC 5322 section 2.1.1), the new href attribute gets a
 *	line of its own inside the tag, and a link whose line would still be
 *	too long is left alone.
 *
 *	MIME (bounce_track_mime.c): struct bounce_track_mime walks a body
 *	in chunks of any size, line by line (at most BOUNCE_TRACK_LINE_MAX
 *	octets buffered), given the message's Content-Type and
 *	Content-Transfer-Encoding. It descends into multipart types (RFC 2046
 *	section 5.1, BOUNCE_TRACK_DEPTH levels) and rewrites text/html
 *	parts that are not attachments, in an ASCII-compatible charset,
 *	encoded 7bit, 8bit, binary, quoted-printable (RFC 2045 section 6.7:
 *	decoded, rewritten, encoded again, lines of at most 76) or base64
 *	(section 6.8: lines of 76). Everything else is copied octet for
 *	octet: headers, boundaries, preambles, epilogues, text/plain, and
 *	whole multipart/signed, multipart/encrypted (RFC 1847) and
 *	application/pkcs7-mime subtrees. Each output octet goes to out().
 *	A part that cannot be decoded exactly (a broken base64 quantum, a
 *	stray '=' in quoted-printable, a QP line over the buffer) sets
 *	failed: the caller then keeps the original body. bounce_track_ctype()
 *	parses a Content-Type value (pure, bounded).
 * THREAD SAFETY
 *	No globals; a stream belongs to one message.
 *--*/
#ifndef POSTMILL_BOUNCE_TRACK_H
#define POSTMILL_BOUNCE_TRACK_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_keys.h"
#include "bounce_tag.h"

#define BOUNCE_TRACK_URL_MAX	4096	/* hard cap of bounce_track_url_max */
#define BOUNCE_TRACK_TENANT_MAX	255
#define BOUNCE_TRACK_MAC_LEN	16
#define BOUNCE_TRACK_RAW_MAX	(3 + BOUNCE_TAG_ID_LEN + 1 + BOUNCE_TRACK_TENANT_MAX \
				 + 4 + BOUNCE_TRACK_URL_MAX + BOUNCE_TRACK_MAC_LEN)
#define BOUNCE_TRACK_TOKEN_MAX	((BOUNCE_TRACK_RAW_MAX * 4 + 2) / 3 + 1)
#define BOUNCE_TRACK_BASE_MAX	256	/* bounce_track_base_url */
#define BOUNCE_TRACK_TAG_MAX	(2 * BOUNCE_TRACK_URL_MAX + 1024)
#define BOUNCE_TRACK_LINE_MAX	4096
#define BOUNCE_TRACK_HDR_MAX	16384	/* a part's header block */
#define BOUNCE_TRACK_DEPTH	8
#define BOUNCE_TRACK_BOUNDARY_MAX 70	/* RFC 2046 section 5.1.1 */
#define BOUNCE_TRACK_LINKS_MAX	65535

#define BOUNCE_TRACK_CLICK	'c'
#define BOUNCE_TRACK_OPEN	'o'

enum bounce_track_status {
	BOUNCE_TRACK_OK, BOUNCE_TRACK_MALFORMED, BOUNCE_TRACK_FORGED,
	BOUNCE_TRACK_UNKNOWN_KEY,
};

enum bounce_track_what {
	BOUNCE_TRACK_REDIRECT, BOUNCE_TRACK_PIXEL, BOUNCE_TRACK_REFUSE,
};

struct bounce_track_token {
	char		 kind;		/* 'c' or 'o' */
	unsigned char	 id[BOUNCE_TAG_ID_LEN];
	char		 tenant[BOUNCE_TRACK_TENANT_MAX + 1];
	unsigned	 link;
	char		 url[BOUNCE_TRACK_URL_MAX + 1];
	unsigned	 key_id;
	unsigned char	 mac[BOUNCE_TRACK_MAC_LEN];
};

int	bounce_track_encode(const struct bounce_key *key, char kind,
			    const unsigned char id[BOUNCE_TAG_ID_LEN],
			    const char *tenant, unsigned link, const char *url,
			    size_t urllen, char *out, size_t outlen);
enum bounce_track_status bounce_track_decode(const struct bounce_keyring *ring,
					     const char *text, size_t len,
					     struct bounce_track_token *out,
					     const char **why);
int	bounce_track_url_ok(const char *url, size_t len);
const char *bounce_track_status_name(enum bounce_track_status s);
enum bounce_track_what bounce_track_request(const struct bounce_keyring *ring,
					    const char *method, const char *path,
					    struct bounce_track_token *tok,
					    unsigned *status, const char **why);
int	bounce_track_is_path(const char *path);

/* what a message's tokens are made of */
struct bounce_track_conf {
	const struct bounce_key *key;
	const char	*base;		/* no trailing '/' */
	unsigned char	 id[BOUNCE_TAG_ID_LEN];
	const char	*tenant;
	size_t		 url_max;	/* bounce_track_url_max */
};

typedef void (*bounce_track_out_fn)(void *arg, const char *p, size_t n);

int	bounce_track_tag(const struct bounce_track_conf *c, const char *tag,
			 size_t len, unsigned link, bool wrap, char *out,
			 size_t outlen, size_t *outn, const char **why);
int	bounce_track_pixel(const struct bounce_track_conf *c, bool wrap,
			   char *out, size_t outlen);

struct bounce_track_html {
	const struct bounce_track_conf *conf;
	bounce_track_out_fn out;
	void		*arg;
	bool		 wrap;
	int		 state;
	char		 quote;		/* in a tag: the open quote, or 0 */
	bool		 raw;		/* inside script, style, textarea, title */
	char		 rawname[16];	/* which */
	size_t		 match;		/* "-->" matched so far */
	char		*tag;		/* BOUNCE_TRACK_TAG_MAX */
	size_t		 taglen;
	char		*buf;		/* a rewritten tag */
	size_t		 bufcap;
	unsigned	 next_link;	/* index of the next link */
	unsigned	 links;		/* rewritten */
	unsigned	 skipped;	/* http(s) links left alone, tags too long */
	bool		 pixel;		/* added */
};

void	bounce_track_html_init(struct bounce_track_html *h,
			       const struct bounce_track_conf *c, bool wrap,
			       bounce_track_out_fn out, void *arg);
void	bounce_track_html_feed(struct bounce_track_html *h, const char *p,
			       size_t n);
void	bounce_track_html_finish(struct bounce_track_html *h);
void	bounce_track_html_free(struct bounce_track_html *h);

/* a Content-Type value, parsed */
struct bounce_track_ctype {
	char		 type[64];	/* lower case, "" when unparsable */
	char		 subtype[64];
	char		 boundary[BOUNCE_TRACK_BOUNDARY_MAX + 1];
	char		 charset[64];	/* lower case */
};

int	bounce_track_ctype(const char *v, size_t len,
			   struct bounce_track_ctype *out);
int	bounce_track_charset_ok(const char *charset);

enum bounce_track_cte {
	BOUNCE_TRACK_CTE_IDENTITY, BOUNCE_TRACK_CTE_QP, BOUNCE_TRACK_CTE_B64,
	BOUNCE_TRACK_CTE_OTHER,
};

enum bounce_track_cte bounce_track_cte(const char *v, size_t len);

struct bounce_track_mime {
	const struct bounce_track_conf *conf;
	bounce_track_out_fn out;
	void		*arg;
	/* the multipart levels we are inside */
	char		 bnd[BOUNCE_TRACK_DEPTH][BOUNCE_TRACK_BOUNDARY_MAX + 1];
	size_t		 depth;
	int		 state;
	/* the current line */
	char		 line[BOUNCE_TRACK_LINE_MAX];
	size_t		 linelen;
	bool		 cont;		/* line continues a longer one */
	/* a part's header block */
	char		*hdr;		/* BOUNCE_TRACK_HDR_MAX */
	size_t		 hdrlen;
	bool		 hdr_over;
	/* an html part being rewritten */
	enum bounce_track_cte cte;
	struct bounce_track_html html;
	bool		 in_html;
	char		 eol[2];	/* the held-back line end */
	size_t		 eollen;
	bool		 qp_soft;	/* the last QP line ended in '=' */
	unsigned	 b64acc;
	int		 b64n, b64pad;
	bool		 b64done;	/* padding seen */
	unsigned char	 enc_in[3];	/* base64 encoder */
	size_t		 enc_n, enc_col;
	char		 qline[80];	/* quoted-printable encoder */
	size_t		 qlen;
	bool		 qcr;
	bool		 qfirst;
	char		 obuf[8192];	/* output staged */
	size_t		 olen;
	/* results */
	unsigned	 next_link;
	unsigned	 parts;		/* html parts walked */
	unsigned	 links;		/* rewritten */
	unsigned	 skipped;	/* http(s) links left alone */
	unsigned	 pixels;
	bool		 failed;
	const char	*why;		/* of failed */
};

void	bounce_track_mime_init(struct bounce_track_mime *m,
			       const struct bounce_track_conf *c,
			       const char *ctype, size_t ctlen,
			       const char *cte, size_t ctelen,
			       bounce_track_out_fn out, void *arg);
bool	bounce_track_mime_wanted(const char *ctype, size_t ctlen);
void	bounce_track_mime_feed(struct bounce_track_mime *m, const char *p,
			       size_t n);
void	bounce_track_mime_finish(struct bounce_track_mime *m);
void	bounce_track_mime_free(struct bounce_track_mime *m);

#endif
