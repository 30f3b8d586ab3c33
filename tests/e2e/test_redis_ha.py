"""test_redis_ha - postmill-limit on a Redis Sentinel group, master killed under SMTP load.

Three redis-servers (a master and two replicas) and three Sentinels (quorum 2,
down-after-milliseconds 1000) on 127.0.0.1, two Postfix nodes each with its own postmill-limit
whose redis_server is the Sentinel group, and one smtp-sink.  Ten client threads send messages
through both nodes as one SASL login with a quota, until the quota refuses 20 (at most
MAX_ATTEMPTS); once a quarter of the quota is admitted the master is killed (SIGKILL: no goodbye
to clients or replicas).  A deferred message is sent again later, as a client would.  Measured and checked:

  - lost: messages Postfix accepted (250 after DATA) that never reached the sink: must be 0;
  - deferred: 451 replies while no master could be reached (limit_on_redis_error = tempfail);
  - refused: 451 "quota exceeded" once the quota is used up;
  - over-admission: accepted beyond the quota, which only asynchronous replication can cause
    (an INCR the old master acknowledged and did not pass on before it died); the bound is what
    was in flight between master and replicas at the kill (on loopback: at most the messages
    admitted in the last replication round trip, i.e. a handful);
  - the longest stretch without an accepted message (the time until mail flows again): the
    Sentinels' detection and election plus at most redis_backoff_min.

The counts are printed with POSTMILL_E2E_VERBOSE=1.  Nothing here depends on speed: the load is
bounded in count, and the only time bound (60 s without an accepted message fails) is far above
any failover.
"""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

MASTER = 'pmha'
QUOTA = 240
MAX_ATTEMPTS = 5000     # a bound on the load whatever happens; a run needs about QUOTA + 500
THREADS = 10


def note(text):
    """A measurement for people, shown with POSTMILL_E2E_VERBOSE=1."""
    if os.environ.get('POSTMILL_E2E_VERBOSE'):
        sys.stderr.write('    %s\n' % text)


class Sentinel(h.Redis):
    """redis-server --sentinel watching MASTER on master_port, with a config file it may rewrite."""

    def __init__(self, workdir, master_port, name):
        super().__init__(workdir, name=name)
        self.master_port = master_port

    def start(self, timeout=h.DEFAULT_TIMEOUT):
        conf = os.path.join(self.dir, 'sentinel.conf')
        with open(conf, 'w') as f:
            f.write('sentinel monitor %s 127.0.0.1 %d 2\n' % (MASTER, self.master_port))
            f.write('sentinel down-after-milliseconds %s 1000\n' % MASTER)
            f.write('sentinel failover-timeout %s 5000\n' % MASTER)
        argv = [h.REDIS_SERVER, conf, '--sentinel', '--port', str(self.port), '--bind', '127.0.0.1',
                '--dir', self.dir, '--daemonize', 'no', '--logfile', '']
        self._spawn(argv, os.path.join(self.dir, 'redis.log'), cwd=self.dir)
        self._wait_ready(self._ping, timeout, 'redis-sentinel on port %d' % self.port)
        return self

    def master(self):
        """(host, port) the Sentinel names as master now."""
        out = self.cli('SENTINEL', 'get-master-addr-by-name', MASTER).split()
        return out[0], int(out[1])


