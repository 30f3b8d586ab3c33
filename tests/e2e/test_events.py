"""test_events - postmill-events behind a real Postfix with postmill-bounce and Redis.

One Postfix ("ours", postmill-bounce tagging everything from 127.0.0.1) routes three domains to
three smtp-sinks: ok.test accepts, defer.test answers RCPT with 4xx (then is replaced by one that
accepts and the queue is flushed), bad.test answers RCPT with 5xx. postmill-events follows the
instance's maillog (postlogd) and writes events to Redis; the test reads the stream.

Tests:
  - one message to the three: accepted x3, then delivered (ok), deferred (defer, then delivered
    after the flush), bounced (bad, dsn 5.x.x, class and reason set); the order per recipient;
    every event carries tenant, sender, queue id, Message-ID, tag id, a unique id;
  - postmill-events stopped in the middle (SIGTERM), Postfix restarted, postmill-events started
    again while mail flows: every
    message's accepted and final events are in the stream exactly once (the position is
    committed with the events in one script), none lost;
  - a recipient on the sender's suppression list is refused at RCPT and gives "suppressed";
  - `postfix logrotate` in the middle: nothing lost or doubled;
  - `postfix logrotate` while postmill-events is stopped, once with maillog_file_compressor =
    true (the rotated file stays as it is, found by the saved inode) and once with the default
    gzip (a new inode, found by its first line's fingerprint, read through zlib): at its start
    it reads the unread tail of the rotated file, then the new file: every message's events
    once;
"""

import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
import test_bounce as tb  # noqa: E402

STREAM = 'pmevents:{ev}:stream'
SENDER = 'alice@customer.test'


