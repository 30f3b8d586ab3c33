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
GIVE = 14		# run.py gives a script 20 s


def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def message(i):
    qid = ("EU%d" % i).encode()
    return (pkt(b"D", b"Mi\0" + qid + b"\0") + pkt(b"M", b"<alice@example.test>\0")
            + pkt(b"L", b"From\0 alice@example.test\0") + pkt(b"N")
            + pkt(b"B", b"unread %d\r\n" % i) + pkt(b"E"))


def served(sock):
    o = rm.Milter(sock, timeout=10)
    o.connect("127.0.0.1")
    rm.expect_signed(o.message("EV1", [("From", "alice@example.test")]), rm.EXAMPLE)
    o.quit()


def main(sock):
    m = rm.Milter(sock, timeout=10)
    m.connect("127.0.0.1")
    m.s.setblocking(False)
    sent = 0
    pending = b""
    broken = False
    t0 = time.monotonic()
    # write until the milter ends the session: it reads while it can
    # write its replies, then waits for us to read them, and gives up
    # TIMEOUT seconds later (shutdown: our next write fails)
    while time.monotonic() - t0 < GIVE:
        if not pending:
            pending = message(sent)
            sent += 1
            if sent == 20:
                served(sock)	# another session meanwhile
        _, w, _ = select.select([], [m.s], [], 0.2)
        if not w:
            continue
        try:
            pending = pending[m.s.send(pending):]
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            broken = True
            break
    if not broken:
        rm.fail("the milter still took input %d s after we stopped reading (%d messages "
                "written)" % (GIVE, sent))
    if sent < 20:
        rm.fail("only %d messages written before the session ended" % sent)
    ep.wait_log(sock, r"session ended: no reading of our replies from the MTA within "
                r"%d seconds" % TIMEOUT, timeout=5)


rm.run(main)
