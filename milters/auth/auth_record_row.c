/*++
 * NAME
 *	auth_record_row 3
 * SUMMARY
 *	one aggregate-report row of a message: build, write, read back
 * DESCRIPTION
 *	See auth_record.h. Pure: no I/O, no clock, no globals.
 *--*/
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth_record.h"

#define AR_FIELDS	12	/* of a row line */
#define AR_PFIELDS	8	/* of a policy line */

static const char *const ar_dispositions[] = {"none", "pass", "quarantine", "reject", NULL};
static const char *const ar_reasons[] = {"", "local_policy", "mailing_list", "other",
					 "policy_test_mode", "trusted_forwarder", NULL};
static const char *const ar_spf_results[] = {"", "none", "neutral", "pass", "fail",
					     "softfail", "temperror", "permerror", NULL};
static const char *const ar_dkim_results[] = {"none", "pass", "fail", "policy", "neutral",
					      "temperror", "permerror", NULL};
static const char *const ar_policies[] = {"none", "quarantine", "reject", NULL};

/* ar_in - is s one of the words */
static bool
ar_in(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* ar_copy - bounded copy of a C string */
static void
ar_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* ar_p - a policy word; unset ones take the fallback */
static const char *
ar_p(enum auth_dmarc_p p, const char *fallback)
{
	return p == AUTH_DMARC_P_UNSET ? fallback : auth_dmarc_p_name(p);
}

/* ar_dkim_rank - RFC 9990 "DKIM Signatures in Aggregate Reports" order: lower goes first */
static int
ar_dkim_rank(const struct auth_dkim_sig *s, const struct auth_record_in *in)
{
	if (s->res != AUTH_DKIM_PASS)
		return 3;
	if (strcasecmp(s->domain, in->from_domain) == 0)
		return 0;
	if (in->dmarc->dkim_aligned && strcasecmp(s->domain, in->dmarc->dkim_domain) == 0)
		return 1;
	return 2;
}

/* ar_reason - the override reason of a verdict, if any */
static void
ar_reason(const struct auth_record_in *in, struct auth_record_row *row)
{
	const struct auth_verdict *v = in->verdict;
	const char *type = "", *comment = "";

	switch (v->reason) {
	case AUTH_R_DMARC_TESTING:
		type = "policy_test_mode", comment = "t=y";
		break;
	case AUTH_R_TRUSTED_FORWARDER:
		type = "trusted_forwarder";
		break;
	case AUTH_R_TRUSTED_SENDER:
		type = "local_policy", comment = "trusted sender";
		break;
	case AUTH_R_SPF_FAIL:
		type = "local_policy", comment = "SPF fail rejected";
		break;
	default:
		if (in->dmarc_res == AUTH_DMARC_PASS && in->dmarc->res != AUTH_DMARC_PASS)
			type = "local_policy", comment = "trusted upstream dmarc=pass";
		break;
	}
	if (in->dry_run && v->would != v->action)
		type = "local_policy", comment = "dry run";
	ar_copy(row->reason, sizeof(row->reason), type);
	ar_copy(row->comment, sizeof(row->comment), comment);
}

/* auth_record_build - see auth_record.h */
bool
auth_record_build(const struct auth_record_in *in, struct auth_record_row *row,
		  struct auth_record_policy *pol)
{
	const struct auth_dmarc_result *d = in->dmarc;
	const struct auth_dkim_sig *order[AUTH_DKIM_SIGS_MAX];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *at;
	size_t i, n = 0;
	int rank;

	memset(row, 0, sizeof(*row));
	memset(pol, 0, sizeof(*pol));
	if (d == NULL || !d->record_found || in->verdict->action == AUTH_ACT_TEMPFAIL
	    || in->client_ip == NULL || in->from_domain == NULL || *in->from_domain == '\0')
		return false;
	if (inet_pton(AF_INET, in->client_ip, buf) != 1
	    && inet_pton(AF_INET6, in->client_ip, buf) != 1)
		return false;
	ar_copy(row->source_ip, sizeof(row->source_ip), in->client_ip);
	ar_copy(row->header_from, sizeof(row->header_from), in->from_domain);
	switch (in->verdict->action) {
	case AUTH_ACT_REJECT:
		ar_copy(row->disposition, sizeof(row->disposition), "reject");
		break;
	case AUTH_ACT_QUARANTINE:
		ar_copy(row->disposition, sizeof(row->disposition), "quarantine");
		break;
	default:
		ar_copy(row->disposition, sizeof(row->disposition),
			in->dmarc_res == AUTH_DMARC_PASS && d->policy > AUTH_DMARC_P_NONE
			? "pass" : "none");
		break;
	}
	row->dkim_aligned = d->dkim_aligned;
	row->spf_aligned = d->spf_aligned;
	ar_reason(in, row);
	if (in->spf != NULL && in->spf->done) {
		const char *dom = "";
		const struct spf_outcome *o = auth_spf_identity(in->spf, &dom);

		if (!in->spf->null_sender && (at = strrchr(in->spf->mail_from, '@')) != NULL)
			ar_copy(row->envelope_from, sizeof(row->envelope_from), at + 1);
		for (i = 0; row->envelope_from[i]; i++)
			if (row->envelope_from[i] >= 'A' && row->envelope_from[i] <= 'Z')
				row->envelope_from[i] += 'a' - 'A';
		if (*dom) {
			ar_copy(row->spf_domain, sizeof(row->spf_domain), dom);
			ar_copy(row->spf_result, sizeof(row->spf_result),
				spf_result_name(o->result));
		}
	}
	/* stable selection by rank: at most 32 signatures, 4 passes */
	for (rank = 0; rank < 4; rank++)
		for (i = 0; i < in->nsigs && i < AUTH_DKIM_SIGS_MAX; i++)
			if (ar_dkim_rank(&in->sigs[i], in) == rank)
				order[n++] = &in->sigs[i];
	for (i = 0; i < n && row->ndkim < AUTH_RECORD_SIGS_MAX; i++) {
		struct auth_record_dkim *k = &row->dkim[row->ndkim];

		if (order[i]->domain[0] == '\0')
			continue;	/* no d=: nothing a report can name */
		ar_copy(k->domain, sizeof(k->domain), order[i]->domain);
		ar_copy(k->selector, sizeof(k->selector), order[i]->selector);
		ar_copy(k->result, sizeof(k->result), auth_dkim_res_name(order[i]->res));
		row->ndkim++;
	}
	ar_copy(pol->domain, sizeof(pol->domain), d->record_domain);
	ar_copy(pol->p, sizeof(pol->p), auth_dmarc_p_name(d->rec.p));
	ar_copy(pol->sp, sizeof(pol->sp), ar_p(d->rec.sp, pol->p));
	ar_copy(pol->np, sizeof(pol->np), ar_p(d->rec.np, pol->sp));
	pol->adkim = d->rec.adkim_strict ? 's' : 'r';
	pol->aspf = d->rec.aspf_strict ? 's' : 'r';
	pol->testing = d->rec.testing ? 'y' : 'n';
	pol->psl = in->psl;
	return pol->domain[0] != '\0';
}

/* ar_put - append s percent-encoded; false when it does not fit */
static bool
ar_put(char *buf, size_t size, size_t *k, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && strchr("%|/,", c) == NULL) {
			if (*k + 1 >= size)
				return false;
			buf[(*k)++] = (char)c;
		} else {
			if (*k + 3 >= size)
				return false;
			buf[(*k)++] = '%';
			buf[(*k)++] = hex[c >> 4];
			buf[(*k)++] = hex[c & 15];
		}
	}
	buf[*k] = '\0';
	return true;
}

