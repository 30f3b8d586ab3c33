-- body_chunks_simple - the body hash does not depend on how the body is
-- cut into chunks, under simple body canonicalization (lib/body_chunks.lua).
-- instance: simple
-- expect: BS* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
dofile(libdir .. "/body_chunks.lua")
pm.main(function()
	pm.body_chunks("BS", nil)
end)
