"""rawmilter - a small MTA side of the milter protocol (version 6), for the
tests/milter/raw_*.py scripts: what miltertest cannot do.

miltertest copies each header field into a 1 KB buffer, always sends a
body (an invented one if the script sends none) and cannot show the text
of an SMFIR_REPLYCODE reply. This client sends what Postfix sends
(milter8.c): whole header fields of any size in one SMFIC_HEADER packet,
" " + value when SMFIP_HDR_LEADSPC was negotiated, no SMFIC_BODY packet
for an empty body, and it returns reply texts and header insertions.

    m = Milter(sock_path)                 # negotiates
    m.connect("127.0.0.1")                # SMFIC_CONNECT, returns reply
    r = m.message("Q1", [("From", "a@example.test")], body=[b"hi\\r\\n"])
    r.stage, r.reply, r.text, r.sigs, r.closed

For the other milters (tests/e2e/test_protocol.py): message(rcpts=[...])
sends SMFIC_RCPT for each (replies in r.rcpt_replies), message(until=STAGE)
stops before STAGE ("rcpt", "data", "eoh", "body", "eom") without ending
the message, so that the caller can abort() it or drop the connection; macros=[(name, value)]
adds to the MAIL stage's macros;
r.fields holds the milter's "h" and "i" insertions, r.mods the other
end-of-message modifications (e.g. SMFIR_CHGFROM "e").

r.stage is where the message stopped: "mail", "data", "eoh" or "eom".
r.closed is True when the milter dropped the connection (r.stage then
says during which step). r.sigs are the DKIM-Signature values in the
order of the finished message (insertions applied by their index).
r.message() rebuilds the message as Postfix would store it, for dkimpy.
Problems raise AssertionError via fail().
"""
import socket
import struct
import sys

SMFIP_NOCONNECT = 0x1
SMFIP_NOHELO = 0x2
SMFIP_NOMAIL = 0x4
SMFIP_NORCPT = 0x8
SMFIP_NOBODY = 0x10
SMFIP_NOHDRS = 0x20
SMFIP_NOEOH = 0x40
SMFIP_NR_HDR = 0x80
SMFIP_NOUNKNOWN = 0x100
SMFIP_NODATA = 0x200
SMFIP_NR_CONN = 0x1000
SMFIP_NR_HELO = 0x2000
SMFIP_NR_MAIL = 0x4000
SMFIP_NR_RCPT = 0x8000
SMFIP_NR_DATA = 0x10000
SMFIP_NR_EOH = 0x40000
SMFIP_NR_BODY = 0x80000
SMFIP_HDR_LEADSPC = 0x100000
SMFI_V6_PROT = 0x1FFFFF
SMFI_V6_ACTS = 0x1FF
SMFIF_ADDHDRS = 0x1
SMFIF_CHGBODY = 0x2
SMFIF_ADDRCPT = 0x4
SMFIF_DELRCPT = 0x8
SMFIF_CHGHDRS = 0x10
SMFIF_QUARANTINE = 0x20
SMFIF_CHGFROM = 0x40

FINAL = b"acdrty"		# accept continue discard reject tempfail replycode
CHUNK = 65535			# Postfix's MILTER_CHUNK_SIZE


class Closed(Exception):
    """the milter closed the connection"""


def fail(msg):
    raise AssertionError(msg)


class Result:
    def __init__(self, qid, headers, body, leadspace):
        self.qid = qid
        self.headers = headers
        self.body = body
        self.leadspace = leadspace
        self.stage = None
        self.reply = None		# one byte, e.g. b"c"
        self.text = None		# SMFIR_REPLYCODE text
        self.closed = False
        self.rcpt_replies = []		# (cmd, text) per SMFIC_RCPT sent
        self.mods = []			# (cmd, data) at EOM
        # the stored fields: (name, text after the colon, inserted by the
        # milter); the MTA stores "Name: value"
        self.fields = [(n, " " + v, False) for n, v in headers]

    @property
    def sigs(self):
        return [v for n, v, ins in self.fields
                if ins and n.lower() == "dkim-signature"]

    def message(self):
        """the message as stored: "Name: value" (the MTA's space), CRLF"""
        out = []
        for n, v, _ in self.fields:
            v = v.replace("\r\n", "\n").replace("\n", "\r\n")
            out.append(n.encode() + b":" + v.encode("utf-8", "surrogateescape")
                       + b"\r\n")
        return b"".join(out) + b"\r\n" + b"".join(self.body or [])


