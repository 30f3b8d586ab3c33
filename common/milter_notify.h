/*++
 * NAME
 *	milter_notify 3h
 * SUMMARY
 *	tell systemd (Type=notify) where a milter daemon is in its life
 * SYNOPSIS
 *	#include "milter_notify.h"
 *
 *	void milter_notify_ready(pid_t main_pid);
 *	void milter_notify_reloading(void);
 *	void milter_notify_reloaded(int ok);
 *	void milter_notify_stopping(void);
 * DESCRIPTION
 *	Thin wrappers over sd_notify(3). Without $NOTIFY_SOCKET (not started
 *	by systemd) each call does nothing. The supervisor says READY=1 with
 *	its own pid as MAINPID once the worker reported "OK", RELOADING=1
 *	when it forwards a reload and STOPPING=1 at a stop; the worker says
 *	READY=1 when a reload is over, successful or not (the unit sets
 *	NotifyAccess=all for that). Errors are ignored: the service manager
 *	is told, never asked.
 *--*/
#ifndef POSTMILL_MILTER_NOTIFY_H
#define POSTMILL_MILTER_NOTIFY_H

#include <sys/types.h>

void milter_notify_ready(pid_t main_pid);
void milter_notify_reloading(void);
void milter_notify_reloaded(int ok);
void milter_notify_stopping(void);

#endif
