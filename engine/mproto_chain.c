/*++
 * NAME
 *	mproto_chain 3
 * SUMMARY
 *	run an ordered list of milters in one MTA conversation
 * DESCRIPTION
 *	See mproto_chain.h for the semantics. This file is the host's
 *	smfiDesc: negotiation (the modules' wishes merged into one offer),
 *	the envelope steps fanned out in order, and the content run module
 *	by module at end of message over the kept message
 *	(mproto_chain_msg.c), with each module's edits applied before the
 *	next module runs and forwarded to the MTA.
 *
 *	Module contexts are engine sessions without a socket: parent points
 *	at the host's session; api functions queue a module's edits in its
 *	own "out" buffer, which this file reads back packet by packet.
 *
 *	Thread-safety: the engine hands a session to one thread at a time;
 *	the module table is written once, before smfi_main().
 *--*/
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mproto.h"
#include "mproto_chain.h"
#include "mproto_chain_priv.h"
#include "xalloc.h"

/* one hosted module's state on one connection */
struct chain_mod {
	SMFICTX		*ctx;		/* the module's own context */
	unsigned long	 pflags;	/* SMFIP_* it negotiated */
	bool		 conn_done;	/* accepted the connection */
	bool		 msg_done;	/* accepted the message */
	bool		 in_msg;	/* saw MAIL, no end of message or abort yet */
};

struct mproto_chain_conn {
	struct chain_mod mods[MPROTO_CHAIN_MAX];
	bool		 leadspc;	/* host negotiated SMFIP_HDR_LEADSPC */
	bool		 rcpt_rej;	/* host gets rejected recipients */
	struct chain_msg msg;
	struct chain_body newbody;	/* a module's replacement, being read */
	bool		 body_replaced;
	struct mproto_out edits;	/* for the MTA, in module order */
};

static struct mproto_chain_module chain_mods[MPROTO_CHAIN_MAX];
static size_t chain_n;
static struct mproto_chain_opts chain_opts;

/* chain_select - tell the host which module runs now */
static void
chain_select(int i)
{
	if (chain_opts.select != NULL)
		chain_opts.select(i);
}

/* chain_conn - the hosted modules of a session */
static struct mproto_chain_conn *
chain_conn(SMFICTX *ctx)
{
	return ctx->chain;
}

/* chain_refusal - is "r" a refusal that ends the step for the modules after */
static bool
chain_refusal(sfsistat r)
{
	return r == SMFIS_REJECT || r == SMFIS_TEMPFAIL || r == SMFIS_DISCARD;
}

/*
 * chain_normalize - a module's verdict as the MTA would take it: a module
 * that negotiated "no reply" for the step is not heard (the engine
 * drops such a reply, and so does the MTA), "no reply" and "skip" are
 * "go on" here, and a value that is no verdict is a tempfail (the
 * engine answers it so)
 */
static sfsistat
chain_normalize(const struct chain_mod *m, sfsistat r, unsigned long nr_bit)
{
	if (nr_bit != 0 && (m->pflags & nr_bit) != 0)
		return SMFIS_CONTINUE;
	switch (r) {
	case SMFIS_CONTINUE:
	case SMFIS_NOREPLY:
	case SMFIS_SKIP:
		return SMFIS_CONTINUE;
	case SMFIS_REJECT:
	case SMFIS_TEMPFAIL:
	case SMFIS_DISCARD:
	case SMFIS_ACCEPT:
		return r;
	default:
		return SMFIS_TEMPFAIL;
	}
}

/* chain_take_reply - a refusing module's reply text becomes the host's */
static void
chain_take_reply(SMFICTX *ctx, struct chain_mod *m)
{
	free(ctx->reply);
	ctx->reply = m->ctx->reply;
	m->ctx->reply = NULL;
}

/* chain_module_ctx - a module's context inside a session */
static SMFICTX *
chain_module_ctx(SMFICTX *parent)
{
	SMFICTX *c = xcalloc(1, sizeof(*c));

	c->fd = -1;
	c->parent = parent;
	return c;
}

