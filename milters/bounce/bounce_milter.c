/*++
 * NAME
 *	bounce_milter 3
 * SUMMARY
 *	postmill-bounce libmilter callbacks
 * DESCRIPTION
 *	Thin callbacks (STYLE 2.2): each gets its state, copies what it
 *	needs, calls plain functions (bounce_tag.h, bounce_policy.h,
 *	bounce_msg.h, bounce_classify.h) and bounce_store.h, maps the
 *	result to a reply and logs one line per decision with the queue id.
 *
 *	A message is one of:
 *	- a bounce: a recipient is at bounce_domain. Its tag is checked at
 *	  RCPT (550 5.7.1 unless valid); at end of message the copy of the
 *	  message is classified, the message record is read, the result
 *	  recorded (one script), and the message delivered with headers,
 *	  redirected to the original sender or discarded (bounce_action).
 *	  Whoever the client is: bounces come from anywhere, internal hosts
 *	  included, and the null sender is what they normally carry.
 *	- a complaint to a feedback-loop address (bounce_fbl_addresses, a
 *	  local part at bounce_domain or a tenant's): accepted at RCPT whatever it
 *	  is; at end of message a complaint (an ARF report, or a report
 *	  that returns an original with our reference) is mapped back
 *	  through the original's X-Postmill-Ref, the tag in its Return-Path
 *	  or the report's Original-Mail-From (bounce_fbl.h), then recorded
 *	  as a bounce is. Anything else, and a complaint that does not map
 *	  (forged or edited references are logged), is delivered as it is:
 *	  it may be the provider's confirmation mail.
 *	- postmaster@ any bounce domain (any case): never refused (RFC 5321
 *	  section 4.5.1); ordinary mail, delivered where Postfix sends it,
 *	  never classified as a bounce of anyone.
 *	- outbound mail of a hosted sender (hosted.h) with a non-null
 *	  sender: recipients on the sender's suppression list are refused
 *	  at RCPT with 550 5.1.1; at end of message the record is saved,
 *	  the envelope sender changed to b-TAG@bounce_domain (smfi_chgfrom),
 *	  X-Postmill-Ref added (bounce_ref.h; the sender's own removed) and,
 *	  when configured, Feedback-ID (bounce_fbid.h; the sender's removed).
 *	- anything else: left alone.
 *	Tenants (bounce_tenant.h): a hosted message whose login or sender
 *	domain is in bounce_tenant_table is tagged at the tenant's bounce
 *	domain with that domain's derived key, checked against and recorded
 *	in the tenant's suppression list (t:NAME), counted as sent for the
 *	tenant's rates (bounce_pause.h; the record names the tenant, so a
 *	bounce's hard class or complaint counts for it) and, with the
 *	tenant's "unsubscribe", given RFC 8058 one-click headers
 *	(bounce_unsub.h), with its "track" and bounce_track_base_url, open
 *	and click tracking: the body of an HTML message is walked as it
 *	comes (bounce_track_msg.h; the tag id is chosen at the end of the
 *	header, as the tokens carry it) and replaced at end of message.
 *	Every tenant bounce domain takes bounces, complaints to the FBL
 *	addresses and postmaster mail like bounce_domain.
 *	Redis trouble follows bounce_on_redis_error: tempfail (451 4.3.0)
 *	or accept (no check, no tag, no record; logged as a warning).
 *	Every reply comes from the one table in bounce_reply.c.
 *
 *	Message state is reset at MAIL and freed at end of message, abort
 *	and close (which may come with no state at all).
 *
 *	Protocol: no HELO, DATA or unknown-command callbacks. Every stage
 *	the MTA waits for costs it and us a round trip, and only RCPT (a
 *	bad tag, a suppressed recipient, a Redis error) and end of message
 *	ever answer anything but "go on", whatever the configuration: the
 *	MTA is asked for no reply at connect, MAIL, each header field, end
 *	of header and each body chunk (SMFIP_NR_*; answered "go on" when
 *	it did not offer that, as Sendmail and old Postfix may not). A MAIL
 *	without a configuration snapshot (which cannot happen after
 *	start-up) is then tempfailed at each RCPT and at end of message.
 *
 *	Log lines (facility mail; milter_conn_decision() ends each in
 *	client=ADDR and, for an authenticated client, login=LOGIN):
 *	  QID: bounce: action=tag sender=<...> id=ID rcpts=N from=<...>
 *	      ref=yes feedback_id=a:b:c:SenderId tenant=T unsubscribe=added
 *	      track=rewritten links=N skipped=N pixel=yes (or why not:
 *	      signed, no_html, too_large, nothing_to_track, a decoding fault)
 *	  QID: bounce: action=reject stage=rcpt reason=suppressed rcpt=<...>
 *	      why=user_unknown since=...
 *	  QID: bounce: action=reject stage=rcpt tag=bad_mac rcpt=<...>
 *	  QID: bounce: action=record kind=dsn class=hard reason=user_unknown
 *	      rcpt=<...> status=5.1.1 sender=<...> orig_qid=... id=ID
 *	      events=N suppressed=N unlisted=N then=deliver
 *	  (unlisted: events about addresses the message was not sent to,
 *	  recorded on the stream but never suppressed; bounce_msg.h)
 *	  QID: bounce: action=accept stage=... reason=redis_error error="..."
 *	  QID: bounce: action=accept stage=rcpt kind=fbl|postmaster rcpt=<...>
 *	  QID: bounce: action=record kind=arf ... then=deliver via=ref
 *	      rcpt_by=record	(how the message and the recipient were found)
 *	  QID: bounce: action=ignore kind=arf map=forged why="..."
 *	      (a complaint at an FBL address that maps to nothing)
 *--*/
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libmilter/mfapi.h>
#include <openssl/rand.h>

#include "bounce.h"
#include "bounce_fbl.h"
#include "bounce_milter.h"
#include "bounce_stats.h"
#include "bounce_ref.h"
#include "bounce_reply.h"
#include "bounce_msg.h"
#include "bounce_store.h"
#include "bounce_tag.h"
#include "bounce_track_msg.h"
#include "bounce_unsub.h"
#include "addr.h"
#include "hosted.h"
#include "log.h"
#include "milter_conn.h"
#include "milter_main.h"
#include "milter_reply.h"
#include "xalloc.h"

