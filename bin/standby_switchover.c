/*-------------------------------------------------------------------------
 *
 * standby_switchover.c
 *	  "repmgr standby switchover": run on a standby, make it the primary
 *	  and the current primary its standby, without losing a transaction.
 *
 *	  1. pause the in-server workers of every node (repmgr.daemon_pause()),
 *		 so that none of them fails over while the primary is down;
 *	  2. stop the primary cleanly ("node service --action=stop" on its
 *		 host), which returns as soon as its control file says "shut
 *		 down", with where its shutdown checkpoint record begins and ends;
 *	  3. wait until this standby has received and flushed that record to
 *		 its end;
 *	  4. promote this standby (repmgr.promote(shut_down_primary =>),
 *		 which does not ask the old primary: steps 2 and 3 proved it can
 *		 no longer write, and shutting down it could not answer; every
 *		 other node is asked as always) and wait until the metadata here
 *		 says so (this node the active primary, the old one inactive): the
 *		 next steps read it;
 *	  5. wait until the old postmaster has exited, then rejoin the old
 *		 primary as a standby of this node, named by id
 *		 ("node rejoin --force-rewind --upstream-node-id" on its host:
 *		 pg_rewind runs only if needed; it waits until the old primary has
 *		 replayed the promotion before it registers it);
 *	  6. with --siblings-follow, re-point the other standbys of the old
 *		 primary at this node (repmgr.follow() on each) and wait until they
 *		 stream from it - also when step 5 failed;
 *	  7. record standby_switchover and unpause the workers - also after a
 *		 failure, when the old primary is restarted if it was stopped and
 *		 nothing was promoted.  A failure after the promotion says what
 *		 state each node is in and the command that finishes the job.
 *
 * Every wait has the deadline of --timeout.  The workers stay paused until
 * step 7, so the command alone re-points the standbys: a paused worker
 * neither follows nor promotes (its pause is durable, so the old primary's
 * worker is paused too when its server comes back as a standby).
 *
 * Why the promotion need not wait for the old postmaster's exit (PostgreSQL
 * 15; xlog.c, postmaster.c, walsender.c).  The control file says "shut
 * down" only after the checkpointer has written and flushed the shutdown
 * checkpoint record (CreateCheckPoint with CHECKPOINT_IS_SHUTDOWN sets
 * DB_SHUTDOWNED, with checkPoint the start of that record, after
 * XLogFlush of it).  By then that server instance can neither write WAL
 * nor acknowledge a commit, and never will again:
 *	- the postmaster asks the checkpointer for it only in PM_SHUTDOWN, when
 *	  every backend, background worker (repmgr's too), autovacuum process,
 *	  the bgwriter and the walwriter have exited (PM_WAIT_BACKENDS): no
 *	  process is left that runs a transaction, so none can commit or
 *	  report a commit to a client;
 *	- new connections get "the database system is shutting down"; in
 *	  PM_SHUTDOWN and PM_SHUTDOWN_2 it starts no backend or worker, and a
 *	  postmaster never goes back from a shutdown to running (a crash of a
 *	  child during it ends in its exit, not a restart);
 *	- ShutdownXLOG first puts every walsender in the stopping state
 *	  (WalSndInitStopping, WalSndWaitStopping), in which it refuses every
 *	  new command, SQL or replication; after the record, walsenders only
 *	  send WAL already written and exit (WalSndDone, in PM_SHUTDOWN_2);
 *	- the checkpointer sets LocalXLogInsertAllowed = 0 ("never again write
 *	  WAL") after the record, and exits.
 * What the old postmaster still does after that - its walsenders waiting
 * for the other standbys to confirm the record, the checkpointer's and
 * the postmaster's exit - adds nothing to the WAL and can overlap the
 * promotion: the end of the shutdown checkpoint record is the end of the
 * old primary's WAL.  So once this standby has received and flushed up to
 * that end (not only past its start: a walsender may send a record in two
 * parts), its promotion loses no transaction, replays everything up to
 * the end (a promotion replays all WAL received first) and starts
 * timeline 2 exactly there; the old primary's WAL is then a prefix of
 * timeline 2, and it rejoins without pg_rewind.  The control file is read
 * until it says "shut down" (not "shut down in recovery": that is a
 * standby; it is "in production" while the primary runs, so "shut down"
 * is this shutdown's, and a read that sees a write half done fails its
 * checksum and is read again).  The old postmaster must be gone before it
 * is started again, as a standby or, after a failure before the
 * promotion, as the primary: the command waits for it, with the same
 * deadline, and so do "node rejoin" and "node service --action=start"
 * there when the pid file says "stopping".
 *
 * The steps on the old primary's host run "repmgr -f REMOTE_CONFIG ..."
 * over ssh, or directly when its conninfo uses a Unix socket (its data
 * directory is then on this host).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "lib/stringinfo.h"

#include "cli.h"
#include "commands.h"
#include "conninfo.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"

typedef struct OldPrimary
{
	int			node_id;
	char	   *name;
	char	   *conninfo;
	char	   *datadir;
	bool		local;
	char	   *host;
	char	   *config_file;
	/* its stop, still exiting after it printed its shutdown checkpoint */
	FILE	   *stop_pending;
	char	   *stop_command;
} OldPrimary;

