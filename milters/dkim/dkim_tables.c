/*++
 * NAME
 *	dkim_tables 3
 * SUMMARY
 *	which mail is signed with which key: OpenDKIM KeyTable and SigningTable
 * DESCRIPTION
 *	See dkim_tables.h for the table syntax and the API. This file owns:
 *	reading the three table files, reading and checking the private key
 *	files (once each), the signing table patterns, and the lookup.
 *
 *	Layout of a loaded snapshot: keys[] in key table order, each holding
 *	its own reference to the EVP_PKEY of its file; by_name[] the same
 *	keys sorted by name for binary search; rules[] one per distinct
 *	signing table pattern, in order of first appearance, each with the
 *	keys of every line that has that pattern. A lookup walks rules[]
 *	and stops at the first match (a linear scan: tables have hundreds of
 *	lines, and a glob match costs less than the header parsing around
 *	it), then copies at most DKIM_TABLES_MAX_KEYS pointers out.
 * THREAD SAFETY
 *	Nothing is written after dkim_tables_load() returns.
 *--*/

/* System library. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenSSL. */

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Utility library. */

#include "errlist.h"
#include "xalloc.h"

/* Application-specific. */

#include "dkim_loginmap.h"
#include "dkim_tables.h"

#define TB_KEYFILE_MAX	(64 * 1024)		/* a 16384-bit RSA PEM is ~13k */
#define TB_TABLE_MAX	(64 * 1024 * 1024)	/* text tables */
#define TB_WHY_MAX	512
#define TB_SPACE	" \t\r\v\f"

struct tb_key {
	struct dkim_tables_key pub;
	char	       *store;		/* one block: name, domain, selector, path */
	bool		bad;		/* syntax or key error (load fails) */
};

struct tb_rule_key {
	const struct tb_key *key;	/* NULL: "%", the key named by the From domain */
	char	       *signer;		/* i= template, or NULL */
	unsigned	line;
};

struct tb_rule {
	char	       *text;		/* pattern as first written */
	char	       *norm;		/* lowercased, normalised; identity */
	char	       *lglob;		/* local-part glob, or NULL (whole) */
	char	       *dglob;		/* domain glob, or NULL (whole) */
	unsigned	line;
	size_t		nkeys;
	struct tb_rule_key keys[DKIM_TABLES_MAX_KEYS];
};

struct tb_cache {			/* load time only: one per key file */
	char	       *path;
	EVP_PKEY       *pkey;		/* NULL: failed, see why */
	char	       *why;
};

struct dkim_tables {
	struct tb_key  *keys;
	size_t		nkeys;
	struct tb_key **by_name;	/* sorted by name */
	struct tb_rule *rules;
	size_t		nrules;
	bool		have_whole;	/* some rule matches the whole address */
	struct dkim_loginmap *loginmap;
};

/* A walk over the lines of an OpenDKIM table. */
struct tb_lines {
	const char     *text;
	size_t		len;
	size_t		pos;
	unsigned	lineno;
	char	       *buf;
	size_t		bufsize;
};

 /*
  * Small helpers.
  */

/* tb_lower - lowercase ASCII letters in place */
static void
tb_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s - 'A' + 'a');
}

/* tb_is_ldh - a domain name of LDH labels (RFC 1035 section 2.3.1) */
static bool
tb_is_ldh(const char *s)
{
	size_t	total = strlen(s);
	size_t	label = 0;
	char	prev = '.';

	if (total == 0 || total > 253)
		return false;
	for (; *s; s++) {
		char	c = *s;

		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			   || (c >= '0' && c <= '9') || c == '-') {
			if (label == 0 && c == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
		prev = c;
	}
	return label > 0 && prev != '-';
}

/* tb_has_8bit - any byte outside ASCII */
static bool
tb_has_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s >= 0x80)
			return true;
	return false;
}

/* tb_errno - strerror, thread-safe (GNU strerror_r) */
static const char *
tb_errno(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
}

/* tb_glob - does s match p ('*' matches any run, all else literal) */
static bool
tb_glob(const char *p, const char *s)
{
	const char *star = NULL;
	const char *resume = NULL;

	/*
	 * The classic greedy matcher with backtracking to the last '*':
	 * linear in practice, O(len(p) * len(s)) at worst, and both are
	 * bounded (a table line; an address of at most 512 bytes).
	 */
	while (*s) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
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

 /*
  * Key files.
  */

/* tb_no_passphrase - PEM callback: never prompt on a terminal */
static int
tb_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void) buf;
	(void) size;
	(void) rwflag;
	(void) u;
	return -1;
}

/* tb_ssl_reason - the last OpenSSL error, for a message; clears the queue */
static void
tb_ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s", r ? r : "no reason given");
	ERR_clear_error();
}

