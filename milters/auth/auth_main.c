/*++
 * NAME
 *	postmill-auth 8
 * SUMMARY
 *	SPF, DKIM verification and DMARC for inbound mail
 * SYNOPSIS
 *	postmill-auth [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is auth_params.c; the callbacks auth_milter.c;
 *	the decision auth_policy.c. This file only hands them to the
 *	skeleton. The manual page is postmill-auth.8.
 *--*/
#include <stddef.h>

#include "auth.h"
#include "auth_milter.h"
#include "milter_main.h"

static const struct milter_app auth_app = {
	.name = "auth",
	.section = &auth_section,
	.socket_offset = offsetof(struct auth_conf, socket),
	.pid_file_offset = offsetof(struct auth_conf, pid_file),
	.desc = &auth_milter_desc,
	.state_load = auth_state_load,
	.state_free = auth_state_free,
	.describe = auth_state_describe,
};

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &auth_app);
}
