/*++
 * NAME
 *	limit_milter 3h
 * SUMMARY
 *	postmill-limit's libmilter callback table
 *--*/
#ifndef POSTMILL_LIMIT_MILTER_H
#define POSTMILL_LIMIT_MILTER_H

#include <libmilter/mfapi.h>

extern const struct smfiDesc limit_milter_desc;

/* the module (limit_module.c): section, callbacks, state hooks */
struct milter_app;
extern const struct milter_app limit_module;

#endif
