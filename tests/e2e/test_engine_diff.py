"""test_engine_diff - the milter engine against Debian's libmilter behind a real Postfix.

tests/diff compares the two engines over hand-made packet streams; here the streams are
Postfix's own. The tracing milter of tests/diff is built on both engines
($POSTMILL_BUILD/tests/trace_milter_postmill and _libmilter) and both sit in smtpd_milters of
one Postfix, so every SMTP session reaches both with the same packets. Each traces its
callbacks (arguments and macros included) to its own file, and the two traces must be the
same. The sessions cover what issue 13 found with Postfix 3.7: the two ABORTs Postfix sends
after every end of message (they must call no xxfi_abort), a MAIL FROM with more than 64
ESMTP parameters (the session broke), RSET, a refused recipient, and several messages per
connection. The milters run in "sparse" mode (no helo, envrcpt, header,
unknown and data callbacks: the protocol steps Postfix then skips, as with postmill-dkim) and
in "full" mode.
"""

import os
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402


class EngineDiffTest(h.E2ETestCase):
    maxDiff = None

    def start_pair(self, mode):
        """Both tracing milters in MODE; their trace files."""
        out = []
        for engine in ('postmill', 'libmilter'):
            binary = os.path.join(h.build_dir(), 'tests', 'trace_milter_' + engine)
            if not os.access(binary, os.X_OK):
                raise AssertionError('%s not built (make %s)' % (binary, binary))
            sock = self.wd.path('%s.sock' % engine[:2])
            trace = self.wd.path('%s.trace' % engine)
            log = open(self.wd.path('%s.log' % engine), 'wb')
            # TRACE_CONN_IDS: lines carry their connection's number (see lines())
            p = subprocess.Popen([binary, sock, trace, mode], stdout=log, stderr=log,
                                 env=dict(os.environ, TRACE_CONN_IDS='1'))
            self.addCleanup(self.stop, p, log)
            h.wait_until(lambda: os.path.exists(sock), 30, '%s socket' % engine)
            os.chmod(sock, 0o666)   # Postfix's smtpd runs as postfix
            out.append(('unix:' + sock, trace))
        return out

    @staticmethod
    def stop(p, log):
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()

    @staticmethod
    def names(lines):
        return [ln.split()[0] for ln in lines if ln and not ln.startswith(' ')]

    @staticmethod
    def lines(trace):
        """The trace, connection by connection: Postfix opens the next milter connection
        while the last one's close callback may still run, so the lines of two connections
        can interleave in the file; grouped by the "cN " prefix and sorted by content, the two
        engines' traces compare line by line."""
        if not os.path.exists(trace):
            return []
        with open(trace, 'rb') as f:
            raw = f.read().decode('utf-8', 'replace').splitlines()
        by_conn = {}
        for ln in raw:
            conn, _, rest = ln.partition(' ')
            by_conn.setdefault(int(conn[1:]), []).append(rest)
        # and the connections in an order of their own: two SMTP sessions may reach the two
        # milters' negotiations in different orders (Postfix runs several smtpd processes);
        # a block starts with the session's connect line, whose client port tells them apart
        blocks = sorted(by_conn.values(), key=lambda b: b)
        return [ln for b in blocks for ln in b]

    def run_sessions(self, mode):
        (sock1, trace1), (sock2, trace2) = self.start_pair(mode)
        sink = self.sink()
        pf = self.postfix(sink, smtpd_milters=[sock1, sock2],
                          main={'smtpd_recipient_restrictions':
                                'check_recipient_access inline:{refused@example.net=REJECT}, '
                                'permit_mynetworks, reject'})
        msg = h.make_message(subject='engine diff', from_addr='a@example.test')
        sessions = 0
        # one message; then one with 70 ESMTP parameters on MAIL FROM
        r = h.send(pf.port, 'a@example.test', ['x@example.net'], msg)
        self.assertTrue(r.accepted, r)
        sessions += 1
        r = h.send(pf.port, 'a@example.test', ['x@example.net'], msg,
                   mail_options=['BODY=8BITMIME'] * 40 + ['SIZE=900'] * 30)
        self.assertTrue(r.accepted, '%r\n%s' % (r, h.tail(pf.log(), 10)))
        sessions += 1
        # several messages, RSET, a refused recipient on one connection
        s = smtplib.SMTP('127.0.0.1', pf.port, timeout=60)
        s.ehlo('client.test')
        for i in range(3):
            s.sendmail('a@example.test', ['x@example.net', 'y@example.net'], msg)
        s.mail('b@example.test')
        s.rcpt('x@example.net')
        s.rset()
        self.assertEqual(s.mail('c@example.test')[0], 250)
        self.assertEqual(s.rcpt('refused@example.net')[0], 554)
        self.assertEqual(s.rcpt('x@example.net')[0], 250)
        self.assertEqual(s.data(msg)[0], 250)
        s.quit()
        sessions += 1
        # (no connection dropped in the middle of a message: Postfix then writes ABORT and
        # QUIT and closes, and libmilter, seeing the hang-up, may end the session without
        # reading them; engine/mproto.h. tests/diff covers the case)
        # the traces are complete when every session has closed in both (Postfix's own
        # readiness probe at start may be one more session)
        def complete(t):
            names = self.names(self.lines(t))
            return names.count('connect') >= sessions and names[-1:] == ['close'] \
                and names.count('close') == names.count('connect')
        h.wait_until(lambda: complete(trace1) and complete(trace2), 60,
                     'close of every session in both traces',
                     on_timeout=lambda: '\n'.join(
                         ['postmill:'] + self.lines(trace1)[-4:] + ['libmilter:']
                         + self.lines(trace2)[-4:] + ['maillog:', h.tail(pf.log(), 12)]))
        return self.lines(trace1), self.lines(trace2)

    def check(self, mode):
        got, want = self.run_sessions(mode)
        self.assertEqual(got, want, 'postmill engine (first) and libmilter differ')
        names = self.names(got)
        # Postfix's two ABORTs after an end of message call nothing: an abort never follows
        # an eom, and the RSET's is the only one
        self.assertNotIn(('eom', 'abort'), list(zip(names, names[1:])), got)
        self.assertEqual(names.count('abort'), 1, got)
        self.assertEqual(names.count('eom'), 6, got)
        self.assertEqual(names.count('close'), names.count('connect'), got)
        self.assertTrue(any(ln.startswith('envfrom argc=71 ') for ln in got), got)

    def test_sparse(self):
        self.check('sparse')

    def test_full(self):
        self.check('full')


if __name__ == '__main__':
    unittest.main()
