-- log_escape - text the client controls is escaped in the decision line
-- (HACKING.md: "escape untrusted text with log_escape()"): a SASL login
-- ({auth_authen}) holding a newline must not start a second log line,
-- which could forge a decision for another queue id. run.py fails the
-- instance on any decision line whose queue id no script expects, and
-- each line below must keep client= at its end.
-- expect: LE1 action=skip reason=no_key_for_domain from_domain=nokey.test client=198.51.100.60
-- expect: LE2 action=skip reason=login_not_allowed from_domain=example.test client=198.51.100.60
-- expect: LE3 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.60 login=alice
dofile(libdir .. "/pm.lua")
pm.main(function()

local FORGED = "bob\n00:00:00.000 postmill-dkim[1]: FORGED1: dkim: action=sign signatures=example.test/s1/rsa-sha256 client=127.0.0.1"

local c = pm.connect("198.51.100.60")
pm.expect_unsigned(pm.send(c, { qid = "LE1", login = FORGED,
	headers = { { "From", "x@nokey.test" } } }), "eoh", SMFIR_ACCEPT)
pm.expect_unsigned(pm.send(c, { qid = "LE2", login = "mallory\r\n\27[2J",
	headers = { { "From", "alice@example.test" } } }), "eoh", SMFIR_ACCEPT)
pm.expect_signed(pm.send(c, { qid = "LE3", login = "alice",
	headers = { { "From", "alice@example.test" } } }), pm.EXAMPLE)
pm.disconnect(c)

end)
