/*++
 * NAME
 *	ctl_help 3
 * SUMMARY
 *	postmillctl's help: every command's synopsis and options, in one table
 * DESCRIPTION
 *	"postmillctl -h", "--help" or "help" list the commands; "postmillctl
 *	help COMMAND" and "-h"/"--help" anywhere after a command print that
 *	command's usage. Help goes to stdout with exit status 0 (it was
 *	asked for); a usage error still goes to stderr with status 2.
 *	ctl_help_wanted() says whether an argument list asks for help.
 *--*/
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *command;
	const char *usage;
} ctl_help_table[] = {
	{"config",
	 "usage: postmillctl [-c FILE] config [check [DAEMON...]|-n|-d|example|man SECTION]\n"
	 "       postmillctl [-c FILE] config [-d] NAME...\n"
	 "  (none)       every parameter with its value (secrets as <hidden>)\n"
	 "  -n           only the parameters set to something other than the default\n"
	 "  -d           every default\n"
	 "  check        load and check the file: every error with file and line\n"
	 "  check DAEMON...  also what each daemon's start needs (postmill-DAEMON -n: users,\n"
	 "               socket, files as run_user); DAEMON: dkim, auth, limit, bounce\n"
	 "  example      a commented example file from the parameter tables\n"
	 "  man SECTION  the man page's parameter list (common, dkim, limit, auth, bounce, exporter, events)\n"
	 "  NAME...      each parameter's value (-d: its default) after its doc line\n"},
	{"dkim",
	 "usage: postmillctl dkim keygen --domain D --selector S --dir DIR [--algorithm rsa|ed25519]\n"
	 "                              [--bits N] [--name NAME] [--owner USER] [--force]\n"
	 "       postmillctl dkim check [--domain D]\n"
	 "       postmillctl dkim rotate --domain D [--key NAME] [--selector S] [--name NAME]\n"
	 "                              [--algorithm rsa|ed25519] [--bits N] [--overlap TIME]\n"
	 "       postmillctl dkim rotate --continue [--overlap TIME] [DOMAIN...]\n"
	 "       postmillctl dkim rotate --status [--domain D]\n"
	 "  keygen   make a private key (0600, owned by --owner) and print the DNS record to publish\n"
	 "  check    compare every key of dkim_key_table (or of domain D) with what DNS publishes\n"
	 "  rotate   replace D's key, one step per run: make a new key and selector (print its\n"
	 "           record); once DNS publishes it, sign with both; after the overlap\n"
	 "           (dkim_rotate_overlap, default 7d) retire the old key. Exit 1 while the new\n"
	 "           record is not published. --key: which of D's keys; --continue: advance the\n"
	 "           rotations in progress (of DOMAIN... or all), never start one; --status: the\n"
	 "           phase of each; --now UNIXTIME replaces the clock (tests)\n"},
	{"dmarc",
	 "usage: postmillctl dmarc report [--dry-run DIR] [--day YYYYMMDD] [--resend]\n"
	 "  build and send the DMARC aggregate reports (RFC 9990) of every ended day still in\n"
	 "  Redis (auth_report_record), once per domain and day, through auth_report_sendmail;\n"
	 "  --dry-run writes FILE.xml.gz and FILE.xml.gz.eml into DIR and marks nothing sent;\n"
	 "  --day one day only; --resend a day already sent\n"},
	{"quota",
	 "usage: postmillctl quota show KEY\n"
	 "       postmillctl quota set KEY RULE LIMIT=VALUE...\n"
	 "       postmillctl quota set KEY exempt yes|no\n"
	 "       postmillctl quota reset [--overrides] KEY [RULE]\n"
	 "       postmillctl quota list\n"
	 "  KEY: sasl:LOGIN, sender:ADDRESS, domain:DOMAIN or ip:ADDRESS\n"
	 "  LIMIT=VALUE: WINDOW=N|unlimited|default, rate=N/PERIOD|unlimited|default, burst=N\n"},
	{"spf",
	 "usage: postmillctl spf check [--resolver ADDR[@PORT],...] [--receiver NAME] [--helo-identity]\n"
	 "                             [--now UNIXTIME] CLIENT-IP HELO [MAIL-FROM]\n"
	 "       postmillctl spf batch [options]   (lines \"CLIENT-IP HELO MAIL-FROM\" on stdin)\n"
	 "  evaluate SPF (RFC 7208) against DNS as postmill-auth does, and print the result\n"},
	{"suppress",
	 "usage: postmillctl suppress list SENDER\n"
	 "       postmillctl suppress check SENDER RCPT\n"
	 "       postmillctl suppress add SENDER RCPT [REASON [DURATION]]\n"
	 "       postmillctl suppress remove SENDER RCPT\n"
	 "  SENDER: the sender whose list it is (its domain's or the global list,\n"
	 "          as bounce_suppress_scope says; \"-\" for the global list;\n"
	 "          tenant:NAME for a tenant's own list)\n"},
	{"redis",
	 "usage: postmillctl redis check\n"
	 "  is the configured Redis fit for postmill: reachable, a master, persisting (AOF),\n"
	 "  and not evicting keys (maxmemory-policy noeviction); exit 1 when one is not\n"},
	{"bounces",
	 "usage: postmillctl bounces stats [SENDER]\n"
	 "  bounce and complaint counters recorded by postmill-bounce, overall or for SENDER\n"},
	{"tenant",
	 "usage: postmillctl tenant list|show TENANT|resume TENANT|check [--domain D] TENANT\n"
	 "  TENANT: a key of bounce_tenant_table (a sender domain, .DOMAIN or *.DOMAIN,\n"
	 "          or login:NAME)\n"
	 "  list     every tenant with its bounce domain, state and window counts\n"
	 "  show     a tenant's bounce domain, tag keys, suppression list, rates and\n"
	 "           review/pause state\n"
	 "  resume   lift a review or pause (and clear the window); no reload needed\n"
	 "  check    DNS as receivers see it, one line each: mx, spf, dkim, dmarc (alignment);\n"
	 "           exit 1 when a check fails; --domain: the From domain of a login or\n"
	 "           .DOMAIN tenant (without it, dkim and dmarc are SKIPPED)\n"},
	{"events",
	 "usage: postmillctl events tail [--tenant T] [--count N] [--follow]\n"
	 "  the last N (20) delivery events of postmill-events, oldest first; --follow waits for more\n"},
	{"stats",
	 "usage: postmillctl stats [--tenant T] [--since 24h]\n"
	 "  sent, delivered, deferred, bounced (hard/soft), complained, unsubscribed, opened,\n"
	 "  clicked, suppressed: counts and rates\n"},
};

/* ctl_help_list - the commands, one line each */
void
ctl_help_list(FILE *fp)
{
	fprintf(fp, "usage: postmillctl [-c config] COMMAND ...\n"
		"       postmillctl help [COMMAND]   (or COMMAND --help)\n");
	for (size_t i = 0; i < sizeof(ctl_help_table) / sizeof(ctl_help_table[0]); i++) {
		const char *u = ctl_help_table[i].usage + strlen("usage: ");
		size_t	n = strcspn(u, "\n");

		fprintf(fp, "  %.*s\n", (int)n, u);
	}
}

/* ctl_help_command - one command's usage to stdout: 0, or 2 when unknown */
int
ctl_help_command(const char *command)
{
	for (size_t i = 0; i < sizeof(ctl_help_table) / sizeof(ctl_help_table[0]); i++)
		if (strcmp(ctl_help_table[i].command, command) == 0) {
			fputs(ctl_help_table[i].usage, stdout);
			return 0;
		}
	fprintf(stderr, "postmillctl: %s: no such command\n", command);
	ctl_help_list(stderr);
	return 2;
}

/* ctl_help_wanted - does any argument ask for help */
bool
ctl_help_wanted(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}
