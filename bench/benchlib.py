"""benchlib - what the benchmarks under bench/ share: /proc accounting, the counting sink, the lock.

Imported by bench/dkim-bench, bench/limit-bench, bench/auth-bench and bench/suite-bench (each
puts bench/ on sys.path; tests/e2e/harness.py must be importable, as they arrange).

  say(...)                    print and flush
  BenchError, Stopped         a run that cannot be trusted; SIGTERM/SIGHUP (on_signal)
  take_lock()                 one benchmark at a time (flock on WORK_BASE/lock; waits)
  proc_stat, proc_tree, cpu_ticks(roots)      utime+stime(+cutime+cstime) of process trees
  machine_busy_ticks, process_busy_ticks, user_ticks, other_load   the machine, and the CPU
                              that processes outside the benchmark used during a run
  vm_hwm_kb(roots), pss_kb(roots)             peak RSS (VmHWM sum) and PSS of process trees
  CountingSink                smtp-sink -c, its counter read by a thread, the moment it hit N
  cpu_busy, busy_processes, check_idle, machine_busy, cpu_model, run_out, sha256_file, comm
  find_orphans, handle_orphans    processes a killed benchmark left under WORK_BASE
"""

import hashlib
import os
import re
import signal
import subprocess
import threading
import time

import harness

SMTP_SINK = '/usr/sbin/smtp-sink'
WORK_BASE = '/var/lib/postmill-bench'
NOISE_LIMIT = 15  # % of one CPU used by processes outside the benchmark during a run
CLK_TCK = os.sysconf('SC_CLK_TCK')
PF_KTHREAD = 0x00200000
# the programs find_orphans() looks for (the name its command line starts with, which must name
# WORK_BASE somewhere): a Postfix master, the milters, smtp-sink, knotd
ORPHAN_PROGRAMS = ('master', 'postmill-', 'null_milter', 'opendkim', 'opendmarc', 'rspamd', 'smtp-sink', 'knotd')


class BenchError(Exception):
    """A run that cannot be trusted: the benchmark stops and says why."""


class Stopped(Exception):
    """SIGTERM/SIGHUP: unwind so that every process started here is stopped by its pid."""


def on_signal(signum, frame):
    raise Stopped('stopped by signal %d' % signum)


def take_lock():
    """One benchmark at a time: two at once on 2 cores measure each other.  Waits for the
    other one (its pid is in the lock file).  The lock goes with the process."""
    import fcntl
    os.makedirs(WORK_BASE, mode=0o755, exist_ok=True)
    fd = os.open(os.path.join(WORK_BASE, 'lock'), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.pread(fd, 32, 0).decode('ascii', 'replace').strip()
        say('another benchmark (pid %s) is running; waiting for it to finish' % (other or '?'))
        fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.pwrite(fd, b'%d\n' % os.getpid(), 0)
    return fd


def say(*args):
    print(*args, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 16), b''):
            h.update(chunk)
    return h.hexdigest()


def run_out(argv):
    """stdout+stderr of a short command, stripped ('' if it cannot run)."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return r.stdout.decode('utf-8', 'replace').strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return '(%s: %s)' % (argv[0], e)


# ---------------------------------------------------------------------------------------------
# /proc accounting

def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in ticks, or None if PID is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(')') + 2:].split()
    # fields[0] is field 3 (state): ppid=4, utime=14, stime=15, cutime=16, cstime=17
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def proc_tree(root):
    """ROOT and all its live descendants."""
    children = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            s = proc_stat(int(d))
            if s is not None:
                children.setdefault(s[0], []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if proc_stat(p) is None:
            continue
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(roots):
    """Total CPU ticks of every process under ROOTS, reaped children included."""
    total = 0
    for r in roots:
        for p in proc_tree(r):
            s = proc_stat(p)
            if s is not None:
                total += s[1] + s[2]
    return total


def process_busy_ticks():
    """Ticks all CPUs spent in processes so far (user+nice+system; irq/softirq time is charged
    to no process)."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2]


