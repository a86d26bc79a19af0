/*-------------------------------------------------------------------------
 *
 * exec.h
 *	  Running other programs from bin/repmgr (exec.c): shell quoting,
 *	  PostgreSQL's programs from pg_bindir, pg_ctl's options and
 *	  deadline, and commands on another host over ssh.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_EXEC_H
#define REPMGR_EXEC_H

#include "lib/stringinfo.h"

#include "config.h"

extern void append_shell_quoted(StringInfo buf, const char *arg);
extern int	run_command(const char *command, StringInfo output);
extern int	command_start_until(const char *command, const char *marker,
								StringInfo output, FILE **pending);
extern int	command_finish(const char *command, FILE *pending);
extern char *pg_program(RepmgrConfig *config, const char *program);
extern char *repmgr_program(RepmgrConfig *config);
extern char *ssh_wrap(RepmgrConfig *config, const char *host,
					  const char *user, const char *remote_command);
extern int	ssh_check(RepmgrConfig *config, const char *host,
					  const char *user);
extern bool host_valid_for_ssh(const char *host);
extern char *conninfo_for_command(const char *conninfo, char **secret_file);
extern void secret_file_remove(char *secret_file);
extern bool pg_ctl_has_log_option(RepmgrConfig *config);
extern int	pg_ctl_timeout(void);
extern int	wait_postmaster_gone(const char *datadir);

#endif							/* REPMGR_EXEC_H */
