/*++
 * NAME
 *	postmill-suite 8
 * SUMMARY
 *	the postmill milters in one MTA conversation
 * SYNOPSIS
 *	postmill-suite [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is suite_params.c; the module list
 *	suite_state.c; the host's callbacks engine/mproto_chain.c. This
 *	file only hands the module (suite_module.c) to the skeleton. The
 *	manual page is postmill-suite.8.
 *--*/
#include "milter_main.h"
#include "suite.h"

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &suite_module);
}
