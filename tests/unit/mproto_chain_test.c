/*++
 * NAME
 *	mproto_chain_test 1
 * SUMMARY
 *	unit tests of the one-conversation host (engine/mproto_chain.c)
 * DESCRIPTION
 *	Two recording modules, A then B, behind the host's callbacks, driven
 *	as the engine would drive them (a session without a socket). A's
 *	behaviour comes from a table row; B records what it sees. Checked:
 *	the merged negotiation, envelope order and refusals, B seeing A's
 *	header and body edits (Postfix's semantics), the leading-space
 *	convention across modules, the edits forwarded to the MTA in order
 *	with one final body, and a body spilled to a file.
 *	Also table tests of the kept message's header edits
 *	(cleanup_milter.c's rules).
 *--*/
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mproto.h"
#include "mproto_chain.h"
#include "mproto_chain_priv.h"
#include "xalloc.h"

/* what module A does, per table row */
struct a_plan {
	const char	*name;
	unsigned long	 pflags;	/* A's protocol flags */
	sfsistat	 at_mail;	/* A's verdict at MAIL */
	sfsistat	 at_rcpt;
	bool		 edits;		/* at eom: add, change, replace body */
	unsigned long	 b_pflags;	/* B's protocol flags */
	size_t		 body_len;	/* bytes of body the MTA sends */
	/* expectations */
	sfsistat	 want_rcpt, want_eom;
	bool		 want_b_rcpt;	/* B saw RCPT */
	bool		 want_b_sees_edits;
	bool		 want_a_content;	/* A's eom ran */
	const char	*want_reply;
};

static const struct a_plan *plan;
static char b_seen[4096];	/* B's headers, "name:value\n" */
static size_t b_body_len;
static unsigned b_body_sum;
static bool b_rcpt, a_eom_ran;

static sfsistat
a_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	    unsigned long f3, unsigned long *p0, unsigned long *p1,
	    unsigned long *p2, unsigned long *p3)
{
	*p0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY;
	*p1 = plan->pflags;
	return SMFIS_CONTINUE;
}

static sfsistat
a_envfrom(SMFICTX *ctx, char **argv)
{
	if (plan->at_mail == SMFIS_REJECT)
		smfi_setreply(ctx, "550", "5.7.1", "A says no");
	return plan->at_mail;
}

static sfsistat
a_envrcpt(SMFICTX *ctx, char **argv)
{
	if (plan->at_rcpt == SMFIS_TEMPFAIL)
		smfi_setreply(ctx, "451", "4.7.1", "A says later");
	return plan->at_rcpt;
}

static sfsistat
a_eom(SMFICTX *ctx)
{
	a_eom_ran = true;
	if (plan->edits) {
		assert_int_equal(smfi_addheader(ctx, "X-A", "added"), MI_SUCCESS);
		assert_int_equal(smfi_chgheader(ctx, "Subject", 1, "changed"), MI_SUCCESS);
		assert_int_equal(smfi_chgheader(ctx, "X-Gone", 1, NULL), MI_SUCCESS);
		assert_int_equal(smfi_replacebody(ctx, (unsigned char *)"new\r\n", 5),
				 MI_SUCCESS);
	}
	return SMFIS_CONTINUE;
}

static const struct smfiDesc mod_a = {
	.xxfi_name = "A", .xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY,
	.xxfi_envfrom = a_envfrom, .xxfi_envrcpt = a_envrcpt, .xxfi_eom = a_eom,
	.xxfi_negotiate = a_negotiate,
};

static sfsistat
b_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
	    unsigned long f3, unsigned long *p0, unsigned long *p1,
	    unsigned long *p2, unsigned long *p3)
{
	*p0 = SMFIF_ADDHDRS;
	*p1 = plan->b_pflags;
	return SMFIS_CONTINUE;
}

static sfsistat
b_envrcpt(SMFICTX *ctx, char **argv)
{
	b_rcpt = true;
	return SMFIS_CONTINUE;
}