/* tb_check_dir_chain - dir and every ancestor: not writable by group/others */
static bool
tb_check_dir_chain(const char *dir, char *why, size_t whylen)
{
	char   *d = xstrdup(dir);
	bool	first = true;
	bool	ok = true;

	for (;;) {
		struct stat st;
		char	eb[128];
		char   *slash;

		if (stat(d, &st) < 0) {
			snprintf(why, whylen, "directory %s: %s", d,
				 tb_errno(errno, eb, sizeof(eb)));
			ok = false;
			break;
		}

		/*
		 * Whoever can write a directory can replace the key in it
		 * (or a directory on the way to it) with their own. The
		 * sticky bit stops that for entries the writer does not own,
		 * which is why /tmp-like ancestors are fine; the key's own
		 * directory must be closed regardless.
		 */
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0
		    && (first || (st.st_mode & S_ISVTX) == 0)) {
			snprintf(why, whylen, "directory %s is writable by "
				 "group or others (mode %04o); chmod go-w it",
				 d, (unsigned) (st.st_mode & 07777));
			ok = false;
			break;
		}
		if (strcmp(d, "/") == 0)
			break;
		first = false;
		slash = strrchr(d, '/');
		if (slash == NULL)
			break;
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(d);
	return ok;
}

/* tb_check_dirs - the directories of the target and of the name as given */
static bool
tb_check_dirs(const char *path, const struct stat *fst, char *why,
	      size_t whylen)
{
	char	eb[128];
	char   *real = realpath(path, NULL);
	char   *copy;
	char   *slash;
	char   *linkdir = NULL;
	struct stat st;
	bool	ok;

	if (real == NULL) {
		snprintf(why, whylen, "cannot resolve path: %s",
			 tb_errno(errno, eb, sizeof(eb)));
		return false;
	}
	/* The file we opened must be the file whose directories we check. */
	if (stat(real, &st) < 0 || st.st_dev != fst->st_dev
	    || st.st_ino != fst->st_ino) {
		snprintf(why, whylen, "file changed while being read");
		free(real);
		return false;
	}
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	ok = tb_check_dir_chain(real, why, whylen);

	/* A symlink can be re-pointed by whoever can write its directory. */
	copy = xstrdup(path);
	if ((slash = strrchr(copy, '/')) != NULL) {
		if (slash == copy)
			slash[1] = '\0';
		else
			*slash = '\0';
		linkdir = realpath(copy, NULL);
	} else {
		linkdir = realpath(".", NULL);
	}
	if (ok && linkdir != NULL && strcmp(linkdir, real) != 0)
		ok = tb_check_dir_chain(linkdir, why, whylen);
	free(linkdir);
	free(copy);
	free(real);
	return ok;
}

/* tb_parse_key - PEM or DER private key; NULL and why on failure */
static EVP_PKEY *
tb_parse_key(const char *data, size_t len, char *why, size_t whylen)
{
	EVP_PKEY *pkey = NULL;
	char	reason[200];

	ERR_clear_error();
	if (memmem(data, len, "-----BEGIN", 10) != NULL) {
		BIO    *bio;

		if (memmem(data, len, "ENCRYPTED", 9) != NULL) {
			snprintf(why, whylen, "encrypted key; the milter "
				 "cannot ask for a passphrase, store it "
				 "unencrypted with mode 0600");
			return NULL;
		}
		if (memmem(data, len, "PRIVATE KEY-----", 16) == NULL
		    && memmem(data, len, "PUBLIC KEY-----", 15) != NULL) {
			snprintf(why, whylen, "this is a public key; name the "
				 "private key file");
			return NULL;
		}
		if ((bio = BIO_new_mem_buf(data, (int) len)) == NULL) {
			snprintf(why, whylen, "out of memory in OpenSSL");
			return NULL;
		}
		pkey = PEM_read_bio_PrivateKey(bio, NULL, tb_no_passphrase, NULL);
		BIO_free(bio);
	} else {
		const unsigned char *p = (const unsigned char *) data;

		pkey = d2i_AutoPrivateKey(NULL, &p, (long) len);
	}
	if (pkey == NULL) {
		tb_ssl_reason(reason, sizeof(reason));
		snprintf(why, whylen, "not a PEM or DER private key (%s)",
			 reason);
		return NULL;
	}
	ERR_clear_error();
	return pkey;
}

/* tb_check_key - type and size rules; false and why when refused */
static bool
tb_check_key(EVP_PKEY *pkey, long min_rsa_bits, char *why, size_t whylen)
{
	int	id = EVP_PKEY_get_base_id(pkey);

	if (id == EVP_PKEY_ED25519)
		return true;
	if (id != EVP_PKEY_RSA) {
		const char *name = EVP_PKEY_get0_type_name(pkey);

		snprintf(why, whylen, "key type %s is not supported "
			 "(RSA or Ed25519 only)", name ? name : "unknown");
		return false;
	}
	if (EVP_PKEY_get_bits(pkey) < min_rsa_bits) {
		snprintf(why, whylen, "RSA key has %d bits, below the minimum "
			 "of %ld", EVP_PKEY_get_bits(pkey), min_rsa_bits);
		return false;
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		int	r = ctx ? EVP_PKEY_pairwise_check(ctx) : 0;

		EVP_PKEY_CTX_free(ctx);
		ERR_clear_error();
		/* -2: this provider cannot check; signing will tell. */
		if (r <= 0 && r != -2) {
			snprintf(why, whylen, "RSA key fails the consistency "
				 "check (damaged file?)");
			return false;
		}
	}
	return true;
}

