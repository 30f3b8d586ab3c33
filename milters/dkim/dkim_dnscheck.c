/*++
 * NAME
 *	dkim_dnscheck 3
 * SUMMARY
 *	does DNS publish the public half of our DKIM key
 * DESCRIPTION
 *	See dkim_dnscheck.h. Decision order, so that the operator reads the
 *	most useful reason first: our own inputs; the DNS outcome; which TXT
 *	records are key records; the tag-list syntax (RFC 6376 3.2); v=;
 *	p= present, then empty (revoked); k=; p= base64; h= and s= (would a
 *	verifier use this key for our signatures at all); the key bytes.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim_dnscheck.h"
#include "xalloc.h"

#define DKIM_DNSCHECK_MAX_TAGS	64	/* a key record has 7 known tags */

/* dkim_dnscheck_is_ws - FWS material inside a TXT key record */
static bool
dkim_dnscheck_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkim_dnscheck_is_alpha - ASCII ALPHA, whatever the locale */
static bool
dkim_dnscheck_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dkim_dnscheck_is_alnumpunc - ALNUMPUNC of RFC 6376 3.2 */
static bool
dkim_dnscheck_is_alnumpunc(char c)
{
	return dkim_dnscheck_is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* dkim_dnscheck_str - name a status for output */
const char *
dkim_dnscheck_str(int status)
{
	switch (status) {
	case DKIM_DNSCHECK_MATCH:
		return "match";
	case DKIM_DNSCHECK_MISSING:
		return "missing";
	case DKIM_DNSCHECK_STALE:
		return "stale";
	case DKIM_DNSCHECK_REVOKED:
		return "revoked";
	case DKIM_DNSCHECK_MALFORMED:
		return "malformed";
	case DKIM_DNSCHECK_TEMPFAIL:
		return "tempfail";
	default:
		return "unknown";
	}
}

/* dkim_dnscheck_tag_is - does the tag name [name, name+len) equal want */
static bool
dkim_dnscheck_tag_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

/*
 * dkim_dnscheck_parse - one key record's tag-list (RFC 6376 3.2):
 *	tag-list  = tag-spec *( ";" tag-spec ) [ ";" ]
 *	tag-spec  = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *	tag-name  = ALPHA *ALNUMPUNC
 *	tag-value = [ tval *( 1*(WSP / FWS) tval ) ], tval = 1*VALCHAR
 *	VALCHAR   = %x21-3A / %x3C-7E
 * Blanks after the final ";" are tolerated: published records often end
 * with "; ".
 */
int
dkim_dnscheck_parse(const char *rec, size_t len, struct dkim_dnscheck_keyrec *out,
		    const char **why)
{
	const char *p = rec, *end = rec + len;
	const char *names[DKIM_DNSCHECK_MAX_TAGS];
	size_t	namelens[DKIM_DNSCHECK_MAX_TAGS];
	int	ntags = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *name, *val, *val_end;
		size_t	namelen;
		struct dkim_dnscheck_tag *slot = NULL;

		while (p < end && dkim_dnscheck_is_ws(*p))
			p++;
		if (p == end) {
			if (ntags == 0) {
				*why = "empty record";
				return -1;
			}
			return 0;
		}
		if (*p == ';') {
			*why = "empty tag-spec (\";;\" or leading \";\")";
			return -1;
		}
		if (!dkim_dnscheck_is_alpha(*p)) {
			*why = "tag name must start with a letter";
			return -1;
		}
		for (name = p; p < end && dkim_dnscheck_is_alnumpunc(*p); p++)
			 /* tag-name */ ;
		namelen = (size_t)(p - name);
		while (p < end && dkim_dnscheck_is_ws(*p))
			p++;
		if (p == end || *p != '=') {
			*why = "missing \"=\" after a tag name";
			return -1;
		}
		for (p++; p < end && dkim_dnscheck_is_ws(*p); p++)
			 /* FWS before the value */ ;
		for (val = val_end = p; p < end && *p != ';'; p++) {
			if (dkim_dnscheck_is_ws(*p))
				continue;
			if (*p < 0x21 || *p > 0x7e) {
				*why = "invalid character in a tag value";
				return -1;
			}
			val_end = p + 1;
		}
		/* 3.2: a tag that occurs twice invalidates the whole list */
		if (ntags == DKIM_DNSCHECK_MAX_TAGS) {
			*why = "too many tags";
			return -1;
		}
		for (int i = 0; i < ntags; i++) {
			if (namelens[i] == namelen
			    && memcmp(names[i], name, namelen) == 0) {
				*why = "duplicate tag";
				return -1;
			}
		}
		names[ntags] = name;
		namelens[ntags] = namelen;
		if (dkim_dnscheck_tag_is(name, namelen, "v")) {
			slot = &out->v;
			out->v_first = (ntags == 0);
		} else if (dkim_dnscheck_tag_is(name, namelen, "h"))
			slot = &out->h;
		else if (dkim_dnscheck_tag_is(name, namelen, "k"))
			slot = &out->k;
		else if (dkim_dnscheck_tag_is(name, namelen, "n"))
			slot = &out->n;
		else if (dkim_dnscheck_tag_is(name, namelen, "p"))
			slot = &out->p;
		else if (dkim_dnscheck_tag_is(name, namelen, "s"))
			slot = &out->s;
		else if (dkim_dnscheck_tag_is(name, namelen, "t"))
			slot = &out->t;
		/* 3.6.1: unknown tags are ignored */
		if (slot != NULL) {
			slot->val = val;
			slot->len = (size_t)(val_end - val);
		}
		ntags++;
		if (p == end)
			return 0;
		p++;				/* ";" */
	}
}

