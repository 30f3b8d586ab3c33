/*++
 * NAME
 *	auth_conf 3h
 * SUMMARY
 *	postmill-auth parameters (values of the auth_ rows)
 * DESCRIPTION
 *	The rows live in auth_params.c (auth_section). Immutable once loaded.
 *--*/
#ifndef POSTMILL_AUTH_CONF_H
#define POSTMILL_AUTH_CONF_H

#include <stdbool.h>

#include "cfg.h"

enum auth_quarantine_mode {	/* words: auth_params.c */
	AUTH_QUARANTINE_MILTER, AUTH_QUARANTINE_HEADER,
};

struct auth_conf {
	char		*socket;
	char		*pid_file;
	char		*authserv_id;		/* NULL: the host name */
	bool		 reject_on_spf_fail;
	long long	 spf_time_limit;	/* ms, one SPF check */
	long long	 spf_max_lookups;	/* RFC 7208 4.6.4: 10 */
	long long	 spf_max_void_lookups;	/* RFC 7208 4.6.4: 2 */
	long long	 dns_cache_size;	/* answers; 0: no cache */
	int		 dmarc_org_domain;	/* enum auth_dmarc_org_mode */
	char		*psl_file;
	long long	 max_signatures;
	long long	 max_ar_headers;
	long long	 max_dns_queries;
	long long	 min_key_bits;
	int		 on_temperror;		/* enum auth_on_temperror */
	int		 on_bad_from;		/* enum auth_on_bad_from */
	int		 quarantine_mode;	/* enum auth_quarantine_mode */
	struct cfg_list	 trusted_senders;	/* From domains */
	struct cidr_list trusted_forwarders;	/* client addresses */
	struct cfg_list	 trusted_authserv_ids;
	bool		 dry_run;
	bool		 check_authenticated;
	bool		 check_internal;
	/* DMARC aggregate reports (auth_record.h, postmillctl dmarc) */
	bool		 report_record;
	char		*report_key_prefix;
	long long	 report_timeout;	/* ms, one recording */
	long long	 report_retention;	/* ms, TTL of a day's keys */
	long long	 report_max_rows;	/* distinct rows a day */
	char		*report_org_name;	/* NULL: the host name */
	char		*report_from;		/* reporting address */
	char		*report_receiver;	/* NULL: the host name */
	char		*report_sendmail;
	long long	 report_max_uris;
};

extern const struct cfg_section auth_section;

#endif
