/*++
 * NAME
 *	mproto_codec 3
 * SUMMARY
 *	milter protocol framing and argument decoding, without sockets
 * DESCRIPTION
 *	Everything the MTA sends passes through these functions first; they
 *	trust nothing: every length is checked against the buffer, a string
 *	is what ends with a NUL inside its packet, counts are bounded by the
 *	packet size. What they accept and refuse is what libmilter's
 *	engine.c does (dec_argv(), dec_arg2(), st_connectinfo()). No I/O, no
 *	globals, no allocation except argument lists and the output buffer.
 *--*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "mproto.h"
#include "xalloc.h"

/* mproto_frame - the packet at the start of buf, if it is complete */
int
mproto_frame(char *buf, size_t len, size_t max_data, struct mproto_packet *pkt,
	     const char **why)
{
	uint32_t n;

	/* the length is judged as soon as it is there: the caller sizes its
	 * buffer by it */
	if (len < MILTER_LEN_BYTES)
		return MPROTO_SHORT;
	memcpy(&n, buf, sizeof(n));
	n = ntohl(n);
	if (n == 0) {
		*why = "packet of length 0";
		return MPROTO_BAD;
	}
	if (n - 1 > max_data) {
		*why = "packet longer than the data size limit";
		return MPROTO_BAD;
	}
	if (len < MILTER_LEN_BYTES + (size_t)n)
		return MPROTO_SHORT;
	pkt->cmd = buf[MILTER_LEN_BYTES];
	pkt->data = buf + MILTER_LEN_BYTES + 1;
	pkt->len = (size_t)n - 1;
	pkt->consumed = MILTER_LEN_BYTES + (size_t)n;
	return MPROTO_OK;
}

/*
 * mproto_count_strings - how many NUL-terminated strings: libmilter's
 * dec_argv() counts the NULs; bytes after the last NUL are no string.
 */
size_t
mproto_count_strings(const char *data, size_t len)
{
	size_t n = 0;
	const char *p = data, *end = data + len;

	while (p < end && (p = memchr(p, '\0', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/*
 * mproto_strings - point argv at the first n NUL-terminated strings of
 * data (n from mproto_count_strings), then a NULL; the count
 */
size_t
mproto_strings(char *data, size_t len, char **argv, size_t n)
{
	size_t k = 0, off = 0;

	while (k < n && off < len) {
		char *end = memchr(data + off, '\0', len - off);

		if (end == NULL)
			break;
		argv[k++] = data + off;
		off = (size_t)(end - data) + 1;
	}
	argv[k] = NULL;
	return k;
}

/*
 * mproto_argv - the MAIL/RCPT argument list, as libmilter's dec_argv():
 * sized by the count, which the packet size bounds (ESMTP allows any
 * number of parameters, and Postfix passes every one on); NULL when
 * there is no NUL-terminated string at all. The caller frees the array.
 */
char **
mproto_argv(char *data, size_t len, size_t *argc)
{
	size_t n = mproto_count_strings(data, len);
	char **argv;

	if (n == 0)
		return NULL;
	argv = xcalloc(n + 1, sizeof(*argv));
	*argc = mproto_strings(data, len, argv, n);
	return argv;
}

/*
 * mproto_header - a HEADER packet's name and value, as libmilter's
 * dec_arg2(): the packet ends with a NUL, and the value starts after the
 * first NUL found from the second byte on (so an empty name takes the
 * next string as its name's end: "\0a\0b\0" is "" with value "b").
 */
int
mproto_header(char *data, size_t len, char **name, char **value)
{
	size_t i;

	if (len == 0 || data[len - 1] != '\0')
		return MPROTO_BAD;
	for (i = 1; i < len && data[i] != '\0'; i++)
		continue;
	if (i >= len - 1)
		return MPROTO_BAD;
	*name = data;
	*value = data + i + 1;
	return MPROTO_OK;
}

/*
 * mproto_parse_connect - host NUL family [port(2) address NUL], with
 * libmilter's checks (st_connectinfo()): a family byte after the host;
 * for a known family at least one byte after the port, and the packet's
 * last byte a NUL (the address is the string up to the first NUL).
 */
int
mproto_parse_connect(char *data, size_t len, struct mproto_connect *out,
		     const char **why)
{
	char *end = memchr(data, '\0', len);
	size_t off;

	if (end == NULL || (size_t)(end - data) + 1 >= len) {
		*why = end == NULL ? "connect: host name not terminated"
		    : "connect: no address family";
		return MPROTO_BAD;
	}
	out->host = data;
	off = (size_t)(end - data) + 1;
	out->family = data[off++];
	out->port = 0;
	if (out->family == SMFIA_UNKNOWN) {
		out->addr = (char *)"";
		return MPROTO_OK;
	}
	if (off + 2 >= len) {
		*why = "connect: address missing";
		return MPROTO_BAD;
	}
	out->port = ((unsigned)(unsigned char)data[off] << 8)
	    | (unsigned char)data[off + 1];
	off += 2;
	out->addr = data + off;
	if (data[len - 1] != '\0') {
		*why = "connect: address not terminated";
		return MPROTO_BAD;
	}
	if (out->family != SMFIA_UNIX && out->family != SMFIA_INET
	    && out->family != SMFIA_INET6) {
		*why = "connect: unknown address family";
		return MPROTO_BAD;
	}
	return MPROTO_OK;
}

/* mproto_connect_sockaddr - the address as libmilter hands it to xxfi_connect */
int
mproto_connect_sockaddr(const struct mproto_connect *c,
			struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	switch (c->family) {
	case SMFIA_INET: {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)c->port);
		/* inet_aton, as libmilter: "127.1" and "0x7f.1" are addresses */
		return inet_aton(c->addr, &sin->sin_addr) != 0 ? 0 : -1;
	}
	case SMFIA_INET6: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		const char *a = c->addr;

		/* Sendmail writes "IPv6:2001:db8::1"; Postfix the bare form */
		if (strncasecmp(a, "IPv6:", 5) == 0)
			a += 5;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)c->port);
		return inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	case SMFIA_UNIX: {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		sun->sun_family = AF_UNIX;
		if (strlen(c->addr) >= sizeof(sun->sun_path))
			return -1;
		memcpy(sun->sun_path, c->addr, strlen(c->addr) + 1);
		return 0;
	}
	default:
		return -1;
	}
}

