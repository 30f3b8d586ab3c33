/*++
 * NAME
 *	bounce_params 3
 * SUMMARY
 *	the postmill-bounce parameter table
 * DESCRIPTION
 *	One row per bounce_ parameter; the only place their defaults live.
 *
 *	bounce_tag_lifetime defaults to 10 days: remote MTAs keep trying for
 *	up to 5 days (Postfix's maximal_queue_lifetime) before they bounce,
 *	and a bounce that arrives after its tag expired is refused.
 *
 *	bounce_suppress_reasons never accepts policy_rejected, spam_rejected
 *	or rate_limited (nor the soft list): those say the receiver does not
 *	want this sender now, not that the address is gone; suppressing real
 *	people for the sender's reputation is the commonest complaint about
 *	other systems.
 *
 *	bounce_on_redis_error defaults to tempfail: a 4xx only delays mail,
 *	while accepting a bounce unrecorded loses it for good.
 *
 *	bounce_ref_lifetime defaults to the tag's 10 days: feedback loops
 *	send a complaint when the reader presses "spam", mostly within a
 *	day or two of delivery; the message record lives as long as the
 *	longer of the two lifetimes, so a longer one costs Redis memory.
 *
 *	bounce_fbl_addresses is empty by default: an address is a feedback
 *	loop address only once the operator has registered it with a
 *	provider. bounce_feedback_id is empty (no header) by default: the
 *	header is worth something only once postmill-dkim signs it for a
 *	domain verified in Gmail's Postmaster Tools.
 *
 *	Settings that need a value (bounce_domain, the secrets) are checked
 *	when postmill-bounce loads its state, not here: "postmillctl config
 *	check" of a site without postmill-bounce must pass.
 *--*/
#include <stddef.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_conf.h"
#include "bounce_fbid.h"
#include "bounce_policy.h"
#include "bounce_pause.h"

#define B(field) offsetof(struct bounce_conf, field)

/* the words of the CFG_ENUM rows, each beside its value */
static const struct name_code bounce_scope_codes[] = {
	{"sender", BOUNCE_SCOPE_SENDER},
	{"domain", BOUNCE_SCOPE_DOMAIN},
	{"global", BOUNCE_SCOPE_GLOBAL},
	{"off", BOUNCE_SCOPE_OFF},
	{NULL, -1},
};

static const struct name_code bounce_action_codes[] = {
	{"deliver", BOUNCE_ACTION_DELIVER},
	{"redirect", BOUNCE_ACTION_REDIRECT},
	{"discard", BOUNCE_ACTION_DISCARD},
	{NULL, -1},
};

static const struct name_code bounce_on_error_codes[] = {
	{"tempfail", BOUNCE_ON_ERROR_TEMPFAIL},
	{"accept", BOUNCE_ON_ERROR_ACCEPT},
	{NULL, -1},
};

