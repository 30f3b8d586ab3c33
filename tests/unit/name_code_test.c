/*++
 * NAME
 *	name_code_test 1
 * SUMMARY
 *	unit tests of word <-> value tables (common/name_code.c)
 * DESCRIPTION
 *	Table-driven: lookups by word (exact, without case, of a length
 *	that is not NUL-terminated, unknown, empty, NULL) give the row's code
 *	or the sentinel's; lookups by code give the first word of that code
 *	(aliases) or NULL. A failing row prints "name: got X, want Y".
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <string.h>

#include "name_code.h"

enum colour { COLOUR_RED = 3, COLOUR_GREEN = 1, COLOUR_BLUE = 7, COLOUR_NONE = -1 };

/* rows deliberately out of enum order, with an alias */
static const struct name_code colours[] = {
	{"red", COLOUR_RED},
	{"green", COLOUR_GREEN},
	{"blue", COLOUR_BLUE},
	{"azure", COLOUR_BLUE},
	{NULL, COLOUR_NONE},
};

/* test_by_name - word to code */
static void
test_by_name(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len;		/* 0: strlen(in) */
		int flags, want;
	} cases[] = {
		{"first row", "red", 0, NAME_CODE_FLAG_NONE, COLOUR_RED},
		{"middle row", "green", 0, NAME_CODE_FLAG_NONE, COLOUR_GREEN},
		{"alias", "azure", 0, NAME_CODE_FLAG_NONE, COLOUR_BLUE},
		{"unknown", "purple", 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"empty", "", 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"case counts", "RED", 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"nocase", "ReD", 0, NAME_CODE_FLAG_NOCASE, COLOUR_RED},
		{"prefix is no match", "re", 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"longer is no match", "reddish", 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"len: word inside longer text", "blue,red", 4, NAME_CODE_FLAG_NONE,
		 COLOUR_BLUE},
		{"len: cut short", "green", 3, NAME_CODE_FLAG_NONE, COLOUR_NONE},
		{"NULL", NULL, 0, NAME_CODE_FLAG_NONE, COLOUR_NONE},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		if (cases[i].len)
			got = name_code_len(colours, cases[i].flags, cases[i].in,
			    cases[i].len);
		else
			got = name_code(colours, cases[i].flags, cases[i].in);
		if (got != cases[i].want)
			tcase_bad(cases[i].name, "got %d, want %d", got, cases[i].want);
	}
	tcase_done();
}

/* test_by_code - code to word */
static void
test_by_code(void **state)
{
	static const struct {
		const char *name;
		int in;
		const char *want;	/* NULL: no row */
	} cases[] = {
		{"red", COLOUR_RED, "red"},
		{"green", COLOUR_GREEN, "green"},
		{"alias gives first word", COLOUR_BLUE, "blue"},
		{"sentinel code has no word", COLOUR_NONE, NULL},
		{"unknown code", 42, NULL},
		{"zero is not special", 0, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = name_code_str(colours, cases[i].in);

		if ((got == NULL) != (cases[i].want == NULL) ||
		    (got && strcmp(got, cases[i].want) != 0))
			tcase_bad(cases[i].name, "got %s, want %s",
			    got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
	}
	tcase_done();
}

/* test_count - rows before the sentinel */
static void
test_count(void **state)
{
	static const struct name_code empty[] = {{NULL, 0}};

	(void)state;
	assert_int_equal(name_code_count(colours), 4);
	assert_int_equal(name_code_count(empty), 0);
	assert_int_equal(name_code(empty, NAME_CODE_FLAG_NONE, "x"), 0);
	assert_null(name_code_str(empty, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_code),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