static sfsistat
b_header(SMFICTX *ctx, char *name, char *value)
{
	size_t l = strlen(b_seen);

	snprintf(b_seen + l, sizeof(b_seen) - l, "%s:%s\n", name, value);
	return SMFIS_CONTINUE;
}

static sfsistat
b_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b_body_sum = b_body_sum * 31 + data[i];
	b_body_len += len;
	return SMFIS_CONTINUE;
}

static sfsistat
b_eom(SMFICTX *ctx)
{
	return smfi_addheader(ctx, "X-B", "b") == MI_SUCCESS ? SMFIS_CONTINUE
	    : SMFIS_TEMPFAIL;
}

static const struct smfiDesc mod_b = {
	.xxfi_name = "B", .xxfi_version = SMFI_VERSION, .xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_envrcpt = b_envrcpt, .xxfi_header = b_header, .xxfi_body = b_body,
	.xxfi_eom = b_eom, .xxfi_negotiate = b_negotiate,
};

static const struct a_plan plans[] = {
	{"edits seen by B, forwarded", 0, SMFIS_CONTINUE, SMFIS_CONTINUE, true,
	 SMFIP_HDR_LEADSPC, 100, SMFIS_CONTINUE, SMFIS_CONTINUE, true, true, true, NULL},
	{"no edits", SMFIP_NR_MAIL, SMFIS_CONTINUE, SMFIS_CONTINUE, false,
	 0, 10, SMFIS_CONTINUE, SMFIS_CONTINUE, true, false, true, NULL},
	{"A refuses RCPT: B never sees it", 0, SMFIS_CONTINUE, SMFIS_TEMPFAIL, false,
	 0, 10, SMFIS_TEMPFAIL, SMFIS_CONTINUE, false, false, true, "451 4.7.1 A says later"},
	{"A accepts at MAIL: no content for A", 0, SMFIS_ACCEPT, SMFIS_CONTINUE, true,
	 0, 10, SMFIS_CONTINUE, SMFIS_CONTINUE, true, false, false, NULL},
	{"A refuses MAIL", 0, SMFIS_REJECT, SMFIS_CONTINUE, false,
	 0, 10, SMFIS_CONTINUE, SMFIS_CONTINUE, false, false, false, "550 5.7.1 A says no"},
	{"a body past body_memory, spooled", 0, SMFIS_CONTINUE, SMFIS_CONTINUE, false,
	 0, 200000, SMFIS_CONTINUE, SMFIS_CONTINUE, true, false, true, NULL},
};

/* packets - "cmd:name=value;..." of the edits queued for the MTA */
static void
packets(const struct mproto_out *o, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	while (off + 5 <= o->len) {
		uint32_t n;
		char cmd;
		const char *d;
		size_t l = strlen(buf);

		memcpy(&n, o->buf + off, 4);
		n = ntohl(n);
		cmd = o->buf[off + 4];
		d = o->buf + off + 5;
		if (cmd == SMFIR_CHGHEADER || cmd == SMFIR_INSHEADER)
			d += 4;
		if (cmd == SMFIR_REPLBODY)
			snprintf(buf + l, size - l, "%c:%.*s;", cmd, (int)(n - 1), d);
		else if (cmd == SMFIR_ADDHEADER || cmd == SMFIR_CHGHEADER)
			snprintf(buf + l, size - l, "%c:%s=%s;", cmd, d, d + strlen(d) + 1);
		else
			snprintf(buf + l, size - l, "%c;", cmd);
		off += 4 + n;
	}
}

