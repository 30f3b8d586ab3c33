-- leadspace - header values with and without leading white space, with
-- trailing white space, empty, and folded ("\n\t" and "\n " as Postfix
-- sends folding), through an MTA that negotiates SMFIP_HDR_LEADSPC and
-- one that does not. Run against the simple/simple instance: every byte
-- of the signed fields counts, and run.py verifies the signatures over
-- the fields as Postfix stores them.
-- instance: simple
-- expect: LS1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: LS2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: LS3 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: LS4 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

-- every one of these names is in dkim_sign_headers, so each is signed
local function fields(qid)
	return {
		{ "From", "Alice\n\t<alice@example.test>" },
		{ "To", "Bob <bob@example.org>,\n\tCarol <carol@example.org>,\n Dave <dave@example.org>" },
		{ "Subject", " two leading spaces" },
		{ "Reply-To", "\tafter a tab <list@example.test>" },
		{ "Cc", "" },
		{ "Date", "Sat, 21 Nov 2026 10:00:00 +0000   " },
		{ "Message-ID", "<" .. qid .. "@client.test>" },
		{ "In-Reply-To", "\n\t<folded-right-away@client.test>" },
		{ "References", "<a@client.test>\n\t<b@client.test>\n\t<c@client.test>" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "text/plain;\n\tcharset=\"utf-8\"" },
		{ "X-Not-Signed", "  anything\n\tgoes" },
	}
end
local body = "Body line with trailing space \r\n\tand a tab line\r\n\r\n\r\n"

for _, leadspace in ipairs({ true, false }) do
	local c = pm.connect("127.0.0.1", { leadspace = leadspace })
	if c.leadspace ~= leadspace then
		pm.fail("SMFIP_HDR_LEADSPC negotiated=%s, want %s",
			tostring(c.leadspace), tostring(leadspace))
	end
	local q1 = leadspace and "LS1" or "LS3"
	local q2 = leadspace and "LS2" or "LS4"
	local r = pm.send(c, { qid = q1, headers = fields(q1), body = body })
	pm.expect_signed(r, pm.EXAMPLE)
	if pm.tags(r.sigs[1]).c ~= "simple/simple" then
		pm.fail("%s: want c=simple/simple, got %s", q1, tostring(pm.tags(r.sigs[1]).c))
	end
	-- the minimum: From alone, no space at all after the colon
	-- (miltertest adds one with LEADSPC; without it the MTA ate it)
	pm.expect_signed(pm.send(c, { qid = q2,
		headers = { { "From", "alice@example.test" } },
		body = "x\r\n" }), pm.EXAMPLE)
	pm.disconnect(c)
end

end)
