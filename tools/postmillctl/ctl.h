/*++
 * NAME
 *	ctl 3h
 * SUMMARY
 *	postmillctl internals: subcommands and the sections they know
 * DESCRIPTION
 *	postmillctl links every daemon's parameter table, so that it can check
 *	the whole postmill.conf and print the example file and man pages.
 *	Each subcommand is a function taking its own argc/argv (argv[0] is the
 *	subcommand word) and the -c path; it returns the exit status.
 *--*/
#ifndef POSTMILL_CTL_H
#define POSTMILL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "cfg.h"

extern const struct cfg_section *const ctl_sections[];
extern const size_t ctl_nsections;

int ctl_config(int argc, char **argv, const char *config_path);
int ctl_redis(int argc, char **argv, const char *config_path);

/* ctl_help.c */
void ctl_help_list(FILE *fp);
int  ctl_help_command(const char *command);
bool ctl_help_wanted(int argc, char **argv);
int ctl_dkim(int argc, char **argv, const char *config_path);
int ctl_dmarc(int argc, char **argv, const char *config_path);
int ctl_quota(int argc, char **argv, const char *config_path);
int ctl_spf(int argc, char **argv, const char *config_path);
int ctl_suppress(int argc, char **argv, const char *config_path);
int ctl_bounces(int argc, char **argv, const char *config_path);
int ctl_tenant(int argc, char **argv, const char *config_path);
int ctl_events(int argc, char **argv, const char *config_path);
int ctl_stats(int argc, char **argv, const char *config_path);

/* ctl_load - every section's values from the file; prints errors, NULL on failure */
void **ctl_load(const char *config_path);
void ctl_unload(void **values);
/* ctl_values - a section's values from what ctl_load returned */
const void *ctl_values(void *const *values, const struct cfg_section *section);

#endif
