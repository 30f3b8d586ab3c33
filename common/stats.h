/*++
 * NAME
 *	stats 3h
 * SUMMARY
 *	counters and histograms of a daemon, in the Prometheus text format
 * SYNOPSIS
 *	#include "stats.h"
 *
 *	struct stats_family *stats_counter(const char *name, const char *help,
 *		const char *labels);
 *	struct stats_family *stats_gauge(const char *name, const char *help,
 *		const char *labels);
 *	struct stats_family *stats_histogram(const char *name, const char *help,
 *		const char *labels, const double *bounds, size_t nbounds);
 *	void stats_add(struct stats_family *f, const char *values, long long n);
 *	void stats_inc(struct stats_family *f, const char *values);
 *	void stats_set(struct stats_family *f, const char *values, long long v);
 *	void stats_observe(struct stats_family *f, const char *values, double v);
 *	char *stats_render(const char *daemon, size_t *len);
 *	int stats_serve(int listen_fd, const char *daemon);
 *	void stats_reset_for_tests(void);
 * DESCRIPTION
 *	A process-wide registry. Families are made once, at start-up, by
 *	the code that counts (a static pointer each); children (one per set
 *	of label values) appear on first use. labels names the family's
 *	labels separated by commas ("result,reason"; "" or NULL for none);
 *	values gives one child's values the same way ("unsigned,nokey").
 *	Values are escaped on output; a value may not contain a comma.
 *
 *	Bounds, so that no input can grow memory: at most STATS_MAX_FAMILIES
 *	families and STATS_MAX_CHILDREN children per family; once a family
 *	is full, further label values are counted in one child whose values
 *	are all "other". Label values come from our code (result words, rule
 *	names from the configuration), never straight from a message.
 *
 *	Histograms take fixed upper bounds (ascending; +Inf is implied),
 *	e.g. STATS_MS_BUCKETS for latencies in milliseconds.
 *
 *	stats_render() writes every family in the Prometheus text format
 *	(version 0.0.4), each sample with a daemon="NAME" label first, one
 *	family per block that starts with its "# HELP" line, so that
 *	postmill-exporter can merge the blocks of several daemons. The
 *	caller frees the text.
 *
 *	stats_serve() starts a thread that accepts on listen_fd (a unix
 *	socket bound by the caller) and writes stats_render() to each
 *	client, then closes it. It reads nothing from the client: there is
 *	no request to parse. A client that does not read is dropped after
 *	STATS_WRITE_TIMEOUT_MS. Returns 0, or -1 when no thread could be
 *	started.
 * THREAD SAFETY
 *	Everything may be called from any thread. Updates are atomic adds;
 *	a new child takes the family's mutex once.
 *--*/
#ifndef POSTMILL_STATS_H
#define POSTMILL_STATS_H

#include <stddef.h>

#define STATS_MAX_FAMILIES	128
#define STATS_MAX_CHILDREN	256
#define STATS_MAX_LABELS	4
#define STATS_MAX_BUCKETS	16
#define STATS_WRITE_TIMEOUT_MS	2000

/* latencies in milliseconds: from a cache hit to a slow DNS answer */
#define STATS_MS_BUCKETS	{0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
#define STATS_MS_NBUCKETS	15

struct stats_family;

struct stats_family *stats_counter(const char *name, const char *help,
				   const char *labels);
struct stats_family *stats_gauge(const char *name, const char *help,
				 const char *labels);
struct stats_family *stats_histogram(const char *name, const char *help,
				     const char *labels, const double *bounds,
				     size_t nbounds);
void	stats_add(struct stats_family *f, const char *values, long long n);
void	stats_inc(struct stats_family *f, const char *values);
void	stats_set(struct stats_family *f, const char *values, long long v);
void	stats_observe(struct stats_family *f, const char *values, double v);
char   *stats_render(const char *daemon, size_t *len);
int	stats_serve(int listen_fd, const char *daemon);
void	stats_reset_for_tests(void);

#endif
