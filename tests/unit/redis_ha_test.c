/*++
 * NAME
 *	redis_ha_test 1
 * SUMMARY
 *	unit tests of the Redis client's Sentinel and TLS support, against
 *	real redis-server and redis-sentinel processes
 * DESCRIPTION
 *	A table first, no server needed: configurations that mix Sentinel,
 *	TLS and unix sockets (Sentinel server strings are rows of
 *	redis_test's server table).
 *
 *	Sentinel: one master, two replicas and three Sentinels (quorum 2),
 *	each a redis-server on 127.0.0.1 and a free port, started with
 *	tests/unit/redis_fixture.c. The pool finds the master through the
 *	Sentinels (also when the first Sentinel listed is dead); a forced
 *	failover (SENTINEL FAILOVER) turns the master into a replica under
 *	the pool's open connections, and a killed master is replaced by a
 *	promoted replica. In both cases every INCR the pool reported as done
 *	is in the new master's counter (nothing written to a replica, nothing
 *	lost), and the time until writes work again is printed.
 *
 *	TLS: a CA, a server certificate (IP 127.0.0.1 and DNS redis.test)
 *	and a client certificate made with the openssl command, and a
 *	redis-server with --tls-port and tls-auth-clients. Verified by IP
 *	and by name, a wrong name and an unknown CA refused, the client
 *	certificate required and sent, a world-readable key refused, and an
 *	idle TLS connection reused (the session tickets TLS 1.3 sends after
 *	the handshake do not make it look dead).
 *
 *	No test depends on speed: waits are polls with generous deadlines
 *	(a failover that takes 30 s fails the test, one that takes 3 s or 10
 *	does not).
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MASTER_NAME	"pm"
#define WAIT_MS		30000	/* the longest any failover may take here */

/*
 * Tables.
 */
struct ha_conf_case {
	const char	*name;
	const char	*server;
	const char	*sentinel_user, *sentinel_password;
	bool		 tls;
	const char	*ca, *cert, *key, *server_name;
	const char	*why;		/* NULL: accepted */
};

static const struct ha_conf_case ha_conf_cases[] = {
	{"sentinel", "sentinel:m@127.0.0.1", NULL, NULL, false, NULL, NULL, NULL, NULL, NULL},
	{"sentinel-auth", "sentinel:m@127.0.0.1", "u", "p", false, NULL, NULL, NULL, NULL, NULL},
	{"sentinel-password", "sentinel:m@127.0.0.1", NULL, "p", false, NULL, NULL, NULL, NULL, NULL},
	{"sentinel-user-only", "sentinel:m@127.0.0.1", "u", NULL, false, NULL, NULL, NULL, NULL,
	 "Sentinel ACL user given without a Sentinel password"},
	{"sentinel-password-not-sentinel", "127.0.0.1:6379", NULL, "p", false, NULL, NULL, NULL,
	 NULL, "the server is not sentinel:"},
	{"tls", "127.0.0.1:6379", NULL, NULL, true, NULL, NULL, NULL, NULL, NULL},
	{"tls-sentinel", "sentinel:m@127.0.0.1", NULL, NULL, true, NULL, NULL, NULL, "r.test", NULL},
	{"tls-unix", "unix:/run/redis.sock", NULL, NULL, true, NULL, NULL, NULL, NULL,
	 "TLS over a unix socket"},
	{"tls-files-tls-off", "127.0.0.1:6379", NULL, NULL, false, "/etc/ca.pem", NULL, NULL,
	 NULL, "redis_tls is off"},
	{"tls-name-tls-off", "127.0.0.1:6379", NULL, NULL, false, NULL, NULL, NULL, "r.test",
	 "redis_tls is off"},
};

