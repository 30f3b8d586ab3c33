/*++
 * NAME
 *	mproto_api 3
 * SUMMARY
 *	libmilter's per-session API: macros, replies, message changes
 * DESCRIPTION
 *	The functions a callback calls with its SMFICTX, with libmilter's
 *	contracts (mfapi.h, Sendmail's libmilter documentation):
 *	smfi_getsymval() finds a macro by name in the latest stage that has
 *	it ("i" and "{i}" are the same name); message changes (headers,
 *	recipients, envelope sender, body, quarantine) are allowed only in
 *	xxfi_eom and only when the action was negotiated, else MI_FAILURE.
 *	Changes are queued and reach the MTA in the same write as the end
 *	of message reply, in the order they were made, as libmilter sends
 *	them. smfi_progress() is written at once: it exists to reset the
 *	MTA's timer during a long xxfi_eom.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproto.h"
#include "xalloc.h"

/* api_in_eom - may the callback change the message now */
static bool
api_in_eom(SMFICTX *ctx, unsigned long action)
{
	return ctx != NULL && ctx->cmd == SMFIC_BODYEOB
	    && (ctx->actions & action) != 0;
}

/* api_name_matches - libmilter: "x" and "{x}" name one macro */
static bool
api_name_matches(const char *stored, const char *want)
{
	size_t ls, lw;

	if (strcmp(stored, want) == 0)
		return true;
	ls = strlen(stored);
	lw = strlen(want);
	if (lw == 3 && want[0] == '{' && want[2] == '}')
		return ls == 1 && stored[0] == want[1];
	if (lw == 1)
		return ls == 3 && stored[0] == '{' && stored[1] == want[0]
		    && stored[2] == '}';
	return false;
}

/* smfi_getsymval - a macro's value, searching the latest stages first
 * (libmilter's slot order: end of message, end of headers, DATA, ...) */
char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
	if (ctx == NULL || name == NULL || *name == '\0')
		return NULL;
	if (ctx->parent != NULL)	/* a hosted module sees the session's */
		ctx = ctx->parent;
	for (int i = MPROTO_STAGES - 1; i >= 0; i--) {
		char **a = ctx->macros[i].argv;

		if (ctx->macros[i].buf == NULL)
			continue;
		/* a lone last name has a NULL value, and ends the list */
		for (; a[0] != NULL; a += 2) {
			if (api_name_matches(a[0], name))
				return a[1];
			if (a[1] == NULL)
				break;
		}
	}
	return NULL;
}

/* api_reply_ok - a reply code and optional enhanced code the MTA accepts */
static bool
api_reply_ok(const char *rcode, const char *xcode)
{
	if (rcode == NULL || strlen(rcode) != 3
	    || (rcode[0] != '4' && rcode[0] != '5')
	    || rcode[1] < '0' || rcode[1] > '9' || rcode[2] < '0' || rcode[2] > '9')
		return false;
	if (xcode != NULL && *xcode != '\0') {
		/* class must agree with the reply: 4.x.x with 4xx */
		if (xcode[0] != rcode[0] || xcode[1] != '.')
			return false;
		for (const char *p = xcode; *p; p++)
			if (!(*p == '.' || (*p >= '0' && *p <= '9')))
				return false;
	}
	return true;
}

/* api_text_ok - no CR or LF inside a reply line: it would end the SMTP reply */
static bool
api_text_ok(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* smfi_setreply - the text of the next REJECT/TEMPFAIL */
int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	char *r;

	if (ctx == NULL || !api_reply_ok(rcode, xcode) || !api_text_ok(message))
		return MI_FAILURE;
	r = xasprintf("%s %s%s%s", rcode,
		      xcode && *xcode ? xcode : (rcode[0] == '4' ? "4.0.0" : "5.0.0"),
		      message && *message ? " " : "", message ? message : "");
	free(ctx->reply);
	ctx->reply = r;
	return MI_SUCCESS;
}

/* smfi_setmlreply - a multi-line reply, at most 32 lines as libmilter */
int
smfi_setmlreply(SMFICTX *ctx, const char *rcode, const char *xcode, ...)
{
	const char *lines[32], *l;
	size_t n = 0, size = 0;
	va_list ap;
	char *r, *p;
	const char *x;

	if (ctx == NULL || !api_reply_ok(rcode, xcode))
		return MI_FAILURE;
	x = xcode && *xcode ? xcode : (rcode[0] == '4' ? "4.0.0" : "5.0.0");
	va_start(ap, xcode);
	while ((l = va_arg(ap, const char *)) != NULL) {
		if (n == 32 || !api_text_ok(l)) {
			va_end(ap);
			return MI_FAILURE;
		}
		lines[n++] = l;
		size += strlen(rcode) + 1 + strlen(x) + 1 + strlen(l) + 2;
	}
	va_end(ap);
	if (n == 0)
		return smfi_setreply(ctx, (char *)rcode, (char *)xcode, NULL);
	p = r = xmalloc(size + 1);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(p, size + 1 - (size_t)(p - r), "%s%c%s %s%s",
				 rcode, i + 1 < n ? '-' : ' ', x, lines[i],
				 i + 1 < n ? "\r\n" : "");

		p += w;
	}
	free(ctx->reply);
	ctx->reply = r;
	return MI_SUCCESS;
}

/* smfi_addheader - append a header field */
int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
	if (!api_in_eom(ctx, SMFIF_ADDHDRS) || name == NULL || value == NULL)
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_ADDHEADER, NULL, name, value);
	return MI_SUCCESS;
}

