/*++
 * NAME
 *	redis 3h
 * SUMMARY
 *	Redis client for milter callbacks: deadlines, a connection pool, back-off
 * SYNOPSIS
 *	#include "redis.h"
 *
 *	int redis_conf_parse_server(const char *text, struct redis_server *out,
 *		const char **why);
 *	int redis_conf_check(const struct redis_conf *conf, const char **why);
 *
 *	struct redis_pool *redis_pool_new(const struct redis_conf *conf,
 *		const char **why);
 *	struct redis_pool *redis_pool_free(struct redis_pool *p);
 *	const char *redis_pool_server(const struct redis_pool *p);
 *	void redis_pool_stats(struct redis_pool *p, struct redis_pool_stats *out);
 *
 *	redisReply *redis_command(struct redis_pool *p, const char **err,
 *		const char *fmt, ...);
 *	redisReply *redis_vcommand(struct redis_pool *p, const char **err,
 *		const char *fmt, va_list ap);
 *	redisReply *redis_commandargv(struct redis_pool *p, int argc,
 *		const char **argv, const size_t *argvlen, const char **err);
 *	redisReply *redis_evalsha(struct redis_pool *p, const char *source,
 *		const char *sha1_hex, int nkeys, const char **keys,
 *		int nargs, const char **args, const char **err);
 *	int redis_evalsha_int(struct redis_pool *p, const char *source,
 *		const char *sha1_hex, int nkeys, const char **keys,
 *		int nargs, const char **args, long long *out,
 *		const char *refused, const char *log_tag, const char **err);
 *	void redis_script_sha1(const char *source, char out[41]);
 *	char *redis_key(const char *prefix, const char *tag, const char *suffix);
 * DESCRIPTION
 *	Configuration. redis_conf_parse_server() checks and splits a server
 *	string: "ADDR:PORT" with a numeric IPv4 address, "[ADDR]:PORT" with a
 *	numeric IPv6 address (":PORT" may be left out: 6379),
 *	"unix:/absolute/path", or a Sentinel group
 *	"sentinel:MASTER@ADDR[:PORT],ADDR[:PORT],..." (up to
 *	REDIS_MAX_SENTINELS numeric addresses, port 26379 by default): the
 *	pool then connects to the master the Sentinels name and checks ROLE
 *	before using a connection (redis_sentinel.c). With conf->tls every
 *	connection speaks TLS, the server's certificate verified against
 *	tls_server_name or the address (redis_tls.c). Host names are refused on purpose: the name
 *	lookup would run in the milter thread on every reconnect, with the
 *	system resolver's timeouts (seconds), not ours. redis_conf_check()
 *	checks a whole struct redis_conf (the server string, the timeouts
 *	and back-off bounds, user without password). Both return 0, or -1
 *	with *why set to a static message for a config error line; they
 *	read no clock and do no I/O, so "postmillctl config check" can use
 *	them.
 *
 *	Pool. redis_pool_new() checks and copies conf (the strings too: the
 *	caller's conf may go away) and connects to nothing yet. On error it
 *	returns NULL and sets *why. redis_pool_free() closes every
 *	connection, takes NULL and returns NULL. redis_pool_server() is the
 *	server string for log lines (borrowed, valid until redis_pool_free()).
 *	redis_pool_stats() copies counters, for tests and status reports.
 *
 *	Commands. redis_command() formats a command as hiredis does ("%s" a
 *	C string, "%b" a pointer and a size_t length, "%d" and friends);
 *	redis_commandargv() takes argc strings of argvlen[i] bytes (argvlen
 *	NULL: C strings). Each call takes a connection from the pool (opening
 *	one when none is idle), sends the command and reads one reply, then
 *	gives the connection back. The reply is the caller's, freed with
 *	freeReplyObject(); it can be a Redis error reply (REDIS_REPLY_ERROR:
 *	WRONGTYPE, a Lua error, ...), which the caller must check for. NULL
 *	means no usable reply, and *err says why in a short text:
 *	"timeout"		no reply within command_timeout_ms
 *	"connect timeout"	connect + AUTH + SELECT took longer than
 *				connect_timeout_ms
 *	"backing off"		Redis failed recently; not tried (see below)
 *	"connection refused", "server closed the connection", ...
 *				socket errors, lower-case strerror text
 *	"AUTH: WRONGPASS ...", "SELECT: ERR ...", "NOAUTH ...", "LOADING ...",
 *	"READONLY ..."
 *				the server's words when it refuses to serve
 *				this connection at all
 *	"protocol error: ...", "invalid command format", "out of memory"
 *	"command refused: it would leave state on a pooled connection"
 *				AUTH, SELECT, MULTI/EXEC, WATCH, SUBSCRIBE,
 *				MONITOR, CLIENT REPLY, ...: the next call may
 *				use another connection and this one goes to
 *				another caller. Atomic sequences are Lua
 *				scripts: redis_evalsha().
 *	*err is a string literal or this thread's buffer, valid until this
 *	thread's next call into this module; it never holds the password.
 *	On success *err is NULL.
 *
 *	Deadlines. A call waits at most connect_timeout_ms to open a
 *	connection (only when no idle one is available: TCP or unix connect,
 *	AUTH and SELECT under one deadline), then at most command_timeout_ms
 *	for the reply, whatever the server does: the deadline covers the
 *	whole exchange, not each read(2). So no call takes longer than
 *	connect_timeout_ms + command_timeout_ms.
 *
 *	Failures and back-off. A connection that failed (I/O error, timeout,
 *	protocol error, refused AUTH or SELECT, an error reply such as NOAUTH
 *	or LOADING that says the server cannot serve it) is closed, never
 *	reused: after a timeout its reply may still arrive and would be read
 *	as the answer to the next command. The pool is then "down": every
 *	connection opened before the failure is dropped when next touched,
 *	and calls fail at once with "backing off" for backoff_min_ms. When
 *	that time is up, one call (the probe) connects and runs its command;
 *	the others still back off while it does. If the probe gets a reply
 *	the pool is up again; if not, the wait doubles, up to backoff_max_ms.
 *	So a dead or frozen Redis costs at most one timeout per back-off
 *	period for the whole process, not one per call. The change to down
 *	and back up is logged once each (LOG_WARNING); failed probes only at
 *	LOG_DEBUG.
 *
 *	Idle connections. At most max_idle connections wait in the pool
 *	between calls (0: REDIS_DEFAULT_MAX_IDLE); more are opened when more
 *	threads call at once, and closed when given back to a full pool. An
 *	idle connection the server has closed (Redis restart, its "timeout"
 *	setting, CLIENT KILL) is noticed before use (a readable socket) and
 *	replaced without counting as a failure.
 *
 *	Scripts. redis_evalsha() runs EVALSHA sha1_hex nkeys keys... args...
 *	(sha1_hex NULL: computed from source). On a NOSCRIPT error reply (a
 *	restarted server, SCRIPT FLUSH) it sends EVAL with the source once:
 *	NOSCRIPT means the script did not run, and EVAL both runs it and
 *	loads it into the script cache for the next EVALSHA. Reply and *err
 *	as redis_command(); after a NOSCRIPT the call is two calls, each
 *	with the bounds above. redis_script_sha1() writes the 40 lower-case
 *	hex digits Redis uses as the script's name, plus a NUL.
 *
 *	redis_evalsha_int() runs a script that answers with an integer
 *	(same arguments as redis_evalsha()) and frees the reply. It returns
 *	0 with the integer in *out and *err NULL, or -1 with *out untouched
 *	and *err set: redis_evalsha()'s text when there was no reply (the
 *	script may or may not have run: a timeout), refused (the caller's
 *	text, e.g. "Redis refused the add script") for an error reply (a
 *	Lua error, OOM, WRONGTYPE: the script stopped where it failed; Lua
 *	has no rollback), "unexpected reply from Redis" for any other type.
 *	With log_tag not NULL an error reply is also logged (LOG_WARNING,
 *	"TAG: redis SERVER: TEXT", TEXT cut at 200 bytes), since *err does
 *	not carry the server's words; NULL logs nothing.
 *
 *	Keys. redis_key() returns "prefix{tag}suffix", allocated (the
 *	caller frees it with free() or xfree()), never NULL. Redis Cluster
 *	hashes only what lies between the first '{' and the next '}', so
 *	every key built with one tag lands in one slot and a Lua script may
 *	touch them all. For that to hold for any tag (a sender address may
 *	contain braces) the three parts are escaped: '%' becomes "%25", '{'
 *	"%7B" and '}' "%7D"; other bytes are kept. An empty or NULL tag is written "%00", which no
 *	escaped tag can be, because "{}" would hash the whole key. NULL
 *	prefix or suffix means "". Distinct (prefix, tag, suffix) triples
 *	give distinct keys.
 * THREAD SAFETY
 *	Any number of threads may call through one pool at once. A
 *	connection (a redisContext) belongs to one call at a time: it is
 *	taken from the pool under the pool's mutex and given back under it,
 *	and the mutex is never held during I/O. redis_pool_free() must not
 *	run while a call on the same pool is in progress (free the pool with
 *	the configuration snapshot that owns it); it aborts if one is.
 *	Writes use send(2) with MSG_NOSIGNAL: a connection the server has
 *	closed never raises SIGPIPE, whatever the process does with it.
 *--*/
