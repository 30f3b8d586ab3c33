/*++
 * NAME
 *	limit_pause 3
 * SUMMARY
 *	is this message's tenant paused
 * DESCRIPTION
 *	See limit_pause.h. The key names follow bounce_pause.c's
 *	(PREFIX{t:NAME}:pause, redis_key() escaping); the prefix is
 *	limit_tenant_pause_prefix, which must be postmill-bounce's
 *	bounce_key_prefix.
 *--*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limit_pause.h"
#include "xalloc.h"

/*
 * KEYS: the candidates' pause hashes, most specific first, then their
 * rate hashes in the same order. The first paused wins; the first known
 * tenant that is not paused decides for it (limit_pause.h).
 */
static const char lp_lua[] =
"-- postmill-limit tenant pause v2\n"
"local n = #KEYS / 2\n"
"for i = 1, n do\n"
"  local v = redis.call('HMGET', KEYS[i], 'state', 'reason')\n"
"  if v[1] == 'paused' then return {i, v[2] or ''} end\n"
"  if v[1] or redis.call('EXISTS', KEYS[n + i]) == 1 then return {0, ''} end\n"
"end\n"
"return {0, ''}\n";

static char lp_sha[41];
static pthread_once_t lp_once = PTHREAD_ONCE_INIT;

/* lp_init - the script's SHA1, once */
static void
lp_init(void)
{
	redis_script_sha1(lp_lua, lp_sha);
}

/* lp_lower - ASCII lower case copy, cut to outlen */
static void
lp_lower(char *out, size_t outlen, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 'a' - 'A') : in[i];
	out[i] = '\0';
}

/* limit_pause_check - 1 paused, 0 not, -1 Redis trouble */
int
limit_pause_check(struct redis_pool *p, const char *prefix, const char *login,
		  const char *sender, struct limit_pause *out, const char **err)
{
	char names[2 + LIMIT_PAUSE_PARENTS_MAX][300], *keys[2 * (2 + LIMIT_PAUSE_PARENTS_MAX)];
	char *tag;
	const char *at;
	redisReply *r;
	int n = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (login != NULL && *login != '\0' && strlen(login) <= 256) {
		char l[260];

		lp_lower(l, sizeof(l), login, strlen(login));
		snprintf(names[n++], sizeof(names[0]), "login:%s", l);
	}
	if (sender != NULL && (at = strrchr(sender, '@')) != NULL) {
		size_t dl = strcspn(at + 1, ">");

		if (dl > 0 && dl <= 253) {
			const char *dot;
			int np = 0;

			lp_lower(names[n], sizeof(names[n]), at + 1, dl);
			/* "a.b.c": ".b.c", then ".c" (bounce_tenant.h's .DOMAIN) */
			for (dot = strchr(names[n] + 1, '.'); dot != NULL && dot[1] != '\0'
			     && np < LIMIT_PAUSE_PARENTS_MAX; dot = strchr(dot + 1, '.'), np++)
				snprintf(names[n + 1 + np], sizeof(names[0]), "%s", dot);
			n += 1 + np;
		}
	}
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		tag = xasprintf("t:%s", names[i]);
		keys[i] = redis_key(prefix, tag, ":pause");
		keys[n + i] = redis_key(prefix, tag, ":rate");
		free(tag);
	}
	pthread_once(&lp_once, lp_init);
	r = redis_evalsha(p, lp_lua, lp_sha, 2 * n, (const char **)keys, 0, NULL, err);
	for (int i = 0; i < 2 * n; i++)
		free(keys[i]);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
	    && r->element[0]->type == REDIS_REPLY_INTEGER) {
		long long i = r->element[0]->integer;

		rc = 0;
		if (i >= 1 && i <= n) {
			snprintf(out->tenant, sizeof(out->tenant), "%s", names[i - 1]);
			if (r->element[1]->type == REDIS_REPLY_STRING)
				snprintf(out->reason, sizeof(out->reason), "%.*s",
					 (int)(r->element[1]->len < 199 ? r->element[1]->len : 199),
					 r->element[1]->str);
			rc = 1;
		}
	} else {
		*err = r->type == REDIS_REPLY_ERROR ? "Redis refused the pause script"
		    : "unexpected reply from Redis";
	}
	freeReplyObject(r);
	return rc;
}

/* limit_pause_text - "Sending paused for T (why); ..." for the reply */
void
limit_pause_text(const struct limit_pause *lp, char *out, size_t outlen)
{
	char t[300], w[400];
	size_t i, o;

	/* printable ASCII only, and no '%' (smfi_setreply() formats the text) */
	for (i = 0; lp->tenant[i] && i + 1 < sizeof(t); i++)
		t[i] = (lp->tenant[i] < 0x20 || lp->tenant[i] >= 0x7f
			|| lp->tenant[i] == '%') ? '?' : lp->tenant[i];
	t[i] = '\0';
	for (i = o = 0; lp->reason[i] && o + 9 < sizeof(w); i++) {
		if (lp->reason[i] == '%') {
			memcpy(w + o, " percent", 8);
			o += 8;
		} else {
			w[o++] = (lp->reason[i] < 0x20 || lp->reason[i] >= 0x7f) ? '?'
			    : lp->reason[i];
		}
	}
	w[o] = '\0';
	snprintf(out, outlen, "Sending paused for %s (%s); contact your mail "
		 "provider to resume", t, w[0] ? w : "by the operator");
}
