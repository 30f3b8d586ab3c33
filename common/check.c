/*++
 * NAME
 *	check 3
 * SUMMARY
 *	start-up checks every program's -n shares (see check.h)
 * DESCRIPTION
 *	Reads the configuration file again only to find the line of a
 *	parameter; the values come from the caller.
 *--*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "xalloc.h"

/* check_line - line of the last "name = value" in the file, or 0 */
unsigned
check_line(const char *config_path, const char *name)
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
void
check_add(struct errlist *el, const char *path, const char *name,
	  const char *fmt, ...)
{
	char body[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	errlist_add_at(el, path, check_line(path, name), "%s", body);
}

/* check_dir_writable - the directory that will hold path must take files */
void
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

/* check_readable - path opens for reading (missing_ok: or is not there yet) */
void
check_readable(struct errlist *el, const char *cpath, const char *name,
	       const char *path, bool missing_ok)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOENT && missing_ok) {
		char *dir = xstrdup(path), *slash = strrchr(dir, '/');
		struct stat st;

		if (slash != NULL && slash != dir)
			*slash = '\0';
		else if (slash != NULL)
			slash[1] = '\0';
		if (stat(dir, &st) < 0)
			check_add(el, cpath, name, "%s = %s: directory %s: %s", name,
				  path, dir, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			check_add(el, cpath, name, "%s = %s: %s is not a directory",
				  name, path, dir);
		free(dir);
		return;
	}
	check_add(el, cpath, name, "%s = %s: %s", name, path, strerror(errno));
}

/* check_listen - an address this user could bind() */
void
check_listen(struct errlist *el, const char *cpath, const char *name,
	     const char *value, const struct sockaddr_storage *ss)
{
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	    : sizeof(struct sockaddr_in);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0) {
		check_add(el, cpath, name, "%s = %s: socket: %s", name, value,
			  strerror(errno));
		return;
	}
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* bind without listen: nobody can connect, and close() frees it */
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 && errno != EADDRINUSE)
		check_add(el, cpath, name, "%s = %s: cannot bind: %s%s", name, value,
			  strerror(errno), errno == EACCES ? " (a port below 1024 "
			  "needs root or CAP_NET_BIND_SERVICE)" : "");
	close(fd);
}
