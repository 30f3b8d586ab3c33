/*++
 * NAME
 *	bounce_policy 3h
 * SUMMARY
 *	postmill-bounce decisions as plain functions
 * SYNOPSIS
 *	#include "bounce_policy.h"
 * DESCRIPTION
 *	bounce_policy_from_conf() turns the reason lists and expiries of a
 *	loaded configuration into a struct bounce_policy, adding every
 *	problem to el ("path: bounce_x = y: problem"); 0 or -1.
 *
 *	bounce_policy_plan() says what one classified recipient does to the
 *	suppression list (RFC 3464 section 2.3.3 Action, with the class and
 *	reason of bounce_classify.h): suppress now (a reason of
 *	bounce_suppress_reasons); count a soft bounce (bounce_soft_reasons,
 *	when a threshold is set); reset the soft count (Action delivered,
 *	relayed or expanded: the address works); or nothing (delays,
 *	auto-replies, and the reputation reasons, which never suppress).
 *
 *	bounce_scope_tag() writes the hash tag of the suppression list a
 *	sender's mail is checked against: "s:SENDER", "d:DOMAIN" or "g";
 *	-1 when the scope is off or the sender is empty (for sender and
 *	domain scopes). bounce_addr_norm() copies an envelope address
 *	(ptr, len, with or without angle brackets) lower-cased for keys:
 *	-1 on empty, over 320 bytes, or control characters.
 *
 *	bounce_rcpt_local() says whether a recipient path is at the bounce
 *	domain (1, local part copied out) or not (0); -1 for a path that
 *	does not parse. A path at the bounce domain whose local part does
 *	not fit in locallen, or that does not parse but ends in
 *	@domain, is at the bounce domain with an empty local part: no tag
 *	is that, so its tag check fails (550 5.7.1) rather than letting it
 *	through as mail for somebody else.
 *
 *	bounce_suppress_text() writes the text of the 550 5.1.1 reply for a
 *	suppressed recipient: when (UTC, from since_s) and why, with the
 *	receiver's diagnostic; CR, LF, '%' and other control bytes are
 *	replaced, as smfi_setreply() needs.
 *
 *	bounce_policy_scope() writes the hash tag of the suppression list a
 *	hosted message is checked against and recorded in: its tenant's own
 *	("t:NAME") when the sender belongs to a tenant, else as
 *	bounce_scope_tag() says; -1 when there is none (or it does not fit).
 *
 *	bounce_policy_then() is what becomes of a recorded bounce under
 *	bounce_action: a redirect with no message record (expired, or never
 *	ours) has nobody to go to and is delivered instead.
 *	bounce_policy_tenant_counts() counts the hard bounces and
 *	complaints among a report's events that a tenant's rates see (not
 *	the unlisted ones: recipients the message record does not list were
 *	not sent by us). bounce_policy_fbl_wanted() says whether mail to a
 *	feedback-loop address is a complaint to map back: an ARF report, or
 *	a returned original that carries our reference, with a complaint
 *	Feedback-Type (bounce_fbl_is_complaint()).
 * THREAD SAFETY
 *	No I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_POLICY_H
#define POSTMILL_BOUNCE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_classify.h"
#include "bounce_conf.h"
#include "errlist.h"

#define BOUNCE_NREASONS		(BOUNCE_REASON_COMPLAINT + 1)
#define BOUNCE_ADDR_MAX		320

struct bounce_policy {
	int		 scope;			/* enum bounce_scope */
	bool		 suppress_now[BOUNCE_NREASONS];
	bool		 soft[BOUNCE_NREASONS];
	long long	 expiry_ms[BOUNCE_NREASONS];	/* 0: forever */
	long long	 soft_threshold;	/* 0: off */
	long long	 soft_window_ms;
};

struct bounce_rcpt_plan {
	bool		 suppress;	/* suppress now */
	bool		 soft;		/* count toward the threshold */
	bool		 reset;		/* delivered: forget soft bounces */
	long long	 expiry_ms;	/* of a suppression; 0 forever */
};

int	bounce_policy_from_conf(const struct bounce_conf *c,
				struct bounce_policy *pol, const char *path,
				struct errlist *el);
void	bounce_policy_plan(const struct bounce_policy *pol,
			   const struct bounce_rcpt *r,
			   struct bounce_rcpt_plan *out);
int	bounce_scope_tag(int scope, const char *sender, char *out, size_t outlen);
int	bounce_addr_norm(const char *in, size_t len, char *out, size_t outlen);
int	bounce_rcpt_local(const char *path, size_t len, const char *domain,
			  char *local, size_t locallen);
void	bounce_suppress_text(const char *rcpt, const char *reason,
			     const char *diagnostic, long long since_s,
			     char *out, size_t outlen);

struct bounce_evslot;			/* bounce_msg.h */

int	bounce_policy_scope(const char *tenant, int scope, const char *sender,
			    char *out, size_t outlen);
int	bounce_policy_then(int action, bool have_record);
void	bounce_policy_tenant_counts(const struct bounce_evslot *slots, size_t n,
				    long long *hard, long long *complaints);
bool	bounce_policy_fbl_wanted(enum bounce_kind kind, bool has_original,
				 size_t nref, const char *feedback_type);

#endif