class Milter:
    def __init__(self, path, leadspace=True, timeout=3, actions=SMFI_V6_ACTS):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        prot = SMFI_V6_PROT if leadspace else SMFI_V6_PROT & ~SMFIP_HDR_LEADSPC
        self.send(b"O", struct.pack(">III", 6, actions, prot))
        cmd, data = self.recv()
        if cmd != b"O" or len(data) < 12:
            fail("negotiation: got %r %r" % (cmd, data))
        self.version, self.actions, self.prot = struct.unpack(">III", data[:12])
        self.leadspace = bool(self.prot & SMFIP_HDR_LEADSPC)

    def send(self, cmd, data=b""):
        try:
            self.s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            try:
                got = self.s.recv(n - len(buf))
            except ConnectionResetError as e:
                raise Closed(str(e))
            if not got:
                raise Closed("EOF")
            buf += got
        return buf

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        data = self._read(n)
        return data[:1], data[1:]

    def step(self, cmd, data, no_flag, nr_flag):
        """send one step unless negotiated away; the reply, or None"""
        if self.prot & no_flag:
            return None
        self.send(cmd, data)
        if self.prot & nr_flag:
            return None
        return self.recv()

    def macros(self, stage, pairs):
        data = stage
        for k, v in pairs:
            data += k.encode() + b"\0" + v.encode() + b"\0"
        self.send(b"D", data)

    def connect(self, ip, host="client.test"):
        fam = b"6" if ":" in ip else b"4"
        r = self.step(b"C", host.encode() + b"\0" + fam + struct.pack(">H", 25)
                      + ip.encode() + b"\0", SMFIP_NOCONNECT, SMFIP_NR_CONN)
        return r[0] if r else b"c"

    def helo(self, name):
        r = self.step(b"H", name.encode() + b"\0", SMFIP_NOHELO, SMFIP_NR_HELO)
        return r[0] if r else b"c"

    def abort(self):
        """SMFIC_ABORT: the MTA gave up the message (no reply)"""
        self.send(b"A")

    def message(self, qid, headers, body=(b"Hello.\r\n",), login=None,
                envfrom="<sender@example.test>", rcpts=(), until=None, macros=()):
        """one message; body=None or () sends no SMFIC_BODY at all"""
        body = list(body or [])
        r = Result(qid, list(headers), body, self.leadspace)
        try:
            pairs = [("i", qid)] + list(macros) \
                + ([("{auth_authen}", login)] if login is not None else [])
            r.stage = "mail"
            self.macros(b"M", pairs)
            rep = self.step(b"M", envfrom.encode() + b"\0", SMFIP_NOMAIL, SMFIP_NR_MAIL)
            if rep and rep[0] != b"c":
                r.reply, r.text = rep[0], rep[1]
                return r
            r.stage = "rcpt"
            if until == r.stage:
                return r
            for rcpt in rcpts:
                rep = self.step(b"R", rcpt.encode() + b"\0", SMFIP_NORCPT, SMFIP_NR_RCPT)
                r.rcpt_replies.append((rep[0], rep[1].rstrip(b"\0").decode(errors="replace"))
                                      if rep else (b"c", ""))
            if rcpts and all(c != b"c" for c, _ in r.rcpt_replies):
                r.reply, r.text = r.rcpt_replies[-1]
                return r
            r.stage = "data"
            if until == r.stage:
                return r
            rep = self.step(b"T", b"", SMFIP_NODATA, SMFIP_NR_DATA)
            if rep and rep[0] != b"c":
                r.reply = rep[0]
                r.text = rep[1].rstrip(b"\0").decode(errors="replace") or None
                return r
            r.stage = "eoh"
            if until == r.stage:
                return r
            for name, value in headers:
                v = (" " + value) if self.leadspace else value
                rep = self.step(b"L", name.encode() + b"\0"
                                + v.encode("utf-8", "surrogateescape") + b"\0",
                                SMFIP_NOHDRS, SMFIP_NR_HDR)
                if rep and rep[0] != b"c":
                    r.reply = rep[0]
                    return r
            rep = self.step(b"N", b"", SMFIP_NOEOH, SMFIP_NR_EOH)
            if rep and rep[0] != b"c":
                r.reply = rep[0]
                r.text = rep[1].rstrip(b"\0").decode(errors="replace") or None
                return r
            r.stage = "body"
            if until == r.stage:
                return r
            r.stage = "eom"
            for chunk in body:
                for i in range(0, len(chunk), CHUNK):
                    rep = self.step(b"B", chunk[i:i + CHUNK], SMFIP_NOBODY, SMFIP_NR_BODY)
                    if rep and rep[0] != b"c":
                        r.reply = rep[0]
                        return r
            if until == "eom":
                return r
            self.send(b"E")
            while True:
                cmd, data = self.recv()
                if cmd in (b"i", b"h"):
                    self._insert(r, cmd, data)
                elif cmd == b"p":		# progress
                    continue
                elif cmd in FINAL:
                    r.reply = cmd
                    if cmd == b"y":
                        r.text = data.rstrip(b"\0").decode(errors="replace")
                    return r
                else:
                    r.mods.append((cmd, data))
        except Closed:
            r.closed = True
            return r
        except socket.timeout:
            fail("%s: no reply from the milter at %s" % (qid, r.stage))

    def _insert(self, r, cmd, data):
        if cmd == b"i":
            (idx,) = struct.unpack(">I", data[:4])
            data = data[4:]
        name, value = data.rstrip(b"\0").split(b"\0", 1)
        value = value.decode()
        # without LEADSPC the MTA writes "Name: value"
        value = value if r.leadspace else " " + value
        field = (name.decode(), value, True)
        if cmd == b"h":
            r.fields.append(field)
        else:
            r.fields.insert(min(idx, len(r.fields)), field)

    def quit(self):
        try:
            self.send(b"Q")
        except Closed:
            pass
        self.s.close()


