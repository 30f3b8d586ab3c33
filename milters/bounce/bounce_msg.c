/*++
 * NAME
 *	bounce_msg 3
 * SUMMARY
 *	one returning message: its bounded copy and the events it makes
 * DESCRIPTION
 *	See bounce_msg.h.
 *--*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_msg.h"
#include "xalloc.h"

/* bounce_buf_add - append, never past max */
void
bounce_buf_add(struct bounce_buf *b, const char *p, size_t len)
{
	size_t room = b->max > b->len ? b->max - b->len : 0;
	size_t take = len < room ? len : room;

	if (take > 0) {
		if (b->data == NULL)
			b->data = xmalloc(b->max);
		memcpy(b->data + b->len, p, take);
		b->len += take;
	}
	b->dropped += len - take;
}

/* bounce_buf_free - release the copy */
void
bounce_buf_free(struct bounce_buf *b)
{
	size_t max = b->max;

	free(b->data);
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* bm_single_rcpt - the only recipient of a record's list, or -1 */
static int
bm_single_rcpt(const char *rcpts, char *out, size_t outlen)
{
	if (rcpts == NULL || *rcpts == '\0' || strchr(rcpts, ',') != NULL)
		return -1;
	return bounce_addr_norm(rcpts, strlen(rcpts), out, outlen);
}

/* bm_listed - is norm one of a record's comma-separated recipients */
static bool
bm_listed(const char *list, const char *norm)
{
	size_t n = strlen(norm);

	while (*list != '\0') {
		const char *end = strchr(list, ',');
		size_t len = end != NULL ? (size_t)(end - list) : strlen(list);

		if (len == n && strncasecmp(list, norm, n) == 0)
			return true;
		list += len;
		if (*list == ',')
			list++;
	}
	return false;
}

/* bm_fill - one slot from one report recipient */
static void
bm_fill(struct bounce_evslot *s, const struct bounce_rcpt *r,
	const struct bounce_policy *pol, const char *fallback,
	const char *listed)
{
	/* the address we sent to (ORCPT) when the report kept it */
	const char *addr = r->original[0] ? r->original : r->recipient;

	memset(s, 0, sizeof(*s));
	if (addr[0] == '\0' && fallback != NULL)
		addr = fallback;
	if (bounce_addr_norm(addr, strlen(addr), s->norm, sizeof(s->norm)) < 0)
		s->norm[0] = '\0';
	s->ev.rcpt = s->norm;
	s->ev.cls = bounce_class_name(r->cls);
	s->ev.reason = bounce_reason_name(r->reason);
	s->ev.status = r->status;
	s->ev.diagnostic = r->diagnostic;
	s->ev.action = r->action;
	if (s->norm[0] == '\0')
		return;
	if (listed != NULL && !bm_listed(listed, s->norm)) {
		s->unlisted = true;	/* the receiver's word only: record, no plan */
		return;
	}
	bounce_policy_plan(pol, r, &s->ev.plan);
}

/* bounce_events_build - report -> events; see bounce_msg.h */
size_t
bounce_events_build(const struct bounce_report *rep,
		    const struct bounce_policy *pol, const char *rec_rcpts,
		    bool rec_complete, struct bounce_evslot slots[BOUNCE_MAX_RCPTS])
{
	char single[BOUNCE_ADDR_MAX + 1];
	const char *fallback = NULL;
	const char *listed = rec_complete && rec_rcpts != NULL ? rec_rcpts : NULL;
	size_t n = rep->nrcpt < BOUNCE_MAX_RCPTS ? rep->nrcpt : BOUNCE_MAX_RCPTS;

	if (bm_single_rcpt(rec_rcpts, single, sizeof(single)) == 0)
		fallback = single;
	else if (rep->original_rcpt_hint[0] != '\0')
		fallback = rep->original_rcpt_hint;
	for (size_t i = 0; i < n; i++)
		bm_fill(&slots[i], &rep->rcpt[i], pol, n == 1 ? fallback : NULL,
			listed);
	if (n == 0 && rep->cls != BOUNCE_CLASS_NONE) {
		static const struct bounce_rcpt empty;
		struct bounce_rcpt r = empty;

		r.cls = rep->cls;
		r.reason = rep->reason;
		bm_fill(&slots[0], &r, pol, fallback, listed);
		n = 1;
	}
	return n;
}

/* bounce_first_failed - the event headers and log lines speak of */
int
bounce_first_failed(const struct bounce_evslot *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(slots[i].ev.cls, "hard") == 0 || strcmp(slots[i].ev.cls, "soft") == 0
		    || strcmp(slots[i].ev.cls, "complaint") == 0)
			return (int)i;
	return n > 0 ? 0 : -1;
}

/* bounce_header_clean - printable ASCII for a header field we add */
void
bounce_header_clean(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	for (; src != NULL && *src != '\0' && o + 1 < dstlen; src++) {
		unsigned char ch = (unsigned char)*src;

		dst[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	dst[o] = '\0';
}