/* chain_module_ctx_free - release a module's context */
static void
chain_module_ctx_free(SMFICTX *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < MPROTO_STAGES; i++)
		free(c->symlist[i]);
	free(c->reply);
	mproto_out_free(&c->out);
	free(c);
}

/* mproto_chain_session_free - the session ends: drop the module contexts */
void
mproto_chain_session_free(SMFICTX *ctx)
{
	struct mproto_chain_conn *cc = ctx->chain;

	if (cc == NULL)
		return;
	for (size_t i = 0; i < chain_n; i++)
		chain_module_ctx_free(cc->mods[i].ctx);
	chain_msg_reset(&cc->msg);
	chain_body_reset(&cc->newbody);
	mproto_out_free(&cc->edits);
	free(cc);
	ctx->chain = NULL;
}

/* chain_callback_protocol - the steps a module skips for missing callbacks */
static unsigned long
chain_callback_protocol(const struct smfiDesc *d)
{
	unsigned long p = 0;

	if (d->xxfi_connect == NULL)	p |= SMFIP_NOCONNECT;
	if (d->xxfi_helo == NULL)	p |= SMFIP_NOHELO;
	if (d->xxfi_envfrom == NULL)	p |= SMFIP_NOMAIL;
	if (d->xxfi_envrcpt == NULL)	p |= SMFIP_NORCPT;
	if (d->xxfi_header == NULL)	p |= SMFIP_NOHDRS;
	if (d->xxfi_eoh == NULL)	p |= SMFIP_NOEOH;
	if (d->xxfi_body == NULL)	p |= SMFIP_NOBODY;
	if (d->xxfi_unknown == NULL)	p |= SMFIP_NOUNKNOWN;
	if (d->xxfi_data == NULL)	p |= SMFIP_NODATA;
	return p;
}

/*
 * The steps of the envelope: the "skip this step" and "no reply" flags
 * of each, and the command letter a module's context shows.
 */
struct chain_step {
	unsigned long	 no;
	unsigned long	 nr;
	char		 cmd;
};

static const struct chain_step chain_steps[] = {
	{SMFIP_NOCONNECT, SMFIP_NR_CONN, SMFIC_CONNECT},
	{SMFIP_NOHELO, SMFIP_NR_HELO, SMFIC_HELO},
	{SMFIP_NOMAIL, SMFIP_NR_MAIL, SMFIC_MAIL},
	{SMFIP_NORCPT, SMFIP_NR_RCPT, SMFIC_RCPT},
	{SMFIP_NODATA, SMFIP_NR_DATA, SMFIC_DATA},
	{SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, SMFIC_UNKNOWN},
};

#define CHAIN_NR_ALL	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL \
	| SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH \
	| SMFIP_NR_HDR | SMFIP_NR_BODY)
#define CHAIN_NO_CONTENT	(SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY)

/* chain_merge_symlists - one macro list per stage if every module that
 * takes part in the stage asked for one: their union; else the MTA's */
static bool
chain_merge_symlists(SMFICTX *ctx, struct mproto_chain_conn *cc)
{
	bool any = false;

	for (int s = SMFIM_FIRST; s <= SMFIM_LAST; s++) {
		char *u = NULL;
		bool all = true;

		for (size_t i = 0; i < chain_n && all; i++) {
			const char *l = cc->mods[i].ctx->symlist[s];
			char *copy, *tok, *save;

			if (l == NULL) {
				all = false;
				break;
			}
			copy = xstrdup(l);
			for (tok = strtok_r(copy, " ", &save); tok != NULL;
			     tok = strtok_r(NULL, " ", &save)) {
				char *with = u ? xasprintf("%s %s", u, tok) : xstrdup(tok);
				bool dup = false;

				if (u != NULL) {
					char *c2 = xstrdup(u), *t2, *s2;

					for (t2 = strtok_r(c2, " ", &s2); t2 != NULL;
					     t2 = strtok_r(NULL, " ", &s2))
						dup = dup || strcmp(t2, tok) == 0;
					free(c2);
				}
				if (dup) {
					free(with);
				} else {
					free(u);
					u = with;
				}
			}
			free(copy);
		}
		if (all && u != NULL) {
			(void)smfi_setsymlist(ctx, s, u);
			any = true;
		}
		free(u);
	}
	return any;
}

