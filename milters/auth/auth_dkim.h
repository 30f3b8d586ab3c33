/*++
 * NAME
 *	auth_dkim 3h
 * SUMMARY
 *	DKIM verification with libopendkim, keys through our own DNS
 * SYNOPSIS
 *	#include "auth_dkim.h"
 * DESCRIPTION
 *	auth_dkim_lib_new() makes one libopendkim library handle for a
 *	configuration snapshot: RFC 8301 minimum key size (min_key_bits;
 *	smaller RSA keys fail with "key too small"), Ed25519 (RFC 8463, as
 *	libopendkim 2.11 knows it), at most max_sigs signatures verified per
 *	message (the others are ignored before any key is fetched, so a
 *	message with 1,000 signatures costs max_sigs DNS queries), and keys
 *	fetched through the lookup function given per message: libopendkim's
 *	own resolver shares one res_state among threads and cannot be
 *	pointed at a server (NOTES-dns.md). The key lookup hook
 *	(dkim_set_key_lookup) is used rather than the four query-service
 *	hooks: it hands us the selector and domain and takes the key record
 *	text, so no DNS wire format has to be rebuilt for libopendkim to
 *	parse again; NXDOMAIN and NODATA become "no key", a temporary DNS
 *	failure a temperror.
 *
 *	Per message: auth_dkim_msg_new(), auth_dkim_header() for each
 *	field in order ("Name" and the value as the MTA gives it; LF or
 *	CRLF folding), auth_dkim_eoh(), auth_dkim_body() for each chunk,
 *	then auth_dkim_eom() fills out[] with one struct auth_dkim_sig per
 *	signature verified, in header order. A message without signatures
 *	gives 0 results. Each call returns 0, or -1 with *why when
 *	libopendkim gave up on the message (then eom gives what it has).
 *
 *	Results follow RFC 8601 section 2.7.1: pass; fail (bad signature,
 *	body hash mismatch, revoked key); policy (key too small, RFC 8301);
 *	neutral (a signature that does not parse); permerror (no key, bad
 *	key record); temperror (DNS failure fetching the key).
 * THREAD SAFETY
 *	A library handle is shared by all threads (libopendkim allows it);
 *	a message handle belongs to one thread.
 *--*/
#ifndef POSTMILL_AUTH_DKIM_H
#define POSTMILL_AUTH_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define AUTH_DKIM_SIGS_MAX	32	/* hard cap of max_sigs */

/* auth_dkim_txt_fn - TXT lookup, as dns_query_txt() */
typedef int (*auth_dkim_txt_fn)(void *arg, const char *name,
				struct dns_txt_result *out);

enum auth_dkim_res {
	AUTH_DKIM_PASS,
	AUTH_DKIM_FAIL,
	AUTH_DKIM_POLICY,
	AUTH_DKIM_NEUTRAL,
	AUTH_DKIM_PERMERROR,
	AUTH_DKIM_TEMPERROR,
};

struct auth_dkim_sig {
	enum auth_dkim_res res;
	const char	*why;			/* static; "" on pass */
	char		 domain[254];		/* d= */
	char		 selector[64];		/* s= */
	char		 alg[24];		/* a= */
	char		 b[16];			/* first 8 of b= (RFC 6008) */
	unsigned	 key_bits;		/* 0: unknown */
};

struct auth_dkim_lib;
struct auth_dkim_msg;

struct auth_dkim_lib *auth_dkim_lib_new(unsigned min_key_bits, size_t max_sigs,
					const char **why);
struct auth_dkim_lib *auth_dkim_lib_free(struct auth_dkim_lib *lib);

struct auth_dkim_msg *auth_dkim_msg_new(const struct auth_dkim_lib *lib,
					auth_dkim_txt_fn txt, void *arg,
					const char **why);
int	auth_dkim_header(struct auth_dkim_msg *m, const char *name,
			 const char *value);
int	auth_dkim_eoh(struct auth_dkim_msg *m);
int	auth_dkim_body(struct auth_dkim_msg *m, const unsigned char *data,
		       size_t len);
size_t	auth_dkim_eom(struct auth_dkim_msg *m, struct auth_dkim_sig *out,
		      size_t max);
/* auth_dkim_ignored - signatures over the limit, not verified */
size_t	auth_dkim_ignored(const struct auth_dkim_msg *m);
struct auth_dkim_msg *auth_dkim_msg_free(struct auth_dkim_msg *m);
const char *auth_dkim_res_name(enum auth_dkim_res r);

#endif
