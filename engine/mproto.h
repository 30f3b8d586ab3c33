/*++
 * NAME
 *	mproto 3h
 * SUMMARY
 *	postmill's milter protocol engine: internal interfaces
 * SYNOPSIS
 *	#include "mproto.h"
 * DESCRIPTION
 *	The engine speaks the Sendmail milter protocol (version 6, the one
 *	Postfix >= 2.6 and Sendmail 8.14 use) and offers libmilter's API
 *	(<libmilter/mfapi.h>: smfi_register(), smfi_main(), smfi_getsymval(),
 *	smfi_addheader(), ...), so a milter written for libmilter builds
 *	against either. Why it exists: on a virtual machine every system call
 *	and every thread switch is expensive, and libmilter spends them
 *	freely: a poll() and two read()s per packet (about 26 packets for a
 *	short message), a new thread per connection, a write per
 *	modification. Here a session reads whatever the MTA has sent into one
 *	buffer and takes every complete packet from it, collects the replies
 *	of a stage into one write, and holds a thread only while it has a
 *	complete packet to handle (idle connections wait in one epoll set).
 *
 *	This header holds the pure codec (framing, argument splitting,
 *	CONNECT and OPTNEG decoding, reply encoding) that the unit tests and
 *	the fuzz target call without sockets, and the functions the session,
 *	API and listener files share.
 *
 *	Packets (both directions): a 4-byte big-endian length N (counting
 *	the command byte), one command byte, N-1 bytes of data.
 *
 *	Compatibility: tests/diff sends the same hand-written and random
 *	packet streams to a tracing milter built on this engine and on
 *	Debian's libmilter (8.17) and requires the same callbacks, arguments,
 *	macros and reply bytes. The differences, each where libmilter's
 *	behaviour is a defect that no MTA relies on (those streams are left
 *	out of the comparison):
 *	- a packet length of 0 or of 2^31 and more: libmilter takes the next
 *	  byte after the length as a command without data, or treats the
 *	  length as "no data", and goes on reading inside the stream; here
 *	  the session ends (malformed packet);
 *	- SMFIC_UNKNOWN data without a NUL: libmilter passes its buffer as
 *	  a string and reads past its end; here the callback gets the bytes
 *	  with a NUL added;
 *	- a macro packet with an odd number of strings (a name without a
 *	  value): libmilter keeps it and smfi_getsymval() reads past the list
 *	  for names after it (a crash was seen); here the lone name's value is
 *	  NULL and the search stops there;
 *	- data on SMFIC_BODYEOB to which xxfi_body answers other than
 *	  "continue": libmilter sends that answer twice (the MTA takes the
 *	  second as the reply to its next command), or for SMFIS_NOREPLY
 *	  none at all; here once, or "continue" for SMFIS_NOREPLY;
 *	- a callback returning SMFIS_NOREPLY where the stage has no reply
 *	  flag to negotiate (end of message) or the milter did not ask for
 *	  it, or SMFIS_SKIP to an MTA that did not offer SMFIP_SKIP: libmilter
 *	  sends nothing, or a SKIP the MTA does not know, and the MTA waits
 *	  for its timeout; here "continue"; a return value that is no
 *	  sfsistat: libmilter sends nothing, here TEMPFAIL (logged); except
 *	  libmilter's internal codes, which act as there (-1: no reply; 21:
 *	  the session ends), but 22, which libmilter answers with an OPTNEG
 *	  packet, and here with nothing;
 *	- libmilter's fix_stm() adds each session's skipped steps to one
 *	  process-wide table, so a session's xxfi_negotiate loosens the state
 *	  machine of every later session; here each session has its own (the
 *	  same as libmilter's whenever the milter asks the same every time);
 *	- when the MTA has written its last packets and closed the socket
 *	  (Postfix after a client dropped: ABORT, QUIT), libmilter's poll()
 *	  may report the hang-up first, and it then ends the session without
 *	  reading them (abort if in a message, close); here every packet
 *	  that arrived is handled, then the end of input;
 *	- libmilter reads packets of at most 64 KiB unless told otherwise;
 *	  here up to smfi_setmaxdatasize() (default 1 MiB); both answer
 *	  OPTNEG without the SMFIP_MDS_* flags.
 *	Protocol warnings are rate-limited (5 per connection, 60 a minute per
 *	process); libmilter logs few of them at all.
 *--*/
