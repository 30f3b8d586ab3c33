"""test_sendmail - the four milters behind a real Sendmail 8.17 (harness.Sendmail: Debian 12's
sendmail-bin unpacked and run in a private mount namespace), with the shipped
conf/sendmail/postmill.m4 lines (sockets replaced), relaying to smtp-sink.

Sendmail has no XCLIENT: an outside client connects from 127.0.0.2 (internal_hosts =
127.0.0.1/32), an authenticated one logs in with real SMTP AUTH PLAIN (a sasldb).

  - postmill-dkim: a corpus signed and checked by dkimpy and Mail::DKIM (dual RSA + Ed25519,
    a second tenant with its own key, AUTH logins, an outside client not signed, a login for
    another tenant not signed); the Sendmail-specific cases: no Date, no Message-ID (Sendmail
    adds them after the milters: not over-signed when absent, dkim_oversign_if_present), a
    display name with dots (Sendmail quotes it unless MustQuoteChars is empty, as the shipped
    .m4 sets), lines of 991-998 bytes (Sendmail's default L=990 breaks them with "!"; the
    .m4 sets 998), address fields Sendmail writes out again after the milters (a bare local
    part qualified with $j, lists joined with ", " and folded after column 78, trailing dots,
    comment spacing, groups): signed in the form Sendmail sends and changed to it
    (dkim_smaddr), also under simple/simple; a field the model does not cover left out of h=,
    an unpredictable From not signed at all; lines over 998 bytes (skipped
    until postmill-dkim hands Sendmail the folded body); the milter's decision line carries
    Sendmail's queue id (macro i, sent with MAIL); the shipped macro lists stage by stage;
  - postmill-auth: Authentication-Results for inbound mail, DMARC p=reject refused at end of
    message (550 5.7.1), pass for aligned DKIM;
  - postmill-limit: per-sender quota refused at RCPT with 451 4.7.1, exact under 20
    concurrent sessions;
  - postmill-bounce: the envelope sender rewritten to a tag (SMFIF_CHGFROM, seen by the
    sink), a DSN sent back to the tag classified and the recipient suppressed (550 5.1.1 at
    RCPT);
  - RFC 8058 List-Unsubscribe of a tenant signed by postmill-dkim in the shipped order (bounce
    before dkim; with dkim first they are left unsigned);
  - all four milters in one Sendmail in the shipped order; F=T tempfails while a milter is down;
  - tests/unit/data/sendmail_addr.tsv (what Sendmail makes of ~370 address field values, the
    table dkim_smaddr_test.c checks the model against) re-measured, and every predicted form
    sent again comes back unchanged.
"""

import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from test_dkim import DOMAIN, OTHER, DkimStack, pick  # noqa: E402
import test_auth  # noqa: E402
import test_bounce  # noqa: E402
import dkim  # noqa: E402

OUTSIDE = '127.0.0.2'      # a client outside internal_hosts (127.0.0.1/32)
SANITIZER = r'runtime error|AddressSanitizer|LeakSanitizer|worker killed|worker exited'


def assert_clean(tc, milters, stop=False):
    """No sanitizer report in the milters' logs; with STOP, stop them first (a leak report is
    written at exit) and require exit status 0."""
    for m in milters:
        if stop:
            m.stop()
            tc.assertEqual(m.returncode, 0, '%s exit status; log:\n%s' % (m.name, h.tail(m.logfile)))
        tc.assertNotRegex(m.log(), SANITIZER, m.name)
USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}


LINE995 = 'y' * 995
CORPUS = {
    # marker: (from header, client, body, extra headers, drop)
    'plain': ('alice@%s' % DOMAIN, 'internal', 'Hello.\r\nPlain text.\r\n', [], ()),
    'multipart': ('alice@%s' % DOMAIN, 'internal',
                  '--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
                  '--b1\r\nContent-Type: application/octet-stream\r\n'
                  'Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b1--\r\n',
                  [('MIME-Version', '1.0'),
                   ('Content-Type', 'multipart/mixed; boundary="b1"')], ()),
    'eightbit': ('alice@%s' % DOMAIN, 'internal',
                 'Gr\u00fc\u00dfe aus K\u00f6ln \u2713\r\n',
                 [('MIME-Version', '1.0'), ('Content-Type', 'text/plain; charset=utf-8'),
                  ('Content-Transfer-Encoding', '8bit')], ()),
    'emptybody': ('alice@%s' % DOMAIN, 'internal', '', [], ()),
    'nodate': ('alice@%s' % DOMAIN, 'internal', 'No Date field.\r\n', [], ('Date',)),
    'nomsgid': ('alice@%s' % DOMAIN, 'internal', 'No Message-ID field.\r\n', [],
                ('Message-ID',)),
    'neither': ('alice@%s' % DOMAIN, 'internal', 'Neither Date nor Message-ID.\r\n', [],
                ('Date', 'Message-ID')),
    'dots': ('Alice Q. Sender <alice@%s>' % DOMAIN, 'internal', 'Dots in the phrase.\r\n',
             [('Cc', 'J. R. Bob <bob@example.net>, "Quoted. Name" <q@example.net>')], ()),
    'unqualified': ('alice@%s' % DOMAIN, 'internal', 'Bare address in To.\r\n',
                    [('Cc', 'carol, dave@example.net')], ()),
    'line995': ('alice@%s' % DOMAIN, 'internal', LINE995 + '\r\nshort\r\n' + 'z' * 998 + '\r\n',
                [], ()),
    'nospace': ('alice@%s' % DOMAIN, 'internal', 'Address list without spaces.\r\n',
                [('Cc', 'one@example.net,two@example.net,<three@example.net>')], ()),
    'group': ('alice@%s' % DOMAIN, 'internal', 'Group syntax.\r\n',
              [('Cc', 'undisclosed-recipients:;'), ('Reply-To', 'list: a@example.net, b@example.net;')], ()),
    'longcc': ('alice@%s' % DOMAIN, 'internal', 'A long Cc.\r\n',
               [('Cc', ', '.join('"Person %d" <person%d@example.net>' % (i, i) for i in range(12)))], ()),
    'comments': ('Alice (the sender) <alice@%s>' % DOMAIN, 'internal', 'Comments.\r\n',
                 [('Cc', 'bob@example.net (Bob), "Carol, Q." <carol@example.net>')], ()),
    'longlines': ('alice@%s' % DOMAIN, 'internal', 'x' * 1500 + '\r\nshort\r\n', [], ()),
    'authenticated': ('alice@%s' % DOMAIN, 'alice', 'From an authenticated client.\r\n', [], ()),
    'authoutside': ('alice@%s' % DOMAIN, 'alice@outside', 'AUTH from outside.\r\n', [], ()),
    'tenant2': ('bob@%s' % OTHER, 'bob@outside', 'Second tenant, own key.\r\n', [], ()),
    'external': ('alice@%s' % DOMAIN, 'external', 'Unauthenticated outside client.\r\n', [], ()),
    'crosstenant': ('alice@%s' % DOMAIN, 'bob@outside', 'Bob writes as Alice.\r\n', [], ()),
    # address fields Sendmail writes out again (dkim_smaddr): signed in its form
    'trailingdot': ('alice@%s' % DOMAIN, 'internal', 'Trailing dots.\r\n',
                    [('Cc', 'a@example.net., <b@example.net.>'), ('Reply-To', 'r@example.net.')], ()),
    'cmtspacing': ('alice@%s' % DOMAIN, 'internal', 'Comments without spaces.\r\n',
                     [('Cc', '(c)a@example.net,b@example.net(x) ,  c@example.net')], ()),
    'barereply': ('alice@%s' % DOMAIN, 'internal', 'Bare Reply-To and Sender.\r\n',
                  [('Reply-To', 'alice'), ('Sender', 'Alice <alice>')], ()),
    'unpredictable': ('alice@%s' % DOMAIN, 'internal', 'A field Sendmail may rewrite.\r\n',
                      [('Cc', 'a@[192.0.2.1]')], ()),
    'quotedpair': ('"Alice \\"A\\" Q." <alice@%s>' % DOMAIN, 'internal', 'Quoted-pairs.\r\n',
                   [('Cc', 'b@example.net (x\\) y),c@example.net')], ()),
    'fromunpredictable': ('Alice <@relay.example.net:alice@%s>' % DOMAIN, 'internal',
                          'A From the model does not cover.\r\n', [], ()),
}


