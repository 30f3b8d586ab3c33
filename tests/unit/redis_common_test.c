/*++
 * NAME
 *	redis_common_test 1
 * SUMMARY
 *	unit tests of the shared redis_* parameters (common/redis_common.c)
 * DESCRIPTION
 *	redis_common_conf() copies every parameter; redis_common_pool()
 *	makes a pool for good settings and, for each bad one, returns NULL
 *	with one error naming the file and redis_server. The pool connects
 *	to nothing, so no Redis runs here. A failing row prints "name: got
 *	X, want Y" and the others still run.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdio.h>
#include <string.h>

#include "redis_common.h"

#define CONF_PATH	"/etc/postmill/postmill.conf"

/* good_conf - the defaults of cfg_common.c, server on the IPv4 loopback */
static struct common_conf
good_conf(void)
{
	struct common_conf c;

	memset(&c, 0, sizeof(c));
	c.redis_server = "127.0.0.1:6379";
	c.redis_db = 0;
	c.redis_connect_timeout = 300;
	c.redis_command_timeout = 200;
	c.redis_backoff_min = 1000;
	c.redis_backoff_max = 30000;
	return c;
}

/* test_conf - every parameter lands in its field; strings are borrowed */
static void
test_conf(void **state)
{
	struct common_conf c = good_conf();
	struct redis_conf rc;

	c.redis_user = "postmill";
	c.redis_password = "secret";
	c.redis_db = 3;
	c.redis_connect_timeout = 150;
	c.redis_command_timeout = 250;
	c.redis_backoff_min = 500;
	c.redis_backoff_max = 2000;
	c.redis_sentinel_user = "watcher";
	c.redis_sentinel_password = "sentinel secret";
	c.redis_tls = true;
	c.redis_tls_ca_file = "/etc/postmill/redis-ca.pem";
	c.redis_tls_cert_file = "/etc/postmill/redis-client.pem";
	c.redis_tls_key_file = "/etc/postmill/redis-client.key";
	c.redis_tls_server_name = "redis.example";
	memset(&rc, 0x5a, sizeof(rc));
	redis_common_conf(&c, &rc);
	assert_ptr_equal(rc.server, c.redis_server);
	assert_ptr_equal(rc.user, c.redis_user);
	assert_ptr_equal(rc.password, c.redis_password);
	assert_int_equal(rc.db, 3);
	assert_int_equal(rc.connect_timeout_ms, 150);
	assert_int_equal(rc.command_timeout_ms, 250);
	assert_int_equal(rc.backoff_min_ms, 500);
	assert_int_equal(rc.backoff_max_ms, 2000);
	assert_int_equal(rc.max_idle, 0);
	assert_ptr_equal(rc.sentinel_user, c.redis_sentinel_user);
	assert_ptr_equal(rc.sentinel_password, c.redis_sentinel_password);
	assert_true(rc.tls);
	assert_ptr_equal(rc.tls_ca_file, c.redis_tls_ca_file);
	assert_ptr_equal(rc.tls_cert_file, c.redis_tls_cert_file);
	assert_ptr_equal(rc.tls_key_file, c.redis_tls_key_file);
	assert_ptr_equal(rc.tls_server_name, c.redis_tls_server_name);
}

/* test_pool - good settings make a pool; bad ones one error, no pool */
static void
test_pool(void **state)
{
	static const struct {
		const char *name;
		const char *server, *user, *password;
		long long db, backoff_min, backoff_max, connect_timeout;
		const char *want;	/* error, or NULL: a pool for server */
	} cases[] = {
		{"v4", "127.0.0.1:6379", NULL, NULL, 0, 1000, 30000, 200, NULL},
		{"v6", "[::1]:6380", NULL, NULL, 0, 1000, 30000, 200, NULL},
		{"unix", "unix:/run/redis/redis.sock", NULL, NULL, 0, 1000, 30000,
		 200, NULL},
		{"user and password", "127.0.0.1:6379", "u", "p", 2, 1000, 30000,
		 200, NULL},
		{"min equals max", "127.0.0.1:6379", NULL, NULL, 0, 500, 500, 200,
		 NULL},
		{"host name", "redis.example:6379", NULL, NULL, 0, 1000, 30000, 200,
		 CONF_PATH ": redis_server = redis.example:6379: "},
		{"no server", NULL, NULL, NULL, 0, 1000, 30000, 200,
		 CONF_PATH ": redis_server = : "},
		{"user without password", "127.0.0.1:6379", "u", NULL, 0, 1000,
		 30000, 200, CONF_PATH ": redis_server = 127.0.0.1:6379: ACL user "
		 "given without a password"},
		{"backoff min above max", "127.0.0.1:6379", NULL, NULL, 0, 5000,
		 1000, 200, CONF_PATH ": redis_server = 127.0.0.1:6379: minimum "
		 "back-off out of range (1 ms..maximum back-off)"},
		{"connect timeout 0", "127.0.0.1:6379", NULL, NULL, 0, 1000, 30000,
		 0, CONF_PATH ": redis_server = 127.0.0.1:6379: connect timeout "
		 "out of range (1..10000 ms)"},
		{"negative db", "127.0.0.1:6379", NULL, NULL, -1, 1000, 30000, 200,
		 CONF_PATH ": redis_server = 127.0.0.1:6379: database number must "
		 "be 0 or more"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct common_conf c = good_conf();
		struct errlist el = ERRLIST_INIT;
		struct redis_pool *pool;

		c.redis_server = (char *)cases[i].server;
		c.redis_user = (char *)cases[i].user;
		c.redis_password = (char *)cases[i].password;
		c.redis_db = cases[i].db;
		c.redis_backoff_min = cases[i].backoff_min;
		c.redis_backoff_max = cases[i].backoff_max;
		c.redis_connect_timeout = cases[i].connect_timeout;
		pool = redis_common_pool(&c, CONF_PATH, &el);
		if (cases[i].want == NULL) {
			if (pool == NULL)
				tcase_bad(cases[i].name, "got error \"%s\", want a pool",
					  el.count ? el.msgs[0] : "(none)");
			else if (strcmp(redis_pool_server(pool), cases[i].server) != 0)
				tcase_bad(cases[i].name, "server: got %s, want %s",
					  redis_pool_server(pool), cases[i].server);
			if (el.count != 0)
				tcase_bad(cases[i].name, "got %zu errors, want 0",
					  el.count);
		} else {
			if (pool != NULL)
				tcase_bad(cases[i].name, "got a pool, want \"%s\"",
					  cases[i].want);
			if (el.count != 1)
				tcase_bad(cases[i].name, "got %zu errors, want 1",
					  el.count);
			else if (strncmp(el.msgs[0], cases[i].want,
					 strlen(cases[i].want)) != 0)
				tcase_bad(cases[i].name, "got \"%s\", want \"%s...\"",
					  el.msgs[0], cases[i].want);
		}
		redis_pool_free(pool);
		errlist_free(&el);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
