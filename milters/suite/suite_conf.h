/*++
 * NAME
 *	suite_conf 3h
 * SUMMARY
 *	postmill-suite parameters (values of the suite_ rows)
 * DESCRIPTION
 *	The rows live in suite_params.c (suite_section). The hosted
 *	modules read their own rows (dkim_, auth_, ...) from the same file.
 *--*/
#ifndef POSTMILL_SUITE_CONF_H
#define POSTMILL_SUITE_CONF_H

#include "cfg.h"

struct suite_conf {
	char		*socket;		/* libmilter socket spec */
	char		*pid_file;
	struct cfg_list	 milters;		/* module names, in order */
	char		*spool_dir;		/* large bodies (O_TMPFILE) */
	long long	 body_memory;		/* body bytes in memory per message */
	long long	 header_max;		/* header bytes kept per message */
};

extern const struct cfg_section suite_section;

#endif
