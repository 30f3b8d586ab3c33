"""test_protocol - postmill-auth, postmill-bounce and postmill-limit driven directly over the
milter protocol, without Postfix (tests/milter/lib/rawmilter.py plays the MTA's side).

The daemons run on postmill's own protocol engine (engine/), so each one is checked here against
what Postfix may send but the Postfix-driven tests (test_auth, test_bounce, test_limit) cannot
choose to send.  One stack per class (Redis and knotd from harness.py, the milter started with
the configuration its own e2e tests use); every case asserts concrete replies, inserted fields,
modifications or Redis counters:
  - negotiation: the actions and protocol steps each milter asks for (see their sources), and
    a refusal when the MTA cannot give the actions a milter needs;
  - several messages on one connection: auth writes one Authentication-Results per message
    (the second sender's SPF result is its own), bounce tags each message with its own tag and
    records only that message's recipients, limit counts each message and recipient once;
  - an ABORT in the middle of a message, then a clean message: no stray field or removal
    (auth), no leaked recipient in the record (bounce), the reservation refunded (limit);
  - a connection dropped in the middle of a message: limit refunds, every milter serves the
    next connection;
  - a header field of 1 MiB less a little (the engine's packet limit, milter_main.c) and 2000
    header fields;
  - header values with and without the leading space (SMFIP_HDR_LEADSPC), where negotiated: a
    simple/simple DKIM signature verifies both ways in postmill-auth;
  - an IPv6 client address in SMFIC_CONNECT;
  - a reload that turns limit_tenant_pause on: a connection that negotiated no reply at MAIL
    (SMFIP_NR_MAIL) refuses a paused tenant's mail at RCPT, a new one at MAIL.
"""

import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'milter', 'lib'))

import harness as h  # noqa: E402
import rawmilter as rm  # noqa: E402
import dkim  # noqa: E402

# a header value that fits one packet of the engine's limit (1 MiB - 1 bytes of data, the name
# and two NULs included) with a little to spare
HUGE = 1024 * 1024 - 256
SANITIZER = r'runtime error|AddressSanitizer|LeakSanitizer|worker killed|worker exited'


def huge_value(size):
    """A folded value of SIZE bytes (lines of 78 bytes, as a References list would be)."""
    line = 'x' * 76
    out = []
    n = 0
    while n + len(line) + 3 < size:
        out.append(line)
        n += len(line) + 3
    return '\r\n\t'.join(out) + '\r\n\t' + 'y' * max(0, size - n - 3)


def many_headers(n):
    return [('X-Many-%d' % i, 'value number %d' % i) for i in range(n)]


def std_headers(from_addr, subject='protocol test'):
    return [('From', from_addr), ('To', 'rcpt@example.net'), ('Subject', subject),
            ('Date', 'Mon, 23 Nov 2026 12:00:00 +0000'), ('Message-ID', '<%s@client.test>' % subject)]


# more macros for one stage than the engine's MPROTO_MAX_ARGS (64 strings), {auth_authen} last
MANY_MACROS = [('{x_macro_%d}' % i, 'value %d' % i) for i in range(60)]


def inserted(r, name):
    return [v for n, v, ins in r.fields if ins and n.lower() == name.lower()]


class ProtoCase(unittest.TestCase):
    """A stack per class; tearDownClass stops it and checks a clean exit."""

    milters = ()

    @classmethod
    def stop_stack(cls, services):
        for s in services:
            s.stop()
        problems = []
        for m in cls.milters:
            if m.returncode != 0:
                problems.append('%s exited %r' % (m.name, m.returncode))
            if re.search(SANITIZER, m.log()):
                problems.append('%s: sanitizer report:\n%s' % (m.name, h.tail(m.log(), 40)))
        cls.wd.cleanup()
        if problems:
            raise AssertionError('; '.join(problems))

    def open(self, ip='192.0.2.10', leadspace=True, helo='helo.sp.test'):
        m = rm.Milter(self.sock, leadspace=leadspace)
        self.addCleanup(m.s.close)
        self.assertEqual(m.connect(ip), b'c')
        if helo:
            self.assertEqual(m.helo(helo), b'c')
        return m

    def assertAlive(self):
        self.assertTrue(self.milter.alive(), h.tail(self.milter.log()))

    def assertNegotiated(self, m, actions, steps):
        self.assertEqual((hex(m.actions), hex(m.prot)), (hex(actions), hex(steps)),
                         'negotiated (actions, protocol): got/want')

    def assertRefusesActions(self, actions):
        """An MTA that cannot grant ACTIONS is refused at negotiation (connection closed)."""
        try:
            m = rm.Milter(self.sock, actions=actions)
        except rm.Closed:
            return
        except AssertionError as e:
            self.assertRegex(str(e), r'negotiation: got')
            return
        m.s.close()
        self.fail('negotiation with actions %#x accepted (%#x %#x), want refused'
                  % (actions, m.actions, m.prot))


