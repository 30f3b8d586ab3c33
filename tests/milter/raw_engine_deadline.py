#!/usr/bin/python3
# raw_engine_deadline - a deadline on a whole packet, and no thread for a
# slow client (issue 13, defect 5): instance "deadline"
# (milter_io_timeout = 2s, milter_max_workers = 4).
#  - 30 negotiated connections each start a header packet and then send
#    one byte every 0.25 s ("slow loris"): the timeout was per read, so
#    each byte bought another 2 s and such a client was never closed;
#    now the whole packet must arrive within 2 s of its first byte: each
#    is closed within a few seconds (the script gives them 10), the
#    expiry is logged, and no thread is held meanwhile;
#  - a normal session beside them is served, before and after.
# instance: deadline
# expect: ED* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
import socket
import struct
import time

import engineprobe as ep
import rawmilter as rm

SLOW = 30
TIMEOUT = 2		# milter_io_timeout of the instance
GIVE = 10		# seconds the script waits for every slow client to be closed
BOUND = 4 + 6		# workers + main, signal, reload, poller and two spare


def signed(sock, qid):
    m = rm.Milter(sock, timeout=10)
    m.connect("127.0.0.1")
    r = m.message(qid, [("From", "alice@example.test"), ("Subject", qid)])
    rm.expect_signed(r, rm.EXAMPLE)
    m.quit()


def main(sock):
    pid = ep.worker_pid(sock)
    signed(sock, "ED1")
    slow = []
    for _ in range(SLOW):
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
        m.s.setblocking(False)
        # a header packet of 1,000 bytes, of which only the start comes
        m.s.send(struct.pack(">I", 1000) + b"L")
        slow.append(m)
    t0 = time.monotonic()
    open_ = set(range(SLOW))
    most = 0
    while open_ and time.monotonic() - t0 < GIVE:
        for i in list(open_):
            s = slow[i].s
            try:
                if s.recv(4096) == b"":
                    open_.discard(i)
                    continue
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                open_.discard(i)
                continue
            try:
                s.send(b"x")
            except (BrokenPipeError, ConnectionResetError):
                open_.discard(i)
            except BlockingIOError:
                pass
        most = max(most, ep.threads(pid))
        time.sleep(0.25)
    took = time.monotonic() - t0
    if open_:
        rm.fail("%d of %d slow clients still open after %d s (one byte every 0.25 s, "
                "milter_io_timeout %d s)" % (len(open_), SLOW, GIVE, TIMEOUT))
    if took < TIMEOUT - 0.5:
        rm.fail("slow clients closed after %.1f s, before the %d s deadline" % (took, TIMEOUT))
    if most > BOUND:
        rm.fail("%d threads while %d slow clients dribbled, want at most %d"
                % (most, SLOW, BOUND))
    ep.wait_log(sock, r"session ended: no complete packet from the MTA within %d seconds"
                % TIMEOUT)
    print("slow=%d closed_after=%.1fs threads_max=%d" % (SLOW, took, most))
    for m in slow:
        m.s.close()
    signed(sock, "ED2")


rm.run(main)
