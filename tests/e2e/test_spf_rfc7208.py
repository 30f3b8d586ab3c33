"""test_spf_rfc7208 - the RFC 7208 test suite (openspf.org, release 2014.04) through postmill-auth.

The suite is the YAML file Debian's python3-spf ships (/usr/share/doc/python3-spf/
rfc7208-tests.yml.gz): 16 scenarios, 203 cases, each with its DNS data ("zonedata"), a client
address, a HELO name, a MAIL FROM and the result(s) RFC 7208 allows.  For each scenario a fresh
knotd on loopback serves the zonedata and a fresh postmill-auth (no DNS cache carried over)
resolves through it; each case is one milter session spoken on the milter's socket (connect with
the client address, HELO, MAIL FROM, a message), and the result is the first word of the
Received-SPF field the milter inserts (the MAIL FROM identity, or HELO for the null sender).

The zonedata is published the way the suite's own driver (testspf.py) reads it: an SPF-type
record with no TXT at the name is published as TXT too, "NONE" values are left out, and a name
whose data says TIMEOUT before any TXT record answers every query with a temporary failure.
knotd cannot time out, so such a name is a zone of its own that has no zone file: SERVFAIL, which
is a temporary DNS error to the evaluator just as a timeout is.  Names in the data below such a
name become zones of their own so that they still answer.  Everything else is one root zone, so
any other name is NXDOMAIN (the driver: no data).

Explanations (exp=) are not in Received-SPF; test_spf_conformance compares them with pyspf.
"""

import gzip
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'milter', 'lib'))

import harness as h  # noqa: E402
import rawmilter as rm  # noqa: E402

try:
    import yaml
except ImportError:         # python3-yaml: scripts/setup-deps installs it
    yaml = None

SUITE = '/usr/share/doc/python3-spf/rfc7208-tests.yml.gz'
AUTH_ID = 'mx.rfc7208.test'


def load_suite(path=SUITE):
    with gzip.open(path, 'rb') as f:
        return list(yaml.safe_load_all(f))


def zone_name(name):
    """A name (text as the suite writes it) in zone-file form: \\DDD for anything unusual."""
    out = []
    for label in name.rstrip('.').split('.'):
        s = ''
        for ch in label.encode('utf-8'):
            c = chr(ch)
            s += c if (c.isalnum() and ch < 0x80) or c in '-_' else '\\%03d' % ch
        out.append(s)
    return '.'.join(out) + '.'


def txt_strings(v):
    """TXT data: quoted <=255-byte strings.  The suite's "SPF: [ ]" (no string at all, which the
    DNS cannot carry: RFC 1035 3.3.14 wants one or more) becomes one empty string."""
    parts = (v if isinstance(v, list) else [v]) or ['']
    out = []
    for p in parts:
        b = p.encode('utf-8')
        chunks = [b[i:i + 255] for i in range(0, len(b), 255)] or [b'']
        for c in chunks:
            out.append('"%s"' % ''.join('\\%03d' % x if x < 0x20 or x >= 0x7f or x in (0x22, 0x5c)
                                        else chr(x) for x in c))
    return ' '.join(out)


def records(zonedata):
    """{name: [(type, value)]} as testspf.getrdata() publishes it, and the names that time out."""
    out, timeouts = {}, set()
    for name, recs in zonedata.items():
        key = name.rstrip('.').lower()
        have_txt = any(isinstance(r, dict) and 'TXT' in r for r in recs)
        rrs = []
        for r in recs:
            if r == 'TIMEOUT':
                # testspf: a query times out unless a record of its type came first; the
                # evaluator asks these names for TXT (and A/AAAA/MX for mechanisms)
                if not any(t == 'TXT' for t, _ in rrs):
                    timeouts.add(key)
                continue
            for t, v in r.items():
                if t in ('TXT', 'SPF') and not isinstance(v, list):
                    v = [v]
                if v == ['NONE']:
                    continue
                if t == 'SPF':
                    if not have_txt:
                        rrs.append(('TXT', v))
                    continue        # type 99 is not asked by an RFC 7208 evaluator
                rrs.append((t, v))
        out.setdefault(key, []).extend(rrs)
    return out, timeouts


def rr_line(name, t, v):
    if t == 'TXT':
        data = txt_strings(v)
    elif t == 'MX':
        data = '%d %s' % (v[0], zone_name(v[1]) if v[1] else '.')
    elif t in ('PTR', 'CNAME'):
        data = zone_name(v)
    else:
        data = v
    return '%s 300 IN %s %s' % (zone_name(name) if name else '.', t, data)


def is_under(name, zone):
    return zone == '' or name == zone or name.endswith('.' + zone)


