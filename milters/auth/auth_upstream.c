/*++
 * NAME
 *	auth_upstream 3
 * SUMMARY
 *	postmill-auth: received Authentication-Results fields, forged or
 *	trusted
 * DESCRIPTION
 *	See auth_upstream.h. Moved out of the header callback so that the
 *	rules (remove ours, believe only listed ids, only passes) are
 *	tested from a table.
 *--*/

/* System library. */

#include <string.h>

/* Utility library. */

#include "addr.h"
#include "xalloc.h"

/* Application-specific. */

#include "auth_upstream.h"

/* auth_upstream_classify - remove, trust or ignore one received field */
enum auth_upstream_field
auth_upstream_classify(const struct auth_ar *ar, const char *our_id,
		       const struct cfg_list *trusted_ids)
{
	if (ar == NULL)				/* over the limit: not parsed */
		return AUTH_UPSTREAM_REMOVE;
	if (auth_ar_id_is(ar, our_id))
		return AUTH_UPSTREAM_REMOVE;
	if (ar->have_id && cfg_list_contains(trusted_ids, ar->authserv_id, true))
		return AUTH_UPSTREAM_TRUST;
	return AUTH_UPSTREAM_IGNORE;
}

/* auth_upstream_keep - remember the passes of a trusted upstream field */
void
auth_upstream_keep(struct auth_upstream *u, const struct auth_ar *ar)
{
	size_t i;

	for (i = 0; i < ar->nresults; i++) {
		const struct auth_ar_result *r = &ar->results[i];
		const char *v, *why;
		char *d;

		if (strcmp(r->result, "pass") != 0)
			continue;
		if (strcmp(r->method, "dkim") == 0
		    && (v = auth_ar_result_find(r, "header", "d")) != NULL
		    && u->ndkim < AUTH_UPSTREAM_MAX
		    && (d = addr_domain_normalize(v, &why)) != NULL)
			u->dkim[u->ndkim++] = d;
		if (strcmp(r->method, "dmarc") == 0 && u->dmarc_from == NULL
		    && (v = auth_ar_result_find(r, "header", "from")) != NULL)
			u->dmarc_from = addr_domain_normalize(v, &why);
		/* smtp.mailfrom is local@domain or the domain (RFC 8601 2.7.2) */
		if (strcmp(r->method, "spf") == 0 && u->spf_domain == NULL
		    && (v = auth_ar_result_find(r, "smtp", "mailfrom")) != NULL)
			u->spf_domain = addr_domain_normalize(
			    strrchr(v, '@') ? strrchr(v, '@') + 1 : v, &why);
	}
}

/* auth_upstream_clear - free what was kept; empty again */
void
auth_upstream_clear(struct auth_upstream *u)
{
	for (size_t i = 0; i < u->ndkim; i++)
		u->dkim[i] = xfree(u->dkim[i]);
	u->ndkim = 0;
	u->dmarc_from = xfree(u->dmarc_from);
	u->spf_domain = xfree(u->spf_domain);
}
