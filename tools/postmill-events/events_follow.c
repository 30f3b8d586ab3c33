/*++
 * NAME
 *	events_follow 3
 * SUMMARY
 *	follow a log file as logrotate and postlogd leave it
 * DESCRIPTION
 *	events_follow_init() sets the path; f->pos is where to start (the
 *	committed position: device, inode, offset). events_follow_next()
 *	returns 1 with the next complete line (without its LF; borrowed,
 *	valid until the next call) and where it starts, 0 when there is no
 *	complete line now, -1 when the file cannot be read (logged once per
 *	state change by the caller).
 *
 *	Opening: a file with the saved device and inode continues at the
 *	saved offset, unless it is now shorter (truncated: copytruncate, or
 *	an operator's "> file"), then from 0. A file with another inode at
 *	the path means the log was rotated while we were down: the saved
 *	inode is looked for among the path's siblings whose names start
 *	with its name ("maillog.1", "maillog.20261206-221500", "maillog-1";
 *	at most EVENTS_ROTATED_SCAN directory entries), and when it is there
 *	and longer than the saved offset its unread tail is read first, then
 *	the new file from 0 (the same switch as a rotation seen live). A
 *	rotated file that was compressed (postfix logrotate's default
 *	maillog_file_compressor, gzip) or removed has another inode or none:
 *	its tail cannot be found, the new file is read from 0 and
 *	events_follow_lost() says so (the caller logs it). At end of file the
 *	path is checked again: another inode there means the file was
 *	rotated (rename + new file): the old one was read to its end, the
 *	new one is read from 0; a size below our offset means truncation:
 *	from 0. A line longer than the buffer is returned cut at
 *	EVENTS_READ_BUF - 1 bytes and the rest skipped.
 *--*/
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "xalloc.h"

/* events_follow_init - nothing open yet; f->pos may be set by the caller */
void
events_follow_init(struct events_follow *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	f->fd = -1;
}

/*
 * ef_find_rotated - open the sibling of the path with the saved device and
 * inode (the log renamed by a rotation while we were not running); the
 * descriptor, -2 when it is there but was read to its end, or -1 when
 * there is none (compressed, removed)
 */
static int
ef_find_rotated(const struct events_follow *f)
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash != NULL ? slash + 1 : f->path;
	size_t	 blen = strlen(base), seen = 0;
	char	*dir = slash != NULL ? xstrndup(f->path, (size_t)(slash - f->path)) : xstrdup(".");
	struct dirent *de;
	DIR	*d;
	int	 fd = -1;

	if (dir[0] == '\0') {		/* the log is in / */
		free(dir);
		dir = xstrdup("/");
	}
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return -1;
	}
	while (fd == -1 && seen++ < EVENTS_ROTATED_SCAN && (de = readdir(d)) != NULL) {
		char	 p[4096];
		struct stat st;
		int	 n;

		if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == '\0'
		    || (n = snprintf(p, sizeof(p), "%s/%s", dir, de->d_name)) < 0
		    || (size_t)n >= sizeof(p))
			continue;
		if (lstat(p, &st) < 0 || !S_ISREG(st.st_mode)
		    || (unsigned long long)st.st_dev != f->pos.dev
		    || (unsigned long long)st.st_ino != f->pos.ino)
			continue;
		if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0
		    && (fstat(fd, &st) < 0 || (unsigned long long)st.st_ino != f->pos.ino
			|| st.st_size <= f->pos.off)) {
			close(fd);		/* replaced, or nothing unread */
			fd = -2;
			break;
		}
	}
	closedir(d);
	free(dir);
	return fd;
}

