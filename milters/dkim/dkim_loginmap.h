/*++
 * NAME
 *	dkim_loginmap 3h
 * SUMMARY
 *	who may sign as which From address (Postfix smtpd_sender_login_maps form)
 * SYNOPSIS
 *	#include "dkim_loginmap.h"
 * DESCRIPTION
 *	The sender login map says which SASL logins own which addresses, in
 *	the source form of a Postfix hash: table used as
 *	smtpd_sender_login_maps (postconf(5)), so the operator's existing
 *	file is read as it is:
 *
 *	    # address            owners
 *	    alice@example.com    alice
 *	    @example.com         admin, postmaster
 *	    example.org          bob carol
 *
 *	Syntax follows postmap(1) / Postfix table(5) text: a logical line
 *	starts with non-whitespace; a line that starts with whitespace
 *	continues the previous logical line; blank lines and lines whose
 *	first non-whitespace character is '#' are ignored ('#' elsewhere is
 *	data, as in Postfix). The key is the first word, the owners are the
 *	rest, separated by commas and/or whitespace.
 *
 *	Keys: "user@domain", "@domain", or a bare "domain" (it must contain
 *	a dot), which is taken as "@domain". Keys are case-insensitive, as
 *	postmap lowercases them. A bare user name ("alice"), which Postfix
 *	matches only for addresses in $myorigin/$mydestination, is refused:
 *	this milter does not know those domains, so write "alice@domain".
 *	A key listed twice is an error (postmap warns and keeps the first).
 *
 *	dkim_loginmap_parse() reads the text of one table (path is only for
 *	messages) and adds one "path:line: problem" message to el per
 *	problem; it returns NULL if it added any. delimiters is Postfix's
 *	recipient_delimiter (a set of characters, NULL or "" for none).
 *
 *	dkim_loginmap_check() looks up the From address like
 *	reject_sender_login_mismatch does: the full address, then (when
 *	delimiters are set) the address without its extension
 *	("user+ext" -> "user"), then "@domain". The first key found decides;
 *	a less specific key is not consulted when a more specific one exists
 *	but does not list the login. Address matching is case-insensitive
 *	(local part included, as with postmap keys).
 *
 *	The login is compared exactly, case included: SASL user names are
 *	case-sensitive in most backends (Cyrus sasldb, Dovecot passdb without
 *	auth_username_format=%Lu, LDAP uid with a case-exact rule), so
 *	"Alice" and "alice" may be two accounts, and folding case could let
 *	one sign as the other. List the name as the server reports it in
 *	{auth_authen}.
 *
 *	Results: DKIM_LOGINMAP_ALLOWED (login listed), DKIM_LOGINMAP_NOT_LISTED
 *	(the address has owners, this login, or no login, is not one),
 *	DKIM_LOGINMAP_NO_ENTRY (no key for the address; also for a NULL map
 *	or an empty domain). When matched_key is not NULL it receives the key
 *	that decided (borrowed from the map), or NULL.
 *	dkim_loginmap_allows() is check() == DKIM_LOGINMAP_ALLOWED.
 * THREAD SAFETY
 *	Read-only after parse: any number of threads may look up at once.
 * MEMORY
 *	dkim_loginmap_parse() returns a map the caller frees with
 *	dkim_loginmap_free(), which takes NULL and returns NULL.
 *--*/
#ifndef POSTMILL_DKIM_LOGINMAP_H
#define POSTMILL_DKIM_LOGINMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "errlist.h"

struct dkim_loginmap;

enum dkim_loginmap_result {
	DKIM_LOGINMAP_NO_ENTRY,		/* no key for this address */
	DKIM_LOGINMAP_NOT_LISTED,	/* key found; login is not an owner */
	DKIM_LOGINMAP_ALLOWED,		/* key found; login is an owner */
};

struct dkim_loginmap *dkim_loginmap_parse(const char *path, const char *text,
					  size_t len, const char *delimiters,
					  struct errlist *el);
struct dkim_loginmap *dkim_loginmap_free(struct dkim_loginmap *map);
enum dkim_loginmap_result dkim_loginmap_check(const struct dkim_loginmap *map,
					      const char *local,
					      const char *domain,
					      const char *login,
					      const char **matched_key);
bool dkim_loginmap_allows(const struct dkim_loginmap *map, const char *local,
			  const char *domain, const char *login);
/* dkim_loginmap_count - number of keys, for "postmillctl dkim check" */
size_t dkim_loginmap_count(const struct dkim_loginmap *map);
const char *dkim_loginmap_result_name(enum dkim_loginmap_result r);

#endif
