/*-------------------------------------------------------------------------
 *
 * bgworker.c
 *	  Entry point of the repmgr library: _PG_init, the repmgr.* settings,
 *	  the shared-memory hooks and the registration of the monitoring worker.
 *
 * All settings are declared here, in one place, with their units.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "repmgr.h"

/* settings */
int			repmgr_node_id = InvalidNodeId;
char	   *repmgr_database = NULL;
char	   *repmgr_cluster = NULL;
int			repmgr_failover_mode = FAILOVER_AUTOMATIC;
int			repmgr_monitor_interval_ms = 1000;
int			repmgr_connect_timeout_ms = 2000;
int			repmgr_reconnect_attempts = 3;
int			repmgr_reconnect_interval_ms = 1000;
bool		repmgr_monitoring_history = false;
char	   *repmgr_event_notification_command = NULL;
char	   *repmgr_event_notifications = NULL;
int			repmgr_event_notification_timeout_ms = 30000;

static const struct config_enum_entry failover_options[] = {
	{"automatic", FAILOVER_AUTOMATIC, false},
	{"manual", FAILOVER_MANUAL, false},
	{NULL, 0, false}
};

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);

const char *
failover_mode_name(int mode)
{
	return mode == FAILOVER_MANUAL ? "manual" : "automatic";
}

static void
repmgr_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	shmem_request();
}

static void
repmgr_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	shmem_startup();
}

static void
define_settings(void)
{
	DefineCustomIntVariable("repmgr.node_id",
							"Id of this node in repmgr.repl_nodes.",
							"0 means the node has no id yet.",
							&repmgr_node_id,
							InvalidNodeId, 0, INT_MAX,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	/* a postmaster setting can only be defined while preloading */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("repmgr.database",
								   "Database in which the repmgr extension is installed.",
								   "The worker connects to it.",
								   &repmgr_database,
								   "repmgr",
								   PGC_POSTMASTER, 0,
								   NULL, NULL, NULL);

	DefineCustomStringVariable("repmgr.cluster",
							   "Name of the cluster recorded by primary_register.",
							   NULL,
							   &repmgr_cluster,
							   "default",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);

	DefineCustomEnumVariable("repmgr.failover",
							 "Whether the worker promotes and follows on its own.",
							 "automatic: fail over when the primary is lost; manual: monitor only.",
							 &repmgr_failover_mode,
							 FAILOVER_AUTOMATIC, failover_options,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.monitor_interval",
							"Time between two checks of the upstream node.",
							NULL,
							&repmgr_monitor_interval_ms,
							1000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.connect_timeout",
							"Deadline of a connection or query to another node.",
							NULL,
							&repmgr_connect_timeout_ms,
							2000, 100, 600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.reconnect_attempts",
							"Attempts to reach a lost upstream before it is declared failed.",
							NULL,
							&repmgr_reconnect_attempts,
							3, 1, 1000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.reconnect_interval",
							"Time between two attempts to reach a lost upstream.",
							NULL,
							&repmgr_reconnect_interval_ms,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("repmgr.monitoring_history",
							 "Whether standbys write a repl_monitor row every monitor_interval.",
							 NULL,
							 &repmgr_monitoring_history,
							 false,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("repmgr.event_notification_command",
							   "Shell command run for each event.",
							   "Placeholders: %n node id, %a node name, %e event, %s success (1/0), "
							   "%t timestamp, %d details, %p primary node id, %c primary conninfo, %% a percent sign.",
							   &repmgr_event_notification_command,
							   "",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("repmgr.event_notifications",
							   "Comma-separated events passed to event_notification_command; empty: all.",
							   NULL,
							   &repmgr_event_notifications,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("repmgr.event_notification_timeout",
							"Time after which a notification command is killed.",
							NULL,
							&repmgr_event_notification_timeout_ms,
							30000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("repmgr");
}

void
_PG_init(void)
{
	define_settings();
	remote_init();
	events_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = repmgr_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = repmgr_shmem_startup;
}
