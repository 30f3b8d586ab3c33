"""test_dkim - postmill-dkim behind a real Postfix, every signature checked by two verifiers.

One stack per class (Postfix on loopback with postmill-dkim in smtpd_milters and
non_smtpd_milters, relaying to smtp-sink): a corpus of messages goes through SMTP (and one
through sendmail(1)), then each delivered copy is checked:
  - signed ones carry exactly the expected signatures, and dkimpy and Mail::DKIM both say
    pass (Debian 12's Mail::DKIM cannot check Ed25519: dkimpy checks those alone);
  - the ones that must not be signed carry no DKIM-Signature, and the milter logged why,
    on a line that starts with the Postfix queue id.
"""

import base64
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

DOMAIN = 'example.test'          # hosted, dual-signed (RSA + Ed25519)
OTHER = 'tenant2.test'           # hosted, RSA only, owned by login "bob"
EXTERNAL_ADDR = '198.51.100.7'   # a client outside internal_hosts


def pick(deliveries, marker):
    """The delivery whose Subject carries MARKER."""
    found = [d for d in deliveries if any(marker in s for s in d.header('Subject'))]
    if len(found) != 1:
        raise AssertionError('%d deliveries with subject %r' % (len(found), marker))
    return found[0]


class DkimStack:
    """Postfix + postmill-dkim + sink in one Workdir, with keys for two tenants."""

    def __init__(self, wd, extra_conf=''):
        self.wd = wd
        keys = wd.mkdir('keys', 0o700, owner='postmill')
        self.rsa, self.rsa_txt = h.gen_rsa_key(keys, 'rsa', 2048)
        self.ed, self.ed_txt = h.gen_ed25519_key(keys, 'ed')
        self.rsa2, self.rsa2_txt = h.gen_rsa_key(keys, 'rsa2', 2048)
        for p in (self.rsa, self.ed, self.rsa2):
            os.chown(p, h.pwd.getpwnam('postmill').pw_uid, -1)
        self.keys = {('s1', DOMAIN): self.rsa_txt, ('e1', DOMAIN): self.ed_txt,
                     ('t2', OTHER): self.rsa2_txt}
        wd.write('key.table', 'rsa %s:s1:%s\ned %s:e1:%s\nrsa2 %s:t2:%s\n'
                 % (DOMAIN, self.rsa, DOMAIN, self.ed, OTHER, self.rsa2))
        wd.write('signing.table', '*@%s rsa ed\n*@%s rsa2\n' % (DOMAIN, OTHER))
        wd.write('login.map', '@%s alice\n@%s bob\n' % (DOMAIN, OTHER))
        self.sock = wd.path('dkim.sock')
        self.conf = wd.write('postmill.conf', '\n'.join([
            'run_user = postmill',
            'socket_group = postfix',
            'dkim_socket = unix:' + self.sock,
            'dkim_pid_file = ' + wd.path('dkim.pid'),
            'dkim_key_table = ' + wd.path('key.table'),
            'dkim_signing_table = ' + wd.path('signing.table'),
            'dkim_sender_login_map = ' + wd.path('login.map'),
        ]) + '\n' + extra_conf)

    def start(self, add_cleanup):
        self.sink = h.Sink(self.wd)
        self.sink.start()
        add_cleanup(self.sink.stop)
        self.milter = h.MilterProcess(self.wd, [h.binary('postmill-dkim'), '-f', '-c', self.conf],
                                      'unix:' + self.sock)
        self.milter.start()
        add_cleanup(self.milter.stop)
        self.postfix = h.Postfix(self.wd, relay_port=self.sink.port, sasl=True,
                                 smtpd_milters='unix:' + self.sock,
                                 non_smtpd_milters='unix:' + self.sock,
                                 main={'message_size_limit': '30000000',
                                       # mail for example.net may come from anywhere
                                       'relay_domains': 'example.net',
                                       'smtpd_relay_restrictions':
                                           'permit_mynetworks, permit_sasl_authenticated,'
                                           ' reject_unauth_destination'})
        self.postfix.start()
        add_cleanup(self.postfix.stop)
        return self


