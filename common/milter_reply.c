/*++
 * NAME
 *	milter_reply 3
 * SUMMARY
 *	apply a milter's verdict-to-reply table
 * DESCRIPTION
 *	See milter_reply.h. The only file of a milter daemon that calls
 *	smfi_setreply(): the callbacks name a verdict, the milter's table
 *	(<m>_reply.c) says what the client reads.
 *--*/

/* System library. */

#include <string.h>

/* Utility library. */

#include "log.h"

/* Application-specific. */

#include "milter_reply.h"

/* milter_reply_find - the row of a verdict, or NULL */
const struct milter_reply *
milter_reply_find(const struct milter_reply_table *t, int verdict)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->rows[i].verdict == verdict)
			return &t->rows[i];
	return NULL;
}

/* milter_reply_text - the row's text with arg in place of "%s" */
bool
milter_reply_text(const struct milter_reply *r, const char *arg, char *buf,
		  size_t len)
{
	const char *pct = strstr(r->text, "%s");
	size_t	pre = pct ? (size_t) (pct - r->text) : strlen(r->text);
	size_t	alen = (pct && arg) ? strlen(arg) : 0;
	size_t	post = pct ? strlen(pct + 2) : 0;
	size_t	o = 0;
	bool	fits = pre + alen + post < len;

	if (len == 0)
		return false;
	/* copy the three pieces as far as they go */
	for (size_t i = 0; i < pre && o + 1 < len; i++)
		buf[o++] = r->text[i];
	for (size_t i = 0; i < alen && o + 1 < len; i++)
		buf[o++] = arg[i];
	for (size_t i = 0; i < post && o + 1 < len; i++)
		buf[o++] = pct[2 + i];
	buf[o] = '\0';
	return fits;
}

/* milter_reply_apply - set the reply of a verdict; its sfsistat */
sfsistat
milter_reply_apply(SMFICTX *ctx, const struct milter_reply_table *t,
		   int verdict, const char *arg)
{
	const struct milter_reply *r = milter_reply_find(t, verdict);
	char	text[MILTER_REPLY_TEXT_MAX];

	if (r == NULL) {
		log_msg(LOG_CRIT, NULL, "%s: no reply for verdict %d (a bug)",
			t->milter, verdict);
		return SMFIS_TEMPFAIL;
	}
	milter_reply_text(r, arg, text, sizeof(text));
	smfi_setreply(ctx, (char *) r->rcode, (char *) r->xcode, text);
	return r->rc;
}
