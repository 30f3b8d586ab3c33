/*++
 * NAME
 *	ctl_config 3
 * SUMMARY
 *	postmillctl config: show, check and document postmill.conf
 * DESCRIPTION
 *	postmillctl config          every parameter with its value (postconf)
 *	postmillctl config -n       only parameters that differ from the default
 *	postmillctl config -d       every parameter's default
 *	postmillctl config check    load the whole file for every daemon; exit 1
 *				    with every problem listed
 *	postmillctl config example  the commented example file, from the tables
 *	postmillctl config man S    the man-page parameter section of daemon S
 *--*/
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* ctl_config - dispatch the config subcommands */
int
ctl_config(int argc, char **argv, const char *config_path)
{
	const char *what = argc > 1 ? argv[1] : "";
	void **values;

	if (strcmp(what, "example") == 0) {
		cfg_write_example(stdout, ctl_sections, ctl_nsections);
		return 0;
	}
	if (strcmp(what, "man") == 0) {
		for (size_t i = 0; argc > 2 && i < ctl_nsections; i++) {
			if (strcmp(ctl_sections[i]->name, argv[2]) == 0) {
				cfg_write_man(stdout, ctl_sections[i]);
				return 0;
			}
		}
		fprintf(stderr, "usage: postmillctl config man SECTION (common, dkim, ...)\n");
		return 2;
	}
	if (strcmp(what, "-d") == 0) {
		for (size_t i = 0; i < ctl_nsections; i++) {
			struct errlist el = ERRLIST_INIT;
			void *defaults;

			if (cfg_defaults(ctl_sections[i], &defaults, &el) < 0) {
				errlist_print(&el, stderr);
				errlist_free(&el);
				return 1;
			}
			cfg_write_values(stdout, ctl_sections[i], defaults, false);
			cfg_values_free(ctl_sections[i], defaults);
		}
		return 0;
	}
	if (*what != '\0' && strcmp(what, "-n") != 0 && strcmp(what, "check") != 0) {
		fprintf(stderr, "usage: postmillctl config [-n|-d|check|example|man SECTION]\n");
		return 2;
	}
	if ((values = ctl_load(config_path)) == NULL)
		return 1;
	if (strcmp(what, "check") == 0) {
		printf("%s: configuration OK\n", config_path);
	} else {
		for (size_t i = 0; i < ctl_nsections; i++)
			cfg_write_values(stdout, ctl_sections[i], values[i],
					 strcmp(what, "-n") == 0);
	}
	ctl_unload(values);
	return 0;
}
