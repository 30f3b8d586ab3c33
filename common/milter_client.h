/*++
 * NAME
 *	milter_client 3h
 * SUMMARY
 *	the SMTP client address a milter's connect callback receives
 * SYNOPSIS
 *	#include "milter_client.h"
 *
 *	void milter_client_set(struct milter_client *cl,
 *			       const struct sockaddr *sa);
 *	const unsigned char *milter_client_bytes(const struct milter_client *cl);
 * DESCRIPTION
 *	milter_client_set() keeps a copy of the client address of
 *	xxfi_connect (the MTA's "hostaddr"): an AF_INET or AF_INET6
 *	sockaddr is copied (only its own length, since the MTA's buffer may
 *	be no larger) with have_sa set, family set and addr its inet_ntop
 *	text. Anything else (NULL: Postfix's "unknown" client, a UNIX
 *	socket, a family the milter protocol does not name) leaves have_sa
 *	false, family AF_UNSPEC and addr "local", the text the logs show.
 *	Every field is set on every call, so a struct can be reused.
 *
 *	milter_client_bytes() is the raw address (4 or 16 bytes in network
 *	order, as family says) inside sa, or NULL without an address.
 * THREAD SAFETY
 *	No globals; a struct milter_client belongs to one connection.
 *--*/
#ifndef POSTMILL_MILTER_CLIENT_H
#define POSTMILL_MILTER_CLIENT_H

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct milter_client {
	struct sockaddr_storage	 sa;		/* valid when have_sa */
	bool			 have_sa;
	int			 family;	/* AF_INET, AF_INET6, AF_UNSPEC */
	char			 addr[INET6_ADDRSTRLEN]; /* text or "local" */
};

void	milter_client_set(struct milter_client *cl, const struct sockaddr *sa);
const unsigned char *milter_client_bytes(const struct milter_client *cl);

#endif
