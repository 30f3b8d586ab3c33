/*++
 * NAME
 *	ctl_dmarc 3
 * SUMMARY
 *	postmillctl dmarc report: send the DMARC aggregate reports (RFC 9990)
 * SYNOPSIS
 *	postmillctl [-c config] dmarc report [--dry-run DIR] [--day YYYYMMDD]
 *		[--resend]
 * DESCRIPTION
 *	For each UTC day that has ended and whose data postmill-auth still
 *	keeps in Redis (auth_report_record; auth_record.h has the keys), or
 *	only --day, and for each Policy Domain of that day not yet marked
 *	sent:
 *	1. read the rows and their counts, and the policy last seen;
 *	2. look up the domain's DMARC record now and take its rua mailto:
 *	   URIs (at most auth_report_max_uris). None: nothing to send, the
 *	   day is marked sent for that domain;
 *	3. RFC 9990 section 4: a URI whose host has another Organizational
 *	   Domain (RFC 9989 tree walk) than the Policy Domain is used only when
 *	   "<policy-domain>._report._dmarc.<host>" has a TXT record starting
 *	   with v=DMARC1; a rua there replaces the URI, if its host is the
 *	   same (otherwise neither is used). A temporary DNS failure leaves
 *	   the domain for the next run;
 *	4. build the XML, gzip it, name it, wrap it in a message (auth_aggr.h)
 *	   and drop the URIs whose "!size" limit the message exceeds;
 *	5. send it with "auth_report_sendmail -t -oi -f auth_report_from" to
 *	   the remaining addresses, so it leaves through the local MTA and is
 *	   signed by postmill-dkim like any other mail, and mark the domain's
 *	   day sent (PREFIX{D}sent:DOMAIN, the Report-ID, expiring with the
 *	   day's data): a day is reported once, and a second run the same day
 *	   sends nothing. The rows of a sent day expire a day later (not
 *	   auth_report_retention later): --resend, which ignores the mark
 *	   (same file name and Report-ID, as RFC 9990 asks of a re-sent
 *	   report), works for a day after sending.
 *	--dry-run DIR writes REPORT-FILE (the .xml.gz) and REPORT-FILE.eml
 *	(the message) into DIR instead of sending, and marks nothing.
 *
 *	Exit status: 0 all done; 1 something failed (Redis, DNS, sendmail:
 *	the domains that failed are tried again at the next run); 2 usage.
 *--*/
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth_aggr.h"
#include "auth_conf.h"
#include "auth_dmarc.h"
#include "cfg_common.h"
#include "ctl.h"
#include "dns.h"
#include "redis_common.h"
#include "xalloc.h"

#define CD_DAY		86400

struct cd {
	void		**values;
	const struct common_conf *common;
	const struct auth_conf *conf;
	struct redis_pool *pool;
	struct dns_resolver *dns;
	const char	*dry_dir;
	bool		 resend;
	char		 receiver[256];
	char		 org_name[256];
	int		 failures;
};

/* cd_txt - TXT lookups for the tree walk */
static int
cd_txt(void *arg, const char *name, struct dns_txt_result *out)
{
	return dns_query_txt(arg, name, out);
}