/* test_conf_ha - configurations with Sentinel and TLS settings */
static void
test_conf_ha(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(ha_conf_cases); i++) {
		const struct ha_conf_case *c = &ha_conf_cases[i];
		struct redis_conf conf;
		const char *why = NULL;
		int	rc;

		memset(&conf, 0, sizeof(conf));
		conf.server = c->server;
		conf.sentinel_user = c->sentinel_user;
		conf.sentinel_password = c->sentinel_password;
		conf.tls = c->tls;
		conf.tls_ca_file = c->ca;
		conf.tls_cert_file = c->cert;
		conf.tls_key_file = c->key;
		conf.tls_server_name = c->server_name;
		conf.connect_timeout_ms = 300;
		conf.command_timeout_ms = 200;
		conf.backoff_min_ms = 100;
		conf.backoff_max_ms = 1000;
		rc = redis_conf_check(&conf, &why);
		if (c->why == NULL && rc != 0)
			tcase_bad(c->name, "got error \"%s\", want accepted", why);
		else if (c->why != NULL && rc == 0)
			tcase_bad(c->name, "got accepted, want \"...%s...\"", c->why);
		else if (c->why != NULL && strstr(why, c->why) == NULL)
			tcase_bad(c->name, "got error \"%s\", want \"...%s...\"", why, c->why);
	}
	tcase_done();
}

/*
 * Helpers shared by the server tests.
 */

/* ha_conf - a pool configuration with the tests' bounds */
static struct redis_conf
ha_conf(const char *server)
{
	struct redis_conf c;

	memset(&c, 0, sizeof(c));
	c.server = server;
	c.connect_timeout_ms = 1000;
	c.command_timeout_ms = 1000;
	c.backoff_min_ms = 100;
	c.backoff_max_ms = 400;
	return c;
}

/* ha_pool - a pool, or a failed test */
static struct redis_pool *
ha_pool(const struct redis_conf *c)
{
	const char *why = NULL;
	struct redis_pool *p = redis_pool_new(c, &why);

	if (p == NULL)
		fail_msg("redis_pool_new(%s): %s", c->server, why);
	return p;
}

/* ha_int - an integer reply, or -1 with *err */
static long long
ha_int(struct redis_pool *p, const char **err, const char *fmt, ...)
{
	redisReply *r;
	long long v = -1;
	va_list	ap;

	va_start(ap, fmt);
	r = redis_vcommand(p, err, fmt, ap);
	va_end(ap);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	else if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else if (r->type == REDIS_REPLY_ERROR)
		*err = "error reply";
	freeReplyObject(r);
	return v;
}

/* ha_role - "master", "slave", ... of the server at addr, or "" */
static void
ha_role(const char *addr, char *out, size_t len)
{
	struct redis_conf c = ha_conf(addr);
	struct redis_pool *p = ha_pool(&c);
	const char *err = NULL;
	redisReply *r = redis_command(p, &err, "ROLE");

	out[0] = '\0';
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
	    && r->element[0]->type == REDIS_REPLY_STRING)
		snprintf(out, len, "%s", r->element[0]->str);
	if (r != NULL)
		freeReplyObject(r);
	redis_pool_free(p);
}

/*
 * Sentinel: one master, two replicas, three Sentinels.
 */
static struct redis_fixture rf_data[3], rf_sentinel[3];
static char replicaof[2][64], sentinel_conf[512], group[256];
static const char *replica_argv[2][3];
static bool have_sentinel;
static char sentinel_err[256];

