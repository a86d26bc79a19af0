/*-------------------------------------------------------------------------
 *
 * witness.c
 *	  "repmgr witness create" and "repmgr witness register".
 *
 * The witness is a separate PostgreSQL instance, not a standby: create
 * runs initdb in -D, sets it up (port of conninfo, 5499 by default;
 * repmgr preloaded with repmgr.node_id and repmgr.database; the worker's
 * settings of repmgr.conf), starts it, creates the superuser (-S), the
 * repmgr user and database of conninfo and the extension, then registers
 * it.  Registering (repmgr.witness_register(), run on the witness) records
 * it on the primary given by -h/-p/-U/-d and copies the metadata.
 *
 *-------------------------------------------------------------------------
 */
#include "repmgr.h"

#include <unistd.h>

#include "common/string.h"

typedef struct Witness
{
	char	   *conninfo;		/* conninfo of repmgr.conf, port completed */
	char	   *host;
	char	   *port;
	char	   *dbname;
	char	   *user;
	char	   *superuser;
	char	   *datadir;
	char	   *password;
} Witness;

/* the primary's connection, and its conninfo as registered */
static int
connect_primary(RepmgrContext *ctx, PGconn **pconn, char **registered)
{
	bool		in_recovery;
	bool		installed;
	int			rc;

	if (!connection_options_given(ctx->opts))
	{
		log_error("no primary given");
		log_hint("Use -h/--host, -p, -U and -d for the primary.");
		return ERR_BAD_CONFIG;
	}
	*pconn = db_connect(conninfo_from_options(ctx->opts, DEFAULT_DBNAME), &rc);
	if (*pconn == NULL)
		return rc;
	if (!db_is_in_recovery(*pconn, &in_recovery) || !db_has_extension(*pconn, &installed))
		rc = ERR_DB_QUERY;
	else if (in_recovery)
	{
		log_error("the server given with -h/-p/-d is in recovery, not the primary");
		rc = ERR_BAD_CONFIG;
	}
	else if (!installed)
	{
		log_error("the repmgr extension is not installed on the primary");
		log_hint("Register the primary first (\"repmgr primary register\").");
		rc = ERR_BAD_CONFIG;
	}
	else
		rc = db_query_value(*pconn, registered,
							"SELECT conninfo FROM repmgr.repl_nodes WHERE type = 'primary' AND active",
							0, NULL);
	if (rc == SUCCESS && *registered == NULL)
	{
		log_error("no active primary is registered");
		log_hint("Register the primary first (\"repmgr primary register\").");
		rc = ERR_BAD_CONFIG;
	}
	if (rc != SUCCESS)
	{
		PQfinish(*pconn);
		*pconn = NULL;
	}
	return rc;
}

static int
register_witness(RepmgrContext *ctx, PGconn *wconn, const char *conninfo,
				 const char *primary_conninfo)
{
	RepmgrConfig *config = ctx->config;
	const char *params[6];

	params[0] = int_to_string(config->node_id);
	params[1] = config->node_name;
	params[2] = conninfo;
	params[3] = primary_conninfo;
	params[4] = config->location;
	params[5] = ctx->opts->force ? "true" : "false";
	return db_command(wconn,
					  "SELECT repmgr.witness_register(node_id => $1::integer, node_name => $2, "
					  "conninfo => $3, primary_conninfo => $4, location => $5, force => $6::boolean)",
					  6, params);
}

/* "witness register": the instance of conninfo exists and runs */
int
do_witness_register(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	PGconn	   *pconn;
	PGconn	   *wconn;
	char	   *primary_conninfo;
	bool		installed;
	int			rc;

	rc = connect_primary(ctx, &pconn, &primary_conninfo);
	if (rc != SUCCESS)
		return rc;
	PQfinish(pconn);
	rc = connect_local_node(ctx, &wconn);
	if (rc != SUCCESS)
		return rc;
	if (!db_has_extension(wconn, &installed))
		rc = ERR_DB_QUERY;
	else if (ctx->opts->dry_run)
	{
		log_notice("prerequisites for registering the witness are met");
		log_detail("would register node %d (\"%s\") as witness of the primary at \"%s\"%s",
				   config->node_id, config->node_name, primary_conninfo,
				   installed ? "" : ", after creating the extension");
		PQfinish(wconn);
		return SUCCESS;
	}
	else if (!installed)
	{
		log_notice("creating extension \"repmgr\" in database \"%s\"", PQdb(wconn));
		rc = db_command(wconn, "CREATE EXTENSION repmgr", 0, NULL);
	}
	if (rc == SUCCESS)
	{
		rc = register_witness(ctx, wconn, config->conninfo, primary_conninfo);
		hint_force_if_registered(ctx, rc);
	}
	PQfinish(wconn);
	if (rc != SUCCESS)
		return rc;
	log_notice("witness node correctly registered for cluster %s with id %d (conninfo: %s)",
			   config->cluster, config->node_id, config->conninfo);
	return SUCCESS;
}

/* ----------
 * witness create
 * ----------
 */

