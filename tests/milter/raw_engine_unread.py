#!/usr/bin/python3
# raw_engine_unread - an MTA that sends and never reads our replies
# (issue 13, defect 5): instance "deadline" (milter_io_timeout = 2s).
# A client pipelines messages (each end of message gets a reply and a
# signature header) and reads nothing: once the socket holds no more
# replies, the session waits in the engine's epoll set for the MTA to
# read, without a thread, and is ended when the timeout is up (logged);
# another session is served meanwhile.
# instance: deadline
# expect: EU* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: EV1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
import select
import struct
import time

import engineprobe as ep
import rawmilter as rm

TIMEOUT = 2
GIVE = 10


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def message(i):
    qid = ("EU%d" % i).encode()
    return (pkt(b"D", b"Mi\0" + qid + b"\0") + pkt(b"M", b"<alice@example.test>\0")
            + pkt(b"L", b"From\0 alice@example.test\0") + pkt(b"N")
            + pkt(b"B", b"unread %d\r\n" % i) + pkt(b"E"))


def main(sock):
    m = rm.Milter(sock, timeout=10)
    m.connect("127.0.0.1")
    m.s.setblocking(False)
    sent = 0
    t0 = time.monotonic()
    stuck_since = None
    # write until the milter stops taking input for a second: it waits for us
    while time.monotonic() - t0 < GIVE:
        data = message(sent)
        _, w, _ = select.select([], [m.s], [], 0.2)
        if not w:
            if stuck_since is None:
                stuck_since = time.monotonic()
            elif time.monotonic() - stuck_since > 1:
                break
            continue
        stuck_since = None
        try:
            n = m.s.send(data)
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        if n < len(data):
            m.s.setblocking(True)
            m.s.settimeout(GIVE)
            try:
                m.s.sendall(data[n:])
            except OSError:
                break
            m.s.setblocking(False)
        sent += 1
    if sent < 10:
        rm.fail("only %d messages written before the milter stopped reading" % sent)
    # another session is served while that one waits
    o = rm.Milter(sock, timeout=10)
    o.connect("127.0.0.1")
    rm.expect_signed(o.message("EV1", [("From", "alice@example.test")]), rm.EXAMPLE)
    o.quit()
    ep.wait_log(sock, r"session ended: no reading of our replies from the MTA within "
                r"%d seconds" % TIMEOUT, timeout=GIVE)
    # what was written before the end can still be read, then EOF
    m.s.setblocking(True)
    m.s.settimeout(GIVE)
    got = 0
    while True:
        try:
            chunk = m.s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += len(chunk)
    print("sent=%d messages, read %d bytes of replies after the end" % (sent, got))


rm.run(main)
