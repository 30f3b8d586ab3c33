/*++
 * NAME
 *	bounce_reason 3
 * SUMMARY
 *	the reason table and the class rule (see bounce_reason.h)
 * DESCRIPTION
 *	The table is grouped by reason, in this order, because the first
 *	match wins:
 *	  rate_limited	first: receivers send "550 5.1.1" or "5.7.1" with a
 *			rate-limit text, and such texts seldom name anything
 *			else
 *	  spam_rejected	content and reputation blocks (block lists)
 *	  domain_unknown before user_unknown: "domain does not exist" must
 *			not end as "does not exist"
 *	  suspended	before user_unknown: "account disabled" is not gone
 *	  user_unknown
 *	  mailbox_full, message_too_large, policy_rejected
 *	  expired, network_error, system_error: the weakest texts last
 *	Patterns come from the bounces of the corpus
 *	(tests/unit/data/bounces/) and the documented texts of the large
 *	providers; keep them specific enough not to match help texts.
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_mta.h"
#include "bounce_provider.h"
#include "bounce_reason.h"
#include "bounce_smtp.h"

#define R(p, r, src)	{p, BOUNCE_REASON_##r, src, 0}
/* a provider's own wording that is definite wherever it appears */
#define RD(p, r, src)	{p, BOUNCE_REASON_##r, src, 1}

