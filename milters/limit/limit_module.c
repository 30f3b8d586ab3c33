/*++
 * NAME
 *	limit_module 3
 * SUMMARY
 *	postmill-limit as a module: what a daemon needs to host it
 * DESCRIPTION
 *	The parameter section, the callbacks and the state hooks of
 *	postmill-limit, in one struct: postmill-limit's main() hands it to the
 *	daemon skeleton (milter_main()), and postmill-suite hosts it beside
 *	the other modules in one MTA conversation.
 *--*/
#include <stddef.h>

#include "limit.h"
#include "limit_milter.h"
#include "milter_main.h"

const struct milter_app limit_module = {
	.name = "limit",
	.section = &limit_section,
	.socket_offset = offsetof(struct limit_conf, socket),
	.pid_file_offset = offsetof(struct limit_conf, pid_file),
	.desc = &limit_milter_desc,
	.state_load = limit_state_load,
	.state_free = limit_state_free,
	.describe = limit_state_describe,
};
