/*++
 * NAME
 *	redis 3
 * SUMMARY
 *	Redis client for milter callbacks: deadlines, a connection pool, back-off
 * DESCRIPTION
 *	See redis.h for the interface. Configuration (redis_conf.c), the
 *	Sentinel's master (redis_sentinel.c) and TLS (redis_tls.c) live
 *	apart; this file has three layers:
 *	- links: one connection each (a redisContext, and an SSL with
 *	  redis_tls), opened by redis_link_open() (connect, TLS, AUTH,
 *	  SELECT, and ROLE behind Sentinels, under one deadline) and used by
 *	  redis_exchange() (one command, one reply, one deadline);
 *	- the pool: a mutex-protected stack of idle links plus the up/down
 *	  state that drives the back-off (redis_checkout(), redis_checkin(),
 *	  redis_failed(), redis_recovered());
 *	- commands: redis_command() and friends format with hiredis and run
 *	  redis_call().
 *
 *	hiredis connects (redisConnectWithTimeout() bounds the connect, and
 *	a numeric address never reaches a resolver), formats commands and
 *	parses replies. The socket I/O of an exchange is done here, with
 *	poll(2) against one deadline and send(2)/recv(2) with MSG_DONTWAIT:
 *	redisSetTimeout() sets SO_RCVTIMEO, which bounds each read(2), so a
 *	server trickling a reply a byte at a time could hold a milter thread
 *	for many timeouts; and hiredis writes with write(2), which raises
 *	SIGPIPE on a connection the server has closed, while send(2) with
 *	MSG_NOSIGNAL does not. The context's own I/O functions and output
 *	buffer are never used.
 *
 *	Why a pool and not a context per thread (pthread_key_t): libmilter
 *	threads come and go with SMTP sessions, so per-thread contexts would
 *	reconnect (and AUTH) for most sessions; and the pool lives in a
 *	configuration snapshot that a reload frees from whichever thread
 *	drops it last, while per-thread contexts would still sit in other
 *	threads' keys. Here a link is owned by exactly one call between
 *	checkout and checkin, the mutex is held for a few list operations
 *	only, and redis_pool_free() knows every link there is.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "redis.h"
#include "redis_priv.h"
#include "stats.h"
#include "xalloc.h"

#define REDIS_READ_CHUNK	16384	/* one recv(2); replies are mostly tiny */


/*
 * Error texts that are not string literals live in one buffer per thread:
 * they are valid until this thread's next call, which is all a caller
 * needs to log them, and no two threads can overwrite each other's.
 */
static _Thread_local char redis_errbuf[192];

/* redis_now_ms - monotonic milliseconds */
long long
redis_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* redis_errf - format an error into this thread's buffer, printable only */
const char *
redis_errf(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(redis_errbuf, sizeof(redis_errbuf), fmt, ap);
	va_end(ap);
	/* the text may come from the server: keep log lines one line */
	for (char *cp = redis_errbuf; *cp != '\0'; cp++)
		if ((unsigned char)*cp < 0x20 || (unsigned char)*cp == 0x7f)
			*cp = '?';
	return redis_errbuf;
}

/* redis_err_lower - text with a lower-case first letter, as errors read */
const char *
redis_err_lower(const char *text)
{
	redis_errf("%s", text);
	if (redis_errbuf[0] >= 'A' && redis_errbuf[0] <= 'Z')
		redis_errbuf[0] = (char)(redis_errbuf[0] - 'A' + 'a');
	return redis_errbuf;
}

/* redis_err_errno - lower-case strerror text for errnum */
const char *
redis_err_errno(int errnum)
{
	char	buf[128];

	return redis_err_lower(strerror_r(errnum, buf, sizeof(buf)));
}

/*
 * Links.
 */

/* redis_link_free - close one connection; takes NULL */
void
redis_link_free(struct redis_link *l)
{
	if (l == NULL)
		return;
	SSL_free(l->ssl);	/* no close_notify: it could block, Redis does not need it */
	redisFree(l->ctx);
	free(l);
}

/* redis_wait - poll fd until ready or deadline: 0 ready, -1 deadline passed */
int
redis_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		long long left = deadline - redis_now_ms();
		int	n;

		if (left <= 0)
			return -1;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;		/* ready, or an error for send/recv */
		if (n < 0 && errno != EINTR)
			return 0;		/* let send/recv report it */
	}
}

