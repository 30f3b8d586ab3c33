/*++
 * NAME
 *	bounce_module 3
 * SUMMARY
 *	postmill-bounce as a module: what a daemon needs to host it
 * DESCRIPTION
 *	The parameter section, the callbacks and the state hooks of
 *	postmill-bounce, in one struct: postmill-bounce's main() hands it to the
 *	daemon skeleton (milter_main()), and postmill-suite hosts it beside
 *	the other modules in one MTA conversation.
 *--*/
#include <stddef.h>

#include "bounce.h"
#include "bounce_milter.h"
#include "milter_main.h"

const struct milter_app bounce_module = {
	.name = "bounce",
	.section = &bounce_section,
	.socket_offset = offsetof(struct bounce_conf, socket),
	.pid_file_offset = offsetof(struct bounce_conf, pid_file),
	.desc = &bounce_milter_desc,
	.state_load = bounce_state_load,
	.state_free = bounce_state_free,
	.describe = bounce_state_describe,
};
