/*++
 * NAME
 *	milter_check 3
 * SUMMARY
 *	the -n checks of what a milter start needs (see milter_check.h)
 * DESCRIPTION
 *	Runs in the supervisor before it binds anything, and in -n. Reads
 *	the configuration file again only to find the line of a parameter;
 *	the values come from the loaded snapshot.
 *--*/
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "milter_check.h"
#include "privdrop.h"
#include "xalloc.h"

/* milter_check_line - line of the last "name = value" in the file, or 0 */
unsigned
milter_check_line(const char *config_path, const char *name)
{
	return check_line(config_path, name);
}

/* milter_check_locate - give line-less "path: name = ..." messages a line */
void
milter_check_locate(struct errlist *el, const char *config_path)
{
	size_t plen = strlen(config_path);

	for (size_t i = 0; i < el->count; i++) {
		char *m = el->msgs[i], name[128];
		const char *body;
		size_t n;
		unsigned line;

		if (strncmp(m, config_path, plen) != 0 || strncmp(m + plen, ": ", 2) != 0)
			continue;
		body = m + plen + 2;
		n = strspn(body, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (n == 0 || n >= sizeof(name) || strncmp(body + n, " = ", 3) != 0)
			continue;
		memcpy(name, body, n);
		name[n] = '\0';
		if ((line = milter_check_line(config_path, name)) == 0)
			continue;
		el->msgs[i] = xasprintf("%s:%u: %s", config_path, line, body);
		free(m);
	}
}

/* mc_socket - the spec as smfi_setconn()/smfi_opensocket() take it */
static void
mc_socket(struct errlist *el, const char *cpath, const char *name,
	     const char *spec)
{
	const char *rest = NULL;
	int family = AF_UNSPEC;

	if (spec == NULL || *spec == '\0') {
		check_add(el, cpath, name, "%s is empty", name);
		return;
	}
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0
	    || spec[0] == '/') {
		const char *path = spec[0] == '/' ? spec : strchr(spec, ':') + 1;

		if (path[0] != '/')
			check_add(el, cpath, name, "%s = %s: the socket path must be "
				  "absolute (the daemon runs in /)", name, spec);
		else if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			check_add(el, cpath, name, "%s = %s: path longer than %zu bytes",
				  name, spec, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		else
			check_dir_writable(el, cpath, name, spec, path);
		return;
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		rest = spec + 5;
		family = AF_INET;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		rest = spec + 6;
		family = AF_INET6;
	} else {
		check_add(el, cpath, name, "%s = %s: unknown socket type (want "
			  "unix:/path, local:/path, inet:PORT[@HOST] or "
			  "inet6:PORT[@HOST])", name, spec);
		return;
	}
	{
		const char *at = strchr(rest, '@');
		size_t plen = at ? (size_t)(at - rest) : strlen(rest);
		char port[8];
		struct addrinfo hints = { 0 }, *res = NULL;
		int rc;

		if (plen == 0 || plen >= sizeof(port)
		    || strspn(rest, "0123456789") != plen) {
			check_add(el, cpath, name, "%s = %s: the port must be a "
				  "number from 1 to 65535", name, spec);
			return;
		}
		memcpy(port, rest, plen);
		port[plen] = '\0';
		if (atoi(port) < 1 || atoi(port) > 65535) {
			check_add(el, cpath, name, "%s = %s: the port must be a "
				  "number from 1 to 65535", name, spec);
			return;
		}
		hints.ai_family = family;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(at && at[1] ? at + 1 : NULL, port, &hints, &res);
		if (rc != 0)
			check_add(el, cpath, name, "%s = %s: host %s: %s", name, spec,
				  at && at[1] ? at + 1 : "(any)", gai_strerror(rc));
		if (res != NULL)
			freeaddrinfo(res);
	}
}

/* mc_ids - run_user, run_group and socket_group name real accounts */
static void
mc_ids(struct errlist *el, const char *cpath, const struct common_conf *c)
{
	privdrop_check_ids(c, cpath, el);
	if (c->socket_group != NULL && getgrnam(c->socket_group) == NULL)
		check_add(el, cpath, "socket_group", "socket_group = %s: no such group",
			  c->socket_group);
}

struct mc_reload {
	const struct milter_app *app;
	const char *cpath;
};

/* mc_reload - load the snapshot again (as run_user, in the child) */
static void
mc_reload(void *arg, struct errlist *el)
{
	const struct mc_reload *r = arg;
	struct milter_snapshot *snap = milter_snapshot_load(r->app, r->cpath, el);

	(void)snap;		/* the child exits: nothing to free */
}

/* milter_check_start - see milter_check.h */
void
milter_check_start(const struct milter_app *app,
		   const struct milter_snapshot *snap, const char *cpath,
		   bool as_user, struct errlist *el)
{
	const struct common_conf *c = snap->common;
	const char *prefix = app->section->prefix;
	char name[64];
	const char *spec = *(char *const *)((const char *)snap->conf + app->socket_offset);
	const char *pid_file = *(char *const *)((const char *)snap->conf
						 + app->pid_file_offset);
	size_t before = el->count;

	/* a start switches users only as root; -n checks the names anyway */
	if (as_user || getuid() == 0)
		mc_ids(el, cpath, c);
	snprintf(name, sizeof(name), "%ssocket", prefix);
	mc_socket(el, cpath, name, spec);
	if (pid_file != NULL) {
		snprintf(name, sizeof(name), "%spid_file", prefix);
		check_dir_writable(el, cpath, name, pid_file, pid_file);
	}
	if (c->stats_dir != NULL) {
		char *probe = xasprintf("%s/%s.stats", c->stats_dir, app->name);

		check_dir_writable(el, cpath, "stats_dir", c->stats_dir, probe);
		free(probe);
	}
	/* as run_user, the way the worker loads it (privdrop_as_user) */
	if (as_user && el->count == before) {
		struct mc_reload r = {app, cpath};

		privdrop_as_user(c, cpath, mc_reload, &r, el);
	}
}
