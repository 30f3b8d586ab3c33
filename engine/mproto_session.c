/*++
 * NAME
 *	mproto_session 3
 * SUMMARY
 *	one milter session: read packets, run the callbacks, reply
 * DESCRIPTION
 *	A session is one MTA connection. When it is readable, a thread of
 *	the engine's pool (mproto_poll.c) reads whatever the MTA has written
 *	into one buffer with one recv() (mproto_session_fill()); once a
 *	complete packet is there, mproto_session_work() handles every one in
 *	the buffer before the next read: with the SMFIP_NR_* flags Postfix
 *	sends the headers and body of a message without waiting, so one
 *	read often carries a dozen packets. Replies and modifications are
 *	collected and written once per batch (mproto_flush_some()).
 *
 *	The order of events, the replies and the macro rules are
 *	libmilter's (libmilter/engine.c and smfi.c, Sendmail 8.14+):
 *	- a callback returning SMFIS_NOREPLY for a stage whose SMFIP_NR_*
 *	  flag the MTA did not accept gets a "continue" on its behalf;
 *	- smfi_setreply() text is used by the next REJECT (5xx) or TEMPFAIL
 *	  (4xx) reply and then forgotten;
 *	- macros are kept per stage; those of MAIL and later stages are
 *	  forgotten at the end of each message and at ABORT;
 *	- xxfi_close runs once at the end of every session (also when the
 *	  MTA just drops the connection), and at SMFIC_QUIT_NC.
 *
 *	Sockets are non-blocking; the pool bounds the wait for a command,
 *	for the whole of a packet and for the writing of a batch with the
 *	smfi_settimeout() value. A packet longer than smfi_setmaxdatasize()
 *	ends the session (the MTA then applies its milter_default_action),
 *	as does any malformed packet. Buffers shrink after a large packet
 *	and an idle session holds none (mproto_session_shrink()).
 *--*/
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "xalloc.h"

enum session_next { SESSION_GO, SESSION_STOP };

/* session_stage - the SMFIM_* slot of a command's macros, or -1 */
static int
session_stage(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIM_CONNECT;
	case SMFIC_HELO:	return SMFIM_HELO;
	case SMFIC_MAIL:	return SMFIM_ENVFROM;
	case SMFIC_RCPT:	return SMFIM_ENVRCPT;
	case SMFIC_DATA:	return SMFIM_DATA;
	case SMFIC_BODYEOB:	return SMFIM_EOM;
	case SMFIC_EOH:		return SMFIM_EOH;
	default:		return -1;
	}
}

/* session_clear_macros - forget the macros of stage "from" and later */
static void
session_clear_macros(SMFICTX *ctx, int from)
{
	for (int i = from; i < MPROTO_STAGES; i++) {
		free(ctx->macros[i].buf);
		ctx->macros[i].buf = NULL;
		free(ctx->macros[i].argv);
		ctx->macros[i].argv = NULL;
	}
}

/* session_reply - encode a callback's verdict for a stage */
static void
session_reply(SMFICTX *ctx, sfsistat r, unsigned long nr_bit)
{
	/* a milter that asked for "no reply" must not send one, or the MTA
	 * would read it as the answer to a later command (libmilter logs
	 * and drops it, so do we) */
	if (nr_bit != 0 && (ctx->pflags & nr_bit) != 0 && r != SMFIS_NOREPLY) {
		if (r != SMFIS_CONTINUE)
			log_msg(LOG_ERR, NULL, "milter: %s answered %d at a stage "
				"it negotiated no reply for", mproto_desc.xxfi_name, r);
		r = SMFIS_NOREPLY;
	}
	switch (r) {
	case SMFIS_CONTINUE:
		mproto_out_packet(&ctx->out, SMFIR_CONTINUE, NULL, 0, NULL, 0);
		break;
	case SMFIS_REJECT:
	case SMFIS_TEMPFAIL:
		if (ctx->reply != NULL
		    && ctx->reply[0] == (r == SMFIS_REJECT ? '5' : '4')) {
			mproto_out_packet_str(&ctx->out, SMFIR_REPLYCODE, NULL,
					      ctx->reply, NULL);
			free(ctx->reply);
			ctx->reply = NULL;
		} else {
			mproto_out_packet(&ctx->out, r == SMFIS_REJECT ?
			    SMFIR_REJECT : SMFIR_TEMPFAIL, NULL, 0, NULL, 0);
		}
		break;
	case SMFIS_DISCARD:
		mproto_out_packet(&ctx->out, SMFIR_DISCARD, NULL, 0, NULL, 0);
		break;
	case SMFIS_ACCEPT:
		mproto_out_packet(&ctx->out, SMFIR_ACCEPT, NULL, 0, NULL, 0);
		break;
	case SMFIS_SKIP:
		/* an MTA that does not know "skip" gets "continue" */
		mproto_out_packet(&ctx->out, (ctx->mta_protocol & SMFIP_SKIP) ?
		    SMFIR_SKIP : SMFIR_CONTINUE, NULL, 0, NULL, 0);
		break;
	case SMFIS_NOREPLY:
		/* asked for "no reply" but the MTA lacks it: fake continue;
		 * a stage without a "no reply" flag (end of message) must
		 * get an answer or the MTA waits for its timeout */
		if (nr_bit == 0 || (ctx->pflags2mta & nr_bit) == 0)
			mproto_out_packet(&ctx->out, SMFIR_CONTINUE, NULL, 0,
					  NULL, 0);
		break;
	default:
		log_msg(LOG_ERR, NULL, "milter: %s returned %d, answering tempfail",
			mproto_desc.xxfi_name, r);
		mproto_out_packet(&ctx->out, SMFIR_TEMPFAIL, NULL, 0, NULL, 0);
		break;
	}
}

