/*++
 * NAME
 *	ctl_dkim_rotate_start 3
 * SUMMARY
 *	postmillctl dkim rotate: the first step, a new key beside the old one
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	start (no rotation in progress for D): make a key like the domain's
 *	current one (or --algorithm; RSA --bits, default 2048) in the same
 *	directory (0600, owned by run_user), choose a selector (s + the UTC
 *	date, made unique, or --selector), record the rotation, add the key
 *	to the key table right after the old one, print the TXT record.
 *	The signing table is not changed: nothing signs with the new key
 *	before verifiers can find it.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ctl_dkim.h"
#include "ctl_dkim_rotate.h"
#include "dkim_rotate.h"
#include "dkim_sign.h"
#include "dkim_tables.h"
#include "xalloc.h"

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

/* ctl_dkim_rotate_start - a new key and selector; the signing table is left alone */
int
ctl_dkim_rotate_start(struct ctl_dkim_rotate_ctx *c, const char *domain,
		      const struct ctl_dkim_rotate_start_opts *o)
{
	struct dkim_tables *t = ctl_dkim_rotate_io_load(c, c->conf->key_table,
							 c->conf->signing_table, NULL);
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
	if ((text = ctl_dkim_rotate_io_read_table(c->st_path, &len, &st)) == NULL)
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
	    || ctl_dkim_rotate_key_spki(pkey, spki, sizeof(spki)) < 0) {
		fprintf(stderr, "postmillctl: key generation failed\n");
		goto out;
	}
	if (ctl_dkim_rotate_key_write(c, pkey, path) < 0)
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
	if (ctl_dkim_rotate_io_save_state(c) < 0)
		goto out;
	if ((text = ctl_dkim_rotate_io_read_table(c->kt_path, &len, &st)) == NULL)
		goto out;
	line = xasprintf("%s %s:%s:%s", name, domain, selector, path);
	edit = dkim_rotate_keytab_insert(text, len, old->name, line, &elen);
	if (ctl_dkim_rotate_io_replace_free(c, c->kt_path, &st, edit, elen,
					    CTL_DKIM_ROTATE_IO_KEYTAB) < 0) {
		fprintf(stderr, "postmillctl: %s: the rotation is recorded; run again to retry\n",
			domain);
		free(line);
		goto out;
	}
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
