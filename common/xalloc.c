/*++
 * NAME
 *	xalloc 3
 * SUMMARY
 *	memory allocation that never returns NULL
 * DESCRIPTION
 *	See xalloc.h. Out of memory is logged at LOG_CRIT and aborts.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* xalloc_die - report and abort; there is no sane way to continue */
static void
xalloc_die(size_t len)
{
	log_msg(LOG_CRIT, NULL, "out of memory allocating %zu bytes", len);
	abort();
}

/* xmalloc - malloc or die */
void *
xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p == NULL)
		xalloc_die(len);
	return p;
}

/* xcalloc - calloc or die */
void *
xcalloc(size_t n, size_t len)
{
	void *p = calloc(n ? n : 1, len ? len : 1);

	if (p == NULL)
		xalloc_die(n * len);
	return p;
}

/* xrealloc - realloc or die */
void *
xrealloc(void *ptr, size_t len)
{
	void *p = realloc(ptr, len ? len : 1);

	if (p == NULL)
		xalloc_die(len);
	return p;
}

/* xstrdup - strdup or die */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* xstrndup - copy at most len bytes and terminate */
char *
xstrndup(const char *s, size_t len)
{
	char *p;
	size_t n = strnlen(s, len);

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* xfree - free, for the "p = xfree(p)" idiom */
void *
xfree(void *ptr)
{
	free(ptr);
	return NULL;
}

/* xasprintf - printf into a new string */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		xalloc_die(strlen(fmt));
	return out;
}
