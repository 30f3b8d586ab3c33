"""test_limit - postmill-limit behind a real Postfix with a real redis-server on loopback.

Each test builds its own stack (harness.E2ETestCase: fresh Workdir, everything stopped by pid):
redis-server on a private port, one or two postmill-limit processes, one Postfix per milter
(two Postfix instances sharing one Redis stand for two nodes), smtp-sink.  Clients pretend to be
SASL-authenticated with XCLIENT LOGIN (Postfix(sasl=True), see harness.py).

  - exact admission under concurrency: 20 parallel sessions over two Postfix + two
    postmill-limit processes on one Redis, a quota of 100 messages, 300 attempts: exactly 100
    are accepted (and delivered); the same for recipients of multi-recipient messages;
  - recipient limits with multi-recipient messages, recipient by recipient (Redis over its unix
    socket, AUTH as an ACL user restricted to postmill-limit's keys);
  - a message over a message limit is refused at its first RCPT (451 4.7.1 to every
    recipient, no DATA) and counts nothing; an accepted message of the benchmark's two rules
    (a recipient quota and a message rate on one key value) costs Redis exactly two script
    calls (one at RCPT, one confirmation at end of message), and the counters stay exact;
  - window roll-over with a 10 s window; the GCRA rate with its burst;
  - refunds: RSET, a dropped connection, a milter before postmill-limit that rejects at end of
    message (Postfix sends ABORT); and why postmill-limit must be the last milter;
  - an override set with postmillctl applies to the next message, without a reload;
  - Redis stopped and frozen (SIGSTOP), under each limit_on_redis_error: the RCPT reply comes
    within the Redis timeouts and matches the policy, and service resumes after Redis is back;
  - faults (reservation journal): Redis frozen under load over two nodes, then thawed: once
    limit_reservation_ttl has passed the counters equal the accepted messages and recipients
    exactly; a worker killed with SIGKILL holding two reservations: they stop counting after
    the ttl.
"""

import os
import re
import signal
import smtplib
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

def note(text):
    """A measurement for people, shown with POSTMILL_E2E_VERBOSE=1."""
    if os.environ.get('POSTMILL_E2E_VERBOSE'):
        sys.stderr.write('    %s\n' % text)


CONNECT_MS = 300        # redis_connect_timeout of the failure tests
COMMAND_MS = 200        # redis_command_timeout
# Postfix, scheduling and Python around one RCPT.  Generous on purpose: the bound must hold on a
# loaded machine, and it still tells a deadline from none (a frozen Redis would then hold the
# RCPT until Postfix's milter_command_timeout, 30 s)
SLACK_S = 8.0


class Session:
    """One SMTP session, step by step, with the time each reply took (for the timeout tests and
    for transactions that end without DATA)."""

    def __init__(self, port, login=None, addr=None):
        self.s = smtplib.SMTP('127.0.0.1', port, timeout=30)
        self.s.ehlo('client.test')
        attrs = []
        if login:
            attrs.append('LOGIN=' + h.xtext(login))
        if addr:
            attrs.append('ADDR=' + addr)
        if attrs:
            code, text = self.s.docmd('XCLIENT', ' '.join(attrs))
            assert code == 220, (code, text)
            self.s.ehlo('client.test')

    def cmd(self, verb, arg=''):
        """(code, text, seconds)"""
        t0 = time.monotonic()
        code, text = self.s.docmd(verb, arg)
        return code, text.decode('utf-8', 'replace'), time.monotonic() - t0

    def mail(self, sender):
        return self.cmd('MAIL', 'FROM:<%s>' % sender)

    def rcpt(self, rcpt):
        return self.cmd('RCPT', 'TO:<%s>' % rcpt)

    def data(self, message):
        code, text, _ = self.cmd('DATA')
        if code != 354:
            return code, text, 0
        t0 = time.monotonic()
        self.s.send(h.dot_stuff(message))
        code, text = self.s.getreply()
        return code, text.decode('utf-8', 'replace'), time.monotonic() - t0

    def quit(self):
        try:
            self.s.quit()
        except (smtplib.SMTPException, OSError):
            pass

    def drop(self):
        """Close the TCP connection in mid-transaction, without QUIT.  (smtplib keeps a file
        object on the socket: close() alone would leave the connection open.)"""
        self.s.sock.shutdown(socket.SHUT_RDWR)
        self.s.close()


class EomMilter:
    """A tiny milter (protocol 6) on 127.0.0.1 that replies REPLYCODE at end of message
    ("550 5.7.1 rejected by the test milter") and CONTINUE to everything else."""

    def __init__(self, reply=b'550 5.7.1 rejected by the test milter'):
        self.port = h.free_port()
        self.reply = reply
        self.eoms = 0
        self._sock = None
        self._stop = False

    @property
    def spec(self):
        return 'inet:127.0.0.1:%d' % self.port

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(('127.0.0.1', self.port))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        def recv(n):
            buf = b''
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                if not chunk:
                    raise EOFError
                buf += chunk
            return buf

        def reply(code, payload=b''):
            conn.sendall(struct.pack('!I', 1 + len(payload)) + code + payload)
        conn.settimeout(30)
        try:
            while True:
                (length,) = struct.unpack('!I', recv(4))
                pkt = recv(length)
                cmd = pkt[:1]
                if cmd == b'O':
                    reply(b'O', struct.pack('!III', 6, 0, 0))
                elif cmd in (b'D', b'A', b'K'):
                    pass
                elif cmd == b'Q':
                    return
                elif cmd == b'E':
                    self.eoms += 1
                    reply(b'y', self.reply + b'\0')
                else:
                    reply(b'c')
        except (EOFError, OSError):
            return
        finally:
            conn.close()

    def stop(self):
        self._stop = True
        if self._sock is not None:
            self._sock.close()


