/*-------------------------------------------------------------------------
 *
 * standby_switchover.c
 *	  "repmgr standby switchover": run on a standby, make it the primary
 *	  and the current primary its standby, without losing a transaction.
 *
 *	  1. pause the in-server workers of every node (repmgr.daemon_pause()),
 *		 so that none of them fails over while the primary is down;
 *	  2. stop the primary cleanly ("node service --action=stop" on its
 *		 host) and wait until it is down;
 *	  3. read its shutdown checkpoint ("node status --is-shutdown-cleanly")
 *		 and wait until this standby has received it;
 *	  4. promote this standby (repmgr.promote());
 *	  5. rejoin the old primary as a standby of this node ("node rejoin
 *		 --force-rewind" on its host: pg_rewind runs only if needed);
 *	  6. with --siblings-follow, re-point the other standbys of the old
 *		 primary (repmgr.follow() on each);
 *	  7. record standby_switchover and unpause the workers - also after a
 *		 failure, when the old primary is restarted if it was stopped and
 *		 nothing was promoted.
 *
 * The steps on the old primary's host run "repmgr -f REMOTE_CONFIG ..."
 * over ssh, or directly when its conninfo uses a Unix socket (its data
 * directory is then on this host).
 *
 *-------------------------------------------------------------------------
 */
#include "repmgr.h"

#include <unistd.h>

typedef struct OldPrimary
{
	int			node_id;
	char	   *name;
	char	   *conninfo;
	char	   *datadir;
	bool		local;
	char	   *host;
	char	   *config_file;
} OldPrimary;

typedef struct Sibling
{
	char	   *node_id;
	char	   *name;
	char	   *conninfo;
} Sibling;

/* "repmgr -f CONFIG ARGS" on the old primary's host */
static char *
other_command(RepmgrContext *ctx, OldPrimary *old, const char *args)
{
	StringInfoData cmd;

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -f ", repmgr_program(ctx->config));
	append_shell_quoted(&cmd, old->config_file);
	appendStringInfoString(&cmd, " -D ");
	append_shell_quoted(&cmd, old->datadir);
	if (ctx->opts->log_level)
		appendStringInfo(&cmd, " -L %s", ctx->opts->log_level);
	if (ctx->opts->verbose)
		appendStringInfoString(&cmd, " -v");
	appendStringInfo(&cmd, " --timeout=%d %s", ctx->opts->timeout, args);
	if (old->local)
		return cmd.data;
	return ssh_wrap(ctx->config, old->host, ctx->opts->remote_user, cmd.data);
}

/* run it; returns its exit code (ERR_BAD_SSH if ssh itself failed) */
static int
run_on_old_primary(RepmgrContext *ctx, OldPrimary *old, const char *args,
				   StringInfo output)
{
	int			status = run_command(other_command(ctx, old, args), output);

	if (status < 0)
		return ERR_SYS_FAILURE;
	if (!old->local && status == 255)
	{
		log_error("ssh to host \"%s\" failed", old->host);
		return ERR_BAD_SSH;
	}
	return status;
}

/* ----------
 * Checks
 * ----------
 */

static int
check_local_standby(PGconn *conn, int *my_id, bool *streaming)
{
	PGresult   *res;
	int			rc;

	rc = db_query(conn, &res,
				  "SELECT s.node_id, s.type, s.role, s.active, "
				  "(SELECT status FROM pg_catalog.pg_stat_wal_receiver) "
				  "FROM repmgr.node_status() s", 0, NULL);
	if (rc != SUCCESS)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 2), "standby") != 0)
	{
		log_error("this server is not a standby: switchover must be run on the standby to promote");
		rc = ERR_BAD_CONFIG;
	}
	else if (PQgetisnull(res, 0, 1) || strcmp(PQgetvalue(res, 0, 1), "standby") != 0 ||
			 strcmp(PQgetvalue(res, 0, 3), "t") != 0)
	{
		log_error("this standby is not registered as an active standby");
		log_hint("Register it with \"repmgr standby register\".");
		rc = ERR_BAD_CONFIG;
	}
	else
	{
		*my_id = atoi(PQgetvalue(res, 0, 0));
		*streaming = !PQgetisnull(res, 0, 4) && strcmp(PQgetvalue(res, 0, 4), "streaming") == 0;
	}
	PQclear(res);
	return rc;
}

