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
 *	The states, the order of callbacks, the replies, the payload checks
 *	and the macro rules are libmilter's (Sendmail 8.17 libmilter/engine.c
 *	and smfi.c, as Debian ships it), and tests/diff holds us to that:
 *	- each command leads to a state; a command that may not follow the
 *	  current one (libmilter's next_states[] and trans_ok(): only through
 *	  states the milter asked the MTA to skip, one at a time) calls
 *	  xxfi_abort when a message is in progress, and is then tried as if
 *	  the session were at HELO, and ignored (no callback, no reply) if it
 *	  does not fit there either; an ignored QUIT still ends the session;
 *	- a malformed payload ends the session (the MTA applies its
 *	  milter_default_action), except a HELO without its NUL and a macro
 *	  packet without any NUL or for an unknown stage: those are ignored;
 *	  checks are made only where libmilter makes them (no xxfi_connect:
 *	  CONNECT is not parsed);
 *	- a callback returning SMFIS_NOREPLY for a stage whose SMFIP_NR_*
 *	  flag the MTA did not accept gets a "continue" on its behalf;
 *	- smfi_setreply() text is used by the next REJECT (5xx) or TEMPFAIL
 *	  (4xx) reply and then forgotten;
 *	- macros are kept per stage; CONNECT, HELO, MAIL and RCPT forget those
 *	  of the later stages, OPTNEG, QUIT and QUIT_NC all of them. ABORT and
 *	  the end of a message forget none (a message's macros stay visible
 *	  until the next MAIL);
 *	- xxfi_close runs when the MTA sends QUIT or QUIT_NC, and at the end
 *	  of a session that QUIT did not end (the MTA dropped the connection,
 *	  broke the protocol, or sent QUIT out of sequence): also for a
 *	  connection that never sent CONNECT, and once more at the end of a
 *	  connection whose last command was QUIT_NC (a new SMTP session had
 *	  begun). xxfi_abort runs, before it, when the session ends inside a
 *	  message.
 *	Where this engine differs from libmilter on purpose, engine/mproto.h
 *	says so.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "xalloc.h"

enum session_next { SESSION_GO, SESSION_STOP };

/* session_slot - the MPROTO_CI_* slot of a stage letter's macros, or -1 */
static int
session_slot(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return MPROTO_CI_CONN;
	case SMFIC_HELO:	return MPROTO_CI_HELO;
	case SMFIC_MAIL:	return MPROTO_CI_MAIL;
	case SMFIC_RCPT:	return MPROTO_CI_RCPT;
	case SMFIC_DATA:	return MPROTO_CI_DATA;
	case SMFIC_EOH:		return MPROTO_CI_EOH;
	case SMFIC_BODYEOB:	return MPROTO_CI_EOM;
	default:		return -1;
	}
}

/* session_clear_macros - forget the macros of slot "from" and later */
static void
session_clear_macros(SMFICTX *ctx, int from)
{
	for (int i = from; i < MPROTO_STAGES; i++) {
		free(ctx->macros[i].buf);
		ctx->macros[i].buf = NULL;
		free(ctx->macros[i].argv);
		ctx->macros[i].argv = NULL;
		ctx->macros[i].argc = 0;
	}
}

/*
 * Protocol warnings are rate-limited: a stream of out-of-sequence or
 * malformed packets must not turn into a stream of log lines (500 kB of
 * them made 100,000). Each session logs its first SESSION_WARN_MAX, then
 * says it stops; the process logs at most SESSION_WARN_RATE a minute
 * over all sessions and then how many it left out.
 */
#define SESSION_WARN_MAX	5
#define SESSION_WARN_RATE	60
#define SESSION_WARN_WINDOW	60	/* seconds */

static pthread_mutex_t session_warn_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t session_warn_start;
static unsigned long session_warn_count, session_warn_dropped;

