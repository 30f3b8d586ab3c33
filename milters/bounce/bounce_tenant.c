/*++
 * NAME
 *	bounce_tenant 3
 * SUMMARY
 *	the tenant table: parse, load, look up
 * DESCRIPTION
 *	See bounce_tenant.h for the format. The parser does no I/O and
 *	trusts nothing in the text: every line and field is bounded, and
 *	every problem is reported with its line, so that "-n" lists all of
 *	them (as milters/dkim/dkim_tables.c does). Tenants are kept sorted
 *	by name: a duplicate shows as two neighbours (both lines named),
 *	and a lookup is a binary search.
 *--*/
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "bounce_keys.h"
#include "bounce_tenant.h"
#include "xalloc.h"

/* bt_blank - field separator */
static int
bt_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* bt_lower - ASCII lower case in place */
static void
bt_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/* bt_cmp - order by name, for qsort and bsearch */
static int
bt_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bounce_tenant *)a)->name,
		      ((const struct bounce_tenant *)b)->name);
}

/* bt_login_ok - a SASL login: printable ASCII without blanks, 1..256 */
static const char *
bt_login_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty login";
	if (n > BOUNCE_TENANT_NAME_MAX - 6)
		return "login longer than 256 octets";
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return "login with a control, blank or non-ASCII octet";
	return NULL;
}

/* bt_clear - free what a tenant owns, keep the struct */
static void
bt_clear(struct bounce_tenant *t)
{
	t->name = xfree(t->name);
	t->bounce_domain = xfree(t->bounce_domain);
	for (size_t i = 0; i < t->nsecrets; i++)
		free(t->secrets[i]);
	t->secrets = xfree(t->secrets);
	t->nsecrets = 0;
}

/* bt_options - "unsubscribe", "track", "secret=PATH", comma- or blank-separated */
static const char *
bt_options(char *s, struct bounce_tenant *t)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (strcasecmp(tok, "unsubscribe") == 0) {
			t->unsubscribe = true;
		} else if (strncasecmp(tok, "secret=", 7) == 0) {
			if (tok[7] != '/')
				return "secret=PATH: the path must be absolute";
			if (t->nsecrets >= BOUNCE_KEYS_MAX)
				return "more than 16 secret= options";
			for (size_t i = 0; i < t->nsecrets; i++)
				if (strcmp(t->secrets[i], tok + 7) == 0)
					return "secret=PATH: the same file twice";
			t->secrets = xrealloc(t->secrets, (t->nsecrets + 1)
					      * sizeof(*t->secrets));
			t->secrets[t->nsecrets++] = xstrdup(tok + 7);
		} else if (strcasecmp(tok, "track") == 0) {
			t->track = true;
		} else {
			return "unknown option (known: unsubscribe, track, secret=PATH)";
		}
	}
	return NULL;
}

/* bt_line - one line without its newline; 1 tenant, 0 nothing, -1 error */
static int
bt_line(char *line, const char *path, unsigned lineno,
	struct bounce_tenant *t, struct errlist *el)
{
	char *f[3] = {NULL, NULL, NULL}, *cp = line, *dom;
	const char *why;
	size_t nf = 0;

	if ((cp = strchr(line, '#')) != NULL)
		*cp = '\0';
	cp = line;
	while (nf < 3) {
		while (bt_blank(*cp))
			cp++;
		if (*cp == '\0')
			break;
		f[nf++] = cp;
		if (nf == 3)
			break;		/* the options take the rest */
		while (*cp != '\0' && !bt_blank(*cp))
			cp++;
		if (*cp != '\0')
			*cp++ = '\0';
	}
	if (nf == 0)
		return 0;
	if (nf < 2) {
		errlist_add_at(el, path, lineno, "expected KEY BOUNCE-DOMAIN [OPTIONS]");
		return -1;
	}
	memset(t, 0, sizeof(*t));
	t->line = lineno;
	if (strncasecmp(f[0], "login:", 6) == 0) {
		if ((why = bt_login_ok(f[0] + 6)) != NULL) {
			errlist_add_at(el, path, lineno, "%s", why);
			return -1;
		}
		t->is_login = true;
		t->name = xstrdup(f[0]);
	} else if (strchr(f[0], '@') != NULL || strchr(f[0], ':') != NULL) {
		errlist_add_at(el, path, lineno, "key must be a sender domain, "
			       ".DOMAIN or login:NAME");
		return -1;
	} else {
		/* OpenDKIM's leading dot, or the *. of the dkim tables */
		const char *k = f[0];

		if (k[0] == '.' || (k[0] == '*' && k[1] == '.')) {
			t->subdomains = true;
			k += k[0] == '.' ? 1 : 2;
		}
		if (strchr(k, '*') != NULL) {
			errlist_add_at(el, path, lineno, "a '*' only as *.DOMAIN");
			return -1;
		}
		if ((dom = addr_domain_normalize(k, &why)) == NULL) {
			errlist_add_at(el, path, lineno, "sender domain: %s", why);
			return -1;
		}
		t->name = t->subdomains ? xasprintf(".%s", dom) : xstrdup(dom);
		free(dom);
	}
	bt_lower(t->name);
	if (strcmp(f[1], "-") != 0) {
		if ((dom = addr_domain_normalize(f[1], &why)) == NULL) {
			errlist_add_at(el, path, lineno, "bounce domain: %s", why);
			bt_clear(t);
			return -1;
		}
		if (strchr(dom, '.') == NULL) {
			errlist_add_at(el, path, lineno, "bounce domain %s: not a "
				       "fully qualified domain", dom);
			free(dom);
			bt_clear(t);
			return -1;
		}
		t->bounce_domain = dom;
	}
	if (f[2] != NULL && (why = bt_options(f[2], t)) != NULL) {
		errlist_add_at(el, path, lineno, "%s", why);
		bt_clear(t);
		return -1;
	}
	if (t->nsecrets > 0 && t->bounce_domain == NULL) {
		errlist_add_at(el, path, lineno, "secret= needs the tenant's own bounce "
			       "domain (tags at bounce_domain are signed with "
			       "bounce_secret_files)");
		bt_clear(t);
		return -1;
	}
	return 1;
}

