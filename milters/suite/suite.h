/*++
 * NAME
 *	suite 3h
 * SUMMARY
 *	postmill-suite: the modules of the suite in one MTA conversation
 * DESCRIPTION
 *	suite_state.c loads the hosted modules (struct milter_module_set);
 *	suite_module.c is the daemon's milter_app, whose callbacks
 *	(engine/mproto_chain.c) run the modules in suite_milters order.
 *--*/
#ifndef POSTMILL_SUITE_H
#define POSTMILL_SUITE_H

#include <stdio.h>

#include "cfg_common.h"
#include "errlist.h"
#include "suite_conf.h"

struct milter_app;

const struct milter_app *suite_find(const char *name);
void	*suite_state_load(const struct common_conf *common, const void *conf,
			  const char *config_path, struct errlist *el);
void	 suite_state_free(void *state);
void	 suite_state_describe(const void *state, FILE *fp);
void	 suite_state_started(const struct suite_conf *c);

extern const struct milter_app suite_module;

#endif
