/*++
 * NAME
 *	dkim_tables_test 1
 * SUMMARY
 *	unit tests for the key table, signing table and sender login map
 *	(milters/dkim/dkim_tables*.c, dkim_tab*.c, dkim_key*.c, dkim_signtable.c,
 *	dkim_loginmap.c)
 * DESCRIPTION
 *	The group setup makes a mkdtemp(3) directory (mode 0700) and writes
 *	key files into it with OpenSSL: RSA 2048 as PKCS#8, traditional PEM
 *	and DER; Ed25519; RSA 512; EC P-256; an encrypted key; a public key;
 *	garbage; copies with loose modes; a directory open to its group.
 *	Each test writes its own tables there ("$D" in table text stands for
 *	the directory) and loads them through dkim_tables_load().
 *
 *	Tables of cases:
 *	lookup/<row>		From address -> pattern line, keys, d=, i=
 *	load_errors/<row>	one bad line -> "file:line: ..." message
 *	loginmap/<row>		address + login -> allowed / not listed /
 *				no entry
 *	Failures read "got X, want Y". The directory is removed at the end.
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim_loginmap.h"
#include "dkim_tables.h"
#include "errlist.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/dkim_tables_test.XXXXXX";
static unsigned file_serial;

 /*
  * Fixture: key files.
  */

enum key_format { FMT_PKCS8, FMT_TRAD, FMT_DER, FMT_PUBLIC, FMT_ENCRYPTED };

/* dpath - "$tmpdir/name"; caller frees */
static char *
dpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* write_key - one key file in the given format and mode */
static int
write_key(const char *name, EVP_PKEY *pkey, enum key_format fmt, mode_t mode)
{
	char   *p = dpath(name);
	FILE   *fp = fopen(p, "w");
	int	ok = 0;

	if (fp == NULL) {
		free(p);
		return -1;
	}
	switch (fmt) {
	case FMT_PKCS8:
		ok = PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
		break;
	case FMT_TRAD: {
		BIO    *bio = BIO_new_fp(fp, BIO_NOCLOSE);

		ok = bio && PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL,
								 NULL, 0, NULL,
								 NULL);
		BIO_free(bio);
		break;
	}
	case FMT_DER:
		ok = i2d_PrivateKey_fp(fp, pkey);
		break;
	case FMT_PUBLIC:
		ok = PEM_write_PUBKEY(fp, pkey);
		break;
	case FMT_ENCRYPTED:
		ok = PEM_write_PrivateKey(fp, pkey, EVP_aes_128_cbc(),
					  (unsigned char *) "secret", 6,
					  NULL, NULL);
		break;
	}
	fclose(fp);
	if (chmod(p, mode) < 0)
		ok = 0;
	free(p);
	return ok ? 0 : -1;
}

/* write_text - a file with the given text and mode; returns its path */
static char *
write_text(const char *name, const char *text, mode_t mode)
{
	char   *p = dpath(name);
	FILE   *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* rm_entry - nftw callback for the final cleanup */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/* setup - temp dir and every key file the tests use */
static int
setup(void **state)
{
	EVP_PKEY *rsa;
	EVP_PKEY *rsa512;
	EVP_PKEY *ed;
	EVP_PKEY *ec;
	char   *p;
	int	rc = 0;

	(void) state;
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0700) < 0)
		return -1;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
	rsa512 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 512);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa == NULL || rsa512 == NULL || ed == NULL || ec == NULL)
		return -1;

	rc |= write_key("rsa.pem", rsa, FMT_PKCS8, 0600);
	rc |= write_key("rsa_trad.pem", rsa, FMT_TRAD, 0600);
	rc |= write_key("rsa.der", rsa, FMT_DER, 0600);
	rc |= write_key("rsa644.pem", rsa, FMT_PKCS8, 0644);
	rc |= write_key("rsa640.pem", rsa, FMT_PKCS8, 0640);
	rc |= write_key("rsa620.pem", rsa, FMT_PKCS8, 0620);
	rc |= write_key("example.com.pem", rsa, FMT_PKCS8, 0600);
	rc |= write_key("ed.pem", ed, FMT_PKCS8, 0600);
	rc |= write_key("rsa512.pem", rsa512, FMT_PKCS8, 0600);
	rc |= write_key("ec.pem", ec, FMT_PKCS8, 0600);
	rc |= write_key("pub.pem", rsa, FMT_PUBLIC, 0600);
	rc |= write_key("enc.pem", rsa, FMT_ENCRYPTED, 0600);

	free(write_text("garbage.pem", "this is not a key\n", 0600));
	p = dpath("adir");
	rc |= mkdir(p, 0700);
	free(p);
	p = dpath("open");
	rc |= mkdir(p, 0700);
	rc |= chmod(p, 0770);
	free(p);
	rc |= write_key("open/k.pem", rsa, FMT_PKCS8, 0600);
	p = dpath("link.pem");
	rc |= symlink("rsa.pem", p);
	free(p);

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa512);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec);
	return rc ? -1 : 0;
}

