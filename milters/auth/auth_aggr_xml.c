/*++
 * NAME
 *	auth_aggr_xml 3
 * SUMMARY
 *	the XML document of one DMARC aggregate report (RFC 9990 "Aggregate Reports")
 * DESCRIPTION
 *	See auth_aggr.h. The element order is the schema's (Appendix A):
 *	the sequences of feedback, record, row, policy_evaluated and
 *	auth_results (dkim elements before spf) are ordered there.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_aggr.h"
#include "buf.h"
#include "xalloc.h"

/* ax_utf8_ok - is s valid UTF-8 (RFC 3629: no overlongs, no surrogates) */
static bool
ax_utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s, n, cp, i;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += n + 1;
	}
	return true;
}

/* auth_aggr_escape - see auth_aggr.h */
size_t
auth_aggr_escape(const char *s, char *out, size_t size)
{
	bool utf8 = ax_utf8_ok((const unsigned char *)s), full = false;
	size_t k = 0, w = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *rep = NULL;
		char one[2] = {(char)c, 0};
		size_t n;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			/* XML 1.0 2.2: no C0 controls but TAB, LF, CR */
			if ((c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && !utf8))
				one[0] = '?';
			rep = one;
			break;
		}
		n = strlen(rep);
		/* whole entities only: after the first piece that does not fit,
		 * nothing more is written */
		if (!full && w + n < size) {
			memcpy(out + w, rep, n);
			w += n;
		} else {
			full = true;
		}
		k += n;
	}
	if (size > 0)
		out[w] = '\0';
	return k;
}

/* ax_text - append <name>escaped text</name> */
static void
ax_text(struct buf *b, const char *indent, const char *name, const char *text)
{
	size_t n = auth_aggr_escape(text, NULL, 0);
	char *e = xmalloc(n + 1);

	auth_aggr_escape(text, e, n + 1);
	buf_printf(b, "%s<%s>%s</%s>\n", indent, name, e, name);
	free(e);
}

/* ax_record - one record element */
static void
ax_record(struct buf *b, const struct auth_record_row *r, unsigned long long count)
{
	size_t i;

	buf_printf(b, "  <record>\n    <row>\n");
	ax_text(b, "      ", "source_ip", r->source_ip);
	buf_printf(b, "      <count>%llu</count>\n      <policy_evaluated>\n", count);
	ax_text(b, "        ", "disposition", r->disposition);
	buf_printf(b, "        <dkim>%s</dkim>\n        <spf>%s</spf>\n",
	       r->dkim_aligned ? "pass" : "fail", r->spf_aligned ? "pass" : "fail");
	if (r->reason[0]) {
		buf_printf(b, "        <reason>\n");
		ax_text(b, "          ", "type", r->reason);
		if (r->comment[0])
			ax_text(b, "          ", "comment", r->comment);
		buf_printf(b, "        </reason>\n");
	}
	buf_printf(b, "      </policy_evaluated>\n    </row>\n    <identifiers>\n");
	ax_text(b, "      ", "header_from", r->header_from);
	/* RFC 9990 "identifiers": may be present and empty for the null reverse-path */
	ax_text(b, "      ", "envelope_from", r->envelope_from);
	buf_printf(b, "    </identifiers>\n    <auth_results>\n");
	for (i = 0; i < r->ndkim; i++) {
		buf_printf(b, "      <dkim>\n");
		ax_text(b, "        ", "domain", r->dkim[i].domain);
		ax_text(b, "        ", "selector", r->dkim[i].selector);
		ax_text(b, "        ", "result", r->dkim[i].result);
		buf_printf(b, "      </dkim>\n");
	}
	if (r->spf_result[0]) {
		buf_printf(b, "      <spf>\n");
		ax_text(b, "        ", "domain", r->spf_domain);
		buf_printf(b, "        <scope>mfrom</scope>\n");
		ax_text(b, "        ", "result", r->spf_result);
		buf_printf(b, "      </spf>\n");
	}
	buf_printf(b, "    </auth_results>\n  </record>\n");
}

struct auth_aggr_doc {
	struct buf *b;
};

/* auth_aggr_doc_new - the document up to the first record */
struct auth_aggr_doc *
auth_aggr_doc_new(const struct auth_aggr_meta *m, const struct auth_record_policy *pol)
{
	struct auth_aggr_doc *doc = xcalloc(1, sizeof(*doc));
	struct buf *b = doc->b = buf_new(AUTH_AGGR_TEXT_MAX);

	buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
	       "  <version>1.0</version>\n  <report_metadata>\n");
	ax_text(b, "    ", "org_name", m->org_name);
	ax_text(b, "    ", "email", m->email);
	ax_text(b, "    ", "report_id", m->report_id);
	buf_printf(b, "    <date_range>\n      <begin>%lld</begin>\n      <end>%lld</end>\n"
	       "    </date_range>\n", m->begin, m->end);
	if (m->generator != NULL)
		ax_text(b, "    ", "generator", m->generator);
	buf_printf(b, "  </report_metadata>\n  <policy_published>\n");
	ax_text(b, "    ", "domain", pol->domain);
	buf_printf(b, "    <discovery_method>%s</discovery_method>\n",
	       pol->psl ? "psl" : "treewalk");
	ax_text(b, "    ", "p", pol->p);
	ax_text(b, "    ", "sp", pol->sp);
	ax_text(b, "    ", "np", pol->np);
	buf_printf(b, "    <adkim>%c</adkim>\n    <aspf>%c</aspf>\n    <testing>%c</testing>\n"
	       "  </policy_published>\n", pol->adkim, pol->aspf, pol->testing);
	return doc;
}

/* auth_aggr_doc_record - one record */
void
auth_aggr_doc_record(struct auth_aggr_doc *doc, const struct auth_record_row *row,
		     unsigned long long count)
{
	ax_record(doc->b, row, count);
}

/* auth_aggr_doc_end - close the document; frees doc, returns the text */
char *
auth_aggr_doc_end(struct auth_aggr_doc *doc, size_t *len)
{
	struct buf *b = doc->b;

	free(doc);
	buf_printf(b, "</feedback>\n");
	if (buf_failed(b)) {
		buf_free(b);
		*len = 0;
		return NULL;
	}
	return buf_export(b, len);
}

/* auth_aggr_xml - see auth_aggr.h */
char *
auth_aggr_xml(const struct auth_aggr_meta *m, const struct auth_record_policy *pol,
	      const struct auth_aggr_row *rows, size_t nrows, size_t *len)
{
	struct auth_aggr_doc *doc = auth_aggr_doc_new(m, pol);
	size_t i;

	for (i = 0; i < nrows; i++)
		auth_aggr_doc_record(doc, &rows[i].row, rows[i].count);
	return auth_aggr_doc_end(doc, len);
}
