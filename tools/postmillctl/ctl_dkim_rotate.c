/*++
 * NAME
 *	ctl_dkim_rotate 3
 * SUMMARY
 *	postmillctl dkim rotate: replace a domain's key without a gap
 * SYNOPSIS
 *	postmillctl [-c config] dkim rotate --domain D [--key NAME]
 *		[--selector S] [--name NAME] [--algorithm rsa|ed25519]
 *		[--bits N] [--overlap TIME] [--now UNIXTIME]
 *	postmillctl [-c config] dkim rotate --continue [--overlap TIME]
 *		[--now UNIXTIME] [DOMAIN...]
 *	postmillctl [-c config] dkim rotate --status [--domain D]
 * DESCRIPTION
 *	A resumable state machine, one record per domain in
 *	KEYTABLE.rotation (format: dkim_rotate.h). Each run does the next
 *	step whose condition holds, and nothing else:
 *
 *	start (no rotation in progress for D): make a key like the domain's
 *	current one (or --algorithm; RSA --bits, default 2048) in the same
 *	directory (0600, owned by run_user), choose a selector (s + the UTC
 *	date, made unique, or --selector), record the rotation, add the key
 *	to the key table right after the old one, print the TXT record.
 *	The signing table is not changed: nothing signs with the new key
 *	before verifiers can find it.
 *
 *	publish: when DNS ("dkim check") shows the new record, add the new
 *	key next to the old one on every signing table line naming the old
 *	key, reload postmill-dkim (SIGHUP to the pid in dkim_pid_file) and
 *	record the start of the overlap. Until then: print what is missing,
 *	change nothing, exit 1.
 *
 *	overlap: once --overlap (default dkim_rotate_overlap) has passed,
 *	and DNS still shows the new record, remove the old key from the
 *	signing table, then from the key table, reload, and print the
 *	revoked record to publish at the old selector. The overlap should
 *	exceed Postfix's maximal_queue_lifetime, so that no message signed
 *	with the old key alone is still queued once its record goes.
 *
 *	Every table edit goes through a temporary file in the table's
 *	directory, with the table's mode and owner, that must load as
 *	postmill-dkim loads it (dkim_tables_load(), the other table being
 *	the current one) before rename(2) replaces the table; lines that are
 *	not edited, and comments, stay byte for byte. Every intermediate
 *	state is one postmill-dkim can load, and each step checks the tables
 *	against the record first, so a run that was interrupted resumes, and
 *	tables edited in a way the rotation does not expect are refused with
 *	the line at fault. Runs are serialised by flock(2) on the key
 *	table's directory.
 *
 *	--continue advances the rotations in progress (of the DOMAINs given,
 *	or all) and never starts one: the systemd timer runs that.
 *	--status prints each rotation's phase, without DNS queries.
 *	--now replaces the clock (tests; Unix seconds).
 * EXIT STATUS
 *	0 when each rotation did its step or waits for the overlap to end,
 *	1 when a record is not published yet or something was refused,
 *	2 on usage errors.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "addr.h"
#include "cfg_common.h"
#include "ctl.h"
#include "ctl_dkim.h"
#include "dkim_conf.h"
#include "dkim_rotate.h"
#include "dkim_sign.h"
#include "dkim_tables.h"
#include "xalloc.h"

#define ROT_TABLE_MAX	(64 * 1024 * 1024)	/* as dkim_tables.c reads */

struct rot_ctx {
	const char     *config_path;
	const struct common_conf *common;
	const struct dkim_conf *conf;
	struct dkim_tables_options topt;
	const char     *kt_path;	/* key table without file:/refile: */
	const char     *st_path;	/* signing table, the same */
	char	       *state_path;	/* KEYTABLE.rotation */
	struct dkim_rotate_state state;
	long long	now;		/* Unix seconds */
	long long	overlap;	/* seconds */
	struct dns_resolver *res;	/* made on first use */
};

/* what "start" may be told */
struct rot_start_opts {
	const char     *key;
	const char     *selector;
	const char     *name;
	const char     *algorithm;
	long		bits;
};

 /*
  * Files.
  */

