/*++
 * NAME
 *	stderr_capture 3h
 * SUMMARY
 *	what a unit test's code writes to stderr (log_msg()'s copy), as text
 * SYNOPSIS
 *	#include "stderr_capture.h"
 *	void	 stderr_capture_start(void);
 *	char	*stderr_capture_end(void);
 * DESCRIPTION
 *	stderr_capture_start() points fd 2 at an empty mkstemp(3) file in
 *	$TMPDIR (else /tmp); stderr_capture_end() points it back and returns
 *	everything written meanwhile, NUL-terminated (caller frees), and
 *	removes the file. One capture at a time; a failure fails the test
 *	(cmocka asserts).
 *	Symbols are prefixed stderr_capture_ because the Makefile links
 *	every non-test file of tests/unit/ into every test binary.
 *--*/
#ifndef POSTMILL_STDERR_CAPTURE_H
#define POSTMILL_STDERR_CAPTURE_H

void	 stderr_capture_start(void);
char	*stderr_capture_end(void);

#endif
