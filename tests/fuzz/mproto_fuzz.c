/*
 * mproto_fuzz - the milter protocol engine as the MTA's bytes reach it:
 * the input is written to one end of a socket pair and a whole session
 * runs on the other, with callbacks that use the API (macros, replies,
 * header changes), until end of input. Any crash, leak or sanitizer
 * report is a finding; the replies themselves are discarded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mproto.h"

static sfsistat
fz_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)host;
	(void)sa;
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

/* fz_words - read every argument, so a missing NUL shows as an overread */
static size_t
fz_words(char **argv)
{
	size_t n = 0;

	for (; *argv != NULL; argv++)
		n += strlen(*argv);
	return n;
}

static sfsistat
fz_envfrom(SMFICTX *ctx, char **argv)
{
	(void)fz_words(argv);
	if (smfi_getsymval(ctx, "i") != NULL)
		return SMFIS_CONTINUE;
	(void)smfi_setreply(ctx, "451", "4.7.1", "no queue id");
	return SMFIS_CONTINUE;
}

static sfsistat
fz_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)smfi_getsymval(ctx, "{rcpt_addr}");
	return fz_words(argv) % 7 == 0 ? SMFIS_REJECT : SMFIS_CONTINUE;
}

static sfsistat
fz_helo(SMFICTX *ctx, char *name)
{
	(void)ctx;
	return strlen(name) == 3 ? SMFIS_TEMPFAIL : SMFIS_CONTINUE;
}

static sfsistat
fz_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	return strlen(cmd) % 2 ? SMFIS_REJECT : SMFIS_CONTINUE;
}

static sfsistat
fz_abort(SMFICTX *ctx)
{
	(void)smfi_getsymval(ctx, "i");
	return SMFIS_CONTINUE;
}

static sfsistat
fz_close(SMFICTX *ctx)
{
	(void)smfi_getsymval(ctx, "j");
	return SMFIS_CONTINUE;
}

static sfsistat
fz_header(SMFICTX *ctx, char *name, char *value)
{
	(void)smfi_getsymval(ctx, "{auth_authen}");
	if (strcmp(name, "X-Reject") == 0) {
		(void)smfi_setreply(ctx, "550", "5.7.1", value);
		return SMFIS_REJECT;
	}
	return SMFIS_NOREPLY;
}

static sfsistat
fz_eom(SMFICTX *ctx)
{
	(void)smfi_insheader(ctx, 0, "X-Fuzz", "1");
	(void)smfi_addheader(ctx, "X-Fuzz-End", "2");
	(void)smfi_chgheader(ctx, "Subject", 1, NULL);
	(void)smfi_quarantine(ctx, "fuzz");
	return SMFIS_CONTINUE;
}

static sfsistat
fz_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *p0,
	     unsigned long *p1, unsigned long *p2, unsigned long *p3)
{
	(void)f2;
	(void)f3;
	(void)p2;
	(void)p3;
	(void)smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
	*p0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*p1 = f1 & (SMFIP_NR_HDR | SMFIP_HDR_LEADSPC | SMFIP_NOHELO);
	return SMFIS_CONTINUE;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct smfiDesc d = {
		.xxfi_name = (char *)"fuzz",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
		.xxfi_connect = fz_connect,
		.xxfi_envfrom = fz_envfrom,
		.xxfi_header = fz_header,
		.xxfi_envrcpt = fz_envrcpt,
		.xxfi_helo = fz_helo,
		.xxfi_unknown = fz_unknown,
		.xxfi_abort = fz_abort,
		.xxfi_close = fz_close,
		.xxfi_eom = fz_eom,
		.xxfi_negotiate = fz_negotiate,
	};

	(void)argc;
	(void)argv;
	smfi_register(d);
	smfi_settimeout(1);
	smfi_setmaxdatasize(64 * 1024);
	return 0;
}

/*
 * fuzz_session - drive one session as a pool thread of mproto_poll.c does:
 * read what there is, handle every complete packet, write the replies
 * (the MTA side, mta, reads and drops them), until EOF or the session ends
 */
static void
fuzz_session(int mta, int fd)
{
	SMFICTX	*ctx = mproto_session_new(fd);
	char	sink[4096];

	for (;;) {
		int	fill = mproto_session_fill(ctx);

		if (fill == MPROTO_FILL_EOF || fill == MPROTO_FILL_MEMORY)
			break;
		if (fill == MPROTO_FILL_AGAIN && !mproto_session_ready(ctx))
			break;		/* all input read: the rest is a partial packet */
		if (mproto_session_ready(ctx) && !mproto_session_work(ctx))
			break;
		if (mproto_flush_some(ctx) < 0)
			break;
		while (recv(mta, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	mproto_session_end(ctx);	/* closes fd */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	/* the input fits the socket buffer: write it all, then EOF */
	if (write(sv[0], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[0], SHUT_WR);
	fuzz_session(sv[0], sv[1]);	/* closes sv[1] */
	close(sv[0]);
	return 0;
}
