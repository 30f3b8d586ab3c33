/*++
 * NAME
 *	auth_milter 3
 * SUMMARY
 *	postmill-auth libmilter callbacks
 * DESCRIPTION
 *	Thin callbacks (STYLE 2.2): they copy what they need (bounded) and
 *	call the plain modules: auth_ar (Authentication-Results), auth_from,
 *	auth_dkim, auth_dmarc, auth_policy, auth_report. What to do with a
 *	received Authentication-Results field is auth_upstream.c's decision;
 *	everything decided at end of message (upstream trust, trusted
 *	senders and forwarders, the verdict, the header values, quarantine,
 *	the reply) is auth_eom_decide.c's; eom gathers, applies and logs.
 *
 *	Connection: connect keeps the client address and {j}, the MTA's
 *	host name (the SPF receiver, RFC 7208 9.1); helo keeps the HELO
 *	name.
 *
 *	Message life: envfrom takes a snapshot and decides whether the
 *	client is ours to check (authenticated and internal clients are not,
 *	unless auth_check_*: their mail is outbound), then runs SPF for the
 *	HELO and MAIL FROM identities (auth_spf.c) with the snapshot's
 *	evaluator, so the DNS work overlaps the transfer of the message
 *	(Postfix does not wait for the MAIL reply: SMFIP_NR_MAIL); header collects From
 *	values, parses at most auth_max_ar_headers Authentication-Results
 *	fields (marking those that claim our authserv-id for removal and
 *	keeping the passes of trusted upstream ids) and feeds libopendkim;
 *	body feeds libopendkim; eom evaluates, removes the forged headers,
 *	prepends Received-SPF and Authentication-Results, counts the message
 *	for DMARC aggregate reports when auth_report_record is on (auth_record.h:
 *	best effort, never changes the verdict), applies the verdict and logs
 *	one line (milter_conn_decision(): client= and login= last):
 *	  QID: auth: action=accept reason=none from=example.com dmarc=pass
 *	      policy=reject spf=pass:example.com spf_helo=none
 *	      dkim=pass:example.com:s1 ar_removed=1 ... client=192.0.2.1
 *	abort and close drop the message.
 *
 *	Replies: DMARC reject 550 5.7.1 naming the domain; a From that is
 *	not exactly one address 550 5.7.1 (auth_on_bad_from); DMARC
 *	temperror under tempfail 451 4.3.0; with auth_reject_on_spf_fail,
 *	SPF fail 550 5.7.23 and SPF temperror under tempfail 451 4.7.24
 *	(RFC 7372 3.2). The SPF reject comes at end of message, not at
 *	MAIL or RCPT: a trusted sender (a From domain) is known only then,
 *	the dry run logs the whole verdict in one line, and one decision
 *	function (auth_policy.c) orders SPF, From and DMARC. Every reply
 *	comes from the one table in auth_reply.c. Quarantine: smfi_quarantine()
 *	or an X-Postmill-Quarantine header (auth_quarantine_mode).
 *	Protocol: SMFIP_HDR_LEADSPC (exact header bytes for DKIM), no
 *	replies for connect, HELO, MAIL, header, end of header and body (SMFIP_NR_*).
 *--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "auth.h"
#include "auth_ar.h"
#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "auth_eom_decide.h"
#include "auth_from.h"
#include "auth_milter.h"
#include "auth_stats.h"
#include "auth_policy.h"
#include "auth_record.h"
#include "auth_reply.h"
#include "auth_report.h"
#include "auth_spf.h"
#include "auth_upstream.h"
#include "log.h"
#include "milter_conn.h"
#include "milter_main.h"
#include "milter_reply.h"
#include "xalloc.h"

#define AUTH_FROM_KEEP		2	/* From values kept; more is "several" */
#define AUTH_AR_REMOVE_MAX	64	/* forged headers removed per message */

