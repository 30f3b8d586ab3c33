/*++
 * NAME
 *	mproto_poll 3
 * SUMMARY
 *	the engine's connections: one poller thread, a bounded worker pool
 * DESCRIPTION
 *	Postfix keeps a milter connection open for as long as its SMTP
 *	session lasts, and an SMTP client may sit idle for minutes: a
 *	thread per connection (libmilter, and this engine before) made
 *	2,000 idle connections 2,004 threads, and 300 clients sending one
 *	byte a second held 300 threads. Here one poller thread (epoll, every
 *	connection) accepts connections and reads what arrives with one
 *	non-blocking recv(); a connection goes to a worker thread only once
 *	a complete packet is buffered. The worker handles every complete
 *	packet there (mproto_session_work()), writes the batch's replies in
 *	one send() and gives the connection back to the poller. So an idle
 *	connection costs a socket and a small struct, no thread and no
 *	read buffer; only sessions with work to do take a worker.
 *
 *	A connection is held by exactly one side at a time (ctx->io_owner,
 *	changed under io_lock): the poller while it is armed in epoll (one
 *	shot: an event disarms it) or being read, a worker while queued or
 *	running. Only the poller calls epoll_wait(); workers re-arm with
 *	epoll_ctl(), which is safe from any thread.
 *
 *	Deadlines (the smfi_settimeout() value, checked once a second):
 *	for the next command, for the whole of one packet from its first
 *	byte, and for the writing of one batch of replies that the MTA does
 *	not read. At the deadline the session ends on a worker (the abort
 *	and close callbacks run as for any end).
 *
 *	Limits (mproto.h): workers, open connections, bytes of buffered
 *	protocol data. A connection over a limit is accepted and closed at
 *	once, so that the MTA applies its milter_default_action at once;
 *	every refusal, every session that waits for a worker, every session
 *	ended by the memory budget is logged, at most one line per reason
 *	every MPROTO_LOG_INTERVAL seconds with the count of the others.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "xalloc.h"

#define MPROTO_IDLE_SECONDS	60	/* a worker idle this long ends */
#define MPROTO_KEEP_WORKERS	4	/* ... down to this many */
#define MPROTO_ACCEPT_BATCH	64	/* accepts per wake, then the others */
#define MPROTO_EVENTS		256
#define MPROTO_LOG_INTERVAL	10	/* seconds between lines of one reason */

/* a reason to log, at most once per interval */
struct poll_ratelog {
	long long	 last;
	unsigned long	 skipped;
};

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t io_wake = PTHREAD_COND_INITIALIZER;

/* the worker queue and pool (io_lock) */
static SMFICTX *q_head, *q_tail;
static unsigned q_len, w_threads, w_idle, w_busy;

/* every open connection by descriptor, for the deadline scan (io_lock) */
static SMFICTX **conns;
static size_t conns_cap;
static unsigned n_conns;

static unsigned lim_workers = MPROTO_DEFAULT_WORKERS;
static unsigned lim_conns = MPROTO_DEFAULT_CONNS;
static size_t lim_memory = MPROTO_DEFAULT_MEMORY;

static atomic_size_t mem_used;
static atomic_ulong n_refused, n_expired;

static int epfd = -1, listen_fd = -1, stop_fd = -1, spare_fd = -1;
static bool listen_tcp;
static char tag_listen, tag_stop;	/* epoll data of the two non-sessions */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct poll_ratelog log_conns;
static struct poll_ratelog log_fds;
static struct poll_ratelog log_mem_refuse;
static struct poll_ratelog log_mem_end;
static struct poll_ratelog log_queued;
static struct poll_ratelog log_thread;
static struct poll_ratelog log_expired;

