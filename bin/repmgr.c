/*-------------------------------------------------------------------------
 *
 * repmgr.c
 *	  main() of bin/repmgr: the command line (options, then "OBJECT
 *	  ACTION"), the table of commands with their help, reading
 *	  repmgr.conf, and the one place where an action's return code becomes
 *	  the exit code of the program.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>

#include "getopt_long.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "log.h"

typedef int (*ActionFn) (RepmgrContext *ctx);

typedef struct Command
{
	const char *object;
	const char *verb;
	ActionFn	fn;
	const char *const *required;	/* settings repmgr.conf must give */
	const char *summary;
	const char *help;
} Command;

static const char *const need_node[] = {"cluster", "node", "node_name", "conninfo", NULL};
static const char *const need_conninfo[] = {"conninfo", NULL};
static const char *const need_id_conninfo[] = {"node", "conninfo", NULL};
static const char *const need_nothing[] = {NULL};

static const Command commands[] = {
	{"primary", "register", do_primary_register, need_node,
		"registers the primary in a cluster (alias: master register)",
		"Registers this server as the primary of the cluster; creates the repmgr\n"
		"extension in the database of \"conninfo\" if needed.  Run it before any\n"
		"standby is registered.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node (cluster, node, node_name,\n"
		"                           conninfo; priority, location, use_replication_slots)\n"
		"  -F, --force              overwrite an existing record of this node\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "register", do_standby_register, need_node,
		"registers a standby in a cluster",
		"Registers this standby (the server of \"conninfo\", in recovery) with the\n"
		"primary; upstream_node in repmgr.conf names the upstream of a cascaded\n"
		"standby, use_replication_slots records its slot repmgr_slot_<node>.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  -F, --force              overwrite an existing record of this node\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "unregister", do_standby_unregister, need_conninfo,
		"unregisters a standby",
		"Removes a standby's record from the metadata; the server itself and its\n"
		"replication are not affected.  With --node, any node can be unregistered\n"
		"from any running node, also when it is down.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of the node to connect to\n"
		"  --node=ID                node to unregister (default: this node)\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "clone", do_standby_clone, need_nothing,
		"creates a new standby",
		"Clones the data directory of the primary (or of the upstream standby given\n"
		"for cascading) with pg_basebackup, or rsync over ssh with --rsync-only, and\n"
		"makes it a standby: standby.signal, and in postgresql.auto.conf\n"
		"primary_conninfo (application_name = node_name), primary_slot_name,\n"
		"repmgr.node_id and the repmgr.* settings of the in-server worker given in\n"
		"repmgr.conf (\"repmgr --help\" lists them: failover, monitor_interval_secs,\n"
		"synchronous, synchronous_count, ...).\n"
		"Configuration files outside the upstream's data directory: a node with a\n"
		"configuration of its own outside its data directory (a cluster of\n"
		"postgresql-common, or config_directory) keeps it; a self-contained one\n"
		"gets them copied into its data directory.  A clone that fails removes what\n"
		"it wrote.  Records the event standby_clone.\n"
		"\n"
		"Usage:\n"
		"  repmgr -h UPSTREAM -U USER -d DBNAME -D DATADIR [-f repmgr.conf] standby clone [UPSTREAM]\n"
		"\n"
		"Options:\n"
		"  -h, -p, -U, -d           connection to the node to clone\n"
		"  -D, --data-dir=DIR       destination (default: data_directory of repmgr.conf,\n"
		"                           else the same path as on the upstream)\n"
		"  -f, --config-file=PATH   repmgr.conf of the new node (optional)\n"
		"  -c, --fast-checkpoint    force a fast checkpoint on the upstream\n"
		"  -r, --rsync-only         use rsync --checksum (over ssh to a remote upstream)\n"
		"  --ignore-external-config-files\n"
		"                           do not copy configuration files located outside\n"
		"                           the upstream's data directory\n"
		"  --copy-external-config-files\n"
		"                           copy them over this node's own configuration\n"
		"                           directory (keeping its paths, port and name)\n"
		"  --recovery-min-apply-delay=VALUE\n"
		"                           set recovery_min_apply_delay on the new standby\n"
		"  -R, --remote-user=USER   user for ssh/rsync to the upstream host\n"
		"  -F, --force              clone into a non-empty directory (emptied first,\n"
		"                           or updated in place with --rsync-only)\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "promote", do_standby_promote, need_id_conninfo,
		"promotes a specific standby to primary",
		"Promotes this standby (repmgr.promote()): refused while the primary is\n"
		"running, and while another standby has received more WAL (unless -F).\n"
		"The other standbys then run \"standby follow\" (or their workers re-point\n"
		"them).\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  -F, --force              promote even if another standby has more WAL\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "follow", do_standby_follow, need_id_conninfo,
		"makes standby follow a new primary",
		"Points this standby at the running primary, or at the node given with\n"
		"--upstream-node-id or -h/-p/-d (cascading), by repmgr.follow(): ALTER SYSTEM\n"
		"and a reload, no restart.  The server is restarted only if it does not\n"
		"stream from the new upstream within --timeout seconds.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --upstream-node-id=ID    node to follow (default: the primary)\n"
		"  -h, -p, -U, -d           or: the server to follow\n"
		"  --timeout=SECS           how long to wait for streaming (default: 60)\n"
		"  --dry-run                check the prerequisites only\n"},
	{"standby", "switchover", do_standby_switchover, need_id_conninfo,
		"switches this standby with the current primary",
		"Run on the standby to promote.  Pauses the in-server workers cluster-wide,\n"
		"stops the primary cleanly, waits until this standby has received its\n"
		"shutdown checkpoint, promotes it, and restarts the old primary as its\n"
		"standby (\"node rejoin\", with pg_rewind only when needed); unpauses the\n"
		"workers at the end, also on failure.  Steps on the primary's host run\n"
		"\"repmgr -f REMOTE_CONFIG node ...\" over ssh, or locally when the primary's\n"
		"conninfo uses a Unix socket of this host.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH          repmgr.conf of this node\n"
		"  -C, --remote-config-file=PATH   repmgr.conf on the current primary\n"
		"                                  (default: the same path as -f)\n"
		"  -R, --remote-user=USER          user for ssh to the primary's host\n"
		"  --siblings-follow               the other standbys of the old primary\n"
		"                                  follow the new primary\n"
		"  --timeout=SECS                  how long to wait for each step (default: 60)\n"
		"  --dry-run                       check the prerequisites only\n"},
	{"witness", "create", do_witness_create, need_node,
		"creates a new witness server",
		"Creates the witness as a separate PostgreSQL instance: initdb in -D, port\n"
		"from conninfo (default 5499), repmgr preloaded with repmgr.node_id, a\n"
		"superuser (-S) and the repmgr user of conninfo, the database and the\n"
		"extension; then registers it with the primary given by -h/-p/-U/-d, which\n"
		"copies the metadata.  Records the event witness_create.\n"
		"\n"
		"Authentication: by default the witness's pg_hba.conf allows local\n"
		"connections by peer authentication (the operating system user running\n"
		"this command may connect as the superuser and the repmgr user) and\n"
		"connections over TCP with scram-sha-256 passwords (set with -P).\n"
		"--hba-file installs a pg_hba.conf of your own instead; one with \"trust\"\n"
		"is refused unless --allow-trust is given.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of the witness\n"
		"  -D, --data-dir=DIR       data directory of the witness\n"
		"  -h, -p, -U, -d           connection to the primary\n"
		"  -S, --superuser=USER     superuser of the witness (default: postgres)\n"
		"  -P, --pwprompt           prompt for the password of the users\n"
		"  --hba-file=PATH          pg_hba.conf for the witness (default: peer and\n"
		"                           scram-sha-256, see above)\n"
		"  --allow-trust            accept \"trust\" in the pg_hba.conf of --hba-file\n"
		"  --dry-run                check the prerequisites only\n"},
	{"witness", "register", do_witness_register, need_node,
		"registers an existing witness server",
		"Registers the witness instance of \"conninfo\" with the primary given by\n"
		"-h/-p/-U/-d and copies the metadata (repmgr.witness_register()).\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of the witness\n"
		"  -h, -p, -U, -d           connection to the primary\n"
		"  -F, --force              overwrite an existing record of this node\n"
		"  --dry-run                check the prerequisites only\n"},
	{"cluster", "show", do_cluster_show, need_conninfo,
		"displays information about cluster nodes",
		"Polls every registered node (from the node of conninfo, in parallel) and\n"
		"shows its role, status, upstream, location and connection string.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --csv                    one line per node: id,status (0 = primary,\n"
		"                           1 = standby, 2 = witness, -1 = not running)\n"
		"  --json                   a JSON array, one object per node\n"},
	{"cluster", "event", do_cluster_event, need_conninfo,
		"displays recorded events",
		"Shows the events recorded in repl_events, newest first.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --event=EVENT            only this event\n"
		"  --node-id=ID             only events of this node\n"
		"  --limit=N                at most N events (default: 20)\n"
		"  --json                   a JSON array, one object per event\n"},
	{"cluster", "cleanup", do_cluster_cleanup, need_conninfo,
		"prunes or truncates monitoring history",
		"Deletes monitoring history (repl_monitor) older than -k days (all of it\n"
		"by default); suitable for cron.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  -k, --keep-history=DAYS  days of history to keep (default: 0)\n"
		"  --dry-run                show what would be deleted\n"},
	{"node", "status", do_node_status, need_nothing,
		"displays the state of this node",
		"Shows the facts of this node (repmgr.node_status()): role, upstream,\n"
		"timeline, lag, WAL receiver, archiving, replication connections and slots.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --csv                    \"key\",\"value\" lines\n"
		"  --json                   one JSON object\n"
		"  --is-shutdown-cleanly    for a stopped server (-D or data_directory):\n"
		"                           print --state=SHUTDOWN|UNCLEAN_SHUTDOWN|RUNNING\n"
		"                           and --last-checkpoint-lsn\n"},
	{"node", "check", do_node_check, need_conninfo,
		"checks the health of this node",
		"Runs the checks of repmgr.node_check(): role, upstream, replication lag,\n"
		"WAL files waiting to be archived, downstream nodes, replication slots,\n"
		"worker.  Thresholds: replication_lag_warning/critical (seconds) and\n"
		"archive_ready_warning/critical (files) in repmgr.conf.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --nagios                 Nagios plugin output; exit 0 OK, 1 WARNING,\n"
		"                           2 CRITICAL, 3 UNKNOWN\n"
		"  --json                   one JSON object: the worst status and each check\n"
		"  --role, --upstream, --replication-lag, --archive-ready, --downstream,\n"
		"  --slots, --synchronous, --worker\n"
		"                           only this check\n"},
	{"node", "rejoin", do_node_rejoin, need_node,
		"brings a stopped node back as a standby of the primary",
		"Run on the host of a stopped node (typically an old primary): writes\n"
		"standby.signal and primary_conninfo for the current primary, starts the\n"
		"server and attaches it (repmgr.follow()).  If its timeline has diverged\n"
		"from the primary's, it is refused unless --force-rewind, which runs\n"
		"pg_rewind (keeping the node's configuration files).\n"
		"\n"
		"Usage:\n"
		"  repmgr -f repmgr.conf -d 'CONNINFO OF A RUNNING NODE' [-D DATADIR] node rejoin\n"
		"\n"
		"Options:\n"
		"  -d, -h, -p, -U           connection to a running node of the cluster\n"
		"  --upstream-node-id=ID    the primary to attach to (default: the active\n"
		"                           primary of the metadata on that node)\n"
		"  -D, --data-dir=DIR       data directory (default: data_directory)\n"
		"  --force-rewind           run pg_rewind when the timelines diverged\n"
		"  --timeout=SECS           how long to wait for streaming (default: 60)\n"
		"  --dry-run                check the prerequisites and say what would be done\n"},
	{"node", "service", do_node_service, need_nothing,
		"starts, stops or restarts this node's server",
		"Runs the command of the action for this node's server: service_ACTION_command\n"
		"of repmgr.conf, else pg_ctlcluster for a cluster of postgresql-common, else\n"
		"pg_ctl (with pg_ctl_options; a log file: -l there, else log/startup.log in\n"
		"the data directory); used by \"standby switchover\" on the other host.\n"
		"\n"
		"Options:\n"
		"  --action=ACTION          start, stop, restart, reload, promote or status\n"
		"  --list-actions           show the command of each action (of --action's)\n"
		"  --checkpoint             CHECKPOINT before stopping\n"
		"  --is-shutdown-cleanly    after a stop, print the line of \"node status\n"
		"                           --is-shutdown-cleanly\"\n"
		"  -D, --data-dir=DIR       data directory (default: data_directory, or the\n"
		"                           running server's)\n"
		"  --dry-run                show the command only\n"},
	{"daemon", "status", do_daemon_status, need_conninfo,
		"shows the in-server workers of all nodes",
		"Shows, for every node, the state of its in-server monitoring worker\n"
		"(repmgr.daemon_status()).\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --json                   a JSON array, one object per node\n"},
	{"daemon", "pause", do_daemon_pause, need_conninfo,
		"pauses the in-server workers of all nodes",
		"Pauses the workers of every node (repmgr.daemon_pause()): they keep\n"
		"monitoring but take no failover action.\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --dry-run                list the nodes only\n"},
	{"daemon", "unpause", do_daemon_unpause, need_conninfo,
		"unpauses the in-server workers of all nodes",
		"Unpauses the workers of every node (repmgr.daemon_unpause()).\n"
		"\n"
		"Options:\n"
		"  -f, --config-file=PATH   repmgr.conf of this node\n"
		"  --dry-run                list the nodes only\n"},
};