struct auth_conn {
	struct milter_conn	 mc;		/* first: client, snapshot, login, qid */
	char			 receiver[AUTH_SPF_HELO_MAX];	/* {j} */
	char			 helo[AUTH_SPF_HELO_MAX];
	bool			 leadspace;
	/* the message in progress */
	bool			 skip;		/* not ours to check */
	struct auth_dkim_msg	*dkim;
	char			*from[AUTH_FROM_KEEP];
	size_t			 nfrom;
	unsigned		 ar_seen;	/* AR fields so far (1-based index) */
	unsigned		 ar_parsed;
	unsigned		 ar_remove[AUTH_AR_REMOVE_MAX];
	size_t			 nremove;
	struct auth_upstream	 upstream;	/* trusted upstream passes */
	struct auth_spf		 spf;
	struct auth_ar		*ar;		/* parse buffer (large) */
};

/* auth_state_of - this message's loaded state */
static const struct auth_state *
auth_state_of(const struct auth_conn *c)
{
	return c->mc.snap->state;
}

/* auth_conn_end_message - drop message state and the snapshot */
static void
auth_conn_end_message(struct auth_conn *c)
{
	size_t i;

	c->dkim = auth_dkim_msg_free(c->dkim);
	for (i = 0; i < c->nfrom && i < AUTH_FROM_KEEP; i++)
		c->from[i] = xfree(c->from[i]);
	auth_upstream_clear(&c->upstream);
	c->spf.done = false;
	c->nfrom = c->nremove = 0;
	c->ar_seen = c->ar_parsed = 0;
	c->skip = false;
	milter_conn_end_message(&c->mc);
}

/* auth_conn_get - the connection state, made on first use */
static struct auth_conn *
auth_conn_get(SMFICTX *ctx)
{
	struct auth_conn *c = milter_conn_get(ctx, sizeof(*c));

	if (c->ar == NULL)
		c->ar = xmalloc(sizeof(*c->ar));
	return c;
}

/* auth_xxfi_negotiate - exact header bytes, no replies we do not need */
static sfsistat
auth_xxfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		    unsigned long f2, unsigned long f3, unsigned long *pf0,
		    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA
	    | SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL
	    | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;
	unsigned long need = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
	struct auth_conn *c;

	if ((f0 & need) != need)
		return SMFIS_REJECT;
	*pf0 = need;
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	c = auth_conn_get(ctx);
	c->leadspace = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

/* auth_xxfi_connect - remember the client address */
static sfsistat
auth_xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct auth_conn *c = auth_conn_get(ctx);
	const char *v;

	(void)host;
	milter_conn_connect(&c->mc, sa);
	snprintf(c->receiver, sizeof(c->receiver), "%s",
		 (v = smfi_getsymval(ctx, "j")) != NULL ? v : "");
	c->helo[0] = '\0';
	return SMFIS_CONTINUE;
}

/* auth_xxfi_helo - the HELO identity (RFC 7208 2.3); a new one replaces it */
static sfsistat
auth_xxfi_helo(SMFICTX *ctx, char *name)
{
	struct auth_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		snprintf(c->helo, sizeof(c->helo), "%s", name ? name : "");
	return SMFIS_CONTINUE;
}

/* auth_xxfi_envfrom - new message: snapshot, is it ours to check, SPF */
static sfsistat
auth_xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct auth_conn *c = smfi_getpriv(ctx);
	const struct auth_conf *conf;
	const char *why;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	auth_conn_end_message(c);
	if (milter_conn_mail(&c->mc, ctx) < 0)
		return SMFIS_TEMPFAIL;
	conf = c->mc.snap->conf;
	if (!auth_policy_checks_client(c->mc.authenticated, c->mc.internal,
				       conf->check_authenticated, conf->check_internal)) {
		c->skip = true;
		return SMFIS_CONTINUE;
	}
	/* SPF needs an IP address: a local (unix socket) client has none */
	if (c->mc.client.have_sa && auth_state_of(c)->spf != NULL)
		auth_spf_check(&c->spf, auth_state_of(c)->spf, c->mc.client.addr,
			       c->helo, argv != NULL ? argv[0] : NULL,
			       c->receiver[0] ? c->receiver
			       : auth_state_of(c)->hostname, (long)time(NULL));
	c->dkim = auth_dkim_msg_new(auth_state_of(c)->dkim, auth_txt,
				    (void *)auth_state_of(c), &why);
	if (c->dkim == NULL)
		log_msg(LOG_WARNING, milter_conn_qid(&c->mc, ctx),
			"auth: dkim: cannot verify: %s", why);
	return SMFIS_CONTINUE;
}

