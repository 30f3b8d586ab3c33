/*++
 * NAME
 *	auth_module 3
 * SUMMARY
 *	postmill-auth as a module: what a daemon needs to host it
 * DESCRIPTION
 *	The parameter section, the callbacks and the state hooks of
 *	postmill-auth, in one struct: postmill-auth's main() hands it to the
 *	daemon skeleton (milter_main()), and postmill-suite hosts it beside
 *	the other modules in one MTA conversation.
 *--*/
#include <stddef.h>

#include "auth.h"
#include "auth_milter.h"
#include "milter_main.h"

const struct milter_app auth_module = {
	.name = "auth",
	.section = &auth_section,
	.socket_offset = offsetof(struct auth_conf, socket),
	.pid_file_offset = offsetof(struct auth_conf, pid_file),
	.desc = &auth_milter_desc,
	.state_load = auth_state_load,
	.state_free = auth_state_free,
	.describe = auth_state_describe,
};
