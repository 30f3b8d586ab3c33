-- sign_authenticated - an external client is signed only when it
-- authenticated: {auth_authen} at MAIL decides, per message, also on one
-- connection that switches between the two.
-- expect: SA1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.9 login=alice
-- expect: SA2 action=skip reason=external_client client=198.51.100.9 !login=
-- expect: SA3 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.9 login=alice
-- expect: SA4 action=skip reason=external_client client=198.51.100.9 !login=
-- expect: SA5 action=skip reason=external_client client=198.51.100.9 !login=
dofile(libdir .. "/pm.lua")
pm.main(function()

local c = pm.connect("198.51.100.9", { host = "remote.example.net" })
local function msg(qid, login)
	return { qid = qid, login = login,
		 headers = pm.std_headers("Alice <alice@example.test>"),
		 body = "Message " .. qid .. "\r\n" }
end

-- authenticated: signed
pm.expect_signed(pm.send(c, msg("SA1", "alice")), pm.EXAMPLE)
-- same connection, no {auth_authen}: the milter lets go at end of header
pm.expect_unsigned(pm.send(c, msg("SA2", nil)), "eoh", SMFIR_ACCEPT)
-- and signs again when the next MAIL is authenticated
pm.expect_signed(pm.send(c, msg("SA3", "alice")), pm.EXAMPLE)
-- an empty {auth_authen} is no authentication
pm.expect_unsigned(pm.send(c, msg("SA4", "")), "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

-- a new connection from the same address without authentication
c = pm.connect("198.51.100.9", { host = "remote.example.net" })
pm.expect_unsigned(pm.send(c, msg("SA5", nil)), "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

end)
