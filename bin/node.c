/*-------------------------------------------------------------------------
 *
 * node.c
 *	  The node commands about this node: "node status" (the facts of
 *	  repmgr.node_status(), --json, or --is-shutdown-cleanly for a stopped
 *	  server), "node check" (repmgr.node_check(), also as a Nagios plugin
 *	  or --json) and "node service" (start, stop, restart, reload, promote
 *	  with the service commands, pg_ctlcluster or pg_ctl: service.c; the
 *	  remote step of a switchover; its stop with --is-shutdown-cleanly also
 *	  prints that line).  "node rejoin" is in node_rejoin.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "lib/stringinfo.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "controlfile.h"
#include "datadir.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "json.h"
#include "log.h"
#include "service.h"

/* ----------
 * node status
 * ----------
 */

/* --is-shutdown-cleanly: one line that a switchover parses */
static int
print_shutdown_state(RepmgrContext *ctx, const char *datadir)
{
	ControlInfo info;
	long		pid;
	int			rc;

	if (postmaster_running(datadir, &pid))
	{
		printf("--state=RUNNING\n");
		return SUCCESS;
	}
	rc = controldata_read(ctx->config, datadir, &info);
	if (rc != SUCCESS)
	{
		printf("--state=UNKNOWN\n");
		return rc;
	}
	printf("--state=%s --last-checkpoint-lsn=%s",
		   info.clean_shutdown ? "SHUTDOWN" : "UNCLEAN_SHUTDOWN",
		   lsn_format(info.checkpoint_lsn));
	if (info.clean_shutdown && info.checkpoint_end_lsn != 0)
		printf(" --checkpoint-end-lsn=%s", lsn_format(info.checkpoint_end_lsn));
	printf("\n");
	return SUCCESS;
}

static int
node_status_shutdown(RepmgrContext *ctx)
{
	char	   *datadir;
	int			rc;

	rc = resolve_data_directory(ctx, NULL, &datadir);
	if (rc != SUCCESS)
		return rc;
	return print_shutdown_state(ctx, datadir);
}

static void
status_line(bool csv, const char *label, const char *value)
{
	if (csv)
		printf("\"%s\",\"%s\"\n", label, value);
	else
		printf("\t%s: %s\n", label, value);
}

/* --json: the columns of node_status(), replay_lag in seconds */
static int
node_status_json(PGconn *conn)
{
	static const JsonField fields[] = {
		{"node_id", 0, JSON_NUMBER},
		{"node_name", 1, JSON_TEXT},
		{"type", 2, JSON_TEXT},
		{"role", 3, JSON_TEXT},
		{"active", 4, JSON_BOOL},
		{"upstream_node_id", 5, JSON_NUMBER},
		{"upstream_node_name", 6, JSON_TEXT},
		{"location", 7, JSON_TEXT},
		{"priority", 8, JSON_NUMBER},
		{"pg_version", 9, JSON_TEXT},
		{"data_directory", 10, JSON_TEXT},
		{"timeline", 11, JSON_NUMBER},
		{"lsn", 12, JSON_TEXT},
		{"replication_lag", 13, JSON_NUMBER},
		{"replay_lag", 14, JSON_NUMBER},
		{"wal_receiver_status", 15, JSON_TEXT},
		{"archive_mode", 16, JSON_TEXT},
		{"archive_ready_files", 17, JSON_NUMBER},
		{"replication_connections", 18, JSON_NUMBER},
		{"max_wal_senders", 19, JSON_NUMBER},
		{"replication_slots", 20, JSON_NUMBER},
		{"max_replication_slots", 21, JSON_NUMBER},
		{"worker_running", 22, JSON_BOOL},
		{"conninfo", 23, JSON_TEXT},
		{"synchronous", 24, JSON_TEXT},
	};

	return json_report(conn,
					   "SELECT node_id, node_name, type, role, active, upstream_node_id, "
					   "upstream_node_name, location, priority, pg_version, data_directory, timeline, "
					   "lsn::text, replication_lag, extract(epoch FROM replay_lag)::text, "
					   "wal_receiver_status, archive_mode, archive_ready_files, replication_connections, "
					   "max_wal_senders, replication_slots, max_replication_slots, worker_running, "
					   "conninfo, synchronous FROM repmgr.node_status()",
					   0, NULL, fields, lengthof(fields), true);
}