# ---------------------------------------------------------------------------------------------

SP_ZONE = '\n'.join([
    'pass IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8::/32 -all"',
    'fail IN TXT "v=spf1 -all"',
    'helo IN TXT "v=spf1 ip4:192.0.2.10 -all"',
]) + '\n'
AUTH_ID = 'mx.proto.test'


class AuthProtocolTest(ProtoCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-proto-auth-')
        keys = cls.wd.mkdir('keys', 0o700)
        cls.rsa, rsa_txt = h.gen_rsa_key(keys, 'rsa', 2048)
        cls.rsa_pem = open(cls.rsa, 'rb').read()
        zone = SP_ZONE + h.txt_record('s1._domainkey.pass', rsa_txt) + '\n'
        cls.knot = h.Knot(cls.wd, {'sp.test': zone})
        cls.knot.start()
        cls.sock = cls.wd.path('auth.sock')
        conf = cls.wd.write('postmill.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + cls.sock, 'auth_pid_file = ' + cls.wd.path('auth.pid'),
            'auth_authserv_id = ' + AUTH_ID, 'dns_resolver = ' + cls.knot.server,
        ]) + '\n')
        cls.milter = h.MilterProcess(cls.wd, [h.binary('postmill-auth'), '-f', '-c', conf],
                                     'unix:' + cls.sock)
        cls.milter.start()
        cls.milters = (cls.milter,)

    @classmethod
    def tearDownClass(cls):
        cls.stop_stack([cls.milter, cls.knot])

    def send(self, m, qid, from_addr='a@pass.sp.test', headers=None, **kw):
        hdrs = headers if headers is not None else std_headers(from_addr, qid)
        return m.message(qid, hdrs, envfrom='<%s>' % from_addr, rcpts=['rcpt@example.net'], **kw)

    def assertOneAR(self, r, want=()):
        """Exactly one Authentication-Results and one Received-SPF of ours, nothing else."""
        self.assertFalse(r.closed, '%s: connection closed at %s' % (r.qid, r.stage))
        self.assertEqual((r.stage, r.reply), ('eom', b'c'), r.qid)
        ar = inserted(r, 'Authentication-Results')
        self.assertEqual(len(ar), 1, '%s: AR fields %r' % (r.qid, ar))
        self.assertEqual(len(inserted(r, 'Received-SPF')), 1, r.qid)
        self.assertEqual(len([f for f in r.fields if f[2]]), 2, r.fields[:2])
        self.assertTrue(ar[0].startswith(' ' + AUTH_ID + ';'), 'AR value %r' % ar[0][:80])
        flat = ' '.join(ar[0].split())
        for w in want:
            self.assertIn(w, flat)
        self.assertEqual(r.mods, [], r.qid)
        return flat

    @unittest.skipIf(h.suite_mode(), 'the separate daemon\'s own negotiation; the suite\'s is '
                     'merged (tests/unit/mproto_chain_test.c)')
    def test_negotiate(self):
        m = rm.Milter(self.sock)
        m.s.close()
        # auth_milter.c: SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE; no RCPT, DATA or
        # unknown command, exact header bytes, no replies to connect, HELO, MAIL, header, end
        # of header, body (only end of message answers)
        self.assertNegotiated(m, rm.SMFIF_ADDHDRS | rm.SMFIF_CHGHDRS | rm.SMFIF_QUARANTINE,
                              rm.SMFIP_NORCPT | rm.SMFIP_NOUNKNOWN | rm.SMFIP_NODATA
                              | rm.SMFIP_HDR_LEADSPC | rm.SMFIP_NR_CONN | rm.SMFIP_NR_HELO
                              | rm.SMFIP_NR_MAIL | rm.SMFIP_NR_HDR | rm.SMFIP_NR_EOH
                              | rm.SMFIP_NR_BODY)
        self.assertRefusesActions(rm.SMFIF_ADDHDRS | rm.SMFIF_QUARANTINE)
        self.assertAlive()

    def test_several_messages(self):
        m = self.open()
        a = self.assertOneAR(self.send(m, 'AS1'), ['spf=pass smtp.mailfrom=a@pass.sp.test'])
        b = self.assertOneAR(self.send(m, 'AS2', 'b@fail.sp.test'), ['spf=fail smtp.mailfrom=b@fail.sp.test'])
        self.assertNotIn('pass.sp.test', b)
        c = self.assertOneAR(self.send(m, 'AS3'), ['spf=pass smtp.mailfrom=a@pass.sp.test'])
        self.assertEqual(a.replace('AS1', ''), c.replace('AS3', ''))
        m.quit()

    def test_abort_then_clean(self):
        m = self.open()
        # a forged AR with our id in the aborted message: its removal must not leak into the next
        forged = std_headers('a@pass.sp.test', 'AA1') + [
            ('Authentication-Results', AUTH_ID + '; dkim=pass header.d=pass.sp.test')]
        r = self.send(m, 'AA1', headers=forged, until='eom')
        self.assertFalse(r.closed)
        m.abort()
        self.assertOneAR(self.send(m, 'AA2', 'b@fail.sp.test'), ['spf=fail'])
        # and one aborted before its header
        self.send(m, 'AA3', until='eoh')
        m.abort()
        self.assertOneAR(self.send(m, 'AA4'), ['spf=pass'])
        m.quit()

    def test_dropped_mid_message(self):
        m = self.open()
        r = self.send(m, 'AD1', headers=std_headers('a@pass.sp.test', 'AD1') + [('X-Big', huge_value(50000))],
                      until='eom')
        self.assertFalse(r.closed)
        m.s.close()
        m2 = self.open()
        self.assertOneAR(self.send(m2, 'AD2'), ['spf=pass'])
        m2.quit()
        self.assertAlive()

    def test_huge_and_many_headers(self):
        m = self.open()
        hdrs = std_headers('a@pass.sp.test', 'AH1') + [('References', huge_value(HUGE))]
        self.assertOneAR(self.send(m, 'AH1', headers=hdrs), ['spf=pass'])
        hdrs = std_headers('a@pass.sp.test', 'AH2') + many_headers(2000)
        self.assertOneAR(self.send(m, 'AH2', headers=hdrs), ['spf=pass'])
        m.quit()
        # a huge From: not one address, refused, and the milter goes on
        m = self.open()
        hdrs = std_headers('a@pass.sp.test', 'AH3')
        hdrs[0] = ('From', '"%s" <a@pass.sp.test>' % ('z' * (HUGE - 40)))
        r = self.send(m, 'AH3', headers=hdrs)
        self.assertFalse(r.closed, 'closed at %s' % r.stage)
        self.assertEqual(r.stage, 'eom')
        self.assertIn(r.reply, (b'c', b'y'))
        self.assertOneAR(self.send(m, 'AH4'), ['spf=pass'])
        m.quit()
        self.assertAlive()

    def test_leadspace(self):
        msg = ''.join('%s: %s\r\n' % f for f in std_headers('a@pass.sp.test', 'AL')).encode()
        body = b'Signed simple/simple: the header bytes must be exact.\r\n'
        sig = dkim.sign(msg + b'\r\n' + body, b's1', b'pass.sp.test', self.rsa_pem,
                        canonicalize=(b'simple', b'simple'),
                        include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
        name, value = sig.decode().rstrip('\r\n').split(':', 1)
        self.assertTrue(value.startswith(' '))
        hdrs = [(name, value[1:])] + std_headers('a@pass.sp.test', 'AL')
        got = []
        for lead in (True, False):
            m = self.open(leadspace=lead)
            self.assertEqual(bool(m.prot & rm.SMFIP_HDR_LEADSPC), lead)
            r = self.send(m, 'AL', headers=hdrs, body=[body])
            got.append(self.assertOneAR(r, ['dkim=pass (2048-bit key) header.d=pass.sp.test', 'spf=pass', 'spf=pass smtp.helo=helo.sp.test']))
            m.quit()
        self.assertEqual(got[0], got[1])

    def test_many_macros(self):
        m = self.open()
        self.assertOneAR(self.send(m, 'AM1', macros=MANY_MACROS), ['spf=pass'])
        m.quit()

    def test_ipv6_client(self):
        m = self.open(ip='2001:db8::10')
        r = self.send(m, 'A6')
        self.assertOneAR(r, ['spf=pass smtp.mailfrom=a@pass.sp.test'])
        self.assertIn('client-ip="2001:db8::10"', ' '.join(inserted(r, 'Received-SPF')[0].split()))
        m.quit()
        m = self.open(ip='2001:db9::10')
        self.assertOneAR(self.send(m, 'A7'), ['spf=fail smtp.mailfrom=a@pass.sp.test'])
        m.quit()


# ---------------------------------------------------------------------------------------------

BOUNCE_SENDER = 'alice@customer.test'
DSN_BODY = (b'--BB\r\nContent-Type: text/plain\r\n\r\nfailed\r\n'
            b'--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.test\r\n'
            b'\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n'
            b'Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--BB--\r\n')


class BounceProtocolTest(ProtoCase):
    @classmethod
    def setUpClass(cls):
        import test_bounce as tb
        cls.wd = h.Workdir(prefix='pm-proto-bounce-')
        cls.redis_srv = h.Redis(cls.wd)
        cls.redis_srv.start()
        cls.sock = tb.write_conf(cls, [tb.secret_file(cls.wd, 'bounce.secret')])
        cls.milter = h.MilterProcess(cls.wd, [h.binary('postmill-bounce'), '-f', '-c', cls.conf],
                                     'unix:' + cls.sock, name='bounce')
        cls.milter.start()
        cls.milters = (cls.milter,)

    @classmethod
    def tearDownClass(cls):
        cls.stop_stack([cls.milter, cls.redis_srv])

    def send(self, m, qid, rcpts, login='alice', **kw):
        kw.setdefault('headers', std_headers(BOUNCE_SENDER, qid))
        return m.message(qid, kw.pop('headers'), envfrom='<%s>' % BOUNCE_SENDER, rcpts=rcpts,
                         login=login, **kw)

    def tagged(self, r, rcpts):
        """R was tagged: its new sender, and the Redis record lists exactly RCPTS."""
        self.assertFalse(r.closed, '%s: closed at %s' % (r.qid, r.stage))
        self.assertEqual((r.stage, r.reply), ('eom', b'c'), r.qid)
        # our reference header (bounce_ref.h) is the only field added
        added = [f for f in r.fields if f[2]]
        self.assertEqual([f[0] for f in added], ['X-Postmill-Ref'], r.qid)
        self.assertRegex(added[0][1].strip(), r'^[a-z2-7]{48}$')
        self.assertEqual(len(r.mods), 1, r.mods)
        cmd, data = r.mods[0]
        self.assertEqual(cmd, b'e')
        addr = data.rstrip(b'\0').decode()
        self.assertRegex(addr, r'^<b-[a-z2-7]{48}@bounces\.test>$')
        line = self.milter.wait_log(r'%s: bounce: action=tag .*from=%s' % (r.qid, re.escape(addr)))[0]
        idhex = re.search(r' id=([0-9a-f]+)', line.group(0)).group(1)
        self.assertIn(' rcpts=%d ' % len(rcpts), line.group(0))
        rec = self.redis_srv.cli('HGET', 'pmbounce:{m:%s}' % idhex, 'rcpts')
        self.assertEqual(sorted(rec.split(',')), sorted(rcpts))
        return addr

    def bounce(self, m, qid, tag_addr, headers=(), rcpt='gone@remote.test'):
        hdrs = [('From', 'MAILER-DAEMON@remote.test'), ('To', tag_addr.strip('<>')),
                ('Subject', 'Undelivered'), ('MIME-Version', '1.0'),
                ('Content-Type', 'multipart/report; report-type=delivery-status; boundary="BB"')]
        return m.message(qid, hdrs + list(headers), envfrom='<>', rcpts=[tag_addr],
                         body=[DSN_BODY % rcpt.encode()])

    def assertBounceHeaders(self, r, rcpt):
        self.assertFalse(r.closed, '%s: closed at %s' % (r.qid, r.stage))
        self.assertEqual((r.stage, r.reply), ('eom', b'c'), r.qid)
        got = {n: v.strip() for n, v, ins in r.fields if ins}
        self.assertEqual(got, {'X-Postmill-Bounce-Class': 'hard', 'X-Postmill-Bounce-Reason': 'user_unknown',
                               'X-Postmill-Bounce-Recipient': rcpt, 'X-Postmill-Bounce-Status': '5.1.1'})

    @unittest.skipIf(h.suite_mode(), 'the separate daemon\'s own negotiation; the suite\'s is '
                     'merged (tests/unit/mproto_chain_test.c)')
    def test_negotiate(self):
        m = rm.Milter(self.sock)
        m.s.close()
        # bounce_milter.c: change the sender, add headers (bounces, X-Postmill-Ref), remove the
        # sender's X-Postmill-Ref and Feedback-ID, redirect (add/delete rcpt), replace the body
        # (open and click tracking; taken when offered, not required); no HELO, DATA or
        # unknown command; header values without the leading space; no replies to connect,
        # MAIL, header, end of header, body (only RCPT and end of message ever refuse)
        self.assertNegotiated(m, rm.SMFIF_CHGFROM | rm.SMFIF_ADDHDRS | rm.SMFIF_CHGHDRS | rm.SMFIF_ADDRCPT
                              | rm.SMFIF_DELRCPT | rm.SMFIF_CHGBODY,
                              rm.SMFIP_NOHELO | rm.SMFIP_NOUNKNOWN | rm.SMFIP_NODATA
                              | rm.SMFIP_NR_CONN | rm.SMFIP_NR_MAIL | rm.SMFIP_NR_HDR
                              | rm.SMFIP_NR_EOH | rm.SMFIP_NR_BODY)
        self.assertRefusesActions(rm.SMFI_V6_ACTS & ~rm.SMFIF_CHGFROM)
        self.assertAlive()

    def test_several_messages(self):
        m = self.open(helo=None)
        addrs = [self.tagged(self.send(m, 'BS1', ['a1@remote.test', 'a2@remote.test']),
                             ['a1@remote.test', 'a2@remote.test']),
                 self.tagged(self.send(m, 'BS2', ['b1@remote.test']), ['b1@remote.test'])]
        # not hosted (no login, not internal): left alone
        r = self.send(m, 'BS3', ['c1@remote.test'], login=None)
        self.assertEqual((r.stage, r.reply, r.mods, [f for f in r.fields if f[2]]), ('eom', b'c', [], []))
        addrs.append(self.tagged(self.send(m, 'BS4', ['d1@remote.test']), ['d1@remote.test']))
        self.assertEqual(len(set(addrs)), 3, 'each message has its own tag')
        # a bounce to the first tag on the same connection, then outbound mail again
        self.assertBounceHeaders(self.bounce(m, 'BS5', addrs[0], rcpt='a2@remote.test'), 'a2@remote.test')
        self.tagged(self.send(m, 'BS6', ['e1@remote.test']), ['e1@remote.test'])
        m.quit()

    def test_abort_then_clean(self):
        m = self.open(helo=None)
        r = self.send(m, 'BA1', ['x1@remote.test', 'x2@remote.test'], until='eom')
        self.assertFalse(r.closed)
        m.abort()
        self.tagged(self.send(m, 'BA2', ['y1@remote.test']), ['y1@remote.test'])
        # an aborted bounce leaves no bounce state behind: the next outbound message is tagged
        tag = self.tagged(self.send(m, 'BA3', ['y2@remote.test']), ['y2@remote.test'])
        r = m.message('BA4', [('From', 'MAILER-DAEMON@remote.test')], envfrom='<>', rcpts=[tag],
                      until='eom')
        m.abort()
        self.tagged(self.send(m, 'BA5', ['y3@remote.test']), ['y3@remote.test'])
        m.quit()

    def test_dropped_mid_message(self):
        m = self.open(helo=None)
        self.send(m, 'BD1', ['z1@remote.test'], until='eom')
        m.s.close()
        m2 = self.open(helo=None)
        self.tagged(self.send(m2, 'BD2', ['z2@remote.test']), ['z2@remote.test'])
        m2.quit()
        self.assertAlive()

    def test_huge_and_many_headers(self):
        m = self.open(helo=None)
        hdrs = std_headers(BOUNCE_SENDER, 'BH1') + [('References', huge_value(HUGE))]
        tag = self.tagged(self.send(m, 'BH1', ['h1@remote.test'], headers=hdrs), ['h1@remote.test'])
        tag2 = self.tagged(self.send(m, 'BH2', ['h2@remote.test'], headers=std_headers(BOUNCE_SENDER, 'BH2')
                                     + many_headers(2000)), ['h2@remote.test'])
        # bounces with 2000 fields, and with a field of 1 MiB (over bounce_message_max: the
        # copy is truncated, the bounce still recorded and delivered)
        self.assertBounceHeaders(self.bounce(m, 'BH3', tag, many_headers(2000), rcpt='h1@remote.test'),
                                 'h1@remote.test')
        r = self.bounce(m, 'BH4', tag2, [('X-Huge', huge_value(HUGE))], rcpt='h2@remote.test')
        self.assertEqual((r.closed, r.stage, r.reply), (False, 'eom', b'c'))
        self.milter.wait_log(r'BH4: bounce: action=record .*truncated=1')
        m.quit()
        self.assertAlive()

    def test_leadspace_not_negotiated(self):
        # the MTA offers SMFIP_HDR_LEADSPC; postmill-bounce does not take it, so values come
        # without the leading space and a bounce's header is parsed as usual
        m = self.open(helo=None)
        self.assertFalse(m.prot & rm.SMFIP_HDR_LEADSPC)
        tag = self.tagged(self.send(m, 'BL1', ['l1@remote.test']), ['l1@remote.test'])
        self.assertBounceHeaders(self.bounce(m, 'BL2', tag, rcpt='l1@remote.test'), 'l1@remote.test')
        m.quit()

    def test_forged_bounce_long_local(self):
        # a recipient at the bounce domain is a bounce whatever its local part: one longer than
        # any tag (or over the parser's 512 octets) fails the tag check, it is not let through
        m = self.open(helo=None)
        for qid, local in (('BF1', 'b-' + 'a' * 600), ('BF2', 'b-' + 'a' * 2000), ('BF3', 'x' * 70)):
            r = m.message(qid, [('From', 'x@remote.test')], envfrom='<>', rcpts=['<%s@bounces.test>' % local])
            self.assertEqual((r.stage, r.reply, r.text), ('rcpt', b'y', '550 5.7.1 Invalid bounce address: '
                             'no message of ours was sent with this return path'), qid)
        m.quit()

    def test_many_macros(self):
        m = self.open(helo=None)
        self.tagged(self.send(m, 'BM1', ['m1@remote.test'], macros=MANY_MACROS), ['m1@remote.test'])
        m.quit()

    def test_ipv6_client(self):
        # ::1 is in internal_hosts: tagged without a login; 2001:db8::10 is not
        m = self.open(ip='::1', helo=None)
        self.tagged(self.send(m, 'B61', ['v1@remote.test'], login=None), ['v1@remote.test'])
        m.quit()
        m = self.open(ip='2001:db8::10', helo=None)
        r = self.send(m, 'B62', ['v2@remote.test'], login=None)
        self.assertEqual((r.stage, r.reply, r.mods), ('eom', b'c', []))
        self.tagged(self.send(m, 'B63', ['v3@remote.test']), ['v3@remote.test'])
        m.quit()


# ---------------------------------------------------------------------------------------------

LIMIT_RULES = ('msgs sasl messages quota=100/1000d\n'
               'rcpts sasl recipients quota=100/1000d\n'
               'net6 client_ip/64 recipients quota=100/1000d\n'
               'exempt client_ip 192.0.2.99\n')


class LimitProtocolTest(ProtoCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-proto-limit-')
        cls.redis_srv = h.Redis(cls.wd)
        cls.redis_srv.start()
        cls.sock = cls.wd.path('limit.sock')
        rules = cls.wd.write('limit.rules', LIMIT_RULES)
        conf = cls.wd.write('limit.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'limit_socket = unix:' + cls.sock, 'limit_pid_file = ' + cls.wd.path('limit.pid'),
            'limit_rules_file = ' + rules, 'redis_server = 127.0.0.1:%d' % cls.redis_srv.port,
        ]) + '\n', mode=0o640)
        os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
        cls.milter = h.MilterProcess(cls.wd, [h.binary('postmill-limit'), '-f', '-c', conf],
                                     'unix:' + cls.sock, name='limit')
        cls.milter.start()
        cls.milters = (cls.milter,)

    @classmethod
    def tearDownClass(cls):
        cls.stop_stack([cls.milter, cls.redis_srv])

    def count(self, pattern):
        """The counter of the one key matching PATTERN (0 when there is none)."""
        keys = self.redis_srv.cli('KEYS', pattern).split()
        self.assertLessEqual(len(keys), 1, keys)
        return int(self.redis_srv.cli('GET', keys[0]) or 0) if keys else 0

    def counts(self, login):
        return (self.count('pmlimit:{sasl:%s}:msgs:*' % login),
                self.count('pmlimit:{sasl:%s}:rcpts:*' % login))

    def wait_counts(self, login, want):
        h.wait_until(lambda: self.counts(login) == want, timeout=30,
                     what='%s counters (messages, recipients) == %r' % (login, want),
                     on_timeout=lambda: 'got %r\n%s' % (self.counts(login), h.tail(self.milter.log())))

    def send(self, m, qid, login, rcpts, **kw):
        return m.message(qid, std_headers('sender@example.test', qid), login=login,
                         rcpts=rcpts, **kw)

    def accepted(self, r, nrcpts):
        self.assertFalse(r.closed, '%s: closed at %s' % (r.qid, r.stage))
        self.assertEqual((r.stage, r.reply, r.mods), ('eom', b'c', []), r.qid)
        self.assertEqual(r.rcpt_replies, [(b'c', '')] * nrcpts, r.qid)

    @unittest.skipIf(h.suite_mode(), 'the separate daemon\'s own negotiation; the suite\'s is '
                     'merged (tests/unit/mproto_chain_test.c)')
    def test_negotiate(self):
        m = rm.Milter(self.sock)
        m.s.close()
        # limit_milter.c: no actions; no HELO, header, end of header, body, unknown, DATA; no
        # replies to connect and (limit_tenant_pause off) MAIL; RCPT has one (any rule: a
        # recipient is checked there, and the message with its first recipient)
        self.assertNegotiated(m, 0, rm.SMFIP_NOHELO | rm.SMFIP_NOHDRS | rm.SMFIP_NOEOH | rm.SMFIP_NOBODY
                              | rm.SMFIP_NOUNKNOWN | rm.SMFIP_NODATA | rm.SMFIP_NR_CONN
                              | rm.SMFIP_NR_MAIL)
        self.assertAlive()

    def test_several_messages(self):
        m = self.open(ip='192.0.2.99', helo=None)
        for i, n in enumerate((2, 1, 3)):
            self.accepted(self.send(m, 'LS%d' % i, 'multi', ['r%d%d@example.net' % (i, j) for j in range(n)]), n)
        self.assertEqual(self.counts('multi'), (3, 6))
        # no rule for this client: accepted at the first RCPT (MAIL has no reply), nothing
        # counted, the next message counts
        r = self.send(m, 'LS9', None, ['x@example.net'])
        self.assertEqual((r.stage, r.reply), ('rcpt', b'a'))
        self.accepted(self.send(m, 'LS4', 'multi', ['y@example.net']), 1)
        self.assertEqual(self.counts('multi'), (4, 7))
        m.quit()

    def test_abort_then_clean(self):
        m = self.open(helo=None)
        r = self.send(m, 'LA1', 'abort', ['a@example.net', 'b@example.net', 'c@example.net'], until='eom')
        self.assertEqual(r.rcpt_replies, [(b'c', '')] * 3)
        self.assertEqual(self.counts('abort'), (1, 3), 'reserved at RCPT, the message with the first')
        m.abort()
        self.wait_counts('abort', (0, 0))
        self.accepted(self.send(m, 'LA2', 'abort', ['d@example.net']), 1)
        self.assertEqual(self.counts('abort'), (1, 1))
        # ABORT after a finished message (Postfix sends it) gives nothing back
        m.abort()
        time.sleep(0.2)
        self.assertEqual(self.counts('abort'), (1, 1))
        # a new MAIL without ABORT or EOM refunds the unfinished transaction
        self.send(m, 'LA3', 'abort', ['e@example.net', 'f@example.net'], until='eom')
        self.accepted(self.send(m, 'LA4', 'abort', ['g@example.net']), 1)
        self.assertEqual(self.counts('abort'), (2, 2))
        m.quit()
        self.milter.wait_log(r'limit: action=refund reason=abort recipients=3 messages=1')

    def test_dropped_mid_message(self):
        m = self.open(helo=None)
        self.send(m, 'LD1', 'drop', ['a@example.net', 'b@example.net'], until='eom')
        self.assertEqual(self.counts('drop'), (1, 2))
        m.s.close()
        self.wait_counts('drop', (0, 0))
        m2 = self.open(helo=None)
        self.accepted(self.send(m2, 'LD2', 'drop', ['c@example.net']), 1)
        self.assertEqual(self.counts('drop'), (1, 1))
        m2.quit()
        self.assertAlive()

    def test_huge_and_many_headers(self):
        # header fields are negotiated away (SMFIP_NOHDRS): an MTA that sends them anyway gets
        # its replies, and the message counts as usual
        m = self.open(helo=None)
        self.assertTrue(m.prot & rm.SMFIP_NOHDRS)
        m.prot &= ~(rm.SMFIP_NOHDRS | rm.SMFIP_NOEOH | rm.SMFIP_NOBODY)
        hdrs = std_headers('s@example.test', 'LH1') + [('References', huge_value(HUGE))] + many_headers(500)
        r = m.message('LH1', hdrs, login='huge', rcpts=['a@example.net'])
        self.accepted(r, 1)
        self.assertEqual(self.counts('huge'), (1, 1))
        m.quit()
        self.assertAlive()

    def test_leadspace_not_negotiated(self):
        m = self.open(helo=None)
        self.assertFalse(m.prot & rm.SMFIP_HDR_LEADSPC)
        m.quit()

    def test_many_macros(self):
        # Postfix sends whatever milter_mail_macros lists; libmilter takes any number of them
        m = self.open(helo=None)
        self.accepted(self.send(m, 'LM1', 'macros', ['a@example.net'], macros=MANY_MACROS), 1)
        self.assertEqual(self.counts('macros'), (1, 1), '{auth_authen} after %d macros' % len(MANY_MACROS))
        m.quit()

    def test_ipv6_client(self):
        m = self.open(ip='2001:db8:1:2::10', helo=None)
        m2 = self.open(ip='2001:db8:1:2::99', helo=None)
        self.accepted(self.send(m, 'L61', None, ['a@example.net', 'b@example.net']), 2)
        self.accepted(self.send(m2, 'L62', None, ['c@example.net']), 1)
        # one /64: one counter
        self.assertEqual(self.count('pmlimit:{ip:2001:db8:1:2::/64}:net6:*'), 3)
        m.quit()
        m2.quit()



