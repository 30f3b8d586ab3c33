/*++
 * NAME
 *	bounce_track_msg 3
 * SUMMARY
 *	one message's tracking: header facts, the walk, the new body
 * DESCRIPTION
 *	See bounce_track_msg.h. The walker writes through tmg_out(), which
 *	fills the memory buffer and, past bounce_track_memory, moves it to
 *	a temporary file (mkstemp, unlinked at once: nothing is left behind
 *	if the process dies). A write error ends tracking for the message
 *	(the original body stays). The new body is never more than twice
 *	bounce_track_message_max plus the tokens' growth is bounded by the
 *	tag buffer; it is checked anyway.
 *--*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bounce_track_msg.h"
#include "xalloc.h"

/* bounce_track_msg_new - a message of a tenant with tracking on */
struct bounce_track_msg *
bounce_track_msg_new(const struct bounce_key *key, const char *base,
		     const char *tenant, size_t url_max,
		     const struct bounce_track_limits *lim)
{
	struct bounce_track_msg *t = xcalloc(1, sizeof(*t));
	size_t bl;

	snprintf(t->base, sizeof(t->base), "%s", base);
	bl = strlen(t->base);
	while (bl > 0 && t->base[bl - 1] == '/')
		t->base[--bl] = '\0';
	snprintf(t->tenant, sizeof(t->tenant), "%s", tenant);
	t->conf.key = key;
	t->conf.base = t->base;
	t->conf.tenant = t->tenant;
	t->conf.url_max = url_max;
	t->lim = *lim;
	t->fd = -1;
	t->why = "not_started";
	return t;
}

/* bounce_track_msg_header - the fields that decide */
void
bounce_track_msg_header(struct bounce_track_msg *t, const char *name, const char *value)
{
	if (strcasecmp(name, "DKIM-Signature") == 0
	    || strcasecmp(name, "ARC-Message-Signature") == 0)
		t->dkim = true;		/* both sign the body (RFC 8617 section 4.1.2) */
	else if (strcasecmp(name, "Content-Type") == 0 && t->ctype == NULL)
		t->ctype = xstrndup(value, strnlen(value, 4096));
	else if (strcasecmp(name, "Content-Transfer-Encoding") == 0 && t->cte == NULL)
		t->cte = xstrndup(value, strnlen(value, 256));
}

