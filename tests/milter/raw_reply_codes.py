#!/usr/bin/python3
# raw_reply_codes - the SMTP replies of the "strict" instance, which
# miltertest cannot show (NOTES-postfix.md): unsignable mail gets
# 451 4.7.0 (dkim_unsignable_action = tempfail), a login that does not own
# the From address 550 5.7.1 (dkim_login_mismatch_action = reject), both
# as SMFIR_REPLYCODE at end of header.
# instance: strict
# expect: RC1 action=tempfail reason=no_from client=127.0.0.1
# expect: RC2 action=tempfail reason=headers_too_large client=127.0.0.1
# expect: RC3 action=tempfail reason=multiple_from_addresses client=127.0.0.1
# expect: RC4 action=reject reason=login_not_allowed client=198.51.100.50 login=bob
# expect: RC5 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.50 login=alice
import rawmilter as rm


def expect_reply(r, code, dsn):
    if r.closed or r.stage != "eoh" or r.reply != b"y":
        rm.fail("%s: stage %s reply %r closed=%s, want SMFIR_REPLYCODE at EOH"
                % (r.qid, r.stage, r.reply, r.closed))
    words = (r.text or "").split()
    if words[:2] != [code, dsn]:
        rm.fail("%s: reply %r, want %s %s ..." % (r.qid, r.text, code, dsn))


def main(sock):
    m = rm.Milter(sock)
    m.connect("127.0.0.1")
    expect_reply(m.message("RC1", [("Subject", "no From")]), "451", "4.7.0")
    many = [("From", "a@example.test")] + [("X-H%d" % i, "v") for i in range(1500)]
    expect_reply(m.message("RC2", many), "451", "4.7.0")
    expect_reply(m.message("RC3", [("From", "a@example.test, b@example.test")]), "451", "4.7.0")
    m.quit()
    m = rm.Milter(sock)
    m.connect("198.51.100.50")
    expect_reply(m.message("RC4", [("From", "alice@example.test")], login="bob"), "550", "5.7.1")
    rm.expect_signed(m.message("RC5", [("From", "alice@example.test")], login="alice"), rm.EXAMPLE)
    m.quit()


rm.run(main)
