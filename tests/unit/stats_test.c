/*++
 * NAME
 *	stats_test 1
 * SUMMARY
 *	unit tests of common/stats.c: the registry, the text format, the socket
 * DESCRIPTION
 *	Families and updates from tables, rendered and compared line by line
 *	with the Prometheus text format (escaping, histogram buckets that
 *	are cumulative, _sum and _count), the overflow into "other" once a
 *	family has STATS_MAX_CHILDREN children, eight threads counting one
 *	child, and stats_serve() answering on a real unix socket.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "stats_merge.h"
#include "tcase.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* has_line - does text hold exactly this line */
static bool
has_line(const char *text, const char *line)
{
	size_t	n = strlen(line);

	for (const char *cp = text; (cp = strstr(cp, line)) != NULL; cp++)
		if ((cp == text || cp[-1] == '\n') && cp[n] == '\n')
			return true;
	return false;
}

struct render_case {
	const char	*name;
	const char	*line;		/* must appear as a whole line */
};

/* test_render - counters, gauges, labels, escaping */
static void
test_render(void **state)
{
	static const double bounds[] = {1, 5, 10};
	struct stats_family *signed_, *inflight, *lat, *plain;
	static const struct render_case want[] = {
		{"help", "# HELP postmill_test_messages_total Messages by result."},
		{"type", "# TYPE postmill_test_messages_total counter"},
		{"signed", "postmill_test_messages_total{daemon=\"dkim\",result=\"signed\",reason=\"\"} 3"},
		{"unsigned", "postmill_test_messages_total{daemon=\"dkim\",result=\"unsigned\",reason=\"nokey\"} 1"},
		{"escaped", "postmill_test_messages_total{daemon=\"dkim\",result=\"q\\\"b\\\\s\\n\",reason=\"x\"} 2"},
		{"gauge-type", "# TYPE postmill_test_sessions gauge"},
		{"gauge", "postmill_test_sessions{daemon=\"dkim\"} 7"},
		{"no-labels", "postmill_test_plain_total{daemon=\"dkim\"} 42"},
		{"hist-type", "# TYPE postmill_test_latency_ms histogram"},
		{"bucket-1", "postmill_test_latency_ms_bucket{daemon=\"dkim\",stage=\"eom\",le=\"1\"} 2"},
		{"bucket-5", "postmill_test_latency_ms_bucket{daemon=\"dkim\",stage=\"eom\",le=\"5\"} 3"},
		{"bucket-10", "postmill_test_latency_ms_bucket{daemon=\"dkim\",stage=\"eom\",le=\"10\"} 3"},
		{"bucket-inf", "postmill_test_latency_ms_bucket{daemon=\"dkim\",stage=\"eom\",le=\"+Inf\"} 4"},
		{"sum", "postmill_test_latency_ms_sum{daemon=\"dkim\",stage=\"eom\"} 106.500"},
		{"count", "postmill_test_latency_ms_count{daemon=\"dkim\",stage=\"eom\"} 4"},
	};
	size_t	len;
	char	*text;

	(void)state;
	stats_reset_for_tests();
	signed_ = stats_counter("postmill_test_messages_total", "Messages by result.", "result,reason");
	inflight = stats_gauge("postmill_test_sessions", "Sessions open now.", NULL);
	plain = stats_counter("postmill_test_plain_total", "Plain.", "");
	lat = stats_histogram("postmill_test_latency_ms", "Latency.", "stage", bounds, NELEM(bounds));
	/* asking again gives the same family */
	assert_ptr_equal(stats_counter("postmill_test_messages_total", "x", "result,reason"), signed_);
	stats_inc(signed_, "signed,");
	stats_add(signed_, "signed,", 2);
	stats_inc(signed_, "unsigned,nokey");
	stats_add(signed_, "q\"b\\s\n,x", 2);
	stats_set(inflight, NULL, 9);
	stats_set(inflight, NULL, 7);
	stats_add(plain, NULL, 42);
	stats_observe(lat, "eom", 0.5);
	stats_observe(lat, "eom", 1.0);	/* on the bound: le="1" */
	stats_observe(lat, "eom", 5.0);
	stats_observe(lat, "eom", 100.0);
	text = stats_render("dkim", &len);
	assert_int_equal(strlen(text), len);
	for (size_t i = 0; i < NELEM(want); i++)
		if (!has_line(text, want[i].line))
			tcase_bad(want[i].name, "line missing: %s", want[i].line);
	/* one HELP per family: postmill-exporter merges blocks by it */
	assert_ptr_equal(strstr(strstr(text, "# HELP postmill_test_messages_total") + 1,
				"# HELP postmill_test_messages_total"), NULL);
	if (getenv("STATS_TEST_SHOW"))
		fputs(text, stderr);
	free(text);
	tcase_done();
}