/* dkim_dnscheck_list_has - does a ":"-separated tag value hold item */
static bool
dkim_dnscheck_list_has(const struct dkim_dnscheck_tag *tag, const char *item)
{
	const char *p = tag->val, *end = tag->val + tag->len;

	while (p < end) {
		const char *e = memchr(p, ':', (size_t)(end - p));
		const char *s, *t;

		if (e == NULL)
			e = end;
		for (s = p; s < e && dkim_dnscheck_is_ws(*s); s++)
			 /* trim */ ;
		for (t = e; t > s && dkim_dnscheck_is_ws(t[-1]); t--)
			 /* trim */ ;
		if (dkim_dnscheck_tag_is(s, (size_t)(t - s), item))
			return true;
		p = e + 1;
	}
	return false;
}

/* dkim_dnscheck_b64_val - value of one base64 digit, or -1 */
static int
dkim_dnscheck_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * dkim_dnscheck_b64 - decode base64 with whitespace anywhere (RFC 6376
 * 3.6.1 p=, base64string of 2.4). At most two "=" and only at the end;
 * padding may be absent. Returns a new buffer and its length, or NULL.
 */
static unsigned char *
dkim_dnscheck_b64(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	unsigned long acc = 0;
	size_t	n = 0, digits = 0, pads = 0;

	for (size_t i = 0; i < len; i++) {
		int	v;

		if (dkim_dnscheck_is_ws(s[i]))
			continue;
		if (s[i] == '=') {
			if (++pads > 2)
				goto bad;
			continue;
		}
		if (pads > 0 || (v = dkim_dnscheck_b64_val(s[i])) < 0)
			goto bad;
		acc = (acc << 6) | (unsigned long)v;
		if (++digits % 4 == 0) {
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
		}
	}
	switch (digits % 4) {
	case 1:
		goto bad;
	case 2:
		out[n++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		out[n++] = (unsigned char)(acc >> 10);
		out[n++] = (unsigned char)(acc >> 2);
		break;
	}
	if (pads > 0 && (digits + pads) % 4 != 0)
		goto bad;
	if (n == 0)
		goto bad;
	*outlen = n;
	return out;
bad:
	xfree(out);
	return NULL;
}

/* dkim_dnscheck_clean - printable copy of untrusted text for a reason */
static const char *
dkim_dnscheck_clean(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t	n = 0;

	for (size_t i = 0; i < len && n + 1 < dstlen; i++)
		dst[n++] = (s[i] >= 0x21 && s[i] <= 0x7e) ? s[i] : '?';
	dst[n] = '\0';
	return dst;
}

/* dkim_dnscheck_is_keyrec - a TXT record that claims to be a DKIM key */
static bool
dkim_dnscheck_is_keyrec(const char *rec, size_t len)
{
	const char *p = rec, *end = rec + len;
	bool	first = true;

	/*
	 * Loose scan, so that a key record with a syntax error is still seen
	 * as one (and reported MALFORMED, not MISSING): its first tag is v
	 * with a value starting with "DKIM", or its first tag is not v and
	 * one of its ";"-separated pieces is a p tag. A record starting with
	 * another v= ("v=spf1", "v=DMARC1") is discarded (RFC 6376 3.6.1).
	 */
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi != NULL ? semi : end, *name;
		size_t	namelen;

		while (p < e && dkim_dnscheck_is_ws(*p))
			p++;
		for (name = p; p < e && dkim_dnscheck_is_alnumpunc(*p); p++)
			 /* tag-name */ ;
		namelen = (size_t)(p - name);
		while (p < e && dkim_dnscheck_is_ws(*p))
			p++;
		if (p < e && *p == '=') {
			for (p++; p < e && dkim_dnscheck_is_ws(*p); p++)
				 /* FWS */ ;
			if (first && dkim_dnscheck_tag_is(name, namelen, "v"))
				return e - p >= 4 && strncasecmp(p, "DKIM", 4) == 0;
			if (dkim_dnscheck_tag_is(name, namelen, "p"))
				return true;
		}
		first = false;
		p = e + (semi != NULL);
	}
	return false;
}

