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
 *	It also answers the click and open URLs of tracked mail
 *	(bounce_track_base_url, tenants with "track"): .../c/TOKEN redirects
 *	(302) to the link the signed token carries and records a "clicked"
 *	event on bounce_stream; .../o/TOKEN returns a 1x1 GIF and records
 *	"opened"; a token that does not verify is 404 and redirects nowhere.
 *
 *	-f logs to stderr as well as syslog; -n checks the configuration and
 *	exits; -h usage; -V version.
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
#include <unistd.h>

#include <microhttpd.h>

#include "bounce.h"
#include "cfg.h"
#include "cfg_common.h"
#include "cfg_exporter.h"
#include "errlist.h"
#include "log.h"
#include "milter_stats.h"
#include "unsub.h"

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

/* um_drop - become run_user/run_group when root */
static int
um_drop(const struct common_conf *c, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr = NULL;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (getuid() != 0 || c->run_user == NULL)
		return 0;
	if ((pw = getpwnam(c->run_user)) == NULL || pw->pw_uid == 0) {
		log_msg(LOG_ERR, NULL, "unsubscribe: run_user = %s: no such user, or root",
			c->run_user);
		return -1;
	}
	if (c->run_group != NULL && (gr = getgrnam(c->run_group)) == NULL) {
		log_msg(LOG_ERR, NULL, "unsubscribe: run_group = %s: no such group", c->run_group);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = gr ? gr->gr_gid : pw->pw_gid;
	return 0;
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
	if (exporter_parse_listen(conf->unsubscribe_listen, &ss, &why) < 0)
		errlist_add_at(&el, config, 0, "bounce_unsubscribe_listen = %s: %s",
			       conf->unsubscribe_listen ? conf->unsubscribe_listen : "", why);
	if ((st = bounce_state_load(common, conf, config, &el)) == NULL || el.count > 0)
		goto bad;
	if (check) {
		printf("postmill-unsubscribe: %s: OK (listen %s, %zu tenant%s, url %s)\n", config,
		       conf->unsubscribe_listen, st->tenants ? st->tenants->n : 0,
		       st->tenants && st->tenants->n == 1 ? "" : "s",
		       conf->unsubscribe_url ? conf->unsubscribe_url : "(none)");
		return 0;
	}
	if (um_drop(common, &uid, &gid) < 0)
		return 1;
	sfd = milter_stats_open(common, "unsubscribe", uid, gid, &el);
	if (sfd == -2)
		goto bad;
	ctx.ring = st->unsub_keys;
	ctx.pool = st->pool;
	ctx.prefix = conf->key_prefix;
	ctx.stream = conf->stream;
	ctx.maxlen = conf->stream_maxlen;
	ctx.track_ring = st->track_keys;
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
	if (uid != (uid_t)-1 && (initgroups(common->run_user, gid) < 0 || setgid(gid) < 0
				 || setuid(uid) < 0 || setuid(0) == 0)) {
		log_msg(LOG_ERR, NULL, "unsubscribe: cannot become %s: %s", common->run_user,
			strerror(errno));
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
