/*++
 * NAME
 *	milter_main 3
 * SUMMARY
 *	the skeleton every postmill milter daemon runs in
 * DESCRIPTION
 *	See milter_main.h for the process model. Start-up order matters:
 *	1. load and check the configuration and state as the invoking user
 *	   (root): any problem is printed and we exit 1 before a socket opens;
 *	2. unless -f, fork; the original process waits for a one-line status
 *	   on a pipe so that the shell that started us sees start-up errors;
 *	3. bind the libmilter socket (as root), set its mode and owner,
 *	   write the pid file;
 *	4. fork the worker, which drops privileges, loads the snapshot again
 *	   as the unprivileged user (so that keys it cannot read fail now,
 *	   not at the first reload), reports "OK" and enters smfi_main().
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_common.h"
#include "log.h"
#include "milter_check.h"
#include "milter_main.h"
#include "milter_notify.h"
#include "milter_stats.h"
#include "milter_sessions.h"
#include "xalloc.h"

#define EXIT_CONFIG	78	/* sysexits.h EX_CONFIG: worker could not load */

#if defined(__SANITIZE_ADDRESS__)
#define MAIN_SANITIZED
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAIN_SANITIZED
#endif
#endif

/* engine/mproto.h: the engine's limits; weak, as Debian's libmilter has none */
extern int mproto_setlimits(unsigned workers, unsigned conns, size_t memory)
    __attribute__((weak));

static const struct milter_app *main_app;
static const char *main_config_path;
static int main_stats_fd = -1;		/* stats socket, bound by the supervisor */
static char main_stats_path[256];	/* its path, removed at the end */
static struct smfiDesc main_desc;
static struct smfiDesc main_inner;	/* the milter's own callbacks */
static int main_daemon_status_fd = -1;	/* to the shell that started us */
static int main_listen_fd = -1;		/* the engine's listener, in the supervisor */
static int main_sig_fd = -1;		/* the supervisor's signalfd */

/* main_usage - print the options: stdout when asked for (-h), else stderr */
static void
main_usage(FILE *fp, const char *prog)
{
	fprintf(fp,
		"usage: %s [-f] [-n] [-V] [-h] [-c config]\n"
		"  -c FILE  configuration file (default %s/postmill.conf)\n"
		"  -f       stay in the foreground and log to stderr too\n"
		"  -n       check what a start needs (configuration, keys, users, socket,\n"
		"           files as run_user), print what is wrong with file:line, exit 0/1\n"
		"  -h       this help\n"
		"  -V       print the version\n"
		"Parameters: postmillctl config, man postmill-%s(8).\n",
		prog, POSTMILL_SYSCONFDIR, main_app != NULL ? main_app->name : "dkim");
}

/* main_conf_str - a char * parameter of the app section by offset */
static const char *
main_conf_str(const struct milter_snapshot *snap, size_t offset)
{
	return *(char *const *)((const char *)snap->conf + offset);
}

/*
 * main_counting_connect - a session starts: the drain at stop waits for it.
 * A set of contexts, not a counter (milter_sessions.h): xxfi_close also
 * comes for connections that never sent CONNECT and after QUIT_NC.
 */
static sfsistat
main_counting_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	milter_sessions_start(ctx);
	return main_inner.xxfi_connect ?
	    main_inner.xxfi_connect(ctx, host, sa) : SMFIS_CONTINUE;
}

/* main_counting_close - the session is over (once, however often called) */
static sfsistat
main_counting_close(SMFICTX *ctx)
{
	sfsistat rc = main_inner.xxfi_close ?
	    main_inner.xxfi_close(ctx) : SMFIS_CONTINUE;

	milter_sessions_end(ctx);
	return rc;
}

/* main_socket_path - the file of a unix: socket spec, or NULL */
static const char *
main_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/* main_lookup_ids - uid/gid of run_user/run_group; -1 when unchanged */
static int
main_lookup_ids(const struct common_conf *c, uid_t *uid, gid_t *gid,
		struct errlist *el)
{
	return privdrop_lookup(c, main_config_path, uid, gid, el);
}

