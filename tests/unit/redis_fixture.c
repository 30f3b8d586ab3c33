/*++
 * NAME
 *	redis_fixture 3
 * SUMMARY
 *	a private redis-server on loopback for unit tests
 * DESCRIPTION
 *	See redis_fixture.h. The readiness probe is a hand-made inline PING
 *	over TCP so that the fixture does not depend on the client it helps
 *	to test. redis-server runs in the foreground as our child, with
 *	every inherited descriptor above stderr closed so that it cannot
 *	hold a test's sockets, and is only ever signalled by its pid.
 *--*/
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "redis.h"
#include "redis_fixture.h"
#include "xalloc.h"
#include "tcase.h"

#define REDIS_FIXTURE_SERVER	"/usr/bin/redis-server"
#define REDIS_FIXTURE_TRIES	5	/* ports to try when a bind races */

static int redis_fixture_begin(struct redis_fixture *, unsigned, const char *,
			       const char *, const char *const *, char *, size_t);

/* redis_fixture_available - is redis-server installed */
bool
redis_fixture_available(void)
{
	return access(REDIS_FIXTURE_SERVER, X_OK) == 0;
}

/* redis_fixture_loopback - 127.0.0.1:port */
static void
redis_fixture_loopback(struct sockaddr_in *sin, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* redis_fixture_free_port - a TCP port free on 127.0.0.1 just now */
unsigned
redis_fixture_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned port = 0;
	int	fd;

	redis_fixture_loopback(&sin, 0);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0
	    && getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* redis_fixture_probe - does 127.0.0.1:port answer an inline PING */
static bool
redis_fixture_probe(unsigned port)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	char	buf[64];
	bool	ok = false;
	int	fd;

	redis_fixture_loopback(&sin, port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0
	    && send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		/* "+PONG", or "-NOAUTH ..." from a server with a password */
		if (poll(&pfd, 1, 200) == 1 && recv(fd, buf, sizeof(buf), 0) > 0
		    && (buf[0] == '+' || buf[0] == '-'))
			ok = true;
	}
	close(fd);
	return ok;
}

