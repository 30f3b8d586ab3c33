/*++
 * NAME
 *	ctl_dkim_rotate_reload 3
 * SUMMARY
 *	postmillctl dkim rotate: make postmill-dkim read the edited tables
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	ctl_dkim_rotate_reload() sends SIGHUP to the pid in dkim_pid_file
 *	when /proc says it is postmill-dkim (or postmill-suite, which may
 *	host the dkim module), and prints on stdout, as a "#" comment line,
 *	what it did or why it did not: a rotation step is done once the
 *	tables are replaced, a reload that cannot be done is the operator's.
 *--*/
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ctl_dkim_rotate.h"

/* ctl_dkim_rotate_reload - SIGHUP to postmill-dkim's supervisor, when it runs (or to
 * postmill-suite's, when the operator points dkim_pid_file at the suite
 * that hosts the dkim module) */
void
ctl_dkim_rotate_reload(const struct ctl_dkim_rotate_ctx *c)
{
	const char *pf = c->conf->pid_file;
	char	buf[64], comm[64] = "postmill-dkim", proc[64], *end;
	struct stat st;
	size_t	len;
	char   *text;
	long	pid;
	FILE   *fp;

	if (pf == NULL) {
		printf("# dkim_pid_file is empty: reload postmill-dkim yourself (SIGHUP)\n");
		return;
	}
	if ((text = ctl_dkim_rotate_io_slurp(pf, &len, &st)) == NULL) {
		printf("# postmill-dkim is not running (%s: %s): it reads the tables when it starts\n",
		       pf, strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), text);
	free(text);
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || pid <= 1 || end == buf || (*end != '\0' && *end != '\n')) {
		printf("# %s holds no pid: reload postmill-dkim yourself (SIGHUP)\n", pf);
		return;
	}
	/* a stale pid file must not make us signal some other process */
	snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
	if ((fp = fopen(proc, "r")) != NULL) {
		bool	ours = fgets(comm, sizeof(comm), fp) != NULL
		    && (strncmp(comm, "postmill-dkim", 13) == 0
			|| strncmp(comm, "postmill-suite", 14) == 0);

		fclose(fp);
		comm[strcspn(comm, "\n")] = '\0';
		if (!ours) {
			printf("# pid %ld of %s is not postmill-dkim (stale pid file): "
			       "not signalled\n", pid, pf);
			return;
		}
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		printf("# postmill-dkim (pid %ld) not signalled: %s; reload it yourself\n",
		       pid, strerror(errno));
		return;
	}
	printf("# reloaded %s (SIGHUP to pid %ld)\n", comm, pid);
}