/* sentinel_setup - start them all and wait until the Sentinels agree */
static int
sentinel_setup(void **state)
{
	(void)state;
	if (!redis_fixture_available())
		return 0;
	if (redis_fixture_start(&rf_data[0], 0, NULL, sentinel_err, sizeof(sentinel_err)) < 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		snprintf(replicaof[i], sizeof(replicaof[i]), "127.0.0.1 %u", rf_data[0].port);
		replica_argv[i][0] = "--replicaof";
		replica_argv[i][1] = replicaof[i];
		replica_argv[i][2] = NULL;
		if (redis_fixture_start_with(&rf_data[i + 1], 0, NULL, replica_argv[i],
					     sentinel_err, sizeof(sentinel_err)) < 0)
			return 0;
	}
	/* fast failure detection, so that the failover tests take seconds */
	snprintf(sentinel_conf, sizeof(sentinel_conf),
		 "sentinel monitor " MASTER_NAME " 127.0.0.1 %u 2\n"
		 "sentinel down-after-milliseconds " MASTER_NAME " 1000\n"
		 "sentinel failover-timeout " MASTER_NAME " 5000\n"
		 "sentinel parallel-syncs " MASTER_NAME " 2\n",
		 rf_data[0].port);
	for (int i = 0; i < 3; i++)
		if (redis_fixture_start_with(&rf_sentinel[i], REDIS_FIXTURE_SENTINEL,
					     sentinel_conf, NULL, sentinel_err,
					     sizeof(sentinel_err)) < 0)
			return 0;
	snprintf(group, sizeof(group), "sentinel:" MASTER_NAME "@127.0.0.1:%u,127.0.0.1:%u,127.0.0.1:%u",
		 rf_sentinel[0].port, rf_sentinel[1].port, rf_sentinel[2].port);
	have_sentinel = true;
	return 0;
}

/* sentinel_teardown - stop them, by pid */
static int
sentinel_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		if (rf_sentinel[i].dir[0] != '\0')
			redis_fixture_stop(&rf_sentinel[i]);
		if (rf_data[i].dir[0] != '\0')
			redis_fixture_stop(&rf_data[i]);
	}
	return 0;
}

#define need_sentinel() do { \
	if (!redis_fixture_available()) { \
		print_message("redis-server not installed\n"); \
		skip(); \
	} \
	if (!have_sentinel) \
		fail_msg("servers did not start: %s", sentinel_err); \
} while (0)

/* master_index - which of rf_data is master now (ROLE), or -1 */
static int
master_index(void)
{
	char	role[32];

	for (int i = 0; i < 3; i++) {
		if (rf_data[i].pid == 0)
			continue;
		ha_role(rf_data[i].server, role, sizeof(role));
		if (strcmp(role, "master") == 0)
			return i;
	}
	return -1;
}

/* wait_replicas_synced - both replicas of the master at m have caught up */
static void
wait_replicas_synced(int m)
{
	long long end = tcase_now_ms() + WAIT_MS;
	struct redis_conf c = ha_conf(rf_data[m].server);
	struct redis_pool *p = ha_pool(&c);
	const char *err = NULL;

	/* WAIT returns how many replicas acknowledged every write so far */
	while (ha_int(p, &err, "WAIT %d %d", 2, 1000) < 2) {
		if (tcase_now_ms() > end)
			fail_msg("replicas of %s did not sync in %d ms", rf_data[m].server, WAIT_MS);
		tcase_sleep_ms(100);
	}
	redis_pool_free(p);
}

/* test_sentinel_finds_master - writes go to the master the Sentinels name */
static void
test_sentinel_finds_master(void **state)
{
	struct redis_conf c;
	struct redis_pool *p, *direct;
	const char *err = NULL;
	char	dead_first[300];
	unsigned dead = redis_fixture_free_port();

	(void)state;
	need_sentinel();
	c = ha_conf(group);
	p = ha_pool(&c);
	if (ha_int(p, &err, "SET ha:k 41") != -1 || err != NULL)
		fail_msg("SET through the Sentinels: %s", err ? err : "odd reply");
	assert_int_equal(ha_int(p, &err, "INCR ha:k"), 42);
	redis_pool_free(p);
	/* the value is on the master itself */
	c = ha_conf(rf_data[0].server);
	direct = ha_pool(&c);
	assert_int_equal(ha_int(direct, &err, "GET ha:k"), 42);
	redis_pool_free(direct);

	/* a dead Sentinel first in the list costs a refused connect, no more */
	snprintf(dead_first, sizeof(dead_first), "sentinel:" MASTER_NAME "@127.0.0.1:%u,127.0.0.1:%u",
		 dead, rf_sentinel[1].port);
	c = ha_conf(dead_first);
	p = ha_pool(&c);
	assert_int_equal(ha_int(p, &err, "INCR ha:k"), 43);
	redis_pool_free(p);

	/* a name the Sentinels do not monitor is an error, said as such */
	snprintf(dead_first, sizeof(dead_first), "sentinel:nosuch@127.0.0.1:%u",
		 rf_sentinel[0].port);
	c = ha_conf(dead_first);
	p = ha_pool(&c);
	redisReply *r = redis_command(p, &err, "PING");

	assert_null(r);
	if (err == NULL || strstr(err, "does not know master nosuch") == NULL)
		fail_msg("unknown master: got \"%s\"", err ? err : "(null)");
	redis_pool_free(p);
}

