/*++
 * NAME
 *	cfg 3
 * SUMMARY
 *	the one configuration parser, driven by tables of parameters
 * DESCRIPTION
 *	See cfg.h for the file format and the types. This module owns the
 *	values structs it allocates; cfg_values_free() releases one.
 *
 *	Logical lines follow Postfix's main.cf rules: a line that starts with
 *	white space continues the previous logical line, a line whose first
 *	non-blank character is '#' is a comment, blank lines are ignored.
 *	Trailing white space (and the CR of CRLF) is dropped from every
 *	line, so continuation lines are joined with exactly one space. A
 *	logical line is limited to CFG_MAX_LINE bytes so that a runaway file
 *	cannot eat memory.
 *
 *	Errors never stop the scan: every problem in the file is reported.
 *--*/
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "cfg.h"
#include "xalloc.h"

#define CFG_MAX_LINE	65536		/* 64 KiB */
#define CFG_MAX_PARAMS	512

#define CFG_QUOTE_(x)	#x
#define CFG_QUOTE(x)	CFG_QUOTE_(x)
static const char cfg_too_long[] =
	"line longer than " CFG_QUOTE(CFG_MAX_LINE) " bytes";

const char *const cfg_known_prefixes[] = {
	"dkim_", "limit_", "auth_", "bounce_", "exporter_", "events_", "suite_",
	NULL,
};

/* cfg_slot - address of a row's variable inside a values struct */
static void *
cfg_slot(const struct cfg_param *p, void *values)
{
	return (char *)values + p->offset;
}

/* cfg_parse_bool - yes/no and friends */
int
cfg_parse_bool(const char *text, bool *out, const char **why)
{
	/* aliases, words compared without case; "yes" and "no" are what
	 * cfg_format_value() writes */
	static const struct name_code words[] = {
		{"yes", 1}, {"true", 1}, {"on", 1}, {"1", 1},
		{"no", 0}, {"false", 0}, {"off", 0}, {"0", 0},
		{NULL, -1},
	};
	int v = name_code(words, NAME_CODE_FLAG_NOCASE, text);

	if (v < 0) {
		*why = "expected yes or no";
		return -1;
	}
	*out = v == 1;
	return 0;
}

/* cfg_parse_number - leading unsigned decimal number; *end at the unit */
static int
cfg_parse_number(const char *text, long long *out, const char **end,
		 const char **why)
{
	char *e;

	if (!isdigit((unsigned char)text[0])) {
		*why = "expected a number";
		return -1;
	}
	errno = 0;
	*out = strtoll(text, &e, 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -1;
	}
	*end = e;
	return 0;
}

/* cfg_mul - multiply with overflow check */
static int
cfg_mul(long long a, long long b, long long *out, const char **why)
{
	if (__builtin_mul_overflow(a, b, out)) {
		*why = "number too large";
		return -1;
	}
	return 0;
}

