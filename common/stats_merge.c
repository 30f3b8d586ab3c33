/*++
 * NAME
 *	stats_merge 3
 * SUMMARY
 *	merge the Prometheus text of several daemons into one exposition
 * SYNOPSIS
 *	#include "stats_merge.h"
 *
 *	char *stats_merge(const char *const *texts, const size_t *lens,
 *		size_t n, size_t *outlen);
 * DESCRIPTION
 *	Every daemon writes each metric family as one block that starts
 *	with its "# HELP name ..." line (stats_render()), and labels each
 *	sample with daemon="NAME". Several daemons share family names (the
 *	engine's and the skeleton's counters), and Prometheus refuses an
 *	exposition that repeats a family's HELP or TYPE, so the exporter
 *	keeps the first block's HELP and TYPE lines of each family and puts
 *	the samples of every daemon under them, families in the order they
 *	first appear.
 *
 *	The input comes from our daemons over a unix socket, but is parsed
 *	as untrusted all the same: text before the first "# HELP" line of a
 *	text is dropped, lines are taken up to a newline or the end, at most
 *	STATS_MERGE_MAX_FAMILIES families are kept (the rest dropped), and
 *	the output is never longer than the inputs together. The caller
 *	frees the result (never NULL; "" when there is nothing).
 *--*/
#include <stdlib.h>
#include <string.h>

#include "stats_merge.h"
#include "xalloc.h"

struct merge_family {
	const char	*name;
	size_t		 namelen;
	char		*head;		/* HELP and TYPE lines */
	size_t		 headlen, headsize;
	char		*body;		/* samples of every daemon */
	size_t		 bodylen, bodysize;
};

/* merge_append - grow *buf by len bytes of s */
static void
merge_append(char **buf, size_t *len, size_t *size, const char *s, size_t n)
{
	if (*len + n + 1 > *size) {
		*size = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *size);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* merge_find - the family called name, made on first sight; NULL when full */
static struct merge_family *
merge_find(struct merge_family *fams, size_t *nfams, const char *name, size_t namelen)
{
	for (size_t i = 0; i < *nfams; i++)
		if (fams[i].namelen == namelen && memcmp(fams[i].name, name, namelen) == 0)
			return &fams[i];
	if (*nfams == STATS_MERGE_MAX_FAMILIES)
		return NULL;
	memset(&fams[*nfams], 0, sizeof(fams[0]));
	fams[*nfams].name = name;
	fams[*nfams].namelen = namelen;
	return &fams[(*nfams)++];
}

/* stats_merge - see above */
char *
stats_merge(const char *const *texts, const size_t *lens, size_t n, size_t *outlen)
{
	struct merge_family *fams = xcalloc(STATS_MERGE_MAX_FAMILIES, sizeof(*fams));
	size_t	nfams = 0, len = 0, size = 1;
	char	*out = xmalloc(1);

	out[0] = '\0';
	for (size_t t = 0; t < n; t++) {
		const char *cp = texts[t], *end = texts[t] + lens[t];
		struct merge_family *cur = NULL;
		bool	fresh = false;	/* cur was made by this block: keep its head */

		while (cp < end) {
			const char *nl = memchr(cp, '\n', (size_t)(end - cp));
			size_t	linelen = nl ? (size_t)(nl - cp) : (size_t)(end - cp);

			if (linelen > 7 && memcmp(cp, "# HELP ", 7) == 0) {
				const char *name = cp + 7;
				size_t	namelen = 0;

				while (namelen < linelen - 7 && name[namelen] != ' ')
					namelen++;
				cur = namelen > 0 ? merge_find(fams, &nfams, name, namelen) : NULL;
				fresh = cur != NULL && cur->headlen == 0;
			}
			if (cur != NULL) {
				bool	comment = linelen > 0 && cp[0] == '#';

				if (comment && fresh) {
					merge_append(&cur->head, &cur->headlen, &cur->headsize, cp, linelen);
					merge_append(&cur->head, &cur->headlen, &cur->headsize, "\n", 1);
				} else if (!comment && linelen > 0) {
					merge_append(&cur->body, &cur->bodylen, &cur->bodysize, cp, linelen);
					merge_append(&cur->body, &cur->bodylen, &cur->bodysize, "\n", 1);
				}
			}
			cp += linelen + (nl != NULL);
		}
	}
	for (size_t i = 0; i < nfams; i++) {
		if (fams[i].head != NULL)
			merge_append(&out, &len, &size, fams[i].head, fams[i].headlen);
		if (fams[i].body != NULL)
			merge_append(&out, &len, &size, fams[i].body, fams[i].bodylen);
		free(fams[i].head);
		free(fams[i].body);
	}
	free(fams);
	*outlen = len;
	return out;
}