def machine_busy_ticks():
    """Ticks all CPUs spent busy so far (user+nice+system+irq+softirq; not idle, iowait, steal)."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


def user_ticks():
    """{pid: utime+stime+cutime+cstime} of every user-space process but init.  Kernel threads
    are left out: here they mostly work for us (ext4 journal and writeback of the Postfix
    queue), and init because it reaps the zombies of our own earlier runs."""
    out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit() or d == '1':
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
        except OSError:
            continue
        v = st[st.rindex(')') + 2:].split()
        if int(v[6]) & PF_KTHREAD:
            continue
        out[int(d)] = int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])
    return out


def comm(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()[:90] or '?'
    except OSError:
        return '?'


def vm_hwm_kb(roots):
    """Sum of VmHWM (peak RSS, kB) over every process under ROOTS."""
    total = 0
    for r in roots:
        for p in proc_tree(r):
            try:
                with open('/proc/%d/status' % p) as f:
                    for line in f:
                        if line.startswith('VmHWM:'):
                            total += int(line.split()[1])
            except OSError:
                pass
    return total


# ---------------------------------------------------------------------------------------------
# the far end: smtp-sink counting deliveries

class CountingSink:
    """smtp-sink -c on 127.0.0.1:PORT, no dumps.  A thread reads its running counter
    ("sess=N quit=N mesg=N\\r") and notes when mesg reached the target."""

    def __init__(self, workdir, name, target):
        self.port = harness.free_port()
        self.target = target
        self.logfile = workdir.path(name + '.log')
        self.proc = None
        self.count = 0
        self.t_done = None
        self.t_change = time.monotonic()
        self._thread = None

    def start(self):
        with open(self.logfile, 'ab') as err:
            self.proc = subprocess.Popen([SMTP_SINK, '-u', 'postfix', '-c', '-4', '127.0.0.1:%d' % self.port,
                                          '256'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err, close_fds=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        harness.wait_until(lambda: self.proc.poll() is not None or harness.port_open(self.port), 10,
                           'smtp-sink on port %d' % self.port)
        if self.proc.poll() is not None:
            raise BenchError('smtp-sink exited: %s' % harness.tail(self.logfile))
        return self

    def _read(self):
        fd = self.proc.stdout.fileno()
        rx = re.compile(rb'mesg=(\d+)')
        tail = b''
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            tail = (tail + chunk)[-256:]
            m = rx.findall(tail)
            if m:
                n = int(m[-1])
                if n != self.count:
                    self.count = n
                    self.t_change = now
                    if n >= self.target and self.t_done is None:
                        self.t_done = now

    def stop(self):
        if self.proc is not None:
            harness.terminate_popen(self.proc)
            self.proc.stdout.close()
            self.proc = None


# ---------------------------------------------------------------------------------------------
# the machine

def cpu_busy(seconds=2.0):
    """Fraction of all CPUs busy over SECONDS (from /proc/stat)."""
    def sample():
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def busy_processes(limit=5):
    """The processes that used the most CPU over the last second: [(pct, pid, command)]."""
    def ticks():
        out = {}
        for d in os.listdir('/proc'):
            if d.isdigit():
                s = proc_stat(int(d))
                if s is not None:
                    out[int(d)] = s[1]
        return out
    a = ticks()
    time.sleep(1.0)
    b = ticks()
    top = sorted(((b[p] - a.get(p, b[p])) * 100.0 / CLK_TCK, p) for p in b)[-limit:]
    res = []
    for pct, p in reversed(top):
        if pct < 5:
            continue
        try:
            with open('/proc/%d/cmdline' % p, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()[:100]
        except OSError:
            cmd = '?'
        res.append((pct, p, cmd))
    return res


def find_orphans():
    """Processes of an earlier benchmark that died without cleaning up (SIGKILL, a tool's
    timeout): a Postfix master, a milter, knotd or smtp-sink whose command line names a
    run directory under WORK_BASE.  We hold the lock, so no live benchmark owns them.  An
    orphaned Postfix keeps retrying its queue every second or two and takes CPU from every run."""
    me = set(proc_tree(os.getpid()))
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) in me:
            continue
        cmd = comm(int(d))
        prog = os.path.basename(cmd.split()[0]) if cmd.split() else ''
        if WORK_BASE + '/' in cmd and prog.startswith(ORPHAN_PROGRAMS):
            out.append((int(d), cmd))
    return out


def handle_orphans(reap):
    orphans = find_orphans()
    for pid, cmd in orphans:
        if reap:
            say('stopping a process left over by an earlier benchmark: pid %d %s' % (pid, cmd))
            harness.kill_pid(pid, signal.SIGTERM)  # a Postfix master takes its daemons along
        else:
            say('WARNING: left over by an earlier benchmark, still running and taking CPU: pid %d %s '
                '(stop it with kill %d, or run with --reap-orphans)' % (pid, cmd, pid))
    if reap and orphans:
        harness.wait_until(lambda: not any(harness.pid_alive(p) for p, _ in orphans), 15, 'left-over processes to exit')


def check_idle():
    """Print how busy the machine is before we start; other load skews every number."""
    busy = cpu_busy()
    with open('/proc/loadavg') as f:
        load = ' '.join(f.read().split()[:3])
    say('machine load before start: %.0f%% CPU busy over 2 s, loadavg %s' % (busy * 100, load))
    if busy > 0.10:
        say('WARNING: the machine is busy before the benchmark starts; the numbers will be noisy:')
        for pct, p, cmd in busy_processes():
            say('WARNING:   %5.0f%% of a CPU  pid %d  %s' % (pct, p, cmd))


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return '?'


def pss_kb(roots):
    """Sum of Pss (kB, /proc/PID/smaps_rollup) over every process under ROOTS: what they hold
    now, pages shared between them counted once (a forked worker's VmHWM counts its parent's
    pages again: rspamd's main process, proxy, normal worker and hs_helper share most)."""
    total = 0
    for r in roots:
        for p in proc_tree(r):
            try:
                with open('/proc/%d/smaps_rollup' % p) as f:
                    for line in f:
                        if line.startswith('Pss:'):
                            total += int(line.split()[1])
                            break
            except OSError:
                pass
    return total


def other_load(ours, all0, proc0, ours0, elapsed):
    """% of one CPU that user-space processes outside the trees of OURS used during a run of
    ELAPSED seconds that started with ALL0 = user_ticks(), PROC0 = process_busy_ticks() and
    OURS0 = cpu_ticks(OURS); and the top three ('12% pid 345 command').  Two estimates, each too
    high in its own way, so the smaller counts: (1) the processes outside our trees, but a parent
    that reaps a long-lived child during the run gets all of the child's CPU at once (capped at
    what the machine could have done meanwhile); (2) the machine's process time less ours, but
    that also counts the kernel threads working for us (ext4 journal, writeback of the queue)."""
    mine = set()
    for r in ours:
        mine.update(proc_tree(r))
    all1 = user_ticks()
    cap = elapsed * os.cpu_count() * CLK_TCK
    others = sorted((min(t - all0.get(p, 0), cap) * 100.0 / CLK_TCK / elapsed, p) for p, t in all1.items()
                    if p not in mine)
    other_ticks = min(sum(pct for pct, _ in others) / 100.0 * CLK_TCK * elapsed,
                      max(0, (process_busy_ticks() - proc0) - (cpu_ticks(ours) - ours0)))
    top = ['%.0f%% pid %d %s' % (pct, p, comm(p)[:50]) for pct, p in reversed(others[-3:]) if pct >= 3]
    return other_ticks * 100.0 / CLK_TCK / elapsed, top


def machine_busy(seconds=2.0):
    """% of all CPUs busy over SECONDS, and the processes that used the most CPU meanwhile."""
    def ticks():
        out = {}
        for d in os.listdir('/proc'):
            if d.isdigit():
                try:
                    with open('/proc/%s/stat' % d) as f:
                        st = f.read()
                except OSError:
                    continue
                v = st[st.rindex(')') + 2:].split()
                out[int(d)] = (int(v[11]) + int(v[12]), st[st.index('(') + 1:st.rindex(')')])
        return out
    b0, p0 = machine_busy_ticks(), ticks()
    time.sleep(seconds)
    b1, p1 = machine_busy_ticks(), ticks()
    pct = (b1 - b0) * 100.0 / CLK_TCK / seconds / os.cpu_count()
    top = sorted(((t - p0.get(pid, (0, ''))[0]) * 100.0 / CLK_TCK / seconds, pid, name)
                 for pid, (t, name) in p1.items())[-3:]
    return pct, ['%s[%d] %.0f%%' % (n, pid, c) for c, pid, n in reversed(top) if c >= 5]