/* cd_open - configuration, Redis, DNS; 0 or -1 (printed) */
static int
cd_open(const char *config_path, struct cd *d)
{
	struct redis_conf rc;
	const char *why;

	if ((d->values = ctl_load(config_path)) == NULL)
		return -1;
	d->common = ctl_values(d->values, &cfg_common_section);
	d->conf = ctl_values(d->values, &auth_section);
	if (d->conf->report_key_prefix == NULL) {
		fprintf(stderr, "postmillctl: auth_report_key_prefix is empty\n");
		return -1;
	}
	if (d->conf->report_from == NULL) {
		fprintf(stderr, "postmillctl: auth_report_from is empty: reports need "
			"a reporting address\n");
		return -1;
	}
	/* it goes into a header field and sendmail's argv: one plain address */
	if (strchr(d->conf->report_from, '@') == NULL || d->conf->report_from[0] == '-'
	    || strpbrk(d->conf->report_from, " \t\r\n<>(),;:\\\"") != NULL) {
		fprintf(stderr, "postmillctl: auth_report_from = %s: not a plain "
			"local@domain address\n", d->conf->report_from);
		return -1;
	}
	if (d->conf->report_receiver != NULL)
		snprintf(d->receiver, sizeof(d->receiver), "%s", d->conf->report_receiver);
	else if (gethostname(d->receiver, sizeof(d->receiver) - 1) < 0)
		d->receiver[0] = '\0';
	if (d->receiver[0] == '\0' || strpbrk(d->receiver, "!/ \t@<>") != NULL) {
		fprintf(stderr, "postmillctl: auth_report_receiver = %s: not a domain\n",
			d->receiver);
		return -1;
	}
	snprintf(d->org_name, sizeof(d->org_name), "%s",
		 d->conf->report_org_name ? d->conf->report_org_name : d->receiver);
	redis_common_conf(d->common, &rc);
	if ((d->pool = redis_pool_new(&rc, &why)) == NULL) {
		fprintf(stderr, "postmillctl: redis_server = %s: %s\n",
			rc.server ? rc.server : "", why);
		return -1;
	}
	if ((d->dns = dns_resolver_new(d->common->dns_resolver,
				       (long)d->common->dns_timeout / DNS_DEFAULT_ATTEMPTS,
				       &why)) == NULL) {
		fprintf(stderr, "postmillctl: dns_resolver = %s: %s\n",
			d->common->dns_resolver ? d->common->dns_resolver : "", why);
		return -1;
	}
	return 0;
}

/* cd_close - release what cd_open made */
static void
cd_close(struct cd *d)
{
	d->pool = redis_pool_free(d->pool);
	d->dns = dns_resolver_free(d->dns);
	ctl_unload(d->values);
}

/* cd_key - PREFIX{day}WHAT (WHAT ARG when arg is given); caller frees */
static char *
cd_key(const struct cd *d, const char *day, const char *what, const char *arg)
{
	char *suffix = xasprintf("%s%s", what, arg ? arg : ""), *k;

	k = redis_key(d->conf->report_key_prefix, day, suffix);
	free(suffix);
	return k;
}

/* cd_cmd - one command; NULL (printed, counted) on trouble */
static redisReply *
cd_cmd(struct cd *d, int argc, const char **argv)
{
	const char *err = NULL;
	redisReply *r = redis_commandargv(d->pool, argc, argv, NULL, &err);

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "postmillctl: redis %s: %s: %s\n", redis_pool_server(d->pool),
			argv[0], r ? r->str : err);
		if (r)
			freeReplyObject(r);
		d->failures++;
		return NULL;
	}
	return r;
}

/* one row of the HGETALL reply, before it is parsed */
struct cd_row {
	const redisReply *text;
	unsigned long long count;
};

/* cd_row_cmp - most messages first, then by row text */
static int
cd_row_cmp(const void *a, const void *b)
{
	const struct cd_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->text->str, y->text->str);
}

/*
 * cd_rows - the rows of one domain and day, sorted, still as text (a
 * parsed row is ~6 KB, its text ~200 bytes: a domain with 100,000 rows
 * is parsed one row at a time while the XML is written). Count of rows,
 * -1 on trouble; *reply holds the texts (caller frees both).
 */
static long
cd_rows(struct cd *d, const char *day, const char *domain, redisReply **reply,
	struct cd_row **out, unsigned long long *messages)
{
	char *key = cd_key(d, day, "rows:", domain);
	const char *argv[] = {"HGETALL", key};
	redisReply *r = cd_cmd(d, 2, argv);
	size_t i, n = 0;

	free(key);
	*out = NULL;
	*reply = r;
	*messages = 0;
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
		return 0;
	*out = xcalloc(r->elements / 2, sizeof(**out));
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		char *end;

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		(*out)[n].text = f;
		(*out)[n].count = strtoull(v->str, &end, 10);
		if (*end != '\0' || (*out)[n].count == 0)
			continue;
		*messages += (*out)[n].count;
		n++;
	}
	if (n > 1)
		qsort(*out, n, sizeof(**out), cd_row_cmp);
	return (long)n;
}

