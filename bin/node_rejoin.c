/*-------------------------------------------------------------------------
 *
 * node_rejoin.c
 *	  "repmgr node rejoin": bring a stopped node (typically an old primary)
 *	  back as a standby of the current primary.
 *
 * Run on the node's host with the connection of any running node (-d).
 * From pg_controldata of the stopped node and the primary's timeline
 * history it decides whether the node can simply stream from the primary:
 * it can if it shut down cleanly and its WAL ends before the point where
 * the primary's timeline forked from its own.  Otherwise the rejoin is
 * refused unless --force-rewind, which runs pg_rewind (the node's
 * configuration files are kept aside meanwhile, as pg_rewind overwrites
 * them).  Then standby.signal and primary_conninfo are written, the
 * server is started, and repmgr.follow() records it as a standby of the
 * primary.  The event node_rejoin is recorded.
 *
 *-------------------------------------------------------------------------
 */
#include "repmgr.h"

typedef struct PrimaryInfo
{
	PGconn	   *conn;
	int			node_id;
	char	   *name;
	char	   *conninfo;
	unsigned int timeline;
	uint64		lsn;
	char	   *system_identifier;
} PrimaryInfo;

/* the active primary, from the node given on the command line */
static int
find_primary(RepmgrContext *ctx, PrimaryInfo *p)
{
	char	   *given = conninfo_from_options(ctx->opts, DEFAULT_DBNAME);
	PGconn	   *conn;
	PGresult   *res;
	bool		in_recovery;
	int			rc;

	conn = db_connect(given, &rc);
	if (conn == NULL)
		return rc;
	rc = db_query(conn, &res,
				  "SELECT id, name, conninfo FROM repmgr.repl_nodes "
				  "WHERE type = 'primary' AND active", 0, NULL);
	if (rc == SUCCESS && PQntuples(res) == 0)
	{
		log_error("no active primary is registered");
		log_hint("Promote a standby first.");
		rc = ERR_BAD_CONFIG;
	}
	if (rc != SUCCESS)
	{
		PQclear(res);
		PQfinish(conn);
		return rc;
	}
	p->node_id = atoi(PQgetvalue(res, 0, 0));
	p->name = pg_strdup(PQgetvalue(res, 0, 1));
	p->conninfo = pg_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);

	if (p->node_id == ctx->config->node_id)
	{
		log_error("this node (%d) is still registered as the active primary", p->node_id);
		log_hint("Promote a standby first (\"repmgr standby promote\"), then rejoin this node.");
		PQfinish(conn);
		return ERR_BAD_CONFIG;
	}
	if (!db_is_in_recovery(conn, &in_recovery))
	{
		PQfinish(conn);
		return ERR_DB_QUERY;
	}
	if (in_recovery)
	{
		PQfinish(conn);
		conn = db_connect(p->conninfo, &rc);
		if (conn == NULL)
			return rc;
		if (!db_is_in_recovery(conn, &in_recovery))
			return ERR_DB_QUERY;
		if (in_recovery)
		{
			log_error("node %d (\"%s\") is registered as primary but is in recovery",
					  p->node_id, p->name);
			PQfinish(conn);
			return ERR_BAD_CONFIG;
		}
	}
	p->conn = conn;

	rc = db_query(conn, &res,
				  "SELECT s.timeline, s.lsn, c.system_identifier::text "
				  "FROM repmgr.node_state() s, pg_catalog.pg_control_system() c",
				  0, NULL);
	if (rc != SUCCESS)
		return rc;
	p->timeline = (unsigned int) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	(void) lsn_parse(PQgetvalue(res, 0, 1), &p->lsn);
	p->system_identifier = pg_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return SUCCESS;
}

