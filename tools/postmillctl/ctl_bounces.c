/*++
 * NAME
 *	ctl_bounces 3
 * SUMMARY
 *	postmillctl bounces: postmill-bounce's counters; shared helpers
 * SYNOPSIS
 *	postmillctl [-c config] bounces stats [SENDER]
 * DESCRIPTION
 *	With SENDER: that sender's counters (total, per class, per reason).
 *	Without: the stream's length and every sender's total.
 *	Exit status: 0 done, 1 Redis or config trouble, 2 usage.
 *
 *	This file also holds the helpers of ctl_bounce.h.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "bounce_store.h"
#include "cfg_common.h"
#include "ctl.h"
#include "ctl_bounce.h"
#include "xalloc.h"

/* ctl_bounce_now_ms - wall clock */
long long
ctl_bounce_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ctl_bounce_open - configuration, state, pool */
int
ctl_bounce_open(const char *config_path, struct ctl_bounce *cb)
{
	struct errlist el = ERRLIST_INIT;

	memset(cb, 0, sizeof(*cb));
	if ((cb->values = ctl_load(config_path)) == NULL)
		return -1;
	cb->conf = ctl_values(cb->values, &bounce_section);
	cb->state = bounce_state_load(ctl_values(cb->values, &cfg_common_section),
				      cb->conf, config_path, &el);
	if (cb->state == NULL) {
		errlist_print(&el, stderr);
		errlist_free(&el);
		ctl_unload(cb->values);
		cb->values = NULL;
		return -1;
	}
	cb->pool = cb->state->pool;
	return 0;
}

/* ctl_bounce_close - release */
void
ctl_bounce_close(struct ctl_bounce *cb)
{
	bounce_state_free(cb->state);
	ctl_unload(cb->values);
	memset(cb, 0, sizeof(*cb));
}

/* ctl_bounce_scope - a sender's list, as bounce_suppress_scope says */
int
ctl_bounce_scope(const struct ctl_bounce *cb, const char *sender, char *out,
		 size_t outlen)
{
	char norm[BOUNCE_ADDR_MAX + 1] = "";

	/* a tenant's own list (bounce_tenant.h), whatever the scope says */
	if (strncmp(sender, "tenant:", 7) == 0) {
		const struct bounce_tenant *t = bounce_tenant_by_name(cb->state->tenants,
								      sender + 7);

		if (t == NULL) {
			fprintf(stderr, "postmillctl: %s: no such tenant\n", sender + 7);
			return -1;
		}
		if ((size_t)snprintf(out, outlen, "t:%s", t->name) >= outlen)
			return -1;
		return 0;
	}
	if (cb->conf->suppress_scope == BOUNCE_SCOPE_OFF) {
		fprintf(stderr, "postmillctl: bounce_suppress_scope = off: no lists\n");
		return -1;
	}
	if (strcmp(sender, "-") != 0
	    && bounce_addr_norm(sender, strlen(sender), norm, sizeof(norm)) < 0) {
		fprintf(stderr, "postmillctl: %s: not an address\n", sender);
		return -1;
	}
	if (bounce_scope_tag(cb->conf->suppress_scope, norm, out, outlen) < 0) {
		fprintf(stderr, "postmillctl: %s: no list for this sender under "
			"bounce_suppress_scope\n", sender);
		return -1;
	}
	return 0;
}

/* cb_glob_escape - a redis_key() for SCAN MATCH: glob bytes escaped */
char *
ctl_bounce_pattern(const char *prefix, const char *tag, const char *what)
{
	char *key = redis_key(prefix, tag, what), *out = xmalloc(2 * strlen(key) + 2);
	size_t o = 0;

	for (const char *cp = key; *cp; cp++) {
		if (strchr("*?[]\\", *cp) != NULL)
			out[o++] = '\\';
		out[o++] = *cp;
	}
	out[o++] = '*';
	out[o] = '\0';
	free(key);
	return out;
}

/* cb_hash - print a hash, one "field value" per line */
static int
cb_hash(struct redis_pool *p, const char *key, const char *indent)
{
	const char *err;
	redisReply *r = redis_command(p, &err, "HGETALL %s", key);

	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		printf("%s%s %s\n", indent, r->element[i]->str, r->element[i + 1]->str);
	if (r->elements == 0)
		printf("%sno bounces recorded\n", indent);
	freeReplyObject(r);
	return 0;
}

/* ctl_bounces - dispatch */
int
ctl_bounces(int argc, char **argv, const char *config_path)
{
	struct ctl_bounce cb;
	const char *err;
	int rc = 1;

	if (argc < 2 || strcmp(argv[1], "stats") != 0 || argc > 3) {
		fprintf(stderr, "usage: postmillctl bounces stats [SENDER]\n");
		return 2;
	}
	if (ctl_bounce_open(config_path, &cb) < 0)
		return 1;
	if (argc == 3) {
		char norm[BOUNCE_ADDR_MAX + 1], *key;

		if (bounce_addr_norm(argv[2], strlen(argv[2]), norm, sizeof(norm)) < 0) {
			fprintf(stderr, "postmillctl: %s: not an address\n", argv[2]);
			goto out;
		}
		key = bounce_store_stats_key(cb.conf->key_prefix, norm);
		printf("%s\n", norm);
		rc = cb_hash(cb.pool, key, "  ") < 0 ? 1 : 0;
		free(key);
	} else {
		char *pattern = ctl_bounce_pattern(cb.conf->key_prefix, "s:", ":stats");
		char cursor[32] = "0";
		redisReply *r = redis_command(cb.pool, &err, "XLEN %s", cb.conf->stream);

		/* the pattern is PREFIX{s:}:stats*: make it PREFIX{s:*}:stats */
		{
			char *brace = strstr(pattern, "s:}");

			if (brace != NULL) {
				memmove(brace + 3, brace + 2, strlen(brace + 2) + 1);
				brace[2] = '*';
				pattern[strlen(pattern) - 1] = '\0';
			}
		}
		if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
			fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
			if (r)
				freeReplyObject(r);
			free(pattern);
			goto out;
		}
		printf("stream %s: %lld events\n", cb.conf->stream, r->integer);
		freeReplyObject(r);
		rc = 0;
		do {
			r = redis_command(cb.pool, &err, "SCAN %s MATCH %s COUNT 1000", cursor,
					  pattern);
			if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
				fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
				rc = 1;
				break;
			}
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
			for (size_t i = 0; i < r->element[1]->elements; i++) {
				const char *key = r->element[1]->element[i]->str;
				redisReply *t = redis_command(cb.pool, &err, "HGET %s total", key);

				printf("%s total=%s\n", key, t && t->type == REDIS_REPLY_STRING ?
				       t->str : "0");
				if (t)
					freeReplyObject(t);
			}
			freeReplyObject(r);
			r = NULL;
		} while (strcmp(cursor, "0") != 0);
		if (r)
			freeReplyObject(r);
		free(pattern);
	}
out:
	ctl_bounce_close(&cb);
	return rc;
}