class SuiteKnot(h.Knot):
    """knotd serving a root zone, the SERVFAIL zones of TIMEOUT names and the zones below them."""

    def __init__(self, workdir, name, zones, broken):
        super().__init__(workdir, {}, name=name)
        self.suite_zones = zones        # {zone ('' = root): text}
        self.broken = broken

    def start(self, timeout=h.DEFAULT_TIMEOUT):
        conf = ['server:', '    rundir: "%s"' % self.run_dir,
                '    listen: [ 127.0.0.1@%d ]' % self.port,
                '    udp-workers: 1', '    tcp-workers: 1', '    background-workers: 1',
                'log:', '  - target: stderr', '    any: info',
                'database:', '    storage: "%s"' % self.db_dir,
                'control:', '    listen: "%s"' % os.path.join(self.run_dir, 'knot.sock'),
                'template:', '  - id: default', '    zonefile-sync: -1',
                '    zonefile-load: whole', '    journal-content: none', '    semantic-checks: off',
                'zone:']
        for i, (z, text) in enumerate(sorted(self.suite_zones.items())):
            path = os.path.join(self.zone_dir, 'z%d.zone' % i)
            with open(path, 'w') as f:
                f.write(text)
            conf += ['  - domain: "%s"' % (zone_name(z) if z else '.'), '    file: "%s"' % path]
        for i, z in enumerate(sorted(self.broken)):     # no such file: SERVFAIL
            conf += ['  - domain: "%s"' % zone_name(z),
                     '    file: "%s"' % os.path.join(self.zone_dir, 'missing%d.zone' % i)]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(conf) + '\n')
        self._spawn([h.KNOTD, '-c', self.conf], os.path.join(self.dir, 'knotd.log'))

        def ready():
            try:
                a = h.dns_query('zz-ready', 'TXT', port=self.port, timeout=0.5)
            except (OSError, h.HarnessError):
                return False
            return a.rcode == 0 and bool(a.answers)
        self._wait_ready(ready, timeout, 'knotd on port %d' % self.port)
        for z in self.suite_zones:      # knotd serves SERVFAIL for a zone file it cannot read
            if z:
                a = h.dns_query(z, 'SOA', port=self.port, timeout=2)
                if not (a.rcode == 0 and a.answers):
                    raise h.HarnessError('zone %s did not load:\n%s' % (z, h.tail(self.logfile)))
        return self


def scenario_zones(zonedata):
    """(zones {zone: text}, broken zone names) for one scenario."""
    recs, timeouts = records(zonedata)
    zones = {''}
    for n in recs:
        if any(n != t and is_under(n, t) for t in timeouts):
            zones.add(n)
    texts = {}
    for z in zones:
        apex = zone_name(z) if z else '.'
        texts[z] = ['$TTL 300', '%s IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60'
                    % apex, '%s IN NS ns.invalid.' % apex]
    texts[''].append('zz-ready. 300 IN TXT "ok"')
    for n, rrs in recs.items():
        if n in timeouts:
            continue
        z = max((z for z in zones | timeouts if is_under(n, z)), key=len)
        if z in timeouts:
            continue            # under a name that times out, and not a zone of its own
        for t, v in rrs:
            texts[z].append(rr_line(n, t, v))
    return {z: '\n'.join(lines) + '\n' for z, lines in texts.items()}, timeouts


def received_spf_result(r):
    vals = [v for n, v, ins in r.fields if ins and n.lower() == 'received-spf']
    return vals[0].split()[0].lower() if vals else None


@unittest.skipUnless(yaml is not None and os.path.exists(SUITE),
                     'needs python3-yaml and python3-spf (scripts/setup-deps)')
class Rfc7208SuiteTest(h.E2ETestCase):

    def run_scenario(self, n, scen):
        zones, broken = scenario_zones(scen['zonedata'])
        knot = SuiteKnot(self.wd, 'knot%d' % n, zones, broken)
        knot.start()
        sock = self.wd.path('auth%d.sock' % n)
        conf = self.wd.write('postmill%d.conf' % n, '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + sock, 'auth_pid_file = ' + self.wd.path('auth%d.pid' % n),
            'auth_authserv_id = ' + AUTH_ID, 'dns_resolver = ' + knot.server,
        ]) + '\n')
        milter = h.MilterProcess(self.wd, [h.binary('postmill-auth'), '-f', '-c', conf],
                                 'unix:' + sock, name='postmill-auth%d' % n)
        milter.start()
        out = []
        try:
            for tid, t in scen['tests'].items():
                want = t['result'] if isinstance(t['result'], list) else [t['result']]
                m = rm.Milter(sock, timeout=60)
                try:
                    self.assertEqual(m.connect(t['host'].lower()), b'c', tid)
                    self.assertEqual(m.helo(t['helo']), b'c', tid)
                    mf = t['mailfrom']
                    r = m.message('S%04d' % len(out), [('From', 'x@suite.invalid'),
                                                       ('Subject', tid)],
                                  envfrom='<%s>' % mf, rcpts=['rcpt@example.net'])
                finally:
                    m.quit()
                got = received_spf_result(r)
                out.append((scen['description'], tid, got, want, r.stage, r.reply))
        finally:
            milter.stop()
            knot.stop()
        return out

    def test_rfc7208_suite(self):
        results = []
        for n, scen in enumerate(load_suite()):
            results += self.run_scenario(n, scen)
        passed = [x for x in results if x[2] in x[3]]
        bad = ['%s / %s: got %s (stage %s, reply %r), want %s'
               % (d, tid, got, stage, reply, '|'.join(want))
               for d, tid, got, want, stage, reply in results if got not in want]
        note = 'RFC 7208 suite through postmill-auth: %d of %d' % (len(passed), len(results))
        if os.environ.get('POSTMILL_E2E_VERBOSE'):
            sys.stderr.write('    %s\n' % note)
        self.assertEqual(len(results), 203, note)
        self.assertEqual(bad, [], '\n'.join([note] + bad))


if __name__ == '__main__':
    unittest.main()
