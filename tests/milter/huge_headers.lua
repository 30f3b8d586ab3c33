-- huge_headers - the header limits (defaults dkim_max_headers = 1000,
-- dkim_max_header_bytes = 256k) at and just past their edges: over a limit
-- the message passes unsigned (dkim_unsignable_action = accept) with
-- reason headers_too_large, at the limit it is signed, and the connection
-- still signs a normal message afterwards.
-- (miltertest cannot send one field over 1 KB; raw_huge_value.py sends a
-- 100 KB field.)
-- expect: HH1 action=skip reason=headers_too_large client=127.0.0.1
-- expect: HH2 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: HH3 action=skip reason=headers_too_large client=127.0.0.1
-- expect: HH4 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: HH5 action=skip reason=headers_too_large client=127.0.0.1
-- expect: HH6 action=skip reason=headers_too_large client=127.0.0.1
-- expect: HH7 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

local FROM = { "From", "a@example.test" }

-- n fields in all, From first
local function count_fields(n)
	local h = { FROM }
	for i = 2, n do
		h[i] = { string.format("X-H%04d", i), "v" .. i }
	end
	return h
end

-- the milter counts "Name: value" plus CRLF for each field: with
-- LEADSPC it gets " " .. value, so a field costs #name + #value + 4
local function cost(f) return #f[1] + #f[2] + 4 end

-- fields totalling exactly total bytes, From first
local function bytes_fields(total)
	local h = { FROM }
	local left = total - cost(FROM)
	local i = 1
	while left > 0 do
		local name = string.format("X-F%04d", i)
		-- lines stay under dkim_line_length_limit (998): a longer one
		-- would be broken and the field changed (long_lines.lua)
		local vlen = math.min(900, left - (#name + 4))
		if vlen < 1 then pm.fail("bytes_fields: cannot fill %d", left) end
		h[#h + 1] = { name, string.rep(string.char(97 + i % 26), vlen) }
		left = left - cost(h[#h])
		i = i + 1
	end
	local sum = 0
	for _, f in ipairs(h) do sum = sum + cost(f) end
	if sum ~= total then pm.fail("bytes_fields: %d, want %d", sum, total) end
	return h
end

local c = pm.connect("127.0.0.1")
if not c.leadspace then pm.fail("the byte counts assume SMFIP_HDR_LEADSPC") end

-- 2000 fields: far over the count
pm.expect_unsigned(pm.send(c, { qid = "HH1", headers = count_fields(2000) }),
		   "eoh", SMFIR_ACCEPT)
-- exactly 1000 fields: signed; 1001: not
pm.expect_signed(pm.send(c, { qid = "HH2", headers = count_fields(1000),
			       body = "1000 fields\r\n" }), pm.EXAMPLE)
pm.expect_unsigned(pm.send(c, { qid = "HH3", headers = count_fields(1001) }),
		   "eoh", SMFIR_ACCEPT)
-- exactly 256 KiB of header: signed; one byte more: not
pm.expect_signed(pm.send(c, { qid = "HH4", headers = bytes_fields(262144),
			       body = "256k of header\r\n" }), pm.EXAMPLE)
pm.expect_unsigned(pm.send(c, { qid = "HH5", headers = bytes_fields(262145) }),
		   "eoh", SMFIR_ACCEPT)
-- From only after the limit was hit: still headers_too_large, not no_from
local late = count_fields(1500)
table.remove(late, 1)
late[#late + 1] = FROM
pm.expect_unsigned(pm.send(c, { qid = "HH6", headers = late }), "eoh", SMFIR_ACCEPT)
-- and the connection is fine
pm.expect_signed(pm.send(c, { qid = "HH7", headers = pm.std_headers("alice@example.test"),
			       body = "normal again\r\n" }), pm.EXAMPLE)
pm.disconnect(c)

end)
