"""test_deb - the Debian package: "make deb" from this tree, its contents, lintian, and one
install and removal with dpkg on this machine.

"make deb" (scripts/build-deb) exports the working tree to build/deb/work/, copies
packaging/debian/ to debian/ there and runs dpkg-buildpackage -b -j2 (debian/rules skips the test
suites), so it compiles everything once more: 50 s of CPU, 50-80 s on this shared 2-core machine,
and it installs a package on the machine. So it runs only with POSTMILL_TEST_DEB=1 (make deb
installs what it needs, packaging/debian/PACKAGES, through scripts/setup-deps deb):
    POSTMILL_TEST_DEB=1 /usr/bin/python3 tests/e2e/run.py test_deb
The class builds once (setUpClass) and every test looks at that
build/deb/postmill_<version>_<arch>.deb.

  - the source tree is left as it was: no debian/ at its root, "git status" unchanged;
  - the package holds the four daemons, postmillctl, their man pages, the four units, the
    tmpfiles.d entry and the example configuration, which is its only conffile (no live
    postmill.conf is shipped); Depends comes from dh_shlibdeps and names adduser;
  - lintian reports no error (warnings and infos are listed with POSTMILL_E2E_VERBOSE=1);
  - dpkg -i installs it (the postinst makes the postmill system user, /run/postmill through
    tmpfiles.d, and enables no unit), /usr/sbin/postmill-dkim -V prints the version, and
    dpkg -r then dpkg -P take every file away again.  Skipped if a postmill package is
    installed already: this test does not replace an operator's package.
"""

import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402

ROOT = h.REPO_ROOT
PROGRAMS = ['postmill-auth', 'postmill-bounce', 'postmill-dkim', 'postmill-limit', 'postmill-suite', 'postmillctl']
MILTERS = ['auth', 'bounce', 'dkim', 'limit', 'suite']


def note(text):
    if os.environ.get('POSTMILL_E2E_VERBOSE'):
        sys.stderr.write('    %s\n' % text)


def run(argv, **kw):
    """(returncode, stdout+stderr as text)"""
    p = subprocess.run(argv, cwd=kw.pop('cwd', ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       check=False, **kw)
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def clean_env():
    """The environment without the outer make's job server and flags ("make check" runs us)."""
    env = dict(os.environ)
    for k in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'CFLAGS', 'LDFLAGS', 'CPPFLAGS'):
        env.pop(k, None)
    return env


def dpkg(args, timeout=120):
    """dpkg ARGS, waiting while another dpkg/apt holds the lock (engineers share this machine)."""
    deadline = time.monotonic() + timeout
    while True:
        rc, out = run(['dpkg'] + args)
        if rc == 0 or 'lock' not in out or time.monotonic() > deadline:
            return rc, out
        time.sleep(2)


def makefile_version():
    with open(os.path.join(ROOT, 'Makefile')) as f:
        return re.search(r'^VERSION\s*:=\s*(\S+)', f.read(), re.M).group(1)


@unittest.skipUnless(os.environ.get('POSTMILL_TEST_DEB') == '1',
                     'builds the package for 80 s and installs it: set POSTMILL_TEST_DEB=1')
class DebTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.git_before = run(['git', 'status', '--porcelain'])[1]
        arch = run(['dpkg', '--print-architecture'])[1].strip()
        cls.deb = os.path.join(ROOT, 'build', 'deb', 'postmill_%s_%s.deb' % (makefile_version(), arch))
        t0 = time.monotonic()
        rc, out = run(['make', 'deb'], env=clean_env())
        note('make deb: %.1f s' % (time.monotonic() - t0))
        if rc != 0:
            raise AssertionError('make deb failed (%d):\n%s' % (rc, out[-4000:]))
        cls.contents = run(['dpkg-deb', '-c', cls.deb])[1]
        cls.paths = set(line.split()[-1].lstrip('.') for line in cls.contents.splitlines() if line.strip())

    def field(self, name):
        rc, out = run(['dpkg-deb', '-f', self.deb, name])
        self.assertEqual(rc, 0, out)
        return out.strip()

    def test_source_tree_untouched(self):
        self.assertFalse(os.path.exists(os.path.join(ROOT, 'debian')), 'debian/ left at the root')
        self.assertEqual(run(['git', 'status', '--porcelain'])[1], self.git_before)

    def test_contents(self):
        want = ['/usr/sbin/%s' % p for p in PROGRAMS]
        want += ['/usr/share/man/man8/%s.8.gz' % p for p in PROGRAMS]
        want += ['/lib/systemd/system/postmill-%s.service' % m for m in MILTERS]
        want += ['/lib/systemd/system/postmill-dkim-rotate.service',
                 '/lib/systemd/system/postmill-dkim-rotate.timer']
        want += ['/etc/postmill/postmill.conf.example', '/usr/lib/tmpfiles.d/postmill.conf',
                 '/usr/share/doc/postmill/copyright']
        missing = [p for p in want if p not in self.paths]
        self.assertEqual(missing, [], 'missing from the package; got:\n' + self.contents)
        self.assertNotIn('/etc/postmill/postmill.conf', self.paths, 'a live configuration is shipped')
        # the units point at the installed paths, not at the Makefile's @SBINDIR@ placeholders
        rc, unit = run(['sh', '-c', 'dpkg-deb --fsys-tarfile "$0" | tar -xOf - ./lib/systemd/system/postmill-dkim.service',
                        self.deb])
        self.assertEqual(rc, 0, unit)
        self.assertIn('ExecStart=/usr/sbin/postmill-dkim -c /etc/postmill/postmill.conf', unit)
        self.assertNotIn('@', unit)
        self.assertIn('LimitNOFILE=65536', unit)
        self.assertIn('TasksMax=512', unit)
        rc, unit = run(['sh', '-c', 'dpkg-deb --fsys-tarfile "$0" | tar -xOf - ./lib/systemd/system/postmill-dkim-rotate.service',
                        self.deb])
        self.assertEqual(rc, 0, unit)
        self.assertIn('ExecStart=/usr/sbin/postmillctl -c /etc/postmill/postmill.conf dkim rotate --continue $DOMAINS', unit)
        self.assertNotRegex(unit, r'@[A-Z]+@')   # (SystemCallFilter=@system-service is no placeholder)

    def test_control(self):
        self.assertEqual(self.field('Package'), 'postmill')
        self.assertEqual(self.field('Version'), makefile_version())
        depends = self.field('Depends')
        for lib in ('adduser', 'libc6', 'libssl3', 'libopendkim11', 'libhiredis', 'libidn2', 'libjson-c'):
            self.assertIn(lib, depends)
        with_tmp = h.Workdir(prefix='pm-debctl-')
        self.addCleanup(with_tmp.cleanup)
        ctl = with_tmp.path('DEBIAN')
        rc, out = run(['dpkg-deb', '-e', self.deb, ctl])
        self.assertEqual(rc, 0, out)
        with open(os.path.join(ctl, 'conffiles')) as f:
            self.assertEqual(f.read().split(), ['/etc/postmill/postmill.conf.example'])
        with open(os.path.join(ctl, 'postinst')) as f:
            postinst = f.read()
        self.assertRegex(postinst, r'adduser --system --group [^\n]*\\\n[^\n]* postmill\n')
        self.assertIn('systemd-tmpfiles', postinst)
        # --no-enable: the postinst only re-creates the links of units the operator enabled
        # (debhelper's "debian-installed" snippet) instead of enabling every unit on install
        for m in MILTERS:
            self.assertIn("deb-systemd-helper debian-installed 'postmill-%s.service'" % m, postinst)

    def test_lintian(self):
        if run(['sh', '-c', 'command -v lintian'])[0] != 0:
            self.fail('lintian is not installed ("make deb" installs packaging/debian/PACKAGES)')
        rc, out = run(['lintian', '--tag-display-limit', '0', '-I', self.deb])
        tags = [line for line in out.splitlines() if re.match(r'[EWIXOP]: ', line)]
        for t in tags:
            note(t)
        errors = [t for t in tags if t.startswith('E: ')]
        self.assertEqual(errors, [], 'lintian errors:\n' + out)

    def test_install_and_remove(self):
        rc, out = run(['dpkg-query', '-W', '-f=${Status}', 'postmill'])
        if rc == 0 and 'installed' in out and 'not-installed' not in out and 'config-files' not in out:
            self.skipTest('a postmill package is installed on this machine already (%s)' % out)
        self.addCleanup(dpkg, ['-P', 'postmill'])
        rc, out = dpkg(['-i', self.deb])
        self.assertEqual(rc, 0, out)
        for p in PROGRAMS:
            self.assertTrue(os.access('/usr/sbin/' + p, os.X_OK), p)
        rc, out = run(['/usr/sbin/postmill-dkim', '-V'])
        self.assertEqual(rc, 0, out)
        self.assertIn(makefile_version(), out)
        rc, out = run(['getent', 'passwd', 'postmill'])
        self.assertEqual(rc, 0, 'no postmill user after the postinst')
        self.assertIn(':/nonexistent:', out)
        if os.path.exists('/usr/bin/systemd-tmpfiles'):
            self.assertTrue(os.path.isdir('/run/postmill'), '/run/postmill not made by tmpfiles.d')
        self.assertTrue(os.path.isfile('/etc/postmill/postmill.conf.example'))
        self.assertFalse(os.path.exists('/etc/systemd/system/multi-user.target.wants/postmill-dkim.service'),
                         'the install enabled a unit')
        rc, out = dpkg(['-r', 'postmill'])
        self.assertEqual(rc, 0, out)
        left = [p for p in self.paths if p.startswith(('/usr/sbin/', '/lib/systemd/system/', '/usr/share/man/'))
                and not p.endswith('/') and os.path.exists(p)]
        self.assertEqual(left, [], 'files left after dpkg -r')
        self.assertTrue(os.path.isfile('/etc/postmill/postmill.conf.example'), 'dpkg -r keeps conffiles')
        rc, out = dpkg(['-P', 'postmill'])
        self.assertEqual(rc, 0, out)
        self.assertFalse(os.path.exists('/etc/postmill/postmill.conf.example'), 'dpkg -P leaves the conffile')


if __name__ == '__main__':
    unittest.main()
