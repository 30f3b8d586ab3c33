/*++
 * NAME
 *	dkim_conf 3h
 * SUMMARY
 *	postmill-dkim parameters (values of the dkim_ rows)
 * DESCRIPTION
 *	The rows live in dkim_params.c (dkim_section). Immutable once loaded.
 *--*/
#ifndef POSTMILL_DKIM_CONF_H
#define POSTMILL_DKIM_CONF_H

#include "cfg.h"

enum dkim_unsignable_action {	/* words: dkim_params.c */
	DKIM_UNSIGNABLE_ACCEPT, DKIM_UNSIGNABLE_TEMPFAIL, DKIM_UNSIGNABLE_REJECT,
};
enum dkim_error_action {	/* words: dkim_params.c */
	DKIM_ERROR_ACCEPT, DKIM_ERROR_TEMPFAIL,
};
enum dkim_mismatch_action {	/* words: dkim_params.c */
	DKIM_MISMATCH_PASS, DKIM_MISMATCH_REJECT,
};
enum dkim_mta_choice {	/* words: dkim_params.c */
	DKIM_MTA_AUTO, DKIM_MTA_IS_POSTFIX, DKIM_MTA_IS_SENDMAIL,
};
enum dkim_canon_pair {	/* words: dkim_params.c */
	DKIM_CANON_RR, DKIM_CANON_RS, DKIM_CANON_SR, DKIM_CANON_SS,
};

struct dkim_conf {
	char		*socket;		/* libmilter socket spec */
	char		*pid_file;
	char		*key_table;		/* OpenDKIM KeyTable syntax */
	char		*signing_table;		/* OpenDKIM SigningTable syntax */
	char		*sender_login_map;	/* smtpd_sender_login_maps form, or NULL */
	int		 login_mismatch_action;	/* enum dkim_mismatch_action */
	int		 unsignable_action;	/* enum dkim_unsignable_action */
	int		 signer_error_action;	/* enum dkim_error_action */
	int		 canonicalization;	/* enum dkim_canon_pair */
	struct cfg_list	 sign_headers;
	struct cfg_list	 oversign_headers;
	struct cfg_list	 oversign_if_present;
	long long	 signature_ttl;		/* ms; 0: no x= tag */
	long long	 min_rsa_bits;
	bool		 strict_key_permissions;
	bool		 sign_authenticated;
	bool		 sign_internal_hosts;
	long long	 max_header_bytes;
	long long	 max_headers;
	long long	 line_length_limit;	/* as Postfix's smtp_line_length_limit */
	long long	 rotate_overlap;	/* ms; postmillctl dkim rotate */
	int		 mta;			/* enum dkim_mta_choice */
};

extern const struct cfg_section dkim_section;

#endif
