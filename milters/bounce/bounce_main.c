/*++
 * NAME
 *	postmill-bounce 8
 * SUMMARY
 *	placeholder main() until the daemon lands (branch bounce-milter)
 * SYNOPSIS
 *	postmill-bounce --classify FILE...
 * DESCRIPTION
 *	Only the offline mode: "--classify" hands over to
 *	bounce_classify_main() (bounce_classify_cli.c). The daemon's main(),
 *	parameter table and skeleton call replace this file.
 *--*/
#include <stdio.h>
#include <string.h>

#include "bounce_classify.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--classify") == 0)
		return bounce_classify_main(argc, argv);
	fprintf(stderr, "postmill-bounce: daemon not built yet; "
		"usage: postmill-bounce --classify FILE...\n");
	return 1;
}
