/*++
 * NAME
 *	bounce_msg 3h
 * SUMMARY
 *	one returning message: its bounded copy and the events it makes
 * SYNOPSIS
 *	#include "bounce_msg.h"
 * DESCRIPTION
 *	bounce_buf_add() appends to a copy of the message that never grows
 *	past buf->max bytes: the rest is counted in buf->dropped, not kept
 *	(a bounce that large is a returned original; its head says enough).
 *	bounce_buf_free() releases the bytes and resets the struct.
 *
 *	bounce_events_build() turns a classified report into the events
 *	bounce_store_record() writes, one per recipient the report names,
 *	each with its plan (bounce_policy_plan()) and its address
 *	normalized into ev->norm. A report that names nobody (a complaint,
 *	an auto-reply, a plain-text bounce) but is about a failure gets one
 *	event for the recipient of the original message when the message
 *	record holds exactly one (rec_rcpts, comma-separated), else for the
 *	returned header's To: hint; an event whose recipient stays unknown
 *	never suppresses. Returns the number of events (at most
 *	BOUNCE_MAX_RCPTS).
 *
 *	With rec_complete (rec_rcpts lists every recipient of the original
 *	message), an event for an address that is not in rec_rcpts is
 *	marked unlisted and its plan cleared: it goes on the stream but
 *	never touches the suppression list. The tag only proves that we
 *	sent the message; the recipients a report names are the receiver's
 *	word, and without this check whoever got one tagged message could
 *	return a report naming anybody and suppress them for that sender
 *	(or everyone, with bounce_suppress_scope = global). RFC 3464 2.3.1
 *	Original-Recipient is what the classifier reports when the MTA kept
 *	it, so an alias expanded on the way still matches.
 *
 *	bounce_first_failed() is the index of the event for the headers and
 *	the log line: the first hard or soft one, else the first; -1 when
 *	there is none.
 *
 *	bounce_header_clean() copies text for a header field we add: printable
 *	ASCII only, at most dstlen - 1 bytes.
 * THREAD SAFETY
 *	No I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_MSG_H
#define POSTMILL_BOUNCE_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_classify.h"
#include "bounce_policy.h"
#include "bounce_store.h"

struct bounce_buf {
	char		*data;
	size_t		 len;
	size_t		 max;
	size_t		 dropped;
};

struct bounce_evslot {
	struct bounce_event ev;
	char		 norm[BOUNCE_ADDR_MAX + 1];
	bool		 unlisted;	/* not a recipient of the message */
};

void	bounce_buf_add(struct bounce_buf *b, const char *p, size_t len);
void	bounce_buf_free(struct bounce_buf *b);
size_t	bounce_events_build(const struct bounce_report *rep,
			    const struct bounce_policy *pol,
			    const char *rec_rcpts, bool rec_complete,
			    struct bounce_evslot slots[BOUNCE_MAX_RCPTS]);
int	bounce_first_failed(const struct bounce_evslot *slots, size_t n);
void	bounce_header_clean(char *dst, size_t dstlen, const char *src);

#endif
