/*
 * dkim_linewrap_test - long lines are broken exactly as Postfix's SMTP
 * client breaks them (measured: a 1500-byte line arrives as 998 + " " 502,
 * a 2100-byte one as 998, " " 997, " " 105), whatever the chunking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dkim_linewrap.h"
#include "xalloc.h"

struct sink {
	char	*buf;
	size_t	 len;
};

static void
sink_out(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	s->buf = xrealloc(s->buf, s->len + len + 1);
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
}

/* wrap - run input through the wrapper in chunks of `step` bytes (0: whole) */
static struct sink
wrap(const char *in, size_t len, size_t limit, size_t step)
{
	struct sink s = {NULL, 0};
	struct dkim_linewrap w;

	sink_out(&s, "", 0);
	dkim_linewrap_init(&w, limit, sink_out, &s);
	if (step == 0) {
		dkim_linewrap_feed(&w, in, len);
	} else {
		for (size_t off = 0; off < len; off += step)
			dkim_linewrap_feed(&w, in + off, len - off < step ? len - off : step);
	}
	dkim_linewrap_flush(&w);
	return s;
}

static char *
repeat(char c, size_t n)
{
	char *p = xmalloc(n + 1);

	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/* line_lengths - "998,503,..." of CRLF-separated lines */
static void
line_lengths(const struct sink *s, char *out, size_t outlen)
{
	size_t start = 0, o = 0;

	out[0] = '\0';
	for (size_t i = 0; i + 1 < s->len + 1; i++) {
		if (i + 1 < s->len && s->buf[i] == '\r' && s->buf[i + 1] == '\n') {
			o += (size_t)snprintf(out + o, outlen - o, "%s%zu", o ? "," : "", i - start);
			start = i + 2;
			i++;
		}
	}
	if (start < s->len)
		snprintf(out + o, outlen - o, "%s%zu", o ? "," : "", s->len - start);
}

static void
test_postfix_break_points(void **state)
{
	static const struct {
		size_t	line;
		const char *want;
	} cases[] = {
		{10, "10"}, {998, "998"}, {999, "998,2"}, {1500, "998,503"},
		{1995, "998,998"}, {1996, "998,998,2"}, {2100, "998,998,106"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line = repeat('x', cases[i].line), *in, got[256];
		struct sink s;

		in = xasprintf("%s\r\n", line);
		s = wrap(in, strlen(in), 998, 0);
		line_lengths(&s, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("line of %zu: got %s, want %s", cases[i].line, got, cases[i].want);
		/* every continuation line starts with one space */
		for (size_t k = 0; k + 2 < s.len; k++)
			if (s.buf[k] == '\r' && s.buf[k + 1] == '\n' && k + 2 < s.len - 0 && s.buf[k + 2] != ' '
			    && k + 2 != s.len)
				fail_msg("line of %zu: continuation without a space", cases[i].line);
		free(s.buf);
		free(in);
		free(line);
	}
}

static void
test_any_chunking_same_output(void **state)
{
	char *a = repeat('a', 2500), *b = repeat('b', 998), *in;
	struct sink whole, part;

	(void)state;
	in = xasprintf("%s\r\n%s\r\nshort\rbare CR\r\n\r\n%s", a, b, a);
	whole = wrap(in, strlen(in), 998, 0);
	for (size_t step = 1; step < 40; step++) {
		part = wrap(in, strlen(in), 998, step);
		if (part.len != whole.len || memcmp(part.buf, whole.buf, whole.len) != 0)
			fail_msg("chunks of %zu: output differs from whole-buffer output", step);
		free(part.buf);
	}
	/* a chunk boundary between CR and LF, exactly at the limit */
	part = wrap(in, strlen(in), 998, 2500 + 1);
	assert_int_equal(part.len, whole.len);
	assert_memory_equal(part.buf, whole.buf, whole.len);
	free(part.buf);
	free(whole.buf);
	free(in);
	free(a);
	free(b);
}

static void
test_limit_zero_and_edges(void **state)
{
	char *a = repeat('a', 5000);
	struct sink s;

	(void)state;
	s = wrap(a, 5000, 0, 0);
	assert_int_equal(s.len, 5000);
	free(s.buf);
	/* a CR at the very end is content; a bare CR counts as content */
	s = wrap("abc\r", 4, 3, 0);
	assert_string_equal(s.buf, "abc\r\n \r");
	free(s.buf);
	s = wrap("ab\rcd\r\n", 7, 3, 1);
	assert_string_equal(s.buf, "ab\r\r\n cd\r\n");
	free(s.buf);
	/* LF-only line ends (header folds from libmilter) reset the column */
	s = wrap("abc\n\tdef", 8, 4, 0);
	assert_string_equal(s.buf, "abc\n\tdef");
	free(s.buf);
	assert_true(dkim_linewrap_needed(a, 5000, 998));
	assert_false(dkim_linewrap_needed(a, 998, 998));
	assert_false(dkim_linewrap_needed("ab\r\ncd", 6, 2));
	assert_true(dkim_linewrap_needed("ab\r\ncde", 7, 2));
	assert_false(dkim_linewrap_needed(a, 5000, 0));
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_break_points),
		cmocka_unit_test(test_any_chunking_same_output),
		cmocka_unit_test(test_limit_zero_and_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