class DkimCorpusTest(unittest.TestCase):
    """The corpus of the issue, sent once; one test per expectation."""

    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-dkim-')
        cls.addClassCleanup(cls.wd.cleanup)
        cls.stack = DkimStack(cls.wd).start(cls.addClassCleanup)
        cls.sent = {}
        pf = cls.stack.postfix
        big_line = 'x' * 1500
        attachment = base64.encodebytes(os.urandom(30000)).decode().replace('\n', '\r\n')
        ten_mb = ('0123456789abcdefghijklmnopqrstuvwxyz' * 2 + '\r\n') * (10 * 1024 * 1024 // 74)
        corpus = {
            # marker: (from header, client kind, body, extra headers)
            'plain': ('alice@%s' % DOMAIN, 'internal', 'Hello.\r\nPlain text.\r\n', []),
            'multipart': ('alice@%s' % DOMAIN, 'internal',
                          '--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
                          '--b1\r\nContent-Type: application/octet-stream\r\n'
                          'Content-Transfer-Encoding: base64\r\n'
                          'Content-Disposition: attachment; filename="a.bin"\r\n\r\n'
                          + attachment + '--b1--\r\n',
                          [('MIME-Version', '1.0'),
                           ('Content-Type', 'multipart/mixed; boundary="b1"')]),
            'eightbit': ('alice@%s' % DOMAIN, 'internal',
                         'Gr\u00fc\u00dfe aus K\u00f6ln, \u00e7a va? \u2713\r\n',
                         [('MIME-Version', '1.0'), ('Content-Type', 'text/plain; charset=utf-8'),
                          ('Content-Transfer-Encoding', '8bit')]),
            # Postfix's SMTP client breaks lines over smtp_line_length_limit (998) when it
            # delivers; header lines too
            'longlines': ('alice@%s' % DOMAIN, 'internal',
                          big_line + '\r\nshort\r\n' + 'y' * 2100 + '\r\n',
                          [('X-Long', 'z' * 1500)]),
            'emptybody': ('alice@%s' % DOMAIN, 'internal', '', []),
            'trailingblank': ('alice@%s' % DOMAIN, 'internal', 'text  \r\n \t \r\n\r\n\r\n', []),
            'tenmb': ('alice@%s' % DOMAIN, 'internal', ten_mb, []),
            'folded': ('alice@%s' % DOMAIN, 'internal', 'Folded headers.\r\n',
                       [('X-Folded', 'first part\r\n\tsecond part\r\n  third part'),
                        ('Received', 'from a by b; Mon, 1 Jan 2024 00:00:00 +0000'),
                        ('Received', 'from c by d; Mon, 1 Jan 2024 00:00:01 +0000'),
                        ('Cc', 'one@example.net'), ('Cc', 'two@example.net'),
                        ('Subject', 'a second Subject field')]),
            'displayname': ('"Alice Q. Sender" (sales dept) <alice@%s> (the boss)' % DOMAIN,
                            'internal', 'Display name and comments.\r\n', []),
            'authenticated': ('alice@%s' % DOMAIN, 'alice', 'From an authenticated client.\r\n', []),
            'tenant2': ('bob@%s' % OTHER, 'bob', 'Second tenant, own key.\r\n', []),
            'nothosted': ('someone@elsewhere.test', 'internal', 'Not a hosted domain.\r\n', []),
            'external': ('alice@%s' % DOMAIN, 'external', 'Unauthenticated outside client.\r\n', []),
            'crosstenant': ('alice@%s' % DOMAIN, 'bob', 'Bob writes as Alice.\r\n', []),
            'twofrom': ('alice@%s' % DOMAIN, 'internal', 'Two From fields.\r\n',
                        [('From', 'mallory@%s' % DOMAIN)]),
            # Postfix adds Date and Message-ID for local clients before the milters see the
            # message (Sendmail after them: test_sendmail.py)
            'nodate': ('alice@%s' % DOMAIN, 'internal', 'No Date, no Message-ID.\r\n', []),
        }
        for marker, (from_hdr, client, body, extra) in corpus.items():
            headers = [(k, v) for k, v in extra if k != 'Subject']
            msg = h.make_message(subject='corpus ' + marker, from_addr=from_hdr, body=body,
                                 headers=headers)
            if marker == 'nodate':
                msg = re.sub(rb'(?m)^(Date|Message-ID): [^\r]*\r\n', b'', msg)
            if any(k == 'Subject' for k, _ in extra):
                msg = msg.replace(b'\r\n\r\n', b'\r\nSubject: a second Subject field\r\n\r\n', 1)
            xclient = None
            if client == 'external':
                xclient = {'ADDR': EXTERNAL_ADDR, 'NAME': '[UNAVAILABLE]'}
            elif client != 'internal':
                xclient = {'ADDR': EXTERNAL_ADDR, 'NAME': '[UNAVAILABLE]', 'LOGIN': client}
            r = h.send(pf.port, 'bounce@%s' % DOMAIN, ['rcpt@example.net'], msg, xclient=xclient,
                       timeout=120)
            if not r.accepted:
                raise AssertionError('%s not accepted: %r\n%s' % (marker, r, h.tail(pf.log(), 20)))
            cls.sent[marker] = (msg, r.queue_id)
        # a message submitted with sendmail(1), whose body does not end with a newline:
        # non_smtpd_milters sign it too
        msg = h.make_message(subject='corpus sendmail', from_addr='alice@%s' % DOMAIN,
                             body='no final newline').replace(b'\r\n', b'\n')
        pf.sendmail('alice@%s' % DOMAIN, ['rcpt@example.net'], msg)
        cls.deliveries = cls.stack.sink.wait_for(len(corpus) + 1, timeout=120, postfix=pf)

    def delivery(self, marker):
        return pick(self.deliveries, 'corpus ' + marker)

    def milter_line(self, queue_id):
        lines = [l for l in self.stack.milter.log().splitlines()
                 if re.search(r'\b%s: dkim: ' % re.escape(queue_id), l)]
        self.assertEqual(len(lines), 1, 'decision lines for %s: %r' % (queue_id, lines))
        return lines[0]

    def assert_signed(self, marker, want):
        """WANT: list of (domain, selector, algorithm), topmost signature first."""
        d = self.delivery(marker)
        got = h.verify_dkimpy(d.raw, self.stack.keys)
        self.assertEqual([(r.domain, r.selector, r.algorithm) for r in got], want, got)
        for r in got:
            self.assertEqual(r.result, 'pass', 'dkimpy: %r' % got)
        perl = h.verify_mail_dkim(d.raw, self.stack.keys)
        self.assertEqual(len(perl), len(want), perl)
        for r in perl:
            if r.algorithm == 'ed25519-sha256':
                self.assertIn(r.result, ('pass', 'unsupported'), 'Mail::DKIM: %r' % perl)
            else:
                self.assertEqual(r.result, 'pass', 'Mail::DKIM: %r' % perl)
        if marker in self.sent:
            line = self.milter_line(self.sent[marker][1])
            self.assertIn('action=sign', line)
        return d

    def assert_unsigned(self, marker, reason):
        d = self.delivery(marker)
        self.assertEqual(d.header('DKIM-Signature'), [], d.raw[:600])
        line = self.milter_line(self.sent[marker][1])
        self.assertIn('action=skip reason=%s' % reason, line)

    DUAL = [(DOMAIN, 's1', 'rsa-sha256'), (DOMAIN, 'e1', 'ed25519-sha256')]

    def test_plain_text(self):
        self.assert_signed('plain', self.DUAL)

    def test_multipart_with_attachment(self):
        self.assert_signed('multipart', self.DUAL)

    def test_eight_bit_body(self):
        d = self.assert_signed('eightbit', self.DUAL)
        self.assertIn('K\u00f6ln'.encode(), d.raw)

    def test_lines_over_998_bytes(self):
        d = self.assert_signed('longlines', self.DUAL)
        # Postfix broke the lines on the way out; the signatures still verify
        self.assertEqual([len(l) for l in d.body().split(b'\r\n')], [998, 503, 5, 998, 998, 106, 0])

    def test_empty_body(self):
        d = self.assert_signed('emptybody', self.DUAL)
        self.assertEqual(d.body(), b'')

    def test_trailing_blank_lines(self):
        self.assert_signed('trailingblank', self.DUAL)

    def test_ten_megabyte_body(self):
        d = self.assert_signed('tenmb', self.DUAL)
        self.assertGreater(len(d.raw), 10 * 1000 * 1000)

    def test_folded_and_repeated_headers(self):
        d = self.assert_signed('folded', self.DUAL)
        sig = d.header('DKIM-Signature')[0]
        hlist = re.search(r'h=([^;]*);', re.sub(r'\s+', '', sig)).group(1).split(':')
        # both Cc fields and both Subject fields are signed, and each once more (over-signed)
        self.assertEqual(hlist.count('cc'), 3, hlist)
        self.assertEqual(hlist.count('subject'), 3, hlist)
        self.assertNotIn('received', hlist)

    def test_missing_date_added_by_postfix_before_signing(self):
        d = self.assert_signed('nodate', self.DUAL)
        sig = re.sub(r'\s+', '', d.header('DKIM-Signature')[0])
        hlist = re.search(r'h=([^;]*);', sig).group(1).split(':')
        self.assertEqual(hlist.count('date'), 2, hlist)
        self.assertEqual(hlist.count('message-id'), 2, hlist)

    def test_from_with_display_name_and_comments(self):
        self.assert_signed('displayname', self.DUAL)

    def test_authenticated_client(self):
        self.assert_signed('authenticated', self.DUAL)
        self.assertIn('login=alice', self.milter_line(self.sent['authenticated'][1]))

    def test_second_tenant_own_key(self):
        self.assert_signed('tenant2', [(OTHER, 't2', 'rsa-sha256')])

    def test_sendmail_submission_without_final_newline(self):
        self.assert_signed('sendmail', self.DUAL)

    def test_not_hosted_domain_not_signed(self):
        self.assert_unsigned('nothosted', 'no_key_for_domain')

    def test_external_client_not_signed(self):
        self.assert_unsigned('external', 'external_client')

    def test_login_for_another_tenant_not_signed(self):
        self.assert_unsigned('crosstenant', 'login_not_allowed')
        self.assertIn('login=bob', self.milter_line(self.sent['crosstenant'][1]))

    def test_two_from_headers_not_signed(self):
        self.assert_unsigned('twofrom', 'multiple_from_fields')

    def test_added_header_breaks_signature(self):
        """Over-signing: a From field added after signing makes both verifiers fail."""
        d = self.delivery('plain')
        tampered = d.raw.replace(b'\r\nFrom: ', b'\r\nFrom: mallory@evil.test\r\nFrom: ', 1)
        for r in h.verify_dkimpy(tampered, self.stack.keys):
            self.assertEqual(r.result, 'fail', r)
        for r in h.verify_mail_dkim(tampered, self.stack.keys):
            self.assertNotEqual(r.result, 'pass', r)

    def test_altered_body_breaks_signature(self):
        d = self.delivery('plain')
        tampered = d.raw.replace(b'Plain text.', b'Plain text!', 1)
        for r in h.verify_dkimpy(tampered, self.stack.keys):
            self.assertEqual(r.result, 'fail', r)


class DkimPolicyActionsTest(h.E2ETestCase):
    """Configured actions reach the SMTP client through Postfix."""

    def test_unsignable_tempfail_and_login_reject(self):
        stack = DkimStack(self.wd, 'dkim_unsignable_action = tempfail\n'
                                   'dkim_login_mismatch_action = reject\n')
        stack.start(self.addCleanup)
        pf = stack.postfix
        msg = h.make_message(subject='two from', from_addr='alice@%s' % DOMAIN,
                             headers=[('From', 'other@%s' % DOMAIN)])
        r = h.send(pf.port, 'a@%s' % DOMAIN, ['rcpt@example.net'], msg)
        self.assertEqual(r.data[0], 451, r)
        self.assertIn('4.7.0', r.data[1])
        msg = h.make_message(subject='cross tenant', from_addr='alice@%s' % DOMAIN)
        r = h.send(pf.port, 'a@%s' % DOMAIN, ['rcpt@example.net'], msg,
                   xclient={'ADDR': EXTERNAL_ADDR, 'NAME': '[UNAVAILABLE]', 'LOGIN': 'bob'})
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('5.7.1', r.data[1])


class DkimManyParametersTest(h.E2ETestCase):
    """Issue 13, defect 1: a MAIL FROM with more ESMTP parameters than the engine's old fixed
    argument list (64 strings) broke the milter session ("too many strings in one packet"):
    Postfix then applied milter_default_action, so the message was refused (tempfail) or, with
    accept, went out unsigned. Postfix passes every word to the milter; it must still sign."""

    def test_mail_from_with_70_parameters(self):
        stack = DkimStack(self.wd)
        stack.start(self.addCleanup)
        pf = stack.postfix
        params = ['BODY=8BITMIME'] * 40 + ['SIZE=900'] * 30
        msg = h.make_message(subject='many parameters', from_addr='alice@%s' % DOMAIN)
        r = h.send(pf.port, 'bounce@%s' % DOMAIN, ['rcpt@example.net'], msg,
                   mail_options=params)
        self.assertEqual(r.mail[0], 250, r)
        self.assertTrue(r.accepted, '%r\n%s' % (r, h.tail(pf.log(), 20)))
        d = pick(stack.sink.wait_for(1, timeout=120, postfix=pf), 'many parameters')
        got = h.verify_dkimpy(d.raw, stack.keys)
        self.assertEqual([(x.domain, x.selector, x.result) for x in got],
                         [(DOMAIN, 's1', 'pass'), (DOMAIN, 'e1', 'pass')], got)
        self.assertNotIn('too many strings', stack.milter.log())


class DkimReloadTest(h.E2ETestCase):
    """SIGHUP swaps tables under a running Postfix without refusing a message."""

    def test_reload_adds_a_tenant(self):
        stack = DkimStack(self.wd)
        stack.start(self.addCleanup)
        pf = stack.postfix
        r = h.send(pf.port, 'a@x.test', ['rcpt@example.net'],
                   h.make_message(subject='before', from_addr='carol@new.test'))
        self.assertTrue(r.accepted, r)
        keys = self.wd.path('keys')
        path, txt = h.gen_rsa_key(keys, 'new', 2048)
        os.chown(path, h.pwd.getpwnam('postmill').pw_uid, -1)
        with open(self.wd.path('key.table'), 'a') as f:
            f.write('new new.test:n1:%s\n' % path)
        with open(self.wd.path('signing.table'), 'a') as f:
            f.write('*@new.test new\n')
        stack.milter.hup()
        stack.milter.wait_log(r'reloaded .* \(generation \d+\)')
        r = h.send(pf.port, 'a@x.test', ['rcpt@example.net'],
                   h.make_message(subject='after', from_addr='carol@new.test'))
        self.assertTrue(r.accepted, r)
        # a broken table is refused and the previous snapshot keeps signing
        with open(self.wd.path('signing.table'), 'a') as f:
            f.write('*@broken.test no-such-key\n')
        stack.milter.hup()
        stack.milter.wait_log(r'reload failed, keeping the previous configuration')
        r = h.send(pf.port, 'a@x.test', ['rcpt@example.net'],
                   h.make_message(subject='still', from_addr='carol@new.test'))
        self.assertTrue(r.accepted, r)
        ds = stack.sink.wait_for(3, postfix=pf)
        self.assertEqual(pick(ds, 'before').header('DKIM-Signature'), [])
        keys_all = dict(stack.keys)
        keys_all[('n1', 'new.test')] = txt
        for marker in ('after', 'still'):
            got = h.verify_dkimpy(pick(ds, marker).raw, keys_all)
            self.assertEqual([(g.domain, g.result) for g in got], [('new.test', 'pass')], got)


class DkimStartupTest(h.E2ETestCase):
    """Bad configurations stop start-up with file and line; the daemon never listens."""

    def test_bad_config_and_keys_refused(self):
        stack = DkimStack(self.wd)
        keys = self.wd.path('keys')
        weak, _ = h.gen_rsa_key(keys, 'weak', 1024)
        os.chmod(weak, 0o644)
        with open(self.wd.path('key.table'), 'a') as f:
            f.write('weak %s:w1:%s\nmissing %s:m1:%s/nope.pem\n' % (DOMAIN, weak, DOMAIN, keys))
        with open(stack.conf, 'a') as f:
            f.write('dkim_canonicalization = loose/relaxed\nno_such_parameter = 1\n')
        r = h.subprocess.run([h.binary('postmill-dkim'), '-n', '-c', stack.conf],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=30)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 1, out)
        # config errors are all reported in one run (keys are checked once the config loads)
        self.assertRegex(out, r'postmill\.conf:\d+: dkim_canonicalization = "loose/relaxed": expected one of')
        self.assertRegex(out, r'postmill\.conf:\d+: unknown parameter "no_such_parameter"')
        with open(stack.conf) as f:
            good = ''.join(l for l in f if not l.startswith(('dkim_canon', 'no_such')))
        with open(stack.conf, 'w') as f:
            f.write(good)
        r = h.subprocess.run([h.binary('postmill-dkim'), '-f', '-c', stack.conf],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=30)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 1, out)
        self.assertRegex(out, r'key\.table:4: .*readable by group or others')
        self.assertRegex(out, r'key\.table:5: .*nope\.pem')
        self.assertFalse(os.path.exists(stack.sock), 'socket created despite errors')


