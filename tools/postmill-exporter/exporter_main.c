/*++
 * NAME
 *	postmill-exporter 8
 * SUMMARY
 *	serve every postmill daemon's counters at one /metrics URL
 * SYNOPSIS
 *	postmill-exporter [-c config] [-n] [-h] [-V]
 * DESCRIPTION
 *	The milters keep HTTP out of their processes: each answers on a unix
 *	socket, stats_dir/NAME.stats, with its counters in the Prometheus
 *	text format and nothing else (common/stats.c). postmill-exporter is
 *	the one HTTP server: GET /metrics reads every stats socket, merges
 *	the families, and adds postmill_up{daemon} (1 answered, 0 not) and
 *	postmill_exporter_scrape_duration_ms. Any other path is 404, any
 *	other method 405; requests carry nothing the exporter reads.
 *
 *	It runs in the foreground (systemd's Type=simple), binds
 *	exporter_listen, then becomes run_user (when started as root) and
 *	serves with libmicrohttpd's internal thread, at most
 *	EXPORTER_MAX_CONNECTIONS connections, each dropped after 10 s idle.
 *	SIGTERM and SIGINT stop it.
 *
 *	-n checks the configuration (every error with file and line) and
 *	exits; -h prints the usage; -V the version.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cfg.h"
#include "cfg_common.h"
#include "cfg_exporter.h"
#include "errlist.h"
#include "exporter.h"
#include "log.h"
#include "xalloc.h"

#define EXPORTER_MAX_CONNECTIONS 16

struct exporter {
	const struct common_conf *common;
	const struct exporter_conf *conf;
};

/* exporter_usage - to stdout for -h, stderr otherwise */
static void
exporter_usage(FILE *fp)
{
	fprintf(fp, "usage: postmill-exporter [-c config] [-n] [-h] [-V]\n"
		"  -c config  configuration file (default " POSTMILL_SYSCONFDIR "/postmill.conf)\n"
		"  -n         check the configuration and exit\n"
		"  -h         this help\n"
		"  -V         print the version\n"
		"Serves GET /metrics on exporter_listen: the counters of every daemon\n"
		"with a stats socket in stats_dir (see postmill-exporter(8)).\n");
}

/* exporter_now_ms - monotonic milliseconds */
static long long
exporter_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* exporter_reply - a response with text (copied by libmicrohttpd) */
static enum MHD_Result
exporter_reply(struct MHD_Connection *conn, unsigned status, const char *text,
	       size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(r, "Content-Type",
				      status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
				      : "text/plain; charset=utf-8");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* exporter_handle - GET /metrics, and nothing else */
static enum MHD_Result
exporter_handle(void *cls, struct MHD_Connection *conn, const char *url,
		const char *method, const char *version, const char *upload_data,
		size_t *upload_data_size, void **req)
{
	const struct exporter *ex = cls;
	static const char not_found[] = "not found: try /metrics\n";
	static const char not_allowed[] = "method not allowed\n";
	long long t0 = exporter_now_ms();
	enum MHD_Result rc;
	char	*text, tail[256];
	size_t	len;
	int	tl;

	(void)version;
	(void)upload_data;
	if (*req == NULL) {		/* first call: headers only */
		*req = (void *)1;
		return MHD_YES;
	}
	*upload_data_size = 0;		/* a body is never read */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return exporter_reply(conn, 405, not_allowed, sizeof(not_allowed) - 1);
	if (strcmp(url, "/metrics") != 0)
		return exporter_reply(conn, 404, not_found, sizeof(not_found) - 1);
	text = exporter_scrape(ex->common->stats_dir ? ex->common->stats_dir : "",
			       (long)ex->conf->scrape_timeout, &len);
	tl = snprintf(tail, sizeof(tail),
		      "# HELP postmill_exporter_scrape_duration_ms Time this scrape took to read every stats socket.\n"
		      "# TYPE postmill_exporter_scrape_duration_ms gauge\n"
		      "postmill_exporter_scrape_duration_ms %lld\n", exporter_now_ms() - t0);
	text = xrealloc(text, len + (size_t)tl + 1);
	memcpy(text + len, tail, (size_t)tl + 1);
	len += (size_t)tl;
	rc = exporter_reply(conn, 200, text, len);
	free(text);
	return rc;
}

/* exporter_drop - become run_user/run_group when root */
static int
exporter_drop(const struct common_conf *c)
{
	struct passwd *pw;
	struct group *gr = NULL;
	gid_t	gid;

	if (getuid() != 0 || c->run_user == NULL)
		return 0;
	if ((pw = getpwnam(c->run_user)) == NULL) {
		log_msg(LOG_ERR, NULL, "exporter: run_user = %s: no such user", c->run_user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_msg(LOG_ERR, NULL, "exporter: run_user = %s: running as root is refused", c->run_user);
		return -1;
	}
	if (c->run_group != NULL && (gr = getgrnam(c->run_group)) == NULL) {
		log_msg(LOG_ERR, NULL, "exporter: run_group = %s: no such group", c->run_group);
		return -1;
	}
	gid = gr ? gr->gr_gid : pw->pw_gid;
	if (initgroups(c->run_user, gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0
	    || setuid(0) == 0) {
		log_msg(LOG_ERR, NULL, "exporter: cannot become %s: %s", c->run_user, strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct cfg_section *const sections[] = {&cfg_common_section, &exporter_section};
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	struct errlist el = ERRLIST_INIT;
	struct sockaddr_storage ss;
	struct exporter ex;
	struct MHD_Daemon *d;
	void	*values[2] = {NULL, NULL};
	bool	check = false;
	const char *why;
	sigset_t set;
	int	opt, sig;

	log_open("postmill-exporter", false);
	while ((opt = getopt(argc, argv, "c:nhV")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'n': check = true; break;
		case 'h': exporter_usage(stdout); return 0;
		case 'V': printf("postmill-exporter %s\n", POSTMILL_VERSION); return 0;
		default: exporter_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		exporter_usage(stderr);
		return 2;
	}
	if (cfg_load(config, sections, 2, values, &el) < 0) {
		errlist_print(&el, stderr);
		fprintf(stderr, "postmill-exporter: %zu error%s in %s\n", el.count,
			el.count == 1 ? "" : "s", config);
		errlist_free(&el);
		return 1;
	}
	ex.common = values[0];
	ex.conf = values[1];
	(void)exporter_parse_listen(ex.conf->listen, &ss, &why);	/* validated */
	if (check) {
		printf("postmill-exporter: %s: OK (listen %s, stats_dir %s)\n", config,
		       ex.conf->listen, ex.common->stats_dir ? ex.common->stats_dir : "(none)");
		return 0;
	}
	/* signals first: libmicrohttpd's thread must not take TERM */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
			     | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, exporter_handle, &ex,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)EXPORTER_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_END);
	if (d == NULL) {
		log_msg(LOG_ERR, NULL, "exporter: cannot listen on %s: %s", ex.conf->listen,
			strerror(errno));
		return 1;
	}
	if (exporter_drop(ex.common) < 0) {
		MHD_stop_daemon(d);
		return 1;
	}
	log_msg(LOG_INFO, NULL, "exporter: serving /metrics on %s from %s", ex.conf->listen,
		ex.common->stats_dir ? ex.common->stats_dir : "(no stats_dir)");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	MHD_stop_daemon(d);
	log_msg(LOG_INFO, NULL, "exporter: stopped");
	for (int i = 0; i < 2; i++)
		cfg_values_free(sections[i], values[i]);
	return 0;
}
