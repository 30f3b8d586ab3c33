/*++
 * NAME
 *	redis_conf 3
 * SUMMARY
 *	the Redis client's configuration: server strings and bounds, pure
 * DESCRIPTION
 *	redis_conf_parse_server() and redis_conf_check() (see redis.h) read
 *	no clock and do no I/O, so "postmillctl config check" and "-n" use
 *	them as they are. redis_parse_port() and redis_nonempty() serve the
 *	other files of the client (redis_priv.h).
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "redis.h"
#include "redis_priv.h"

_Static_assert(REDIS_MAX_TIMEOUT_MS == 10000L, "update the messages of redis_conf_check()");
_Static_assert(REDIS_MAX_BACKOFF_MS == 600000L, "update the messages of redis_conf_check()");
_Static_assert(REDIS_MAX_IDLE == 1024, "update the messages of redis_conf_check()");
_Static_assert(REDIS_MAX_SENTINELS == 8, "update the messages of redis_parse_sentinel()");

/*
 * Configuration.
 */

/* redis_parse_port - "1".."65535" */
int
redis_parse_port(const char *text, int *port, const char **why)
{
	long	val = 0;

	if (*text == '\0') {
		*why = "missing port after ':'";
		return -1;
	}
	for (const char *cp = text; *cp != '\0'; cp++) {
		if (*cp < '0' || *cp > '9') {
			*why = "port is not a number";
			return -1;
		}
		if (val <= 65535)
			val = val * 10 + (*cp - '0');
	}
	if (val < 1 || val > 65535) {
		*why = "port out of range (1..65535)";
		return -1;
	}
	*port = (int)val;
	return 0;
}

/* redis_parse_endpoint - "ADDR[:PORT]" or "[ADDR6][:PORT]", numeric */
static int
redis_parse_endpoint(const char *text, int default_port,
		     struct redis_endpoint *ep, const char **why)
{
	unsigned char addr[sizeof(struct in6_addr)];
	const char *host, *rest;
	size_t	hostlen;

	ep->port = default_port;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL) {
			*why = "missing ']' after IPv6 address";
			return -1;
		}
		host = text + 1;
		hostlen = (size_t)(end - host);
		rest = end + 1;
		if (*rest != '\0' && *rest != ':') {
			*why = "expected ':PORT' after ']'";
			return -1;
		}
	} else {
		const char *colon = strchr(text, ':');

		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			*why = "IPv6 address must be in brackets, as in [::1]:6379";
			return -1;
		}
		host = text;
		hostlen = colon ? (size_t)(colon - text) : strlen(text);
		rest = colon ? colon : "";
	}
	if (hostlen == 0) {
		*why = "missing host";
		return -1;
	}
	if (hostlen >= sizeof(ep->host)) {
		*why = "host is not a numeric IP address (no name lookups: they have no deadline)";
		return -1;
	}
	memcpy(ep->host, host, hostlen);
	ep->host[hostlen] = '\0';
	if (text[0] == '[') {
		if (inet_pton(AF_INET6, ep->host, addr) != 1) {
			*why = "not a numeric IPv6 address between '[' and ']'";
			return -1;
		}
	} else if (inet_pton(AF_INET, ep->host, addr) != 1) {
		*why = "host is not a numeric IP address (no name lookups: they have no deadline)";
		return -1;
	}
	if (*rest == ':' && redis_parse_port(rest + 1, &ep->port, why) < 0)
		return -1;
	return 0;
}

/*
 * redis_parse_sentinel - "NAME@ADDR[:PORT],ADDR[:PORT],..." after "sentinel:"
 *
 * The master name is what "sentinel monitor NAME ..." says in the
 * Sentinels' configuration; Sentinel itself takes any non-blank word, we
 * take the characters a name in a config file needs and no more.
 */
static int
redis_parse_sentinel(const char *text, struct redis_server *out,
		     const char **why)
{
	char	buf[REDIS_MAX_SERVER_LEN + 1];
	const char *at = strchr(text, '@');
	size_t	nlen;
	char	*cp, *next;

	if (at == NULL) {
		*why = "expected sentinel:MASTER@ADDR:PORT[,ADDR:PORT...]";
		return -1;
	}
	if ((nlen = (size_t)(at - text)) == 0) {
		*why = "missing master name before '@'";
		return -1;
	}
	if (nlen > REDIS_MAX_MASTER_NAME) {
		*why = "master name too long (63 bytes at most)";
		return -1;
	}
	for (size_t i = 0; i < nlen; i++) {
		char	c = text[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		      || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
			*why = "master name may hold letters, digits, '-', '_' and '.' only";
			return -1;
		}
	}
	memcpy(out->master_name, text, nlen);
	out->master_name[nlen] = '\0';
	/* the caller checked the length: it fits */
	snprintf(buf, sizeof(buf), "%s", at + 1);
	for (cp = buf; cp != NULL; cp = next) {
		if ((next = strchr(cp, ',')) != NULL)
			*next++ = '\0';
		if (*cp == '\0') {
			*why = "empty Sentinel address in the list";
			return -1;
		}
		if (out->nsentinels == REDIS_MAX_SENTINELS) {
			*why = "too many Sentinels (8 at most)";
			return -1;
		}
		if (redis_parse_endpoint(cp, REDIS_DEFAULT_SENTINEL_PORT,
					 &out->sentinels[out->nsentinels], why) < 0)
			return -1;
		out->nsentinels++;
	}
	out->transport = REDIS_TRANSPORT_SENTINEL;
	return 0;
}