/*
 * incr_until - INCR through the pool: 100, then midway(), then on until
 * the pool has seen the change (a failed call) and n more succeeded
 *
 * Counts the INCRs that succeeded in *done; fails the test when no INCR
 * succeeds for WAIT_MS. Returns the longest stretch without a
 * successful INCR.
 */
static long long first_after;	/* the value of the first INCR after the change */

static long long
incr_until(struct redis_pool *p, int n, long long *done, void (*midway)(void))
{
	long long last_ok = tcase_now_ms(), worst = 0, v;
	int	after = -1;	/* successes since the pool saw a failure */

	for (int ok = 0; after < n;) {
		struct redis_pool_stats st;
		const char *err = NULL;
		long long now;

		if (ok == 100 && midway != NULL) {
			midway();
			midway = NULL;
		}
		now = tcase_now_ms();
		if ((v = ha_int(p, &err, "INCR ha:count")) > 0) {
			if (now - last_ok > worst)
				worst = now - last_ok;
			last_ok = now;
			ok++;
			(*done)++;
			if (after == 0)
				first_after = v;
			if (after >= 0)
				after++;
		} else if (now - last_ok > WAIT_MS) {
			fail_msg("no write for %d ms: %s", WAIT_MS, err ? err : "(null)");
		} else {
			tcase_sleep_ms(20);
		}
		redis_pool_stats(p, &st);
		if (after < 0 && (st.failures > 0 || st.master_changes > 0))
			after = 0;
		if (after < 0 && now - last_ok > WAIT_MS)
			fail_msg("the pool never saw the master change");
		/* a steady trickle, not a flood: the change must land mid-stream */
		if (midway == NULL && after < 0)
			tcase_sleep_ms(2);
	}
	return worst;
}

/* force_failover - SENTINEL FAILOVER: the master becomes a replica */
static void
force_failover(void)
{
	struct redis_conf c = ha_conf(rf_sentinel[2].server);
	struct redis_pool *s = ha_pool(&c);
	const char *err = NULL;
	redisReply *r = redis_command(s, &err, "SENTINEL FAILOVER %s", MASTER_NAME);

	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		fail_msg("SENTINEL FAILOVER: %s", r ? r->str : err);
	freeReplyObject(r);
	redis_pool_free(s);
}

static int killed_master = -1;

/* kill_master - the master process goes away (SIGTERM, then SIGKILL) */
static void
kill_master(void)
{
	killed_master = master_index();
	if (killed_master < 0)
		fail_msg("no master to kill");
	redis_fixture_halt(&rf_data[killed_master]);
}

/*
 * check_count - the new master holds every INCR done after the change
 *
 * Writes a demoted master took before the pool noticed (at most about a
 * second's worth, see redis_sentinel_recheck()) are lost when it resyncs
 * from the new master: Redis' asynchronous replication. Every write after
 * the change must be on the new master, in sequence.
 */