/*
 * The protocol states and the commands allowed after each, as libmilter
 * has them (engine.c next_states[]): a command that does not fit is
 * tried as if the session were back at HELO, and ignored (no callback,
 * no reply) when it does not fit there either.
 */
enum session_state {
	ST_INIT, ST_OPTS, ST_CONN, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_HDRS,
	ST_EOHS, ST_BODY, ST_ENDM, ST_QUIT, ST_ABRT, ST_UNKN, ST_Q_NC,
	ST_NONE = -1,
};
#define M(s)	(1u << (s))
static const unsigned session_next_states[] = {
	[ST_INIT] = M(ST_OPTS),
	[ST_OPTS] = M(ST_CONN) | M(ST_UNKN),
	[ST_CONN] = M(ST_HELO) | M(ST_MAIL) | M(ST_UNKN),
	[ST_HELO] = M(ST_HELO) | M(ST_MAIL) | M(ST_UNKN),
	[ST_MAIL] = M(ST_RCPT) | M(ST_ABRT) | M(ST_UNKN),
	[ST_RCPT] = M(ST_HDRS) | M(ST_EOHS) | M(ST_DATA) | M(ST_BODY)
	    | M(ST_ENDM) | M(ST_RCPT) | M(ST_ABRT) | M(ST_UNKN),
	[ST_DATA] = M(ST_EOHS) | M(ST_HDRS) | M(ST_ABRT),
	[ST_HDRS] = M(ST_EOHS) | M(ST_HDRS) | M(ST_ABRT),
	[ST_EOHS] = M(ST_BODY) | M(ST_ENDM) | M(ST_ABRT),
	[ST_BODY] = M(ST_ENDM) | M(ST_BODY) | M(ST_ABRT),
	[ST_ENDM] = M(ST_QUIT) | M(ST_MAIL) | M(ST_UNKN) | M(ST_Q_NC),
	[ST_QUIT] = 0,
	[ST_ABRT] = 0,
	[ST_UNKN] = M(ST_HELO) | M(ST_MAIL) | M(ST_RCPT) | M(ST_ABRT)
	    | M(ST_DATA) | M(ST_BODY) | M(ST_UNKN) | M(ST_QUIT) | M(ST_Q_NC),
	[ST_Q_NC] = M(ST_CONN) | M(ST_UNKN),
};
#undef M

#define SESSION_IN_MAIL(st)	((st) >= ST_MAIL && (st) < ST_ENDM)

/* session_skipped - the states the MTA will not send (negotiated away) */
static unsigned
session_skipped(const SMFICTX *ctx)
{
	static const struct { unsigned long flag; int st; } map[] = {
		{ SMFIP_NOCONNECT, ST_CONN }, { SMFIP_NOHELO, ST_HELO },
		{ SMFIP_NOMAIL, ST_MAIL }, { SMFIP_NORCPT, ST_RCPT },
		{ SMFIP_NODATA, ST_DATA }, { SMFIP_NOHDRS, ST_HDRS },
		{ SMFIP_NOEOH, ST_EOHS }, { SMFIP_NOBODY, ST_BODY },
		{ SMFIP_NOUNKNOWN, ST_UNKN },
	};
	unsigned m = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (ctx->pflags2mta & map[i].flag)
			m |= 1u << map[i].st;
	return m;
}