/* tb_read_key - open, check, read, parse one key file */
static EVP_PKEY *
tb_read_key(const char *path, bool strict, long min_rsa_bits, char *why,
	    size_t whylen)
{
	char	eb[128];
	char   *data;
	size_t	len = 0;
	ssize_t	n = 0;
	int	fd;
	struct stat st;
	EVP_PKEY *pkey;

	/* O_NONBLOCK: opening a FIFO someone put there must not hang us. */
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "cannot open: %s",
			 tb_errno(errno, eb, sizeof(eb)));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "cannot stat: %s",
			 tb_errno(errno, eb, sizeof(eb)));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		close(fd);
		return NULL;
	}
	if (strict) {
		unsigned mode = (unsigned) (st.st_mode & 07777);

		if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
			snprintf(why, whylen, "readable by group or others "
				 "(mode %04o); chmod 600 it", mode);
			close(fd);
			return NULL;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
			snprintf(why, whylen, "writable by group or others "
				 "(mode %04o); chmod 600 it", mode);
			close(fd);
			return NULL;
		}
		if (!tb_check_dirs(path, &st, why, whylen)) {
			close(fd);
			return NULL;
		}
	}
	if (st.st_size > TB_KEYFILE_MAX) {
		snprintf(why, whylen, "larger than %d bytes; not a key file",
			 TB_KEYFILE_MAX);
		close(fd);
		return NULL;
	}
	data = xmalloc(TB_KEYFILE_MAX + 1);
	while (len < TB_KEYFILE_MAX) {
		n = read(fd, data + len, TB_KEYFILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
	}
	if (n < 0)
		snprintf(why, whylen, "read error: %s",
			 tb_errno(errno, eb, sizeof(eb)));
	close(fd);
	if (n < 0) {
		OPENSSL_cleanse(data, TB_KEYFILE_MAX + 1);
		free(data);
		return NULL;
	}
	pkey = tb_parse_key(data, len, why, whylen);
	OPENSSL_cleanse(data, TB_KEYFILE_MAX + 1);
	free(data);
	if (pkey != NULL && !tb_check_key(pkey, min_rsa_bits, why, whylen)) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* dkim_tables_read_key - one key file, checked as the loader does */
EVP_PKEY *
dkim_tables_read_key(const char *path, bool strict_permissions,
		     long min_rsa_bits, struct errlist *el)
{
	char	why[TB_WHY_MAX];
	EVP_PKEY *pkey = tb_read_key(path, strict_permissions, min_rsa_bits,
				     why, sizeof(why));

	if (pkey == NULL)
		errlist_add(el, "%s: %s", path, why);
	return pkey;
}

 /*
  * Table files.
  */

/* tb_table_path - strip an OpenDKIM data set type; NULL if unsupported */
static const char *
tb_table_path(const char *spec, bool *refile, struct errlist *el)
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

/* tb_map_path - strip a Postfix map type; NULL if unsupported */
static const char *
tb_map_path(const char *spec, struct errlist *el)
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

/* tb_next_line - next line with content, '#' comment and edges removed */
static char *
tb_next_line(struct tb_lines *it, const char *path, struct errlist *el)
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

/* tb_split - "name <space> rest": terminate name, return rest (maybe "") */
static char *
tb_split(char *line)
{
	size_t	n = strcspn(line, TB_SPACE);
	char   *rest = line + n;

	if (*rest != '\0') {
		*rest++ = '\0';
		rest += strspn(rest, TB_SPACE);
	}
	return rest;
}

 /*
  * Key table.
  */

/* tb_key_name_cmp - qsort: by name, then line */
static int
tb_key_name_cmp(const void *a, const void *b)
{
	const struct tb_key *x = *(struct tb_key *const *) a;
	const struct tb_key *y = *(struct tb_key *const *) b;
	int	d = strcmp(x->pub.name, y->pub.name);

	if (d != 0)
		return d;
	return (x->pub.line > y->pub.line) - (x->pub.line < y->pub.line);
}

/* tb_find_key - binary search by name */
static const struct tb_key *
tb_find_key(const struct dkim_tables *t, const char *name)
{
	size_t	lo = 0;
	size_t	hi = t->nkeys;

	while (lo < hi) {
		size_t	mid = lo + (hi - lo) / 2;
		int	d = strcmp(t->by_name[mid]->pub.name, name);

		if (d == 0)
			return t->by_name[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* tb_subst_percent - copy s with every '%' replaced by dom; caller frees */
static char *
tb_subst_percent(const char *s, const char *dom)
{
	size_t	n = 1;
	char   *out;
	char   *o;

	for (const char *p = s; *p; p++)
		n += (*p == '%') ? strlen(dom) : 1;
	out = o = xmalloc(n);
	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			memcpy(o, dom, strlen(dom));
			o += strlen(dom);
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* tb_cached_key - read a key file once; new reference, or NULL and why */
static EVP_PKEY *
tb_cached_key(struct tb_cache **cache, size_t *ncache, const char *path,
	      const struct dkim_tables_options *opt, const char **why)
{
	struct tb_cache *c = NULL;
	char	buf[TB_WHY_MAX];

	for (size_t i = 0; i < *ncache; i++) {
		if (strcmp((*cache)[i].path, path) == 0) {
			c = &(*cache)[i];
			break;
		}
	}
	if (c == NULL) {
		*cache = xrealloc(*cache, (*ncache + 1) * sizeof(**cache));
		c = &(*cache)[(*ncache)++];
		c->path = xstrdup(path);
		c->why = NULL;
		c->pkey = tb_read_key(path, opt->strict_permissions,
				      opt->min_rsa_bits, buf, sizeof(buf));
		if (c->pkey == NULL)
			c->why = xstrdup(buf);
	}
	if (c->pkey == NULL) {
		*why = c->why;
		return NULL;
	}
	EVP_PKEY_up_ref(c->pkey);
	return c->pkey;
}

/* tb_add_key - store one entry; strings in one block */
static struct tb_key *
tb_add_key(struct dkim_tables *t, size_t *cap, const char *name,
	   const char *domain, const char *selector, const char *path,
	   unsigned line)
{
	struct tb_key *k;
	size_t	ln = strlen(name) + 1;
	size_t	ld = strlen(domain) + 1;
	size_t	ls = strlen(selector) + 1;
	size_t	lp = strlen(path) + 1;

	if (t->nkeys == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		t->keys = xrealloc(t->keys, *cap * sizeof(*t->keys));
	}
	k = &t->keys[t->nkeys++];
	memset(k, 0, sizeof(*k));
	k->store = xmalloc(ln + ld + ls + lp);
	memcpy(k->store, name, ln);
	memcpy(k->store + ln, domain, ld);
	memcpy(k->store + ln + ld, selector, ls);
	memcpy(k->store + ln + ld + ls, path, lp);
	/* Pointers are set once the array stops moving (tb_fix_pointers). */
	k->pub.line = line;
	return k;
}

/* tb_fix_pointers - point each pub field into its store block */
static void
tb_fix_pointers(struct dkim_tables *t)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		struct tb_key *k = &t->keys[i];
		const char *p = k->store;

		k->pub.name = p;
		p += strlen(p) + 1;
		k->pub.domain = p;
		p += strlen(p) + 1;
		k->pub.selector = p;
		p += strlen(p) + 1;
		k->pub.path = p;
	}
}

/* tb_key_line - check and load one key table line */
static void
tb_key_line(struct dkim_tables *t, size_t *cap, struct tb_cache **cache,
	    size_t *ncache, const char *table, unsigned line, char *text,
	    const struct dkim_tables_options *opt, struct errlist *el)
{
	char   *name = text;
	char   *value = tb_split(text);
	char   *domain;
	char   *selector;
	char   *path;
	char   *c1;
	char   *c2;
	char   *subst = NULL;
	const char *why = NULL;
	struct tb_key *k;
	bool	bad = false;

	if (strchr(name, ':') != NULL || strcmp(name, "%") == 0) {
		errlist_add_at(el, table, line, "key name \"%s\": a key name "
			       "cannot contain ':' or be \"%%\"", name);
		return;
	}
	if ((c1 = strchr(value, ':')) == NULL
	    || (c2 = strchr(c1 + 1, ':')) == NULL) {
		errlist_add_at(el, table, line, "key \"%s\": want "
			       "domain:selector:keyfile, got \"%s\"", name,
			       value);
		k = tb_add_key(t, cap, name, "", "", "", line);
		k->bad = true;
		return;
	}
	*c1 = *c2 = '\0';
	domain = value;
	selector = c1 + 1;
	path = c2 + 1;

	if (strcmp(domain, "%") != 0) {
		tb_lower(domain);
		if (!tb_is_ldh(domain)) {
			errlist_add_at(el, table, line, "key \"%s\": domain "
				       "\"%s\" is not a domain name%s", name,
				       domain, tb_has_8bit(domain) ?
				       "; write an IDN as A-labels (xn--...)" : "");
			bad = true;
		}
	}
	if (!tb_is_ldh(selector)) {
		errlist_add_at(el, table, line, "key \"%s\": selector \"%s\" "
			       "is not a DNS label sequence (letters, digits, "
			       "'-', '.')", name, selector);
		bad = true;
	}
	if (path[0] == '\0') {
		errlist_add_at(el, table, line, "key \"%s\": no key file "
			       "after domain:selector:", name);
		bad = true;
	} else if (path[0] != '/' && strncmp(path, "./", 2) != 0
		   && strncmp(path, "../", 3) != 0) {
		/* Not echoed: it may be key data. */
		errlist_add_at(el, table, line, "key \"%s\": the third field "
			       "does not start with /, ./ or ../; inline key "
			       "data is not supported, put the key in a file "
			       "with mode 0600", name);
		bad = true;
	} else if (strchr(path, '%') != NULL) {
		if (strcmp(domain, "%") == 0) {
			errlist_add_at(el, table, line, "key \"%s\": %s: a "
				       "'%%' in the key file name needs a "
				       "fixed domain; keys are read once at "
				       "start, so list one entry per domain",
				       name, path);
			bad = true;
		} else {
			subst = tb_subst_percent(path, domain);
			path = subst;
		}
	}
	k = tb_add_key(t, cap, name, domain, selector, path, line);
	k->bad = bad;
	if (!bad) {
		k->pub.pkey = tb_cached_key(cache, ncache, path, opt, &why);
		if (k->pub.pkey == NULL) {
			errlist_add_at(el, table, line, "key \"%s\": %s: %s",
				       name, path, why);
			k->bad = true;
		} else {
			bool	rsa = EVP_PKEY_get_base_id(k->pub.pkey) == EVP_PKEY_RSA;

			k->pub.alg = rsa ? DKIM_TABLES_ALG_RSA_SHA256 :
			    DKIM_TABLES_ALG_ED25519_SHA256;
			k->pub.algorithm = rsa ? "rsa-sha256" : "ed25519-sha256";
			k->pub.bits = EVP_PKEY_get_bits(k->pub.pkey);
		}
	}
	free(subst);
}

/* tb_load_keytable - parse the key table text and read every key */
static void
tb_load_keytable(struct dkim_tables *t, const char *table, const char *text,
		 size_t len, const struct dkim_tables_options *opt,
		 struct errlist *el)
{
	struct tb_lines it = {text, len, 0, 0, NULL, 0};
	struct tb_cache *cache = NULL;
	size_t	ncache = 0;
	size_t	cap = 0;
	char   *line;

	while ((line = tb_next_line(&it, table, el)) != NULL)
		tb_key_line(t, &cap, &cache, &ncache, table, it.lineno, line,
			    opt, el);
	free(it.buf);
	for (size_t i = 0; i < ncache; i++) {
		EVP_PKEY_free(cache[i].pkey);
		free(cache[i].path);
		free(cache[i].why);
	}
	free(cache);

	tb_fix_pointers(t);
	t->by_name = xcalloc(t->nkeys ? t->nkeys : 1, sizeof(*t->by_name));
	for (size_t i = 0; i < t->nkeys; i++)
		t->by_name[i] = &t->keys[i];
	if (t->nkeys > 1)
		qsort(t->by_name, t->nkeys, sizeof(*t->by_name),
		      tb_key_name_cmp);
	for (size_t i = 1; i < t->nkeys; i++) {
		if (strcmp(t->by_name[i]->pub.name,
			   t->by_name[i - 1]->pub.name) == 0)
			errlist_add_at(el, table, t->by_name[i]->pub.line,
				       "key \"%s\" is already defined on line %u",
				       t->by_name[i]->pub.name,
				       t->by_name[i - 1]->pub.line);
	}
}

 /*
  * Signing table.
  */

/* tb_normalize_pattern - fill lglob/dglob/norm; false and why if invalid */
static bool
tb_normalize_pattern(const char *text, struct tb_rule *r, const char **why)
{
	char   *p = xstrdup(text);
	char   *at = strchr(p, '@');

	tb_lower(p);
	for (const char *q = p; *q; q++) {
		if ((unsigned char) *q < 0x20 || *q == 0x7f) {
			*why = "control character in pattern";
			free(p);
			return false;
		}
	}
	if (at == NULL && strchr(p, '*') != NULL) {
		r->norm = p;			/* a glob over the whole address */
		return true;
	}
	if (at == NULL) {
		/* Bare domain; a leading dot is OpenDKIM's "any subdomain". */
		if (strcmp(p, ".") == 0) {
			*why = "empty domain";
			free(p);
			return false;
		}
		r->lglob = xstrdup("*");
		r->dglob = (p[0] == '.') ? xasprintf("*%s", p) : xstrdup(p);
	} else {
		*at = '\0';
		if (strchr(at + 1, '@') != NULL) {
			*why = "more than one @";
			free(p);
			return false;
		}
		if (p[0] == '\0') {
			*why = "empty local part; write *@domain";
			free(p);
			return false;
		}
		if (at[1] == '\0') {
			*why = "empty domain; write user@* for any domain";
			free(p);
			return false;
		}
		r->lglob = xstrdup(p);
		r->dglob = (at[1] == '.') ? xasprintf("*%s", at + 1) :
		    xstrdup(at + 1);
	}
	free(p);
	r->norm = xasprintf("%s@%s", r->lglob, r->dglob);
	return true;
}

/* tb_rule_covers - does every address that b matches also match a */
static bool
tb_rule_covers(const struct tb_rule *a, const struct tb_rule *b)
{
	/*
	 * For '*'-only globs, b's language is inside a's exactly when a
	 * matches b's own text with b's '*' taken as a character that only a
	 * '*' in a can match; tb_glob() treats a '*' in the text that way.
	 */
	if (a->lglob == NULL)
		return tb_glob(a->norm, b->norm);
	if (b->lglob == NULL)
		return false;			/* could, but we do not claim it */
	return tb_glob(a->lglob, b->lglob) && tb_glob(a->dglob, b->dglob);
}

/* tb_check_signer - OpenDKIM's i= template: printable, one @, no ';' */
static const char *
tb_check_signer(const char *s)
{
	const char *at = strchr(s, '@');

	if (*s == '\0')
		return "empty signer after ':'";
	for (const char *p = s; *p; p++)
		if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f
		    || *p == ';')
			return "signer may hold printable ASCII except ';' only";
	if (at == NULL || strchr(at + 1, '@') != NULL || at[1] == '\0')
		return "signer must be [user]@domain";
	return NULL;
}

/* tb_rule_add_key - one "name[:signer]" field of a signing table line */
static void
tb_rule_add_key(struct dkim_tables *t, struct tb_rule *r, char *field,
		const char *table, unsigned line, bool have_keys,
		const char *key_table, struct errlist *el)
{
	char   *colon = strchr(field, ':');
	const char *signer = NULL;
	const char *why;
	const struct tb_key *k = NULL;

	if (colon != NULL) {
		*colon = '\0';
		signer = colon + 1;
		if ((why = tb_check_signer(signer)) != NULL) {
			errlist_add_at(el, table, line, "key \"%s\": signer "
				       "\"%s\": %s", field, signer, why);
			return;
		}
	}
	if (*field == '\0') {
		errlist_add_at(el, table, line, "empty key name");
		return;
	}
	if (strcmp(field, "%") != 0 && (k = tb_find_key(t, field)) == NULL) {
		if (have_keys)
			errlist_add_at(el, table, line, "unknown key \"%s\" "
				       "(not in %s)", field, key_table);
		return;
	}
	for (size_t i = 0; i < r->nkeys; i++) {
		if (r->keys[i].key == k) {
			errlist_add_at(el, table, line, "key \"%s\" is already "
				       "listed for pattern \"%s\" on line %u",
				       field, r->text, r->keys[i].line);
			return;
		}
	}
	if (r->nkeys == DKIM_TABLES_MAX_KEYS) {
		errlist_add_at(el, table, line, "key \"%s\": more than %d keys "
			       "for pattern \"%s\"", field,
			       DKIM_TABLES_MAX_KEYS, r->text);
		return;
	}
	r->keys[r->nkeys].key = k;
	r->keys[r->nkeys].signer = signer ? xstrdup(signer) : NULL;
	r->keys[r->nkeys].line = line;
	r->nkeys++;
}

/* tb_rule_free - release one rule's strings */
static void
tb_rule_free(struct tb_rule *r)
{
	free(r->text);
	free(r->norm);
	free(r->lglob);
	free(r->dglob);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i].signer);
}