/* redis_fixture_reap - waitpid with a deadline; true when pid is gone */
static bool
redis_fixture_reap(pid_t pid, long ms)
{
	long long end = tcase_now_ms() + ms;
	int	status;

	for (;;) {
		pid_t	r = waitpid(pid, &status, WNOHANG);

		if ((r == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
		    || (r < 0 && errno == ECHILD))
			return true;
		if (tcase_now_ms() >= end)
			return false;
		tcase_sleep_ms(5);
	}
}

/* redis_fixture_spawn - fork and exec redis-server, output into DIR/redis.log */
static pid_t
redis_fixture_spawn(const struct redis_fixture *rf)
{
	char	port[16], log[96], sock[96], conf[96];
	char	*argv[32 + REDIS_FIXTURE_MAX_EXTRA];
	int	argc = 0;
	pid_t	pid;

	snprintf(port, sizeof(port), "%u", rf->port);
	snprintf(log, sizeof(log), "%s/redis.log", rf->dir);
	snprintf(sock, sizeof(sock), "%s/redis.sock", rf->dir);
	snprintf(conf, sizeof(conf), "%s/redis.conf", rf->dir);
	argv[argc++] = "redis-server";
	if (rf->conf_text != NULL)
		argv[argc++] = conf;
	if (rf->flags & REDIS_FIXTURE_SENTINEL)
		argv[argc++] = "--sentinel";
	argv[argc++] = "--port";
	argv[argc++] = port;
	argv[argc++] = "--bind";
	argv[argc++] = "127.0.0.1 -::1";	/* "-": skip ::1 when missing */
	argv[argc++] = "--dir";
	argv[argc++] = (char *)rf->dir;
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--appendonly";
	argv[argc++] = "no";
	argv[argc++] = "--daemonize";
	argv[argc++] = "no";
	argv[argc++] = "--logfile";
	argv[argc++] = "";
	if (rf->flags & REDIS_FIXTURE_UNIX) {
		argv[argc++] = "--unixsocket";
		argv[argc++] = sock;
		argv[argc++] = "--unixsocketperm";
		argv[argc++] = "700";
	}
	if (rf->flags & REDIS_FIXTURE_DEBUG) {
		argv[argc++] = "--enable-debug-command";
		argv[argc++] = "local";
	}
	if (rf->password[0] != '\0') {
		argv[argc++] = "--requirepass";
		argv[argc++] = (char *)rf->password;
	}
	for (int i = 0; rf->extra[i] != NULL; i++)
		argv[argc++] = (char *)rf->extra[i];
	argv[argc] = NULL;

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	int	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	/* Sentinel rewrites its file: a fresh one at every (re)start */
	if (rf->conf_text != NULL) {
		FILE	*fp = fopen(conf, "w");

		if (fp == NULL || fputs(rf->conf_text, fp) < 0 || fclose(fp) != 0)
			_exit(126);
	}
	/* a crashed test must not leave redis-server behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	closefrom(STDERR_FILENO + 1);
	execv(REDIS_FIXTURE_SERVER, argv);
	_exit(127);
}

/* redis_fixture_run - spawn and wait for PING: 0 up, 1 exited, -1 timeout */
static int
redis_fixture_run(struct redis_fixture *rf)
{
	long long end = tcase_now_ms() + REDIS_FIXTURE_START_MS;
	int	status;

	rf->frozen = false;
	if ((rf->pid = redis_fixture_spawn(rf)) < 0) {
		rf->pid = 0;
		return 1;
	}
	while (tcase_now_ms() < end) {
		if (waitpid(rf->pid, &status, WNOHANG) == rf->pid) {
			rf->pid = 0;
			return 1;
		}
		if (redis_fixture_probe(rf->port))
			return 0;
		tcase_sleep_ms(10);
	}
	redis_fixture_halt(rf);
	return -1;
}

/* redis_fixture_start - redis-server on a free loopback port; see redis_fixture.h */
int
redis_fixture_start(struct redis_fixture *rf, unsigned flags,
		    const char *password, char *err, size_t errlen)
{
	return redis_fixture_begin(rf, flags, password, NULL, NULL, err, errlen);
}

/* redis_fixture_begin - what both start calls do */
static int
redis_fixture_begin(struct redis_fixture *rf, unsigned flags,
		    const char *password, const char *conf_text,
		    const char *const *extra, char *err, size_t errlen)
{
	memset(rf, 0, sizeof(*rf));
	rf->flags = flags;
	rf->conf_text = conf_text;
	for (int n = 0; extra != NULL && extra[n] != NULL; n++) {
		if (n == REDIS_FIXTURE_MAX_EXTRA) {
			snprintf(err, errlen, "too many extra arguments for the fixture");
			return -1;
		}
		rf->extra[n] = extra[n];
	}
	if (password != NULL
	    && snprintf(rf->password, sizeof(rf->password), "%s", password)
	       >= (int)sizeof(rf->password)) {
		snprintf(err, errlen, "password too long for the fixture");
		return -1;
	}
	snprintf(rf->dir, sizeof(rf->dir), "/tmp/postmill-redis-XXXXXX");
	if (mkdtemp(rf->dir) == NULL) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		rf->dir[0] = '\0';
		return -1;
	}
	snprintf(rf->unix_server, sizeof(rf->unix_server), "unix:%s/redis.sock",
		 rf->dir);
	/* a port picked free can be taken before redis-server binds it: retry */
	for (int t = 0; t < REDIS_FIXTURE_TRIES; t++) {
		int	rc;

		if ((rf->port = redis_fixture_free_port()) == 0) {
			snprintf(err, errlen, "no free loopback port");
			return -1;
		}
		snprintf(rf->server, sizeof(rf->server), "127.0.0.1:%u", rf->port);
		if ((rc = redis_fixture_run(rf)) == 0)
			return 0;
		if (rc < 0) {
			snprintf(err, errlen, "redis-server not ready after %d ms; see %s/redis.log",
				 REDIS_FIXTURE_START_MS, rf->dir);
			return -1;
		}
		snprintf(err, errlen, "redis-server exited at start; see %s/redis.log",
			 rf->dir);
	}
	return -1;
}

/* redis_fixture_start_with - the same, with a config file and more argv */
int
redis_fixture_start_with(struct redis_fixture *rf, unsigned flags,
			 const char *conf_text, const char *const *extra,
			 char *err, size_t errlen)
{
	return redis_fixture_begin(rf, flags, NULL, conf_text, extra, err, errlen);
}

/* redis_fixture_restart - the same server again, same port, empty */
int
redis_fixture_restart(struct redis_fixture *rf, char *err, size_t errlen)
{
	redis_fixture_halt(rf);
	/* the port was ours a moment ago; redis sets SO_REUSEADDR */
	for (int t = 0; t < REDIS_FIXTURE_TRIES; t++) {
		int	rc = redis_fixture_run(rf);

		if (rc == 0)
			return 0;
		if (rc < 0)
			break;
		tcase_sleep_ms(50);
	}
	snprintf(err, errlen, "redis-server did not restart on port %u; see %s/redis.log",
		 rf->port, rf->dir);
	return -1;
}

/* redis_fixture_halt - stop our redis-server by pid, keep dir and port */
void
redis_fixture_halt(struct redis_fixture *rf)
{
	if (rf->pid <= 0)
		return;
	kill(rf->pid, SIGTERM);
	if (rf->frozen)
		kill(rf->pid, SIGCONT);		/* SIGTERM waits for it */
	if (!redis_fixture_reap(rf->pid, 3000)) {
		kill(rf->pid, SIGKILL);
		(void)redis_fixture_reap(rf->pid, 3000);
	}
	rf->pid = 0;
	rf->frozen = false;
}

/* redis_fixture_freeze - SIGSTOP, returning once the server is stopped */
int
redis_fixture_freeze(struct redis_fixture *rf)
{
	long long end = tcase_now_ms() + 3000;
	int	status;

	if (rf->pid <= 0 || kill(rf->pid, SIGSTOP) < 0)
		return -1;
	while (tcase_now_ms() < end) {
		pid_t	r = waitpid(rf->pid, &status, WNOHANG | WUNTRACED);

		if (r == rf->pid && WIFSTOPPED(status)) {
			rf->frozen = true;
			return 0;
		}
		if (r == rf->pid || r < 0) {
			rf->pid = 0;		/* it died instead */
			return -1;
		}
		tcase_sleep_ms(1);
	}
	return -1;
}

/* redis_fixture_thaw - SIGCONT */
int
redis_fixture_thaw(struct redis_fixture *rf)
{
	if (rf->pid <= 0 || kill(rf->pid, SIGCONT) < 0)
		return -1;
	rf->frozen = false;
	return 0;
}

/* redis_fixture_rm - nftw callback: remove one entry, children first */
static int
redis_fixture_rm(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* redis_fixture_stop - halt the server and remove its directory */
void
redis_fixture_stop(struct redis_fixture *rf)
{
	const char *keep = getenv("REDIS_FIXTURE_KEEP");

	redis_fixture_halt(rf);
	if (rf->dir[0] != '\0' && (keep == NULL || strcmp(keep, "1") != 0))
		(void)nftw(rf->dir, redis_fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
	rf->dir[0] = '\0';
}

/* redis_fixture_reply_text - a reply as text; see redis_fixture.h */
char *
redis_fixture_reply_text(const struct redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return xasprintf("%lld", r->integer);
	if (r->type == REDIS_REPLY_NIL)
		return xstrdup("(nil)");
	if (r->type == REDIS_REPLY_ARRAY)
		return xasprintf("[%zu]", r->elements);
	return xstrdup(r->str ? r->str : "?");
}

/* redis_fixture_start_pool - a server and a pool on it; see redis_fixture.h */
int
redis_fixture_start_pool(struct redis_fixture *rf, long connect_ms, long command_ms,
			 int max_idle, struct redis_pool **pool, char *err, size_t errlen)
{
	struct redis_conf c;
	const char *why;

	if (redis_fixture_start(rf, 0, NULL, err, errlen) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.server = rf->server;
	c.connect_timeout_ms = connect_ms;
	c.command_timeout_ms = command_ms;
	c.backoff_min_ms = 1;
	c.backoff_max_ms = 10;
	c.max_idle = max_idle;
	if ((*pool = redis_pool_new(&c, &why)) == NULL) {
		snprintf(err, errlen, "%s", why);
		redis_fixture_stop(rf);
		return -1;
	}
	return 0;
}

/* redis_fixture_stop_pool - free the pool, stop the server */
void
redis_fixture_stop_pool(struct redis_fixture *rf, struct redis_pool **pool)
{
	*pool = redis_pool_free(*pool);
	redis_fixture_stop(rf);
}