/* poll_now - monotonic seconds */
static long long
poll_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* poll_log - log a line of one reason, unless one was logged lately */
static void
poll_log(struct poll_ratelog *rl, int prio, const char *fmt, ...)
{
	long long now = poll_now();
	unsigned long skipped;
	char text[300];
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (rl->last != 0 && now - rl->last < MPROTO_LOG_INTERVAL) {
		rl->skipped++;
		pthread_mutex_unlock(&log_lock);
		return;
	}
	rl->last = now;
	skipped = rl->skipped;
	rl->skipped = 0;
	pthread_mutex_unlock(&log_lock);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (skipped > 0)
		log_msg(prio, NULL, "milter: %s (and %lu more like it in the last "
			"%d seconds)", text, skipped, MPROTO_LOG_INTERVAL);
	else
		log_msg(prio, NULL, "milter: %s", text);
}

/* mproto_setlimits - the engine's limits; 0 keeps one; before smfi_main */
int
mproto_setlimits(unsigned workers, unsigned conns_max, size_t memory)
{
	if (workers > 0)
		lim_workers = workers;
	if (conns_max > 0)
		lim_conns = conns_max;
	if (memory > 0)
		lim_memory = memory;
	return MI_SUCCESS;
}

/* mproto_getstats - what the engine holds now */
void
mproto_getstats(struct mproto_stats *st)
{
	pthread_mutex_lock(&io_lock);
	st->conns = n_conns;
	st->workers = w_threads;
	st->busy = w_busy;
	st->queued = q_len;
	pthread_mutex_unlock(&io_lock);
	st->memory = atomic_load(&mem_used);
	st->refused = atomic_load(&n_refused);
	st->expired = atomic_load(&n_expired);
}

/* mproto_mem_fits - may "more" bytes of buffers be added */
bool
mproto_mem_fits(size_t more)
{
	return atomic_load(&mem_used) + more <= lim_memory;
}

/* poll_charge - count a session's buffers anew in the budget */
static void
poll_charge(SMFICTX *ctx)
{
	size_t now = mproto_session_footprint(ctx);

	if (now >= ctx->io_charged)
		atomic_fetch_add(&mem_used, now - ctx->io_charged);
	else
		atomic_fetch_sub(&mem_used, ctx->io_charged - now);
	ctx->io_charged = now;
}

/*
 * poll_quickack - acknowledge what was read now, when no reply will carry
 * the ACK. Postfix writes the packets of the stages we negotiated no
 * reply for (connect, MAIL, headers, body) in separate small writes;
 * Nagle's algorithm holds each until the one before is acknowledged, and
 * Linux delays an ACK it has no data to put it on by up to 40 ms: over
 * TCP a message waited 40 ms for the headers after MAIL (measured with
 * strace against Postfix 3.7: 47 ms a message over TCP, 2 ms over a unix
 * socket). TCP_QUICKACK is not sticky (the kernel returns to delayed
 * ACKs when we answer), so it is set after each such read.
 */
static void
poll_quickack(SMFICTX *ctx)
{
	int on = 1;

	if (listen_tcp)
		(void)setsockopt(ctx->fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
}

/* poll_arm - give a connection back to epoll, for one event (io_lock
 * held, so that the deadline scan does not take it meanwhile) */
static void
poll_arm(SMFICTX *ctx, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLONESHOT, .data.ptr = ctx };
	/* added only now: a descriptor in the set always reports hang-up
	 * and errors, even with no events asked for */
	int op = ctx->io_in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* set before: once armed, the session may be another thread's */
	ctx->io_in_epoll = true;
	if (epoll_ctl(epfd, op, ctx->fd, &ev) < 0)
		log_msg(LOG_ERR, NULL, "milter: epoll_ctl: %s", strerror(errno));
}

static void *poll_worker(void *);

/* poll_start_worker - one more worker thread, if allowed (io_lock held) */
static void
poll_start_worker(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (w_threads >= lim_workers)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if ((rc = pthread_create(&tid, &attr, poll_worker, NULL)) == 0)
		w_threads++;
	else
		poll_log(&log_thread, LOG_ERR, "cannot start a worker thread: %s; "
			 "%u sessions wait", strerror(rc), q_len);
	pthread_attr_destroy(&attr);
}

