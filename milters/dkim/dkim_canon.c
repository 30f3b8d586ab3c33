/*++
 * NAME
 *	dkim_canon 3
 * SUMMARY
 *	DKIM canonicalization (RFC 6376 3.4) and header hashing (5.4.2)
 * DESCRIPTION
 *	See dkim_canon.h for the interface.
 *
 *	The body canonicalizers are small state machines that carry across
 *	chunk boundaries only: a CR whose successor is not known yet, a
 *	pending run of white space (relaxed), and the number of line breaks
 *	held back because they might belong to trailing empty lines (3.4.3,
 *	3.4.4 b). Held-back line breaks are emitted when the next content
 *	byte arrives, so a body that ends in a million empty lines still
 *	needs no memory. At the end, exactly one CRLF closes the body: the
 *	break of the last non-empty line, or the one RFC 6376 adds to a body
 *	whose last line lacks it. An empty "simple" body is CRLF (3.4.3); an
 *	empty "relaxed" body stays empty (3.4.4).
 *
 *	Canonical bytes are batched in the struct's buffer so that SHA-256 is
 *	updated a few kilobytes at a time; long runs go to the digest
 *	directly. "simple" moves whole runs between CRs with memchr().
 *	"relaxed" first checks, once per line, whether the line is already
 *	canonical (memchr/memmem: no tab, no double SP, no SP before the
 *	CRLF) and moves it whole; only other lines go byte by byte. Each
 *	byte is thus scanned a bounded number of times: linear time.
 * THREAD SAFETY
 *	No shared state.
 *--*/
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "dkim_canon.h"

/* RFC 5234 WSP */
#define DKIM_CANON_IS_WSP(c)	((c) == ' ' || (c) == '\t')

/* bytes that end a run of ordinary text in relaxed body mode */
static const unsigned char dkim_canon_special[256] = {
	[' '] = 1, ['\t'] = 1, ['\r'] = 1,
};

/* dkim_canon_flush - hash the batched bytes */
static void
dkim_canon_flush(struct dkim_body_canon *bc)
{
	if (bc->fill > 0) {
		if (EVP_DigestUpdate(bc->md, bc->buf, bc->fill) != 1)
			bc->failed = true;
		bc->fill = 0;
	}
}

/* dkim_canon_emit - add canonical bytes; runs too big to batch bypass it */
static void
dkim_canon_emit(struct dkim_body_canon *bc, const unsigned char *p, size_t n)
{
	bc->length += n;
	if (n <= sizeof(bc->buf) - bc->fill) {
		memcpy(bc->buf + bc->fill, p, n);
		bc->fill += n;
		return;
	}
	dkim_canon_flush(bc);
	if (n >= sizeof(bc->buf)) {
		if (EVP_DigestUpdate(bc->md, p, n) != 1)
			bc->failed = true;
		return;
	}
	memcpy(bc->buf, p, n);
	bc->fill = n;
}

/* dkim_canon_emit_blanks - emit held-back line breaks: content follows */
static void
dkim_canon_emit_blanks(struct dkim_body_canon *bc)
{
	size_t room;

	while (bc->blanks > 0) {
		if (sizeof(bc->buf) - bc->fill < 2)
			dkim_canon_flush(bc);
		room = (sizeof(bc->buf) - bc->fill) / 2;
		if (room > bc->blanks)
			room = (size_t) bc->blanks;
		bc->blanks -= room;
		bc->length += 2 * (unsigned long long) room;
		while (room-- > 0) {
			bc->buf[bc->fill++] = '\r';
			bc->buf[bc->fill++] = '\n';
		}
	}
}

/* dkim_canon_content - emit line content, after what it was waiting for */
static void
dkim_canon_content(struct dkim_body_canon *bc, const unsigned char *p,
		   size_t n)
{
	if (bc->blanks > 0)
		dkim_canon_emit_blanks(bc);
	if (bc->wsp) {
		/* 3.4.4 a: a WSP run inside a line becomes one SP */
		dkim_canon_emit(bc, (const unsigned char *) " ", 1);
		bc->wsp = false;
	}
	dkim_canon_emit(bc, p, n);
}

