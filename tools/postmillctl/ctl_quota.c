/*++
 * NAME
 *	ctl_quota 3
 * SUMMARY
 *	postmillctl quota: show, set and reset per-sender limits in Redis
 * SYNOPSIS
 *	postmillctl [-c config] quota show KEY
 *	postmillctl [-c config] quota set KEY RULE LIMIT=VALUE...
 *	postmillctl [-c config] quota set KEY exempt yes|no
 *	postmillctl [-c config] quota reset [--overrides] KEY [RULE]
 *	postmillctl [-c config] quota list
 * DESCRIPTION
 *	KEY names a sender as the rules count it: sasl:LOGIN,
 *	sender:ADDRESS, domain:DOMAIN or ip:ADDRESS (an IPv6 address stands
 *	for the network of each client_ip/N rule).
 *
 *	show prints, for every rule of that key kind, each limit in effect
 *	(the configured value or the override), its usage, and when it frees
 *	up: the end of the quota window, or when the rate bucket is empty.
 *	It uses postmill-limit's own script without counting, so it shows
 *	exactly what the milter would decide.
 *
 *	set writes overrides (limit_store.h), which apply to the next
 *	recipient or message on every node, without a reload. LIMIT is the
 *	window of one of the rule's quotas ("day", "month", "10s") with a
 *	count, "unlimited" or "default" (drop the override); or "rate" with
 *	R/PERIOD, "unlimited" or "default", and "burst" with a count.
 *	"set KEY exempt yes" exempts the key from all its rules, "no" ends
 *	that. Then it shows the key.
 *
 *	reset zeroes the usage of the current windows and the rate state of
 *	the key (of one rule, when named); with --overrides it drops the
 *	overrides instead. list prints every key value that has overrides.
 *
 *	Exit status: 0 done, 1 Redis or the key/rule was wrong, 2 usage.
 *--*/
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg_common.h"
#include "ctl.h"
#include "limit.h"
#include "limit_pause.h"
#include "redis_common.h"
#include "xalloc.h"

struct cq {
	void		**values;	/* ctl_load() */
	const struct common_conf *common;
	const struct limit_conf *conf;
	struct limit_rules *rules;
	struct redis_pool *pool;
	long long	 offset_ms;
	const char	*prefix;
};

/* cq_usage - the synopsis */
static int
cq_usage(void)
{
	fprintf(stderr,
		"usage: postmillctl quota show KEY\n"
		"       postmillctl quota set KEY RULE LIMIT=VALUE...\n"
		"       postmillctl quota set KEY exempt yes|no\n"
		"       postmillctl quota reset [--overrides] KEY [RULE]\n"
		"       postmillctl quota list\n"
		"KEY: sasl:LOGIN, sender:ADDRESS, domain:DOMAIN or ip:ADDRESS\n"
		"LIMIT=VALUE: WINDOW=N|unlimited|default (a quota of the rule),\n"
		"             rate=N/PERIOD|unlimited|default, burst=N\n");
	return 2;
}

/* cq_now_us - wall clock */
static long long
cq_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* cq_open - configuration, rules, Redis pool; 0 or -1 (printed) */
static int
cq_open(const char *config_path, struct cq *q)
{
	struct errlist el = ERRLIST_INIT;
	struct redis_conf rc;
	const char *why;

	memset(q, 0, sizeof(*q));
	if ((q->values = ctl_load(config_path)) == NULL)
		return -1;
	q->common = ctl_values(q->values, &cfg_common_section);
	q->conf = ctl_values(q->values, &limit_section);
	q->prefix = q->conf->key_prefix;
	if (limit_utc_offset_parse(q->conf->utc_offset, &q->offset_ms, &why) < 0) {
		fprintf(stderr, "postmillctl: limit_utc_offset: %s\n", why);
		return -1;
	}
	if (q->conf->rules_file == NULL
	    || (q->rules = limit_rules_load(q->conf->rules_file, &el)) == NULL) {
		errlist_print(&el, stderr);
		if (q->conf->rules_file == NULL)
			fprintf(stderr, "postmillctl: limit_rules_file is empty\n");
		errlist_free(&el);
		return -1;
	}
	redis_common_conf(q->common, &rc);
	if ((q->pool = redis_pool_new(&rc, &why)) == NULL) {
		fprintf(stderr, "postmillctl: redis_server = %s: %s\n",
			rc.server ? rc.server : "", why);
		return -1;
	}
	return 0;
}

