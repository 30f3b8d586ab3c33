/*++
 * NAME
 *	redis_fixture 3h
 * SUMMARY
 *	a private redis-server on loopback for unit tests
 * SYNOPSIS
 *	#include "redis_fixture.h"
 * DESCRIPTION
 *	redis_fixture_start() makes a fresh mkdtemp(3) directory and starts
 *	redis-server as a child on 127.0.0.1 and a free port (and on ::1
 *	too when the host has it), with --dir in
 *	that directory, no persistence (--save '' --appendonly no), its log
 *	in DIR/redis.log, and with the flags:
 *	REDIS_FIXTURE_UNIX	also listen on DIR/redis.sock
 *	REDIS_FIXTURE_DEBUG	--enable-debug-command local (DEBUG SLEEP)
 *	and --requirepass when password is not NULL.
 *	redis_fixture_start_with() also writes conf_text (when not NULL) to
 *	DIR/redis.conf and passes that file first (Sentinel needs a config
 *	file it can rewrite), adds --sentinel with REDIS_FIXTURE_SENTINEL,
 *	and appends the NULL-ended argv words in extra (at most
 *	REDIS_FIXTURE_MAX_EXTRA; the strings must outlive the fixture). It returns once the
 *	server answers a PING (any reply: +PONG or -NOAUTH), or fails after
 *	REDIS_FIXTURE_START_MS. rf->server and rf->unix_server hold
 *	"127.0.0.1:PORT" and "unix:DIR/redis.sock" for struct redis_conf.
 *
 *	redis_fixture_halt() stops the server (SIGTERM, SIGKILL after 3 s,
 *	reaped with waitpid) and keeps the directory and port;
 *	redis_fixture_restart() starts it again on the same port with the
 *	same options (empty: nothing is saved). redis_fixture_freeze() and
 *	redis_fixture_thaw() send SIGSTOP and SIGCONT: a frozen server still
 *	accepts TCP connections (the kernel does that) but answers nothing.
 *	redis_fixture_stop() halts the server and removes the directory
 *	unless the environment has REDIS_FIXTURE_KEEP=1 (to read redis.log).
 *
 *	redis_fixture_available() says whether redis-server is installed;
 *	tests skip otherwise. Errors return -1 with a message in err. The
 *	server is started with PR_SET_PDEATHSIG, so a crashed test binary
 *	leaves no redis-server behind. Symbols are prefixed redis_fixture_
 *	because the Makefile links every non-test file of tests/unit/ into
 *	every test binary.
 *--*/
#ifndef POSTMILL_REDIS_FIXTURE_H
#define POSTMILL_REDIS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REDIS_FIXTURE_UNIX	0x01
#define REDIS_FIXTURE_DEBUG	0x02
#define REDIS_FIXTURE_SENTINEL	0x04	/* redis-server DIR/redis.conf --sentinel */
#define REDIS_FIXTURE_MAX_EXTRA	16
#define REDIS_FIXTURE_START_MS	5000

struct redis_fixture {
	pid_t		pid;		/* 0: not running */
	bool		frozen;		/* SIGSTOP sent, no SIGCONT yet */
	unsigned	port;
	unsigned	flags;
	char		password[64];	/* "": none */
	char		dir[64];
	char		server[32];	/* "127.0.0.1:PORT" */
	char		unix_server[96]; /* "unix:DIR/redis.sock" */
	/* set by redis_fixture_start_with(); the strings are the caller's */
	const char	*conf_text;	/* written to DIR/redis.conf, or NULL */
	const char	*extra[REDIS_FIXTURE_MAX_EXTRA + 1]; /* more argv, NULL-ended */
};

bool	redis_fixture_available(void);
/* a TCP port free on 127.0.0.1 just now (for a second listener) */
unsigned redis_fixture_free_port(void);
int	redis_fixture_start(struct redis_fixture *rf, unsigned flags,
			    const char *password, char *err, size_t errlen);
int	redis_fixture_start_with(struct redis_fixture *rf, unsigned flags,
				 const char *conf_text, const char *const *extra,
				 char *err, size_t errlen);
int	redis_fixture_restart(struct redis_fixture *rf, char *err, size_t errlen);
void	redis_fixture_halt(struct redis_fixture *rf);
int	redis_fixture_freeze(struct redis_fixture *rf);
int	redis_fixture_thaw(struct redis_fixture *rf);
void	redis_fixture_stop(struct redis_fixture *rf);

struct redis_pool;
/* redis_fixture_start_pool - redis_fixture_start() (no flags, no password)
 * and a pool on it with these timeouts, max_idle idle connections (0: the
 * pool's default) and a 1..10 ms back-off; 0, or -1 with err (and no
 * server left running) */
int	redis_fixture_start_pool(struct redis_fixture *rf, long connect_ms,
				 long command_ms, int max_idle,
				 struct redis_pool **pool, char *err, size_t errlen);
/* redis_fixture_stop_pool - free the pool, stop the server */
void	redis_fixture_stop_pool(struct redis_fixture *rf, struct redis_pool **pool);

struct redisReply;
/* redis_fixture_reply_text - a reply as text for got/want messages:
 * integers in decimal, "(nil)", "[N]" for an array of N, else the
 * string; the caller frees it */
char	*redis_fixture_reply_text(const struct redisReply *r);

#endif
