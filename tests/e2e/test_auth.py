"""test_auth - postmill-auth behind a real Postfix, with knotd serving the test zone dm.test.

One stack for the class: knotd (zone dm.test: DMARC records and DKIM keys), postmill-auth, Postfix
relaying to smtp-sink.  Clients pose as 192.0.2.10 with XCLIENT (not internal, not authenticated).
Messages are signed here with dkimpy (RSA 2048, Ed25519).  Covered:
  - DKIM pass (RSA, Ed25519), fail (altered body, altered signed header), missing key, revoked key;
  - DMARC pass by DKIM alone, relaxed vs strict alignment, sp, np for a non-existent subdomain,
    a record found by the tree walk above the organizational domain, psd=y (the organization is
    one label below the PSD), t=y (reject becomes quarantine), p=reject rejected at end of
    message with 550 5.7.1 naming the domain, p=quarantine held by Postfix;
  - RFC 9989 4.10.1 (issue 15): a record between the Author and the Organizational Domain is
    never the policy, several records at one name are discarded and the walk goes on, an
    invalid p is no policy (p=none with a valid rua), policy.dmarc is the policy after t and sp;
    the same discovery with auth_dmarc_org_domain = psl (libpsl, a third milter swapped in);
  - two From fields rejected; forged Authentication-Results with our id removed while another
    id's header stays; a trusted upstream authserv-id's spf and dkim passes count for DMARC;
  - SPF (zone sp.test) pass / fail / softfail / neutral / none / permerror, temperror from a
    zone knotd cannot load (SERVFAIL), the Received-SPF header, spf results in
    Authentication-Results, the HELO identity for a null sender, an IPv6 client, DMARC pass by
    SPF alone (unsigned, aligned relaxed MAIL FROM), a macro-expanded name with "%" and spaces
    (RFC 7208 7.1), and with a second milter
    (auth_reject_on_spf_fail = yes, auth_on_temperror = tempfail) 550 5.7.23 and 451 4.7.24.
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
import dkim  # noqa: E402

ID = 'mx.auth.test'
CLIENT = {'ADDR': '192.0.2.10', 'NAME': 'client.example.net', 'HELO': 'client.example.net'}


SP_ZONE = '\n'.join([
    'pass IN TXT "v=spf1 ip4:192.0.2.10 ip6:2001:db8::/32 -all"',
    'fail IN TXT "v=spf1 -all"',
    'soft IN TXT "v=spf1 ~all"',
    'neutral IN TXT "v=spf1 ?all"',
    'perm IN TXT "v=spf1 frobnicate:x -all"',
    'temp IN TXT "v=spf1 include:x.broken.test -all"',
    'nospf IN A 192.0.2.1',
    'helo IN TXT "v=spf1 ip4:192.0.2.10 -all"',
    # RFC 7208 7.1 %% %_ %-: the name is "macro%percent  space%20url-space.sp.test"
    'mania IN TXT "v=spf1 a:macro%%percent%_%_space%-url-space.sp.test -all"',
    'macro\\037percent\\032\\032space\\03720url-space IN A 192.0.2.10',
]) + '\n'

# knotd refuses to load this zone file (bad address): it answers SERVFAIL for the zone
BROKEN_ZONE = 'x IN A 192.0.2.300\n'


def zone_text(keys):
    recs = [
        'mf.rej IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        '_dmarc IN TXT "v=DMARC1; p=reject; psd=y"',
        '_dmarc.rej IN TXT "v=DMARC1; p=reject"',
        '_dmarc.quar IN TXT "v=DMARC1; p=quarantine"',
        '_dmarc.testing IN TXT "v=DMARC1; p=reject; t=y"',
        '_dmarc.strict IN TXT "v=DMARC1; p=reject; adkim=s"',
        '_dmarc.sp IN TXT "v=DMARC1; p=none; sp=reject"',
        'sub.sp IN A 192.0.2.1',
        '_dmarc.np IN TXT "v=DMARC1; p=none; sp=none; np=reject"',
        'yes.np IN A 192.0.2.1',
        'revoked._domainkey.rej IN TXT "v=DKIM1; k=rsa; p="',
        # issue 15: mid is an Organizational Domain (dm.test has psd=y); mail.mid's record
        # is on the walk from x.mail.mid but is not its policy
        '_dmarc.mid IN TXT "v=DMARC1; p=none"',
        '_dmarc.mail.mid IN TXT "v=DMARC1; p=reject"',
        # two records at two.par: discarded, the Organizational Domain par's applies
        '_dmarc.two.par IN TXT "v=DMARC1; p=none"',
        '_dmarc.two.par IN TXT "v=DMARC1; p=none; t=y"',
        '_dmarc.par IN TXT "v=DMARC1; p=reject"',
        # an invalid p: no policy without a valid rua, p=none with one
        '_dmarc.badp IN TXT "v=DMARC1; p=rejekt"',
        '_dmarc.badprua IN TXT "v=DMARC1; p=rejekt; rua=mailto:d@badprua.dm.test"',
        # policy.dmarc is the policy after t and sp
        '_dmarc.tq IN TXT "v=DMARC1; p=quarantine; t=y"',
        '_dmarc.spnone IN TXT "v=DMARC1; p=reject; sp=none"',
        'sub.spnone IN A 192.0.2.1',
    ]
    for (sel, dom), txt in keys.items():
        recs.append(h.txt_record('%s._domainkey.%s' % (sel, dom[:-len('.dm.test')]), txt))
    return '\n'.join(recs) + '\n'


class AuthTest(h.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = h.Workdir(prefix='pm-auth-')
        wd = cls.wd
        keys = wd.mkdir('keys', 0o700)
        cls.rsa, rsa_txt = h.gen_rsa_key(keys, 'rsa', 2048)
        cls.ed, ed_txt = h.gen_ed25519_key(keys, 'ed')
        cls.rsa_pem = open(cls.rsa, 'rb').read()
        cls.ed_seed = h.ed25519_seed_b64(cls.ed)
        keymap = {}
        for dom in ('rej.dm.test', 'mail.rej.dm.test', 'strict.dm.test', 'mail.strict.dm.test',
                    'psdorg.dm.test', 'other.dm.test', 'testing.dm.test', 'quar.dm.test'):
            keymap[('s1', dom)] = rsa_txt
        keymap[('e1', 'rej.dm.test')] = ed_txt
        cls.knot = h.Knot(wd, {'dm.test': zone_text(keymap), 'sp.test': SP_ZONE,
                               'broken.test': BROKEN_ZONE})
        cls.knot.start()
        cls.sink = h.Sink(wd)
        cls.sink.start()
        sock = wd.path('auth.sock')
        conf = wd.write('postmill.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + sock, 'auth_pid_file = ' + wd.path('auth.pid'),
            'auth_authserv_id = ' + ID, 'dns_resolver = ' + cls.knot.server,
            'auth_trusted_authserv_ids = trusted.example',
        ]) + '\n')
        cls.milter = h.MilterProcess(wd, [h.binary('postmill-auth'), '-f', '-c', conf], 'unix:' + sock)
        cls.milter.start()
        # the same with auth_reject_on_spf_fail and tempfail on temperror, swapped in by tests
        cls.sock2 = wd.path('auth2.sock')
        conf2 = wd.write('postmill2.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + cls.sock2, 'auth_pid_file = ' + wd.path('auth2.pid'),
            'auth_authserv_id = ' + ID, 'dns_resolver = ' + cls.knot.server,
            'auth_reject_on_spf_fail = yes', 'auth_on_temperror = tempfail',
        ]) + '\n')
        cls.milter2 = h.MilterProcess(wd, [h.binary('postmill-auth'), '-f', '-c', conf2],
                                      'unix:' + cls.sock2, name='postmill-auth2')
        cls.milter2.start()
        # the same with auth_dmarc_org_domain = psl: libpsl reading a list where test and dm.test
        # are public suffixes (Debian's list has neither: ../shared/NOTES-dns.md)
        psl = wd.write('psl.dat', '// test list\ntest\ndm.test\n')
        cls.sock3 = wd.path('auth3.sock')
        conf3 = wd.write('postmill3.conf', '\n'.join([
            'run_user = postmill', 'socket_group = postfix',
            'auth_socket = unix:' + cls.sock3, 'auth_pid_file = ' + wd.path('auth3.pid'),
            'auth_authserv_id = ' + ID, 'dns_resolver = ' + cls.knot.server,
            'auth_dmarc_org_domain = psl', 'auth_psl_file = ' + psl,
        ]) + '\n')
        cls.milter3 = h.MilterProcess(wd, [h.binary('postmill-auth'), '-f', '-c', conf3],
                                      'unix:' + cls.sock3, name='postmill-auth3')
        cls.milter3.start()
        # inet_protocols = all: Postfix takes an IPv6 XCLIENT ADDR only then
        cls.pf = h.Postfix(wd, relay_port=cls.sink.port, smtpd_milters='unix:' + sock, ipv6=True,
                           main={'relay_domains': 'example.net',
                                 'smtpd_relay_restrictions':
                                     'permit_mynetworks, reject_unauth_destination'})
        cls.pf.start()

    @classmethod
    def tearDownClass(cls):
        for s in (cls.pf, cls.milter, cls.milter2, cls.milter3, cls.sink, cls.knot):
            s.stop()
        cls.wd.cleanup()

    def setUp(self):
        pass        # one stack for the class (setUpClass), no per-test workdir

    def sign(self, msg, dom, sel='s1', ed=False):
        if ed:
            sig = dkim.sign(msg, sel.encode(), dom.encode(), self.ed_seed,
                            signature_algorithm=b'ed25519-sha256',
                            include_headers=[b'from', b'to', b'subject', b'date'])
        else:
            sig = dkim.sign(msg, sel.encode(), dom.encode(), self.rsa_pem,
                            include_headers=[b'from', b'to', b'subject', b'date'])
        return sig + msg

    def send(self, msg, sender='bounce@example.net', addr=None, ehlo='client.test'):
        xc = dict(CLIENT)
        if addr:
            xc['ADDR'] = ('IPV6:' + addr) if ':' in addr else addr
        return h.send(self.pf.port, sender, ['rcpt@example.net'], msg, xclient=xc, ehlo=ehlo)

    def delivered(self, r):
        self.assertTrue(r.accepted, r)
        h.wait_until(lambda: any(self._qid_in(d, r.queue_id) for d in self.sink.messages()),
                     timeout=90, what='delivery of %s' % r.queue_id,
                     on_timeout=lambda: h.tail(self.pf.log(), 25) + '\n' + h.tail(self.sink.logfile, 10))
        return [d for d in self.sink.messages() if self._qid_in(d, r.queue_id)][0]

    @staticmethod
    def _qid_in(d, qid):
        return ('id %s' % qid).encode() in d.raw

    def ours(self, d):
        ars = d.header('Authentication-Results')
        mine = [a for a in ars if re.match(r'%s\s*;' % re.escape(ID), a, re.I)]
        self.assertEqual(len(mine), 1, ars)
        return re.sub(r'\s+', ' ', mine[0])

    def msg(self, from_addr, **kw):
        return h.make_message(from_addr=from_addr, **kw)

    def test_dkim_pass_rsa_dmarc_pass(self):
        d = self.delivered(self.send(self.sign(self.msg('a@rej.dm.test'), 'rej.dm.test')))
        ar = self.ours(d)
        self.assertIn('dkim=pass', ar)
        self.assertIn('header.d=rej.dm.test header.s=s1 header.a=rsa-sha256', ar)
        self.assertIn('dmarc=pass header.from=rej.dm.test policy.dmarc=reject', ar)

    def test_dkim_pass_ed25519(self):
        d = self.delivered(self.send(self.sign(self.msg('a@rej.dm.test'), 'rej.dm.test', 'e1', ed=True)))
        self.assertIn('dkim=pass header.d=rej.dm.test header.s=e1 header.a=ed25519-sha256', self.ours(d))

    def test_altered_body_rejected(self):
        m = self.sign(self.msg('a@rej.dm.test'), 'rej.dm.test').replace(b'Hello.', b'Hello!')
        r = self.send(m)
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('5.7.1', r.data[1])
        self.assertIn('rej.dm.test', r.data[1])
        self.milter.wait_log(r'dkim=fail:rej\.dm\.test:s1')

    def test_altered_signed_header(self):
        m = self.sign(self.msg('a@quar.dm.test', subject='one'), 'quar.dm.test')
        r = self.send(m.replace(b'Subject: one', b'Subject: two'))
        self.assertTrue(r.accepted, r)
        self.milter.wait_log(r'%s: auth: action=quarantine .*dkim=fail:quar\.dm\.test:s1' % r.queue_id)
        self.pf.wait_log(r'%s: milter-hold:' % r.queue_id)

    def test_missing_and_revoked_key(self):
        r = self.send(self.sign(self.msg('a@rej.dm.test'), 'rej.dm.test', 'nokey'))
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'permerror:rej\.dm\.test:nokey')
        r = self.send(self.sign(self.msg('a@rej.dm.test'), 'rej.dm.test', 'revoked'))
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'fail:rej\.dm\.test:revoked')

    def test_relaxed_and_strict(self):
        d = self.delivered(self.send(self.sign(self.msg('a@rej.dm.test'), 'mail.rej.dm.test')))
        self.assertIn('dmarc=pass', self.ours(d))
        r = self.send(self.sign(self.msg('a@strict.dm.test'), 'mail.strict.dm.test'))
        self.assertEqual(r.data[0], 550, r)
        d = self.delivered(self.send(self.sign(self.msg('a@strict.dm.test'), 'strict.dm.test')))
        self.assertIn('dmarc=pass', self.ours(d))

    def test_sp_np_tree_walk(self):
        r = self.send(self.msg('a@sub.sp.dm.test'))          # sp=reject
        self.assertEqual(r.data[0], 550, r)
        d = self.delivered(self.send(self.msg('a@yes.np.dm.test')))   # exists: sp=none
        self.assertIn('dmarc=fail', self.ours(d))
        r = self.send(self.msg('a@nx.np.dm.test'))           # NXDOMAIN: np=reject
        self.assertEqual(r.data[0], 550, r)
        r = self.send(self.msg('a@x.y.rej.dm.test'))         # record two labels up
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'from=x\.y\.rej\.dm\.test .*record=rej\.dm\.test')

    def test_psd(self):
        # _dmarc.dm.test has psd=y: psdorg.dm.test is an organization under it
        d = self.delivered(self.send(self.sign(self.msg('a@x.psdorg.dm.test'), 'psdorg.dm.test')))
        self.assertIn('dmarc=pass', self.ours(d))
        r = self.send(self.sign(self.msg('a@x.psdorg.dm.test'), 'other.dm.test'))
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'record=dm\.test')

    def test_policy_not_from_intermediate_record(self):
        # issue 15: p=reject at mail.mid.dm.test, p=none at the Organizational Domain mid.dm.test
        d = self.delivered(self.send(self.msg('a@x.mail.mid.dm.test')))
        ar = self.ours(d)
        self.assertIn('dmarc=fail', ar)
        self.assertIn('policy.dmarc=none', ar)
        self.milter.wait_log(r'%s: auth: action=accept .*from=x\.mail\.mid\.dm\.test '
                             r'.*record=mid\.dm\.test' % d_qid(d))
        r = self.send(self.msg('a@mail.mid.dm.test'))       # its own record applies to it
        self.assertEqual(r.data[0], 550, r)

    def test_several_records_discarded(self):
        # two records at two.par.dm.test count as none: par.dm.test's p=reject applies
        r = self.send(self.msg('a@two.par.dm.test'))
        self.assertEqual(r.data[0], 550, r)
        self.milter.wait_log(r'from=two\.par\.dm\.test .*record=par\.dm\.test')

    def test_invalid_p(self):
        d = self.delivered(self.send(self.msg('a@badp.dm.test')))
        ar = self.ours(d)
        self.assertIn('dmarc=none', ar)                     # no DMARC policy at all
        self.assertNotIn('policy.dmarc', ar)
        d = self.delivered(self.send(self.msg('a@badprua.dm.test')))
        ar = self.ours(d)
        self.assertIn('dmarc=fail', ar)                     # a valid rua: p=none
        self.assertIn('policy.dmarc=none', ar)

    def test_policy_dmarc_after_t_and_sp(self):
        d = self.delivered(self.send(self.msg('a@tq.dm.test')))     # quarantine, t=y: none
        ar = self.ours(d)
        self.assertIn('dmarc=fail', ar)
        self.assertIn('policy.dmarc=none policy.published-domain-policy=quarantine', ar)
        d = self.delivered(self.send(self.msg('a@sub.spnone.dm.test')))
        self.assertIn('policy.dmarc=none policy.published-domain-policy=reject', self.ours(d))

    def test_psl_mode(self):
        # auth_dmarc_org_domain = psl: Organizational Domains from the list (libpsl)
        try:
            # inside the try: a reload that times out must still be undone for the next tests
            self.pf.set_milters(smtpd='unix:' + self.sock3)
            d = self.delivered(self.send(self.sign(self.msg('a@rej.dm.test'), 'mail.rej.dm.test')))
            self.assertIn('dmarc=pass', self.ours(d))         # relaxed: same registrable domain
            d = self.delivered(self.send(self.msg('a@x.mail.mid.dm.test')))
            self.assertIn('policy.dmarc=none', self.ours(d))  # mid.dm.test's, not mail.mid's
            self.milter3.wait_log(r'from=x\.mail\.mid\.dm\.test .*record=mid\.dm\.test')
            r = self.send(self.msg('a@two.par.dm.test'))       # two discarded: par.dm.test's
            self.assertEqual(r.data[0], 550, r)
            # the tree walk would apply the PSD dm.test's p=reject; RFC 7489's method has no PSD
            d = self.delivered(self.send(self.sign(self.msg('a@x.psdorg.dm.test'), 'other.dm.test')))
            self.assertIn('dmarc=none', self.ours(d))
            self.milter3.wait_log(r'%s: auth: action=accept .*from=x\.psdorg\.dm\.test' % d_qid(d))
        finally:
            self.pf.set_milters(smtpd='unix:' + self.milter.socket.split(':', 1)[1])

    def test_testing_and_quarantine(self):
        r = self.send(self.msg('a@testing.dm.test'))         # p=reject t=y: quarantine
        self.assertTrue(r.accepted, r)
        self.milter.wait_log(r'%s: auth: action=quarantine reason=dmarc_testing' % r.queue_id)
        r = self.send(self.msg('a@quar.dm.test'))
        self.assertTrue(r.accepted, r)
        self.pf.wait_log(r'%s: milter-hold:' % r.queue_id)

    def test_two_from_rejected(self):
        m = self.msg('a@rej.dm.test', headers=[('From', 'b@quar.dm.test')])
        r = self.send(m)
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('exactly one From', r.data[1])

    def test_forged_ar_removed(self):
        m = self.msg('a@rej.dm.test', headers=[
            ('Authentication-Results', '%s; dkim=pass header.d=rej.dm.test; dmarc=pass' % ID),
            ('Authentication-Results', '(forged) "%s" ; spf=pass' % ID.upper()),
            ('Authentication-Results', 'upstream.example; dkim=pass header.d=rej.dm.test')])
        m = self.sign(m, 'rej.dm.test')
        d = self.delivered(self.send(m))
        ars = d.header('Authentication-Results')
        self.assertEqual(len(ars), 2, ars)
        self.assertIn('upstream.example', ars[1])
        self.assertNotIn('spf=pass', ' '.join(ars))
        self.milter.wait_log(r'ar_removed=2')

    # --- SPF ---------------------------------------------------------------------------------

    def spf_of(self, d):
        """(Received-SPF unfolded, our AR unfolded) of a delivery; exactly one Received-SPF."""
        rs = d.header('Received-SPF')
        self.assertEqual(len(rs), 1, rs)
        self.assertNotRegex(rs[0], r'\n[ \t]*\r?\n', 'blank folded line')
        lines = rs[0].split('\r\n')
        self.assertLessEqual(len('Received-SPF: ' + lines[0]), 78, rs[0])
        for line in lines[1:]:
            self.assertLessEqual(len(line), 78, rs[0])
        return re.sub(r'\r\n', '', rs[0]), self.ours(d)

    def test_spf_results(self):
        cases = [('pass', 'pass'), ('fail', 'fail'), ('soft', 'softfail'), ('neutral', 'neutral'),
                 ('nospf', 'none'), ('perm', 'permerror'), ('temp', 'temperror')]
        for label, want in cases:
            with self.subTest(label=label):
                sender = 'x@%s.sp.test' % label
                d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender=sender))
                rspf, ar = self.spf_of(d)
                self.assertTrue(rspf.startswith(want + ' ('), rspf)
                self.assertIn('client-ip=192.0.2.10;', rspf)
                self.assertIn('envelope-from="%s";' % sender, rspf)
                self.assertIn('helo=client.test;', rspf)
                self.assertIn('identity=mailfrom', rspf)
                self.assertRegex(rspf, r'receiver=\S+;')
                self.assertIn('spf=%s' % want, ar)
                self.assertIn('smtp.mailfrom=%s' % sender, ar)
                self.assertIn('smtp.helo=client.test', ar)
                if want in ('temperror', 'permerror'):
                    self.assertRegex(rspf, r'problem=')
                    self.assertRegex(ar, r'spf=%s reason=' % want)
                self.milter.wait_log(r'%s: auth: action=accept .*spf=%s:%s\.sp\.test'
                                     % (d_qid(d), want, label))
        rspf, _ = self.spf_of(self.delivered(self.send(self.msg('a@nodmarc.sp.test'),
                                                       sender='x@pass.sp.test')))
        self.assertIn('mechanism="ip4:192.0.2.10"', rspf)

    def test_spf_macro_mania(self):
        # RFC 7208 7.1: a:macro%%percent%_%_space%-url-space... names a label with "%", spaces
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='x@mania.sp.test'))
        rspf, ar = self.spf_of(d)
        self.assertTrue(rspf.startswith('pass ('), rspf)
        self.assertIn('spf=pass smtp.mailfrom=x@mania.sp.test', ar)

    def test_spf_ipv6_client(self):
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='x@pass.sp.test',
                                     addr='2001:db8::25'))
        rspf, ar = self.spf_of(d)
        self.assertTrue(rspf.startswith('pass ('), rspf)
        self.assertIn('client-ip="2001:db8::25";', rspf)
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='x@pass.sp.test',
                                     addr='2001:db9::25'))
        self.assertTrue(self.spf_of(d)[0].startswith('fail ('))

    def test_spf_helo_null_sender(self):
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='',
                                     ehlo='helo.sp.test'))
        rspf, ar = self.spf_of(d)
        self.assertTrue(rspf.startswith('pass (') and 'postmaster@helo.sp.test' in rspf, rspf)
        self.assertIn('identity=helo', rspf)
        self.assertNotIn('envelope-from', rspf)
        self.assertIn('spf=pass smtp.helo=helo.sp.test', ar)
        self.assertNotIn('smtp.mailfrom', ar)
        # a HELO not designated: the null sender's result is the HELO's fail
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='',
                                     ehlo='helo.sp.test', addr='192.0.2.99'))
        self.assertTrue(self.spf_of(d)[0].startswith('fail ('))
        # with a sender, the HELO result is recorded beside the MAIL FROM one
        d = self.delivered(self.send(self.msg('a@nodmarc.sp.test'), sender='x@fail.sp.test',
                                     ehlo='helo.sp.test'))
        rspf, ar = self.spf_of(d)
        self.assertIn('spf=fail smtp.mailfrom=x@fail.sp.test; spf=pass smtp.helo=helo.sp.test', ar)
        self.assertIn('identity=mailfrom', rspf)

    def test_dmarc_pass_by_spf_alone(self):
        # unsigned; MAIL FROM mf.rej.dm.test passes SPF and aligns relaxed with rej.dm.test
        d = self.delivered(self.send(self.msg('a@rej.dm.test'), sender='b@mf.rej.dm.test'))
        ar = self.ours(d)
        self.assertIn('spf=pass smtp.mailfrom=b@mf.rej.dm.test', ar)
        self.assertIn('dkim=none', ar)
        self.assertIn('dmarc=pass header.from=rej.dm.test', ar)
        self.milter.wait_log(r'%s: auth: action=accept .*dmarc=pass aligned=spf' % d_qid(d))
        # strict aspf? no: the same from a client SPF does not designate fails DMARC (p=reject)
        r = self.send(self.msg('a@rej.dm.test'), sender='b@mf.rej.dm.test', addr='192.0.2.99')
        self.assertEqual(r.data[0], 550, r)
        self.assertIn('5.7.1', r.data[1])
        self.milter.wait_log(r'dmarc=fail .*spf=fail:mf\.rej\.dm\.test')

    def test_trusted_upstream(self):
        # our SPF fails (forwarded mail), the trusted upstream saw an aligned SPF pass
        m = self.msg('a@rej.dm.test', headers=[
            ('Authentication-Results', 'trusted.example; spf=pass smtp.mailfrom=x@rej.dm.test')])
        d = self.delivered(self.send(m, sender='x@fail.sp.test'))
        ar = self.ours(d)
        self.assertIn('spf=fail smtp.mailfrom=x@fail.sp.test', ar)
        self.assertIn('dmarc=pass', ar)
        self.assertEqual(len(d.header('Authentication-Results')), 2)   # theirs stays
        m = self.msg('a@rej.dm.test', headers=[
            ('Authentication-Results', 'trusted.example; dkim=pass header.d=rej.dm.test')])
        self.assertIn('dmarc=pass', self.ours(self.delivered(self.send(m, sender='x@fail.sp.test'))))
        # an id we do not trust counts for nothing
        m = self.msg('a@rej.dm.test', headers=[
            ('Authentication-Results', 'elsewhere.example; spf=pass smtp.mailfrom=x@rej.dm.test; '
                                       'dkim=pass header.d=rej.dm.test')])
        r = self.send(m, sender='x@fail.sp.test')
        self.assertEqual(r.data[0], 550, r)

    def test_reject_on_spf_fail(self):
        try:
            # inside the try: a reload that times out must still be undone for the next tests
            self.pf.set_milters(smtpd='unix:' + self.sock2)
            r = self.send(self.msg('a@nodmarc.sp.test'), sender='x@fail.sp.test')
            self.assertEqual(r.data[0], 550, r)
            self.assertIn('5.7.23', r.data[1])
            self.assertIn('fail.sp.test', r.data[1])
            self.milter2.wait_log(r'auth: action=reject reason=spf_fail .*spf=fail:fail\.sp\.test')
            r = self.send(self.msg('a@nodmarc.sp.test'), sender='x@temp.sp.test')
            self.assertEqual(r.data[0], 451, r)
            self.assertIn('4.7.24', r.data[1])
            r = self.send(self.msg('a@nodmarc.sp.test'), sender='x@soft.sp.test')
            self.assertTrue(r.accepted, r)          # softfail is not fail (RFC 7208 8.5)
            r = self.send(self.msg('a@nodmarc.sp.test'), sender='x@pass.sp.test')
            self.assertTrue(r.accepted, r)
        finally:
            self.pf.set_milters(smtpd='unix:' + self.milter.socket.split(':', 1)[1])


def d_qid(d):
    """The queue id Postfix gave the message, from its Received header."""
    m = re.search(r'id (\w+)', d.raw.decode('utf-8', 'replace'))
    return m.group(1) if m else ''


if __name__ == '__main__':
    unittest.main()
