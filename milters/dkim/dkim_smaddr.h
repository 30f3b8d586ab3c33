/*++
 * NAME
 *	dkim_smaddr 3h
 * SUMMARY
 *	the form Sendmail 8 gives an address header field when it sends it
 * SYNOPSIS
 *	#include "dkim_smaddr.h"
 * DESCRIPTION
 *	Sendmail writes every address field (From, To, Cc, Reply-To,
 *	Sender, the Resent- ones, ...) out again when it delivers the
 *	message, after the milters ran (headers.c commaize(): each list
 *	element goes through crackaddr() and the mailer's rulesets): list
 *	elements are joined with ", " and folded after 78 columns, a bare
 *	local part gets "@$j", a trailing dot leaves the domain, a comment
 *	gets a space before it, white space around the address goes. No
 *	setting turns this off, so a DKIM signature over the field as the
 *	milter saw it fails.
 *
 *	dkim_sendmail_addr_form() computes the form Sendmail will send for
 *	one field value, for the subset of RFC 5322 address syntax whose
 *	rewriting depends on nothing but the value and $j: dot-atom
 *	addresses with a qualified domain (or a bare local part), display
 *	names of atoms, dots and quoted strings, comments, group syntax.
 *	Everything else (backslashes outside quotes and comments, domain
 *	literals, route addresses, quoted local parts, "%" and "!" hacks,
 *	localhost, unqualified domains, 8-bit addresses, comments between
 *	address tokens, unbalanced brackets, elements over 200 bytes, a
 *	value Sendmail would quote, a form Sendmail would rewrite once
 *	more) is "unpredictable": the caller must not sign such a field.
 *	Every form returned is a fixed point: written out by Sendmail
 *	again (after smfi_chgheader) it stays as it is. The model assumes the
 *	shipped conf/sendmail/postmill.m4 (MustQuoteChars empty) and no
 *	masquerading ($M empty; DKIM_SMADDR_MASQUERADE makes bare and $j
 *	addresses unpredictable). Sendmail's old-style lists (split at white
 *	space) apply to To, Cc & Co. while no address field of the message
 *	holds one of ",(<;" (dkim_sendmail_new_style() on every field for
 *	which dkim_sendmail_addr_field() is not PLAIN, Bcc included): the
 *	caller says so with DKIM_SMADDR_OLD_STYLE.
 *
 *	Values are given as the milter gets them: the text after the colon
 *	(the leading space included, SMFIP_HDR_LEADSPC), folded lines with
 *	a bare LF. The result uses the same conventions. The measured
 *	behaviour this reproduces is tests/unit/data/sendmail_addr.tsv
 *	(captured from Sendmail 8.17.1.9; tests/e2e/test_sendmail.py
 *	checks it against the real Sendmail, with a fixed-point round).
 * DIAGNOSTICS
 *	dkim_sendmail_addr_form() returns DKIM_SMADDR_FORM with *out (the
 *	caller frees; it may equal the input), DKIM_SMADDR_PLAIN for a
 *	field Sendmail passes through unchanged, or DKIM_SMADDR_UNPREDICTABLE
 *	with *why, a static string.
 * THREAD SAFETY
 *	Pure functions.
 *--*/
#ifndef POSTMILL_DKIM_SMADDR_H
#define POSTMILL_DKIM_SMADDR_H

#include <stdbool.h>
#include <stddef.h>

enum dkim_smaddr_status {
	DKIM_SMADDR_FORM,		/* *out is what Sendmail will send */
	DKIM_SMADDR_PLAIN,		/* not a field Sendmail rewrites */
	DKIM_SMADDR_UNPREDICTABLE,	/* do not sign this field; *why */
};

/* elements longer than this are not predicted (Sendmail's MAXNAME is 256) */
#define DKIM_SMADDR_MAX_ELEMENT	200

/* flags */
#define DKIM_SMADDR_MASQUERADE	1	/* macro M is set */
#define DKIM_SMADDR_OLD_STYLE	2	/* no address field has one of ",(<;" */

enum dkim_smaddr_status dkim_sendmail_addr_form(const char *value, size_t len,
						const char *j, const char *name,
						size_t name_len, unsigned flags,
						char **out, size_t *out_len,
						const char **why);
enum dkim_smaddr_status dkim_sendmail_addr_field(const char *name, size_t len,
						 bool *rcpt, const char **why);
bool	dkim_sendmail_new_style(const char *value, size_t len);

enum dkim_mta {
	DKIM_MTA_UNKNOWN,
	DKIM_MTA_POSTFIX,
	DKIM_MTA_SENDMAIL,
};

/* dkim_mta_detect - which MTA sent macro v (its version; NULL: not sent) */
enum dkim_mta dkim_mta_detect(const char *v);

#endif
