/*++
 * NAME
 *	trace_milter 1
 * SUMMARY
 *	a milter that writes down every callback, for the differential test
 * SYNOPSIS
 *	trace_milter_postmill SOCKET TRACEFILE MODE
 *	trace_milter_libmilter SOCKET TRACEFILE MODE
 * DESCRIPTION
 *	Built twice from this one file: on postmill's engine (libpostmill.a)
 *	and on Debian's libmilter. tests/diff/run.py sends the same packet
 *	streams to both and requires the same trace lines and the same reply
 *	bytes (see engine/mproto.h for the documented differences).
 *
 *	Every callback appends one line to TRACEFILE (one write(2), so lines
 *	never mix): its name, its arguments (escaped, long ones shortened
 *	to a length and a hash) and the values of a few macros, which shows
 *	when each stage's macros are kept and forgotten.
 *
 *	The verdicts come from the data, so that the random streams reach
 *	every reply path: "!X" in a callback's argument, or "name:X" in the
 *	macro "{v}" (e.g. "eoh:R,data:T"). X is C continue, R reject,
 *	r reject with smfi_setreply(), m reject with smfi_setmlreply(),
 *	T tempfail, t tempfail with a reply, A accept, D discard, S skip
 *	(when the MTA offered it), N no reply (when negotiated), M (at end of
 *	message) every message change.
 *
 *	MODE chooses the callbacks and the negotiation, fixed for the process
 *	(libmilter keeps its state table per process): full, nr (asks for
 *	every "no reply" flag), sparse (no helo, envrcpt, header, unknown,
 *	data callbacks), sparse2 (no connect, envfrom, eoh, body), mds
 *	(full, built for the packet size flags).
 *--*/
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#ifdef TRACE_POSTMILL
#include "log.h"
#endif

static int trace_fd = -1;
static const char *trace_mode = "full";

/* per session: what was negotiated */
struct tpriv {
	bool	nr;		/* asked for every "no reply" flag */
	bool	skip;		/* the MTA understands SMFIR_SKIP */
	int	conn;		/* serial number, with TRACE_CONN_IDS */
};

/*
 * With TRACE_CONN_IDS in the environment each line starts with "cN ", N
 * the connection's serial number (counted at negotiate): a real MTA opens
 * the next connection while the last one's close callback may still run,
 * so the lines of two connections can interleave, and a comparison groups
 * them by connection first (tests/e2e/test_engine_diff.py).
 */
static bool trace_conn_ids;
static int trace_conns;			/* connections negotiated */
static _Thread_local int trace_cur;	/* this thread's connection */

/*
 * The connection of a context, also when its private data is gone (a
 * callback after close freed it): set at negotiate, found by the context's
 * address. A context reused for a later connection is negotiated again.
 */
#define TRACE_CTXS 256
static struct { SMFICTX *ctx; int conn; } trace_ctx[TRACE_CTXS];
static pthread_mutex_t trace_ctx_lock = PTHREAD_MUTEX_INITIALIZER;

/* trace_ctx_set - remember ctx's connection number */
static void
trace_ctx_set(SMFICTX *ctx, int conn)
{
	size_t	i, h = ((uintptr_t)ctx >> 4) % TRACE_CTXS;

	pthread_mutex_lock(&trace_ctx_lock);
	for (i = 0; i < TRACE_CTXS; i++) {
		size_t	k = (h + i) % TRACE_CTXS;

		if (trace_ctx[k].ctx == ctx || trace_ctx[k].ctx == NULL) {
			trace_ctx[k].ctx = ctx;
			trace_ctx[k].conn = conn;
			break;
		}
	}
	if (i == TRACE_CTXS) {		/* full: overwrite the home slot */
		trace_ctx[h].ctx = ctx;
		trace_ctx[h].conn = conn;
	}
	pthread_mutex_unlock(&trace_ctx_lock);
}

/* trace_ctx_get - ctx's connection number, or 0 */
static int
trace_ctx_get(SMFICTX *ctx)
{
	size_t	h = ((uintptr_t)ctx >> 4) % TRACE_CTXS;
	int	conn = 0;

	pthread_mutex_lock(&trace_ctx_lock);
	for (size_t i = 0; i < TRACE_CTXS; i++) {
		size_t	k = (h + i) % TRACE_CTXS;

		if (trace_ctx[k].ctx == ctx) {
			conn = trace_ctx[k].conn;
			break;
		}
		if (trace_ctx[k].ctx == NULL)
			break;
	}
	pthread_mutex_unlock(&trace_ctx_lock);
	return conn;
}

