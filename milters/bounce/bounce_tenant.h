/*++
 * NAME
 *	bounce_tenant 3h
 * SUMMARY
 *	the tenant table: a sender domain or SASL login, its own bounce
 *	domain and options
 * SYNOPSIS
 *	#include "bounce_tenant.h"
 * DESCRIPTION
 *	bounce_tenant_table names a file in the style of OpenDKIM's tables:
 *	one tenant a line, '#' starts a comment, fields separated by
 *	blanks:
 *
 *	    # KEY               BOUNCE-DOMAIN          OPTIONS
 *	    acme.example        bounces.acme.example   unsubscribe
 *	    .acme.example       bounces.acme.example
 *	    big.example         bounces.big.example    secret=/etc/postmill/big.new,secret=/etc/postmill/big.old
 *	    login:bob           -
 *
 *	KEY is a sender domain (the envelope sender's domain, exactly),
 *	.DOMAIN or *.DOMAIN (any subdomain of DOMAIN, at any depth, not
 *	DOMAIN itself: OpenDKIM's leading dot; list both lines for both),
 *	or login:NAME (the SASL login, {auth_authen}). The most specific
 *	match wins: a login, then the exact domain, then the longest
 *	.DOMAIN. The key, lower case ("*." written as "."), is the tenant's
 *	name: the name postmillctl tenant takes, the scope of its
 *	suppression list ("t:NAME"), the key of its counters and of its
 *	pause.
 *	BOUNCE-DOMAIN is the domain of the tenant's tagged envelope senders
 *	(b-TAG@BOUNCE-DOMAIN; its MX must be us), or "-" for the global
 *	bounce_domain. OPTIONS, comma- or blank-separated: "unsubscribe"
 *	(RFC 8058 one-click List-Unsubscribe on the tenant's mail); "track"
 *	(open and click tracking of its HTML mail, bounce_track.h);
 *	"secret=PATH" (an absolute path without blanks or commas; up to
 *	BOUNCE_KEYS_MAX of them): the tenant's own secrets, in the format
 *	and with the rotation of bounce_secret_files (the first signs, all
 *	verify; bounce_keys.h), from which the keys of its bounce domain
 *	are derived instead of from bounce_secret_files. It needs the
 *	tenant's own bounce domain, and tenants that share a bounce domain
 *	must list the same secrets (the state loader checks that, and the
 *	files, with this file's line).
 *
 *	bounce_tenant_parse() is pure (the fuzz target and tests call it):
 *	it adds every problem to el as "path:line: problem" and returns the
 *	number of problems. bounce_tenant_load() reads the file first.
 *	bounce_tenant_find() is the tenant of a message, or NULL.
 *	bounce_tenants_free() takes NULL, returns NULL.
 * THREAD SAFETY
 *	A loaded table is immutable and belongs to a configuration snapshot.
 *--*/
#ifndef POSTMILL_BOUNCE_TENANT_H
#define POSTMILL_BOUNCE_TENANT_H

#include <stdbool.h>
#include <stddef.h>

#include "errlist.h"

#define BOUNCE_TENANT_MAX	100000		/* lines with a tenant */
#define BOUNCE_TENANT_LINE_MAX	1024		/* octets of one line */
#define BOUNCE_TENANT_NAME_MAX	(6 + 256)	/* "login:" + a login */
#define BOUNCE_TENANT_FILE_MAX	(16 * 1024 * 1024)

struct bounce_tenant {
	char		*name;		/* the key, lower case */
	bool		 is_login;	/* login:NAME, else a sender domain */
	bool		 subdomains;	/* .DOMAIN: its subdomains */
	char		*bounce_domain;	/* normalized, or NULL: the global one */
	bool		 unsubscribe;	/* RFC 8058 headers on its mail */
	char	       **secrets;	/* secret=PATH, in order; NULL: none */
	size_t		 nsecrets;
	bool		 track;		/* open and click tracking */
	unsigned	 line;		/* where it was defined */
};

struct bounce_tenants {
	struct bounce_tenant *t;
	size_t		 n;
};

int	bounce_tenant_parse(const char *text, size_t len, const char *path,
			    struct bounce_tenants *out, struct errlist *el);
struct bounce_tenants *bounce_tenant_load(const char *path, struct errlist *el);
const struct bounce_tenant *bounce_tenant_find(const struct bounce_tenants *t,
					       const char *login,
					       const char *sender);
const struct bounce_tenant *bounce_tenant_by_name(const struct bounce_tenants *t,
						  const char *name);
struct bounce_tenants *bounce_tenants_free(struct bounce_tenants *t);

#endif
