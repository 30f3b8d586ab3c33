/*++
 * NAME
 *	cfg_test 1
 * SUMMARY
 *	unit tests of the configuration parser (common/cfg.c)
 * DESCRIPTION
 *	Cases live in tables ({name, input, want}); a failing row prints
 *	"name: got X, want Y" and the test goes on with the other rows, so one
 *	run shows every broken case.
 *
 *	A private section (prefix "t_") has one row per type so that the
 *	parser is tested apart from the real tables; the real tables
 *	(cfg_common_section, dkim_section) are checked for loadable defaults,
 *	round trips and the example file.
 *
 *	Fixture files are in tests/unit/data/cfg/ (run from the top of the
 *	tree, as "make check" does, or set POSTMILL_TEST_DATA to that
 *	directory). Inputs that a fixture cannot hold well (a line over 64 KiB)
 *	are written to a private temporary directory, removed afterwards.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cfg.h"
#include "cfg_common.h"
#include "../../milters/dkim/dkim_conf.h"

/* the private section: one row per type */
struct t_conf {
	char		*str;
	char		*empty;
	char		*eq;
	char		*cont;
	bool		 flag;
	long long	 num;
	long long	 big;
	long long	 time_s;
	long long	 time_ms;
	long long	 size;
	int		 choice;
	struct cfg_list	 words;
	struct cidr_list nets;
	long long	 mode;
	long long	 umask;
	char		*secret;
};

#define T(f) offsetof(struct t_conf, f)

/* codes out of row order: the table, not the position, gives the value */
enum t_choice { T_TEMPFAIL = 4, T_ACCEPT = 2, T_REJECT = 9 };
static const struct name_code t_choices[] = {
	{"accept", T_ACCEPT},
	{"tempfail", T_TEMPFAIL},
	{"reject", T_REJECT},
	{NULL, -1},
};

static const struct cfg_param t_params[] = {
	{"t_str", CFG_STR, "hello world", T(str), 0, 0, NULL, NULL, "a string"},
	{"t_empty", CFG_STR, "", T(empty), 0, 0, NULL, NULL, "empty by default"},
	{"t_eq", CFG_STR, "x=y", T(eq), 0, 0, NULL, NULL, "a string with '='"},
	{"t_cont", CFG_STR, "", T(cont), 0, 0, NULL, NULL, "continued string"},
	{"t_bool", CFG_BOOL, "no", T(flag), 0, 0, NULL, NULL, "a boolean"},
	{"t_int", CFG_INT, "10", T(num), 1, 100, NULL, NULL, "1..100"},
	{"t_big", CFG_INT, "0", T(big), 0, 0, NULL, NULL, "no upper bound"},
	{"t_time", CFG_TIME, "30s", T(time_s), 0, 0, NULL, "s", "bare number in s"},
	{"t_time_ms", CFG_TIME, "250", T(time_ms), 10, 60000, NULL, "ms",
	 "bare number in ms, 10ms..60s"},
	{"t_size", CFG_SIZE, "64k", T(size), 1024, 1LL << 30, NULL, NULL,
	 "1k..1g"},
	{"t_enum", CFG_ENUM, "accept", T(choice), 0, 0, t_choices,
	 NULL, "an enum"},
	{"t_list", CFG_LIST, "a, b c", T(words), 0, 0, NULL, NULL, "a list"},
	{"t_cidr", CFG_CIDR, "127.0.0.0/8, ::1", T(nets), 0, 0, NULL, NULL,
	 "networks"},
	{"t_mode", CFG_MODE, "0660", T(mode), 0, 07777, NULL, NULL, "a mode"},
	{"t_umask", CFG_MODE, "022", T(umask), 0, 0777, NULL, NULL,
	 "a mode up to 0777"},
	{"t_secret", CFG_SECRET, "", T(secret), 0, 0, NULL, NULL, "a password"},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const struct cfg_section t_section = {
	"test", "t_", t_params, sizeof(struct t_conf), NULL,
};

/* every fixture is loaded with these three sections */
static const struct cfg_section *const all_sections[] = {
	&t_section, &cfg_common_section, &dkim_section,
};
#define NSECT	(sizeof(all_sections) / sizeof(all_sections[0]))

static char tmpdir[PATH_MAX];

/* data - path of a fixture file */
static const char *
data(const char *file)
{
	static char path[PATH_MAX];
	const char *dir = getenv("POSTMILL_TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s",
		 dir ? dir : "tests/unit/data/cfg", file);
	return path;
}

/* write_tmp - a temporary file holding len bytes of text */
static const char *
write_tmp(const char *file, const char *text, size_t len)
{
	static char path[PATH_MAX + 64];
	FILE *fp;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", tmpdir, file)
		    < sizeof(path));
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* load - all three sections from a file */
static int
load(const char *path, void **values, struct errlist *el)
{
	return cfg_load(path, all_sections, NSECT, values, el);
}

/* free_all - release what load() returned */
static void
free_all(void **values)
{
	for (size_t s = 0; s < NSECT; s++)
		values[s] = cfg_values_free(all_sections[s], values[s]);
}

/* load_text - load text written to a temporary file */
static int
load_text(const char *text, void **values, struct errlist *el)
{
	const char *path = write_tmp("t.conf", text, strlen(text));
	int rc = load(path, values, el);

	unlink(path);
	return rc;
}

/* format - a loaded value as text, in a static buffer */
static const char *
format(const struct cfg_section *section, const void *values, const char *name)
{
	static char buf[4096];
	const struct cfg_param *p = cfg_find(section, name);
	char *v;

	if (p == NULL)
		return "(no such row)";
	v = cfg_format_value(p, values);
	snprintf(buf, sizeof(buf), "%s", v);
	free(v);
	return buf;
}

/* group_setup - a private temporary directory; the fixtures must be there */
static int
group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/cfg_test.XXXXXX",
		 base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (access(data("good-types.conf"), R_OK) != 0) {
		fprintf(stderr, "cfg_test: %s not found: run from the top of "
			"the tree or set POSTMILL_TEST_DATA\n",
			data("good-types.conf"));
		return -1;
	}
	return 0;
}

