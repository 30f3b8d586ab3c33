/*++
 * NAME
 *	stats 3
 * SUMMARY
 *	counters and histograms of a daemon, in the Prometheus text format
 * DESCRIPTION
 *	See stats.h. Why a stats socket and not HTTP in the milter: a milter
 *	process holds signing keys and sits in the mail path; an HTTP server
 *	there would parse requests from whoever reaches its port. The stats
 *	socket parses nothing (it writes and closes) and is a unix socket
 *	with the milter socket's permissions; postmill-exporter, a separate
 *	unprivileged process, is the one HTTP server and merges the daemons.
 *
 *	Memory is fixed at start: families live in a static array and each
 *	family's children in a fixed array, so an update never allocates
 *	after a child's first use and no label value can grow the registry
 *	past its bounds.
 *--*/
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "name_code.h"
#include "stats.h"
#include "xalloc.h"

enum stats_type { STATS_COUNTER, STATS_GAUGE, STATS_HISTOGRAM };

/* the "# TYPE" words of the exposition format */
static const struct name_code stats_type_word[] = {
	{"counter", STATS_COUNTER},
	{"gauge", STATS_GAUGE},
	{"histogram", STATS_HISTOGRAM},
	{NULL, -1},
};

#define STATS_RENDER_MAX	(16 * 1024 * 1024)	/* one scrape's text */
#define STATS_VALUES_LEN	128	/* one child's joined label values */

struct stats_child {
	char		values[STATS_VALUES_LEN];	/* "v1,v2" as given */
	_Atomic long long value;			/* counter, gauge */
	_Atomic unsigned long long bucket[STATS_MAX_BUCKETS + 1]; /* histogram, +Inf last */
	_Atomic long long sum_milli;			/* histogram: sum x 1000 */
	_Atomic unsigned long long count;		/* histogram */
};

struct stats_family {
	char		name[80];
	char		help[160];
	enum stats_type type;
	char		labels[STATS_MAX_LABELS][32];
	unsigned	nlabels;
	double		bounds[STATS_MAX_BUCKETS];
	size_t		nbounds;
	pthread_mutex_t	lock;			/* guards adding children */
	struct stats_child *child[STATS_MAX_CHILDREN];
	_Atomic unsigned nchildren;
};

static struct stats_family stats_families[STATS_MAX_FAMILIES];
static _Atomic unsigned stats_nfamilies;
static pthread_mutex_t stats_registry_lock = PTHREAD_MUTEX_INITIALIZER;

/* stats_split_labels - "a,b" into f->labels; false when malformed */
static bool
stats_split_labels(struct stats_family *f, const char *labels)
{
	const char *cp = labels;

	f->nlabels = 0;
	if (labels == NULL || *labels == '\0')
		return true;
	while (*cp != '\0') {
		size_t	n = strcspn(cp, ",");

		if (n == 0 || n >= sizeof(f->labels[0]) || f->nlabels == STATS_MAX_LABELS)
			return false;
		memcpy(f->labels[f->nlabels], cp, n);
		f->labels[f->nlabels++][n] = '\0';
		cp += n;
		if (*cp == ',')
			cp++;
	}
	return true;
}

/* stats_family_new - find name, or register it; aborts on a programming error */
static struct stats_family *
stats_family_new(const char *name, const char *help, enum stats_type type,
		 const char *labels, const double *bounds, size_t nbounds)
{
	struct stats_family *f = NULL;
	unsigned n;

	pthread_mutex_lock(&stats_registry_lock);
	n = atomic_load(&stats_nfamilies);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(stats_families[i].name, name) == 0) {
			/* the same family asked for twice (a reload): one family */
			pthread_mutex_unlock(&stats_registry_lock);
			return &stats_families[i];
		}
	if (n == STATS_MAX_FAMILIES || strlen(name) >= sizeof(f->name)
	    || nbounds > STATS_MAX_BUCKETS) {
		/* our code registers families; running out is our bug */
		fprintf(stderr, "stats: cannot register %s\n", name);
		abort();
	}
	f = &stats_families[n];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->help, sizeof(f->help), "%s", help);
	f->type = type;
	if (!stats_split_labels(f, labels)) {
		fprintf(stderr, "stats: bad label list for %s\n", name);
		abort();
	}
	for (size_t i = 0; i < nbounds; i++)
		f->bounds[i] = bounds[i];
	f->nbounds = nbounds;
	pthread_mutex_init(&f->lock, NULL);
	atomic_store(&stats_nfamilies, n + 1);
	pthread_mutex_unlock(&stats_registry_lock);
	return f;
}

