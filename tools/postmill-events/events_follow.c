/*++
 * NAME
 *	events_follow 3
 * SUMMARY
 *	follow a log file as logrotate and postlogd leave it
 * DESCRIPTION
 *	events_follow_init() sets the path; f->pos is where to start (the
 *	committed position: device, inode, offset, fingerprint).
 *	events_follow_next()
 *	returns 1 with the next complete line (without its LF; borrowed,
 *	valid until the next call) and where it starts, 0 when there is no
 *	complete line now, -1 when the file cannot be read (logged once per
 *	state change by the caller).
 *
 *	Opening: a file with the saved device and inode (and, when both are
 *	known, the saved fingerprint of its first line: an inode is reused
 *	once its file is gone) continues at the saved offset, unless it is
 *	now shorter (truncated: copytruncate, or an operator's "> file"),
 *	then from 0. Another file at the path means the log was rotated
 *	while we were down: the saved file is looked for among the path's
 *	siblings whose names start with its name (at most
 *	EVENTS_ROTATED_SCAN directory entries): a regular file with the
 *	saved device and inode (renamed: "maillog.1",
 *	"maillog.20261206-221500"), or one whose first line has the saved
 *	fingerprint (pos.fp: the first 64 bits of the SHA-256 of the first
 *	line, at most EVENTS_FP_MAX octets; a copy left by copytruncate), or
 *	a ".gz" one whose first line has it (compressed with gzip, postfix
 *	logrotate's default maillog_file_compressor; read through zlib).
 *	When it has more than the saved offset, that unread tail is read
 *	first, with the saved positions (device, inode, offsets: event ids
 *	are those the file itself would give), then the path's file from 0.
 *	A rotated file that is gone, compressed otherwise (bzip2, xz), or a
 *	position without a fingerprint (an older version's) cannot be found:
 *	the new file is read from 0 and events_follow_lost() says so (the
 *	caller logs it; not after a truncation in place, which may have
 *	come after everything was read). At end of file the
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

#include <openssl/evp.h>
#include <zlib.h>

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

/* ef_fp - the fingerprint of a first line (data[0..len), no LF) */
static unsigned long long
ef_fp(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned long long fp = 0;

	if (len > EVENTS_FP_MAX)
		len = EVENTS_FP_MAX;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();		/* SHA-256 cannot fail but for OOM */
	for (int i = 0; i < 8; i++)
		fp = fp << 8 | md[i];
	return fp != 0 ? fp : 1;	/* 0 means none */
}

/*
 * ef_fp_of - the fingerprint of the first line in buf[0..n) read from the
 * start of a file; 0 when there is no complete line yet (a first line of
 * EVENTS_FP_MAX octets or more is complete for this)
 */
static unsigned long long
ef_fp_of(const char *buf, size_t n)
{
	const char *nl = memchr(buf, '\n', n);

	if (nl != NULL)
		return ef_fp(buf, (size_t)(nl - buf));
	return n >= EVENTS_FP_MAX ? ef_fp(buf, EVENTS_FP_MAX) : 0;
}

/* ef_fp_fd - the fingerprint of an open plain file, 0 none yet */
static unsigned long long
ef_fp_fd(int fd)
{
	char	 buf[EVENTS_FP_MAX];
	ssize_t	 n = pread(fd, buf, sizeof(buf), 0);

	return n > 0 ? ef_fp_of(buf, (size_t)n) : 0;
}

/*
 * ef_gz_at - a gzip file whose first line has fingerprint fp, positioned
 * at off: 1 (*out set), 0 not that file, 2 that file but nothing past off
 */