/* chain_negotiate - each module's wishes, merged into the host's */
static sfsistat
chain_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		unsigned long f2, unsigned long f3, unsigned long *pf0,
		unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct mproto_chain_conn *cc = ctx->chain;
	unsigned long actions = 0, all_no = ~0UL, nr = SMFIP_NR_HDR
	    | SMFIP_NR_EOH | SMFIP_NR_BODY, extra = 0;

	if (cc == NULL) {
		cc = ctx->chain = xcalloc(1, sizeof(*cc));
		chain_msg_init(&cc->msg);
		chain_body_init(&cc->newbody);
		for (size_t i = 0; i < chain_n; i++)
			cc->mods[i].ctx = chain_module_ctx(ctx);
	}
	for (size_t i = 0; i < chain_n; i++) {
		const struct smfiDesc *d = chain_mods[i].desc;
		struct chain_mod *m = &cc->mods[i];
		unsigned long a = d->xxfi_flags, p = chain_callback_protocol(d);

		m->ctx->mta_actions = (uint32_t)f0;
		m->ctx->mta_protocol = (uint32_t)f1;
		if (d->xxfi_negotiate != NULL) {
			unsigned long p0 = f0, p1 = p, p2 = 0, p3 = 0;
			sfsistat r;

			if (f1 & SMFIP_SKIP)
				p1 |= SMFIP_SKIP;
			m->ctx->cmd = SMFIC_OPTNEG;
			chain_select((int)i);
			r = d->xxfi_negotiate(m->ctx, f0, f1, f2, f3, &p0, &p1,
					      &p2, &p3);
			chain_select(-1);
			if (r == SMFIS_ALL_OPTS) {
				a = f0;
				p |= f1 & SMFIP_SKIP;
			} else if (r == SMFIS_CONTINUE) {
				a = p0;
				p = p1;
			} else {
				log_msg(LOG_ERR, NULL, "suite: module %s refused the "
					"MTA's options (protocol 0x%lx, actions 0x%lx)",
					chain_mods[i].name, f1, f0);
				return SMFIS_REJECT;
			}
		}
		m->pflags = p;
		m->ctx->actions = a;
		m->ctx->pflags = p;
		actions |= a;
		all_no &= p;
		extra |= p & (SMFIP_HDR_LEADSPC | SMFIP_RCPT_REJ);
	}
	/* a step needs no reply when no module can answer it */
	for (size_t s = 0; s < sizeof(chain_steps) / sizeof(chain_steps[0]); s++) {
		bool silent = true;

		for (size_t i = 0; i < chain_n; i++)
			if ((cc->mods[i].pflags & (chain_steps[s].no
						   | chain_steps[s].nr)) == 0)
				silent = false;
		if (silent)
			nr |= chain_steps[s].nr;
	}
	if (chain_merge_symlists(ctx, cc) && (f0 & SMFIF_SETSYMLIST))
		actions |= SMFIF_SETSYMLIST;
	cc->leadspc = (extra & SMFIP_HDR_LEADSPC) != 0;
	cc->rcpt_rej = (extra & SMFIP_RCPT_REJ) != 0;
	*pf0 = actions;
	*pf1 = ((all_no & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL
			   | SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOUNKNOWN
			   | CHAIN_NO_CONTENT))
		| (nr & CHAIN_NR_ALL) | extra) & f1;
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/* chain_active - does module i take part in this step */
static bool
chain_active(const struct chain_mod *m, unsigned long no, bool message)
{
	if (m->conn_done || (m->pflags & no) != 0)
		return false;
	return !message || !m->msg_done;
}

