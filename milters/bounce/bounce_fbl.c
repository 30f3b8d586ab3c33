/*++
 * NAME
 *	bounce_fbl 3
 * SUMMARY
 *	feedback loops: map a complaint back (see bounce_fbl.h)
 * DESCRIPTION
 *	The MIME walk, the decoders and the report parser are the
 *	classifier's (bounce_mime.h, bounce_arf.h); this file only picks
 *	out the fields that name our message and judges them. The working
 *	memory (the part list and one decoded header block, about 280 KiB)
 *	comes from xmalloc() and is freed before return.
 *--*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce_arf.h"
#include "bounce_classify.h"
#include "bounce_dsn.h"
#include "bounce_fbl.h"
#include "bounce_mime.h"
#include "bounce_policy.h"
#include "bounce_ref.h"
#include "xalloc.h"

struct bf_work {
	struct bounce_mime mime;
	struct bounce_arf arf;
	char	buf[BOUNCE_MIME_MAX_HEADER];	/* one decoded part */
};

/* bf_copy - bounded copy, truncating */
static void
bf_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* bf_is_original - a part type that returns an original (RFC 6522, 2046) */
static bool
bf_is_original(const char *type)
{
	return strcmp(type, "message/rfc822") == 0
	    || strcmp(type, "message/global") == 0
	    || strcmp(type, "text/rfc822-headers") == 0;
}

/* bf_in_returned - is part i inside a returned message */
static bool
bf_in_returned(const struct bounce_mime *m, size_t i)
{
	for (int p = m->part[i].parent; p >= 0; p = m->part[p].parent)
		if (strcmp(m->part[p].type, "message/rfc822") == 0
		    || strcmp(m->part[p].type, "message/global") == 0)
			return true;
	return false;
}

/* bf_original - the fields of the original's header that name us */
static void
bf_original(const char *hdr, size_t hdrlen, struct bounce_fbl_origin *out)
{
	struct bounce_field f;
	char val[1024];
	size_t pos = 0;
	bool have_rp = false;

	out->has_original = true;
	while (bounce_mime_next_field(hdr, hdrlen, &pos, &f)) {
		if (f.namelen == sizeof(BOUNCE_REF_HEADER) - 1
		    && strncasecmp(f.name, BOUNCE_REF_HEADER, f.namelen) == 0) {
			if (out->nref++ == 0) {
				bounce_mime_unfold(f.value, f.valuelen, val, sizeof(val));
				bf_copy(out->ref, sizeof(out->ref), val);
			}
		} else if (!have_rp && f.namelen == 11
			   && strncasecmp(f.name, "Return-Path", 11) == 0) {
			have_rp = true;
			bounce_mime_unfold(f.value, f.valuelen, val, sizeof(val));
			bounce_dsn_addr(val, out->return_path, sizeof(out->return_path));
		}
	}
}

/* bounce_fbl_origin - collect the evidence; see bounce_fbl.h */
int
bounce_fbl_origin(const char *msg, size_t len, struct bounce_fbl_origin *out,
		  const char **why)
{
	struct bf_work *w = xmalloc(sizeof(*w));
	const char *pwhy;
	size_t n, body;

	memset(out, 0, sizeof(*out));
	if (len > BOUNCE_MSG_MAX)
		len = BOUNCE_MSG_MAX;
	if (bounce_mime_walk(msg, len, &w->mime, why) < 0) {
		free(w);
		return -1;
	}
	for (size_t i = 0; i < w->mime.nparts; i++) {
		const struct bounce_part *pt = &w->mime.part[i];

		if (bf_in_returned(&w->mime, i))
			continue;
		if (!out->is_arf && strcmp(pt->type, "message/feedback-report") == 0) {
			n = bounce_mime_decode(pt, w->buf, sizeof(w->buf));
			if (bounce_arf_parse(w->buf, n, &w->arf, &pwhy) == 0) {
				out->is_arf = true;
				bf_copy(out->mail_from, sizeof(out->mail_from),
					w->arf.original_mail_from);
				bf_copy(out->feedback_type, sizeof(out->feedback_type),
					w->arf.feedback_type);
			}
		} else if (!out->has_original && bf_is_original(pt->type)) {
			/* decoded: some reporters base64 the returned message */
			n = bounce_mime_decode(pt, w->buf, sizeof(w->buf));
			bf_original(w->buf, bounce_mime_split(w->buf, n, &body), out);
		}
	}
	free(w);
	*why = "ok";
	return 0;
}

/* bf_take - one genuine piece of evidence: first, same, or conflict */
static int
bf_take(const struct bounce_tag *t, const char *name, bool *have,
	unsigned char id[BOUNCE_TAG_ID_LEN], const char **via)
{
	if (!*have) {
		memcpy(id, t->id, BOUNCE_TAG_ID_LEN);
		*via = name;
		*have = true;
		return 0;
	}
	return memcmp(id, t->id, BOUNCE_TAG_ID_LEN) == 0 ? 0 : -1;
}

