"""test_metrics - counters from real mail, through postmill-exporter, scraped by a real Prometheus.

postmill-dkim (signing) and postmill-limit (a quota, Redis) behind one Postfix, both with
stats_dir in the Workdir; postmill-exporter serving /metrics on a free loopback port; Debian's
prometheus scraping it every second from its own private data directory.  After 5 signed
messages, 1 unsigned one (a domain we do not host) and 3 sends over a quota of 2:

  - /metrics itself: every family once, every sample labelled daemon=..., postmill_up 1 for
    both daemons, the decision counters and the callback and Redis histograms;
  - Prometheus answers queries with the same numbers (sum by action of
    postmill_dkim_messages_total, the limit refusals, postmill_up);
  - a stopped daemon shows as postmill_up 0 at the next scrape (its socket stays behind only
    when it crashed; a clean stop removes it, so it is killed with SIGKILL here).

Nothing depends on speed: every check polls until the value is there (60 s at most).
"""

import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

PROMETHEUS = '/usr/bin/prometheus'
DOMAIN = 'metrics.test'


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode('utf-8', 'replace')


class Prometheus(h._Service):
    """prometheus scraping TARGET every second, on a free loopback port, data in the Workdir."""

    name = 'prometheus'

    def __init__(self, workdir, target):
        super().__init__()
        self.dir = workdir.mkdir('prometheus')
        self.port = h.free_port()
        self.target = target

    def start(self, timeout=60):
        conf = os.path.join(self.dir, 'prometheus.yml')
        with open(conf, 'w') as f:
            f.write('global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
                    'scrape_configs:\n  - job_name: postmill\n    static_configs:\n'
                    '      - targets: ["%s"]\n' % self.target)
        argv = [PROMETHEUS, '--config.file=' + conf, '--storage.tsdb.path=' + os.path.join(self.dir, 'data'),
                '--web.listen-address=127.0.0.1:%d' % self.port, '--log.level=warn']
        self._spawn(argv, os.path.join(self.dir, 'prometheus.log'), cwd=self.dir)
        # the port opens before the storage is ready: /-/ready says 503 until it is
        self._wait_ready(self._ready, timeout, 'prometheus ready on port %d' % self.port)
        return self

    def _ready(self):
        try:
            return http_get('http://127.0.0.1:%d/-/ready' % self.port)[0] == 200
        except OSError:
            return False

    def check_expr(self, expr):
        """Prometheus' own verdict on EXPR: None when it evaluates, else the error text."""
        url = 'http://127.0.0.1:%d/api/v1/query?%s' % (self.port, urllib.parse.urlencode({'query': expr}))
        try:
            _, body = http_get(url)
        except urllib.error.HTTPError as e:
            return e.read().decode('utf-8', 'replace')
        r = json.loads(body)
        return None if r.get('status') == 'success' else body

    def query(self, expr):
        """The instant vector of EXPR as {frozenset(labels): value}."""
        url = 'http://127.0.0.1:%d/api/v1/query?%s' % (self.port, urllib.parse.urlencode({'query': expr}))
        _, body = http_get(url)
        out = {}
        for r in json.loads(body)['data']['result']:
            labels = frozenset((k, v) for k, v in r['metric'].items() if k not in ('job', 'instance', '__name__'))
            out[labels] = float(r['value'][1])
        return out