/* auth_xxfi_header - From values, AR fields, DKIM input */
static sfsistat
auth_xxfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct auth_conn *c = smfi_getpriv(ctx);
	const struct auth_conf *conf;
	const char *v = value;

	if (c == NULL || c->mc.snap == NULL || c->skip)
		return SMFIS_CONTINUE;
	conf = c->mc.snap->conf;
	if (c->dkim != NULL) {
		/* without LEADSPC the MTA ate the space after the colon */
		if (c->leadspace) {
			auth_dkim_header(c->dkim, name, value);
		} else {
			char *f = xmalloc(strlen(value) + 2);

			f[0] = ' ';
			strcpy(f + 1, value);
			auth_dkim_header(c->dkim, name, f);
			free(f);
		}
	}
	if (strcasecmp(name, "From") == 0) {
		if (c->nfrom < AUTH_FROM_KEEP)
			c->from[c->nfrom] = xstrdup(v);
		c->nfrom++;
	} else if (strcasecmp(name, "Authentication-Results") == 0) {
		bool parsed = c->ar_parsed < (unsigned)conf->max_ar_headers;

		c->ar_seen++;
		if (parsed) {
			c->ar_parsed++;
			auth_ar_parse(v, strlen(v), 0, c->ar, NULL);
		}
		switch (auth_upstream_classify(parsed ? c->ar : NULL,
					       auth_state_of(c)->authserv_id,
					       &conf->trusted_authserv_ids)) {
		case AUTH_UPSTREAM_REMOVE:
			if (c->nremove < AUTH_AR_REMOVE_MAX)
				c->ar_remove[c->nremove++] = c->ar_seen;
			break;
		case AUTH_UPSTREAM_TRUST:
			auth_upstream_keep(&c->upstream, c->ar);
			break;
		case AUTH_UPSTREAM_IGNORE:
			break;
		}
	}
	return SMFIS_CONTINUE;
}

/* auth_xxfi_eoh - signatures are known; never refuses (SMFIP_NR_EOH) */
static sfsistat
auth_xxfi_eoh(SMFICTX *ctx)
{
	struct auth_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->dkim != NULL && !c->skip)
		auth_dkim_eoh(c->dkim);
	return SMFIS_CONTINUE;
}

/* auth_xxfi_body - one chunk for libopendkim */
static sfsistat
auth_xxfi_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct auth_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->dkim != NULL && !c->skip)
		auth_dkim_body(c->dkim, data, len);
	return SMFIS_CONTINUE;
}

/* auth_log_dkim - "d:s:result,..." for the log line */
static void
auth_log_dkim(const struct auth_dkim_sig *s, size_t n, char *buf, size_t size)
{
	size_t i, k = 0;

	buf[0] = '\0';
	for (i = 0; i < n && k < size; i++) {
		char d[128], sel[80];

		log_escape(d, sizeof(d), s[i].domain, strlen(s[i].domain));
		log_escape(sel, sizeof(sel), s[i].selector, strlen(s[i].selector));
		k += snprintf(buf + k, size - k, "%s%s:%s:%s%s%s%s", i ? "," : "",
			      auth_dkim_res_name(s[i].res), d, sel,
			      s[i].res != AUTH_DKIM_PASS ? "(" : "",
			      s[i].res != AUTH_DKIM_PASS ? s[i].why : "",
			      s[i].res != AUTH_DKIM_PASS ? ")" : "");
	}
	if (n == 0)
		snprintf(buf, size, "none");
}