static const char *const trace_macros[] = {
	"j", "i", "{mail_addr}", "{rcpt_addr}", "{auth_authen}", "{v}", "x",
};

/* esc - append s (n bytes) to the line, printable, shortened when long */
static size_t
esc(char *out, size_t room, size_t at, const char *s, size_t n)
{
	if (n > 80) {
		uint32_t h = 2166136261u;

		for (size_t i = 0; i < n; i++)
			h = (h ^ (unsigned char)s[i]) * 16777619u;
		return at + (size_t)snprintf(out + at, room - at,
					     "<%zu bytes %08x>", n, h);
	}
	for (size_t i = 0; i < n && at + 5 < room; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x21 && c < 0x7f && c != '\\')
			out[at++] = (char)c;
		else
			at += (size_t)snprintf(out + at, room - at, "\\x%02x", c);
	}
	out[at] = '\0';
	return at;
}

/* emit - one trace line: the callback, its words, the macros it sees */
static void __attribute__((format(printf, 2, 3)))
emit(SMFICTX *ctx, const char *fmt, ...)
{
	char line[16384];
	size_t at;
	va_list ap;

	if (ctx != NULL && smfi_getpriv(ctx) != NULL)
		trace_cur = ((struct tpriv *)smfi_getpriv(ctx))->conn;
	else if (ctx != NULL && trace_conn_ids)
		trace_cur = trace_ctx_get(ctx);
	at = trace_conn_ids ? (size_t)snprintf(line, 32, "c%d ", trace_cur) : 0;
	va_start(ap, fmt);
	at += (size_t)vsnprintf(line + at, sizeof(line) - 2048 - at, fmt, ap);
	va_end(ap);
	if (at > sizeof(line) - 2048)
		at = sizeof(line) - 2048;
	for (size_t i = 0; ctx != NULL && i < sizeof(trace_macros) / sizeof(trace_macros[0]); i++) {
		char *v = smfi_getsymval(ctx, (char *)trace_macros[i]);

		if (v == NULL)
			continue;
		at += (size_t)snprintf(line + at, sizeof(line) - at, " %s=", trace_macros[i]);
		at = esc(line, sizeof(line) - 2, at, v, strlen(v));
	}
	line[at++] = '\n';
	if (write(trace_fd, line, at) < 0)
		abort();
}

/* escs - a string argument as one escaped word (static buffer per call site) */
static const char *
escs(char *buf, size_t room, const char *s, size_t n)
{
	esc(buf, room, 0, s, n);
	return buf;
}

/* verdict_letter - "!X" in the argument, else "cb:X" in macro {v} */
static char
verdict_letter(SMFICTX *ctx, const char *cb, const char *arg, size_t n)
{
	const char *v, *p;
	size_t cl = strlen(cb);

	for (size_t i = 0; arg != NULL && i + 1 < n; i++)
		if (arg[i] == '!' && strchr("CRrmTtADSNM", arg[i + 1]) != NULL
		    && arg[i + 1] != '\0')
			return arg[i + 1];
	if ((v = smfi_getsymval(ctx, "{v}")) != NULL)
		for (p = v; (p = strstr(p, cb)) != NULL; p += cl)
			if ((p == v || p[-1] == ',') && p[cl] == ':' && p[cl + 1] != '\0')
				return p[cl + 1];
	return '\0';
}

/* modify - every message change; their results go into the trace */
static void
modify(SMFICTX *ctx)
{
	emit(NULL, "  mods add=%d chg=%d ins=%d rcpt=%d rcptpar=%d del=%d from=%d "
	     "body=%d quar=%d prog=%d",
	     smfi_addheader(ctx, "X-Trace", "1"),
	     smfi_chgheader(ctx, "Subject", 1, "changed"),
	     smfi_insheader(ctx, 0, "X-First", "0"),
	     smfi_addrcpt(ctx, "<new@trace.test>"),
	     smfi_addrcpt_par(ctx, "<par@trace.test>", "NOTIFY=NEVER"),
	     smfi_delrcpt(ctx, "<old@trace.test>"),
	     smfi_chgfrom(ctx, "<from@trace.test>", NULL),
	     smfi_replacebody(ctx, (unsigned char *)"new body\r\n", 10),
	     smfi_quarantine(ctx, "trace"),
	     smfi_progress(ctx));
}

