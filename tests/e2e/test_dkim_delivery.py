"""test_dkim_delivery - a message with lines over 998 bytes, signed by postmill-dkim, verifies in
every copy a real Postfix delivers: SMTP (smtp-sink), LMTP (smtp-sink -L), local(8) into an mbox
and virtual(8) into a Maildir.

Postfix's SMTP and LMTP clients break lines over smtp_line_length_limit (998) on the way out;
local(8) and virtual(8) store them as they are.  postmill-dkim signs the broken form and replaces
the stored message with it (header fields with smfi_chgheader, the body with smfi_replacebody),
so that every path delivers the bytes it signed.  dkimpy and Mail::DKIM verify each copy; a
message without long lines is left alone (no long_lines= in the log).
"""

import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

DOMAIN = 'example.test'
RCPTS = ['rcpt@example.net', 'postmill@local.test', 'bob@virt.test', 'x@lmtp.test']


def mbox_messages(path):
    """The messages of an mbox file, as CRLF bytes: each starts at a "From " line at the top
    or after an empty line (local(8) quotes ">From " in bodies), which is dropped, as is the
    empty line local(8) appends."""
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')
    out, cur = [], None
    for i, line in enumerate(lines):
        if line.startswith(b'From ') and (i == 0 or lines[i - 1] == b''):
            if cur is not None:
                out.append(cur)
            cur = []
            continue
        if cur is not None:
            cur.append(line)
    if cur is not None:
        out.append(cur)
    msgs = []
    for m in out:
        while m and m[-1] == b'':
            m.pop()
        msgs.append(b'\r\n'.join(m) + b'\r\n')
    return msgs


