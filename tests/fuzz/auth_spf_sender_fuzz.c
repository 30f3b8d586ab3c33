/*++
 * NAME
 *	auth_spf_sender_fuzz 1
 * SUMMARY
 *	libFuzzer target for postmill-auth's SPF identities (MAIL FROM, HELO)
 * DESCRIPTION
 *	Input: one flags byte, one byte n, n bytes of HELO name (as a C
 *	string: the MTA's macro, cut at a NUL), the rest the MAIL FROM path
 *	(len bytes, NULs included, in a buffer of exactly that size so a read
 *	past it shows). Flags: bits 0-1 pick the output size of
 *	auth_spf_sender() (1, 16, 64, AUTH_SPF_SENDER_MAX), bits 2-4 the SPF
 *	result, bits 5-6 the size of the Received-SPF buffer.
 *
 *	Aborts when auth_spf_sender() breaks its contract (auth_spf.h): out
 *	is always NUL-terminated inside size; "" unless OK; OK means a
 *	non-empty run of the input holding "@" and no control character.
 *	Then builds the struct auth_spf auth_spf_check() would (without
 *	DNS) and aborts when auth_spf_received() returns a length that is
 *	not strlen(), or a value with CR, a control other than the folding
 *	"\n", or a "\n" not followed by white space (RFC 5322 2.2.3): any of
 *	these would let a HELO name or sender inject a header field.
 *	ASan/UBSan catch the rest.
 *--*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_spf.h"

/* fuzz_fail - report and crash */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "auth_spf_sender_fuzz: %s\n", what);
	abort();
}

/* check_sender - auth_spf_sender()'s contract for one output size */
static enum auth_spf_sender
check_sender(const char *path, size_t len, char *out, size_t size)
{
	enum auth_spf_sender st = auth_spf_sender(path, len, out, size);
	size_t n = strnlen(out, size);

	if (n >= size)
		fuzz_fail("out not terminated inside size");
	if (st != AUTH_SPF_SENDER_OK) {
		if (n != 0)
			fuzz_fail("out not empty without OK");
		if (st == AUTH_SPF_SENDER_NULL && (len < 2 || path[0] != '<'))
			fuzz_fail("null path without brackets");
		return st;
	}
	if (n == 0 || memchr(out, '@', n) == NULL)
		fuzz_fail("OK without an @");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			fuzz_fail("control character in the sender");
	if (n > len || memmem(path, len, out, n) == NULL)
		fuzz_fail("sender not taken from the path");
	return st;
}

/* check_field - the Received-SPF value cannot carry a header field */
static void
check_field(const struct auth_spf *s, size_t size)
{
	char *buf = malloc(size);
	int n;

	if (buf == NULL)
		return;
	n = auth_spf_received(s, buf, size);
	if (n < 0) {
		if (buf[0] != '\0')
			fuzz_fail("failed field not empty");
		free(buf);
		return;
	}
	if ((size_t)n != strlen(buf) || (size_t)n >= size)
		fuzz_fail("length is not strlen");
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			if (buf[i + 1] != ' ' && buf[i + 1] != '\t')
				fuzz_fail("line break not before white space");
		} else if (c < 0x20 || c == 0x7f) {
			fuzz_fail("control character in the field");
		}
	}
	free(buf);
}

/* LLVMFuzzerTestOneInput - flags, HELO, MAIL FROM path */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t out_sizes[4] = {1, 16, 64, AUTH_SPF_SENDER_MAX};
	static const size_t field_sizes[4] = {16, 128, 512, 4096};
	struct auth_spf s;
	char *path, out[AUTH_SPF_SENDER_MAX];
	const char *at;
	size_t hlen, plen;
	unsigned flags;
	enum auth_spf_sender st;

	if (size < 2)
		return 0;
	flags = data[0];
	hlen = data[1];
	if (hlen > size - 2)
		hlen = size - 2;
	plen = size - 2 - hlen;
	path = malloc(plen ? plen : 1);
	if (path == NULL)
		return 0;
	memcpy(path, data + 2 + hlen, plen);

	st = check_sender(path, plen, out, out_sizes[flags & 3]);
	if (check_sender(path, plen, out, sizeof(out)) != st && (flags & 3) == 3)
		fuzz_fail("same size, other answer");

	/* what auth_spf_check() builds, with the result DNS would give */
	memset(&s, 0, sizeof(s));
	s.done = true;
	snprintf(s.client_ip, sizeof(s.client_ip), "192.0.2.1");
	snprintf(s.receiver, sizeof(s.receiver), "mx.example.test");
	if (hlen >= sizeof(s.helo))
		hlen = sizeof(s.helo) - 1;
	memcpy(s.helo, data + 2, hlen);
	s.helo[hlen] = '\0';		/* a NUL inside cuts it, as the MTA's would */
	s.helo_checked = s.helo[0] != '\0';
	s.null_sender = auth_spf_sender(path, plen, s.mail_from,
					 sizeof(s.mail_from)) != AUTH_SPF_SENDER_OK;
	s.mfrom.result = (enum spf_result)((flags >> 2) % (SPF_RES_PERMERROR + 1));
	s.heloid.result = s.mfrom.result;
	at = s.null_sender ? NULL : strrchr(s.mail_from, '@');
	snprintf(s.mfrom.domain, sizeof(s.mfrom.domain), "%s",
		 at != NULL ? at + 1 : s.helo);
	snprintf(s.domain, sizeof(s.domain), "%s", s.mfrom.domain);
	check_field(&s, field_sizes[(flags >> 5) & 3]);
	free(path);
	return 0;
}
