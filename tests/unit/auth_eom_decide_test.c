/*++
 * NAME
 *	auth_eom_decide_test 1
 * SUMMARY
 *	unit tests of postmill-auth's end-of-message decisions
 *	(milters/auth/auth_eom_decide.c, auth_upstream.c, auth_reply.c)
 * DESCRIPTION
 *	Tables of cases, each a message's facts (SPF result, From, DKIM
 *	passes, what a trusted upstream vouched for, the client, trusted
 *	senders and forwarders, the DMARC result, the options) against what
 *	must be decided: the DMARC input, the verdict, the reply code and
 *	text the client reads, the quarantine, the headers written.
 *	upstream/<row>: received Authentication-Results fields, removed,
 *	trusted or ignored, and the passes kept from a trusted one.
 *	Failures read "got X, want Y".
 *--*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "tcase.h"
#include "cidr.h"
#include "cfg.h"
#include "milter_reply.h"
#include "xalloc.h"
#include "../../milters/auth/auth_conf.h"
#include "../../milters/auth/auth_eom_decide.h"

enum spf_kind { S_NONE, S_PASS, S_FAIL, S_TEMP };

struct eom_case {
	const char	*name;
	/* facts */
	enum spf_kind	 spf;
	const char	*from;		/* one From value; NULL: none */
	int		 nfrom;		/* fields seen (0: 1 if from) */
	const char	*dkim_pass;	/* d= of our passing signature, or NULL */
	const char	*up_spf, *up_dkim, *up_dmarc;	/* trusted upstream */
	const char	*client;	/* IPv4 text; NULL: no address */
	const char	*forwarders;	/* one CIDR; NULL: none */
	const char	*senders;	/* one domain; NULL: none */
	enum auth_dmarc_res dmarc;	/* what DMARC evaluation returned */
	enum auth_dmarc_p policy;
	bool		 testing;
	struct auth_policy_options opt;
	int		 qmode;		/* enum auth_quarantine_mode */
	/* wanted */
	bool		 want_spf_pass;	/* DMARC input: SPF pass */
	const char	*want_spf_domain;
	size_t		 want_ndkim;
	enum auth_action want_action;
	enum auth_reason want_reason;
	const char	*want_reply;	/* "550 5.7.1 text", or NULL: none */
	const char	*want_quarantine;	/* "header: text", "milter: text" or NULL */
	const char	*want_ar;	/* a piece of the Authentication-Results value */
};

#define F	"user@example.com"
#define NOOPT	{0, AUTH_TEMPERROR_ACCEPT, AUTH_BAD_FROM_REJECT, false}
#define SPFREJ	{1, AUTH_TEMPERROR_TEMPFAIL, AUTH_BAD_FROM_REJECT, false}
#define TEMPF	{0, AUTH_TEMPERROR_TEMPFAIL, AUTH_BAD_FROM_TEMPFAIL, false}
#define DRY	{0, AUTH_TEMPERROR_ACCEPT, AUTH_BAD_FROM_REJECT, true}
#define PASS	AUTH_DMARC_PASS
#define FAIL	AUTH_DMARC_FAIL
#define TEMP	AUTH_DMARC_TEMPERROR
#define P_R	AUTH_DMARC_P_REJECT
#define P_Q	AUTH_DMARC_P_QUARANTINE
#define P_N	AUTH_DMARC_P_NONE
#define MILTER	AUTH_QUARANTINE_MILTER
#define HEADER	AUTH_QUARANTINE_HEADER

