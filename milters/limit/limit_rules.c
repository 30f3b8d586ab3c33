/*++
 * NAME
 *	limit_rules 3
 * SUMMARY
 *	the rules file of postmill-limit, and which rules a message meets
 * DESCRIPTION
 *	See limit_rules.h for the syntax. The parser takes (text, len), so
 *	that tests feed it strings; every line is checked and every problem
 *	reported with file:line, as in the dkim tables. Values are bounded:
 *	counts up to LIMIT_MAX_COUNT (exact in the Lua doubles of the Redis
 *	script), a rate's emission interval at least 1 microsecond (the
 *	script's time unit), at most LIMIT_MAX_PER_KIND limits per key kind
 *	and what (so that one call stays under REDIS_MAX_SCRIPT_ARGS).
 *--*/
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "limit_rules.h"
#include "name_code.h"
#include "xalloc.h"

#define LR_SPACE	" \t\r"
#define LR_MAX_TOKENS	64

/* the key word of the rules file */
static const struct name_code lr_kind_names[] = {
	{"sasl", LIMIT_KEY_SASL},
	{"sender", LIMIT_KEY_SENDER},
	{"sender_domain", LIMIT_KEY_DOMAIN},
	{"client_ip", LIMIT_KEY_IP},
	{NULL, -1},
};
/* the prefix of key values ("sasl:alice"), in Redis keys and postmillctl */
static const struct name_code lr_kind_tags[] = {
	{"sasl", LIMIT_KEY_SASL},
	{"sender", LIMIT_KEY_SENDER},
	{"domain", LIMIT_KEY_DOMAIN},
	{"ip", LIMIT_KEY_IP},
	{NULL, -1},
};
/* what a rule counts */
static const struct name_code lr_what_names[] = {
	{"messages", LIMIT_WHAT_MESSAGES},
	{"recipients", LIMIT_WHAT_RECIPIENTS},
	{NULL, -1},
};

/* limit_kind_name - the word of the rules file */
const char *
limit_kind_name(enum limit_key_kind kind)
{
	const char *w = name_code_str(lr_kind_names, kind);

	return w ? w : "?";
}

/* limit_what_name - "messages" or "recipients" */
const char *
limit_what_name(enum limit_what what)
{
	const char *w = name_code_str(lr_what_names, what);

	return w ? w : "?";
}

/* lr_lower - ASCII lower case in place */
static char *
lr_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* lr_count - a decimal count 0..max; -1 + why */
static int
lr_count(const char *text, size_t len, long long min, long long max,
	 long long *out, const char **why)
{
	long long n = 0;

	if (len == 0 || len > 13) {
		*why = len == 0 ? "missing number" : "number too large";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i])) {
			*why = "not a number";
			return -1;
		}
		n = n * 10 + (text[i] - '0');
	}
	if (n < min || n > max) {
		*why = n < min ? "number too small" : "number too large";
		return -1;
	}
	*out = n;
	return 0;
}

