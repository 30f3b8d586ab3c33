/*++
 * NAME
 *	ctl_bounce 3h
 * SUMMARY
 *	what postmillctl suppress and bounces share
 * DESCRIPTION
 *	ctl_bounce_open() loads the configuration and postmill-bounce's
 *	state (secrets included: the same checks as the daemon), so that
 *	postmillctl talks to the Redis the milter uses; 0 or -1 (printed).
 *	ctl_bounce_scope() is the list of a sender ("-": the global one);
 *	ctl_bounce_pattern() a SCAN pattern for PREFIX{TAG}WHAT*, with the
 *	glob characters of the tag escaped. The caller frees the pattern.
 *--*/
#ifndef POSTMILL_CTL_BOUNCE_H
#define POSTMILL_CTL_BOUNCE_H

#include <stddef.h>

#include "bounce.h"

struct ctl_bounce {
	void		**values;
	const struct bounce_conf *conf;
	struct bounce_state *state;
	struct redis_pool *pool;	/* state's */
};

int	ctl_bounce_open(const char *config_path, struct ctl_bounce *cb);
void	ctl_bounce_close(struct ctl_bounce *cb);
int	ctl_bounce_scope(const struct ctl_bounce *cb, const char *sender,
			 char *out, size_t outlen);
char   *ctl_bounce_pattern(const char *prefix, const char *tag, const char *what);
long long ctl_bounce_now_ms(void);

#endif
