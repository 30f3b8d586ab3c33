/*++
 * NAME
 *	privdrop 3
 * SUMMARY
 *	becoming run_user/run_group, and checking that it will work
 * DESCRIPTION
 *	See privdrop.h. getpwnam() and getgrnam() are not thread-safe:
 *	these run at start-up and in -n, before any thread.
 *--*/
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "privdrop.h"

/* privdrop_ids - run_user's uid and the gid to use; -1 + errors */
static int
privdrop_ids(const struct common_conf *c, const char *cpath, uid_t *uid,
	     gid_t *gid, struct errlist *el)
{
	struct passwd *pw;
	struct group *gr;
	int rc = 0;

	if ((pw = getpwnam(c->run_user)) == NULL) {
		check_add(el, cpath, "run_user", "run_user = %s: no such user",
			  c->run_user);
		rc = -1;
	} else if (pw->pw_uid == 0) {
		check_add(el, cpath, "run_user", "run_user = %s: %s", c->run_user,
			  PRIVDROP_ROOT_TEXT);
		rc = -1;
	} else {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (c->run_group != NULL) {
		if ((gr = getgrnam(c->run_group)) == NULL) {
			check_add(el, cpath, "run_group", "run_group = %s: no such group",
				  c->run_group);
			rc = -1;
		} else
			*gid = gr->gr_gid;
	}
	return rc;
}

/* privdrop_lookup - uid/gid to become; -1/-1 when not root or no run_user */
int
privdrop_lookup(const struct common_conf *c, const char *config_path,
		uid_t *uid, gid_t *gid, struct errlist *el)
{
	uid_t u = (uid_t)-1;
	gid_t g = (gid_t)-1;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (c->run_user == NULL || getuid() != 0)
		return 0;
	if (privdrop_ids(c, config_path, &u, &g, el) < 0)
		return -1;
	*uid = u;
	*gid = g;
	return 0;
}

/* privdrop_become - groups, group, user; then make sure it stuck */
int
privdrop_become(const char *user, uid_t uid, gid_t gid, struct errlist *el)
{
	if (uid == (uid_t)-1)
		return 0;
	if (initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		errlist_add(el, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		errlist_add(el, "privilege drop to %s did not stick", user);
		return -1;
	}
	return 0;
}

/* privdrop_check_ids - run_user and run_group name real accounts (-n) */
void
privdrop_check_ids(const struct common_conf *c, const char *config_path,
		   struct errlist *el)
{
	uid_t u;
	gid_t g;

	if (c->run_user != NULL)
		(void)privdrop_ids(c, config_path, &u, &g, el);
	else if (c->run_group != NULL && getgrnam(c->run_group) == NULL)
		check_add(el, config_path, "run_group", "run_group = %s: no such group",
			  c->run_group);
}

/* privdrop_as_user - fn in a child that became run_user; errors come back */
void
privdrop_as_user(const struct common_conf *c, const char *config_path,
		 void (*fn)(void *arg, struct errlist *el), void *arg,
		 struct errlist *el)
{
	struct errlist ignore = ERRLIST_INIT;
	uid_t uid;
	gid_t gid;
	int fds[2], status;
	pid_t pid;

	/* as run_user only when the accounts are right: else the child lies */
	if (privdrop_lookup(c, config_path, &uid, &gid, &ignore) < 0
	    || uid == (uid_t)-1) {
		errlist_free(&ignore);
		return;
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
		FILE *out;

		close(fds[0]);
		out = fdopen(fds[1], "w");
		if (out == NULL)
			_exit(1);
		if (privdrop_become(c->run_user, uid, gid, &cel) == 0)
			fn(arg, &cel);
		for (size_t i = 0; i < cel.count; i++)
			fprintf(out, "%s\n", cel.msgs[i]);
		fclose(out);
		_exit(cel.count > 0);
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
		else
			close(fds[0]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
