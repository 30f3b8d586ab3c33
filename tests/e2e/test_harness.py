"""test_harness - tests of the end-to-end harness itself (no postmill binary needed)."""

import base64
import os
import re
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

RECEIVED_RE = re.compile(rb'\AReceived: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*')


class PostfixRelayTest(h.E2ETestCase):

    def test_relay_from_mynetworks_keeps_bytes(self):
        sink = self.sink()
        pf = self.postfix(sink)
        body = ('Plain line.\r\n'
                '.A line starting with a dot (dot-stuffed on the wire)\r\n'
                '..two dots\r\n'
                'trailing white space   \r\n'
                '\ttab-indented\r\n'
                '\r\n'
                '\r\n')
        msg = h.make_message(subject='relay test', body=body, headers=[('X-Folded', 'one\r\n two')])
        r = h.send(pf.port, 'sender@example.test', ['a@example.net', 'b@example.org'], msg)
        self.assertTrue(r.accepted, r)
        self.assertTrue(r.queue_id, r)
        [d] = sink.wait_for(1, postfix=pf)
        self.assertEqual(d.mail_from, 'sender@example.test')
        self.assertEqual(sorted(d.rcpts), ['a@example.net', 'b@example.org'])
        m = RECEIVED_RE.match(d.raw)
        self.assertIsNotNone(m, d.raw[:300])
        received = m.group(0)
        self.assertIn(b'with ESMTP id ' + r.queue_id.encode(), received)
        self.assertIn(b'[127.0.0.1]', received)
        # everything after Postfix's own Received header is byte-for-byte what we sent
        self.assertEqual(d.raw[len(received):], msg)
        self.assertEqual(d.header('Subject'), ['relay test'])
        self.assertEqual(d.header('X-Folded'), ['one\r\n two'])
        # the sink may have the message before Postfix's log says so: wait for the log
        st = pf.wait_status(r.queue_id, 'sent', count=2)
        self.assertEqual([s['status'] for s in st], ['sent', 'sent'], st)
        self.assertEqual(sorted(s['to'] for s in st), ['a@example.net', 'b@example.org'])
        pf.wait_queue_empty()

    def test_external_client_is_refused_relaying(self):
        sink = self.sink()
        pf = self.postfix(sink)
        r = h.send(pf.port, 'sender@example.test', ['a@example.net'], h.make_message(),
                   xclient={'ADDR': '198.51.100.7', 'NAME': '[UNAVAILABLE]'})
        self.assertEqual(r.xclient[0], 220, r)
        self.assertEqual(r.ehlo2[0], 250, r)
        self.assertEqual(r.mail[0], 250, r)
        [(_, code, text)] = r.rcpt
        self.assertIn(code, (454, 554), r)
        self.assertIn('Relay access denied', text)
        self.assertFalse(r.accepted)
        pf.wait_log(r'reject: RCPT from unknown\[198\.51\.100\.7\]: 554 5\.7\.1')
        # the same client from 127.0.0.1 itself is relayed
        r2 = h.send(pf.port, 'sender@example.test', ['a@example.net'], h.make_message())
        self.assertTrue(r2.accepted, r2)
        self.assertEqual(len(sink.wait_for(1, postfix=pf)), 1)

    def test_sink_rejects_and_postfix_bounces(self):
        sink = self.sink(hard_reject=['RCPT'], hard_reply='550 5.1.1 no such user here')
        pf = self.postfix(sink)
        r = h.send(pf.port, 'sender@example.test', ['gone@example.net'], h.make_message())
        self.assertTrue(r.accepted, r)
        [st] = pf.wait_status(r.queue_id, 'bounced')
        self.assertEqual(st['status'], 'bounced')
        self.assertIn('550 5.1.1 no such user here', st['text'])
        self.assertEqual(sink.messages(), [])

    def test_local_submission_via_sendmail(self):
        sink = self.sink()
        pf = self.postfix(sink)
        msg = h.make_message(subject='via sendmail')
        pf.sendmail('local@example.test', ['x@example.net'], msg)
        [d] = sink.wait_for(1, postfix=pf)
        self.assertEqual(d.mail_from, 'local@example.test')
        self.assertEqual(d.header('Subject'), ['via sendmail'])
        self.assertTrue(d.raw.endswith(msg))