static int
ef_gz_at(int fd, unsigned long long fp, long long off, gzFile *out)
{
	char	 buf[EVENTS_FP_MAX];
	gzFile	 gz = gzdopen(fd, "rb");
	int	 got;

	if (gz == NULL) {
		close(fd);
		return 0;
	}
	got = gzread(gz, buf, sizeof(buf));
	if (got <= 0 || ef_fp_of(buf, (size_t)got) != fp
	    || gzseek(gz, (z_off_t)off, SEEK_SET) != (z_off_t)off) {
		gzclose(gz);
		return 0;
	}
	if ((got = gzgetc(gz)) < 0) {	/* read to its end before */
		gzclose(gz);
		return 2;
	}
	if (gzungetc(got, gz) < 0) {
		gzclose(gz);
		return 0;
	}
	*out = gz;
	return 1;
}

/*
 * ef_find_rotated - the saved file, renamed or copied beside the path by a
 * rotation while we were not running: among the siblings whose names
 * start with the path's, a regular file with the saved device and inode
 * (renamed), or one whose first line has the saved fingerprint (a copy:
 * copytruncate), or a ".gz" one whose first line has it (compressed, *gzp
 * set). Returns a descriptor of the plain file positioned nowhere yet (0
 * and *gzp for a compressed one), -2 when it is there but was read to its
 * end, or -1 when there is none (removed, compressed otherwise)
 */
static int
ef_find_rotated(const struct events_follow *f, gzFile *gzp)
{
	const char *slash = strrchr(f->path, '/');
	const char *base = slash != NULL ? slash + 1 : f->path;
	size_t	 blen = strlen(base), seen = 0;
	char	*dir = slash != NULL ? xstrndup(f->path, (size_t)(slash - f->path)) : xstrdup(".");
	struct dirent *de;
	DIR	*d;
	int	 rc = -1;

	*gzp = NULL;
	if (dir[0] == '\0') {		/* the log is in / */
		free(dir);
		dir = xstrdup("/");
	}
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return -1;
	}
	while (rc == -1 && seen++ < EVENTS_ROTATED_SCAN && (de = readdir(d)) != NULL) {
		char	 p[4096];
		size_t	 l = strlen(de->d_name);
		struct stat st;
		bool	 same_ino;
		int	 n, fd;

		if (strncmp(de->d_name, base, blen) != 0 || l == blen
		    || (n = snprintf(p, sizeof(p), "%s/%s", dir, de->d_name)) < 0
		    || (size_t)n >= sizeof(p) || lstat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		same_ino = (unsigned long long)st.st_dev == f->pos.dev
		    && (unsigned long long)st.st_ino == f->pos.ino;
		if (!same_ino && f->pos.fp == 0)
			continue;	/* nothing else to know it by */
		if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			continue;
		if (l > blen + 3 && strcmp(de->d_name + l - 3, ".gz") == 0) {
			switch (ef_gz_at(fd, f->pos.fp, f->pos.off, gzp)) {
			case 1: rc = 0; break;
			case 2: rc = -2; break;
			default: break;
			}
			continue;
		}
		if (fstat(fd, &st) < 0 || (!same_ino && ef_fp_fd(fd) != f->pos.fp)
		    || (same_ino && f->pos.fp != 0 && ef_fp_fd(fd) != f->pos.fp)) {
			close(fd);		/* replaced, or another file */
			continue;
		}
		if (st.st_size <= f->pos.off) {
			close(fd);
			rc = -2;		/* nothing unread */
			continue;
		}
		rc = fd;
	}
	closedir(d);
	free(dir);
	return rc;
}

/*
 * ef_open - open the path; continue at pos when it is the saved file (its
 * device and inode, and its first line's fingerprint when both are known:
 * an inode is reused once its file is gone), else read the saved file's
 * unread tail first when a rotation left it beside the path
 */
