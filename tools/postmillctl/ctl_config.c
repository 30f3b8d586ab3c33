/*++
 * NAME
 *	ctl_config 3
 * SUMMARY
 *	postmillctl config: show, check and document postmill.conf
 * DESCRIPTION
 *	postmillctl config          every parameter with its value (postconf)
 *	postmillctl config -n       only parameters that differ from the default
 *	postmillctl config -d       every parameter's default
 *	postmillctl config check    load the whole file for every daemon; exit 1
 *				    with every problem listed
 *	postmillctl config check DAEMON...
 *				    also run "postmill-DAEMON -n" (beside this
 *				    program) for each: everything its start
 *				    needs (users, socket, files as run_user)
 *	postmillctl config example  the commented example file, from the tables
 *	postmillctl config man S    the man-page parameter section of daemon S
 *--*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

/*
 * ctl_config_names - "postmillctl config [-d] NAME...": each parameter's
 * value (loaded, or its default with -d; a set secret shows <hidden>),
 * after its doc line, as "postconf NAME" and "postconf -d NAME" do.
 * Exit 1 when a name is unknown.
 */
static int
ctl_config_names(int argc, char **argv, int first, bool defaults,
		 const char *config_path)
{
	void	**values = NULL;
	int	rc = 0;

	if (!defaults && (values = ctl_load(config_path)) == NULL)
		return 1;
	for (int a = first; a < argc; a++) {
		const struct cfg_param *p = NULL;
		size_t	i;

		for (i = 0; i < ctl_nsections && p == NULL; i++)
			p = cfg_find(ctl_sections[i], argv[a]);
		if (p == NULL) {
			fprintf(stderr, "postmillctl: %s: unknown parameter\n", argv[a]);
			rc = 1;
			continue;
		}
		i--;
		if (defaults) {
			printf("# %s\n%s = %s\n", p->doc, p->name, p->def);
			continue;
		}
		char	*v = cfg_format_value(p, values[i]);

		printf("# %s\n%s = %s\n", p->doc, p->name,
		       p->type == CFG_SECRET && v[0] != '\0' ? CFG_HIDDEN : v);
		free(v);
	}
	ctl_unload(values);
	return rc;
}

/*
 * ctl_config_check_daemon - run "postmill-NAME -n -c CONFIG" from the
 * directory of this program: the daemon's own -n is the one check of
 * what its start needs (milter_check.c), so the two never disagree.
 * Its output goes to ours; returns its exit status (2: cannot run).
 */
static int
ctl_config_check_daemon(const char *name, const char *config_path)
{
	static const char *const daemons[] = { "dkim", "auth", "limit", "bounce", NULL };
	char self[PATH_MAX], prog[PATH_MAX + 32], *slash;
	ssize_t n;
	pid_t pid;
	int status;
	size_t i;

	for (i = 0; daemons[i] != NULL && strcmp(daemons[i], name) != 0; i++)
		;
	if (daemons[i] == NULL) {
		fprintf(stderr, "postmillctl: config check: unknown daemon \"%s\" "
			"(dkim, auth, limit, bounce)\n", name);
		return 2;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		fprintf(stderr, "postmillctl: /proc/self/exe: %s\n", strerror(errno));
		return 2;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	snprintf(prog, sizeof(prog), "%.*s/postmill-%s",
		 slash ? (int)(slash - self) : 1, slash ? self : ".", name);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "postmillctl: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execl(prog, prog, "-n", "-c", config_path, (char *)NULL);
		fprintf(stderr, "postmillctl: %s: %s\n", prog, strerror(errno));
		_exit(2);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

/* ctl_config - dispatch the config subcommands */
int
ctl_config(int argc, char **argv, const char *config_path)
{
	const char *what = argc > 1 ? argv[1] : "";
	void **values;

	if (strcmp(what, "example") == 0) {
		cfg_write_example(stdout, ctl_sections, ctl_nsections);
		return 0;
	}
	if (strcmp(what, "man") == 0 && argc > 2 && strcmp(argv[2], "all") == 0) {
		/* postmill.conf(5): every section, each under its own heading */
		for (size_t i = 0; i < ctl_nsections; i++) {
			printf(".SS %s\n", strcmp(ctl_sections[i]->name, "common") == 0
			       ? "Shared by every program" : ctl_sections[i]->name);
			cfg_write_man(stdout, ctl_sections[i]);
		}
		return 0;
	}
	if (strcmp(what, "man") == 0) {
		for (size_t i = 0; argc > 2 && i < ctl_nsections; i++) {
			if (strcmp(ctl_sections[i]->name, argv[2]) == 0) {
				cfg_write_man(stdout, ctl_sections[i]);
				return 0;
			}
		}
		fprintf(stderr, "usage: postmillctl config man SECTION (common, dkim, ...)\n");
		return 2;
	}
	if (strcmp(what, "-d") == 0 && argc == 2) {
		for (size_t i = 0; i < ctl_nsections; i++) {
			struct errlist el = ERRLIST_INIT;
			void *defaults;

			if (cfg_defaults(ctl_sections[i], &defaults, &el) < 0) {
				errlist_print(&el, stderr);
				errlist_free(&el);
				return 1;
			}
			cfg_write_values(stdout, ctl_sections[i], defaults, false);
			cfg_values_free(ctl_sections[i], defaults);
		}
		return 0;
	}
	if (strcmp(what, "-d") == 0 && argc > 2)
		return ctl_config_names(argc, argv, 2, true, config_path);
	if (*what != '\0' && *what != '-' && strcmp(what, "check") != 0)
		return ctl_config_names(argc, argv, 1, false, config_path);
	if (*what != '\0' && strcmp(what, "-n") != 0 && strcmp(what, "check") != 0) {
		fprintf(stderr, "usage: postmillctl config [-n|-d|check [DAEMON...]|example|man SECTION|[-d] NAME...]\n");
		return 2;
	}
	if ((values = ctl_load(config_path)) == NULL)
		return 1;
	if (strcmp(what, "check") == 0) {
		int rc = 0;

		ctl_unload(values);
		for (int a = 2; a < argc; a++) {
			int r = ctl_config_check_daemon(argv[a], config_path);

			if (r != 0)
				rc = r > rc ? r : rc;
		}
		if (rc == 0)
			printf("%s: configuration OK\n", config_path);
		return rc == 0 ? 0 : 1;
	} else {
		for (size_t i = 0; i < ctl_nsections; i++)
			cfg_write_values(stdout, ctl_sections[i], values[i],
					 strcmp(what, "-n") == 0);
	}
	ctl_unload(values);
	return 0;
}