/* tb_load_signtable - parse the signing table; merge identical patterns */
static void
tb_load_signtable(struct dkim_tables *t, const char *table, bool refile,
		  const char *text, size_t len, bool have_keys,
		  const char *key_table, struct errlist *el)
{
	struct tb_lines it = {text, len, 0, 0, NULL, 0};
	size_t	cap = 0;
	char   *line;

	while ((line = tb_next_line(&it, table, el)) != NULL) {
		char   *rest = tb_split(line);
		struct tb_rule cand;
		struct tb_rule *r = NULL;
		const char *why = NULL;

		if (*rest == '\0') {
			errlist_add_at(el, table, it.lineno, "pattern \"%s\": "
				       "no key name", line);
			continue;
		}
		memset(&cand, 0, sizeof(cand));
		if (!tb_normalize_pattern(line, &cand, &why)) {
			errlist_add_at(el, table, it.lineno, "pattern \"%s\": "
				       "%s", line, why);
			continue;
		}
		for (size_t i = 0; i < t->nrules; i++) {
			if (strcmp(t->rules[i].norm, cand.norm) == 0) {
				r = &t->rules[i];
				tb_rule_free(&cand);
				break;
			}
		}
		if (r == NULL) {
			if (t->nrules == cap) {
				cap = cap ? cap * 2 : 16;
				t->rules = xrealloc(t->rules,
						    cap * sizeof(*t->rules));
			}
			r = &t->rules[t->nrules++];
			*r = cand;
			r->text = xstrdup(line);
			r->line = it.lineno;
			if (r->lglob == NULL)
				t->have_whole = true;
		}
		while (*rest != '\0') {
			char   *field = rest;

			rest = tb_split(rest);
			tb_rule_add_key(t, r, field, table, it.lineno,
					have_keys, key_table, el);
		}
	}
	free(it.buf);

	/*
	 * OpenDKIM searches a file: table most specific key first; we search
	 * in line order. Refuse a table where that changes the result.
	 */
	if (refile)
		return;
	for (size_t j = 1; j < t->nrules; j++) {
		for (size_t i = 0; i < j; i++) {
			if (tb_rule_covers(&t->rules[i], &t->rules[j])) {
				errlist_add_at(el, table, t->rules[j].line,
					       "pattern \"%s\" is never used: "
					       "\"%s\" on line %u matches first "
					       "(OpenDKIM would pick the more "
					       "specific one; move this line "
					       "up, or use refile:)",
					       t->rules[j].text, t->rules[i].text,
					       t->rules[i].line);
				break;
			}
		}
	}
}

 /*
  * Loading.
  */

