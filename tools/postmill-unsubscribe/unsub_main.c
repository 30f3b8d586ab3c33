/*++
 * NAME
 *	postmill-unsubscribe 8
 * SUMMARY
 *	the RFC 8058 one-click unsubscribe endpoint of postmill-bounce's tenants
 * SYNOPSIS
 *	postmill-unsubscribe [-c config] [-f] [-n] [-h] [-V]
 * DESCRIPTION
 *	postmill-bounce adds List-Unsubscribe: <bounce_unsubscribe_url TOKEN>
 *	and List-Unsubscribe-Post: List-Unsubscribe=One-Click to the mail of
 *	tenants that enable "unsubscribe" in bounce_tenant_table. This
 *	daemon answers those URLs (unsub.h): a POST with the one-click body
 *	suppresses the recipient for the tenant (reason unsubscribed) and
 *	adds an event to bounce_stream; a GET shows a page with a button
 *	and unsubscribes nobody. Tokens are HMAC-signed with a key derived
 *	from bounce_secret_files (the same files, the same rotation) and
 *	expire after bounce_unsubscribe_lifetime.
 *
 *	It speaks plain HTTP on bounce_unsubscribe_listen (keep it on
 *	loopback); the HTTPS of bounce_unsubscribe_url (RFC 8058 requires
 *	https) is a reverse proxy's job. It runs in the foreground, binds,
 *	then becomes run_user (when root); it needs to read the secrets.
 *	Counters go to stats_dir/unsubscribe.stats (postmill-exporter).
 *	SIGTERM and SIGINT stop it.
 *
 *	-f logs to stderr as well as syslog; -n checks the configuration and
 *	what the start needs (run_user exists and is not root, run_group
 *	exists, bounce_unsubscribe_listen can be bound, stats_dir takes the
 *	stats socket, and, when run as root, run_user can read the secrets
 *	and tables: they are loaded again as run_user) and exits; -h usage;
 *	-V version.
 *--*/
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bounce.h"
#include "cfg.h"
#include "cfg_common.h"
#include "cfg_exporter.h"
#include "check.h"
#include "errlist.h"
#include "log.h"
#include "milter_stats.h"
#include "privdrop.h"
#include "unsub.h"
#include "xalloc.h"

#define UNSUB_MAX_CONNECTIONS 64

/* um_usage - to stdout for -h, stderr otherwise */
static void
um_usage(FILE *fp)
{
	fprintf(fp, "usage: postmill-unsubscribe [-c config] [-f] [-n] [-h] [-V]\n"
		"  -c config  configuration file (default " POSTMILL_SYSCONFDIR "/postmill.conf)\n"
		"  -f         log to stderr too\n"
		"  -n         check the configuration and exit\n"
		"  -h         this help\n"
		"  -V         print the version\n"
		"Answers RFC 8058 one-click unsubscribe requests on bounce_unsubscribe_listen\n"
		"(see postmill-unsubscribe(8)).\n");
}

struct um_load {
	const struct common_conf *common;
	const struct bounce_conf *conf;
	const char *config;
};

/* um_load_as_user - load the secrets and tables again (in the -n child) */
static void
um_load_as_user(void *arg, struct errlist *el)
{
	const struct um_load *l = arg;
	struct bounce_state *st = bounce_state_load(l->common, l->conf, l->config, el);

	if (st != NULL)
		bounce_state_free(st);
}

/*
 * um_check - the -n checks besides the configuration: the accounts, the
 * listen address, the stats socket's directory, and the secrets and
 * tables loaded again as run_user (who reads them after the drop)
 */
static void
um_check(const struct common_conf *common, const struct bounce_conf *conf,
	 const char *config, const struct sockaddr_storage *ss, struct errlist *el)
{
	struct um_load l = {common, conf, config};
	size_t before = el->count;

	privdrop_check_ids(common, config, el);
	check_listen(el, config, "bounce_unsubscribe_listen", conf->unsubscribe_listen, ss);
	if (common->stats_dir != NULL) {
		char *probe = xasprintf("%s/unsubscribe.stats", common->stats_dir);

		check_dir_writable(el, config, "stats_dir", common->stats_dir, probe);
		free(probe);
	}
	if (el->count == before)
		privdrop_as_user(common, config, um_load_as_user, &l, el);
}

