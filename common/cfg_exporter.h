/*++
 * NAME
 *	cfg_exporter 3h
 * SUMMARY
 *	postmill-exporter parameters (values of the exporter_ rows)
 * DESCRIPTION
 *	The rows live in cfg_exporter.c (cfg_exporter_section), in common/ so
 *	that postmillctl shows and checks them with the daemons' sections.
 *--*/
#ifndef POSTMILL_CFG_EXPORTER_H
#define POSTMILL_CFG_EXPORTER_H

#include <sys/socket.h>

#include "cfg.h"

struct exporter_conf {
	char		*listen;	/* "ADDR:PORT" or "[ADDR6]:PORT", numeric */
	long long	 scrape_timeout; /* ms, per daemon's stats socket */
};

extern const struct cfg_section cfg_exporter_section;

int	cfg_exporter_parse_listen(const char *text, struct sockaddr_storage *ss,
			      const char **why);

#endif
