"""engineprobe - what a postmill-dkim instance of tests/milter/run.py holds
(for the raw_engine_*.py scripts): its worker process (the supervisor's
child), its threads and RSS from /proc, and its log. The instance's files
sit beside its socket: dkim.pid (the supervisor) and dkim.log."""
import os
import re
import time


def _dir(sock):
    return os.path.dirname(sock)


def worker_pid(sock):
    with open(os.path.join(_dir(sock), "dkim.pid")) as f:
        sup = int(f.read().strip())
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces
        if int(st[st.rindex(")") + 2:].split()[1]) == sup:
            return int(d)
    raise AssertionError("no worker process under supervisor %d" % sup)


def status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def threads(pid):
    return status(pid, "Threads")


def log_text(sock):
    with open(os.path.join(_dir(sock), "dkim.log"), "rb") as f:
        return f.read().decode(errors="replace")


def wait_log(sock, pattern, timeout=10):
    """the first log line matching pattern, or fail after timeout seconds"""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        for line in log_text(sock).splitlines():
            if rx.search(line):
                return line
        if time.monotonic() > deadline:
            raise AssertionError("no log line matching %r in %d s" % (pattern, timeout))
        time.sleep(0.05)
