/*++
 * NAME
 *	bounce_text_fuzz 1
 * SUMMARY
 *	libFuzzer target for the bounce-text decoders and the reason rules
 * DESCRIPTION
 *	Feeds the input, with its length and without a terminating NUL, to
 *	the pure decoders of untrusted bounce text: bounce_text_recipients()
 *	(per-MTA recipient layouts), bounce_ses_parse() (Amazon SES
 *	notifications), bounce_smtp_command(),
 *	bounce_smtp_inner(), bounce_mta_identify() (the input read as a
 *	header block), bounce_mta_own_unknown(), bounce_mta_by_reporting()
 *	(when the input holds a NUL), bounce_mta_own_reason(),
 *	bounce_provider_rcpt(),
 *	bounce_reason_from_text() and bounce_reason_decide() (at a named
 *	stage and at none, with a provider's recipient), and aborts when a result breaks its
 *	contract: recipients within max, NUL-terminated and containing an
 *	'@'; a quoted reply inside the input; a command in range; a reason
 *	in range with a NUL-terminated why; class hard only for
 *	user_unknown and domain_unknown. The seed corpus
 *	(tests/fuzz/corpus/bounce_text/) is a sample of the development set
 *	of bounces, one message per MTA family.
 *--*/
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_classify.h"
#include "bounce_mta.h"
#include "bounce_provider.h"
#include "bounce_reason.h"
#include "bounce_ses.h"
#include "bounce_smtp.h"
#include "bounce_text.h"

/* fuzz_fail - report a broken invariant and crash so libFuzzer saves it */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "bounce_text_fuzz: %s\n", what);
	abort();
}

/* LLVMFuzzerTestOneInput - one input through every decoder */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bounce_text_rcpt out[BOUNCE_MAX_RCPTS];
	static const char *const actions[] = {"failed", "delayed"};
	struct bounce_reason_in in;
	struct bounce_reason_ctx ctx;
	enum bounce_reason r;
	enum bounce_class c;
	enum bounce_smtp_cmd cmd;
	char why[192];
	size_t n, i, a, b;
	char *buf;
	int row;

	if (size > BOUNCE_TEXT_MAX)
		return 0;
	buf = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	n = bounce_text_recipients(buf, size, "a@b.test", NULL, out,
				   BOUNCE_MAX_RCPTS);
	if (n > BOUNCE_MAX_RCPTS)
		fuzz_fail("too many recipients");
	for (i = 0; i < n; i++) {
		if (memchr(out[i].addr, '\0', sizeof(out[i].addr)) == NULL
		    || memchr(out[i].diag, '\0', sizeof(out[i].diag)) == NULL)
			fuzz_fail("recipient not terminated");
		if (strchr(out[i].addr, '@') == NULL)
			fuzz_fail("recipient without @");
	}
	{
		static struct bounce_ses ses;
		static char scratch[BOUNCE_TEXT_MAX];

		if (bounce_ses_parse(buf, size, scratch, sizeof(scratch), &ses)
		    && (ses.nrcpt == 0 || ses.nrcpt > BOUNCE_MAX_RCPTS
			|| memchr(ses.rcpt[0].addr, '\0',
				  sizeof(ses.rcpt[0].addr)) == NULL))
			fuzz_fail("ses");
	}
	cmd = bounce_smtp_command(buf, size);
	if (cmd > BOUNCE_SMTP_DATA)
		fuzz_fail("command out of range");
	if (bounce_smtp_inner(buf, size, &a, &b) && (a >= b || b > size))
		fuzz_fail("quoted reply outside the input");
	{
		enum bounce_mta mta = bounce_mta_identify(buf, size);
		const char *own = NULL;
		char what[96];

		if (bounce_mta_name(mta) == NULL
		    || (bounce_mta_own_unknown(mta, buf, size, &own)
			&& own == NULL))
			fuzz_fail("mta");
		if (size > 0 && memchr(buf, '\0', size) != NULL
		    && bounce_mta_own_reason(bounce_mta_by_reporting(buf), buf,
					     size, &r, &own)
		    && ((int)r < 0 || r > BOUNCE_REASON_COMPLAINT || own == NULL))
			fuzz_fail("mta reporting");
		if (bounce_provider_rcpt("a@ezweb.ne.jp", "dns; mx.au.com (x)",
					 buf, size, &r, what, sizeof(what))
		    && ((int)r < 0 || r > BOUNCE_REASON_COMPLAINT
			|| memchr(what, '\0', sizeof(what)) == NULL))
			fuzz_fail("provider rcpt");
	}
	r = bounce_reason_from_text(buf, size, &row);
	if ((r == BOUNCE_REASON_OTHER) != (row < 0) && row >= 0
	    && r != BOUNCE_REASON_OTHER)
		fuzz_fail("row and reason disagree");
	for (i = 0; i < 4; i++) {
		memset(&in, 0, sizeof(in));
		in.diag = buf;
		in.dlen = size;
		in.status = i == 1 ? "4.4.7" : i == 2 ? "5.0.0" : i == 3 ? ""
		    : "5.1.1";
		in.action = actions[i == 1];
		in.cmd = i >= 2 ? BOUNCE_SMTP_NONE : (int)cmd;
		if (i == 3) {
			in.text = buf;
			in.tlen = size;
		}
		ctx.rcpt = "a@ezweb.ne.jp";
		ctx.remote_mta = "dns; mx.example.test";
		ctx.mta = (int)bounce_mta_identify(buf, size);
		r = i == 3 ? bounce_reason_decide_ctx(&in, &ctx, why, sizeof(why))
		    : bounce_reason_decide(&in, why, sizeof(why));
		if ((int)r < 0 || r > BOUNCE_REASON_COMPLAINT
		    || memchr(why, '\0', sizeof(why)) == NULL)
			fuzz_fail("decide");
		c = bounce_class_of(r, in.action, in.status);
		if (c == BOUNCE_CLASS_HARD && r != BOUNCE_REASON_USER_UNKNOWN
		    && r != BOUNCE_REASON_DOMAIN_UNKNOWN)
			fuzz_fail("hard class for a soft reason");
	}
	free(buf);
	return 0;
}