static const struct eom_case eom_cases[] = {
	{"dmarc pass", S_PASS, F, 0, "example.com", 0, 0, 0, 0, 0, 0,
	 PASS, P_R, 0, NOOPT, MILTER,
	 true, "bounce.example.net", 1, AUTH_ACT_ACCEPT, AUTH_R_NONE, NULL, NULL, "dmarc=pass"},
	{"dmarc reject", S_FAIL, F, 0, NULL, 0, 0, 0, 0, 0, 0,
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, "bounce.example.net", 0, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY,
	 "550 5.7.1 DMARC policy of example.com rejects this message", NULL, "dmarc=fail"},
	{"dmarc quarantine, smfi_quarantine", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, 0,
	 FAIL, P_Q, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_QUARANTINE, AUTH_R_DMARC_POLICY, NULL,
	 "milter: DMARC policy of example.com", "dmarc=fail"},
	{"dmarc quarantine, header", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, 0,
	 FAIL, P_Q, 0, NOOPT, HEADER,
	 false, NULL, 0, AUTH_ACT_QUARANTINE, AUTH_R_DMARC_POLICY, NULL,
	 "header: DMARC policy of example.com", NULL},
	{"dmarc reject, dry run", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, 0,
	 FAIL, P_R, 0, DRY, MILTER,
	 false, NULL, 0, AUTH_ACT_ACCEPT, AUTH_R_DMARC_POLICY, NULL, NULL, NULL},
	{"dmarc temperror, tempfail", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, 0,
	 TEMP, P_N, 0, TEMPF, MILTER,
	 false, NULL, 0, AUTH_ACT_TEMPFAIL, AUTH_R_DMARC_TEMPERROR,
	 "451 4.3.0 DMARC check failed temporarily, try again later", NULL, NULL},
	{"spf fail, reject_on_spf_fail", S_FAIL, F, 0, "example.com", 0, 0, 0, 0, 0, 0,
	 PASS, P_R, 0, SPFREJ, MILTER,
	 false, "bounce.example.net", 1, AUTH_ACT_REJECT, AUTH_R_SPF_FAIL,
	 "550 5.7.23 SPF check of bounce.example.net failed", NULL, "spf=fail"},
	{"spf temperror, reject_on_spf_fail", S_TEMP, F, 0, "example.com", 0, 0, 0, 0, 0, 0,
	 PASS, P_R, 0, SPFREJ, MILTER,
	 false, "bounce.example.net", 1, AUTH_ACT_TEMPFAIL, AUTH_R_SPF_TEMPERROR,
	 "451 4.7.24 SPF check of bounce.example.net failed temporarily, try again later",
	 NULL, "spf=temperror"},
	{"two From fields", S_NONE, F, 2, NULL, 0, 0, 0, 0, 0, 0,
	 PASS, P_N, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_REJECT, AUTH_R_FROM,
	 "550 5.7.1 Message must have exactly one From address", NULL, NULL},
	{"no From, tempfail", S_NONE, NULL, 0, NULL, 0, 0, 0, 0, 0, 0,
	 PASS, P_N, 0, TEMPF, MILTER,
	 false, NULL, 0, AUTH_ACT_TEMPFAIL, AUTH_R_FROM,
	 "451 4.7.1 Message must have exactly one From address", NULL, NULL},
	{"trusted sender", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, "example.com",
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_ACCEPT, AUTH_R_TRUSTED_SENDER, NULL, NULL, NULL},
	{"trusted sender, other domain", S_NONE, F, 0, NULL, 0, 0, 0, 0, 0, "example.org",
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY,
	 "550 5.7.1 DMARC policy of example.com rejects this message", NULL, NULL},
	{"trusted forwarder", S_NONE, F, 0, NULL, 0, 0, 0, "192.0.2.7", "192.0.2.0/24", 0,
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_ACCEPT, AUTH_R_TRUSTED_FORWARDER, NULL, NULL, NULL},
	{"forwarder list, other client", S_NONE, F, 0, NULL, 0, 0, 0, "198.51.100.1",
	 "192.0.2.0/24", 0, FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY,
	 "550 5.7.1 DMARC policy of example.com rejects this message", NULL, NULL},
	{"forwarder list, no client address", S_NONE, F, 0, NULL, 0, 0, 0, NULL,
	 "0.0.0.0/0", 0, FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY,
	 "550 5.7.1 DMARC policy of example.com rejects this message", NULL, NULL},
	{"upstream dmarc=pass, same From", S_NONE, F, 0, NULL, 0, 0, "example.com", 0, 0, 0,
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_ACCEPT, AUTH_R_NONE, NULL, NULL, "dmarc=pass"},
	{"upstream dmarc=pass, other From", S_NONE, F, 0, NULL, 0, 0, "example.org", 0, 0, 0,
	 FAIL, P_R, 0, NOOPT, MILTER,
	 false, NULL, 0, AUTH_ACT_REJECT, AUTH_R_DMARC_POLICY,
	 "550 5.7.1 DMARC policy of example.com rejects this message", NULL, NULL},
	{"upstream spf=pass stands in for our fail", S_FAIL, F, 0, NULL, "example.com", 0, 0,
	 0, 0, 0, PASS, P_R, 0, NOOPT, MILTER,
	 true, "example.com", 0, AUTH_ACT_ACCEPT, AUTH_R_NONE, NULL, NULL, NULL},
	{"our spf pass kept over upstream", S_PASS, F, 0, NULL, "example.org", 0, 0,
	 0, 0, 0, PASS, P_R, 0, NOOPT, MILTER,
	 true, "bounce.example.net", 0, AUTH_ACT_ACCEPT, AUTH_R_NONE, NULL, NULL, NULL},
	{"upstream dkim counts after ours", S_NONE, F, 0, "example.com", 0, "list.example",
	 0, 0, 0, 0, PASS, P_R, 0, NOOPT, MILTER,
	 false, NULL, 2, AUTH_ACT_ACCEPT, AUTH_R_NONE, NULL, NULL, NULL},
};

