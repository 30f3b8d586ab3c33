/*
 * dkim_sendmail_test - the message-level step under Sendmail
 * (milters/dkim/dkim_sendmail.c): each table row is a header section;
 * after dkim_msg_sendmail() the stored fields must be in Sendmail's form
 * (those changed marked for smfi_chgheader), the fields whose form is
 * unknown left out of h= (dkim_msg_sign_names) and a From among them
 * reported. Old-style lists are decided over the whole header section:
 * one address field with ",(<;" anywhere ends them (Bcc counts, Subject
 * does not).
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

#include "dkim.h"
#include "tcase.h"

#define J	"mail.sendmail.test"

static const struct {
	const char	*name;
	const char	*fields[6];	/* "Name:value", milter form (LF folds) */
	const char	*masq;		/* macro M */
	const char	*want[6];	/* the fields afterwards */
	const char	*changed;	/* per field: '1' changed, '0' not */
	const char	*unsigned_names;	/* comma list, lower case */
	bool		 from_refused;
} cases[] = {
	{"bare To and list", {"From: alice@example.org", "To: bob", "Cc: a@x.org,b@x.org",
			      "Subject: a,b"}, NULL,
	 {"From: alice@example.org", "To: bob@" J, "Cc: a@x.org, b@x.org", "Subject: a,b"},
	 "0110", "", false},
	{"nothing to change", {"From: Alice <alice@example.org>", "To: b@x.org, c@x.org"}, NULL,
	 {"From: Alice <alice@example.org>", "To: b@x.org, c@x.org"}, "00", "", false},
	{"unpredictable Cc leaves h=", {"From: alice@example.org", "Cc: a@[192.0.2.1]",
					"CC: b@x.org"}, NULL,
	 {"From: alice@example.org", "Cc: a@[192.0.2.1]", "CC: b@x.org"}, "000", "cc", false},
	{"unpredictable From", {"From: <@r.example:alice@example.org>", "To: bob"}, NULL,
	 {"From: <@r.example:alice@example.org>", "To: bob@" J}, "01", "from", true},
	{"old style: no field with ,(<;", {"From: alice@example.org", "To: a@x.org b@x.org"}, NULL,
	 {"From: alice@example.org", "To: a@x.org b@x.org"}, "00", "to", false},
	{"new style from another field", {"From: Alice <alice@example.org>", "To: a@x.org b@x.org"},
	 NULL, {"From: Alice <alice@example.org>", "To: a@x.org b@x.org"}, "00", "to", false},
	{"Bcc counts for the style, and leaves h=", {"From: alice@example.org", "To: bob",
						      "Bcc: x@y.org, z@y.org"}, NULL,
	 {"From: alice@example.org", "To: bob@" J, "Bcc: x@y.org, z@y.org"}, "010", "bcc", false},
	{"masquerading: bare refused", {"From: alice@example.org", "Reply-To: alice"}, "example.org",
	 {"From: alice@example.org", "Reply-To: alice"}, "00", "reply-to", false},
	{"fold kept as Sendmail writes it", {"From: alice@example.org",
					      "To: \"Person 0\" <person0@example.net>,\n \"Person 1\" <person1@example.net>, \"Person 2\" <person2@example.net>"},
	 NULL, {"From: alice@example.org",
		"To: \"Person 0\" <person0@example.net>, \"Person 1\" <person1@example.net>,\n        \"Person 2\" <person2@example.net>"},
	 "01", "", false},
};

static void
test_messages(void **state)
{
	static const char *const sign[] = {"from", "to", "cc", "bcc", "reply-to", "subject"};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dkim_msg *msg = dkim_msg_new();
		const char *kept[6];
		char names[128] = "";
		size_t n = 0, nk;
		bool from;

		for (; n < 6 && cases[i].fields[n] != NULL; n++) {
			const char *colon = strchr(cases[i].fields[n], ':');
			char *name = strndup(cases[i].fields[n], (size_t)(colon - cases[i].fields[n]));

			/* with SMFIP_HDR_LEADSPC: the value keeps its leading space */
			dkim_msg_add_header(msg, name, colon + 1, true, 100, 65536, 998);
			free(name);
		}
		from = dkim_msg_sendmail(msg, J, cases[i].masq, "TEST");
		if (from != cases[i].from_refused)
			tcase_bad(cases[i].name, "from refused %d, want %d", from, cases[i].from_refused);
		for (size_t k = 0; k < n; k++) {
			const struct dkim_header_field *f = &msg->fields[k];

			if (f->field_len != strlen(cases[i].want[k])
			    || memcmp(f->field, cases[i].want[k], f->field_len) != 0)
				tcase_bad(cases[i].name, "field %zu: got \"%.*s\", want \"%s\"", k,
					  (int)f->field_len, f->field, cases[i].want[k]);
			if (msg->smformed[k] != (cases[i].changed[k] == '1'))
				tcase_bad(cases[i].name, "field %zu: changed %d, want %c", k,
					  msg->smformed[k], cases[i].changed[k]);
		}
		nk = dkim_msg_sign_names(msg, sign, 6, kept);
		for (size_t k = 0; k < 6; k++) {
			bool in = false;

			for (size_t m = 0; m < nk; m++)
				in = in || kept[m] == sign[k];
			if (!in) {
				if (names[0] != '\0')
					strcat(names, ",");
				strcat(names, sign[k]);
			}
		}
		if (strcmp(names, cases[i].unsigned_names) != 0)
			tcase_bad(cases[i].name, "left out of h=: \"%s\", want \"%s\"", names,
				  cases[i].unsigned_names);
		dkim_msg_free(msg);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