/* main_drop_privileges - become run_user after binding */
static int
main_drop_privileges(const struct common_conf *c, struct errlist *el)
{
	uid_t uid;
	gid_t gid;

	if (main_lookup_ids(c, &uid, &gid, el) < 0)
		return -1;
	if (uid == (uid_t)-1)
		return 0;
	if (privdrop_become(c->run_user, uid, gid, el) < 0)
		return -1;
#ifdef MAIN_SANITIZED
	/*
	 * ASan builds only: after setuid() the kernel makes us non-dumpable
	 * (fs.suid_dumpable = 2 on Debian), so LeakSanitizer's tracer cannot
	 * attach at the worker's exit ("Failed suspending threads") and the
	 * e2e tests of the worker failed under SANITIZE=1. Never in a production build: a dumpable worker could
	 * be traced by anything else running as run_user.
	 */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

/* main_write_status - send the start-up result to whoever waits for it */
static void
main_write_status(int fd, const char *text)
{
	size_t len = strlen(text);

	if (fd < 0)
		return;
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		text += n;
		len -= (size_t)n;
	}
}

/* main_read_status - wait for "OK" or an error text from a child */
static char *
main_read_status(int fd)
{
	char buf[8192];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	return xstrdup(buf);
}

/* main_reload_thread - worker: SIGUSR1 means build and swap a new snapshot */
static void *
main_reload_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		struct errlist el = ERRLIST_INIT;
		struct milter_snapshot *snap;

		if (sigwait(&set, &sig) != 0)
			continue;
		snap = milter_snapshot_load(main_app, main_config_path, &el);
		if (snap == NULL) {
			for (size_t i = 0; i < el.count; i++)
				log_msg(LOG_ERR, NULL, "reload: %s", el.msgs[i]);
			log_msg(LOG_ERR, NULL,
				"reload failed, keeping the previous configuration");
			milter_stats_reload(false);
			milter_notify_reloaded(0);
		} else {
			log_set_debug((int)snap->common->debug_level);
			milter_snapshot_install(main_app, snap);
			log_msg(LOG_INFO, NULL, "reloaded %s (generation %lu)",
				main_config_path, snap->generation);
			milter_stats_reload(true);
			milter_notify_reloaded(1);
		}
		errlist_free(&el);
	}
	return NULL;
}

/*
 * main_set_death_signal - the worker ends (draining) when the supervisor
 * dies. Called after the switch to run_user: the kernel clears the
 * parent-death signal when the credentials change (prctl(2)), so set
 * before setuid() it is gone. If the supervisor died before this call no
 * signal will ever come: getppid() is no longer its pid then.
 */
static int
main_set_death_signal(pid_t supervisor)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) {
		log_msg(LOG_ERR, NULL, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
		return -1;
	}
	if (getppid() != supervisor) {
		log_msg(LOG_ERR, NULL, "the supervisor (pid %ld) is gone; not starting",
			(long)supervisor);
		return -1;
	}
	return 0;
}

