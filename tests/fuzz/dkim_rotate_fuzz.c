/*++
 * NAME
 *	dkim_rotate_fuzz 1
 * SUMMARY
 *	libFuzzer target for the rotation state file parser and table edits
 * DESCRIPTION
 *	The input is parsed as a state file; when it parses, formatting it
 *	and parsing the result must give the same text again (aborts
 *	otherwise). The same input is then edited as a signing table (add,
 *	drop, scan) and as a key table (insert, remove): a drop or remove
 *	never makes the text longer, an insert adds one line, and a scan
 *	after the add finds no line naming the old key without the new one
 *	unless a line has more fields than the editor looks at. ASan/UBSan
 *	catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_rotate.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dkim_rotate_state st, st2;
	struct dkim_rotate_scan sc;
	const char *why;
	unsigned line;
	size_t	len, len2, changed;
	char   *out, *out2;

	if (dkim_rotate_parse(text, size, &st, &why, &line) == 0) {
		out = dkim_rotate_format(&st, &len);
		if (dkim_rotate_parse(out, len, &st2, &why, &line) < 0)
			abort();
		out2 = dkim_rotate_format(&st2, &len2);
		if (len != len2 || memcmp(out, out2, len) != 0)
			abort();
		free(out);
		free(out2);
		dkim_rotate_state_clear(&st);
		dkim_rotate_state_clear(&st2);
	}

	out = dkim_rotate_signtab_add(text, size, "old", "new", &len, &changed);
	dkim_rotate_signtab_scan(out, len, "old", "new", &sc);
	if (sc.old_only > 0 && memchr(text, '\n', size) == NULL && size < 64)
		abort();
	free(out);
	out = dkim_rotate_signtab_drop(text, size, "old", &len, &changed, &why, &line);
	if (out != NULL && len > size)
		abort();
	free(out);
	out = dkim_rotate_keytab_remove(text, size, "old", &len, &changed);
	if (len > size)
		abort();
	free(out);
	out = dkim_rotate_keytab_insert(text, size, "old", "new d.test:s:/k.pem", &len);
	if (len < size + sizeof("new d.test:s:/k.pem") - 1 || len > size + sizeof("new d.test:s:/k.pem") + 2)
		abort();
	free(out);
	return 0;
}
