/*++
 * NAME
 *	cidr 3h
 * SUMMARY
 *	IPv4/IPv6 networks and lists of them
 * SYNOPSIS
 *	#include "cidr.h"
 * DESCRIPTION
 *	cidr_parse() reads "192.0.2.0/24", "2001:db8::/32", or a bare address
 *	(a /32 or /128). IPv4-mapped IPv6 clients (::ffff:192.0.2.1) match
 *	IPv4 networks. Host bits set under the prefix are an error, as in
 *	Postfix's cidr tables, because they usually hide a typo.
 *	cidr_list_match_sa() and cidr_list_match_text() test a client address.
 *--*/
#ifndef POSTMILL_CIDR_H
#define POSTMILL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network byte order; 4 used for v4 */
	unsigned	prefix;
};

struct cidr_list {
	struct cidr	*items;
	size_t		 count;
};

int  cidr_parse(const char *text, struct cidr *out, const char **why);
bool cidr_match_bytes(const struct cidr *net, int family,
		      const unsigned char *addr);
bool cidr_list_match_sa(const struct cidr_list *list, const struct sockaddr *sa);
bool cidr_list_match_text(const struct cidr_list *list, const char *addr);
void cidr_list_free(struct cidr_list *list);

#endif