/* main_worker - drop privileges, reload as that user, run libmilter */
static int
main_worker(int status_fd, bool foreground, pid_t supervisor)
{
	struct errlist el = ERRLIST_INIT;
	struct milter_snapshot *snap, *boot;
	pthread_t tid;
	char name[16];
	unsigned left;
	int rc;

	/* "pkill -HUP postmill-dkim" must reach the supervisor only */
	snprintf(name, sizeof(name), "pm-%s-worker", main_app->name);
	prctl(PR_SET_NAME, name, 0, 0, 0);

	boot = milter_snapshot_acquire();
	if (main_drop_privileges(boot->common, &el) < 0
	    || (snap = milter_snapshot_load(main_app, main_config_path, &el)) == NULL) {
		char *text = errlist_join(&el);

		for (size_t i = 0; i < el.count; i++)
			log_msg(LOG_ERR, NULL, "%s", el.msgs[i]);
		main_write_status(status_fd, text);
		free(text);
		errlist_free(&el);
		milter_snapshot_release(boot);
		return EXIT_CONFIG;
	}
	milter_snapshot_release(boot);
	milter_snapshot_install(main_app, snap);
	if (main_set_death_signal(supervisor) < 0) {
		main_write_status(status_fd, "the supervisor is gone");
		return EXIT_FAILURE;
	}
	milter_stats_start(main_stats_fd, main_app->name);

	/*
	 * HUP, TERM, INT and USR1 are still blocked (main_spawn_worker), and
	 * a thread inherits its creator's mask: the reload thread takes
	 * USR1 only, and TERM/INT wait for smfi_main()'s signal thread,
	 * which stops the accept loop so that the drain below runs. Had the
	 * mask been cleared here, TERM would land in the reload thread and
	 * end the process at once, cutting every session.
	 */
	if (pthread_create(&tid, NULL, main_reload_thread, NULL) != 0) {
		main_write_status(status_fd, "cannot start the reload thread");
		return EXIT_FAILURE;
	}
	pthread_detach(tid);

	main_write_status(status_fd, "OK");
	if (status_fd >= 0)
		close(status_fd);
	log_msg(LOG_INFO, NULL, "started, version %s%s", POSTMILL_VERSION,
		foreground ? " (foreground)" : "");

	rc = smfi_main();

	/* let sessions in progress finish: their messages are not lost */
	if ((left = milter_sessions_count()) > 0) {
		log_msg(LOG_INFO, NULL, "stopping: draining %u session%s in progress",
			left, left == 1 ? "" : "s");
		left = milter_sessions_wait(MILTER_DRAIN_SECONDS);
	}
	if (left > 0)
		log_msg(LOG_WARNING, NULL, "stopping with %u session%s in progress",
			left, left == 1 ? "" : "s");
	log_msg(LOG_INFO, NULL, "stopped");
	return rc == MI_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* main_spawn_worker - fork one worker; returns its pid and start-up text */
static pid_t
main_spawn_worker(bool foreground, char **status)
{
	pid_t supervisor = getpid();
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*status = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		*status = xasprintf("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t set;

		/*
		 * Keep HUP, TERM, INT and USR1 blocked from here on, before
		 * any thread exists (see main_worker); SIGCHLD is the
		 * supervisor's business only.
		 */
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_SETMASK, &set, NULL);
		close(fds[0]);
		if (main_sig_fd >= 0)
			close(main_sig_fd);
		/* or the starting shell would wait for this worker's end */
		if (main_daemon_status_fd >= 0)
			close(main_daemon_status_fd);
		/* exit(), not _exit(): LeakSanitizer checks the worker at exit */
		exit(main_worker(fds[1], foreground, supervisor));
	}
	close(fds[1]);
	*status = main_read_status(fds[0]);
	close(fds[0]);
	return pid;
}

/* main_open_socket - bind the milter socket; mode and owner for unix: */
static int
main_open_socket(const struct milter_snapshot *snap, struct errlist *el)
{
	const char *spec = main_conf_str(snap, main_app->socket_offset);
	const char *path;
	uid_t uid;
	gid_t gid;

	if (spec == NULL) {
		errlist_add(el, "%ssocket is empty", main_app->section->prefix);
		return -1;
	}
	if (smfi_setconn((char *)spec) == MI_FAILURE) {
		errlist_add(el, "bad socket spec \"%s\"", spec);
		return -1;
	}
	if ((path = main_socket_path(spec)) != NULL) {
		/* the socket appears with the umask's mode: close it first */
		mode_t old = umask(0177);
		int rc = smfi_opensocket(true);

		umask(old);
		if (rc == MI_FAILURE) {
			errlist_add(el, "cannot listen on %s: %s", spec, strerror(errno));
			return -1;
		}
		if (main_lookup_ids(snap->common, &uid, &gid, el) < 0)
			return -1;
		if (snap->common->socket_group != NULL) {
			struct group *gr = getgrnam(snap->common->socket_group);

			if (gr == NULL) {
				errlist_add(el, "socket_group = %s: no such group",
					    snap->common->socket_group);
				return -1;
			}
			gid = gr->gr_gid;
		}
		if (chmod(path, (mode_t)snap->common->socket_mode) < 0
		    || ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0)) {
			errlist_add(el, "%s: %s", path, strerror(errno));
			return -1;
		}
	} else if (smfi_opensocket(false) == MI_FAILURE) {
		errlist_add(el, "cannot listen on %s: %s", spec, strerror(errno));
		return -1;
	}
	return 0;
}

