/*++
 * NAME
 *	dkim_milter 3
 * SUMMARY
 *	postmill-dkim libmilter callbacks
 * DESCRIPTION
 *	Thin callbacks (STYLE 2.2): each gets its state, copies what it
 *	needs, calls a plain function (dkim_policy_decide, dkim_msg_*,
 *	dkim_canon_*, dkim_sign_*), maps the verdict to a reply and logs one
 *	line per decision with the queue id.
 *
 *	Connection state is made in connect and freed in close (which may
 *	come first, with no state). Message state is made in envfrom and
 *	freed in eom or abort; it holds the configuration snapshot for the
 *	whole message, so that a reload never changes the rules half-way.
 *
 *	Protocol: SMFIP_HDR_LEADSPC when the MTA offers it (simple header
 *	canonicalization needs the exact bytes). Every reply the MTA waits
 *	for costs two context switches on each side, which on the test VM
 *	was most of the milter's CPU time (perf: scheduler and thread
 *	wake-ups, not crypto). So the MTA waits only at end of header and
 *	end of message: no replies for connect, MAIL, header fields and body
 *	chunks (SMFIP_NR_*), no HELO, RCPT, DATA or unknown-command stages.
 *	Mail of clients that are not ours is let go at end of header, where
 *	the queue id is known for the log line.
 *
 *	Replies: unsignable mail under dkim_unsignable_action=tempfail gets
 *	451 4.7.0, =reject 550 5.7.1; a login that does not own the From
 *	address under dkim_login_mismatch_action=reject 550 5.7.1; a signer
 *	failure under dkim_signer_error_action=tempfail 451 4.3.0. Every
 *	reply comes from the one table in dkim_reply.c (dkim_reply_of()
 *	picks the row, milter_reply_apply() sets it).
 *--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "dkim.h"
#include "dkim_milter.h"
#include "dkim_reply.h"
#include "dkim_smaddr.h"
#include "dkim_stats.h"
#include "log.h"
#include "milter_conn.h"
#include "milter_main.h"
#include "xalloc.h"

struct dkim_conn {
	struct milter_conn	 mc;		/* first: client, snapshot, login, qid */
	bool			 leadspace;	/* SMFIP_HDR_LEADSPC negotiated */
	bool			 failed;	/* no snapshot at MAIL: tempfail at EOH */
	bool			 chgbody;	/* SMFIF_CHGBODY: may replace the body */
	bool			 chghdrs;	/* SMFIF_CHGHDRS: may change fields */
	/* the message in progress */
	struct dkim_msg		*msg;
	bool			 hosted;
};

/* dkim_conn_end_message - drop message state and the snapshot */
static void
dkim_conn_end_message(struct dkim_conn *c)
{
	c->msg = dkim_msg_free(c->msg);
	c->hosted = false;
	milter_conn_end_message(&c->mc);
}

/* dkim_state_of - the loaded state of this message's snapshot */
static const struct dkim_state *
dkim_state_of(const struct dkim_conn *c)
{
	return c->mc.snap->state;
}

/* dkim_conf_of - the dkim_ parameters of this message's snapshot */
static const struct dkim_conf *
dkim_conf_of(const struct dkim_conn *c)
{
	return c->mc.snap->conf;
}

/* dkim_xxfi_negotiate - ask for exact header bytes, skip what we do not use */
static sfsistat
dkim_xxfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		    unsigned long f2, unsigned long f3, unsigned long *pf0,
		    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN
	    | SMFIP_NODATA | SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_MAIL
	    | SMFIP_NR_HDR | SMFIP_NR_BODY;

	struct dkim_conn *c;

	if ((f0 & SMFIF_ADDHDRS) == 0)
		return SMFIS_REJECT;	/* cannot insert signatures: refuse the MTA */
	/*
	 * CHGBODY and CHGHDRS when offered: a message with lines over
	 * dkim_line_length_limit is signed broken as Postfix's SMTP client
	 * breaks them, and stored in that form (dkim_replace_long_lines)
	 */
	*pf0 = SMFIF_ADDHDRS | (f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS));
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	/* negotiate comes before connect: the session state starts here */
	c = milter_conn_get(ctx, sizeof(*c));
	c->leadspace = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->chgbody = (*pf0 & SMFIF_CHGBODY) != 0;
	c->chghdrs = (*pf0 & SMFIF_CHGHDRS) != 0;
	c->mc.nr = *pf1 & (SMFIP_NR_CONN | SMFIP_NR_MAIL);
	return SMFIS_CONTINUE;
}

