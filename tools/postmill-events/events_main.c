/*++
 * NAME
 *	postmill-events 8
 * SUMMARY
 *	what happened to every tagged message, as events per recipient
 * SYNOPSIS
 *	postmill-events [-c config] [-f] [-n] [-h] [-V]
 * DESCRIPTION
 *	Follows Postfix's mail log (events_maillog), joins each line with
 *	what postmill-bounce recorded about the message (its VERP tag names
 *	a record with the sender, the queue id and the recipients) and with
 *	the bounces and complaints postmill-bounce wrote to its stream, and
 *	writes one event per recipient and state change to a Redis stream
 *	(events.h): accepted, delivered, deferred (each try), bounced,
 *	complained, suppressed.
 *
 *	Lines are read in batches of events_batch_lines; the events of a
 *	batch and the new read position are committed in one Lua script
 *	(events_store.c), so a restart continues where the last commit
 *	ended: nothing is lost, and a line read twice gives the same event
 *	ids. While Redis is down nothing is committed and the batch is read
 *	again when it is back.
 *
 *	-f logs to stderr too; -n checks the configuration, that the user
 *	running it can read events_maillog (or, before Postfix wrote it,
 *	that its directory exists) and create the stats socket in
 *	stats_dir, and the webhook secrets' modes, then exits; -h
 *	prints the usage; -V the version. SIGTERM and SIGINT stop it after
 *	the batch in progress is committed.
 *--*/
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cfg.h"
#include "cfg_common.h"
#include "cfg_events.h"
#include "check.h"
#include "errlist.h"
#include "events.h"
#include "events_webhook.h"
#include "log.h"
#include "milter_stats.h"
#include "redis_common.h"
#include "stats.h"
#include "xalloc.h"

#define EVENTS_BOUNCE_BATCH	256

static volatile sig_atomic_t em_stop;

static struct stats_family *em_lines, *em_parse_errors, *em_emitted, *em_commits,
	*em_redis_errors;

/* em_usage - to stdout for -h, stderr otherwise */
static void
em_usage(FILE *fp)
{
	fprintf(fp, "usage: postmill-events [-c config] [-f] [-n] [-h] [-V]\n"
		"  -c config  configuration file (default " POSTMILL_SYSCONFDIR "/postmill.conf)\n"
		"  -f         log to stderr too\n"
		"  -n         check the configuration and exit\n"
		"  -h         this help\n"
		"  -V         print the version\n"
		"Follows events_maillog and writes delivery events to Redis (see postmill-events(8)).\n");
}

/* em_signal - stop after the batch in progress */
static void
em_signal(int sig)
{
	(void)sig;
	em_stop = 1;
}

/* em_sleep_ms - nanosleep, cut short by a signal */
static void
em_sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* em_stats_init - the counters */
static void
em_stats_init(void)
{
	em_lines = stats_counter("postmill_events_log_lines_total",
				 "Mail log lines read.", "");
	em_parse_errors = stats_counter("postmill_events_parse_errors_total",
					"Mail log lines that looked like delivery lines but broke their grammar.", "");
	em_emitted = stats_counter("postmill_events_emitted_total",
				   "Events written to the stream, by type.", "type");
	em_commits = stats_counter("postmill_events_commits_total",
				   "Batches committed to Redis.", "");
	em_redis_errors = stats_counter("postmill_events_redis_errors_total",
					"Batches thrown away because Redis failed (they are read again).", "");
}

/* em_count - count a committed batch's events */
static void
em_count(const struct events_batch *b)
{
	for (size_t i = 0; i < b->nev; i++)
		stats_inc(em_emitted, events_ev_get(&b->ev[i], "type"));
	stats_inc(em_commits, "");
	events_metrics_count(b);
}

/* em_run - the loop; returns at a signal */
static void
em_run(struct redis_pool *pool, const struct events_conf *c)
{
	struct events_follow f;
	struct events_batch b;
	struct events_join j;
	struct events_pos committed, at, lost;
	char	 bpos[64];
	const char *err, *line;
	size_t	 len;
	bool	 down = false, unreadable = false;

	events_batch_init(&b);
	memset(&j, 0, sizeof(j));
	j.pool = pool;
	j.conf = c;
	j.batch = &b;
	while (events_store_load_pos(pool, c->key_prefix, &committed, bpos, sizeof(bpos),
				     &err) < 0) {
		if (em_stop)
			return;
		log_msg(LOG_WARNING, NULL, "events: redis %s: %s; retrying",
			redis_pool_server(pool), err);
		em_sleep_ms(1000);
	}
	log_msg(LOG_INFO, NULL, "events: following %s from inode %llu offset %lld",
		c->maillog, committed.ino, committed.off);
	events_follow_init(&f, c->maillog);
	f.pos = committed;
	while (!em_stop) {
		long long n = 0;
		int	 r = 0, nb;
		bool	 failed = false;

		while (n < c->batch_lines
		       && (r = events_follow_next(&f, &line, &len, &at)) == 1) {
			n++;
			if (events_join_line(&j, line, len, &at, &err) < 0) {
				failed = true;
				break;
			}
		}
		if (events_follow_lost(&f, &lost))
			log_msg(LOG_WARNING, NULL, "events: %s: the file of the saved position "
				"(inode %llu, offset %lld) is not beside it any more (removed, "
				"or compressed other than with gzip, by a rotation while "
				"postmill-events was not running): "
				"its unread lines are lost; reading the new file from 0",
				c->maillog, lost.ino, lost.off);
		if (r < 0 && !unreadable)
			log_msg(LOG_WARNING, NULL, "events: %s: %s", c->maillog, strerror(errno));
		unreadable = r < 0;
		nb = failed ? -1 : events_join_bounces(&j, bpos, EVENTS_BOUNCE_BATCH, &err);
		if (nb < 0 || (n > 0 || b.nev > 0 || b.bpos[0] != '\0'
			       ? events_store_commit(pool, c, &b, &f.pos, &err) < 0 : 0)) {
			/* nothing of this batch is in Redis: read it again */
			if (!down)
				log_msg(LOG_WARNING, NULL, "events: redis %s: %s; the batch "
					"will be read again", redis_pool_server(pool), err);
			down = true;
			stats_inc(em_redis_errors, "");
			events_batch_reset(&b);
			events_follow_close(&f);
			events_follow_init(&f, c->maillog);
			f.pos = committed;
			em_sleep_ms(c->poll_interval > 1000 ? c->poll_interval : 1000);
			continue;
		}
		if (down)
			log_msg(LOG_INFO, NULL, "events: redis %s is back", redis_pool_server(pool));
		down = false;
		stats_add(em_lines, "", n);
		if (j.parse_errors) {
			stats_add(em_parse_errors, "", (long long)j.parse_errors);
			j.parse_errors = 0;
		}
		if (n > 0 || b.nev > 0 || b.bpos[0] != '\0')
			em_count(&b);
		committed = f.pos;
		if (b.bpos[0] != '\0')
			snprintf(bpos, sizeof(bpos), "%s", b.bpos);
		events_batch_reset(&b);
		if (n < c->batch_lines && nb < EVENTS_BOUNCE_BATCH)
			em_sleep_ms(c->poll_interval);
	}
	events_follow_close(&f);
	events_batch_reset(&b);		/* LeakSanitizer checks the exit */
	free(b.ev);
	free(b.q);
	log_msg(LOG_INFO, NULL, "events: stopped at inode %llu offset %lld", committed.ino,
		committed.off);
}