/* bounce_tenant_parse - the table's text; returns the number of problems */
int
bounce_tenant_parse(const char *text, size_t len, const char *path,
		    struct bounce_tenants *out, struct errlist *el)
{
	size_t before = el->count, pos = 0, cap = 0;
	unsigned lineno = 0;
	char line[BOUNCE_TENANT_LINE_MAX + 1];

	out->t = NULL;
	out->n = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len, n = end - pos;
		struct bounce_tenant t;

		lineno++;
		if (n > 0 && text[end - 1] == '\r')
			n--;
		if (n > BOUNCE_TENANT_LINE_MAX) {
			errlist_add_at(el, path, lineno, "line longer than %d octets",
				       BOUNCE_TENANT_LINE_MAX);
		} else if (memchr(text + pos, '\0', n) != NULL) {
			errlist_add_at(el, path, lineno, "NUL octet");
		} else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			if (bt_line(line, path, lineno, &t, el) == 1) {
				if (out->n == BOUNCE_TENANT_MAX) {
					errlist_add_at(el, path, lineno, "more than %d "
						       "tenants", BOUNCE_TENANT_MAX);
					bt_clear(&t);
					break;
				}
				if (out->n == cap) {
					cap = cap ? 2 * cap : 16;
					out->t = xrealloc(out->t, cap * sizeof(*out->t));
				}
				out->t[out->n++] = t;
			}
		}
		pos = end + 1;
	}
	if (out->n > 1)
		qsort(out->t, out->n, sizeof(*out->t), bt_cmp);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(out->t[i - 1].name, out->t[i].name) == 0) {
			unsigned a = out->t[i - 1].line, b = out->t[i].line;

			errlist_add_at(el, path, a > b ? a : b, "tenant %s already "
				       "defined at line %u", out->t[i].name, a < b ? a : b);
		}
	return (int)(el->count - before);
}

/* bounce_tenant_load - read and parse the file; NULL on any problem */
struct bounce_tenants *
bounce_tenant_load(const char *path, struct errlist *el)
{
	struct bounce_tenants *t = xcalloc(1, sizeof(*t));
	struct stat sb;
	char *buf;
	ssize_t r;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		errlist_add_at(el, path, 0, "%s", strerror(errno));
		return bounce_tenants_free(t);
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)
	    || sb.st_size > BOUNCE_TENANT_FILE_MAX) {
		errlist_add_at(el, path, 0, "not a regular file of at most %d octets",
			       BOUNCE_TENANT_FILE_MAX);
		close(fd);
		return bounce_tenants_free(t);
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size
	       && (r = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	if (bounce_tenant_parse(buf, got, path, t, el) != 0)
		t = bounce_tenants_free(t);
	free(buf);
	return t;
}

/* bt_find - by exact lower-case name */
static const struct bounce_tenant *
bt_find(const struct bounce_tenants *t, const char *name)
{
	struct bounce_tenant key;

	if (t == NULL || t->n == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, t->t, t->n, sizeof(*t->t), bt_cmp);
}

/* bounce_tenant_by_name - the tenant named NAME (any case), or NULL */
const struct bounce_tenant *
bounce_tenant_by_name(const struct bounce_tenants *t, const char *name)
{
	char buf[BOUNCE_TENANT_NAME_MAX + 1];

	if (name == NULL || strlen(name) > BOUNCE_TENANT_NAME_MAX)
		return NULL;
	/* "*.example.com" names the tenant ".example.com" */
	snprintf(buf, sizeof(buf), "%s", name[0] == '*' && name[1] == '.' ? name + 1 : name);
	bt_lower(buf);
	return bt_find(t, buf);
}

/*
 * bounce_tenant_find - login first, then the envelope sender's domain,
 * then .PARENT from the longest parent down (the most specific wins)
 */
const struct bounce_tenant *
bounce_tenant_find(const struct bounce_tenants *t, const char *login,
		   const char *sender)
{
	const struct bounce_tenant *r;
	const char *at;
	char buf[BOUNCE_TENANT_NAME_MAX + 1];

	if (t == NULL || t->n == 0)
		return NULL;
	if (login != NULL && *login != '\0' && strlen(login) <= 256) {
		snprintf(buf, sizeof(buf), "login:%s", login);
		bt_lower(buf);
		if ((r = bt_find(t, buf)) != NULL)
			return r;
	}
	if (sender != NULL && (at = strrchr(sender, '@')) != NULL
	    && strlen(at + 1) <= ADDR_DOMAIN_MAX) {
		char *dot;

		snprintf(buf, sizeof(buf), "%s", at + 1);
		buf[strcspn(buf, ">")] = '\0';
		bt_lower(buf);
		if ((r = bt_find(t, buf)) != NULL)
			return r;
		/* "a.b.c": ".b.c", then ".c" */
		for (dot = strchr(buf + 1, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
			if (dot[1] != '\0' && (r = bt_find(t, dot)) != NULL)
				return r;
	}
	return NULL;
}

/* bounce_tenants_free - release a table; takes NULL, returns NULL */
struct bounce_tenants *
bounce_tenants_free(struct bounce_tenants *t)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		bt_clear(&t->t[i]);
	free(t->t);
	free(t);
	return NULL;
}
