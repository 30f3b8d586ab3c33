"""test_suite - postmill-suite gives the results of the four separate daemons.

Two private Postfix instances side by side, one postmill.conf (knotd for DNS, one Redis):
  A  smtpd_milters = postmill-auth, postmill-bounce, postmill-dkim, postmill-limit (four daemons,
     four conversations, the shipped order)
  B  smtpd_milters = postmill-suite with suite_milters = auth, bounce, dkim, limit (one
     conversation); its own limit_key_prefix and bounce_key_prefix, so that its counters and
     suppressions start from zero like A's, and suite_body_memory = 64k so that a large message
     goes through the spool file.
The same traffic goes to both; every SMTP reply must be the same, and the delivered messages
must carry the same header fields in the same order, the same signed field lists, verifying
signatures, Return-Path tags of the same form and the same Authentication-Results:
  - outbound mail of an authenticated login (signed twice, tagged, List-Unsubscribe signed);
  - inbound mail with a valid DKIM signature (dkim=pass, dmarc=pass), and forged inbound mail
    (DMARC p=reject: 550 at end of message);
  - a per-login quota: the same message is the first refused;
  - a 300 KB message (spooled by the suite), signed and verifying;
  - a DSN to the tag of a delivered message: accepted, the recipient suppressed, the next mail
    to it refused with the same reply.
Also: -n of postmill-suite names the modules; a reload that changes suite_milters is refused.
"""

import os
import re
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from test_dkim import DOMAIN, DkimStack  # noqa: E402
import test_auth  # noqa: E402
import test_bounce  # noqa: E402
import dkim  # noqa: E402

MODULES = ('auth', 'bounce', 'dkim', 'limit')
OUTSIDE = {'ADDR': '192.0.2.10', 'NAME': 'client.example.net', 'HELO': 'client.example.net'}
VOLATILE = ('received', 'return-path', 'x-postmill-ref', 'dkim-signature', 'message-id', 'date',
            'list-unsubscribe')   # its token names the message's tag id


def header_names(d):
    """The header field names of a delivered message, in order, lower case."""
    return [n.lower() for n, _ in d.headers()]


def signed_fields(d, domain=DOMAIN):
    """h= of each of our DKIM-Signature fields, in order."""
    out = []
    for v in d.header('DKIM-Signature'):
        tags = dict(t.strip().split('=', 1) for t in re.sub(r'\s+', '', v).split(';') if '=' in t)
        if tags.get('d') == domain:
            out.append((tags.get('s'), tags.get('h')))
    return out


def start_stack(cls, prefix, quota, tenant_options):
    """The fixture both tests share, on CLS: a Workdir, DKIM keys and tables (DkimStack), knotd with
    rej.dm.test's DKIM key and DMARC records, Redis, and the postmill.conf lines of the four
    milters (returned; sockets and pid files are the caller's)."""
    cls.wd = h.Workdir(prefix=prefix)
    cls.addClassCleanup(cls.wd.cleanup)
    wd = cls.wd
    cls.dk = DkimStack(wd)
    cls.rsa_in, rsa_txt = h.gen_rsa_key(wd.path('keys'), 'in', 2048)
    cls.rsa_in_pem = open(cls.rsa_in, 'rb').read()
    cls.knot = h.Knot(wd, {'dm.test': test_auth.zone_text({('s1', 'rej.dm.test'): rsa_txt})})
    cls.knot.start()
    cls.addClassCleanup(cls.knot.stop)
    cls.redis = h.Redis(wd)
    cls.redis.start()
    cls.addClassCleanup(cls.redis.stop)
    rules = wd.write('limit.rules', 'day sasl messages quota=%d/1d\n' % quota)
    secret = test_bounce.secret_file(wd, 'bounce.secret')
    tenants = wd.write('tenants', '%s - %s\n' % (DOMAIN, tenant_options))
    with open(cls.dk.conf) as f:
        dkim_lines = [l for l in f.read().splitlines()
                      if l.startswith('dkim_') and not l.startswith(('dkim_socket', 'dkim_pid_file'))]
    return ['dns_resolver = ' + cls.knot.server, 'redis_server = 127.0.0.1:%d' % cls.redis.port,
            'auth_authserv_id = ' + test_auth.ID, 'bounce_domain = bounces.test',
            'bounce_secret_files = ' + secret, 'limit_rules_file = ' + rules,
            'bounce_unsubscribe_url = https://unsub.example.test/u/',
            'bounce_tenant_table = ' + tenants,
            'bounce_track_base_url = https://t.provider.test/t'] + dkim_lines


