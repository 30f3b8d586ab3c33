-- bad_from - From fields that cannot be signed for (RFC 6376 section 8.15:
-- exactly one From with exactly one address) pass unsigned under the
-- default dkim_unsignable_action = accept, with the reason logged; the
-- domain is taken from the address, never from a display name.
-- expect: BF1 action=skip reason=no_from from_domain=- client=127.0.0.1
-- expect: BF2 action=skip reason=multiple_from_fields from_domain=- client=127.0.0.1
-- expect: BF3 action=skip reason=multiple_from_fields from_domain=- client=127.0.0.1
-- expect: BF4 action=skip reason=multiple_from_addresses from_domain=- client=127.0.0.1
-- expect: BF5 action=skip reason=multiple_from_addresses from_domain=- client=127.0.0.1
-- expect: BF6 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF7 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF8 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF9 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF10 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF11 action=skip reason=malformed_from from_domain=- client=127.0.0.1
-- expect: BF12 action=sign signatures=other.test/s2/rsa-sha256 client=127.0.0.1
-- expect: BF13 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
-- expect: BF14 action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
pm.main(function()

local c = pm.connect("127.0.0.1")

local unsignable = {
	-- no From at all (Sender does not count)
	{ "BF1", { { "Sender", "alice@example.test" }, { "Subject", "no From" } } },
	-- two From fields
	{ "BF2", { { "From", "alice@example.test" }, { "From", "alice@example.test" } } },
	-- field names are case-insensitive
	{ "BF3", { { "FROM", "alice@example.test" }, { "Subject", "x" }, { "from", "bob@example.test" } } },
	-- two addresses in one field
	{ "BF4", { { "From", "a@example.test, b@example.test" } } },
	-- a group (RFC 6854) with two members
	{ "BF5", { { "From", "Team: a@example.test,\n\tb@example.test;" } } },
	-- malformed: unterminated angle address
	{ "BF6", { { "From", "Alice <alice@example.test" } } },
	-- malformed: no domain
	{ "BF7", { { "From", "alice" } } },
	-- malformed: empty value
	{ "BF8", { { "From", "" } } },
	-- malformed: a group without members names nobody
	{ "BF9", { { "From", "Undisclosed recipients:;" } } },
	-- malformed: an address used as an unquoted display name
	{ "BF10", { { "From", "alice@example.test <evil@nokey.test>" } } },
	-- malformed: a control character
	{ "BF11", { { "From", "alice@exam\1ple.test" } } },
}
for _, u in ipairs(unsignable) do
	pm.expect_unsigned(pm.send(c, { qid = u[1], headers = u[2] }), "eoh", SMFIR_ACCEPT)
end

-- a quoted display name that looks like an address: the key is chosen by
-- the real address (other.test), not by the display name
pm.expect_signed(pm.send(c, { qid = "BF12",
	headers = { { "From", "\"alice@example.test\" <o@other.test>" } } }), pm.OTHER)
-- a comment and odd but legal spacing
pm.expect_signed(pm.send(c, { qid = "BF13",
	headers = { { "From", "alice @ example.test (Alice A.)" } } }), pm.EXAMPLE)
-- and a plain message on the same connection afterwards
pm.expect_signed(pm.send(c, { qid = "BF14",
	headers = pm.std_headers("Alice <alice@example.test>") }), pm.EXAMPLE)
pm.disconnect(c)

end)
