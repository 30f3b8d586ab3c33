/*++
 * NAME
 *	auth_aggr_rua 3
 * SUMMARY
 *	the rua destinations of a DMARC record (RFC 9989 4.7, RFC 9990 "Report Delivery")
 * DESCRIPTION
 *	See auth_aggr.h. A parser of untrusted DNS text: (text, len), no NUL
 *	needed, every copy bounded. Tag-list syntax as RFC 6376 3.2 (tags
 *	separated by ";", white space around names and values ignored).
 *--*/
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "auth_aggr.h"

#define RUA_WSP(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

/* rua_trim - drop white space at both ends of [*p, *p + *n) */
static void
rua_trim(const char **p, size_t *n)
{
	while (*n > 0 && RUA_WSP((*p)[0]))
		(*p)++, (*n)--;
	while (*n > 0 && RUA_WSP((*p)[*n - 1]))
		(*n)--;
}

/* rua_tag - the next "name=value" of the tag list; false at the end */
static bool
rua_tag(const char **cur, const char *end, const char **name, size_t *nlen,
	const char **value, size_t *vlen)
{
	const char *semi, *eq;

	if (*cur >= end)
		return false;
	semi = memchr(*cur, ';', (size_t)(end - *cur));
	if (semi == NULL)
		semi = end;
	eq = memchr(*cur, '=', (size_t)(semi - *cur));
	*name = *cur;
	*nlen = (size_t)((eq ? eq : semi) - *cur);
	*value = eq ? eq + 1 : semi;
	*vlen = (size_t)(semi - *value);
	rua_trim(name, nlen);
	rua_trim(value, vlen);
	*cur = semi < end ? semi + 1 : end;
	return true;
}

/* auth_aggr_is_dmarc1 - does the record start with the tag v=DMARC1 */
bool
auth_aggr_is_dmarc1(const char *text, size_t len)
{
	const char *cur = text, *name, *value;
	size_t nlen, vlen;

	return rua_tag(&cur, text + len, &name, &nlen, &value, &vlen)
	    && nlen == 1 && name[0] == 'v' && vlen == 6 && memcmp(value, "DMARC1", 6) == 0;
}

/* rua_hex - one hex digit or -1 */
static int
rua_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* rua_size - "!" 1*DIGIT [k|m|g|t] (RFC 7489 6.2); 0 ok, -1 bad */
static int
rua_size(const char *p, size_t n, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	size_t i;

	if (n > 0 && strchr("kmgtKMGT", p[n - 1]) != NULL) {
		switch (tolower((unsigned char)p[n - 1])) {
		case 'k': mult = 1ULL << 10; break;
		case 'm': mult = 1ULL << 20; break;
		case 'g': mult = 1ULL << 30; break;
		case 't': mult = 1ULL << 40; break;
		}
		n--;
	}
	if (n == 0 || n > 12)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	*out = v * mult;
	return *out == 0 ? -1 : 0;
}

/* rua_uri - one "mailto:addr[!size]"; 0 ok, -1 skip it */
static int
rua_uri(const char *p, size_t n, struct auth_aggr_uri *u)
{
	const char *bang, *why;
	size_t i, k = 0, alen;
	char *at, *host;

	memset(u, 0, sizeof(*u));
	if (n < 7 || strncasecmp(p, "mailto:", 7) != 0)
		return -1;
	p += 7, n -= 7;
	if ((bang = memchr(p, '!', n)) != NULL) {
		if (rua_size(bang + 1, n - (size_t)(bang - p) - 1, &u->max_size) < 0)
			return -1;
		n = (size_t)(bang - p);
	}
	/* hfields ("?subject=...") are not for us: a report's headers are ours */
	alen = n;
	for (i = 0; i < n; i++)
		if (p[i] == '?') {
			alen = i;
			break;
		}
	for (i = 0; i < alen; i++) {
		char c = p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= alen)
				return -1;
			if ((hi = rua_hex(p[i + 1])) < 0 || (lo = rua_hex(p[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		/* an address for a header field and argv: no controls, no specials */
		if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f
		    || strchr("<>(),;:\\\"[]", c) != NULL)
			return -1;
		if (k >= AUTH_AGGR_ADDR_MAX)
			return -1;
		u->addr[k++] = c;
	}
	u->addr[k] = '\0';
	if ((at = strrchr(u->addr, '@')) == NULL || at == u->addr
	    || strchr(u->addr, '@') != at)
		return -1;
	/* a host name: LDH labels, lowercase A-labels, one trailing dot dropped */
	if ((host = addr_domain_normalize(at + 1, &why)) == NULL)
		return -1;
	snprintf(u->host, sizeof(u->host), "%s", host);
	free(host);
	return 0;
}

/* auth_aggr_rua_parse - see auth_aggr.h */
int
auth_aggr_rua_parse(const char *text, size_t len, struct auth_aggr_uri *out,
		    size_t max, const char **why)
{
	const char *cur = text, *end = text + len, *name, *value;
	size_t nlen, vlen, n = 0;

	if (!auth_aggr_is_dmarc1(text, len)) {
		*why = "not a DMARC record";
		return -1;
	}
	while (rua_tag(&cur, end, &name, &nlen, &value, &vlen)) {
		const char *u = value, *vend = value + vlen;

		if (nlen != 3 || strncasecmp(name, "rua", 3) != 0)
			continue;
		while (u < vend && n < max) {
			const char *comma = memchr(u, ',', (size_t)(vend - u));
			const char *e = comma ? comma : vend;
			const char *p = u;
			size_t plen = (size_t)(e - u);

			rua_trim(&p, &plen);
			if (rua_uri(p, plen, &out[n]) == 0)
				n++;
			u = comma ? comma + 1 : vend;
		}
		break;		/* a repeated tag keeps its first value */
	}
	*why = n ? NULL : "no usable rua";
	return (int)n;
}
