/*++
 * NAME
 *	mproto_poll 3
 * SUMMARY
 *	the engine's connections: one epoll set, a bounded pool of threads
 * DESCRIPTION
 *	Postfix keeps a milter connection open for as long as its SMTP
 *	session lasts, and an SMTP client may sit idle for minutes: a
 *	thread per connection (libmilter, and this engine before) made
 *	2,000 idle connections 2,004 threads, and 300 clients sending one
 *	byte a second held 300 threads. Here every connection sits in one
 *	epoll set, armed for one event at a time (EPOLLONESHOT), and a
 *	bounded pool of threads waits in epoll_wait() (leader/followers:
 *	the kernel wakes one waiter per event). The thread that gets a
 *	connection's event reads what arrived with one non-blocking recv();
 *	a partial packet is kept and the connection re-armed at once, so a
 *	slow client holds no thread; once a complete packet is buffered the
 *	same thread handles every complete packet there
 *	(mproto_session_work()), writes the batch's replies in one send()
 *	and re-arms. No hand-over between threads: a batch costs
 *	epoll_wait, recv, send and epoll_ctl, and an idle connection costs
 *	a socket and a small struct, no thread and no read buffer.
 *
 *	A thread that takes an event when no other thread is left waiting
 *	starts one more, up to the limit (mproto.h); beyond it, input waits
 *	in the kernel until a thread is free, and that is logged. Threads
 *	idle for MPROTO_IDLE_SECONDS end, down to MPROTO_KEEP_WORKERS.
 *
 *	Deadlines (the smfi_settimeout() value), checked once a second by
 *	whichever thread gets the timer's event: for the next command, for
 *	the whole of one packet from its first byte, and for the MTA's
 *	reading of one batch of replies. A session past its deadline is
 *	shut down (shutdown(2)): its armed event fires, and the thread that
 *	gets it finds the end of input and ends the session there (the
 *	abort and close callbacks run as for any end). The scan touches no
 *	session a thread holds, and only fields written under io_lock.
 *
 *	Limits (mproto.h): threads, open connections, bytes of buffered
 *	protocol data. A connection over a limit is accepted and closed at
 *	once, so that the MTA applies its milter_default_action at once;
 *	every refusal, every time all threads are busy, every session ended
 *	by the memory budget or a deadline is logged, at most one line per
 *	reason every MPROTO_LOG_INTERVAL seconds with the count of the
 *	others.
 *--*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mproto.h"
#include "xalloc.h"

#define MPROTO_IDLE_SECONDS	60	/* a thread idle this long ends */
#define MPROTO_KEEP_WORKERS	2	/* ... down to this many */
#define MPROTO_ACCEPT_BATCH	64	/* accepts per event, then the others */
#define MPROTO_LOG_INTERVAL	10	/* seconds between lines of one reason */

/* a reason to log, at most once per interval */
struct poll_ratelog {
	long long	 last;
	unsigned long	 skipped;
};

/* every open connection by descriptor, for the deadline scan (io_lock) */
static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static SMFICTX **conns;
static size_t conns_cap;
static unsigned n_conns;

/* the pool: threads, and those waiting in epoll_wait() */
static atomic_uint t_threads, t_idle;

static unsigned lim_workers = MPROTO_DEFAULT_WORKERS;
static unsigned lim_conns = MPROTO_DEFAULT_CONNS;
static size_t lim_memory = MPROTO_DEFAULT_MEMORY;

static atomic_size_t mem_used;
static atomic_ulong n_refused, n_expired;

static int epfd = -1, listen_fd = -1, stop_fd = -1, timer_fd = -1, spare_fd = -1;
static bool listen_tcp;
static atomic_bool stopped;
static char tag_listen, tag_stop, tag_timer;	/* epoll data of the non-sessions */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct poll_ratelog log_conns, log_fds, log_mem_refuse, log_mem_end,
	log_busy, log_thread, log_expired_cmd, log_expired_pkt, log_expired_write;

/* poll_now - monotonic seconds */
static long long
poll_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

