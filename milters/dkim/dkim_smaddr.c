/*++
 * NAME
 *	dkim_smaddr 3
 * SUMMARY
 *	predict Sendmail's rewriting of an address header field
 * DESCRIPTION
 *	A model of what Sendmail 8.17 does to an address field when it
 *	writes the message out (headers.c putheader() -> commaize()), for
 *	the inputs where that depends on the value and $j alone:
 *
 *	commaize() counts the white space after the colon and writes that
 *	many spaces; then it takes the list apart at the commas outside
 *	quotes, comments and angle brackets, drops empty elements and
 *	white space around each, passes each element through remotename()
 *	and writes them joined by ", ", starting a new line ",\n" plus
 *	eight spaces once the line would pass column 78.
 *
 *	remotename() splits an element with crackaddr() into a format (the
 *	display name, comments, group name, angle brackets, kept) and the
 *	address proper, which the rulesets rewrite: comments and white
 *	space inside it go, a trailing dot of the domain goes, a bare local
 *	part is qualified with $j (MasqSMTP + ruleset 4). crackaddr() is
 *	emulated here step by step (its state: comment, angle and copy
 *	levels, where the address goes) on inputs that never make it quote
 *	anything: that is where it would add text this code does not model.
 *	The rulesets are modelled only for the address shapes listed in
 *	dkim_smaddr.h; anything else is refused, so that the caller leaves
 *	the field out of the signature rather than sign a form that fails.
 *
 *	No I/O, no globals: a pure function of its arguments.
 *--*/
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_smaddr.h"
#include "xalloc.h"

#define SMADDR_OMAX		78	/* commaize(): min(L= - 2, 78) */
#define SMADDR_FOLD_INDENT	8	/* commaize(): ",\n" + 8 spaces */
#define SMADDR_MAX_SPACES	100	/* leading white space we model */
#define SMADDR_MAX_J		100
#define SMADDR_G		'\001'	/* crackaddr()'s "$g"; input has no control characters */

struct smaddr_buf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

/* smaddr_put - append bytes */
static void
smaddr_put(struct smaddr_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* smaddr_putc - append one byte */
static void
smaddr_putc(struct smaddr_buf *b, char c)
{
	smaddr_put(b, &c, 1);
}

/* smaddr_space - Sendmail's SM_ISSPACE for the bytes we accept */
static bool
smaddr_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* smaddr_atext - RFC 5322 atext */
static bool
smaddr_atext(unsigned char c)
{
	return c < 0x80 && (isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* smaddr_dot_atom - RFC 5322 dot-atom-text; no "%" or "!" (routing hacks) */
static bool
smaddr_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (s[i - 1] == '.')
				return false;
		} else if (!smaddr_atext(c) || c == '%' || c == '!') {
			return false;
		}
	}
	return true;
}

/* smaddr_suffix - does domain D (length n) end in label SUF, any case */
static bool
smaddr_suffix(const char *d, size_t n, const char *suf)
{
	size_t sl = strlen(suf);

	return n > sl && d[n - sl - 1] == '.' && strncasecmp(d + n - sl, suf, sl) == 0;
}

/*
 * smaddr_domain - a domain the rulesets leave alone: letters, digits,
 * "-" and "_" in at least two labels. Unqualified names go to DNS
 * without FEATURE(nocanonify); localhost becomes $j; .UUCP, .BITNET and
 * .DECNET have rules of their own.
 */
static bool
smaddr_domain(const char *d, size_t n)
{
	bool dot = false;

	if (n == 0 || d[0] == '.' || d[n - 1] == '.' || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (d[i - 1] == '.')
				return false;
			dot = true;
		} else if (!(c < 0x80 && (isalnum(c) || c == '-' || c == '_'))) {
			return false;
		}
	}
	if (!dot)
		return false;
	if (strncasecmp(d, "localhost.", 10) == 0)
		return false;
	return !smaddr_suffix(d, n, "uucp") && !smaddr_suffix(d, n, "bitnet")
	    && !smaddr_suffix(d, n, "decnet");
}

