#!/usr/bin/python3
# raw_engine_memory - a budget for buffered protocol data, and buffers
# that shrink (issue 13, defect 7): instance "engine"
# (milter_memory_limit = 6m).
#  - 12 connections each send most of a header packet of nearly 1 MiB and
#    hold it (40 such took 339 MB before, with nothing to stop them): at
#    most 6 MiB worth stay open, the others are ended or refused, and the
#    reason is logged; once they close, a new session is served;
#  - 10 connections one after the other each send a whole 1 MiB header
#    (then ABORT) and stay open: 10 MiB would not fit the budget if their
#    read buffers kept that size, so every one of them then signs a
#    normal message.
# instance: engine
# expect: EM* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: EB* action=skip reason=headers_too_large
import socket
import struct
import time

import engineprobe as ep
import rawmilter as rm

HOGS = 12
BUDGET = 6 * 1024 * 1024
PACKET = 1024 * 1024 - 100	# under the engine's 1 MiB - 1 packet limit
SENT = 900 * 1024
BIG = 10


def alive(m):
    """False once the milter closed the connection"""
    m.s.setblocking(False)
    try:
        return m.s.recv(1) != b""
    except BlockingIOError:
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False
    finally:
        m.s.setblocking(True)


def signed(sock, qid, m=None):
    own = m is None
    if own:
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
    r = m.message(qid, [("From", "alice@example.test"), ("Subject", qid)])
    rm.expect_signed(r, rm.EXAMPLE)
    if own:
        m.quit()


def main(sock):
    hogs = []
    for i in range(HOGS):
        try:
            m = rm.Milter(sock, timeout=10)
            m.connect("127.0.0.1")
            m.s.sendall(struct.pack(">I", PACKET) + b"L" + b"x" * (SENT - 5))
            hogs.append(m)
        except (rm.Closed, BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
    # the milter reads what was sent, then ends what does not fit
    deadline = time.monotonic() + 10
    while True:
        held = [m for m in hogs if alive(m)]
        if len(held) * SENT <= BUDGET or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(held) * SENT > BUDGET:
        rm.fail("%d connections hold %d KiB each, over the %d KiB budget"
                % (len(held), SENT // 1024, BUDGET // 1024))
    if not held:
        rm.fail("no connection holds a partial packet: the budget took them all")
    ep.wait_log(sock, r"memory budget of \d+ bytes spent")
    print("hogs=%d held=%d" % (HOGS, len(held)))
    for m in hogs:
        m.s.close()
    # the budget comes back
    deadline = time.monotonic() + 10
    while True:
        try:
            signed(sock, "EM1")
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)

    big = []
    value = "v" * (PACKET - 64)
    for i in range(BIG):
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
        r = m.message("EB%d" % i, [("From", "alice@example.test"), ("X-Big", value)],
                      until="body")
        if r.closed:
            rm.fail("big header %d: the milter closed the connection at %s" % (i, r.stage))
        m.abort()
        big.append(m)
    for i, m in enumerate(big):
        signed(sock, "EM2x%d" % i, m)
    for m in big:
        m.quit()


rm.run(main)
