#!/usr/bin/python3
"""run.py - run postmill's end-to-end tests.

usage: /usr/bin/python3 tests/e2e/run.py [FILTER...]

Discovers tests/e2e/test_*.py, runs every unittest test whose id (module.Class.method) contains
one of the FILTER substrings (all tests without filters), prints one line per test:
    PASS test_harness.KnotTest.test_txt_records_long_and_short (1.2s)
    FAIL test_x.Y.test_z: AssertionError: ...        (followed by the indented traceback)
and finally exactly the line
    e2e: N passed, M failed
(a test that skips itself is listed as SKIP and counted on the "e2e time:" line before it).
Exit status 1 on any failure (or when no test matched), else 0.

Environment: POSTMILL_BUILD (default "build", relative to the repository root) locates the
binaries in $POSTMILL_BUILD/bin; a test needing a binary that does not exist fails.
POSTMILL_E2E_KEEP=1 keeps each test's temp dir; POSTMILL_E2E_POSTFIX_CHECK=1 starts Postfix
through `postfix set-permissions; postfix check; postfix start` (slower).
Must run as root (smtp-sink -u postfix, a private Postfix) with Debian's /usr/bin/python3
(python3-dkim); the script re-executes itself with /usr/bin/python3 when started otherwise.
"""

import os
import signal
import sys
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN_PYTHON = '/usr/bin/python3'


def _ensure_debian_python():
    try:
        import dkim  # noqa: F401  pylint: disable=unused-import
        del dkim
        return
    except ImportError:
        pass
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON) \
            and not os.environ.get('POSTMILL_E2E_REEXEC'):
        os.environ['POSTMILL_E2E_REEXEC'] = '1'
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    sys.stderr.write('run.py: python3-dkim is missing (use /usr/bin/python3; apt-get install python3-dkim)\n')


class LineResult(unittest.TestResult):
    """Prints PASS/FAIL/SKIP per test as it finishes."""

    def __init__(self):
        super().__init__()
        self.passed = 0
        self.failed = 0
        self.skipped_n = 0
        self._t0 = {}

    @staticmethod
    def name(test):
        return test.id()

    def startTest(self, test):
        super().startTest(test)
        self._t0[test.id()] = time.monotonic()

    def _dt(self, test):
        return time.monotonic() - self._t0.get(test.id(), time.monotonic())

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        print('PASS %s (%.1fs)' % (self.name(test), self._dt(test)), flush=True)

    def _fail(self, test, err):
        self.failed += 1
        etype, value, tb = err
        lines = [l.strip() for l in str(value).strip().splitlines() if l.strip()]
        if any(l.startswith('Traceback') for l in lines):
            lines = lines[:1] + lines[-1:]  # e.g. a test module that failed to import
        first = ' | '.join(lines[:3])
        if len(first) > 400:
            first = first[:400] + '...'
        print('FAIL %s: %s: %s' % (self.name(test), etype.__name__, first), flush=True)
        text = ''.join(traceback.format_exception(etype, value, tb))
        for line in text.rstrip().splitlines():
            print('    ' + line)
        sys.stdout.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_n += 1
        print('SKIP %s: %s' % (self.name(test), reason), flush=True)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        print('PASS %s (expected failure)' % self.name(test), flush=True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.failed += 1
        print('FAIL %s: unexpected success' % self.name(test), flush=True)


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


def main(argv):
    filters = []
    for a in argv:
        if a in ('-h', '--help'):
            print(__doc__)
            return 0
        else:
            filters.append(a)

    def on_signal(signum, frame):
        # turn SIGTERM/SIGHUP into an exception so cleanups and atexit stop every process
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    if os.geteuid() != 0:
        print('FAIL e2e: must run as root (smtp-sink -u postfix, private Postfix instances)')
        print('e2e: 0 passed, 1 failed')
        return 1

    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    load_errors = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith('test_') and fn.endswith('.py')):
            continue
        mod = fn[:-3]
        try:
            suite.addTests(loader.loadTestsFromName(mod))
        except Exception:  # noqa: BLE001 - a broken test module is a failure, not a crash
            load_errors.append((mod, traceback.format_exc()))

    tests = [t for t in iter_tests(suite) if not filters or any(f in t.id() for f in filters)]
    result = LineResult()
    for mod, tb in load_errors:
        if filters and not any(f in mod for f in filters):
            continue
        result.failed += 1
        print('FAIL %s: cannot load module' % mod)
        for line in tb.rstrip().splitlines():
            print('    ' + line)
    # unittest.loader reports import errors as _FailedTest cases: they count as failures too
    t0 = time.monotonic()
    try:
        # a TestSuite (not each test alone) so that setUpClass/tearDownClass run
        unittest.TestSuite(tests)(result)
    except KeyboardInterrupt as e:
        result.failed += 1
        print('FAIL e2e: interrupted (%s)' % e)
    finally:
        import harness
        harness.stop_all()
    total = result.passed + result.failed
    if total == 0 and result.skipped_n == 0:
        print('FAIL e2e: no test matched %s' % (' '.join(filters) or '(any)'))
        result.failed += 1
    skipped = ', %d skipped (not counted below)' % result.skipped_n if result.skipped_n else ''
    print('e2e time: %.1fs%s' % (time.monotonic() - t0, skipped))
    print('e2e: %d passed, %d failed' % (result.passed, result.failed), flush=True)
    return 1 if result.failed else 0


if __name__ == '__main__':
    _ensure_debian_python()
    sys.exit(main(sys.argv[1:]))