#ifndef POSTMILL_MPROTO_H
#define POSTMILL_MPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define MPROTO_MDS_256K		((256 * 1024) - 1)	/* mfdef.h, _FFR only */
#define MPROTO_MDS_1M		((1024 * 1024) - 1)
#define MPROTO_READ_CHUNK	(64 * 1024)
#define MPROTO_DEFAULT_MAX_DATA	MPROTO_MDS_1M	/* bytes after the length */
#define MPROTO_STAGES		7	/* SMFIM_CONNECT .. SMFIM_EOH */

/*
 * The slots of the macros received per stage, in libmilter's order
 * (engine.c CI_*), which is not mfapi.h's SMFIM_* order: EOH comes
 * before end of message here, and smfi_getsymval() searches from the
 * last slot down, so a name the MTA sends at both stages is found in
 * the end-of-message list, as with libmilter.
 */
enum mproto_slot {
	MPROTO_CI_CONN, MPROTO_CI_HELO, MPROTO_CI_MAIL, MPROTO_CI_RCPT,
	MPROTO_CI_DATA, MPROTO_CI_EOH, MPROTO_CI_EOM,
};

enum mproto_status {
	MPROTO_OK = 0,
	MPROTO_SHORT,		/* need more bytes */
	MPROTO_BAD,		/* malformed: drop the connection */
};

/* one packet found at the start of a buffer */
struct mproto_packet {
	char		 cmd;
	char		*data;		/* inside the caller's buffer */
	size_t		 len;		/* data bytes, without the command */
	size_t		 consumed;	/* 4 + 1 + len */
};

int	mproto_frame(char *buf, size_t len, size_t max_data,
		     struct mproto_packet *pkt, const char **why);
size_t	mproto_count_strings(const char *data, size_t len);
size_t	mproto_strings(char *data, size_t len, char **argv, size_t n);
char  **mproto_argv(char *data, size_t len, size_t *argc);
int	mproto_header(char *data, size_t len, char **name, char **value);

struct mproto_connect {
	char		*host;		/* as the MTA names the client */
	char		 family;	/* SMFIA_UNKNOWN/_UNIX/_INET/_INET6 */
	unsigned	 port;
	char		*addr;		/* text; "" for SMFIA_UNKNOWN */
};

int	mproto_parse_connect(char *data, size_t len,
			     struct mproto_connect *out, const char **why);
int	mproto_connect_sockaddr(const struct mproto_connect *c,
				struct sockaddr_storage *ss);
int	mproto_parse_optneg(const char *data, size_t len, uint32_t *version,
			    uint32_t *actions, uint32_t *protocol,
			    const char **why);

/* an output buffer of whole packets */
struct mproto_out {
	char		*buf;
	size_t		 len;
	size_t		 cap;
};

void	mproto_out_packet(struct mproto_out *o, char cmd, const void *a,
			  size_t alen, const void *b, size_t blen);
void	mproto_out_packet_str(struct mproto_out *o, char cmd, uint32_t *index,
			      const char *s1, const char *s2);
void	mproto_out_append(struct mproto_out *o, const void *p, size_t n);
void	mproto_out_free(struct mproto_out *o);

/* macros of one stage, copied out of the read buffer */
struct mproto_macros {
	char		*buf;
	char		**argv;		/* name, value, ..., NULL; with buf */
	size_t		 argc;		/* may be odd: the last name has no value */
};

/* who holds a connection (mproto_poll.c) */
enum mproto_io_owner {
	MPROTO_IO_READ,		/* epoll, waiting for input */
	MPROTO_IO_WRITE,	/* epoll, waiting for the MTA to read replies */
	MPROTO_IO_WORK,		/* a thread */
};

/*
 * The session: libmilter's opaque SMFICTX. Held by the epoll set while
 * it waits, by one thread of the pool from an event to the re-arming
 * (mproto_poll.c); the API functions take it from the callbacks.
 */
struct smfi_str {
	int		 fd;
	int		 io_owner;	/* enum mproto_io_owner */
	bool		 io_in_epoll;	/* added to the epoll set */
	bool		 io_partial;	/* waits for the rest of a packet */
	long long	 io_deadline;	/* monotonic seconds */
	size_t		 io_charged;	/* bytes counted in the memory budget */
	char		*in;		/* read buffer */
	size_t		 in_len, in_cap;
	struct mproto_out out;		/* replies not yet written */
	void		*priv;		/* smfi_setpriv() */
	char		*reply;		/* smfi_setreply(), used once */
	char		 cmd;		/* command being handled */
	int		 state;		/* mproto_session.c's ST_* */
	uint32_t	 mta_version, mta_actions, mta_protocol;
	unsigned long	 actions;	/* SMFIF_* agreed */
	unsigned long	 pflags;	/* SMFIP_* the milter asked for */
	unsigned long	 pflags2mta;	/* SMFIP_* the MTA agreed to */
	char		*symlist[MPROTO_STAGES];	/* by SMFIM_* */
	struct mproto_macros macros[MPROTO_STAGES];	/* by MPROTO_CI_* */
	/* a module's context inside postmill-suite (mproto_chain.c): the
	 * session it belongs to (macros, progress), NULL for a session */
	struct smfi_str	*parent;
	struct mproto_chain_conn *chain;	/* the hosted modules' state */
	/* protocol state (mproto_session.c) */
	bool		 call_abort;	/* libmilter's: abort if the session ends now */
	unsigned	 warnings;	/* protocol warnings logged for this session */
};

