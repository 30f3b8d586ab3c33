"""test_dmarc_report - DMARC aggregate reports (RFC 9990) end to end.

One stack: knotd (zones rp.test, collector.test, other.test), redis-server, postmill-auth with
auth_report_record = yes, Postfix relaying everything to smtp-sink.  Mail from six clients and
four From domains goes through Postfix; then `postmillctl dmarc report` builds the day's reports
and sends them through the same Postfix (sendmail -t), and the test reads them at the sink:
  - own.rp.test (p=reject, rua at its own host): one report, the XML valid against
    tests/dmarc/rfc9990.xsd, the counts per row right (3 SPF passes, 2 rejected, 1 DKIM pass),
    the RFC 9990 Subject, file name and Report-ID;
  - ext.rp.test (rua at collector.test, which publishes
    ext.rp.test._report._dmarc.collector.test "v=DMARC1"): reported to the external address;
  - noauth.rp.test (rua at other.test, which authorizes nothing): no report at all;
  - ovr.rp.test: collector.test authorizes it with its own rua on the same host, which
    replaces the address (RFC 9990 section 4, step 9); hijack.rp.test: the authorizing record
    names another host, so neither address gets a report;
  - big.rp.test (rua "!1k" first, then an unlimited one): only the unlimited one gets it;
  - the reports leave through Postfix's pickup with postmill-dkim in non_smtpd_milters: they
    carry a valid DKIM signature of auth_report_from's domain (report.test), as RFC 9990 wants
    reports to pass DMARC;
  - --dry-run writes the files and sends nothing; a second run sends nothing (sent marks);
    --resend sends again under the same Report-ID;
  - with Redis stopped, mail flows with the same verdicts and the log says what was lost.
"""

import email
import email.policy
import gzip
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
import dkim  # noqa: E402

ID = 'mx.report.test'
RECEIVER = 'mx.report.test'
XSD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'dmarc', 'rfc9990.xsd')
NS = '{urn:ietf:params:xml:ns:dmarc-2.0}'


def rp_zone(dkim_txt):
    return '\n'.join([
        'own IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.own IN TXT "v=DMARC1; p=reject; rua=mailto:agg@own.rp.test"',
        'ext IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.ext IN TXT "v=DMARC1; p=none; rua=mailto:agg@collector.test"',
        'noauth IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.noauth IN TXT "v=DMARC1; p=none; rua=mailto:agg@other.test"',
        'ovr IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.ovr IN TXT "v=DMARC1; p=none; rua=mailto:agg@collector.test"',
        'hijack IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.hijack IN TXT "v=DMARC1; p=none; rua=mailto:agg@collector.test"',
        'big IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc.big IN TXT "v=DMARC1; p=none; rua=mailto:small@big.rp.test!1k,'
        'mailto:agg@big.rp.test"',
        h.txt_record('s1._domainkey.own', dkim_txt),
    ]) + '\n'


COLLECTOR_ZONE = '\n'.join([
    'ext.rp.test._report._dmarc IN TXT "v=DMARC1"',
    'ovr.rp.test._report._dmarc IN TXT "v=DMARC1; rua=mailto:ovr-box@collector.test"',
    'hijack.rp.test._report._dmarc IN TXT "v=DMARC1; rua=mailto:victim@other.test"',
]) + '\n'
OTHER_ZONE = 'x IN A 192.0.2.1\n'


