/*++
 * NAME
 *	bounce_classify_cli 3
 * SUMMARY
 *	postmill-bounce --classify FILE... (placeholder)
 *--*/
#include <stdio.h>

#include "bounce_classify.h"

/* bounce_classify_main - offline classification of saved messages */
int
bounce_classify_main(int argc, char **argv)
{
	fprintf(stderr, "postmill-bounce: --classify not implemented yet\n");
	return 1;
}
