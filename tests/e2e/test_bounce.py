"""test_bounce - postmill-bounce behind a real Postfix, bounced by a second real Postfix, with a
real redis-server on loopback.

Three private Postfix instances (harness.Postfix; nothing new in the harness):
  A "ours"    port PA, smtpd_milters = postmill-bounce; relays everything to B, except the bounce
              domain bounces.test, which goes on to a Sink (where delivered bounces land).
  B "remote"  the receiving MTA that bounces: accepts from A and relays remote.test to C; it
              generates the DSNs (maximal_queue_lifetime = 0: one try, so a 4xx bounces at once)
              and sends them to b-TAG@bounces.test back through A (transport_maps).
  C "final"   refuses what B relays: check_recipient_access gives 550 5.1.1 for gone@, 452 4.2.2
              for full@, and message_size_limit = 20000 refuses the large message (552 5.3.4).

Tests:
  - a tagged message to an unknown user is bounced by B, the bounce comes back through A, is
    validated, classified (hard, user_unknown, 5.1.1), recorded on the stream and in the sender's
    suppression list, delivered on with X-Postmill-Bounce-* headers; the next message of that
    sender to that recipient is refused at RCPT with 550 5.1.1 saying why; the same recipient is
    not refused for another sender (scope sender);
  - a full mailbox (452) and a message too large are recorded as soft (mailbox_full,
    message_too_large) and do not suppress at once;
  - a bounce with a forged, a tampered and a malformed tag is refused at RCPT with 550 5.7.1.
BounceActionTest (one Postfix, everything relayed to a Sink) adds the feedback loop: tagged mail
carries X-Postmill-Ref and Feedback-ID (the sender's own ones removed); complaints in the real
formats of big mailbox providers (AOL's redacted ARF, Yahoo's ARF, Microsoft's JMRP) sent to the
feedback-loop address map back to sender and recipient through the reference or the Return-Path
tag and suppress the recipient; a tampered reference suppresses nothing; postmaster@ and the FBL
addresses of the bounce domain are accepted.
The classification checks need the classifier (branch bounce-classify); they skip while
bounce_classify() is the placeholder.
"""

import base64
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

STREAM = 'pmbounce:events'
SENDER = 'alice@customer.test'

DSN_SAMPLE = (b'From: MAILER-DAEMON@x.test\r\nTo: b-x@bounces.test\r\nSubject: Undelivered\r\n'
              b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;'
              b' boundary="BB"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nfailed\r\n'
              b'--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.test\r\n'
              b'\r\nFinal-Recipient: rfc822; gone@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\n'
              b'Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n--BB--\r\n')


def secret_file(wd, name):
    """A new random secret in WD/keys/NAME, mode 0600, owned by postmill."""
    keys = wd.private('keys')
    path = os.path.join(keys, name)
    with open(path, 'w') as f:
        f.write(os.urandom(32).hex() + '\n')
    os.chmod(path, 0o600)
    pm = h.pwd.getpwnam('postmill')
    os.chown(path, pm.pw_uid, pm.pw_gid)
    os.chown(keys, pm.pw_uid, pm.pw_gid)
    return path


def secret_key_id(path):
    """A secret file's key id: the first byte of SHA-256("postmill-bounce key id" NUL secret)."""
    with open(path, 'rb') as f:
        secret = f.read().rstrip(b'\n')
    return hashlib.sha256(b'postmill-bounce key id\0' + secret).digest()[0]


def distinct_secret(wd, name, *others):
    """secret_file() whose key id differs from the others': one-byte ids collide 1 time in 256,
    which postmill-bounce refuses by design and a test must not hit by chance."""
    while True:
        path = secret_file(wd, name)
        if secret_key_id(path) not in {secret_key_id(o) for o in others}:
            return path


def write_conf(tc, secrets, extra=()):
    """(Re)write tc's bounce.conf: SECRETS (paths, the first signs) and EXTRA lines."""
    sock = tc.wd.path('bounce.sock')
    conf = tc.wd.write('bounce.conf', '\n'.join([
        'run_user = postmill', 'socket_group = postfix',
        'bounce_socket = unix:' + sock, 'bounce_pid_file = ' + tc.wd.path('bounce.pid'),
        'bounce_domain = bounces.test', 'bounce_secret_files = ' + ', '.join(secrets),
        'redis_server = 127.0.0.1:%d' % tc.redis_srv.port, 'redis_command_timeout = 1s',
        'redis_connect_timeout = 1s'] + list(extra)) + '\n', mode=0o640)
    os.chown(conf, 0, h.grp.getgrnam('postmill').gr_gid)
    tc.conf = conf
    return sock


def start_milter(tc, secrets, extra=()):
    """postmill-bounce for test case TC (which has redis_srv); its socket spec's path."""
    sock = write_conf(tc, secrets, extra)
    tc.milter_ = tc.milter([h.binary('postmill-bounce'), '-f', '-c', tc.conf], 'unix:' + sock,
                           name='bounce')
    return sock


