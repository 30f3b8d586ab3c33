"""test_daemon - the process model of milter_main (common/milter_main.c) with real processes.

postmill-dkim runs as supervisor (root, holds the socket) + worker (run_user = postmill); the
MTA's side is tests/milter/lib/rawmilter.py over the unix socket, or a real Postfix.  Every case
holds a milter session open at a known step, does something to the processes, then finishes
the session, so nothing here depends on how fast the machine is: waits are on log lines and
process states, with generous timeouts that only bound a failure.
  - SIGTERM to the supervisor: the session in progress ends normally (signed), then both
    processes exit 0 ("draining 1 session", no "stopping with N sessions in progress");
  - the same after bare connects (a health check: connect, close) and QUIT_NC sessions, which
    make the engine call xxfi_close without CONNECT or twice: the drain still waits;
  - SIGHUP to the supervisor (reload) and SIGHUP sent to the worker itself: the session goes
    on, the worker keeps its pid;
  - kill -9 of the supervisor: the worker (which switched to run_user) gets its parent-death
    signal and ends;
  - a worker that crash-loops: while none runs, a client behind Postfix gets
    milter_default_action (451) at once, not after the restart back-off or Postfix's milter
    timeouts (set to 10 minutes here); once the worker starts again, mail is signed again;
  - the systemd units set LimitNOFILE and TasksMax to cover the engine's limits,
    systemd-analyze accepts them and rates each at most 3.0 ("OK") with --offline=true;
  - sd_notify without systemd: NOTIFY_SOCKET names a datagram socket the test binds; READY=1
    (MAINPID = the supervisor), RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM;
  - -n refuses configurations with one fault each (missing user or group, run_user = root,
    bad socket spec or directory, world-readable key, key run_user cannot read, bad
    redis_server, bad bounce_domain), naming file:line; one that -n accepts starts.
"""

import os
import re
import signal
import socket
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'milter', 'lib'))

import harness as h  # noqa: E402
import rawmilter as rm  # noqa: E402

DOMAIN = 'example.test'
HEADERS = [('From', 'alice@' + DOMAIN), ('To', 'rcpt@example.net'), ('Subject', 'drain'),
           ('Date', 'Mon, 23 Nov 2026 12:00:00 +0000'), ('Message-ID', '<drain@client.test>')]
SMFIC_QUIT_NC = b'K'
SANITIZER = r'runtime error|AddressSanitizer|LeakSanitizer'


def children(pid):
    """Pids of PID's children."""
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def ppid(pid):
    with open('/proc/%d/stat' % pid) as f:
        st = f.read()
    return int(st[st.rindex(')') + 2:].split()[1])


