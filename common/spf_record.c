/*++
 * NAME
 *	spf_record 3
 * SUMMARY
 *	SPF record parser (RFC 7208 4.5, 4.6, 5, 6 and 12)
 * DESCRIPTION
 *	See spf_record.h. The whole record is checked before evaluation
 *	starts, because RFC 7208 4.6 makes a syntax error anywhere in the
 *	record a permerror, even one after the mechanism that would match.
 *	CIDR suffixes are taken from the end of a term ("//N" then "/N"), as
 *	a domain-spec may itself hold '/' characters (macro-literal).
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf_macro.h"
#include "spf_record.h"

/* spf_is_alpha, spf_is_alnum - ASCII classes of RFC 5234 */
static bool
spf_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
spf_is_alnum(unsigned char c)
{
	return spf_is_alpha(c) || (c >= '0' && c <= '9');
}

/* spf_record_is_spf - "v=spf1" then SP or end (RFC 7208 4.5) */
bool
spf_record_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0
	    && (len == 6 || txt[6] == ' ');
}

/*
 * spf_toplabel_ok - RFC 7208 12: toplabel = ( *alphanum ALPHA *alphanum )
 * / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ). All digits is not a
 * toplabel, so "a:192.0.2.1" is an error (use ip4).
 */
static bool
spf_toplabel_ok(const char *p, size_t len)
{
	bool	alpha = false, dash = false;

	if (len == 0 || !spf_is_alnum((unsigned char)p[0])
	    || !spf_is_alnum((unsigned char)p[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '-')
			dash = true;
		else if (spf_is_alpha(c))
			alpha = true;
		else if (!spf_is_alnum(c))
			return false;
	}
	return alpha || dash;
}

/*
 * spf_ends_in_macro - does s end with a macro-expand: "%{...}", "%%",
 * "%_" or "%-" (scanning from the start: "%%_" is "%%" then "_").
 */
static bool
spf_ends_in_macro(const char *s, size_t len)
{
	size_t	i = 0, last_end = (size_t)-1;

	while (i < len) {
		if (s[i] != '%' || i + 1 >= len) {
			i++;
			continue;
		}
		if (s[i + 1] == '{') {
			const char *close = memchr(s + i, '}', len - i);

			if (close == NULL)
				return false;
			i = (size_t)(close - s) + 1;
		} else {
			i += 2;
		}
		last_end = i;
	}
	return last_end == len;
}

/* spf_domain_spec_ok - macro-string domain-end (RFC 7208 12) */
bool
spf_domain_spec_ok(const char *spec, size_t len)
{
	const char *why;
	const char *dot;
	size_t	end = len;

	if (len == 0 || spf_macro_check(spec, len, SPF_MACRO_DOMAIN, &why) < 0)
		return false;
	if (spf_ends_in_macro(spec, len))
		return true;
	if (spec[end - 1] == '.')
		end--;				/* domain-end = "." toplabel ["."] */
	if (end == 0 || (dot = memrchr(spec, '.', end)) == NULL)
		return false;
	return spf_toplabel_ok(dot + 1, (size_t)(spec + end - dot - 1));
}

/* spf_cidr_suffix - strip "/N" (N = "0" / %x31-39 *DIGIT) from the end */
static int
spf_cidr_suffix(const char *p, size_t *len, bool dual)
{
	size_t	n = *len, d = 0;
	int	value = 0;

	while (d < n && p[n - 1 - d] >= '0' && p[n - 1 - d] <= '9')
		d++;
	if (d == 0 || d == n || p[n - 1 - d] != '/')
		return -1;
	if (dual && (d + 1 == n || p[n - 2 - d] != '/'))
		return -1;
	if (d > 1 && p[n - d] == '0')
		return -1;			/* leading zero: not a cidr-length */
	if (d > 3)
		value = 1000;			/* larger than any prefix */
	else
		for (size_t i = n - d; i < n; i++)
			value = value * 10 + (p[i] - '0');
	*len = n - d - (dual ? 2 : 1);
	return value;
}

/* spf_parse_mechanism - one directive into *t; 0 or -1 with *why */
static int
spf_parse_mechanism(const char *p, size_t len, struct spf_term *t,
		    const char **why)
{
	static const struct {
		const char *name;
		enum spf_mech mech;
	} names[] = {
		{"all", SPF_MECH_ALL}, {"include", SPF_MECH_INCLUDE},
		{"a", SPF_MECH_A}, {"mx", SPF_MECH_MX}, {"ptr", SPF_MECH_PTR},
		{"ip4", SPF_MECH_IP4}, {"ip6", SPF_MECH_IP6},
		{"exists", SPF_MECH_EXISTS},
	};
	size_t	namelen, body = len;
	const char *colon;
	int	c4 = -1, c6 = -1;
	bool	found = false;

	t->text = p;
	t->text_len = len;
	t->qualifier = '+';
	if (len > 0 && strchr("+-~?", p[0]) != NULL) {
		t->qualifier = p[0];
		p++;
		len--;
		body = len;
	}
	/* dual-cidr-length first: "a/24//64" (RFC 7208 5.6) */
	if ((c6 = spf_cidr_suffix(p, &body, true)) < 0)
		c6 = -1;
	if ((c4 = spf_cidr_suffix(p, &body, false)) < 0)
		c4 = -1;
	colon = memchr(p, ':', body);
	namelen = colon != NULL ? (size_t)(colon - p) : body;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == namelen
		    && strncasecmp(p, names[i].name, namelen) == 0) {
			t->mech = names[i].mech;
			found = true;
			break;
		}
	}
	if (!found) {
		*why = "unknown mechanism";
		return -1;
	}
	t->spec = colon != NULL ? colon + 1 : NULL;
	t->spec_len = colon != NULL ? (size_t)(p + body - colon - 1) : 0;
	t->cidr4 = c4;
	t->cidr6 = c6;
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (colon != NULL || c4 >= 0 || c6 >= 0) {
			*why = "\"all\" takes no argument";
			return -1;
		}
		return 0;
	case SPF_MECH_IP4: {
		char	buf[INET_ADDRSTRLEN];

		if (c6 >= 0 || c4 > 32) {
			*why = "bad ip4 CIDR length";
			return -1;
		}
		if (t->spec == NULL || t->spec_len >= sizeof(buf)) {
			*why = "bad ip4 address";
			return -1;
		}
		memcpy(buf, t->spec, t->spec_len);
		buf[t->spec_len] = '\0';
		/* glibc's inet_pton: four decimal parts, no leading zeros */
		if (inet_pton(AF_INET, buf, t->addr) != 1) {
			*why = "bad ip4 address";
			return -1;
		}
		if (t->cidr4 < 0)
			t->cidr4 = 32;
		return 0;
	}
	case SPF_MECH_IP6: {
		char	buf[INET6_ADDRSTRLEN + 1];

		/* ip6-cidr-length is a single "/N" (RFC 7208 5.6) */
		if (c6 >= 0 || c4 > 128) {
			*why = "bad ip6 CIDR length";
			return -1;
		}
		if (t->spec == NULL || t->spec_len >= sizeof(buf)) {
			*why = "bad ip6 address";
			return -1;
		}
		memcpy(buf, t->spec, t->spec_len);
		buf[t->spec_len] = '\0';
		if (inet_pton(AF_INET6, buf, t->addr) != 1) {
			*why = "bad ip6 address";
			return -1;
		}
		t->cidr6 = t->cidr4 < 0 ? 128 : t->cidr4;
		t->cidr4 = -1;
		return 0;
	}
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (c4 > 32) {
			*why = "bad ip4 CIDR length";
			return -1;
		}
		if (c6 > 128) {
			*why = "bad ip6 CIDR length";
			return -1;
		}
		break;
	default:
		if (c4 >= 0 || c6 >= 0) {
			*why = "CIDR length not allowed on this mechanism";
			return -1;
		}
		break;
	}
	if (t->spec == NULL) {
		if (t->mech == SPF_MECH_INCLUDE || t->mech == SPF_MECH_EXISTS) {
			*why = "mechanism needs a domain-spec";
			return -1;
		}
		return 0;
	}
	if (!spf_domain_spec_ok(t->spec, t->spec_len)) {
		*why = t->spec_len == 0 ? "empty domain-spec"
		    : "bad domain-spec (macro error, or no valid top label)";
		return -1;
	}
	return 0;
}

