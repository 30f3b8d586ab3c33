/*++
 * NAME
 *	ctl_dkim_rotate_key 3
 * SUMMARY
 *	postmillctl dkim rotate: the new key's fingerprint and file
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	ctl_dkim_rotate_key_spki() is the fingerprint the state file records
 *	(new-spki=, dkim_rotate.h), so that a later step can tell that the
 *	key table entry still holds the key the rotation made:
 *	ctl_dkim_rotate_key_new_ok() checks that entry.
 *	ctl_dkim_rotate_key_write() writes a new private key file, never
 *	over an existing one, mode 0600, owned by run_user.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ctl_dkim.h"
#include "ctl_dkim_rotate.h"
#include "dkim_rotate.h"
#include "dkim_tables.h"

/* ctl_dkim_rotate_key_spki - "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo */
int
ctl_dkim_rotate_key_spki(EVP_PKEY *pkey, char *out, size_t outlen)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int	n = i2d_PUBKEY(pkey, &der);
	size_t	p;

	if (n <= 0 || !EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)
	    || outlen < sizeof(DKIM_ROTATE_SPKI_PREFIX) + 2 * (size_t)mdlen) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	p = (size_t)snprintf(out, outlen, "%s", DKIM_ROTATE_SPKI_PREFIX);
	for (unsigned i = 0; i < mdlen; i++)
		p += (size_t)snprintf(out + p, outlen - p, "%02x", md[i]);
	return 0;
}

/* ctl_dkim_rotate_key_new_ok - does the table entry hold the key the rotation made */
bool
ctl_dkim_rotate_key_new_ok(const struct dkim_rotate_rec *r, const struct dkim_tables_key *k,
	       const char **why)
{
	char	spki[80];

	if (strcmp(k->domain, r->domain) != 0 || strcasecmp(k->selector, r->new_selector) != 0) {
		*why = "its domain or selector differs from the rotation's";
		return false;
	}
	if (strcmp(k->path, r->new_path) != 0) {
		*why = "its key file differs from the rotation's";
		return false;
	}
	if (ctl_dkim_rotate_key_spki(k->pkey, spki, sizeof(spki)) < 0
	    || strcmp(spki, r->new_spki) != 0) {
		*why = "its key file holds another key than the one the rotation made";
		return false;
	}
	return true;
}

/* ctl_dkim_rotate_key_write - a new private key file, 0600, owned by run_user */
int
ctl_dkim_rotate_key_write(const struct ctl_dkim_rotate_ctx *c, EVP_PKEY *pkey, const char *path)
{
	uid_t	uid;
	gid_t	gid;
	FILE   *fp;
	int	fd;

	if (ctl_dkim_owner(NULL, c->config_path, &uid, &gid) < 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "postmillctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((fp = fdopen(fd, "w")) == NULL
	    || !PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL)
	    || fflush(fp) != 0 || fsync(fd) < 0 || fclose(fp) != 0) {
		fprintf(stderr, "postmillctl: %s: cannot write the key\n", path);
		unlink(path);
		return -1;
	}
	if (uid != (uid_t)-1 && chown(path, uid, gid) < 0) {
		fprintf(stderr, "postmillctl: chown %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	ctl_dkim_rotate_io_fsync_dir(path);
	return 0;
}