static const struct bounce_reason_row rows[] = {
	/* whole sentences of one MTA that name other causes in passing */
	RD("the account or domain may not exist", DOMAIN_UNKNOWN,
	   "cPanel Exim: \"..., they may be blacklisted, or ...\""),
	RD("does not accept mail from", POLICY_REJECTED,
	   "a sender-specific refusal, not a null MX"),
	RD("backscatter protection", POLICY_REJECTED, "Sisimai reason lists"),
	RD("timeout waiting for input", SYSTEM_ERROR, "Sisimai reason lists"),
	RD("unable to relay message back to mta", SYSTEM_ERROR, "amavis"),
	RD("temporary mta failure on relaying", SYSTEM_ERROR, "amavis"),
	RD("rejected by next-hop mta on relaying", SYSTEM_ERROR, "amavis"),
	RD("all routes to destination blocked", NETWORK_ERROR, "OpenSMTPD"),
	RD("temporary failure in mx lookup", NETWORK_ERROR, "OpenSMTPD"),
	RD("not enough free space", SYSTEM_ERROR,
	   "qmail: the server's disk, not the mailbox"),
	RD("delivery timeout", EXPIRED, "Yahoo"),
	RD("account service is temporarily unavailable", RATE_LIMITED, "Mimecast"),
	RD("message has exceeded maximum hop count", NETWORK_ERROR, "Lotus Notes"),
	RD("and other recipients in the same domain", USER_UNKNOWN,
	   "Trend Micro InterScan MSS: the recipient was refused"),
	RD("exceeding receiving limits", MAILBOX_FULL,
	   "Yahoo/AOL: account disabled temporarily, over its intake"),
	RD("too much mail data", MAILBOX_FULL, "Sisimai reason lists"),
	RD("too many messages on the server", MAILBOX_FULL,
	   "Sisimai reason lists"),
	RD("mail file size exceeds", MAILBOX_FULL, "Sisimai reason lists"),
	RD("message header size exceeds limit", MESSAGE_TOO_LARGE,
	   "Sisimai reason lists (exceeds a limit)"),
	RD("header size exceeds maximum permitted", POLICY_REJECTED,
	   "Sisimai reason lists (content)"),
	RD("dns records for the destination computer could not be found",
	   NETWORK_ERROR, "Exchange"),

	/*
	 * The sender's authentication, reputation or listing: about the
	 * sending host or domain, never the address, even when a provider
	 * adds "to protect our users from spam" to it (Gmail does).
	 */
	R("spf", POLICY_REJECTED, "RFC 7208 failures, Gmail 5.7.26"),
	R("dmarc", POLICY_REJECTED, "RFC 7489 failures, Gmail, Yahoo"),
	R("dkim", POLICY_REJECTED, "RFC 6376 failures"),
	R("unauthenticated", POLICY_REJECTED, "Gmail 5.7.26"),
	R("reverse dns", POLICY_REJECTED, "Microsoft, Gmail 5.7.25"),
	R("ptr record", POLICY_REJECTED, "Gmail 5.7.25"),
	R("dns ptr", POLICY_REJECTED, "GMX, Web.de"),
	R("rdns", POLICY_REJECTED, "many receivers"),
	R("reputation", POLICY_REJECTED, "Gmail, Microsoft 4.7.650"),
	R("user complaints", POLICY_REJECTED, "Yahoo TSS04"),
	/* a URL of the message is listed: the content, not the sender */
	R("blacklisted url", SPAM_REJECTED, "URIBL rejections"),
	R("uribl", SPAM_REJECTED, "URIBL"),
	R("surbl", SPAM_REJECTED, "SURBL"),
	R("blacklist", POLICY_REJECTED, "many receivers"),
	R("black list", POLICY_REJECTED, "many receivers"),
	R("blocklist", POLICY_REJECTED, "many receivers"),
	R("block list", POLICY_REJECTED, "many receivers"),
	R("blocked using", POLICY_REJECTED, "Postfix reject_rbl_client"),
	R("listed at", POLICY_REJECTED, "DNSBL rejections"),
	R("listed on", POLICY_REJECTED, "DNSBL rejections"),
	R("dnsbl", POLICY_REJECTED, "DNSBL rejections"),
	R("rbl", POLICY_REJECTED, "DNSBL rejections"),
	R("sorbs", POLICY_REJECTED, "SORBS DNSBL"),
	R("spamhaus", POLICY_REJECTED, "Spamhaus DNSBL"),
	R("spamcop", POLICY_REJECTED, "SpamCop DNSBL"),
	R("banned sending ip", POLICY_REJECTED, "Office 365 5.7.606"),
	R("client host rejected", POLICY_REJECTED, "Postfix smtpd"),
	R("sender address rejected", POLICY_REJECTED, "Postfix smtpd"),
	R("sender rejected", POLICY_REJECTED, "Cox, Spectrum, qmail"),
	R("sender was rejected", POLICY_REJECTED, "qmail-remote"),
	RD("recipient address rejected: access denied", USER_UNKNOWN,
	   "Office 365 5.4.1 directory-based edge blocking"),
	R("relay access denied", POLICY_REJECTED, "Postfix smtpd"),
	R("relaying denied", POLICY_REJECTED, "Sendmail"),
	R("relay not permitted", POLICY_REJECTED, "Exim"),
	R("not permitted to relay", POLICY_REJECTED, "Exchange"),
	R("unable to relay", POLICY_REJECTED, "Exchange 5.7.1"),
	R("recipient preferences", POLICY_REJECTED, "Facebook RCP-P2"),
	R("headers too large", POLICY_REJECTED, "Sendmail 5.6.0 (content)"),
	R("header error", POLICY_REJECTED, "Sendmail 5.7.9 (content)"),
	R("duplicate header", POLICY_REJECTED, "Amazon SES (content)"),
	R("not accepting connections", POLICY_REJECTED, "iCloud 554 greeting"),
	R("message filtered", POLICY_REJECTED, "Amazon SES receiving"),
	R("sender ip address rejected", POLICY_REJECTED, "Sisimai reason lists"),
	R("sender email address rejected", POLICY_REJECTED, "Sisimai reason lists"),
	R("batv", POLICY_REJECTED, "BATV checks (backscatter)"),
	R("bogus mail from", POLICY_REJECTED, "Sisimai reason lists"),
	R("without a valid sender domain", POLICY_REJECTED, "Sisimai reason lists"),
	R("domain of sender address", POLICY_REJECTED, "Sendmail"),
	R("senderfilterconfig", POLICY_REJECTED, "Exchange sender filter"),
	R("emetteur invalide", POLICY_REJECTED, "Orange/La Poste"),
	R("no third-party dsns", POLICY_REJECTED, "Sisimai reason lists"),
	R("please provide a valid from", POLICY_REJECTED, "GoDaddy IB506"),
	R("fully qualified email address required", POLICY_REJECTED,
	  "Sisimai reason lists"),
	R("invalid sender", POLICY_REJECTED, "many receivers"),
	R("is not a registered gateway user", POLICY_REJECTED,
	  "Sisimai reason lists"),
	R("mail from not owned by user", POLICY_REJECTED, "La Poste"),
	R("email address is not verified", POLICY_REJECTED, "Amazon SES"),
	R("returned mail not accepted here", POLICY_REJECTED, "Sisimai reason lists"),
	R("recursive cname records", POLICY_REJECTED, "Sisimai reason lists"),
	R("rule imposed mailbox access", POLICY_REJECTED, "Sisimai reason lists"),
	R("sender not pre-approved", POLICY_REJECTED, "Sisimai reason lists"),
	R("sender domain is empty", POLICY_REJECTED, "Sisimai reason lists"),
	R("sender verify failed", POLICY_REJECTED, "Exim"),
	R("unsigned dsn", POLICY_REJECTED, "Sisimai reason lists"),
	R("unroutable sender address", POLICY_REJECTED, "Exim"),
	R("as a relay", POLICY_REJECTED, "Sisimai reason lists (no relaying)"),
	R("insecure mail relay", POLICY_REJECTED, "Sisimai reason lists"),
	R("not a gateway", POLICY_REJECTED, "Sisimai reason lists"),
	R("not an open relay", POLICY_REJECTED, "Sisimai reason lists"),
	R("not local host", POLICY_REJECTED, "Sisimai reason lists"),
	R("relaying mail to", POLICY_REJECTED, "Sisimai reason lists"),
	R("not configured to relay mail", POLICY_REJECTED, "Sisimai reason lists"),
	R("illegal attachment", POLICY_REJECTED, "Sisimai reason lists"),
	R("not accepting mail with", POLICY_REJECTED, "Sisimai reason lists"),
	R("members-only list", POLICY_REJECTED, "mailing lists"),
	R("closed mailing list", POLICY_REJECTED, "mailing lists"),
	R("due to security policies", POLICY_REJECTED, "Sisimai reason lists"),
	R("header are not accepted", POLICY_REJECTED, "Sisimai reason lists"),
	R("organizational settings", POLICY_REJECTED, "Office 365"),
	R("message given low priority", POLICY_REJECTED, "Sisimai reason lists"),
	R("messages with multiple addresses", POLICY_REJECTED,
	  "Sisimai reason lists"),
	R("protocol violation", POLICY_REJECTED, "Sisimai reason lists"),
	R("not subscribed to this group", POLICY_REJECTED, "Google Groups"),
	R("containing images or other attachments", POLICY_REJECTED,
	  "Sisimai reason lists"),
	R("without solving a captcha", POLICY_REJECTED, "Sisimai reason lists"),
	R("invalid mime headers", POLICY_REJECTED, "Sisimai reason lists (content)"),
	R("improperly-formatted binary content", POLICY_REJECTED,
	  "Sisimai reason lists (content)"),
	R("unnecessary base64 encoding", POLICY_REJECTED,
	  "Sisimai reason lists (content)"),
	R("8-bit data in message header", POLICY_REJECTED,
	  "Sisimai reason lists (content)"),
	R("only accepting mail from specific email addresses", POLICY_REJECTED,
	  "AOL: the recipient's filter"),
	R("bounced address", POLICY_REJECTED, "SendGrid: on its bounce list"),
	R("restricted sms e-mail", POLICY_REJECTED, "AT&T: the recipient's filter"),
	R("is not accepting any mail", POLICY_REJECTED, "Sisimai reason lists"),
	R("rejected due to user rules", POLICY_REJECTED, "the recipient's filter"),
	R("resolver.rst.notauthorized", POLICY_REJECTED, "Exchange"),
	R("this account is protected by", POLICY_REJECTED, "the recipient's filter"),
	R("user reject", POLICY_REJECTED, "the recipient's filter"),
	R("refuse to receive mail", POLICY_REJECTED, "Willcom"),
	R("blocked by the recipient", POLICY_REJECTED, "the recipient's filter"),
	R("too many \"received\" headers", POLICY_REJECTED, "Exim (content)"),
	R("bad header:", POLICY_REJECTED, "amavis (content)"),
	R("could not retrieve credentials", POLICY_REJECTED, "OpenSMTPD"),
	R("due to the following smtp relay error", POLICY_REJECTED, "KDDI"),
	R("esmtp no data before greeting", POLICY_REJECTED, "Cox"),
	R("attachment extension is forbidden", POLICY_REJECTED, "Cox"),
	R("not a member of this mailing list", POLICY_REJECTED, "FML"),
	R("groups.google.com/support", POLICY_REJECTED,
	  "Google Groups: no such group or no permission to post"),
	R("send mail as", POLICY_REJECTED, "Gmail CustomFromDenied"),

	/* the receiver limits the sender's rate */
	R("rate limit", RATE_LIMITED, "many receivers"),
	R("ratelimit", RATE_LIMITED, "many receivers"),
	R("rate-limit", RATE_LIMITED, "many receivers"),
	R("frequency limited", RATE_LIMITED, "Tencent QQ"),
	R("too many messages", RATE_LIMITED, "many receivers"),
	R("too many connections", RATE_LIMITED, "Postfix, Exim"),
	R("too many concurrent", RATE_LIMITED, "many receivers"),
	R("too many sessions", RATE_LIMITED, "GoDaddy IB007"),
	R("maximum connection limit", RATE_LIMITED, "Sisimai reason lists"),
	R("per-domain connection limit", RATE_LIMITED, "Sisimai reason lists"),
	R("max emails per hour", RATE_LIMITED, "Sisimai reason lists"),
	R("too many errors from your ip", RATE_LIMITED, "Sisimai reason lists"),
	R("too many smtp sessions", RATE_LIMITED, "Sisimai reason lists"),
	R("trop de connexions", RATE_LIMITED, "Orange"),
	R("message threshold exceeded", RATE_LIMITED, "Cox"),
	R("requested action aborted: try again later", RATE_LIMITED, "Cox"),
	R("too many emails", RATE_LIMITED, "many receivers"),
	R("too many mails", RATE_LIMITED, "many receivers"),
	R("too many recipients", RATE_LIMITED, "RFC 5321 452/552"),
	R("too much mail", RATE_LIMITED, "many receivers"),
	R("sending rate", RATE_LIMITED, "many receivers"),
	R("message rate", RATE_LIMITED, "many receivers"),
	R("connection rate", RATE_LIMITED, "Postfix anvil"),
	R("receiving mail at a rate", RATE_LIMITED, "Gmail 4.2.1"),
	R("receiving mail too quickly", RATE_LIMITED, "many receivers"),
	R("exceeded the rate", RATE_LIMITED, "many receivers"),
	R("throttl", RATE_LIMITED, "many receivers"),
	R("slow down", RATE_LIMITED, "many receivers"),
	R("temporarily deferred", RATE_LIMITED, "Yahoo TS01/TS02"),

	/* content: spam and malware */
	R("spam", SPAM_REJECTED, "many receivers"),
	R("unsolicited", SPAM_REJECTED, "Gmail 5.7.1"),
	R("junk mail", SPAM_REJECTED, "many receivers"),
	R("bulk mail", SPAM_REJECTED, "many receivers"),
	R("content rejected", SPAM_REJECTED, "many receivers"),
	R("message content", SPAM_REJECTED, "many receivers"),
	R("content filter", SPAM_REJECTED, "amavis, many receivers"),
	R("virus", SPAM_REJECTED, "amavis, ClamAV milters"),
	R("malware", SPAM_REJECTED, "many receivers"),
	R("phishing", SPAM_REJECTED, "many receivers"),
	R("malicious", SPAM_REJECTED, "many receivers"),

	/* the mailbox is full (before suspended: "out of storage ... inactive") */
	R("mailbox full", MAILBOX_FULL, "Sendmail, Postfix"),
	R("mailbox exceeds allowed size", MAILBOX_FULL, "Ipswitch IMail"),
	R("messages in recipient's mailbox exceeded", MAILBOX_FULL, "Biglobe"),
	R("exceeding their quota", MAILBOX_FULL, "Sisimai reason lists"),
	R("boite du destinataire pleine", MAILBOX_FULL, "Orange/La Poste"),
	R("does not have enough space", MAILBOX_FULL, "Sisimai reason lists"),
	R("full mailbox", MAILBOX_FULL, "Sisimai reason lists"),
	R("exceeded the local limit", MAILBOX_FULL, "Sisimai reason lists"),
	R("userdisk quota", MAILBOX_FULL, "vpopmail/qmail maildir"),
	R("domaindisk quota", MAILBOX_FULL, "vpopmail/qmail maildir"),
	R("not enough storage space", MAILBOX_FULL, "Sisimai reason lists"),
	R("over the allowed quota", MAILBOX_FULL, "Sisimai reason lists"),
	R("quota violation", MAILBOX_FULL, "Sisimai reason lists"),
	R("would exceed maximum allowed storage", MAILBOX_FULL,
	  "Sisimai reason lists"),
	R("over the quota", MAILBOX_FULL, "Sisimai reason lists"),
	R("quota exceed", MAILBOX_FULL, "Exim appendfile"),
	R("account storage limit", MAILBOX_FULL, "GoDaddy"),
	R("mailbox is full", MAILBOX_FULL, "many receivers"),
	R("mail box full", MAILBOX_FULL, "many receivers"),
	R("inbox is full", MAILBOX_FULL, "many receivers"),
	R("mailfolder is full", MAILBOX_FULL, "Exchange"),
	R("mailbox has exceeded", MAILBOX_FULL, "many receivers"),
	R("mailbox exceeds", MAILBOX_FULL, "many receivers"),
	R("mailbox size limit", MAILBOX_FULL, "Postfix local(8)"),
	R("mailbox quota", MAILBOX_FULL, "many receivers"),
	R("over quota", MAILBOX_FULL, "many receivers"),
	R("overquota", MAILBOX_FULL, "Gmail OverQuota"),
	R("quota exceeded", MAILBOX_FULL, "Dovecot, Courier"),
	R("exceeded quota", MAILBOX_FULL, "many receivers"),
	R("exceeds quota", MAILBOX_FULL, "many receivers"),
	R("disk quota", MAILBOX_FULL, "many receivers"),
	R("exceeded storage", MAILBOX_FULL, "many receivers"),
	R("out of storage", MAILBOX_FULL, "Gmail 4.2.2/5.2.2"),
	R("insufficient storage", MAILBOX_FULL, "many receivers"),
	R("storage allocation", MAILBOX_FULL, "RFC 5321 552"),

	/* the message is too big */
	R("message too large", MESSAGE_TOO_LARGE, "many receivers"),
	R("maximum inbound message size", MESSAGE_TOO_LARGE, "Sisimai reason lists"),
	R("line limit exceeded", MESSAGE_TOO_LARGE, "Sisimai reason lists"),
	R("message file too big", MESSAGE_TOO_LARGE, "Sisimai reason lists"),
	R("taille limite du message atteinte", MESSAGE_TOO_LARGE, "Orange"),
	R("maximum size the user accepts", MESSAGE_TOO_LARGE, "qmail-ldap"),
	R("message is too large", MESSAGE_TOO_LARGE, "many receivers"),
	R("message too big", MESSAGE_TOO_LARGE, "many receivers"),
	R("message is too big", MESSAGE_TOO_LARGE, "many receivers"),
	R("message size exceeds", MESSAGE_TOO_LARGE, "many receivers"),
	R("message size exceeded", MESSAGE_TOO_LARGE, "many receivers"),
	R("message length exceeds", MESSAGE_TOO_LARGE, "RFC 3463 5.2.3 text"),
	R("exceeds size limit", MESSAGE_TOO_LARGE, "Postfix"),
	R("exceeds the size limit", MESSAGE_TOO_LARGE, "many receivers"),
	R("exceeds the maximum", MESSAGE_TOO_LARGE, "many receivers"),
	R("size limit", MESSAGE_TOO_LARGE, "many receivers"),
	R("too large", MESSAGE_TOO_LARGE, "many receivers"),

	/* the domain does not exist or takes no mail (RFC 7505 null MX) */
	R("null mx", DOMAIN_UNKNOWN, "RFC 7505"),
	R("nullmx", DOMAIN_UNKNOWN, "RFC 7505"),
	R("doesn't receive email", DOMAIN_UNKNOWN, "Gmail, null MX"),
	R("does not accept mail", DOMAIN_UNKNOWN, "Postfix, null MX"),
	R("indicated no smtp service", DOMAIN_UNKNOWN, "Exim, null MX"),
	/* a DNS failure seen by Gmail is a lookup problem, not a verdict */
	R("dns error", NETWORK_ERROR, "Gmail, Google Workspace"),
	/* h_errno TRY_AGAIN: the lookup failed for now, the domain may exist */
	R("host not found, try again", NETWORK_ERROR, "Postfix, Sendmail"),
	R("host or domain name not found", DOMAIN_UNKNOWN, "Postfix"),
	R("domain must exist", DOMAIN_UNKNOWN, "Sisimai reason lists"),
	R("mail domain mentioned in email address is unknown", DOMAIN_UNKNOWN,
	  "Sisimai reason lists"),
	R("name or service not known", DOMAIN_UNKNOWN, "getaddrinfo EAI_NONAME"),
	R("no route for current request", DOMAIN_UNKNOWN, "Sisimai reason lists"),
	R("all host address lookups failed permanently", DOMAIN_UNKNOWN, "Exim"),
	R("no host found for existing smtp connection", DOMAIN_UNKNOWN, "Exim"),
	R("destination seem to reject all mails", DOMAIN_UNKNOWN, "OpenSMTPD"),
	R("remote domain doesnt exist", DOMAIN_UNKNOWN, "KDDI"),
	R("illegal host/domain name found", DOMAIN_UNKNOWN, "Sun Messaging Server"),
	R("domain not found", DOMAIN_UNKNOWN, "many receivers"),
	R("domain name not found", DOMAIN_UNKNOWN, "many receivers"),
	R("domain couldn't be found", DOMAIN_UNKNOWN, "Office 365"),
	R("domain name couldn't be found", DOMAIN_UNKNOWN, "Office 365"),
	R("domain could not be found", DOMAIN_UNKNOWN, "many receivers"),
	R("no such domain", DOMAIN_UNKNOWN, "many receivers"),
	R("domain does not exist", DOMAIN_UNKNOWN, "many receivers"),
	R("domain doesn't exist", DOMAIN_UNKNOWN, "many receivers"),
	R("unknown domain", DOMAIN_UNKNOWN, "many receivers"),
	R("invalid domain", DOMAIN_UNKNOWN, "many receivers"),
	R("domain is not reachable", DOMAIN_UNKNOWN, "Outlook.com 554"),
	R("nxdomain", DOMAIN_UNKNOWN, "DNS"),
	R("no mx", DOMAIN_UNKNOWN, "OpenSMTPD"),
	R("no valid mx", DOMAIN_UNKNOWN, "many MTAs"),
	R("mx lookup", DOMAIN_UNKNOWN, "many MTAs"),
	R("name service error", DOMAIN_UNKNOWN, "Postfix"),
	R("unrouteable address", DOMAIN_UNKNOWN, "Exim"),
	R("unroutable address", DOMAIN_UNKNOWN, "Exim"),
	R("unknown host", DOMAIN_UNKNOWN, "Sendmail"),
	R("host unknown", DOMAIN_UNKNOWN, "Sendmail"),
	R("all relevant mx records point to non-existent hosts", DOMAIN_UNKNOWN, "Exim"),
	R("bad destination system address", DOMAIN_UNKNOWN, "RFC 3463 5.1.2 text"),

	/* the mailbox exists but is switched off */
	R("account disabled", SUSPENDED, "many receivers"),
	R("account is disabled", SUSPENDED, "many receivers"),
	R("account has been disabled", SUSPENDED, "many receivers"),
	R("mailbox disabled", SUSPENDED, "many receivers"),
	R("mailbox is disabled", SUSPENDED, "many receivers"),
	R("mailbox has been disabled", SUSPENDED, "many receivers"),
	R("mailbox is frozen", SUSPENDED, "i.ua"),
	R("is disabled", SUSPENDED, "Gmail 5.2.1"),
	R("disabled account", SUSPENDED, "many receivers"),
	R("account suspended", SUSPENDED, "many receivers"),
	R("account is suspended", SUSPENDED, "many receivers"),
	R("account has been suspended", SUSPENDED, "many receivers"),
	R("account is blocked", SUSPENDED, "La Poste LPN007_426"),
	R("mailbox suspended", SUSPENDED, "many receivers"),
	R("user suspended", SUSPENDED, "many receivers"),
	R("inactive", SUSPENDED, "Gmail, Yahoo"),
	R("deactivated", SUSPENDED, "many receivers"),
	R("account expired", SUSPENDED, "many receivers"),
	R("account has expired", SUSPENDED, "many receivers"),
	R("account locked", SUSPENDED, "many receivers"),
	R("account is temporarily limited", SUSPENDED, "EZweb"),
	R("is currently suspended", SUSPENDED, "Sisimai reason lists"),
	R("temporary locked", SUSPENDED, "Sisimai reason lists"),
	R("boite du destinataire archivee", SUSPENDED, "La Poste"),
	R("has been suspended", SUSPENDED, "Sisimai reason lists"),
	R("mailbox currently suspended", SUSPENDED, "Sisimai reason lists"),
	R("recipient suspend the service", SUSPENDED, "Sisimai reason lists"),
	R("extended inactivity", SUSPENDED, "Sisimai reason lists"),
	R("mailaddress is administrativ", SUSPENDED, "qmail-ldap"),
	R("account is locked", SUSPENDED, "many receivers"),
	R("discontinued", SUSPENDED, "Yahoo"),
	R("no longer active", SUSPENDED, "many receivers"),

	/* the address does not exist */
	R("user unknown", USER_UNKNOWN, "Sendmail, Postfix"),
	R("unknown user", USER_UNKNOWN, "many receivers"),
	R("user is unknown", USER_UNKNOWN, "many receivers"),
	R("no such user", USER_UNKNOWN, "Sendmail, qmail"),
	R("user not found", USER_UNKNOWN, "many receivers"),
	RD("user not exist", USER_UNKNOWN, "McAfee"),
	RD("invalid final delivery userid", USER_UNKNOWN, "Ipswitch IMail"),
	RD("no valid recipients for this mm", USER_UNKNOWN, "Verizon MMS gateway"),
	R("user does not exist", USER_UNKNOWN, "many receivers"),
	R("user doesn't exist", USER_UNKNOWN, "many receivers"),
	RD("the recipient name is not recognized", USER_UNKNOWN,
	   "Exchange 2003 (MSEXCH:IMS)"),
	R("unknown recipient", USER_UNKNOWN, "many receivers"),
	R("recipient unknown", USER_UNKNOWN, "many receivers"),
	R("recipient not found", USER_UNKNOWN, "many receivers"),
	R("recipientnotfound", USER_UNKNOWN, "Exchange"),
	R("recipnotfound", USER_UNKNOWN, "Exchange RESOLVER.ADR"),
	R("no such recipient", USER_UNKNOWN, "many receivers"),
	R("invalid recipient", USER_UNKNOWN, "many receivers"),
	R("recipient does not exist", USER_UNKNOWN, "many receivers"),
	R("unknown address", USER_UNKNOWN, "many receivers"),
	R("address unknown", USER_UNKNOWN, "many receivers"),
	R("addressee unknown", USER_UNKNOWN, "many receivers"),
	R("unknown mailbox", USER_UNKNOWN, "many receivers"),
	R("mailbox unknown", USER_UNKNOWN, "many receivers"),
	R("no such mailbox", USER_UNKNOWN, "many receivers"),
	R("mailbox not found", USER_UNKNOWN, "many receivers"),
	R("mailbox does not exist", USER_UNKNOWN, "many receivers"),
	R("mailbox doesn't exist", USER_UNKNOWN, "many receivers"),
	R("mailbox unavailable", USER_UNKNOWN, "RFC 5321 550 text"),
	R("mailbox is unavailable", USER_UNKNOWN, "many receivers"),
	R("invalid mailbox", USER_UNKNOWN, "many receivers"),
	R("not a valid mailbox", USER_UNKNOWN, "many receivers"),
	R("no mailbox here by that name", USER_UNKNOWN, "qmail"),
	RD("unknown local part", USER_UNKNOWN,
	   "Exim: its router's or its RCPT verification's verdict"),
	R("unknown or illegal alias", USER_UNKNOWN, "Sendmail"),
	R("account does not exist", USER_UNKNOWN, "many receivers"),
	R("account doesn't exist", USER_UNKNOWN, "many receivers"),
	RD("doesn't have a yahoo", USER_UNKNOWN,
	   "Yahoo: \"This user doesn't have a yahoo.com account\""),
	R("doesn't have a", USER_UNKNOWN, "Yahoo's sentence, copied by others"),
	R("does not have an account", USER_UNKNOWN, "many receivers"),
	R("address couldn't be found", USER_UNKNOWN, "Gmail"),
	R("couldn't be found", USER_UNKNOWN, "Exchange"),
	R("could not be found", USER_UNKNOWN, "Exchange"),
	R("address not found", USER_UNKNOWN, "Gmail"),
	R("invalid address", USER_UNKNOWN, "many receivers"),
	R("address does not exist", USER_UNKNOWN, "many receivers"),
	R("address doesn't exist", USER_UNKNOWN, "many receivers"),
	R("bad destination mailbox", USER_UNKNOWN, "RFC 3463 5.1.1 text"),
	R("undeliverable address", USER_UNKNOWN, "many receivers"),
	RD("not listed in domino directory", USER_UNKNOWN, "Lotus Domino"),
	RD("not listed in public name & address book", USER_UNKNOWN, "Lotus Notes"),
	R("no longer exists", USER_UNKNOWN, "many receivers"),
	R("recipient address rejected.", USER_UNKNOWN,
	  "KDDI au: a bare refusal of the recipient, no such user"),
	R("does not like recipient.", USER_UNKNOWN, "qmail-remote"),
	R("does not exist", USER_UNKNOWN, "many receivers"),
	R("doesn't exist", USER_UNKNOWN, "many receivers"),

	/* the receiver's policy refuses the sender */
	R("administrative prohibition", POLICY_REJECTED, "Exim"),
	R("access denied", POLICY_REJECTED, "many receivers"),
	R("not permitted", POLICY_REJECTED, "many receivers"),
	R("not allowed", POLICY_REJECTED, "many receivers"),
	R("not authorized", POLICY_REJECTED, "many receivers"),
	R("unauthorized", POLICY_REJECTED, "many receivers"),
	R("authentication", POLICY_REJECTED, "many receivers"),
	R("policy", POLICY_REJECTED, "many receivers"),
	R("prohibited", POLICY_REJECTED, "many receivers"),
	R("blocked", POLICY_REJECTED, "many receivers"),
	R("banned", POLICY_REJECTED, "many receivers"),
	R("denied", POLICY_REJECTED, "many receivers"),
	R("filtered", POLICY_REJECTED, "many receivers"),

	/* the path to the receiver failed, said plainly */
	R("wasn't able to establish", NETWORK_ERROR, "qmail-remote"),
	R("host name lookup failure", NETWORK_ERROR, "Sendmail"),
	R("mail forwarding loop for", NETWORK_ERROR, "Postfix"),
	R("malformed name server reply", NETWORK_ERROR, "Postfix"),
	R("malformed or unexpected name server reply", NETWORK_ERROR, "Postfix"),
	R("maximum forwarding loop count exceeded", NETWORK_ERROR,
	  "Sisimai reason lists"),
	R("message looping", NETWORK_ERROR, "Sisimai reason lists"),
	R("unable to resolve route", NETWORK_ERROR, "Sisimai reason lists"),
	R("unrouteable mail domain", NETWORK_ERROR, "Exim"),
	R("address family mismatch on destination", NETWORK_ERROR, "OpenSMTPD"),
	R("bad dns lookup error code", NETWORK_ERROR, "OpenSMTPD"),
	R("could not retrieve source address", NETWORK_ERROR, "OpenSMTPD"),
	R("network error on destination", NETWORK_ERROR, "OpenSMTPD"),
	R("no valid route to", NETWORK_ERROR, "OpenSMTPD"),
	R("dns lookup failed", NETWORK_ERROR, "Courier"),
	R("could not find a gateway for", EXPIRED, "Sisimai reason lists"),
	R("it would create a mail loop", SYSTEM_ERROR, "Sisimai reason lists"),
	R("aliasing/forwarding loop broken", SYSTEM_ERROR, "Sisimai reason lists"),
	R("loop was found in the mail exchanger", SYSTEM_ERROR,
	  "Sisimai reason lists"),
	R("no route to host", NETWORK_ERROR, "many MTAs"),
	R("network is unreachable", NETWORK_ERROR, "many MTAs"),
	R("host is unreachable", NETWORK_ERROR, "many MTAs"),
	R("host unreachable", NETWORK_ERROR, "many MTAs"),
	R("mail loop", NETWORK_ERROR, "many MTAs"),
	R("loops back to myself", SYSTEM_ERROR, "Postfix: the MX is this host"),
	R("too many hops", NETWORK_ERROR, "Sendmail, Exim"),
	R("hop count exceeded", NETWORK_ERROR, "Domino, Exchange"),
	R("routing loop", NETWORK_ERROR, "many MTAs"),

	/* the receiver's directory failed (RFC 3463 X.4.3), said before its
	 * queue-lifetime boilerplate in qmail-ldap */
	R("ldap server", SYSTEM_ERROR, "qmail-ldap"),

	/* the queue lifetime ran out */
	R("retry timeout exceeded", EXPIRED, "Exim"),
	R("delivery time expired", EXPIRED, "RFC 3463 4.4.7 text"),
	R("message expired", EXPIRED, "many MTAs"),
	R("envelope expired", EXPIRED, "OpenSMTPD"),
	R("expired", EXPIRED, "many MTAs"),
	R("too long in queue", EXPIRED, "many MTAs"),
	R("in the queue too long", EXPIRED, "qmail"),
	R("queue lifetime", EXPIRED, "many MTAs"),
	R("multiple retries", EXPIRED, "Yahoo"),
	R("was not delivered within", EXPIRED, "EZweb"),
	R("delivery attempts will continue to be", EXPIRED, "Exchange warnings"),
	R("failed to deliver to domain", EXPIRED, "Sisimai reason lists"),
	R("failing for a long time", EXPIRED, "Exim"),
	R("has not been collected after", EXPIRED, "Sisimai reason lists"),
	R("retry time not reached for any host after a long failure period",
	  EXPIRED, "Exim"),
	R("server did not respond", EXPIRED, "Sisimai reason lists"),
	R("within the allowed queue period", EXPIRED, "Sisimai reason lists"),
	R("could not be delivered for more than", EXPIRED, "Sisimai reason lists"),
	R("giving up", EXPIRED, "many MTAs"),
	R("has been delayed", EXPIRED, "Gmail, Exchange warnings"),
	R("will be retried", EXPIRED, "Gmail warnings"),
	R("continue to try", EXPIRED, "Sun Messaging Server warnings"),
	R("continue trying", EXPIRED, "many warnings"),
	R("did not accept our requests to connect", EXPIRED,
	  "Gmail: no connection until the retry period ended"),
	R("connection timed out", EXPIRED, "many MTAs"),
	R("timed out", EXPIRED, "many MTAs"),

	/* the path to the receiver failed */
	R("connection refused", NETWORK_ERROR, "many MTAs"),
	R("timeout", NETWORK_ERROR, "many MTAs"),
	R("connection reset", NETWORK_ERROR, "many MTAs"),
	R("lost connection", NETWORK_ERROR, "Postfix"),
	R("broken pipe", NETWORK_ERROR, "many MTAs"),
	R("tls", NETWORK_ERROR, "many MTAs"),
	R("handshake", NETWORK_ERROR, "many MTAs"),
	R("could not connect", NETWORK_ERROR, "many MTAs"),
	R("unable to connect", NETWORK_ERROR, "many MTAs"),
	R("temporary failure in name resolution", NETWORK_ERROR, "glibc"),

	/* the receiving system failed */
	R("insufficient system storage", SYSTEM_ERROR, "RFC 5321 452 text"),
	R("pipe to |", SYSTEM_ERROR, "Exim pipe transport (a program failed)"),
	R("could not load drd for domain", SYSTEM_ERROR, "Sisimai reason lists"),
	R("operation now in progress", SYSTEM_ERROR, "Sisimai reason lists"),
	R("interrupted system call", SYSTEM_ERROR, "Sisimai reason lists"),
	R("encountered an error while being processed", SYSTEM_ERROR,
	  "Sisimai reason lists"),
	R("queue file write error", SYSTEM_ERROR, "Sendmail"),
	R("remote server is misconfigured", SYSTEM_ERROR, "Sisimai reason lists"),
	R("system config error", SYSTEM_ERROR, "Sisimai reason lists"),
	R("temporary local problem", SYSTEM_ERROR, "Sisimai reason lists"),
	R("mail system full", SYSTEM_ERROR, "RFC 3463 X.3.1 text"),
	R("angle-brackets nested too deep", SYSTEM_ERROR, "Exim (address syntax)"),
	R("domain missing in source-routed address", SYSTEM_ERROR, "Exim"),
	R("malformed address:", SYSTEM_ERROR, "Exim (address syntax)"),
	R("delivery to file forbidden", SYSTEM_ERROR, "Exim"),
	R("delivery to pipe forbidden", SYSTEM_ERROR, "Exim"),
	R("local delivery failed", SYSTEM_ERROR, "Exim"),
	R("lmtp error after", SYSTEM_ERROR, "Exim"),
	R("automatic homedir creat", SYSTEM_ERROR, "qmail-ldap"),
	R("ldap attribute", SYSTEM_ERROR, "qmail-ldap"),
	R("too many results returned but needs to be unique", SYSTEM_ERROR,
	  "qmail-ldap"),
	R("executing qmail-forward", SYSTEM_ERROR, "qmail-ldap"),
	R("failure in ldap lookup", SYSTEM_ERROR, "qmail-ldap"),
	R("bad interpreter", SYSTEM_ERROR, "a local program failed"),
	R("unable to process connection at this time", SYSTEM_ERROR, "Mimecast"),
	R("no space left", SYSTEM_ERROR, "many MTAs"),
	R("internal error", SYSTEM_ERROR, "many MTAs"),
	R("local error", SYSTEM_ERROR, "RFC 5321 451 text"),
	R("system error", SYSTEM_ERROR, "many MTAs"),
	R("configuration error", SYSTEM_ERROR, "many MTAs"),
	R("improper sequence", SYSTEM_ERROR, "503 texts"),
	R("bad sequence of commands", SYSTEM_ERROR, "RFC 5321 503 text"),
	R("syntax error", SYSTEM_ERROR, "RFC 5321 500/501 text"),
	R("server busy", SYSTEM_ERROR, "many receivers"),
	R("service unavailable", SYSTEM_ERROR, "RFC 5321 421 text"),
	R("service not available", SYSTEM_ERROR, "RFC 5321 421 text"),
	R("currently unavailable", SYSTEM_ERROR, "many receivers"),
	R("temporarily unavailable", SYSTEM_ERROR, "many receivers"),
};