/* ar_raw - append a separator or a fixed word */
static bool
ar_raw(char *buf, size_t size, size_t *k, const char *s)
{
	size_t n = strlen(s);

	if (*k + n >= size)
		return false;
	memcpy(buf + *k, s, n + 1);
	*k += n;
	return true;
}

/* auth_record_row_format - see auth_record.h */
int
auth_record_row_format(const struct auth_record_row *r, char *buf, size_t size)
{
	const char *fields[] = {
		r->source_ip, r->header_from, r->envelope_from, r->disposition,
		r->dkim_aligned ? "pass" : "fail", r->spf_aligned ? "pass" : "fail",
		r->reason, r->comment, r->spf_domain, r->spf_result,
	};
	size_t k = 0, i;
	bool ok;

	if (size == 0)
		return -1;
	ok = ar_raw(buf, size, &k, "1");
	for (i = 0; ok && i < sizeof(fields) / sizeof(fields[0]); i++)
		ok = ar_raw(buf, size, &k, "|") && ar_put(buf, size, &k, fields[i]);
	ok = ok && ar_raw(buf, size, &k, "|");
	for (i = 0; ok && i < r->ndkim; i++)
		ok = (i == 0 || ar_raw(buf, size, &k, ","))
		    && ar_put(buf, size, &k, r->dkim[i].domain)
		    && ar_raw(buf, size, &k, "/")
		    && ar_put(buf, size, &k, r->dkim[i].selector)
		    && ar_raw(buf, size, &k, "/")
		    && ar_put(buf, size, &k, r->dkim[i].result);
	if (!ok) {
		buf[0] = '\0';
		return -1;
	}
	return (int)k;
}