def dkim_setup(cls, prefix, extra_conf, corpus):
    """One Sendmail + postmill-dkim (EXTRA_CONF added to its configuration) for the class CLS;
    CORPUS sent once: cls.sent[marker] = (message, queue id), cls.deliveries."""
    cls.wd = h.Workdir(prefix=prefix)
    cls.addClassCleanup(cls.wd.cleanup)
    cls.stack = DkimStack(cls.wd, 'internal_hosts = 127.0.0.1/32\n' + extra_conf)
    st = cls.stack
    st.sink = h.Sink(cls.wd)
    st.sink.start()
    cls.addClassCleanup(st.sink.stop)
    st.milter = h.MilterProcess(cls.wd, [h.binary('postmill-dkim'), '-f', '-c', st.conf],
                                'unix:' + st.sock)
    st.milter.start()
    cls.addClassCleanup(st.milter.stop)
    cls.sm = h.Sendmail(cls.wd, st.sink.port, milters={'dkim': 'unix:' + st.sock}, sasl_users=USERS)
    cls.sm.start()
    cls.addClassCleanup(cls.sm.stop)
    cls.sent = {}
    for marker, (from_hdr, client, body, extra, drop) in corpus.items():
        msg = h.make_message(subject='corpus ' + marker, from_addr=from_hdr, body=body, headers=extra)
        for name in drop:
            msg = re.sub(rb'(?m)^' + name.encode() + rb': [^\r]*\r\n', b'', msg, count=1)
        if marker == 'unqualified':
            msg = msg.replace(b'To: rcpt@example.net', b'To: bob', 1)
        auth = source = None
        login, _, where = client.partition('@')
        if login in USERS:
            auth = (login, USERS[login])
        if client == 'external' or where == 'outside':
            source = OUTSIDE
        r = h.send(cls.sm.port, 'bounce@%s' % DOMAIN, ['rcpt@example.net'], msg, auth=auth,
                   source=source, timeout=120)
        if not r.accepted:
            raise AssertionError('%s not accepted: %r\n%s' % (marker, r, h.tail(cls.sm.log(), 20)))
        cls.sent[marker] = (msg, r.queue_id)
    cls.deliveries = st.sink.wait_for(len(corpus), timeout=120)