#define BM_RCPTS_MAX	2000	/* bytes of recipients kept in a record */

struct bounce_conn {
	struct milter_conn mc;		/* first: client, snapshot, login, qid */
	/* the message in progress */
	bool		 failed;	/* no snapshot at MAIL: tempfail later */
	bool		 hosted;		/* outbound, to be tagged */
	bool		 have_scope;
	char		 sender[BOUNCE_ADDR_MAX + 1];	/* normalized */
	char		 scope[BOUNCE_ADDR_MAX + 8];
	char		 rcpts[BM_RCPTS_MAX];	/* accepted, comma-separated */
	size_t		 nrcpts;
	bool		 inbound;		/* a bounce to the bounce domain */
	bool		 have_tag;
	struct bounce_tag tag;
	char		*tag_rcpt;		/* as the MTA gave it, for delrcpt */
	bool		 fbl;			/* to a feedback-loop address */
	char		*fbl_rcpt;		/* as the MTA gave it */
	char		*fbid_hdr[BOUNCE_FBID_MAX];	/* header values */
	size_t		 nref_hdrs;		/* the sender's X-Postmill-Ref */
	size_t		 nfbid_hdrs;		/* the sender's Feedback-ID */
	struct bounce_buf buf;
	const struct bounce_tenant *tenant;	/* of the snapshot, or NULL */
	const struct bounce_bdomain *bdom;	/* the tag's bounce domain */
	bool		 has_unsub;		/* the sender's List-Unsubscribe */
	struct bounce_track_msg *track;		/* a tracking tenant's, or NULL */
	unsigned char	 track_id[BOUNCE_TAG_ID_LEN];	/* its tag id, chosen early */
	bool		 have_track_id;
};

/* bm_state - this message's loaded state */
static const struct bounce_state *
bm_state(const struct bounce_conn *c)
{
	return c->mc.snap->state;
}

/* bm_now_ms - wall clock */
static long long
bm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* bm_end_message - drop message state */
static void
bm_end_message(struct bounce_conn *c)
{
	c->failed = false;
	c->hosted = c->have_scope = c->inbound = c->have_tag = c->fbl = false;
	c->sender[0] = c->scope[0] = c->rcpts[0] = '\0';
	c->nrcpts = c->nref_hdrs = c->nfbid_hdrs = 0;
	c->tenant = NULL;
	c->bdom = NULL;
	c->has_unsub = false;
	c->track = bounce_track_msg_free(c->track);
	c->have_track_id = false;
	c->tag_rcpt = xfree(c->tag_rcpt);
	c->fbl_rcpt = xfree(c->fbl_rcpt);
	for (size_t i = 0; i < BOUNCE_FBID_MAX; i++)
		c->fbid_hdr[i] = xfree(c->fbid_hdr[i]);
	bounce_buf_free(&c->buf);
	milter_conn_end_message(&c->mc);
}

/* bm_redis_error - log a Redis failure and apply bounce_on_redis_error */
static sfsistat
bm_redis_error(SMFICTX *ctx, struct bounce_conn *c, const char *stage,
	       const char *err)
{
	bool accept = bm_state(c)->conf->on_redis_error == BOUNCE_ON_ERROR_ACCEPT;

	milter_conn_decision(&c->mc, ctx, LOG_WARNING, "bounce", accept ? "accept" : "tempfail",
			     "stage=%s reason=redis_error error=\"%s\" policy=%s", stage,
			     err ? err : "?", accept ? "accept" : "tempfail");
	bounce_stats_redis_error(stage);
	if (accept)
		return SMFIS_CONTINUE;
	return milter_reply_apply(ctx, &bounce_reply_table, BOUNCE_REPLY_REDIS_ERROR, NULL);
}

/* bm_go_on - "go on" at a stage: no reply when the MTA waits for none */
static sfsistat
bm_go_on(const struct bounce_conn *c, unsigned long nr_bit)
{
	return milter_conn_go_on(c != NULL ? &c->mc : NULL, nr_bit);
}

/* bm_xxfi_negotiate - actions we need, stages we skip, no replies */
static sfsistat
bm_xxfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		  unsigned long f2, unsigned long f3, unsigned long *pf0,
		  unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long need = SMFIF_CHGFROM | SMFIF_ADDHDRS | SMFIF_CHGHDRS
	    | SMFIF_ADDRCPT | SMFIF_DELRCPT;
	unsigned long nr = SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR
	    | SMFIP_NR_EOH | SMFIP_NR_BODY;
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | nr;
	struct bounce_conn *c;

	if ((f0 & need) != need)
		return SMFIS_REJECT;	/* cannot change the sender: refuse the MTA */
	*pf0 = need | (f0 & SMFIF_CHGBODY);	/* tracking; without it, none */
	*pf1 = f1 & want;
	*pf2 = *pf3 = 0;
	/* negotiate comes before connect: the session state starts here */
	c = milter_conn_get(ctx, sizeof(*c));
	c->mc.nr = *pf1 & nr;
	return SMFIS_CONTINUE;
}

/* bm_xxfi_connect - remember the client address */
static sfsistat
bm_xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct bounce_conn *c = milter_conn_get(ctx, sizeof(*c));

	milter_conn_connect(&c->mc, sa);
	return bm_go_on(c, SMFIP_NR_CONN);
}

/* bm_track_begin - a tracking tenant's message (bounce_track_msg.h) */
static void
bm_track_begin(struct bounce_conn *c, const struct bounce_state *st)
{
	struct bounce_track_limits lim;

	if (st->conf->track_base_url == NULL || st->track_keys == NULL
	    || st->track_keys->n == 0)
		return;
	lim.message_max = (size_t)st->conf->track_message_max;
	lim.memory = (size_t)st->conf->track_memory;
	lim.temp_dir = st->conf->track_temp_dir;
	c->track = bounce_track_msg_new(&st->track_keys->keys[0], st->conf->track_base_url,
					c->tenant->name, (size_t)st->conf->track_url_max, &lim);
}

