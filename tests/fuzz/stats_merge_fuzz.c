/*++
 * NAME
 *	stats_merge_fuzz 1
 * SUMMARY
 *	libFuzzer target for stats_merge(), the exporter's merge of daemon texts
 * DESCRIPTION
 *	Splits the input at its first NUL byte into two "daemon" texts (the
 *	second empty when there is none), merges them, and aborts when the
 *	output is longer than the inputs together, or holds a "# HELP" line
 *	for one family twice. ASan/UBSan catch the rest.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats_merge.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a = (const char *)data;
	const char *nul = memchr(data, '\0', size);
	size_t	alen = nul ? (size_t)(nul - a) : size;
	const char *texts[2] = {a, nul ? nul + 1 : ""};
	size_t	lens[2] = {alen, nul ? size - alen - 1 : 0}, outlen;
	char	*out = stats_merge(texts, lens, 2, &outlen);

	/* only the last line of each text can gain a newline */
	if (outlen > size + 2)
		abort();
	for (char *cp = out; (cp = strstr(cp, "# HELP ")) != NULL; cp++) {
		char	*eol = strchr(cp, '\n');
		size_t	n = strcspn(cp + 7, " \n");
		char	name[256];

		if (eol == NULL || n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, cp + 7, n);
		name[n] = '\0';
		for (char *again = strstr(eol, "# HELP "); again != NULL; again = strstr(again + 1, "# HELP "))
			if (strncmp(again + 7, name, n) == 0 && (again[7 + n] == ' ' || again[7 + n] == '\n')
			    && (again == out || again[-1] == '\n') && (cp == out || cp[-1] == '\n'))
				abort();
	}
	free(out);
	return 0;
}