static int
find_old_primary(RepmgrContext *ctx, PGconn *conn, OldPrimary *old)
{
	PGresult   *res;
	PGconn	   *pconn;
	bool		in_recovery;
	int			rc;

	rc = db_query(conn, &res,
				  "SELECT id, name, conninfo FROM repmgr.repl_nodes "
				  "WHERE type = 'primary' AND active", 0, NULL);
	if (rc != SUCCESS)
		return rc;
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		log_error("no active primary is registered");
		log_hint("Use \"repmgr standby promote\" when the primary is gone.");
		return ERR_BAD_CONFIG;
	}
	old->node_id = atoi(PQgetvalue(res, 0, 0));
	old->name = pg_strdup(PQgetvalue(res, 0, 1));
	old->conninfo = pg_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	old->local = conninfo_is_local(old->conninfo);
	old->host = conninfo_get(old->conninfo, "host");

	pconn = db_connect(old->conninfo, &rc);
	if (pconn == NULL)
	{
		log_error("the current primary, node %d (\"%s\"), is not reachable", old->node_id, old->name);
		log_hint("A switchover needs a running primary; use \"repmgr standby promote\" if it has failed.");
		return rc;
	}
	if (!db_is_in_recovery(pconn, &in_recovery))
		rc = ERR_DB_QUERY;
	else if (in_recovery)
	{
		log_error("node %d (\"%s\") is registered as primary but is in recovery",
				  old->node_id, old->name);
		rc = ERR_BAD_CONFIG;
	}
	else
		rc = db_query_value(pconn, &old->datadir,
							"SELECT pg_catalog.current_setting('data_directory')", 0, NULL);
	PQfinish(pconn);
	return rc;
}

static int
check_remote_config(RepmgrContext *ctx, OldPrimary *old)
{
	StringInfoData cmd;
	int			rc;

	old->config_file = ctx->opts->remote_config_file ? ctx->opts->remote_config_file
		: ctx->config->config_file;
	if (old->config_file == NULL)
	{
		log_error("no configuration file of the primary's host given");
		log_hint("Use -C/--remote-config-file.");
		return ERR_BAD_CONFIG;
	}
	if (old->local)
	{
		if (access(old->config_file, R_OK) == 0)
			return SUCCESS;
		log_error("configuration file of the primary \"%s\" not found: %m", old->config_file);
		log_hint("Use -C/--remote-config-file.");
		return ERR_BAD_CONFIG;
	}
	rc = ssh_check(ctx->config, old->host, ctx->opts->remote_user);
	if (rc != SUCCESS)
		return rc;
	initStringInfo(&cmd);
	appendStringInfoString(&cmd, "test -r ");
	append_shell_quoted(&cmd, old->config_file);
	if (run_command(ssh_wrap(ctx->config, old->host, ctx->opts->remote_user, cmd.data),
					NULL) != 0)
	{
		log_error("configuration file \"%s\" not found on host \"%s\"", old->config_file, old->host);
		log_hint("Use -C/--remote-config-file.");
		return ERR_BAD_CONFIG;
	}
	return SUCCESS;
}

