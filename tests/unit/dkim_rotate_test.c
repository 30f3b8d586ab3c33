/*++
 * NAME
 *	dkim_rotate_test 1
 * SUMMARY
 *	unit tests for the key rotation state file and table edits
 *	(milters/dkim/dkim_rotate.c)
 * DESCRIPTION
 *	Tables of cases, one cmocka test per table; every row is checked
 *	and a failing row reads "name: got X, want Y":
 *	signtab_add	signing table text -> text with the new key added
 *	signtab_drop	signing table text -> text without the old key, or
 *			the line that would be left with no key
 *	signtab_scan	lines naming the old key only, the new only, both
 *	keytab		key table insert after a name / remove a name
 *	state_ok	state file text -> records -> the same text again
 *	state_bad	state file text -> error reason and line
 *	time		YYYY-MM-DDTHH:MM:SSZ <-> Unix seconds
 *--*/
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dkim_rotate.h"
#include "tcase.h"
#include "xalloc.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

 /*
  * Signing table edits.
  */

static const struct {
	const char     *name;
	const char     *in;
	const char     *want;
	size_t		changed;
} add_cases[] = {
	{"one line", "*@example.com old\n", "*@example.com old new\n", 1},
	{"comments and other lines kept",
	 "# header: old is the key\n*@a.test other\n*@example.com\told   # main old\n\n  # end\n",
	 "# header: old is the key\n*@a.test other\n*@example.com\told new   # main old\n\n  # end\n", 1},
	{"signer copied", "*@example.com old:@example.com\n",
	 "*@example.com old:@example.com new:@example.com\n", 1},
	{"next to old, others kept in place", "*@example.com ed old rsa\n",
	 "*@example.com ed old new rsa\n", 1},
	{"several lines", "a.test old\nb.test x\nc.test y old\n",
	 "a.test old new\nb.test x\nc.test y old new\n", 2},
	{"already there: idempotent", "a.test old new\nb.test old\n", "a.test old new\nb.test old new\n", 1},
	{"prefix of another name", "a.test older old-2\n", "a.test older old-2\n", 0},
	{"pattern equal to the key name is not a key", "old other\n", "old other\n", 0},
	{"in a comment only", "a.test x # old\n", "a.test x # old\n", 0},
	{"CR LF kept", "a.test old\r\nb.test x\r\n", "a.test old new\r\nb.test x\r\n", 1},
	{"no final newline", "a.test old", "a.test old new", 1},
	{"comment glued to the field", "a.test old#c\n", "a.test old new#c\n", 1},
	{"empty text", "", "", 0},
};

static void
test_signtab_add(void **state)
{
	for (size_t i = 0; i < NELEM(add_cases); i++) {
		size_t	len, changed;
		char   *out = dkim_rotate_signtab_add(add_cases[i].in, strlen(add_cases[i].in),
						      "old", "new", &len, &changed);

		if (strcmp(out, add_cases[i].want) != 0 || len != strlen(out))
			tcase_bad(add_cases[i].name, "got \"%s\", want \"%s\"", out,
				  add_cases[i].want);
		if (changed != add_cases[i].changed)
			tcase_bad(add_cases[i].name, "changed: got %zu, want %zu", changed,
				  add_cases[i].changed);
		free(out);
	}
	tcase_done();
}

static const struct {
	const char     *name;
	const char     *in;
	const char     *want;		/* NULL: refused */
	size_t		changed;	/* or the line refused */
} drop_cases[] = {
	{"after add", "*@example.com old new\n", "*@example.com new\n", 1},
	{"first of two", "*@example.com\told\tnew # c\n", "*@example.com\tnew # c\n", 1},
	{"signer", "*@e.test old:@e.test new:@e.test\n", "*@e.test new:@e.test\n", 1},
	{"middle", "*@e.test ed old new rsa\n", "*@e.test ed new rsa\n", 1},
	{"other lines and comments kept", "# old\nx.test a\n\ny.test new old  # z\n",
	 "# old\nx.test a\n\ny.test new  # z\n", 1},
	{"nothing to drop", "x.test new\n", "x.test new\n", 0},
	{"CR LF", "x.test old new\r\n", "x.test new\r\n", 1},
	{"tab after the pattern kept", "x.test\told new  # c\n", "x.test\tnew  # c\n", 1},
	{"last field, comment glued", "x.test new old# c\n", "x.test new# c\n", 1},
	{"add then drop", "*@e.test\told:@e.test new:@e.test\t# c\n", "*@e.test\tnew:@e.test\t# c\n", 1},
	{"would leave no key", "a.test new\nb.test old\n", NULL, 2},
	{"would leave no key, comment", "a.test old # new\n", NULL, 1},
};