/* poll_queue - hand a connection to a worker (io_lock held); true: wake
 * an idle worker (after the unlock, so that it does not wake into a held
 * lock) */
static bool
poll_queue(SMFICTX *ctx)
{
	ctx->io_owner = MPROTO_IO_QUEUED;
	ctx->io_next = NULL;
	if (q_tail)
		q_tail->io_next = ctx;
	else
		q_head = ctx;
	q_tail = ctx;
	q_len++;
	if (q_len <= w_idle)
		return true;
	poll_start_worker();
	if (q_len > w_idle && w_threads >= lim_workers)
		poll_log(&log_queued, LOG_WARNING, "all %u workers busy: %u sessions "
			 "wait for one", w_threads, q_len);
	return false;
}

/* poll_queue_locked - poll_queue() from outside the lock */
static void
poll_queue_locked(SMFICTX *ctx)
{
	bool wake;

	pthread_mutex_lock(&io_lock);
	wake = poll_queue(ctx);
	pthread_mutex_unlock(&io_lock);
	if (wake)
		pthread_cond_signal(&io_wake);
}

/* poll_wait_input - the poller holds the connection until input or the
 * deadline */
static void
poll_wait_input(SMFICTX *ctx, long long deadline)
{
	pthread_mutex_lock(&io_lock);
	ctx->io_owner = MPROTO_IO_READ;
	ctx->io_deadline = deadline;
	poll_arm(ctx, EPOLLIN);
	pthread_mutex_unlock(&io_lock);
}

/*
 * poll_input - read what the MTA has sent (the poller's side): a complete
 * packet goes to a worker, a partial one waits for the rest until the
 * deadline set by its first byte, the end of the connection goes to a
 * worker too (the close callbacks run there).
 */
static void
poll_input(SMFICTX *ctx)
{
	bool fresh = ctx->in_len == 0;

	switch (mproto_session_fill(ctx)) {
	case MPROTO_FILL_OK:
		poll_charge(ctx);
		if (mproto_session_ready(ctx)) {
			poll_queue_locked(ctx);
			return;
		}
		/* a packet begun: all of it within the timeout */
		poll_quickack(ctx);
		poll_wait_input(ctx, fresh ? poll_now() + mproto_timeout_s
				: ctx->io_deadline);
		return;
	case MPROTO_FILL_AGAIN:
		poll_wait_input(ctx, ctx->io_deadline);
		return;
	case MPROTO_FILL_MEMORY:
		poll_log(&log_mem_end, LOG_ERR, "memory budget of %zu bytes spent "
			 "(%zu in use): a session that needs a larger buffer ended",
			 lim_memory, atomic_load(&mem_used));
		ctx->io_end = "memory budget";
		poll_queue_locked(ctx);
		return;
	default:
		ctx->io_end = "end of input";
		poll_queue_locked(ctx);
		return;
	}
}

/* poll_output - write replies the MTA did not take at once (the poller) */
static void
poll_output(SMFICTX *ctx)
{
	switch (mproto_flush_some(ctx)) {
	case 0:
		mproto_session_shrink(ctx);
		poll_charge(ctx);
		poll_wait_input(ctx, poll_now() + mproto_timeout_s);
		return;
	case 1:
		pthread_mutex_lock(&io_lock);
		poll_arm(ctx, EPOLLOUT);
		pthread_mutex_unlock(&io_lock);
		return;
	default:
		ctx->io_end = "write error";
		poll_queue_locked(ctx);
		return;
	}
}

/* poll_close - a session is over: out of the table and the budget */
static void
poll_close(SMFICTX *ctx)
{
	pthread_mutex_lock(&io_lock);
	if ((size_t)ctx->fd < conns_cap && conns[ctx->fd] == ctx)
		conns[ctx->fd] = NULL;
	n_conns--;
	pthread_mutex_unlock(&io_lock);
	if (ctx->io_in_epoll)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, ctx->fd, NULL);
	atomic_fetch_sub(&mem_used, ctx->io_charged);
	/* the descriptor closes last: until then no new connection can
	 * take its slot in the table */
	mproto_session_end(ctx);
}

