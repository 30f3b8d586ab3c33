/*++
 * NAME
 *	milter_stats 3
 * SUMMARY
 *	what the skeleton counts for every milter, and its stats socket
 * SYNOPSIS
 *	#include "milter_stats.h"
 *
 *	int milter_stats_open(const struct common_conf *c, const char *name,
 *		uid_t uid, gid_t gid, struct errlist *el);
 *	void milter_stats_start(int fd, const char *name);
 *	void milter_stats_wrap(struct smfiDesc *desc);
 *	void milter_stats_reload(bool ok);
 * DESCRIPTION
 *	milter_stats_open() binds stats_dir/NAME.stats as root, before the
 *	privilege drop, with the milter socket's mode and owner (so that
 *	postmill-exporter, running as run_user, may connect); it returns the
 *	listening descriptor, -1 when stats_dir is empty (no stats), or -2
 *	after adding an error. The worker inherits the descriptor and calls
 *	milter_stats_start() to answer on it (stats_serve()).
 *
 *	milter_stats_wrap() puts a timing shim around every callback of
 *	desc, so that each daemon has, without a line in the milter:
 *	postmill_callback_duration_ms{stage}	histogram of each callback
 *	postmill_callback_results_total{stage,result}	continue, reject,
 *		tempfail, accept, discard, skip, noreply
 *	and milter_stats_reload() counts postmill_reloads_total{result}.
 *	The wrapped callbacks are kept in this file's static table: one
 *	milter per process, wrapped once.
 *--*/
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milter_stats.h"
#include "stats.h"

static struct smfiDesc stats_orig;	/* the milter's own callbacks */
static struct stats_family *stats_latency, *stats_results, *stats_reloads;

/* stats_now_ms - monotonic milliseconds, as a double */
static double
stats_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* stats_result_word - a callback's return value as a label */
static const char *
stats_result_word(sfsistat r)
{
	switch (r) {
	case SMFIS_CONTINUE:	return "continue";
	case SMFIS_REJECT:	return "reject";
	case SMFIS_DISCARD:	return "discard";
	case SMFIS_ACCEPT:	return "accept";
	case SMFIS_TEMPFAIL:	return "tempfail";
#ifdef SMFIS_NOREPLY
	case SMFIS_NOREPLY:	return "noreply";
#endif
#ifdef SMFIS_SKIP
	case SMFIS_SKIP:	return "skip";
#endif
	default:		return "other";
	}
}

/* stats_done - record one callback */
static sfsistat
stats_done(const char *stage, double t0, sfsistat r)
{
	char	values[64];

	stats_observe(stats_latency, stage, stats_now_ms() - t0);
	snprintf(values, sizeof(values), "%s,%s", stage, stats_result_word(r));
	stats_inc(stats_results, values);
	return r;
}

/* the shims: time the milter's own callback */
static sfsistat
stats_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	double	t0 = stats_now_ms();

	return stats_done("connect", t0, stats_orig.xxfi_connect(ctx, host, sa));
}

static sfsistat
stats_helo(SMFICTX *ctx, char *helo)
{
	double	t0 = stats_now_ms();

	return stats_done("helo", t0, stats_orig.xxfi_helo(ctx, helo));
}

static sfsistat
stats_envfrom(SMFICTX *ctx, char **argv)
{
	double	t0 = stats_now_ms();

	return stats_done("mail", t0, stats_orig.xxfi_envfrom(ctx, argv));
}

static sfsistat
stats_envrcpt(SMFICTX *ctx, char **argv)
{
	double	t0 = stats_now_ms();

	return stats_done("rcpt", t0, stats_orig.xxfi_envrcpt(ctx, argv));
}

static sfsistat
stats_data(SMFICTX *ctx)
{
	double	t0 = stats_now_ms();

	return stats_done("data", t0, stats_orig.xxfi_data(ctx));
}

static sfsistat
stats_header(SMFICTX *ctx, char *name, char *value)
{
	double	t0 = stats_now_ms();

	return stats_done("header", t0, stats_orig.xxfi_header(ctx, name, value));
}