/* dkim_canon_simple - RFC 6376 3.4.3 over one chunk (len > 0) */
static void
dkim_canon_simple(struct dkim_body_canon *bc, const unsigned char *p,
		  const unsigned char *end)
{
	const unsigned char *q;

	if (bc->cr) {
		bc->cr = false;
		if (*p == '\n') {
			bc->blanks++;
			p++;
		} else {
			dkim_canon_content(bc, (const unsigned char *) "\r", 1);
		}
	}
	while (p < end) {
		if (*p == '\r') {
			if (p + 1 == end) {
				bc->cr = true;
				return;
			}
			if (p[1] == '\n') {
				bc->blanks++;
				p += 2;
				continue;
			}
			q = p + 1;			/* a bare CR is data */
		} else {
			q = p;
		}
		q = memchr(q, '\r', (size_t) (end - q));
		if (q == NULL)
			q = end;
		dkim_canon_content(bc, p, (size_t) (q - p));
		p = q;
	}
}

/* dkim_canon_relaxed - RFC 6376 3.4.4 over one chunk (len > 0) */
static void
dkim_canon_relaxed(struct dkim_body_canon *bc, const unsigned char *p,
		   const unsigned char *end)
{
	const unsigned char *q;
	bool fast = true;		/* try the fast path on this line */

	if (bc->cr) {
		bc->cr = false;
		if (*p == '\n') {
			bc->wsp = false;	/* WSP at end of line goes */
			bc->blanks++;
			p++;
		} else {
			dkim_canon_content(bc, (const unsigned char *) "\r", 1);
		}
	}
	while (p < end) {
		if (DKIM_CANON_IS_WSP(*p)) {
			bc->wsp = true;
			p++;
			continue;
		}
		if (*p == '\r') {
			if (p + 1 == end) {
				bc->cr = true;
				return;
			}
			if (p[1] == '\n') {
				bc->wsp = false;
				bc->blanks++;
				p += 2;
				fast = true;
				continue;
			}
		}
		/*
		 * Fast path: the rest of the line is complete in this chunk and
		 * already canonical (single spaces, no tab, no bare CR, no WSP
		 * before the CRLF). memchr/memmem scan it far faster than the
		 * byte loop below, and most lines of text qualify. One try per
		 * line, so a line that fails is scanned once, not once a word.
		 */
		if (fast && *p != '\r') {
			fast = false;
			if ((q = memchr(p, '\r', (size_t) (end - p))) != NULL
			    && q + 1 < end && q[1] == '\n' && q[-1] != ' '
			    && memchr(p, '\t', (size_t) (q - p)) == NULL
			    && memmem(p, (size_t) (q - p), "  ", 2) == NULL) {
				dkim_canon_content(bc, p, (size_t) (q - p));
				bc->blanks++;
				p = q + 2;
				fast = true;
				continue;
			}
		}
		/* a run of content; a bare CR at its start is data too */
		for (q = p + 1; q < end && !dkim_canon_special[*q]; q++)
			 /* void */ ;
		dkim_canon_content(bc, p, (size_t) (q - p));
		p = q;
	}
}