/* poll_run - a worker's turn with one connection; returns with io_lock
 * held (one lock a batch: the worker takes its next session under it) */
static void
poll_run(SMFICTX *ctx)
{
	int rc;

	if (ctx->io_end != NULL || !mproto_session_work(ctx)) {
		poll_close(ctx);
		pthread_mutex_lock(&io_lock);
		return;
	}
	if (ctx->out.len == 0)
		poll_quickack(ctx);	/* no reply to carry the ACK */
	if ((rc = mproto_flush_some(ctx)) < 0) {
		poll_close(ctx);
		pthread_mutex_lock(&io_lock);
		return;
	}
	mproto_session_shrink(ctx);
	poll_charge(ctx);
	pthread_mutex_lock(&io_lock);
	ctx->io_owner = rc > 0 ? MPROTO_IO_WRITE : MPROTO_IO_READ;
	ctx->io_deadline = poll_now() + mproto_timeout_s;
	poll_arm(ctx, rc > 0 ? EPOLLOUT : EPOLLIN);
}

/* poll_worker - run queued sessions; end when idle long enough */
static void *
poll_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&io_lock);
	for (;;) {
		SMFICTX *ctx;

		while (q_head == NULL) {
			struct timespec until;
			int rc;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += MPROTO_IDLE_SECONDS;
			w_idle++;
			rc = pthread_cond_timedwait(&io_wake, &io_lock, &until);
			w_idle--;
			if (rc == ETIMEDOUT && q_head == NULL
			    && w_threads > MPROTO_KEEP_WORKERS) {
				w_threads--;
				pthread_mutex_unlock(&io_lock);
				return NULL;
			}
		}
		ctx = q_head;
		if ((q_head = ctx->io_next) == NULL)
			q_tail = NULL;
		q_len--;
		ctx->io_owner = MPROTO_IO_WORK;
		w_busy++;
		pthread_mutex_unlock(&io_lock);
		poll_run(ctx);
		w_busy--;
	}
}

/* poll_refuse - accept and close at once, so that the MTA does not wait */
static void
poll_refuse(int fd, struct poll_ratelog *rl, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	close(fd);
	atomic_fetch_add(&n_refused, 1);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	poll_log(rl, LOG_WARNING, "connection refused: %s", text);
}

/* poll_accept_one - take one connection; false when none is waiting */
static bool
poll_accept_one(void)
{
	SMFICTX *ctx;
	unsigned open_now;
	int fd, on = 1;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return true;
		if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
			/* a descriptor kept for this: accept and close, or the
			 * MTA would wait in the backlog until its timeout */
			close(spare_fd);
			fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd >= 0)
				poll_refuse(fd, &log_fds, "out of file descriptors");
			return fd >= 0;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_msg(LOG_ERR, NULL, "milter: accept: %s", strerror(errno));
		return false;
	}
	pthread_mutex_lock(&io_lock);
	open_now = n_conns;
	pthread_mutex_unlock(&io_lock);
	if (open_now >= lim_conns) {
		poll_refuse(fd, &log_conns, "%u connections open, the limit", open_now);
		return true;
	}
	if (!mproto_mem_fits(MPROTO_READ_CHUNK)) {
		poll_refuse(fd, &log_mem_refuse, "memory budget of %zu bytes spent "
			    "(%zu in use)", lim_memory, atomic_load(&mem_used));
		return true;
	}
	/* replies are written once per stage, whole: Nagle's algorithm
	 * would only hold a reply back until the MTA's delayed ACK */
	if (listen_tcp)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	ctx = mproto_session_new(fd);
	ctx->io_owner = MPROTO_IO_READ;
	ctx->io_deadline = poll_now() + mproto_timeout_s;
	poll_charge(ctx);
	pthread_mutex_lock(&io_lock);
	if ((size_t)fd >= conns_cap) {
		size_t cap = conns_cap ? conns_cap : 256;

		while (cap <= (size_t)fd)
			cap *= 2;
		conns = xrealloc(conns, cap * sizeof(*conns));
		memset(conns + conns_cap, 0, (cap - conns_cap) * sizeof(*conns));
		conns_cap = cap;
	}
	conns[fd] = ctx;
	n_conns++;
	pthread_mutex_unlock(&io_lock);
	/* read at once: the MTA has usually sent its OPTNEG already */
	poll_input(ctx);
	return true;
}

