/*++
 * NAME
 *	auth_spf 3
 * SUMMARY
 *	the SPF checks of one message (RFC 7208) and what they report
 * DESCRIPTION
 *	See auth_spf.h. The evaluation itself is common/spf_eval.c.
 *--*/
#include <stdio.h>
#include <string.h>

#include "auth_spf.h"

/* auth_spf_sender - the MAIL FROM path without brackets and route */
enum auth_spf_sender
auth_spf_sender(const char *path, size_t len, char *out, size_t size)
{
	const char *p = path, *end = path + len, *colon;
	size_t n, i;

	if (size > 0)
		out[0] = '\0';
	if (path == NULL || size == 0)
		return AUTH_SPF_SENDER_BAD;
	if (len >= 2 && p[0] == '<' && end[-1] == '>') {
		p++;
		end--;
	}
	if (p == end)
		return len >= 2 ? AUTH_SPF_SENDER_NULL : AUTH_SPF_SENDER_BAD;
	/* RFC 5321 4.1.2 source route "@a,@b:": obsolete, ignored (C.) */
	if (*p == '@' && (colon = memchr(p, ':', (size_t)(end - p))) != NULL)
		p = colon + 1;
	n = (size_t)(end - p);
	if (n == 0 || n >= size || memchr(p, '@', n) == NULL)
		return AUTH_SPF_SENDER_BAD;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return AUTH_SPF_SENDER_BAD;
	memcpy(out, p, n);
	out[n] = '\0';
	return AUTH_SPF_SENDER_OK;
}

/* spf_copy - bounded copy of an optional string */
static void
spf_copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* auth_spf_check - see auth_spf.h */
void
auth_spf_check(struct auth_spf *s, const struct spf_evaluator *e,
	       const char *client_ip, const char *helo, const char *path,
	       const char *receiver, long now)
{
	struct spf_query q;
	size_t i;

	memset(s, 0, sizeof(*s));
	spf_copy(s->client_ip, sizeof(s->client_ip), client_ip);
	spf_copy(s->helo, sizeof(s->helo), helo);
	spf_copy(s->receiver, sizeof(s->receiver), receiver);
	s->null_sender = path == NULL || auth_spf_sender(path, strlen(path), s->mail_from,
				       sizeof(s->mail_from)) != AUTH_SPF_SENDER_OK;
	q.client_ip = s->client_ip;
	q.helo = s->helo;
	q.receiver = s->receiver;
	q.mail_from = NULL;
	s->mfrom.result = s->heloid.result = SPF_RES_NONE;
	if (s->helo[0] != '\0') {
		q.identity = SPF_ID_HELO;
		spf_check(e, &q, now, &s->heloid);
		s->helo_checked = true;
	}
	if (s->null_sender) {
		/* RFC 7208 2.4: postmaster@HELO, the domain just checked */
		s->mfrom = s->heloid;
	} else {
		q.identity = SPF_ID_MAILFROM;
		q.mail_from = s->mail_from;
		spf_check(e, &q, now, &s->mfrom);
	}
	for (i = 0; s->mfrom.domain[i] != '\0' && i + 1 < sizeof(s->domain); i++)
		s->domain[i] = (s->mfrom.domain[i] >= 'A' && s->mfrom.domain[i] <= 'Z')
		    ? (char)(s->mfrom.domain[i] | 0x20) : s->mfrom.domain[i];
	s->domain[i] = '\0';
	s->done = true;
}

/* auth_spf_identity - the outcome DMARC aligns, and its domain */
const struct spf_outcome *
auth_spf_identity(const struct auth_spf *s, const char **domain)
{
	if (domain != NULL)
		*domain = s->domain;
	return &s->mfrom;
}

/* auth_spf_received - the folded Received-SPF value for that identity */
int
auth_spf_received(const struct auth_spf *s, char *buf, size_t size)
{
	struct spf_query q;
	char line[2048];

	if (size > 0)
		buf[0] = '\0';
	q.client_ip = s->client_ip;
	q.helo = s->helo;
	q.receiver = s->receiver;
	q.mail_from = s->null_sender ? NULL : s->mail_from;
	q.identity = s->null_sender ? SPF_ID_HELO : SPF_ID_MAILFROM;
	if (spf_received_spf(line, sizeof(line), &q, &s->mfrom) < 0)
		return -1;
	return auth_fold(line, sizeof("Received-SPF: ") - 1, buf, size);
}

/* auth_fold - break a header value before spaces; see auth_spf.h */
int
auth_fold(const char *value, size_t prefix, char *out, size_t size)
{
	size_t len = 0, col = prefix, brk = 0;
	bool have_brk = false;
	const char *p;

	if (size == 0)
		return -1;
	for (p = value; *p != '\0'; p++) {
		if (len + 2 >= size) {
			out[0] = '\0';
			return -1;
		}
		/* a break before this space leaves text on both lines */
		if (*p == ' ' && len > 0 && out[len - 1] != ' ' && out[len - 1] != '\n'
		    && p[1] != '\0' && p[1] != ' ') {
			brk = len;
			have_brk = true;
		}
		out[len++] = *p;
		col++;
		if (col > AUTH_FOLD_WIDTH && have_brk) {
			memmove(out + brk + 1, out + brk, len - brk);
			out[brk] = '\n';
			len++;
			col = len - brk - 1;
			have_brk = false;
		}
	}
	out[len] = '\0';
	return (int)len;
}
