/*++
 * NAME
 *	milter_conn 3h
 * SUMMARY
 *	what every postmill milter keeps per connection and per message
 * SYNOPSIS
 *	#include "milter_conn.h"
 *
 *	struct my_conn { struct milter_conn mc; ... };	(mc first)
 *
 *	void	*milter_conn_get(SMFICTX *ctx, size_t size);
 *	void	 milter_conn_connect(struct milter_conn *mc, _SOCK_ADDR *sa);
 *	int	 milter_conn_mail(struct milter_conn *mc, SMFICTX *ctx);
 *	const char *milter_conn_qid(struct milter_conn *mc, SMFICTX *ctx);
 *	void	 milter_conn_end_message(struct milter_conn *mc);
 *	void	*milter_conn_take(SMFICTX *ctx);
 *	bool	 milter_conn_no_reply(const struct milter_conn *mc,
 *			unsigned long nr_bit);
 *	sfsistat milter_conn_go_on(const struct milter_conn *mc,
 *			unsigned long nr_bit);
 *
 *	void	 milter_conn_decision(struct milter_conn *mc, SMFICTX *ctx,
 *			int prio, const char *module, const char *action,
 *			const char *fmt, ...);
 *	size_t	 milter_conn_decision_format(char *buf, size_t len,
 *			const char *module, const char *action,
 *			const char *fields, const char *client,
 *			const char *login);
 * DESCRIPTION
 *	The part of a milter's per-connection state that every milter had
 *	its own copy of: the client address (connect), the configuration
 *	snapshot of the message (MAIL to its end, so that a reload never
 *	changes the rules half-way), whether the client authenticated
 *	({auth_authen}) or is in internal_hosts, the login (and its escaped
 *	form for log lines) and the queue id for log lines.
 *
 *	milter_conn_get() returns the milter's connection struct, whose
 *	first member is a struct milter_conn, making a zeroed one of "size"
 *	bytes on first use: negotiate may come before connect, and connect
 *	may never come (a session the MTA opens and closes). The struct is
 *	the context's private data (smfi_setpriv()).
 *
 *	milter_conn_mail() starts a message: it ends the previous one,
 *	takes the current snapshot (returns -1 without one, which cannot
 *	happen after start-up), reads the login and decides "internal".
 *	milter_conn_end_message() releases the snapshot and forgets the
 *	message's facts. milter_conn_take() detaches the struct from the
 *	context for the close callback, which frees it (NULL when there was
 *	none).
 *
 *	The milter's negotiate callback stores in mc->nr the SMFIP_NR_*
 *	flags the MTA granted: at those stages the MTA waits for no reply.
 *	milter_conn_no_reply() says whether a stage (its SMFIP_NR_* bit) is
 *	one; milter_conn_go_on() is the "go on" answer of a stage:
 *	SMFIS_NOREPLY there, else SMFIS_CONTINUE (also for mc NULL: a
 *	session with no state yet). A connection keeps what it negotiated,
 *	whatever a reload changes.
 *
 *	milter_conn_decision() logs one decision of a module (accept,
 *	reject, tempfail, skip, sign, tag, record, refund, ...) with the
 *	message's queue id, in the one form every module shares, so that
 *	one pattern reads the lines of every daemon and of postmill-suite:
 *
 *	  QID: <module>: action=<action>[ <fields>] client=<addr>[ login=<login>]
 *
 *	The fields are the module's own ("key=value ...", from fmt, values
 *	already escaped with log_escape()); the client address and, when
 *	the client authenticated, the escaped login always come last. With
 *	ctx NULL (a refund at close, after the MTA's last callback for the
 *	message) the queue id is the one last seen (mc->qid), else
 *	LOG_NOQUEUE. milter_conn_decision_format() builds the line without
 *	the queue id (pure; the unit tests use it): fields too long for buf
 *	are cut and end in "..." so that the client and login still fit,
 *	and a control byte in them (a value a module forgot to escape)
 *	becomes '?', so that the line stays one line. Returns the length
 *	written.
 * THREAD SAFETY
 *	A connection belongs to one thread at a time (the engine's and
 *	libmilter's contract); no globals.
 *--*/
#ifndef POSTMILL_MILTER_CONN_H
#define POSTMILL_MILTER_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "cidr.h"
#include "milter_client.h"
#include "milter_main.h"

#define MILTER_LOGIN_MAX	256
/* a decision line without the queue id; below log_msg()'s 2048 */
#define MILTER_CONN_DECISION_MAX	2000

struct milter_conn {
	struct milter_client	 client;	/* from connect; "local" before */
	struct milter_snapshot	*snap;		/* MAIL .. end of message */
	bool			 authenticated;	/* {auth_authen} at MAIL */
	bool			 internal;	/* client in internal_hosts */
	char			 login[MILTER_LOGIN_MAX];	/* "" without */
	char			 login_log[128];	/* escaped for log lines */
	char			 qid[32];	/* escaped {i}, or LOG_NOQUEUE */
	unsigned long		 nr;		/* SMFIP_NR_* granted */
};

void	*milter_conn_get(SMFICTX *ctx, size_t size);
void	 milter_conn_connect(struct milter_conn *mc, _SOCK_ADDR *sa);
int	 milter_conn_mail(struct milter_conn *mc, SMFICTX *ctx);
const char *milter_conn_qid(struct milter_conn *mc, SMFICTX *ctx);
void	 milter_conn_end_message(struct milter_conn *mc);
void	*milter_conn_take(SMFICTX *ctx);
bool	 milter_conn_no_reply(const struct milter_conn *mc, unsigned long nr_bit);
sfsistat milter_conn_go_on(const struct milter_conn *mc, unsigned long nr_bit);
void	 milter_conn_decision(struct milter_conn *mc, SMFICTX *ctx, int prio,
			      const char *module, const char *action,
			      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* milter_conn_decision_format - the decision line without the queue id (pure) */
size_t	 milter_conn_decision_format(char *buf, size_t len, const char *module,
				     const char *action, const char *fields,
				     const char *client, const char *login);

/* milter_conn_facts - the per-message facts from the MTA's values (pure) */
void	 milter_conn_facts(struct milter_conn *mc, const char *login,
			   const struct cidr_list *internal_hosts);

#endif
