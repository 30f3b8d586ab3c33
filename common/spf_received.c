/*++
 * NAME
 *	spf_received 3
 * SUMMARY
 *	Received-SPF header field writer (RFC 7208 9.1)
 * DESCRIPTION
 *	See spf.h. The value is one line (the caller folds it if it wants);
 *	every byte of text that came from the client or from DNS goes
 *	through a quoting function that never lets CR, LF or another control
 *	character through, so a HELO name cannot inject a header field.
 *	Key values are dot-atoms when they can be (RFC 5322 3.2.3), else
 *	quoted-strings; comment text has "(", ")" and "\" quoted.
 *--*/
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "spf.h"

/* Bounded writer: any overflow fails the whole field. */
struct spf_w {
	char	*buf;
	size_t	size, len;
	bool	overflow;
};

/* spf_w_byte - one byte */
static void
spf_w_byte(struct spf_w *w, char c)
{
	if (w->overflow || w->len + 1 >= w->size) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* spf_w_str - a trusted string as is */
static void
spf_w_str(struct spf_w *w, const char *s)
{
	while (*s)
		spf_w_byte(w, *s++);
}

/* spf_is_atext - RFC 5322 3.2.3 atext (ASCII only) */
static bool
spf_is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* spf_is_dot_atom - 1*atext *("." 1*atext) */
static bool
spf_is_dot_atom(const char *s)
{
	bool	prev_dot = true;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (prev_dot)
				return false;
			prev_dot = true;
		} else if (spf_is_atext((unsigned char)*s)) {
			prev_dot = false;
		} else {
			return false;
		}
	}
	return !prev_dot;
}

/* spf_w_safe - untrusted byte: controls become '?', UTF-8 stays (RFC 6532) */
static void
spf_w_safe(struct spf_w *w, unsigned char c, const char *special)
{
	if (c < 0x20 || c == 0x7f) {
		spf_w_byte(w, '?');
		return;
	}
	if (strchr(special, c) != NULL && c != '\0')
		spf_w_byte(w, '\\');		/* quoted-pair */
	spf_w_byte(w, (char)c);
}

/* spf_w_value - a key's value: dot-atom or quoted-string */
static void
spf_w_value(struct spf_w *w, const char *s)
{
	if (spf_is_dot_atom(s)) {
		spf_w_str(w, s);
		return;
	}
	spf_w_byte(w, '"');
	for (; *s; s++)
		spf_w_safe(w, (unsigned char)*s, "\"\\");
	spf_w_byte(w, '"');
}

/* spf_w_ctext - untrusted text inside a comment */
static void
spf_w_ctext(struct spf_w *w, const char *s)
{
	for (; *s; s++)
		spf_w_safe(w, (unsigned char)*s, "()\\");
}

/* spf_w_pair - "; key=value" (the first without "; ") */
static void
spf_w_pair(struct spf_w *w, const char *key, const char *value, bool *first)
{
	if (!*first)
		spf_w_str(w, "; ");
	*first = false;
	spf_w_str(w, key);
	spf_w_byte(w, '=');
	spf_w_value(w, value);
}

/* spf_received_spf - see spf.h */
int
spf_received_spf(char *buf, size_t size, const struct spf_query *q,
		 const struct spf_outcome *out)
{
	struct spf_w w = {buf, size, 0, size == 0};
	const char *ip = q->client_ip ? q->client_ip : "";
	const char *helo = q->helo ? q->helo : "";
	const char *from = q->mail_from ? q->mail_from : "";
	char	sender[600];
	bool	first = true;

	if (size > 0)
		buf[0] = '\0';
	/* the identity checked, as RFC 7208 9.1's examples name it */
	if (q->identity == SPF_ID_HELO || *from == '\0')
		snprintf(sender, sizeof(sender), "postmaster@%s", helo);
	else
		snprintf(sender, sizeof(sender), "%s", from);

	spf_w_str(&w, spf_result_name(out->result));
	spf_w_str(&w, " (");
	if (q->receiver != NULL && *q->receiver != '\0') {
		spf_w_ctext(&w, q->receiver);
		spf_w_str(&w, ": ");
	}
	switch (out->result) {
	case SPF_RES_PASS:
		spf_w_str(&w, "domain of ");
		spf_w_ctext(&w, sender);
		spf_w_str(&w, " designates ");
		spf_w_ctext(&w, ip);
		spf_w_str(&w, " as permitted sender");
		break;
	case SPF_RES_FAIL:
	case SPF_RES_SOFTFAIL:
		spf_w_str(&w, out->result == SPF_RES_SOFTFAIL
			  ? "domain of transitioning " : "domain of ");
		spf_w_ctext(&w, sender);
		spf_w_str(&w, " does not designate ");
		spf_w_ctext(&w, ip);
		spf_w_str(&w, " as permitted sender");
		break;
	case SPF_RES_NEUTRAL:
		spf_w_ctext(&w, ip);
		spf_w_str(&w, " is neither permitted nor denied by domain of ");
		spf_w_ctext(&w, sender);
		break;
	case SPF_RES_NONE:
		spf_w_str(&w, "domain of ");
		spf_w_ctext(&w, sender);
		spf_w_str(&w, " does not designate permitted sender hosts");
		break;
	case SPF_RES_TEMPERROR:
		spf_w_str(&w, "temporary error checking domain of ");
		spf_w_ctext(&w, sender);
		break;
	case SPF_RES_PERMERROR:
		spf_w_str(&w, "permanent error in the SPF record for ");
		spf_w_ctext(&w, sender);
		break;
	}
	spf_w_str(&w, ") ");
	spf_w_pair(&w, "client-ip", ip, &first);
	if (q->identity == SPF_ID_MAILFROM)
		spf_w_pair(&w, "envelope-from", sender, &first);
	spf_w_pair(&w, "helo", helo, &first);
	if (q->receiver != NULL && *q->receiver != '\0')
		spf_w_pair(&w, "receiver", q->receiver, &first);
	spf_w_pair(&w, "identity", q->identity == SPF_ID_HELO ? "helo"
		   : "mailfrom", &first);
	if ((out->result == SPF_RES_PERMERROR || out->result == SPF_RES_TEMPERROR)
	    && out->problem[0] != '\0')
		spf_w_pair(&w, "problem", out->problem, &first);
	else if (out->mechanism[0] != '\0')
		spf_w_pair(&w, "mechanism", out->mechanism, &first);
	if (w.overflow) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return (int)w.len;
}
