/*++
 * NAME
 *	redis_sentinel 3
 * SUMMARY
 *	the Redis client behind Sentinels: which server is the master
 * DESCRIPTION
 *	With redis_server = sentinel:MASTER@ADDR:PORT,..., redis.c opens a
 *	connection to the address redis_master_for() gives: the master the
 *	Sentinels named for the pool's current epoch, asked again after
 *	every failure (a failure starts a new epoch). redis_role_master()
 *	checks ROLE on a new connection, because a Sentinel's answer can be
 *	a moment old. redis_sentinel_recheck(), called as a call begins,
 *	asks every REDIS_SENTINEL_RECHECK_MS whether the master moved while
 *	the old one still answers (see there). All return 0 or -1 with *err
 *	(as redis.h describes *err). Thread-safe: the pool's fields are read
 *	and written under its lock, the I/O runs outside it.
 *--*/
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "redis.h"
#include "redis_priv.h"

#define REDIS_SENTINEL_RECHECK_MS 500	/* see redis_sentinel_recheck() */

/*
 * redis_sentinel_ask - one Sentinel's answer: 0 and the master, or -1
 *
 * SENTINEL GET-MASTER-ADDR-BY-NAME answers the address and port of the
 * master as the Sentinels see it now (after a failover, the promoted
 * replica), or nil for a name it does not monitor.
 */
static int
redis_sentinel_ask(const struct redis_pool *p, const struct redis_endpoint *s,
		   long long deadline, struct redis_endpoint *out, const char **err)
{
	const char *argv[3] = {"SENTINEL", "get-master-addr-by-name",
			       p->server.master_name};
	unsigned char addr[sizeof(struct in6_addr)];
	struct redis_link *l;
	redisReply *r;
	char	*cmd;
	int	len, ok = -1;

	if ((l = redis_link_connect(p, s->host, s->port, NULL, 0, deadline, err)) == NULL)
		return -1;
	if (redis_link_auth(l, p->sentinel_user, p->sentinel_password, deadline, err) < 0) {
		redis_link_free(l);
		return -1;
	}
	if ((len = redisFormatCommandArgv(&cmd, 3, argv, NULL)) < 0) {
		redis_link_free(l);
		*err = "out of memory";
		return -1;
	}
	r = redis_exchange(l, cmd, (size_t)len, deadline, "timeout", err);
	redisFreeCommand(cmd);
	redis_link_free(l);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
	    && r->element[0]->type == REDIS_REPLY_STRING
	    && r->element[1]->type == REDIS_REPLY_STRING
	    && r->element[0]->len < sizeof(out->host)) {
		memcpy(out->host, r->element[0]->str, r->element[0]->len);
		out->host[r->element[0]->len] = '\0';
		/* a Sentinel names what replicas announce: numeric, or we refuse */
		if ((inet_pton(AF_INET, out->host, addr) == 1
		     || inet_pton(AF_INET6, out->host, addr) == 1)
		    && redis_parse_port(r->element[1]->str, &out->port, err) == 0)
			ok = 0;
		else
			*err = "Sentinel named a master that is not a numeric address and port";
	} else if (r->type == REDIS_REPLY_NIL) {
		*err = redis_errf("Sentinel does not know master %s", p->server.master_name);
	} else if (r->type == REDIS_REPLY_ERROR) {
		*err = redis_errf("Sentinel: %s", r->str ? r->str : "");
	} else {
		*err = "Sentinel gave an unexpected reply";
	}
	freeReplyObject(r);
	return ok;
}

/*
 * redis_sentinel_master - the master, from the first Sentinel that knows
 *
 * Redis' guidelines for Sentinel clients: ask the Sentinels in turn,
 * starting with the one that answered last, and use the first answer.
 * Each gets a fair share of what is left of the deadline, so one frozen
 * Sentinel cannot use up the time of the others.
 */
static int
redis_sentinel_master(struct redis_pool *p, long long deadline,
		      struct redis_endpoint *out, const char **err)
{
	unsigned n = p->server.nsentinels, first;

	pthread_mutex_lock(&p->lock);
	first = p->sentinel_first;
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = (first + i) % n;
		long long left = deadline - redis_now_ms();
		long long mine = redis_now_ms() + (left > 0 ? left / (long long)(n - i) : 0);

