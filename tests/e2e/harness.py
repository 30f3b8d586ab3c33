"""harness - end-to-end test harness for postmill (Debian's /usr/bin/python3, stdlib + python3-dkim).

Everything runs on loopback only (127.0.0.1 / ::1), on free high ports picked at run time, in a
fresh temporary directory per test, and every process started here is stopped by its pid: on
stop(), on test cleanup, and from an atexit hook for whatever is still running when the
interpreter exits.  Nothing here talks to the system resolver: Postfix runs with
smtp_dns_support_level=disabled, smtpd_peername_lookup=no and numeric next hops, the DKIM
verifiers get their keys from a dict, and DNS fixtures come from a private knotd.

Pieces (see each class):
    Workdir        temp root (0755 so that the postfix user can traverse it)
    Sink           smtp-sink capturing each delivery into its own file
    Postfix        a private Postfix instance (several can run at once)
    send()         one SMTP session with optional XCLIENT / AUTH, every reply recorded
    MilterProcess  a milter binary under test (postmill-*), stopped by pid
    Knot           knotd serving zone fixtures; dns_query() asks it without any resolver
    Redis          redis-server on a private port / unix socket
    verify_dkimpy(), verify_mail_dkim()   DKIM verification with keys from a dict
    MacroMilter    a tiny milter (Python thread) that accepts everything and records
                   the macros Postfix sends; used to check what Postfix passes to milters
    Sendmail       a private Sendmail 8.17 (Debian's, unpacked by scripts/fetch-sendmail,
                   never installed: it conflicts with postfix) in a private mount namespace,
                   with the shipped conf/sendmail/postmill.m4; Syslog receives its log

Findings (Debian 12, Postfix 3.7.11), measured by test_harness.py:

* XCLIENT LOGIN=name (measured by test_harness.XclientLoginTest):
  - From an authorized XCLIENT host Postfix always takes the LOGIN attribute and passes
    {auth_type}=XCLIENT and {auth_authen}=name to milters in the MAIL phase, even with
    smtpd_sasl_auth_enable = no.
  - Postfix itself treats the session as SASL-authenticated only with smtpd_sasl_auth_enable =
    yes: then permit_sasl_authenticated matches (an external ADDR may relay), its Received
    header says "with ESMTPA", and the log says "sasl_method=XCLIENT, sasl_username=name".
    Without it, an external client with LOGIN is still refused relaying.
  So tests simulate an authenticated submission client with Postfix(sasl=True) and
      send(port, ..., xclient={'ADDR': '198.51.100.7', 'LOGIN': 'alice'})
  Postfix(sasl=True) only turns Cyrus SASL on (cyrus_sasl_config_path in the Workdir, no
  password database); real AUTH via send(auth=(user, password)) would need a sasldb and is not
  set up (Debian's Postfix also did not read the smtpd.conf there: EHLO lists every installed
  mechanism).

* smtp-sink's dump files (-d) hold text lines ending in LF: it strips every CR (also a bare CR
  inside a line), undoes dot-stuffing, prepends its own X-Client-Addr / X-Client-Proto /
  X-Helo-Args / X-Mail-Args / X-Rcpt-Args records and a 3-line Received header, and appends one
  empty line.  Sink.messages() removes all of that and turns LF back into CRLF, so
  Delivery.raw is the message exactly as Postfix sent it on the wire (minus the final
  ".\\r\\n"), except that a bare CR inside a line cannot be recovered.  smtp-sink cannot reply
  per recipient; it can reject whole commands (RCPT, DATA, ".") with a 4xx or 5xx reply of
  your choosing: Sink(soft_reject=['RCPT']), Sink(hard_reject=['.'], hard_reply='554 5.7.1 no').
  smtp-sink keeps lines of any length intact.  Postfix's smtp client, however, breaks lines
  longer than smtp_line_length_limit (default 998) by inserting CRLF SPACE, which breaks DKIM
  body hashes; Postfix(main={'smtp_line_length_limit': 0}) relays them unchanged.

* Private Postfix pitfalls handled by class Postfix:
  - maillog_file must lie under maillog_file_prefixes (default /var, /dev/stdout), or every
    Postfix command dies with a fatal error that goes nowhere (syslog).
  - Postfix's load_file() re-reads main.cf while its mtime is within about a second of now
    (sleeping 300 ms per try), so every command stalls ~2 s on a fresh main.cf: the harness
    backdates main.cf/master.cf.
  - The master logs its fatal startup errors only to syslog (there is none); postfix(1) prints
    them when stderr is a terminal, so the harness runs Postfix commands on a pty and, when the
    master fails, `postfix check` for the reason.
  - `postfix start` forks ~200 helper processes (2-7 s here); start() runs `master -w` on a
    queue it created itself (0.2-0.4 s).  full_check=True takes the official path.
  - unix socket paths are limited to 107 bytes: keep Workdir roots short.

* Sendmail (Debian 12, 8.17.1.9-2+deb12u2; class Sendmail has the whole recipe):
  - scripts/fetch-sendmail downloads sendmail-bin, -base, -cf, m4, libwrap0 and sasl2-bin once
    into /var/cache/postmill-test/sendmail ($POSTMILL_SENDMAIL_CACHE) and unpacks them; the
    private sendmail loses its setgid bit (a setgid binary run by root ignores LD_LIBRARY_PATH,
    which finds the unpacked libwrap0).  Starting takes ~60 ms once unpacked.
  - It runs as root in `unshare -m --propagation private` with bind mounts over /etc/hosts
    (its own name, else a 60 s "unqualified host name" sleep), /etc/nsswitch.conf, an empty
    /etc/resolv.conf, a private /dev whose /dev/log is a Syslog receiver (Sendmail logs only to
    syslog), and for AUTH a copy of the Cyrus SASL plugin directory with Sendmail.conf
    (auxprop, a sasldb written by saslpasswd2).  The shell execs sendmail -bD: its pid is the
    daemon's; stop() also ends the session and delivery children it leaves.
  - No XCLIENT: clients are told apart by source address (send(..., source='127.0.0.2')).
  - Queue ids are mixed case (6B6JJiqw010322) and in the DATA reply ("2.0.0 ID Message
    accepted for delivery"): send() sets queue_id from either MTA's reply.
  - A 7-bit body sent with BODY=8BITMIME leaves as BODY=7BIT (Sendmail's own decision).
"""

import atexit
import base64
import email.parser
import email.policy
import grp
import json
import os
import pwd
import random
import re
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

SMTP_SINK = '/usr/sbin/smtp-sink'
POSTFIX = '/usr/sbin/postfix'
MASTER = '/usr/lib/postfix/sbin/master'
POSTQUEUE = '/usr/sbin/postqueue'
POSTSUPER = '/usr/sbin/postsuper'
SENDMAIL = '/usr/sbin/sendmail'
KNOTD = '/usr/sbin/knotd'
KNOTC = '/usr/sbin/knotc'
REDIS_SERVER = '/usr/bin/redis-server'
REDIS_CLI = '/usr/bin/redis-cli'
OPENSSL = '/usr/bin/openssl'
PERL = '/usr/bin/perl'
VERIFY_MAIL_DKIM_PL = os.path.join(HERE, 'verify_mail_dkim.pl')

DEFAULT_TIMEOUT = 15.0


class HarnessError(Exception):
    """Something the harness itself could not do (a server failed to start, a wait timed out)."""


# ---------------------------------------------------------------------------------------------
# small utilities

def build_dir():
    """$POSTMILL_BUILD (default "build"), made absolute against the repository root."""
    b = os.environ.get('POSTMILL_BUILD', 'build')
    return b if os.path.isabs(b) else os.path.join(REPO_ROOT, b)


def binary(name):
    """Path of $POSTMILL_BUILD/bin/NAME; raises AssertionError (a test failure, not a skip) if absent."""
    p = os.path.join(build_dir(), 'bin', name)
    if not os.access(p, os.X_OK):
        raise AssertionError('binary %s not built (POSTMILL_BUILD=%s)' % (p, build_dir()))
    return p


def tail(path_or_text, lines=30):
    """Last LINES lines of a file (or of a string), for error messages."""
    if path_or_text is None:
        return ''
    if isinstance(path_or_text, str) and os.path.exists(path_or_text):
        try:
            with open(path_or_text, 'rb') as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 65536))
                text = f.read().decode('utf-8', 'replace')
        except OSError as e:
            return '(cannot read %s: %s)' % (path_or_text, e)
    else:
        text = path_or_text if isinstance(path_or_text, str) else path_or_text.decode('utf-8', 'replace')
    return '\n'.join(text.splitlines()[-lines:])


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what='condition', interval=0.02, on_timeout=None):
    """Poll PREDICATE until it returns a true value (returned); HarnessError after TIMEOUT seconds.

    ON_TIMEOUT, if given, is called for extra text to put into the error (e.g. a log tail)."""
    deadline = time.monotonic() + timeout
    delay = min(interval, 0.005)
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            extra = ''
            if on_timeout is not None:
                try:
                    extra = '\n' + on_timeout()
                except Exception as e:  # noqa: BLE001 - diagnostics only
                    extra = '\n(diagnostics failed: %s)' % e
            raise HarnessError('timed out after %.1fs waiting for %s%s' % (timeout, what, extra))
        time.sleep(delay)
        delay = min(delay * 2, interval, 0.25)


def _port_free(port, family, host):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_handed_out_ports = set()
_port_lock = threading.Lock()


def _port_range():
    """20000 up to the start of the kernel's ephemeral range (so that outgoing connections do
    not take a port between free_port() and the server's bind)."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return (20000, low - 1) if low > 21000 else (low + 1, 65000)


def free_port(host='127.0.0.1', ipv6=False, udp=False):
    """A free TCP port on HOST, below the ephemeral range; with ipv6=True also free on ::1; with
    udp=True also free for UDP (for DNS).  Ports are never handed out twice by one process."""
    lo, hi = _port_range()
    with _port_lock:
        for _ in range(500):
            port = random.randint(lo, hi)
            if port in _handed_out_ports:
                continue
            if not _port_free(port, socket.AF_INET, host):
                continue
            if ipv6 and not _port_free(port, socket.AF_INET6, '::1'):
                continue
            if udp:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    u.bind((host, port))
                except OSError:
                    continue
                finally:
                    u.close()
            _handed_out_ports.add(port)
            return port
    raise HarnessError('no free port found')


def port_open(port, host='127.0.0.1', timeout=0.5):
    """True if a TCP connect to HOST:PORT succeeds."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def unix_socket_open(path, timeout=0.5):
    """True if a connect to the unix socket PATH succeeds."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def parse_socket_spec(spec):
    """'unix:/path' | 'local:/path' | 'inet:PORT@HOST' | 'inet:HOST:PORT' | 'inet6:PORT@HOST'
    -> ('unix', path) or ('inet', host, port)."""
    kind, _, rest = spec.partition(':')
    if kind in ('unix', 'local'):
        return ('unix', rest)
    if kind in ('inet', 'inet6'):
        if '@' in rest:
            port, _, host = rest.partition('@')
        else:
            host, _, port = rest.rpartition(':')
        host = host.strip('[]') or ('::1' if kind == 'inet6' else '127.0.0.1')
        return ('inet', host, int(port))
    raise ValueError('bad socket spec %r' % spec)


def socket_ready(spec):
    """True if the milter-style socket SPEC accepts connections."""
    p = parse_socket_spec(spec)
    if p[0] == 'unix':
        return unix_socket_open(p[1])
    return port_open(p[2], p[1])


# ---------------------------------------------------------------------------------------------
# process bookkeeping: everything started is stopped at exit

_live = []
_live_lock = threading.Lock()


def _register(obj):
    with _live_lock:
        _live.append(obj)


def _unregister(obj):
    with _live_lock:
        try:
            _live.remove(obj)
        except ValueError:
            pass


_workdirs = []


def stop_all():
    """Stop every harness object still running (newest first), then remove every Workdir not
    cleaned up yet.  Runs from atexit (and from run.py after an interruption)."""
    while True:
        with _live_lock:
            if not _live:
                break
            obj = _live.pop()
        try:
            obj.stop()
        except Exception as e:  # noqa: BLE001 - best effort at exit
            sys.stderr.write('harness: stopping %r failed: %s\n' % (obj, e))
    while True:
        with _live_lock:
            if not _workdirs:
                return
            wd = _workdirs.pop()
        wd.cleanup()


atexit.register(stop_all)


def pid_alive(pid):
    """True if PID exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            st = f.read()
    except OSError:
        return False
    return st[st.rindex(')') + 2] != 'Z'


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