/* chain_all_done - has every module accepted (the connection/message) */
static bool
chain_all_done(const struct mproto_chain_conn *cc, bool message)
{
	for (size_t i = 0; i < chain_n; i++) {
		const struct chain_mod *m = &cc->mods[i];

		if (!m->conn_done && !(message && m->msg_done))
			return false;
	}
	return true;
}

/* chain_abort_modules - abort the message of every module still in one */
static void
chain_abort_modules(struct mproto_chain_conn *cc)
{
	for (size_t i = 0; i < chain_n; i++) {
		struct chain_mod *m = &cc->mods[i];

		if (!m->in_msg)
			continue;
		m->in_msg = false;
		if (chain_mods[i].desc->xxfi_abort != NULL) {
			m->ctx->cmd = SMFIC_ABORT;
			chain_select((int)i);
			(void)chain_mods[i].desc->xxfi_abort(m->ctx);
			chain_select(-1);
		}
	}
}

/* the envelope callbacks' arguments, one struct for all steps */
struct chain_args {
	char		*host;
	_SOCK_ADDR	*sa;
	char		*name;
	char		**argv;
	const char	*cmd;
};

/* chain_call - one envelope step of one module */
static sfsistat
chain_call(const struct smfiDesc *d, SMFICTX *mctx, size_t step,
	   const struct chain_args *a)
{
	switch (step) {
	case 0: return d->xxfi_connect ? d->xxfi_connect(mctx, a->host, a->sa) : SMFIS_CONTINUE;
	case 1: return d->xxfi_helo ? d->xxfi_helo(mctx, a->name) : SMFIS_CONTINUE;
	case 2: return d->xxfi_envfrom ? d->xxfi_envfrom(mctx, a->argv) : SMFIS_CONTINUE;
	case 3: return d->xxfi_envrcpt ? d->xxfi_envrcpt(mctx, a->argv) : SMFIS_CONTINUE;
	case 4: return d->xxfi_data ? d->xxfi_data(mctx) : SMFIS_CONTINUE;
	case 5: return d->xxfi_unknown ? d->xxfi_unknown(mctx, a->cmd) : SMFIS_CONTINUE;
	}
	return SMFIS_CONTINUE;
}

/* chain_rcpt_rejected - a recipient the MTA already refused (SMFIP_RCPT_REJ) */
static bool
chain_rcpt_rejected(SMFICTX *ctx)
{
	const char *mailer = smfi_getsymval(ctx, "{rcpt_mailer}");

	return mailer != NULL && strcmp(mailer, "error") == 0;
}

/*
 * chain_envelope - an envelope step through the modules in order, as
 * Postfix's milter_*_event(): the first refusal answers and ends the
 * step; accepting modules are done with the connection or message
 */
static sfsistat
chain_envelope(SMFICTX *ctx, size_t step, const struct chain_args *a)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);
	const struct chain_step *st = &chain_steps[step];
	bool message = step >= 2;
	bool rejected_rcpt;

	if (cc == NULL)
		return SMFIS_TEMPFAIL;	/* no negotiation: cannot happen */
	if (step == 2) {
		/* a new message: the last one's content is gone */
		chain_msg_reset(&cc->msg);
		chain_body_reset(&cc->newbody);
		cc->edits.len = 0;
		for (size_t i = 0; i < chain_n; i++) {
			cc->mods[i].msg_done = false;
			cc->mods[i].in_msg = !cc->mods[i].conn_done;
		}
	}
	rejected_rcpt = step == 3 && cc->rcpt_rej && chain_rcpt_rejected(ctx);
	for (size_t i = 0; i < chain_n; i++) {
		struct chain_mod *m = &cc->mods[i];
		sfsistat r;

		if (!chain_active(m, st->no, message))
			continue;
		if (rejected_rcpt && (m->pflags & SMFIP_RCPT_REJ) == 0)
			continue;
		m->ctx->cmd = st->cmd;
		chain_select((int)i);
		r = chain_call(chain_mods[i].desc, m->ctx, step, a);
		chain_select(-1);
		r = chain_normalize(m, r, st->nr);
		if (r == SMFIS_ACCEPT) {
			if (message)
				m->msg_done = true;
			else
				m->conn_done = true;
			continue;
		}
		if (chain_refusal(r)) {
			chain_take_reply(ctx, m);
			/* a refused MAIL, DATA or connection ends the message of
			 * the modules that saw it, as Postfix's reset does */
			if (step == 2 || step == 4)
				chain_abort_modules(cc);
			return r;
		}
	}
	if ((ctx->pflags & st->nr) == 0 && chain_all_done(cc, message))
		return SMFIS_ACCEPT;
	return SMFIS_CONTINUE;
}