typedef struct Sibling
{
	char	   *node_id;
	char	   *name;
	char	   *conninfo;
} Sibling;

/* "repmgr -f CONFIG ARGS", to run on the old primary's host */
static char *
repmgr_there(RepmgrContext *ctx, OldPrimary *old, const char *args)
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
	return cmd.data;
}

/* the exit code of a command run on the old primary's host, ssh's failure named */
static int
there_status(OldPrimary *old, int status)
{
	if (status < 0)
		return ERR_SYS_FAILURE;
	if (!old->local && status == 255)
	{
		log_error("ssh to host \"%s\" failed", old->host);
		return ERR_BAD_SSH;
	}
	return status;
}

/*
 * Run a shell command on the old primary's host (over ssh unless it is
 * this host); returns its exit code (ERR_BAD_SSH if ssh itself failed).
 */
static int
run_there(RepmgrContext *ctx, OldPrimary *old, const char *command, StringInfo output)
{
	int			status;

	if (!old->local)
		command = ssh_wrap(ctx->config, old->host, ctx->opts->remote_user, command);
	status = run_command(command, output);
	return there_status(old, status);
}

/*
 * The stop on the old primary's host, read until the line of its shutdown
 * checkpoint written while its postmaster is still exiting, and left to
 * exit meanwhile (the promotion does not wait for that process, or ssh,
 * to end): stop_finished() collects it.
 */
static int
start_stop_there(RepmgrContext *ctx, OldPrimary *old, const char *args, StringInfo output)
{
	char	   *command = repmgr_there(ctx, old, args);
	int			status;

	if (!old->local)
		command = ssh_wrap(ctx->config, old->host, ctx->opts->remote_user, command);
	status = command_start_until(command, "--postmaster=stopping", output,
								 &old->stop_pending);
	old->stop_command = command;
	if (old->stop_pending != NULL)
		return SUCCESS;
	return there_status(old, status);
}

/* the stop left running by start_stop_there() has ended; its result */
static int
stop_finished(OldPrimary *old)
{
	int			status;

	if (old->stop_pending == NULL)
		return SUCCESS;
	status = command_finish(old->stop_command, old->stop_pending);
	old->stop_pending = NULL;
	if (status != SUCCESS)
		log_warning("the stop on the old primary's host exited with status %d", status);
	return status;
}

/* "repmgr ARGS" on the old primary's host */
static int
run_on_old_primary(RepmgrContext *ctx, OldPrimary *old, const char *args,
				   StringInfo output)
{
	return run_there(ctx, old, repmgr_there(ctx, old, args), output);
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
		sleep_ms(10);
	}
	log_notice("current primary has been stopped");
	return SUCCESS;
}

/* the LSN after "label" in out, or 0 when there is none */
static uint64
lsn_after(const char *out, const char *label)
{
	const char *p = strstr(out, label);
	uint64		lsn = 0;

	if (p == NULL)
		return 0;
	p += strlen(label);
	if (!lsn_parse(pnstrdup(p, strcspn(p, " \n")), &lsn))
		return 0;
	return lsn;
}

/*
 * Steps 2 and 3 on the old primary's host in one go (one ssh, one repmgr
 * process): stop it cleanly, and as soon as its control file says "shut
 * down", print where its shutdown checkpoint record begins and ends, and
 * "--postmaster=stopping" if the postmaster had not exited yet (see the
 * top of this file for why that is enough).  Every process started
 * between the shutdown and the promotion is write unavailability.  A
 * repmgr there that does not print the state after a stop (an older one)
 * is asked separately; one that does not print the end of the record
 * waited for the postmaster's exit, and so does this command then.
 */
