/*++
 * NAME
 *	dns_cache 3
 * SUMMARY
 *	bounded, thread-safe cache of DNS answers inside a resolver
 * DESCRIPTION
 *	See dns.h (CACHE). Entries are keyed by query type and name (ASCII
 *	case folded, wire form) and hold the answer message itself, so the
 *	typed queries walk a cached answer exactly as a fresh one. A hash
 *	table finds an entry; a doubly linked list keeps them in order of
 *	last use, the least recently used at the tail, evicted when the
 *	cache is full. Expired entries are dropped when a lookup meets them
 *	and preferred for eviction over live ones when seen at the tail.
 *
 *	Why not cache parsed results: one copy path serves every type, and
 *	a CNAME chain's TTLs stay in the message the walker reads.
 *
 *	One mutex guards everything; it is held to hash, link and memcpy
 *	at most DNS_CACHE_MAX_MSG bytes, never across network I/O. Two
 *	threads that miss the same name at once both ask and both insert;
 *	the second replaces the first (no thundering-herd protection: a
 *	milter's concurrency is small).
 *--*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_priv.h"
#include "xalloc.h"

struct dns_cache_entry {
	struct dns_cache_entry *hnext;		/* hash chain */
	struct dns_cache_entry *prev, *next;	/* LRU list, head = newest */
	uint32_t	hash;
	int		type;
	size_t		wlen;
	unsigned char	wname[NS_MAXCDNAME];	/* case folded */
	long long	expires_ms;		/* monotonic */
	size_t		len;
	unsigned char	*msg;
};

struct dns_cache {
	pthread_mutex_t	lock;
	size_t		max_entries;
	unsigned	max_ttl;
	size_t		nbucket;
	struct dns_cache_entry **bucket;
	struct dns_cache_entry *head, *tail;
	struct dns_cache_stats st;
};

