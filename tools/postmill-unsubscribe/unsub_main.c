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
 *	SIGHUP reloads the configuration (secrets, tenants, Redis, stream;
 *	as run_user, who must be able to read them) without dropping a
 *	request: requests being answered finish with the configuration they
 *	started with (unsub.h). A configuration with problems is not taken:
 *	each problem is logged ("unsubscribe: reload: ...") and the one in
 *	force stays. bounce_unsubscribe_listen and run_user are read at
 *	start only (a change is logged, and needs a restart).
 *	SIGTERM and SIGINT stop it.
 *
 *	It also answers the click and open URLs of tracked mail
 *	(bounce_track_base_url, tenants with "track"): .../c/TOKEN redirects
 *	(302) to the link the signed token carries and records a "clicked"
 *	event on bounce_stream; .../o/TOKEN returns a 1x1 GIF and records
 *	"opened"; a token that does not verify is 404 and redirects nowhere.
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

/* one loaded configuration; ctx first, so a struct unsub_ctx * is one */
struct um_conf {
	struct unsub_ctx ctx;
	struct bounce_state *st;
	void	*values[2];
	struct sockaddr_storage ss;
};

static const struct cfg_section *const um_sections[] = {&cfg_common_section, &bounce_section};

/* um_free - a configuration nobody uses any more */
static void
um_free(struct unsub_ctx *ctx)
{
	struct um_conf *u = (struct um_conf *)ctx;

	if (u == NULL)
		return;
	if (u->st != NULL)
		bounce_state_free(u->st);
	for (int i = 0; i < 2; i++)
		if (u->values[i] != NULL)
			cfg_values_free(um_sections[i], u->values[i]);
	free(u);
}

/* um_load - read the configuration; NULL with every problem in el */
static struct um_conf *
um_load(const char *config, struct errlist *el)
{
	struct um_conf *u = xcalloc(1, sizeof(*u));
	const struct bounce_conf *conf;
	const char *why;

	if (cfg_load(config, um_sections, 2, u->values, el) < 0)
		goto bad;
	conf = u->values[1];
	if (cfg_exporter_parse_listen(conf->unsubscribe_listen, &u->ss, &why) < 0)
		errlist_add_at(el, config, 0, "bounce_unsubscribe_listen = %s: %s",
			       conf->unsubscribe_listen ? conf->unsubscribe_listen : "", why);
	if ((u->st = bounce_state_load(u->values[0], conf, config, el)) == NULL || el->count > 0)
		goto bad;
	u->ctx.ring = u->st->unsub_keys;
	u->ctx.pool = u->st->pool;
	u->ctx.prefix = conf->key_prefix;
	u->ctx.stream = conf->stream;
	u->ctx.maxlen = conf->stream_maxlen;
	u->ctx.track_ring = u->st->track_keys;
	return u;
bad:
	um_free(&u->ctx);
	return NULL;
}

/* um_reload - SIGHUP: a new configuration in force, or the old one kept */
static void
um_reload(struct unsub_live *live, const char *config, const char *listen)
{
	struct errlist el = ERRLIST_INIT;
	struct um_conf *u = um_load(config, &el);
	const struct bounce_conf *conf;

	if (u == NULL) {
		for (size_t i = 0; i < el.count; i++)
			log_msg(LOG_ERR, NULL, "unsubscribe: reload: %s", el.msgs[i]);
		log_msg(LOG_ERR, NULL, "unsubscribe: reload failed (%zu error%s), keeping the "
			"previous configuration", el.count, el.count == 1 ? "" : "s");
		errlist_free(&el);
		return;
	}
	conf = u->values[1];
	if (strcmp(conf->unsubscribe_listen, listen) != 0)
		log_msg(LOG_WARNING, NULL, "unsubscribe: bounce_unsubscribe_listen = %s: still "
			"listening on %s until a restart", conf->unsubscribe_listen, listen);
	log_msg(LOG_INFO, NULL, "unsubscribe: reloaded %s, %zu tenant%s", config,
		u->st->tenants ? u->st->tenants->n : 0,
		u->st->tenants && u->st->tenants->n == 1 ? "" : "s");
	unsub_live_swap(live, &u->ctx);
	errlist_free(&el);
}

int
main(int argc, char **argv)
{
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	struct errlist el = ERRLIST_INIT;
	struct unsub_live live = {PTHREAD_MUTEX_INITIALIZER, NULL, um_free};
	struct um_conf *u = NULL;
	struct MHD_Daemon *d;
	const struct common_conf *common;
	const struct bounce_conf *conf;
	bool	check = false, to_stderr = false;
	char	*listen, *run_user;
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
	if ((u = um_load(config, &el)) == NULL)
		goto bad;
	common = u->values[0];
	conf = u->values[1];
	if (check)
		um_check(common, conf, config, &u->ss, &el);
	if (el.count > 0 || privdrop_lookup(common, config, &uid, &gid, &el) < 0)
		goto bad;
	if (check) {
		printf("postmill-unsubscribe: %s: OK (listen %s, %zu tenant%s, url %s)\n", config,
		       conf->unsubscribe_listen, u->st->tenants ? u->st->tenants->n : 0,
		       u->st->tenants && u->st->tenants->n == 1 ? "" : "s",
		       conf->unsubscribe_url ? conf->unsubscribe_url : "(none)");
		um_free(&u->ctx);
		return 0;
	}
	sfd = milter_stats_open(common, "unsubscribe", uid, gid, &el);
	if (sfd == -2)
		goto bad;
	/* read at start only: what the listener and the user switch used */
	listen = xstrdup(conf->unsubscribe_listen);
	run_user = common->run_user ? xstrdup(common->run_user) : NULL;
	unsub_live_swap(&live, &u->ctx);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
			     | (u->ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, unsub_handler, &live,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&u->ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)UNSUB_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
			     MHD_OPTION_NOTIFY_COMPLETED, unsub_request_done, NULL,
			     MHD_OPTION_END);
	if (d == NULL) {
		log_msg(LOG_ERR, NULL, "unsubscribe: cannot listen on %s: %s",
			listen, strerror(errno));
		return 1;
	}
	if (privdrop_become(run_user, uid, gid, &el) < 0) {
		log_msg(LOG_ERR, NULL, "unsubscribe: %s", el.msgs[0]);
		MHD_stop_daemon(d);
		return 1;
	}
	milter_stats_start(sfd, "unsubscribe");
	log_msg(LOG_INFO, NULL, "unsubscribe: serving on %s, %zu tenant%s", listen,
		u->st->tenants ? u->st->tenants->n : 0,
		u->st->tenants && u->st->tenants->n == 1 ? "" : "s");
	u = NULL;		/* live owns it now */
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			um_reload(&live, config, listen);
	}
	MHD_stop_daemon(d);
	log_msg(LOG_INFO, NULL, "unsubscribe: stopped");
	unsub_live_drop(&live, live.cur);
	free(listen);
	free(run_user);
	errlist_free(&el);
	return 0;
bad:
	errlist_print(&el, stderr);
	fprintf(stderr, "postmill-unsubscribe: %zu error%s in %s\n", el.count,
		el.count == 1 ? "" : "s", config);
	errlist_free(&el);
	if (u != NULL)
		um_free(&u->ctx);
	return 1;
}
