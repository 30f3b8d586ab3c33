/*++
 * NAME
 *	mproto_listen 3
 * SUMMARY
 *	libmilter's process API: socket, settings, smfi_main(), signals
 * DESCRIPTION
 *	smfi_setconn() takes libmilter's socket specs: "unix:/path",
 *	"local:/path" or "/path"; "inet:port[@host]"; "inet6:port[@host]"
 *	(no host: every address of the family). smfi_opensocket() binds it
 *	(removing a stale unix socket first when asked; never a file that is
 *	not a socket), so that a caller can bind as root, then fork and drop
 *	privileges before smfi_main(), which postmill's milter_main does.
 *
 *	smfi_main() starts the engine's pool (mproto_poll.c: every
 *	connection waits in one epoll set, a bounded pool of threads takes
 *	the events and runs the callbacks of sessions that have a complete
 *	packet) and waits for smfi_stop(). libmilter starts a thread per
 *	connection, and Postfix keeps a milter connection for each SMTP
 *	session, idle or not.
 *
 *	Signals, as libmilter: smfi_main() blocks SIGTERM, SIGINT and SIGHUP
 *	in every thread it starts, and a signal thread calls smfi_stop() on
 *	SIGTERM or SIGINT (SIGHUP is ignored: milter_main reloads on SIGUSR1).
 *	smfi_stop() ends the accepting of connections; smfi_main() then
 *	returns MI_SUCCESS while the pool serves the
 *	sessions in progress to their end.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "xalloc.h"

#define MPROTO_DEFAULT_TIMEOUT	7210	/* seconds, libmilter's default */
#define MPROTO_DEFAULT_BACKLOG	128

struct smfiDesc mproto_desc;
bool mproto_registered;
int mproto_timeout_s = MPROTO_DEFAULT_TIMEOUT;
size_t mproto_max_data = MPROTO_DEFAULT_MAX_DATA;

static char *listen_spec;
static int listen_fd = -1;
static int listen_backlog = MPROTO_DEFAULT_BACKLOG;
static int stop_pipe[2] = { -1, -1 };
static atomic_bool stopping;

/* smfi_register - the milter's description */
int
smfi_register(struct smfiDesc desc)
{
	if (desc.xxfi_version != SMFI_VERSION && desc.xxfi_version != 0x01000002
	    && desc.xxfi_version != 2
	    && desc.xxfi_version != 3 && desc.xxfi_version != 4)
		return MI_FAILURE;
	mproto_desc = desc;
	mproto_desc.xxfi_name = xstrdup(desc.xxfi_name ? desc.xxfi_name : "milter");
	mproto_registered = true;
	return MI_SUCCESS;
}

/* smfi_setconn - where to listen; checked by smfi_opensocket() */
int
smfi_setconn(char *spec)
{
	if (spec == NULL || *spec == '\0')
		return MI_FAILURE;
	free(listen_spec);
	listen_spec = xstrdup(spec);
	return MI_SUCCESS;
}

/* smfi_settimeout - seconds the MTA may take for a command, for all of
 * one packet, and for reading one batch of our replies */
int
smfi_settimeout(int seconds)
{
	if (seconds <= 0)
		return MI_FAILURE;
	mproto_timeout_s = seconds;
	return MI_SUCCESS;
}

/* smfi_setbacklog - listen(2) backlog */
int
smfi_setbacklog(int backlog)
{
	if (backlog <= 0)
		return MI_FAILURE;
	listen_backlog = backlog;
	return MI_SUCCESS;
}

/* smfi_setdbg - libmilter's debug level: nothing to switch here */
int
smfi_setdbg(int level)
{
	(void)level;
	return MI_SUCCESS;
}

/* smfi_setmaxdatasize - the longest packet accepted; returns the old one */
size_t
smfi_setmaxdatasize(size_t size)
{
	size_t old = mproto_max_data;

	if (size >= MILTER_MAX_DATA_SIZE)
		mproto_max_data = size;
	return old;
}

/* smfi_set_max_exec_time - libmilter's callback watchdog: not offered */
int
smfi_set_max_exec_time(unsigned int seconds)
{
	(void)seconds;
	return MI_FAILURE;
}

/* smfi_version - the protocol level we implement, as libmilter 8.17 */
int
smfi_version(unsigned int *major, unsigned int *minor, unsigned int *patch)
{
	if (major) *major = 1;
	if (minor) *minor = 0;
	if (patch) *patch = 1;
	return MI_SUCCESS;
}

