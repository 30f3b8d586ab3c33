/*++
 * NAME
 *	postmill-limit 8
 * SUMMARY
 *	per-sender rate limits and quotas shared through Redis
 * SYNOPSIS
 *	postmill-limit [-f] [-n] [-V] [-c config]
 * DESCRIPTION
 *	The parameter table is limit_params.c; the callbacks limit_milter.c;
 *	the decision limit_policy.c. This file only hands them to the
 *	skeleton. The manual page is postmill-limit.8.
 *--*/
#include "limit.h"
#include "limit_milter.h"
#include "milter_main.h"

int
main(int argc, char **argv)
{
	return milter_main(argc, argv, &limit_module);
}