/* chain_xxfi_connect - the client, to every module */
static sfsistat
chain_xxfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct chain_args a = {.host = host, .sa = sa};

	return chain_envelope(ctx, 0, &a);
}

/* chain_xxfi_helo - HELO, to every module */
static sfsistat
chain_xxfi_helo(SMFICTX *ctx, char *name)
{
	struct chain_args a = {.name = name};

	return chain_envelope(ctx, 1, &a);
}

/* chain_xxfi_envfrom - MAIL, to every module; a new message */
static sfsistat
chain_xxfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct chain_args a = {.argv = argv};

	return chain_envelope(ctx, 2, &a);
}

/* chain_xxfi_envrcpt - RCPT, to every module */
static sfsistat
chain_xxfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct chain_args a = {.argv = argv};

	return chain_envelope(ctx, 3, &a);
}

/* chain_xxfi_data - DATA, to every module */
static sfsistat
chain_xxfi_data(SMFICTX *ctx)
{
	struct chain_args a = {0};

	return chain_envelope(ctx, 4, &a);
}

/* chain_xxfi_unknown - an unknown SMTP command, to every module */
static sfsistat
chain_xxfi_unknown(SMFICTX *ctx, const char *cmd)
{
	struct chain_args a = {.cmd = cmd};

	return chain_envelope(ctx, 5, &a);
}

/* chain_xxfi_header - keep the field for the content run */
static sfsistat
chain_xxfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);

	if (cc != NULL)
		chain_msg_add_header(&cc->msg, name, value, chain_opts.header_max);
	return SMFIS_NOREPLY;
}

/* chain_xxfi_eoh - nothing to answer before end of message */
static sfsistat
chain_xxfi_eoh(SMFICTX *ctx)
{
	return SMFIS_NOREPLY;
}

/* chain_xxfi_body - keep the chunk for the content run */
static sfsistat
chain_xxfi_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);

	if (cc != NULL)
		chain_body_append(&cc->msg.body, data, len, chain_opts.body_memory,
				  chain_opts.spool_dir);
	return SMFIS_NOREPLY;
}

/* chain_value_for - a kept value as module m takes it: without the one
 * leading space the MTA removes for milters that did not ask for it */
static const char *
chain_value_for(const struct mproto_chain_conn *cc, const struct chain_mod *m,
		const char *value)
{
	if (cc->leadspc && (m->pflags & SMFIP_HDR_LEADSPC) == 0 && *value == ' ')
		return value + 1;
	return value;
}

/* chain_value_from - a module's new value in the host's form: the MTA
 * puts a space after the colon for a milter without SMFIP_HDR_LEADSPC */
static char *
chain_value_from(const struct mproto_chain_conn *cc, const struct chain_mod *m,
		 const char *value)
{
	if (cc->leadspc && (m->pflags & SMFIP_HDR_LEADSPC) == 0)
		return xasprintf(" %s", value);
	return xstrdup(value);
}

