/*-------------------------------------------------------------------------
 *
 * daemon.c
 *	  The in-server workers ("repmgrd" of the documents): "daemon status"
 *	  shows each node's worker (repmgr.daemon_status() on every node; a
 *	  table, or --json),
 *	  "daemon pause" and "daemon unpause" act on all of them
 *	  (repmgr.daemon_pause() / daemon_unpause(), run on this node).
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

#define WORKER_CONNECT_TIMEOUT 5

/* one node's worker: Worker, PID, Paused, Fenced, State */
static void
worker_columns(const char *conninfo, const char **cols)
{
	PGconn	   *conn = db_connect_quiet(conninfo, WORKER_CONNECT_TIMEOUT, NULL);
	PGresult   *res;
	int			i;

	for (i = 0; i < 5; i++)
		cols[i] = "n/a";
	if (conn == NULL)
		return;
	res = PQexec(conn,
				 "SELECT CASE WHEN pid IS NULL THEN 'not running' ELSE 'running' END, "
				 "coalesce(pid::text, 'n/a'), CASE WHEN paused THEN 'yes' ELSE 'no' END, "
				 "CASE WHEN fenced THEN 'yes' ELSE 'no' END, state "
				 "FROM repmgr.daemon_status()");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		for (i = 0; i < 5; i++)
			cols[i] = pg_strdup(PQgetvalue(res, 0, i));
	PQclear(res);
	PQfinish(conn);
}

/*
 * --json: per node the columns of cluster_show() it is listed by (id,
 * name, role, status) and, under "worker", those of its daemon_status();
 * "worker" is null for a node that could not be asked.
 */
static void
worker_json(JsonWriter *w, const char *conninfo, bool reachable)
{
	static const JsonField fields[] = {
		{"running", 0, JSON_BOOL},
		{"pid", 1, JSON_NUMBER},
		{"state", 2, JSON_TEXT},
		{"paused", 3, JSON_BOOL},
		{"fenced", 4, JSON_BOOL},
		{"term", 5, JSON_NUMBER},
		{"last_error", 6, JSON_TEXT},
	};
	PGconn	   *conn = reachable ? db_connect_quiet(conninfo, WORKER_CONNECT_TIMEOUT, NULL) : NULL;
	PGresult   *res = NULL;

	if (conn != NULL)
		res = PQexec(conn,
					 "SELECT pid IS NOT NULL, pid, state, paused, fenced, term, last_error "
					 "FROM repmgr.daemon_status()");
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		json_row(w, res, 0, fields, lengthof(fields));
	else
		json_null(w);
	PQclear(res);
	PQfinish(conn);
}

static int
daemon_status_json(PGresult *res)
{
	static const JsonField fields[] = {
		{"id", 0, JSON_NUMBER},
		{"name", 1, JSON_TEXT},
		{"role", 2, JSON_TEXT},
		{"status", 3, JSON_TEXT},
	};
	JsonWriter	w;
	int			i;
	int			f;

	json_init(&w);
	json_begin_array(&w);
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *status = PQgetvalue(res, i, 3);

		json_begin_object(&w);
		for (f = 0; f < lengthof(fields); f++)
		{
			json_key(&w, fields[f].key);
			json_value(&w, res, i, fields[f].column, fields[f].type);
		}
		json_key(&w, "worker");
		worker_json(&w, PQgetvalue(res, i, 4), status[0] != '-' && status[0] != '?');
		json_end_object(&w);
	}
	json_end_array(&w);
	json_print(&w, stdout);
	return SUCCESS;
}

int
do_daemon_status(RepmgrContext *ctx)
{
	static const char *headers[] = {"ID", "Name", "Role", "Status", "Worker", "PID",
	"Paused", "Fenced", "State"};
	PGconn	   *conn;
	PGresult   *res;
	Table	   *t;
	int			rc;
	int			i;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = db_query(conn, &res,
				  "SELECT s.id::text, s.name, s.role, s.status, n.conninfo "
				  "FROM repmgr.cluster_show() s JOIN repmgr.repl_nodes n ON n.id = s.id "
				  "ORDER BY s.id", 0, NULL);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	if (ctx->opts->json)
	{
		rc = daemon_status_json(res);
		PQclear(res);
		return rc;
	}
	t = table_create(lengthof(headers), headers);
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *row[lengthof(headers)];
		const char *status = PQgetvalue(res, i, 3);
		int			c;

		for (c = 0; c < 4; c++)
			row[c] = PQgetvalue(res, i, c);
		if (status[0] == '-' || status[0] == '?')
			for (c = 4; c < lengthof(headers); c++)
				row[c] = "n/a";
		else
			worker_columns(PQgetvalue(res, i, 4), &row[4]);
		table_add_row(t, row);
	}
	PQclear(res);
	table_print(t, stdout);
	return SUCCESS;
}

static int
set_paused(RepmgrContext *ctx, bool pause)
{
	const char *verb = pause ? "pause" : "unpause";
	PGconn	   *conn;
	PGresult   *res;
	int			failed = 0;
	int			rc;
	int			i;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	if (ctx->opts->dry_run)
	{
		rc = db_query(conn, &res,
					  "SELECT id, name FROM repmgr.repl_nodes WHERE active ORDER BY id", 0, NULL);
		PQfinish(conn);
		if (rc != SUCCESS)
			return rc;
		for (i = 0; i < PQntuples(res); i++)
			log_notice("would %s the worker of node %s (\"%s\")", verb,
					   PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		PQclear(res);
		return SUCCESS;
	}
	rc = db_query(conn, &res, pause ?
				  "SELECT node_id, node_name, success, detail FROM repmgr.daemon_pause()" :
				  "SELECT node_id, node_name, success, detail FROM repmgr.daemon_unpause()",
				  0, NULL);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	for (i = 0; i < PQntuples(res); i++)
	{
		if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
			log_notice("worker of node %s (\"%s\") %sd", PQgetvalue(res, i, 0),
					   PQgetvalue(res, i, 1), verb);
		else
		{
			failed++;
			log_warning("could not %s the worker of node %s (\"%s\")", verb,
						PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			log_detail("%s", PQgetvalue(res, i, 3));
		}
	}
	PQclear(res);
	if (failed > 0)
	{
		log_error("%d of the workers could not be %sd", failed, verb);
		return ERR_DB_CON;
	}
	return SUCCESS;
}

int
do_daemon_pause(RepmgrContext *ctx)
{
	return set_paused(ctx, true);
}

int
do_daemon_unpause(RepmgrContext *ctx)
{
	return set_paused(ctx, false);
}
