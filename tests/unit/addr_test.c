/*++
 * NAME
 *	addr_test 1
 * SUMMARY
 *	unit tests for the From-value and envelope path parsers (common/addr.c)
 * DESCRIPTION
 *	Four tables: header values (addr_parse_mailbox_list), envelope paths
 *	(addr_parse_path), addr_domain_normalize and addr_domain_is_subdomain.
 *	Each row becomes one cmocka test named "<table>/<row>". Rows whose
 *	input is too big or too odd to write as a literal get it from a
 *	generator function. Failures read "got X, want Y".
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "xalloc.h"

#define NO_DISPLAY	"\001none"	/* want_display: expect NULL */

/*
 * Generated inputs.
 */

/* buf_repeat - append n copies of s to a buffer at *pos */
static void
buf_repeat(char *buf, size_t *pos, const char *s, size_t n)
{
	size_t sl = strlen(s), i;

	for (i = 0; i < n; i++) {
		memcpy(buf + *pos, s, sl);
		*pos += sl;
	}
}

/* gen_nested - "a@b.example " + depth nested comments */
static char *
gen_nested(size_t depth, size_t *len)
{
	char *buf = xmalloc(2 * depth + 32);
	size_t n = 0;

	buf_repeat(buf, &n, "a@b.example ", 1);
	buf_repeat(buf, &n, "(", depth);
	buf_repeat(buf, &n, "x", 1);
	buf_repeat(buf, &n, ")", depth);
	*len = n;
	return buf;
}

/* gen_nested_1000 - far too deep */
static char *
gen_nested_1000(size_t *len)
{
	return gen_nested(1000, len);
}

/* gen_nested_16 - exactly the limit */
static char *
gen_nested_16(size_t *len)
{
	return gen_nested(ADDR_COMMENT_DEPTH_MAX, len);
}

/* gen_nested_17 - one over the limit */
static char *
gen_nested_17(size_t *len)
{
	return gen_nested(ADDR_COMMENT_DEPTH_MAX + 1, len);
}

/* gen_unclosed_1000 - 1000 open parentheses and nothing else */
static char *
gen_unclosed_1000(size_t *len)
{
	char *buf = xmalloc(1001);
	size_t n = 0;

	buf_repeat(buf, &n, "(", 1000);
	*len = n;
	return buf;
}

/* gen_quoted_10000 - a 10,000-byte value: huge quoted display name */
static char *
gen_quoted_10000(size_t *len)
{
	const char *tail = "\" <big@example.com>";
	char *buf = xmalloc(10000);
	size_t n = 0;

	buf_repeat(buf, &n, "\"", 1);
	buf_repeat(buf, &n, "q", 10000 - 1 - strlen(tail));
	buf_repeat(buf, &n, tail, 1);
	*len = n;
	return buf;
}

/* gen_line_1200 - one unfolded line over RFC 5322's 998 octets */
static char *
gen_line_1200(size_t *len)
{
	char *buf = xmalloc(1300);
	size_t n = 0;

	buf_repeat(buf, &n, "x", 1200);
	buf_repeat(buf, &n, " <long@example.com>", 1);
	*len = n;
	return buf;
}

/* gen_folded_10000 - 10,000 bytes of folded display name words */
static char *
gen_folded_10000(size_t *len)
{
	char *buf = xmalloc(10100);
	size_t n = 0;

	/* "word\r\n " is 7 bytes: 1420 of them, then the address. */
	buf_repeat(buf, &n, "word\r\n ", 1420);
	buf_repeat(buf, &n, "<fold@example.com>", 1);
	*len = n;
	return buf;
}

/* gen_list_10000 - about 10,000 bytes of addresses */
static char *
gen_list_10000(size_t *len)
{
	char *buf = xmalloc(10100);
	size_t n = 0;

	buf_repeat(buf, &n, "a@b.example, ", 769);
	buf_repeat(buf, &n, "a@b.example", 1);
	*len = n;
	return buf;
}

/* gen_list - count addresses separated by "," */
static char *
gen_list(size_t count, size_t *len)
{
	char *buf = xmalloc(count * 12 + 1);
	size_t n = 0;

	buf_repeat(buf, &n, "a@b.example", 1);
	buf_repeat(buf, &n, ",a@b.example", count - 1);
	*len = n;
	return buf;
}

/* gen_list_1000 - exactly the hard cap */
static char *
gen_list_1000(size_t *len)
{
	return gen_list(ADDR_MAILBOXES_MAX, len);
}

/* gen_list_1001 - one over the hard cap */
static char *
gen_list_1001(size_t *len)
{
	return gen_list(ADDR_MAILBOXES_MAX + 1, len);
}

/* gen_value_too_long - CFWS beyond ADDR_VALUE_MAX */
static char *
gen_value_too_long(size_t *len)
{
	char *buf = xmalloc(ADDR_VALUE_MAX + 32);
	size_t n = 0;

	buf_repeat(buf, &n, " ", ADDR_VALUE_MAX);
	buf_repeat(buf, &n, "a@b.example", 1);
	*len = n;
	return buf;
}

/* gen_addr - local part of ll bytes, domain with labels of lab bytes */
static char *
gen_addr(const char *pre, size_t ll, size_t lab, size_t nlab,
	 const char *post, size_t *len)
{
	char *buf = xmalloc(strlen(pre) + ll + nlab * (lab + 1) + strlen(post)
			    + 16);
	size_t n = 0, i;

	buf_repeat(buf, &n, pre, 1);
	buf_repeat(buf, &n, "l", ll);
	buf_repeat(buf, &n, "@", 1);
	for (i = 0; i < nlab; i++) {
		if (i > 0)
			buf_repeat(buf, &n, ".", 1);
		buf_repeat(buf, &n, "d", lab);
	}
	buf_repeat(buf, &n, post, 1);
	*len = n;
	return buf;
}

/* gen_label_63 - longest label */
static char *
gen_label_63(size_t *len)
{
	return gen_addr("", 1, 63, 2, "", len);
}

/* gen_label_64 - label one over */
static char *
gen_label_64(size_t *len)
{
	return gen_addr("", 1, 64, 2, "", len);
}

