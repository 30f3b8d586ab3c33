/*++
 * NAME
 *	unsub 3h
 * SUMMARY
 *	postmill-unsubscribe: the RFC 8058 one-click endpoint, as a module
 * DESCRIPTION
 *	unsub_handler() is a libmicrohttpd access handler (cls: a struct
 *	unsub_live, below) that any MHD daemon can mount: postmill-unsubscribe's
 *	own (unsub_main.c), or later the events service's. It needs only
 *	the ring that verifies tokens, the Redis pool, the key prefix and
 *	the stream of postmill-bounce (bounce.h's state gives all four).
 *
 *	  POST .../TOKEN  with the body List-Unsubscribe=One-Click (RFC 8058
 *		section 3.1; form-urlencoded or multipart): the token is
 *		checked (constant-time MAC, then expiry), the recipient is
 *		added to the tenant's suppression list (t:TENANT) with reason
 *		"unsubscribed" and no expiry, and one event goes to the
 *		bounce stream. 200. A token used before is 200 again (a
 *		mailbox provider may retry) and changes nothing: one token,
 *		one event. Malformed 400, forged or an unknown key 403,
 *		expired 410, a POST without the one-click body 400.
 *	  GET/HEAD .../TOKEN  a small page that names the address and has
 *		a button that POSTs; it unsubscribes nobody (RFC 8058
 *		section 4: link scanners and previews fetch URLs).
 *	  anything else 405; bodies over UNSUB_BODY_MAX are refused (413).
 *	  GET/HEAD .../c/TOKEN  a click on a tracked link (bounce_track.h):
 *		302 to the URL the token carries, and (GET) a "clicked"
 *		event; .../o/TOKEN  the open pixel: a 1x1 GIF and (GET) an
 *		"opened" event (unsub_track.c). A forged, tampered or
 *		malformed token, or one of the other kind, is 404 and
 *		redirects nowhere; another method 405. These paths are
 *		told apart by their last two segments, so
 *		bounce_unsubscribe_url must not end in /c/ or /o/.
 *
 *	The decision is bounce_unsub_request() (bounce_unsub.h: pure, unit
 *	tested and fuzzed); unsub_apply() the Redis side.
 *
 *	The handler's cls is a struct unsub_live: the configuration in
 *	force, replaceable while requests run (SIGHUP). A request takes a
 *	reference to the current unsub_ctx only for its final call (the
 *	decision and the Redis call), so unsub_live_swap() never waits and
 *	never drops a request: one that started before a reload and ends
 *	after it is answered with the new configuration; one being answered
 *	keeps the old until it is done, and the last reference frees it
 *	(free_ctx).
 *--*/
#ifndef POSTMILL_UNSUB_H
#define POSTMILL_UNSUB_H

#include <pthread.h>
#include <stddef.h>

#include <microhttpd.h>

#include "bounce_keys.h"
#include "bounce_track.h"
#include "bounce_unsub.h"
#include "redis.h"

#define UNSUB_BODY_MAX	4096

struct unsub_ctx {
	const struct bounce_keyring *ring;
	struct redis_pool *pool;
	const char	*prefix;	/* bounce_key_prefix */
	const char	*stream;	/* bounce_stream */
	long long	 maxlen;
	unsigned	 refs;		/* unsub_live's: the current one holds 1 */
	const struct bounce_keyring *track_ring;	/* NULL: no tracking */
};

struct unsub_live {
	pthread_mutex_t	 mu;
	struct unsub_ctx *cur;
	void		(*free_ctx)(struct unsub_ctx *);
};

struct unsub_ctx *unsub_live_hold(struct unsub_live *l);
void	unsub_live_drop(struct unsub_live *l, struct unsub_ctx *c);
void	unsub_live_swap(struct unsub_live *l, struct unsub_ctx *c);

int	unsub_apply(const struct unsub_ctx *ctx, const struct bounce_unsub *tok,
		    long long now_ms, const char **err);
enum MHD_Result unsub_handler(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req);
int	unsub_track_record(const struct unsub_ctx *ctx,
			   const struct bounce_track_token *tok, long long now_ms,
			   const char **err);
enum MHD_Result unsub_track_handler(const struct unsub_ctx *ctx,
				    struct MHD_Connection *conn, const char *url,
				    const char *method);
void	unsub_request_done(void *cls, struct MHD_Connection *conn, void **req,
			   enum MHD_RequestTerminationCode toe);

#endif
