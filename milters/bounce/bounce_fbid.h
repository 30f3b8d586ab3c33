/*++
 * NAME
 *	bounce_fbid 3h
 * SUMMARY
 *	the Feedback-ID header of Gmail's feedback loop
 * SYNOPSIS
 *	#include "bounce_fbid.h"
 * DESCRIPTION
 *	Gmail's feedback loop (Google's "Feedback Loop" help page) reads
 *
 *	  Feedback-ID: a:b:c:SenderId
 *
 *	up to four colon-separated identifiers, read from the right: the
 *	SenderId, mandatory, 5-15 characters, the same for all of a
 *	sender's mail, and up to three optional ones (campaign, customer,
 *	mail type...). Postmaster Tools then shows complaint rates per
 *	identifier. The header counts only when a DKIM signature of a
 *	domain verified there covers it: postmill-dkim must run after
 *	postmill-bounce and sign "feedback-id" (dkim_sign_headers).
 *
 *	bounce_feedback_id lists 1 to 4 sources, the last one the SenderId:
 *	  login		the SASL login ({auth_authen})
 *	  sender	the envelope sender, as received
 *	  sender_domain	its domain
 *	  header:NAME	the first NAME field of the message (a campaign
 *			or mail-type header of the sender's application)
 *	  literal:TEXT	TEXT itself
 *	each optionally written "hash:SOURCE": then the identifier is 12
 *	characters of lower-case base32 of SHA-256("postmill-bounce
 *	feedback-id" NUL value), 60 bits, stable (no secret: rotating
 *	secrets does not change it) and without the address in clear.
 *	The SenderId must be "literal:TEXT" of 5-15 characters or a hash of
 *	login, sender or sender_domain: stable per sender and of the length
 *	Gmail wants. A header is never a SenderId (the sender's software
 *	would choose it).
 *
 *	bounce_fbid_parse() checks the list (items, n; borrowed, they must
 *	outlive out) and fills out; 0, or -1 with the problem written to err.
 *	bounce_fbid_build() writes the header value for one message: each
 *	value trimmed, characters other than letters, digits and
 *	"._@+=/-" replaced with "_" (a colon would shift the fields), cut
 *	at BOUNCE_FBID_FIELD_MAX; an empty optional field stays empty (Gmail
 *	reports the others). It returns 0, or -1 when the SenderId comes out
 *	empty (no login, no sender): then no header is added.
 *	bounce_fbid_header_name() is the i-th field's header NAME, or NULL.
 * THREAD SAFETY
 *	Pure functions: no I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_FBID_H
#define POSTMILL_BOUNCE_FBID_H

#include <stdbool.h>
#include <stddef.h>

#define BOUNCE_FBID_MAX		4	/* a:b:c:SenderId */
#define BOUNCE_FBID_FIELD_MAX	64	/* bytes of one identifier */
#define BOUNCE_FBID_HASH_CHARS	12	/* 60 bits of base32 */
#define BOUNCE_FBID_VALUE_MAX	(BOUNCE_FBID_MAX * (BOUNCE_FBID_FIELD_MAX + 1))

enum bounce_fbid_src {
	BOUNCE_FBID_LOGIN,
	BOUNCE_FBID_SENDER,
	BOUNCE_FBID_SENDER_DOMAIN,
	BOUNCE_FBID_HEADER,
	BOUNCE_FBID_LITERAL,
};

struct bounce_fbid_field {
	enum bounce_fbid_src src;
	bool		 hash;
	const char	*arg;		/* header name or literal; borrowed */
};

struct bounce_fbid {
	size_t		 n;		/* 0: no Feedback-ID header */
	struct bounce_fbid_field f[BOUNCE_FBID_MAX];
};

struct bounce_fbid_in {
	const char	*login;		/* NULL or "": none */
	const char	*sender;
	const char	*hdr[BOUNCE_FBID_MAX];	/* value of f[i]'s header */
};

int	bounce_fbid_parse(const char *const *items, size_t n,
			  struct bounce_fbid *out, char *err, size_t errlen);
int	bounce_fbid_build(const struct bounce_fbid *f,
			  const struct bounce_fbid_in *in, char *out,
			  size_t outlen);
const char *bounce_fbid_header_name(const struct bounce_fbid *f, size_t i);

#endif
