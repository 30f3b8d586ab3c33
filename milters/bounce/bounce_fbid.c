/*++
 * NAME
 *	bounce_fbid 3
 * SUMMARY
 *	the Feedback-ID header of Gmail's feedback loop (see bounce_fbid.h)
 *--*/
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "bounce_fbid.h"
#include "name_code.h"

static const char bf_label[] = "postmill-bounce feedback-id";

/* bf_safe - a character that may stand in an identifier */
static bool
bf_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || (c != '\0' && strchr("._@+=/-", c) != NULL);
}

/* the sources that take no argument (header: and literal: do) */
static const struct name_code bf_plain_sources[] = {
	{"login", BOUNCE_FBID_LOGIN},
	{"sender", BOUNCE_FBID_SENDER},
	{"sender_domain", BOUNCE_FBID_SENDER_DOMAIN},
	{NULL, -1},
};

/* bf_src - one source word; 0, or -1 with err */
static int
bf_src(const char *item, bool last, struct bounce_fbid_field *f, char *err,
       size_t errlen)
{
	const char *s = item;
	int src;

	memset(f, 0, sizeof(*f));
	if (strncasecmp(s, "hash:", 5) == 0) {
		f->hash = true;
		s += 5;
	}
	if ((src = name_code(bf_plain_sources, NAME_CODE_FLAG_NOCASE, s)) >= 0)
		f->src = (enum bounce_fbid_src)src;
	else if (strncasecmp(s, "header:", 7) == 0) {
		f->src = BOUNCE_FBID_HEADER;
		f->arg = s + 7;
		if (*f->arg == '\0' || strlen(f->arg) > 64) {
			snprintf(err, errlen, "%s: a header name of 1-64 characters", item);
			return -1;
		}
		for (const char *cp = f->arg; *cp; cp++)
			if (*cp <= ' ' || *cp >= 127 || *cp == ':') {
				snprintf(err, errlen, "%s: not a header field name "
					 "(RFC 5322 section 3.6.8)", item);
				return -1;
			}
	} else if (strncasecmp(s, "literal:", 8) == 0) {
		f->src = BOUNCE_FBID_LITERAL;
		f->arg = s + 8;
		if (*f->arg == '\0' || strlen(f->arg) > BOUNCE_FBID_FIELD_MAX) {
			snprintf(err, errlen, "%s: a literal of 1-%d characters", item,
				 BOUNCE_FBID_FIELD_MAX);
			return -1;
		}
		for (const char *cp = f->arg; *cp; cp++)
			if (!bf_safe((unsigned char)*cp)) {
				snprintf(err, errlen, "%s: a literal may hold letters, "
					 "digits and ._@+=/- only", item);
				return -1;
			}
	} else {
		snprintf(err, errlen, "%s: unknown source (login, sender, "
			 "sender_domain, header:NAME, literal:TEXT, each may be "
			 "hash:SOURCE)", item);
		return -1;
	}
	if (!last)
		return 0;
	/* Gmail: 5-15 characters, consistent across the mail stream */
	if (f->src == BOUNCE_FBID_HEADER
	    || (!f->hash && f->src != BOUNCE_FBID_LITERAL)
	    || (!f->hash && (strlen(f->arg) < 5 || strlen(f->arg) > 15))) {
		snprintf(err, errlen, "%s: the SenderId (the last source) must be "
			 "hash:login, hash:sender, hash:sender_domain or "
			 "literal:TEXT of 5-15 characters: Gmail wants 5-15 "
			 "characters, the same for all of a sender's mail", item);
		return -1;
	}
	return 0;
}

/* bounce_fbid_parse - check bounce_feedback_id; see bounce_fbid.h */
int
bounce_fbid_parse(const char *const *items, size_t n, struct bounce_fbid *out,
		  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (n > BOUNCE_FBID_MAX) {
		snprintf(err, errlen, "%zu sources, at most %d (a:b:c:SenderId)",
			 n, BOUNCE_FBID_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (bf_src(items[i], i + 1 == n, &out->f[i], err, errlen) < 0) {
			memset(out, 0, sizeof(*out));
			return -1;
		}
	out->n = n;
	return 0;
}

/* bf_hash - 12 base32 characters of SHA-256(label NUL value) */
static void
bf_hash(const char *v, size_t len, char *out, size_t outlen)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned long long g = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t o = 0;

	memset(md, 0, sizeof(md));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
	    && EVP_DigestUpdate(ctx, bf_label, sizeof(bf_label)) == 1
	    && EVP_DigestUpdate(ctx, v, len) == 1)
		(void)EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < 8; i++)
		g = g << 8 | md[i];
	/* the first 60 of those 64 bits, 5 at a time */
	for (int k = 0; k < BOUNCE_FBID_HASH_CHARS && o + 1 < outlen; k++)
		out[o++] = b32[(g >> (59 - 5 * k)) & 31];
	out[o] = '\0';
}

/* bf_value - the raw value of a source for this message, or NULL */
static const char *
bf_value(const struct bounce_fbid_field *f, const struct bounce_fbid_in *in,
	 size_t i)
{
	const char *at;

	switch (f->src) {
	case BOUNCE_FBID_LOGIN:
		return in->login;
	case BOUNCE_FBID_SENDER:
		return in->sender;
	case BOUNCE_FBID_SENDER_DOMAIN:
		if (in->sender == NULL || (at = strrchr(in->sender, '@')) == NULL)
			return NULL;
		return at + 1;
	case BOUNCE_FBID_HEADER:
		return in->hdr[i];
	case BOUNCE_FBID_LITERAL:
		return f->arg;
	}
	return NULL;
}

/* bf_field - one identifier, cleaned (or hashed), into out */
static void
bf_field(const struct bounce_fbid_field *f, const char *v, char *out,
	 size_t outlen)
{
	size_t len, o = 0;

	out[0] = '\0';
	if (v == NULL)
		return;
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'
			   || v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	if (len == 0)
		return;
	if (f->hash) {
		bf_hash(v, len, out, outlen);
		return;
	}
	for (size_t i = 0; i < len && o < BOUNCE_FBID_FIELD_MAX && o + 1 < outlen; i++)
		out[o++] = bf_safe((unsigned char)v[i]) ? v[i] : '_';
	out[o] = '\0';
}

/* bounce_fbid_build - the header value for one message; see bounce_fbid.h */
int
bounce_fbid_build(const struct bounce_fbid *f, const struct bounce_fbid_in *in,
		  char *out, size_t outlen)
{
	char one[BOUNCE_FBID_FIELD_MAX + 1];
	size_t o = 0, k;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (f->n == 0)
		return -1;
	for (size_t i = 0; i < f->n; i++) {
		bf_field(&f->f[i], bf_value(&f->f[i], in, i), one, sizeof(one));
		if (i + 1 == f->n && one[0] == '\0') {
			out[0] = '\0';
			return -1;	/* no SenderId: Gmail generates nothing */
		}
		k = strlen(one);
		if (o + k + 2 > outlen) {
			out[0] = '\0';
			return -1;
		}
		if (i > 0)
			out[o++] = ':';
		memcpy(out + o, one, k + 1);
		o += k;
	}
	return 0;
}

/* bounce_fbid_header_name - the header a field reads, or NULL */
const char *
bounce_fbid_header_name(const struct bounce_fbid *f, size_t i)
{
	if (i >= f->n || f->f[i].src != BOUNCE_FBID_HEADER)
		return NULL;
	return f->f[i].arg;
}
