/*++
 * NAME
 *	syslog_stderr 1
 * SUMMARY
 *	LD_PRELOAD shim: syslog(3) lines of a daemon go to its stderr
 * SYNOPSIS
 *	cc -O2 -shared -fPIC -o syslog_stderr.so bench/syslog_stderr.c
 *	LD_PRELOAD=./syslog_stderr.so opendkim -f -x opendkim.conf 2>log
 * DESCRIPTION
 *	The benchmark machines run no syslog daemon (there is no /dev/log),
 *	and OpenDKIM logs only through syslog(3): its per-message decision
 *	("DKIM-Signature field added") would be lost, and bench/dkim-bench
 *	could not prove that every timed message was signed. This shim
 *	replaces openlog(), closelog(), syslog(), vsyslog() and glibc's
 *	fortified __syslog_chk()/__vsyslog_chk() (what Debian's opendkim
 *	actually calls) with one write(2) per line to file descriptor 2,
 *	"ident[pid]: text". One write per line keeps lines from different
 *	threads whole (the log file is opened O_APPEND by the caller).
 *
 *	Cost: one vsnprintf and one write per line, about what a send(2) to
 *	/dev/log costs, so the milter being measured does comparable work.
 *
 *	Thread-safety: ident is set once by openlog() before threads start.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static const char *shim_ident = "syslog";

/* shim_vlog - format one line and write it to stderr */
static void
shim_vlog(const char *fmt, va_list ap)
{
	char buf[2048];
	int n, m;

	n = snprintf(buf, sizeof(buf), "%s[%ld]: ", shim_ident, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += (size_t)m < sizeof(buf) - (size_t)n - 1 ? m : (int)(sizeof(buf) - (size_t)n - 2);
	buf[n++] = '\n';
	(void)!write(2, buf, (size_t)n);
}

/* openlog - remember the ident */
void
openlog(const char *ident, int option, int facility)
{
	(void)option;
	(void)facility;
	if (ident != NULL)
		shim_ident = ident;
}

/* closelog - nothing to close */
void
closelog(void)
{
}

/* vsyslog - one line to stderr */
void
vsyslog(int pri, const char *fmt, va_list ap)
{
	(void)pri;
	shim_vlog(fmt, ap);
}

/* syslog - one line to stderr */
void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

/* __vsyslog_chk - glibc's fortified vsyslog */
void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(pri, fmt, ap);
}

/* __syslog_chk - glibc's fortified syslog (what -D_FORTIFY_SOURCE builds call) */
void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}