struct smaddr_ctx {
	const char	*j;
	size_t		 jlen;
	bool		 masquerade;
	bool		 group_open;	/* "name:" seen, ";" not yet */
};

/*
 * smaddr_address - the address proper as the rulesets write it, from
 * the element with comments removed (S, n). 0 or -1 + why.
 */
static int
smaddr_address(struct smaddr_ctx *x, const char *s, size_t n,
	       struct smaddr_buf *a, const char **why)
{
	const char *at = memchr(s, '@', n);
	size_t ll = at ? (size_t)(at - s) : n;

	if (!smaddr_dot_atom(s, ll)) {
		*why = "local part is not a plain dot-atom";
		return -1;
	}
	smaddr_put(a, s, ll);
	smaddr_putc(a, '@');
	if (at == NULL) {
		/* MasqSMTP: "add local qualification", ruleset 4: $j */
		if (x->masquerade) {
			*why = "bare local part while masquerading ($M)";
			return -1;
		}
		if (x->j == NULL) {
			*why = "bare local part and the MTA did not send macro j";
			return -1;
		}
		smaddr_put(a, x->j, x->jlen);
		return 0;
	}
	at++;
	n -= ll + 1;
	/* canonify marks a trailing dot, ruleset 4 strips it */
	if (n > 0 && at[n - 1] == '.')
		n--;
	if (!smaddr_domain(at, n)) {
		*why = "domain Sendmail may rewrite (unqualified, literal, localhost, UUCP)";
		return -1;
	}
	if (x->masquerade && (x->j == NULL
			      || (n == x->jlen && strncasecmp(at, x->j, n) == 0))) {
		*why = "address at $j while masquerading ($M)";
		return -1;
	}
	smaddr_put(a, at, n);
	return 0;
}