class SendmailDkimTest(unittest.TestCase):
    """One Sendmail + postmill-dkim for the class; a corpus sent once; one test per case."""

    EXTRA_CONF = ''

    @classmethod
    def setUpClass(cls):
        dkim_setup(cls, 'pm-smdkim-', cls.EXTRA_CONF, CORPUS)

    def delivery(self, marker):
        return pick(self.deliveries, 'corpus ' + marker)

    def milter_line(self, queue_id):
        lines = [l for l in self.stack.milter.log().splitlines()
                 if re.search(r'\b%s: dkim: action=' % re.escape(queue_id), l)]
        self.assertEqual(len(lines), 1, 'decision lines for %s: %r\n%s'
                         % (queue_id, lines, h.tail(self.stack.milter.log())))
        return lines[0]

    def assert_signed(self, marker, want):
        """WANT: list of (domain, selector, algorithm), topmost signature first."""
        d = self.delivery(marker)
        got = h.verify_dkimpy(d.raw, self.stack.keys)
        self.assertEqual([(r.domain, r.selector, r.algorithm) for r in got], want, got)
        for r in got:
            self.assertEqual(r.result, 'pass', 'dkimpy: %r\n%s' % (got, d.raw[:1500]))
        perl = h.verify_mail_dkim(d.raw, self.stack.keys)
        self.assertEqual(len(perl), len(want), perl)
        for r in perl:
            if r.algorithm == 'ed25519-sha256':
                self.assertIn(r.result, ('pass', 'unsupported'), 'Mail::DKIM: %r' % perl)
            else:
                self.assertEqual(r.result, 'pass', 'Mail::DKIM: %r' % perl)
        line = self.milter_line(self.sent[marker][1])
        self.assertIn('action=sign', line)
        return d

    def assert_unsigned(self, marker, reason):
        d = self.delivery(marker)
        self.assertEqual(d.header('DKIM-Signature'), [], d.raw[:600])
        line = self.milter_line(self.sent[marker][1])
        self.assertIn('action=skip reason=%s' % reason, line)
        return line

    DUAL = [(DOMAIN, 's1', 'rsa-sha256'), (DOMAIN, 'e1', 'ed25519-sha256')]

    @staticmethod
    def hlist(d):
        sig = d.header('DKIM-Signature')[0]
        return re.search(r'h=([^;]*);', re.sub(r'\s+', '', sig)).group(1).split(':')

    def test_plain_text(self):
        self.assert_signed('plain', self.DUAL)

    def test_multipart(self):
        self.assert_signed('multipart', self.DUAL)

    def test_eight_bit_body(self):
        d = self.assert_signed('eightbit', self.DUAL)
        self.assertIn('K\u00f6ln'.encode(), d.raw)

    def test_empty_body(self):
        self.assert_signed('emptybody', self.DUAL)

    def test_missing_date_added_by_sendmail(self):
        """Sendmail adds Date after the milters: the signature must not sign its absence."""
        d = self.assert_signed('nodate', self.DUAL)
        self.assertEqual(len(d.header('Date')), 1, 'Sendmail added a Date field')
        self.assertNotIn('date', self.hlist(d))
        self.assertEqual(self.hlist(d).count('from'), 2)

    def test_missing_message_id_added_by_sendmail(self):
        d = self.assert_signed('nomsgid', self.DUAL)
        self.assertEqual(len(d.header('Message-Id') or d.header('Message-ID')), 1)
        self.assertNotIn('message-id', self.hlist(d))

    def test_missing_date_and_message_id(self):
        d = self.assert_signed('neither', self.DUAL)
        self.assertEqual(len(d.header('Date')), 1)

    def test_present_date_still_over_signed(self):
        d = self.delivery('plain')
        self.assertEqual(self.hlist(d).count('date'), 2)
        self.assertEqual(self.hlist(d).count('message-id'), 2)

    def test_display_name_with_dots_not_quoted(self):
        """Sendmail quotes a phrase with '.' (MustQuoteChars) after the milters, unless the
        shipped .m4 empties MustQuoteChars: the fields arrive as sent and verify."""
        d = self.assert_signed('dots', self.DUAL)
        self.assertEqual(d.header('From'), ['Alice Q. Sender <alice@%s>' % DOMAIN])

    def test_unqualified_address_qualified_and_signed(self):
        """Sendmail qualifies a bare local part in an address field after the milters (To: bob
        becomes To: bob@$j, by the mailer's header rulesets; no option turns that off):
        postmill-dkim signs that form and changes the fields to it (smfi_chgheader)."""
        d = self.assert_signed('unqualified', self.DUAL)
        self.assertIn(b'\r\nTo: bob@mail.sendmail.test\r\n', d.raw)
        self.assertIn(b'\r\nCc: carol@mail.sendmail.test, dave@example.net\r\n', d.raw)
        self.assertIn('to', self.hlist(d))
        self.assertIn('cc', self.hlist(d))
        self.assertIn(' sendmail_form=2', self.milter_line(self.sent['unqualified'][1]))

    def test_bare_reply_to_and_sender(self):
        d = self.assert_signed('barereply', self.DUAL)
        self.assertEqual(d.header('Reply-To'), ['alice@mail.sendmail.test'])
        self.assertEqual(d.header('Sender'), ['Alice <alice@mail.sendmail.test>'])
        self.assertIn('reply-to', self.hlist(d))
        self.assertIn('sender', self.hlist(d))

    def test_lines_of_991_to_998_bytes(self):
        """Sendmail's esmtp mailer breaks lines over L= (990 by default) with '!'; the shipped
        .m4 sets L=998 (RFC 5321's limit): those lines go out whole and verify."""
        d = self.assert_signed('line995', self.DUAL)
        self.assertEqual([len(l) for l in d.body().split(b'\r\n')], [995, 5, 998, 0])

    def test_address_lists(self):
        """Address fields Sendmail parses and writes out again after the milters (commaize):
        group syntax, a long list, comments and quoted commas come out as they went in."""
        for marker in ('group', 'longcc', 'comments'):
            with self.subTest(marker=marker):
                self.assert_signed(marker, self.DUAL)

    def test_list_without_spaces(self):
        """Sendmail joins the addresses of a list with ", " when it writes the field out, after
        the milters ("a@x,b@y" becomes "a@x, b@y", which relaxed canonicalization does not
        undo): postmill-dkim signs the joined form."""
        d = self.assert_signed('nospace', self.DUAL)
        self.assertIn(b'\r\nCc: one@example.net, two@example.net, <three@example.net>\r\n', d.raw)
        self.assertIn('cc', self.hlist(d))

    def test_trailing_dots_and_comment_spaces(self):
        d = self.assert_signed('trailingdot', self.DUAL)
        self.assertEqual(d.header('Cc'), ['a@example.net, <b@example.net>'])
        self.assertEqual(d.header('Reply-To'), ['r@example.net'])
        d = self.assert_signed('cmtspacing', self.DUAL)
        self.assertEqual(d.header('Cc'), ['(c) a@example.net, b@example.net (x), c@example.net'])

    def test_quoted_pairs(self):
        d = self.assert_signed('quotedpair', self.DUAL)
        self.assertEqual(d.header('From'), ['"Alice \\"A\\" Q." <alice@%s>' % DOMAIN])
        self.assertEqual(d.header('Cc'), ['b@example.net (x\\) y), c@example.net'])

    def test_unpredictable_field_not_signed(self):
        """A field whose form the model does not cover (a domain literal) is left out of h=
        and the reason logged; the rest of the message is signed and verifies."""
        d = self.assert_signed('unpredictable', self.DUAL)
        self.assertNotIn('cc', self.hlist(d))
        self.assertIn('from', self.hlist(d))
        qid = re.escape(self.sent['unpredictable'][1])
        self.stack.milter.wait_log(r'%s: dkim: field=Cc not signed: Sendmail rewrites it' % qid)

    def test_unpredictable_from_not_signed(self):
        """From in a form the model does not cover (an obsolete source route): a signature
        without From is none, so the message is unsignable (dkim_unsignable_action, here
        accept)."""
        self.assert_unsigned('fromunpredictable', 'from_rewritten_by_mta')
        qid = re.escape(self.sent['fromunpredictable'][1])
        self.stack.milter.wait_log(r'%s: dkim: field=From not signed: .*\(colon inside an address' % qid)

    def test_lines_over_998_bytes(self):
        """A line over 998 bytes: Sendmail breaks it its own way (998 bytes, "!", CRLF, the
        rest), not as Postfix does (CRLF SPACE), which postmill-dkim's dkim_line_limit hashes.
        It verifies once postmill-dkim hands the MTA the folded body itself (smfi_replacebody):
        then no line is over the limit and Sendmail changes nothing."""
        d = self.delivery('longlines')
        lens = [len(l) for l in d.body().split(b'\r\n')]
        self.assertLessEqual(max(lens), 998, 'Sendmail had to break a line: %r' % lens)
        self.assertNotIn(b'!\r\n', d.body())
        self.assert_signed('longlines', self.DUAL)

    def test_authenticated_client(self):
        self.assert_signed('authenticated', self.DUAL)
        self.assertIn('login=alice', self.milter_line(self.sent['authenticated'][1]))

    def test_authenticated_outside_client(self):
        self.assert_signed('authoutside', self.DUAL)

    def test_second_tenant_own_key(self):
        self.assert_signed('tenant2', [(OTHER, 't2', 'rsa-sha256')])

    def test_external_client_not_signed(self):
        self.assert_unsigned('external', 'external_client')

    def test_login_for_another_tenant_not_signed(self):
        line = self.assert_unsigned('crosstenant', 'login_not_allowed')
        self.assertIn('login=bob', line)

    def test_zz_milter_clean(self):
        assert_clean(self, [self.stack.milter], stop=True)

    def test_queue_id_is_sendmails(self):
        """Every decision line starts with Sendmail's queue id (macro i at MAIL)."""
        for marker, (_, qid) in self.sent.items():
            self.assertRegex(qid, r'^[0-9A-Za-z]{14}$', marker)
            self.milter_line(qid)



