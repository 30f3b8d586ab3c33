-- reload - SIGHUP to the supervisor reloads the tables; a message keeps
-- the configuration it started with (its snapshot) and the next message
-- uses the new one; a reload that fails keeps the last good configuration.
-- Own instance: this script rewrites its signing table.
-- instance: reload
-- expect: RL1 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: RL2 action=sign signatures=example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: RL3 action=skip reason=no_key_for_domain from_domain=other.test client=127.0.0.1
-- expect: RL4 action=sign signatures=example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: RL5 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

local TABLE = confdir .. "/signing.table"

local function slurp(path)
	local f = io.open(path, "rb")
	if f == nil then pm.fail("cannot read %s", path) end
	local s = f:read("a")
	f:close()
	return s
end

local function write(path, text)
	local f = io.open(path, "wb")
	if f == nil then pm.fail("cannot write %s", path) end
	f:write(text)
	f:close()
end

local function count(pattern)
	local n = 0
	for _ in slurp(logfile):gmatch(pattern) do n = n + 1 end
	return n
end

-- SIGHUP the supervisor (our own instance, pid from dkim_pid_file) and
-- wait for the worker to log pattern once more
local function reload(pattern)
	local before = count(pattern)
	local pid = slurp(pidfile):match("^(%d+)")
	if pid == nil then pm.fail("no pid in %s", pidfile) end
	if not os.execute("kill -HUP " .. pid) then pm.fail("kill -HUP %s failed", pid) end
	for _ = 1, 200 do
		if count(pattern) > before then return end
		mt.sleep(0.025)
	end
	pm.fail("no %q in the log 5 s after SIGHUP", pattern)
end

local original = slurp(TABLE)
local function msg(qid, from, hook)
	return { qid = qid, headers = pm.std_headers(from), before_body = hook,
		 body = qid .. "\r\n" }
end

local c = pm.connect("127.0.0.1")
-- the reload happens between EOH and EOM of RL1: RL1 still signs with
-- the keys chosen at EOH, both of them
local r = pm.send(c, msg("RL1", "alice@example.test", function()
	write(TABLE, "*@example.test ed\n")
	reload("reloaded [^\n]*generation")
end))
pm.expect_signed(r, pm.EXAMPLE)
-- the next message on the same connection sees the new table
pm.expect_signed(pm.send(c, msg("RL2", "alice@example.test")),
		 { "example.test/e1/ed25519-sha256" })
pm.expect_unsigned(pm.send(c, msg("RL3", "o@other.test")), "eoh", SMFIR_ACCEPT)

-- a table with a syntax error: the reload fails, the last good one stays
write(TABLE, "*@example.test no-such-key\n")
reload("reload failed")
pm.expect_signed(pm.send(c, msg("RL4", "alice@example.test")),
		 { "example.test/e1/ed25519-sha256" })

-- and back
write(TABLE, original)
reload("reloaded [^\n]*generation")
pm.expect_signed(pm.send(c, msg("RL5", "alice@example.test")), pm.EXAMPLE)
pm.disconnect(c)

end)