#ifndef POSTMILL_REDIS_H
#define POSTMILL_REDIS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#define REDIS_DEFAULT_PORT		6379
#define REDIS_MAX_SERVER_LEN		256	/* a config value, not a novel */
#define REDIS_MAX_SECRET_LEN		512	/* user or password */
#define REDIS_MAX_TIMEOUT_MS		10000L	/* far below milter_command_timeout (30 s) */
#define REDIS_MAX_BACKOFF_MS		600000L
#define REDIS_DEFAULT_SENTINEL_PORT	26379
#define REDIS_MAX_SENTINELS		8
#define REDIS_MAX_MASTER_NAME		63
#define REDIS_DEFAULT_MAX_IDLE		16
#define REDIS_MAX_IDLE			1024
#define REDIS_MAX_SCRIPT_ARGS		1024	/* keys + args of one redis_evalsha() */

/* Suggested defaults for the milters' parameter tables. */
#define REDIS_DEFAULT_CONNECT_TIMEOUT_MS 300L
#define REDIS_DEFAULT_COMMAND_TIMEOUT_MS 200L
#define REDIS_DEFAULT_BACKOFF_MIN_MS	1000L
#define REDIS_DEFAULT_BACKOFF_MAX_MS	30000L

enum redis_transport {
	REDIS_TRANSPORT_TCP,
	REDIS_TRANSPORT_UNIX,
	REDIS_TRANSPORT_SENTINEL,	/* ask Sentinels for the master */
};

