/*++
 * NAME
 *	redis_test 1
 * SUMMARY
 *	unit tests for the Redis client (common/redis.c) against real servers
 * DESCRIPTION
 *	Tables first, no server needed: server strings, Sentinel groups too (accepted with their
 *	parts, rejected with a piece of the reason), whole configurations,
 *	redis_key() escaping, redis_script_sha1().
 *
 *	The group setup then starts three redis-servers with
 *	tests/unit/redis_fixture.c, each on 127.0.0.1 and a free port:
 *	- "main": also a unix socket and DEBUG enabled; shared by the tests
 *	  that leave it as they found it;
 *	- "auth": --requirepass;
 *	- "victim": stopped, restarted and frozen (SIGSTOP) by the tests of
 *	  the failure paths.
 *	Against them: SET/GET over TCP, [::1] and the unix socket, AUTH with
 *	a password and with an ACL user (right and wrong), SELECT, a stopped
 *	server (refused, "backing off", doubling back-off, recovery after a
 *	restart, one "down" and one "up again" log line), a frozen server
 *	(the timeout measured, once for four open connections), a server
 *	frozen during AUTH ("connect
 *	timeout"), a listener whose accept queue is full, a fake server
 *	trickling its reply a byte at a time and one sending garbage, DEBUG
 *	SLEEP past the command timeout, a single probe per back-off period with eight
 *	threads calling, an idle connection killed by the server, EVALSHA
 *	with the NOSCRIPT fallback, redis_evalsha_int() on each kind of
 *	reply (integer, error reply logged under a tag or not, string, nil,
 *	array, status, no reply), and 8 threads x 200 INCR on one key.
 *	Elapsed times are measured: every bound is asserted, with SLACK_MS
 *	for scheduling noise (sanitizer builds included).
 *
 *	Log lines are read from the stderr copy of log_msg(): fd 2 points at
 *	a temporary file while a test captures them.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redis.h"
#include "redis_fixture.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SLACK_MS	150	/* scheduling noise allowed over a bound */
#define FAST_MS		100	/* "at once": no network wait (CI machines are loaded) */

/* the timeouts of the tests' pools */
#define T_CONNECT_MS	300
#define T_COMMAND_MS	200
#define T_BACKOFF_MIN	150
#define T_BACKOFF_MAX	600

#define AUTH_PASSWORD	"s3cret pass{word}"

static struct redis_fixture rf_main, rf_auth, rf_victim;
static bool have_redis;		/* all three servers run */
static char fixture_err[256];

/* now_ms - monotonic milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sleep_ms - nap */
static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		 /* again */ ;
}

/* need_redis - skip the test when redis-server is missing, fail when broken */
#define need_redis() do { \
	if (!redis_fixture_available()) { \
		print_message("redis-server not installed\n"); \
		skip(); \
	} \
	if (!have_redis) \
		fail_msg("redis-server did not start: %s", fixture_err); \
} while (0)

/* assert_between - lo <= got <= hi, saying which bound broke */
#define assert_between(what, got, lo, hi) do { \
	long long got_ = (got); \
	if (got_ < (lo) || got_ > (hi)) \
		fail_msg("%s: got %lld ms, want %lld..%lld ms", (what), got_, \
			 (long long)(lo), (long long)(hi)); \
} while (0)

/* conf_for - the tests' configuration for a server string */
static struct redis_conf
conf_for(const char *server)
{
	struct redis_conf c;

	memset(&c, 0, sizeof(c));
	c.server = server;
	c.connect_timeout_ms = T_CONNECT_MS;
	c.command_timeout_ms = T_COMMAND_MS;
	c.backoff_min_ms = T_BACKOFF_MIN;
	c.backoff_max_ms = T_BACKOFF_MAX;
	return c;
}

/* pool_new - a pool or a failed test */
static struct redis_pool *
pool_new(const struct redis_conf *c)
{
	const char *why = NULL;
	struct redis_pool *p = redis_pool_new(c, &why);

	if (p == NULL)
		fail_msg("redis_pool_new(%s): %s", c->server, why);
	return p;
}

/* pool_for - a pool on server with the tests' defaults */
static struct redis_pool *
pool_for(const char *server)
{
	struct redis_conf c = conf_for(server);

	return pool_new(&c);
}

/* cmd_str - run a command that must succeed; its string reply, or "(nil)" */
static char *
cmd_str(struct redis_pool *p, const char *fmt, ...)
{
	const char *err = NULL;
	redisReply *r;
	va_list	ap;
	char	*s;

	va_start(ap, fmt);
	r = redis_vcommand(p, &err, fmt, ap);
	va_end(ap);
	if (r == NULL)
		fail_msg("%s: got error \"%s\", want a reply", fmt, err);
	if (err != NULL)
		fail_msg("%s: got err \"%s\" with a reply, want NULL", fmt, err);
	switch (r->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		s = xasprintf("%s%.*s", r->type == REDIS_REPLY_ERROR ? "-" : "",
			      (int)r->len, r->str);
		break;
	case REDIS_REPLY_INTEGER:
		s = xasprintf("%lld", r->integer);
		break;
	case REDIS_REPLY_NIL:
		s = xstrdup("(nil)");
		break;
	default:
		s = xasprintf("(type %d)", r->type);
	}
	freeReplyObject(r);
	return s;
}

/* expect_cmd - run a command, compare its reply as cmd_str() gives it */
#define expect_cmd(p, want, ...) do { \
	char *got_ = cmd_str((p), __VA_ARGS__); \
	if (strcmp(got_, (want)) != 0) { \
		char msg_[512]; \
		snprintf(msg_, sizeof(msg_), "got \"%s\", want \"%s\"", got_, (want)); \
		free(got_); \
		fail_msg("%s", msg_); \
	} \
	free(got_); \
} while (0)

/* expect_fail - the command fails with an error starting with want; ms taken */
static long long
expect_fail(struct redis_pool *p, const char *want, const char *fmt, ...)
{
	const char *err = NULL;
	long long t0 = now_ms(), took;
	redisReply *r;
	va_list	ap;

	va_start(ap, fmt);
	r = redis_vcommand(p, &err, fmt, ap);
	va_end(ap);
	took = now_ms() - t0;
	if (r != NULL) {
		int	type = r->type;

		freeReplyObject(r);
		fail_msg("%s: got a reply of type %d, want error \"%s\"", fmt, type, want);
	}
	if (err == NULL || strncmp(err, want, strlen(want)) != 0)
		fail_msg("%s: got error \"%s\", want \"%s...\"", fmt,
			 err ? err : "(null)", want);
	return took;
}

/*
 * Log capture: fd 2 into a temporary file.
 */
static int saved_stderr = -1;
static FILE *capture_fp;

/* capture_begin - log lines go to a file from now on */
static void
capture_begin(void)
{
	fflush(stderr);
	capture_fp = tmpfile();
	assert_non_null(capture_fp);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(capture_fp), STDERR_FILENO);
	log_open("redis_test", true);
}

/* capture_end - stderr back; the captured text, caller frees */
static char *
capture_end(void)
{
	char	*text;
	long	len;

	log_open("redis_test", false);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	len = lseek(fileno(capture_fp), 0, SEEK_END);
	text = xmalloc((size_t)(len > 0 ? len : 0) + 1);
	if (len > 0 && pread(fileno(capture_fp), text, (size_t)len, 0) != len)
		len = 0;
	text[len > 0 ? len : 0] = '\0';
	fclose(capture_fp);
	capture_fp = NULL;
	return text;
}

