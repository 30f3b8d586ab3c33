/*++
 * NAME
 *	hosted 3
 * SUMMARY
 *	is this client's mail outbound mail of a hosted sender
 * DESCRIPTION
 *	See hosted.h.
 *--*/
#include "hosted.h"

/* hosted_is_internal - client address in internal_hosts */
bool
hosted_is_internal(const struct cidr_list *internal_hosts,
		   const struct sockaddr *sa)
{
	return sa != NULL && cidr_list_match_sa(internal_hosts, sa);
}

/* hosted_decide - authenticated or internal, and that kind is on */
bool
hosted_decide(bool authenticated, bool internal, bool use_authenticated,
	      bool use_internal)
{
	return (authenticated && use_authenticated) || (internal && use_internal);
}
