/*++
 * NAME
 *	dkim 3h
 * SUMMARY
 *	postmill-dkim internals: loaded state and per-message state
 * DESCRIPTION
 *	struct dkim_state is what one configuration snapshot loaded: the
 *	tables, one signer key per key-table entry, the header lists. It is
 *	immutable and shared by every thread (dkim_state.c).
 *
 *	struct dkim_msg is one message in progress (dkim_message.c): the
 *	header fields kept for signing (bounded by dkim_max_headers and
 *	dkim_max_header_bytes), the From count, the body canonicalizer and
 *	the signatures chosen at end of header. It knows nothing of
 *	libmilter; dkim_milter.c feeds it.
 *--*/
#ifndef POSTMILL_DKIM_H
#define POSTMILL_DKIM_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg_common.h"
#include "dkim_canon.h"
#include "dkim_conf.h"
#include "dkim_linewrap.h"
#include "dkim_policy.h"
#include "dkim_sign.h"
#include "dkim_spool.h"
#include "dkim_tables.h"
#include "errlist.h"

struct dkim_state {
	struct dkim_tables	*tables;
	struct dkim_key		**keys;		/* parallel to the key table */
	size_t			 nkeys;
	const char		**sign_headers;	/* borrowed from the conf */
	size_t			 n_sign;
	const char		**oversign_headers; /* conf list + "from" */
	size_t			 n_oversign;
	const char		**oversign_if_present; /* borrowed */
	size_t			 n_oversign_if_present;
	int			 header_canon;	/* enum dkim_canon_mode */
	int			 body_canon;
	struct dkim_policy_options policy;
};

/* dkim_state.c */
void	*dkim_state_load(const struct common_conf *common, const void *conf,
			 const char *config_path, struct errlist *el);
void	 dkim_state_free(void *state);
void	 dkim_state_describe(const void *state, FILE *fp);
const struct dkim_key *dkim_state_key(const struct dkim_state *st,
				      const struct dkim_tables_key *tk);

struct dkim_msg {
	/* header fields as received, "Name:value" each */
	struct dkim_header_field *fields;
	size_t			 nfields;
	size_t			 cap;
	size_t			 header_bytes;
	bool			 over_limit;
	unsigned		 from_fields;
	size_t			 from_index;	/* first From field */
	/* chosen at end of header */
	struct dkim_tables_match match;
	bool			 signing;
	struct dkim_linewrap	 wrap;		/* in front of the body hash */
	struct dkim_body_canon	 body;
	bool			 keep_body;	/* copy what is hashed into spool */
	struct dkim_spool	 spool;		/* for smfi_replacebody() */
	bool			*wrapped;	/* per field: lines were broken */
	/* Sendmail in front (dkim_sendmail.c) */
	bool			*smformed;	/* per field: now in Sendmail's form */
	unsigned		 smformed_count;
	char			**unsigned_names; /* left out of h=, lower case */
	size_t			 n_unsigned;
};

/* dkim_message.c */
struct dkim_msg *dkim_msg_new(void);
struct dkim_msg *dkim_msg_free(struct dkim_msg *msg);
void	 dkim_msg_add_header(struct dkim_msg *msg, const char *name,
			     const char *value, bool value_has_leadspace,
			     size_t max_fields, size_t max_bytes, size_t line_limit);
/*
 * dkim_msg_body_start - body hash from here on, lines broken at line_limit;
 * keep: copy the broken body into msg->spool (msg->wrap.breaks then says
 * whether it differs from what the MTA has)
 */
int	 dkim_msg_body_start(struct dkim_msg *msg, int canon, size_t line_limit,
			     bool keep, const char **why);
void	 dkim_msg_body_feed(struct dkim_msg *msg, const void *data, size_t len);
int	 dkim_msg_body_final(struct dkim_msg *msg, unsigned char *digest,
			     const char **why);
/* dkim_msg_from - classify From; on DKIM_FROM_OK fill local/domain (caller frees) */
enum dkim_from_state dkim_msg_from(const struct dkim_msg *msg, char **local,
				   char **domain, const char **why);

/* dkim_sendmail.c */
bool	 dkim_msg_sendmail(struct dkim_msg *msg, const char *j, const char *masq,
			   const char *qid);
size_t	 dkim_msg_sign_names(const struct dkim_msg *msg, const char *const *in,
			     size_t n, const char **out);

#endif