int
do_node_status(RepmgrContext *ctx)
{
	static const char *const need_conninfo[] = {"conninfo", NULL};
	PGconn	   *conn;
	PGresult   *res;
	bool		csv = ctx->opts->csv;
	int			rc;

	if (ctx->opts->is_shutdown_cleanly)
		return node_status_shutdown(ctx);
	rc = config_require(ctx->config, need_conninfo);
	if (rc != SUCCESS)
		return rc;
	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	if (ctx->opts->json)
		return node_status_json(conn);
	rc = db_query(conn, &res,
				  "SELECT coalesce(node_id::text, '(none)'), coalesce(node_name, '(unregistered)'), "
				  "role, coalesce(type, '(unregistered)') || CASE WHEN active THEN '' ELSE ', inactive' END, "
				  "coalesce(upstream_node_name || ' (ID: ' || upstream_node_id || ')', ''), "
				  "coalesce(location, ''), coalesce(priority::text, ''), pg_version, data_directory, "
				  "timeline::text, lsn::text, "
				  "coalesce(pg_catalog.pg_size_pretty(replication_lag), 'n/a'), "
				  "coalesce(replay_lag::text, 'n/a'), coalesce(wal_receiver_status, 'n/a'), "
				  "archive_mode, archive_ready_files::text, "
				  "replication_connections || ' (of maximal ' || max_wal_senders || ')', "
				  "replication_slots || ' (of maximal ' || max_replication_slots || ')', "
				  "CASE WHEN worker_running THEN 'running' ELSE 'not running' END, "
				  "coalesce(conninfo, ''), coalesce(synchronous, '') "
				  "FROM repmgr.node_status()",
				  0, NULL);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	if (!csv)
		printf("Node \"%s\":\n", PQgetvalue(res, 0, 1));
	status_line(csv, "Node ID", PQgetvalue(res, 0, 0));
	status_line(csv, "PostgreSQL version", PQgetvalue(res, 0, 7));
	status_line(csv, "Data directory", PQgetvalue(res, 0, 8));
	status_line(csv, "Conninfo", PQgetvalue(res, 0, 19));
	status_line(csv, "Role", PQgetvalue(res, 0, 2));
	status_line(csv, "Registered as", PQgetvalue(res, 0, 3));
	if (PQgetvalue(res, 0, 4)[0] != '\0')
		status_line(csv, "Upstream", PQgetvalue(res, 0, 4));
	status_line(csv, "Location", PQgetvalue(res, 0, 5));
	status_line(csv, "Priority", PQgetvalue(res, 0, 6));
	status_line(csv, "Timeline", PQgetvalue(res, 0, 9));
	status_line(csv, "LSN", PQgetvalue(res, 0, 10));
	if (strcmp(PQgetvalue(res, 0, 2), "standby") == 0)
	{
		status_line(csv, "Replication lag", psprintf("%s (replay lag: %s)",
													 PQgetvalue(res, 0, 11), PQgetvalue(res, 0, 12)));
		status_line(csv, "WAL receiver", PQgetvalue(res, 0, 13));
	}
	status_line(csv, "WAL archiving", psprintf("%s (%s pending archive ready files)",
											   PQgetvalue(res, 0, 14), PQgetvalue(res, 0, 15)));
	status_line(csv, "Replication connections", PQgetvalue(res, 0, 16));
	status_line(csv, "Replication slots", PQgetvalue(res, 0, 17));
	status_line(csv, "repmgr worker", PQgetvalue(res, 0, 18));
	if (PQgetvalue(res, 0, 20)[0] != '\0')
		status_line(csv, "Synchronous replication", PQgetvalue(res, 0, 20));
	PQclear(res);
	return SUCCESS;
}

/* ----------
 * node check
 * ----------
 */

static const struct
{
	const char *name;
	const char *label;
}			check_labels[] =
{
	{"role", "Server role"},
	{"upstream", "Upstream"},
	{"replication_lag", "Replication lag"},
	{"archive_ready", "WAL archiving"},
	{"downstream", "Downstream servers"},
	{"slots", "Replication slots"},
	{"synchronous", "Synchronous replication"},
	{"worker", "repmgr worker"},
	{"fence", "Fencing"},
};

static const char *
check_label(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(check_labels); i++)
		if (strcmp(check_labels[i].name, name) == 0)
			return check_labels[i].label;
	return name;
}