static int
stop_old_primary(RepmgrContext *ctx, OldPrimary *old, uint64 *lsn, uint64 *end,
				 bool *stopping)
{
	StringInfoData out;
	int			rc;

	initStringInfo(&out);
	rc = start_stop_there(ctx, old,
						  "node service --action=stop --checkpoint --is-shutdown-cleanly",
						  &out);
	if (rc == SUCCESS && strstr(out.data, "--state=") == NULL)
		rc = run_on_old_primary(ctx, old, "node status --is-shutdown-cleanly", &out);
	if (rc != SUCCESS)
		return rc;
	*lsn = lsn_after(out.data, "--last-checkpoint-lsn=");
	*end = lsn_after(out.data, "--checkpoint-end-lsn=");
	*stopping = (*end != 0 && strstr(out.data, "--postmaster=stopping") != NULL);
	if (strstr(out.data, "--state=SHUTDOWN ") == NULL || *lsn == 0 ||
		(*end != 0 && *end <= *lsn))
	{
		log_error("the primary did not shut down cleanly: %s", out.data);
		return ERR_FAILOVER_FAIL;
	}
	if (*stopping)
	{
		log_notice("current primary has written its shutdown checkpoint (%s)",
				   lsn_format(*lsn));
		return SUCCESS;
	}
	return wait_primary_down(ctx, old);
}

/*
 * Has this standby received and flushed the whole shutdown checkpoint
 * record?  pg_last_wal_receive_lsn() is what the WAL receiver has
 * flushed.  Without the end of the record (an older repmgr on the old
 * primary's host, which waited for its exit), anything past its start.
 */
static int
wait_checkpoint_received(RepmgrContext *ctx, PGconn *conn, uint64 lsn, uint64 end)
{
	double		started = monotonic_seconds();
	double		deadline = started + ctx->opts->timeout;
	const char *params[1] = {lsn_format(end != 0 ? end : lsn)};
	const char *sql = end != 0 ?
		"SELECT pg_catalog.pg_last_wal_receive_lsn() >= $1::pg_lsn" :
		"SELECT pg_catalog.pg_last_wal_receive_lsn() > $1::pg_lsn";

	for (;;)
	{
		char	   *received;
		int			rc = db_query_value(conn, &received, sql, 1, params);

		if (rc != SUCCESS)
			return rc;
		if (received != NULL && strcmp(received, "t") == 0)
		{
			log_notice("this standby has received the shutdown checkpoint of the primary (%s)",
					   lsn_format(lsn));
			return SUCCESS;
		}
		if (monotonic_seconds() >= deadline)
		{
			log_error("this standby has not received the shutdown checkpoint %s after %d seconds",
					  lsn_format(lsn), ctx->opts->timeout);
			return ERR_FAILOVER_FAIL;
		}
		poll_pause(started);
	}
}

/* step 4: the promotion is in the metadata this node holds */
static int
wait_promotion_recorded(RepmgrContext *ctx, PGconn *conn, int my_id, OldPrimary *old)
{
	double		deadline = monotonic_seconds() + ctx->opts->timeout;
	const char *params[2] = {int_to_string(my_id), int_to_string(old->node_id)};

	for (;;)
	{
		char	   *done;
		int			rc = db_query_value(conn, &done,
										"SELECT NOT pg_catalog.pg_is_in_recovery() "
										"AND EXISTS (SELECT 1 FROM repmgr.repl_nodes WHERE id = $1::integer "
										"AND type = 'primary' AND active) "
										"AND NOT EXISTS (SELECT 1 FROM repmgr.repl_nodes WHERE id = $2::integer "
										"AND active AND type = 'primary')",
										2, params);

		if (rc != SUCCESS)
			return rc;
		if (done != NULL && strcmp(done, "t") == 0)
			return SUCCESS;
		if (monotonic_seconds() >= deadline)
		{
			log_error("the metadata does not show node %d as the primary after %d seconds",
					  my_id, ctx->opts->timeout);
			return ERR_FAILOVER_FAIL;
		}
		sleep_ms(10);
	}
}

/* the command (on the old primary's host) that attaches it to new_primary */
static char *
rejoin_args(RepmgrContext *ctx, int new_primary)
{
	StringInfoData args;

	initStringInfo(&args);
	appendStringInfo(&args, "node rejoin --force-rewind --upstream-node-id=%d -d ",
					 new_primary);
	/* no secrets in the other host's process list: it has its own passfile */
	append_shell_quoted(&args, conninfo_without_secrets(ctx->config->conninfo));
	return args.data;
}

/* step 5 */
static int
rejoin_old_primary(RepmgrContext *ctx, OldPrimary *old, int new_primary)
{
	int			rc = run_on_old_primary(ctx, old, rejoin_args(ctx, new_primary), NULL);

	if (rc != SUCCESS)
		log_error("node %d (\"%s\") could not rejoin as a standby of node %d",
				  old->node_id, old->name, new_primary);
	return rc;
}

