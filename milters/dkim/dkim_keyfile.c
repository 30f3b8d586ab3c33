/*++
 * NAME
 *	dkim_keyfile 3
 * SUMMARY
 *	reading and checking one DKIM private key file
 * DESCRIPTION
 *	dkim_keyfile_read() opens a key file (O_NONBLOCK, so that a FIFO put
 *	in its place cannot hang start-up), refuses anything but a regular
 *	file, checks its permissions and those of every
 *	directory on the way to it (with strict permissions: OpenDKIM's
 *	"key data is not secure" rule, see dkim_tables.h), reads at most
 *	64 KiB, parses PEM or DER, and applies the key rules: RSA or Ed25519
 *	only (RFC 6376 section 3.3, RFC 8463), RSA of at least min_rsa_bits
 *	bits (RFC 8301 section 3.2) passing the pairwise check. On failure
 *	it returns NULL and a reason in why[] ("readable by group or others
 *	(mode 0644); chmod 600 it"); the caller names the file.
 * SECURITY
 *	Key bytes are wiped from memory (OPENSSL_cleanse) before they are
 *	freed; no message ever quotes file content.
 * MEMORY
 *	The EVP_PKEY returned is the caller's: EVP_PKEY_free() it.
 * THREAD SAFETY
 *	Uses the thread's OpenSSL error queue; meant for start-up.
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
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Utility library. */

#include "xalloc.h"

/* Application-specific. */

#include "dkim_tables_priv.h"

#define TB_KEYFILE_MAX	(64 * 1024)		/* a 16384-bit RSA PEM is ~13k */

/* tb_errno - strerror, thread-safe (GNU strerror_r) */
static const char *
tb_errno(int err, char *buf, size_t len)
{
	return strerror_r(err, buf, len);
}

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

/* dkim_keyfile_read - open, check, read, parse one key file */
EVP_PKEY *
dkim_keyfile_read(const char *path, bool strict, long min_rsa_bits, char *why,
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