/* tb_read_table - read a table file, reporting failure against its name */
static char *
tb_read_table(const char *path, size_t *len, struct errlist *el)
{
	char	why[TB_WHY_MAX];
	char   *text = tb_slurp(path, TB_TABLE_MAX, len, why, sizeof(why));

	if (text == NULL)
		errlist_add_at(el, path, 0, "%s", why);
	return text;
}

/* dkim_tables_load - the three tables and every key, or NULL */
struct dkim_tables *
dkim_tables_load(const char *key_table, const char *signing_table,
		 const char *login_map, const struct dkim_tables_options *opt,
		 struct errlist *el)
{
	static const struct dkim_tables_options defaults =
	    DKIM_TABLES_OPTIONS_INIT;
	struct dkim_tables *t = xcalloc(1, sizeof(*t));
	size_t	errors_before = el->count;
	const char *kpath = NULL;
	const char *spath = NULL;
	char   *text;
	size_t	len = 0;
	bool	refile = false;
	bool	have_keys = false;

	if (opt == NULL)
		opt = &defaults;

	if (key_table == NULL || *key_table == '\0')
		errlist_add(el, "no key table configured");
	else if ((kpath = tb_table_path(key_table, &refile, el)) != NULL
		 && (text = tb_read_table(kpath, &len, el)) != NULL) {
		tb_load_keytable(t, kpath, text, len, opt, el);
		have_keys = true;
		free(text);
	}
	if (t->by_name == NULL)
		t->by_name = xcalloc(1, sizeof(*t->by_name));