class Stack:
    """What LimitCase.stack() started: redis, sink, milters[i], postfix[i], conf[i]."""


class LimitCase(h.E2ETestCase):
    """Builds postmill-limit stacks inside one test."""

    def setUp(self):
        super().setUp()
        self.n_stacks = 0

    def stack(self, rules, n=1, policy='tempfail', redis=None, before=(), after=(), extra=(),
              redis_server=None):
        """N Postfix instances, each with its own postmill-limit (rules text, limit_on_redis_error
        POLICY, extra postmill.conf lines), on one Redis (REDIS, or a new one) and one sink.
        BEFORE / AFTER: milter specs listed around postmill-limit in smtpd_milters."""
        self.n_stacks += 1
        st = Stack()
        st.redis = redis or self.redis()
        st.sink = self.sink()
        tag = 's%d' % self.n_stacks
        rules_path = self.wd.write(tag + '.rules', rules)
        st.milters, st.postfix, st.conf = [], [], []
        # registered before the milters' own stop(): runs after they stopped, when a
        # sanitizer build has written its leak report
        self.addCleanup(self.check_stopped, st)
        for i in range(n):
            name = '%sm%d' % (tag, i)
            sock = self.wd.path(name + '.sock')
            lines = ['run_user = postmill', 'socket_group = postfix',
                     'limit_socket = unix:' + sock, 'limit_pid_file = ' + self.wd.path(name + '.pid'),
                     'limit_rules_file = ' + rules_path, 'limit_on_redis_error = ' + policy,
                     'redis_server = ' + (redis_server or '127.0.0.1:%d' % st.redis.port)]
            if st.redis.password and redis_server is None:
                lines.append('redis_password = ' + st.redis.password)
            conf = self.wd.write(name + '.conf', '\n'.join(lines + list(extra)) + '\n', mode=0o640)
            os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
            st.conf.append(conf)
            st.milters.append(self.milter([h.binary('postmill-limit'), '-f', '-c', conf], 'unix:' + sock,
                                          name=name))
            st.postfix.append(self.postfix(st.sink, name='pf' + name, sasl=True,
                                           smtpd_milters=list(before) + ['unix:' + sock] + list(after)))
        return st

    def ctl(self, conf, *args):
        """postmillctl -c CONF ARGS...: (status, output)"""
        r = subprocess.run([h.binary('postmillctl'), '-c', conf] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode, r.stdout.decode('utf-8', 'replace')

    @staticmethod
    def send(pf, login, rcpts, sender='sender@example.test', subject='limit test'):
        return h.send(pf.port, sender, rcpts, h.make_message(subject=subject),
                      xclient={'LOGIN': login} if login else None)

    def rcpt_refusal(self, r):
        """(code, text) of a message refused by a message limit: since the message is reserved
        with its first recipient, every RCPT gets the refusal and no DATA follows."""
        self.assertIsNone(r.data, r)
        self.assertTrue(r.rcpt, r)
        self.assertEqual(len({code for _, code, _ in r.rcpt}), 1, r)
        return r.rcpt[0][1], r.rcpt[0][2]

    @staticmethod
    def milter_log(st):
        return '\n'.join(m.log() for m in st.milters)

    def check_stopped(self, st):
        """Every milter of the stack exited 0 on SIGTERM, with no sanitizer report."""
        for m in st.milters:
            self.assertEqual(m.returncode, 0, '%s exit status; log:\n%s' % (m.name, h.tail(m.logfile)))
        self.assertSanitizerClean(st)

    def assertSanitizerClean(self, st):
        log = self.milter_log(st)
        self.assertNotRegex(log, r'runtime error|AddressSanitizer|LeakSanitizer|worker killed|worker exited')


class ConcurrencyTest(LimitCase):
    """Two nodes (Postfix + postmill-limit each) on one Redis; 20 sessions at once."""

    def race(self, st, jobs, nthreads=20):
        """Run JOBS (callables returning a SendResult) on NTHREADS threads; the results."""
        results, lock = [], threading.Lock()
        queue = list(jobs)

        def worker():
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                r = job()
                with lock:
                    results.append(r)
        threads = [threading.Thread(target=worker) for _ in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        return results

    def test_exact_messages(self):
        st = self.stack('exact sasl messages quota=100/1000d\n', n=2)
        jobs = [lambda i=i: self.send(st.postfix[i % 2], 'alice', ['r%d@example.net' % i],
                                      subject='exact %d' % i) for i in range(300)]
        results = self.race(st, jobs)
        self.assertEqual(len(results), 300)
        errors = [r for r in results if r.error]
        self.assertEqual(errors, [])
        accepted = [r for r in results if r.accepted]
        refused = [r for r in results if not r.accepted]
        self.assertEqual(len(accepted), 100, 'exactly the quota is admitted')
        for r in refused:
            code, text = self.rcpt_refusal(r)
            self.assertEqual(code, 451, r)
            self.assertIn('4.7.1 Sending quota exceeded: 100 messages per 1000d (rule exact)', text)
        # both nodes took part, and Redis holds exactly the quota
        for m in st.milters:
            self.assertIn('action=accept stage=eom key=sasl:alice rule=exact', m.log())
            self.assertIn('action=tempfail stage=rcpt key=sasl:alice rule=exact', m.log())
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:alice}:exact:messages:1000d:*').split()
        self.assertEqual(len(keys), 1)
        self.assertEqual(st.redis.cli('GET', keys[0]), '100')
        st.sink.wait_for(100, timeout=60)
        for pf in st.postfix:           # every queued message delivered: nothing more comes
            pf.wait_queue_empty(timeout=60)
        self.assertEqual(len(st.sink.messages()), 100)
        self.assertSanitizerClean(st)

    def test_exact_recipients(self):
        st = self.stack('fanout sasl recipients quota=50/1000d\n', n=2)
        jobs = [lambda i=i: self.send(st.postfix[i % 2], 'bob',
                                      ['a%d@example.net' % i, 'b%d@example.net' % i, 'c%d@example.net' % i],
                                      subject='fanout %d' % i) for i in range(40)]
        results = self.race(st, jobs)
        self.assertEqual([r for r in results if r.error], [])
        ok_rcpts = sum(1 for r in results for _, c, _ in r.rcpt if c == 250)
        refused = [t for r in results for _, c, t in r.rcpt if c != 250]
        self.assertEqual(ok_rcpts, 50, 'exactly the quota of recipients is admitted')
        self.assertEqual(len(refused), 70)
        for t in refused:
            self.assertIn('4.7.1 Sending quota exceeded: 50 recipients per 1000d (rule fanout)', t)
        # every message with an accepted recipient was queued: nothing was given back
        for r in results:
            if any(c == 250 for _, c, _ in r.rcpt):
                self.assertTrue(r.accepted, r)
        st.sink.wait_for(sum(1 for r in results if r.accepted), timeout=60)
        for pf in st.postfix:
            pf.wait_queue_empty(timeout=60)
        delivered = sum(len(d.rcpts) for d in st.sink.messages())
        self.assertEqual(delivered, 50)
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:bob}:fanout:*').split()
        self.assertEqual(st.redis.cli('GET', keys[0]), '50')
        self.assertSanitizerClean(st)


