/*++
 * NAME
 *	bounce_fbl 3h
 * SUMMARY
 *	feedback loops: map a complaint back to its message and recipient
 * SYNOPSIS
 *	#include "bounce_fbl.h"
 * DESCRIPTION
 *	Mailbox providers send complaints (RFC 5965 feedback reports) to
 *	the address an operator registered with their feedback loop
 *	(bounce_fbl_addresses), not to the tag, and many redact the
 *	recipient (RFC 6590): Original-Rcpt-To is left out and the To: of
 *	the returned original reads "redacted". What is left to map the
 *	complaint back are the fields of the returned original that name no
 *	recipient: our reference header (bounce_ref.h) and the tag in its
 *	Return-Path, and the tag in the report's Original-Mail-From.
 *
 *	bounce_fbl_origin() reads one whole message (ptr, len; CRLF or LF)
 *	and collects that evidence: whether it holds a feedback report,
 *	whether it returns an original (message/rfc822, message/global, or
 *	text/rfc822-headers, RFC 6522; outside any other returned message),
 *	the original's X-Postmill-Ref values (nref counts them; ref holds
 *	the first), its Return-Path address, and the report's
 *	Original-Mail-From and Feedback-Type. 0, or -1 with *why when the message has no
 *	header at all. It allocates its working memory and frees it.
 *
 *	bounce_fbl_decide() judges that evidence against the bounce
 *	domains (bd[0], the global bounce_domain, whose ring also verifies
 *	the reference; then the tenants' bounce domains, each with its own
 *	ring, bounce_tenant.h): a tag is checked with the ring of the domain
 *	it is at. Every piece that is there must be genuine and all must
 *	name the same message:
 *	  BOUNCE_FBL_MAPPED	id holds the message id; *via names the
 *				first evidence ("ref", "return_path",
 *				"mail_from")
 *	  BOUNCE_FBL_NONE	no evidence (a foreign report, a
 *				provider's welcome mail), or only tags
 *				of a removed key
 *	  BOUNCE_FBL_FORGED	a reference that does not verify (a bad
 *				MAC, a malformed value, several of them),
 *				or a b-TAG at a bounce domain whose MAC
 *				does not match: someone edited the
 *				original, so nothing in it is believed
 *	  BOUNCE_FBL_CONFLICT	genuine pieces naming different messages
 *	*why is a static text for the log. A genuine but expired tag or
 *	reference still names its message: the record in Redis decides
 *	whether it is still known (bounce_ref_lifetime).
 *
 *	bounce_fbl_is_complaint() says whether a Feedback-Type is a
 *	reader's complaint: abuse (the "this is spam" button, RFC 5965
 *	section 7.3) or fraud (phishing); an empty one (a report that
 *	returns the original with no ARF part, as Microsoft's JMRP does)
 *	counts too. auth-failure (RFC 6591: DMARC failure reports),
 *	not-spam (RFC 6430), virus and other say nothing about what the
 *	reader wants, and never suppress.
 *
 *	bounce_fbl_rcpt() picks the recipient a complaint is about, given
 *	the address the report names (Original-Rcpt-To, else the
 *	original's To:; maybe redacted) and the message record's
 *	recipients: the named address when the record lists it; the
 *	record's only recipient when it has one (the complaint can be about
 *	nobody else, whatever the report says); the named address when the
 *	record's list is incomplete (it cannot be checked, as for
 *	bounces); else the named address as it is, which bounce_msg.h then
 *	records as unlisted and never suppresses. It writes out (normalized,
 *	or empty) and returns how: "named", "record", "unchecked",
 *	"unlisted" or "none".
 * THREAD SAFETY
 *	No I/O, no clock, no globals.
 *--*/
#ifndef POSTMILL_BOUNCE_FBL_H
#define POSTMILL_BOUNCE_FBL_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_keys.h"
#include "bounce_tag.h"

#define BOUNCE_FBL_VALUE_MAX	321

enum bounce_fbl_map {
	BOUNCE_FBL_MAPPED,
	BOUNCE_FBL_NONE,
	BOUNCE_FBL_FORGED,
	BOUNCE_FBL_CONFLICT,
};

struct bounce_fbl_origin {
	bool	is_arf;			/* a message/feedback-report parsed */
	bool	has_original;		/* a returned original's header */
	size_t	nref;			/* X-Postmill-Ref fields in it */
	char	ref[BOUNCE_FBL_VALUE_MAX];	/* the first, unfolded */
	char	return_path[BOUNCE_FBL_VALUE_MAX];	/* the original's */
	char	mail_from[BOUNCE_FBL_VALUE_MAX];	/* Original-Mail-From */
	char	feedback_type[32];	/* lower case; "" without a report */
};

int	bounce_fbl_origin(const char *msg, size_t len,
			  struct bounce_fbl_origin *out, const char **why);
enum bounce_fbl_map bounce_fbl_decide(const struct bounce_bdomain *bd,
				      size_t nbd,
				      const struct bounce_fbl_origin *o,
				      long long now,
				      unsigned char id[BOUNCE_TAG_ID_LEN],
				      const char **via, const char **why);
const char *bounce_fbl_map_name(enum bounce_fbl_map m);
bool	bounce_fbl_is_complaint(const char *feedback_type);
const char *bounce_fbl_rcpt(const char *named, const char *rec_rcpts,
			    bool rec_complete, char *out, size_t outlen);

#endif
