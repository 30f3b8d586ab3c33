#!/usr/bin/python3
"""run.py - drive postmill-dkim with miltertest scripts, no Postfix needed

Usage: /usr/bin/python3 tests/milter/run.py [NAME...]

In a fresh temp dir: make RSA-2048 and Ed25519 test keys (owned by the
run user, 0600 in a 0700 dir), key table, signing table, sender login map
and one postmill.conf per milter instance (INSTANCES); start each instance
with "postmill-dkim -f -c CONF" (stderr to a log file); run every
tests/milter/*.lua with "miltertest -s" (with -D socket= libdir= pidfile=
logfile= confdir= for its instance) and every tests/milter/raw_*.py with
the socket path as argument (scripts that speak the milter protocol
themselves, lib/rawmilter.py, for what miltertest cannot send); stop the
instances by the pid in dkim_pid_file; check the logs; print "PASS name"
or "FAIL name: why" per script and, last, "milter: N passed, M failed".
Exit 1 when anything failed. NAME arguments run only those scripts.

A script fails when it exits non-zero (a Lua script calls error()), when a
signed message it printed ("VERIFY qid hex", see lib/pm.lua) does not
verify with dkimpy against the test keys, or when the milter's decision
log line for one of its queue ids does not match its header comments:

    -- instance: strict                      (default: main)
    -- expect: QID action=skip reason=no_from !login=
    -- expect: QID none                      (no decision line at all)
    -- expect: PREFIX* action=sign ...       (every queue id starting with
                                              PREFIX, at least one)

Tokens must appear in the decision line ("QID: dkim: action=..."); a
token "!prefix" means no token starts with prefix; the line must end in
client=... [login=...] (milter_conn_decision()). Every decision line
of an instance must belong to an expected queue id, so queue ids (and
prefixes) must be unique in the suite. Any "runtime error",
"AddressSanitizer" or "LeakSanitizer" line in a log, a worker that died,
a milter that does not start, or one that does not exit 0 on SIGTERM, is
one more failure ("FAIL milter-INSTANCE: ...").

POSTMILL_BUILD (or BUILD, as scripts/run-tests sets it) selects the tree:
"build" (default) or "build/asan". POSTMILL_KEEP=1 keeps the temp dir
(it is also kept, and named, when something failed).
"""
import base64
import glob
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIBDIR = os.path.join(HERE, "lib")
BUILD = os.environ.get("POSTMILL_BUILD") or os.environ.get("BUILD") or "build"
MILTER = os.path.join(ROOT, BUILD, "bin", "postmill-dkim")
RUN_USER = "postmill"
SCRIPT_TIMEOUT = 20		# seconds per script
START_TIMEOUT = 10		# seconds for a socket to appear
STOP_TIMEOUT = 5		# seconds for SIGTERM to work

# name, domain, selector, algorithm (the key table rows)
KEYS = [
    ("rsa", "example.test", "s1", "rsa"),
    ("ed", "example.test", "e1", "ed25519"),
    ("rsa2", "other.test", "s2", "rsa"),
]
SIGNING_TABLE = "*@example.test rsa ed\n*@other.test rsa2\n"
# example.test belongs to alice, except carol's own address; other.test
# has keys but no owner in the map
LOGIN_MAP = "@example.test alice\ncarol@example.test carol\n"

# instance name -> extra postmill.conf lines ("{dir}": the instance's
# directory; a signing table there starts as a copy of SIGNING_TABLE)
INSTANCES = {
    "main": {},
    "strict": {"dkim_unsignable_action": "tempfail",
               "dkim_login_mismatch_action": "reject"},
    "simple": {"dkim_canonicalization": "simple/simple"},
    "reload": {"dkim_signing_table": "{dir}/signing.table"},
    # the engine's limits (engine/mproto.h), small enough to reach in a test
    "engine": {"milter_max_workers": "4", "milter_max_connections": "520",
               "milter_memory_limit": "6m"},
    "deadline": {"milter_io_timeout": "2s", "milter_max_workers": "4"},
}

SANITIZER_RE = re.compile(r"runtime error|AddressSanitizer|LeakSanitizer")
# the supervisor restarts a worker that died: say so instead
WORKER_DIED_RE = re.compile(r"worker killed by signal|worker exited with status"
                            r"|worker failed to start")