class RecipientTest(LimitCase):
    """Recipient limits with multi-recipient messages, and the refund of an EOM refusal."""

    def test_multi_recipient_messages(self):
        # Redis over its unix socket, AUTH as an ACL user allowed only postmill-limit's keys
        redis = self.redis(unixsocket=True)
        redis.cli('ACL', 'SETUSER', 'milter', 'on', '>milter pass', '~pmlimit:*', '+@all')
        st = self.stack('rc sasl recipients quota=5/1000d\n', redis=redis,
                        redis_server='unix:' + redis.socket_path,
                        extra=['redis_user = milter', 'redis_password = milter pass'])
        pf = st.postfix[0]
        r1 = self.send(pf, 'carol', ['a@example.net', 'b@example.net', 'c@example.net'])
        self.assertEqual([c for _, c, _ in r1.rcpt], [250, 250, 250])
        self.assertTrue(r1.accepted)
        r2 = self.send(pf, 'carol', ['d@example.net', 'e@example.net', 'f@example.net'])
        self.assertEqual([c for _, c, _ in r2.rcpt], [250, 250, 451])
        self.assertIn('4.7.1 Sending quota exceeded: 5 recipients per 1000d (rule rc); try again in',
                      r2.rcpt[2][2])
        self.assertTrue(r2.accepted)
        r3 = self.send(pf, 'carol', ['g@example.net', 'h@example.net'])
        self.assertEqual([c for _, c, _ in r3.rcpt], [451, 451])
        self.assertIsNone(r3.data)
        # another login has its own quota
        r4 = self.send(pf, 'dave', ['a@example.net', 'b@example.net'])
        self.assertEqual([c for _, c, _ in r4.rcpt], [250, 250])
        st.sink.wait_for(3)
        pf.wait_queue_empty()
        got = sorted(len(d.rcpts) for d in st.sink.messages())
        self.assertEqual(got, [2, 2, 3])
        log = st.milters[0].log()
        self.assertRegex(log, r'\S+: limit: action=tempfail stage=rcpt key=sasl:carol rule=rc '
                              r'limit=1000d used=5/5 retry_after=\S+ rcpt=<f@example.net>')
        self.assertRegex(log, r'[0-9A-F]+: limit: action=accept stage=rcpt key=sasl:carol rule=rc '
                              r'limit=1000d used=5/5 rcpt=<e@example.net>')
        self.assertSanitizerClean(st)

    def test_message_refused_at_rcpt(self):
        """A message over its message limit is refused at its first RCPT, in the same check as
        the recipient: the client sends no data, and neither the recipients nor the message
        count.  The recipient limit alone would have let them pass."""
        st = self.stack('r sasl recipients quota=10/1000d\n'
                        'm sasl messages quota=1/1000d\n')
        pf = st.postfix[0]
        self.assertTrue(self.send(pf, 'erin', ['a@example.net', 'b@example.net']).accepted)
        r = self.send(pf, 'erin', ['c@example.net', 'd@example.net', 'e@example.net'])
        self.assertEqual([c for _, c, _ in r.rcpt], [451, 451, 451], r)
        self.assertIsNone(r.data_start, 'no DATA after every recipient was refused')
        for _, _, text in r.rcpt:
            self.assertIn('4.7.1 Sending quota exceeded: 1 messages per 1000d (rule m)', text)
        key = st.redis.cli('KEYS', 'pmlimit:{sasl:erin}:r:recipients:*')
        self.assertEqual(st.redis.cli('GET', key), '2', 'the refused recipients counted nothing')
        key = st.redis.cli('KEYS', 'pmlimit:{sasl:erin}:m:messages:*')
        self.assertEqual(st.redis.cli('GET', key), '1', 'the refused message counted nothing')
        self.assertRegex(st.milters[0].log(), r'\S+: limit: action=tempfail stage=rcpt key=sasl:erin '
                                              r'rule=m limit=1000d used=1/1 retry_after=\S+ '
                                              r'rcpt=<c@example.net>')
        self.assertNotRegex(st.milters[0].log(), r'stage=eom key=sasl:erin rule=m limit=1000d used=1/1 '
                                                 r'retry_after')
        st.sink.wait_for(1)
        pf.wait_queue_empty()
        self.assertEqual([len(d.rcpts) for d in st.sink.messages()], [2])