int
main(int argc, char **argv)
{
	const struct cfg_section *const sections[] = {&cfg_common_section, &bounce_section};
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf", *why;
	struct errlist el = ERRLIST_INIT;
	struct sockaddr_storage ss;
	struct bounce_state *st = NULL;
	struct unsub_ctx ctx;
	struct MHD_Daemon *d;
	const struct common_conf *common;
	const struct bounce_conf *conf;
	void	*values[2] = {NULL, NULL};
	bool	check = false, to_stderr = false;
	sigset_t set;
	uid_t	uid;
	gid_t	gid;
	int	opt, sig, sfd;

	while ((opt = getopt(argc, argv, "c:fnhV")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'f': to_stderr = true; break;
		case 'n': check = true; break;
		case 'h': um_usage(stdout); return 0;
		case 'V': printf("postmill-unsubscribe %s\n", POSTMILL_VERSION); return 0;
		default: um_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		um_usage(stderr);
		return 2;
	}
	log_open("postmill-unsubscribe", to_stderr || check);
	if (cfg_load(config, sections, 2, values, &el) < 0)
		goto bad;
	common = values[0];
	conf = values[1];
	if (cfg_exporter_parse_listen(conf->unsubscribe_listen, &ss, &why) < 0)
		errlist_add_at(&el, config, 0, "bounce_unsubscribe_listen = %s: %s",
			       conf->unsubscribe_listen ? conf->unsubscribe_listen : "", why);
	if ((st = bounce_state_load(common, conf, config, &el)) == NULL || el.count > 0)
		goto bad;
	if (check)
		um_check(common, conf, config, &ss, &el);
	if (el.count > 0 || privdrop_lookup(common, config, &uid, &gid, &el) < 0)
		goto bad;
	if (check) {
		printf("postmill-unsubscribe: %s: OK (listen %s, %zu tenant%s, url %s)\n", config,
		       conf->unsubscribe_listen, st->tenants ? st->tenants->n : 0,
		       st->tenants && st->tenants->n == 1 ? "" : "s",
		       conf->unsubscribe_url ? conf->unsubscribe_url : "(none)");
		return 0;
	}
	sfd = milter_stats_open(common, "unsubscribe", uid, gid, &el);
	if (sfd == -2)
		goto bad;
	ctx.ring = st->unsub_keys;
	ctx.pool = st->pool;
	ctx.prefix = conf->key_prefix;
	ctx.stream = conf->stream;
	ctx.maxlen = conf->stream_maxlen;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
			     | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, unsub_handler, &ctx,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)UNSUB_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
			     MHD_OPTION_NOTIFY_COMPLETED, unsub_request_done, NULL,
			     MHD_OPTION_END);
	if (d == NULL) {
		log_msg(LOG_ERR, NULL, "unsubscribe: cannot listen on %s: %s",
			conf->unsubscribe_listen, strerror(errno));
		return 1;
	}
	if (privdrop_become(common->run_user, uid, gid, &el) < 0) {
		log_msg(LOG_ERR, NULL, "unsubscribe: %s", el.msgs[0]);
		MHD_stop_daemon(d);
		return 1;
	}
	milter_stats_start(sfd, "unsubscribe");
	log_msg(LOG_INFO, NULL, "unsubscribe: serving on %s, %zu tenant%s",
		conf->unsubscribe_listen, st->tenants ? st->tenants->n : 0,
		st->tenants && st->tenants->n == 1 ? "" : "s");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	MHD_stop_daemon(d);
	log_msg(LOG_INFO, NULL, "unsubscribe: stopped");
	bounce_state_free(st);
	for (int i = 0; i < 2; i++)
		cfg_values_free(sections[i], values[i]);
	return 0;
bad:
	errlist_print(&el, stderr);
	fprintf(stderr, "postmill-unsubscribe: %zu error%s in %s\n", el.count,
		el.count == 1 ? "" : "s", config);
	errlist_free(&el);
	if (st != NULL)
		bounce_state_free(st);
	for (int i = 0; i < 2; i++)
		if (values[i] != NULL)
			cfg_values_free(sections[i], values[i]);
	return 1;
}
