-- body_chunks.lua - shared by body_chunks_relaxed.lua and
-- body_chunks_simple.lua: the body hash must not depend on where the MTA
-- cuts the body into SMFIC_BODY chunks (a CR and its LF, a run of white
-- space, the trailing empty lines can all be cut in two). Every cut of one
-- body, then the same body byte by byte, must give the same bh=; run.py
-- verifies each signature. Then bodies that are only white space, and a
-- large body in Postfix-sized (64 KB) chunks.

function pm.body_chunks(prefix, empty_bh)
	local body = "line one  \r\n\tindented\t \r\n  \r\n" ..
		     "a  b\t\tc \r\ntrailing ws   \r\n\r\n \r\n\r\n"
	local cuts = { { body } }
	for i = 1, #body - 1 do
		cuts[#cuts + 1] = { body:sub(1, i), body:sub(i + 1) }
	end
	local bytes = {}
	for i = 1, #body do bytes[i] = body:sub(i, i) end
	cuts[#cuts + 1] = bytes

	local c = pm.connect("127.0.0.1")
	local bh
	for k, chunks in ipairs(cuts) do
		local q = string.format("%s%03d", prefix, k)
		local r = pm.send(c, { qid = q, body = chunks,
				       headers = { { "From", "alice@example.test" } } })
		pm.expect_signed(r, pm.EXAMPLE)
		local got = pm.tags(r.sigs[1]).bh
		bh = bh or got
		if got ~= bh then
			pm.fail("%s: bh=%s, want %s (as for the body in one chunk)", q, got, bh)
		end
	end

	-- white space only: relaxed makes it the empty body
	local r = pm.send(c, { qid = prefix .. "W", body = { "  \r\n\t", "\r\n \t \r", "\n" },
			       headers = { { "From", "alice@example.test" } } })
	pm.expect_signed(r, pm.EXAMPLE)
	if empty_bh ~= nil and pm.tags(r.sigs[1]).bh ~= empty_bh then
		pm.fail("%sW: white space only: bh=%s, want %s", prefix,
			pm.tags(r.sigs[1]).bh, empty_bh)
	end

	-- 300 KB in 64 KB chunks, lines cut across chunk ends
	local line = "The quick brown fox  jumps over\tthe lazy dog. 0123456789 \r\n"
	local big = string.rep(line, 300 * 1024 // #line)
	local chunks = {}
	for i = 1, #big, 65535 do chunks[#chunks + 1] = big:sub(i, i + 65534) end
	pm.expect_signed(pm.send(c, { qid = prefix .. "L", body = chunks,
				      headers = { { "From", "alice@example.test" } } }),
			 pm.EXAMPLE)
	pm.disconnect(c)
end