	if (signing_table == NULL || *signing_table == '\0')
		errlist_add(el, "no signing table configured");
	else if ((spath = tb_table_path(signing_table, &refile, el)) != NULL
		 && (text = tb_read_table(spath, &len, el)) != NULL) {
		tb_load_signtable(t, spath, refile, text, len, have_keys,
				  kpath, el);
		free(text);
	}

	if (login_map != NULL && *login_map != '\0') {
		const char *lpath = tb_map_path(login_map, el);

		if (lpath != NULL && (text = tb_read_table(lpath, &len, el)) != NULL) {
			t->loginmap = dkim_loginmap_parse(lpath, text, len,
						      opt->recipient_delimiter,
							  el);
			free(text);
		}
	}
	if (el->count > errors_before)
		return dkim_tables_free(t);
	return t;
}

/* dkim_tables_free - release everything; takes NULL, returns NULL */
struct dkim_tables *
dkim_tables_free(struct dkim_tables *t)
{
	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < t->nkeys; i++) {
		EVP_PKEY_free(t->keys[i].pub.pkey);
		free(t->keys[i].store);
	}
	free(t->keys);
	free(t->by_name);
	for (size_t i = 0; i < t->nrules; i++)
		tb_rule_free(&t->rules[i]);
	free(t->rules);
	dkim_loginmap_free(t->loginmap);
	free(t);
	return NULL;
}

 /*
  * Lookup.
  */