/*
 * session_trans_ok - may "to" follow "from"? A step the MTA skips is
 * looked through: with SMFIP_NORCPT the headers follow MAIL directly
 * (libmilter's fix_stm() and trans_ok()).
 */
static bool
session_trans_ok(const SMFICTX *ctx, int from, int to)
{
	unsigned seen = 0, todo = 1u << from, skipped = session_skipped(ctx);

	while (todo != 0) {
		int s = __builtin_ctz(todo);
		unsigned next = session_next_states[s];

		todo &= ~(1u << s);
		seen |= 1u << s;
		if (next & (1u << to))
			return true;
		todo |= next & skipped & ~seen;
	}
	return false;
}

/* session_next_state - the state a command leads to (ST_NONE: macros) */
static int
session_next_state(char cmd)
{
	switch (cmd) {
	case SMFIC_ABORT:	return ST_ABRT;
	case SMFIC_MACRO:	return ST_NONE;
	case SMFIC_BODY:	return ST_BODY;
	case SMFIC_CONNECT:	return ST_CONN;
	case SMFIC_BODYEOB:	return ST_ENDM;
	case SMFIC_HELO:	return ST_HELO;
	case SMFIC_HEADER:	return ST_HDRS;
	case SMFIC_MAIL:	return ST_MAIL;
	case SMFIC_OPTNEG:	return ST_OPTS;
	case SMFIC_EOH:		return ST_EOHS;
	case SMFIC_QUIT:	return ST_QUIT;
	case SMFIC_DATA:	return ST_DATA;
	case SMFIC_RCPT:	return ST_RCPT;
	case SMFIC_UNKNOWN:	return ST_UNKN;
	case SMFIC_QUIT_NC:	return ST_Q_NC;
	default:		return -2;
	}
}

/* session_callback_protocol - the steps to skip for missing callbacks */
static unsigned long
session_callback_protocol(void)
{
	unsigned long p = 0;

	if (mproto_desc.xxfi_connect == NULL)	p |= SMFIP_NOCONNECT;
	if (mproto_desc.xxfi_helo == NULL)	p |= SMFIP_NOHELO;
	if (mproto_desc.xxfi_envfrom == NULL)	p |= SMFIP_NOMAIL;
	if (mproto_desc.xxfi_envrcpt == NULL)	p |= SMFIP_NORCPT;
	if (mproto_desc.xxfi_header == NULL)	p |= SMFIP_NOHDRS;
	if (mproto_desc.xxfi_eoh == NULL)	p |= SMFIP_NOEOH;
	if (mproto_desc.xxfi_body == NULL)	p |= SMFIP_NOBODY;
	if (mproto_desc.xxfi_unknown == NULL)	p |= SMFIP_NOUNKNOWN;
	if (mproto_desc.xxfi_data == NULL)	p |= SMFIP_NODATA;
	return p;
}

#define SESSION_NR_BITS	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL \
	| SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH \
	| SMFIP_NR_HDR | SMFIP_NR_BODY)
#define SESSION_INTERNAL	0x70000000UL	/* libmilter's SMFI_INTERNAL */