/* stats_counter - a counter family; see stats.h */
struct stats_family *
stats_counter(const char *name, const char *help, const char *labels)
{
	return stats_family_new(name, help, STATS_COUNTER, labels, NULL, 0);
}

/* stats_gauge - a gauge family; see stats.h */
struct stats_family *
stats_gauge(const char *name, const char *help, const char *labels)
{
	return stats_family_new(name, help, STATS_GAUGE, labels, NULL, 0);
}

/* stats_histogram - a histogram family; see stats.h */
struct stats_family *
stats_histogram(const char *name, const char *help, const char *labels,
		const double *bounds, size_t nbounds)
{
	return stats_family_new(name, help, STATS_HISTOGRAM, labels, bounds, nbounds);
}

/* stats_other - the values of the overflow child: "other" per label */
static void
stats_other(const struct stats_family *f, char *out, size_t len)
{
	size_t	off = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < f->nlabels && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%sother", i ? "," : "");
}

/* stats_child - the child for values, made on first use */
static struct stats_child *
stats_child(struct stats_family *f, const char *values)
{
	char	other[STATS_VALUES_LEN];
	unsigned n;

	if (values == NULL)
		values = "";
	n = atomic_load_explicit(&f->nchildren, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(f->child[i]->values, values) == 0)
			return f->child[i];
	pthread_mutex_lock(&f->lock);
	n = atomic_load(&f->nchildren);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(f->child[i]->values, values) == 0) {
			pthread_mutex_unlock(&f->lock);
			return f->child[i];
		}
	/* the last slot is kept for "other": a full family still counts */
	if (n >= STATS_MAX_CHILDREN - 1 || strlen(values) >= STATS_VALUES_LEN) {
		stats_other(f, other, sizeof(other));
		for (unsigned i = 0; i < n; i++)
			if (strcmp(f->child[i]->values, other) == 0) {
				pthread_mutex_unlock(&f->lock);
				return f->child[i];
			}
		values = other;
	}
	struct stats_child *c = xcalloc(1, sizeof(*c));

	snprintf(c->values, sizeof(c->values), "%s", values);
	f->child[n] = c;
	atomic_store_explicit(&f->nchildren, n + 1, memory_order_release);
	pthread_mutex_unlock(&f->lock);
	return c;
}

/* stats_add - counter += n; see stats.h */
void
stats_add(struct stats_family *f, const char *values, long long n)
{
	if (f != NULL)
		atomic_fetch_add(&stats_child(f, values)->value, n);
}

/* stats_inc - counter += 1 */
void
stats_inc(struct stats_family *f, const char *values)
{
	stats_add(f, values, 1);
}

/* stats_set - gauge = v */
void
stats_set(struct stats_family *f, const char *values, long long v)
{
	if (f != NULL)
		atomic_store(&stats_child(f, values)->value, v);
}

/* stats_observe - one histogram observation */
void
stats_observe(struct stats_family *f, const char *values, double v)
{
	struct stats_child *c;
	size_t	b;

	if (f == NULL || v != v)
		return;
	c = stats_child(f, values);
	for (b = 0; b < f->nbounds && v > f->bounds[b]; b++)
		;
	atomic_fetch_add(&c->bucket[b], 1);
	atomic_fetch_add(&c->sum_milli, (long long)(v * 1000.0 + (v < 0 ? -0.5 : 0.5)));
	atomic_fetch_add(&c->count, 1);
}

/*
 * Rendering.
 */

/* stats_put_escaped - a label value: backslash, quote and newline escaped */
static void
stats_put_escaped(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char	c = s[i];

		if (c == '\\' || c == '"')
			buf_printf(b, "\\%c", c);
		else if (c == '\n')
			buf_printf(b, "\\n");
		else
			buf_append(b, &c, 1);
	}
}

/* stats_put_labels - {daemon="d",l1="v1",...[,le="x"]} */
static void
stats_put_labels(struct buf *b, const char *daemon,
		 const struct stats_family *f, const char *values, const char *le)
{
	const char *cp = values;

	buf_printf(b, "{daemon=\"");
	stats_put_escaped(b, daemon, strlen(daemon));
	buf_printf(b, "\"");
	for (unsigned i = 0; i < f->nlabels; i++) {
		size_t	n = strcspn(cp, ",");

		buf_printf(b, ",%s=\"", f->labels[i]);
		stats_put_escaped(b, cp, n);
		buf_printf(b, "\"");
		cp += n;
		if (*cp == ',')
			cp++;
	}
	if (le != NULL)
		buf_printf(b, ",le=\"%s\"", le);
	buf_printf(b, "}");
}

