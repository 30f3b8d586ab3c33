/*++
 * NAME
 *	postmill-bounce 8
 * SUMMARY
 *	tag outbound mail, validate and classify returning bounces
 * SYNOPSIS
 *	postmill-bounce [-f] [-n] [-V] [-c config]
 *	postmill-bounce --classify FILE...
 * DESCRIPTION
 *	The parameter table is bounce_params.c; the callbacks
 *	bounce_milter.c; the decisions bounce_policy.c. "--classify" hands
 *	over to bounce_classify_main() (bounce_classify_cli.c), the offline
 *	mode. The manual page is postmill-bounce.8.
 *--*/
#include <stddef.h>
#include <string.h>

#include "bounce.h"
#include "bounce_classify.h"
#include "bounce_milter.h"
#include "milter_main.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--classify") == 0)
		return bounce_classify_main(argc, argv);
	return milter_main(argc, argv, &bounce_module);
}
