/*++
 * NAME
 *	bounce_keys 3h
 * SUMMARY
 *	the HMAC secrets that sign bounce tags, and their rotation
 * SYNOPSIS
 *	#include "bounce_keys.h"
 * DESCRIPTION
 *	bounce_secret_files lists files of one secret each. The first signs
 *	new tags; every one is accepted, so a new secret is put first and the
 *	old one stays listed until the tags it signed have expired
 *	(bounce_tag_lifetime) and the X-Postmill-Ref headers it signed
 *	(bounce_ref_lifetime, bounce_ref.h), then is removed. A secret is
 *	the file's bytes, minus one trailing newline:
 *	BOUNCE_KEY_MIN..BOUNCE_KEY_MAX of them (e.g. "openssl rand -hex 32
 *	> FILE").
 *
 *	A key's id is the first byte of SHA-256("postmill-bounce key id" NUL
 *	secret): the operator names no ids, and a tag names its key without
 *	revealing anything about it. Two listed secrets with one id are a
 *	configuration error (the message says to make a new secret).
 *
 *	bounce_keyring_add() adds one secret (pure; the tests use it) and
 *	returns 0, or -1 with *why (too short, too long, duplicate id).
 *	bounce_keys_load() reads the files: each must be a regular file not
 *	readable or writable by group or others (as DKIM keys, milters/dkim),
 *	and every problem is added to el as "path: problem". It returns a new
 *	ring or NULL (nothing configured counts as a problem).
 *	bounce_keyring_free() wipes the secrets; takes NULL, returns NULL.
 *	bounce_keyring_find() is the key with that id, or NULL.
 * THREAD SAFETY
 *	A loaded ring is immutable and belongs to a configuration snapshot.
 *--*/
#ifndef POSTMILL_BOUNCE_KEYS_H
#define POSTMILL_BOUNCE_KEYS_H

#include <stddef.h>

#include "cfg.h"
#include "errlist.h"

#define BOUNCE_KEY_MIN		16	/* bytes: 128 bits of a hex string */
#define BOUNCE_KEY_MAX		256
#define BOUNCE_KEYS_MAX		16

struct bounce_key {
	unsigned	 id;			/* 0..255 */
	unsigned char	 secret[BOUNCE_KEY_MAX];
	size_t		 len;
};

struct bounce_keyring {
	struct bounce_key keys[BOUNCE_KEYS_MAX];
	size_t		 n;		/* keys[0] signs */
};

/*
 * a domain whose tags we accept, and the ring that verifies them: the
 * global bounce_domain first (its ring, borrowed, also verifies
 * X-Postmill-Ref), then the tenants' (bounce.h's state owns the list)
 */
struct bounce_bdomain {
	char		*domain;	/* normalized */
	struct bounce_keyring *keys;
};

unsigned bounce_key_id(const unsigned char *secret, size_t len);
int	bounce_keyring_add(struct bounce_keyring *ring,
			   const unsigned char *secret, size_t len,
			   const char **why);
const struct bounce_key *bounce_keyring_find(const struct bounce_keyring *ring,
					     unsigned id);
struct bounce_keyring *bounce_keys_load(const struct cfg_list *files,
					struct errlist *el);
struct bounce_keyring *bounce_keyring_free(struct bounce_keyring *ring);

#endif
