/*++
 * NAME
 *	stats_merge 3h
 * SUMMARY
 *	merge the Prometheus text of several daemons; see stats_merge.c
 *--*/
#ifndef POSTMILL_STATS_MERGE_H
#define POSTMILL_STATS_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#define STATS_MERGE_MAX_FAMILIES 1024

char	*stats_merge(const char *const *texts, const size_t *lens, size_t n,
		     size_t *outlen);

#endif