int
main(int argc, char **argv)
{
	const struct cfg_section *const sections[] = {&cfg_common_section, &cfg_events_section};
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	struct errlist el = ERRLIST_INIT;
	struct events_wh_table table = {NULL, 0};
	struct events_wh_ctx whx;
	struct redis_pool *pool = NULL;
	struct sigaction sa;
	pthread_t wh_thread;
	const struct events_conf *ec;
	void	*values[2] = {NULL, NULL};
	bool	 check = false, fg = false;
	int	 rc = 0;
	int	 opt, sfd;

	while ((opt = getopt(argc, argv, "c:fnhV")) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'f': fg = true; break;
		case 'n': check = true; break;
		case 'h': em_usage(stdout); return 0;
		case 'V': printf("postmill-events %s\n", POSTMILL_VERSION); return 0;
		default: em_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		em_usage(stderr);
		return 2;
	}
	log_open("postmill-events", fg);
	if (cfg_load(config, sections, 2, values, &el) < 0
	    || (pool = redis_common_pool(values[0], config, &el)) == NULL) {
		errlist_print(&el, stderr);
		fprintf(stderr, "postmill-events: %zu error%s in %s\n", el.count,
			el.count == 1 ? "" : "s", config);
		errlist_free(&el);
		rc = 1;
		goto done;
	}
	ec = values[1];
	if (ec->webhook_table != NULL && events_wh_load(ec->webhook_table, &table, &el) < 0) {
		errlist_print(&el, stderr);
		fprintf(stderr, "postmill-events: %zu error%s in %s\n", el.count,
			el.count == 1 ? "" : "s", ec->webhook_table);
		errlist_free(&el);
		rc = 1;
		goto done;
	}
	if (check) {
		/* as the user that will run it: postmill-events switches no users */
		check_readable(&el, config, "events_maillog", ec->maillog, true);
		if (((struct common_conf *)values[0])->stats_dir != NULL) {
			const char *dir = ((struct common_conf *)values[0])->stats_dir;
			char *probe = xasprintf("%s/events.stats", dir);

			check_dir_writable(&el, config, "stats_dir", dir, probe);
			free(probe);
		}
		if (el.count > 0) {
			errlist_print(&el, stderr);
			fprintf(stderr, "postmill-events: %zu error%s in %s\n", el.count,
				el.count == 1 ? "" : "s", config);
			errlist_free(&el);
			rc = 1;
		} else {
			printf("postmill-events: %s: OK (maillog %s, redis %s, %zu webhook%s)\n",
			       config, ec->maillog, redis_pool_server(pool), table.n,
			       table.n == 1 ? "" : "s");
		}
		goto done;	/* everything freed: -n runs under LeakSanitizer too */
	}
	log_set_debug((int)((struct common_conf *)values[0])->debug_level);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = em_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	em_stats_init();
	events_metrics_init(ec->metrics_tenants);
	sfd = milter_stats_open(values[0], "events", (uid_t)-1, (gid_t)-1, &el);
	if (sfd == -2) {
		errlist_print(&el, stderr);
		return 1;
	}
	milter_stats_start(sfd, "events");
	if (table.n > 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		whx.pool = pool;
		whx.conf = ec;
		whx.table = &table;
		whx.stop = (volatile int *)&em_stop;
		if (pthread_create(&wh_thread, NULL, events_wh_run, &whx) != 0) {
			log_msg(LOG_ERR, NULL, "events: cannot start the webhook thread");
			return 1;
		}
		log_msg(LOG_INFO, NULL, "events: %zu webhook%s from %s", table.n,
			table.n == 1 ? "" : "s", ec->webhook_table);
	}
	em_run(pool, values[1]);
	if (table.n > 0) {
		pthread_join(wh_thread, NULL);
		curl_global_cleanup();
	}
done:
	events_wh_table_free(&table);
	redis_pool_free(pool);
	for (int i = 0; i < 2; i++)
		cfg_values_free(sections[i], values[i]);
	return rc;
}