/* lr_name_ok - a rule name: [A-Za-z0-9_.-]{1,LIMIT_NAME_MAX} */
static bool
lr_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LIMIT_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* lr_kind - "sasl", "client_ip/48", ...; -1 + why */
static int
lr_kind(const char *tok, enum limit_key_kind *kind, unsigned *v6,
	const char **why)
{
	const char *slash = strchr(tok, '/');
	size_t n = slash ? (size_t)(slash - tok) : strlen(tok);

	*v6 = LIMIT_DEFAULT_V6_PREFIX;
	int k = name_code_len(lr_kind_names, NAME_CODE_FLAG_NONE, tok, n);
	long long p;

	if (k < 0) {
		*why = "unknown key (sasl, sender, sender_domain, client_ip[/N])";
		return -1;
	}
	*kind = (enum limit_key_kind)k;
	if (slash == NULL)
		return 0;
	if (k != LIMIT_KEY_IP) {
		*why = "only client_ip takes a prefix length";
		return -1;
	}
	if (lr_count(slash + 1, strlen(slash + 1), 1, 128, &p, why) < 0) {
		*why = "client_ip/N: N is the IPv6 prefix length, 1..128";
		return -1;
	}
	*v6 = (unsigned)p;
	return 0;
}
/* lr_limit - "quota=N/WINDOW" or "rate=R/PERIOD" into d */
static int
lr_limit(const char *tok, struct limit_def *d, const char **why)
{
	const char *eq = strchr(tok, '=');
	const char *slash = strchr(tok, '/');
	long long max;

	memset(d, 0, sizeof(*d));
	if (eq == NULL || slash == NULL || slash < eq) {
		*why = "want quota=N/WINDOW or rate=N/PERIOD";
		return -1;
	}
	if (strncmp(tok, "quota=", 6) == 0) {
		d->type = LIMIT_TYPE_QUOTA;
		if (lr_count(eq + 1, (size_t)(slash - eq - 1), 0, LIMIT_MAX_COUNT,
			     &d->count, why) < 0)
			return -1;
		return limit_window_parse(slash + 1, &d->window, d->name,
					  sizeof(d->name), why);
	}
	d->type = LIMIT_TYPE_RATE;
	snprintf(d->name, sizeof(d->name), "rate");
	if (lr_count(eq + 1, (size_t)(slash - eq - 1), 1, 1000000000LL,
		     &d->count, why) < 0)
		return -1;
	if (limit_duration_parse(slash + 1, &d->period_ms, why) < 0)
		return -1;
	if (d->period_ms > LIMIT_MAX_RATE_PERIOD_MS) {
		*why = "a rate period is at most 366d";
		return -1;
	}
	/* the script counts time in microseconds: at least 1 per message */
	max = d->period_ms * 1000;
	if (d->count > max) {
		*why = "rate too high: more than one per microsecond";
		return -1;
	}
	d->burst = d->count;
	return 0;
}

/* lr_has_limit - does the rule have a limit of that name already */
static bool
lr_has_limit(const struct limit_rule *rule, const char *name)
{
	for (size_t j = 0; j < rule->nlimits; j++)
		if (strcmp(rule->limits[j].name, name) == 0)
			return true;
	return false;
}

