/*++
 * NAME
 *	auth_psl 3
 * SUMMARY
 *	Public Suffix List: the RFC 7489 organizational domain
 * DESCRIPTION
 *	See auth_psl.h. Rules are kept as written ("co.uk", "*.ck",
 *	"!www.ck") in one sorted array; a lookup tries, for each suffix of
 *	the domain, the exception, exact and wildcard forms with bsearch().
 *--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "auth_psl.h"
#include "xalloc.h"

struct auth_psl {
	char	**rules;
	size_t	  n;
};

/* psl_cmp - qsort/bsearch on strings */
static int
psl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* psl_has - is this exact rule text in the list */
static int
psl_has(const struct auth_psl *psl, const char *rule)
{
	return bsearch(&rule, psl->rules, psl->n, sizeof(char *), psl_cmp) != NULL;
}

/* psl_rule - one line's rule as an A-label string, or NULL to skip */
static char *
psl_rule(char *line)
{
	char *s = line, *e, *ascii = NULL, *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || (s[0] == '/' && s[1] == '/'))
		return NULL;
	for (e = s; *e && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n'; e++)
		;
	*e = '\0';
	for (p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (*p != '\0') {
		/* an IDN rule; the prefix "!" or "*." stays ASCII */
		size_t pre = s[0] == '!' ? 1 : (s[0] == '*' && s[1] == '.') ? 2 : 0;
		char *conv;

		if (idn2_to_ascii_8z(s + pre, &conv, IDN2_NONTRANSITIONAL) != IDN2_OK)
			return NULL;
		ascii = xmalloc(pre + strlen(conv) + 1);
		memcpy(ascii, s, pre);
		strcpy(ascii + pre, conv);
		idn2_free(conv);
	} else {
		ascii = xstrdup(s);
	}
	for (p = ascii; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return ascii;
}

/* auth_psl_load - see auth_psl.h */
struct auth_psl *
auth_psl_load(const char *path, struct errlist *el)
{
	struct auth_psl *psl;
	FILE *fp;
	char line[1024];
	size_t cap = 0;
	long lineno = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		errlist_add_at(el, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	psl = xcalloc(1, sizeof(*psl));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *r;

		lineno++;
		if ((r = psl_rule(line)) == NULL)
			continue;
		if (psl->n >= AUTH_PSL_RULES_MAX) {
			errlist_add_at(el, path, (int)lineno, "more than %d rules",
				       AUTH_PSL_RULES_MAX);
			free(r);
			break;
		}
		if (psl->n == cap) {
			cap = cap ? cap * 2 : 1024;
			psl->rules = xrealloc(psl->rules, cap * sizeof(char *));
		}
		psl->rules[psl->n++] = r;
	}
	fclose(fp);
	if (psl->n == 0) {
		errlist_add_at(el, path, 0, "no rules in the public suffix list");
		return auth_psl_free(psl);
	}
	qsort(psl->rules, psl->n, sizeof(char *), psl_cmp);
	return psl;
}

/* auth_psl_free - release the list */
struct auth_psl *
auth_psl_free(struct auth_psl *psl)
{
	size_t i;

	if (psl == NULL)
		return NULL;
	for (i = 0; i < psl->n; i++)
		free(psl->rules[i]);
	free(psl->rules);
	free(psl);
	return NULL;
}

/* auth_psl_count - rules loaded */
size_t
auth_psl_count(const struct auth_psl *psl)
{
	return psl ? psl->n : 0;
}

/* auth_psl_org_domain - see auth_psl.h */
int
auth_psl_org_domain(const struct auth_psl *psl, const char *domain,
		    char *buf, size_t size)
{
	const char *suffix = NULL, *s, *dot;
	char cand[300];
	size_t i;

	/* each suffix of the domain, longest first: the first match is the longest */
	for (s = domain; s != NULL; s = (dot = strchr(s, '.')) ? dot + 1 : NULL) {
		snprintf(cand, sizeof(cand), "!%s", s);
		if (psl_has(psl, cand)) {
			/* exception: the public suffix is the rule minus its first label */
			suffix = strchr(s, '.');
			suffix = suffix ? suffix + 1 : s;
			break;
		}
		if (psl_has(psl, s)) {
			suffix = s;
			break;
		}
		dot = strchr(s, '.');
		if (dot != NULL) {
			snprintf(cand, sizeof(cand), "*.%s", dot + 1);
			if (psl_has(psl, cand)) {
				suffix = s;
				break;
			}
		}
	}
	if (suffix == NULL) {
		/* the implicit "*" rule: the last label */
		suffix = strrchr(domain, '.');
		suffix = suffix ? suffix + 1 : domain;
	}
	/* one more label to the left of the suffix */
	if (suffix == domain) {
		s = domain;
	} else {
		for (i = (size_t)(suffix - domain) - 1; i > 0 && domain[i - 1] != '.'; i--)
			;
		s = domain + i;
	}
	if ((size_t)snprintf(buf, size, "%s", s) >= size)
		return -1;
	return 0;
}