static void
test_chain_plans(void **state)
{
	const struct mproto_chain_module mods[] = {{"a", &mod_a}, {"b", &mod_b}};
	struct mproto_chain_opts opts = {"/tmp", 4096, 1 << 20, NULL};
	struct smfiDesc d;

	for (size_t t = 0; t < sizeof(plans) / sizeof(plans[0]); t++) {
		SMFICTX *ctx = xcalloc(1, sizeof(*ctx));
		char *from[] = {"<s@example.test>", NULL}, *to[] = {"<r@example.net>", NULL};
		unsigned long p0, p1, p2, p3;
		char out[8192], *body;
		sfsistat r;

		plan = &plans[t];
		b_seen[0] = '\0';
		b_body_len = b_body_sum = 0;
		b_rcpt = a_eom_ran = false;
		ctx->fd = -1;
		assert_int_equal(mproto_chain_init(mods, 2, &opts, &d), MI_SUCCESS);
		assert_int_equal(d.xxfi_negotiate(ctx, SMFI_V2_ACTS | SMFIF_CHGFROM,
			SMFIP_HDR_LEADSPC | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY
			| SMFIP_NR_MAIL | SMFIP_NR_CONN, 0, 0, &p0, &p1, &p2, &p3),
			SMFIS_CONTINUE);
		/* the union of the actions; the content steps never answered */
		assert_int_equal(p0, SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY);
		assert_true((p1 & (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY))
			    == (SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY));
		assert_int_equal((p1 & SMFIP_HDR_LEADSPC) != 0,
				 ((plan->pflags | plan->b_pflags) & SMFIP_HDR_LEADSPC) != 0);
		/* MAIL needs a reply unless both modules promised none */
		assert_false(p1 & SMFIP_NR_MAIL);
		ctx->pflags = p1;
		r = d.xxfi_envfrom(ctx, from);
		if (plan->at_mail == SMFIS_REJECT) {
			assert_int_equal(r, SMFIS_REJECT);
			assert_string_equal(ctx->reply, plan->want_reply);
			d.xxfi_close(ctx);
			mproto_chain_session_free(ctx);
			free(ctx->reply);
			free(ctx);
			continue;
		}
		r = d.xxfi_envrcpt(ctx, to);
		assert_int_equal(r, plan->want_rcpt);
		if (plan->want_reply != NULL)
			assert_string_equal(ctx->reply, plan->want_reply);
		assert_int_equal(b_rcpt, plan->want_b_rcpt);
		d.xxfi_header(ctx, "Subject", " hello");
		d.xxfi_header(ctx, "X-Gone", " soon");
		d.xxfi_header(ctx, "To", "  two spaces");
		d.xxfi_eoh(ctx);
		body = xmalloc(plan->body_len);
		for (size_t i = 0; i < plan->body_len; i++)
			body[i] = (char)('a' + i % 26);
		for (size_t off = 0; off < plan->body_len; off += 65535) {
			size_t n = plan->body_len - off < 65535 ? plan->body_len - off : 65535;

			d.xxfi_body(ctx, (unsigned char *)body + off, n);
		}
		ctx->cmd = SMFIC_BODYEOB;
		r = d.xxfi_eom(ctx);
		assert_int_equal(r, plan->want_eom);
		assert_int_equal(a_eom_ran, plan->want_a_content);
		packets(&ctx->out, out, sizeof(out));
		if (plan->want_b_sees_edits) {
			/* B (leading space asked) sees A's fields as Postfix stores
			 * them, "name: value", the deleted one gone, the new body */
			assert_string_equal(b_seen, "Subject: changed\nTo:  two spaces\nX-A: added\n");
			assert_int_equal(b_body_len, 5);
			/* to the MTA: A's edits with the space the host's
			 * convention needs, B's, then the body once */
			assert_string_equal(out, "h:X-A= added;m:Subject= changed;m:X-Gone=;"
					    "h:X-B=b;b:new\r\n;");
		} else if (plan->want_b_rcpt) {
			unsigned sum = 0;

			assert_string_equal(b_seen, "Subject: hello\nX-Gone: soon\nTo:  two spaces\n");
			for (size_t i = 0; i < plan->body_len; i++)
				sum = sum * 31 + (unsigned char)body[i];
			assert_int_equal(b_body_len, plan->body_len);
			assert_int_equal(b_body_sum, sum);
			assert_string_equal(out, "h:X-B=b;");
		}
		free(body);
		d.xxfi_close(ctx);
		mproto_chain_session_free(ctx);
		mproto_out_free(&ctx->out);
		free(ctx->reply);
		free(ctx);
	}
}

