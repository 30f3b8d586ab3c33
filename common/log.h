/*++
 * NAME
 *	log 3h
 * SUMMARY
 *	syslog (mail facility) with the Postfix queue id, optional stderr copy
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	log_open() sets the ident ("postmill-dkim"), and whether every line is
 *	also written to stderr (the daemons' -f flag; tests read that copy
 *	because the test machines have no syslog daemon). With the stderr copy
 *	and no syslog socket (/dev/log) at that moment, lines go to stderr
 *	only.
 *
 *	log_msg() writes one line. When qid is not NULL the line starts with
 *	"QID: " as Postfix's own lines do; a message-level line without a queue
 *	id yet passes LOG_NOQUEUE ("NOQUEUE"). Lines at LOG_DEBUG are written
 *	only when log_set_debug() was given a level > 0.
 *
 *	log_escape() copies untrusted text (addresses, header values) for a log
 *	line: non-printable bytes become \xHH, backslash becomes \\, and the
 *	copy is cut at dstlen - 1 bytes with "..." marking the cut. It never
 *	splits an escape. Returns dst.
 * THREAD SAFETY
 *	log_msg() and log_escape() are thread-safe; log_open() is called once.
 *--*/
#ifndef POSTMILL_LOG_H
#define POSTMILL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_NOQUEUE "NOQUEUE"

void log_open(const char *ident, bool to_stderr);
void log_set_debug(int level);
int  log_debug_level(void);
void log_msg(int prio, const char *qid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