static void
check_count(long long want, int old_master)
{
	long long end = tcase_now_ms() + WAIT_MS;
	int	m;

	/* ROLE of the old master flips a moment after the Sentinels switch */
	while ((m = master_index()) < 0 || m == old_master) {
		if (tcase_now_ms() > end)
			fail_msg("no new master after %d ms", WAIT_MS);
		tcase_sleep_ms(50);
	}
	struct redis_conf c = ha_conf(rf_data[m].server);
	struct redis_pool *p = ha_pool(&c);
	const char *err = NULL;

	assert_int_equal(ha_int(p, &err, "GET ha:count"), want);
	redis_pool_free(p);
}

/* test_sentinel_forced_failover - open links to a demoted master: READONLY */
static void
test_sentinel_forced_failover(void **state)
{
	struct redis_conf c;
	struct redis_pool *p;
	const char *err = NULL;
	long long done = 0, worst;
	int	old;

	(void)state;
	need_sentinel();
	old = master_index();
	assert_true(old >= 0);
	wait_replicas_synced(old);
	c = ha_conf(group);
	p = ha_pool(&c);
	(void)ha_int(p, &err, "DEL ha:count");
	worst = incr_until(p, 400, &done, force_failover);
	redis_pool_free(p);
	check_count(first_after + 400 - 1, old);
	print_message("forced failover: %lld INCRs acknowledged, %lld of them by the "
		      "demoted master before the pool moved (lost in its resync); "
		      "longest wait for a write %lld ms\n",
		      done, done - (first_after + 400 - 1), worst);
}

/* test_sentinel_master_killed - a promoted replica takes the writes */
static void
test_sentinel_master_killed(void **state)
{
	struct redis_conf c;
	struct redis_pool *p;
	const char *err = NULL;
	long long done = 0, worst, before;
	int	old;

	(void)state;
	need_sentinel();
	old = master_index();
	assert_true(old >= 0);
	c = ha_conf(group);
	p = ha_pool(&c);
	before = ha_int(p, &err, "GET ha:count");
	if (before < 0)
		before = 0;
	done = before;
	wait_replicas_synced(old);
	worst = incr_until(p, 400, &done, kill_master);
	print_message("master killed: %lld INCRs, longest wait for a write %lld ms "
		      "(Sentinel: down-after 1000 ms, back-off %ld ms)\n",
		      done - before, worst, c.backoff_min_ms);
	redis_pool_free(p);
	/*
	 * Asynchronous replication may lose writes acknowledged just before
	 * the kill (the bound Redis documents); WAIT above makes the window
	 * start at the first INCR, so count only what a replica saw: the new
	 * master must hold at least what was synced and never more than done.
	 */
	long long end = tcase_now_ms() + WAIT_MS;
	int	m;

	while ((m = master_index()) < 0 || m == killed_master) {
		if (tcase_now_ms() > end)
			fail_msg("no new master after %d ms", WAIT_MS);
		tcase_sleep_ms(50);
	}
	c = ha_conf(rf_data[m].server);
	p = ha_pool(&c);
	long long got = ha_int(p, &err, "GET ha:count");

	redis_pool_free(p);
	if (got > done || got < before)
		fail_msg("new master counts %lld, want %lld..%lld", got, before, done);
	print_message("master killed: %lld of %lld acknowledged INCRs on the new master\n",
		      got - before, done - before);
}

/*
 * TLS.
 */
static struct redis_fixture rf_tls;
static char tls_dir[64], tls_port_text[16], tls_server[32];
static char path_ca[128], path_cert[128], path_key[128], path_ccert[128],
	path_ckey[128], path_rogue[128];
static const char *tls_argv[16];
static bool have_tls;
static char tls_err[256];

