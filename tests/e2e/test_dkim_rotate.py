"""test_dkim_rotate - postmillctl dkim rotate against knotd, a real Postfix and postmill-dkim.

A whole rotation of tenant2.test's key, run as an operator (or the timer) would run it:
start -> exit 1 while the record is not published -> publish it in the zone, reload knot ->
dual signing (two signatures, both verified by dkimpy and Mail::DKIM) -> the overlap is
not over yet (clock given with --now, no sleeping) -> the old key retired (one signature,
the old key gone from both tables). Every table edit keeps comments and other lines byte for
byte. Then the refusals: tables edited in a way the rotation does not expect, a domain with
two keys and no --key, and an interrupted run that resumes.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from test_dkim import DOMAIN, OTHER, DkimStack, pick  # noqa: E402

SIGNING_TABLE = ('# hosted domains\n'
                 '*@%s rsa ed   # dual: RSA + Ed25519\n'
                 '\n'
                 '*@%s\trsa2:@%s  # tenant 2, i= set\n'
                 '  # the end\n' % (DOMAIN, OTHER, OTHER))
DAY = 86400


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def record_from(out):
    """The TXT record text of the (last) zone-file line 'S._domainkey.D. IN TXT ( "..." "..." )'."""
    lines = [l for l in out.splitlines() if ' IN TXT (' in l]
    assert lines, out
    return ''.join(re.findall(r'"([^"]*)"', lines[-1]))


class DkimRotateTest(h.E2ETestCase):
    """One rotation, end to end."""

    def ctl(self, stack, *args):
        r = subprocess.run([h.binary('postmillctl'), '-c', stack.conf, 'dkim', 'rotate'] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        return r.returncode, r.stdout.decode('utf-8', 'replace')

    def send(self, stack, marker):
        msg = h.make_message(subject='rotate ' + marker, from_addr='bob@%s' % OTHER,
                             body='Rotation %s.\r\n' % marker)
        r = h.send(stack.postfix.port, 'bob@%s' % OTHER, ['rcpt@example.net'], msg, timeout=120)
        self.assertTrue(r.accepted, r)

    def verify(self, raw, keys, want):
        got = h.verify_dkimpy(raw, keys)
        self.assertEqual(sorted((g.selector, g.result) for g in got), sorted((s, 'pass') for s in want), got)
        perl = h.verify_mail_dkim(raw, keys)
        self.assertEqual(sorted((g.selector, g.result) for g in perl), sorted((s, 'pass') for s in want), perl)

    def test_rotation_start_publish_overlap_retire(self):
        stack = DkimStack(self.wd)
        self.wd.write('signing.table', SIGNING_TABLE)
        knot = self.knot({OTHER: h.txt_record('t2._domainkey', stack.rsa2_txt)})
        with open(stack.conf, 'a') as f:
            f.write('dns_resolver = 127.0.0.1@%d\ndns_timeout = 2s\n' % knot.port)
        stack.start(self.addCleanup)
        kt, st = self.wd.path('key.table'), self.wd.path('signing.table')
        state = kt + '.rotation'
        key_table0 = read(kt)
        t0 = int(time.time())

        # start: a new key and selector, a key table line, the record to publish
        rc, out = self.ctl(stack, '--domain', OTHER, '--now', str(t0))
        self.assertEqual(rc, 0, out)
        m = re.search(r'rotating key "rsa2" \(s=t2\) to "([^"]+)" \(s=([^)]+)\)', out)
        self.assertIsNotNone(m, out)
        new_name, sel = m.group(1), m.group(2)
        self.assertEqual(sel, time.strftime('s%Y%m%d', time.gmtime(t0)))
        self.assertEqual(new_name, '%s-%s' % (OTHER, sel))
        path = os.path.join(self.wd.path('keys'), new_name + '.pem')
        s = os.stat(path)
        self.assertEqual((s.st_mode & 0o777, s.st_uid), (0o600, h.pwd.getpwnam('postmill').pw_uid))
        new_txt = record_from(out)
        self.assertTrue(new_txt.startswith('v=DKIM1; k=rsa; p='), new_txt)
        new_line = '%s %s:%s:%s\n' % (new_name, OTHER, sel, path)
        self.assertIn('added "%s"' % new_line.strip(), out)
        lines0 = key_table0.decode().splitlines(True)
        rsa2_at = [i for i, l in enumerate(lines0) if l.startswith('rsa2 ')][0]
        self.assertEqual(read(kt).decode(), ''.join(lines0[:rsa2_at + 1] + [new_line] + lines0[rsa2_at + 1:]))
        self.assertEqual(read(st).decode(), SIGNING_TABLE)
        self.assertRegex(read(state).decode(), r'(?m)^%s publish old=rsa2 old-selector=t2 new=%s '
                         r'new-selector=%s new-path=%s new-spki=sha256:[0-9a-f]{64} started=\S+Z$'
                         % (re.escape(OTHER), re.escape(new_name), sel, re.escape(path)))

        # not published: exit 1, what is missing, nothing changed
        snapshot = [read(kt), read(st), read(state)]
        rc, out = self.ctl(stack, '--domain', OTHER, '--now', str(t0 + 60))
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r'(?m)^%s: %s\._domainkey\.%s: MISSING' % (re.escape(OTHER), sel, re.escape(OTHER)))
        self.assertEqual(record_from(out), new_txt)
        self.assertEqual([read(kt), read(st), read(state)], snapshot)
        rc, out = self.ctl(stack, '--status')
        self.assertEqual(rc, 0, out)
        self.assertIn('%s: publish: "rsa2" (s=t2) -> "%s" (s=%s)' % (OTHER, new_name, sel), out)
        # the timer's form: advance what is in progress, never start
        rc, out = self.ctl(stack, '--continue', '--now', str(t0 + 60))
        self.assertEqual(rc, 1, out)
        self.assertEqual([read(kt), read(st), read(state)], snapshot)

        # mail before the record is published: the old signature alone
        keys = dict(stack.keys)
        keys[(sel, OTHER)] = new_txt
        self.send(stack, 'before')

        # publish, reload knot: dual signing, postmill-dkim reloaded
        knot.set_zone(OTHER, '\n'.join([h.txt_record('t2._domainkey', stack.rsa2_txt),
                                        h.txt_record('%s._domainkey' % sel, new_txt)]))
        t1 = t0 + 3600
        rc, out = self.ctl(stack, '--domain', OTHER, '--now', str(t1))
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r'(?m)^%s: %s\._domainkey\.%s: MATCH' % (re.escape(OTHER), sel, re.escape(OTHER)))
        self.assertIn('1 signing table line changed', out)
        # postmill-suite when the e2e suite runs in suite mode (POSTMILL_E2E_SUITE=1)
        self.assertRegex(out, r'# reloaded postmill-(dkim|suite) \(SIGHUP to pid %d\)' % stack.milter.pid)
        self.assertEqual(read(st).decode(), SIGNING_TABLE.replace(
            'rsa2:@%s' % OTHER, 'rsa2:@%s %s:@%s' % (OTHER, new_name, OTHER)))
        stack.milter.wait_log(r'reloaded .* \(generation \d+\)')
        self.assertIn('%s overlap ' % OTHER, read(state).decode())
        self.send(stack, 'dual')

        # the overlap (default 7d) is not over: nothing changes, exit 0
        snapshot = [read(kt), read(st), read(state)]
        rc, out = self.ctl(stack, '--domain', OTHER, '--now', str(t1 + 7 * DAY - 60))
        self.assertEqual(rc, 0, out)
        self.assertIn('(in 1m 0s)', out)
        self.assertEqual([read(kt), read(st), read(state)], snapshot)
        rc, out = self.ctl(stack, '--status', '--domain', OTHER, '--now', str(t1))
        self.assertIn('%s: overlap: ' % OTHER, out)

        # after the overlap: the old key leaves both tables
        rc, out = self.ctl(stack, '--continue', OTHER, '--now', str(t1 + 7 * DAY))
        self.assertEqual(rc, 0, out)
        self.assertIn('%s: done: key "rsa2" (s=t2) removed from the signing table (1 line) and the key '
                      'table (1 line)' % OTHER, out)
        self.assertIn('t2._domainkey.%s. IN TXT ( "v=DKIM1; k=rsa; p=" )' % OTHER, out)
        self.assertEqual(read(st).decode(), SIGNING_TABLE.replace('rsa2:@%s' % OTHER, '%s:@%s' % (new_name, OTHER)))
        self.assertEqual(read(kt).decode(), ''.join(lines0[:rsa2_at] + [new_line] + lines0[rsa2_at + 1:]))
        self.assertIn('%s done ' % OTHER, read(state).decode())
        stack.milter.wait_log(r'reloaded .* \(generation \d+\)', count=2)
        self.send(stack, 'after')
        rc, out = self.ctl(stack, '--continue')
        self.assertEqual((rc, out.strip()), (0, 'no rotation in progress'))

        ds = stack.sink.wait_for(3, postfix=stack.postfix)
        self.verify(pick(ds, 'rotate before').raw, keys, ['t2'])
        self.verify(pick(ds, 'rotate dual').raw, keys, ['t2', sel])
        self.verify(pick(ds, 'rotate after').raw, keys, [sel])
        # the tables still load as the daemon loads them
        r = subprocess.run([h.binary('postmill-dkim'), '-n', '-c', stack.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode())


class DkimRotateRefusalTest(h.E2ETestCase):
    """Tables that do not hold what the rotation expects are refused, naming the line; an
    interrupted run resumes. No Postfix needed; DNS points at a port nobody serves."""

    def setUp(self):
        super().setUp()
        self.stack = DkimStack(self.wd)
        self.wd.write('signing.table', SIGNING_TABLE)
        with open(self.stack.conf, 'a') as f:
            f.write('dns_resolver = 127.0.0.1@%d\ndns_timeout = 1s\n' % h.free_port(udp=True))
        self.kt, self.st = self.wd.path('key.table'), self.wd.path('signing.table')

    def ctl(self, *args):
        r = subprocess.run([h.binary('postmillctl'), '-c', self.stack.conf, 'dkim', 'rotate'] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        return r.returncode, r.stdout.decode('utf-8', 'replace')

    def test_two_keys_need_key_option(self):
        rc, out = self.ctl('--domain', DOMAIN)
        self.assertEqual(rc, 1, out)
        self.assertIn('has 2 keys', out)
        self.assertIn('--key: rsa ed', out)
        rc, out = self.ctl('--domain', DOMAIN, '--key', 'ed', '--selector', 'e2')
        self.assertEqual(rc, 0, out)
        self.assertIn('ed25519-sha256 key', out)
        self.assertIn('"ed" (s=e1) to "%s-e2" (s=e2)' % DOMAIN, out)

    def test_unexpected_edits_refused(self):
        rc, out = self.ctl('--domain', OTHER, '--selector', 'n1')
        self.assertEqual(rc, 0, out)
        new = '%s-n1' % OTHER
        # someone signs with the new key before its record is published
        with open(self.st, 'a') as f:
            f.write('*@sub.%s %s\n' % (OTHER, new))
        before = [read(self.kt), read(self.st), read(self.kt + '.rotation')]
        rc, out = self.ctl('--domain', OTHER)
        self.assertEqual(rc, 1, out)
        self.assertIn('line 6 names the new key "%s" without "rsa2"' % new, out)
        self.assertEqual([read(self.kt), read(self.st), read(self.kt + '.rotation')], before)
        self.wd.write('signing.table', SIGNING_TABLE)
        # the new key's file replaced by another key
        other, _ = h.gen_rsa_key(self.wd.path('keys'), 'intruder', 2048)
        path = os.path.join(self.wd.path('keys'), new + '.pem')
        os.rename(other, path)
        rc, out = self.ctl('--domain', OTHER)
        self.assertEqual(rc, 1, out)
        self.assertIn('holds another key than the one the rotation made', out)
        # a state file someone edited
        with open(self.kt + '.rotation', 'a') as f:
            f.write('%s publish old=x\n' % DOMAIN)
        rc, out = self.ctl('--status')
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r'key\.table\.rotation:\d+: a field of this phase is missing')

    def test_interrupted_start_resumes(self):
        rc, out = self.ctl('--domain', OTHER, '--selector', 'n1')
        self.assertEqual(rc, 0, out)
        new = '%s-n1' % OTHER
        # as if the run had stopped after writing the state, before the key table
        text = read(self.kt).decode()
        self.wd.write('key.table', ''.join(l for l in text.splitlines(True) if not l.startswith(new)))
        rc, out = self.ctl('--domain', OTHER)
        self.assertEqual(rc, 1, out)   # nobody serves that zone: not published
        self.assertIn('key table: added "%s" again' % new, out)
        self.assertIn("the new key's record is not published", out)
        self.assertEqual(read(self.kt).decode(), text)
        self.assertEqual(read(self.st).decode(), SIGNING_TABLE)


if __name__ == '__main__':
    import unittest
    unittest.main()
