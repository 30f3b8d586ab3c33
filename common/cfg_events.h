/*++
 * NAME
 *	cfg_events 3h
 * SUMMARY
 *	postmill-events parameters (values of the events_ rows)
 * DESCRIPTION
 *	The rows live in cfg_events.c (cfg_events_section), in common/ so that
 *	postmillctl shows and checks them with the daemons' sections and
 *	reads the same stream names for "events tail" and "stats".
 *--*/
#ifndef POSTMILL_CFG_EVENTS_H
#define POSTMILL_CFG_EVENTS_H

#include "cfg.h"

struct events_conf {
	char		*maillog;	/* Postfix's maillog_file */
	char		*key_prefix;	/* "pmevents:" */
	long long	 stream_maxlen;
	long long	 state_ttl;	/* ms, per queue id state */
	long long	 poll_interval;	/* ms */
	long long	 batch_lines;
	char		*bounce_key_prefix;	/* postmill-bounce's */
	char		*bounce_stream;
	char		*webhook_table;	/* NULL: no webhooks */
	long long	 webhook_timeout;	/* ms */
	long long	 webhook_max_in_flight;
	long long	 webhook_retry_min;	/* ms */
	long long	 webhook_retry_max;	/* ms */
	long long	 webhook_max_attempts;
	long long	 webhook_dead_maxlen;
	long long	 metrics_tenants;	/* own label values */
};

extern const struct cfg_section cfg_events_section;

#endif