class EventsTest(h.E2ETestCase):

    def stack(self, events_extra=(), pf_main=None):
        self.redis_srv = self.redis()
        self.ok = self.sink(name='ok')
        self.defer = self.sink(name='defer', soft_reject=['RCPT'])
        self.bad = self.sink(name='bad', hard_reject=['RCPT'])
        sock = tb.start_milter(self, [tb.secret_file(self.wd, 'bounce.secret')])
        tr = self.wd.write('transport', 'ok.test smtp:[127.0.0.1]:%d\n'
                                        'defer.test smtp:[127.0.0.1]:%d\n'
                                        'bad.test smtp:[127.0.0.1]:%d\n'
                           % (self.ok.port, self.defer.port, self.bad.port))
        main = {'transport_maps': 'texthash:' + tr, 'relay_domains': 'ok.test defer.test bad.test'}
        main.update(pf_main or {})
        self.pf = self.postfix(self.ok.port, name='ours', smtpd_milters=['unix:' + sock], main=main)
        self.start_events(events_extra)

    def start_events(self, extra=()):
        EventsTest.start_events_on(self, self.pf, extra)

    def start_events_on(self, pf, extra=()):
        self.pf_events = pf
        stats = self.wd.mkdir('stats', mode=0o755)
        conf = self.wd.write('events.conf', '\n'.join(list(extra) + [
            'events_maillog = ' + pf.maillog,
            'events_poll_interval = 50ms',
            'stats_dir = ' + stats,
            'redis_server = 127.0.0.1:%d' % self.redis_srv.port,
            'redis_command_timeout = 2s', 'redis_connect_timeout = 1s']) + '\n')
        self.events_conf = conf
        self.ev = self.milter([h.binary('postmill-events'), '-f', '-c', conf],
                              'unix:' + os.path.join(stats, 'events.stats'), name='events')

    def settle(self):
        """Wait until postmill-events has committed the whole maillog and every bounce-stream
        entry: whatever it would add is in the stream now."""
        port = self.redis_srv.port

        def done():
            pos = resp(port, 'GET', 'pmevents:{ev}:pos')
            last = resp(port, 'XREVRANGE', 'pmbounce:events', '+', '-', 'COUNT', '1')
            return (pos is not None and int(pos.split(':')[2]) == os.path.getsize(self.pf_events.maillog)
                    and (not last or resp(port, 'GET', 'pmevents:{ev}:bpos') == last[0][0]))
        h.wait_until(done, timeout=30, what='postmill-events at the end of the log')

    def stream(self):
        """Every event as a dict, in stream order."""
        return parse_xrange(resp(self.redis_srv.port, 'XRANGE', STREAM, '-', '+'))

    def wait_events(self, pred, what):
        stream = lambda: EventsTest.stream(self)  # noqa: E731
        h.wait_until(lambda: pred(stream()), timeout=30, what=what,
                     on_timeout=lambda: 'stream: %r\nevents log:\n%s\nmaillog:\n%s' % (
                         stream(), h.tail(self.ev.log()), h.tail(self.pf_events.log(), 40)))
        return stream()

    def send(self, rcpts, sender=SENDER):
        r = h.send(self.pf.port, sender, rcpts, h.make_message(from_addr=sender, to_addr=rcpts[0]))
        self.assertTrue(r.accepted, r.stage_codes())
        return r

    def test_outcomes(self):
        self.stack()
        self.send(['a@ok.test', 'b@defer.test', 'c@bad.test'])

        def have(evs, want):
            got = [(e['type'], e['recipient']) for e in evs]
            return all(w in got for w in want)
        self.wait_events(lambda evs: have(evs, [('delivered', 'a@ok.test'), ('deferred', 'b@defer.test'),
                                                ('bounced', 'c@bad.test')]), 'first outcomes')
        # defer.test recovers: a sink that accepts on the same port, then a flush
        port = self.defer.port
        self.defer.stop()
        self.sink(name='defer2', port=port)
        self.pf.flush()
        evs = self.wait_events(lambda evs: have(evs, [('delivered', 'b@defer.test')]),
                               'b delivered after the retry')
        by = {}
        for e in evs:
            by.setdefault(e['recipient'], []).append(e['type'])
        self.assertEqual(by['a@ok.test'], ['accepted', 'delivered'])
        self.assertEqual(by['c@bad.test'], ['accepted', 'bounced'])
        b = by['b@defer.test']
        self.assertEqual(b[0], 'accepted')
        self.assertEqual(b[-1], 'delivered')
        self.assertTrue(set(b[1:-1]) == {'deferred'} and len(b) >= 3, b)
        ids = [e['id'] for e in evs]
        self.assertEqual(len(ids), len(set(ids)), 'event ids are unique')
        qid = {e['queue_id'] for e in evs}
        self.assertEqual(len(qid), 1)
        for e in evs:
            self.assertEqual(e['tenant'], 'customer.test')
            self.assertEqual(e['sender'], SENDER)
            self.assertRegex(e['tag_id'], r'^[0-9a-f]{20}$')
            self.assertTrue(e['message_id'].endswith('@example.test'), e)
        bounced = [e for e in evs if e['type'] == 'bounced'][0]
        self.assertTrue(bounced['dsn'].startswith('5.'), bounced)
        self.assertIn(bounced['class'], ('hard', 'soft'))
        self.assertTrue(bounced['reason'])
        # postmillctl reads the same stream
        ctl = [h.binary('postmillctl'), '-c', self.events_conf]
        tail = subprocess.run(ctl + ['events', 'tail', '--tenant', 'customer.test', '--count', '50'],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30).stdout.decode()
        self.assertEqual(len(tail.strip().split('\n')), len(evs), tail)
        none = subprocess.run(ctl + ['events', 'tail', '--tenant', 'other.test'], stdout=subprocess.PIPE,
                              timeout=30).stdout.decode()
        self.assertEqual(none, '')
        st = subprocess.run(ctl + ['stats', '--tenant', 'customer.test', '--since', '1h'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30).stdout.decode()
        self.assertRegex(st, r'sent +3\n')
        self.assertRegex(st, r'delivered +2 \(66\.67%\)')
        self.assertRegex(st, r'bounced +1 \(33\.33%\)')
        # --follow prints what comes next
        fol = subprocess.Popen(ctl + ['events', 'tail', '--follow', '--count', '1'], stdout=subprocess.PIPE)
        self.addCleanup(h.terminate_popen, fol)
        watchdog = threading.Timer(30, h.terminate_popen, [fol])	# a read never hangs the test
        watchdog.start()
        self.addCleanup(watchdog.cancel)
        first = fol.stdout.readline().decode()
        self.assertIn('delivered  customer.test b@defer.test', first)
        self.send(['late@ok.test'])
        got = []
        for _ in range(20):		# accepted and delivered of late@, then stop reading
            got.append(fol.stdout.readline().decode())
            if 'delivered  customer.test late@ok.test' in got[-1]:
                break
        self.assertIn('accepted   customer.test late@ok.test', got[0])
        self.assertIn('delivered  customer.test late@ok.test', got[-1])
        h.terminate_popen(fol)
        print('\n' + tail + st, file=sys.stderr)
        print('\nevent sequence of one message:', file=sys.stderr)
        for e in evs:
            print('  %-10s %-14s dsn=%-6s class=%s reason=%s id=%s' % (
                e['type'], e['recipient'], e.get('dsn', ''), e.get('class', ''), e.get('reason', ''),
                e['id']), file=sys.stderr)

    def test_restart(self):
        self.stack()
        n1 = 10
        for i in range(n1):
            self.send(['r%d@ok.test' % i])
        # stop it while the first mail is being logged, send more, start again
        self.wait_events(lambda evs: any(e['type'] == 'accepted' for e in evs), 'a first event')
        self.ev.stop()
        for i in range(n1, 2 * n1):
            self.send(['r%d@ok.test' % i])
        self.pf.wait_log(r'status=sent', count=2 * n1, timeout=60)
        # and Postfix restarts too: its log goes on in the same file
        self.pf.stop()
        self.pf.start()
        n2 = 2 * n1 + 5
        for i in range(2 * n1, n2):
            self.send(['r%d@ok.test' % i])
        self.pf.wait_log(r'status=sent', count=n2, timeout=60)
        n1 = n2 / 2
        self.ev = self.milter([h.binary('postmill-events'), '-f', '-c', self.events_conf],
                              self.ev.socket, name='events2')

        def done(evs):
            return sum(1 for e in evs if e['type'] == 'delivered') >= n2
        evs = self.wait_events(done, 'every delivery')
        self.settle()			# anything extra would show now
        evs = self.stream()
        for i in range(n2):
            r = 'r%d@ok.test' % i
            types = [e['type'] for e in evs if e['recipient'] == r]
            self.assertEqual(types, ['accepted', 'delivered'], r)

    def test_redis_frozen(self):
        """Redis stops answering (SIGSTOP) while deliveries are logged: postmill-events commits
        nothing, reads the batch again when Redis answers (SIGCONT), and every recipient's
        events are there once."""
        self.stack(events_extra=['redis_backoff_min = 100ms', 'redis_backoff_max = 500ms'])
        rcpts = ['f%d@defer.test' % i for i in range(5)]
        for r in rcpts:
            self.send([r])
        self.wait_events(lambda evs: sum(e['type'] == 'deferred' for e in evs) >= 5, 'deferred')
        port = self.defer.port
        self.defer.stop()
        self.sink(name='defer2', port=port)
        h.kill_pid(self.redis_srv.pid, signal.SIGSTOP)
        try:
            self.pf.flush()
            self.pf.wait_log(r'to=<f\d@defer\.test>.*status=sent', count=5, timeout=60)
            self.ev.wait_log(r'the batch will be read again', timeout=30)
        finally:
            h.kill_pid(self.redis_srv.pid, signal.SIGCONT)
        evs = self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) >= 5, 'deliveries')
        self.settle()
        evs = self.stream()
        for r in rcpts:
            t = [e['type'] for e in evs if e['recipient'] == r]
            self.assertEqual((t[0], t[-1], set(t[1:-1])), ('accepted', 'delivered', {'deferred'}), (r, t))
        ids = [e['id'] for e in evs]
        self.assertEqual(len(ids), len(set(ids)))

    def test_logrotate(self):
        """`postfix logrotate` (postlogd renames maillog_file, compresses it and opens a new one)
        in the middle of the traffic: every message's events, once."""
        self.stack()
        for i in range(5):
            self.send(['p%d@ok.test' % i])
        self.pf.wait_log(r'status=sent', count=5, timeout=60)
        self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) >= 2, 'some events')
        self.pf._run(h.POSTFIX, '-c', self.pf.conf_dir, 'logrotate')
        h.wait_until(lambda: any(n.startswith('maillog.') for n in os.listdir(os.path.dirname(self.pf.maillog))),
                     what='the rotated maillog')
        for i in range(5, 10):
            self.send(['p%d@ok.test' % i])
        evs = self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) >= 10,
                               'every delivery after the rotation')
        for i in range(10):
            r = 'p%d@ok.test' % i
            self.assertEqual([e['type'] for e in evs if e['recipient'] == r], ['accepted', 'delivered'], r)

    def test_rotated_while_stopped(self):
        """The log is rotated while postmill-events is down, with unread lines at the end of the
        old file: they are read first (the saved inode is found beside the path), then the new
        file from 0; nothing lost, nothing twice."""
        self.rotated_while_stopped('true')

    def test_rotated_compressed_while_stopped(self):
        """The same with postfix logrotate's default compressor, gzip: the rotated file is a new
        inode, found by the fingerprint of its first line and read through zlib."""
        self.rotated_while_stopped(None)

    def rotated_while_stopped(self, compressor):
        self.stack(pf_main={'maillog_file_compressor': compressor} if compressor else None)
        for i in range(3):
            self.send(['w%d@ok.test' % i])
        self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) == 3, 'three deliveries')
        self.settle()
        self.ev.stop()
        for i in range(3, 6):		# logged in the old file, unread
            self.send(['w%d@ok.test' % i])
        self.pf.wait_log(r'status=sent', count=6, timeout=60)
        self.pf.wait_log(r'removed', count=6, timeout=60)
        old_size = os.path.getsize(self.pf.maillog)
        self.pf._run(h.POSTFIX, '-c', self.pf.conf_dir, 'logrotate')
        d = os.path.dirname(self.pf.maillog)
        rotated = [n for n in os.listdir(d) if n.startswith('maillog.')]
        self.assertEqual(len(rotated), 1, rotated)
        if compressor:		# as it was; the master's reload line may follow the rename in it
            self.assertGreaterEqual(os.path.getsize(os.path.join(d, rotated[0])), old_size)
        else:
            self.assertTrue(rotated[0].endswith('.gz'), rotated)
        for i in range(6, 9):		# in the new file
            self.send(['w%d@ok.test' % i])
        h.wait_until(lambda: os.path.exists(self.pf.maillog)
                     and len(re.findall(r'status=sent', self.pf.log())) == 3, timeout=60,
                     what='three deliveries in the new maillog')
        self.ev = self.milter([h.binary('postmill-events'), '-f', '-c', self.events_conf],
                              self.ev.socket, name='events2')
        evs = self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) >= 9,
                               'every delivery, both files')
        self.settle()
        evs = self.stream()
        for i in range(9):
            r = 'w%d@ok.test' % i
            self.assertEqual([e['type'] for e in evs if e['recipient'] == r], ['accepted', 'delivered'], r)
        self.assertNotIn('lost', self.ev.log())

    def test_suppressed(self):
        self.stack()
        self.redis_srv.cli('HSET', 'pmbounce:{s:%s}:sup:x@bad.test' % SENDER, 'reason', 'user_unknown',
                           'status', '5.1.1', 'diagnostic', '', 'time', '1', 'expires', '0')
        r = h.send(self.pf.port, SENDER, ['x@bad.test', 'a@ok.test'],
                   h.make_message(from_addr=SENDER, to_addr='a@ok.test'))
        self.assertTrue(r.accepted, r.stage_codes())
        evs = self.wait_events(lambda evs: any(e['type'] == 'suppressed' for e in evs)
                               and any(e['type'] == 'delivered' for e in evs), 'suppressed')
        s = [e for e in evs if e['type'] == 'suppressed'][0]
        self.assertEqual((s['recipient'], s['tenant'], s['reason']),
                         ('x@bad.test', 'customer.test', 'user_unknown'))
        self.assertNotIn('x@bad.test', [e['recipient'] for e in evs if e['type'] == 'accepted'])

    def test_webhooks(self):
        """Every event of a tenant reaches its webhook, signed, through 500s and a stall; a
        tenant whose endpoint always fails gets its events dead-lettered."""
        secret = os.urandom(32).hex()
        sf = self.wd.write('hook.secret', secret + '\n', mode=0o600)
        hook = Hook(fail_first=3, stall=1, stall_s=2.5)
        hook.secret = secret.encode()
        self.addCleanup(hook.stop)
        table = self.wd.write('webhooks', '# tenant url secret\n'
                              'customer.test http://127.0.0.1:%d/hook %s\n'
                              'dead.test http://127.0.0.1:%d/dead %s\n' % (hook.port, sf, hook.port, sf))
        self.stack(events_extra=['events_webhook_table = ' + table, 'events_webhook_timeout = 1s',
                                 'events_webhook_retry_min = 100ms', 'events_webhook_retry_max = 400ms',
                                 'events_webhook_max_attempts = 6', 'events_webhook_max_in_flight = 4'])
        for i in range(3):
            self.send(['x%d@ok.test' % i])
        self.send(['y@ok.test'], sender='bob@dead.test')
        self.wait_events(lambda evs: sum(e['type'] == 'delivered' for e in evs) == 4, 'deliveries')
        want = {e['id'] for e in self.stream() if e['tenant'] == 'customer.test'}
        self.assertEqual(len(want), 6)

        def arrived():
            return want <= hook.ok_ids()
        h.wait_until(arrived, timeout=60, what='every event at the webhook',
                     on_timeout=lambda: 'got %r\nlog:\n%s' % (hook.seen, h.tail(self.ev.log())))
        self.assertEqual(hook.bad_signatures, 0)
        self.assertLessEqual(hook.max_active, 4, 'events_webhook_max_in_flight')
        self.assertGreaterEqual(hook.failed, 3)
        self.assertGreaterEqual(hook.stalled, 1)
        for body in hook.bodies.values():
            ev = json.loads(body)
            self.assertEqual(ev['tenant'], 'customer.test')
        # dead letters: both events of bob@dead.test, after 6 attempts each
        dead_key = 'pmevents:{ev}:dead'
        h.wait_until(lambda: resp(self.redis_srv.port, 'XLEN', dead_key) == 2, timeout=60,
                     what='two dead letters', on_timeout=lambda: h.tail(self.ev.log()))
        dead = parse_xrange(resp(self.redis_srv.port, 'XRANGE', dead_key, '-', '+'))
        self.assertEqual({d['tenant'] for d in dead}, {'dead.test'})
        self.assertEqual({d['attempts'] for d in dead}, {'6'})
        self.assertEqual(sum(1 for p in hook.paths if p == '/dead'), 12)
        # nothing is left scheduled, and the position reached the stream's end
        self.assertEqual(resp(self.redis_srv.port, 'ZCARD', 'pmevents:{ev}:wh:retry'), 0)
        last = self.stream()[-1]['_id']
        h.wait_until(lambda: resp(self.redis_srv.port, 'GET', 'pmevents:{ev}:wh:pos') == last,
                     timeout=10, what='the webhook position at the end')
        print('\nwebhook: %d POSTs to /hook (%d failed with 500, %d stalled past the timeout), '
              '%d events delivered, 0 bad signatures; %d POSTs to /dead, 2 dead letters'
              % (sum(1 for p in hook.paths if p == '/hook'), hook.failed, hook.stalled, len(hook.ok_ids()),
                 sum(1 for p in hook.paths if p == '/dead')), file=sys.stderr)


