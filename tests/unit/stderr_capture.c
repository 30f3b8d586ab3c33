/*++
 * NAME
 *	stderr_capture 3
 * SUMMARY
 *	what a unit test's code writes to stderr, as text
 * DESCRIPTION
 *	See stderr_capture.h. A file, not a pipe: a line longer than a pipe
 *	buffer would block the writer, which is the test itself.
 *--*/
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "stderr_capture.h"

static char stderr_capture_file[PATH_MAX];
static int stderr_capture_saved = -1;

/* stderr_capture_start - point fd 2 at an empty temporary file */
void
stderr_capture_start(void)
{
	const char *base = getenv("TMPDIR");
	int fd;

	snprintf(stderr_capture_file, sizeof(stderr_capture_file),
		 "%s/stderr_capture.XXXXXX", base ? base : "/tmp");
	fd = mkstemp(stderr_capture_file);
	assert_true(fd >= 0);
	fflush(stderr);
	stderr_capture_saved = dup(STDERR_FILENO);
	assert_true(stderr_capture_saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
}

/* stderr_capture_end - restore fd 2, return what was written; caller frees */
char *
stderr_capture_end(void)
{
	FILE *fp;
	char *text;
	long len;

	fflush(stderr);
	assert_true(dup2(stderr_capture_saved, STDERR_FILENO) >= 0);
	close(stderr_capture_saved);
	stderr_capture_saved = -1;
	fp = fopen(stderr_capture_file, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	text[len] = '\0';
	fclose(fp);
	unlink(stderr_capture_file);
	return text;
}
