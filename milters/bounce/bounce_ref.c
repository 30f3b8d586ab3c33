/*++
 * NAME
 *	bounce_ref 3
 * SUMMARY
 *	the HMAC-protected reference header (see bounce_ref.h)
 * DESCRIPTION
 *	A thin layer over bounce_tag_seal() and bounce_tag_open(): the
 *	codec, the MAC and the constant-time compare are the tag's.
 *--*/
#include <string.h>

#include "bounce_ref.h"

static const char br_label[] = "postmill-bounce ref";

/* bounce_ref_encode - sign and write a reference; 0 or -1 */
int
bounce_ref_encode(const struct bounce_key *key,
		  const unsigned char id[BOUNCE_TAG_ID_LEN], long long expires,
		  char out[BOUNCE_REF_CHARS + 1])
{
	return bounce_tag_seal(key, BOUNCE_REF_VERSION, br_label, id, expires,
			       out);
}

/* br_space - folding white space of a header value */
static int
br_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* bounce_ref_decode - verify a header value; see bounce_ref.h */
enum bounce_tag_status
bounce_ref_decode(const struct bounce_keyring *ring, const char *value,
		  size_t len, long long now, struct bounce_tag *out,
		  const char **why)
{
	while (len > 0 && br_space(value[0])) {
		value++;
		len--;
	}
	while (len > 0 && br_space(value[len - 1]))
		len--;
	return bounce_tag_open(ring, BOUNCE_REF_VERSION, br_label, value, len,
			       now, out, why);
}