/* header edits of the kept message, as cleanup_milter.c applies them */
struct hdr_case {
	const char	*name;
	char		 op;		/* a(dd) i(nsert) c(hange) */
	size_t		 index;
	const char	*field, *value;
	const char	*want;		/* "name=value," after the edit */
};

static const struct hdr_case hdr_cases[] = {
	{"add appends", 'a', 0, "X-New", "v", "A=1,B=2,A=3,X-New=v,"},
	{"insert at 0 is first", 'i', 0, "X-New", "v", "X-New=v,A=1,B=2,A=3,"},
	{"insert at 2", 'i', 2, "X-New", "v", "A=1,B=2,X-New=v,A=3,"},
	{"insert past the end appends", 'i', 99, "X-New", "v", "A=1,B=2,A=3,X-New=v,"},
	{"change the 2nd A, any case", 'c', 2, "a", "x", "A=1,B=2,A=x,"},
	{"empty value deletes", 'c', 1, "A", "", "B=2,A=3,"},
	{"missing index appends", 'c', 3, "A", "x", "A=1,B=2,A=3,A=x,"},
	{"missing delete: nothing", 'c', 3, "A", "", "A=1,B=2,A=3,"},
	{"index 0 matches none", 'c', 0, "B", "x", "A=1,B=2,A=3,B=x,"},
};

static void
test_chain_header_edits(void **state)
{
	for (size_t t = 0; t < sizeof(hdr_cases) / sizeof(hdr_cases[0]); t++) {
		const struct hdr_case *c = &hdr_cases[t];
		struct chain_msg m;
		char got[256] = "";

		chain_msg_init(&m);
		chain_msg_add_header(&m, "A", "1", 0);
		chain_msg_add_header(&m, "B", "2", 0);
		chain_msg_add_header(&m, "A", "3", 0);
		if (c->op == 'a')
			chain_msg_add_header(&m, c->field, c->value, 0);
		else if (c->op == 'i')
			chain_msg_ins_header(&m, c->index, c->field, c->value);
		else
			chain_msg_chg_header(&m, c->field, c->index, c->value);
		for (size_t i = 0; i < m.nhdrs; i++) {
			size_t l = strlen(got);

			snprintf(got + l, sizeof(got) - l, "%s=%s,", m.hdrs[i].name,
				 m.hdrs[i].value);
		}
		if (strcmp(got, c->want) != 0)
			fail_msg("%s: got %s, want %s", c->name, got, c->want);
		chain_msg_reset(&m);
	}
}

/* a header past header_max marks the message instead of growing */
static void
test_chain_header_limit(void **state)
{
	struct chain_msg m;

	chain_msg_init(&m);
	chain_msg_add_header(&m, "A", "123456", 10);
	assert_false(m.hdr_overflow);
	chain_msg_add_header(&m, "B", "123456", 10);
	assert_true(m.hdr_overflow);
	assert_int_equal(m.nhdrs, 1);
	chain_msg_reset(&m);
}

/* a spool directory that cannot be used: the body is marked failed */
static void
test_chain_body_spill_fails(void **state)
{
	struct chain_body b;
	char buf[16];

	chain_body_init(&b);
	chain_body_append(&b, "0123456789", 10, 16, "/nonexistent/dir");
	assert_false(b.failed);
	chain_body_append(&b, "0123456789", 10, 16, "/nonexistent/dir");
	assert_true(b.failed);
	chain_body_reset(&b);
	chain_body_append(&b, "0123456789", 10, 4, "/tmp");
	chain_body_append(&b, "abcdef", 6, 4, "/tmp");
	assert_true(b.fd >= 0);
	assert_int_equal(chain_body_size(&b), 16);
	assert_int_equal(chain_body_read(&b, 8, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "89abcdef", 8);
	chain_body_reset(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_plans),
		cmocka_unit_test(test_chain_header_edits),
		cmocka_unit_test(test_chain_header_limit),
		cmocka_unit_test(test_chain_body_spill_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
