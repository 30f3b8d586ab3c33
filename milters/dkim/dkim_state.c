/*++
 * NAME
 *	dkim_state 3
 * SUMMARY
 *	what one configuration snapshot of postmill-dkim loads
 * DESCRIPTION
 *	dkim_state_load() reads the key table, the signing table and the
 *	sender login map, turns every key into a signer key (each PEM file
 *	decoded once, here, never per message) and prepares the header
 *	lists. Every problem goes into the errlist with file and line; on
 *	any problem nothing is returned, so a bad reload keeps the previous
 *	snapshot. The state is immutable afterwards and shared by all
 *	threads.
 *--*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim.h"
#include "xalloc.h"

/* dkim_state_free - release a loaded state */
void
dkim_state_free(void *state)
{
	struct dkim_state *st = state;

	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nkeys; i++)
		dkim_key_free(st->keys[i]);
	free(st->keys);
	free(st->sign_headers);
	free(st->oversign_headers);
	free(st->oversign_if_present);
	dkim_tables_free(st->tables);
	free(st);
}

/* dkim_state_key - the signer key of a key-table entry */
const struct dkim_key *
dkim_state_key(const struct dkim_state *st, const struct dkim_tables_key *tk)
{
	for (size_t i = 0; i < st->nkeys; i++)
		if (dkim_tables_key_at(st->tables, i) == tk)
			return st->keys[i];
	return NULL;
}

/* dkim_state_lists - header name arrays; From is always over-signed */
static void
dkim_state_lists(struct dkim_state *st, const struct dkim_conf *conf)
{
	bool from = cfg_list_contains(&conf->oversign_headers, "from", true);

	st->n_sign = conf->sign_headers.count;
	st->sign_headers = xcalloc(st->n_sign + 1, sizeof(char *));
	for (size_t i = 0; i < st->n_sign; i++)
		st->sign_headers[i] = conf->sign_headers.items[i];
	st->n_oversign = conf->oversign_headers.count;
	st->oversign_headers = xcalloc(st->n_oversign + 2, sizeof(char *));
	for (size_t i = 0; i < st->n_oversign; i++)
		st->oversign_headers[i] = conf->oversign_headers.items[i];
	/* RFC 6376 section 5.4: From must be signed; over-sign it always */
	if (!from)
		st->oversign_headers[st->n_oversign++] = "from";
	/* ... even if someone lists it here: a message without From is not signed */
	st->oversign_if_present = xcalloc(conf->oversign_if_present.count + 1,
					  sizeof(char *));
	for (size_t i = 0; i < conf->oversign_if_present.count; i++)
		if (strcasecmp(conf->oversign_if_present.items[i], "from") != 0)
			st->oversign_if_present[st->n_oversign_if_present++] =
			    conf->oversign_if_present.items[i];
}

/* dkim_state_load - tables, keys and lists of one snapshot */
void *
dkim_state_load(const struct common_conf *common, const void *confp,
		const char *config_path, struct errlist *el)
{
	const struct dkim_conf *conf = confp;
	struct dkim_tables_options opt = DKIM_TABLES_OPTIONS_INIT;
	struct dkim_state *st;
	size_t before = el->count;

	(void)common;
	if (conf->key_table == NULL)
		errlist_add_at(el, config_path, 0, "dkim_key_table is empty");
	if (conf->signing_table == NULL)
		errlist_add_at(el, config_path, 0, "dkim_signing_table is empty");
	if (el->count != before)
		return NULL;

	st = xcalloc(1, sizeof(*st));
	opt.min_rsa_bits = (long)conf->min_rsa_bits;
	opt.strict_permissions = conf->strict_key_permissions;
	st->tables = dkim_tables_load(conf->key_table, conf->signing_table,
				      conf->sender_login_map, &opt, el);
	if (st->tables == NULL || el->count != before) {
		dkim_state_free(st);
		return NULL;
	}
	st->nkeys = dkim_tables_key_count(st->tables);
	st->keys = xcalloc(st->nkeys ? st->nkeys : 1, sizeof(*st->keys));
	for (size_t i = 0; i < st->nkeys; i++) {
		const struct dkim_tables_key *tk = dkim_tables_key_at(st->tables, i);
		const char *why;

		if ((st->keys[i] = dkim_key_from_pkey(tk->pkey, &why)) == NULL)
			errlist_add_at(el, conf->key_table, tk->line,
				       "key \"%s\": %s: %s", tk->name, tk->path, why);
	}
	if (el->count != before) {
		dkim_state_free(st);
		return NULL;
	}
	dkim_state_lists(st, conf);
	switch (conf->canonicalization) {
	case DKIM_CANON_RR:
		st->header_canon = DKIM_CANON_MODE_RELAXED;
		st->body_canon = DKIM_CANON_MODE_RELAXED;
		break;
	case DKIM_CANON_RS:
		st->header_canon = DKIM_CANON_MODE_RELAXED;
		st->body_canon = DKIM_CANON_MODE_SIMPLE;
		break;
	case DKIM_CANON_SR:
		st->header_canon = DKIM_CANON_MODE_SIMPLE;
		st->body_canon = DKIM_CANON_MODE_RELAXED;
		break;
	default:
		st->header_canon = DKIM_CANON_MODE_SIMPLE;
		st->body_canon = DKIM_CANON_MODE_SIMPLE;
		break;
	}
	st->policy.sign_authenticated = conf->sign_authenticated;
	st->policy.sign_internal = conf->sign_internal_hosts;
	st->policy.unsignable_action = conf->unsignable_action;
	st->policy.login_mismatch_action = conf->login_mismatch_action;
	return st;
}

/* dkim_state_describe - what -n prints about a good configuration */
void
dkim_state_describe(const void *state, FILE *fp)
{
	const struct dkim_state *st = state;
	const struct dkim_loginmap *map = dkim_tables_loginmap(st->tables);

	for (size_t i = 0; i < st->nkeys; i++) {
		const struct dkim_tables_key *tk = dkim_tables_key_at(st->tables, i);

		fprintf(fp, "key %s: d=%s s=%s %s %d bits (%s)\n", tk->name,
			tk->domain, tk->selector, tk->algorithm, tk->bits, tk->path);
	}
	fprintf(fp, "%zu key%s, %zu signing pattern%s, %s\n", st->nkeys,
		st->nkeys == 1 ? "" : "s", dkim_tables_pattern_count(st->tables),
		dkim_tables_pattern_count(st->tables) == 1 ? "" : "s",
		map ? "sender login map on" : "no sender login map");
}