class EventsBounceTest(h.E2ETestCase):
    """test_bounce's three Postfix instances: ours (A, postmill-bounce) relays to a remote MTA (B)
    that accepts, then fails to deliver to C and sends a DSN to the tag, back through A. The log
    of A says delivered; the DSN, recorded by postmill-bounce, becomes a bounced event; the next
    message to that recipient is refused and becomes suppressed."""

    def test_async_bounce(self):
        tb.BounceTest.stack(self)
        EventsTest.start_events_on(self, self.pf_a)
        r = h.send(self.pf_a.port, SENDER, ['gone@remote.test'],
                   h.make_message(from_addr=SENDER, to_addr='gone@remote.test'))
        self.assertTrue(r.accepted, r.stage_codes())
        self.milter_.wait_log(r'bounce: action=record ', timeout=30)
        if not tb.BounceTest.classifier_ready(self):
            self.skipTest('bounce_classify() is still the placeholder (branch bounce-classify)')

        def types(evs):
            return [e['type'] for e in evs if e['recipient'] == 'gone@remote.test']
        evs = EventsTest.wait_events(self, lambda evs: types(evs)[:3] == ['accepted', 'delivered', 'bounced'],
                                     'accepted, delivered, then bounced from the DSN')
        b = [e for e in evs if e['type'] == 'bounced'][0]
        self.assertEqual((b['class'], b['reason'], b['dsn'], b['source'], b['tenant']),
                         ('hard', 'user_unknown', '5.1.1', 'dsn', 'customer.test'))
        self.assertEqual(b['queue_id'], r.queue_id)
        # suppressed now: the next message is refused at RCPT
        r2 = h.send(self.pf_a.port, SENDER, ['gone@remote.test'],
                    h.make_message(from_addr=SENDER, to_addr='gone@remote.test'))
        self.assertFalse(r2.accepted)
        evs = EventsTest.wait_events(self, lambda evs: 'suppressed' in types(evs), 'suppressed')
        self.assertEqual(types(evs), ['accepted', 'delivered', 'bounced', 'suppressed'])
        print('\nevent sequence, delivered then bounced by the remote MTA, then suppressed:', file=sys.stderr)
        for e in evs:
            print('  %-10s %s dsn=%s class=%s reason=%s source=%s' % (
                e['type'], e['recipient'], e.get('dsn', ''), e.get('class', ''), e.get('reason', ''),
                e.get('source', '')), file=sys.stderr)

    def test_complaint(self):
        """An ARF complaint about a delivered message (through postmill-bounce's feedback path)
        becomes complained; an auto-reply is no event."""
        tb.BounceActionTest.stack(self)
        EventsTest.start_events_on(self, self.pf)
        self.send = lambda rcpt, sender=SENDER: tb.BounceActionTest.send(self, rcpt, sender)
        t = tb.BounceActionTest.tag(self, 'reader@isp.test')
        self.assertTrue(tb.BounceActionTest.inject(self, t, tb.arf(t, 'reader@isp.test')).accepted)
        t2 = tb.BounceActionTest.tag(self, 'jane@dest.test')
        self.assertTrue(tb.BounceActionTest.inject(self, t2, tb.vacation(t2, 'jane@dest.test')).accepted)
        self.milter_.wait_log(r'action=record kind=auto_reply', timeout=30)

        def types(evs, r):
            return [e['type'] for e in evs if e['recipient'] == r]
        evs = EventsTest.wait_events(self, lambda evs: 'complained' in types(evs, 'reader@isp.test')
                                     and 'delivered' in types(evs, 'jane@dest.test'), 'complained')
        EventsTest.settle(self)		# an auto-reply event would show by now
        evs = EventsTest.stream(self)
        self.assertEqual(types(evs, 'reader@isp.test'), ['accepted', 'delivered', 'complained'])
        self.assertEqual(types(evs, 'jane@dest.test'), ['accepted', 'delivered'])
        c = [e for e in evs if e['type'] == 'complained'][0]
        self.assertEqual((c['class'], c['source'], c['tenant']), ('complaint', 'arf', 'customer.test'))


