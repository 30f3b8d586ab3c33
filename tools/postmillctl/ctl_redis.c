/*++
 * NAME
 *	ctl_redis 3
 * SUMMARY
 *	postmillctl redis check: is the configured Redis fit for postmill
 * SYNOPSIS
 *	postmillctl [-c config] redis check
 * DESCRIPTION
 *	Connects with the shared redis_* parameters (through the Sentinels
 *	when redis_server names a group, with TLS when configured), then
 *	prints one line per check:
 *	- reach: the server answers PING (and how long it took);
 *	- role: master (postmill writes; a replica refuses them);
 *	- persistence: AOF (appendfsync everysec or always) keeps overrides,
 *	  quotas, suppressions and tag records across a restart; RDB alone
 *	  loses the writes since the last snapshot; nothing loses them all;
 *	- eviction: maxmemory-policy must be noeviction, or Redis drops
 *	  counters and suppressions when it fills up, silently.
 *	Exit 0 when every check is OK, 1 when one is not (WARN or FAIL), 2
 *	on a usage error: fit for a monitoring script.
 *--*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cfg_common.h"
#include "ctl.h"
#include "errlist.h"
#include "redis_common.h"
#include "redis_persist.h"

/* cr_now_ms - monotonic milliseconds */
static double
cr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* cr_config - CONFIG GET name into out, or "" */
static void
cr_config(struct redis_pool *p, const char *name, char *out, size_t len)
{
	const char *err = NULL;
	redisReply *r = redis_command(p, &err, "CONFIG GET %s", name);

	out[0] = '\0';
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2
	    && r->element[1]->type == REDIS_REPLY_STRING)
		snprintf(out, len, "%s", r->element[1]->str);
	if (r != NULL)
		freeReplyObject(r);
}

/* ctl_redis - the redis command */
int
ctl_redis(int argc, char **argv, const char *config_path)
{
	struct errlist el = ERRLIST_INIT;
	const struct common_conf *common;
	struct redis_pool *pool;
	const char *err = NULL;
	char	text[256], policy[64];
	redisReply *r;
	double	t0;
	void	**values;
	int	bad = 0, rc;

	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: postmillctl redis check\n");
		return 2;
	}
	if ((values = ctl_load(config_path)) == NULL)
		return 1;
	common = ctl_values(values, &cfg_common_section);
	if ((pool = redis_common_pool(common, config_path, &el)) == NULL) {
		errlist_print(&el, stderr);
		errlist_free(&el);
		ctl_unload(values);
		return 1;
	}
	t0 = cr_now_ms();
	r = redis_command(pool, &err, "PING");
	if (r == NULL) {
		printf("reach: FAIL: %s: %s\n", common->redis_server, err);
		redis_pool_free(pool);
		ctl_unload(values);
		return 1;
	}
	printf("reach: OK: %s answers PING in %.1f ms\n", common->redis_server, cr_now_ms() - t0);
	freeReplyObject(r);

	r = redis_command(pool, &err, "ROLE");
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0
	    && r->element[0]->type == REDIS_REPLY_STRING) {
		bool	master = strcmp(r->element[0]->str, "master") == 0;

		printf("role: %s: %s\n", master ? "OK" : "FAIL", r->element[0]->str);
		bad += !master;
	} else {
		printf("role: WARN: ROLE refused (%s)\n", r && r->type == REDIS_REPLY_ERROR ? r->str
		       : err ? err : "?");
		bad++;
	}
	if (r != NULL)
		freeReplyObject(r);

	rc = redis_persistence(pool, text, sizeof(text));
	printf("persistence: %s: %s\n", rc == 1 && strncmp(text, "aof", 3) == 0 ? "OK"
	       : rc == 0 ? "FAIL" : "WARN", text);
	bad += !(rc == 1 && strncmp(text, "aof", 3) == 0);

	cr_config(pool, "maxmemory-policy", policy, sizeof(policy));
	if (policy[0] == '\0') {
		printf("eviction: WARN: CONFIG GET maxmemory-policy refused\n");
		bad++;
	} else if (strcmp(policy, "noeviction") != 0) {
		printf("eviction: FAIL: maxmemory-policy %s lets Redis drop counters and "
		       "suppressions when full (set noeviction)\n", policy);
		bad++;
	} else {
		printf("eviction: OK: noeviction\n");
	}
	redis_pool_free(pool);
	ctl_unload(values);
	return bad ? 1 : 0;
}
