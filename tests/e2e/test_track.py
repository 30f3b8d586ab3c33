"""test_track - open and click tracking end to end (bounce_track.h, postmill-unsubscribe).

TrackTest: Postfix "ours" with smtpd_milters = postmill-bounce, then postmill-dkim (the
documented order: Postfix applies the first milter's body replacement before the second sees
the message). Tenant acme.test has "track", plain.test has not; bounce_track_base_url is
https://t.provider.test/t. Three HTML messages of acme.test arrive at the sink: a
multipart/alternative with a quoted-printable HTML part, one with a base64 HTML part, and a
top-level 8bit text/html. Checked: their links are HMAC-signed BASE/c/TOKEN URLs and an open
pixel BASE/o/TOKEN sits before </body>; the text/plain parts, the preamble, the boundaries and
every header of every part are the octets that were sent; the re-encoded parts keep their
Content-Transfer-Encoding, charset and line limits; the DKIM signature verifies (dkimpy).
postmill-unsubscribe (real libmicrohttpd, asked with urllib, redirects not followed): a click
URL answers 302 to the original URL and adds a click entry to the bounce stream (tenant,
recipient, tag id of the message, url); the pixel answers a GIF and adds an open entry; one
character changed, an open token at /c/, a garbage token, a token signed with another secret
and a signed javascript: URL answer 404 without a Location; POST 405; the milter's tokens are
exactly those made in Python from the documented format and key derivation; the same message of plain.test arrives untouched, and so do the tracking tenant's messages that
already carry a DKIM-Signature or are S/MIME multipart/signed. postmill-events, started last,
turns the log and the stream into the message's events: accepted, delivered, four clicked
(with their URLs) and one opened.
"""

import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
import test_bounce as tb  # noqa: E402
import test_events as te  # noqa: E402

STREAM = 'pmbounce:events'
BASE = 'https://t.provider.test/t'

HTML = ('<html><head><meta charset="utf-8"></head><body>\r\n'
        '<p>Caf\u00e9 news: <a href="https://shop.example/a?x=1&amp;y=2">the shop</a>,\r\n'
        '<a class="b" href=\'http://shop.example/b\'>more</a>, '
        '<a href="mailto:help@acme.test">help</a>.</p>\r\n'
        '<map><area shape="rect" coords="0,0,1,1" href="https://shop.example/c"></map>\r\n'
        '</body></html>\r\n')
TEXT = 'Cafe news: https://shop.example/a?x=1&y=2\r\nmore: http://shop.example/b\r\n'
ORIGINALS = ['https://shop.example/a?x=1&y=2', 'http://shop.example/b', 'https://shop.example/c']


def qp(text):
    """Quoted-printable of TEXT (utf-8), as a mail client writes it."""
    import quopri
    raw = text.replace('\r\n', '\n').encode('utf-8')
    return quopri.encodestring(raw).decode().replace('\n', '\r\n')


def b64(text):
    enc = base64.b64encode(text.encode('utf-8')).decode()
    return '\r\n'.join(enc[i:i + 76] for i in range(0, len(enc), 76)) + '\r\n'


def alternative(html_cte, html_body):
    """A multipart/alternative body with a text part and an HTML part in HTML_CTE."""
    return ('This is a multi-part message in MIME format.\r\n'
            '--=_alt_1\r\nContent-Type: text/plain; charset=utf-8\r\n'
            'Content-Transfer-Encoding: 7bit\r\n\r\n' + TEXT +
            '\r\n--=_alt_1\r\nContent-Type: text/html; charset="utf-8"\r\n'
            'Content-Transfer-Encoding: %s\r\n\r\n%s'
            '\r\n--=_alt_1--\r\n' % (html_cte, html_body))


MULTI = [('Content-Type', 'multipart/alternative; boundary="=_alt_1"'), ('MIME-Version', '1.0')]


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode()


