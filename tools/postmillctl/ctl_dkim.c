/*++
 * NAME
 *	ctl_dkim 3
 * SUMMARY
 *	postmillctl dkim: key generation and DNS checks
 *--*/
#include <stdio.h>

#include "ctl.h"

/* ctl_dkim - placeholder until the key modules land */
int
ctl_dkim(int argc, char **argv, const char *config_path)
{
	fprintf(stderr, "postmillctl dkim: not built yet\n");
	return 2;
}
