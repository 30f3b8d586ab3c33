-- unsignable_tempfail - against the "strict" instance
-- (dkim_unsignable_action = tempfail, dkim_login_mismatch_action = reject):
-- unsignable mail is refused at end of header with a 4xx, a login that
-- does not own the From address with a 5xx; mail without a key and mail
-- from outside still pass; the connection keeps working after each refusal.
--
-- The milter sets its own reply text (smfi_setreply), so libmilter answers
-- SMFIR_REPLYCODE ('y') for both, and miltertest does not show the text.
-- What can be checked here: 'y' itself (libmilter sends 'y' only when the
-- text's first digit matches the action: '4' for TEMPFAIL, '5' for REJECT;
-- a mismatch would come as plain 't' or 'r'), and the action in the log.
-- raw_reply_codes.py reads the actual 451 / 550 texts.
-- instance: strict
-- expect: UT1 action=tempfail reason=no_from client=127.0.0.1
-- expect: UT2 action=tempfail reason=multiple_from_fields client=127.0.0.1
-- expect: UT3 action=tempfail reason=malformed_from client=127.0.0.1
-- expect: UT4 action=tempfail reason=multiple_from_addresses client=127.0.0.1
-- expect: UT5 action=tempfail reason=headers_too_large client=127.0.0.1
-- expect: UT6 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: UT7 action=skip reason=no_key_for_domain from_domain=nokey.test client=127.0.0.1
-- expect: UT8 action=reject reason=login_not_allowed from_domain=example.test client=198.51.100.40 login=bob
-- expect: UT9 action=reject reason=login_not_allowed from_domain=other.test client=198.51.100.40 login=alice
-- expect: UT10 action=tempfail reason=malformed_from client=198.51.100.40 login=alice
-- expect: UT11 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.40 login=alice
-- expect: UT12 action=skip reason=external_client client=198.51.100.40 !login=
dofile(libdir .. "/pm.lua")
pm.main(function()

local function refused(r, how)
	pm.expect_unsigned(r, "eoh", SMFIR_REPLYCODE)
	if r.reply == SMFIR_TEMPFAIL or r.reply == SMFIR_REJECT then
		pm.fail("%s: plain %s: the reply text does not match the action",
			r.qid, pm.rname(r.reply))
	end
end

local many = { { "From", "a@example.test" } }
for i = 2, 1500 do many[i] = { "X-H" .. i, "v" } end

local c = pm.connect("127.0.0.1")
refused(pm.send(c, { qid = "UT1", headers = { { "Subject", "no From" } } }))
refused(pm.send(c, { qid = "UT2", headers = { { "From", "a@example.test" }, { "From", "a@example.test" } } }))
refused(pm.send(c, { qid = "UT3", headers = { { "From", "Alice <alice@example.test" } } }))
refused(pm.send(c, { qid = "UT4", headers = { { "From", "a@example.test, b@example.test" } } }))
refused(pm.send(c, { qid = "UT5", headers = many }))
-- after four refusals the same connection signs
pm.expect_signed(pm.send(c, { qid = "UT6", headers = pm.std_headers("alice@example.test") }),
		 pm.EXAMPLE)
-- no key is not "unsignable": it passes
pm.expect_unsigned(pm.send(c, { qid = "UT7", headers = { { "From", "x@nokey.test" } } }),
		   "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

c = pm.connect("198.51.100.40")
refused(pm.send(c, { qid = "UT8", login = "bob", headers = pm.std_headers("alice@example.test") }))
refused(pm.send(c, { qid = "UT9", login = "alice", headers = pm.std_headers("o@other.test") }))
-- unsignable comes before the login check
refused(pm.send(c, { qid = "UT10", login = "alice", headers = { { "From", "alice@" } } }))
pm.expect_signed(pm.send(c, { qid = "UT11", login = "alice",
			       headers = pm.std_headers("alice@example.test") }), pm.EXAMPLE)
-- not authenticated, not internal: not ours, nothing refused
pm.expect_unsigned(pm.send(c, { qid = "UT12", headers = { { "Subject", "no From" } } }),
		   "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

end)
