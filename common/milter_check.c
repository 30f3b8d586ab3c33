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
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "milter_check.h"
#include "xalloc.h"

/* milter_check_line - line of the last "name = value" in the file, or 0 */
unsigned
milter_check_line(const char *config_path, const char *name)
{
	FILE *fp = fopen(config_path, "r");
	char line[4096];
	unsigned n = 0, found = 0;
	size_t len = strlen(name);

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *p = line;

		n++;
		/* continuation lines start with white space; comments with # */
		if (isspace((unsigned char)*p) || *p == '#')
			continue;
		if (strncmp(p, name, len) != 0)
			continue;
		p += len;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '=')
			found = n;
	}
	fclose(fp);
	return found;
}

/* check_add - one problem about parameter name, with its file:line */
static void __attribute__((format(printf, 4, 5)))
check_add(struct errlist *el, const char *path, const char *name,
	  const char *fmt, ...)
{
	char body[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	errlist_add_at(el, path, milter_check_line(path, name), "%s", body);
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

/* check_dir_writable - the directory that will hold path must take files */
static void
check_dir_writable(struct errlist *el, const char *cpath, const char *name,
		   const char *value, const char *file)
{
	char *dir = xstrdup(file), *slash = strrchr(dir, '/');
	struct stat st;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	if (stat(dir, &st) < 0)
		check_add(el, cpath, name, "%s = %s: directory %s: %s", name, value,
			  dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		check_add(el, cpath, name, "%s = %s: %s is not a directory", name,
			  value, dir);
	else if (access(dir, W_OK | X_OK) < 0)
		check_add(el, cpath, name, "%s = %s: directory %s is not writable: %s",
			  name, value, dir, strerror(errno));
	free(dir);
}

/* check_socket - the spec as smfi_setconn()/smfi_opensocket() take it */
static void
check_socket(struct errlist *el, const char *cpath, const char *name,
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

/* check_ids - run_user, run_group and socket_group name real accounts */
static void
check_ids(struct errlist *el, const char *cpath, const struct common_conf *c)
{
	if (c->run_user != NULL) {
		struct passwd *pw = getpwnam(c->run_user);

		if (pw == NULL)
			check_add(el, cpath, "run_user", "run_user = %s: no such user",
				  c->run_user);
		else if (pw->pw_uid == 0)
			check_add(el, cpath, "run_user", "run_user = %s: %s",
				  c->run_user, MILTER_CHECK_ROOT_TEXT);
	}
	if (c->run_group != NULL && getgrnam(c->run_group) == NULL)
		check_add(el, cpath, "run_group", "run_group = %s: no such group",
			  c->run_group);
	if (c->socket_group != NULL && getgrnam(c->socket_group) == NULL)
		check_add(el, cpath, "socket_group", "socket_group = %s: no such group",
			  c->socket_group);
}

/*
 * check_as_user - load the snapshot again as run_user, as the worker will
 * (initgroups, setgid, setuid), in a child; its errors come back one per
 * line on a pipe.
 */
static void
check_as_user(const struct milter_app *app, const struct common_conf *c,
	      const char *cpath, struct errlist *el)
{
	struct passwd *pw;
	gid_t gid;
	int fds[2], status;
	pid_t pid;

	if (getuid() != 0 || c->run_user == NULL
	    || (pw = getpwnam(c->run_user)) == NULL || pw->pw_uid == 0)
		return;
	gid = pw->pw_gid;
	if (c->run_group != NULL) {
		struct group *gr = getgrnam(c->run_group);

		if (gr == NULL)
			return;
		gid = gr->gr_gid;
	}
	if (pipe(fds) < 0) {
		errlist_add(el, "pipe: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		errlist_add(el, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		struct errlist cel = ERRLIST_INIT;
		struct milter_snapshot *snap;
		FILE *out;

		close(fds[0]);
		out = fdopen(fds[1], "w");
		if (initgroups(c->run_user, gid) < 0 || setgid(gid) < 0
		    || setuid(pw->pw_uid) < 0) {
			fprintf(out, "cannot become %s: %s\n", c->run_user, strerror(errno));
			fclose(out);
			_exit(1);
		}
		snap = milter_snapshot_load(app, cpath, &cel);
		for (size_t i = 0; i < cel.count; i++)
			fprintf(out, "%s\n", cel.msgs[i]);
		fclose(out);
		_exit(snap == NULL ? 1 : 0);
	}
	close(fds[1]);
	{
		FILE *in = fdopen(fds[0], "r");
		char line[2048];

		while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			errlist_add(el, "as run_user %s: %s", c->run_user, line);
		}
		if (in != NULL)
			fclose(in);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
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
		check_ids(el, cpath, c);
	snprintf(name, sizeof(name), "%ssocket", prefix);
	check_socket(el, cpath, name, spec);
	if (pid_file != NULL) {
		snprintf(name, sizeof(name), "%spid_file", prefix);
		check_dir_writable(el, cpath, name, pid_file, pid_file);
	}
	if (c->stats_dir != NULL) {
		char *probe = xasprintf("%s/%s.stats", c->stats_dir, app->name);

		check_dir_writable(el, cpath, "stats_dir", c->stats_dir, probe);
		free(probe);
	}
	/* as run_user only when the accounts are right: else the child lies */
	if (as_user && el->count == before)
		check_as_user(app, c, cpath, el);
}
