/*++
 * NAME
 *	auth_psl 3h
 * SUMMARY
 *	Public Suffix List: the RFC 7489 organizational domain
 * SYNOPSIS
 *	#include "auth_psl.h"
 * DESCRIPTION
 *	Only for auth_dmarc_org_domain = psl: RFC 9989 finds organizational
 *	domains by the DNS tree walk; operators who want RFC 7489's method
 *	(section 3.2) keep it with Debian's publicsuffix package.
 *
 *	auth_psl_load() reads a list with Debian's libpsl (libpsl-dev; the
 *	list itself is in the publicsuffix package): the publicsuffix.org
 *	format (one rule per line, "//" comments, "*." wildcards, "!"
 *	exceptions, IDN rules matched as A-labels too) or libpsl's DAFSA
 *	form. It returns NULL and adds a "path: problem" error to el on
 *	failure. auth_psl_count() is the number of rules libpsl reports
 *	(0 for a DAFSA file, which does not say).
 *
 *	auth_psl_org_domain() writes the organizational domain of a
 *	normalized (lowercase A-label) domain into buf: the public suffix
 *	(longest matching rule, an exception rule winning, "*" when none
 *	matches) plus one label. A domain that is itself a public suffix is
 *	its own organizational domain. Returns 0, or -1 when buf is short.
 * MEMORY
 *	auth_psl_free() takes NULL and returns NULL.
 * THREAD SAFETY
 *	A loaded list is immutable; lookups are reentrant.
 *--*/
#ifndef POSTMILL_AUTH_PSL_H
#define POSTMILL_AUTH_PSL_H

#include <stddef.h>

#include "errlist.h"

struct auth_psl;

struct auth_psl *auth_psl_load(const char *path, struct errlist *el);
struct auth_psl *auth_psl_free(struct auth_psl *psl);
size_t	auth_psl_count(const struct auth_psl *psl);
int	auth_psl_org_domain(const struct auth_psl *psl, const char *domain,
			    char *buf, size_t size);

#endif
