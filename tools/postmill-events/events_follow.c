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
 *	an operator's "> file"), then from 0. A file with another inode is a
 *	new file (rotated while we were down): from 0. At end of file the
 *	path is checked again: another inode there means the file was
 *	rotated (rename + new file): the old one was read to its end, the
 *	new one is read from 0; a size below our offset means truncation:
 *	from 0. A line longer than the buffer is returned cut at
 *	EVENTS_READ_BUF - 1 bytes and the rest skipped.
 *--*/
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

/* ef_open - open the path; continue at pos when it is the same file */
static int
ef_open(struct events_follow *f)
{
	struct stat st;
	int	fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
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