class WindowTest(LimitCase):
    """Short windows roll over; the GCRA rate lets a burst through, then one per interval."""

    def test_window_rollover(self):
        """Three messages per 10 s window.  The window is the wall clock's, so the test checks
        that each phase ran inside one window (by the clock before and after it) and starts
        over with a fresh login when a phase straddled a boundary: on a slow machine it just
        takes another try, never a wrong verdict."""
        st = self.stack('roll sasl messages quota=3/10s\n')
        pf = st.postfix[0]

        def window():
            return int(time.time() // 10)

        def phase(login, tag):
            """3 accepted + 1 refused inside one window: (True, reply, before, after) or None."""
            before = time.time()
            w = window()
            ok = [self.send(pf, login, ['x@example.net'], subject='%s %d' % (tag, i)).accepted
                  for i in range(3)]
            t_fourth = time.time()
            r = self.send(pf, login, ['x@example.net'])
            after = time.time()
            if window() != w:
                return None                 # straddled a boundary: no verdict about it
            self.assertEqual(ok, [True] * 3, 'three fit in one window')
            code, text = self.rcpt_refusal(r)
            self.assertEqual(code, 451, r)
            return text, t_fourth, after

        for attempt in range(6):
            login = 'fay%d' % attempt
            got = phase(login, 'roll')
            if got is None:
                continue
            text, t_fourth, after = got
            m = re.search(r'Sending quota exceeded: 3 messages per 10s \(rule roll\); '
                          r'try again in (\d+)s', text)
            self.assertIsNotNone(m, text)
            # the milter computed the wait between these two instants: exact bounds
            wait = int(m.group(1))
            most, least = 10 - t_fourth % 10, 10 - after % 10
            self.assertTrue(int(least) <= wait <= int(most) + 1, (wait, least, most))
            # sleep into the next window (a wall-clock boundary, not a guess about speed)
            time.sleep((window() + 1) * 10 - time.time() + 0.05)
            got = phase(login, 'next')
            if got is None:
                continue
            break
        else:
            self.fail('no try fitted a phase into one 10 s window')
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:%s}:roll:messages:10s:*' % login).split()
        self.assertIn(len(keys), (1, 2))       # the first window's counter may have expired
        for k in keys:
            self.assertEqual(st.redis.cli('GET', k), '3')
            self.assertLessEqual(int(st.redis.cli('PTTL', k)), 10000)

    def shift_rate(self, st, login, seconds):
        """Let SECONDS pass for a login's rate bucket: its state is "tat_us interval_us"; moving
        the theoretical arrival time back is exactly what waiting would do."""
        keys = [k for k in st.redis.cli('KEYS', 'pmlimit:{sasl:%s}:*' % login).split()
                if st.redis.cli('TYPE', k) == 'string']
        self.assertEqual(len(keys), 1, keys)
        tat, interval = st.redis.cli('GET', keys[0]).split()
        st.redis.cli('SET', keys[0], '%d %s' % (int(tat) - seconds * 1000000, interval), 'KEEPTTL')

    def test_rate_burst(self):
        # one per 30 min, bursts of 2: however slow the sessions, no token comes back by
        # itself during the test; time passes by moving the bucket's state (shift_rate)
        st = self.stack('gcra sasl messages rate=2/1h burst=2\n')
        pf = st.postfix[0]
        self.assertTrue(self.send(pf, 'gus', ['x@example.net']).accepted)
        self.assertTrue(self.send(pf, 'gus', ['x@example.net']).accepted)
        code, text = self.rcpt_refusal(self.send(pf, 'gus', ['x@example.net']))
        self.assertEqual(code, 451)
        self.assertRegex(text, r'4\.7\.1 Sending rate exceeded: messages rule gcra, at most 2 at once; '
                               r'try again in (29m\d+s|30m)')
        self.shift_rate(st, 'gus', 1800)    # one interval has passed: one more
        self.assertTrue(self.send(pf, 'gus', ['x@example.net']).accepted)
        self.assertEqual(self.rcpt_refusal(self.send(pf, 'gus', ['x@example.net']))[0], 451)
        self.shift_rate(st, 'gus', 3600)    # the bucket is empty again: a burst of 2
        self.assertTrue(self.send(pf, 'gus', ['x@example.net']).accepted)
        self.assertTrue(self.send(pf, 'gus', ['x@example.net']).accepted)
        self.assertEqual(self.rcpt_refusal(self.send(pf, 'gus', ['x@example.net']))[0], 451)
        self.assertRegex(st.milters[0].log(), r'limit: action=tempfail stage=rcpt key=sasl:gus rule=gcra '
                                              r'limit=rate used=2/2 retry_after=\S+ rcpt=<x@example.net>')