/* test_overflow - a full family counts the rest as "other" */
static void
test_overflow(void **state)
{
	struct stats_family *f;
	char	v[32], *text;
	size_t	len;

	(void)state;
	stats_reset_for_tests();
	f = stats_counter("postmill_test_rules_total", "By rule.", "rule,action");
	for (int i = 0; i < STATS_MAX_CHILDREN + 50; i++) {
		snprintf(v, sizeof(v), "r%d,accept", i);
		stats_inc(f, v);
	}
	text = stats_render("limit", &len);
	assert_true(has_line(text, "postmill_test_rules_total{daemon=\"limit\",rule=\"r0\",action=\"accept\"} 1"));
	/* 255 named children, and "other" took the remaining 51 */
	assert_true(has_line(text, "postmill_test_rules_total{daemon=\"limit\",rule=\"other\",action=\"other\"} 51"));
	assert_false(has_line(text, "postmill_test_rules_total{daemon=\"limit\",rule=\"r255\",action=\"accept\"} 1"));
	free(text);
}

static struct stats_family *race_family;

/* race - 100000 increments of one child */
static void *
race(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		stats_inc(race_family, i % 2 ? "a" : "b");
	return NULL;
}

/* test_threads - no increment lost with eight threads */
static void
test_threads(void **state)
{
	pthread_t t[8];
	char	*text;
	size_t	len;

	(void)state;
	stats_reset_for_tests();
	race_family = stats_counter("postmill_test_race_total", "Race.", "k");
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race, NULL), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	text = stats_render("x", &len);
	assert_true(has_line(text, "postmill_test_race_total{daemon=\"x\",k=\"a\"} 400000"));
	assert_true(has_line(text, "postmill_test_race_total{daemon=\"x\",k=\"b\"} 400000"));
	free(text);
}

/* test_serve - a client of the stats socket reads the text and EOF */
static void
test_serve(void **state)
{
	struct sockaddr_un sun;
	char	dir[] = "/tmp/postmill-stats-XXXXXX";
	char	buf[65536];
	size_t	got = 0;
	int	lfd, fd;

	(void)state;
	stats_reset_for_tests();
	stats_add(stats_counter("postmill_test_served_total", "Served.", NULL), NULL, 5);
	assert_non_null(mkdtemp(dir));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/t.stats", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(stats_serve(lfd, "auth"), 0);
	for (int round = 0; round < 3; round++) {
		got = 0;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		for (;;) {
			ssize_t	n = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = '\0';
		close(fd);
		assert_true(has_line(buf, "postmill_test_served_total{daemon=\"auth\"} 5"));
	}
	unlink(sun.sun_path);
	rmdir(dir);
}

struct merge_case {
	const char	*name;
	const char	*a, *b;		/* two daemons' texts */
	const char	*want;		/* the merged exposition */
};

static const struct merge_case merge_cases[] = {
	{"shared-family",
	 "# HELP m_total M.\n# TYPE m_total counter\nm_total{daemon=\"dkim\"} 1\n",
	 "# HELP m_total M.\n# TYPE m_total counter\nm_total{daemon=\"auth\"} 2\n",
	 "# HELP m_total M.\n# TYPE m_total counter\nm_total{daemon=\"dkim\"} 1\nm_total{daemon=\"auth\"} 2\n"},
	{"own-families-in-order",
	 "# HELP a A.\n# TYPE a gauge\na{daemon=\"x\"} 1\n# HELP s S.\n# TYPE s counter\ns{daemon=\"x\"} 3\n",
	 "# HELP b B.\n# TYPE b gauge\nb{daemon=\"y\"} 2\n# HELP s S.\n# TYPE s counter\ns{daemon=\"y\"} 4\n",
	 "# HELP a A.\n# TYPE a gauge\na{daemon=\"x\"} 1\n# HELP s S.\n# TYPE s counter\ns{daemon=\"x\"} 3\ns{daemon=\"y\"} 4\n# HELP b B.\n# TYPE b gauge\nb{daemon=\"y\"} 2\n"},
	{"junk-before-help-dropped", "garbage\nmore{x} 1\n# HELP a A.\na 1", "",
	 "# HELP a A.\na 1\n"},
	{"empty", "", "", ""},
	{"no-newline-at-end", "# HELP a A.\n# TYPE a counter\na 5", "# HELP a A.\na 6",
	 "# HELP a A.\n# TYPE a counter\na 5\na 6\n"},
	{"nameless-help", "# HELP \nx 1\n", "", ""},
};

/* test_merge - blocks of two daemons under one HELP/TYPE per family */
static void
test_merge(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(merge_cases); i++) {
		const struct merge_case *c = &merge_cases[i];
		const char *texts[2] = {c->a, c->b};
		size_t	lens[2] = {strlen(c->a), strlen(c->b)}, len;
		char	*got = stats_merge(texts, lens, 2, &len);

		if (strcmp(got, c->want) != 0 || len != strlen(c->want))
			tcase_bad(c->name, "got \"%s\", want \"%s\"", got, c->want);
		free(got);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