@unittest.skipIf(h.suite_mode(), 'compares the separate daemons with the suite: plain mode only')
class SuiteEquivalenceTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        lines = ['run_user = postmill', 'socket_group = postfix', 'internal_hosts = 127.0.0.1/32'] \
            + start_stack(cls, 'pm-suite-', 3, 'unsubscribe, track')
        wd = cls.wd
        spool = wd.mkdir('spool', 0o700, owner='postmill')
        socks = {m: wd.path(m + '.sock') for m in MODULES}
        for m, sock in socks.items():
            lines += ['%s_socket = unix:%s' % (m, sock), '%s_pid_file = %s' % (m, wd.path(m + '.pid'))]
        cls.conf_a = cls.write_conf('a.conf', lines)
        cls.suite_sock = wd.path('suite.sock')
        cls.conf_b = cls.write_conf('b.conf', lines + [
            'limit_key_prefix = pmlimitB:', 'bounce_key_prefix = pmbounceB:',
            'suite_milters = ' + ', '.join(MODULES), 'suite_socket = unix:' + cls.suite_sock,
            'suite_pid_file = ' + wd.path('suite.pid'), 'suite_body_memory = 64k',
            'suite_spool_dir = ' + spool])
        cls.milters = {}
        for m in MODULES:
            p = h.MilterProcess(wd, [h.binary('postmill-' + m), '-f', '-c', cls.conf_a], 'unix:' + socks[m])
            p.start()
            cls.addClassCleanup(p.stop)
            cls.milters[m] = p
        cls.suite = h.MilterProcess(wd, [h.binary('postmill-suite'), '-f', '-c', cls.conf_b],
                                    'unix:' + cls.suite_sock)
        cls.suite.start()
        cls.addClassCleanup(cls.suite.stop)
        cls.sinks, cls.pfs = {}, {}
        for side, milters in (('a', ['unix:' + socks[m] for m in MODULES]), ('b', ['unix:' + cls.suite_sock])):
            sink = h.Sink(wd, name='sink' + side)
            sink.start()
            cls.addClassCleanup(sink.stop)
            tr = wd.write('transport_' + side, 'bounces.test smtp:[127.0.0.1]:%d\n' % sink.port)
            pf = h.Postfix(wd, relay_port=sink.port, name='pf' + side, sasl=True, smtpd_milters=milters,
                           main={'message_size_limit': '30000000',
                                 'relay_domains': 'example.net, bounces.test',
                                 'transport_maps': 'texthash:' + tr,
                                 'smtpd_relay_restrictions':
                                     'permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination'})
            pf.start()
            cls.addClassCleanup(pf.stop)
            cls.sinks[side], cls.pfs[side] = sink, pf

    @classmethod
    def write_conf(cls, name, lines):
        conf = cls.wd.write(name, '\n'.join(lines) + '\n', mode=0o640)
        os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
        return conf

    def both(self, mail_from, rcpts, message, **kw):
        """The same transaction through A and B: (result A, result B), replies compared."""
        ra = h.send(self.pfs['a'].port, mail_from, rcpts, message, **kw)
        rb = h.send(self.pfs['b'].port, mail_from, rcpts, message, **kw)
        def norm(reply):
            return reply and (reply[0], re.sub(r'queued as [0-9A-Za-z]+', 'queued as QID', reply[1]))
        for step in ('mail', 'data'):
            self.assertEqual(norm(getattr(ra, step)), norm(getattr(rb, step)),
                             '%s: %r / %r' % (step, ra, rb))
        self.assertEqual([x[1:] for x in ra.rcpt], [x[1:] for x in rb.rcpt], (ra, rb))
        return ra, rb

    def delivered(self, side, subject):
        return h.wait_until(lambda: next((d for d in self.sinks[side].messages()
                                          if subject in ''.join(d.header('Subject'))), None),
                            what='%s on side %s' % (subject, side),
                            on_timeout=lambda: h.tail(self.pfs[side].log()))

    def same_delivery(self, subject):
        da, db = self.delivered('a', subject), self.delivered('b', subject)
        self.assertEqual(header_names(da), header_names(db), subject)
        def norm(values):   # Received-SPF names the receiving Postfix
            return [re.sub(r'\bpf[ab]\.postmill\.test', 'pfX.postmill.test', v) for v in values]
        for name in set(header_names(da)) - set(VOLATILE):
            self.assertEqual(norm(da.header(name)), norm(db.header(name)), '%s: %s' % (subject, name))
        self.assertEqual(signed_fields(da), signed_fields(db), subject)
        return da, db

    def outbound(self, subject, body=None, rcpt='rcpt@example.net'):
        msg = h.make_message(from_addr='alice@%s' % DOMAIN, to_addr=rcpt, subject=subject, body=body)
        return self.both('alice@%s' % DOMAIN, [rcpt], msg, xclient={'LOGIN': 'alice'})

    def test_outbound_signed_tagged_same(self):
        ra, rb = self.outbound('suite outbound')
        self.assertTrue(ra.accepted and rb.accepted, (ra, rb))
        da, db = self.same_delivery('suite outbound')
        for d in (da, db):
            got = h.verify_dkimpy(d.raw, self.dk.keys)
            self.assertEqual([(g.selector, g.result) for g in got], [('s1', 'pass'), ('e1', 'pass')], got)
            self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
            self.assertEqual(len(d.header('List-Unsubscribe')), 1, d.raw[:3000])
            # postmill-bounce's fields reach postmill-dkim in both shapes: they are signed
            for s, hl in signed_fields(d):
                self.assertIn('list-unsubscribe', hl.lower().split(':'), (s, hl))
        # one decision line form in both shapes: client= and login= last
        for mod in ('dkim', 'bounce'):
            for m, qid in ((self.milters[mod], ra.queue_id), (self.suite, rb.queue_id)):
                m.wait_log(r'(?m)%s: %s: action=\S+ .* client=127\.0\.0\.1 login=alice$'
                           % (re.escape(qid), mod))

    def test_inbound_checked_same(self):
        msg = h.make_message(from_addr='a@mf.rej.dm.test', subject='suite inbound')
        msg = dkim.sign(msg, b's1', b'rej.dm.test', self.rsa_in_pem,
                        include_headers=[b'from', b'to', b'subject', b'date']) + msg
        ra, rb = self.both('bounce@mf.rej.dm.test', ['rcpt@example.net'], msg, xclient=OUTSIDE)
        self.assertTrue(ra.accepted, ra)
        da, db = self.same_delivery('suite inbound')
        ar = ' '.join(db.header('Authentication-Results'))
        self.assertIn('dkim=pass', ar)
        self.assertIn('dmarc=pass', ar)
        self.assertEqual(len(db.header('DKIM-Signature')), 1, 'inbound mail is not signed')
        forged = h.make_message(from_addr='a@rej.dm.test', subject='suite forged')
        ra, rb = self.both('bounce@example.org', ['rcpt@example.net'], forged, xclient=OUTSIDE)
        self.assertEqual(ra.data[0], 550, ra)

    def test_tracked_html_same(self):
        """postmill-bounce rewrites the links of a tracking tenant's HTML and postmill-dkim, after
        it, signs the new body: in one conversation as in two."""
        html = ('<html><body>\r\n<p><a href="https://shop.example/a?x=1&amp;y=2">a</a>\r\n'
                '<a href="http://shop.example/b">b</a></p>\r\n</body></html>\r\n')
        msg = h.make_message(from_addr='erin@%s' % DOMAIN, subject='suite tracked', body=html,
                             headers=[('Content-Type', 'text/html; charset=utf-8'),
                                      ('Content-Transfer-Encoding', '8bit'), ('MIME-Version', '1.0')])
        ra, rb = self.both('erin@%s' % DOMAIN, ['reader@example.net'], msg)  # internal, no login
        self.assertTrue(rb.accepted, rb)
        da, db = self.same_delivery('suite tracked')
        bodies = []
        for d in (da, db):
            body = d.body().decode()
            self.assertEqual(len(re.findall(r'href="https://t\.provider\.test/t/c/[A-Za-z0-9_-]+"', body)), 2,
                             body)
            self.assertRegex(body, r'<img[^>]*src="https://t\.provider\.test/t/o/[A-Za-z0-9_-]+"')
            self.assertNotIn('shop.example', body)
            got = h.verify_dkimpy(d.raw, self.dk.keys)
            self.assertEqual([g.result for g in got], ['pass', 'pass'], got)
            bodies.append(re.sub(r'/t/([co])/[A-Za-z0-9_-]+', r'/t/\1/TOKEN', body))
        self.assertEqual(bodies[0], bodies[1])

    def test_quota_same(self):
        results = [self.outbound('suite quota %d' % i) for i in range(4)]
        self.assertEqual([ra.accepted for ra, _ in results], [rb.accepted for _, rb in results])
        self.assertFalse(results[-1][0].accepted, results[-1])

    def test_large_message_spooled(self):
        body = ''.join('line %06d %s\r\n' % (i, 'x' * 60) for i in range(4500))   # ~320 KB
        ra, rb = self.both('alice@%s' % DOMAIN, ['big@example.net'],
                           h.make_message(from_addr='alice@%s' % DOMAIN, subject='suite large', body=body),
                           xclient={'LOGIN': 'alice'})
        self.assertTrue(rb.accepted, rb)
        da, db = self.same_delivery('suite large')
        self.assertEqual(da.body(), db.body())
        self.assertGreater(len(db.raw), 300000)
        got = h.verify_dkimpy(db.raw, self.dk.keys)
        self.assertEqual([g.result for g in got], ['pass', 'pass'], got)

    def test_bounce_suppresses_same(self):
        rcpt = 'gone@example.net'
        ra, rb = self.both('carol@%s' % DOMAIN, [rcpt],
                           h.make_message(from_addr='carol@%s' % DOMAIN, to_addr=rcpt, subject='suite tagged'))
        self.assertTrue(rb.accepted, rb)
        for side in ('a', 'b'):
            d = self.delivered(side, 'suite tagged')
            local = d.mail_from.split('@')[0]
            r = h.send(self.pfs[side].port, '', [d.mail_from], test_bounce.dsn(local, rcpt),
                       xclient=OUTSIDE)
            self.assertTrue(r.accepted, r)
        h.wait_until(lambda: self.redis.cli('--no-raw', 'KEYS', 'pmbounceB:*') != '', what='B recorded')
        ra, rb = self.both('carol@%s' % DOMAIN, [rcpt],
                           h.make_message(from_addr='carol@%s' % DOMAIN, to_addr=rcpt, subject='suite again'))
        self.assertFalse(ra.accepted, ra)

    def test_zy_decision_lines_one_form(self):
        """Every decision line of every module, in the separate daemons and in the suite, ends in
        client= [login=] (milter_conn_decision()); only limit's retry of other transactions'
        refunds names no client."""
        decision = re.compile(r': (auth|bounce|dkim|limit): action=')
        form = re.compile(r'(\S+): (auth|bounce|dkim|limit): action=\S+( \S.*)? client=\S+( login=\S+)?$')
        seen = 0
        for m in list(self.milters.values()) + [self.suite]:
            for line in m.log().splitlines():
                if not decision.search(line) or 'action=refund reason=retry ' in line:
                    continue
                seen += 1
                self.assertRegex(line, form, m.name)
        self.assertGreater(seen, 10)

    def test_zz_milters_clean(self):
        import test_sendmail
        milters = list(self.milters.values()) + [self.suite]
        # Postfix's routine ABORT/QUIT after an accepting milter is no warning (debug only)
        for m in milters:
            self.assertNotIn('out of sequence', m.log(), m.name)
        test_sendmail.assert_clean(self, milters, stop=True)

    def test_check_and_reload(self):
        r = subprocess.run([h.binary('postmill-suite'), '-n', '-c', self.conf_b], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        self.assertIn('4 modules in one conversation: auth, bounce, dkim, limit', out)
        bad = self.write_conf('bad.conf', [l if not l.startswith('suite_milters') else 'suite_milters = dkim, nope'
                                           for l in open(self.conf_b).read().splitlines()])
        r = subprocess.run([h.binary('postmill-suite'), '-n', '-c', bad], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown milter "nope"', r.stdout.decode())
        # a reload may not change the module list: refused, the running modules go on
        good = open(self.conf_b).read()
        try:
            with open(self.conf_b, 'w') as f:
                f.write(good.replace('suite_milters = auth, bounce, dkim, limit', 'suite_milters = dkim'))
            self.suite.hup()
            self.suite.wait_log(r'suite_milters changed from "auth, bounce, dkim, limit" to "dkim": '
                                r'restart postmill-suite')
        finally:
            with open(self.conf_b, 'w') as f:
                f.write(good)
        r = h.send(self.pfs['b'].port, 'dave@%s' % DOMAIN, ['rcpt@example.net'],
                   h.make_message(from_addr='dave@%s' % DOMAIN, subject='suite after reload'))
        self.assertTrue(r.accepted, r)
        d = self.delivered('b', 'suite after reload')
        self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
        self.assertEqual([g.result for g in h.verify_dkimpy(d.raw, self.dk.keys)], ['pass', 'pass'])
        self.suite.hup()
        self.suite.wait_log(r'reloaded .*\(generation \d+\)')


if __name__ == '__main__':
    unittest.main()


@unittest.skipIf(h.suite_mode(), 'starts its own postmill-suite')
class SuiteSendmailTest(unittest.TestCase):
    """postmill-suite behind a real Sendmail 8.17 (the commented alternative line of
    conf/sendmail/postmill.m4): outbound mail of an authenticated client is signed with the
    List-Unsubscribe fields covered, tagged and counted; inbound mail from outside gets
    Authentication-Results, and DMARC p=reject refuses forged mail."""

    @classmethod
    def setUpClass(cls):
        import test_sendmail as ts
        lines = start_stack(cls, 'pm-suitesm-', 1000, 'unsubscribe')
        wd = cls.wd
        cls.sink = h.Sink(wd)
        cls.sink.start()
        cls.addClassCleanup(cls.sink.stop)
        sock = wd.path('suite.sock')
        conf = ts.common_conf(wd, 'postmill', lines + [
            'suite_socket = unix:' + sock, 'suite_pid_file = ' + wd.path('suite.pid')])
        cls.suite = h.MilterProcess(wd, [h.binary('postmill-suite'), '-f', '-c', conf], 'unix:' + sock)
        cls.suite.start()
        cls.addClassCleanup(cls.suite.stop)
        cls.sm = h.Sendmail(wd, cls.sink.port, milters={'suite': 'unix:' + sock}, sasl_users=ts.USERS)
        cls.sm.start()
        cls.addClassCleanup(cls.sm.stop)
        cls.ts = ts

    def test_outbound_signed_tagged_counted(self):
        r = h.send(self.sm.port, 'alice@%s' % DOMAIN, ['rcpt@example.net'],
                   h.make_message(from_addr='alice@%s' % DOMAIN, subject='suite sendmail outbound'),
                   auth=('alice', self.ts.USERS['alice']))
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink.messages()
                                       if 'suite sendmail outbound' in ''.join(d.header('Subject'))), None),
                         what='the outbound message')
        got = h.verify_dkimpy(d.raw, self.dk.keys)
        self.assertEqual([(g.selector, g.result) for g in got], [('s1', 'pass'), ('e1', 'pass')], got)
        self.assertEqual([g.result for g in h.verify_mail_dkim(d.raw, self.dk.keys)][:1], ['pass'])
        self.assertRegex(d.mail_from, r'^b-[a-z2-7]{48}@bounces\.test$')
        self.assertEqual(len(d.header('List-Unsubscribe')), 1)
        for s, hl in signed_fields(d):
            self.assertIn('list-unsubscribe', hl.lower().split(':'), (s, hl))
        keys = self.redis.cli('KEYS', 'pmlimit:{sasl:alice}:day:*').split()
        self.assertEqual(len(keys), 1)
        self.assertEqual(self.redis.cli('GET', keys[0]), '1')
        qid = re.escape(r.queue_id)
        for m in ('dkim: action=sign', 'bounce: action=tag', 'limit: action=accept stage=eom key=sasl:alice'):
            self.suite.wait_log(r'%s: %s' % (qid, m))

    def test_inbound_checked_not_signed(self):
        msg = h.make_message(from_addr='a@rej.dm.test', subject='suite sendmail inbound')
        msg = dkim.sign(msg, b's1', b'rej.dm.test', self.rsa_in_pem,
                        include_headers=[b'from', b'to', b'subject', b'date']) + msg
        r = h.send(self.sm.port, 'bounce@example.net', ['rcpt@example.net'], msg, source=self.ts.OUTSIDE)
        self.assertTrue(r.accepted, r)
        d = h.wait_until(lambda: next((d for d in self.sink.messages()
                                       if 'suite sendmail inbound' in ''.join(d.header('Subject'))), None),
                         what='the inbound message')
        ar = ' '.join(d.header('Authentication-Results'))
        self.assertIn('dkim=pass', ar)
        self.assertIn('dmarc=pass', ar)
        self.assertEqual(len(d.header('DKIM-Signature')), 1, 'only the sender\'s own signature')
        self.assertEqual(d.mail_from, 'bounce@example.net')
        r = h.send(self.sm.port, 'bounce@example.net', ['rcpt@example.net'],
                   h.make_message(from_addr='a@rej.dm.test', subject='suite forged'), source=self.ts.OUTSIDE)
        self.assertEqual(r.data[0], 550, r)

    def test_zz_milters_clean(self):
        self.ts.assert_clean(self, [self.suite], stop=True)