/* bm_xxfi_envfrom - new message: snapshot, is it a hosted sender's */
static sfsistat
bm_xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct bounce_conn *c = smfi_getpriv(ctx);
	const struct bounce_state *st;
	const char *from = argv != NULL && argv[0] != NULL ? argv[0] : "";

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	bm_end_message(c);
	if (milter_conn_mail(&c->mc, ctx) < 0) {
		/* cannot happen after start-up; refuse at RCPT if MAIL has no reply */
		if (!milter_conn_no_reply(&c->mc, SMFIP_NR_MAIL))
			return SMFIS_TEMPFAIL;
		c->failed = true;
		return SMFIS_NOREPLY;
	}
	st = bm_state(c);
	c->buf.max = (size_t)st->conf->message_max;
	/* the null sender (a bounce of ours) is never tagged: RFC 5321 4.5.5 */
	if (hosted_decide(c->mc.authenticated, c->mc.internal, st->conf->tag_authenticated,
			  st->conf->tag_internal)
	    && bounce_addr_norm(from, strlen(from), c->sender, sizeof(c->sender)) == 0
	    && strcmp(c->sender, "<>") != 0) {
		c->hosted = true;
		c->tenant = bounce_tenant_find(st->tenants, c->mc.login, c->sender);
		c->have_scope = bounce_policy_scope(c->tenant ? c->tenant->name : NULL,
						    st->pol.scope, c->sender, c->scope,
						    sizeof(c->scope)) == 0;
		if (c->tenant != NULL && c->tenant->track)
			bm_track_begin(c, st);
	}
	return bm_go_on(c, SMFIP_NR_MAIL);
}

/* bm_rcpt_bounce - a recipient at the bounce domain: check its tag */
static sfsistat
bm_rcpt_bounce(SMFICTX *ctx, struct bounce_conn *c, const char *rcpt,
	       const char *local, const struct bounce_bdomain *bd)
{
	struct bounce_tag t;
	enum bounce_tag_status ts;
	const char *why;
	char esc[400], idhex[BOUNCE_TAG_ID_HEX];

	ts = bounce_tag_local_decode(bd->keys, local, strlen(local),
				     (long long)time(NULL), &t, &why);
	log_escape(esc, sizeof(esc), rcpt, strlen(rcpt));
	if (ts != BOUNCE_TAG_OK) {
		milter_conn_decision(&c->mc, ctx, LOG_NOTICE, "bounce", "reject",
				     "stage=rcpt tag=%s rcpt=%s why=\"%s\"",
				     bounce_tag_status_name(ts), esc, why);
		bounce_stats_refused("bad_tag");
		return milter_reply_apply(ctx, &bounce_reply_table, BOUNCE_REPLY_BAD_TAG,
					  NULL);
	}
	c->inbound = true;
	c->hosted = false;	/* a bounce is not tagged again */
	bounce_tag_id_hex(t.id, idhex);
	if (!c->have_tag) {
		c->have_tag = true;
		c->tag = t;
		c->tag_rcpt = xstrdup(rcpt);
	}
	milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "accept",
			     "stage=rcpt tag=ok id=%s rcpt=%s domain=%s", idhex, esc, bd->domain);
	return SMFIS_CONTINUE;
}

/* bm_rcpt_fbl - a recipient at a feedback-loop address: always accepted */
static sfsistat
bm_rcpt_fbl(SMFICTX *ctx, struct bounce_conn *c, const char *rcpt)
{
	char esc[400];

	c->inbound = c->fbl = true;
	c->hosted = false;	/* a complaint is not tagged */
	if (c->fbl_rcpt == NULL)
		c->fbl_rcpt = xstrdup(rcpt);
	milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "accept", "stage=rcpt kind=fbl rcpt=%s",
			     log_escape(esc, sizeof(esc), rcpt, strlen(rcpt)));
	return SMFIS_CONTINUE;
}

/* bm_rcpt_add - remember an accepted recipient for the message record */
static void
bm_rcpt_add(struct bounce_conn *c, const char *norm)
{
	size_t used = strlen(c->rcpts), n = strlen(norm);

	c->nrcpts++;
	if (c->nrcpts > BOUNCE_STORE_MAX_RCPTS || used + n + 2 > sizeof(c->rcpts))
		return;		/* the record keeps the first ones */
	if (used > 0)
		c->rcpts[used++] = ',';
	memcpy(c->rcpts + used, norm, n + 1);
}

/* bm_tenant_bdomain - the tenant bounce domain a recipient is at, or NULL */
static const struct bounce_bdomain *
bm_tenant_bdomain(const struct bounce_state *st, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	char dom[ADDR_DOMAIN_MAX + 2];
	size_t n;

	if (at == NULL || (n = strcspn(at + 1, ">")) == 0 || n >= sizeof(dom))
		return NULL;
	memcpy(dom, at + 1, n);
	dom[n] = '\0';
	if (n > 1 && dom[n - 1] == '.')
		dom[n - 1] = '\0';
	for (size_t i = 1; i < st->nbdomains; i++)
		if (strcasecmp(st->bdomains[i].domain, dom) == 0)
			return &st->bdomains[i];
	return NULL;
}