class SendmailDkimSimpleTest(unittest.TestCase):
    """The address cases under dkim_canonicalization = simple/simple: the signed header bytes
    must equal what Sendmail sends byte for byte (spaces, folding after column 78), which
    relaxed canonicalization would partly forgive."""

    MARKERS = ('plain', 'unqualified', 'nospace', 'group', 'longcc', 'comments', 'dots',
               'trailingdot', 'cmtspacing', 'barereply', 'unpredictable', 'quotedpair')

    @classmethod
    def setUpClass(cls):
        dkim_setup(cls, 'pm-smdkims-', 'dkim_canonicalization = simple/simple\n',
                   {m: CORPUS[m] for m in cls.MARKERS})

    def test_signed_fields_verify(self):
        for marker in self.MARKERS:
            with self.subTest(marker=marker):
                d = pick(self.deliveries, 'corpus ' + marker)
                got = h.verify_dkimpy(d.raw, self.stack.keys)
                self.assertEqual([(r.selector, r.result) for r in got], [('s1', 'pass'), ('e1', 'pass')],
                                 d.raw[:2000])
                perl = h.verify_mail_dkim(d.raw, self.stack.keys)
                self.assertEqual(perl[0].result, 'pass', perl)
                self.assertIn('c=simple/simple', re.sub(r'\s+', '', d.header('DKIM-Signature')[0]))

    def test_long_list_folded_as_sendmail_does(self):
        d = pick(self.deliveries, 'corpus longcc')
        self.assertIn(b'\r\nCc: "Person 0" <person0@example.net>, "Person 1" <person1@example.net>,'
                      b'\r\n        "Person 2" <person2@example.net>', d.raw)

    def test_zz_milter_clean(self):
        assert_clean(self, [self.stack.milter], stop=True)


class SendmailDkimForcedPostfixTest(unittest.TestCase):
    """dkim_mta = postfix behind Sendmail: the fields are signed as received, and Sendmail's
    rewriting breaks the signature over a bare address (what dkim_mta = auto prevents);
    mail whose fields Sendmail leaves alone verifies."""

    @classmethod
    def setUpClass(cls):
        dkim_setup(cls, 'pm-smdkimp-', 'dkim_mta = postfix\n',
                   {m: CORPUS[m] for m in ('plain', 'unqualified')})

    def test_forced_postfix_signs_what_it_saw(self):
        d = pick(self.deliveries, 'corpus plain')
        self.assertEqual([r.result for r in h.verify_dkimpy(d.raw, self.stack.keys)], ['pass', 'pass'])
        d = pick(self.deliveries, 'corpus unqualified')
        self.assertIn(b'\r\nTo: bob@mail.sendmail.test\r\n', d.raw)
        self.assertEqual([r.result for r in h.verify_dkimpy(d.raw, self.stack.keys)], ['fail', 'fail'])
        self.assertNotIn('sendmail_form', self.stack.milter.log())

    def test_zz_milter_clean(self):
        assert_clean(self, [self.stack.milter], stop=True)


def common_conf(wd, name, lines):
    """WD/NAME.conf readable by the postmill group: run_user, internal_hosts and LINES."""
    conf = wd.write(name + '.conf', '\n'.join(['run_user = postmill', 'socket_group = postfix',
                                               'internal_hosts = 127.0.0.1/32'] + list(lines)) + '\n',
                    mode=0o640)
    os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
    return conf


class SendmailAuthTest(unittest.TestCase):
    """postmill-auth behind Sendmail: inbound mail from an outside client (127.0.0.2) gets
    Authentication-Results; DMARC p=reject refuses at end of message."""

    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-smauth-')
        cls.addClassCleanup(cls.wd.cleanup)
        wd = cls.wd
        keys = wd.mkdir('keys', 0o700)
        cls.rsa, rsa_txt = h.gen_rsa_key(keys, 'rsa', 2048)
        cls.rsa_pem = open(cls.rsa, 'rb').read()
        keymap = {('s1', d): rsa_txt for d in ('rej.dm.test', 'mail.rej.dm.test', 'quar.dm.test')}
        cls.knot = h.Knot(wd, {'dm.test': test_auth.zone_text(keymap), 'sp.test': test_auth.SP_ZONE})
        cls.knot.start()
        cls.addClassCleanup(cls.knot.stop)
        cls.sink = h.Sink(wd)
        cls.sink.start()
        cls.addClassCleanup(cls.sink.stop)
        sock = wd.path('auth.sock')
        conf = common_conf(wd, 'auth', ['auth_socket = unix:' + sock, 'auth_pid_file = ' + wd.path('auth.pid'),
                                        'auth_authserv_id = ' + test_auth.ID,
                                        'dns_resolver = ' + cls.knot.server])
        cls.milter = h.MilterProcess(wd, [h.binary('postmill-auth'), '-f', '-c', conf], 'unix:' + sock)
        cls.milter.start()
        cls.addClassCleanup(cls.milter.stop)
        cls.sm = h.Sendmail(wd, cls.sink.port, milters={'auth': 'unix:' + sock})
        cls.sm.start()
        cls.addClassCleanup(cls.sm.stop)

    def sign(self, msg, dom):
        return dkim.sign(msg, b's1', dom.encode(), self.rsa_pem,
                         include_headers=[b'from', b'to', b'subject', b'date']) + msg

    def send(self, msg, sender='bounce@example.net', source=OUTSIDE):
        return h.send(self.sm.port, sender, ['rcpt@example.net'], msg, source=source,
                      ehlo='client.example.net')

    def delivered(self, r):
        self.assertTrue(r.accepted, r)
        qid = ('id %s' % r.queue_id).encode()
        return h.wait_until(lambda: next((d for d in self.sink.messages() if qid in d.raw), None),
                            what='delivery of %s' % r.queue_id)

    def ours(self, d):
        ars = d.header('Authentication-Results')
        mine = [a for a in ars if re.match(r'%s\s*;' % re.escape(test_auth.ID), a, re.I)]
        self.assertEqual(len(mine), 1, ars)
        return re.sub(r'\s+', ' ', mine[0])

    def test_dkim_pass_dmarc_pass(self):
        r = self.send(self.sign(h.make_message(from_addr='a@rej.dm.test', subject='signed'), 'rej.dm.test'))
        d = self.delivered(r)
        ar = self.ours(d)
        self.assertIn('dkim=pass', ar)
        self.assertIn('header.d=rej.dm.test header.s=s1 header.a=rsa-sha256', ar)
        self.assertIn('dmarc=pass header.from=rej.dm.test policy.dmarc=reject', ar)
        # exactly one space after the colon, as Postfix writes it: the field was inserted with
        # the leading space the milter negotiated (SMFIP_HDR_LEADSPC)
        self.assertRegex(d.raw, rb'(?m)^Authentication-Results: %s;' % re.escape(test_auth.ID.encode()))
        self.milter.wait_log(r'%s: auth: ' % re.escape(r.queue_id))

    def test_dmarc_reject_at_end_of_message(self):
        r = self.send(h.make_message(from_addr='a@rej.dm.test', subject='forged'))
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('5.7.1', r.data[1])
        self.assertIn('rej.dm.test', r.data[1])

    def test_altered_body_rejected(self):
        m = self.sign(h.make_message(from_addr='a@rej.dm.test'), 'rej.dm.test').replace(b'Hello.', b'Hello!')
        r = self.send(m)
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'dkim=fail:rej\.dm\.test:s1')

    def test_quarantine(self):
        r = self.send(h.make_message(from_addr='a@quar.dm.test', subject='quarantined'))
        self.assertTrue(r.accepted, r)
        self.milter.wait_log(r'%s: auth: action=quarantine' % re.escape(r.queue_id))
        # Sendmail keeps a quarantined message in its queue (qf "q" line), it is not delivered
        self.sm.wait_log(r'%s: milter=postmill-auth, quarantine=DMARC policy of quar\.dm\.test'
                         % re.escape(r.queue_id))

    def test_zz_milter_clean(self):
        assert_clean(self, [self.milter], stop=True)

    def test_internal_client_not_checked(self):
        d = self.delivered(self.send(h.make_message(from_addr='a@rej.dm.test', subject='inside'),
                                     source=None))
        self.assertEqual([a for a in d.header('Authentication-Results')
                          if a.lower().startswith(test_auth.ID)], [])


