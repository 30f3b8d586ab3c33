-- several_messages - per-message state is reset: on one connection,
-- messages for example.test, a domain without keys, other.test (one
-- key) and example.test again get exactly their own signatures, over
-- their own headers and body (run.py verifies each one).
-- expect: SM1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: SM2 action=skip reason=no_key_for_domain from_domain=nokey.test client=127.0.0.1
-- expect: SM3 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
-- expect: SM4 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: SM5 action=skip reason=no_from from_domain=- client=127.0.0.1
-- expect: SM6 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

local c = pm.connect("127.0.0.1")

pm.expect_signed(pm.send(c, {
	qid = "SM1",
	headers = pm.std_headers("Alice <alice@example.test>",
				 { { "Cc", "carol@example.org" }, { "Reply-To", "list@example.test" } }),
	body = { "First message, first chunk.\r\n", "Second chunk.\r\n" },
}), pm.EXAMPLE)

pm.expect_unsigned(pm.send(c, {
	qid = "SM2",
	headers = pm.std_headers("Nobody <nobody@nokey.test>"),
}), "eoh", SMFIR_ACCEPT)

-- fewer headers than SM1 (no Cc, no Reply-To): a leftover field would be
-- signed and break verification
pm.expect_signed(pm.send(c, {
	qid = "SM3",
	headers = { { "From", "o@other.test" }, { "Subject", "third" } },
	body = "Third message.\r\n",
}), pm.OTHER)

pm.expect_signed(pm.send(c, {
	qid = "SM4",
	headers = pm.std_headers("alice@example.test"),
	body = "Fourth message.\r\n",
}), pm.EXAMPLE)

-- an unsignable message in between, then a signed one again
pm.expect_unsigned(pm.send(c, {
	qid = "SM5",
	headers = { { "Subject", "no From here" } },
}), "eoh", SMFIR_ACCEPT)

pm.expect_signed(pm.send(c, {
	qid = "SM6",
	headers = { { "From", "o@other.test" } },
	body = "Sixth message.\r\n",
}), pm.OTHER)

pm.disconnect(c)
end)