/* lr_rule - one "name key what limits... [action]" line */
static void
lr_rule(struct limit_rules *r, char **tok, size_t ntok, const char *path,
	unsigned line, struct errlist *el)
{
	struct limit_rule rule;
	size_t before = el->count;
	bool have_action = false, have_burst = false;
	long long burst = 0;
	int w;
	const char *why;

	memset(&rule, 0, sizeof(rule));
	rule.line = line;
	if (!lr_name_ok(tok[0])) {
		errlist_add_at(el, path, line, "rule name \"%s\": letters, digits, "
			       "_ - . only, 1 to %d of them", tok[0], LIMIT_NAME_MAX);
		return;
	}
	snprintf(rule.name, sizeof(rule.name), "%s", tok[0]);
	if (limit_rules_find(r, rule.name) != NULL) {
		errlist_add_at(el, path, line, "rule \"%s\" is already defined on line %u",
			       rule.name, limit_rules_find(r, rule.name)->line);
		return;
	}
	if (ntok < 4) {
		errlist_add_at(el, path, line, "rule \"%s\": want \"name key what "
			       "limit... [tempfail|reject]\"", rule.name);
		return;
	}
	if (lr_kind(tok[1], &rule.kind, &rule.v6_prefix, &why) < 0)
		errlist_add_at(el, path, line, "rule \"%s\": \"%s\": %s", rule.name,
			       tok[1], why);
	if ((w = name_code(lr_what_names, NAME_CODE_FLAG_NONE, tok[2])) >= 0)
		rule.what = (enum limit_what)w;
	else
		errlist_add_at(el, path, line, "rule \"%s\": \"%s\": want messages "
			       "or recipients", rule.name, tok[2]);
	for (size_t i = 3; i < ntok; i++) {
		const char *t = tok[i];

		if (strcmp(t, "tempfail") == 0 || strcmp(t, "reject") == 0) {
			if (have_action)
				errlist_add_at(el, path, line, "rule \"%s\": more than "
					       "one action", rule.name);
			have_action = true;
			rule.reject = t[0] == 'r';
		} else if (strncmp(t, "burst=", 6) == 0) {
			if (have_burst)
				errlist_add_at(el, path, line, "rule \"%s\": more than "
					       "one burst", rule.name);
			else if (lr_count(t + 6, strlen(t + 6), 1, 1000000000LL,
					  &burst, &why) < 0)
				errlist_add_at(el, path, line, "rule \"%s\": \"%s\": %s",
					       rule.name, t, why);
			have_burst = true;
		} else if (strncmp(t, "quota=", 6) == 0 || strncmp(t, "rate=", 5) == 0) {
			struct limit_def d;

			if (lr_limit(t, &d, &why) < 0) {
				errlist_add_at(el, path, line, "rule \"%s\": \"%s\": %s",
					       rule.name, t, why);
				continue;
			}
			if (rule.nlimits == LIMIT_MAX_PER_RULE) {
				errlist_add_at(el, path, line, "rule \"%s\": more than "
					       "%d limits", rule.name, LIMIT_MAX_PER_RULE);
				continue;
			}
			if (lr_has_limit(&rule, d.name)) {
				errlist_add_at(el, path, line, "rule \"%s\": \"%s\": %s",
					       rule.name, t, d.type == LIMIT_TYPE_RATE ?
					       "one rate per rule (write another rule)" :
					       "a second quota of the same window");
				continue;
			}
			rule.limits[rule.nlimits++] = d;
		} else {
			errlist_add_at(el, path, line, "rule \"%s\": \"%s\": want "
				       "quota=N/WINDOW, rate=N/PERIOD, burst=N, tempfail "
				       "or reject", rule.name, t);
		}
	}
	if (el->count != before)
		return;
	if (rule.nlimits == 0) {
		errlist_add_at(el, path, line, "rule \"%s\": no quota= or rate=",
			       rule.name);
		return;
	}
	if (have_burst) {
		size_t j;

		for (j = 0; j < rule.nlimits; j++)
			if (rule.limits[j].type == LIMIT_TYPE_RATE)
				break;
		if (j == rule.nlimits) {
			errlist_add_at(el, path, line, "rule \"%s\": burst= without rate=",
				       rule.name);
			return;
		}
		rule.limits[j].burst = burst;
	}
	if (r->nrules == LIMIT_MAX_RULES) {
		errlist_add_at(el, path, line, "more than %d rules", LIMIT_MAX_RULES);
		return;
	}
	{
		size_t n = rule.nlimits;

		for (size_t i = 0; i < r->nrules; i++)
			if (r->rules[i].kind == rule.kind && r->rules[i].what == rule.what)
				n += r->rules[i].nlimits;
		if (n > LIMIT_MAX_PER_KIND) {
			errlist_add_at(el, path, line, "more than %d %s limits of key %s",
				       LIMIT_MAX_PER_KIND, limit_what_name(rule.what),
				       limit_kind_name(rule.kind));
			return;
		}
	}
	r->rules = xrealloc(r->rules, (r->nrules + 1) * sizeof(*r->rules));
	r->rules[r->nrules++] = rule;
}

/* lr_list_add - append a word to a cfg_list */
static void
lr_list_add(struct cfg_list *l, char *word)
{
	l->items = xrealloc(l->items, (l->count + 1) * sizeof(*l->items));
	l->items[l->count++] = word;
}

