#!/usr/bin/python3
# raw_engine_idle - idle connections cost no thread (issue 13, defect 5):
# instance "engine" (milter_max_workers = 4, milter_max_connections = 520).
#  - 500 negotiated, idle connections (Postfix keeps one per SMTP session):
#    the worker process keeps its threads bounded by the pool (libmilter,
#    and this engine before, ran one thread per connection: 500+);
#  - 5 busy connections beside them, 4 messages each: every message is
#    signed, each within the socket timeout;
#  - connections over milter_max_connections are closed at once (no wait
#    for a timeout) and the refusal is logged.
# instance: engine
# expect: EI* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
import threading
import time

import engineprobe as ep
import rawmilter as rm

IDLE = 500
BUSY = 5
MESSAGES = 4
LIMIT = 520		# milter_max_connections of the instance
WORKERS = 4		# milter_max_workers
# besides the workers: main, signal, reload and poller threads, and room
# for two more (libmilter itself needs 6 in all)
BOUND = WORKERS + 6


def busy(sock, t, out, errors):
    try:
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
        for k in range(MESSAGES):
            qid = "EI%dx%d" % (t, k)
            t0 = time.monotonic()
            r = m.message(qid, [("From", "alice@example.test"), ("Subject", qid)],
                          body=[b"busy %d %d\r\n" % (t, k)])
            got = ["%s/%s/%s" % (rm.tags(v).get("d"), rm.tags(v).get("s"),
                                 rm.tags(v).get("a")) for v in r.sigs]
            if r.closed or r.stage != "eom" or got != rm.EXAMPLE:
                raise AssertionError("%s: stopped at %s closed=%s signatures %s"
                                     % (qid, r.stage, r.closed, got))
            out.append((time.monotonic() - t0, r))
        m.quit()
    except Exception as e:
        errors.append("busy %d: %s: %s" % (t, type(e).__name__, e))


def main(sock):
    pid = ep.worker_pid(sock)
    idle = []
    for _ in range(IDLE):
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
        idle.append(m)
    n = ep.threads(pid)
    if n > BOUND:
        rm.fail("%d idle connections: %d threads in the worker, want at most %d"
                % (IDLE, n, BOUND))

    out, errors = [], []
    th = [threading.Thread(target=busy, args=(sock, t, out, errors)) for t in range(BUSY)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if errors:
        rm.fail("; ".join(errors))
    for _, r in out:
        rm.emit_verify(r)	# after the threads: one line each, whole
    n = ep.threads(pid)
    if n > BOUND:
        rm.fail("after the busy sessions: %d threads, want at most %d" % (n, BOUND))
    print("idle=%d busy=%d messages=%d threads=%d max_latency=%.3fs"
          % (IDLE, BUSY, len(out), n, max(t for t, _ in out)))

    # over the limit: closed at once, not left to time out
    refused = 0
    extra = []
    for _ in range(LIMIT + 10 - IDLE):
        t0 = time.monotonic()
        try:
            extra.append(rm.Milter(sock, timeout=10))
        except rm.Closed:
            refused += 1
            if time.monotonic() - t0 > 5:
                rm.fail("a refused connection took %.1f s to close" % (time.monotonic() - t0))
    if refused < 10:
        rm.fail("%d connections over %d refused, want at least 10" % (refused, LIMIT))
    ep.wait_log(sock, r"connection refused: \d+ connections open, the limit")
    for m in idle + extra:
        m.s.close()
    # the slots come back: a new connection is served
    deadline = time.monotonic() + 10
    while True:
        try:
            m = rm.Milter(sock, timeout=10)
            m.connect("127.0.0.1")
            break
        except rm.Closed:
            if time.monotonic() > deadline:
                rm.fail("no connection served 10 s after the idle ones closed")
            time.sleep(0.1)
    r = m.message("EIlast", [("From", "alice@example.test")])
    rm.expect_signed(r, rm.EXAMPLE)
    m.quit()


rm.run(main)