/* redis_reply_unusable - an error reply that says this connection can't work */
static bool
redis_reply_unusable(const redisReply *r)
{
	/* the server's words for "not you" or "not now", not for "not this" */
	static const char *const words[] = {
		"NOAUTH", "WRONGPASS", "LOADING", "BUSY", "MASTERDOWN",
		/* a replica since a failover: Sentinel names the new master */
		"READONLY",
	};

	if (r->type != REDIS_REPLY_ERROR || r->str == NULL)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t	n = strlen(words[i]);

		if ((size_t)r->len >= n && strncmp(r->str, words[i], n) == 0
		    && (r->str[n] == ' ' || r->str[n] == '\0'))
			return true;
	}
	return false;
}

/* redis_link_send - send(2) or SSL_write: bytes, or -1 with errno (EAGAIN: *want) */
static ssize_t
redis_link_send(struct redis_link *l, const char *buf, size_t len, short *want,
		const char **err)
{
	ssize_t	n;

	if (l->ssl != NULL)
		return redis_tls_send(l->ssl, buf, len, want, err);
	*want = POLLOUT;
	n = send(l->ctx->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		*err = redis_err_errno(errno);
	return n;
}

/* redis_link_recv - recv(2) or SSL_read: bytes, 0 at EOF, or -1 with errno */
static ssize_t
redis_link_recv(struct redis_link *l, char *buf, size_t len, short *want,
		const char **err)
{
	ssize_t	n;

	if (l->ssl != NULL)
		return redis_tls_recv(l->ssl, buf, len, want, err);
	*want = POLLIN;
	n = recv(l->ctx->fd, buf, len, MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		*err = redis_err_errno(errno);
	return n;
}

/*
 * redis_exchange - send one formatted command and read its reply by deadline
 *
 * Returns the reply, or NULL with *err set: timeout_err when the deadline
 * passed, else the socket or protocol error. After NULL the link is
 * unusable (a reply may still be on its way) and must be freed.
 */
redisReply *
redis_exchange(struct redis_link *l, const char *cmd, size_t len,
	       long long deadline, const char *timeout_err, const char **err)
{
	redisContext *c = l->ctx;
	char	buf[REDIS_READ_CHUNK];
	void	*reply = NULL;
	size_t	off = 0;
	short	want = POLLOUT;

	while (off < len) {
		ssize_t	n = redis_link_send(l, cmd + off, len - off, &want, err);

		if (n >= 0) {
			off += (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (redis_wait(c->fd, want, deadline) < 0) {
				*err = timeout_err;
				return NULL;
			}
		} else if (errno != EINTR) {
			return NULL;
		}
	}
	/* plain sockets: poll first; TLS may hold decrypted bytes already */
	want = l->ssl != NULL ? 0 : POLLIN;
	for (;;) {
		ssize_t	n;

		if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
			*err = redis_errf("protocol error: %s", c->reader->errstr);
			return NULL;
		}
		if (reply != NULL)
			return reply;
		if (want != 0 && redis_wait(c->fd, want, deadline) < 0) {
			*err = timeout_err;
			return NULL;
		}
		n = redis_link_recv(l, buf, sizeof(buf), &want, err);
		if (n == 0) {
			*err = "server closed the connection";
			return NULL;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				if (want == 0)
					want = POLLIN;
				continue;
			}
			return NULL;
		}
		want = l->ssl != NULL ? 0 : POLLIN;
		if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
			*err = redis_errf("protocol error: %s", c->reader->errstr);
			return NULL;
		}
	}
}

