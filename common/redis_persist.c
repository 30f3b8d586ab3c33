/*++
 * NAME
 *	redis_persist 3
 * SUMMARY
 *	does the configured Redis keep its data across a restart
 * SYNOPSIS
 *	#include "redis_persist.h"
 *
 *	int redis_persistence(struct redis_pool *p, char *text, size_t len);
 * DESCRIPTION
 *	postmill keeps overrides, quotas, suppressions and bounce-tag records
 *	in Redis: a Redis that persists nothing loses them all at its next
 *	restart, silently (a real 5.1.1 bounce for mail sent before the
 *	restart then suppresses nothing). redis_persistence() asks the server
 *	(INFO persistence for AOF, CONFIG GET save for RDB snapshots) and
 *	returns 1 when it persists (text says how: "aof everysec", "rdb 3600
 *	1 300 100"), 0 when it persists nothing, -1 when it cannot tell
 *	(Redis unreachable, or INFO/CONFIG refused by ACLs or rename-command;
 *	text says why). AOF with appendfsync everysec or always is what
 *	postmill needs; RDB alone loses the writes since the last snapshot,
 *	which text notes.
 *--*/
#include <stdio.h>
#include <string.h>

#include "redis.h"
#include "redis_persist.h"

/* persist_info_field - "name:value" from an INFO text into out */
static int
persist_info_field(const char *info, const char *name, char *out, size_t len)
{
	size_t	n = strlen(name);

	for (const char *cp = info; cp != NULL && *cp != '\0';) {
		if (strncmp(cp, name, n) == 0 && cp[n] == ':') {
			size_t	v = strcspn(cp + n + 1, "\r\n");

			snprintf(out, len, "%.*s", (int)v, cp + n + 1);
			return 0;
		}
		cp = strchr(cp, '\n');
		if (cp != NULL)
			cp++;
	}
	return -1;
}

/* redis_persistence - see above */
int
redis_persistence(struct redis_pool *p, char *text, size_t len)
{
	char	aof[16] = "", fsync[32] = "", save[128] = "";
	const char *err = NULL;
	redisReply *r;

	if ((r = redis_command(p, &err, "INFO persistence")) == NULL) {
		snprintf(text, len, "cannot ask Redis: %s", err);
		return -1;
	}
	if (r->type != REDIS_REPLY_STRING) {
		snprintf(text, len, "INFO refused: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
		freeReplyObject(r);
		return -1;
	}
	(void)persist_info_field(r->str, "aof_enabled", aof, sizeof(aof));
	freeReplyObject(r);
	if ((r = redis_command(p, &err, "CONFIG GET appendfsync")) != NULL) {
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
		    && r->element[1]->type == REDIS_REPLY_STRING)
			snprintf(fsync, sizeof(fsync), "%s", r->element[1]->str);
		freeReplyObject(r);
	}
	if (strcmp(aof, "1") == 0) {
		snprintf(text, len, "aof%s%s", fsync[0] ? " " : "", fsync);
		return 1;
	}
	if ((r = redis_command(p, &err, "CONFIG GET save")) == NULL) {
		snprintf(text, len, "no AOF, and cannot ask for RDB: %s", err);
		return -1;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
	    && r->element[1]->type == REDIS_REPLY_STRING) {
		snprintf(save, sizeof(save), "%s", r->element[1]->str);
		freeReplyObject(r);
		if (save[0] == '\0') {
			snprintf(text, len, "neither AOF nor RDB snapshots: a restart loses "
				 "every quota, override, suppression and tag record");
			return 0;
		}
		snprintf(text, len, "rdb %s only: a restart loses the writes since the last "
			 "snapshot (appendonly yes with appendfsync everysec keeps them)", save);
		return 1;
	}
	snprintf(text, len, "no AOF; CONFIG GET save refused: %s",
		 r->type == REDIS_REPLY_ERROR ? r->str : "?");
	freeReplyObject(r);
	return -1;
}