static int
nagios_code(const char *status)
{
	if (strcmp(status, "OK") == 0)
		return NAGIOS_OK;
	if (strcmp(status, "WARNING") == 0)
		return NAGIOS_WARNING;
	if (strcmp(status, "CRITICAL") == 0)
		return NAGIOS_CRITICAL;
	return NAGIOS_UNKNOWN;
}

/* worse of two Nagios codes: CRITICAL > WARNING > UNKNOWN > OK */
static int
nagios_worse(int a, int b)
{
	static const int rank[] = {0, 2, 3, 1};

	return rank[b] > rank[a] ? b : a;
}

static const char *
nagios_name(int code)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return names[code];
}

static char *
upper_name(const char *name)
{
	char	   *s = psprintf("REPMGR_%s", name);
	char	   *p;

	for (p = s; *p; p++)
		*p = pg_toupper((unsigned char) *p);
	return s;
}

/* Nagios perfdata of the lag check: "lag=12s;300;600" */
static char *
lag_perfdata(RepmgrConfig *config, const char *details)
{
	double		seconds;

	if (sscanf(details, "%lf seconds", &seconds) != 1)
		return NULL;
	return psprintf("lag=%.0fs;%d;%d", seconds, config->replication_lag_warning,
					config->replication_lag_critical);
}

