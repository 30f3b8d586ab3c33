/*++
 * NAME
 *	auth_spf 3h
 * SUMMARY
 *	the SPF checks of one message (RFC 7208) and what they report
 * SYNOPSIS
 *	#include "auth_spf.h"
 * DESCRIPTION
 *	auth_spf_sender() reads the MAIL FROM path as the MTA gives it
 *	(len bytes, not NUL-terminated: "<local@domain>", "<>", a source
 *	route "<@a,@b:local@domain>" or the bare address) into out without
 *	the brackets and the route. It returns AUTH_SPF_SENDER_NULL for the
 *	null path (out is then ""), AUTH_SPF_SENDER_OK, or
 *	AUTH_SPF_SENDER_BAD (empty, too long, controls, no "@": out is "",
 *	and the check falls back to the HELO identity as for a null path,
 *	RFC 7208 2.4, since there is no MAIL FROM domain to check).
 *
 *	auth_spf_check() runs the checks for one message with the
 *	evaluator e: the HELO identity whenever a HELO name was given (RFC
 *	7208 2.3: "RECOMMENDED ... separately check the HELO identity"),
 *	and the MAIL FROM identity for a non-null sender. For a null sender
 *	the MAIL FROM identity is postmaster@HELO (RFC 7208 2.4), the very
 *	domain the HELO check just evaluated, so its result is the HELO
 *	result and is not asked twice. The inputs are copied, truncated to
 *	the fields; now is the time for %{t}.
 *
 *	auth_spf_identity() is what DMARC aligns (RFC 9989 4.4, the issue:
 *	"the MAIL FROM identity's SPF result, HELO only for a null sender"):
 *	the outcome of the MAIL FROM check, or of the HELO check for a null
 *	sender, and the domain it checked (lowercase; "" when there was
 *	none).
 *
 *	auth_spf_received() writes the value of the one Received-SPF field
 *	(RFC 7208 9.1) for that same identity, folded (see auth_fold()).
 *	Returns its length or -1 when it did not fit.
 *
 *	auth_fold() folds a header value so that no line of
 *	"Name: value" passes AUTH_FOLD_WIDTH columns where it can be
 *	helped: it inserts a line break before a space (RFC 5322 2.2.3:
 *	unfolding removes only the CRLF, so the value reads the same), and
 *	never breaks where the next line would hold only white space.
 *	prefix is the length of "Name: ". Line breaks are "\n", the form
 *	the milter protocol passes and the MTA turns into CRLF. A word
 *	longer than the width stays whole. Returns the length written, or
 *	-1 when out (size bytes) was too small (out is then "").
 * THREAD SAFETY
 *	auth_spf_check() does DNS queries through the evaluator (safe to
 *	share); everything else is pure. A struct auth_spf belongs to one
 *	message.
 *--*/
#ifndef POSTMILL_AUTH_SPF_H
#define POSTMILL_AUTH_SPF_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

#define AUTH_SPF_IP_MAX		64
#define AUTH_SPF_HELO_MAX	256
#define AUTH_SPF_SENDER_MAX	512	/* RFC 5321 4.5.3.1.3: path 256, with slack */
#define AUTH_FOLD_WIDTH		78	/* RFC 5322 2.1.1 SHOULD */

enum auth_spf_sender {
	AUTH_SPF_SENDER_OK,
	AUTH_SPF_SENDER_NULL,
	AUTH_SPF_SENDER_BAD,
};

struct auth_spf {
	bool			 done;		/* auth_spf_check() ran */
	bool			 null_sender;	/* or unusable: HELO identity */
	bool			 helo_checked;	/* a HELO name was given */
	char			 client_ip[AUTH_SPF_IP_MAX];
	char			 helo[AUTH_SPF_HELO_MAX];
	char			 mail_from[AUTH_SPF_SENDER_MAX];
	char			 receiver[AUTH_SPF_HELO_MAX];
	struct spf_outcome	 mfrom;		/* MAIL FROM identity */
	struct spf_outcome	 heloid;	/* HELO identity */
	char			 domain[256];	/* identity's domain, lowercase */
};

enum auth_spf_sender auth_spf_sender(const char *path, size_t len, char *out,
				     size_t size);
void	auth_spf_check(struct auth_spf *s, const struct spf_evaluator *e,
		       const char *client_ip, const char *helo,
		       const char *path, const char *receiver, long now);
const struct spf_outcome *auth_spf_identity(const struct auth_spf *s,
					    const char **domain);
int	auth_spf_received(const struct auth_spf *s, char *buf, size_t size);
int	auth_fold(const char *value, size_t prefix, char *out, size_t size);

#endif