/* ar_hexval - one hex digit, or -1 */
static int
ar_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * ar_get - decode text[0..len) into out (size bytes, NUL-terminated);
 * -1 on a bad escape, a raw byte that should have been escaped, a
 * decoded NUL or control, or when it does not fit.
 */
static int
ar_get(const char *text, size_t len, char *out, size_t size)
{
	size_t i, k = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		int hi, lo;

		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = ar_hexval(text[i + 1])) < 0 || (lo = ar_hexval(text[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			if (c < 0x20 || c == 0x7f)
				return -1;	/* nothing we write needs a control */
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f || strchr("|/,", c) != NULL) {
			return -1;
		}
		if (k + 1 >= size)
			return -1;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

/* ar_split - cut text at sep into at most max pieces; count, or -1 if more */
static int
ar_split(const char *text, size_t len, char sep, const char **p, size_t *plen, int max)
{
	int n = 0;
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || text[i] == sep) {
			if (n == max)
				return -1;
			p[n] = text + start;
			plen[n++] = i - start;
			start = i + 1;
		}
	}
	return n;
}

/* ar_pf - a "pass"/"fail" field */
static int
ar_pf(const char *s, bool *out)
{
	if (strcmp(s, "pass") == 0)
		*out = true;
	else if (strcmp(s, "fail") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* auth_record_row_parse - see auth_record.h */
int
auth_record_row_parse(const char *text, size_t len, struct auth_record_row *r,
		      const char **why)
{
	const char *f[AR_FIELDS], *d[AUTH_RECORD_SIGS_MAX], *part[3];
	size_t fl[AR_FIELDS], dl[AUTH_RECORD_SIGS_MAX], pl[3];
	char pf[8], pf2[8];
	unsigned char ip[sizeof(struct in6_addr)];
	int nd, i;

	memset(r, 0, sizeof(*r));
	*why = "bad row";
	if (len > AUTH_RECORD_ROW_MAX) {
		*why = "row too long";
		return -1;
	}
	if (ar_split(text, len, '|', f, fl, AR_FIELDS) != AR_FIELDS) {
		*why = "not 12 fields";
		return -1;
	}
	if (fl[0] != 1 || f[0][0] != '1') {
		*why = "unknown row version";
		return -1;
	}
	if (ar_get(f[1], fl[1], r->source_ip, sizeof(r->source_ip)) < 0
	    || (inet_pton(AF_INET, r->source_ip, ip) != 1
		&& inet_pton(AF_INET6, r->source_ip, ip) != 1)) {
		*why = "bad source_ip";
		return -1;
	}
	if (ar_get(f[2], fl[2], r->header_from, sizeof(r->header_from)) < 0
	    || r->header_from[0] == '\0'
	    || ar_get(f[3], fl[3], r->envelope_from, sizeof(r->envelope_from)) < 0) {
		*why = "bad identifiers";
		return -1;
	}
	if (ar_get(f[4], fl[4], r->disposition, sizeof(r->disposition)) < 0
	    || !ar_in(r->disposition, ar_dispositions)
	    || ar_get(f[5], fl[5], pf, sizeof(pf)) < 0 || ar_pf(pf, &r->dkim_aligned) < 0
	    || ar_get(f[6], fl[6], pf2, sizeof(pf2)) < 0 || ar_pf(pf2, &r->spf_aligned) < 0
	    || ar_get(f[7], fl[7], r->reason, sizeof(r->reason)) < 0
	    || !ar_in(r->reason, ar_reasons)
	    || ar_get(f[8], fl[8], r->comment, sizeof(r->comment)) < 0) {
		*why = "bad policy_evaluated";
		return -1;
	}
	if (ar_get(f[9], fl[9], r->spf_domain, sizeof(r->spf_domain)) < 0
	    || ar_get(f[10], fl[10], r->spf_result, sizeof(r->spf_result)) < 0
	    || !ar_in(r->spf_result, ar_spf_results)
	    || (r->spf_result[0] != '\0') != (r->spf_domain[0] != '\0')) {
		*why = "bad spf result";
		return -1;
	}
	if (fl[11] == 0)
		return 0;
	if ((nd = ar_split(f[11], fl[11], ',', d, dl, AUTH_RECORD_SIGS_MAX)) < 0) {
		*why = "too many dkim results";
		return -1;
	}
	for (i = 0; i < nd; i++) {
		struct auth_record_dkim *k = &r->dkim[i];

		if (ar_split(d[i], dl[i], '/', part, pl, 3) != 3
		    || ar_get(part[0], pl[0], k->domain, sizeof(k->domain)) < 0
		    || k->domain[0] == '\0'
		    || ar_get(part[1], pl[1], k->selector, sizeof(k->selector)) < 0
		    || ar_get(part[2], pl[2], k->result, sizeof(k->result)) < 0
		    || !ar_in(k->result, ar_dkim_results)) {
			*why = "bad dkim result";
			return -1;
		}
	}
	r->ndkim = (size_t)nd;
	return 0;
}

/* auth_record_policy_format - see auth_record.h */
int
auth_record_policy_format(const struct auth_record_policy *p, char *buf, size_t size)
{
	int n = snprintf(buf, size, "1|%s|%s|%s|%c|%c|%c|%s", p->p, p->sp, p->np,
			 p->adkim, p->aspf, p->testing, p->psl ? "psl" : "treewalk");

	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return n;
}

/* auth_record_policy_parse - see auth_record.h; domain is not part of it */
int
auth_record_policy_parse(const char *text, size_t len, struct auth_record_policy *p,
			 const char **why)
{
	const char *f[AR_PFIELDS];
	size_t fl[AR_PFIELDS];
	char one[4][12];
	int i;

	memset(p, 0, sizeof(*p));
	*why = "bad policy";
	if (len > AUTH_RECORD_POLICY_MAX
	    || ar_split(text, len, '|', f, fl, AR_PFIELDS) != AR_PFIELDS
	    || fl[0] != 1 || f[0][0] != '1')
		return -1;
	if (ar_get(f[1], fl[1], p->p, sizeof(p->p)) < 0 || !ar_in(p->p, ar_policies)
	    || ar_get(f[2], fl[2], p->sp, sizeof(p->sp)) < 0 || !ar_in(p->sp, ar_policies)
	    || ar_get(f[3], fl[3], p->np, sizeof(p->np)) < 0 || !ar_in(p->np, ar_policies))
		return -1;
	for (i = 0; i < 4; i++)
		if (ar_get(f[4 + i], fl[4 + i], one[i], sizeof(one[i])) < 0)
			return -1;
	if ((strcmp(one[0], "r") && strcmp(one[0], "s"))
	    || (strcmp(one[1], "r") && strcmp(one[1], "s"))
	    || (strcmp(one[2], "y") && strcmp(one[2], "n"))
	    || (strcmp(one[3], "psl") && strcmp(one[3], "treewalk")))
		return -1;
	p->adkim = one[0][0];
	p->aspf = one[1][0];
	p->testing = one[2][0];
	p->psl = one[3][0] == 'p';
	return 0;
}

/* auth_record_day - YYYYMMDD of now, UTC */
void
auth_record_day(time_t now, char out[9])
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || strftime(out, 9, "%Y%m%d", &tm) != 8)
		snprintf(out, 9, "00000000");
}
