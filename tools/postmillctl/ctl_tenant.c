/*++
 * NAME
 *	ctl_tenant 3
 * SUMMARY
 *	postmillctl tenant: a tenant's DNS setup, rates, pause and resume
 * SYNOPSIS
 *	postmillctl [-c config] tenant list
 *	postmillctl [-c config] tenant show TENANT
 *	postmillctl [-c config] tenant check [--domain FROM-DOMAIN] TENANT
 *	postmillctl [-c config] tenant resume TENANT
 * DESCRIPTION
 *	TENANT is a key of bounce_tenant_table (a sender domain or
 *	login:NAME). The state lives in postmill-bounce's Redis
 *	(bounce_pause.h); resume deletes the pause and the window's
 *	counters, and the next MAIL of the tenant passes postmill-limit:
 *	no reload.
 *
 *	check asks DNS (dns_resolver) as a receiver would, one line per
 *	check, "TENANT: CHECK: OK|FAIL|SKIPPED: detail":
 *	  mx	the bounce domain's MX names one of bounce_tenant_mx_hosts
 *		(by name, or by an address of the MX host);
 *	  spf	SPF (common/spf*.c, RFC 7208) of postmaster@BOUNCE-DOMAIN
 *		passes for every bounce_tenant_sending_ips address;
 *	  dkim	every key of dkim_key_table for the From domain is
 *		published as is (postmillctl dkim check's test);
 *	  dmarc	the From domain (or its organizational domain) publishes a
 *		DMARC record, and the bounce domain aligns with the From
 *		domain under its aspf (RFC 7489 3.1.2: relaxed, the same
 *		organizational domain by the public suffix list; strict,
 *		the same domain).
 *	The From domain is the tenant's name for a domain tenant, or
 *	--domain. Exit status: 0 when no check failed, 1 when one did, 2
 *	for a usage error.
 *--*/
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpsl.h>

#include "auth_dmarc_record.h"
#include "bounce.h"
#include "bounce_pause.h"
#include "bounce_tenant.h"
#include "cfg_common.h"
#include "ctl.h"
#include "ctl_bounce.h"
#include "dkim_conf.h"
#include "dkim_dnscheck.h"
#include "dkim_sign.h"
#include "dkim_tables.h"
#include "dns.h"
#include "spf.h"
#include "xalloc.h"

struct ct_check {
	const char	*tenant;
	size_t		 failed, run;
};