/* main_open_stats - the stats socket, bound as root like the milter socket */
static void
main_open_stats(const struct milter_snapshot *snap, struct errlist *el)
{
	uid_t	uid;
	gid_t	gid;

	if (main_lookup_ids(snap->common, &uid, &gid, el) < 0)
		return;
	if (snap->common->socket_group != NULL) {
		struct group *gr = getgrnam(snap->common->socket_group);

		if (gr != NULL)
			gid = gr->gr_gid;
	}
	main_stats_fd = milter_stats_open(snap->common, main_app->name, uid, gid, el);
	if (main_stats_fd >= 0)
		snprintf(main_stats_path, sizeof(main_stats_path), "%s/%s.stats",
			 snap->common->stats_dir, main_app->name);
}

/* main_write_pid_file - the supervisor's pid */
static int
main_write_pid_file(const char *path, struct errlist *el)
{
	FILE *fp;

	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "w")) == NULL) {
		errlist_add(el, "%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0) {
		errlist_add(el, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * main_listening_fds - the listening sockets this process has open; the
 * engine (ours or libmilter) keeps its listener to itself, so the
 * supervisor finds it as the one that smfi_opensocket() added.
 */
static size_t
main_listening_fds(int *fds, size_t max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	size_t n = 0;

	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL && n < max) {
		char *end;
		long fd = strtol(d->d_name, &end, 10);
		int on = 0;
		socklen_t len = sizeof(on);

		if (*end != '\0' || end == d->d_name || fd < 0 || fd == dirfd(dir))
			continue;
		if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
			fds[n++] = (int)fd;
	}
	closedir(dir);
	return n;
}

/* main_monotonic_ms - a clock for the back-off and log pacing */
static long long
main_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * main_refuse_pending - while no worker serves the socket, answer every
 * waiting connection at once by closing it: Postfix then applies
 * milter_default_action now ("can't read SMFIC_OPTNEG reply"), instead of
 * waiting out its milter timeouts on a connection nobody will read while
 * a crashing worker is restarted with back-off or drains at stop.
 */
static void
main_refuse_pending(void)
{
	static unsigned long pending;	/* closed, not yet logged */
	static long long logged_at;
	long long now;
	int fd;

	if (main_listen_fd < 0)
		return;
	while ((fd = accept4(main_listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		close(fd);
		pending++;
	}
	/* one line per 10 s at most, however busy the MTA */
	now = main_monotonic_ms();
	if (pending > 0 && (logged_at == 0 || now - logged_at >= 10000)) {
		log_msg(LOG_WARNING, NULL, "no worker running: closed %lu "
			"connection%s (the MTA applies its default action)",
			pending, pending == 1 ? "" : "s");
		pending = 0;
		logged_at = now;
	}
}

/*
 * main_listener_blocking - the listener is shared with the worker (one
 * open file description): non-blocking only while the supervisor answers
 * on it, so that its accept() never hangs when a worker that is still
 * draining took the connection first; blocking again for a new worker,
 * as the engine (or libmilter) set it up.
 */
static void
main_listener_blocking(bool blocking)
{
	int fl;

	if (main_listen_fd < 0 || (fl = fcntl(main_listen_fd, F_GETFL)) < 0)
		return;
	fcntl(main_listen_fd, F_SETFL, blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* main_restart_worker - start a worker again; logs why it failed */
static pid_t
main_restart_worker(bool foreground)
{
	char *text = NULL;
	pid_t worker = main_spawn_worker(foreground, &text);

	if (worker < 0)
		log_msg(LOG_ERR, NULL, "cannot start a worker: %s", text);
	else if (strcmp(text, "OK") != 0)
		log_msg(LOG_ERR, NULL, "worker failed to start: %s", text);
	else
		log_msg(LOG_INFO, NULL, "worker %ld started", (long)worker);
	free(text);
	return worker;
}

/*
 * main_supervise - forward signals, restart a dead worker, stop cleanly.
 * One poll() over a signalfd and, while no worker accepts (between a
 * crash and the restart, and while the worker drains at stop), the
 * listening socket, whose connections are closed at once.
 */
static int
main_supervise(pid_t worker, bool foreground, const char *pid_file,
	       const char *sock_path)
{
	sigset_t set;
	int status;
	unsigned backoff = 1;
	long long started = main_monotonic_ms(), restart_at = -1;
	bool stopping = false;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	if ((main_sig_fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		log_msg(LOG_ERR, NULL, "signalfd: %s", strerror(errno));
		return EXIT_FAILURE;
	}
	for (;;) {
		bool idle = worker < 0 || stopping;
		struct pollfd p[2] = {
			{ .fd = main_sig_fd, .events = POLLIN },
			{ .fd = idle ? main_listen_fd : -1, .events = POLLIN },
		};
		int timeout = -1;
		struct signalfd_siginfo si;

		if (restart_at >= 0) {
			long long left = restart_at - main_monotonic_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			log_msg(LOG_ERR, NULL, "poll: %s", strerror(errno));
			sleep(1);
			continue;
		}
		if (p[1].revents & POLLIN)
			main_refuse_pending();
		if (restart_at >= 0 && !stopping && main_monotonic_ms() >= restart_at) {
			restart_at = -1;
			started = main_monotonic_ms();
			main_listener_blocking(true);
			worker = main_restart_worker(foreground);
			if (worker < 0)
				restart_at = main_monotonic_ms() + 1000LL * backoff;
		}
		if (!(p[0].revents & POLLIN)
		    || read(main_sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
		case SIGUSR1:
			log_msg(LOG_INFO, NULL, "reload requested");
			/* the worker says READY=1 when its reload is over */
			if (worker > 0) {
				milter_notify_reloading();
				kill(worker, SIGUSR1);
			}
			break;
		case SIGTERM:
		case SIGINT:
			stopping = true;
			restart_at = -1;
			main_listener_blocking(false);
			log_msg(LOG_INFO, NULL, "stop requested");
			milter_notify_stopping();
			if (worker > 0)
				kill(worker, SIGTERM);
			break;
		case SIGCHLD:
			/* signals merge: reap every child there is */
			for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
				if (pid != worker)
					continue;
				worker = -1;
				main_listener_blocking(false);
				if (stopping)
					break;
				if (WIFSIGNALED(status))
					log_msg(LOG_CRIT, NULL, "worker killed by signal %d",
						WTERMSIG(status));
				else
					log_msg(LOG_ERR, NULL, "worker exited with status %d",
						WEXITSTATUS(status));
				if (sock_path != NULL && access(sock_path, F_OK) < 0) {
					log_msg(LOG_ERR, NULL, "%s is gone; exiting so that "
						"the service manager restarts us", sock_path);
					stopping = true;
					break;
				}
				/* back off when the worker dies right after starting */
				if (main_monotonic_ms() - started > 60000)
					backoff = 1;
				log_msg(LOG_INFO, NULL, "restarting the worker in %u s; "
					"until then connections are closed at once", backoff);
				restart_at = main_monotonic_ms() + 1000LL * backoff;
				backoff = backoff < 32 ? backoff * 2 : 32;
			}
			break;
		}
		if (stopping && worker < 0)
			break;
	}
	if (pid_file != NULL)
		unlink(pid_file);
	if (sock_path != NULL)
		unlink(sock_path);
	if (main_stats_path[0] != '\0')
		unlink(main_stats_path);
	log_msg(LOG_INFO, NULL, "supervisor stopped");
	return EXIT_SUCCESS;
}

/* milter_qid - the queue id for log lines, refreshed from {i} */
const char *
milter_qid(SMFICTX *ctx, char *qid, size_t qidlen)
{
	const char *q = smfi_getsymval(ctx, "i");

	if (q != NULL && *q != '\0')
		log_escape(qid, qidlen, q, strlen(q));
	else if (qid[0] == '\0')
		snprintf(qid, qidlen, "%s", LOG_NOQUEUE);
	return qid;
}

/* milter_main - the whole main() of a milter */
int
milter_main(int argc, char **argv, const struct milter_app *app)
{
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	bool foreground = false, check_only = false;
	struct errlist el = ERRLIST_INIT;
	struct milter_snapshot *snap;
	char ident[64], *status = NULL;
	int opt, status_fd = -1;
	pid_t worker;
	sigset_t set;

	while ((opt = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'f': foreground = true; break;
		case 'n': check_only = true; break;
		case 'V':
			printf("postmill-%s %s\n", app->name, POSTMILL_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			main_app = app;
			main_usage(stdout, argv[0]);
			return EXIT_SUCCESS;
		default:
			main_usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr, argv[0]);
		return 2;
	}
	main_app = app;
	/* the daemon chdirs to /: reloads need an absolute path */
	{
		char *abs = realpath(config, NULL);

		main_config_path = abs ? abs : config;
	}
	snprintf(ident, sizeof(ident), "postmill-%s", app->name);
	/*
	 * Under systemd (-f, stderr connected to the journal: $JOURNAL_STREAM)
	 * syslog already reaches the journal: a copy on stderr would log
	 * every line twice. Errors before the start still go to stderr.
	 */
	log_open(ident, (foreground && getenv("JOURNAL_STREAM") == NULL) || check_only);

	snap = milter_snapshot_load(app, config, &el);
	if (snap != NULL)
		milter_check_start(app, snap, config, check_only, &el);
	if (snap != NULL && el.count > 0) {
		milter_snapshot_free(app, snap);
		snap = NULL;
	}
	if (snap == NULL) {
		milter_check_locate(&el, config);
		errlist_print(&el, stderr);
		fprintf(stderr, "%s: %zu error%s in the configuration; not starting\n",
			ident, el.count, el.count == 1 ? "" : "s");
		errlist_free(&el);
		return EXIT_FAILURE;
	}
	log_set_debug((int)snap->common->debug_level);
	if (check_only) {
		if (app->describe)
			app->describe(snap->state, stdout);
		printf("%s: configuration OK\n", ident);
		milter_snapshot_free(app, snap);
		return EXIT_SUCCESS;
	}
	milter_snapshot_install(app, snap);

	/* every signal is handled by sigwait(): block them before any fork */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!foreground) {
		int fds[2];
		pid_t pid;

		if (pipe(fds) < 0 || (pid = fork()) < 0) {
			fprintf(stderr, "%s: cannot fork: %s\n", ident, strerror(errno));
			return EXIT_FAILURE;
		}
		if (pid > 0) {
			char *text;

			close(fds[1]);
			text = main_read_status(fds[0]);
			if (strcmp(text, "OK") != 0) {
				fprintf(stderr, "%s: not started: %s\n", ident,
					*text ? text : "see the mail log");
				free(text);
				return EXIT_FAILURE;
			}
			free(text);
			return EXIT_SUCCESS;
		}
		close(fds[0]);
		status_fd = main_daemon_status_fd = fds[1];
		setsid();
		if (chdir("/") < 0) {
			/* harmless: we never use relative paths after start */
		}
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
	}

	{
		const struct smfiDesc *d = app->desc_for != NULL
		    ? app->desc_for(snap) : app->desc;

		if (d == NULL) {
			fprintf(stderr, "%s: cannot set up the milter callbacks\n", ident);
			return EXIT_FAILURE;
		}
		main_inner = *d;
	}
	main_desc = main_inner;
	main_desc.xxfi_connect = main_counting_connect;
	main_desc.xxfi_close = main_counting_close;
	milter_stats_wrap(&main_desc);
	if (smfi_register(main_desc) == MI_FAILURE) {
		errlist_add(&el, "smfi_register failed");
	} else {
		if (snap->common->milter_io_timeout > 0)
			smfi_settimeout((int)(snap->common->milter_io_timeout / 1000));
		/* postmill's engine only (make MILTER_ENGINE=libmilter lacks it) */
		if (mproto_setlimits != NULL)
			mproto_setlimits((unsigned)snap->common->milter_max_workers,
					 (unsigned)snap->common->milter_max_connections,
					 (size_t)snap->common->milter_memory_limit);
		/*
		 * libmilter drops a connection whose packet exceeds 64 KiB by
		 * default, but Postfix sends a header field of up to
		 * header_size_limit (100 KiB) in one packet: allow 1 MiB.
		 */
		smfi_setmaxdatasize(1024 * 1024 - 1);
	}
	if (el.count == 0) {
		int before[64], after[64];
		size_t nb = main_listening_fds(before, 64);
		size_t na;

		main_open_socket(snap, &el);
		na = main_listening_fds(after, 64);
		for (size_t i = 0; i < na && main_listen_fd < 0; i++) {
			size_t j = 0;

			while (j < nb && before[j] != after[i])
				j++;
			if (j == nb)
				main_listen_fd = after[i];
		}
	}
	if (el.count == 0)
		main_open_stats(snap, &el);
	if (el.count == 0)
		main_write_pid_file(main_conf_str(snap, app->pid_file_offset), &el);
	if (el.count > 0) {
		char *text = errlist_join(&el);

		for (size_t i = 0; i < el.count; i++)
			log_msg(LOG_ERR, NULL, "%s", el.msgs[i]);
		if (status_fd >= 0)
			main_write_status(status_fd, text);
		else
			fprintf(stderr, "%s: not started: %s\n", ident, text);
		free(text);
		return EXIT_FAILURE;
	}

	worker = main_spawn_worker(foreground, &status);
	if (worker < 0 || strcmp(status, "OK") != 0) {
		const char *pid_file = main_conf_str(snap, app->pid_file_offset);
		const char *path = main_socket_path(main_conf_str(snap, app->socket_offset));

		if (status_fd >= 0)
			main_write_status(status_fd, status);
		else
			fprintf(stderr, "%s: not started: %s\n", ident, status);
		if (worker > 0)
			waitpid(worker, NULL, 0);
		if (pid_file)
			unlink(pid_file);
		if (path)
			unlink(path);
		free(status);
		return EXIT_FAILURE;
	}
	free(status);
	main_write_status(status_fd, "OK");
	/* under systemd (Type=notify, -f) the supervisor is the main process */
	milter_notify_ready(getpid());
	if (status_fd >= 0)
		close(status_fd);
	main_daemon_status_fd = -1;
	{
		/* copies: the snapshot may be replaced while we supervise */
		const char *pf = main_conf_str(snap, app->pid_file_offset);
		const char *sp = main_socket_path(main_conf_str(snap, app->socket_offset));
		char *pid_file = pf ? xstrdup(pf) : NULL;
		char *sock_path = sp ? xstrdup(sp) : NULL;
		int rc = main_supervise(worker, foreground, pid_file, sock_path);

		free(pid_file);
		free(sock_path);
		return rc;
	}
}