#undef R
#undef RD

/* lower - ASCII tolower */
static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* is_alnum - ASCII letter or digit */
static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
	    || (c >= 'A' && c <= 'Z');
}

/* is_space - white space, line breaks included */
static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* match_at - pattern at s[i]: case-insensitive, ' ' matches a space run */
static bool
match_at(const unsigned char *s, size_t len, size_t i, const char *pat,
	 size_t *end)
{
	const unsigned char *p = (const unsigned char *)pat;

	for (; *p; p++) {
		if (i >= len)
			return false;
		if (*p == ' ') {
			if (!is_space(s[i]))
				return false;
			while (i < len && is_space(s[i]))
				i++;
		} else if (lower(s[i++]) != *p) {
			return false;
		}
	}
	*end = i;
	return true;
}

/* bounce_reason_find - first match of a pattern that starts a word */
int
bounce_reason_find(const char *text, size_t len, const char *pat,
		   size_t *start, size_t *end)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned char first = (unsigned char)pat[0];
	size_t i;

	for (i = 0; i < len; i++) {
		if (lower(s[i]) != first || (i > 0 && is_alnum(s[i - 1])
					     && is_alnum(first)))
			continue;
		if (match_at(s, len, i, pat, end)) {
			*start = i;
			return 1;
		}
	}
	return 0;
}

