/*++
 * NAME
 *	milter_stats 3h
 * SUMMARY
 *	what the skeleton counts for every milter; see milter_stats.c
 *--*/
#ifndef POSTMILL_MILTER_STATS_H
#define POSTMILL_MILTER_STATS_H

#include <stdbool.h>
#include <sys/types.h>
#include <libmilter/mfapi.h>

#include "cfg_common.h"
#include "errlist.h"
#include "log.h"

int	milter_stats_open(const struct common_conf *c, const char *name, uid_t uid,
			  gid_t gid, struct errlist *el);
void	milter_stats_start(int fd, const char *name);
void	milter_stats_wrap(struct smfiDesc *desc);
void	milter_stats_reload(bool ok);

#endif