static char *
default_user(void)
{
	PQconninfoOption *opts = PQconndefaults();
	PQconninfoOption *o;
	char	   *user = NULL;

	for (o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "user") == 0 && o->val)
			user = pg_strdup(o->val);
	PQconninfoFree(opts);
	return user ? user : pg_strdup("postgres");
}

static int
describe_witness(RepmgrContext *ctx, Witness *w)
{
	RepmgrConfig *config = ctx->config;
	int			rc;

	w->conninfo = config->conninfo;
	w->port = conninfo_get(w->conninfo, "port");
	if (w->port == NULL)
	{
		w->port = DEFAULT_WITNESS_PORT;
		w->conninfo = conninfo_set(w->conninfo, "port", w->port);
		log_notice("the witness will listen on port %s (no port in conninfo)", w->port);
	}
	w->host = conninfo_get(w->conninfo, "host");
	w->dbname = conninfo_get(w->conninfo, "dbname");
	if (w->dbname == NULL)
		w->dbname = DEFAULT_DBNAME;
	w->user = conninfo_get(w->conninfo, "user");
	if (w->user == NULL)
		w->user = default_user();
	w->superuser = ctx->opts->superuser ? ctx->opts->superuser : DEFAULT_SUPERUSER;
	rc = resolve_data_directory(ctx, NULL, &w->datadir);
	if (rc != SUCCESS)
		return rc;

	switch (datadir_state(w->datadir))
	{
		case DIR_MISSING:
		case DIR_EMPTY:
			break;
		case DIR_ERROR:
			log_error("could not open directory \"%s\": %m", w->datadir);
			return ERR_BAD_CONFIG;
		case DIR_NOT_EMPTY:
			log_error("directory \"%s\" exists and is not empty", w->datadir);
			log_hint("Give an empty or missing directory with -D/--data-dir.");
			return ERR_BAD_CONFIG;
	}
	if (PQping(conninfo_set(w->conninfo, "connect_timeout", "2")) != PQPING_NO_RESPONSE)
	{
		log_error("a server is already running at \"%s\"", w->conninfo);
		log_hint("The witness is a new instance: give it a free port in conninfo.");
		return ERR_BAD_CONFIG;
	}
	return SUCCESS;
}

static int
run_initdb(RepmgrContext *ctx, Witness *w)
{
	StringInfoData cmd;
	char		pwfile[MAXPGPATH] = "";
	int			status;

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -D ", pg_program(ctx->config, "initdb"));
	append_shell_quoted(&cmd, w->datadir);
	appendStringInfoString(&cmd, " -U ");
	append_shell_quoted(&cmd, w->superuser);
	if (w->password)
	{
		int			fd;

		strlcpy(pwfile, "/tmp/repmgr-witness-pw-XXXXXX", sizeof(pwfile));
		fd = mkstemp(pwfile);
		if (fd < 0 || write(fd, w->password, strlen(w->password)) < 0 || close(fd) != 0)
		{
			log_error("could not write a temporary password file: %m");
			return ERR_SYS_FAILURE;
		}
		appendStringInfoString(&cmd, " --pwfile=");
		append_shell_quoted(&cmd, pwfile);
	}
	if (!log_is_verbose())
		appendStringInfoString(&cmd, " > /dev/null");
	log_notice("initialising the witness data directory \"%s\"", w->datadir);
	status = run_command(cmd.data, NULL);
	if (pwfile[0])
		unlink(pwfile);
	if (status != 0)
	{
		log_error("initdb failed with exit status %d", status);
		return ERR_SYS_FAILURE;
	}
	return SUCCESS;
}

/* the witness's own settings, in its postgresql.auto.conf */
static int
configure_witness(RepmgrContext *ctx, Witness *w, PGconn *pconn)
{
	GucSetting *worker;
	GucSetting *all;
	int			nworker = config_server_settings(ctx->config, &worker);
	int			n = 0;
	int			i;
	char	   *hba = NULL;

	all = pg_malloc0(sizeof(GucSetting) * (nworker + 6));
	all[n].name = "port";
	all[n++].value = w->port;
	if (w->host == NULL || w->host[0] == '/')
	{
		all[n].name = "listen_addresses";
		all[n++].value = "";
		if (w->host)
		{
			all[n].name = "unix_socket_directories";
			all[n++].value = w->host;
		}
	}
	else
	{
		all[n].name = "listen_addresses";
		all[n++].value = "*";
	}
	all[n].name = "shared_preload_libraries";
	all[n++].value = "repmgr";
	all[n].name = "repmgr.database";
	all[n++].value = w->dbname;
	for (i = 0; i < nworker; i++)
		all[n++] = worker[i];

	/* pg_hba.conf of the primary, when it is on this host (as 3.x copied it) */
	if (db_query_value(pconn, &hba, "SELECT pg_catalog.current_setting('hba_file')",
					   0, NULL) == SUCCESS && hba != NULL &&
		access(hba, R_OK) == 0)
	{
		char		target[MAXPGPATH];

		if (!path_join(target, sizeof(target), w->datadir, "pg_hba.conf"))
			return ERR_STR_OVERFLOW;
		log_notice("copying pg_hba.conf of the primary (\"%s\")", hba);
		if (file_copy(hba, target) != SUCCESS)
			return ERR_BAD_CONFIG;
	}
	else
		log_hint("Review pg_hba.conf of the witness: the other nodes must be able to connect.");
	return auto_conf_set(w->datadir, all, n);
}

