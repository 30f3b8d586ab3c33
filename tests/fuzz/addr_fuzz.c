/*++
 * NAME
 *	addr_fuzz 1
 * SUMMARY
 *	libFuzzer target for the From-value and envelope path parsers
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	addr_parse_mailbox_list() (with a small and with the default limit)
 *	and to addr_parse_path(), and aborts when a result breaks the
 *	contract in addr.h:
 *	- ADDR_OK means at least one mailbox (a path: or the null path),
 *	  never more than the limit;
 *	- every local part is non-empty and within ADDR_LOCAL_MAX;
 *	- every domain is non-empty, lowercase, and passes
 *	  addr_domain_normalize() unchanged, and is a subdomain of itself;
 *	- why is set exactly when the status is ADDR_SYNTAX/ADDR_TOO_MANY;
 *	- a failed parse leaves the outputs empty.
 *	- a mailbox either parser returns, written back as "<local@domain>"
 *	  (local quoted when it is not a dot-atom), parses again, with both
 *	  parsers, to the same local part and domain.
 *	It also checks that addr_domain_normalize() is idempotent on the
 *	input taken as a domain. ASan/UBSan catch the rest.
 *--*/
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "addr_fuzz: %s: %s\n", what, detail ? detail : "-");
	abort();
}

/* check_domain - non-empty, lowercase, normalize() leaves it alone */
static void
check_domain(const char *domain)
{
	const char *why;
	const char *p;
	char *again;

	if (domain == NULL || *domain == '\0')
		fuzz_fail("empty domain", NULL);
	for (p = domain; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80)
			fuzz_fail("domain not lowercase ASCII", domain);
	if (strlen(domain) > ADDR_DOMAIN_MAX + 2)	/* "[...]" */
		fuzz_fail("domain too long", domain);
	again = addr_domain_normalize(domain, &why);
	if (again == NULL)
		fuzz_fail("domain fails normalize", why);
	if (strcmp(again, domain) != 0)
		fuzz_fail("normalize changed domain", domain);
	free(again);
	if (!addr_domain_is_subdomain(domain, domain))
		fuzz_fail("domain not subdomain of itself", domain);
}

/* check_local - non-empty, bounded */
static void
check_local(const char *local)
{
	if (local == NULL || *local == '\0')
		fuzz_fail("empty local part", NULL);
	if (strlen(local) > ADDR_LOCAL_MAX)
		fuzz_fail("local part too long", local);
}

/* is_dot_atom - local part that needs no quotes (atext and single dots) */
static bool
is_dot_atom(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	bool dot = true;

	for (; *p; p++) {
		if (*p == '.') {
			if (dot)
				return false;
			dot = true;
		} else if (isalnum(*p) || *p >= 0x80
			   || strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL) {
			dot = false;
		} else {
			return false;
		}
	}
	return !dot;
}

/* fmt_path - "<local@domain>", quoting local when needed; NULL if unfit */
static char *
fmt_path(const char *local, const char *domain, size_t *lenp)
{
	size_t ll = strlen(local), dl = strlen(domain), n = 0, i;
	char *out = malloc(2 * ll + dl + 8);

	if (out == NULL)
		return NULL;
	out[n++] = '<';
	if (is_dot_atom(local)) {
		memcpy(out + n, local, ll);
		n += ll;
	} else {
		out[n++] = '"';
		for (i = 0; i < ll; i++) {
			/* SMTP allows no controls, not even HTAB. */
			if ((unsigned char)local[i] < 32) {
				free(out);
				return NULL;
			}
			if (local[i] == '"' || local[i] == '\\')
				out[n++] = '\\';
			out[n++] = local[i];
		}
		out[n++] = '"';
	}
	out[n++] = '@';
	memcpy(out + n, domain, dl);
	n += dl;
	out[n++] = '>';
	out[n] = '\0';
	*lenp = n;
	return out;
}

