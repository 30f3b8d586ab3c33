/*++
 * NAME
 *	milter_notify 3
 * SUMMARY
 *	sd_notify(3) glue for the milter supervisor and worker
 * DESCRIPTION
 *	See milter_notify.h. sd_notify() is thread-safe and does nothing
 *	when $NOTIFY_SOCKET is unset; unset_environment is 0 so that the
 *	worker, forked after READY=1 is possible, can still report the end
 *	of a reload.
 *--*/
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "milter_notify.h"

/* milter_notify_ready - start-up is over: the worker serves the socket */
void
milter_notify_ready(pid_t main_pid)
{
	sd_notifyf(0, "READY=1\nMAINPID=%ld\nSTATUS=serving", (long)main_pid);
}

/*
 * milter_notify_reloading - a reload starts. MONOTONIC_USEC lets
 * systemd >= 253 match the READY=1 that ends it (sd_notify(3)).
 */
void
milter_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL
		   + (unsigned long long)ts.tv_nsec / 1000ULL);
}

/*
 * milter_notify_reloaded - the reload ended; a failed one keeps serving.
 * Sent by the worker (run_user): no MAINPID=, which systemd accepts from
 * an unprivileged sender only under conditions, and which is unchanged.
 */
void
milter_notify_reloaded(int ok)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s",
		   ok ? "serving" : "serving; the last reload failed (see the log)");
}

/* milter_notify_stopping - a stop was asked for: sessions drain now */
void
milter_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
