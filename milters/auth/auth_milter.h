/*++
 * NAME
 *	auth_milter 3h
 * SUMMARY
 *	postmill-auth's libmilter callback table
 *--*/
#ifndef POSTMILL_AUTH_MILTER_H
#define POSTMILL_AUTH_MILTER_H

#include <libmilter/mfapi.h>

extern const struct smfiDesc auth_milter_desc;

/* the module (auth_module.c): section, callbacks, state hooks */
struct milter_app;
extern const struct milter_app auth_module;

#endif
