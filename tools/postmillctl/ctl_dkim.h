/*++
 * NAME
 *	ctl_dkim 3h
 * SUMMARY
 *	what "dkim keygen", "dkim check" and "dkim rotate" share
 * DESCRIPTION
 *	ctl_dkim_print_txt() prints a TXT record in zone-file syntax.
 *	ctl_dkim_name_ok() says whether a selector is usable.
 *	ctl_dkim_owner() finds who should own a new key file (--owner, else
 *	run_user when we run as root; -1 when not to change).
 *	ctl_dkim_resolver() makes the resolver "dkim check" uses.
 *	ctl_dkim_dnscheck_key() compares one key table entry with DNS and
 *	returns the record we would publish in *rec (caller frees), or NULL
 *	with r->reason set when the key cannot be used.
 *--*/
#ifndef POSTMILL_CTL_DKIM_H
#define POSTMILL_CTL_DKIM_H

#include <stdbool.h>
#include <sys/types.h>

#include "cfg_common.h"
#include "dkim_dnscheck.h"
#include "dkim_tables.h"
#include "dns.h"

void	ctl_dkim_print_txt(const char *selector, const char *domain, const char *rec);
bool	ctl_dkim_name_ok(const char *s);
int	ctl_dkim_owner(const char *owner, const char *config_path, uid_t *uid, gid_t *gid);
struct dns_resolver *ctl_dkim_resolver(const struct common_conf *common);
void	ctl_dkim_dnscheck_key(struct dns_resolver *res, const char *domain,
			      const char *selector, EVP_PKEY *pkey,
			      struct dkim_dnscheck_result *r, char **rec);
void	ctl_dkim_status_word(int status, char *buf, size_t len);
int	ctl_dkim_rotate(int argc, char **argv, const char *config_path);

#endif
