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
 * With -f (the floor of the suite's work in one conversation): it
 * negotiates what postmill-suite negotiates with the benchmark's
 * modules (HELO, RCPT with a reply, headers, body, end of message), and
 * at end of message does to the message what the suite does there, with
 * the same sizes: an RSA-2048 signature (SHA-256 of the body as it
 * arrives, then one RSA private-key operation over a header block of a
 * DKIM signature's size), three header fields inserted at the top
 * (DKIM-Signature, Authentication-Results, Received-SPF), one appended
 * (X-Postmill-Ref) and a new envelope sender unique to the message (a
 * VERP tag). It keeps no state across messages, asks no DNS and no
 * Redis: what is left between it and postmill-suite is the suite's own
 * logic, its Redis calls and its DNS lookups.
 *
 *	null_milter [-f] SOCKET_SPEC
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <libmilter/mfapi.h>

static char signature[600];

/* -f: the floor; the key and header values are the same for every message */
static int floor_mode;
static EVP_PKEY *floor_key;
static char floor_sig[720], floor_ar[260], floor_spf[300], floor_ref[52];
static atomic_ulong floor_serial;

/* per connection in -f mode: the body hash of the message in progress */
struct floor_conn {
	EVP_MD_CTX	*body;
};

/*
 * nm_negotiate - what postmill-dkim negotiates; with -f what postmill-suite
 * takes with auth, bounce, dkim and limit
 */
static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	     unsigned long f2, unsigned long f3, unsigned long *pf0,
	     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	if (floor_mode) {
		*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGFROM);
		*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC
			     | SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL
			     | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
	} else {
		*pf0 = f0 & SMFIF_ADDHDRS;
		*pf1 = f1 & (SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NOUNKNOWN | SMFIP_NODATA
			     | SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_MAIL
			     | SMFIP_NR_HDR | SMFIP_NR_BODY);
	}
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

/* nm_floor_conn - this connection's state, made at its first use */
static struct floor_conn *
nm_floor_conn(SMFICTX *ctx)
{
	struct floor_conn *c = smfi_getpriv(ctx);

	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL || (c->body = EVP_MD_CTX_new()) == NULL)
			abort();
		smfi_setpriv(ctx, c);
	}
	return c;
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
nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return nm_noreply(ctx);
}

static sfsistat
nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)argv;
	if (floor_mode && EVP_DigestInit_ex(nm_floor_conn(ctx)->body, EVP_sha256(), NULL) != 1)
		abort();
	return nm_noreply(ctx);
}

/* nm_envrcpt - -f only: the suite answers every RCPT (bounce, limit) */
static sfsistat
nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
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
	if (floor_mode && EVP_DigestUpdate(nm_floor_conn(ctx)->body, buf, len) != 1)
		abort();
	return nm_noreply(ctx);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	smfi_insheader(ctx, 0, (char *)"DKIM-Signature", signature);
	return SMFIS_CONTINUE;
}

/*
 * nm_floor_eom - the suite's end of message, as cheap as it can be:
 * finish the body hash, sign a header block of a DKIM signature's size
 * with RSA-2048, insert and append the suite's header fields, change
 * the envelope sender
 */
static sfsistat
nm_floor_eom(SMFICTX *ctx)
{
	struct floor_conn *c = nm_floor_conn(ctx);
	unsigned char bh[EVP_MAX_MD_SIZE], sig[256], block[700];
	unsigned int bhlen;
	size_t siglen = sizeof(sig);
	char from[96];
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || EVP_DigestFinal_ex(c->body, bh, &bhlen) != 1)
		abort();
	memset(block, 'h', sizeof(block));
	memcpy(block, bh, bhlen);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, floor_key) != 1
	    || EVP_DigestSign(md, sig, &siglen, block, sizeof(block)) != 1)
		abort();
	EVP_MD_CTX_free(md);
	snprintf(from, sizeof(from), "b-%052lu@bounces.bench.mill",
		 atomic_fetch_add(&floor_serial, 1) + (unsigned long)getpid() * 1000000000UL);
	smfi_insheader(ctx, 0, (char *)"DKIM-Signature", floor_sig);
	smfi_insheader(ctx, 0, (char *)"Authentication-Results", floor_ar);
	smfi_insheader(ctx, 0, (char *)"Received-SPF", floor_spf);
	smfi_addheader(ctx, (char *)"X-Postmill-Ref", floor_ref);
	smfi_chgfrom(ctx, from, NULL);
	return SMFIS_CONTINUE;
}

/* nm_floor_close - free the connection's state */
static sfsistat
nm_floor_close(SMFICTX *ctx)
{
	struct floor_conn *c = smfi_getpriv(ctx);

	if (c != NULL) {
		EVP_MD_CTX_free(c->body);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* nm_floor_init - the key, and header values of the suite's sizes */
static void
nm_floor_init(struct smfiDesc *d)
{
	if ((floor_key = EVP_RSA_gen(2048)) == NULL) {
		fprintf(stderr, "null_milter: cannot make an RSA key\n");
		exit(1);
	}
	memset(floor_sig, 'x', sizeof(floor_sig) - 1);
	memcpy(floor_sig, " v=1; a=rsa-sha256; c=relaxed/relaxed; floor=", 45);
	memset(floor_ar, 'a', sizeof(floor_ar) - 1);
	memcpy(floor_ar, " mx.bench.mill; floor=", 22);
	memset(floor_spf, 's', sizeof(floor_spf) - 1);
	memcpy(floor_spf, " pass (floor)", 13);
	memset(floor_ref, 'r', sizeof(floor_ref) - 1);
	floor_ref[0] = ' ';
	d->xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGFROM;
	d->xxfi_helo = nm_helo;
	d->xxfi_envrcpt = nm_envrcpt;
	d->xxfi_eom = nm_floor_eom;
	d->xxfi_close = nm_floor_close;
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

	if (argc == 3 && strcmp(argv[1], "-f") == 0) {
		floor_mode = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter [-f] SOCKET_SPEC\n");
		return 2;
	}
	memset(signature, 'x', sizeof(signature) - 1);
	memcpy(signature, " v=1; a=rsa-sha256; b=", 22);
	if (floor_mode)
		nm_floor_init(&d);
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
