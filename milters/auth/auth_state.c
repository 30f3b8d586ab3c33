/*++
 * NAME
 *	auth_state 3
 * SUMMARY
 *	what one configuration snapshot of postmill-auth loads
 * DESCRIPTION
 *	See auth.h. Every problem goes into the errlist; on any problem
 *	nothing is returned, so a bad reload keeps the previous snapshot.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth_dmarc.h"
#include "redis_common.h"
#include "xalloc.h"

/* answers are kept for their TTL, at most this long (seconds) */
#define AUTH_DNS_CACHE_TTL	3600

/* auth_txt - TXT lookups through the snapshot's resolver */
int
auth_txt(void *arg, const char *name, struct dns_txt_result *out)
{
	const struct auth_state *st = arg;

	return dns_query_txt(st->dns, name, out);
}

/*
 * auth_state_report_pool - the Redis pool of report recording: the
 * common redis_* parameters, but auth_report_timeout as the time limit of
 * a command and of a connect. Recording is best effort at end of message,
 * so it gets a budget well below the one a milter that decides with Redis
 * (limit, bounce) needs; the pool's back-off makes a dead Redis cost one
 * timeout per back-off period, not one per message.
 */
static struct redis_pool *
auth_state_report_pool(const struct common_conf *common, const struct auth_conf *conf,
		       const char *config_path, struct errlist *el)
{
	struct redis_conf rc;
	struct redis_pool *pool;
	const char *why;

	redis_common_conf(common, &rc);
	if (rc.command_timeout_ms > conf->report_timeout)
		rc.command_timeout_ms = (long)conf->report_timeout;
	if (rc.connect_timeout_ms > conf->report_timeout)
		rc.connect_timeout_ms = (long)conf->report_timeout;
	if (conf->report_key_prefix == NULL)
		errlist_add_at(el, config_path, 0, "auth_report_key_prefix is empty");
	if (redis_conf_check(&rc, &why) < 0) {
		errlist_add_at(el, config_path, 0, "redis_server = %s: %s",
			       rc.server ? rc.server : "", why);
		return NULL;
	}
	if ((pool = redis_pool_new(&rc, &why)) == NULL)
		errlist_add_at(el, config_path, 0, "redis: %s", why);
	return pool;
}

/* auth_state_free - release a loaded state */
void
auth_state_free(void *state)
{
	struct auth_state *st = state;

	if (st == NULL)
		return;
	st->spf = spf_evaluator_free(st->spf);	/* before the resolver it borrows */
	st->dns = dns_resolver_free(st->dns);
	st->dkim = auth_dkim_lib_free(st->dkim);
	st->psl = auth_psl_free(st->psl);
	st->report_pool = redis_pool_free(st->report_pool);
	free(st);
}

/* auth_state_load - resolver, DKIM library, PSL of one snapshot */
void *
auth_state_load(const struct common_conf *common, const void *confp,
		const char *config_path, struct errlist *el)
{
	const struct auth_conf *conf = confp;
	struct auth_state *st = xcalloc(1, sizeof(*st));
	size_t before = el->count;
	const char *why;

	st->conf = conf;
	if (gethostname(st->hostname, sizeof(st->hostname) - 1) < 0)
		st->hostname[0] = '\0';
	if (conf->authserv_id != NULL) {
		snprintf(st->authserv_id, sizeof(st->authserv_id), "%s", conf->authserv_id);
	} else if (gethostname(st->authserv_id, sizeof(st->authserv_id) - 1) < 0
		   || st->authserv_id[0] == '\0') {
		errlist_add_at(el, config_path, 0, "auth_authserv_id is empty and the "
			       "host name is unknown");
	}
	if (strpbrk(st->authserv_id, " \t\r\n;()\"\\") != NULL)
		errlist_add_at(el, config_path, 0, "auth_authserv_id = %s: not a "
			       "token (RFC 8601 section 2.2)", st->authserv_id);
	if ((st->dns = dns_resolver_new(common->dns_resolver,
					(long)common->dns_timeout, &why)) == NULL)
		errlist_add_at(el, config_path, 0, "dns_resolver = %s: %s",
			       common->dns_resolver ? common->dns_resolver : "", why);
	else if (conf->dns_cache_size > 0
		 && dns_resolver_enable_cache(st->dns, (size_t)conf->dns_cache_size,
					      AUTH_DNS_CACHE_TTL, &why) < 0)
		errlist_add_at(el, config_path, 0, "auth_dns_cache_size = %lld: %s",
			       conf->dns_cache_size, why);
	if (st->dns != NULL) {
		st->spf = spf_evaluator_new(st->dns, (unsigned)conf->spf_max_lookups,
					    (unsigned)conf->spf_max_void_lookups);
		spf_evaluator_set_max_time(st->spf, (long)conf->spf_time_limit);
	}
	if ((st->dkim = auth_dkim_lib_new((unsigned)conf->min_key_bits,
					  (size_t)conf->max_signatures, &why)) == NULL)
		errlist_add_at(el, config_path, 0, "libopendkim: %s", why);
	if (conf->dmarc_org_domain == AUTH_DMARC_ORG_PSL) {
		if (conf->psl_file == NULL)
			errlist_add_at(el, config_path, 0, "auth_dmarc_org_domain = psl "
				       "needs auth_psl_file");
		else
			st->psl = auth_psl_load(conf->psl_file, el);
	}
	if (conf->report_record)
		st->report_pool = auth_state_report_pool(common, conf, config_path, el);
	if (el->count != before) {
		auth_state_free(st);
		return NULL;
	}
	return st;
}

/* auth_state_describe - what -n prints about a good configuration */
void
auth_state_describe(const void *state, FILE *fp)
{
	const struct auth_state *st = state;

	fprintf(fp, "authserv-id %s, dns %s (cache %lld), spf time limit %lldms, "
		"organizational domains by %s", st->authserv_id,
		dns_resolver_servers(st->dns), st->conf->dns_cache_size,
		st->conf->spf_time_limit,
		st->psl ? "public suffix list" : "DNS tree walk");
	if (st->psl)
		fprintf(fp, " (%zu rules)", auth_psl_count(st->psl));
	if (st->report_pool)
		fprintf(fp, ", DMARC report data to redis %s",
			redis_pool_server(st->report_pool));
	fprintf(fp, "%s\n", st->conf->dry_run ? ", dry run" : "");
}
