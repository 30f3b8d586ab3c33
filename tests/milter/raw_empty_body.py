#!/usr/bin/python3
# raw_empty_body - a message with no body at all: Postfix sends EOM with
# no SMFIC_BODY packet (which miltertest cannot do). It is signed, with
# the relaxed body hash of the empty body, and the next message on the
# connection gets its own body hash.
# expect: RE1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: RE2 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
# expect: RE3 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
import rawmilter as rm

EMPTY_RELAXED = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="	# sha256("")


def main(sock):
    m = rm.Milter(sock)
    if m.connect("127.0.0.1") != b"c":
        rm.fail("connect refused")
    r = m.message("RE1", [("From", "alice@example.test"), ("Subject", "empty")], body=None)
    rm.expect_signed(r, rm.EXAMPLE)
    for v in r.sigs:
        if rm.tags(v).get("bh") != EMPTY_RELAXED:
            rm.fail("RE1: bh=%s, want %s" % (rm.tags(v).get("bh"), EMPTY_RELAXED))
    r = m.message("RE2", [("From", "o@other.test")], body=[b"not empty\r\n"])
    rm.expect_signed(r, rm.OTHER)
    if rm.tags(r.sigs[0]).get("bh") == EMPTY_RELAXED:
        rm.fail("RE2: a body with text got the empty body hash")
    r = m.message("RE3", [("From", "alice@example.test")], body=None)
    rm.expect_signed(r, rm.EXAMPLE)
    if rm.tags(r.sigs[0]).get("bh") != EMPTY_RELAXED:
        rm.fail("RE3: the empty body after a non-empty one: bh=%s" % rm.tags(r.sigs[0]).get("bh"))
    m.quit()


rm.run(main)
