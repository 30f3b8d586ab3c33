/*++
 * NAME
 *	bounce_arf 3
 * SUMMARY
 *	RFC 5965 feedback report parser (see bounce_arf.h)
 *--*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bounce_arf.h"
#include "bounce_dsn.h"
#include "bounce_mime.h"

#define VALUE_MAX	1024

/* bounce_arf_parse - the fields of one feedback report */
int
bounce_arf_parse(const char *p, size_t len, struct bounce_arf *out,
		 const char **why)
{
	static const struct {
		const char *name;
		size_t	off, size;
		int	addr;
	} fields[] = {
#define F(n, m, a) {n, offsetof(struct bounce_arf, m), \
		    sizeof(((struct bounce_arf *)0)->m), a}
		F("Feedback-Type", feedback_type, 0),
		F("User-Agent", user_agent, 0),
		F("Version", version, 0),
		F("Original-Rcpt-To", original_rcpt_to, 1),
		F("Original-Mail-From", original_mail_from, 1),
		F("Source-IP", source_ip, 0),
		F("Reported-Domain", reported_domain, 0),
		F("Arrival-Date", arrival_date, 0),
		F("Reporting-MTA", reporting_mta, 0),
#undef F
	};
	struct bounce_field f;
	char val[VALUE_MAX], *dst;
	size_t pos = 0, start, rel, i;

	memset(out, 0, sizeof(*out));
	/* Some reporters put an empty line inside the report: read on. */
	while (pos < len) {
		start = pos;
		rel = 0;
		while (bounce_mime_next_field(p + start, len - start, &rel, &f)) {
			for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
				if (f.namelen != strlen(fields[i].name)
				    || strncasecmp(f.name, fields[i].name,
						   f.namelen) != 0)
					continue;
				dst = (char *)out + fields[i].off;
				if (dst[0] != '\0')
					break;	/* the first one counts */
				bounce_mime_unfold(f.value, f.valuelen, val,
						   sizeof(val));
				if (fields[i].addr)
					bounce_dsn_addr(val, dst, fields[i].size);
				else
					snprintf(dst, fields[i].size, "%s", val);
				break;
			}
		}
		if (rel == 0)
			break;
		pos = start + rel;
	}
	for (i = 0; out->feedback_type[i] != '\0'; i++)
		if (out->feedback_type[i] >= 'A' && out->feedback_type[i] <= 'Z')
			out->feedback_type[i] += 32;
	if (out->feedback_type[0] == '\0') {
		*why = "no Feedback-Type field";
		return -1;
	}
	return 0;
}
