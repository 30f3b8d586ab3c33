/*++
 * NAME
 *	milter_snapshot 3
 * SUMMARY
 *	immutable configuration snapshots, swapped on reload
 * DESCRIPTION
 *	See milter_main.h. One mutex guards the current pointer and every
 *	reference count; it is held for a few instructions only, so it costs
 *	nothing next to a milter round trip. A snapshot is freed by whoever
 *	drops its last reference: the reload thread when no message holds the
 *	old one, otherwise the callback that releases it last.
 *--*/
#include <pthread.h>
#include <stdlib.h>

#include "cfg.h"
#include "cfg_common.h"
#include "log.h"
#include "milter_main.h"
#include "xalloc.h"

static pthread_mutex_t snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_snapshot *snapshot_current;
static const struct milter_app *snapshot_app;
/* which hosted module the callbacks of this thread belong to (-1: none) */
static __thread int snapshot_module = -1;

/* milter_snapshot_select - callbacks of module i run in this thread now */
void
milter_snapshot_select(int module)
{
	snapshot_module = module;
}

/* milter_snapshot_load - config + state from a file */
struct milter_snapshot *
milter_snapshot_load(const struct milter_app *app, const char *path,
		     struct errlist *el)
{
	const struct cfg_section *sections[2] = {&cfg_common_section, app->section};
	void *values[2];
	struct milter_snapshot *snap;

	if (cfg_load(path, sections, 2, values, el) < 0)
		return NULL;
	snap = xcalloc(1, sizeof(*snap));
	snap->common = values[0];
	snap->conf = values[1];
	snap->refs = 1;
	snap->state = app->state_load ? app->state_load(snap->common, snap->conf,
							 path, el) : NULL;
	if (app->state_load && snap->state == NULL) {
		if (el->count == 0)
			errlist_add(el, "%s: cannot load state", path);
		milter_snapshot_free(app, snap);
		return NULL;
	}
	return snap;
}

/* milter_snapshot_free - release everything a snapshot owns */
void
milter_snapshot_free(const struct milter_app *app, struct milter_snapshot *snap)
{
	if (snap == NULL)
		return;
	if (snap->state && app->state_free)
		app->state_free(snap->state);
	cfg_values_free(&cfg_common_section, (void *)snap->common);
	cfg_values_free(app->section, (void *)snap->conf);
	free(snap);
}

/* milter_snapshot_install - make snap current (takes the caller's reference) */
void
milter_snapshot_install(const struct milter_app *app, struct milter_snapshot *snap)
{
	struct milter_snapshot *old;
	bool free_old;

	pthread_mutex_lock(&snapshot_lock);
	snapshot_app = app;
	old = snapshot_current;
	if (old != NULL)
		snap->generation = old->generation + 1;
	else if (snap->generation == 0)
		snap->generation = 1;
	snapshot_current = snap;
	free_old = old != NULL && --old->refs == 0;
	pthread_mutex_unlock(&snapshot_lock);
	if (free_old)
		milter_snapshot_free(app, old);
}

/* milter_snapshot_acquire - the current snapshot, with a reference */
struct milter_snapshot *
milter_snapshot_acquire(void)
{
	struct milter_snapshot *snap;

	pthread_mutex_lock(&snapshot_lock);
	snap = snapshot_current;
	if (snap != NULL)
		snap->refs++;
	if (snap != NULL && snapshot_module >= 0 && snapshot_app->hosts_modules) {
		struct milter_module_set *set = snap->state;
		struct milter_snapshot *mod = NULL;

		if ((size_t)snapshot_module < set->n) {
			mod = set->snaps[snapshot_module];
			/* released through the host's snapshot, whose reference
			 * keeps the module's alive */
			mod->owner = snap;
			mod->generation = snap->generation;
		} else {
			snap->refs--;	/* cannot happen: the host's own index */
		}
		snap = mod;
	}
	pthread_mutex_unlock(&snapshot_lock);
	return snap;
}

/* milter_snapshot_release - drop a reference; free an outdated snapshot */
void
milter_snapshot_release(struct milter_snapshot *snap)
{
	bool free_it;

	if (snap == NULL)
		return;
	if (snap->owner != NULL)	/* a hosted module's: the host's reference */
		snap = snap->owner;
	pthread_mutex_lock(&snapshot_lock);
	free_it = --snap->refs == 0;
	pthread_mutex_unlock(&snapshot_lock);
	if (free_it)
		milter_snapshot_free(snapshot_app, snap);
}
