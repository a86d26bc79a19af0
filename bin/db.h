/*-------------------------------------------------------------------------
 *
 * db.h
 *	  Database access of bin/repmgr (db.c): connecting, parameterized
 *	  queries whose errors are logged and mapped to exit codes, connection
 *	  strings, and small conversions of the values queries return.
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

extern char *conninfo_get(const char *conninfo, const char *keyword);
extern char *conninfo_set(const char *conninfo, const char *keyword,
						  const char *value);
extern char *conninfo_normalize(const char *conninfo);
extern bool conninfo_valid(const char *conninfo, char **error);
extern bool conninfo_is_local(const char *conninfo);
extern char *conninfo_mask(const char *conninfo);
extern char *conninfo_split_secrets(const char *conninfo, char **secrets);
extern char *conninfo_without_secrets(const char *conninfo);

extern char *lsn_format(uint64 lsn);
extern bool lsn_parse(const char *text, uint64 *lsn);
extern char *int_to_string(int value);

#endif							/* REPMGR_DB_H */