/* rot_table_path - strip OpenDKIM's file: or refile: (dkim_tables accepts only those) */
static const char *
rot_table_path(const char *spec)
{
	if (strncmp(spec, "file:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "refile:", 7) == 0)
		return spec + 7;
	return spec;
}

/* rot_slurp - a whole file; NULL (errno set) on error */
static char *
rot_slurp(const char *path, size_t *len, struct stat *st)
{
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char   *buf;
	size_t	got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, st) < 0) {
		int	e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st->st_mode) || st->st_size > ROT_TABLE_MAX) {
		close(fd);
		errno = S_ISREG(st->st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	buf = xmalloc((size_t)st->st_size + 1);
	while (got < (size_t)st->st_size) {
		ssize_t	n = read(fd, buf + got, (size_t)st->st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* rot_load - the tables as postmill-dkim loads them; NULL after printing why */
static struct dkim_tables *
rot_load(const struct rot_ctx *c, const char *key_table, const char *signing_table,
	 const char *what)
{
	struct errlist el = ERRLIST_INIT;
	struct dkim_tables *t;

	t = dkim_tables_load(key_table, signing_table, c->conf->sender_login_map,
			     &c->topt, &el);
	if (t == NULL) {
		if (what != NULL)
			fprintf(stderr, "postmillctl: %s would not load; nothing replaced:\n", what);
		errlist_print(&el, stderr);
	}
	errlist_free(&el);
	return t;
}

/* rot_fsync_dir - make a rename durable */
static void
rot_fsync_dir(const char *path)
{
	char   *dir = xstrdup(path);
	char   *slash = strrchr(dir, '/');
	int	fd;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

enum rot_which { ROT_KEYTAB, ROT_SIGNTAB, ROT_STATE };

/*
 * rot_replace - write TEXT to a temporary file beside PATH with ORIG's mode
 * and owner (or 0644 for a new state file), check that the tables load with
 * it, check that PATH did not change meanwhile, rename it over PATH.
 */
static int
rot_replace(const struct rot_ctx *c, const char *path, const struct stat *orig,
	    const char *text, size_t len, enum rot_which which)
{
	char   *tmp, *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	size_t	off = 0;
	int	fd;
	struct stat now;

	if (slash != NULL)
		*slash = '\0';
	tmp = xasprintf("%s/.%s.rotate.XXXXXX", slash ? (*dir ? dir : "/") : ".", base);
	free(dir);
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		ssize_t	n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != len || fchmod(fd, orig ? orig->st_mode & 07777 : 0644) < 0
	    || (orig && geteuid() == 0 && fchown(fd, orig->st_uid, orig->st_gid) < 0)
	    || fsync(fd) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);
	if (which != ROT_STATE) {
		const char *spec = which == ROT_KEYTAB ? c->conf->key_table : c->conf->signing_table;
		const char *prefix = strncmp(spec, "refile:", 7) == 0 ? "refile:" : "";
		char   *tspec = xasprintf("%s%s", prefix, tmp);
		char   *what = xasprintf("the edited %s", path);
		struct dkim_tables *t;

		t = rot_load(c, which == ROT_KEYTAB ? tspec : c->conf->key_table,
			     which == ROT_SIGNTAB ? tspec : c->conf->signing_table, what);
		free(tspec);
		free(what);
		if (t == NULL)
			goto fail;
		dkim_tables_free(t);
	}
	/* someone else's edit since we read the file must not be lost */
	if (orig != NULL && (stat(path, &now) < 0 || now.st_ino != orig->st_ino
			     || now.st_size != orig->st_size
			     || now.st_mtim.tv_sec != orig->st_mtim.tv_sec
			     || now.st_mtim.tv_nsec != orig->st_mtim.tv_nsec)) {
		fprintf(stderr, "postmillctl: %s changed while we edited it; "
			"nothing replaced, run again\n", path);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "postmillctl: rename %s to %s: %s\n", tmp, path, strerror(errno));
		goto fail;
	}
	rot_fsync_dir(path);
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return -1;
}

/* rot_save_state - write the state file */
static int
rot_save_state(struct rot_ctx *c)
{
	struct stat st;
	size_t	len;
	char   *text = dkim_rotate_format(&c->state, &len);
	int	rc;

	/* the state file is ours: no concurrent-edit check, keep its mode */
	if (stat(c->state_path, &st) == 0) {
		st.st_mode &= 07777;
		rc = rot_replace(c, c->state_path, NULL, text, len, ROT_STATE);
		if (rc == 0)
			(void)chmod(c->state_path, st.st_mode);
	} else {
		rc = rot_replace(c, c->state_path, NULL, text, len, ROT_STATE);
	}
	free(text);
	return rc;
}

/* rot_reload - SIGHUP to postmill-dkim's supervisor, when it runs (or to
 * postmill-suite's, when the operator points dkim_pid_file at the suite
 * that hosts the dkim module) */
static void
rot_reload(const struct rot_ctx *c)
{
	const char *pf = c->conf->pid_file;
	char	buf[64], comm[64] = "postmill-dkim", proc[64], *end;
	struct stat st;
	size_t	len;
	char   *text;
	long	pid;
	FILE   *fp;

	if (pf == NULL) {
		printf("# dkim_pid_file is empty: reload postmill-dkim yourself (SIGHUP)\n");
		return;
	}
	if ((text = rot_slurp(pf, &len, &st)) == NULL) {
		printf("# postmill-dkim is not running (%s: %s): it reads the tables when it starts\n",
		       pf, strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), text);
	free(text);
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || pid <= 1 || end == buf || (*end != '\0' && *end != '\n')) {
		printf("# %s holds no pid: reload postmill-dkim yourself (SIGHUP)\n", pf);
		return;
	}
	/* a stale pid file must not make us signal some other process */
	snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
	if ((fp = fopen(proc, "r")) != NULL) {
		bool	ours = fgets(comm, sizeof(comm), fp) != NULL
		    && (strncmp(comm, "postmill-dkim", 13) == 0
			|| strncmp(comm, "postmill-suite", 14) == 0);

		fclose(fp);
		comm[strcspn(comm, "\n")] = '\0';
		if (!ours) {
			printf("# pid %ld of %s is not postmill-dkim (stale pid file): "
			       "not signalled\n", pid, pf);
			return;
		}
	}
	if (kill((pid_t)pid, SIGHUP) < 0) {
		printf("# postmill-dkim (pid %ld) not signalled: %s; reload it yourself\n",
		       pid, strerror(errno));
		return;
	}
	printf("# reloaded %s (SIGHUP to pid %ld)\n", comm, pid);
}

 /*
  * Keys.
  */

/* rot_spki - "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo */
static int
rot_spki(EVP_PKEY *pkey, char *out, size_t outlen)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int	n = i2d_PUBKEY(pkey, &der);
	size_t	p;

	if (n <= 0 || !EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)
	    || outlen < sizeof(DKIM_ROTATE_SPKI_PREFIX) + 2 * (size_t)mdlen) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	p = (size_t)snprintf(out, outlen, "%s", DKIM_ROTATE_SPKI_PREFIX);
	for (unsigned i = 0; i < mdlen; i++)
		p += (size_t)snprintf(out + p, outlen - p, "%02x", md[i]);
	return 0;
}