class SendmailLimitTest(h.E2ETestCase):
    """postmill-limit behind Sendmail: {auth_authen} from real SMTP AUTH is the sasl key."""

    def stack(self, rules, users):
        self.redis_ = self.redis()
        self.sink_ = self.sink()
        sock = self.wd.path('limit.sock')
        rules_path = self.wd.write('limit.rules', rules)
        conf = common_conf(self.wd, 'limit', ['limit_socket = unix:' + sock,
                                              'limit_pid_file = ' + self.wd.path('limit.pid'),
                                              'limit_rules_file = ' + rules_path,
                                              'redis_server = 127.0.0.1:%d' % self.redis_.port])
        self.milter_ = self.milter([h.binary('postmill-limit'), '-f', '-c', conf], 'unix:' + sock,
                                   name='limit')
        self.sm = self.sendmail(self.sink_, milters={'limit': 'unix:' + sock}, sasl_users=users or None)

    def send(self, login, rcpts, subject='limit test'):
        return h.send(self.sm.port, 'sender@example.test', rcpts, h.make_message(subject=subject),
                      auth=(login, login + '-pw'))

    def test_recipient_quota_refused_at_rcpt(self):
        self.stack('rc sasl recipients quota=5/1000d\n', {'carol': 'carol-pw', 'dave': 'dave-pw'})
        r1 = self.send('carol', ['a@example.net', 'b@example.net', 'c@example.net'])
        self.assertEqual([c for _, c, _ in r1.rcpt], [250, 250, 250])
        self.assertTrue(r1.accepted)
        r2 = self.send('carol', ['d@example.net', 'e@example.net', 'f@example.net'])
        self.assertEqual([c for _, c, _ in r2.rcpt], [250, 250, 451], r2)
        self.assertIn('4.7.1 Sending quota exceeded: 5 recipients per 1000d (rule rc); try again in',
                      r2.rcpt[2][2])
        self.assertTrue(r2.accepted)
        r3 = self.send('carol', ['g@example.net'])
        self.assertEqual([c for _, c, _ in r3.rcpt], [451])
        self.assertIsNone(r3.data)
        r4 = self.send('dave', ['a@example.net', 'b@example.net'])
        self.assertEqual([c for _, c, _ in r4.rcpt], [250, 250])
        log = self.milter_.log()
        # Sendmail's queue id (mixed case) starts the line: macro i arrives with MAIL
        self.assertRegex(log, r'(?m)^.*\b%s: limit: action=tempfail stage=rcpt key=sasl:carol rule=rc '
                              r'limit=1000d used=5/5 retry_after=\S+ rcpt=<f@example.net>' % re.escape(r2.queue_id))
        self.sink_.wait_for(3)
        time.sleep(0.3)
        self.assertEqual(sorted(len(d.rcpts) for d in self.sink_.messages()), [2, 2, 3])
        assert_clean(self, [self.milter_], stop=True)

    def test_sender_quota_without_auth(self):
        """A rule keyed on the envelope sender ({mail_addr}): no login needed."""
        self.stack('ps sender recipients quota=2/1000d\n', {})
        msg = h.make_message(subject='sender quota')
        r = h.send(self.sm.port, 'Frank@Example.TEST', ['a@example.net', 'b@example.net', 'c@example.net'], msg)
        self.assertEqual([c for _, c, _ in r.rcpt], [250, 250, 451], r)
        self.assertIn('4.7.1 Sending quota exceeded: 2 recipients per 1000d (rule ps)', r.rcpt[2][2])
        self.assertTrue(r.accepted, r)
        r = h.send(self.sm.port, 'grace@example.test', ['a@example.net'], msg)
        self.assertEqual([c for _, c, _ in r.rcpt], [250], r)
        self.milter_.wait_log(r'limit: action=tempfail stage=rcpt key=sender:frank@example.test rule=ps')
        assert_clean(self, [self.milter_], stop=True)

    def test_exact_under_concurrency(self):
        """20 sessions at once, 60 messages, a quota of 25: exactly 25 accepted and delivered."""
        self.stack('exact sasl messages quota=25/1000d\n', {'erin': 'erin-pw'})
        results, lock = [], threading.Lock()
        todo = list(range(60))

        def worker():
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                r = self.send('erin', ['r%d@example.net' % i], subject='exact %d' % i)
                with lock:
                    results.append(r)
        threads = [threading.Thread(target=worker) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertEqual(len(results), 60)
        self.assertEqual([r for r in results if r.error], [])
        accepted = [r for r in results if r.accepted]
        self.assertEqual(len(accepted), 25, 'exactly the quota is admitted')
        for r in results:
            if not r.accepted:
                # the message is reserved, and refused, with its first recipient: no DATA
                self.assertIsNone(r.data, r)
                self.assertEqual(r.rcpt[0][1], 451, r)
                self.assertIn('4.7.1 Sending quota exceeded: 25 messages per 1000d (rule exact)', r.rcpt[0][2])
        keys = self.redis_.cli('KEYS', 'pmlimit:{sasl:erin}:exact:messages:1000d:*').split()
        self.assertEqual(len(keys), 1)
        self.assertEqual(self.redis_.cli('GET', keys[0]), '25')
        self.sink_.wait_for(25, timeout=60)
        time.sleep(0.5)
        self.assertEqual(len(self.sink_.messages()), 25)
        assert_clean(self, [self.milter_], stop=True)


class SendmailBounceTest(h.E2ETestCase):
    """postmill-bounce behind Sendmail: the envelope sender becomes b-TAG@bounces.test
    (SMFIF_CHGFROM), a DSN sent back to the tag is classified and suppresses the recipient."""

    def stack(self):
        self.redis_srv = self.redis()
        self.sink_ = self.sink()
        sock = self.wd.path('bounce.sock')
        secret = test_bounce.secret_file(self.wd, 'bounce.secret')
        conf = common_conf(self.wd, 'bounce', [
            'bounce_socket = unix:' + sock, 'bounce_pid_file = ' + self.wd.path('bounce.pid'),
            'bounce_domain = bounces.test', 'bounce_secret_files = ' + secret,
            'redis_server = 127.0.0.1:%d' % self.redis_srv.port])
        self.milter_ = self.milter([h.binary('postmill-bounce'), '-f', '-c', conf], 'unix:' + sock,
                                   name='bounce')
        self.sm = self.sendmail(self.sink_, milters={'bounce': 'unix:' + sock})

    def test_tag_bounce_suppress(self):
        self.stack()
        sender = test_bounce.SENDER
        rcpt = 'gone@remote.test'
        # an 8-bit body: Sendmail itself writes BODY=7BIT for 7-bit content
        r = h.send(self.sm.port, sender, [rcpt], h.make_message(from_addr=sender, to_addr=rcpt,
                                                                body='Gr\u00fc\u00dfe\r\n'),
                   mail_options=['BODY=8BITMIME', 'RET=HDRS', 'ENVID=env42'])
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink_.messages() if d.rcpts == [rcpt]), None),
                         what='the tagged message')
        self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
        # the client's ESMTP parameters survive the change of sender
        self.assertIn('BODY=8BITMIME', d.mail_args)
        self.assertIn('RET=HDRS', d.mail_args)
        self.assertIn('ENVID=env42', d.mail_args)
        self.milter_.wait_log(r'%s: bounce: action=tag sender=<%s>' % (re.escape(r.queue_id), re.escape(sender)))
        local = d.mail_from.split('@')[0]
        # the remote MTA's DSN comes back to the tag, from the null sender, from outside
        r = h.send(self.sm.port, '', [local + '@bounces.test'], test_bounce.dsn(local, rcpt), source=OUTSIDE)
        self.assertTrue(r.accepted, r)
        self.milter_.wait_log(r'bounce: action=record ', timeout=30)
        b = h.wait_until(lambda: next((d for d in self.sink_.messages()
                                       if d.header('X-Postmill-Bounce-Class')), None),
                         what='the classified bounce', on_timeout=lambda: h.tail(self.milter_.log()))
        self.assertEqual(b.header('X-Postmill-Bounce-Class'), ['hard'])
        self.assertEqual(b.header('X-Postmill-Bounce-Reason'), ['user_unknown'])
        self.assertEqual(b.header('X-Postmill-Bounce-Status'), ['5.1.1'])
        key = 'pmbounce:{s:%s}:sup:%s' % (sender, rcpt)
        self.assertEqual(self.redis_srv.cli('HGET', key, 'reason'), 'user_unknown')
        r = h.send(self.sm.port, sender, [rcpt], h.make_message(from_addr=sender, to_addr=rcpt))
        self.assertFalse(r.accepted)
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('5.1.1', r.rcpt[0][2])
        self.assertIn('suppressed since', r.rcpt[0][2])
        assert_clean(self, [self.milter_], stop=True)

    def test_forged_tag_refused(self):
        self.stack()
        r = h.send(self.sm.port, '', ['b-%s@bounces.test' % ('q' * 48)],
                   test_bounce.dsn('b-' + 'q' * 48, 'x@remote.test'), source=OUTSIDE)
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('5.7.1', r.rcpt[0][2])
        assert_clean(self, [self.milter_], stop=True)



