/*++
 * NAME
 *	ctl_events 3
 * SUMMARY
 *	postmillctl events tail, postmillctl stats: postmill-events' stream
 * DESCRIPTION
 *	"events tail [--tenant T] [--count N] [--follow]" prints the last N
 *	events (default 20; of tenant T only), oldest first, one line each:
 *	TIME TYPE TENANT RECIPIENT key=value...; --follow then polls for
 *	new ones until interrupted. At most 100 * N entries are scanned
 *	back for a tenant's N.
 *	"stats [--tenant T] [--since 24h]" counts the events of the period:
 *	sent (accepted), delivered, deferred, bounced (hard, soft),
 *	complained, unsubscribed, opened, clicked, suppressed, with rates per
 *	message sent. The stream is
 *	read in pages of 1000 from the period's first id (ms-0), so memory
 *	does not grow with the stream.
 *--*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_common.h"
#include "cfg_events.h"
#include "ctl.h"
#include "redis_common.h"
#include "xalloc.h"

struct ce {
	void	**values;
	const struct events_conf *conf;
	struct redis_pool *pool;
	char	*stream;
};

/* ce_open - configuration and pool; 0 or -1 (printed) */
static int
ce_open(const char *config_path, struct ce *c)
{
	struct errlist el = ERRLIST_INIT;

	memset(c, 0, sizeof(*c));
	if ((c->values = ctl_load(config_path)) == NULL)
		return -1;
	c->conf = ctl_values(c->values, &cfg_events_section);
	c->pool = redis_common_pool(ctl_values(c->values, &cfg_common_section), config_path, &el);
	if (c->pool == NULL) {
		errlist_print(&el, stderr);
		errlist_free(&el);
		ctl_unload(c->values);
		return -1;
	}
	c->stream = redis_key(c->conf->key_prefix, "ev", ":stream");
	return 0;
}

/* ce_close - release */
static void
ce_close(struct ce *c)
{
	free(c->stream);
	redis_pool_free(c->pool);
	ctl_unload(c->values);
}

/* ce_field - a field of an entry's field/value array */
static const char *
ce_field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2)
		if (kv->element[i]->type == REDIS_REPLY_STRING
		    && strcmp(kv->element[i]->str, name) == 0
		    && kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1]->str;
	return "";
}

/* ce_ok_entry - a well-formed stream entry */
static int
ce_ok_entry(const redisReply *e)
{
	return e->type == REDIS_REPLY_ARRAY && e->elements == 2
	    && e->element[0]->type == REDIS_REPLY_STRING
	    && e->element[1]->type == REDIS_REPLY_ARRAY;
}

/* ce_print - one event, one line */
static void
ce_print(const redisReply *kv)
{
	static const char *const extra[] = {"sender", "queue_id", "message_id", "dsn", "class",
					    "reason", "relay", "url", "source", "id", NULL};
	time_t	t = (time_t)atoll(ce_field(kv, "time"));
	struct tm tm;
	char	when[32];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s %-10s %s %s", when, ce_field(kv, "type"), ce_field(kv, "tenant"),
	       ce_field(kv, "recipient"));
	for (int i = 0; extra[i] != NULL; i++)
		if (ce_field(kv, extra[i])[0] != '\0')
			printf(" %s=%s", extra[i], ce_field(kv, extra[i]));
	putchar('\n');
}

/* ce_match - the tenant filter */
static int
ce_match(const redisReply *kv, const char *tenant)
{
	return tenant == NULL || strcasecmp(ce_field(kv, "tenant"), tenant) == 0;
}

/* ce_tail - events tail */
static int
ce_tail(struct ce *c, const char *tenant, long count, int follow)
{
	const char *err;
	redisReply *r;
	char	 last[64] = "0-0";
	long	 scan = tenant ? 100 * count : count, n = 0;
	size_t	 first;

	r = redis_command(c->pool, &err, "XREVRANGE %s + - COUNT %ld", c->stream, scan);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
		if (r)
			freeReplyObject(r);
		return 1;
	}
	/* the newest N that match, printed oldest first */
	for (first = 0; first < r->elements && n < count; first++)
		if (ce_ok_entry(r->element[first]) && ce_match(r->element[first]->element[1], tenant))
			n++;
	for (size_t i = first; i-- > 0;)
		if (ce_ok_entry(r->element[i]) && ce_match(r->element[i]->element[1], tenant))
			ce_print(r->element[i]->element[1]);
	if (r->elements > 0 && ce_ok_entry(r->element[0]))
		snprintf(last, sizeof(last), "%s", r->element[0]->element[0]->str);
	freeReplyObject(r);
	fflush(stdout);
	while (follow) {
		r = redis_command(c->pool, &err, "XRANGE %s (%s + COUNT 1000", c->stream, last);
		if (r != NULL && r->type == REDIS_REPLY_ARRAY) {
			for (size_t i = 0; i < r->elements; i++) {
				if (!ce_ok_entry(r->element[i]))
					continue;
				if (ce_match(r->element[i]->element[1], tenant))
					ce_print(r->element[i]->element[1]);
				snprintf(last, sizeof(last), "%s", r->element[i]->element[0]->str);
			}
			fflush(stdout);
		}
		if (r != NULL)
			freeReplyObject(r);
		usleep(500000);
	}
	return 0;
}

