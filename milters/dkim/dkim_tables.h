/*++
 * NAME
 *	dkim_tables 3h
 * SUMMARY
 *	which mail is signed with which key: OpenDKIM KeyTable and SigningTable
 * SYNOPSIS
 *	#include "dkim_tables.h"
 * DESCRIPTION
 *	dkim_tables_load() reads the key table, every private key it names,
 *	the signing table and (optionally) the sender login map, and returns
 *	one immutable snapshot. Operators come from OpenDKIM, so the two
 *	tables use OpenDKIM's syntax and the login map is the source file of
 *	a Postfix smtpd_sender_login_maps hash: table.
 *
 *	Table names may carry OpenDKIM's "file:" or "refile:" prefix (the
 *	login map: Postfix's "hash:", "lmdb:", "btree:", "cdb:" or
 *	"texthash:", meaning the text file at that path). Other types (csl:,
 *	db:, dsn:, ldap:, pcre:, mysql:, proxy: ...) are refused.
 *
 *	In the two OpenDKIM tables '#' starts a comment anywhere on a line
 *	(as in OpenDKIM), blank lines are skipped, and the name is separated
 *	from the value by whitespace.
 * KEY TABLE
 *	    # name                       domain:selector:key file
 *	    default._domainkey.example   example.com:s2024:/etc/postmill/keys/example.pem
 *	    hosted                       %:mail:/etc/postmill/keys/hosted.pem
 *
 *	A domain of "%" means "the From domain", substituted at lookup. A "%"
 *	in the key path is replaced by the domain when the domain is fixed
 *	(OpenDKIM does the same); with a "%" domain it is refused, because
 *	every key is read once at load and a per-sender file cannot be.
 *	The path must start with "/", "./" or "../" (relative paths are
 *	relative to the working directory, as in OpenDKIM); OpenDKIM's
 *	inline key data is refused: keys belong in files with mode 0600.
 *	Domain and selector must be LDH names (RFC 6376 section 3.1, 3.5);
 *	domains are stored lowercased, an IDN must be written as A-labels.
 *	Key names are case-sensitive and cannot contain ':' (OpenDKIM's
 *	SigningTable could not name such a key either).
 *
 *	Each key file is read and parsed once (a file named by several
 *	entries is cached by path): PEM ("PRIVATE KEY", "RSA PRIVATE KEY"),
 *	or DER. Refused, each with file:line, key name, path and reason:
 *	missing or unreadable files, anything but a regular file, files over
 *	64 KiB, encrypted keys, public keys, data that does not parse, key
 *	types other than RSA and Ed25519 (RSA-PSS keys included, RFC 8463
 *	and RFC 6376 section 3.3 know rsa-sha256 and ed25519-sha256 only),
 *	RSA keys that fail the pairwise check or are shorter than
 *	min_rsa_bits (RFC 8301 section 3.2 says at least 1024). With
 *	strict_permissions (OpenDKIM's "key data is not secure" rule): key
 *	files readable or writable by group or others, a key's directory
 *	writable by group or others, and any directory above it writable by
 *	group or others unless it has the sticky bit (as /tmp does: others
 *	may add entries there but cannot replace ours).
 * SIGNING TABLE
 *	    # pattern           key name[:signer] ...
 *	    *@example.com       rsa-example ed-example
 *	    *@*.example.com     rsa-example
 *	    john@example.org    john-key:john@example.org
 *	    example.net         hosted
 *
 *	Patterns are matched in line order against the From address, and
 *	the first matching pattern wins. Later lines with the identical
 *	pattern (after the normalisation below) add their keys to it, so
 *	RSA + Ed25519 dual signing is either two names on one line or two
 *	lines with the same pattern. At most DKIM_TABLES_MAX_KEYS keys per
 *	pattern; a name listed twice for one pattern is an error.
 *
 *	Matching lowercases the whole address, local part included, as
 *	OpenDKIM does: "John@Example.COM" matches "john@example.com". The
 *	patterns are lowercased at load too. Pattern forms:
 *	    *@example.com	any local part at exactly example.com
 *	    *@*.example.com	any subdomain of example.com (not example.com)
 *	    user@example.com	one address
 *	    example.com		bare domain: the same as *@example.com
 *	    .example.com	OpenDKIM file: subdomain form: *@*.example.com
 *	    user@.example.com	the same for one user: user@*.example.com
 *	    *			everything (any glob without '@' is matched
 *				against the whole "local@domain" string)
 *	'*' matches any run of characters (refile semantics). A pattern
 *	with an '@' is matched as two globs, local part against local
 *	part and domain against domain, so a quoted local part holding an
 *	'@' cannot reach into the domain.
 *
 *	Each field after the pattern is a key name, optionally followed by
 *	OpenDKIM's ":signer" (the i= value; every '%' in it becomes the From
 *	domain). A key name of "%" means "the key whose name is the From
 *	domain", resolved at lookup. Every other name must be in the key
 *	table.
 *
 *	OpenDKIM searches a file: (or prefix-less) SigningTable by
 *	specificity (user@host, host, user@.domain, .domain, user@*, *),
 *	not in line order. So that a migrated table signs the same mail, a
 *	file: table in which an earlier pattern takes every address of a
 *	later one (so the later line could never be used in line order) is
 *	refused, naming both lines; put the specific line first. A refile:
 *	table is searched in line order by OpenDKIM too, so no such check
 *	is made there.
 * LOOKUP
 *	dkim_tables_lookup() takes the From address as local part and domain
 *	(NUL-terminated, any case) and fills a caller-owned
 *	struct dkim_tables_match: no allocation, no locks. Results:
 *	DKIM_TABLES_NOMATCH	no pattern matches: do not sign.
 *	DKIM_TABLES_MATCH	m->count (>= 1) signatures in m->sig[].
 *	DKIM_TABLES_NOKEY	a pattern matched, but some key could not be
 *				used for this address (a "%" key name with
 *				no key of that name, or a "%" domain when the
 *				From domain is not an LDH name); m->missing
 *				says how many, m->count holds the usable ones.
 *	DKIM_TABLES_BADADDR	empty domain, or a local part or domain too
 *				long for an address (RFC 5321 section 4.5.3.1).
 *	Each m->sig[i] gives the key name, d= domain ("%" replaced by the
 *	lowercased From domain), selector, EVP_PKEY, algorithm, the key
 *	table entry and the i= signer ("" for none; dropped when its domain
 *	is not d= or a subdomain of it, RFC 6376 section 3.5, as OpenDKIM
 *	does). Pointers point into the tables (valid until
 *	dkim_tables_free()) or into *m itself (domain of a "%" entry), so do
 *	not copy a struct dkim_tables_match by value and use the copy.
 *	The EVP_PKEY is borrowed: EVP_PKEY_up_ref() it to keep it longer
 *	than the tables, e.g. when building the signer's struct dkim_key.
 *
 *	dkim_tables_key_count() and dkim_tables_key_at() iterate over the key
 *	table entries in file order ("postmillctl dkim check");
 *	dkim_tables_key_find() finds one by name. dkim_tables_loginmap()
 *	returns the sender login map, or NULL when none was configured.
 *
 *	dkim_tables_read_key() reads and checks one key file exactly as the
 *	loader does and returns a new EVP_PKEY the caller frees with
 *	EVP_PKEY_free(), or NULL after adding "path: reason" to el.
 * DIAGNOSTICS
 *	dkim_tables_load() adds one message per problem to el, e.g.
 *	"/etc/postmill/key.table:3: key "example": /etc/postmill/keys/x.pem:
 *	readable by group or others (mode 0644); chmod 600 it", keeps going
 *	to find the others, and returns NULL if el gained any message.
 * THREAD SAFETY
 *	Loading is meant for start-up (it reads files and the OpenSSL error
 *	queue). A loaded struct dkim_tables is immutable: share it between
 *	any number of threads. EVP_PKEY objects may be used for signing by
 *	several threads at once (OpenSSL 3 keys are not modified by use).
 * MEMORY
 *	dkim_tables_load() returns tables the caller frees with
 *	dkim_tables_free(), which takes NULL and returns NULL. Everything a
 *	lookup or iterator returns is borrowed from the tables.
 *--*/
