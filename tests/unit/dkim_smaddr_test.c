/*
 * dkim_smaddr_test - dkim_sendmail_addr_form() against what a real
 * Sendmail 8.17 delivered (tests/unit/data/sendmail_addr.tsv, captured by
 * tests/e2e/test_sendmail.py, which checks the same file against the real
 * Sendmail): every "form" row gives exactly the delivered value, and that
 * value is a fixed point (Sendmail writing the field changed by the
 * milter out once more changes nothing); every "refuse" row is refused
 * with a reason; "plain" fields are left alone. Then the options the
 * file does not cover ($j missing, masquerading, field names) and the
 * MTA detection from macro v.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dkim_smaddr.h"
#include "tcase.h"
#include "xalloc.h"

#define TSV	"tests/unit/data/sendmail_addr.tsv"
#define J	"mail.sendmail.test"

/* unescape - \r \n \t \\ of the file; with lf, CRLF becomes the milter's LF */
static char *
unescape(const char *s, bool lf, size_t *len)
{
	char *out = xmalloc(strlen(s) + 1), *w = out;

	for (; *s; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			*w++ = *s == 'r' ? '\r' : *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	if (lf) {
		w = out;
		for (char *r = out; *r; r++)
			if (!(r[0] == '\r' && r[1] == '\n'))
				*w++ = *r;
		*w = '\0';
	}
	*len = (size_t)(w - out);
	return out;
}

/*
 * form - run the model on a milter-form value; the captured messages had
 * no other address field with ",(<;" (From: x@example.test, To:
 * r@example.net), so old-style lists apply unless this value has one
 */
static enum dkim_smaddr_status
form(const char *field, const char *v, size_t len, const char *j, bool masq,
     char **out, const char **why)
{
	size_t olen;
	unsigned flags = masq ? DKIM_SMADDR_MASQUERADE : 0;

	if (!dkim_sendmail_new_style(v, len))
		flags |= DKIM_SMADDR_OLD_STYLE;
	return dkim_sendmail_addr_form(v, len, j, field, strlen(field), flags, out,
				       &olen, why);
}

static void
test_measured_table(void **state)
{
	FILE *f = fopen(TSV, "r");
	char line[8192];
	unsigned rows = 0, forms = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *rest = line, *field, *sent, *got_s, *model, *in, *want, *out = NULL;
		const char *why = NULL;
		size_t inlen, wantlen;
		enum dkim_smaddr_status st;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		field = strsep(&rest, "\t");
		sent = strsep(&rest, "\t");
		got_s = strsep(&rest, "\t");
		model = strsep(&rest, "\t");
		assert_non_null(model);
		assert_int_equal(sent[0], '|');
		rows++;
		in = unescape(sent + 1, true, &inlen);
		st = form(field, in, inlen, J, false, &out, &why);
		if (strcmp(model, "form") == 0) {
			forms++;
			assert_int_equal(got_s[0], '|');
			want = unescape(got_s + 1, true, &wantlen);
			if (st != DKIM_SMADDR_FORM)
				tcase_bad(sent, "refused (%s), want \"%s\"", why ? why : "-", want);
			else if (strcmp(out, want) != 0)
				tcase_bad(sent, "got \"%s\", want \"%s\"", out, want);
			else {
				/* the changed field, written out again, stays as it is */
				char *again = NULL;

				if (form(field, out, strlen(out), J, false, &again, &why) != DKIM_SMADDR_FORM
				    || strcmp(again, out) != 0)
					tcase_bad(sent, "not a fixed point: \"%s\" -> \"%s\"", out,
						  again ? again : why);
				free(again);
			}
			free(want);
		} else if (strcmp(model, "refuse") == 0) {
			if (st != DKIM_SMADDR_UNPREDICTABLE || why == NULL)
				tcase_bad(sent, "got status %d (%s), want refused", (int)st,
					  out ? out : "");
		} else {
			if (st != DKIM_SMADDR_PLAIN)
				tcase_bad(sent, "got status %d, want plain", (int)st);
		}
		free(out);
		free(in);
	}
	fclose(f);
	/* the file is the point of this test: it must not shrink unnoticed */
	assert_true(rows >= 140);
	assert_true(forms >= 100);
	tcase_done();
}

