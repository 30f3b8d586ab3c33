/* dkim_stats - postmill-dkim's counters; see dkim_stats.c */
#ifndef POSTMILL_DKIM_STATS_H
#define POSTMILL_DKIM_STATS_H

void	dkim_stats_message(const char *action, const char *reason);
void	dkim_stats_signature(const char *algorithm);

#endif
