/*++
 * NAME
 *	milter_sessions 3
 * SUMMARY
 *	the set of milter sessions in progress, for the drain at stop
 * DESCRIPTION
 *	See milter_sessions.h. The set is a chained hash table of session
 *	handles under one mutex; it grows (doubling) so that thousands of
 *	open connections keep start/end O(1). A condition variable wakes
 *	milter_sessions_wait() when the set becomes empty.
 *--*/
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "milter_sessions.h"
#include "xalloc.h"

struct sess_node {
	const void		*key;
	struct sess_node	*next;
};

static pthread_mutex_t sess_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sess_empty = PTHREAD_COND_INITIALIZER;
static struct sess_node **sess_table;
static size_t sess_size;	/* buckets, a power of two */
static unsigned sess_count;

/* sess_bucket - the bucket of a pointer (pointers are aligned: mix) */
static size_t
sess_bucket(const void *key, size_t size)
{
	uintptr_t k = (uintptr_t)key;

	k ^= k >> 17;
	k *= (uintptr_t)0x9E3779B97F4A7C15ull;
	k ^= k >> 29;
	return (size_t)k & (size - 1);
}

/* sess_grow - double the table when it holds as many keys as buckets */
static void
sess_grow(void)
{
	size_t size = sess_size ? sess_size * 2 : 64;
	struct sess_node **table = xcalloc(size, sizeof(*table));

	for (size_t i = 0; i < sess_size; i++) {
		struct sess_node *n = sess_table[i], *next;

		for (; n != NULL; n = next) {
			size_t b = sess_bucket(n->key, size);

			next = n->next;
			n->next = table[b];
			table[b] = n;
		}
	}
	free(sess_table);
	sess_table = table;
	sess_size = size;
}

/* milter_sessions_start - ctx is in a session (again: no change) */
void
milter_sessions_start(const void *ctx)
{
	struct sess_node *n;

	pthread_mutex_lock(&sess_lock);
	if (sess_count >= sess_size)
		sess_grow();
	for (n = sess_table[sess_bucket(ctx, sess_size)]; n != NULL; n = n->next)
		if (n->key == ctx)
			break;
	if (n == NULL) {
		size_t b = sess_bucket(ctx, sess_size);

		n = xmalloc(sizeof(*n));
		n->key = ctx;
		n->next = sess_table[b];
		sess_table[b] = n;
		sess_count++;
	}
	pthread_mutex_unlock(&sess_lock);
}

/* milter_sessions_end - ctx's session is over (not in one: no change) */
void
milter_sessions_end(const void *ctx)
{
	pthread_mutex_lock(&sess_lock);
	if (sess_size > 0) {
		struct sess_node **pp = &sess_table[sess_bucket(ctx, sess_size)];

		for (; *pp != NULL; pp = &(*pp)->next) {
			if ((*pp)->key == ctx) {
				struct sess_node *n = *pp;

				*pp = n->next;
				free(n);
				if (--sess_count == 0)
					pthread_cond_broadcast(&sess_empty);
				break;
			}
		}
	}
	pthread_mutex_unlock(&sess_lock);
}

/* milter_sessions_count - sessions in progress now */
unsigned
milter_sessions_count(void)
{
	unsigned n;

	pthread_mutex_lock(&sess_lock);
	n = sess_count;
	pthread_mutex_unlock(&sess_lock);
	return n;
}

/* milter_sessions_wait - until no session is left or SECONDS passed */
unsigned
milter_sessions_wait(unsigned seconds)
{
	struct timespec until;
	unsigned n;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&sess_lock);
	while (sess_count > 0) {
		if (pthread_cond_timedwait(&sess_empty, &sess_lock, &until) == ETIMEDOUT)
			break;
	}
	n = sess_count;
	pthread_mutex_unlock(&sess_lock);
	return n;
}