/* count_lines - lines of text that contain needle */
static int
count_lines(const char *text, const char *needle)
{
	int	n = 0;

	for (const char *line = text; *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t	len = end ? (size_t)(end - line) : strlen(line);

		if (memmem(line, len, needle, strlen(needle)) != NULL)
			n++;
		line += len + (end != NULL);
	}
	return n;
}

/*
 * Tables.
 */

struct server_case {
	const char	*name;
	const char	*text;
	const char	*want;		/* "tcp HOST PORT", "unix PATH", "sentinel NAME N HOST:PORT...", or NULL */
	const char	*why;		/* piece of the reason when rejected */
};

static const struct server_case server_cases[] = {
	{"v4", "127.0.0.1:6379", "tcp 127.0.0.1 6379", NULL},
	{"v4-no-port", "10.1.2.3", "tcp 10.1.2.3 6379", NULL},
	{"v4-port-max", "10.0.0.1:65535", "tcp 10.0.0.1 65535", NULL},
	{"v4-port-1", "10.0.0.1:1", "tcp 10.0.0.1 1", NULL},
	{"v6", "[::1]:6380", "tcp ::1 6380", NULL},
	{"v6-no-port", "[2001:db8::7]", "tcp 2001:db8::7 6379", NULL},
	{"v6-mapped", "[::ffff:192.0.2.1]:7000", "tcp ::ffff:192.0.2.1 7000", NULL},
	{"unix", "unix:/var/run/redis/redis-server.sock",
	 "unix /var/run/redis/redis-server.sock", NULL},
	{"null", NULL, NULL, "empty server"},
	{"empty", "", NULL, "empty server"},
	{"port-0", "127.0.0.1:0", NULL, "port out of range (1..65535)"},
	{"port-65536", "127.0.0.1:65536", NULL, "port out of range (1..65535)"},
	{"port-huge", "127.0.0.1:99999999999999999999999", NULL, "port out of range"},
	{"port-00000", "127.0.0.1:00000", NULL, "port out of range"},
	{"port-empty", "127.0.0.1:", NULL, "missing port after ':'"},
	{"port-alpha", "127.0.0.1:63x9", NULL, "port is not a number"},
	{"port-negative", "127.0.0.1:-1", NULL, "port is not a number"},
	{"port-plus", "127.0.0.1:+80", NULL, "port is not a number"},
	{"v6-port-0", "[::1]:0", NULL, "port out of range"},
	{"v6-port-empty", "[::1]:", NULL, "missing port"},
	{"name", "localhost:6379", NULL, "numeric IP address"},
	{"fqdn", "redis.example.com:6379", NULL, "numeric IP address"},
	{"short-v4", "127.1:6379", NULL, "numeric IP address"},
	{"v4-out-of-range", "256.0.0.1:6379", NULL, "numeric IP address"},
	{"v6-bare", "::1:6379", NULL, "in brackets"},
	{"v6-bare-no-port", "::1", NULL, "in brackets"},
	{"v6-unclosed", "[::1:6379", NULL, "missing ']'"},
	{"v6-no-colon", "[::1]6379", NULL, "expected ':PORT' after ']'"},
	{"v4-in-brackets", "[127.0.0.1]:6379", NULL, "not a numeric IPv6 address"},
	{"v6-zone", "[fe80::1%eth0]:6379", NULL, "not a numeric IPv6 address"},
	{"v6-empty", "[]:6379", NULL, "missing host"},
	{"host-empty", ":6379", NULL, "missing host"},
	{"url", "redis://127.0.0.1:6379", NULL, "not a URL"},
	{"unix-empty", "unix:", NULL, "empty unix socket path"},
	{"unix-relative", "unix:redis.sock", NULL, "must be absolute"},
	{"unix-too-long", "unix:/tmp/"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL, "too long"},
	{"unix-fits", "unix:/tmp/"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxx",
	 "unix /tmp/"
	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	 "xxxxxxxxxxxxxxxxxxxxxxxx", NULL},
	{"leading-blank", " 127.0.0.1:6379", NULL, "blank"},
	{"trailing-blank", "127.0.0.1:6379 ", NULL, "blank"},
	{"tab", "127.0.0.1:\t6379", NULL, "blank"},
	{"newline", "127.0.0.1:6379\n", NULL, "blank"},
	{"utf8", "127.0.0.1:６３７９", NULL, "non-ASCII"},
	{"two-servers", "127.0.0.1:6379,127.0.0.2:6379", NULL, "one server only"},
	/* Sentinel groups: sentinel:MASTER@ADDR:PORT,... */
	{"sentinel-one", "sentinel:mym@127.0.0.1:26380", "sentinel mym 1 127.0.0.1:26380", NULL},
	{"sentinel-default-port", "sentinel:mym@127.0.0.1", "sentinel mym 1 127.0.0.1:26379", NULL},
	{"sentinel-three-mixed", "sentinel:my.master-1_a@127.0.0.1:1,[::1]:2,192.0.2.7",
	 "sentinel my.master-1_a 3 127.0.0.1:1 ::1:2 192.0.2.7:26379", NULL},
	{"sentinel-eight", "sentinel:m@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,"
	 "127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8",
	 "sentinel m 8 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 127.0.0.1:4 127.0.0.1:5 "
	 "127.0.0.1:6 127.0.0.1:7 127.0.0.1:8", NULL},
	{"sentinel-nine", "sentinel:m@127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,"
	 "127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8,127.0.0.1:9",
	 NULL, "too many Sentinels"},
	{"no-at", "sentinel:mym", NULL, "expected sentinel:MASTER@"},
	{"no-name", "sentinel:@127.0.0.1", NULL, "missing master name"},
	{"bad-name", "sentinel:m!x@127.0.0.1", NULL, "master name may hold"},
	{"long-name", "sentinel:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@127.0.0.1",
	 NULL, "master name too long"},
	{"empty-list", "sentinel:mym@", NULL, "empty Sentinel address"},
	{"empty-item", "sentinel:mym@127.0.0.1,,127.0.0.2", NULL, "empty Sentinel address"},
	{"trailing-comma", "sentinel:mym@127.0.0.1,", NULL, "empty Sentinel address"},
	{"hostname", "sentinel:mym@sentinel.example:26379", NULL, "not a numeric IP"},
	{"bad-port", "sentinel:mym@127.0.0.1:99999", NULL, "port out of range"},
	{"v6-no-brackets", "sentinel:mym@::1:26379", NULL, "in brackets"},
	{"sentinel-blank", "sentinel:my m@127.0.0.1", NULL, "blank"},
	{"list-without-sentinel", "127.0.0.1:1,127.0.0.1:2", NULL, "sentinel:MASTER@"},
};