def descendants(pid):
    """Pids of every living descendant of PID (children first found, then theirs)."""
    parent = {}
    for n in os.listdir('/proc'):
        if not n.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % n) as f:
                st = f.read()
        except OSError:
            continue
        parent[int(n)] = int(st[st.rindex(')') + 2:].split()[1])
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate_popen(proc, timeout=5.0):
    """SIGTERM the child PROC by pid, wait; SIGKILL after TIMEOUT.  Returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        kill_pid(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_pid(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    return proc.returncode


class _Service:
    """Base: a child process with a log file, registered for atexit cleanup."""

    name = 'service'

    def __init__(self):
        self.proc = None
        self.logfile = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, argv, logfile, env=None, cwd=None):
        self.logfile = logfile
        out = open(logfile, 'ab')
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         env=env, cwd=cwd, close_fds=True)
        finally:
            out.close()
        _register(self)
        return self.proc

    def log(self):
        """Contents of the process's log file (stdout+stderr)."""
        if not self.logfile or not os.path.exists(self.logfile):
            return ''
        with open(self.logfile, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def _wait_ready(self, ready, timeout, what):
        def check():
            if self.proc.poll() is not None:
                raise HarnessError('%s exited with status %s before it was ready; log %s:\n%s'
                                   % (what, self.proc.returncode, self.logfile, tail(self.logfile)))
            return ready()
        try:
            wait_until(check, timeout, what + ' to accept connections',
                       on_timeout=lambda: 'log %s:\n%s' % (self.logfile, tail(self.logfile)))
        except HarnessError:
            self.stop()
            raise

    def stop(self, timeout=5.0):
        """SIGTERM by pid, wait (SIGKILL after TIMEOUT).  Idempotent."""
        _unregister(self)
        if self.proc is not None:
            terminate_popen(self.proc, timeout)
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------------------------
# Workdir

class Workdir:
    """A fresh temporary directory (0755, root-owned, so the postfix user can traverse it).

    path(...) joins under it; mkdir(name, mode, owner) makes a subdirectory; private(name)
    makes a 0700 directory for key material; write(name, data, mode) writes a file.
    cleanup() removes the tree unless $POSTMILL_E2E_KEEP is set (then it prints the path)."""

    def __init__(self, prefix='postmill-e2e-'):
        base = os.environ.get('POSTMILL_E2E_TMPDIR') or None
        self.root = tempfile.mkdtemp(prefix=prefix, dir=base)
        os.chmod(self.root, 0o755)
        with _live_lock:
            _workdirs.append(self)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def mkdir(self, name, mode=0o755, owner=None):
        """Create (if needed) and return subdirectory NAME with MODE, chowned to user OWNER."""
        p = self.path(name)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        if owner is not None:
            pw = pwd.getpwnam(owner)
            os.chown(p, pw.pw_uid, pw.pw_gid)
        return p

    def private(self, name='keys'):
        """A 0700 root-owned directory (for private keys)."""
        return self.mkdir(name, 0o700)

    def write(self, name, data, mode=0o644):
        """Write DATA (str or bytes) to NAME under the root; returns the path."""
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(data, str):
            data = data.encode('utf-8')
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def cleanup(self):
        with _live_lock:
            if self in _workdirs:
                _workdirs.remove(self)
        if os.environ.get('POSTMILL_E2E_KEEP'):
            sys.stderr.write('harness: keeping %s\n' % self.root)
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __repr__(self):
        return 'Workdir(%s)' % self.root


# ---------------------------------------------------------------------------------------------
# Sink

class Delivery:
    """One message received by the Sink.

    mail_from: envelope sender ('' for the null sender); rcpts: list of envelope recipients;
    mail_args / rcpt_args: the full argument strings; helo, client_addr, proto: as smtp-sink saw
    them; raw: message bytes with CRLF line endings, as sent by the client (no final dot);
    path: the dump file."""

    def __init__(self, path, data):
        self.path = path
        self.client_addr = self.proto = self.helo = None
        self.mail_args = None
        self.rcpt_args = []
        lines = data.split(b'\n')
        i = 0
        while i < len(lines):
            line = lines[i].decode('utf-8', 'surrogateescape')
            i += 1
            name, _, value = line.partition(': ')
            if name == 'X-Client-Addr':
                self.client_addr = value
            elif name == 'X-Client-Proto':
                self.proto = value
            elif name == 'X-Helo-Args':
                self.helo = value
            elif name == 'X-Mail-Args':
                self.mail_args = value
            elif name == 'X-Rcpt-Args':
                self.rcpt_args.append(value)
            elif name == 'Received':
                # smtp-sink's own Received header (3 lines: from / by / date) ends its records
                if not (i + 1 < len(lines) and lines[i].startswith(b'\t') and lines[i + 1].startswith(b'\t')):
                    raise HarnessError('unexpected smtp-sink Received header in %s' % path)
                i += 2
                break
            else:
                raise HarnessError('unexpected smtp-sink record %r in %s' % (line, path))
        else:
            raise HarnessError('no smtp-sink Received header in %s' % path)
        body = lines[i:]
        # smtp-sink ends each dump with one empty line: drop it (and the split's empty tail)
        if len(body) >= 2 and body[-1] == b'' and body[-2] == b'':
            body = body[:-2]
        elif body and body[-1] == b'':
            body = body[:-1]
        self.raw = b''.join(l + b'\r\n' for l in body)
        self.mail_from = _angle_addr(self.mail_args or '')
        self.rcpts = [_angle_addr(a) for a in self.rcpt_args]

    def message(self):
        """The message parsed with email.policy.compat32 (headers kept as received)."""
        return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(self.raw)

    def headers(self):
        """List of (name, value) header fields as raw strings (value unfolded, CRLF removed)."""
        head = self.raw.split(b'\r\n\r\n', 1)[0].decode('utf-8', 'surrogateescape')
        out = []
        for line in head.split('\r\n'):
            if line[:1] in (' ', '\t') and out:
                out[-1] = (out[-1][0], out[-1][1] + '\r\n' + line)
            elif ':' in line:
                n, _, v = line.partition(':')
                out.append((n, v))
        return out

    def header(self, name):
        """All values of header NAME (case-insensitive), in order, leading space stripped."""
        return [v.lstrip() for n, v in self.headers() if n.lower() == name.lower()]

    def body(self):
        """The body bytes (after the first empty line)."""
        parts = self.raw.split(b'\r\n\r\n', 1)
        return parts[1] if len(parts) == 2 else b''

    def __repr__(self):
        return 'Delivery(from=%r, rcpts=%r, %d bytes)' % (self.mail_from, self.rcpts, len(self.raw))


def _angle_addr(args):
    m = re.match(r'\s*<([^>]*)>', args)
    if m:
        return m.group(1)
    return args.split()[0] if args.split() else ''


class Sink(_Service):
    """smtp-sink on 127.0.0.1:PORT keeping every delivery in its own file under WORKDIR/NAME.d.

    hard_reject / soft_reject: lists of SMTP commands (e.g. ['RCPT'], ['DATA'], ['.']) that
    smtp-sink answers with hard_reply (default "500 5.3.0 Error: command failed") or soft_reply
    (default "450 4.3.0 Error: command failed").  smtp-sink cannot single out recipients."""

    name = 'sink'

    def __init__(self, workdir, name='sink', port=None, hard_reject=(), soft_reject=(),
                 hard_reply=None, soft_reply=None, extra_args=()):
        super().__init__()
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.dir = workdir.mkdir(name + '.d', 0o755, owner='postfix')
        self.hard_reject = list(hard_reject)
        self.soft_reject = list(soft_reject)
        self.hard_reply = hard_reply
        self.soft_reply = soft_reply
        self.extra_args = list(extra_args)

    def start(self, timeout=DEFAULT_TIMEOUT):
        argv = [SMTP_SINK, '-u', 'postfix', '-d', os.path.join(self.dir, 'msg.')]
        if self.hard_reject:
            argv += ['-f', ','.join(self.hard_reject)]
        if self.soft_reject:
            argv += ['-r', ','.join(self.soft_reject)]
        if self.hard_reply:
            argv += ['-B', self.hard_reply]
        if self.soft_reply:
            argv += ['-b', self.soft_reply]
        argv += self.extra_args + ['-4', '127.0.0.1:%d' % self.port, '100']
        self._spawn(argv, self.workdir.path(self.name + '.log'))
        self._wait_ready(lambda: port_open(self.port), timeout, 'smtp-sink on port %d' % self.port)
        return self

    def _open_files(self):
        """Paths the sink process currently holds open (messages still being received)."""
        out = set()
        if not self.alive():
            return out
        fd_dir = '/proc/%d/fd' % self.proc.pid
        try:
            for fd in os.listdir(fd_dir):
                try:
                    out.add(os.readlink(os.path.join(fd_dir, fd)))
                except OSError:
                    pass
        except OSError:
            pass
        return out

    def messages(self):
        """Completed deliveries (files the sink no longer holds open), oldest first.  smtp-sink
        stores a message before it answers the final dot, so with hard_reject/soft_reject=['.']
        the refused messages are listed too."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        busy = self._open_files()
        entries = []
        for n in names:
            p = os.path.join(self.dir, n)
            if p in busy:
                continue
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue
            entries.append((st.st_mtime_ns, st.st_ino, p))
        entries.sort()
        out = []
        for _, _, p in entries:
            with open(p, 'rb') as f:
                data = f.read()
            if not data:
                continue
            out.append(Delivery(p, data))
        return out

    def wait_for(self, count=1, timeout=DEFAULT_TIMEOUT, postfix=None):
        """Poll until at least COUNT deliveries arrived; returns messages().  On timeout the error
        includes the sink log and, if POSTFIX is given, that instance's maillog tail."""
        def diag():
            s = 'sink has %d message(s); sink log:\n%s' % (len(self.messages()), tail(self.logfile, 10))
            if postfix is not None:
                s += '\npostfix maillog:\n' + tail(postfix.log(), 30)
            return s
        wait_until(lambda: len(self.messages()) >= count, timeout,
                   '%d message(s) at sink port %d' % (count, self.port), interval=0.05, on_timeout=diag)
        return self.messages()

    def clear(self):
        """Delete the stored (completed) deliveries."""
        for d in self.messages():
            try:
                os.unlink(d.path)
            except FileNotFoundError:
                pass

    def __repr__(self):
        return 'Sink(port=%d)' % self.port


# ---------------------------------------------------------------------------------------------
# Postfix

MASTER_CF_BASE = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A private Postfix instance under WORKDIR/NAME (config, queue, data, maillog).

    Listens on 127.0.0.1:port (and [::1]:port with ipv6=True), relays everything to
    [127.0.0.1]:relay_port (a Sink's port), has no local domains, no DNS, no notices.
    Arguments:
      mynetworks            default '127.0.0.0/8' (plus [::1]/128 with ipv6); clients outside it
                            are simulated with XCLIENT ADDR=... (smtpd_authorized_xclient_hosts
                            is 127.0.0.1 [::1])
      smtpd_milters, non_smtpd_milters   str or list of 'unix:/path' / 'inet:127.0.0.1:PORT'
      milter_protocol=6, milter_default_action='tempfail'
      sasl=False            True: smtpd_sasl_auth_enable=yes with a private Cyrus config; needed
                            for XCLIENT LOGIN (see the module docstring)
      main                  dict of further main.cf settings (override everything above)
      master                list of extra master.cf lines
    Methods: start(), stop(), reload(), log(), wait_log(), statuses(), wait_status(), flush(),
    queue(), wait_queue_empty(), purge(), sendmail(), postconf(), set_milters(), pids()."""

    def __init__(self, workdir, relay_port=None, name='postfix', port=None, ipv6=False,
                 mynetworks=None, smtpd_milters=None, non_smtpd_milters=None, milter_protocol=6,
                 milter_default_action='tempfail', sasl=False, main=None, master=None,
                 myhostname=None, full_check=False):
        self.workdir = workdir
        self.name = name
        self.ipv6 = ipv6
        self.port = port or free_port(ipv6=ipv6)
        self.relay_port = relay_port
        self.base = workdir.mkdir(name)
        self.conf_dir = workdir.mkdir(name + '/conf')
        self.queue_dir = workdir.mkdir(name + '/queue')
        self.data_dir = workdir.mkdir(name + '/data', 0o700, owner='postfix')
        self.maillog = os.path.join(self.base, 'maillog')
        if len(os.path.join(self.queue_dir, 'private', 'proxywrite')) > 100:
            raise HarnessError('queue directory %s is too long for unix socket paths (107 bytes)' % self.queue_dir)
        self.sasl = sasl
        self.full_check = full_check
        self.start_output = ''
        self.master_pid = None
        if mynetworks is None:
            mynetworks = '127.0.0.0/8' + (' [::1]/128' if ipv6 else '')
        self.settings = {
            'compatibility_level': '3.6',
            'config_directory': self.conf_dir,
            'queue_directory': self.queue_dir,
            'data_directory': self.data_dir,
            'command_directory': '/usr/sbin',
            'daemon_directory': '/usr/lib/postfix/sbin',
            'meta_directory': '/etc/postfix',
            'shlib_directory': '/usr/lib/postfix',
            'sample_directory': '/etc/postfix',
            'mail_owner': 'postfix',
            'setgid_group': 'postdrop',
            'syslog_name': 'postfix-' + name,
            'maillog_file': self.maillog,
            'maillog_file_prefixes': self.base,
            'myhostname': myhostname or ('%s.postmill.test' % name),
            'mydomain': 'postmill.test',
            'myorigin': '$myhostname',
            'inet_interfaces': '127.0.0.1, [::1]' if ipv6 else '127.0.0.1',
            'inet_protocols': 'all' if ipv6 else 'ipv4',
            'mydestination': '',
            'local_recipient_maps': '',
            'local_transport': 'error:5.1.1 local delivery is disabled',
            'alias_maps': '',
            'alias_database': '',
            'relayhost': '[127.0.0.1]:%d' % relay_port if relay_port else '',
            'smtp_dns_support_level': 'disabled',
            'lmtp_dns_support_level': 'disabled',
            'smtp_host_lookup': 'native',
            'smtpd_peername_lookup': 'no',
            'smtp_tls_security_level': 'none',
            'smtpd_tls_security_level': 'none',
            'notify_classes': '',
            'delay_warning_time': '0',
            'biff': 'no',
            'mynetworks': mynetworks,
            'smtpd_authorized_xclient_hosts': '127.0.0.1' + (' [::1]' if ipv6 else ''),
            'smtpd_relay_restrictions': 'permit_mynetworks permit_sasl_authenticated reject_unauth_destination',
            'smtpd_error_sleep_time': '0',
            'smtpd_soft_error_limit': '1000',
            'smtpd_hard_error_limit': '1000',
            'smtpd_client_connection_count_limit': '0',
            'smtpd_client_connection_rate_limit': '0',
            'in_flow_delay': '0',
            'queue_run_delay': '1s',
            'minimal_backoff_time': '1s',
            'maximal_backoff_time': '2s',
            'smtp_connect_timeout': '5s',
            'milter_protocol': str(milter_protocol),
            'milter_default_action': milter_default_action,
            'smtpd_milters': _milter_list(smtpd_milters),
            'non_smtpd_milters': _milter_list(non_smtpd_milters),
        }
        if not relay_port:
            # no next hop: fail deliveries instead of looking up MX/A records
            self.settings['default_transport'] = 'error:5.3.0 no relay_port configured in the test'
        if sasl:
            # an empty private config path, so that the system's /etc/postfix/sasl is not used
            sasl_dir = workdir.mkdir(name + '/sasl')
            self.settings.update({
                'smtpd_sasl_auth_enable': 'yes',
                'smtpd_sasl_type': 'cyrus',
                'smtpd_sasl_path': 'smtpd',
                'cyrus_sasl_config_path': sasl_dir,
                'smtpd_sasl_security_options': 'noanonymous',
            })
        self.settings.update(main or {})
        self.extra_master = list(master or [])
        self.running = False

    # -- configuration

    def _write_config(self):
        with open(os.path.join(self.conf_dir, 'main.cf'), 'w') as f:
            for k, v in self.settings.items():
                f.write('%s = %s\n' % (k, v))
        listen = ['127.0.0.1:%d      inet  n       -       n       -       -       smtpd' % self.port]
        if self.ipv6:
            listen.append('[::1]:%d      inet  n       -       n       -       -       smtpd' % self.port)
        with open(os.path.join(self.conf_dir, 'master.cf'), 'w') as f:
            f.write('\n'.join(listen) + '\n' + MASTER_CF_BASE + ''.join(l + '\n' for l in self.extra_master))
        # Postfix's load_file() re-reads a file whose mtime is within the last second or so
        # (it might be mid-edit), sleeping 300 ms per try: every Postfix command would stall
        # ~2 s on a freshly written main.cf.  Backdate both files.
        past = time.time() - 10
        for n in ('main.cf', 'master.cf'):
            os.utime(os.path.join(self.conf_dir, n), (past, past))

    def postconf(self, **settings):
        """Change main.cf settings (keyword or dict(**{...})); call reload() to apply if running."""
        self.settings.update({k: str(v) for k, v in settings.items()})
        self._write_config()

    def set_milters(self, smtpd=None, non_smtpd=None, reload=True):
        """Replace smtpd_milters / non_smtpd_milters and reload a running instance."""
        self.settings['smtpd_milters'] = _milter_list(smtpd)
        self.settings['non_smtpd_milters'] = _milter_list(non_smtpd)
        self._write_config()
        if reload and self.running:
            self.reload()

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith('MAIL_')}
        env['MAIL_CONFIG'] = self.conf_dir
        env['LANG'] = 'C'
        return env

    def _run(self, *argv, check=True, timeout=60):
        """Run a Postfix command for this instance.  Its stderr is a pty: Postfix commands print
        their errors to stderr only when it is a terminal (otherwise they go to syslog, which
        does not exist here, or to the maillog, which postlogd writes only once running)."""
        out = run_with_pty(list(argv), env=self._env(), timeout=timeout)
        if check and out[0] != 0:
            raise HarnessError('%s failed (status %d):\n%s\nmaillog:\n%s'
                               % (' '.join(argv), out[0], out[1], tail(self.log(), 20)))
        return out[1]

    # -- life cycle

    def _make_queue_dirs(self):
        """Create the queue layout that `postfix set-permissions` would (same owners and modes),
        in-process: post-install's create-missing forks ~300 processes (2-3 s) on a fresh queue."""
        pf = pwd.getpwnam('postfix')
        postdrop = grp.getgrnam('postdrop').gr_gid
        layout = [('pid', 0, 0, 0o755)]
        for d in ('active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming',
                  'private', 'saved', 'trace'):
            layout.append((d, pf.pw_uid, 0, 0o700))
        layout += [('maildrop', pf.pw_uid, postdrop, 0o730), ('public', pf.pw_uid, postdrop, 0o710)]
        for d, uid, gid, mode in layout:
            p = os.path.join(self.queue_dir, d)
            os.makedirs(p, exist_ok=True)
            os.chown(p, uid, gid)
            os.chmod(p, mode)

    def start(self, timeout=DEFAULT_TIMEOUT):
        """Write main.cf/master.cf, create the queue, start the master, wait until the SMTP port
        answers 220.

        By default this runs `master -c DIR -w` directly, which is the last step of `postfix
        start`: postfix-script's checks before it (post-install create-missing, postsuper,
        check-warn) fork ~200 processes and take 2-7 s on this machine, and have nothing to do
        on a queue created by _make_queue_dirs().  With full_check=True (or
        $POSTMILL_E2E_POSTFIX_CHECK set) it runs `postfix set-permissions`, `postfix check` and
        `postfix start` instead (output in self.start_output)."""
        self._write_config()
        self._make_queue_dirs()
        full = self.full_check or bool(os.environ.get('POSTMILL_E2E_POSTFIX_CHECK'))
        if full:
            self._run(POSTFIX, '-c', self.conf_dir, 'set-permissions')
            self._run(POSTFIX, '-c', self.conf_dir, 'check')
        _register(self)
        self.running = True
        try:
            if full:
                self.start_output = self._run(POSTFIX, '-c', self.conf_dir, 'start')
            else:
                status, self.start_output = run_with_pty([MASTER, '-c', self.conf_dir, '-w'], env=self._env())
                if status != 0:
                    # the master logs its fatal errors to syslog only (none here); postfix(1)
                    # prints them to a terminal, and `postfix check` parses the same config
                    diag = self._run(POSTFIX, '-c', self.conf_dir, 'check', check=False)
                    raise HarnessError('postfix %s: master -w failed (status %d) %s\n`postfix check` says:\n%s'
                                       '\nmaillog:\n%s' % (self.name, status, self.start_output, diag,
                                                           tail(self.log(), 20)))
            self.master_pid = self._read_master_pid()
            wait_until(lambda: self._smtpd_ready(), timeout, 'postfix %s on port %d' % (self.name, self.port),
                       on_timeout=lambda: 'maillog:\n' + tail(self.log(), 30))
        except Exception:
            self.stop()
            raise
        return self

    def _smtpd_ready(self):
        """The port accepts and answers with a 220 greeting."""
        try:
            with socket.create_connection(('127.0.0.1', self.port), timeout=2) as s:
                s.settimeout(5)
                return s.recv(512).startswith(b'220')
        except OSError:
            return False

    def _read_master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, 'pid', 'master.pid')) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pids(self):
        """Pids of every process belonging to this instance (MAIL_CONFIG in its environment)."""
        want = ('MAIL_CONFIG=' + self.conf_dir).encode()
        out = []
        for d in os.listdir('/proc'):
            if not d.isdigit():
                continue
            try:
                with open('/proc/%s/environ' % d, 'rb') as f:
                    env = f.read().split(b'\0')
            except OSError:
                continue
            if want in env and int(d) != os.getpid() and pid_alive(int(d)):
                out.append(int(d))
        return out

    def stop(self, timeout=10.0):
        """Stop the instance and make sure every process of it is gone.

        Does what `postfix -c DIR stop` does (SIGTERM to the master, which takes its process
        group down) without postfix-script's one-second sleep, then waits for every process
        carrying this instance's MAIL_CONFIG; SIGKILLs leftovers after TIMEOUT.  Idempotent."""
        _unregister(self)
        if not self.running:
            return
        self.running = False
        master = self._read_master_pid() or getattr(self, 'master_pid', None)
        if master and pid_alive(master):
            kill_pid(master, signal.SIGTERM)
        try:
            wait_until(lambda: not self.pids(), timeout, 'postfix %s to stop' % self.name, interval=0.05)
        except HarnessError:
            for p in self.pids():
                kill_pid(p, signal.SIGKILL)
            wait_until(lambda: not self.pids(), 5, 'postfix %s to die after SIGKILL' % self.name)

    def reload(self, timeout=DEFAULT_TIMEOUT):
        """Rewrite main.cf/master.cf and reload: SIGHUP to the master (what `postfix reload` does
        after its postsuper pass; with full_check, `postfix -c DIR reload` itself).  Waits until
        the master logged the reload and the port answers again."""
        self._write_config()
        before = self.log().count('reload -- version')
        old_daemons = [p for p in self.pids() if _comm(p) in ('smtpd', 'cleanup')]
        if self.full_check or os.environ.get('POSTMILL_E2E_POSTFIX_CHECK'):
            self._run(POSTFIX, '-c', self.conf_dir, 'reload')
        else:
            master = self._read_master_pid()
            if not master or not pid_alive(master):
                raise HarnessError('postfix %s is not running; maillog:\n%s' % (self.name, tail(self.log(), 20)))
            os.kill(master, signal.SIGHUP)
        # The master logs through postlogd, which a loaded machine may schedule late; and a
        # SIGHUP that arrives while the master is still busy with the previous reload can be
        # folded into it (seen under ASan and load: no second "reload" line ever came). A
        # reload is idempotent, so ask again every few seconds until it is logged.
        deadline = time.monotonic() + max(timeout, 60)
        while True:
            try:
                wait_until(lambda: self.log().count('reload -- version') > before, 5,
                           'postfix %s to reload' % self.name)
                break
            except HarnessError:
                if time.monotonic() > deadline:
                    raise HarnessError('postfix %s did not reload in %.0f s; maillog:\n%s'
                                       % (self.name, max(timeout, 60), tail(self.log(), 20)))
                master = self._read_master_pid()
                if not (self.full_check or os.environ.get('POSTMILL_E2E_POSTFIX_CHECK')) \
                        and master and pid_alive(master):
                    os.kill(master, signal.SIGHUP)
        # idle smtpd/cleanup processes from before the reload still hold the old configuration;
        # they exit once the master tells them to: wait, so the next session sees the new one
        # (a loaded machine may take a while to schedule them: at least a minute before failing)
        wait_until(lambda: not [p for p in old_daemons if pid_alive(p)], max(timeout, 60),
                   'postfix %s daemons from before the reload to exit' % self.name,
                   on_timeout=lambda: 'still running: %s\nmaillog:\n%s' % (
                       ', '.join('%d %s' % (p, _comm(p)) for p in old_daemons if pid_alive(p)),
                       tail(self.log(), 20)))
        wait_until(self._smtpd_ready, timeout, 'postfix %s port after reload' % self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- inspection

    def log(self):
        """The instance's maillog (str)."""
        try:
            with open(self.maillog, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until regex PATTERN matches COUNT times in the maillog; returns the match objects."""
        rx = re.compile(pattern)

        def found():
            m = list(rx.finditer(self.log()))
            return m if len(m) >= count else None
        return wait_until(found, timeout, 'maillog of %s to match %r' % (self.name, pattern), interval=0.05,
                          on_timeout=lambda: tail(self.log(), 30))

    def statuses(self, queue_id=None):
        """Delivery attempts from the maillog: list of dicts {queue_id, to, relay, status, text}."""
        out = []
        rx = re.compile(r'postfix-\S+?/\S+\[\d+\]: ([0-9A-F]+|[0-9B-DF-HJ-NP-TV-Zb-z]+): to=<([^>]*)>,'
                        r'.*?relay=([^,]*),.*?status=(\w+) \((.*)\)$', re.M)
        for m in rx.finditer(self.log()):
            if queue_id is None or m.group(1) == queue_id:
                out.append({'queue_id': m.group(1), 'to': m.group(2), 'relay': m.group(3),
                            'status': m.group(4), 'text': m.group(5)})
        return out

    def wait_status(self, queue_id, status=None, count=1, timeout=DEFAULT_TIMEOUT):
        """Wait until the maillog has COUNT delivery results for QUEUE_ID (with STATUS: 'sent',
        'bounced', 'deferred', ... if given); returns statuses(queue_id)."""
        def done():
            st = [x for x in self.statuses(queue_id) if status is None or x['status'] == status]
            return len(st) >= count
        wait_until(done, timeout, '%d %s result(s) for %s in %s' % (count, status or 'delivery', queue_id, self.name),
                   interval=0.05, on_timeout=lambda: tail(self.log(), 30))
        return self.statuses(queue_id)

    def queue(self):
        """Messages in the queue: list of dicts from `postqueue -j`."""
        out = self._run(POSTQUEUE, '-c', self.conf_dir, '-j')
        return [json.loads(l) for l in out.splitlines() if l.strip().startswith('{')]

    def wait_queue_empty(self, timeout=DEFAULT_TIMEOUT):
        wait_until(lambda: not self.queue(), timeout, 'queue of %s to drain' % self.name, interval=0.1,
                   on_timeout=lambda: json.dumps(self.queue()) + '\n' + tail(self.log(), 20))

    def flush(self):
        """`postqueue -f`: retry deferred mail now."""
        self._run(POSTQUEUE, '-c', self.conf_dir, '-f')

    def purge(self):
        """`postsuper -d ALL`: delete every queued message."""
        self._run(POSTSUPER, '-c', self.conf_dir, '-d', 'ALL', check=False)

    def sendmail(self, mail_from, rcpts, message, timeout=30):
        """Submit MESSAGE locally through this instance's sendmail(1) (pickup path, so
        non_smtpd_milters apply).  Returns sendmail's output."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        if isinstance(message, str):
            message = message.encode('utf-8')
        r = subprocess.run([SENDMAIL, '-C', self.conf_dir, '-i', '-f', mail_from, '--'] + list(rcpts),
                           input=message, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=self._env(), timeout=timeout)
        if r.returncode != 0:
            raise HarnessError('sendmail failed (%d): %s' % (r.returncode, r.stdout.decode('utf-8', 'replace')))
        return r.stdout.decode('utf-8', 'replace')

    def __repr__(self):
        return 'Postfix(%s, port=%d)' % (self.name, self.port)


# ---------------------------------------------------------------------------------------------
# Sendmail

FETCH_SENDMAIL = os.path.join(REPO_ROOT, 'scripts', 'fetch-sendmail')
SENDMAIL_M4 = os.path.join(REPO_ROOT, 'conf', 'sendmail', 'postmill.m4')
SENDMAIL_HOSTNAME = 'mail.sendmail.test'
LIBDIR = '/usr/lib/x86_64-linux-gnu'
_sendmail_root = None


def sendmail_root():
    """The private root with Debian's Sendmail unpacked (scripts/fetch-sendmail: downloads the
    .debs once into $POSTMILL_SENDMAIL_CACHE, default /var/cache/postmill-test/sendmail)."""
    global _sendmail_root
    if _sendmail_root is None:
        r = subprocess.run([FETCH_SENDMAIL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        if r.returncode != 0:
            raise HarnessError('scripts/fetch-sendmail failed:\n' + r.stderr.decode('utf-8', 'replace'))
        _sendmail_root = r.stdout.decode().strip().splitlines()[-1]
    return _sendmail_root


class Syslog:
    """A syslog receiver: a unix datagram socket at PATH (bind-mounted over /dev/log inside the
    Sendmail namespace) whose messages are appended, one per line, to LOGFILE."""

    def __init__(self, path, logfile):
        self.path = path
        self.logfile = logfile
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        with open(self.logfile, 'ab', buffering=0) as f:
            while not self._stop:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                # "<PRI>Mmm dd hh:mm:ss sendmail[pid]: text": keep from the program name on
                data = re.sub(rb'^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d ', b'', data.rstrip(b'\0\n'))
                f.write(data + b'\n')

    def stop(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


SENDMAIL_MC = """\
divert(-1)
# a private Sendmail for postmill's end-to-end tests (harness.Sendmail)
divert(0)dnl
VERSIONID(`postmill e2e')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{hostname}')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
undefine(`ALIAS_FILE')dnl
define(`HELP_FILE', `{root}/etc/mail/helpfile')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confHOSTS_FILE', `{dir}/hosts')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
define(`confLOG_LEVEL', `9')dnl
define(`confMILTER_LOG_LEVEL', `{milter_log_level}')dnl
define(`confTO_IDENT', `0')dnl
define(`confCON_EXPENSIVE', `False')dnl
define(`confMAX_DAEMON_CHILDREN', `0')dnl
define(`confREFUSE_LA', `1000')dnl
define(`confQUEUE_LA', `1000')dnl
define(`confDELAY_LA', `0')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
define(`SMART_HOST', `esmtp:[127.0.0.1]')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {relay_port}')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`promiscuous_relay')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
"""


def sendmail_filters(sockets, path=SENDMAIL_M4):
    """The shipped conf/sendmail/postmill.m4 for the milters in SOCKETS (dict: 'dkim' ->
    'unix:/path' or 'inet:127.0.0.1:PORT'), in the shipped order; the others' lines dropped."""
    out = []
    with open(path) as f:
        for line in f:
            # "dnl INPUT_MAIL_FILTER(`postmill-suite', ...)": the commented alternative
            m = re.match(r"(dnl )?INPUT_MAIL_FILTER\(`postmill-(\w+)', `S=local:/run/postmill/\w+\.sock(.*)$",
                         line)
            if m:
                spec = sockets.get(m.group(2))
                if spec is None:
                    if m.group(1):
                        out.append(line)
                    continue
                if spec.startswith('unix:'):
                    spec = 'local:' + spec[5:]
                elif spec.startswith('inet:'):
                    host, port = spec[5:].rsplit(':', 1)
                    spec = 'inet:%s@%s' % (port, host)
                line = "INPUT_MAIL_FILTER(`postmill-%s', `S=%s%s\n" % (m.group(2), spec, m.group(3))
            out.append(line)
    return ''.join(out)


class Sendmail(_Service):
    """A private Sendmail 8.17 (Debian 12's sendmail-bin, unpacked, never installed) under
    WORKDIR/NAME, listening on 127.0.0.1:PORT and relaying everything to [127.0.0.1]:RELAY_PORT.

    What it takes (see also ../shared/NOTES-sendmail.md):
      - scripts/fetch-sendmail downloads sendmail-bin, -base, -cf, m4, libwrap0 and sasl2-bin
        once and unpacks them (dpkg -x) into a cache; the setgid bit of the private sendmail is
        removed (a setgid binary run as root ignores LD_LIBRARY_PATH, needed for libwrap0).
      - sendmail.cf is made from an .mc (SENDMAIL_MC + the shipped conf/sendmail/postmill.m4
        with this test's sockets + MC_EXTRA) with the unpacked m4 and cf.m4; queue, pid file,
        statistics, service switch and hosts file are under WORKDIR/NAME; no alias file.
      - Sendmail runs as root in a private mount namespace (unshare -m --propagation private,
        `sendmail -bD`: foreground; the unshare'd shell execs it, so self.pid is the daemon's
        pid and stop() is SIGTERM to it) where bind mounts give it: /etc/hosts naming this host
        (else "My unqualified host name ... unknown; sleeping for retry", 60 s),
        /etc/nsswitch.conf (hosts: files) and an empty /etc/resolv.conf (no DNS at all), a
        private /dev with the usual nodes and /dev/log bound to a Syslog receiver (Sendmail
        logs only to syslog: self.log() is WORKDIR/NAME.maillog), and, with SASL users, a
        copy of the Cyrus SASL plugin directory holding Sendmail.conf (auxprop, sasldb).
      - DontBlameSendmail=TrustStickyBit: the milter sockets lie under /tmp; else Sendmail
        refuses them ("unsafe: World writable directory").
      - nocanonify, accept_unresolvable_domains, no_default_msa (else it also listens on 587),
        promiscuous_relay (every loopback client may relay; clients are told apart by their
        source address: send(..., source='127.0.0.2')).
      - Debian's +deb12u2 Sendmail drops a session that sends a bare LF (421 4.5.0): send()
        always writes CRLF.
    SASL_USERS: dict login -> password, written to a sasldb for AUTH PLAIN/LOGIN (realm
    mail.sendmail.test).  MILTERS: dict as sendmail_filters() takes.  MC_EXTRA: more .mc lines."""

    name = 'sendmail'

    def __init__(self, workdir, relay_port, name='sendmail', port=None, milters=None, sasl_users=None,
                 mc_extra='', milter_log_level=9):
        super().__init__()
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.relay_port = relay_port
        self.milters = dict(milters or {})
        self.sasl_users = dict(sasl_users or {})
        self.mc_extra = mc_extra
        self.milter_log_level = milter_log_level
        self.dir = workdir.mkdir(name, 0o755)
        self.maillog = workdir.path(name + '.maillog')
        self.syslog = None
        self.root = None

    def _write_config(self):
        root = self.root
        d = self.dir
        mq = os.path.join(d, 'mqueue')
        os.makedirs(mq, exist_ok=True)
        os.chmod(mq, 0o700)
        for n in ('statistics',):
            open(os.path.join(d, n), 'a').close()
        hn = socket.gethostname().split('.')[0]
        with open(os.path.join(d, 'hosts'), 'w') as f:
            f.write('127.0.0.1\t%s.sendmail.test %s localhost\n::1\tlocalhost ip6-localhost\n' % (hn, hn))
        with open(os.path.join(d, 'nsswitch.conf'), 'w') as f:
            f.write('passwd: files\ngroup: files\nhosts: files\n')
        with open(os.path.join(d, 'resolv.conf'), 'w') as f:
            f.write('')
        with open(os.path.join(d, 'service.switch'), 'w') as f:
            f.write('hosts files\naliases files\n')
        mc = SENDMAIL_MC.format(hostname=SENDMAIL_HOSTNAME, dir=d, root=root, port=self.port,
                                relay_port=self.relay_port, milter_log_level=self.milter_log_level)
        if self.milters:
            mc += sendmail_filters(self.milters)
        mc += self.mc_extra
        mc += "MAILER(`local')dnl\nMAILER(`smtp')dnl\n"
        self.mc_path = os.path.join(d, 'sendmail.mc')
        with open(self.mc_path, 'w') as f:
            f.write(mc)
        cfdir = os.path.join(root, 'usr', 'share', 'sendmail', 'cf')
        r = subprocess.run([os.path.join(root, 'usr', 'bin', 'm4'), '-D_CF_DIR_=%s/' % cfdir,
                            os.path.join(cfdir, 'm4', 'cf.m4'), self.mc_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = r.stderr.decode('utf-8', 'replace')
        err = '\n'.join(l for l in err.splitlines()
                        if 'promiscuous_relay' not in l and 'relay.  Do NOT use' not in l)
        if r.returncode != 0 or 'ERROR' in err or 'undefined' in err:
            raise HarnessError('m4 %s failed:\n%s' % (self.mc_path, err))
        self.cf_path = os.path.join(d, 'sendmail.cf')
        with open(self.cf_path, 'wb') as f:
            f.write(r.stdout)
        if self.sasl_users:
            self._write_sasl()

    def _write_sasl(self):
        d = self.dir
        plugdir = os.path.join(d, 'sasl2')
        if os.path.isdir(plugdir):
            shutil.rmtree(plugdir)
        # a private copy of the plugin directory, bind-mounted over the system's: Sendmail
        # reads Sendmail.conf only from there (or /etc/sasl2, which may not exist)
        shutil.copytree(os.path.join(LIBDIR, 'sasl2'), plugdir, symlinks=True)
        db = os.path.join(d, 'sasldb2')
        for user, password in self.sasl_users.items():
            r = subprocess.run([os.path.join(self.root, 'usr', 'sbin', 'saslpasswd2'), '-f', db, '-p', '-c',
                                '-u', SENDMAIL_HOSTNAME, user], input=password.encode(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if r.returncode != 0:
                raise HarnessError('saslpasswd2 failed: ' + r.stdout.decode('utf-8', 'replace'))
        os.chmod(db, 0o600)
        with open(os.path.join(plugdir, 'Sendmail.conf'), 'w') as f:
            f.write('pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\n'
                    'mech_list: PLAIN LOGIN\n' % db)

    def _namespace_script(self):
        d = self.dir
        dev = os.path.join(d, 'dev')
        os.makedirs(dev, exist_ok=True)
        lines = ['set -e']
        for n in ('null', 'zero', 'random', 'urandom', 'full', 'tty'):
            p = os.path.join(dev, n)
            open(p, 'a').close()
            lines.append('mount --bind /dev/%s %s' % (n, p))
        open(os.path.join(dev, 'log'), 'a').close()
        lines.append('mount --bind %s %s' % (self.syslog.path, os.path.join(dev, 'log')))
        lines.append('mount --rbind %s /dev' % dev)
        for f in ('hosts', 'nsswitch.conf', 'resolv.conf'):
            lines.append('mount --bind %s /etc/%s' % (os.path.join(d, f), f))
        if self.sasl_users:
            lines.append('mount --bind %s %s' % (os.path.join(d, 'sasl2'), os.path.join(LIBDIR, 'sasl2')))
        lines.append('export LD_LIBRARY_PATH=%s' % os.path.join(self.root, LIBDIR.lstrip('/')))
        lines.append('exec %s -bD -C %s' % (os.path.join(self.root, 'usr', 'libexec', 'sendmail', 'sendmail'),
                                           self.cf_path))
        return '\n'.join(lines) + '\n'

    def start(self, timeout=DEFAULT_TIMEOUT):
        self.root = sendmail_root()
        self._write_config()
        sock = self.workdir.path(self.name + '.devlog')
        if os.path.exists(sock):
            os.unlink(sock)
        self.syslog = Syslog(sock, self.maillog)
        script = os.path.join(self.dir, 'start.sh')
        with open(script, 'w') as f:
            f.write(self._namespace_script())
        self._spawn(['unshare', '-m', '--propagation', 'private', 'sh', script],
                    self.workdir.path(self.name + '.out'))
        self._wait_ready(lambda: port_open(self.port), timeout, 'sendmail on port %d' % self.port)
        return self

    def stop(self, timeout=10.0):
        """SIGTERM to the daemon (by pid), then to the children it left (per-session and
        delivery processes, found by their parent pid; SIGKILL after TIMEOUT), then the syslog
        receiver.  Idempotent."""
        kids = descendants(self.pid) if self.alive() else []
        rc = super().stop(timeout)
        for pid in kids:
            kill_pid(pid, signal.SIGTERM)
        try:
            wait_until(lambda: not any(pid_alive(p) for p in kids), timeout, 'sendmail children to exit')
        except HarnessError:
            for pid in kids:
                kill_pid(pid, signal.SIGKILL)
        if self.syslog is not None:
            self.syslog.stop()
            self.syslog = None
        return rc

    def log(self):
        """What Sendmail logged (syslog lines without priority and time stamp)."""
        if not os.path.exists(self.maillog):
            return ''
        with open(self.maillog, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until regex PATTERN matches COUNT times in the log; the matches."""
        rx = re.compile(pattern)

        def found():
            m = list(rx.finditer(self.log()))
            return m if len(m) >= count else None
        return wait_until(found, timeout, 'sendmail log to match %r' % pattern, interval=0.05,
                          on_timeout=lambda: tail(self.log(), 30))

    def __repr__(self):
        return 'Sendmail(port=%d)' % self.port


def run_with_pty(argv, env=None, timeout=60):
    """Run ARGV (umask 022) with stdout+stderr on a pseudo-terminal; returns (status, output).  Reading
    stops once the process has exited and the pty stays quiet (a daemon it forked may keep the
    terminal open)."""
    import pty
    import select
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env,
                             close_fds=True, start_new_session=True, umask=0o022)
    finally:
        os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            exited = p.poll() is not None
            r, _, _ = select.select([master], [], [], 0.05 if exited else 0.2)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    data = b''
                if not data:
                    break
                chunks.append(data)
            elif exited:
                break
            if time.monotonic() > deadline:
                kill_pid(p.pid, signal.SIGKILL)
                p.wait()
                raise HarnessError('%s timed out after %ss' % (' '.join(argv), timeout))
    finally:
        os.close(master)
    p.wait()
    return p.returncode, b''.join(chunks).decode('utf-8', 'replace').replace('\r\n', '\n')


def _milter_list(m):
    if m is None:
        return ''
    if isinstance(m, str):
        return m
    return ' '.join(m)


# ---------------------------------------------------------------------------------------------
# SMTP client

class SendResult:
    """Replies of one SMTP session.  Every stage is (code, text) or None if not reached:
    connect, ehlo, xclient, ehlo2 (after XCLIENT), auth, mail, data (the reply after the final
    dot; data_start is the reply to DATA itself), quit; rcpt is a list of (rcpt, code, text).
    queue_id: from "250 2.0.0 Ok: queued as ID".  accepted: True if the message was queued.
    error: text of a connection failure, if any."""

    def __init__(self):
        self.connect = self.ehlo = self.xclient = self.ehlo2 = self.auth = None
        self.mail = self.data_start = self.data = self.quit = None
        self.rcpt = []
        self.queue_id = None
        self.error = None
        self.features = {}

    @property
    def accepted(self):
        return self.data is not None and self.data[0] == 250

    def stage_codes(self):
        return {k: getattr(self, k) for k in ('connect', 'ehlo', 'xclient', 'ehlo2', 'auth', 'mail',
                                               'data_start', 'data', 'quit')} | {'rcpt': self.rcpt}

    def __repr__(self):
        return 'SendResult(%r)' % {k: v for k, v in self.stage_codes().items() if v}


def xtext(value):
    """RFC 3461 xtext encoding (XCLIENT attribute values)."""
    out = []
    for ch in value.encode('utf-8'):
        if 33 <= ch <= 126 and ch not in (ord('+'), ord('=')):
            out.append(chr(ch))
        else:
            out.append('+%02X' % ch)
    return ''.join(out)


def fix_eols(data):
    """Bare CR or LF -> CRLF, as smtplib does."""
    return re.sub(rb'(?:\r\n|\n|\r(?!\n))', b'\r\n', data)


def dot_stuff(data):
    """Dot-stuff DATA (CRLF lines) and terminate it with CRLF.CRLF."""
    if not data.endswith(b'\r\n'):
        data += b'\r\n'
    data = re.sub(rb'(?m)^\.', b'..', data)
    return data + b'.\r\n'


def _reply(r):
    code, text = r
    return (code, text.decode('utf-8', 'replace') if isinstance(text, bytes) else text)


def send(port, mail_from, rcpts, message, xclient=None, ehlo='client.test', auth=None, host='127.0.0.1',
         timeout=30, normalize_eols=True, mail_options=(), rcpt_options=(), source=None):
    """One SMTP session to HOST:PORT; never raises on SMTP errors, returns a SendResult.

    XCLIENT: dict of attributes (ADDR, NAME, HELO, LOGIN, PROTO, PORT, ...), sent after the first
    EHLO and followed by a second EHLO; values are xtext-encoded ('[UNAVAILABLE]' is sent as
    is); an IPv6 ADDR is written 'IPV6:2001:db8::7'.  AUTH: (user, password) for AUTH PLAIN.
    MESSAGE: bytes or str; with normalize_eols (default) bare LF/CR become CRLF, otherwise the
    bytes go as given (dot-stuffed).  mail_options / rcpt_options: extra MAIL/RCPT parameters.
    SOURCE: the local address to connect from (e.g. '127.0.0.2': another client for Sendmail,
    which has no XCLIENT).
    error is set (and later stages are None) when the connection broke before QUIT."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    if isinstance(message, str):
        message = message.encode('utf-8')
    if normalize_eols:
        message = fix_eols(message)
    res = SendResult()
    s = smtplib.SMTP(timeout=timeout, source_address=(source, 0) if source else None)
    s.command_encoding = 'utf-8'  # SMTPUTF8 addresses (pass mail_options=['SMTPUTF8'])
    try:
        try:
            _session(s, res, host, port, mail_from, rcpts, message, xclient, ehlo, auth, mail_options,
                     rcpt_options)
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            res.error = '%s: %s' % (type(e).__name__, e)
            return res
        if res.connect is not None:
            try:
                res.quit = _reply(s.docmd('QUIT'))
            except (smtplib.SMTPServerDisconnected, OSError) as e:
                res.quit = (-1, 'disconnected: %s' % e)
        return res
    finally:
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass


def _session(s, res, host, port, mail_from, rcpts, message, xclient, ehlo, auth, mail_options, rcpt_options):
    """The SMTP dialogue of send(); returns at the first refused stage."""
    res.connect = _reply(s.connect(host, port))
    if res.connect[0] != 220:
        return
    res.ehlo = _reply(s.ehlo(ehlo))
    if res.ehlo[0] != 250:
        return
    if xclient:
        attrs = ' '.join('%s=%s' % (k.upper(), v if v == '[UNAVAILABLE]' else xtext(str(v)))
                         for k, v in xclient.items())
        res.xclient = _reply(s.docmd('XCLIENT', attrs))
        if res.xclient[0] != 220:
            return
        res.ehlo2 = _reply(s.ehlo(ehlo))
        if res.ehlo2[0] != 250:
            return
    res.features = dict(s.esmtp_features)
    if auth:
        user, password = auth
        tok = base64.b64encode(b'\0' + user.encode() + b'\0' + password.encode()).decode()
        res.auth = _reply(s.docmd('AUTH', 'PLAIN ' + tok))
        if res.auth[0] != 235:
            return
    opts = ''.join(' ' + o for o in mail_options)
    res.mail = _reply(s.docmd('MAIL', 'FROM:<%s>%s' % (mail_from, opts)))
    if res.mail[0] != 250:
        return
    ropts = ''.join(' ' + o for o in rcpt_options)
    for r in rcpts:
        c, t = _reply(s.docmd('RCPT', 'TO:<%s>%s' % (r, ropts)))
        res.rcpt.append((r, c, t))
    if not any(c in (250, 251) for _, c, _ in res.rcpt):
        s.docmd('RSET')
        return
    res.data_start = _reply(s.docmd('DATA'))
    if res.data_start[0] != 354:
        return
    s.send(dot_stuff(message))
    res.data = _reply(s.getreply())
    m = re.search(r'queued as (\S+)', res.data[1]) or re.search(r'^2\.0\.0 (\S+) Message accepted', res.data[1])
    if m:
        res.queue_id = m.group(1)


def make_message(subject='test', from_addr='sender@example.test', to_addr='rcpt@example.net', body=None,
                 headers=(), message_id=None, date='Mon, 01 Jan 2024 00:00:00 +0000'):
    """A small RFC 5322 message (bytes, CRLF) with Date, From, To, Subject, Message-ID."""
    if body is None:
        body = 'Hello.\r\nThis is a test message.\r\n'
    if message_id is None:
        message_id = '<%s@example.test>' % os.urandom(8).hex()
    lines = ['From: %s' % from_addr, 'To: %s' % to_addr, 'Subject: %s' % subject, 'Date: %s' % date,
             'Message-ID: %s' % message_id]
    lines += ['%s: %s' % (k, v) for k, v in headers]
    msg = '\r\n'.join(lines) + '\r\n\r\n' + body
    return fix_eols(msg.encode('utf-8'))


# ---------------------------------------------------------------------------------------------
# MilterProcess

SUITE_MODULES = ('auth', 'bounce', 'dkim', 'limit')


def suite_mode():
    """POSTMILL_E2E_SUITE=1: every postmill-M milter of the tests runs inside postmill-suite."""
    return os.environ.get('POSTMILL_E2E_SUITE') == '1'


class MilterProcess(_Service):
    """A milter daemon under test: argv (list), socket spec ('unix:/path', 'inet:PORT@127.0.0.1'),
    stdout+stderr into WORKDIR/NAME.log.  start() waits until the socket accepts connections or
    the process dies (HarnessError with the log tail).  stop() = SIGTERM by pid, SIGKILL after a
    timeout; hup(); log(); returncode after stop."""

    def __init__(self, workdir, argv, socket, name=None, env=None, cwd=None):
        super().__init__()
        self.workdir = workdir
        self.argv = [str(a) for a in argv]
        self.socket = socket
        self.name = name or os.path.basename(self.argv[0])
        self.env = env
        self.cwd = cwd
        self.suite = None   # (module, the test's config, the derived config) in suite mode

    def _suite_wrap(self):
        """In suite mode (POSTMILL_E2E_SUITE=1) postmill-M -c CONF runs as postmill-suite hosting
        module M alone, from a copy of CONF that adds suite_milters = M and M's socket and pid
        file: every test of M then goes through the one-conversation host."""
        base = os.path.basename(self.argv[0])
        module = base[len('postmill-'):] if base.startswith('postmill-') else None
        if not suite_mode() or module not in SUITE_MODULES or '-c' not in self.argv:
            return
        i = self.argv.index('-c') + 1
        self.suite = (module, self.argv[i], '%s.suite-%s' % (self.argv[i], module))
        self._suite_write()
        self.argv = [binary('postmill-suite')] + self.argv[1:i] + [self.suite[2]] + self.argv[i + 1:]

    def _suite_write(self):
        module, conf, derived = self.suite
        with open(conf) as f:
            text = f.read()

        def value(name, default):
            m = re.search(r'^%s\s*=\s*(.*?)\s*$' % name, text, re.M)
            return m.group(1) if m else default
        extra = ['', 'suite_milters = ' + module,
                 'suite_socket = ' + value(module + '_socket', 'unix:/run/postmill/%s.sock' % module),
                 'suite_pid_file = ' + value(module + '_pid_file', '/run/postmill/%s.pid' % module)]
        with open(derived, 'w') as f:
            f.write(text.rstrip('\n') + '\n' + '\n'.join(extra) + '\n')
        st = os.stat(conf)
        os.chmod(derived, st.st_mode & 0o7777)
        os.chown(derived, st.st_uid, st.st_gid)

    def start(self, timeout=DEFAULT_TIMEOUT):
        env = dict(os.environ)
        env.update(self.env or {})
        if self.suite is None:
            self._suite_wrap()
        else:
            self._suite_write()
        self._spawn(self.argv, self.workdir.path(self.name + '.log'), env=env, cwd=self.cwd)
        self._wait_ready(lambda: socket_ready(self.socket), timeout, '%s on %s' % (self.name, self.socket))
        return self

    def hup(self):
        """Send SIGHUP (config reload)."""
        if self.suite is not None:
            self._suite_write()   # the test may have changed its config
        if self.alive():
            os.kill(self.proc.pid, signal.SIGHUP)

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    @property
    def returncode(self):
        return self.proc.returncode if self.proc else None

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        """Wait until regex PATTERN matches COUNT times in the milter's log."""
        rx = re.compile(pattern)

        def found():
            m = list(rx.finditer(self.log()))
            return m if len(m) >= count else None
        return wait_until(found, timeout, '%s log to match %r' % (self.name, pattern), interval=0.05,
                          on_timeout=lambda: tail(self.logfile, 30))

    def __repr__(self):
        return 'MilterProcess(%s, %s)' % (self.name, self.socket)


# ---------------------------------------------------------------------------------------------
# DNS: knotd fixtures and a resolver-free query function

def txt_rdata(text):
    """TXT RDATA for a zone file: TEXT split into quoted <=255-byte strings, escaped."""
    raw = text.encode('utf-8') if isinstance(text, str) else text
    chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b'']
    out = []
    for c in chunks:
        s = ''
        for b in c:
            if b in (0x22, 0x5c):
                s += '\\' + chr(b)
            elif 0x20 <= b < 0x7f:
                s += chr(b)
            else:
                s += '\\%03d' % b
        out.append('"%s"' % s)
    return ' '.join(out)


def txt_record(owner, text, ttl=300):
    """A zone-file line: OWNER TTL IN TXT "chunk" "chunk"..."""
    return '%s %d IN TXT %s' % (owner, ttl, txt_rdata(text))


class Knot(_Service):
    """knotd on 127.0.0.1:PORT (and ::1 with ipv6=True) serving ZONES {name: zone text}.

    A zone text without an SOA gets $ORIGIN/$TTL, an SOA (serial bumped on every write) and an NS
    record prepended, so fixtures can be just records ("sel._domainkey TXT ...").  server is
    '127.0.0.1@PORT'.  set_zone(name, text) rewrites and reloads one zone; reload(zone) reloads
    from disk."""

    name = 'knot'

    def __init__(self, workdir, zones, port=None, ipv6=False, name='knot'):
        super().__init__()
        self.workdir = workdir
        self.name = name
        self.ipv6 = ipv6
        self.port = port or free_port(ipv6=ipv6, udp=True)
        self.zones = {z.rstrip('.').lower(): t for z, t in zones.items()}
        self.dir = workdir.mkdir(name)
        self.zone_dir = workdir.mkdir(name + '/zones')
        self.run_dir = workdir.mkdir(name + '/run')
        self.db_dir = workdir.mkdir(name + '/db')
        self.conf = os.path.join(self.dir, 'knot.conf')
        self.serial = int(time.time()) % 1000000000
        self.zone_serials = {}

    @property
    def server(self):
        return '127.0.0.1@%d' % self.port

    def _zone_file_text(self, zone, text):
        if re.search(r'\bSOA\b', text):
            return text if text.endswith('\n') else text + '\n'
        self.serial += 1
        head = ('$ORIGIN %s.\n$TTL 300\n'
                '@ IN SOA ns.%s. hostmaster.%s. %d 3600 600 86400 60\n'
                '@ IN NS ns.%s.\n' % (zone, zone, zone, self.serial, zone))
        return head + text + ('' if text.endswith('\n') else '\n')

    def _write_zone(self, zone):
        text = self._zone_file_text(zone, self.zones[zone])
        m = re.search(r'\bSOA\s+\S+\s+\S+\s+\(?\s*(\d+)', text)
        self.zone_serials[zone] = int(m.group(1)) if m else None
        with open(os.path.join(self.zone_dir, zone + '.zone'), 'w') as f:
            f.write(text)

    def _write_conf(self):
        listen = ['127.0.0.1@%d' % self.port] + (['::1@%d' % self.port] if self.ipv6 else [])
        conf = ['server:',
                '    rundir: "%s"' % self.run_dir,
                '    listen: [ %s ]' % ', '.join(listen),
                '    udp-workers: 1',
                '    tcp-workers: 1',
                '    background-workers: 1',
                'log:',
                '  - target: stderr',
                '    any: info',
                'database:',
                '    storage: "%s"' % self.db_dir,
                'control:',
                '    listen: "%s"' % os.path.join(self.run_dir, 'knot.sock'),
                'template:',
                '  - id: default',
                '    storage: "%s"' % self.zone_dir,
                '    file: "%s.zone"',
                '    zonefile-sync: -1',
                '    zonefile-load: whole',
                '    journal-content: none',
                '    semantic-checks: off',
                'zone:']
        conf += ['  - domain: %s' % z for z in self.zones]
        with open(self.conf, 'w') as f:
            f.write('\n'.join(conf) + '\n')

    def start(self, timeout=DEFAULT_TIMEOUT):
        for z in self.zones:
            self._write_zone(z)
        self._write_conf()
        self._spawn([KNOTD, '-c', self.conf], os.path.join(self.dir, 'knotd.log'))
        first = next(iter(self.zones), None)

        def ready():
            if first is None:
                return port_open(self.port)
            try:
                a = dns_query(first, 'SOA', port=self.port, timeout=0.5)
            except (OSError, HarnessError):
                return False
            return a.rcode == 0 and any(r.type == 'SOA' for r in a.answers)
        self._wait_ready(ready, timeout, 'knotd on port %d' % self.port)
        return self

    def knotc(self, *args, check=True):
        r = subprocess.run([KNOTC, '-c', self.conf, '-b'] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = r.stdout.decode('utf-8', 'replace')
        if check and r.returncode != 0:
            raise HarnessError('knotc %s failed: %s\n%s' % (' '.join(args), out, tail(self.logfile, 20)))
        return out

    def reload(self, zone=None, timeout=DEFAULT_TIMEOUT):
        """Re-read ZONE (or every zone) from its zone file (blocking)."""
        zones = [zone.rstrip('.').lower()] if zone else list(self.zones)
        for z in zones:
            self.knotc('zone-reload', z)
        for z in zones:
            self._wait_serial(z, timeout)

    def _wait_serial(self, zone, timeout):
        """Wait until knotd answers ZONE's SOA with the serial of the zone file last written."""
        want = self.zone_serials.get(zone)
        if want is None:
            return

        def ok():
            a = dns_query(zone, 'SOA', port=self.port, timeout=0.5)
            return any(r.type == 'SOA' and r.soa_serial == want for r in a.answers)
        wait_until(ok, timeout, 'knot zone %s serial %d' % (zone, want), interval=0.02,
                   on_timeout=lambda: tail(self.logfile, 20))

    def set_zone(self, zone, text, timeout=DEFAULT_TIMEOUT):
        """Replace ZONE's records with TEXT and reload it (waits until the new SOA serial answers).
        The zone must be one given at start (knotd serves a fixed zone list)."""
        zone = zone.rstrip('.').lower()
        if zone not in self.zones:
            raise HarnessError('zone %s was not configured at start' % zone)
        self.zones[zone] = text
        self._write_zone(zone)
        self.reload(zone, timeout)

    def __repr__(self):
        return 'Knot(port=%d, zones=%s)' % (self.port, list(self.zones))


class DnsRR:
    """One answer record: name, type (str), ttl, rdata (bytes), text (TXT strings joined),
    strings (TXT character-strings), address (A/AAAA), soa_serial (SOA)."""

    def __init__(self, name, rtype, ttl, rdata, msg, rdata_off):
        self.name = name
        self.type = rtype
        self.ttl = ttl
        self.rdata = rdata
        self.strings = []
        self.text = None
        self.address = None
        self.soa_serial = None
        if rtype == 'TXT':
            i = 0
            while i < len(rdata):
                n = rdata[i]
                self.strings.append(rdata[i + 1:i + 1 + n])
                i += 1 + n
            self.text = b''.join(self.strings).decode('utf-8', 'replace')
        elif rtype == 'A' and len(rdata) == 4:
            self.address = socket.inet_ntop(socket.AF_INET, rdata)
        elif rtype == 'AAAA' and len(rdata) == 16:
            self.address = socket.inet_ntop(socket.AF_INET6, rdata)
        elif rtype == 'SOA':
            off = rdata_off
            _, off = _dns_name(msg, off)
            _, off = _dns_name(msg, off)
            self.soa_serial = struct.unpack('!I', msg[off:off + 4])[0]

    def __repr__(self):
        return 'DnsRR(%s %s %r)' % (self.name, self.type, self.text or self.address or self.rdata)


class DnsAnswer:
    """rcode (0 NOERROR, 3 NXDOMAIN, ...), aa, tc flags, answers / authority (lists of DnsRR)."""

    def __init__(self, rcode, aa, tc, answers, authority):
        self.rcode, self.aa, self.tc, self.answers, self.authority = rcode, aa, tc, answers, authority

    def txt(self):
        return [r.text for r in self.answers if r.type == 'TXT']

    def __repr__(self):
        return 'DnsAnswer(rcode=%d, aa=%s, tc=%s, answers=%r)' % (self.rcode, self.aa, self.tc, self.answers)


_QTYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'MX': 15, 'TXT': 16, 'AAAA': 28, 'ANY': 255}
_QTYPE_NAMES = {v: k for k, v in _QTYPES.items()}


def _dns_name(msg, off):
    labels = []
    jumped = False
    end = off
    for _ in range(128):
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            ptr = struct.unpack('!H', msg[off:off + 2])[0] & 0x3FFF
            if not jumped:
                end = off + 2
            jumped = True
            off = ptr
            continue
        labels.append(msg[off + 1:off + 1 + n].decode('ascii', 'replace'))
        off += 1 + n
    if not jumped:
        end = off
    return '.'.join(labels), end


def dns_query(name, qtype='TXT', port=53, server='127.0.0.1', tcp=False, timeout=2.0):
    """Ask SERVER:PORT directly (no resolver, no recursion desired) for NAME/QTYPE.  UDP by default;
    tcp=True uses TCP.  Returns a DnsAnswer (a truncated UDP answer has tc=True)."""
    qid = random.randint(0, 0xFFFF)
    q = struct.pack('!HHHHHH', qid, 0x0000, 1, 0, 0, 1)
    for label in name.rstrip('.').split('.'):
        b = label.encode('ascii')
        q += bytes([len(b)]) + b
    q += b'\0' + struct.pack('!HH', _QTYPES[qtype.upper()], 1)
    q += b'\0' + struct.pack('!HHIH', 41, 4096, 0, 0)  # EDNS0 OPT, 4096-byte UDP payload
    family = socket.AF_INET6 if ':' in server else socket.AF_INET
    if tcp:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect((server, port))
            s.sendall(struct.pack('!H', len(q)) + q)
            buf = b''
            while len(buf) < 2 or len(buf) < 2 + struct.unpack('!H', buf[:2])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    raise HarnessError('DNS TCP connection closed early')
                buf += chunk
            msg = buf[2:2 + struct.unpack('!H', buf[:2])[0]]
    else:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(q, (server, port))
            while True:
                msg, _ = s.recvfrom(65536)
                if struct.unpack('!H', msg[:2])[0] == qid:
                    break
    rid, flags, qd, an, ns, ar = struct.unpack('!HHHHHH', msg[:12])
    off = 12
    for _ in range(qd):
        _, off = _dns_name(msg, off)
        off += 4
    sections = []
    for count in (an, ns):
        rrs = []
        for _ in range(count):
            rname, off = _dns_name(msg, off)
            rtype, _rclass, ttl, rdlen = struct.unpack('!HHIH', msg[off:off + 10])
            off += 10
            rrs.append(DnsRR(rname, _QTYPE_NAMES.get(rtype, str(rtype)), ttl, msg[off:off + rdlen], msg, off))
            off += rdlen
        sections.append(rrs)
    return DnsAnswer(flags & 0xF, bool(flags & 0x0400), bool(flags & 0x0200), sections[0], sections[1])


# ---------------------------------------------------------------------------------------------
# Redis

class Redis(_Service):
    """redis-server on 127.0.0.1:PORT, --dir in the Workdir, no persistence.
    password: requirepass; unixsocket=True: also listen on WORKDIR/NAME/redis.sock (0777, path in
    .socket_path); debug_command=True: enable-debug-command local.  cli(*args) runs redis-cli
    and returns its stdout (str, stripped)."""

    name = 'redis'

    def __init__(self, workdir, port=None, password=None, unixsocket=False, debug_command=False, name='redis',
                 extra_args=()):
        super().__init__()
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.password = password
        self.dir = workdir.mkdir(name)
        self.socket_path = os.path.join(self.dir, 'redis.sock') if unixsocket else None
        self.debug_command = debug_command
        self.extra_args = list(extra_args)

    def start(self, timeout=DEFAULT_TIMEOUT):
        argv = [REDIS_SERVER, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', self.dir,
                '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes',
                '--logfile', '']
        if self.password:
            argv += ['--requirepass', self.password]
        if self.socket_path:
            argv += ['--unixsocket', self.socket_path, '--unixsocketperm', '777']
        if self.debug_command:
            argv += ['--enable-debug-command', 'local']
        argv += self.extra_args
        self._spawn(argv, os.path.join(self.dir, 'redis.log'), cwd=self.dir)
        self._wait_ready(self._ping, timeout, 'redis-server on port %d' % self.port)
        return self

    def _ping(self):
        try:
            with socket.create_connection(('127.0.0.1', self.port), timeout=1) as s:
                s.settimeout(2)
                cmd = b''
                if self.password:
                    pw = self.password.encode()
                    cmd += b'*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n' % (len(pw), pw)
                cmd += b'*1\r\n$4\r\nPING\r\n'
                s.sendall(cmd)
                buf = b''
                while b'PONG' not in buf and b'-' not in buf[:1]:
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    buf += chunk
                return b'+PONG' in buf
        except OSError:
            return False

    def cli(self, *args, check=True):
        argv = [REDIS_CLI, '-h', '127.0.0.1', '-p', str(self.port)]
        if self.password:
            argv += ['-a', self.password, '--no-auth-warning']
        r = subprocess.run(argv + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if check and r.returncode != 0:
            raise HarnessError('redis-cli %s failed: %s' % (args, r.stderr.decode('utf-8', 'replace')))
        return r.stdout.decode('utf-8', 'replace').strip()

    def __repr__(self):
        return 'Redis(port=%d)' % self.port


# ---------------------------------------------------------------------------------------------
# DKIM keys, signing and verification (no DNS)

def _openssl(*args, input=None):
    r = subprocess.run([OPENSSL] + list(args), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if r.returncode != 0:
        raise HarnessError('openssl %s failed: %s' % (' '.join(args), r.stderr.decode('utf-8', 'replace')))
    return r.stdout


def gen_rsa_key(directory, name='rsa', bits=2048):
    """Generate an RSA key with openssl into DIRECTORY/NAME.pem (0600).
    Returns (pem_path, dns_txt) where dns_txt is 'v=DKIM1; k=rsa; p=...'."""
    path = os.path.join(directory, name + '.pem')
    _openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:%d' % bits, '-out', path)
    os.chmod(path, 0o600)
    der = _openssl('pkey', '-in', path, '-pubout', '-outform', 'DER')
    return path, 'v=DKIM1; k=rsa; p=' + base64.b64encode(der).decode()


def gen_ed25519_key(directory, name='ed25519'):
    """Generate an Ed25519 key with openssl into DIRECTORY/NAME.pem (0600).
    Returns (pem_path, dns_txt) with p= the raw 32-byte public key (RFC 8463)."""
    path = os.path.join(directory, name + '.pem')
    _openssl('genpkey', '-algorithm', 'ED25519', '-out', path)
    os.chmod(path, 0o600)
    der = _openssl('pkey', '-in', path, '-pubout', '-outform', 'DER')
    return path, 'v=DKIM1; k=ed25519; p=' + base64.b64encode(der[-32:]).decode()


def ed25519_seed_b64(pem_path):
    """The base64 32-byte seed of an Ed25519 PEM key (the form dkimpy's sign() takes)."""
    der = _openssl('pkey', '-in', pem_path, '-outform', 'DER')
    return base64.b64encode(der[-32:])


def sign_dkimpy(message, selector, domain, key_pem_path, algorithm='rsa-sha256', headers=None,
                canonicalize=(b'relaxed', b'simple')):
    """Sign MESSAGE (bytes) with dkimpy; returns the DKIM-Signature header line(s) (bytes, CRLF)
    to prepend.  ALGORITHM 'rsa-sha256' or 'ed25519-sha256'."""
    import dkim
    if algorithm.startswith('ed25519'):
        key = ed25519_seed_b64(key_pem_path)
    else:
        with open(key_pem_path, 'rb') as f:
            key = f.read()
    kw = {}
    if headers is not None:
        kw['include_headers'] = [h.encode() if isinstance(h, str) else h for h in headers]
    sig = dkim.sign(message, selector.encode(), domain.encode(), key, signature_algorithm=algorithm.encode(),
                    canonicalize=canonicalize, linesep=b'\r\n', **kw)
    return sig


class DkimResult:
    """One signature's verification: domain, selector, algorithm, result ('pass', 'fail',
    'unsupported', 'none', 'permerror', 'temperror'...), detail (reason text)."""

    def __init__(self, domain, selector, algorithm, result, detail=''):
        self.domain, self.selector, self.algorithm, self.result, self.detail = \
            domain, selector, algorithm, result, detail

    def __eq__(self, other):
        return isinstance(other, DkimResult) and self.__dict__ == other.__dict__

    def __repr__(self):
        return 'DkimResult(d=%s, s=%s, a=%s, %s%s)' % (self.domain, self.selector, self.algorithm, self.result,
                                                       ': ' + self.detail if self.detail else '')


def _keys_lookup(keys):
    table = {}
    for (sel, dom), txt in keys.items():
        table[('%s._domainkey.%s' % (sel, dom.rstrip('.'))).lower()] = txt
    return table


def verify_dkimpy(message, keys):
    """Verify every DKIM-Signature in MESSAGE (bytes) with dkimpy.  KEYS: {(selector, domain): TXT}.
    Returns a list of DkimResult, topmost signature first."""
    import logging
    import dkim
    table = _keys_lookup(keys)

    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        txt = table.get(n.rstrip('.').lower())
        return txt.encode() if txt is not None else None

    class Capture(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.msgs = []

        def emit(self, record):
            if record.levelno >= logging.INFO:
                self.msgs.append(record.getMessage())

    d = dkim.DKIM(message)
    sigs = [v for k, v in d.headers if k.lower() == b'dkim-signature']
    out = []
    for i, raw in enumerate(sigs):
        try:
            tags = dkim.util.parse_tag_value(raw)
        except Exception:  # noqa: BLE001
            tags = {}
        dom = tags.get(b'd', b'').decode('utf-8', 'replace')
        sel = tags.get(b's', b'').decode('utf-8', 'replace')
        alg = tags.get(b'a', b'').decode('utf-8', 'replace')
        logger = logging.getLogger('postmill.e2e.dkimpy.%d' % id(d))
        logger.propagate = False
        cap = Capture()
        logger.handlers = [cap]
        v = dkim.DKIM(message, logger=logger)
        try:
            ok = v.verify(idx=i, dnsfunc=dnsfunc)
            if ok:
                out.append(DkimResult(dom, sel, alg, 'pass'))
            else:
                detail = '; '.join(cap.msgs) or 'signature did not verify'
                if table.get(('%s._domainkey.%s' % (sel, dom)).lower()) is None:
                    detail = 'no key for %s._domainkey.%s' % (sel, dom)
                out.append(DkimResult(dom, sel, alg, 'fail', detail))
        except dkim.DKIMException as e:
            out.append(DkimResult(dom, sel, alg, 'fail', '%s: %s' % (type(e).__name__, e)))
    return out


def verify_mail_dkim(message, keys, timeout=60):
    """Verify every DKIM-Signature in MESSAGE with Perl's Mail::DKIM (verify_mail_dkim.pl, DNS
    replaced by KEYS).  Returns a list of DkimResult; an Ed25519 signature, which Debian 12's
    Mail::DKIM cannot check, comes back as result 'unsupported'."""
    fd, keyfile = tempfile.mkstemp(prefix='postmill-keys-', suffix='.txt')
    try:
        with os.fdopen(fd, 'w') as f:
            for name, txt in _keys_lookup(keys).items():
                f.write('%s %s\n' % (name, txt.replace('\n', ' ')))
        r = subprocess.run([PERL, VERIFY_MAIL_DKIM_PL, keyfile], input=message, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    finally:
        os.unlink(keyfile)
    if r.returncode != 0:
        raise HarnessError('verify_mail_dkim.pl failed (%d): %s' % (r.returncode, r.stderr.decode('utf-8', 'replace')))
    out = []
    for line in r.stdout.decode('utf-8', 'replace').splitlines():
        parts = line.split('\t')
        if len(parts) < 4:
            continue
        result, dom, sel, alg = parts[:4]
        detail = parts[4] if len(parts) > 4 else ''
        if alg.lower().startswith('ed25519') and result != 'pass':
            result = 'unsupported'
        out.append(DkimResult(dom, sel, alg, result, detail))
    return out


# ---------------------------------------------------------------------------------------------
# MacroMilter: a recording milter in Python (for checking what Postfix sends to milters)

SMFIC_NAMES = {b'A': 'abort', b'B': 'body', b'C': 'connect', b'D': 'macro', b'E': 'eom', b'H': 'helo',
               b'L': 'header', b'M': 'mail', b'N': 'eoh', b'O': 'optneg', b'Q': 'quit', b'R': 'rcpt',
               b'T': 'data', b'U': 'unknown', b'K': 'quit_nc'}


class MacroMilter:
    """A minimal milter (protocol 6) on 127.0.0.1:PORT run in a thread: accepts every message and
    records, per SMTP stage, the macros Postfix sent.  spec: 'inet:127.0.0.1:PORT' for
    smtpd_milters.  events: list of (stage, dict of macros or args) in arrival order;
    macros(stage) merges all macros seen for that stage ('connect', 'helo', 'mail', 'rcpt',
    'data', 'eoh', 'eom')."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.events = []
        self._lock = threading.Lock()
        self._sock = None
        self._thread = None
        self._stop = False

    @property
    def spec(self):
        return 'inet:127.0.0.1:%d' % self.port

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(('127.0.0.1', self.port))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        _register(self)
        return self

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv_exact(conn, n):
        buf = b''
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _session(self, conn):
        macro_stage = {b'C': 'connect', b'H': 'helo', b'M': 'mail', b'R': 'rcpt', b'T': 'data',
                       b'N': 'eoh', b'E': 'eom', b'L': 'header', b'U': 'unknown'}
        conn.settimeout(30)
        try:
            while True:
                (length,) = struct.unpack('!I', self._recv_exact(conn, 4))
                if length == 0 or length > 1 << 24:
                    return
                pkt = self._recv_exact(conn, length)
                cmd, data = pkt[:1], pkt[1:]

                def reply(code, payload=b''):
                    conn.sendall(struct.pack('!I', 1 + len(payload)) + code + payload)
                if cmd == b'O':
                    # version 6, no actions, all protocol steps wanted (flags 0)
                    reply(b'O', struct.pack('!III', 6, 0, 0))
                elif cmd == b'D':
                    stage = macro_stage.get(data[:1], data[:1].decode('ascii', 'replace'))
                    fields = data[1:].split(b'\0')
                    macros = {}
                    for j in range(0, len(fields) - 1, 2):
                        macros[fields[j].decode('utf-8', 'replace')] = fields[j + 1].decode('utf-8', 'replace')
                    with self._lock:
                        self.events.append(('macros:' + stage, macros))
                elif cmd in (b'Q',):
                    return
                elif cmd in (b'A', b'K'):
                    with self._lock:
                        self.events.append((SMFIC_NAMES[cmd], {}))
                elif cmd == b'E':
                    with self._lock:
                        self.events.append(('eom', {}))
                    reply(b'a')
                elif cmd == b'C':
                    host, _, rest = data.partition(b'\0')
                    info = {'hostname': host.decode('utf-8', 'replace'), 'family': rest[:1].decode('ascii', 'replace')}
                    if rest[:1] in (b'4', b'6') and len(rest) >= 3:
                        info['port'] = struct.unpack('!H', rest[1:3])[0]
                        info['address'] = rest[3:].rstrip(b'\0').decode('ascii', 'replace')
                    with self._lock:
                        self.events.append(('connect', info))
                    reply(b'c')
                else:
                    args = [a.decode('utf-8', 'replace') for a in data.split(b'\0') if a]
                    with self._lock:
                        self.events.append((SMFIC_NAMES.get(cmd, cmd.decode('ascii', 'replace')), {'args': args}))
                    reply(b'c')
        except (EOFError, OSError):
            return
        finally:
            conn.close()

    def macros(self, stage):
        """All macros sent for STAGE (merged over connections, later values win)."""
        out = {}
        with self._lock:
            for name, m in self.events:
                if name == 'macros:' + stage:
                    out.update(m)
        return out

    def stop(self):
        _unregister(self)
        self._stop = True
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(2)

    def __repr__(self):
        return 'MacroMilter(port=%d)' % self.port


# ---------------------------------------------------------------------------------------------
# unittest base class

import unittest  # noqa: E402


class E2ETestCase(unittest.TestCase):
    """TestCase with a fresh Workdir per test (self.wd) and helpers that start a service and
    register its stop() as a cleanup (run even when the test fails or raises):
        self.sink(**kw), self.postfix(sink_or_port, **kw), self.milter(argv, socket, **kw),
        self.knot(zones, **kw), self.redis(**kw), self.macro_milter(),
        self.sendmail(sink_or_port, **kw)."""

    def setUp(self):
        # keep the root short: unix socket paths (Postfix's queue/private/*, milter sockets) are
        # limited to 107 bytes
        self.wd = Workdir(prefix='pm-%s-' % self._testMethodName.replace('test_', '')[:12])
        self.addCleanup(self.wd.cleanup)

    def _started(self, obj, **start_kw):
        self.addCleanup(obj.stop)
        obj.start(**start_kw)
        return obj

    def sink(self, **kw):
        return self._started(Sink(self.wd, **kw))

    def postfix(self, relay=None, **kw):
        port = relay.port if isinstance(relay, Sink) else relay
        return self._started(Postfix(self.wd, relay_port=port, **kw))

    def milter(self, argv, socket_spec, **kw):
        return self._started(MilterProcess(self.wd, argv, socket_spec, **kw))

    def knot(self, zones, **kw):
        return self._started(Knot(self.wd, zones, **kw))

    def redis(self, **kw):
        return self._started(Redis(self.wd, **kw))

    def macro_milter(self):
        return self._started(MacroMilter())

    def sendmail(self, relay=None, **kw):
        port = relay.port if isinstance(relay, Sink) else relay
        return self._started(Sendmail(self.wd, relay_port=port, **kw))
