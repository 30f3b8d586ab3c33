/*++
 * NAME
 *	dkim_spool_test 1
 * SUMMARY
 *	unit tests of the body copy for smfi_replacebody (dkim_spool.c)
 * DESCRIPTION
 *	Rows of (chunk size, total bytes): bodies that stay in memory, that
 *	end exactly at the memory cap, and that move to the temporary file
 *	one byte past it or far past it; each is written in chunks of a
 *	pattern and read back, which must give the same bytes in chunks of
 *	at most DKIM_SPOOL_CHUNK. A refusing consumer stops the read.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdlib.h>
#include <string.h>

#include "dkim_spool.h"

struct sink {
	unsigned char	*buf;
	size_t		 len;
	size_t		 max_chunk;
	int		 calls;
	int		 refuse_at;	/* call number that returns -1; 0 never */
};

/* sink_out - collect what the spool hands back */
static int
sink_out(void *ctx, const unsigned char *data, size_t len)
{
	struct sink *s = ctx;

	s->calls++;
	if (s->refuse_at && s->calls == s->refuse_at)
		return -1;
	if (len > s->max_chunk)
		s->max_chunk = len;
	s->buf = realloc(s->buf, s->len + len);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* pattern_byte - position-dependent bytes, so that reordering shows */
static unsigned char
pattern_byte(size_t i)
{
	return (unsigned char)((i * 7 + i / 251) & 0xff);
}

/* test_round_trip - what goes in comes out, in memory and in the file */
static void
test_round_trip(void **state)
{
	static const struct {
		const char *name;
		size_t chunk, total;
	} cases[] = {
		{"empty", 100, 0},
		{"one small chunk", 100, 100},
		{"many small chunks", 7, 100000},
		{"exactly the memory cap", 65536, DKIM_SPOOL_MEM},
		{"one byte past the cap", 65536, DKIM_SPOOL_MEM + 1},
		{"far past the cap, odd chunks", 65535, 3 * DKIM_SPOOL_MEM + 12345},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dkim_spool sp = {0};
		struct sink s = {0};
		unsigned char *chunk = malloc(cases[i].chunk);
		const char *why = NULL;
		size_t off = 0;
		bool same = true;

		while (off < cases[i].total) {
			size_t n = cases[i].total - off < cases[i].chunk ?
			    cases[i].total - off : cases[i].chunk;

			for (size_t k = 0; k < n; k++)
				chunk[k] = pattern_byte(off + k);
			dkim_spool_write(&sp, chunk, n);
			off += n;
		}
		if (dkim_spool_read(&sp, sink_out, &s, &why) < 0)
			tcase_bad(cases[i].name, "got error \"%s\", want success", why);
		for (size_t k = 0; k < s.len && same; k++)
			same = s.buf[k] == pattern_byte(k);
		if (s.len != cases[i].total || !same)
			tcase_bad(cases[i].name, "got %zu bytes (same: %d), want %zu",
			    s.len, same, cases[i].total);
		if (s.max_chunk > DKIM_SPOOL_CHUNK)
			tcase_bad(cases[i].name, "got a chunk of %zu, want <= %d",
			    s.max_chunk, DKIM_SPOOL_CHUNK);
		if ((sp.fp != NULL) != (cases[i].total > DKIM_SPOOL_MEM))
			tcase_bad(cases[i].name, "got file %d, want %d", sp.fp != NULL,
			    cases[i].total > DKIM_SPOOL_MEM);
		dkim_spool_discard(&sp);
		free(s.buf);
		free(chunk);
	}
	tcase_done();
}

/* test_refused - a consumer's refusal ends the read with an error */
static void
test_refused(void **state)
{
	struct dkim_spool sp = {0};
	struct sink s = {.refuse_at = 2};
	static unsigned char block[65536];
	const char *why = NULL;

	(void)state;
	for (int i = 0; i < 40; i++)
		dkim_spool_write(&sp, block, sizeof(block));
	assert_int_equal(dkim_spool_read(&sp, sink_out, &s, &why), -1);
	assert_non_null(why);
	assert_int_equal(s.calls, 2);
	free(s.buf);
	dkim_spool_discard(&sp);
	assert_null(sp.fp);
	assert_null(sp.mem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