/* stats_render_family - one block */
static void
stats_render_family(struct buf *b, const char *daemon,
		    struct stats_family *f)
{
	unsigned n = atomic_load_explicit(&f->nchildren, memory_order_acquire);

	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		  name_code_str(stats_type_word, f->type));
	for (unsigned i = 0; i < n; i++) {
		struct stats_child *c = f->child[i];

		if (f->type != STATS_HISTOGRAM) {
			buf_printf(b, "%s", f->name);
			stats_put_labels(b, daemon, f, c->values, NULL);
			buf_printf(b, " %lld\n", atomic_load(&c->value));
			continue;
		}
		unsigned long long cum = 0;
		char	le[32];

		for (size_t k = 0; k <= f->nbounds; k++) {
			cum += atomic_load(&c->bucket[k]);
			if (k < f->nbounds)
				snprintf(le, sizeof(le), "%g", f->bounds[k]);
			else
				snprintf(le, sizeof(le), "+Inf");
			buf_printf(b, "%s_bucket", f->name);
			stats_put_labels(b, daemon, f, c->values, le);
			buf_printf(b, " %llu\n", cum);
		}
		buf_printf(b, "%s_sum", f->name);
		stats_put_labels(b, daemon, f, c->values, NULL);
		buf_printf(b, " %.3f\n", (double)atomic_load(&c->sum_milli) / 1000.0);
		buf_printf(b, "%s_count", f->name);
		stats_put_labels(b, daemon, f, c->values, NULL);
		buf_printf(b, " %llu\n", atomic_load(&c->count));
	}
}

/* stats_render - every family as Prometheus text; see stats.h. The text
 * is bounded (STATS_RENDER_MAX): a scrape that would pass it ends at the
 * last whole family, so that Prometheus still parses what it gets. */
char *
stats_render(const char *daemon, size_t *len)
{
	struct buf *b = buf_new(STATS_RENDER_MAX);
	unsigned n = atomic_load(&stats_nfamilies);

	for (unsigned i = 0; i < n; i++) {
		size_t mark = buf_len(b);

		stats_render_family(b, daemon, &stats_families[i]);
		if (buf_failed(b)) {
			buf_cut(b, mark);
			break;
		}
	}
	return buf_export(b, len);
}

/*
 * The stats socket.
 */
struct stats_server {
	int	 fd;
	char	*daemon;
};

/* stats_send_all - the whole text, or give up on this client */
static void
stats_send_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t	n = send(fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* gone, or SO_SNDTIMEO passed */
		text += n;
		len -= (size_t)n;
	}
}

/* stats_thread - accept, write, close, forever */
static void *
stats_thread(void *arg)
{
	struct stats_server *s = arg;
	struct timeval tv = {STATS_WRITE_TIMEOUT_MS / 1000,
			     (STATS_WRITE_TIMEOUT_MS % 1000) * 1000};

	for (;;) {
		int	fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		size_t	len;
		char	*text;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE
			    || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (errno != EINTR && errno != ECONNABORTED)
					usleep(100000);	/* out of descriptors: let others finish */
				continue;
			}
			return NULL;	/* the socket was closed: we are done */
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		text = stats_render(s->daemon, &len);
		stats_send_all(fd, text, len);
		free(text);
		close(fd);
	}
}

/* stats_serve - answer every connection on listen_fd; see stats.h */
int
stats_serve(int listen_fd, const char *daemon)
{
	struct stats_server *s = xcalloc(1, sizeof(*s));
	pthread_attr_t attr;
	pthread_t tid;
	int	rc;

	s->fd = listen_fd;
	s->daemon = xstrdup(daemon);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, stats_thread, s);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(s->daemon);
		free(s);
		return -1;
	}
	return 0;
}

/* stats_reset_for_tests - forget every family (unit tests only) */
void
stats_reset_for_tests(void)
{
	unsigned n = atomic_load(&stats_nfamilies);

	for (unsigned i = 0; i < n; i++) {
		struct stats_family *f = &stats_families[i];

		for (unsigned k = 0; k < atomic_load(&f->nchildren); k++)
			free(f->child[k]);
		pthread_mutex_destroy(&f->lock);
	}
	atomic_store(&stats_nfamilies, 0);
}
