/*++
 * NAME
 *	mproto_chain_priv 3h
 * SUMMARY
 *	the message a chain host keeps between the MTA and its modules
 * DESCRIPTION
 *	mproto_chain_msg.c: the header fields in order and the body, as the
 *	next module must see them; the edits a module made at end of message
 *	applied to them. Values are kept in the form the host received them
 *	(with the leading space when the host negotiated SMFIP_HDR_LEADSPC).
 *	Not thread-safe: one session's thread at a time.
 *--*/
#ifndef POSTMILL_MPROTO_CHAIN_PRIV_H
#define POSTMILL_MPROTO_CHAIN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct chain_hdr {
	char	*name;
	char	*value;
};

struct chain_body {
	char	*mem;		/* while it fits in body_memory */
	size_t	 len, cap;
	int	 fd;		/* -1, or the unnamed spill file */
	off_t	 flen;
	bool	 failed;	/* a write failed: tempfail at end of message */
};

struct chain_msg {
	struct chain_hdr *hdrs;
	size_t		 nhdrs, caphdrs;
	size_t		 hdr_bytes;
	bool		 hdr_overflow;	/* more than header_max */
	struct chain_body body;
};

void	chain_msg_init(struct chain_msg *m);
void	chain_msg_reset(struct chain_msg *m);
void	chain_msg_add_header(struct chain_msg *m, const char *name,
			     const char *value, size_t max);
void	chain_msg_ins_header(struct chain_msg *m, size_t index,
			     const char *name, const char *value);
void	chain_msg_chg_header(struct chain_msg *m, const char *name,
			     size_t index, const char *value);

void	chain_body_init(struct chain_body *b);
void	chain_body_reset(struct chain_body *b);
void	chain_body_append(struct chain_body *b, const void *data, size_t len,
			  size_t memory, const char *spool_dir);
/* chain_body_read - up to len bytes at off; 0 at the end, -1 on error */
ssize_t	chain_body_read(const struct chain_body *b, off_t off, void *buf,
			size_t len);
off_t	chain_body_size(const struct chain_body *b);
void	chain_body_move(struct chain_body *to, struct chain_body *from);

#endif