/* rot_new_key_ok - does the table entry hold the key the rotation made */
static bool
rot_new_key_ok(const struct dkim_rotate_rec *r, const struct dkim_tables_key *k,
	       const char **why)
{
	char	spki[80];

	if (strcmp(k->domain, r->domain) != 0 || strcasecmp(k->selector, r->new_selector) != 0) {
		*why = "its domain or selector differs from the rotation's";
		return false;
	}
	if (strcmp(k->path, r->new_path) != 0) {
		*why = "its key file differs from the rotation's";
		return false;
	}
	if (rot_spki(k->pkey, spki, sizeof(spki)) < 0 || strcmp(spki, r->new_spki) != 0) {
		*why = "its key file holds another key than the one the rotation made";
		return false;
	}
	return true;
}

/* rot_write_key - a new private key file, 0600, owned by run_user */
static int
rot_write_key(const struct rot_ctx *c, EVP_PKEY *pkey, const char *path)
{
	uid_t	uid;
	gid_t	gid;
	FILE   *fp;
	int	fd;

	if (ctl_dkim_owner(NULL, c->config_path, &uid, &gid) < 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL
	    || !PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL)
	    || fflush(fp) != 0 || fsync(fd) < 0 || fclose(fp) != 0) {
		fprintf(stderr, "postmillctl: %s: cannot write the key\n", path);
		unlink(path);
		return -1;
	}
	if (uid != (uid_t)-1 && chown(path, uid, gid) < 0) {
		fprintf(stderr, "postmillctl: chown %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	rot_fsync_dir(path);
	return 0;
}

/* rot_dnscheck - is the new key published; prints the outcome */
static bool
rot_dnscheck(struct rot_ctx *c, const struct dkim_rotate_rec *r, EVP_PKEY *pkey)
{
	struct dkim_dnscheck_result res;
	char	st[32], *rec;
	bool	ok;

	if (c->res == NULL && (c->res = ctl_dkim_resolver(c->common)) == NULL)
		return false;
	ctl_dkim_dnscheck_key(c->res, r->domain, r->new_selector, pkey, &res, &rec);
	ctl_dkim_status_word(res.status, st, sizeof(st));
	printf("%s: %s._domainkey.%s: %s: %s\n", r->domain, r->new_selector, r->domain,
	       st, res.reason);
	ok = rec != NULL && res.status == DKIM_DNSCHECK_MATCH;
	if (!ok && rec != NULL) {
		printf("# the new key's record is not published (as dkim check sees it); "
		       "nothing changed. Publish:\n");
		ctl_dkim_print_txt(r->new_selector, r->domain, rec);
	}
	free(rec);
	return ok;
}

/* rot_duration - "6d 23h 59m" */
static void
rot_duration(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd %lldh %lldm", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldm %llds", s / 60, s % 60);
}

 /*
  * The steps.
  */

/* rot_check_old - the old key's entry, if any, is the one recorded */
static int
rot_check_old(const struct dkim_rotate_rec *r, const struct dkim_tables_key *old)
{
	if (old != NULL && (strcmp(old->domain, r->domain) != 0
			    || strcasecmp(old->selector, r->old_selector) != 0)) {
		fprintf(stderr, "postmillctl: %s: key table line %u: key \"%s\" is now %s:%s, "
			"the rotation recorded %s:%s; refusing to go on (fix the key table, "
			"or remove the domain's line from the state file to abandon the rotation)\n",
			r->domain, old->line, r->old_key, old->domain, old->selector,
			r->domain, r->old_selector);
		return -1;
	}
	return 0;
}

/* rot_read_signtab - the signing table text and its stat */
static char *
rot_read_table(const char *path, size_t *len, struct stat *st)
{
	char   *text = rot_slurp(path, len, st);

	if (text == NULL)
		fprintf(stderr, "postmillctl: %s: %s\n", path, strerror(errno));
	return text;
}

