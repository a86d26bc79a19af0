/*-------------------------------------------------------------------------
 *
 * cluster.c
 *	  The cluster commands: "cluster show" (repmgr.cluster_show(), in the
 *	  newer layout of the documents, or --csv, or --json), "cluster event"
 *	  (repmgr.cluster_event(), or --json) and "cluster cleanup"
 *	  (repmgr.cluster_cleanup()).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "cli.h"
#include "commands.h"
#include "db.h"
#include "helpers.h"
#include "json.h"
#include "log.h"
#include "print.h"

/*
 * --csv code of a node, as 3.x documents it: 0 = primary, 1 = standby,
 * 2 = witness; -1 = not running.
 */
static int
csv_code(const char *role, const char *status)
{
	if (strcmp(status, "- failed") == 0 || strcmp(status, "? unreachable") == 0 ||
		strcmp(status, "? unknown") == 0)
		return -1;
	if (strcmp(status, "! running as primary") == 0)
		return 0;
	if (strcmp(status, "! running as standby") == 0)
		return 1;
	if (strcmp(role, "primary") == 0)
		return 0;
	if (strcmp(role, "witness") == 0)
		return 2;
	return 1;
}

/*
 * A running standby that its upstream has no WAL sender for under its node
 * name (a standby made by "pg_basebackup -R" streams as "walreceiver", or
 * as its cluster_name): repmgr knows it by that name only.  Said on
 * stderr, after the table; the upstreams are asked once each.
 */
static void
warn_misnamed_standbys(PGresult *res)
{
	int			n = PQntuples(res);
	int			i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const char *params[1] = {PQgetvalue(res, i, 1)};
		PGconn	   *conn = NULL;
		PGresult   *r;

		if (strcmp(PQgetvalue(res, i, 2), "standby") != 0 ||
			strcmp(PQgetvalue(res, i, 3), "running") != 0 ||
			PQgetvalue(res, i, 4)[0] == '\0')
			continue;
		for (j = 0; j < n && conn == NULL; j++)
			if (strcmp(PQgetvalue(res, j, 1), PQgetvalue(res, i, 4)) == 0)
				conn = db_connect_quiet(PQgetvalue(res, j, 6), 2, NULL);
		if (conn == NULL)
			continue;
		r = PQexecParams(conn,
						 "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_replication "
						 "WHERE application_name = $1), (SELECT string_agg(format('\"%s\"', "
						 "application_name), ', ') FROM pg_catalog.pg_stat_replication "
						 "WHERE application_name NOT IN (SELECT name FROM repmgr.repl_nodes))",
						 1, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			strcmp(PQgetvalue(r, 0, 0), "t") == 0)
		{
			log_warning("node \"%s\" runs as a standby, but its upstream \"%s\" has no WAL sender with application_name \"%s\"%s",
						params[0], PQgetvalue(res, i, 4), params[0],
						PQgetisnull(r, 0, 1) ? "" :
						psprintf("; it streams to %s, no node's name", PQgetvalue(r, 0, 1)));
			log_hint("A standby streams under its node name when primary_conninfo has application_name=%s (\"repmgr standby follow\" writes it).",
					 params[0]);
		}
		PQclear(r);
		PQfinish(conn);
	}
}

/* --json: the columns of cluster_show(), one object per node */
static int
cluster_show_json(PGconn *conn)
{
	static const JsonField fields[] = {
		{"id", 0, JSON_NUMBER},
		{"name", 1, JSON_TEXT},
		{"role", 2, JSON_TEXT},
		{"status", 3, JSON_TEXT},
		{"upstream", 4, JSON_TEXT},
		{"location", 5, JSON_TEXT},
		{"priority", 6, JSON_NUMBER},
		{"timeline", 7, JSON_NUMBER},
		{"lsn", 8, JSON_TEXT},
		{"conninfo", 9, JSON_TEXT},
		{"sync_state", 10, JSON_TEXT},
	};

	return json_report(conn,
					   "SELECT id, name, role, status, upstream, location, priority, timeline, "
					   "lsn::text, conninfo, sync_state FROM repmgr.cluster_show() ORDER BY id",
					   0, NULL, fields, lengthof(fields), false);
}