/* verdict - what a callback answers; nr: its stage may go without reply */
static sfsistat
verdict(SMFICTX *ctx, const char *cb, const char *arg, size_t n, bool nr)
{
	struct tpriv *t = smfi_getpriv(ctx);
	char c = verdict_letter(ctx, cb, arg, n);
	bool may_nr = nr && t != NULL && t->nr;

	switch (c) {
	case 'R':	return SMFIS_REJECT;
	case 'r':
		emit(NULL, "  setreply=%d", smfi_setreply(ctx, "550", "5.7.1",
							   "refused by trace"));
		return SMFIS_REJECT;
	case 'm':
		emit(NULL, "  setmlreply=%d", smfi_setmlreply(ctx, "550", "5.7.0",
			"line one", "line two", NULL));
		return SMFIS_REJECT;
	case 'T':	return SMFIS_TEMPFAIL;
	case 't':
		emit(NULL, "  setreply=%d", smfi_setreply(ctx, "451", "4.3.2",
							   "try later"));
		return SMFIS_TEMPFAIL;
	case 'A':	return SMFIS_ACCEPT;
	case 'D':	return SMFIS_DISCARD;
	case 'S':	return t != NULL && t->skip ? SMFIS_SKIP : SMFIS_CONTINUE;
	case 'N':	return may_nr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	case 'M':
		if (strcmp(cb, "eom") == 0)
			modify(ctx);
		return SMFIS_CONTINUE;
	case 'C':	return SMFIS_CONTINUE;
	default:	return may_nr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	}
}

/* tr_negotiate - per mode: all options, or every "no reply" flag */
static sfsistat
tr_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct tpriv *t = smfi_getpriv(ctx);

	if (t == NULL) {
		t = calloc(1, sizeof(*t));
		t->conn = __atomic_add_fetch(&trace_conns, 1, __ATOMIC_SEQ_CST);
		trace_ctx_set(ctx, t->conn);
		(void)smfi_setpriv(ctx, t);
	}
	t->skip = (f1 & SMFIP_SKIP) != 0;
	emit(ctx, "negotiate f0=%lx f1=%lx", f0, f1);
	if (strcmp(trace_mode, "nr") == 0) {
		*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY
			     | SMFIF_QUARANTINE);
		*pf1 = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
		    | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH | SMFIP_NR_HDR
		    | SMFIP_NR_BODY | (f1 & SMFIP_SKIP);
		*pf2 = *pf3 = 0;
		t->nr = true;
		return SMFIS_CONTINUE;
	}
	emit(NULL, "  setsymlist=%d", smfi_setsymlist(ctx, SMFIM_ENVFROM,
						      "{mail_addr} i"));
	return SMFIS_ALL_OPTS;
}

static sfsistat
tr_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	char a[INET6_ADDRSTRLEN + 8] = "-", h[512];
	unsigned port = 0;
	int fam = -1;

	if (sa != NULL) {
		fam = sa->sa_family;
		if (fam == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
			port = ntohs(((struct sockaddr_in *)sa)->sin_port);
		} else if (fam == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
			port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
		} else if (fam == AF_UNIX) {
			snprintf(a, sizeof(a), "%.40s", ((struct sockaddr_un *)sa)->sun_path);
		}
	}
	emit(ctx, "connect host=%s sa=%s fam=%d port=%u addr=%s",
	     escs(h, sizeof(h), host, strlen(host)), sa ? "yes" : "NULL", fam, port, a);
	return verdict(ctx, "connect", host, strlen(host), true);
}

static sfsistat
tr_helo(SMFICTX *ctx, char *name)
{
	char h[512];

	emit(ctx, "helo %s addheader=%d", escs(h, sizeof(h), name, strlen(name)),
	     smfi_addheader(ctx, "X-No", "1"));
	return verdict(ctx, "helo", name, strlen(name), true);
}

/* tr_argv - MAIL and RCPT words */
static sfsistat
tr_argv(SMFICTX *ctx, const char *cb, char **argv)
{
	char line[8192], w[512];
	size_t at = 0;
	int n = 0;

	for (char **a = argv; *a != NULL; a++, n++)
		if (n < 8 && at < sizeof(line) - 600)
			at += (size_t)snprintf(line + at, sizeof(line) - at, " %s",
					       escs(w, sizeof(w), *a, strlen(*a)));
	emit(ctx, "%s argc=%d%s", cb, n, line);
	return verdict(ctx, cb, argv[0], strlen(argv[0]), true);
}

