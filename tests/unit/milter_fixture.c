/*++
 * NAME
 *	milter_fixture 3
 * SUMMARY
 *	drive a milter's callbacks without an MTA, for unit tests
 * DESCRIPTION
 *	See milter_fixture.h.
 *--*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errlist.h"
#include "milter_fixture.h"
#include "milter_main.h"
#include "mproto.h"
#include "xalloc.h"

static char fixture_dir[64];
static char fixture_paths[8][320];
static unsigned fixture_next;
static char fixture_reply[512];

/* milter_fixture_dir - the test's temp directory, made on first use */
const char *
milter_fixture_dir(void)
{
	if (fixture_dir[0] == '\0') {
		snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/pm-milterfix.XXXXXX");
		if (mkdtemp(fixture_dir) == NULL) {
			perror("mkdtemp");
			abort();
		}
	}
	return fixture_dir;
}

/* milter_fixture_write - a file of the temp directory, mode 0600 */
const char *
milter_fixture_write(const char *name, const char *text)
{
	char *p = fixture_paths[fixture_next++ % 8];
	FILE *fp;
	int fd;

	snprintf(p, sizeof(fixture_paths[0]), "%s/%s", milter_fixture_dir(), name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0
	    || (fp = fdopen(fd, "w")) == NULL) {
		perror(p);
		abort();
	}
	fputs(text, fp);
	fclose(fp);
	return p;
}

/* milter_fixture_cleanup - remove the temp directory and its files */
void
milter_fixture_cleanup(void)
{
	char cmd[128];

	if (fixture_dir[0] == '\0' || getenv("MILTER_FIXTURE_KEEP") != NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fixture_dir);
	fixture_dir[0] = '\0';
}

/* milter_fixture_install - load a configuration text and make it current */
int
milter_fixture_install(const struct milter_app *app, const char *conf_text)
{
	const char *path = milter_fixture_write("postmill.conf", conf_text);
	struct errlist el = {0};
	struct milter_snapshot *snap = milter_snapshot_load(app, path, &el);

	if (snap == NULL) {
		errlist_print(&el, stderr);
		errlist_free(&el);
		return -1;
	}
	errlist_free(&el);
	milter_snapshot_install(app, snap);
	return 0;
}

/* milter_fixture_ctx - a session without a socket */
SMFICTX *
milter_fixture_ctx(void)
{
	SMFICTX *ctx = xcalloc(1, sizeof(*ctx));

	ctx->fd = -1;
	return ctx;
}

/* milter_fixture_reply - the reply text set by a callback, or ""; cleared */
const char *
milter_fixture_reply(SMFICTX *ctx)
{
	snprintf(fixture_reply, sizeof(fixture_reply), "%s", ctx->reply ? ctx->reply : "");
	free(ctx->reply);
	ctx->reply = NULL;
	return fixture_reply;
}

/* milter_fixture_reply_is - reply starts with want; "" wants none */
bool
milter_fixture_reply_is(const char *reply, const char *want)
{
	if (want[0] == '\0')
		return reply[0] == '\0';
	return strncmp(reply, want, strlen(want)) == 0;
}

/* milter_fixture_ctx_free - release a session (after xxfi_close) */
void
milter_fixture_ctx_free(SMFICTX *ctx)
{
	if (ctx == NULL)
		return;
	free(ctx->reply);
	free(ctx);
}
