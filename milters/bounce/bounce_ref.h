/*++
 * NAME
 *	bounce_ref 3h
 * SUMMARY
 *	the HMAC-protected reference header of tagged outbound mail
 * SYNOPSIS
 *	#include "bounce_ref.h"
 * DESCRIPTION
 *	Every message postmill-bounce tags also gets one header field
 *
 *	  X-Postmill-Ref: <48 characters of lower-case base32>
 *
 *	so that a complaint still maps back to its message when the
 *	feedback loop that returns it (RFC 5965, RFC 6650 section 5:
 *	reports may be redacted) has removed the recipient, and the envelope
 *	sender too: the original's header comes back, and with it the field.
 *	The value is the tag's layout (bounce_tag.h: version, key id, the
 *	80-bit message id that names the Redis message record, expiry,
 *	112 bits of HMAC-SHA256), with version BOUNCE_REF_VERSION and the
 *	MAC taken over "postmill-bounce ref" NUL and bytes 0-15: a tag is
 *	never a valid reference, nor the other way round. It names no
 *	address: a provider that redacts the recipient has nothing to
 *	redact here, and whoever reads it learns nothing. The secrets and
 *	their rotation are the tags' (bounce_keys.h); the expiry is
 *	bounce_ref_lifetime after sending.
 *
 *	bounce_ref_encode() writes the 48 characters and a NUL.
 *	bounce_ref_decode() reads a header value (ptr, len: no NUL needed),
 *	white space around it ignored, and returns a bounce_tag_status as
 *	bounce_tag_decode() does, *why a static text for the log.
 * THREAD SAFETY
 *	Pure functions: no I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_REF_H
#define POSTMILL_BOUNCE_REF_H

#include <stddef.h>

#include "bounce_keys.h"
#include "bounce_tag.h"

#define BOUNCE_REF_HEADER	"X-Postmill-Ref"
#define BOUNCE_REF_VERSION	2
#define BOUNCE_REF_CHARS	BOUNCE_TAG_CHARS

int	bounce_ref_encode(const struct bounce_key *key,
			  const unsigned char id[BOUNCE_TAG_ID_LEN],
			  long long expires, char out[BOUNCE_REF_CHARS + 1]);
enum bounce_tag_status bounce_ref_decode(const struct bounce_keyring *ring,
					 const char *value, size_t len,
					 long long now, struct bounce_tag *out,
					 const char **why);

#endif
