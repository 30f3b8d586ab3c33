/*++
 * NAME
 *	events_wh_table 3
 * SUMMARY
 *	the webhook table, its secrets, the signature and the JSON body
 * DESCRIPTION
 *	See events_webhook.h. The parser reports every bad line in one run
 *	(STYLE 2.3) and keeps the good ones out of a table with errors: the
 *	caller refuses to start.
 *--*/
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "events_webhook.h"
#include "xalloc.h"

/* ew_url_ok - https://, or http:// to a loopback address; why when not */
static const char *
ew_url_ok(const char *u)
{
	const char *host;

	for (const char *p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return "URL with a blank or control character";
	if (strncasecmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0) {
		host = u + 7;
		if (strncmp(host, "127.0.0.1", 9) != 0 && strncmp(host, "[::1]", 5) != 0)
			return "plain http:// only to 127.0.0.1 or [::1]; use https://";
		if (host[host[0] == '[' ? 5 : 9] != ':' && host[host[0] == '[' ? 5 : 9] != '/'
		    && host[host[0] == '[' ? 5 : 9] != '\0')
			return "plain http:// only to 127.0.0.1 or [::1]; use https://";
	} else
		return "URL must start with https://";
	if (*host == '\0' || *host == '/')
		return "URL without a host";
	return NULL;
}

/* ew_word - next blank-separated word of [*p, end) */
static int
ew_word(const char **p, const char *end, const char **w, size_t *wl)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	*w = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	*wl = (size_t)(*p - *w);
	return *wl > 0;
}

/* events_wh_parse - see events_webhook.h */
size_t
events_wh_parse(const char *text, size_t len, const char *path,
		struct events_wh_table *t, struct errlist *el)
{
	const char *p = text, *end = text + len;
	size_t	 errors = 0;
	unsigned lineno = 0;

	memset(t, 0, sizeof(*t));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *le, *w[4];
		size_t	 wl[4];
		int	 nw = 0;
		struct events_wh *r;
		const char *why;

		le = eol ? eol : end;
		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		for (const char *q = p; q < le; q++)
			if (*q == '\0')
				le = q;
		while (nw < 4 && ew_word(&p, le, &w[nw], &wl[nw]))
			nw++;
		p = eol ? eol + 1 : end;
		if (nw == 0 || w[0][0] == '#')
			continue;
		if (nw != 3) {
			errlist_add_at(el, path, lineno, "expected TENANT URL SECRET_FILE, got %d word%s",
				       nw, nw == 1 ? "" : "s");
			errors++;
			continue;
		}
		if (wl[0] >= sizeof(t->v[0].tenant) || wl[1] > EVENTS_WH_URL_MAX
		    || wl[2] >= sizeof(t->v[0].secret_file)) {
			errlist_add_at(el, path, lineno, "a word is too long");
			errors++;
			continue;
		}
		if (t->n == EVENTS_WH_MAX) {
			errlist_add_at(el, path, lineno, "more than %d webhooks", EVENTS_WH_MAX);
			errors++;
			break;
		}
		t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
		r = &t->v[t->n];
		memset(r, 0, sizeof(*r));
		for (size_t i = 0; i < wl[0]; i++)
			r->tenant[i] = (char)(w[0][i] >= 'A' && w[0][i] <= 'Z' ? w[0][i] - 'A' + 'a' : w[0][i]);
		memcpy(r->url, w[1], wl[1]);
		memcpy(r->secret_file, w[2], wl[2]);
		r->line = lineno;
		if ((why = ew_url_ok(r->url)) != NULL) {
			errlist_add_at(el, path, lineno, "%s: %s", r->url, why);
			errors++;
			continue;
		}
		if (r->secret_file[0] != '/') {
			errlist_add_at(el, path, lineno, "%s: the secret file must be an absolute path",
				       r->secret_file);
			errors++;
			continue;
		}
		if (events_wh_find(t, r->tenant) != NULL) {
			errlist_add_at(el, path, lineno, "tenant %s is listed twice", r->tenant);
			errors++;
			continue;
		}
		t->n++;
	}
	return errors;
}