static int
find_siblings(PGconn *conn, int my_id, OldPrimary *old, Sibling **siblings, int *n)
{
	const char *params[2] = {int_to_string(old->node_id), int_to_string(my_id)};
	PGresult   *res;
	int			rc;
	int			i;

	rc = db_query(conn, &res,
				  "SELECT id, name, conninfo FROM repmgr.repl_nodes "
				  "WHERE type = 'standby' AND active AND upstream_node_id = $1::integer "
				  "AND id <> $2::integer ORDER BY id", 2, params);
	if (rc != SUCCESS)
		return rc;
	*n = PQntuples(res);
	*siblings = pg_malloc0(sizeof(Sibling) * (*n + 1));
	for (i = 0; i < *n; i++)
	{
		(*siblings)[i].node_id = pg_strdup(PQgetvalue(res, i, 0));
		(*siblings)[i].name = pg_strdup(PQgetvalue(res, i, 1));
		(*siblings)[i].conninfo = pg_strdup(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return SUCCESS;
}

/* ----------
 * Workers
 * ----------
 */

static int
set_workers_paused(PGconn *conn, bool pause)
{
	PGresult   *res;
	int			rc;
	int			i;

	rc = db_query(conn, &res, pause ?
				  "SELECT node_id, node_name, success, detail FROM repmgr.daemon_pause()" :
				  "SELECT node_id, node_name, success, detail FROM repmgr.daemon_unpause()",
				  0, NULL);
	if (rc != SUCCESS)
	{
		log_error("could not %s the workers of the cluster", pause ? "pause" : "unpause");
		return rc;
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
			log_info("worker of node %s (\"%s\") %s", PQgetvalue(res, i, 0),
					 PQgetvalue(res, i, 1), pause ? "paused" : "unpaused");
		else
			log_warning("could not %s the worker of node %s (\"%s\"): %s",
						pause ? "pause" : "unpause", PQgetvalue(res, i, 0),
						PQgetvalue(res, i, 1), PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return SUCCESS;
}

/* unpause everything, also the old primary if it is not active again */
static void
unpause_all(RepmgrContext *ctx, PGconn **conn, OldPrimary *old)
{
	PGconn	   *pconn;

	if (PQstatus(*conn) != CONNECTION_OK)
	{
		PQfinish(*conn);
		*conn = db_connect_quiet(ctx->config->conninfo, 0, NULL);
	}
	if (*conn == NULL || set_workers_paused(*conn, false) != SUCCESS)
		log_warning("the workers may still be paused: run \"repmgr daemon unpause\"");
	pconn = db_connect_quiet(old->conninfo, 5, NULL);
	if (pconn != NULL)
	{
		(void) PQclear(PQexec(pconn, "SELECT repmgr.daemon_set_paused(false)"));
		PQfinish(pconn);
	}
}

/* ----------
 * Steps
 * ----------
 */

static int
wait_primary_down(RepmgrContext *ctx, OldPrimary *old)
{
	double		deadline = monotonic_seconds() + ctx->opts->timeout;
	char	   *conninfo = conninfo_set(old->conninfo, "connect_timeout", "2");

	while (PQping(conninfo) != PQPING_NO_RESPONSE)
	{
		if (monotonic_seconds() >= deadline)
		{
			log_error("the primary has not stopped after %d seconds", ctx->opts->timeout);
			return ERR_FAILOVER_FAIL;
		}
		sleep_ms(200);
	}
	log_notice("current primary has been stopped");
	return SUCCESS;
}

static int
shutdown_checkpoint(RepmgrContext *ctx, OldPrimary *old, uint64 *lsn)
{
	StringInfoData out;
	char	   *p;
	int			rc;

	initStringInfo(&out);
	rc = run_on_old_primary(ctx, old, "node status --is-shutdown-cleanly", &out);
	if (rc != SUCCESS)
		return rc;
	if (strstr(out.data, "--state=SHUTDOWN ") == NULL ||
		(p = strstr(out.data, "--last-checkpoint-lsn=")) == NULL ||
		!lsn_parse(pnstrdup(p + 22, strcspn(p + 22, " \n")), lsn))
	{
		log_error("the primary did not shut down cleanly: %s", out.data);
		return ERR_FAILOVER_FAIL;
	}
	return SUCCESS;
}

static int
wait_checkpoint_received(RepmgrContext *ctx, PGconn *conn, uint64 lsn)
{
	double		deadline = monotonic_seconds() + ctx->opts->timeout;
	const char *params[1] = {lsn_format(lsn)};

	for (;;)
	{
		char	   *received;
		int			rc = db_query_value(conn, &received,
										"SELECT pg_catalog.pg_last_wal_receive_lsn() > $1::pg_lsn",
										1, params);

		if (rc != SUCCESS)
			return rc;
		if (received != NULL && strcmp(received, "t") == 0)
		{
			log_notice("this standby has received the shutdown checkpoint of the primary (%s)",
					   params[0]);
			return SUCCESS;
		}
		if (monotonic_seconds() >= deadline)
		{
			log_error("this standby has not received the shutdown checkpoint %s after %d seconds",
					  params[0], ctx->opts->timeout);
			return ERR_FAILOVER_FAIL;
		}
		sleep_ms(100);
	}
}

static int
siblings_follow(Sibling *siblings, int n, int new_primary)
{
	int			result = SUCCESS;
	int			i;

	for (i = 0; i < n; i++)
	{
		PGconn	   *sconn;
		char	   *target = NULL;
		int			rc;

		sconn = db_connect(siblings[i].conninfo, &rc);
		if (sconn != NULL)
		{
			rc = db_query_value(sconn, &target, "SELECT repmgr.follow()", 0, NULL);
			PQfinish(sconn);
		}
		if (rc == SUCCESS)
			log_notice("node %s (\"%s\") now following new primary node %s",
					   siblings[i].node_id, siblings[i].name, target);
		else
		{
			log_warning("node %s (\"%s\") could not be made to follow node %d",
						siblings[i].node_id, siblings[i].name, new_primary);
			result = rc;
		}
	}
	return result;
}

/* steps 2 to 6; *promoted says whether step 4 was reached */
static int
switch_roles(RepmgrContext *ctx, PGconn *conn, int my_id, OldPrimary *old,
			 Sibling *siblings, int nsiblings)
{
	uint64		checkpoint;
	char	   *promoted = NULL;
	StringInfoData args;
	int			rc;

	rc = run_on_old_primary(ctx, old, "node service --action=stop --checkpoint", NULL);
	if (rc == SUCCESS)
		rc = wait_primary_down(ctx, old);
	if (rc == SUCCESS)
		rc = shutdown_checkpoint(ctx, old, &checkpoint);
	if (rc == SUCCESS)
		rc = wait_checkpoint_received(ctx, conn, checkpoint);
	if (rc == SUCCESS)
	{
		log_notice("promoting standby");
		rc = db_query_value(conn, &promoted, "SELECT repmgr.promote()", 0, NULL);
	}
	if (rc != SUCCESS)
	{
		log_notice("restarting the old primary, node %d", old->node_id);
		if (run_on_old_primary(ctx, old, "node service --action=start", NULL) != SUCCESS)
			log_warning("the old primary could not be restarted");
		return rc;
	}
	log_notice("STANDBY PROMOTE successful");
	log_detail("node %d was successfully promoted to primary", my_id);

	initStringInfo(&args);
	appendStringInfoString(&args, "node rejoin --force-rewind -d ");
	append_shell_quoted(&args, conninfo_without_secrets(ctx->config->conninfo));
	rc = run_on_old_primary(ctx, old, args.data, NULL);
	if (rc != SUCCESS)
	{
		log_error("node %d (\"%s\") could not rejoin as a standby of node %d",
				  old->node_id, old->name, my_id);
		log_hint("Rejoin it with \"repmgr node rejoin\" on its host.");
		return rc;
	}

	if (nsiblings > 0 && ctx->opts->siblings_follow)
		return siblings_follow(siblings, nsiblings, my_id);
	if (nsiblings > 0)
	{
		log_warning("%d other standby(s) still attached to the old primary, node %d",
					nsiblings, old->node_id);
		log_hint("Run \"repmgr standby follow\" on them, or use --siblings-follow.");
	}
	return SUCCESS;
}

int
do_standby_switchover(RepmgrContext *ctx)
{
	PGconn	   *conn;
	OldPrimary	old;
	Sibling    *siblings = NULL;
	int			nsiblings = 0;
	int			my_id = 0;
	bool		streaming = false;
	int			rc;
	int			i;

	memset(&old, 0, sizeof(old));
	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	rc = check_local_standby(conn, &my_id, &streaming);
	if (rc == SUCCESS)
		rc = find_old_primary(ctx, conn, &old);
	if (rc == SUCCESS && !streaming)
	{
		log_error("this standby is not streaming: it would not receive the primary's shutdown checkpoint");
		rc = ERR_BAD_CONFIG;
	}
	if (rc == SUCCESS)
		rc = check_remote_config(ctx, &old);
	if (rc == SUCCESS)
		rc = find_siblings(conn, my_id, &old, &siblings, &nsiblings);
	if (rc != SUCCESS || ctx->opts->dry_run)
	{
		if (rc == SUCCESS)
		{
			log_notice("prerequisites for switchover are met");
			log_detail("node %d would be promoted, node %d (\"%s\", data directory \"%s\" %s) demoted to standby",
					   my_id, old.node_id, old.name, old.datadir,
					   old.local ? "on this host" : psprintf("on host \"%s\"", old.host));
			for (i = 0; i < nsiblings; i++)
				log_info("sibling node %s (\"%s\") %s", siblings[i].node_id, siblings[i].name,
						 ctx->opts->siblings_follow ? "would follow the new primary"
						 : "would stay attached to the old primary");
		}
		PQfinish(conn);
		return rc;
	}

	log_notice("switching current node %d to primary server and demoting current primary to standby...",
			   my_id);
	rc = set_workers_paused(conn, true);
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}
	rc = switch_roles(ctx, conn, my_id, &old, siblings, nsiblings);
	if (PQstatus(conn) == CONNECTION_OK)
		(void) record_event(conn, my_id, "standby_switchover", rc == SUCCESS,
							rc == SUCCESS ?
							psprintf("node %d promoted to primary, node %d demoted to standby",
									 my_id, old.node_id) :
							psprintf("switchover of node %d with node %d failed", my_id, old.node_id));
	unpause_all(ctx, &conn, &old);
	PQfinish(conn);
	if (rc == SUCCESS)
	{
		log_notice("switchover was successful");
		log_detail("node %d is now primary and node %d is attached to it", my_id, old.node_id);
	}
	return rc;
}