def maildir_messages(path):
    out = []
    for p in sorted(glob.glob(os.path.join(path, 'new', '*'))):
        with open(p, 'rb') as f:
            out.append(f.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
    return out


class LongLinesDeliveryTest(unittest.TestCase):
    """One Postfix, four delivery paths, one signed message with long lines, and a control."""

    def setUp(self):
        wd = self.wd = h.Workdir(prefix='pm-dd-')
        self.addCleanup(wd.cleanup)
        pw = h.pwd.getpwnam('postmill')
        keys = wd.mkdir('keys', 0o700, owner='postmill')
        key, txt = h.gen_rsa_key(keys, 'rsa', 2048)
        os.chown(key, pw.pw_uid, -1)
        self.keys = {('s1', DOMAIN): txt}
        wd.write('key.table', 'rsa %s:s1:%s\n' % (DOMAIN, key))
        wd.write('signing.table', '*@%s rsa\n' % DOMAIN)
        sock = wd.path('dkim.sock')
        conf = wd.write('postmill.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'dkim_socket = unix:' + sock, 'dkim_pid_file = ' + wd.path('dkim.pid'),
            'dkim_key_table = ' + wd.path('key.table'),
            'dkim_signing_table = ' + wd.path('signing.table'),
        ]) + '\n')
        self.milter = h.MilterProcess(wd, [h.binary('postmill-dkim'), '-f', '-c', conf], 'unix:' + sock)
        self.milter.start()
        self.addCleanup(self.milter.stop)
        self.sink = h.Sink(wd)
        self.sink.start()
        self.addCleanup(self.sink.stop)
        self.lmtp = h.Sink(wd, name='lmtp', extra_args=['-L'])
        self.lmtp.start()
        self.addCleanup(self.lmtp.stop)
        self.spool = wd.mkdir('mail', 0o1777)
        self.vmail = wd.mkdir('vmail', 0o755, owner='postmill')
        wd.write('vmailbox', 'bob@virt.test bob/\n')
        wd.write('transport', 'lmtp.test lmtp:[127.0.0.1]:%d\n' % self.lmtp.port)
        self.pf = h.Postfix(wd, relay_port=self.sink.port, smtpd_milters='unix:' + sock, main={
            'relay_domains': 'example.net',
            'mydestination': 'local.test',
            'local_transport': 'local',
            'local_recipient_maps': '',
            'mail_spool_directory': self.spool,
            'virtual_mailbox_domains': 'virt.test',
            'virtual_mailbox_base': self.vmail,
            'virtual_mailbox_maps': 'texthash:' + wd.path('vmailbox'),
            'virtual_uid_maps': 'static:%d' % pw.pw_uid,
            'virtual_gid_maps': 'static:%d' % pw.pw_gid,
            'transport_maps': 'texthash:' + wd.path('transport'),
        }, master=['local     unix  -       n       n       -       -       local',
                   'virtual   unix  -       n       n       -       -       virtual',
                   'lmtp      unix  -       -       n       -       -       lmtp'])
        self.pf.start()
        self.addCleanup(self.pf.stop)

    def copies(self, count):
        """Every delivered copy by path: {'smtp': [...], 'lmtp': [...], 'local': [...], 'virtual': [...]}."""
        mbox = os.path.join(self.spool, 'postmill')
        maildir = os.path.join(self.vmail, 'bob')

        def got():
            c = {'smtp': [d.raw for d in self.sink.messages()],
                 'lmtp': [d.raw for d in self.lmtp.messages()],
                 'local': mbox_messages(mbox) if os.path.exists(mbox) else [],
                 'virtual': maildir_messages(maildir) if os.path.isdir(maildir) else []}
            return c if all(len(v) >= count for v in c.values()) else None
        return h.wait_until(got, 60, '%d copies on every path' % count,
                            on_timeout=lambda: h.tail(self.pf.log(), 30))

    def assert_verifies(self, copies, marker):
        for path, msgs in copies.items():
            mine = [m for m in msgs if marker.encode() in m]
            self.assertEqual(len(mine), 1, '%s: %d copies with %s' % (path, len(mine), marker))
            m = mine[0]
            for name, verify in (('dkimpy', h.verify_dkimpy), ('Mail::DKIM', h.verify_mail_dkim)):
                res = verify(m, self.keys)
                self.assertEqual([r.result for r in res], ['pass'],
                                 '%s copy, %s: %r' % (path, name, res))
            # no line over 998 bytes is left anywhere
            longest = max(len(l) for l in m.split(b'\r\n'))
            self.assertLessEqual(longest, 998, '%s copy has a %d-byte line' % (path, longest))

    def test_long_lines_verify_on_every_path(self):
        subject = 'longlines ' + 's' * 1200
        body = ('short line\r\n' + 'x' * 2000 + '\r\n' + 'y' * 998 + '\r\n' + 'z' * 999 + '\r\n'
                + 'end\r\n')
        msg = h.make_message(subject=subject, from_addr='alice@' + DOMAIN, body=body,
                             headers=[('X-Long', 'w' * 1500)])
        r = h.send(self.pf.port, 'alice@' + DOMAIN, RCPTS, msg)
        self.assertTrue(r.accepted, r)
        ctl = h.make_message(subject='control short lines', from_addr='alice@' + DOMAIN,
                             body='Only short lines.\r\n')
        r2 = h.send(self.pf.port, 'alice@' + DOMAIN, RCPTS, ctl)
        self.assertTrue(r2.accepted, r2)
        copies = self.copies(2)
        self.assert_verifies(copies, 'longlines ')
        self.assert_verifies(copies, 'control short lines')
        log = self.milter.log()
        self.assertRegex(log, r'%s: dkim: action=sign signatures=example.test/s1/rsa-sha256 '
                              r'long_lines=broken\(fields=2,body=yes\) client=127.0.0.1\n' % r.queue_id)
        self.assertRegex(log, r'%s: dkim: action=sign signatures=example.test/s1/rsa-sha256 '
                              r'client=127.0.0.1\n' % r2.queue_id)
        # the stored body is the broken one: 2000 = 998 + " " 997 + " " 5
        local = [m for m in copies['local'] if b'longlines ' in m][0]
        self.assertIn(b'x' * 998 + b'\r\n ' + b'x' * 997 + b'\r\n ' + b'x' * 5 + b'\r\n', local)
        self.assertIn(b'\r\n' + b'y' * 998 + b'\r\n', local)
        self.assertIn(b'z' * 998 + b'\r\n z\r\n', local)


if __name__ == '__main__':
    unittest.main()