/* cq_close - release what cq_open made */
static void
cq_close(struct cq *q)
{
	q->pool = redis_pool_free(q->pool);
	q->rules = limit_rules_free(q->rules);
	ctl_unload(q->values);
}

/* cq_reply - a command; NULL (printed) on Redis trouble or an error reply */
static redisReply *
cq_reply(struct cq *q, const char *fmt, ...)
{
	const char *err = NULL;
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redis_vcommand(q->pool, &err, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		fprintf(stderr, "postmillctl: redis %s: %s\n", redis_pool_server(q->pool), err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "postmillctl: redis %s: %s\n", redis_pool_server(q->pool),
			r->str ? r->str : "error");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* cq_plan - the key values of KEY; -1 (printed) when KEY is wrong */
static int
cq_plan(struct cq *q, const char *key, enum limit_key_kind *kind,
	struct limit_plan *plan)
{
	struct limit_facts f;
	const char *why;
	bool any = false;

	if (limit_facts_from_key(&f, key, kind, &why) < 0) {
		fprintf(stderr, "postmillctl: \"%s\": %s\n", key, why);
		limit_facts_free(&f);
		return -1;
	}
	limit_plan_build(q->rules, &f, plan);
	limit_facts_free(&f);
	for (size_t i = 0; i < q->rules->nrules; i++)
		any = any || q->rules->rules[i].kind == *kind;
	if (!any) {
		fprintf(stderr, "postmillctl: no rule of %s counts %s keys\n",
			q->conf->rules_file, limit_kind_name(*kind));
		limit_plan_free(plan);
		return -1;
	}
	return 0;
}

/* cq_when - "2026-11-24 00:00:00 +00:00" for an instant, at the offset */
static char *
cq_when(long long at_ms, long long offset_ms, char *buf, size_t len)
{
	long long local = at_ms + offset_ms, days, y;
	long long s, off = offset_ms / 60000;
	int m, d;

	days = local >= 0 ? local / LIMIT_DAY_MS : -((-local + LIMIT_DAY_MS - 1) / LIMIT_DAY_MS);
	s = (local - days * LIMIT_DAY_MS) / 1000;
	limit_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02d %02lld:%02lld:%02lld %c%02lld:%02lld", y, m, d,
		 s / 3600, s % 3600 / 60, s % 60, off < 0 ? '-' : '+',
		 (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return buf;
}

/* cq_rate - "20/1s" (configured) or from an override "COUNT PERIOD_MS BURST" */
static char *
cq_rate(const struct limit_def *d, const char *ov, char *buf, size_t len)
{
	long long count = d->count, period = d->period_ms, burst;

	if (ov != NULL)
		sscanf(ov, "%lld %lld %lld", &count, &period, &burst);
	if (period % 1000 == 0)
		snprintf(buf, len, "%lld/%llds", count, period / 1000);
	else
		snprintf(buf, len, "%lld/%lldms", count, period);
	return buf;
}

/* cq_field - a field of an HGETALL reply, or NULL */
static const char *
cq_field(const redisReply *h, const char *name)
{
	for (size_t i = 0; h != NULL && i + 1 < h->elements; i += 2)
		if (h->element[i]->str && strcmp(h->element[i]->str, name) == 0)
			return h->element[i + 1]->str;
	return NULL;
}

/* cq_show_call - one key value: overrides and every limit */
static int
cq_show_call(struct cq *q, const struct limit_call *c, long long now)
{
	char *okey = limit_store_override_key(q->prefix, c->keyval);
	redisReply *h = cq_reply(q, "HGETALL %s", okey);
	int rc = 0;

	free(okey);
	if (h == NULL)
		return -1;
	printf("%s\n", c->keyval);
	if (h->elements == 0) {
		printf("  overrides: none\n");
	} else {
		printf("  overrides:");
		for (size_t i = 0; i + 1 < h->elements; i += 2)
			printf(" %s=%s", h->element[i]->str, h->element[i + 1]->str);
		printf("\n");
	}
	for (int w = LIMIT_WHAT_MESSAGES; w <= LIMIT_WHAT_RECIPIENTS; w++) {
		struct limit_check_req req = {q->prefix, c, {0, 0}, false,
					      now, q->offset_ms, NULL, 0};
		struct limit_result res;
		const char *err;

		if (!limit_call_counts(c, (enum limit_what)w))
			continue;
		req.cost[w] = 1;	/* would one more of this what pass */
		if (limit_store_check(q->pool, &req, &res, &err) < 0) {
			fprintf(stderr, "postmillctl: redis %s: %s\n",
				redis_pool_server(q->pool), err);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < res.n; i++) {
			const struct limit_usage *u = &res.u[i];
			char *field = limit_store_field(u->rule, u->def);
			const char *ov = cq_field(h, field);
			char wait[32], when[96], lim[32];

			free(field);
			limit_duration_format(u->retry_ms, wait, sizeof(wait));
			if (res.status == LIMIT_ST_EXEMPT) {
				printf("  %-12s %-10s %-6s exempt (override)\n", u->rule->name,
				       limit_what_name(u->rule->what), u->def->name);
				continue;
			}
			if (u->limit < 0)
				snprintf(lim, sizeof(lim), "unlimited");
			else
				snprintf(lim, sizeof(lim), "%lld", u->limit);
			if (u->def->type == LIMIT_TYPE_QUOTA)
				printf("  %-12s %-10s %-6s used %lld of %s%s; window ends in %s (%s)%s\n",
				       u->rule->name, limit_what_name(u->rule->what), u->def->name,
				       u->used, lim, ov ? " (override)" : "", wait,
				       cq_when(now / 1000 + u->retry_ms, q->offset_ms, when,
					       sizeof(when)),
				       u->over ? " FULL" : "");
			else if (u->limit < 0)
				printf("  %-12s %-10s rate   unlimited (override)\n", u->rule->name,
				       limit_what_name(u->rule->what));
			else
				printf("  %-12s %-10s rate   %s burst %lld%s: %lld in the bucket, "
				       "empty in %s%s\n", u->rule->name,
				       limit_what_name(u->rule->what), cq_rate(u->def, ov, when,
				       sizeof(when)), u->limit, ov ? " (override)" : "", u->used,
				       wait, u->over ? " FULL" : "");
		}
		limit_result_free(&res);
	}
	freeReplyObject(h);
	return rc;
}

/*
 * cq_show_pause - whether the tenant of KEY (sasl:LOGIN is login:LOGIN,
 * domain:D and sender:A@D are D) is paused by postmill-bounce
 * (limit_pause.h): what postmill-limit checks at MAIL
 */
static int
cq_show_pause(struct cq *q, const char *key)
{
	struct limit_pause lp;
	const char *login = NULL, *sender = NULL, *err = NULL;
	char buf[300];
	int r;

	if (q->conf->tenant_pause == LIMIT_PAUSE_OFF)
		return 0;
	if (strncmp(key, "sasl:", 5) == 0)
		login = key + 5;
	else if (strncmp(key, "sender:", 7) == 0)
		sender = key + 7;
	else if (strncmp(key, "domain:", 7) == 0) {
		snprintf(buf, sizeof(buf), "@%s", key + 7);
		sender = buf;
	} else
		return 0;
	if ((r = limit_pause_check(q->pool, q->conf->tenant_pause_prefix, login, sender,
				   &lp, &err)) < 0) {
		fprintf(stderr, "postmillctl: redis: %s\n", err ? err : "?");
		return -1;
	}
	if (r == 1)
		printf("%s: tenant %s PAUSED: %s (postmillctl tenant resume %s)\n", key,
		       lp.tenant, lp.reason, lp.tenant);
	else
		printf("%s: tenant pause: none\n", key);
	return 0;
}

/* cq_show - every key value of KEY */
static int
cq_show(struct cq *q, const char *key)
{
	enum limit_key_kind kind;
	struct limit_plan plan;
	long long now = cq_now_us();
	int rc = 0;

	if (cq_show_pause(q, key) < 0)
		rc = 1;
	if (cq_plan(q, key, &kind, &plan) < 0)
		return 1;
	if (plan.ncalls == 0)
		printf("%s: exempt by %s\n", key, q->conf->rules_file);
	for (size_t i = 0; i < plan.ncalls; i++)
		if (cq_show_call(q, &plan.calls[i], now) < 0)
			rc = 1;
	limit_plan_free(&plan);
	return rc;
}

/* cq_count_arg - "N", "unlimited" (-1), "default" (-2); -3 bad */
static long long
cq_count_arg(const char *v)
{
	char *end;
	long long n;

	if (strcmp(v, "unlimited") == 0)
		return -1;
	if (strcmp(v, "default") == 0)
		return -2;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 0 || n > LIMIT_MAX_COUNT)
		return -3;
	return n;
}

/* cq_hset - set or (value NULL) delete one override field */
static int
cq_hset(struct cq *q, const char *okey, const char *field, const char *value)
{
	redisReply *r = value ? cq_reply(q, "HSET %s %s %s", okey, field, value)
	    : cq_reply(q, "HDEL %s %s", okey, field);

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* cq_set_rule - LIMIT=VALUE arguments for one rule of one key value */
static int
cq_set_rule(struct cq *q, const char *keyval, const struct limit_rule *rule,
	    int argc, char **argv)
{
	char *okey = limit_store_override_key(q->prefix, keyval);
	const struct limit_def *rate = NULL;
	const char *rate_arg = NULL, *burst_arg = NULL;
	int rc = 0;

	for (size_t j = 0; j < rule->nlimits; j++)
		if (rule->limits[j].type == LIMIT_TYPE_RATE)
			rate = &rule->limits[j];
	for (int i = 0; i < argc && rc == 0; i++) {
		char *eq = strchr(argv[i], '=');
		const struct limit_def *d = NULL;
		long long n;
		char *field, num[24];

		if (eq == NULL) {
			fprintf(stderr, "postmillctl: \"%s\": want LIMIT=VALUE\n", argv[i]);
			rc = 2;
			break;
		}
		*eq = '\0';
		if (strcmp(argv[i], "rate") == 0 || strcmp(argv[i], "burst") == 0) {
			if (rate == NULL) {
				fprintf(stderr, "postmillctl: rule %s has no rate\n", rule->name);
				rc = 1;
			} else if (argv[i][0] == 'r') {
				rate_arg = eq + 1;
			} else {
				burst_arg = eq + 1;
			}
			continue;
		}
		for (size_t j = 0; j < rule->nlimits; j++)
			if (rule->limits[j].type == LIMIT_TYPE_QUOTA
			    && strcmp(rule->limits[j].name, argv[i]) == 0)
				d = &rule->limits[j];
		if (d == NULL) {
			fprintf(stderr, "postmillctl: rule %s has no quota per \"%s\"\n",
				rule->name, argv[i]);
			rc = 1;
			break;
		}
		if ((n = cq_count_arg(eq + 1)) == -3) {
			fprintf(stderr, "postmillctl: %s=%s: want a count, unlimited or "
				"default\n", argv[i], eq + 1);
			rc = 2;
			break;
		}
		snprintf(num, sizeof(num), "%lld", n);
		field = limit_store_field(rule, d);
		rc = cq_hset(q, okey, field, n == -2 ? NULL : num) < 0 ? 1 : 0;
		free(field);
	}
	if (rc == 0 && (rate_arg != NULL || burst_arg != NULL)) {
		char *field = limit_store_field(rule, rate);
		long long count = rate->count, period = rate->period_ms, burst = rate->burst;
		redisReply *cur = cq_reply(q, "HGET %s %s", okey, field);
		char value[80];

		/* what is not given stays as it is now */
		if (cur != NULL && cur->type == REDIS_REPLY_STRING && cur->str != NULL)
			sscanf(cur->str, "%lld %lld %lld", &count, &period, &burst);
		if (cur != NULL)
			freeReplyObject(cur);
		if (rate_arg != NULL && (strcmp(rate_arg, "unlimited") == 0
					 || strcmp(rate_arg, "default") == 0)) {
			rc = cq_hset(q, okey, field, rate_arg[0] == 'u' ? "-1" : NULL) < 0;
			burst_arg = NULL;
		} else {
			if (rate_arg != NULL) {
				const char *slash = strchr(rate_arg, '/');
				const char *why = "want N/PERIOD";
				char *end;

				count = strtoll(rate_arg, &end, 10);
				if (slash == NULL || end != slash || count < 1
				    || count > 1000000000LL
				    || limit_duration_parse(slash + 1, &period, &why) < 0
				    || period > LIMIT_MAX_RATE_PERIOD_MS || count > period * 1000) {
					fprintf(stderr, "postmillctl: rate=%s: %s\n", rate_arg, why);
					rc = 2;
				}
			}
			if (rc == 0 && burst_arg != NULL) {
				long long b = cq_count_arg(burst_arg);

				if (b < 1 || b > 1000000000LL) {
					fprintf(stderr, "postmillctl: burst=%s: want a count "
						"from 1\n", burst_arg);
					rc = 2;
				} else {
					burst = b;
				}
			}
			if (rc == 0) {
				snprintf(value, sizeof(value), "%lld %lld %lld", count, period,
					 burst);
				rc = cq_hset(q, okey, field, value) < 0;
			}
		}
		free(field);
	}
	free(okey);
	return rc;
}

/* cq_set - overrides of one rule, or exempt */
static int
cq_set(struct cq *q, int argc, char **argv)
{
	enum limit_key_kind kind;
	struct limit_plan plan;
	const struct limit_rule *rule;
	int rc = 0;

	if (argc < 3)
		return cq_usage();
	if (cq_plan(q, argv[0], &kind, &plan) < 0)
		return 1;
	if (strcmp(argv[1], "exempt") == 0) {
		bool yes = strcmp(argv[2], "yes") == 0;

		if (!yes && strcmp(argv[2], "no") != 0) {
			limit_plan_free(&plan);
			return cq_usage();
		}
		for (size_t i = 0; i < plan.ncalls && rc == 0; i++) {
			char *okey = limit_store_override_key(q->prefix, plan.calls[i].keyval);

			rc = cq_hset(q, okey, "exempt", yes ? "1" : NULL) < 0;
			free(okey);
		}
	} else if ((rule = limit_rules_find(q->rules, argv[1])) == NULL) {
		fprintf(stderr, "postmillctl: no rule \"%s\" in %s\n", argv[1],
			q->conf->rules_file);
		rc = 1;
	} else if (rule->kind != kind) {
		fprintf(stderr, "postmillctl: rule %s counts %s keys, not %s\n", rule->name,
			limit_kind_name(rule->kind), argv[0]);
		rc = 1;
	} else {
		size_t i;

		for (i = 0; i < plan.ncalls; i++) {
			bool has = false;

			for (size_t j = 0; j < plan.calls[i].nrules; j++)
				has = has || plan.calls[i].rules[j] == rule;
			if (has)
				break;
		}
		if (i == plan.ncalls) {
			fprintf(stderr, "postmillctl: %s is exempt from rule %s by %s\n",
				argv[0], rule->name, q->conf->rules_file);
			rc = 1;
		} else {
			rc = cq_set_rule(q, plan.calls[i].keyval, rule, argc - 2, argv + 2);
		}
	}
	limit_plan_free(&plan);
	if (rc == 0)
		rc = cq_show(q, argv[0]);
	return rc;
}

/* cq_reset - zero the usage, or drop the overrides */
static int
cq_reset(struct cq *q, int argc, char **argv)
{
	bool overrides = argc > 0 && strcmp(argv[0], "--overrides") == 0;
	enum limit_key_kind kind;
	struct limit_plan plan;
	const char *only;
	long long now_ms = cq_now_us() / 1000;
	int rc = 0;

	if (overrides) {
		argc--;
		argv++;
	}
	if (argc < 1 || argc > 2)
		return cq_usage();
	only = argc == 2 ? argv[1] : NULL;
	if (only != NULL && limit_rules_find(q->rules, only) == NULL) {
		fprintf(stderr, "postmillctl: no rule \"%s\" in %s\n", only, q->conf->rules_file);
		return 1;
	}
	if (cq_plan(q, argv[0], &kind, &plan) < 0)
		return 1;
	for (size_t i = 0; i < plan.ncalls && rc == 0; i++) {
		const struct limit_call *c = &plan.calls[i];
		char *okey = limit_store_override_key(q->prefix, c->keyval);

		for (size_t j = 0; j < c->nrules && rc == 0; j++) {
			const struct limit_rule *r = c->rules[j];

			if (only != NULL && strcmp(r->name, only) != 0)
				continue;
			for (size_t k = 0; k < r->nlimits && rc == 0; k++) {
				char *key = overrides ? limit_store_field(r, &r->limits[k])
				    : limit_store_limit_key(q->prefix, c->keyval, r, &r->limits[k],
							    now_ms, q->offset_ms, NULL);
				redisReply *x = overrides ? cq_reply(q, "HDEL %s %s", okey, key)
				    : cq_reply(q, "DEL %s", key);

				rc = x == NULL;
				if (x != NULL)
					freeReplyObject(x);
				free(key);
			}
		}
		if (rc == 0 && overrides && only == NULL) {
			redisReply *x = cq_reply(q, "DEL %s", okey);

			rc = x == NULL;
			if (x != NULL)
				freeReplyObject(x);
		}
		free(okey);
	}
	limit_plan_free(&plan);
	if (rc == 0)
		rc = cq_show(q, argv[0]);
	return rc;
}

/* cq_unescape - a key value from between the braces of a key (see redis.h) */
static char *
cq_unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *w = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 3 <= len && (strncmp(s + i, "%25", 3) == 0
		    || strncmp(s + i, "%7B", 3) == 0 || strncmp(s + i, "%7D", 3) == 0)) {
			*w++ = s[i + 1] == '2' ? '%' : s[i + 2] == 'B' ? '{' : '}';
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

/* cq_list - every key value with overrides (SCAN, a page at a time) */
static int
cq_list(struct cq *q)
{
	char *prefix = redis_key(q->prefix, "x", "");	/* the escaped prefix + "{x}" */
	char *pattern, cursor[32] = "0";
	size_t plen = strlen(prefix) - 3;
	int rc = 0;

	/* a glob: escape what SCAN MATCH would read as special */
	{
		char *w = pattern = xmalloc(2 * plen + 16);

		for (size_t i = 0; i < plen; i++) {
			if (strchr("*?[]\\", prefix[i]) != NULL)
				*w++ = '\\';
			*w++ = prefix[i];
		}
		memcpy(w, "{*}:override", sizeof("{*}:override"));
	}
	do {
		redisReply *r = cq_reply(q, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			rc = 1;
			if (r != NULL)
				freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const char *key = r->element[1]->element[i]->str;
			const char *open = key + plen, *close = strrchr(key, '}');
			redisReply *h;
			char *kv;

			if (close == NULL || close < open)
				continue;
			kv = cq_unescape(open + 1, (size_t)(close - open - 1));
			if ((h = cq_reply(q, "HGETALL %s", key)) != NULL) {
				printf("%s", kv);
				for (size_t j = 0; j + 1 < h->elements; j += 2)
					printf(" %s=%s", h->element[j]->str, h->element[j + 1]->str);
				printf("\n");
				freeReplyObject(h);
			}
			free(kv);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	free(pattern);
	free(prefix);
	return rc;
}

/* ctl_quota - dispatch the quota subcommands */
int
ctl_quota(int argc, char **argv, const char *config_path)
{
	const char *what = argc > 1 ? argv[1] : "";
	struct cq q;
	int rc;

	if (strcmp(what, "show") != 0 && strcmp(what, "set") != 0
	    && strcmp(what, "reset") != 0 && strcmp(what, "list") != 0)
		return cq_usage();
	if (strcmp(what, "show") == 0 && argc != 3)
		return cq_usage();
	if (cq_open(config_path, &q) < 0) {
		cq_close(&q);
		return 1;
	}
	if (strcmp(what, "show") == 0)
		rc = cq_show(&q, argv[2]);
	else if (strcmp(what, "set") == 0)
		rc = cq_set(&q, argc - 2, argv + 2);
	else if (strcmp(what, "reset") == 0)
		rc = cq_reset(&q, argc - 2, argv + 2);
	else
		rc = argc == 2 ? cq_list(&q) : cq_usage();
	cq_close(&q);
	return rc;
}