/* ef_open - open the path; continue at pos when it is the same file */
static int
ef_open(struct events_follow *f)
{
	struct stat st;
	int	fd = open(f->path, O_RDONLY | O_CLOEXEC), old;

	if (fd < 0 && (errno != ENOENT || f->pos.ino == 0))
		return -1;
	if (fd >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	/* not the saved file (or no file yet): was the saved one rotated? */
	if (f->pos.ino != 0 && (fd < 0 || (unsigned long long)st.st_dev != f->pos.dev
				|| (unsigned long long)st.st_ino != f->pos.ino)) {
		if ((old = ef_find_rotated(f)) >= 0) {	/* its unread tail first */
			if (fd >= 0)
				close(fd);
			fd = old;
			if (fstat(fd, &st) < 0) {
				close(fd);
				return -1;
			}
		} else if (fd < 0) {
			return -1;	/* neither: wait for the path */
		} else if (old == -1 && f->pos.off > 0) {
			f->lost = f->pos;	/* not found: its tail is gone */
		}
	}
	if ((unsigned long long)st.st_dev != f->pos.dev
	    || (unsigned long long)st.st_ino != f->pos.ino || st.st_size < f->pos.off) {
		f->pos.dev = (unsigned long long)st.st_dev;
		f->pos.ino = (unsigned long long)st.st_ino;
		f->pos.off = 0;
	}
	if (lseek(fd, (off_t)f->pos.off, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	f->fd = fd;
	f->start = f->end = 0;
	f->skipping = false;
	return 0;
}

/* events_follow_lost - a saved position whose file could not be found */
int
events_follow_lost(struct events_follow *f, struct events_pos *lost)
{
	if (f->lost.ino == 0)
		return 0;
	*lost = f->lost;
	memset(&f->lost, 0, sizeof(f->lost));
	return 1;
}

/* ef_switched - at EOF: has the path been rotated or truncated */
static int
ef_switched(struct events_follow *f)
{
	struct stat st, cur;

	if (stat(f->path, &st) < 0)
		return 0;		/* gone for now: keep the old file */
	if ((unsigned long long)st.st_dev != f->pos.dev
	    || (unsigned long long)st.st_ino != f->pos.ino)
		return 1;
	if (fstat(f->fd, &cur) == 0 && cur.st_size < f->pos.off + (long long)(f->end - f->start))
		return 1;
	return 0;
}

/* events_follow_next - see above */
int
events_follow_next(struct events_follow *f, const char **line, size_t *len,
		   struct events_pos *at)
{
	for (;;) {
		char	*nl;
		ssize_t	 n;

		if (f->fd < 0 && ef_open(f) < 0)
			return -1;
		nl = f->end > f->start ? memchr(f->buf + f->start, '\n', f->end - f->start) : NULL;
		if (nl != NULL) {
			size_t l = (size_t)(nl - (f->buf + f->start));
			bool skip = f->skipping;

			*at = f->pos;
			*line = f->buf + f->start;
			*len = l;
			f->pos.off += (long long)l + 1;
			f->start += l + 1;
			f->skipping = false;
			if (skip)
				continue;
			return 1;
		}
		if (f->start > 0) {	/* keep the partial line at the front */
			memmove(f->buf, f->buf + f->start, f->end - f->start);
			f->end -= f->start;
			f->start = 0;
		}
		if (f->end == sizeof(f->buf)) {	/* a line longer than buf */
			bool skip = f->skipping;

			*at = f->pos;
			*line = f->buf;
			*len = f->end;
			f->pos.off += (long long)f->end;
			f->start = f->end = 0;
			f->skipping = true;
			if (skip)
				continue;
			return 1;
		}
		n = read(f->fd, f->buf + f->end, sizeof(f->buf) - f->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n > 0) {
			f->end += (size_t)n;
			continue;
		}
		if (!ef_switched(f))
			return 0;
		/* rotated or truncated: a partial last line is dropped */
		close(f->fd);
		f->fd = -1;
		f->pos.ino = 0;
		f->pos.off = 0;
		if (ef_open(f) < 0)
			return -1;
	}
}

/* events_follow_close - close and free */
void
events_follow_close(struct events_follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	f->path = NULL;
}
