/*++
 * NAME
 *	limit_conf 3h
 * SUMMARY
 *	postmill-limit parameters (values of the limit_ rows)
 * DESCRIPTION
 *	The rows live in limit_params.c (limit_section). Immutable once
 *	loaded. The rules themselves are too structured for name = value
 *	rows: they live in the file named by limit_rules_file (limit_rules.h).
 *	Redis connection parameters are shared rows (redis_server, ...) in
 *	cfg_common.c.
 *--*/
#ifndef POSTMILL_LIMIT_CONF_H
#define POSTMILL_LIMIT_CONF_H

#include <stdbool.h>

#include "cfg.h"

enum limit_on_error {	/* words: limit_params.c */
	LIMIT_ON_ERROR_TEMPFAIL, LIMIT_ON_ERROR_ACCEPT,
};

struct limit_conf {
	char		*socket;		/* libmilter socket spec */
	char		*pid_file;
	char		*rules_file;		/* limit_rules.h syntax */
	int		 on_redis_error;	/* enum limit_on_error */
	char		*key_prefix;		/* Redis key names start with it */
	char		*utc_offset;		/* "+HH:MM": calendar windows */
	bool		 log_accepted;		/* a line per accepted RCPT/EOM too */
	int		 tenant_pause;		/* enum limit_pause_mode */
	char		*tenant_pause_prefix;	/* = bounce_key_prefix */
	long long	 reservation_ttl;	/* ms: unconfirmed reservations expire */
};

enum limit_pause_mode {	/* words: limit_params.c */
	LIMIT_PAUSE_OFF, LIMIT_PAUSE_TEMPFAIL, LIMIT_PAUSE_REJECT,
};

extern const struct cfg_section limit_section;

#endif