/* poll_expire - end the sessions past their deadline (once a second) */
static void
poll_expire(long long now)
{
	pthread_mutex_lock(&io_lock);
	for (size_t fd = 0; fd < conns_cap; fd++) {
		SMFICTX *ctx = conns[fd];

		if (ctx == NULL || ctx->io_deadline > now
		    || (ctx->io_owner != MPROTO_IO_READ && ctx->io_owner != MPROTO_IO_WRITE))
			continue;
		/* out of the set first: no event may hand it over twice */
		if (ctx->io_in_epoll)
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, (int)fd, NULL);
		ctx->io_in_epoll = false;
		atomic_fetch_add(&n_expired, 1);
		poll_log(&log_expired, LOG_WARNING, "session ended: no %s from the "
			 "MTA within %d seconds", ctx->io_owner == MPROTO_IO_WRITE ?
			 "reading of our replies" : ctx->in_len > 0 ?
			 "complete packet" : "command", mproto_timeout_s);
		ctx->io_end = "timeout";
		if (poll_queue(ctx))
			pthread_cond_signal(&io_wake);
	}
	/* a worker that could not start before may start now */
	if (q_len > w_idle)
		poll_start_worker();
	pthread_mutex_unlock(&io_lock);
}

/* poll_loop - the poller thread */
static void *
poll_loop(void *arg)
{
	struct epoll_event evs[MPROTO_EVENTS];
	long long last = poll_now();

	(void)arg;
	for (;;) {
		int n = epoll_wait(epfd, evs, MPROTO_EVENTS, 1000);
		long long now;

		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, NULL, "milter: epoll_wait: %s", strerror(errno));
			sleep(1);
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_listen) {
				for (int k = 0; k < MPROTO_ACCEPT_BATCH && poll_accept_one(); k++)
					;
			} else if (p == &tag_stop) {
				/* smfi_stop(): no new sessions; these go on */
				(void)epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
				(void)epoll_ctl(epfd, EPOLL_CTL_DEL, stop_fd, NULL);
			} else {
				SMFICTX *ctx = p;

				if (ctx->io_owner == MPROTO_IO_WRITE)
					poll_output(ctx);
				else
					poll_input(ctx);
			}
		}
		if ((now = poll_now()) != last) {
			last = now;
			poll_expire(now);
		}
	}
	return NULL;
}

/* mproto_poll_start - serve the listening socket until smfi_stop() */
int
mproto_poll_start(int lfd, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rlimit rl;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	listen_fd = lfd;
	stop_fd = sfd;
	if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0)
		listen_tcp = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
	(void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	/* every connection is a descriptor: refuse before running out */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    && rl.rlim_cur < (rlim_t)lim_conns + MPROTO_FD_RESERVE) {
		unsigned m = rl.rlim_cur > 2 * MPROTO_FD_RESERVE ?
		    (unsigned)(rl.rlim_cur - MPROTO_FD_RESERVE) : (unsigned)rl.rlim_cur / 2;

		log_msg(LOG_INFO, NULL, "milter: at most %u connections "
			"(RLIMIT_NOFILE %llu)", m, (unsigned long long)rl.rlim_cur);
		lim_conns = m;
	}
	spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	ev.data.ptr = &tag_listen;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return -1;
	ev.data.ptr = &tag_stop;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
		return -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, poll_loop, NULL);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}