#ifndef POSTMILL_DKIM_TABLES_H
#define POSTMILL_DKIM_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "errlist.h"
#include "dkim_loginmap.h"

#define DKIM_TABLES_MAX_KEYS		8	/* signatures per pattern */
#define DKIM_TABLES_MIN_RSA_BITS	1024	/* RFC 8301 section 3.2 */
#define DKIM_TABLES_LOCAL_MAX		256	/* longer: DKIM_TABLES_BADADDR */
#define DKIM_TABLES_DOMAIN_MAX		255	/* RFC 5321 section 4.5.3.1.2 */
#define DKIM_TABLES_SIGNER_MAX		(DKIM_TABLES_LOCAL_MAX + 1 + DKIM_TABLES_DOMAIN_MAX + 1)

struct dkim_tables_options {
	long		min_rsa_bits;		/* refuse shorter RSA keys */
	bool		strict_permissions;	/* OpenDKIM RequireSafeKeys */
	const char     *recipient_delimiter;	/* login map; NULL: none */
};

/* The defaults; dkim_tables_load() with opt == NULL uses these. */
#define DKIM_TABLES_OPTIONS_INIT { DKIM_TABLES_MIN_RSA_BITS, true, NULL }

enum dkim_tables_alg {
	DKIM_TABLES_ALG_RSA_SHA256,
	DKIM_TABLES_ALG_ED25519_SHA256,
};