/* dns_cache_key - fold the query name's case; FNV-1a over type and name */
static uint32_t
dns_cache_key(const struct dns_query *q, unsigned char *folded)
{
	uint32_t h = 2166136261u;

	h = (h ^ (uint32_t)(q->type & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(q->type >> 8)) * 16777619u;
	for (size_t i = 0; i < q->wlen; i++) {
		unsigned char c = q->wname[i];

		/* length bytes are <= 63 and never fold */
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		folded[i] = c;
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/* dns_cache_find - the entry for (hash, type, name) and its chain slot */
static struct dns_cache_entry **
dns_cache_find(struct dns_cache *c, uint32_t hash, int type,
	       const unsigned char *wname, size_t wlen)
{
	struct dns_cache_entry **pp = &c->bucket[hash % c->nbucket];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		struct dns_cache_entry *e = *pp;

		if (e->hash == hash && e->type == type && e->wlen == wlen
		    && memcmp(e->wname, wname, wlen) == 0)
			return pp;
	}
	return pp;
}

/* dns_cache_unlink - take e out of the LRU list */
static void
dns_cache_unlink(struct dns_cache *c, struct dns_cache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

/* dns_cache_push - put e at the head of the LRU list */
static void
dns_cache_push(struct dns_cache *c, struct dns_cache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* dns_cache_remove - unhash, unlink and free e (pp: its chain slot) */
static void
dns_cache_remove(struct dns_cache *c, struct dns_cache_entry **pp)
{
	struct dns_cache_entry *e = *pp;

	*pp = e->hnext;
	dns_cache_unlink(c, e);
	xfree(e->msg);
	xfree(e);
	c->st.entries--;
}

/* dns_cache_drop - remove e, finding its chain slot */
static void
dns_cache_drop(struct dns_cache *c, struct dns_cache_entry *e)
{
	dns_cache_remove(c, dns_cache_find(c, e->hash, e->type, e->wname,
					   e->wlen));
}

/* dns_cache_get - a live cached answer for q into x; false on a miss */
bool
dns_cache_get(struct dns_cache *c, const struct dns_query *q,
	      struct dns_exchange *x)
{
	unsigned char folded[NS_MAXCDNAME];
	uint32_t hash = dns_cache_key(q, folded);
	struct dns_cache_entry **pp, *e;
	long long now = dns_now_ms();
	bool	hit = false;

	pthread_mutex_lock(&c->lock);
	pp = dns_cache_find(c, hash, q->type, folded, q->wlen);
	if ((e = *pp) != NULL && e->expires_ms <= now) {
		dns_cache_remove(c, pp);
		e = NULL;
	}
	if (e != NULL) {
		memcpy(x->ans, e->msg, e->len);
		x->len = e->len;
		x->ttl_left = (long)((e->expires_ms - now + 999) / 1000);
		dns_cache_unlink(c, e);
		dns_cache_push(c, e);
		c->st.hits++;
		hit = true;
	} else {
		c->st.misses++;
	}
	pthread_mutex_unlock(&c->lock);
	if (!hit)
		return false;
	/* it parsed when it was stored; a failure here would be our bug */
	if (ns_initparse(x->ans, (int)x->len, &x->msg) < 0)
		return false;
	x->rcode = x->ans[3] & 0x0f;
	x->via_tcp = false;
	x->cached = true;
	x->status = DNS_OK;
	x->why = "answer received (cached)";
	return true;
}

/* dns_cache_put - keep x's answer to q for its TTL, capped; see dns.h */
void
dns_cache_put(struct dns_cache *c, const struct dns_query *q,
	      struct dns_exchange *x)
{
	unsigned char folded[NS_MAXCDNAME];
	uint32_t hash;
	struct dns_cache_entry **pp, *e;
	unsigned ttl;

	if (x->status != DNS_OK || x->len > DNS_CACHE_MAX_MSG
	    || !dns_msg_ttl(&x->msg, x->rcode, &ttl) || ttl == 0)
		return;				/* RFC 2308 5: no SOA, no caching */
	if (ttl > c->max_ttl)
		ttl = c->max_ttl;
	hash = dns_cache_key(q, folded);
	e = xcalloc(1, sizeof(*e));
	e->hash = hash;
	e->type = q->type;
	e->wlen = q->wlen;
	memcpy(e->wname, folded, q->wlen);
	e->len = x->len;
	e->msg = xmalloc(x->len);
	memcpy(e->msg, x->ans, x->len);

	pthread_mutex_lock(&c->lock);
	e->expires_ms = dns_now_ms() + (long long)ttl * 1000;
	pp = dns_cache_find(c, hash, q->type, folded, q->wlen);
	if (*pp != NULL)
		dns_cache_remove(c, pp);	/* a concurrent miss got there first */
	while (c->st.entries >= c->max_entries && c->tail != NULL) {
		dns_cache_drop(c, c->tail);
		c->st.evictions++;
	}
	pp = dns_cache_find(c, hash, q->type, folded, q->wlen);
	e->hnext = *pp;
	*pp = e;
	dns_cache_push(c, e);
	c->st.entries++;
	c->st.inserts++;
	pthread_mutex_unlock(&c->lock);
}

/* dns_cache_free - release every entry and the cache; takes NULL */
struct dns_cache *
dns_cache_free(struct dns_cache *c)
{
	struct dns_cache_entry *e, *next;

	if (c == NULL)
		return NULL;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		xfree(e->msg);
		xfree(e);
	}
	pthread_mutex_destroy(&c->lock);
	xfree(c->bucket);
	return xfree(c);
}

/* dns_resolver_enable_cache - give r a cache; before r is shared */
int
dns_resolver_enable_cache(struct dns_resolver *r, size_t max_entries,
			  unsigned max_ttl, const char **why)
{
	struct dns_cache *c;

	if (max_entries < 1 || max_entries > DNS_MAX_CACHE_ENTRIES) {
		*why = "cache entries must be between 1 and "
		    DNS_STR(DNS_MAX_CACHE_ENTRIES);
		return -1;
	}
	if (max_ttl < 1 || max_ttl > DNS_MAX_CACHE_TTL) {
		*why = "cache TTL must be between 1 and "
		    DNS_STR(DNS_MAX_CACHE_TTL) " seconds";
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->max_entries = max_entries;
	c->max_ttl = max_ttl;
	/* about one entry per bucket when full, within reason */
	c->nbucket = max_entries < 16 ? 16 : max_entries > 65536 ? 65536
	    : max_entries;
	c->bucket = xcalloc(c->nbucket, sizeof(*c->bucket));
	r->cache = dns_cache_free(r->cache);
	r->cache = c;
	return 0;
}

/* dns_resolver_cache_stats - counters of r's cache; zeros without one */
void
dns_resolver_cache_stats(const struct dns_resolver *r, struct dns_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (r->cache == NULL)
		return;
	pthread_mutex_lock(&r->cache->lock);
	*st = r->cache->st;
	pthread_mutex_unlock(&r->cache->lock);
}