static sfsistat
stats_eoh(SMFICTX *ctx)
{
	double	t0 = stats_now_ms();

	return stats_done("eoh", t0, stats_orig.xxfi_eoh(ctx));
}

static sfsistat
stats_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	double	t0 = stats_now_ms();

	return stats_done("body", t0, stats_orig.xxfi_body(ctx, chunk, len));
}

static sfsistat
stats_eom(SMFICTX *ctx)
{
	double	t0 = stats_now_ms();

	return stats_done("eom", t0, stats_orig.xxfi_eom(ctx));
}

static sfsistat
stats_abort(SMFICTX *ctx)
{
	double	t0 = stats_now_ms();

	return stats_done("abort", t0, stats_orig.xxfi_abort(ctx));
}

/* milter_stats_wrap - time every callback the milter has; see above */
void
milter_stats_wrap(struct smfiDesc *desc)
{
	static const double bounds[] = STATS_MS_BUCKETS;

	stats_latency = stats_histogram("postmill_callback_duration_ms",
					"Time a milter callback took, by stage.", "stage",
					bounds, STATS_MS_NBUCKETS);
	stats_results = stats_counter("postmill_callback_results_total",
				      "Milter callback results, by stage.", "stage,result");
	stats_reloads = stats_counter("postmill_reloads_total",
				      "Configuration reloads, by result.", "result");
	stats_orig = *desc;
	if (desc->xxfi_connect)
		desc->xxfi_connect = stats_connect;
	if (desc->xxfi_helo)
		desc->xxfi_helo = stats_helo;
	if (desc->xxfi_envfrom)
		desc->xxfi_envfrom = stats_envfrom;
	if (desc->xxfi_envrcpt)
		desc->xxfi_envrcpt = stats_envrcpt;
	if (desc->xxfi_data)
		desc->xxfi_data = stats_data;
	if (desc->xxfi_header)
		desc->xxfi_header = stats_header;
	if (desc->xxfi_eoh)
		desc->xxfi_eoh = stats_eoh;
	if (desc->xxfi_body)
		desc->xxfi_body = stats_body;
	if (desc->xxfi_eom)
		desc->xxfi_eom = stats_eom;
	if (desc->xxfi_abort)
		desc->xxfi_abort = stats_abort;
}

/* milter_stats_reload - count one reload */
void
milter_stats_reload(bool ok)
{
	stats_inc(stats_reloads, ok ? "ok" : "failed");
}

/* milter_stats_open - bind stats_dir/NAME.stats; see above */
int
milter_stats_open(const struct common_conf *c, const char *name, uid_t uid,
		  gid_t gid, struct errlist *el)
{
	struct sockaddr_un sun;
	mode_t	old;
	int	fd;

	if (c->stats_dir == NULL)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.stats",
			     c->stats_dir, name) >= sizeof(sun.sun_path)) {
		errlist_add(el, "stats_dir = %s: too long for a unix socket path", c->stats_dir);
		return -2;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		errlist_add(el, "stats socket: %s", strerror(errno));
		return -2;
	}
	(void)unlink(sun.sun_path);	/* ours from a previous run */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0) {
		umask(old);
		errlist_add(el, "stats_dir = %s: cannot listen on %s: %s", c->stats_dir,
			    sun.sun_path, strerror(errno));
		close(fd);
		return -2;
	}
	umask(old);
	if (chmod(sun.sun_path, (mode_t)c->socket_mode) < 0
	    || ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(sun.sun_path, uid, gid) < 0)) {
		errlist_add(el, "%s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return -2;
	}
	return fd;
}

/* milter_stats_start - answer on the stats socket from now on */
void
milter_stats_start(int fd, const char *name)
{
	if (fd >= 0 && stats_serve(fd, name) < 0)
		log_msg(LOG_WARNING, NULL, "stats: cannot start the stats thread; no counters");
}
