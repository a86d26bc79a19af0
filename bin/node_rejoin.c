/*-------------------------------------------------------------------------
 *
 * node_rejoin.c
 *	  "repmgr node rejoin": bring a stopped node (typically an old primary)
 *	  back as a standby of the current primary.
 *
 * Run on the node's host with the connection of any running node (-d),
 * and optionally --upstream-node-id, the node to attach to ("standby
 * switchover" names the node it promoted); otherwise the active primary
 * of the metadata there.  Either must run as a primary, not fenced:
 * right after a promotion it is waited for, with a deadline.  From
 * pg_controldata of the stopped node and the primary's timeline history
 * it decides whether the node can simply stream from the primary: it can
 * if it shut down cleanly and its WAL ends before the point where the
 * primary's timeline forked from its own.  Otherwise the rejoin is refused
 * unless --force-rewind, which runs pg_rewind (the node's configuration
 * files and repmgr's files, its state and password file, are kept aside
 * meanwhile, as pg_rewind overwrites them with the primary's, and those
 * it brings that the node did not have are removed; a configuration
 * outside the data directory is given with --config-file, which its crash
 * recovery in single-user mode needs).  With a synchronous set managed,
 * the node must not know a newer term than the primary's
 * (wait_current_term), rewound or not: it keeps its own.  Then
 * standby.signal and primary_conninfo are written, the server is started
 * (service.c: the service command, pg_ctlcluster or pg_ctl) and, once it
 * has replayed what the primary had written (so that its own copy of the
 * metadata knows of the promotion), repmgr.follow() records it as a
 * standby of the primary, and its worker takes the primary's pause.  The
 * event node_rejoin is recorded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "lib/stringinfo.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "conninfo.h"
#include "controlfile.h"
#include "datadir.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"
#include "service.h"

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

/*
 * How long a rejoin without --upstream-node-id waits for the metadata to
 * name a primary that runs as one (a promotion a moment ago); with the id,
 * it waits up to --timeout for that node to leave recovery.
 */
#define METADATA_SETTLE_SECS 10

/*
 * The record of the node to attach to, read through conn: node node_id,
 * or (node_id 0) the active primary.  *found is false if there is none.
 */