/* lr_exempt - one "exempt kind value..." line */
static void
lr_exempt(struct limit_rules *r, char **tok, size_t ntok, const char *path,
	  unsigned line, struct errlist *el)
{
	enum limit_key_kind kind;
	unsigned v6;
	const char *why;

	if (ntok < 3) {
		errlist_add_at(el, path, line, "want \"exempt KIND VALUE...\"");
		return;
	}
	if (lr_kind(tok[1], &kind, &v6, &why) < 0 || strchr(tok[1], '/') != NULL) {
		errlist_add_at(el, path, line, "exempt \"%s\": want sasl, sender, "
			       "sender_domain or client_ip", tok[1]);
		return;
	}
	for (size_t i = 2; i < ntok; i++) {
		switch (kind) {
		case LIMIT_KEY_SASL:
			lr_list_add(&r->exempt[kind], xstrdup(tok[i]));
			break;
		case LIMIT_KEY_SENDER: {
			struct limit_facts f = {0};

			limit_facts_set_sender(&f, tok[i], strlen(tok[i]));
			lr_list_add(&r->exempt[kind], f.sender);
			f.sender = NULL;
			limit_facts_free(&f);
			break;
		}
		case LIMIT_KEY_DOMAIN: {
			char *d = addr_domain_normalize(tok[i], &why);

			if (d == NULL)
				errlist_add_at(el, path, line, "exempt sender_domain "
					       "\"%s\": %s", tok[i], why);
			else
				lr_list_add(&r->exempt[kind], d);
			break;
		}
		case LIMIT_KEY_IP: {
			struct cidr c;

			if (cidr_parse(tok[i], &c, &why) < 0) {
				errlist_add_at(el, path, line, "exempt client_ip \"%s\": %s",
					       tok[i], why);
				break;
			}
			r->exempt_ip.items = xrealloc(r->exempt_ip.items,
			    (r->exempt_ip.count + 1) * sizeof(c));
			r->exempt_ip.items[r->exempt_ip.count++] = c;
			break;
		}
		}
	}
}

/* limit_rules_parse - the whole text; NULL when anything is wrong */
struct limit_rules *
limit_rules_parse(const char *text, size_t len, const char *path,
		  struct errlist *el)
{
	struct limit_rules *r = xcalloc(1, sizeof(*r));
	size_t before = el->count, pos = 0;
	unsigned lineno = 0;
	char *buf = NULL;

	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t slen = nl ? (size_t)(nl - s) : len - pos;
		char *tok[LR_MAX_TOKENS], *save = NULL, *t, *hash;
		size_t ntok = 0;

		pos += slen + (nl != NULL);
		lineno++;
		if (memchr(s, '\0', slen) != NULL) {
			errlist_add_at(el, path, lineno, "NUL byte in line");
			continue;
		}
		buf = xrealloc(buf, slen + 1);
		memcpy(buf, s, slen);
		buf[slen] = '\0';
		if ((hash = strchr(buf, '#')) != NULL)
			*hash = '\0';
		for (t = strtok_r(buf, LR_SPACE, &save); t != NULL;
		     t = strtok_r(NULL, LR_SPACE, &save)) {
			if (ntok == LR_MAX_TOKENS) {
				errlist_add_at(el, path, lineno, "more than %d words",
					       LR_MAX_TOKENS);
				ntok = 0;
				break;
			}
			tok[ntok++] = t;
		}
		if (ntok == 0)
			continue;
		if (strcmp(tok[0], "exempt") == 0)
			lr_exempt(r, tok, ntok, path, lineno, el);
		else
			lr_rule(r, tok, ntok, path, lineno, el);
	}
	free(buf);
	if (el->count != before)
		return limit_rules_free(r);
	return r;
}

