/*-------------------------------------------------------------------------
 *
 * standby.c
 *	  The standby commands that are one SQL call each: "standby register",
 *	  "standby unregister", "standby promote" and "standby follow".  The
 *	  tool adds what needs no SQL: checks for --dry-run, the messages of
 *	  the documents, and for follow the wait until the standby streams
 *	  from its new upstream (with a restart only if it does not).
 *
 *	  "standby clone" and "standby switchover" have their own files.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "conninfo.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"
#include "service.h"

/* refuse unless the server of conn is (or is not) in recovery */
static int
require_recovery(PGconn *conn, bool wanted, const char *command,
				 const char *hint)
{
	bool		in_recovery;

	if (!db_is_in_recovery(conn, &in_recovery))
		return ERR_DB_QUERY;
	if (in_recovery == wanted)
		return SUCCESS;
	log_error(wanted ? "this server is not a standby: \"%s\" must be run on a standby"
			  : "this server is a standby: \"%s\" must be run on the primary", command);
	if (hint)
		log_hint("%s", hint);
	return ERR_BAD_CONFIG;
}

static int
require_extension(PGconn *conn)
{
	bool		installed;

	if (!db_has_extension(conn, &installed))
		return ERR_DB_QUERY;
	if (installed)
		return SUCCESS;
	log_error("the repmgr extension is not installed in database \"%s\"", PQdb(conn));
	log_hint("Register the primary first (\"repmgr primary register\"); the extension reaches the standbys by replication.");
	return ERR_BAD_CONFIG;
}

/*
 * The application_name this standby's WAL receiver connects with: the
 * running WAL receiver's (its connection in pg_stat_wal_receiver:
 * application_name, else fallback_application_name), else the one of
 * primary_conninfo, else cluster_name, else "walreceiver" (PostgreSQL
 * 15's fallback).  Its upstream knows it by that name only.
 */
static int
walreceiver_application_name(PGconn *conn, char **name)
{
	PGresult   *res;
	char	   *app = NULL;
	int			rc;

	rc = db_query(conn, &res,
				  "SELECT pg_catalog.current_setting('primary_conninfo'), "
				  "pg_catalog.current_setting('cluster_name'), "
				  "(SELECT conninfo FROM pg_catalog.pg_stat_wal_receiver)", 0, NULL);
	if (rc != SUCCESS)
		return rc;
	if (!PQgetisnull(res, 0, 2))
	{
		app = conninfo_get(PQgetvalue(res, 0, 2), "application_name");
		if (app == NULL || app[0] == '\0')
			app = conninfo_get(PQgetvalue(res, 0, 2), "fallback_application_name");
	}
	if (app == NULL || app[0] == '\0')
		app = conninfo_get(PQgetvalue(res, 0, 0), "application_name");
	if (app != NULL && app[0] != '\0')
		*name = app;
	else if (PQgetvalue(res, 0, 1)[0] != '\0')
		*name = pg_strdup(PQgetvalue(res, 0, 1));
	else
		*name = pstrdup("walreceiver");
	PQclear(res);
	return SUCCESS;
}

/* a standby that its upstream does not know by its node name: say so */
static void
warn_application_name(PGconn *conn, RepmgrConfig *config)
{
	char	   *name = NULL;

	if (walreceiver_application_name(conn, &name) != SUCCESS ||
		strcmp(name, config->node_name) == 0)
		return;
	log_warning("this standby streams with application_name \"%s\", not with its node name \"%s\"",
				name, config->node_name);
	log_detail("repmgr knows a standby on its upstream by its node name: switchover and rejoin wait for it by that name, node check does not count it as attached, and with repmgr.synchronous the primary cannot make it synchronous.");
	log_hint("Add application_name=%s to primary_conninfo (ALTER SYSTEM SET primary_conninfo = '...'; SELECT pg_reload_conf(); no restart), or run \"repmgr standby follow\", which writes primary_conninfo with it.",
			 config->node_name);
}

