/*++
 * NAME
 *	mproto_chain_msg 3
 * SUMMARY
 *	header fields and body kept by a chain host, and edits applied to them
 * DESCRIPTION
 *	See mproto_chain_priv.h. Header edits follow Postfix's cleanup
 *	server (cleanup_milter.c), since the next module must see what
 *	Postfix would have sent it:
 *	- insert at index i: before the i-th field (0 is the first); past
 *	  the end, appended;
 *	- change the i-th field of a name (1-based, names compared without
 *	  case): replaced; an empty value deletes it; when there is no i-th
 *	  field, a non-empty value is appended (cleanup_upd_header()).
 *	The body stays in memory up to a limit, then moves to an unnamed
 *	file (O_TMPFILE: nothing to clean up after a crash, nobody else can
 *	open it); a write error marks the body failed instead of losing
 *	bytes silently.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "mproto_chain_priv.h"
#include "xalloc.h"

/* chain_body_init - an empty body */
void
chain_body_init(struct chain_body *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}

/* chain_body_reset - forget the body, keep nothing */
void
chain_body_reset(struct chain_body *b)
{
	free(b->mem);
	if (b->fd >= 0)
		close(b->fd);
	chain_body_init(b);
}

/* chain_body_spill - move the body to an unnamed file */
static bool
chain_body_spill(struct chain_body *b, const char *dir)
{
	size_t off = 0;

	b->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (b->fd < 0) {
		log_msg(LOG_ERR, NULL, "suite: cannot open a spool file in %s: %m",
			dir);
		return false;
	}
	while (off < b->len) {
		ssize_t w = write(b->fd, b->mem + off, b->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_msg(LOG_ERR, NULL, "suite: spool file write: %m");
			return false;
		}
		off += (size_t)w;
	}
	b->flen = (off_t)b->len;
	free(b->mem);
	b->mem = NULL;
	b->len = b->cap = 0;
	return true;
}

/* chain_body_append - add a chunk, spilling past "memory" bytes */
void
chain_body_append(struct chain_body *b, const void *data, size_t len,
		  size_t memory, const char *spool_dir)
{
	const char *p = data;

	if (b->failed || len == 0)
		return;
	if (b->fd < 0 && b->len + len > memory && !chain_body_spill(b, spool_dir)) {
		b->failed = true;
		return;
	}
	if (b->fd < 0) {
		if (b->len + len > b->cap) {
			b->cap = b->cap ? b->cap : 4096;
			while (b->cap < b->len + len)
				b->cap *= 2;
			if (b->cap > memory && memory >= b->len + len)
				b->cap = memory;
			b->mem = xrealloc(b->mem, b->cap);
		}
		memcpy(b->mem + b->len, data, len);
		b->len += len;
		return;
	}
	while (len > 0) {
		ssize_t w = pwrite(b->fd, p, len, b->flen);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_msg(LOG_ERR, NULL, "suite: spool file write: %m");
			b->failed = true;
			return;
		}
		p += w;
		len -= (size_t)w;
		b->flen += w;
	}
}

/* chain_body_size - bytes in the body */
off_t
chain_body_size(const struct chain_body *b)
{
	return b->fd >= 0 ? b->flen : (off_t)b->len;
}

/* chain_body_read - up to len bytes from off */
ssize_t
chain_body_read(const struct chain_body *b, off_t off, void *buf, size_t len)
{
	off_t size = chain_body_size(b);
	ssize_t r;

	if (off >= size)
		return 0;
	if ((off_t)len > size - off)
		len = (size_t)(size - off);
	if (b->fd < 0) {
		memcpy(buf, b->mem + off, len);
		return (ssize_t)len;
	}
	do
		r = pread(b->fd, buf, len, off);
	while (r < 0 && errno == EINTR);
	return r;
}

/* chain_body_move - "to" becomes "from"; "from" is left empty */
void
chain_body_move(struct chain_body *to, struct chain_body *from)
{
	chain_body_reset(to);
	*to = *from;
	chain_body_init(from);
}

/* chain_msg_init - an empty message */
void
chain_msg_init(struct chain_msg *m)
{
	memset(m, 0, sizeof(*m));
	chain_body_init(&m->body);
}

/* chain_msg_reset - forget the message */
void
chain_msg_reset(struct chain_msg *m)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
	}
	free(m->hdrs);
	chain_body_reset(&m->body);
	chain_msg_init(m);
}

/* chain_msg_room - space for one more field at the end */
static void
chain_msg_room(struct chain_msg *m)
{
	if (m->nhdrs == m->caphdrs) {
		m->caphdrs = m->caphdrs ? 2 * m->caphdrs : 32;
		m->hdrs = xrealloc(m->hdrs, m->caphdrs * sizeof(*m->hdrs));
	}
}

/* chain_msg_add_header - a field from the MTA or a module, at the end;
 * past "max" bytes (0: no limit) the message is marked, not grown */
void
chain_msg_add_header(struct chain_msg *m, const char *name, const char *value,
		     size_t max)
{
	size_t n = strlen(name) + strlen(value);

	if (max != 0 && m->hdr_bytes + n > max) {
		m->hdr_overflow = true;
		return;
	}
	chain_msg_room(m);
	m->hdrs[m->nhdrs].name = xstrdup(name);
	m->hdrs[m->nhdrs].value = xstrdup(value);
	m->nhdrs++;
	m->hdr_bytes += n;
}

/* chain_msg_ins_header - before the index-th field (0: first) */
void
chain_msg_ins_header(struct chain_msg *m, size_t index, const char *name,
		     const char *value)
{
	if (index >= m->nhdrs) {
		chain_msg_add_header(m, name, value, 0);
		return;
	}
	chain_msg_room(m);
	memmove(m->hdrs + index + 1, m->hdrs + index,
		(m->nhdrs - index) * sizeof(*m->hdrs));
	m->hdrs[index].name = xstrdup(name);
	m->hdrs[index].value = xstrdup(value);
	m->nhdrs++;
	m->hdr_bytes += strlen(name) + strlen(value);
}

/* chain_msg_chg_header - the index-th (1-based) field of a name; an empty
 * value deletes it; a missing one is appended unless the value is empty */
void
chain_msg_chg_header(struct chain_msg *m, const char *name, size_t index,
		     const char *value)
{
	size_t seen = 0;
	bool delete = *value == '\0';

	/* Postfix: "index 1 is the first matching header instance"; a 0
	 * from a milter matches none and so appends (libmilter passes it) */
	for (size_t i = 0; i < m->nhdrs && index > 0; i++) {
		if (strcasecmp(m->hdrs[i].name, name) != 0 || ++seen != index)
			continue;
		if (delete) {
			free(m->hdrs[i].name);
			free(m->hdrs[i].value);
			memmove(m->hdrs + i, m->hdrs + i + 1,
				(m->nhdrs - i - 1) * sizeof(*m->hdrs));
			m->nhdrs--;
		} else {
			free(m->hdrs[i].value);
			m->hdrs[i].value = xstrdup(value);
		}
		return;
	}
	if (!delete)
		chain_msg_add_header(m, name, value, 0);
}
