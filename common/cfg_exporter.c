/*++
 * NAME
 *	cfg_exporter 3
 * SUMMARY
 *	the postmill-exporter parameter table
 * DESCRIPTION
 *	One row per exporter_ parameter; the only place their defaults
 *	live. The daemons' stats sockets are found in stats_dir (a common
 *	parameter): every NAME.stats socket there is one daemon.
 *
 *	cfg_exporter_parse_listen() checks and converts exporter_listen: a
 *	numeric address and a port, so that "-n" catches a bad one and no
 *	name lookup runs at start.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_exporter.h"

#define E(field) offsetof(struct exporter_conf, field)

static const struct cfg_param exporter_params[] = {
	{"exporter_listen", CFG_STR, "127.0.0.1:9597", E(listen), 0, 0, NULL, NULL,
	 "Where postmill-exporter serves /metrics over HTTP: ADDR:PORT or [ADDR6]:PORT, numeric (keep it on loopback or a management network)."},
	{"exporter_scrape_timeout", CFG_TIME, "2s", E(scrape_timeout), 10, 30000, NULL, "ms",
	 "Time limit to read one daemon's stats socket; a daemon that does not answer shows as postmill_up 0."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* cfg_exporter_parse_listen - "ADDR:PORT" or "[ADDR6]:PORT" into ss */
int
cfg_exporter_parse_listen(const char *text, struct sockaddr_storage *ss,
		      const char **why)
{
	char	host[64];
	const char *port;
	char	*end;
	long	p;

	memset(ss, 0, sizeof(*ss));
	if (text == NULL || *text == '\0') {
		*why = "empty";
		return -1;
	}
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (rb == NULL || rb[1] != ':' || (size_t)(rb - text - 1) >= sizeof(host)) {
			*why = "expected [ADDR6]:PORT";
			return -1;
		}
		memcpy(host, text + 1, (size_t)(rb - text - 1));
		host[rb - text - 1] = '\0';
		port = rb + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon == NULL || (size_t)(colon - text) >= sizeof(host)
		    || memchr(text, ':', (size_t)(colon - text)) != NULL) {
			*why = "expected ADDR:PORT (IPv6 in brackets)";
			return -1;
		}
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
		port = colon + 1;
	}
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p < 1 || p > 65535) {
		*why = "port must be 1..65535";
		return -1;
	}
	if (text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			*why = "not a numeric IPv6 address";
			return -1;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)p);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			*why = "not a numeric IPv4 address (no name lookups)";
			return -1;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)p);
	}
	return 0;
}

/* exporter_validate - exporter_listen must parse */
static void
exporter_validate(const void *values, const char *path, struct errlist *el)
{
	const struct exporter_conf *c = values;
	struct sockaddr_storage ss;
	const char *why;

	if (cfg_exporter_parse_listen(c->listen, &ss, &why) < 0)
		errlist_add_at(el, path, 0, "exporter_listen = %s: %s",
			       c->listen ? c->listen : "", why);
}

const struct cfg_section cfg_exporter_section = {
	"exporter", "exporter_", exporter_params, sizeof(struct exporter_conf),
	exporter_validate,
};
