/*++
 * NAME
 *	dkim_params 3
 * SUMMARY
 *	the postmill-dkim parameter table
 * DESCRIPTION
 *	One row per dkim_ parameter; the only place their defaults live.
 *	The default header list is RFC 6376 section 5.4.1's "SHOULD be
 *	signed" list plus the MIME and Message-ID fields whose change would
 *	alter what the reader sees. Over-signing a name (section 5.4.2) lists
 *	it once more than it occurs, so that a header field of that name
 *	added later breaks the signature: From always, and by default the
 *	other fields a replayed message would be edited in.
 *--*/
#include <stddef.h>

#include "dkim_conf.h"

#define D(field) offsetof(struct dkim_conf, field)

/* the words of the CFG_ENUM rows, each beside its value */
static const struct name_code dkim_mismatch_codes[] = {
	{"pass", DKIM_MISMATCH_PASS},
	{"reject", DKIM_MISMATCH_REJECT},
	{NULL, -1},
};

static const struct name_code dkim_unsignable_codes[] = {
	{"accept", DKIM_UNSIGNABLE_ACCEPT},
	{"tempfail", DKIM_UNSIGNABLE_TEMPFAIL},
	{"reject", DKIM_UNSIGNABLE_REJECT},
	{NULL, -1},
};

static const struct name_code dkim_error_codes[] = {
	{"accept", DKIM_ERROR_ACCEPT},
	{"tempfail", DKIM_ERROR_TEMPFAIL},
	{NULL, -1},
};

static const struct name_code dkim_canon_codes[] = {
	{"relaxed/relaxed", DKIM_CANON_RR},
	{"relaxed/simple", DKIM_CANON_RS},
	{"simple/relaxed", DKIM_CANON_SR},
	{"simple/simple", DKIM_CANON_SS},
	{NULL, -1},
};

static const struct name_code dkim_mta_codes[] = {
	{"auto", DKIM_MTA_AUTO},
	{"postfix", DKIM_MTA_IS_POSTFIX},
	{"sendmail", DKIM_MTA_IS_SENDMAIL},
	{NULL, -1},
};