/* where the primary's history left timeline tli (false if it never did) */
static int
timeline_fork_point(PrimaryInfo *p, unsigned int tli, bool *found, uint64 *fork)
{
	const char *params[1] = {psprintf("pg_wal/%08X.history", p->timeline)};
	char	   *history;
	char	   *line;
	char	   *save;
	int			rc;

	*found = false;
	rc = db_query_value(p->conn, &history, "SELECT pg_catalog.pg_read_file($1)", 1, params);
	if (rc != SUCCESS || history == NULL)
		return rc;
	for (line = strtok_r(history, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		unsigned int parent;
		unsigned int hi;
		unsigned int lo;

		if (sscanf(line, "%u %X/%X", &parent, &hi, &lo) == 3 && parent == tli)
		{
			*found = true;
			*fork = ((uint64) hi << 32) | lo;
		}
	}
	return SUCCESS;
}

/*
 * Can this node stream from the primary as it is?  If not, *reason says
 * why, and pg_rewind is needed.
 */
static int
rewind_needed(ControlInfo *me, PrimaryInfo *p, bool *needed, char **reason)
{
	bool		found;
	uint64		fork = 0;
	int			rc;

	*needed = true;
	if (!me->clean_shutdown)
	{
		*reason = psprintf("the server was not shut down cleanly (state \"%s\"): its last WAL position is unknown",
						   me->state);
		return SUCCESS;
	}
	if (p->timeline == me->checkpoint_tli)
	{
		*needed = (me->checkpoint_lsn > p->lsn);
		*reason = psprintf("this node has WAL up to %s on timeline %u, beyond the primary's %s",
						   lsn_format(me->checkpoint_lsn), me->checkpoint_tli, lsn_format(p->lsn));
		return SUCCESS;
	}
	if (p->timeline < me->checkpoint_tli)
	{
		*reason = psprintf("this node is on timeline %u, newer than the primary's timeline %u",
						   me->checkpoint_tli, p->timeline);
		return SUCCESS;
	}
	rc = timeline_fork_point(p, me->checkpoint_tli, &found, &fork);
	if (rc != SUCCESS)
		return rc;
	if (!found)
	{
		*reason = psprintf("timeline %u of this node is not in the history of the primary's timeline %u",
						   me->checkpoint_tli, p->timeline);
		return SUCCESS;
	}
	*needed = (me->checkpoint_lsn >= fork);
	*reason = psprintf("this node has WAL up to %s on timeline %u, beyond %s where the primary's history left it",
					   lsn_format(me->checkpoint_lsn), me->checkpoint_tli, lsn_format(fork));
	return SUCCESS;
}

static int
run_pg_rewind(RepmgrContext *ctx, const char *datadir, PrimaryInfo *p)
{
	StringInfoData cmd;
	char	   *archive;
	char	   *conninfo;
	char	   *secret_file;
	PGconn	   *source;
	int			status;
	int			rc;

	/*
	 * A promoted primary writes its new timeline into pg_control only at
	 * its first checkpoint, and pg_rewind reads the timeline from there.
	 */
	source = db_connect(p->conninfo, &rc);
	if (source == NULL)
		return rc;
	log_notice("checkpoint on the primary, so that pg_rewind sees its timeline");
	rc = db_command(source, "CHECKPOINT", 0, NULL);
	PQfinish(source);
	if (rc != SUCCESS)
		return rc;

	/* a password goes to pg_rewind in a private file, not in argv */
	conninfo = conninfo_for_command(p->conninfo, &secret_file);
	if (conninfo == NULL)
		return ERR_BAD_CONFIG;
	rc = config_files_archive(datadir, &archive);
	if (rc != SUCCESS)
	{
		secret_file_remove(secret_file);
		return rc;
	}
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -D ", pg_program(ctx->config, "pg_rewind"));
	append_shell_quoted(&cmd, datadir);
	appendStringInfoString(&cmd, " --source-server=");
	append_shell_quoted(&cmd, conninfo);
	log_notice("executing pg_rewind on this node");
	status = run_command(cmd.data, NULL);
	secret_file_remove(secret_file);
	rc = config_files_restore(archive, datadir);
	if (status != 0)
	{
		log_error("pg_rewind failed with exit status %d", status);
		log_hint("pg_rewind needs wal_log_hints = on (or data checksums) and the WAL of this node back to the last checkpoint both nodes share: keep it with wal_keep_size, or archive it and set restore_command.");
		return ERR_BAD_RSYNC;
	}
	return rc;
}

/* this node's slot: from its record, or repmgr_slot_<node> if wanted */
static int
slot_for_rejoin(RepmgrContext *ctx, PrimaryInfo *p, char **slot, bool *reregister)
{
	const char *params[1] = {int_to_string(ctx->config->node_id)};
	int			rc;

	*reregister = false;
	rc = db_query_value(p->conn, slot,
						"SELECT slot_name FROM repmgr.repl_nodes WHERE id = $1::integer",
						1, params);
	if (rc != SUCCESS)
		return rc;
	if (*slot == NULL && ctx->config->use_replication_slots)
	{
		*slot = slot_name_for(ctx->config->node_id);
		*reregister = true;
	}
	if (*slot != NULL)
	{
		params[0] = *slot;
		rc = db_command(p->conn,
						"SELECT pg_catalog.pg_create_physical_replication_slot($1, true) "
						"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots "
						"WHERE slot_name = $1)", 1, params);
	}
	return rc;
}

/*
 * The slots this node kept from its time as an upstream, for nodes that do
 * not stream from it any more: inactive, they would retain WAL forever.
 */
static void
drop_stale_slots(PGconn *conn, int node_id)
{
	const char *params[1] = {int_to_string(node_id)};
	char	   *dropped = NULL;

	if (db_query_value(conn, &dropped,
					   "SELECT count(pg_catalog.pg_drop_replication_slot(s.slot_name)) "
					   "FROM pg_catalog.pg_replication_slots s "
					   "WHERE NOT s.active AND s.slot_type = 'physical' AND s.slot_name IN "
					   "(SELECT n.slot_name FROM repmgr.repl_nodes n WHERE n.slot_name IS NOT NULL "
					   "AND n.upstream_node_id IS DISTINCT FROM $1::integer)",
					   1, params) != SUCCESS)
		log_warning("could not drop the stale replication slots of this node");
	else if (dropped != NULL && strcmp(dropped, "0") != 0)
		log_notice("dropped %s replication slot(s) of nodes that no longer stream from this node",
				   dropped);
}

/* started as a standby: record it (re-registered if it needs a slot) */
static int
attach_to_primary(RepmgrContext *ctx, PrimaryInfo *p, const char *slot, bool reregister)
{
	RepmgrConfig *config = ctx->config;
	PGconn	   *conn;
	const char *params[7];
	char	   *target = NULL;
	int			rc;

	rc = connect_local_node(ctx, &conn);
	if (rc != SUCCESS)
		return rc;
	if (reregister)
	{
		params[0] = int_to_string(config->node_id);
		params[1] = config->node_name;
		params[2] = config->conninfo;
		params[3] = int_to_string(p->node_id);
		params[4] = int_to_string(config->priority);
		params[5] = config->location;
		params[6] = slot;
		rc = db_command(conn,
						"SELECT repmgr.standby_register(node_id => $1::integer, node_name => $2, "
						"conninfo => $3, upstream_node_id => $4::integer, priority => $5::integer, "
						"location => $6, slot_name => $7, force => true)",
						7, params);
	}
	if (rc == SUCCESS)
		rc = db_query_value(conn, &target, "SELECT repmgr.follow()", 0, NULL);
	if (rc == SUCCESS)
		drop_stale_slots(conn, config->node_id);
	PQfinish(conn);
	if (rc == SUCCESS && target != NULL && atoi(target) != p->node_id)
		log_warning("this node follows node %s, not node %d", target, p->node_id);
	return rc;
}

static int
rejoin(RepmgrContext *ctx, const char *datadir, PrimaryInfo *p, bool rewind)
{
	RepmgrConfig *config = ctx->config;
	GucSetting	settings[2];
	char	   *slot = NULL;
	bool		reregister;
	int			rc;

	rc = slot_for_rejoin(ctx, p, &slot, &reregister);
	if (rc == SUCCESS && rewind)
		rc = run_pg_rewind(ctx, datadir, p);
	if (rc != SUCCESS)
		return rc;

	settings[0].name = "primary_conninfo";
	settings[0].value = conninfo_set(p->conninfo, "application_name", config->node_name);
	settings[1].name = "primary_slot_name";
	settings[1].value = reregister ? NULL : slot;
	rc = auto_conf_set(datadir, settings, 2);
	if (rc == SUCCESS)
		rc = standby_signal_write(datadir);
	if (rc != SUCCESS)
		return rc;

	if (pg_ctl_run(config, datadir, "start", NULL) != 0)
		return ERR_NO_RESTART;
	rc = attach_to_primary(ctx, p, slot, reregister);
	if (rc != SUCCESS)
		return rc;

	rc = wait_for_streaming(p->conn, config->node_name, ctx->opts->timeout);
	if (rc == SUCCESS)
		log_notice("node %d is replicating in state \"streaming\"", config->node_id);
	else if (rc < 0)
	{
		log_warning("node %d is not streaming from node %d after %d seconds",
					config->node_id, p->node_id, ctx->opts->timeout);
		rc = SUCCESS;
	}
	return rc;
}

int
do_node_rejoin(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	PrimaryInfo primary;
	ControlInfo me;
	char	   *datadir;
	char	   *reason = NULL;
	bool		rewind;
	long		pid;
	int			rc;

	memset(&primary, 0, sizeof(primary));
	if (!connection_options_given(ctx->opts))
	{
		log_error("node rejoin needs the connection of a running node of the cluster");
		log_hint("Use -d 'host=... dbname=... user=...' (or -h, -p, -U).");
		return ERR_BAD_CONFIG;
	}
	rc = resolve_data_directory(ctx, NULL, &datadir);
	if (rc != SUCCESS)
		return rc;
	if (postmaster_running(datadir, &pid))
	{
		log_error("the server of \"%s\" is running (PID %ld)", datadir, pid);
		log_hint("node rejoin attaches a stopped node; stop it first, or use \"repmgr standby follow\" for a running standby.");
		return ERR_BAD_CONFIG;
	}
	rc = controldata_read(config, datadir, &me);
	if (rc == SUCCESS)
		rc = find_primary(ctx, &primary);
	if (rc == SUCCESS && strcmp(primary.system_identifier, me.system_identifier) != 0)
	{
		log_error("this node (system identifier %s) is not a copy of the primary (%s)",
				  me.system_identifier, primary.system_identifier);
		log_hint("Clone it afresh with \"repmgr standby clone\".");
		rc = ERR_BAD_CONFIG;
	}
	if (rc == SUCCESS)
		rc = rewind_needed(&me, &primary, &rewind, &reason);
	if (rc == SUCCESS && rewind && !ctx->opts->force_rewind)
	{
		log_error("node %d cannot attach to node %d (\"%s\") without a rewind",
				  config->node_id, primary.node_id, primary.name);
		log_detail("%s", reason);
		log_hint("Use --force-rewind to run pg_rewind, or clone the node afresh.");
		rc = ERR_BAD_CONFIG;
	}
	if (rc != SUCCESS || ctx->opts->dry_run)
	{
		if (rc == SUCCESS)
		{
			log_notice("prerequisites for rejoining node %d are met", config->node_id);
			log_detail("it would %sstream from node %d (\"%s\")%s%s",
					   rewind ? "be rewound with pg_rewind and " : "",
					   primary.node_id, primary.name, rewind ? ": " : "",
					   rewind ? reason : "");
		}
		PQfinish(primary.conn);
		return rc;
	}

	if (rewind)
		log_notice("pg_rewind is needed: %s", reason);
	rc = rejoin(ctx, datadir, &primary, rewind);
	(void) record_event(primary.conn, config->node_id, "node_rejoin", rc == SUCCESS,
						psprintf(rc == SUCCESS ? "node %d is now attached to node %d; pg_rewind: %s"
								 : "node %d could not rejoin node %d; pg_rewind: %s",
								 config->node_id, primary.node_id, rewind ? "yes" : "no"));
	PQfinish(primary.conn);
	if (rc == SUCCESS)
	{
		log_notice("NODE REJOIN successful");
		log_detail("node %d is now attached to node %d", config->node_id, primary.node_id);
	}
	return rc;
}
