/*++
 * NAME
 *	dkim_milter 3h
 * SUMMARY
 *	postmill-dkim's libmilter callback table
 *--*/
#ifndef POSTMILL_DKIM_MILTER_H
#define POSTMILL_DKIM_MILTER_H

#include <libmilter/mfapi.h>

extern const struct smfiDesc dkim_milter_desc;

/* the module (dkim_module.c): section, callbacks, state hooks */
struct milter_app;
extern const struct milter_app dkim_module;

#endif
