/*++
 * NAME
 *	redis_tls 3
 * SUMMARY
 *	TLS for the Redis client's own socket I/O (OpenSSL)
 * DESCRIPTION
 *	Debian 12's hiredis (0.14) has no TLS. It does not need to: the
 *	pool in redis.c already does every send and receive itself (hiredis
 *	only connects, formats and parses), so TLS goes in between, on the
 *	same non-blocking socket and the same deadlines.
 *
 *	The server's certificate is always verified: against the CA bundle
 *	in redis_tls_ca_file (or the system's, /etc/ssl/certs), and against
 *	redis_tls_server_name when set, else against the numeric address we
 *	connected to (the certificate then needs an IP subjectAltName, as
 *	Redis' own test certificates have). A client certificate is sent
 *	when redis_tls_cert_file is set (Redis' tls-auth-clients). TLS 1.2
 *	is the floor, as in Redis' own default tls-protocols.
 *
 *	See redis_priv.h for the interface. Thread safety: an SSL_CTX is
 *	shared by all threads of a pool (OpenSSL 1.1+ locks it itself); an
 *	SSL belongs to one link, which belongs to one call at a time.
 *--*/
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "redis_priv.h"

/* redis_tls_nonempty - s, or NULL when s is NULL or "" */
static const char *
redis_tls_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* redis_tls_ssl_err - OpenSSL's reason for the last failure, as text */
static const char *
redis_tls_ssl_err(const char *what)
{
	static _Thread_local char buf[192];
	unsigned long e = ERR_get_error();
	char	reason[128];

	if (e == 0) {
		snprintf(buf, sizeof(buf), "%s", what);
	} else {
		ERR_error_string_n(e, reason, sizeof(reason));
		snprintf(buf, sizeof(buf), "%s: %s", what, reason);
	}
	ERR_clear_error();
	return buf;
}

/* redis_tls_ctx_new - client context from the redis_tls_* settings */
SSL_CTX *
redis_tls_ctx_new(const struct redis_conf *conf, const char **why)
{
	const char *ca = redis_tls_nonempty(conf->tls_ca_file);
	const char *cert = redis_tls_nonempty(conf->tls_cert_file);
	const char *key = redis_tls_nonempty(conf->tls_key_file);
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*why = redis_tls_ssl_err("cannot create a TLS context");
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca != NULL ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
	    : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		*why = redis_tls_ssl_err(ca != NULL ? "redis_tls_ca_file does not load"
					 : "the system's CA certificates do not load");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (cert != NULL) {
		struct stat st;

		/* a key others can read is a key others have */
		if (stat(key ? key : cert, &st) == 0 && (st.st_mode & S_IROTH) != 0) {
			*why = "redis_tls_key_file is readable by others (chmod o-r it)";
			SSL_CTX_free(ctx);
			return NULL;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			*why = redis_tls_ssl_err("redis_tls_cert_file does not load");
			SSL_CTX_free(ctx);
			return NULL;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1
		    || SSL_CTX_check_private_key(ctx) != 1) {
			*why = redis_tls_ssl_err("redis_tls_key_file does not load or does not match the certificate");
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (key != NULL) {
		*why = "redis_tls_key_file is set without redis_tls_cert_file";
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* redis_tls_want - the poll event an SSL_ERROR_WANT_* asks for, or 0 */
static short
redis_tls_want(int sslerr)
{
	switch (sslerr) {
	case SSL_ERROR_WANT_READ:	return POLLIN;
	case SSL_ERROR_WANT_WRITE:	return POLLOUT;
	default:			return 0;
	}
}

/* redis_tls_connect - handshake by the deadline, certificate verified */
SSL *
redis_tls_connect(SSL_CTX *ctx, int fd, const char *name, const char *ip,
		  long long deadline, const char **err)
{
	X509_VERIFY_PARAM *param;
	SSL	*ssl;
	int	flags;

	/* SSL_connect() must never block past our deadline */
	if ((flags = fcntl(fd, F_GETFL)) < 0
	    || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		*err = "cannot make the socket non-blocking";
		return NULL;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		*err = redis_tls_ssl_err("TLS");
		SSL_free(ssl);
		return NULL;
	}
	param = SSL_get0_param(ssl);
	if (name != NULL) {
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, name) != 1
		    || SSL_set_tlsext_host_name(ssl, name) != 1) {
			*err = redis_tls_ssl_err("TLS server name");
			SSL_free(ssl);
			return NULL;
		}
	} else if (X509_VERIFY_PARAM_set1_ip_asc(param, ip) != 1) {
		*err = redis_tls_ssl_err("TLS address to verify");
		SSL_free(ssl);
		return NULL;
	}
	for (;;) {
		int	rc = SSL_connect(ssl);
		short	want;

		if (rc == 1)
			return ssl;
		want = redis_tls_want(SSL_get_error(ssl, rc));
		if (want == 0) {
			long	v = SSL_get_verify_result(ssl);

			if (v != X509_V_OK) {
				static _Thread_local char buf[160];

				snprintf(buf, sizeof(buf), "TLS: server certificate not verified: %s",
					 X509_verify_cert_error_string(v));
				ERR_clear_error();
				*err = buf;
			} else {
				*err = redis_tls_ssl_err("TLS handshake failed");
			}
			SSL_free(ssl);
			return NULL;
		}
		if (redis_wait(fd, want, deadline) < 0) {
			*err = "connect timeout";
			SSL_free(ssl);
			return NULL;
		}
	}
}

/* redis_tls_send - SSL_write; see redis_priv.h */
ssize_t
redis_tls_send(SSL *ssl, const void *buf, size_t len, short *want,
	       const char **err)
{
	size_t	n = 0;
	int	e;

	if (SSL_write_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	e = SSL_get_error(ssl, 0);
	if ((*want = redis_tls_want(e)) != 0) {
		errno = EAGAIN;
		return -1;
	}
	*err = e == SSL_ERROR_SYSCALL && errno != 0 ? strerror(errno)
	    : redis_tls_ssl_err("TLS write failed");
	errno = EIO;
	return -1;
}

/* redis_tls_recv - SSL_read; see redis_priv.h */
ssize_t
redis_tls_recv(SSL *ssl, void *buf, size_t len, short *want,
	       const char **err)
{
	size_t	n = 0;
	int	e;

	if (SSL_read_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	e = SSL_get_error(ssl, 0);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if ((*want = redis_tls_want(e)) != 0) {
		errno = EAGAIN;
		return -1;
	}
	/* OpenSSL 3 reports an EOF without close_notify as SSL_ERROR_SSL */
	ERR_clear_error();
	if (e == SSL_ERROR_SYSCALL && errno == 0)
		return 0;
	*err = "TLS read failed (connection closed or reset)";
	errno = EIO;
	return -1;
}

/* redis_tls_idle_ok - a readable idle link: housekeeping only, or dead */
bool
redis_tls_idle_ok(SSL *ssl)
{
	char	c;
	size_t	n;

	/*
	 * A TLS 1.3 server sends session tickets after the handshake, which
	 * leaves the socket readable with no application data: reading them
	 * is fine. Application data or an EOF on an idle link means it is
	 * dead, exactly as on a plain socket.
	 */
	if (SSL_peek_ex(ssl, &c, 1, &n) == 1)
		return false;
	if (SSL_get_error(ssl, 0) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return true;
	}
	ERR_clear_error();
	return false;
}