/* dkim_xxfi_connect - remember the client address */
static sfsistat
dkim_xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct dkim_conn *c = milter_conn_get(ctx, sizeof(*c));

	milter_conn_connect(&c->mc, sa);
	return milter_conn_go_on(&c->mc, SMFIP_NR_CONN);
}

/* dkim_xxfi_envfrom - new message: snapshot, client kind */
static sfsistat
dkim_xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct dkim_conn *c = smfi_getpriv(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;	/* no negotiate and no connect: MTA waits */
	dkim_conn_end_message(c);
	if (milter_conn_mail(&c->mc, ctx) < 0) {
		/* cannot happen after start-up; refuse at EOH if the MTA won't wait */
		if (!milter_conn_no_reply(&c->mc, SMFIP_NR_MAIL))
			return SMFIS_TEMPFAIL;
		c->failed = true;
		return SMFIS_NOREPLY;
	}
	c->hosted = dkim_policy_hosted(c->mc.authenticated, c->mc.internal,
				       &dkim_state_of(c)->policy);
	if (c->hosted)
		c->msg = dkim_msg_new();
	return milter_conn_go_on(&c->mc, SMFIP_NR_MAIL);
}

/* dkim_let_go - mail from outside is not ours: log and stop here */
static sfsistat
dkim_let_go(SMFICTX *ctx, struct dkim_conn *c)
{
	milter_conn_decision(&c->mc, ctx, LOG_INFO, "dkim", "skip", "reason=%s",
			     dkim_reason_name(DKIM_R_EXTERNAL_CLIENT));
	dkim_stats_message("skip", dkim_reason_name(DKIM_R_EXTERNAL_CLIENT));
	dkim_conn_end_message(c);
	return SMFIS_ACCEPT;
}

/* dkim_xxfi_header - keep the field for signing (no reply: SMFIP_NR_HDR) */
static sfsistat
dkim_xxfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct dkim_conn *c = smfi_getpriv(ctx);
	const struct dkim_conf *conf;

	if (c == NULL || c->msg == NULL)
		return SMFIS_NOREPLY;
	conf = dkim_conf_of(c);
	dkim_msg_add_header(c->msg, name, value, c->leadspace,
			    (size_t)conf->max_headers, (size_t)conf->max_header_bytes,
			    (size_t)conf->line_length_limit);
	return SMFIS_NOREPLY;
}

/* dkim_reply - apply the reply of a policy result (dkim_reply.c) */
static sfsistat
dkim_reply(SMFICTX *ctx, enum dkim_action action, enum dkim_reason reason)
{
	enum dkim_reply r = dkim_reply_of(action, reason);

	if (r == DKIM_REPLY_NONE)
		return SMFIS_ACCEPT;
	return milter_reply_apply(ctx, &dkim_reply_table, r, NULL);
}

/* dkim_login_state - what the sender login map says about this message */
static enum dkim_login_state
dkim_login_state(const struct dkim_conn *c, const char *local, const char *domain)
{
	const struct dkim_loginmap *map = dkim_tables_loginmap(dkim_state_of(c)->tables);

	if (map == NULL || !c->mc.authenticated || local == NULL)
		return DKIM_LOGIN_UNCHECKED;
	switch (dkim_loginmap_check(map, local, domain, c->mc.login, NULL)) {
	case DKIM_LOGINMAP_ALLOWED: return DKIM_LOGIN_ALLOWED;
	case DKIM_LOGINMAP_NOT_LISTED: return DKIM_LOGIN_NOT_LISTED;
	default: return DKIM_LOGIN_NO_OWNER;
	}
}

