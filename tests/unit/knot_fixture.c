/*++
 * NAME
 *	knot_fixture 3
 * SUMMARY
 *	a private knotd on loopback for unit tests
 * DESCRIPTION
 *	See knot_fixture.h. The readiness probe is a hand-made SOA query so
 *	that the fixture does not depend on the DNS client it helps to test.
 *	knotd is started with PR_SET_PDEATHSIG so that a crashed test binary
 *	does not leave it running, and with every inherited descriptor above
 *	stderr closed so that it cannot hold a test's fake-server sockets.
 *--*/
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "knot_fixture.h"
#include "tcase.h"
#include "xalloc.h"

#define KNOT_FIXTURE_KNOTD	"/usr/sbin/knotd"
#define KNOT_FIXTURE_KNOTC	"/usr/sbin/knotc"
#define KNOT_FIXTURE_TRIES	5	/* ports to try when a bind races */

/* knot_fixture_available - are knotd and knotc installed */
bool
knot_fixture_available(void)
{
	return access(KNOT_FIXTURE_KNOTD, X_OK) == 0
	    && access(KNOT_FIXTURE_KNOTC, X_OK) == 0;
}

/* knot_fixture_bindable - can (family, type) bind loopback:port; port 0 picks */
static unsigned
knot_fixture_bindable(int family, int type, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int	fd, one = 1;
	unsigned got = 0;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == 0
	    && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		got = ntohs(family == AF_INET
			    ? ((struct sockaddr_in *)&ss)->sin_port
			    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return got;
}

/* knot_fixture_have_ipv6 - can a test listen on ::1 */
bool
knot_fixture_have_ipv6(void)
{
	return knot_fixture_bindable(AF_INET6, SOCK_DGRAM, 0) != 0;
}

/* knot_fixture_pick_port - a port free for TCP and UDP on the addresses used */
static unsigned
knot_fixture_pick_port(bool ipv6)
{
	for (int i = 0; i < 50; i++) {
		unsigned port = knot_fixture_bindable(AF_INET, SOCK_STREAM, 0);

		if (port == 0)
			continue;
		if (knot_fixture_bindable(AF_INET, SOCK_DGRAM, port) != port)
			continue;
		if (ipv6 && (knot_fixture_bindable(AF_INET6, SOCK_STREAM, port) != port
			     || knot_fixture_bindable(AF_INET6, SOCK_DGRAM, port) != port))
			continue;
		return port;
	}
	return 0;
}

/* knot_fixture_write - path := text, via a temporary file and rename */
static int
knot_fixture_write(const char *path, const char *text)
{
	char	tmp[256];
	FILE	*fp;
	int	rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	rc = fputs(text, fp) < 0 ? -1 : 0;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	return rc;
}

/* knot_fixture_zone_path - DIR/ZONE.zone */
static int
knot_fixture_zone_path(const struct knot_fixture *kf, const char *zone,
		       char *buf, size_t len)
{
	if (strchr(zone, '/') != NULL)
		return -1;
	return snprintf(buf, len, "%s/%s.zone", kf->dir, zone) >= (int)len ? -1 : 0;
}

/* knot_fixture_write_conf - knot.conf for the zones on kf->port */
static int
knot_fixture_write_conf(const struct knot_fixture *kf,
			const struct knot_fixture_zone *zones, size_t nzones)
{
	char	listen[64];
	FILE	*fp;
	int	rc;

	if (kf->ipv6)
		snprintf(listen, sizeof(listen), "127.0.0.1@%u, ::1@%u",
			 kf->port, kf->port);
	else
		snprintf(listen, sizeof(listen), "127.0.0.1@%u", kf->port);
	if ((fp = fopen(kf->conf, "w")) == NULL)
		return -1;
	/* NOTES-dns.md: one worker each, no journal, never write zone files */
	fprintf(fp, "server:\n"
		"    rundir: \"%s\"\n"
		"    listen: [ %s ]\n"
		"    udp-workers: 1\n"
		"    tcp-workers: 1\n"
		"    background-workers: 1\n"
		"control:\n"
		"    listen: \"%s/knot.sock\"\n"
		"log:\n"
		"  - target: stderr\n"
		"    any: info\n"
		"database:\n"
		"    storage: \"%s\"\n"
		"template:\n"
		"  - id: default\n"
		"    storage: \"%s\"\n"
		"    file: \"%%s.zone\"\n"
		"    zonefile-sync: -1\n"
		"    journal-content: none\n"
		"zone:\n",
		kf->dir, listen, kf->dir, kf->dir, kf->dir);
	for (size_t i = 0; i < nzones; i++)
		fprintf(fp, "  - domain: %s\n", zones[i].name);
	rc = ferror(fp) ? -1 : 0;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* knot_fixture_probe - does 127.0.0.1@port answer zone's SOA, authoritatively */
static bool
knot_fixture_probe(unsigned port, const char *zone)
{
	static unsigned counter;
	unsigned char q[300], ans[512];
	struct sockaddr_in sin;
	struct pollfd pfd;
	size_t	n = 12;
	unsigned id = ((unsigned)getpid() + ++counter) & 0xffff;
	const char *p = zone;
	ssize_t	got;
	int	fd;
	bool	ok = false;

	memset(q, 0, sizeof(q));
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[5] = 1;				/* QDCOUNT */
	while (*p != '\0') {			/* plain dotted names only */
		size_t	len = strcspn(p, ".");

		if (len == 0 || len > 63 || n + len + 6 > sizeof(q))
			return false;
		q[n++] = (unsigned char)len;
		memcpy(q + n, p, len);
		n += len;
		p += len;
		if (*p == '.')
			p++;
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 6;				/* SOA */
	q[n++] = 0;
	q[n++] = 1;				/* IN */

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0
	    && send(fd, q, n, 0) == (ssize_t)n) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == 1
		    && (got = recv(fd, ans, sizeof(ans), 0)) >= 12
		    && ans[0] == q[0] && ans[1] == q[1]
		    && (ans[3] & 0x0f) == 0		/* NOERROR */
		    && (ans[2] & 0x04) != 0		/* AA */
		    && (ans[6] != 0 || ans[7] != 0))	/* ANCOUNT */
			ok = true;
	}
	close(fd);
	return ok;
}

