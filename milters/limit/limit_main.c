/*++
 * NAME
 *	postmill-limit 8
 * SUMMARY
 *	per-sender rate limits and quotas shared through Redis
 * SYNOPSIS
 *	postmill-limit [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is limit_params.c; the callbacks limit_milter.c;
 *	the decision limit_policy.c. This file only hands them to the
 *	skeleton. The manual page is postmill-limit.8.
 *--*/
#include <stddef.h>

#include "limit.h"
#include "limit_milter.h"
#include "milter_main.h"

static const struct milter_app limit_app = {
	.name = "limit",
	.section = &limit_section,
	.socket_offset = offsetof(struct limit_conf, socket),
	.pid_file_offset = offsetof(struct limit_conf, pid_file),
	.desc = &limit_milter_desc,
	.state_load = limit_state_load,
	.state_free = limit_state_free,
	.describe = limit_state_describe,
};

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &limit_app);
}
