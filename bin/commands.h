/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  The commands of bin/repmgr: the command-line options (parsed by
 *	  repmgr.c), the context every command gets, and the entry point of
 *	  each, do_<object>_<action>(), one file per object.
 *
 * Each command returns an exit code of cli.h to main().
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_COMMANDS_H
#define REPMGR_COMMANDS_H

#include "config.h"

/* the command-line options (repmgr.c) */
typedef struct RuntimeOptions
{
	/* connection */
	char	   *host;
	char	   *port;
	char	   *username;
	char	   *dbname;

	/* general */
	char	   *config_file;
	char	   *data_dir;
	char	   *pg_bindir;
	char	   *remote_user;
	char	   *log_level;
	bool		force;
	bool		dry_run;
	bool		verbose;
	bool		terse;
	bool		help;
	bool		version;
	int			timeout;

	/* command-specific */
	bool		fast_checkpoint;
	bool		rsync_only;
	bool		ignore_external_config_files;
	bool		copy_external_config_files;
	char	   *recovery_min_apply_delay;
	bool		csv;
	bool		json;			/* the report as JSON (json.c) */
	int			keep_history;
	char	   *remote_config_file;
	char	   *superuser;
	bool		pwprompt;
	char	   *hba_file;		/* witness create: its pg_hba.conf */
	bool		allow_trust;	/* witness create: accept "trust" there */
	int			node;			/* --node (standby unregister) */
	int			node_id;		/* --node-id (cluster event) */
	char	   *event;
	int			limit;
	int			upstream_node_id;
	bool		force_rewind;
	bool		siblings_follow;
	bool		nagios;
	char	   *action;			/* node service --action */
	bool		list_actions;	/* node service --list-actions */
	bool		checkpoint;
	bool		is_shutdown_cleanly;
	char	   *only_check;		/* node check --role, --slots, ... */

	/* positional arguments */
	char	   *object;
	char	   *verb;
	char	   *extra;
} RuntimeOptions;

/* what each command gets */
typedef struct RepmgrContext
{
	RepmgrConfig *config;
	RuntimeOptions *opts;
	const char *object_word;	/* as typed: "master" or "primary" */
} RepmgrContext;

/* the commands: one file per object */
extern int	do_primary_register(RepmgrContext *ctx);

extern int	do_standby_register(RepmgrContext *ctx);
extern int	do_standby_unregister(RepmgrContext *ctx);
extern int	do_standby_promote(RepmgrContext *ctx);
extern int	do_standby_follow(RepmgrContext *ctx);
extern int	do_standby_clone(RepmgrContext *ctx);
extern int	do_standby_switchover(RepmgrContext *ctx);

extern int	do_witness_create(RepmgrContext *ctx);
extern int	do_witness_register(RepmgrContext *ctx);

extern int	do_cluster_show(RepmgrContext *ctx);
extern int	do_cluster_event(RepmgrContext *ctx);
extern int	do_cluster_cleanup(RepmgrContext *ctx);

extern int	do_node_status(RepmgrContext *ctx);
extern int	do_node_check(RepmgrContext *ctx);
extern int	do_node_rejoin(RepmgrContext *ctx);
extern int	do_node_service(RepmgrContext *ctx);

extern int	do_daemon_status(RepmgrContext *ctx);
extern int	do_daemon_pause(RepmgrContext *ctx);
extern int	do_daemon_unpause(RepmgrContext *ctx);

#endif							/* REPMGR_COMMANDS_H */