@unittest.skipIf(h.suite_mode(), 'the samples carry daemon="suite" there, not the daemon names this test expects')
class MetricsTest(h.E2ETestCase):

    def stack(self):
        wd = self.wd
        self.stats_dir = wd.mkdir('stats', 0o750, owner='postmill')
        keys = wd.mkdir('keys', 0o700, owner='postmill')
        rsa, _ = h.gen_rsa_key(keys, 'rsa', 2048)
        os.chown(rsa, h.pwd.getpwnam('postmill').pw_uid, -1)
        wd.write('key.table', 'rsa %s:s1:%s\n' % (DOMAIN, rsa))
        wd.write('signing.table', '*@%s rsa\n' % DOMAIN)
        rules = wd.write('limit.rules', 'tiny sender messages quota=2/1000d\n')
        self.redis_ = self.redis()
        common = ['run_user = postmill', 'socket_group = postfix', 'stats_dir = ' + self.stats_dir,
                  'redis_server = 127.0.0.1:%d' % self.redis_.port]
        conf = wd.write('postmill.conf', '\n'.join(common + [
            'dkim_socket = unix:' + wd.path('dkim.sock'), 'dkim_pid_file = ' + wd.path('dkim.pid'),
            'dkim_key_table = ' + wd.path('key.table'), 'dkim_signing_table = ' + wd.path('signing.table'),
            'limit_socket = unix:' + wd.path('limit.sock'), 'limit_pid_file = ' + wd.path('limit.pid'),
            'limit_rules_file = ' + rules,
            'exporter_listen = 127.0.0.1:%d' % h.free_port()]) + '\n', mode=0o640)
        os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
        self.conf = conf
        self.dkim = self.milter([h.binary('postmill-dkim'), '-f', '-c', conf], 'unix:' + wd.path('dkim.sock'),
                                name='dkim')
        self.limit = self.milter([h.binary('postmill-limit'), '-f', '-c', conf],
                                 'unix:' + wd.path('limit.sock'), name='limit')
        self.sink_ = self.sink()
        self.pf = self.postfix(self.sink_, smtpd_milters=['unix:' + wd.path('dkim.sock'),
                                                          'unix:' + wd.path('limit.sock')])
        self.exporter_port = int(open(conf).read().split('exporter_listen = 127.0.0.1:')[1].split()[0])
        self.exporter = self.milter([h.binary('postmill-exporter'), '-c', conf],
                                    'inet:%d@127.0.0.1' % self.exporter_port, name='exporter')

    def metrics(self):
        return http_get('http://127.0.0.1:%d/metrics' % self.exporter_port)[1]

    def test_counters_reach_prometheus(self):
        self.stack()
        for i in range(5):
            r = h.send(self.pf.port, 'user%d@%s' % (i, DOMAIN), 'rcpt@example.net', h.make_message(
                subject='m %d' % i, from_addr='user%d@%s' % (i, DOMAIN)))
            self.assertTrue(r.accepted, r)
        r = h.send(self.pf.port, 'quota@other.test', 'rcpt@example.net',
                   h.make_message(subject='unsigned', from_addr='quota@other.test'))
        self.assertTrue(r.accepted, r)
        results = [h.send(self.pf.port, 'quota@other.test', 'rcpt@example.net',
                          h.make_message(subject='q %d' % i, from_addr='quota@other.test')) for i in range(3)]
        self.assertEqual([x.accepted for x in results], [True, False, False])

        text = self.metrics()
        # one HELP per family, whatever the number of daemons
        helps = [l for l in text.splitlines() if l.startswith('# HELP ')]
        self.assertEqual(len(helps), len(set(helps)), text)
        for line in ('postmill_up{daemon="dkim"} 1', 'postmill_up{daemon="limit"} 1',
                     'postmill_dkim_messages_total{daemon="dkim",action="sign",reason=""} 5',
                     'postmill_dkim_signatures_total{daemon="dkim",algorithm="rsa-sha256"} 5',
                     'postmill_limit_decisions_total{daemon="limit",stage="rcpt",action="tempfail",'
                     'reason="over_limit",rule="tiny"} 2'):
            self.assertIn(line + '\n', text)
        self.assertRegex(text, r'postmill_callback_duration_ms_count\{daemon="dkim",stage="eom"\} \d+')
        self.assertRegex(text, r'postmill_redis_duration_ms_count\{daemon="limit",result="ok"\} [1-9]')
        for sample in (l for l in text.splitlines() if l and not l.startswith('#')
                       and not l.startswith('postmill_exporter_')):
            self.assertIn('{daemon="', sample)

        prom = self._started(Prometheus(self.wd, '127.0.0.1:%d' % self.exporter_port))
        want = {frozenset({('action', 'sign')}): 5.0}
        h.wait_until(lambda: prom.query('sum by (action) (postmill_dkim_messages_total{action="sign"})') == want,
                     timeout=60, what='Prometheus has the signing count',
                     on_timeout=lambda: prom.query('postmill_dkim_messages_total'))
        h.wait_until(lambda: prom.query('sum(postmill_limit_decisions_total{action="tempfail",rule="tiny"})')
                     == {frozenset(): 2.0}, timeout=60, what='Prometheus has the refusals')
        h.wait_until(lambda: prom.query('postmill_up') == {frozenset({('daemon', 'dkim')}): 1.0,
                                                            frozenset({('daemon', 'limit')}): 1.0},
                     timeout=60, what='both daemons up')

        # the shipped dashboard and alerts: valid for promtool, and every query evaluates
        here = os.path.dirname(os.path.abspath(__file__))
        mon = os.path.join(here, '..', '..', 'packaging', 'monitoring')
        r = subprocess.run(['/usr/bin/promtool', 'check', 'rules', os.path.join(mon, 'postmill-alerts.yml')],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        with open(os.path.join(mon, 'grafana-dashboard.json')) as f:
            exprs = [t['expr'] for p in json.load(f)['panels'] for t in p['targets']]
        with open(os.path.join(mon, 'postmill-alerts.yml')) as f:
            exprs += [block.split('expr:', 1)[1].split('\n        for:')[0].replace('|', '').strip()
                      for block in f.read().split('- alert:')[1:]]
        self.assertGreater(len(exprs), 10)
        for e in exprs:
            self.assertIsNone(prom.check_expr(e), e)
        # the dashboard's signing panel shows what was sent
        self.assertEqual(prom.query('sum(postmill_dkim_signatures_total)'), {frozenset(): 5.0})

        # a daemon that died: its socket is there, nobody answers.  SIGKILL the supervisor
        # (a clean stop would remove the socket), then its worker (which would drain first)
        sup = self.limit.pid
        with open('/proc/%d/task/%d/children' % (sup, sup)) as f:
            workers = [int(x) for x in f.read().split()]
        os.kill(sup, signal.SIGKILL)
        for w in workers:
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.assertTrue(os.path.exists(os.path.join(self.stats_dir, 'limit.stats')))
        h.wait_until(lambda: prom.query('postmill_up{daemon="limit"}') == {frozenset({('daemon', 'limit')}): 0.0},
                     timeout=60, what='Prometheus sees limit down')
        self.assertIn('postmill_up{daemon="dkim"} 1\n', self.metrics())
