/*++
 * NAME
 *	events_parse 3h
 * SUMMARY
 *	one line of Postfix's mail log, parsed (pure)
 * SYNOPSIS
 *	#include "events_parse.h"
 *
 *	int events_parse_line(const char *line, size_t len,
 *		struct events_line *out, const char **why);
 *	int events_tag_id(const char *addr, size_t len,
 *		char idhex[EVENTS_ID_HEX]);
 * DESCRIPTION
 *	events_parse_line() reads one log line (no NUL needed, no line end,
 *	any bytes) in the format Postfix's postlogd writes to maillog_file
 *	and syslog daemons write ("TIME HOST SERVICE[PID]: TEXT"; TIME in
 *	either the traditional "Mon DD HH:MM:SS" or the RFC 3339 form, it is
 *	kept as text and never interpreted). It recognizes the lines that
 *	tell what happened to a message:
 *	  QID: message-id=<ID>			EVENTS_L_MSGID (cleanup)
 *	  QID: from=<S>, size=N, nrcpt=N (queue active)
 *						EVENTS_L_FROM (qmgr)
 *	  QID: from=<S>, status=expired, returned to sender
 *						EVENTS_L_EXPIRED (qmgr)
 *	  QID: to=<R>, [orig_to=<O>,] relay=H, delay=D, delays=..,
 *	      dsn=X.Y.Z, status=WORD (TEXT)	EVENTS_L_TO (smtp, lmtp,
 *						local, virtual, error, ...)
 *	  QID: removed				EVENTS_L_REMOVED (qmgr)
 *	  QID|NOQUEUE: [milter-]reject: RCPT from C: REPLY; from=<S>
 *	      to=<R> proto=.. helo=<..>		EVENTS_L_REJECT (smtpd,
 *						cleanup)
 *	Anything else is EVENTS_L_OTHER (returns 0). Fields are copied,
 *	truncated to their arrays, NUL-terminated, control bytes replaced by
 *	'?'. A line that looks like one of the above but breaks its grammar
 *	(an unterminated address, no status, a queue id of bad characters)
 *	returns -1 with *why a static text, kind EVENTS_L_OTHER.
 *
 *	events_tag_id() takes an envelope sender (without angle brackets)
 *	and, when it is a postmill-bounce VERP address "b-TAG@DOMAIN" with a
 *	well-formed tag of version 1 (bounce_tag.h), writes the message id
 *	in it as 20 lower-case hex digits and returns 0; otherwise -1. The
 *	tag's MAC is not checked here: the caller believes the id only when
 *	the message record it names has the queue id of the log line, which
 *	no forger of a sender address can arrange.
 * THREAD SAFETY
 *	Pure functions: no I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_EVENTS_PARSE_H
#define POSTMILL_EVENTS_PARSE_H

#include <stddef.h>

#define EVENTS_LINE_MAX		8192	/* longer lines are cut (postlogd: 2048) */
#define EVENTS_ADDR_MAX		320
#define EVENTS_QID_MAX		31
#define EVENTS_ID_HEX		21	/* 20 hex digits and a NUL */

enum events_kind {
	EVENTS_L_OTHER,
	EVENTS_L_MSGID,
	EVENTS_L_FROM,
	EVENTS_L_EXPIRED,
	EVENTS_L_TO,
	EVENTS_L_REMOVED,
	EVENTS_L_REJECT,
};

struct events_line {
	enum events_kind kind;
	char		 time[40];	/* as logged */
	char		 service[32];	/* "smtp", "qmgr", ... */
	char		 qid[EVENTS_QID_MAX + 1];	/* "" for NOQUEUE */
	char		 addr[EVENTS_ADDR_MAX + 1];	/* from= or to= */
	char		 orig_to[EVENTS_ADDR_MAX + 1];
	char		 rcpt[EVENTS_ADDR_MAX + 1];	/* REJECT: to= */
	char		 status[16];	/* sent, deferred, bounced, ... */
	char		 dsn[16];
	char		 relay[128];
	char		 delay[16];
	char		 text[512];	/* TO: (TEXT); REJECT: the reply */
	char		 msgid[256];
	long		 nrcpt;		/* FROM; -1 when absent */
	long long	 size;		/* FROM; -1 when absent */
};

int	events_parse_line(const char *line, size_t len, struct events_line *out,
			  const char **why);
int	events_tag_id(const char *addr, size_t len, char idhex[EVENTS_ID_HEX]);

#endif