class SendmailUnsubscribeTest(h.E2ETestCase):
    """RFC 8058 one-click headers behind Sendmail (a tenant with "unsubscribe") and their DKIM
    coverage (RFC 8058 section 3 requires it). In the shipped order (postmill-bounce before
    postmill-dkim) Sendmail sends postmill-dkim the headers postmill-bounce added (its
    milter_data runs one filter at a time), so both fields are in h= and the signature passes
    with dkimpy and Mail::DKIM. With postmill-dkim first the signature passes too, but leaves
    both fields unsigned: why conf/sendmail/postmill.m4 puts postmill-bounce first."""

    def stack(self, order):
        self.redis_srv = self.redis()
        self.sink_ = self.sink()
        keys = self.wd.mkdir('dkimkeys-' + order, 0o700)
        # RSA: Debian 12's Mail::DKIM cannot check Ed25519
        ed, self.ed_txt = h.gen_rsa_key(keys, 'acme', 2048)
        pm = h.pwd.getpwnam('postmill').pw_uid
        os.chown(ed, pm, -1)
        os.chown(keys, pm, -1)
        ktab = self.wd.write('key.table', 'acme acme.test:e1:%s\n' % ed)
        stab = self.wd.write('signing.table', '*@acme.test acme\n')
        tenants = self.wd.write('tenants', 'acme.test - unsubscribe\n')
        secret = test_bounce.secret_file(self.wd, 'bounce.secret')
        socks = {m: self.wd.path(m + '.sock') for m in ('dkim', 'bounce')}
        conf = common_conf(self.wd, 'postmill', [
            'bounce_domain = bounces.test', 'bounce_secret_files = ' + secret,
            'bounce_tenant_table = ' + tenants,
            'bounce_unsubscribe_url = https://unsub.provider.test/u/',
            'redis_server = 127.0.0.1:%d' % self.redis_srv.port,
            'dkim_key_table = ' + ktab, 'dkim_signing_table = ' + stab] +
            ['%s_socket = unix:%s' % (m, s) for m, s in socks.items()] +
            ['%s_pid_file = %s' % (m, self.wd.path(m + '.pid')) for m in socks])
        self.ms = [self.milter([h.binary('postmill-' + m), '-f', '-c', conf], 'unix:' + s, name=m)
                   for m, s in socks.items()]
        if order == 'shipped':
            self.sm = self.sendmail(self.sink_, milters={m: 'unix:' + s for m, s in socks.items()})
        else:
            # the order shipped before: postmill-dkim, then postmill-bounce
            lines = h.sendmail_filters({'dkim': 'unix:' + socks['dkim']}) + \
                h.sendmail_filters({'bounce': 'unix:' + socks['bounce']})
            self.sm = self.sendmail(self.sink_, mc_extra=lines)

    def signed_fields(self, rcpt):
        """Send one tenant message to RCPT: the delivered copy, the DKIM h= fields, dkimpy's results."""
        r = h.send(self.sm.port, 'news@acme.test', [rcpt],
                   h.make_message(from_addr='news@acme.test', to_addr=rcpt, subject='news for ' + rcpt))
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink_.messages() if d.rcpts == [rcpt]), None),
                         what='the message to ' + rcpt)
        self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
        self.assertEqual(len(d.header('List-Unsubscribe')), 1, d.headers())
        self.assertRegex(d.header('List-Unsubscribe')[0].strip(), r'^<https://unsub\.provider\.test/u/[A-Za-z0-9_-]+>$')
        self.assertEqual([v.strip() for v in d.header('List-Unsubscribe-Post')], ['List-Unsubscribe=One-Click'])
        sig = re.sub(r'\s+', '', ' '.join(d.header('DKIM-Signature')))
        hl = re.search(r'h=([^;]+)', sig).group(1).lower().split(':')
        got = [x.result for x in h.verify_dkimpy(d.raw, {('e1', 'acme.test'): self.ed_txt})]
        sys.stderr.write('\n--- Sendmail, %s: h=%s, dkimpy %s\n' % (rcpt, ':'.join(hl), got))
        return d, hl, got

    def test_shipped_order_signs_one_click_headers(self):
        self.stack('shipped')
        d, hl, got = self.signed_fields('reader@remote.test')
        self.assertIn('list-unsubscribe', hl)
        self.assertIn('list-unsubscribe-post', hl)
        self.assertEqual(got, ['pass'])
        self.assertEqual([x.result for x in h.verify_mail_dkim(d.raw, {('e1', 'acme.test'): self.ed_txt})][:1],
                         ['pass'])
        assert_clean(self, self.ms, stop=True)

    def test_dkim_first_leaves_them_unsigned(self):
        self.stack('dkim_first')
        d, hl, got = self.signed_fields('reader2@remote.test')
        self.assertNotIn('list-unsubscribe', hl)
        self.assertNotIn('list-unsubscribe-post', hl)
        self.assertEqual(got, ['pass'])
        assert_clean(self, self.ms, stop=True)


