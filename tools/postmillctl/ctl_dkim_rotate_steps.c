/*++
 * NAME
 *	ctl_dkim_rotate_steps 3
 * SUMMARY
 *	postmillctl dkim rotate: the steps of a rotation in progress
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	publish (ctl_dkim_rotate_steps_publish()): when DNS ("dkim check")
 *	shows the new record, add the new key next to the old one on every
 *	signing table line naming the old key, reload postmill-dkim (SIGHUP
 *	to the pid in dkim_pid_file) and record the start of the overlap.
 *	Until then: print what is missing, change nothing, exit 1.
 *
 *	overlap (ctl_dkim_rotate_steps_retire()): once --overlap (default
 *	dkim_rotate_overlap) has passed, and DNS still shows the new record,
 *	remove the old key from the signing table, then from the key table,
 *	reload, and print the revoked record to publish at the old selector.
 *	The overlap should exceed Postfix's maximal_queue_lifetime, so that
 *	no message signed with the old key alone is still queued once its
 *	record goes.
 *
 *	Each step first checks the tables against the record and refuses,
 *	naming the line at fault, what the rotation did not expect.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ctl_dkim.h"
#include "ctl_dkim_rotate.h"
#include "dkim_dnscheck.h"
#include "dkim_rotate.h"
#include "dkim_tables.h"
#include "errlist.h"
#include "xalloc.h"

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

/* rot_dnscheck - is the new key published; prints the outcome */
static bool
rot_dnscheck(struct ctl_dkim_rotate_ctx *c, const struct dkim_rotate_rec *r, EVP_PKEY *pkey)
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

/* ctl_dkim_rotate_steps_publish - the new record published? then sign with both */
int
ctl_dkim_rotate_steps_publish(struct ctl_dkim_rotate_ctx *c, struct dkim_rotate_rec *r)
{
	struct dkim_tables *t = ctl_dkim_rotate_io_load(c, c->conf->key_table,
							 c->conf->signing_table, NULL);
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

		if (pkey == NULL || ctl_dkim_rotate_key_spki(pkey, spki, sizeof(spki)) < 0
		    || strcmp(spki, r->new_spki) != 0) {
			fprintf(stderr, "postmillctl: %s: the new key \"%s\" is not in %s and %s "
				"does not hold the key the rotation made; refusing to go on\n",
				r->domain, r->new_key, c->kt_path, r->new_path);
			EVP_PKEY_free(pkey);
			goto out;
		}
		EVP_PKEY_free(pkey);
		if ((text = ctl_dkim_rotate_io_read_table(c->kt_path, &len, &st)) == NULL)
			goto out;
		line = xasprintf("%s %s:%s:%s", r->new_key, r->domain, r->new_selector, r->new_path);
		edit = dkim_rotate_keytab_insert(text, len, r->old_key, line, &elen);
		free(line);
		if (ctl_dkim_rotate_io_replace_free(c, c->kt_path, &st, edit, elen,
						    CTL_DKIM_ROTATE_IO_KEYTAB) < 0)
			goto out;
		free(text);
		text = NULL;
		printf("%s: key table: added \"%s\" again (an earlier run was interrupted)\n",
		       r->domain, r->new_key);
		dkim_tables_free(t);
		if ((t = ctl_dkim_rotate_io_load(c, c->conf->key_table, c->conf->signing_table,
						 NULL)) == NULL)
			return 1;
		nk = dkim_tables_key_find(t, r->new_key);
	}
	if (nk == NULL || !ctl_dkim_rotate_key_new_ok(r, nk, &why)) {
		fprintf(stderr, "postmillctl: %s: key table line %u: key \"%s\": %s; refusing to go on\n",
			r->domain, nk ? nk->line : 0, r->new_key, nk ? why : "missing");
		goto out;
	}
	if ((text = ctl_dkim_rotate_io_read_table(c->st_path, &len, &st)) == NULL)
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
		if (ctl_dkim_rotate_io_replace_free(c, c->st_path, &st, edit, elen,
						    CTL_DKIM_ROTATE_IO_SIGNTAB) < 0)
			goto out;
	}
	r->phase = DKIM_ROTATE_OVERLAP;
	r->dual_since = c->now;
	if (ctl_dkim_rotate_io_save_state(c) < 0)
		goto out;
	{
		char	at[32], in[48];

		dkim_rotate_time_format(r->dual_since + c->overlap, at, sizeof(at));
		rot_duration(c->overlap, in, sizeof(in));
		printf("%s: overlap: signing with \"%s\" (s=%s) and \"%s\" (s=%s): "
		       "%zu signing table line%s changed\n", r->domain, r->old_key,
		       r->old_selector, r->new_key, r->new_selector, changed,
		       changed == 1 ? "" : "s");
		ctl_dkim_rotate_reload(c);
		printf("# the old key is retired after the overlap (%s): run again at %s or later\n",
		       in, at);
	}
	rc = 0;
out:
	free(text);
	dkim_tables_free(t);
	return rc;
}

/* ctl_dkim_rotate_steps_retire - after the overlap: remove the old key everywhere */
int
ctl_dkim_rotate_steps_retire(struct ctl_dkim_rotate_ctx *c, struct dkim_rotate_rec *r)
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
	if ((t = ctl_dkim_rotate_io_load(c, c->conf->key_table, c->conf->signing_table,
					 NULL)) == NULL)
		return 1;
	old = dkim_tables_key_find(t, r->old_key);
	nk = dkim_tables_key_find(t, r->new_key);
	if (rot_check_old(r, old) < 0)
		goto out;
	if (nk == NULL || !ctl_dkim_rotate_key_new_ok(r, nk, &why)) {
		fprintf(stderr, "postmillctl: %s: key table%s%.0u: key \"%s\": %s; refusing to "
			"retire the old key\n", r->domain, nk ? " line " : "", nk ? nk->line : 0,
			r->new_key, nk ? why : "missing");
		goto out;
	}
	if ((text = ctl_dkim_rotate_io_read_table(c->st_path, &len, &st)) == NULL)
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
		if (ctl_dkim_rotate_io_replace_free(c, c->st_path, &st, edit, elen,
						    CTL_DKIM_ROTATE_IO_SIGNTAB) < 0)
			goto out;
	}
	free(text);
	text = NULL;
	if (old != NULL) {
		if ((text = ctl_dkim_rotate_io_read_table(c->kt_path, &len, &st)) == NULL)
			goto out;
		edit = dkim_rotate_keytab_remove(text, len, r->old_key, &elen, &keylines);
		if (ctl_dkim_rotate_io_replace_free(c, c->kt_path, &st, edit, elen,
						    CTL_DKIM_ROTATE_IO_KEYTAB) < 0)
			goto out;
	}
	r->phase = DKIM_ROTATE_DONE;
	r->done = c->now;
	if (ctl_dkim_rotate_io_save_state(c) < 0)
		goto out;
	printf("%s: done: key \"%s\" (s=%s) removed from the signing table (%zu line%s) and "
	       "the key table (%zu line%s); mail is signed with \"%s\" (s=%s)\n", r->domain,
	       r->old_key, r->old_selector, lines, lines == 1 ? "" : "s", keylines,
	       keylines == 1 ? "" : "s", r->new_key, r->new_selector);
	ctl_dkim_rotate_reload(c);
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
