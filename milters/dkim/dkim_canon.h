/*++
 * NAME
 *	dkim_canon 3h
 * SUMMARY
 *	DKIM canonicalization (RFC 6376 3.4) and header hashing (5.4.2)
 * SYNOPSIS
 *	#include "dkim_canon.h"
 * DESCRIPTION
 *	Body: dkim_canon_body_init() starts a streaming "simple" or "relaxed"
 *	body canonicalizer with its own SHA-256 context. Feed the body with
 *	dkim_canon_body_feed() in chunks of any size: a CRLF or a run of
 *	white space may be split between chunks. dkim_canon_body_final()
 *	writes the 32-byte body hash (the bh= value, RFC 6376 3.7) and
 *	releases the context; dkim_canon_body_discard() releases it without
 *	a digest (aborted message) and is safe after final() and on a
 *	zeroed struct. Memory is O(1): trailing empty lines are counted,
 *	never buffered. dkim_canon_body_length() is the number of canonical
 *	bytes hashed so far; after final() it is the whole canonical length
 *	(what an l= tag would say; postmill never emits l=).
 *
 *	Line breaks: a line ends with CRLF. A CR not followed by LF and an
 *	LF not preceded by CR are ordinary characters. Postfix hands milters
 *	CRLF-terminated lines, so neither occurs in practice; treating them
 *	as data (rather than repairing them as libopendkim's FIXCRLF flag
 *	does) keeps the digest a pure function of the bytes given.
 *
 *	Header fields: dkim_canon_header() canonicalizes one field given as
 *	"Name:value" exactly as received, without the terminating line break.
 *	Inside the field a line break may be CRLF or a bare LF (libmilter
 *	passes folded values with "\n"). "simple" turns every bare LF into
 *	CRLF, which is what the receiver sees after the MTA wrote the
 *	message out, and changes nothing else; "relaxed" lowercases the name,
 *	unfolds, turns WSP runs into one SP and drops WSP at the end of the
 *	value and around the colon. The output is at most
 *	DKIM_CANON_HEADER_BOUND(len) bytes, CRLF included.
 *
 *	Selection: dkim_canon_select() builds the h= list for a message:
 *	every name to sign once per instance present, every over-signed
 *	name once more (so an added instance breaks the signature; an absent
 *	over-signed name appears once and signs its absence). Names compare
 *	case-insensitively; duplicates in the lists are ignored. The array
 *	returned holds pointers borrowed from the lists given; the caller
 *	frees the array itself with free().
 *
 *	dkim_canon_oversign() narrows an over-sign list for one message
 *	before dkim_canon_select(): a name that is also in the if_present
 *	list stays only when the message has that field. An MTA may add
 *	such a field after the milters ran (Sendmail adds a missing Date
 *	and Message-Id when it writes the message out; Postfix adds them
 *	before the milters see it): signing its absence would make the
 *	signature fail once the MTA added it. out must have room for
 *	n_oversign pointers (borrowed from oversign); the count is returned.
 *
 *	dkim_canon_headers_hash() feeds an initialized digest context with
 *	the canonicalized fields named by an h= list, following RFC 6376
 *	5.4.2: for each name, the last instance not used yet, counting from
 *	the bottom; a name without an unused instance contributes nothing.
 * THREAD SAFETY
 *	No shared state: each struct dkim_body_canon belongs to one message.
 * DIAGNOSTICS
 *	Functions returning int return 0 or -1 and set *why to a static
 *	string. dkim_canon_body_feed() cannot fail; a digest failure inside
 *	OpenSSL is remembered and reported by dkim_canon_body_final().
 *--*/
#ifndef POSTMILL_DKIM_CANON_H
#define POSTMILL_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/*
 * Canonicalization algorithms. The values equal libopendkim's
 * DKIM_CANON_SIMPLE/RELAXED, but the names differ so both headers can be
 * included in one file (the tests do).
 */
enum dkim_canon_mode {
	DKIM_CANON_MODE_SIMPLE = 0,
	DKIM_CANON_MODE_RELAXED = 1,
};

#define DKIM_CANON_DIGEST_LEN	32		/* SHA-256 */
#define DKIM_CANON_BUFSIZE	2048		/* batches digest updates */

/* worst case output of dkim_canon_header(): every byte an LF, plus CRLF */
#define DKIM_CANON_HEADER_BOUND(len)	(2 * (size_t) (len) + 2)

/* One header field of the message, in message order. */
struct dkim_header_field {
	const char	*name;		/* field name, no colon */
	size_t		 name_len;
	const char	*field;		/* whole "Name:value" as received */
	size_t		 field_len;	/* no terminating line break */
};

/* Streaming body canonicalizer; members are private to dkim_canon.c. */
struct dkim_body_canon {
	EVP_MD_CTX	*md;		/* NULL before init and after final */
	int		 mode;		/* enum dkim_canon_mode */
	bool		 failed;	/* an OpenSSL digest call failed */
	bool		 cr;		/* last byte a CR, next byte not seen */
	bool		 wsp;		/* relaxed: WSP run since last content */
	unsigned long long blanks;	/* line breaks held back (3.4.3/3.4.4) */
	unsigned long long length;	/* canonical bytes hashed */
	size_t		 fill;		/* bytes waiting in buf */
	unsigned char	 buf[DKIM_CANON_BUFSIZE];
};

int	dkim_canon_body_init(struct dkim_body_canon *bc, int mode,
	    const char **why);
void	dkim_canon_body_feed(struct dkim_body_canon *bc, const void *data,
	    size_t len);
int	dkim_canon_body_final(struct dkim_body_canon *bc,
	    unsigned char digest[DKIM_CANON_DIGEST_LEN], const char **why);
void	dkim_canon_body_discard(struct dkim_body_canon *bc);
unsigned long long dkim_canon_body_length(const struct dkim_body_canon *bc);

int	dkim_canon_header(int mode, const char *field, size_t len, bool crlf,
	    char *out, size_t outsize, size_t *outlen, const char **why);

const char **dkim_canon_select(const struct dkim_header_field *headers,
	    size_t n_headers, const char *const *sign, size_t n_sign,
	    const char *const *oversign, size_t n_oversign, size_t *n_out);

size_t	dkim_canon_oversign(const struct dkim_header_field *headers,
	    size_t n_headers, const char *const *oversign, size_t n_oversign,
	    const char *const *if_present, size_t n_if_present,
	    const char **out);

int	dkim_canon_headers_hash(EVP_MD_CTX *md, int mode,
	    const struct dkim_header_field *headers, size_t n_headers,
	    const char *const *hnames, size_t n_hnames, const char **why);

#endif