/* session_warn_process - may one more warning be logged in this minute */
static bool
session_warn_process(void)
{
	struct timespec now;
	unsigned long dropped = 0;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&session_warn_lock);
	if (session_warn_start == 0
	    || now.tv_sec - session_warn_start >= SESSION_WARN_WINDOW) {
		dropped = session_warn_dropped;
		session_warn_start = now.tv_sec;
		session_warn_count = 0;
		session_warn_dropped = 0;
	}
	ok = session_warn_count++ < SESSION_WARN_RATE;
	if (!ok)
		session_warn_dropped++;
	pthread_mutex_unlock(&session_warn_lock);
	if (dropped > 0)
		log_msg(LOG_WARNING, NULL, "milter: %lu protocol warnings not "
			"logged in the last %d s", dropped, SESSION_WARN_WINDOW);
	return ok;
}

/* session_warn - log a protocol complaint about this session, rate-limited */
static void __attribute__((format(printf, 3, 4)))
session_warn(SMFICTX *ctx, int prio, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (ctx->warnings > SESSION_WARN_MAX)
		return;
	if (!session_warn_process())
		return;
	if (ctx->warnings++ == SESSION_WARN_MAX) {
		log_msg(LOG_WARNING, NULL, "milter: more protocol warnings on "
			"this connection, not logged");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_msg(prio, NULL, "milter: %s", line);
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
			session_warn(ctx, LOG_ERR, "%s answered %d at a stage it "
				     "negotiated no reply for", mproto_desc.xxfi_name, r);
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
		session_warn(ctx, LOG_ERR, "%s returned %d, answering tempfail",
			     mproto_desc.xxfi_name, r);
		mproto_out_packet(&ctx->out, SMFIR_TEMPFAIL, NULL, 0, NULL, 0);
		break;
	}
}

/*
 * The protocol states and the commands allowed after each: libmilter's
 * table (engine.c next_states[]), state numbers in the same order, which
 * session_trans_ok() relies on.
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
#define SESSION_N_STATES \
	(int)(sizeof(session_next_states) / sizeof(session_next_states[0]))

#define SESSION_IN_MAIL(st)	((st) >= ST_MAIL && (st) < ST_ENDM)

/* session_skippable - is state st one the milter asked the MTA to skip */
static bool
session_skippable(const SMFICTX *ctx, int st)
{
	static const unsigned long flag[] = {
		[ST_CONN] = SMFIP_NOCONNECT, [ST_HELO] = SMFIP_NOHELO,
		[ST_MAIL] = SMFIP_NOMAIL, [ST_RCPT] = SMFIP_NORCPT,
		[ST_DATA] = SMFIP_NODATA, [ST_HDRS] = SMFIP_NOHDRS,
		[ST_EOHS] = SMFIP_NOEOH, [ST_BODY] = SMFIP_NOBODY,
		[ST_UNKN] = SMFIP_NOUNKNOWN,
	};

	return st < (int)(sizeof(flag) / sizeof(flag[0]))
	    && (ctx->pflags & flag[st]) != 0;
}

/*
 * session_trans_ok - may "to" follow "from"? As libmilter's trans_ok():
 * when it may not, and the state numbered next is one the milter asked
 * to skip, try from there, one step at a time; with SMFIP_NORCPT the
 * headers follow MAIL. Only the next state by number, never a search
 * through the graph: after end of message, ABORT is no step of any path
 * (Postfix sends two after each message) and QUIT is none after MAIL.
 * The flags are the milter's (libmilter's fix_stm() uses ctx_pflags).
 */
