/*-------------------------------------------------------------------------
 *
 * db.h
 *	  Database access of bin/repmgr (db.c): connecting, parameterized
 *	  queries whose errors are logged and mapped to exit codes, whether a
 *	  connection string reaches this host, and small conversions of the
 *	  values queries return.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_DB_H
#define REPMGR_DB_H

#include "libpq-fe.h"

extern PGconn *db_connect(const char *conninfo, int *rc);
extern PGconn *db_connect_quiet(const char *conninfo, int timeout_secs,
								char **error);
extern int	db_query(PGconn *conn, PGresult **res, const char *sql,
					 int nparams, const char *const *params);
extern int	db_command(PGconn *conn, const char *sql, int nparams,
					   const char *const *params);
extern int	db_query_value(PGconn *conn, char **value, const char *sql,
						   int nparams, const char *const *params);
extern int	db_exit_code_for_sqlstate(const char *sqlstate);
extern const char *db_last_sqlstate(void);
extern bool db_is_in_recovery(PGconn *conn, bool *in_recovery);
extern bool db_has_extension(PGconn *conn, bool *installed);

extern bool conninfo_is_local(const char *conninfo);

extern char *lsn_format(uint64 lsn);
extern bool lsn_parse(const char *text, uint64 *lsn);
extern char *int_to_string(int value);

#endif							/* REPMGR_DB_H */