/* chain_strings - the two NUL-terminated strings of an edit packet */
static bool
chain_strings(const char *data, size_t len, const char **s1, const char **s2)
{
	const char *nul = memchr(data, '\0', len);

	if (nul == NULL || memchr(nul + 1, '\0', len - (size_t)(nul + 1 - data)) == NULL)
		return false;
	*s1 = data;
	*s2 = nul + 1;
	return true;
}

/*
 * chain_apply_edits - a module's end-of-message changes: applied to the
 * kept message for the modules after it, and queued for the MTA in the
 * host's form. A replacement body is kept whole; only the last one
 * reaches the MTA (chain_forward_body()).
 */
static void
chain_apply_edits(struct mproto_chain_conn *cc, struct chain_mod *m)
{
	struct mproto_out *o = &m->ctx->out;
	size_t off = 0;
	bool new_body = false;

	while (off + MILTER_LEN_BYTES + 1 <= o->len) {
		uint32_t n, idx = 0;
		const char *data, *s1, *s2;
		size_t dlen, il = 0;
		char cmd, *v;

		memcpy(&n, o->buf + off, MILTER_LEN_BYTES);
		n = ntohl(n);
		if (n == 0 || off + MILTER_LEN_BYTES + n > o->len)
			break;	/* the api writes whole packets: cannot happen */
		cmd = o->buf[off + MILTER_LEN_BYTES];
		data = o->buf + off + MILTER_LEN_BYTES + 1;
		dlen = n - 1;
		if ((cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER)
		    && dlen >= MILTER_LEN_BYTES) {
			memcpy(&idx, data, MILTER_LEN_BYTES);
			idx = ntohl(idx);
			il = MILTER_LEN_BYTES;
		}
		switch (cmd) {
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			if (!chain_strings(data + il, dlen - il, &s1, &s2))
				break;
			/* an empty value deletes (cleanup_milter.c): keep it empty */
			v = *s2 == '\0' && cmd == SMFIR_CHGHEADER ? xstrdup("")
			    : chain_value_from(cc, m, s2);
			if (cmd == SMFIR_ADDHEADER)
				chain_msg_add_header(&cc->msg, s1, v, 0);
			else if (cmd == SMFIR_INSHEADER)
				chain_msg_ins_header(&cc->msg, idx, s1, v);
			else
				chain_msg_chg_header(&cc->msg, s1, idx, v);
			mproto_out_packet_str(&cc->edits, cmd, il ? &idx : NULL, s1, v);
			free(v);
			break;
		case SMFIR_REPLBODY:
			if (!new_body) {
				chain_body_reset(&cc->newbody);
				new_body = true;
			}
			chain_body_append(&cc->newbody, data, dlen,
					  chain_opts.body_memory, chain_opts.spool_dir);
			break;
		default:
			/* envelope changes, quarantine: as they are */
			mproto_out_packet(&cc->edits, cmd, data, dlen, NULL, 0);
			break;
		}
		off += MILTER_LEN_BYTES + n;
	}
	o->len = 0;
	if (new_body) {
		chain_body_move(&cc->msg.body, &cc->newbody);
		cc->body_replaced = true;
	}
}

/* chain_forward_body - the final body for the MTA, when a module replaced it */
static int
chain_forward_body(SMFICTX *ctx, struct mproto_chain_conn *cc)
{
	char buf[MILTER_CHUNK_SIZE];
	off_t off = 0;
	ssize_t n;

	while ((n = chain_body_read(&cc->msg.body, off, buf, sizeof(buf))) > 0) {
		mproto_out_packet(&ctx->out, SMFIR_REPLBODY, buf, (size_t)n, NULL, 0);
		off += n;
		if (ctx->out.len > 4 * MILTER_CHUNK_SIZE && mproto_flush(ctx) < 0)
			return -1;
	}
	return n < 0 ? -1 : 0;
}

/* chain_content - header, end of header, body and end of message of one
 * module over the kept message; its verdict */
