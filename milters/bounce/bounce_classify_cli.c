/*++
 * NAME
 *	bounce_classify_cli 3
 * SUMMARY
 *	postmill-bounce --classify FILE...: classify saved messages offline
 * DESCRIPTION
 *	bounce_classify_main(argc, argv) with argv[1] = "--classify" reads
 *	each FILE ("-" is standard input), at most BOUNCE_MSG_MAX bytes of
 *	it (the cap the daemon applies too), classifies it and prints one
 *	line of JSON per file (bounce_report_json.h) on standard output. A
 *	file that cannot be read or parsed still gets its line, with
 *	"error"; the exit status is then 1. No FILE: usage, status 2.
 *--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_classify.h"
#include "bounce_report_json.h"
#include "xalloc.h"

/* read_file - up to cap bytes of a file; -1 with errno on failure */
static long
read_file(const char *path, char *buf, size_t cap)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n;
	int err;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, cap, fp);
	err = ferror(fp) ? errno : 0;
	if (fp != stdin)
		fclose(fp);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return (long)n;
}

/* bounce_classify_main - one JSON line per file */
int
bounce_classify_main(int argc, char **argv)
{
	struct bounce_report *r;
	const char *why, *err;
	char *buf, *line;
	long n;
	int i, status = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s --classify FILE...\n", argv[0]);
		return 2;
	}
	buf = xmalloc(BOUNCE_MSG_MAX);
	r = xmalloc(sizeof(*r));
	for (i = 2; i < argc; i++) {
		err = NULL;
		why = NULL;
		memset(r, 0, sizeof(*r));
		if ((n = read_file(argv[i], buf, BOUNCE_MSG_MAX)) < 0) {
			err = strerror(errno);
			status = 1;
		} else if (bounce_classify(buf, (size_t)n, r, &why) < 0) {
			err = why;
			status = 1;
		}
		line = bounce_report_json(r, argv[i], err);
		printf("%s\n", line);
		free(line);
	}
	free(r);
	free(buf);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
