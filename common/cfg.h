/*++
 * NAME
 *	cfg 3h
 * SUMMARY
 *	the one configuration parser, driven by tables of parameters
 * SYNOPSIS
 *	#include "cfg.h"
 * DESCRIPTION
 *	postmill.conf has Postfix's main.cf form: "name = value" lines, "#"
 *	comment lines, blank lines, and continuation lines that start with
 *	white space. There is no $name expansion.
 *
 *	Each parameter is one row of a struct cfg_param table: name, type,
 *	default (as text a user would write), the offset of its variable in
 *	the section's values struct, bounds, and a one-line doc. A section
 *	groups the rows of one daemon (names start with its prefix, "dkim_")
 *	or the shared rows (prefix ""). Nothing else holds a default: the same
 *	rows drive loading, "postmillctl config", the example file and the man
 *	pages.
 *
 *	cfg_load() parses the file once for the given sections and reports
 *	every problem into the errlist as "path:line: name = value: problem":
 *	unknown names, duplicates, bad values, out-of-range values, a missing
 *	file. A name that carries the prefix of a daemon whose section is not
 *	being loaded (cfg_known_prefixes) is skipped: that daemon checks it.
 *	On success each values[i] points to a new struct of sections[i]->size
 *	bytes; free it with cfg_values_free(). On failure nothing is returned.
 *
 *	Types and their C variables:
 *	CFG_STR  char * (NULL when the value is empty)
 *	CFG_SECRET char *, as CFG_STR; cfg_write_values() prints a set value as
 *		 "<hidden>" (passwords: "postmillctl config" output ends up in
 *		 tickets and chat). cfg_format_value() gives the real value.
 *	CFG_BOOL bool; yes/no, true/false, on/off, 1/0
 *	CFG_INT  long long, bounded by min/max
 *	CFG_TIME long long milliseconds; units ms, s, m, h, d, w; a bare number
 *		 is in the row's unit ("ms" or "s", default "s")
 *	CFG_SIZE long long bytes; units b, k, m, g (powers of 1024)
 *	CFG_ENUM int, the code of the word in the row's name_code table
 *		 (choices; words compare without case). The table ties each
 *		 word to its enum value, so no list depends on another's order.
 *	CFG_LIST struct cfg_list; words separated by commas and/or white space
 *	CFG_CIDR struct cidr_list; addresses or networks, IPv4 and IPv6
 *	CFG_MODE long long, an octal file mode such as 0660
 * THREAD SAFETY
 *	A loaded values struct is immutable; share it freely between threads.
 *--*/
#ifndef POSTMILL_CFG_H
#define POSTMILL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cidr.h"
#include "errlist.h"
#include "name_code.h"

enum cfg_type {
	CFG_STR, CFG_BOOL, CFG_INT, CFG_TIME, CFG_SIZE, CFG_ENUM, CFG_LIST,
	CFG_CIDR, CFG_MODE, CFG_SECRET,
};

/* what cfg_write_values() prints for a CFG_SECRET that is set */
#define CFG_HIDDEN	"<hidden>"


struct cfg_list {
	char  **items;
	size_t  count;
};

struct cfg_param {
	const char	*name;
	enum cfg_type	 type;
	const char	*def;		/* default, as a user writes it */
	size_t		 offset;	/* of the variable in the values struct */
	long long	 min;		/* INT/TIME(ms)/SIZE(bytes)/MODE bounds */
	long long	 max;		/* max 0 means no upper bound */
	const struct name_code *choices; /* ENUM: word -> value, NULL-ended */
	const char	*unit;		/* TIME: unit of a bare number, "s" or "ms" */
	const char	*doc;		/* one line, for the example file and man page */
};

struct cfg_section {
	const char		*name;		/* "common", "dkim", ... */
	const char		*prefix;	/* "" or "dkim_" */
	const struct cfg_param	*params;	/* ends with a row whose name is NULL */
	size_t			 size;		/* sizeof the values struct */
	/* cross-parameter checks after every row parsed; may be NULL */
	void			(*validate)(const void *values, const char *path,
					    struct errlist *el);
};

/* every daemon prefix of the suite: names with these belong to some daemon */
extern const char *const cfg_known_prefixes[];

int  cfg_load(const char *path, const struct cfg_section *const *sections,
	      size_t nsections, void **values, struct errlist *el);
/* cfg_defaults - values from the defaults alone (tests, postmillctl -d) */
int  cfg_defaults(const struct cfg_section *section, void **values,
		  struct errlist *el);
void *cfg_values_free(const struct cfg_section *section, void *values);

/* cfg_find - row by full name in a section, or NULL */
const struct cfg_param *cfg_find(const struct cfg_section *section,
				 const char *name);
/* cfg_format_value - the loaded value as config text; caller frees */
char *cfg_format_value(const struct cfg_param *p, const void *values);

/* parsers of single values, shared with table files; 0 or -1 + *why */
int cfg_parse_bool(const char *text, bool *out, const char **why);
int cfg_parse_time(const char *text, const char *unit, long long *ms,
		   const char **why);
int cfg_parse_size(const char *text, long long *bytes, const char **why);

/* writers used by postmillctl and "make check" drift tests */
void cfg_write_example(FILE *fp, const struct cfg_section *const *sections,
		       size_t nsections);
void cfg_write_man(FILE *fp, const struct cfg_section *section);
/* non-default values only (postconf -n) or all values (postconf);
 * secrets masked */
void cfg_write_values(FILE *fp, const struct cfg_section *section,
		      const void *values, bool non_default_only);

void cfg_list_free(struct cfg_list *list);
bool cfg_list_contains(const struct cfg_list *list, const char *word,
		       bool nocase);

#endif
