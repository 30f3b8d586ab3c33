/* bounce_stats - postmill-bounce's counters; see bounce_stats.c */
#ifndef POSTMILL_BOUNCE_STATS_H
#define POSTMILL_BOUNCE_STATS_H

#include <stddef.h>

void	bounce_stats_tagged(void);
void	bounce_stats_record(const char *kind, const char *cls, const char *reason,
			    size_t nsup);
void	bounce_stats_refused(const char *reason);
void	bounce_stats_redis_error(const char *stage);
void	bounce_stats_tenant(const char *state);

#endif
