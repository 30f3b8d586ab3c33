/*++
 * NAME
 *	log 3
 * SUMMARY
 *	syslog (mail facility) with the Postfix queue id, optional stderr copy
 * DESCRIPTION
 *	See log.h. The stderr copy is written with one write(2) per line so
 *	that lines from concurrent libmilter threads never interleave.
 *--*/
#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "name_code.h"

static bool log_to_stderr;
static bool log_to_syslog = true;
static int log_debug;
static const char *log_ident = "postmill";

/* log_open - set ident and the stderr copy; once, before threads start */
void
log_open(const char *ident, bool to_stderr)
{
	log_ident = ident;
	log_to_stderr = to_stderr;
	/*
	 * A foreground daemon with no syslog socket (a container, a test box)
	 * logs to stderr only: glibc's syslog() would otherwise try to connect
	 * to /dev/log again for every line (socket, connect, close) and drop
	 * the line anyway. With a socket at start, lines go to both, as before.
	 */
	if (to_stderr && access(_PATH_LOG, W_OK) != 0) {
		log_to_syslog = false;
		return;
	}
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_debug - lines at LOG_DEBUG are written only when level > 0 */
void
log_set_debug(int level)
{
	log_debug = level;
}

/* log_debug_level - the level set by log_set_debug() */
int
log_debug_level(void)
{
	return log_debug;
}

/* the level word of a stderr line, by syslog priority (RFC 5424 6.2.1) */
static const struct name_code log_level_names[] = {
	{"emerg", LOG_EMERG},
	{"alert", LOG_ALERT},
	{"crit", LOG_CRIT},
	{"error", LOG_ERR},
	{"warning", LOG_WARNING},
	{"notice", LOG_NOTICE},
	{"info", LOG_INFO},
	{"debug", LOG_DEBUG},
	{NULL, -1},
};

/* log_msg - one line, prefixed with the queue id when there is one */
void
log_msg(int prio, const char *qid, const char *fmt, ...)
{
	char body[2048];
	va_list ap;

	if (prio == LOG_DEBUG && log_debug <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);

	if (log_to_syslog && qid != NULL)
		syslog(prio, "%s: %s", qid, body);
	else if (log_to_syslog)
		syslog(prio, "%s", body);

	if (log_to_stderr) {
		char line[2300];
		struct timespec ts;
		struct tm tm;
		char stamp[32];
		int n;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s.%03ld %s[%d]: %s%s%s%s\n",
			     stamp, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
			     prio <= LOG_WARNING ? name_code_str(log_level_names, prio & 7) : "",
			     prio <= LOG_WARNING ? ": " : "",
			     qid ? qid : "", qid ? ": " : "");
		if (n > 0 && (size_t)n < sizeof(line)) {
			size_t blen = strlen(body);

			if (blen > sizeof(line) - (size_t)n - 2)
				blen = sizeof(line) - (size_t)n - 2;
			/* the prefix ended with "\n": put the body before it */
			memcpy(line + n - 1, body, blen);
			line[n - 1 + blen] = '\n';
			n = n + (int)blen;
			if (write(STDERR_FILENO, line, (size_t)n) < 0) {
				/* nothing sensible to do: stderr is gone */
			}
		}
	}
}

/* log_escape_len - bytes the escaped form of c takes */
static size_t
log_escape_len(unsigned char c)
{
	return (c == '\\') ? 2 : (c < 0x20 || c > 0x7e) ? 4 : 1;
}

/* log_escape - printable copy of untrusted text for a log line */
char *
log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t total = 0, limit, o = 0;

	if (dstlen == 0)
		return dst;
	for (size_t i = 0; i < srclen; i++)
		total += log_escape_len((unsigned char)src[i]);
	/*
	 * Everything fits: copy all. Otherwise keep room for "...": from
	 * dstlen 4 on there is room for the mark alone, and a cut must show
	 * (an empty copy would read as an empty value).
	 */
	limit = total < dstlen ? total : (dstlen >= 4 ? dstlen - 4 : 0);
	for (size_t i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = log_escape_len(c);

		if (o + need > limit)
			break;
		if (c == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else if (need == 4) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			dst[o++] = (char)c;
		}
	}
	if (total >= dstlen && dstlen >= 4) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}
