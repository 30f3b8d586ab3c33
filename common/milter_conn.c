/*++
 * NAME
 *	milter_conn 3
 * SUMMARY
 *	per-connection and per-message state shared by the milters
 * DESCRIPTION
 *	See milter_conn.h.
 *--*/
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