/* session_optneg - agree on actions and protocol steps, as libmilter */
static enum session_next
session_optneg(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	const char *why = NULL;
	uint32_t v[3];
	unsigned long mta_prot, internal = 0;

	if (mproto_parse_optneg(pkt->data, pkt->len, &ctx->mta_version,
				&ctx->mta_actions, &ctx->mta_protocol, &why) != MPROTO_OK) {
		log_msg(LOG_ERR, NULL, "milter: %s", why);
		return SESSION_STOP;
	}
	if (ctx->mta_version < 2) {
		log_msg(LOG_ERR, NULL, "milter: MTA protocol version %u is too old",
			ctx->mta_version);
		return SESSION_STOP;
	}
	/* nothing offered means what version 1 had */
	if (ctx->mta_actions == 0)
		ctx->mta_actions = SMFI_V1_ACTS;
	if (ctx->mta_protocol == 0)
		ctx->mta_protocol = SMFI_V1_PROT;
	/* the packet size flags are ours to set, from smfi_setmaxdatasize() */
	if (mproto_max_data > MPROTO_MDS_256K && (ctx->mta_protocol & SMFIP_MDS_1M))
		internal = SMFIP_MDS_1M;
	else if (mproto_max_data > MILTER_MAX_DATA_SIZE
		 && (ctx->mta_protocol & SMFIP_MDS_256K))
		internal = SMFIP_MDS_256K;
	mta_prot = (ctx->mta_protocol & ~SESSION_INTERNAL) | internal;
	ctx->mta_protocol = (uint32_t)mta_prot;

	ctx->actions = mproto_desc.xxfi_flags;
	ctx->pflags = session_callback_protocol();
	ctx->pflags2mta = ctx->pflags;
	if (mproto_desc.xxfi_negotiate != NULL) {
		unsigned long p0 = ctx->mta_actions, p1 = ctx->pflags, p2 = 0, p3 = 0;
		sfsistat r;

		if (mta_prot & SMFIP_SKIP)
			p1 |= SMFIP_SKIP;
		/* the "no reply" flags are offered even to an MTA without
		 * them: we fake the replies it expects */
		r = mproto_desc.xxfi_negotiate(ctx, ctx->mta_actions,
		    mta_prot | SESSION_NR_BITS, 0, 0, &p0, &p1, &p2, &p3);
		if (r == SMFIS_ALL_OPTS) {
			ctx->actions = ctx->mta_actions;
			if (mta_prot & SMFIP_SKIP)
				ctx->pflags2mta |= SMFIP_SKIP;
		} else if (r == SMFIS_CONTINUE) {
			ctx->actions = p0;
			ctx->pflags = ctx->pflags2mta = p1;
			ctx->pflags2mta &= ~(SESSION_NR_BITS & ~mta_prot);
		} else {
			log_msg(LOG_ERR, NULL, "milter: %s refused the MTA's options "
				"(protocol 0x%lx, actions 0x%x)", mproto_desc.xxfi_name,
				mta_prot, ctx->mta_actions);
			return SESSION_STOP;
		}
	}
	for (int i = 0; i < MPROTO_STAGES; i++)
		if (ctx->symlist[i] != NULL)
			ctx->actions |= SMFIF_SETSYMLIST;
	if ((ctx->actions & ctx->mta_actions) != ctx->actions) {
		log_msg(LOG_ERR, NULL, "milter: the MTA offers actions 0x%x, "
			"%s needs 0x%lx", ctx->mta_actions, mproto_desc.xxfi_name,
			ctx->actions);
		return SESSION_STOP;
	}
	/* older MTAs cannot skip DATA or unknown commands: take them */
	if (!(mta_prot & SMFIP_NODATA))
		ctx->pflags2mta &= ~SMFIP_NODATA;
	if (!(mta_prot & SMFIP_NOUNKNOWN))
		ctx->pflags2mta &= ~SMFIP_NOUNKNOWN;
	ctx->pflags2mta = (ctx->pflags2mta & ~SESSION_INTERNAL) | internal;
	if ((mta_prot & ctx->pflags2mta) != ctx->pflags2mta) {
		log_msg(LOG_ERR, NULL, "milter: the MTA offers protocol 0x%lx, "
			"%s needs 0x%lx", mta_prot, mproto_desc.xxfi_name,
			ctx->pflags2mta);
		return SESSION_STOP;
	}

	v[0] = htonl(ctx->mta_version < SMFI_PROT_VERSION ?
		     ctx->mta_version : SMFI_PROT_VERSION);
	v[1] = htonl((uint32_t)ctx->actions);
	v[2] = htonl((uint32_t)ctx->pflags2mta);
	{
		/* after the three words: (stage, NUL-terminated list) pairs */
		char *lists = NULL;
		size_t n = 0;

		for (int i = 0; i < MPROTO_STAGES; i++) {
			const char *l = ctx->symlist[i];
			uint32_t where = htonl((uint32_t)i);
			size_t ll;

			if (l == NULL)
				continue;
			ll = strlen(l) + 1;
			lists = xrealloc(lists, n + sizeof(where) + ll);
			memcpy(lists + n, &where, sizeof(where));
			memcpy(lists + n + sizeof(where), l, ll);
			n += sizeof(where) + ll;
		}
		mproto_out_packet(&ctx->out, SMFIC_OPTNEG, v, sizeof(v), lists, n);
		free(lists);
	}
	return SESSION_GO;
}