class EventsTenantTest(h.E2ETestCase):
    """Tenants in events, one stack: postmill-bounce with a tenant table (login:bob, and
    acme.test with one-click unsubscribe), postmill-unsubscribe, postmill-events with webhooks for
    both tenants and room for one tenant in the metrics, postmill-exporter, a real Prometheus.

      - a message sent by the authenticated login bob (XCLIENT LOGIN) from a sender of another
        domain: its accepted and delivered events carry tenant login:bob, and reach bob's webhook;
      - acme.test's message gets List-Unsubscribe; a real POST to postmill-unsubscribe makes one
        unsubscribed event (tenant acme.test, that recipient, the message's tag id, queue id and
        sender: the token names the message), and it reaches acme's webhook, signed; a replay
        makes none;
      - entries of the tracking endpoint's shape (bounce_stream.h: kind open/click, message_id)
        become opened and clicked events of the message's tenant (from its record), with the url,
        and reach the webhook;
      - postmillctl stats --tenant counts it; /metrics has postmill_tenant_*_total with
        tenant="login:bob" (the first seen) and tenant="other" (acme.test, past the bound of
        one), and Prometheus answers queries with the same numbers."""

    def test_login_unsubscribe_webhooks_metrics(self):
        self.redis_srv = self.redis()
        ok = self.sink(name='ok')
        uport = h.free_port()
        tenants = self.wd.write('tenants', 'login:bob -\nacme.test - unsubscribe\n')
        sock = tb.start_milter(self, [tb.secret_file(self.wd, 'bounce.secret')], [
            'bounce_tenant_table = ' + tenants,
            'bounce_unsubscribe_url = https://unsub.provider.test/u/',
            'bounce_unsubscribe_listen = 127.0.0.1:%d' % uport])
        self.milter([h.binary('postmill-unsubscribe'), '-f', '-c', self.conf],
                    'inet:%d@127.0.0.1' % uport, name='unsubscribe')
        tr = self.wd.write('transport', 'ok.test smtp:[127.0.0.1]:%d\n' % ok.port)
        self.pf = self.postfix(ok.port, name='ours', sasl=True, smtpd_milters=['unix:' + sock], main={
            'transport_maps': 'texthash:' + tr, 'relay_domains': 'ok.test'})
        secret = os.urandom(32).hex()
        sf = self.wd.write('hook.secret', secret + '\n', mode=0o600)
        hook = Hook()
        hook.secret = secret.encode()
        self.addCleanup(hook.stop)
        table = self.wd.write('webhooks', 'login:bob http://127.0.0.1:%d/bob %s\n'
                              'acme.test http://127.0.0.1:%d/acme %s\n' % (hook.port, sf, hook.port, sf))
        xport = h.free_port()
        EventsTest.start_events_on(self, self.pf, [
            'events_webhook_table = ' + table, 'events_webhook_retry_min = 100ms',
            'events_webhook_retry_max = 400ms', 'events_metrics_tenants = 1', 'socket_mode = 0666',
            'exporter_listen = 127.0.0.1:%d' % xport])
        exporter = self.milter([h.binary('postmill-exporter'), '-c', self.events_conf],
                               'inet:%d@127.0.0.1' % xport, name='exporter')
        self.assertTrue(exporter)

        # bob, authenticated, with a sender of a domain that is no tenant
        r = h.send(self.pf.port, 'news@elsewhere.test', ['b1@ok.test'],
                   h.make_message(from_addr='news@elsewhere.test', to_addr='b1@ok.test'),
                   xclient={'LOGIN': 'bob'})
        self.assertTrue(r.accepted, r.stage_codes())
        self.milter_.wait_log(r'action=tag sender=<news@elsewhere\.test> .*tenant=login:bob')
        # acme.test: one recipient, so the one-click header
        r = h.send(self.pf.port, 'news@acme.test', ['reader@ok.test'],
                   h.make_message(from_addr='news@acme.test', to_addr='reader@ok.test'))
        self.assertTrue(r.accepted, r.stage_codes())
        self.milter_.wait_log(r'action=tag sender=<news@acme\.test> .*unsubscribe=added')
        tok = None

        def find_token():
            for d in ok.messages():
                for v in d.header('List-Unsubscribe'):
                    m = re.fullmatch(r'<https://unsub\.provider\.test/u/([A-Za-z0-9_-]+)>', v.strip())
                    if m:
                        return m.group(1)
            return None
        tok = h.wait_until(find_token, timeout=30, what='the List-Unsubscribe token')
        url = 'http://127.0.0.1:%d/u/%s' % (uport, tok)
        for want in ('unsubscribed\n', 'already unsubscribed\n'):	# the second is a replay
            req = urllib.request.Request(url, data=b'List-Unsubscribe=One-Click', method='POST')
            req.add_header('Content-Type', 'application/x-www-form-urlencoded')
            with urllib.request.urlopen(req, timeout=30) as resp_:
                self.assertEqual((resp_.status, resp_.read().decode()), (200, want))

        def ready(evs):
            return (sum(e['type'] == 'delivered' for e in evs) == 2
                    and any(e['type'] == 'unsubscribed' for e in evs))
        EventsTest.wait_events(self, ready, 'deliveries and the unsubscribe')
        EventsTest.settle(self)
        evs = EventsTest.stream(self)
        bob = [(e['type'], e['tenant']) for e in evs if e['recipient'] == 'b1@ok.test']
        self.assertEqual(bob, [('accepted', 'login:bob'), ('delivered', 'login:bob')])
        reader = [e for e in evs if e['recipient'] == 'reader@ok.test']
        self.assertEqual([(e['type'], e['tenant']) for e in reader],
                         [('accepted', 'acme.test'), ('delivered', 'acme.test'),
                          ('unsubscribed', 'acme.test')])
        u = reader[-1]
        self.assertEqual((u['source'], u['reason']), ('unsubscribe', 'unsubscribed'))
        # the token names the message: the unsubscribe is tied to it
        self.assertEqual((u['tag_id'], u['queue_id'], u['sender']),
                         (reader[0]['tag_id'], reader[0]['queue_id'], 'news@acme.test'))
        self.assertRegex(u['tag_id'], r'^[0-9a-f]{20}$')

        # the tracking endpoint's entries (bounce_stream.h's shape), about bob's message: opened
        # and clicked events of tenant login:bob (from the message's record), with the url
        bob_id = [e for e in evs if e['recipient'] == 'b1@ok.test'][0]['tag_id']
        now = str(int(time.time()))
        self.redis_srv.cli('XADD', 'pmbounce:events', '*', 'time', now, 'kind', 'open', 'class', 'engagement',
                           'reason', 'opened', 'action', 'opened', 'source', 'track', 'tenant', '',
                           'message_id', bob_id, 'recipient', 'b1@ok.test', 'recipients', '1', 'first', '1')
        self.redis_srv.cli('XADD', 'pmbounce:events', '*', 'time', now, 'kind', 'click', 'class', 'engagement',
                           'reason', 'clicked', 'action', 'clicked', 'source', 'track', 'tenant', '',
                           'message_id', bob_id, 'recipient', 'b1@ok.test', 'recipients', '1', 'first', '1',
                           'link', '2', 'url', 'https://shop.test/a?b=1')
        EventsTest.wait_events(self, lambda evs: any(e['type'] == 'clicked' for e in evs), 'opened and clicked')
        EventsTest.settle(self)
        evs = EventsTest.stream(self)
        tr = [e for e in evs if e['type'] in ('opened', 'clicked')]
        self.assertEqual([(e['type'], e['tenant'], e['recipient'], e['tag_id'], e['sender'], e['source'])
                          for e in tr],
                         [('opened', 'login:bob', 'b1@ok.test', bob_id, 'news@elsewhere.test', 'track'),
                          ('clicked', 'login:bob', 'b1@ok.test', bob_id, 'news@elsewhere.test', 'track')])
        self.assertEqual((tr[1]['url'], tr[1]['link'], tr[1]['first']), ('https://shop.test/a?b=1', '2', '1'))

        # every event reached its tenant's webhook, signed
        want = {e['id']: e['tenant'] for e in evs}
        h.wait_until(lambda: set(want) <= hook.ok_ids(), timeout=60, what='every event at the webhooks',
                     on_timeout=lambda: 'got %r\nlog:\n%s' % (hook.seen, h.tail(self.ev.log())))
        self.assertEqual(hook.bad_signatures, 0)
        for evid, body in hook.bodies.items():
            self.assertEqual(json.loads(body)['tenant'], want[evid])
        unsub_body = json.loads(hook.bodies[u['id']])
        self.assertEqual((unsub_body['type'], unsub_body['recipient']), ('unsubscribed', 'reader@ok.test'))
        self.assertIn('/acme', hook.paths)
        self.assertIn('/bob', hook.paths)

        # postmillctl stats, per tenant
        ctl = [h.binary('postmillctl'), '-c', self.events_conf]
        st = subprocess.run(ctl + ['stats', '--tenant', 'acme.test', '--since', '1h'], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=30).stdout.decode()
        self.assertRegex(st, r'sent +1\n')
        self.assertRegex(st, r'unsubscribed +1 \(100\.00%\)')
        st_bob = subprocess.run(ctl + ['stats', '--tenant', 'login:bob', '--since', '1h'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30).stdout.decode()
        self.assertRegex(st_bob, r'delivered +1 \(100\.00%\)')
        self.assertRegex(st_bob, r'opened +1 \(100\.00%\)')
        self.assertRegex(st_bob, r'clicked +1 \(100\.00%\)')

        # the same counters on /metrics, bounded: bob has a label, acme.test is "other"
        import test_metrics as tm
        text = tm.http_get('http://127.0.0.1:%d/metrics' % xport)[1]
        for line in ('postmill_tenant_sent_total{daemon="events",tenant="login:bob"} 1',
                     'postmill_tenant_delivered_total{daemon="events",tenant="login:bob"} 1',
                     'postmill_tenant_sent_total{daemon="events",tenant="other"} 1',
                     'postmill_tenant_unsubscribed_total{daemon="events",tenant="other"} 1',
                     'postmill_tenant_opened_total{daemon="events",tenant="login:bob"} 1',
                     'postmill_tenant_clicked_total{daemon="events",tenant="login:bob"} 1'):
            self.assertIn(line + '\n', text)
        self.assertNotIn('tenant="acme.test"', text)
        prom = self._started(tm.Prometheus(self.wd, '127.0.0.1:%d' % xport))
        h.wait_until(lambda: prom.query('sum by (tenant) (postmill_tenant_delivered_total)')
                     == {frozenset({('tenant', 'login:bob')}): 1.0, frozenset({('tenant', 'other')}): 1.0},
                     timeout=60, what='Prometheus has the deliveries per tenant',
                     on_timeout=lambda: prom.query('postmill_tenant_delivered_total'))
        self.assertEqual(prom.query('postmill_tenant_unsubscribed_total'),
                         {frozenset({('daemon', 'events'), ('tenant', 'other')}): 1.0})
        print('\nunsubscribe event: %s\n%s' % (json.dumps(unsub_body, sort_keys=True), st), file=sys.stderr)


class Hook:
    """A webhook receiver on 127.0.0.1 (http.server, one thread per request): /hook answers 500
    to the first FAIL_FIRST requests, then stalls STALL requests for STALL_S seconds, then 200;
    /dead always 500. It verifies X-Postmill-Signature (HMAC-SHA256 over TIMESTAMP "." BODY) with
    the secret it finds in the table, in constant time (hmac.compare_digest)."""

    def __init__(self, fail_first=0, stall=0, stall_s=0):
        self.fail_first, self.stall, self.stall_s = fail_first, stall, stall_s
        self.lock = threading.Lock()
        self.paths, self.seen, self.bodies = [], [], {}
        self.failed = self.stalled = self.bad_signatures = 0
        self.active = self.max_active = 0
        self.secret = None
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                with hook.lock:
                    hook.active += 1
                    hook.max_active = max(hook.max_active, hook.active)
                try:
                    self.post()
                finally:
                    with hook.lock:
                        hook.active -= 1

            def post(self):
                n = int(self.headers.get('Content-Length', '0'))
                body = self.rfile.read(n)
                ts = self.headers.get('X-Postmill-Timestamp', '')
                sig = self.headers.get('X-Postmill-Signature', '')
                evid = self.headers.get('X-Postmill-Event-Id', '')
                good = hmac.new(hook.secret, ts.encode() + b'.' + body, hashlib.sha256).hexdigest()
                ok_sig = hmac.compare_digest('v1=' + good, sig) and abs(time.time() - int(ts or 0)) < 300
                with hook.lock:
                    hook.paths.append(self.path)
                    if not ok_sig:
                        hook.bad_signatures += 1
                    action = 'ok'
                    if self.path == '/dead':
                        action = 'fail'
                    elif hook.failed < hook.fail_first:
                        hook.failed += 1
                        action = 'fail'
                    elif hook.stalled < hook.stall:
                        hook.stalled += 1
                        action = 'stall'
                if action == 'stall':
                    time.sleep(hook.stall_s)
                    return
                code = 500 if action == 'fail' else 200
                self.send_response(code)
                self.send_header('Content-Length', '0')
                self.end_headers()
                if code == 200:
                    with hook.lock:
                        hook.seen.append(evid)
                        hook.bodies[evid] = body
                        if json.loads(body)['id'] != evid:
                            hook.bad_signatures += 1

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ok_ids(self):
        with self.lock:
            return set(self.seen)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def resp(port, *args):
    """One command to Redis on 127.0.0.1:PORT over RESP2; the decoded reply (str, int, list, None)."""
    with h.socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        cmd = b'*%d\r\n' % len(args) + b''.join(
            b'$%d\r\n%s\r\n' % (len(a), a) for a in (str(x).encode() for x in args))
        s.sendall(cmd)
        f = s.makefile('rb')

        def read():
            line = f.readline().rstrip(b'\r\n')
            t, rest = line[:1], line[1:]
            if t == b'+':
                return rest.decode()
            if t == b'-':
                raise h.HarnessError('redis: ' + rest.decode())
            if t == b':':
                return int(rest)
            if t == b'$':
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode('utf-8', 'replace')
            if t == b'*':
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise h.HarnessError('redis: bad reply %r' % line)
        return read()


def parse_xrange(reply):
    """XRANGE's reply: a list of dicts (fields, plus _id)."""
    out = []
    for eid, kv in reply or []:
        d = dict(zip(kv[0::2], kv[1::2]))
        d['_id'] = eid
        out.append(d)
    return out
