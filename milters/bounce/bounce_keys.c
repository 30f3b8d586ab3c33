/*++
 * NAME
 *	bounce_keys 3
 * SUMMARY
 *	the HMAC secrets that sign bounce tags, and their rotation
 * DESCRIPTION
 *	See bounce_keys.h. The file checks follow the DKIM key loader
 *	(milters/dkim/dkim_keyfile.c): a secret that others can read lets
 *	them forge tags, so postmill-bounce refuses to start with it.
 *--*/
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bounce_keys.h"
#include "xalloc.h"

static const char bk_label[] = "postmill-bounce key id";

/* bounce_key_id - first byte of SHA-256(label NUL secret) */
unsigned
bounce_key_id(const unsigned char *secret, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned id = 0;

	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
	    && EVP_DigestUpdate(ctx, bk_label, sizeof(bk_label)) == 1
	    && EVP_DigestUpdate(ctx, secret, len) == 1
	    && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen > 0)
		id = md[0];
	EVP_MD_CTX_free(ctx);
	return id;
}

/* bounce_keyring_add - one more secret; see bounce_keys.h */
int
bounce_keyring_add(struct bounce_keyring *ring, const unsigned char *secret,
		   size_t len, const char **why)
{
	struct bounce_key *k;
	unsigned id;

	if (len < BOUNCE_KEY_MIN) {
		*why = "secret shorter than 16 bytes";
		return -1;
	}
	if (len > BOUNCE_KEY_MAX) {
		*why = "secret longer than 256 bytes";
		return -1;
	}
	if (ring->n >= BOUNCE_KEYS_MAX) {
		*why = "more than 16 secrets";
		return -1;
	}
	id = bounce_key_id(secret, len);
	if (bounce_keyring_find(ring, id) != NULL) {
		*why = "secret has the same key id as an earlier one "
		    "(or is the same secret): make a new one";
		return -1;
	}
	k = &ring->keys[ring->n++];
	k->id = id;
	memcpy(k->secret, secret, len);
	k->len = len;
	return 0;
}

/* bounce_keyring_find - the key with that id */
const struct bounce_key *
bounce_keyring_find(const struct bounce_keyring *ring, unsigned id)
{
	for (size_t i = 0; ring != NULL && i < ring->n; i++)
		if (ring->keys[i].id == id)
			return &ring->keys[i];
	return NULL;
}

/* bk_read - one secret file; 0 or -1 with the problem in el */
static int
bk_read(const char *path, struct bounce_keyring *ring, struct errlist *el)
{
	unsigned char buf[BOUNCE_KEY_MAX + 2];
	struct stat st;
	size_t len = 0;
	ssize_t n = 0;
	const char *why;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		errlist_add(el, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errlist_add(el, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		errlist_add(el, "%s: readable or writable by group or others "
			    "(mode %04o): whoever reads it can forge bounces; "
			    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		errlist_add(el, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	/* one trailing newline is the editor's, not the secret's */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (bounce_keyring_add(ring, buf, len, &why) < 0) {
		errlist_add(el, "%s: %s", path, why);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* bounce_keys_load - read every configured secret file */
struct bounce_keyring *
bounce_keys_load(const struct cfg_list *files, struct errlist *el)
{
	struct bounce_keyring *ring = xcalloc(1, sizeof(*ring));
	size_t before = el->count;

	if (files == NULL || files->count == 0)
		errlist_add(el, "bounce_secret_files is empty: tags cannot be signed");
	for (size_t i = 0; files != NULL && i < files->count; i++)
		(void)bk_read(files->items[i], ring, el);
	if (el->count != before)
		return bounce_keyring_free(ring);
	return ring;
}

/* bounce_keyring_free - wipe and free */
struct bounce_keyring *
bounce_keyring_free(struct bounce_keyring *ring)
{
	if (ring != NULL) {
		OPENSSL_cleanse(ring, sizeof(*ring));
		free(ring);
	}
	return NULL;
}