static sfsistat
tr_envfrom(SMFICTX *ctx, char **argv)
{
	return tr_argv(ctx, "envfrom", argv);
}

static sfsistat
tr_envrcpt(SMFICTX *ctx, char **argv)
{
	return tr_argv(ctx, "envrcpt", argv);
}

static sfsistat
tr_data(SMFICTX *ctx)
{
	emit(ctx, "data");
	return verdict(ctx, "data", NULL, 0, true);
}

static sfsistat
tr_unknown(SMFICTX *ctx, const char *cmd)
{
	char h[512];

	emit(ctx, "unknown %s", escs(h, sizeof(h), cmd, strlen(cmd)));
	return verdict(ctx, "unknown", cmd, strlen(cmd), true);
}

static sfsistat
tr_header(SMFICTX *ctx, char *name, char *value)
{
	char n[512], v[512];

	emit(ctx, "header %s: %s", escs(n, sizeof(n), name, strlen(name)),
	     escs(v, sizeof(v), value, strlen(value)));
	return verdict(ctx, "header", value, strlen(value), true);
}

static sfsistat
tr_eoh(SMFICTX *ctx)
{
	emit(ctx, "eoh");
	return verdict(ctx, "eoh", NULL, 0, true);
}

static sfsistat
tr_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	char b[512];

	emit(ctx, "body %zu %s", len, escs(b, sizeof(b), (char *)chunk, len));
	return verdict(ctx, "body", (char *)chunk, len, true);
}

static sfsistat
tr_eom(SMFICTX *ctx)
{
	emit(ctx, "eom");
	return verdict(ctx, "eom", NULL, 0, false);
}

static sfsistat
tr_abort(SMFICTX *ctx)
{
	emit(ctx, "abort");
	return SMFIS_CONTINUE;
}

static sfsistat
tr_close(SMFICTX *ctx)
{
	emit(ctx, "close");
	free(smfi_getpriv(ctx));
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d = {
		.xxfi_name = "trace",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT
		    | SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_QUARANTINE
		    | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST,
		.xxfi_connect = tr_connect, .xxfi_helo = tr_helo,
		.xxfi_envfrom = tr_envfrom, .xxfi_envrcpt = tr_envrcpt,
		.xxfi_header = tr_header, .xxfi_eoh = tr_eoh,
		.xxfi_body = tr_body, .xxfi_eom = tr_eom,
		.xxfi_abort = tr_abort, .xxfi_close = tr_close,
		.xxfi_unknown = tr_unknown, .xxfi_data = tr_data,
		.xxfi_negotiate = tr_negotiate,
	};
	char conn[256];

	trace_conn_ids = getenv("TRACE_CONN_IDS") != NULL;
	if (argc != 4) {
		fprintf(stderr, "usage: %s SOCKET TRACEFILE MODE\n", argv[0]);
		return 2;
	}
	trace_mode = argv[3];
	if (strcmp(trace_mode, "sparse") == 0) {
		d.xxfi_helo = NULL;
		d.xxfi_envrcpt = NULL;
		d.xxfi_header = NULL;
		d.xxfi_unknown = NULL;
		d.xxfi_data = NULL;
		d.xxfi_negotiate = NULL;
	} else if (strcmp(trace_mode, "sparse2") == 0) {
		d.xxfi_connect = NULL;
		d.xxfi_envfrom = NULL;
		d.xxfi_eoh = NULL;
		d.xxfi_body = NULL;
		d.xxfi_negotiate = NULL;
	} else if (strcmp(trace_mode, "mds") == 0) {
		d.xxfi_version = 0x01000002;	/* SMFI_VERSION_MDS */
	} else if (strcmp(trace_mode, "full") != 0 && strcmp(trace_mode, "nr") != 0) {
		fprintf(stderr, "%s: unknown mode %s\n", argv[0], trace_mode);
		return 2;
	}
	trace_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (trace_fd < 0) {
		perror(argv[2]);
		return 1;
	}
#ifdef TRACE_POSTMILL
	log_open("trace", true);
#endif
	snprintf(conn, sizeof(conn), "unix:%s", argv[1]);
	if (smfi_setconn(conn) != MI_SUCCESS || smfi_settimeout(30) != MI_SUCCESS
	    || smfi_register(d) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "%s: cannot start\n", argv[0]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
