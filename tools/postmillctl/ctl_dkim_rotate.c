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
 *	step whose condition holds, and nothing else: start, when no
 *	rotation is in progress for the domain (ctl_dkim_rotate_start.c),
 *	then publish and overlap (ctl_dkim_rotate_steps.c). This file parses
 *	the options, takes the lock, reads the state file, picks the step
 *	and prints --status; the files are written by ctl_dkim_rotate_io.c,
 *	the new key by ctl_dkim_rotate_key.c, and postmill-dkim is reloaded
 *	by ctl_dkim_rotate_reload.c.
 *
 *	Every intermediate state is one postmill-dkim can load, and each
 *	step checks the tables against the record first, so a run that was
 *	interrupted resumes, and tables edited in a way the rotation does
 *	not expect are refused with the line at fault. Runs are serialised
 *	by flock(2) on the key table's directory.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cfg_common.h"
#include "ctl.h"
#include "ctl_dkim.h"
#include "ctl_dkim_rotate.h"
#include "dkim_conf.h"
#include "dkim_rotate.h"
#include "xalloc.h"

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

/* rot_advance - the next step of a rotation in progress */
static int
rot_advance(struct ctl_dkim_rotate_ctx *c, struct dkim_rotate_rec *r)
{
	switch (r->phase) {
	case DKIM_ROTATE_PUBLISH:
		return ctl_dkim_rotate_steps_publish(c, r);
	case DKIM_ROTATE_OVERLAP:
		return ctl_dkim_rotate_steps_retire(c, r);
	case DKIM_ROTATE_DONE:
		break;
	}
	return 0;
}

/* rot_status - one line per rotation */
static int
rot_status(struct ctl_dkim_rotate_ctx *c, const char *domain)
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
	struct ctl_dkim_rotate_start_opts so = {NULL, NULL, NULL, NULL, 2048};
	struct ctl_dkim_rotate_ctx c;
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
	if ((text = ctl_dkim_rotate_io_slurp(c.state_path, &len, &st)) != NULL) {
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
			rc = ctl_dkim_rotate_start(&c, domain, &so);
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
