/*++
 * NAME
 *	addr_domain 3
 * SUMMARY
 *	domain checks and normalization for the address parsers
 * DESCRIPTION
 *	addr_domain_normalize() turns a domain as written into the form
 *	every caller compares: U-labels to A-labels (libidn2,
 *	IDN2_NONTRANSITIONAL), lowercase, one trailing dot removed, then
 *	the LDH label rules of RFC 5321 §4.1.2. Domain literals must be
 *	IPv4 or "IPv6:" address literals (RFC 5321 §4.1.3). Both parsers
 *	hand every domain they return through it.
 *
 *	addr_domain_is_subdomain() compares normalized domains, ASCII
 *	case-blind; a domain literal matches only itself.
 *
 *	See addr.h for the contract. No state; the result of
 *	addr_domain_normalize() is the caller's.
 *--*/
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "addr.h"
#include "addr_priv.h"
#include "xalloc.h"

/* Longest literal body: "IPv6:" plus an IPv6 address with IPv4 tail. */
#define ADDR_LITERAL_MAX	64

/* ascii_lower - lowercase one ASCII letter; locale independent */
static char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ascii_caseeq_n - n bytes equal, ignoring ASCII case */
static bool
ascii_caseeq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* domain_check_ldh - labels of letters, digits, hyphens (RFC 5321 §4.1.2) */
static const char *
domain_check_ldh(const char *d, size_t len)
{
	size_t i, label = 0;

	if (len > ADDR_DOMAIN_MAX)
		return "domain too long";
	for (i = 0; i < len; i++) {
		char c = d[i];

		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			if (d[i - 1] == '-')
				return "label ends with hyphen";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		      || c == '-'))
			return "bad character in domain";
		if (c == '-' && label == 0)
			return "label starts with hyphen";
		if (++label > ADDR_LABEL_MAX)
			return "label too long";
	}
	if (label == 0)
		return "empty label in domain";
	if (d[len - 1] == '-')
		return "label ends with hyphen";
	return NULL;
}

/*
 * domain_literal - validate and lowercase "[IPv4]" or "[IPv6:addr]".
 * RFC 5321 §4.1.3 also has General-address-literal, but no other tag is
 * registered, so anything else is rejected.
 */
static char *
domain_literal(const char *d, size_t len, const char **why)
{
	char body[ADDR_LITERAL_MAX + 1];
	unsigned char bin[16];
	size_t blen, i;
	char *out;
	int ok;

	if (len < 3 || d[len - 1] != ']') {
		*why = "bad domain literal";
		return NULL;
	}
	blen = len - 2;
	if (blen > ADDR_LITERAL_MAX) {
		*why = "bad domain literal";
		return NULL;
	}
	for (i = 0; i < blen; i++)
		body[i] = ascii_lower(d[1 + i]);
	body[blen] = '\0';
	if (blen > 5 && memcmp(body, "ipv6:", 5) == 0)
		ok = inet_pton(AF_INET6, body + 5, bin);
	else
		ok = inet_pton(AF_INET, body, bin);
	if (ok != 1) {
		*why = "bad domain literal";
		return NULL;
	}
	out = xmalloc(blen + 3);
	out[0] = '[';
	memcpy(out + 1, body, blen);
	out[blen + 1] = ']';
	out[blen + 2] = '\0';
	return out;
}

/* addr_domain_normalize - lowercase A-label copy of a domain, or NULL */
char *
addr_domain_normalize(const char *domain, const char **why)
{
	const char *dummy;
	char *buf, *ace;
	size_t len, i;
	bool ascii = true;
	int rc;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (domain == NULL || *domain == '\0') {
		*why = "empty domain";
		return NULL;
	}
	len = strnlen(domain, ADDR_DOMAIN_RAW_MAX + 1);
	if (len > ADDR_DOMAIN_RAW_MAX) {
		*why = "domain too long";
		return NULL;
	}
	if (domain[0] == '[')
		return domain_literal(domain, len, why);

	buf = xstrndup(domain, len);
	/* A trailing dot is the absolute form of the same name. */
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	if (len == 0) {
		xfree(buf);
		*why = "empty domain";
		return NULL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x80)
			ascii = false;
	if (!ascii) {
		/* U-labels to A-labels; UTS #46 also lowercases. */
		rc = idn2_to_ascii_8z(buf, &ace, IDN2_NONTRANSITIONAL);
		xfree(buf);
		if (rc != IDN2_OK) {
			*why = "invalid international domain name";
			return NULL;
		}
		buf = xstrdup(ace);
		idn2_free(ace);
		len = strlen(buf);
		if (len == 0) {
			xfree(buf);
			*why = "empty domain";
			return NULL;
		}
	}
	for (i = 0; i < len; i++)
		buf[i] = ascii_lower(buf[i]);
	if ((*why = domain_check_ldh(buf, len)) != NULL)
		return xfree(buf);
	return buf;
}

/* addr_domain_is_subdomain - child is parent or below it, ASCII case-blind */
bool
addr_domain_is_subdomain(const char *child, const char *parent)
{
	size_t clen, plen;

	if (child == NULL || parent == NULL || *child == '\0'
	    || *parent == '\0')
		return false;
	clen = strlen(child);
	plen = strlen(parent);
	/* "[192.0.2.1]" must not be "below" "2.1]". */
	if (child[0] == '[' || parent[0] == '[')
		return clen == plen && ascii_caseeq_n(child, parent, clen);
	if (clen == plen)
		return ascii_caseeq_n(child, parent, clen);
	return clen > plen && child[clen - plen - 1] == '.'
	    && ascii_caseeq_n(child + clen - plen, parent, plen);
}
