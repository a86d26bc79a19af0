/*-------------------------------------------------------------------------
 *
 * primary.c
 *	  "repmgr primary register" (alias "master register"): creates the
 *	  repmgr extension on the primary if needed, then calls
 *	  repmgr.primary_register() with the cluster name of repmgr.conf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "conninfo.h"
#include "db.h"
#include "helpers.h"
#include "log.h"

static int
report_dry_run(RepmgrContext *ctx, PGconn *conn, bool installed)
{
	RepmgrConfig *config = ctx->config;
	char	   *existing = NULL;

	if (!installed)
		log_notice("the extension \"repmgr\" would be created");
	else
	{
		const char *params[1] = {int_to_string(config->node_id)};
		int			rc = db_query_value(conn, &existing,
										"SELECT type || CASE WHEN active THEN '' ELSE ' (inactive)' END "
										"FROM repmgr.repl_nodes WHERE id = $1::integer",
										1, params);

		if (rc != SUCCESS)
			return rc;
	}
	if (existing != NULL && !ctx->opts->force)
	{
		log_error("node %d is already registered as %s", config->node_id, existing);
		log_hint("Use -F/--force to overwrite the record of this node.");
		return ERR_BAD_CONFIG;
	}
	log_notice("prerequisites for registering node %d as %s are met",
			   config->node_id, ctx->object_word);
	log_detail("would register node %d (\"%s\") for cluster %s with conninfo \"%s\"%s",
			   config->node_id, config->node_name, config->cluster,
			   conninfo_mask(config->conninfo), existing ? ", overwriting its record" : "");
	return SUCCESS;
}

int
do_primary_register(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	PGconn	   *conn;
	bool		in_recovery;
	bool		installed;
	const char *params[6];
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	if (!db_is_in_recovery(conn, &in_recovery) || !db_has_extension(conn, &installed))
	{
		PQfinish(conn);
		return ERR_DB_QUERY;
	}
	if (in_recovery)
	{
		log_error("this server is in recovery: it cannot be registered as %s",
				  ctx->object_word);
		log_hint("Run \"repmgr %s register\" on the primary; register a standby with \"repmgr standby register\".",
				 ctx->object_word);
		PQfinish(conn);
		return ERR_BAD_CONFIG;
	}
	if (ctx->opts->dry_run)
	{
		rc = report_dry_run(ctx, conn, installed);
		PQfinish(conn);
		return rc;
	}

	if (!installed)
	{
		log_notice("creating extension \"repmgr\" in database \"%s\"", PQdb(conn));
		rc = db_command(conn, "CREATE EXTENSION repmgr", 0, NULL);
		if (rc != SUCCESS)
		{
			log_hint("The repmgr extension must be installed on every server, and \"repmgr\" be in shared_preload_libraries.");
			PQfinish(conn);
			return rc;
		}
	}

	params[0] = config->cluster;
	rc = db_command(conn, "SELECT pg_catalog.set_config('repmgr.cluster', $1, false)",
					1, params);
	if (rc == SUCCESS)
	{
		params[0] = int_to_string(config->node_id);
		params[1] = config->node_name;
		params[2] = config->conninfo;
		params[3] = int_to_string(config->priority);
		params[4] = config->location;
		params[5] = ctx->opts->force ? "true" : "false";
		rc = db_command(conn,
						"SELECT repmgr.primary_register(node_id => $1::integer, node_name => $2, "
						"conninfo => $3, priority => $4::integer, location => $5, "
						"force => $6::boolean)",
						6, params);
		hint_force_if_registered(ctx, rc);
	}
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	log_notice("%s node correctly registered for cluster %s with id %d (conninfo: %s)",
			   ctx->object_word, config->cluster, config->node_id, conninfo_mask(config->conninfo));
	return SUCCESS;
}