class XclientLoginTest(h.E2ETestCase):
    """What XCLIENT LOGIN=name does in Postfix 3.7 (documented in harness.py's docstring)."""

    def test_xclient_login_with_sasl_is_authenticated(self):
        sink = self.sink()
        mm = self.macro_milter()
        pf = self.postfix(sink, smtpd_milters=mm.spec, sasl=True)
        r = h.send(pf.port, 'alice@example.test', ['bob@example.net'], h.make_message(),
                   xclient={'ADDR': '198.51.100.7', 'NAME': 'mua.example.test', 'LOGIN': 'alice'})
        self.assertTrue(r.accepted, r)
        macros = mm.macros('mail')
        self.assertEqual(macros.get('{auth_authen}'), 'alice', mm.events)
        self.assertEqual(macros.get('{auth_type}'), 'XCLIENT', mm.events)
        self.assertEqual(mm.macros('connect').get('_'), 'mua.example.test [198.51.100.7]', mm.events)
        [d] = sink.wait_for(1, postfix=pf)
        self.assertRegex(d.header('Received')[0], r'from client\.test \(mua\.example\.test \[198\.51\.100\.7\]\)')
        self.assertIn('with ESMTPA id', d.header('Received')[0])
        pf.wait_log(r'client=mua\.example\.test\[198\.51\.100\.7\], sasl_method=XCLIENT, sasl_username=alice')
        # a plain external client in the same instance gets no {auth_authen}
        mm.events.clear()
        r2 = h.send(pf.port, 'eve@example.test', ['bob@example.net'], h.make_message(),
                    xclient={'ADDR': '198.51.100.8'})
        self.assertIn(r2.rcpt[0][1], (454, 554), r2)
        self.assertNotIn('{auth_authen}', mm.macros('mail'), mm.events)

    def test_xclient_login_without_sasl_is_not_authenticated(self):
        sink = self.sink()
        mm = self.macro_milter()
        pf = self.postfix(sink, smtpd_milters=mm.spec, sasl=False)
        r = h.send(pf.port, 'alice@example.test', ['bob@example.net'], h.make_message(),
                   xclient={'ADDR': '198.51.100.7', 'LOGIN': 'alice'})
        # relaying is not permitted (permit_sasl_authenticated needs smtpd_sasl_auth_enable) ...
        self.assertIn(r.rcpt[0][1], (454, 554), r)
        # ... yet the milter still sees the XCLIENT login name in the MAIL phase
        self.assertEqual(mm.macros('mail').get('{auth_authen}'), 'alice', mm.events)


class TwoInstancesTest(h.E2ETestCase):

    def test_chain_and_reload(self):
        sink = self.sink()
        inner = self.postfix(sink, name='inner')
        outer = self.postfix(inner.port, name='outer')
        self.assertNotEqual(inner.port, outer.port)
        msg = h.make_message(subject='two hops')
        r = h.send(outer.port, 'sender@example.test', ['far@example.net'], msg)
        self.assertTrue(r.accepted, r)
        [d] = sink.wait_for(1, postfix=inner)
        self.assertEqual(len(d.header('Received')), 2, d.raw[:600])
        self.assertTrue(d.raw.endswith(msg))
        self.assertIn('by outer.postmill.test', d.header('Received')[1])
        # reload the inner instance with a milter: the next message passes through it
        mm = self.macro_milter()
        inner.set_milters(smtpd=mm.spec)
        r = h.send(outer.port, 'sender@example.test', ['far@example.net'], h.make_message(subject='second'))
        self.assertTrue(r.accepted, r)
        sink.wait_for(2, postfix=inner)
        h.wait_until(lambda: mm.macros('mail'), 10, 'milter to see the second message')
        self.assertEqual(mm.macros('mail').get('{mail_addr}'), 'sender@example.test')
        self.assertEqual(mm.macros('connect').get('{daemon_name}'), 'inner.postmill.test')
        # stop() leaves no process of either instance behind
        outer_pids = outer.pids()
        self.assertTrue(outer_pids)
        outer.stop()
        inner.stop()
        self.assertEqual(outer.pids(), [])
        self.assertEqual(inner.pids(), [])
        for p in outer_pids:
            self.assertFalse(h.pid_alive(p), p)


