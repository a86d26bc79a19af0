/*-------------------------------------------------------------------------
 *
 * repmgr.h
 *	  Shared declarations of bin/repmgr, the command-line tool: the exit
 *	  codes of the documents, the configuration (repmgr.conf) and the
 *	  command-line options, and the prototypes of each module.
 *
 * Every function below main() returns one of the exit codes (or a bool
 * that its caller turns into one); only main() calls exit().
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CLI_H
#define REPMGR_CLI_H

#include "postgres_fe.h"

#include "lib/stringinfo.h"
#include "libpq-fe.h"

/* ----------
 * Exit codes, as documented ("Error codes")
 * ----------
 */
#define SUCCESS					0
#define ERR_BAD_CONFIG			1	/* bad configuration, or a refusal */
#define ERR_BAD_RSYNC			2	/* rsync (or pg_rewind) failed */
#define ERR_NO_RESTART			4	/* a server could not be (re)started */
#define ERR_DB_CON				6	/* could not connect to a database */
#define ERR_DB_QUERY			7	/* a query failed */
#define ERR_PROMOTED			8	/* repmgrd only */
#define ERR_BAD_PASSWORD		9	/* a password was rejected */
#define ERR_STR_OVERFLOW		10	/* a path or string is too long */
#define ERR_FAILOVER_FAIL		11	/* a switchover step did not complete */
#define ERR_BAD_SSH				12	/* ssh to another host failed */
#define ERR_SYS_FAILURE			13	/* a program could not be run */
#define ERR_BAD_BASEBACKUP		14	/* pg_basebackup failed */
#define ERR_MONITORING_FAIL		16	/* repmgrd only */

/* exit codes of "node check --nagios" */
#define NAGIOS_OK				0
#define NAGIOS_WARNING			1
#define NAGIOS_CRITICAL			2
#define NAGIOS_UNKNOWN			3

#define REPMGR_VERSION			"3.1"
#define DEFAULT_WITNESS_PORT	"5499"
#define DEFAULT_DBNAME			"repmgr"
#define DEFAULT_SUPERUSER		"postgres"
#define DEFAULT_TIMEOUT_SECS	60
#define SLOT_NAME_FORMAT		"repmgr_slot_%d"

#ifndef REPMGR_SYSCONFDIR
#define REPMGR_SYSCONFDIR		"/etc"
#endif
#ifndef REPMGR_BINDIR
#define REPMGR_BINDIR			""
#endif

/* ----------
 * Logging (log.c): "[2016-01-07 16:56:46] [NOTICE] message" on stderr
 * ----------
 */
typedef enum LogLevel
{
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_NOTICE,
	LOG_WARNING,
	LOG_ERROR,
	LOG_ALERT,
	LOG_CRIT,
	LOG_EMERG
} LogLevel;

extern bool log_parse_level(const char *name, LogLevel *level);
extern void log_set_level(LogLevel level);
extern void log_set_terse(bool terse);
extern void log_set_verbose(bool verbose);
extern bool log_is_verbose(void);
extern const char *log_level_name(LogLevel level);
extern void log_message(LogLevel level, const char *fmt,...) pg_attribute_printf(2, 3);
extern void log_verbose(LogLevel level, const char *fmt,...) pg_attribute_printf(2, 3);
extern void log_detail(const char *fmt,...) pg_attribute_printf(1, 2);
extern void log_hint(const char *fmt,...) pg_attribute_printf(1, 2);

#define log_debug(...)		log_message(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)		log_message(LOG_INFO, __VA_ARGS__)
#define log_notice(...)		log_message(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)	log_message(LOG_WARNING, __VA_ARGS__)
#define log_error(...)		log_message(LOG_ERROR, __VA_ARGS__)

/* ----------
 * repmgr.conf (config.c).  The settings themselves are one table there.
 * ----------
 */
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

/* ----------
 * Command-line options (repmgr.c)
 * ----------
 */
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
	char	   *recovery_min_apply_delay;
	bool		csv;
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
	bool		checkpoint;
	bool		is_shutdown_cleanly;
	char	   *only_check;		/* node check --role, --slots, ... */

	/* positional arguments */
	char	   *object;
	char	   *verb;
	char	   *extra;
} RuntimeOptions;

typedef struct RepmgrContext
{
	RepmgrConfig *config;
	RuntimeOptions *opts;
	const char *object_word;	/* as typed: "master" or "primary" */
} RepmgrContext;

/* ----------
 * Database access (db.c)
 * ----------
 */