/* ce_stats - counts and rates of a period */
static int
ce_stats(struct ce *c, const char *tenant, long long since_ms)
{
	enum { CE_SENT, CE_DELIVERED, CE_DEFERRED, CE_BOUNCED, CE_COMPLAINED,
	       CE_SUPPRESSED, CE_UNSUBSCRIBED, CE_OPENED, CE_CLICKED, CE_NTYPES };
	/* the type= words of the event stream (postmill-events(8)) */
	static const struct name_code types[] = {
		{"accepted", CE_SENT},
		{"delivered", CE_DELIVERED},
		{"deferred", CE_DEFERRED},
		{"bounced", CE_BOUNCED},
		{"complained", CE_COMPLAINED},
		{"suppressed", CE_SUPPRESSED},
		{"unsubscribed", CE_UNSUBSCRIBED},
		{"opened", CE_OPENED},
		{"clicked", CE_CLICKED},
		{NULL, -1},
	};
	long long cnt[CE_NTYPES] = {0}, hard = 0, soft = 0;
	struct timespec ts;
	char	 start[64];
	const char *err;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(start, sizeof(start), "%lld-0",
		 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - since_ms);
	for (;;) {
		redisReply *r = redis_command(c->pool, &err, "XRANGE %s %s + COUNT 1000",
					      c->stream, start);
		size_t	 n;

		if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
			if (r)
				freeReplyObject(r);
			return 1;
		}
		n = r->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *kv;

			if (!ce_ok_entry(r->element[i]))
				continue;
			kv = r->element[i]->element[1];
			snprintf(start, sizeof(start), "(%s", r->element[i]->element[0]->str);
			if (!ce_match(kv, tenant))
				continue;
			int t = name_code(types, NAME_CODE_FLAG_NONE, ce_field(kv, "type"));

			if (t >= 0)
				cnt[t]++;
			if (t == CE_BOUNCED) {
				hard += strcmp(ce_field(kv, "class"), "hard") == 0;
				soft += strcmp(ce_field(kv, "class"), "hard") != 0;
			}
		}
		freeReplyObject(r);
		if (n < 1000)
			break;
	}
	printf("tenant      %s\nperiod      last %llds\n", tenant ? tenant : "(all)",
	       since_ms / 1000);
#define RATE(x) (cnt[CE_SENT] ? 100.0 * (double)(x) / (double)cnt[CE_SENT] : 0.0)
	printf("sent        %lld\n", cnt[CE_SENT]);
	printf("delivered   %lld (%.2f%%)\n", cnt[CE_DELIVERED], RATE(cnt[CE_DELIVERED]));
	printf("deferred    %lld (%.2f%%)\n", cnt[CE_DEFERRED], RATE(cnt[CE_DEFERRED]));
	printf("bounced     %lld (%.2f%%): hard %lld (%.2f%%), soft %lld (%.2f%%)\n",
	       cnt[CE_BOUNCED], RATE(cnt[CE_BOUNCED]), hard, RATE(hard), soft, RATE(soft));
	printf("complained  %lld (%.2f%%)\n", cnt[CE_COMPLAINED], RATE(cnt[CE_COMPLAINED]));
	printf("unsubscribed %lld (%.2f%%)\n", cnt[CE_UNSUBSCRIBED], RATE(cnt[CE_UNSUBSCRIBED]));
	printf("opened      %lld (%.2f%%)\n", cnt[CE_OPENED], RATE(cnt[CE_OPENED]));
	printf("clicked     %lld (%.2f%%)\n", cnt[CE_CLICKED], RATE(cnt[CE_CLICKED]));
	printf("suppressed  %lld\n", cnt[CE_SUPPRESSED]);
	return 0;
}

/* ce_opts - --tenant, --count, --follow, --since */
static int
ce_opts(int argc, char **argv, const char **tenant, long *count, int *follow,
	long long *since_ms)
{
	static const struct option opts[] = {
		{"tenant", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'},
		{"follow", no_argument, NULL, 'f'},
		{"since", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *why;
	int	 o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "t:n:fs:", opts, NULL)) != -1) {
		switch (o) {
		case 't': *tenant = optarg; break;
		case 'n':
			*count = atol(optarg);
			if (*count < 1 || *count > 100000) {
				fprintf(stderr, "postmillctl: --count must be 1..100000\n");
				return -1;
			}
			break;
		case 'f': *follow = 1; break;
		case 's':
			if (cfg_parse_time(optarg, "s", since_ms, &why) < 0 || *since_ms <= 0) {
				fprintf(stderr, "postmillctl: --since %s: %s\n", optarg,
					*since_ms <= 0 ? "must be positive" : why);
				return -1;
			}
			break;
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* ctl_events - postmillctl events tail ... */
int
ctl_events(int argc, char **argv, const char *config_path)
{
	const char *tenant = NULL;
	long	 count = 20;
	long long since = 86400000LL;
	int	 follow = 0, rc;
	struct ce c;

	if (argc < 2 || strcmp(argv[1], "tail") != 0
	    || ce_opts(argc - 1, argv + 1, &tenant, &count, &follow, &since) < 0) {
		(void)ctl_help_command("events");
		return 2;
	}
	if (ce_open(config_path, &c) < 0)
		return 1;
	rc = ce_tail(&c, tenant, count, follow);
	ce_close(&c);
	return rc;
}

/* ctl_stats - postmillctl stats [--tenant T] [--since 24h] */
int
ctl_stats(int argc, char **argv, const char *config_path)
{
	const char *tenant = NULL;
	long	 count = 20;
	long long since = 86400000LL;
	int	 follow = 0, rc;
	struct ce c;

	if (ce_opts(argc, argv, &tenant, &count, &follow, &since) < 0) {
		(void)ctl_help_command("stats");
		return 2;
	}
	if (ce_open(config_path, &c) < 0)
		return 1;
	rc = ce_stats(&c, tenant, since);
	ce_close(&c);
	return rc;
}
