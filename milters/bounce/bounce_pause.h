/*++
 * NAME
 *	bounce_pause 3h
 * SUMMARY
 *	a tenant's rolling bounce and complaint rates, review and pause
 * SYNOPSIS
 *	#include "bounce_pause.h"
 * DESCRIPTION
 *	Sent is counted where postmill-bounce tags a tenant's message (one
 *	per accepted recipient, at end of message): only a tagged message
 *	can bounce back to us, and a recipient postmill-limit admitted may
 *	still be refused later (a suppressed one by postmill-bounce itself,
 *	or by Postfix), so counting at admission would dilute the rates.
 *	Hard bounces and complaints are counted when postmill-bounce records
 *	them, against the tenant stored in the message's record.
 *	bounce_pause_outcome_once() counts each (class, recipient) of a
 *	message once: marks "h:ADDR" (hard) or "c:ADDR" (complaint) are set
 *	in the message's record in the same script, so a DSN or complaint
 *	that arrives twice (an MTA's retry, two feedback loops) does not
 *	count twice and a rate never exceeds what was sent.
 *	bounce_pause_outcome() counts what it is given (tests, tools).
 *
 *	The counters are a ring of BOUNCE_PAUSE_SLOTS slots of
 *	window/BOUNCE_PAUSE_SLOTS each, in one hash per tenant
 *	(PREFIX{t:NAME}:rate); a slot whose epoch is not the current one is
 *	zeroed before use. Every change and the decision that follows is
 *	one Lua script, so concurrent milters count exactly and a tenant is
 *	paused once. The state (PREFIX{t:NAME}:pause, a hash: state review
 *	or paused, since, reason, rates) is what postmill-limit reads and
 *	postmillctl tenant resume deletes (with the counters: the tenant
 *	starts a new window).
 *
 *	A rate counts only once the window holds min_volume sent; it
 *	triggers when it is strictly above its threshold (parts per
 *	million; 0 never triggers). A new review or pause adds one event
 *	to bounce_stream (type tenant_review / tenant_paused).
 *
 *	bounce_rate_parse() reads "5%", "0.1%", "0.005" (a fraction) or "0"
 *	into parts per million: pure, bounded (at most 6 decimals).
 *	bounce_pause_decide() is the decision (the Lua script does the same
 *	arithmetic; the tests check this one).
 *--*/
#ifndef POSTMILL_BOUNCE_PAUSE_H
#define POSTMILL_BOUNCE_PAUSE_H

#include <stddef.h>

#include "redis.h"

#define BOUNCE_PAUSE_SLOTS	24

enum bounce_pause_state {
	BOUNCE_PAUSE_OK, BOUNCE_PAUSE_REVIEW, BOUNCE_PAUSE_PAUSED,
};

struct bounce_pause_conf {
	long long	 window_ms;
	long long	 min_volume;
	long long	 review_bounce_ppm, review_complaint_ppm;
	long long	 pause_bounce_ppm, pause_complaint_ppm;
};

struct bounce_pause_status {
	enum bounce_pause_state state;	/* stored state */
	int		 changed;	/* 1: this call set it */
	long long	 sent, hard, complaints;	/* in the window */
	long long	 since;		/* ms, 0: not set */
	char		 reason[160];
};

int	bounce_rate_parse(const char *s, size_t len, long long *ppm,
			  const char **why);
enum bounce_pause_state bounce_pause_decide(const struct bounce_pause_conf *c,
					    long long sent, long long hard,
					    long long complaints);
const char *bounce_pause_state_name(enum bounce_pause_state s);
char   *bounce_pause_key(const char *prefix, const char *tenant);
char   *bounce_pause_rate_key(const char *prefix, const char *tenant);

int	bounce_pause_sent(struct redis_pool *p, const char *prefix,
			  const char *tenant, const char *idhex, long long n,
			  const struct bounce_pause_conf *c, long long now_ms,
			  const char **err);
int	bounce_pause_tenant_of(struct redis_pool *p, const char *prefix,
			       const char *idhex, char *out, size_t outlen,
			       const char **err);
int	bounce_pause_outcome(struct redis_pool *p, const char *prefix,
			     const char *stream, long long maxlen,
			     const char *tenant, long long nhard,
			     long long ncomplaints,
			     const struct bounce_pause_conf *c, long long now_ms,
			     struct bounce_pause_status *out, const char **err);
int	bounce_pause_outcome_once(struct redis_pool *p, const char *prefix,
				  const char *stream, long long maxlen,
				  const char *tenant, const char *idhex,
				  const char *const *marks, size_t nmarks,
				  const struct bounce_pause_conf *c, long long now_ms,
				  struct bounce_pause_status *out, const char **err);
int	bounce_pause_get(struct redis_pool *p, const char *prefix,
			 const char *tenant, const struct bounce_pause_conf *c,
			 long long now_ms, struct bounce_pause_status *out,
			 const char **err);
int	bounce_pause_resume(struct redis_pool *p, const char *prefix,
			    const char *tenant, const char **err);

#endif