class DaemonStack:
    """postmill-dkim (-f: the supervisor is our child) with one RSA key."""

    def __init__(self, wd):
        self.wd = wd
        keys = wd.mkdir('keys', 0o700, owner='postmill')
        self.key, self.txt = h.gen_rsa_key(keys, 'rsa', 1024)
        os.chown(self.key, h.pwd.getpwnam('postmill').pw_uid, -1)
        self.keys = {('s1', DOMAIN): self.txt}
        wd.write('key.table', 'rsa %s:s1:%s\n' % (DOMAIN, self.key))
        wd.write('signing.table', '*@%s rsa\n' % DOMAIN)
        self.sock = wd.path('dkim.sock')
        self.conf = wd.write('postmill.conf', '\n'.join([
            'run_user = postmill',
            'socket_group = postfix',
            'dkim_socket = unix:' + self.sock,
            'dkim_pid_file = ' + wd.path('dkim.pid'),
            'dkim_key_table = ' + wd.path('key.table'),
            'dkim_signing_table = ' + wd.path('signing.table'),
        ]) + '\n')

    def start(self, add_cleanup):
        self.milter = h.MilterProcess(self.wd, [h.binary('postmill-dkim'), '-f', '-c', self.conf],
                                      'unix:' + self.sock)
        self.milter.start()
        add_cleanup(self.milter.stop)
        # the socket is the supervisor's and ready first: wait for the worker too
        self.milter.wait_log(r'started, version', timeout=60)
        return self

    def worker(self):
        """The worker's pid (waits for it: the supervisor may be restarting it)."""
        def one():
            kids = [p for p in children(self.milter.pid) if h.pid_alive(p)]
            return kids[0] if len(kids) == 1 else None
        return h.wait_until(one, 30, 'one worker under supervisor %d' % self.milter.pid)

    def open_session(self):
        """A session stopped after the header fields: EOH, body and EOM are still to come."""
        m = rm.Milter(self.sock, timeout=60)
        self.assertEqual(m.connect('127.0.0.1'), b'c')
        r = m.message('DRAIN1', HEADERS, until='body')
        self.assertEqual(r.stage, 'body', r.__dict__)
        self.assertFalse(r.closed)
        return m

    def finish_session(self, m):
        """Body and EOM of open_session()'s message: the reply and the inserted fields."""
        r = rm.Result('DRAIN1', HEADERS, [b'Hello.\r\n'], m.leadspace)
        m.send(b'B', b'Hello.\r\n')
        if not m.prot & rm.SMFIP_NR_BODY:
            cmd, _ = m.recv()
            if cmd != b'c':
                return cmd, r
        m.send(b'E')
        while True:
            cmd, data = m.recv()
            if cmd in (b'i', b'h'):
                m._insert(r, cmd, data)
            elif cmd in rm.FINAL:
                return cmd, r

    @staticmethod
    def assertEqual(a, b, msg=None):
        if a != b:
            raise AssertionError('%r != %r %s' % (a, b, msg or ''))

    @staticmethod
    def assertFalse(a, msg=None):
        if a:
            raise AssertionError('%r is true %s' % (a, msg or ''))


