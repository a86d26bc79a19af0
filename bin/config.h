/*-------------------------------------------------------------------------
 *
 * config.h
 *	  repmgr.conf (config.c): the values read from it, and the server
 *	  settings derived from them.  The settings themselves are one table
 *	  in config.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CONFIG_H
#define REPMGR_CONFIG_H

typedef struct StringList
{
	int			count;
	char	  **items;
} StringList;

typedef struct RepmgrConfig
{
	char	   *config_file;	/* the file read, or NULL if none */
	bool	   *is_set;			/* per setting: given in the file */

	/* the node */
	char	   *cluster;
	int			node_id;
	char	   *node_name;
	char	   *conninfo;
	int			upstream_node;
	bool		use_replication_slots;
	int			priority;
	char	   *location;
	char	   *data_directory;
	char	   *config_directory;	/* postgresql.conf's, if not data_directory */

	/* logging */
	char	   *loglevel;
	char	   *logfacility;
	char	   *logfile;

	/* programs and their options */
	char	   *pg_bindir;
	char	   *pg_ctl_options;
	char	   *pg_basebackup_options;
	char	   *rsync_options;
	char	   *ssh_options;
	StringList	tablespace_mapping;
	char	   *restore_command;

	/* how the server is started, stopped, ... (service.c) */
	char	   *service_start_command;
	char	   *service_stop_command;
	char	   *service_restart_command;
	char	   *service_reload_command;
	char	   *service_promote_command;

	/* checks of "node check" */
	int			replication_lag_warning;
	int			replication_lag_critical;
	int			archive_ready_warning;
	int			archive_ready_critical;

	/* the in-server worker (written as repmgr.* GUCs by clone/witness) */
	char	   *failover;
	char	   *promote_command;
	char	   *follow_command;
	int			monitor_interval_ms;	/* monitor_interval_secs */
	int			master_response_timeout;
	int			reconnect_attempts;
	int			reconnect_interval_ms;
	int			retry_promote_interval_secs;
	int			witness_repl_nodes_sync_interval_secs;
	bool		monitoring_history;
	char	   *event_notification_command;
	char	   *event_notifications;
	char	   *synchronous;
	int			synchronous_count;
} RepmgrConfig;

/* a server setting derived from repmgr.conf, for postgresql.auto.conf */
typedef struct GucSetting
{
	const char *name;
	char	   *value;
	const char *from_key;
} GucSetting;

extern void config_init(RepmgrConfig *config);
extern int	config_load(RepmgrConfig *config, const char *path_given);
extern int	config_require(RepmgrConfig *config, const char *const *keys);
extern int	config_server_settings(RepmgrConfig *config, GucSetting **settings);
extern void config_print_server_settings(void);

#endif							/* REPMGR_CONFIG_H */