/* "standby register" */
int
do_standby_register(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	PGconn	   *conn;
	char	   *primary_cluster = NULL;
	const char *params[8];
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = require_recovery(conn, true, "standby register",
						  "Register the primary with \"repmgr primary register\".");
	if (rc == SUCCESS)
		rc = require_extension(conn);
	if (rc == SUCCESS)
		rc = db_query_value(conn, &primary_cluster,
							"SELECT cluster FROM repmgr.repl_nodes "
							"WHERE type = 'primary' AND active LIMIT 1", 0, NULL);
	if (rc == SUCCESS && primary_cluster != NULL &&
		strcmp(primary_cluster, config->cluster) != 0)
	{
		log_error("cluster name mismatch: \"%s\" in the configuration file, \"%s\" on the primary",
				  config->cluster, primary_cluster);
		log_hint("\"cluster\" must be identical on all nodes.");
		rc = ERR_BAD_CONFIG;
	}
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}

	if (ctx->opts->dry_run)
	{
		log_notice("prerequisites for registering node %d as standby are met", config->node_id);
		log_detail("would register node %d (\"%s\") with upstream %s%s%s",
				   config->node_id, config->node_name,
				   config->upstream_node > 0 ? int_to_string(config->upstream_node) : "the primary",
				   config->use_replication_slots ? " and slot " : "",
				   config->use_replication_slots ? slot_name_for(config->node_id) : "");
		PQfinish(conn);
		return SUCCESS;
	}

	params[0] = int_to_string(config->node_id);
	params[1] = config->node_name;
	params[2] = config->conninfo;
	params[3] = config->upstream_node > 0 ? int_to_string(config->upstream_node) : NULL;
	params[4] = int_to_string(config->priority);
	params[5] = config->location;
	params[6] = config->use_replication_slots ? slot_name_for(config->node_id) : NULL;
	params[7] = ctx->opts->force ? "true" : "false";
	rc = db_command(conn,
					"SELECT repmgr.standby_register(node_id => $1::integer, node_name => $2, "
					"conninfo => $3, upstream_node_id => $4::integer, priority => $5::integer, "
					"location => $6, slot_name => $7, force => $8::boolean)",
					8, params);
	hint_force_if_registered(ctx, rc);
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}
	log_notice("standby node correctly registered for cluster %s with id %d (conninfo: %s)",
			   config->cluster, config->node_id, conninfo_mask(config->conninfo));
	warn_application_name(conn, config);
	PQfinish(conn);
	return SUCCESS;
}

/* "standby unregister [--node=ID]" */
int
do_standby_unregister(RepmgrContext *ctx)
{
	int			node_id = ctx->opts->node > 0 ? ctx->opts->node : ctx->config->node_id;
	PGconn	   *conn;
	const char *params[1];
	char	   *type = NULL;
	int			rc;

	if (node_id <= 0)
	{
		log_error("no node to unregister");
		log_hint("Set \"node\" in repmgr.conf, or use --node=ID.");
		return ERR_BAD_CONFIG;
	}
	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = require_extension(conn);
	params[0] = int_to_string(node_id);
	if (rc == SUCCESS && ctx->opts->dry_run)
	{
		rc = db_query_value(conn, &type,
							"SELECT type FROM repmgr.repl_nodes WHERE id = $1::integer",
							1, params);
		if (rc == SUCCESS && type == NULL)
		{
			log_error("node %d is not registered", node_id);
			rc = ERR_BAD_CONFIG;
		}
		else if (rc == SUCCESS)
			log_notice("would unregister %s node %d", type, node_id);
		PQfinish(conn);
		return rc;
	}
	if (rc == SUCCESS)
		rc = db_command(conn, "SELECT repmgr.standby_unregister(node_id => $1::integer)",
						1, params);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	log_notice("standby node correctly unregistered for cluster %s with id %d",
			   ctx->config->cluster, node_id);
	return SUCCESS;
}