static int
ef_open(struct events_follow *f)
{
	struct stat st;
	int	fd = open(f->path, O_RDONLY | O_CLOEXEC), old;
	unsigned long long fp;
	gzFile	 gz = NULL;
	bool	 same_ino = false;

	if (fd < 0 && (errno != ENOENT || f->pos.ino == 0))
		return -1;
	if (fd >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (fd >= 0 && f->pos.ino != 0 && (unsigned long long)st.st_dev == f->pos.dev
	    && (unsigned long long)st.st_ino == f->pos.ino && f->pos.fp != 0
	    && (fp = ef_fp_fd(fd)) != 0 && fp != f->pos.fp) {
		/*
		 * Another first line at the saved inode: the file was truncated
		 * (copytruncate: the copy may be beside it) or rotated away
		 * and its inode reused. Either way the saved file is elsewhere.
		 */
		same_ino = true;
		st.st_ino = 0;
	}
	if (f->pos.ino != 0 && (fd < 0 || (unsigned long long)st.st_dev != f->pos.dev
				|| (unsigned long long)st.st_ino != f->pos.ino)) {
		if ((old = ef_find_rotated(f, &gz)) >= 0) {
			/* its unread tail first, at the saved position */
			if (fd >= 0)
				close(fd);
			f->gz = gz;		/* compressed: through zlib */
			f->fd = gz != NULL ? -1 : old;
			f->rotated = true;
			if (gz == NULL && lseek(old, (off_t)f->pos.off, SEEK_SET) < 0) {
				close(old);
				f->fd = -1;
				return -1;
			}
			f->start = f->end = 0;
			f->skipping = false;
			return 0;
		}
		if (fd < 0)
			return -1;	/* neither: wait for the path */
		/* not found: its tail is gone (a truncation is not reported:
		 * it may have come after everything was read) */
		if (old == -1 && f->pos.off > 0 && !same_ino)
			f->lost = f->pos;
		st.st_ino = 0;		/* the path's file from 0 */
	}
	if ((unsigned long long)st.st_dev != f->pos.dev
	    || (unsigned long long)st.st_ino != f->pos.ino || st.st_size < f->pos.off) {
		if (fstat(fd, &st) < 0) {
			close(fd);
			return -1;
		}
		f->pos.dev = (unsigned long long)st.st_dev;
		f->pos.ino = (unsigned long long)st.st_ino;
		f->pos.off = 0;
		f->pos.fp = 0;		/* its first line is read next */
	} else if (f->pos.fp == 0) {
		f->pos.fp = ef_fp_fd(fd);	/* a position saved without one */
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

/* ef_close - close the file being read, plain or compressed */
static void
ef_close(struct events_follow *f)
{
	if (f->gz != NULL)
		gzclose(f->gz);		/* closes its descriptor */
	else if (f->fd >= 0)
		close(f->fd);
	f->gz = NULL;
	f->fd = -1;
	f->rotated = false;
}

/* ef_switched - at EOF: has the path been rotated or truncated */
static int
ef_switched(struct events_follow *f)
{
	struct stat st, cur;

	if (stat(f->path, &st) < 0)
		return 0;		/* gone for now: keep the old file */
	if (f->rotated)			/* a rotated file is done at its end */
		return 1;
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

		if (f->fd < 0 && f->gz == NULL && ef_open(f) < 0)
			return -1;
		nl = f->end > f->start ? memchr(f->buf + f->start, '\n', f->end - f->start) : NULL;
		if (nl != NULL) {
			size_t l = (size_t)(nl - (f->buf + f->start));
			bool skip = f->skipping;

			if (f->pos.off == 0)	/* the file's first line */
				f->pos.fp = ef_fp(f->buf + f->start, l);
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

			if (f->pos.off == 0)
				f->pos.fp = ef_fp(f->buf, f->end);
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
		n = f->gz != NULL ? gzread(f->gz, f->buf + f->end, (unsigned)(sizeof(f->buf) - f->end))
		    : read(f->fd, f->buf + f->end, sizeof(f->buf) - f->end);
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
		ef_close(f);
		f->pos.ino = 0;
		f->pos.off = 0;
		f->pos.fp = 0;
		if (ef_open(f) < 0)
			return -1;
	}
}

/* events_follow_close - close and free */
void
events_follow_close(struct events_follow *f)
{
	ef_close(f);
	free(f->path);
	f->path = NULL;
}