class DkimDnsCheckTest(h.E2ETestCase):
    """postmillctl dkim check against a real authoritative server (knotd on loopback)."""

    def test_match_missing_stale_revoked(self):
        stack = DkimStack(self.wd)
        keys = self.wd.path('keys')
        other_path, other_txt = h.gen_rsa_key(keys, 'unrelated', 1024)
        zone = '\n'.join([
            # s1 (RSA) published right; e1 (Ed25519) published with another key: stale
            h.txt_record('s1._domainkey', stack.rsa_txt),
            h.txt_record('e1._domainkey', 'v=DKIM1; k=rsa; p=' + other_txt.split('p=')[1]),
        ]) + '\n'
        zone2 = h.txt_record('t2._domainkey', 'v=DKIM1; k=rsa; p=') + '\n'  # revoked
        knot = self.knot({DOMAIN: zone, OTHER: zone2})
        with open(stack.conf, 'a') as f:
            f.write('dns_resolver = 127.0.0.1@%d\ndns_timeout = 2s\n' % knot.port)
        r = h.subprocess.run([h.binary('postmillctl'), '-c', stack.conf, 'dkim', 'check'],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=60)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 1, out)
        self.assertRegex(out, r'(?m)^rsa: s1\._domainkey\.%s: MATCH' % re.escape(DOMAIN))
        self.assertRegex(out, r'(?m)^ed: e1\._domainkey\.%s: STALE' % re.escape(DOMAIN))
        self.assertRegex(out, r'(?m)^rsa2: t2\._domainkey\.%s: REVOKED' % re.escape(OTHER))
        self.assertIn('3 keys checked, 2 not matching', out)
        # one domain at a time, and a domain nobody publishes
        r = h.subprocess.run([h.binary('postmillctl'), '-c', stack.conf, 'dkim', 'check',
                              '--domain', DOMAIN.upper()],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=60)
        self.assertIn('2 keys checked, 1 not matching', r.stdout.decode())
        knot.set_zone(OTHER, '')
        r = h.subprocess.run([h.binary('postmillctl'), '-c', stack.conf, 'dkim', 'check',
                              '--domain', OTHER],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=60)
        out = r.stdout.decode()
        self.assertRegex(out, r'(?m)^rsa2: t2\._domainkey\.%s: MISSING' % re.escape(OTHER))
        self.assertIn('publish:', out)

    def test_keygen_writes_private_key_and_record(self):
        out_dir = self.wd.path('newkeys')
        r = h.subprocess.run([h.binary('postmillctl'), '-c', '/nonexistent', 'dkim', 'keygen',
                              '--domain', 'Example.TEST', '--selector', 'k1',
                              '--algorithm', 'ed25519', '--dir', out_dir, '--owner', 'postmill'],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=60)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        path = os.path.join(out_dir, 'example.test-k1.pem')
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(st.st_uid, h.pwd.getpwnam('postmill').pw_uid)
        self.assertIn('k1._domainkey.example.test. IN TXT ( "v=DKIM1; k=ed25519; p=', out)
        self.assertIn('example.test-k1 example.test:k1:%s' % path, out)
        # the record printed is the key's public half
        pub = re.search(r'p=([A-Za-z0-9+/=]+)', out).group(1)
        der = h.subprocess.run(['openssl', 'pkey', '-in', path, '-pubout', '-outform', 'DER'],
                               stdout=h.subprocess.PIPE, check=True).stdout
        self.assertEqual(base64.b64decode(pub), der[-32:])
        # never over an existing key
        r = h.subprocess.run([h.binary('postmillctl'), 'dkim', 'keygen', '--domain', 'example.test',
                              '--selector', 'k1', '--algorithm', 'ed25519', '--dir', out_dir],
                             stdout=h.subprocess.PIPE, stderr=h.subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn('use --force', r.stdout.decode())


if __name__ == '__main__':
    unittest.main()
