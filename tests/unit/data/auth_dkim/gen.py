#!/usr/bin/python3
# gen.py - regenerate the signed messages of auth_dkim_test (dkimpy, openssl).
# Writes keys.txt ("name<TAB>TXT data" lines) and msg-*.eml. Run from this dir.
import base64, subprocess, dkim, nacl.signing

MSG = (b"From: Alice <alice@example.test>\r\nTo: bob@example.net\r\n"
       b"Subject: test\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <1@example.test>\r\n\r\nHello.\r\n")

def rsa(bits):
    key = subprocess.run(["openssl", "genrsa", str(bits)], capture_output=True,
                         check=True).stdout
    pub = subprocess.run(["openssl", "rsa", "-pubout", "-outform", "DER"], input=key,
                         capture_output=True, check=True).stdout
    return key, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()

def sign(msg, sel, dom, key, alg=b"rsa-sha256"):
    sig = dkim.sign(msg, sel, dom, key, signature_algorithm=alg,
                    include_headers=[b"from", b"to", b"subject", b"date"])
    return sig + msg

keys = []
k2048, p2048 = rsa(2048)
k512, p512 = rsa(512)
sk = nacl.signing.SigningKey.generate()
ed_priv = base64.b64encode(bytes(sk))
ed_pub = "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode()
keys += [("rsa._domainkey.example.test", p2048), ("small._domainkey.example.test", p512),
         ("ed._domainkey.example.test", ed_pub), ("revoked._domainkey.example.test",
         "v=DKIM1; k=rsa; p="), ("tempfail._domainkey.example.test", "TEMPFAIL")]
msgs = {
    "pass": sign(MSG, b"rsa", b"example.test", k2048),
    "ed25519": sign(MSG, b"ed", b"example.test", ed_priv, b"ed25519-sha256"),
    "small": sign(MSG, b"small", b"example.test", k512),
    "nokey": sign(MSG, b"missing", b"example.test", k2048),
    "revoked": sign(MSG, b"revoked", b"example.test", k2048),
    "tempfail": sign(MSG, b"tempfail", b"example.test", k2048),
}
msgs["body"] = msgs["pass"].replace(b"Hello.", b"Hello!")
msgs["header"] = msgs["pass"].replace(b"Subject: test", b"Subject: tost")
msgs["two"] = sign(msgs["ed25519"], b"rsa", b"example.test", k2048)
with open("keys.txt", "w") as f:
    for n, v in keys:
        f.write(n + "\t" + v + "\n")
for n, m in msgs.items():
    open("msg-%s.eml" % n, "wb").write(m)