DECISION_RE = re.compile(r"^\S+ \S+\[\d+\]: (\S+): dkim: (action=.*)$")
# every decision line ends so (milter_conn_decision(), common/milter_conn.h)
DECISION_TAIL_RE = re.compile(r" client=\S+( login=\S+)?$")
EXPECT_RE = re.compile(r"^\s*(?:--|#)\s*expect:\s*(\S+)\s*(.*?)\s*$")
INSTANCE_RE = re.compile(r"^\s*(?:--|#)\s*instance:\s*(\S+)\s*$")


def sh(*argv, **kw):
    """run a command, raise with its output on failure"""
    p = subprocess.run(argv, capture_output=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                p.stderr.decode(errors="replace")))
    return p.stdout


def make_keys(tmp):
    """generate the keys, return the DNS TXT records by owner name"""
    pw = pwd.getpwnam(RUN_USER)
    kdir = os.path.join(tmp, "keys")
    os.mkdir(kdir, 0o700)
    procs = []
    for name, _, _, alg in KEYS:
        path = os.path.join(kdir, name + ".pem")
        argv = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048"] if alg == "rsa" else \
               ["openssl", "genpkey", "-algorithm", "ed25519"]
        procs.append((path, subprocess.Popen(argv + ["-out", path],
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE)))
    for path, p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError("openssl genpkey %s: %s" % (path, err.decode()))
    records = {}
    rows = []
    for name, domain, selector, alg in KEYS:
        path = os.path.join(kdir, name + ".pem")
        der = sh("openssl", "pkey", "-in", path, "-pubout", "-outform", "DER")
        if alg == "ed25519":
            p = base64.b64encode(der[-32:]).decode()   # raw key (RFC 8463)
        else:
            p = base64.b64encode(der).decode()
        records["%s._domainkey.%s" % (selector, domain)] = \
            ("v=DKIM1; k=%s; p=%s" % (alg, p)).encode()
        rows.append("%s %s:%s:%s\n" % (name, domain, selector, path))
        os.chmod(path, 0o600)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chown(kdir, pw.pw_uid, pw.pw_gid)
    with open(os.path.join(tmp, "key.table"), "w") as f:
        f.writelines(rows)
    return records


def write_configs(tmp):
    with open(os.path.join(tmp, "signing.table"), "w") as f:
        f.write(SIGNING_TABLE)
    with open(os.path.join(tmp, "login.map"), "w") as f:
        f.write(LOGIN_MAP)
    for inst, extra in INSTANCES.items():
        d = os.path.join(tmp, inst)
        os.mkdir(d, 0o755)
        conf = {
            "dkim_socket": "unix:" + os.path.join(d, "dkim.sock"),
            "dkim_pid_file": os.path.join(d, "dkim.pid"),
            "dkim_key_table": os.path.join(tmp, "key.table"),
            "dkim_signing_table": os.path.join(tmp, "signing.table"),
            "dkim_sender_login_map": os.path.join(tmp, "login.map"),
        }
        conf.update({k: v.format(dir=d) for k, v in extra.items()})
        if conf["dkim_signing_table"].startswith(d + "/"):
            with open(conf["dkim_signing_table"], "w") as f:
                f.write(SIGNING_TABLE)
        with open(os.path.join(d, "postmill.conf"), "w") as f:
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))


