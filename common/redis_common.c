/*++
 * NAME
 *	redis_common 3
 * SUMMARY
 *	the shared redis_* parameters as a Redis connection pool
 * DESCRIPTION
 *	See redis_common.h. Kept apart from cfg_common.c, the parameter
 *	table, so that the table knows nothing of hiredis.
 *--*/
#include "redis_common.h"

/* redis_common_conf - the shared redis_* parameters as a struct redis_conf */
void
redis_common_conf(const struct common_conf *c, struct redis_conf *out)
{
	out->server = c->redis_server;
	out->user = c->redis_user;
	out->password = c->redis_password;
	out->sentinel_user = c->redis_sentinel_user;
	out->sentinel_password = c->redis_sentinel_password;
	out->tls = c->redis_tls;
	out->tls_ca_file = c->redis_tls_ca_file;
	out->tls_cert_file = c->redis_tls_cert_file;
	out->tls_key_file = c->redis_tls_key_file;
	out->tls_server_name = c->redis_tls_server_name;
	out->db = (int)c->redis_db;
	out->connect_timeout_ms = (long)c->redis_connect_timeout;
	out->command_timeout_ms = (long)c->redis_command_timeout;
	out->backoff_min_ms = (long)c->redis_backoff_min;
	out->backoff_max_ms = (long)c->redis_backoff_max;
	out->max_idle = 0;
}

/* redis_common_pool - checked configuration, then a pool; NULL + error */
struct redis_pool *
redis_common_pool(const struct common_conf *c, const char *config_path,
		  struct errlist *el)
{
	struct redis_conf rc;
	struct redis_pool *pool;
	const char *why;

	redis_common_conf(c, &rc);
	if (redis_conf_check(&rc, &why) < 0) {
		errlist_add_at(el, config_path, 0, "redis_server = %s: %s",
			       rc.server ? rc.server : "", why);
		return NULL;
	}
	if ((pool = redis_pool_new(&rc, &why)) == NULL)
		errlist_add_at(el, config_path, 0, "redis: %s", why);
	return pool;
}
