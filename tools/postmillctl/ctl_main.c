/*++
 * NAME
 *	postmillctl 8
 * SUMMARY
 *	the postmill operator's tool
 * SYNOPSIS
 *	postmillctl [-c config] config [-n|-d|check [DAEMON...]|example|man SECTION]
 *	postmillctl [-c config] dkim keygen|check ...
 *	postmillctl [-c config] dmarc report [--dry-run DIR] [--day DAY] [--resend]
 *	postmillctl [-c config] quota show|set|reset|list ...
 *	postmillctl [-c config] spf check|batch ...
 *	postmillctl [-c config] suppress list|check|add|remove ...
 *	postmillctl [-c config] bounces stats [SENDER]
 * DESCRIPTION
 *	One entry point, a table of subcommands (see ctl.h). Exit status 0 on
 *	success, 1 when the thing checked is wrong, 2 on usage errors.
 *--*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce_conf.h"
#include "cfg_common.h"
#include "auth_conf.h"
#include "ctl.h"
#include "cfg_events.h"
#include "cfg_exporter.h"
#include "dkim_conf.h"
#include "limit_conf.h"
#include "suite_conf.h"
#include "log.h"
#include "xalloc.h"

const struct cfg_section *const ctl_sections[] = {
	&cfg_common_section, &dkim_section, &limit_section, &auth_section,
	&bounce_section, &cfg_exporter_section, &cfg_events_section, &suite_section,
};
const size_t ctl_nsections = sizeof(ctl_sections) / sizeof(ctl_sections[0]);

/* the commands; their usage texts are ctl_help.c's table */
static const struct {
	const char *name;
	int (*run)(int, char **, const char *);
} ctl_commands[] = {
	{"config", ctl_config},
	{"dkim", ctl_dkim},
	{"dmarc", ctl_dmarc},
	{"quota", ctl_quota},
	{"spf", ctl_spf},
	{"suppress", ctl_suppress},
	{"bounces", ctl_bounces},
	{"redis", ctl_redis},
	{"tenant", ctl_tenant},
	{"events", ctl_events},
	{"stats", ctl_stats},
};

/* ctl_usage - list the subcommands (a usage error: stderr) */
static void
ctl_usage(void)
{
	ctl_help_list(stderr);
}

/* ctl_load - every section's values from the file */
void **
ctl_load(const char *config_path)
{
	struct errlist el = ERRLIST_INIT;
	void **values = xcalloc(ctl_nsections, sizeof(void *));

	if (cfg_load(config_path, ctl_sections, ctl_nsections, values, &el) < 0) {
		errlist_print(&el, stderr);
		fprintf(stderr, "postmillctl: %zu error%s in %s\n", el.count,
			el.count == 1 ? "" : "s", config_path);
		errlist_free(&el);
		free(values);
		return NULL;
	}
	return values;
}

/* ctl_unload - release what ctl_load returned */
void
ctl_unload(void **values)
{
	if (values == NULL)
		return;
	for (size_t i = 0; i < ctl_nsections; i++)
		cfg_values_free(ctl_sections[i], values[i]);
	free(values);
}

/* ctl_values - one section's values */
const void *
ctl_values(void *const *values, const struct cfg_section *section)
{
	for (size_t i = 0; i < ctl_nsections; i++)
		if (ctl_sections[i] == section)
			return values[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *config = POSTMILL_SYSCONFDIR "/postmill.conf";
	int opt;

	log_open("postmillctl", false);
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};

	while ((opt = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'h': ctl_help_list(stdout); return 0;
		case 'V': printf("postmillctl %s\n", POSTMILL_VERSION); return 0;
		default: ctl_usage(); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc)
			return ctl_help_command(argv[optind + 1]);
		ctl_help_list(stdout);
		return 0;
	}
	if (optind < argc && ctl_help_wanted(argc - optind - 1, argv + optind + 1))
		return ctl_help_command(argv[optind]);
	if (optind >= argc) {
		ctl_usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++) {
		if (strcmp(argv[optind], ctl_commands[i].name) == 0) {
			optind++;
			return ctl_commands[i].run(argc - optind + 1,
						   argv + optind - 1, config);
		}
	}
	fprintf(stderr, "postmillctl: unknown command \"%s\"\n", argv[optind]);
	ctl_usage();
	return 2;
}
