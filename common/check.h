/*++
 * NAME
 *	check 3h
 * SUMMARY
 *	start-up checks every program's -n shares, naming file:line
 * SYNOPSIS
 *	#include "check.h"
 * DESCRIPTION
 *	The pieces of "-n" that are not about one program: each reports a
 *	problem with a parameter as "config_path:LINE: ..." into an errlist
 *	(LINE: where the parameter is set, as check_line() finds it; no
 *	line when it has its default).
 *
 *	check_line() is the line of the last "name = value" in the file,
 *	0 when it is not set there. check_add() adds one message about
 *	parameter name.
 *
 *	check_dir_writable(): the directory that will hold file exists and
 *	takes new files (a socket, a pid file) for the user running the
 *	check. check_readable(): path can be opened for reading; with
 *	missing_ok, a path that does not exist yet is fine when its
 *	directory does (a log file not written yet). check_listen(): an
 *	address bind() would take: one of this host's addresses, and a port
 *	this user may bind (below 1024 needs root or CAP_NET_BIND_SERVICE);
 *	a port in use passes (the running daemon may hold it).
 *
 *	Nothing here exits or logs; the caller prints the list.
 *--*/
#ifndef POSTMILL_CHECK_H
#define POSTMILL_CHECK_H

#include <stdbool.h>
#include <sys/socket.h>

#include "errlist.h"

unsigned check_line(const char *config_path, const char *name);
void	check_add(struct errlist *el, const char *config_path, const char *name,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	check_dir_writable(struct errlist *el, const char *config_path,
			   const char *name, const char *value, const char *file);
void	check_readable(struct errlist *el, const char *config_path,
		       const char *name, const char *path, bool missing_ok);
void	check_listen(struct errlist *el, const char *config_path,
		     const char *name, const char *value,
		     const struct sockaddr_storage *ss);

#endif
