/*++
 * NAME
 *	dkim_smaddr_fuzz 1
 * SUMMARY
 *	libFuzzer target for dkim_sendmail_addr_form() (milters/dkim/dkim_smaddr.c)
 * DESCRIPTION
 *	Byte 0 picks the field name (an address field of either kind, one
 *	Sendmail removes, a plain one) and the options ($j or none,
 *	masquerading, old-style lists); the rest is the field value, given with its length
 *	and no terminating NUL (a copy of exactly that size, so ASan sees
 *	any read past it). Aborts when a result breaks the contract in
 *	dkim_smaddr.h:
 *	- DKIM_SMADDR_PLAIN exactly for names that are not address fields,
 *	  with no output and no reason;
 *	- DKIM_SMADDR_UNPREDICTABLE with a reason and no output;
 *	- DKIM_SMADDR_FORM with an output and its length right: no NUL, no
 *	  CR, no control character but LF and tab, every LF followed by
 *	  white space (a valid folded field value), the same number of
 *	  leading spaces as the input had white space, and a fixed point:
 *	  the output given again comes back unchanged (what Sendmail does
 *	  to the field postmill-dkim changed; measured in test_sendmail.py);
 *	- without $j, no form that qualifies anything (same result with
 *	  $j, or refused).
 *	ASan/UBSan catch the rest.
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_smaddr.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "dkim_smaddr_fuzz: %s: %s\n", what, detail ? detail : "-");
	abort();
}

static const char *const names[] = {
	"From", "To", "Cc", "Reply-To", "Sender", "Resent-From",
	"Disposition-Notification-To", "Bcc", "Subject", "X-Cc",
};

/* run - the model on an exact-size copy */
static enum dkim_smaddr_status
run(const char *v, size_t len, const char *j, const char *name, unsigned masq,
    char **out, size_t *olen, const char **why)
{
	char *copy = malloc(len ? len : 1);
	enum dkim_smaddr_status st;

	if (copy == NULL)
		abort();
	memcpy(copy, v, len);
	st = dkim_sendmail_addr_form(copy, len, j, name, strlen(name), masq, out, olen, why);
	free(copy);
	return st;
}

/* LLVMFuzzerTestOneInput - byte 0: name and options; the rest: the value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name, *j, *why = NULL, *why2 = NULL;
	const char *v = (const char *)data + 1;
	size_t len, olen = 0, olen2 = 0, lead = 0, olead = 0;
	enum dkim_smaddr_status st, st2;
	char *out = NULL, *again = NULL;
	unsigned masq;
	bool address;

	if (size == 0)
		return 0;
	name = names[data[0] % 10];
	j = (data[0] & 0x10) ? NULL : "mail.example.org";
	masq = ((data[0] & 0x20) ? DKIM_SMADDR_MASQUERADE : 0)
	    | ((data[0] & 0x40) ? DKIM_SMADDR_OLD_STYLE : 0);
	address = data[0] % 10 < 7;
	len = size - 1;
	st = run(v, len, j, name, masq, &out, &olen, &why);
	if (!address && strcmp(name, "Bcc") != 0) {
		if (st != DKIM_SMADDR_PLAIN || out != NULL || why != NULL)
			fuzz_fail("plain field", name);
		return 0;
	}
	if (st == DKIM_SMADDR_PLAIN)
		fuzz_fail("address field called plain", name);
	if (st == DKIM_SMADDR_UNPREDICTABLE) {
		if (why == NULL || out != NULL)
			fuzz_fail("refusal without reason or with output", name);
		return 0;
	}
	if (out == NULL || why != NULL || strlen(out) != olen)
		fuzz_fail("form without output, or wrong length", name);
	for (size_t i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\r' || c == 0x7f || (c < 0x20 && c != '\n' && c != '\t'))
			fuzz_fail("control character in the form", out);
		if (c == '\n' && (i + 1 == olen || (out[i + 1] != ' ' && out[i + 1] != '\t')))
			fuzz_fail("line break without white space after it", out);
	}
	while (lead < len && (v[lead] == ' ' || v[lead] == '\t' || v[lead] == '\n'))
		lead++;
	while (olead < olen && out[olead] == ' ')
		olead++;
	if (olead != lead && !(lead == len && olead == olen))
		fuzz_fail("leading white space not kept as spaces", out);
	st2 = run(out, olen, j, name, masq, &again, &olen2, &why2);
	if (st2 != DKIM_SMADDR_FORM || olen2 != olen || memcmp(again, out, olen) != 0)
		fuzz_fail("form is not a fixed point", out);
	free(again);
	if (j == NULL) {
		/* without $j nothing is qualified: $j given changes nothing */
		st2 = run(v, len, "mail.example.org", name, masq, &again, &olen2, &why2);
		if (st2 != DKIM_SMADDR_FORM || olen2 != olen || memcmp(again, out, olen) != 0)
			fuzz_fail("result depends on $j though nothing was qualified", out);
		free(again);
	}
	free(out);
	return 0;
}
