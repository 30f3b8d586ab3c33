"""-n of the tools (postmill-exporter, postmill-unsubscribe, postmill-events): the checks
the milters' -n makes, where they apply: run_user exists and is not root, run_group exists,
the listen address can be bound, stats_dir takes the stats socket (or, for the exporter,
run_user can read it), and, run as root, run_user can read the secrets, as it will after the
drop. Each refusal names CONF:LINE of the parameter, as the milters' do."""
import os
import re
import unittest

import harness as h


class ToolsCheckTest(unittest.TestCase):
    def setUp(self):
        self.wd = h.Workdir(prefix='pm-toolcheck-')
        self.addCleanup(self.wd.cleanup)
        pm = h.pwd.getpwnam('postmill')
        self.stats = self.wd.mkdir('stats', 0o750, owner='postmill')
        secret = self.wd.write('bounce.secret', 'k1 ' + 'ab' * 32 + '\n', mode=0o600)
        os.chown(secret, pm.pw_uid, -1)
        self.secret = secret
        logdir = self.wd.mkdir('log', 0o755)
        self.common = ['run_user = postmill', 'stats_dir = ' + self.stats,
                       'redis_server = 127.0.0.1:%d' % h.free_port()]
        self.tools = {
            'postmill-exporter': ['exporter_listen = 127.0.0.1:%d' % h.free_port()],
            'postmill-unsubscribe': [
                'bounce_domain = bounces.example.test',
                'bounce_secret_files = ' + secret,
                'bounce_unsubscribe_url = https://unsub.example.test/u/',
                'bounce_unsubscribe_listen = 127.0.0.1:%d' % h.free_port()],
            'postmill-events': ['events_maillog = ' + os.path.join(logdir, 'mail.log')],
        }

    def check(self, prog, lines, name='t.conf'):
        conf = self.wd.write(name, '\n'.join(lines) + '\n')
        p = h.subprocess.run([h.binary(prog), '-n', '-c', conf], capture_output=True, text=True,
                             timeout=120)
        return conf, p

    def refuses(self, prog, param, value, want):
        """-n exits 1 naming CONF:2: PARAM = VALUE: ...WANT (line 2: where PARAM is set)."""
        lines = [l for l in self.common + self.tools[prog] if not l.startswith(param + ' =')]
        lines.insert(1, '%s = %s' % (param, value))
        conf, p = self.check(prog, lines, name='%s-%s.conf' % (prog, param))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r'(?m)^%s:2: %s = %s: .*%s' % (re.escape(conf), param,
                                                                   re.escape(value), want))
        return p.stderr

    def test_accepted(self):
        for prog, lines in self.tools.items():
            conf, p = self.check(prog, self.common + lines, name=prog + '.conf')
            self.assertEqual(p.returncode, 0, prog + ': ' + p.stdout + p.stderr)
            self.assertIn('OK', p.stdout)

    def test_accounts(self):
        for prog in ('postmill-exporter', 'postmill-unsubscribe'):
            self.refuses(prog, 'run_user', 'no-such-user-pm', 'no such user')
            self.refuses(prog, 'run_user', 'root', 'running as root is refused')
            self.refuses(prog, 'run_group', 'no-such-group-pm', 'no such group')

    def test_listen(self):
        # TEST-NET-1 (RFC 5737) is on no interface of this host
        self.refuses('postmill-exporter', 'exporter_listen', '192.0.2.1:9597',
                     'cannot bind: Cannot assign requested address')
        self.refuses('postmill-unsubscribe', 'bounce_unsubscribe_listen', '192.0.2.1:8080',
                     'cannot bind: Cannot assign requested address')

    def test_stats_dir(self):
        nodir = self.wd.path('nodir', 'stats')
        self.refuses('postmill-unsubscribe', 'stats_dir', nodir, 'No such file or directory')
        self.refuses('postmill-events', 'stats_dir', nodir, 'No such file or directory')
        # the exporter reads it as run_user: a root-only directory is refused
        closed = self.wd.mkdir('closed', 0o700)
        conf, p = self.check('postmill-exporter', [l for l in self.common if not l.startswith(
            'stats_dir')] + ['stats_dir = ' + closed] + self.tools['postmill-exporter'])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r'as run_user postmill: .*stats_dir = %s: Permission denied'
                         % re.escape(closed))

    def test_secret_as_run_user(self):
        # root can read it, run_user cannot: the -n check loads it as run_user
        os.chown(self.secret, 0, -1)
        conf, p = self.check('postmill-unsubscribe', self.common + self.tools['postmill-unsubscribe'])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stderr, r'as run_user postmill: .*bounce\.secret.*Permission denied')

    def test_maillog(self):
        self.refuses('postmill-events', 'events_maillog', self.wd.path('nolog', 'mail.log'),
                     'directory .*nolog: No such file or directory')


if __name__ == '__main__':
    unittest.main()