static bool
session_trans_ok(const SMFICTX *ctx, int from, int to)
{
	for (int s = from; s >= 0 && s < SESSION_N_STATES; s++) {
		if (session_next_states[s] & (1u << to))
			return true;
		if (s + 1 >= SESSION_N_STATES || !session_skippable(ctx, s + 1))
			return false;
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

/*
 * What a command's handler returns besides a milter's sfsistat, as
 * libmilter's engine.c has them: end the session (_SMFIS_ABORT), no
 * reply and go on (_SMFIS_FAIL, and the NOREPLY of ABORT and QUIT), the
 * reply is already queued (_SMFIS_OPTIONS).
 */
#define SESSION_R_ABORT		21
#define SESSION_R_NONE		(-1)
#define SESSION_R_SENT		22

/* session_optneg - agree on actions and protocol steps, as libmilter */
static sfsistat
session_optneg(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	const char *why = NULL;
	uint32_t v[3];
	unsigned long mta_prot;

	/* libmilter forgets every macro here, those of CONNECT too */
	session_clear_macros(ctx, 0);
	if (mproto_parse_optneg(pkt->data, pkt->len, &ctx->mta_version,
				&ctx->mta_actions, &ctx->mta_protocol, &why) != MPROTO_OK) {
		session_warn(ctx, LOG_ERR, "%s", why);
		return SESSION_R_ABORT;
	}
	if (ctx->mta_version < 2) {
		session_warn(ctx, LOG_ERR, "MTA protocol version %u is too old",
			ctx->mta_version);
		return SESSION_R_ABORT;
	}
	/* nothing offered means what version 1 had */
	if (ctx->mta_actions == 0)
		ctx->mta_actions = SMFI_V1_ACTS;
	if (ctx->mta_protocol == 0)
		ctx->mta_protocol = SMFI_V1_PROT;
	/* the packet size flags (SMFIP_MDS_*) are removed, as Debian's
	 * libmilter (built without _FFR_MDS_NEGOTIATE) does: the MTA keeps
	 * to 64 KiB packets; longer ones, up to smfi_setmaxdatasize(), are
	 * still read */
	mta_prot = ctx->mta_protocol & ~SESSION_INTERNAL;
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
			session_warn(ctx, LOG_ERR, "%s refused the MTA's options "
				"(protocol 0x%lx, actions 0x%x)", mproto_desc.xxfi_name,
				mta_prot, ctx->mta_actions);
			return SESSION_R_ABORT;
		}
	}
	if ((ctx->actions & ctx->mta_actions) != ctx->actions) {
		session_warn(ctx, LOG_ERR, "the MTA offers actions 0x%x, "
			"%s needs 0x%lx", ctx->mta_actions, mproto_desc.xxfi_name,
			ctx->actions);
		return SESSION_R_ABORT;
	}
	/* older MTAs cannot skip DATA or unknown commands: take them */
	if (!(mta_prot & SMFIP_NODATA))
		ctx->pflags2mta &= ~SMFIP_NODATA;
	if (!(mta_prot & SMFIP_NOUNKNOWN))
		ctx->pflags2mta &= ~SMFIP_NOUNKNOWN;
	ctx->pflags2mta &= ~SESSION_INTERNAL;
	if ((mta_prot & ctx->pflags2mta) != ctx->pflags2mta) {
		session_warn(ctx, LOG_ERR, "the MTA offers protocol 0x%lx, "
			"%s needs 0x%lx", mta_prot, mproto_desc.xxfi_name,
			ctx->pflags2mta);
		return SESSION_R_ABORT;
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
	return SESSION_R_SENT;
}

/*
 * session_macros - keep a stage's macros (a copy: the read buffer
 * moves). As libmilter's st_macros(): any number of strings (the packet
 * size bounds them), bytes after the last NUL are no string, an odd
 * count keeps its last name without a value (smfi_getsymval() finds it
 * and returns NULL; libmilter then reads past its array), and a packet
 * without any NUL or for a stage it has no slot for is ignored: Postfix
 * also sends the end-of-data list before each header and body chunk.
 */
static sfsistat
session_macros(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	struct mproto_macros *m;
	size_t n = mproto_count_strings(pkt->data + 1, pkt->len - 1);
	int slot = session_slot(pkt->data[0]);

	if (n == 0 || slot < 0)
		return SESSION_R_NONE;
	m = &ctx->macros[slot];
	free(m->buf);
	free(m->argv);
	m->buf = xmalloc(pkt->len);
	memcpy(m->buf, pkt->data + 1, pkt->len - 1);
	/* name, value, ..., and NULL, NULL: a lone last name reads a NULL */
	m->argv = xcalloc(n + 2, sizeof(*m->argv));
	m->argc = mproto_strings(m->buf, pkt->len - 1, m->argv, n);
	return SESSION_R_NONE;
}

/* session_argv_call - MAIL and RCPT: libmilter's ARGV_FCT() */
static sfsistat
session_argv_call(SMFICTX *ctx, const struct mproto_packet *pkt, int slot,
		  sfsistat (*cb)(SMFICTX *, char **))
{
	char **argv;
	size_t argc;
	sfsistat r;

	session_clear_macros(ctx, slot + 1);
	if (cb == NULL)
		return SMFIS_CONTINUE;
	if ((argv = mproto_argv(pkt->data, pkt->len, &argc)) == NULL) {
		session_warn(ctx, LOG_ERR, "command '%c': argument not "
			     "terminated", pkt->cmd);
		return SESSION_R_ABORT;
	}
	r = cb(ctx, argv);
	free(argv);
	return r;
}

/* session_connect - CONNECT: libmilter's st_connectinfo() */
static sfsistat
session_connect(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	struct mproto_connect c;
	struct sockaddr_storage ss;
	const char *why = NULL;

	session_clear_macros(ctx, MPROTO_CI_CONN + 1);
	if (mproto_desc.xxfi_connect == NULL)
		return SMFIS_CONTINUE;
	if (mproto_parse_connect(pkt->data, pkt->len, &c, &why) != MPROTO_OK) {
		session_warn(ctx, LOG_ERR, "%s", why);
		return SESSION_R_ABORT;
	}
	if (c.family != SMFIA_UNKNOWN && mproto_connect_sockaddr(&c, &ss) < 0) {
		session_warn(ctx, LOG_ERR, "connect: bad address");
		return SESSION_R_ABORT;
	}
	return mproto_desc.xxfi_connect(ctx, c.host, c.family == SMFIA_UNKNOWN ?
					NULL : (struct sockaddr *)&ss);
}

/*
 * session_unknown - an SMTP command the MTA did not know. libmilter
 * hands the packet over as a string without looking for its NUL (and
 * reads past it when there is none); here a packet without a NUL gets
 * one, on a copy.
 */
static sfsistat
session_unknown(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	char *copy;
	sfsistat r;

	if (mproto_desc.xxfi_unknown == NULL)
		return SMFIS_CONTINUE;
	if (memchr(pkt->data, '\0', pkt->len) != NULL)
		return mproto_desc.xxfi_unknown(ctx, pkt->data);
	copy = xmalloc(pkt->len + 1);
	memcpy(copy, pkt->data, pkt->len);
	copy[pkt->len] = '\0';
	r = mproto_desc.xxfi_unknown(ctx, copy);
	free(copy);
	return r;
}

/*
 * session_call - run the handler of one command (its state already
 * taken); the verdict to answer with, or a SESSION_R_* code
 */
static sfsistat
session_call(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	struct smfiDesc *d = &mproto_desc;
	char *name, *value;
	sfsistat r;

	switch (pkt->cmd) {
	case SMFIC_OPTNEG:
		return session_optneg(ctx, pkt);
	case SMFIC_CONNECT:
		return session_connect(ctx, pkt);
	case SMFIC_HELO:
		session_clear_macros(ctx, MPROTO_CI_HELO + 1);
		if (d->xxfi_helo == NULL)
			return SMFIS_CONTINUE;
		/* libmilter: not NUL-terminated, no callback and no reply */
		if (pkt->data[pkt->len - 1] != '\0') {
			session_warn(ctx, LOG_WARNING, "HELO name not terminated, "
				     "ignored");
			return SESSION_R_NONE;
		}
		return d->xxfi_helo(ctx, pkt->data);
	case SMFIC_MAIL:
		return session_argv_call(ctx, pkt, MPROTO_CI_MAIL, d->xxfi_envfrom);
	case SMFIC_RCPT:
		return session_argv_call(ctx, pkt, MPROTO_CI_RCPT, d->xxfi_envrcpt);
	case SMFIC_DATA:
		return d->xxfi_data ? d->xxfi_data(ctx) : SMFIS_CONTINUE;
	case SMFIC_UNKNOWN:
		return session_unknown(ctx, pkt);
	case SMFIC_HEADER:
		if (d->xxfi_header == NULL)
			return SMFIS_CONTINUE;
		if (mproto_header(pkt->data, pkt->len, &name, &value) != MPROTO_OK) {
			session_warn(ctx, LOG_ERR, "header: malformed");
			return SESSION_R_ABORT;
		}
		return d->xxfi_header(ctx, name, value);
	case SMFIC_EOH:
		return d->xxfi_eoh ? d->xxfi_eoh(ctx) : SMFIS_CONTINUE;
	case SMFIC_BODY:
		return d->xxfi_body ? d->xxfi_body(ctx, (unsigned char *)pkt->data,
						   pkt->len) : SMFIS_CONTINUE;
	case SMFIC_BODYEOB:
		/* data on the last chunk is a body chunk first; a verdict on
		 * it other than "continue" is the answer, and xxfi_eom does
		 * not run (libmilter's st_bodyend(), which then sends that
		 * answer twice: once is what the MTA reads) */
		r = SMFIS_CONTINUE;
		if (pkt->len > 0 && d->xxfi_body != NULL)
			r = d->xxfi_body(ctx, (unsigned char *)pkt->data, pkt->len);
		if (r == SMFIS_CONTINUE && d->xxfi_eom != NULL)
			r = d->xxfi_eom(ctx);
		return r;
	case SMFIC_ABORT:
		if (d->xxfi_abort)
			(void)d->xxfi_abort(ctx);
		return SESSION_R_NONE;
	case SMFIC_QUIT:
	case SMFIC_QUIT_NC:
		if (d->xxfi_close)
			(void)d->xxfi_close(ctx);
		session_clear_macros(ctx, 0);
		return SESSION_R_NONE;
	}
	return SESSION_R_ABORT;
}

/* session_nr_bit - the "no reply" flag of a command's stage, or 0 */
static unsigned long
session_nr_bit(char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT:	return SMFIP_NR_CONN;
	case SMFIC_HELO:	return SMFIP_NR_HELO;
	case SMFIC_MAIL:	return SMFIP_NR_MAIL;
	case SMFIC_RCPT:	return SMFIP_NR_RCPT;
	case SMFIC_DATA:	return SMFIP_NR_DATA;
	case SMFIC_UNKNOWN:	return SMFIP_NR_UNKN;
	case SMFIC_HEADER:	return SMFIP_NR_HDR;
	case SMFIC_EOH:		return SMFIP_NR_EOH;
	case SMFIC_BODY:	return SMFIP_NR_BODY;
	default:		return 0;
	}
}

