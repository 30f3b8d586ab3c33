/*++
 * NAME
 *	dkim_message 3
 * SUMMARY
 *	one message in progress: bounded header store and From analysis
 * DESCRIPTION
 *	Header fields are kept because a signature can only be made at end
 *	of message (it covers the body hash), and they are kept exactly as
 *	the receiver will see them, which simple header canonicalization
 *	needs. Past dkim_max_headers fields or dkim_max_header_bytes bytes
 *	the message is marked over the limit and nothing more is stored: it
 *	will not be signed (dkim_policy.c says what happens to it), and
 *	per-connection memory stays bounded whatever the client sends.
 *
 *	libmilter gives the value after the colon; with SMFIP_HDR_LEADSPC
 *	it keeps the space that followed the colon, otherwise that one space
 *	was removed and is put back here, as the MTA will write it.
 *--*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "dkim.h"
#include "xalloc.h"

#define DKIM_FROM_MAX_ADDRESSES 2	/* one is all we accept; two tell "several" */

/* dkim_msg_new - empty message state */
struct dkim_msg *
dkim_msg_new(void)
{
	return xcalloc(1, sizeof(struct dkim_msg));
}

/* dkim_msg_free - release everything; returns NULL */
struct dkim_msg *
dkim_msg_free(struct dkim_msg *msg)
{
	if (msg == NULL)
		return NULL;
	for (size_t i = 0; i < msg->nfields; i++)
		free((char *)msg->fields[i].field);
	free(msg->fields);
	free(msg->wrapped);
	free(msg->smformed);
	for (size_t i = 0; i < msg->n_unsigned; i++)
		free(msg->unsigned_names[i]);
	free(msg->unsigned_names);
	dkim_canon_body_discard(&msg->body);
	dkim_spool_discard(&msg->spool);
	free(msg);
	return NULL;
}

struct dkim_wrapbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* dkim_wrapbuf_out - collect wrapped header bytes */
static void
dkim_wrapbuf_out(void *ctx, const void *data, size_t len)
{
	struct dkim_wrapbuf *b = ctx;

	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

/* dkim_msg_wrap_field - a header line over the limit, broken as Postfix will */
static char *
dkim_msg_wrap_field(char *field, size_t *flen, size_t line_limit)
{
	struct dkim_wrapbuf b = {NULL, 0, 0};
	struct dkim_linewrap w;

	if (!dkim_linewrap_needed(field, *flen, line_limit))
		return field;
	dkim_linewrap_init(&w, line_limit, dkim_wrapbuf_out, &b);
	dkim_linewrap_feed(&w, field, *flen);
	dkim_linewrap_flush(&w);
	free(field);
	*flen = b.len;
	return b.buf;
}

/* dkim_msg_add_header - keep one field, within the limits */
void
dkim_msg_add_header(struct dkim_msg *msg, const char *name, const char *value,
		    bool value_has_leadspace, size_t max_fields, size_t max_bytes,
		    size_t line_limit)
{
	size_t nlen = strlen(name), vlen = strlen(value), flen, before;
	char *field;

	if (strcasecmp(name, "From") == 0) {
		if (msg->from_fields == 0)
			msg->from_index = msg->nfields;
		msg->from_fields++;
	}
	if (msg->over_limit)
		return;
	flen = nlen + 1 + (value_has_leadspace ? 0 : 1) + vlen;
	if (msg->nfields >= max_fields || msg->header_bytes + flen + 2 > max_bytes) {
		msg->over_limit = true;
		return;
	}
	field = xmalloc(flen + 1);
	memcpy(field, name, nlen);
	field[nlen] = ':';
	if (value_has_leadspace) {
		memcpy(field + nlen + 1, value, vlen);
	} else {
		field[nlen + 1] = ' ';
		memcpy(field + nlen + 2, value, vlen);
	}
	field[flen] = '\0';
	/* the limits count bytes as received; the wrapped copy may be longer */
	msg->header_bytes += flen + 2;
	before = flen;
	field = dkim_msg_wrap_field(field, &flen, line_limit);
	if (msg->nfields == msg->cap) {
		msg->cap = msg->cap ? msg->cap * 2 : 32;
		msg->fields = xrealloc(msg->fields, msg->cap * sizeof(*msg->fields));
		msg->wrapped = xrealloc(msg->wrapped, msg->cap * sizeof(*msg->wrapped));
	}
	/* a wrapped copy is longer: it has a break the MTA's copy lacks */
	msg->wrapped[msg->nfields] = flen != before;
	msg->fields[msg->nfields].name = field;
	msg->fields[msg->nfields].name_len = nlen;
	msg->fields[msg->nfields].field = field;
	msg->fields[msg->nfields].field_len = flen;
	msg->nfields++;
}

/* dkim_msg_canon_out - wrapped body bytes into the body hash (and spool) */
static void
dkim_msg_canon_out(void *ctx, const void *data, size_t len)
{
	struct dkim_msg *msg = ctx;

	dkim_canon_body_feed(&msg->body, data, len);
	if (msg->keep_body)
		dkim_spool_write(&msg->spool, data, len);
}

/* dkim_msg_body_start - body hash from here on */
int
dkim_msg_body_start(struct dkim_msg *msg, int canon, size_t line_limit,
		    bool keep, const char **why)
{
	if (dkim_canon_body_init(&msg->body, canon, why) < 0)
		return -1;
	/* nothing to replace when no line can be broken */
	msg->keep_body = keep && line_limit > 0;
	dkim_linewrap_init(&msg->wrap, line_limit, dkim_msg_canon_out, msg);
	msg->signing = true;
	return 0;
}

/* dkim_msg_body_feed - one body chunk */
void
dkim_msg_body_feed(struct dkim_msg *msg, const void *data, size_t len)
{
	dkim_linewrap_feed(&msg->wrap, data, len);
}

/* dkim_msg_body_final - the body hash */
int
dkim_msg_body_final(struct dkim_msg *msg, unsigned char *digest, const char **why)
{
	dkim_linewrap_flush(&msg->wrap);
	return dkim_canon_body_final(&msg->body, digest, why);
}

/* dkim_msg_from - exactly one From field with exactly one address */
enum dkim_from_state
dkim_msg_from(const struct dkim_msg *msg, char **local, char **domain,
	      const char **why)
{
	const struct dkim_header_field *f;
	struct addr_list list = {NULL, 0};
	enum addr_status st;

	*local = *domain = NULL;
	*why = NULL;
	if (msg->from_fields == 0)
		return DKIM_FROM_MISSING;
	if (msg->from_fields > 1)
		return DKIM_FROM_SEVERAL_FIELDS;
	if (msg->from_index >= msg->nfields)
		return DKIM_FROM_MALFORMED;	/* dropped by the limits */
	f = &msg->fields[msg->from_index];
	st = addr_parse_mailbox_list(f->field + f->name_len + 1,
				     f->field_len - f->name_len - 1,
				     DKIM_FROM_MAX_ADDRESSES, &list, why);
	if (st == ADDR_TOO_MANY || (st == ADDR_OK && list.count > 1)) {
		addr_list_free(&list);
		return DKIM_FROM_SEVERAL_ADDRESSES;
	}
	if (st != ADDR_OK) {
		if (*why == NULL)
			*why = addr_status_str(st);
		addr_list_free(&list);
		return DKIM_FROM_MALFORMED;
	}
	*local = xstrdup(list.items[0].local);
	*domain = xstrdup(list.items[0].domain);
	addr_list_free(&list);
	return DKIM_FROM_OK;
}