/* the storage behind one case's struct auth_eom_in */
struct eom_facts {
	struct auth_spf		spf;
	struct auth_from_field	ff[2];
	struct auth_dkim_sig	sig;
	struct auth_upstream	up;
	struct sockaddr_in	sin;
	struct cidr_list	fwd;
	struct cfg_list		snd;
	char		       *sndv[1];
};

/* eom_fill - the facts of one case */
static void
eom_fill(const struct eom_case *c, struct eom_facts *f, struct auth_eom_in *in)
{
	static struct cidr net;
	const char *why;
	struct auth_spf *spf = &f->spf;
	struct auth_from_field *ff = f->ff;
	struct auth_dkim_sig *sig = &f->sig;
	struct auth_upstream *up = &f->up;
	struct sockaddr_in *sin = &f->sin;
	struct cidr_list *fwd = &f->fwd;
	struct cfg_list *snd = &f->snd;
	char **sndv = f->sndv;

	memset(in, 0, sizeof(*in));
	memset(spf, 0, sizeof(*spf));
	memset(up, 0, sizeof(*up));
	if (c->spf != S_NONE) {
		spf->done = true;
		spf->helo_checked = false;
		snprintf(spf->client_ip, sizeof(spf->client_ip), "192.0.2.7");
		snprintf(spf->mail_from, sizeof(spf->mail_from), "b@bounce.example.net");
		snprintf(spf->domain, sizeof(spf->domain), "bounce.example.net");
		snprintf(spf->mfrom.domain, sizeof(spf->mfrom.domain), "bounce.example.net");
		spf->mfrom.result = c->spf == S_PASS ? SPF_RES_PASS : c->spf == S_FAIL ?
		    SPF_RES_FAIL : SPF_RES_TEMPERROR;
		in->spf = spf;
	}
	if (c->from != NULL) {
		ff[0].value = c->from;
		ff[0].len = strlen(c->from);
		ff[1] = ff[0];
		in->nfrom = c->nfrom ? (size_t)c->nfrom : 1;
	}
	in->from = ff;
	if (c->dkim_pass != NULL) {
		memset(sig, 0, sizeof(*sig));
		sig->res = AUTH_DKIM_PASS;
		sig->why = "";
		snprintf(sig->domain, sizeof(sig->domain), "%s", c->dkim_pass);
		snprintf(sig->selector, sizeof(sig->selector), "s1");
		in->sigs = sig;
		in->nsigs = 1;
	}
	if (c->up_spf)
		up->spf_domain = xstrdup(c->up_spf);
	if (c->up_dkim)
		up->dkim[up->ndkim++] = xstrdup(c->up_dkim);
	if (c->up_dmarc)
		up->dmarc_from = xstrdup(c->up_dmarc);
	in->upstream = up;
	if (c->client != NULL) {
		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, c->client, &sin->sin_addr);
		in->client = (const struct sockaddr *)sin;
	}
	fwd->items = NULL;
	fwd->count = 0;
	if (c->forwarders != NULL && cidr_parse(c->forwarders, &net, &why) == 0) {
		fwd->items = &net;
		fwd->count = 1;
	}
	in->trusted_forwarders = fwd;
	sndv[0] = (char *)c->senders;
	snd->items = sndv;
	snd->count = c->senders != NULL;
	in->trusted_senders = snd;
	in->authserv_id = "mx.example.net";
	in->opt = c->opt;
	in->quarantine_mode = c->qmode;
}