extern PGconn *db_connect(const char *conninfo, int *rc);
extern PGconn *db_connect_quiet(const char *conninfo, int timeout_secs,
								char **error);
extern int	db_query(PGconn *conn, PGresult **res, const char *sql,
					 int nparams, const char *const *params);
extern int	db_command(PGconn *conn, const char *sql, int nparams,
					   const char *const *params);
extern int	db_query_value(PGconn *conn, char **value, const char *sql,
						   int nparams, const char *const *params);
extern int	db_exit_code_for_sqlstate(const char *sqlstate);
extern const char *db_last_sqlstate(void);
extern void hint_force_if_registered(RepmgrContext *ctx, int rc);
extern bool db_is_in_recovery(PGconn *conn, bool *in_recovery);
extern bool db_has_extension(PGconn *conn, bool *installed);

extern char *conninfo_from_options(RuntimeOptions *opts, const char *default_dbname);
extern bool connection_options_given(RuntimeOptions *opts);
extern char *conninfo_get(const char *conninfo, const char *keyword);
extern char *conninfo_set(const char *conninfo, const char *keyword,
						  const char *value);
extern bool conninfo_valid(const char *conninfo, char **error);
extern bool conninfo_is_local(const char *conninfo);
extern char *conninfo_mask(const char *conninfo);
extern char *conninfo_split_secrets(const char *conninfo, char **secrets);
extern char *conninfo_without_secrets(const char *conninfo);

extern char *lsn_format(uint64 lsn);
extern bool lsn_parse(const char *text, uint64 *lsn);
extern char *int_to_string(int value);

/* ----------
 * Running programs, locally or over ssh (exec.c)
 * ----------
 */
extern void append_shell_quoted(StringInfo buf, const char *arg);
extern int	run_command(const char *command, StringInfo output);
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
extern int	pg_ctl_run(RepmgrConfig *config, const char *datadir,
					   const char *action, const char *mode);

/* ----------
 * Data directories (datadir.c; the control file: controlfile.c)
 * ----------
 */
typedef enum DirState
{
	DIR_MISSING,
	DIR_EMPTY,
	DIR_NOT_EMPTY,
	DIR_ERROR
} DirState;

typedef struct ControlInfo
{
	char	   *state;
	bool		clean_shutdown;
	uint64		checkpoint_lsn;
	unsigned int checkpoint_tli;
	uint64		min_recovery_lsn;
	unsigned int min_recovery_tli;
	char	   *system_identifier;
} ControlInfo;

extern DirState datadir_state(const char *path);
extern bool datadir_create(const char *path);
extern bool datadir_empty_out(const char *path);
extern bool postmaster_running(const char *datadir, long *pid);
extern int	controldata_read(RepmgrConfig *config, const char *datadir,
							 ControlInfo *info);
extern int	auto_conf_set(const char *datadir, GucSetting *settings, int n);
extern int	standby_signal_write(const char *datadir);
extern int	config_files_archive(const char *datadir, char **archive_dir);
extern int	config_files_restore(const char *archive_dir, const char *datadir);
extern int	file_copy(const char *from, const char *to);
extern int	file_write(const char *path, const char *contents);
extern int	file_read(const char *path, char **contents);
extern int	conf_file_neutralize(const char *path, const char *const *names);
extern bool path_join(char *buf, size_t size, const char *dir, const char *file);

/* ----------
 * Table output (print.c)
 * ----------
 */
typedef struct Table
{
	int			ncols;
	const char **headers;
	int			nrows;
	int			maxrows;
	char	  **cells;
} Table;

extern Table *table_create(int ncols, const char **headers);
extern void table_add_row(Table *t, const char **values);
extern void table_print(Table *t, FILE *out);
extern void table_print_result(PGresult *res, int ncols, const char **headers,
							   FILE *out);

/* ----------
 * Actions: one file per object
 * ----------
 */
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

/* helpers shared by the actions */
extern int	connect_local_node(RepmgrContext *ctx, PGconn **conn);
extern int	resolve_data_directory(RepmgrContext *ctx, PGconn *conn,
								   char **datadir);
extern int	wait_for_streaming(PGconn *upstream, const char *application_name,
							   int timeout_secs);
extern int	wait_for_replay(PGconn *standby, PGconn *primary, int timeout_secs);
extern int	record_event(PGconn *conn, int node_id, const char *event,
						 bool successful, const char *details);
extern char *slot_name_for(int node_id);
extern double monotonic_seconds(void);
extern void sleep_ms(int ms);

#endif							/* REPMGR_CLI_H */