class RefundTest(LimitCase):
    """A transaction that does not end in an accepted message gives its reservation back."""

    RULES = 'ab sasl recipients quota=2/1000d\n'

    def counter(self, st, login):
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:%s}:ab:recipients:*' % login).split()
        return st.redis.cli('GET', keys[0]) if keys else '(none)'

    def test_refund_on_rset(self):
        """Postfix passes a client's RSET on to the milters as ABORT when the next transaction
        starts (or the session ends): the reservation holds until then."""
        st = self.stack(self.RULES)
        s = Session(st.postfix[0].port, login='hank')
        self.assertEqual(s.mail('hank@example.test')[0], 250)
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        self.assertEqual(s.rcpt('b@example.net')[0], 250)
        self.assertEqual(s.rcpt('c@example.net')[0], 451)
        self.assertEqual(self.counter(st, 'hank'), '2')
        self.assertEqual(s.cmd('RSET')[0], 250)
        # the next transaction of the session: the ABORT comes first, then MAIL. Both wait
        # in Postfix's buffer until a stage that needs a reply (MAIL has none: SMFIP_NR_MAIL),
        # here the first RCPT, which the milter sees after the refund
        self.assertEqual(s.mail('hank@example.test')[0], 250)
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        st.milters[0].wait_log(r'limit: action=refund reason=abort recipients=2 messages=0')
        self.assertEqual(s.rcpt('b@example.net')[0], 250)
        self.assertEqual(s.data(h.make_message())[0], 250)
        s.quit()
        self.assertEqual(self.counter(st, 'hank'), '2')
        # an ABORT after a message that was accepted gives nothing back
        time.sleep(0.3)
        self.assertEqual(self.counter(st, 'hank'), '2')
        self.assertEqual(st.milters[0].log().count('action=refund'), 1)
        # RSET, then QUIT: given back when the session ends
        s = Session(st.postfix[0].port, login='hal')
        s.mail('hal@example.test')
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        self.assertEqual(self.counter(st, 'hal'), '1')
        s.cmd('RSET')
        s.quit()
        st.milters[0].wait_log(r'limit: action=refund reason=(abort|close) recipients=1 messages=0')
        self.assertEqual(self.counter(st, 'hal'), '(none)')

    def test_refund_on_dropped_connection(self):
        st = self.stack(self.RULES)
        s = Session(st.postfix[0].port, login='ivy')
        s.mail('ivy@example.test')
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        self.assertEqual(self.counter(st, 'ivy'), '1')
        s.drop()
        st.milters[0].wait_log(r'limit: action=refund reason=(abort|close) recipients=1 messages=0')
        self.assertEqual(self.counter(st, 'ivy'), '(none)')

    def test_refund_when_earlier_milter_rejects(self):
        """postmill-limit last: a milter before it rejects at end of message; Postfix sends ABORT
        to postmill-limit, which gives the recipients back."""
        rejecter = EomMilter().start()
        self.addCleanup(rejecter.stop)
        st = self.stack(self.RULES, before=[rejecter.spec])
        r = self.send(st.postfix[0], 'jack', ['a@example.net', 'b@example.net'])
        self.assertEqual([c for _, c, _ in r.rcpt], [250, 250])
        self.assertEqual(r.data[0], 550)
        self.assertIn('rejected by the test milter', r.data[1])
        self.assertEqual(rejecter.eoms, 1)
        st.milters[0].wait_log(r'[0-9A-F]+: limit: action=refund reason=abort recipients=2 messages=0')
        self.assertEqual(self.counter(st, 'jack'), '(none)')

    def test_refund_of_the_message_reserved_at_rcpt(self):
        """The message is reserved with its first recipient: when a milter before postmill-limit
        rejects at end of message, the ABORT gives the message back with the recipients."""
        rejecter = EomMilter().start()
        self.addCleanup(rejecter.stop)
        st = self.stack(self.RULES + 'mm sasl messages quota=5/1000d\n', before=[rejecter.spec])
        s = Session(st.postfix[0].port, login='jill')
        s.mail('jill@example.test')
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        self.assertEqual(s.rcpt('b@example.net')[0], 250)
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:jill}:mm:messages:*').split()
        self.assertEqual(len(keys), 1, 'the message is reserved at RCPT')
        self.assertEqual(st.redis.cli('GET', keys[0]), '1')
        self.assertEqual(self.counter(st, 'jill'), '2')
        code, text, _ = s.data(h.make_message())
        s.quit()
        self.assertEqual(code, 550, text)
        st.milters[0].wait_log(r'[0-9A-F]+: limit: action=refund reason=abort recipients=2 messages=1')
        self.assertEqual(self.counter(st, 'jill'), '(none)')
        self.assertEqual(st.redis.cli('KEYS', 'pmlimit:{sasl:jill}:mm:messages:*'), '')

    def test_later_milter_rejects_so_limit_must_be_last(self):
        """postmill-limit first: it commits at its end of message, a later milter rejects, and
        Postfix tells postmill-limit nothing: the count stays. This is why the manual says
        postmill-limit must be the last milter."""
        rejecter = EomMilter().start()
        self.addCleanup(rejecter.stop)
        st = self.stack(self.RULES, after=[rejecter.spec])
        r = self.send(st.postfix[0], 'kim', ['a@example.net', 'b@example.net'])
        self.assertEqual(r.data[0], 550)
        time.sleep(0.5)
        self.assertEqual(self.counter(st, 'kim'), '2')
        self.assertNotIn('action=refund', st.milters[0].log())


