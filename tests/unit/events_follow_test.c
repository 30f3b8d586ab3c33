/*++
 * NAME
 *	events_follow_test 1
 * SUMMARY
 *	unit tests of the log follower (tools/postmill-events/events_follow.c)
 * DESCRIPTION
 *	Real files in a mkdtemp(3) directory: complete lines only (a partial
 *	last line waits for its LF); positions point at each line's start
 *	and resume there (a restart at a committed position reads the rest,
 *	nothing twice); rotation (rename + new file at the path) reads the
 *	old file to its end, then the new one from 0; truncation (copytruncate)
 *	restarts at 0; a saved position of another inode starts at 0; a line
 *	longer than the buffer comes cut, once, and the next line is whole;
 *	a missing file is -1 until it appears. Rotated while stopped: a
 *	saved position in a file renamed to maillog.1 reads that file's
 *	unread tail, then the new file from 0 (also when the new file does
 *	not exist yet); a renamed file that is gone (compressed) is reported
 *	by events_follow_lost() and the new file read from 0; a rotated file
 *	read to its end before the stop is not reported lost. Compressed
 *	(gzip, as postfix logrotate does): the .gz sibling whose first line
 *	has the saved fingerprint gives the unread tail, with the original
 *	file's positions; another .gz (a different first line), or a position
 *	without a fingerprint, is lost, said once; the saved inode reused by
 *	the new file is known by its first line. copytruncate while stopped:
 *	the copy (found by its first line) gives the tail, then the
 *	truncated file from 0.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "events.h"

static char dir[] = "/tmp/pm-follow-XXXXXX";
static char path[128];

/* append - text to the log */
static void
append(const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* next - the next line as a string, or NULL (0) */
static char *
next(struct events_follow *f, struct events_pos *at)
{
	static char buf[EVENTS_READ_BUF + 1];
	const char *l;
	size_t	 len;
	int	 r = events_follow_next(f, &l, &len, at);

	if (r != 1)
		return NULL;
	memcpy(buf, l, len);
	buf[len] = '\0';
	return buf;
}

/* test_follow - the whole life of a log */
static void
test_follow(void **state)
{
	struct events_follow f, g;
	struct events_pos at, saved;
	char	 rotated[160], *big;
	const char *l;
	size_t	 len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/maillog", dir);
	events_follow_init(&f, path);
	assert_int_equal(events_follow_next(&f, &l, &len, &at), -1);	/* no file yet */
	append("one\ntwo\nthr");
	assert_string_equal(next(&f, &at), "one");
	assert_int_equal(at.off, 0);
	assert_string_equal(next(&f, &at), "two");
	assert_int_equal(at.off, 4);
	assert_null(next(&f, &at));		/* "thr" has no LF yet */
	saved = f.pos;				/* committed after "two" */
	assert_int_equal(saved.off, 8);
	append("ee\nfour\n");
	assert_string_equal(next(&f, &at), "three");
	assert_string_equal(next(&f, &at), "four");
	assert_null(next(&f, &at));
	/* a restart at the committed position reads from "three" */
	events_follow_init(&g, path);
	g.pos = saved;
	assert_string_equal(next(&g, &at), "three");
	assert_string_equal(next(&g, &at), "four");
	events_follow_close(&g);
	/* rotation: the old file's last line, then the new file from 0 */
	append("five\n");
	snprintf(rotated, sizeof(rotated), "%s/maillog.1", dir);
	assert_int_equal(rename(path, rotated), 0);
	append("six\n");
	assert_string_equal(next(&f, &at), "five");
	assert_string_equal(next(&f, &at), "six");
	assert_int_equal(at.off, 0);
	assert_null(next(&f, &at));
	/* truncation: from 0 again */
	assert_int_equal(truncate(path, 0), 0);
	append("7\n");
	assert_string_equal(next(&f, &at), "7");
	assert_int_equal(at.off, 0);
	/* a saved position of another inode: from 0 */
	events_follow_init(&g, path);
	g.pos.dev = saved.dev;
	g.pos.ino = saved.ino;		/* the rotated file's */
	g.pos.off = 100;
	assert_string_equal(next(&g, &at), "7");
	events_follow_close(&g);
	/* a line longer than the buffer: cut once, the next line whole */
	big = malloc(EVENTS_READ_BUF + 100);
	memset(big, 'x', EVENTS_READ_BUF + 98);
	big[EVENTS_READ_BUF + 98] = '\n';
	big[EVENTS_READ_BUF + 99] = '\0';
	append(big);
	append("after\n");
	l = next(&f, &at);
	assert_non_null(l);
	assert_int_equal(strlen(l), EVENTS_READ_BUF);
	assert_string_equal(next(&f, &at), "after");
	assert_null(next(&f, &at));
	free(big);
	events_follow_close(&f);
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

/* all_lines - every complete line now, joined with '|' */
static void
all_lines(struct events_follow *f, char *out, size_t outlen)
{
	struct events_pos at;
	const char *l;

	out[0] = '\0';
	while ((l = next(f, &at)) != NULL)
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s", out[0] ? "|" : "", l);
}

/* test_rotated_while_stopped - the saved file's unread tail first */
static void
test_rotated_while_stopped(void **state)
{
	static char d2[] = "/tmp/pm-follow2-XXXXXX";
	struct events_follow f, g;
	struct events_pos saved, lost;
	char	 rotated[160], other[160], got[256];

	(void)state;
	assert_non_null(mkdtemp(d2));
	snprintf(path, sizeof(path), "%s/maillog", d2);
	snprintf(rotated, sizeof(rotated), "%s/maillog.1", d2);
	snprintf(other, sizeof(other), "%s/maillogger", d2);
	append("a\nb\n");
	events_follow_init(&f, path);
	all_lines(&f, got, sizeof(got));
	assert_string_equal(got, "a|b");
	saved = f.pos;			/* committed; then stopped */
	events_follow_close(&f);
	append("c\nd\n");		/* logged while stopped */
	assert_int_equal(rename(path, rotated), 0);
	/* the new file is not there yet: the rotated tail is read already */
	events_follow_init(&g, path);
	g.pos = saved;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "c|d");
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	append("e\n");			/* postlogd opens the new file */
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "e");
	events_follow_close(&g);
	/* the same with the new file there at the start */
	events_follow_init(&g, path);
	g.pos = saved;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "c|d|e");
	assert_int_equal(g.pos.off, 2);
	events_follow_close(&g);
	/* a restart at the end of the rotated file: nothing unread, nothing lost */
	events_follow_init(&g, path);
	g.pos = saved;
	g.pos.off = saved.off + 4;	/* after "c\nd\n" */
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "e");
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	events_follow_close(&g);
	/* a sibling that only shares the prefix and the inode of nothing */
	append("f\n");
	{
		FILE *fp = fopen(other, "w");

		assert_non_null(fp);
		fputs("never\n", fp);
		fclose(fp);
	}
	/* the rotated file compressed (another inode): lost, said once */
	assert_int_equal(unlink(rotated), 0);
	events_follow_init(&g, path);
	g.pos = saved;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "e|f");
	assert_int_equal(events_follow_lost(&g, &lost), 1);
	assert_int_equal(lost.ino, saved.ino);
	assert_int_equal(lost.off, saved.off);
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	events_follow_close(&g);
	unlink(path);
	unlink(other);
	rmdir(d2);
}

