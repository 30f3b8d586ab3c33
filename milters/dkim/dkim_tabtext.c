/*++
 * NAME
 *	dkim_tabtext 3
 * SUMMARY
 *	names and patterns in the DKIM tables: case, LDH check, glob
 * DESCRIPTION
 *	The string rules the key table, the signing table and the lookup
 *	share: ASCII lowercasing (domains and OpenDKIM patterns compare
 *	without case), the LDH test for d= domains and selectors (RFC 1035
 *	section 2.3.1, RFC 6376 section 3.1), and the '*' glob of OpenDKIM's
 *	refile: patterns. Pure functions: no I/O, no allocation.
 * THREAD SAFETY
 *	No state.
 *--*/

/* System library. */

#include <string.h>

/* Application-specific. */

#include "dkim_tables_priv.h"

/* dkim_tabtext_lower - lowercase ASCII letters in place */
void
dkim_tabtext_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s - 'A' + 'a');
}

/* dkim_tabtext_is_ldh - a domain name of LDH labels (RFC 1035 section 2.3.1) */
bool
dkim_tabtext_is_ldh(const char *s)
{
	size_t	total = strlen(s);
	size_t	label = 0;
	char	prev = '.';

	if (total == 0 || total > 253)
		return false;
	for (; *s; s++) {
		char	c = *s;

		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			   || (c >= '0' && c <= '9') || c == '-') {
			if (label == 0 && c == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		prev = c;
	}
	return label > 0 && prev != '-';
}

/* dkim_tabtext_glob - does s match p ('*' matches any run, all else literal) */
bool
dkim_tabtext_glob(const char *p, const char *s)
{
	const char *star = NULL;
	const char *resume = NULL;

	/*
	 * The classic greedy matcher with backtracking to the last '*':
	 * linear in practice, O(len(p) * len(s)) at worst, and both are
	 * bounded (a table line; an address of at most 512 bytes).
	 */
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}