class Ipv6Test(h.E2ETestCase):

    def test_postfix_and_knot_on_ipv6_loopback(self):
        sink = self.sink()
        mm = self.macro_milter()
        pf = self.postfix(sink, ipv6=True, smtpd_milters=mm.spec)
        r = h.send(pf.port, 'sender@example.test', ['x@example.net'], h.make_message(), host='::1')
        self.assertTrue(r.accepted, r)
        self.assertIn('[IPv6:::1]', sink.wait_for(1, postfix=pf)[0].header('Received')[0])
        conn = [e for n, e in mm.events if n == 'connect']
        self.assertEqual((conn[-1]['family'], conn[-1]['address']), ('6', '::1'), mm.events)
        r = h.send(pf.port, 'sender@example.test', ['x@example.net'], h.make_message(), host='::1',
                   xclient={'ADDR': 'IPV6:2001:db8::7'})
        self.assertIn(r.rcpt[0][1], (454, 554), r)
        self.assertEqual(mm.macros('connect').get('_'), 'unknown [2001:db8::7]')
        knot = self.knot({'example.test': 'mx IN AAAA 2001:db8::25\n'}, ipv6=True)
        a = h.dns_query('mx.example.test', 'AAAA', server='::1', port=knot.port)
        self.assertEqual([x.address for x in a.answers], ['2001:db8::25'])


class DkimVerifierTest(h.E2ETestCase):

    def test_dkimpy_and_mail_dkim(self):
        keys_dir = self.wd.private('keys')
        rsa_pem, rsa_txt = h.gen_rsa_key(keys_dir, 'rsa', 2048)
        ed_pem, ed_txt = h.gen_ed25519_key(keys_dir, 'ed')
        keys = {('rsa2048', 'example.test'): rsa_txt, ('ed1', 'example.test'): ed_txt}
        msg = h.make_message(from_addr='Sender <sender@example.test>', subject='signed')
        sig_rsa = h.sign_dkimpy(msg, 'rsa2048', 'example.test', rsa_pem)
        sig_ed = h.sign_dkimpy(msg, 'ed1', 'example.test', ed_pem, algorithm='ed25519-sha256')
        signed = sig_ed + sig_rsa + msg

        got = h.verify_dkimpy(signed, keys)
        self.assertEqual([(r.selector, r.algorithm, r.result) for r in got],
                         [('ed1', 'ed25519-sha256', 'pass'), ('rsa2048', 'rsa-sha256', 'pass')], got)
        got = h.verify_mail_dkim(signed, keys)
        self.assertEqual([(r.selector, r.algorithm, r.result) for r in got],
                         [('ed1', 'ed25519-sha256', 'unsupported'), ('rsa2048', 'rsa-sha256', 'pass')], got)
        self.assertTrue(all(r.domain == 'example.test' for r in got))

        # alter one body byte
        i = signed.index(b'test message')
        bad = signed[:i] + b'T' + signed[i + 1:]
        got = h.verify_dkimpy(bad, keys)
        self.assertEqual([r.result for r in got], ['fail', 'fail'], got)
        self.assertIn('body hash mismatch', got[1].detail)
        got = h.verify_mail_dkim(bad, keys)
        self.assertEqual([r.result for r in got], ['unsupported', 'fail'], got)
        self.assertIn('body has been altered', got[1].detail)

        # no key published: neither verifier passes, and neither asks any DNS server
        got = h.verify_dkimpy(signed, {})
        self.assertEqual([r.result for r in got], ['fail', 'fail'], got)
        got = h.verify_mail_dkim(signed, {})
        self.assertEqual(got[1].result, 'invalid', got)

    def test_postfix_relayed_signature_still_verifies(self):
        keys_dir = self.wd.private('keys')
        rsa_pem, rsa_txt = h.gen_rsa_key(keys_dir, 'rsa', 2048)
        msg = h.make_message(subject='through postfix')
        signed = h.sign_dkimpy(msg, 's1', 'example.test', rsa_pem) + msg
        sink = self.sink()
        pf = self.postfix(sink)
        self.assertTrue(h.send(pf.port, 'sender@example.test', ['x@example.net'], signed).accepted)
        [d] = sink.wait_for(1, postfix=pf)
        keys = {('s1', 'example.test'): rsa_txt}
        self.assertEqual([r.result for r in h.verify_dkimpy(d.raw, keys)], ['pass'])
        self.assertEqual([r.result for r in h.verify_mail_dkim(d.raw, keys)], ['pass'])