/* rot_publish - the new record published? then sign with both */
static int
rot_publish(struct rot_ctx *c, struct dkim_rotate_rec *r)
{
	struct dkim_tables *t = rot_load(c, c->conf->key_table, c->conf->signing_table, NULL);
	const struct dkim_tables_key *old, *nk;
	struct dkim_rotate_scan sc;
	struct stat st;
	const char *why;
	char   *text = NULL, *edit;
	size_t	len, elen, changed = 0;
	int	rc = 1;

	if (t == NULL)
		return 1;
	old = dkim_tables_key_find(t, r->old_key);
	nk = dkim_tables_key_find(t, r->new_key);
	if (old == NULL) {
		fprintf(stderr, "postmillctl: %s: the old key \"%s\" is no longer in %s, but the "
			"rotation has not started signing with \"%s\"; refusing to go on\n",
			r->domain, r->old_key, c->kt_path, r->new_key);
		goto out;
	}
	if (rot_check_old(r, old) < 0)
		goto out;
	if (nk == NULL) {
		/* interrupted between writing the state and the key table: resume */
		struct errlist el = ERRLIST_INIT;
		EVP_PKEY *pkey = dkim_tables_read_key(r->new_path, c->topt.strict_permissions,
						      c->topt.min_rsa_bits, &el);
		char	spki[80], *line;

		errlist_free(&el);

		if (pkey == NULL || rot_spki(pkey, spki, sizeof(spki)) < 0
		    || strcmp(spki, r->new_spki) != 0) {
			fprintf(stderr, "postmillctl: %s: the new key \"%s\" is not in %s and %s "
				"does not hold the key the rotation made; refusing to go on\n",
				r->domain, r->new_key, c->kt_path, r->new_path);
			EVP_PKEY_free(pkey);
			goto out;
		}
		EVP_PKEY_free(pkey);
		if ((text = rot_read_table(c->kt_path, &len, &st)) == NULL)
			goto out;
		line = xasprintf("%s %s:%s:%s", r->new_key, r->domain, r->new_selector, r->new_path);
		edit = dkim_rotate_keytab_insert(text, len, r->old_key, line, &elen);
		free(line);
		if (rot_replace(c, c->kt_path, &st, edit, elen, ROT_KEYTAB) < 0) {
			free(edit);
			goto out;
		}
		free(edit);
		free(text);
		text = NULL;
		printf("%s: key table: added \"%s\" again (an earlier run was interrupted)\n",
		       r->domain, r->new_key);
		dkim_tables_free(t);
		if ((t = rot_load(c, c->conf->key_table, c->conf->signing_table, NULL)) == NULL)
			return 1;
		nk = dkim_tables_key_find(t, r->new_key);
	}
	if (nk == NULL || !rot_new_key_ok(r, nk, &why)) {
		fprintf(stderr, "postmillctl: %s: key table line %u: key \"%s\": %s; refusing to go on\n",
			r->domain, nk ? nk->line : 0, r->new_key, nk ? why : "missing");
		goto out;
	}
	if ((text = rot_read_table(c->st_path, &len, &st)) == NULL)
		goto out;
	dkim_rotate_signtab_scan(text, len, r->old_key, r->new_key, &sc);
	if (sc.new_only > 0) {
		fprintf(stderr, "postmillctl: %s: %s line %u names the new key \"%s\" without \"%s\": "
			"the rotation adds the new key itself once its record is published; "
			"refusing to go on\n", r->domain, c->st_path, sc.first_new_only,
			r->new_key, r->old_key);
		goto out;
	}
	if (sc.old_only == 0 && sc.both == 0) {
		fprintf(stderr, "postmillctl: %s: no line of %s names the old key \"%s\" any more: "
			"nothing to sign with both keys; refusing to go on\n", r->domain,
			c->st_path, r->old_key);
		goto out;
	}
	if (!rot_dnscheck(c, r, nk->pkey))
		goto out;
	if (sc.old_only > 0) {
		edit = dkim_rotate_signtab_add(text, len, r->old_key, r->new_key, &elen, &changed);
		if (rot_replace(c, c->st_path, &st, edit, elen, ROT_SIGNTAB) < 0) {
			free(edit);
			goto out;
		}
		free(edit);
	}
	r->phase = DKIM_ROTATE_OVERLAP;
	r->dual_since = c->now;
	if (rot_save_state(c) < 0)
		goto out;
	{
		char	at[32], in[48];

		dkim_rotate_time_format(r->dual_since + c->overlap, at, sizeof(at));
		rot_duration(c->overlap, in, sizeof(in));
		printf("%s: overlap: signing with \"%s\" (s=%s) and \"%s\" (s=%s): "
		       "%zu signing table line%s changed\n", r->domain, r->old_key,
		       r->old_selector, r->new_key, r->new_selector, changed,
		       changed == 1 ? "" : "s");
		rot_reload(c);
		printf("# the old key is retired after the overlap (%s): run again at %s or later\n",
		       in, at);
	}
	rc = 0;
out:
	free(text);
	dkim_tables_free(t);
	return rc;
}

