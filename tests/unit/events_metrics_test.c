/*++
 * NAME
 *	events_metrics_test 1
 * SUMMARY
 *	unit tests of the per-tenant counters (tools/postmill-events/
 *	events_metrics.c)
 * DESCRIPTION
 *	A batch of events of four tenants counted with room for two: the
 *	first two seen have their own label, the others are "other"; sent is
 *	the accepted events; bounced splits hard and soft (anything not hard
 *	is soft); an event without a tenant is "none"; a comma in a tenant
 *	becomes '_'; event types without a counter (none here but an unknown
 *	one) are not counted. Each expectation is a row: the exact line of
 *	the rendered text.
 *--*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tcase.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "stats.h"

/* add - one event */
static void
add(struct events_batch *b, const char *type, const char *tenant, const char *cls)
{
	struct events_ev *e = events_batch_add(b);

	events_ev_set(e, "type", type);
	events_ev_set(e, "tenant", tenant);
	if (cls != NULL)
		events_ev_set(e, "class", cls);
}

/* has_line - text has this exact line */
static int
has_line(const char *text, const char *line)
{
	size_t	n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* test_bounded - two tenants of their own, the rest "other" */
static void
test_bounded(void **state)
{
	static const struct {
		const char *name, *line;
	} want[] = {
		{"sent a", "postmill_tenant_sent_total{daemon=\"events\",tenant=\"a.test\"} 2"},
		{"sent login", "postmill_tenant_sent_total{daemon=\"events\",tenant=\"login:bob\"} 1"},
		{"sent other", "postmill_tenant_sent_total{daemon=\"events\",tenant=\"other\"} 2"},
		{"delivered a", "postmill_tenant_delivered_total{daemon=\"events\",tenant=\"a.test\"} 1"},
		{"deferred other", "postmill_tenant_deferred_total{daemon=\"events\",tenant=\"other\"} 1"},
		{"hard", "postmill_tenant_bounced_total{daemon=\"events\",tenant=\"a.test\",class=\"hard\"} 1"},
		{"soft", "postmill_tenant_bounced_total{daemon=\"events\",tenant=\"a.test\",class=\"soft\"} 2"},
		{"complained", "postmill_tenant_complained_total{daemon=\"events\",tenant=\"login:bob\"} 1"},
		{"unsubscribed", "postmill_tenant_unsubscribed_total{daemon=\"events\",tenant=\"other\"} 1"},
		{"opened", "postmill_tenant_opened_total{daemon=\"events\",tenant=\"a.test\"} 1"},
		{"clicked", "postmill_tenant_clicked_total{daemon=\"events\",tenant=\"login:bob\"} 1"},
		{"suppressed none", "postmill_tenant_suppressed_total{daemon=\"events\",tenant=\"none\"} 1"},
	};
	static const char *const absent[] = {"c.test", "d_x.test", "d,x.test", "mystery"};
	struct events_batch b;
	size_t	 len;
	char	*text;

	(void)state;
	stats_reset_for_tests();
	events_metrics_init(2);
	events_batch_init(&b);
	add(&b, "accepted", "a.test", NULL);
	add(&b, "accepted", "login:bob", NULL);
	add(&b, "accepted", "c.test", NULL);		/* a third: other */
	add(&b, "accepted", "a.test", NULL);
	add(&b, "accepted", "d,x.test", NULL);
	add(&b, "delivered", "a.test", NULL);
	add(&b, "deferred", "c.test", NULL);
	add(&b, "bounced", "a.test", "hard");
	add(&b, "bounced", "a.test", "soft");
	add(&b, "bounced", "a.test", "");
	add(&b, "complained", "login:bob", "complaint");
	add(&b, "unsubscribed", "d,x.test", NULL);
	add(&b, "opened", "a.test", NULL);
	add(&b, "clicked", "login:bob", NULL);
	add(&b, "suppressed", "", NULL);
	add(&b, "mystery", "a.test", NULL);
	events_metrics_count(&b);
	text = stats_render("events", &len);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(text, want[i].line))
			tcase_bad(want[i].name, "no line %s in\n%s", want[i].line, text);
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (strstr(text, absent[i]) != NULL)
			tcase_bad(absent[i], "%s has a label of its own", absent[i]);
	free(text);
	events_batch_reset(&b);
	free(b.ev);
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests_name("events_metrics", tests, NULL, NULL);
}