/* ct_line - one check's line; counts failures */
static void ct_line(struct ct_check *k, const char *check, const char *status,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
ct_line(struct ct_check *k, const char *check, const char *status,
	const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: %s: ", k->tenant, check, status);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	k->run++;
	if (strcmp(status, "FAIL") == 0)
		k->failed++;
}

/* ct_addr_text - a DNS address as text */
static const char *
ct_addr_text(const struct dns_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* ct_ours - is this MX host (or one of its addresses) ours */
static int
ct_ours(const struct dns_resolver *res, const struct cfg_list *ours,
	const char *host)
{
	struct dns_addr_result a;
	char t[64];

	for (size_t i = 0; i < ours->count; i++)
		if (strcasecmp(ours->items[i], host) == 0)
			return 1;
	for (int fam = 0; fam < 2; fam++) {
		if (fam == 0)
			dns_query_a(res, host, &a);
		else
			dns_query_aaaa(res, host, &a);
		if (a.status != DNS_OK)
			continue;
		for (size_t j = 0; j < a.count; j++) {
			ct_addr_text(&a.addr[j], t, sizeof(t));
			for (size_t i = 0; i < ours->count; i++)
				if (strcasecmp(ours->items[i], t) == 0)
					return 1;
		}
	}
	return 0;
}

/* ct_mx - the bounce domain's MX points at us */
static void
ct_mx(struct ct_check *k, const struct dns_resolver *res,
      const struct cfg_list *ours, const char *bd)
{
	struct dns_name_result mx;
	char list[512] = "";

	if (ours->count == 0) {
		ct_line(k, "mx", "SKIPPED", "set bounce_tenant_mx_hosts to our MX hosts");
		return;
	}
	dns_query_mx(res, bd, &mx);
	if (mx.status != DNS_OK || mx.count == 0) {
		ct_line(k, "mx", "FAIL", "%s: no MX (%s): bounces cannot reach us", bd,
			dns_status_str(mx.status));
		dns_name_result_clear(&mx);
		return;
	}
	for (size_t i = 0; i < mx.count; i++) {
		size_t n = strlen(list);

		snprintf(list + n, sizeof(list) - n, "%s%u %s", i ? ", " : "",
			 mx.name[i].pref, mx.name[i].name);
		if (ct_ours(res, ours, mx.name[i].name)) {
			ct_line(k, "mx", "OK", "%s MX %u %s is ours", bd, mx.name[i].pref,
				mx.name[i].name);
			dns_name_result_clear(&mx);
			return;
		}
	}
	ct_line(k, "mx", "FAIL", "%s MX %s: none of bounce_tenant_mx_hosts", bd, list);
	dns_name_result_clear(&mx);
}

/* ct_spf - SPF of the bounce domain passes for each sending address */
static void
ct_spf(struct ct_check *k, const struct dns_resolver *res,
       const struct cfg_list *ips, const char *bd)
{
	struct spf_evaluator *e;
	char from[300], bad[600] = "";
	size_t nbad = 0;

	if (ips->count == 0) {
		ct_line(k, "spf", "SKIPPED", "set bounce_tenant_sending_ips to our sending addresses");
		return;
	}
	e = spf_evaluator_new(res, 0, 0);
	snprintf(from, sizeof(from), "postmaster@%s", bd);
	for (size_t i = 0; i < ips->count; i++) {
		struct spf_query q = {0};
		struct spf_outcome o;

		q.client_ip = ips->items[i];
		q.helo = bd;
		q.mail_from = from;
		q.identity = SPF_ID_MAILFROM;
		if (spf_check(e, &q, (long)time(NULL), &o) != SPF_RES_PASS) {
			size_t n = strlen(bad);

			snprintf(bad + n, sizeof(bad) - n, "%s%s=%s%s%s", nbad ? ", " : "",
				 ips->items[i], spf_result_name(o.result),
				 o.problem[0] ? " " : "", o.problem);
			nbad++;
		}
	}
	spf_evaluator_free(e);
	if (nbad)
		ct_line(k, "spf", "FAIL", "%s: %s (publish \"v=spf1 ip4:... -all\" "
			"with our addresses, or include our record)", bd, bad);
	else
		ct_line(k, "spf", "OK", "%s passes for %zu sending address%s", bd,
			ips->count, ips->count == 1 ? "" : "es");
}

/* ct_dkim - the From domain's keys of dkim_key_table are published */
static void
ct_dkim(struct ct_check *k, void **values, const struct dns_resolver *res,
	const char *from)
{
	struct dkim_tables_options topt = DKIM_TABLES_OPTIONS_INIT;
	const struct dkim_conf *conf = ctl_values(values, &dkim_section);
	struct errlist el = ERRLIST_INIT;
	struct dkim_tables *tables;
	size_t n = 0, ok = 0;
	char detail[600] = "";
	const char *why;

	if (conf == NULL || conf->key_table == NULL) {
		ct_line(k, "dkim", "SKIPPED", "no dkim_key_table");
		return;
	}
	topt.min_rsa_bits = (long)conf->min_rsa_bits;
	topt.strict_permissions = false;	/* reading, not signing */
	if ((tables = dkim_tables_load(conf->key_table, conf->signing_table,
				       conf->sender_login_map, &topt, &el)) == NULL) {
		ct_line(k, "dkim", "FAIL", "dkim tables do not load: %s",
			el.count ? el.msgs[0] : "?");
		errlist_free(&el);
		return;
	}
	for (size_t i = 0; i < dkim_tables_key_count(tables); i++) {
		const struct dkim_tables_key *tk = dkim_tables_key_at(tables, i);
		struct dkim_dnscheck_result r;
		struct dns_txt_result dns;
		struct dkim_key *key;
		char qname[320], *rec;
		size_t len = strlen(detail);

		if (strcasecmp(tk->domain, from) != 0)
			continue;
		n++;
		if ((key = dkim_key_from_pkey(tk->pkey, &why)) == NULL) {
			snprintf(detail + len, sizeof(detail) - len, "%s%s: %s",
				 len ? "; " : "", tk->selector, why);
			continue;
		}
		rec = dkim_key_dns_record(key);
		snprintf(qname, sizeof(qname), "%s._domainkey.%s", tk->selector, tk->domain);
		dns_query_txt(res, qname, &dns);
		dkim_dnscheck_record(&dns, rec, &r);
		if (len + strlen(qname) + 24 < sizeof(detail))
			snprintf(detail + len, sizeof(detail) - len, "%s%.300s %s",
				 len ? ", " : "", qname, dkim_dnscheck_str(r.status));
		if (r.status == DKIM_DNSCHECK_MATCH)
			ok++;
		dns_txt_result_clear(&dns);
		free(rec);
		dkim_key_free(key);
	}
	dkim_tables_free(tables);
	if (n == 0)
		ct_line(k, "dkim", "FAIL", "no key for %s in %s", from, conf->key_table);
	else
		ct_line(k, "dkim", ok == n ? "OK" : "FAIL", "%zu/%zu key%s published: %s",
			ok, n, n == 1 ? "" : "s", detail);
}

/* ct_org - the organizational domain by the public suffix list (libpsl's
 * newest list, loaded once; its built-in one when there is none) */
static const char *
ct_org(const char *d)
{
	static psl_ctx_t *latest;
	static const psl_ctx_t *psl;
	const char *r;

	if (psl == NULL)
		psl = (latest = psl_latest(NULL)) != NULL ? latest : psl_builtin();
	r = psl != NULL ? psl_registrable_domain(psl, d) : NULL;
	return r != NULL ? r : d;
}

/* ct_dmarc - a DMARC record, and SPF alignment of the bounce domain */
static void
ct_dmarc(struct ct_check *k, const struct dns_resolver *res, const char *from,
	 const char *bd)
{
	struct auth_dmarc_record rec;
	struct dns_txt_result t;
	const char *org = ct_org(from), *why = "", *names[2] = {from, org};
	char q[300], where[300] = "";
	int found = 0;

	for (int i = 0; i < 2 && !found; i++) {
		if (i == 1 && strcasecmp(org, from) == 0)
			break;
		snprintf(q, sizeof(q), "_dmarc.%s", names[i]);
		dns_query_txt(res, q, &t);
		for (size_t j = 0; t.status == DNS_OK && j < t.count && !found; j++)
			if (auth_dmarc_record_parse(t.txt[j].data, t.txt[j].len, &rec,
						    &why) == AUTH_DMARC_REC_OK) {
				found = 1;
				snprintf(where, sizeof(where), "%s", q);
			}
		dns_txt_result_clear(&t);
	}
	if (!found) {
		ct_line(k, "dmarc", "FAIL", "no DMARC record at _dmarc.%s", from);
		return;
	}
	if (rec.aspf_strict ? strcasecmp(bd, from) == 0
	    : strcasecmp(ct_org(bd), org) == 0)
		ct_line(k, "dmarc", "OK", "%s p=%s aspf=%s: Return-Path %s aligns with %s",
			where, auth_dmarc_p_name(rec.p), rec.aspf_strict ? "s" : "r", bd, from);
	else
		ct_line(k, "dmarc", "FAIL", "%s p=%s aspf=%s: Return-Path %s does not "
			"align with %s: DMARC rests on DKIM alone", where,
			auth_dmarc_p_name(rec.p), rec.aspf_strict ? "s" : "r", bd, from);
}

/* ct_find - the tenant named on the command line, or NULL (printed) */
static const struct bounce_tenant *
ct_find(const struct ctl_bounce *cb, const char *name)
{
	const struct bounce_tenant *t = bounce_tenant_by_name(cb->state->tenants, name);

	if (t == NULL)
		fprintf(stderr, "postmillctl: %s: no such tenant in %s\n", name,
			cb->conf->tenant_table ? cb->conf->tenant_table
			: "(bounce_tenant_table is empty)");
	return t;
}

/* ct_check - the DNS checks */
static int
ct_check(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	const struct common_conf *common;
	const struct bounce_tenant *t;
	struct dns_resolver *res;
	struct ctl_bounce cb;
	struct ct_check k = {0};
	const char *from = NULL, *why, *bd;
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			from = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc) {
		ctl_help_command("tenant");
		return 2;
	}
	if (ctl_bounce_open(config_path, &cb) < 0)
		return 1;
	if ((t = ct_find(&cb, argv[optind])) == NULL)
		goto out;
	common = ctl_values(cb.values, &cfg_common_section);
	if ((res = dns_resolver_new(common->dns_resolver,
				    (long)common->dns_timeout / DNS_DEFAULT_ATTEMPTS,
				    &why)) == NULL) {
		fprintf(stderr, "postmillctl: dns_resolver: %s\n", why);
		goto out;
	}
	k.tenant = t->name;
	bd = t->bounce_domain ? t->bounce_domain : cb.state->domain;
	if (from == NULL && !t->is_login && !t->subdomains)
		from = t->name;
	ct_mx(&k, res, &cb.conf->our_mx, bd);
	ct_spf(&k, res, &cb.conf->our_ips, bd);
	if (from == NULL) {
		/* a login, or .DOMAIN (its subdomains): which From is unknown */
		const char *what = t->is_login ? "a login tenant" : "a .DOMAIN tenant";

		ct_line(&k, "dkim", "SKIPPED", "%s: give --domain FROM-DOMAIN", what);
		ct_line(&k, "dmarc", "SKIPPED", "%s: give --domain FROM-DOMAIN", what);
	} else {
		ct_dkim(&k, cb.values, res, from);
		ct_dmarc(&k, res, from, bd);
	}
	printf("%zu checks, %zu failed\n", k.run, k.failed);
	dns_resolver_free(res);
	rc = k.failed ? 1 : 0;
out:
	ctl_bounce_close(&cb);
	return rc;
}

/* ct_time - ms as UTC text */
static const char *
ct_time(long long ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&s, &tm) == NULL
	    || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

/* ct_pct - n/sent as a percentage */
static double
ct_pct(long long n, long long sent)
{
	return sent > 0 ? 100.0 * (double)n / (double)sent : 0.0;
}

/* ct_show_one - one tenant's table line and state */
static int
ct_show_one(struct ctl_bounce *cb, const struct bounce_tenant *t, bool brief)
{
	struct bounce_pause_status ps;
	const char *err;
	char ts[32];

	if (bounce_pause_get(cb->pool, cb->conf->key_prefix, t->name, &cb->state->pause,
			     ctl_bounce_now_ms(), &ps, &err) < 0) {
		fprintf(stderr, "postmillctl: redis: %s\n", err ? err : "?");
		return -1;
	}
	if (brief) {
		printf("%s bounce_domain=%s unsubscribe=%s state=%s sent=%lld hard=%lld "
		       "complaints=%lld\n", t->name, t->bounce_domain ? t->bounce_domain
		       : cb->state->domain, t->unsubscribe ? "on" : "off",
		       bounce_pause_state_name(ps.state), ps.sent, ps.hard, ps.complaints);
		return 0;
	}
	printf("tenant: %s (%s%s, line %u of %s)\n", t->name, t->is_login ? "login"
	       : t->subdomains ? "the subdomains of " : "sender domain",
	       t->subdomains ? t->name + 1 : "", t->line, cb->conf->tenant_table);
	printf("bounce domain: %s%s\n", t->bounce_domain ? t->bounce_domain
	       : cb->state->domain, t->bounce_domain ? "" : " (the global bounce_domain)");
	{
		const struct bounce_bdomain *bd = bounce_state_bdomain(cb->state,
			t->bounce_domain ? t->bounce_domain : cb->state->domain);

		if (bd != NULL && t->nsecrets > 0)
			printf("tag keys: the tenant's own, from %zu secret file%s (first %s), "
			       "signing key id %u\n", t->nsecrets, t->nsecrets == 1 ? "" : "s",
			       t->secrets[0], bd->keys->keys[0].id);
		else if (bd != NULL)
			printf("tag keys: from bounce_secret_files, signing key id %u\n",
			       bd->keys->keys[0].id);
	}
	printf("suppression list: t:%s\n", t->name);
	printf("one-click unsubscribe: %s\n", !t->unsubscribe ? "off" :
	       cb->conf->unsubscribe_url ? cb->conf->unsubscribe_url
	       : "on in the table, but bounce_unsubscribe_url is empty");
	printf("window %llds: sent=%lld hard=%lld (%.2f%%) complaints=%lld (%.2f%%) "
	       "min_volume=%lld\n", cb->state->pause.window_ms / 1000, ps.sent, ps.hard,
	       ct_pct(ps.hard, ps.sent), ps.complaints, ct_pct(ps.complaints, ps.sent),
	       cb->state->pause.min_volume);
	printf("thresholds: review bounce>%s complaint>%s, pause bounce>%s complaint>%s\n",
	       cb->conf->review_bounce_rate, cb->conf->review_complaint_rate,
	       cb->conf->pause_bounce_rate, cb->conf->pause_complaint_rate);
	if (ps.state == BOUNCE_PAUSE_OK)
		printf("state: ok\n");
	else
		printf("state: %s since %s: %s\n", bounce_pause_state_name(ps.state),
		       ct_time(ps.since, ts, sizeof(ts)), ps.reason);
	return 0;
}

/* ct_show - tenant show TENANT, or tenant list */
static int
ct_show(const char *config_path, const char *name)
{
	const struct bounce_tenant *t;
	struct ctl_bounce cb;
	int rc = 1;

	if (ctl_bounce_open(config_path, &cb) < 0)
		return 1;
	if (name == NULL) {
		size_t n = cb.state->tenants ? cb.state->tenants->n : 0;

		rc = 0;
		for (size_t i = 0; i < n && rc == 0; i++)
			if (ct_show_one(&cb, &cb.state->tenants->t[i], true) < 0)
				rc = 1;
		if (rc == 0)
			printf("%zu tenant%s\n", n, n == 1 ? "" : "s");
	} else if ((t = ct_find(&cb, name)) != NULL) {
		rc = ct_show_one(&cb, t, false) < 0 ? 1 : 0;
	}
	ctl_bounce_close(&cb);
	return rc;
}

/* ct_resume - lift a review or a pause */
static int
ct_resume(const char *config_path, const char *name)
{
	const struct bounce_tenant *t;
	struct bounce_pause_status ps;
	struct ctl_bounce cb;
	const char *err;
	int rc = 1;

	if (ctl_bounce_open(config_path, &cb) < 0)
		return 1;
	if ((t = ct_find(&cb, name)) == NULL)
		goto out;
	if (bounce_pause_get(cb.pool, cb.conf->key_prefix, t->name, &cb.state->pause,
			     ctl_bounce_now_ms(), &ps, &err) < 0
	    || bounce_pause_resume(cb.pool, cb.conf->key_prefix, t->name, &err) < 0) {
		fprintf(stderr, "postmillctl: redis: %s\n", err ? err : "?");
		goto out;
	}
	if (ps.state == BOUNCE_PAUSE_OK)
		printf("%s: was not paused nor under review; window counters cleared\n",
		       t->name);
	else
		printf("%s: resumed (was %s: %s); window counters cleared\n", t->name,
		       bounce_pause_state_name(ps.state), ps.reason);
	rc = 0;
out:
	ctl_bounce_close(&cb);
	return rc;
}

/* ctl_tenant - dispatch tenant subcommands */
int
ctl_tenant(int argc, char **argv, const char *config_path)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return ct_check(argc - 1, argv + 1, config_path);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return ct_show(config_path, NULL);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return ct_show(config_path, argv[2]);
	if (argc == 3 && strcmp(argv[1], "resume") == 0)
		return ct_resume(config_path, argv[2]);
	ctl_help_command("tenant");
	return 2;
}