static sfsistat
chain_content(struct mproto_chain_conn *cc, size_t i)
{
	const struct smfiDesc *d = chain_mods[i].desc;
	struct chain_mod *m = &cc->mods[i];
	sfsistat r = SMFIS_CONTINUE;

	if (d->xxfi_header != NULL && (m->pflags & SMFIP_NOHDRS) == 0) {
		m->ctx->cmd = SMFIC_HEADER;
		for (size_t h = 0; h < cc->msg.nhdrs && r == SMFIS_CONTINUE; h++) {
			char *name = xstrdup(cc->msg.hdrs[h].name);
			char *value = xstrdup(chain_value_for(cc, m, cc->msg.hdrs[h].value));

			r = chain_normalize(m, d->xxfi_header(m->ctx, name, value),
					    SMFIP_NR_HDR);
			free(name);
			free(value);
		}
	}
	if (r == SMFIS_CONTINUE && d->xxfi_eoh != NULL
	    && (m->pflags & SMFIP_NOEOH) == 0) {
		m->ctx->cmd = SMFIC_EOH;
		r = chain_normalize(m, d->xxfi_eoh(m->ctx), SMFIP_NR_EOH);
	}
	if (r == SMFIS_CONTINUE && d->xxfi_body != NULL
	    && (m->pflags & SMFIP_NOBODY) == 0) {
		unsigned char buf[MILTER_CHUNK_SIZE];
		off_t off = 0;
		ssize_t n;

		m->ctx->cmd = SMFIC_BODY;
		while ((n = chain_body_read(&cc->msg.body, off, buf, sizeof(buf))) > 0) {
			sfsistat b = d->xxfi_body(m->ctx, buf, (size_t)n);

			off += n;
			if (b == SMFIS_SKIP && (m->pflags & SMFIP_NR_BODY) == 0)
				break;	/* the rest of the body is not wanted */
			if ((r = chain_normalize(m, b, SMFIP_NR_BODY)) != SMFIS_CONTINUE)
				break;
		}
		if (n < 0) {
			log_msg(LOG_ERR, NULL, "suite: spool file read: %m");
			return SMFIS_TEMPFAIL;
		}
	}
	if (r == SMFIS_CONTINUE && d->xxfi_eom != NULL) {
		m->ctx->cmd = SMFIC_BODYEOB;
		m->ctx->out.len = 0;
		r = d->xxfi_eom(m->ctx);
		if (r == SMFIS_NOREPLY || r == SMFIS_SKIP)
			r = SMFIS_CONTINUE;	/* the engine answers "continue" */
	}
	return r;
}

/*
 * chain_xxfi_eom - the content through each module in order, each seeing
 * the changes of the modules before it (Postfix's milter_message()); the
 * first refusal is the answer; otherwise all changes go to the MTA
 */
static sfsistat
chain_xxfi_eom(SMFICTX *ctx)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);

	if (cc == NULL)
		return SMFIS_TEMPFAIL;
	cc->edits.len = 0;
	cc->body_replaced = false;
	if (cc->msg.body.failed || cc->msg.hdr_overflow) {
		log_msg(LOG_ERR, NULL, "suite: message %s, answering tempfail",
			cc->msg.hdr_overflow ? "header too large to keep"
			: "body could not be kept");
		chain_abort_modules(cc);
		(void)smfi_setreply(ctx, "451", "4.3.0", "Temporary local problem");
		return SMFIS_TEMPFAIL;
	}
	for (size_t i = 0; i < chain_n; i++) {
		struct chain_mod *m = &cc->mods[i];
		sfsistat r;

		if (!chain_active(m, 0, true))
			continue;
		chain_select((int)i);
		r = chain_content(cc, i);
		chain_select(-1);
		m->in_msg = false;
		if (chain_refusal(r) || (r != SMFIS_CONTINUE && r != SMFIS_ACCEPT)) {
			if (!chain_refusal(r))
				r = SMFIS_TEMPFAIL;
			chain_take_reply(ctx, m);
			m->ctx->out.len = 0;
			cc->edits.len = 0;
			chain_abort_modules(cc);
			return r;
		}
		if (cc->newbody.failed) {
			chain_abort_modules(cc);
			(void)smfi_setreply(ctx, "451", "4.3.0", "Temporary local problem");
			return SMFIS_TEMPFAIL;
		}
		chain_apply_edits(cc, m);
		if (r == SMFIS_ACCEPT)
			m->msg_done = true;
	}
	/* modules that accepted the message before its content: done too */
	chain_abort_modules(cc);
	mproto_out_append(&ctx->out, cc->edits.buf, cc->edits.len);
	cc->edits.len = 0;
	if (cc->body_replaced && chain_forward_body(ctx, cc) < 0)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

