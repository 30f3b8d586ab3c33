/*++
 * NAME
 *	name_code 3h
 * SUMMARY
 *	one table from words to enum values, both ways
 * SYNOPSIS
 *	#include "name_code.h"
 * DESCRIPTION
 *	A struct name_code table holds each word beside its value, as
 *	Postfix's name_code tables (src/util/name_code.c) do, so that a
 *	reordered row or a new enum value can never give a word another
 *	meaning, which two lists kept "in the same order" by a comment can.
 *	The table ends with a sentinel row whose name is NULL; its code is
 *	what name_code() returns for a word no row has.
 *
 *	Several rows may share a code (aliases): name_code_str() gives the
 *	first one, so put the canonical word first.
 *
 *	name_code() looks a NUL-terminated word up; name_code_len() a word of
 *	len bytes that need not be terminated (untrusted input).
 *	NAME_CODE_FLAG_NOCASE compares ASCII letters without case.
 *	name_code_str() gives the word of a code, or NULL when no row has it.
 *	name_code_count() counts the rows before the sentinel.
 * THREAD SAFETY
 *	The tables are const and the functions pure.
 *--*/
#ifndef POSTMILL_NAME_CODE_H
#define POSTMILL_NAME_CODE_H

#include <stddef.h>

struct name_code {
	const char	*name;		/* NULL ends the table */
	int		 code;		/* in the sentinel: the "no match" code */
};

#define NAME_CODE_FLAG_NONE	0
#define NAME_CODE_FLAG_NOCASE	(1 << 0)

int name_code(const struct name_code *table, int flags, const char *name);
int name_code_len(const struct name_code *table, int flags, const char *name,
		  size_t len);
const char *name_code_str(const struct name_code *table, int code);
size_t name_code_count(const struct name_code *table);

#endif
