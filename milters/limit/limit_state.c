/*++
 * NAME
 *	limit_state 3
 * SUMMARY
 *	what one configuration snapshot of postmill-limit loads
 * DESCRIPTION
 *	limit_state_load() reads the rules file, checks the Redis parameters
 *	and makes the connection pool (no connection yet: a Redis that is
 *	down at start-up or reload is a runtime condition handled by
 *	limit_on_redis_error, not a configuration error). Every problem goes
 *	into the errlist with file and line; on any problem nothing is
 *	returned, so a bad reload keeps the previous snapshot.
 *--*/
#include <stdio.h>
#include <stdlib.h>

#include "limit.h"
#include "redis_common.h"
#include "redis_persist.h"
#include "xalloc.h"

/* limit_state_free - release a loaded state */
void
limit_state_free(void *state)
{
	struct limit_state *st = state;

	if (st == NULL)
		return;
	st->pool = redis_pool_free(st->pool);
	limit_rules_free(st->rules);
	free(st);
}

/* limit_state_load - rules and Redis pool of one snapshot */
void *
limit_state_load(const struct common_conf *common, const void *confp,
		 const char *config_path, struct errlist *el)
{
	const struct limit_conf *conf = confp;
	struct limit_state *st;
	size_t before = el->count;
	const char *why;

	st = xcalloc(1, sizeof(*st));
	if (conf->rules_file == NULL)
		errlist_add_at(el, config_path, 0, "limit_rules_file is empty");
	else
		st->rules = limit_rules_load(conf->rules_file, el);
	st->pool = redis_common_pool(common, config_path, el);
	if (limit_utc_offset_parse(conf->utc_offset ? conf->utc_offset : "",
				   &st->opts.offset_ms, &why) < 0)
		errlist_add_at(el, config_path, 0, "limit_utc_offset: %s", why);
	if (el->count != before) {
		limit_state_free(st);
		return NULL;
	}
	st->opts.prefix = conf->key_prefix;
	st->opts.on_redis_error = conf->on_redis_error;
	st->opts.ttl_us = conf->reservation_ttl * 1000;
	st->log_accepted = conf->log_accepted;
	return st;
}

/* limit_state_describe - what -n prints about a good configuration */
void
limit_state_describe(const void *state, FILE *fp)
{
	const struct limit_state *st = state;
	size_t nex = st->rules->exempt_ip.count;

	for (int k = 0; k < LIMIT_KEY_IP; k++)
		nex += st->rules->exempt[k].count;
	for (size_t i = 0; i < st->rules->nrules; i++) {
		const struct limit_rule *r = &st->rules->rules[i];

		fprintf(fp, "rule %s: %s %s", r->name, limit_kind_name(r->kind),
			limit_what_name(r->what));
		for (size_t j = 0; j < r->nlimits; j++) {
			const struct limit_def *d = &r->limits[j];

			if (d->type == LIMIT_TYPE_QUOTA)
				fprintf(fp, " quota=%lld/%s", d->count, d->name);
			else
				fprintf(fp, " rate=%lld/%lldms burst=%lld", d->count,
					d->period_ms, d->burst);
		}
		fprintf(fp, " %s\n", r->reject ? "reject" : "tempfail");
	}
	fprintf(fp, "%zu rule%s, %zu exemption%s, redis %s\n", st->rules->nrules,
		st->rules->nrules == 1 ? "" : "s", nex, nex == 1 ? "" : "s",
		redis_pool_server(st->pool));
	{
		/* quotas, overrides and suppressions must survive a Redis restart */
		char	text[256];
		int	rc = redis_persistence(st->pool, text, sizeof(text));

		fprintf(fp, "%sredis persistence: %s\n", rc == 0 ? "WARNING: " : rc < 0 ? "note: " : "",
			text);
	}
}