/* smaddr_trim - drop Sendmail white space at both ends of [*s, *s + *n) */
static void
smaddr_trim(const char **s, size_t *n)
{
	while (*n > 0 && smaddr_space((unsigned char)(*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && smaddr_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/*
 * smaddr_phrase_ok - a display name or group name crackaddr() copies
 * as it is: atoms, dots, white space, quoted strings, 8-bit text.
 * Comments were removed by the caller.
 */
static bool
smaddr_phrase_ok(const char *s, size_t n)
{
	bool q = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (q && c == '\\' && i + 1 < n)
			i++;		/* quoted-pair */
		else if (c == '"')
			q = !q;
		else if (!q && !(smaddr_atext(c) || c == '.' || smaddr_space(c) || c >= 0x80))
			return false;
	}
	return !q;
}

/*
 * smaddr_element - one list element (no white space at its ends) as
 * remotename() returns it, appended to OUT. 0, or -1 + why.
 */
static int
smaddr_element(struct smaddr_ctx *x, const char *e, size_t n,
	       struct smaddr_buf *out, const char **why)
{
	struct smaddr_buf ob = {NULL, 0, 0}, bare = {NULL, 0, 0}, a = {NULL, 0, 0};
	size_t bufhead = 0, addrhead = 0, gpos = SIZE_MAX;
	size_t colon = SIZE_MAX, lt = SIZE_MAX, gt = SIZE_MAX;	/* in bare */
	int copylev = 0, cmtlev = 0, anglelev = 0, rc = -1;
	bool qmode = false, putgmac = false, quoteit = false;
	bool gotangle = false, gotcolon = false, semi = false;
	const char *cand;
	size_t clen;

	if (n > DKIM_SMADDR_MAX_ELEMENT) {
		*why = "list element over 200 bytes";
		goto out;
	}
	smaddr_put(&ob, "", 0);
	for (size_t i = 0; i < n; i++) {
		char c = e[i];

		/*
		 * the copy the address is taken from: a comment becomes a space
		 * (between two atoms prescan() sees two tokens, which the
		 * rulesets join with BlankSub ".")
		 */
		if (cmtlev == 0 && c == '(' && !qmode)
			smaddr_putc(&bare, ' ');
		if (cmtlev == 0 && (c != '(' || qmode)) {
			if (!qmode && c == ':' && colon == SIZE_MAX)
				colon = bare.len;
			if (!qmode && c == '<')
				lt = bare.len;
			if (!qmode && c == '>')
				gt = bare.len;
			smaddr_putc(&bare, c);
		}
		/* crackaddr(), step by step */
		if (copylev > 0)
			smaddr_putc(&ob, c);
		if (c == '\\') {
			/* the pair is copied as it is, the escaped character skipped */
			if ((cmtlev <= 0 && !qmode) || i + 1 == n) {
				*why = "backslash outside quotes and comments";
				goto out;
			}
			c = e[++i];
			if (cmtlev == 0)
				smaddr_putc(&bare, c);
			if (copylev > 0)
				smaddr_putc(&ob, c);
			goto putg;
		}
		if (c == '"' && cmtlev <= 0) {
			qmode = !qmode;
			continue;
		}
		if (qmode)
			goto putg;
		if (c == '(') {
			cmtlev++;
			if (copylev++ <= 0) {
				if (ob.len != bufhead)
					smaddr_putc(&ob, ' ');
				smaddr_putc(&ob, c);
			}
		}
		if (cmtlev > 0) {
			if (c == ')') {
				cmtlev--;
				copylev--;
			}
			continue;
		}
		if (c == ')') {
			*why = "unbalanced \")\"";
			goto out;
		}
		if (c == '[' || c == ']') {
			*why = "domain literal or bracket";
			goto out;
		}
		if (c == ':') {
			if (anglelev > 0 || gotcolon || x->group_open) {
				*why = "colon inside an address or a second group";
				goto out;
			}
			if (quoteit || (i + 1 < n && (e[i + 1] == ':' || e[i + 1] == '.'))) {
				/* "::" and ":." are DECnet to Sendmail: quoted */
				*why = "group name Sendmail would quote";
				goto out;
			}
			gotcolon = x->group_open = true;
			ob.len = bufhead;
			smaddr_put(&ob, e + addrhead, i + 1 - addrhead);
			/* any trailing white space is part of group: */
			while (i + 1 < n && smaddr_space((unsigned char)e[i + 1])) {
				smaddr_putc(&ob, e[++i]);
				if (cmtlev == 0)
					smaddr_putc(&bare, e[i]);
			}
			copylev = 0;
			putgmac = quoteit = false;
			bufhead = ob.len;
			addrhead = i + 1;
			continue;
		}
		if (c == ';') {
			if (!x->group_open || semi) {
				*why = "semicolon outside a group";
				goto out;
			}
			if (copylev <= 0)
				smaddr_putc(&ob, c);
			x->group_open = false;
			semi = true;
		}
		/* MustQuoteChars "@,;:\()[]" (the shipped .m4 adds none) */
		if (c == '@' || c == ';')
			quoteit = true;
		if (c == '<') {
			if (gotangle || quoteit) {
				*why = "display name Sendmail would quote";
				goto out;
			}
			gotangle = true;
			anglelev = 1;
			ob.len = bufhead;
			smaddr_put(&ob, e + addrhead, i + 1 - addrhead);
			copylev = 0;
			putgmac = quoteit = false;
			continue;
		}
		if (c == '>') {
			if (anglelev <= 0) {
				*why = "unbalanced \">\"";
				goto out;
			}
			anglelev--;
			if (copylev++ <= 0)
				smaddr_putc(&ob, c);
			continue;
		}
putg:
		if (copylev <= 0 && !putgmac) {
			if (ob.len > 0 && ob.s[ob.len - 1] == ')')
				smaddr_putc(&ob, ' ');
			gpos = ob.len;
			/* crackaddr() writes "$g" here: it counts as text */
			smaddr_putc(&ob, SMADDR_G);
			putgmac = true;
		}
	}
	if (qmode || cmtlev != 0 || anglelev != 0) {
		*why = "unbalanced quote, comment or angle bracket";
		goto out;
	}

	/* the address proper: what the rulesets see, comments gone */
	cand = bare.s;
	clen = bare.len;
	if (colon != SIZE_MAX && gotcolon) {
		if (!smaddr_phrase_ok(bare.s, colon)) {
			*why = "group name with special characters";
			goto out;
		}
		cand = bare.s + colon + 1;
		clen = bare.len - colon - 1;
	}
	smaddr_trim(&cand, &clen);
	if (semi) {
		/* the ";" ends the element (white space and comments aside) */
		if (clen == 0 || cand[clen - 1] != ';') {
			*why = "text after the end of a group";
			goto out;
		}
		clen--;
		smaddr_trim(&cand, &clen);
	}
	if (gotangle) {
		const char *ph = cand, *rest;
		size_t phl = (size_t)(bare.s + lt - cand), restl;

		if (lt == SIZE_MAX || gt == SIZE_MAX || gt < lt || bare.s + lt < cand) {
			*why = "angle brackets out of place";
			goto out;
		}
		if (!smaddr_phrase_ok(ph, phl)) {
			*why = "display name with special characters";
			goto out;
		}
		rest = bare.s + gt + 1;
		restl = (size_t)(cand + clen - rest);
		if (cand + clen < rest) {
			*why = "angle brackets out of place";
			goto out;
		}
		smaddr_trim(&rest, &restl);
		if (restl != 0) {
			*why = "text after the angle address";
			goto out;
		}
		cand = bare.s + lt + 1;
		clen = gt - lt - 1;
		smaddr_trim(&cand, &clen);
		if (clen == 0) {
			*why = "null address <>";
			goto out;
		}
	}
	if (clen == 0) {
		/* an empty group "name:;" has no address: $g is empty */
		if (!(gotcolon && semi)) {
			*why = "no address";
			goto out;
		}
	} else {
		for (size_t i = 0; i < clen; i++)
			if (smaddr_space((unsigned char)cand[i]) || cand[i] == '"') {
				*why = "white space or quotes inside the address";
				goto out;
			}
		if (smaddr_address(x, cand, clen, &a, why) < 0)
			goto out;
		if (gpos == SIZE_MAX || memchr(ob.s, SMADDR_G, ob.len) == NULL) {
			*why = "no place for the address";
			goto out;
		}
	}
	/* expand "$g": the last one written is the one that stayed */
	for (size_t i = 0; i < ob.len; i++) {
		if (ob.s[i] != SMADDR_G)
			smaddr_putc(out, ob.s[i]);
		else if (a.len > 0)
			smaddr_put(out, a.s, a.len);
	}
	rc = 0;
out:
	free(ob.s);
	free(bare.s);
	free(a.s);
	return rc;
}

/*
 * dkim_sendmail_addr_field - how Sendmail writes a field (conf.c HdrInfo):
 * DKIM_SMADDR_FORM for an address field (H_FROM or H_RCPT; *rcpt says
 * H_RCPT, the fields old-style lists apply to), UNPREDICTABLE for one it
 * removes or empties, PLAIN for the others
 */
enum dkim_smaddr_status
dkim_sendmail_addr_field(const char *name, size_t len, bool *rcpt, const char **why)
{
	static const char *const from[] = {
		"from", "sender", "reply-to", "resent-from", "resent-sender",
		"resent-reply-to", "errors-to", "disposition-notification-to", NULL,
	};
	static const char *const to[] = {
		"to", "cc", "resent-to", "resent-cc", "apparently-to", NULL,
	};
	static const char *const gone[] = {
		/* H_BCC: removed or emptied; H_RECEIPTTO: may be removed;
		 * H_ACHECK: removed unless the mailer has the flag */
		"bcc", "resent-bcc", "return-receipt-to", "delivery-receipt-to",
		"full-name", "content-length", "return-path", NULL,
	};

	*rcpt = false;
	*why = NULL;
	for (size_t i = 0; gone[i] != NULL; i++)
		if (strlen(gone[i]) == len && strncasecmp(name, gone[i], len) == 0) {
			*rcpt = i < 2;
			*why = "a field Sendmail removes or empties";
			return DKIM_SMADDR_UNPREDICTABLE;
		}
	for (size_t i = 0; from[i] != NULL; i++)
		if (strlen(from[i]) == len && strncasecmp(name, from[i], len) == 0)
			return DKIM_SMADDR_FORM;
	for (size_t i = 0; to[i] != NULL; i++)
		if (strlen(to[i]) == len && strncasecmp(name, to[i], len) == 0) {
			*rcpt = true;
			return DKIM_SMADDR_FORM;
		}
	return DKIM_SMADDR_PLAIN;
}

/* dkim_sendmail_new_style - does this address field value end old-style lists */
bool
dkim_sendmail_new_style(const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (value[i] == ',' || value[i] == '(' || value[i] == '<' || value[i] == ';')
			return true;
	return false;
}

/* smaddr_j_ok - $j as the rulesets would write it */
static bool
smaddr_j_ok(const char *j, size_t len)
{
	if (len == 0 || len > SMADDR_MAX_J)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((unsigned char)j[i] < 0x80
		      && (isalnum((unsigned char)j[i]) || strchr("-_.", j[i]) != NULL)))
			return false;
	return true;
}

static enum dkim_smaddr_status smaddr_form(const char *, size_t, const char *,
					   const char *, size_t, unsigned, char **, size_t *,
					   const char **);

/*
 * dkim_sendmail_addr_form - the value Sendmail will send for this field.
 * The caller changes the field to that form, and Sendmail writes the
 * changed field out once more: the form must come back unchanged. It
 * does not always ("(a)(b)x" becomes "(a) (b) x", which crackaddr()
 * turns into "(a) x (b)"): such a value is refused.
 */
enum dkim_smaddr_status
dkim_sendmail_addr_form(const char *value, size_t len, const char *j,
			const char *name, size_t name_len, unsigned flags,
			char **out, size_t *out_len, const char **why)
{
	enum dkim_smaddr_status st;
	char *again;
	size_t alen;

	st = smaddr_form(value, len, j, name, name_len, flags, out, out_len, why);
	if (st != DKIM_SMADDR_FORM)
		return st;
	if (smaddr_form(*out, *out_len, j, name, name_len, flags, &again, &alen,
			why) != DKIM_SMADDR_FORM
	    || alen != *out_len || memcmp(again, *out, alen) != 0) {
		free(again);
		free(*out);
		*out = NULL;
		*out_len = 0;
		*why = "Sendmail would rewrite its own form again";
		return DKIM_SMADDR_UNPREDICTABLE;
	}
	free(again);
	return st;
}

/* smaddr_form - one pass of Sendmail's rewriting */
static enum dkim_smaddr_status
smaddr_form(const char *value, size_t len, const char *j,
	    const char *name, size_t name_len, unsigned flags,
	    char **out, size_t *out_len, const char **why)
{
	struct smaddr_ctx x = {NULL, 0, (flags & DKIM_SMADDR_MASQUERADE) != 0, false};
	struct smaddr_buf o = {NULL, 0, 0};
	enum dkim_smaddr_status kind;
	size_t p = 0, spaces = 0, opos;
	bool first = true, rcpt;

	*out = NULL;
	*out_len = 0;
	*why = NULL;
	if ((kind = dkim_sendmail_addr_field(name, name_len, &rcpt, why)) != DKIM_SMADDR_FORM)
		return kind;
	if (j != NULL && smaddr_j_ok(j, strlen(j))) {
		x.j = j;
		x.jlen = strlen(j);
	}
	/* bytes the model does not cover at all */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '\0' || c == '\r' || c == 0xff || (c < 0x20 && c != '\t' && c != '\n')
		    || c == 0x7f) {
			*why = "control character";
			return DKIM_SMADDR_UNPREDICTABLE;
		}
		if (c == '\n' && (i + 1 == len || (value[i + 1] != ' ' && value[i + 1] != '\t'))) {
			*why = "line break not followed by white space";
			return DKIM_SMADDR_UNPREDICTABLE;
		}
	}
	/* commaize(): the white space after the colon becomes as many spaces */
	while (p < len && smaddr_space((unsigned char)value[p])) {
		p++;
		spaces++;
	}
	if (spaces > SMADDR_MAX_SPACES) {
		*why = "too much white space after the colon";
		return DKIM_SMADDR_UNPREDICTABLE;
	}
	/*
	 * Old-style lists (OldStyleHeaders, on in every .mc-built cf): until
	 * an address field of the message holds one of ",(<;" (chompheader()),
	 * To, Cc & Co. are split at white space, and "@" joins across it.
	 */
	if (rcpt && (flags & DKIM_SMADDR_OLD_STYLE)) {
		size_t e = len;

		while (e > p && smaddr_space((unsigned char)value[e - 1]))
			e--;
		for (size_t i = p; i < e; i++)
			if (smaddr_space((unsigned char)value[i])) {
				*why = "white space in an old-style list";
				return DKIM_SMADDR_UNPREDICTABLE;
			}
	}
	smaddr_put(&o, "", 0);
	for (size_t i = 0; i < spaces; i++)
		smaddr_putc(&o, ' ');
	opos = name_len + 1 + spaces;
	while (p < len) {
		struct smaddr_buf el = {NULL, 0, 0};
		size_t start, end;
		int cmt = 0, angle = 0;
		bool q = false;

		while (p < len && (smaddr_space((unsigned char)value[p]) || value[p] == ','))
			p++;
		if (p == len)
			break;
		/* prescan(): the element ends at a comma outside "", () and <> */
		for (start = p; p < len; p++) {
			char c = value[p];

			if (c == '\\') {
				/* a quoted-pair: only inside quotes and comments */
				if ((!q && cmt == 0) || p + 1 == len) {
					*why = "backslash outside quotes and comments";
					goto fail;
				}
				p++;
				continue;
			}
			if (q) {
				if (c == '"')
					q = false;
			} else if (cmt > 0) {
				if (c == '(')
					cmt++;
				else if (c == ')')
					cmt--;
			} else if (c == '"') {
				q = true;
			} else if (c == '(') {
				cmt++;
			} else if (c == '<') {
				angle++;
			} else if (c == '>') {
				angle--;
			} else if (c == ',') {
				if (angle > 0) {
					*why = "comma inside angle brackets";
					goto fail;
				}
				break;
			}
		}
		if (q || cmt > 0) {
			*why = "unbalanced quote or comment";
			goto fail;
		}
		end = p;
		while (end > start && smaddr_space((unsigned char)value[end - 1]))
			end--;
		if (smaddr_element(&x, value + start, end - start, &el, why) < 0) {
			free(el.s);
			goto fail;
		}
		/* remotename() and crackaddr() hold 256 bytes; $j made it longer */
		if (el.len > DKIM_SMADDR_MAX_ELEMENT) {
			free(el.s);
			*why = "list element over 200 bytes once qualified";
			goto fail;
		}
		/* commaize(): ", " or a new line once past column 78 */
		opos += el.len + (first ? 0 : 2);
		if (!first && opos > SMADDR_OMAX) {
			smaddr_put(&o, ",\n        ", 2 + SMADDR_FOLD_INDENT);
			opos = SMADDR_FOLD_INDENT + el.len;
		} else if (!first) {
			smaddr_put(&o, ", ", 2);
		}
		smaddr_put(&o, el.s, el.len);
		free(el.s);
		first = false;
	}
	if (x.group_open) {
		*why = "group without its \";\"";
		goto fail;
	}
	*out = o.s;
	*out_len = o.len;
	return DKIM_SMADDR_FORM;
fail:
	free(o.s);
	return DKIM_SMADDR_UNPREDICTABLE;
}

/* dkim_mta_detect - Sendmail's $v is its bare version ("8.17.1.9") */
enum dkim_mta
dkim_mta_detect(const char *v)
{
	if (v == NULL || *v == '\0')
		return DKIM_MTA_UNKNOWN;
	if (strncasecmp(v, "Postfix", 7) == 0)
		return DKIM_MTA_POSTFIX;
	if (strncasecmp(v, "Sendmail", 8) == 0)
		return DKIM_MTA_SENDMAIL;
	if (v[0] == '8' && v[1] == '.' && isdigit((unsigned char)v[2]))
		return DKIM_MTA_SENDMAIL;
	return DKIM_MTA_UNKNOWN;
}
