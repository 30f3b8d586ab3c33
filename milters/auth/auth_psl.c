/*++
 * NAME
 *	auth_psl 3
 * SUMMARY
 *	Public Suffix List: the RFC 7489 organizational domain
 * DESCRIPTION
 *	See auth_psl.h. The list is Debian's libpsl reading the file it is
 *	given (psl_load_file(): the publicsuffix.org text format, or libpsl's
 *	DAFSA); libpsl does the rule matching (wildcards, exceptions, IDN
 *	rules in both forms, the implicit "*" rule), we only turn its
 *	"registrable domain" into RFC 7489's organizational domain.
 *--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "auth_psl.h"
#include "xalloc.h"

struct auth_psl {
	psl_ctx_t *ctx;
	size_t	   n;			/* rules libpsl reports, 0 if unknown */
};

/* auth_psl_load - see auth_psl.h */
struct auth_psl *
auth_psl_load(const char *path, struct errlist *el)
{
	struct auth_psl *psl;
	psl_ctx_t *ctx;
	FILE	*fp;
	int	 count;

	/* psl_load_file() says nothing about why: open it once for errno */
	if ((fp = fopen(path, "r")) == NULL) {
		errlist_add_at(el, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	fclose(fp);
	if ((ctx = psl_load_file(path)) == NULL) {
		errlist_add_at(el, path, 0, "not a public suffix list (libpsl cannot load it)");
		return NULL;
	}
	count = psl_suffix_count(ctx);
	if (count == 0) {
		errlist_add_at(el, path, 0, "no rules in the public suffix list");
		psl_free(ctx);
		return NULL;
	}
	psl = xcalloc(1, sizeof(*psl));
	psl->ctx = ctx;
	psl->n = count > 0 ? (size_t)count : 0;	/* -1: a DAFSA file */
	return psl;
}

/* auth_psl_free - release the list */
struct auth_psl *
auth_psl_free(struct auth_psl *psl)
{
	if (psl == NULL)
		return NULL;
	psl_free(psl->ctx);
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
	const char *reg;

	/*
	 * The registrable domain is the public suffix plus one label
	 * (RFC 7489 3.2); libpsl gives NULL when the domain is itself a
	 * public suffix (or has no label left of one): then the domain
	 * is its own organizational domain.
	 */
	reg = psl_registrable_domain(psl->ctx, domain);
	if ((size_t)snprintf(buf, size, "%s", reg ? reg : domain) >= size)
		return -1;
	return 0;
}
