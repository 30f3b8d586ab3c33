-- sign_basic - an internal client's message gets one RSA and one Ed25519
-- signature for d=example.test, inserted on top, that verify.
-- expect: SB1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1 !login=
dofile(libdir .. "/pm.lua")
pm.main(function()

local c = pm.connect("127.0.0.1")
if not c.leadspace then pm.fail("milter did not ask for SMFIP_HDR_LEADSPC") end
-- it asks to add headers, and to change fields and the body (only ever
-- used to break lines over 998 bytes as Postfix's SMTP client would, so
-- that every stored copy is the signed one); no recipient changes
for _, act in ipairs({ SMFIF_ADDHDRS, SMFIF_CHGBODY, SMFIF_CHGHDRS }) do
	if not mt.test_action(c.conn, act) then
		pm.fail("milter did not ask for action 0x%x", act)
	end
end
for _, act in ipairs({ SMFIF_ADDRCPT, SMFIF_DELRCPT, SMFIF_QUARANTINE }) do
	if mt.test_action(c.conn, act) then
		pm.fail("milter asked for action 0x%x it does not need", act)
	end
end
for _, opt in ipairs({ SMFIP_NR_HDR, SMFIP_NR_BODY, SMFIP_NOHELO, SMFIP_NORCPT }) do
	if not mt.test_option(c.conn, opt) then
		pm.fail("milter did not negotiate protocol option 0x%x", opt)
	end
end

local r = pm.send(c, {
	qid = "SB1",
	headers = pm.std_headers("Alice <alice@example.test>"),
	body = "Hello Bob,\r\n\r\nthis is a test.\r\n",
})
pm.expect_signed(r, pm.EXAMPLE)
-- the first key of the signing table ends up on top (index 0)
if not mt.eom_check(c.conn, MT_HDRINSERT, "DKIM-Signature", r.sigs[1], 0) then
	pm.fail("SB1: the RSA signature was not inserted at index 0")
end
local t = pm.tags(r.sigs[1])
if t.c ~= "relaxed/relaxed" then pm.fail("SB1: c=%s, want relaxed/relaxed", tostring(t.c)) end
pm.disconnect(c)
end)