class DmarcReportTest(h.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-rep-')
        wd = cls.wd
        keys = wd.mkdir('keys', 0o700)
        cls.rsa, rsa_txt = h.gen_rsa_key(keys, 'rsa', 2048)
        cls.rsa_pem = open(cls.rsa, 'rb').read()
        cls.knot = h.Knot(wd, {'rp.test': rp_zone(rsa_txt), 'collector.test': COLLECTOR_ZONE,
                               'other.test': OTHER_ZONE})
        cls.knot.start()
        cls.redis = h.Redis(wd)
        cls.redis.start()
        cls.sink = h.Sink(wd)
        cls.sink.start()
        # postmill-dkim signs what sendmail(1) submits: the reports
        dkeys = wd.mkdir('dkimkeys', 0o700, owner='postmill')
        cls.rep_key, cls.rep_txt = h.gen_rsa_key(dkeys, 'rep', 2048)
        os.chown(cls.rep_key, h.pwd.getpwnam('postmill').pw_uid, -1)
        wd.write('key.table', 'rep report.test:r1:%s\n' % cls.rep_key)
        wd.write('signing.table', '*@report.test rep\n')
        dsock = wd.path('dkim.sock')
        cls.pf = h.Postfix(wd, relay_port=cls.sink.port, non_smtpd_milters='unix:' + dsock,
                           main={'relay_domains': 'example.net',
                                 'smtpd_relay_restrictions':
                                     'permit_mynetworks, reject_unauth_destination'})
        # postmillctl runs "auth_report_sendmail -t -oi -f FROM": this instance's sendmail
        sendmail = wd.write('sendmail', '#!/bin/sh\nexec %s -C %s "$@"\n'
                            % (h.SENDMAIL, cls.pf.conf_dir), 0o755)
        sock = wd.path('auth.sock')
        cls.conf = wd.write('postmill.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + sock, 'auth_pid_file = ' + wd.path('auth.pid'),
            'auth_authserv_id = ' + ID, 'dns_resolver = ' + cls.knot.server,
            'redis_server = 127.0.0.1:%d' % cls.redis.port,
            'auth_report_record = yes',
            'auth_report_from = dmarc-reports@report.test',
            'auth_report_org_name = Report Test & Co',
            'auth_report_receiver = ' + RECEIVER,
            'auth_report_sendmail = ' + sendmail,
            'dkim_socket = unix:' + dsock, 'dkim_pid_file = ' + wd.path('dkim.pid'),
            'dkim_key_table = ' + wd.path('key.table'),
            'dkim_signing_table = ' + wd.path('signing.table'),
        ]) + '\n')
        cls.dkim = h.MilterProcess(wd, [h.binary('postmill-dkim'), '-f', '-c', cls.conf],
                                   'unix:' + dsock)
        cls.dkim.start()
        cls.milter = h.MilterProcess(wd, [h.binary('postmill-auth'), '-f', '-c', cls.conf],
                                     'unix:' + sock)
        cls.milter.start()
        cls.pf.settings['smtpd_milters'] = 'unix:' + sock
        cls.pf.start()
        cls.traffic()

    @classmethod
    def tearDownClass(cls):
        for s in (cls.pf, cls.milter, cls.dkim, cls.sink, cls.redis, cls.knot):
            s.stop()
        cls.wd.cleanup()

    def setUp(self):
        pass        # one stack for the class

    @classmethod
    def send(cls, from_dom, addr='192.0.2.10', sign=False):
        msg = h.make_message(from_addr='a@' + from_dom)
        if sign:
            msg = dkim.sign(msg, b's1', from_dom.encode(), cls.rsa_pem,
                            include_headers=[b'from', b'to', b'subject', b'date']) + msg
        xc = {'ADDR': addr, 'NAME': 'client.example.net', 'HELO': 'client.example.net'}
        return h.send(cls.pf.port, 'bounce@' + from_dom, ['rcpt@example.net'], msg, xclient=xc)

    @classmethod
    def traffic(cls):
        sent = []
        for _ in range(3):
            sent.append(cls.send('own.rp.test'))
        for _ in range(2):
            r = cls.send('own.rp.test', addr='192.0.2.20')
            assert r.data[0] == 550, r      # SPF fail, no DKIM: p=reject
        sent.append(cls.send('own.rp.test', addr='192.0.2.11', sign=True))
        for _ in range(2):
            sent.append(cls.send('ext.rp.test'))
        sent.append(cls.send('noauth.rp.test'))
        sent.append(cls.send('ovr.rp.test'))
        sent.append(cls.send('hijack.rp.test'))
        sent.append(cls.send('big.rp.test'))
        for r in sent:
            assert r.accepted, r
        # every message is counted before its end-of-message reply
        cls.messages_in = len(sent)
        h.wait_until(lambda: len(cls.sink.messages()) >= len(sent), what='test mail at the sink')
        cls.days = sorted(re.findall(r'\{(\d{8})\}', cls.redis.cli('--scan', '--pattern',
                                                                       'pmdmarc:*domains')))
        assert cls.days, 'no report data in Redis'

    def ctl(self, *args, check=True):
        out = []
        for day in self.days:
            r = subprocess.run([h.binary('postmillctl'), '-c', self.conf, 'dmarc', 'report',
                                '--day', day] + list(args), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            text = r.stdout.decode('utf-8', 'replace')
            if check:
                self.assertEqual(r.returncode, 0, text)
            out.append(text)
        return '\n'.join(out)

    def reports(self):
        return [d for d in self.sink.messages() if d.mail_from == 'dmarc-reports@report.test']

    def parse(self, d):
        m = d.message()
        parts = [p for p in m.walk() if p.get_content_type() == 'application/gzip']
        self.assertEqual(len(parts), 1, d)
        name = parts[0].get_filename()
        xml = gzip.decompress(parts[0].get_payload(decode=True))
        return m, name, xml

    def validate(self, xml):
        path = self.wd.path('check-%d.xml' % time.monotonic_ns())
        with open(path, 'wb') as f:
            f.write(xml)
        r = subprocess.run(['xmllint', '--noout', '--schema', XSD, path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, r.stdout.decode())

    @staticmethod
    def rows(xml):
        import xml.etree.ElementTree as ET
        root = ET.fromstring(xml)
        out = []
        for rec in root.findall(NS + 'record'):
            row = rec.find(NS + 'row')
            pe = row.find(NS + 'policy_evaluated')
            dk = [(x.find(NS + 'domain').text, x.find(NS + 'selector').text,
                   x.find(NS + 'result').text)
                  for x in rec.find(NS + 'auth_results').findall(NS + 'dkim')]
            spf = rec.find(NS + 'auth_results').find(NS + 'spf')
            out.append({'ip': row.find(NS + 'source_ip').text,
                        'count': int(row.find(NS + 'count').text),
                        'disposition': pe.find(NS + 'disposition').text,
                        'spf_aligned': pe.find(NS + 'spf').text,
                        'dkim_aligned': pe.find(NS + 'dkim').text,
                        'from': rec.find(NS + 'identifiers').find(NS + 'header_from').text,
                        'spf': spf.find(NS + 'result').text if spf is not None else None,
                        'dkim': dk})
        return root, out

    def test_1_dry_run_writes_files_and_sends_nothing(self):
        outdir = self.wd.mkdir('dry')
        before = len(self.reports())
        out = self.ctl('--dry-run', outdir)
        files = sorted(os.listdir(outdir))
        gz = [f for f in files if f.endswith('.xml.gz')]
        # every domain: those without an authorized destination are written too
        self.assertEqual(len(gz), 6, (files, out))
        for f in gz:
            self.assertRegex(f, r'^%s!(own|ext|noauth|ovr|hijack|big)\.rp\.test!\d+!\d+!'
                             r'[0-9a-f]{16}\.xml\.gz$' % re.escape(RECEIVER))
            with open(os.path.join(outdir, f), 'rb') as fp:
                self.validate(gzip.decompress(fp.read()))
            self.assertIn(f + '.eml', files)
        self.assertIn('does not accept reports', out)
        self.assertEqual(len(self.reports()), before)
        self.assertEqual(self.redis.cli('--scan', '--pattern', 'pmdmarc:*sent:*'), '')

    def test_2_reports_arrive_with_the_right_counts(self):
        out = self.ctl()
        h.wait_until(lambda: len(self.reports()) >= 4, what='4 reports at the sink')
        reps = self.reports()
        by_rcpt = {}
        for d in reps:
            for r in d.rcpts:
                by_rcpt.setdefault(r, []).append(d)
        self.assertEqual(sorted(by_rcpt), ['agg@big.rp.test', 'agg@collector.test',
                                           'agg@own.rp.test', 'ovr-box@collector.test'], out)
        self.assertNotIn('agg@other.test', by_rcpt)        # not authorized: no report
        self.assertNotIn('victim@other.test', by_rcpt)     # an override to another host
        self.assertEqual(len(by_rcpt['agg@collector.test']), 1)   # ext only, not hijack
        self.assertEqual(self.rows(self.parse(by_rcpt['ovr-box@collector.test'][0])[2])[1][0]['from'],
                         'ovr.rp.test')
        self.assertNotIn('small@big.rp.test', by_rcpt)     # over its !1k limit

        # signed by postmill-dkim on the way out, like any other mail
        for d in reps:
            got = h.verify_dkimpy(d.raw, {('r1', 'report.test'): self.rep_txt})
            self.assertEqual([(g.domain, g.selector, g.result) for g in got],
                             [('report.test', 'r1', 'pass')], got)

        m, name, xml = self.parse(by_rcpt['agg@own.rp.test'][0])
        self.validate(xml)
        root, rows = self.rows(xml)
        self.assertEqual(root.find(NS + 'policy_published').find(NS + 'p').text, 'reject')
        self.assertEqual(root.find(NS + 'policy_published').find(NS + 'domain').text,
                         'own.rp.test')
        meta = root.find(NS + 'report_metadata')
        self.assertEqual(meta.find(NS + 'org_name').text, 'Report Test & Co')
        self.assertEqual(meta.find(NS + 'email').text, 'dmarc-reports@report.test')
        rid = meta.find(NS + 'report_id').text
        self.assertRegex(rid, r'^[0-9a-f]{16}@%s$' % re.escape(RECEIVER))
        uid = rid.split('@')[0]
        begin = int(meta.find(NS + 'date_range').find(NS + 'begin').text)
        end = int(meta.find(NS + 'date_range').find(NS + 'end').text)
        self.assertEqual((begin % 86400, end - begin), (0, 86399))
        self.assertEqual(name, '%s!own.rp.test!%d!%d!%s.xml.gz' % (RECEIVER, begin, end, uid))
        subject = re.sub(r'\s+', ' ', m['Subject'])
        self.assertEqual(subject, 'Report Domain: own.rp.test Submitter: %s Report-ID: <%s>'
                         % (RECEIVER, rid))
        self.assertEqual(m['Message-ID'].strip(), '<%s>' % rid)
        own_name = name

        got = sorted((r['ip'], r['count'], r['disposition'], r['spf_aligned'],
                      r['dkim_aligned'], r['spf']) for r in rows)
        self.assertEqual(got, [('192.0.2.10', 3, 'pass', 'pass', 'fail', 'pass'),
                               ('192.0.2.11', 1, 'pass', 'fail', 'pass', 'fail'),
                               ('192.0.2.20', 2, 'reject', 'fail', 'fail', 'fail')], xml)
        signed = [r for r in rows if r['ip'] == '192.0.2.11'][0]
        self.assertEqual(signed['dkim'], [('own.rp.test', 's1', 'pass')])

        m, name, xml = self.parse(by_rcpt['agg@collector.test'][0])
        self.validate(xml)
        _, rows = self.rows(xml)
        self.assertEqual([(r['from'], r['count'], r['disposition']) for r in rows],
                         [('ext.rp.test', 2, 'none')])
        m, name, xml = self.parse(by_rcpt['agg@big.rp.test'][0])
        self.validate(xml)
        self.assertEqual(sum(r['count'] for r in self.rows(xml)[1]), 1)
        self.assertGreater(len(by_rcpt['agg@big.rp.test'][0].raw), 1024)

        # sent: the rows go a day later, the mark stays with the day's data
        for day in self.days:
            ttl = int(self.redis.cli('TTL', 'pmdmarc:{%s}rows:own.rp.test' % day))
            self.assertTrue(0 < ttl <= 86400, ttl)
            ttl = int(self.redis.cli('TTL', 'pmdmarc:{%s}sent:own.rp.test' % day))
            self.assertGreater(ttl, 86400)

        # a day is reported once
        n = len(self.reports())
        out = self.ctl()
        self.assertIn('already sent', out)
        self.pf.wait_queue_empty()
        self.assertEqual(len(self.reports()), n)

        # --resend: again, under the same Report-ID and file name
        self.ctl('--resend')
        h.wait_until(lambda: len(self.reports()) >= n + 4, what='resent reports')
        again = [d for d in self.reports()[n:] if 'agg@own.rp.test' in d.rcpts]
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0].message()['Message-ID'].strip(), '<%s>' % rid)
        self.assertEqual(self.parse(again[0])[1], own_name)

    def test_3_redis_down_mail_flows(self):
        self.redis.stop()
        try:
            r = self.send('own.rp.test')
            self.assertTrue(r.accepted, r)
            r2 = self.send('own.rp.test', addr='192.0.2.20')
            self.assertEqual(r2.data[0], 550, r2)       # the verdict is unchanged
            self.milter.wait_log(r'%s: auth: report: not recorded: redis 127\.0\.0\.1:%d: '
                                 r'.*mail is not affected' % (r.queue_id, self.redis.port))
            self.delivered_to_sink(r.queue_id)
        finally:
            self.redis.start()

    def delivered_to_sink(self, qid):
        h.wait_until(lambda: any(('id %s' % qid).encode() in d.raw for d in self.sink.messages()),
                     what='delivery of %s' % qid)


if __name__ == '__main__':
    unittest.main()
