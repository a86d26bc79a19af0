/*-------------------------------------------------------------------------
 *
 * cli.h
 *	  What every part of bin/repmgr, the command-line tool, shares: the
 *	  exit codes of the documents and the tool's constants.
 *
 * Every function below main() returns one of the exit codes (or a bool
 * that its caller turns into one); only main() calls exit().
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CLI_H
#define REPMGR_CLI_H

/* ----------
 * Exit codes, as documented ("Error codes")
 * ----------
 */
#define SUCCESS					0
#define ERR_BAD_CONFIG			1	/* bad configuration, or a refusal */
#define ERR_BAD_RSYNC			2	/* rsync (or pg_rewind) failed */
#define ERR_NO_RESTART			4	/* a server could not be (re)started */
#define ERR_DB_CON				6	/* could not connect to a database */
#define ERR_DB_QUERY			7	/* a query failed */
#define ERR_PROMOTED			8	/* repmgrd only */
#define ERR_BAD_PASSWORD		9	/* a password was rejected */
#define ERR_STR_OVERFLOW		10	/* a path or string is too long */
#define ERR_FAILOVER_FAIL		11	/* a switchover step did not complete */
#define ERR_BAD_SSH				12	/* ssh to another host failed */
#define ERR_SYS_FAILURE			13	/* a program could not be run */
#define ERR_BAD_BASEBACKUP		14	/* pg_basebackup failed */
#define ERR_MONITORING_FAIL		16	/* repmgrd only */

/* exit codes of "node check --nagios" */
#define NAGIOS_OK				0
#define NAGIOS_WARNING			1
#define NAGIOS_CRITICAL			2
#define NAGIOS_UNKNOWN			3

#define REPMGR_VERSION			"3.1"
#define DEFAULT_WITNESS_PORT	"5499"
#define DEFAULT_DBNAME			"repmgr"
#define DEFAULT_SUPERUSER		"postgres"
#define DEFAULT_TIMEOUT_SECS	60
#define SLOT_NAME_FORMAT		"repmgr_slot_%d"

/* set by bin/Makefile from pg_config */
#ifndef REPMGR_SYSCONFDIR
#define REPMGR_SYSCONFDIR		"/etc"
#endif
#ifndef REPMGR_BINDIR
#define REPMGR_BINDIR			""
#endif

#endif							/* REPMGR_CLI_H */