/* One key table entry, read-only. */
struct dkim_tables_key {
	const char     *name;		/* key name (first column) */
	const char     *domain;		/* d=, lowercased; "%": From domain */
	const char     *selector;	/* s= */
	const char     *path;		/* key file, '%' already substituted */
	EVP_PKEY       *pkey;		/* borrowed; shared by entries of one file */
	enum dkim_tables_alg alg;
	const char     *algorithm;	/* "rsa-sha256" or "ed25519-sha256" */
	int		bits;		/* key size as EVP_PKEY_get_bits() */
	unsigned	line;		/* line in the key table */
};

/* One signature to make. */
struct dkim_tables_sig {
	const char     *keyname;
	const char     *domain;		/* d=, '%' substituted, lowercase */
	const char     *selector;	/* s= */
	EVP_PKEY       *pkey;		/* borrowed */
	enum dkim_tables_alg alg;
	const struct dkim_tables_key *key;
	char		signer[DKIM_TABLES_SIGNER_MAX];	/* i=; "" for none */
};

struct dkim_tables_match {
	unsigned	line;		/* signing table line of the pattern */
	const char     *pattern;	/* the pattern as written there */
	size_t		count;		/* usable signatures in sig[] */
	size_t		missing;	/* keys that could not be used */
	char		from_domain[DKIM_TABLES_DOMAIN_MAX + 1];	/* lowercased */
	struct dkim_tables_sig sig[DKIM_TABLES_MAX_KEYS];
};

enum dkim_tables_status {
	DKIM_TABLES_NOMATCH,
	DKIM_TABLES_MATCH,
	DKIM_TABLES_NOKEY,
	DKIM_TABLES_BADADDR,
};

struct dkim_tables;

struct dkim_tables *dkim_tables_load(const char *key_table,
				     const char *signing_table,
				     const char *login_map,
				     const struct dkim_tables_options *opt,
				     struct errlist *el);
struct dkim_tables *dkim_tables_free(struct dkim_tables *t);

enum dkim_tables_status dkim_tables_lookup(const struct dkim_tables *t,
					   const char *local,
					   const char *domain,
					   struct dkim_tables_match *m);
const char *dkim_tables_status_name(enum dkim_tables_status s);

const struct dkim_loginmap *dkim_tables_loginmap(const struct dkim_tables *t);

size_t	dkim_tables_key_count(const struct dkim_tables *t);
const struct dkim_tables_key *dkim_tables_key_at(const struct dkim_tables *t,
						 size_t i);
const struct dkim_tables_key *dkim_tables_key_find(const struct dkim_tables *t,
						   const char *name);
/* dkim_tables_pattern_count - signing table patterns (identical ones merged) */
size_t	dkim_tables_pattern_count(const struct dkim_tables *t);

EVP_PKEY *dkim_tables_read_key(const char *path, bool strict_permissions,
			       long min_rsa_bits, struct errlist *el);

#endif