/* auth_log_spf - "result:domain" of the identity, and the HELO result */
static void
auth_log_spf(const struct auth_conn *c, const struct spf_outcome *spf,
	     const char *domain, char *buf, size_t size, char *hbuf, size_t hsize)
{
	char d[256];

	snprintf(buf, size, "none");
	snprintf(hbuf, hsize, "none");
	if (spf == NULL) {
		snprintf(buf, size, "skipped");
		snprintf(hbuf, hsize, "skipped");
		return;
	}
	log_escape(d, sizeof(d), domain, strlen(domain));
	snprintf(buf, size, "%s:%s", spf_result_name(spf->result), d[0] ? d : "-");
	if (c->spf.helo_checked)
		snprintf(hbuf, hsize, "%s", spf_result_name(c->spf.heloid.result));
}

/*
 * auth_insheader - insert a field at the top. With SMFIP_HDR_LEADSPC
 * the MTA stores "Name:" + value byte for byte, so the value brings its
 * own space (as postmill-dkim's signatures do); without it Postfix adds one.
 */
static int
auth_insheader(SMFICTX *ctx, const struct auth_conn *c, const char *name,
	       const char *value)
{
	char *v = c->leadspace ? xasprintf(" %s", value) : xstrdup(value);
	int rc = smfi_insheader(ctx, 0, (char *)name, v);

	free(v);
	return rc;
}

/* auth_apply - quarantine as decided, then the reply (auth_reply.c) */
static sfsistat
auth_apply(SMFICTX *ctx, const struct auth_conn *c,
	   const struct auth_eom_decision *d)
{
	switch (d->quarantine) {
	case AUTH_EOM_QUARANTINE_HEADER:
		auth_insheader(ctx, c, "X-Postmill-Quarantine", d->quarantine_text);
		break;
	case AUTH_EOM_QUARANTINE_MILTER:
		smfi_quarantine(ctx, (char *)d->quarantine_text);
		break;
	case AUTH_EOM_QUARANTINE_NONE:
		break;
	}
	if (d->reply == AUTH_REPLY_NONE)
		return SMFIS_CONTINUE;
	return milter_reply_apply(ctx, &auth_reply_table, d->reply, d->reply_arg);
}

/* auth_eom_record - count the message for DMARC aggregate reports */
static void
auth_eom_record(const struct auth_conn *c, const struct auth_record_in *in,
		const char *qid)
{
	const struct auth_conf *conf = c->mc.snap->conf;
	struct auth_record_store_conf sc = {
		conf->report_key_prefix, (long)(conf->report_retention / 1000),
		conf->report_max_rows,
	};

	auth_record_message(auth_state_of(c)->report_pool, &sc, in, time(NULL), qid);
}

/* auth_eom_input - the facts of this message for auth_eom_decide() */
static void
auth_eom_input(const struct auth_conn *c, struct auth_from_field *ff,
	       const struct auth_dkim_sig *sigs, size_t nsigs,
	       struct auth_eom_in *in)
{
	const struct auth_conf *conf = c->mc.snap->conf;
	size_t i;

	for (i = 0; i < c->nfrom && i < AUTH_FROM_KEEP; i++) {
		ff[i].value = c->from[i];
		ff[i].len = strlen(c->from[i]);
	}
	memset(in, 0, sizeof(*in));
	in->spf = c->spf.done ? &c->spf : NULL;
	in->from = ff;
	in->nfrom = c->nfrom;
	in->sigs = sigs;
	in->nsigs = nsigs;
	in->upstream = &c->upstream;
	in->client = c->mc.client.have_sa ?
	    (const struct sockaddr *)&c->mc.client.sa : NULL;
	in->trusted_forwarders = &conf->trusted_forwarders;
	in->trusted_senders = &conf->trusted_senders;
	in->authserv_id = auth_state_of(c)->authserv_id;
	in->opt.reject_on_spf_fail = conf->reject_on_spf_fail;
	in->opt.on_temperror = conf->on_temperror;
	in->opt.on_bad_from = conf->on_bad_from;
	in->opt.dry_run = conf->dry_run;
	in->quarantine_mode = conf->quarantine_mode;
	in->reporting = auth_state_of(c)->report_pool != NULL;
}

