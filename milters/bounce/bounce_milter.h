/*++
 * NAME
 *	bounce_milter 3h
 * SUMMARY
 *	postmill-bounce libmilter callbacks
 *--*/
#ifndef POSTMILL_BOUNCE_MILTER_H
#define POSTMILL_BOUNCE_MILTER_H

#include <libmilter/mfapi.h>

extern const struct smfiDesc bounce_milter_desc;

#endif