static const struct {
	const char	*name;
	const char	*field;
	const char	*value;
	const char	*j;
	bool		 masquerade;
	const char	*want;		/* NULL: refused */
} options[] = {
	{"no j, qualified", "To", " a@example.net,b@example.net", NULL, false,
	 " a@example.net, b@example.net"},
	{"no j, bare", "To", " bob", NULL, false, NULL},
	{"bad j", "To", " bob", "mail example", false, NULL},
	{"other j", "Cc", " Bob <bob>", "mx.example.org", false, " Bob <bob@mx.example.org>"},
	{"masquerade, bare", "From", " alice", J, true, NULL},
	{"masquerade, at j", "From", " alice@" J, J, true, NULL},
	{"masquerade, at j any case", "From", " alice@MAIL.sendmail.test", J, true, NULL},
	{"masquerade, elsewhere", "From", " alice@example.org", J, true, " alice@example.org"},
	{"masquerade, no j", "From", " alice@example.org", NULL, true, NULL},
	{"name case", "rEpLy-tO", " x,y", J, false, " x@" J ", y@" J},
	{"folding counts the name", "Disposition-Notification-To",
	 " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net, b@example.net", J, false,
	 " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net,\n        b@example.net"},
	{"exactly column 78", "To", " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net, b@x.y",
	 J, false, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net, b@x.y"},
	{"column 79", "To", " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net, b@x.y",
	 J, false, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.net,\n        b@x.y"},
	{"CR", "To", " a@example.net\r\n b@example.net", J, false, NULL},
	{"LF without WSP", "To", " a@example.net,\nb@example.net", J, false, NULL},
	{"plain address", "To", " a@example.net", J, false, " a@example.net"},
	{"UUCP", "To", " a@host.UUCP", J, false, NULL},
	{"localhost.", "To", " a@localhost.example.net", J, false, NULL},
	{"group left open", "To", " x: a@example.net", J, false, NULL},
	{"second group", "To", " x: a@example.net; y: b@example.net;", J, false, NULL},
	{"group across elements", "To", " x: a@example.net, b@example.net;, c@example.net", J, false,
	 " x: a@example.net, b@example.net;, c@example.net"},
	{"only spaces and commas", "To", "  , ,", J, false, "  "},
	{"leading fold", "Cc", "\n\ta@example.net", J, false, "  a@example.net"},
	{"too much leading space",
	 "Cc", "                                                                                                     a@b.c",
	 J, false, NULL},
	{"comment after angle keeps fold", "Cc", " Bob <a@example.net>\n (c)", J, false,
	 " Bob <a@example.net>\n (c)"},
	{"8-bit phrase", "From", " J\xc3\xbcrgen <j@example.net>", J, false,
	 " J\xc3\xbcrgen <j@example.net>"},
	{"0xff", "From", " J\xff <j@example.net>", J, false, NULL},
	{"subject is plain", "Subject", " a,b", J, false, "plain"},
	{"bcc", "Bcc", " a@example.net", J, false, NULL},
	/* old style (no ",(<;" here): To and Cc are split at white space */
	{"old style, two addresses", "To", " a@example.net b@example.net", J, false, NULL},
	{"old style, fold", "Cc", " x: a@example.net\n b@example.net", J, false, NULL},
	{"old style, one address", "Cc", "  a@example.net  ", J, false, "  a@example.net"},
	{"DECnet ::", "From", " a::b", J, false, NULL},
	{"comment between atoms", "Cc", " a(x)b@example.net", J, false, NULL},
};

static void
test_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		char *out = NULL;
		const char *why = NULL;
		size_t len = strlen(options[i].value);
		enum dkim_smaddr_status st;

		st = form(options[i].field, options[i].value, len, options[i].j,
			  options[i].masquerade, &out, &why);
		if (options[i].want == NULL) {
			if (st != DKIM_SMADDR_UNPREDICTABLE || why == NULL)
				tcase_bad(options[i].name, "got \"%s\", want refused", out ? out : "-");
		} else if (strcmp(options[i].want, "plain") == 0) {
			if (st != DKIM_SMADDR_PLAIN || out != NULL)
				tcase_bad(options[i].name, "got status %d, want plain", (int)st);
		} else if (st != DKIM_SMADDR_FORM) {
			tcase_bad(options[i].name, "refused (%s), want \"%s\"", why, options[i].want);
		} else if (strcmp(out, options[i].want) != 0) {
			tcase_bad(options[i].name, "got \"%s\", want \"%s\"", out, options[i].want);
		}
		free(out);
	}
	tcase_done();
}

static void
test_nul_inside(void **state)
{
	char *out = NULL;
	const char *why = NULL;

	(void)state;
	/* the length counts, not the NUL: a NUL inside is refused */
	assert_int_equal(form("To", " a@example.net\0b", 16, J, false, &out, &why),
			 DKIM_SMADDR_UNPREDICTABLE);
	assert_null(out);
	assert_non_null(why);
}

static const struct {
	const char	*v;
	enum dkim_mta	 want;
} mtas[] = {
	{NULL, DKIM_MTA_UNKNOWN},
	{"", DKIM_MTA_UNKNOWN},
	{"8.17.1.9", DKIM_MTA_SENDMAIL},
	{"8.15.2", DKIM_MTA_SENDMAIL},
	{"Sendmail 8.18.1", DKIM_MTA_SENDMAIL},
	{"Postfix 3.7.11", DKIM_MTA_POSTFIX},
	{"postfix", DKIM_MTA_POSTFIX},
	{"8.", DKIM_MTA_UNKNOWN},
	{"Exim 4.96", DKIM_MTA_UNKNOWN},
};

static void
test_mta_detect(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mtas) / sizeof(mtas[0]); i++) {
		enum dkim_mta got = dkim_mta_detect(mtas[i].v);

		if (got != mtas[i].want)
			tcase_bad(mtas[i].v ? mtas[i].v : "(null)", "got %d, want %d",
				  (int)got, (int)mtas[i].want);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measured_table),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_mta_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
