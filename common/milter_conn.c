/*++
 * NAME
 *	milter_conn 3
 * SUMMARY
 *	per-connection and per-message state shared by the milters
 * DESCRIPTION
 *	See milter_conn.h.
 *--*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hosted.h"
#include "log.h"
#include "milter_conn.h"
#include "xalloc.h"

/* milter_conn_get - the milter's connection struct, made on first use */
void *
milter_conn_get(SMFICTX *ctx, size_t size)
{
	struct milter_conn *mc;

	if (ctx == NULL)
		return NULL;
	if ((mc = smfi_getpriv(ctx)) == NULL) {
		mc = xcalloc(1, size < sizeof(*mc) ? sizeof(*mc) : size);
		milter_client_set(&mc->client, NULL);
		smfi_setpriv(ctx, mc);
	}
	return mc;
}

/* milter_conn_connect - the client address of connect */
void
milter_conn_connect(struct milter_conn *mc, _SOCK_ADDR *sa)
{
	milter_client_set(&mc->client, sa);
}

/* milter_conn_facts - login and internal, from the MTA's values */
void
milter_conn_facts(struct milter_conn *mc, const char *login,
		  const struct cidr_list *internal_hosts)
{
	mc->authenticated = login != NULL && *login != '\0';
	mc->login[0] = mc->login_log[0] = '\0';
	if (mc->authenticated) {
		snprintf(mc->login, sizeof(mc->login), "%s", login);
		/* the login is the client's text: never raw into a log line */
		log_escape(mc->login_log, sizeof(mc->login_log), login, strlen(login));
	}
	mc->internal = mc->client.have_sa
	    && hosted_is_internal(internal_hosts, (const struct sockaddr *)&mc->client.sa);
}

/* milter_conn_mail - a new message: snapshot, login, internal */
int
milter_conn_mail(struct milter_conn *mc, SMFICTX *ctx)
{
	milter_conn_end_message(mc);
	if ((mc->snap = milter_snapshot_acquire()) == NULL)
		return -1;
	milter_conn_facts(mc, smfi_getsymval(ctx, "{auth_authen}"),
			  &mc->snap->common->internal_hosts);
	return 0;
}

/* milter_conn_qid - the queue id for log lines; Postfix sends {i} late */
const char *
milter_conn_qid(struct milter_conn *mc, SMFICTX *ctx)
{
	return milter_qid(ctx, mc->qid, sizeof(mc->qid));
}

/* milter_conn_no_reply - does the MTA wait for no reply at this stage */
bool
milter_conn_no_reply(const struct milter_conn *mc, unsigned long nr_bit)
{
	return mc != NULL && (mc->nr & nr_bit) != 0;
}

/* milter_conn_go_on - "go on" at a stage: no reply where none is awaited */
sfsistat
milter_conn_go_on(const struct milter_conn *mc, unsigned long nr_bit)
{
	return milter_conn_no_reply(mc, nr_bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* milter_conn_decision_format - the decision line without the queue id */
size_t
milter_conn_decision_format(char *buf, size_t len, const char *module,
			    const char *action, const char *fields,
			    const char *client, const char *login)
{
	char tail[MILTER_LOGIN_MAX + 128];
	size_t head, room, flen, tlen;
	int n;

	if (len == 0)
		return 0;
	if (fields == NULL)
		fields = "";
	while (*fields == ' ')
		fields++;
	n = snprintf(tail, sizeof(tail), " client=%s%s%s", client ? client : "-",
		     login != NULL && *login != '\0' ? " login=" : "",
		     login != NULL ? login : "");
	tlen = n < 0 ? 0 : (size_t)n < sizeof(tail) ? (size_t)n : sizeof(tail) - 1;
	n = snprintf(buf, len, "%s: action=%s", module, action);
	head = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
	/* the client and login end every line: the fields give way */
	room = len - 1 - head;
	room = room > tlen ? room - tlen : 0;
	flen = strlen(fields);
	if (flen > 0 && room > 1) {
		buf[head++] = ' ';
		room--;
		if (flen > room) {
			/* cut, and say so as log_escape() does */
			flen = room >= 3 ? room - 3 : 0;
			memcpy(buf + head, fields, flen);
			memcpy(buf + head + flen, "...", room - flen);
			flen = room;
		} else {
			memcpy(buf + head, fields, flen);
		}
		/* a byte a module forgot to escape would split the line */
		for (size_t i = head; i < head + flen; i++)
			if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
				buf[i] = '?';
		head += flen;
	}
	if (tlen > len - 1 - head)
		tlen = len - 1 - head;
	memcpy(buf + head, tail, tlen);
	buf[head + tlen] = '\0';
	return head + tlen;
}

/* milter_conn_decision - log one decision line (see milter_conn.h) */
void
milter_conn_decision(struct milter_conn *mc, SMFICTX *ctx, int prio,
		     const char *module, const char *action, const char *fmt, ...)
{
	char fields[MILTER_CONN_DECISION_MAX], line[MILTER_CONN_DECISION_MAX];
	const char *qid;
	va_list ap;

	if (prio == LOG_DEBUG && log_debug_level() <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(fields, sizeof(fields), fmt, ap);
	va_end(ap);
	milter_conn_decision_format(line, sizeof(line), module, action, fields,
				    mc->client.addr, mc->authenticated ? mc->login_log : NULL);
	if (ctx != NULL)
		qid = milter_conn_qid(mc, ctx);
	else
		qid = mc->qid[0] != '\0' ? mc->qid : LOG_NOQUEUE;
	log_msg(prio, qid, "%s", line);
}

/* milter_conn_end_message - drop the message's snapshot and facts */
void
milter_conn_end_message(struct milter_conn *mc)
{
	milter_snapshot_release(mc->snap);
	mc->snap = NULL;
	mc->authenticated = mc->internal = false;
	mc->login[0] = mc->login_log[0] = mc->qid[0] = '\0';
}

/* milter_conn_take - detach the struct for close, which frees it */
void *
milter_conn_take(SMFICTX *ctx)
{
	struct milter_conn *mc = ctx ? smfi_getpriv(ctx) : NULL;

	if (mc != NULL) {
		milter_conn_end_message(mc);
		smfi_setpriv(ctx, NULL);
	}
	return mc;
}