class FailoverTest(h.E2ETestCase):
    """Kill the master under load; nothing lost, mail flows again after the failover."""

    def group(self):
        """Master, two replicas, three Sentinels; the redis_server string of the group."""
        self.data = [self._started(h.Redis(self.wd, name='redis0'))]
        for i in (1, 2):
            self.data.append(self._started(h.Redis(
                self.wd, name='redis%d' % i,
                extra_args=['--replicaof', '127.0.0.1 %d' % self.data[0].port])))
        h.wait_until(lambda: self.data[0].cli('INFO', 'replication').count('state=online') == 2,
                     timeout=30, what='both replicas online')
        self.sentinels = [self._started(Sentinel(self.wd, self.data[0].port, 'sentinel%d' % i))
                          for i in range(3)]
        # every Sentinel has found the others (needed for a quorum of 2)
        h.wait_until(lambda: all('num-other-sentinels' in s.cli('SENTINEL', 'master', MASTER)
                                 and s.cli('SENTINEL', 'master', MASTER).split('\n')[
                                     s.cli('SENTINEL', 'master', MASTER).split('\n').index(
                                         'num-other-sentinels') + 1] == '2'
                                 for s in self.sentinels),
                     timeout=30, what='Sentinels see each other')
        return 'sentinel:%s@%s' % (MASTER, ','.join('127.0.0.1:%d' % s.port for s in self.sentinels))

    def nodes(self, redis_server, sink):
        """Two Postfix nodes, each with its own postmill-limit on the Sentinel group."""
        rules = self.wd.write('ha.rules', 'ha sasl messages quota=%d/1000d\n' % QUOTA)
        pfs, milters = [], []
        for i in range(2):
            name = 'ha%d' % i
            sock = self.wd.path(name + '.sock')
            conf = self.wd.write(name + '.conf', '\n'.join([
                'run_user = postmill', 'socket_group = postfix',
                'limit_socket = unix:' + sock, 'limit_pid_file = ' + self.wd.path(name + '.pid'),
                'limit_rules_file = ' + rules, 'limit_on_redis_error = tempfail',
                'redis_server = ' + redis_server,
                'redis_connect_timeout = 500ms', 'redis_command_timeout = 500ms',
                'redis_backoff_min = 200ms']) + '\n', mode=0o640)
            os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
            milters.append(self.milter([h.binary('postmill-limit'), '-f', '-c', conf], 'unix:' + sock,
                                       name=name))
            pfs.append(self.postfix(sink, name='pf' + name, sasl=True, smtpd_milters=['unix:' + sock]))
        return pfs, milters

    def test_master_killed_under_load(self):
        group = self.group()
        sink = self.sink()
        pfs, milters = self.nodes(group, sink)
        lock = threading.Lock()
        state = {'next': 0, 'accepted': [], 'deferred': 0, 'refused': 0, 'other': [],
                 'killed_at': None, 'last_ok': time.monotonic(), 'worst_gap': 0.0}
        old_master = self.data[0]

        def kill_master():
            os.kill(old_master.pid, signal.SIGKILL)
            state['killed_at'] = time.monotonic()

        def worker():
            while True:
                with lock:
                    # until the quota is clearly used up: 20 quota refusals
                    if state['next'] >= MAX_ATTEMPTS or state['refused'] >= 20:
                        return
                    i = state['next']
                    state['next'] += 1
                r = h.send(pfs[i % 2].port, 'sender@example.test', ['r%d@example.net' % i],
                           h.make_message(subject='ha %d' % i), xclient={'LOGIN': 'alice'})
                now = time.monotonic()
                # postmill-limit reserves a message with its first recipient: a quota's 451
                # comes at RCPT
                # any stage may defer while Redis fails over: Postfix's milter_default_action
                # (tempfail) answers MAIL when a milter is slow; a 4xx anywhere is a deferral
                bad = ([r.mail] if r.mail and r.mail[0] != 250 else []) \
                    + [(c, t) for _, c, t in r.rcpt if c != 250] \
                    + ([r.data] if r.data and r.data[0] != 250 else [])
                code, text = bad[0] if bad else (None, '')
                with lock:
                    if r.accepted:
                        state['accepted'].append(r.queue_id)
                        state['worst_gap'] = max(state['worst_gap'], now - state['last_ok'])
                        state['last_ok'] = now
                        if len(state['accepted']) == QUOTA // 4 and state['killed_at'] is None:
                            kill_master()
                    elif code == 451 and 'quota exceeded' in text:
                        state['refused'] += 1
                    elif code == 451:
                        state['deferred'] += 1
                    else:
                        state['other'].append(repr(r))
                    stalled = now - state['last_ok']
                if stalled > 60 and len(state['accepted']) < QUOTA:
                    raise AssertionError('no message accepted for 60 s after the kill')
                if code == 451 and 'quota exceeded' not in text:
                    time.sleep(0.05)  # a real client would retry later, not at once

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        self.assertIsNotNone(state['killed_at'], 'the master was killed')
        self.assertEqual(state['other'], [], 'every reply is 250, a tempfail or a quota refusal')
        accepted = len(state['accepted'])
        # the new master is one of the replicas, as every Sentinel says
        new = {s.master() for s in self.sentinels}
        self.assertEqual(len(new), 1)
        self.assertNotEqual(list(new)[0][1], old_master.port)
        # nothing Postfix accepted is lost
        sink.wait_for(accepted, timeout=120)
        time.sleep(0.5)
        delivered = len(sink.messages())
        self.assertEqual(delivered, accepted, 'lost: %d' % (accepted - delivered))
        over = accepted - QUOTA
        note('master killed after %d admissions: %d attempts, %d accepted and delivered (quota %d, '
             'over-admission %d), %d deferred (451 without a master), %d refused (quota), '
             'lost 0; longest wait for an accepted message %.2f s'
             % (QUOTA // 4, state['next'], accepted, QUOTA, over, state['deferred'], state['refused'],
                state['worst_gap']))
        # asynchronous replication can only lose counts, so admit more, never fewer; what it can
        # lose is what was in flight at the kill: far below one message per client thread
        self.assertGreaterEqual(accepted, QUOTA - THREADS, 'under-admission: %d' % accepted)
        self.assertLessEqual(over, THREADS, 'over-admission beyond the in-flight bound')
        for m in milters:
            self.assertRegex(m.log(), r'redis sentinel:%s@\S+: master is 127\.0\.0\.1:\d+' % MASTER)


