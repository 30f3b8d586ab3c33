"""test_demo - the README's first command: scripts/demo start, mail through the whole stack, stop.

A second demo beside any a user runs: its own base directory (POSTMILL_DEMO_DIR in the Workdir)
and free ports for SMTP, Redis and DNS; POSTMILL_DEMO_SETUP=no (no apt, no make: the binaries
of $POSTMILL_BUILD are tested).  One test, in the order a user follows the printed steps:
  - start: Postfix, the four milters, redis-server and knotd run (scripts/demo status);
  - outbound from 127.0.0.1: stored with two DKIM-Signature fields (RSA, Ed25519) that dkimpy
    verifies with the keys knotd serves, and the Return-Path b-TAG@bounces.demo.test;
    postmillctl quota show counts it;
  - inbound from an outside client (XCLIENT ADDR): Authentication-Results: mx.demo.test; the
    signed outbound message sent back in from outside gets dkim=pass (both keys) and
    dmarc=pass; a forged demo.test From is refused (DMARC p=reject);
  - scripts/demo bounce: the DSN is accepted, classified hard/user_unknown, and the next message
    to that recipient is refused 550 5.1.1;
  - stop: every process of the demo is gone (pid files, Postfix's master and its children).
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

DEMO = os.path.join(h.REPO_ROOT, 'scripts', 'demo')
OUTSIDE = {'ADDR': '198.51.100.7', 'HELO': 'mx.partner.test'}
PROCS = ('postfix', 'postmill-auth', 'postmill-dkim', 'postmill-bounce', 'postmill-limit',
         'redis-server', 'knotd')


class DemoTest(h.E2ETestCase):

    def demo(self, *args, timeout=60):
        r = subprocess.run([DEMO] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return r.returncode, r.stdout.decode('utf-8', 'replace')

    def ctl(self, *args):
        r = subprocess.run([h.binary('postmillctl'), '-c', os.path.join(self.dir, 'etc', 'postmill.conf')]
                           + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return r.stdout.decode('utf-8', 'replace')

    def maildir(self):
        new = os.path.join(self.dir, 'mail', 'sink', 'new')
        try:
            names = sorted(os.listdir(new))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            with open(os.path.join(new, n), 'rb') as f:
                out.append(h.fix_eols(f.read()))
        return out

    def stored(self, r):
        """The stored copy of the message Postfix queued as r.queue_id."""
        self.assertTrue(r.accepted, r)
        needle = ('id %s' % r.queue_id).encode()
        return h.wait_until(lambda: next((m for m in self.maildir() if needle in m), None),
                            what='delivery of %s' % r.queue_id,
                            on_timeout=lambda: h.tail(os.path.join(self.dir, 'maillog')))

    @staticmethod
    def fields(msg, name):
        head = msg.split(b'\r\n\r\n', 1)[0].decode('utf-8', 'replace')
        head = re.sub(r'\r\n[ \t]+', ' ', head)
        return [v.strip() for n, _, v in (l.partition(':') for l in head.split('\r\n'))
                if n.lower() == name.lower()]

    def demo_pids(self):
        """Every live process of this demo: its pid files, and whatever runs with this demo's
        directory in its command line or Postfix's MAIL_CONFIG in its environment."""
        pids = set()
        run = os.path.join(self.dir, 'run')
        files = [os.path.join(run, f) for f in os.listdir(run) if f.endswith('.pid')] if os.path.isdir(run) else []
        files.append(os.path.join(self.dir, 'spool', 'pid', 'master.pid'))
        for f in files:
            try:
                pids.add(int(open(f).read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
        mark = self.dir.encode()
        for p in os.listdir('/proc'):
            if not p.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % p, 'rb') as f:
                    cmd = f.read()
                with open('/proc/%s/environ' % p, 'rb') as f:
                    env = f.read()
            except OSError:
                continue
            if mark in cmd or b'MAIL_CONFIG=' + mark in env:
                pids.add(int(p))
        pids.discard(os.getpid())
        return {p for p in pids if h.pid_alive(p)}

    def test_demo(self):
        self.dir = self.wd.path('d')
        self.port = h.free_port()
        self.env = dict(os.environ, POSTMILL_DEMO_DIR=self.dir, POSTMILL_DEMO_PORT=str(self.port),
                        POSTMILL_DEMO_REDIS_PORT=str(h.free_port()),
                        POSTMILL_DEMO_DNS_PORT=str(h.free_port(udp=True)),
                        POSTMILL_DEMO_SETUP='no', POSTMILL_BUILD=h.build_dir())
        self.addCleanup(lambda: self.demo('stop'))
        rc, out = self.demo('start')
        self.assertEqual(rc, 0, out)
        self.assertIn('postmill demo is running on 127.0.0.1:%d' % self.port, out)
        rc, out = self.demo('status')
        for p in PROCS:
            self.assertRegex(out, r'(?m)^%s +running, pid \d+$' % re.escape(p), out)
        running = self.demo_pids()
        self.assertGreaterEqual(len(running), len(PROCS), running)

        # outbound: signed, tagged, counted
        r = h.send(self.port, 'you@demo.test', ['someone@example.net'],
                   h.make_message(from_addr='you@demo.test', to_addr='someone@example.net'))
        out_msg = self.stored(r)
        sigs = self.fields(out_msg, 'DKIM-Signature')
        self.assertEqual(len(sigs), 2, sigs)
        self.assertRegex(self.fields(out_msg, 'Return-Path')[0], r'^<b-[a-z2-7]{48}@bounces\.demo\.test>$')
        keys = {}
        for sel in ('rsa1', 'ed1'):
            a = h.dns_query('%s._domainkey.demo.test' % sel, 'TXT', port=int(self.env['POSTMILL_DEMO_DNS_PORT']))
            keys[(sel, 'demo.test')] = ''.join(a.txt())
        results = h.verify_dkimpy(out_msg.split(b'\r\n', 3)[3], keys)
        self.assertEqual([x.result for x in results], ['pass', 'pass'], results)
        self.assertRegex(self.ctl('quota', 'show', 'sender:you@demo.test'), r'plan .* used 1 of 100')

        # inbound from outside: Authentication-Results with our authserv-id
        r = h.send(self.port, 'news@partner.test', ['you@demo.test'],
                   h.make_message(from_addr='news@partner.test', to_addr='you@demo.test'), xclient=OUTSIDE)
        ar = self.fields(self.stored(r), 'Authentication-Results')
        self.assertEqual(len(ar), 1, ar)
        # partner.test's SPF lists 198.51.100.0/24: SPF passes and aligns, DMARC passes by SPF
        self.assertRegex(ar[0], r'^mx\.demo\.test;.*spf=pass smtp\.mailfrom=news@partner\.test')
        self.assertRegex(ar[0], r'dmarc=pass .*header\.from=partner\.test')
        self.assertEqual(len(self.fields(self.stored(r), 'Received-SPF')), 1)
        # our own signed message coming back from outside verifies (keys from knotd)
        resent = out_msg.split(b'\r\n', 3)[3]     # without Return-Path, X-Original-To, Delivered-To
        r = h.send(self.port, 'you@demo.test', ['you@demo.test'], resent, xclient=OUTSIDE)
        ar = self.fields(self.stored(r), 'Authentication-Results')
        self.assertEqual(len(ar), 1, ar)
        self.assertRegex(ar[0], r'dkim=pass .*header\.s=rsa1 .*dkim=pass .*header\.s=ed1 .*dmarc=pass')
        # a forged demo.test From: p=reject
        r = h.send(self.port, 'ceo@demo.test', ['you@demo.test'],
                   h.make_message(from_addr='ceo@demo.test', to_addr='you@demo.test'), xclient=OUTSIDE)
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('DMARC policy of demo.test', r.data[1])

        # a bounce back to the tag: classified, and the recipient suppressed for that sender
        rc, out = self.demo('bounce')
        self.assertEqual(rc, 0, out)
        bounce = h.wait_until(lambda: next((m for m in self.maildir()
                                            if b'X-Postmill-Bounce-Class' in m), None), what='the bounce')
        self.assertEqual(self.fields(bounce, 'X-Postmill-Bounce-Class'), ['hard'])
        self.assertEqual(self.fields(bounce, 'X-Postmill-Bounce-Reason'), ['user_unknown'])
        r = h.send(self.port, 'you@demo.test', ['someone@example.net'],
                   h.make_message(from_addr='you@demo.test', to_addr='someone@example.net'))
        self.assertFalse(r.accepted)
        self.assertEqual(r.rcpt[0][1], 550, r)
        self.assertIn('5.1.1', r.rcpt[0][2])

        logs = ''.join(h.tail(os.path.join(self.dir, 'log', f), 10000)
                       for f in os.listdir(os.path.join(self.dir, 'log')))
        self.assertNotRegex(logs, r'runtime error|AddressSanitizer|LeakSanitizer|worker killed|worker exited')

        # stop: nothing of the demo is left
        rc, out = self.demo('stop')
        self.assertEqual(rc, 0, out)
        for p in PROCS:
            self.assertIn('stopped %s' % p, out)
        h.wait_until(lambda: not self.demo_pids(), timeout=60, what='every demo process to exit',
                     on_timeout=lambda: 'left: %s (of %s)' % (sorted(self.demo_pids()), sorted(running)))
        rc, out = self.demo('status')
        self.assertEqual(out.count('not running'), len(PROCS), out)

    def test_demo_sendmail(self):
        """scripts/demo --sendmail: the same stack on Sendmail 8.17 (unpacked by
        scripts/fetch-sendmail), an outside client from 127.0.0.2."""
        self.dir = self.wd.path('d')
        self.port = h.free_port()
        self.env = dict(os.environ, POSTMILL_DEMO_DIR=self.dir, POSTMILL_DEMO_PORT=str(self.port),
                        POSTMILL_DEMO_REDIS_PORT=str(h.free_port()),
                        POSTMILL_DEMO_DNS_PORT=str(h.free_port(udp=True)),
                        POSTMILL_DEMO_SETUP='no', POSTMILL_BUILD=h.build_dir())
        self.env.pop('POSTMILL_DEMO_MTA', None)
        self.addCleanup(lambda: self.demo('stop'))
        rc, out = self.demo('--sendmail', 'start', timeout=600)
        self.assertEqual(rc, 0, out)
        self.assertIn('Sendmail 8.17 with postmill-auth', out)
        procs = ('sendmail',) + PROCS[1:]
        rc, out = self.demo('status')
        for p in procs:
            self.assertRegex(out, r'(?m)^%s +running, pid \d+$' % re.escape(p), out)
        running = self.demo_pids()
        r = h.send(self.port, 'you@demo.test', ['someone@example.net'],
                   h.make_message(from_addr='you@demo.test', to_addr='someone@example.net'))
        out_msg = self.stored(r)
        self.assertEqual(len(self.fields(out_msg, 'DKIM-Signature')), 2)
        self.assertRegex(self.fields(out_msg, 'Return-Path')[0], r'^<b-[a-z2-7]{48}@bounces\.demo\.test>$')
        keys = {}
        for sel in ('rsa1', 'ed1'):
            a = h.dns_query('%s._domainkey.demo.test' % sel, 'TXT', port=int(self.env['POSTMILL_DEMO_DNS_PORT']))
            keys[(sel, 'demo.test')] = ''.join(a.txt())
        results = h.verify_dkimpy(out_msg.split(b'\r\n', 2)[2], keys)   # without Delivered-To, Return-Path
        self.assertEqual([x.result for x in results], ['pass', 'pass'], results)
        self.assertRegex(self.ctl('quota', 'show', 'sender:you@demo.test'), r'plan .* used 1 of 100')
        r = h.send(self.port, 'news@partner.test', ['you@demo.test'],
                   h.make_message(from_addr='news@partner.test', to_addr='you@demo.test'), source='127.0.0.2')
        ar = self.fields(self.stored(r), 'Authentication-Results')
        self.assertEqual(len(ar), 1, ar)
        self.assertRegex(ar[0], r'^mx\.demo\.test;.*spf=pass smtp\.mailfrom=news@partner\.test')
        r = h.send(self.port, 'ceo@demo.test', ['you@demo.test'],
                   h.make_message(from_addr='ceo@demo.test', to_addr='you@demo.test'), source='127.0.0.2')
        self.assertEqual(r.data[0], 550, r)
        rc, out = self.demo('bounce')
        self.assertEqual(rc, 0, out)
        r = h.send(self.port, 'you@demo.test', ['someone@example.net'],
                   h.make_message(from_addr='you@demo.test', to_addr='someone@example.net'))
        self.assertEqual(r.rcpt[0][1], 550, r)
        self.assertIn('5.1.1', r.rcpt[0][2])
        rc, out = self.demo('stop')
        self.assertEqual(rc, 0, out)
        h.wait_until(lambda: not self.demo_pids(), timeout=10, what='every demo process to exit',
                     on_timeout=lambda: 'left: %s (of %s)' % (sorted(self.demo_pids()), sorted(running)))

