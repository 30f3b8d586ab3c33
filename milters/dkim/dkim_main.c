/*++
 * NAME
 *	postmill-dkim 8
 * SUMMARY
 *	DKIM-sign outbound mail for hosted domains
 * SYNOPSIS
 *	postmill-dkim [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is dkim_params.c; the callbacks dkim_milter.c;
 *	the decision dkim_policy.c. This file only hands the module (dkim_module.c) to the skeleton.
 *--*/
#include "dkim.h"
#include "dkim_milter.h"
#include "milter_main.h"

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &dkim_module);
}
