/*++
 * NAME
 *	bounce_conf 3h
 * SUMMARY
 *	postmill-bounce parameters (values of the bounce_ rows)
 * DESCRIPTION
 *	The rows live in bounce_params.c (bounce_section). Immutable once
 *	loaded. Lists of reasons and the per-reason expiries are checked by
 *	the section's validate hook with bounce_policy.h's parsers and
 *	turned into a struct bounce_policy by bounce_state_load().
 *--*/
#ifndef POSTMILL_BOUNCE_CONF_H
#define POSTMILL_BOUNCE_CONF_H

#include <stdbool.h>

#include "cfg.h"

enum bounce_scope {	/* words: bounce_params.c */
	BOUNCE_SCOPE_SENDER, BOUNCE_SCOPE_DOMAIN, BOUNCE_SCOPE_GLOBAL,
	BOUNCE_SCOPE_OFF,
};
enum bounce_action {	/* words: bounce_params.c */
	BOUNCE_ACTION_DELIVER, BOUNCE_ACTION_REDIRECT, BOUNCE_ACTION_DISCARD,
};
enum bounce_on_error {	/* words: bounce_params.c */
	BOUNCE_ON_ERROR_TEMPFAIL, BOUNCE_ON_ERROR_ACCEPT,
};

struct bounce_conf {
	char		*socket;
	char		*pid_file;
	char		*domain;		/* the bounce domain, or NULL */
	struct cfg_list	 secret_files;		/* first signs, all verify */
	long long	 tag_lifetime;		/* ms */
	bool		 tag_authenticated;	/* tag mail of SASL clients */
	bool		 tag_internal;		/* and of internal_hosts */
	int		 suppress_scope;	/* enum bounce_scope */
	bool		 suppress_at_rcpt;	/* refuse suppressed recipients */
	struct cfg_list	 suppress_reasons;	/* suppress at the first bounce */
	struct cfg_list	 soft_reasons;		/* count toward soft_threshold */
	long long	 soft_threshold;	/* 0: never */
	long long	 soft_window;		/* ms */
	struct cfg_list	 suppress_expiry;	/* "reason=duration", "*=..." */
	int		 action;		/* enum bounce_action */
	int		 on_redis_error;	/* enum bounce_on_error */
	char		*key_prefix;
	char		*stream;
	long long	 stream_maxlen;
	long long	 message_max;		/* bytes of a bounce kept */
	bool		 ref;			/* add X-Postmill-Ref */
	long long	 ref_lifetime;		/* ms */
	struct cfg_list	 fbl_addresses;		/* local parts at domain */
	struct cfg_list	 feedback_id;		/* bounce_fbid.h sources */
	char		*tenant_table;		/* bounce_tenant.h, or NULL */
	long long	 pause_window;		/* ms, the rolling window */
	long long	 pause_min_volume;	/* sent before any rate counts */
	char		*review_bounce_rate;	/* "5%" (bounce_pause.h) */
	char		*review_complaint_rate;
	char		*pause_bounce_rate;
	char		*pause_complaint_rate;
	char		*unsubscribe_url;	/* base of the one-click URL */
	long long	 unsubscribe_lifetime;	/* ms */
	char		*unsubscribe_listen;	/* postmill-unsubscribe */
	struct cfg_list	 our_mx;		/* tenant check: our MX hosts */
	struct cfg_list	 our_ips;		/* tenant check: our sending IPs */
	char		*track_base_url;	/* bounce_track.h, or NULL: off */
	long long	 track_url_max;		/* octets of a link rewritten */
	long long	 track_message_max;	/* octets of a body rewritten */
	long long	 track_memory;		/* then a temporary file */
	char		*track_temp_dir;
};

extern const struct cfg_section bounce_section;

#endif
