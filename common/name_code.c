/*++
 * NAME
 *	name_code 3
 * SUMMARY
 *	one table from words to enum values, both ways
 * DESCRIPTION
 *	See name_code.h. Linear scans: the tables have a handful of rows,
 *	and every lookup is on a configuration word, a log line or a
 *	header token, never in a per-byte loop.
 *--*/
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "name_code.h"

/* name_code_eq - row word against len bytes, exact or without case */
static bool
name_code_eq(const char *word, const char *name, size_t len, int flags)
{
	if (strlen(word) != len)
		return false;
	if (flags & NAME_CODE_FLAG_NOCASE)
		return strncasecmp(word, name, len) == 0;
	return memcmp(word, name, len) == 0;
}

/* name_code_len - code of a word of len bytes, or the sentinel's code */
int
name_code_len(const struct name_code *table, int flags, const char *name,
	      size_t len)
{
	const struct name_code *np;

	for (np = table; np->name; np++)
		if (name != NULL && name_code_eq(np->name, name, len, flags))
			break;
	return np->code;
}

/* name_code - code of a NUL-terminated word, or the sentinel's code */
int
name_code(const struct name_code *table, int flags, const char *name)
{
	return name_code_len(table, flags, name, name ? strlen(name) : 0);
}

/* name_code_str - first word of a code, or NULL when no row has it */
const char *
name_code_str(const struct name_code *table, int code)
{
	for (const struct name_code *np = table; np->name; np++)
		if (np->code == code)
			return np->name;
	return NULL;
}

/* name_code_count - rows before the sentinel */
size_t
name_code_count(const struct name_code *table)
{
	size_t n = 0;

	while (table[n].name)
		n++;
	return n;
}