/* bm_xxfi_envrcpt - tag check (bounces) or suppression check (outbound) */
static sfsistat
bm_xxfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct bounce_conn *c = smfi_getpriv(ctx);
	const struct bounce_state *st;
	const char *rcpt = argv != NULL && argv[0] != NULL ? argv[0] : "";
	char local[ADDR_LOCAL_MAX + 1], norm[BOUNCE_ADDR_MAX + 1];
	struct bounce_supp sup;
	const struct bounce_bdomain *bd;
	const char *err;
	int r;

	if (c != NULL && c->failed)
		return SMFIS_TEMPFAIL;	/* MAIL had no snapshot (and no reply) */
	if (c == NULL || c->mc.snap == NULL)
		return SMFIS_CONTINUE;
	st = bm_state(c);
	bd = st->nbdomains > 0 ? &st->bdomains[0] : NULL;
	r = bounce_rcpt_local(rcpt, strlen(rcpt), st->domain, local, sizeof(local));
	if (r == 0 && st->nbdomains > 1 && (bd = bm_tenant_bdomain(st, rcpt)) != NULL)
		r = bounce_rcpt_local(rcpt, strlen(rcpt), bd->domain, local, sizeof(local));
	if (r == 1 && bounce_state_is_fbl(st, local))
		return bm_rcpt_fbl(ctx, c, rcpt);
	if (r == 1 && strcasecmp(local, "postmaster") == 0) {
		char esc[400];

		/* RFC 5321 4.5.1: postmaster is always accepted; it is
		 * ordinary mail, never a bounce of anyone */
		milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "accept",
				     "stage=rcpt kind=postmaster rcpt=%s",
				     log_escape(esc, sizeof(esc), rcpt, strlen(rcpt)));
	} else if (r == 1) {
		return bm_rcpt_bounce(ctx, c, rcpt, local, bd);
	}
	if (!c->hosted || bounce_addr_norm(rcpt, strlen(rcpt), norm, sizeof(norm)) < 0)
		return SMFIS_CONTINUE;
	if (c->have_scope && st->conf->suppress_at_rcpt) {
		r = bounce_store_check(st->pool, st->conf->key_prefix, c->scope, norm,
				       &sup, &err);
		if (r < 0)
			return bm_redis_error(ctx, c, "rcpt", err);
		if (r == 1) {
			char text[600], esc[400], sesc[400], wesc[64];

			bounce_stats_refused("suppressed");
			milter_conn_decision(&c->mc, ctx, LOG_NOTICE, "bounce", "reject",
				"stage=rcpt reason=suppressed rcpt=<%s> sender=<%s> "
				"why=%s since=%lld", log_escape(esc, sizeof(esc), norm,
								strlen(norm)),
				log_escape(sesc, sizeof(sesc), c->sender, strlen(c->sender)),
				log_escape(wesc, sizeof(wesc), sup.reason, strlen(sup.reason)),
				sup.since);
			bounce_suppress_text(norm, sup.reason, sup.diagnostic, sup.since,
					     text, sizeof(text));
			return milter_reply_apply(ctx, &bounce_reply_table,
						  BOUNCE_REPLY_SUPPRESSED, text);
		}
	}
	bm_rcpt_add(c, norm);
	return SMFIS_CONTINUE;
}

/*
 * bm_header_outbound - what tagging needs from an outbound header: the
 * sender's own X-Postmill-Ref and Feedback-ID fields (removed at end of
 * message: only ours may map a complaint back or name a SenderId), and
 * the values of the headers bounce_feedback_id reads
 */
static void
bm_header_outbound(struct bounce_conn *c, const char *name, const char *value)
{
	const struct bounce_fbid *f = &bm_state(c)->fbid;
	const char *hn;

	if (strcasecmp(name, BOUNCE_REF_HEADER) == 0)
		c->nref_hdrs++;
	else if (strcasecmp(name, "Feedback-ID") == 0)
		c->nfbid_hdrs++;
	else if (strcasecmp(name, "List-Unsubscribe") == 0
		 || strcasecmp(name, "List-Unsubscribe-Post") == 0)
		c->has_unsub = true;	/* the sender's own: left alone */
	for (size_t i = 0; i < f->n; i++)
		if ((hn = bounce_fbid_header_name(f, i)) != NULL
		    && c->fbid_hdr[i] == NULL && strcasecmp(hn, name) == 0)
			c->fbid_hdr[i] = xstrndup(value, strnlen(value, 998));
}

/* bm_xxfi_header - keep the header of a bounce; note an outbound one's */
static sfsistat
bm_xxfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct bounce_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->mc.snap != NULL && c->hosted && !c->inbound)
		bm_header_outbound(c, name, value);
	if (c != NULL && c->track != NULL && !c->inbound)
		bounce_track_msg_header(c->track, name, value);
	if (c == NULL || !c->inbound)
		return bm_go_on(c, SMFIP_NR_HDR);
	bounce_buf_add(&c->buf, name, strlen(name));
	bounce_buf_add(&c->buf, ": ", 2);
	bounce_buf_add(&c->buf, value, strlen(value));
	bounce_buf_add(&c->buf, "\r\n", 2);
	return bm_go_on(c, SMFIP_NR_HDR);
}

/* bm_xxfi_eoh - the blank line between header and body */
static sfsistat
bm_xxfi_eoh(SMFICTX *ctx)
{
	struct bounce_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->inbound)
		bounce_buf_add(&c->buf, "\r\n", 2);
	/* the tokens name the message: its tag id is chosen now */
	if (c != NULL && c->track != NULL) {
		if (c->inbound || !c->hosted
		    || RAND_bytes(c->track_id, sizeof(c->track_id)) != 1)
			c->track = bounce_track_msg_free(c->track);
		else
			c->have_track_id = bounce_track_msg_start(c->track, c->track_id);
	}
	return bm_go_on(c, SMFIP_NR_EOH);
}

/* bm_xxfi_body - keep the body of a bounce, up to bounce_message_max */
static sfsistat
bm_xxfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct bounce_conn *c = smfi_getpriv(ctx);

	if (c != NULL && c->inbound)
		bounce_buf_add(&c->buf, (const char *)chunk, len);
	else if (c != NULL && c->track != NULL)
		bounce_track_msg_body(c->track, (const char *)chunk, len);
	return bm_go_on(c, SMFIP_NR_BODY);
}

/*
 * bm_tag_headers - of a tagged message: the sender's X-Postmill-Ref and
 * (when we write one) Feedback-ID fields removed, last first, and ours
 * added; the Feedback-ID value is left in fbid ("" when none)
 */