def track_token(secret, kind, msg_id, tenant, link, url):
    """A token made here, independently of C (bounce_track.h's format): the key is
    HMAC-SHA256(secret, "postmill-bounce track"), its id the first byte of
    SHA-256("postmill-bounce key id" NUL secret)."""
    kid = hashlib.sha256(b'postmill-bounce key id\0' + secret).digest()[0]
    key = hmac.new(secret, b'postmill-bounce track', hashlib.sha256).digest()
    raw = (bytes([1, kid, ord(kind)]) + msg_id + bytes([len(tenant)]) + tenant.encode()
           + link.to_bytes(2, 'big') + len(url).to_bytes(2, 'big') + url.encode())
    return b64url(raw + hmac.new(key, raw, hashlib.sha256).digest()[:16])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def get(url, method='GET'):
    """(status, headers, body) of URL, redirects not followed."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def html_part(msg):
    """(part, decoded html text) of the first text/html part of an email.message."""
    for part in msg.walk():
        if part.get_content_type() == 'text/html':
            return part, part.get_payload(decode=True).decode(part.get_content_charset() or 'utf-8')
    raise AssertionError('no text/html part')


class TrackTest(h.E2ETestCase):

    def check_tracked(self, d, sent_body, html_cte):
        """The HTML of delivery D is tracked; everything else is what was sent. Returns the
        click URLs and the pixel URL."""
        msg = d.message()
        part, html = html_part(msg)
        self.assertEqual(part.get('Content-Transfer-Encoding', '7bit').strip().lower(), html_cte)
        self.assertEqual(part.get_content_charset(), 'utf-8')
        clicks = re.findall(r'href="(%s/c/[A-Za-z0-9_-]+)"' % re.escape(BASE), html)
        self.assertEqual(len(clicks), 3, html)
        for orig in ORIGINALS:
            self.assertNotIn(orig.replace('&', '&amp;'), html)
        self.assertIn('href="mailto:help@acme.test"', html)
        self.assertIn('Caf\u00e9 news', html)
        m = re.search(r'<img\s+src="(%s/o/[A-Za-z0-9_-]+)"\s+width="1" height="1" alt="">\s*</body>'
                      % re.escape(BASE), html)
        self.assertIsNotNone(m, html)
        # outside the HTML part's body, the octets sent (boundaries, headers, text part)
        got = d.body()
        if 'boundary' in (msg.get('Content-Type') or ''):
            pre_s, rest_s = sent_body.split('Content-Transfer-Encoding: %s\r\n\r\n' % html_cte, 1)
            pre_g, rest_g = got.split(('Content-Transfer-Encoding: %s\r\n\r\n' % html_cte).encode(), 1)
            self.assertEqual(pre_g, pre_s.encode())
            self.assertTrue(rest_g.endswith(b'\r\n--=_alt_1--\r\n'), rest_g[-40:])
            enc = rest_g[:-len(b'\r\n--=_alt_1--\r\n')]
        else:
            enc = got
        if html_cte in ('quoted-printable', 'base64'):
            longest = max(len(l) for l in enc.split(b'\r\n'))
            self.assertLessEqual(longest, 76, enc)
        else:
            self.assertLessEqual(max(len(l) for l in enc.split(b'\r\n')), 998)
        return clicks, m.group(1)

    def test_track(self):
        self.redis_srv = self.redis()
        keys = self.wd.mkdir('dkimkeys', 0o700)
        ed, ed_txt = h.gen_ed25519_key(keys, 'acme')
        os.chown(ed, h.pwd.getpwnam('postmill').pw_uid, -1)
        os.chown(keys, h.pwd.getpwnam('postmill').pw_uid, -1)
        ktab = self.wd.write('key.table', 'acme acme.test:e1:%s\n' % ed)
        stab = self.wd.write('signing.table', '*@acme.test acme\n')
        port = h.free_port()
        local = 'http://127.0.0.1:%d/t' % port
        tpath = self.wd.write('tenants', 'acme.test - track\nplain.test -\n')
        secret_path = tb.secret_file(self.wd, 'bounce.secret')
        sock = tb.write_conf(self, [secret_path], [
            'bounce_tenant_table = ' + tpath,
            'bounce_track_base_url = ' + BASE,
            'bounce_track_memory = 4096',     # the bodies go through the temporary file
            'bounce_track_temp_dir = ' + self.wd.mkdir('tmp', 0o1777),
            'bounce_unsubscribe_listen = 127.0.0.1:%d' % port,
            'dkim_key_table = ' + ktab, 'dkim_signing_table = ' + stab,
            'dkim_socket = unix:' + self.wd.path('dkim.sock'),
            'dkim_pid_file = ' + self.wd.path('dkim.pid')])
        r = subprocess.run([h.binary('postmill-bounce'), '-n', '-c', self.conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertIn('open and click tracking %s for 1 tenant' % BASE, r.stdout.decode(), r.stdout)
        self.milter_ = self.milter([h.binary('postmill-bounce'), '-f', '-c', self.conf],
                                   'unix:' + sock, name='bounce')
        dkim = self.milter([h.binary('postmill-dkim'), '-f', '-c', self.conf],
                           'unix:' + self.wd.path('dkim.sock'), name='dkim')
        http = self.milter([h.binary('postmill-unsubscribe'), '-f', '-c', self.conf],
                           'inet:%d@127.0.0.1' % port, name='unsubscribe')
        sink = self.sink()
        pf = self.postfix(sink, name='ours',
                          smtpd_milters=['unix:' + sock, 'unix:' + self.wd.path('dkim.sock')],
                          main={'relay_domains': 'bounces.test'})
        # a long HTML part: more than bounce_track_memory, so the temporary file is used
        filler = ''.join('<p>paragraph %d of the newsletter, with some words in it.</p>\r\n' % i
                         for i in range(200))
        big = HTML.replace('<map>', filler + '<map>')
        cases = [
            ('qp@remote.test', 'quoted-printable', alternative('quoted-printable', qp(big)), MULTI),
            ('b64@remote.test', 'base64', alternative('base64', b64(HTML)), MULTI),
            ('html@remote.test', '8bit', HTML,
             [('Content-Type', 'text/html; charset=utf-8'), ('Content-Transfer-Encoding', '8bit'),
              ('MIME-Version', '1.0')]),
        ]
        seen = set()
        urls = {}
        for rcpt, cte, body, hdrs in cases:
            msg = h.make_message(from_addr='news@acme.test', to_addr=rcpt, body=body, headers=hdrs)
            r = h.send(pf.port, 'news@acme.test', [rcpt], msg)
            self.assertTrue(r.accepted, r.stage_codes())
            d = h.wait_until(lambda: next((x for x in sink.messages() if x.rcpts == [rcpt]
                                           and x.path not in seen), None),
                             timeout=60, what='the message to ' + rcpt,
                             on_timeout=lambda: h.tail(self.milter_.log()))
            seen.add(d.path)
            self.assertTrue(d.mail_from.startswith('b-'), d.mail_from)
            sys.stderr.write('\n--- %s as delivered (first 1500 octets)\n%s\n'
                             % (cte, d.raw[:1500].decode('utf-8', 'replace')))
            urls[rcpt] = self.check_tracked(d, body, cte)
            got = h.verify_dkimpy(d.raw, {('e1', 'acme.test'): ed_txt})
            self.assertEqual([x.result for x in got], ['pass'], got)
        self.milter_.wait_log(r'action=tag sender=<news@acme\.test> .*tenant=acme\.test .*'
                              r'track=rewritten links=3 skipped=0 pixel=yes', count=3)

        # a tenant without "track": untouched
        body = alternative('quoted-printable', qp(HTML))
        msg = h.make_message(from_addr='a@plain.test', to_addr='plain@remote.test', body=body,
                             headers=MULTI)
        self.assertTrue(h.send(pf.port, 'a@plain.test', ['plain@remote.test'], msg).accepted)
        d = h.wait_until(lambda: next((x for x in sink.messages() if x.rcpts == ['plain@remote.test']),
                                      None), timeout=60, what='the plain.test message')
        self.assertEqual(d.body(), body.encode())
        self.milter_.wait_log(r'action=tag sender=<a@plain\.test> .*track=-')
        # the tracking tenant's own signed mail: a DKIM-Signature (the body is signed) and an
        # S/MIME multipart/signed message arrive untouched
        signed_body = ('--s\r\nContent-Type: text/html\r\n\r\n<a href="https://shop.example/s">s</a>\r\n'
                       '--s\r\nContent-Type: application/pkcs7-signature\r\n\r\nMIAG\r\n--s--\r\n')
        for rcpt, body, hdrs, why in [
                ('presigned@remote.test', alternative('quoted-printable', qp(HTML)),
                 MULTI + [('DKIM-Signature', 'v=1; a=rsa-sha256; d=acme.test; s=x; bh=x; b=x')], 'signed'),
                ('smime@remote.test', signed_body,
                 [('Content-Type', 'multipart/signed; protocol="application/pkcs7-signature"; '
                   'micalg=sha-256; boundary="s"'), ('MIME-Version', '1.0')], 'no_html')]:
            msg = h.make_message(from_addr='news@acme.test', to_addr=rcpt, body=body, headers=hdrs)
            self.assertTrue(h.send(pf.port, 'news@acme.test', [rcpt], msg).accepted)
            d = h.wait_until(lambda: next((x for x in sink.messages() if x.rcpts == [rcpt]), None),
                             timeout=60, what='the message to ' + rcpt)
            self.assertEqual(d.body(), body.encode(), rcpt)
            self.milter_.wait_log(r'action=tag sender=<news@acme\.test> .*track=%s' % why)

        # the endpoint: a click redirects to the original and records one event
        clicks, pixel = urls['qp@remote.test']
        for i, c in enumerate(clicks):
            st, hd, _ = get(c.replace(BASE, local))
            self.assertEqual((st, hd.get('Location')), (302, ORIGINALS[i]), c)
        ev = self.redis_srv.cli('--no-raw', 'XRANGE', STREAM, '-', '+')
        sys.stderr.write('\n--- bounce stream\n%s\n' % ev)
        self.assertEqual(ev.count('"click"'), 3, ev)
        for orig in ORIGINALS:
            self.assertIn('"%s"' % orig, ev)
        self.assertIn('"qp@remote.test"', ev)
        self.assertIn('"acme.test"', ev)
        m = re.search(r'"message_id"\s+\d+\)\s+"([0-9a-f]{20})"', ev)
        self.assertIsNotNone(m, ev)
        tag_id = m.group(1)
        self.milter_.wait_log(r'action=tag sender=<news@acme\.test> id=%s ' % tag_id)
        # again: a second click of link 0 is not the first
        st, hd, _ = get(clicks[0].replace(BASE, local))
        self.assertEqual(st, 302)
        http.wait_log(r'track: action=click tenant=acme\.test id=%s url=https://shop\.example/a\?x=1&y=2 '
                      r'first=no' % tag_id)
        # HEAD: the same answer, no event
        st, hd, _ = get(clicks[1].replace(BASE, local), method='HEAD')
        self.assertEqual((st, hd.get('Location')), (302, ORIGINALS[1]))
        # the pixel
        st, hd, gif = get(pixel.replace(BASE, local))
        self.assertEqual((st, hd.get('Content-Type')), (200, 'image/gif'))
        self.assertTrue(gif.startswith(b'GIF89a'), gif)
        self.assertIn('no-store', hd.get('Cache-Control'))
        ev = self.redis_srv.cli('--no-raw', 'XRANGE', STREAM, '-', '+')
        self.assertEqual(ev.count('"click"'), 4, ev)
        self.assertEqual(ev.count('"open"'), 1, ev)

        # the milter's tokens are exactly the ones made here (format, key derivation)
        secret = open(secret_path, 'rb').read().rstrip(b'\n')
        mid = bytes.fromhex(tag_id)
        for i, c in enumerate(clicks):
            self.assertEqual(c, '%s/c/%s' % (BASE, track_token(secret, 'c', mid, 'acme.test', i, ORIGINALS[i])))
        self.assertEqual(pixel, '%s/o/%s' % (BASE, track_token(secret, 'o', mid, 'acme.test', 0, '')))
        # signed with another secret, and a URL of our choosing signed right: only the latter goes
        evil = track_token(b'another-secret-0123456789abcdef', 'c', mid, 'acme.test', 0,
                           'https://evil.example/')
        st, hd, _ = get('%s/c/%s' % (local, evil))
        self.assertEqual((st, hd.get('Location')), (404, None))
        ok = track_token(secret, 'c', mid, 'acme.test', 9, 'https://made.example/here')
        st, hd, _ = get('%s/c/%s' % (local, ok))
        self.assertEqual((st, hd.get('Location')), (302, 'https://made.example/here'))
        # not http(s), even when signed: never followed
        js = track_token(secret, 'c', mid, 'acme.test', 0, 'javascript:alert(1)')
        st, hd, _ = get('%s/c/%s' % (local, js))
        self.assertEqual((st, hd.get('Location')), (404, None))

        # forged and tampered: 404, no Location, no event
        tok = clicks[0].rsplit('/', 1)[1]
        for i in (3, len(tok) // 2, len(tok) - 2):
            bad = tok[:i] + ('A' if tok[i] != 'A' else 'B') + tok[i + 1:]
            st, hd, _ = get('%s/c/%s' % (local, bad))
            self.assertEqual((st, hd.get('Location')), (404, None), bad)
        otok = pixel.rsplit('/', 1)[1]
        st, hd, _ = get('%s/c/%s' % (local, otok))
        self.assertEqual((st, hd.get('Location')), (404, None))
        st, hd, _ = get('%s/c/%s' % (local, 'aHR0cHM6Ly9ldmlsLmV4YW1wbGUv'))
        self.assertEqual((st, hd.get('Location')), (404, None))
        st, _, _ = get(clicks[0].replace(BASE, local), method='POST')
        self.assertEqual(st, 405)
        ev = self.redis_srv.cli('--no-raw', 'XRANGE', STREAM, '-', '+')
        self.assertEqual(ev.count('"click"'), 5, ev)     # 4 of the mail, 1 made here
        http.wait_log(r'track: action=refuse method=GET status=404 why="bad signature"')

        # postmill-events: the message's sequence, clicks and the open included
        te.EventsTest.start_events_on(self, pf)

        def mine(evs):
            return [e for e in evs if e.get('recipient') == 'qp@remote.test']
        evs = te.EventsTest.wait_events(
            self, lambda evs: [e['type'] for e in mine(evs)].count('clicked') == 5
            and 'opened' in [e['type'] for e in mine(evs)]
            and 'delivered' in [e['type'] for e in mine(evs)], 'clicked and opened events')
        seq = mine(evs)
        print('\nevent sequence of one tracked message (postmill-events):', file=sys.stderr)
        for e in seq:
            print('  %-10s %s tenant=%s tag_id=%s%s' % (e['type'], e['recipient'], e.get('tenant', ''),
                                                       e.get('tag_id', e.get('message_id', '')),
                                                       ' url=' + e['url'] if e.get('url') else ''),
                  file=sys.stderr)
        # (postmill-events reads the log and the bounce stream in turns: no order between them)
        self.assertEqual(sorted(e['type'] for e in seq),
                         ['accepted'] + ['clicked'] * 5 + ['delivered', 'opened'])
        clicked = [e for e in seq if e['type'] == 'clicked']
        self.assertEqual(sorted(e['url'] for e in clicked),
                         sorted(ORIGINALS + [ORIGINALS[0], 'https://made.example/here']))
        self.assertTrue(all(e['tenant'] == 'acme.test' for e in seq), seq)
        # (postmill-events is stopped by the harness: its exit under ASan is its own test's matter)
        for m_ in (self.milter_, dkim, http):
            m_.stop()
            self.assertEqual(m_.returncode, 0, '%s exit status; log:\n%s' % (m_.name, h.tail(m_.logfile)))
            self.assertNotRegex(m_.log(), r'(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)',
                                m_.name)