class ScriptCallsTest(LimitCase):
    """What a message costs Redis with the benchmark's two rules on one key value (a recipient
    quota and a message rate): the message is reserved in the recipient's check, so one script
    call at RCPT and one confirmation at end of message; a second recipient adds one call."""

    RULES = ('rq sender recipients quota=1000000000/day\n'
             'mr sender messages rate=1000000/1s\n')
    N = 20

    @staticmethod
    def script_calls(redis):
        """EVALSHA + EVAL calls Redis has run (INFO commandstats)."""
        info = redis.cli('INFO', 'commandstats')
        return sum(int(m.group(2)) for m in re.finditer(r'cmdstat_(evalsha|eval):calls=(\d+)', info))

    def counter(self, st, rule):
        keys = st.redis.cli('KEYS', 'pmlimit:{sender:*}:%s:*' % rule).split()
        self.assertEqual(len(keys), 1, keys)
        return st.redis.cli('GET', keys[0])

    def test_two_calls_per_message(self):
        st = self.stack(self.RULES)
        pf = st.postfix[0]
        # the first message loads the scripts (NOSCRIPT, then EVAL): not counted below
        self.assertTrue(self.send(pf, None, ['w@example.net']).accepted)
        before = self.script_calls(st.redis)
        for i in range(self.N):
            r = self.send(pf, None, ['r%d@example.net' % i], subject='calls %d' % i)
            self.assertTrue(r.accepted, r)
        calls = self.script_calls(st.redis) - before
        note('%d messages of one recipient: %d script calls' % (self.N, calls))
        self.assertEqual(calls, 2 * self.N, 'one check at RCPT and one settle at end of message')
        # two recipients: one more check, the message is not checked again
        before = self.script_calls(st.redis)
        r = self.send(pf, None, ['a@example.net', 'b@example.net'])
        self.assertTrue(r.accepted, r)
        self.assertEqual(self.script_calls(st.redis) - before, 3)
        # exact: every recipient accepted counted, once; the rate holds the messages (its state
        # is the bucket's arrival time, not a count)
        self.assertEqual(self.counter(st, 'rq'), str(1 + self.N + 2))
        self.assertEqual(len(st.redis.cli('GET', st.redis.cli('KEYS', 'pmlimit:{sender:*}:mr:*').split()[0])
                             .split()), 2)
        st.sink.wait_for(self.N + 2)
        pf.wait_queue_empty()
        self.assertEqual(len(st.sink.messages()), self.N + 2)
        self.assertSanitizerClean(st)


class OverrideTest(LimitCase):
    """postmillctl quota set/show/reset act on the next message, with no reload."""

    def test_override_applies_to_next_message(self):
        st = self.stack('plan sasl messages quota=2/1000d\n'
                        'burst sasl messages rate=100/1s\n')
        pf, conf = st.postfix[0], st.conf[0]
        for _ in range(2):
            self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        self.assertEqual(self.rcpt_refusal(self.send(pf, 'lena', ['x@example.net']))[0], 451)
        rc, out = self.ctl(conf, 'quota', 'set', 'sasl:lena', 'plan', '1000d=4')
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r'plan +messages +1000d +used 2 of 4 \(override\)')
        # the very next message, same milter process, no reload
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        code, text = self.rcpt_refusal(self.send(pf, 'lena', ['x@example.net']))
        self.assertEqual(code, 451)
        self.assertIn('4 messages per 1000d (rule plan)', text)
        # a permanent stop for this sender: a rate override of 1 per day, burst 1 (spent).  A
        # new interval starts the bucket empty (postmill-limit(8), Overrides), so the first
        # message passes however few milliseconds ago the 100/s messages went
        rc, out = self.ctl(conf, 'quota', 'set', 'sasl:lena', 'plan', '1000d=unlimited')
        self.assertEqual(rc, 0, out)
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        rc, out = self.ctl(conf, 'quota', 'set', 'sasl:lena', 'burst', 'rate=1/1d', 'burst=1')
        self.assertEqual(rc, 0, out)
        self.assertIn('rate   1/86400s burst 1 (override)', out)
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)   # the burst of 1
        code, text = self.rcpt_refusal(self.send(pf, 'lena', ['x@example.net']))
        self.assertEqual(code, 451)
        self.assertIn('Sending rate exceeded: messages rule burst, at most 1 at once; try again in 1d', text)
        # exempt, then back to the configuration; show and list say so
        self.assertEqual(self.ctl(conf, 'quota', 'set', 'sasl:lena', 'exempt', 'yes')[0], 0)
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        rc, out = self.ctl(conf, 'quota', 'list')
        self.assertEqual(rc, 0, out)
        self.assertIn('sasl:lena plan:1000d=-1 burst:rate=1 86400000 1 exempt=1', out)
        self.assertEqual(self.ctl(conf, 'quota', 'reset', '--overrides', 'sasl:lena')[0], 0)
        rc, out = self.ctl(conf, 'quota', 'show', 'sasl:lena')
        self.assertEqual(rc, 0, out)
        self.assertIn('overrides: none', out)
        self.assertRegex(out, r'plan +messages +1000d +used 6 of 2; window ends in \S+ \(\d{4}-\d\d-\d\d '
                              r'00:00:00 \+00:00\) FULL')
        self.assertEqual(self.rcpt_refusal(self.send(pf, 'lena', ['x@example.net']))[0], 451)
        # reset the usage: the plan starts afresh
        self.assertEqual(self.ctl(conf, 'quota', 'reset', 'sasl:lena')[0], 0)
        self.assertTrue(self.send(pf, 'lena', ['x@example.net']).accepted)
        # mistakes: exit 1 or 2 with a message
        rc, out = self.ctl(conf, 'quota', 'set', 'sasl:lena', 'plan', 'week=3')
        self.assertEqual(rc, 1)
        self.assertIn('rule plan has no quota per "week"', out)
        rc, out = self.ctl(conf, 'quota', 'set', 'sasl:lena', 'plan', '1000d=lots')
        self.assertEqual(rc, 2)
        rc, out = self.ctl(conf, 'quota', 'show', 'ip:192.0.2.1')
        self.assertEqual(rc, 1)
        self.assertIn('counts client_ip keys', out)
        self.assertEqual(st.milters[0].log().count('reloaded'), 0)