/* dkim_xxfi_eoh - decide: sign (start hashing the body), skip, or refuse */
static sfsistat
dkim_xxfi_eoh(SMFICTX *ctx)
{
	struct dkim_conn *c = smfi_getpriv(ctx);
	struct dkim_policy_input in = {0};
	struct dkim_verdict v;
	const struct dkim_state *st;
	char *local = NULL, *domain = NULL, esc[256];
	const char *why = NULL, *qid;
	sfsistat rc;

	if (c == NULL)
		return SMFIS_CONTINUE;
	if (c->failed) {
		c->failed = false;
		return milter_reply_apply(ctx, &dkim_reply_table,
					  DKIM_REPLY_STATE_FAILED, NULL);
	}
	if (c->mc.snap == NULL)
		return SMFIS_CONTINUE;
	if (!c->hosted)
		return dkim_let_go(ctx, c);
	st = dkim_state_of(c);
	qid = milter_conn_qid(&c->mc, ctx);
	in.authenticated = c->mc.authenticated;
	in.internal = c->mc.internal;
	in.headers_over_limit = c->msg->over_limit;
	in.from = dkim_msg_from(c->msg, &local, &domain, &why);
	if (in.from == DKIM_FROM_OK) {
		enum dkim_tables_status ts = dkim_tables_lookup(st->tables, local,
								domain, &c->msg->match);

		in.keys = ts == DKIM_TABLES_MATCH ? c->msg->match.count : 0;
		in.login = dkim_login_state(c, local, domain);
		/* Sendmail rewrites address fields after us: sign its form */
		if (in.keys > 0 && (dkim_conf_of(c)->mta == DKIM_MTA_IS_SENDMAIL
				    || (dkim_conf_of(c)->mta == DKIM_MTA_AUTO
					&& dkim_mta_detect(smfi_getsymval(ctx, "v"))
					== DKIM_MTA_SENDMAIL)))
			in.from_unpredictable = dkim_msg_sendmail(c->msg, smfi_getsymval(ctx, "j"),
								  smfi_getsymval(ctx, "M"), qid);
	}
	v = dkim_policy_decide(&in, &st->policy);
	if (v.action == DKIM_ACT_SIGN) {
		const char *cwhy;

		if (dkim_msg_body_start(c->msg, st->body_canon,
					(size_t)dkim_conf_of(c)->line_length_limit,
					c->chgbody, &cwhy) < 0) {
			log_msg(LOG_ERR, qid, "dkim: body hash: %s", cwhy);
			v = dkim_policy_signer_error(dkim_conf_of(c)->signer_error_action);
		} else {
			free(local);
			free(domain);
			return SMFIS_CONTINUE;
		}
	}
	milter_conn_decision(&c->mc, ctx, v.action == DKIM_ACT_SKIP ? LOG_INFO : LOG_NOTICE,
			     "dkim", dkim_action_name(v.action), "reason=%s from_domain=%s%s%s",
			     dkim_reason_name(v.reason),
			     domain ? log_escape(esc, sizeof(esc), domain, strlen(domain)) : "-",
			     why ? " detail=" : "", why ? why : "");
	dkim_stats_message(dkim_action_name(v.action), dkim_reason_name(v.reason));
	free(local);
	free(domain);
	rc = dkim_reply(ctx, v.action, v.reason);
	dkim_conn_end_message(c);
	return rc;
}

/* dkim_xxfi_body - stream the chunk into the body hash (no reply) */
static sfsistat
dkim_xxfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct dkim_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->msg != NULL && c->msg->signing)
		dkim_msg_body_feed(c->msg, chunk, len);
	return SMFIS_NOREPLY;
}

