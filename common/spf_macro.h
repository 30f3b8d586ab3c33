/*++
 * NAME
 *	spf_macro 3h
 * SUMMARY
 *	SPF macro checker and expander (RFC 7208 section 7)
 * SYNOPSIS
 *	#include "spf_macro.h"
 *
 *	int spf_macro_check(const char *s, size_t len,
 *		enum spf_macro_mode mode, const char **why);
 *	int spf_macro_expand(const char *s, size_t len,
 *		const struct spf_macro_ctx *ctx, enum spf_macro_mode mode,
 *		char *out, size_t size, const char **why);
 *	bool spf_macro_uses_p(const char *s, size_t len);
 * DESCRIPTION
 *	spf_macro_check() checks the macro-string s (RFC 7208 7.1): "%%",
 *	"%_", "%-" and "%{" letter *DIGIT ["r"] *delimiter "}" with letter
 *	one of s l o d i p v h (and c r t in SPF_MACRO_EXP mode, 7.2); a
 *	DIGIT transformer must not be zero (7.3). In SPF_MACRO_DOMAIN mode
 *	only visible ASCII is allowed (macro-literal); SPF_MACRO_EXP also
 *	allows spaces (explain-string, 6.2). 0, or -1 with *why.
 *
 *	spf_macro_expand() checks and expands s with the values in *ctx into
 *	out (size bytes, NUL-terminated) and returns the length, or -1 with
 *	*why (a bad macro, or more than size - 1 bytes). Values are split at
 *	the delimiters (default "."), reversed with "r", cut to the right-
 *	hand DIGIT parts and joined with "." (7.3); an upper-case letter
 *	URL-escapes its value (all but RFC 3986 unreserved characters). For
 *	%{i} an IPv6 address gives 32 dot-separated lower-case nibbles, for
 *	%{c} its RFC 5952 text; %{v} is "in-addr" or "ip6"; a NULL p or r is
 *	"unknown". In SPF_MACRO_DOMAIN mode a trailing dot is dropped and,
 *	past SPF_MAX_DOMAIN_LEN characters, left labels are dropped until it
 *	fits (7.3).
 *
 *	spf_macro_uses_p() says whether s holds a %{p} macro, so the caller
 *	can do the PTR lookups (5.5) only when needed.
 *
 *	Pure functions: no I/O, no clock (t comes in ctx), no globals.
 *--*/
#ifndef POSTMILL_SPF_MACRO_H
#define POSTMILL_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

enum spf_macro_mode {
	SPF_MACRO_DOMAIN,		/* domain-spec: a name to look up */
	SPF_MACRO_EXP,			/* explanation text */
};

struct spf_macro_ctx {
	const char	*local;		/* l: sender local part */
	const char	*sender_domain;	/* o: sender domain */
	const char	*domain;	/* d: current domain */
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	ip[16];		/* i, c; 4 bytes for IPv4 */
	const char	*ptr;		/* p: validated name; NULL: "unknown" */
	const char	*helo;		/* h */
	const char	*receiver;	/* r; NULL: "unknown" */
	long		now;		/* t */
};

int	spf_macro_check(const char *s, size_t len, enum spf_macro_mode mode,
			const char **why);
int	spf_macro_expand(const char *s, size_t len,
			 const struct spf_macro_ctx *ctx,
			 enum spf_macro_mode mode, char *out, size_t size,
			 const char **why);
bool	spf_macro_uses_p(const char *s, size_t len);

#endif
