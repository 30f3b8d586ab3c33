/*++
 * NAME
 *	dkim_tabfile 3
 * SUMMARY
 *	reading and lexing the DKIM table files
 * DESCRIPTION
 *	dkim_tabfile_path() strips OpenDKIM's "file:" or "refile:" data set
 *	type from a table name and refuses every other type;
 *	dkim_tabfile_map_path() does the same for the sender login map with
 *	Postfix's map types whose source is a text file. dkim_tabfile_read()
 *	reads a whole table (a regular file of at most 64 MiB) and reports
 *	a failure against the file name. dkim_tabfile_next_line() walks the
 *	lines of an OpenDKIM table: '#' starts a comment anywhere on a line,
 *	edges are trimmed, blank lines and lines holding a NUL byte (reported
 *	with file:line) are skipped. dkim_tabfile_split() cuts "name value".
 * MEMORY
 *	dkim_tabfile_read() returns text the caller frees. A line returned by
 *	dkim_tabfile_next_line() lives in it->buf, valid until the next call;
 *	the caller frees it->buf when the walk is over.
 * THREAD SAFETY
 *	No shared state.
 *--*/

/* System library. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenSSL. */

#include <openssl/crypto.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_tables_priv.h"

#define TB_TABLE_MAX	(64 * 1024 * 1024)	/* text tables */
#define TB_SPACE	" \t\r\v\f"

/* tb_errno - strerror, thread-safe (GNU strerror_r) */
static const char *
tb_errno(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
}

/* tb_slurp - read a whole file, at most max bytes; NULL and why on error */
static char *
tb_slurp(const char *path, size_t max, size_t *lenp, char *why, size_t whylen)
{
	char	eb[128];
	char   *buf = NULL;
	size_t	len = 0;
	size_t	cap = 0;
	int	fd;
	struct stat st;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "cannot open: %s",
			 tb_errno(errno, eb, sizeof(eb)));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t	n;

		if (len == cap) {
			if (cap >= max + 1)
				break;
			cap = cap ? cap * 2 : 8192;
			if (cap > max + 1)
				cap = max + 1;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "read error: %s",
				 tb_errno(errno, eb, sizeof(eb)));
			OPENSSL_cleanse(buf, cap);
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	close(fd);
	if (len > max) {
		snprintf(why, whylen, "larger than %zu bytes", max);
		OPENSSL_cleanse(buf, cap);
		free(buf);
		return NULL;
	}
	if (buf == NULL)
		buf = xmalloc(1);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* dkim_tabfile_path - strip an OpenDKIM data set type; NULL if unsupported */
const char *
dkim_tabfile_path(const char *spec, bool *refile, struct errlist *el)
{
	const char *colon = strchr(spec, ':');
	const char *slash = strchr(spec, '/');

	*refile = false;
	if (colon == NULL || (slash != NULL && slash < colon))
		return spec;
	if ((size_t) (colon - spec) == 4 && strncmp(spec, "file", 4) == 0)
		return colon + 1;
	if ((size_t) (colon - spec) == 6 && strncmp(spec, "refile", 6) == 0) {
		*refile = true;
		return colon + 1;
	}
	errlist_add(el, "%s: data set type \"%.*s\" is not supported "
		    "(file: or refile: only)", spec, (int) (colon - spec), spec);
	return NULL;
}

/* dkim_tabfile_map_path - strip a Postfix map type; NULL if unsupported */
const char *
dkim_tabfile_map_path(const char *spec, struct errlist *el)
{
	static const char *const text_types[] = {
		"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash", 0,
	};
	const char *colon = strchr(spec, ':');
	const char *slash = strchr(spec, '/');

	if (strpbrk(spec, ", \t") != NULL) {
		errlist_add(el, "%s: one sender login map only", spec);
		return NULL;
	}
	if (colon == NULL || (slash != NULL && slash < colon))
		return spec;
	for (int i = 0; text_types[i]; i++) {
		size_t	n = strlen(text_types[i]);

		if ((size_t) (colon - spec) == n
		    && strncmp(spec, text_types[i], n) == 0)
			return colon + 1;
	}
	errlist_add(el, "%s: map type \"%.*s\" is not supported; give the "
		    "source file of a hash: table", spec,
		    (int) (colon - spec), spec);
	return NULL;
}

/* dkim_tabfile_next_line - next line with content, '#' comment and edges removed */
char *
dkim_tabfile_next_line(struct dkim_tabfile_lines *it, const char *path, struct errlist *el)
{
	while (it->pos < it->len) {
		const char *s = it->text + it->pos;
		const char *nl = memchr(s, '\n', it->len - it->pos);
		size_t	slen = nl ? (size_t) (nl - s) : it->len - it->pos;
		char   *b;
		char   *hash;
		size_t	lead;
		size_t	n;

		it->pos += slen + (nl != NULL);
		it->lineno++;
		if (memchr(s, '\0', slen) != NULL) {
			errlist_add_at(el, path, it->lineno, "NUL byte in line");
			continue;
		}
		if (slen + 1 > it->bufsize) {
			it->bufsize = slen + 1;
			it->buf = xrealloc(it->buf, it->bufsize);
		}
		b = it->buf;
		memcpy(b, s, slen);
		b[slen] = '\0';
		/* OpenDKIM: '#' starts a comment wherever it is. */
		if ((hash = strchr(b, '#')) != NULL)
			*hash = '\0';
		lead = strspn(b, TB_SPACE);
		n = strlen(b + lead);
		memmove(b, b + lead, n + 1);
		while (n > 0 && strchr(TB_SPACE, b[n - 1]) != NULL)
			b[--n] = '\0';
		if (n > 0)
			return b;
	}
	return NULL;
}

/* dkim_tabfile_split - "name <space> rest": terminate name, return rest (maybe "") */
char *
dkim_tabfile_split(char *line)
{
	size_t	n = strcspn(line, TB_SPACE);
	char   *rest = line + n;

	if (*rest != '\0') {
		*rest++ = '\0';
		rest += strspn(rest, TB_SPACE);
	}
	return rest;
}

/* dkim_tabfile_read - read a table file, reporting failure against its name */
char *
dkim_tabfile_read(const char *path, size_t *len, struct errlist *el)
{
	char	why[DKIM_TABLES_WHY_MAX];
	char   *text = tb_slurp(path, TB_TABLE_MAX, len, why, sizeof(why));

	if (text == NULL)
		errlist_add_at(el, path, 0, "%s", why);
	return text;
}