class RedisFailureTest(LimitCase):
    """Redis stopped or frozen: every RCPT is answered within the Redis timeouts, as
    limit_on_redis_error says.  The Redis has a password, so that a new connection waits for
    AUTH (redis_connect_timeout) and an idle one for the reply (redis_command_timeout)."""

    RULES = 'plan sasl recipients quota=1000/1000d\n'
    BOUND_S = (CONNECT_MS + COMMAND_MS) / 1000.0 + SLACK_S

    def stacks(self):
        redis = self.redis(password='s3cret')
        extra = ['redis_connect_timeout = %dms' % CONNECT_MS, 'redis_command_timeout = %dms' % COMMAND_MS,
                 'redis_backoff_min = 500ms', 'redis_backoff_max = 2s']
        closed = self.stack(self.RULES, policy='tempfail', redis=redis, extra=extra)
        opened = self.stack(self.RULES, policy='accept', redis=redis, extra=extra)
        # both work, and both have an idle Redis connection now
        for st in (closed, opened):
            self.assertTrue(self.send(st.postfix[0], 'mia', ['x@example.net']).accepted)
        return redis, closed, opened

    def attempt(self, st):
        """One transaction: (RCPT code, text, seconds, DATA code or None)."""
        s = Session(st.postfix[0].port, login='mia')
        s.mail('mia@example.test')
        code, text, dt = s.rcpt('x@example.net')
        data = s.data(h.make_message())[0] if code == 250 else None
        s.quit()
        return code, text, dt, data

    def check_policies(self, closed, opened, what):
        code, text, dt, _ = self.attempt(closed)
        note('%s, tempfail: RCPT %d after %.0f ms' % (what, code, dt * 1000))
        self.assertEqual(code, 451, text)
        self.assertIn('4.3.0 Temporary failure checking sending limits', text)
        self.assertLess(dt, self.BOUND_S, '%s, tempfail: RCPT took %.3fs' % (what, dt))
        times = [dt]
        code, text, dt, data = self.attempt(opened)
        note('%s, accept: RCPT %d after %.0f ms' % (what, code, dt * 1000))
        self.assertEqual(code, 250, text)
        self.assertEqual(data, 250)
        self.assertLess(dt, self.BOUND_S, '%s, accept: RCPT took %.3fs' % (what, dt))
        times.append(dt)
        # within the back-off the next ones fail at once: the milter says it did not
        # even try Redis, and (on an idle machine) the reply takes no timeout
        for st in (closed, opened):
            before = self.milter_log(st).count('error="backing off"')
            code, text, dt, _ = self.attempt(st)
            note('%s, backing off: RCPT %d after %.0f ms' % (what, code, dt * 1000))
            self.assertEqual(self.milter_log(st).count('error="backing off"'), before + 1,
                             '%s: the RCPT in back-off did not skip Redis' % what)
            self.assertLess(dt, self.BOUND_S, '%s: RCPT in back-off took %.3fs' % (what, dt))
        closed.milters[0].wait_log(r'limit: action=tempfail stage=rcpt key=sasl:mia reason=redis_error '
                                   r'error="[^"]+" policy=tempfail')
        opened.milters[0].wait_log(r'limit: action=accept stage=rcpt key=sasl:mia reason=redis_error '
                                   r'error="[^"]+" policy=accept')
        opened.milters[0].wait_log(r'[0-9A-F]+: limit: action=accept stage=rcpt key=sasl:mia '
                                   r'reason=redis_error')
        return times

    def recovers(self, closed, opened):
        """After Redis is back, both count again (after at most the back-off)."""
        for st in (closed, opened):
            h.wait_until(lambda st=st: self.attempt(st)[0] == 250, timeout=10, interval=0.2,
                         what='service after Redis came back')

    def test_redis_frozen(self):
        redis, closed, opened = self.stacks()
        os.kill(redis.pid, signal.SIGSTOP)
        try:
            times = self.check_policies(closed, opened, 'frozen')
            # idle connection: the command timeout decides
            for t in times:
                self.assertGreaterEqual(t, COMMAND_MS / 1000.0 - 0.02)
            self.assertIn('error="timeout"', closed.milters[0].log())
            # after the back-off a probe opens a new connection: AUTH waits, connect timeout.
            # When the back-off ends depends on when the failures came: try until an attempt
            # is the probe (the milter logs one more connect timeout), at most the back-off cap
            for _ in range(40):
                before = closed.milters[0].log().count('error="connect timeout"')
                code, text, dt, _ = self.attempt(closed)
                if closed.milters[0].log().count('error="connect timeout"') > before:
                    break
                time.sleep(0.1)
            else:
                self.fail('no probe of Redis after the back-off')
            note('frozen, new connection (AUTH), tempfail: RCPT %d after %.0f ms' % (code, dt * 1000))
            self.assertEqual(code, 451)
            self.assertGreaterEqual(dt, CONNECT_MS / 1000.0 - 0.02)
            self.assertLess(dt, self.BOUND_S)
        finally:
            os.kill(redis.pid, signal.SIGCONT)
        self.recovers(closed, opened)
        self.assertSanitizerClean(closed)
        self.assertSanitizerClean(opened)

    def test_redis_stopped(self):
        redis, closed, opened = self.stacks()
        redis.stop()
        self.check_policies(closed, opened, 'stopped')
        redis.start()
        self.recovers(closed, opened)
        # the counts went on: what was accepted while Redis was down is not counted
        keys = redis.cli('KEYS', 'pmlimit:{sasl:mia}:plan:*').split()
        self.assertEqual(len(keys), 1)
        self.assertSanitizerClean(closed)
        self.assertSanitizerClean(opened)


