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
 *	what the start needs: run_user exists and is not root, run_group
 *	exists, exporter_listen is an address this host can bind, and
 *	run_user (as whom -n runs when started as root) can read stats_dir;
 *	then it exits. -h prints the usage; -V the version.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
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
#include "check.h"
#include "errlist.h"
#include "exporter.h"
#include "log.h"
#include "privdrop.h"
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

/* exporter_check_stats_dir - the directory of the stats sockets opens */
static void
exporter_check_stats_dir(void *arg, struct errlist *el)
{
	const char *const *cp = arg;

	/* not there yet is fine: no daemon runs, every postmill_up is 0 */
	check_readable(el, cp[0], "stats_dir", cp[1], true);
}

/*
 * exporter_check - the -n checks besides the configuration: the accounts,
 * the listen address, and stats_dir as run_user (who scrapes it)
 */
static void
exporter_check(const struct exporter *ex, const char *config,
	       const struct sockaddr_storage *ss, struct errlist *el)
{
	const char *args[2] = {config, ex->common->stats_dir};
	size_t before = el->count;

	privdrop_check_ids(ex->common, config, el);
	check_listen(el, config, "exporter_listen", ex->conf->listen, ss);
	if (ex->common->stats_dir == NULL)
		return;
	if (getuid() == 0 && ex->common->run_user != NULL) {
		if (el->count == before)
			privdrop_as_user(ex->common, config, exporter_check_stats_dir,
					 args, el);
	} else
		exporter_check_stats_dir(args, el);
}

int
main(int argc, char **argv)
{
	const struct cfg_section *const sections[] = {&cfg_common_section, &cfg_exporter_section};
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	struct errlist el = ERRLIST_INIT;
	struct sockaddr_storage ss;
	struct exporter ex;
	struct MHD_Daemon *d;
	void	*values[2] = {NULL, NULL};
	bool	check = false;
	int	rc = 0;
	const char *why;
	sigset_t set;
	uid_t	uid;
	gid_t	gid;
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
	(void)cfg_exporter_parse_listen(ex.conf->listen, &ss, &why);	/* validated */
	if (check)
		exporter_check(&ex, config, &ss, &el);
	if (el.count > 0 || privdrop_lookup(ex.common, config, &uid, &gid, &el) < 0) {
		errlist_print(&el, stderr);
		fprintf(stderr, "postmill-exporter: %zu error%s in %s\n", el.count,
			el.count == 1 ? "" : "s", config);
		errlist_free(&el);
		rc = 1;
		goto done;
	}
	if (check) {
		printf("postmill-exporter: %s: OK (listen %s, stats_dir %s)\n", config,
		       ex.conf->listen, ex.common->stats_dir ? ex.common->stats_dir : "(none)");
		goto done;	/* everything freed: -n runs under LeakSanitizer too */
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
	if (privdrop_become(ex.common->run_user, uid, gid, &el) < 0) {
		log_msg(LOG_ERR, NULL, "exporter: %s", el.msgs[0]);
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
done:
	for (int i = 0; i < 2; i++)
		cfg_values_free(sections[i], values[i]);
	return rc;
}