def bare_connect(path):
    """A health check ("nc -z"): connect, send nothing, close; returns once the milter closed
    its side too (so its engine has run the session's end)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()


def quit_nc_session(path):
    """Negotiate, CONNECT, QUIT_NC, end of stream: the engine calls xxfi_close after QUIT_NC
    and again at the end of the connection."""
    m = rm.Milter(path, timeout=60)
    assert m.connect('127.0.0.1') == b'c'
    m.send(SMFIC_QUIT_NC)
    m.s.shutdown(socket.SHUT_WR)
    while m.s.recv(4096):
        pass
    m.s.close()


class DrainTest(unittest.TestCase):
    """A stop or reload never cuts a session in progress."""

    def setUp(self):
        self.wd = h.Workdir(prefix='pm-dmn-')
        self.addCleanup(self.wd.cleanup)
        self.st = DaemonStack(self.wd)
        # cleanups run last first: this one after the milter's stop (LeakSanitizer at exit)
        self.addCleanup(lambda: self.assertNotRegex(self.st.milter.log(), SANITIZER))
        self.st.start(self.addCleanup)

    def assert_signed(self, reply, r):
        self.assertIn(reply, (b'a', b'c'), 'end of message reply')
        sigs = [v for n, v, _ in r.fields if n.lower() == 'dkim-signature']
        self.assertEqual(len(sigs), 1, r.fields)
        res = h.verify_dkimpy(r.message(), self.st.keys)
        self.assertTrue(res and all(x.result == 'pass' for x in res), res)

    def stop_and_finish(self):
        m = self.st.open_session()
        worker = self.st.worker()
        self.st.milter.signal(signal.SIGTERM)
        # the worker took the stop (or, the defect, died of it) before the session goes on
        h.wait_until(lambda: 'draining 1 session' in self.st.milter.log() or not h.pid_alive(worker),
                     30, 'the worker to take the SIGTERM', on_timeout=lambda: h.tail(self.st.milter.logfile))
        self.assertTrue(h.pid_alive(worker), 'SIGTERM killed the worker at once')
        self.assertIn('stopping: draining 1 session in progress', self.st.milter.log())
        reply, r = self.st.finish_session(m)
        m.quit()
        self.assert_signed(reply, r)
        self.st.milter.proc.wait(60)
        self.assertEqual(self.st.milter.returncode, 0, h.tail(self.st.milter.logfile))
        log = self.st.milter.log()
        self.assertNotIn('sessions in progress', log.replace('draining 1 session in progress', ''))
        self.assertNotIn('session in progress', log.replace('draining 1 session in progress', ''))
        self.assertIn('supervisor stopped', log)
        h.wait_until(lambda: not h.pid_alive(worker), 30, 'worker %d to end' % worker)

    def test_sigterm_drains_session_in_progress(self):
        self.stop_and_finish()

    def test_drain_after_bare_connects_and_quit_nc(self):
        # each would decrement a counter once too often: -5 -3 = -8 before the session below
        for _ in range(5):
            bare_connect(self.st.sock)
        for _ in range(3):
            quit_nc_session(self.st.sock)
        self.stop_and_finish()

    def test_reload_keeps_session(self):
        m = self.st.open_session()
        worker = self.st.worker()
        self.st.milter.hup()
        self.st.milter.wait_log(r'reloaded .* \(generation \d+\)', timeout=30)
        reply, r = self.st.finish_session(m)
        m.quit()
        self.assert_signed(reply, r)
        self.assertEqual(self.st.worker(), worker)

    def test_sighup_to_worker_keeps_session(self):
        m = self.st.open_session()
        worker = self.st.worker()
        os.kill(worker, signal.SIGHUP)
        # a whole second session while the first one waits: the worker still serves
        m2 = rm.Milter(self.st.sock, timeout=60)
        self.assertEqual(m2.connect('127.0.0.1'), b'c')
        r2 = m2.message('DRAIN2', HEADERS)
        m2.quit()
        self.assert_signed(r2.reply, r2)
        reply, r = self.st.finish_session(m)
        m.quit()
        self.assert_signed(reply, r)
        self.assertTrue(h.pid_alive(worker))
        self.assertEqual(self.st.worker(), worker)
        self.assertNotRegex(self.st.milter.log(), r'worker (killed|exited)')


class SupervisorTest(unittest.TestCase):
    """The worker dies with its supervisor; no worker means an immediate answer."""

    def setUp(self):
        self.wd = h.Workdir(prefix='pm-sup-')
        self.addCleanup(self.wd.cleanup)
        self.st = DaemonStack(self.wd)
        # cleanups run last first: this one after the milter's stop (LeakSanitizer at exit)
        self.addCleanup(lambda: self.assertNotRegex(self.st.milter.log(), SANITIZER))
        self.st.start(self.addCleanup)

    def test_worker_dies_with_supervisor(self):
        worker = self.st.worker()
        self.assertEqual(ppid(worker), self.st.milter.pid)
        self.addCleanup(h.kill_pid, worker, signal.SIGKILL)
        self.st.milter.signal(signal.SIGKILL)
        self.st.milter.proc.wait(30)
        # the parent-death signal (SIGTERM) drains and ends it; 60 s only bounds a failure
        h.wait_until(lambda: not h.pid_alive(worker), 60,
                     'worker %d to end after its supervisor was killed' % worker,
                     on_timeout=lambda: h.tail(self.st.milter.logfile))
        self.assertIn('stopped', self.st.milter.log())

    def test_crash_loop_answers_at_once(self):
        sink = h.Sink(self.wd)
        sink.start()
        self.addCleanup(sink.stop)
        # ten minutes for every milter step: only an immediate answer passes this test
        pf = h.Postfix(self.wd, relay_port=sink.port, smtpd_milters='unix:' + self.st.sock,
                       milter_default_action='tempfail',
                       main={'milter_connect_timeout': '600s', 'milter_command_timeout': '600s',
                             'milter_content_timeout': '600s',
                             'relay_domains': 'example.net'})
        pf.start()
        self.addCleanup(pf.stop)
        msg = h.make_message(subject='crash loop', from_addr='alice@' + DOMAIN)
        r = h.send(pf.port, 'alice@' + DOMAIN, ['rcpt@example.net'], msg)
        self.assertTrue(r.accepted, r)
        # the worker cannot read its key any more: every restart fails (exit 78)
        os.chmod(self.st.key, 0)
        os.kill(self.st.worker(), signal.SIGKILL)
        # killed (restart in 1 s), the restart fails (exit 78, next restart in 2 s)
        self.st.milter.wait_log(r'worker exited with status 78', timeout=60)
        t0 = time.monotonic()
        r = h.send(pf.port, 'alice@' + DOMAIN, ['rcpt@example.net'], msg, timeout=900)
        elapsed = time.monotonic() - t0
        self.assertFalse(r.accepted, r)
        codes = [c[0] for c in (r.mail, r.data_start, r.data) if c] + [c for _, c, _ in r.rcpt]
        self.assertIn(451, codes, r)
        # far below 600 s (Postfix's milter timeouts) and the back-off: the answer is at once
        self.assertLess(elapsed, 120, r)
        pf.wait_log(r"can't read SMFIC_OPTNEG reply packet header|Connection reset|"
                    r"Broken pipe|milter .* unavailable")
        # the key is readable again: the next restart sticks and mail is signed again
        os.chmod(self.st.key, 0o600)
        self.st.milter.wait_log(r'worker \d+ started', timeout=120)
        r = h.send(pf.port, 'alice@' + DOMAIN, ['rcpt@example.net'], msg)
        self.assertTrue(r.accepted, r)
        sink.wait_for(2, postfix=pf)


class UnitFileTest(unittest.TestCase):
    """The systemd units give the engine the descriptors and threads its limits need, are
    hardened to `systemd-analyze security` <= 3.0 ("OK") each, and run the milters as
    Type=notify in the foreground."""

    # engine defaults (milter_max_connections, milter_max_workers) and the descriptors it keeps
    # for itself: LimitNOFILE must cover the connections, TasksMax the pool and a margin
    CONNECTIONS, WORKERS, FD_RESERVE, OTHER_THREADS = 16384, 128, 64, 8
    MILTERS = ('auth', 'bounce', 'dkim', 'limit')
    MAX_EXPOSURE = 3.0

    def units(self):
        """{name: text} of every .service, @SBINDIR@/@SYSCONFDIR@ substituted as `make install` does."""
        units = os.path.join(h.REPO_ROOT, 'packaging', 'systemd')
        out = {}
        for n in sorted(os.listdir(units)):
            if n.endswith('.service'):
                with open(os.path.join(units, n)) as f:
                    out[n] = (f.read().replace('@SBINDIR@', os.path.join(h.build_dir(), 'bin'))
                              .replace('@SYSCONFDIR@', '/etc/postmill'))
        self.assertEqual({'postmill-%s.service' % m for m in self.MILTERS} - set(out), set())
        return out

    def test_limits(self):
        wd = h.Workdir(prefix='pm-unit-')
        self.addCleanup(wd.cleanup)
        for n, text in self.units().items():
            if n in ['postmill-%s.service' % m for m in self.MILTERS]:
                vals = dict(re.findall(r'(?m)^(LimitNOFILE|TasksMax)=(\d+)$', text))
                self.assertEqual(set(vals), {'LimitNOFILE', 'TasksMax'}, n)
                self.assertGreaterEqual(int(vals['LimitNOFILE']), self.CONNECTIONS + self.FD_RESERVE, n)
                self.assertGreaterEqual(int(vals['TasksMax']), 2 * (self.WORKERS + self.OTHER_THREADS), n)
                # sd_notify: the supervisor in the foreground is the main process
                self.assertRegex(text, r'(?m)^Type=notify$', n)
                self.assertRegex(text, r'(?m)^NotifyAccess=all$', n)
                self.assertRegex(text, r'(?m)^ExecStart=\S+ -f ', n)
            # systemd itself parses the unit: no unknown key, no bad value
            path = wd.write(n, text)
            p = h.subprocess.run(['systemd-analyze', 'verify', path], capture_output=True, text=True)
            bad = [l for l in (p.stdout + p.stderr).splitlines()
                   if re.search(r'Unknown key|Failed to parse|Invalid|not valid', l)]
            self.assertEqual(bad, [], n)

    def test_security(self):
        """systemd-analyze security --offline=true: every unit's exposure at most 3.0."""
        wd = h.Workdir(prefix='pm-unit-')
        self.addCleanup(wd.cleanup)
        scores = {}
        for n, text in self.units().items():
            path = wd.write(n, text)
            p = h.subprocess.run(['systemd-analyze', 'security', '--offline=true', '--no-pager', path],
                                 capture_output=True, text=True)
            m = re.search(r'Overall exposure level for \S+: (\d+\.\d+)', p.stdout + p.stderr)
            self.assertIsNotNone(m, '%s: %s' % (n, (p.stdout + p.stderr)[-2000:]))
            scores[n] = float(m.group(1))
        print('systemd-analyze security: %s' % ', '.join('%s %.1f' % kv for kv in sorted(scores.items())),
              file=sys.stderr)
        self.assertEqual({n: v for n, v in scores.items() if v > self.MAX_EXPOSURE}, {})