/* dkim_sign_message - every signature of the match; 0 or -1 + why */
static int
dkim_sign_message(struct dkim_conn *c, char **values, const char **why)
{
	const struct dkim_state *st = dkim_state_of(c);
	const struct dkim_conf *conf = dkim_conf_of(c);
	struct dkim_sign_request reqs[DKIM_TABLES_MAX_KEYS];
	unsigned char bh[DKIM_CANON_DIGEST_LEN];
	size_t n = c->msg->match.count;
	long long now = (long long)time(NULL);
	const char **sign = NULL, **over = NULL;
	size_t n_sign = st->n_sign, n_over = st->n_oversign;
	int rc;

	if (dkim_msg_body_final(c->msg, bh, why) < 0)
		return -1;
	if (c->msg->n_unsigned > 0) {
		/* fields whose form under Sendmail is unknown (dkim_sendmail.c) */
		sign = xcalloc(n_sign + 1, sizeof(*sign));
		over = xcalloc(n_over + 1, sizeof(*over));
		n_sign = dkim_msg_sign_names(c->msg, st->sign_headers, st->n_sign, sign);
		n_over = dkim_msg_sign_names(c->msg, st->oversign_headers, st->n_oversign, over);
	}
	for (size_t i = 0; i < n; i++) {
		const struct dkim_tables_sig *sig = &c->msg->match.sig[i];

		reqs[i].domain = sig->domain;
		reqs[i].selector = sig->selector;
		reqs[i].key = dkim_state_key(st, sig->key);
		reqs[i].header_canon = st->header_canon;
		reqs[i].body_canon = st->body_canon;
		reqs[i].timestamp = now;
		reqs[i].expire = conf->signature_ttl ? now + conf->signature_ttl / 1000 : 0;
		reqs[i].sign_headers = sign ? sign : st->sign_headers;
		reqs[i].n_sign = n_sign;
		reqs[i].oversign_headers = over ? over : st->oversign_headers;
		reqs[i].n_oversign = n_over;
		reqs[i].oversign_if_present = st->oversign_if_present;
		reqs[i].n_oversign_if_present = st->n_oversign_if_present;
		if (reqs[i].key == NULL) {
			*why = "internal error: key not loaded";
			free(sign);
			free(over);
			return -1;
		}
	}
	rc = dkim_sign_headers(reqs, n, c->msg->fields, c->msg->nfields, bh,
			       values, why);
	free(sign);
	free(over);
	return rc;
}

/* dkim_replbody_out - one chunk of the new body to the MTA */
static int
dkim_replbody_out(void *ctx, const unsigned char *data, size_t len)
{
	return smfi_replacebody(ctx, (unsigned char *)data, (int)len) == MI_SUCCESS ? 0 : -1;
}

/*
 * dkim_replace_long_lines - store what was signed. Lines over
 * dkim_line_length_limit were hashed broken as Postfix's SMTP client
 * will break them on the way out (dkim_linewrap.h); local(8), virtual(8)
 * and LMTP would store them unbroken, and that copy would fail
 * verification. So the message itself is changed to the broken form:
 * each such header field (smfi_chgheader, by its index among fields of
 * that name) and the body (smfi_replacebody). Then no later hop breaks
 * anything and every copy is the signed one. Called before the
 * signatures are inserted, so that their insertion does not shift the
 * field indexes. An MTA that does not let milters change fields or the
 * body (an old Sendmail configuration) keeps the old behaviour: the
 * signature verifies on the SMTP path only, and *missing says so for
 * the log. 0, or -1 + why when a change failed.
 */