/* cfg_parse_time - "250ms", "30s", "5m", "1h", "2d", "1w"; result in ms */
int
cfg_parse_time(const char *text, const char *unit, long long *ms,
	       const char **why)
{
	static const struct {
		const char *name;
		long long ms;
	} units[] = {
		{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
		{"d", 86400000}, {"w", 604800000}, {NULL, 0},
	};
	const char *u;
	long long n;

	if (cfg_parse_number(text, &n, &u, why) < 0)
		return -1;
	if (*u == '\0')
		u = unit ? unit : "s";
	for (int i = 0; units[i].name; i++)
		if (strcasecmp(u, units[i].name) == 0)
			return cfg_mul(n, units[i].ms, ms, why);
	*why = "unknown time unit (ms, s, m, h, d, w)";
	return -1;
}

/* cfg_parse_size - "512", "64k", "10m", "1g" (powers of 1024) */
int
cfg_parse_size(const char *text, long long *bytes, const char **why)
{
	const char *u;
	long long n, mul;

	if (cfg_parse_number(text, &n, &u, why) < 0)
		return -1;
	switch (tolower((unsigned char)*u)) {
	case '\0': mul = 1; break;
	case 'b': mul = 1; break;
	case 'k': mul = 1024; break;
	case 'm': mul = 1024 * 1024; break;
	case 'g': mul = 1024 * 1024 * 1024; break;
	default:
		*why = "unknown size unit (k, m, g)";
		return -1;
	}
	if (*u != '\0' && u[1] != '\0' && !(tolower((unsigned char)u[1]) == 'b'
					  && u[2] == '\0' && mul > 1)) {
		*why = "unknown size unit (k, m, g)";
		return -1;
	}
	return cfg_mul(n, mul, bytes, why);
}

/* cfg_split_words - comma/white-space separated words */
static void
cfg_split_words(const char *text, struct cfg_list *out)
{
	const char *p = text;

	out->items = NULL;
	out->count = 0;
	while (*p) {
		size_t n;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\r\n");
		out->items = xrealloc(out->items, (out->count + 1) * sizeof(char *));
		out->items[out->count++] = xstrndup(p, n);
		p += n;
	}
}

static char *cfg_format_time(long long);
static char *cfg_format_size(long long);

/* cfg_format_bound - a min or max as the user would write it */
static char *
cfg_format_bound(const struct cfg_param *p, long long v)
{
	switch (p->type) {
	case CFG_TIME:
		return cfg_format_time(v);
	case CFG_SIZE:
		return cfg_format_size(v);
	case CFG_MODE:
		return xasprintf("%04llo", v);
	default:
		return xasprintf("%lld", v);
	}
}

/* cfg_check_bounds - min/max of a numeric row; the message names the bound */
static int
cfg_check_bounds(const struct cfg_param *p, long long v, const char **why,
		 char *whybuf, size_t whylen)
{
	bool low = v < p->min;
	char *bound;

	if (!low && (p->max == 0 || v <= p->max))
		return 0;
	bound = cfg_format_bound(p, low ? p->min : p->max);
	snprintf(whybuf, whylen, "value %s (%s)",
		 low ? "below the minimum" : "above the maximum", bound);
	free(bound);
	*why = whybuf;
	return -1;
}

/* cfg_enum_words - an enum row's words as "a|b|c", for errors and docs;
 * truncated to len (the tables have a few short words) */
static void
cfg_enum_words(const struct cfg_param *p, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (const struct name_code *np = p->choices; np->name; np++) {
		int n = snprintf(buf + used, len - used, "%s%s",
				 np == p->choices ? "" : "|", np->name);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}

/* cfg_set - parse text into a row's variable; 0 or -1 with *why */
static int
cfg_set(const struct cfg_param *p, void *values, const char *text,
	const char **why, char *whybuf, size_t whylen)
{
	void *slot = cfg_slot(p, values);
	long long v;

	switch (p->type) {
	case CFG_STR:
	case CFG_SECRET:
		*(char **)slot = *text ? xstrdup(text) : NULL;
		return 0;
	case CFG_BOOL:
		return cfg_parse_bool(text, (bool *)slot, why);
	case CFG_INT: {
		const char *end;

		if (text[0] == '-' ) {
			*why = "negative numbers are not allowed";
			return -1;
		}
		if (cfg_parse_number(text, &v, &end, why) < 0)
			return -1;
		if (*end != '\0') {
			*why = "expected a whole number";
			return -1;
		}
		if (cfg_check_bounds(p, v, why, whybuf, whylen) < 0)
			return -1;
		*(long long *)slot = v;
		return 0;
	}
	case CFG_TIME:
		if (cfg_parse_time(text, p->unit, &v, why) < 0
		    || cfg_check_bounds(p, v, why, whybuf, whylen) < 0)
			return -1;
		*(long long *)slot = v;
		return 0;
	case CFG_SIZE:
		if (cfg_parse_size(text, &v, why) < 0
		    || cfg_check_bounds(p, v, why, whybuf, whylen) < 0)
			return -1;
		*(long long *)slot = v;
		return 0;
	case CFG_MODE: {
		char *end;

		if (*text == '\0' || strspn(text, "01234567") != strlen(text)) {
			*why = "expected an octal mode such as 0660";
			return -1;
		}
		v = strtoll(text, &end, 8);
		if (v > 07777) {
			*why = "expected an octal mode such as 0660";
			return -1;
		}
		if (cfg_check_bounds(p, v, why, whybuf, whylen) < 0)
			return -1;
		*(long long *)slot = v;
		return 0;
	}
	case CFG_ENUM: {
		const struct name_code *np;

		for (np = p->choices; np->name; np++)
			if (strcasecmp(np->name, text) == 0) {
				*(int *)slot = np->code;
				return 0;
			}
		snprintf(whybuf, whylen, "expected one of: ");
		cfg_enum_words(p, whybuf + strlen(whybuf), whylen - strlen(whybuf));
		*why = whybuf;
		return -1;
	}
	case CFG_LIST:
		cfg_split_words(text, (struct cfg_list *)slot);
		return 0;
	case CFG_CIDR: {
		struct cfg_list words;
		struct cidr_list *list = slot;
		const char *cwhy;

		cfg_split_words(text, &words);
		list->items = xcalloc(words.count ? words.count : 1,
				      sizeof(struct cidr));
		list->count = 0;
		for (size_t i = 0; i < words.count; i++) {
			if (cidr_parse(words.items[i], &list->items[list->count],
				       &cwhy) < 0) {
				snprintf(whybuf, whylen, "\"%s\": %s",
					 words.items[i], cwhy);
				*why = whybuf;
				cfg_list_free(&words);
				cidr_list_free(list);
				return -1;
			}
			list->count++;
		}
		cfg_list_free(&words);
		return 0;
	}
	}
	*why = "internal error: unknown parameter type";
	return -1;
}

/* cfg_find - row by full name */
const struct cfg_param *
cfg_find(const struct cfg_section *section, const char *name)
{
	for (const struct cfg_param *p = section->params; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* cfg_free_slot - release what a row's variable owns */
static void
cfg_free_slot(const struct cfg_param *p, void *values)
{
	void *slot = cfg_slot(p, values);

	switch (p->type) {
	case CFG_STR:
	case CFG_SECRET:
		*(char **)slot = xfree(*(char **)slot);
		break;
	case CFG_LIST:
		cfg_list_free((struct cfg_list *)slot);
		break;
	case CFG_CIDR:
		cidr_list_free((struct cidr_list *)slot);
		break;
	default:
		break;
	}
}

/* cfg_values_free - release a values struct; returns NULL */
void *
cfg_values_free(const struct cfg_section *section, void *values)
{
	if (values == NULL)
		return NULL;
	for (const struct cfg_param *p = section->params; p->name; p++)
		cfg_free_slot(p, values);
	free(values);
	return NULL;
}

/* cfg_belongs_elsewhere - name of another daemon's parameter */
static bool
cfg_belongs_elsewhere(const char *name, const struct cfg_section *const *sections,
		      size_t nsections)
{
	for (int i = 0; cfg_known_prefixes[i]; i++) {
		const char *pfx = cfg_known_prefixes[i];
		bool loaded = false;

		if (strncmp(name, pfx, strlen(pfx)) != 0)
			continue;
		for (size_t s = 0; s < nsections; s++)
			if (strcmp(sections[s]->prefix, pfx) == 0)
				loaded = true;
		return !loaded;
	}
	return false;
}

struct cfg_seen {
	const struct cfg_param	*param;
	size_t			 section;
	unsigned		 line;
};

/* cfg_apply_line - one logical "name = value" line */
static void
cfg_apply_line(const char *path, unsigned lineno, char *line,
	       const struct cfg_section *const *sections, size_t nsections,
	       void **values, struct cfg_seen *seen, size_t *nseen,
	       struct errlist *el)
{
	char *eq, *name, *value, *end;
	const struct cfg_param *p = NULL;
	size_t s;
	const char *why;
	char whybuf[256];

	eq = strchr(line, '=');
	if (eq == NULL) {
		errlist_add_at(el, path, lineno, "missing '=' in \"%.60s\"", line);
		return;
	}
	*eq = '\0';
	name = line;
	end = eq;
	while (end > name && isspace((unsigned char)end[-1]))
		*--end = '\0';
	value = eq + 1;
	while (isspace((unsigned char)*value))
		value++;
	end = value + strlen(value);
	while (end > value && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*name == '\0') {
		errlist_add_at(el, path, lineno, "missing parameter name before '='");
		return;
	}
	for (const char *c = name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_') {
			errlist_add_at(el, path, lineno,
				       "bad parameter name \"%.60s\"", name);
			return;
		}
	}
	for (s = 0; s < nsections && p == NULL; s++)
		if ((p = cfg_find(sections[s], name)) != NULL)
			break;
	if (p == NULL) {
		if (!cfg_belongs_elsewhere(name, sections, nsections))
			errlist_add_at(el, path, lineno,
				       "unknown parameter \"%s\"", name);
		return;
	}
	for (size_t i = 0; i < *nseen; i++) {
		if (seen[i].param == p) {
			errlist_add_at(el, path, lineno,
				       "%s: set twice (first at line %u)",
				       name, seen[i].line);
			return;
		}
	}
	if (*nseen >= CFG_MAX_PARAMS) {
		errlist_add_at(el, path, lineno, "too many parameters");
		return;
	}
	/*
	 * Seen even when the value is bad: a second line for the same name is
	 * a mistake of its own, reported in this same run.
	 */
	seen[*nseen].param = p;
	seen[*nseen].section = s;
	seen[*nseen].line = lineno;
	(*nseen)++;
	if (cfg_set(p, values[s], value, &why, whybuf, sizeof(whybuf)) < 0)
		errlist_add_at(el, path, lineno, "%s = \"%.200s\": %s",
			       name, value, why);
}

/* cfg_name_len - length of the parameter name that text starts with */
static int
cfg_name_len(const char *text, size_t len)
{
	size_t n = 0;

	/* bounded: the name only labels an error message */
	while (n < len && n < 64
	       && (isalnum((unsigned char)text[n]) || text[n] == '_'))
		n++;
	return (int)n;
}

/*
 * cfg_read_file - split into logical lines and apply each
 *
 * A logical line that cannot be applied (a NUL byte, longer than
 * CFG_MAX_LINE) is still a logical line: its continuation lines are
 * swallowed with it, so that they do not glue onto the previous parameter
 * and cause a second, false error. Errors come out in line order.
 */
static void
cfg_read_file(const char *path, FILE *fp,
	      const struct cfg_section *const *sections, size_t nsections,
	      void **values, struct cfg_seen *seen, size_t *nseen,
	      struct errlist *el)
{
	char *phys = NULL, *logical = NULL;
	char name[65] = "";		/* of the current logical line */
	const char *bad = NULL;		/* why it cannot be applied */
	size_t physcap = 0, loglen = 0, logcap = 0;
	unsigned lineno = 0, logline = 0, badline = 0;
	bool open = false;		/* a logical line is pending */
	bool nul = false;		/* in the current physical line */
	ssize_t n;

	for (;;) {
		n = getline(&phys, &physcap, fp);
		if (n >= 0) {
			char *p = phys;
			size_t plen;

			lineno++;
			/*
			 * Trailing white space goes (CR of CRLF included),
			 * so that continuation lines join with one space.
			 */
			while (n > 0 && isspace((unsigned char)phys[n - 1]))
				phys[--n] = '\0';
			nul = memchr(phys, '\0', (size_t)n) != NULL;
			while (isspace((unsigned char)*p))
				p++;
			if (p == phys + n)
				continue;			/* blank */
			if (*p == '#') {			/* comment */
				if (nul)
					errlist_add_at(el, path, lineno,
						       "NUL byte in line");
				continue;
			}
			if (p != phys) {
				/* continuation of the current logical line */
				if (!open) {
					errlist_add_at(el, path, lineno,
					    "continuation line without a parameter"
					    " (remove the leading white space)");
					continue;
				}
				if (bad != NULL)
					continue;
				if (nul) {
					bad = "NUL byte in line";
					badline = lineno;
					continue;
				}
				plen = (size_t)n - (size_t)(p - phys);
				if (loglen + 1 + plen > CFG_MAX_LINE) {
					bad = cfg_too_long;
					badline = logline;
					continue;
				}
				if (loglen + plen + 2 > logcap) {
					logcap = loglen + plen + 2 + 256;
					logical = xrealloc(logical, logcap);
				}
				logical[loglen++] = ' ';
				memcpy(logical + loglen, p, plen + 1);
				loglen += plen;
				continue;
			}
		}
		/* a new logical line starts (or the file ends): flush */
		if (open && bad != NULL)
			errlist_add_at(el, path, badline, "%s%s%s", name,
				       *name ? ": " : "", bad);
		else if (open)
			cfg_apply_line(path, logline, logical, sections,
				       nsections, values, seen, nseen, el);
		open = false;
		bad = NULL;
		loglen = 0;
		if (n < 0)
			break;
		open = true;
		logline = lineno;
		snprintf(name, sizeof(name), "%.*s",
			 cfg_name_len(phys, (size_t)n), phys);
		if (nul) {
			bad = "NUL byte in line";
			badline = lineno;
			continue;
		}
		if ((size_t)n > CFG_MAX_LINE) {
			bad = cfg_too_long;
			badline = lineno;
			continue;
		}
		if ((size_t)n + 1 > logcap) {
			logcap = (size_t)n + 256;
			logical = xrealloc(logical, logcap);
		}
		memcpy(logical, phys, (size_t)n + 1);
		loglen = (size_t)n;
	}
	if (ferror(fp))
		errlist_add_at(el, path, 0, "read error: %s", strerror(errno));
	free(phys);
	free(logical);
}

/* cfg_apply_defaults - rows the file did not set */
static void
cfg_apply_defaults(const struct cfg_section *section, size_t s, void *values,
		   const struct cfg_seen *seen, size_t nseen, struct errlist *el)
{
	const char *why;
	char whybuf[256];

	for (const struct cfg_param *p = section->params; p->name; p++) {
		bool set = false;

		for (size_t i = 0; i < nseen; i++)
			if (seen[i].param == p && seen[i].section == s)
				set = true;
		if (set)
			continue;
		if (cfg_set(p, values, p->def ? p->def : "", &why, whybuf,
			    sizeof(whybuf)) < 0)
			errlist_add(el, "internal error: default of %s (\"%s\"): %s",
				    p->name, p->def ? p->def : "", why);
	}
}

/* cfg_load - parse a file for the given sections */
int
cfg_load(const char *path, const struct cfg_section *const *sections,
	 size_t nsections, void **values, struct errlist *el)
{
	struct cfg_seen *seen;
	size_t nseen = 0, before = el->count;
	FILE *fp;

	for (size_t s = 0; s < nsections; s++)
		values[s] = xcalloc(1, sections[s]->size);
	seen = xcalloc(CFG_MAX_PARAMS, sizeof(*seen));
	if ((fp = fopen(path, "r")) == NULL) {
		errlist_add_at(el, path, 0, "cannot open: %s", strerror(errno));
	} else {
		cfg_read_file(path, fp, sections, nsections, values, seen,
			      &nseen, el);
		fclose(fp);
	}
	for (size_t s = 0; s < nsections; s++)
		cfg_apply_defaults(sections[s], s, values[s], seen, nseen, el);
	free(seen);
	if (el->count == before) {
		for (size_t s = 0; s < nsections; s++)
			if (sections[s]->validate)
				sections[s]->validate(values[s], path, el);
	}
	if (el->count != before) {
		for (size_t s = 0; s < nsections; s++)
			values[s] = cfg_values_free(sections[s], values[s]);
		return -1;
	}
	return 0;
}

/* cfg_defaults - a values struct from the defaults alone */
int
cfg_defaults(const struct cfg_section *section, void **values,
	     struct errlist *el)
{
	size_t before = el->count;

	*values = xcalloc(1, section->size);
	cfg_apply_defaults(section, 0, *values, NULL, 0, el);
	if (el->count != before) {
		*values = cfg_values_free(section, *values);
		return -1;
	}
	return 0;
}

/* cfg_format_time - milliseconds in the largest exact unit */
static char *
cfg_format_time(long long ms)
{
	static const struct {
		const char *name;
		long long ms;
	} units[] = {
		{"w", 604800000}, {"d", 86400000}, {"h", 3600000}, {"m", 60000},
		{"s", 1000}, {NULL, 0},
	};

	for (int i = 0; units[i].name && ms != 0; i++)
		if (ms % units[i].ms == 0)
			return xasprintf("%lld%s", ms / units[i].ms, units[i].name);
	return xasprintf("%lldms", ms);
}

/* cfg_format_size - bytes in the largest exact unit */
static char *
cfg_format_size(long long b)
{
	if (b != 0 && b % (1024LL * 1024 * 1024) == 0)
		return xasprintf("%lldg", b / (1024LL * 1024 * 1024));
	if (b != 0 && b % (1024 * 1024) == 0)
		return xasprintf("%lldm", b / (1024 * 1024));
	if (b != 0 && b % 1024 == 0)
		return xasprintf("%lldk", b / 1024);
	return xasprintf("%lld", b);
}

/* cfg_format_value - a loaded value as config text */
char *
cfg_format_value(const struct cfg_param *p, const void *values)
{
	const void *slot = (const char *)values + p->offset;

	switch (p->type) {
	case CFG_STR:
	case CFG_SECRET: {
		const char *s = *(char *const *)slot;

		return xstrdup(s ? s : "");
	}
	case CFG_BOOL:
		return xstrdup(*(const bool *)slot ? "yes" : "no");
	case CFG_INT:
		return xasprintf("%lld", *(const long long *)slot);
	case CFG_TIME:
		return cfg_format_time(*(const long long *)slot);
	case CFG_SIZE:
		return cfg_format_size(*(const long long *)slot);
	case CFG_MODE:
		return xasprintf("%04llo", *(const long long *)slot);
	case CFG_ENUM: {
		const char *word = name_code_str(p->choices, *(const int *)slot);

		return xstrdup(word ? word : "");
	}
	case CFG_LIST: {
		const struct cfg_list *l = slot;
		size_t len = 1;
		char *out;

		for (size_t i = 0; i < l->count; i++)
			len += strlen(l->items[i]) + 2;
		out = xmalloc(len);
		out[0] = '\0';
		for (size_t i = 0; i < l->count; i++) {
			if (i)
				strcat(out, ", ");
			strcat(out, l->items[i]);
		}
		return out;
	}
	case CFG_CIDR: {
		const struct cidr_list *l = slot;
		char *out = xstrdup(""), *next;

		for (size_t i = 0; i < l->count; i++) {
			char a[64];

			inet_ntop(l->items[i].family, l->items[i].addr, a, sizeof(a));
			next = xasprintf("%s%s%s/%u", out, i ? ", " : "", a,
					 l->items[i].prefix);
			free(out);
			out = next;
		}
		return out;
	}
	}
	return xstrdup("");
}

/* cfg_write_example - every parameter, its default and its doc */
void
cfg_write_example(FILE *fp, const struct cfg_section *const *sections,
		  size_t nsections)
{
	fprintf(fp,
		"# postmill.conf - configuration of the postmill milters.\n"
		"#\n"
		"# Generated by \"postmillctl config example\" from the parameter\n"
		"# tables; \"make check\" fails when this file and the tables differ.\n"
		"#\n"
		"# Format: Postfix main.cf style. \"name = value\"; lines starting with\n"
		"# white space continue the previous line; \"#\" starts a comment line.\n"
		"# Times take ms, s, m, h, d, w; sizes take k, m, g. Every line below\n"
		"# shows the default: uncomment and edit only what you change.\n");
	for (size_t s = 0; s < nsections; s++) {
		fprintf(fp, "\n# ==== %s ====\n", sections[s]->name);
		for (const struct cfg_param *p = sections[s]->params; p->name; p++) {
			fprintf(fp, "\n# %s", p->doc);
			if (p->type == CFG_ENUM) {
				char words[256];

				cfg_enum_words(p, words, sizeof(words));
				fprintf(fp, " (%s)", words);
			}
			fprintf(fp, "\n#%s = %s\n", p->name, p->def ? p->def : "");
		}
	}
}

/* cfg_man_escape - roff-safe text */
static void
cfg_man_escape(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", fp);
		else if (*s == '-')
			fputs("\\-", fp);
		else
			fputc(*s, fp);
	}
}

/* cfg_write_man - the CONFIGURATION PARAMETERS section of a man page */
void
cfg_write_man(FILE *fp, const struct cfg_section *section)
{
	for (const struct cfg_param *p = section->params; p->name; p++) {
		fputs(".TP\n.B ", fp);
		cfg_man_escape(fp, p->name);
		fputs(" (default: ", fp);
		cfg_man_escape(fp, p->def && *p->def ? p->def : "empty");
		fputs(")\n", fp);
		cfg_man_escape(fp, p->doc);
		if (p->type == CFG_ENUM) {
			char words[256];

			cfg_enum_words(p, words, sizeof(words));
			fputs(" One of: ", fp);
			cfg_man_escape(fp, words);
			fputs(".", fp);
		}
		fputs("\n", fp);
	}
}

/* cfg_write_values - "name = value" lines, like postconf [-n]; a secret
 * that is set shows as CFG_HIDDEN, so that whether it is set still shows */
void
cfg_write_values(FILE *fp, const struct cfg_section *section,
		 const void *values, bool non_default_only)
{
	void *defaults = NULL;
	struct errlist el = ERRLIST_INIT;

	if (non_default_only && cfg_defaults(section, &defaults, &el) < 0) {
		errlist_free(&el);
		return;
	}
	for (const struct cfg_param *p = section->params; p->name; p++) {
		char *v = cfg_format_value(p, values);

		if (defaults != NULL) {
			char *d = cfg_format_value(p, defaults);
			bool same = strcmp(v, d) == 0;

			free(d);
			if (same) {
				free(v);
				continue;
			}
		}
		fprintf(fp, "%s = %s\n", p->name,
			p->type == CFG_SECRET && *v ? CFG_HIDDEN : v);
		if (p->type == CFG_SECRET)
			explicit_bzero(v, strlen(v));
		free(v);
	}
	cfg_values_free(section, defaults);
	errlist_free(&el);
}

/* cfg_list_free - release the words; the struct is the caller's */
void
cfg_list_free(struct cfg_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* cfg_list_contains - is word in the list */
bool
cfg_list_contains(const struct cfg_list *list, const char *word, bool nocase)
{
	for (size_t i = 0; i < list->count; i++)
		if ((nocase ? strcasecmp : strcmp)(list->items[i], word) == 0)
			return true;
	return false;
}
