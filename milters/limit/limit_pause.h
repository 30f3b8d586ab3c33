/*++
 * NAME
 *	limit_pause 3h
 * SUMMARY
 *	refuse the mail of a tenant postmill-bounce paused
 * SYNOPSIS
 *	#include "limit_pause.h"
 * DESCRIPTION
 *	postmill-bounce pauses a tenant whose bounce or complaint rate is
 *	too high (milters/bounce/bounce_pause.h) by writing state=paused
 *	into PREFIX{t:NAME}:pause; postmillctl tenant resume deletes it. A
 *	tenant's NAME is its key in the tenant table: "login:LOGIN", a
 *	sender domain or ".DOMAIN" (its subdomains). postmill-limit needs
 *	no copy of the table: at MAIL it looks at the names a message can
 *	belong to, most specific first as bounce_tenant_find() picks them
 *	(its login, its envelope sender domain, then ".PARENT" from the
 *	longest parent down, LIMIT_PAUSE_PARENTS_MAX of them), in one Lua
 *	script, so a pause or a resume takes effect with the next MAIL,
 *	without a reload. The first name that is paused refuses the mail;
 *	the first name that postmill-bounce knows as a tenant (a pause
 *	state or rate counters in Redis) and is not paused lets it
 *	through: a message of tenant mail.acme.example is not refused for
 *	the pause of tenant .acme.example. Without the table, a tenant
 *	that has sent nothing within bounce_pause_window is not known
 *	that way: its first message may be refused for a paused parent.
 *
 *	limit_tenant_pause is off by default: the check is one more Redis
 *	call at MAIL (with Redis frozen, one more command timeout).
 *	Only hosted mail (SASL-authenticated, or from internal_hosts) is
 *	checked: a stranger's mail that names a tenant's domain is not the
 *	tenant's. A Redis failure of this check lets the mail through
 *	(logged): the pause protects a reputation, the quotas (and
 *	limit_on_redis_error) guard the volume.
 *
 *	limit_pause_check() returns 1 (paused: tenant and reason filled), 0
 *	or -1 (*err). limit_pause_text() is the SMTP reply text (pure).
 *--*/
#ifndef POSTMILL_LIMIT_PAUSE_H
#define POSTMILL_LIMIT_PAUSE_H

#include <stddef.h>

#include "redis.h"

#define LIMIT_PAUSE_PARENTS_MAX	8

struct limit_pause {
	char	tenant[300];
	char	reason[200];
};

int	limit_pause_check(struct redis_pool *p, const char *prefix,
			  const char *login, const char *sender,
			  struct limit_pause *out, const char **err);
void	limit_pause_text(const struct limit_pause *lp, char *out, size_t outlen);

#endif