/* dkim_canon_body_init - start a body canonicalization */
int
dkim_canon_body_init(struct dkim_body_canon *bc, int mode, const char **why)
{
	bc->md = NULL;
	bc->failed = bc->cr = bc->wsp = false;
	bc->blanks = bc->length = 0;
	bc->fill = 0;
	if (mode != DKIM_CANON_MODE_SIMPLE && mode != DKIM_CANON_MODE_RELAXED) {
		*why = "unknown body canonicalization";
		return -1;
	}
	bc->mode = mode;
	if ((bc->md = EVP_MD_CTX_new()) == NULL) {
		*why = "cannot allocate a digest context";
		return -1;
	}
	if (EVP_DigestInit_ex(bc->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(bc->md);
		bc->md = NULL;
		*why = "cannot initialize SHA-256";
		return -1;
	}
	return 0;
}

/* dkim_canon_body_feed - canonicalize and hash the next chunk of body */
void
dkim_canon_body_feed(struct dkim_body_canon *bc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (bc->md == NULL) {
		bc->failed = true;
		return;
	}
	if (len == 0)
		return;
	if (bc->mode == DKIM_CANON_MODE_SIMPLE)
		dkim_canon_simple(bc, p, p + len);
	else
		dkim_canon_relaxed(bc, p, p + len);
}

/* dkim_canon_body_final - finish the body, write the bh= digest */
int
dkim_canon_body_final(struct dkim_body_canon *bc,
		      unsigned char digest[DKIM_CANON_DIGEST_LEN],
		      const char **why)
{
	unsigned int dlen = 0;
	int ok;

	if (bc->md == NULL) {
		*why = "body canonicalization not started";
		return -1;
	}
	if (bc->cr) {				/* a final bare CR is data */
		bc->cr = false;
		dkim_canon_content(bc, (const unsigned char *) "\r", 1);
	}
	bc->wsp = false;			/* 3.4.4 a: end of the last line */

	/*
	 * Held-back breaks are trailing empty lines: dropped (3.4.3, 3.4.4 b).
	 * One CRLF ends the last line, whether it had one or not; an empty
	 * simple body is a lone CRLF, an empty relaxed body stays empty.
	 */
	bc->blanks = 0;
	if (bc->mode == DKIM_CANON_MODE_SIMPLE || bc->length > 0)
		dkim_canon_emit(bc, (const unsigned char *) "\r\n", 2);
	dkim_canon_flush(bc);
	ok = EVP_DigestFinal_ex(bc->md, digest, &dlen) == 1
	    && dlen == DKIM_CANON_DIGEST_LEN && !bc->failed;
	EVP_MD_CTX_free(bc->md);
	bc->md = NULL;
	if (!ok) {
		*why = "SHA-256 of the body failed";
		return -1;
	}
	return 0;
}

/* dkim_canon_body_discard - release the digest context without a result */
void
dkim_canon_body_discard(struct dkim_body_canon *bc)
{
	EVP_MD_CTX_free(bc->md);
	bc->md = NULL;
}

/* dkim_canon_body_length - canonical bytes hashed so far (all, after final) */
unsigned long long
dkim_canon_body_length(const struct dkim_body_canon *bc)
{
	return bc->length;
}

/* dkim_canon_header - canonicalize one "Name:value" header field */
int
dkim_canon_header(int mode, const char *field, size_t len, bool crlf,
		  char *out, size_t outsize, size_t *outlen, const char **why)
{
	const char *colon;
	const char *end = field + len;
	const char *p;
	size_t o = 0;
	bool wsp;
	bool started;
	unsigned char c;

	if (len > (SIZE_MAX - 2) / 2) {
		*why = "header field too long";
		return -1;
	}
	if (outsize < DKIM_CANON_HEADER_BOUND(len)) {
		*why = "header canonicalization buffer too small";
		return -1;
	}
	if ((colon = memchr(field, ':', len)) == NULL) {
		*why = "header field without a colon";
		return -1;
	}
	switch (mode) {
	case DKIM_CANON_MODE_SIMPLE:
		/* 3.4.1: unchanged, as the receiver sees it: breaks are CRLF */
		for (p = field; p < end; p++) {
			if (*p == '\n' && (p == field || p[-1] != '\r'))
				out[o++] = '\r';
			out[o++] = *p;
		}
		break;
	case DKIM_CANON_MODE_RELAXED:
		/* 3.4.2: lowercase name, no WSP (nor folding) before the colon */
		for (p = field; p < colon; p++) {
			c = (unsigned char) *p;
			if (DKIM_CANON_IS_WSP(c) || c == '\n'
			    || (c == '\r' && p + 1 < colon && p[1] == '\n'))
				continue;
			out[o++] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		out[o++] = ':';

		/* unfold; WSP runs to one SP; none after the colon or at end */
		wsp = started = false;
		for (p = colon + 1; p < end; p++) {
			c = (unsigned char) *p;
			if (c == '\n' || (c == '\r' && p + 1 < end && p[1] == '\n'))
				continue;
			if (DKIM_CANON_IS_WSP(c)) {
				wsp = true;
				continue;
			}
			if (wsp && started)
				out[o++] = ' ';
			wsp = false;
			started = true;
			out[o++] = (char) c;
		}
		break;
	default:
		*why = "unknown header canonicalization";
		return -1;
	}
	if (crlf) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*outlen = o;
	return 0;
}

/* dkim_canon_name_eq - ASCII case-insensitive name comparison */
static bool
dkim_canon_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char x, y;
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		x = (unsigned char) a[i];
		y = (unsigned char) b[i];
		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return false;
	}
	return true;
}

/* dkim_canon_in_list - is name among the first n list entries? */
static bool
dkim_canon_in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (dkim_canon_name_eq(name, strlen(name), list[i],
				       strlen(list[i])))
			return true;
	return false;
}