/* smfi_insheader - insert a header field at a position (0 = first) */
int
smfi_insheader(SMFICTX *ctx, int index, char *name, char *value)
{
	uint32_t i;

	if (!api_in_eom(ctx, SMFIF_ADDHDRS) || name == NULL || value == NULL
	    || index < 0)
		return MI_FAILURE;
	i = (uint32_t)index;
	mproto_out_packet_str(&ctx->out, SMFIR_INSHEADER, &i, name, value);
	return MI_SUCCESS;
}

/* smfi_chgheader - change (or, with value NULL, delete) the index'th name */
int
smfi_chgheader(SMFICTX *ctx, char *name, int index, char *value)
{
	uint32_t i;

	if (!api_in_eom(ctx, SMFIF_CHGHDRS) || name == NULL || index < 0)
		return MI_FAILURE;
	i = (uint32_t)index;
	mproto_out_packet_str(&ctx->out, SMFIR_CHGHEADER, &i, name,
			      value ? value : "");
	return MI_SUCCESS;
}

/* smfi_chgfrom - change the envelope sender, optional ESMTP arguments */
int
smfi_chgfrom(SMFICTX *ctx, char *from, char *args)
{
	if (!api_in_eom(ctx, SMFIF_CHGFROM) || from == NULL || *from == '\0')
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_CHGFROM, NULL, from,
			      args && *args ? args : NULL);
	return MI_SUCCESS;
}

/* smfi_addrcpt - add a recipient */
int
smfi_addrcpt(SMFICTX *ctx, char *rcpt)
{
	if (!api_in_eom(ctx, SMFIF_ADDRCPT) || rcpt == NULL || *rcpt == '\0')
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_ADDRCPT, NULL, rcpt, NULL);
	return MI_SUCCESS;
}

/* smfi_addrcpt_par - add a recipient with ESMTP arguments */
int
smfi_addrcpt_par(SMFICTX *ctx, char *rcpt, char *args)
{
	if (!api_in_eom(ctx, SMFIF_ADDRCPT_PAR) || rcpt == NULL || *rcpt == '\0')
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_ADDRCPT_PAR, NULL, rcpt,
			      args ? args : "");
	return MI_SUCCESS;
}

/* smfi_delrcpt - remove a recipient */
int
smfi_delrcpt(SMFICTX *ctx, char *rcpt)
{
	if (!api_in_eom(ctx, SMFIF_DELRCPT) || rcpt == NULL || *rcpt == '\0')
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_DELRCPT, NULL, rcpt, NULL);
	return MI_SUCCESS;
}

/* smfi_replacebody - (part of) a new body; chunks of MILTER_CHUNK_SIZE */
int
smfi_replacebody(SMFICTX *ctx, unsigned char *body, int len)
{
	size_t off = 0;

	if (!api_in_eom(ctx, SMFIF_CHGBODY) || len < 0 || (body == NULL && len > 0))
		return MI_FAILURE;
	while (off < (size_t)len) {
		size_t n = (size_t)len - off;

		if (n > MILTER_CHUNK_SIZE)
			n = MILTER_CHUNK_SIZE;
		mproto_out_packet(&ctx->out, SMFIR_REPLBODY, body + off, n, NULL, 0);
		off += n;
		/* bounded memory: a large body goes out as it comes (a
		 * hosted module's goes to the host, mproto_chain.c) */
		if (ctx->parent == NULL && ctx->out.len > 4 * MILTER_CHUNK_SIZE
		    && mproto_flush(ctx) < 0)
			return MI_FAILURE;
	}
	return MI_SUCCESS;
}

/* smfi_progress - tell the MTA we are still working */
int
smfi_progress(SMFICTX *ctx)
{
	if (ctx == NULL || ctx->cmd != SMFIC_BODYEOB)
		return MI_FAILURE;
	if (ctx->parent != NULL)	/* a hosted module: the host's session */
		ctx = ctx->parent;
	mproto_out_packet(&ctx->out, SMFIR_PROGRESS, NULL, 0, NULL, 0);
	return mproto_flush(ctx) == 0 ? MI_SUCCESS : MI_FAILURE;
}

/* smfi_quarantine - put the message on hold with a reason */
int
smfi_quarantine(SMFICTX *ctx, char *reason)
{
	if (!api_in_eom(ctx, SMFIF_QUARANTINE) || reason == NULL || *reason == '\0')
		return MI_FAILURE;
	mproto_out_packet_str(&ctx->out, SMFIR_QUARANTINE, NULL, reason, NULL);
	return MI_SUCCESS;
}

/* smfi_setpriv - the milter's per-session data */
int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
	if (ctx == NULL)
		return MI_FAILURE;
	ctx->priv = priv;
	return MI_SUCCESS;
}

/* smfi_getpriv - the milter's per-session data */
void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx ? ctx->priv : NULL;
}

/*
 * smfi_setsymlist - the macros wanted at a stage, sent with the OPTNEG
 * reply (so it matters only in xxfi_negotiate). As libmilter: once per
 * stage, and without looking at the actions: the milter asks for
 * SMFIF_SETSYMLIST itself if it needs the MTA to honour the list.
 */
int
smfi_setsymlist(SMFICTX *ctx, int where, char *macros)
{
	if (ctx == NULL || where < SMFIM_FIRST || where > SMFIM_LAST
	    || macros == NULL || ctx->symlist[where] != NULL)
		return MI_FAILURE;
	ctx->symlist[where] = xstrdup(macros);
	return MI_SUCCESS;
}
