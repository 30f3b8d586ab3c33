-- negotiate - option negotiation: the milter needs SMFIF_ADDHDRS and
-- refuses an MTA that cannot add headers (libmilter closes the
-- connection), and it keeps working for the next, normal MTA.
-- (An MTA without SMFIP_HDR_LEADSPC is in leadspace.lua.)
-- expect: NG1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

-- an MTA offering actions without SMFIF_ADDHDRS (0 would mean "version 1
-- defaults" to libmilter, so offer something else)
local conn = mt.connect("unix:" .. socket)
if conn == nil then pm.fail("mt.connect failed") end
local err = mt.negotiate(conn, nil, nil, SMFIF_CHGBODY)
if err == nil then
	pm.fail("negotiation without SMFIF_ADDHDRS succeeded")
end
mt.disconnect(conn, false)

local c = pm.connect("127.0.0.1")
pm.expect_signed(pm.send(c, { qid = "NG1", headers = pm.std_headers("alice@example.test") }),
		 pm.EXAMPLE)
pm.disconnect(c)

end)