static int
dkim_replace_long_lines(SMFICTX *ctx, struct dkim_conn *c, unsigned *fields,
			unsigned *smfields, bool *body, const char **missing,
			const char **why)
{
	struct dkim_msg *m = c->msg;

	*fields = *smfields = 0;
	*body = false;
	*missing = NULL;
	for (size_t i = 0; i < m->nfields; i++) {
		const struct dkim_header_field *f = &m->fields[i];
		char *name, *value, *w;
		const char *v;
		int index = 1;

		/*
		 * a field in Sendmail's form (dkim_sendmail.c) is stored in it
		 * too; without CHGHDRS Sendmail still sends that form by SMTP
		 */
		bool sm = m->smformed != NULL && m->smformed[i];

		if (!m->wrapped[i] && !sm)
			continue;
		if (!c->chghdrs) {
			if (!sm)
				*missing = "SMFIF_CHGHDRS";
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (m->fields[j].name_len == f->name_len
			    && strncasecmp(m->fields[j].name, f->name, f->name_len) == 0)
				index++;
		name = xstrndup(f->name, f->name_len);
		v = f->field + f->name_len + 1;
		if (!c->leadspace && *v == ' ')
			v++;
		/* the MTA passes and takes folded values with LF line ends */
		value = w = xstrdup(v);
		for (const char *r = v; *r; r++)
			if (!(r[0] == '\r' && r[1] == '\n'))
				*w++ = *r;
		*w = '\0';
		if (smfi_chgheader(ctx, name, index, value) != MI_SUCCESS) {
			free(name);
			free(value);
			*why = "cannot change a header field";
			return -1;
		}
		free(name);
		free(value);
		if (sm)
			(*smfields)++;
		else
			(*fields)++;
	}
	if (m->wrap.breaks == 0)
		return 0;
	if (!m->keep_body) {
		*missing = "SMFIF_CHGBODY";
		return 0;
	}
	if (dkim_spool_read(&m->spool, dkim_replbody_out, ctx, why) < 0)
		return -1;
	*body = true;
	return 0;
}

/* dkim_xxfi_eom - sign and insert the DKIM-Signature fields */
static sfsistat
dkim_xxfi_eom(SMFICTX *ctx)
{
	struct dkim_conn *c = smfi_getpriv(ctx);
	char *values[DKIM_TABLES_MAX_KEYS] = {0}, sigs[512], folded[128] = "";
	const char *why = NULL, *qid, *missing = NULL;
	size_t n, off = 0;
	unsigned folded_fields = 0, sm_fields = 0;
	bool folded_body = false;
	sfsistat rc = SMFIS_CONTINUE;

	if (c == NULL || c->msg == NULL || !c->msg->signing) {
		if (c != NULL)
			dkim_conn_end_message(c);
		return SMFIS_CONTINUE;
	}
	qid = milter_conn_qid(&c->mc, ctx);
	n = c->msg->match.count;
	if (dkim_sign_message(c, values, &why) < 0) {
		enum dkim_action a =
		    dkim_policy_signer_error(dkim_conf_of(c)->signer_error_action).action;

		milter_conn_decision(&c->mc, ctx, LOG_ERR, "dkim", dkim_action_name(a),
				     "reason=%s detail=%s",
				     dkim_reason_name(DKIM_R_SIGNER_ERROR), why);
		dkim_stats_message(dkim_action_name(a), dkim_reason_name(DKIM_R_SIGNER_ERROR));
		rc = a == DKIM_ACT_TEMPFAIL ?
		    dkim_reply(ctx, a, DKIM_R_SIGNER_ERROR) : SMFIS_CONTINUE;
		dkim_conn_end_message(c);
		return rc;
	}
	if (dkim_replace_long_lines(ctx, c, &folded_fields, &sm_fields, &folded_body,
				    &missing, &why) < 0) {
		enum dkim_action a =
		    dkim_policy_signer_error(dkim_conf_of(c)->signer_error_action).action;

		milter_conn_decision(&c->mc, ctx, LOG_ERR, "dkim", dkim_action_name(a),
				     "reason=%s detail=%s",
				     dkim_reason_name(DKIM_R_SIGNER_ERROR), why);
		for (size_t i = 0; i < n; i++)
			free(values[i]);
		rc = a == DKIM_ACT_TEMPFAIL ?
		    dkim_reply(ctx, a, DKIM_R_SIGNER_ERROR) : SMFIS_CONTINUE;
		dkim_conn_end_message(c);
		return rc;
	}
	if (missing != NULL)
		log_msg(LOG_WARNING, qid, "dkim: lines over dkim_line_length_limit and the "
			"MTA did not grant %s: copies delivered without the SMTP client "
			"(local, virtual, LMTP) will fail verification", missing);
	sigs[0] = '\0';
	/* insert in reverse so that the first key's signature ends up on top */
	for (size_t i = n; i-- > 0;) {
		const char *v = c->leadspace ? values[i] : values[i] + 1;

		if (smfi_insheader(ctx, 0, "DKIM-Signature", (char *)v) != MI_SUCCESS) {
			log_msg(LOG_ERR, qid, "dkim: cannot insert DKIM-Signature");
			rc = SMFIS_TEMPFAIL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct dkim_tables_sig *sig = &c->msg->match.sig[i];
		int w = snprintf(sigs + off, sizeof(sigs) - off, "%s%s/%s/%s",
				 i ? "," : "", sig->domain, sig->selector,
				 dkim_key_algorithm(dkim_state_key(dkim_state_of(c), sig->key)));

		if (w > 0 && (size_t)w < sizeof(sigs) - off)
			off += (size_t)w;
		free(values[i]);
	}
	if (folded_fields > 0 || folded_body)
		snprintf(folded, sizeof(folded), " long_lines=broken(fields=%u,body=%s)",
			 folded_fields, folded_body ? "yes" : "no");
	/* address fields changed to the form Sendmail sends (dkim_sendmail.c) */
	if (c->msg->smformed_count > 0)
		snprintf(folded + strlen(folded), sizeof(folded) - strlen(folded), " sendmail_form=%u%s",
			 c->msg->smformed_count, sm_fields < c->msg->smformed_count ?
			 "(signed,not_stored)" : "");
	if (rc == SMFIS_CONTINUE) {
		milter_conn_decision(&c->mc, ctx, LOG_INFO, "dkim", "sign",
				     "signatures=%s%s", sigs, folded);
		dkim_stats_message("sign", "");
		for (size_t i = 0; i < n; i++)
			dkim_stats_signature(dkim_key_algorithm(dkim_state_key(dkim_state_of(c),
									 c->msg->match.sig[i].key)));
	} else {
		dkim_stats_message("tempfail", "insert_failed");
		rc = milter_reply_apply(ctx, &dkim_reply_table, DKIM_REPLY_SIGNER_ERROR, NULL);
	}
	dkim_conn_end_message(c);
	return rc;
}

/* dkim_xxfi_abort - the MTA dropped the message */
static sfsistat
dkim_xxfi_abort(SMFICTX *ctx)
{
	struct dkim_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		dkim_conn_end_message(c);
	return SMFIS_CONTINUE;
}

/* dkim_xxfi_close - end of the connection; may come with no state */
static sfsistat
dkim_xxfi_close(SMFICTX *ctx)
{
	struct dkim_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		dkim_conn_end_message(c);
	free(milter_conn_take(ctx));
	return SMFIS_CONTINUE;
}

const struct smfiDesc dkim_milter_desc = {
	.xxfi_name = "postmill-dkim",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_CHGHDRS,
	.xxfi_connect = dkim_xxfi_connect,
	.xxfi_envfrom = dkim_xxfi_envfrom,
	.xxfi_header = dkim_xxfi_header,
	.xxfi_eoh = dkim_xxfi_eoh,
	.xxfi_body = dkim_xxfi_body,
	.xxfi_eom = dkim_xxfi_eom,
	.xxfi_abort = dkim_xxfi_abort,
	.xxfi_close = dkim_xxfi_close,
	.xxfi_negotiate = dkim_xxfi_negotiate,
};