/* knot_fixture_spawn - fork and exec knotd, output into DIR/knotd.log */
static pid_t
knot_fixture_spawn(const struct knot_fixture *kf, const char *prog,
		   char *const argv[], const char *logname)
{
	char	log[128];
	pid_t	pid;

	if (snprintf(log, sizeof(log), "%s/%s", kf->dir, logname) >= (int)sizeof(log))
		return -1;
	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	int	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	/* a crashed test must not leave knotd behind */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	closefrom(STDERR_FILENO + 1);
	execv(prog, argv);
	_exit(127);
}

/* knot_fixture_reap - waitpid with a deadline; true when pid is gone */
static bool
knot_fixture_reap(pid_t pid, long ms, int *status)
{
	long long end = tcase_now_ms() + ms;

	for (;;) {
		pid_t	r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (tcase_now_ms() >= end)
			return false;
		tcase_sleep_ms(5);
	}
}

/* knot_fixture_ready - 0 all zones answer, 1 knotd exited, -1 timeout */
static int
knot_fixture_ready(struct knot_fixture *kf,
		   const struct knot_fixture_zone *zones, size_t nzones)
{
	long long end = tcase_now_ms() + KNOT_FIXTURE_START_MS;
	int	status;

	while (tcase_now_ms() < end) {
		size_t	i;

		if (waitpid(kf->pid, &status, WNOHANG) == kf->pid) {
			kf->pid = 0;
			return 1;
		}
		for (i = 0; i < nzones; i++)
			if (zones[i].text != NULL
			    && !knot_fixture_probe(kf->port, zones[i].name))
				break;
		if (i == nzones)
			return 0;
		tcase_sleep_ms(10);
	}
	return -1;
}