/*
 * Step 6 for one sibling: follow the new primary, stream from it, and
 * replay its own new record.  Its worker, paused, may have lost the old
 * primary meanwhile; once unpaused it sees in that record that the
 * follow is done, and does not re-point the standby a second time.
 */
static int
sibling_follow(RepmgrContext *ctx, PGconn *primary_conn, Sibling *sibling,
			   int new_primary)
{
	const char *params[1] = {int_to_string(new_primary)};
	PGconn	   *sconn;
	char	   *target = NULL;
	int			rc;

	sconn = db_connect(sibling->conninfo, &rc);
	if (sconn == NULL)
		return rc;
	rc = db_query_value(sconn, &target,
						"SELECT repmgr.follow(upstream_node_id => $1::integer)", 1, params);
	if (rc == SUCCESS)
		rc = wait_for_streaming(primary_conn, sibling->name, ctx->opts->timeout);
	if (rc == SUCCESS)
		rc = wait_for_replay(sconn, primary_conn, ctx->opts->timeout);
	PQfinish(sconn);
	if (rc < 0)
	{
		log_error("node %s (\"%s\") is not streaming from node %d after %d seconds",
				  sibling->node_id, sibling->name, new_primary, ctx->opts->timeout);
		return ERR_FAILOVER_FAIL;
	}
	if (rc == SUCCESS)
		log_notice("node %s (\"%s\") now following new primary node %d",
				   sibling->node_id, sibling->name, new_primary);
	return rc;
}

/* step 6; failed[i] says which sibling did not follow */
static int
siblings_follow(RepmgrContext *ctx, PGconn *primary_conn, Sibling *siblings,
				int n, int new_primary, bool *failed)
{
	int			result = SUCCESS;
	int			i;

	for (i = 0; i < n; i++)
	{
		int			rc = sibling_follow(ctx, primary_conn, &siblings[i], new_primary);

		failed[i] = (rc != SUCCESS);
		if (rc != SUCCESS)
		{
			log_warning("node %s (\"%s\") could not be made to follow node %d",
						siblings[i].node_id, siblings[i].name, new_primary);
			result = rc;
		}
	}
	return result;
}

/* what a node is doing now, for the report of an unfinished switchover */
static char *
node_now(PGconn *primary_conn, const char *name, const char *conninfo, int new_primary)
{
	const char *params[1] = {name};
	char	   *streaming = NULL;
	PGconn	   *conn = db_connect_quiet(conninfo, 5, NULL);
	bool		in_recovery = false;
	bool		known;

	if (conn == NULL)
		return pstrdup("not running or not reachable");
	known = db_is_in_recovery(conn, &in_recovery);
	PQfinish(conn);
	if (known && !in_recovery)
		return pstrdup("running as a primary");
	(void) db_query_value(primary_conn, &streaming,
						  "SELECT count(*) > 0 FROM pg_catalog.pg_stat_replication "
						  "WHERE application_name = $1 AND state = 'streaming'", 1, params);
	if (streaming != NULL && strcmp(streaming, "t") == 0)
		return psprintf("a standby streaming from node %d", new_primary);
	return psprintf("a standby, not streaming from node %d", new_primary);
}

/*
 * After a failure past the promotion: the state of the cluster, and for
 * each node left behind the command that finishes the job.
 */
static void
report_unfinished(RepmgrContext *ctx, PGconn *conn, int my_id, OldPrimary *old,
				  bool rejoined, Sibling *siblings, int nsiblings, bool *failed)
{
	int			i;

	log_error("switchover incomplete: node %d is the primary, but not every node is attached to it",
			  my_id);
	if (!rejoined)
	{
		log_detail("old primary node %d (\"%s\"): %s", old->node_id, old->name,
				   node_now(conn, old->name, old->conninfo, my_id));
		log_hint("Finish with, on the host of node %d: repmgr -f %s %s", old->node_id,
				 old->config_file, rejoin_args(ctx, my_id));
		log_detail("The worker of node %d was paused with the others and could not be unpaused while it is down; the rejoin unpauses it (it takes the pause of the primary).",
				   old->node_id);
	}
	for (i = 0; i < nsiblings; i++)
	{
		if (!failed[i])
			continue;
		log_detail("node %s (\"%s\"): %s", siblings[i].node_id, siblings[i].name,
				   node_now(conn, siblings[i].name, siblings[i].conninfo, my_id));
		log_hint("Finish with, on the host of node %s: repmgr -f <its repmgr.conf> standby follow --upstream-node-id=%d",
				 siblings[i].node_id, my_id);
	}
}

