/*-------------------------------------------------------------------------
 *
 * helpers.c
 *	  Small steps shared by the actions of bin/repmgr: the connection
 *	  string of -h/-p/-U/-d, connecting to this node, finding its data
 *	  directory, waiting for a standby to stream, recording an event, and
 *	  time for polling with a deadline.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <time.h>

#include "cli.h"
#include "commands.h"
#include "conninfo.h"
#include "db.h"
#include "helpers.h"
#include "log.h"

double
monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
sleep_ms(int ms)
{
	pg_usleep(ms * 1000L);
}

/*
 * The pause of a poll on a switchover's write gap (the old primary's
 * shutdown checkpoint, its receipt by the standby): 1 ms for the first
 * 200 ms after started (monotonic_seconds()), when the awaited moment is
 * due, then 5 ms.
 */
void
poll_pause(double started)
{
	sleep_ms(monotonic_seconds() - started < 0.2 ? 1 : 5);
}

/* was any of -h/-p/-U/-d given? */
bool
connection_options_given(RuntimeOptions *opts)
{
	return opts->host || opts->port || opts->username || opts->dbname;
}

/*
 * The connection string of -h/-p/-U/-d (-d may itself be a connection
 * string); default_dbname when no database is given.
 */
char *
conninfo_from_options(RuntimeOptions *opts, const char *default_dbname)
{
	char	   *conninfo = pg_strdup("");

	if (opts->dbname != NULL)
	{
		if (strchr(opts->dbname, '=') != NULL ||
			strncmp(opts->dbname, "postgresql://", 13) == 0 ||
			strncmp(opts->dbname, "postgres://", 11) == 0)
			conninfo = conninfo_normalize(opts->dbname);
		else
			conninfo = conninfo_set(conninfo, "dbname", opts->dbname);
	}
	if (opts->host)
		conninfo = conninfo_set(conninfo, "host", opts->host);
	if (opts->port)
		conninfo = conninfo_set(conninfo, "port", opts->port);
	if (opts->username)
		conninfo = conninfo_set(conninfo, "user", opts->username);
	if (default_dbname && conninfo_get(conninfo, "dbname") == NULL)
		conninfo = conninfo_set(conninfo, "dbname", default_dbname);
	return conninfo;
}

/* connect to this node (conninfo of repmgr.conf) */
int
connect_local_node(RepmgrContext *ctx, PGconn **conn)
{
	int			rc;

	*conn = db_connect(ctx->config->conninfo, &rc);
	if (*conn == NULL)
		log_hint("Check \"conninfo\" in \"%s\" and that the server is running.",
				 ctx->config->config_file ? ctx->config->config_file : "repmgr.conf");
	return rc;
}

/*
 * This node's data directory: -D, else data_directory of repmgr.conf,
 * else (with conn) the running server's.  Made absolute: it is passed to
 * other programs, possibly on another host.
 */
int
resolve_data_directory(RepmgrContext *ctx, PGconn *conn, char **datadir)
{
	char	   *dir = ctx->opts->data_dir;

	if (dir == NULL)
		dir = ctx->config->data_directory;
	if (dir == NULL && conn != NULL)
	{
		int			rc = db_query_value(conn, &dir,
										"SELECT pg_catalog.current_setting('data_directory')",
										0, NULL);

		if (rc != SUCCESS)
			return rc;
	}
	if (dir == NULL || dir[0] == '\0')
	{
		log_error("no data directory given");
		log_hint("Use -D/--data-dir, or set data_directory in repmgr.conf.");
		return ERR_BAD_CONFIG;
	}
	*datadir = make_absolute_path(dir);
	if (*datadir == NULL)
	{
		log_error("could not make \"%s\" an absolute path", dir);
		return ERR_SYS_FAILURE;
	}
	canonicalize_path(*datadir);
	return SUCCESS;
}

/*
 * Poll upstream until a walsender with this application_name streams.
 * Returns SUCCESS, -1 on timeout, or the exit code of a failed query.
 */
int
wait_for_streaming(PGconn *upstream, const char *application_name,
				   int timeout_secs)
{
	double		deadline = monotonic_seconds() + timeout_secs;
	const char *params[1] = {application_name};

	for (;;)
	{
		char	   *state;
		int			rc = db_query_value(upstream, &state,
										"SELECT state FROM pg_catalog.pg_stat_replication "
										"WHERE application_name = $1 "
										"ORDER BY state = 'streaming' DESC LIMIT 1",
										1, params);

		if (rc != SUCCESS)
			return rc;
		if (state != NULL && strcmp(state, "streaming") == 0)
			return SUCCESS;
		if (monotonic_seconds() >= deadline)
			return -1;
		sleep_ms(200);
	}
}

/*
 * Poll standby until it has replayed all primary had written when asked:
 * its copy of the metadata then holds every change made so far.  Returns
 * SUCCESS, -1 on timeout, or the exit code of a failed query.
 */
int
wait_for_replay(PGconn *standby, PGconn *primary, int timeout_secs)
{
	double		deadline = monotonic_seconds() + timeout_secs;
	const char *params[1];
	char	   *lsn;
	int			rc;

	rc = db_query_value(primary, &lsn, "SELECT pg_catalog.pg_current_wal_lsn()", 0, NULL);
	if (rc != SUCCESS)
		return rc;
	params[0] = lsn;
	for (;;)
	{
		char	   *replayed;

		rc = db_query_value(standby, &replayed,
							"SELECT pg_catalog.pg_last_wal_replay_lsn() >= $1::pg_lsn",
							1, params);
		if (rc != SUCCESS)
			return rc;
		if (replayed != NULL && strcmp(replayed, "t") == 0)
			return SUCCESS;
		if (monotonic_seconds() >= deadline)
			return -1;
		sleep_ms(5);
	}
}

/* repmgr.record_event() through conn; a failure is a warning only */
int
record_event(PGconn *conn, int node_id, const char *event, bool successful,
			 const char *details)
{
	const char *params[4];
	int			rc;

	params[0] = int_to_string(node_id);
	params[1] = event;
	params[2] = successful ? "true" : "false";
	params[3] = details;
	rc = db_command(conn,
					"SELECT repmgr.record_event(node_id => $1::integer, event => $2, "
					"successful => $3::boolean, details => $4)",
					4, params);
	if (rc != SUCCESS)
		log_warning("unable to record event \"%s\"", event);
	return rc;
}

char *
slot_name_for(int node_id)
{
	return psprintf(SLOT_NAME_FORMAT, node_id);
}

/* after a refused registration: the tool's way to overwrite the record */
void
hint_force_if_registered(RepmgrContext *ctx, int rc)
{
	if (rc != SUCCESS && !ctx->opts->force &&
		strcmp(db_last_sqlstate(), "42710") == 0)
		log_hint("With repmgr, -F/--force overwrites the existing record.");
}