def emit_verify(r):
    """ask run.py to verify the signatures of a signed message"""
    print("VERIFY %s %s" % (r.qid, r.message().hex()))


def tags(value):
    t = {}
    flat = "".join(value.split())
    for part in flat.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            t[k] = v
    return t


def expect_signed(r, want):
    """r was signed at EOM with exactly want ["d/s/a", ...], top first"""
    if r.closed:
        fail("%s: the milter dropped the connection during %s" % (r.qid, r.stage))
    if r.stage != "eom" or r.reply not in (b"c", b"a"):
        fail("%s: stopped at %s with %r %r, want signed at EOM"
             % (r.qid, r.stage, r.reply, r.text))
    got = ["%s/%s/%s" % (tags(v).get("d"), tags(v).get("s"), tags(v).get("a"))
           for v in r.sigs]
    if got != want:
        fail("%s: signatures %s, want %s" % (r.qid, got, want))
    if r.mods:
        fail("%s: unexpected modifications %r" % (r.qid, r.mods))
    emit_verify(r)


def run(main):
    """run a test body; print why it failed and exit 1"""
    try:
        main(sys.argv[1])
    except AssertionError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)


EXAMPLE = ["example.test/s1/rsa-sha256", "example.test/e1/ed25519-sha256"]
OTHER = ["other.test/s2/rsa-sha256"]
