/*++
 * NAME
 *	cidr 3
 * SUMMARY
 *	IPv4/IPv6 networks and lists of them
 * DESCRIPTION
 *	See cidr.h.
 *--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xalloc.h"

/* cidr_parse - "net/len" or a bare address */
int
cidr_parse(const char *text, struct cidr *out, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned max;
	long len;

	size_t len_text = strlen(text);

	if (len_text >= sizeof(buf)) {
		*why = "address too long";
		return -1;
	}
	memcpy(buf, text, len_text + 1);
	memset(out, 0, sizeof(*out));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	out->prefix = max;
	if (slash != NULL) {
		/*
		 * Digits only: strtol() alone would take "/ 8", "/+8" and
		 * "/-0", none of which a cidr table allows.
		 */
		if (slash[1] == '\0'
		    || strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
			*why = "bad prefix length";
			return -1;
		}
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len < 0 || len > (long)max) {
			*why = "bad prefix length";
			return -1;
		}
		out->prefix = (unsigned)len;
	}
	/* host bits under the prefix usually hide a typo: refuse them */
	for (unsigned bit = out->prefix; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			*why = "host bits set beyond the prefix length";
			return -1;
		}
	}
	return 0;
}

/* cidr_match_bytes - is addr (4 or 16 bytes) inside net */
bool
cidr_match_bytes(const struct cidr *net, int family, const unsigned char *addr)
{
	static const unsigned char v4mapped[12] =
	    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned full, rest;

	/* ::ffff:a.b.c.d is an IPv4 client */
	if (family == AF_INET6 && net->family == AF_INET
	    && memcmp(addr, v4mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != net->family)
		return false;
	full = net->prefix / 8;
	rest = net->prefix % 8;
	if (memcmp(addr, net->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((addr[full] ^ net->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* cidr_list_match_sa - does the socket address fall in any listed network */
bool
cidr_list_match_sa(const struct cidr_list *list, const struct sockaddr *sa)
{
	const unsigned char *bytes;
	int family;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		bytes = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		bytes = (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else {
		return false;
	}
	for (size_t i = 0; i < list->count; i++)
		if (cidr_match_bytes(&list->items[i], family, bytes))
			return true;
	return false;
}

/* cidr_list_match_text - the same for an address in text form */
bool
cidr_list_match_text(const struct cidr_list *list, const char *addr)
{
	unsigned char bytes[16];
	int family;

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, bytes) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, addr, bytes) == 1)
		family = AF_INET6;
	else
		return false;
	for (size_t i = 0; i < list->count; i++)
		if (cidr_match_bytes(&list->items[i], family, bytes))
			return true;
	return false;
}

/* cidr_list_free - release the items; the struct is the caller's */
void
cidr_list_free(struct cidr_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