/* test_parse_server - server strings, accepted and rejected */
static void
test_parse_server(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(server_cases); i++) {
		const struct server_case *c = &server_cases[i];
		struct redis_server s;
		const char *why = NULL;
		char	got[512];
		int	rc = redis_conf_parse_server(c->text, &s, &why);

		if (rc == 0 && s.transport == REDIS_TRANSPORT_TCP) {
			snprintf(got, sizeof(got), "tcp %s %d", s.host, s.port);
		} else if (rc == 0 && s.transport == REDIS_TRANSPORT_SENTINEL) {
			size_t	len = (size_t)snprintf(got, sizeof(got), "sentinel %s %u",
						       s.master_name, s.nsentinels);

			for (unsigned k = 0; k < s.nsentinels && len < sizeof(got); k++)
				len += (size_t)snprintf(got + len, sizeof(got) - len, " %s:%d",
							s.sentinels[k].host, s.sentinels[k].port);
		} else if (rc == 0) {
			snprintf(got, sizeof(got), "unix %s", s.path);
		}
		if (c->want != NULL && rc != 0)
			tcase_bad(c->name, "got error \"%s\", want \"%s\"", why, c->want);
		else if (c->want != NULL && strcmp(got, c->want) != 0)
			tcase_bad(c->name, "got \"%s\", want \"%s\"", got, c->want);
		else if (c->want == NULL && rc == 0)
			tcase_bad(c->name, "got \"%s\", want error \"%s\"", got, c->why);
		else if (c->want == NULL && (why == NULL || strstr(why, c->why) == NULL))
			tcase_bad(c->name, "got error \"%s\", want \"...%s...\"",
			    why ? why : "(null)", c->why);
	}
	/* a long string is refused before anything reads past its bound */
	char	*longtext = xmalloc(REDIS_MAX_SERVER_LEN + 2);
	struct redis_server s;
	const char *why = NULL;

	memset(longtext, '1', REDIS_MAX_SERVER_LEN + 1);
	longtext[REDIS_MAX_SERVER_LEN + 1] = '\0';
	if (redis_conf_parse_server(longtext, &s, &why) == 0
	    || strstr(why, "too long") == NULL)
		tcase_bad("too-long", "got \"%s\", want \"...too long...\"", why ? why : "ok");
	free(longtext);
	tcase_done();
}

enum conf_field {
	CF_NONE, CF_SERVER, CF_USER, CF_PASSWORD, CF_DB, CF_CONNECT,
	CF_COMMAND, CF_BMIN, CF_BMAX, CF_IDLE,
};

struct conf_case {
	const char	*name;
	enum conf_field	 field;
	const char	*text;		/* CF_SERVER, CF_USER, CF_PASSWORD */
	long		 value;		/* the numeric fields */
	const char	*why;		/* NULL: accepted */
};

static const struct conf_case conf_cases[] = {
	{"defaults", CF_NONE, NULL, 0, NULL},
	{"unix", CF_SERVER, "unix:/run/redis.sock", 0, NULL},
	{"bad-server", CF_SERVER, "127.0.0.1:0", 0, "port out of range"},
	{"user-no-password", CF_USER, "limiter", 0, "user given without a password"},
	{"empty-user", CF_USER, "", 0, NULL},
	{"empty-password", CF_PASSWORD, "", 0, NULL},
	{"password", CF_PASSWORD, "x", 0, NULL},
	{"db-negative", CF_DB, NULL, -1, "database number"},
	{"db-15", CF_DB, NULL, 15, NULL},
	{"connect-0", CF_CONNECT, NULL, 0, "connect timeout out of range"},
	{"connect-1", CF_CONNECT, NULL, 1, NULL},
	{"connect-max", CF_CONNECT, NULL, REDIS_MAX_TIMEOUT_MS, NULL},
	{"connect-over", CF_CONNECT, NULL, REDIS_MAX_TIMEOUT_MS + 1, "connect timeout out of range"},
	{"command-0", CF_COMMAND, NULL, 0, "command timeout out of range"},
	{"command-negative", CF_COMMAND, NULL, -200, "command timeout out of range"},
	{"command-over", CF_COMMAND, NULL, 30000, "command timeout out of range"},
	{"backoff-min-0", CF_BMIN, NULL, 0, "minimum back-off"},
	{"backoff-min-over-max", CF_BMIN, NULL, T_BACKOFF_MAX + 1, "minimum back-off"},
	{"backoff-min-eq-max", CF_BMIN, NULL, T_BACKOFF_MAX, NULL},
	{"backoff-max-0", CF_BMAX, NULL, 0, "maximum back-off"},
	{"backoff-max-over", CF_BMAX, NULL, REDIS_MAX_BACKOFF_MS + 1, "maximum back-off"},
	{"idle-negative", CF_IDLE, NULL, -1, "idle connections"},
	{"idle-over", CF_IDLE, NULL, REDIS_MAX_IDLE + 1, "idle connections"},
	{"idle-max", CF_IDLE, NULL, REDIS_MAX_IDLE, NULL},
};

/* test_conf_check - whole configurations */
static void
test_conf_check(void **state)
{
	char	*longpw = xmalloc(REDIS_MAX_SECRET_LEN + 2);

	(void)state;
	for (size_t i = 0; i < NELEM(conf_cases); i++) {
		const struct conf_case *c = &conf_cases[i];
		struct redis_conf conf = conf_for("127.0.0.1:6379");
		struct redis_pool *p;
		const char *why = NULL;
		int	rc;

		switch (c->field) {
		case CF_NONE:		break;
		case CF_SERVER:		conf.server = c->text; break;
		case CF_USER:		conf.user = c->text; break;
		case CF_PASSWORD:	conf.password = c->text; break;
		case CF_DB:		conf.db = (int)c->value; break;
		case CF_CONNECT:	conf.connect_timeout_ms = c->value; break;
		case CF_COMMAND:	conf.command_timeout_ms = c->value; break;
		case CF_BMIN:		conf.backoff_min_ms = c->value; break;
		case CF_BMAX:		conf.backoff_max_ms = c->value; break;
		case CF_IDLE:		conf.max_idle = (int)c->value; break;
		}
		rc = redis_conf_check(&conf, &why);
		if (c->why == NULL && rc != 0)
			tcase_bad(c->name, "got error \"%s\", want accepted", why);
		else if (c->why != NULL && rc == 0)
			tcase_bad(c->name, "got accepted, want \"...%s...\"", c->why);
		else if (c->why != NULL && strstr(why, c->why) == NULL)
			tcase_bad(c->name, "got \"%s\", want \"...%s...\"", why, c->why);
		/* redis_pool_new() agrees, and makes no connection */
		why = NULL;
		p = redis_pool_new(&conf, &why);
		if ((p != NULL) != (rc == 0))
			tcase_bad(c->name, "redis_pool_new: got %s, want %s",
			    p ? "a pool" : why, rc == 0 ? "a pool" : "NULL");
		p = redis_pool_free(p);
	}
	memset(longpw, 'p', REDIS_MAX_SECRET_LEN + 1);
	longpw[REDIS_MAX_SECRET_LEN + 1] = '\0';
	{
		struct redis_conf conf = conf_for("127.0.0.1:6379");
		const char *why = NULL;

		conf.password = longpw;
		if (redis_conf_check(&conf, &why) == 0 || strstr(why, "too long") == NULL)
			tcase_bad("password-too-long", "got \"%s\", want \"...too long...\"",
			    why ? why : "accepted");
		longpw[REDIS_MAX_SECRET_LEN] = '\0';
		if (redis_conf_check(&conf, &why) != 0)
			tcase_bad("password-max", "got \"%s\", want accepted", why);
	}
	free(longpw);
	assert_null(redis_pool_free(NULL));
	tcase_done();
}

struct key_case {
	const char	*name;
	const char	*prefix, *tag, *suffix;
	const char	*want;
};

static const struct key_case key_cases[] = {
	{"plain", "rl:", "user@example.com", ":min", "rl:{user@example.com}:min"},
	{"braces-in-tag", "rl:", "a{b}c", ":m", "rl:{a%7Bb%7Dc}:m"},
	{"close-first", "rl:", "}x{", "", "rl:{%7Dx%7B}"},
	{"percent", "rl:", "100%", "", "rl:{100%25}"},
	{"escaped-looking", "rl:", "%7B", "", "rl:{%257B}"},
	{"empty-tag", "rl:", "", ":m", "rl:{%00}:m"},
	{"null-tag", "rl:", NULL, ":m", "rl:{%00}:m"},
	{"tag-percent-00", "rl:", "%00", ":m", "rl:{%2500}:m"},
	{"braces-in-prefix", "p{x}", "t", "s{", "p%7Bx%7D{t}s%7B"},
	{"null-prefix-suffix", NULL, "t", NULL, "{t}"},
	{"utf8", "b:", "j\xc3\xbcrgen@b\xc3\xbc" "cher.example", "",
	 "b:{j\xc3\xbcrgen@b\xc3\xbc" "cher.example}"},
	{"blank-and-colon", "x", "a b:c", "", "x{a b:c}"},
};

