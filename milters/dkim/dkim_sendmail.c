/*++
 * NAME
 *	dkim_sendmail 3
 * SUMMARY
 *	sign address fields in the form Sendmail will send them
 * DESCRIPTION
 *	Sendmail writes every address field out again after the milters ran
 *	(dkim_smaddr.h). dkim_msg_sendmail() runs at end of header, when the
 *	MTA is Sendmail: each address field of the message is replaced, in
 *	the message state, by the form Sendmail will send, and that is what
 *	gets signed; dkim_milter.c then also changes the field in the
 *	message (smfi_chgheader) so that the queue file holds the same text
 *	and every mailer, local delivery included, writes it unchanged (the
 *	form is a fixed point of Sendmail's rewriting). A field whose form
 *	cannot be predicted is left out of the signature (its name leaves
 *	h=: RFC 6376 5.4 selects fields by name, not by instance) and the
 *	reason is logged; it returns true when that field is From, which
 *	makes the message unsignable (dkim_policy.c).
 *
 *	dkim_msg_sign_names() filters a name list (dkim_sign_headers,
 *	dkim_oversign_headers) by the names left out.
 * THREAD SAFETY
 *	Per-message state only.
 *--*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "dkim.h"
#include "dkim_smaddr.h"
#include "log.h"
#include "xalloc.h"

/* dkim_msg_unsign - remember a name left out of h= (once) */
static void
dkim_msg_unsign(struct dkim_msg *msg, const char *name, size_t len)
{
	char *lc;

	for (size_t i = 0; i < msg->n_unsigned; i++)
		if (strlen(msg->unsigned_names[i]) == len
		    && strncasecmp(msg->unsigned_names[i], name, len) == 0)
			return;
	lc = xstrndup(name, len);
	for (char *p = lc; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	msg->unsigned_names = xrealloc(msg->unsigned_names,
				       (msg->n_unsigned + 1) * sizeof(char *));
	msg->unsigned_names[msg->n_unsigned++] = lc;
}

/* dkim_msg_sendmail - address fields into Sendmail's form; true: From refused */
bool
dkim_msg_sendmail(struct dkim_msg *msg, const char *j, const char *masq,
		  const char *qid)
{
	bool from_refused = false, rcpt;
	unsigned flags = DKIM_SMADDR_OLD_STYLE;
	const char *why;

	if (msg->nfields > 0 && msg->smformed == NULL)
		msg->smformed = xcalloc(msg->nfields, sizeof(bool));
	if (masq != NULL && *masq != '\0')
		flags |= DKIM_SMADDR_MASQUERADE;
	/* chompheader(): one address field with ",(<;" ends old-style lists */
	for (size_t i = 0; i < msg->nfields; i++) {
		const struct dkim_header_field *f = &msg->fields[i];
		enum dkim_smaddr_status k = dkim_sendmail_addr_field(f->name, f->name_len,
								     &rcpt, &why);

		/* H_FROM or H_RCPT (Bcc is one) */
		if ((k == DKIM_SMADDR_FORM || (k == DKIM_SMADDR_UNPREDICTABLE && rcpt))
		    && dkim_sendmail_new_style(f->field + f->name_len + 1,
					       f->field_len - f->name_len - 1))
			flags &= ~DKIM_SMADDR_OLD_STYLE;
	}
	for (size_t i = 0; i < msg->nfields; i++) {
		struct dkim_header_field *f = &msg->fields[i];
		const char *value = f->field + f->name_len + 1;
		size_t vlen = f->field_len - f->name_len - 1, olen;
		enum dkim_smaddr_status st;
		char *out, *field, esc[96];

		st = dkim_sendmail_addr_form(value, vlen, j, f->name, f->name_len, flags,
					     &out, &olen, &why);
		if (st == DKIM_SMADDR_PLAIN)
			continue;
		if (st == DKIM_SMADDR_UNPREDICTABLE) {
			if (msg->wrapped[i])
				why = "a line over dkim_line_length_limit";
			dkim_msg_unsign(msg, f->name, f->name_len);
			if (f->name_len == 4 && strncasecmp(f->name, "From", 4) == 0)
				from_refused = true;
			log_msg(LOG_NOTICE, qid, "dkim: field=%s not signed: Sendmail rewrites "
				"it after the milters and its form cannot be predicted (%s)",
				log_escape(esc, sizeof(esc), f->name, f->name_len), why);
			continue;
		}
		if (olen == vlen && memcmp(out, value, vlen) == 0) {
			free(out);
			continue;
		}
		/* "Name:" + the new value; the name points into the field */
		field = xmalloc(f->name_len + 1 + olen + 1);
		memcpy(field, f->name, f->name_len + 1);
		memcpy(field + f->name_len + 1, out, olen);
		field[f->name_len + 1 + olen] = '\0';
		free(out);
		free((char *)f->field);
		f->field = f->name = field;
		f->field_len = f->name_len + 1 + olen;
		msg->smformed[i] = true;
		msg->smformed_count++;
	}
	return from_refused;
}

/* dkim_msg_sign_names - IN without the names left out; the count */
size_t
dkim_msg_sign_names(const struct dkim_msg *msg, const char *const *in, size_t n,
		    const char **out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		bool drop = false;

		for (size_t u = 0; u < msg->n_unsigned && !drop; u++)
			drop = strcasecmp(in[i], msg->unsigned_names[u]) == 0;
		if (!drop)
			out[k++] = in[i];
	}
	return k;
}