/*
 * The repmgr user and its database.  Role and database names cannot be
 * query parameters: they are quoted with PQescapeIdentifier (and the
 * password with PQescapeLiteral).
 */
static int
create_users_and_extension(PGconn *sconn, Witness *w)
{
	char	   *role = PQescapeIdentifier(sconn, w->user, strlen(w->user));
	char	   *db = PQescapeIdentifier(sconn, w->dbname, strlen(w->dbname));
	const char *params[1];
	char	   *exists;
	int			rc = SUCCESS;

	if (strcmp(w->user, w->superuser) != 0)
	{
		log_notice("creating user \"%s\"", w->user);
		rc = db_command(sconn, psprintf("CREATE ROLE %s SUPERUSER LOGIN", role), 0, NULL);
		if (rc == SUCCESS && w->password)
		{
			char	   *pw = PQescapeLiteral(sconn, w->password, strlen(w->password));

			rc = db_command(sconn, psprintf("ALTER ROLE %s PASSWORD %s", role, pw), 0, NULL);
			PQfreemem(pw);
		}
	}
	params[0] = w->dbname;
	if (rc == SUCCESS)
		rc = db_query_value(sconn, &exists,
							"SELECT count(*) FROM pg_catalog.pg_database WHERE datname = $1",
							1, params);
	if (rc == SUCCESS && strcmp(exists, "0") == 0)
	{
		log_notice("creating database \"%s\"", w->dbname);
		rc = db_command(sconn, psprintf("CREATE DATABASE %s OWNER %s", db, role), 0, NULL);
	}
	PQfreemem(role);
	PQfreemem(db);
	return rc;
}

static int
create_witness(RepmgrContext *ctx, Witness *w, PGconn *pconn, const char *primary_conninfo)
{
	PGconn	   *conn;
	char	   *superconn;
	int			rc;

	rc = run_initdb(ctx, w);
	if (rc == SUCCESS)
		rc = configure_witness(ctx, w, pconn);
	if (rc != SUCCESS)
		return rc;
	if (pg_ctl_run(ctx->config, w->datadir, "start", NULL) != 0)
		return ERR_NO_RESTART;

	superconn = conninfo_set(conninfo_set(w->conninfo, "user", w->superuser), "dbname", "postgres");
	if (w->password)
		superconn = conninfo_set(superconn, "password", w->password);
	conn = db_connect(superconn, &rc);
	if (conn == NULL)
		return rc;
	rc = create_users_and_extension(conn, w);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	conn = db_connect(w->password ? conninfo_set(w->conninfo, "password", w->password)
					  : w->conninfo, &rc);
	if (conn == NULL)
		return rc;
	log_notice("creating extension \"repmgr\" in database \"%s\"", w->dbname);
	rc = db_command(conn, "CREATE EXTENSION IF NOT EXISTS repmgr", 0, NULL);
	if (rc == SUCCESS)
		rc = register_witness(ctx, conn, w->conninfo, primary_conninfo);
	PQfinish(conn);
	return rc;
}

int
do_witness_create(RepmgrContext *ctx)
{
	RepmgrConfig *config = ctx->config;
	Witness		w;
	PGconn	   *pconn;
	char	   *primary_conninfo;
	int			rc;

	memset(&w, 0, sizeof(w));
	rc = connect_primary(ctx, &pconn, &primary_conninfo);
	if (rc != SUCCESS)
		return rc;
	rc = describe_witness(ctx, &w);
	if (rc != SUCCESS || ctx->opts->dry_run)
	{
		if (rc == SUCCESS)
		{
			log_notice("prerequisites for creating the witness are met");
			log_detail("would create a PostgreSQL instance in \"%s\" on port %s and register it as node %d",
					   w.datadir, w.port, config->node_id);
		}
		PQfinish(pconn);
		return rc;
	}
	if (ctx->opts->pwprompt)
	{
		w.password = simple_prompt(psprintf("Enter password for the users of the witness: "), false);
		if (w.password == NULL || w.password[0] == '\0')
		{
			log_error("no password given");
			PQfinish(pconn);
			return ERR_BAD_PASSWORD;
		}
	}

	rc = create_witness(ctx, &w, pconn, primary_conninfo);
	if (config->node_id > 0)
		(void) record_event(pconn, config->node_id, "witness_create", rc == SUCCESS,
							rc == SUCCESS ?
							psprintf("witness server created in \"%s\" on port %s", w.datadir, w.port) :
							psprintf("witness server creation in \"%s\" failed", w.datadir));
	PQfinish(pconn);
	if (rc != SUCCESS)
	{
		log_hint("The witness data directory \"%s\" is left as it is for inspection.", w.datadir);
		return rc;
	}
	log_notice("witness node correctly registered for cluster %s with id %d (conninfo: %s)",
			   config->cluster, config->node_id, w.conninfo);
	return SUCCESS;
}