/* redis_conf_parse_server - check and split a server string; see redis.h */
int
redis_conf_parse_server(const char *text, struct redis_server *out,
			const char **why)
{
	struct redis_endpoint ep;
	size_t	len;

	memset(out, 0, sizeof(*out));
	if (text == NULL || *text == '\0') {
		*why = "empty server";
		return -1;
	}
	if ((len = strnlen(text, REDIS_MAX_SERVER_LEN + 1)) > REDIS_MAX_SERVER_LEN) {
		*why = "server string too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c <= 0x20 || c >= 0x7f) {
			*why = "server string has a blank or a non-ASCII byte";
			return -1;
		}
	}

	if (strstr(text, "://") != NULL) {
		*why = "not a URL: write ADDR:PORT, [ADDR]:PORT, unix:/path or sentinel:MASTER@ADDR:PORT,...";
		return -1;
	}
	if (strncmp(text, "sentinel:", 9) == 0)
		return redis_parse_sentinel(text + 9, out, why);
	if (strchr(text, ',') != NULL) {
		*why = "one server only, not a list (a Sentinel group is sentinel:MASTER@ADDR:PORT,...)";
		return -1;
	}
	if (strncmp(text, "unix:", 5) == 0) {
		const char *path = text + 5;

		if (*path == '\0') {
			*why = "empty unix socket path";
			return -1;
		}
		if (*path != '/') {
			*why = "unix socket path must be absolute";
			return -1;
		}
		if (strlen(path) >= sizeof(out->path)) {
			*why = "unix socket path too long (107 bytes at most)";
			return -1;
		}
		out->transport = REDIS_TRANSPORT_UNIX;
		memcpy(out->path, path, strlen(path) + 1);
		return 0;
	}
	if (redis_parse_endpoint(text, REDIS_DEFAULT_PORT, &ep, why) < 0)
		return -1;
	out->transport = REDIS_TRANSPORT_TCP;
	memcpy(out->host, ep.host, sizeof(out->host));
	out->port = ep.port;
	return 0;
}

/* redis_nonempty - s, or NULL when s is NULL or "" */
const char *
redis_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* redis_conf_check - whole configuration; see redis.h */
int
redis_conf_check(const struct redis_conf *conf, const char **why)
{
	struct redis_server server;
	const char *user = redis_nonempty(conf->user);
	const char *password = redis_nonempty(conf->password);

	if (redis_conf_parse_server(conf->server, &server, why) < 0)
		return -1;
	if (user != NULL && password == NULL) {
		*why = "ACL user given without a password";
		return -1;
	}
	if (redis_nonempty(conf->sentinel_user) != NULL
	    && redis_nonempty(conf->sentinel_password) == NULL) {
		*why = "Sentinel ACL user given without a Sentinel password";
		return -1;
	}
	if ((redis_nonempty(conf->sentinel_user) || redis_nonempty(conf->sentinel_password))
	    && server.transport != REDIS_TRANSPORT_SENTINEL) {
		*why = "a Sentinel user or password is set, but the server is not sentinel:MASTER@...";
		return -1;
	}
	if ((conf->sentinel_user && strlen(conf->sentinel_user) > REDIS_MAX_SECRET_LEN)
	    || (conf->sentinel_password && strlen(conf->sentinel_password) > REDIS_MAX_SECRET_LEN)) {
		*why = "Sentinel user or password too long (512 bytes at most)";
		return -1;
	}
	if (conf->tls && server.transport == REDIS_TRANSPORT_UNIX) {
		*why = "TLS over a unix socket makes no sense: use ADDR:PORT, or turn redis_tls off";
		return -1;
	}
	if (!conf->tls && (redis_nonempty(conf->tls_ca_file) || redis_nonempty(conf->tls_cert_file)
			   || redis_nonempty(conf->tls_key_file)
			   || redis_nonempty(conf->tls_server_name))) {
		*why = "redis_tls_* files or name are set but redis_tls is off";
		return -1;
	}
	if ((user && strlen(user) > REDIS_MAX_SECRET_LEN)
	    || (password && strlen(password) > REDIS_MAX_SECRET_LEN)) {
		*why = "user or password too long (512 bytes at most)";
		return -1;
	}
	if (conf->db < 0) {
		*why = "database number must be 0 or more";
		return -1;
	}
	if (conf->connect_timeout_ms < 1 || conf->connect_timeout_ms > REDIS_MAX_TIMEOUT_MS) {
		*why = "connect timeout out of range (1..10000 ms)";
		return -1;
	}
	if (conf->command_timeout_ms < 1 || conf->command_timeout_ms > REDIS_MAX_TIMEOUT_MS) {
		*why = "command timeout out of range (1..10000 ms)";
		return -1;
	}
	if (conf->backoff_max_ms < 1 || conf->backoff_max_ms > REDIS_MAX_BACKOFF_MS) {
		*why = "maximum back-off out of range (1..600000 ms)";
		return -1;
	}
	if (conf->backoff_min_ms < 1 || conf->backoff_min_ms > conf->backoff_max_ms) {
		*why = "minimum back-off out of range (1 ms..maximum back-off)";
		return -1;
	}
	if (conf->max_idle < 0 || conf->max_idle > REDIS_MAX_IDLE) {
		*why = "idle connections out of range (0..1024)";
		return -1;
	}
	return 0;
}