/* limit_rules_load - read the file, then parse it */
struct limit_rules *
limit_rules_load(const char *path, struct errlist *el)
{
	struct limit_rules *r;
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errlist_add_at(el, path, 0, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > LIMIT_MAX_FILE) {
		errlist_add_at(el, path, 0, "%s", !S_ISREG(st.st_mode) ?
			       "not a regular file" : "larger than 4 MiB");
		close(fd);
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size
	       && (n = read(fd, text + got, (size_t)st.st_size - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errlist_add_at(el, path, 0, "%s", strerror(errno));
			close(fd);
			free(text);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	r = limit_rules_parse(text, got, path, el);
	free(text);
	return r;
}

/* limit_rules_free - release a rule set */
struct limit_rules *
limit_rules_free(struct limit_rules *r)
{
	if (r == NULL)
		return NULL;
	free(r->rules);
	for (int k = 0; k < LIMIT_KEY_IP; k++)
		cfg_list_free(&r->exempt[k]);
	cidr_list_free(&r->exempt_ip);
	free(r);
	return NULL;
}

/* limit_rules_find - rule by name, or NULL */
const struct limit_rule *
limit_rules_find(const struct limit_rules *r, const char *name)
{
	for (size_t i = 0; i < r->nrules; i++)
		if (strcmp(r->rules[i].name, name) == 0)
			return &r->rules[i];
	return NULL;
}

 /*
  * Facts of a message.
  */

/* limit_facts_set_sender - the sender and its domain from a MAIL FROM path */
void
limit_facts_set_sender(struct limit_facts *f, const char *path, size_t len)
{
	struct addr_mailbox m = {0};
	bool is_null = false;
	const char *why;

	f->sender = xfree(f->sender);
	f->sender_domain = xfree(f->sender_domain);
	if (len > ADDR_PATH_MAX)
		len = ADDR_PATH_MAX;
	if (addr_parse_path(path, len, &m, &is_null, &why) == ADDR_OK) {
		if (is_null) {
			f->sender = xstrdup("<>");
		} else {
			f->sender = lr_lower(xasprintf("%s@%s", m.local, m.domain));
			f->sender_domain = xstrdup(m.domain);
		}
		addr_mailbox_free(&m);
		return;
	}
	addr_mailbox_free(&m);
	/* not parseable: count it by its text, never let it pass uncounted */
	{
		const char *s = path, *e = path + len;
		const char *at;

		while (s < e && (*s == '<' || isspace((unsigned char)*s)))
			s++;
		while (e > s && (e[-1] == '>' || isspace((unsigned char)e[-1])))
			e--;
		if (s == e) {
			f->sender = xstrdup("<>");
			return;
		}
		f->sender = lr_lower(xstrndup(s, (size_t)(e - s)));
		if ((at = strrchr(f->sender, '@')) != NULL && at[1] != '\0')
			f->sender_domain = xstrdup(at + 1);
	}
}

/* limit_facts_set_ip - the client address; IPv4-mapped IPv6 is IPv4 */
void
limit_facts_set_ip(struct limit_facts *f, int family, const void *addr)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(f->addr, 0, sizeof(f->addr));
	f->family = AF_UNSPEC;
	if (family == AF_INET) {
		memcpy(f->addr, addr, 4);
		f->family = AF_INET;
	} else if (family == AF_INET6) {
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			memcpy(f->addr, (const unsigned char *)addr + 12, 4);
			f->family = AF_INET;
		} else {
			memcpy(f->addr, addr, 16);
			f->family = AF_INET6;
		}
	}
}

/* limit_facts_from_key - "sasl:alice", "ip:2001:db8::1", ... (postmillctl) */
int
limit_facts_from_key(struct limit_facts *f, const char *text,
		     enum limit_key_kind *kind, const char **why)
{
	const char *colon = strchr(text, ':');
	const char *v;
	int k;

	memset(f, 0, sizeof(*f));
	if (colon == NULL || colon[1] == '\0') {
		*why = "want sasl:LOGIN, sender:ADDRESS, domain:DOMAIN or ip:ADDRESS";
		return -1;
	}
	v = colon + 1;
	k = name_code_len(lr_kind_tags, NAME_CODE_FLAG_NONE, text,
			  (size_t)(colon - text));
	switch (k) {
	case LIMIT_KEY_SASL:
		f->login = xstrdup(v);
		break;
	case LIMIT_KEY_SENDER:
		limit_facts_set_sender(f, v, strlen(v));
		break;
	case LIMIT_KEY_DOMAIN:
		if ((f->sender_domain = addr_domain_normalize(v, why)) == NULL)
			return -1;
		break;
	case LIMIT_KEY_IP: {
		/* "2001:db8::/64" names the network: take its address */
		char buf[INET6_ADDRSTRLEN + 8];
		unsigned char a[16];
		char *slash;

		snprintf(buf, sizeof(buf), "%s", v);
		if ((slash = strchr(buf, '/')) != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, buf, a) == 1)
			limit_facts_set_ip(f, AF_INET, a);
		else if (inet_pton(AF_INET6, buf, a) == 1)
			limit_facts_set_ip(f, AF_INET6, a);
		else {
			*why = "not a numeric IPv4 or IPv6 address";
			return -1;
		}
		break;
	}
	default:
		*why = "want sasl:LOGIN, sender:ADDRESS, domain:DOMAIN or ip:ADDRESS";
		return -1;
	}
	*kind = (enum limit_key_kind)k;
	return 0;
}

