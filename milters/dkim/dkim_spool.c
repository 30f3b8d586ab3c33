/*++
 * NAME
 *	dkim_spool 3
 * SUMMARY
 *	a copy of the body as it is signed, for smfi_replacebody()
 * DESCRIPTION
 *	See dkim_spool.h. One spool per message in progress, used by one
 *	thread at a time (the session's).
 *--*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_spool.h"
#include "xalloc.h"

/* dkim_spool_write - append; to the file once memory would pass the cap */
void
dkim_spool_write(struct dkim_spool *sp, const void *data, size_t len)
{
	if (sp->failed || len == 0)
		return;
	sp->total += len;
	if (sp->fp == NULL && sp->len + len <= DKIM_SPOOL_MEM) {
		if (sp->len + len > sp->cap) {
			size_t cap = sp->cap ? sp->cap : 16384;

			while (cap < sp->len + len)
				cap *= 2;
			if (cap > DKIM_SPOOL_MEM)
				cap = DKIM_SPOOL_MEM;
			sp->mem = xrealloc(sp->mem, cap);
			sp->cap = cap;
		}
		memcpy(sp->mem + sp->len, data, len);
		sp->len += len;
		return;
	}
	if (sp->fp == NULL) {
		if ((sp->fp = tmpfile()) == NULL
		    || fwrite(sp->mem, 1, sp->len, sp->fp) != sp->len) {
			sp->failed = true;
			return;
		}
		free(sp->mem);
		sp->mem = NULL;
		sp->len = sp->cap = 0;
	}
	if (fwrite(data, 1, len, sp->fp) != len)
		sp->failed = true;
}

/* dkim_spool_read - the copy, in order, in chunks */
int
dkim_spool_read(struct dkim_spool *sp,
		int (*out)(void *ctx, const unsigned char *data, size_t len),
		void *ctx, const char **why)
{
	unsigned char *buf;
	size_t n;
	int rc = 0;

	if (sp->failed || (sp->fp != NULL && fflush(sp->fp) != 0)) {
		*why = "cannot write the body copy";
		return -1;
	}
	if (sp->fp == NULL) {
		for (size_t off = 0; off < sp->len; off += n) {
			n = sp->len - off < DKIM_SPOOL_CHUNK ? sp->len - off : DKIM_SPOOL_CHUNK;
			if (out(ctx, (const unsigned char *)sp->mem + off, n) < 0) {
				*why = "the MTA refused the new body";
				return -1;
			}
		}
		return 0;
	}
	rewind(sp->fp);
	buf = xmalloc(DKIM_SPOOL_CHUNK);	/* off the (engine's) thread stack */
	while ((n = fread(buf, 1, DKIM_SPOOL_CHUNK, sp->fp)) > 0) {
		if (out(ctx, buf, n) < 0) {
			*why = "the MTA refused the new body";
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(sp->fp)) {
		*why = "cannot read the body copy back";
		rc = -1;
	}
	free(buf);
	return rc;
}

/* dkim_spool_discard - free memory, close (and so remove) the file */
void
dkim_spool_discard(struct dkim_spool *sp)
{
	free(sp->mem);
	if (sp->fp != NULL)
		fclose(sp->fp);
	memset(sp, 0, sizeof(*sp));
}