/* rot_retire - after the overlap: remove the old key everywhere */
static int
rot_retire(struct rot_ctx *c, struct dkim_rotate_rec *r)
{
	struct dkim_tables *t;
	const struct dkim_tables_key *old, *nk;
	struct dkim_rotate_scan sc;
	struct stat st;
	const char *why;
	char   *text = NULL, *edit, *old_path = NULL, *revoked = NULL;
	size_t	len, elen, lines = 0, keylines = 0;
	unsigned line;
	int	rc = 1;

	if (c->now < r->dual_since + c->overlap) {
		char	at[32], since[32], in[48];

		dkim_rotate_time_format(r->dual_since, since, sizeof(since));
		dkim_rotate_time_format(r->dual_since + c->overlap, at, sizeof(at));
		rot_duration(r->dual_since + c->overlap - c->now, in, sizeof(in));
		printf("%s: overlap: signing with \"%s\" and \"%s\" since %s; the old key is "
		       "retired at %s or later (in %s)\n", r->domain, r->old_key, r->new_key,
		       since, at, in);
		return 0;
	}
	if ((t = rot_load(c, c->conf->key_table, c->conf->signing_table, NULL)) == NULL)
		return 1;
	old = dkim_tables_key_find(t, r->old_key);
	nk = dkim_tables_key_find(t, r->new_key);
	if (rot_check_old(r, old) < 0)
		goto out;
	if (nk == NULL || !rot_new_key_ok(r, nk, &why)) {
		fprintf(stderr, "postmillctl: %s: key table%s%.0u: key \"%s\": %s; refusing to "
			"retire the old key\n", r->domain, nk ? " line " : "", nk ? nk->line : 0,
			r->new_key, nk ? why : "missing");
		goto out;
	}
	if ((text = rot_read_table(c->st_path, &len, &st)) == NULL)
		goto out;
	dkim_rotate_signtab_scan(text, len, r->old_key, r->new_key, &sc);
	if (sc.old_only > 0) {
		fprintf(stderr, "postmillctl: %s: %s line %u names the old key \"%s\" without the "
			"new one \"%s\": retiring the old key would leave that mail unsigned; "
			"refusing to go on (add \"%s\" to that line, or remove \"%s\")\n",
			r->domain, c->st_path, sc.first_old_only, r->old_key, r->new_key,
			r->new_key, r->old_key);
		goto out;
	}
	if (sc.both == 0 && sc.new_only == 0) {
		fprintf(stderr, "postmillctl: %s: no line of %s names the new key \"%s\"; "
			"refusing to go on\n", r->domain, c->st_path, r->new_key);
		goto out;
	}
	/* never leave mail with a signature nobody can verify */
	if (!rot_dnscheck(c, r, nk->pkey)) {
		printf("# not retiring \"%s\" while the new record is not published\n", r->old_key);
		goto out;
	}
	if (old != NULL) {
		old_path = xstrdup(old->path);
		/* the old record's k=, an empty p= */
		revoked = xasprintf("v=DKIM1; k=%s; p=",
				    old->alg == DKIM_TABLES_ALG_RSA_SHA256 ? "rsa" : "ed25519");
	}
	if (sc.both > 0) {
		if ((edit = dkim_rotate_signtab_drop(text, len, r->old_key, &elen, &lines, &why,
						     &line)) == NULL) {
			fprintf(stderr, "postmillctl: %s: %s line %u: %s\n", r->domain, c->st_path,
				line, why);
			goto out;
		}
		if (rot_replace(c, c->st_path, &st, edit, elen, ROT_SIGNTAB) < 0) {
			free(edit);
			goto out;
		}
		free(edit);
	}
	free(text);
	text = NULL;
	if (old != NULL) {
		if ((text = rot_read_table(c->kt_path, &len, &st)) == NULL)
			goto out;
		edit = dkim_rotate_keytab_remove(text, len, r->old_key, &elen, &keylines);
		if (rot_replace(c, c->kt_path, &st, edit, elen, ROT_KEYTAB) < 0) {
			free(edit);
			goto out;
		}
		free(edit);
	}
	r->phase = DKIM_ROTATE_DONE;
	r->done = c->now;
	if (rot_save_state(c) < 0)
		goto out;
	printf("%s: done: key \"%s\" (s=%s) removed from the signing table (%zu line%s) and "
	       "the key table (%zu line%s); mail is signed with \"%s\" (s=%s)\n", r->domain,
	       r->old_key, r->old_selector, lines, lines == 1 ? "" : "s", keylines,
	       keylines == 1 ? "" : "s", r->new_key, r->new_selector);
	rot_reload(c);
	/*
	 * An empty p= says "revoked" (RFC 6376 section 3.6.1): a verifier of
	 * an old message learns the key was withdrawn on purpose rather than
	 * lost to a DNS error, and the selector stays visibly taken.
	 */
	printf("# the old selector's record can go: replace it with this revoked record "
	       "(empty p=, RFC 6376 section 3.6.1), and delete it later:\n");
	ctl_dkim_print_txt(r->old_selector, r->domain, revoked ? revoked : "v=DKIM1; p=");
	if (old_path != NULL)
		printf("# the old private key %s is no longer used; delete it when you no longer "
		       "need it\n", old_path);
	rc = 0;
out:
	free(text);
	free(old_path);
	free(revoked);
	dkim_tables_free(t);
	return rc;
}

/* rot_selector_taken - a selector of some key of the domain, or the old one */
static bool
rot_selector_taken(const struct dkim_tables *t, const char *domain, const char *sel,
		   const struct dkim_rotate_rec *prev)
{
	for (size_t i = 0; i < dkim_tables_key_count(t); i++) {
		const struct dkim_tables_key *k = dkim_tables_key_at(t, i);

		if (strcmp(k->domain, domain) == 0 && strcasecmp(k->selector, sel) == 0)
			return true;
	}
	/* the last rotation's old selector may still be published, revoked */
	return prev != NULL && strcasecmp(prev->old_selector, sel) == 0;
}

