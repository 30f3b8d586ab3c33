#!/usr/bin/python3
# raw_huge_value - one header field of 100 KB (a References list, folded,
# as Postfix passes it: whole, in one SMFIC_HEADER packet; Postfix's
# header_size_limit is 102400). 100 KB is under dkim_max_header_bytes
# (256k), so the message must be signed; a 60 KB field first, and a
# normal message afterwards on a new connection. miltertest cannot send
# a field over 1 KB, hence this raw protocol script (lib/rawmilter.py).
# expect: RH1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: RH2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: RH3 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
import rawmilter as rm


def references(size):
    """a folded References value of about size bytes"""
    ids, n = [], 0
    while n < size:
        ids.append("<%08d.thread@client.test>" % len(ids))
        n += len(ids[-1]) + 2
    return "\n\t".join(ids)


def main(sock):
    problems = []
    for qid, size in (("RH1", 60 * 1000), ("RH2", 100 * 1000 - 100)):
        m = rm.Milter(sock)
        if m.connect("127.0.0.1") != b"c":
            rm.fail("%s: connect refused" % qid)
        hdrs = [("From", "alice@example.test"), ("Subject", "long thread"),
                ("References", references(size))]
        r = m.message(qid, hdrs, body=[b"A reply in a long thread.\r\n"])
        try:
            rm.expect_signed(r, rm.EXAMPLE)
        except AssertionError as e:
            problems.append("%s (References of %d bytes)" % (e, len(hdrs[2][1])))
        m.quit()
    # the milter still works
    m = rm.Milter(sock)
    m.connect("127.0.0.1")
    rm.expect_signed(m.message("RH3", [("From", "alice@example.test")]), rm.EXAMPLE)
    m.quit()
    if problems:
        rm.fail("; ".join(problems))


rm.run(main)