/* sh - run a shell command quietly: 0 on success */
static int
sh(const char *fmt, ...)
{
	char	cmd[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* tls_setup - certificates, then redis-server with a TLS port */
static int
tls_setup(void **state)
{
	unsigned port;
	int	n = 0;

	(void)state;
	if (!redis_fixture_available())
		return 0;
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/postmill-tls-XXXXXX");
	if (mkdtemp(tls_dir) == NULL) {
		snprintf(tls_err, sizeof(tls_err), "mkdtemp: %s", strerror(errno));
		return 0;
	}
	snprintf(path_ca, sizeof(path_ca), "%s/ca.pem", tls_dir);
	snprintf(path_cert, sizeof(path_cert), "%s/server.pem", tls_dir);
	snprintf(path_key, sizeof(path_key), "%s/server.key", tls_dir);
	snprintf(path_ccert, sizeof(path_ccert), "%s/client.pem", tls_dir);
	snprintf(path_ckey, sizeof(path_ckey), "%s/client.key", tls_dir);
	snprintf(path_rogue, sizeof(path_rogue), "%s/rogue.pem", tls_dir);
	if (sh("cd %s && exec >openssl.log 2>&1 && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout ca.key -out ca.pem -days 2 -subj /CN=postmill-test-ca && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue-ca && "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout server.key -out server.csr -subj /CN=redis.test && "
	       "printf 'subjectAltName=IP:127.0.0.1,DNS:redis.test\\n' > san.ext && "
	       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	       "-days 2 -extfile san.ext -out server.pem && "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	       "-keyout client.key -out client.csr -subj /CN=postmill-client && "
	       "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	       "-days 2 -out client.pem && chmod 600 server.key client.key",
	       tls_dir) < 0) {
		snprintf(tls_err, sizeof(tls_err), "openssl failed: see %s/openssl.log", tls_dir);
		return 0;
	}
	if ((port = redis_fixture_free_port()) == 0) {
		snprintf(tls_err, sizeof(tls_err), "no free port");
		return 0;
	}
	snprintf(tls_port_text, sizeof(tls_port_text), "%u", port);
	snprintf(tls_server, sizeof(tls_server), "127.0.0.1:%u", port);
	tls_argv[n++] = "--tls-port";
	tls_argv[n++] = tls_port_text;
	tls_argv[n++] = "--tls-cert-file";
	tls_argv[n++] = path_cert;
	tls_argv[n++] = "--tls-key-file";
	tls_argv[n++] = path_key;
	tls_argv[n++] = "--tls-ca-cert-file";
	tls_argv[n++] = path_ca;
	tls_argv[n++] = "--tls-auth-clients";
	tls_argv[n++] = "yes";
	tls_argv[n] = NULL;
	if (redis_fixture_start_with(&rf_tls, 0, NULL, tls_argv, tls_err, sizeof(tls_err)) < 0)
		return 0;
	have_tls = true;
	return 0;
}

/* tls_teardown - stop the server, remove the certificates */
static int
tls_teardown(void **state)
{
	(void)state;
	if (rf_tls.dir[0] != '\0')
		redis_fixture_stop(&rf_tls);
	if (tls_dir[0] != '\0')
		(void)sh("rm -rf %s", tls_dir);
	return 0;
}

#define need_tls() do { \
	if (!redis_fixture_available()) { \
		print_message("redis-server not installed\n"); \
		skip(); \
	} \
	if (!have_tls) \
		fail_msg("TLS server did not start: %s", tls_err); \
} while (0)

/* tls_conf - a TLS configuration for the test server */
static struct redis_conf
tls_conf(const char *ca, const char *cert, const char *key, const char *name)
{
	struct redis_conf c = ha_conf(tls_server);

	c.tls = true;
	c.tls_ca_file = ca;
	c.tls_cert_file = cert;
	c.tls_key_file = key;
	c.tls_server_name = name;
	return c;
}

struct tls_case {
	const char	*name;
	int		 ca;		/* 0: ours, 1: rogue */
	bool		 client_cert;
	const char	*server_name;
	const char	*err;		/* NULL: works; else a piece of *err */
};

static const struct tls_case tls_cases[] = {
	{"by-ip", 0, true, NULL, NULL},
	{"by-name", 0, true, "redis.test", NULL},
	{"wrong-name", 0, true, "other.test", "not verified"},
	{"unknown-ca", 1, true, NULL, "not verified"},
	{"no-client-cert", 0, false, NULL, ""},
};

/* test_tls - verification both ways, with the server's answers */
static void
test_tls(void **state)
{
	(void)state;
	need_tls();
	for (size_t i = 0; i < NELEM(tls_cases); i++) {
		const struct tls_case *t = &tls_cases[i];
		struct redis_conf c = tls_conf(t->ca ? path_rogue : path_ca,
					       t->client_cert ? path_ccert : NULL,
					       t->client_cert ? path_ckey : NULL,
					       t->server_name);
		struct redis_pool *p = ha_pool(&c);
		const char *err = NULL;
		long long v = ha_int(p, &err, "INCR tls:%s", t->name);

		if (t->err == NULL && v != 1)
			tcase_bad(t->name, "got error \"%s\", want 1", err ? err : "(null)");
		else if (t->err != NULL && v >= 0)
			tcase_bad(t->name, "got %lld, want an error", v);
		else if (t->err != NULL && (err == NULL || strstr(err, t->err) == NULL))
			tcase_bad(t->name, "got error \"%s\", want \"...%s...\"",
				  err ? err : "(null)", t->err);
		redis_pool_free(p);
	}
	tcase_done();
}

/* test_tls_reuse - an idle TLS link is reused, not reopened */
static void
test_tls_reuse(void **state)
{
	struct redis_conf c;
	struct redis_pool *p;
	struct redis_pool_stats st;
	const char *err = NULL;

	(void)state;
	need_tls();
	c = tls_conf(path_ca, path_ccert, path_ckey, NULL);
	p = ha_pool(&c);
	for (int i = 1; i <= 50; i++) {
		assert_int_equal(ha_int(p, &err, "INCR tls:reuse"), i);
		/* let TLS 1.3 session tickets arrive on the idle link */
		if (i == 1)
			tcase_sleep_ms(100);
	}
	redis_pool_stats(p, &st);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.failures, 0);
	redis_pool_free(p);
}

