/*
 * mproto_codec_test - the milter protocol engine's framing and decoding:
 * complete, short and malformed packets, NUL-separated arguments, the
 * CONNECT and OPTNEG payloads, and the packets it writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "mproto.h"
#include "tcase.h"

/* pkt - a packet: 4-byte length, command, data (len bytes) */
static size_t
pkt(char *out, char cmd, const char *data, size_t len)
{
	uint32_t n = htonl((uint32_t)(len + 1));

	memcpy(out, &n, 4);
	out[4] = cmd;
	memcpy(out + 5, data, len);
	return 5 + len;
}

/* test_frame - whole, partial, pipelined and malformed input */
static void
test_frame(void **state)
{
	char buf[256];
	struct mproto_packet p;
	const char *why = NULL;
	size_t n;

	(void)state;
	n = pkt(buf, 'L', "From\0 a@b\0", 10);
	n += pkt(buf + n, 'N', "", 0);

	/* every prefix shorter than the first packet is "short" */
	for (size_t cut = 0; cut < 15; cut++) {
		int rc = mproto_frame(buf, cut, 1000, &p, &why);

		if (rc != MPROTO_SHORT)
			tcase_bad("prefix", "%zu bytes: got %d, want short", cut, rc);
	}
	assert_int_equal(mproto_frame(buf, n, 1000, &p, &why), MPROTO_OK);
	assert_int_equal(p.cmd, 'L');
	assert_int_equal(p.len, 10);
	assert_int_equal(p.consumed, 15);
	assert_memory_equal(p.data, "From\0 a@b\0", 10);
	/* the second packet of a pipelined read */
	assert_int_equal(mproto_frame(buf + 15, n - 15, 1000, &p, &why), MPROTO_OK);
	assert_int_equal(p.cmd, 'N');
	assert_int_equal(p.len, 0);

	/* length 0 has no command byte: malformed */
	memset(buf, 0, 8);
	assert_int_equal(mproto_frame(buf, 8, 1000, &p, &why), MPROTO_BAD);
	/* longer than the limit: refused before the data arrives */
	{
		uint32_t big = htonl(1002);

		memcpy(buf, &big, 4);
		buf[4] = 'B';
		assert_int_equal(mproto_frame(buf, 5, 1000, &p, &why), MPROTO_BAD);
		big = htonl(1001);	/* exactly the limit of data bytes */
		memcpy(buf, &big, 4);
		assert_int_equal(mproto_frame(buf, 5, 1000, &p, &why), MPROTO_SHORT);
		/* judged on the 4 length bytes alone: callers size buffers by it */
		big = htonl(0xffffffffU);
		memcpy(buf, &big, 4);
		assert_int_equal(mproto_frame(buf, 4, 1000, &p, &why), MPROTO_BAD);
		assert_int_equal(mproto_frame(buf, 5, (size_t)-1 / 2, &p, &why),
				 MPROTO_SHORT);
	}
	tcase_done();
}

/* test_strings - argument lists, as libmilter's dec_argv() splits them */
static void
test_strings(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len;
		int null;		/* mproto_argv() gives NULL */
		size_t argc;
		const char *last;	/* the last string */
	} cases[] = {
		{ "empty", "", 0, 1, 0, NULL },
		{ "one", "<a@b>\0", 6, 0, 1, "<a@b>" },
		{ "two", "<a@b>\0SIZE=10\0", 14, 0, 2, "SIZE=10" },
		{ "empty strings", "\0\0", 2, 0, 2, "" },
		{ "unterminated", "<a@b>", 5, 1, 0, NULL },
		/* bytes after the last NUL are no string (libmilter drops them) */
		{ "unterminated tail dropped", "a\0b", 3, 0, 1, "a" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char data[32];
		size_t argc = 99;
		char **argv;

		memcpy(data, cases[i].in, cases[i].len);
		argv = mproto_argv(data, cases[i].len, &argc);
		if ((argv == NULL) != cases[i].null) {
			tcase_bad(cases[i].name, "argv %s", argv ? "given" : "NULL");
		} else if (argv != NULL && (argc != cases[i].argc || argv[argc] != NULL
					    || strcmp(argv[argc - 1], cases[i].last) != 0)) {
			tcase_bad(cases[i].name, "argc %zu, want %zu", argc, cases[i].argc);
		}
		free(argv);
	}
	/* issue 13 defect 1: a MAIL FROM with 1,000 ESMTP parameters (it was
	 * refused above 64, and the session dropped): sized by the count */
	{
		static char data[1000 * 12];
		size_t len = 0, argc = 0;
		char **argv;

		for (int k = 0; k < 1000; k++)
			len += (size_t)snprintf(data + len, sizeof(data) - len, "X%d=1%c",
						k, '\0');
		argv = mproto_argv(data, len, &argc);
		if (argv == NULL || argc != 1000 || argv[1000] != NULL
		    || strcmp(argv[999], "X999=1") != 0)
			tcase_bad("1000 parameters", "argc %zu, want 1000", argc);
		free(argv);
	}
	tcase_done();
}