/* session_macros - keep a stage's macros (a copy: the buffer moves) */
static enum session_next
session_macros(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	struct mproto_macros *m;
	const char *why = NULL;
	size_t argc;
	int stage;

	if (pkt->len < 1) {
		log_msg(LOG_ERR, NULL, "milter: empty macro packet");
		return SESSION_STOP;
	}
	/* Postfix also sends the end-of-data list with each header and
	 * body chunk; libmilter has no slot for those and ignores them */
	if ((stage = session_stage(pkt->data[0])) < 0)
		return SESSION_GO;
	/* as many as the MTA was told to send (milter_*_macros in Postfix):
	 * libmilter takes any number, so a fixed array of MAIL/RCPT size
	 * would drop connections of a configuration with many; the packet
	 * size bounds the count, MPROTO_MAX_MACRO_ARGS bounds the memory */
	argc = mproto_count_strings(pkt->data + 1, pkt->len - 1);
	if (argc > MPROTO_MAX_MACRO_ARGS) {
		log_msg(LOG_ERR, NULL, "milter: macro packet: more than %d strings",
			MPROTO_MAX_MACRO_ARGS);
		return SESSION_STOP;
	}
	m = &ctx->macros[stage];
	free(m->buf);
	free(m->argv);
	m->buf = xmalloc(pkt->len);
	m->argv = xcalloc(argc + 1, sizeof(*m->argv));
	memcpy(m->buf, pkt->data + 1, pkt->len - 1);
	if (mproto_strings(m->buf, pkt->len - 1, m->argv, argc + 1,
			   &argc, &why) != MPROTO_OK || argc % 2 != 0) {
		log_msg(LOG_ERR, NULL, "milter: macro packet: %s",
			why ? why : "a name without a value");
		free(m->buf);
		m->buf = NULL;
		free(m->argv);
		m->argv = NULL;
		return SESSION_STOP;
	}
	return SESSION_GO;
}

/* session_args - split a packet into strings; at least "min" of them */
static int
session_args(const struct mproto_packet *pkt, char **argv, size_t min,
	     size_t *argc)
{
	const char *why = NULL;

	if (mproto_strings(pkt->data, pkt->len, argv, MPROTO_MAX_ARGS + 1,
			   argc, &why) != MPROTO_OK || *argc < min) {
		log_msg(LOG_ERR, NULL, "milter: command '%c': %s", pkt->cmd,
			why ? why : "missing argument");
		return -1;
	}
	return 0;
}

/* session_call - run the callback of one command; ST_NONE-less commands */
static enum session_next
session_call(SMFICTX *ctx, const struct mproto_packet *pkt, sfsistat *rp,
	     unsigned long *nr_bit)
{
	struct smfiDesc *d = &mproto_desc;
	char *argv[MPROTO_MAX_ARGS + 1];
	size_t argc;
	sfsistat r = SMFIS_CONTINUE;

	*nr_bit = 0;
	switch (pkt->cmd) {
	case SMFIC_CONNECT: {
		struct mproto_connect c;
		struct sockaddr_storage ss;
		const char *why = NULL;

		if (mproto_parse_connect(pkt->data, pkt->len, &c, &why) != MPROTO_OK) {
			log_msg(LOG_ERR, NULL, "milter: %s", why);
			return SESSION_STOP;
		}
		session_clear_macros(ctx, SMFIM_CONNECT + 1);
		*nr_bit = SMFIP_NR_CONN;
		if (d->xxfi_connect == NULL)
			break;
		if (c.family != SMFIA_UNKNOWN && mproto_connect_sockaddr(&c, &ss) < 0) {
			log_msg(LOG_ERR, NULL, "milter: connect: bad address");
			return SESSION_STOP;
		}
		r = d->xxfi_connect(ctx, c.host, c.family == SMFIA_UNKNOWN ?
				    NULL : (struct sockaddr *)&ss);
		break;
	}
	case SMFIC_HELO:
		if (session_args(pkt, argv, 1, &argc) < 0)
			return SESSION_STOP;
		session_clear_macros(ctx, SMFIM_HELO + 1);
		*nr_bit = SMFIP_NR_HELO;
		if (d->xxfi_helo)
			r = d->xxfi_helo(ctx, argv[0]);
		break;
	case SMFIC_MAIL:
		if (session_args(pkt, argv, 1, &argc) < 0)
			return SESSION_STOP;
		session_clear_macros(ctx, SMFIM_ENVFROM + 1);
		*nr_bit = SMFIP_NR_MAIL;
		if (d->xxfi_envfrom)
			r = d->xxfi_envfrom(ctx, argv);
		break;
	case SMFIC_RCPT:
		if (session_args(pkt, argv, 1, &argc) < 0)
			return SESSION_STOP;
		session_clear_macros(ctx, SMFIM_ENVRCPT + 1);
		*nr_bit = SMFIP_NR_RCPT;
		if (d->xxfi_envrcpt)
			r = d->xxfi_envrcpt(ctx, argv);
		break;
	case SMFIC_DATA:
		*nr_bit = SMFIP_NR_DATA;
		if (d->xxfi_data)
			r = d->xxfi_data(ctx);
		break;
	case SMFIC_UNKNOWN:
		if (session_args(pkt, argv, 1, &argc) < 0)
			return SESSION_STOP;
		*nr_bit = SMFIP_NR_UNKN;
		if (d->xxfi_unknown)
			r = d->xxfi_unknown(ctx, argv[0]);
		break;
	case SMFIC_HEADER:
		if (session_args(pkt, argv, 2, &argc) < 0)
			return SESSION_STOP;
		*nr_bit = SMFIP_NR_HDR;
		if (d->xxfi_header)
			r = d->xxfi_header(ctx, argv[0], argv[1]);
		break;
	case SMFIC_EOH:
		*nr_bit = SMFIP_NR_EOH;
		if (d->xxfi_eoh)
			r = d->xxfi_eoh(ctx);
		break;
	case SMFIC_BODY:
		*nr_bit = SMFIP_NR_BODY;
		if (d->xxfi_body)
			r = d->xxfi_body(ctx, (unsigned char *)pkt->data, pkt->len);
		break;
	case SMFIC_BODYEOB:
		/* data on the last chunk is a body chunk first (libmilter) */
		if (pkt->len > 0 && d->xxfi_body != NULL)
			r = d->xxfi_body(ctx, (unsigned char *)pkt->data, pkt->len);
		if (r == SMFIS_CONTINUE || r == SMFIS_NOREPLY || r == SMFIS_SKIP)
			r = d->xxfi_eom ? d->xxfi_eom(ctx) : SMFIS_CONTINUE;
		break;
	case SMFIC_ABORT:
		if (d->xxfi_abort)
			(void)d->xxfi_abort(ctx);
		*rp = SMFIS_NOREPLY;
		return SESSION_GO;
	case SMFIC_QUIT:
	case SMFIC_QUIT_NC:
		if (d->xxfi_close)
			(void)d->xxfi_close(ctx);
		session_clear_macros(ctx, SMFIM_CONNECT);
		ctx->priv = NULL;
		*rp = SMFIS_NOREPLY;
		return pkt->cmd == SMFIC_QUIT ? SESSION_STOP : SESSION_GO;
	}
	*rp = r;
	return SESSION_GO;
}

