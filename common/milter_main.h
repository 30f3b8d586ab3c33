/*++
 * NAME
 *	milter_main 3h
 * SUMMARY
 *	the skeleton every postmill milter daemon runs in
 * SYNOPSIS
 *	#include "milter_main.h"
 *
 *	int milter_main(int argc, char **argv, const struct milter_app *app);
 *
 *	struct milter_snapshot *milter_snapshot_acquire(void);
 *	void milter_snapshot_release(struct milter_snapshot *snap);
 * DESCRIPTION
 *	milter_main() is all of main() for a milter, as Postfix's
 *	single_server_main() is for a Postfix daemon: options (-c FILE, -f,
 *	-n, -V), configuration and state loading (every error reported, then
 *	exit 1 before any socket opens), the libmilter socket, the pid file,
 *	the privilege drop, signals, and smfi_main().
 *
 *	Process model. The process started by the operator (or its daemon
 *	copy) is a small supervisor: it binds the socket as root, writes the
 *	pid file and forks one worker that drops privileges and runs
 *	libmilter. libmilter's own signal thread ends the process on SIGHUP,
 *	so SIGHUP cannot reach libmilter: the supervisor receives it and
 *	tells the worker to reload with SIGUSR1. SIGTERM/SIGINT stop both,
 *	letting sessions in progress finish for up to MILTER_DRAIN_SECONDS
 *	(the worker keeps HUP/TERM/INT/USR1 blocked from the fork on, so
 *	they reach smfi_main()'s signal thread or the reload thread, never
 *	the default action). The worker sets its parent-death signal after
 *	the switch to run_user and stops when the supervisor dies. A worker
 *	that dies is restarted with back-off; while none runs (and while one
 *	drains at a stop) the supervisor accepts and closes connections at
 *	once, so that the MTA applies its default action without waiting.
 *
 *	Snapshots. Configuration and loaded state (keys, tables) form one
 *	immutable snapshot. A reload builds a new snapshot beside the old one
 *	and swaps one pointer; a snapshot is freed when the last callback
 *	holding it releases it. A reload that fails keeps the old snapshot
 *	and logs every error. Callbacks take a snapshot with
 *	milter_snapshot_acquire() at the start of a message and release it
 *	when the message ends.
 *
 *	The app hooks: state_load() builds the milter's state from a loaded
 *	configuration (adding every problem to the errlist and returning NULL
 *	on failure); state_free() releases it; describe() (optional) prints a
 *	summary for -n ("3 keys, 5 signing rules").
 *--*/
#ifndef POSTMILL_MILTER_MAIN_H
#define POSTMILL_MILTER_MAIN_H

#include <stdio.h>
#include <libmilter/mfapi.h>

#include "cfg.h"
#include "cfg_common.h"
#include "errlist.h"

#define MILTER_DRAIN_SECONDS	15

struct milter_snapshot {
	const struct common_conf *common;
	const void		 *conf;		/* the milter's section values */
	void			 *state;	/* what state_load() built */
	unsigned		  refs;		/* owned by milter_main.c */
	unsigned long		  generation;	/* 1 at start, +1 per reload */
	struct milter_snapshot	 *owner;	/* a hosted module's: the host's */
};

struct milter_app {
	const char			*name;		/* "dkim" */
	const struct cfg_section	*section;
	size_t				 socket_offset;	/* char * in section values */
	size_t				 pid_file_offset; /* char * in section values */
	const struct smfiDesc		*desc;
	void	*(*state_load)(const struct common_conf *common,
			       const void *conf, const char *config_path,
			       struct errlist *el);
	void	 (*state_free)(void *state);
	void	 (*describe)(const void *state, FILE *fp);
	/*
	 * A host of modules (postmill-suite): its state is a struct
	 * milter_module_set, and its callbacks are made from the loaded
	 * snapshot (which modules, in which order) before the socket opens.
	 */
	bool	 hosts_modules;
	const struct smfiDesc *(*desc_for)(const struct milter_snapshot *snap);
};

/*
 * The state of a host of modules: one snapshot per module, loaded from
 * the same file, in the host's order. milter_snapshot_select(i) makes
 * milter_snapshot_acquire() in this thread return module i's snapshot
 * (holding a reference to the host's); -1 the host's own.
 */
#define MILTER_MODULES_MAX	16

struct milter_module_set {
	size_t			  n;
	const struct milter_app	 *apps[MILTER_MODULES_MAX];
	struct milter_snapshot	 *snaps[MILTER_MODULES_MAX];
};

void	milter_snapshot_select(int module);

int milter_main(int argc, char **argv, const struct milter_app *app);

/*
 * milter_qid - refresh a message's queue id from the {i} macro. Postfix
 * assigns the id only after the first accepted RCPT and sends {i} late,
 * so callbacks call this again at each stage; until then the id stays
 * LOG_NOQUEUE. The id is the MTA's text: it is escaped for log lines.
 */
const char *milter_qid(SMFICTX *ctx, char *qid, size_t qidlen);

struct milter_snapshot *milter_snapshot_acquire(void);
void milter_snapshot_release(struct milter_snapshot *snap);

/* milter_snapshot_load - config + state from a file; NULL + errors */
struct milter_snapshot *milter_snapshot_load(const struct milter_app *app,
					     const char *path,
					     struct errlist *el);
/* milter_snapshot_install - make snap current, taking the caller's reference */
void milter_snapshot_install(const struct milter_app *app,
			     struct milter_snapshot *snap);
void milter_snapshot_free(const struct milter_app *app,
			  struct milter_snapshot *snap);

#endif
