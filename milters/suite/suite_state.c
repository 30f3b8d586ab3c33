/*++
 * NAME
 *	suite_state 3
 * SUMMARY
 *	postmill-suite's loaded state: one snapshot per hosted module
 * DESCRIPTION
 *	suite_state_load() loads, for each name of suite_milters in order,
 *	that module's parameters and state from the same file, exactly as
 *	its own daemon would (milter_snapshot_load(), every error
 *	reported), into a struct milter_module_set.
 *
 *	The callbacks are fixed when the daemon starts (the MTA negotiated
 *	with them), so a reload keeps the module list: a reload whose
 *	suite_milters differs from the running one fails, keeps the old
 *	snapshot and says that a restart is needed.
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_milter.h"
#include "bounce_milter.h"
#include "dkim_milter.h"
#include "limit_milter.h"
#include "milter_main.h"
#include "suite.h"
#include "suite_conf.h"
#include "xalloc.h"

static const struct milter_app *const suite_known[] = {
	&auth_module, &bounce_module, &dkim_module, &limit_module, NULL,
};

/* the module list of the running daemon, for reloads */
static pthread_mutex_t suite_lock = PTHREAD_MUTEX_INITIALIZER;
static char *suite_running;

/* suite_find - a module by name, or NULL */
const struct milter_app *
suite_find(const char *name)
{
	for (size_t i = 0; suite_known[i] != NULL; i++)
		if (strcmp(suite_known[i]->name, name) == 0)
			return suite_known[i];
	return NULL;
}

/* suite_list_text - "auth, bounce, dkim, limit" */
static char *
suite_list_text(const struct suite_conf *c)
{
	char *t = xstrdup("");

	for (size_t i = 0; i < c->milters.count; i++) {
		char *n = xasprintf("%s%s%s", t, i ? ", " : "", c->milters.items[i]);

		free(t);
		t = n;
	}
	return t;
}

/* suite_state_load - every listed module's snapshot, in order */
void *
suite_state_load(const struct common_conf *common, const void *conf,
		 const char *config_path, struct errlist *el)
{
	const struct suite_conf *c = conf;
	struct milter_module_set *set;
	char *list = suite_list_text(c);
	size_t errors = el->count;

	pthread_mutex_lock(&suite_lock);
	if (suite_running != NULL && strcmp(suite_running, list) != 0) {
		errlist_add(el, "%s: suite_milters changed from \"%s\" to \"%s\": "
			    "restart postmill-suite to change the modules",
			    config_path, suite_running, list);
		pthread_mutex_unlock(&suite_lock);
		free(list);
		return NULL;
	}
	pthread_mutex_unlock(&suite_lock);
	if (c->milters.count > MILTER_MODULES_MAX) {
		errlist_add(el, "%s: suite_milters: at most %d modules",
			    config_path, MILTER_MODULES_MAX);
		free(list);
		return NULL;
	}
	set = xcalloc(1, sizeof(*set));
	for (size_t i = 0; i < c->milters.count; i++) {
		const struct milter_app *app = suite_find(c->milters.items[i]);
		struct milter_snapshot *snap;

		if (app == NULL)
			continue;	/* suite_validate() reported it */
		if ((snap = milter_snapshot_load(app, config_path, el)) == NULL)
			continue;
		set->apps[set->n] = app;
		set->snaps[set->n++] = snap;
	}
	if (el->count > errors || set->n != c->milters.count) {
		suite_state_free(set);
		free(list);
		return NULL;
	}
	free(list);
	return set;
}

/* suite_state_started - remember the module list the daemon runs */
void
suite_state_started(const struct suite_conf *c)
{
	char *list = suite_list_text(c);

	pthread_mutex_lock(&suite_lock);
	free(suite_running);
	suite_running = list;
	pthread_mutex_unlock(&suite_lock);
}

/* suite_state_free - every module snapshot */
void
suite_state_free(void *state)
{
	struct milter_module_set *set = state;

	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		milter_snapshot_free(set->apps[i], set->snaps[i]);
	free(set);
}

/* suite_state_describe - each module's summary, for -n */
void
suite_state_describe(const void *state, FILE *fp)
{
	const struct milter_module_set *set = state;

	fprintf(fp, "postmill-suite: %zu module%s in one conversation:",
		set->n, set->n == 1 ? "" : "s");
	for (size_t i = 0; i < set->n; i++)
		fprintf(fp, "%s %s", i ? "," : "", set->apps[i]->name);
	fputc('\n', fp);
	for (size_t i = 0; i < set->n; i++)
		if (set->apps[i]->describe != NULL)
			set->apps[i]->describe(set->snaps[i]->state, fp);
}
