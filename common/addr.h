/*++
 * NAME
 *	addr 3h
 * SUMMARY
 *	strict parsers for From-style header values and SMTP envelope paths
 * SYNOPSIS
 *	#include "addr.h"
 * DESCRIPTION
 *	These parsers read untrusted text. They are strict on purpose: DKIM
 *	chooses the signing key by the From domain and DMARC needs exactly one
 *	From address (RFC 6376 §8.15, RFC 7489 §6.6.1); a lenient parser that
 *	reads a different domain than the recipient's mail reader is how From
 *	spoofing gets past both. Anything ambiguous is ADDR_SYNTAX.
 *
 *	addr_parse_mailbox_list() parses the value (without "From:") of a
 *	From, Sender or Reply-To header field: RFC 5322 §3.4 address-list
 *	including the obsolete syntax of §4.4 (CFWS around dots and "@",
 *	routes in angle addresses, empty list elements) and groups (RFC 6854
 *	allows a group in From). Group members count as mailboxes; a group
 *	itself yields none. Comments may nest ADDR_COMMENT_DEPTH_MAX deep.
 *	Folding is CRLF or a bare LF followed by SP or HTAB; a single line
 *	break at the very end of the value is ignored. UTF-8 is accepted in
 *	display names, comments, quoted strings and local parts (RFC 6532);
 *	local parts must be valid UTF-8. Display names and comments may hold
 *	other 8-bit bytes (old mailers write raw Latin-1 there; it does not
 *	change the address). Control characters and NUL are always errors.
 *	Lines longer than 998 octets are not an error here: the limit
 *	(RFC 5322 §2.1.1) is about transport and makes no address ambiguous.
 *	max_mailboxes bounds the result (0 means ADDR_MAILBOXES_MAX, and
 *	larger values are clamped to it); the parser stops at the first
 *	mailbox over the limit and returns ADDR_TOO_MANY.
 *	Result: ADDR_OK with out->count >= 1; ADDR_EMPTY when the value is
 *	empty, only CFWS, or only empty groups ("Undisclosed:;"); ADDR_SYNTAX
 *	with *why set (also for ",,,": commas but no address at all).
 *	On anything but ADDR_OK out is { NULL, 0 }.
 *
 *	addr_parse_path() parses a MAIL FROM / RCPT TO path as the MTA gives
 *	it (RFC 5321 §4.1.2): "<local@domain>", "<@route,@route:local@domain>",
 *	"<>" (the null path: *is_null = true, ADDR_OK, fields NULL) or the
 *	address without brackets, as Postfix may pass it. No whitespace or
 *	comments are allowed. SMTPUTF8 (RFC 6531) local parts and domains are
 *	accepted. An empty string is ADDR_EMPTY. "<postmaster>" has no domain
 *	and is ADDR_SYNTAX ("missing @"); callers that must accept it check
 *	for it themselves.
 *
 *	In struct addr_mailbox, local is the local part with quotes removed
 *	and quoted-pairs unescaped (and folding removed), so "john doe"@x
 *	gives `john doe`. domain is lowercase ASCII, U-labels converted to
 *	A-labels (libidn2, IDN2_NONTRANSITIONAL), one trailing dot removed;
 *	a domain literal keeps its brackets ("[192.0.2.1]",
 *	"[ipv6:2001:db8::1]") so callers can tell it from a name. display is
 *	the display name as written (quotes, encoded-words and any comments
 *	inside it kept, CR and LF of folding removed), or NULL when there is
 *	none; it is for logging, and must be escaped before it is logged.
 *	Domain literals must be IPv4 or "IPv6:" address literals (RFC 5321
 *	§4.1.3) in both parsers: a literal is useless for DKIM and DMARC
 *	anyway, so anything else is more likely an attack than a mailbox.
 *
 *	why is set to a short static English reason on ADDR_SYNTAX and
 *	ADDR_TOO_MANY, and to NULL otherwise; why may be NULL.
 *
 *	addr_domain_normalize() returns a new lowercase A-label copy of a
 *	domain name (or a validated domain literal) with one trailing dot
 *	removed: labels of letters, digits and hyphens, 1..63 octets, not
 *	starting or ending with a hyphen, at most ADDR_DOMAIN_MAX octets in
 *	all. It returns NULL and sets *why on error. It is idempotent, and
 *	every domain the parsers return passes it unchanged.
 *
 *	addr_domain_is_subdomain() is true when child equals parent or ends
 *	with "." parent, ignoring ASCII case. Both should be normalized. A
 *	domain literal matches only itself; empty or NULL strings never match.
 *
 *	addr_status_str() names a status for log lines and test messages.
 * MEMORY
 *	addr_list_free() frees the mailboxes and resets the list; the struct
 *	addr_list itself is the caller's. addr_mailbox_free() does the same
 *	for one mailbox. Both take NULL. The caller frees the result of
 *	addr_domain_normalize() with free() or xfree().
 * THREAD SAFETY
 *	All functions are reentrant; they keep no state.
 *--*/
#ifndef POSTMILL_ADDR_H
#define POSTMILL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Hard caps, independent of configuration. They bound work and memory on
 * hostile input; real mail comes nowhere near them.
 */
#define ADDR_VALUE_MAX		65536	/* header value octets */
#define ADDR_PATH_MAX		2048	/* envelope path octets */
#define ADDR_MAILBOXES_MAX	1000	/* mailboxes in one header value */
#define ADDR_COMMENT_DEPTH_MAX	16	/* nested comments */
#define ADDR_LOCAL_MAX		512	/* local part octets; SRS/VERP exceed 64 */
#define ADDR_DOMAIN_MAX		253	/* RFC 1035, without the trailing dot */
#define ADDR_LABEL_MAX		63

struct addr_mailbox {
	char	*local;		/* unquoted local part */
	char	*domain;	/* lowercase A-label, or "[literal]" */
	char	*display;	/* display name as written, or NULL */
};

struct addr_list {
	struct addr_mailbox *items;
	size_t	 count;
};

enum addr_status {
	ADDR_OK,
	ADDR_EMPTY,		/* no mailbox at all */
	ADDR_SYNTAX,		/* malformed; *why says how */
	ADDR_TOO_MANY,		/* more than max_mailboxes */
};

enum addr_status addr_parse_mailbox_list(const char *value, size_t len,
					 size_t max_mailboxes,
					 struct addr_list *out,
					 const char **why);
void addr_list_free(struct addr_list *list);

enum addr_status addr_parse_path(const char *path, size_t len,
				 struct addr_mailbox *out, bool *is_null,
				 const char **why);
void addr_mailbox_free(struct addr_mailbox *m);

char *addr_domain_normalize(const char *domain, const char **why);
bool addr_domain_is_subdomain(const char *child, const char *parent);
const char *addr_status_str(enum addr_status status);

#endif
