-- pm.lua - shared helpers for the postmill-dkim miltertest scripts
--
-- Loaded by every tests/milter/*.lua with dofile(libdir .. "/pm.lua");
-- run.py passes -D socket=PATH libdir=DIR pidfile=PATH logfile=PATH
-- confdir=DIR (all of the script's milter instance). It is not a test
-- itself: run.py only runs the *.lua files directly under tests/milter/.
--
-- A script puts its body in pm.main(function() ... end) (miltertest does
-- not print error messages; pm.main does), connects (pm.connect), sends
-- whole messages (pm.send) and checks what came back (pm.expect_signed,
-- pm.expect_unsigned). Any failed check calls error(), which makes
-- miltertest exit non-zero: that is how a script fails. Every message
-- carries a queue id in the {i} macro, unique in the suite; the
-- "-- expect: QID token..." lines at the top of a script tell run.py what
-- decision line the milter must have logged for that id.
--
-- Signed messages are also printed, rebuilt as Postfix would store them
-- (signatures on top, CRLF line ends), as one "VERIFY qid hex" line:
-- run.py verifies every signature in them with dkimpy against the test
-- keys, so a wrong body hash or header canonicalization fails the script.
--
-- miltertest facts this file works around (see NOTES-postfix.md too):
-- * mt.header copies name and value into a 1024-byte stack buffer: a
--   longer field smashes miltertest's stack. pm.send refuses it.
-- * With SMFIP_HDR_LEADSPC negotiated, mt.header always sends " " .. value,
--   so the field the milter sees is "Name: value" either way.
-- * After the filter answers ACCEPT (or a reject) libmilter ignores the
--   rest of the message; sending more makes miltertest wait for a reply
--   that never comes. pm.send stops at the first reply that is not
--   CONTINUE, as Postfix does.
-- * mt.negotiate(conn, version, protocol, actions): the man page has the
--   last two the other way round.
-- * With SMFIR_REPLYCODE ('y') the reply text (451/550) is not visible;
--   libmilter sends 'y' only when the code's first digit matches the
--   action (4 for TEMPFAIL, 5 for REJECT), plain 't'/'r' otherwise.

pm = {}

pm.TIMEOUT = 3			-- seconds per milter reply (default 10)
pm.MT_BUFSIZE = 1024		-- miltertest's header buffer
pm.PROT_NO_LEADSPC = 0x000FFFFF	-- SMFI_V6_PROT without SMFIP_HDR_LEADSPC

mt.set_timeout(pm.TIMEOUT)

local reply_names = {
	[SMFIR_CONTINUE] = "CONTINUE", [SMFIR_ACCEPT] = "ACCEPT",
	[SMFIR_REJECT] = "REJECT", [SMFIR_TEMPFAIL] = "TEMPFAIL",
	[SMFIR_DISCARD] = "DISCARD", [SMFIR_REPLYCODE] = "REPLYCODE",
}

-- pm.rname - a reply code as a word, for messages
function pm.rname(r)
	if r == nil then return "nil" end
	return reply_names[r] or string.format("'%s'(%d)", string.char(r), r)
end

-- pm.fail - fail the script with a formatted message
function pm.fail(fmt, ...)
	error(string.format(fmt, ...), 0)
end

-- pm.main - run the script body; miltertest exits 1 on error() but prints
-- nothing, so say why on stderr first
function pm.main(body)
	local ok, err = pcall(body)
	if not ok then
		io.stderr:write("error: " .. tostring(err) .. "\n")
		io.stderr:flush()
		error(err, 0)
	end
end

-- check - an mt.* call returned an error string
local function check(what, err)
	if err ~= nil then pm.fail("%s: %s", what, tostring(err)) end
end

-- pm.connect - new connection from ip; opts.leadspace=false offers the
-- protocol without SMFIP_HDR_LEADSPC (an old MTA); opts.host names the client
function pm.connect(ip, opts)
	opts = opts or {}
	local conn = mt.connect("unix:" .. socket)
	if conn == nil then pm.fail("mt.connect(%s) failed", socket) end
	if opts.leadspace == false then
		check("mt.negotiate", mt.negotiate(conn, nil, pm.PROT_NO_LEADSPC, nil))
	end
	if not mt.test_action(conn, SMFIF_ADDHDRS) then
		pm.fail("milter did not ask for SMFIF_ADDHDRS")
	end
	check("mt.conninfo", mt.conninfo(conn, opts.host or "client.test", ip))
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		pm.fail("connect from %s: reply %s, want CONTINUE", ip, pm.rname(r))
	end
	return { conn = conn, ip = ip,
		 leadspace = mt.test_option(conn, SMFIP_HDR_LEADSPC) }
end

-- pm.disconnect - polite QUIT
function pm.disconnect(c)
	mt.disconnect(c.conn)
end

-- pm.send - one message; stops at the first reply that is not CONTINUE.
-- m.qid       queue id ({i} at MAIL), required and unique in the suite
-- m.login     {auth_authen} at MAIL (nil: not authenticated)
-- m.envfrom   MAIL FROM (default <sender@example.test>)
-- m.headers   list of {name, value}; "\n\t" folds as Postfix sends it
-- m.body      string or list of chunks (default one line); never "" (an
--             empty chunk makes libmilter drop the connection)
-- m.abort     "headers" (after the fields, before EOH), "eoh" (after EOH)
--             or "body" (after the first chunk): send ABORT and stop
-- m.before_body  function called after EOH was answered CONTINUE
-- Returns r: r.stage = "data" | "eoh" | "abort" | "eom" (where it stopped),
-- r.reply (the last reply), r.qid, r.m, r.c, and at eom r.sigs
-- (DKIM-Signature values, top first), r.inserted (SMFIR_INSHEADER seen)
-- and r.other_changes (any other modification requested).
function pm.send(c, m)
	local conn = c.conn
	local r = { qid = m.qid, m = m, c = c }

	if m.qid == nil then pm.fail("pm.send: no qid") end
	if m.login ~= nil then
		check("mt.macro", mt.macro(conn, SMFIC_MAIL, "i", m.qid,
					   "{auth_authen}", m.login))
	else
		check("mt.macro", mt.macro(conn, SMFIC_MAIL, "i", m.qid))
	end
	check(m.qid .. ": mt.mailfrom",
	      mt.mailfrom(conn, m.envfrom or "<sender@example.test>"))
	r.reply = mt.getreply(conn)
	if r.reply ~= SMFIR_CONTINUE then
		pm.fail("%s: MAIL reply %s, want CONTINUE", m.qid, pm.rname(r.reply))
	end
	-- postmill-dkim negotiates SMFIP_NODATA: miltertest then refuses mt.data
	if not mt.test_option(conn, SMFIP_NODATA) then
		check(m.qid .. ": mt.data", mt.data(conn))
		r.reply = mt.getreply(conn)
		if r.reply ~= SMFIR_CONTINUE then
			r.stage = "data"
			return r
		end
	end
	for i, h in ipairs(m.headers or {}) do
		if #h[1] + #h[2] + 3 > pm.MT_BUFSIZE then
			pm.fail("%s: header %d is too long for miltertest", m.qid, i)
		end
		check(m.qid .. ": mt.header " .. h[1], mt.header(conn, h[1], h[2]))
	end
	if m.abort == "headers" then
		check(m.qid .. ": mt.abort", mt.abort(conn))
		r.stage = "abort"
		return r
	end
	check(m.qid .. ": mt.eoh", mt.eoh(conn))
	r.reply = mt.getreply(conn)
	if r.reply ~= SMFIR_CONTINUE then
		r.stage = "eoh"
		return r
	end
	if m.abort == "eoh" then
		check(m.qid .. ": mt.abort", mt.abort(conn))
		r.stage = "abort"
		return r
	end
	if m.before_body ~= nil then m.before_body() end
	local body = m.body or "Hello.\r\n"
	if type(body) == "string" then body = { body } end
	for i, chunk in ipairs(body) do
		if chunk == "" then pm.fail("%s: empty body chunk", m.qid) end
		check(m.qid .. ": mt.bodystring", mt.bodystring(conn, chunk))
		if m.abort == "body" then
			check(m.qid .. ": mt.abort", mt.abort(conn))
			r.stage = "abort"
			return r
		end
	end
	check(m.qid .. ": mt.eom", mt.eom(conn))
	r.stage = "eom"
	r.reply = mt.getreply(conn)
	r.sigs = {}
	while true do
		local v = mt.getheader(conn, "DKIM-Signature", #r.sigs)
		if v == nil then break end
		r.sigs[#r.sigs + 1] = v
	end
	r.inserted = mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature")
	r.other_changes = mt.eom_check(conn, MT_HDRADD)
	    or mt.eom_check(conn, MT_HDRCHANGE) or mt.eom_check(conn, MT_HDRDELETE)
	    or mt.eom_check(conn, MT_BODYCHANGE) or mt.eom_check(conn, MT_QUARANTINE)
	return r
end

-- pm.tags - the tag=value pairs of a DKIM-Signature value (FWS removed)
function pm.tags(value)
	local t = {}
	local flat = value:gsub("[ \t\r\n]", "")
	for k, v in flat:gmatch("([%w_]+)=([^;]*)") do t[k] = v end
	return t
end

-- pm.expect_signed - r was signed with exactly sigs {"d/s/a", ...}, in order
function pm.expect_signed(r, sigs)
	local q = r.qid
	if r.stage ~= "eom" then
		pm.fail("%s: stopped at %s with %s, want signed at EOM", q, r.stage,
			pm.rname(r.reply))
	end
	if r.reply ~= SMFIR_CONTINUE and r.reply ~= SMFIR_ACCEPT then
		pm.fail("%s: EOM reply %s, want CONTINUE", q, pm.rname(r.reply))
	end
	if #r.sigs ~= #sigs then
		pm.fail("%s: %d DKIM-Signature fields, want %d", q, #r.sigs, #sigs)
	end
	if not r.inserted then
		pm.fail("%s: DKIM-Signature was not inserted (SMFIR_INSHEADER)", q)
	end
	if r.other_changes then
		pm.fail("%s: milter changed more than inserting DKIM-Signature", q)
	end
	for i, want in ipairs(sigs) do
		local v = r.sigs[i]
		local t = pm.tags(v)
		local got = string.format("%s/%s/%s", tostring(t.d), tostring(t.s),
					  tostring(t.a))
		if got ~= want then
			pm.fail("%s: signature %d is %s, want %s", q, i, got, want)
		end
		if t.v ~= "1" or t.bh == nil or t.b == nil or t.h == nil then
			pm.fail("%s: signature %d lacks v=1, bh=, b= or h=: %s", q, i, v)
		end
		if not (":" .. t.h:lower() .. ":"):find(":from:", 1, true) then
			pm.fail("%s: signature %d does not cover From: h=%s", q, i, t.h)
		end
		if r.c.leadspace and v:sub(1, 1) ~= " " then
			pm.fail("%s: with SMFIP_HDR_LEADSPC the value must start with a space", q)
		end
		if not r.c.leadspace and v:sub(1, 1):match("%s") then
			pm.fail("%s: without SMFIP_HDR_LEADSPC the value must not start with a space", q)
		end
	end
	pm.emit_verify(r)
end

-- pm.expect_unsigned - r ended at stage with reply and carries no signature
function pm.expect_unsigned(r, stage, reply)
	local q = r.qid
	if r.stage ~= stage then
		pm.fail("%s: stopped at %s (%s), want %s", q, r.stage,
			pm.rname(r.reply), stage)
	end
	if reply ~= nil and r.reply ~= reply then
		pm.fail("%s: %s reply %s, want %s", q, stage, pm.rname(r.reply),
			pm.rname(reply))
	end
	if r.sigs ~= nil and #r.sigs > 0 then
		pm.fail("%s: %d DKIM-Signature fields inserted, want none", q, #r.sigs)
	end
end

-- pm.crlf - line ends as they are in the stored message
local function crlf(s)
	return (s:gsub("\r?\n", "\r\n"))
end

-- pm.emit_verify - print the signed message for run.py to verify
function pm.emit_verify(r)
	local parts = {}
	for _, v in ipairs(r.sigs) do
		-- without LEADSPC the MTA writes "Name: value"
		local sep = r.c.leadspace and "" or " "
		parts[#parts + 1] = "DKIM-Signature:" .. sep .. crlf(v) .. "\r\n"
	end
	for _, h in ipairs(r.m.headers or {}) do
		-- miltertest sent " " .. value (LEADSPC) or value (the MTA ate
		-- one space): either way the stored field is "Name: value"
		parts[#parts + 1] = h[1] .. ": " .. crlf(h[2]) .. "\r\n"
	end
	parts[#parts + 1] = "\r\n"
	local body = r.m.body or "Hello.\r\n"
	if type(body) == "table" then body = table.concat(body) end
	parts[#parts + 1] = body
	local msg = table.concat(parts)
	local hex = msg:gsub(".", function(ch)
		return string.format("%02x", ch:byte())
	end)
	print("VERIFY " .. r.qid .. " " .. hex)
end

-- pm.std_headers - a plain header section From from, plus extra fields
function pm.std_headers(from, extra)
	local h = {
		{ "From", from },
		{ "To", "Bob <bob@example.org>" },
		{ "Subject", "test message" },
		{ "Date", "Sat, 21 Nov 2026 10:00:00 +0000" },
		{ "Message-ID", "<" .. tostring(os.time()) .. "@client.test>" },
	}
	for _, f in ipairs(extra or {}) do h[#h + 1] = f end
	return h
end

-- the signatures the test key tables produce (run.py writes them)
pm.EXAMPLE = { "example.test/s1/rsa-sha256", "example.test/e1/ed25519-sha256" }
pm.OTHER = { "other.test/s2/rsa-sha256" }

return pm
