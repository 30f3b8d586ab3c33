/*++
 * NAME
 *	bounce_tag 3h
 * SUMMARY
 *	the signed VERP tag of postmill-bounce's envelope senders
 * SYNOPSIS
 *	#include "bounce_tag.h"
 * DESCRIPTION
 *	Outbound mail of hosted senders leaves with the envelope sender
 *	"b-TAG@bounce_domain". A bounce comes back to that address (RFC 5321
 *	section 4.5.5: DSNs go to the reverse-path), and the tag tells which
 *	message it is about, without trusting anything else in the bounce.
 *
 *	The tag is 30 bytes written as 48 characters of lower-case base32
 *	(RFC 4648 section 6 alphabet, lower case, no padding: 240 bits are
 *	exactly 48 characters, so every string of 48 valid characters is one
 *	and only one byte string, and no "unused bits" can be flipped
 *	unnoticed). Base32 has no case: an MTA that lower-cases or upper-cases
 *	local parts (RFC 5321 section 2.4 allows neither, some do both) does
 *	not break it. "b-" plus 48 characters is 50 octets, under the 64 of a
 *	local part (RFC 5321 section 4.5.3.1.1).
 *
 *	  byte  0	version (BOUNCE_TAG_VERSION)
 *	  byte  1	key id: which secret signed it (bounce_keys.h)
 *	  bytes 2-11	message id, 80 random bits: the Redis key of the
 *			message record (sender, queue id, recipients, time)
 *	  bytes 12-15	expiry, seconds since the epoch, big-endian
 *	  bytes 16-29	HMAC-SHA256(secret, bytes 0-15), first 112 bits
 *
 *	A forger must guess 112 bits per try, and each try costs an SMTP
 *	transaction; the MAC is compared with CRYPTO_memcmp() so that its
 *	time says nothing about how many bytes were right.
 *
 *	bounce_tag_encode() writes the 48 characters and a NUL into out.
 *	bounce_tag_decode() reads exactly BOUNCE_TAG_CHARS characters of
 *	either case (ptr, len: no NUL needed) and returns, checking in this
 *	order so that an unsigned field is never believed:
 *	BOUNCE_TAG_MALFORMED	wrong length, a character outside the
 *				alphabet, an unknown version
 *	BOUNCE_TAG_UNKNOWN_KEY	no configured secret has that key id
 *				(a removed key, or a forgery)
 *	BOUNCE_TAG_BAD_MAC	the MAC does not match (tampered or forged)
 *	BOUNCE_TAG_EXPIRED	genuine, but now >= expiry
 *	BOUNCE_TAG_OK		out holds the message id and expiry
 *	*why is a static text for the log. out is filled for EXPIRED too.
 *
 *	bounce_tag_seal() and bounce_tag_open() are the same codec for
 *	another token of the same layout (bounce_ref.h): the version byte
 *	and a label (NULL: none) that goes into the MAC as "label NUL" in
 *	front of bytes 0-15. Tags are version BOUNCE_TAG_VERSION, no label.
 *
 *	bounce_tag_local_decode() does the same for a whole local part
 *	("b-TAG", the prefix in either case). bounce_tag_id_hex() writes a
 *	message id as 20 lower-case hex digits and a NUL (Redis key names).
 * THREAD SAFETY
 *	Pure functions: no I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_TAG_H
#define POSTMILL_BOUNCE_TAG_H

#include <stddef.h>
#include <stdint.h>

#include "bounce_keys.h"

#define BOUNCE_TAG_VERSION	1
#define BOUNCE_TAG_ID_LEN	10	/* message id bytes */
#define BOUNCE_TAG_MAC_LEN	14	/* truncated HMAC bytes (112 bits) */
#define BOUNCE_TAG_BYTES	30
#define BOUNCE_TAG_CHARS	48	/* base32 of BOUNCE_TAG_BYTES */
#define BOUNCE_TAG_PREFIX	"b-"
#define BOUNCE_TAG_LOCAL_LEN	(2 + BOUNCE_TAG_CHARS)
#define BOUNCE_TAG_ID_HEX	(2 * BOUNCE_TAG_ID_LEN + 1)

enum bounce_tag_status {
	BOUNCE_TAG_OK,
	BOUNCE_TAG_MALFORMED,
	BOUNCE_TAG_BAD_MAC,
	BOUNCE_TAG_EXPIRED,
	BOUNCE_TAG_UNKNOWN_KEY,
};

struct bounce_tag {
	unsigned char	id[BOUNCE_TAG_ID_LEN];
	long long	expires;	/* seconds since the epoch */
	unsigned	key_id;
};

int	bounce_tag_seal(const struct bounce_key *key, unsigned version,
			const char *label,
			const unsigned char id[BOUNCE_TAG_ID_LEN],
			long long expires, char out[BOUNCE_TAG_CHARS + 1]);
enum bounce_tag_status bounce_tag_open(const struct bounce_keyring *ring,
				       unsigned version, const char *label,
				       const char *text, size_t len,
				       long long now, struct bounce_tag *out,
				       const char **why);
int	bounce_tag_encode(const struct bounce_key *key,
			  const unsigned char id[BOUNCE_TAG_ID_LEN],
			  long long expires, char out[BOUNCE_TAG_CHARS + 1]);
enum bounce_tag_status bounce_tag_decode(const struct bounce_keyring *ring,
					 const char *text, size_t len,
					 long long now, struct bounce_tag *out,
					 const char **why);
enum bounce_tag_status bounce_tag_local_decode(const struct bounce_keyring *ring,
					       const char *local, size_t len,
					       long long now,
					       struct bounce_tag *out,
					       const char **why);
void	bounce_tag_id_hex(const unsigned char id[BOUNCE_TAG_ID_LEN],
			  char out[BOUNCE_TAG_ID_HEX]);
const char *bounce_tag_status_name(enum bounce_tag_status st);

#endif
