/*++
 * NAME
 *	milter_fixture 3h
 * SUMMARY
 *	drive a milter's callbacks without an MTA, for unit tests
 * SYNOPSIS
 *	#include "milter_fixture.h"
 * DESCRIPTION
 *	milter_fixture_dir() makes a fresh mkdtemp(3) directory (removed by
 *	milter_fixture_cleanup()); milter_fixture_write() writes a file
 *	there (mode 0600) and returns its path in a static slot (8 slots,
 *	reused in turn).
 *
 *	milter_fixture_install() loads a postmill.conf text as app's
 *	configuration snapshot and makes it current, as a start or a reload
 *	of the daemon does (milter_snapshot_install); -1 and the errors on
 *	stderr when it does not load.
 *
 *	milter_fixture_ctx() is a session as the engine makes one (no
 *	socket): smfi_getpriv()/smfi_setpriv(), smfi_setreply() and
 *	smfi_getsymval() work on it (no macros). milter_fixture_reply() is
 *	the reply text a callback set (or ""), and clears it;
 *	milter_fixture_reply_is() says whether a reply is the one a table
 *	row wants: it starts with want, and "" wants no reply at all.
 *	milter_fixture_ctx_free() runs nothing: call xxfi_close first.
 *	Symbols are prefixed milter_fixture_ because the Makefile links
 *	every non-test file of tests/unit/ into every test binary.
 *--*/
#ifndef POSTMILL_MILTER_FIXTURE_H
#define POSTMILL_MILTER_FIXTURE_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

struct milter_app;

const char *milter_fixture_dir(void);
const char *milter_fixture_write(const char *name, const char *text);
void	milter_fixture_cleanup(void);
int	milter_fixture_install(const struct milter_app *app, const char *conf_text);
SMFICTX *milter_fixture_ctx(void);
const char *milter_fixture_reply(SMFICTX *ctx);
bool	milter_fixture_reply_is(const char *reply, const char *want);
void	milter_fixture_ctx_free(SMFICTX *ctx);

#endif