/* long options without a short form */
enum
{
	OPT_HELP = 1000,
	OPT_DRY_RUN,
	OPT_IGNORE_EXTERNAL,
	OPT_RECOVERY_MIN_APPLY_DELAY,
	OPT_CSV,
	OPT_NODE,
	OPT_NODE_ID,
	OPT_EVENT,
	OPT_LIMIT,
	OPT_UPSTREAM_NODE_ID,
	OPT_FORCE_REWIND,
	OPT_SIBLINGS_FOLLOW,
	OPT_NAGIOS,
	OPT_ACTION,
	OPT_CHECKPOINT,
	OPT_IS_SHUTDOWN_CLEANLY,
	OPT_TIMEOUT,
	OPT_CHECK_ROLE,
	OPT_CHECK_UPSTREAM,
	OPT_CHECK_LAG,
	OPT_CHECK_ARCHIVE,
	OPT_CHECK_DOWNSTREAM,
	OPT_CHECK_SLOTS,
	OPT_CHECK_SYNCHRONOUS,
	OPT_CHECK_WORKER,
	OPT_HBA_FILE,
	OPT_ALLOW_TRUST,
	OPT_COPY_EXTERNAL,
	OPT_LIST_ACTIONS,
	OPT_JSON
};

static const struct option long_options[] = {
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, 'V'},
	{"log-level", required_argument, NULL, 'L'},
	{"verbose", no_argument, NULL, 'v'},
	{"terse", no_argument, NULL, 't'},
	{"dbname", required_argument, NULL, 'd'},
	{"host", required_argument, NULL, 'h'},
	{"port", required_argument, NULL, 'p'},
	{"username", required_argument, NULL, 'U'},
	{"pg_bindir", required_argument, NULL, 'b'},
	{"data-dir", required_argument, NULL, 'D'},
	{"pgdata", required_argument, NULL, 'D'},
	{"config-file", required_argument, NULL, 'f'},
	{"remote-user", required_argument, NULL, 'R'},
	{"force", no_argument, NULL, 'F'},
	{"wait", no_argument, NULL, 'W'},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"fast-checkpoint", no_argument, NULL, 'c'},
	{"rsync-only", no_argument, NULL, 'r'},
	{"ignore-external-config-files", no_argument, NULL, OPT_IGNORE_EXTERNAL},
	{"copy-external-config-files", no_argument, NULL, OPT_COPY_EXTERNAL},
	{"list-actions", no_argument, NULL, OPT_LIST_ACTIONS},
	{"recovery-min-apply-delay", required_argument, NULL, OPT_RECOVERY_MIN_APPLY_DELAY},
	{"csv", no_argument, NULL, OPT_CSV},
	{"json", no_argument, NULL, OPT_JSON},
	{"keep-history", required_argument, NULL, 'k'},
	{"remote-config-file", required_argument, NULL, 'C'},
	{"superuser", required_argument, NULL, 'S'},
	{"pwprompt", no_argument, NULL, 'P'},
	{"hba-file", required_argument, NULL, OPT_HBA_FILE},
	{"allow-trust", no_argument, NULL, OPT_ALLOW_TRUST},
	{"node", required_argument, NULL, OPT_NODE},
	{"node-id", required_argument, NULL, OPT_NODE_ID},
	{"event", required_argument, NULL, OPT_EVENT},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"upstream-node-id", required_argument, NULL, OPT_UPSTREAM_NODE_ID},
	{"force-rewind", no_argument, NULL, OPT_FORCE_REWIND},
	{"siblings-follow", no_argument, NULL, OPT_SIBLINGS_FOLLOW},
	{"nagios", no_argument, NULL, OPT_NAGIOS},
	{"action", required_argument, NULL, OPT_ACTION},
	{"checkpoint", no_argument, NULL, OPT_CHECKPOINT},
	{"is-shutdown-cleanly", no_argument, NULL, OPT_IS_SHUTDOWN_CLEANLY},
	{"role", no_argument, NULL, OPT_CHECK_ROLE},
	{"upstream", no_argument, NULL, OPT_CHECK_UPSTREAM},
	{"replication-lag", no_argument, NULL, OPT_CHECK_LAG},
	{"archive-ready", no_argument, NULL, OPT_CHECK_ARCHIVE},
	{"downstream", no_argument, NULL, OPT_CHECK_DOWNSTREAM},
	{"slots", no_argument, NULL, OPT_CHECK_SLOTS},
	{"synchronous", no_argument, NULL, OPT_CHECK_SYNCHRONOUS},
	{"worker", no_argument, NULL, OPT_CHECK_WORKER},
	{NULL, 0, NULL, 0}
};