/*
 * spf_modifier_name - length of name in "name=" (RFC 7208 12:
 * name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )), or 0.
 */
static size_t
spf_modifier_name(const char *p, size_t len)
{
	size_t	i;

	if (len == 0 || !spf_is_alpha((unsigned char)p[0]))
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '=')
			return i;
		if (!spf_is_alnum(c) && c != '-' && c != '_' && c != '.')
			return 0;
	}
	return 0;
}

/* spf_parse_modifier - name=value; 0 or -1 with *why */
static int
spf_parse_modifier(const char *p, size_t len, size_t namelen,
		   struct spf_record *out, const char **why)
{
	const char *val = p + namelen + 1;
	size_t	vlen = len - namelen - 1;

	if (namelen == 8 && strncasecmp(p, "redirect", 8) == 0) {
		if (out->redirect != NULL) {
			*why = "redirect= given twice";		/* RFC 7208 6 */
			return -1;
		}
		if (!spf_domain_spec_ok(val, vlen)) {
			*why = "bad redirect= domain-spec";
			return -1;
		}
		out->redirect = val;
		out->redirect_len = vlen;
		return 0;
	}
	if (namelen == 3 && strncasecmp(p, "exp", 3) == 0) {
		if (out->exp != NULL) {
			*why = "exp= given twice";		/* RFC 7208 6 */
			return -1;
		}
		if (!spf_domain_spec_ok(val, vlen)) {
			*why = "bad exp= domain-spec";
			return -1;
		}
		out->exp = val;
		out->exp_len = vlen;
		return 0;
	}
	/* RFC 7208 6: unknown modifiers are ignored, but must parse */
	if (spf_macro_check(val, vlen, SPF_MACRO_DOMAIN, why) < 0)
		return -1;
	return 0;
}

/* spf_record_parse - the whole record; see spf_record.h */
int
spf_record_parse(const char *txt, size_t len, struct spf_record *out,
		 const char **why)
{
	size_t	i;

	memset(out, 0, sizeof(*out));
	if (len > SPF_MAX_RECORD_LEN) {
		*why = "record too long";
		return -1;
	}
	if (!spf_record_is_spf(txt, len)) {
		*why = "not an SPF record (no v=spf1)";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];

		if (c < 0x20 || c > 0x7e) {
			*why = "control or non-ASCII character in record";
			return -1;
		}
	}
	i = 6;
	for (;;) {
		size_t	start, tlen, namelen;

		while (i < len && txt[i] == ' ')
			i++;
		if (i == len)
			return 0;
		start = i;
		while (i < len && txt[i] != ' ')
			i++;
		tlen = i - start;
		if ((namelen = spf_modifier_name(txt + start, tlen)) > 0) {
			if (spf_parse_modifier(txt + start, tlen, namelen, out,
					       why) < 0)
				return -1;
			continue;
		}
		if (out->nterms == SPF_MAX_TERMS) {
			*why = "too many mechanisms";
			return -1;
		}
		if (spf_parse_mechanism(txt + start, tlen,
					&out->term[out->nterms], why) < 0)
			return -1;
		out->nterms++;
	}
}