/*
 * After a failed repmgr.promote(): has this node left recovery all the
 * same (promoted, but the metadata could not be written)?
 */
static bool
promoted_anyway(RepmgrContext *ctx, PGconn *conn)
{
	PGconn	   *c = conn;
	bool		in_recovery = true;
	bool		known;

	if (PQstatus(conn) != CONNECTION_OK)
		c = db_connect_quiet(ctx->config->conninfo, 0, NULL);
	if (c == NULL)
		return false;
	known = db_is_in_recovery(c, &in_recovery);
	if (c != conn)
		PQfinish(c);
	return known && !in_recovery;
}

/*
 * Steps 2 to 4.  If they fail before a promotion, the old primary is
 * started again; never after one.
 */
static int
stop_and_promote(RepmgrContext *ctx, PGconn *conn, OldPrimary *old, int my_id)
{
	uint64		checkpoint = 0;
	uint64		checkpoint_end = 0;
	bool		stopping = false;
	char	   *promoted = NULL;
	int			rc;

	rc = stop_old_primary(ctx, old, &checkpoint, &checkpoint_end, &stopping);
	if (rc == SUCCESS)
		rc = wait_checkpoint_received(ctx, conn, checkpoint, checkpoint_end);
	if (rc == SUCCESS)
	{
		const char *params[1] = {int_to_string(old->node_id)};

		log_notice("promoting standby");
		/* the old primary is not asked: it has shut down (see the top) */
		if (checkpoint_end != 0)
			rc = db_query_value(conn, &promoted,
								"SELECT repmgr.promote(shut_down_primary => $1::integer)",
								1, params);
		else
			rc = db_query_value(conn, &promoted, "SELECT repmgr.promote()", 0, NULL);
	}
	/* the stop's process on the old host (it exits on its own) */
	(void) stop_finished(old);
	if (rc != SUCCESS && promoted_anyway(ctx, conn))
	{
		/* two primaries would be worse than a half-done switchover */
		log_error("this node was promoted, but the promotion could not be recorded");
		log_detail("The metadata still names node %d (\"%s\") as the primary; it stays stopped, so that only this node can accept writes.",
				   old->node_id, old->name);
		log_hint("Record node %d as the primary in repmgr.repl_nodes once it accepts writes, then rejoin node %d on its host: repmgr -f %s %s",
				 my_id, old->node_id, old->config_file, rejoin_args(ctx, my_id));
		return rc;
	}
	if (rc != SUCCESS)
	{
		/* the start on its host waits for a shutdown still running to end */
		log_notice("restarting the old primary, node %d", old->node_id);
		if (run_on_old_primary(ctx, old, "node service --action=start", NULL) != SUCCESS)
		{
			log_warning("the old primary could not be restarted: no node is the primary now");
			log_hint("Start it on the host of node %d (repmgr -f %s node service --action=start), then run \"repmgr daemon unpause\": its worker is still paused.",
					 old->node_id, old->config_file);
		}
	}
	return rc;
}

/* steps 2 to 6 */
static int
switch_roles(RepmgrContext *ctx, PGconn *conn, int my_id, OldPrimary *old,
			 Sibling *siblings, int nsiblings)
{
	bool	   *failed = pg_malloc0(sizeof(bool) * (nsiblings + 1));
	bool		rejoined;
	int			rc;
	int			src = SUCCESS;

	rc = stop_and_promote(ctx, conn, old, my_id);
	if (rc != SUCCESS)
		return rc;
	log_notice("STANDBY PROMOTE successful");
	log_detail("node %d was successfully promoted to primary", my_id);

	rc = wait_promotion_recorded(ctx, conn, my_id, old);
	/* the old postmaster may still be exiting: it must be gone to restart */
	if (rc == SUCCESS)
		rc = wait_primary_down(ctx, old);
	if (rc == SUCCESS)
		rc = rejoin_old_primary(ctx, old, my_id);
	rejoined = (rc == SUCCESS);

	if (nsiblings > 0 && ctx->opts->siblings_follow)
		src = siblings_follow(ctx, conn, siblings, nsiblings, my_id, failed);
	else if (nsiblings > 0)
	{
		log_warning("%d other standby(s) still attached to the old primary, node %d",
					nsiblings, old->node_id);
		log_hint("Run \"repmgr standby follow\" on them, or use --siblings-follow.");
	}
	if (rc == SUCCESS)
		rc = src;
	if (rc != SUCCESS)
		report_unfinished(ctx, conn, my_id, old, rejoined, siblings, nsiblings, failed);
	return rc;
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
