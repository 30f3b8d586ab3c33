/*++
 * NAME
 *	auth_ar 3h
 * SUMMARY
 *	Authentication-Results (RFC 8601): bounded parser and writer
 * SYNOPSIS
 *	#include "auth_ar.h"
 * DESCRIPTION
 *	auth_ar_parse() reads the value (without "Authentication-Results:")
 *	of one header field, untrusted text of len bytes, not NUL-terminated:
 *	authserv-id, optional version, then "none" or resinfo elements
 *	(method[/version]=result, reason=value, ptype.property=pvalue),
 *	with comments (nested at most AUTH_AR_COMMENT_DEPTH_MAX) and
 *	folding anywhere CFWS may stand (RFC 8601 section 2.2). At most
 *	max_results resinfo elements (0 or more than AUTH_AR_RESULTS_MAX
 *	mean AUTH_AR_RESULTS_MAX) and AUTH_AR_PROPS_MAX properties each are
 *	kept; texts longer than their fields make the element a syntax
 *	error, never an overflow.
 *
 *	The status is AUTH_AR_OK; AUTH_AR_TOO_MANY (the first max_results
 *	results are in out); AUTH_AR_SYNTAX (*why says what, results parsed
 *	before the error are in out) or AUTH_AR_NO_ID (not even an
 *	authserv-id). out->have_id is true whenever an authserv-id was read,
 *	whatever follows it: a header that claims our authserv-id must be
 *	removed even when the rest is garbage.
 *
 *	auth_ar_id_is() compares a parsed authserv-id with ours, ignoring
 *	ASCII case (RFC 8601 section 2.5: the id is a domain name in
 *	practice, and "EXAMPLE.com" must not slip past the removal).
 *
 *	auth_ar_write() writes one header value into buf (size bytes, NUL
 *	terminated): "authserv-id; method=result (comment) reason=\"...\"
 *	ptype.prop=value; ..." or "authserv-id; none" when n is 0. Each
 *	resinfo starts on a new folded line ("\n\t", the form libmilter
 *	passes to the MTA). Values that are not RFC 2045 tokens (or
 *	local@domain for properties) are written as quoted strings; bytes
 *	below 0x20 and DEL are dropped from every value and comment, so no
 *	input can inject a header line; "(" ")" and "\" in comments are
 *	escaped. Returns 0, or -1 when buf was too small (buf then holds
 *	a truncated but well-formed prefix never cut inside a resinfo).
 * THREAD SAFETY
 *	Reentrant; no state, no I/O, no allocation.
 *--*/
#ifndef POSTMILL_AUTH_AR_H
#define POSTMILL_AUTH_AR_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_AR_RESULTS_MAX		64	/* hard cap on resinfo kept */
#define AUTH_AR_PROPS_MAX		6	/* properties per resinfo */
#define AUTH_AR_COMMENT_DEPTH_MAX	8
#define AUTH_AR_ID_MAX			256
#define AUTH_AR_WORD_MAX		64	/* method, result, ptype, property */
#define AUTH_AR_VALUE_MAX		512	/* reason, pvalue */
#define AUTH_AR_COMMENT_MAX		256	/* writer only */

struct auth_ar_prop {
	char	ptype[AUTH_AR_WORD_MAX];	/* "smtp", "header", "policy" */
	char	property[AUTH_AR_WORD_MAX];	/* "mailfrom", "d", "from" */
	char	value[AUTH_AR_VALUE_MAX];	/* unquoted */
};

struct auth_ar_result {
	char	method[AUTH_AR_WORD_MAX];	/* lowercase */
	int	version;			/* method version, 0: none */
	char	result[AUTH_AR_WORD_MAX];	/* lowercase */
	char	reason[AUTH_AR_VALUE_MAX];	/* unquoted, "" if none */
	char	comment[AUTH_AR_COMMENT_MAX];	/* writer only */
	struct auth_ar_prop props[AUTH_AR_PROPS_MAX];
	size_t	nprops;
};

struct auth_ar {
	bool	have_id;
	char	authserv_id[AUTH_AR_ID_MAX];
	int	version;			/* 0: absent */
	bool	none;				/* "; none" */
	size_t	nresults;
	struct auth_ar_result results[AUTH_AR_RESULTS_MAX];
};

enum auth_ar_status {
	AUTH_AR_OK,
	AUTH_AR_TOO_MANY,
	AUTH_AR_SYNTAX,
	AUTH_AR_NO_ID,
};

enum auth_ar_status auth_ar_parse(const char *value, size_t len,
				  size_t max_results, struct auth_ar *out,
				  const char **why);
bool	auth_ar_id_is(const struct auth_ar *ar, const char *ours);
int	auth_ar_write(char *buf, size_t size, const char *authserv_id,
		      const struct auth_ar_result *results, size_t n);
/* auth_ar_result_prop - append a property; false when full or too long */
bool	auth_ar_result_prop(struct auth_ar_result *r, const char *ptype,
			    const char *property, const char *value);
/* auth_ar_result_find - the value of ptype.property, or NULL */
const char *auth_ar_result_find(const struct auth_ar_result *r,
				const char *ptype, const char *property);
const char *auth_ar_status_str(enum auth_ar_status status);

#endif
