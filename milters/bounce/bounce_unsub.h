/*++
 * NAME
 *	bounce_unsub 3h
 * SUMMARY
 *	RFC 8058 one-click unsubscribe: the signed token and the headers
 * SYNOPSIS
 *	#include "bounce_unsub.h"
 * DESCRIPTION
 *	A token names a tenant and one recipient, carries its expiry and,
 *	from version 2 on, the message it came with; it is the base64url
 *	text (RFC 4648 section 5, no padding) of
 *
 *	    version 1 or 2 | key id 1 | expires 5 (seconds, big-endian)
 *	    | tenant length 1 | tenant | recipient length 2 | recipient
 *	    | [version 2: message id 10 (bounce_tag.h's)] | MAC 16
 *
 *	where MAC is HMAC-SHA256 with the unsubscribe ring (the bounce
 *	secrets derived with the label "unsubscribe", bounce.h) over
 *	everything before it, cut to 128 bits. The message id lets the
 *	unsubscribe event name the message (postmill-events reads its
 *	record); version 1 tokens, made before it, stay valid without one. The MAC is compared in
 *	constant time (CRYPTO_memcmp) and checked before the expiry, so
 *	"expired" is only ever said of a genuine token. out->msgid is the
 *	message id in hex, "" for a version 1 token.
 *
 *	bounce_unsub_encode() writes a version 1 token (NUL-terminated) and
 *	returns its length, or -1 when a field is too long or out is too
 *	small; bounce_unsub_encode_ref() a version 2 token naming message id
 *	msgid (version 1 when msgid is NULL).
 *	bounce_unsub_decode() is pure and bounded (the fuzz target's
 *	entry): it takes (text, len) and fills out on ok or expired.
 *	bounce_unsub_id() is the hex of the MAC: the token's identity for
 *	replay (one unsubscribe event per token).
 *
 *	bounce_unsub_request() decides an HTTP request to the one-click URL
 *	(pure; postmill-unsubscribe's handler acts on it): the token is the
 *	last path segment; GET and HEAD with a good token get the page
 *	(they never unsubscribe: RFC 8058 section 4, link scanners); POST
 *	with a good token and the body List-Unsubscribe=One-Click (section
 *	3.1) unsubscribes; else an HTTP status: 405 another method, 400 a
 *	malformed token or a POST without the one-click body, 403 forged or
 *	an unknown key, 410 expired.
 *--*/
#ifndef POSTMILL_BOUNCE_UNSUB_H
#define POSTMILL_BOUNCE_UNSUB_H

#include <stddef.h>

#include "bounce_keys.h"

#define BOUNCE_UNSUB_TENANT_MAX	255
#define BOUNCE_UNSUB_RCPT_MAX	320
#define BOUNCE_UNSUB_MAC_LEN	16
#define BOUNCE_UNSUB_MSGID_LEN	10	/* BOUNCE_TAG_ID_LEN */
#define BOUNCE_UNSUB_RAW_MAX	(1 + 1 + 5 + 1 + BOUNCE_UNSUB_TENANT_MAX + 2 \
				 + BOUNCE_UNSUB_RCPT_MAX + BOUNCE_UNSUB_MSGID_LEN \
				 + BOUNCE_UNSUB_MAC_LEN)
#define BOUNCE_UNSUB_TOKEN_MAX	((BOUNCE_UNSUB_RAW_MAX * 4 + 2) / 3 + 1)

enum bounce_unsub_status {
	BOUNCE_UNSUB_OK, BOUNCE_UNSUB_MALFORMED, BOUNCE_UNSUB_FORGED,
	BOUNCE_UNSUB_EXPIRED, BOUNCE_UNSUB_UNKNOWN_KEY,
};

enum bounce_unsub_what {
	BOUNCE_UNSUB_PAGE, BOUNCE_UNSUB_DO, BOUNCE_UNSUB_REFUSE,
};

struct bounce_unsub {
	char		 tenant[BOUNCE_UNSUB_TENANT_MAX + 1];
	char		 rcpt[BOUNCE_UNSUB_RCPT_MAX + 1];
	long long	 expires;	/* seconds */
	unsigned	 key_id;
	unsigned char	 mac[BOUNCE_UNSUB_MAC_LEN];
	char		 msgid[2 * BOUNCE_UNSUB_MSGID_LEN + 1];	/* hex; "" v1 */
};

int	bounce_unsub_encode(const struct bounce_key *key, const char *tenant,
			    const char *rcpt, long long expires, char *out,
			    size_t outlen);
int	bounce_unsub_encode_ref(const struct bounce_key *key, const char *tenant,
				const char *rcpt,
				const unsigned char *msgid, long long expires,
				char *out, size_t outlen);
enum bounce_unsub_status bounce_unsub_decode(const struct bounce_keyring *ring,
					     const char *text, size_t len,
					     long long now,
					     struct bounce_unsub *out,
					     const char **why);
void	bounce_unsub_id(const struct bounce_unsub *u,
			char out[2 * BOUNCE_UNSUB_MAC_LEN + 1]);
const char *bounce_unsub_status_name(enum bounce_unsub_status s);
enum bounce_unsub_what bounce_unsub_request(const struct bounce_keyring *ring,
					    const char *method, const char *path,
					    const char *body, size_t bodylen,
					    long long now, struct bounce_unsub *tok,
					    unsigned *status, const char **why);

#endif