/* gen_domain_253 - 4 labels of 63 octets = 255; 3 of 63 + 61 = 253 */
static char *
gen_domain_253(size_t *len)
{
	char *a = gen_addr("", 1, 63, 3, ".", len);
	char *buf = xmalloc(*len + 64);
	size_t n = *len;

	memcpy(buf, a, n);
	free(a);
	buf_repeat(buf, &n, "e", 61);
	*len = n;
	return buf;
}

/* gen_domain_254 - one octet over */
static char *
gen_domain_254(size_t *len)
{
	char *a = gen_addr("", 1, 63, 3, ".", len);
	char *buf = xmalloc(*len + 64);
	size_t n = *len;

	memcpy(buf, a, n);
	free(a);
	buf_repeat(buf, &n, "e", 62);
	*len = n;
	return buf;
}

/* gen_local_300 - SRS-style long local part, accepted */
static char *
gen_local_300(size_t *len)
{
	return gen_addr("", 300, 5, 2, "", len);
}

/* gen_local_513 - one over ADDR_LOCAL_MAX */
static char *
gen_local_513(size_t *len)
{
	return gen_addr("", ADDR_LOCAL_MAX + 1, 5, 2, "", len);
}

/* gen_path_300 - long SRS-style envelope address */
static char *
gen_path_300(size_t *len)
{
	return gen_addr("<", 300, 5, 2, ">", len);
}

/* gen_path_too_long - beyond ADDR_PATH_MAX */
static char *
gen_path_too_long(size_t *len)
{
	return gen_addr("<", ADDR_PATH_MAX, 5, 2, ">", len);
}

/* gen_atom_1100 - a domain atom longer than anything sane */
static char *
gen_atom_1100(size_t *len)
{
	return gen_addr("", 1, 1100, 1, "", len);
}

/* gen_literal_1100 - a huge domain literal */
static char *
gen_literal_1100(size_t *len)
{
	char *buf = xmalloc(1200);
	size_t n = 0;

	buf_repeat(buf, &n, "a@[", 1);
	buf_repeat(buf, &n, "1", 1100);
	buf_repeat(buf, &n, "]", 1);
	*len = n;
	return buf;
}

/* gen_dots_1024 - "dddd." labels: 205 of them end exactly at octet 1024 */
static char *
gen_dots_1024(size_t *len)
{
	return gen_addr("", 1, 4, 206, "", len);
}

/* gen_path_local_513 - envelope local part one over ADDR_LOCAL_MAX */
static char *
gen_path_local_513(size_t *len)
{
	return gen_addr("<", ADDR_LOCAL_MAX + 1, 5, 2, ">", len);
}

/* gen_path_domain_1100 - envelope domain beyond the raw limit */
static char *
gen_path_domain_1100(size_t *len)
{
	return gen_addr("<", 1, 1100, 1, ">", len);
}

/*
 * Header value table.
 */
struct list_case {
	const char *name;
	const char *input;
	size_t	 len;			/* 0: strlen(input) */
	size_t	 max;			/* max_mailboxes (0: hard cap) */
	enum addr_status want;
	size_t	 want_count;
	const char *want_local[3];
	const char *want_domain[3];
	const char *want_display;	/* of item 0; NULL: not checked */
	const char *want_why;		/* NULL: not checked */
	char	*(*gen)(size_t *);	/* input generator, or NULL */
};

#define L(s)	(s), sizeof(s) - 1	/* literal with embedded NULs */

