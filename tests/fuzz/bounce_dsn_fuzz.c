/*++
 * NAME
 *	bounce_dsn_fuzz 1
 * SUMMARY
 *	libFuzzer target for the MIME walker, DSN/ARF parsers and classifier
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	bounce_classify() (which walks the MIME structure and parses any
 *	delivery-status or feedback-report part), to bounce_dsn_parse() and
 *	bounce_arf_parse() directly, and to the JSON writer, and aborts when
 *	a result breaks the contract in bounce_classify.h:
 *	- status 0 or -1; -1 sets why and leaves kind unknown, class none,
 *	  reason other and no recipients;
 *	- nrcpt <= BOUNCE_MAX_RCPTS; every string NUL-terminated within its
 *	  array; statuses empty or a valid RFC 3463 code;
 *	- the report's class and reason are those of its first failed
 *	  recipient (else its first delayed one; DSN and text kinds), hard
 *	  only for user_unknown and domain_unknown;
 *	- the JSON line parses back.
 *	The seed corpus is the bounce corpus (tests/unit/data/bounces/).
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "bounce_arf.h"
#include "bounce_classify.h"
#include "bounce_dsn.h"
#include "bounce_report_json.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_dsn_fuzz: %s\n", what);
	abort();
}

/* check_str - NUL within the array */
static void
check_str(const char *s, size_t cap, const char *what)
{
	if (memchr(s, '\0', cap) == NULL)
		fuzz_fail(what);
}

/* check_status - empty or a valid code */
static void
check_status(const char *s)
{
	char again[16];

	check_str(s, 16, "status not terminated");
	if (s[0] != '\0' && bounce_dsn_status(s, strlen(s), again,
					      sizeof(again)) != strlen(s))
		fuzz_fail("invalid status kept");
}

/* check_report - the contract of bounce_classify */
static void
check_report(const struct bounce_report *r)
{
	const struct bounce_rcpt *x, *first = NULL;
	size_t i;

	if (r->nrcpt > BOUNCE_MAX_RCPTS)
		fuzz_fail("too many recipients");
	for (i = 0; i < r->nrcpt; i++) {
		x = &r->rcpt[i];
		check_str(x->recipient, sizeof(x->recipient), "recipient");
		check_str(x->action, sizeof(x->action), "action");
		check_str(x->diagnostic, sizeof(x->diagnostic), "diagnostic");
		check_str(x->remote_mta, sizeof(x->remote_mta), "remote_mta");
		check_status(x->status);
		if (x->cls == BOUNCE_CLASS_HARD
		    && x->reason != BOUNCE_REASON_USER_UNKNOWN
		    && x->reason != BOUNCE_REASON_DOMAIN_UNKNOWN)
			fuzz_fail("hard class for a soft reason");
		if (first == NULL && x->cls != BOUNCE_CLASS_NONE
		    && strcmp(x->action, "failed") == 0)
			first = x;
		check_str(x->decoder, sizeof(x->decoder), "decoder");
		check_str(x->why, sizeof(x->why), "why");
		check_str(x->command, sizeof(x->command), "command");
	}
	for (i = 0; i < r->nrcpt && first == NULL; i++)
		if (r->rcpt[i].cls != BOUNCE_CLASS_NONE)
			first = &r->rcpt[i];
	if (r->kind == BOUNCE_KIND_DSN || r->kind == BOUNCE_KIND_TEXT) {
		if (first == NULL ? r->cls != BOUNCE_CLASS_NONE
		    || r->reason != BOUNCE_REASON_OTHER
		    : r->cls != first->cls || r->reason != first->reason)
			fuzz_fail("report result is not the first failure's");
	}
	check_str(r->original_message_id, sizeof(r->original_message_id), "mid");
	check_str(r->original_rcpt_hint, sizeof(r->original_rcpt_hint), "hint");
}

/* LLVMFuzzerTestOneInput - one input through every entry point */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_report *r;
	struct bounce_dsn *d;
	struct bounce_arf arf;
	struct json_object *o;
	const char *why;
	char *buf, *line;
	int rc;

	if (size > BOUNCE_MSG_MAX)
		return 0;
	/* An exact-size copy, so reads past len are caught by ASan. */
	buf = malloc(size ? size : 1);
	r = malloc(sizeof(*r));
	d = malloc(sizeof(*d));
	if (buf == NULL || r == NULL || d == NULL)
		abort();
	memcpy(buf, data, size);
	why = NULL;
	rc = bounce_classify(buf, size, r, &why);
	if (rc != 0 && rc != -1)
		fuzz_fail("status");
	if (rc == -1 && (why == NULL || r->kind != BOUNCE_KIND_UNKNOWN
			 || r->cls != BOUNCE_CLASS_NONE || r->nrcpt != 0))
		fuzz_fail("failure contract");
	check_report(r);
	line = bounce_report_json(r, "fuzz", rc ? why : NULL);
	if ((o = json_tokener_parse(line)) == NULL)
		fuzz_fail("JSON does not parse");
	json_object_put(o);
	free(line);
	why = NULL;
	if (bounce_dsn_parse(buf, size, d, &why) != 0 && why == NULL)
		fuzz_fail("dsn why");
	if (d->nrcpt > BOUNCE_MAX_RCPTS || d->nrcpt > d->nrcpt_seen)
		fuzz_fail("dsn count");
	why = NULL;
	if (bounce_arf_parse(buf, size, &arf, &why) != 0 && why == NULL)
		fuzz_fail("arf why");
	free(d);
	free(r);
	free(buf);
	return 0;
}
