/*++
 * NAME
 *	knot_fixture 3h
 * SUMMARY
 *	a private knotd on loopback for unit tests
 * SYNOPSIS
 *	#include "knot_fixture.h"
 * DESCRIPTION
 *	knot_fixture_start() writes a knot.conf and one zone file per zone
 *	into a fresh mkdtemp(3) directory, starts knotd as a child listening
 *	on 127.0.0.1 (and ::1 with KNOT_FIXTURE_IPV6) on a free port, and
 *	returns once every zone that has text answers its SOA query, or
 *	after KNOT_FIXTURE_START_MS with an error. A zone whose text is NULL
 *	is configured without a file: knotd answers SERVFAIL for it. A name
 *	outside every zone gets REFUSED. kf->servers and kf->servers6 hold
 *	"127.0.0.1@PORT" and "::1@PORT" for dns_resolver_new().
 *
 *	knot_fixture_reload() replaces one zone's file and runs "knotc -b
 *	zone-reload", which returns when the new data is served (knotd
 *	reloads even when the SOA serial did not change).
 *
 *	knot_fixture_stop() sends SIGTERM to the pid it started (SIGKILL
 *	after 3 s), reaps it, and removes the directory unless the
 *	environment has KNOT_FIXTURE_KEEP=1 (to read knotd.log).
 *
 *	knot_fixture_txt() quotes len bytes of TXT data for a zone file,
 *	split into character-strings of at most 255 bytes (RFC 1035 3.3.14)
 *	as in "abc..." "def..."; '"' and '\' are escaped, other bytes outside
 *	printable ASCII become \DDD. The caller frees the string.
 *
 *	knot_fixture_available() says whether knotd and knotc are installed;
 *	knot_fixture_have_ipv6() whether ::1 can be bound. Tests skip
 *	otherwise.
 *
 *	Errors return -1 with a message in err (start) or on stderr. A
 *	failed start leaves no knotd running (kf->pid is 0) and keeps the
 *	directory named in err, to read its knotd.log.
 *	Symbols are prefixed knot_fixture_ because the Makefile links every
 *	non-test file of tests/unit/ into every test binary.
 *--*/
#ifndef POSTMILL_KNOT_FIXTURE_H
#define POSTMILL_KNOT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KNOT_FIXTURE_IPV6	0x01
#define KNOT_FIXTURE_START_MS	5000

struct knot_fixture_zone {
	const char	*name;		/* "example.test" */
	const char	*text;		/* zone file; NULL: no file (SERVFAIL) */
};

struct knot_fixture {
	pid_t		pid;		/* 0: not running */
	unsigned	port;
	bool		ipv6;
	char		dir[64];
	char		conf[96];
	char		servers[32];	/* "127.0.0.1@PORT" */
	char		servers6[32];	/* "::1@PORT" */
};

bool	knot_fixture_available(void);
bool	knot_fixture_have_ipv6(void);
int	knot_fixture_start(struct knot_fixture *kf,
			   const struct knot_fixture_zone *zones, size_t nzones,
			   unsigned flags, char *err, size_t errlen);
int	knot_fixture_reload(struct knot_fixture *kf, const char *zone,
			    const char *text);
void	knot_fixture_stop(struct knot_fixture *kf);
char   *knot_fixture_txt(const char *data, size_t len);

#endif