/* dkim_dnscheck_set - status and reason; reason gets the t=y note */
static int __attribute__((format(printf, 3, 4)))
dkim_dnscheck_set(struct dkim_dnscheck_result *out, int status,
		  const char *fmt, ...)
{
	va_list	ap;
	int	n;

	out->status = status;
	va_start(ap, fmt);
	n = vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	if (out->testing && n >= 0 && (size_t)n < sizeof(out->reason))
		snprintf(out->reason + n, sizeof(out->reason) - (size_t)n,
			 "; testing mode (t=y)");
	return out->status;
}

/* dkim_dnscheck_core - see dkim_dnscheck(); want_k/want_p with lengths */
static int
dkim_dnscheck_core(const struct dns_txt_result *dns, const char *want_k,
		   size_t klen, const char *want_p, size_t plen,
		   struct dkim_dnscheck_result *out)
{
	struct dkim_dnscheck_keyrec kr;
	unsigned char *want = NULL, *got = NULL;
	size_t	wantlen = 0, gotlen = 0, nkey = 0, which = 0;
	const char *why, *k, *kval = "rsa";
	size_t	kvlen = 3;
	char	buf1[40], buf2[40];
	int	status;

	memset(out, 0, sizeof(*out));
	if (!dkim_dnscheck_tag_is(want_k, klen, "rsa")
	    && !dkim_dnscheck_tag_is(want_k, klen, "ed25519"))
		return dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "our key: k=%s is neither rsa nor ed25519 (caller bug)",
		    dkim_dnscheck_clean(buf1, sizeof(buf1), want_k, klen));
	if ((want = dkim_dnscheck_b64(want_p, plen, &wantlen)) == NULL)
		return dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "our key: p= is not valid base64 (caller bug)");

	switch (dns->status) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MISSING,
		    "no such name (NXDOMAIN)");
		goto done;
	case DNS_NODATA:
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MISSING,
		    "the name exists but has no TXT record");
		goto done;
	default:
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_TEMPFAIL,
		    "DNS lookup failed: %s",
		    dns->why != NULL ? dns->why : dns_status_str(dns->status));
		goto done;
	}

	for (size_t i = 0; i < dns->count && i < DNS_MAX_RECORDS; i++) {
		if (dkim_dnscheck_is_keyrec(dns->txt[i].data, dns->txt[i].len)) {
			nkey++;
			which = i;
		}
	}
	if (nkey == 0) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MISSING,
		    "%zu TXT record(s), none is a DKIM key record", dns->count);
		goto done;
	}
	if (nkey > 1) {
		/* RFC 6376 3.6.2.2: verifiers may use any one of them */
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "%zu DKIM key records at one name; publish exactly one",
		    nkey);
		goto done;
	}
	if (dkim_dnscheck_parse(dns->txt[which].data, dns->txt[which].len,
				&kr, &why) < 0) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "key record syntax: %s", why);
		goto done;
	}
	/* 3.6.1 t=: "y" means the domain is testing DKIM */
	out->testing = kr.t.val != NULL && dkim_dnscheck_list_has(&kr.t, "y");

	if (kr.v.val != NULL && !kr.v_first) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "v= is not the first tag (RFC 6376 3.6.1)");
		goto done;
	}
	if (kr.v.val != NULL && !dkim_dnscheck_tag_is(kr.v.val, kr.v.len, "DKIM1")) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "v=%s is not DKIM1; verifiers discard the record",
		    dkim_dnscheck_clean(buf1, sizeof(buf1), kr.v.val, kr.v.len));
		goto done;
	}
	if (kr.p.val == NULL) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "key record has no p= tag");
		goto done;
	}
	if (kr.p.len == 0) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_REVOKED,
		    "key revoked (empty p=)");
		goto done;
	}
	/* 3.6.1 k=: absent means rsa */
	if (kr.k.val != NULL) {
		kval = kr.k.val;
		kvlen = kr.k.len;
	}
	if (kvlen != klen || memcmp(kval, want_k, klen) != 0) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_STALE,
		    "published k=%s, ours is k=%s",
		    dkim_dnscheck_clean(buf1, sizeof(buf1), kval, kvlen),
		    dkim_dnscheck_clean(buf2, sizeof(buf2), want_k, klen));
		goto done;
	}
	k = dkim_dnscheck_clean(buf2, sizeof(buf2), want_k, klen);
	if ((got = dkim_dnscheck_b64(kr.p.val, kr.p.len, &gotlen)) == NULL) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "p= is not valid base64");
		goto done;
	}
	/* 3.6.1 h=: absent means all; we sign with sha256 only */
	if (kr.h.val != NULL && !dkim_dnscheck_list_has(&kr.h, "sha256")) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "h=%s does not list sha256; verifiers will reject our signatures",
		    dkim_dnscheck_clean(buf1, sizeof(buf1), kr.h.val, kr.h.len));
		goto done;
	}
	/* 3.6.1 s=: absent means "*" */
	if (kr.s.val != NULL && !dkim_dnscheck_list_has(&kr.s, "*")
	    && !dkim_dnscheck_list_has(&kr.s, "email")) {
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "s=%s excludes email; verifiers will not use the key",
		    dkim_dnscheck_clean(buf1, sizeof(buf1), kr.s.val, kr.s.len));
		goto done;
	}
	/* compare decoded bytes: folding and padding don't make a new key */
	if (gotlen != wantlen || memcmp(got, want, wantlen) != 0)
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_STALE,
		    "published key differs from ours (k=%s)", k);
	else
		status = dkim_dnscheck_set(out, DKIM_DNSCHECK_MATCH,
		    "published key matches ours (k=%s)", k);
