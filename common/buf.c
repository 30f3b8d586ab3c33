/*++
 * NAME
 *	buf 3
 * SUMMARY
 *	a bounded, growable text buffer with printf-style appends
 * DESCRIPTION
 *	See buf.h. The buffer doubles as it grows (amortized linear), and
 *	never allocates more than max + 1 bytes when it has a max.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

#define BUF_INITIAL	256

struct buf {
	char	*data;		/* NUL-terminated */
	size_t	 len;		/* of the text */
	size_t	 size;		/* allocated, > len */
	size_t	 max;		/* text bound; 0: none */
	bool	 failed;	/* an append was refused */
};

/* buf_new - an empty buffer whose text may grow to max bytes (0: no bound) */
struct buf *
buf_new(size_t max)
{
	struct buf *b = xcalloc(1, sizeof(*b));

	b->max = max;
	b->size = max && max + 1 < BUF_INITIAL ? max + 1 : BUF_INITIAL;
	b->data = xmalloc(b->size);
	b->data[0] = '\0';
	return b;
}

/* buf_free - the handle and its text; returns NULL */
struct buf *
buf_free(struct buf *b)
{
	if (b != NULL) {
		free(b->data);
		free(b);
	}
	return NULL;
}

/* buf_export - free the handle, give the caller the text (and its length) */
char *
buf_export(struct buf *b, size_t *len)
{
	char *s = b->data;

	if (len != NULL)
		*len = b->len;
	free(b);
	return s;
}

/* buf_room - make room for need more text bytes; false past max */
static bool
buf_room(struct buf *b, size_t need)
{
	size_t want;

	if (b->failed)
		return false;
	if (need > SIZE_MAX / 2 - b->len - 1
	    || (b->max && need > b->max - b->len)) {
		b->failed = true;
		return false;
	}
	want = b->len + need + 1;
	if (want <= b->size)
		return true;
	while (b->size < want)
		b->size *= 2;
	if (b->max && b->size > b->max + 1)
		b->size = b->max + 1;
	b->data = xrealloc(b->data, b->size);
	return true;
}

/* buf_vprintf - append formatted text */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->failed)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->size - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {			/* an encoding error: nothing appended */
		b->data[b->len] = '\0';
		b->failed = true;
		return;
	}
	if ((size_t)n < b->size - b->len && (!b->max || (size_t)n <= b->max - b->len)) {
		b->len += (size_t)n;
		return;
	}
	b->data[b->len] = '\0';		/* undo the partial write */
	if (!buf_room(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
	b->len += (size_t)n;
}

/* buf_printf - append formatted text */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* buf_append - append len bytes as they are */
void
buf_append(struct buf *b, const void *data, size_t len)
{
	if (!buf_room(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* buf_text - the text, NUL-terminated; borrowed until the next append */
const char *
buf_text(const struct buf *b)
{
	return b->data;
}

/* buf_len - bytes of text */
size_t
buf_len(const struct buf *b)
{
	return b->len;
}

/* buf_failed - was an append refused (the text is cut short) */
bool
buf_failed(const struct buf *b)
{
	return b->failed;
}

/* buf_cut - back to len bytes (no longer than now); clears the failure */
void
buf_cut(struct buf *b, size_t len)
{
	if (len < b->len)
		b->len = len;
	b->data[b->len] = '\0';
	b->failed = false;
}
