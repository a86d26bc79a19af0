/*-------------------------------------------------------------------------
 *
 * db.c
 *	  Database access of bin/repmgr: connecting, parameterized queries,
 *	  the server's errors and notices in the tool's log format, the
 *	  mapping of SQLSTATEs to exit codes, and whether a connection string
 *	  reaches this host (the rest of connection strings is
 *	  common/conninfo.c, shared with the extension).
 *
 * A failed query is logged as the server reported it:
 *
 *		[ERROR] node 1 ("node1") is running as primary
 *		[HINT] A standby is promoted only when the primary is down: ...
 *
 * and its SQLSTATE decides the exit code: a connection failure is
 * ERR_DB_CON, a refusal because the cluster or the node is not in the
 * state the request needs (55000, 42710, 42704, 23503, 22xxx) is
 * ERR_BAD_CONFIG as in repmgr 3.x, anything else ERR_DB_QUERY.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "cli.h"
#include "conninfo.h"
#include "db.h"
#include "log.h"

#define CONNECT_TIMEOUT_DEFAULT "10"

/* SQLSTATE of the last failed query, for a caller's more specific hint */
static char last_sqlstate[6] = "";

const char *
db_last_sqlstate(void)
{
	return last_sqlstate;
}

/* server notices and warnings, in our log format */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	LogLevel	level = LOG_NOTICE;

	if (primary == NULL)
		return;
	if (severity == NULL)
		level = LOG_NOTICE;
	else if (strcmp(severity, "WARNING") == 0)
		level = LOG_WARNING;
	else if (strcmp(severity, "INFO") == 0 || strcmp(severity, "LOG") == 0)
		level = LOG_INFO;
	else if (strncmp(severity, "DEBUG", 5) == 0)
		level = LOG_DEBUG;
	log_message(level, "%s", primary);
	if (detail)
		log_detail("%s", detail);
	if (hint)
		log_hint("%s", hint);
}

/*
 * An empty search_path for every session of the tool, as pg_dump does: a
 * role that can create objects in a schema of the user's search_path
 * (public, or its own) could otherwise put an operator or function there
 * that our queries would call with the caller's privileges.  pg_catalog
 * is always searched first; everything else is qualified ("repmgr.").
 */
static bool
set_safe_search_path(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', '', false)");
	bool		ok = (PQresultStatus(res) == PGRES_TUPLES_OK);

	if (!ok)
		log_error("could not set a safe search_path: %s", PQerrorMessage(conn));
	PQclear(res);
	return ok;
}

static PGconn *
connect_with_defaults(const char *conninfo, const char *timeout)
{
	const char *keywords[4];
	const char *values[4];
	int			n = 0;
	PGconn	   *conn;

	keywords[n] = "fallback_application_name";
	values[n++] = "repmgr";
	if (timeout != NULL || getenv("PGCONNECT_TIMEOUT") == NULL)
	{
		keywords[n] = "connect_timeout";
		values[n++] = timeout ? timeout : CONNECT_TIMEOUT_DEFAULT;
	}
	/* last, so that the connection string overrides the defaults above */
	keywords[n] = "dbname";
	values[n++] = conninfo;
	keywords[n] = NULL;
	values[n] = NULL;

	conn = PQconnectdbParams(keywords, values, 1);
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
	{
		PQsetNoticeReceiver(conn, notice_receiver, NULL);
		/* a replication connection runs no SQL */
		if (conninfo_get(conninfo, "replication") == NULL &&
			!set_safe_search_path(conn))
		{
			PQfinish(conn);
			return NULL;
		}
	}
	return conn;
}

/*
 * Connect to conninfo; on failure log it, set *rc to ERR_DB_CON (or
 * ERR_BAD_PASSWORD) and return NULL.
 */
PGconn *
db_connect(const char *conninfo, int *rc)
{
	PGconn	   *conn;

	log_verbose(LOG_INFO, "connecting to database \"%s\"", conninfo_mask(conninfo));
	log_debug("connecting to database \"%s\"", conninfo_mask(conninfo));
	conn = connect_with_defaults(conninfo, NULL);
	if (conn == NULL)
	{
		log_error("connection to database failed: out of memory");
		*rc = ERR_DB_CON;
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		log_error("connection to database failed: %s", PQerrorMessage(conn));
		log_detail("attempted to connect using \"%s\"", conninfo_mask(conninfo));
		*rc = (PQconnectionNeedsPassword(conn) || PQconnectionUsedPassword(conn)) ?
			ERR_BAD_PASSWORD : ERR_DB_CON;
		PQfinish(conn);
		return NULL;
	}
	*rc = SUCCESS;
	return conn;
}

/* Connect without logging; on failure *error holds libpq's message. */
PGconn *
db_connect_quiet(const char *conninfo, int timeout_secs, char **error)
{
	char	   *timeout = timeout_secs > 0 ? int_to_string(timeout_secs) : NULL;
	PGconn	   *conn = connect_with_defaults(conninfo, timeout);

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	if (error)
		*error = pg_strdup(conn ? PQerrorMessage(conn) : "out of memory");
	if (error && strlen(*error) > 0 && (*error)[strlen(*error) - 1] == '\n')
		(*error)[strlen(*error) - 1] = '\0';
	PQfinish(conn);
	return NULL;
}