/* rot_start - a new key and selector; the signing table is left alone */
static int
rot_start(struct rot_ctx *c, const char *domain, const struct rot_start_opts *o)
{
	struct dkim_tables *t = rot_load(c, c->conf->key_table, c->conf->signing_table, NULL);
	const struct dkim_tables_key *old = NULL;
	struct dkim_rotate_rec *prev = dkim_rotate_find(&c->state, domain);
	struct dkim_rotate_rec r;
	struct dkim_rotate_scan sc;
	EVP_PKEY *pkey = NULL;
	struct dkim_key *dk = NULL;
	struct stat st;
	const char *why;
	char	selector[300], spki[80], *name = NULL, *path = NULL, *dir = NULL;
	char   *text = NULL, *edit, *line, *rec;
	size_t	len, elen, nkeys = 0;
	bool	rsa;
	int	rc = 1;

	if (t == NULL)
		return 1;
	for (size_t i = 0; i < dkim_tables_key_count(t); i++) {
		const struct dkim_tables_key *k = dkim_tables_key_at(t, i);

		if (strcmp(k->domain, domain) != 0)
			continue;
		nkeys++;
		if (o->key ? strcmp(k->name, o->key) == 0 : nkeys == 1)
			old = k;
	}
	if (nkeys == 0 || (o->key != NULL && old == NULL)) {
		fprintf(stderr, "postmillctl: %s: %s%s%s in %s\n", domain,
			o->key ? "no key \"" : "no key for the domain", o->key ? o->key : "",
			o->key ? "\" for the domain" : "", c->kt_path);
		goto out;
	}
	if (nkeys > 1 && o->key == NULL) {
		fprintf(stderr, "postmillctl: %s has %zu keys in %s; say which to rotate with "
			"--key:", domain, nkeys, c->kt_path);
		for (size_t i = 0; i < dkim_tables_key_count(t); i++)
			if (strcmp(dkim_tables_key_at(t, i)->domain, domain) == 0)
				fprintf(stderr, " %s", dkim_tables_key_at(t, i)->name);
		fprintf(stderr, "\n");
		goto out;
	}
	if ((text = rot_read_table(c->st_path, &len, &st)) == NULL)
		goto out;
	if (strcmp(old->name, domain) == 0) {
		dkim_rotate_signtab_scan(text, len, "%", ":", &sc);
		if (sc.old_only > 0) {
			fprintf(stderr, "postmillctl: %s: line %u of %s signs with key \"%%\" (the "
				"key named after the From domain, here \"%s\"): a rotation cannot add "
				"a second key there; name the key on its own line first\n", domain,
				sc.first_old_only, c->st_path, old->name);
			goto out;
		}
	}
	dkim_rotate_signtab_scan(text, len, old->name, ":", &sc);
	if (sc.old_only + sc.both == 0) {
		fprintf(stderr, "postmillctl: %s: key \"%s\" is not named in %s: it signs nothing, "
			"there is nothing to rotate\n", domain, old->name, c->st_path);
		goto out;
	}
	free(text);
	text = NULL;

	/* the selector: given, or "s" and the date, made unique */
	if (o->selector != NULL) {
		if (!ctl_dkim_name_ok(o->selector) || strlen(o->selector) >= sizeof(selector)) {
			fprintf(stderr, "postmillctl: bad selector \"%s\"\n", o->selector);
			rc = 2;
			goto out;
		}
		if (rot_selector_taken(t, domain, o->selector, prev)) {
			fprintf(stderr, "postmillctl: %s: selector \"%s\" is in use; choose another\n",
				domain, o->selector);
			goto out;
		}
		snprintf(selector, sizeof(selector), "%s", o->selector);
	} else {
		char	date[32];
		int	n;

		dkim_rotate_time_format(c->now, date, sizeof(date));
		for (n = 1; n < 100; n++) {
			snprintf(selector, sizeof(selector), n == 1 ? "s%.4s%.2s%.2s" :
				 "s%.4s%.2s%.2s-%d", date, date + 5, date + 8, n);
			if (!rot_selector_taken(t, domain, selector, prev))
				break;
		}
		if (n == 100) {
			fprintf(stderr, "postmillctl: %s: no free selector for today; use --selector\n",
				domain);
			goto out;
		}
	}
	name = o->name ? xstrdup(o->name) : xasprintf("%s-%s", domain, selector);
	if (!dkim_rotate_name_ok(name, strlen(name))) {
		fprintf(stderr, "postmillctl: bad key name \"%s\"\n", name);
		rc = 2;
		goto out;
	}
	if (dkim_tables_key_find(t, name) != NULL) {
		fprintf(stderr, "postmillctl: %s: key name \"%s\" is already in %s; use --name\n",
			domain, name, c->kt_path);
		goto out;
	}
	dir = xstrdup(old->path);
	*strrchr(dir, '/') = '\0';		/* the key table wants /, ./ or ../ */
	path = xasprintf("%s/%s.pem", dir, name);
	for (const char *p = path; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '#' || *p == '%') {
			fprintf(stderr, "postmillctl: %s: the key file name would hold a blank, '#', "
				"'%%' or a non-ASCII byte; use --name\n", path);
			goto out;
		}
	}
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "postmillctl: %s exists; use --selector or --name\n", path);
		goto out;
	}

	/* the key: the old key's algorithm unless told otherwise */
	rsa = o->algorithm ? strcasecmp(o->algorithm, "rsa") == 0
	    : old->alg == DKIM_TABLES_ALG_RSA_SHA256;
	if (o->algorithm && !rsa && strcasecmp(o->algorithm, "ed25519") != 0) {
		fprintf(stderr, "postmillctl: --algorithm must be rsa or ed25519\n");
		rc = 2;
		goto out;
	}
	if (rsa && (o->bits < 1024 || o->bits > 8192 || o->bits < c->topt.min_rsa_bits)) {
		fprintf(stderr, "postmillctl: --bits must be %ld..8192 (2048 recommended)\n",
			c->topt.min_rsa_bits > 1024 ? c->topt.min_rsa_bits : 1024);
		rc = 2;
		goto out;
	}
	pkey = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)o->bits)
	    : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL || (dk = dkim_key_from_pkey(pkey, &why)) == NULL
	    || rot_spki(pkey, spki, sizeof(spki)) < 0) {
		fprintf(stderr, "postmillctl: key generation failed\n");
		goto out;
	}
	if (rot_write_key(c, pkey, path) < 0)
		goto out;

	/* record first: an interrupted run resumes from the record */
	memset(&r, 0, sizeof(r));
	r.domain = (char *)domain;
	r.phase = DKIM_ROTATE_PUBLISH;
	r.old_key = (char *)old->name;
	r.old_selector = (char *)old->selector;
	r.new_key = name;
	r.new_selector = selector;
	r.new_path = path;
	r.new_spki = spki;
	r.started = c->now;
	dkim_rotate_put(&c->state, &r);
	if (rot_save_state(c) < 0)
		goto out;
	if ((text = rot_read_table(c->kt_path, &len, &st)) == NULL)
		goto out;
	line = xasprintf("%s %s:%s:%s", name, domain, selector, path);
	edit = dkim_rotate_keytab_insert(text, len, old->name, line, &elen);
	if (rot_replace(c, c->kt_path, &st, edit, elen, ROT_KEYTAB) < 0) {
		fprintf(stderr, "postmillctl: %s: the rotation is recorded; run again to retry\n",
			domain);
		free(edit);
		free(line);
		goto out;
	}
	free(edit);
	rec = dkim_key_dns_record(dk);
	printf("%s: publish: rotating key \"%s\" (s=%s) to \"%s\" (s=%s)\n", domain, old->name,
	       old->selector, name, selector);
	printf("# %s key (%d bits) written to %s (mode 0600)\n", dkim_key_algorithm(dk),
	       dkim_key_bits(dk), path);
	printf("# key table: added \"%s\"; the signing table is unchanged until the record "
	       "is published\n", line);
	printf("# publish this TXT record, then run \"postmillctl dkim rotate --domain %s\" "
	       "again:\n", domain);
	ctl_dkim_print_txt(selector, domain, rec);
	free(rec);
	free(line);
	rc = 0;