static void
bm_tag_headers(SMFICTX *ctx, struct bounce_conn *c, const char *ref,
	       char *fbid, size_t fbidlen)
{
	const struct bounce_state *st = bm_state(c);
	struct bounce_fbid_in in;

	for (size_t k = c->nref_hdrs; k >= 1; k--)
		(void)smfi_chgheader(ctx, BOUNCE_REF_HEADER, (int)k, NULL);
	if (ref != NULL)
		(void)smfi_addheader(ctx, BOUNCE_REF_HEADER, (char *)ref);
	fbid[0] = '\0';
	if (st->fbid.n == 0)
		return;
	for (size_t k = c->nfbid_hdrs; k >= 1; k--)
		(void)smfi_chgheader(ctx, "Feedback-ID", (int)k, NULL);
	memset(&in, 0, sizeof(in));
	in.login = c->mc.login;
	in.sender = c->sender;
	for (size_t i = 0; i < BOUNCE_FBID_MAX; i++)
		in.hdr[i] = c->fbid_hdr[i];
	if (bounce_fbid_build(&st->fbid, &in, fbid, fbidlen) == 0)
		(void)smfi_addheader(ctx, "Feedback-ID", fbid);
}

/*
 * bm_unsubscribe - RFC 8058 one-click headers for a tenant that enabled
 * them, unless the message has its own. The token names one recipient,
 * so only a message to one recipient gets them (bulk mail is sent one
 * recipient a message). Returns what the log line says.
 */
static const char *
bm_unsubscribe(SMFICTX *ctx, struct bounce_conn *c, const unsigned char *id,
	       long long now_ms)
{
	const struct bounce_state *st = bm_state(c);
	char tok[BOUNCE_UNSUB_TOKEN_MAX + 1], *v;

	if (c->tenant == NULL || !c->tenant->unsubscribe
	    || st->conf->unsubscribe_url == NULL || st->unsub_keys == NULL)
		return "-";
	if (c->has_unsub)
		return "own";
	if (c->nrcpts != 1)
		return "skipped_rcpts";
	/* version 2: the token names the message, for the unsubscribe event */
	if (bounce_unsub_encode_ref(&st->unsub_keys->keys[0], c->tenant->name, c->rcpts, id,
				    now_ms / 1000 + st->conf->unsubscribe_lifetime / 1000,
				    tok, sizeof(tok)) < 0)
		return "skipped_long";
	/* RFC 8058 section 3.1: an HTTPS URI, and the POST key=value */
	v = xasprintf("<%s%s>", st->conf->unsubscribe_url, tok);
	(void)smfi_addheader(ctx, "List-Unsubscribe", v);
	(void)smfi_addheader(ctx, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	free(v);
	return "added";
}

/*
 * bm_track_eom - a tracking tenant's rewritten body replaces the original
 * (smfi_replacebody, in chunks). This milter runs before the signer
 * (README: postmill-bounce before postmill-dkim in smtpd_milters), so
 * the signature covers the new body. What happened goes into out, for
 * the log line. Returns -1 when the body was cut (a chunk refused after
 * the first: the MTA must not send that), else 0.
 */
static int
bm_track_eom(SMFICTX *ctx, struct bounce_conn *c, char *out, size_t outlen)
{
	const char *why, *p;
	size_t n, chunks = 0;
	int r;

	if (c->track == NULL) {
		snprintf(out, outlen, "-");
		return 0;
	}
	if (bounce_track_msg_finish(c->track, &why) != 1) {
		snprintf(out, outlen, "%s", why);
		return 0;
	}
	while ((r = bounce_track_msg_next(c->track, &p, &n)) == 1) {
		if (smfi_replacebody(ctx, (unsigned char *)p, (int)n) != MI_SUCCESS) {
			r = -1;
			break;
		}
		chunks++;
	}
	if (r < 0) {
		snprintf(out, outlen, "replacebody_failed");
		return chunks > 0 ? -1 : 0;
	}
	snprintf(out, outlen, "rewritten links=%u skipped=%u pixel=%s",
		 c->track->mime->links, c->track->mime->skipped,
		 c->track->mime->pixels > 0 ? "yes" : "no");
	return 0;
}

/* bm_eom_tag - save the record and change the envelope sender */
static sfsistat
bm_eom_tag(SMFICTX *ctx, struct bounce_conn *c)
{
	const struct bounce_state *st = bm_state(c);
	unsigned char id[BOUNCE_TAG_ID_LEN];
	char tag[BOUNCE_TAG_CHARS + 1], idhex[BOUNCE_TAG_ID_HEX], esc[400];
	char ref[BOUNCE_REF_CHARS + 1], fbid[BOUNCE_FBID_VALUE_MAX], track[96];
	char *addr;
	long long now = bm_now_ms();
	const char *qid = milter_conn_qid(&c->mc, ctx), *err, *unsub;
	const struct bounce_bdomain *bd = &st->bdomains[0];

	if (c->tenant != NULL && c->tenant->bounce_domain != NULL
	    && (bd = bounce_state_bdomain(st, c->tenant->bounce_domain)) == NULL)
		bd = &st->bdomains[0];	/* not reached: the state lists them all */
	if (c->have_track_id)
		memcpy(id, c->track_id, sizeof(id));	/* the tokens' */
	if ((!c->have_track_id && RAND_bytes(id, sizeof(id)) != 1)
	    || bounce_tag_encode(&bd->keys->keys[0], id,
				 now / 1000 + st->conf->tag_lifetime / 1000, tag) < 0) {
		milter_conn_decision(&c->mc, ctx, LOG_ERR, "bounce", "tempfail",
				     "stage=eom reason=crypto_error (RAND_bytes or HMAC failed)");
		return milter_reply_apply(ctx, &bounce_reply_table,
					  BOUNCE_REPLY_CRYPTO_ERROR, NULL);
	}
	if (st->conf->ref
	    && bounce_ref_encode(&st->keys->keys[0], id, now / 1000
				 + st->conf->ref_lifetime / 1000, ref) < 0) {
		milter_conn_decision(&c->mc, ctx, LOG_ERR, "bounce", "tempfail",
				     "stage=eom reason=crypto_error (HMAC failed)");
		return milter_reply_apply(ctx, &bounce_reply_table,
					  BOUNCE_REPLY_CRYPTO_ERROR, NULL);
	}
	bounce_tag_id_hex(id, idhex);
	if (bounce_store_save_message(st->pool, st->conf->key_prefix, idhex, c->sender,
				      qid, c->rcpts, c->nrcpts, c->mc.login,
				      c->tenant != NULL ? c->tenant->name : "", now,
				      st->record_ttl, &err) < 0)
		return bm_redis_error(ctx, c, "eom", err);
	if (c->tenant != NULL
	    && bounce_pause_sent(st->pool, st->conf->key_prefix, c->tenant->name, idhex,
				 (long long)c->nrcpts, &st->pause, now, &err) < 0)
		return bm_redis_error(ctx, c, "eom", err);
	addr = xasprintf("<%s%s@%s>", BOUNCE_TAG_PREFIX, tag, bd->domain);
	if (smfi_chgfrom(ctx, addr, NULL) != MI_SUCCESS) {
		milter_conn_decision(&c->mc, ctx, LOG_WARNING, "bounce", "accept",
				     "stage=eom reason=chgfrom_failed id=%s", idhex);
		free(addr);
		return SMFIS_CONTINUE;
	}
	bm_tag_headers(ctx, c, st->conf->ref ? ref : NULL, fbid, sizeof(fbid));
	unsub = bm_unsubscribe(ctx, c, id, now);
	if (bm_track_eom(ctx, c, track, sizeof(track)) < 0) {
		milter_conn_decision(&c->mc, ctx, LOG_ERR, "bounce", "tempfail",
				     "stage=eom reason=replacebody_failed id=%s", idhex);
		free(addr);
		return milter_reply_apply(ctx, &bounce_reply_table,
					  BOUNCE_REPLY_REPLACEBODY_FAILED, NULL);
	}
	milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "tag",
		"sender=<%s> id=%s rcpts=%zu from=%s ref=%s feedback_id=%s tenant=%s unsubscribe=%s track=%s",
		log_escape(esc, sizeof(esc), c->sender, strlen(c->sender)), idhex,
		c->nrcpts, addr, st->conf->ref ? "yes" : "no", fbid[0] ? fbid : "-",
		c->tenant != NULL ? c->tenant->name : "-", unsub, track);
	bounce_stats_tagged();
	free(addr);
	return SMFIS_CONTINUE;
}