class LimitReloadProtocolTest(ProtoCase):
    """A connection keeps the protocol flags it negotiated (limit_milter.c). With
    limit_tenant_pause off, MAIL has no reply (SMFIP_NR_MAIL); a reload turns the pause on: a
    connection opened before refuses a paused tenant's mail at RCPT (its MAIL cannot answer),
    one opened after at MAIL. The refusal owed by one message is not carried to the next."""

    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-proto-limitrl-')
        cls.redis_srv = h.Redis(cls.wd)
        cls.redis_srv.start()
        cls.sock = cls.wd.path('limit.sock')
        rules = cls.wd.write('limit.rules', LIMIT_RULES)
        cls.conf_lines = [
            'run_user = postmill', 'socket_group = postfix',
            'limit_socket = unix:' + cls.sock, 'limit_pid_file = ' + cls.wd.path('limit.pid'),
            'limit_rules_file = ' + rules, 'redis_server = 127.0.0.1:%d' % cls.redis_srv.port]
        cls.conf = cls.write_conf(cls.conf_lines)
        cls.milter = h.MilterProcess(cls.wd, [h.binary('postmill-limit'), '-f', '-c', cls.conf],
                                     'unix:' + cls.sock, name='limit')
        cls.milter.start()
        cls.milters = (cls.milter,)

    @classmethod
    def write_conf(cls, lines):
        conf = cls.wd.write('limit.conf', '\n'.join(lines) + '\n', mode=0o640)
        os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
        return conf

    @classmethod
    def tearDownClass(cls):
        cls.stop_stack([cls.milter, cls.redis_srv])

    def send(self, m, qid, envfrom, rcpts):
        return m.message(qid, std_headers('sender@example.test', qid), login='pat',
                         envfrom=envfrom, rcpts=rcpts)

    def test_pause_turned_on_by_reload(self):
        before = self.open(helo=None)
        if not h.suite_mode():
            self.assertTrue(before.prot & rm.SMFIP_NR_MAIL, hex(before.prot))
        self.redis_srv.cli('HSET', 'pmbounce:{t:paused.test}:pause', 'state', 'paused',
                           'reason', 'test')
        self.write_conf(self.conf_lines + ['limit_tenant_pause = tempfail'])
        self.milter.hup()
        self.milter.wait_log(r'reloaded .*limit\.conf')
        after = self.open(helo=None)
        if not h.suite_mode():
            self.assertFalse(after.prot & rm.SMFIP_NR_MAIL, hex(after.prot))
        # the connection from before: MAIL says nothing, every RCPT refuses
        r = self.send(before, 'LR1', '<news@paused.test>', ['a@example.net', 'b@example.net'])
        self.assertEqual(r.stage, 'rcpt', r.__dict__)
        self.assertEqual(len(r.rcpt_replies), 2, r.rcpt_replies)
        for code, text in r.rcpt_replies:
            self.assertEqual(code, b'y', r.rcpt_replies)
            self.assertRegex(text, r'^451 4\.7\.1 Sending paused for paused\.test \(test\)')
        self.assertEqual(self.redis_srv.cli('KEYS', 'pmlimit:*').split(), [])
        # its next message, of a tenant that is not paused: counted and accepted
        before.abort()
        r = self.send(before, 'LR2', '<news@other.test>', ['c@example.net'])
        self.assertEqual((r.stage, r.reply, r.rcpt_replies), ('eom', b'c', [(b'c', '')]), r.__dict__)
        # a connection opened after the reload refuses at MAIL
        r = self.send(after, 'LR3', '<news@paused.test>', ['d@example.net'])
        self.assertEqual((r.stage, r.reply), ('mail', b'y'), r.__dict__)
        self.assertRegex(r.text.decode(errors='replace'), r'^451 4\.7\.1 Sending paused for paused\.test')
        self.milter.wait_log(r'LR1: limit: action=tempfail stage=mail reason=tenant_paused')
        self.assertAlive()


if __name__ == '__main__':
    unittest.main()
