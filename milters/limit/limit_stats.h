/* limit_stats - postmill-limit's counters; see limit_stats.c */
#ifndef POSTMILL_LIMIT_STATS_H
#define POSTMILL_LIMIT_STATS_H

void	limit_stats_decision(const char *stage, const char *action, const char *reason,
			     const char *rule);
void	limit_stats_refund(const char *reason, long long n);

#endif
