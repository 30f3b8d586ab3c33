#!/usr/bin/python3
# raw_concurrency - eight connections at once, each sending ten messages
# that alternate between example.test (two keys) and other.test (one
# key), with different bodies: every message gets exactly its own
# signatures, and all of them verify (libmilter runs one thread per
# connection; under ASan this is the race check).
# expect: CE* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: CO* action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
import threading

import rawmilter as rm

THREADS = 8
MESSAGES = 10


def worker(sock, t, out, errors):
    try:
        m = rm.Milter(sock, timeout=10)
        m.connect("127.0.0.1")
        for k in range(MESSAGES):
            example = k % 2 == 0
            qid = "%s%dx%d" % ("CE" if example else "CO", t, k)
            frm = "alice@example.test" if example else "o%d@other.test" % t
            body = [("thread %d message %d\r\n" % (t, k)).encode() * (1 + 50 * k)]
            r = m.message(qid, [("From", frm), ("Subject", qid)], body=body)
            want = rm.EXAMPLE if example else rm.OTHER
            if r.closed or r.stage != "eom":
                raise AssertionError("%s: stopped at %s closed=%s" % (qid, r.stage, r.closed))
            got = ["%s/%s/%s" % (rm.tags(v).get("d"), rm.tags(v).get("s"), rm.tags(v).get("a"))
                   for v in r.sigs]
            if got != want:
                raise AssertionError("%s: signatures %s, want %s" % (qid, got, want))
            out.append(r)
        m.quit()
    except Exception as e:
        errors.append("thread %d: %s: %s" % (t, type(e).__name__, e))


def main(sock):
    out, errors = [], []
    threads = [threading.Thread(target=worker, args=(sock, t, out, errors))
               for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in out:
        rm.emit_verify(r)
    if errors:
        rm.fail("; ".join(errors))
    if len(out) != THREADS * MESSAGES:
        rm.fail("%d messages signed, want %d" % (len(out), THREADS * MESSAGES))


rm.run(main)