done:
	xfree(want);
	xfree(got);
	return status;
}

/* dkim_dnscheck - compare the DNS outcome with our k= and p= */
int
dkim_dnscheck(const struct dns_txt_result *dns, const char *want_k,
	      const char *want_p, struct dkim_dnscheck_result *out)
{
	return dkim_dnscheck_core(dns, want_k, strlen(want_k), want_p,
				  strlen(want_p), out);
}

/* dkim_dnscheck_record - compare the DNS outcome with our whole record */
int
dkim_dnscheck_record(const struct dns_txt_result *dns, const char *our_record,
		     struct dkim_dnscheck_result *out)
{
	struct dkim_dnscheck_keyrec kr;
	const char *why;

	if (dkim_dnscheck_parse(our_record, strlen(our_record), &kr, &why) < 0
	    || kr.p.val == NULL || kr.p.len == 0) {
		memset(out, 0, sizeof(*out));
		return dkim_dnscheck_set(out, DKIM_DNSCHECK_MALFORMED,
		    "our key: record without a usable p= (caller bug)");
	}
	if (kr.k.val == NULL)
		return dkim_dnscheck_core(dns, "rsa", 3, kr.p.val, kr.p.len, out);
	return dkim_dnscheck_core(dns, kr.k.val, kr.k.len, kr.p.val, kr.p.len, out);
}