/* test_count_strings - how many NUL-terminated strings a packet holds */
static void
test_count_strings(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len;
		size_t want;
	} cases[] = {
		{ "empty", "", 0, 0 },
		{ "one", "i\0", 2, 1 },
		{ "pair", "i\0Q1\0", 5, 2 },
		{ "empty strings", "\0\0\0", 3, 3 },
		{ "unterminated tail does not count", "i\0Q1", 4, 1 },
		{ "only unterminated", "abc", 3, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = mproto_count_strings(cases[i].in, cases[i].len);

		if (got != cases[i].want)
			tcase_bad(cases[i].name, "got %zu, want %zu", got, cases[i].want);
	}
	/* 100 macro pairs: counted, then split into an argv of that size */
	{
		char data[100 * 12], *argv[201];
		size_t len = 0, argc;

		for (int k = 0; k < 100; k++)
			len += (size_t)snprintf(data + len, sizeof(data) - len, "{m%d}%cv%d%c",
						k, '\0', k, '\0');
		if (mproto_count_strings(data, len) != 200)
			tcase_bad("100 pairs", "got %zu strings, want 200",
				  mproto_count_strings(data, len));
		argc = mproto_strings(data, len, argv, 200);
		if (argc != 200 || argv[200] != NULL || strcmp(argv[199], "v99") != 0)
			tcase_bad("100 pairs", "split: argc %zu, want 200", argc);
	}
	tcase_done();
}

/* test_header - name and value as libmilter's dec_arg2() finds them */
static void
test_header(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len;
		int want;
		const char *hname, *hvalue;
	} cases[] = {
		{ "normal", "Subject\0v\0", 10, MPROTO_OK, "Subject", "v" },
		{ "empty value", "N\0\0", 3, MPROTO_OK, "N", "" },
		{ "three strings", "N\0V\0W\0", 6, MPROTO_OK, "N", "V" },
		/* the search for the name's end starts at the second byte */
		{ "empty name", "\0a\0b\0", 5, MPROTO_OK, "", "b" },
		{ "empty name, one value", "\0v\0", 3, MPROTO_BAD, NULL, NULL },
		{ "no value", "N\0", 2, MPROTO_BAD, NULL, NULL },
		{ "not terminated", "N\0V", 3, MPROTO_BAD, NULL, NULL },
		{ "only NUL", "\0", 1, MPROTO_BAD, NULL, NULL },
		{ "empty", "", 0, MPROTO_BAD, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char data[32], *n = NULL, *v = NULL;
		int rc;

		memcpy(data, cases[i].in, cases[i].len);
		rc = mproto_header(data, cases[i].len, &n, &v);
		if (rc != cases[i].want)
			tcase_bad(cases[i].name, "got %d, want %d", rc, cases[i].want);
		else if (rc == MPROTO_OK && (strcmp(n, cases[i].hname) != 0
					     || strcmp(v, cases[i].hvalue) != 0))
			tcase_bad(cases[i].name, "got \"%s\" \"%s\"", n, v);
	}
	tcase_done();
}