/* bm_add_headers - the X-Postmill-Bounce-* fields */
static void
bm_add_headers(SMFICTX *ctx, const struct bounce_evslot *e)
{
	char v[600];

	bounce_header_clean(v, sizeof(v), e->ev.cls);
	smfi_addheader(ctx, "X-Postmill-Bounce-Class", v);
	bounce_header_clean(v, sizeof(v), e->ev.reason);
	smfi_addheader(ctx, "X-Postmill-Bounce-Reason", v);
	bounce_header_clean(v, sizeof(v), e->norm[0] ? e->norm : "unknown");
	smfi_addheader(ctx, "X-Postmill-Bounce-Recipient", v);
	bounce_header_clean(v, sizeof(v), e->ev.status[0] ? e->ev.status : "none");
	smfi_addheader(ctx, "X-Postmill-Bounce-Status", v);
}

/*
 * bm_tenant_outcome - count a tenant's hard bounces and complaints (not
 * the unlisted ones: not sent by us; each recipient and class of a
 * message once) and act on a new review or pause.
 * A Redis failure here is logged, not a tempfail: the bounce is already
 * recorded, and a retry would record it twice.
 */
static void
bm_tenant_outcome(SMFICTX *ctx, struct bounce_conn *c, const char *tenant,
		  const char *idhex, const struct bounce_evslot *slots, size_t n)
{
	const struct bounce_state *st = bm_state(c);
	struct bounce_pause_status ps;
	char *marks[BOUNCE_MAX_RCPTS];
	size_t nm = 0;
	const char *err;
	char esc[300], action[32];
	int rc;

	/* one mark per recipient and class: a second DSN counts nothing */
	for (size_t i = 0; i < n && nm < BOUNCE_MAX_RCPTS; i++) {
		if (slots[i].unlisted)
			continue;
		if (strcmp(slots[i].ev.cls, bounce_class_name(BOUNCE_CLASS_HARD)) == 0)
			marks[nm++] = xasprintf("h:%s", slots[i].norm);
		else if (strcmp(slots[i].ev.cls, bounce_class_name(BOUNCE_CLASS_COMPLAINT)) == 0)
			marks[nm++] = xasprintf("c:%s", slots[i].norm);
	}
	if (nm == 0)
		return;
	log_escape(esc, sizeof(esc), tenant, strlen(tenant));
	rc = bounce_pause_outcome_once(st->pool, st->conf->key_prefix, st->conf->stream,
				       st->conf->stream_maxlen, tenant, idhex,
				       (const char *const *)marks, nm, &st->pause,
				       bm_now_ms(), &ps, &err);
	for (size_t i = 0; i < nm; i++)
		free(marks[i]);
	if (rc < 0) {
		log_msg(LOG_WARNING, milter_conn_qid(&c->mc, ctx), "bounce: tenant=%s rates not "
			"counted: %s", esc, err ? err : "?");
		return;
	}
	if (!ps.changed)
		return;
	snprintf(action, sizeof(action), "tenant_%s", bounce_pause_state_name(ps.state));
	milter_conn_decision(&c->mc, ctx, ps.state == BOUNCE_PAUSE_PAUSED ? LOG_WARNING
			     : LOG_NOTICE, "bounce", action, "tenant=%s sent=%lld "
			     "hard=%lld complaints=%lld reason=\"%s\"", esc, ps.sent, ps.hard,
			     ps.complaints, ps.reason);
	bounce_stats_tenant(bounce_pause_state_name(ps.state));
}

/*
 * bm_record - record a classified report about message id (found through
 * via), then deliver, redirect (rcpt deleted, the sender added) or discard.
 * A complaint's recipient is the one bounce_fbl_rcpt() picks: feedback
 * loops redact it, and the message record knows it.
 */