/* check_roundtrip - write the mailbox back out and parse it again */
static void
check_roundtrip(const char *local, const char *domain)
{
	struct addr_mailbox m;
	struct addr_list list;
	const char *why;
	bool is_null;
	size_t len;
	char *text = fmt_path(local, domain, &len);

	if (text == NULL)
		return;
	if (addr_parse_path(text, len, &m, &is_null, &why) != ADDR_OK
	    || is_null)
		fuzz_fail("path round trip fails", why);
	if (strcmp(m.local, local) != 0 || strcmp(m.domain, domain) != 0)
		fuzz_fail("path round trip differs", text);
	addr_mailbox_free(&m);
	if (addr_parse_mailbox_list(text, len, 1, &list, &why) != ADDR_OK)
		fuzz_fail("header round trip fails", why);
	if (list.count != 1 || strcmp(list.items[0].local, local) != 0
	    || strcmp(list.items[0].domain, domain) != 0)
		fuzz_fail("header round trip differs", text);
	addr_list_free(&list);
	free(text);
}

/* check_why - why is set exactly for failures that carry a reason */
static void
check_why(enum addr_status st, const char *why)
{
	bool want = st == ADDR_SYNTAX || st == ADDR_TOO_MANY;

	if (want != (why != NULL))
		fuzz_fail("why/status mismatch", addr_status_str(st));
}

/* fuzz_list - header value parser with a given limit */
static void
fuzz_list(const char *data, size_t size, size_t max)
{
	struct addr_list list;
	const char *why;
	enum addr_status st;
	size_t i, cap = max ? max : ADDR_MAILBOXES_MAX;

	st = addr_parse_mailbox_list(data, size, max, &list, &why);
	check_why(st, why);
	if (st != ADDR_OK) {
		if (list.count != 0 || list.items != NULL)
			fuzz_fail("list not empty on failure",
				  addr_status_str(st));
		return;
	}
	if (list.count < 1 || list.count > cap)
		fuzz_fail("bad count with ADDR_OK", NULL);
	for (i = 0; i < list.count; i++) {
		check_local(list.items[i].local);
		check_domain(list.items[i].domain);
		check_roundtrip(list.items[i].local, list.items[i].domain);
		if (list.items[i].display != NULL
		    && *list.items[i].display == '\0')
			fuzz_fail("empty display name", NULL);
	}
	addr_list_free(&list);
}

/* fuzz_path - envelope parser */
static void
fuzz_path(const char *data, size_t size)
{
	struct addr_mailbox m;
	const char *why;
	bool is_null;
	enum addr_status st;

	st = addr_parse_path(data, size, &m, &is_null, &why);
	check_why(st, why);
	if (st != ADDR_OK || is_null) {
		if (m.local != NULL || m.domain != NULL || m.display != NULL)
			fuzz_fail("path fields set without a mailbox", NULL);
		if (is_null && st != ADDR_OK)
			fuzz_fail("is_null without ADDR_OK", NULL);
		return;
	}
	check_local(m.local);
	check_domain(m.domain);
	check_roundtrip(m.local, m.domain);
	addr_mailbox_free(&m);
}

/* fuzz_normalize - the input as a domain: idempotent when accepted */
static void
fuzz_normalize(const char *data, size_t size)
{
	const char *why;
	char *s, *d;

	if (size > 2048)
		return;
	s = malloc(size + 1);
	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	d = addr_domain_normalize(s, &why);
	if ((d == NULL) != (why != NULL))
		fuzz_fail("normalize why/result mismatch", why);
	if (d != NULL)
		check_domain(d);
	free(d);
	free(s);
}

/* LLVMFuzzerTestOneInput - one input through every entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reads past len are caught by ASan. */
	char *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	fuzz_list(buf, size, 0);
	fuzz_list(buf, size, 1);
	fuzz_path(buf, size);
	fuzz_normalize(buf, size);
	free(buf);
	return 0;
}