static void
test_signtab_drop(void **state)
{
	for (size_t i = 0; i < NELEM(drop_cases); i++) {
		size_t	len, changed;
		const char *why = NULL;
		unsigned line;
		char   *out = dkim_rotate_signtab_drop(drop_cases[i].in, strlen(drop_cases[i].in),
						       "old", &len, &changed, &why, &line);

		if (drop_cases[i].want == NULL) {
			if (out != NULL || line != drop_cases[i].changed)
				tcase_bad(drop_cases[i].name, "got \"%s\" line %u, want refusal at line %zu",
					  out ? out : "(null)", line, drop_cases[i].changed);
		} else if (out == NULL || strcmp(out, drop_cases[i].want) != 0
			   || changed != drop_cases[i].changed) {
			tcase_bad(drop_cases[i].name, "got \"%s\" (%zu), want \"%s\" (%zu)",
				  out ? out : why, out ? changed : 0, drop_cases[i].want,
				  drop_cases[i].changed);
		}
		free(out);
	}
	tcase_done();
}

static const struct {
	const char     *name;
	const char     *in;
	size_t		old_only, new_only, both;
	unsigned	first_old, first_new;
} scan_cases[] = {
	{"before", "# c\na.test old\nb.test old:@b.test\n", 2, 0, 0, 2, 0},
	{"during", "a.test old new\nb.test x\n", 0, 0, 1, 0, 0},
	{"after", "a.test new\n", 0, 1, 0, 0, 1},
	{"mixed", "a.test old new\nb.test old\nc.test new\n", 1, 1, 1, 2, 3},
	{"comments do not count", "a.test x # old new\n", 0, 0, 0, 0, 0},
	{"pattern field does not count", "old x\nnew y\n", 0, 0, 0, 0, 0},
};

static void
test_signtab_scan(void **state)
{
	for (size_t i = 0; i < NELEM(scan_cases); i++) {
		struct dkim_rotate_scan sc;

		dkim_rotate_signtab_scan(scan_cases[i].in, strlen(scan_cases[i].in), "old", "new", &sc);
		if (sc.old_only != scan_cases[i].old_only || sc.new_only != scan_cases[i].new_only
		    || sc.both != scan_cases[i].both || sc.first_old_only != scan_cases[i].first_old
		    || sc.first_new_only != scan_cases[i].first_new)
			tcase_bad(scan_cases[i].name, "got %zu/%zu/%zu lines %u/%u, want "
				  "%zu/%zu/%zu lines %u/%u", sc.old_only, sc.new_only, sc.both,
				  sc.first_old_only, sc.first_new_only, scan_cases[i].old_only,
				  scan_cases[i].new_only, scan_cases[i].both, scan_cases[i].first_old,
				  scan_cases[i].first_new);
	}
	tcase_done();
}

 /*
  * Key table edits.
  */

static const struct {
	const char     *name;
	bool		insert;		/* else remove "old" */
	const char     *in;
	const char     *want;
	size_t		changed;
} keytab_cases[] = {
	{"insert after old", true, "# k\nold e.test:s1:/k/o.pem # c\nx x.test:s:/k/x.pem\n",
	 "# k\nold e.test:s1:/k/o.pem # c\nnew e.test:s2:/k/n.pem\nx x.test:s:/k/x.pem\n", 0},
	{"insert, old last without newline", true, "old e.test:s1:/k/o.pem",
	 "old e.test:s1:/k/o.pem\nnew e.test:s2:/k/n.pem\n", 0},
	{"insert keeps CR LF", true, "old e.test:s1:/k/o.pem\r\n",
	 "old e.test:s1:/k/o.pem\r\nnew e.test:s2:/k/n.pem\r\n", 0},
	{"insert at the end when old is missing", true, "x x.test:s:/k/x.pem",
	 "x x.test:s:/k/x.pem\nnew e.test:s2:/k/n.pem\n", 0},
	{"insert into an empty table", true, "", "new e.test:s2:/k/n.pem\n", 0},
	{"old in a comment is not old", true, "# old\nx x.test:s:/k/x.pem\n",
	 "# old\nx x.test:s:/k/x.pem\nnew e.test:s2:/k/n.pem\n", 0},
	{"remove", false, "# old\nold e.test:s1:/k/o.pem  # first\nnew e.test:s2:/k/n.pem\n",
	 "# old\nnew e.test:s2:/k/n.pem\n", 1},
	{"remove, indented", false, "  old e.test:s1:/k/o.pem\nolder e.test:s0:/k/p.pem\n",
	 "older e.test:s0:/k/p.pem\n", 1},
	{"remove nothing", false, "x x.test:s:/k/x.pem\n", "x x.test:s:/k/x.pem\n", 0},
};

