/*++
 * NAME
 *	milter_sessions 3h
 * SUMMARY
 *	the set of milter sessions in progress, for the drain at stop
 * SYNOPSIS
 *	#include "milter_sessions.h"
 *
 *	void milter_sessions_start(const void *ctx);
 *	void milter_sessions_end(const void *ctx);
 *	unsigned milter_sessions_count(void);
 *	unsigned milter_sessions_wait(unsigned seconds);
 * DESCRIPTION
 *	A set of session handles (the SMFICTX pointer), not a counter:
 *	start() adds ctx, end() removes it, and each is a no-op when ctx
 *	already is (start) or is not (end) in the set. So a session counts
 *	exactly once whatever order the milter engine calls back in:
 *	libmilter calls xxfi_close for a connection that never sent CONNECT
 *	(a health check such as "nc -z"), and both engines call it after
 *	QUIT_NC and again at the end of the connection; a counter decremented
 *	there goes negative and the drain ends at once.
 *
 *	wait() blocks until the set is empty or SECONDS have passed and
 *	returns what is left. All functions are thread-safe.
 *--*/
#ifndef POSTMILL_MILTER_SESSIONS_H
#define POSTMILL_MILTER_SESSIONS_H

void milter_sessions_start(const void *ctx);
void milter_sessions_end(const void *ctx);
unsigned milter_sessions_count(void);
unsigned milter_sessions_wait(unsigned seconds);

#endif
