/*++
 * NAME
 *	ctl_dkim_rotate 3h
 * SUMMARY
 *	what the files of "postmillctl dkim rotate" share
 * SYNOPSIS
 *	#include "ctl_dkim_rotate.h"
 * DESCRIPTION
 *	Private to ctl_dkim_rotate*.c: the context of one run, filled by
 *	ctl_dkim_rotate() (ctl_dkim_rotate.c, declared in ctl_dkim.h), and
 *	one prototype group per file, each named by its file. Functions
 *	that return text return it allocated: the caller frees it.
 *--*/
#ifndef POSTMILL_CTL_DKIM_ROTATE_H
#define POSTMILL_CTL_DKIM_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cfg_common.h"
#include "dkim_conf.h"
#include "dkim_rotate.h"
#include "dkim_tables.h"
#include "dns.h"

struct ctl_dkim_rotate_ctx {
	const char     *config_path;
	const struct common_conf *common;
	const struct dkim_conf *conf;
	struct dkim_tables_options topt;
	const char     *kt_path;	/* key table without file:/refile: */
	const char     *st_path;	/* signing table, the same */
	char	       *state_path;	/* KEYTABLE.rotation */
	struct dkim_rotate_state state;
	long long	now;		/* Unix seconds */
	long long	overlap;	/* seconds */
	struct dns_resolver *res;	/* made on first use */
};

/* what "start" may be told */
struct ctl_dkim_rotate_start_opts {
	const char     *key;
	const char     *selector;
	const char     *name;
	const char     *algorithm;
	long		bits;
};

/* ctl_dkim_rotate_io.c */
enum ctl_dkim_rotate_io_which {
	CTL_DKIM_ROTATE_IO_KEYTAB, CTL_DKIM_ROTATE_IO_SIGNTAB, CTL_DKIM_ROTATE_IO_STATE
};

char   *ctl_dkim_rotate_io_slurp(const char *path, size_t *len, struct stat *st);
char   *ctl_dkim_rotate_io_read_table(const char *path, size_t *len, struct stat *st);
struct dkim_tables *ctl_dkim_rotate_io_load(const struct ctl_dkim_rotate_ctx *c,
					    const char *key_table,
					    const char *signing_table, const char *what);
void	ctl_dkim_rotate_io_fsync_dir(const char *path);
int	ctl_dkim_rotate_io_replace(const struct ctl_dkim_rotate_ctx *c, const char *path,
				   const struct stat *orig, const char *text, size_t len,
				   enum ctl_dkim_rotate_io_which which);
int	ctl_dkim_rotate_io_replace_free(const struct ctl_dkim_rotate_ctx *c, const char *path,
					const struct stat *orig, char *edit, size_t len,
					enum ctl_dkim_rotate_io_which which);
int	ctl_dkim_rotate_io_save_state(struct ctl_dkim_rotate_ctx *c);

/* ctl_dkim_rotate_reload.c */
void	ctl_dkim_rotate_reload(const struct ctl_dkim_rotate_ctx *c);

/* ctl_dkim_rotate_key.c */
int	ctl_dkim_rotate_key_spki(EVP_PKEY *pkey, char *out, size_t outlen);
bool	ctl_dkim_rotate_key_new_ok(const struct dkim_rotate_rec *r,
				   const struct dkim_tables_key *k, const char **why);
int	ctl_dkim_rotate_key_write(const struct ctl_dkim_rotate_ctx *c, EVP_PKEY *pkey,
				  const char *path);

/* ctl_dkim_rotate_start.c */
int	ctl_dkim_rotate_start(struct ctl_dkim_rotate_ctx *c, const char *domain,
			      const struct ctl_dkim_rotate_start_opts *o);

/* ctl_dkim_rotate_steps.c */
int	ctl_dkim_rotate_steps_publish(struct ctl_dkim_rotate_ctx *c, struct dkim_rotate_rec *r);
int	ctl_dkim_rotate_steps_retire(struct ctl_dkim_rotate_ctx *c, struct dkim_rotate_rec *r);

#endif