/* group_teardown - remove the temporary directory, even after a failed test */
static int
group_teardown(void **state)
{
	static const char *const files[] = {
		"t.conf", "s.conf", "long.conf", "rt.conf", "example.conf",
	};
	char path[PATH_MAX + 64];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/*
 * Single values.
 */

/* test_parse_bool - every spelling, case-insensitive */
static void
test_parse_bool(void **state)
{
	static const struct {
		const char *name, *in;
		int want_rc;
		bool want;
	} cases[] = {
		{"yes", "yes", 0, true}, {"YES", "YES", 0, true},
		{"true", "true", 0, true}, {"True", "True", 0, true},
		{"on", "on", 0, true}, {"1", "1", 0, true},
		{"no", "no", 0, false}, {"No", "No", 0, false},
		{"false", "false", 0, false}, {"off", "OFF", 0, false},
		{"0", "0", 0, false},
		{"empty", "", -1, false}, {"y", "y", -1, false},
		{"2", "2", -1, false}, {"yess", "yess", -1, false},
		{"enable", "enable", -1, false}, {"space", "yes ", -1, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool out = !cases[i].want;
		const char *why = NULL;
		int rc = cfg_parse_bool(cases[i].in, &out, &why);

		if (rc != cases[i].want_rc)
			tcase_bad(cases[i].name, "got rc %d, want %d", rc, cases[i].want_rc);
		else if (rc == 0 && out != cases[i].want)
			tcase_bad(cases[i].name, "got %d, want %d", out, cases[i].want);
		else if (rc < 0 && (why == NULL || strstr(why, "yes") == NULL))
			tcase_bad(cases[i].name, "got why \"%s\", want \"...yes or no\"",
			    why ? why : "(null)");
	}
	tcase_done();
}

/* test_parse_time - units, a bare number in the row's unit, errors */
static void
test_parse_time(void **state)
{
	static const struct {
		const char *name, *in, *unit;
		long long want;		/* ms */
		const char *want_err;	/* substring of why, or NULL */
	} cases[] = {
		{"ms", "250ms", "s", 250, NULL},
		{"s", "30s", "s", 30000, NULL},
		{"m", "5m", "s", 300000, NULL},
		{"h", "1h", "s", 3600000, NULL},
		{"d", "2d", "s", 172800000, NULL},
		{"w", "1w", "s", 604800000, NULL},
		{"upper-case M is minutes", "5M", "s", 300000, NULL},
		{"upper-case MS", "7MS", "s", 7, NULL},
		{"bare in s", "30", "s", 30000, NULL},
		{"bare in ms", "30", "ms", 30, NULL},
		{"bare, NULL unit is s", "3", NULL, 3000, NULL},
		{"zero", "0", "s", 0, NULL},
		{"zero ms", "0ms", "s", 0, NULL},
		{"leading zeros", "007s", "s", 7000, NULL},
		{"largest weeks", "15250284452w", "s", 15250284452LL * 604800000, NULL},
		{"one week too many", "15250284453w", "s", 0, "too large"},
		{"unknown unit", "10x", "s", 0, "unknown time unit"},
		{"unit then junk", "10sx", "s", 0, "unknown time unit"},
		{"space before unit", "10 s", "s", 0, "unknown time unit"},
		{"fraction", "1.5s", "s", 0, "unknown time unit"},
		{"unit only", "s", "s", 0, "expected a number"},
		{"empty", "", "s", 0, "expected a number"},
		{"negative", "-5s", "s", 0, "expected a number"},
		{"plus sign", "+5s", "s", 0, "expected a number"},
		{"overflow in multiply", "20000000000w", "s", 0, "too large"},
		{"overflow in strtoll", "99999999999999999999", "ms", 0, "too large"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long ms = -1;
		const char *why = NULL;
		int rc = cfg_parse_time(cases[i].in, cases[i].unit, &ms, &why);

		if (cases[i].want_err == NULL) {
			if (rc != 0)
				tcase_bad(cases[i].name, "\"%s\": got error \"%s\", want %lld",
				    cases[i].in, why, cases[i].want);
			else if (ms != cases[i].want)
				tcase_bad(cases[i].name, "\"%s\": got %lld, want %lld",
				    cases[i].in, ms, cases[i].want);
		} else if (rc == 0) {
			tcase_bad(cases[i].name, "\"%s\": got %lld, want error \"%s\"",
			    cases[i].in, ms, cases[i].want_err);
		} else if (why == NULL || strstr(why, cases[i].want_err) == NULL) {
			tcase_bad(cases[i].name, "\"%s\": got error \"%s\", want \"%s\"",
			    cases[i].in, why ? why : "(null)", cases[i].want_err);
		}
	}
	tcase_done();
}

/* test_parse_size - b, k, m, g (with an optional b), errors */
static void
test_parse_size(void **state)
{
	static const struct {
		const char *name, *in;
		long long want;
		const char *want_err;
	} cases[] = {
		{"bare", "512", 512, NULL},
		{"b", "512b", 512, NULL},
		{"B", "512B", 512, NULL},
		{"k", "64k", 64 * 1024, NULL},
		{"K", "64K", 64 * 1024, NULL},
		{"kb", "64kb", 64 * 1024, NULL},
		{"KB", "64KB", 64 * 1024, NULL},
		{"m", "10m", 10LL << 20, NULL},
		{"mb", "10mb", 10LL << 20, NULL},
		{"g", "1g", 1LL << 30, NULL},
		{"gb", "3gb", 3LL << 30, NULL},
		{"zero", "0", 0, NULL},
		{"big g", "8589934591g", 8589934591LL << 30, NULL},
		{"unknown unit", "10t", 0, "unknown size unit"},
		{"x", "10x", 0, "unknown size unit"},
		{"kk", "10kk", 0, "unknown size unit"},
		{"bb", "10bb", 0, "unknown size unit"},
		{"kbx", "10kbx", 0, "unknown size unit"},
		{"kg", "1kg", 0, "unknown size unit"},
		{"space", "10 k", 0, "unknown size unit"},
		{"unit only", "k", 0, "expected a number"},
		{"empty", "", 0, "expected a number"},
		{"negative", "-1k", 0, "expected a number"},
		{"overflow", "9999999999999g", 0, "too large"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long b = -1;
		const char *why = NULL;
		int rc = cfg_parse_size(cases[i].in, &b, &why);

		if (cases[i].want_err == NULL) {
			if (rc != 0)
				tcase_bad(cases[i].name, "\"%s\": got error \"%s\", want %lld",
				    cases[i].in, why, cases[i].want);
			else if (b != cases[i].want)
				tcase_bad(cases[i].name, "\"%s\": got %lld, want %lld",
				    cases[i].in, b, cases[i].want);
		} else if (rc == 0) {
			tcase_bad(cases[i].name, "\"%s\": got %lld, want error \"%s\"",
			    cases[i].in, b, cases[i].want_err);
		} else if (why == NULL || strstr(why, cases[i].want_err) == NULL) {
			tcase_bad(cases[i].name, "\"%s\": got error \"%s\", want \"%s\"",
			    cases[i].in, why ? why : "(null)", cases[i].want_err);
		}
	}
	tcase_done();
}

/*
 * One "name = value" line through cfg_load: the table checks the value as
 * cfg_format_value() prints it, or the error message.
 */
static void
test_values(void **state)
{
	static const struct {
		const char *name, *in, *param;
		const char *want;	/* formatted value, or NULL */
		const char *want_err;	/* substring of the one error, or NULL */
	} cases[] = {
		/* str */
		{"str plain", "t_str = a b  c\n", "t_str", "a b  c", NULL},
		{"str trimmed", "t_str =   x   \n", "t_str", "x", NULL},
		{"str empty", "t_str =\n", "t_str", "", NULL},
		{"str '=' inside", "t_str = a=b=c\n", "t_str", "a=b=c", NULL},
		{"str '#' inside", "t_str = a # b\n", "t_str", "a # b", NULL},
		{"str no spaces", "t_str=v\n", "t_str", "v", NULL},
		{"str tabs", "t_str\t=\tv\n", "t_str", "v", NULL},
		{"str continued", "t_str = a\n b\n\tc\n", "t_str", "a b c", NULL},
		{"str continued, trailing blanks", "t_str = a  \t\n   b \n",
		 "t_str", "a b", NULL},
		{"str continued over a blank line", "t_str = a\n\n b\n",
		 "t_str", "a b", NULL},
		{"str no final newline", "t_str = end", "t_str", "end", NULL},
		/* bool */
		{"bool yes", "t_bool = yes\n", "t_bool", "yes", NULL},
		{"bool On", "t_bool = On\n", "t_bool", "yes", NULL},
		{"bool 0", "t_bool = 0\n", "t_bool", "no", NULL},
		{"bool bad", "t_bool = maybe\n", "t_bool", NULL, "expected yes or no"},
		{"bool empty", "t_bool =\n", "t_bool", NULL, "expected yes or no"},
		/* int */
		{"int min", "t_int = 1\n", "t_int", "1", NULL},
		{"int max", "t_int = 100\n", "t_int", "100", NULL},
		{"int below min", "t_int = 0\n", "t_int", NULL, "minimum"},
		{"int above max", "t_int = 101\n", "t_int", NULL, "maximum"},
		{"int negative", "t_int = -5\n", "t_int", NULL, "negative"},
		{"int unit", "t_int = 5k\n", "t_int", NULL, "whole number"},
		{"int hex", "t_int = 0x10\n", "t_int", NULL, "whole number"},
		{"int empty", "t_int =\n", "t_int", NULL, "expected a number"},
		{"int no max", "t_big = 9223372036854775807\n", "t_big",
		 "9223372036854775807", NULL},
		{"int too large", "t_big = 9223372036854775808\n", "t_big", NULL,
		 "too large"},
		/* time */
		{"time bare s", "t_time = 90\n", "t_time", "90s", NULL},
		{"time 1h", "t_time = 60m\n", "t_time", "1h", NULL},
		{"time bare ms", "t_time_ms = 1500\n", "t_time_ms", "1500ms", NULL},
		{"time ms min", "t_time_ms = 10ms\n", "t_time_ms", "10ms", NULL},
		{"time ms max", "t_time_ms = 1m\n", "t_time_ms", "1m", NULL},
		{"time below min", "t_time_ms = 9\n", "t_time_ms", NULL, "minimum"},
		{"time above max", "t_time_ms = 61s\n", "t_time_ms", NULL, "maximum"},
		{"time unit", "t_time = 10x\n", "t_time", NULL, "unknown time unit"},
		{"time overflow", "t_time = 20000000000w\n", "t_time", NULL,
		 "too large"},
		/* size */
		{"size kb", "t_size = 64kb\n", "t_size", "64k", NULL},
		{"size m", "t_size = 2m\n", "t_size", "2m", NULL},
		{"size max", "t_size = 1g\n", "t_size", "1g", NULL},
		{"size bytes", "t_size = 1536\n", "t_size", "1536", NULL},
		{"size below min", "t_size = 1023\n", "t_size", NULL, "minimum"},
		{"size above max", "t_size = 1025m\n", "t_size", NULL, "maximum"},
		{"size unit", "t_size = 10t\n", "t_size", NULL, "unknown size unit"},
		/* enum */
		{"enum first", "t_enum = accept\n", "t_enum", "accept", NULL},
		{"enum last", "t_enum = reject\n", "t_enum", "reject", NULL},
		{"enum case", "t_enum = TempFail\n", "t_enum", "tempfail", NULL},
		{"enum bad", "t_enum = discard\n", "t_enum", NULL,
		 "accept|tempfail|reject"},
		{"enum prefix", "t_enum = acc\n", "t_enum", NULL, "accept"},
		{"enum longer", "t_enum = accepted\n", "t_enum", NULL, "accept"},
		{"enum empty", "t_enum =\n", "t_enum", NULL, "accept"},
		/* list */
		{"list commas", "t_list = a,b,c\n", "t_list", "a, b, c", NULL},
		{"list spaces", "t_list = a b\tc\n", "t_list", "a, b, c", NULL},
		{"list mixed", "t_list = ,a , b,,c,\n", "t_list", "a, b, c", NULL},
		{"list continued", "t_list = a,\n b\n c\n", "t_list", "a, b, c",
		 NULL},
		{"list empty", "t_list =\n", "t_list", "", NULL},
		{"list one", "t_list = solo\n", "t_list", "solo", NULL},
		/* cidr */
		{"cidr v4", "t_cidr = 192.0.2.0/24\n", "t_cidr", "192.0.2.0/24", NULL},
		{"cidr v6", "t_cidr = 2001:db8::/32\n", "t_cidr", "2001:db8::/32",
		 NULL},
		{"cidr bare v4", "t_cidr = 192.0.2.1\n", "t_cidr", "192.0.2.1/32",
		 NULL},
		{"cidr bare v6", "t_cidr = ::1\n", "t_cidr", "::1/128", NULL},
		{"cidr /0", "t_cidr = 0.0.0.0/0, ::/0\n", "t_cidr",
		 "0.0.0.0/0, ::/0", NULL},
		{"cidr mixed separators", "t_cidr = 10.0.0.0/8 ::1,127.0.0.1\n",
		 "t_cidr", "10.0.0.0/8, ::1/128, 127.0.0.1/32", NULL},
		{"cidr empty", "t_cidr =\n", "t_cidr", "", NULL},
		{"cidr host bits", "t_cidr = 192.0.2.1/24\n", "t_cidr", NULL,
		 "host bits"},
		{"cidr v6 host bits", "t_cidr = 2001:db8::1/64\n", "t_cidr", NULL,
		 "host bits"},
		{"cidr prefix 33", "t_cidr = 10.0.0.0/33\n", "t_cidr", NULL,
		 "bad prefix"},
		{"cidr prefix 129", "t_cidr = ::/129\n", "t_cidr", NULL,
		 "bad prefix"},
		{"cidr prefix empty", "t_cidr = 10.0.0.0/\n", "t_cidr", NULL,
		 "bad prefix"},
		{"cidr prefix junk", "t_cidr = 10.0.0.0/8x\n", "t_cidr", NULL,
		 "bad prefix"},
		{"cidr prefix sign", "t_cidr = 0.0.0.0/-0\n", "t_cidr", NULL,
		 "bad prefix"},
		{"cidr garbage", "t_cidr = ::1, localhost\n", "t_cidr", NULL,
		 "\"localhost\""},
		{"cidr short v4", "t_cidr = 10.1\n", "t_cidr", NULL,
		 "not an IPv4 or IPv6"},
		/* mode */
		{"mode 0660", "t_mode = 0660\n", "t_mode", "0660", NULL},
		{"mode no zero", "t_mode = 750\n", "t_mode", "0750", NULL},
		{"mode 0", "t_mode = 0\n", "t_mode", "0000", NULL},
		{"mode max", "t_mode = 07777\n", "t_mode", "7777", NULL},
		{"mode digit 8", "t_mode = 0680\n", "t_mode", NULL, "octal"},
		{"mode too big", "t_mode = 17777\n", "t_mode", NULL, "octal"},
		{"mode letters", "t_mode = rw-rw----\n", "t_mode", NULL, "octal"},
		{"mode empty", "t_mode =\n", "t_mode", NULL, "octal"},
		{"mode negative", "t_mode = -0660\n", "t_mode", NULL, "octal"},
		{"mode very long", "t_mode = 0000000000000000000000000777\n",
		 "t_mode", "0777", NULL},
		{"mode row max", "t_umask = 0777\n", "t_umask", "0777", NULL},
		{"mode above row max", "t_umask = 01777\n", "t_umask", NULL,
		 "maximum"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;
		int rc = load_text(cases[i].in, v, &el);
		char *errs = errlist_join(&el);

		if (cases[i].want != NULL) {
			const char *got;

			if (rc != 0) {
				tcase_bad(cases[i].name, "got error \"%s\", want \"%s\"",
				    errs, cases[i].want);
			} else if (strcmp(got = format(&t_section, v[0],
							 cases[i].param),
					  cases[i].want) != 0) {
				tcase_bad(cases[i].name, "got \"%s\", want \"%s\"",
				    got, cases[i].want);
			}
		} else if (rc == 0) {
			tcase_bad(cases[i].name, "got \"%s\", want error \"%s\"",
			    format(&t_section, v[0], cases[i].param),
			    cases[i].want_err);
		} else if (el.count != 1 || strstr(errs, cases[i].want_err) == NULL
			   || strstr(errs, cases[i].param) == NULL
			   || strstr(errs, ":1: ") == NULL) {
			tcase_bad(cases[i].name, "got %zu error(s) \"%s\", want 1 error "
			    "with \":1: \", \"%s\" and \"%s\"", el.count, errs,
			    cases[i].param, cases[i].want_err);
		}
		if (rc == 0)
			free_all(v);
		else if (v[0] != NULL || v[1] != NULL || v[2] != NULL)
			tcase_bad(cases[i].name, "got values after a failed load, want NULL");
		free(errs);
		errlist_free(&el);
	}
	tcase_done();
}

/*
 * Whole files.
 */

/* test_good_types - the fixture with every type and syntax corner */
static void
test_good_types(void **state)
{
	static const struct {
		const char *param, *want;
	} cases[] = {
		{"t_str", "no spaces around the equals sign"},
		{"t_empty", ""},
		{"t_eq", "a=b == c"},
		{"t_cont", "first second third"},
		{"t_bool", "yes"},
		{"t_int", "100"},
		{"t_big", "9223372036854775807"},
		{"t_time", "2h"},
		{"t_time_ms", "1500ms"},
		{"t_size", "64k"},
		{"t_enum", "tempfail"},
		{"t_list", "alpha, beta, gamma, delta, epsilon, zeta"},
		{"t_cidr", "10.0.0.0/8, 192.0.2.1/32, 2001:db8::/32, ::1/128, 0.0.0.0/0"},
		{"t_mode", "0750"},
		{"t_umask", "0027"},
	};
	void *v[NSECT];
	struct errlist el = ERRLIST_INIT;
	const struct t_conf *t;

	if (load(data("good-types.conf"), v, &el) != 0) {
		char *errs = errlist_join(&el);

		errlist_free(&el);
		fail_msg("good-types.conf: got errors \"%s\", want none", errs);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = format(&t_section, v[0], cases[i].param);

		if (strcmp(got, cases[i].want) != 0)
			tcase_bad(cases[i].param, "got \"%s\", want \"%s\"", got,
			    cases[i].want);
	}
	/* the C variables themselves, not only their formatted text */
	t = v[0];
	assert_null(t->empty);
	assert_true(t->flag);
	assert_int_equal(t->num, 100);
	assert_int_equal(t->big, LLONG_MAX);
	assert_int_equal(t->time_s, 7200000);
	assert_int_equal(t->time_ms, 1500);
	assert_int_equal(t->size, 65536);
	assert_int_equal(t->choice, T_TEMPFAIL);
	assert_int_equal(t->words.count, 6);
	assert_int_equal(t->nets.count, 5);
	assert_int_equal(t->mode, 0750);
	assert_int_equal(t->umask, 027);
	assert_true(cfg_list_contains(&t->words, "gamma", false));
	assert_false(cfg_list_contains(&t->words, "GAMMA", false));
	assert_true(cfg_list_contains(&t->words, "GAMMA", true));
	assert_false(cfg_list_contains(&t->words, "gam", true));
	free_all(v);
	errlist_free(&el);
	tcase_done();
}

/* test_good_crlf - CRLF line endings, continuation included */
static void
test_good_crlf(void **state)
{
	void *v[NSECT];
	struct errlist el = ERRLIST_INIT;
	const struct t_conf *t;

	assert_int_equal(load(data("good-crlf.conf"), v, &el), 0);
	assert_int_equal(el.count, 0);
	t = v[0];
	assert_string_equal(t->str, "crlf line endings");
	assert_string_equal(format(&t_section, t, "t_list"), "a, b");
	assert_int_equal(t->num, 42);
	assert_int_equal(t->mode, 0600);
	free_all(v);
}

/* test_defaults - rows not set take their defaults */
static void
test_defaults(void **state)
{
	static const struct {
		const char *param, *want;
	} cases[] = {
		{"t_str", "hello world"}, {"t_empty", ""}, {"t_eq", "x=y"},
		{"t_bool", "no"}, {"t_int", "10"}, {"t_big", "0"},
		{"t_time", "30s"}, {"t_time_ms", "250ms"}, {"t_size", "64k"},
		{"t_enum", "accept"}, {"t_list", "a, b, c"},
		{"t_cidr", "127.0.0.0/8, ::1/128"}, {"t_mode", "0660"},
		{"t_umask", "0022"},
	};
	void *v[NSECT];
	struct errlist el = ERRLIST_INIT;
	const struct common_conf *c;
	const struct dkim_conf *d;

	assert_int_equal(load(data("good-comments-only.conf"), v, &el), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = format(&t_section, v[0], cases[i].param);

		if (strcmp(got, cases[i].want) != 0)
			tcase_bad(cases[i].param, "got \"%s\", want \"%s\"", got,
			    cases[i].want);
	}
	c = v[1];
	d = v[2];
	assert_string_equal(c->run_user, "postmill");
	assert_null(c->run_group);
	assert_int_equal(c->socket_mode, 0660);
	assert_int_equal(c->dns_timeout, 2000);
	assert_true(cidr_list_match_text(&c->internal_hosts, "127.0.0.1"));
	assert_true(cidr_list_match_text(&c->internal_hosts, "::1"));
	assert_string_equal(d->socket, "unix:/run/postmill/dkim.sock");
	assert_null(d->sender_login_map);
	assert_int_equal(d->login_mismatch_action, DKIM_MISMATCH_PASS);
	assert_int_equal(d->unsignable_action, DKIM_UNSIGNABLE_ACCEPT);
	assert_int_equal(d->signer_error_action, DKIM_ERROR_TEMPFAIL);
	assert_int_equal(d->canonicalization, DKIM_CANON_RR);
	assert_true(cfg_list_contains(&d->sign_headers, "from", false));
	assert_true(cfg_list_contains(&d->oversign_headers, "from", false));
	assert_int_equal(d->signature_ttl, 0);
	assert_true(d->strict_key_permissions);
	assert_true(d->sign_authenticated);
	assert_true(d->sign_internal_hosts);
	assert_int_equal(d->max_header_bytes, 256 * 1024);
	free_all(v);
	tcase_done();
}

/* test_good_postmill - a realistic file; other daemons' names are skipped */
static void
test_good_postmill(void **state)
{
	void *v[NSECT];
	struct errlist el = ERRLIST_INIT;
	const struct common_conf *c;
	const struct dkim_conf *d;

	if (load(data("good-postmill.conf"), v, &el) != 0) {
		char *errs = errlist_join(&el);

		errlist_free(&el);
		fail_msg("good-postmill.conf: got errors \"%s\", want none", errs);
	}
	c = v[1];
	d = v[2];
	assert_string_equal(c->run_group, "postmill");
	assert_int_equal(c->internal_hosts.count, 4);
	assert_true(cidr_list_match_text(&c->internal_hosts, "192.0.2.77"));
	assert_true(cidr_list_match_text(&c->internal_hosts, "2001:db8:1:ffff::1"));
	assert_false(cidr_list_match_text(&c->internal_hosts, "2001:db8:2::1"));
	assert_int_equal(c->dns_timeout, 1500);
	assert_int_equal(c->debug_level, 2);
	assert_string_equal(d->socket, "inet:8891@127.0.0.1");
	assert_string_equal(d->sender_login_map, "/etc/postmill/sender_login");
	assert_int_equal(d->login_mismatch_action, DKIM_MISMATCH_REJECT);
	assert_int_equal(d->unsignable_action, DKIM_UNSIGNABLE_TEMPFAIL);
	assert_int_equal(d->canonicalization, DKIM_CANON_RS);
	assert_int_equal(d->sign_headers.count, 4);
	assert_int_equal(d->signature_ttl, 604800000LL);
	assert_int_equal(d->max_header_bytes, 1024 * 1024);
	assert_false(d->sign_internal_hosts);
	free_all(v);
}

/*
 * Bad files: each has exactly one problem; the message must name the file,
 * the line and the parameter, and say what is wrong.
 */
static void
test_bad_files(void **state)
{
	static const struct {
		const char *file;
		const char *where;	/* ":N: " */
		const char *what;	/* the parameter, or the line text */
		const char *want;	/* the problem */
	} cases[] = {
		{"bad-unknown.conf", ":3: ", "t_itn", "unknown parameter"},
		{"bad-unknown-dkim.conf", ":3: ", "dkim_keytable",
		 "unknown parameter"},
		{"bad-duplicate.conf", ":4: ", "t_int", "first at line 2"},
		{"bad-bool.conf", ":2: ", "t_bool", "expected yes or no"},
		{"bad-int-min.conf", ":2: ", "t_int", "below the minimum"},
		{"bad-int-max.conf", ":2: ", "t_int", "above the maximum"},
		{"bad-int-negative.conf", ":2: ", "t_big", "negative"},
		{"bad-time-unit.conf", ":2: ", "t_time", "unknown time unit"},
		{"bad-time-overflow.conf", ":2: ", "t_time", "too large"},
		{"bad-size-unit.conf", ":2: ", "t_size", "unknown size unit"},
		{"bad-enum.conf", ":2: ", "t_enum", "accept|tempfail|reject"},
		{"bad-cidr-hostbits.conf", ":2: ", "t_cidr", "host bits"},
		{"bad-cidr-prefix.conf", ":2: ", "t_cidr", "bad prefix length"},
		{"bad-cidr-garbage.conf", ":2: ", "t_cidr", "localhost"},
		{"bad-mode.conf", ":2: ", "t_mode", "octal mode"},
		{"bad-missing-equals.conf", ":2: ", "t_int 5", "missing '='"},
		{"bad-continuation-first.conf", ":1: ", "",
		 "continuation line without a parameter"},
		{"bad-nul.conf", ":2: ", "t_str", "NUL byte"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;
		char prefix[PATH_MAX + 16];
		const char *path = data(cases[i].file);
		int rc = load(path, v, &el);
		char *errs = errlist_join(&el);

		snprintf(prefix, sizeof(prefix), "%s%s", path, cases[i].where);
		if (rc == 0) {
			tcase_bad(cases[i].file, "got success, want error \"%s\"",
			    cases[i].want);
			free_all(v);
		} else if (el.count != 1 || strncmp(errs, prefix, strlen(prefix)) != 0
			   || strstr(errs, cases[i].what) == NULL
			   || strstr(errs, cases[i].want) == NULL) {
			tcase_bad(cases[i].file, "got %zu error(s) \"%s\", want 1 error "
			    "\"%s...%s...%s\"", el.count, errs, prefix,
			    cases[i].what, cases[i].want);
		}
		free(errs);
		errlist_free(&el);
	}
	tcase_done();
}

/* test_missing_file - "cannot open", naming the path */
static void
test_missing_file(void **state)
{
	void *v[NSECT] = {&v, &v, &v};
	struct errlist el = ERRLIST_INIT;
	const char *path = data("no-such-file.conf");
	char want[PATH_MAX + 32];

	assert_int_equal(load(path, v, &el), -1);
	assert_int_equal(el.count, 1);
	snprintf(want, sizeof(want), "%s: cannot open: ", path);
	if (strncmp(el.msgs[0], want, strlen(want)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", el.msgs[0], want);
	assert_null(v[0]);
	assert_null(v[1]);
	assert_null(v[2]);
	errlist_free(&el);

	/* a directory opens but does not read */
	assert_int_equal(load(tmpdir, v, &el), -1);
	assert_int_equal(el.count, 1);
	assert_non_null(strstr(el.msgs[0], tmpdir));
	errlist_free(&el);
}

/* test_many_errors - every problem of one file in one run */
static void
test_many_errors(void **state)
{
	static const struct {
		unsigned line;
		const char *what;
	} want[] = {
		{4, "t_bool"}, {5, "t_int"}, {6, "t_int: set twice (first at line 5)"},
		{7, "t_time"}, {8, "t_enum"}, {9, "t_typo"}, {10, "dkim_keytable"},
		{11, "t_cidr"}, {13, "no equals sign here"}, {14, "t_size"},
		{15, "t_mode"}, {17, "t_time_ms"},
	};
	const size_t nwant = sizeof(want) / sizeof(want[0]);
	void *v[NSECT];
	struct errlist el = ERRLIST_INIT;
	const char *path = data("bad-many.conf");

	assert_int_equal(load(path, v, &el), -1);
	if (el.count != nwant) {
		for (size_t i = 0; i < el.count; i++)
			fprintf(stderr, "    got: %s\n", el.msgs[i]);
		tcase_bad("count", "got %zu errors, want %zu", el.count, nwant);
	}
	for (size_t i = 0; i < nwant; i++) {
		char prefix[PATH_MAX + 32];
		bool found = false;

		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, want[i].line);
		for (size_t j = 0; j < el.count; j++)
			if (strncmp(el.msgs[j], prefix, strlen(prefix)) == 0
			    && strstr(el.msgs[j], want[i].what) != NULL)
				found = true;
		if (!found)
			tcase_bad(want[i].what, "got no error \"%s...%s\"", prefix,
			    want[i].what);
	}
	errlist_free(&el);
	tcase_done();
}

/* test_line_limits - 64 KiB per logical line, and the scan goes on */
static void
test_line_limits(void **state)
{
	static const struct {
		const char *name;
		size_t first;		/* bytes of the first physical line */
		size_t conts;		/* continuation lines of 4000 bytes */
		bool ok;
	} cases[] = {
		{"exactly 64 KiB", 65536, 0, true},
		{"one byte over", 65537, 0, false},
		{"far over", 1 << 20, 0, false},
		{"continued to 64 KiB", 65536 - 16 * 4001, 16, true},
		{"continued past 64 KiB", 65536 - 16 * 4001 + 1, 16, false},
		{"continued far past", 100, 40, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].first + 1 + cases[i].conts * 4002 + 64;
		char *text = malloc(len), *p = text;
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;
		const char *path;
		char *errs;
		int rc;

		assert_non_null(text);
		memcpy(p, "t_str = ", 8);
		p += 8;
		memset(p, 'x', cases[i].first - 8);
		p += cases[i].first - 8;
		*p++ = '\n';
		for (size_t c = 0; c < cases[i].conts; c++) {
			*p++ = '\t';
			memset(p, 'y', 4000);
			p += 4000;
			*p++ = '\n';
		}
		/* the scan goes on after the long line */
		memcpy(p, "t_int = 7\n", 10);
		p += 10;
		path = write_tmp("long.conf", text, (size_t)(p - text));
		rc = load(path, v, &el);
		errs = errlist_join(&el);
		if (cases[i].ok) {
			if (rc != 0) {
				tcase_bad(cases[i].name, "got error \"%.200s\", want none", errs);
			} else {
				const struct t_conf *t = v[0];
				size_t want = cases[i].first - 8
				    + cases[i].conts * 4001;

				if (strlen(t->str) != want)
					tcase_bad(cases[i].name, "got %zu bytes, want %zu",
					    strlen(t->str), want);
				if (t->num != 7)
					tcase_bad(cases[i].name, "got t_int %lld, want 7",
					    t->num);
				free_all(v);
			}
		} else if (rc == 0) {
			tcase_bad(cases[i].name, "got success, want \"line longer\"");
			free_all(v);
		} else if (el.count != 1 || strstr(errs, ":1: t_str") == NULL
			   || strstr(errs, "line longer than 65536 bytes") == NULL) {
			tcase_bad(cases[i].name, "got %zu error(s) \"%.200s\", want 1 "
			    "\":1: t_str...line longer than 65536 bytes\"",
			    el.count, errs);
		}
		unlink(path);
		free(errs);
		errlist_free(&el);
		free(text);
	}
	tcase_done();
}

/* BIN - a string literal with NUL bytes and its length */
#define BIN(s)	s, sizeof(s) - 1

/* test_structure - line structure: continuation, NUL, names */
static void
test_structure(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len;		/* 0: strlen(in) */
		const char *want_err;	/* NULL: loads */
		unsigned count;		/* errors wanted */
	} cases[] = {
		{"continuation at top", "  t_int = 5\n", 0,
		 ":1: continuation line", 1},
		{"continuation after comments only", "# c\n\n  t_int = 5\n", 0,
		 ":3: continuation line", 1},
		{"missing '='", "t_int\n", 0, ":1: missing '='", 1},
		{"missing name", " \nt_str = a\n= 5\n", 0, ":3: missing parameter name", 1},
		{"bad name", "t-int = 5\n", 0, ":1: bad parameter name \"t-int\"", 1},
		{"space in name", "t int = 5\n", 0, ":1: bad parameter name", 1},
		{"NUL in value", BIN("t_str = a\0b\n"), ":1: t_str: NUL byte", 1},
		{"NUL then continuation", BIN("t_int = 5\nt_str = a\0b\n  c\n"),
		 ":2: t_str: NUL byte", 1},
		{"NUL in continuation", BIN("t_int = 5\n  \0\nt_str = x\n"),
		 ":2: ", 1},
		{"other daemon's names", "limit_rate = 5\nauth_x = y\nbounce_ = z\n",
		 0, NULL, 0},
		{"other daemon's bad value", "limit_rate = -5x\n", 0, NULL, 0},
		{"no prefix, unknown", "rate = 5\n", 0, ":1: unknown parameter \"rate\"", 1},
		{"dkim prefix, unknown", "dkim_rate = 5\n", 0,
		 ":1: unknown parameter \"dkim_rate\"", 1},
		{"common row", "debug_level = 3\n", 0, NULL, 0},
		{"common row, bad", "debug_level = 10\n", 0, ":1: debug_level", 1},
		{"validate", "run_user =\nrun_group = mail\n", 0,
		 "run_group is set but run_user is empty", 1},
		{"validate skipped after errors", "run_user =\nrun_group = mail\nt_int = 0\n",
		 0, ":3: t_int", 1},
		{"duplicate of a bad value", "t_int = 0\nt_int = 5\n", 0,
		 ":2: t_int: set twice (first at line 1)", 2},
		{"three times", "t_int = 1\nt_int = 2\nt_int = 3\n", 0,
		 ":3: t_int: set twice (first at line 1)", 2},
		{"empty file", "", 0, NULL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		const char *path = write_tmp("s.conf", cases[i].in, len);
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;
		int rc = load(path, v, &el);
		char *errs = errlist_join(&el);

		if (cases[i].want_err == NULL) {
			if (rc != 0)
				tcase_bad(cases[i].name, "got error \"%s\", want none", errs);
			else
				free_all(v);
		} else if (rc == 0) {
			tcase_bad(cases[i].name, "got success, want \"%s\"",
			    cases[i].want_err);
			free_all(v);
		} else if (el.count != cases[i].count
			   || strstr(errs, cases[i].want_err) == NULL
			   || strncmp(errs, path, strlen(path)) != 0) {
			tcase_bad(cases[i].name, "got %zu error(s) \"%s\", want %u with "
			    "\"%s\"", el.count, errs, cases[i].count,
			    cases[i].want_err);
		}
		unlink(path);
		free(errs);
		errlist_free(&el);
	}
	tcase_done();
}

/*
 * The real tables and the writers.
 */

/* test_table_defaults - every default of every real table parses */
static void
test_table_defaults(void **state)
{
	static const struct cfg_section *const sections[] = {
		&cfg_common_section, &dkim_section, &t_section,
	};

	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		void *v = NULL;
		struct errlist el = ERRLIST_INIT;

		if (cfg_defaults(sections[s], &v, &el) != 0) {
			char *errs = errlist_join(&el);

			tcase_bad(sections[s]->name, "got \"%s\", want no error", errs);
			free(errs);
		}
		v = cfg_values_free(sections[s], v);
		errlist_free(&el);
	}
	tcase_done();
}

/* test_table_rows - names carry the prefix, are unique, and are documented */
static void
test_table_rows(void **state)
{
	static const struct cfg_section *const sections[] = {
		&cfg_common_section, &dkim_section,
	};
	const size_t nsect = sizeof(sections) / sizeof(sections[0]);

	for (size_t s = 0; s < nsect; s++) {
		const struct cfg_section *sec = sections[s];

		for (const struct cfg_param *p = sec->params; p->name; p++) {
			if (strncmp(p->name, sec->prefix, strlen(sec->prefix)) != 0)
				tcase_bad(p->name, "got no prefix, want \"%s\"", sec->prefix);
			if (*sec->prefix == '\0')
				for (int k = 0; cfg_known_prefixes[k]; k++)
					if (strncmp(p->name, cfg_known_prefixes[k],
						    strlen(cfg_known_prefixes[k])) == 0)
						tcase_bad(p->name, "got a daemon prefix in "
						    "the common section, want none");
			if (p->doc == NULL || *p->doc == '\0')
				tcase_bad(p->name, "got no doc, want one line");
			if (p->type == CFG_ENUM && p->choices == NULL)
				tcase_bad(p->name, "got no choices, want some");
			/* one row per word and per value: two words with one
			 * value, or one word twice, is a copy-paste slip */
			for (const struct name_code *a = p->type == CFG_ENUM ?
			     p->choices : NULL; a && a->name; a++)
				for (const struct name_code *b = a + 1; b->name; b++)
					if (strcasecmp(a->name, b->name) == 0 ||
					    a->code == b->code)
						tcase_bad(p->name, "got rows \"%s\" and "
						    "\"%s\" sharing a word or value, want "
						    "one each", a->name, b->name);
			if (p->type == CFG_TIME && p->unit != NULL
			    && strcmp(p->unit, "s") != 0 && strcmp(p->unit, "ms") != 0)
				tcase_bad(p->name, "got unit \"%s\", want s or ms", p->unit);
			if (p->offset >= sec->size)
				tcase_bad(p->name, "got offset %zu, want < %zu", p->offset,
				    sec->size);
			for (size_t s2 = 0; s2 < nsect; s2++)
				for (const struct cfg_param *q = sections[s2]->params;
				     q->name; q++)
					if (q != p && strcmp(q->name, p->name) == 0)
						tcase_bad(p->name, "got two rows, want one");
		}
	}
	tcase_done();
}

/* values_equal - two loaded values of one row are the same */
static bool
values_equal(const struct cfg_param *p, const void *a, const void *b)
{
	const void *x = (const char *)a + p->offset;
	const void *y = (const char *)b + p->offset;

	switch (p->type) {
	case CFG_STR: case CFG_SECRET: {
		const char *s = *(char *const *)x, *t = *(char *const *)y;

		return (s == NULL && t == NULL)
		    || (s != NULL && t != NULL && strcmp(s, t) == 0);
	}
	case CFG_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case CFG_ENUM:
		return *(const int *)x == *(const int *)y;
	case CFG_INT: case CFG_TIME: case CFG_SIZE: case CFG_MODE:
		return *(const long long *)x == *(const long long *)y;
	case CFG_LIST: {
		const struct cfg_list *l = x, *m = y;

		if (l->count != m->count)
			return false;
		for (size_t i = 0; i < l->count; i++)
			if (strcmp(l->items[i], m->items[i]) != 0)
				return false;
		return true;
	}
	case CFG_CIDR: {
		const struct cidr_list *l = x, *m = y;

		if (l->count != m->count)
			return false;
		for (size_t i = 0; i < l->count; i++)
			if (l->items[i].family != m->items[i].family
			    || l->items[i].prefix != m->items[i].prefix
			    || memcmp(l->items[i].addr, m->items[i].addr, 16) != 0)
				return false;
		return true;
	}
	}
	return false;
}

/* round_trip - write every value, load it back, compare row by row */
static void
round_trip(const char *label, void **v)
{
	char *buf = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	FILE *fp = open_memstream(&buf, &len);
	void *w[NSECT];
	struct errlist el = ERRLIST_INIT;
	const char *path;

	for (size_t s = 0; s < NSECT; s++)
		cfg_write_values(fp, all_sections[s], v[s], false);
	fclose(fp);
	path = write_tmp("rt.conf", buf, len);
	if (load(path, w, &el) != 0) {
		char *errs = errlist_join(&el);

		tcase_bad(label, "got \"%s\" loading the written values, want none", errs);
		free(errs);
	} else {
		for (size_t s = 0; s < NSECT; s++) {
			for (const struct cfg_param *p = all_sections[s]->params;
			     p->name; p++) {
				if (!values_equal(p, v[s], w[s])) {
					char *a = cfg_format_value(p, v[s]);
					char *b = cfg_format_value(p, w[s]);

					tcase_bad(p->name, "%s: got \"%s\" after a round "
					    "trip, want \"%s\"", label, b, a);
					free(a);
					free(b);
				}
			}
		}
		fp = open_memstream(&again, &len2);
		for (size_t s = 0; s < NSECT; s++)
			cfg_write_values(fp, all_sections[s], w[s], false);
		fclose(fp);
		if (len != len2 || memcmp(buf, again, len) != 0)
			tcase_bad(label, "got \"%s\" written twice, want \"%s\"", again, buf);
		free(again);
		free_all(w);
	}
	unlink(path);
	errlist_free(&el);
	free(buf);
}

/* test_round_trip - format then parse gives the same value, every type */
static void
test_round_trip(void **state)
{
	static const char *const files[] = {
		"good-types.conf", "good-postmill.conf", "good-comments-only.conf",
		"good-crlf.conf",
	};
	static const char *const texts[] = {
		/* odd numbers that do not fall on a unit */
		"t_time = 1001ms\nt_time_ms = 59999\nt_size = 1025\nt_big = 1\n"
		"t_mode = 07777\nt_cidr = ::ffff:10.0.0.0/104, 0.0.0.0/0\n"
		"t_enum = reject\nt_bool = off\nt_list =\nt_str =\n",
		"t_time = 0\nt_time_ms = 60s\nt_size = 1g\nt_mode = 0\nt_umask = 0\n"
		"t_cidr =\ndkim_signature_ttl = 90m\ndns_timeout = 100ms\n",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;

		assert_int_equal(load(data(files[i]), v, &el), 0);
		round_trip(files[i], v);
		free_all(v);
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;

		if (load_text(texts[i], v, &el) != 0) {
			char *errs = errlist_join(&el);

			errlist_free(&el);
			fail_msg("text %zu: got \"%s\", want no error", i, errs);
		}
		round_trip("text", v);
		free_all(v);
	}
	tcase_done();
}

/* test_write_example - every row with its default; uncommented, it loads */
static void
test_write_example(void **state)
{
	char *buf = NULL, *uncommented, *o;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	void *v[NSECT], *d = NULL;
	struct errlist el = ERRLIST_INIT;
	const char *path;

	cfg_write_example(fp, all_sections, NSECT);
	fclose(fp);
	for (size_t s = 0; s < NSECT; s++) {
		char head[128];

		snprintf(head, sizeof(head), "# ==== %s ====", all_sections[s]->name);
		if (strstr(buf, head) == NULL)
			tcase_bad(all_sections[s]->name, "got no \"%s\" heading", head);
		for (const struct cfg_param *p = all_sections[s]->params; p->name;
		     p++) {
			char line[1024];

			snprintf(line, sizeof(line), "\n#%s = %s\n", p->name,
				 p->def ? p->def : "");
			if (strstr(buf, line) == NULL)
				tcase_bad(p->name, "got no line \"#%s = %s\" in the example",
				    p->name, p->def ? p->def : "");
			if (strstr(buf, p->doc) == NULL)
				tcase_bad(p->name, "got no doc line in the example");
			if (p->type == CFG_ENUM) {
				/* every word, in the "(a|b|c)" list after the doc */
				const char *doc = strstr(buf, p->doc);
				const char *end = doc ? strchr(doc, '\n') : NULL;

				for (const struct name_code *np = p->choices;
				     doc && end && np->name; np++) {
					const char *w = strstr(doc, np->name);

					if (w == NULL || w > end)
						tcase_bad(p->name, "got no \"%s\" in the "
						    "example's choices", np->name);
				}
			}
		}
	}
	/* remove the '#' of every "#name = " line: the file must load and
	 * give the defaults */
	uncommented = o = malloc(len + 1);
	assert_non_null(uncommented);
	for (const char *l = buf; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) + 1 : strlen(l);

		if (l[0] == '#' && (l[1] == '_' || (l[1] >= 'a' && l[1] <= 'z'))) {
			memcpy(o, l + 1, n - 1);
			o += n - 1;
		} else {
			memcpy(o, l, n);
			o += n;
		}
		l += n;
	}
	*o = '\0';
	path = write_tmp("example.conf", uncommented, strlen(uncommented));
	if (load(path, v, &el) != 0) {
		char *errs = errlist_join(&el);

		tcase_bad("uncommented example", "got \"%s\", want none", errs);
		free(errs);
	} else {
		for (size_t s = 0; s < NSECT; s++) {
			assert_int_equal(cfg_defaults(all_sections[s], &d, &el), 0);
			for (const struct cfg_param *p = all_sections[s]->params;
			     p->name; p++)
				if (!values_equal(p, v[s], d))
					tcase_bad(p->name, "got a value unlike the default "
					    "from the uncommented example");
			d = cfg_values_free(all_sections[s], d);
		}
		free_all(v);
	}
	unlink(path);
	errlist_free(&el);
	free(uncommented);
	free(buf);
	tcase_done();
}

/* test_write_values - postconf -n and postconf */
static void
test_write_values(void **state)
{
	static const struct {
		const char *name, *in;
		bool non_default;
		const char *want;
	} cases[] = {
		{"-n: two changed", "t_enum = reject\nt_int = 50\n", true,
		 "t_int = 50\nt_enum = reject\n"},
		{"-n: set to the default", "t_str = hello world\nt_time = 30000ms\n"
		 "t_list = a b c\n", true, ""},
		{"-n: nothing set", "", true, ""},
		{"-n: empty list", "t_list =\n", true, "t_list = \n"},
		{"-n: cidr", "t_cidr = ::1 127.0.0.0/8\n", true,
		 "t_cidr = ::1/128, 127.0.0.0/8\n"},
		{"all: nothing set", "", false,
		 "t_str = hello world\nt_empty = \nt_eq = x=y\nt_cont = \n"
		 "t_bool = no\nt_int = 10\nt_big = 0\nt_time = 30s\n"
		 "t_time_ms = 250ms\nt_size = 64k\nt_enum = accept\n"
		 "t_list = a, b, c\nt_cidr = 127.0.0.0/8, ::1/128\n"
		 "t_mode = 0660\nt_umask = 0022\nt_secret = \n"},
		/* a secret shows whether it is set, never its value */
		{"-n: secret set", "t_secret = s3cret pass\n", true,
		 "t_secret = <hidden>\n"},
		{"all: secret set", "t_secret = s3cret\n", false,
		 "t_str = hello world\nt_empty = \nt_eq = x=y\nt_cont = \n"
		 "t_bool = no\nt_int = 10\nt_big = 0\nt_time = 30s\n"
		 "t_time_ms = 250ms\nt_size = 64k\nt_enum = accept\n"
		 "t_list = a, b, c\nt_cidr = 127.0.0.0/8, ::1/128\n"
		 "t_mode = 0660\nt_umask = 0022\nt_secret = <hidden>\n"},
		{"-n: secret set empty", "t_secret =\n", true, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *v[NSECT];
		struct errlist el = ERRLIST_INIT;
		char *buf = NULL;
		size_t len = 0;
		FILE *fp;

		assert_int_equal(load_text(cases[i].in, v, &el), 0);
		fp = open_memstream(&buf, &len);
		cfg_write_values(fp, &t_section, v[0], cases[i].non_default);
		fclose(fp);
		if (strcmp(buf, cases[i].want) != 0)
			tcase_bad(cases[i].name, "got \"%s\", want \"%s\"", buf,
			    cases[i].want);
		free(buf);
		free_all(v);
	}
	tcase_done();
}

/* test_write_man - one .TP entry per row, roff-escaped */
static void
test_write_man(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	size_t rows = 0, tps = 0;

	cfg_write_man(fp, &dkim_section);
	fclose(fp);
	for (const struct cfg_param *p = dkim_section.params; p->name; p++)
		rows++;
	for (const char *s = buf; (s = strstr(s, ".TP\n")) != NULL; s++)
		tps++;
	assert_int_equal(tps, rows);
	assert_non_null(strstr(buf, ".B dkim_canonicalization (default: "
			       "relaxed/relaxed)\n"));
	assert_non_null(strstr(buf, ".B dkim_sender_login_map (default: empty)\n"));
	assert_non_null(strstr(buf, "One of: pass|reject."));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_good_types),
		cmocka_unit_test(test_good_crlf),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_postmill),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_table_defaults),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_write_example),
		cmocka_unit_test(test_write_values),
		cmocka_unit_test(test_write_man),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