/* redis_handshake - one AUTH or SELECT while connecting: 0 or -1 + *err */
int
redis_handshake(struct redis_link *l, const char *what, int argc,
		const char **argv, long long deadline, const char **err)
{
	redisReply *r;
	char	*cmd;
	int	len;

	if ((len = redisFormatCommandArgv(&cmd, argc, argv, NULL)) < 0) {
		*err = "out of memory";
		return -1;
	}
	r = redis_exchange(l, cmd, (size_t)len, deadline, "connect timeout", err);
	explicit_bzero(cmd, (size_t)len);	/* AUTH: the password */
	redisFreeCommand(cmd);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		*err = redis_errf("%s: %s", what, r->str ? r->str : "");
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/*
 * redis_link_connect - a TCP (host, port) or unix (path) connection, TLS
 * on top when configured, all by the deadline
 */
struct redis_link *
redis_link_connect(const struct redis_pool *p, const char *host, int port,
		   const char *path, unsigned long epoch, long long deadline,
		   const char **err)
{
	long long left = deadline - redis_now_ms();
	struct timeval tv;
	struct redis_link *l;
	redisContext *c;
	char	timedout[128];

	if (left < 1)
		left = 1;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	if (path != NULL)
		c = redisConnectUnixWithTimeout(path, tv);
	else
		c = redisConnectWithTimeout(host, port, tv);
	if (c == NULL) {
		*err = "out of memory";
		return NULL;
	}
	if (c->err != 0) {
		/* hiredis says ETIMEDOUT in words: compare the words */
		if (strcmp(c->errstr, strerror_r(ETIMEDOUT, timedout, sizeof(timedout))) == 0) {
			*err = "connect timeout";
		} else {
			*err = redis_err_lower(c->errstr);
		}
		redisFree(c);
		return NULL;
	}
	/* a milter never execs, but a helper it may start must not inherit us */
	(void)fcntl(c->fd, F_SETFD, FD_CLOEXEC);
	if (path == NULL && redisEnableKeepAlive(c) != REDIS_OK) {
		/* only costs the early detection of a vanished peer */
		c->err = 0;
		c->errstr[0] = '\0';
	}
	l = xcalloc(1, sizeof(*l));
	l->ctx = c;
	l->epoch = epoch;
	if (p->tls_ctx != NULL && path == NULL
	    && (l->ssl = redis_tls_connect(p->tls_ctx, c->fd, p->tls_server_name,
					   host, deadline, err)) == NULL) {
		redis_link_free(l);
		return NULL;
	}
	return l;
}

/* redis_link_auth - AUTH [user] password, when a password is set */
int
redis_link_auth(struct redis_link *l, const char *user, const char *password,
		long long deadline, const char **err)
{
	const char *argv[3] = {"AUTH"};
	int	argc = 1;

	if (password == NULL)
		return 0;
	if (user != NULL)
		argv[argc++] = user;
	argv[argc++] = password;
	return redis_handshake(l, "AUTH", argc, argv, deadline, err);
}

/* redis_link_open - connect, AUTH and SELECT under connect_timeout_ms */
static struct redis_link *
redis_link_open(struct redis_pool *p, unsigned long epoch, const char **err)
{
	long long deadline = redis_now_ms() + p->connect_timeout_ms;
	struct redis_endpoint master;
	struct redis_link *l;

	switch (p->server.transport) {
	case REDIS_TRANSPORT_UNIX:
		l = redis_link_connect(p, NULL, 0, p->server.path, epoch, deadline, err);
		break;
	case REDIS_TRANSPORT_TCP:
		l = redis_link_connect(p, p->server.host, p->server.port, NULL, epoch,
				       deadline, err);
		break;
	case REDIS_TRANSPORT_SENTINEL:
		if (redis_master_for(p, epoch, deadline, &master, err) < 0)
			return NULL;
		l = redis_link_connect(p, master.host, master.port, NULL, epoch,
				       deadline, err);
		break;
	default:
		*err = "unknown transport";
		return NULL;
	}
	if (l == NULL)
		return NULL;
	if (redis_link_auth(l, p->user, p->password, deadline, err) < 0) {
		redis_link_free(l);
		return NULL;
	}
	if (p->db != 0) {
		char	db[16];
		const char *argv[2] = {"SELECT", db};

		snprintf(db, sizeof(db), "%d", p->db);
		if (redis_handshake(l, "SELECT", 2, argv, deadline, err) < 0) {
			redis_link_free(l);
			return NULL;
		}
	}
	/*
	 * Sentinel's answer can be a moment old: right after a failover the
	 * old master may still run (as a replica soon). Never write to it.
	 */
	if (p->server.transport == REDIS_TRANSPORT_SENTINEL
	    && redis_role_master(l, deadline, err) < 0) {
		redis_link_free(l);
		return NULL;
	}
	return l;
}

/* redis_link_alive - may an idle link be used: nothing to read, no error */
static bool
redis_link_alive(const struct redis_link *l)
{
	struct pollfd pfd;

	/*
	 * No request is outstanding on an idle link, so anything readable is
	 * an EOF (Redis restarted, its "timeout" setting, CLIENT KILL), a
	 * reset or garbage: in every case the link is dead.
	 */
	pfd.fd = l->ctx->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 0)
		return true;
	/* TLS: a session ticket is housekeeping, not a dead link */
	return l->ssl != NULL && redis_tls_idle_ok(l->ssl)
	    && poll(&pfd, 1, 0) == 0;
}

