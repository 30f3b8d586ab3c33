/*++
 * NAME
 *	auth_dmarc_record 3
 * SUMMARY
 *	DMARC policy record parser (RFC 9989)
 * DESCRIPTION
 *	See auth_dmarc_record.h. Our own parser rather than libopendmarc's
 *	opendmarc_policy_parse_dmarc(): libopendmarc 1.4.2 predates RFC 9989
 *	(no psd, np or t), needs a policy context per call and has a
 *	history of crashes on malformed records; this one is a loop over
 *	(name, value) spans with no allocation.
 *--*/
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "auth_dmarc_record.h"
#include "name_code.h"

/* rec_wsp - white space in a tag-list (folding included) */
static int
rec_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* p= and sp= words (RFC 9989 section 4.7, case-insensitive); anything
 * else is invalid: UNSET, the sentinel, which no record can spell */
static const struct name_code rec_policies[] = {
	{"none", AUTH_DMARC_P_NONE},
	{"quarantine", AUTH_DMARC_P_QUARANTINE},
	{"reject", AUTH_DMARC_P_REJECT},
	{NULL, AUTH_DMARC_P_UNSET},
};

/* rec_is - value equals word, ignoring case */
static int
rec_is(const char *v, size_t vl, const char *word)
{
	return vl == strlen(word) && strncasecmp(v, word, vl) == 0;
}

/* rec_policy - none|quarantine|reject, or UNSET when invalid */
static enum auth_dmarc_p
rec_policy(const char *v, size_t vl)
{
	return name_code_len(rec_policies, NAME_CODE_FLAG_NOCASE, v, vl);
}

