/*++
 * NAME
 *	dkim_module 3
 * SUMMARY
 *	postmill-dkim as a module: what a daemon needs to host it
 * DESCRIPTION
 *	The parameter section, the callbacks and the state hooks of
 *	postmill-dkim, in one struct: postmill-dkim's main() hands it to the
 *	daemon skeleton (milter_main()), and postmill-suite hosts it beside
 *	the other modules in one MTA conversation.
 *--*/
#include <stddef.h>

#include "dkim.h"
#include "dkim_milter.h"
#include "milter_main.h"

const struct milter_app dkim_module = {
	.name = "dkim",
	.section = &dkim_section,
	.socket_offset = offsetof(struct dkim_conf, socket),
	.pid_file_offset = offsetof(struct dkim_conf, pid_file),
	.desc = &dkim_milter_desc,
	.state_load = dkim_state_load,
	.state_free = dkim_state_free,
	.describe = dkim_state_describe,
};