/* session_needs_data - commands libmilter refuses without any data */
static bool
session_needs_data(char cmd)
{
	return strchr((char[]){ SMFIC_MACRO, SMFIC_BODY, SMFIC_CONNECT,
		SMFIC_HELO, SMFIC_HEADER, SMFIC_MAIL, SMFIC_OPTNEG, SMFIC_RCPT,
		SMFIC_UNKNOWN, '\0' }, cmd) != NULL;
}

/*
 * session_dispatch - one packet: state check, handler, reply. The steps
 * and their order are libmilter's mi_engine(): a command that may not
 * follow the current state aborts a message in progress and is tried as
 * if the session were at HELO, and ignored (no callback, no reply) when
 * it does not fit there either. ctx->call_abort is libmilter's
 * call_abort: whether xxfi_abort runs if the session ends now.
 */
static enum session_next
session_dispatch(SMFICTX *ctx, const struct mproto_packet *pkt)
{
	int st = session_next_state(pkt->cmd);
	sfsistat r;

	ctx->call_abort = SESSION_IN_MAIL(ctx->state);
	if (ctx->state == ST_INIT)
		ctx->pflags = session_callback_protocol();
	if (st == -2 || pkt->cmd == '\0') {
		session_warn(ctx, LOG_ERR, "unknown command 0x%02x",
			     (unsigned char)pkt->cmd);
		return SESSION_STOP;
	}
	if (st != ST_NONE && !session_trans_ok(ctx, ctx->state, st)) {
		if (mproto_desc.xxfi_abort != NULL && ctx->call_abort)
			(void)mproto_desc.xxfi_abort(ctx);
		ctx->state = ST_HELO;
		if (!session_trans_ok(ctx, ST_HELO, st)) {
			/*
			 * Postfix sends ABORT (and QUIT) to a milter that
			 * already accepted the message or connection: routine,
			 * which libmilter logs only at debug level; a warning
			 * per SMTP session buried the real ones
			 */
			if (pkt->cmd == SMFIC_ABORT || pkt->cmd == SMFIC_QUIT
			    || pkt->cmd == SMFIC_QUIT_NC)
				log_msg(LOG_DEBUG, NULL, "milter: command '%c' out of "
					"sequence, ignored", pkt->cmd);
			else
				session_warn(ctx, LOG_WARNING, "command '%c' out of "
					     "sequence, ignored", pkt->cmd);
			ctx->call_abort = false;
			/* libmilter's loop still ends on an ignored QUIT (its
			 * "continue" tests the command's CT_END): the session
			 * is over, and closed, as QUIT did not close it */
			return pkt->cmd == SMFIC_QUIT ? SESSION_STOP : SESSION_GO;
		}
	}
	if (pkt->len == 0 && session_needs_data(pkt->cmd)) {
		session_warn(ctx, LOG_ERR, "command '%c' without data", pkt->cmd);
		return SESSION_STOP;
	}
	if (st != ST_NONE)
		ctx->state = st;
	ctx->call_abort = SESSION_IN_MAIL(ctx->state);
	ctx->cmd = pkt->cmd;
	r = pkt->cmd == SMFIC_MACRO ? session_macros(ctx, pkt)
	    : session_call(ctx, pkt);
	if (r == SESSION_R_ABORT)
		return SESSION_STOP;
	if (r != SESSION_R_NONE && r != SESSION_R_SENT)
		session_reply(ctx, r, session_nr_bit(pkt->cmd));
	if (r == SMFIS_ACCEPT) {
		ctx->state = ST_HELO;	/* the rest of the message is not ours */
	} else if (r == SMFIS_REJECT || r == SMFIS_DISCARD || r == SMFIS_TEMPFAIL) {
		/* a refused recipient or unknown command leaves the rest */
		if (pkt->cmd != SMFIC_RCPT && pkt->cmd != SMFIC_UNKNOWN)
			ctx->state = ST_HELO;
	}
	if (pkt->cmd == SMFIC_QUIT)
		return SESSION_STOP;
	ctx->call_abort = SESSION_IN_MAIL(ctx->state);
	return SESSION_GO;
}

/*
 * session_end - the callbacks of a session's end, as libmilter: a session
 * that ends inside a message (the MTA dropped it, or broke the protocol)
 * is aborted, and closed unless QUIT already closed it. A session that
 * never sent CONNECT is closed too, and so is each session after a
 * QUIT_NC (a new SMTP connection on the same milter connection).
 */
static void
session_end(SMFICTX *ctx)
{
	if (mproto_desc.xxfi_abort != NULL && ctx->call_abort)
		(void)mproto_desc.xxfi_abort(ctx);
	if (ctx->state != ST_QUIT && mproto_desc.xxfi_close != NULL)
		(void)mproto_desc.xxfi_close(ctx);
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
		session_warn(ctx, LOG_ERR, "%s", why);
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
	session_end(ctx);
	mproto_chain_session_free(ctx);
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