/* rec_uri_valid - one RFC 3986 URI: scheme ":" and URI characters */
static int
rec_uri_valid(const char *u, size_t ul)
{
	size_t i = 0;

	if (ul == 0 || !((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z'))
		return 0;
	for (i = 1; i < ul && u[i] != ':'; i++)
		if (!(((u[i] | 0x20) >= 'a' && (u[i] | 0x20) <= 'z')
		      || (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-'
		      || u[i] == '.'))
			return 0;
	if (i >= ul - 1)		/* no ":" or nothing after it */
		return 0;
	for (i++; i < ul; i++) {
		unsigned char ch = (unsigned char)u[i];

		if (ch == '%') {
			if (i + 2 >= ul || !isxdigit((unsigned char)u[i + 1])
			    || !isxdigit((unsigned char)u[i + 2]))
				return 0;
			i += 2;
		} else if (ch <= 0x20 || ch >= 0x7f
			   || strchr("\"<>\\^`{|}", ch) != NULL) {
			return 0;
		}
	}
	return 1;
}

/*
 * rec_urilist_valid - RFC 9989 dmarc-urilist holding at least one
 * syntactically valid URI (4.10.1 needs to know). "!" is a URI
 * character (sub-delims) and RFC 7489's size suffix uses it: kept.
 */
static int
rec_urilist_valid(const char *v, size_t vl)
{
	size_t s = 0, e;

	while (s < vl) {
		size_t a, b;

		for (e = s; e < vl && v[e] != ','; e++)
			;
		for (a = s; a < e && rec_wsp(v[a]); a++)
			;
		for (b = e; b > a && rec_wsp(v[b - 1]); b--)
			;
		if (rec_uri_valid(v + a, b - a))
			return 1;
		s = e + 1;
	}
	return 0;
}

/* auth_dmarc_record_parse - see auth_dmarc_record.h */
enum auth_dmarc_rec_status
auth_dmarc_record_parse(const char *txt, size_t len,
			struct auth_dmarc_record *out, const char **why)
{
	size_t pos = 0, ntags = 0;
	const char *dummy;
	unsigned seen = 0;	/* bit per known tag: first value wins */
	unsigned bad = 0;	/* bit per p, sp, np: an invalid value seen */

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	out->p = out->sp = out->np = AUTH_DMARC_P_UNSET;
	out->p_given = false;
	out->policy_invalid = false;
	out->rua_valid = false;
	out->psd = 'u';
	out->testing = false;
	out->adkim_strict = out->aspf_strict = false;

	while (pos < len && ntags < AUTH_DMARC_TAGS_MAX) {
		size_t ns, ne, vs, ve;
		const char *n, *v;
		size_t nl, vl;
		enum auth_dmarc_p pol;

		while (pos < len && rec_wsp(txt[pos]))
			pos++;
		if (pos >= len)
			break;
		ns = pos;
		while (pos < len && txt[pos] != '=' && txt[pos] != ';')
			pos++;
		ne = pos;
		while (ne > ns && rec_wsp(txt[ne - 1]))
			ne--;
		if (pos >= len || txt[pos] != '=') {
			/* a tag without "=": malformed, skipped (or fatal first) */
			if (ntags == 0) {
				*why = "first tag is not v=DMARC1";
				return AUTH_DMARC_REC_NOT;
			}
			if (pos < len)
				pos++;
			ntags++;
			continue;
		}
		pos++;				/* "=" */
		while (pos < len && rec_wsp(txt[pos]))
			pos++;
		vs = pos;
		while (pos < len && txt[pos] != ';')
			pos++;
		ve = pos;
		while (ve > vs && rec_wsp(txt[ve - 1]))
			ve--;
		if (pos < len)
			pos++;			/* ";" */
		n = txt + ns;
		nl = ne - ns;
		v = txt + vs;
		vl = ve - vs;
		if (ntags++ == 0) {
			/* RFC 9989 4.7: v=DMARC1 first, the value exactly */
			if (!rec_is(n, nl, "v") || vl != 6 || memcmp(v, "DMARC1", 6) != 0) {
				*why = "first tag is not v=DMARC1";
				return AUTH_DMARC_REC_NOT;
			}
			continue;
		}
#define FIRST(bit) ((seen & (1u << (bit))) == 0 && (seen |= 1u << (bit)))
		if (rec_is(n, nl, "p")) {
			if ((pol = rec_policy(v, vl)) == AUTH_DMARC_P_UNSET)
				bad |= 1u << 0;
			else if (FIRST(0)) {
				out->p = pol;
				out->p_given = true;
			}
		} else if (rec_is(n, nl, "sp")) {
			if ((pol = rec_policy(v, vl)) == AUTH_DMARC_P_UNSET)
				bad |= 1u << 1;
			else if (FIRST(1))
				out->sp = pol;
		} else if (rec_is(n, nl, "np")) {
			if ((pol = rec_policy(v, vl)) == AUTH_DMARC_P_UNSET)
				bad |= 1u << 2;
			else if (FIRST(2))
				out->np = pol;
		} else if (rec_is(n, nl, "rua")) {
			if (rec_urilist_valid(v, vl))
				out->rua_valid = true;
		} else if (rec_is(n, nl, "psd")) {
			if ((rec_is(v, vl, "y") || rec_is(v, vl, "n") || rec_is(v, vl, "u"))
			    && FIRST(3))
				out->psd = (char)(v[0] | 0x20);
		} else if (rec_is(n, nl, "t")) {
			if ((rec_is(v, vl, "y") || rec_is(v, vl, "n")) && FIRST(4))
				out->testing = (v[0] | 0x20) == 'y';
		} else if (rec_is(n, nl, "adkim")) {
			if ((rec_is(v, vl, "r") || rec_is(v, vl, "s")) && FIRST(5))
				out->adkim_strict = (v[0] | 0x20) == 's';
		} else if (rec_is(n, nl, "aspf")) {
			if ((rec_is(v, vl, "r") || rec_is(v, vl, "s")) && FIRST(6))
				out->aspf_strict = (v[0] | 0x20) == 's';
		}
		/* ruf, fo, rf, ri, pct and unknown tags: ignored */
#undef FIRST
	}
	if (ntags == 0) {
		*why = "empty record";
		return AUTH_DMARC_REC_NOT;
	}
	/* RFC 9989 4.10.1: a p, sp or np tag with no valid value */
	out->policy_invalid = (bad & ~seen & 7u) != 0;
	if (!out->p_given)
		out->p = AUTH_DMARC_P_NONE;
	return AUTH_DMARC_REC_OK;
}

/* auth_dmarc_p_name - policy word for AR and log lines */
const char *
auth_dmarc_p_name(enum auth_dmarc_p p)
{
	const char *w = name_code_str(rec_policies, p);

	if (w == NULL)
		w = p == AUTH_DMARC_P_UNSET ? "unset" : "unknown";
	return w;
}