int
do_cluster_show(RepmgrContext *ctx)
{
	static const char *headers[] = {"ID", "Name", "Role", "Status", "Upstream",
	"Location", "Connection string"};
	static const char *sync_headers[] = {"ID", "Name", "Role", "Status", "Upstream",
	"Location", "Connection string", "Sync"};
	PGconn	   *conn;
	PGresult   *res;
	int			rc;
	int			i;
	bool		managed = false;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	if (ctx->opts->json)
		return cluster_show_json(conn);
	rc = db_query(conn, &res,
				  "SELECT id::text, name, role, status, coalesce(upstream, ''), location, conninfo, "
				  "coalesce(sync_state, '') "
				  "FROM repmgr.cluster_show() ORDER BY id",
				  0, NULL);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	if (ctx->opts->csv)
	{
		for (i = 0; i < PQntuples(res); i++)
			printf("%s,%d\n", PQgetvalue(res, i, 0),
				   csv_code(PQgetvalue(res, i, 2), PQgetvalue(res, i, 3)));
		PQclear(res);
		return SUCCESS;
	}
	/* the Sync column only where repmgr manages synchronous replication */
	for (i = 0; i < PQntuples(res); i++)
		if (PQgetvalue(res, i, 7)[0] != '\0')
			managed = true;
	if (managed)
		table_print_result(res, lengthof(sync_headers), sync_headers, stdout);
	else
		table_print_result(res, lengthof(headers), headers, stdout);
	fflush(stdout);
	warn_misnamed_standbys(res);
	PQclear(res);
	return SUCCESS;
}

int
do_cluster_event(RepmgrContext *ctx)
{
	static const char *headers[] = {"Node ID", "Name", "Event", "OK", "Timestamp", "Details"};
	/* --json: the columns of cluster_event(), the time in ISO 8601 */
	static const JsonField fields[] = {
		{"node_id", 0, JSON_NUMBER},
		{"name", 1, JSON_TEXT},
		{"event", 2, JSON_TEXT},
		{"ok", 3, JSON_BOOL},
		{"event_timestamp", 4, JSON_TEXT},
		{"details", 5, JSON_TEXT},
	};
	PGconn	   *conn;
	PGresult   *res;
	const char *params[3];
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	params[0] = ctx->opts->event;
	params[1] = ctx->opts->node_id > 0 ? int_to_string(ctx->opts->node_id) : NULL;
	params[2] = int_to_string(ctx->opts->limit);
	if (ctx->opts->json)
		return json_report(conn,
						   "SELECT node_id, name, event, ok, "
						   "to_char(event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), details "
						   "FROM repmgr.cluster_event(event => $1, node_id => $2::integer, lim => $3::integer)",
						   3, params, fields, lengthof(fields), false);
	rc = db_query(conn, &res,
				  "SELECT node_id::text, coalesce(name, ''), event, "
				  "CASE WHEN ok THEN 't' ELSE 'f' END, "
				  "to_char(event_timestamp, 'YYYY-MM-DD HH24:MI:SS'), coalesce(details, '') "
				  "FROM repmgr.cluster_event(event => $1, node_id => $2::integer, lim => $3::integer)",
				  3, params);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	table_print_result(res, lengthof(headers), headers, stdout);
	PQclear(res);
	return SUCCESS;
}

int
do_cluster_cleanup(RepmgrContext *ctx)
{
	PGconn	   *conn;
	const char *params[1];
	char	   *deleted = NULL;
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	params[0] = int_to_string(ctx->opts->keep_history);
	if (ctx->opts->dry_run)
	{
		rc = db_query_value(conn, &deleted,
							"SELECT count(*) FROM repmgr.repl_monitor "
							"WHERE last_monitor_time < pg_catalog.now() - $1::integer * interval '1 day'",
							1, params);
		if (rc == SUCCESS)
			log_notice("would delete %s monitoring history rows (keeping %d days)",
					   deleted, ctx->opts->keep_history);
	}
	else
	{
		rc = db_query_value(conn, &deleted,
							"SELECT repmgr.cluster_cleanup(keep_history_days => $1::integer)",
							1, params);
		if (rc == SUCCESS)
			log_notice("monitoring history purged: %s rows deleted (keeping %d days)",
					   deleted, ctx->opts->keep_history);
	}
	PQfinish(conn);
	return rc;
}