/* test_eom - facts to decision, through the reply table */
static void
test_eom(void **state)
{
	for (size_t i = 0; i < sizeof(eom_cases) / sizeof(eom_cases[0]); i++) {
		const struct eom_case *c = &eom_cases[i];
		struct eom_facts f;
		struct auth_eom_in in;
		struct auth_eom_decision *d = xmalloc(sizeof(*d));
		struct auth_dmarc_result dr;
		char got[MILTER_REPLY_TEXT_MAX + 32], text[MILTER_REPLY_TEXT_MAX];

		eom_fill(c, &f, &in);
		auth_eom_decide_dmarc_input(&in, d);
		if (d->dmarc_wanted) {
			if (d->din.spf_pass != c->want_spf_pass)
				tcase_bad(c->name, "got DMARC spf_pass %d, want %d",
					  d->din.spf_pass, c->want_spf_pass);
			if (c->want_spf_domain != NULL && (d->din.spf_domain == NULL
			    || strcmp(d->din.spf_domain, c->want_spf_domain) != 0))
				tcase_bad(c->name, "got DMARC spf_domain %s, want %s",
					  d->din.spf_domain ? d->din.spf_domain : "(null)",
					  c->want_spf_domain);
			if (d->din.ndkim != c->want_ndkim)
				tcase_bad(c->name, "got %zu DKIM domains for DMARC, want %zu",
					  d->din.ndkim, c->want_ndkim);
		} else if (c->from != NULL && c->nfrom <= 1) {
			tcase_bad(c->name, "got no DMARC evaluation, want one");
		}
		memset(&dr, 0, sizeof(dr));
		dr.res = c->dmarc;
		dr.why = "test";
		dr.policy = c->policy;
		dr.record_found = true;
		dr.rec.testing = c->testing;
		auth_eom_decide(&in, d->dmarc_wanted ? &dr : NULL, d);
		if (d->v.action != c->want_action || d->v.reason != c->want_reason)
			tcase_bad(c->name, "got %s/%s, want %s/%s",
				  auth_action_name(d->v.action), auth_reason_name(d->v.reason),
				  auth_action_name(c->want_action),
				  auth_reason_name(c->want_reason));
		got[0] = '\0';
		if (d->reply != AUTH_REPLY_NONE) {
			const struct milter_reply *r = milter_reply_find(&auth_reply_table,
									 d->reply);

			if (r == NULL) {
				snprintf(got, sizeof(got), "reply %d without a row", (int)d->reply);
			} else {
				milter_reply_text(r, d->reply_arg, text, sizeof(text));
				snprintf(got, sizeof(got), "%s %s %s", r->rcode, r->xcode, text);
			}
		}
		if (strcmp(got, c->want_reply ? c->want_reply : "") != 0)
			tcase_bad(c->name, "got reply \"%s\", want \"%s\"", got,
				  c->want_reply ? c->want_reply : "");
		got[0] = '\0';
		if (d->quarantine != AUTH_EOM_QUARANTINE_NONE)
			snprintf(got, sizeof(got), "%s: %s",
				 d->quarantine == AUTH_EOM_QUARANTINE_HEADER ? "header" : "milter",
				 d->quarantine_text);
		if (strcmp(got, c->want_quarantine ? c->want_quarantine : "") != 0)
			tcase_bad(c->name, "got quarantine \"%s\", want \"%s\"", got,
				  c->want_quarantine ? c->want_quarantine : "");
		if (strncmp(d->ar, "mx.example.net", 14) != 0)
			tcase_bad(c->name, "got Authentication-Results \"%.60s\", want our "
				  "authserv-id first", d->ar);
		if (c->want_ar != NULL && strstr(d->ar, c->want_ar) == NULL)
			tcase_bad(c->name, "got Authentication-Results \"%s\", want \"%s\" in it",
				  d->ar, c->want_ar);
		if (d->add_received_spf != (c->spf != S_NONE) || (d->add_received_spf
		    && (!d->received_spf_ok || strstr(d->received_spf, "bounce.example.net") == NULL)))
			tcase_bad(c->name, "got Received-SPF add=%d ok=%d \"%.60s\", want add=%d",
				  d->add_received_spf, d->received_spf_ok, d->received_spf,
				  c->spf != S_NONE);
		if (d->record)
			tcase_bad(c->name, "got record=yes without a report store");
		auth_upstream_clear(&f.up);
		free(d);
	}
	tcase_done();
}