/* is_token - part of a word that is not white space or a delimiter */
static bool
is_token(unsigned char c)
{
	return c > ' ' && c != '<' && c != '>' && c != '(' && c != ')'
	    && c != '"' && c != '\'' && c != ',' && c != ';' && c != '['
	    && c != ']';
}

/*
 * in_address - is [start, end) part of an e-mail address: the phrase
 * list must not read "filtered@example.test" or "user-unknown@..." as a
 * reason (test addresses and role accounts are named like that).
 */
static bool
in_address(const unsigned char *s, size_t len, size_t start, size_t end)
{
	size_t i;

	for (i = start; i > 0 && is_token(s[i - 1]); i--)
		if (s[i - 1] == '@')
			return true;
	for (i = end; i < len && is_token(s[i]); i++)
		if (s[i] == '@')
			return true;
	return false;
}

/* find_row - the first match of a row outside e-mail addresses */
static bool
find_row(const char *text, size_t len, const char *pat, size_t *start,
	 size_t *end)
{
	size_t off = 0;

	while (off < len && bounce_reason_find(text + off, len - off, pat,
					       start, end)) {
		*start += off;
		*end += off;
		if (!in_address((const unsigned char *)text, len, *start, *end))
			return true;
		off = *start + 1;
	}
	return false;
}

