/*++
 * NAME
 *	addr_path 3
 * SUMMARY
 *	addr_parse_path(): RFC 5321 MAIL FROM / RCPT TO paths
 * DESCRIPTION
 *	Envelope paths (RFC 5321 §4.1.2) allow no CFWS at all and are
 *	scanned byte by byte, without the header value lexer: an optional
 *	source route (checked and thrown away), a Dot-string or
 *	Quoted-string local part (SMTPUTF8, RFC 6531 §3.3), "@" and a
 *	Domain or address literal normalized by addr_domain_normalize().
 *
 *	See addr.h for the contract. No state; the result is the caller's
 *	(addr_mailbox_free()).
 *--*/
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "addr.h"
#include "addr_priv.h"
#include "xalloc.h"

/* path_domain - normalize s[start, end) as a Domain or address literal */
static char *
path_domain(const char *s, size_t start, size_t end, const char **why)
{
	char *raw, *dom;

	if (start == end) {
		*why = "empty domain";
		return NULL;
	}
	if (end - start > ADDR_DOMAIN_RAW_MAX) {
		*why = "domain too long";
		return NULL;
	}
	raw = xstrndup(s + start, end - start);
	dom = addr_domain_normalize(raw, why);
	xfree(raw);
	return dom;
}

/* path_route - skip A-d-l ":" (RFC 5321 §4.1.2), checking each domain */
static bool
path_route(const char *s, size_t *pos, size_t end, const char **why)
{
	size_t p = *pos, q;
	char *dom;

	for (;;) {
		if (p >= end || s[p] != '@') {
			*why = "bad source route";
			return false;
		}
		for (q = p + 1; q < end && s[q] != ',' && s[q] != ':'; q++)
			;
		if (q == end) {
			*why = "unterminated source route";
			return false;
		}
		if ((dom = path_domain(s, p + 1, q, why)) == NULL)
			return false;
		xfree(dom);
		p = q + 1;
		if (s[q] == ':') {
			*pos = p;
			return true;
		}
	}
}

/* path_local - Dot-string or Quoted-string, up to the "@" */
static char *
path_local(const char *s, size_t *pos, size_t end, const char **why)
{
	size_t p = *pos, n = 0;
	unsigned char c;
	char *local;
	bool dot = true;		/* at start, as after a dot */

	local = xmalloc(end - p + 1);
	if (p < end && s[p] == '"') {
		/* qtextSMTP / quoted-pairSMTP, RFC 6531 §3.3 for UTF-8 */
		for (p++; p < end && s[p] != '"'; p++) {
			c = (unsigned char)s[p];
			if (c == '\\') {
				if (p + 1 >= end || (unsigned char)s[p + 1] < 32
				    || (unsigned char)s[p + 1] > 126) {
					*why = "bad quoted-pair";
					return xfree(local);
				}
				c = (unsigned char)s[++p];
			}
			/* Controls were rejected by the caller. */
			local[n++] = (char)c;
		}
		if (p >= end) {
			*why = "unterminated quoted string";
			return xfree(local);
		}
		p++;
	} else {
		for (; p < end && s[p] != '@'; p++) {
			c = (unsigned char)s[p];
			if (c == '.') {
				if (dot) {
					*why = "bad local part";
					return xfree(local);
				}
				dot = true;
			} else if (is_atext(c)) {
				dot = false;
			} else {
				*why = "bad character in local part";
				return xfree(local);
			}
			local[n++] = (char)c;
		}
		if (n > 0 && dot) {
			*why = "bad local part";
			return xfree(local);
		}
	}
	local[n] = '\0';
	if (p >= end || s[p] != '@')
		*why = p >= end ? "missing @" : "bad local part";
	else if (n == 0)
		*why = "empty local part";
	else if (n > ADDR_LOCAL_MAX)
		*why = "local part too long";
	else if (!addr_utf8_valid((const unsigned char *)local, n))
		*why = "invalid UTF-8 in local part";
	else {
		*pos = p + 1;
		return local;
	}
	return xfree(local);
}

/* addr_parse_path - parse a MAIL FROM / RCPT TO path */
enum addr_status
addr_parse_path(const char *path, size_t len, struct addr_mailbox *out,
		bool *is_null, const char **why)
{
	const char *dummy;
	size_t i, p = 0, end = len;
	bool bracket = false;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	*is_null = false;
	if (path == NULL || len == 0)
		return ADDR_EMPTY;
	if (len > ADDR_PATH_MAX) {
		*why = "path too long";
		return ADDR_SYNTAX;
	}
	/* No CFWS in RFC 5321, and no controls in any part of a path. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 32 || c == 127) {
			*why = c ? "control character in path" : "NUL in path";
			return ADDR_SYNTAX;
		}
	}
	if (path[0] == '<') {
		if (len < 2 || path[len - 1] != '>') {
			*why = "missing '>'";
			return ADDR_SYNTAX;
		}
		bracket = true;
		p = 1;
		end = len - 1;
		if (p == end) {
			*is_null = true;
			return ADDR_OK;
		}
	}
	if (path[p] == '@') {
		if (!bracket) {
			*why = "source route without brackets";
			return ADDR_SYNTAX;
		}
		if (!path_route(path, &p, end, why))
			return ADDR_SYNTAX;
	}
	if ((out->local = path_local(path, &p, end, why)) == NULL)
		return ADDR_SYNTAX;
	if ((out->domain = path_domain(path, p, end, why)) == NULL) {
		addr_mailbox_free(out);
		return ADDR_SYNTAX;
	}
	return ADDR_OK;
}
