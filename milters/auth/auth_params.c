/*++
 * NAME
 *	auth_params 3
 * SUMMARY
 *	the postmill-auth parameter table
 * DESCRIPTION
 *	One row per auth_ parameter; the only place their defaults live.
 *
 *	auth_on_temperror defaults to accept: a DNS failure is our trouble
 *	or the sender's, and the Authentication-Results header says
 *	dmarc=temperror for whoever reads it downstream; tempfail would
 *	delay every message of a domain whose DNS is down.
 *	auth_on_bad_from defaults to reject: RFC 9989 cannot evaluate a
 *	message without exactly one From address, and that is exactly the
 *	message a forger sends to get past DMARC.
 *	auth_max_dns_queries is at least 8: one tree walk must fit.
 *	It counts DMARC queries only. SPF has its own bounds, RFC 7208
 *	4.6.4's: auth_spf_max_lookups terms that cause lookups (10),
 *	auth_spf_max_void_lookups void answers (2), 10 names per mx or
 *	ptr, and auth_spf_time_limit for the whole check; its answers come
 *	through the same cache. The RFC's values are the defaults and the
 *	ceilings: lowering them is stricter than the RFC, raising them
 *	would let one record cost more than the RFC allows.
 *
 *	auth_spf_time_limit defaults to 20s, the least RFC 7208 4.6.4
 *	allows, and stops at 25s: the check runs at MAIL FROM, and a MTA
 *	that does not let us skip that reply (SMFIP_NR_MAIL) waits for it
 *	under its milter_command_timeout (Postfix: 30s). Postfix does skip
 *	it, and then waits at end of headers under milter_content_timeout.
 *
 *	auth_dns_cache_size: a mail stream asks the same SPF includes,
 *	DMARC records and DKIM keys over and over; 10000 answers of at
 *	most DNS_CACHE_MAX_MSG bytes is at most 160 MB, in practice a few
 *	MB. The cache is the milter's, not shared with other daemons.
 *
 *	auth_report_* (DMARC aggregate reports, auth_record.h and
 *	postmillctl dmarc report): recording is off by default, since it
 *	needs Redis and reports go out to third parties. auth_report_timeout
 *	is 100ms and at most 1s: recording is best effort at end of message
 *	and must cost the sender nothing when Redis is slow (the pool's
 *	back-off then skips Redis for all but one message per period).
 *	auth_report_retention is 7d and at least 2d: a day is reported after
 *	it ends, and a week lets a stopped timer catch up; a sent day's rows
 *	go a day after sending. auth_report_max_rows bounds a day's memory:
 *	1,000,000 rows is about 210 MB (bench/dmarc_mem.c measures 216
 *	bytes a row), while a million messages of a mid-size receiver make
 *	about 150,000 rows (31 MB). auth_report_max_uris is 2, what RFC 7489
 *	asked every receiver to support.
 *--*/
#include <stddef.h>

#include "auth_conf.h"
#include "auth_dmarc.h"
#include "auth_policy.h"

#define A(field) offsetof(struct auth_conf, field)

/* the words of the CFG_ENUM rows, each beside its value */
static const struct name_code auth_org_mode_codes[] = {
	{"tree-walk", AUTH_DMARC_ORG_TREE_WALK},
	{"psl", AUTH_DMARC_ORG_PSL},
	{NULL, -1},
};

static const struct name_code auth_temperror_codes[] = {
	{"accept", AUTH_TEMPERROR_ACCEPT},
	{"tempfail", AUTH_TEMPERROR_TEMPFAIL},
	{NULL, -1},
};

static const struct name_code auth_bad_from_codes[] = {
	{"reject", AUTH_BAD_FROM_REJECT},
	{"tempfail", AUTH_BAD_FROM_TEMPFAIL},
	{"accept", AUTH_BAD_FROM_ACCEPT},
	{NULL, -1},
};

static const struct name_code auth_quarantine_codes[] = {
	{"quarantine", AUTH_QUARANTINE_MILTER},
	{"header", AUTH_QUARANTINE_HEADER},
	{NULL, -1},
};

