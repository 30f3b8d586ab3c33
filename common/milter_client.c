/*++
 * NAME
 *	milter_client 3
 * SUMMARY
 *	the SMTP client address a milter's connect callback receives
 * DESCRIPTION
 *	See milter_client.h. No libmilter here: the unit test calls it
 *	with sockaddrs it builds.
 *--*/
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "milter_client.h"

/* milter_client_bytes - the raw address inside sa, NULL without one */
const unsigned char *
milter_client_bytes(const struct milter_client *cl)
{
	if (!cl->have_sa)
		return NULL;
	if (cl->family == AF_INET)
		return (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)&cl->sa)->sin_addr;
	return (const unsigned char *)
	    &((const struct sockaddr_in6 *)(const void *)&cl->sa)->sin6_addr;
}

/* milter_client_set - copy an IPv4/IPv6 client address; "local" otherwise */
void
milter_client_set(struct milter_client *cl, const struct sockaddr *sa)
{
	memset(&cl->sa, 0, sizeof(cl->sa));
	cl->have_sa = false;
	cl->family = AF_UNSPEC;
	snprintf(cl->addr, sizeof(cl->addr), "local");
	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	/* copy only the family's own length: the caller's buffer may end there */
	memcpy(&cl->sa, sa, sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	       : sizeof(struct sockaddr_in6));
	cl->have_sa = true;
	cl->family = sa->sa_family;
	if (inet_ntop(cl->family, milter_client_bytes(cl), cl->addr,
		      sizeof(cl->addr)) == NULL)
		snprintf(cl->addr, sizeof(cl->addr), "local");
}
