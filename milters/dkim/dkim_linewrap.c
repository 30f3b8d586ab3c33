/*++
 * NAME
 *	dkim_linewrap 3
 * SUMMARY
 *	break long lines the way Postfix's SMTP client will, before hashing
 * DESCRIPTION
 *	See dkim_linewrap.h. Runs of ordinary bytes are passed on in one
 *	out() call; only line ends and break points cost a call each.
 *--*/
#include <string.h>

#include "dkim_linewrap.h"

/* dkim_linewrap_init - set the limit and the consumer */
void
dkim_linewrap_init(struct dkim_linewrap *w, size_t limit,
		   void (*out)(void *ctx, const void *data, size_t len), void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->limit = limit;
	w->out = out;
	w->ctx = ctx;
}

/* dkim_linewrap_content - pass content bytes, breaking at the limit */
static void
dkim_linewrap_content(struct dkim_linewrap *w, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t room, n;

		if (w->limit > 0 && w->col >= w->limit) {
			/* what Postfix's smtp_text_out() sends: CRLF, then a space */
			w->out(w->ctx, "\r\n ", 3);
			w->col = 1;
			w->breaks++;
		}
		room = w->limit > 0 ? w->limit - w->col : len;
		n = len < room ? len : room;
		w->out(w->ctx, p, n);
		w->col += n;
		p += n;
		len -= n;
	}
}

/* dkim_linewrap_feed - filter one chunk */
void
dkim_linewrap_feed(struct dkim_linewrap *w, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;

	if (w->limit == 0) {
		w->out(w->ctx, data, len);
		return;
	}
	while (p < end) {
		const unsigned char *run = p;

		if (w->cr) {
			w->cr = false;
			if (*p == '\n') {
				w->out(w->ctx, "\r\n", 2);
				w->col = 0;
				p++;
				continue;
			}
			dkim_linewrap_content(w, (const unsigned char *)"\r", 1);
		}
		/* a run of ordinary bytes */
		while (p < end && *p != '\r' && *p != '\n')
			p++;
		if (p > run)
			dkim_linewrap_content(w, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p == '\r') {
			w->cr = true;
		} else {
			w->out(w->ctx, "\n", 1);
			w->col = 0;
		}
		p++;
	}
}

/* dkim_linewrap_flush - the end: a held-back CR is content after all */
void
dkim_linewrap_flush(struct dkim_linewrap *w)
{
	if (w->cr) {
		w->cr = false;
		if (w->limit == 0)
			return;
		dkim_linewrap_content(w, (const unsigned char *)"\r", 1);
	}
}

/* dkim_linewrap_needed - any line longer than limit */
bool
dkim_linewrap_needed(const char *text, size_t len, size_t limit)
{
	size_t col = 0;

	if (limit == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			col = 0;
		} else if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n') {
			continue;
		} else if (++col > limit) {
			return true;
		}
	}
	return false;
}
