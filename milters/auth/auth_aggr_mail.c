/*++
 * NAME
 *	auth_aggr_mail 3
 * SUMMARY
 *	a DMARC aggregate report as a file and as a message (RFC 9990 "Report Delivery")
 * DESCRIPTION
 *	See auth_aggr.h: gzip, unique-id, Report-ID, file name, the MIME
 *	message. Pure (the message takes now).
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "auth_aggr.h"
#include "buf.h"
#include "xalloc.h"

#define AM_B64_LINE	76	/* RFC 2045 6.8: at most 76 characters a line */
#define AM_FOLD		78	/* RFC 5322 2.1.1 SHOULD */

/* auth_aggr_gzip - see auth_aggr.h */
int
auth_aggr_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen,
	       const char **why)
{
	z_stream z;
	size_t cap;
	int rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer instead of zlib's; no mtime, no name */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		*why = "deflateInit2 failed";
		return -1;
	}
	cap = deflateBound(&z, (uLong)len) + 32;
	*out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		*out = xfree(*out);
		*why = "deflate did not finish";
		return -1;
	}
	return 0;
}

/* auth_aggr_unique_id - see auth_aggr.h */
void
auth_aggr_unique_id(const char *receiver, const char *policy_domain, long long begin,
		    char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char *in = xasprintf("%s!%s!%lld", receiver, policy_domain, begin);

	if (EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
		abort();	/* SHA-256 of a short string cannot fail */
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[16] = '\0';
	free(in);
}

/* auth_aggr_report_id - see auth_aggr.h */
int
auth_aggr_report_id(const char *unique_id, const char *receiver, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s@%s", unique_id, receiver);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* auth_aggr_filename - see auth_aggr.h */
int
auth_aggr_filename(const char *receiver, const char *policy_domain, long long begin,
		   long long end, const char *unique_id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s!%s!%lld!%lld!%s.xml.gz", receiver, policy_domain,
			 begin, end, unique_id);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* am_folded - "Name: w1 w2 ..." folded before a word past AM_FOLD columns */
static void
am_folded(struct buf *b, const char *name, const char *const *words, size_t n)
{
	size_t col, i;

	buf_printf(b, "%s:", name);
	col = strlen(name) + 1;
	for (i = 0; i < n; i++) {
		size_t w = strlen(words[i]);

		if (i > 0 && col + 1 + w > AM_FOLD) {
			buf_printf(b, "\n");
			col = 0;
		}
		buf_printf(b, " %s", words[i]);
		col += 1 + w;
	}
	buf_printf(b, "\n");
}

/* am_base64 - the attachment, in lines of AM_B64_LINE */
static void
am_base64(struct buf *b, const unsigned char *data, size_t len)
{
	unsigned char line[AM_B64_LINE + 1];
	size_t i, chunk = AM_B64_LINE / 4 * 3;

	for (i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;

		EVP_EncodeBlock(line, data + i, (int)n);
		buf_printf(b, "%s\n", (const char *)line);
	}
}

/* auth_aggr_message - see auth_aggr.h */
char *
auth_aggr_message(const struct auth_aggr_mail *m, size_t *len)
{
	struct buf *b = buf_new(AUTH_AGGR_TEXT_MAX);
	char date[64], rid[300], begin[32], end[32], boundary[80];
	const char *subject[] = {"Report", "Domain:", m->policy_domain, "Submitter:",
				 m->receiver, rid};
	struct tm tm;
	time_t t;
	size_t i;

	gmtime_r(&m->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	t = (time_t)m->begin;
	gmtime_r(&t, &tm);
	strftime(begin, sizeof(begin), "%Y-%m-%d %H:%M:%S", &tm);
	t = (time_t)m->end;
	gmtime_r(&t, &tm);
	strftime(end, sizeof(end), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(rid, sizeof(rid), "Report-ID: <%s>", m->report_id);
	/* the unique-id: hex digits, never in the base64 or the text part */
	snprintf(boundary, sizeof(boundary), "=_postmill_%.*s",
		 (int)strcspn(m->report_id, "@"), m->report_id);
	buf_printf(b, "From: %s\n", m->from);
	for (i = 0; i < m->nto; i++)
		buf_printf(b, "%s %s%s\n", i == 0 ? "To:" : "", m->to[i],
		       i + 1 < m->nto ? "," : "");
	am_folded(b, "Subject", subject, sizeof(subject) / sizeof(subject[0]));
	buf_printf(b, "Date: %s\nMessage-ID: <%s>\nAuto-Submitted: auto-generated\n"
	       "MIME-Version: 1.0\nContent-Type: multipart/mixed;\n"
	       " boundary=\"%s\"\n\nThis is a MIME message.\n\n", date, m->report_id,
	       boundary);
	buf_printf(b, "--%s\nContent-Type: text/plain; charset=us-ascii\n"
	       "Content-Transfer-Encoding: 7bit\n\n"
	       "This is a DMARC aggregate report (RFC 9990) for %s\n"
	       "from %s,\n%s.\n\n"
	       "Period: %s to %s UTC\nMessages: %llu in %zu rows\n\n"
	       "The report is the attached file\n%s\n\n",
	       boundary, m->policy_domain, m->receiver, rid, begin, end, m->messages,
	       m->rows, m->filename);
	buf_printf(b, "--%s\nContent-Type: application/gzip;\n name=\"%s\"\n"
	       "Content-Transfer-Encoding: base64\n"
	       "Content-Disposition: attachment;\n filename=\"%s\"\n\n",
	       boundary, m->filename, m->filename);
	am_base64(b, m->gz, m->gzlen);
	buf_printf(b, "\n--%s--\n", boundary);
	if (buf_failed(b)) {
		buf_free(b);
		*len = 0;
		return NULL;
	}
	return buf_export(b, len);
}
