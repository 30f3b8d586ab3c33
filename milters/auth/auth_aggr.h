/*++
 * NAME
 *	auth_aggr 3h
 * SUMMARY
 *	DMARC aggregate reports (RFC 9990): the document, its file, its
 *	message, and the rua destinations
 * SYNOPSIS
 *	#include "auth_aggr.h"
 * DESCRIPTION
 *	The pure half of "postmillctl dmarc report" (tools/postmillctl/
 *	ctl_dmarc.c does the Redis, DNS and sendmail I/O).
 *
 *	auth_aggr_xml() writes one report (RFC 9990 "Aggregate Reports", the schema
 *	of its Appendix A, namespace urn:ietf:params:xml:ns:dmarc-2.0):
 *	version 1.0; report_metadata (org_name, email, report_id,
 *	date_range, generator); policy_published (domain,
 *	discovery_method, p, sp, np, adkim, aspf, testing: the values in
 *	effect, defaults filled in as "policy_published" says); one record per row,
 *	with its count. Text is escaped for XML (& < > " '); a value that is
 *	not valid UTF-8 has its non-ASCII bytes replaced by '?', so the
 *	document always parses. Rows come out in the order given. Returns
 *	the document (caller frees), its length in *len. The same document
 *	one record at a time, so that a domain with many rows never needs
 *	them all parsed at once: auth_aggr_doc_new() (metadata and policy),
 *	auth_aggr_doc_record() per row, auth_aggr_doc_end() (frees the
 *	handle, returns the text as auth_aggr_xml()). A document that would
 *	pass AUTH_AGGR_TEXT_MAX bytes gives NULL (and *len 0): no receiver
 *	takes a report that large, and a cut one would not parse.
 *
 *	auth_aggr_escape() is that escaping into out (size bytes, always
 *	NUL-terminated); returns the length it needed (as snprintf).
 *
 *	auth_aggr_gzip() compresses with zlib into a gzip member (RFC 1952,
 *	mtime 0: the same report gives the same bytes); caller frees *out.
 *
 *	auth_aggr_unique_id() is the report's unique-id: 16 lowercase hex
 *	digits of SHA-256 over receiver, policy domain and begin, so a report
 *	sent again has the same file name and Report-ID ("Email": a re-sent
 *	report MUST use the same filename). auth_aggr_report_id() is
 *	"UNIQUEID@RECEIVER" ("Definition of Report-ID", ridfmt). auth_aggr_filename() is
 *	"receiver!policy-domain!begin!end!unique-id.xml.gz" ("Email").
 *
 *	auth_aggr_message() writes the RFC 5322 / MIME message ("Email"):
 *	From, To (each address), Subject "Report Domain: D Submitter: R
 *	Report-ID: <ID>" folded at its spaces, Date (now), Message-ID
 *	<ID>, Auto-Submitted: auto-generated (RFC 3834), multipart/mixed
 *	with a short text/plain part and the report as application/gzip
 *	(base64, the file name in Content-Disposition and Content-Type).
 *	Lines end in LF, as sendmail(1) takes them. Caller frees; NULL past
 *	AUTH_AGGR_TEXT_MAX bytes, as for the document.
 *
 *	auth_aggr_rua_parse() reads the rua tag of a DMARC record (text, len
 *	bytes, untrusted) into at most max URIs: the record must start with
 *	v=DMARC1 (RFC 9989 4.7); rua is a comma-separated list; only mailto:
 *	URIs are used (the only scheme RFC 9990 defines), others and
 *	malformed ones are skipped ("Report Delivery": "SHOULD be ignored"). A URI may end
 *	in "!" SIZE with an optional unit k, m, g or t (RFC 7489 6.2, still
 *	published by many domains): the report is not sent to that URI when
 *	the message is larger. %XX escapes in the address are decoded.
 *	Returns the count, 0 when the record has no usable rua, -1 when it is
 *	not a DMARC record (*why). auth_aggr_is_dmarc1() says whether a TXT
 *	record starts with the v=DMARC1 tag (RFC 9990 section 4, step 6).
 * THREAD SAFETY
 *	Reentrant.
 *--*/
#ifndef POSTMILL_AUTH_AGGR_H
#define POSTMILL_AUTH_AGGR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth_record.h"

#define AUTH_AGGR_URIS_MAX	10
/* the longest report document or message we write (a report is gzipped
 * and mailed: receivers cap them at a few MB, the "!10m" of rua) */
#define AUTH_AGGR_TEXT_MAX	(256 * 1024 * 1024)
#define AUTH_AGGR_ADDR_MAX	320

struct auth_aggr_meta {
	const char	*org_name;
	const char	*email;
	const char	*report_id;
	const char	*generator;
	long long	 begin;		/* seconds since the epoch, UTC */
	long long	 end;
};

struct auth_aggr_row {
	struct auth_record_row row;
	unsigned long long count;
};

struct auth_aggr_uri {
	char		 addr[AUTH_AGGR_ADDR_MAX + 1];	/* decoded addr-spec */
	char		 host[ADDR_DOMAIN_MAX + 1];	/* its domain, lowercase */
	unsigned long long max_size;			/* 0: no limit */
};

struct auth_aggr_mail {
	const char	*from;
	const char	*const *to;
	size_t		 nto;
	const char	*policy_domain;
	const char	*receiver;
	const char	*report_id;
	const char	*filename;
	const unsigned char *gz;
	size_t		 gzlen;
	long long	 begin, end;
	unsigned long long messages;
	size_t		 rows;
	time_t		 now;
};

char	*auth_aggr_xml(const struct auth_aggr_meta *m,
		       const struct auth_record_policy *pol,
		       const struct auth_aggr_row *rows, size_t nrows,
		       size_t *len);
struct auth_aggr_doc;
struct auth_aggr_doc *auth_aggr_doc_new(const struct auth_aggr_meta *m,
				       const struct auth_record_policy *pol);
void	auth_aggr_doc_record(struct auth_aggr_doc *doc,
			     const struct auth_record_row *row,
			     unsigned long long count);
char	*auth_aggr_doc_end(struct auth_aggr_doc *doc, size_t *len);
size_t	auth_aggr_escape(const char *s, char *out, size_t size);
int	auth_aggr_gzip(const char *data, size_t len, unsigned char **out,
		       size_t *outlen, const char **why);
void	auth_aggr_unique_id(const char *receiver, const char *policy_domain,
			    long long begin, char out[17]);
int	auth_aggr_report_id(const char *unique_id, const char *receiver,
			    char *buf, size_t size);
int	auth_aggr_filename(const char *receiver, const char *policy_domain,
			   long long begin, long long end,
			   const char *unique_id, char *buf, size_t size);
char	*auth_aggr_message(const struct auth_aggr_mail *m, size_t *len);
int	auth_aggr_rua_parse(const char *text, size_t len,
			    struct auth_aggr_uri *out, size_t max,
			    const char **why);
bool	auth_aggr_is_dmarc1(const char *text, size_t len);

#endif