/* test_connect - the CONNECT payload of each family */
static void
test_connect(void **state)
{
	static const struct {
		const char *name;
		const char *in;
		size_t len;
		int want;
		char family;
		unsigned port;
		const char *addr;
		int sa_family;		/* of the sockaddr; -1: none */
	} cases[] = {
		{ "inet", "mx.test\0" "4" "\x00\x19" "192.0.2.1\0", 21, MPROTO_OK,
		  '4', 25, "192.0.2.1", AF_INET },
		{ "inet6", "h\0" "6" "\x01\xbb" "2001:db8::1\0", 17, MPROTO_OK,
		  '6', 443, "2001:db8::1", AF_INET6 },
		{ "inet6 sendmail form", "h\0" "6" "\x00\x19" "IPv6:::1\0", 14,
		  MPROTO_OK, '6', 25, "IPv6:::1", AF_INET6 },
		{ "unix", "localhost\0" "L" "\x00\x00" "/run/x\0", 20, MPROTO_OK,
		  'L', 0, "/run/x", AF_UNIX },
		{ "unknown", "h\0U", 3, MPROTO_OK, 'U', 0, "", -1 },
		{ "bad address", "h\0" "4" "\x00\x19" "300.1.1.1\0", 15, MPROTO_OK,
		  '4', 25, "300.1.1.1", 0 },
		/* inet_aton's forms, as libmilter takes them */
		{ "inet short form", "h\0" "4" "\x00\x19" "1.2.3\0", 11, MPROTO_OK,
		  '4', 25, "1.2.3", AF_INET },
		{ "unknown with tail", "h\0Uxyz", 6, MPROTO_OK, 'U', 0, "", -1 },
		{ "address not last", "h\0" "4" "\x00\x19" "1.2.3.4\0x", 14,
		  MPROTO_BAD, 0, 0, NULL, 0 },
		{ "no family", "h\0", 2, MPROTO_BAD, 0, 0, NULL, 0 },
		{ "host unterminated", "host", 4, MPROTO_BAD, 0, 0, NULL, 0 },
		{ "no port", "h\0" "4" "\x00", 4, MPROTO_BAD, 0, 0, NULL, 0 },
		{ "address unterminated", "h\0" "4" "\x00\x19" "1.2.3.4", 12,
		  MPROTO_BAD, 0, 0, NULL, 0 },
		{ "odd family", "h\0" "X" "\x00\x19" "1.2.3.4\0", 13, MPROTO_BAD,
		  0, 0, NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char data[64];
		struct mproto_connect c;
		struct sockaddr_storage ss;
		const char *why = NULL;
		int rc, sarc;

		memcpy(data, cases[i].in, cases[i].len);
		rc = mproto_parse_connect(data, cases[i].len, &c, &why);
		if (rc != cases[i].want) {
			tcase_bad(cases[i].name, "got %d, want %d", rc, cases[i].want);
			continue;
		}
		if (rc != MPROTO_OK)
			continue;
		if (c.family != cases[i].family || c.port != cases[i].port
		    || strcmp(c.addr, cases[i].addr) != 0)
			tcase_bad(cases[i].name, "got %c %u \"%s\", want %c %u \"%s\"",
				  c.family, c.port, c.addr, cases[i].family,
				  cases[i].port, cases[i].addr);
		sarc = mproto_connect_sockaddr(&c, &ss);
		if (cases[i].sa_family <= 0) {
			if (sarc == 0)
				tcase_bad(cases[i].name, "got a sockaddr, want none");
		} else if (sarc != 0 || ss.ss_family != cases[i].sa_family) {
			tcase_bad(cases[i].name, "sockaddr family %d (rc %d), want %d",
				  ss.ss_family, sarc, cases[i].sa_family);
		} else if (ss.ss_family == AF_INET
			   && ntohs(((struct sockaddr_in *)&ss)->sin_port) != cases[i].port) {
			tcase_bad(cases[i].name, "sockaddr port %u",
				  ntohs(((struct sockaddr_in *)&ss)->sin_port));
		}
	}
	tcase_done();
}

/* test_optneg - the three words, and too short */
static void
test_optneg(void **state)
{
	uint32_t w[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	uint32_t v, a, p;
	const char *why = NULL;

	(void)state;
	assert_int_equal(mproto_parse_optneg((char *)w, 12, &v, &a, &p, &why), MPROTO_OK);
	assert_int_equal(v, 6);
	assert_int_equal(a, 0x1ff);
	assert_int_equal(p, 0x1fffff);
	assert_int_equal(mproto_parse_optneg((char *)w, 11, &v, &a, &p, &why), MPROTO_BAD);
	assert_non_null(why);
}

/* test_out - what the engine writes, read back with the framer */
static void
test_out(void **state)
{
	struct mproto_out o = { 0 };
	struct mproto_packet p;
	const char *why = NULL;
	uint32_t idx = 3;
	size_t off = 0;

	(void)state;
	mproto_out_packet(&o, SMFIR_CONTINUE, NULL, 0, NULL, 0);
	mproto_out_packet_str(&o, SMFIR_INSHEADER, &idx, "DKIM-Signature", "v=1");
	mproto_out_packet_str(&o, SMFIR_REPLYCODE, NULL, "550 5.7.1 no", NULL);
	for (int i = 0; i < 200; i++)	/* growth past the first buffer */
		mproto_out_packet(&o, SMFIR_PROGRESS, NULL, 0, NULL, 0);

	assert_int_equal(mproto_frame(o.buf, o.len, 1000, &p, &why), MPROTO_OK);
	assert_int_equal(p.cmd, 'c');
	assert_int_equal(p.len, 0);
	off += p.consumed;
	assert_int_equal(mproto_frame(o.buf + off, o.len - off, 1000, &p, &why), MPROTO_OK);
	assert_int_equal(p.cmd, 'i');
	assert_int_equal(p.len, 4 + 15 + 4);
	assert_memory_equal(p.data, "\0\0\0\3DKIM-Signature\0v=1\0", 23);
	off += p.consumed;
	assert_int_equal(mproto_frame(o.buf + off, o.len - off, 1000, &p, &why), MPROTO_OK);
	assert_int_equal(p.cmd, 'y');
	assert_string_equal(p.data, "550 5.7.1 no");
	off += p.consumed;
	assert_int_equal(o.len - off, 200 * 5);
	mproto_out_free(&o);
	assert_null(o.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_count_strings),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_optneg),
		cmocka_unit_test(test_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
