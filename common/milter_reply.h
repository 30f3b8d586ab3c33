/*++
 * NAME
 *	milter_reply 3h
 * SUMMARY
 *	one table per milter from verdict to SMTP reply, and one function
 *	that applies it
 * SYNOPSIS
 *	#include "milter_reply.h"
 *
 *	const struct milter_reply *milter_reply_find(
 *				const struct milter_reply_table *t,
 *				int verdict);
 *	bool	milter_reply_text(const struct milter_reply *r,
 *				const char *arg, char *buf, size_t len);
 *	sfsistat milter_reply_apply(SMFICTX *ctx,
 *				const struct milter_reply_table *t,
 *				int verdict, const char *arg);
 * DESCRIPTION
 *	Postfix builds every refusal in one function (smtpd_check_reject());
 *	a postmill milter keeps every refusal it can give in one table of
 *	struct milter_reply rows: the verdict (the milter's own enum value),
 *	the sfsistat, the SMTP reply code, the enhanced status code
 *	(RFC 3463) and the text. A text holds at most one "%s", replaced by
 *	the argument the callback passes (a domain, or a text a pure
 *	function of the milter built, e.g. a quota with its numbers); an
 *	argument never goes through a printf format.
 *
 *	milter_reply_find() is the row of a verdict, or NULL.
 *	milter_reply_text() writes the row's text with arg in place of
 *	"%s" (NULL arg: ""); false when it would not fit (buf then holds
 *	the truncated text). Both are pure.
 *
 *	milter_reply_apply() sets the reply of the row (smfi_setreply) and
 *	returns its sfsistat; a verdict with no row is our bug: it logs,
 *	sets no reply and returns SMFIS_TEMPFAIL (our trouble never becomes
 *	a 5xx, STYLE 2.5).
 * THREAD SAFETY
 *	Tables are const; nothing is shared.
 *--*/
#ifndef POSTMILL_MILTER_REPLY_H
#define POSTMILL_MILTER_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#define MILTER_REPLY_TEXT_MAX	1024	/* an SMTP reply line is at most 512 */

struct milter_reply {
	int		verdict;	/* the milter's enum value */
	sfsistat	rc;		/* SMFIS_REJECT or SMFIS_TEMPFAIL */
	const char     *rcode;		/* "550" */
	const char     *xcode;		/* "5.7.1" (RFC 3463) */
	const char     *text;		/* at most one "%s": the argument */
};

struct milter_reply_table {
	const char     *milter;		/* "dkim", for the log */
	const struct milter_reply *rows;
	size_t		count;
};

const struct milter_reply *milter_reply_find(const struct milter_reply_table *t,
					     int verdict);
bool	milter_reply_text(const struct milter_reply *r, const char *arg,
			  char *buf, size_t len);
sfsistat milter_reply_apply(SMFICTX *ctx, const struct milter_reply_table *t,
			    int verdict, const char *arg);

#endif