class Instance:
    def __init__(self, tmp, name):
        self.name = name
        self.dir = os.path.join(tmp, name)
        self.sock = os.path.join(self.dir, "dkim.sock")
        self.pidfile = os.path.join(self.dir, "dkim.pid")
        self.log = os.path.join(self.dir, "dkim.log")
        self.proc = None
        self.problems = []

    def start(self):
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [MILTER, "-f", "-c", os.path.join(self.dir, "postmill.conf")],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            cwd=self.dir)
        logf.close()

    def wait_ready(self, deadline):
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.problems.append("exited with status %d at start-up:\n%s"
                                     % (self.proc.returncode, self.log_tail()))
                return False
            try:
                if stat.S_ISSOCK(os.stat(self.sock).st_mode) \
                        and os.path.exists(self.pidfile):
                    return True
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        self.problems.append("no socket after %d s:\n%s"
                             % (START_TIMEOUT, self.log_tail()))
        return False

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            if not self.problems:
                self.problems.append("exited by itself with status %d"
                                     % self.proc.returncode)
            return
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError) as e:
            self.problems.append("cannot read pid file: %s" % e)
            pid = self.proc.pid
        if pid != self.proc.pid:
            self.problems.append("pid file says %d, supervisor is %d"
                                 % (pid, self.proc.pid))
        os.kill(pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.problems.append("still running %d s after SIGTERM" % STOP_TIMEOUT)
            self.proc.kill()
            self.proc.wait()
            return
        if rc != 0:
            self.problems.append("exited with status %d after SIGTERM" % rc)

    def log_lines(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def log_tail(self, n=15):
        return "\n".join(self.log_lines()[-n:])


def parse_header(path):
    """the instance name and the expectations {qid: [tokens] or None}"""
    inst = "main"
    expect = {}
    with open(path) as f:
        for line in f:
            m = INSTANCE_RE.match(line)
            if m:
                inst = m.group(1)
                continue
            m = EXPECT_RE.match(line)
            if m:
                qid, rest = m.group(1), m.group(2).split()
                if qid in expect:
                    raise ValueError("%s: queue id %s expected twice" % (path, qid))
                expect[qid] = None if rest == ["none"] else rest
    return inst, expect


def verify_signed(qid, hexmsg, records):
    """check every DKIM-Signature of one printed message with dkimpy"""
    import dkim
    msg = bytes.fromhex(hexmsg)

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip(".").lower())

    nsig = len(re.findall(rb"(?im)^dkim-signature:", msg.split(b"\r\n\r\n", 1)[0]))
    if nsig == 0:
        return ["%s: printed for verification but has no signature" % qid]
    problems = []
    d = dkim.DKIM(msg)
    for i in range(nsig):
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except Exception as e:		# dkimpy raises its own and others
            ok, why = False, "%s: %s" % (type(e).__name__, e)
        else:
            why = "signature does not verify"
        if not ok:
            problems.append("%s: signature %d: %s" % (qid, i + 1, why))
    return problems


def check_log(qid, want, lines, script_ok):
    """problems with the decision lines of one queue id; a script that
    failed may not have sent every message: no complaint about those"""
    if not lines and not script_ok:
        return []
    if want is None:
        if lines:
            return ["%s: want no decision line, got: %s" % (qid, " | ".join(lines))]
        return []
    if len(lines) != 1:
        return ["%s: want one decision line with %s, got %d%s"
                % (qid, " ".join(want), len(lines),
                   (": " + " | ".join(lines)) if lines else "")]
    toks = lines[0].split()
    missing = [t for t in want if not t.startswith("!") and t not in toks]
    unwanted = [x for t in want if t.startswith("!")
                for x in toks if x.startswith(t[1:])]
    why = (["lacks " + " ".join(missing)] if missing else []) + \
        (["has " + " ".join(unwanted)] if unwanted else [])
    if not DECISION_TAIL_RE.search(lines[0]):
        why.append("does not end in client=... [login=...]")
    if why:
        return ["%s: log line %s: %s" % (qid, "; ".join(why), lines[0])]
    return []


def run_script(path, inst, records):
    """run one script; (problems, output lines)"""
    if path.endswith(".lua"):
        argv = ["miltertest", "-D", "socket=" + inst.sock,
                "-D", "libdir=" + LIBDIR, "-D", "pidfile=" + inst.pidfile,
                "-D", "logfile=" + inst.log, "-D", "confdir=" + inst.dir,
                "-s", path]
    else:
        argv = ["/usr/bin/python3", path, inst.sock]
    env = dict(os.environ, PYTHONPATH=LIBDIR, PYTHONDONTWRITEBYTECODE="1")
    try:
        p = subprocess.run(argv, capture_output=True, timeout=SCRIPT_TIMEOUT,
                           cwd=HERE, env=env)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    problems = []
    shown = []
    for line in out.splitlines():
        if line.startswith("VERIFY "):
            _, qid, hexmsg = line.split(" ", 2)
            problems += verify_signed(qid, hexmsg, records)
        else:
            shown.append(line)
    shown += err.splitlines()
    if rc != 0:
        problems.insert(0, "exit %s%s" % (rc, (": " + shown[-1]) if shown else
                                          " with no message"))
    return problems, shown


def main():
    t0 = time.monotonic()
    only = set(sys.argv[1:])
    scripts = sorted(glob.glob(os.path.join(HERE, "*.lua"))) + \
        sorted(glob.glob(os.path.join(HERE, "raw_*.py")))
    if only:
        scripts = [s for s in scripts
                   if os.path.splitext(os.path.basename(s))[0] in only]
    results = []	# (name, problems, output[, instance, expectations])
    tmp = tempfile.mkdtemp(prefix="postmill-milter-")
    os.chmod(tmp, 0o755)	# the run user reaches keys/ and the tables
    instances = {}
    keep = os.environ.get("POSTMILL_KEEP") == "1"
    try:
        if not os.access(MILTER, os.X_OK):
            raise RuntimeError("%s not built (run make)" % MILTER)
        if shutil.which("miltertest") is None:
            raise RuntimeError("miltertest not installed (apt-get install miltertest)")
        try:
            import dkim  # noqa: F401 (verify_signed needs it)
        except ImportError:
            raise RuntimeError("dkimpy missing: apt-get install python3-dkim python3-nacl")
        records = make_keys(tmp)
        write_configs(tmp)
        plan = []
        for s in scripts:
            inst, expect = parse_header(s)
            if inst not in INSTANCES:
                raise RuntimeError("%s: unknown instance %s" % (s, inst))
            plan.append((s, inst, expect))
        for name in INSTANCES:
            instances[name] = Instance(tmp, name)
            instances[name].start()
        deadline = time.monotonic() + START_TIMEOUT
        ready = {n: i.wait_ready(deadline) for n, i in instances.items()}
        for s, iname, expect in plan:
            name = os.path.splitext(os.path.basename(s))[0]
            if not ready[iname]:
                results.append((name, ["milter instance %s did not start" % iname], []))
                continue
            problems, shown = run_script(s, instances[iname], records)
            results.append([name, problems, shown, iname, expect])
    except Exception as e:
        results.append(("setup", ["%s: %s" % (type(e).__name__, e)], []))
    finally:
        for i in instances.values():
            i.stop()

    # the logs, now that every instance has exited
    decisions = {}		# instance -> {qid: [lines]}
    for n, i in instances.items():
        d = decisions[n] = {}
        for line in i.log_lines():
            m = DECISION_RE.match(line)
            if m:
                d.setdefault(m.group(1), []).append(m.group(2))
            if SANITIZER_RE.search(line):
                i.problems.append("sanitizer report: " + line)
            elif WORKER_DIED_RE.search(line):
                i.problems.append(line)
    expected = {n: set() for n in instances}
    for r in results:
        if len(r) == 5:
            name, problems, shown, iname, expect = r
            exited_ok = not (problems and problems[0].startswith("exit "))
            d = decisions[iname]
            for qid, want in expect.items():
                if not qid.endswith("*"):
                    expected[iname].add(qid)
                    problems += check_log(qid, want, d.get(qid, []), exited_ok)
                    continue
                qids = sorted(q for q in d if q.startswith(qid[:-1]))
                expected[iname].update(qids)
                if not qids and want is not None and exited_ok:
                    problems.append("%s: no decision line at all" % qid)
                for q in qids:
                    problems += check_log(q, want, d[q], exited_ok)
    for n, d in decisions.items():
        stray = sorted(set(d) - expected[n])
        if stray:
            instances[n].problems.append("decision lines for unexpected queue ids: "
                                         + ", ".join("%s (%s)" % (q, d[q][0]) for q in stray))
    for n, i in instances.items():
        if i.problems:
            results.append(("milter-%s" % n, i.problems, []))

    passed = failed = 0
    for r in results:
        name, problems, shown = r[0], r[1], r[2]
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, problems[0]))
            for p in problems[1:]:
                print("    " + p.replace("\n", "\n    "))
            for line in shown[-20:]:
                print("    | " + line)
        else:
            passed += 1
            print("PASS %s" % name)
    if failed or keep:
        print("temp dir kept: %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("time: %.1f s" % (time.monotonic() - t0))
    print("milter: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
