/*++
 * NAME
 *	suite_params 3
 * SUMMARY
 *	the postmill-suite parameter table
 * DESCRIPTION
 *	One row per suite_ parameter; the only place their defaults live.
 *
 *	suite_milters defaults to the order conf/postfix/main.cf.snippet
 *	gives the separate daemons: auth first (it judges inbound mail as
 *	it arrived), bounce before dkim (its Return-Path tag, reference
 *	and List-Unsubscribe fields must be signed), limit last (a module
 *	after it could refuse mail it has already counted).
 *
 *	suite_body_memory: the host keeps each message until its modules
 *	have seen it (mproto_chain.h); bodies above this size go to an
 *	unnamed file in suite_spool_dir, so memory stays bounded by
 *	connections x this value whatever the message size.
 *
 *	suite_spool_dir, suite_body_memory and suite_header_max are read
 *	when the daemon starts (the host's callbacks are made then); a
 *	reload keeps the running values.
 *--*/
#include <stddef.h>
#include <string.h>

#include "errlist.h"
#include "suite_conf.h"

#define S(field) offsetof(struct suite_conf, field)

static const struct cfg_param suite_params[] = {
	{"suite_socket", CFG_STR, "unix:/run/postmill/suite.sock", S(socket), 0, 0, NULL, NULL,
	 "Where postmill-suite listens: unix:/path, inet:port@host or inet6:port@host."},
	{"suite_pid_file", CFG_STR, "/run/postmill/suite.pid", S(pid_file), 0, 0, NULL, NULL,
	 "Pid file of the postmill-suite supervisor (empty: none)."},
	{"suite_milters", CFG_LIST, "auth, bounce, dkim, limit", S(milters), 0, 0, NULL, NULL,
	 "The milters postmill-suite runs in one MTA conversation, in this order, with the results of the separate daemons listed in that order in smtpd_milters (each still reads its own parameters)."},
	{"suite_spool_dir", CFG_STR, "/var/tmp", S(spool_dir), 0, 0, NULL, NULL,
	 "Directory for messages larger than suite_body_memory while the modules see them (unnamed files, O_TMPFILE; run_user must be able to write)."},
	{"suite_body_memory", CFG_SIZE, "1m", S(body_memory), 4096, 1LL << 30, NULL, NULL,
	 "Body bytes of one message kept in memory; a larger body goes to a file in suite_spool_dir."},
	{"suite_header_max", CFG_SIZE, "4m", S(header_max), 65536, 1LL << 30, NULL, NULL,
	 "Header bytes of one message kept at most; a larger header is answered with 451 4.3.0."},
	{NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

/* suite_validate - the module list: known names, each once */
static void
suite_validate(const void *values, const char *path, struct errlist *el)
{
	static const char *const known[] = {"auth", "bounce", "dkim", "limit", NULL};
	const struct suite_conf *c = values;

	if (c->milters.count == 0)
		errlist_add_at(el, path, 0, "suite_milters is empty: nothing to run");
	for (size_t i = 0; i < c->milters.count; i++) {
		const char *m = c->milters.items[i];
		size_t k = 0;

		while (known[k] != NULL && strcmp(known[k], m) != 0)
			k++;
		if (known[k] == NULL)
			errlist_add_at(el, path, 0, "suite_milters: unknown milter "
				       "\"%s\" (known: auth, bounce, dkim, limit)", m);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->milters.items[j], m) == 0)
				errlist_add_at(el, path, 0, "suite_milters: \"%s\" "
					       "listed twice", m);
	}
}

const struct cfg_section suite_section = {
	"suite", "suite_", suite_params, sizeof(struct suite_conf), suite_validate,
};
