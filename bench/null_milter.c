/*
 * null_milter - the ceiling of any signing milter on this Postfix: it
 * negotiates what postmill-dkim negotiates (no HELO, RCPT, DATA or
 * unknown-command events; no reply to connect, MAIL, headers and body;
 * header values with their leading space), receives every header and
 * body chunk, and at end of message inserts one header of a DKIM
 * signature's size, but computes nothing. dkim-bench runs it as config N:
 * what Postfix itself pays for a milter conversation, which no milter
 * can win back.
 *
 *	null_milter SOCKET_SPEC
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

static char signature[600];

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & (SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA
		     | SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_MAIL
		     | SMFIP_NR_HDR | SMFIP_NR_BODY);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_noreply(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat
nm_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	(void)host;
	(void)sa;
	return nm_noreply(ctx);
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return nm_noreply(ctx);
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return nm_noreply(ctx);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return nm_noreply(ctx);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	smfi_insheader(ctx, 0, (char *)"DKIM-Signature", signature);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d = {
		.xxfi_name = (char *)"null",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS,
		.xxfi_connect = nm_connect,
		.xxfi_envfrom = nm_envfrom,
		.xxfi_header = nm_header,
		.xxfi_eoh = nm_eoh,
		.xxfi_body = nm_body,
		.xxfi_eom = nm_eom,
		.xxfi_negotiate = nm_negotiate,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: null_milter SOCKET_SPEC\n");
		return 2;
	}
	memset(signature, 'x', sizeof(signature) - 1);
	memcpy(signature, " v=1; a=rsa-sha256; b=", 22);
	if (smfi_setconn(argv[1]) == MI_FAILURE || smfi_register(d) == MI_FAILURE
	    || smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	/* Postfix's smtpd runs as "postfix": let it connect */
	if (strncmp(argv[1], "unix:", 5) == 0)
		(void)chmod(argv[1] + 5, 0666);
	fprintf(stderr, "null_milter: started\n");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
