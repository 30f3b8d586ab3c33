/*++
 * NAME
 *	ctl_dkim_rotate_io 3
 * SUMMARY
 *	postmillctl dkim rotate: reading and replacing the tables and the state file
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	Every table edit goes through a temporary file in the table's
 *	directory, with the table's mode and owner, that must load as
 *	postmill-dkim loads it (dkim_tables_load(), the other table being
 *	the current one) before rename(2) replaces the table; lines that are
 *	not edited, and comments, stay byte for byte (dkim_rotate.h edits
 *	the text). A table that changed since it was read is not replaced.
 *
 *	ctl_dkim_rotate_io_slurp() reads a whole regular file (at most
 *	64 MiB, as dkim_tables reads), NULL with errno set on error;
 *	ctl_dkim_rotate_io_read_table() the same, printing why.
 *	ctl_dkim_rotate_io_load() loads the tables as postmill-dkim does,
 *	NULL after printing why. ctl_dkim_rotate_io_replace() writes, checks
 *	and renames; ctl_dkim_rotate_io_save_state() writes the state file
 *	that way. ctl_dkim_rotate_io_fsync_dir() makes a rename durable.
 *	Text returned is the caller's to free; errors go to stderr.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_dkim_rotate.h"
#include "dkim_rotate.h"
#include "dkim_tables.h"
#include "errlist.h"
#include "xalloc.h"

#define ROT_TABLE_MAX	(64 * 1024 * 1024)	/* as dkim_tables.c reads */

/* ctl_dkim_rotate_io_slurp - a whole file; NULL (errno set) on error */
char *
ctl_dkim_rotate_io_slurp(const char *path, size_t *len, struct stat *st)
{
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char   *buf;
	size_t	got = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, st) < 0) {
		int	e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st->st_mode) || st->st_size > ROT_TABLE_MAX) {
		close(fd);
		errno = S_ISREG(st->st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	buf = xmalloc((size_t)st->st_size + 1);
	while (got < (size_t)st->st_size) {
		ssize_t	n = read(fd, buf + got, (size_t)st->st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* ctl_dkim_rotate_io_load - the tables as postmill-dkim loads them; NULL after printing why */
struct dkim_tables *
ctl_dkim_rotate_io_load(const struct ctl_dkim_rotate_ctx *c, const char *key_table,
			const char *signing_table, const char *what)
{
	struct errlist el = ERRLIST_INIT;
	struct dkim_tables *t;

	t = dkim_tables_load(key_table, signing_table, c->conf->sender_login_map,
			     &c->topt, &el);
	if (t == NULL) {
		if (what != NULL)
			fprintf(stderr, "postmillctl: %s would not load; nothing replaced:\n", what);
		errlist_print(&el, stderr);
	}
	errlist_free(&el);
	return t;
}

/* ctl_dkim_rotate_io_fsync_dir - make a rename durable */
void
ctl_dkim_rotate_io_fsync_dir(const char *path)
{
	char   *dir = xstrdup(path);
	char   *slash = strrchr(dir, '/');
	int	fd;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/*
 * ctl_dkim_rotate_io_replace - write TEXT to a temporary file beside PATH with ORIG's mode
 * and owner (or 0644 for a new state file), check that the tables load with
 * it, check that PATH did not change meanwhile, rename it over PATH.
 */
int
ctl_dkim_rotate_io_replace(const struct ctl_dkim_rotate_ctx *c, const char *path,
			   const struct stat *orig, const char *text, size_t len,
			   enum ctl_dkim_rotate_io_which which)
{
	char   *tmp, *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	size_t	off = 0;
	int	fd;
	struct stat now;

	if (slash != NULL)
		*slash = '\0';
	tmp = xasprintf("%s/.%s.rotate.XXXXXX", slash ? (*dir ? dir : "/") : ".", base);
	free(dir);
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		ssize_t	n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != len || fchmod(fd, orig ? orig->st_mode & 07777 : 0644) < 0
	    || (orig && geteuid() == 0 && fchown(fd, orig->st_uid, orig->st_gid) < 0)
	    || fsync(fd) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);
	if (which != CTL_DKIM_ROTATE_IO_STATE) {
		const char *spec = which == CTL_DKIM_ROTATE_IO_KEYTAB ? c->conf->key_table
		    : c->conf->signing_table;
		const char *prefix = strncmp(spec, "refile:", 7) == 0 ? "refile:" : "";
		char   *tspec = xasprintf("%s%s", prefix, tmp);
		char   *what = xasprintf("the edited %s", path);
		struct dkim_tables *t;

		t = ctl_dkim_rotate_io_load(c,
		    which == CTL_DKIM_ROTATE_IO_KEYTAB ? tspec : c->conf->key_table,
		    which == CTL_DKIM_ROTATE_IO_SIGNTAB ? tspec : c->conf->signing_table, what);
		free(tspec);
		free(what);
		if (t == NULL)
			goto fail;
		dkim_tables_free(t);
	}
	/* someone else's edit since we read the file must not be lost */
	if (orig != NULL && (stat(path, &now) < 0 || now.st_ino != orig->st_ino
			     || now.st_size != orig->st_size
			     || now.st_mtim.tv_sec != orig->st_mtim.tv_sec
			     || now.st_mtim.tv_nsec != orig->st_mtim.tv_nsec)) {
		fprintf(stderr, "postmillctl: %s changed while we edited it; "
			"nothing replaced, run again\n", path);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		fprintf(stderr, "postmillctl: rename %s to %s: %s\n", tmp, path, strerror(errno));
		goto fail;
	}
	ctl_dkim_rotate_io_fsync_dir(path);
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return -1;
}

/* ctl_dkim_rotate_io_replace_free - ctl_dkim_rotate_io_replace(), then free(edit) */
int
ctl_dkim_rotate_io_replace_free(const struct ctl_dkim_rotate_ctx *c, const char *path,
				const struct stat *orig, char *edit, size_t len,
				enum ctl_dkim_rotate_io_which which)
{
	int	rc = ctl_dkim_rotate_io_replace(c, path, orig, edit, len, which);

	free(edit);
	return rc;
}

/* ctl_dkim_rotate_io_save_state - write the state file */
int
ctl_dkim_rotate_io_save_state(struct ctl_dkim_rotate_ctx *c)
{
	struct stat st;
	size_t	len;
	char   *text = dkim_rotate_format(&c->state, &len);
	int	rc;

	/* the state file is ours: no concurrent-edit check, keep its mode */
	if (stat(c->state_path, &st) == 0) {
		st.st_mode &= 07777;
		rc = ctl_dkim_rotate_io_replace(c, c->state_path, NULL, text, len,
						CTL_DKIM_ROTATE_IO_STATE);
		if (rc == 0)
			(void)chmod(c->state_path, st.st_mode);
	} else {
		rc = ctl_dkim_rotate_io_replace(c, c->state_path, NULL, text, len,
						CTL_DKIM_ROTATE_IO_STATE);
	}
	free(text);
	return rc;
}

/* ctl_dkim_rotate_io_read_table - a table's text and its stat; NULL after printing why */
char *
ctl_dkim_rotate_io_read_table(const char *path, size_t *len, struct stat *st)
{
	char   *text = ctl_dkim_rotate_io_slurp(path, len, st);

	if (text == NULL)
		fprintf(stderr, "postmillctl: %s: %s\n", path, strerror(errno));
	return text;
}
