/*++
 * NAME
 *	ctl_dkim 3
 * SUMMARY
 *	postmillctl dkim: key generation and DNS checks
 * SYNOPSIS
 *	postmillctl dkim keygen --domain D --selector S [--algorithm rsa|ed25519]
 *		[--bits N] --dir DIR [--name NAME] [--owner USER] [--force]
 *	postmillctl [-c config] dkim check [--domain D]
 * DESCRIPTION
 *	keygen writes DIR/NAME.pem (mode 0600, never over an existing file
 *	unless --force; owned by --owner, or by run_user from the
 *	configuration when that loads and we run as root), then prints the
 *	TXT record to publish and the key-table and signing-table lines.
 *
 *	check loads the key table as postmill-dkim does and, for every key
 *	(or those of --domain), asks DNS (dns_resolver, dns_timeout) for
 *	selector._domainkey.domain and says whether the published record
 *	matches our key, is missing, stale (another key), revoked,
 *	malformed, or could not be fetched. Exit 0 only when all match.
 *--*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "addr.h"
#include "cfg_common.h"
#include "ctl.h"
#include "ctl_dkim.h"
#include "dkim_conf.h"
#include "dkim_dnscheck.h"
#include "dkim_sign.h"
#include "dkim_tables.h"
#include "dns.h"
#include "xalloc.h"

/* ctl_dkim_print_txt - the record in zone-file syntax, 255-byte strings */
void
ctl_dkim_print_txt(const char *selector, const char *domain, const char *rec)
{
	size_t len = strlen(rec);

	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (size_t off = 0; off < len; off += 250)
		printf(" \"%.*s\"", (int)(len - off < 250 ? len - off : 250), rec + off);
	printf(" )\n");
}