/* cd_xml - the report document; rows that do not parse are left out */
static char *
cd_xml(const char *day, const char *domain, const struct auth_aggr_meta *meta,
       const struct auth_record_policy *pol, const struct cd_row *rows, long nrows,
       size_t *len, size_t *used, unsigned long long *messages)
{
	struct auth_aggr_doc *doc = auth_aggr_doc_new(meta, pol);
	struct auth_record_row *row = xmalloc(sizeof(*row));
	const char *why;
	long i;

	*used = 0;
	*messages = 0;
	for (i = 0; i < nrows; i++) {
		if (auth_record_row_parse(rows[i].text->str, rows[i].text->len, row, &why) < 0) {
			fprintf(stderr, "postmillctl: dmarc: %s %s: a row skipped: %s\n",
				day, domain, why);
			continue;
		}
		auth_aggr_doc_record(doc, row, rows[i].count);
		(*used)++;
		*messages += rows[i].count;
	}
	free(row);
	return auth_aggr_doc_end(doc, len);
}

/* cd_lookup - TXT records of name; DNS status */
static int
cd_lookup(struct cd *d, const char *name, struct dns_txt_result *r)
{
	return dns_query_txt(d->dns, name, r);
}

/* cd_same_org - do a and b have one Organizational Domain; -1 temporary */
static int
cd_same_org(struct cd *d, const char *a, const char *b)
{
	char oa[ADDR_DOMAIN_MAX + 1], ob[ADDR_DOMAIN_MAX + 1];
	struct auth_dmarc_ctx dc;
	int rc = -1;

	auth_dmarc_ctx_init(&dc, cd_txt, d->dns, AUTH_DMARC_ORG_TREE_WALK, NULL, 32);
	if (auth_dmarc_org_domain(&dc, a, oa, sizeof(oa)) == 0
	    && auth_dmarc_org_domain(&dc, b, ob, sizeof(ob)) == 0)
		rc = strcasecmp(oa, ob) == 0;
	auth_dmarc_ctx_clear(&dc);
	return rc;
}

/*
 * cd_verify - RFC 9990 section 4 for one URI: 1 use it (maybe replaced by
 * the Report Consumer's own rua), 0 not authorized, -1 DNS trouble.
 */
static int
cd_verify(struct cd *d, const char *domain, struct auth_aggr_uri *u)
{
	struct dns_txt_result r;
	struct auth_aggr_uri over[AUTH_AGGR_URIS_MAX];
	char *name;
	const char *why;
	int same, rc = 0, n;
	size_t i;

	if ((same = cd_same_org(d, domain, u->host)) != 0)
		return same;		/* 1: same organization; -1: DNS trouble */
	name = xasprintf("%s._report._dmarc.%s", domain, u->host);
	if (strlen(name) > ADDR_DOMAIN_MAX) {
		free(name);		/* step 4: too long, no positive answer */
		return 0;
	}
	switch (cd_lookup(d, name, &r)) {
	case DNS_OK:
		break;
	case DNS_TEMPFAIL:
		free(name);
		dns_txt_result_clear(&r);
		return -1;
	default:
		free(name);
		dns_txt_result_clear(&r);
		return 0;
	}
	for (i = 0; i < r.count; i++) {
		if (!auth_aggr_is_dmarc1(r.txt[i].data, r.txt[i].len))
			continue;
		rc = 1;
		n = auth_aggr_rua_parse(r.txt[i].data, r.txt[i].len, over, 1, &why);
		if (n == 1) {
			/* step 9: an override must keep the destination host */
			if (strcmp(over[0].host, u->host) != 0)
				rc = 0;
			else
				*u = over[0];
		}
		break;
	}
	free(name);
	dns_txt_result_clear(&r);
	return rc;
}

/* cd_destinations - the rua URIs to use; count, or -1 DNS trouble */
static int
cd_destinations(struct cd *d, const char *domain, struct auth_aggr_uri *uris)
{
	struct dns_txt_result r;
	struct auth_aggr_uri all[AUTH_AGGR_URIS_MAX];
	char *name = xasprintf("_dmarc.%s", domain);
	const char *why = NULL;
	size_t i, found = 0, use = 0;
	int st = cd_lookup(d, name, &r), n = 0, v;

	free(name);
	if (st == DNS_TEMPFAIL) {
		fprintf(stderr, "postmillctl: dmarc: %s: DNS: %s\n", domain,
			r.why ? r.why : "temporary failure");
		dns_txt_result_clear(&r);
		return -1;
	}
	for (i = 0; st == DNS_OK && i < r.count; i++)
		if (auth_aggr_is_dmarc1(r.txt[i].data, r.txt[i].len) && found++ == 0)
			n = auth_aggr_rua_parse(r.txt[i].data, r.txt[i].len, all,
						(size_t)d->conf->report_max_uris, &why);
	dns_txt_result_clear(&r);
	if (found != 1)
		n = 0;		/* RFC 9989 4.10: several records are none */
	for (i = 0; i < (size_t)(n > 0 ? n : 0); i++) {
		if ((v = cd_verify(d, domain, &all[i])) < 0)
			return -1;
		if (v == 0) {
			printf("dmarc: %s: %s does not accept reports for %s (RFC 9990 "
			       "section 4): not used\n", domain, all[i].host, domain);
			continue;
		}
		uris[use++] = all[i];
	}
	return (int)use;
}

