/*++
 * NAME
 *	dkim_spool 3h
 * SUMMARY
 *	a copy of the body as it is signed, for smfi_replacebody()
 * SYNOPSIS
 *	#include "dkim_spool.h"
 * DESCRIPTION
 *	When a body has lines over dkim_line_length_limit, the milter signs
 *	them broken as Postfix's SMTP client will break them, and must then
 *	replace the body with that form (dkim_milter.c), since local(8),
 *	virtual(8) and LMTP store lines unbroken. Which body needs it is
 *	known only at its end, so every signed body is copied here as it
 *	streams: in memory up to DKIM_SPOOL_MEM bytes, then in an unlinked
 *	temporary file (tmpfile(3)), so that memory per message stays
 *	bounded. A write error marks the spool failed; the caller then
 *	cannot replace the body and says so.
 *
 *	dkim_spool_read() hands the copy back in chunks of at most
 *	DKIM_SPOOL_CHUNK bytes. dkim_spool_discard() frees everything.
 *--*/
#ifndef POSTMILL_DKIM_SPOOL_H
#define POSTMILL_DKIM_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define DKIM_SPOOL_MEM		(1024 * 1024)
#define DKIM_SPOOL_CHUNK	65535	/* Postfix's MILTER_CHUNK_SIZE */

struct dkim_spool {
	char	*mem;
	size_t	 len, cap;	/* in mem */
	FILE	*fp;		/* past DKIM_SPOOL_MEM */
	size_t	 total;
	bool	 failed;
};

void	dkim_spool_write(struct dkim_spool *sp, const void *data, size_t len);
/* dkim_spool_read - out() per chunk; stops at out() < 0; 0 or -1 + why */
int	dkim_spool_read(struct dkim_spool *sp,
			int (*out)(void *ctx, const unsigned char *data, size_t len),
			void *ctx, const char **why);
void	dkim_spool_discard(struct dkim_spool *sp);

#endif
