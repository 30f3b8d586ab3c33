/*++
 * NAME
 *	auth_dkim 3
 * SUMMARY
 *	DKIM verification with libopendkim, keys through our own DNS
 * DESCRIPTION
 *	See auth_dkim.h. libopendkim does the canonicalization and the
 *	cryptography; this file feeds it, fetches keys for it and turns its
 *	per-signature state into RFC 8601 results.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "auth_dkim.h"
#include "xalloc.h"

struct auth_dkim_lib {
	DKIM_LIB	*lib;
	size_t		 max_sigs;
};

struct auth_dkim_msg {
	DKIM		*dkim;
	auth_dkim_txt_fn txt;
	void		*arg;
	size_t		 max_sigs;
	size_t		 ignored;
	bool		 failed;	/* libopendkim gave up */
	bool		 nosig;
	DKIM_SIGINFO	*temp[AUTH_DKIM_SIGS_MAX];	/* key lookup tempfailed */
	size_t		 ntemp;
};

/* dk_prescreen - ignore signatures over the limit before keys are fetched */
static DKIM_CBSTAT
dk_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct auth_dkim_msg *m = dkim_get_user_context(dkim);
	int i;

	for (i = 0; m != NULL && i < nsigs; i++)
		if ((size_t)i >= m->max_sigs) {
			dkim_sig_ignore(sigs[i]);
			m->ignored++;
		}
	return DKIM_CBSTAT_CONTINUE;
}

/* dk_key_lookup - selector._domainkey.domain through our resolver */
static DKIM_CBSTAT
dk_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct auth_dkim_msg *m = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	struct dns_txt_result r;
	char name[512];
	DKIM_CBSTAT st;

	if (m == NULL || sel == NULL || dom == NULL)
		return DKIM_CBSTAT_ERROR;
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom)
	    >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	memset(&r, 0, sizeof(r));
	m->txt(m->arg, name, &r);
	switch (r.status) {
	case DNS_OK:
		/* RFC 6376 3.6.2.2: the first record; libopendkim parses it */
		if (r.txt[0].len >= buflen || memchr(r.txt[0].data, 0, r.txt[0].len)) {
			st = DKIM_CBSTAT_ERROR;
			break;
		}
		memcpy(buf, r.txt[0].data, r.txt[0].len);
		buf[r.txt[0].len] = '\0';
		st = DKIM_CBSTAT_CONTINUE;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		st = DKIM_CBSTAT_NOTFOUND;
		break;
	case DNS_TEMPFAIL:
		/*
		 * DKIM_CBSTAT_TRYAGAIN and _ERROR make dkim_eom() give up
		 * with every result lost: say "no key" to libopendkim and
		 * remember the signature, whose result becomes temperror.
		 */
		if (m->ntemp < AUTH_DKIM_SIGS_MAX)
			m->temp[m->ntemp++] = sig;
		st = DKIM_CBSTAT_NOTFOUND;
		break;
	default:
		st = DKIM_CBSTAT_ERROR;
		break;
	}
	dns_txt_result_clear(&r);
	return st;
}

/* auth_dkim_lib_new - see auth_dkim.h */
struct auth_dkim_lib *
auth_dkim_lib_new(unsigned min_key_bits, size_t max_sigs, const char **why)
{
	struct auth_dkim_lib *l = xcalloc(1, sizeof(*l));
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	unsigned int bits = min_key_bits;

	if ((l->lib = dkim_init(NULL, NULL)) == NULL) {
		*why = "dkim_init failed";
		free(l);
		return NULL;
	}
	l->max_sigs = max_sigs > AUTH_DKIM_SIGS_MAX ? AUTH_DKIM_SIGS_MAX : max_sigs;
	if (dkim_options(l->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
			 sizeof(flags)) != DKIM_STAT_OK
	    || dkim_options(l->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
			    sizeof(bits)) != DKIM_STAT_OK
	    || dkim_set_prescreen(l->lib, dk_prescreen) != DKIM_STAT_OK
	    || dkim_set_key_lookup(l->lib, dk_key_lookup) != DKIM_STAT_OK) {
		*why = "libopendkim rejected an option";
		return auth_dkim_lib_free(l);
	}
	return l;
}