int	mproto_flush(SMFICTX *ctx);

/* the hosted modules of a session (mproto_chain.c), at its end */
void	mproto_chain_session_free(SMFICTX *ctx);
int	mproto_flush_some(SMFICTX *ctx);

/* engine-wide settings (defined in mproto_listen.c) */
extern struct smfiDesc	mproto_desc;
extern bool		mproto_registered;
extern int		mproto_timeout_s;
extern size_t		mproto_max_data;

/* one session on a connected socket (mproto_session.c) */
enum mproto_fill {
	MPROTO_FILL_OK,		/* got bytes */
	MPROTO_FILL_AGAIN,	/* nothing to read now */
	MPROTO_FILL_EOF,	/* the MTA closed, or an error (logged) */
	MPROTO_FILL_MEMORY,	/* the buffer would pass the memory budget */
};

SMFICTX	*mproto_session_new(int fd);
int	 mproto_session_fill(SMFICTX *ctx);
int	 mproto_session_ready(const SMFICTX *ctx);
bool	 mproto_session_work(SMFICTX *ctx);
void	 mproto_session_end(SMFICTX *ctx);
size_t	 mproto_session_footprint(const SMFICTX *ctx);
void	 mproto_session_shrink(SMFICTX *ctx);

/*
 * Engine-wide limits (mproto_poll.c). Idle connections cost no thread:
 * every connection waits in one epoll set, and a pool of threads takes
 * the events; a thread that reads a partial packet keeps it and goes
 * back to waiting, so a thread is busy only while it handles the
 * complete packets it found (callbacks) and writes their replies.
 * Defaults below; mproto_setlimits() changes them before smfi_main()
 * (0 keeps a value; milter_main.c passes milter_max_workers,
 * milter_max_connections and milter_memory_limit):
 * - workers: the most threads of the pool. When all are busy, input
 *   waits in the kernel until one is free (logged, rate-limited).
 *   Postfix's default_process_limit is 100, so 128 never makes a stock
 *   Postfix wait unless callbacks block;
 * - connections: the most open MTA connections; more are accepted and
 *   closed at once (logged), so that the MTA applies its
 *   milter_default_action instead of waiting. Also held to the
 *   RLIMIT_NOFILE soft limit less MPROTO_FD_RESERVE at smfi_main();
 * - memory: bytes of buffered protocol data (read buffers, unsent
 *   replies, kept macros) in the whole process. Once spent, new
 *   connections are refused and a session whose buffer would have to
 *   grow is ended, each with a logged reason.
 * The smfi_settimeout() value bounds, besides the wait for a command,
 * the whole of one packet (from its first byte to its last) and the
 * MTA's reading of one batch of replies: a client sending one byte a
 * second is closed when that time is up, not at each byte.
 */
#define MPROTO_DEFAULT_WORKERS	128
#define MPROTO_DEFAULT_CONNS	16384
#define MPROTO_DEFAULT_MEMORY	((size_t)256 * 1024 * 1024)
#define MPROTO_FD_RESERVE	64	/* for the milter's own files, DNS, Redis */

int	mproto_setlimits(unsigned workers, unsigned conns, size_t memory);

/* what the engine holds now (for tests and postmillctl-style reports) */
struct mproto_stats {
	unsigned	 conns;		/* open MTA connections */
	unsigned	 workers;	/* threads of the pool */
	unsigned	 busy;		/* threads not waiting for an event */
	size_t		 memory;	/* buffered protocol bytes */
	unsigned long	 refused;	/* connections refused since start */
	unsigned long	 expired;	/* sessions ended at their deadline */
};

void	mproto_getstats(struct mproto_stats *st);

/* the pool (mproto_poll.c): serve a listening socket until "stop_fd"
 * becomes readable (smfi_stop()), then the open sessions only */
int	 mproto_poll_start(int listen_fd, int stop_fd);

/* the memory budget (mproto_poll.c): false when "more" does not fit */
bool	 mproto_mem_fits(size_t more);

#endif