/* limit_facts_free - what the setters allocated */
void
limit_facts_free(struct limit_facts *f)
{
	f->login = xfree(f->login);
	f->sender = xfree(f->sender);
	f->sender_domain = xfree(f->sender_domain);
}

/* lr_ip_value - "ip:192.0.2.7" or "ip:2001:db8:1:2::/64" */
static char *
lr_ip_value(const struct limit_facts *f, unsigned prefix)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char a[16];

	if (f->family == AF_INET) {
		inet_ntop(AF_INET, f->addr, text, sizeof(text));
		return xasprintf("ip:%s", text);
	}
	memcpy(a, f->addr, 16);
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;

		if (bits < 8)
			a[i] &= (unsigned char)(0xff00 >> bits);
	}
	inet_ntop(AF_INET6, a, text, sizeof(text));
	if (prefix == 128)
		return xasprintf("ip:%s", text);
	return xasprintf("ip:%s/%u", text, prefix);
}

/* limit_key_value - "sasl:alice" for this rule and message, or NULL */
char *
limit_key_value(const struct limit_rules *r, const struct limit_rule *rule,
		const struct limit_facts *f)
{
	switch (rule->kind) {
	case LIMIT_KEY_SASL:
		if (f->login == NULL || *f->login == '\0'
		    || cfg_list_contains(&r->exempt[LIMIT_KEY_SASL], f->login, false))
			return NULL;
		return xasprintf("sasl:%s", f->login);
	case LIMIT_KEY_SENDER:
		if (f->sender == NULL
		    || cfg_list_contains(&r->exempt[LIMIT_KEY_SENDER], f->sender, false))
			return NULL;
		return xasprintf("sender:%s", f->sender);
	case LIMIT_KEY_DOMAIN:
		if (f->sender_domain == NULL
		    || cfg_list_contains(&r->exempt[LIMIT_KEY_DOMAIN], f->sender_domain, true))
			return NULL;
		return xasprintf("domain:%s", f->sender_domain);
	case LIMIT_KEY_IP:
		if (f->family != AF_INET && f->family != AF_INET6)
			return NULL;
		for (size_t i = 0; i < r->exempt_ip.count; i++)
			if (cidr_match_bytes(&r->exempt_ip.items[i], f->family, f->addr))
				return NULL;
		return lr_ip_value(f, rule->v6_prefix);
	}
	return NULL;
}

/* limit_plan_build - the rules of one message, grouped by key value */
void
limit_plan_build(const struct limit_rules *r, const struct limit_facts *f,
		 struct limit_plan *out)
{
	out->calls = NULL;
	out->ncalls = 0;
	for (size_t i = 0; i < r->nrules; i++) {
		char *kv = limit_key_value(r, &r->rules[i], f);
		struct limit_call *c = NULL;

		if (kv == NULL)
			continue;
		for (size_t j = 0; j < out->ncalls; j++)
			if (strcmp(out->calls[j].keyval, kv) == 0)
				c = &out->calls[j];
		if (c == NULL) {
			out->calls = xrealloc(out->calls, (out->ncalls + 1) * sizeof(*c));
			c = &out->calls[out->ncalls++];
			c->keyval = kv;
			c->rules = NULL;
			c->nrules = 0;
		} else {
			free(kv);
		}
		c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
		c->rules[c->nrules++] = &r->rules[i];
	}
}

/* limit_plan_free - release a plan (the rules are borrowed) */
void
limit_plan_free(struct limit_plan *p)
{
	for (size_t i = 0; i < p->ncalls; i++) {
		free(p->calls[i].keyval);
		free(p->calls[i].rules);
	}
	free(p->calls);
	p->calls = NULL;
	p->ncalls = 0;
}

/* limit_call_counts - does this call have rules of this what */
bool
limit_call_counts(const struct limit_call *c, enum limit_what what)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (c->rules[i]->what == what)
			return true;
	return false;
}
