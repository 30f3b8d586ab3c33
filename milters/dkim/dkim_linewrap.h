/*++
 * NAME
 *	dkim_linewrap 3h
 * SUMMARY
 *	break long lines the way Postfix's SMTP client will, before hashing
 * SYNOPSIS
 *	#include "dkim_linewrap.h"
 * DESCRIPTION
 *	Postfix's SMTP and LMTP clients break every header and body line
 *	longer than smtp_line_length_limit (default 998, RFC 5321 section
 *	4.5.3.1.6) when they deliver: after 998 bytes they send CRLF and
 *	then a space, and every continuation line holds the space plus at
 *	most 997 bytes. A milter sees the lines before that, so a signature
 *	over them fails at the receiver. postmill hashes what the receiver
 *	will get instead: the same breaks, inserted here (dkim_line_limit).
 *
 *	The wrapper is a streaming filter: dkim_linewrap_feed() takes any
 *	chunking (a CR LF pair may be split) and calls out() with the wrapped
 *	bytes; dkim_linewrap_flush() emits a CR held back at the very end.
 *	A line ends at LF (with or without CR before it). Limit 0 passes
 *	everything through. State is a few integers: O(1) memory.
 *--*/
#ifndef POSTMILL_DKIM_LINEWRAP_H
#define POSTMILL_DKIM_LINEWRAP_H

#include <stdbool.h>
#include <stddef.h>

struct dkim_linewrap {
	size_t	limit;		/* bytes per line; 0: off */
	size_t	col;		/* content bytes on the current output line */
	bool	cr;		/* a CR is held back: LF may follow */
	size_t	breaks;		/* line breaks inserted so far */
	void	(*out)(void *ctx, const void *data, size_t len);
	void	*ctx;
};

void dkim_linewrap_init(struct dkim_linewrap *w, size_t limit,
			void (*out)(void *ctx, const void *data, size_t len),
			void *ctx);
void dkim_linewrap_feed(struct dkim_linewrap *w, const void *data, size_t len);
void dkim_linewrap_flush(struct dkim_linewrap *w);
/* dkim_linewrap_needed - does this text have a line over limit (limit 0: no) */
bool dkim_linewrap_needed(const char *text, size_t len, size_t limit);

#endif
