/*++
 * NAME
 *	milter_check 3h
 * SUMMARY
 *	what a milter start needs besides a valid configuration (-n)
 * SYNOPSIS
 *	#include "milter_check.h"
 *
 *	void milter_check_start(const struct milter_app *app,
 *				const struct milter_snapshot *snap,
 *				const char *config_path, bool as_user,
 *				struct errlist *el);
 *	unsigned milter_check_line(const char *config_path, const char *name);
 *	void milter_check_locate(struct errlist *el, const char *config_path);
 * DESCRIPTION
 *	milter_check_start() checks, before any socket opens, what the
 *	start-up would find wrong: run_user (exists, is not root), run_group
 *	and socket_group exist (at a start only as root, which alone switches
 *	users; always with as_user, the -n check), the socket spec parses as smfi_setconn()
 *	takes it (unix: its directory exists and is writable; inet:/inet6:
 *	port 1-65535 and an address or host name that resolves), the
 *	directories of pid_file and stats_dir. With as_user (the -n check,
 *	run as root) it also forks a child that becomes run_user exactly as
 *	the worker does and loads the snapshot again, so that a key, rule or
 *	table file run_user cannot read fails -n and not the start.
 *	Every problem names the file:line of the parameter.
 *
 *	milter_check_line() is the line of the last assignment of name in
 *	the file (0: not set there, the default). milter_check_locate()
 *	rewrites "path: name = ..." messages (errors the loaders reported
 *	without a line) as "path:LINE: name = ...".
 *--*/
#ifndef POSTMILL_MILTER_CHECK_H
#define POSTMILL_MILTER_CHECK_H

#include <stdbool.h>

#include "errlist.h"
#include "milter_main.h"
#include "privdrop.h"

void milter_check_start(const struct milter_app *app,
			const struct milter_snapshot *snap,
			const char *config_path, bool as_user,
			struct errlist *el);
unsigned milter_check_line(const char *config_path, const char *name);
void milter_check_locate(struct errlist *el, const char *config_path);

/* milter_check_root_text - why run_user = root is refused */
#define MILTER_CHECK_ROOT_TEXT	PRIVDROP_ROOT_TEXT

#endif