static void
usage(void)
{
	int			i;

	printf("repmgr: replication management tool for PostgreSQL\n\n");
	printf("Usage:\n");
	printf("    repmgr [OPTIONS] primary  {register}\n");
	printf("    repmgr [OPTIONS] master   {register}\n");
	printf("    repmgr [OPTIONS] standby  {register|unregister|clone|promote|follow|switchover}\n");
	printf("    repmgr [OPTIONS] witness  {create|register}\n");
	printf("    repmgr [OPTIONS] cluster  {show|event|cleanup}\n");
	printf("    repmgr [OPTIONS] node     {status|check|rejoin|service}\n");
	printf("    repmgr [OPTIONS] daemon   {status|pause|unpause}\n");
	printf("\n    repmgr OBJECT ACTION --help shows the help of one command.\n");
	printf("\nGeneral options:\n");
	printf("  -?, --help                          show this help, then exit\n");
	printf("  -V, --version                       output version information, then exit\n");
	printf("\nLogging options:\n");
	printf("  -L, --log-level=LEVEL               set log level (overrides configuration file;\n"
		   "                                        default: NOTICE)\n");
	printf("  -v, --verbose                       display additional log output (useful for debugging)\n");
	printf("  -t, --terse                         don't display hints and other non-critical output\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME                 database to connect to, or a connection string\n"
		   "                                        (default: \"%s\")\n", DEFAULT_DBNAME);
	printf("  -h, --host=HOSTNAME                 database server host or socket directory\n");
	printf("  -p, --port=PORT                     database server port\n");
	printf("  -U, --username=USERNAME             database user name to connect as\n");
	printf("\nGeneral configuration options:\n");
	printf("  -b, --pg_bindir=PATH                path to PostgreSQL binaries (default: \"%s\")\n",
		   REPMGR_BINDIR);
	printf("  -D, --data-dir=DIR                  data directory of the node\n");
	printf("  -f, --config-file=PATH              path to the configuration file\n");
	printf("  -R, --remote-user=USERNAME          user name for ssh and rsync to other hosts\n");
	printf("  -F, --force                         force potentially dangerous operations to happen\n");
	printf("  --dry-run                           check prerequisites and show what would be done\n");
	printf("  --timeout=SECS                      wait at most this long for a server to stop,\n"
		   "                                        start or stream (default: %d)\n",
		   DEFAULT_TIMEOUT_SECS);
	printf("\nCommand-specific options:\n");
	printf("  -c, --fast-checkpoint               (standby clone) force fast checkpoint\n");
	printf("  -r, --rsync-only                    (standby clone) use only rsync, not pg_basebackup\n");
	printf("  --ignore-external-config-files      (standby clone) don't copy configuration files located\n"
		   "                                        outside the data directory\n");
	printf("  --copy-external-config-files        (standby clone) copy them over this node's own\n"
		   "                                        configuration directory\n");
	printf("  --recovery-min-apply-delay=VALUE    (standby clone) set recovery_min_apply_delay\n");
	printf("  --upstream-node-id=ID               (standby follow, node rejoin) node to follow (default: the primary)\n");
	printf("  -C, --remote-config-file=PATH       (standby switchover) path to the configuration file on\n"
		   "                                        the current primary\n");
	printf("  --siblings-follow                   (standby switchover) the other standbys follow the\n"
		   "                                        new primary\n");
	printf("  --node=ID                           (standby unregister) node to unregister\n");
	printf("  -S, --superuser=USERNAME            (witness create) superuser of the witness\n"
		   "                                        (default: %s)\n", DEFAULT_SUPERUSER);
	printf("  -P, --pwprompt                      (witness create) prompt for the password of the users\n");
	printf("  --hba-file=PATH                     (witness create) pg_hba.conf of the witness\n"
		   "                                        (default: peer locally, scram-sha-256 over TCP)\n");
	printf("  --allow-trust                       (witness create) accept \"trust\" in --hba-file\n");
	printf("  --csv                               (cluster show, node status) output in CSV mode\n");
	printf("  --json                              (cluster show, cluster event, node status, node check,\n"
		   "                                        daemon status) output as JSON (keys: see README.md)\n");
	printf("  --event=EVENT                       (cluster event) only this event\n");
	printf("  --node-id=ID                        (cluster event) only events of this node\n");
	printf("  --limit=N                           (cluster event) at most N events (default: 20)\n");
	printf("  -k, --keep-history=DAYS             (cluster cleanup) retain this many days of history\n");
	printf("  --nagios                            (node check) Nagios output and exit codes\n");
	printf("  --force-rewind                      (node rejoin) run pg_rewind if the timelines diverged\n");
	printf("  --is-shutdown-cleanly               (node status, node service) did the stopped server shut down cleanly\n");
	printf("  --action=ACTION                     (node service) start, stop, restart, reload, promote or status\n");
	printf("  --list-actions                      (node service) show the command of each action\n");
	printf("  --checkpoint                        (node service) CHECKPOINT before stopping\n");
	printf("\nrepmgr performs some tasks like clone a node, promote it or making follow\n"
		   "another node and then exits.\n");
	printf("COMMANDS:\n");
	for (i = 0; i < lengthof(commands); i++)
	{
		char	   *name = psprintf("%s %s%s", commands[i].object, commands[i].verb,
									strcmp(commands[i].verb, "clone") == 0 ? " [node]" : "");

		printf(" %-22s - %s\n", name, commands[i].summary);
	}
	config_print_server_settings();
	printf("\nConfiguration: repmgr.conf (-f, ./repmgr.conf, /etc/repmgr.conf, %s/repmgr.conf);\n"
		   "see repmgr.conf.sample.  Exit codes: see README.md.\n", REPMGR_SYSCONFDIR);
}