#define NROWS	(sizeof(rows) / sizeof(rows[0]))

/*
 * bounce_reason_from_text - the first table row found in the text.
 * One pass over the text: at each word start only the rows whose pattern
 * begins with that character are tried, in table order, and rows after
 * the best match so far are skipped (the table is ~300 rows; trying each
 * over the whole text was most of the classifier's time).
 */
enum bounce_reason
bounce_reason_from_text(const char *text, size_t len, int *row)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned short first[257], order[NROWS], fill[256];
	size_t r, i, k, end, best = NROWS;
	unsigned char c;

	if (len > BOUNCE_REASON_TEXT_MAX)
		len = BOUNCE_REASON_TEXT_MAX;
	/* rows grouped by their first byte, table order kept (counting sort) */
	memset(first, 0, sizeof(first));
	for (r = 0; r < NROWS; r++)
		first[(unsigned char)rows[r].pattern[0] + 1]++;
	for (k = 1; k < 257; k++)
		first[k] += first[k - 1];
	memcpy(fill, first, sizeof(fill));
	for (r = 0; r < NROWS; r++)
		order[fill[(unsigned char)rows[r].pattern[0]]++] = (unsigned short)r;
	for (i = 0; i < len; i++) {
		c = lower(s[i]);
		if (first[c] == first[c + 1])
			continue;
		/* a pattern must start a word (bounce_reason_find) */
		if (i > 0 && is_alnum(s[i - 1]) && is_alnum(c))
			continue;
		for (k = first[c]; k < first[c + 1] && order[k] < best; k++)
			if (match_at(s, len, i, rows[order[k]].pattern, &end)
			    && !in_address(s, len, i, end)) {
				best = order[k];
				break;
			}
	}
	if (best < NROWS) {
		*row = (int)best;
		return rows[best].reason;
	}
	*row = -1;
	return BOUNCE_REASON_OTHER;
}

