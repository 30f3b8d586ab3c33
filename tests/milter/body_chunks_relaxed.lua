-- body_chunks_relaxed - the body hash does not depend on how the body is
-- cut into chunks, under relaxed body canonicalization (lib/body_chunks.lua).
-- expect: BR* action=sign signatures=example.test/s1/rsa-sha256,example.test/e1/ed25519-sha256 client=127.0.0.1
dofile(libdir .. "/pm.lua")
dofile(libdir .. "/body_chunks.lua")
pm.main(function()
	pm.body_chunks("BR", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
end)