/* cd_sendmail - pipe the message to the MTA; 0 or -1 (printed) */
static int
cd_sendmail(struct cd *d, const char *msg, size_t len)
{
	int fds[2], status;
	pid_t pid;
	size_t off = 0;

	if (pipe(fds) < 0) {
		perror("postmillctl: pipe");
		return -1;
	}
	if ((pid = fork()) < 0) {
		perror("postmillctl: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(d->conf->report_sendmail, d->conf->report_sendmail, "-t", "-oi",
		      "-f", d->conf->report_from, (char *)NULL);
		fprintf(stderr, "postmillctl: %s: %s\n", d->conf->report_sendmail,
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	while (off < len) {
		ssize_t w = write(fds[1], msg + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (off < len || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "postmillctl: dmarc: %s failed (exit %d)\n",
			d->conf->report_sendmail, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/* cd_write - a file of the dry run; 0 or -1 (printed) */
static int
cd_write(const char *dir, const char *file, const char *suffix, const void *data,
	 size_t len)
{
	char *path = xasprintf("%s/%s%s", dir, file, suffix);
	FILE *fp = fopen(path, "wb");
	int rc = 0;

	if (fp == NULL || fwrite(data, 1, len, fp) != len) {
		fprintf(stderr, "postmillctl: %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	if (fp != NULL && fclose(fp) != 0)
		rc = -1;
	if (rc == 0)
		printf("dmarc: wrote %s\n", path);
	free(path);
	return rc;
}

/*
 * cd_mark - the domain's day is done: the sent mark lives as long as the
 * day's other keys; the rows, no longer needed, only one more day (enough
 * for --resend), so that a sent day stops taking Redis memory long before
 * auth_report_retention, which exists for the days not yet sent.
 */
static void
cd_mark(struct cd *d, const char *day, const char *domain, const char *rid)
{
	char *key = cd_key(d, day, "sent:", domain), *rows = cd_key(d, day, "rows:", domain);
	char ttl[24], keep[24];
	const char *argv[] = {"SET", key, rid, "EX", ttl};
	const char *ttl_argv[] = {"TTL", rows};
	const char *exp_argv[] = {"EXPIRE", rows, keep};
	redisReply *r;

	snprintf(ttl, sizeof(ttl), "%lld", d->conf->report_retention / 1000);
	snprintf(keep, sizeof(keep), "%d", CD_DAY);
	if ((r = cd_cmd(d, 5, argv)) != NULL)
		freeReplyObject(r);
	if ((r = cd_cmd(d, 2, ttl_argv)) != NULL) {
		if (r->type == REDIS_REPLY_INTEGER && r->integer > CD_DAY) {
			freeReplyObject(r);
			r = cd_cmd(d, 3, exp_argv);
		}
		if (r)
			freeReplyObject(r);
	}
	free(rows);
	free(key);
}

/* cd_is_sent - was the domain's day reported; -1 on trouble */
static int
cd_is_sent(struct cd *d, const char *day, const char *domain)
{
	char *key = cd_key(d, day, "sent:", domain);
	const char *argv[] = {"EXISTS", key};
	redisReply *r = cd_cmd(d, 2, argv);
	int rc = r == NULL ? -1 : r->type == REDIS_REPLY_INTEGER && r->integer > 0;

	if (r)
		freeReplyObject(r);
	free(key);
	return rc;
}

/* cd_deliver - message to the URIs it fits; 0 done, -1 failed */
static int
cd_deliver(struct cd *d, struct auth_aggr_mail *m, const struct auth_aggr_uri *uris,
	   int nuris, const char *filename, const unsigned char *gz, size_t gzlen)
{
	const char *to[AUTH_AGGR_URIS_MAX];
	char *msg;
	size_t len, i, nto = 0;
	int rc;

	/* the size of the message decides, before we know the To: field: with
	 * every address it is at most a few hundred bytes longer */
	for (i = 0; i < (size_t)nuris; i++)
		to[nto++] = uris[i].addr;
	m->to = to;
	m->nto = nto;
	if ((msg = auth_aggr_message(m, &len)) == NULL) {
		fprintf(stderr, "postmillctl: dmarc: %s: message over %d bytes: not sent\n",
			m->policy_domain, AUTH_AGGR_TEXT_MAX);
		return -1;
	}
	for (i = 0, nto = 0; i < (size_t)nuris; i++) {
		if (uris[i].max_size > 0 && len > uris[i].max_size) {
			printf("dmarc: %s: report of %zu bytes exceeds %s's limit of %llu: "
			       "not sent there\n", m->policy_domain, len, uris[i].addr,
			       uris[i].max_size);
			continue;
		}
		to[nto++] = uris[i].addr;
	}
	free(msg);
	m->nto = nto;
	if ((msg = auth_aggr_message(m, &len)) == NULL)
		return -1;	/* not longer than the first one */
	if (d->dry_dir != NULL)
		rc = cd_write(d->dry_dir, filename, "", gz, gzlen) < 0
		    || cd_write(d->dry_dir, filename, ".eml", msg, len) < 0 ? -1 : 0;
	else if (nto == 0)
		rc = 0;
	else if ((rc = cd_sendmail(d, msg, len)) == 0)
		printf("dmarc: %s: sent %s (%llu messages, %zu rows) to %zu address%s\n",
		       m->policy_domain, m->report_id, m->messages, m->rows, nto,
		       nto == 1 ? "" : "es");
	free(msg);
	return rc;
}

/* cd_domain - one Policy Domain of one day */
static void
cd_domain(struct cd *d, const char *day, long long begin, const char *domain,
	  const char *poltext, size_t pollen)
{
	struct auth_record_policy pol;
	struct cd_row *rows = NULL;
	redisReply *reply = NULL;
	struct auth_aggr_uri uris[AUTH_AGGR_URIS_MAX];
	struct auth_aggr_meta meta;
	struct auth_aggr_mail mail;
	char uid[17], rid[300], file[700];
	unsigned long long messages;
	unsigned char *gz = NULL;
	size_t xlen, gzlen, used;
	char *xml;
	const char *why;
	long nrows;
	int nuris, sent;

	if (!d->resend && d->dry_dir == NULL && (sent = cd_is_sent(d, day, domain)) != 0) {
		if (sent > 0)
			printf("dmarc: %s %s: already sent\n", day, domain);
		return;
	}
	if (auth_record_policy_parse(poltext, pollen, &pol, &why) < 0) {
		fprintf(stderr, "postmillctl: dmarc: %s %s: %s\n", day, domain, why);
		d->failures++;
		return;
	}
	snprintf(pol.domain, sizeof(pol.domain), "%s", domain);
	if ((nrows = cd_rows(d, day, domain, &reply, &rows, &messages)) <= 0)
		goto out;
	if ((nuris = cd_destinations(d, domain, uris)) < 0) {
		d->failures++;
		goto out;
	}
	auth_aggr_unique_id(d->receiver, domain, begin, uid);
	if (auth_aggr_report_id(uid, d->receiver, rid, sizeof(rid)) < 0
	    || auth_aggr_filename(d->receiver, domain, begin, begin + CD_DAY - 1, uid,
				  file, sizeof(file)) < 0) {
		fprintf(stderr, "postmillctl: dmarc: %s: name too long\n", domain);
		d->failures++;
		goto out;
	}
	if (nuris == 0 && d->dry_dir == NULL) {
		printf("dmarc: %s %s: no rua destination (%llu messages): nothing sent\n",
		       day, domain, messages);
		cd_mark(d, day, domain, rid);
		goto out;
	}
	meta = (struct auth_aggr_meta){d->org_name, d->conf->report_from, rid,
				       "postmill " POSTMILL_VERSION, begin,
				       begin + CD_DAY - 1};
	xml = cd_xml(day, domain, &meta, &pol, rows, nrows, &xlen, &used, &messages);
	if (used == 0) {
		fprintf(stderr, "postmillctl: dmarc: %s %s: no usable row\n", day, domain);
		d->failures++;
	} else if (xml == NULL) {
		fprintf(stderr, "postmillctl: dmarc: %s %s: report over %d bytes: not sent\n",
			day, domain, AUTH_AGGR_TEXT_MAX);
		d->failures++;
	} else if (auth_aggr_gzip(xml, xlen, &gz, &gzlen, &why) < 0) {
		fprintf(stderr, "postmillctl: dmarc: %s: gzip: %s\n", domain, why);
		d->failures++;
	} else {
		mail = (struct auth_aggr_mail){d->conf->report_from, NULL, 0, domain,
					       d->receiver, rid, file, gz, gzlen, begin,
					       begin + CD_DAY - 1, messages, used, time(NULL)};
		if (cd_deliver(d, &mail, uris, nuris, file, gz, gzlen) < 0)
			d->failures++;
		else if (d->dry_dir == NULL)
			cd_mark(d, day, domain, rid);
	}
	free(gz);
	free(xml);
out:
	free(rows);
	if (reply)
		freeReplyObject(reply);
}

/* cd_day - every Policy Domain of one day */
static void
cd_day(struct cd *d, long long begin)
{
	char day[9], *key = NULL;
	const char *argv[2];
	redisReply *r;
	size_t i;

	auth_record_day((time_t)begin, day);
	key = cd_key(d, day, "dropped", NULL);
	argv[0] = "GET";
	argv[1] = key;
	if ((r = cd_cmd(d, 2, argv)) != NULL && r->type == REDIS_REPLY_STRING)
		fprintf(stderr, "postmillctl: dmarc: %s: %s messages were not counted "
			"(auth_report_max_rows)\n", day, r->str);
	if (r)
		freeReplyObject(r);
	free(key);
	key = cd_key(d, day, "domains", NULL);
	argv[0] = "HGETALL";
	argv[1] = key;
	r = cd_cmd(d, 2, argv);
	free(key);
	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];

		if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING
		    && strlen(f->str) == f->len && f->len <= ADDR_DOMAIN_MAX
		    && strpbrk(f->str, "!/ \t\r\n") == NULL)
			cd_domain(d, day, begin, f->str, v->str, v->len);
	}
	if (r)
		freeReplyObject(r);
}

/* cd_parse_day - YYYYMMDD or YYYY-MM-DD to its 00:00 UTC; -1 bad */
static long long
cd_parse_day(const char *s)
{
	struct tm tm;
	int y, m, dd;
	char extra;

	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &dd, &extra) != 3
	    && sscanf(s, "%4d%2d%2d%c", &y, &m, &dd, &extra) != 3)
		return -1;
	if (y < 1970 || m < 1 || m > 12 || dd < 1 || dd > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = dd;
	return (long long)timegm(&tm);
}

/* ctl_dmarc - the dmarc subcommand */
int
ctl_dmarc(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"dry-run", required_argument, NULL, 'n'},
		{"day", required_argument, NULL, 'd'},
		{"resend", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct cd d;
	long long day = -1, today, first, t;
	struct stat sb;
	int opt;

	memset(&d, 0, sizeof(d));
	if (argc < 2 || strcmp(argv[1], "report") != 0) {
		fprintf(stderr, "usage: postmillctl dmarc report [--dry-run DIR] "
			"[--day YYYYMMDD] [--resend]\n");
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': d.dry_dir = optarg; break;
		case 'd':
			if ((day = cd_parse_day(optarg)) < 0) {
				fprintf(stderr, "postmillctl: --day %s: not YYYYMMDD\n", optarg);
				return 2;
			}
			break;
		case 'r': d.resend = true; break;
		default: return 2;
		}
	}
	if (optind != argc)
		return 2;
	if (d.dry_dir != NULL && (stat(d.dry_dir, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "postmillctl: --dry-run %s: not a directory\n", d.dry_dir);
		return 2;
	}
	if (cd_open(config_path, &d) < 0) {
		cd_close(&d);
		return 1;
	}
	today = (long long)time(NULL) / CD_DAY * CD_DAY;
	if (day >= 0) {
		cd_day(&d, day);
	} else {
		/* every day that has ended and may still be in Redis */
		first = today - (d.conf->report_retention / 1000 / CD_DAY + 1) * CD_DAY;
		for (t = first; t < today; t += CD_DAY)
			cd_day(&d, t);
	}
	cd_close(&d);
	return d.failures ? 1 : 0;
}