static const struct cfg_param auth_params[] = {
	{"auth_socket", CFG_STR, "unix:/run/postmill/auth.sock", A(socket), 0, 0, NULL, NULL,
	 "Where postmill-auth listens: unix:/path, inet:port@host or inet6:port@host."},
	{"auth_pid_file", CFG_STR, "/run/postmill/auth.pid", A(pid_file), 0, 0, NULL, NULL,
	 "Pid file of the postmill-auth supervisor (empty: none)."},
	{"auth_authserv_id", CFG_STR, "", A(authserv_id), 0, 0, NULL, NULL,
	 "authserv-id of the Authentication-Results header we write and whose forgeries we remove (empty: the host name)."},
	{"auth_reject_on_spf_fail", CFG_BOOL, "no", A(reject_on_spf_fail), 0, 0, NULL, NULL,
	 "Reject mail whose MAIL FROM SPF result (HELO for a null sender) is fail, at end of message (550 5.7.23, RFC 7372); off: DMARC decides."},
	{"auth_spf_time_limit", CFG_TIME, "20s", A(spf_time_limit), 1000, 25000, NULL, "s",
	 "Time limit of one SPF check (RFC 7208 4.6.4: at least 20s); past it the result is temperror."},
	{"auth_spf_max_lookups", CFG_INT, "10", A(spf_max_lookups), 1, 10, NULL, NULL,
	 "SPF terms that cause DNS queries per check (include, a, mx, ptr, exists, redirect); one more is permerror (RFC 7208 4.6.4)."},
	{"auth_spf_max_void_lookups", CFG_INT, "2", A(spf_max_void_lookups), 1, 2, NULL, NULL,
	 "SPF lookups per check that may find nothing (NXDOMAIN or no records); one more is permerror (RFC 7208 4.6.4)."},
	{"auth_dns_cache_size", CFG_INT, "10000", A(dns_cache_size), 0, 1000000, NULL, NULL,
	 "DNS answers (SPF, DMARC, DKIM keys) cached by postmill-auth, for their TTL up to an hour (0: no cache)."},
	{"auth_dmarc_org_domain", CFG_ENUM, "tree-walk", A(dmarc_org_domain), 0, 0, auth_org_mode_codes, NULL,
	 "How DMARC finds organizational domains: tree-walk (RFC 9989) or psl (RFC 7489, the public suffix list)."},
	{"auth_psl_file", CFG_STR, "/usr/share/publicsuffix/public_suffix_list.dat", A(psl_file), 0, 0, NULL, NULL,
	 "Public suffix list for auth_dmarc_org_domain = psl (Debian package publicsuffix)."},
	{"auth_max_signatures", CFG_INT, "8", A(max_signatures), 1, 32, NULL, NULL,
	 "DKIM signatures verified per message; the others are ignored and cost no DNS query."},
	{"auth_max_ar_headers", CFG_INT, "16", A(max_ar_headers), 1, 200, NULL, NULL,
	 "Authentication-Results header fields parsed per message (for our forged id and trusted upstream ids)."},
	{"auth_max_dns_queries", CFG_INT, "24", A(max_dns_queries), 8, 200, NULL, NULL,
	 "DMARC DNS queries per message (policy discovery, organizational domains, np existence check)."},
	{"auth_min_key_bits", CFG_INT, "1024", A(min_key_bits), 1024, 16384, NULL, NULL,
	 "Smallest RSA key a DKIM signature may use (RFC 8301: at least 1024); smaller ones give dkim=policy."},
	{"auth_on_temperror", CFG_ENUM, "accept", A(on_temperror), 0, 0, auth_temperror_codes, NULL,
	 "DNS failure (DMARC temperror, or SPF temperror when it decides): accept the mail and say so in Authentication-Results, or tempfail (451 4.3.0)."},
	{"auth_on_bad_from", CFG_ENUM, "reject", A(on_bad_from), 0, 0, auth_bad_from_codes, NULL,
	 "Mail without exactly one From address (none, several fields or addresses, unparsable): reject (550 5.7.1), tempfail or accept."},
	{"auth_quarantine_mode", CFG_ENUM, "quarantine", A(quarantine_mode), 0, 0, auth_quarantine_codes, NULL,
	 "DMARC quarantine: the MTA's hold queue (milter quarantine), or only an X-Postmill-Quarantine header."},
	{"auth_trusted_senders", CFG_LIST, "", A(trusted_senders), 0, 0, NULL, NULL,
	 "From domains whose mail a DMARC policy never rejects or quarantines (their results are still reported)."},
	{"auth_trusted_forwarders", CFG_CIDR, "", A(trusted_forwarders), 0, 0, NULL, NULL,
	 "Client addresses (mailing lists, forwarders) whose mail a DMARC policy never rejects or quarantines."},
	{"auth_trusted_authserv_ids", CFG_LIST, "", A(trusted_authserv_ids), 0, 0, NULL, NULL,
	 "Upstream authserv-ids whose Authentication-Results (dkim, spf, dmarc pass) are trusted for DMARC."},
	{"auth_dry_run", CFG_BOOL, "no", A(dry_run), 0, 0, NULL, NULL,
	 "Only report: never reject, quarantine or tempfail; the log says what would have happened."},
	{"auth_check_authenticated", CFG_BOOL, "no", A(check_authenticated), 0, 0, NULL, NULL,
	 "Check mail of SMTP AUTH clients too (it is outbound mail: off by default)."},
	{"auth_check_internal", CFG_BOOL, "no", A(check_internal), 0, 0, NULL, NULL,
	 "Check mail of internal_hosts clients too (outbound mail: off by default)."},
	{"auth_report_record", CFG_BOOL, "no", A(report_record), 0, 0, NULL, NULL,
	 "Count DMARC results in Redis (redis_server) for aggregate reports (RFC 9990, postmillctl dmarc report); best effort, never delays mail past auth_report_timeout."},
	{"auth_report_key_prefix", CFG_STR, "pmdmarc:", A(report_key_prefix), 0, 0, NULL, NULL,
	 "Prefix of the Redis keys of DMARC report data."},
	{"auth_report_timeout", CFG_TIME, "100ms", A(report_timeout), 1, 1000, NULL, "ms",
	 "Time limit of recording one message in Redis; past it the message is not counted (and Redis backs off, redis_backoff_min)."},
	{"auth_report_retention", CFG_TIME, "7d", A(report_retention), 172800000LL, 5184000000LL, NULL, "s",
	 "How long a day of DMARC report data stays in Redis after its last write (at least 2d: a day is reported after it ends)."},
	{"auth_report_max_rows", CFG_INT, "1000000", A(report_max_rows), 1000, 100000000, NULL, NULL,
	 "Distinct report rows kept per UTC day, all domains together; messages of new rows past it are dropped and counted."},
	{"auth_report_org_name", CFG_STR, "", A(report_org_name), 0, 0, NULL, NULL,
	 "org_name of the aggregate reports we send (empty: auth_report_receiver)."},
	{"auth_report_from", CFG_STR, "", A(report_from), 0, 0, NULL, NULL,
	 "Address aggregate reports are sent from, and their contact email; its domain must pass DMARC (sign it with postmill-dkim). Needed to send."},
	{"auth_report_receiver", CFG_STR, "", A(report_receiver), 0, 0, NULL, NULL,
	 "Our domain as report generator: file names, Subject Submitter and Report-ID (empty: the host name)."},
	{"auth_report_sendmail", CFG_STR, "/usr/sbin/sendmail", A(report_sendmail), 0, 0, NULL, NULL,
	 "Sendmail program that takes the report messages (run as: PROGRAM -t -oi -f auth_report_from)."},
	{"auth_report_max_uris", CFG_INT, "2", A(report_max_uris), 1, 10, NULL, NULL,
	 "rua URIs of one domain that get its report (RFC 9990, Report Delivery: each remaining URI, up to the receiver's limit)."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

const struct cfg_section auth_section = {
	"auth", "auth_", auth_params, sizeof(struct auth_conf), NULL,
};
