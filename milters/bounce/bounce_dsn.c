/*++
 * NAME
 *	bounce_dsn 3
 * SUMMARY
 *	RFC 3464 delivery status parser (see bounce_dsn.h)
 *--*/
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_dsn.h"
#include "bounce_mime.h"

#define VALUE_MAX	1024	/* an unfolded field value we look at */

/* is_digit - ASCII digit, whatever the locale */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* is_alnum - ASCII letter or digit */
static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* digits - count of 1..3 digits at s[i], 0 if none or more than 3 */
static size_t
digits(const char *s, size_t len, size_t i)
{
	size_t n = 0;

	while (i + n < len && is_digit(s[i + n]))
		n++;
	return n >= 1 && n <= 3 ? n : 0;
}

/* bounce_dsn_status - RFC 3463 section 2: class "." subject "." detail */
size_t
bounce_dsn_status(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, n;

	if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5')
	    || s[1] != '.')
		return 0;
	i = 2;
	if ((n = digits(s, len, i)) == 0)
		return 0;
	i += n;
	if (i >= len || s[i] != '.')
		return 0;
	i++;
	if ((n = digits(s, len, i)) == 0)
		return 0;
	i += n;
	if (i < len && (is_digit(s[i]) || (s[i] == '.' && i + 1 < len
					   && is_digit(s[i + 1]))))
		return 0;			/* an IP address, a version */
	if (i >= cap)
		return 0;
	memcpy(out, s, i);
	out[i] = '\0';
	return i;
}

/* bounce_dsn_find_status - the first status code that starts a word */
size_t
bounce_dsn_find_status(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, n;

	for (i = 0; i + 5 <= len; i++) {
		if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '.'))
			continue;
		if ((n = bounce_dsn_status(s + i, len - i, out, cap)) > 0)
			return n;
	}
	if (cap > 0)
		out[0] = '\0';
	return 0;
}

/* bounce_dsn_addr - address value without type, comments, brackets */
size_t
bounce_dsn_addr(const char *v, char *out, size_t cap)
{
	const char *semi = strchr(v, ';'), *lt, *gt;
	size_t n;

	/* RFC 3464 2.3.2: address-type ";" generic-address; some MTAs
	 * leave the type out. An '@' before the ';' means no type. */
	if (semi != NULL && memchr(v, '@', (size_t)(semi - v)) == NULL)
		v = semi + 1;
	while (*v == ' ')
		v++;
	if ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		v = lt + 1;
		n = (size_t)(gt - v);
	} else {
		/* the first word: drop a trailing "(comment)" */
		n = strcspn(v, " (");
	}
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return n;
}

/* copy_value - bounded copy of a NUL-terminated value, truncating */
static void
copy_value(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* name_is - field name comparison, case-insensitive */
static bool
name_is(const struct bounce_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->namelen == n && strncasecmp(f->name, name, n) == 0;
}

/* push_rcpt - keep one recipient's fields (the first BOUNCE_MAX_RCPTS), clear r */
static void
push_rcpt(struct bounce_dsn *out, struct bounce_dsn_rcpt *r)
{
	out->nrcpt_seen++;
	if (out->nrcpt < BOUNCE_MAX_RCPTS)
		out->rcpt[out->nrcpt++] = *r;
	memset(r, 0, sizeof(*r));
}

/* bounce_dsn_parse - per-message fields and every per-recipient block */
int
bounce_dsn_parse(const char *p, size_t len, struct bounce_dsn *out,
		 const char **why)
{
	struct bounce_dsn_rcpt r;
	struct bounce_field f;
	char val[VALUE_MAX];
	size_t pos = 0, start, rel, i;
	bool is_rcpt;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		start = pos;
		rel = 0;
		is_rcpt = false;
		memset(&r, 0, sizeof(r));
		while (bounce_mime_next_field(p + start, len - start, &rel, &f)) {
			bounce_mime_unfold(f.value, f.valuelen, val, sizeof(val));
			if (name_is(&f, "Reporting-MTA")) {
				copy_value(out->reporting_mta,
					   sizeof(out->reporting_mta), val);
			} else if (name_is(&f, "Original-Envelope-Id")) {
				copy_value(out->envelope_id,
					   sizeof(out->envelope_id), val);
			} else if (name_is(&f, "Final-Recipient")) {
				/*
				 * Some MTAs (AOL) write every recipient's fields
				 * in one block, without the empty line of RFC
				 * 3464 2.1: a second address starts a new one.
				 */
				if (r.final_recipient[0] != '\0')
					push_rcpt(out, &r);
				bounce_dsn_addr(val, r.final_recipient,
						sizeof(r.final_recipient));
				is_rcpt = true;
			} else if (name_is(&f, "Original-Recipient")) {
				if (r.original_recipient[0] != '\0'
				    && r.final_recipient[0] != '\0')
					push_rcpt(out, &r);
				bounce_dsn_addr(val, r.original_recipient,
						sizeof(r.original_recipient));
				is_rcpt = true;
			} else if (name_is(&f, "Action")) {
				for (i = 0; val[i] != '\0' && val[i] != ' '
				     && val[i] != '(' && i + 1 < sizeof(r.action);
				     i++)
					r.action[i] = (char)(val[i] >= 'A'
							     && val[i] <= 'Z'
							     ? val[i] + 32 : val[i]);
				r.action[i] = '\0';
				is_rcpt = true;
			} else if (name_is(&f, "Status")) {
				bounce_dsn_status(val, strlen(val), r.status,
						  sizeof(r.status));
				is_rcpt = true;
			} else if (name_is(&f, "Diagnostic-Code")) {
				copy_value(r.diagnostic, sizeof(r.diagnostic),
					   val);
			} else if (name_is(&f, "X-PowerMTA-BounceCategory")) {
				copy_value(r.category, sizeof(r.category), val);
			} else if (name_is(&f, "Remote-MTA")) {
				copy_value(r.remote_mta, sizeof(r.remote_mta),
					   val);
			}
		}
		if (rel == 0)
			break;			/* cannot happen: no progress */
		pos = start + rel;
		if (!is_rcpt)
			continue;
		push_rcpt(out, &r);
	}
	if (out->nrcpt == 0) {
		*why = "no per-recipient fields";
		return -1;
	}
	return 0;
}