static void
test_keytab(void **state)
{
	for (size_t i = 0; i < NELEM(keytab_cases); i++) {
		size_t	len, changed = 0;
		const char *in = keytab_cases[i].in;
		char   *out = keytab_cases[i].insert
		    ? dkim_rotate_keytab_insert(in, strlen(in), "old", "new e.test:s2:/k/n.pem", &len)
		    : dkim_rotate_keytab_remove(in, strlen(in), "old", &len, &changed);

		if (strcmp(out, keytab_cases[i].want) != 0 || changed != keytab_cases[i].changed)
			tcase_bad(keytab_cases[i].name, "got \"%s\" (%zu), want \"%s\" (%zu)", out,
				  changed, keytab_cases[i].want, keytab_cases[i].changed);
		free(out);
	}
	tcase_done();
}

 /*
  * State file.
  */

#define SPKI	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define COMMON	" old=rsa old-selector=s1 new=example.test-s20261206 new-selector=s20261206" \
		" new-path=/etc/postmill/keys/example.test-s20261206.pem new-spki=" SPKI \
		" started=2026-12-06T20:00:00Z"
#define PUBLISH	"example.test publish" COMMON
#define OVERLAP	"example.test overlap" COMMON " dual-since=2026-12-07T08:30:00Z"
#define DONE	"example.test done" COMMON " dual-since=2026-12-07T08:30:00Z done=2026-12-14T08:30:01Z"

static const struct {
	const char     *name;
	const char     *records;	/* what follows format's header */
	size_t		count;
	enum dkim_rotate_phase phase;	/* of the first */
} ok_cases[] = {
	{"empty", "", 0, 0},
	{"publish", PUBLISH "\n", 1, DKIM_ROTATE_PUBLISH},
	{"overlap", OVERLAP "\n", 1, DKIM_ROTATE_OVERLAP},
	{"done", DONE "\n", 1, DKIM_ROTATE_DONE},
	{"two domains", OVERLAP "\n" "other.test publish old=a old-selector=x new=b new-selector=y"
	 " new-path=./k/b.pem new-spki=" SPKI " started=1970-01-01T00:00:00Z\n", 2, DKIM_ROTATE_OVERLAP},
};

static void
test_state_ok(void **state)
{
	struct dkim_rotate_state empty = {0};
	size_t	hlen;
	char   *header = dkim_rotate_format(&empty, &hlen);

	for (size_t i = 0; i < NELEM(ok_cases); i++) {
		char   *text = xasprintf("%s%s", header, ok_cases[i].records);
		struct dkim_rotate_state st;
		const char *why = "";
		unsigned line;
		size_t	len;
		char   *again;

		if (dkim_rotate_parse(text, strlen(text), &st, &why, &line) < 0) {
			tcase_bad(ok_cases[i].name, "got error \"%s\" at line %u, want %zu records",
				  why, line, ok_cases[i].count);
			free(text);
			continue;
		}
		if (st.count != ok_cases[i].count
		    || (st.count > 0 && st.recs[0].phase != ok_cases[i].phase))
			tcase_bad(ok_cases[i].name, "got %zu records, want %zu", st.count,
				  ok_cases[i].count);
		again = dkim_rotate_format(&st, &len);
		if (strcmp(again, text) != 0)
			tcase_bad(ok_cases[i].name, "format: got \"%s\", want \"%s\"", again, text);
		free(again);
		free(text);
		dkim_rotate_state_clear(&st);
	}
	free(header);
	tcase_done();
}