class NotifyTest(unittest.TestCase):
    """sd_notify for real, without systemd: NOTIFY_SOCKET names a datagram socket the test
    binds; the supervisor (-f) says READY=1 with its pid as MAINPID once the worker serves,
    RELOADING=1 then READY=1 around a SIGHUP reload, STOPPING=1 at SIGTERM."""

    def recv(self, sock):
        data = sock.recv(4096).decode()
        return dict(l.split('=', 1) for l in data.splitlines() if '=' in l)

    def test_ready_reload_stop(self):
        wd = h.Workdir(prefix='pm-notify-')
        self.addCleanup(wd.cleanup)
        stack = DaemonStack(wd)
        path = wd.path('notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        os.chmod(path, 0o777)   # the worker (run_user) reports the end of a reload
        sock.settimeout(60)
        milter = h.MilterProcess(wd, [h.binary('postmill-dkim'), '-f', '-c', stack.conf],
                                 'unix:' + stack.sock, env={'NOTIFY_SOCKET': path})
        milter.start()
        self.addCleanup(milter.stop)
        msg = self.recv(sock)
        self.assertEqual(msg.get('READY'), '1', msg)
        self.assertEqual(msg.get('MAINPID'), str(milter.pid), msg)
        milter.wait_log(r'started, version', timeout=60)

        milter.hup()
        msg = self.recv(sock)
        self.assertEqual(msg.get('RELOADING'), '1', msg)
        self.assertIn('MONOTONIC_USEC', msg)
        msg = self.recv(sock)
        self.assertEqual(msg.get('READY'), '1', msg)
        self.assertEqual(msg.get('STATUS'), 'serving', msg)
        self.assertNotIn('MAINPID', msg)    # unchanged; the worker may not move it
        milter.wait_log(r'reloaded .* \(generation \d+\)', timeout=60)

        # a reload that fails keeps serving the old configuration: READY=1 all the same
        with open(stack.conf, 'a') as f:
            f.write('dkim_key_table = %s\n' % wd.path('no-such.table'))
        milter.hup()
        msg = self.recv(sock)
        self.assertEqual(msg.get('RELOADING'), '1', msg)
        msg = self.recv(sock)
        self.assertEqual(msg.get('READY'), '1', msg)
        self.assertIn('reload failed', msg.get('STATUS', ''))

        milter.signal(signal.SIGTERM)
        msg = self.recv(sock)
        self.assertEqual(msg.get('STOPPING'), '1', msg)
        milter.proc.wait(timeout=60)
        self.assertEqual(milter.proc.returncode, 0, h.tail(milter.logfile, 30))


class ConfigCheckTest(unittest.TestCase):
    """A configuration that -n accepts starts; one fault each, -n refuses it and names the
    file:line of the parameter (and says why run_user = root is refused)."""

    def setUp(self):
        self.wd = h.Workdir(prefix='pm-ncheck-')
        self.addCleanup(self.wd.cleanup)
        self.stack = DaemonStack(self.wd)
        with open(self.stack.conf) as f:
            self.good = f.read().splitlines()
        secret = self.wd.write('bounce.secret', 'k1 ' + 'ab' * 32 + '\n', mode=0o600)
        os.chown(secret, h.pwd.getpwnam('postmill').pw_uid, -1)
        self.bounce = [
            'run_user = postmill',
            'redis_server = 127.0.0.1:%d' % h.free_port(),
            'bounce_socket = unix:' + self.wd.path('bounce.sock'),
            'bounce_domain = bounces.example.test',
            'bounce_secret_files = ' + secret,
        ]

    def check(self, prog, lines, name='t.conf'):
        conf = self.wd.write(name, '\n'.join(lines) + '\n')
        p = h.subprocess.run([h.binary(prog), '-n', '-c', conf], capture_output=True, text=True,
                             timeout=120)
        return conf, p

    def refuses(self, prog, lines, param, value, want):
        """-n exits 1 naming CONF:LINE: PARAM = VALUE: ...WANT (LINE: where PARAM is set)."""
        lines = [l for l in lines if not l.startswith(param + ' =')]
        lines.insert(1, '%s = %s' % (param, value))
        conf, p = self.check(prog, lines, name='%s-%s.conf' % (prog, param))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r'(?m)^%s:2: %s = %s: .*%s' % (re.escape(conf), param,
                                                                   re.escape(value), want))
        self.assertIn('not starting', p.stderr)
        self.assertNotRegex(p.stderr, SANITIZER)

    def test_faults(self):
        dkim = self.good
        self.refuses('postmill-dkim', dkim, 'run_user', 'no-such-user-pm', 'no such user')
        self.refuses('postmill-dkim', dkim, 'run_user', 'root', 'running as root is refused')
        self.refuses('postmill-dkim', dkim, 'run_group', 'no-such-group-pm', 'no such group')
        self.refuses('postmill-dkim', dkim, 'socket_group', 'no-such-group-pm', 'no such group')
        self.refuses('postmill-dkim', dkim, 'dkim_socket', 'unix:' + self.wd.path('nodir', 'd.sock'),
                     'No such file or directory')
        self.refuses('postmill-dkim', dkim, 'dkim_socket', 'inet:70000@127.0.0.1', 'port must be')
        self.refuses('postmill-dkim', dkim, 'dkim_socket', 'tcp:25', 'unknown socket type')
        self.refuses('postmill-dkim', dkim, 'dkim_pid_file', self.wd.path('nodir', 'd.pid'),
                     'No such file or directory')
        self.refuses('postmill-bounce', self.bounce, 'redis_server', '127.0.0.1:notaport', 'port')
        self.refuses('postmill-bounce', self.bounce, 'bounce_domain', 'bad..example', 'empty label')

    def test_postmillctl(self):
        """postmillctl config check DAEMON runs that daemon's -n: same verdict, same lines."""
        lines = [l for l in self.good if not l.startswith('run_user =')]
        lines.insert(0, 'run_user = no-such-user-pm')
        conf = self.wd.write('ctl.conf', '\n'.join(lines) + '\n')
        ctl = [h.binary('postmillctl'), '-c', conf, 'config', 'check']
        p = h.subprocess.run(ctl + ['dkim'], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('%s:1: run_user = no-such-user-pm: no such user' % conf, p.stderr)
        conf = self.wd.write('ctl.conf', '\n'.join(self.good) + '\n')
        p = h.subprocess.run(ctl[:2] + [conf] + ctl[3:] + ['dkim'], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = h.subprocess.run(ctl[:2] + [conf] + ctl[3:] + ['nosuch'], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('unknown daemon', p.stderr)

    def test_key_permissions(self):
        # readable by others: refused (the table's line names the key)
        os.chmod(self.stack.key, 0o644)
        conf, p = self.check('postmill-dkim', self.good)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r'key\.table:1: .*readable by group or others')
        # not readable by run_user: the -n check loads the keys as run_user, as the worker will
        os.chmod(self.stack.key, 0o600)
        os.chown(self.stack.key, 0, -1)
        conf, p = self.check('postmill-dkim', self.good)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r'as run_user postmill: .*key\.table:1: .*Permission denied')

    def test_accepted_starts(self):
        conf, p = self.check('postmill-dkim', self.good, name='postmill.conf')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('configuration OK', p.stdout)
        self.stack.start(self.addCleanup)
        m = rm.Milter(self.stack.sock, timeout=60)
        self.assertEqual(m.connect('127.0.0.1'), b'c')
        m.s.close()


if __name__ == '__main__':
    unittest.main()
