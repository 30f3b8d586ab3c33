/* auth_stats - postmill-auth's counters; see auth_stats.c */
#ifndef POSTMILL_AUTH_STATS_H
#define POSTMILL_AUTH_STATS_H

void	auth_stats_message(const char *action, const char *reason, const char *dmarc,
			   const char *policy, const char *spf);
void	auth_stats_dkim(const char *result);

#endif