/* ew_secret - read one secret file (mode 0600 or stricter) */
static int
ew_secret(const char *path, unsigned lineno, struct events_wh *r, struct errlist *el)
{
	unsigned char buf[EVENTS_WH_SECRET_MAX + 2];
	struct stat st;
	size_t	 len = 0;
	ssize_t	 n = 0;
	int	 fd, rc = -1;

	if ((fd = open(r->secret_file, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		errlist_add_at(el, path, lineno, "%s: cannot open: %s", r->secret_file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errlist_add_at(el, path, lineno, "%s: not a regular file", r->secret_file);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		errlist_add_at(el, path, lineno, "%s: readable or writable by group or others "
			       "(mode %04o): whoever reads it can forge events; chmod 600 it",
			       r->secret_file, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len < EVENTS_WH_SECRET_MIN || len > EVENTS_WH_SECRET_MAX) {
		errlist_add_at(el, path, lineno, "%s: the secret must have %d to %d bytes",
			       r->secret_file, EVENTS_WH_SECRET_MIN, EVENTS_WH_SECRET_MAX);
		goto out;
	}
	memcpy(r->secret, buf, len);
	r->secretlen = len;
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* events_wh_load - the table file and its secrets; -1 when any error */
int
events_wh_load(const char *path, struct events_wh_table *t, struct errlist *el)
{
	char	*text = NULL;
	size_t	 len = 0, cap = 0, errors;
	FILE	*fp = fopen(path, "r");
	size_t	 n;

	memset(t, 0, sizeof(*t));
	if (fp == NULL) {
		errlist_add_at(el, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	do {
		if (len + 4096 > cap)
			text = xrealloc(text, cap = cap ? 2 * cap : 8192);
		n = fread(text + len, 1, cap - len, fp);
		len += n;
	} while (n > 0 && len < 16 * 1024 * 1024);
	fclose(fp);
	errors = events_wh_parse(text, len, path, t, el);
	free(text);
	for (size_t i = 0; i < t->n; i++)
		if (ew_secret(path, t->v[i].line, &t->v[i], el) < 0)
			errors++;
	if (errors) {
		events_wh_table_free(t);
		return -1;
	}
	return 0;
}

/* events_wh_table_free - rows and secrets */
void
events_wh_table_free(struct events_wh_table *t)
{
	if (t->v != NULL)
		OPENSSL_cleanse(t->v, t->n * sizeof(*t->v));
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* events_wh_find - the webhook of a tenant */
const struct events_wh *
events_wh_find(const struct events_wh_table *t, const char *tenant)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->v[i].tenant, tenant) == 0)
			return &t->v[i];
	return NULL;
}

/* events_wh_sign - hex HMAC-SHA256(secret, ts "." body) */
void
events_wh_sign(const unsigned char *secret, size_t secretlen, const char *ts,
	       const char *body, size_t bodylen, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t	 outl = 0;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_MAC_init(ctx, secret, secretlen, params) != 1
	    || EVP_MAC_update(ctx, (const unsigned char *)ts, strlen(ts)) != 1
	    || EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1
	    || EVP_MAC_update(ctx, (const unsigned char *)body, bodylen) != 1
	    || EVP_MAC_final(ctx, md, &outl, sizeof(md)) != 1 || outl != 32)
		abort();		/* HMAC-SHA256 cannot fail but for OOM */
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* events_wh_json - the event as a JSON object of strings */
char *
events_wh_json(const struct events_ev *e)
{
	json_object *o = json_object_new_object();
	char	*s;

	for (size_t i = 0; i < e->n; i++)
		json_object_object_add(o, e->f[i], json_object_new_string(e->v[i]));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
						   | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
