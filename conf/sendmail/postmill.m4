dnl # postmill.m4 - attach postmill's four milters to Sendmail 8.14+ (tested with 8.17.1.9).
dnl #
dnl # Put these lines into sendmail.mc before the MAILER lines (or include this file there:
dnl # include(`/etc/mail/postmill.m4')), rebuild sendmail.cf (Debian: sendmailconfig;
dnl # elsewhere m4 sendmail.mc > sendmail.cf) and restart Sendmail. README.md, section
dnl # "Attaching postmill to an existing Sendmail", explains each choice. Lines starting with
dnl # "dnl" are comments: sendmail's cf.m4 turns m4's "#" comments off.
dnl #
dnl # Sockets: the daemons' default *_socket is unix:/run/postmill/NAME.sock; Sendmail writes
dnl # unix sockets as local:/path, TCP ones as inet:PORT@127.0.0.1. Sendmail refuses a socket
dnl # in a group- or world-writable directory ("unsafe"): keep /run/postmill 0755 or 0750.
dnl # Sendmail's daemon runs as root, so socket_group does not matter to it.
dnl #
dnl # Order: Sendmail runs the filters in the order of the INPUT_MAIL_FILTER lines, like
dnl # Postfix's smtpd_milters: postmill-auth (inbound verdicts), postmill-bounce (tags the
dnl # envelope sender; adds X-Postmill-Ref, Feedback-ID and a tenant's RFC 8058
dnl # List-Unsubscribe and List-Unsubscribe-Post), postmill-dkim (signs), postmill-limit LAST:
dnl # a filter after it could reject mail it has already counted, and Sendmail does not tell
dnl # earlier filters why the transaction ended.
dnl # postmill-bounce must come before postmill-dkim: RFC 8058 section 3 wants the one-click
dnl # headers covered by the DKIM signature. Sendmail 8.14+ (milter_data) sends the header,
dnl # body and end of message to one filter at a time, and a filter's added headers go into
dnl # the message before the next filter is sent its headers: as under Postfix, a later
dnl # filter sees what earlier ones added (tests/e2e/test_sendmail.py checks both orders:
dnl # with postmill-dkim first the signature passes but leaves List-Unsubscribe unsigned).
dnl #
dnl # Failure mode: F=T makes Sendmail answer 4xx (the sender retries) while a filter is down or
dnl # times out, as Postfix's milter_default_action = tempfail; F=R would answer 5xx (reject);
dnl # no F= flag at all lets the mail through unfiltered (milter_default_action = accept).
dnl # T= timeouts as Postfix's milter_connect_timeout (C, 10s), milter_command_timeout (S and R,
dnl # 30s) and milter_content_timeout (E, 5m: the whole end-of-message exchange).
dnl #
dnl # Macros: Sendmail sends only the macros listed here, stage by stage (Postfix has its own
dnl # lists). What postmill reads, and where:
dnl #   connect  j (postmill-auth's authserv-id when auth_authserv_id is empty; postmill-dkim
dnl #            qualifies bare local parts with it, as Sendmail does), v (Sendmail's version:
dnl #            postmill-dkim's dkim_mta = auto knows Sendmail by it), M (the masquerade name,
dnl #            if any), _, {daemon_name}, {client_addr}, {client_name} (the peer address itself
dnl #            comes with the connect packet)
dnl #   MAIL     i (queue id: every log line of every daemon starts with it; Sendmail has it
dnl #            from MAIL on), {auth_authen} (the SMTP AUTH login: dkim's tenant check, limit's
dnl #            sasl key, bounce's tenant), {auth_type}, {mail_addr}
dnl #   RCPT     {rcpt_addr}, {rcpt_mailer}
dnl #   EOH/EOM  i again, {msg_id} (the message's Message-Id)
dnl # The sendmail.cf option lists are comma separated and are used as is: repeat an existing
dnl # list's names here if another filter needs them.
dnl #
dnl # DKIM: Sendmail edits the message AFTER the milters ran, which breaks a signature made on
dnl # what the milters saw. These three lines turn that off where a setting exists:
dnl #   MustQuoteChars  Sendmail puts a display name holding a "." in quotes
dnl #                   (Alice Q. Sender <a@b> becomes "Alice Q. Sender" <a@b>); with it
dnl #                   empty only the characters it always quotes ("@,;:\()[]") are quoted
dnl #   SMTP_MAILER_LL  the smtp/esmtp/smtp8/dsmtp mailers break lines longer than L=
dnl #   RELAY_MAILER_LL (990, relay: 2040) by inserting "!" and a line break; 998 is the
dnl #                   limit of RFC 5321 4.5.3.1.6, so lines up to it go out whole
dnl # Sendmail also adds a missing Date: and Message-Id: after the milters: postmill-dkim
dnl # over-signs those only when present (dkim_oversign_if_present). What no setting turns
dnl # off: it writes every address field out again (a bare local part gets @$j, list elements
dnl # are joined with ", " and folded after column 78, a trailing dot leaves the domain, a
dnl # comment gets a space). postmill-dkim (dkim_mta = auto, macro v) signs those fields in
dnl # the form Sendmail will send and changes them to it (SMFIF_CHGHDRS); a field whose form
dnl # it cannot predict is left out of the signature and logged (README.md, "Sendmail").
dnl # Lines over 998 bytes Sendmail breaks its own way.
define(`confMUST_QUOTE_CHARS', `')dnl
define(`SMTP_MAILER_LL', `998')dnl
define(`RELAY_MAILER_LL', `998')dnl
dnl #
define(`confMILTER_MACROS_CONNECT', `j, v, M, _, {daemon_name}, {if_name}, {if_addr}, {client_addr}, {client_name}, {client_resolve}')dnl
define(`confMILTER_MACROS_HELO', `{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}')dnl
define(`confMILTER_MACROS_ENVFROM', `i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}')dnl
define(`confMILTER_MACROS_ENVRCPT', `{rcpt_mailer}, {rcpt_host}, {rcpt_addr}')dnl
define(`confMILTER_MACROS_EOH', `i')dnl
define(`confMILTER_MACROS_EOM', `i, {msg_id}')dnl
INPUT_MAIL_FILTER(`postmill-auth', `S=local:/run/postmill/auth.sock, F=T, T=C:10s;S:30s;R:30s;E:5m')dnl
INPUT_MAIL_FILTER(`postmill-bounce', `S=local:/run/postmill/bounce.sock, F=T, T=C:10s;S:30s;R:30s;E:5m')dnl
INPUT_MAIL_FILTER(`postmill-dkim', `S=local:/run/postmill/dkim.sock, F=T, T=C:10s;S:30s;R:30s;E:5m')dnl
INPUT_MAIL_FILTER(`postmill-limit', `S=local:/run/postmill/limit.sock, F=T, T=C:10s;S:30s;R:30s;E:5m')dnl
dnl # Or, instead of the four lines above, postmill-suite running them as modules in one
dnl # conversation, in the same order (suite_milters = auth, bounce, dkim, limit; README.md,
dnl # "One conversation"). Uncomment this line and remove the four:
dnl INPUT_MAIL_FILTER(`postmill-suite', `S=local:/run/postmill/suite.sock, F=T, T=C:10s;S:30s;R:30s;E:5m')dnl
