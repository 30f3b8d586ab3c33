/*++
 * NAME
 *	errlist 3h
 * SUMMARY
 *	collect every problem found while loading, report them all at once
 * SYNOPSIS
 *	#include "errlist.h"
 * DESCRIPTION
 *	Loaders of configuration files, tables and keys do not stop at the
 *	first problem: they add one line per problem ("path:line: what") and
 *	carry on, so that one run of "-n" lists every mistake (OpenSMTPD's
 *	parse.y does the same). The caller decides what to do with the list:
 *	print it and exit at start-up, or log it and keep the old snapshot on
 *	reload.
 *
 *	errlist_add() formats one message. errlist_addf_at() prefixes it with
 *	"path:line: " (line 0 means the file as a whole: "path: ").
 *	errlist_print() writes each message and a newline to a stdio stream.
 *	errlist_free() releases the messages; the struct itself is the caller's.
 *--*/
#ifndef POSTMILL_ERRLIST_H
#define POSTMILL_ERRLIST_H

#include <stdio.h>
#include <stddef.h>

struct errlist {
	char  **msgs;
	size_t  count;
	size_t  cap;
};

#define ERRLIST_INIT { NULL, 0, 0 }

void errlist_add(struct errlist *el, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void errlist_add_at(struct errlist *el, const char *path, unsigned line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void errlist_print(const struct errlist *el, FILE *fp);
/* errlist_join - all messages in one string, separated by "; "; caller frees */
char *errlist_join(const struct errlist *el);
void errlist_free(struct errlist *el);

#endif