/* the running primary as cluster_show() sees it, for the dry runs */
static int
find_running_primary(PGconn *conn, char **id, char **name)
{
	PGresult   *res;
	int			rc;

	*id = *name = NULL;
	rc = db_query(conn, &res,
				  "SELECT id, name FROM repmgr.cluster_show() "
				  "WHERE (role = 'primary' AND status IN ('* running', '! running', '! running (fenced)')) "
				  "OR status = '! running as primary' ORDER BY id LIMIT 1",
				  0, NULL);
	if (rc != SUCCESS)
		return rc;
	if (PQntuples(res) > 0)
	{
		*id = pg_strdup(PQgetvalue(res, 0, 0));
		*name = pg_strdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return SUCCESS;
}

/* "standby promote" */
int
do_standby_promote(RepmgrContext *ctx)
{
	PGconn	   *conn;
	char	   *node_id = NULL;
	const char *params[1];
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = require_recovery(conn, true, "standby promote", NULL);
	if (rc == SUCCESS)
		rc = require_extension(conn);
	if (rc == SUCCESS && ctx->opts->dry_run)
	{
		char	   *id;
		char	   *name;

		rc = find_running_primary(conn, &id, &name);
		if (rc == SUCCESS && id != NULL)
		{
			log_error("node %s (\"%s\") is running as primary", id, name);
			log_hint("A standby is promoted only when the primary is down; use \"repmgr standby switchover\" otherwise.");
			rc = ERR_BAD_CONFIG;
		}
		else if (rc == SUCCESS)
			log_notice("prerequisites for promoting this standby are met: no primary is running");
		PQfinish(conn);
		return rc;
	}
	if (rc == SUCCESS)
	{
		log_notice("promoting standby");
		params[0] = ctx->opts->force ? "true" : "false";
		rc = db_query_value(conn, &node_id,
							"SELECT repmgr.promote(force => $1::boolean)", 1, params);
	}
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	log_notice("STANDBY PROMOTE successful");
	log_detail("node %s was successfully promoted to primary", node_id);
	return SUCCESS;
}

/* the node id of the server given with -h/-p/-U/-d */
static int
node_id_of_server(RepmgrContext *ctx, int *node_id)
{
	char	   *conninfo = conninfo_from_options(ctx->opts, DEFAULT_DBNAME);
	PGconn	   *conn;
	char	   *id = NULL;
	int			rc;

	conn = db_connect(conninfo, &rc);
	if (conn == NULL)
		return rc;
	rc = db_query_value(conn, &id, "SELECT node_id FROM repmgr.node_state()", 0, NULL);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	if (id == NULL || atoi(id) <= 0)
	{
		log_error("the server at \"%s\" has no repmgr.node_id", conninfo_mask(conninfo));
		return ERR_BAD_CONFIG;
	}
	*node_id = atoi(id);
	return SUCCESS;
}

/* Does this standby stream from the node whose conninfo is target? */
static int
streams_from(PGconn *conn, const char *target, bool *yes)
{
	PGresult   *res;
	char	   *host = conninfo_get(target, "host");
	char	   *port = conninfo_get(target, "port");
	int			rc;

	*yes = false;
	rc = db_query(conn, &res,
				  "SELECT status, sender_host, sender_port::text FROM pg_catalog.pg_stat_wal_receiver",
				  0, NULL);
	if (rc != SUCCESS)
		return rc;
	/* a list of hosts or ports in target: any of them will do */
	if (host != NULL && strchr(host, ',') != NULL)
		host = NULL;
	if (port != NULL && strchr(port, ',') != NULL)
		port = NULL;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "streaming") == 0)
		*yes = (host == NULL || strcmp(host, PQgetvalue(res, 0, 1)) == 0) &&
			(port == NULL || strcmp(port, PQgetvalue(res, 0, 2)) == 0);
	PQclear(res);
	return SUCCESS;
}

