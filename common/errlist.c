/*++
 * NAME
 *	errlist 3
 * SUMMARY
 *	collect every problem found while loading, report them all at once
 * DESCRIPTION
 *	See errlist.h.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errlist.h"
#include "xalloc.h"

/* errlist_push - append an already formatted message, taking ownership */
static void
errlist_push(struct errlist *el, char *msg)
{
	if (el->count == el->cap) {
		el->cap = el->cap ? el->cap * 2 : 8;
		el->msgs = xrealloc(el->msgs, el->cap * sizeof(*el->msgs));
	}
	el->msgs[el->count++] = msg;
}

/* errlist_add - format one message */
void
errlist_add(struct errlist *el, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	errlist_push(el, msg);
}

/* errlist_add_at - format one message about path:line */
void
errlist_add_at(struct errlist *el, const char *path, unsigned line,
	       const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		body = xstrdup(fmt);
	va_end(ap);
	if (line > 0)
		errlist_push(el, xasprintf("%s:%u: %s", path, line, body));
	else
		errlist_push(el, xasprintf("%s: %s", path, body));
	free(body);
}

/* errlist_print - one message per line */
void
errlist_print(const struct errlist *el, FILE *fp)
{
	for (size_t i = 0; i < el->count; i++)
		fprintf(fp, "%s\n", el->msgs[i]);
}

/* errlist_join - every message in one string */
char *
errlist_join(const struct errlist *el)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < el->count; i++)
		len += strlen(el->msgs[i]) + 2;
	out = p = xmalloc(len);
	*p = '\0';
	for (size_t i = 0; i < el->count; i++) {
		size_t n = strlen(el->msgs[i]);

		if (i > 0) {
			memcpy(p, "; ", 2);
			p += 2;
		}
		memcpy(p, el->msgs[i], n);
		p += n;
		*p = '\0';
	}
	return out;
}

/* errlist_free - release the messages */
void
errlist_free(struct errlist *el)
{
	for (size_t i = 0; i < el->count; i++)
		free(el->msgs[i]);
	free(el->msgs);
	el->msgs = NULL;
	el->count = el->cap = 0;
}
