/*++
 * NAME
 *	exporter_scrape 3
 * SUMMARY
 *	read every daemon's stats socket and make one /metrics page
 * SYNOPSIS
 *	#include "exporter.h"
 *
 *	char *exporter_scrape(const char *stats_dir, long timeout_ms,
 *		size_t *len);
 * DESCRIPTION
 *	Every NAME.stats unix socket in stats_dir is one daemon (NAME: dkim,
 *	auth, limit, bounce, ...). Each is connected to and read to its end
 *	within timeout_ms, at most EXPORTER_MAX_TEXT bytes; the texts are
 *	merged with stats_merge(), and postmill_up{daemon="NAME"} says
 *	which daemons answered (1) and which did not (0): a socket that is
 *	there but refuses, stalls or overflows is a daemon that is down or
 *	sick, which is what an alert wants to know. At most
 *	EXPORTER_MAX_DAEMONS sockets are read.
 *--*/
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "stats_merge.h"
#include "xalloc.h"

/* scrape_now_ms - monotonic milliseconds */
static long long
scrape_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* scrape_one - the whole text of one stats socket by the deadline, or NULL */
static char *
scrape_one(const char *path, long timeout_ms, size_t *len)
{
	long long deadline = scrape_now_ms() + timeout_ms;
	struct sockaddr_un sun;
	size_t	size = 65536, got = 0;
	char	*buf;
	int	fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return NULL;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return NULL;
	/* a unix connect does not block: it succeeds, or the backlog is full */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return NULL;
	}
	buf = xmalloc(size);
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - scrape_now_ms();
		ssize_t	n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;			/* stalled: a sick daemon */
		n = read(fd, buf + got, size - got - 1);
		if (n == 0) {
			close(fd);
			buf[got] = '\0';
			*len = got;
			return buf;		/* the daemon closed: complete */
		}
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
		if (got + 1 == size) {
			if (size >= EXPORTER_MAX_TEXT)
				break;		/* more than any daemon writes */
			size *= 2;
			buf = xrealloc(buf, size);
		}
	}
	close(fd);
	free(buf);
	return NULL;
}

/* scrape_cmp - sort daemon names */
static int
scrape_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* exporter_scrape - see above */
char *
exporter_scrape(const char *stats_dir, long timeout_ms, size_t *len)
{
	char	*names[EXPORTER_MAX_DAEMONS], *texts[EXPORTER_MAX_DAEMONS + 1];
	size_t	 lens[EXPORTER_MAX_DAEMONS + 1], n = 0, ntexts = 0, uplen = 0, upsize = 256;
	char	*up = xmalloc(upsize), *out;
	struct dirent *de;
	DIR	*d;

	if ((d = opendir(stats_dir)) != NULL) {
		while ((de = readdir(d)) != NULL && n < EXPORTER_MAX_DAEMONS) {
			size_t	l = strlen(de->d_name);

			/* the name becomes a label value: plain words only */
			if (l > 6 && l < 64 && strcmp(de->d_name + l - 6, ".stats") == 0
			    && strspn(de->d_name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == l - 6)
				names[n++] = xstrndup(de->d_name, l - 6);
		}
		closedir(d);
	}
	qsort(names, n, sizeof(names[0]), scrape_cmp);
	up[0] = '\0';
	uplen = (size_t)snprintf(up, upsize, "# HELP postmill_up Whether a daemon answered on its stats socket at this scrape.\n"
				 "# TYPE postmill_up gauge\n");
	for (size_t i = 0; i < n; i++) {
		char	path[4096], line[256];
		size_t	tl = 0;
		char	*t;
		int	ll;

		snprintf(path, sizeof(path), "%s/%s.stats", stats_dir, names[i]);
		t = scrape_one(path, timeout_ms, &tl);
		if (t != NULL) {
			texts[ntexts] = t;
			lens[ntexts++] = tl;
		}
		ll = snprintf(line, sizeof(line), "postmill_up{daemon=\"%s\"} %d\n",
			      names[i], t != NULL);
		if (ll > 0 && (size_t)ll < sizeof(line)) {
			if (uplen + (size_t)ll + 1 > upsize) {
				upsize = (uplen + (size_t)ll + 1) * 2;
				up = xrealloc(up, upsize);
			}
			memcpy(up + uplen, line, (size_t)ll + 1);
			uplen += (size_t)ll;
		}
		free(names[i]);
	}
	texts[ntexts] = up;
	lens[ntexts++] = uplen;
	out = stats_merge((const char *const *)texts, lens, ntexts, len);
	for (size_t i = 0; i < ntexts; i++)
		free(texts[i]);
	return out;
}
