/*++
 * NAME
 *	spf_record 3h
 * SUMMARY
 *	SPF record parser (RFC 7208 4.5, 4.6, 5, 6 and 12)
 * SYNOPSIS
 *	#include "spf_record.h"
 *
 *	bool spf_record_is_spf(const char *txt, size_t len);
 *	int spf_record_parse(const char *txt, size_t len,
 *		struct spf_record *out, const char **why);
 *	bool spf_domain_spec_ok(const char *spec, size_t len);
 * DESCRIPTION
 *	spf_record_is_spf() says whether a TXT record is an SPF record for
 *	record selection (RFC 7208 4.5): it begins with "v=spf1", in any
 *	case, followed by a space or the end.
 *
 *	spf_record_parse() checks the whole record against the grammar of
 *	RFC 7208 12 before any of it is evaluated (4.6: a syntax error
 *	anywhere is a permerror, even after a matching mechanism) and fills
 *	*out. It returns 0, or -1 with *why (static) for a permerror:
 *	unknown mechanism, bad CIDR length (leading zeros, too long), bad
 *	address, bad macro, a domain-spec without a valid domain-end,
 *	redirect= or exp= given twice (6), more than SPF_MAX_TERMS terms, a
 *	record over SPF_MAX_RECORD_LEN bytes, a control or non-ASCII byte.
 *	Terms are separated by one or more spaces (only SP, %x20).
 *
 *	The strings in *out (term text, domain-spec, modifier values) point
 *	into txt: borrowed, valid while txt is. No allocation, no I/O.
 *
 *	spf_domain_spec_ok() checks one domain-spec (macro-string domain-end,
 *	RFC 7208 12) as written, macros unexpanded.
 *--*/
#ifndef POSTMILL_SPF_RECORD_H
#define POSTMILL_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_term {
	enum spf_mech	mech;
	char		qualifier;	/* '+', '-', '~' or '?' */
	const char	*text;		/* the term as written */
	size_t		text_len;
	const char	*spec;		/* domain-spec after ':', or NULL */
	size_t		spec_len;
	int		cidr4;		/* a, mx, ip4: prefix; -1: not given */
	int		cidr6;		/* a, mx, ip6: prefix; -1: not given */
	unsigned char	addr[16];	/* ip4 (4 bytes) or ip6 network */
};

struct spf_record {
	size_t		nterms;		/* mechanisms, in order */
	struct spf_term	term[SPF_MAX_TERMS];
	const char	*redirect;	/* domain-spec, or NULL */
	size_t		redirect_len;
	const char	*exp;		/* domain-spec, or NULL */
	size_t		exp_len;
};

bool	spf_record_is_spf(const char *txt, size_t len);
int	spf_record_parse(const char *txt, size_t len, struct spf_record *out,
			 const char **why);
bool	spf_domain_spec_ok(const char *spec, size_t len);

#endif
