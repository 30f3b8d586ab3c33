/*++
 * NAME
 *	bounce_tenant_fuzz 1
 * SUMMARY
 *	libFuzzer target for the tenant table parser
 * DESCRIPTION
 *	Feeds the input (no terminating NUL) to bounce_tenant_parse() and
 *	aborts when the result breaks the contract in bounce_tenant.h:
 *	every tenant has a lower-case name and, when set, a bounce domain
 *	with a dot; a .DOMAIN tenant's name starts with the one dot, no
 *	other does; secret= paths are absolute and only with an own bounce
 *	domain; problems are counted exactly; a table without problems
 *	finds each tenant by its own name, and a sender at a subdomain of
 *	a .DOMAIN tenant finds a tenant. ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_tenant.h"
#include "errlist.h"
#include "xalloc.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_tenant_fuzz: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_tenants *t = xcalloc(1, sizeof(*t));
	struct errlist el = ERRLIST_INIT;
	char *copy = malloc(size ? size : 1);
	int n;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	n = bounce_tenant_parse(copy, size, "f", t, &el);
	if (n < 0 || (size_t)n != el.count)
		fuzz_fail("problem count");
	for (size_t i = 0; i < t->n; i++) {
		const struct bounce_tenant *x = &t->t[i];

		for (const char *cp = x->name; *cp; cp++)
			if (*cp >= 'A' && *cp <= 'Z')
				fuzz_fail("upper case name");
		if (x->bounce_domain != NULL && strchr(x->bounce_domain, '.') == NULL)
			fuzz_fail("bounce domain without a dot");
		if (n == 0 && bounce_tenant_by_name(t, x->name) != x)
			fuzz_fail("a tenant not found by its name");
		if (x->subdomains != (x->name[0] == '.') || x->name[x->name[0] == '.'] == '.')
			fuzz_fail("a .DOMAIN name and its flag disagree");
		if (x->nsecrets > 0 && x->bounce_domain == NULL)
			fuzz_fail("secret= without an own bounce domain");
		for (size_t k = 0; k < x->nsecrets; k++)
			if (x->secrets[k][0] != '/')
				fuzz_fail("a relative secret path");
		if (n == 0 && x->subdomains && strlen(x->name) < 250) {
			char sender[300];

			snprintf(sender, sizeof(sender), "a@x%s", x->name);
			if (bounce_tenant_find(t, NULL, sender) == NULL)
				fuzz_fail("a subdomain of a .DOMAIN tenant finds no tenant");
		}
	}
	errlist_free(&el);
	bounce_tenants_free(t);
	free(copy);
	return 0;
}