/* auth_eom_log - the one line per message, and the counters */
static void
auth_eom_log(SMFICTX *ctx, struct auth_conn *c, const struct auth_eom_decision *d,
	     const struct auth_dkim_sig *sigs, size_t nsigs, unsigned nqueries)
{
	const struct auth_conf *conf = c->mc.snap->conf;
	const struct auth_verdict *v = &d->v;
	const struct auth_dmarc_result *dr = &d->dmarc;
	char dkimlog[512], fromlog[300], spflog[300], helolog[40];

	auth_log_dkim(sigs, nsigs, dkimlog, sizeof(dkimlog));
	log_escape(fromlog, sizeof(fromlog), d->from.domain, strlen(d->from.domain));
	auth_log_spf(c, d->spf, d->spf_domain, spflog, sizeof(spflog), helolog,
		     sizeof(helolog));
	milter_conn_decision(&c->mc, ctx, v->would == AUTH_ACT_ACCEPT ? LOG_INFO : LOG_NOTICE,
		"auth", auth_action_name(v->action),
		"%s%s%sreason=%s from=%s from_status=%s "
		"dmarc=%s%s policy=%s%s record=%s spf=%s spf_helo=%s dkim=%s%s "
		"ar_removed=%zu dns_queries=%u",
		conf->dry_run ? "would=" : "", conf->dry_run ? auth_action_name(v->would) : "",
		conf->dry_run ? " " : "", auth_reason_name(v->reason),
		fromlog[0] ? fromlog : "-", auth_from_status_str(d->pin.from),
		d->pin.dmarc_done ? auth_dmarc_res_name(d->pin.dmarc) : "none",
		dr->spf_aligned ? " aligned=spf" : dr->dkim_aligned ? " aligned=dkim" : "",
		auth_dmarc_p_name(dr->policy), d->pin.testing ? " testing=y" : "",
		dr->record_domain[0] ? dr->record_domain : "-", spflog, helolog, dkimlog,
		c->dkim && auth_dkim_ignored(c->dkim) ? " dkim_ignored=yes" : "",
		c->nremove, nqueries);
	auth_stats_message(auth_action_name(v->action), auth_reason_name(v->reason),
			   d->pin.dmarc_done ? auth_dmarc_res_name(d->pin.dmarc) : "none",
			   auth_dmarc_p_name(dr->policy),
			   d->spf == NULL ? "skipped" : spf_result_name(d->spf->result));
	for (size_t k = 0; k < nsigs; k++)
		auth_stats_dkim(auth_dkim_res_name(sigs[k].res));
}

/*
 * auth_xxfi_eom - gather the facts, evaluate DMARC (the DNS part), let
 * auth_eom_decide() decide, apply: remove the forged fields, prepend
 * ours, count for reports, quarantine or reply; log one line
 */