/* bounce_reason_rows - the table */
const struct bounce_reason_row *
bounce_reason_rows(size_t *n)
{
	*n = sizeof(rows) / sizeof(rows[0]);
	return rows;
}

/* bounce_reason_from_status - RFC 3463 section 3 subject and detail */
enum bounce_reason
bounce_reason_from_status(const char *status)
{
	static const struct {
		const char *code;		/* "S.D", or "S." for a subject */
		enum bounce_reason reason;
	} map[] = {
		{"1.1", BOUNCE_REASON_USER_UNKNOWN},	/* bad destination mailbox */
		{"1.2", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* bad destination system */
		{"1.3", BOUNCE_REASON_USER_UNKNOWN},	/* bad mailbox syntax */
		{"1.6", BOUNCE_REASON_USER_UNKNOWN},	/* mailbox has moved */
		{"1.10", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* null MX, RFC 7505 */
		{"2.1", BOUNCE_REASON_SUSPENDED},	/* mailbox disabled */
		{"2.2", BOUNCE_REASON_MAILBOX_FULL},
		{"2.3", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"3.4", BOUNCE_REASON_MESSAGE_TOO_LARGE},
		{"4.4", BOUNCE_REASON_DOMAIN_UNKNOWN},	/* unable to route */
		{"4.7", BOUNCE_REASON_EXPIRED},		/* delivery time expired */
		{"4.6", BOUNCE_REASON_SYSTEM_ERROR},	/* routing loop */
		{"5.3", BOUNCE_REASON_RATE_LIMITED},	/* too many recipients */
		{"7.13", BOUNCE_REASON_SUSPENDED},	/* user account disabled */
		{"7.1", BOUNCE_REASON_POLICY_REJECTED},
		{"3.", BOUNCE_REASON_SYSTEM_ERROR},
		{"4.", BOUNCE_REASON_NETWORK_ERROR},
		{"6.", BOUNCE_REASON_POLICY_REJECTED},	/* media: content refused */
		{"7.", BOUNCE_REASON_POLICY_REJECTED},
	};
	const char *sd;
	size_t i, n;

	if (status == NULL || status[0] == '\0' || status[1] != '.')
		return BOUNCE_REASON_OTHER;
	sd = status + 2;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		n = strlen(map[i].code);
		if (map[i].code[n - 1] == '.') {
			if (strncmp(sd, map[i].code, n) == 0)
				return map[i].reason;
		} else if (strcmp(sd, map[i].code) == 0) {
			/* 4.4.4 is a temporary routing failure, not a domain
			 * that does not exist. */
			if (map[i].reason == BOUNCE_REASON_DOMAIN_UNKNOWN
			    && status[0] != '5')
				return BOUNCE_REASON_NETWORK_ERROR;
			return map[i].reason;
		}
	}
	return BOUNCE_REASON_OTHER;
}

/* find_row_text - a phrase anywhere outside addresses */
static bool
find_row_text(const char *s, size_t len, const char *pat)
{
	size_t a, b;

	return find_row(s, len, pat, &a, &b);
}

/* reply_code - the first SMTP reply code (RFC 5321 4.2) in a diagnostic */
static int
reply_code(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 3 <= len; i++)
		if ((s[i] == '4' || s[i] == '5') && s[i + 1] >= '0'
		    && s[i + 1] <= '9' && s[i + 2] >= '0' && s[i + 2] <= '9'
		    && (i == 0 || s[i - 1] == ' ' || s[i - 1] == ';'
			|| s[i - 1] == ':')
		    && (i + 3 == len || s[i + 3] == ' ' || s[i + 3] == '-'
			|| s[i + 3] == ','))
			return (s[i] - '0') * 100 + (s[i + 1] - '0') * 10
			    + (s[i + 2] - '0');
	return 0;
}