static int
wait_streaming_from(PGconn *conn, const char *target, int timeout_secs, bool *ok)
{
	double		deadline = monotonic_seconds() + timeout_secs;
	int			rc;

	for (;;)
	{
		rc = streams_from(conn, target, ok);
		if (rc != SUCCESS || *ok || monotonic_seconds() >= deadline)
			return rc;
		sleep_ms(200);
	}
}

/*
 * After the re-point: wait until the standby streams from its new
 * upstream; restart it only if it does not within the timeout.
 */
static int
ensure_streaming(RepmgrContext *ctx, PGconn **conn, const char *target_id)
{
	const char *params[1] = {target_id};
	char	   *target = NULL;
	char	   *datadir;
	bool		ok;
	int			rc;

	rc = db_query_value(*conn, &target,
						"SELECT conninfo FROM repmgr.repl_nodes WHERE id = $1::integer",
						1, params);
	if (rc != SUCCESS || target == NULL)
		return rc;
	rc = wait_streaming_from(*conn, target, ctx->opts->timeout, &ok);
	if (rc != SUCCESS || ok)
		return rc;

	log_warning("this standby does not stream from node %s after %d seconds: it must be restarted",
				target_id, ctx->opts->timeout);
	rc = resolve_data_directory(ctx, *conn, &datadir);
	if (rc != SUCCESS)
		return rc;
	PQfinish(*conn);
	*conn = NULL;
	if (service_run(ctx->config, datadir, SERVICE_RESTART) != 0)
		return ERR_NO_RESTART;
	rc = connect_local_node(ctx, conn);
	if (rc != SUCCESS)
		return rc;
	rc = wait_streaming_from(*conn, target, ctx->opts->timeout, &ok);
	if (rc == SUCCESS && !ok)
	{
		log_error("this standby does not stream from node %s, even after a restart", target_id);
		log_hint("Check the server log of this standby and of node %s.", target_id);
		return ERR_NO_RESTART;
	}
	return rc;
}

/* "standby follow" */
int
do_standby_follow(RepmgrContext *ctx)
{
	PGconn	   *conn;
	int			upstream = ctx->opts->upstream_node_id;
	char	   *target_id = NULL;
	const char *params[1];
	int			rc;

	if (upstream == 0 && connection_options_given(ctx->opts))
	{
		rc = node_id_of_server(ctx, &upstream);
		if (rc != SUCCESS)
			return rc;
	}
	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = require_recovery(conn, true, "standby follow",
						  "To make an old primary a standby, use \"repmgr node rejoin\".");
	if (rc == SUCCESS)
		rc = require_extension(conn);
	if (rc == SUCCESS && ctx->opts->dry_run)
	{
		char	   *id;
		char	   *name;

		rc = find_running_primary(conn, &id, &name);
		if (rc == SUCCESS && id == NULL)
		{
			log_error("no running primary found");
			log_hint("Promote a standby first.");
			rc = ERR_BAD_CONFIG;
		}
		else if (rc == SUCCESS)
			log_notice("prerequisites for following are met: this standby would follow node %s",
					   upstream > 0 ? int_to_string(upstream) : id);
		PQfinish(conn);
		return rc;
	}
	if (rc == SUCCESS)
	{
		params[0] = upstream > 0 ? int_to_string(upstream) : NULL;
		rc = db_query_value(conn, &target_id,
							"SELECT repmgr.follow(upstream_node_id => $1::integer)", 1, params);
	}
	if (rc == SUCCESS)
	{
		log_notice("STANDBY FOLLOW successful");
		log_detail("node %d is now attached to node %s", ctx->config->node_id, target_id);
		rc = ensure_streaming(ctx, &conn, target_id);
		if (rc == SUCCESS)
			log_notice("node %d is replicating from node %s in state \"streaming\"",
					   ctx->config->node_id, target_id);
	}
	PQfinish(conn);
	return rc;
}