		if (redis_sentinel_ask(p, &p->server.sentinels[k], mine, out, err) == 0) {
			pthread_mutex_lock(&p->lock);
			p->sentinel_first = k;
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
		log_msg(LOG_DEBUG, NULL, "redis %s: Sentinel %s:%d: %s", p->server_text,
			p->server.sentinels[k].host, p->server.sentinels[k].port, *err);
	}
	return -1;
}

/* redis_role_master - does the server say ROLE master (not a replica) */
int
redis_role_master(struct redis_link *l, long long deadline, const char **err)
{
	const char *argv[1] = {"ROLE"};
	redisReply *r;
	char	*cmd;
	int	len, ok = -1;

	if ((len = redisFormatCommandArgv(&cmd, 1, argv, NULL)) < 0) {
		*err = "out of memory";
		return -1;
	}
	r = redis_exchange(l, cmd, (size_t)len, deadline, "connect timeout", err);
	redisFreeCommand(cmd);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0
	    && r->element[0]->type == REDIS_REPLY_STRING
	    && strcmp(r->element[0]->str, "master") == 0)
		ok = 0;
	else if (r->type == REDIS_REPLY_ERROR)
		*err = redis_errf("ROLE: %s", r->str ? r->str : "");
	else
		*err = "the server the Sentinels named is not a master (yet)";
	freeReplyObject(r);
	return ok;
}

/* redis_master_for - the master for this epoch: cached, or asked for */
int
redis_master_for(struct redis_pool *p, unsigned long epoch, long long deadline,
		 struct redis_endpoint *out, const char **err)
{
	struct redis_endpoint old;
	bool	known, changed;

	pthread_mutex_lock(&p->lock);
	known = p->master_known && p->master_epoch == epoch;
	old = p->master;
	if (known)
		*out = p->master;
	pthread_mutex_unlock(&p->lock);
	if (known)
		return 0;
	/* half the connect time for the Sentinels, the rest for the master */
	if (redis_sentinel_master(p, redis_now_ms() + (deadline - redis_now_ms()) / 2,
				  out, err) < 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	changed = !p->master_known || strcmp(old.host, out->host) != 0
	    || old.port != out->port;
	if (changed && p->master_known)
		p->master_changes++;
	p->master = *out;
	p->master_checked_at = redis_now_ms();
	p->master_known = true;
	p->master_epoch = epoch;
	pthread_mutex_unlock(&p->lock);
	if (changed)
		log_msg(LOG_INFO, NULL, "redis %s: master is %s%s%s:%d", p->server_text,
			strchr(out->host, ':') ? "[" : "", out->host,
			strchr(out->host, ':') ? "]" : "", out->port);
	return 0;
}

/*
 * redis_sentinel_recheck - twice a second, ask whether the master moved
 *
 * A master that is demoted while it is still up (SENTINEL FAILOVER, or a
 * failover after a network partition) keeps accepting writes until the
 * Sentinels reconfigure it as a replica, which can take seconds; what
 * it accepts meanwhile is then lost when it resyncs. So one call every
 * REDIS_SENTINEL_RECHECK_MS asks a Sentinel who the master is, and when
 * the answer changed, every link is dropped (a new epoch) and the next
 * call connects to the new master. That bounds the writes sent to a
 * demoted master to about that long's worth (plus the Sentinels' own
 * delay in naming the new one), for the price of two small queries a
 * second per process.
 */
void
redis_sentinel_recheck(struct redis_pool *p)
{
	struct redis_endpoint now_master;
	long long now = redis_now_ms();
	const char *err = NULL;
	bool	moved;

	pthread_mutex_lock(&p->lock);
	if (p->master_checking || p->down || !p->master_known
	    || now - p->master_checked_at < REDIS_SENTINEL_RECHECK_MS) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->master_checking = true;
	p->master_checked_at = now;
	pthread_mutex_unlock(&p->lock);

	/* a quick question: a slow Sentinel costs this call, never more */
	if (redis_sentinel_master(p, now + p->connect_timeout_ms / 2, &now_master, &err) < 0) {
		pthread_mutex_lock(&p->lock);
		p->master_checking = false;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->master_checking = false;
	moved = strcmp(now_master.host, p->master.host) != 0
	    || now_master.port != p->master.port;
	if (moved) {
		p->epoch++;		/* every link to the old master goes */
		p->master_changes++;
	}
	pthread_mutex_unlock(&p->lock);
	if (moved)
		log_msg(LOG_WARNING, NULL, "redis %s: the Sentinels moved the master to %s:%d",
			p->server_text, now_master.host, now_master.port);
}
