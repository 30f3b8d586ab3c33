-- empty_body - a message whose body is empty is signed with the body
-- hash of an empty body. miltertest cannot send no body at all (it makes
-- one up) and an empty chunk makes libmilter drop the connection, so the
-- body is one CRLF, which both canonicalizations reduce to the empty body
-- (relaxed) or to CRLF, the same as no body (simple). raw_empty_body.py
-- sends EOM with no body chunk at all, as Postfix does.
-- expect: EB1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: EB2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: EB3 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

-- RFC 6376 section 3.4.4: the relaxed body hash of an empty body is the
-- SHA-256 of nothing
local EMPTY_RELAXED = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

local c = pm.connect("127.0.0.1")
for _, q in ipairs({ "EB1", "EB2" }) do
	-- EB2: several empty lines are the same empty body
	local body = q == "EB1" and "\r\n" or "\r\n\r\n\r\n"
	local r = pm.send(c, { qid = q, headers = pm.std_headers("alice@example.test"),
			       body = body })
	pm.expect_signed(r, pm.EXAMPLE)
	for i, v in ipairs(r.sigs) do
		local bh = pm.tags(v).bh
		if bh ~= EMPTY_RELAXED then
			pm.fail("%s: signature %d: bh=%s, want %s", q, i, tostring(bh), EMPTY_RELAXED)
		end
	end
end
-- and the next message's body hash starts from nothing
local r = pm.send(c, { qid = "EB3", headers = { { "From", "o@other.test" } },
		       body = "not empty\r\n" })
pm.expect_signed(r, pm.OTHER)
if pm.tags(r.sigs[1]).bh == EMPTY_RELAXED then
	pm.fail("EB3: a non-empty body got the empty body hash")
end
pm.disconnect(c)

end)