/* tb_copy_lower - bounded lowercase copy; false if src is too long */
static bool
tb_copy_lower(char *dst, size_t dstlen, const char *src)
{
	size_t	n = strlen(src);

	if (n >= dstlen)
		return false;
	memcpy(dst, src, n + 1);
	tb_lower(dst);
	return true;
}

/* tb_expand_signer - i= for one signature; "" when unusable */
static void
tb_expand_signer(struct dkim_tables_sig *sig, const char *tmpl,
		 const char *from_domain)
{
	char   *o = sig->signer;
	char   *end = sig->signer + sizeof(sig->signer) - 1;
	char   *at;
	size_t	dl = strlen(sig->domain);
	size_t	sl;

	sig->signer[0] = '\0';
	if (tmpl == NULL)
		return;
	for (const char *p = tmpl; *p; p++) {
		const char *s = (*p == '%') ? from_domain : p;
		size_t	n = (*p == '%') ? strlen(from_domain) : 1;

		if (n > (size_t) (end - o)) {
			sig->signer[0] = '\0';
			return;
		}
		memcpy(o, s, n);
		o += n;
	}
	*o = '\0';

	/*
	 * RFC 6376 section 3.5: the i= domain is d= or a subdomain of it.
	 * OpenDKIM leaves i= out otherwise, and so do we. The '%' may have
	 * brought in a From domain, so check it is a DNS name as well.
	 */
	if ((at = strrchr(sig->signer, '@')) == NULL) {
		sig->signer[0] = '\0';
		return;
	}
	tb_lower(at);
	sl = strlen(at + 1);
	if (!tb_is_ldh(at + 1) || sl < dl
	    || strcmp(at + 1 + sl - dl, sig->domain) != 0
	    || (sl > dl && at[1 + sl - dl - 1] != '.'))
		sig->signer[0] = '\0';
}

