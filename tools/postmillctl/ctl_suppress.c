/*++
 * NAME
 *	ctl_suppress 3
 * SUMMARY
 *	postmillctl suppress: the suppression list of postmill-bounce
 * SYNOPSIS
 *	postmillctl [-c config] suppress list SENDER
 *	postmillctl [-c config] suppress check SENDER RCPT
 *	postmillctl [-c config] suppress add SENDER RCPT [REASON [DURATION]]
 *	postmillctl [-c config] suppress remove SENDER RCPT
 * DESCRIPTION
 *	SENDER picks the list as bounce_suppress_scope does for mail: the
 *	sender's own, its domain's, or the global one (then SENDER is
 *	ignored; write "-"). Addresses are compared lower-cased.
 *
 *	list prints one line per entry: recipient, reason, since, expires.
 *	check prints the entry and exits 1 when RCPT is suppressed, 0 when
 *	not. add writes an entry (REASON default "manual"; DURATION as in
 *	postmill.conf, 0 forever, default bounce_suppress_expiry's "*").
 *	remove drops the entry and the soft-bounce count.
 *
 *	Exit status: 0 done (check: not suppressed), 1 suppressed (check)
 *	or Redis/config trouble, 2 usage.
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

/* cs_usage - the synopsis */
static int
cs_usage(void)
{
	fprintf(stderr,
		"usage: postmillctl suppress list SENDER\n"
		"       postmillctl suppress check SENDER RCPT\n"
		"       postmillctl suppress add SENDER RCPT [REASON [DURATION]]\n"
		"       postmillctl suppress remove SENDER RCPT\n"
		"SENDER: the sender whose list it is (its domain's or the global list,\n"
		"        as bounce_suppress_scope says; \"-\" for the global list;\n"
		"        tenant:NAME for a tenant's own list)\n");
	return 2;
}

/* cs_time - seconds as UTC text */
static const char *
cs_time(long long s, char *buf, size_t len)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (s <= 0 || gmtime_r(&t, &tm) == NULL
	    || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "never");
	return buf;
}

/* cs_print - one entry */
static void
cs_print(const char *rcpt, const struct bounce_supp *s)
{
	char a[32], b[32];

	printf("%s reason=%s status=%s since=%s expires=%s diagnostic=\"%s\"\n", rcpt,
	       s->reason, s->status[0] ? s->status : "-", cs_time(s->since, a, sizeof(a)),
	       cs_time(s->expires, b, sizeof(b)), s->diagnostic);
}

/* cs_list - SCAN the scope's entries */
static int
cs_list(struct ctl_bounce *cb, const char *scope)
{
	char *pattern = ctl_bounce_pattern(cb->conf->key_prefix, scope, ":sup:");
	char cursor[32] = "0";
	size_t n = 0;
	int rc = 0;

	do {
		const char *err;
		redisReply *r = redis_command(cb->pool, &err, "SCAN %s MATCH %s COUNT 1000",
					      cursor, pattern);

		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			fprintf(stderr, "postmillctl: redis: %s\n", r ? "unexpected reply" : err);
			if (r)
				freeReplyObject(r);
			rc = 1;
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const char *key = r->element[1]->element[i]->str;
			const char *rcpt = strstr(key, "}:sup:");
			struct bounce_supp s;

			if (rcpt == NULL)
				continue;
			rcpt += 6;
			if (bounce_store_check(cb->pool, cb->conf->key_prefix, scope, rcpt, &s,
					       &err) == 1) {
				cs_print(rcpt, &s);
				n++;
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	free(pattern);
	if (rc == 0)
		printf("%zu suppressed recipient%s in list %s\n", n, n == 1 ? "" : "s", scope);
	return rc;
}

/* ctl_suppress - dispatch */
int
ctl_suppress(int argc, char **argv, const char *config_path)
{
	struct ctl_bounce cb;
	char scope[BOUNCE_ADDR_MAX + 8], rcpt[BOUNCE_ADDR_MAX + 1];
	const char *what = argc > 1 ? argv[1] : "", *err;
	struct bounce_supp s;
	int rc = 1, r;

	if (argc < 3 || (strcmp(what, "list") != 0 && argc < 4)
	    || (strcmp(what, "list") != 0 && strcmp(what, "check") != 0
		&& strcmp(what, "add") != 0 && strcmp(what, "remove") != 0))
		return cs_usage();
	if (ctl_bounce_open(config_path, &cb) < 0)
		return 1;
	if (ctl_bounce_scope(&cb, argv[2], scope, sizeof(scope)) < 0)
		goto out;
	if (argc > 3 && bounce_addr_norm(argv[3], strlen(argv[3]), rcpt, sizeof(rcpt)) < 0) {
		fprintf(stderr, "postmillctl: %s: not an address\n", argv[3]);
		goto out;
	}
	if (strcmp(what, "list") == 0) {
		rc = cs_list(&cb, scope);
	} else if (strcmp(what, "check") == 0) {
		r = bounce_store_check(cb.pool, cb.conf->key_prefix, scope, rcpt, &s, &err);
		if (r < 0)
			fprintf(stderr, "postmillctl: redis: %s\n", err);
		else if (r == 1)
			cs_print(rcpt, &s);
		else
			printf("%s: not suppressed\n", rcpt);
		rc = r == 0 ? 0 : 1;
	} else if (strcmp(what, "add") == 0) {
		const char *reason = argc > 4 ? argv[4] : "manual";
		long long ms = cb.state->pol.expiry_ms[BOUNCE_REASON_OTHER];
		const char *why;
		int ri = bounce_reason_by_name(reason);

		if (ri >= 0 && ri < BOUNCE_NREASONS)
			ms = cb.state->pol.expiry_ms[ri];
		if (argc > 5 && cfg_parse_time(argv[5], "s", &ms, &why) < 0) {
			fprintf(stderr, "postmillctl: %s: %s\n", argv[5], why);
			goto out;
		}
		if (bounce_store_add(cb.pool, cb.conf->key_prefix, scope, rcpt, reason,
				     "added by postmillctl", ctl_bounce_now_ms(), ms, &err) < 0)
			fprintf(stderr, "postmillctl: redis: %s\n", err);
		else {
			printf("%s: suppressed in list %s\n", rcpt, scope);
			rc = 0;
		}
	} else {
		r = bounce_store_remove(cb.pool, cb.conf->key_prefix, scope, rcpt, &err);
		if (r < 0)
			fprintf(stderr, "postmillctl: redis: %s\n", err);
		else {
			printf("%s: %s\n", rcpt, r ? "removed" : "was not suppressed");
			rc = 0;
		}
	}
out:
	ctl_bounce_close(&cb);
	return rc;
}
