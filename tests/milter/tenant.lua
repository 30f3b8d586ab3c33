-- tenant - with a sender login map (run.py writes "@example.test alice"
-- and "carol@example.test carol"; other.test has keys but no owner), an
-- authenticated login signs only From addresses it owns. Default
-- dkim_login_mismatch_action = pass: the rest passes unsigned.
-- expect: TN1 action=skip reason=login_not_allowed from_domain=example.test client=198.51.100.30 login=bob
-- expect: TN2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.30 login=alice
-- expect: TN3 action=skip reason=login_not_allowed from_domain=example.test client=198.51.100.30 login=alice
-- expect: TN4 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.30 login=carol
-- expect: TN5 action=skip reason=login_not_allowed from_domain=other.test client=198.51.100.30 login=alice
-- expect: TN6 action=skip reason=login_not_allowed from_domain=example.test client=198.51.100.30 login=Alice
-- expect: TN7 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.30 login=alice
-- expect: TN8 action=skip reason=login_not_allowed from_domain=example.test client=127.0.0.1 login=bob
-- expect: TN9 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1 !login=
-- expect: TN10 action=skip reason=no_key_for_domain from_domain=nokey.test client=198.51.100.30 login=bob
dofile(libdir .. "/pm.lua")
pm.main(function()

local function msg(qid, login, from)
	return { qid = qid, login = login, headers = pm.std_headers(from),
		 body = "from " .. from .. "\r\n" }
end

local c = pm.connect("198.51.100.30")
-- bob is not an owner of example.test
pm.expect_unsigned(pm.send(c, msg("TN1", "bob", "Alice <alice@example.test>")), "eoh", SMFIR_ACCEPT)
-- alice is
pm.expect_signed(pm.send(c, msg("TN2", "alice", "Alice <alice@example.test>")), pm.EXAMPLE)
-- the more specific key decides: carol@example.test belongs to carol only
pm.expect_unsigned(pm.send(c, msg("TN3", "alice", "carol@example.test")), "eoh", SMFIR_ACCEPT)
pm.expect_signed(pm.send(c, msg("TN4", "carol", "Carol <carol@example.test>")), pm.EXAMPLE)
-- keys but no owner in the map: nobody may sign
pm.expect_unsigned(pm.send(c, msg("TN5", "alice", "o@other.test")), "eoh", SMFIR_ACCEPT)
-- logins are compared exactly
pm.expect_unsigned(pm.send(c, msg("TN6", "Alice", "alice@example.test")), "eoh", SMFIR_ACCEPT)
-- addresses are not
pm.expect_signed(pm.send(c, msg("TN7", "alice", "ALICE@Example.TEST")), pm.EXAMPLE)
pm.disconnect(c)

-- an internal client that authenticates is held to the map as well
c = pm.connect("127.0.0.1")
pm.expect_unsigned(pm.send(c, msg("TN8", "bob", "alice@example.test")), "eoh", SMFIR_ACCEPT)
-- without a login the map is not consulted
pm.expect_signed(pm.send(c, msg("TN9", nil, "o@other.test")), pm.OTHER)
pm.disconnect(c)

-- no key: no_key_for_domain comes before the login check
c = pm.connect("198.51.100.30")
pm.expect_unsigned(pm.send(c, msg("TN10", "bob", "bob@nokey.test")), "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

end)