/* session_dispatch - one packet: state check, callback, reply */
static enum session_next
session_dispatch(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	unsigned long nr_bit;
	enum session_next next;
	sfsistat r;
	int st = session_next_state(pkt->cmd);

	if (st == -2) {
		log_msg(LOG_ERR, NULL, "milter: unknown command 0x%02x",
			(unsigned char)pkt->cmd);
		return SESSION_STOP;
	}
	if (pkt->cmd == SMFIC_MACRO)
		return session_macros(ctx, pkt);
	if (!session_trans_ok(ctx, ctx->state, st)) {
		if (mproto_desc.xxfi_abort != NULL && SESSION_IN_MAIL(ctx->state))
			(void)mproto_desc.xxfi_abort(ctx);
		ctx->state = ST_HELO;
		if (!session_trans_ok(ctx, ST_HELO, st)) {
			/* libmilter ignores it too: no callback, no reply */
			log_msg(LOG_WARNING, NULL, "milter: command '%c' out of "
				"sequence, ignored", pkt->cmd);
			return SESSION_GO;
		}
	}
	ctx->state = st;
	ctx->cmd = pkt->cmd;
	if (pkt->cmd == SMFIC_OPTNEG)
		return session_optneg(ctx, pkt);
	next = session_call(ctx, pkt, &r, &nr_bit);
	if (next == SESSION_STOP)
		return next;
	if (pkt->cmd == SMFIC_QUIT_NC || pkt->cmd == SMFIC_ABORT)
		return SESSION_GO;
	session_reply(ctx, r, nr_bit);
	if (r == SMFIS_ACCEPT) {
		ctx->state = ST_HELO;	/* the rest of the message is not ours */
	} else if (r == SMFIS_REJECT || r == SMFIS_DISCARD || r == SMFIS_TEMPFAIL) {
		/* a refused recipient or unknown command leaves the rest */
		if (pkt->cmd != SMFIC_RCPT && pkt->cmd != SMFIC_UNKNOWN)
			ctx->state = ST_HELO;
	}
	return SESSION_GO;
}

/* mproto_flush - write every collected reply now (a callback's
 * smfi_progress, a large replacement body); -1 when the MTA is gone or
 * takes none of it for the smfi_settimeout() time */