/* tb_rule_matches - does the rule take this address */
static bool
tb_rule_matches(const struct tb_rule *r, const char *local,
		const char *domain, const char *whole)
{
	if (r->lglob == NULL)
		return tb_glob(r->norm, whole);
	return tb_glob(r->dglob, domain) && tb_glob(r->lglob, local);
}

/* dkim_tables_lookup - the keys for a From address */
enum dkim_tables_status
dkim_tables_lookup(const struct dkim_tables *t, const char *local,
		   const char *domain, struct dkim_tables_match *m)
{
	char	lbuf[DKIM_TABLES_LOCAL_MAX + 1];
	char	whole[DKIM_TABLES_LOCAL_MAX + 1 + DKIM_TABLES_DOMAIN_MAX + 1];
	const struct tb_rule *r = NULL;
	bool	domain_ok;

	m->line = 0;
	m->pattern = NULL;
	m->count = 0;
	m->missing = 0;
	m->from_domain[0] = '\0';
	if (t == NULL || domain == NULL || *domain == '\0')
		return DKIM_TABLES_BADADDR;
	if (!tb_copy_lower(lbuf, sizeof(lbuf), local ? local : "")
	    || !tb_copy_lower(m->from_domain, sizeof(m->from_domain), domain))
		return DKIM_TABLES_BADADDR;
	if (t->have_whole)
		snprintf(whole, sizeof(whole), "%s@%s", lbuf, m->from_domain);
	for (size_t i = 0; i < t->nrules; i++) {
		if (tb_rule_matches(&t->rules[i], lbuf, m->from_domain, whole)) {
			r = &t->rules[i];
			break;
		}
	}
	if (r == NULL)
		return DKIM_TABLES_NOMATCH;
	m->line = r->line;
	m->pattern = r->text;

	domain_ok = tb_is_ldh(m->from_domain);
	for (size_t i = 0; i < r->nkeys; i++) {
		const struct tb_key *k = r->keys[i].key;
		struct dkim_tables_sig *sig;
		bool	pct;

		if (k == NULL)				/* "%" key name */
			k = tb_find_key(t, m->from_domain);
		if (k == NULL) {
			m->missing++;
			continue;
		}
		pct = strcmp(k->pub.domain, "%") == 0;
		if (pct && !domain_ok) {
			/* It would go into d= verbatim: never header text. */
			m->missing++;
			continue;
		}
		sig = &m->sig[m->count++];
		sig->key = &k->pub;
		sig->keyname = k->pub.name;
		sig->domain = pct ? m->from_domain : k->pub.domain;
		sig->selector = k->pub.selector;
		sig->pkey = k->pub.pkey;
		sig->alg = k->pub.alg;
		tb_expand_signer(sig, r->keys[i].signer, m->from_domain);
	}
	return m->missing ? DKIM_TABLES_NOKEY : DKIM_TABLES_MATCH;
}

/* dkim_tables_status_name - for log lines */
const char *
dkim_tables_status_name(enum dkim_tables_status s)
{
	switch (s) {
	case DKIM_TABLES_NOMATCH:
		return "no_match";
	case DKIM_TABLES_MATCH:
		return "match";
	case DKIM_TABLES_NOKEY:
		return "no_key";
	case DKIM_TABLES_BADADDR:
		return "bad_address";
	}
	return "unknown";
}

 /*
  * Accessors.
  */

/* dkim_tables_loginmap - the sender login map, or NULL */
const struct dkim_loginmap *
dkim_tables_loginmap(const struct dkim_tables *t)
{
	return t ? t->loginmap : NULL;
}

/* dkim_tables_key_count - number of key table entries */
size_t
dkim_tables_key_count(const struct dkim_tables *t)
{
	return t ? t->nkeys : 0;
}

/* dkim_tables_key_at - entry i in key table order, or NULL */
const struct dkim_tables_key *
dkim_tables_key_at(const struct dkim_tables *t, size_t i)
{
	return (t && i < t->nkeys) ? &t->keys[i].pub : NULL;
}

/* dkim_tables_key_find - entry by name, or NULL */
const struct dkim_tables_key *
dkim_tables_key_find(const struct dkim_tables *t, const char *name)
{
	const struct tb_key *k = t ? tb_find_key(t, name) : NULL;

	return k ? &k->pub : NULL;
}

/* dkim_tables_pattern_count - distinct signing table patterns */
size_t
dkim_tables_pattern_count(const struct dkim_tables *t)
{
	return t ? t->nrules : 0;
}
