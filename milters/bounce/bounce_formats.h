/*++
 * NAME
 *	bounce_formats 3h
 * SUMMARY
 *	small report formats of single vendors: PowerMTA categories, JMRP
 * SYNOPSIS
 *	#include "bounce_formats.h"
 * DESCRIPTION
 *	bounce_powermta_category() maps PowerMTA's bounce category (the
 *	X-PowerMTA-BounceCategory field of each recipient's DSN fields,
 *	"bad-mailbox", "quota-issues", ...) to a reason: 1 and *reason, or 0
 *	for an unknown or empty category.
 *
 *	bounce_jmrp_recipient() reads a Microsoft Junk Mail Reporting
 *	Program complaint (Outlook.com, Hotmail): multipart/mixed with the
 *	original attached as message/rfc822 and no feedback-report part;
 *	the attached header names the complaining recipient in
 *	X-HmXmrOriginalRecipient. It returns 1 with the address in out, or
 *	0 when the walked message is not such a report.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, the tables are constant.
 *--*/
#ifndef POSTMILL_BOUNCE_FORMATS_H
#define POSTMILL_BOUNCE_FORMATS_H

#include <stddef.h>

#include "bounce_classify.h"
#include "bounce_mime.h"

int	bounce_powermta_category(const char *cat, size_t len,
				 enum bounce_reason *reason);
int	bounce_jmrp_recipient(const struct bounce_mime *m, char *out,
			      size_t cap);

#endif
