/*++
 * NAME
 *	dkim_dnscheck 3h
 * SUMMARY
 *	does DNS publish the public half of our DKIM key
 * SYNOPSIS
 *	#include "dkim_dnscheck.h"
 *
 *	int dkim_dnscheck(const struct dns_txt_result *dns, const char *want_k,
 *		const char *want_p, struct dkim_dnscheck_result *out);
 *	int dkim_dnscheck_record(const struct dns_txt_result *dns,
 *		const char *our_record, struct dkim_dnscheck_result *out);
 *	int dkim_dnscheck_parse(const char *rec, size_t len,
 *		struct dkim_dnscheck_keyrec *out, const char **why);
 *	const char *dkim_dnscheck_str(int status);
 * DESCRIPTION
 *	dkim_dnscheck() compares the outcome of the TXT query for
 *	selector._domainkey.domain (dns: status and records, as filled by
 *	dns_query_txt() or by hand) with the key record we would publish:
 *	want_k ("rsa" or "ed25519") and want_p, the base64 public key of our
 *	p= tag. It returns out->status, one of:
 *	DKIM_DNSCHECK_MATCH	one key record, its p= decodes to the same
 *				bytes as want_p and its k= is want_k.
 *	DKIM_DNSCHECK_MISSING	NXDOMAIN, NODATA, or no TXT record that is a
 *				key record (first tag v=, or a p= tag).
 *	DKIM_DNSCHECK_STALE	a key record with another key: different
 *				bytes, or another k= (RFC 6376 3.6.1 k= is
 *				"rsa" when absent).
 *	DKIM_DNSCHECK_REVOKED	the key record has an empty p= (3.6.1).
 *	DKIM_DNSCHECK_MALFORMED	tag-list syntax error (3.2), duplicate tag,
 *				v= not first or not "DKIM1", no p= tag, bad
 *				base64, several key records (verifiers may
 *				pick any, 3.6.2.2), or a record that can't
 *				verify our signatures: h= without sha256, s=
 *				without "*" or "email". Also used when want_k
 *				or want_p is unusable (the caller's bug; the
 *				reason says so).
 *	DKIM_DNSCHECK_TEMPFAIL	the DNS query failed (DNS_TEMPFAIL or
 *				DNS_PERMFAIL): nothing is known.
 *	out->reason is one human line ("published key differs from ours
 *	(k=rsa)"); out->testing is set when the compared record has t=y,
 *	and the reason then ends with "; testing mode (t=y)".
 *
 *	dkim_dnscheck_record() does the same with the whole record we would
 *	publish ("v=DKIM1; k=ed25519; p=...", as dkim_key_dns_record()
 *	returns it) instead of want_k and want_p.
 *
 *	dkim_dnscheck_parse() parses one DKIM key record (RFC 6376 3.6.1)
 *	per the tag-list grammar of 3.2: tags v, h, k, n, p, s, t are kept,
 *	unknown tags are ignored, whitespace (SP, HTAB, CR, LF) is allowed
 *	around tags and values and inside values (so a folded p= is fine).
 *	The value pointers borrow from rec and are not NUL-terminated.
 *	Returns 0, or -1 with a static *why on a syntax error.
 *
 *	dkim_dnscheck_str() names a status for output ("stale").
 *
 *	Pure functions: no I/O, no globals, thread-safe. Input is untrusted
 *	and bounded by its length (NULs inside a record are a syntax error).
 *--*/
#ifndef POSTMILL_DKIM_DNSCHECK_H
#define POSTMILL_DKIM_DNSCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

enum dkim_dnscheck_status {
	DKIM_DNSCHECK_MATCH,
	DKIM_DNSCHECK_MISSING,
	DKIM_DNSCHECK_STALE,
	DKIM_DNSCHECK_REVOKED,
	DKIM_DNSCHECK_MALFORMED,
	DKIM_DNSCHECK_TEMPFAIL,
};

struct dkim_dnscheck_result {
	enum dkim_dnscheck_status status;
	bool		testing;	/* t=y on the compared record */
	char		reason[256];
};

struct dkim_dnscheck_tag {			/* one tag's value, borrowed */
	const char	*val;		/* NULL: tag absent */
	size_t		len;		/* trailing whitespace excluded */
};

struct dkim_dnscheck_keyrec {
	struct dkim_dnscheck_tag v, h, k, n, p, s, t;
	bool		v_first;	/* v= present and the first tag */
};

int	dkim_dnscheck(const struct dns_txt_result *dns, const char *want_k,
		      const char *want_p, struct dkim_dnscheck_result *out);
int	dkim_dnscheck_record(const struct dns_txt_result *dns,
			     const char *our_record,
			     struct dkim_dnscheck_result *out);
int	dkim_dnscheck_parse(const char *rec, size_t len,
			    struct dkim_dnscheck_keyrec *out, const char **why);
const char *dkim_dnscheck_str(int status);

#endif
