/*++
 * NAME
 *	suite_module 3
 * SUMMARY
 *	postmill-suite's milter_app: the host of the other modules
 * DESCRIPTION
 *	The callbacks are made when the daemon starts, from the loaded
 *	snapshot: the modules of suite_milters in order, handed to the
 *	engine's chain (engine/mproto_chain.h), which runs them in one
 *	conversation with Postfix's semantics for that smtpd_milters order.
 *	Before a module's callbacks run, the chain selects it, so that its
 *	milter_snapshot_acquire() returns its own configuration.
 *--*/
#include <stddef.h>

#include "milter_main.h"
#include "mproto_chain.h"
#include "suite.h"

/* suite_desc_for - the chain's callbacks for the loaded module list */
static const struct smfiDesc *
suite_desc_for(const struct milter_snapshot *snap)
{
	static struct smfiDesc desc;
	const struct milter_module_set *set = snap->state;
	const struct suite_conf *c = snap->conf;
	struct mproto_chain_module mods[MILTER_MODULES_MAX];
	struct mproto_chain_opts opts = {
		.spool_dir = c->spool_dir,
		.body_memory = (size_t)c->body_memory,
		.header_max = (size_t)c->header_max,
		.select = milter_snapshot_select,
	};

	for (size_t i = 0; i < set->n; i++) {
		mods[i].name = set->apps[i]->name;
		mods[i].desc = set->apps[i]->desc;
	}
	if (mproto_chain_init(mods, set->n, &opts, &desc) != MI_SUCCESS)
		return NULL;
	suite_state_started(c);
	return &desc;
}

const struct milter_app suite_module = {
	.name = "suite",
	.section = &suite_section,
	.socket_offset = offsetof(struct suite_conf, socket),
	.pid_file_offset = offsetof(struct suite_conf, pid_file),
	.desc = NULL,
	.state_load = suite_state_load,
	.state_free = suite_state_free,
	.describe = suite_state_describe,
	.hosts_modules = true,
	.desc_for = suite_desc_for,
};