static sfsistat
auth_xxfi_eom(SMFICTX *ctx)
{
	struct auth_conn *c = smfi_getpriv(ctx);
	const struct auth_state *st;
	const struct auth_conf *conf;
	struct auth_dkim_sig sigs[AUTH_DKIM_SIGS_MAX];
	struct auth_from_field ff[AUTH_FROM_KEEP];
	struct auth_eom_in in;
	struct auth_eom_decision *d;
	struct auth_dmarc_ctx dc;
	struct auth_dmarc_result dr;
	const char *qid;
	size_t nsigs = 0, i;
	unsigned nqueries = 0;
	sfsistat rc;

	if (c == NULL || c->mc.snap == NULL)
		return SMFIS_CONTINUE;
	qid = milter_conn_qid(&c->mc, ctx);
	if (c->skip) {
		milter_conn_decision(&c->mc, ctx, LOG_DEBUG, "auth", "skip",
				     "reason=outbound");
		auth_conn_end_message(c);
		return SMFIS_CONTINUE;
	}
	st = auth_state_of(c);
	conf = c->mc.snap->conf;
	if (c->dkim != NULL)
		nsigs = auth_dkim_eom(c->dkim, sigs, AUTH_DKIM_SIGS_MAX);
	auth_eom_input(c, ff, sigs, nsigs, &in);
	d = xmalloc(sizeof(*d));
	auth_eom_decide_dmarc_input(&in, d);
	memset(&dr, 0, sizeof(dr));
	if (d->dmarc_wanted) {
		auth_dmarc_ctx_init(&dc, auth_txt, (void *)st,
				    (enum auth_dmarc_org_mode)conf->dmarc_org_domain,
				    st->psl, (unsigned)conf->max_dns_queries);
		auth_dmarc_evaluate(&dc, &d->din, &dr);
		nqueries = dc.queries;
		auth_dmarc_ctx_clear(&dc);
	}
	auth_eom_decide(&in, d->dmarc_wanted ? &dr : NULL, d);

	/* forged headers first, from the last one so indexes hold */
	for (i = c->nremove; i > 0; i--)
		smfi_chgheader(ctx, "Authentication-Results", (int)c->ar_remove[i - 1], NULL);
	if (d->add_received_spf && (!d->received_spf_ok
	    || auth_insheader(ctx, c, "Received-SPF", d->received_spf) != MI_SUCCESS))
		log_msg(LOG_WARNING, qid, "auth: cannot add Received-SPF");
	if (auth_insheader(ctx, c, "Authentication-Results", d->ar) != MI_SUCCESS)
		log_msg(LOG_WARNING, qid, "auth: cannot add Authentication-Results");
	auth_eom_log(ctx, c, d, sigs, nsigs, nqueries);
	if (d->record) {
		struct auth_record_in ri = {
			c->mc.client.addr, in.spf, sigs, nsigs, d->from.domain, &d->dmarc,
			d->pin.dmarc, &d->v, conf->dry_run,
			conf->dmarc_org_domain == AUTH_DMARC_ORG_PSL,
		};

		auth_eom_record(c, &ri, qid);
	}
	rc = auth_apply(ctx, c, d);
	free(d);
	auth_conn_end_message(c);
	return rc;
}

/* auth_xxfi_abort - the MTA dropped the message */
static sfsistat
auth_xxfi_abort(SMFICTX *ctx)
{
	struct auth_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		auth_conn_end_message(c);
	return SMFIS_CONTINUE;
}

/* auth_xxfi_close - end of the connection; may come with no state */
static sfsistat
auth_xxfi_close(SMFICTX *ctx)
{
	struct auth_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		auth_conn_end_message(c);
	if ((c = milter_conn_take(ctx)) != NULL) {
		free(c->ar);
		free(c);
	}
	return SMFIS_CONTINUE;
}

const struct smfiDesc auth_milter_desc = {
	.xxfi_name = "postmill-auth",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = auth_xxfi_connect,
	.xxfi_helo = auth_xxfi_helo,
	.xxfi_envfrom = auth_xxfi_envfrom,
	.xxfi_header = auth_xxfi_header,
	.xxfi_eoh = auth_xxfi_eoh,
	.xxfi_body = auth_xxfi_body,
	.xxfi_eom = auth_xxfi_eom,
	.xxfi_abort = auth_xxfi_abort,
	.xxfi_close = auth_xxfi_close,
	.xxfi_negotiate = auth_xxfi_negotiate,
};