int
mproto_flush(SMFICTX *ctx)
{
	size_t off = 0;

	while (off < ctx->out.len) {
		ssize_t n = send(ctx->fd, ctx->out.buf + off, ctx->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = ctx->fd, .events = POLLOUT };
			int rc = poll(&p, 1, mproto_timeout_s * 1000);

			if (rc > 0 || (rc < 0 && errno == EINTR))
				continue;
			errno = rc == 0 ? EAGAIN : errno;
		}
		if (n <= 0) {
			log_msg(LOG_WARNING, NULL, "milter: write to MTA: %s",
				errno == EAGAIN || errno == EWOULDBLOCK ?
				"timeout" : strerror(errno));
			ctx->out.len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	ctx->out.len = 0;
	return 0;
}

/* mproto_flush_some - write what the socket takes without waiting: 0 =
 * all written, 1 = the rest waits in ctx->out (the pool writes it when
 * the MTA reads), -1 = the MTA is gone */
int
mproto_flush_some(SMFICTX *ctx)
{
	size_t off = 0;

	while (off < ctx->out.len) {
		ssize_t n = send(ctx->fd, ctx->out.buf + off, ctx->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			log_msg(LOG_WARNING, NULL, "milter: write to MTA: %s",
				strerror(errno));
			ctx->out.len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	if (off > 0 && off < ctx->out.len)
		memmove(ctx->out.buf, ctx->out.buf + off, ctx->out.len - off);
	ctx->out.len -= off;
	return ctx->out.len > 0 ? 1 : 0;
}

/* session_packet_size - bytes of the (partial) packet at the head of the
 * read buffer, 0 while its length is not all there */
static size_t
session_packet_size(const SMFICTX *ctx)
{
	uint32_t n;

	if (ctx->in_len < MILTER_LEN_BYTES)
		return 0;
	memcpy(&n, ctx->in, sizeof(n));
	return MILTER_LEN_BYTES + (size_t)ntohl(n);
}

/*
 * A few free read buffers of the first size: an idle session gives its
 * buffer back after each batch, and taking a fresh one from malloc every
 * time made the allocator hand pages back and fault them in again.
 */
#define SESSION_SPARE_BUFFERS	16
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static char *spare[SESSION_SPARE_BUFFERS];
static size_t n_spare;

/* session_buffer_get - a read buffer of MPROTO_READ_CHUNK bytes */
static char *
session_buffer_get(void)
{
	char *b = NULL;

	pthread_mutex_lock(&spare_lock);
	if (n_spare > 0)
		b = spare[--n_spare];
	pthread_mutex_unlock(&spare_lock);
	return b ? b : xmalloc(MPROTO_READ_CHUNK);
}

/* session_buffer_put - keep a read buffer of MPROTO_READ_CHUNK bytes */
static void
session_buffer_put(char *b)
{
	pthread_mutex_lock(&spare_lock);
	if (n_spare < SESSION_SPARE_BUFFERS) {
		spare[n_spare++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	free(b);
}

/*
 * mproto_session_fill - one non-blocking read, as much as the MTA has
 * written. The buffer gets room for the rest of a partial packet, whose
 * length mproto_session_ready() has already held to the limit (plus a
 * little for the packets Postfix pipelines after it), or a read chunk;
 * growth that does not fit the memory budget is refused.
 */
int
mproto_session_fill(SMFICTX *ctx)
{
	size_t want = ctx->in_len + MPROTO_READ_CHUNK / 4, psize;
	ssize_t n;

	if ((psize = session_packet_size(ctx)) > ctx->in_len)
		want = psize + MPROTO_READ_CHUNK / 4;
	if (want < MPROTO_READ_CHUNK)
		want = MPROTO_READ_CHUNK;
	if (ctx->in_cap < want) {
		if (!mproto_mem_fits(want - ctx->in_cap))
			return MPROTO_FILL_MEMORY;
		if (ctx->in == NULL && want == MPROTO_READ_CHUNK)
			ctx->in = session_buffer_get();
		else
			ctx->in = xrealloc(ctx->in, want);
		ctx->in_cap = want;
	}
	do
		n = recv(ctx->fd, ctx->in + ctx->in_len, ctx->in_cap - ctx->in_len,
			 MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		ctx->in_len += (size_t)n;
		return MPROTO_FILL_OK;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return MPROTO_FILL_AGAIN;
	if (n < 0)
		log_msg(LOG_WARNING, NULL, "milter: read from MTA: %s", strerror(errno));
	return MPROTO_FILL_EOF;
}

/* mproto_session_ready - is there work: a complete packet at the head of
 * the buffer, or one that must end the session (too long, malformed) */
int
mproto_session_ready(const SMFICTX *ctx)
{
	struct mproto_packet pkt;
	const char *why = NULL;

	return mproto_frame(ctx->in, ctx->in_len, mproto_max_data, &pkt, &why)
	    != MPROTO_SHORT;
}

/* mproto_session_new - a session on a connected, non-blocking socket;
 * the read buffer comes with the first byte */
SMFICTX *
mproto_session_new(int fd)
{
	SMFICTX *ctx = xcalloc(1, sizeof(*ctx));

	ctx->fd = fd;
	return ctx;
}

/*
 * mproto_session_work - handle every complete packet in the buffer, in
 * order, collecting the replies in ctx->out for one write by the caller;
 * a partial packet moves to the start of the buffer. false: the session
 * is over (QUIT, a protocol error, a refused negotiation).
 */
bool
mproto_session_work(SMFICTX *ctx)
{
	struct mproto_packet pkt;
	const char *why = NULL;
	size_t pos = 0;
	bool go = true;
	int rc;

	while ((rc = mproto_frame(ctx->in + pos, ctx->in_len - pos,
				  mproto_max_data, &pkt, &why)) == MPROTO_OK) {
		pos += pkt.consumed;
		if (session_dispatch(ctx, &pkt) == SESSION_STOP) {
			go = false;
			break;
		}
	}
	if (go && rc == MPROTO_BAD) {
		log_msg(LOG_ERR, NULL, "milter: %s", why);
		go = false;
	}
	if (pos > 0) {
		memmove(ctx->in, ctx->in + pos, ctx->in_len - pos);
		ctx->in_len -= pos;
	}
	return go;
}

/* session_macros_size - bytes kept for one stage's macros */
static size_t
session_macros_size(const struct mproto_macros *m)
{
	size_t n = 0, last = 0;

	if (m->buf == NULL)
		return 0;
	for (char **a = m->argv; *a != NULL; a++, n++)
		last = (size_t)(*a - m->buf) + strlen(*a) + 1;
	return last + (n + 1) * sizeof(*m->argv);
}

/* mproto_session_footprint - the session's buffered protocol data, as
 * counted in the memory budget */
size_t
mproto_session_footprint(const SMFICTX *ctx)
{
	size_t n = sizeof(*ctx) + ctx->in_cap + ctx->out.cap;

	for (int i = 0; i < MPROTO_STAGES; i++)
		n += session_macros_size(&ctx->macros[i]);
	return n;
}

/*
 * mproto_session_shrink - give back what a large packet needed: an idle
 * session keeps no read buffer (5,000 idle connections would otherwise
 * hold 5,000 read chunks), a partial packet keeps room for itself only,
 * and a large batch of replies does not keep its buffer.
 */
void
mproto_session_shrink(SMFICTX *ctx)
{
	size_t keep = session_packet_size(ctx);

	if (ctx->in_len == 0) {
		if (ctx->in_cap == MPROTO_READ_CHUNK)
			session_buffer_put(ctx->in);
		else
			free(ctx->in);
		ctx->in = NULL;
		ctx->in_cap = 0;
	} else {
		if (keep < MPROTO_READ_CHUNK)
			keep = MPROTO_READ_CHUNK;
		if (ctx->in_cap > keep + MPROTO_READ_CHUNK / 4) {
			ctx->in = xrealloc(ctx->in, keep);
			ctx->in_cap = keep;
		}
	}
	if (ctx->out.len == 0 && ctx->out.cap > MPROTO_READ_CHUNK / 4)
		mproto_out_free(&ctx->out);
}

/* mproto_session_end - the last replies, if the MTA takes them, the
 * abort and close callbacks, then close the socket and free */
void
mproto_session_end(SMFICTX *ctx)
{
	if (ctx->out.len > 0)
		(void)mproto_flush_some(ctx);
	/* as libmilter: a session that ends inside a message is aborted,
	 * and every session is closed once (QUIT already did it) */
	if (ctx->state != ST_QUIT) {
		if (mproto_desc.xxfi_abort != NULL && SESSION_IN_MAIL(ctx->state))
			(void)mproto_desc.xxfi_abort(ctx);
		if (mproto_desc.xxfi_close != NULL)
			(void)mproto_desc.xxfi_close(ctx);
	}
	close(ctx->fd);
	session_clear_macros(ctx, SMFIM_CONNECT);
	for (int i = 0; i < MPROTO_STAGES; i++)
		free(ctx->symlist[i]);
	free(ctx->reply);
	mproto_out_free(&ctx->out);
	if (ctx->in_cap == MPROTO_READ_CHUNK)
		session_buffer_put(ctx->in);
	else
		free(ctx->in);
	free(ctx);
}