static void
command_help(const Command *c)
{
	printf("repmgr %s %s: %s\n\n", c->object, c->verb, c->summary);
	if (strstr(c->help, "Usage:") == NULL)
		printf("Usage:\n  repmgr [OPTIONS] %s %s\n\n", c->object, c->verb);
	printf("%s", c->help);
	printf("\nGeneral options (-L, -v, -t, -b, ...): see \"repmgr --help\".\n");
}

static const Command *
command_find(const char *object, const char *verb)
{
	int			i;

	if (pg_strcasecmp(object, "master") == 0)
		object = "primary";
	for (i = 0; i < lengthof(commands); i++)
		if (pg_strcasecmp(commands[i].object, object) == 0 &&
			pg_strcasecmp(commands[i].verb, verb) == 0)
			return &commands[i];
	return NULL;
}

static bool
parse_int_option(const char *name, const char *value, int min, int *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > INT_MAX)
	{
		log_error("invalid value for %s: \"%s\" (an integer of at least %d is expected)",
				  name, value, min);
		return false;
	}
	*result = (int) v;
	return true;
}

static void
set_only_check(RuntimeOptions *opts, const char *check, bool *ok)
{
	if (opts->only_check != NULL && strcmp(opts->only_check, check) != 0)
	{
		log_error("only one of --role, --upstream, --replication-lag, --archive-ready, --downstream, --slots, --worker may be given");
		*ok = false;
	}
	opts->only_check = pg_strdup(check);
}