static const struct {
	const char     *name;
	const char     *text;
	const char     *why;		/* a piece of the reason */
	unsigned	line;
} bad_cases[] = {
	{"unknown phase", "# c\nexample.test started" COMMON "\n", "phase", 2},
	{"upper-case domain", "Example.test publish" COMMON "\n", "lower case", 1},
	{"bad domain", "ex ample.test publish" COMMON "\n", "phase", 1},
	{"domain with a bad byte", "ex$ample.test publish" COMMON "\n", "bad domain", 1},
	{"no phase", "example.test\n", "no phase", 1},
	{"missing field", "example.test publish old=rsa\n", "missing", 1},
	{"dual-since in publish", PUBLISH " dual-since=2026-12-07T08:30:00Z\n", "does not belong", 1},
	{"no dual-since in overlap", "example.test overlap" COMMON "\n", "missing", 1},
	{"unknown field", PUBLISH " extra=1\n", "unknown field", 1},
	{"field twice", PUBLISH " old=rsa\n", "twice", 1},
	{"no '='", PUBLISH " word\n", "without '='", 1},
	{"second line for a domain", PUBLISH "\n" PUBLISH "\n", "second line", 2},
	{"bad time", "example.test publish old=rsa old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=2026-02-30T00:00:00Z\n", "time", 1},
	{"time before 1970", "example.test publish old=rsa old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=1969-12-31T23:59:59Z\n", "time", 1},
	{"bad spki", "example.test publish old=rsa old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=sha256:ABC started=2026-12-06T20:00:00Z\n", "spki", 1},
	{"relative path", "example.test publish old=rsa old-selector=s1 new=n new-selector=s2"
	 " new-path=k/n.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "path", 1},
	{"key name with ':'", "example.test publish old=r:sa old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "key name", 1},
	{"bad selector", "example.test publish old=rsa old-selector=s..1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "selector", 1},
	{"same key twice", "example.test publish old=n old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "same name", 1},
	{"same selector twice", "example.test publish old=o old-selector=S2 new=n new-selector=s2"
	 " new-path=/k/n.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "same selector", 1},
	{"NUL byte", "# ok\nexample.test pub\0lish\n", "NUL", 2},
	{"non-ASCII path", "example.test publish old=rsa old-selector=s1 new=n new-selector=s2"
	 " new-path=/k/n\xc3\xa9.pem new-spki=" SPKI " started=2026-12-06T20:00:00Z\n", "path", 1},
};

static void
test_state_bad(void **state)
{
	for (size_t i = 0; i < NELEM(bad_cases); i++) {
		struct dkim_rotate_state st;
		const char *why = NULL;
		unsigned line = 0;
		/* the NUL case: the length runs to the last newline */
		const char *t = bad_cases[i].text;
		size_t	len = strlen(t);

		if (strstr(bad_cases[i].name, "NUL") != NULL)
			len = sizeof("# ok\nexample.test pub\0lish\n") - 1;
		if (dkim_rotate_parse(t, len, &st, &why, &line) == 0) {
			tcase_bad(bad_cases[i].name, "got %zu records, want \"%s\" at line %u",
				  st.count, bad_cases[i].why, bad_cases[i].line);
			dkim_rotate_state_clear(&st);
		} else if (strstr(why, bad_cases[i].why) == NULL || line != bad_cases[i].line) {
			tcase_bad(bad_cases[i].name, "got \"%s\" at line %u, want \"%s\" at line %u",
				  why, line, bad_cases[i].why, bad_cases[i].line);
		} else if (st.count != 0 || st.recs != NULL) {
			tcase_bad(bad_cases[i].name, "got records left after an error");
		}
	}
	tcase_done();
}

/* a very long line and too many records are refused, not truncated */
static void
test_state_bounds(void **state)
{
	struct dkim_rotate_state st;
	const char *why = NULL;
	unsigned line;
	size_t	n = DKIM_ROTATE_LINE_MAX + 10;
	char   *big = xmalloc(n + 2);

	memset(big, 'a', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	assert_int_equal(dkim_rotate_parse(big, n + 1, &st, &why, &line), -1);
	assert_string_equal(why, "line too long");
	free(big);
}

static const struct {
	const char     *text;
	long long	t;
	bool		ok;
} time_cases[] = {
	{"1970-01-01T00:00:00Z", 0, true},
	{"2000-02-29T12:34:56Z", 951827696, true},
	{"2026-12-06T20:00:00Z", 1796587200, true},
	{"2038-01-19T03:14:08Z", 2147483648LL, true},
	{"9999-12-31T23:59:59Z", 253402300799LL, true},
	{"2100-02-29T00:00:00Z", 0, false},
	{"2026-13-01T00:00:00Z", 0, false},
	{"2026-12-06T24:00:00Z", 0, false},
	{"2026-12-06 20:00:00Z", 0, false},
	{"2026-12-06T20:00:00", 0, false},
	{"+026-12-06T20:00:00Z", 0, false},
};

static void
test_time(void **state)
{
	for (size_t i = 0; i < NELEM(time_cases); i++) {
		long long t = -1;
		int	rc = dkim_rotate_time_parse(time_cases[i].text, strlen(time_cases[i].text), &t);
		char	buf[32];

		if ((rc == 0) != time_cases[i].ok || (rc == 0 && t != time_cases[i].t)) {
			tcase_bad(time_cases[i].text, "got rc %d t %lld, want %s %lld", rc, t,
				  time_cases[i].ok ? "ok" : "error", time_cases[i].t);
			continue;
		}
		if (!time_cases[i].ok)
			continue;
		dkim_rotate_time_format(t, buf, sizeof(buf));
		if (strcmp(buf, time_cases[i].text) != 0)
			tcase_bad(time_cases[i].text, "format: got %s", buf);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signtab_add),
		cmocka_unit_test(test_signtab_drop),
		cmocka_unit_test(test_signtab_scan),
		cmocka_unit_test(test_keytab),
		cmocka_unit_test(test_state_ok),
		cmocka_unit_test(test_state_bad),
		cmocka_unit_test(test_state_bounds),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests_name("dkim_rotate", tests, NULL, NULL);
}
