/*++
 * NAME
 *	auth_dmarc_record 3h
 * SUMMARY
 *	DMARC policy record parser (RFC 9989)
 * SYNOPSIS
 *	#include "auth_dmarc_record.h"
 * DESCRIPTION
 *	auth_dmarc_record_parse() reads one TXT record (untrusted, len
 *	bytes, may hold NULs, not NUL-terminated). A record is a DMARC
 *	record only when its first tag is "v=DMARC1" (RFC 9989 section 4.7:
 *	other records at _dmarc are discarded, which is AUTH_DMARC_REC_NOT);
 *	anything else it holds never makes it less of a DMARC record:
 *	- tags are tag-list syntax (RFC 6376 section 3.2): name "=" value,
 *	  separated by ";", white space around them ignored; names are
 *	  matched ignoring case;
 *	- unknown tags and tags whose value is invalid are ignored and the
 *	  default applies (RFC 9989 section 4.7); a repeated tag keeps its
 *	  first value;
 *	- p absent is p=none (RFC 9989 section 4.7); p, sp or np present
 *	  without a valid value sets policy_invalid, and the caller decides
 *	  (section 4.10.1: p=none when rua holds a valid URI, rua_valid,
 *	  else no DMARC processing at all); p stays p=none then;
 *	- sp and np absent stay AUTH_DMARC_P_UNSET: the caller falls back
 *	  np -> sp -> p (RFC 9989 sections 4.7 and 5.3);
 *	- psd: y, n or u (default u); t: y or n (default n);
 *	- adkim, aspf: r (default) or s;
 *	- rua: only whether one of its URIs is valid (rua_valid);
 *	- ruf, fo, rf, ri, pct: accepted and ignored; none of them
 *	  changes enforcement (RFC 9989 drops pct, rf and ri).
 *	At most AUTH_DMARC_TAGS_MAX tags are read; the rest of a longer
 *	record is ignored.
 * THREAD SAFETY
 *	Reentrant; no state.
 *--*/
#ifndef POSTMILL_AUTH_DMARC_RECORD_H
#define POSTMILL_AUTH_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_DMARC_TAGS_MAX	64

enum auth_dmarc_p {
	AUTH_DMARC_P_UNSET = -1,
	AUTH_DMARC_P_NONE,
	AUTH_DMARC_P_QUARANTINE,
	AUTH_DMARC_P_REJECT,
};

struct auth_dmarc_record {
	enum auth_dmarc_p p, sp, np;
	bool	p_given;		/* a valid p tag was present */
	bool	policy_invalid;		/* p, sp or np present, none valid */
	bool	rua_valid;		/* rua holds a syntactically valid URI */
	char	psd;			/* 'y', 'n' or 'u' */
	bool	testing;		/* t=y */
	bool	adkim_strict;
	bool	aspf_strict;
};

enum auth_dmarc_rec_status {
	AUTH_DMARC_REC_OK,
	AUTH_DMARC_REC_NOT,		/* not a DMARC record: discard */
};

enum auth_dmarc_rec_status auth_dmarc_record_parse(const char *txt, size_t len,
						   struct auth_dmarc_record *out,
						   const char **why);
const char *auth_dmarc_p_name(enum auth_dmarc_p p);

#endif