/* host_before - is the word before the phrase a host name (dots, no '@') */
static bool
host_before(const struct bounce_reason_in *in, const char *pat)
{
	size_t a, b, e, k;
	bool dot = false;

	if (in->diag == NULL || !find_row(in->diag, in->dlen, pat, &a, &b))
		return false;
	e = a;
	while (e > 0 && in->diag[e - 1] == ' ')
		e--;
	for (k = e; k > 0 && is_token((unsigned char)in->diag[k - 1]); k--) {
		if (in->diag[k - 1] == '@')
			return false;
		if (in->diag[k - 1] == '.')
			dot = true;
	}
	return dot && k < e && in->diag[e - 1] != '.';
}

/* why_phrase - "diagnostic phrase 'user unknown' (Sendmail, Postfix)" */
static void
why_phrase(char *why, size_t cap, const char *where, int row)
{
	if (why != NULL && cap > 0)
		snprintf(why, cap, "%s phrase '%s' (%s)", where,
			 rows[row].pattern, rows[row].src);
}

/* bounce_reason_decide - see bounce_reason.h */
enum bounce_reason
bounce_reason_decide(const struct bounce_reason_in *in, char *why, size_t cap)
{
	return bounce_reason_decide_ctx(in, NULL, why, cap);
}

/* bounce_reason_decide_ctx - see bounce_reason.h */
enum bounce_reason
bounce_reason_decide_ctx(const struct bounce_reason_in *in,
			 const struct bounce_reason_ctx *ctx, char *why,
			 size_t cap)
{
	static const struct bounce_reason_ctx noctx = {NULL, NULL, 0};
	struct bounce_reason_in inc = *in;
	enum bounce_reason r = BOUNCE_REASON_OTHER;
	const char *status = in->status ? in->status : "";
	const char *action = in->action ? in->action : "";
	size_t a, b;
	int row = -1, xrow;
	char note[64] = "";

	if (ctx == NULL)
		ctx = &noctx;
	/* the command, when the caller did not say, from the diagnostic */
	if (inc.cmd == BOUNCE_SMTP_NONE && inc.diag != NULL)
		inc.cmd = (int)bounce_smtp_command(inc.diag, inc.dlen);
	in = &inc;
	if (why != NULL && cap > 0)
		why[0] = '\0';
	/* a provider's own documented code is the most exact word */
	if (in->diag != NULL && bounce_provider_code(in->diag, in->dlen, &r,
						     note, sizeof(note))) {
		if (why != NULL && cap > 0)
			snprintf(why, cap, "%s", note);
		return r;
	}
	/* an MTA's fixed report text with a documented meaning */
	{
		const char *ph = NULL;

		if (in->diag != NULL
		    && bounce_mta_own_reason((enum bounce_mta)ctx->mta, in->diag,
					     in->dlen, &r, &ph)) {
			if (why != NULL && cap > 0)
				snprintf(why, cap, "%s template '%s'",
					 bounce_mta_name((enum bounce_mta)ctx->mta),
					 ph);
			return r;
		}
	}
	/* what a provider says its own receivers' replies mean */
	if (in->diag != NULL && bounce_provider_rcpt(ctx->rcpt, ctx->remote_mta,
						     in->diag, in->dlen, &r,
						     note, sizeof(note))) {
		if (why != NULL && cap > 0)
			snprintf(why, cap, "%s", note);
		return r;
	}
	/* the receiver's own words quoted inside a relay's wrapper first */
	if (in->diag != NULL && bounce_smtp_inner(in->diag, in->dlen, &a, &b)
	    && (r = bounce_reason_from_text(in->diag + a, b - a, &row), row >= 0))
		why_phrase(why, cap, "quoted reply", row);
	if (row < 0 && in->diag != NULL
	    && (r = bounce_reason_from_text(in->diag, in->dlen, &row), row >= 0))
		why_phrase(why, cap, "diagnostic", row);
	if (row < 0 && in->text != NULL
	    && (r = bounce_reason_from_text(in->text, in->tlen, &row), row >= 0))
		why_phrase(why, cap, "text", row);
	/*
	 * A weak text (a DNS, network or system hiccup) does not outweigh a
	 * status that names the address or the domain: Gmail says "DNS
	 * Error ... NXDOMAIN" with 5.1.2 when the domain is gone, with
	 * 4.x.x when the lookup merely failed.
	 */
	if (row >= 0 && (r == BOUNCE_REASON_NETWORK_ERROR
			 || r == BOUNCE_REASON_SYSTEM_ERROR
			 || r == BOUNCE_REASON_EXPIRED)
	    && status[0] == '5') {
		enum bounce_reason sr = bounce_reason_from_status(status);

		if (sr == BOUNCE_REASON_USER_UNKNOWN
		    || sr == BOUNCE_REASON_DOMAIN_UNKNOWN
		    || sr == BOUNCE_REASON_MAILBOX_FULL
		    || sr == BOUNCE_REASON_SUSPENDED) {
			r = sr;
			if (why != NULL && cap > 0)
				snprintf(why, cap, "status %s (RFC 3463) over "
					 "a weaker text", status);
		}
	}
	if (row < 0 && (r = bounce_reason_from_status(status))
	    != BOUNCE_REASON_OTHER && why != NULL && cap > 0)
		snprintf(why, cap, "status %s (RFC 3463)", status);

	/* "<host.name> does not exist": the domain, not a mailbox (Exim) */
	if (r == BOUNCE_REASON_USER_UNKNOWN && row >= 0
	    && (strcmp(rows[row].pattern, "does not exist") == 0
		|| strcmp(rows[row].pattern, "doesn't exist") == 0)
	    && host_before(in, rows[row].pattern)) {
		r = BOUNCE_REASON_DOMAIN_UNKNOWN;
		snprintf(note, sizeof(note), "; a host name does not exist");
	}
	/*
	 * A local delivery agent's failure (Diagnostic-Code: x-unix, RFC
	 * 3464 2.3.6 "diagnostic-type") is the mailer's, not the address's,
	 * unless it says the mailbox is full.
	 */
	if (in->diag != NULL && in->dlen >= 7
	    && strncasecmp(in->diag, "x-unix;", 7) == 0
	    && bounce_reason_from_text(in->diag, in->dlen, &xrow)
	    != BOUNCE_REASON_MAILBOX_FULL) {
		r = BOUNCE_REASON_SYSTEM_ERROR;
		snprintf(note, sizeof(note), "; a local mailer failed");
	}
	/*
	 * RFC 5321 3.3: a mailbox is checked at RCPT. "User unknown" in
	 * reply to DATA comes from a filter after the recipient was taken;
	 * a refusal of MAIL FROM is about the sender. Neither says the
	 * address is dead. Nor do the same words when the report names no
	 * stage and no status names the mailbox, unless the reporting MTA
	 * looked the mailbox up itself and says so in its own words.
	 */
	if ((in->cmd == BOUNCE_SMTP_DATA || in->cmd == BOUNCE_SMTP_NONE)
	    && r == BOUNCE_REASON_USER_UNKNOWN
	    && !(status[0] != '\0' && strncmp(status + 1, ".1.", 3) == 0)
	    && (row < 0 || !rows[row].definite)) {
		const char *own = NULL;

		if (bounce_mta_own_unknown((enum bounce_mta)ctx->mta, in->diag,
					   in->diag ? in->dlen : 0, &own)
		    || bounce_mta_own_unknown((enum bounce_mta)ctx->mta,
					      in->text, in->text ? in->tlen : 0,
					      &own)) {
			snprintf(note, sizeof(note), "; %s's own words '%.24s'",
				 bounce_mta_name((enum bounce_mta)ctx->mta), own);
		} else {
			r = BOUNCE_REASON_POLICY_REJECTED;
			snprintf(note, sizeof(note), "%s",
				 in->cmd == BOUNCE_SMTP_DATA
				 ? "; refused after DATA: a filter"
				 : "; no stage, no X.1.x status: maybe a filter");
		}
	} else if (in->cmd == BOUNCE_SMTP_MAIL
		   && (r == BOUNCE_REASON_USER_UNKNOWN
		       || r == BOUNCE_REASON_DOMAIN_UNKNOWN
		       || r == BOUNCE_REASON_OTHER
		       || r == BOUNCE_REASON_SYSTEM_ERROR)) {
		r = BOUNCE_REASON_POLICY_REJECTED;
		snprintf(note, sizeof(note), "; MAIL FROM refused: the sender");
	}
	/*
	 * Refused at the greeting (Postfix "refused to talk to me") or in
	 * reply to EHLO/HELO, before any address was named (RFC 5321 4.1.1.1:
	 * the client's identity): the receiver will not take mail from the
	 * sending host at all, whatever words its 421/554/550 uses ("Service
	 * not available", "Rejected"). After EHLO only a refusal that says
	 * nothing else: a connection lost there is the network's.
	 */
	if ((in->cmd == BOUNCE_SMTP_CONN
	     && (r == BOUNCE_REASON_OTHER || r == BOUNCE_REASON_SYSTEM_ERROR
		 || r == BOUNCE_REASON_NETWORK_ERROR
		 || r == BOUNCE_REASON_EXPIRED))
	    || (in->cmd == BOUNCE_SMTP_HELO && r == BOUNCE_REASON_OTHER)) {
		r = BOUNCE_REASON_POLICY_REJECTED;
		snprintf(note, sizeof(note), "%s", in->cmd == BOUNCE_SMTP_CONN
			 ? "; refused at the greeting"
			 : "; refused at EHLO/HELO: the sending host");
	}
	/*
	 * RFC 5321 3.3: once the recipients were taken, a permanent refusal
	 * of the message (5xx after DATA) that names no cause is the
	 * receiver's content policy; a connection dropped or a local error
	 * the reporting MTA adds after it does not change what was said.
	 */
	if (in->cmd == BOUNCE_SMTP_DATA && in->diag != NULL
	    && reply_code(in->diag, in->dlen) / 100 == 5
	    && (r == BOUNCE_REASON_OTHER || r == BOUNCE_REASON_NETWORK_ERROR
		|| r == BOUNCE_REASON_SYSTEM_ERROR
		|| r == BOUNCE_REASON_EXPIRED)) {
		r = BOUNCE_REASON_POLICY_REJECTED;
		snprintf(note, sizeof(note), "; 5xx after DATA, no cause named");
	}
	/* Symantec MessageLabs refuses unknown recipients "542 <a@b> Rejected" */
	if (r == BOUNCE_REASON_OTHER && in->diag != NULL
	    && reply_code(in->diag, in->dlen) == 542
	    && find_row_text(in->diag, in->dlen, "rejected")) {
		r = BOUNCE_REASON_USER_UNKNOWN;
		if (why != NULL && cap > 0)
			snprintf(why, cap, "reply 542 Rejected (MessageLabs)");
	}
	/* RFC 5321 4.2.3: 451 "local error in processing", said alone */
	if (r == BOUNCE_REASON_OTHER && in->diag != NULL
	    && reply_code(in->diag, in->dlen) == 451) {
		r = BOUNCE_REASON_SYSTEM_ERROR;
		if (why != NULL && cap > 0)
			snprintf(why, cap, "reply 451 (RFC 5321 local error)");
	}
	/* nothing more specific: the MTA gave up, or is still trying */
	if (r == BOUNCE_REASON_OTHER
	    && (strcmp(action, "delayed") == 0
		|| (strcmp(action, "failed") == 0 && (status[0] == '4'
			|| (status[0] == '\0' && in->diag != NULL
			    && reply_code(in->diag, in->dlen) / 100 == 4))))) {
		r = BOUNCE_REASON_EXPIRED;
		if (why != NULL && cap > 0 && why[0] == '\0')
			snprintf(why, cap, "%s", status[0] == '4'
				 ? "temporary status, gave up" : "delayed");
	}
	if (note[0] != '\0' && why != NULL && cap > 0) {
		a = strlen(why);
		snprintf(why + a, cap - a, "%s", a ? note : note + 2);
	}
	return r;
}

/* bounce_class_of - hard only for an address or domain that is dead */
enum bounce_class
bounce_class_of(enum bounce_reason reason, const char *action,
		const char *status)
{
	if (action == NULL || (strcmp(action, "failed") != 0
			       && strcmp(action, "delayed") != 0))
		return BOUNCE_CLASS_NONE;
	if (strcmp(action, "delayed") == 0)
		return BOUNCE_CLASS_SOFT;
	if (reason == BOUNCE_REASON_USER_UNKNOWN)
		return BOUNCE_CLASS_HARD;
	/* a 4.x.x "no MX" may be a DNS hiccup: RFC 7505 null MX is 5.1.10 */
	if (reason == BOUNCE_REASON_DOMAIN_UNKNOWN
	    && (status == NULL || status[0] != '4'))
		return BOUNCE_CLASS_HARD;
	return BOUNCE_CLASS_SOFT;
}
