/*++
 * NAME
 *	b64url 3h
 * SUMMARY
 *	unpadded base64url (RFC 4648 section 5) for tokens in URLs
 * SYNOPSIS
 *	#include "b64url.h"
 *
 *	int	b64url_encode(const unsigned char *in, size_t n, char *out,
 *			      size_t outlen);
 *	int	b64url_decode(const char *text, size_t len, unsigned char *out,
 *			      size_t outmax, size_t *outn, const char **why);
 * DESCRIPTION
 *	The tokens of one-click unsubscribe and of click and open tracking
 *	travel in URLs, unpadded. b64url_encode() writes the text and a NUL
 *	and returns its length, or -1 when outlen cannot hold it.
 *	b64url_decode() is strict, so that one token has one spelling (a
 *	MAC over the bytes must not be reachable through several texts): a
 *	character outside the alphabet, a length of 1 modulo 4 and non-zero
 *	bits after the last byte are refused; more than outmax bytes too.
 *	It returns 0, or -1 with *why ("not base64url", "bad length",
 *	"non-zero padding bits").
 * THREAD SAFETY
 *	Pure functions.
 *--*/
#ifndef POSTMILL_B64URL_H
#define POSTMILL_B64URL_H

#include <stddef.h>

int	b64url_encode(const unsigned char *in, size_t n, char *out, size_t outlen);
int	b64url_decode(const char *text, size_t len, unsigned char *out,
		      size_t outmax, size_t *outn, const char **why);

#endif