/* parse argv into opts; false on a bad option (already reported) */
static bool
parse_options(int argc, char **argv, RuntimeOptions *opts)
{
	int			c;
	int			optindex;
	bool		ok = true;
	int			i;
	int			j;

	/* "-?" is help, wherever it is; getopt would take it for an error */
	for (i = 1, j = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "-?") == 0)
			opts->help = true;
		else
			argv[j++] = argv[i];
	}
	argc = j;

	while ((c = getopt_long(argc, argv, "Vd:h:p:U:b:D:f:R:FWL:vtcrk:C:S:P",
							long_options, &optindex)) != -1)
	{
		switch (c)
		{
			case OPT_HELP:
				opts->help = true;
				break;
			case 'V':
				opts->version = true;
				break;
			case 'd':
				opts->dbname = pg_strdup(optarg);
				break;
			case 'h':
				opts->host = pg_strdup(optarg);
				break;
			case 'p':
				opts->port = pg_strdup(optarg);
				if (!parse_int_option("-p/--port", optarg, 1, &optindex))
					ok = false;
				break;
			case 'U':
				opts->username = pg_strdup(optarg);
				break;
			case 'b':
				opts->pg_bindir = pg_strdup(optarg);
				break;
			case 'D':
				opts->data_dir = pg_strdup(optarg);
				break;
			case 'f':
				opts->config_file = pg_strdup(optarg);
				break;
			case 'R':
				opts->remote_user = pg_strdup(optarg);
				break;
			case 'F':
				opts->force = true;
				break;
			case 'W':
				/* accepted for compatibility: commands wait as needed */
				break;
			case 'L':
				opts->log_level = pg_strdup(optarg);
				break;
			case 'v':
				opts->verbose = true;
				break;
			case 't':
				opts->terse = true;
				break;
			case 'c':
				opts->fast_checkpoint = true;
				break;
			case 'r':
				opts->rsync_only = true;
				break;
			case 'k':
				ok &= parse_int_option("-k/--keep-history", optarg, 0, &opts->keep_history);
				break;
			case 'C':
				opts->remote_config_file = pg_strdup(optarg);
				break;
			case 'S':
				opts->superuser = pg_strdup(optarg);
				break;
			case 'P':
				opts->pwprompt = true;
				break;
			case OPT_DRY_RUN:
				opts->dry_run = true;
				break;
			case OPT_TIMEOUT:
				ok &= parse_int_option("--timeout", optarg, 1, &opts->timeout);
				break;
			case OPT_IGNORE_EXTERNAL:
				opts->ignore_external_config_files = true;
				break;
			case OPT_COPY_EXTERNAL:
				opts->copy_external_config_files = true;
				break;
			case OPT_LIST_ACTIONS:
				opts->list_actions = true;
				break;
			case OPT_RECOVERY_MIN_APPLY_DELAY:
				opts->recovery_min_apply_delay = pg_strdup(optarg);
				break;
			case OPT_CSV:
				opts->csv = true;
				break;
			case OPT_JSON:
				opts->json = true;
				break;
			case OPT_NODE:
				ok &= parse_int_option("--node", optarg, 1, &opts->node);
				break;
			case OPT_NODE_ID:
				ok &= parse_int_option("--node-id", optarg, 1, &opts->node_id);
				break;
			case OPT_EVENT:
				opts->event = pg_strdup(optarg);
				break;
			case OPT_LIMIT:
				ok &= parse_int_option("--limit", optarg, 1, &opts->limit);
				break;
			case OPT_UPSTREAM_NODE_ID:
				ok &= parse_int_option("--upstream-node-id", optarg, 1, &opts->upstream_node_id);
				break;
			case OPT_FORCE_REWIND:
				opts->force_rewind = true;
				break;
			case OPT_SIBLINGS_FOLLOW:
				opts->siblings_follow = true;
				break;
			case OPT_NAGIOS:
				opts->nagios = true;
				break;
			case OPT_ACTION:
				opts->action = pg_strdup(optarg);
				break;
			case OPT_CHECKPOINT:
				opts->checkpoint = true;
				break;
			case OPT_IS_SHUTDOWN_CLEANLY:
				opts->is_shutdown_cleanly = true;
				break;
			case OPT_CHECK_ROLE:
				set_only_check(opts, "role", &ok);
				break;
			case OPT_CHECK_UPSTREAM:
				set_only_check(opts, "upstream", &ok);
				break;
			case OPT_CHECK_LAG:
				set_only_check(opts, "replication_lag", &ok);
				break;
			case OPT_CHECK_ARCHIVE:
				set_only_check(opts, "archive_ready", &ok);
				break;
			case OPT_CHECK_DOWNSTREAM:
				set_only_check(opts, "downstream", &ok);
				break;
			case OPT_CHECK_SLOTS:
				set_only_check(opts, "slots", &ok);
				break;
			case OPT_CHECK_SYNCHRONOUS:
				set_only_check(opts, "synchronous", &ok);
				break;
			case OPT_CHECK_WORKER:
				set_only_check(opts, "worker", &ok);
				break;
			case OPT_HBA_FILE:
				opts->hba_file = pg_strdup(optarg);
				break;
			case OPT_ALLOW_TRUST:
				opts->allow_trust = true;
				break;
			default:
				return false;
		}
	}

	if (optind < argc)
		opts->object = pg_strdup(argv[optind++]);
	if (optind < argc)
		opts->verb = pg_strdup(argv[optind++]);
	if (optind < argc)
		opts->extra = pg_strdup(argv[optind++]);
	if (optind < argc)
	{
		log_error("too many command-line arguments (first is \"%s\")", argv[optind]);
		ok = false;
	}
	return ok;
}