int
db_exit_code_for_sqlstate(const char *sqlstate)
{
	if (sqlstate == NULL)
		return ERR_DB_QUERY;
	if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P03") == 0)
		return ERR_DB_CON;
	if (strcmp(sqlstate, "28P01") == 0)
		return ERR_BAD_PASSWORD;
	if (strcmp(sqlstate, "55000") == 0 ||	/* object not in prerequisite state */
		strcmp(sqlstate, "42710") == 0 ||	/* duplicate object */
		strcmp(sqlstate, "42704") == 0 ||	/* undefined object */
		strcmp(sqlstate, "23503") == 0 ||	/* foreign key: unknown upstream */
		strncmp(sqlstate, "22", 2) == 0)	/* invalid argument */
		return ERR_BAD_CONFIG;
	return ERR_DB_QUERY;
}

static int
report_result_error(PGconn *conn, PGresult *res)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (primary != NULL)
		log_error("%s", primary);
	else
		log_error("query failed: %s", PQerrorMessage(conn));
	if (detail)
		log_detail("%s", detail);
	if (hint)
		log_hint("%s", hint);
	else if (sqlstate && (strcmp(sqlstate, "3F000") == 0 || strcmp(sqlstate, "42883") == 0) &&
			 primary && strstr(primary, "repmgr") != NULL)
		log_hint("Is the repmgr extension installed in database \"%s\"? \"repmgr primary register\" creates it on the primary.",
				 PQdb(conn));
	strlcpy(last_sqlstate, sqlstate ? sqlstate : "", sizeof(last_sqlstate));
	if (sqlstate)
		log_debug("SQLSTATE %s", sqlstate);
	if (PQstatus(conn) != CONNECTION_OK)
		return ERR_DB_CON;
	return db_exit_code_for_sqlstate(sqlstate);
}

/*
 * Run sql with text parameters.  On success *res holds the result (to be
 * PQclear'ed); on failure the error is logged, *res is NULL and the exit
 * code is returned.
 */
int
db_query(PGconn *conn, PGresult **res, const char *sql, int nparams,
		 const char *const *params)
{
	PGresult   *r;
	int			rc;

	log_debug("executing: %s", sql);
	r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (r != NULL && (PQresultStatus(r) == PGRES_TUPLES_OK ||
					  PQresultStatus(r) == PGRES_COMMAND_OK))
	{
		*res = r;
		return SUCCESS;
	}
	rc = report_result_error(conn, r);
	PQclear(r);
	*res = NULL;
	return rc;
}

int
db_command(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;
	int			rc = db_query(conn, &res, sql, nparams, params);

	PQclear(res);
	return rc;
}

/* the first column of the first row (NULL if none or SQL NULL) */
int
db_query_value(PGconn *conn, char **value, const char *sql, int nparams,
			   const char *const *params)
{
	PGresult   *res;
	int			rc = db_query(conn, &res, sql, nparams, params);

	*value = NULL;
	if (rc != SUCCESS)
		return rc;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*value = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return SUCCESS;
}

bool
db_is_in_recovery(PGconn *conn, bool *in_recovery)
{
	char	   *v;

	if (db_query_value(conn, &v, "SELECT pg_catalog.pg_is_in_recovery()", 0, NULL) != SUCCESS ||
		v == NULL)
		return false;
	*in_recovery = (strcmp(v, "t") == 0);
	return true;
}

bool
db_has_extension(PGconn *conn, bool *installed)
{
	char	   *v;

	if (db_query_value(conn, &v,
					   "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'repmgr'",
					   0, NULL) != SUCCESS || v == NULL)
		return false;
	*installed = (strcmp(v, "0") != 0);
	return true;
}

/*
 * Does conninfo reach a server on this host through a Unix socket?  Then
 * its data directory is here too and no ssh is needed.
 */
bool
conninfo_is_local(const char *conninfo)
{
	char	   *host = conninfo_get(conninfo, "host");
	char	   *hostaddr = conninfo_get(conninfo, "hostaddr");

	if (hostaddr != NULL && hostaddr[0] != '\0')
		return false;
	if (host == NULL || host[0] == '\0')
		return getenv("PGHOST") == NULL || getenv("PGHOST")[0] == '/';
	return host[0] == '/' || host[0] == '@';
}

/* ----------
 * Small conversions
 * ----------
 */

char *
lsn_format(uint64 lsn)
{
	return psprintf("%X/%X", (uint32) (lsn >> 32), (uint32) lsn);
}

bool
lsn_parse(const char *text, uint64 *lsn)
{
	unsigned int hi;
	unsigned int lo;
	char		junk;

	if (text == NULL || sscanf(text, "%X/%X%c", &hi, &lo, &junk) != 2)
		return false;
	*lsn = ((uint64) hi << 32) | lo;
	return true;
}

char *
int_to_string(int value)
{
	return psprintf("%d", value);
}
