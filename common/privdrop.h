/*++
 * NAME
 *	privdrop 3h
 * SUMMARY
 *	becoming run_user/run_group, and checking that it will work
 * SYNOPSIS
 *	#include "privdrop.h"
 * DESCRIPTION
 *	One privilege drop for every program of the suite that starts as
 *	root, binds, then serves as an unprivileged user (Postfix's
 *	set_eugid(), OpenSMTPD's per-process drop).
 *
 *	privdrop_lookup() gives the uid and gid of run_user/run_group when
 *	there is something to drop: the process is root and run_user is set.
 *	Otherwise *uid and *gid are -1 and it returns 0. A run_user that does
 *	not exist or is root, or a run_group that does not exist, is an error
 *	naming config_path:LINE (-1).
 *
 *	privdrop_become() switches: supplementary groups of user, the group,
 *	then the user; it then makes sure setuid(0) fails, so a drop that did
 *	not stick is an error, not a worker running as root. uid -1: nothing.
 *
 *	privdrop_check_ids() is the -n check of the names: run_user exists
 *	and is not root, run_group exists, whoever runs the check.
 *
 *	privdrop_as_user() runs fn in a child that becomes run_user exactly
 *	as the program will, so that files run_user cannot read fail the -n
 *	check, not the start; the child's errors come back (over a pipe) as
 *	"as run_user USER: ...". It does nothing unless the caller is root
 *	and the names are right (the check of those comes first).
 * DIAGNOSTICS
 *	Errors go into the errlist; nothing here exits or logs.
 *--*/
#ifndef POSTMILL_PRIVDROP_H
#define POSTMILL_PRIVDROP_H

#include <sys/types.h>

#include "cfg_common.h"
#include "errlist.h"

/* why run_user = root is refused */
#define PRIVDROP_ROOT_TEXT \
	"running as root is refused: the worker parses mail from the network " \
	"and must not hold root's privileges if it is ever compromised; set " \
	"run_user to an unprivileged account (e.g. postmill) that can read " \
	"the keys and tables"

int	privdrop_lookup(const struct common_conf *c, const char *config_path,
			uid_t *uid, gid_t *gid, struct errlist *el);
int	privdrop_become(const char *user, uid_t uid, gid_t gid,
			struct errlist *el);
void	privdrop_check_ids(const struct common_conf *c, const char *config_path,
			   struct errlist *el);
void	privdrop_as_user(const struct common_conf *c, const char *config_path,
			 void (*fn)(void *arg, struct errlist *el), void *arg,
			 struct errlist *el);

#endif