class SendmailMacrosTest(h.E2ETestCase):
    """What the shipped postmill.m4 makes Sendmail send, stage by stage (a recording milter in
    postmill-dkim's place), for an authenticated session."""

    def test_shipped_macro_lists(self):
        sink = self.sink()
        mm = self.macro_milter()
        sm = self.sendmail(sink, milters={'dkim': mm.spec}, sasl_users=USERS)
        r = h.send(sm.port, 'alice@%s' % DOMAIN, ['rcpt@example.net'], h.make_message(),
                   auth=('alice', USERS['alice']))
        self.assertTrue(r.accepted, r)
        h.wait_until(lambda: any(e[0] == 'eom' for e in mm.events), what='end of message at the milter')
        conn = mm.macros('connect')
        self.assertEqual(conn.get('j'), h.SENDMAIL_HOSTNAME)
        self.assertEqual(conn.get('{daemon_name}'), 'MTA')
        # Sendmail's version: postmill-dkim's dkim_mta = auto knows Sendmail by it
        self.assertRegex(conn.get('v', ''), r'^8\.17\.')
        self.assertIn(conn.get('M'), (None, ''), 'no masquerading in the test Sendmail')
        self.assertEqual(conn.get('{client_addr}'), '127.0.0.1')
        mail = mm.macros('mail')
        self.assertEqual(mail.get('i'), r.queue_id, 'the queue id is known from MAIL on')
        self.assertEqual(mail.get('{auth_authen}'), 'alice')
        self.assertEqual(mail.get('{auth_type}'), 'PLAIN')
        self.assertEqual(mail.get('{mail_addr}'), 'alice@%s' % DOMAIN)
        self.assertEqual(mm.macros('rcpt').get('{rcpt_addr}'), 'rcpt@example.net')
        self.assertEqual(mm.macros('eom').get('i'), r.queue_id)
        # the connect packet carries the peer address itself
        info = [e[1] for e in mm.events if e[0] == 'connect'][0]
        self.assertEqual(info.get('address'), '127.0.0.1')


class SendmailStackTest(unittest.TestCase):
    """All four milters in one Sendmail, in the shipped order (auth, bounce, dkim, limit), with
    one postmill.conf: outbound mail of an authenticated client is signed, tagged and counted;
    inbound mail from outside gets Authentication-Results and is neither signed nor tagged."""

    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-smstack-')
        cls.addClassCleanup(cls.wd.cleanup)
        wd = cls.wd
        cls.dk = DkimStack(wd)      # keys, key/signing tables, login map
        keys = wd.path('keys')
        cls.rsa_in, rsa_txt = h.gen_rsa_key(keys, 'in', 2048)
        cls.rsa_in_pem = open(cls.rsa_in, 'rb').read()
        cls.knot = h.Knot(wd, {'dm.test': test_auth.zone_text({('s1', 'rej.dm.test'): rsa_txt})})
        cls.knot.start()
        cls.addClassCleanup(cls.knot.stop)
        cls.redis = h.Redis(wd)
        cls.redis.start()
        cls.addClassCleanup(cls.redis.stop)
        cls.sink = h.Sink(wd)
        cls.sink.start()
        cls.addClassCleanup(cls.sink.stop)
        socks = {m: wd.path(m + '.sock') for m in ('auth', 'dkim', 'bounce', 'limit')}
        rules = wd.write('limit.rules', 'day sasl messages quota=1000/1d\n')
        secret = test_bounce.secret_file(wd, 'bounce.secret')
        with open(cls.dk.conf) as f:
            dkim_lines = [l for l in f.read().splitlines()
                          if l.startswith('dkim_') and not l.startswith(('dkim_socket', 'dkim_pid_file'))]
        lines = dkim_lines + ['dns_resolver = ' + cls.knot.server,
                              'redis_server = 127.0.0.1:%d' % cls.redis.port,
                              'auth_authserv_id = ' + test_auth.ID,
                              'bounce_domain = bounces.test', 'bounce_secret_files = ' + secret,
                              'limit_rules_file = ' + rules]
        for m, sock in socks.items():
            lines += ['%s_socket = unix:%s' % (m, sock), '%s_pid_file = %s' % (m, wd.path(m + '.pid'))]
        conf = common_conf(wd, 'postmill', lines)
        cls.milters = {}
        for m, sock in socks.items():
            p = h.MilterProcess(wd, [h.binary('postmill-' + m), '-f', '-c', conf], 'unix:' + sock)
            p.start()
            cls.addClassCleanup(p.stop)
            cls.milters[m] = p
        cls.sm = h.Sendmail(wd, cls.sink.port, milters={m: 'unix:' + s for m, s in socks.items()},
                            sasl_users=USERS)
        cls.sm.start()
        cls.addClassCleanup(cls.sm.stop)

    def test_outbound_signed_tagged_counted(self):
        r = h.send(self.sm.port, 'alice@%s' % DOMAIN, ['rcpt@example.net'],
                   h.make_message(from_addr='alice@%s' % DOMAIN, subject='stack outbound'),
                   auth=('alice', USERS['alice']))
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink.messages()
                                       if 'stack outbound' in ''.join(d.header('Subject'))), None),
                         what='the outbound message')
        got = h.verify_dkimpy(d.raw, self.dk.keys)
        self.assertEqual([(g.selector, g.result) for g in got], [('s1', 'pass'), ('e1', 'pass')], got)
        self.assertEqual([g.result for g in h.verify_mail_dkim(d.raw, self.dk.keys)][:1], ['pass'])
        self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
        self.assertEqual(d.header('Authentication-Results'), [])
        keys = self.redis.cli('KEYS', 'pmlimit:{sasl:alice}:day:*').split()
        self.assertEqual(len(keys), 1)
        self.assertEqual(self.redis.cli('GET', keys[0]), '1')
        qid = re.escape(r.queue_id)
        self.milters['dkim'].wait_log(r'%s: dkim: action=sign' % qid)
        self.milters['bounce'].wait_log(r'%s: bounce: action=tag' % qid)
        self.milters['limit'].wait_log(r'%s: limit: action=accept stage=eom key=sasl:alice' % qid)

    def test_zz_milters_clean(self):
        assert_clean(self, self.milters.values(), stop=True)

    def test_inbound_checked_not_signed(self):
        msg = h.make_message(from_addr='a@rej.dm.test', subject='stack inbound')
        msg = dkim.sign(msg, b's1', b'rej.dm.test', self.rsa_in_pem,
                        include_headers=[b'from', b'to', b'subject', b'date']) + msg
        r = h.send(self.sm.port, 'bounce@example.net', ['rcpt@example.net'], msg, source=OUTSIDE)
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink.messages()
                                       if 'stack inbound' in ''.join(d.header('Subject'))), None),
                         what='the inbound message')
        ar = ' '.join(d.header('Authentication-Results'))
        self.assertIn('dkim=pass', ar)
        self.assertIn('dmarc=pass', ar)
        self.assertEqual(len(d.header('DKIM-Signature')), 1, 'only the sender\'s own signature')
        self.assertEqual(d.mail_from, 'bounce@example.net')
        r = h.send(self.sm.port, 'bounce@example.net', ['rcpt@example.net'],
                   h.make_message(from_addr='a@rej.dm.test', subject='stack forged'), source=OUTSIDE)
        self.assertEqual(r.data[0], 550, r)