/* auth_dkim_lib_free - release the library handle */
struct auth_dkim_lib *
auth_dkim_lib_free(struct auth_dkim_lib *l)
{
	if (l == NULL)
		return NULL;
	if (l->lib != NULL)
		dkim_close(l->lib);
	free(l);
	return NULL;
}

/* auth_dkim_msg_new - a verifying handle for one message */
struct auth_dkim_msg *
auth_dkim_msg_new(const struct auth_dkim_lib *l, auth_dkim_txt_fn txt,
		  void *arg, const char **why)
{
	struct auth_dkim_msg *m = xcalloc(1, sizeof(*m));
	DKIM_STAT st;

	m->txt = txt;
	m->arg = arg;
	m->max_sigs = l->max_sigs;
	m->dkim = dkim_verify(l->lib, (const u_char *)"auth", NULL, &st);
	if (m->dkim == NULL) {
		*why = dkim_getresultstr(st);
		free(m);
		return NULL;
	}
	dkim_set_user_context(m->dkim, m);
	return m;
}

/*
 * auth_dkim_header - one header field. The MTA folds with a bare LF;
 * libopendkim wants the CRLF of the wire form (RFC 6376 3.4.2 unfolds
 * CRLF WSP), so every bare LF becomes CRLF here.
 */
int
auth_dkim_header(struct auth_dkim_msg *m, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i, k;
	char *f;
	DKIM_STAT st;

	if (m->failed)
		return -1;
	f = xmalloc(nl + 2 * vl + 2);
	memcpy(f, name, nl);
	f[nl] = ':';
	for (i = 0, k = nl + 1; i < vl; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			f[k++] = '\r';
		f[k++] = value[i];
	}
	st = dkim_header(m->dkim, (u_char *)f, k);
	free(f);
	if (st != DKIM_STAT_OK) {
		m->failed = true;
		return -1;
	}
	return 0;
}

/* auth_dkim_eoh - end of header: signatures are known now */
int
auth_dkim_eoh(struct auth_dkim_msg *m)
{
	DKIM_STAT st;

	if (m->failed)
		return -1;
	st = dkim_eoh(m->dkim);
	if (st == DKIM_STAT_NOSIG) {
		m->nosig = true;
		return 0;
	}
	/* a signature that does not parse is a per-signature result */
	if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX) {
		m->failed = true;
		return -1;
	}
	return 0;
}

/* auth_dkim_body - one body chunk */
int
auth_dkim_body(struct auth_dkim_msg *m, const unsigned char *data, size_t len)
{
	DKIM_STAT st;

	if (m->failed || m->nosig)
		return 0;
	st = dkim_body(m->dkim, (u_char *)data, len);
	if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX)
		m->failed = true;
	return m->failed ? -1 : 0;
}

/* dk_result - RFC 8601 result of one processed signature */
static void
dk_result(const struct auth_dkim_msg *m, DKIM_SIGINFO *sig,
	  struct auth_dkim_sig *o)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	size_t i;

	o->why = "";
	for (i = 0; i < m->ntemp; i++)
		if (m->temp[i] == sig)
			err = DKIM_SIGERROR_KEYFAIL;
	if ((flags & DKIM_SIGFLAG_PASSED) && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
		o->res = AUTH_DKIM_PASS;
		return;
	}
	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		o->res = AUTH_DKIM_TEMPERROR;
		o->why = "key query failed";
		return;
	case DKIM_SIGERROR_NOKEY:
		o->res = AUTH_DKIM_PERMERROR;
		o->why = "no key";
		return;
	case DKIM_SIGERROR_KEYREVOKED:
		o->res = AUTH_DKIM_FAIL;
		o->why = "key revoked";
		return;
	case DKIM_SIGERROR_KEYTOOSMALL:
		o->res = AUTH_DKIM_POLICY;
		o->why = "key too small";
		return;
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_MULTIREPLY:
		o->res = AUTH_DKIM_PERMERROR;
		o->why = "bad key record";
		return;
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		o->res = AUTH_DKIM_FAIL;
		o->why = dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH ?
		    "body hash mismatch" : "signature verification failed";
		return;
	case DKIM_SIGERROR_EXPIRED:
		o->res = AUTH_DKIM_NEUTRAL;
		o->why = "signature expired";
		return;
	default:
		o->res = AUTH_DKIM_NEUTRAL;
		o->why = dkim_sig_geterrorstr(err) ? dkim_sig_geterrorstr(err) :
		    "bad signature syntax";
		return;
	}
}

