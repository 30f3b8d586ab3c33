/*++
 * NAME
 *	ctl_spf 3
 * SUMMARY
 *	postmillctl spf: evaluate SPF (RFC 7208) as postmill-auth would
 * SYNOPSIS
 *	postmillctl [-c config] spf check [--resolver SERVERS] [--receiver NAME]
 *		[--helo-identity] [--now T] CLIENT-IP HELO [MAIL-FROM]
 *	postmillctl [-c config] spf batch [--resolver SERVERS] [--receiver NAME]
 *		[--now T]
 * DESCRIPTION
 *	check evaluates one identity (MAIL FROM by default; HELO with
 *	--helo-identity or an empty MAIL-FROM and --helo-identity) and prints
 *	the result, the matching mechanism or the problem, the explanation,
 *	and the Received-SPF field postmill-auth would add. Exit status 0.
 *
 *	batch reads lines "IDENTITY<TAB>CLIENT-IP<TAB>HELO<TAB>MAIL-FROM"
 *	(IDENTITY is mailfrom or helo) from standard input and prints for
 *	each "RESULT<TAB>MECHANISM<TAB>PROBLEM<TAB>EXPLANATION" (tabs and
 *	line breaks in the fields become spaces): the conformance tests
 *	drive the evaluator with it.
 *
 *	The DNS servers are --resolver ("ADDR[@PORT], ...") or else
 *	dns_resolver and dns_timeout of the configuration file.
 *--*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg_common.h"
#include "ctl.h"
#include "dns.h"
#include "spf.h"

/* ctl_spf_clean - tabs and line breaks become spaces, for the batch format */
static const char *
ctl_spf_clean(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

/* ctl_spf_resolver - from --resolver or the configuration */
static struct dns_resolver *
ctl_spf_resolver(const char *servers, const char *config_path)
{
	struct dns_resolver *res;
	const char *why;
	long	timeout = 2000;
	void	**values = NULL;

	if (servers == NULL) {
		const struct common_conf *common;

		if ((values = ctl_load(config_path)) == NULL)
			return NULL;
		common = ctl_values(values, &cfg_common_section);
		servers = common->dns_resolver;
		timeout = (long)common->dns_timeout / DNS_DEFAULT_ATTEMPTS;
	}
	res = dns_resolver_new(servers, timeout, &why);
	if (res == NULL)
		fprintf(stderr, "postmillctl: dns_resolver = %s: %s\n",
			servers ? servers : "", why);
	ctl_unload(values);
	return res;
}

/* ctl_spf - the spf subcommand */
int
ctl_spf(int argc, char **argv, const char *config_path)
{
	static const struct option opts[] = {
		{"resolver", required_argument, NULL, 'r'},
		{"receiver", required_argument, NULL, 'R'},
		{"helo-identity", no_argument, NULL, 'H'},
		{"now", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *servers = NULL, *receiver = NULL, *mode;
	struct dns_resolver *res;
	struct spf_evaluator *ev;
	bool	helo_id = false;
	long	now = (long)time(NULL);
	int	opt;

	if (argc < 2) {
		fprintf(stderr, "usage: postmillctl spf check|batch ...\n");
		return 2;
	}
	mode = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': servers = optarg; break;
		case 'R': receiver = optarg; break;
		case 'H': helo_id = true; break;
		case 't': now = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (strcmp(mode, "check") == 0 && (argc - optind < 2 || argc - optind > 3)) {
		fprintf(stderr, "usage: postmillctl spf check [options] CLIENT-IP HELO [MAIL-FROM]\n");
		return 2;
	}
	if (strcmp(mode, "check") != 0 && strcmp(mode, "batch") != 0) {
		fprintf(stderr, "usage: postmillctl spf check|batch ...\n");
		return 2;
	}
	if ((res = ctl_spf_resolver(servers, config_path)) == NULL)
		return 1;
	ev = spf_evaluator_new(res, 0, 0);
	if (strcmp(mode, "check") == 0) {
		struct spf_query q = {argv[optind], argv[optind + 1],
		    argc - optind == 3 ? argv[optind + 2] : "", receiver,
		    helo_id ? SPF_ID_HELO : SPF_ID_MAILFROM};
		struct spf_outcome out;
		char	field[2048];

		spf_check(ev, &q, now, &out);
		printf("result: %s\n", spf_result_name(out.result));
		printf("domain: %s\n", out.domain);
		printf("mechanism: %s\n", out.mechanism);
		printf("problem: %s\n", out.problem);
		printf("explanation: %s\n", out.explanation);
		printf("lookups: %u (void %u)\n", out.dns_lookups, out.void_lookups);
		if (spf_received_spf(field, sizeof(field), &q, &out) >= 0)
			printf("Received-SPF: %s\n", field);
	} else {
		char	line[4096];

		while (fgets(line, sizeof(line), stdin) != NULL) {
			char	*f[4] = {NULL, NULL, NULL, NULL}, *p = line, *save = NULL;
			struct spf_outcome out;
			struct spf_query q;

			line[strcspn(line, "\r\n")] = '\0';
			for (int i = 0; i < 4; i++) {
				f[i] = p;
				if (p != NULL && (p = strchr(p, '\t')) != NULL)
					*p++ = '\0';
			}
			(void)save;
			memset(&q, 0, sizeof(q));
			q.identity = f[0] && strcmp(f[0], "helo") == 0
			    ? SPF_ID_HELO : SPF_ID_MAILFROM;
			q.client_ip = f[1] ? f[1] : "";
			q.helo = f[2] ? f[2] : "";
			q.mail_from = f[3] ? f[3] : "";
			q.receiver = receiver;
			spf_check(ev, &q, now, &out);
			printf("%s\t%s\t%s\t%s\n", spf_result_name(out.result),
			       ctl_spf_clean(out.mechanism),
			       ctl_spf_clean(out.problem),
			       ctl_spf_clean(out.explanation));
			fflush(stdout);
		}
	}
	spf_evaluator_free(ev);
	dns_resolver_free(res);
	return 0;
}