static const struct cfg_param bounce_params[] = {
	{"bounce_socket", CFG_STR, "unix:/run/postmill/bounce.sock", B(socket), 0, 0, NULL, NULL,
	 "Where postmill-bounce listens: unix:/path, inet:port@host or inet6:port@host."},
	{"bounce_pid_file", CFG_STR, "/run/postmill/bounce.pid", B(pid_file), 0, 0, NULL, NULL,
	 "Pid file of the postmill-bounce supervisor (empty: none)."},
	{"bounce_domain", CFG_STR, "", B(domain), 0, 0, NULL, NULL,
	 "Domain of the tagged envelope senders (b-TAG@DOMAIN); its MX must be this Postfix with postmill-bounce."},
	{"bounce_secret_files", CFG_LIST, POSTMILL_SYSCONFDIR "/bounce.secret", B(secret_files), 0, 0, NULL, NULL,
	 "Files of one HMAC secret each (16-256 bytes, mode 0600); the first signs new tags, all are accepted."},
	{"bounce_tag_lifetime", CFG_TIME, "10d", B(tag_lifetime), 1000, 0, NULL, "s",
	 "How long a tag, and the message record in Redis, stay valid; later bounces are refused."},
	{"bounce_tag_authenticated", CFG_BOOL, "yes", B(tag_authenticated), 0, 0, NULL, NULL,
	 "Tag the envelope sender of mail from SASL-authenticated clients."},
	{"bounce_tag_internal_hosts", CFG_BOOL, "yes", B(tag_internal), 0, 0, NULL, NULL,
	 "Tag the envelope sender of mail from internal_hosts."},
	{"bounce_suppress_scope", CFG_ENUM, "sender", B(suppress_scope), 0, 0, bounce_scope_codes, NULL,
	 "Whose suppression list a bounce goes into and is checked against: the sender, its domain, everyone, or none."},
	{"bounce_suppress_at_rcpt", CFG_BOOL, "yes", B(suppress_at_rcpt), 0, 0, NULL, NULL,
	 "Refuse a suppressed recipient at RCPT with 550 5.1.1 and when and why (no: record only)."},
	{"bounce_suppress_reasons", CFG_LIST, "user_unknown, domain_unknown, suspended, complaint", B(suppress_reasons), 0, 0, NULL, NULL,
	 "Reasons that suppress the recipient at the first bounce."},
	{"bounce_soft_reasons", CFG_LIST, "mailbox_full, message_too_large, expired, network_error, system_error, other", B(soft_reasons), 0, 0, NULL, NULL,
	 "Reasons that suppress after bounce_soft_threshold bounces within bounce_soft_window with no delivery between."},
	{"bounce_soft_threshold", CFG_INT, "5", B(soft_threshold), 0, 1000, NULL, NULL,
	 "Soft bounces that suppress a recipient (0: soft bounces never suppress)."},
	{"bounce_soft_window", CFG_TIME, "14d", B(soft_window), 1000, 0, NULL, "s",
	 "Window of bounce_soft_threshold, from the first soft bounce; a delivery report starts it again."},
	{"bounce_suppress_expiry", CFG_LIST, "user_unknown=365d, domain_unknown=30d, suspended=90d, complaint=0, *=14d", B(suppress_expiry), 0, 0, NULL, NULL,
	 "How long a suppression lasts, per reason as REASON=DURATION (0: forever; *: every other reason)."},
	{"bounce_action", CFG_ENUM, "deliver", B(action), 0, 0, bounce_action_codes, NULL,
	 "After recording a bounce: deliver it on with X-Postmill-Bounce-* headers, redirect it to the original sender, or discard it."},
	{"bounce_on_redis_error", CFG_ENUM, "tempfail", B(on_redis_error), 0, 0, bounce_on_error_codes, NULL,
	 "When Redis cannot answer in time: tempfail (451 4.3.0), or accept (untagged, unchecked, unrecorded) and log it."},
	{"bounce_key_prefix", CFG_STR, "pmbounce:", B(key_prefix), 0, 0, NULL, NULL,
	 "Prefix of every Redis key postmill-bounce writes."},
	{"bounce_stream", CFG_STR, "pmbounce:events", B(stream), 0, 0, NULL, NULL,
	 "Redis Stream that receives one event per bounced, delayed or complained-about recipient."},
	{"bounce_stream_maxlen", CFG_INT, "1000000", B(stream_maxlen), 1, 0, NULL, NULL,
	 "Approximate length the stream is trimmed to (XADD MAXLEN ~)."},
	{"bounce_message_max", CFG_SIZE, "1m", B(message_max), 65536, 1048576, NULL, NULL,
	 "Bytes of a returning message kept for classification; the rest is not read."},
	{"bounce_ref", CFG_BOOL, "yes", B(ref), 0, 0, NULL, NULL,
	 "Add an HMAC-signed X-Postmill-Ref header to tagged mail, so that complaints whose recipient and return path were redacted still map back."},
	{"bounce_ref_lifetime", CFG_TIME, "10d", B(ref_lifetime), 1000, 0, NULL, "s",
	 "How long a complaint can be mapped back through X-Postmill-Ref; the message record lives for the longer of this and bounce_tag_lifetime."},
	{"bounce_fbl_addresses", CFG_LIST, "", B(fbl_addresses), 0, 0, NULL, NULL,
	 "Feedback-loop addresses registered with mailbox providers, as local parts (or full addresses) at bounce_domain; each is taken at every tenant bounce domain too: their ARF complaints are mapped back and recorded."},
	{"bounce_feedback_id", CFG_LIST, "", B(feedback_id), 0, 0, NULL, NULL,
	 "Sources of the Feedback-ID header (Gmail a:b:c:SenderId), 1-4 of login, sender, sender_domain, header:NAME, literal:TEXT, each may be hash:SOURCE; the last, the SenderId, hash:login|sender|sender_domain or literal:TEXT (empty: no header)."},
	{"bounce_tenant_table", CFG_STR, "", B(tenant_table), 0, 0, NULL, NULL,
	 "Tenant table: lines of KEY BOUNCE-DOMAIN [OPTIONS], KEY a sender domain, .DOMAIN or *.DOMAIN (its subdomains; the most specific key wins) or login:NAME, BOUNCE-DOMAIN the tenant's own Return-Path domain or -, OPTIONS unsubscribe, track (open and click tracking) and secret=PATH (the tenant's own tag secrets, first signs, all verify; mode 0600) (empty: no tenants)."},
	{"bounce_tenant_mx_hosts", CFG_LIST, "", B(our_mx), 0, 0, NULL, NULL,
	 "For postmillctl tenant check: our MX host names or addresses; a tenant's bounce domain must have an MX among them."},
	{"bounce_tenant_sending_ips", CFG_LIST, "", B(our_ips), 0, 0, NULL, NULL,
	 "For postmillctl tenant check: the addresses we send from; SPF of a tenant's bounce domain must pass each."},
	{"bounce_pause_window", CFG_TIME, "24h", B(pause_window), 60000, 0, NULL, "s",
	 "Rolling window of a tenant's bounce and complaint rates (24 slots)."},
	{"bounce_pause_min_volume", CFG_INT, "1000", B(pause_min_volume), 1, 0, NULL, NULL,
	 "Recipients a tenant must have sent to within the window before its rates can put it under review or pause it."},
	{"bounce_review_bounce_rate", CFG_STR, "5%", B(review_bounce_rate), 0, 0, NULL, NULL,
	 "Hard bounces / sent above which a tenant is put under review (logged, event on bounce_stream); 0: never."},
	{"bounce_review_complaint_rate", CFG_STR, "0.1%", B(review_complaint_rate), 0, 0, NULL, NULL,
	 "Complaints / sent above which a tenant is put under review; 0: never."},
	{"bounce_pause_bounce_rate", CFG_STR, "10%", B(pause_bounce_rate), 0, 0, NULL, NULL,
	 "Hard bounces / sent above which a tenant is paused (postmill-limit refuses its mail until postmillctl tenant resume); 0: never."},
	{"bounce_pause_complaint_rate", CFG_STR, "0.5%", B(pause_complaint_rate), 0, 0, NULL, NULL,
	 "Complaints / sent above which a tenant is paused; 0: never."},
	{"bounce_unsubscribe_url", CFG_STR, "", B(unsubscribe_url), 0, 0, NULL, NULL,
	 "HTTPS base URL of postmill-unsubscribe (e.g. https://unsub.example.net/u/); the signed token is appended (empty: no List-Unsubscribe)."},
	{"bounce_unsubscribe_lifetime", CFG_TIME, "60d", B(unsubscribe_lifetime), 1000, 0, NULL, "s",
	 "How long a one-click unsubscribe link stays valid."},
	{"bounce_unsubscribe_listen", CFG_STR, "127.0.0.1:9598", B(unsubscribe_listen), 0, 0, NULL, NULL,
	 "Where postmill-unsubscribe serves HTTP: ADDR:PORT or [ADDR6]:PORT, numeric (behind the HTTPS proxy of bounce_unsubscribe_url)."},
	{"bounce_track_base_url", CFG_STR, "", B(track_base_url), 0, 0, NULL, NULL,
	 "Base URL of the click and open endpoints of postmill-unsubscribe (e.g. https://t.example.net/t): links in HTML parts of tenants with \"track\" become BASE/c/TOKEN, an open pixel BASE/o/TOKEN is added (empty: no tracking)."},
	{"bounce_track_url_max", CFG_INT, "2048", B(track_url_max), 16, 4096, NULL, NULL,
	 "Longest link, in octets, that is rewritten (the URL travels inside the signed token); longer links are left as they are."},
	{"bounce_track_message_max", CFG_SIZE, "10m", B(track_message_max), 65536, 1073741824, NULL, NULL,
	 "Largest body whose links are rewritten; a larger message is left untouched."},
	{"bounce_track_memory", CFG_SIZE, "256k", B(track_memory), 4096, 67108864, NULL, NULL,
	 "Octets of a rewritten body kept in memory per message; the rest goes to an unlinked temporary file in bounce_track_temp_dir."},
	{"bounce_track_temp_dir", CFG_STR, "/tmp", B(track_temp_dir), 0, 0, NULL, NULL,
	 "Directory of the temporary files of rewritten bodies larger than bounce_track_memory."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/*
 * bounce_validate_fbl - the feedback loop rows: the Feedback-ID sources,
 * and FBL addresses that are local parts (the domain, when given, is
 * checked against bounce_domain when the state loads)
 */
static void
bounce_validate_fbl(const struct bounce_conf *c, const char *path,
		    struct errlist *el)
{
	struct bounce_fbid fbid;
	char err[300];

	if (bounce_fbid_parse((const char *const *)c->feedback_id.items,
			      c->feedback_id.count, &fbid, err, sizeof(err)) < 0)
		errlist_add_at(el, path, 0, "bounce_feedback_id: %s", err);
	for (size_t i = 0; i < c->fbl_addresses.count; i++) {
		const char *a = c->fbl_addresses.items[i];
		size_t local = strcspn(a, "@");

		if (local == 0 || local > 64 || strcspn(a, "<>\"(),;: ") != strlen(a))
			errlist_add_at(el, path, 0, "bounce_fbl_addresses: %s: not "
				       "a local part or an address", a);
		else if (strncasecmp(a, "b-", 2) == 0)
			errlist_add_at(el, path, 0, "bounce_fbl_addresses: %s: "
				       "\"b-\" starts the tags' local parts", a);
	}
}

/* bounce_validate_rates - the review and pause thresholds */
static void
bounce_validate_rates(const struct bounce_conf *c, const char *path,
		      struct errlist *el)
{
	const char *v[4] = {c->review_bounce_rate, c->review_complaint_rate,
			    c->pause_bounce_rate, c->pause_complaint_rate};
	const char *n[4] = {"bounce_review_bounce_rate", "bounce_review_complaint_rate",
			    "bounce_pause_bounce_rate", "bounce_pause_complaint_rate"};
	long long ppm;
	const char *why;

	for (int i = 0; i < 4; i++)
		if (bounce_rate_parse(v[i], v[i] ? strlen(v[i]) : 0, &ppm, &why) < 0)
			errlist_add_at(el, path, 0, "%s = %s: %s", n[i],
				       v[i] ? v[i] : "", why);
	if (c->unsubscribe_url != NULL
	    && strncasecmp(c->unsubscribe_url, "https://", 8) != 0)
		errlist_add_at(el, path, 0, "bounce_unsubscribe_url = %s: must be "
			       "https:// (RFC 8058 section 3.1)", c->unsubscribe_url);
}

/*
 * bounce_validate_track - the tracking base URL: http or https, printable
 * ASCII that needs no escaping inside an HTML attribute value
 */
static void
bounce_validate_track(const struct bounce_conf *c, const char *path,
		      struct errlist *el)
{
	const char *u = c->track_base_url;

	if (u == NULL)
		return;
	if ((strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://", 7) != 0)
	    || strlen(u) > 256 || strcspn(u, "\"'<>&` \t\\") != strlen(u)
	    || strchr(u + 8, '?') != NULL || strchr(u, '#') != NULL)
		errlist_add_at(el, path, 0, "bounce_track_base_url = %s: must be an "
			       "http(s) URL of at most 256 characters, without query, "
			       "fragment, quotes, blanks, <, > or &", u);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			errlist_add_at(el, path, 0, "bounce_track_base_url: not "
				       "printable ASCII");
			break;
		}
}

/* bounce_validate - reason lists and expiries */
static void
bounce_validate(const void *values, const char *path, struct errlist *el)
{
	const struct bounce_conf *c = values;
	struct bounce_policy pol;

	(void)bounce_policy_from_conf(c, &pol, path, el);
	if (c->key_prefix == NULL)
		errlist_add_at(el, path, 0, "bounce_key_prefix is empty: keys "
			       "would mix with other applications' keys");
	if (c->stream == NULL)
		errlist_add_at(el, path, 0, "bounce_stream is empty");
	bounce_validate_fbl(c, path, el);
	bounce_validate_rates(c, path, el);
	bounce_validate_track(c, path, el);
}

const struct cfg_section bounce_section = {
	"bounce", "bounce_", bounce_params, sizeof(struct bounce_conf), bounce_validate,
};