/* listen_split_port_host - "port@host" into its parts (host may be NULL) */
static int
listen_split_port_host(const char *s, char **port, char **host)
{
	const char *at = strchr(s, '@');

	*port = at ? xstrndup(s, (size_t)(at - s)) : xstrdup(s);
	*host = at && at[1] ? xstrdup(at + 1) : NULL;
	if (**port == '\0' || strspn(*port, "0123456789") != strlen(*port)
	    || atoi(*port) < 1 || atoi(*port) > 65535) {
		free(*port);
		free(*host);
		return -1;
	}
	return 0;
}

/* listen_open_inet - bind an inet: or inet6: spec */
static int
listen_open_inet(const char *rest, int family)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char *port, *host;
	int fd = -1, on = 1, rc;

	if (listen_split_port_host(rest, &port, &host) < 0) {
		errno = EINVAL;
		return -1;
	}
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	free(port);
	free(host);
	if (rc != 0 || res == NULL) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (res->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0
		    || listen(fd, listen_backlog) < 0) {
			int e = errno;

			close(fd);
			fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* listen_open_unix - bind a unix socket, replacing a stale one if asked */
static int
listen_open_unix(const char *path, bool rmsocket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (rmsocket && lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;	/* never remove what is not a socket */
			return -1;
		}
		(void)unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
	    || listen(fd, listen_backlog) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* smfi_opensocket - bind the socket named by smfi_setconn() */
int
smfi_opensocket(bool rmsocket)
{
	const char *s = listen_spec;

	if (s == NULL || !mproto_registered) {
		errno = EINVAL;
		return MI_FAILURE;
	}
	if (listen_fd >= 0)
		return MI_SUCCESS;
	if (strncmp(s, "unix:", 5) == 0)
		listen_fd = listen_open_unix(s + 5, rmsocket);
	else if (strncmp(s, "local:", 6) == 0)
		listen_fd = listen_open_unix(s + 6, rmsocket);
	else if (s[0] == '/')
		listen_fd = listen_open_unix(s, rmsocket);
	else if (strncmp(s, "inet:", 5) == 0)
		listen_fd = listen_open_inet(s + 5, AF_INET);
	else if (strncmp(s, "inet6:", 6) == 0)
		listen_fd = listen_open_inet(s + 6, AF_INET6);
	else
		errno = EINVAL;
	return listen_fd >= 0 ? MI_SUCCESS : MI_FAILURE;
}

/* signal_thread - SIGTERM/SIGINT stop the accept loop */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			(void)smfi_stop();
			return NULL;
		}
	}
}

/* smfi_stop - end the accept loop; sessions in progress go on */
int
smfi_stop(void)
{
	atomic_store(&stopping, true);
	if (stop_pipe[1] >= 0)
		(void)!write(stop_pipe[1], "x", 1);
	return MI_SUCCESS;
}

/* smfi_main - accept until smfi_stop() */
int
smfi_main(void)
{
	static sigset_t set;
	pthread_t tid;
	pthread_attr_t attr;

	if (!mproto_registered)
		return MI_FAILURE;
	if (listen_fd < 0 && smfi_opensocket(false) == MI_FAILURE) {
		log_msg(LOG_ERR, NULL, "milter: cannot listen on %s: %s",
			listen_spec ? listen_spec : "(no socket)", strerror(errno));
		return MI_FAILURE;
	}
	if (pipe2(stop_pipe, O_CLOEXEC) < 0)
		return MI_FAILURE;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, signal_thread, &set) != 0) {
		pthread_attr_destroy(&attr);
		return MI_FAILURE;
	}
	pthread_attr_destroy(&attr);

	if (mproto_poll_start(listen_fd, stop_pipe[0]) < 0) {
		log_msg(LOG_ERR, NULL, "milter: cannot start the engine's threads: %s",
			strerror(errno));
		return MI_FAILURE;
	}
	/* the pool serves the sessions, also after we return */
	while (!atomic_load(&stopping)) {
		struct pollfd p = { .fd = stop_pipe[0], .events = POLLIN };

		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			log_msg(LOG_ERR, NULL, "milter: poll: %s", strerror(errno));
			return MI_FAILURE;
		}
		if (p.revents)
			break;
	}
	return MI_SUCCESS;
}