static int
print_nagios(RepmgrContext *ctx, PGresult *res, int nrows)
{
	int			worst = NAGIOS_OK;
	StringInfoData summary;
	StringInfoData perf;
	int			i;

	initStringInfo(&summary);
	initStringInfo(&perf);
	for (i = 0; i < nrows; i++)
	{
		const char *name = PQgetvalue(res, i, 0);
		int			code = nagios_code(PQgetvalue(res, i, 1));
		char	   *p = strcmp(name, "replication_lag") == 0 ?
			lag_perfdata(ctx->config, PQgetvalue(res, i, 2)) : NULL;

		worst = nagios_worse(worst, code);
		if (p)
			appendStringInfo(&perf, "%s%s", perf.len ? " " : "", p);
		if (code != NAGIOS_OK)
			appendStringInfo(&summary, "%s%s %s (%s)", summary.len ? "; " : "",
							 name, nagios_name(code), PQgetvalue(res, i, 2));
	}

	if (ctx->opts->only_check != NULL && nrows == 1)
		printf("%s %s: %s", upper_name(PQgetvalue(res, 0, 0)),
			   PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	else
		printf("REPMGR_NODE %s: %s", nagios_name(worst),
			   summary.len ? summary.data : psprintf("%d checks OK", nrows));
	if (perf.len)
		printf(" | %s", perf.data);
	printf("\n");
	if (ctx->opts->only_check == NULL)
		for (i = 0; i < nrows; i++)
			printf("%s %s: %s\n", upper_name(PQgetvalue(res, i, 0)),
				   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	return worst;
}

/*
 * --json: {"node_name", "status" (the worst: CRITICAL, WARNING, UNKNOWN,
 * OK), "checks": the rows of node_check() (name, status, details)}.
 */
static void
print_checks_json(PGresult *res)
{
	static const JsonField fields[] = {
		{"name", 0, JSON_TEXT},
		{"status", 1, JSON_TEXT},
		{"details", 2, JSON_TEXT},
	};
	JsonWriter	w;
	int			worst = NAGIOS_OK;
	int			i;

	for (i = 0; i < PQntuples(res); i++)
		worst = nagios_worse(worst, nagios_code(PQgetvalue(res, i, 1)));
	json_init(&w);
	json_begin_object(&w);
	json_key(&w, "node_name");
	if (PQntuples(res) > 0)
		json_value(&w, res, 0, 3, JSON_TEXT);
	else
		json_null(&w);
	json_key(&w, "status");
	json_string(&w, nagios_name(worst));
	json_key(&w, "checks");
	json_begin_array(&w);
	for (i = 0; i < PQntuples(res); i++)
		json_row(&w, res, i, fields, lengthof(fields));
	json_end_array(&w);
	json_end_object(&w);
	json_print(&w, stdout);
}

int
do_node_check(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	PGconn	   *conn;
	PGresult   *res;
	const char *params[5];
	char	   *error = NULL;
	char	   *name = NULL;
	int			rc;
	int			i;

	if (ctx->opts->nagios)
	{
		/* a monitoring system wants one line and a Nagios code, always */
		conn = db_connect_quiet(config->conninfo, 0, &error);
		if (conn == NULL)
		{
			printf("REPMGR_NODE CRITICAL: unable to connect to the node: %s\n", error);
			return NAGIOS_CRITICAL;
		}
	}
	else
	{
		rc = connect_local_node(ctx, &conn);
		if (rc != SUCCESS)
			return rc;
	}

	params[0] = int_to_string(config->replication_lag_warning);
	params[1] = int_to_string(config->replication_lag_critical);
	params[2] = int_to_string(config->archive_ready_warning);
	params[3] = int_to_string(config->archive_ready_critical);
	params[4] = ctx->opts->only_check;
	rc = db_query(conn, &res,
				  "SELECT c.name, c.status, c.details, s.node_name "
				  "FROM repmgr.node_check(lag_warning => $1::integer, lag_critical => $2::integer, "
				  "archive_ready_warning => $3::integer, archive_ready_critical => $4::integer) c, "
				  "repmgr.node_status() s WHERE $5::text IS NULL OR c.name = $5",
				  5, params);
	PQfinish(conn);
	if (rc != SUCCESS)
	{
		if (ctx->opts->nagios)
		{
			printf("REPMGR_NODE UNKNOWN: the checks could not be run\n");
			return NAGIOS_UNKNOWN;
		}
		return rc;
	}
	if (ctx->opts->only_check != NULL && PQntuples(res) == 0)
	{
		PQclear(res);
		if (ctx->opts->nagios)
		{
			printf("%s UNKNOWN: this check does not apply to this node\n",
				   upper_name(ctx->opts->only_check));
			return NAGIOS_UNKNOWN;
		}
		log_error("check \"%s\" does not apply to this node", ctx->opts->only_check);
		return ERR_BAD_CONFIG;
	}

	if (ctx->opts->nagios)
	{
		rc = print_nagios(ctx, res, PQntuples(res));
		PQclear(res);
		return rc;
	}
	if (ctx->opts->json)
	{
		print_checks_json(res);
		PQclear(res);
		return SUCCESS;
	}

	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 3))
		name = PQgetvalue(res, 0, 3);
	printf("Node \"%s\":\n", name ? name : "(unregistered)");
	for (i = 0; i < PQntuples(res); i++)
		printf("\t%s: %s (%s)\n", check_label(PQgetvalue(res, i, 0)),
			   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	return SUCCESS;
}

/* ----------
 * node service
 * ----------
 */

/*
 * The stop command left running by service_stop_begin() (0: none): wait
 * for it, a failure is a warning (the server has stopped by then).
 */
static int
finish_stop(pid_t stopper)
{
	bool		done = false;
	int			status = 0;

	while (stopper != 0 && !done)
	{
		status = service_stop_poll(stopper, &done);
		if (!done)
			sleep_ms(10);
	}
	if (status != 0)
		log_warning("the stop command exited with status %d", status);
	return SUCCESS;
}

/*
 * A switchover's stop (--is-shutdown-cleanly): ask the server to stop,
 * then return as soon as its control file says "shut down", printing the
 * line of "node status --is-shutdown-cleanly" with the end of the
 * shutdown checkpoint record and "--postmaster=stopping" - without
 * waiting for the walsenders, the checkpointer and the postmaster to
 * exit.  From that moment the server has written its last WAL and has no
 * process left that could commit (see standby_switchover.c).  If the
 * server is gone first, or its control file cannot be read as this tool
 * reads it, the line is printed after its exit, as before.  The deadline
 * is pg_ctl's.  A stop command of the service manager runs on meanwhile;
 * it is waited for after the line is printed.
 */
static int
stop_until_shutdown_checkpoint(RepmgrContext *ctx, const char *datadir)
{
	double		started;
	double		deadline;
	ControlInfo info;
	long		pid;
	pid_t		stopper;
	bool		done = false;
	int			status;

	status = service_stop_begin(ctx->config, datadir, &stopper);
	if (status != 0)
		return status < 0 ? ERR_SYS_FAILURE : ERR_NO_RESTART;
	started = monotonic_seconds();
	deadline = started + pg_ctl_timeout();
	while (postmaster_running(datadir, &pid))
	{
		if (controlfile_says_shut_down(datadir, &info) && info.checkpoint_end_lsn != 0)
		{
			printf("--state=SHUTDOWN --last-checkpoint-lsn=%s --checkpoint-end-lsn=%s --postmaster=stopping\n",
				   lsn_format(info.checkpoint_lsn), lsn_format(info.checkpoint_end_lsn));
			/* a pipe's stdout is fully buffered: the switchover reads it now */
			fflush(stdout);
			return finish_stop(stopper);
		}
		status = stopper != 0 ? service_stop_poll(stopper, &done) : 0;
		if (done && stopper != 0)
		{
			stopper = 0;
			if (status != 0)
			{
				log_error("the stop command failed with exit status %d", status);
				return ERR_NO_RESTART;
			}
		}
		if (monotonic_seconds() >= deadline)
		{
			log_error("the server (PID %ld) has not stopped after %d seconds", pid,
					  pg_ctl_timeout());
			return ERR_NO_RESTART;
		}
		poll_pause(started);
	}
	status = finish_stop(stopper);
	if (status != SUCCESS)
		return status;
	return print_shutdown_state(ctx, datadir);
}

/* --list-actions: the command of each action (or of --action's) */
static void
list_actions(RepmgrContext *ctx, const char *datadir, const char *only)
{
	ServerLayout layout;
	int			i;

	server_layout(ctx->config, datadir, &layout);
	for (i = 0; i < SERVICE_NACTIONS; i++)
	{
		const char *name = service_action_name((ServiceAction) i);

		if (only != NULL && strcmp(only, name) != 0)
			continue;
		printf("%-8s %s\n", name, service_command(ctx->config, &layout, (ServiceAction) i, NULL));
	}
}

int
do_node_service(RepmgrContext *ctx)
{
	const char *action_name = ctx->opts->action;
	ServiceAction action = SERVICE_START;
	PGconn	   *conn = NULL;
	char	   *datadir;
	long		pid;
	int			rc;
	int			status;

	if ((action_name == NULL && !ctx->opts->list_actions) ||
		(action_name != NULL && strcmp(action_name, "status") != 0 &&
		 !service_action_parse(action_name, &action)))
	{
		log_error("node service needs --action=start, stop, restart, reload, promote or status, or --list-actions");
		return ERR_BAD_CONFIG;
	}
	if (ctx->opts->data_dir == NULL && ctx->config->data_directory == NULL &&
		ctx->config->conninfo != NULL)
		conn = db_connect_quiet(ctx->config->conninfo, 0, NULL);
	rc = resolve_data_directory(ctx, conn, &datadir);
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}

	if (ctx->opts->list_actions)
	{
		PQfinish(conn);
		list_actions(ctx, datadir,
					 action_name && strcmp(action_name, "status") != 0 ? action_name : NULL);
		return SUCCESS;
	}
	if (strcmp(action_name, "status") == 0)
	{
		PQfinish(conn);
		if (postmaster_running(datadir, &pid))
		{
			printf("server is running (PID: %ld)\n", pid);
			return SUCCESS;
		}
		printf("no server running\n");
		return SUCCESS;
	}
	if (ctx->opts->dry_run)
	{
		ServerLayout layout;

		PQfinish(conn);
		server_layout(ctx->config, datadir, &layout);
		log_notice("would run '%s' for data directory \"%s\"",
				   service_command(ctx->config, &layout, action, NULL), datadir);
		return SUCCESS;
	}
	if (ctx->opts->checkpoint && (action == SERVICE_STOP || action == SERVICE_RESTART))
	{
		if (conn == NULL && ctx->config->conninfo != NULL)
			conn = db_connect_quiet(ctx->config->conninfo, 0, NULL);
		if (conn != NULL)
		{
			log_notice("issuing CHECKPOINT");
			(void) db_command(conn, "CHECKPOINT", 0, NULL);
		}
	}
	PQfinish(conn);

	/* a switchover's stop: say at once how it went, from this process */
	if (ctx->opts->is_shutdown_cleanly && action == SERVICE_STOP)
		return stop_until_shutdown_checkpoint(ctx, datadir);
	/* a server still shutting down (a switchover's stop) must be gone first */
	if (action == SERVICE_START && postmaster_stopping(datadir) &&
		wait_postmaster_gone(datadir) != 0)
		return ERR_NO_RESTART;
	status = service_run(ctx->config, datadir, action);
	if (status != 0)
		return status < 0 ? ERR_SYS_FAILURE : ERR_NO_RESTART;
	return SUCCESS;
}
