/*++
 * NAME
 *	events_batch 3
 * SUMMARY
 *	the events and queue states of one commit (see events.h)
 * DESCRIPTION
 *	Growable arrays, freed by events_batch_reset(), which keeps the
 *	capacity: the batch is bounded by events_batch_lines lines, and each
 *	line makes at most one event per recipient of its message.
 *	events_ev_id() names an event by the SHA-256 of where its line was
 *	(device, inode, offset), the line and its index among the line's
 *	events: reading the same line again gives the same id, which is what
 *	a webhook receiver deduplicates on.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "events.h"
#include "xalloc.h"

/* events_batch_init - empty */
void
events_batch_init(struct events_batch *b)
{
	memset(b, 0, sizeof(*b));
}

/* events_batch_reset - free the contents, keep the arrays */
void
events_batch_reset(struct events_batch *b)
{
	for (size_t i = 0; i < b->nev; i++)
		for (size_t k = 0; k < b->ev[i].n; k++)
			free(b->ev[i].v[k]);
	b->nev = 0;
	b->nq = 0;
	for (size_t i = 0; i < b->nbx; i++)
		free(b->bx[i]);
	free(b->bx);
	b->bx = NULL;
	b->nbx = 0;
	b->bpos[0] = '\0';
}

/* events_batch_add - a new empty event */
struct events_ev *
events_batch_add(struct events_batch *b)
{
	if (b->nev == b->evcap) {
		b->evcap = b->evcap ? 2 * b->evcap : 64;
		b->ev = xrealloc(b->ev, b->evcap * sizeof(*b->ev));
	}
	memset(&b->ev[b->nev], 0, sizeof(b->ev[0]));
	return &b->ev[b->nev++];
}

/* events_ev_set - add or replace a field (field: a literal) */
void
events_ev_set(struct events_ev *e, const char *field, const char *value)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->f[i], field) == 0) {
			free(e->v[i]);
			e->v[i] = xstrdup(value ? value : "");
			return;
		}
	}
	if (e->n == EVENTS_MAX_FIELDS)
		return;
	e->f[e->n] = field;
	e->v[e->n++] = xstrdup(value ? value : "");
}

/* events_ev_get - a field's value, or "" */
const char *
events_ev_get(const struct events_ev *e, const char *field)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->f[i], field) == 0)
			return e->v[i];
	return "";
}

/* events_ev_id - the id of the index-th event of this line */
void
events_ev_id(struct events_ev *e, const struct events_pos *pos,
	     const char *line, size_t len, unsigned index)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char	hex[33], where[96];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int	n;

	n = snprintf(where, sizeof(where), "%llu:%llu:%lld:%u", pos->dev, pos->ino,
		     pos->off, index);
	memset(md, 0, sizeof(md));
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1
	    || EVP_DigestUpdate(ctx, where, (size_t)n + 1) != 1
	    || EVP_DigestUpdate(ctx, line, len) != 1
	    || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		abort();		/* SHA-256 cannot fail but for OOM */
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	events_ev_set(e, "id", hex);
}