/* redis_link_clean - did the last exchange leave nothing unparsed behind */
static bool
redis_link_clean(const struct redis_link *l)
{
	/* bytes after the reply would be read as the next command's reply */
	return l->ctx->reader->pos == l->ctx->reader->len;
}

/*
 * The pool and its up/down state.
 */

/* redis_failed - a connect or exchange failed: drop all links, back off */
static void
redis_failed(struct redis_pool *p, bool probe, const char *err)
{
	long long now = redis_now_ms();
	bool	went_down = false;
	long	backoff;

	pthread_mutex_lock(&p->lock);
	p->epoch++;			/* every older link is suspect now */
	p->failures++;
	if (!p->down) {
		p->down = true;
		p->down_since = now;
		p->backoff_ms = p->backoff_min_ms;
		p->retry_at = now + p->backoff_ms;
		went_down = true;
	} else if (probe) {
		/*
		 * Behind Sentinels a failed probe is cheap (a question to a
		 * Sentinel) and the answer changes within the failover time:
		 * keep probing every backoff_min, so mail flows again at most
		 * that long after a new master is promoted.
		 */
		if (p->server.transport != REDIS_TRANSPORT_SENTINEL)
			p->backoff_ms = p->backoff_ms > p->backoff_max_ms / 2
			    ? p->backoff_max_ms : p->backoff_ms * 2;
		p->retry_at = now + p->backoff_ms;
	}
	if (probe)
		p->probing = false;
	backoff = p->backoff_ms;
	pthread_mutex_unlock(&p->lock);

	if (went_down)
		log_msg(LOG_WARNING, NULL, "redis %s: down: %s; next try in %ld ms",
			p->server_text, err, backoff);
	else if (probe)
		log_msg(LOG_DEBUG, NULL, "redis %s: still down: %s; next try in %ld ms",
			p->server_text, err, backoff);
}

/* redis_recovered - the probe got a reply: up again */
static void
redis_recovered(struct redis_pool *p)
{
	long long since = 0;
	bool	was_down;

	pthread_mutex_lock(&p->lock);
	was_down = p->down;
	if (was_down)
		since = p->down_since;
	p->down = false;
	p->probing = false;
	p->backoff_ms = 0;
	pthread_mutex_unlock(&p->lock);
	if (was_down)
		log_msg(LOG_WARNING, NULL, "redis %s: up again after %lld ms",
			p->server_text, redis_now_ms() - since);
}

/*
 * redis_checkout - a link for one call: idle, or newly opened
 *
 * Returns NULL with *err when backing off or when the connect failed
 * (the failure is already counted). *probe says this call is the one
 * allowed to try while the pool is down.
 */
static struct redis_link *
redis_checkout(struct redis_pool *p, bool *probe, const char **err)
{
	struct redis_link *l;
	unsigned long epoch;

	*probe = false;
	if (p->server.transport == REDIS_TRANSPORT_SENTINEL)
		redis_sentinel_recheck(p);
	for (;;) {
		bool	current;

		pthread_mutex_lock(&p->lock);
		if (p->nidle == 0)
			break;			/* with the lock held */
		l = p->idle[--p->nidle];
		current = l->epoch == p->epoch;
		if (current)
			p->busy++;
		pthread_mutex_unlock(&p->lock);
		if (current && redis_link_alive(l))
			return l;
		redis_link_free(l);		/* outside the lock: close(2) */
		if (current) {
			pthread_mutex_lock(&p->lock);
			p->busy--;
			pthread_mutex_unlock(&p->lock);
		}
	}
	if (p->down) {
		if (p->probing || redis_now_ms() < p->retry_at) {
			pthread_mutex_unlock(&p->lock);
			*err = "backing off";
			return NULL;
		}
		p->probing = true;
		*probe = true;
	}
	p->busy++;
	p->connects++;
	epoch = p->epoch;
	pthread_mutex_unlock(&p->lock);

	if ((l = redis_link_open(p, epoch, err)) == NULL) {
		pthread_mutex_lock(&p->lock);
		p->busy--;
		pthread_mutex_unlock(&p->lock);
		redis_failed(p, *probe, *err);
	}
	return l;
}

