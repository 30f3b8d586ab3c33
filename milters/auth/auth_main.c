/*++
 * NAME
 *	postmill-auth 8
 * SUMMARY
 *	SPF, DKIM verification and DMARC for inbound mail
 * SYNOPSIS
 *	postmill-auth [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is auth_params.c; the callbacks auth_milter.c;
 *	the decision auth_policy.c. This file only hands them to the
 *	skeleton. The manual page is postmill-auth.8.
 *--*/
#include "auth.h"
#include "auth_milter.h"
#include "milter_main.h"

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &auth_module);
}
