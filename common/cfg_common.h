/*++
 * NAME
 *	cfg_common 3h
 * SUMMARY
 *	parameters every postmill daemon shares
 * DESCRIPTION
 *	The rows live in cfg_common.c (cfg_common_section); this struct holds
 *	their loaded values. Immutable once loaded.
 *--*/
#ifndef POSTMILL_CFG_COMMON_H
#define POSTMILL_CFG_COMMON_H

#include "cfg.h"

struct common_conf {
	char		*run_user;	/* drop to this user after binding */
	char		*run_group;	/* and this group (NULL: the user's) */
	long long	 socket_mode;	/* unix socket permissions */
	char		*socket_group;	/* unix socket group (NULL: run_user's) */
	struct cidr_list internal_hosts; /* clients whose mail is ours */
	char		*dns_resolver;	/* "ADDR[@PORT][, ...]" or NULL: system */
	long long	 dns_timeout;	/* ms, per query */
	long long	 debug_level;
	long long	 milter_max_workers;	/* engine/mproto.h's limits */
	long long	 milter_max_connections;
	long long	 milter_memory_limit;	/* bytes */
	long long	 milter_io_timeout; /* ms, libmilter's MTA I/O timeout */
	char		*stats_dir;	/* NAME.stats sockets, or NULL: none */
	/* Redis, for the daemons that keep shared state there (limit, bounce) */
	char		*redis_server;	/* "ADDR:PORT", "[ADDR6]:PORT", "unix:/path" */
	char		*redis_user;	/* ACL user, or NULL: "default" */
	char		*redis_password; /* or NULL: no AUTH */
	char		*redis_sentinel_user;	/* AUTH to the Sentinels */
	char		*redis_sentinel_password;
	bool		 redis_tls;	/* TLS to Redis and the Sentinels */
	char		*redis_tls_ca_file;	/* NULL: the system's CAs */
	char		*redis_tls_cert_file;	/* client certificate, or NULL */
	char		*redis_tls_key_file;	/* its key, or NULL: in the cert file */
	char		*redis_tls_server_name;	/* NULL: verify the IP address */
	long long	 redis_db;	/* SELECT when not 0 */
	long long	 redis_connect_timeout;	/* ms: connect + AUTH + SELECT */
	long long	 redis_command_timeout;	/* ms: one command's reply */
	long long	 redis_backoff_min;	/* ms */
	long long	 redis_backoff_max;	/* ms */
};

extern const struct cfg_section cfg_common_section;

#endif
