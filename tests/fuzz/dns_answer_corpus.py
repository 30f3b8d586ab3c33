#!/usr/bin/python3
"""dns_answer_corpus - write the seed corpus of tests/fuzz/dns_answer_fuzz.c.

usage: dns_answer_corpus.py DIR   (the seeds in tests/fuzz/corpus/dns_answer/ came from it)
Each seed is byte 0 (query type selector, bit 3 = cached second query), a 2-byte UDP answer
length, the UDP answer, then the TCP stream: answers to the exact questions the target asks, so
that the server's ID/question patch leaves their compression pointers valid."""
import struct, os, sys
out = sys.argv[1]
def name(n):
    b = b''
    for l in n.rstrip('.').split('.'):
        b += bytes([len(l)]) + l.encode()
    return b + b'\0'
def hdr(flags=0x8180, qd=1, an=0, ns=0, ar=0, id=0x1234):
    return struct.pack('>HHHHHH', id, flags, qd, an, ns, ar)
def q(n, t):
    return name(n) + struct.pack('>HH', t, 1)
def rr(owner, t, rdata, ttl=300):
    return owner + struct.pack('>HHIH', t, 1, ttl, len(rdata)) + rdata
PTR_NAME = '1.2.0.192.in-addr.arpa'
QN = {0: ('sel._domainkey.Example.TEST', 16), 1: ('mx1.example.test', 1), 2: ('mx1.example.test', 28),
      3: ('example.test', 15), 4: (PTR_NAME, 12)}
P12 = b'\xc0\x0c'
def txt(*strs):
    return b''.join(bytes([len(s)]) + s for s in strs)
def msg(sel, answers=(), auth=(), flags=0x8180):
    n, t = QN[sel]
    return hdr(flags, 1, len(answers), len(auth)) + q(n, t) + b''.join(answers) + b''.join(auth)
soa = rr(name('example.test'), 6, name('ns.example.test') + name('h.example.test') + struct.pack('>IIIII', 1, 2, 3, 4, 60), 600)
seeds = {
 'txt': (0, msg(0, [rr(P12, 16, txt(b'v=DKIM1; k=rsa; p=MIIB', b'AQAB'))])),
 'txt_two': (0, msg(0, [rr(P12, 16, txt(b'a')), rr(P12, 16, txt(b'b' * 255, b'c'))])),
 'txt_cname': (0, msg(0, [rr(P12, 5, name('k.example.test')), rr(name('k.example.test'), 16, txt(b'v=DKIM1; p='))])),
 'txt_cname_loop': (0, msg(0, [rr(P12, 5, b'\x01a' + P12), rr(b'\x01a' + P12, 5, P12)])),
 'a': (1, msg(1, [rr(P12, 1, bytes([192, 0, 2, 7])), rr(P12, 1, bytes([192, 0, 2, 8]))])),
 'aaaa': (2, msg(2, [rr(P12, 28, bytes(15) + b'\x01')])),
 'mx': (3, msg(3, [rr(P12, 15, struct.pack('>H', 10) + b'\x03mx1' + P12), rr(P12, 15, struct.pack('>H', 20) + name('mx2.example.net'))])),
 'ptr': (4, msg(4, [rr(P12, 12, name('host.example.test'))])),
 'nxdomain': (0, msg(0, [], [soa], flags=0x8183)),
 'nodata': (1, msg(1, [], [soa])),
 'servfail': (3, msg(3, [], [], flags=0x8182)),
 # compression pointer pointing at itself in an answer owner
 'ptr_loop': (4, msg(4, [rr(b'\xc0\x1e', 12, b'\xc0\x1e')])),
}
os.makedirs(out, exist_ok=True)
for k, (sel, m) in seeds.items():
    # UDP answer only
    open(os.path.join(out, k), 'wb').write(bytes([sel]) + struct.pack('>H', len(m)) + m)
    # cached twice
    open(os.path.join(out, k + '_cached'), 'wb').write(bytes([sel | 8]) + struct.pack('>H', len(m)) + m)
# truncated UDP, full answer over TCP (length-framed)
for k in ('txt', 'mx', 'a'):
    sel, m = seeds[k]
    tcu = bytearray(msg(sel, [], [], flags=0x8380))
    open(os.path.join(out, k + '_tcp'), 'wb').write(bytes([sel]) + struct.pack('>H', len(tcu)) + bytes(tcu) + struct.pack('>H', len(m)) + m)
# TCP framing: length longer than the data, and shorter than a header
sel, m = seeds['txt']
tcu = msg(sel, [], [], flags=0x8380)
open(os.path.join(out, 'tcp_short'), 'wb').write(bytes([sel]) + struct.pack('>H', len(tcu)) + tcu + struct.pack('>H', len(m) + 100) + m)
open(os.path.join(out, 'tcp_tiny'), 'wb').write(bytes([sel]) + struct.pack('>H', len(tcu)) + tcu + struct.pack('>H', 5) + m[:5])