/* mproto_parse_optneg - version, actions and protocol steps the MTA offers */
int
mproto_parse_optneg(const char *data, size_t len, uint32_t *version,
		    uint32_t *actions, uint32_t *protocol, const char **why)
{
	uint32_t v[3];

	if (len < MILTER_OPTLEN) {
		*why = "option negotiation packet too short";
		return MPROTO_BAD;
	}
	memcpy(v, data, sizeof(v));
	*version = ntohl(v[0]);
	*actions = ntohl(v[1]);
	*protocol = ntohl(v[2]);
	return MPROTO_OK;
}

/* mproto_out_reserve - room for n more bytes */
static char *
mproto_out_reserve(struct mproto_out *o, size_t n)
{
	if (o->cap - o->len < n) {
		size_t cap = o->cap ? o->cap : 256;

		while (cap - o->len < n)
			cap *= 2;
		o->buf = xrealloc(o->buf, cap);
		o->cap = cap;
	}
	return o->buf + o->len;
}

/* mproto_out_append - append bytes that are whole packets already */
void
mproto_out_append(struct mproto_out *o, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(mproto_out_reserve(o, n), p, n);
	o->len += n;
}

/* mproto_out_packet - append cmd with up to two pieces of data */
void
mproto_out_packet(struct mproto_out *o, char cmd, const void *a, size_t alen,
		  const void *b, size_t blen)
{
	uint32_t n = htonl((uint32_t)(1 + alen + blen));
	char *p = mproto_out_reserve(o, MILTER_LEN_BYTES + 1 + alen + blen);

	memcpy(p, &n, MILTER_LEN_BYTES);
	p[MILTER_LEN_BYTES] = cmd;
	p += MILTER_LEN_BYTES + 1;
	if (alen)
		memcpy(p, a, alen);
	if (blen)
		memcpy(p + alen, b, blen);
	o->len += MILTER_LEN_BYTES + 1 + alen + blen;
}

/* mproto_out_packet_str - [index(4)] s1 NUL [s2 NUL] */
void
mproto_out_packet_str(struct mproto_out *o, char cmd, uint32_t *index,
		      const char *s1, const char *s2)
{
	size_t l1 = s1 ? strlen(s1) + 1 : 0, l2 = s2 ? strlen(s2) + 1 : 0;
	size_t il = index ? MILTER_LEN_BYTES : 0;
	uint32_t n = htonl((uint32_t)(1 + il + l1 + l2));
	char *p = mproto_out_reserve(o, MILTER_LEN_BYTES + 1 + il + l1 + l2);

	memcpy(p, &n, MILTER_LEN_BYTES);
	p[MILTER_LEN_BYTES] = cmd;
	p += MILTER_LEN_BYTES + 1;
	if (index) {
		uint32_t i = htonl(*index);

		memcpy(p, &i, MILTER_LEN_BYTES);
		p += MILTER_LEN_BYTES;
	}
	if (l1)
		memcpy(p, s1, l1);
	if (l2)
		memcpy(p + l1, s2, l2);
	o->len += MILTER_LEN_BYTES + 1 + il + l1 + l2;
}

/* mproto_out_free - release the buffer */
void
mproto_out_free(struct mproto_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}