/* knot_fixture_rm - nftw callback: remove one entry, children first */
static int
knot_fixture_rm(const char *path, const struct stat *st, int flag,
		struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* knot_fixture_start - knotd serving zones on loopback; see knot_fixture.h */
int
knot_fixture_start(struct knot_fixture *kf,
		   const struct knot_fixture_zone *zones, size_t nzones,
		   unsigned flags, char *err, size_t errlen)
{
	char	path[160];
	char	*argv[] = {"knotd", "-c", kf->conf, NULL};

	memset(kf, 0, sizeof(*kf));
	kf->ipv6 = (flags & KNOT_FIXTURE_IPV6) != 0;
	snprintf(kf->dir, sizeof(kf->dir), "/tmp/postmill-knot-XXXXXX");
	if (mkdtemp(kf->dir) == NULL) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(kf->conf, sizeof(kf->conf), "%s/knot.conf", kf->dir);
	for (size_t i = 0; i < nzones; i++) {
		if (zones[i].text == NULL)
			continue;
		if (knot_fixture_zone_path(kf, zones[i].name, path, sizeof(path)) < 0
		    || knot_fixture_write(path, zones[i].text) < 0) {
			snprintf(err, errlen, "cannot write zone file for %s",
				 zones[i].name);
			knot_fixture_stop(kf);
			return -1;
		}
	}
	/* a port picked free can be taken before knotd binds it: retry */
	for (int t = 0; t < KNOT_FIXTURE_TRIES; t++) {
		int	rc;

		if ((kf->port = knot_fixture_pick_port(kf->ipv6)) == 0) {
			snprintf(err, errlen, "no free loopback port");
			break;
		}
		if (knot_fixture_write_conf(kf, zones, nzones) < 0) {
			snprintf(err, errlen, "cannot write %s", kf->conf);
			break;
		}
		if ((kf->pid = knot_fixture_spawn(kf, KNOT_FIXTURE_KNOTD, argv,
						  "knotd.log")) < 0) {
			kf->pid = 0;
			snprintf(err, errlen, "fork: %s", strerror(errno));
			break;
		}
		if ((rc = knot_fixture_ready(kf, zones, nzones)) == 0) {
			snprintf(kf->servers, sizeof(kf->servers),
				 "127.0.0.1@%u", kf->port);
			snprintf(kf->servers6, sizeof(kf->servers6),
				 "::1@%u", kf->port);
			return 0;
		}
		if (rc < 0) {
			snprintf(err, errlen, "knotd not ready after %d ms; see %s/knotd.log",
				 KNOT_FIXTURE_START_MS, kf->dir);
			kill(kf->pid, SIGKILL);
			(void)knot_fixture_reap(kf->pid, 3000, &rc);
			kf->pid = 0;
			return -1;		/* keep the directory to read */
		}
		snprintf(err, errlen, "knotd exited at start; see %s/knotd.log",
			 kf->dir);
	}
	return -1;
}

/* knot_fixture_reload - new text for one zone, served when this returns */
int
knot_fixture_reload(struct knot_fixture *kf, const char *zone, const char *text)
{
	char	path[160];
	char	*argv[] = {"knotc", "-c", kf->conf, "-b", "zone-reload",
			   (char *)zone, NULL};
	pid_t	pid;
	int	status;

	if (knot_fixture_zone_path(kf, zone, path, sizeof(path)) < 0
	    || knot_fixture_write(path, text) < 0) {
		fprintf(stderr, "knot_fixture: cannot write %s\n", path);
		return -1;
	}
	if ((pid = knot_fixture_spawn(kf, KNOT_FIXTURE_KNOTC, argv, "knotc.log")) < 0)
		return -1;
	if (!knot_fixture_reap(pid, 10000, &status)) {
		kill(pid, SIGKILL);
		(void)knot_fixture_reap(pid, 1000, &status);
		fprintf(stderr, "knot_fixture: knotc zone-reload hangs\n");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "knot_fixture: knotc zone-reload %s failed; see %s/knotc.log\n",
			zone, kf->dir);
		return -1;
	}
	return 0;
}

/* knot_fixture_stop - stop our knotd by pid and remove its directory */
void
knot_fixture_stop(struct knot_fixture *kf)
{
	const char *keep = getenv("KNOT_FIXTURE_KEEP");
	int	status;

	if (kf->pid > 0) {
		kill(kf->pid, SIGTERM);
		if (!knot_fixture_reap(kf->pid, 3000, &status)) {
			kill(kf->pid, SIGKILL);
			(void)knot_fixture_reap(kf->pid, 3000, &status);
		}
		kf->pid = 0;
	}
	if (kf->dir[0] != '\0' && (keep == NULL || strcmp(keep, "1") != 0))
		(void)nftw(kf->dir, knot_fixture_rm, 16, FTW_DEPTH | FTW_PHYS);
	kf->dir[0] = '\0';
}

/* knot_fixture_txt - zone-file TXT rdata: quoted strings of <= 255 bytes */
char *
knot_fixture_txt(const char *data, size_t len)
{
	/* worst case: every byte as \DDD, plus '"' '"' ' ' per 255 bytes */
	size_t	cap = len * 4 + (len / 255 + 1) * 3 + 1;
	char	*out = xmalloc(cap), *w = out;
	size_t	i = 0;

	do {
		size_t	chunk = len - i > 255 ? 255 : len - i;

		if (w != out)
			*w++ = ' ';
		*w++ = '"';
		for (size_t j = i; j < i + chunk; j++) {
			unsigned char c = (unsigned char)data[j];

			if (c == '"' || c == '\\') {
				*w++ = '\\';
				*w++ = (char)c;
			} else if (c < 0x20 || c > 0x7e) {
				snprintf(w, 5, "\\%03u", c);
				w += 4;
			} else {
				*w++ = (char)c;
			}
		}
		*w++ = '"';
		i += chunk;
	} while (i < len);
	*w = '\0';
	return out;
}