out:
	free(text);
	free(name);
	free(path);
	free(dir);
	dkim_key_free(dk);
	EVP_PKEY_free(pkey);
	dkim_tables_free(t);
	return rc;
}

/* rot_advance - the next step of a rotation in progress */
static int
rot_advance(struct rot_ctx *c, struct dkim_rotate_rec *r)
{
	switch (r->phase) {
	case DKIM_ROTATE_PUBLISH:
		return rot_publish(c, r);
	case DKIM_ROTATE_OVERLAP:
		return rot_retire(c, r);
	case DKIM_ROTATE_DONE:
		break;
	}
	return 0;
}

/* rot_status - one line per rotation */
static int
rot_status(struct rot_ctx *c, const char *domain)
{
	size_t	shown = 0;

	for (size_t i = 0; i < c->state.count; i++) {
		const struct dkim_rotate_rec *r = &c->state.recs[i];
		char	t1[32], t2[32];

		if (domain != NULL && strcasecmp(domain, r->domain) != 0)
			continue;
		shown++;
		printf("%s: %s: \"%s\" (s=%s) -> \"%s\" (s=%s); ", r->domain,
		       dkim_rotate_phase_name(r->phase), r->old_key, r->old_selector,
		       r->new_key, r->new_selector);
		dkim_rotate_time_format(r->started, t1, sizeof(t1));
		switch (r->phase) {
		case DKIM_ROTATE_PUBLISH:
			printf("key made %s; waiting for %s._domainkey.%s in DNS\n", t1,
			       r->new_selector, r->domain);
			break;
		case DKIM_ROTATE_OVERLAP:
			dkim_rotate_time_format(r->dual_since, t1, sizeof(t1));
			dkim_rotate_time_format(r->dual_since + c->overlap, t2, sizeof(t2));
			printf("signing with both since %s; the old key is retired at %s or later\n",
			       t1, t2);
			break;
		case DKIM_ROTATE_DONE:
			dkim_rotate_time_format(r->done, t2, sizeof(t2));
			printf("the old key was retired at %s\n", t2);
			break;
		}
	}
	if (shown == 0)
		printf("no rotation%s%s recorded in %s\n", domain ? " of " : "",
		       domain ? domain : "", c->state_path);
	return 0;
}

/* rot_usage - a usage error */
static int
rot_usage(void)
{
	fprintf(stderr, "usage: postmillctl dkim rotate --domain D [--key NAME] [--selector S] "
		"[--name NAME] [--algorithm rsa|ed25519] [--bits N] [--overlap TIME]\n"
		"       postmillctl dkim rotate --continue [--overlap TIME] [DOMAIN...]\n"
		"       postmillctl dkim rotate --status [--domain D]\n");
	return 2;
}

