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
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * ctl_config_names - "postmillctl config [-d] NAME...": each parameter's
 * value (loaded, or its default with -d; a set secret shows <hidden>),
 * after its doc line, as "postconf NAME" and "postconf -d NAME" do.
 * Exit 1 when a name is unknown.
 */
static int
ctl_config_names(int argc, char **argv, int first, bool defaults,
		 const char *config_path)
{
	void	**values = NULL;
	int	rc = 0;

	if (!defaults && (values = ctl_load(config_path)) == NULL)
		return 1;
	for (int a = first; a < argc; a++) {
		const struct cfg_param *p = NULL;
		size_t	i;

		for (i = 0; i < ctl_nsections && p == NULL; i++)
			p = cfg_find(ctl_sections[i], argv[a]);
		if (p == NULL) {
			fprintf(stderr, "postmillctl: %s: unknown parameter\n", argv[a]);
			rc = 1;
			continue;
		}
		i--;
		if (defaults) {
			printf("# %s\n%s = %s\n", p->doc, p->name, p->def);
			continue;
		}
		char	*v = cfg_format_value(p, values[i]);

		printf("# %s\n%s = %s\n", p->doc, p->name,
		       p->type == CFG_SECRET && v[0] != '\0' ? CFG_HIDDEN : v);
		free(v);
	}
	ctl_unload(values);
	return rc;
}

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
	if (strcmp(what, "man") == 0 && argc > 2 && strcmp(argv[2], "all") == 0) {
		/* postmill.conf(5): every section, each under its own heading */
		for (size_t i = 0; i < ctl_nsections; i++) {
			printf(".SS %s\n", strcmp(ctl_sections[i]->name, "common") == 0
			       ? "Shared by every program" : ctl_sections[i]->name);
			cfg_write_man(stdout, ctl_sections[i]);
		}
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
	if (strcmp(what, "-d") == 0 && argc == 2) {
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
	if (strcmp(what, "-d") == 0 && argc > 2)
		return ctl_config_names(argc, argv, 2, true, config_path);
	if (*what != '\0' && *what != '-' && strcmp(what, "check") != 0)
		return ctl_config_names(argc, argv, 1, false, config_path);
	if (*what != '\0' && strcmp(what, "-n") != 0 && strcmp(what, "check") != 0) {
		fprintf(stderr, "usage: postmillctl config [-n|-d|check|example|man SECTION|[-d] NAME...]\n");
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