/* test_tls_key_perms - a key others can read is refused at load */
static void
test_tls_key_perms(void **state)
{
	struct redis_conf c;
	const char *why = NULL;

	(void)state;
	need_tls();
	assert_int_equal(chmod(path_ckey, 0644), 0);
	c = tls_conf(path_ca, path_ccert, path_ckey, NULL);
	assert_null(redis_pool_new(&c, &why));
	assert_non_null(why);
	if (strstr(why, "readable by others") == NULL)
		fail_msg("got \"%s\", want \"...readable by others...\"", why);
	assert_int_equal(chmod(path_ckey, 0600), 0);
	/* and a CA file that is not there says which setting */
	c = tls_conf("/nonexistent/ca.pem", NULL, NULL, NULL);
	assert_null(redis_pool_new(&c, &why));
	if (strstr(why, "redis_tls_ca_file") == NULL)
		fail_msg("got \"%s\", want \"...redis_tls_ca_file...\"", why);
}

int
main(void)
{
	const struct CMUnitTest tables[] = {
		cmocka_unit_test(test_conf_ha),
	};
	const struct CMUnitTest sentinel[] = {
		cmocka_unit_test(test_sentinel_finds_master),
		cmocka_unit_test(test_sentinel_forced_failover),
		cmocka_unit_test(test_sentinel_master_killed),
	};
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_reuse),
		cmocka_unit_test(test_tls_key_perms),
	};
	int	failed = 0;

	log_open("redis_ha_test", false);
	failed += cmocka_run_group_tests_name("redis_ha tables", tables, NULL, NULL);
	failed += cmocka_run_group_tests_name("redis_ha tls", tls, tls_setup, tls_teardown);
	failed += cmocka_run_group_tests_name("redis_ha sentinel", sentinel, sentinel_setup,
					      sentinel_teardown);
	return failed;
}