/* ctl_dkim_rotate - parse options, lock, run the steps */
int
ctl_dkim_rotate(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"selector", required_argument, NULL, 's'},
		{"name", required_argument, NULL, 'n'},
		{"algorithm", required_argument, NULL, 'a'},
		{"bits", required_argument, NULL, 'b'},
		{"overlap", required_argument, NULL, 'o'},
		{"now", required_argument, NULL, 'N'},
		{"status", no_argument, NULL, 'S'},
		{"continue", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	struct rot_start_opts so = {NULL, NULL, NULL, NULL, 2048};
	struct rot_ctx c;
	const char *domain_arg = NULL, *overlap = NULL, *why;
	char   *domain = NULL, *text, *dir = NULL, *slash, *end;
	bool	status = false, cont = false;
	void  **values;
	struct stat st;
	size_t	len;
	unsigned line;
	int	opt, rc = 0, lockfd = -1;

	memset(&c, 0, sizeof(c));
	c.now = (long long)time(NULL);
	optind = 0;	/* glibc: start over, permuting (main's getopt stopped at the command) */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': domain_arg = optarg; break;
		case 'k': so.key = optarg; break;
		case 's': so.selector = optarg; break;
		case 'n': so.name = optarg; break;
		case 'a': so.algorithm = optarg; break;
		case 'b':
			errno = 0;
			so.bits = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg)
				so.bits = -1;
			break;
		case 'o': overlap = optarg; break;
		case 'N':
			errno = 0;
			c.now = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || c.now < 0) {
				fprintf(stderr, "postmillctl: --now wants Unix seconds\n");
				return 2;
			}
			break;
		case 'S': status = true; break;
		case 'C': cont = true; break;
		default: return rot_usage();
		}
	}
	if ((status && cont) || (!status && !cont && (domain_arg == NULL || optind != argc))
	    || (status && optind != argc) || (cont && domain_arg != NULL))
		return rot_usage();
	if (domain_arg != NULL && (domain = addr_domain_normalize(domain_arg, &why)) == NULL) {
		fprintf(stderr, "postmillctl: bad domain \"%s\": %s\n", domain_arg, why);
		return 2;
	}
	if ((values = ctl_load(config_path)) == NULL) {
		free(domain);
		return 1;
	}
	c.config_path = config_path;
	c.common = ctl_values(values, &cfg_common_section);
	c.conf = ctl_values(values, &dkim_section);
	c.topt = (struct dkim_tables_options)DKIM_TABLES_OPTIONS_INIT;
	c.topt.min_rsa_bits = (long)c.conf->min_rsa_bits;
	c.topt.strict_permissions = c.conf->strict_key_permissions;
	c.overlap = c.conf->rotate_overlap / 1000;
	if (overlap != NULL) {
		long long ms = 0;

		if (cfg_parse_time(overlap, "s", &ms, &why) < 0 || ms < 0) {
			fprintf(stderr, "postmillctl: --overlap %s: %s\n", overlap,
				ms < 0 ? "negative" : why);
			rc = 2;
			goto out;
		}
		c.overlap = ms / 1000;
	}
	if (c.conf->key_table == NULL || c.conf->signing_table == NULL) {
		fprintf(stderr, "postmillctl: dkim_key_table and dkim_signing_table must be set\n");
		rc = 1;
		goto out;
	}
	c.kt_path = rot_table_path(c.conf->key_table);
	c.st_path = rot_table_path(c.conf->signing_table);
	c.state_path = xasprintf("%s.rotation", c.kt_path);

	/* one rotation run at a time (the timer and an operator) */
	dir = xstrdup(c.kt_path);
	if ((slash = strrchr(dir, '/')) != NULL)
		slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	else
		strcpy(dir, ".");
	if (!status) {
		if ((lockfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
		    || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
			fprintf(stderr, "postmillctl: %s: %s\n", dir, errno == EWOULDBLOCK ?
				"another \"dkim rotate\" is running" : strerror(errno));
			rc = 1;
			goto out;
		}
	}
	if ((text = rot_slurp(c.state_path, &len, &st)) != NULL) {
		if (dkim_rotate_parse(text, len, &c.state, &why, &line) < 0) {
			fprintf(stderr, "postmillctl: %s:%u: %s; refusing to go on\n", c.state_path,
				line, why);
			free(text);
			rc = 1;
			goto out;
		}
		free(text);
	} else if (errno != ENOENT) {
		fprintf(stderr, "postmillctl: %s: %s\n", c.state_path, strerror(errno));
		rc = 1;
		goto out;
	}

	if (status) {
		rc = rot_status(&c, domain);
	} else if (cont) {
		size_t	did = 0;

		for (size_t i = 0; i < c.state.count; i++) {
			struct dkim_rotate_rec *r = &c.state.recs[i];
			bool	listed = optind == argc;

			for (int a = optind; a < argc && !listed; a++)
				listed = strcasecmp(argv[a], r->domain) == 0;
			if (!listed || r->phase == DKIM_ROTATE_DONE)
				continue;
			did++;
			if (rot_advance(&c, r) != 0)
				rc = 1;
		}
		for (int a = optind; a < argc; a++) {
			struct dkim_rotate_rec *r = dkim_rotate_find(&c.state, argv[a]);

			if (r == NULL || r->phase == DKIM_ROTATE_DONE)
				printf("%s: no rotation in progress\n", argv[a]);
		}
		if (did == 0 && optind == argc)
			printf("no rotation in progress\n");
	} else {
		struct dkim_rotate_rec *r = dkim_rotate_find(&c.state, domain);

		if (r != NULL && r->phase != DKIM_ROTATE_DONE) {
			if (so.selector || so.name || so.algorithm || so.key)
				fprintf(stderr, "postmillctl: %s: a rotation is in progress (%s); "
					"--key, --selector, --name and --algorithm apply to a new one "
					"only\n", domain, dkim_rotate_phase_name(r->phase));
			rc = rot_advance(&c, r);
		} else {
			rc = rot_start(&c, domain, &so);
		}
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	dkim_rotate_state_clear(&c.state);
	if (c.res != NULL)
		dns_resolver_free(c.res);
	free(c.state_path);
	free(dir);
	free(domain);
	ctl_unload(values);
	return rc;
}