/* ctl_dkim_name_ok - a selector: dot-separated labels of [A-Za-z0-9_-] */
bool
ctl_dkim_name_ok(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || strlen(s) > 63 * 4)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", *s)
			   && ++label <= 63) {
			continue;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* ctl_dkim_owner - who should own a new key file; -1 when unchanged */
int
ctl_dkim_owner(const char *owner, const char *config_path, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	char *user = NULL;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (getuid() != 0)
		return 0;
	if (owner != NULL) {
		user = xstrdup(owner);
	} else if (access(config_path, R_OK) == 0) {
		struct errlist el = ERRLIST_INIT;
		const struct cfg_section *s[1] = {&cfg_common_section};
		void *v[1];

		if (cfg_load(config_path, s, 1, v, &el) == 0) {
			const struct common_conf *c = v[0];

			if (c->run_user)
				user = xstrdup(c->run_user);
			cfg_values_free(&cfg_common_section, v[0]);
		}
		errlist_free(&el);
	}
	if (user == NULL)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "postmillctl: no such user \"%s\"\n", user);
		free(user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	free(user);
	return 0;
}

/* ctl_dkim_keygen - make a key, write it 0600, print what to publish */
static int
ctl_dkim_keygen(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'd'},
		{"selector", required_argument, NULL, 's'},
		{"algorithm", required_argument, NULL, 'a'},
		{"bits", required_argument, NULL, 'b'},
		{"dir", required_argument, NULL, 'D'},
		{"name", required_argument, NULL, 'n'},
		{"owner", required_argument, NULL, 'o'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	const char *domain = NULL, *selector = NULL, *alg = "rsa", *dir = NULL;
	const char *name = NULL, *owner = NULL, *why;
	char *norm = NULL;
	long bits = 2048;
	bool force = false;
	EVP_PKEY *pkey = NULL;
	struct dkim_key *key;
	char path[PATH_MAX], absdir[PATH_MAX], *rec, *defname = NULL;
	uid_t uid;
	gid_t gid;
	FILE *fp;
	int opt, fd;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': domain = optarg; break;
		case 's': selector = optarg; break;
		case 'a': alg = optarg; break;
		case 'b': bits = strtol(optarg, NULL, 10); break;
		case 'D': dir = optarg; break;
		case 'n': name = optarg; break;
		case 'o': owner = optarg; break;
		case 'f': force = true; break;
		default: return 2;
		}
	}
	if (domain == NULL || selector == NULL || dir == NULL || optind != argc) {
		fprintf(stderr, "usage: postmillctl dkim keygen --domain D --selector S "
			"[--algorithm rsa|ed25519] [--bits N] --dir DIR [--name NAME] "
			"[--owner USER] [--force]\n");
		return 2;
	}
	if (strcasecmp(alg, "rsa") == 0) {
		if (bits < 1024 || bits > 8192) {
			fprintf(stderr, "postmillctl: --bits must be 1024..8192 (2048 recommended)\n");
			return 2;
		}
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else if (strcasecmp(alg, "ed25519") == 0) {
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	} else {
		fprintf(stderr, "postmillctl: --algorithm must be rsa or ed25519\n");
		return 2;
	}
	if (pkey == NULL) {
		fprintf(stderr, "postmillctl: key generation failed\n");
		return 1;
	}
	if (!ctl_dkim_name_ok(selector) || (norm = addr_domain_normalize(domain, &why)) == NULL) {
		fprintf(stderr, "postmillctl: bad %s \"%s\"\n",
			ctl_dkim_name_ok(selector) ? "domain" : "selector",
			ctl_dkim_name_ok(selector) ? domain : selector);
		EVP_PKEY_free(pkey);
		return 2;
	}
	domain = norm;
	if ((key = dkim_key_from_pkey(pkey, &why)) == NULL) {
		fprintf(stderr, "postmillctl: %s\n", why);
		EVP_PKEY_free(pkey);
		return 1;
	}
	if (ctl_dkim_owner(owner, config_path, &uid, &gid) < 0) {
		EVP_PKEY_free(pkey);
		dkim_key_free(key);
		return 1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "postmillctl: %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	if (realpath(dir, absdir) == NULL) {
		fprintf(stderr, "postmillctl: %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	if (name == NULL)
		name = defname = xasprintf("%s-%s", domain, selector);
	if (snprintf(path, sizeof(path), "%s/%s.pem", absdir, name) >= (int)sizeof(path)) {
		fprintf(stderr, "postmillctl: path too long\n");
		goto fail;
	}
	if (force)
		unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) < 0) {
		fprintf(stderr, "postmillctl: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (use --force to replace it)" : "");
		goto fail;
	}
	if ((fp = fdopen(fd, "w")) == NULL
	    || !PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL)
	    || fclose(fp) != 0) {
		fprintf(stderr, "postmillctl: %s: cannot write the key\n", path);
		unlink(path);
		goto fail;
	}
	if (uid != (uid_t)-1 && (chown(path, uid, gid) < 0 || chown(absdir, uid, gid) < 0)) {
		fprintf(stderr, "postmillctl: chown %s: %s\n", path, strerror(errno));
		goto fail;
	}
	rec = dkim_key_dns_record(key);
	printf("# %s key written to %s (mode 0600)\n", dkim_key_algorithm(key), path);
	printf("# 1. publish this TXT record:\n");
	ctl_dkim_print_txt(selector, domain, rec);
	printf("# 2. add to the key table (dkim_key_table):\n%s %s:%s:%s\n",
	       name, domain, selector, path);
	printf("# 3. add to the signing table (dkim_signing_table):\n*@%s %s\n",
	       domain, name);
	printf("# 4. check DNS with: postmillctl dkim check --domain %s\n", domain);
	free(rec);
	free(defname);
	free(norm);
	dkim_key_free(key);
	EVP_PKEY_free(pkey);
	return 0;
fail:
	free(defname);
	free(norm);
	dkim_key_free(key);
	EVP_PKEY_free(pkey);
	return 1;
}

/* ctl_dkim_resolver - dns_resolver and dns_timeout as "dkim check" uses them */
struct dns_resolver *
ctl_dkim_resolver(const struct common_conf *common)
{
	struct dns_resolver *res;
	const char *why;

	/* dns_timeout bounds the whole query: split it over the attempts */
	if ((res = dns_resolver_new(common->dns_resolver,
				    (long)common->dns_timeout / DNS_DEFAULT_ATTEMPTS,
				    &why)) == NULL)
		fprintf(stderr, "postmillctl: dns_resolver = %s: %s\n",
			common->dns_resolver ? common->dns_resolver : "", why);
	return res;
}

/* ctl_dkim_dnscheck_key - one key against selector._domainkey.domain */
void
ctl_dkim_dnscheck_key(struct dns_resolver *res, const char *domain,
		      const char *selector, EVP_PKEY *pkey,
		      struct dkim_dnscheck_result *r, char **rec)
{
	struct dns_txt_result dns;
	struct dkim_key *key;
	const char *why;
	char	qname[600];