/* gzip_file - compress src into dst, remove src (as gzip(1) does) */
static void
gzip_file(const char *src, const char *dst)
{
	char	 buf[4096];
	size_t	 n;
	FILE	*in = fopen(src, "r");
	gzFile	 out = gzopen(dst, "wb");

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(gzwrite(out, buf, (unsigned)n), (int)n);
	fclose(in);
	assert_int_equal(gzclose(out), Z_OK);
	assert_int_equal(unlink(src), 0);
}

/* test_rotated_compressed - the tail of a rotated file gzip'ed while down */
static void
test_rotated_compressed(void **state)
{
	static char d3[] = "/tmp/pm-follow3-XXXXXX";
	struct events_follow f, g;
	struct events_pos saved, lost, at;
	char	 rotated[160], gz[170], decoy[160], got[256];

	(void)state;
	assert_non_null(mkdtemp(d3));
	snprintf(path, sizeof(path), "%s/maillog", d3);
	snprintf(rotated, sizeof(rotated), "%s/maillog.20261206-221500", d3);
	snprintf(gz, sizeof(gz), "%s.gz", rotated);
	snprintf(decoy, sizeof(decoy), "%s/maillog.20261205-221500.gz", d3);
	/* an older rotation, compressed: same name pattern, another first line */
	append("old one\nold two\nold three\n");
	assert_int_equal(rename(path, decoy), 0);
	{
		char tmp[170];

		snprintf(tmp, sizeof(tmp), "%s.tmp", decoy);
		assert_int_equal(rename(decoy, tmp), 0);
		gzip_file(tmp, decoy);
	}
	append("first\nsecond\n");
	events_follow_init(&f, path);
	all_lines(&f, got, sizeof(got));
	assert_string_equal(got, "first|second");
	saved = f.pos;			/* committed; then stopped */
	assert_true(saved.fp != 0);
	events_follow_close(&f);
	append("third\nfourth\n");
	/* postfix logrotate: rename, postlogd's new file, then gzip */
	assert_int_equal(rename(path, rotated), 0);
	append("new\n");
	gzip_file(rotated, gz);
	/* the tail through zlib, with the old file's positions, then the new */
	events_follow_init(&g, path);
	g.pos = saved;
	assert_string_equal(next(&g, &at), "third");
	assert_true(at.ino == saved.ino && at.off == saved.off && at.fp == saved.fp);
	assert_string_equal(next(&g, &at), "fourth");
	assert_int_equal(at.off, saved.off + 6);
	assert_string_equal(next(&g, &at), "new");
	assert_int_equal(at.off, 0);
	assert_true(at.ino != saved.ino && at.fp != saved.fp && at.fp != 0);
	{
		struct events_pos fresh = at;	/* the new file's */

		assert_null(next(&g, &at));
		assert_int_equal(events_follow_lost(&g, &lost), 0);
		events_follow_close(&g);
		/* the saved inode reused by the new file (its first line tells):
		 * still the compressed tail first */
		events_follow_init(&g, path);
		g.pos = saved;
		g.pos.dev = fresh.dev;
		g.pos.ino = fresh.ino;
		g.pos.off = 2;
		/* (offsets in the .gz are the saved file's) */
		all_lines(&g, got, sizeof(got));
		assert_string_equal(got, "rst|second|third|fourth|new");
		assert_int_equal(events_follow_lost(&g, &lost), 0);
		events_follow_close(&g);
		events_follow_init(&g, path);
		g.pos = saved;
		all_lines(&g, got, sizeof(got));
	}
	assert_null(next(&g, &at));
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	events_follow_close(&g);
	/* read to its end before the stop: nothing lost, nothing again */
	events_follow_init(&g, path);
	g.pos = saved;
	g.pos.off = saved.off + 13;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "new");
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	events_follow_close(&g);
	/* a position without a fingerprint (an older version's): lost */
	events_follow_init(&g, path);
	g.pos = saved;
	g.pos.fp = 0;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "new");
	assert_int_equal(events_follow_lost(&g, &lost), 1);
	events_follow_close(&g);
	/* the compressed file gone: lost */
	assert_int_equal(unlink(gz), 0);
	events_follow_init(&g, path);
	g.pos = saved;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "new");
	assert_int_equal(events_follow_lost(&g, &lost), 1);
	assert_int_equal(lost.off, saved.off);
	events_follow_close(&g);
	unlink(path);
	unlink(decoy);
	rmdir(d3);
}