/* tmg_drop - forget the walk and the new body */
static void
tmg_drop(struct bounce_track_msg *t, const char *why)
{
	t->active = false;
	t->why = why;
	if (t->mime != NULL) {
		bounce_track_mime_free(t->mime);
		t->mime = xfree(t->mime);
	}
	t->mem = xfree(t->mem);
	t->memlen = t->memcap = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* tmg_write - all of p to fd */
static int
tmg_write(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* tmg_out - the walker's output: memory, then the temporary file */
static void
tmg_out(void *arg, const char *p, size_t n)
{
	struct bounce_track_msg *t = arg;

	if (t->io_error || n == 0)
		return;
	t->out += n;
	if (t->fd < 0 && t->memlen + n <= t->lim.memory) {
		if (t->memlen + n > t->memcap) {	/* grows: most bodies are small */
			t->memcap = t->memlen + n > 2 * t->memcap ? t->memlen + n : 2 * t->memcap;
			if (t->memcap > t->lim.memory)
				t->memcap = t->lim.memory;
			t->mem = xrealloc(t->mem, t->memcap);
		}
		memcpy(t->mem + t->memlen, p, n);
		t->memlen += n;
		return;
	}
	if (t->fd < 0) {
		char *path = xasprintf("%s/postmill-track.XXXXXX", t->lim.temp_dir
				       ? t->lim.temp_dir : "/tmp");

		t->fd = mkstemp(path);
		if (t->fd >= 0)
			(void)unlink(path);
		free(path);
		if (t->fd < 0 || tmg_write(t->fd, t->mem, t->memlen) < 0) {
			t->io_error = true;
			return;
		}
		t->memlen = 0;
	}
	if (tmg_write(t->fd, p, n) < 0)
		t->io_error = true;
}

/* bounce_track_msg_start - at the end of the header: walk the body or not */
bool
bounce_track_msg_start(struct bounce_track_msg *t, const unsigned char id[BOUNCE_TAG_ID_LEN])
{
	const char *ct = t->ctype ? t->ctype : "text/plain", *cte = t->cte ? t->cte : "";

	if (t->dkim) {
		t->why = "signed";
		return false;
	}
	if (!bounce_track_mime_wanted(ct, strlen(ct))) {
		t->why = "no_html";
		return false;
	}
	memcpy(t->conf.id, id, BOUNCE_TAG_ID_LEN);
	t->memcap = t->lim.memory < 16384 ? t->lim.memory : 16384;
	t->mem = xmalloc(t->memcap > 0 ? t->memcap : 1);
	t->mime = xmalloc(sizeof(*t->mime));
	bounce_track_mime_init(t->mime, &t->conf, ct, strlen(ct), cte, strlen(cte),
			       tmg_out, t);
	t->active = true;
	t->why = "walking";
	return true;
}

/* bounce_track_msg_body - a chunk of the body */
void
bounce_track_msg_body(struct bounce_track_msg *t, const char *p, size_t n)
{
	if (!t->active)
		return;
	t->in += n;
	if (t->in > t->lim.message_max) {
		tmg_drop(t, "too_large");
		return;
	}
	bounce_track_mime_feed(t->mime, p, n);
	if (t->mime->failed)
		tmg_drop(t, t->mime->why);
	else if (t->io_error)
		tmg_drop(t, "temp_file_error");
}

/* bounce_track_msg_finish - 1 the body changed (read it with _next), 0 not */
int
bounce_track_msg_finish(struct bounce_track_msg *t, const char **why)
{
	if (!t->active) {
		*why = t->why;
		return 0;
	}
	bounce_track_mime_finish(t->mime);
	if (t->mime->failed) {
		tmg_drop(t, t->mime->why);
	} else if (t->io_error) {
		tmg_drop(t, "temp_file_error");
	} else if (t->mime->links == 0 && t->mime->pixels == 0) {
		tmg_drop(t, "nothing_to_track");
	} else if (t->fd >= 0 && lseek(t->fd, 0, SEEK_SET) != 0) {
		tmg_drop(t, "temp_file_error");
	} else {
		t->why = "rewritten";
		t->rpos = 0;
		*why = t->why;
		return 1;
	}
	*why = t->why;
	return 0;
}

/* bounce_track_msg_next - the next chunk of the new body; 1, 0 end, -1 error */
int
bounce_track_msg_next(struct bounce_track_msg *t, const char **p, size_t *n)
{
	ssize_t r;

	if (t->rpos >= t->out)
		return 0;
	if (t->fd < 0) {
		*p = t->mem + t->rpos;
		*n = t->memlen - t->rpos < BOUNCE_TRACK_CHUNK ? t->memlen - t->rpos
		    : BOUNCE_TRACK_CHUNK;
		t->rpos += *n;
		return 1;
	}
	if (t->rbuf == NULL)
		t->rbuf = xmalloc(BOUNCE_TRACK_CHUNK);
	do
		r = read(t->fd, t->rbuf, BOUNCE_TRACK_CHUNK);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	*p = t->rbuf;
	*n = (size_t)r;
	t->rpos += (size_t)r;
	return 1;
}

/* bounce_track_msg_free - all of it; takes NULL, returns NULL */
struct bounce_track_msg *
bounce_track_msg_free(struct bounce_track_msg *t)
{
	if (t == NULL)
		return NULL;
	tmg_drop(t, "freed");
	free(t->ctype);
	free(t->cte);
	free(t->rbuf);
	free(t);
	return NULL;
}