/* teardown - remove the temp dir */
static int
teardown(void **state)
{
	(void) state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

 /*
  * Fixture: tables.
  */

/* expand - replace every "$D" by the temp dir; caller frees */
static char *
expand(const char *text)
{
	size_t	n = 1;
	char   *out;
	char   *o;

	for (const char *p = text; *p; p++)
		n += (p[0] == '$' && p[1] == 'D') ? strlen(tmpdir) : 1;
	out = o = xmalloc(n);
	for (const char *p = text; *p; p++) {
		if (p[0] == '$' && p[1] == 'D') {
			memcpy(o, tmpdir, strlen(tmpdir));
			o += strlen(tmpdir);
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

struct loaded {
	struct dkim_tables *t;
	struct errlist el;
	char   *kt;			/* key table path */
	char   *st;			/* signing table path */
	char   *lm;			/* login map path, or NULL */
};

/* write_table - a fresh file holding expand(text); returns its path */
static char *
write_table(const char *kind, const char *text)
{
	char	name[64];
	char   *body = expand(text);
	char   *p;

	snprintf(name, sizeof(name), "%s.%u", kind, ++file_serial);
	p = write_text(name, body, 0644);
	free(body);
	return p;
}

/* load_with - write the tables and load them; prefixes go in the spec */
static void
load_with(struct loaded *L, const char *kt, const char *st, const char *lm,
	  const char *st_prefix, const struct dkim_tables_options *opt)
{
	char   *stspec;
	char   *lmspec = NULL;

	memset(L, 0, sizeof(*L));
	L->kt = write_table("key.table", kt);
	L->st = write_table("signing.table", st);
	stspec = xasprintf("%s%s", st_prefix, L->st);
	if (lm != NULL) {
		L->lm = write_table("login.map", lm);
		lmspec = xasprintf("hash:%s", L->lm);
	}
	L->t = dkim_tables_load(L->kt, stspec, lmspec, opt, &L->el);
	free(stspec);
	free(lmspec);
}

/* load - the usual case: refile: signing table, default options */
static void
load(struct loaded *L, const char *kt, const char *st, const char *lm)
{
	load_with(L, kt, st, lm, "refile:", NULL);
}

/* unload - free everything */
static void
unload(struct loaded *L)
{
	dkim_tables_free(L->t);
	errlist_free(&L->el);
	free(L->kt);
	free(L->st);
	free(L->lm);
}

/* want_ok - the load succeeded without messages */
static void
want_ok(const struct loaded *L)
{
	if (L->t == NULL || L->el.count != 0) {
		char   *all = errlist_join(&L->el);

		fail_msg("got errors [%s], want a clean load", all);
	}
}

/* has_error - a message starting with "file:line: " and holding want */
static bool
has_error(const struct errlist *el, const char *file, unsigned line,
	  const char *want)
{
	char   *prefix = line ? xasprintf("%s:%u: ", file, line) :
	    xasprintf("%s: ", file);
	bool	found = false;

	for (size_t i = 0; i < el->count && !found; i++)
		found = strncmp(el->msgs[i], prefix, strlen(prefix)) == 0
		    && strstr(el->msgs[i] + strlen(prefix), want) != NULL;
	free(prefix);
	return found;
}

/* want_error - as has_error, or fail with every message */
static void
want_error(const struct loaded *L, const char *file, unsigned line,
	   const char *want)
{
	if (L->t != NULL)
		fail_msg("got tables, want NULL after an error");
	if (!has_error(&L->el, file, line, want)) {
		char   *all = errlist_join(&L->el);

		fail_msg("got [%s], want %s:%u: ...%s...", all, file, line, want);
	}
}

/* keynames - the key names of a match, comma-separated, in a buffer */
static const char *
keynames(const struct dkim_tables_match *m, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < m->count; i++) {
		size_t	used = strlen(buf);

		snprintf(buf + used, len - used, "%s%s", i ? "," : "",
			 m->sig[i].keyname);
	}
	return buf;
}

 /*
  * Good tables.
  */

#define GOOD_KEYTABLE \
	"# OpenDKIM KeyTable, as in opendkim.conf(5)\n" \
	"default._domainkey.example.com  example.com:default:$D/rsa.pem\n" \
	"\n" \
	"ed._domainkey.example.com\tEXAMPLE.com:ed2024:$D/ed.pem   # Ed25519\n" \
	"   trad    example.net:s1:$D/rsa_trad.pem\n" \
	"der example.org:s-2.x:$D/rsa.der\n" \
	"same example.org:other:$D/rsa.pem\n"

/* test_good_keytable - entries, order, algorithms, one parse per file */
static void
test_good_keytable(void **state)
{
	static const struct {
		const char *name, *domain, *selector, *file, *alg;
		int	bits;
		unsigned line;
	} want[] = {
		{"default._domainkey.example.com", "example.com", "default",
		 "rsa.pem", "rsa-sha256", 2048, 2},
		{"ed._domainkey.example.com", "example.com", "ed2024", "ed.pem",
		 "ed25519-sha256", 256, 4},
		{"trad", "example.net", "s1", "rsa_trad.pem", "rsa-sha256",
		 2048, 5},
		{"der", "example.org", "s-2.x", "rsa.der", "rsa-sha256", 2048, 6},
		{"same", "example.org", "other", "rsa.pem", "rsa-sha256", 2048, 7},
	};
	struct loaded L;

	(void) state;
	load(&L, GOOD_KEYTABLE, "", NULL);
	want_ok(&L);
	if (dkim_tables_key_count(L.t) != NELEM(want))
		fail_msg("key count: got %zu, want %zu",
			 dkim_tables_key_count(L.t), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct dkim_tables_key *k = dkim_tables_key_at(L.t, i);
		char   *p = dpath(want[i].file);

		assert_non_null(k);
		assert_non_null(k->pkey);
		if (strcmp(k->name, want[i].name) != 0
		    || strcmp(k->domain, want[i].domain) != 0
		    || strcmp(k->selector, want[i].selector) != 0
		    || strcmp(k->path, p) != 0
		    || strcmp(k->algorithm, want[i].alg) != 0
		    || k->bits != want[i].bits || k->line != want[i].line)
			fail_msg("entry %zu: got %s %s:%s:%s %s/%d line %u, "
				 "want %s %s:%s:%s %s/%d line %u", i, k->name,
				 k->domain, k->selector, k->path, k->algorithm,
				 k->bits, k->line, want[i].name, want[i].domain,
				 want[i].selector, p, want[i].alg, want[i].bits,
				 want[i].line);
		if (dkim_tables_key_find(L.t, want[i].name) != k)
			fail_msg("key_find(%s): got another entry, want #%zu",
				 want[i].name, i);
		free(p);
	}
	/* rsa.pem is named twice and parsed once: one shared EVP_PKEY. */
	if (dkim_tables_key_at(L.t, 0)->pkey != dkim_tables_key_at(L.t, 4)->pkey)
		fail_msg("got two EVP_PKEYs for rsa.pem, want one");
	assert_int_equal(dkim_tables_key_at(L.t, 1)->alg,
			 DKIM_TABLES_ALG_ED25519_SHA256);
	assert_null(dkim_tables_key_find(L.t, "nonesuch"));
	assert_null(dkim_tables_key_at(L.t, NELEM(want)));
	assert_null(dkim_tables_loginmap(L.t));
	unload(&L);
}

/* test_prefixes - file: and refile: prefixes; other data set types refused */
static void
test_prefixes(void **state)
{
	struct errlist el = ERRLIST_INIT;
	char   *kt = write_table("key.table", "k example.com:s:$D/rsa.pem\n");
	char   *st = write_table("signing.table", "*@example.com k\n");
	char   *kspec = xasprintf("file:%s", kt);
	char   *sspec = xasprintf("file:%s", st);
	char   *bad = xasprintf("csl:%s", st);
	struct dkim_tables *t;

	(void) state;
	t = dkim_tables_load(kspec, sspec, NULL, NULL, &el);
	assert_non_null(t);
	assert_int_equal(el.count, 0);
	assert_int_equal(dkim_tables_pattern_count(t), 1);
	dkim_tables_free(t);

	t = dkim_tables_load(kspec, bad, NULL, NULL, &el);
	assert_null(t);
	if (!has_error(&el, bad, 0, "data set type \"csl\" is not supported"))
		fail_msg("got [%s], want csl: refused", errlist_join(&el));
	errlist_free(&el);

	t = dkim_tables_load(NULL, NULL, NULL, NULL, &el);
	assert_null(t);
	assert_int_equal(el.count, 2);
	errlist_free(&el);

	t = dkim_tables_load(kspec, sspec, "pcre:/etc/postfix/x.pcre", NULL, &el);
	assert_null(t);
	if (!has_error(&el, "pcre:/etc/postfix/x.pcre", 0,
		       "map type \"pcre\" is not supported"))
		fail_msg("got [%s], want pcre: refused", errlist_join(&el));
	errlist_free(&el);

	dkim_tables_free(t);
	free(kt);
	free(st);
	free(kspec);
	free(sspec);
	free(bad);
}

/* test_empty_tables - nothing to sign is a valid configuration */
static void
test_empty_tables(void **state)
{
	struct dkim_tables_match m;
	struct loaded L;

	(void) state;
	load(&L, "# no keys yet\n\n", "", NULL);
	want_ok(&L);
	assert_int_equal(dkim_tables_key_count(L.t), 0);
	assert_int_equal(dkim_tables_pattern_count(L.t), 0);
	assert_int_equal(dkim_tables_lookup(L.t, "a", "example.com", &m),
			 DKIM_TABLES_NOMATCH);
	assert_int_equal(m.count, 0);
	unload(&L);

	/* An empty key table cannot serve a signing table that names keys. */
	load(&L, "", "*@example.com k\n", NULL);
	want_error(&L, L.st, 1, "unknown key \"k\"");
	unload(&L);
}

 /*
  * Lookup.
  */

#define LOOKUP_KEYTABLE \
	"john     example.com:j:$D/rsa.pem\n" \
	"rsa      example.com:r:$D/rsa.pem\n" \
	"ed       example.com:e:$D/ed.pem\n" \
	"sub      example.com:sub:$D/rsa.pem\n" \
	"net      example.net:n:$D/rsa.pem\n" \
	"org1     example.org:o1:$D/rsa.pem\n" \
	"org2     example.org:o2:$D/ed.pem\n" \
	"edu1     example.edu:u1:$D/rsa.pem\n" \
	"edu2     example.edu:u2:$D/ed.pem\n" \
	"other    other.test:x:$D/rsa.pem\n" \
	"dots     example.info:d:$D/rsa.pem\n" \
	"hosted   %:mail:$D/rsa.pem\n" \
	"example.biz example.biz:byname:$D/ed.pem\n" \
	"signer   example.com:i:$D/rsa.pem\n" \
	"signer2  example.com:i2:$D/ed.pem\n" \
	"catchall catch.test:c:$D/rsa.pem\n"

/* Line numbers below refer to this table. */
#define LOOKUP_SIGNTABLE \
	"john@example.com      john\n"			/* 1 */ \
	"*@example.com         rsa ed\n"		/* 2 */ \
	"*@*.example.com       sub\n"			/* 3 */ \
	"EXAMPLE.NET           net\n"			/* 4 */ \
	"*@example.org         org1\n"			/* 5 */ \
	"*@example.org         org2\n"			/* 6 */ \
	"*@example.edu         edu1\n"			/* 7 */ \
	"*@other.test          other\n"			/* 8 */ \
	"*@Example.EDU         edu2\n"			/* 9 */ \
	".example.info         dots\n"			/* 10 */ \
	"*@*.hosted.test       hosted\n"		/* 11 */ \
	"*@example.biz         %\n"			/* 12 */ \
	"*@nokey.test          %\n"			/* 13 */ \
	"*@signer.test         signer:boss@sub.example.com signer2:x@other.test\n" \
	"*@pct.test            signer:%@x.example.com\n"	/* 15 */ \
	"*@partial.test        rsa %\n"			/* 16 */ \
	"*@suffix.test         signer:x@notexample.com\n"	/* 17 */ \
	"*                     catchall\n"		/* 18 */

/* test_lookup - first match wins, merged patterns, %, case, OpenDKIM forms */
static void
test_lookup(void **state)
{
	static const struct {
		const char *name;
		const char *local, *domain;
		enum dkim_tables_status status;
		unsigned line;
		const char *keys;	/* comma-separated key names */
		const char *d;		/* d= of the first key, or NULL */
		const char *i;		/* i= of the first key, or NULL */
	} cases[] = {
		{"exact address before its domain", "john", "example.com",
		 DKIM_TABLES_MATCH, 1, "john", "example.com", ""},
		{"uppercase address", "JOHN", "EXAMPLE.COM",
		 DKIM_TABLES_MATCH, 1, "john", "example.com", ""},
		{"two keys on one line", "mary", "example.com",
		 DKIM_TABLES_MATCH, 2, "rsa,ed", "example.com", ""},
		{"*@*. matches a subdomain", "Mary", "Sub.Example.com",
		 DKIM_TABLES_MATCH, 3, "sub", "example.com", ""},
		{"*@*. matches a deep subdomain", "a", "deep.sub.example.com",
		 DKIM_TABLES_MATCH, 3, "sub", NULL, NULL},
		{"bare domain", "x", "example.net",
		 DKIM_TABLES_MATCH, 4, "net", "example.net", ""},
		{"bare domain is exact", "x", "sub.example.net",
		 DKIM_TABLES_MATCH, 18, "catchall", NULL, NULL},
		{"identical pattern on the next line", "x", "example.org",
		 DKIM_TABLES_MATCH, 5, "org1,org2", NULL, NULL},
		{"identical pattern further down", "x", "example.edu",
		 DKIM_TABLES_MATCH, 7, "edu1,edu2", NULL, NULL},
		{"OpenDKIM .domain: subdomain", "x", "a.example.info",
		 DKIM_TABLES_MATCH, 10, "dots", NULL, NULL},
		{"OpenDKIM .domain: not the domain", "x", "example.info",
		 DKIM_TABLES_MATCH, 18, "catchall", NULL, NULL},
		{"% domain takes the From domain", "u", "Shop.Hosted.Test",
		 DKIM_TABLES_MATCH, 11, "hosted", "shop.hosted.test", ""},
		{"% key name is the From domain", "u", "EXAMPLE.biz",
		 DKIM_TABLES_MATCH, 12, "example.biz", "example.biz", ""},
		{"% key name without such a key", "u", "nokey.test",
		 DKIM_TABLES_NOKEY, 13, "", NULL, NULL},
		{"% domain refuses a non-LDH From domain", "u",
		 "a_b.hosted.test", DKIM_TABLES_NOKEY, 11, "", NULL, NULL},
		{"some keys usable, one missing", "u", "partial.test",
		 DKIM_TABLES_NOKEY, 16, "rsa", "example.com", ""},
		{"signer in d= subdomain kept", "u", "signer.test",
		 DKIM_TABLES_MATCH, 14, "signer,signer2", "example.com",
		 "boss@sub.example.com"},
		{"signer with %", "u", "pct.test",
		 DKIM_TABLES_MATCH, 15, "signer", "example.com",
		 "pct.test@x.example.com"},
		{"signer domain is a suffix, not a subdomain", "u",
		 "suffix.test", DKIM_TABLES_MATCH, 17, "signer", "example.com",
		 ""},
		{"catch-all", "anyone", "elsewhere.test",
		 DKIM_TABLES_MATCH, 18, "catchall", "catch.test", ""},
		{"empty local part", "", "example.com",
		 DKIM_TABLES_MATCH, 2, "rsa,ed", NULL, NULL},
		{"empty domain", "x", "", DKIM_TABLES_BADADDR, 0, "", NULL, NULL},
	};
	struct loaded L;

	(void) state;
	load(&L, LOOKUP_KEYTABLE, LOOKUP_SIGNTABLE, NULL);
	want_ok(&L);
	assert_int_equal(dkim_tables_pattern_count(L.t), 16);
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct dkim_tables_match m;
		enum dkim_tables_status s;
		char	names[256];

		memset(&m, 0xa5, sizeof(m));
		s = dkim_tables_lookup(L.t, cases[c].local, cases[c].domain, &m);
		keynames(&m, names, sizeof(names));
		if (s != cases[c].status || m.line != cases[c].line
		    || strcmp(names, cases[c].keys) != 0)
			fail_msg("%s: got %s line %u keys \"%s\", want %s line "
				 "%u keys \"%s\"", cases[c].name,
				 dkim_tables_status_name(s), m.line, names,
				 dkim_tables_status_name(cases[c].status),
				 cases[c].line, cases[c].keys);
		if (cases[c].d && strcmp(m.sig[0].domain, cases[c].d) != 0)
			fail_msg("%s: d= got \"%s\", want \"%s\"", cases[c].name,
				 m.sig[0].domain, cases[c].d);
		if (cases[c].i && strcmp(m.sig[0].signer, cases[c].i) != 0)
			fail_msg("%s: i= got \"%s\", want \"%s\"", cases[c].name,
				 m.sig[0].signer, cases[c].i);
		for (size_t i = 0; i < m.count; i++) {
			const struct dkim_tables_sig *sig = &m.sig[i];

			if (sig->pkey == NULL || sig->pkey != sig->key->pkey
			    || sig->selector != sig->key->selector
			    || sig->keyname != sig->key->name
			    || sig->alg != sig->key->alg)
				fail_msg("%s: sig %zu does not agree with its "
					 "key table entry", cases[c].name, i);
		}
	}
	unload(&L);
}

/* test_lookup_details - second signer dropped, long input, NULL tables */
static void
test_lookup_details(void **state)
{
	struct dkim_tables_match m;
	struct loaded L;
	char	longlocal[DKIM_TABLES_LOCAL_MAX + 2];
	char	longdomain[DKIM_TABLES_DOMAIN_MAX + 2];

	(void) state;
	load(&L, LOOKUP_KEYTABLE, LOOKUP_SIGNTABLE, NULL);
	want_ok(&L);

	/* i=x@other.test is outside d=example.com: OpenDKIM drops it. */
	assert_int_equal(dkim_tables_lookup(L.t, "u", "signer.test", &m),
			 DKIM_TABLES_MATCH);
	assert_int_equal(m.count, 2);
	if (strcmp(m.sig[1].signer, "") != 0)
		fail_msg("foreign signer: got \"%s\", want \"\"", m.sig[1].signer);
	assert_string_equal(m.pattern, "*@signer.test");

	memset(longlocal, 'a', sizeof(longlocal) - 1);
	longlocal[sizeof(longlocal) - 1] = '\0';
	assert_int_equal(dkim_tables_lookup(L.t, longlocal, "example.com", &m),
			 DKIM_TABLES_BADADDR);
	longlocal[DKIM_TABLES_LOCAL_MAX] = '\0';	/* exactly the limit */
	assert_int_equal(dkim_tables_lookup(L.t, longlocal, "example.com", &m),
			 DKIM_TABLES_MATCH);
	memset(longdomain, 'b', sizeof(longdomain) - 1);
	longdomain[sizeof(longdomain) - 1] = '\0';
	assert_int_equal(dkim_tables_lookup(L.t, "x", longdomain, &m),
			 DKIM_TABLES_BADADDR);
	assert_int_equal(dkim_tables_lookup(L.t, NULL, "example.net", &m),
			 DKIM_TABLES_MATCH);
	assert_int_equal(dkim_tables_lookup(NULL, "x", "example.net", &m),
			 DKIM_TABLES_BADADDR);
	assert_string_equal(dkim_tables_status_name(DKIM_TABLES_NOKEY), "no_key");
	unload(&L);
}

/* test_first_match_wins - refile: line order decides, as in OpenDKIM */
static void
test_first_match_wins(void **state)
{
	static const char kt[] =
	    "k1 example.com:s1:$D/rsa.pem\n"
	    "k2 example.com:s2:$D/ed.pem\n";
	static const char st[] =
	    "*@example.com     k1\n"
	    "john@example.com  k2\n";
	struct dkim_tables_match m;
	struct loaded L;

	(void) state;
	load(&L, kt, st, NULL);
	want_ok(&L);
	assert_int_equal(dkim_tables_lookup(L.t, "john", "example.com", &m),
			 DKIM_TABLES_MATCH);
	if (m.count != 1 || strcmp(m.sig[0].keyname, "k1") != 0 || m.line != 1)
		fail_msg("got %zu keys, first %s, line %u; want k1 from line 1",
			 m.count, m.count ? m.sig[0].keyname : "-", m.line);
	unload(&L);

	/*
	 * The same table without refile: OpenDKIM's file: lookup would have
	 * given john k2. Refuse rather than sign differently.
	 */
	load_with(&L, kt, st, NULL, "", NULL);
	want_error(&L, L.st, 2, "pattern \"john@example.com\" is never used: "
		   "\"*@example.com\" on line 1 matches first");
	unload(&L);

	load_with(&L, kt, "*  k1\n*@*.example.com k2\n", NULL, "file:", NULL);
	want_error(&L, L.st, 2, "\"*\" on line 1 matches first");
	unload(&L);

	/* Specific first is fine in a file: table. */
	load_with(&L, kt, "john@example.com k2\nexample.com k1\n*@*.example.com k1\n",
		  NULL, "", NULL);
	want_ok(&L);
	unload(&L);
}

/* test_percent_path - '%' in a key path with a fixed domain */
static void
test_percent_path(void **state)
{
	struct loaded L;
	char   *want;

	(void) state;
	load(&L, "k example.com:s:$D/%.pem\n", "*@example.com k\n", NULL);
	want_ok(&L);
	want = dpath("example.com.pem");
	assert_string_equal(dkim_tables_key_at(L.t, 0)->path, want);
	free(want);
	unload(&L);
}

 /*
  * Load errors: each must name the right file and line.
  */

/* test_load_errors - one problem per row */
static void
test_load_errors(void **state)
{
	static const struct {
		const char *name;
		const char *kt;
		const char *st;
		char	file;		/* 'k' key table, 's' signing table */
		unsigned line;
		const char *want;
	} cases[] = {
		{"bad syntax", "k1 example.com:sel\n", "",
		 'k', 1, "key \"k1\": want domain:selector:keyfile, got "
		 "\"example.com:sel\""},
		{"no value", "\n# x\nk1\n", "",
		 'k', 3, "key \"k1\": want domain:selector:keyfile"},
		{"duplicate name", "k1 a.example:s:$D/rsa.pem\n"
		 "k1 b.example:s:$D/rsa.pem\n", "",
		 'k', 2, "key \"k1\" is already defined on line 1"},
		{"missing key file", "k1 example.com:s:$D/nonesuch.pem\n", "",
		 'k', 1, "nonesuch.pem: cannot open: No such file or directory"},
		{"key is a directory", "k1 example.com:s:$D/adir\n", "",
		 'k', 1, "adir: not a regular file"},
		{"garbage key", "k1 example.com:s:$D/garbage.pem\n", "",
		 'k', 1, "garbage.pem: not a PEM or DER private key"},
		{"EC key", "k1 example.com:s:$D/ec.pem\n", "",
		 'k', 1, "ec.pem: key type EC is not supported (RSA or Ed25519 "
		 "only)"},
		{"RSA 512", "k1 example.com:s:$D/rsa512.pem\n", "",
		 'k', 1, "rsa512.pem: RSA key has 512 bits, below the minimum "
		 "of 1024"},
		{"public key", "k1 example.com:s:$D/pub.pem\n", "",
		 'k', 1, "pub.pem: this is a public key"},
		{"encrypted key", "k1 example.com:s:$D/enc.pem\n", "",
		 'k', 1, "enc.pem: encrypted key"},
		{"mode 0644", "k1 example.com:s:$D/rsa644.pem\n", "",
		 'k', 1, "rsa644.pem: readable by group or others (mode 0644); "
		 "chmod 600 it"},
		{"mode 0640", "k1 example.com:s:$D/rsa640.pem\n", "",
		 'k', 1, "rsa640.pem: readable by group or others (mode 0640)"},
		{"mode 0620", "k1 example.com:s:$D/rsa620.pem\n", "",
		 'k', 1, "rsa620.pem: writable by group or others (mode 0620)"},
		{"directory open to its group", "k1 example.com:s:$D/open/k.pem\n",
		 "", 'k', 1, "/open is writable by group or others (mode 0770); "
		 "chmod go-w it"},
		{"domain not LDH", "k1 exa_mple.com:s:$D/rsa.pem\n", "",
		 'k', 1, "key \"k1\": domain \"exa_mple.com\" is not a domain name"},
		{"domain with empty label", "k1 example..com:s:$D/rsa.pem\n", "",
		 'k', 1, "is not a domain name"},
		{"IDN domain", "k1 b\xc3\xbc" "cher.de:s:$D/rsa.pem\n", "",
		 'k', 1, "write an IDN as A-labels"},
		{"selector not LDH", "k1 example.com:-s:$D/rsa.pem\n", "",
		 'k', 1, "selector \"-s\""},
		{"empty selector", "k1 example.com::$D/rsa.pem\n", "",
		 'k', 1, "selector \"\""},
		{"inline key data", "k1 example.com:s:MIIEvQIBADANBgkqhkiG9w0\n",
		 "", 'k', 1, "inline key data is not supported"},
		{"no key file", "k1 example.com:s:\n", "",
		 'k', 1, "no key file"},
		{"% domain with % path", "k1 %:s:$D/%.pem\n", "",
		 'k', 1, "needs a fixed domain"},
		{"key name with colon", "a:b example.com:s:$D/rsa.pem\n", "",
		 'k', 1, "cannot contain ':'"},
		{"NUL byte", "k1 example.com:s:$D/rsa.pem\nk2\0x\n", "",
		 'k', 2, "NUL byte"},
		{"unknown key", "k1 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1\n*@example.net nokey\n",
		 's', 2, "unknown key \"nokey\" (not in "},
		{"no key name", "k1 example.com:s:$D/rsa.pem\n",
		 "# x\n*@example.com\n", 's', 2, "pattern \"*@example.com\": "
		 "no key name"},
		{"two @", "k1 example.com:s:$D/rsa.pem\n", "a@b@c k1\n",
		 's', 1, "more than one @"},
		{"empty local part", "k1 example.com:s:$D/rsa.pem\n",
		 "@example.com k1\n", 's', 1, "empty local part; write *@domain"},
		{"empty domain", "k1 example.com:s:$D/rsa.pem\n",
		 "user@ k1\n", 's', 1, "empty domain"},
		{"key twice on a line", "k1 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1 k1\n", 's', 1, "key \"k1\" is already listed "
		 "for pattern \"*@example.com\" on line 1"},
		{"key twice across lines", "k1 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1\n\n*@EXAMPLE.com k1\n", 's', 3,
		 "already listed for pattern \"*@example.com\" on line 1"},
		{"nine keys", "k1 example.com:s:$D/rsa.pem\n"
		 "k2 example.com:s:$D/rsa.pem\nk3 example.com:s:$D/rsa.pem\n"
		 "k4 example.com:s:$D/rsa.pem\nk5 example.com:s:$D/rsa.pem\n"
		 "k6 example.com:s:$D/rsa.pem\nk7 example.com:s:$D/rsa.pem\n"
		 "k8 example.com:s:$D/rsa.pem\nk9 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1 k2 k3 k4 k5\n*@example.com k6 k7 k8 k9\n",
		 's', 2, "key \"k9\": more than 8 keys"},
		{"bad signer", "k1 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1:nobody\n", 's', 1, "signer must be "
		 "[user]@domain"},
		{"signer with ;", "k1 example.com:s:$D/rsa.pem\n",
		 "*@example.com k1:a;b@example.com\n", 's', 1, "except ';'"},
	};

	(void) state;
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct loaded L;
		const char *file;

		/* The NUL case needs its length: write it by hand. */
		if (strcmp(cases[c].name, "NUL byte") == 0) {
			char   *body = expand("k1 example.com:s:$D/rsa.pem\n");
			char   *p = dpath("nul.table");
			FILE   *fp = fopen(p, "w");

			assert_non_null(fp);
			fputs(body, fp);
			fwrite("k2\0x\n", 1, 5, fp);
			fclose(fp);
			memset(&L, 0, sizeof(L));
			L.kt = p;
			L.st = write_table("signing.table", "");
			L.t = dkim_tables_load(L.kt, L.st, NULL, NULL, &L.el);
			free(body);
		} else {
			load(&L, cases[c].kt, cases[c].st, NULL);
		}
		file = cases[c].file == 'k' ? L.kt : L.st;
		if (L.t != NULL || !has_error(&L.el, file, cases[c].line,
					      cases[c].want)) {
			char   *all = errlist_join(&L.el);

			fail_msg("%s: got [%s], want %s:%u: ...%s...",
				 cases[c].name, all, file, cases[c].line,
				 cases[c].want);
		}
		unload(&L);
	}
}

/* test_error_format - the whole message, as the operator reads it */
static void
test_error_format(void **state)
{
	struct loaded L;
	char   *want;
	char   *key = dpath("rsa644.pem");

	(void) state;
	load(&L, "# keys\n\nexample  example.com:s:$D/rsa644.pem\n", "", NULL);
	want = xasprintf("%s:3: key \"example\": %s: readable by group or "
			 "others (mode 0644); chmod 600 it", L.kt, key);
	assert_null(L.t);
	assert_int_equal(L.el.count, 1);
	if (strcmp(L.el.msgs[0], want) != 0)
		fail_msg("got \"%s\", want \"%s\"", L.el.msgs[0], want);
	free(want);
	free(key);
	unload(&L);
}

/* test_several_errors - one run reports every problem, each at its line */
static void
test_several_errors(void **state)
{
	static const char kt[] =
	    "good  example.com:s:$D/rsa.pem\n"
	    "bad1  example.com:s:$D/garbage.pem\n"
	    "bad2  example.com:sel\n"
	    "also  example.com:t:$D/garbage.pem\n"	/* same file, own error */
	    "good  example.com:u:$D/ed.pem\n";
	static const char st[] =
	    "*@example.com good bad1\n"
	    "*@example.net missing\n"
	    "@bad.example good\n";
	struct loaded L;

	(void) state;
	load(&L, kt, st, "alice@example.com\nkibuna kibuna@example.com\n");
	assert_null(L.t);
	if (L.el.count != 8 || !has_error(&L.el, L.kt, 2, "garbage.pem")
	    || !has_error(&L.el, L.kt, 3, "want domain:selector:keyfile")
	    || !has_error(&L.el, L.kt, 4, "garbage.pem: not a PEM")
	    || !has_error(&L.el, L.kt, 5, "already defined on line 1")
	    || !has_error(&L.el, L.st, 2, "unknown key \"missing\"")
	    || !has_error(&L.el, L.st, 3, "empty local part")
	    || !has_error(&L.el, L.lm, 1, "no login names")
	    || !has_error(&L.el, L.lm, 2, "bare user name")) {
		char   *all = errlist_join(&L.el);

		fail_msg("got %zu errors [%s], want 8: key table lines 2-5, "
			 "signing table lines 2-3, login map lines 1-2",
			 L.el.count, all);
	}
	unload(&L);
}

 /*
  * Permissions and key types.
  */

/* test_permissions - 0600 ok; 0640 refused when strict, allowed when not */
static void
test_permissions(void **state)
{
	struct dkim_tables_options lax = DKIM_TABLES_OPTIONS_INIT;
	struct errlist el = ERRLIST_INIT;
	struct loaded L;
	EVP_PKEY *pkey;
	char   *p;

	(void) state;
	load(&L, "k example.com:s:$D/rsa.pem\n", "", NULL);
	want_ok(&L);
	unload(&L);

	load(&L, "k example.com:s:$D/rsa640.pem\n", "", NULL);
	want_error(&L, L.kt, 1, "(mode 0640)");
	unload(&L);

	lax.strict_permissions = false;
	load_with(&L, "k example.com:s:$D/rsa640.pem\nj example.com:s:"
		  "$D/open/k.pem\n", "", NULL, "", &lax);
	want_ok(&L);
	unload(&L);

	/* A symlink to a good key in a closed directory is fine. */
	load(&L, "k example.com:s:$D/link.pem\n", "", NULL);
	want_ok(&L);
	unload(&L);

	/* The standalone reader applies the same rules. */
	p = dpath("rsa640.pem");
	pkey = dkim_tables_read_key(p, true, 1024, &el);
	assert_null(pkey);
	if (el.count != 1 || strncmp(el.msgs[0], p, strlen(p)) != 0
	    || strstr(el.msgs[0], "mode 0640") == NULL)
		fail_msg("got [%s], want \"%s: readable ... (mode 0640)...\"",
			 errlist_join(&el), p);
	errlist_free(&el);
	pkey = dkim_tables_read_key(p, false, 1024, &el);
	assert_non_null(pkey);
	assert_int_equal(el.count, 0);
	EVP_PKEY_free(pkey);
	free(p);
}

/* test_key_types - Ed25519 accepted; RSA minimum is configurable */
static void
test_key_types(void **state)
{
	struct dkim_tables_options opt = DKIM_TABLES_OPTIONS_INIT;
	struct errlist el = ERRLIST_INIT;
	struct loaded L;
	EVP_PKEY *pkey;
	char   *p;

	(void) state;
	load(&L, "ed example.com:ed:$D/ed.pem\n", "*@example.com ed\n", NULL);
	want_ok(&L);
	assert_int_equal(dkim_tables_key_at(L.t, 0)->alg,
			 DKIM_TABLES_ALG_ED25519_SHA256);
	assert_string_equal(dkim_tables_key_at(L.t, 0)->algorithm,
			    "ed25519-sha256");
	assert_int_equal(EVP_PKEY_get_base_id(dkim_tables_key_at(L.t, 0)->pkey),
			 EVP_PKEY_ED25519);
	unload(&L);

	/* 512 refused by default; allowed when the minimum is lowered. */
	opt.min_rsa_bits = 512;
	load_with(&L, "k example.com:s:$D/rsa512.pem\n", "", NULL, "", &opt);
	want_ok(&L);
	assert_int_equal(dkim_tables_key_at(L.t, 0)->bits, 512);
	unload(&L);

	/* 2048 refused when the minimum is 3072. */
	p = dpath("rsa.pem");
	pkey = dkim_tables_read_key(p, true, 3072, &el);
	assert_null(pkey);
	if (el.count != 1 || strstr(el.msgs[0], "2048 bits, below the "
				    "minimum of 3072") == NULL)
		fail_msg("got [%s], want 2048 < 3072", errlist_join(&el));
	errlist_free(&el);
	free(p);
}

 /*
  * Sender login map.
  */

#define LOGINMAP \
	"# Postfix smtpd_sender_login_maps, hash: source\n" \
	"alice@example.com    alice\n" \
	"@example.com         admin, postmaster\n" \
	"example.org          bob carol\n" \
	"Sales@Example.NET    Sales\n" \
	"    ,extra\n" \
	"  # an indented comment is still a comment\n" \
	"owner-list@example.net owner-list # '#' here is data in Postfix\n"

/* test_loginmap - lookup order, case rules, extensions */
static void
test_loginmap(void **state)
{
	static const struct {
		const char *name;
		const char *local, *domain, *login;
		bool	delim;		/* load with recipient_delimiter "+" */
		enum dkim_loginmap_result want;
		const char *key;	/* the key that decided, or NULL */
	} cases[] = {
		{"address entry, owner", "alice", "example.com", "alice", false,
		 DKIM_LOGINMAP_ALLOWED, "alice@example.com"},
		{"address entry wins over domain entry", "alice", "example.com",
		 "admin", false, DKIM_LOGINMAP_NOT_LISTED, "alice@example.com"},
		{"domain entry", "bob", "example.com", "admin", false,
		 DKIM_LOGINMAP_ALLOWED, "@example.com"},
		{"domain entry, second owner", "bob", "example.com",
		 "postmaster", false, DKIM_LOGINMAP_ALLOWED, "@example.com"},
		{"bare domain key", "x", "example.org", "carol", false,
		 DKIM_LOGINMAP_ALLOWED, "@example.org"},
		{"login not listed", "x", "example.org", "dave", false,
		 DKIM_LOGINMAP_NOT_LISTED, "@example.org"},
		{"no entry", "alice", "example.test", "alice", false,
		 DKIM_LOGINMAP_NO_ENTRY, NULL},
		{"bare domain is not its subdomains", "x", "sub.example.org",
		 "bob", false, DKIM_LOGINMAP_NO_ENTRY, NULL},
		{"uppercase address", "ALICE", "Example.COM", "alice", false,
		 DKIM_LOGINMAP_ALLOWED, "alice@example.com"},
		{"login is case-sensitive", "alice", "example.com", "Alice",
		 false, DKIM_LOGINMAP_NOT_LISTED, "alice@example.com"},
		{"owner as written", "sales", "example.net", "Sales", false,
		 DKIM_LOGINMAP_ALLOWED, "sales@example.net"},
		{"continuation line", "sales", "example.net", "extra", false,
		 DKIM_LOGINMAP_ALLOWED, "sales@example.net"},
		{"'#' inside a line is data", "owner-list", "example.net", "#",
		 false, DKIM_LOGINMAP_ALLOWED, "owner-list@example.net"},
		{"no login", "alice", "example.com", NULL, false,
		 DKIM_LOGINMAP_NOT_LISTED, "alice@example.com"},
		{"empty login", "alice", "example.com", "", false,
		 DKIM_LOGINMAP_NOT_LISTED, "alice@example.com"},
		{"extension without delimiter", "alice+news", "example.com",
		 "alice", false, DKIM_LOGINMAP_NOT_LISTED, "@example.com"},
		{"extension stripped", "alice+news", "example.com", "alice",
		 true, DKIM_LOGINMAP_ALLOWED, "alice@example.com"},
		{"leading delimiter is not an extension", "+x", "example.com",
		 "admin", true, DKIM_LOGINMAP_ALLOWED, "@example.com"},
		{"empty domain", "alice", "", "alice", false,
		 DKIM_LOGINMAP_NO_ENTRY, NULL},
	};
	struct dkim_tables_options opt = DKIM_TABLES_OPTIONS_INIT;
	struct loaded plain;
	struct loaded delim;

	(void) state;
	opt.recipient_delimiter = "+";
	load(&plain, "", "", LOGINMAP);
	want_ok(&plain);
	load_with(&delim, "", "", LOGINMAP, "", &opt);
	want_ok(&delim);
	assert_int_equal(dkim_loginmap_count(dkim_tables_loginmap(plain.t)), 5);

	for (size_t c = 0; c < NELEM(cases); c++) {
		const struct dkim_loginmap *map =
		    dkim_tables_loginmap(cases[c].delim ? delim.t : plain.t);
		const char *key = "unset";
		enum dkim_loginmap_result r;

		r = dkim_loginmap_check(map, cases[c].local, cases[c].domain,
					cases[c].login, &key);
		if (r != cases[c].want)
			fail_msg("%s: got %s, want %s", cases[c].name,
				 dkim_loginmap_result_name(r),
				 dkim_loginmap_result_name(cases[c].want));
		if ((key == NULL) != (cases[c].key == NULL)
		    || (key && strcmp(key, cases[c].key) != 0))
			fail_msg("%s: key got %s, want %s", cases[c].name,
				 key ? key : "(none)",
				 cases[c].key ? cases[c].key : "(none)");
		if (dkim_loginmap_allows(map, cases[c].local, cases[c].domain,
					 cases[c].login)
		    != (cases[c].want == DKIM_LOGINMAP_ALLOWED))
			fail_msg("%s: allows() disagrees with check()",
				 cases[c].name);
	}
	assert_int_equal(dkim_loginmap_check(NULL, "a", "example.com", "a", NULL),
			 DKIM_LOGINMAP_NO_ENTRY);
	unload(&plain);
	unload(&delim);
}

/* test_loginmap_errors - syntax problems, each at its line */
static void
test_loginmap_errors(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		unsigned line;
		const char *want;
	} cases[] = {
		{"bare user", "kibuna kibuna@example.com\n", 1,
		 "\"kibuna\": a bare user name"},
		{"no owners", "# x\nalice@example.com\n", 2,
		 "no login names after the address"},
		{"only commas", "alice@example.com , ,\n", 1,
		 "no login names"},
		{"duplicate", "@example.com a\nx@example.com b\n"
		 "@EXAMPLE.com c\n", 3, "\"@example.com\" is already listed on "
		 "line 1"},
		{"bare domain duplicates @domain", "@example.com a\n"
		 "example.com b\n", 2, "already listed on line 1"},
		{"continuation first", "  alice\n", 1, "no entry to continue"},
		{"two @", "a@b@example.com x\n", 1, "more than one @"},
		{"empty domain", "alice@ x\n", 1, "empty domain"},
	};

	(void) state;
	for (size_t c = 0; c < NELEM(cases); c++) {
		struct loaded L;

		load(&L, "", "", cases[c].text);
		if (L.t != NULL || !has_error(&L.el, L.lm, cases[c].line,
					      cases[c].want)) {
			char   *all = errlist_join(&L.el);

			fail_msg("%s: got [%s], want %s:%u: ...%s...",
				 cases[c].name, all, L.lm, cases[c].line,
				 cases[c].want);
		}
		unload(&L);
	}
}

/* test_loginmap_parse_direct - the parser on its own, NULL-safe API */
static void
test_loginmap_parse_direct(void **state)
{
	static const char text[] = "a@example.com a\n@example.com b";	/* no final \n */
	struct errlist el = ERRLIST_INIT;
	struct dkim_loginmap *map;

	(void) state;
	map = dkim_loginmap_parse("mem", text, sizeof(text) - 1, NULL, &el);
	assert_non_null(map);
	assert_int_equal(el.count, 0);
	assert_true(dkim_loginmap_allows(map, "z", "example.com", "b"));
	assert_false(dkim_loginmap_allows(map, "a", "example.com", "b"));
	assert_int_equal(dkim_loginmap_count(NULL), 0);
	assert_null(dkim_loginmap_free(map));
	assert_null(dkim_loginmap_free(NULL));
	assert_null(dkim_tables_free(NULL));
}

/* main - every test, in one group sharing the key files */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_keytable),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_empty_tables),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_details),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_percent_path),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_several_errors),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_loginmap),
		cmocka_unit_test(test_loginmap_errors),
		cmocka_unit_test(test_loginmap_parse_direct),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