class KnotTest(h.E2ETestCase):

    def test_txt_records_long_and_short(self):
        # as long as a 4096-bit DKIM key record (> 512 bytes: needs EDNS0 or TCP)
        rsa_txt = 'v=DKIM1; k=rsa; p=' + base64.b64encode(os.urandom(550)).decode()
        self.assertGreater(len(rsa_txt), 700)
        zone = '\n'.join([
            h.txt_record('sel._domainkey', rsa_txt),
            h.txt_record('@', 'v=spf1 ip4:192.0.2.0/24 -all'),
            h.txt_record('quoted', 'a "quoted" \\ backslash'),
            'mx1 IN A 192.0.2.25',
        ])
        knot = self.knot({'example.test': zone, 'other.test': 'www IN AAAA 2001:db8::1\n'})
        a = h.dns_query('example.test', 'TXT', port=knot.port)
        self.assertEqual((a.rcode, a.aa), (0, True))
        self.assertEqual(a.txt(), ['v=spf1 ip4:192.0.2.0/24 -all'])
        # the 4096-bit key (> 512 bytes) over UDP with EDNS0 and over TCP
        for tcp in (False, True):
            a = h.dns_query('sel._domainkey.example.test', 'TXT', port=knot.port, tcp=tcp)
            self.assertEqual(a.txt(), [rsa_txt], 'tcp=%s' % tcp)
            self.assertTrue(all(len(s) <= 255 for s in a.answers[0].strings))
        self.assertEqual(h.dns_query('quoted.example.test', 'TXT', port=knot.port).txt(),
                         ['a "quoted" \\ backslash'])
        self.assertEqual(h.dns_query('mx1.example.test', 'A', port=knot.port).answers[0].address, '192.0.2.25')
        self.assertEqual(h.dns_query('www.other.test', 'AAAA', port=knot.port).answers[0].address, '2001:db8::1')
        nx = h.dns_query('missing.example.test', 'TXT', port=knot.port)
        self.assertEqual((nx.rcode, nx.answers), (3, []))
        self.assertEqual(nx.authority[0].type, 'SOA')
        nodata = h.dns_query('mx1.example.test', 'TXT', port=knot.port)
        self.assertEqual((nodata.rcode, nodata.answers), (0, []))
        # swap the fixture
        knot.set_zone('example.test', h.txt_record('@', 'v=spf1 -all'))
        self.assertEqual(h.dns_query('example.test', 'TXT', port=knot.port).txt(), ['v=spf1 -all'])
        self.assertEqual(h.dns_query('sel._domainkey.example.test', 'TXT', port=knot.port).rcode, 3)
        pid = knot.pid
        knot.stop()
        self.assertFalse(h.pid_alive(pid))

    def test_txt_rdata_splits_and_escapes(self):
        self.assertEqual(h.txt_rdata('abc'), '"abc"')
        self.assertEqual(h.txt_rdata(''), '""')
        self.assertEqual(h.txt_rdata('a"b\\c'), '"a\\"b\\\\c"')
        long = 'x' * 255 + 'y' * 10
        self.assertEqual(h.txt_rdata(long), '"%s" "%s"' % ('x' * 255, 'y' * 10))
        self.assertEqual(h.txt_rdata('x' * 510), '"%s" "%s"' % ('x' * 255, 'x' * 255))