class PersistenceCheckTest(h.E2ETestCase):
    """postmillctl redis check and -n tell an operator when Redis would lose postmill's state."""

    def check(self, redis, extra=''):
        conf = self.wd.write('rc%d.conf' % redis.port, 'redis_server = 127.0.0.1:%d\n%s' % (redis.port, extra))
        r = h.subprocess.run([h.binary('postmillctl'), '-c', conf, 'redis', 'check'], stdout=h.subprocess.PIPE,
                             stderr=h.subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode(), conf

    def test_redis_check(self):
        bare = self.redis(name='bare')
        rc, out, conf = self.check(bare)
        self.assertEqual(rc, 1, out)
        self.assertIn('reach: OK', out)
        self.assertIn('role: OK: master', out)
        self.assertIn('persistence: FAIL: neither AOF nor RDB', out)
        # -n of a daemon that keeps state says it too
        rules = self.wd.write('n.rules', 'r sasl messages quota=10/1d\n')
        nconf = self.wd.write('n.conf', 'run_user =\nredis_server = 127.0.0.1:%d\nlimit_rules_file = %s\n'
                              % (bare.port, rules))
        r = h.subprocess.run([h.binary('postmill-limit'), '-n', '-c', nconf], stdout=h.subprocess.PIPE,
                             stderr=h.subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(b'WARNING: redis persistence: neither AOF nor RDB', r.stdout)

        aof = self.redis(name='aof', extra_args=['--appendonly', 'yes', '--appendfsync', 'everysec'])
        rc, out, _ = self.check(aof)
        self.assertEqual(rc, 0, out)
        self.assertIn('persistence: OK: aof everysec', out)
        self.assertIn('eviction: OK: noeviction', out)

        evicting = self.redis(name='evict', extra_args=['--appendonly', 'yes', '--maxmemory-policy', 'allkeys-lru'])
        rc, out, _ = self.check(evicting)
        self.assertEqual(rc, 1, out)
        self.assertIn('eviction: FAIL: maxmemory-policy allkeys-lru', out)

        replica = self.redis(name='replica', extra_args=['--appendonly', 'yes', '--replicaof',
                                                          '127.0.0.1 %d' % aof.port])
        rc, out, _ = self.check(replica)
        self.assertEqual(rc, 1, out)
        self.assertIn('role: FAIL: slave', out)

        bare.stop()
        rc, out, _ = self.check(bare)
        self.assertEqual(rc, 1, out)
        self.assertIn('reach: FAIL', out)