/* auth_dkim_eom - the per-signature results */
size_t
auth_dkim_eom(struct auth_dkim_msg *m, struct auth_dkim_sig *out, size_t max)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, i;
	size_t n = 0;

	if (m->nosig)
		return 0;
	if (!m->failed)
		(void)dkim_eom(m->dkim, NULL);
	if (dkim_getsiglist(m->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		return 0;
	for (i = 0; i < nsigs && n < max; i++) {
		struct auth_dkim_sig *o = &out[n];
		const char *s;
		dkim_alg_t alg;
		unsigned int bits;
		u_char *b;

		if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
			continue;
		memset(o, 0, sizeof(*o));
		s = (const char *)dkim_sig_getdomain(sigs[i]);
		snprintf(o->domain, sizeof(o->domain), "%s", s ? s : "");
		s = (const char *)dkim_sig_getselector(sigs[i]);
		snprintf(o->selector, sizeof(o->selector), "%s", s ? s : "");
		if (dkim_sig_getsignalg(sigs[i], &alg) == DKIM_STAT_OK)
			snprintf(o->alg, sizeof(o->alg), "%s",
				 alg == DKIM_SIGN_RSASHA1 ? "rsa-sha1" :
				 alg == DKIM_SIGN_RSASHA256 ? "rsa-sha256" :
				 alg == DKIM_SIGN_ED25519SHA256 ? "ed25519-sha256" : "");
		if (dkim_sig_getkeysize(sigs[i], &bits) == DKIM_STAT_OK)
			o->key_bits = bits;
		b = dkim_sig_gettagvalue(sigs[i], 0, (u_char *)"b");
		if (b != NULL) {
			/* RFC 6008: enough of b= to tell signatures apart */
			size_t k = 0;

			for (; *b && k < 8; b++)
				if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
					o->b[k++] = (char)*b;
			o->b[k] = '\0';
		}
		if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_PROCESSED) == 0
		    && dkim_sig_geterror(sigs[i]) == DKIM_SIGERROR_UNKNOWN) {
			o->res = m->failed ? AUTH_DKIM_TEMPERROR : AUTH_DKIM_NEUTRAL;
			o->why = "not processed";
		} else {
			dk_result(m, sigs[i], o);
		}
		n++;
	}
	return n;
}

/* auth_dkim_ignored - signatures over the limit */
size_t
auth_dkim_ignored(const struct auth_dkim_msg *m)
{
	return m->ignored;
}

/* auth_dkim_msg_free - release a message handle */
struct auth_dkim_msg *
auth_dkim_msg_free(struct auth_dkim_msg *m)
{
	if (m == NULL)
		return NULL;
	if (m->dkim != NULL)
		dkim_free(m->dkim);
	free(m);
	return NULL;
}

/* auth_dkim_res_name - result word for AR */
const char *
auth_dkim_res_name(enum auth_dkim_res r)
{
	switch (r) {
	case AUTH_DKIM_PASS: return "pass";
	case AUTH_DKIM_FAIL: return "fail";
	case AUTH_DKIM_POLICY: return "policy";
	case AUTH_DKIM_NEUTRAL: return "neutral";
	case AUTH_DKIM_PERMERROR: return "permerror";
	case AUTH_DKIM_TEMPERROR: return "temperror";
	}
	return "unknown";
}