/* bounce_fbl_decide - judge the evidence; see bounce_fbl.h */
enum bounce_fbl_map
bounce_fbl_decide(const struct bounce_bdomain *bd, size_t nbd,
		  const struct bounce_fbl_origin *o, long long now,
		  unsigned char id[BOUNCE_TAG_ID_LEN], const char **via,
		  const char **why)
{
	static const char *const names[] = {"return_path", "mail_from"};
	const char *addrs[2] = {o->return_path, o->mail_from}, *w;
	const struct bounce_keyring *ring = nbd > 0 ? bd[0].keys : NULL;
	struct bounce_tag t;
	enum bounce_tag_status st;
	bool have = false, stale = false;

	memset(id, 0, BOUNCE_TAG_ID_LEN);
	*via = "none";
	if (o->nref > 1) {
		*why = "the original has more than one " BOUNCE_REF_HEADER " field";
		return BOUNCE_FBL_FORGED;
	}
	if (o->nref == 1 && ring != NULL) {
		st = bounce_ref_decode(ring, o->ref, strlen(o->ref), now, &t, &w);
		if (st == BOUNCE_TAG_UNKNOWN_KEY) {
			stale = true;
		} else if (st != BOUNCE_TAG_OK && st != BOUNCE_TAG_EXPIRED) {
			*why = st == BOUNCE_TAG_BAD_MAC ? BOUNCE_REF_HEADER
			    " signature does not match" : BOUNCE_REF_HEADER
			    " is malformed";
			return BOUNCE_FBL_FORGED;
		} else {
			(void)bf_take(&t, "ref", &have, id, via);
		}
	}
	for (size_t i = 0; i < 2; i++) {
		const char *at = strrchr(addrs[i], '@');
		const struct bounce_keyring *dring = NULL;

		for (size_t j = 0; at != NULL && j < nbd; j++)
			if (bd[j].domain != NULL && strcasecmp(at + 1, bd[j].domain) == 0) {
				dring = bd[j].keys;
				break;
			}
		if (dring == NULL)
			continue;	/* not at one of our bounce domains */
		st = bounce_tag_local_decode(dring, addrs[i], (size_t)(at - addrs[i]),
					     now, &t, &w);
		if (st == BOUNCE_TAG_BAD_MAC) {
			*why = "a tag in the complaint does not verify";
			return BOUNCE_FBL_FORGED;
		}
		if (st == BOUNCE_TAG_UNKNOWN_KEY)
			stale = true;
		if ((st == BOUNCE_TAG_OK || st == BOUNCE_TAG_EXPIRED)
		    && bf_take(&t, names[i], &have, id, via) < 0) {
			*why = "the reference and the tags name different messages";
			memset(id, 0, BOUNCE_TAG_ID_LEN);
			*via = "none";
			return BOUNCE_FBL_CONFLICT;
		}
	}
	if (!have) {
		*why = stale ? "signed by a key that is no longer configured"
		    : "no reference and no tag of ours in the complaint";
		return BOUNCE_FBL_NONE;
	}
	*why = "genuine";
	return BOUNCE_FBL_MAPPED;
}

/* bounce_fbl_map_name - the word logged as map= */
const char *
bounce_fbl_map_name(enum bounce_fbl_map m)
{
	switch (m) {
	case BOUNCE_FBL_MAPPED: return "mapped";
	case BOUNCE_FBL_NONE: return "none";
	case BOUNCE_FBL_FORGED: return "forged";
	case BOUNCE_FBL_CONFLICT: return "conflict";
	}
	return "unknown";
}

/* bounce_fbl_is_complaint - a reader's complaint; see bounce_fbl.h */
bool
bounce_fbl_is_complaint(const char *feedback_type)
{
	return feedback_type[0] == '\0' || strcasecmp(feedback_type, "abuse") == 0
	    || strcasecmp(feedback_type, "fraud") == 0;
}

/* bf_listed - is norm one of a comma-separated list */
static bool
bf_listed(const char *list, const char *norm)
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

/* bounce_fbl_rcpt - whom a complaint is about; see bounce_fbl.h */
const char *
bounce_fbl_rcpt(const char *named, const char *rec_rcpts, bool rec_complete,
		char *out, size_t outlen)
{
	char norm[BOUNCE_ADDR_MAX + 1];
	bool have = named != NULL && *named != '\0'
	    && bounce_addr_norm(named, strlen(named), norm, sizeof(norm)) == 0;

	if (outlen == 0)
		return "none";
	out[0] = '\0';
	if (rec_rcpts == NULL)
		rec_rcpts = "";
	if (have && bf_listed(rec_rcpts, norm)) {
		bf_copy(out, outlen, norm);
		return "named";
	}
	if (rec_complete && *rec_rcpts != '\0' && strchr(rec_rcpts, ',') == NULL
	    && bounce_addr_norm(rec_rcpts, strlen(rec_rcpts), out, outlen) == 0)
		return "record";
	out[0] = '\0';
	if (!have)
		return "none";
	bf_copy(out, outlen, norm);
	return rec_complete ? "unlisted" : "unchecked";
}
