/*++
 * NAME
 *	redis_priv 3h
 * SUMMARY
 *	what redis.c, redis_tls.c and redis_sentinel.c share, and nobody else
 * DESCRIPTION
 *	The client is four files: redis.c (links, the pool, commands),
 *	redis_conf.c (server strings and bounds), redis_sentinel.c (which
 *	server is the master) and redis_tls.c (TLS on a link). This header
 *	holds the structs they share and their internal calls.
 *
 *	redis_now_ms() is the monotonic clock in milliseconds every deadline
 *	of the Redis client is measured on. redis_wait() polls one fd for
 *	events until the deadline: 0 when ready (or when poll(2) failed, so
 *	that the next send/recv reports the error), -1 when the deadline has
 *	passed.
 *
 *	TLS (redis_tls.c): redis_tls_ctx_new() builds the client context from
 *	the redis_tls_* settings of a struct redis_conf (NULL + *why on a
 *	file that does not load); redis_tls_connect() runs the handshake on
 *	a connected socket by the deadline and verifies the server's
 *	certificate against name (when not NULL) or else the numeric address
 *	ip; redis_tls_send() and redis_tls_recv() return bytes moved, 0 on
 *	a closed stream (recv only), or -1 with errno EAGAIN and *want set to
 *	the poll(2) event to wait for, or -1 with *err set.
 *	redis_tls_idle_ok() says whether a readable idle TLS link only had
 *	TLS housekeeping (a TLS 1.3 session ticket) to read, not data or EOF.
 *--*/
#ifndef POSTMILL_REDIS_PRIV_H
#define POSTMILL_REDIS_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "redis.h"

/* one connection; owned by the pool when idle, by one call otherwise */
struct redis_link {
	redisContext	*ctx;
	SSL		*ssl;		/* NULL: plain TCP or unix socket */
	unsigned long	 epoch;		/* pool epoch when it was opened */
};

struct redis_pool {
	/* immutable after redis_pool_new() */
	struct redis_server server;
	char		*server_text;
	char		*user;		/* NULL: AUTH with the password only */
	char		*password;	/* NULL: no AUTH */
	char		*sentinel_user;	/* NULL: AUTH to Sentinels with the password only */
	char		*sentinel_password; /* NULL: no AUTH to Sentinels */
	SSL_CTX		*tls_ctx;	/* NULL: no TLS */
	char		*tls_server_name; /* NULL: verify the address */
	int		 db;
	long		 connect_timeout_ms;
	long		 command_timeout_ms;
	long		 backoff_min_ms;
	long		 backoff_max_ms;
	unsigned	 max_idle;

	pthread_mutex_t	 lock;		/* guards everything below */
	struct redis_link **idle;	/* stack, max_idle slots */
	unsigned	 nidle;
	unsigned	 busy;		/* links checked out */
	unsigned long	 epoch;		/* +1 at every failure */
	bool		 down;		/* backing off */
	bool		 probing;	/* a call is trying while down */
	long long	 down_since;	/* ms, monotonic */
	long long	 retry_at;	/* ms, monotonic: next probe */
	long		 backoff_ms;	/* current wait */
	unsigned long	 connects;
	unsigned long	 failures;
	/* Sentinel: the master they named, valid for one epoch */
	struct redis_endpoint master;
	unsigned long	 master_epoch;
	bool		 master_known;
	unsigned	 sentinel_first;	/* the one that answered last */
	long long	 master_checked_at;	/* ms, monotonic */
	unsigned long	 master_changes;
	bool		 master_checking;	/* a call is asking now */
};

/* redis.c: clock, errors, links */
long long redis_now_ms(void);
int	redis_wait(int fd, short events, long long deadline);
const char *redis_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *redis_err_lower(const char *text);
const char *redis_err_errno(int errnum);
struct redis_link *redis_link_connect(const struct redis_pool *p, const char *host,
				      int port, const char *path, unsigned long epoch,
				      long long deadline, const char **err);
int	redis_link_auth(struct redis_link *l, const char *user, const char *password,
			long long deadline, const char **err);
int	redis_handshake(struct redis_link *l, const char *what, int argc,
			const char **argv, long long deadline, const char **err);
redisReply *redis_exchange(struct redis_link *l, const char *cmd, size_t len,
			   long long deadline, const char *timeout_err, const char **err);
void	redis_link_free(struct redis_link *l);

/* redis_conf.c */
int	redis_parse_port(const char *text, int *port, const char **why);
const char *redis_nonempty(const char *s);

/* redis_sentinel.c */
int	redis_master_for(struct redis_pool *p, unsigned long epoch, long long deadline,
			 struct redis_endpoint *out, const char **err);
int	redis_role_master(struct redis_link *l, long long deadline, const char **err);
void	redis_sentinel_recheck(struct redis_pool *p);

/* redis_tls.c */

SSL_CTX *redis_tls_ctx_new(const struct redis_conf *conf, const char **why);
SSL	*redis_tls_connect(SSL_CTX *ctx, int fd, const char *name,
			   const char *ip, long long deadline, const char **err);
ssize_t	redis_tls_send(SSL *ssl, const void *buf, size_t len, short *want,
		       const char **err);
ssize_t	redis_tls_recv(SSL *ssl, void *buf, size_t len, short *want,
		       const char **err);
bool	redis_tls_idle_ok(SSL *ssl);

#endif