/* chain_xxfi_abort - the MTA dropped the message */
static sfsistat
chain_xxfi_abort(SMFICTX *ctx)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);

	if (cc != NULL) {
		chain_abort_modules(cc);
		chain_msg_reset(&cc->msg);
	}
	return SMFIS_CONTINUE;
}

/* chain_xxfi_close - the connection ends: every module's close (their
 * contexts stay until the session ends: a QUIT_NC starts a new one) */
static sfsistat
chain_xxfi_close(SMFICTX *ctx)
{
	struct mproto_chain_conn *cc = chain_conn(ctx);

	if (cc == NULL)
		return SMFIS_CONTINUE;
	for (size_t i = 0; i < chain_n; i++) {
		struct chain_mod *m = &cc->mods[i];

		if (chain_mods[i].desc->xxfi_close != NULL) {
			m->ctx->cmd = SMFIC_QUIT;
			chain_select((int)i);
			(void)chain_mods[i].desc->xxfi_close(m->ctx);
			chain_select(-1);
		}
		m->conn_done = m->msg_done = m->in_msg = false;
	}
	chain_msg_reset(&cc->msg);
	return SMFIS_CONTINUE;
}

/* mproto_chain_init - the host's callbacks for these modules */
int
mproto_chain_init(const struct mproto_chain_module *mods, size_t n,
		  const struct mproto_chain_opts *opts, struct smfiDesc *desc)
{
	unsigned long flags = 0;

	if (n == 0 || n > MPROTO_CHAIN_MAX)
		return MI_FAILURE;
	chain_n = n;
	memcpy(chain_mods, mods, n * sizeof(*mods));
	/* the options outlive the snapshot they came from (reloads free it) */
	free((char *)chain_opts.spool_dir);
	chain_opts = *opts;
	chain_opts.spool_dir = xstrdup(opts->spool_dir && *opts->spool_dir
				       ? opts->spool_dir : "/tmp");
	for (size_t i = 0; i < n; i++)
		flags |= mods[i].desc->xxfi_flags;
	memset(desc, 0, sizeof(*desc));
	desc->xxfi_name = "postmill-suite";
	desc->xxfi_version = SMFI_VERSION;
	desc->xxfi_flags = flags;
	desc->xxfi_connect = chain_xxfi_connect;
	desc->xxfi_helo = chain_xxfi_helo;
	desc->xxfi_envfrom = chain_xxfi_envfrom;
	desc->xxfi_envrcpt = chain_xxfi_envrcpt;
	desc->xxfi_data = chain_xxfi_data;
	desc->xxfi_unknown = chain_xxfi_unknown;
	desc->xxfi_header = chain_xxfi_header;
	desc->xxfi_eoh = chain_xxfi_eoh;
	desc->xxfi_body = chain_xxfi_body;
	desc->xxfi_eom = chain_xxfi_eom;
	desc->xxfi_abort = chain_xxfi_abort;
	desc->xxfi_close = chain_xxfi_close;
	desc->xxfi_negotiate = chain_negotiate;
	return MI_SUCCESS;
}