static sfsistat
bm_record(SMFICTX *ctx, struct bounce_conn *c, struct bounce_report *rep,
	  const unsigned char id[BOUNCE_TAG_ID_LEN], const char *via,
	  const char *rcpt)
{
	const struct bounce_state *st = bm_state(c);
	struct bounce_evslot *slots = xcalloc(BOUNCE_MAX_RCPTS, sizeof(*slots));
	struct bounce_event ev[BOUNCE_MAX_RCPTS];
	struct bounce_record_result res;
	struct bounce_record_req req;
	struct bounce_msgrec rec;
	char idhex[BOUNCE_TAG_ID_HEX], scope[BOUNCE_ADDR_MAX + 8];
	char e1[400], e2[400], e3[200], e4[400], who[BOUNCE_ADDR_MAX + 1];
	const struct bounce_rcpt *x;
	const char *qid = milter_conn_qid(&c->mc, ctx), *err, *then, *by = NULL;
	size_t n, nsup = 0, nunl = 0;
	int first, r, tr = 0, action = st->conf->action;
	char tenant[BOUNCE_TENANT_NAME_MAX + 1];
	sfsistat rc = SMFIS_CONTINUE;

	bounce_tag_id_hex(id, idhex);
	if ((r = bounce_store_load_message(st->pool, st->conf->key_prefix, idhex,
					   &rec, &err)) < 0) {
		rc = bm_redis_error(ctx, c, "eom", err);
		goto out;
	}
	if (r == 1 && rep->kind == BOUNCE_KIND_ARF && rep->nrcpt >= 1) {
		by = bounce_fbl_rcpt(rep->rcpt[0].recipient, rec.rcpts,
				     rec.rcpts_complete, who, sizeof(who));
		snprintf(rep->rcpt[0].recipient, sizeof(rep->rcpt[0].recipient),
			 "%s", who);
	}
	n = bounce_events_build(rep, &st->pol, rec.rcpts, r == 1 && rec.rcpts_complete,
				slots);
	for (size_t i = 0; i < n; i++)
		ev[i] = slots[i].ev;
	memset(&req, 0, sizeof(req));
	req.prefix = st->conf->key_prefix;
	req.stream = st->conf->stream;
	req.maxlen = st->conf->stream_maxlen;
	req.sender = rec.sender;
	if (r == 1 && (tr = bounce_pause_tenant_of(st->pool, st->conf->key_prefix, idhex,
						   tenant, sizeof(tenant), &err)) < 0) {
		rc = bm_redis_error(ctx, c, "eom", err);
		goto out;
	}
	if (tr == 1 && snprintf(scope, sizeof(scope), "t:%s", tenant) < (int)sizeof(scope))
		req.scope_tag = scope;	/* the tenant's own list */
	else if (r == 1 && bounce_scope_tag(st->pol.scope, rec.sender, scope, sizeof(scope)) == 0)
		req.scope_tag = scope;
	req.orig_qid = rec.qid;
	req.msgid = idhex;
	req.kind = bounce_kind_name(rep->kind);
	req.now_ms = bm_now_ms();
	req.soft_threshold = st->pol.soft_threshold;
	req.soft_window_ms = st->pol.soft_window_ms;
	req.n = n;
	req.ev = ev;
	if (bounce_store_record(st->pool, &req, &res, &err) < 0) {
		rc = bm_redis_error(ctx, c, "eom", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		nsup += res.suppressed[i];
		nunl += slots[i].unlisted;
	}
	if (tr == 1)
		bm_tenant_outcome(ctx, c, tenant, idhex, slots, n);
	action = bounce_policy_then(action, r == 1);
	then = action == BOUNCE_ACTION_DISCARD ? "discard" :
	    action == BOUNCE_ACTION_REDIRECT ? "redirect" : "deliver";
	first = bounce_first_failed(slots, n);
	/* say why: the decoder and the phrase or code that decided (issue 14) */
	x = first >= 0 && (size_t)first < rep->nrcpt ? &rep->rcpt[first] : NULL;
	milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "record",
		"kind=%s class=%s reason=%s rcpt=<%s> status=%s sender=<%s> orig_qid=%s id=%s events=%zu "
		"suppressed=%zu unlisted=%zu%s%s then=%s via=%s%s%s decoder=%s why=\"%s\"",
		bounce_kind_name(rep->kind),
		bounce_class_name(rep->cls), bounce_reason_name(rep->reason),
		first >= 0 ? log_escape(e1, sizeof(e1), slots[first].norm,
					strlen(slots[first].norm)) : "",
		first >= 0 && slots[first].ev.status[0] ?
		log_escape(e3, sizeof(e3), slots[first].ev.status,
			   strlen(slots[first].ev.status)) : "-",
		log_escape(e2, sizeof(e2), rec.sender, strlen(rec.sender)),
		rec.qid[0] ? rec.qid : "-", idhex, n, nsup, nunl,
		r == 1 ? "" : " record=gone", c->buf.dropped ? " truncated=1" : "", then,
		via, by != NULL ? " rcpt_by=" : "", by != NULL ? by : "",
		x && x->decoder[0] ? x->decoder : "-",
		x ? log_escape(e4, sizeof(e4), x->why, strlen(x->why)) : "");
	bounce_stats_record(bounce_kind_name(rep->kind), bounce_class_name(rep->cls),
			    bounce_reason_name(rep->reason), nsup);
	if (action == BOUNCE_ACTION_DISCARD) {
		rc = SMFIS_DISCARD;
		goto out;
	}
	if (first >= 0)
		bm_add_headers(ctx, &slots[first]);
	if (action == BOUNCE_ACTION_REDIRECT) {
		char *to = xasprintf("<%s>", rec.sender);

		if (smfi_delrcpt(ctx, (char *)rcpt) != MI_SUCCESS
		    || smfi_addrcpt(ctx, to) != MI_SUCCESS)
			log_msg(LOG_WARNING, qid, "bounce: redirect failed; delivering "
				"to the bounce address");
		free(to);
	}
out:
	free(slots);
	return rc;
}

