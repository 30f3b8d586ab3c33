-- abort - a message the MTA aborts (after the header fields, after EOH,
-- in the middle of the body) leaves nothing behind: no decision line, and
-- the next message on the same connection is signed over its own header
-- and body only. A connection dropped in mid-message is cleaned up too.
-- expect: AB1 none
-- expect: AB2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: AB3 none
-- expect: AB4 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
-- expect: AB5 none
-- expect: AB6 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: AB7 none
-- expect: AB8 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=198.51.100.20 login=alice
-- expect: AB9 action=skip reason=external_client client=198.51.100.20 !login=
-- expect: AB10 none
dofile(libdir .. "/pm.lua")
pm.main(function()

local c = pm.connect("127.0.0.1")

-- aborted after the header fields, before EOH
pm.expect_unsigned(pm.send(c, {
	qid = "AB1", abort = "headers",
	headers = pm.std_headers("Alice <alice@example.test>",
				 { { "X-Aborted", "yes" } }),
}), "abort")
pm.expect_signed(pm.send(c, {
	qid = "AB2",
	headers = { { "From", "alice@example.test" }, { "Subject", "after abort 1" } },
	body = "Second message.\r\n",
}), pm.EXAMPLE)

-- aborted after EOH, when the milter has chosen its keys
pm.expect_unsigned(pm.send(c, {
	qid = "AB3", abort = "eoh",
	headers = pm.std_headers("Alice <alice@example.test>"),
}), "abort")
-- a different domain next: the keys chosen for AB3 must be gone
pm.expect_signed(pm.send(c, {
	qid = "AB4",
	headers = { { "From", "o@other.test" }, { "Subject", "after abort 2" } },
	body = "Fourth message.\r\n",
}), pm.OTHER)

-- aborted in the middle of the body: the body hash must start afresh
pm.expect_unsigned(pm.send(c, {
	qid = "AB5", abort = "body",
	headers = pm.std_headers("Alice <alice@example.test>"),
	body = { "Half a body that never ends\r\n", "not sent\r\n" },
}), "abort")
pm.expect_signed(pm.send(c, {
	qid = "AB6",
	headers = { { "From", "alice@example.test" }, { "Subject", "after abort 3" } },
	body = "Sixth message.\r\n",
}), pm.EXAMPLE)
pm.disconnect(c)

-- an authenticated client's message aborted in mid-body
c = pm.connect("198.51.100.20")
pm.expect_unsigned(pm.send(c, {
	qid = "AB7", login = "alice", abort = "body",
	headers = pm.std_headers("alice@example.test"),
	body = { "cut off\r\n" },
}), "abort")
-- ... then authenticated again, then a login-less message on the same
-- connection: no login may leak from one message to the next
pm.expect_signed(pm.send(c, {
	qid = "AB8", login = "alice",
	headers = { { "From", "alice@example.test" } },
	body = "Eighth.\r\n",
}), pm.EXAMPLE)
pm.expect_unsigned(pm.send(c, {
	qid = "AB9",
	headers = { { "From", "alice@example.test" } },
}), "eoh", SMFIR_ACCEPT)
pm.disconnect(c)

-- a connection that goes away in mid-body without ABORT or QUIT
c = pm.connect("127.0.0.1")
mt.macro(c.conn, SMFIC_MAIL, "i", "AB10")
if mt.mailfrom(c.conn, "<alice@example.test>") ~= nil then pm.fail("AB10: mailfrom") end
if mt.header(c.conn, "From", "alice@example.test") ~= nil then pm.fail("AB10: header") end
if mt.eoh(c.conn) ~= nil then pm.fail("AB10: eoh") end
if mt.bodystring(c.conn, "lost\r\n") ~= nil then pm.fail("AB10: body") end
mt.disconnect(c.conn, false)

end)