class BounceTest(h.E2ETestCase):

    def stack(self):
        self.redis_srv = self.redis()
        self.sink_ = self.sink()
        pa = h.free_port()
        access = self.wd.write('access', 'gone@remote.test 550 5.1.1 <gone@remote.test>: User unknown\n'
                                         'full@remote.test 452 4.2.2 <full@remote.test>: Mailbox full\n')
        self.pf_c = self.postfix(self.sink_, name='final', main={
            'relay_domains': 'remote.test',
            'smtpd_recipient_restrictions': 'check_recipient_access texthash:' + access + ', permit',
            'message_size_limit': '20000'})
        back = self.wd.write('transport_b', 'bounces.test smtp:[127.0.0.1]:%d\n' % pa)
        self.pf_b = self.postfix(self.pf_c.port, name='remote', main={
            'relay_domains': 'remote.test', 'transport_maps': 'texthash:' + back,
            'maximal_queue_lifetime': '0', 'bounce_queue_lifetime': '0'})
        sock = start_milter(self, [secret_file(self.wd, 'bounce.secret')])
        out = self.wd.write('transport_a', 'bounces.test smtp:[127.0.0.1]:%d\n' % self.sink_.port)
        self.pf_a = self.postfix(self.pf_b.port, name='ours', port=pa, smtpd_milters=['unix:' + sock],
                                 main={'relay_domains': 'bounces.test', 'transport_maps': 'texthash:' + out})

    def classifier_ready(self):
        path = self.wd.write('sample.eml', DSN_SAMPLE)
        r = subprocess.run([h.binary('postmill-bounce'), '--classify', path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return b'"hard"' in r.stdout

    def send(self, rcpt, sender=SENDER, size=0):
        body = None if not size else ('x' * 76 + '\r\n') * (size // 78 + 1)
        return h.send(self.pf_a.port, sender, [rcpt], h.make_message(from_addr=sender, to_addr=rcpt, body=body))

    def wait_bounce(self, rcpt):
        """The delivered bounce about RCPT (the sink's copy)."""
        def found():
            for d in self.sink_.messages():
                if rcpt in d.header('X-Postmill-Bounce-Recipient'):
                    return d
            return None
        return h.wait_until(found, timeout=30, what='the bounce about %s' % rcpt,
                            on_timeout=lambda: h.tail(self.milter_.log()) + '\n' + h.tail(self.pf_b.log()))

    def events(self):
        out = self.redis_srv.cli('--no-raw', 'XRANGE', STREAM, '-', '+')
        return out

    def test_bounce_cycle(self):
        self.stack()
        r = self.send('gone@remote.test')
        self.assertTrue(r.accepted, r.stage_codes())
        # the envelope sender B saw is the tag
        self.pf_b.wait_log(r'from=<b-[a-z2-7]{48}@bounces\.test>')
        # the bounce came back, passed the tag check and was recorded
        self.milter_.wait_log(r'bounce: action=accept stage=rcpt tag=ok', timeout=30)
        self.milter_.wait_log(r'bounce: action=record ', timeout=30)
        if not self.classifier_ready():
            self.skipTest('bounce_classify() is still the placeholder (branch bounce-classify)')
        d = self.wait_bounce('gone@remote.test')
        self.assertEqual(d.header('X-Postmill-Bounce-Class'), ['hard'])
        self.assertEqual(d.header('X-Postmill-Bounce-Reason'), ['user_unknown'])
        self.assertEqual(d.header('X-Postmill-Bounce-Status'), ['5.1.1'])
        ev = self.events()
        # the event: recipient, class, reason, status, the receiver's words, our queue id
        for want in ('gone@remote.test', 'user_unknown', 'hard', SENDER, '5.1.1', 'User unknown',
                     r.queue_id):
            self.assertIn(want, ev)
        key = 'pmbounce:{s:%s}:sup:gone@remote.test' % SENDER
        self.assertEqual(self.redis_srv.cli('HGET', key, 'reason'), 'user_unknown')
        # the next message to that recipient is refused at RCPT, saying when and why
        r = self.send('gone@remote.test')
        self.assertFalse(r.accepted)
        code, text = r.rcpt[0][1], r.rcpt[0][2]
        self.assertEqual(code, 550, text)
        self.assertIn('5.1.1', text)
        self.assertIn('suppressed since', text)
        self.assertIn('user_unknown', text)
        self.milter_.wait_log(r'action=reject stage=rcpt reason=suppressed rcpt=<gone@remote.test>')
        # another sender's list is its own
        r = self.send('gone@remote.test', sender='bob@other.test')
        self.assertTrue(r.accepted, r.stage_codes())

        # soft: a full mailbox and a message too large are recorded, not suppressed
        self.assertTrue(self.send('full@remote.test').accepted)
        d = self.wait_bounce('full@remote.test')
        self.assertEqual(d.header('X-Postmill-Bounce-Class'), ['soft'])
        self.assertEqual(d.header('X-Postmill-Bounce-Reason'), ['mailbox_full'])
        self.assertTrue(self.send('big@remote.test', size=40000).accepted)
        d = self.wait_bounce('big@remote.test')
        self.assertEqual(d.header('X-Postmill-Bounce-Class'), ['soft'])
        self.assertEqual(d.header('X-Postmill-Bounce-Reason'), ['message_too_large'])
        self.assertEqual(self.redis_srv.cli('EXISTS', 'pmbounce:{s:%s}:sup:full@remote.test' % SENDER), '0')
        r = self.send('full@remote.test')
        self.assertEqual(r.rcpt[0][1], 250, r.rcpt)
        stats = self.redis_srv.cli('HGETALL', 'pmbounce:{s:%s}:stats' % SENDER)
        self.assertIn('reason:mailbox_full', stats)
        self.assertIn('class:hard', stats)

    def test_forged_tag_refused(self):
        self.stack()
        # a real tag first, from the log of B (the envelope sender it saw)
        self.assertTrue(self.send('gone@remote.test').accepted)
        line = self.pf_b.wait_log(r'from=<b-[a-z2-7]{48}@bounces\.test>')
        m = re.search(r'from=<(b-[a-z2-7]{48})@bounces\.test>', self.pf_b.log())
        real = m.group(1)
        flip = real[:10] + ('a' if real[10] != 'a' else 'b') + real[11:]
        cases = {
            'forged': 'b-' + 'q' * 48,
            'tampered': flip,
            'malformed': 'b-short',
            'upper-cased real tag is fine': real.upper(),
        }
        for name, local in cases.items():
            r = h.send(self.pf_a.port, '', ['%s@bounces.test' % local],
                       h.make_message(from_addr='MAILER-DAEMON@remote.test', to_addr=local + '@bounces.test'))
            code, text = r.rcpt[0][1], r.rcpt[0][2]
            if name.startswith('upper'):
                self.assertEqual(code, 250, '%s: %s' % (name, text))
            else:
                self.assertEqual(code, 550, '%s: %s' % (name, text))
                self.assertIn('5.7.1', text, name)
        self.milter_.wait_log(r'action=reject stage=rcpt tag=bad_mac')
        self.milter_.wait_log(r'action=reject stage=rcpt tag=malformed')
        del line

    def ctl(self, *args):
        r = subprocess.run([h.binary('postmillctl'), '-c', self.conf] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode, r.stdout.decode('utf-8', 'replace')

    def test_postmillctl_suppress(self):
        """postmillctl suppress add/check/list/remove and bounces stats, against the milter's Redis:
        an entry added by hand is refused at RCPT by the running milter, and accepted once removed."""
        self.stack()
        rc, out = self.ctl('suppress', 'check', SENDER, 'Hand@Remote.test')
        self.assertEqual((rc, 'not suppressed' in out), (0, True), out)
        rc, out = self.ctl('suppress', 'add', SENDER, 'Hand@Remote.test', 'user_unknown', '1h')
        self.assertEqual(rc, 0, out)
        rc, out = self.ctl('suppress', 'check', SENDER, 'hand@remote.test')
        self.assertEqual(rc, 1, out)
        self.assertIn('reason=user_unknown', out)
        rc, out = self.ctl('suppress', 'list', SENDER)
        self.assertEqual(rc, 0, out)
        self.assertIn('hand@remote.test reason=user_unknown', out)
        self.assertIn('1 suppressed recipient', out)
        self.assertEqual(int(self.redis_srv.cli('PTTL', 'pmbounce:{s:%s}:sup:hand@remote.test' % SENDER)) // 1000,
                         3599)
        r = self.send('hand@remote.test')
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('5.1.1', r.rcpt[0][2])
        rc, out = self.ctl('suppress', 'remove', SENDER, 'hand@remote.test')
        self.assertEqual((rc, 'removed' in out), (0, True), out)
        r = self.send('hand@remote.test')
        self.assertEqual(r.rcpt[0][1], 250, r.rcpt)
        # counters: a recorded bounce shows up (written here as the milter's script would)
        self.redis_srv.cli('HINCRBY', 'pmbounce:{s:%s}:stats' % SENDER, 'total', '2')
        rc, out = self.ctl('bounces', 'stats', SENDER)
        self.assertEqual(rc, 0, out)
        self.assertIn('total 2', out)
        rc, out = self.ctl('bounces', 'stats')
        self.assertEqual(rc, 0, out)
        self.assertIn('stream pmbounce:events', out)
        self.assertIn('total=2', out)
        rc, out = self.ctl('suppress', 'frobnicate', SENDER)
        self.assertEqual(rc, 2, out)



def dsn(local, rcpt, status='5.1.1', diag='550 5.1.1 <%s>: Recipient address rejected: User unknown',
        action='failed'):
    """An RFC 3464 report about RCPT to LOCAL@bounces.test, as a remote MTA would send it."""
    diag = diag % rcpt if '%s' in diag else diag
    return ('From: Mail Delivery System <MAILER-DAEMON@mx.dest.test>\r\n'
            'To: %s@bounces.test\r\nSubject: Undelivered Mail Returned to Sender\r\n'
            'Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n'
            'Content-Type: multipart/report; report-type=delivery-status; boundary="RB"\r\n\r\n'
            '--RB\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n'
            '--RB\r\nContent-Type: message/delivery-status\r\n\r\n'
            'Reporting-MTA: dns; mx.dest.test\r\n\r\n'
            'Final-Recipient: rfc822; %s\r\nOriginal-Recipient: rfc822;%s\r\nAction: %s\r\n'
            'Status: %s\r\nDiagnostic-Code: smtp; %s\r\n\r\n'
            '--RB\r\nContent-Type: text/rfc822-headers\r\n\r\n'
            'From: %s\r\nTo: %s\r\nSubject: hello\r\n\r\n--RB--\r\n'
            % (local, rcpt, rcpt, action, status, diag, SENDER, rcpt)).encode()


def arf(local, rcpt, feedback_type='abuse'):
    """An RFC 5965 report (abuse unless FEEDBACK_TYPE says otherwise) about a message to RCPT
    (after RFC 5965 section 3.3)."""
    return ('From: <abuse@isp.test>\r\nTo: %s@bounces.test\r\nSubject: FW: hello\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"\r\n\r\n'
            '--ARF\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n'
            '--ARF\r\nContent-Type: message/feedback-report\r\n\r\n'
            'Feedback-Type: %s\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n'
            'Original-Mail-From: <%s@bounces.test>\r\nOriginal-Rcpt-To: <%s>\r\n\r\n'
            '--ARF\r\nContent-Type: message/rfc822\r\n\r\nFrom: %s\r\nTo: %s\r\n'
            'Subject: hello\r\n\r\nHello.\r\n\r\n--ARF--\r\n'
            % (local, feedback_type, local, rcpt, SENDER, rcpt)).encode()


def vacation(local, who):
    """An RFC 3834 auto-reply of WHO."""
    return ('From: Jane <%s>\r\nTo: %s@bounces.test\r\nSubject: Out of Office: hello\r\n'
            'Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n'
            'Content-Type: text/plain\r\n\r\nI am out of the office until Monday.\r\n'
            % (who, local)).encode()


FBL_CONF = ['bounce_fbl_addresses = fbl, FBL2@Bounces.test', 'bounce_ref_lifetime = 30d',
            'bounce_feedback_id = header:X-Campaign-ID, header:X-Mail-Type, hash:sender_domain']
# base32(SHA-256("postmill-bounce feedback-id" NUL "customer.test"))[:12], lower case (bounce_fbid.h)
SENDER_ID = base64.b32encode(hashlib.sha256(b'postmill-bounce feedback-id\0customer.test').digest()[:8]
                             ).decode().lower()[:12]


def original(d, redact, return_path=None, drop=()):
    """The original as a mailbox provider returns it: the header of the Sink's copy D (what the
    provider received), every occurrence of REDACT replaced, a Return-Path (the envelope sender, as
    the final delivery adds it) when given, fields named in DROP removed."""
    head, _, body = d.raw.decode().partition('\r\n\r\n')
    lines = []
    for line in head.split('\r\n'):
        name = line.split(':', 1)[0].lower() if line[:1] not in (' ', '\t') else None
        if name in drop or (name is None and lines and lines[-1] is None):
            lines.append(None)
            continue
        lines.append(line.replace(redact, 'redacted@isp.test'))
    lines = [l for l in lines if l is not None]
    if return_path:
        lines.insert(0, 'Return-Path: <%s>' % return_path)
    return '\r\n'.join(lines) + '\r\n\r\n' + body.replace(redact, 'redacted@isp.test')


def aol_arf(orig):
    """An ARF report as AOL's feedback loop sent them (RFC 5965 with the recipient redacted: no
    Original-Rcpt-To, no Original-Mail-From, the original's To: rewritten)."""
    return ('From: scomp@aol.test\r\nTo: fbl@bounces.test\r\nSubject: Email Feedback Report for IP 127.0.0.1\r\n'
            'MIME-Version: 1.0\r\nMessage-ID: <%s@aol.test>\r\n'
            'Content-Type: multipart/report; report-type=feedback-report; boundary="boundary-1138-1210-2-13145"\r\n'
            '\r\n--boundary-1138-1210-2-13145\r\nContent-Type: text/plain; charset="US-ASCII"\r\n'
            'Content-Transfer-Encoding: 7bit\r\n\r\nThis is an email abuse report for an email message '
            'received from IP 127.0.0.1 on Thu, 29 Apr 2026 00:00:00 -0000\r\n\r\n'
            '--boundary-1138-1210-2-13145\r\nContent-Disposition: inline\r\n'
            'Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: AOL SComp\r\n'
            'Version: 0.1\r\nReceived-Date: Thu, 29 Apr 2026 00:00:00 -0000 (EDT)\r\nSource-IP: 127.0.0.1\r\n'
            'Reported-Domain: customer.test\r\nRedacted-Address: redacted\r\nRedacted-Address: redacted@\r\n'
            '\r\n--boundary-1138-1210-2-13145\r\nContent-Type: message/rfc822\r\n'
            'Content-Disposition: inline\r\n\r\n%s\r\n--boundary-1138-1210-2-13145--\r\n'
            % (os.urandom(6).hex(), orig))


def yahoo_arf(orig, mail_from):
    """An ARF report as Yahoo's complaint feedback loop sends it (Original-Mail-From is the envelope
    sender, the tag; Original-Rcpt-To redacted)."""
    return ('From: feedback@arf.mail.yahoo.test\r\nTo: fbl@bounces.test\r\nSubject: FW: hello\r\n'
            'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; \r\n'
            '\tboundary="----=_Part_22220022_2222222200.22222222222"\r\n\r\n'
            '------=_Part_22220022_2222222200.22222222222\r\nContent-Type: text/plain; charset=us-ascii\r\n'
            'Content-Transfer-Encoding: 7bit\r\nContent-Disposition: inline\r\n\r\n'
            'This is an email abuse report for an email message from customer.test\r\n\r\n'
            '------=_Part_22220022_2222222200.22222222222\r\nContent-Type: message/feedback-report\r\n'
            'Content-Transfer-Encoding: 7bit\r\nContent-Disposition: inline\r\n\r\n'
            'Feedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\nVersion: 0.1\r\n'
            'Original-Mail-From: <%s>\r\nOriginal-Rcpt-To: redacted@isp.test\r\n'
            'Received-Date: Thu, 29 Apr 2026 23:34:45 +0000\r\nReported-Domain: customer.test\r\n\r\n'
            '------=_Part_22220022_2222222200.22222222222\r\nContent-Type: message/rfc822\r\n'
            'Content-Disposition: inline\r\n\r\n%s\r\n------=_Part_22220022_2222222200.22222222222--\r\n'
            % (mail_from, orig))


def jmrp(orig):
    """A complaint as Microsoft's JMRP sends it: multipart/mixed, the original only, no ARF part."""
    return ('From: staff@hotmail.test\r\nTo: fbl@bounces.test\r\n'
            'Subject:  complaint about message from 127.0.0.1\r\nMIME-Version: 1.0 \r\n'
            'Content-Type: multipart/mixed; boundary="F0000EEE2-0000-2111-AAB0-000000000000"\r\n\r\n'
            '--F0000EEE2-0000-2111-AAB0-000000000000\r\nContent-Type: message/rfc822\r\n'
            'Content-Disposition: inline\r\n\r\nX-HmXmrOriginalRecipient: <redacted>\r\n%s\r\n'
            '--F0000EEE2-0000-2111-AAB0-000000000000--\r\n' % orig)


class BounceActionTest(h.E2ETestCase):
    """One Postfix with postmill-bounce relaying everything (the bounce domain too) to a Sink;
    the tags come from outbound messages the Sink received, and the returning messages (DSNs,
    ARF complaints, auto-replies) are written here and sent to b-TAG@bounces.test through that
    Postfix, as a remote MTA would. Covers: auto-replies and complaints through the milter,
    reports about addresses the message never went to, bounce_action redirect and discard,
    bounce_suppress_scope domain and global, and the rotation of secrets by reload."""

    def stack(self, extra=(), secrets=None):
        self.redis_srv = self.redis()
        self.sink_ = self.sink()
        self.secrets = secrets or [secret_file(self.wd, 'bounce.secret')]
        sock = start_milter(self, self.secrets, extra)
        self.pf = self.postfix(self.sink_, name='ours', smtpd_milters=['unix:' + sock],
                               main={'relay_domains': 'bounces.test'})
        self.seen = set()

    def send(self, rcpt, sender=SENDER):
        return h.send(self.pf.port, sender, [rcpt], h.make_message(from_addr=sender, to_addr=rcpt))

    def tag(self, rcpt, sender=SENDER):
        """Send a message from SENDER to RCPT; the local part b-TAG it left with."""
        r = self.send(rcpt, sender)
        self.assertTrue(r.accepted, r.stage_codes())

        def found():
            for d in self.sink_.messages():
                if d.path not in self.seen and d.rcpts == [rcpt] and d.mail_from.startswith('b-'):
                    self.seen.add(d.path)
                    return d.mail_from.split('@')[0]
            return None
        return h.wait_until(found, timeout=20, what='the tagged message to %s' % rcpt)

    def inject(self, local, message):
        """A returning message to LOCAL@bounces.test, from the null sender."""
        return h.send(self.pf.port, '', [local + '@bounces.test'], message)

    def returned(self, local, to=None):
        """The Sink's copy of the message injected to LOCAL (delivered to TO, default LOCAL)."""
        to = to or local + '@bounces.test'

        def found():
            for d in self.sink_.messages():
                if d.path not in self.seen and d.rcpts == [to] and d.header('X-Postmill-Bounce-Class'):
                    self.seen.add(d.path)
                    return d
            return None
        return h.wait_until(found, timeout=20, what='the returned message to %s' % to,
                            on_timeout=lambda: h.tail(self.milter_.log()))

    def sup(self, scope, rcpt, field='reason'):
        return self.redis_srv.cli('HGET', 'pmbounce:{%s}:sup:%s' % (scope, rcpt), field)

    def test_complaint_auto_reply_unlisted(self):
        self.stack()
        # an auto-reply is recorded as one, delivered on, and suppresses nobody
        t = self.tag('jane@dest.test')
        r = self.inject(t, vacation(t, 'jane@dest.test'))
        self.assertTrue(r.accepted, r.stage_codes())
        d = self.returned(t)
        self.assertEqual(d.header('X-Postmill-Bounce-Class'), ['auto_reply'])
        self.assertEqual(d.header('X-Postmill-Bounce-Reason'), ['auto_reply'])
        self.assertEqual(d.header('X-Postmill-Bounce-Recipient'), ['jane@dest.test'])
        self.milter_.wait_log(r'action=record kind=auto_reply class=auto_reply .*suppressed=0 ')
        self.assertEqual(self.sup('s:' + SENDER, 'jane@dest.test'), '')
        self.assertEqual(self.send('jane@dest.test').rcpt[0][1], 250)
        # an ARF complaint suppresses its recipient (bounce_suppress_reasons has complaint)
        t = self.tag('reader@isp.test')
        self.assertTrue(self.inject(t, arf(t, 'reader@isp.test')).accepted)
        d = self.returned(t)
        self.assertEqual(d.header('X-Postmill-Bounce-Class'), ['complaint'])
        self.assertEqual(d.header('X-Postmill-Bounce-Recipient'), ['reader@isp.test'])
        self.milter_.wait_log(r'action=record kind=arf class=complaint reason=complaint '
                              r'rcpt=<reader@isp\.test> .*suppressed=1 ')
        self.assertEqual(self.sup('s:' + SENDER, 'reader@isp.test'), 'complaint')
        # complaints are forever by default: no TTL
        self.assertEqual(self.redis_srv.cli('PTTL', 'pmbounce:{s:%s}:sup:reader@isp.test' % SENDER), '-1')
        r = self.send('reader@isp.test')
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('complaint', r.rcpt[0][2])
        # a DMARC failure report (RFC 6591 auth-failure) to a tag is no reader's complaint:
        # recorded as an ARF report of class none, suppresses nobody
        t = self.tag('checker@isp.test')
        self.assertTrue(self.inject(t, arf(t, 'checker@isp.test', 'auth-failure')).accepted)
        self.milter_.wait_log(r'action=record kind=arf class=none reason=other .*suppressed=0 ')
        self.assertEqual(self.sup('s:' + SENDER, 'checker@isp.test'), '')
        self.assertEqual(self.send('checker@isp.test').rcpt[0][1], 250)
        # a report naming an address the message never went to is recorded, suppresses nobody
        t = self.tag('real@dest.test')
        self.assertTrue(self.inject(t, dsn(t, 'victim@dest.test')).accepted)
        self.milter_.wait_log(r'action=record kind=dsn class=hard reason=user_unknown '
                              r'rcpt=<victim@dest\.test> .*suppressed=0 unlisted=1 ')
        self.assertIn('victim@dest.test', self.redis_srv.cli('--no-raw', 'XRANGE', STREAM, '-', '+'))
        self.assertEqual(self.sup('s:' + SENDER, 'victim@dest.test'), '')
        self.assertEqual(self.send('victim@dest.test').rcpt[0][1], 250)

    def test_redirect_domain_scope(self):
        self.stack(['bounce_action = redirect', 'bounce_suppress_scope = domain'])
        t = self.tag('gone@dest.test')
        self.assertTrue(self.inject(t, dsn(t, 'gone@dest.test')).accepted)
        # redirected: delivered to the original sender instead of the tag, with the headers
        d = self.returned(t, to=SENDER)
        self.assertEqual(d.mail_from, '')
        self.assertEqual(d.header('X-Postmill-Bounce-Reason'), ['user_unknown'])
        self.assertEqual(d.header('X-Postmill-Bounce-Recipient'), ['gone@dest.test'])
        self.milter_.wait_log(r'action=record .*rcpt=<gone@dest\.test> .*then=redirect')
        self.assertEqual(self.sup('d:customer.test', 'gone@dest.test'), 'user_unknown')
        # the list is the domain's: another sender of customer.test is refused, others are not
        r = self.send('gone@dest.test', sender='bob@customer.test')
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('5.1.1', r.rcpt[0][2])
        self.assertEqual(self.send('gone@dest.test', sender='carol@other.test').rcpt[0][1], 250)

    def test_discard_global_scope(self):
        self.stack(['bounce_action = discard', 'bounce_suppress_scope = global'])
        t = self.tag('gone@dest.test')
        r = self.inject(t, dsn(t, 'gone@dest.test'))
        self.assertTrue(r.accepted, r.stage_codes())
        self.milter_.wait_log(r'action=record .*rcpt=<gone@dest\.test> .*then=discard')
        self.pf.wait_log(r'%s: milter-discard' % r.queue_id)
        self.assertEqual(self.sup('g', 'gone@dest.test'), 'user_unknown')
        # global: every sender is refused
        for sender in (SENDER, 'carol@other.test'):
            r = self.send('gone@dest.test', sender=sender)
            self.assertEqual(r.rcpt[0][1], 550, (sender, r.rcpt))
        # nothing reached the sink for the tag (the discarded bounce)
        self.assertEqual([d for d in self.sink_.messages() if d.rcpts == [t + '@bounces.test']], [])

    def test_soft_threshold(self):
        """bounce_soft_threshold = 2: two soft bounces with no delivery between suppress; a
        delivery report (RFC 3464 Action: delivered) between starts the count again."""
        self.stack(['bounce_soft_threshold = 2', 'bounce_soft_window = 1h'])
        full = ('4.2.2', '452 4.2.2 <full@dest.test>: Mailbox full')
        softkey = 'pmbounce:{s:%s}:soft:full@dest.test' % SENDER
        steps = [  # (what comes back, soft count after, suppressed after)
            (full + ('failed',), '1', ''),
            (('2.0.0', '250 2.0.0 Ok', 'delivered'), '', ''),
            (full + ('failed',), '1', ''),
            (full + ('failed',), '', 'mailbox_full'),
        ]
        for i, ((status, diag, action), count, reason) in enumerate(steps):
            t = self.tag('full@dest.test')
            self.assertTrue(self.inject(t, dsn(t, 'full@dest.test', status, diag, action)).accepted)
            self.milter_.wait_log(r'action=record .*id=', count=i + 1)
            self.assertEqual(self.redis_srv.cli('GET', softkey), count, 'step %d' % i)
            self.assertEqual(self.sup('s:' + SENDER, 'full@dest.test'), reason, 'step %d' % i)
        r = self.send('full@dest.test')
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('mailbox_full', r.rcpt[0][2])

    def test_secret_rotation(self):
        old = secret_file(self.wd, 'old.secret')
        self.stack(secrets=[old])
        t_old = self.tag('r1@dest.test')
        # a new secret signs, the old one still verifies the tags in flight
        new = distinct_secret(self.wd, 'new.secret', old)
        write_conf(self, [new, old])
        self.milter_.hup()
        self.milter_.wait_log(r'reloaded ', count=1)
        t_new = self.tag('r2@dest.test')
        for t in (t_old, t_new):
            r = self.inject(t, dsn(t, 'r%d@dest.test' % (1 if t == t_old else 2), '4.2.2',
                                   '452 4.2.2 Mailbox full'))
            self.assertTrue(r.accepted, (t, r.stage_codes()))
        self.milter_.wait_log(r'action=record .*rcpt=<r1@dest\.test>')
        self.milter_.wait_log(r'action=record .*rcpt=<r2@dest\.test>')
        # the old secret removed: its tags are refused, the new ones not
        write_conf(self, [new])
        self.milter_.hup()
        self.milter_.wait_log(r'reloaded ', count=2)
        r = self.inject(t_old, dsn(t_old, 'r1@dest.test'))
        self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
        self.assertIn('5.7.1', r.rcpt[0][2])
        self.milter_.wait_log(r'action=reject stage=rcpt tag=unknown_key')
        self.assertEqual(self.inject(t_new, dsn(t_new, 'r2@dest.test')).rcpt[0][1], 250)

    def delivered(self, rcpt, sender=SENDER, headers=()):
        """Send a tagged message to RCPT with HEADERS; the Sink's copy."""
        r = h.send(self.pf.port, sender, [rcpt], h.make_message(from_addr=sender, to_addr=rcpt,
                                                                headers=headers))
        self.assertTrue(r.accepted, r.stage_codes())

        def found():
            for d in self.sink_.messages():
                if d.path not in self.seen and d.rcpts == [rcpt] and d.mail_from.startswith('b-'):
                    self.seen.add(d.path)
                    return d
            return None
        return h.wait_until(found, timeout=20, what='the tagged message to %s' % rcpt)

    def complain(self, report):
        """Send REPORT to the feedback-loop address, as the provider's MTA would."""
        r = h.send(self.pf.port, 'fbl-sender@isp.test', ['fbl@bounces.test'], report)
        self.assertTrue(r.accepted, r.stage_codes())
        return r

    def last_event(self):
        """The newest entry of the event stream as a dict."""
        out = self.redis_srv.cli('XREVRANGE', STREAM, '+', '-', 'COUNT', '1').split('\n')
        return dict(zip(out[1::2], out[2::2]))

    def test_fbl_redacted_complaints(self):
        """Complaints whose recipient is redacted map back to the sender and the recipient through
        X-Postmill-Ref (AOL's format, Microsoft's JMRP) or the tag in the original's Return-Path
        (Yahoo's format without the reference), and suppress the recipient for that sender."""
        self.stack(FBL_CONF)
        cases = [  # (recipient, how the complaint is built, how it maps)
            ('reader1@isp.test', lambda d, r: aol_arf(original(d, r)), 'ref'),
            ('reader2@isp.test', lambda d, r: yahoo_arf(original(d, r, d.mail_from, drop=('x-postmill-ref',)),
                                                        d.mail_from), 'return_path'),
            ('reader3@isp.test', lambda d, r: jmrp(original(d, r)), 'ref'),
        ]
        for n, (rcpt, build, via) in enumerate(cases):
            # the sender's own reference and Feedback-ID are replaced by ours
            d = self.delivered(rcpt, headers=[('X-Campaign-ID', 'spring-2026'), ('X-Mail-Type', 'news letter'),
                                              ('X-Postmill-Ref', 'a' * 48), ('Feedback-ID', 'x:y:forged')])
            refs = d.header('X-Postmill-Ref')
            self.assertEqual(len(refs), 1, d.headers())
            self.assertRegex(refs[0], r'^[a-z2-7]{48}$')
            self.assertNotEqual(refs[0], 'a' * 48)
            self.assertEqual(d.header('Feedback-ID'), ['spring-2026:news_letter:%s' % SENDER_ID])
            line = self.milter_.wait_log(r'action=tag sender=<%s> .*ref=yes feedback_id=spring-2026:news_letter:%s'
                                         % (re.escape(SENDER), SENDER_ID), count=n + 1)[n]
            # the record lives as long as the reference (30 days here), not the tag's 10
            idhex = re.search(r' id=([0-9a-f]{20}) ', line.group(0)).group(1)
            ttl_days = int(self.redis_srv.cli('PTTL', 'pmbounce:{m:%s}' % idhex)) / 86400000
            self.assertTrue(29 < ttl_days <= 30, ttl_days)
            report = build(d, rcpt)
            self.assertNotIn(rcpt, report)
            self.complain(report)
            self.milter_.wait_log(r'action=record kind=arf class=complaint reason=complaint rcpt=<%s> '
                                  r'.*sender=<%s> .*suppressed=1 .* via=%s rcpt_by=record'
                                  % (re.escape(rcpt), re.escape(SENDER), via))
            self.assertEqual(self.sup('s:' + SENDER, rcpt), 'complaint')
            ev = self.last_event()
            self.assertEqual((ev.get('recipient'), ev.get('sender'), ev.get('class'), ev.get('reason'),
                              ev.get('kind')), (rcpt, SENDER, 'complaint', 'complaint', 'arf'), ev)
            # the complaint itself goes on to the FBL mailbox with the headers
            got = self.returned('fbl', to='fbl@bounces.test')
            self.assertEqual(got.header('X-Postmill-Bounce-Recipient'), [rcpt])
            # and the sender's next message to that recipient is refused
            r = self.send(rcpt)
            self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
            self.assertIn('complaint', r.rcpt[0][2])
        # another sender may still write to them (bounce_suppress_scope = sender)
        self.assertEqual(self.send('reader1@isp.test', sender='bob@other.test').rcpt[0][1], 250)
        # a message to two readers: a redacted complaint cannot say which one, so it is recorded
        # with the sender but suppresses nobody
        pair = ['two-a@isp.test', 'two-b@isp.test']
        r = h.send(self.pf.port, SENDER, pair, h.make_message(from_addr=SENDER, to_addr=', '.join(pair)))
        self.assertTrue(r.accepted, r.stage_codes())
        d = h.wait_until(lambda: next((m for m in self.sink_.messages() if m.rcpts == pair), None),
                         timeout=20, what='the message to two readers')
        self.complain(aol_arf(original(d, pair[0]).replace(pair[1], 'redacted@isp.test')))
        self.milter_.wait_log(r'action=record kind=arf class=complaint reason=complaint '
                              r'rcpt=<redacted@isp\.test> .*sender=<%s> .*suppressed=0 unlisted=1 .* via=ref '
                              r'rcpt_by=unlisted' % re.escape(SENDER))
        for rcpt in pair:
            self.assertEqual(self.sup('s:' + SENDER, rcpt), '')
        # a redacted complaint sent to the tag itself maps to the record's recipient as well
        d = self.delivered('reader4@isp.test')
        t = d.mail_from.split('@')[0]
        self.assertTrue(self.inject(t, aol_arf(original(d, 'reader4@isp.test', drop=('x-postmill-ref',)))).accepted)
        self.milter_.wait_log(r'action=record kind=arf class=complaint reason=complaint rcpt=<reader4@isp\.test> '
                              r'.*suppressed=1 .* via=tag rcpt_by=record')
        self.assertEqual(self.sup('s:' + SENDER, 'reader4@isp.test'), 'complaint')

    def test_fbl_tampered_and_foreign(self):
        """A tampered reference maps to nothing (logged, nothing recorded or suppressed, the report
        delivered as it is), as do a report with no evidence and a mail that is no complaint."""
        self.stack(FBL_CONF)
        d = self.delivered('victim@isp.test')
        ref = d.header('X-Postmill-Ref')[0]
        bad = ref[:30] + ('b' if ref[30] == 'a' else 'a') + ref[31:]
        orig = original(d, 'victim@isp.test').replace(ref, bad)
        before = self.redis_srv.cli('XLEN', STREAM)
        # with the genuine tag in the Return-Path too: an edited original is not believed at all
        for report in (aol_arf(orig), aol_arf(original(d, 'victim@isp.test', d.mail_from).replace(ref, bad))):
            self.complain(report)
        self.milter_.wait_log(r'action=ignore kind=arf map=forged why="X-Postmill-Ref signature does not match"',
                              count=2)
        # a report about somebody else's mail, and the provider's confirmation mail
        self.complain(aol_arf('From: x@elsewhere.test\r\nTo: redacted@isp.test\r\nSubject: hi\r\n\r\nhi\r\n'))
        self.milter_.wait_log(r'action=ignore kind=arf map=none why="no reference and no tag of ours')
        self.complain(h.make_message(from_addr='postmaster@isp.test', to_addr='fbl@bounces.test',
                                     subject='Please confirm your feedback loop subscription'))
        self.milter_.wait_log(r'action=deliver kind=\w+ reason=not_a_complaint feedback_type=- '
                              r'rcpt=<fbl@bounces\.test>')
        self.assertEqual(self.sup('s:' + SENDER, 'victim@isp.test'), '')
        self.assertEqual(self.redis_srv.cli('XLEN', STREAM), before)
        self.assertEqual(self.send('victim@isp.test').rcpt[0][1], 250)
        self.assertNotIn('action=record', self.milter_.log())

        # all four reached the FBL mailbox, unchanged
        def arrived():
            got = [m for m in self.sink_.messages() if m.rcpts == ['fbl@bounces.test']]
            return got if len(got) == 4 else None
        for m in h.wait_until(arrived, timeout=20, what='the four reports'):
            self.assertEqual(m.header('X-Postmill-Bounce-Class'), [])

    def test_postmaster_and_fbl_accepted(self):
        """postmaster@ the bounce domain (RFC 5321 4.5.1, any case) and the FBL addresses are
        accepted, from the null sender and from anyone; postmaster mail is delivered and never
        classified; other local parts without a tag are still refused."""
        self.stack(FBL_CONF)
        for sender in ('', 'someone@remote.test'):
            for rcpt in ('postmaster@bounces.test', 'PostMaster@Bounces.TEST', 'fbl@bounces.test',
                         'fbl2@bounces.test', 'FBL@bounces.test'):
                r = h.send(self.pf.port, sender, [rcpt], h.make_message(from_addr='x@remote.test', to_addr=rcpt))
                self.assertTrue(r.accepted, (sender, rcpt, r.stage_codes()))
            r = h.send(self.pf.port, sender, ['abuse@bounces.test'], h.make_message(to_addr='abuse@bounces.test'))
            self.assertEqual(r.rcpt[0][1], 550, r.rcpt)
            self.assertIn('5.7.1', r.rcpt[0][2])
        self.milter_.wait_log(r'action=accept stage=rcpt kind=postmaster rcpt=<PostMaster@Bounces\.TEST>')
        self.milter_.wait_log(r'action=accept stage=rcpt kind=fbl rcpt=<fbl2@bounces\.test>')

        def arrived():
            got = [m for m in self.sink_.messages() if m.rcpts[0].lower() == 'postmaster@bounces.test']
            return got if len(got) == 4 else None
        for m in h.wait_until(arrived, timeout=20, what='the postmaster mail'):
            self.assertEqual(m.header('X-Postmill-Bounce-Class'), [])
        self.assertNotIn('action=record', self.milter_.log())


if __name__ == '__main__':
    import unittest
    unittest.main()