/* bm_eom_bounce - a message to a valid tag: classify and record */
static sfsistat
bm_eom_bounce(SMFICTX *ctx, struct bounce_conn *c)
{
	struct bounce_report *rep = xcalloc(1, sizeof(*rep));
	const char *why = "";
	sfsistat rc;

	if (bounce_classify(c->buf.data ? c->buf.data : "", c->buf.len, rep, &why) < 0)
		log_msg(LOG_INFO, milter_conn_qid(&c->mc, ctx), "bounce: classify: %s", why);
	rc = bm_record(ctx, c, rep, c->tag.id, "tag", c->tag_rcpt);
	free(rep);
	return rc;
}

/*
 * bm_as_complaint - a report that returns our original without an ARF part
 * (Microsoft's JMRP sends the original as message/rfc822 and a line of
 * text): one complaint about the original's To:
 */
static void
bm_as_complaint(struct bounce_report *rep)
{
	struct bounce_rcpt *r = &rep->rcpt[0];

	memset(r, 0, sizeof(*r));
	snprintf(r->recipient, sizeof(r->recipient), "%s", rep->original_rcpt_hint);
	snprintf(r->diagnostic, sizeof(r->diagnostic), "feedback-type: abuse "
		 "(returned original, no feedback report)");
	r->cls = rep->cls = BOUNCE_CLASS_COMPLAINT;
	r->reason = rep->reason = BOUNCE_REASON_COMPLAINT;
	rep->kind = BOUNCE_KIND_ARF;
	rep->nrcpt = 1;
}

/*
 * bm_eom_fbl - a message to a feedback-loop address: a complaint that
 * maps back is recorded; anything else is delivered as it is
 */
static sfsistat
bm_eom_fbl(SMFICTX *ctx, struct bounce_conn *c)
{
	const struct bounce_state *st = bm_state(c);
	struct bounce_report *rep = xcalloc(1, sizeof(*rep));
	struct bounce_fbl_origin o;
	unsigned char id[BOUNCE_TAG_ID_LEN];
	enum bounce_fbl_map m;
	const char *why = "", *via;
	const char *data = c->buf.data ? c->buf.data : "";
	char esc[400], ft[64];
	sfsistat rc = SMFIS_CONTINUE;

	if (bounce_classify(data, c->buf.len, rep, &why) < 0
	    || bounce_fbl_origin(data, c->buf.len, &o, &why) < 0) {
		milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "deliver",
				     "kind=fbl reason=unparsable why=\"%s\"", why);
		goto out;
	}
	if (!bounce_policy_fbl_wanted(rep->kind, o.has_original, o.nref,
				      o.feedback_type)) {
		milter_conn_decision(&c->mc, ctx, LOG_INFO, "bounce", "deliver",
			"kind=%s reason=not_a_complaint feedback_type=%s rcpt=%s",
			bounce_kind_name(rep->kind), o.feedback_type[0] ?
			log_escape(ft, sizeof(ft), o.feedback_type,
				   strlen(o.feedback_type)) : "-",
			log_escape(esc, sizeof(esc), c->fbl_rcpt, strlen(c->fbl_rcpt)));
		goto out;
	}
	m = bounce_fbl_decide(st->bdomains, st->nbdomains, &o, (long long)time(NULL), id,
			      &via, &why);
	if (m != BOUNCE_FBL_MAPPED) {
		milter_conn_decision(&c->mc, ctx, m == BOUNCE_FBL_NONE ? LOG_INFO : LOG_NOTICE,
			"bounce", "ignore", "kind=arf map=%s why=\"%s\" rcpt=%s",
			bounce_fbl_map_name(m), why, log_escape(esc, sizeof(esc),
								 c->fbl_rcpt,
								 strlen(c->fbl_rcpt)));
		goto out;
	}
	if (rep->kind != BOUNCE_KIND_ARF)
		bm_as_complaint(rep);
	rc = bm_record(ctx, c, rep, id, via, c->fbl_rcpt);
out:
	free(rep);
	return rc;
}

/* bm_xxfi_eom - tag outbound mail, or handle a bounce */
static sfsistat
bm_xxfi_eom(SMFICTX *ctx)
{
	struct bounce_conn *c = smfi_getpriv(ctx);
	sfsistat rc = SMFIS_CONTINUE;

	if (c != NULL && c->failed) {
		bm_end_message(c);
		return SMFIS_TEMPFAIL;	/* MAIL had no snapshot (and no reply) */
	}
	if (c == NULL || c->mc.snap == NULL)
		return SMFIS_CONTINUE;
	if (c->inbound && c->have_tag)
		rc = bm_eom_bounce(ctx, c);
	else if (c->inbound && c->fbl)
		rc = bm_eom_fbl(ctx, c);
	else if (c->hosted && c->nrcpts > 0)
		rc = bm_eom_tag(ctx, c);
	bm_end_message(c);
	return rc;
}

/* bm_xxfi_abort - the MTA dropped the message */
static sfsistat
bm_xxfi_abort(SMFICTX *ctx)
{
	struct bounce_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		bm_end_message(c);
	return SMFIS_CONTINUE;
}

/* bm_xxfi_close - end of the connection; may come with no state */
static sfsistat
bm_xxfi_close(SMFICTX *ctx)
{
	struct bounce_conn *c = smfi_getpriv(ctx);

	if (c != NULL)
		bm_end_message(c);
	free(milter_conn_take(ctx));
	return SMFIS_CONTINUE;
}

const struct smfiDesc bounce_milter_desc = {
	.xxfi_name = "postmill-bounce",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_CHGFROM | SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT
	    | SMFIF_DELRCPT | SMFIF_CHGBODY,
	.xxfi_connect = bm_xxfi_connect,
	.xxfi_envfrom = bm_xxfi_envfrom,
	.xxfi_envrcpt = bm_xxfi_envrcpt,
	.xxfi_header = bm_xxfi_header,
	.xxfi_eoh = bm_xxfi_eoh,
	.xxfi_body = bm_xxfi_body,
	.xxfi_eom = bm_xxfi_eom,
	.xxfi_abort = bm_xxfi_abort,
	.xxfi_close = bm_xxfi_close,
	.xxfi_negotiate = bm_xxfi_negotiate,
};
