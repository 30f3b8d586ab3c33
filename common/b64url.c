/*++
 * NAME
 *	b64url 3
 * SUMMARY
 *	unpadded base64url, strict on input
 * DESCRIPTION
 *	See b64url.h.
 *--*/
#include "b64url.h"

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* b64url_value - a character's 6-bit value, or -1 */
static int
b64url_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

/* b64url_encode - the text of in[0..n), NUL-terminated; its length or -1 */
int
b64url_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen < (n * 4 + 2) / 3 + 1)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url_alphabet[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64url_alphabet[v & 63];
	}
	out[o] = '\0';
	return (int)o;
}

/* b64url_decode - strict: one text per byte string */
int
b64url_decode(const char *text, size_t len, unsigned char *out, size_t outmax,
	      size_t *outn, const char **why)
{
	unsigned acc = 0;
	size_t n = 0;
	int bits = 0, v;

	*outn = 0;
	if (len % 4 == 1) {
		*why = "bad length";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if ((v = b64url_value((unsigned char)text[i])) < 0) {
			*why = "not base64url";
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			if (n == outmax) {
				*why = "bad length";
				return -1;
			}
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		*why = "non-zero padding bits";
		return -1;
	}
	*outn = n;
	return 0;
}
