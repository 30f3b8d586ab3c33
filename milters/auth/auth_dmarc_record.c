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
#include <string.h>
#include <strings.h>

#include "auth_dmarc_record.h"

/* rec_wsp - white space in a tag-list (folding included) */
static int
rec_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

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
	if (rec_is(v, vl, "none"))
		return AUTH_DMARC_P_NONE;
	if (rec_is(v, vl, "quarantine"))
		return AUTH_DMARC_P_QUARANTINE;
	if (rec_is(v, vl, "reject"))
		return AUTH_DMARC_P_REJECT;
	return AUTH_DMARC_P_UNSET;
}

/* auth_dmarc_record_parse - see auth_dmarc_record.h */
enum auth_dmarc_rec_status
auth_dmarc_record_parse(const char *txt, size_t len,
			struct auth_dmarc_record *out, const char **why)
{
	size_t pos = 0, ntags = 0;
	const char *dummy;
	unsigned seen = 0;	/* bit per known tag: first value wins */

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	out->p = out->sp = out->np = AUTH_DMARC_P_UNSET;
	out->p_given = false;
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
			if ((pol = rec_policy(v, vl)) != AUTH_DMARC_P_UNSET && FIRST(0)) {
				out->p = pol;
				out->p_given = true;
			}
		} else if (rec_is(n, nl, "sp")) {
			if ((pol = rec_policy(v, vl)) != AUTH_DMARC_P_UNSET && FIRST(1))
				out->sp = pol;
		} else if (rec_is(n, nl, "np")) {
			if ((pol = rec_policy(v, vl)) != AUTH_DMARC_P_UNSET && FIRST(2))
				out->np = pol;
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
		/* rua, ruf, fo, rf, ri, pct and unknown tags: ignored */
#undef FIRST
	}
	if (ntags == 0) {
		*why = "empty record";
		return AUTH_DMARC_REC_NOT;
	}
	if (!out->p_given)
		out->p = AUTH_DMARC_P_NONE;
	return AUTH_DMARC_REC_OK;
}

/* auth_dmarc_p_name - policy word for AR and log lines */
const char *
auth_dmarc_p_name(enum auth_dmarc_p p)
{
	switch (p) {
	case AUTH_DMARC_P_UNSET: return "unset";
	case AUTH_DMARC_P_NONE: return "none";
	case AUTH_DMARC_P_QUARANTINE: return "quarantine";
	case AUTH_DMARC_P_REJECT: return "reject";
	}
	return "unknown";
}