class SendmailFailureModeTest(h.E2ETestCase):
    """F=T (the shipped flag, as Postfix's milter_default_action = tempfail): while a milter is
    down Sendmail answers 4xx and keeps nothing; once it is back, mail flows."""

    def test_milter_down_tempfails(self):
        sink = self.sink()
        sock = self.wd.path('dkim.sock')
        sm = self.sendmail(sink, milters={'dkim': 'unix:' + sock})
        r = h.send(sm.port, 'alice@%s' % DOMAIN, ['rcpt@example.net'], h.make_message())
        self.assertFalse(r.accepted, r)
        codes = [c for c, _ in filter(None, (r.mail, r.data_start, r.data))] + [c for _, c, _ in r.rcpt]
        self.assertTrue(codes and all(400 <= c < 500 for c in codes[-1:]), r)
        self.assertEqual(sink.messages(), [])
        sm.wait_log(r'Milter \(postmill-dkim\): .*(error connecting|to error state)')
        stack = DkimStack(self.wd, 'internal_hosts = 127.0.0.1/32\n')
        m = self.milter([h.binary('postmill-dkim'), '-f', '-c', stack.conf], 'unix:' + stack.sock)
        r = h.send(sm.port, 'alice@%s' % DOMAIN, ['rcpt@example.net'], h.make_message())
        self.assertTrue(r.accepted, r)
        d = sink.wait_for(1)[0]
        self.assertEqual([g.result for g in h.verify_dkimpy(d.raw, stack.keys)], ['pass', 'pass'])
        assert_clean(self, [m], stop=True)



# What Sendmail 8.17 writes for an address field it relays (the shipped .m4 settings, no
# milter): tests/unit/data/sendmail_addr.tsv, measured here and modelled by dkim_smaddr.c (whose
# unit test reads the same file).
ADDR_TSV = os.path.join(h.REPO_ROOT, 'tests', 'unit', 'data', 'sendmail_addr.tsv')


def addr_unescape(v):
    """The file's value: "|" then the text with \\r \\n \\t \\\\ escapes."""
    assert v.startswith('|'), v
    return re.sub(r'\\(.)', lambda m: {'r': '\r', 'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), v[1:])


def addr_rows():
    """(field, value sent, value delivered or None, model) from ADDR_TSV."""
    rows = []
    with open(ADDR_TSV, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            field, sent, got, model = line.split('\t')
            rows.append((field, addr_unescape(sent), None if got == '-' else addr_unescape(got), model))
    return rows


class SendmailRewriteTest(h.E2ETestCase):
    """The measured table, checked against a real Sendmail (no milter): every value comes out
    as the file says, and every value the model predicts comes back unchanged when sent again
    (the fixed point postmill-dkim relies on when it changes a field to that form)."""

    def field_of(self, d, field):
        m = re.search(rb'\r\n' + re.escape(field.encode()) + rb':(.*?)\r\n(?![ \t])', d.raw, re.S | re.I)
        return m.group(1).decode('utf-8') if m else None

    def run_rows(self, sm, sink, rows, tag):
        for i, (field, value) in enumerate(rows):
            hdrs = []
            if field != 'From':
                hdrs.append('From: x@example.test')
            if field != 'To':
                hdrs.append('To: r@example.net')
            hdrs += ['%s:%s' % (field, value), 'Subject: %s %d' % (tag, i),
                     'Date: Mon, 01 Jan 2024 00:00:00 +0000', 'Message-ID: <%s%d@x>' % (tag, i)]
            msg = ('\r\n'.join(hdrs) + '\r\n\r\nb\r\n').encode('utf-8')
            r = h.send(sm.port, 'x@example.test', ['r@example.net'], msg)
            self.assertTrue(r.accepted, (value, r))
        got = {}
        h.wait_until(lambda: len([d for d in sink.messages()
                                  if d.header('Subject')[0].startswith(tag + ' ')]) == len(rows),
                     timeout=120, interval=0.2, what='%d deliveries of %s' % (len(rows), tag))
        for d in sink.messages():
            subj = d.header('Subject')[0]
            if subj.startswith(tag + ' '):
                i = int(subj.split()[-1])
                got[i] = self.field_of(d, rows[i][0])
        return got

    def test_address_field_rewrites(self):
        sink = self.sink()
        # the shipped .m4 without its filters (MustQuoteChars, the mailers' L=, the macros)
        sm = self.sendmail(sink, mc_extra=h.sendmail_filters({}))
        rows = addr_rows()
        self.assertGreaterEqual(len(rows), 140)
        got = self.run_rows(sm, sink, [(f, v) for f, v, _, _ in rows], 'case')
        for i, (field, sent, want, model) in enumerate(rows):
            with self.subTest(field=field, sent=sent):
                self.assertEqual(got[i], want)
        forms = [(f, w) for f, _, w, m in rows if m == 'form']
        again = self.run_rows(sm, sink, forms, 'again')
        for i, (field, value) in enumerate(forms):
            with self.subTest(field=field, again=value):
                self.assertEqual(again[i], value, 'not a fixed point')


if __name__ == '__main__':
    unittest.main()