/* poll_log - log a line of one reason, unless one was logged lately */
static void poll_log(struct poll_ratelog *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
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
	unsigned t = atomic_load(&t_threads), idle = atomic_load(&t_idle);

	pthread_mutex_lock(&io_lock);
	st->conns = n_conns;
	pthread_mutex_unlock(&io_lock);
	st->workers = t;
	st->busy = t > idle ? t - idle : 0;
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

/* poll_arm - give a connection back to epoll, for one event; -1: not
 * armed, still the caller's */
static int
poll_arm(SMFICTX *ctx, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLONESHOT, .data.ptr = ctx };
	/* added only now: a descriptor in the set always reports hang-up
	 * and errors, even with no events asked for */
	int op = ctx->io_in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	/* set before: once armed, the session may be another thread's */
	ctx->io_in_epoll = true;
	if (epoll_ctl(epfd, op, ctx->fd, &ev) < 0) {
		log_msg(LOG_ERR, NULL, "milter: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void *poll_thread(void *);

/* poll_start_thread - one more thread in the pool, if the limit allows */
static void
poll_start_thread(void)
{
	unsigned n = atomic_load(&t_threads);
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	do
		if (n >= lim_workers) {
			poll_log(&log_busy, LOG_WARNING, "all %u threads busy: further "
				 "input from the MTA waits until one is free", n);
			return;
		}
	while (!atomic_compare_exchange_weak(&t_threads, &n, n + 1));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if ((rc = pthread_create(&tid, &attr, poll_thread, NULL)) != 0) {
		atomic_fetch_sub(&t_threads, 1);
		poll_log(&log_thread, LOG_ERR, "cannot start a thread: %s (%u running)",
			 strerror(rc), n);
	}
	pthread_attr_destroy(&attr);
}

static void poll_close(SMFICTX *);

/* poll_wait_for - the session waits in epoll: for input or for the MTA
 * to read our replies, until the deadline */
static void
poll_wait_for(SMFICTX *ctx, int owner, long long deadline)
{
	pthread_mutex_lock(&io_lock);
	ctx->io_owner = owner;
	ctx->io_deadline = deadline;
	ctx->io_partial = ctx->in_len > 0;
	pthread_mutex_unlock(&io_lock);
	/* from here the session may be another thread's */
	if (poll_arm(ctx, owner == MPROTO_IO_WRITE ? EPOLLOUT : EPOLLIN) < 0)
		poll_close(ctx);	/* no event would ever come */
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
	 * take its slot in the table, and the deadline scan may still
	 * shut it down */
	mproto_session_end(ctx);
}

/* poll_run - every complete packet in the buffer, then the replies */
static void
poll_run(SMFICTX *ctx)
{
	int rc;

	if (!mproto_session_work(ctx)) {
		poll_close(ctx);
		return;
	}
	if (ctx->out.len == 0)
		poll_quickack(ctx);	/* no reply to carry the ACK */
	if ((rc = mproto_flush_some(ctx)) < 0) {
		poll_close(ctx);
		return;
	}
	mproto_session_shrink(ctx);
	poll_charge(ctx);
	poll_wait_for(ctx, rc > 0 ? MPROTO_IO_WRITE : MPROTO_IO_READ,
		      poll_now() + mproto_timeout_s);
}

/*
 * poll_input - read what the MTA has sent: with a complete packet, run
 * the session; a partial one waits for the rest until the deadline set
 * by its first byte; at the end of the connection, end the session.
 */
static void
poll_input(SMFICTX *ctx)
{
	bool fresh = ctx->in_len == 0;

	switch (mproto_session_fill(ctx)) {
	case MPROTO_FILL_OK:
		poll_charge(ctx);
		if (mproto_session_ready(ctx)) {
			poll_run(ctx);
			return;
		}
		/* a packet begun: all of it within the timeout */
		poll_quickack(ctx);
		poll_wait_for(ctx, MPROTO_IO_READ, fresh ?
			      poll_now() + mproto_timeout_s : ctx->io_deadline);
		return;
	case MPROTO_FILL_AGAIN:
		poll_wait_for(ctx, MPROTO_IO_READ, ctx->io_deadline);
		return;
	case MPROTO_FILL_MEMORY:
		poll_log(&log_mem_end, LOG_ERR, "memory budget of %zu bytes spent "
			 "(%zu in use): a session that needs a larger buffer ended",
			 lim_memory, atomic_load(&mem_used));
		poll_close(ctx);
		return;
	default:
		poll_close(ctx);
		return;
	}
}

/* poll_output - write replies the MTA did not take at once */
static void
poll_output(SMFICTX *ctx)
{
	switch (mproto_flush_some(ctx)) {
	case 0:
		mproto_session_shrink(ctx);
		poll_charge(ctx);
		poll_wait_for(ctx, MPROTO_IO_READ, poll_now() + mproto_timeout_s);
		return;
	case 1:
		poll_wait_for(ctx, MPROTO_IO_WRITE, ctx->io_deadline);
		return;
	default:
		poll_close(ctx);
		return;
	}
}

/* poll_session - a session's event: this thread holds it now */
static void
poll_session(SMFICTX *ctx)
{
	int owner;

	pthread_mutex_lock(&io_lock);
	owner = ctx->io_owner;
	ctx->io_owner = MPROTO_IO_WORK;
	pthread_mutex_unlock(&io_lock);
	if (owner == MPROTO_IO_WRITE)
		poll_output(ctx);
	else
		poll_input(ctx);
}

/* poll_refuse - accept and close at once, so that the MTA does not wait */
static void poll_refuse(int, struct poll_ratelog *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
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
			 * MTA would wait in the backlog until its timeout
			 * (one thread takes the listener's event at a time) */
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
	/* the MTA has usually sent its OPTNEG already: the event fires at
	 * once, for whichever thread waits */
	poll_wait_for(ctx, MPROTO_IO_READ, poll_now() + mproto_timeout_s);
	return true;
}

/* poll_expire - shut down the sessions past their deadline; the thread
 * that gets their event ends them */
static void
poll_expire(long long now)
{
	pthread_mutex_lock(&io_lock);
	for (size_t fd = 0; fd < conns_cap; fd++) {
		SMFICTX *ctx = conns[fd];

		if (ctx == NULL || ctx->io_deadline > now
		    || (ctx->io_owner != MPROTO_IO_READ && ctx->io_owner != MPROTO_IO_WRITE))
			continue;
		atomic_fetch_add(&n_expired, 1);
		if (ctx->io_owner == MPROTO_IO_WRITE)
			poll_log(&log_expired_write, LOG_WARNING, "session ended: no "
				 "reading of our replies from the MTA within %d seconds",
				 mproto_timeout_s);
		else if (ctx->io_partial)
			poll_log(&log_expired_pkt, LOG_WARNING, "session ended: no "
				 "complete packet from the MTA within %d seconds",
				 mproto_timeout_s);
		else
			poll_log(&log_expired_cmd, LOG_WARNING, "session ended: no "
				 "command from the MTA within %d seconds", mproto_timeout_s);
		ctx->io_deadline = LLONG_MAX;	/* once */
		(void)shutdown((int)fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&io_lock);
}

/* poll_rearm - a non-session descriptor, for its next event */
static void
poll_rearm(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = tag };

	/* ENOENT: smfi_stop() took the listener out meanwhile */
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno != ENOENT)
		log_msg(LOG_ERR, NULL, "milter: epoll_ctl: %s", strerror(errno));
}

/* poll_thread - wait for an event, handle it, again; end when idle long
 * enough */
static void *
poll_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct epoll_event ev;
		int n;

		atomic_fetch_add(&t_idle, 1);
		n = epoll_wait(epfd, &ev, 1, MPROTO_IDLE_SECONDS * 1000);
		if (n <= 0) {
			unsigned t = atomic_load(&t_threads);

			atomic_fetch_sub(&t_idle, 1);
			if (n < 0 && errno != EINTR) {
				log_msg(LOG_ERR, NULL, "milter: epoll_wait: %s", strerror(errno));
				sleep(1);
			}
			/* end only while another thread waits: the busy ones
			 * may not be back soon */
			if (n == 0 && t > MPROTO_KEEP_WORKERS && atomic_load(&t_idle) > 0
			    && atomic_compare_exchange_strong(&t_threads, &t, t - 1))
				return NULL;
			continue;
		}
		/* keep one thread waiting while this one works */
		if (atomic_fetch_sub(&t_idle, 1) == 1)
			poll_start_thread();
		if (ev.data.ptr == &tag_listen) {
			for (int k = 0; k < MPROTO_ACCEPT_BATCH && poll_accept_one(); k++)
				;
			if (!atomic_load(&stopped))
				poll_rearm(listen_fd, &tag_listen);
		} else if (ev.data.ptr == &tag_stop) {
			/* smfi_stop(): no new sessions; these go on */
			atomic_store(&stopped, true);
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, listen_fd, NULL);
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, stop_fd, NULL);
		} else if (ev.data.ptr == &tag_timer) {
			uint64_t ticks;

			(void)!read(timer_fd, &ticks, sizeof(ticks));
			poll_expire(poll_now());
			poll_rearm(timer_fd, &tag_timer);
		} else {
			poll_session(ev.data.ptr);
		}
	}
	return NULL;
}

/* poll_add - a non-session descriptor into the set, for one event */
static int
poll_add(int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* mproto_poll_start - serve the listening socket until smfi_stop() */
int
mproto_poll_start(int lfd, int sfd)
{
	struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct rlimit rl;

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
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0
	    || (timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) < 0
	    || timerfd_settime(timer_fd, 0, &tick, NULL) < 0
	    || poll_add(lfd, &tag_listen) < 0 || poll_add(sfd, &tag_stop) < 0
	    || poll_add(timer_fd, &tag_timer) < 0)
		return -1;
	poll_start_thread();
	return atomic_load(&t_threads) > 0 ? 0 : -1;
}
