/*++
 * NAME
 *	bounce_provider 3h
 * SUMMARY
 *	mailbox providers' own error codes in their SMTP replies
 * SYNOPSIS
 *	#include "bounce_provider.h"
 * DESCRIPTION
 *	Some providers end their replies with a code of their own, with a
 *	documented meaning that is more exact than the words around it:
 *	Orange and La Poste ("OFR006_102", "LPN007_426", "OFR_506"), Cox
 *	("AUP#CXBL"), Spectrum/Charter ("AUP#In-1310"), GoDaddy
 *	("IB506"), i.ua ("mail.i.ua/err/3/"), Facebook ("RCP-P2").
 *
 *	bounce_provider_code() finds the first such code in the text and
 *	returns 1 with its reason (BOUNCE_REASON_OTHER when the provider's
 *	documentation says the code is generic: "Service refused, please
 *	try later") and a static description "Orange/La Poste code 426"
 *	in *what (at most whatcap bytes); 0 when there is none.
 *
 *	bounce_provider_rcpt() applies what a provider documents about the
 *	replies of its own receivers, keyed by the recipient's domain or
 *	the Remote-MTA's host (either may be NULL): KDDI's au (ezweb.ne.jp,
 *	au.com) answers "550 <address>: User unknown" to RCPT TO for an
 *	address that does not exist, and "550 : User unknown", naming no
 *	address, when the recipient's domain filter refuses the sender
 *	after DATA. It returns 1 with the reason and a description in
 *	*what, or 0.
 * THREAD SAFETY
 *	Reentrant; no I/O, no globals, the tables are constant.
 *--*/
#ifndef POSTMILL_BOUNCE_PROVIDER_H
#define POSTMILL_BOUNCE_PROVIDER_H

#include <stddef.h>

#include "bounce_classify.h"

int	bounce_provider_code(const char *s, size_t len,
			     enum bounce_reason *reason, char *what,
			     size_t whatcap);
int	bounce_provider_rcpt(const char *rcpt, const char *remote_mta,
			     const char *s, size_t len,
			     enum bounce_reason *reason, char *what,
			     size_t whatcap);

#endif
