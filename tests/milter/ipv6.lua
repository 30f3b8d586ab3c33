-- ipv6 - IPv6 clients: ::1 is in the default internal_hosts and is
-- signed; an IPv4-mapped loopback address counts as 127.0.0.1; other
-- IPv6 and mapped addresses are external; an unknown address family
-- ("unspec") is never internal.
-- expect: V61 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=::1
-- expect: V62 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=::ffff:127.0.0.1
-- expect: V63 action=skip reason=external_client client=2001:db8::25
-- expect: V64 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=2001:db8::25 login=alice
-- expect: V65 action=skip reason=external_client client=::ffff:198.51.100.9
-- expect: V66 action=skip reason=external_client client=::2
-- expect: V67 action=skip reason=external_client client=local
dofile(libdir .. "/pm.lua")
pm.main(function()

local function msg(qid, login)
	return { qid = qid, login = login,
		 headers = pm.std_headers("Alice <alice@example.test>"),
		 body = "over IPv6\r\n" }
end

local c = pm.connect("::1", { host = "localhost" })
pm.expect_signed(pm.send(c, msg("V61")), pm.EXAMPLE)
pm.disconnect(c)

c = pm.connect("::ffff:127.0.0.1", { host = "localhost" })
pm.expect_signed(pm.send(c, msg("V62")), pm.EXAMPLE)
pm.disconnect(c)

c = pm.connect("2001:db8::25", { host = "v6.example.net" })
pm.expect_unsigned(pm.send(c, msg("V63")), "eoh", SMFIR_ACCEPT)
pm.expect_signed(pm.send(c, msg("V64", "alice")), pm.EXAMPLE)
pm.disconnect(c)

-- ::1/128 is one address: ::2 is outside
for _, a in ipairs({ { "::ffff:198.51.100.9", "V65" }, { "::2", "V66" } }) do
	c = pm.connect(a[1])
	pm.expect_unsigned(pm.send(c, msg(a[2])), "eoh", SMFIR_ACCEPT)
	pm.disconnect(c)
end

c = pm.connect("unspec", { host = "mystery" })
pm.expect_unsigned(pm.send(c, msg("V67")), "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

end)