class FaultTest(LimitCase):
    """State that survives faults (reservation journal, scripts v3): after Redis froze under
    load, and after a worker was killed mid-transaction, the counters equal the accepted mail
    exactly once limit_reservation_ttl has passed (sooner when the refunds get through)."""

    TTL_S = 3

    def extra(self):
        return ['redis_connect_timeout = %dms' % CONNECT_MS, 'redis_command_timeout = %dms' % COMMAND_MS,
                'redis_backoff_min = 200ms', 'redis_backoff_max = 1s',
                'limit_reservation_ttl = %ds' % self.TTL_S]

    def assertSanitizerClean(self, st):
        # test_killed_worker kills a worker on purpose: that line is expected there
        log = '\n'.join(l for l in self.milter_log(st).splitlines() if 'worker killed by signal 9' not in l)
        self.assertNotRegex(log, r'runtime error|AddressSanitizer|LeakSanitizer|worker killed|worker exited')

    def settle(self, st, conf, login):
        """Once the ttl has passed, calls of the scripts (postmillctl quota show: each call
        removes up to 16 expired journal entries) until the journal is empty."""
        z = 'pmlimit:{sasl:%s}:resvexp' % login
        time.sleep(self.TTL_S + 0.5)
        for _ in range(500):
            if st.redis.cli('ZCARD', z) == '0':
                return
            rc, out = self.ctl(conf, 'quota', 'show', 'sasl:' + login)
            self.assertEqual(rc, 0, out)
        self.fail('journal %s not emptied: %s entries' % (z, st.redis.cli('ZCARD', z)))

    def counter(self, st, login, rule):
        keys = st.redis.cli('KEYS', 'pmlimit:{sasl:%s}:%s:*' % (login, rule)).split()
        return int(st.redis.cli('GET', keys[0]) or 0) if keys else 0

    def test_redis_frozen_under_load(self):
        st = self.stack('lr sasl recipients quota=100000/1000d\nlm sasl messages quota=100000/1000d\n',
                        n=2, policy='tempfail', extra=self.extra())
        results, lock, stop = [], threading.Lock(), threading.Event()

        def loader(k):
            i = 0
            while not stop.is_set():
                r = self.send(st.postfix[(k + i) % 2], 'nora',
                              ['a%d.%d@example.net' % (k, i), 'b%d.%d@example.net' % (k, i)])
                i += 1
                with lock:
                    results.append(r)

        def accepted():
            with lock:
                return sum(1 for r in results if r.accepted)
        threads = [threading.Thread(target=loader, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        try:
            h.wait_until(lambda: accepted() >= 10, timeout=120, what='mail flowing')
            os.kill(st.redis.pid, signal.SIGSTOP)
            try:
                # every RCPT and end of message in flight times out or backs off
                h.wait_until(lambda: self.milter_log(st).count('reason=redis_error') >= 10,
                             timeout=120, what='refusals while Redis is frozen')
            finally:
                os.kill(st.redis.pid, signal.SIGCONT)
            after = accepted()
            h.wait_until(lambda: accepted() >= after + 10, timeout=120, what='mail flowing again')
        finally:
            stop.set()
            for t in threads:
                t.join(300)
        self.assertEqual([r.error for r in results if r.error], [])
        msgs = [r for r in results if r.accepted]
        rcpts = sum(1 for r in msgs for (_, code, _) in r.rcpt if code == 250)
        tempfails = [r for r in results if not r.accepted]
        note('frozen under load: %d sessions, %d messages accepted (%d recipients), %d refused'
             % (len(results), len(msgs), rcpts, len(tempfails)))
        self.assertTrue(tempfails, 'the freeze refused nothing')
        log = self.milter_log(st)
        # calls in flight when Redis froze timed out: their scripts ran when it resumed
        self.assertIn('error="timeout"', log)
        note('before the ttl: messages counted %d, recipients %d; %d timeouts, %d refunds '
             'retried, %d refunds failed'
             % (self.counter(st, 'nora', 'lm'), self.counter(st, 'nora', 'lr'),
                log.count('error="timeout"'), log.count('reason=retry reservations='),
                log.count('status=failed')))
        self.settle(st, st.conf[0], 'nora')
        self.assertEqual(self.counter(st, 'nora', 'lm'), len(msgs), 'messages counted = accepted')
        self.assertEqual(self.counter(st, 'nora', 'lr'), rcpts, 'recipients counted = accepted')
        self.assertSanitizerClean(st)

    def test_killed_worker(self):
        st = self.stack('kq sasl recipients quota=2/1000d\n', policy='tempfail', extra=self.extra())
        s = Session(st.postfix[0].port, login='otto')
        s.mail('otto@example.test')
        self.assertEqual(s.rcpt('a@example.net')[0], 250)
        self.assertEqual(s.rcpt('b@example.net')[0], 250)
        reserved = time.monotonic()
        self.assertEqual(self.counter(st, 'otto', 'kq'), 2)
        workers = [p for p in h.descendants(st.milters[0].pid) if h.pid_alive(p)]
        self.assertTrue(workers)
        for p in workers:
            os.kill(p, signal.SIGKILL)
        st.milters[0].wait_log(r'worker killed by signal 9')
        s.drop()
        # nobody refunds them: they count until the ttl has passed
        self.assertEqual(self.counter(st, 'otto', 'kq'), 2)
        time.sleep(max(0.0, self.TTL_S - (time.monotonic() - reserved)) + 0.5)

        def two_pass():
            t = Session(st.postfix[0].port, login='otto')
            t.mail('otto@example.test')
            codes = (t.rcpt('c@example.net')[0], t.rcpt('d@example.net')[0])
            if codes != (250, 250):
                t.quit()
                return None
            code = t.data(h.make_message())[0]
            t.quit()
            return code
        # the supervisor starts a new worker; then the expired reservations no longer count
        self.assertEqual(h.wait_until(two_pass, timeout=60, interval=0.5, what='recipients again'), 250)
        self.assertEqual(self.counter(st, 'otto', 'kq'), 2)