/*
 * test_ar_every_result - the most results one message can have (SPF of
 * MAIL FROM and HELO, AUTH_DKIM_SIGS_MAX signatures, DMARC) all reach the
 * Authentication-Results value: the elements are allocated for exactly
 * that many (auth_eom_headers()); ASan sees an overflow
 */
static void
test_ar_every_result(void **state)
{
	const struct eom_case *c = &eom_cases[0];
	struct eom_facts f;
	struct auth_dkim_sig *sigs = xcalloc(AUTH_DKIM_SIGS_MAX, sizeof(*sigs));
	struct auth_eom_in in;
	struct auth_eom_decision *d = xmalloc(sizeof(*d));
	struct auth_dmarc_result dr;
	const char *p;
	size_t n = 0;

	(void)state;
	eom_fill(c, &f, &in);
	assert_non_null(in.spf);
	f.spf.helo_checked = true;
	snprintf(f.spf.helo, sizeof(f.spf.helo), "mx.example.org");
	for (size_t i = 0; i < AUTH_DKIM_SIGS_MAX; i++) {
		sigs[i].res = AUTH_DKIM_PASS;
		sigs[i].why = "";
		snprintf(sigs[i].domain, sizeof(sigs[i].domain), "d%zu.example.org", i);
		snprintf(sigs[i].selector, sizeof(sigs[i].selector), "s%zu", i);
	}
	in.sigs = sigs;
	in.nsigs = AUTH_DKIM_SIGS_MAX;
	auth_eom_decide_dmarc_input(&in, d);
	memset(&dr, 0, sizeof(dr));
	dr.res = AUTH_DMARC_PASS;
	dr.record_found = true;
	auth_eom_decide(&in, d->dmarc_wanted ? &dr : NULL, d);
	for (p = d->ar; (p = strstr(p, "dkim=pass")) != NULL; p++)
		n++;
	assert_int_equal(n, AUTH_DKIM_SIGS_MAX);
	assert_non_null(strstr(d->ar, "smtp.mailfrom="));
	assert_non_null(strstr(d->ar, "smtp.helo=mx.example.org"));
	assert_non_null(strstr(d->ar, "header.d=d31.example.org"));
	assert_non_null(strstr(d->ar, "dmarc=pass"));
	auth_upstream_clear(&f.up);
	free(sigs);
	free(d);
}

/* same - both NULL, or equal strings */
static bool
same(const char *got, const char *want)
{
	if (got == NULL || want == NULL)
		return got == want;
	return strcmp(got, want) == 0;
}