static int
read_primary_record(PGconn *conn, int node_id, PrimaryInfo *p, bool *found)
{
	const char *params[1] = {int_to_string(node_id)};
	PGresult   *res;
	int			rc;

	*found = false;
	rc = db_query(conn, &res,
				  node_id > 0 ?
				  "SELECT id, name, conninfo FROM repmgr.repl_nodes WHERE id = $1::integer" :
				  "SELECT id, name, conninfo FROM repmgr.repl_nodes "
				  "WHERE type = 'primary' AND active",
				  node_id > 0 ? 1 : 0, node_id > 0 ? params : NULL);
	if (rc != SUCCESS)
		return rc;
	if (PQntuples(res) > 0)
	{
		*found = true;
		p->node_id = atoi(PQgetvalue(res, 0, 0));
		p->name = pg_strdup(PQgetvalue(res, 0, 1));
		p->conninfo = pg_strdup(PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	return SUCCESS;
}

/*
 * A connection to p if it runs as a primary that is not fenced (a fenced
 * one is an old primary, replaced by a newer one, whose metadata may not
 * know it yet); NULL with *why saying what it is instead.
 */
static PGconn *
connect_if_primary(PrimaryInfo *p, char **why)
{
	PGconn	   *conn;
	PGresult   *res;
	char	   *error = NULL;

	conn = db_connect_quiet(p->conninfo, 0, &error);
	if (conn == NULL)
	{
		*why = psprintf("node %d (\"%s\") is not reachable: %s", p->node_id, p->name, error);
		return NULL;
	}
	if (db_query(conn, &res, "SELECT in_recovery, fenced FROM repmgr.node_state()",
				 0, NULL) != SUCCESS || PQntuples(res) != 1)
		*why = psprintf("could not read the state of node %d (\"%s\")", p->node_id, p->name);
	else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
		*why = psprintf("node %d (\"%s\") is in recovery, not running as primary",
						p->node_id, p->name);
	else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0)
		*why = psprintf("node %d (\"%s\") is fenced: an old primary, replaced by a newer one",
						p->node_id, p->name);
	else
	{
		PQclear(res);
		return conn;
	}
	PQclear(res);
	PQfinish(conn);
	return NULL;
}

/*
 * The primary to attach to, through the node given on the command line:
 * the node of --upstream-node-id, or the active primary of the metadata
 * there.  Right after a promotion, metadata and reality may disagree for a
 * moment (the change not yet replayed where we read it, the promoted node
 * still ending its recovery): until the deadline, what is not yet a
 * running primary is asked again rather than refused.
 */
static int
find_primary(RepmgrContext *ctx, PrimaryInfo *p)
{
	char	   *given = conninfo_from_options(ctx->opts, DEFAULT_DBNAME);
	int			target = ctx->opts->upstream_node_id;
	double		deadline;
	PGconn	   *conn;
	PGresult   *res;
	char	   *why = NULL;
	int			rc;

	if (target == ctx->config->node_id)
	{
		log_error("this node (%d) cannot rejoin as a standby of itself", target);
		return ERR_BAD_CONFIG;
	}
	conn = db_connect(given, &rc);
	if (conn == NULL)
		return rc;
	deadline = monotonic_seconds() +
		(target > 0 ? ctx->opts->timeout : Min(ctx->opts->timeout, METADATA_SETTLE_SECS));
	for (;;)
	{
		bool		found;

		rc = read_primary_record(conn, target, p, &found);
		if (rc != SUCCESS)
		{
			PQfinish(conn);
			return rc;
		}
		if (!found)
			why = target > 0 ? psprintf("node %d is not registered", target)
				: pstrdup("no active primary is registered");
		else if (p->node_id == ctx->config->node_id)
			why = psprintf("this node (%d) is still registered as the active primary", p->node_id);
		else if ((p->conn = connect_if_primary(p, &why)) != NULL)
			break;
		if (monotonic_seconds() >= deadline)
		{
			log_error("%s", why);
			log_hint("Promote a standby first (\"repmgr standby promote\"), then rejoin this node.");
			PQfinish(conn);
			return ERR_BAD_CONFIG;
		}
		log_debug("waiting for a primary: %s", why);
		sleep_ms(50);
	}
	PQfinish(conn);

	rc = db_query(p->conn, &res,
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

/* the primary's history file (of its own timeline), or NULL on timeline 1 */
static int
primary_history(PrimaryInfo *p, char **history)
{
	const char *params[1] = {psprintf("pg_wal/%08X.history", p->timeline)};

	*history = NULL;
	if (p->timeline < 2)
		return SUCCESS;
	return db_query_value(p->conn, history, "SELECT pg_catalog.pg_read_file($1)", 1, params);
}

/*
 * A history file's text (the file of timeline file_tli): where timeline
 * tli ended (*end: tli is an ancestor) and where it began (*begin: the end
 * of the entry before it, or of the last one when tli is file_tli itself).
 * false: tli is not on that line.
 */
static bool
history_span(const char *text, unsigned int file_tli, unsigned int tli,
			 uint64 *begin, uint64 *end)
{
	char	   *copy = pg_strdup(text ? text : "");
	char	   *line;
	char	   *save;
	uint64		prev_end = 0;
	bool		found = false;

	*end = 0;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		unsigned int parent;
		unsigned int hi;
		unsigned int lo;

		if (sscanf(line, "%u %X/%X", &parent, &hi, &lo) != 3)
			continue;
		if (parent == tli)
		{
			*begin = prev_end;
			*end = ((uint64) hi << 32) | lo;
			found = true;
			break;
		}
		prev_end = ((uint64) hi << 32) | lo;
	}
	if (!found && file_tli == tli)
	{
		*begin = prev_end;
		found = true;
	}
	pg_free(copy);
	return found;
}

/* where the primary's history left timeline tli (false if it never did) */
static int
timeline_fork_point(PrimaryInfo *p, unsigned int tli, bool *found, uint64 *fork)
{
	char	   *history;
	uint64		begin;
	int			rc;

	*found = false;
	rc = primary_history(p, &history);
	if (rc != SUCCESS || history == NULL)
		return rc;
	*found = history_span(history, p->timeline, tli, &begin, fork) && tli != p->timeline;
	return SUCCESS;
}

/*
 * PostgreSQL numbers a promotion's timeline one above the newest in the
 * promoted node's history, so two standbys of one timeline that are both
 * promoted begin two lines of WAL with the same ID (the workers' rule (j)
 * makes it rare, not impossible: src/decide.c).  Streaming and pg_rewind
 * know a timeline by its ID and where it began only, and would take the
 * two for one.  Is this node's timeline such a twin of the one of the
 * same ID on the primary's line?  They differ where they began (the
 * history files), or, for the node that was the primary of its timeline,
 * in who began it (repl_timelines on the primary).  *why says how.
 */
static int
timeline_twin(const char *datadir, ControlInfo *me, int self_id, PrimaryInfo *p,
			  char **why)
{
	unsigned int tli = me->checkpoint_tli;
	char		path[MAXPGPATH];
	char	   *mine = NULL;
	char	   *theirs = NULL;
	uint64		my_begin = 0;
	uint64		their_begin = 0;
	uint64		end;
	const char *params[1];
	PGresult   *res;
	bool		was_primary;
	bool		promoted_here = false;
	int			rc;
	int			i;

	*why = NULL;
	if (tli < 2 || tli > p->timeline)
		return SUCCESS;
	rc = primary_history(p, &theirs);
	if (rc != SUCCESS || !history_span(theirs, p->timeline, tli, &their_begin, &end))
		return rc;
	if (path_join(path, sizeof(path), datadir, psprintf("pg_wal/%08X.history", tli)) &&
		access(path, F_OK) == 0 && file_read(path, &mine) == SUCCESS &&
		history_span(mine, tli, tli, &my_begin, &end) && my_begin != their_begin)
	{
		*why = psprintf("this node's timeline %u began at %s, the primary's timeline %u at %s",
						tli, lsn_format(my_begin), tli, lsn_format(their_begin));
		return SUCCESS;
	}

	/* the node ran as the primary of its timeline: its own promotion began it */
	was_primary = strcmp(me->state, "shut down") == 0 || strcmp(me->state, "in production") == 0;
	if (!was_primary)
		return SUCCESS;
	/* (its rows are of its own line: IDs grow along a line) */
	params[0] = psprintf("%u", tli);
	rc = db_query(p->conn, &res,
				  "SELECT node_id, term FROM repmgr.repl_timelines "
				  "WHERE timeline = $1 ORDER BY term",
				  1, params);
	if (rc != SUCCESS)
		return rc;
	for (i = 0; i < PQntuples(res); i++)
		promoted_here |= (atoi(PQgetvalue(res, i, 0)) == self_id);
	if (PQntuples(res) > 0 && !promoted_here)
		*why = psprintf("this node ran as the primary of its timeline %u, but the primary's timeline %u was begun by the promotion of node %s in term %s",
						tli, tli, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
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

/*
 * The term this stopped node knew last, from the worker's state file in
 * its data directory (src/statefile.c writes "term=N" lines); 0 if it has
 * none (a node that never saw an election).
 */
static int64
stopped_node_term(const char *datadir)
{
	char		path[MAXPGPATH];
	char	   *contents = NULL;
	char	   *line;
	char	   *save;
	int64		term = 0;

	if (!path_join(path, sizeof(path), datadir, "repmgr.state") ||
		access(path, F_OK) != 0 ||
		file_read(path, &contents) != SUCCESS || contents == NULL)
		return 0;
	for (line = strtok_r(contents, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "term=", 5) == 0)
			term = strtoll(line + 5, NULL, 10);
	pfree(contents);
	return term;
}

/*
 * With a synchronous set managed (the primary's repmgr.synchronous), a
 * node streams only from a primary whose heartbeats it accepts: one whose
 * term is not older than its own (src/failover.c, follow_event).  A node
 * that voted in a newer term, in an election that elected nobody, waits
 * until --timeout for the primary's re-election in a newer term.  Asked
 * also when pg_rewind runs: the node keeps its own state file (datadir.c,
 * config_files_archive), its term and its vote with it.
 */
static int
wait_current_term(RepmgrContext *ctx, const char *datadir, PrimaryInfo *p)
{
	int64		mine = stopped_node_term(datadir);
	double		deadline = monotonic_seconds() + ctx->opts->timeout;
	PGresult   *res;
	int			rc;

	if (mine == 0)
		return SUCCESS;
	for (;;)
	{
		bool		managed;
		int64		term;

		rc = db_query(p->conn, &res,
					  "SELECT term, coalesce(current_setting('repmgr.synchronous', true), 'off') <> 'off' "
					  "FROM repmgr.node_state()", 0, NULL);
		if (rc != SUCCESS)
			return rc;
		term = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		managed = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		PQclear(res);
		if (!managed || term >= mine)
			return SUCCESS;
		if (monotonic_seconds() >= deadline)
		{
			log_error("node %d (\"%s\") is primary in term " INT64_FORMAT ", older than term " INT64_FORMAT " of this node",
					  p->node_id, p->name, term, mine);
			log_detail("This node voted in an election of a newer term that elected nobody; with a synchronous set managed it does not stream from a primary of an older term, which could count its acknowledgements.");
			log_hint("The primary stands for re-election in a newer term while a running node of term " INT64_FORMAT " refuses its heartbeats; run node rejoin again then, or with a longer --timeout.",
					 mine);
			return ERR_BAD_CONFIG;
		}
		log_debug("waiting for node %d to be re-elected in term " INT64_FORMAT " or newer (now " INT64_FORMAT ")",
				  p->node_id, mine, term);
		sleep_ms(200);
	}
}

/*
 * After a failed pg_rewind: the hint for what its messages say.  It runs
 * the server in single-user mode to finish a crash recovery, which needs
 * the server's configuration: pg_rewind looks for postgresql.conf in the
 * data directory unless it is given --config-file.
 */
static void
hint_rewind_failure(const char *output, const char *config_file)
{
	if (strstr(output, "could not access the server configuration file") != NULL ||
		strstr(output, "contains errors") != NULL ||
		strstr(output, "postgres single-user mode") != NULL ||
		strstr(output, "in single-user mode") != NULL)
	{
		if (config_file == NULL)
			log_hint("pg_rewind runs the server in single-user mode to finish its crash recovery, and could not use its configuration: set config_directory in repmgr.conf to the directory of this node's postgresql.conf.");
		else
			log_hint("pg_rewind runs the server in single-user mode to finish its crash recovery with \"%s\": check that it works (the server's log, or \"postgres -C data_directory --config-file=%s\" as the owner of the data directory).",
					 config_file, config_file);
	}
	else if (strstr(output, "wal_log_hints") != NULL || strstr(output, "data checksums") != NULL)
		log_hint("pg_rewind needs wal_log_hints = on (or data checksums) on this node: set it, start and stop the node once, or clone it afresh.");
	else if (strstr(output, "could not find previous WAL record") != NULL ||
			 strstr(output, "could not open file") != NULL ||
			 strstr(output, "could not find common ancestor") != NULL)
		log_hint("pg_rewind needs the WAL of this node back to the last checkpoint both nodes share: keep it with wal_keep_size, or archive it and set restore_command; otherwise clone this node afresh.");
	else
		log_hint("See the messages of pg_rewind above; \"repmgr standby clone --force\" makes this node afresh.");
}

static int
run_pg_rewind(RepmgrContext *ctx, const char *datadir, PrimaryInfo *p)
{
	StringInfoData cmd;
	StringInfoData output;
	ServerLayout layout;
	char	   *config_file;
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
	server_layout(ctx->config, datadir, &layout);
	config_file = server_config_file(&layout);
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -D ", pg_program(ctx->config, "pg_rewind"));
	append_shell_quoted(&cmd, datadir);
	/* the configuration its crash recovery in single-user mode needs */
	if (config_file != NULL)
	{
		appendStringInfoString(&cmd, " --config-file=");
		append_shell_quoted(&cmd, config_file);
	}
	appendStringInfoString(&cmd, " --source-server=");
	append_shell_quoted(&cmd, conninfo);
	appendStringInfoString(&cmd, " 2>&1");
	log_notice("executing pg_rewind on this node");
	initStringInfo(&output);
	status = run_command(cmd.data, &output);
	secret_file_remove(secret_file);
	fputs(output.data, stderr);
	rc = config_files_restore(archive, datadir);
	if (status != 0)
	{
		log_error("pg_rewind failed with exit status %d", status);
		hint_rewind_failure(output.data, config_file);
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

/*
 * The pause of the workers is cluster-wide, but kept in each data
 * directory: a node that was down when the others were unpaused (an old
 * primary after a switchover that failed part-way) comes back paused, and
 * one down during a pause comes back unpaused.  A rejoined node takes the
 * primary's: during a switchover that is paused (the switchover unpauses
 * every node at its end), otherwise what the cluster runs with.
 */
static void
adopt_pause(PGconn *conn, PrimaryInfo *p)
{
	const char *sql = "SELECT paused FROM repmgr.daemon_status()";
	const char *params[1];
	char	   *mine = NULL;
	char	   *theirs = NULL;

	if (db_query_value(p->conn, &theirs, sql, 0, NULL) != SUCCESS ||
		db_query_value(conn, &mine, sql, 0, NULL) != SUCCESS ||
		mine == NULL || theirs == NULL || strcmp(mine, theirs) == 0)
		return;
	params[0] = theirs;
	if (db_command(conn, "SELECT repmgr.daemon_set_paused($1::boolean)", 1, params) != SUCCESS)
	{
		log_warning("could not %s the worker of this node as the primary's is",
					strcmp(theirs, "t") == 0 ? "pause" : "unpause");
		log_hint("Run \"repmgr daemon %s\".", strcmp(theirs, "t") == 0 ? "pause" : "unpause");
		return;
	}
	log_notice("the worker of this node was %s (kept in its data directory): %s, as the primary's is",
			   strcmp(mine, "t") == 0 ? "paused" : "not paused",
			   strcmp(theirs, "t") == 0 ? "paused" : "unpaused");
}

/*
 * Started as a standby: record it (re-registered if it needs a slot) as a
 * standby of the primary, named by id, and give it the primary's pause.
 */
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

	/*
	 * What runs here next (standby_register, follow) reads this node's own
	 * copy of the metadata: it must know of the promotion that made the
	 * primary one, or it takes this node for the primary it was.
	 */
	rc = wait_for_replay(conn, p->conn, ctx->opts->timeout);
	if (rc < 0)
	{
		log_error("this node has not replayed the WAL of node %d after %d seconds",
				  p->node_id, ctx->opts->timeout);
		log_hint("Check that it streams from node %d (its log, pg_stat_wal_receiver).",
				 p->node_id);
		rc = ERR_FAILOVER_FAIL;
	}
	if (rc == SUCCESS && reregister)
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
	{
		params[0] = int_to_string(p->node_id);
		rc = db_query_value(conn, &target,
							"SELECT repmgr.follow(upstream_node_id => $1::integer)", 1, params);
	}
	if (rc == SUCCESS)
		drop_stale_slots(conn, config->node_id);
	if (rc == SUCCESS)
		adopt_pause(conn, p);
	PQfinish(conn);
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
	settings[0].value = primary_conninfo_for(conninfo_set(p->conninfo, "application_name",
														  config->node_name), datadir);
	if (settings[0].value == NULL)
		return ERR_BAD_CONFIG;
	settings[1].name = "primary_slot_name";
	settings[1].value = reregister ? NULL : slot;
	rc = auto_conf_set(datadir, settings, 2);
	if (rc == SUCCESS)
		rc = standby_signal_write(datadir);
	if (rc != SUCCESS)
		return rc;

	if (service_run(config, datadir, SERVICE_START) != 0)
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
	/* an old primary still exiting after its shutdown checkpoint (switchover) */
	if (postmaster_stopping(datadir))
	{
		log_info("waiting for the server of \"%s\" to finish its shutdown", datadir);
		(void) wait_postmaster_gone(datadir);
	}
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
		rc = timeline_twin(datadir, &me, config->node_id, &primary, &reason);
	if (rc == SUCCESS && reason != NULL)
	{
		log_error("timeline %u of node %d is not the timeline %u of node %d (\"%s\"): two promotions gave one ID to two lines of WAL",
				  me.checkpoint_tli, config->node_id, me.checkpoint_tli,
				  primary.node_id, primary.name);
		log_detail("%s", reason);
		log_hint("Neither streaming nor pg_rewind can tell the two apart (they know a timeline by its ID and where it began): clone this node afresh with \"repmgr standby clone --force\".");
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
	if (rc == SUCCESS)
		rc = wait_current_term(ctx, datadir, &primary);
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
