/*++
 * NAME
 *	postmill-dkim 8
 * SUMMARY
 *	DKIM-sign outbound mail for hosted domains
 * SYNOPSIS
 *	postmill-dkim [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is dkim_params.c; the callbacks dkim_milter.c;
 *	the decision dkim_policy.c. This file only hands them to the skeleton.
 *--*/
#include <stddef.h>

#include "dkim.h"
#include "dkim_milter.h"
#include "milter_main.h"

static const struct milter_app dkim_app = {
	.name = "dkim",
	.section = &dkim_section,
	.socket_offset = offsetof(struct dkim_conf, socket),
	.pid_file_offset = offsetof(struct dkim_conf, pid_file),
	.desc = &dkim_milter_desc,
	.state_load = dkim_state_load,
	.state_free = dkim_state_free,
	.describe = dkim_state_describe,
};

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &dkim_app);
}