/* test_key - hash-tagged keys: escaping, one '{' and one '}', injective */
static void
test_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(key_cases); i++) {
		const struct key_case *c = &key_cases[i];
		char	*got = redis_key(c->prefix, c->tag, c->suffix);
		const char *open = strchr(got, '{'), *close = strchr(got, '}');

		if (strcmp(got, c->want) != 0)
			tcase_bad(c->name, "got \"%s\", want \"%s\"", got, c->want);
		/* Redis Cluster hashes what is between the first '{' and '}' */
		if (open == NULL || close == NULL || close < open + 2
		    || strchr(open + 1, '{') != NULL || strchr(close + 1, '}') != NULL)
			tcase_bad(c->name, "got \"%s\", want exactly one non-empty {tag}", got);
		free(got);
	}
	/* triples that naive concatenation would confuse */
	static const char *const triples[][3] = {
		{"a", "b}c", ""}, {"a", "b", "c"}, {"a", "b", "}c"},
		{"a{", "b", ""}, {"a", "{b", ""}, {"a", "", ""}, {"a", "%00", ""},
		{"a", "%", ""}, {"a", "%25", ""},
	};
	for (size_t i = 0; i < NELEM(triples); i++) {
		for (size_t j = i + 1; j < NELEM(triples); j++) {
			char	*a = redis_key(triples[i][0], triples[i][1], triples[i][2]);
			char	*b = redis_key(triples[j][0], triples[j][1], triples[j][2]);

			if (strcmp(a, b) == 0)
				tcase_bad("injective", "rows %zu and %zu both give \"%s\"", i, j, a);
			free(a);
			free(b);
		}
	}
	tcase_done();
}

/* test_script_sha1 - known SHA-1 values */
static void
test_script_sha1(void **state)
{
	static const struct {
		const char *name, *source, *want;
	} cases[] = {
		{"return-1", "return 1", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"},
		{"empty", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	};
	char	out[41];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		memset(out, 'X', sizeof(out));
		redis_script_sha1(cases[i].source, out);
		if (strcmp(out, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%.41s\", want \"%s\"", out, cases[i].want);
	}
	tcase_done();
}

/*
 * Against real servers.
 */

/* test_set_get - SET/GET, binary values, error replies, reuse */
static void
test_set_get(void **state)
{
	struct redis_pool *p;
	struct redis_pool_stats st;
	const char *err = NULL;
	const char *argv[3] = {"SET", "t:bin", "a\0b\r\n"};
	size_t	argvlen[3] = {3, 5, 5};
	redisReply *r;

	(void)state;
	need_redis();
	p = pool_for(rf_main.server);
	assert_string_equal(redis_pool_server(p), rf_main.server);
	expect_cmd(p, "OK", "SET t:k %s", "hello world");
	expect_cmd(p, "hello world", "GET t:k");
	expect_cmd(p, "(nil)", "GET t:missing");
	expect_cmd(p, "OK", "SET t:b %b", "x\0y", (size_t)3);

	r = redis_commandargv(p, 3, argv, argvlen, &err);
	assert_non_null(r);
	assert_null(err);
	freeReplyObject(r);
	r = redis_command(p, &err, "GET t:bin");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_int_equal(r->len, 5);
	assert_memory_equal(r->str, "a\0b\r\n", 5);
	freeReplyObject(r);

	/* an error reply is a reply: the caller's to judge, the pool stays up */
	expect_cmd(p, "-ERR value is not an integer or out of range", "INCR t:k");
	expect_cmd(p, "-WRONGTYPE Operation against a key holding the wrong kind of value",
		   "LPUSH t:k x");
	/* no command at all gets no reply: refused before any I/O */
	assert_true(expect_fail(p, "invalid command format", "") < FAST_MS);
	r = redis_commandargv(p, 0, argv, NULL, &err);
	assert_null(r);
	assert_string_equal(err, "invalid command format");
	/* state would stay on the connection for the next caller: refused */
	static const char *const stateful[] = {
		"MULTI", "exec", "Select 1", "AUTH x", "SUBSCRIBE ch", "WATCH t:k",
		"client reply off", "CLIENT TRACKING on", "HELLO 3", "RESET",
	};
	for (size_t i = 0; i < NELEM(stateful); i++)
		expect_fail(p, "command refused: it would leave state", stateful[i]);
	expect_cmd(p, "OK", "CLIENT SETNAME postmill-test");	/* harmless */
	expect_cmd(p, "2", "ECHO %s", "2");	/* a command's words are only its name */

	redis_pool_stats(p, &st);
	assert_int_equal(st.connects, 1);	/* one connection, reused */
	assert_int_equal(st.idle, 1);
	assert_int_equal(st.busy, 0);
	assert_int_equal(st.failures, 0);
	assert_false(st.down);
	expect_cmd(p, "3", "DEL t:k t:b t:bin t:missing");
	redis_pool_free(p);
}

/* test_unix_socket - the same server through its unix socket */
static void
test_unix_socket(void **state)
{
	struct redis_pool *p, *q;
	char	*info;

	(void)state;
	need_redis();
	p = pool_for(rf_main.unix_server);
	q = pool_for(rf_main.server);
	expect_cmd(p, "OK", "SET t:unix via-socket");
	expect_cmd(q, "via-socket", "GET t:unix");
	info = cmd_str(p, "CLIENT INFO");
	/* a unix socket client shows its socket path as laddr */
	if (strstr(info, "redis.sock") == NULL)
		fail_msg("CLIENT INFO: got \"%s\", want a unix socket client", info);
	free(info);
	expect_cmd(p, "1", "DEL t:unix");
	redis_pool_free(p);
	redis_pool_free(q);
}

/* test_ipv6 - [::1]:PORT, when the host has IPv6 loopback */
static void
test_ipv6(void **state)
{
	struct sockaddr_in6 sin6;
	struct redis_pool *p;
	char	server[64];
	int	fd, ok;

	(void)state;
	need_redis();
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)rf_main.port);
	sin6.sin6_addr = in6addr_loopback;
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		print_message("redis-server not reachable on [::1]: no IPv6 loopback\n");
		skip();
	}
	snprintf(server, sizeof(server), "[::1]:%u", rf_main.port);
	p = pool_for(server);
	expect_cmd(p, "PONG", "PING");
	redis_pool_free(p);
}

/* test_password - requirepass: right, wrong, missing */
static void
test_password(void **state)
{
	struct redis_conf c;
	struct redis_pool *p;
	long long took;

	(void)state;
	need_redis();
	c = conf_for(rf_auth.server);
	c.password = AUTH_PASSWORD;
	p = pool_new(&c);
	expect_cmd(p, "PONG", "PING");
	expect_cmd(p, "default", "ACL WHOAMI");
	redis_pool_free(p);

	c.password = "not the password";
	p = pool_new(&c);
	took = expect_fail(p, "AUTH: WRONGPASS", "PING");
	assert_between("wrong password", took, 0, FAST_MS);
	/* a refused AUTH is no reason to hammer the server: back off */
	assert_between("after wrong password", expect_fail(p, "backing off", "PING"), 0, FAST_MS);
	redis_pool_free(p);

	c.password = NULL;
	p = pool_new(&c);
	expect_fail(p, "NOAUTH", "PING");
	expect_fail(p, "backing off", "PING");
	redis_pool_free(p);
}