/* test_upstream - received Authentication-Results: remove, trust, ignore */
static void
test_upstream(void **state)
{
	static const struct {
		const char *name, *value;	/* NULL value: not parsed */
		enum auth_upstream_field want;
		const char *want_dkim, *want_spf, *want_dmarc;
	} cases[] = {
		{"ours: forged", "mx.example.net; dmarc=pass header.from=example.com",
		 AUTH_UPSTREAM_REMOVE, NULL, NULL, NULL},
		{"ours, other case", "MX.Example.NET; spf=pass smtp.mailfrom=example.com",
		 AUTH_UPSTREAM_REMOVE, NULL, NULL, NULL},
		{"not parsed (over the limit)", NULL, AUTH_UPSTREAM_REMOVE, NULL, NULL, NULL},
		{"stranger", "mx.other.example; dmarc=pass header.from=example.com",
		 AUTH_UPSTREAM_IGNORE, NULL, NULL, NULL},
		{"trusted, passes kept",
		 "relay.example; dkim=pass header.d=Sub.Example.COM; "
		 "spf=pass smtp.mailfrom=u@Bounce.Example; dmarc=pass header.from=example.com",
		 AUTH_UPSTREAM_TRUST, "sub.example.com", "bounce.example", "example.com"},
		{"trusted, failures not kept",
		 "relay.example; dkim=fail header.d=bad.example; spf=softfail "
		 "smtp.mailfrom=x.example; dmarc=fail header.from=example.com",
		 AUTH_UPSTREAM_TRUST, NULL, NULL, NULL},
		{"trusted, spf with a bare domain", "relay.example; spf=pass smtp.mailfrom=x.example",
		 AUTH_UPSTREAM_TRUST, NULL, "x.example", NULL},
	};
	char *ids[] = {"relay.example"};
	struct cfg_list trusted = {ids, 1};
	struct auth_ar *ar = xmalloc(sizeof(*ar));

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth_upstream up;
		enum auth_upstream_field got;
		const char *v = cases[i].value;

		memset(&up, 0, sizeof(up));
		if (v != NULL)
			auth_ar_parse(v, strlen(v), 0, ar, NULL);
		got = auth_upstream_classify(v ? ar : NULL, "mx.example.net", &trusted);
		if (got != cases[i].want)
			tcase_bad(cases[i].name, "got %d, want %d", (int)got, (int)cases[i].want);
		if (got == AUTH_UPSTREAM_TRUST)
			auth_upstream_keep(&up, ar);
		if (!same(up.ndkim ? up.dkim[0] : NULL, cases[i].want_dkim)
		    || !same(up.spf_domain, cases[i].want_spf)
		    || !same(up.dmarc_from, cases[i].want_dmarc))
			tcase_bad(cases[i].name, "got dkim=%s spf=%s dmarc=%s, want %s %s %s",
				  up.ndkim ? up.dkim[0] : "-", up.spf_domain ? up.spf_domain : "-",
				  up.dmarc_from ? up.dmarc_from : "-",
				  cases[i].want_dkim ? cases[i].want_dkim : "-",
				  cases[i].want_spf ? cases[i].want_spf : "-",
				  cases[i].want_dmarc ? cases[i].want_dmarc : "-");
		auth_upstream_clear(&up);
		if (up.ndkim || up.spf_domain || up.dmarc_from)
			tcase_bad(cases[i].name, "got state after auth_upstream_clear()");
	}
	free(ar);
	tcase_done();
}

/* test_checks_client - outbound clients are checked only when asked */
static void
test_checks_client(void **state)
{
	static const struct {
		const char *name;
		bool auth, internal, check_auth, check_internal, want;
	} cases[] = {
		{"outside", 0, 0, 0, 0, 1},
		{"authenticated", 1, 0, 0, 0, 0},
		{"authenticated, checked", 1, 0, 1, 0, 1},
		{"internal", 0, 1, 0, 0, 0},
		{"internal, checked", 0, 1, 0, 1, 1},
		{"both, one checked", 1, 1, 1, 0, 0},
		{"both, both checked", 1, 1, 1, 1, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = auth_policy_checks_client(cases[i].auth, cases[i].internal,
						     cases[i].check_auth,
						     cases[i].check_internal);

		if (got != cases[i].want)
			tcase_bad(cases[i].name, "got %d, want %d", got, cases[i].want);
	}
	tcase_done();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eom),
		cmocka_unit_test(test_ar_every_result),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_checks_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