	*rec = NULL;
	memset(r, 0, sizeof(*r));
	if ((key = dkim_key_from_pkey(pkey, &why)) == NULL) {
		r->status = DKIM_DNSCHECK_MALFORMED;
		snprintf(r->reason, sizeof(r->reason), "our key: %s", why);
		return;
	}
	*rec = dkim_key_dns_record(key);
	snprintf(qname, sizeof(qname), "%s._domainkey.%s", selector, domain);
	dns_query_txt(res, qname, &dns);
	dkim_dnscheck_record(&dns, *rec, r);
	dns_txt_result_clear(&dns);
	dkim_key_free(key);
}

/* ctl_dkim_status_word - a status in upper case: what the eye and grep look for */
void
ctl_dkim_status_word(int status, char *buf, size_t len)
{
	const char *n = dkim_dnscheck_str(status);
	size_t	k;

	for (k = 0; n[k] && k < len - 1; k++)
		buf[k] = (char)toupper((unsigned char)n[k]);
	buf[k] = '\0';
}

/* ctl_dkim_check - compare each key with what DNS publishes */
static int
ctl_dkim_check(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct dkim_tables_options topt = DKIM_TABLES_OPTIONS_INIT;
	struct errlist el = ERRLIST_INIT;
	const struct common_conf *common;
	const struct dkim_conf *conf;
	struct dkim_tables *tables;
	struct dns_resolver *res;
	const char *domain = NULL;
	void **values;
	size_t checked = 0, bad = 0;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			domain = optarg;
		else
			return 2;
	}
	if ((values = ctl_load(config_path)) == NULL)
		return 1;
	common = ctl_values(values, &cfg_common_section);
	conf = ctl_values(values, &dkim_section);
	topt.min_rsa_bits = (long)conf->min_rsa_bits;
	topt.strict_permissions = conf->strict_key_permissions;
	tables = dkim_tables_load(conf->key_table, conf->signing_table,
				  conf->sender_login_map, &topt, &el);
	if (tables == NULL) {
		errlist_print(&el, stderr);
		errlist_free(&el);
		ctl_unload(values);
		return 1;
	}
	if ((res = ctl_dkim_resolver(common)) == NULL) {
		dkim_tables_free(tables);
		ctl_unload(values);
		return 1;
	}
	for (size_t i = 0; i < dkim_tables_key_count(tables); i++) {
		const struct dkim_tables_key *tk = dkim_tables_key_at(tables, i);
		struct dkim_dnscheck_result r;
		char	st[32], *rec;

		if (domain != NULL && strcasecmp(domain, tk->domain) != 0)
			continue;
		checked++;
		if (strcmp(tk->domain, "%") == 0) {
			printf("%s: d=%% s=%s: SKIPPED: the domain is each sender's; "
			       "check it with --domain per tenant\n", tk->name, tk->selector);
			continue;
		}
		ctl_dkim_dnscheck_key(res, tk->domain, tk->selector, tk->pkey, &r, &rec);
		if (rec == NULL) {
			printf("%s: d=%s s=%s: ERROR: %s\n", tk->name, tk->domain,
			       tk->selector, r.reason);
			bad++;
			continue;
		}
		ctl_dkim_status_word(r.status, st, sizeof(st));
		printf("%s: %s._domainkey.%s: %s: %s\n", tk->name, tk->selector,
		       tk->domain, st, r.reason);
		if (r.status != DKIM_DNSCHECK_MATCH) {
			bad++;
			if (r.status == DKIM_DNSCHECK_MISSING || r.status == DKIM_DNSCHECK_STALE) {
				printf("  publish: ");
				ctl_dkim_print_txt(tk->selector, tk->domain, rec);
			}
		}
		free(rec);
	}
	if (domain != NULL && checked == 0) {
		fprintf(stderr, "postmillctl: no key for domain %s in %s\n", domain,
			conf->key_table);
		bad++;
	}
	printf("%zu key%s checked, %zu not matching\n", checked,
	       checked == 1 ? "" : "s", bad);
	dns_resolver_free(res);
	dkim_tables_free(tables);
	ctl_unload(values);
	return bad ? 1 : 0;
}

/* ctl_dkim - dispatch dkim subcommands */
int
ctl_dkim(int argc, char **argv, const char *config_path)
{
	if (argc > 1 && strcmp(argv[1], "keygen") == 0)
		return ctl_dkim_keygen(argc - 1, argv + 1, config_path);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return ctl_dkim_check(argc - 1, argv + 1, config_path);
	if (argc > 1 && strcmp(argv[1], "rotate") == 0)
		return ctl_dkim_rotate(argc - 1, argv + 1, config_path);
	fprintf(stderr, "usage: postmillctl dkim keygen|check|rotate ...\n");
	return 2;
}