class RedisTest(h.E2ETestCase):

    def test_set_get_stop(self):
        r = self.redis(password='s3cret', unixsocket=True, debug_command=True)
        self.assertEqual(r.cli('SET', 'postmill:k', 'v1'), 'OK')
        self.assertEqual(r.cli('GET', 'postmill:k'), 'v1')
        self.assertEqual(r.cli('DEBUG', 'SLEEP', '0'), 'OK')
        self.assertTrue(h.unix_socket_open(r.socket_path))
        # the password is enforced
        with socket.create_connection(('127.0.0.1', r.port), timeout=2) as s:
            s.sendall(b'*1\r\n$4\r\nPING\r\n')
            self.assertTrue(s.recv(100).startswith(b'-NOAUTH'))
        pid, port = r.pid, r.port
        r.stop()
        self.assertFalse(h.pid_alive(pid))
        self.assertFalse(h.port_open(port))


FAKE_MILTER = r'''
import os, signal, socket, sys, time
path = sys.argv[1]
print("fake milter starting", flush=True)
if len(sys.argv) > 2 and sys.argv[2] == 'die':
    print("fatal: cannot read config", flush=True)
    sys.exit(3)
signal.signal(signal.SIGHUP, lambda *a: print("got SIGHUP", flush=True))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(5)
print("listening", flush=True)
while True:
    try:
        c, _ = s.accept()
        c.close()
    except InterruptedError:
        pass
'''


class MilterProcessTest(h.E2ETestCase):

    def test_start_hup_stop_and_early_death(self):
        script = self.wd.write('fake_milter.py', FAKE_MILTER)
        sock = self.wd.path('fake.sock')
        m = self.milter([sys.executable, script, sock], 'unix:' + sock, name='fake')
        self.assertTrue(h.socket_ready('unix:' + sock))
        m.hup()
        m.wait_log('got SIGHUP')
        m.stop()
        self.assertEqual(m.returncode, -signal.SIGTERM)
        self.assertIn('listening', m.log())

        dead = h.MilterProcess(self.wd, [sys.executable, script, sock + '2', 'die'], 'unix:' + sock + '2',
                               name='dead')
        self.addCleanup(dead.stop)
        with self.assertRaises(h.HarnessError) as cm:
            dead.start(timeout=10)
        self.assertIn('exited with status 3', str(cm.exception))
        self.assertIn('fatal: cannot read config', str(cm.exception))

    def test_missing_binary_is_a_failure(self):
        with self.assertRaises(AssertionError):
            h.binary('postmill-no-such-milter')


class HelpersTest(h.E2ETestCase):

    def test_free_port_and_xtext(self):
        ports = {h.free_port() for _ in range(20)}
        self.assertEqual(len(ports), 20)
        self.assertEqual(h.xtext('a+b=c d'), 'a+2Bb+3Dc+20d')
        self.assertEqual(h.dot_stuff(b'.x\r\ny'), b'..x\r\ny\r\n.\r\n')
        self.assertEqual(h.parse_socket_spec('inet:8891@127.0.0.1'), ('inet', '127.0.0.1', 8891))
        self.assertEqual(h.parse_socket_spec('inet:127.0.0.1:8891'), ('inet', '127.0.0.1', 8891))
        self.assertEqual(h.parse_socket_spec('unix:/run/x.sock'), ('unix', '/run/x.sock'))
        self.assertEqual(os.stat(self.wd.root).st_mode & 0o777, 0o755)
        self.assertEqual(os.stat(self.wd.private('k')).st_mode & 0o777, 0o700)


if __name__ == '__main__':
    import unittest
    unittest.main()
