/*++
 * NAME
 *	cfg_common 3
 * SUMMARY
 *	the parameters every postmill daemon shares
 * DESCRIPTION
 *	One row per parameter; the only place their defaults live.
 *--*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cfg_common.h"

#define C(field) offsetof(struct common_conf, field)

static const struct cfg_param common_params[] = {
	{"run_user", CFG_STR, "postmill", C(run_user), 0, 0, NULL, NULL,
	 "User the daemons run as after binding their sockets (empty: do not change user)."},
	{"run_group", CFG_STR, "", C(run_group), 0, 0, NULL, NULL,
	 "Group the daemons run as (empty: the primary group of run_user)."},
	{"socket_mode", CFG_MODE, "0660", C(socket_mode), 0, 07777, NULL, NULL,
	 "Permissions of unix-domain milter sockets; Postfix's user must be able to connect."},
	{"socket_group", CFG_STR, "", C(socket_group), 0, 0, NULL, NULL,
	 "Group owning unix-domain milter sockets, e.g. postfix, so that the MTA can connect (empty: run_user's group)."},
	{"internal_hosts", CFG_CIDR, "127.0.0.0/8, ::1", C(internal_hosts), 0, 0, NULL, NULL,
	 "Clients whose mail is outbound mail of hosted senders even without SMTP AUTH."},
	{"dns_resolver", CFG_STR, "", C(dns_resolver), 0, 0, NULL, NULL,
	 "DNS servers to ask, \"ADDR[@PORT]\" separated by commas, up to 3 (empty: /etc/resolv.conf)."},
	{"dns_timeout", CFG_TIME, "2s", C(dns_timeout), 100, 30000, NULL, "s",
	 "Time limit for one DNS query, retries included."},
	{"debug_level", CFG_INT, "0", C(debug_level), 0, 9, NULL, NULL,
	 "Log debug lines when above 0."},
	{"milter_max_workers", CFG_INT, "128", C(milter_max_workers), 1, 4096, NULL, NULL,
	 "Threads that run milter callbacks at once; idle connections need none (they wait in one epoll set). Beyond this, input waits for a free thread, and a line is logged. milter_io_timeout also bounds one whole packet (first byte to last) and the MTA's reading of one batch of replies."},
	{"milter_max_connections", CFG_INT, "16384", C(milter_max_connections), 1, 1000000, NULL, NULL,
	 "Open MTA connections at most; more are closed at once (logged), so that the MTA applies milter_default_action. Also held 64 below the open-file limit (systemd LimitNOFILE)."},
	{"milter_memory_limit", CFG_SIZE, "256m", C(milter_memory_limit), 1048576, 68719476736LL, NULL, NULL,
	 "Bytes of buffered milter protocol data (packets being read, macros kept, replies not yet sent) in one daemon; when spent, new connections are refused and a session that needs a larger buffer ends, each logged."},
	{"milter_io_timeout", CFG_TIME, "300s", C(milter_io_timeout), 1000, 3600000, NULL, "s",
	 "How long a daemon waits for the MTA on an idle milter connection before dropping it."},
	{"stats_dir", CFG_STR, "", C(stats_dir), 0, 0, NULL, NULL,
	 "Directory where each daemon answers on the unix socket NAME.stats with its counters (Prometheus text) for postmill-exporter, e.g. /run/postmill (empty: no counters)."},
	{"redis_server", CFG_STR, "127.0.0.1:6379", C(redis_server), 0, 0, NULL, NULL,
	 "Redis for shared state: ADDR:PORT or [ADDR6]:PORT with a numeric address, unix:/path, or a Sentinel group sentinel:MASTER@ADDR:PORT,ADDR:PORT,... (the master the Sentinels name; never a replica)."},
	{"redis_user", CFG_STR, "", C(redis_user), 0, 0, NULL, NULL,
	 "Redis ACL user for AUTH (empty: the default user; needs redis_password)."},
	{"redis_password", CFG_SECRET, "", C(redis_password), 0, 0, NULL, NULL,
	 "Redis password for AUTH (empty: no AUTH); keep this file unreadable by others when set (postmillctl config shows <hidden>)."},
	{"redis_sentinel_user", CFG_STR, "", C(redis_sentinel_user), 0, 0, NULL, NULL,
	 "ACL user for AUTH to the Sentinels of redis_server = sentinel:... (empty: the default user; needs redis_sentinel_password)."},
	{"redis_sentinel_password", CFG_SECRET, "", C(redis_sentinel_password), 0, 0, NULL, NULL,
	 "Password for AUTH to the Sentinels (their requirepass; empty: no AUTH). The master and replicas take redis_password."},
	{"redis_tls", CFG_BOOL, "no", C(redis_tls), 0, 0, NULL, NULL,
	 "Speak TLS to Redis (and to the Sentinels); the server certificate is always verified."},
	{"redis_tls_ca_file", CFG_STR, "", C(redis_tls_ca_file), 0, 0, NULL, NULL,
	 "CA certificates (PEM) that sign Redis' certificate (empty: the system's, /etc/ssl/certs)."},
	{"redis_tls_cert_file", CFG_STR, "", C(redis_tls_cert_file), 0, 0, NULL, NULL,
	 "Client certificate (PEM chain) for Redis' tls-auth-clients (empty: none)."},
	{"redis_tls_key_file", CFG_STR, "", C(redis_tls_key_file), 0, 0, NULL, NULL,
	 "Private key of redis_tls_cert_file (empty: in that file); refused when others may read it."},
	{"redis_tls_server_name", CFG_STR, "", C(redis_tls_server_name), 0, 0, NULL, NULL,
	 "Name Redis' certificate must carry (empty: its IP address, as connected to, must be in the certificate)."},
	{"redis_db", CFG_INT, "0", C(redis_db), 0, 65535, NULL, NULL,
	 "Redis database number (SELECT)."},
	{"redis_connect_timeout", CFG_TIME, "300ms", C(redis_connect_timeout), 1, 10000, NULL, "ms",
	 "Time limit to open a Redis connection (connect, AUTH and SELECT together)."},
	{"redis_command_timeout", CFG_TIME, "200ms", C(redis_command_timeout), 1, 10000, NULL, "ms",
	 "Time limit for the reply to one Redis command; a stalled Redis never holds a session longer."},
	{"redis_backoff_min", CFG_TIME, "1s", C(redis_backoff_min), 1, 600000, NULL, "ms",
	 "After a Redis failure, calls fail at once for this long before one call tries again."},
	{"redis_backoff_max", CFG_TIME, "30s", C(redis_backoff_max), 1, 600000, NULL, "ms",
	 "The back-off doubles after each failed retry, up to this."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* common_validate - cross-parameter checks */
static void
common_validate(const void *values, const char *path, struct errlist *el)
{
	const struct common_conf *c = values;

	if (c->run_group != NULL && c->run_user == NULL)
		errlist_add_at(el, path, 0,
			       "run_group is set but run_user is empty");
}

const struct cfg_section cfg_common_section = {
	"common", "", common_params, sizeof(struct common_conf), common_validate,
};
