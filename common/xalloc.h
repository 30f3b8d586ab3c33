/*++
 * NAME
 *	xalloc 3h
 * SUMMARY
 *	memory allocation that never returns NULL
 * SYNOPSIS
 *	#include "xalloc.h"
 * DESCRIPTION
 *	Wrappers around malloc(3) and friends. On out-of-memory they log at
 *	LOG_CRIT and abort(): a milter that cannot allocate cannot do anything
 *	useful, and Postfix applies milter_default_action to its messages.
 *	Callers therefore never check for NULL (Postfix's mymalloc idiom).
 *	xfree() takes NULL and returns NULL, for "p = xfree(p)".
 *--*/
#ifndef POSTMILL_XALLOC_H
#define POSTMILL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t len);
void *xcalloc(size_t n, size_t len);
void *xrealloc(void *ptr, size_t len);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
void *xfree(void *ptr);
/* xasprintf - printf into a new string; caller frees */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
