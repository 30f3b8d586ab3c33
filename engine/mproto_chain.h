/*++
 * NAME
 *	mproto_chain 3h
 * SUMMARY
 *	several milters in one MTA conversation, with the MTA's semantics
 * SYNOPSIS
 *	#include "mproto_chain.h"
 *
 *	int mproto_chain_init(const struct mproto_chain_module *mods,
 *			      size_t n, const struct mproto_chain_opts *opts,
 *			      struct smfiDesc *desc);
 * DESCRIPTION
 *	postmill-suite hosts an ordered list of milters (modules: each an
 *	smfiDesc written for libmilter's API, unchanged) behind one socket,
 *	so that the MTA pays for one conversation instead of one per milter.
 *	mproto_chain_init() fills "desc" with callbacks that run the modules
 *	exactly as Postfix runs the same milters listed in that order in
 *	smtpd_milters (src/milter/milter.c, cleanup_milter.c):
 *	- connect, HELO, MAIL, RCPT, DATA and unknown commands go to each
 *	  module in order; the first that refuses (reject, tempfail,
 *	  discard) answers the MTA and the modules after it do not see the
 *	  event; a module that accepts is done with the connection (at
 *	  connect, HELO) or the message;
 *	- the content (header fields, end of header, body, end of message)
 *	  goes to one module after the other, each seeing the message as
 *	  the modules before it changed it (added, inserted, changed and
 *	  deleted header fields, a replaced body), because Postfix applies
 *	  one milter's changes to its queue file before it sends the
 *	  content to the next. So the host keeps the header and the body
 *	  (the body in memory up to opts->body_memory bytes, then in an
 *	  unnamed file in opts->spool_dir) and runs the content of every
 *	  module at end of message; the MTA gets no reply before it (the
 *	  "no reply" steps for header, end of header and body), as the
 *	  refusal of a content step only takes effect at end of message
 *	  with Postfix anyway;
 *	- the changes of all modules reach the MTA in module order in the
 *	  end-of-message reply, header values adjusted to the leading-space
 *	  convention the host negotiated (SMFIP_HDR_LEADSPC), and of several
 *	  replaced bodies only the last;
 *	- abort and close reach every module that is in a message or
 *	  connected.
 *	Each module has its own context (its smfi_setpriv() data, reply,
 *	negotiated actions and steps); smfi_getsymval() and smfi_progress()
 *	reach the host's session. opts->select(i) is called before module
 *	i's callbacks run and select(-1) after (postmill-suite points
 *	milter_snapshot_acquire() at that module's configuration).
 *
 *	Needs postmill's engine: a module context is an engine session
 *	without a socket (struct smfi_str.parent).
 *--*/
#ifndef POSTMILL_MPROTO_CHAIN_H
#define POSTMILL_MPROTO_CHAIN_H

#include <stddef.h>
#include <libmilter/mfapi.h>

#define MPROTO_CHAIN_MAX	16	/* modules in one host */

struct mproto_chain_module {
	const char		*name;		/* "dkim", for log lines */
	const struct smfiDesc	*desc;
};

struct mproto_chain_opts {
	const char	*spool_dir;	/* where large bodies spill (O_TMPFILE) */
	size_t		 body_memory;	/* body bytes kept in memory per message */
	size_t		 header_max;	/* header bytes kept at most per message */
	void		(*select)(int module);	/* -1: none */
};

int	mproto_chain_init(const struct mproto_chain_module *mods, size_t n,
			  const struct mproto_chain_opts *opts,
			  struct smfiDesc *desc);

#endif
