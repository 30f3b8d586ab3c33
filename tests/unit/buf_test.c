/*++
 * NAME
 *	buf_test 1
 * SUMMARY
 *	unit tests of the bounded growable buffer (common/buf.c)
 * DESCRIPTION
 *	Table-driven: each case is a list of appends (printf or raw bytes)
 *	into a buffer with a max, and the text, length and failure flag
 *	that must result. Appends that would pass max change nothing, and
 *	every later one is ignored; growth past the first allocation keeps
 *	the text. A failing row prints "name: got X, want Y".
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BT_MAX_OPS	4

struct bt_op {
	const char *raw;	/* buf_append of this, if set */
	const char *word;	/* else buf_printf("%s", word) */
	int	 repeat;	/* done this many times (0: once) */
};

/* test_appends - sequences of appends against a max */
static void
test_appends(void **state)
{
	static const struct {
		const char *name;
		size_t max;
		struct bt_op ops[BT_MAX_OPS];
		const char *want;	/* NULL: 'x' times want_len */
		size_t want_len;
		bool want_failed;
	} cases[] = {
		{"empty", 0, {{0}}, "", 0, false},
		{"one printf", 0, {{NULL, "hello", 0}}, "hello", 5, false},
		{"printf then raw", 0, {{NULL, "ab", 0}, {"cd", NULL, 0}}, "abcd", 4, false},
		{"raw empty", 0, {{"", NULL, 0}}, "", 0, false},
		{"grows past the first block", 0, {{NULL, "x", 5000}}, NULL, 5000, false},
		{"exactly max", 5, {{NULL, "hello", 0}}, "hello", 5, false},
		{"one past max: refused whole", 4, {{NULL, "hello", 0}}, "", 0, true},
		{"refusal is sticky", 8, {{NULL, "abc", 0}, {NULL, "defghij", 0},
		 {NULL, "d", 0}}, "abc", 3, true},
		{"raw past max", 3, {{"ab", NULL, 0}, {"cd", NULL, 0}}, "ab", 2, true},
		{"max 1", 1, {{NULL, "x", 3}}, "x", 1, true},
		{"bounded growth", 3000, {{NULL, "x", 3001}}, NULL, 3000, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf *b = buf_new(cases[i].max);
		char *want = NULL;
		const char *w = cases[i].want;
		char *got;
		size_t len;
		bool failed;

		for (int k = 0; k < BT_MAX_OPS; k++) {
			const struct bt_op *op = &cases[i].ops[k];

			for (int r = 0; r < (op->repeat ? op->repeat : 1); r++) {
				if (op->raw)
					buf_append(b, op->raw, strlen(op->raw));
				else if (op->word)
					buf_printf(b, "%s", op->word);
			}
		}
		if (w == NULL) {
			want = calloc(1, cases[i].want_len + 1);
			memset(want, 'x', cases[i].want_len);
			w = want;
		}
		failed = buf_failed(b);
		if (strlen(buf_text(b)) != buf_len(b))
			tcase_bad(cases[i].name, "got strlen %zu, want buf_len %zu",
			    strlen(buf_text(b)), buf_len(b));
		got = buf_export(b, &len);
		if (len != cases[i].want_len || strcmp(got, w) != 0)
			tcase_bad(cases[i].name, "got \"%.40s\" (%zu), want \"%.40s\" (%zu)",
			    got, len, w, cases[i].want_len);
		if (failed != cases[i].want_failed)
			tcase_bad(cases[i].name, "got failed=%d, want %d", failed,
			    cases[i].want_failed);
		free(got);
		free(want);
	}
	tcase_done();
}

/* test_formats - printf conversions, NUL bytes in raw appends */
static void
test_formats(void **state)
{
	struct buf *b = buf_new(0);
	char big[1000];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(b, "%d-%s-%.2f-%c", 42, "z", 1.5, 'q');
	assert_string_equal(buf_text(b), "42-z-1.50-q");
	buf_printf(b, "%s", big);	/* grows inside vprintf */
	assert_int_equal(buf_len(b), 11 + 999);
	buf_append(b, "a\0b", 3);
	assert_int_equal(buf_len(b), 11 + 999 + 3);
	assert_memory_equal(buf_text(b) + 11 + 999, "a\0b", 4);
	b = buf_free(b);
	assert_null(b);
	assert_null(buf_free(NULL));
}

/* test_cut - back to a mark, which clears the failure */
static void
test_cut(void **state)
{
	struct buf *b = buf_new(10);
	size_t mark;

	(void)state;
	buf_printf(b, "one\n");
	mark = buf_len(b);
	buf_printf(b, "two\n");
	buf_printf(b, "three\n");	/* refused: 14 > 10 */
	assert_true(buf_failed(b));
	assert_string_equal(buf_text(b), "one\ntwo\n");
	buf_cut(b, mark);
	assert_false(buf_failed(b));
	assert_string_equal(buf_text(b), "one\n");
	buf_cut(b, 100);		/* never longer */
	assert_string_equal(buf_text(b), "one\n");
	buf_printf(b, "four\n");
	assert_string_equal(buf_text(b), "one\nfour\n");
	buf_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