/* a numeric TCP address */
struct redis_endpoint {
	char		host[48];	/* numeric IPv4 or IPv6, no brackets */
	int		port;		/* 1..65535 */
};

/* a parsed server string */
struct redis_server {
	enum redis_transport transport;
	char		host[48];	/* TCP: numeric IPv4 or IPv6, no brackets */
	int		port;		/* TCP: 1..65535 */
	char		path[108];	/* UNIX: absolute, fits sun_path */
	char		master_name[REDIS_MAX_MASTER_NAME + 1];	/* SENTINEL */
	struct redis_endpoint sentinels[REDIS_MAX_SENTINELS];	/* SENTINEL */
	unsigned	nsentinels;	/* SENTINEL: 1..REDIS_MAX_SENTINELS */
};

struct redis_conf {
	const char	*server;	/* "127.0.0.1:6379", "[::1]:6380", "unix:/path",
					 * "sentinel:NAME@ADDR:PORT,ADDR:PORT,..." */
	const char	*user;		/* ACL user, or NULL/"" for "default" */
	const char	*password;	/* or NULL/"": no AUTH */
	const char	*sentinel_user;	/* AUTH to the Sentinels, or NULL/"" */
	const char	*sentinel_password; /* or NULL/"": no AUTH to Sentinels */
	bool		 tls;		/* TLS to Redis (and Sentinels) */
	const char	*tls_ca_file;	/* CA bundle, or NULL/"": the system's */
	const char	*tls_cert_file;	/* client certificate, or NULL/"" */
	const char	*tls_key_file;	/* its key (NULL/"": in tls_cert_file) */
	const char	*tls_server_name; /* name to verify, or NULL/"": the IP address */
	int		 db;		/* SELECT db when not 0 */
	long		 connect_timeout_ms;	/* 1..REDIS_MAX_TIMEOUT_MS */
	long		 command_timeout_ms;	/* 1..REDIS_MAX_TIMEOUT_MS */
	long		 backoff_min_ms;	/* 1..backoff_max_ms */
	long		 backoff_max_ms;	/* ..REDIS_MAX_BACKOFF_MS */
	int		 max_idle;	/* 0: REDIS_DEFAULT_MAX_IDLE */
};

struct redis_pool_stats {
	unsigned	idle;		/* connections waiting in the pool */
	unsigned	busy;		/* connections in use by a call */
	unsigned long	connects;	/* connections attempted, ever */
	unsigned long	failures;	/* failed connects and exchanges, ever */
	bool		down;		/* backing off now */
	unsigned long	master_changes;	/* Sentinel named another master, ever */
};

struct redis_pool;

int	redis_conf_parse_server(const char *text, struct redis_server *out,
				const char **why);
int	redis_conf_check(const struct redis_conf *conf, const char **why);

struct redis_pool *redis_pool_new(const struct redis_conf *conf,
				  const char **why);
struct redis_pool *redis_pool_free(struct redis_pool *p);
const char *redis_pool_server(const struct redis_pool *p);
void	redis_pool_stats(struct redis_pool *p, struct redis_pool_stats *out);

redisReply *redis_command(struct redis_pool *p, const char **err,
			  const char *fmt, ...);
redisReply *redis_vcommand(struct redis_pool *p, const char **err,
			   const char *fmt, va_list ap);
redisReply *redis_commandargv(struct redis_pool *p, int argc,
			      const char **argv, const size_t *argvlen,
			      const char **err);
redisReply *redis_evalsha(struct redis_pool *p, const char *script_source,
			  const char *sha1_hex, int nkeys, const char **keys,
			  int nargs, const char **args, const char **err);
int	redis_evalsha_int(struct redis_pool *p, const char *script_source,
			  const char *sha1_hex, int nkeys, const char **keys,
			  int nargs, const char **args, long long *out,
			  const char *refused, const char *log_tag,
			  const char **err);
void	redis_script_sha1(const char *source, char out[41]);
char   *redis_key(const char *prefix, const char *tag, const char *suffix);

#endif