static const struct cfg_param dkim_params[] = {
	{"dkim_socket", CFG_STR, "unix:/run/postmill/dkim.sock", D(socket), 0, 0, NULL, NULL,
	 "Where postmill-dkim listens: unix:/path, inet:port@host or inet6:port@host."},
	{"dkim_pid_file", CFG_STR, "/run/postmill/dkim.pid", D(pid_file), 0, 0, NULL, NULL,
	 "Pid file of the postmill-dkim supervisor (empty: none)."},
	{"dkim_key_table", CFG_STR, POSTMILL_SYSCONFDIR "/key.table", D(key_table), 0, 0, NULL, NULL,
	 "OpenDKIM-style KeyTable: \"name domain:selector:/path/to/key.pem\" per line."},
	{"dkim_signing_table", CFG_STR, POSTMILL_SYSCONFDIR "/signing.table", D(signing_table), 0, 0, NULL, NULL,
	 "OpenDKIM-style SigningTable: \"pattern keyname [keyname...]\"; the first matching pattern wins."},
	{"dkim_sender_login_map", CFG_STR, "", D(sender_login_map), 0, 0, NULL, NULL,
	 "smtpd_sender_login_maps-style file: an address or domain, then the SASL logins that may sign for it (empty: off)."},
	{"dkim_login_mismatch_action", CFG_ENUM, "pass", D(login_mismatch_action), 0, 0, dkim_mismatch_codes, NULL,
	 "What to do with authenticated mail whose login does not own the From domain: pass it unsigned, or reject it (550 5.7.1)."},
	{"dkim_unsignable_action", CFG_ENUM, "accept", D(unsignable_action), 0, 0, dkim_unsignable_codes, NULL,
	 "What to do with hosted mail that cannot be signed (no From, several From, malformed From, headers over the limits)."},
	{"dkim_signer_error_action", CFG_ENUM, "tempfail", D(signer_error_action), 0, 0, dkim_error_codes, NULL,
	 "What to do when signing fails inside the crypto library: accept unsigned, or tempfail (451 4.3.0)."},
	{"dkim_canonicalization", CFG_ENUM, "relaxed/relaxed", D(canonicalization), 0, 0, dkim_canon_codes, NULL,
	 "Header/body canonicalization (RFC 6376 section 3.4)."},
	{"dkim_sign_headers", CFG_LIST,
	 "from, reply-to, subject, date, to, cc, resent-date, resent-from, resent-to, resent-cc, "
	 "in-reply-to, references, list-id, list-help, list-unsubscribe, list-unsubscribe-post, "
	 "list-subscribe, list-post, list-owner, list-archive, message-id, sender, mime-version, "
	 "content-type, content-transfer-encoding",
	 D(sign_headers), 0, 0, NULL, NULL,
	 "Header fields signed when present (RFC 6376 section 5.4.1, plus MIME and Message-ID)."},
	{"dkim_oversign_headers", CFG_LIST,
	 "from, reply-to, subject, date, to, cc, message-id, mime-version, content-type, content-transfer-encoding",
	 D(oversign_headers), 0, 0, NULL, NULL,
	 "Header fields signed once more than they occur, so that an added one breaks the signature; From is always over-signed."},
	{"dkim_oversign_if_present", CFG_LIST, "date, message-id",
	 D(oversign_if_present), 0, 0, NULL, NULL,
	 "Names of dkim_oversign_headers over-signed only when the message has them: fields the MTA may add after the milters ran (Sendmail adds a missing Date and Message-Id then), whose signed absence would break the signature."},
	{"dkim_signature_ttl", CFG_TIME, "0", D(signature_ttl), 0, 0, NULL, "s",
	 "Lifetime written as the x= tag (0: no x= tag)."},
	{"dkim_min_rsa_bits", CFG_INT, "1024", D(min_rsa_bits), 1024, 16384, NULL, NULL,
	 "Smallest RSA key accepted at load (RFC 8301 forbids less than 1024)."},
	{"dkim_strict_key_permissions", CFG_BOOL, "yes", D(strict_key_permissions), 0, 0, NULL, NULL,
	 "Refuse key files readable by group or others, or in directories writable by group or others."},
	{"dkim_sign_authenticated", CFG_BOOL, "yes", D(sign_authenticated), 0, 0, NULL, NULL,
	 "Sign mail from SMTP AUTH clients ({auth_authen} set)."},
	{"dkim_sign_internal_hosts", CFG_BOOL, "yes", D(sign_internal_hosts), 0, 0, NULL, NULL,
	 "Sign mail from clients listed in internal_hosts."},
	{"dkim_max_header_bytes", CFG_SIZE, "256k", D(max_header_bytes), 1024, 64 * 1024 * 1024, NULL, NULL,
	 "Largest header section kept per message for signing; larger messages count as unsignable."},
	{"dkim_max_headers", CFG_INT, "1000", D(max_headers), 10, 100000, NULL, NULL,
	 "Most header fields kept per message for signing; more count as unsignable."},
	{"dkim_line_length_limit", CFG_INT, "998", D(line_length_limit), 0, 1000000, NULL, NULL,
	 "Set to Postfix's smtp_line_length_limit: longer lines are broken as Postfix's SMTP client will send them, in the hash and in the message itself (header fields and body replaced), so that local, virtual and LMTP copies verify too (0: no breaking)."},
	{"dkim_rotate_overlap", CFG_TIME, "7d", D(rotate_overlap), 0, 0, NULL, "s",
	 "postmillctl dkim rotate: how long mail carries both the old and the new signature before the old key is retired (longer than maximal_queue_lifetime)."},
	{"dkim_mta", CFG_ENUM, "auto", D(mta), 0, 0, dkim_mta_codes, NULL,
	 "The MTA in front of postmill-dkim. Sendmail writes address fields (From, To, Cc, Reply-To, ...) out again after the milters: under sendmail they are signed, and changed, in the form Sendmail will send, or left out of the signature when that form cannot be predicted. auto: Sendmail when macro v is a Sendmail version (the shipped conf/sendmail/postmill.m4 sends it), else as Postfix."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

const struct cfg_section dkim_section = {
	"dkim", "dkim_", dkim_params, sizeof(struct dkim_conf), NULL,
};