/* test_copytruncate_while_stopped - the copy's unread tail first */
static void
test_copytruncate_while_stopped(void **state)
{
	static char d4[] = "/tmp/pm-follow4-XXXXXX";
	struct events_follow f, g;
	struct events_pos saved, lost;
	char	 copy[160], got[256];

	(void)state;
	assert_non_null(mkdtemp(d4));
	snprintf(path, sizeof(path), "%s/maillog", d4);
	snprintf(copy, sizeof(copy), "%s/maillog.1", d4);
	append("a\nb\n");
	events_follow_init(&f, path);
	all_lines(&f, got, sizeof(got));
	assert_string_equal(got, "a|b");
	saved = f.pos;
	events_follow_close(&f);
	append("c\nd\n");
	/* logrotate's copytruncate: copy, then truncate in place */
	{
		FILE	*in = fopen(path, "r"), *out = fopen(copy, "w");
		int	 ch;

		assert_non_null(in);
		assert_non_null(out);
		while ((ch = getc(in)) != EOF)
			putc(ch, out);
		fclose(in);
		fclose(out);
	}
	assert_int_equal(truncate(path, 0), 0);
	append("e\n");
	events_follow_init(&g, path);
	g.pos = saved;
	all_lines(&g, got, sizeof(got));
	assert_string_equal(got, "c|d|e");
	assert_int_equal(events_follow_lost(&g, &lost), 0);
	events_follow_close(&g);
	unlink(path);
	unlink(copy);
	rmdir(d4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_rotated_while_stopped),
		cmocka_unit_test(test_rotated_compressed),
		cmocka_unit_test(test_copytruncate_while_stopped),
	};

	return cmocka_run_group_tests_name("events_follow", tests, NULL, NULL);
}