/* dkim_canon_select - the h= list for these headers (RFC 6376 5.4.2) */
const char **
dkim_canon_select(const struct dkim_header_field *headers, size_t n_headers,
		  const char *const *sign, size_t n_sign,
		  const char *const *oversign, size_t n_oversign,
		  size_t *n_out)
{
	const char **out;
	const char *name;
	size_t n = 0;
	size_t i, j;
	size_t len;
	int pass;

	/*
	 * Each header instance matches at most one (deduplicated) name, and
	 * each over-signed name adds one entry: the result fits in
	 * n_headers + n_oversign entries.
	 */
	out = xcalloc(n_headers + n_oversign + 1, sizeof(*out));
	for (pass = 0; pass < 2; pass++) {
		const char *const *list = pass == 0 ? sign : oversign;
		size_t n_list = pass == 0 ? n_sign : n_oversign;

		for (i = 0; i < n_list; i++) {
			name = list[i];
			len = strlen(name);
			if (dkim_canon_in_list(name, list, i)
			    || (pass == 1 && dkim_canon_in_list(name, sign, n_sign)))
				continue;
			for (j = 0; j < n_headers; j++)
				if (dkim_canon_name_eq(name, len, headers[j].name,
						       headers[j].name_len))
					out[n++] = name;
			if (dkim_canon_in_list(name, oversign, n_oversign))
				out[n++] = name;
		}
	}
	*n_out = n;
	return out;
}

/* dkim_canon_has_field - does some header field carry this name? */
static bool
dkim_canon_has_field(const struct dkim_header_field *headers, size_t n,
		     const char *name)
{
	size_t len = strlen(name);

	for (size_t j = 0; j < n; j++)
		if (dkim_canon_name_eq(name, len, headers[j].name,
				       headers[j].name_len))
			return true;
	return false;
}

/* dkim_canon_oversign - drop absent names the MTA may still add */
size_t
dkim_canon_oversign(const struct dkim_header_field *headers, size_t n_headers,
		    const char *const *oversign, size_t n_oversign,
		    const char *const *if_present, size_t n_if_present,
		    const char **out)
{
	size_t n = 0;

	for (size_t i = 0; i < n_oversign; i++) {
		if (dkim_canon_in_list(oversign[i], if_present, n_if_present)
		    && !dkim_canon_has_field(headers, n_headers, oversign[i]))
			continue;
		out[n++] = oversign[i];
	}
	return n;
}

/* dkim_canon_headers_hash - hash the fields an h= list names, 5.4.2 order */
int
dkim_canon_headers_hash(EVP_MD_CTX *md, int mode,
			const struct dkim_header_field *headers,
			size_t n_headers, const char *const *hnames,
			size_t n_hnames, const char **why)
{
	struct {
		const char *name;
		size_t	 len;
		size_t	 below;		/* next search starts below this index */
	} *slot, *slots;
	size_t n_slots = 0;
	char *buf = NULL;
	size_t bufsize = 0;
	size_t need;
	size_t outlen;
	size_t i, j, len;
	int ret = -1;

	/*
	 * Instances of a name are used from the bottom up, so one position
	 * per distinct name replaces a "used" flag per field, and each name
	 * scans the fields once however often h= repeats it.
	 */
	slots = xcalloc(n_hnames + 1, sizeof(*slots));
	for (i = 0; i < n_hnames; i++) {
		len = strlen(hnames[i]);
		for (slot = slots; slot < slots + n_slots; slot++)
			if (dkim_canon_name_eq(hnames[i], len, slot->name, slot->len))
				break;
		if (slot == slots + n_slots) {
			slot->name = hnames[i];
			slot->len = len;
			slot->below = n_headers;
			n_slots++;
		}
		for (j = slot->below; j > 0; j--)
			if (dkim_canon_name_eq(hnames[i], len, headers[j - 1].name,
					       headers[j - 1].name_len))
				break;
		if (j == 0) {
			slot->below = 0;
			continue;		/* none left: contributes nothing */
		}
		j--;
		slot->below = j;
		if (headers[j].field_len > (SIZE_MAX - 2) / 2) {
			*why = "header field too long";
			goto out;
		}
		need = DKIM_CANON_HEADER_BOUND(headers[j].field_len);
		if (need > bufsize) {
			buf = xrealloc(buf, need);
			bufsize = need;
		}
		if (dkim_canon_header(mode, headers[j].field,
				      headers[j].field_len, true, buf, bufsize,
				      &outlen, why) < 0)
			goto out;
		if (EVP_DigestUpdate(md, buf, outlen) != 1) {
			*why = "SHA-256 of the header fields failed";
			goto out;
		}
	}
	ret = 0;
out:
	xfree(buf);
	xfree(slots);
	return ret;
}
