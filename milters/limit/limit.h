/*++
 * NAME
 *	limit 3h
 * SUMMARY
 *	postmill-limit internals: what one configuration snapshot loads
 * DESCRIPTION
 *	struct limit_state is built by limit_state_load() from a loaded
 *	configuration (limit_state.c): the rules file, the Redis pool
 *	(redis.h; it connects lazily, on the first call) and the options of
 *	the transactions. It is immutable and shared by every thread; the
 *	pool is thread-safe and lives exactly as long as the snapshot, so a
 *	transaction holds its snapshot from MAIL until its reservations are
 *	committed or refunded.
 *
 * *	The other modules, each with its own header:
 *	limit_rules.h	the rules file, key values, plans
 *	limit_window.h	window arithmetic, durations, UTC offsets
 *	limit_policy.h	the decision and the SMTP reply
 *	limit_store.h	Redis keys and the Lua scripts
 *	limit_txn.h	one transaction's reservations and refunds
 *	limit_milter.h	the libmilter callbacks
 *--*/
#ifndef POSTMILL_LIMIT_H
#define POSTMILL_LIMIT_H

#include <stdbool.h>
#include <stdio.h>

#include "cfg_common.h"
#include "errlist.h"
#include "limit_conf.h"
#include "limit_policy.h"
#include "limit_rules.h"
#include "limit_store.h"
#include "limit_txn.h"
#include "limit_window.h"
#include "redis.h"

struct limit_state {
	struct limit_rules *rules;
	struct redis_pool *pool;
	struct limit_txn_opts opts;	/* prefix borrowed from the conf */
	bool		 log_accepted;
};

void	*limit_state_load(const struct common_conf *common, const void *conf,
			  const char *config_path, struct errlist *el);
void	 limit_state_free(void *state);
void	 limit_state_describe(const void *state, FILE *fp);

#endif
