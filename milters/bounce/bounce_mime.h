/*++
 * NAME
 *	bounce_mime 3h
 * SUMMARY
 *	bounded MIME walker for returned messages: headers, parts, decoding
 * SYNOPSIS
 *	#include "bounce_mime.h"
 * DESCRIPTION
 *	Everything here reads a caller's buffer as (pointer, length), never
 *	NUL-terminated, CRLF or bare LF line ends, and never writes to it.
 *	Results point into that buffer (borrowed: valid while it is) or are
 *	copied into the caller's fixed arrays, truncated and NUL-terminated.
 *
 *	bounce_mime_split() finds the end of a header block: the first
 *	empty line (RFC 5322 section 2.1). Without one, the whole input is
 *	header and the body is empty.
 *
 *	bounce_mime_next_field() iterates over the fields of a header block
 *	(or of a DSN / feedback report block, which have the same syntax,
 *	RFC 3464 section 2.1): a field starts at a line that does not begin
 *	with white space and has a colon; continuation lines (RFC 5322
 *	section 2.2.3) belong to it. Lines that are neither are skipped.
 *	It stops at an empty line or the end; *pos is then the offset after
 *	the empty line. Only the first BOUNCE_MIME_MAX_HEADER bytes of a
 *	block are read.
 *
 *	bounce_mime_unfold() copies a field value unfolded (line breaks
 *	removed, RFC 5322 section 2.2.3), runs of white space made one
 *	space, leading and trailing space trimmed, control characters and
 *	NUL replaced with '?'. bounce_mime_header() finds the first field of
 *	a name (case-insensitive) and unfolds its value; 1 found, 0 not.
 *
 *	bounce_mime_decode_words() decodes RFC 2047 encoded-words ("=?utf-8?
 *	Q?...?=", B or Q) into the raw bytes of their charset (no charset
 *	conversion: the classifier only matches ASCII patterns) and copies
 *	the rest; it never fails, a malformed word is copied as it is.
 *
 *	bounce_mime_walk() parses a whole message into a flat list of parts
 *	in document order: part 0 is the message itself, then every body
 *	part of a multipart (RFC 2046 section 5.1: boundary delimiter lines,
 *	preamble and epilogue ignored, a missing close delimiter tolerated,
 *	as truncated bounces lack it) and the message inside a message/
 *	rfc822 or message/global part (RFC 2046 section 5.2.1), each with
 *	its depth and parent. text/rfc822-headers (RFC 6522 section 4) is a
 *	leaf whose body is a header block. At most BOUNCE_MIME_MAX_PARTS
 *	parts and BOUNCE_MIME_MAX_DEPTH levels are walked; past them the
 *	walk stops quietly and sets truncated. It returns -1 (*why) only
 *	when the input does not start with a header field at all (an mbox
 *	"From " line is skipped).
 *
 *	bounce_mime_decode() writes the body of a part with its content
 *	transfer encoding undone (quoted-printable, RFC 2045 section 6.7;
 *	base64, section 6.8; anything else copied) into out, at most cap
 *	bytes, and returns the length written (no NUL added).
 *
 *	bounce_mime_text() writes the decoded text of a part for people to
 *	read: text/html loses its tags and the commonest entities. NUL
 *	terminated, at most cap - 1 bytes; returns the length.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, no allocation.
 *--*/
#ifndef POSTMILL_BOUNCE_MIME_H
#define POSTMILL_BOUNCE_MIME_H

#include <stddef.h>

#define BOUNCE_MIME_MAX_PARTS	64
#define BOUNCE_MIME_MAX_DEPTH	8
#define BOUNCE_MIME_MAX_HEADER	(256 * 1024)	/* bytes of one header block */
#define BOUNCE_MIME_TYPE_MAX	64
#define BOUNCE_MIME_BOUNDARY_MAX 72	/* RFC 2046 5.1.1: 1..70 characters */

enum bounce_cte {
	BOUNCE_CTE_IDENTITY,		/* 7bit, 8bit, binary, absent, unknown */
	BOUNCE_CTE_QP,
	BOUNCE_CTE_BASE64,
};

struct bounce_field {
	const char *name;		/* borrowed */
	size_t	namelen;
	const char *value;		/* borrowed, raw: still folded */
	size_t	valuelen;
};

struct bounce_part {
	int	depth;			/* 0 for the message */
	int	parent;			/* index, -1 for the message */
	const char *hdr;		/* borrowed header block */
	size_t	hdrlen;
	const char *body;		/* borrowed, still encoded */
	size_t	bodylen;
	char	type[BOUNCE_MIME_TYPE_MAX];	/* "text/plain", lowercase */
	char	report_type[32];	/* multipart/report: lowercase */
	char	boundary[BOUNCE_MIME_BOUNDARY_MAX];
	char	charset[32];
	enum bounce_cte cte;
};

struct bounce_mime {
	size_t	nparts;
	int	truncated;		/* a part or depth limit was hit */
	struct bounce_part part[BOUNCE_MIME_MAX_PARTS];
};

size_t	bounce_mime_split(const char *p, size_t len, size_t *body_off);
int	bounce_mime_next_field(const char *p, size_t len, size_t *pos,
			       struct bounce_field *f);
size_t	bounce_mime_unfold(const char *v, size_t vlen, char *buf, size_t cap);
int	bounce_mime_header(const char *hdr, size_t hdrlen, const char *name,
			   char *buf, size_t cap);
size_t	bounce_mime_decode_words(const char *in, size_t len, char *out,
				 size_t cap);
int	bounce_mime_walk(const char *msg, size_t len, struct bounce_mime *m,
			 const char **why);
size_t	bounce_mime_decode(const struct bounce_part *part, char *out,
			   size_t cap);
size_t	bounce_mime_text(const struct bounce_part *part, char *out,
			 size_t cap);

#endif
