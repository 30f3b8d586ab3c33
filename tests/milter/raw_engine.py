#!/usr/bin/python3
# raw_engine - the milter protocol engine (engine/) against an MTA that
# writes oddly or breaks the protocol:
#  - a message whose packets arrive one byte per write, and one whose
#    packets all arrive in a single write (Postfix pipelines NR steps),
#    are both signed;
#  - the queue id given as "{i}" instead of "i" is found (libmilter: the
#    two spell one macro);
#  - malformed packets (length 0, longer than the limit, an unterminated
#    header, an unknown command) end that connection only: the milter
#    still serves the next one;
#  - an out-of-sequence command (a header before MAIL) gets no callback.
# expect: EP1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: EP2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
# expect: EP3 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
# expect: EP4 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
import socket
import struct
import time

import rawmilter as rm


class Dribble(rm.Milter):
    """writes every packet one byte at a time"""

    def send(self, cmd, data=b""):
        pkt = struct.pack(">I", len(data) + 1) + cmd + data
        try:
            for i in range(len(pkt)):
                self.s.send(pkt[i:i + 1])
        except (BrokenPipeError, ConnectionResetError) as e:
            raise rm.Closed(str(e))


class Pipeline(rm.Milter):
    """holds packets until a reply is awaited, then writes them at once"""

    def __init__(self, path):
        self.pending = b""
        super().__init__(path)

    def send(self, cmd, data=b""):
        self.pending += struct.pack(">I", len(data) + 1) + cmd + data

    def recv(self):
        if self.pending:
            try:
                self.s.sendall(self.pending)
            except (BrokenPipeError, ConnectionResetError) as e:
                raise rm.Closed(str(e))
            self.pending = b""
        return super().recv()

    def quit(self):
        # what is pending, then QUIT, in one write: after QUIT the milter
        # closes, and a later write (even an empty one) gets EPIPE
        self.send(b"Q")
        self.s.sendall(self.pending)
        self.s.close()


class BraceQid(rm.Milter):
    """sends the queue id macro as "{i}" """

    def macros(self, stage, pairs):
        super().macros(stage, [("{i}" if k == "i" else k, v) for k, v in pairs])


def expect_dropped(sock, what, payload):
    """the milter closes a connection that sends payload after negotiating"""
    m = rm.Milter(sock)
    m.s.sendall(payload)
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            got = m.s.recv(4096)
        except socket.timeout:
            rm.fail("%s: the milter neither answered nor closed" % what)
        except ConnectionResetError:
            got = b""
        if not got:
            m.s.close()
            return
    rm.fail("%s: the connection stayed open" % what)


def main(sock):
    m = Dribble(sock)
    if m.connect("127.0.0.1") != b"c":
        rm.fail("dribble: connect refused")
    rm.expect_signed(m.message("EP1", [("From", "alice@example.test"),
                                       ("Subject", "one byte at a time")]), rm.EXAMPLE)
    m.quit()

    m = Pipeline(sock)
    if m.connect("127.0.0.1") != b"c":
        rm.fail("pipeline: connect refused")
    r = m.message("EP2", [("From", "alice@example.test"), ("Subject", "all at once")]
                  + [("X-Filler-%d" % i, "x" * 50) for i in range(40)],
                  body=[b"line\r\n" * 2000])
    rm.expect_signed(r, rm.EXAMPLE)
    m.quit()

    m = BraceQid(sock)
    m.connect("127.0.0.1")
    rm.expect_signed(m.message("EP3", [("From", "o@other.test")]), rm.OTHER)
    m.quit()

    hdr = lambda n, cmd, data=b"": struct.pack(">I", n) + cmd + data  # noqa: E731
    expect_dropped(sock, "length 0", hdr(0, b""))
    expect_dropped(sock, "over the limit", hdr(64 * 1024 * 1024, b"B"))
    conn = b"client.test\0" + b"4" + struct.pack(">H", 25) + b"127.0.0.1\0"
    mail = b"<a@example.test>\0"
    expect_dropped(sock, "unterminated header",
                   hdr(1 + len(conn), b"C", conn) + hdr(1 + len(mail), b"M", mail)
                   + hdr(1 + 12, b"L", b"From\0a@b.c.d"))
    expect_dropped(sock, "unknown command", hdr(1, b"Z"))

    # a header before MAIL is out of sequence: ignored, then a normal message
    m = rm.Milter(sock)
    m.connect("127.0.0.1")
    m.send(b"L", b"From\0 mallory@example.test\0")
    rm.expect_signed(m.message("EP4", [("From", "o@other.test")]), rm.OTHER)
    m.quit()


rm.run(main)