/* test_acl_user - AUTH user password, with the user's permissions */
static void
test_acl_user(void **state)
{
	struct redis_pool *admin, *p;
	struct redis_conf c;

	(void)state;
	need_redis();
	admin = pool_for(rf_main.server);
	expect_cmd(admin, "OK", "ACL SETUSER rl-user reset on >u-secret ~rl:* +@all");
	c = conf_for(rf_main.server);
	c.user = "rl-user";
	c.password = "u-secret";
	p = pool_new(&c);
	expect_cmd(p, "rl-user", "ACL WHOAMI");
	expect_cmd(p, "OK", "SET rl:acl 1");
	/* a permission error is about one command: a reply, the pool stays up */
	expect_cmd(p, "-NOPERM this user has no permissions to access one of the keys used as arguments",
		   "SET other:acl 1");
	expect_cmd(p, "1", "DEL rl:acl");
	redis_pool_free(p);

	c.password = "u-wrong";
	p = pool_new(&c);
	expect_fail(p, "AUTH: WRONGPASS invalid username-password pair", "PING");
	redis_pool_free(p);

	c.user = "nobody";
	c.password = "u-secret";
	p = pool_new(&c);
	expect_fail(p, "AUTH: WRONGPASS", "PING");
	redis_pool_free(p);

	expect_cmd(admin, "1", "ACL DELUSER rl-user");
	redis_pool_free(admin);
}

/* test_select_db - SELECT on connect; out of range */
static void
test_select_db(void **state)
{
	struct redis_pool *p3, *p0, *bad_db;
	struct redis_conf c;
	char	*info;

	(void)state;
	need_redis();
	c = conf_for(rf_main.server);
	c.db = 3;
	p3 = pool_new(&c);
	p0 = pool_for(rf_main.server);
	expect_cmd(p3, "OK", "SET t:db three");
	expect_cmd(p0, "(nil)", "GET t:db");
	expect_cmd(p3, "three", "GET t:db");
	info = cmd_str(p3, "CLIENT INFO");
	if (strstr(info, " db=3 ") == NULL)
		fail_msg("CLIENT INFO: got \"%s\", want db=3", info);
	free(info);
	expect_cmd(p3, "1", "DEL t:db");

	c.db = 99;
	bad_db = pool_new(&c);
	expect_fail(bad_db, "SELECT: ERR DB index is out of range", "PING");
	redis_pool_free(bad_db);
	redis_pool_free(p3);
	redis_pool_free(p0);
}

