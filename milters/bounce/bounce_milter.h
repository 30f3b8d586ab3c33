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

/* the module (bounce_module.c): section, callbacks, state hooks */
struct milter_app;
extern const struct milter_app bounce_module;

#endif
