/*++
 * NAME
 *	exporter 3h
 * SUMMARY
 *	postmill-exporter: one /metrics page for every postmill daemon
 * DESCRIPTION
 *	exporter_scrape.c reads the daemons' stats sockets; exporter_main.c
 *	serves the result over HTTP with libmicrohttpd.
 *--*/
#ifndef POSTMILL_EXPORTER_H
#define POSTMILL_EXPORTER_H

#include <stddef.h>

#define EXPORTER_MAX_DAEMONS	32
#define EXPORTER_MAX_TEXT	(4u << 20)	/* 4 MiB from one daemon at most */

char	*exporter_scrape(const char *stats_dir, long timeout_ms, size_t *len);

#endif
