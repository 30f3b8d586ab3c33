/*++
 * NAME
 *	hosted 3h
 * SUMMARY
 *	is this client's mail outbound mail of a hosted sender
 * SYNOPSIS
 *	#include "hosted.h"
 * DESCRIPTION
 *	Every postmill milter that acts on outbound mail (postmill-dkim
 *	signs it, postmill-bounce tags it) decides the same way which mail
 *	that is: the client authenticated with SASL (Postfix sends
 *	{auth_authen} in the MAIL phase, also for XCLIENT LOGIN), or its
 *	address is in internal_hosts. Each milter may turn either kind off.
 *
 *	hosted_is_internal() tests a client address (NULL: a local
 *	submission with no address, which is not internal by itself).
 *	hosted_decide() combines the two facts with the milter's switches.
 * THREAD SAFETY
 *	Pure functions.
 *--*/
#ifndef POSTMILL_HOSTED_H
#define POSTMILL_HOSTED_H

#include <stdbool.h>
#include <sys/socket.h>

#include "cidr.h"

bool	hosted_is_internal(const struct cidr_list *internal_hosts,
			   const struct sockaddr *sa);
bool	hosted_decide(bool authenticated, bool internal, bool use_authenticated,
		      bool use_internal);

#endif
