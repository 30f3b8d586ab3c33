/*++
 * NAME
 *	redis_common 3h
 * SUMMARY
 *	the shared redis_* parameters as a Redis connection pool
 * SYNOPSIS
 *	#include "redis_common.h"
 *
 *	void redis_common_conf(const struct common_conf *c,
 *		struct redis_conf *out);
 *	struct redis_pool *redis_common_pool(const struct common_conf *c,
 *		const char *config_path, struct errlist *el);
 * DESCRIPTION
 *	Every daemon that keeps shared state in Redis (limit, bounce) and
 *	postmillctl read the same redis_* parameters of cfg_common.c.
 *
 *	redis_common_conf() maps them to a struct redis_conf, borrowing the
 *	strings (they live as long as c). max_idle is 0: the pool's default.
 *
 *	redis_common_pool() is what a state_load() hook does with them: it
 *	checks the whole configuration (redis_conf_check(), which also
 *	refuses redis_backoff_min above redis_backoff_max) and makes the
 *	pool, which connects to nothing yet: a Redis that is down at start
 *	or reload is a runtime condition, not a configuration error. On a
 *	problem it adds "config_path: redis_server = VALUE: why" (or
 *	"redis: why") to el and returns NULL. The pool is the caller's, freed
 *	with redis_pool_free().
 * THREAD SAFETY
 *	No globals; the pool itself is thread-safe (redis.h).
 *--*/
#ifndef POSTMILL_REDIS_COMMON_H
#define POSTMILL_REDIS_COMMON_H

#include "cfg_common.h"
#include "errlist.h"
#include "redis.h"

void	redis_common_conf(const struct common_conf *c, struct redis_conf *out);
struct redis_pool *redis_common_pool(const struct common_conf *c,
				     const char *config_path,
				     struct errlist *el);

#endif