static const struct list_case list_cases[] = {
	/* Nothing there. */
	{"empty", "", 0, 0, ADDR_EMPTY, 0, {0}, {0}, NULL, NULL, NULL},
	{"only-space", "  \t ", 0, 0, ADDR_EMPTY, 0, {0}, {0}, NULL, NULL, NULL},
	{"only-comment", " (nobody (here)) ", 0, 0, ADDR_EMPTY, 0, {0}, {0},
	 NULL, NULL, NULL},
	{"only-folding", "\r\n ", 0, 0, ADDR_EMPTY, 0, {0}, {0}, NULL, NULL,
	 NULL},
	{"empty-group", "Group: ;", 0, 0, ADDR_EMPTY, 0, {0}, {0}, NULL, NULL,
	 NULL},
	{"undisclosed", "Undisclosed recipients:;", 0, 0, ADDR_EMPTY, 0, {0},
	 {0}, NULL, NULL, NULL},
	{"commas-only", ",,,", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "no address in list", NULL},

	/* Plain forms. */
	{"addr-spec", "user@example.com", 0, 0, ADDR_OK, 1, {"user"},
	 {"example.com"}, NO_DISPLAY, NULL, NULL},
	{"angle", "<a@b.example>", 0, 0, ADDR_OK, 1, {"a"}, {"b.example"},
	 NO_DISPLAY, NULL, NULL},
	{"angle-spaces", "< a@b.example >", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NO_DISPLAY, NULL, NULL},
	{"display-atoms", "John Doe <john@example.com>", 0, 0, ADDR_OK, 1,
	 {"john"}, {"example.com"}, "John Doe", NULL, NULL},
	{"display-dot", "John Q. Public <jqp@example.com>", 0, 0, ADDR_OK, 1,
	 {"jqp"}, {"example.com"}, "John Q. Public", NULL, NULL},
	{"display-quoted", "\"Doe, John\" <john@example.com>", 0, 0, ADDR_OK,
	 1, {"john"}, {"example.com"}, "\"Doe, John\"", NULL, NULL},
	{"display-quoted-pair", "\"J \\\"D\\\" D\" <j@example.com>", 0, 0,
	 ADDR_OK, 1, {"j"}, {"example.com"}, "\"J \\\"D\\\" D\"", NULL, NULL},
	{"display-at-in-quotes", "\"a@b\" <real@c.example>", 0, 0, ADDR_OK, 1,
	 {"real"}, {"c.example"}, "\"a@b\"", NULL, NULL},
	{"encoded-word", "=?utf-8?q?J=C3=B6rg?= <j@example.com>", 0, 0,
	 ADDR_OK, 1, {"j"}, {"example.com"}, "=?utf-8?q?J=C3=B6rg?=", NULL,
	 NULL},
	{"encoded-word-b", "=?UTF-8?B?SsO2cmc=?= <j@example.com>", 0, 0,
	 ADDR_OK, 1, {"j"}, {"example.com"}, "=?UTF-8?B?SsO2cmc=?=", NULL,
	 NULL},
	{"utf8-display", "J\xc3\xb6rg M\xc3\xbcller <j@example.com>", 0, 0,
	 ADDR_OK, 1, {"j"}, {"example.com"}, "J\xc3\xb6rg M\xc3\xbcller", NULL,
	 NULL},
	{"latin1-display", "J\xf6rg <j@example.com>", 0, 0, ADDR_OK, 1, {"j"},
	 {"example.com"}, "J\xf6rg", NULL, NULL},
	{"old-style-comment-name", "a@b.example (John Doe)", 0, 0, ADDR_OK, 1,
	 {"a"}, {"b.example"}, NO_DISPLAY, NULL, NULL},

	/* Local parts. */
	{"quoted-local", "\"john doe\"@example.com", 0, 0, ADDR_OK, 1,
	 {"john doe"}, {"example.com"}, NO_DISPLAY, NULL, NULL},
	{"quoted-local-escapes", "\"a\\\"b\\\\c\"@example.com", 0, 0, ADDR_OK,
	 1, {"a\"b\\c"}, {"example.com"}, NULL, NULL, NULL},
	{"quoted-local-at", "<\"x@evil.example\"@good.example>", 0, 0, ADDR_OK,
	 1, {"x@evil.example"}, {"good.example"}, NULL, NULL, NULL},
	{"obs-local-cfws", "john . doe @ example . com", 0, 0, ADDR_OK, 1,
	 {"john.doe"}, {"example.com"}, NULL, NULL, NULL},
	{"obs-local-mixed", "john.\"doe\"@example.com", 0, 0, ADDR_OK, 1,
	 {"john.doe"}, {"example.com"}, NULL, NULL, NULL},
	{"comment-in-local", "a(c)@b.example", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NULL, NULL, NULL},
	{"utf8-local", "j\xc3\xb6rg@example.com", 0, 0, ADDR_OK, 1,
	 {"j\xc3\xb6rg"}, {"example.com"}, NULL, NULL, NULL},
	{"local-case-kept", "User.Name@Example.COM", 0, 0, ADDR_OK, 1,
	 {"User.Name"}, {"example.com"}, NULL, NULL, NULL},
	{"utf8-local-3byte", "\xe6\x97\xa5\xe6\x9c\xac@example.com", 0, 0,
	 ADDR_OK, 1, {"\xe6\x97\xa5\xe6\x9c\xac"}, {"example.com"}, NULL,
	 NULL, NULL},
	{"utf8-local-4byte", "\xf0\x9f\x98\x80@example.com", 0, 0, ADDR_OK,
	 1, {"\xf0\x9f\x98\x80"}, {"example.com"}, NULL, NULL, NULL},
	{"utf8-overlong", "\xc0\xaf@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"utf8-overlong-3byte", "\xe0\x80\xaf@example.com", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"utf8-surrogate", "\xed\xa0\x80@example.com", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"utf8-above-max", "\xf4\x90\x80\x80@example.com", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"utf8-truncated", "a\xe6\x97@example.com", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"utf8-bad-continuation", "\xe6\x97" "a@example.com", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"bad-utf8-local", "\xff\xfe@b.example", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "invalid UTF-8 in local part", NULL},
	{"empty-quoted-local", "\"\"@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "empty local part", NULL},
	{"double-dot-local", "a..b@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "bad local part", NULL},
	{"leading-dot-local", ".a@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, NULL, NULL},
	{"trailing-dot-local", "a.@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "bad local part", NULL},
	{"words-no-dot-local", "john doe@example.com", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "bad local part", NULL},
	{"backslash-outside", "a\\b@example.com", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "backslash outside quotes", NULL},
	{"local-300", NULL, 0, 0, ADDR_OK, 1, {0}, {"ddddd.ddddd"}, NULL,
	 NULL, gen_local_300},
	{"local-513", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "local part too long", gen_local_513},

	/* Domains. */
	{"uppercase-domain", "user@EXAMPLE.COM", 0, 0, ADDR_OK, 1, {"user"},
	 {"example.com"}, NULL, NULL, NULL},
	{"trailing-dot", "user@example.com.", 0, 0, ADDR_OK, 1, {"user"},
	 {"example.com"}, NULL, NULL, NULL},
	{"idn", "user@B\xc3\xbc" "cher.example", 0, 0, ADDR_OK, 1, {"user"},
	 {"xn--bcher-kva.example"}, NULL, NULL, NULL},
	{"idn-fullwidth-dot",
	 "<u@\xe4\xbe\x8b\xe3\x81\x88\xe3\x80\x82\xe3\x83\x86\xe3\x82\xb9"
	 "\xe3\x83\x88>", 0, 0, ADDR_OK, 1, {"u"},
	 {"xn--r8jz45g.xn--zckzah"}, NULL, NULL, NULL},
	{"a-label-upper", "u@XN--BCHER-KVA.example", 0, 0, ADDR_OK, 1, {"u"},
	 {"xn--bcher-kva.example"}, NULL, NULL, NULL},
	{"bad-idn", "user@\xff.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "invalid international domain name", NULL},
	{"literal-v4", "user@[192.0.2.1]", 0, 0, ADDR_OK, 1, {"user"},
	 {"[192.0.2.1]"}, NULL, NULL, NULL},
	{"literal-v6", "user@[IPv6:2001:DB8::1]", 0, 0, ADDR_OK, 1, {"user"},
	 {"[ipv6:2001:db8::1]"}, NULL, NULL, NULL},
	{"literal-name", "user@[example.com]", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "bad domain literal", NULL},
	{"literal-space", "user@[192.0.2.1 ]", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "bad character in domain literal", NULL},
	{"literal-unterminated", "user@[192.0.2.1", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "unterminated domain literal", NULL},
	{"empty-label", "a@b..example", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 NULL, NULL},
	{"two-trailing-dots", "a@b.example..", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, NULL, NULL},
	{"leading-hyphen", "a@-b.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "label starts with hyphen", NULL},
	{"trailing-hyphen", "a@b-.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "label ends with hyphen", NULL},
	{"last-label-hyphen", "a@b.example-", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "label ends with hyphen", NULL},
	{"domain-atom-1100", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "domain too long", gen_atom_1100},
	{"domain-literal-1100", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "bad domain literal", gen_literal_1100},
	{"domain-dots-1024", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "domain too long", gen_dots_1024},
	{"underscore", "a@b_c.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "bad character in domain", NULL},
	{"domain-special-atext", "a@b!c.example", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "bad character in domain", NULL},
	{"label-63", NULL, 0, 0, ADDR_OK, 1, {"l"}, {0}, NULL, NULL,
	 gen_label_63},
	{"label-64", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "label too long", gen_label_64},
	{"domain-253", NULL, 0, 0, ADDR_OK, 1, {"l"}, {0}, NULL, NULL,
	 gen_domain_253},
	{"domain-254", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "domain too long", gen_domain_254},

	/* Missing pieces. */
	{"no-local", "@example.com", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "empty local part", NULL},
	{"no-domain", "user@", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "empty domain", NULL},
	{"quoted-domain", "a@\"b\".example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "quoted string in domain", NULL},
	{"no-domain-angle", "<user@>", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "empty domain", NULL},
	{"no-at", "user", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL, "missing @",
	 NULL},
	{"no-at-angle", "Name <user>", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "missing @", NULL},
	{"empty-angle", "<>", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "empty angle address", NULL},
	{"two-at", "a@b@c.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL, NULL,
	 NULL},
	{"missing-close-angle", "<a@b.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "missing '>'", NULL},
	{"stray-close-angle", "a@b.example>", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "expected ',' after address", NULL},
	{"lone-literal", "[192.0.2.1]", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "unexpected domain literal", NULL},
	{"lone-close-angle", "> a@b.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "unexpected '>'", NULL},
	{"stray-close-bracket", "a@b.example]", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "unbalanced ']'", NULL},
	{"angle-unterminated-comment", "<a (oops", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "unterminated comment", NULL},
	{"display-starts-dot", ". <a@b.example>", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "bad display name", NULL},

	/* Several addresses. */
	{"two", "a@b.example, c@d.example", 0, 0, ADDR_OK, 2, {"a", "c"},
	 {"b.example", "d.example"}, NULL, NULL, NULL},
	{"three-mixed", "A <a@b.example>, c@d.example,\"E\" <e@f.example>", 0,
	 0, ADDR_OK, 3, {"a", "c", "e"}, {"b.example", "d.example",
	 "f.example"}, "A", NULL, NULL},
	{"no-comma", "a@b.example c@d.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "expected ',' after address", NULL},
	{"addr-then-angle", "a@b.example <c@d.example>", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, NULL, NULL},
	{"angle-then-angle", "<a@b.example> <c@d.example>", 0, 0, ADDR_SYNTAX,
	 0, {0}, {0}, NULL, NULL, NULL},
	{"trailing-garbage", "<a@b.example> garbage", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "expected ',' after address", NULL},
	{"semicolon-outside-group", "a@b.example;", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, NULL, NULL},
	{"obs-empty-elements", "a@b.example, , c@d.example,", 0, 0, ADDR_OK, 2,
	 {"a", "c"}, {"b.example", "d.example"}, NULL, NULL, NULL},
	{"obs-leading-comma", ", a@b.example", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NULL, NULL, NULL},
	{"max-exceeded", "a@b.example, c@d.example", 0, 1, ADDR_TOO_MANY, 0,
	 {0}, {0}, NULL, "too many mailboxes", NULL},
	{"max-exact", "a@b.example, c@d.example", 0, 2, ADDR_OK, 2,
	 {"a", "c"}, {"b.example", "d.example"}, NULL, NULL, NULL},
	{"max-in-group", "G: a@b.example, c@d.example;", 0, 1, ADDR_TOO_MANY,
	 0, {0}, {0}, NULL, NULL, NULL},
	{"list-10000-max-10", NULL, 0, 10, ADDR_TOO_MANY, 0, {0}, {0}, NULL,
	 NULL, gen_list_10000},
	{"list-1000-hard-cap", NULL, 0, 0, ADDR_OK, 1000, {"a"},
	 {"b.example"}, NULL, NULL, gen_list_1000},
	{"list-1001-hard-cap", NULL, 0, 0, ADDR_TOO_MANY, 0, {0}, {0}, NULL,
	 NULL, gen_list_1001},
	{"max-above-cap", NULL, 0, 5000, ADDR_TOO_MANY, 0, {0}, {0}, NULL,
	 NULL, gen_list_1001},

	/* Groups. */
	{"group-one", "Group: a@b.example;", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NULL, NULL, NULL},
	{"group-two", "Undisclosed: a@b.example, c@d.example;", 0, 0, ADDR_OK,
	 2, {"a", "c"}, {"b.example", "d.example"}, NULL, NULL, NULL},
	{"group-then-mailbox", "G: a@b.example; , <c@d.example>", 0, 0,
	 ADDR_OK, 2, {"a", "c"}, {"b.example", "d.example"}, NULL, NULL, NULL},
	{"group-member-display", "G: Ann <a@b.example>;", 0, 0, ADDR_OK, 1,
	 {"a"}, {"b.example"}, "Ann", NULL, NULL},
	{"group-obs-commas", "G: ,, ;", 0, 0, ADDR_EMPTY, 0, {0}, {0}, NULL,
	 NULL, NULL},
	{"group-unterminated", "Group: a@b.example", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "unterminated group", NULL},
	{"group-nested", "G: H: a@b.example;;", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "nested group", NULL},
	{"group-no-name", ": a@b.example;", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "group without name", NULL},
	{"group-no-comma-after", "G: a@b.example; c@d.example", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "expected ',' after address", NULL},

	/* Routes. */
	{"obs-route", "<@route.example:local@domain.example>", 0, 0, ADDR_OK, 1,
	 {"local"}, {"domain.example"}, NULL, NULL, NULL},
	{"obs-route-list", "Name <@a.example,,@b.example:l@d.example>", 0, 0,
	 ADDR_OK, 1, {"l"}, {"d.example"}, "Name", NULL, NULL},
	{"obs-route-empty", "<@:l@d.example>", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "empty domain", NULL},
	{"obs-route-no-colon", "<@a.example l@d.example>", 0, 0, ADDR_SYNTAX,
	 0, {0}, {0}, NULL, "bad route", NULL},
	{"obs-route-no-comma", "<@a.example@b.example:l@d.example>", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "bad route", NULL},
	{"obs-route-trailing-comma", "<@a.example,:l@d.example>", 0, 0,
	 ADDR_OK, 1, {"l"}, {"d.example"}, NULL, NULL, NULL},
	{"obs-route-unterminated-comment", "<@a.example,(x", 0, 0,
	 ADDR_SYNTAX, 0, {0}, {0}, NULL, "unterminated comment", NULL},
	{"obs-route-leading-comma", "<,@a.example:l@d.example>", 0, 0, ADDR_OK,
	 1, {"l"}, {"d.example"}, NULL, NULL, NULL},
	{"route-outside-angle", "@a.example:b@c.example", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, NULL, NULL},

	/* Comments. */
	{"comment-with-at-and-angle", "(evil@attacker.example <x@y>) "
	 "real@good.example", 0, 0, ADDR_OK, 1, {"real"}, {"good.example"},
	 NULL, NULL, NULL},
	{"comment-nested", "a@b.example (one (two (three)))", 0, 0, ADDR_OK, 1,
	 {"a"}, {"b.example"}, NULL, NULL, NULL},
	{"comment-quoted-pair", "a@b.example (paren \\) and \\( inside)", 0, 0,
	 ADDR_OK, 1, {"a"}, {"b.example"}, NULL, NULL, NULL},
	{"comment-everywhere", "(c)Name(c)<(c)a(c)@(c)b(c).(c)example(c)>(c)",
	 0, 0, ADDR_OK, 1, {"a"}, {"b.example"}, "Name", NULL, NULL},
	{"comment-bad-quoted-pair", "a@b.example (\\\001)", 0, 0, ADDR_SYNTAX,
	 0, {0}, {0}, NULL, "bad quoted-pair", NULL},
	{"comment-unterminated", "a@b.example (oops", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "unterminated comment", NULL},
	{"comment-unbalanced", "a@b.example)", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "unbalanced ')'", NULL},
	{"nested-16", NULL, 0, 0, ADDR_OK, 1, {"a"}, {"b.example"}, NULL, NULL,
	 gen_nested_16},
	{"nested-17", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "comments nested too deeply", gen_nested_17},
	{"nested-1000", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "comments nested too deeply", gen_nested_1000},
	{"unclosed-1000", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "comments nested too deeply", gen_unclosed_1000},

	/* Folding and line breaks. */
	{"fold-crlf", "John\r\n Doe <j@example.com>", 0, 0, ADDR_OK, 1, {"j"},
	 {"example.com"}, "John Doe", NULL, NULL},
	{"fold-lf", "John\n\tDoe <j@example.com>", 0, 0, ADDR_OK, 1, {"j"},
	 {"example.com"}, "John\tDoe", NULL, NULL},
	{"fold-between", "a@b.example,\r\n c@d.example", 0, 0, ADDR_OK, 2,
	 {"a", "c"}, {"b.example", "d.example"}, NULL, NULL, NULL},
	{"fold-in-quotes", "\"john\r\n doe\"@example.com", 0, 0, ADDR_OK, 1,
	 {"john doe"}, {"example.com"}, NULL, NULL, NULL},
	{"fold-in-comment", "a@b.example (x\n y)", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NULL, NULL, NULL},
	{"fold-in-quotes-no-wsp", "\"a\r\nb\"@example.com", 0, 0, ADDR_SYNTAX,
	 0, {0}, {0}, NULL, "line break not followed by whitespace", NULL},
	{"trailing-crlf", "a@b.example\r\n", 0, 0, ADDR_OK, 1, {"a"},
	 {"b.example"}, NULL, NULL, NULL},
	{"two-trailing-crlf", "a@b.example\r\n\r\n", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "line break not followed by whitespace", NULL},
	{"crlf-end-of-comment", "a@b.example (x\r\n", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "line break not followed by whitespace", NULL},
	{"crlf-no-wsp", "a@b.example\r\nBcc: c@d.example", 0, 0, ADDR_SYNTAX,
	 0, {0}, {0}, NULL, "line break not followed by whitespace", NULL},
	{"bare-cr", "a@b.example\r c@d.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "bare CR", NULL},
	{"line-1200", NULL, 0, 0, ADDR_OK, 1, {"long"}, {"example.com"}, NULL,
	 NULL, gen_line_1200},
	{"folded-10000", NULL, 0, 0, ADDR_OK, 1, {"fold"}, {"example.com"},
	 NULL, NULL, gen_folded_10000},
	{"quoted-10000", NULL, 0, 0, ADDR_OK, 1, {"big"}, {"example.com"},
	 NULL, NULL, gen_quoted_10000},
	{"value-too-long", NULL, 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "header value too long", gen_value_too_long},

	/* Bytes that never belong. */
	{"nul-between", L("a@b.example\0c@d.example"), 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "NUL in value", NULL},
	{"nul-after-domain", L("a@b.example\0"), 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "NUL in value", NULL},
	{"nul-in-comment", L("a@b.example (x\0y)"), 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "NUL in comment", NULL},
	{"nul-in-quotes", L("\"a\0b\"@example.com"), 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "NUL in quoted string", NULL},
	{"nul-quoted-pair", L("\"a\\\0b\"@example.com"), 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "bad quoted-pair", NULL},
	{"control-char", "a\001@b.example", 0, 0, ADDR_SYNTAX, 0, {0}, {0},
	 NULL, "control character in value", NULL},
	{"del-in-quotes", "\"a\177\"@b.example", 0, 0, ADDR_SYNTAX, 0, {0},
	 {0}, NULL, "control character in quoted string", NULL},
	{"unterminated-quote", "\"abc <a@b.example>", 0, 0, ADDR_SYNTAX, 0,
	 {0}, {0}, NULL, "unterminated quoted string", NULL},
	{"backslash-at-end", "\"abc\\", 0, 0, ADDR_SYNTAX, 0, {0}, {0}, NULL,
	 "backslash at end of value", NULL},
};

/* check_str - compare one string field; NULL want means "expect NULL" */
static int
check_str(const char *name, const char *what, const char *got,
	  const char *want)
{
	if (got == NULL && want == NULL)
		return 0;
	if (got != NULL && want != NULL && strcmp(got, want) == 0)
		return 0;
	print_error("%s: %s: got \"%s\", want \"%s\"\n", name, what,
		    got ? got : "(null)", want ? want : "(null)");
	return 1;
}

/* test_list - run one header-value row */
static void
test_list(void **state)
{
	const struct list_case *c = *state;
	struct addr_list list = { (void *)1, 99 };	/* must be reset */
	const char *why = "stale";
	char *gen = NULL, *buf;
	size_t len, i;
	enum addr_status st;
	int bad = 0;

	if (c->gen != NULL) {
		gen = c->gen(&len);
		buf = gen;
	} else {
		len = c->len ? c->len : strlen(c->input);
		/* A private copy, so ASan sees any read past len. */
		buf = xmalloc(len);
		memcpy(buf, c->input, len);
	}
	st = addr_parse_mailbox_list(buf, len, c->max, &list, &why);
	if (st != c->want) {
		print_error("%s: status: got %s (%s), want %s\n", c->name,
			    addr_status_str(st), why ? why : "-",
			    addr_status_str(c->want));
		bad++;
	}
	if (list.count != c->want_count) {
		print_error("%s: count: got %zu, want %zu\n", c->name,
			    list.count, c->want_count);
		bad++;
	}
	if ((st == ADDR_SYNTAX || st == ADDR_TOO_MANY) != (why != NULL)) {
		print_error("%s: why: got \"%s\" with status %s\n", c->name,
			    why ? why : "(null)", addr_status_str(st));
		bad++;
	}
	if (c->want_why != NULL)
		bad += check_str(c->name, "why", why, c->want_why);
	if (st != ADDR_OK && (list.items != NULL || list.count != 0)) {
		print_error("%s: list not reset on failure\n", c->name);
		bad++;
	}
	for (i = 0; i < 3 && i < list.count && st == c->want; i++) {
		if (c->want_local[i] != NULL)
			bad += check_str(c->name, "local", list.items[i].local,
					 c->want_local[i]);
		if (c->want_domain[i] != NULL)
			bad += check_str(c->name, "domain",
					 list.items[i].domain,
					 c->want_domain[i]);
	}
	if (c->want_display != NULL && list.count > 0)
		bad += check_str(c->name, "display", list.items[0].display,
				 strcmp(c->want_display, NO_DISPLAY) == 0 ?
				 NULL : c->want_display);
	addr_list_free(&list);
	if (list.items != NULL || list.count != 0) {
		print_error("%s: addr_list_free did not reset\n", c->name);
		bad++;
	}
	free(buf);
	if (bad)
		fail_msg("%s: %d mismatch(es)", c->name, bad);
}

/*
 * Envelope path table.
 */
struct path_case {
	const char *name;
	const char *input;
	size_t	 len;			/* 0: strlen(input) */
	enum addr_status want;
	bool	 want_null;
	const char *want_local;		/* NULL: expect NULL */
	const char *want_domain;
	const char *want_why;		/* NULL: not checked */
	char	*(*gen)(size_t *);
};

static const struct path_case path_cases[] = {
	{"bracketed", "<user@example.com>", 0, ADDR_OK, false, "user",
	 "example.com", NULL, NULL},
	{"null", "<>", 0, ADDR_OK, true, NULL, NULL, NULL, NULL},
	{"bare", "user@example.com", 0, ADDR_OK, false, "user", "example.com",
	 NULL, NULL},
	{"empty", "", 0, ADDR_EMPTY, false, NULL, NULL, NULL, NULL},
	{"route", "<@a.example,@b.example:user@c.example>", 0, ADDR_OK, false,
	 "user", "c.example", NULL, NULL},
	{"route-bad", "<@a.example,b.example:user@c.example>", 0, ADDR_SYNTAX,
	 false, NULL, NULL, "bad source route", NULL},
	{"route-unterminated", "<@a.example>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "unterminated source route", NULL},
	{"route-no-brackets", "@a.example:user@c.example", 0, ADDR_SYNTAX,
	 false, NULL, NULL, "source route without brackets", NULL},
	{"quoted", "<\"john doe\"@example.com>", 0, ADDR_OK, false, "john doe",
	 "example.com", NULL, NULL},
	{"quoted-pair", "<\"a\\\"b\\\\c\"@example.com>", 0, ADDR_OK, false,
	 "a\"b\\c", "example.com", NULL, NULL},
	{"quoted-at", "<\"a@b\"@example.com>", 0, ADDR_OK, false, "a@b",
	 "example.com", NULL, NULL},
	{"quoted-then-junk", "<\"a\"b@example.com>", 0, ADDR_SYNTAX, false,
	 NULL, NULL, "bad local part", NULL},
	{"quoted-unterminated", "<\"ab@example.com>", 0, ADDR_SYNTAX, false,
	 NULL, NULL, "unterminated quoted string", NULL},
	{"empty-quoted", "<\"\"@example.com>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "empty local part", NULL},
	{"smtputf8", "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 0, ADDR_OK,
	 false, "j\xc3\xb6rg", "xn--bcher-kva.example", NULL, NULL},
	{"bad-utf8", "<\xc3@example.com>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "invalid UTF-8 in local part", NULL},
	{"quoted-pair-8bit", "<\"a\\\xc3\xbc\"@example.com>", 0, ADDR_SYNTAX,
	 false, NULL, NULL, "bad quoted-pair", NULL},
	{"quoted-utf8", "<\"j\xc3\xb6rg d\"@example.com>", 0, ADDR_OK, false,
	 "j\xc3\xb6rg d", "example.com", NULL, NULL},
	{"trailing-dot-local", "<a.@example.com>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "bad local part", NULL},
	{"route-bad-domain", "<@-a.example:u@b.example>", 0, ADDR_SYNTAX,
	 false, NULL, NULL, "label starts with hyphen", NULL},
	{"local-513", NULL, 0, ADDR_SYNTAX, false, NULL, NULL,
	 "local part too long", gen_path_local_513},
	{"domain-1100", NULL, 0, ADDR_SYNTAX, false, NULL, NULL,
	 "domain too long", gen_path_domain_1100},
	{"literal-v4", "<user@[192.0.2.1]>", 0, ADDR_OK, false, "user",
	 "[192.0.2.1]", NULL, NULL},
	{"literal-v6", "<user@[IPv6:2001:db8::1]>", 0, ADDR_OK, false, "user",
	 "[ipv6:2001:db8::1]", NULL, NULL},
	{"literal-bad", "<user@[300.0.2.1]>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "bad domain literal", NULL},
	{"upper-trailing-dot", "<User@EXAMPLE.COM.>", 0, ADDR_OK, false,
	 "User", "example.com", NULL, NULL},
	{"missing-close", "<user@example.com", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "missing '>'", NULL},
	{"missing-open", "user@example.com>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "bad character in domain", NULL},
	{"postmaster", "<postmaster>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "missing @", NULL},
	{"no-domain", "<user@>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "empty domain", NULL},
	{"no-local", "<@example.com>", 0, ADDR_SYNTAX, false, NULL, NULL, NULL,
	 NULL},
	{"space-inside", "< user@example.com>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "bad character in local part", NULL},
	{"space-after", "<user@example.com> ", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "missing '>'", NULL},
	{"space-domain", "<user@exa mple.com>", 0, ADDR_SYNTAX, false, NULL,
	 NULL, "bad character in domain", NULL},
	{"comment", "<(c)user@example.com>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "bad character in local part", NULL},
	{"double-dot", "<a..b@example.com>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "bad local part", NULL},
	{"two-at", "<a@b@example.com>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "bad character in domain", NULL},
	{"nested-brackets", "<<>>", 0, ADDR_SYNTAX, false, NULL, NULL, NULL,
	 NULL},
	{"underscore", "<user@b_c.example>", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "bad character in domain", NULL},
	{"nul", L("<user@example.com\0>"), ADDR_SYNTAX, false, NULL, NULL,
	 "NUL in path", NULL},
	{"crlf", "<user@example.com>\r\n", 0, ADDR_SYNTAX, false, NULL, NULL,
	 "control character in path", NULL},
	{"srs", "<SRS0=HHH=TT=example.org=user@forwarder.example>", 0, ADDR_OK,
	 false, "SRS0=HHH=TT=example.org=user", "forwarder.example", NULL,
	 NULL},
	{"long-300", NULL, 0, ADDR_OK, false, NULL, "ddddd.ddddd", NULL,
	 gen_path_300},
	{"too-long", NULL, 0, ADDR_SYNTAX, false, NULL, NULL, "path too long",
	 gen_path_too_long},
};

/* test_path - run one envelope row */
static void
test_path(void **state)
{
	const struct path_case *c = *state;
	struct addr_mailbox m;
	const char *why = "stale";
	bool is_null = true;
	char *buf;
	size_t len;
	enum addr_status st;
	int bad = 0;

	if (c->gen != NULL) {
		buf = c->gen(&len);
	} else {
		len = c->len ? c->len : strlen(c->input);
		buf = xmalloc(len);
		memcpy(buf, c->input, len);
	}
	st = addr_parse_path(buf, len, &m, &is_null, &why);
	if (st != c->want) {
		print_error("%s: status: got %s (%s), want %s\n", c->name,
			    addr_status_str(st), why ? why : "-",
			    addr_status_str(c->want));
		bad++;
	}
	if (is_null != c->want_null) {
		print_error("%s: is_null: got %d, want %d\n", c->name, is_null,
			    c->want_null);
		bad++;
	}
	if ((st == ADDR_SYNTAX) != (why != NULL)) {
		print_error("%s: why: got \"%s\" with status %s\n", c->name,
			    why ? why : "(null)", addr_status_str(st));
		bad++;
	}
	if (c->want_why != NULL)
		bad += check_str(c->name, "why", why, c->want_why);
	if (c->gen == NULL || c->want_local != NULL)
		bad += check_str(c->name, "local", m.local, c->want_local);
	bad += check_str(c->name, "domain", m.domain, c->want_domain);
	if (m.display != NULL) {
		print_error("%s: display: got \"%s\", want (null)\n", c->name,
			    m.display);
		bad++;
	}
	addr_mailbox_free(&m);
	if (m.local != NULL || m.domain != NULL) {
		print_error("%s: addr_mailbox_free did not reset\n", c->name);
		bad++;
	}
	free(buf);
	if (bad)
		fail_msg("%s: %d mismatch(es)", c->name, bad);
}

/*
 * addr_domain_normalize table.
 */
struct norm_case {
	const char *name;
	const char *input;
	const char *want;		/* NULL: expect an error */
};

static const struct norm_case norm_cases[] = {
	{"lower", "Example.COM", "example.com"},
	{"trailing-dot", "example.com.", "example.com"},
	{"two-trailing-dots", "example.com..", NULL},
	{"empty", "", NULL},
	{"null", NULL, NULL},
	{"dot", ".", NULL},
	{"leading-dot", ".example.com", NULL},
	{"idn", "B\xc3\xbc" "cher.example", "xn--bcher-kva.example"},
	{"idn-upper", "B\xc3\x9c" "CHER.EXAMPLE", "xn--bcher-kva.example"},
	{"idn-trailing-dot", "b\xc3\xbc" "cher.example.",
	 "xn--bcher-kva.example"},
	{"idn-eszett-nontransitional", "stra\xc3\x9f" "e.example",
	 "xn--strae-oqa.example"},
	{"a-label", "xn--bcher-kva.example", "xn--bcher-kva.example"},
	{"hyphen-inside", "a-b.example", "a-b.example"},
	{"leading-hyphen", "-a.example", NULL},
	{"trailing-hyphen", "a-.example", NULL},
	{"underscore", "a_b.example", NULL},
	{"space", "exa mple.com", NULL},
	{"bad-utf8", "\xff.example", NULL},
	{"single-label", "localhost", "localhost"},
	{"digits", "123.example", "123.example"},
	{"literal-v4", "[192.0.2.1]", "[192.0.2.1]"},
	{"literal-v6", "[IPv6:::1]", "[ipv6:::1]"},
	{"literal-v6-mapped", "[IPv6:::FFFF:192.0.2.1]",
	 "[ipv6:::ffff:192.0.2.1]"},
	{"literal-short-v4", "[1.2.3]", NULL},
	{"literal-leading-zero", "[01.2.3.4]", NULL},
	{"literal-name", "[example.com]", NULL},
	{"literal-too-long", "[1111111111111111111111111111111111111111111111111"
	 "11111111111111111111]", NULL},
	{"literal-unclosed", "[192.0.2.1", NULL},
	{"literal-empty", "[]", NULL},
	{"literal-v6-bad", "[IPv6:1.2.3.4]", NULL},
};

/* test_norm - run one addr_domain_normalize row, twice for idempotence */
static void
test_norm(void **state)
{
	const struct norm_case *c = *state;
	const char *why = "stale";
	char *got, *again;
	int bad = 0;

	got = addr_domain_normalize(c->input, &why);
	bad += check_str(c->name, "domain", got, c->want);
	if ((got == NULL) != (why != NULL)) {
		print_error("%s: why: got \"%s\" for result \"%s\"\n", c->name,
			    why ? why : "(null)", got ? got : "(null)");
		bad++;
	}
	if (got != NULL) {
		again = addr_domain_normalize(got, &why);
		bad += check_str(c->name, "idempotence", again, got);
		free(again);
	}
	free(got);
	if (bad)
		fail_msg("%s: %d mismatch(es)", c->name, bad);
}

/*
 * addr_domain_is_subdomain table.
 */
struct sub_case {
	const char *name;
	const char *child;
	const char *parent;
	bool	 want;
};

static const struct sub_case sub_cases[] = {
	{"equal", "example.com", "example.com", true},
	{"child", "a.example.com", "example.com", true},
	{"grandchild", "x.a.example.com", "example.com", true},
	{"case", "A.Example.COM", "example.COM", true},
	{"suffix-not-label", "badexample.com", "example.com", false},
	{"parent-longer", "example.com", "a.example.com", false},
	{"same-length-differs", "example.org", "example.com", false},
	{"tld", "com", "example.com", false},
	{"empty-child", "", "example.com", false},
	{"empty-parent", "example.com", "", false},
	{"null-child", NULL, "example.com", false},
	{"null-parent", "example.com", NULL, false},
	{"literal-suffix", "[192.0.2.1]", "2.1]", false},
	{"literal-equal", "[192.0.2.1]", "[192.0.2.1]", true},
	{"literal-parent", "a.[192.0.2.1]", "[192.0.2.1]", false},
};

/* test_sub - run one addr_domain_is_subdomain row */
static void
test_sub(void **state)
{
	const struct sub_case *c = *state;
	bool got = addr_domain_is_subdomain(c->child, c->parent);

	if (got != c->want)
		fail_msg("%s: got %s, want %s", c->name, got ? "true" : "false",
			 c->want ? "true" : "false");
}

/* test_norm_long - raw input beyond what is handed to libidn2 */
static void
test_norm_long(void **state)
{
	char buf[1201];
	const char *why = NULL;
	char *got;

	(void)state;
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	got = addr_domain_normalize(buf, &why);
	if (got != NULL || why == NULL || strcmp(why, "domain too long") != 0)
		fail_msg("long domain: got \"%s\" (%s), want NULL (domain "
			 "too long)", got ? got : "(null)", why ? why : "-");
}

/* test_status_str - every status has a name */
static void
test_status_str(void **state)
{
	(void)state;
	assert_string_equal(addr_status_str(ADDR_OK), "ok");
	assert_string_equal(addr_status_str(ADDR_EMPTY), "empty");
	assert_string_equal(addr_status_str(ADDR_SYNTAX), "syntax");
	assert_string_equal(addr_status_str(ADDR_TOO_MANY), "too many");
}

/* test_free_null - the free functions take NULL and empty structs */
static void
test_free_null(void **state)
{
	struct addr_list list = { NULL, 0 };
	struct addr_mailbox m = { NULL, NULL, NULL };

	(void)state;
	addr_list_free(NULL);
	addr_list_free(&list);
	addr_mailbox_free(NULL);
	addr_mailbox_free(&m);
}

/* test_null_why - why may be NULL */
static void
test_null_why(void **state)
{
	struct addr_list list;
	struct addr_mailbox m;
	bool is_null;
	char *d;

	(void)state;
	assert_int_equal(addr_parse_mailbox_list("x", 1, 0, &list, NULL),
			 ADDR_SYNTAX);
	assert_int_equal(addr_parse_path("<x>", 3, &m, &is_null, NULL),
			 ADDR_SYNTAX);
	d = addr_domain_normalize("-", NULL);
	assert_null(d);
	assert_int_equal(addr_parse_mailbox_list(NULL, 5, 0, &list, NULL),
			 ADDR_EMPTY);
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* add_tests - one cmocka test per table row */
static size_t
add_tests(struct CMUnitTest *t, size_t n, const char *table,
	  CMUnitTestFunction fn, const void *rows, size_t rowsize,
	  size_t nrows)
{
	size_t i;

	for (i = 0; i < nrows; i++) {
		const void *row = (const char *)rows + i * rowsize;
		/* Every row struct starts with its name. */
		const char *name = *(const char *const *)row;

		t[n].name = xasprintf("%s/%s", table, name);
		t[n].test_func = fn;
		t[n].setup_func = NULL;
		t[n].teardown_func = NULL;
		t[n].initial_state = (void *)(uintptr_t)row;
		n++;
	}
	return n;
}

/* main - register every table row and run them as one cmocka group */
int
main(void)
{
	size_t total = NELEM(list_cases) + NELEM(path_cases)
	    + NELEM(norm_cases) + NELEM(sub_cases) + 4;
	struct CMUnitTest *t = xcalloc(total, sizeof(*t));
	size_t n = 0, i;
	int rc;

	n = add_tests(t, n, "list", test_list, list_cases,
		      sizeof(list_cases[0]), NELEM(list_cases));
	n = add_tests(t, n, "path", test_path, path_cases,
		      sizeof(path_cases[0]), NELEM(path_cases));
	n = add_tests(t, n, "normalize", test_norm, norm_cases,
		      sizeof(norm_cases[0]), NELEM(norm_cases));
	n = add_tests(t, n, "subdomain", test_sub, sub_cases,
		      sizeof(sub_cases[0]), NELEM(sub_cases));
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_status_str);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_free_null);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_null_why);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_norm_long);
	rc = _cmocka_run_group_tests("addr", t, n, NULL, NULL);
	for (i = 0; i < n - 4; i++)
		free((char *)t[i].name);
	free(t);
	return rc;
}
