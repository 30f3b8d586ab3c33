/*++
 * NAME
 *	bounce_track_msg 3h
 * SUMMARY
 *	one message's open and click tracking, for the milter callbacks
 * SYNOPSIS
 *	#include "bounce_track_msg.h"
 * DESCRIPTION
 *	The glue between the callbacks (bounce_milter.c) and the walker
 *	(bounce_track.h), with the only I/O of tracking: the rewritten body
 *	is kept in memory up to bounce_track_memory octets, then in an
 *	unlinked temporary file in bounce_track_temp_dir, so that memory
 *	stays bounded whatever the message; a body over
 *	bounce_track_message_max is left as it is, and its buffers freed
 *	at once.
 *
 *	bounce_track_msg_new() starts a message of a tenant with tracking
 *	on; bounce_track_msg_header() notes Content-Type,
 *	Content-Transfer-Encoding and DKIM-Signature (a message signed
 *	before us is never changed: the signature covers the body, RFC 6376
 *	section 3.7); bounce_track_msg_start() at the end of the header
 *	decides whether the body is walked (the message id, which the
 *	tokens carry, is given then: it becomes the tag's id at the end of
 *	message); bounce_track_msg_body() walks a chunk;
 *	bounce_track_msg_finish() ends the walk and says whether the body
 *	changed (1), or not (0, *why); bounce_track_msg_next() then gives
 *	the new body in chunks for smfi_replacebody(). bounce_track_msg_free()
 *	takes NULL and returns NULL.
 * THREAD SAFETY
 *	One message, one thread at a time.
 *--*/
#ifndef POSTMILL_BOUNCE_TRACK_MSG_H
#define POSTMILL_BOUNCE_TRACK_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "bounce_track.h"

#define BOUNCE_TRACK_CHUNK	65536	/* octets a smfi_replacebody() call */

struct bounce_track_limits {
	size_t		 message_max;	/* bounce_track_message_max */
	size_t		 memory;	/* bounce_track_memory */
	const char	*temp_dir;	/* bounce_track_temp_dir */
};

struct bounce_track_msg {
	struct bounce_track_conf conf;
	struct bounce_track_limits lim;
	char		 base[BOUNCE_TRACK_BASE_MAX + 1];
	char		 tenant[BOUNCE_TRACK_TENANT_MAX + 1];
	char		*ctype, *cte;	/* the message's, or NULL */
	bool		 dkim;		/* a DKIM-Signature is there */
	bool		 active;	/* walking the body */
	const char	*why;		/* why not, or what happened */
	struct bounce_track_mime *mime;
	size_t		 in;		/* body octets seen */
	/* the new body */
	char		*mem;
	size_t		 memlen, memcap;
	int		 fd;		/* -1: all in mem */
	size_t		 out;		/* octets written */
	bool		 io_error;
	size_t		 rpos;		/* bounce_track_msg_next() */
	char		*rbuf;
};

struct bounce_track_msg *bounce_track_msg_new(const struct bounce_key *key,
					      const char *base, const char *tenant,
					      size_t url_max,
					      const struct bounce_track_limits *lim);
void	bounce_track_msg_header(struct bounce_track_msg *t, const char *name,
				const char *value);
bool	bounce_track_msg_start(struct bounce_track_msg *t,
			       const unsigned char id[BOUNCE_TAG_ID_LEN]);
void	bounce_track_msg_body(struct bounce_track_msg *t, const char *p, size_t n);
int	bounce_track_msg_finish(struct bounce_track_msg *t, const char **why);
int	bounce_track_msg_next(struct bounce_track_msg *t, const char **p, size_t *n);
struct bounce_track_msg *bounce_track_msg_free(struct bounce_track_msg *t);

#endif