/* the log level: -L, else loglevel of repmgr.conf */
static bool
apply_log_level(const char *name)
{
	LogLevel	level;

	if (!log_parse_level(name, &level))
	{
		log_error("invalid log level \"%s\"", name);
		log_hint("Use one of DEBUG, INFO, NOTICE, WARNING, ERR, ALERT, CRIT, EMERG.");
		return false;
	}
	log_set_level(level);
	return true;
}

/* the reports that --json writes as JSON */
static bool
json_command(const Command *c)
{
	return c->fn == do_cluster_show || c->fn == do_cluster_event ||
		c->fn == do_node_status || c->fn == do_node_check ||
		c->fn == do_daemon_status;
}

static int
run(int argc, char **argv)
{
	RuntimeOptions opts;
	RepmgrConfig config;
	RepmgrContext ctx;
	const Command *command;
	int			rc;

	memset(&opts, 0, sizeof(opts));
	opts.limit = 20;
	opts.timeout = DEFAULT_TIMEOUT_SECS;

	if (!parse_options(argc, argv, &opts))
	{
		fprintf(stderr, "Try \"repmgr --help\" for more information.\n");
		return ERR_BAD_CONFIG;
	}
	log_set_terse(opts.terse);
	log_set_verbose(opts.verbose);
	if (opts.log_level && !apply_log_level(opts.log_level))
		return ERR_BAD_CONFIG;

	if (opts.version)
	{
		printf("repmgr %s (PostgreSQL %s)\n", REPMGR_VERSION, PG_MAJORVERSION);
		return SUCCESS;
	}
	if (opts.object == NULL || opts.verb == NULL)
	{
		if (opts.help)
		{
			usage();
			return SUCCESS;
		}
		log_error(opts.object ? "no action given for \"%s\"" : "no command given%s",
				  opts.object ? opts.object : "");
		fprintf(stderr, "Try \"repmgr --help\" for more information.\n");
		return ERR_BAD_CONFIG;
	}
	command = command_find(opts.object, opts.verb);
	if (command == NULL)
	{
		log_error("unknown command \"%s %s\"", opts.object, opts.verb);
		fprintf(stderr, "Try \"repmgr --help\" for more information.\n");
		return ERR_BAD_CONFIG;
	}
	if (opts.help)
	{
		command_help(command);
		return SUCCESS;
	}
	if (opts.json && !json_command(command))
	{
		log_error("--json is not available for \"%s %s\"", opts.object, opts.verb);
		log_hint("It is for cluster show, cluster event, node status, node check and daemon status.");
		return ERR_BAD_CONFIG;
	}
	if (opts.json && (opts.csv || opts.nagios || opts.is_shutdown_cleanly))
	{
		log_error("--json cannot be combined with %s",
				  opts.csv ? "--csv" : opts.nagios ? "--nagios" : "--is-shutdown-cleanly");
		return ERR_BAD_CONFIG;
	}
	if (opts.extra != NULL && command->fn != do_standby_clone)
	{
		log_error("unexpected argument \"%s\" after \"%s %s\"", opts.extra,
				  opts.object, opts.verb);
		return ERR_BAD_CONFIG;
	}

	config_init(&config);
	rc = config_load(&config, opts.config_file);
	if (rc != SUCCESS)
		return rc;
	if (opts.log_level == NULL && !apply_log_level(config.loglevel))
		return ERR_BAD_CONFIG;
	if (opts.pg_bindir)
		config.pg_bindir = opts.pg_bindir;
	rc = config_require(&config, command->required);
	if (rc != SUCCESS)
		return rc;

	ctx.config = &config;
	ctx.opts = &opts;
	ctx.object_word = pg_strcasecmp(opts.object, "master") == 0 ? "master" : "primary";
	return command->fn(&ctx);
}

int
main(int argc, char **argv)
{
	exit(run(argc, argv));
}
