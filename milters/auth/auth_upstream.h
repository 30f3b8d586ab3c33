/*++
 * NAME
 *	auth_upstream 3h
 * SUMMARY
 *	postmill-auth: which Authentication-Results fields to remove, and
 *	what a trusted upstream's fields vouch for
 * SYNOPSIS
 *	#include "auth_upstream.h"
 * DESCRIPTION
 *	auth_upstream_classify() decides what becomes of one received
 *	Authentication-Results field (RFC 8601 section 5: a field that
 *	claims our authserv-id is forged and removed before ours is added):
 *	AUTH_UPSTREAM_REMOVE	it claims our authserv-id, or it was not
 *				parsed (over auth_max_ar_headers: whether it
 *				claims our id is unknown, and a field we cannot
 *				vouch for must not sit beside ours);
 *	AUTH_UPSTREAM_TRUST	its authserv-id is in auth_trusted_authserv_ids:
 *				keep its passes with auth_upstream_keep();
 *	AUTH_UPSTREAM_IGNORE	anyone else's: left in the message, believed
 *				for nothing.
 *
 *	auth_upstream_keep() remembers the passes of a trusted field: the
 *	header.d of each dkim=pass (at most AUTH_UPSTREAM_MAX), the
 *	header.from of the first dmarc=pass and the domain of the first
 *	spf=pass smtp.mailfrom, each normalized (addr_domain_normalize);
 *	auth_eom_decide.c lets them count.
 *
 *	Pure: no I/O, no globals.
 * MEMORY
 *	struct auth_upstream owns its strings: auth_upstream_clear() frees
 *	them and leaves it empty, ready for the next message.
 *--*/
#ifndef POSTMILL_AUTH_UPSTREAM_H
#define POSTMILL_AUTH_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_ar.h"
#include "cfg.h"

#define AUTH_UPSTREAM_MAX	16	/* trusted upstream dkim passes kept */

enum auth_upstream_field {
	AUTH_UPSTREAM_IGNORE,
	AUTH_UPSTREAM_REMOVE,
	AUTH_UPSTREAM_TRUST,
};

struct auth_upstream {
	char		*dkim[AUTH_UPSTREAM_MAX];	/* dkim=pass header.d */
	size_t		 ndkim;
	char		*dmarc_from;	/* dmarc=pass header.from */
	char		*spf_domain;	/* spf=pass smtp.mailfrom */
};

enum auth_upstream_field auth_upstream_classify(const struct auth_ar *ar,
						const char *our_id,
						const struct cfg_list *trusted_ids);
void	auth_upstream_keep(struct auth_upstream *u, const struct auth_ar *ar);
void	auth_upstream_clear(struct auth_upstream *u);

#endif