/* restart_victim - restart, or fail the test */
static void
restart_victim(void)
{
	char	err[256];

	if (redis_fixture_restart(&rf_victim, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* test_server_stopped - refused, backing off, doubling, recovery, 2 log lines */
static void
test_server_stopped(void **state)
{
	struct redis_pool *p;
	struct redis_pool_stats st;
	long long t_fail, took;
	char	*logs, want[128];

	(void)state;
	need_redis();
	p = pool_for(rf_victim.server);
	expect_cmd(p, "OK", "SET t:victim 1");

	capture_begin();
	redis_fixture_halt(&rf_victim);
	/* the idle link is found dead before use; the new connect is refused */
	took = expect_fail(p, "connection refused", "GET t:victim");
	t_fail = now_ms();
	assert_between("refused", took, 0, T_CONNECT_MS + SLACK_MS);
	/* then no wait at all until the back-off is over */
	for (int i = 0; i < 5; i++)
		assert_between("backing off", expect_fail(p, "backing off", "GET t:victim"),
			       0, FAST_MS);
	redis_pool_stats(p, &st);
	assert_true(st.down);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.connects, 2);

	/* back-off over: one probe, refused; the back-off doubles to 300 ms */
	sleep_ms(T_BACKOFF_MIN + 20 - (now_ms() - t_fail));
	expect_fail(p, "connection refused", "GET t:victim");
	t_fail = now_ms();
	sleep_ms(T_BACKOFF_MIN + 20);
	expect_fail(p, "backing off", "GET t:victim");
	sleep_ms(2 * T_BACKOFF_MIN + 20 - (now_ms() - t_fail));
	expect_fail(p, "connection refused", "GET t:victim");
	t_fail = now_ms();
	redis_pool_stats(p, &st);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.connects, 4);

	/* the server returns (empty): the next probe after 600 ms succeeds */
	restart_victim();
	sleep_ms(T_BACKOFF_MAX + 20 - (now_ms() - t_fail));
	expect_cmd(p, "(nil)", "GET t:victim");
	expect_cmd(p, "OK", "SET t:victim 2");
	redis_pool_stats(p, &st);
	assert_false(st.down);
	logs = capture_end();

	/* one line down, one line up, whatever happened in between */
	snprintf(want, sizeof(want), "warning: redis %s: down: connection refused; next try in %d ms",
		 rf_victim.server, T_BACKOFF_MIN);
	if (count_lines(logs, want) != 1 || count_lines(logs, "down") != 1)
		fail_msg("log: got \"%s\", want one line \"%s\"", logs, want);
	snprintf(want, sizeof(want), "warning: redis %s: up again after ", rf_victim.server);
	if (count_lines(logs, want) != 1 || count_lines(logs, ": redis ") != 2)
		fail_msg("log: got \"%s\", want one line \"%s...\"", logs, want);
	free(logs);
	expect_cmd(p, "1", "DEL t:victim");
	redis_pool_free(p);
}

struct blpop_arg {
	struct redis_pool *pool;
	pthread_barrier_t *start;
	int		 ok;
};

/* blpop_thread - hold a connection for 300 ms on the server's side */
static void *
blpop_thread(void *arg)
{
	struct blpop_arg *a = arg;
	const char *err = NULL;
	redisReply *r;

	pthread_barrier_wait(a->start);
	r = redis_command(a->pool, &err, "BLPOP t:no-such-list 0.3");
	a->ok = r != NULL && r->type == REDIS_REPLY_NIL;
	if (r != NULL)
		freeReplyObject(r);
	return NULL;
}

/* open_idle_links - n calls at once leave n idle links in the pool */
static void
open_idle_links(struct redis_pool *p, int n)
{
	struct blpop_arg args[8];
	pthread_t tids[8];
	pthread_barrier_t start;
	struct redis_pool_stats st;

	assert_true(n <= 8);
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		args[i].pool = p;
		args[i].start = &start;
		args[i].ok = 0;
		assert_int_equal(pthread_create(&tids[i], NULL, blpop_thread, &args[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n; i++)
		assert_true(args[i].ok);
	redis_pool_stats(p, &st);
	assert_int_equal(st.idle, n);
}

/* test_server_frozen - SIGSTOP: the timeout holds; SIGCONT: back after back-off */
static void
test_server_frozen(void **state)
{
	struct redis_pool *p;
	long long took, t_fail;

	(void)state;
	struct redis_conf c;

	need_redis();
	/*
	 * A longer command timeout than the other tests: the four 300 ms
	 * BLPOPs that open the idle links must finish well inside it even
	 * on a loaded machine under ASan.
	 */
	c = conf_for(rf_victim.server);
	c.command_timeout_ms = 1000;
	p = pool_new(&c);
	expect_cmd(p, "OK", "SET t:frozen 1");
	/* links opened before the failure must not cost a timeout each */
	open_idle_links(p, 4);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	took = expect_fail(p, "timeout", "GET t:frozen");
	t_fail = now_ms();
	assert_between("frozen", took, 1000, 1000 + SLACK_MS);
	for (int i = 0; i < 4; i++)
		assert_between("then", expect_fail(p, "backing off", "GET t:frozen"),
			       0, FAST_MS);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);
	assert_between("thawed, still backing off",
		       expect_fail(p, "backing off", "GET t:frozen"), 0, FAST_MS);
	sleep_ms(T_BACKOFF_MIN + 20 - (now_ms() - t_fail));
	/* a new connection: the old one's reply may still be in flight */
	expect_cmd(p, "1", "GET t:frozen");
	expect_cmd(p, "1", "DEL t:frozen");
	redis_pool_free(p);
}

/* test_frozen_handshake - a frozen server accepts TCP, AUTH then hangs */
static void
test_frozen_handshake(void **state)
{
	struct redis_conf c;
	struct redis_pool *p;
	long long took;

	(void)state;
	need_redis();
	c = conf_for(rf_auth.server);
	c.password = AUTH_PASSWORD;
	p = pool_new(&c);
	assert_int_equal(redis_fixture_freeze(&rf_auth), 0);
	took = expect_fail(p, "connect timeout", "PING");
	assert_int_equal(redis_fixture_thaw(&rf_auth), 0);
	assert_between("AUTH on a frozen server", took, T_CONNECT_MS, T_CONNECT_MS + SLACK_MS);
	redis_pool_free(p);
}

/*
 * A fake server on a thread: accepts one connection, reads the command,
 * then sends a canned reply one byte every byte_ms (0: all at once).
 */
struct fake_server {
	int		 lfd;
	unsigned	 port;
	const char	*reply;
	long		 byte_ms;
	pthread_t	 tid;
	char		 server[32];
};

/* fake_server_run - the thread */
static void *
fake_server_run(void *arg)
{
	struct fake_server *f = arg;
	char	buf[512];
	size_t	len = strlen(f->reply);
	int	fd;

	if ((fd = accept(f->lfd, NULL, NULL)) < 0)
		return NULL;
	if (recv(fd, buf, sizeof(buf), 0) > 0) {
		if (f->byte_ms == 0) {
			(void)send(fd, f->reply, len, MSG_NOSIGNAL);
		} else {
			for (size_t i = 0; i < len; i++) {
				if (send(fd, f->reply + i, 1, MSG_NOSIGNAL) != 1)
					break;	/* the client gave up */
				sleep_ms(f->byte_ms);
			}
		}
	}
	sleep_ms(50);			/* the client closes first */
	close(fd);
	return NULL;
}

/* fake_server_start - listen on 127.0.0.1, serve one connection */
static void
fake_server_start(struct fake_server *f, const char *reply, long byte_ms)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->reply = reply;
	f->byte_ms = byte_ms;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	f->port = ntohs(sin.sin_port);
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%u", f->port);
	assert_int_equal(pthread_create(&f->tid, NULL, fake_server_run, f), 0);
}

/* fake_server_stop - join the thread */
static void
fake_server_stop(struct fake_server *f)
{
	pthread_join(f->tid, NULL);
	close(f->lfd);
}

/* test_trickle - a reply trickling in a byte at a time still meets the deadline */
static void
test_trickle(void **state)
{
	struct fake_server f;
	struct redis_pool *p;
	long long took;

	(void)state;
	/* "+PONG\r\n" over 7 x 60 ms: every byte well inside the timeout */
	fake_server_start(&f, "+PONG\r\n", 60);
	p = pool_for(f.server);
	took = expect_fail(p, "timeout", "PING");
	redis_pool_free(p);
	fake_server_stop(&f);
	assert_between("trickled reply", took, T_COMMAND_MS, T_COMMAND_MS + SLACK_MS);
}

/* test_protocol_error - garbage from the server: the link is dropped */
static void
test_protocol_error(void **state)
{
	struct fake_server f;
	struct redis_pool *p;
	struct redis_pool_stats st;

	(void)state;
	fake_server_start(&f, "?what\r\n", 0);
	p = pool_for(f.server);
	expect_fail(p, "protocol error: ", "PING");
	redis_pool_stats(p, &st);
	assert_true(st.down);
	assert_int_equal(st.idle, 0);
	assert_int_equal(st.busy, 0);
	expect_fail(p, "backing off", "PING");
	redis_pool_free(p);
	fake_server_stop(&f);
}

/* test_connect_timeout - a listener whose accept queue is full; no socket */
static void
test_connect_timeout(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct redis_pool *p;
	char	server[64], path[160];
	int	lfd, cfd;
	long long took;

	(void)state;
	need_redis();
	/* backlog 0: one connection fills the queue, the kernel drops the next SYN */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(listen(lfd, 0), 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(sin.sin_port));
	p = pool_for(server);
	took = expect_fail(p, "connect timeout", "PING");
	close(cfd);
	close(lfd);
	assert_between("full accept queue", took, T_CONNECT_MS, T_CONNECT_MS + SLACK_MS);
	redis_pool_free(p);

	/* a unix socket that does not exist fails at once */
	snprintf(path, sizeof(path), "unix:%s/no-such.sock", rf_main.dir);
	p = pool_for(path);
	assert_between("no socket", expect_fail(p, "no such file or directory", "PING"),
		       0, FAST_MS);
	redis_pool_free(p);
}

/* wait_main - until the main server answers again (after DEBUG SLEEP) */
static void
wait_main(void)
{
	struct redis_conf c = conf_for(rf_main.server);
	struct redis_pool *p;

	c.command_timeout_ms = 5000;
	p = pool_new(&c);
	expect_cmd(p, "PONG", "PING");
	redis_pool_free(p);
}

/* test_debug_sleep - DEBUG SLEEP 1 against a 200 ms command timeout */
static void
test_debug_sleep(void **state)
{
	struct redis_pool *p;
	long long took, t_fail;

	(void)state;
	need_redis();
	p = pool_for(rf_main.server);
	expect_cmd(p, "PONG", "PING");
	took = expect_fail(p, "timeout", "DEBUG SLEEP 1");
	t_fail = now_ms();
	assert_between("DEBUG SLEEP 1", took, T_COMMAND_MS, T_COMMAND_MS + SLACK_MS);
	expect_fail(p, "backing off", "PING");
	wait_main();
	sleep_ms(T_BACKOFF_MIN + 20 - (now_ms() - t_fail));
	expect_cmd(p, "PONG", "PING");
	redis_pool_free(p);
}

struct probe_arg {
	struct redis_pool *pool;
	pthread_barrier_t *start;
	const char	*err;		/* a literal; copied below */
	char		 errcopy[64];
	long long	 took;
};

/* probe_thread - one PING after the barrier */
static void *
probe_thread(void *arg)
{
	struct probe_arg *a = arg;
	const char *err = NULL;
	redisReply *r;
	long long t0;

	pthread_barrier_wait(a->start);
	t0 = now_ms();
	r = redis_command(a->pool, &err, "PING");
	a->took = now_ms() - t0;
	if (r != NULL)
		freeReplyObject(r);
	/* err may be this thread's buffer: copy it before the thread ends */
	snprintf(a->errcopy, sizeof(a->errcopy), "%s", r ? "reply" : err);
	return NULL;
}

/* test_single_probe - when the back-off ends, one call tries, the rest don't */
static void
test_single_probe(void **state)
{
	enum { NTHREADS = 8 };
	struct probe_arg args[NTHREADS];
	pthread_t tids[NTHREADS];
	pthread_barrier_t start;
	struct redis_pool *p;
	struct redis_pool_stats st;
	long long t_fail;
	int	timeouts = 0, backing = 0;

	(void)state;
	need_redis();
	p = pool_for(rf_victim.server);
	assert_int_equal(redis_fixture_freeze(&rf_victim), 0);
	expect_fail(p, "timeout", "PING");
	t_fail = now_ms();
	sleep_ms(T_BACKOFF_MIN + 20 - (now_ms() - t_fail));

	pthread_barrier_init(&start, NULL, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].pool = p;
		args[i].start = &start;
		assert_int_equal(pthread_create(&tids[i], NULL, probe_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(tids[i], NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(redis_fixture_thaw(&rf_victim), 0);

	for (int i = 0; i < NTHREADS; i++) {
		if (strcmp(args[i].errcopy, "timeout") == 0) {
			timeouts++;
			assert_between("probe", args[i].took, T_COMMAND_MS, T_COMMAND_MS + SLACK_MS);
		} else if (strcmp(args[i].errcopy, "backing off") == 0) {
			backing++;
			assert_between("not the probe", args[i].took, 0, FAST_MS);
		} else {
			fail_msg("thread %d: got \"%s\", want timeout or backing off",
				 i, args[i].errcopy);
		}
	}
	if (timeouts != 1 || backing != NTHREADS - 1)
		fail_msg("got %d probes and %d backing off, want 1 and %d",
			 timeouts, backing, NTHREADS - 1);
	redis_pool_stats(p, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.busy, 0);
	redis_pool_free(p);
}

/* test_stale_idle - an idle connection the server closed is replaced quietly */
static void
test_stale_idle(void **state)
{
	struct redis_pool *p, *admin;
	struct redis_pool_stats st;
	char	*id;

	(void)state;
	need_redis();
	p = pool_for(rf_main.server);
	admin = pool_for(rf_main.server);
	id = cmd_str(p, "CLIENT ID");
	expect_cmd(admin, "1", "CLIENT KILL ID %s", id);
	free(id);
	sleep_ms(10);			/* let the FIN arrive */
	expect_cmd(p, "PONG", "PING");
	redis_pool_stats(p, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.failures, 0);
	assert_false(st.down);
	redis_pool_free(p);
	redis_pool_free(admin);
}

/* test_evalsha - EVALSHA, NOSCRIPT after SCRIPT FLUSH, EVAL once */
static void
test_evalsha(void **state)
{
	static const char script[] =
	    "return redis.call('INCRBY', KEYS[1], ARGV[1])";
	struct redis_pool *p, *admin;
	const char *keys[1] = {"t:script"};
	const char *args[1] = {"5"};
	const char *err = NULL;
	char	sha[41], *stats;
	redisReply *r;

	(void)state;
	need_redis();
	p = pool_for(rf_main.server);
	admin = pool_for(rf_main.server);
	redis_script_sha1(script, sha);
	/* our SHA-1 is the server's name for the script */
	expect_cmd(admin, sha, "SCRIPT LOAD %s", script);
	expect_cmd(admin, "OK", "SCRIPT FLUSH");
	expect_cmd(admin, "OK", "CONFIG RESETSTAT");

	/* not cached: NOSCRIPT, then EVAL */
	r = redis_evalsha(p, script, sha, 1, keys, 1, args, &err);
	assert_non_null(r);
	assert_null(err);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	assert_int_equal(r->integer, 5);
	freeReplyObject(r);
	r = redis_command(admin, &err, "SCRIPT EXISTS %s", sha);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	assert_int_equal(r->elements, 1);
	assert_int_equal(r->element[0]->integer, 1);	/* EVAL cached it */
	freeReplyObject(r);
	/* cached now: EVALSHA alone; sha1_hex NULL computes it */
	r = redis_evalsha(p, script, NULL, 1, keys, 1, args, &err);
	assert_non_null(r);
	assert_int_equal(r->integer, 10);
	freeReplyObject(r);
	stats = cmd_str(admin, "INFO commandstats");
	if (strstr(stats, "cmdstat_eval:calls=1,") == NULL
	    || strstr(stats, "cmdstat_evalsha:calls=2,") == NULL)
		fail_msg("INFO commandstats: got \"%s\", want eval 1 call, evalsha 2", stats);
	free(stats);

	/* flushed again (a Redis restart looks the same) */
	expect_cmd(admin, "OK", "SCRIPT FLUSH");
	r = redis_evalsha(p, script, sha, 1, keys, 1, args, &err);
	assert_non_null(r);
	assert_int_equal(r->integer, 15);
	freeReplyObject(r);

	/* a script error is the script's: a reply, no retry */
	expect_cmd(admin, "OK", "SET t:script notanumber");
	r = redis_evalsha(p, script, sha, 1, keys, 1, args, &err);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ERROR);
	freeReplyObject(r);

	/* bad counts never reach the server */
	assert_null(redis_evalsha(p, script, sha, -1, keys, 0, NULL, &err));
	assert_string_equal(err, "invalid script arguments");
	assert_null(redis_evalsha(p, script, sha, 1, keys, REDIS_MAX_SCRIPT_ARGS, args, &err));
	assert_string_equal(err, "invalid script arguments");

	expect_cmd(admin, "1", "DEL t:script");
	redis_pool_free(p);
	redis_pool_free(admin);
}

/* test_evalsha_int - an integer, an error reply (logged or not), other types */
static void
test_evalsha_int(void **state)
{
	static const struct {
		const char *name, *source, *log_tag;
		int	want_rc;
		long long want_out;	/* 99 (untouched) when want_rc is -1 */
		const char *want_err;	/* NULL: *err NULL */
		const char *want_log;	/* the one log line after "tag: redis SERVER: ",
					 * or NULL: none */
	} cases[] = {
		{"integer", "return 42", "tag", 0, 42, NULL, NULL},
		{"zero", "return 0", NULL, 0, 0, NULL, NULL},
		{"negative", "return -7", NULL, 0, -7, NULL, NULL},
		{"error-logged", "return redis.error_reply('MYERR broken')", "tag", -1, 99,
		 "REFUSED", "MYERR broken"},
		{"error-quiet", "return redis.error_reply('MYERR broken')", NULL, -1, 99,
		 "REFUSED", NULL},
		{"lua-runtime-error", "return redis.call('INCR', 'no', 'such', 'arity')", "tag",
		 -1, 99, "REFUSED", "ERR "},
		{"string", "return 'x'", "tag", -1, 99, "unexpected reply from Redis", NULL},
		{"nil", "return nil", "tag", -1, 99, "unexpected reply from Redis", NULL},
		{"array", "return {1, 2}", "tag", -1, 99, "unexpected reply from Redis", NULL},
		{"status", "return redis.status_reply('OK')", "tag", -1, 99,
		 "unexpected reply from Redis", NULL},
	};
	struct redis_pool *p;
	const char *err;
	const char *keys[1] = {"t:int"};
	long long out;
	char	*log, *line;
	int	rc, nlog;

	(void)state;
	need_redis();
	p = pool_for(rf_main.server);
	for (size_t i = 0; i < NELEM(cases); i++) {
		out = 99;
		err = "not set";
		capture_begin();
		rc = redis_evalsha_int(p, cases[i].source, NULL, 0, NULL, 0, NULL, &out,
				       "REFUSED", cases[i].log_tag, &err);
		log = capture_end();
		nlog = count_lines(log, ": redis ");
		line = xasprintf("tag: redis %s: %s", rf_main.server,
				 cases[i].want_log ? cases[i].want_log : "");
		if (rc != cases[i].want_rc || out != cases[i].want_out)
			tcase_bad(cases[i].name, "got %d %lld, want %d %lld", rc, out,
				  cases[i].want_rc, cases[i].want_out);
		if (cases[i].want_err == NULL ? err != NULL
		    : err == NULL || strcmp(err, cases[i].want_err) != 0)
			tcase_bad(cases[i].name, "got err \"%s\", want \"%s\"",
				  err ? err : "(null)",
				  cases[i].want_err ? cases[i].want_err : "(null)");
		if (cases[i].want_log == NULL ? nlog != 0
		    : nlog != 1 || count_lines(log, line) != 1)
			tcase_bad(cases[i].name, "got log \"%s\", want %s", log,
				  cases[i].want_log ? line : "none");
		free(line);
		free(log);
	}
	/* no reply at all: redis_evalsha()'s own text, nothing logged */
	out = 99;
	capture_begin();
	rc = redis_evalsha_int(p, "return 1", NULL, -1, keys, 0, NULL, &out, "REFUSED",
			       "tag", &err);
	log = capture_end();
	if (rc != -1 || out != 99 || err == NULL
	    || strcmp(err, "invalid script arguments") != 0 || log[0] != '\0')
		tcase_bad("no-reply", "got %d %lld \"%s\" log \"%s\"", rc, out,
			  err ? err : "(null)", log);
	free(log);
	redis_pool_free(p);
	tcase_done();
}

enum { INCR_THREADS = 8, INCR_EACH = 200 };

struct incr_arg {
	struct redis_pool *pool;
	int		 failures;
	char		 first_err[64];
};

/* incr_thread - INCR_EACH increments of one key */
static void *
incr_thread(void *arg)
{
	struct incr_arg *a = arg;

	for (int i = 0; i < INCR_EACH; i++) {
		const char *err = NULL;
		redisReply *r = redis_command(a->pool, &err, "INCR t:threads");

		if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
			if (a->failures++ == 0)
				snprintf(a->first_err, sizeof(a->first_err), "%s",
					 r ? "not an integer" : err);
		}
		if (r != NULL)
			freeReplyObject(r);
	}
	return NULL;
}

/* connected_clients - INFO clients: connected_clients */
static long
connected_clients(struct redis_pool *admin)
{
	char	*info = cmd_str(admin, "INFO clients");
	const char *cp = strstr(info, "connected_clients:");
	long	n = cp ? strtol(cp + strlen("connected_clients:"), NULL, 10) : -1;

	free(info);
	return n;
}

/* test_threads - 8 threads x 200 INCR on one key: 1600, links bounded and closed */
static void
test_threads(void **state)
{
	struct incr_arg args[INCR_THREADS];
	pthread_t tids[INCR_THREADS];
	struct redis_pool *p, *admin;
	struct redis_pool_stats st;
	struct redis_conf c;
	long	before, after = -1;

	(void)state;
	need_redis();
	admin = pool_for(rf_main.server);
	expect_cmd(admin, "0", "DEL t:threads");
	before = connected_clients(admin);
	c = conf_for(rf_main.server);
	c.max_idle = 3;
	p = pool_new(&c);
	for (int i = 0; i < INCR_THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].pool = p;
		assert_int_equal(pthread_create(&tids[i], NULL, incr_thread, &args[i]), 0);
	}
	for (int i = 0; i < INCR_THREADS; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < INCR_THREADS; i++)
		if (args[i].failures != 0)
			fail_msg("thread %d: %d failures, first \"%s\"", i,
				 args[i].failures, args[i].first_err);
	expect_cmd(admin, "1600", "GET t:threads");

	/*
	 * At most max_idle links kept. How many were opened depends on the
	 * scheduling: with 8 threads and max_idle 3, a link given back above
	 * the cap is closed and a later call opens a new one, so a loaded
	 * machine opens more than one per thread. Never more than one per call.
	 */
	redis_pool_stats(p, &st);
	assert_int_equal(st.busy, 0);
	assert_true(st.idle <= 3);
	assert_true(st.connects >= 1 && st.connects <= INCR_THREADS * (unsigned long)INCR_EACH);
	assert_int_equal(st.failures, 0);
	assert_int_equal(connected_clients(admin), before + (long)st.idle);

	/* freeing the pool closes every link (the server sees them go) */
	redis_pool_free(p);
	for (int i = 0; i < 100 && (after = connected_clients(admin)) != before; i++)
		sleep_ms(10);
	assert_int_equal(after, before);
	expect_cmd(admin, "1", "DEL t:threads");
	redis_pool_free(admin);
}

/* group_setup - three servers */
static int
group_setup(void **state)
{
	(void)state;
	log_open("redis_test", false);
	if (!redis_fixture_available())
		return 0;
	if (redis_fixture_start(&rf_main, REDIS_FIXTURE_UNIX | REDIS_FIXTURE_DEBUG,
				NULL, fixture_err, sizeof(fixture_err)) < 0)
		return 0;
	if (redis_fixture_start(&rf_auth, 0, AUTH_PASSWORD, fixture_err,
				sizeof(fixture_err)) < 0) {
		redis_fixture_stop(&rf_main);
		return 0;
	}
	if (redis_fixture_start(&rf_victim, 0, NULL, fixture_err,
				sizeof(fixture_err)) < 0) {
		redis_fixture_stop(&rf_main);
		redis_fixture_stop(&rf_auth);
		return 0;
	}
	have_redis = true;
	return 0;
}

/* group_teardown - stop them, by pid */
static int
group_teardown(void **state)
{
	(void)state;
	if (saved_stderr >= 0)
		free(capture_end());	/* a test failed while capturing */
	if (have_redis) {
		redis_fixture_stop(&rf_main);
		redis_fixture_stop(&rf_auth);
		redis_fixture_stop(&rf_victim);
	}
	return 0;
}

/* test_teardown - a failed test must not leave a server frozen or stopped */
static int
test_teardown(void **state)
{
	char	err[256];

	(void)state;
	if (saved_stderr >= 0)
		free(capture_end());
	if (!have_redis)
		return 0;
	if (rf_auth.frozen)
		redis_fixture_thaw(&rf_auth);
	if (rf_victim.frozen)
		redis_fixture_thaw(&rf_victim);
	if (rf_victim.pid == 0 && redis_fixture_restart(&rf_victim, err, sizeof(err)) < 0)
		fprintf(stderr, "%s\n", err);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_server),
		cmocka_unit_test(test_conf_check),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_script_sha1),
		cmocka_unit_test_teardown(test_set_get, test_teardown),
		cmocka_unit_test_teardown(test_unix_socket, test_teardown),
		cmocka_unit_test_teardown(test_ipv6, test_teardown),
		cmocka_unit_test_teardown(test_password, test_teardown),
		cmocka_unit_test_teardown(test_acl_user, test_teardown),
		cmocka_unit_test_teardown(test_select_db, test_teardown),
		cmocka_unit_test_teardown(test_server_stopped, test_teardown),
		cmocka_unit_test_teardown(test_server_frozen, test_teardown),
		cmocka_unit_test_teardown(test_frozen_handshake, test_teardown),
		cmocka_unit_test_teardown(test_connect_timeout, test_teardown),
		cmocka_unit_test(test_trickle),
		cmocka_unit_test(test_protocol_error),
		cmocka_unit_test_teardown(test_debug_sleep, test_teardown),
		cmocka_unit_test_teardown(test_single_probe, test_teardown),
		cmocka_unit_test_teardown(test_stale_idle, test_teardown),
		cmocka_unit_test_teardown(test_evalsha, test_teardown),
		cmocka_unit_test_teardown(test_evalsha_int, test_teardown),
		cmocka_unit_test_teardown(test_threads, test_teardown),
	};

	return cmocka_run_group_tests_name("redis", tests, group_setup, group_teardown);
}
