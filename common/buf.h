/*++
 * NAME
 *	buf 3h
 * SUMMARY
 *	a bounded, growable text buffer with printf-style appends
 * SYNOPSIS
 *	#include "buf.h"
 * DESCRIPTION
 *	buf_new(max) makes an empty buffer whose text may grow to max bytes
 *	(the terminating NUL not counted; max 0 means no bound of its own,
 *	only memory). buf_printf(), buf_vprintf() and buf_append() append;
 *	the text stays NUL-terminated. An append that would take the text
 *	past max changes nothing and sets the failure flag; once it is set,
 *	every later append is ignored too, so that the text is always a
 *	clean prefix of what the caller meant to write, never one with a
 *	hole. buf_failed() tells; buf_cut() goes back to an earlier length
 *	(a mark taken with buf_len()) and clears the flag, for callers that
 *	keep only whole units (a metric family, a record).
 *
 *	Memory: allocation failure aborts (xalloc.h). buf_free() takes NULL
 *	and returns NULL. buf_export() frees the handle and gives the caller
 *	the text, to free with free().
 * THREAD SAFETY
 *	A buffer belongs to one thread at a time.
 *--*/
#ifndef POSTMILL_BUF_H
#define POSTMILL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf;

struct buf *buf_new(size_t max);
struct buf *buf_free(struct buf *b);
char	*buf_export(struct buf *b, size_t *len);

void	 buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void	 buf_append(struct buf *b, const void *data, size_t len);

const char *buf_text(const struct buf *b);
size_t	 buf_len(const struct buf *b);
bool	 buf_failed(const struct buf *b);
void	 buf_cut(struct buf *b, size_t len);

#endif
