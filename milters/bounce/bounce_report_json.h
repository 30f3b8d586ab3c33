/*++
 * NAME
 *	bounce_report_json 3h
 * SUMMARY
 *	a bounce report as one line of JSON
 * SYNOPSIS
 *	#include "bounce_report_json.h"
 * DESCRIPTION
 *	bounce_report_json() writes a report as one JSON object on one line
 *	(json-c, no trailing newline):
 *	  file		the name given (omitted when NULL)
 *	  kind		dsn, arf, auto_reply, text, unknown
 *	  class, reason	the report's (the first failed recipient's)
 *	  recipient, status, diagnostic
 *			of the first failed recipient, else of the first one,
 *			else ""
 *	  original_message_id, envelope_id
 *	  recipients	every recipient: recipient, status, action, reason,
 *			class, diagnostic, remote_mta
 *	  error		only when err is not NULL (the message could not be
 *			read or parsed)
 *	Bytes that are not valid UTF-8 become '?', so the line is always
 *	valid JSON. The caller frees the result with free().
 * THREAD SAFETY
 *	Reentrant.
 *--*/
#ifndef POSTMILL_BOUNCE_REPORT_JSON_H
#define POSTMILL_BOUNCE_REPORT_JSON_H

#include "bounce_classify.h"

char   *bounce_report_json(const struct bounce_report *r, const char *file,
			   const char *err);

#endif