/* redis_checkin - give a good link back, or close it */
static void
redis_checkin(struct redis_pool *p, struct redis_link *l)
{
	pthread_mutex_lock(&p->lock);
	p->busy--;
	if (l->epoch == p->epoch && p->nidle < p->max_idle && redis_link_clean(l)) {
		p->idle[p->nidle++] = l;
		l = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	redis_link_free(l);
}

/* redis_discard - close a link that failed */
static void
redis_discard(struct redis_pool *p, struct redis_link *l)
{
	pthread_mutex_lock(&p->lock);
	p->busy--;
	pthread_mutex_unlock(&p->lock);
	redis_link_free(l);
}

/* redis_pool_strings_free - what redis_pool_new() allocated, and p itself */
static void
redis_pool_strings_free(struct redis_pool *p)
{
	if (p->password != NULL)
		explicit_bzero(p->password, strlen(p->password));
	if (p->sentinel_password != NULL)
		explicit_bzero(p->sentinel_password, strlen(p->sentinel_password));
	SSL_CTX_free(p->tls_ctx);
	free(p->tls_server_name);
	free(p->sentinel_password);
	free(p->sentinel_user);
	free(p->password);
	free(p->user);
	free(p->server_text);
	free(p->idle);
	free(p);
}

/* redis_pool_new - check and copy conf; connects to nothing yet */
struct redis_pool *
redis_pool_new(const struct redis_conf *conf, const char **why)
{
	struct redis_pool *p;
	const char *user = redis_nonempty(conf->user);
	const char *password = redis_nonempty(conf->password);

	if (redis_conf_check(conf, why) < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	(void)redis_conf_parse_server(conf->server, &p->server, why);
	p->server_text = xstrdup(conf->server);
	p->user = user ? xstrdup(user) : NULL;
	p->password = password ? xstrdup(password) : NULL;
	p->sentinel_user = redis_nonempty(conf->sentinel_user)
	    ? xstrdup(conf->sentinel_user) : NULL;
	p->sentinel_password = redis_nonempty(conf->sentinel_password)
	    ? xstrdup(conf->sentinel_password) : NULL;
	p->tls_server_name = redis_nonempty(conf->tls_server_name)
	    ? xstrdup(conf->tls_server_name) : NULL;
	p->db = conf->db;
	p->connect_timeout_ms = conf->connect_timeout_ms;
	p->command_timeout_ms = conf->command_timeout_ms;
	p->backoff_min_ms = conf->backoff_min_ms;
	p->backoff_max_ms = conf->backoff_max_ms;
	p->max_idle = conf->max_idle > 0 ? (unsigned)conf->max_idle
	    : REDIS_DEFAULT_MAX_IDLE;
	p->idle = xcalloc(p->max_idle, sizeof(*p->idle));
	if (conf->tls && (p->tls_ctx = redis_tls_ctx_new(conf, why)) == NULL) {
		redis_pool_strings_free(p);
		return NULL;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		*why = "cannot create a mutex";
		redis_pool_strings_free(p);
		return NULL;
	}
	return p;
}

/* redis_pool_free - close every connection; takes NULL, returns NULL */
struct redis_pool *
redis_pool_free(struct redis_pool *p)
{
	if (p == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	if (p->busy != 0) {
		/* a call is using a link we are about to free: our bug */
		log_msg(LOG_CRIT, NULL, "redis %s: pool freed with %u call(s) in progress",
			p->server_text, p->busy);
		abort();
	}
	while (p->nidle > 0)
		redis_link_free(p->idle[--p->nidle]);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
	redis_pool_strings_free(p);
	return NULL;
}

/* redis_pool_server - the server string, for log lines */
const char *
redis_pool_server(const struct redis_pool *p)
{
	return p->server_text;
}

/* redis_pool_stats - copy the counters */
void
redis_pool_stats(struct redis_pool *p, struct redis_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->idle = p->nidle;
	out->busy = p->busy;
	out->connects = p->connects;
	out->failures = p->failures;
	out->down = p->down;
	out->master_changes = p->master_changes;
	pthread_mutex_unlock(&p->lock);
}

/*
 * Commands.
 */

/*
 * Commands that leave state on a connection. Through the pool the next
 * command may go out on another connection, and this one goes to another
 * caller: a MULTI would queue a stranger's commands, a SUBSCRIBE would
 * turn the link deaf, a SELECT would send a stranger to another database.
 * Atomic sequences are Lua scripts (redis_evalsha()) instead.
 */
static const char *const redis_state_commands[] = {
	"AUTH", "SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH",
	"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
	"SUNSUBSCRIBE", "MONITOR", "SYNC", "PSYNC", "REPLCONF", "RESET",
	"HELLO", "QUIT", "READONLY", "READWRITE",
};
static const char *const redis_state_client_commands[] = {
	"REPLY", "TRACKING", "CACHING",
};

/* redis_resp_num - "<lead>DIGITS\r\n" at *pp; advances *pp */
static bool
redis_resp_num(const char **pp, const char *end, char lead, size_t *val)
{
	const char *cp = *pp;
	size_t	v = 0;

	if (cp >= end || *cp++ != lead || cp >= end || *cp < '0' || *cp > '9')
		return false;
	while (cp < end && *cp >= '0' && *cp <= '9') {
		if (v > 1000000000)
			return false;
		v = v * 10 + (size_t)(*cp++ - '0');
	}
	if (end - cp < 2 || cp[0] != '\r' || cp[1] != '\n')
		return false;
	*pp = cp + 2;
	*val = v;
	return true;
}

/* redis_cmd_arg - argument i of a formatted command, or NULL */
static const char *
redis_cmd_arg(const char *cmd, size_t len, size_t i, size_t *alen)
{
	const char *cp = cmd, *end = cmd + len;
	size_t	n, l;

	if (!redis_resp_num(&cp, end, '*', &n) || i >= n)
		return NULL;
	for (size_t k = 0;; k++) {
		if (!redis_resp_num(&cp, end, '$', &l) || (size_t)(end - cp) < l + 2)
			return NULL;
		if (k == i) {
			*alen = l;
			return cp;
		}
		cp += l + 2;
	}
}

/* redis_word_in - is the len bytes at s one of the words, ignoring case */
static bool
redis_word_in(const char *s, size_t len, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return true;
	return false;
}

/* redis_cmd_check - a command the pool can run: NULL, or why not */
static const char *
redis_cmd_check(const char *cmd, size_t len)
{
	const char *name, *sub;
	size_t	nlen, slen;

	/* no command ("*0\r\n") gets no reply: it would wait for the deadline */
	if ((name = redis_cmd_arg(cmd, len, 0, &nlen)) == NULL)
		return "invalid command format";
	if (redis_word_in(name, nlen, redis_state_commands,
			  sizeof(redis_state_commands) / sizeof(redis_state_commands[0])))
		return "command refused: it would leave state on a pooled connection";
	if (nlen == 6 && strncasecmp(name, "CLIENT", 6) == 0
	    && (sub = redis_cmd_arg(cmd, len, 1, &slen)) != NULL
	    && redis_word_in(sub, slen, redis_state_client_commands,
			     sizeof(redis_state_client_commands)
			     / sizeof(redis_state_client_commands[0])))
		return "command refused: it would leave state on a pooled connection";
	return NULL;
}

static redisReply *redis_call_timed(struct redis_pool *, const char *, size_t, const char **);

static struct stats_family *redis_stats_lat, *redis_stats_errs;
static pthread_once_t redis_stats_once = PTHREAD_ONCE_INIT;

/* redis_stats_init - the families, once */
static void
redis_stats_init(void)
{
	static const double bounds[] = STATS_MS_BUCKETS;

	redis_stats_lat = stats_histogram("postmill_redis_duration_ms",
					  "Time of one Redis call through the pool (connect included).",
					  "result", bounds, STATS_MS_NBUCKETS);
	redis_stats_errs = stats_counter("postmill_redis_errors_total",
					 "Redis calls without a usable reply, by class.", "class");
}

/*
 * redis_stats_call - count one call: its time, and what went wrong
 *
 * The error label is a class, not the text: texts hold addresses and
 * server words, and a label must take few values.
 */
static void
redis_stats_call(long long t0_us, const char *err)
{
	struct timespec ts;
	const char *cls;

	pthread_once(&redis_stats_once, redis_stats_init);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	stats_observe(redis_stats_lat, err == NULL ? "ok" : "error",
		      (double)((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - t0_us) / 1000.0);
	if (err == NULL)
		return;
	if (strcmp(err, "backing off") == 0)
		cls = "backing_off";
	else if (strstr(err, "timeout") != NULL)
		cls = "timeout";
	else if (strncmp(err, "command refused", 15) == 0 || strcmp(err, "invalid command format") == 0)
		cls = "refused";
	else
		cls = "connection";
	stats_inc(redis_stats_errs, cls);
}

/* redis_call - one formatted command through the pool */
static redisReply *
redis_call(struct redis_pool *p, const char *cmd, size_t len, const char **err)
{
	struct timespec ts;
	long long t0;
	redisReply *r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	r = redis_call_timed(p, cmd, len, err);
	redis_stats_call(t0, r == NULL ? *err : NULL);
	return r;
}

/* redis_call_timed - what redis_call() does, without the counting */
static redisReply *
redis_call_timed(struct redis_pool *p, const char *cmd, size_t len, const char **err)
{
	struct redis_link *l;
	redisReply *r;
	bool	probe;

	if ((*err = redis_cmd_check(cmd, len)) != NULL)
		return NULL;
	if ((l = redis_checkout(p, &probe, err)) == NULL)
		return NULL;
	r = redis_exchange(l, cmd, len, redis_now_ms() + p->command_timeout_ms,
			   "timeout", err);
	if (r != NULL && redis_reply_unusable(r)) {
		*err = redis_errf("%s", r->str);
		freeReplyObject(r);
		r = NULL;
	}
	if (r == NULL) {
		redis_discard(p, l);
		redis_failed(p, probe, *err);
		return NULL;
	}
	redis_checkin(p, l);
	if (probe)
		redis_recovered(p);
	*err = NULL;
	return r;
}

/* redis_vcommand - hiredis format string and va_list */
redisReply *
redis_vcommand(struct redis_pool *p, const char **err, const char *fmt,
	       va_list ap)
{
	redisReply *r;
	char	*cmd;
	int	len;

	if ((len = redisvFormatCommand(&cmd, fmt, ap)) < 0) {
		*err = len == -1 ? "out of memory" : "invalid command format";
		return NULL;
	}
	r = redis_call(p, cmd, (size_t)len, err);
	redisFreeCommand(cmd);
	return r;
}

/* redis_command - hiredis format string; see redis.h */
redisReply *
redis_command(struct redis_pool *p, const char **err, const char *fmt, ...)
{
	redisReply *r;
	va_list	ap;

	va_start(ap, fmt);
	r = redis_vcommand(p, err, fmt, ap);
	va_end(ap);
	return r;
}

/* redis_commandargv - argc strings of argvlen[i] bytes (NULL: C strings) */
redisReply *
redis_commandargv(struct redis_pool *p, int argc, const char **argv,
		  const size_t *argvlen, const char **err)
{
	redisReply *r;
	char	*cmd;
	int	len;

	if (argc < 1) {
		*err = "invalid command format";
		return NULL;
	}
	if ((len = redisFormatCommandArgv(&cmd, argc, argv, argvlen)) < 0) {
		*err = "out of memory";
		return NULL;
	}
	r = redis_call(p, cmd, (size_t)len, err);
	redisFreeCommand(cmd);
	return r;
}

/* redis_script_sha1 - the name Redis gives a script: SHA-1, lower-case hex */
void
redis_script_sha1(const char *source, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(source, strlen(source), md, &mdlen, EVP_sha1(), NULL) != 1
	    || mdlen != 20) {
		/* EVP_sha1() is built in: failing means libcrypto is broken */
		log_msg(LOG_CRIT, NULL, "redis: SHA-1 digest failed");
		abort();
	}
	for (unsigned i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[40] = '\0';
}

/* redis_evalsha - EVALSHA, and EVAL once after NOSCRIPT; see redis.h */
redisReply *
redis_evalsha(struct redis_pool *p, const char *script_source,
	      const char *sha1_hex, int nkeys, const char **keys,
	      int nargs, const char **args, const char **err)
{
	char	sha[41], nkeys_text[16];
	const char **argv;
	redisReply *r;
	int	argc = 0;

	if (nkeys < 0 || nargs < 0 || nkeys > REDIS_MAX_SCRIPT_ARGS
	    || nargs > REDIS_MAX_SCRIPT_ARGS - nkeys) {
		*err = "invalid script arguments";
		return NULL;
	}
	if (sha1_hex == NULL) {
		redis_script_sha1(script_source, sha);
		sha1_hex = sha;
	}
	snprintf(nkeys_text, sizeof(nkeys_text), "%d", nkeys);
	argv = xcalloc((size_t)(3 + nkeys + nargs), sizeof(*argv));
	argv[argc++] = "EVALSHA";
	argv[argc++] = sha1_hex;
	argv[argc++] = nkeys_text;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];

	r = redis_commandargv(p, argc, argv, NULL, err);
	/* NOSCRIPT: the script did not run, so running it now runs it once */
	if (r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL
	    && strncmp(r->str, "NOSCRIPT", 8) == 0
	    && (r->str[8] == ' ' || r->str[8] == '\0')) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = script_source;
		r = redis_commandargv(p, argc, argv, NULL, err);
	}
	free(argv);
	return r;
}

/* redis_evalsha_int - a script whose reply is an integer; see redis.h */
int
redis_evalsha_int(struct redis_pool *p, const char *script_source,
		  const char *sha1_hex, int nkeys, const char **keys,
		  int nargs, const char **args, long long *out,
		  const char *refused, const char *log_tag, const char **err)
{
	redisReply *r;
	int	rc = -1;

	r = redis_evalsha(p, script_source, sha1_hex, nkeys, keys, nargs, args, err);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER) {
		*out = r->integer;
		*err = NULL;
		rc = 0;
	} else if (r->type == REDIS_REPLY_ERROR) {
		/* the server's words (a Lua error, OOM, ...) are for the log */
		if (log_tag != NULL)
			log_msg(LOG_WARNING, NULL, "%s: redis %s: %.200s", log_tag,
				redis_pool_server(p), r->str ? r->str : "?");
		*err = refused;
	} else {
		*err = "unexpected reply from Redis";
	}
	freeReplyObject(r);
	return rc;
}

/* redis_key_escape - append s escaped (see redis.h); returns the new end */
static char *
redis_key_escape(char *w, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '%':
			memcpy(w, "%25", 3);
			w += 3;
			break;
		case '{':
			memcpy(w, "%7B", 3);
			w += 3;
			break;
		case '}':
			memcpy(w, "%7D", 3);
			w += 3;
			break;
		default:
			*w++ = *s;
		}
	}
	return w;
}

/* redis_key - "prefix{tag}suffix", escaped; caller frees */
char *
redis_key(const char *prefix, const char *tag, const char *suffix)
{
	const char *parts[3];
	size_t	len = 2 + 1;			/* braces, NUL */
	char	*key, *w;

	parts[0] = prefix ? prefix : "";
	parts[1] = tag && *tag ? tag : NULL;
	parts[2] = suffix ? suffix : "";
	for (int i = 0; i < 3; i++) {
		if (parts[i] == NULL) {
			len += 3;			/* "%00" */
			continue;
		}
		for (const char *s = parts[i]; *s != '\0'; s++)
			len += (*s == '%' || *s == '{' || *s == '}') ? 3 : 1;
	}
	key = w = xmalloc(len);
	w = redis_key_escape(w, parts[0]);
	*w++ = '{';
	if (parts[1] != NULL) {
		w = redis_key_escape(w, parts[1]);
	} else {
		memcpy(w, "%00", 3);		/* the empty tag, see redis.h */
		w += 3;
	}
	*w++ = '}';
	w = redis_key_escape(w, parts[2]);
	*w = '\0';
	return key;
}
