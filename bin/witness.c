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
 * Authentication: the witness never runs with "trust".  initdb runs with
 * peer (local) and scram-sha-256 (TCP), and its pg_hba.conf is replaced
 * before the first start by the operator's (--hba-file, refused if
 * PostgreSQL reads "trust" in it, unless --allow-trust: the rules come
 * from pg_hba_file_rules of the new instance in single-user mode, before
 * it accepts any connection; --dry-run asks a scratch instance) or by
 * ours: peer for local
 * connections, with a map that lets the operating system user running
 * this command (who owns the data directory anyway) connect as the
 * superuser and the repmgr user, and scram-sha-256 over TCP.  The tool
 * itself talks to the new instance through its Unix socket.
 *
 * Addresses: the witness listens where its conninfo says other nodes
 * reach it (listen_addresses = the host of conninfo, or none for a socket
 * directory) and puts its socket into the socket directory of conninfo,
 * else the primary's when we may write there, else /tmp: never a system
 * directory the invoking user may not write.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <pwd.h>
#include <unistd.h>

#include "common/string.h"
#include "lib/stringinfo.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "conninfo.h"
#include "datadir.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"
#include "service.h"

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
	char	   *listen;			/* listen_addresses */
	char	   *socket_dir;		/* unix_socket_directories (NULL: default) */
	char	   *hba;			/* the pg_hba.conf to install */
	char	   *os_user;		/* who runs this command */
} Witness;

#define WITNESS_IDENT_MAP "repmgr_witness"

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
				   config->node_id, config->node_name, conninfo_mask(primary_conninfo),
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
			   config->cluster, config->node_id, conninfo_mask(config->conninfo));
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

/* ----------
 * Authentication: pg_hba.conf and pg_ident.conf of the witness
 * ----------
 */

/*
 * How PostgreSQL reads a pg_hba.conf: pg_hba_file_rules of a server that
 * accepts no connection, PostgreSQL in single-user mode on datadir (with
 * hba_file, when given, in place of the data directory's own), copied to
 * a file.  Its rules and no parser of ours say what the file allows: a
 * quoted "trust", a record continued with a backslash, anything a later
 * release reads otherwise.  Each row: line number, method, error.
 */
typedef struct HbaRule
{
	int			line;
	char	   *method;
	char	   *error;
} HbaRule;

/* a field of COPY's text format: \N is NULL (""), backslash escapes */
static char *
copy_text_field(const char *start, size_t len)
{
	StringInfoData buf;
	size_t		i;

	initStringInfo(&buf);
	if (len == 2 && start[0] == '\\' && start[1] == 'N')
		return buf.data;
	for (i = 0; i < len; i++)
	{
		char		c = start[i];

		if (c == '\\' && i + 1 < len)
		{
			c = start[++i];
			c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
		}
		appendStringInfoChar(&buf, c);
	}
	return buf.data;
}

static int
hba_rules_parse(const char *text, HbaRule **rules, int *nrules)
{
	const char *line = text;
	int			cap = 16;

	*nrules = 0;
	*rules = pg_malloc(sizeof(HbaRule) * cap);
	while (*line)
	{
		const char *end = line + strcspn(line, "\n");
		const char *tab1 = memchr(line, '\t', end - line);
		const char *tab2 = tab1 ? memchr(tab1 + 1, '\t', end - tab1 - 1) : NULL;

		if (tab2 == NULL)
		{
			log_error("could not read the rules PostgreSQL gave for the pg_hba.conf");
			return ERR_SYS_FAILURE;
		}
		if (*nrules == cap)
		{
			cap *= 2;
			*rules = pg_realloc(*rules, sizeof(HbaRule) * cap);
		}
		(*rules)[*nrules].line = atoi(line);
		(*rules)[*nrules].method = copy_text_field(tab1 + 1, tab2 - tab1 - 1);
		(*rules)[*nrules].error = copy_text_field(tab2 + 1, end - tab2 - 1);
		(*nrules)++;
		line = *end ? end + 1 : end;
	}
	return SUCCESS;
}

static int
hba_rules_read(RepmgrContext *ctx, const char *datadir, const char *hba_file,
			   HbaRule **rules, int *nrules)
{
	char		dir[] = "/tmp/repmgr-hba-XXXXXX";
	char		query_path[MAXPGPATH];
	char		rules_path[MAXPGPATH];
	StringInfoData query;
	StringInfoData cmd;
	StringInfoData output;
	char	   *text = NULL;
	int			status;
	int			rc;

	if (mkdtemp(dir) == NULL)
	{
		log_error("could not create a temporary directory: %m");
		return ERR_SYS_FAILURE;
	}
	if (!path_join(query_path, sizeof(query_path), dir, "query.sql") ||
		!path_join(rules_path, sizeof(rules_path), dir, "rules.txt"))
	{
		rmtree(dir, true);
		return ERR_STR_OVERFLOW;
	}
	initStringInfo(&query);
	appendStringInfoString(&query,
						   "COPY (SELECT line_number, auth_method, error FROM pg_catalog.pg_hba_file_rules "
						   "ORDER BY line_number) TO ");
	/* the path is ours (mkdtemp under /tmp): nothing in it needs quoting */
	appendStringInfo(&query, "'%s'\n", rules_path);
	rc = file_write(query_path, query.data);

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s --single -D ", pg_program(ctx->config, "postgres"));
	append_shell_quoted(&cmd, datadir);
	appendStringInfoString(&cmd, " -c shared_preload_libraries= -c log_min_messages=fatal");
	if (hba_file != NULL)
	{
		appendStringInfoString(&cmd, " -c ");
		append_shell_quoted(&cmd, psprintf("hba_file=%s", hba_file));
	}
	appendStringInfoString(&cmd, " postgres < ");
	append_shell_quoted(&cmd, query_path);
	appendStringInfoString(&cmd, " 2>&1");
	initStringInfo(&output);
	if (rc == SUCCESS)
	{
		status = run_command(cmd.data, &output);
		if (status != 0 || access(rules_path, F_OK) != 0)
		{
			log_error("PostgreSQL could not read the pg_hba.conf (single-user mode exited with status %d)", status);
			if (output.len > 0)
				log_detail("%s", output.data);
			rc = ERR_SYS_FAILURE;
		}
	}
	if (rc == SUCCESS)
		rc = file_read(rules_path, &text);
	if (rc == SUCCESS)
		rc = hba_rules_parse(text, rules, nrules);
	if (!rmtree(dir, true))
		log_warning("could not remove \"%s\"", dir);
	return rc;
}

/*
 * Judge the pg_hba.conf the witness would run with, as PostgreSQL reads
 * it (hba_rules_read): refuse a record PostgreSQL cannot load (the server
 * would not start), and one whose method is "trust" unless --allow-trust
 * (with trust, anyone who can connect would be any user, the superuser
 * too).  source names the file for the messages.
 */
static int
hba_judge(RepmgrContext *ctx, const char *datadir, const char *hba_file,
		  const char *source)
{
	HbaRule    *rules;
	int			nrules;
	int			rc = hba_rules_read(ctx, datadir, hba_file, &rules, &nrules);
	int			i;

	for (i = 0; rc == SUCCESS && i < nrules; i++)
	{
		if (rules[i].error[0] != '\0')
		{
			log_error("\"%s\" cannot be loaded: line %d: %s", source, rules[i].line, rules[i].error);
			log_hint("PostgreSQL reads the file so (pg_hba_file_rules); correct the line.");
			rc = ERR_BAD_CONFIG;
		}
	}
	for (i = 0; rc == SUCCESS && i < nrules; i++)
	{
		if (strcmp(rules[i].method, "trust") != 0)
			continue;
		if (!ctx->opts->allow_trust)
		{
			log_error("\"%s\" allows \"trust\" authentication (line %d)", source, rules[i].line);
			log_detail("With trust, anyone who can connect to the witness may connect as any user, the superuser too.");
			log_hint("Use peer, scram-sha-256 or another method of authentication, or give --allow-trust to accept trust.");
			rc = ERR_BAD_CONFIG;
		}
		else
			log_warning("\"%s\" allows \"trust\" authentication (line %d), accepted by --allow-trust",
						source, rules[i].line);
	}
	return rc;
}

/*
 * --dry-run with --hba-file: there is no instance yet, so the file is
 * judged by a scratch one (initdb into a temporary directory, removed
 * afterwards).
 */
static int
hba_judge_scratch(RepmgrContext *ctx, const char *hba_file)
{
	char		dir[] = "/tmp/repmgr-hba-instance-XXXXXX";
	char		datadir[MAXPGPATH];
	char		absolute[MAXPGPATH];
	StringInfoData cmd;
	int			status;
	int			rc;

	if (mkdtemp(dir) == NULL)
	{
		log_error("could not create a temporary directory: %m");
		return ERR_SYS_FAILURE;
	}
	if (!path_join(datadir, sizeof(datadir), dir, "data"))
		return ERR_STR_OVERFLOW;
	strlcpy(absolute, hba_file, sizeof(absolute));
	make_native_path(absolute);
	if (!is_absolute_path(absolute))
	{
		char	   *abs = make_absolute_path(hba_file);

		if (abs == NULL)
		{
			log_error("could not find the absolute path of \"%s\"", hba_file);
			rmtree(dir, true);
			return ERR_BAD_CONFIG;
		}
		strlcpy(absolute, abs, sizeof(absolute));
	}
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -D ", pg_program(ctx->config, "initdb"));
	append_shell_quoted(&cmd, datadir);
	appendStringInfoString(&cmd, " -N --auth=peer > /dev/null 2>&1");
	log_notice("reading \"%s\" with PostgreSQL (in a scratch instance in \"%s\")", hba_file, dir);
	status = run_command(cmd.data, NULL);
	if (status != 0)
	{
		log_error("initdb of the scratch instance failed with exit status %d", status);
		rc = ERR_SYS_FAILURE;
	}
	else
		rc = hba_judge(ctx, datadir, absolute, hba_file);
	if (!rmtree(dir, true))
		log_warning("could not remove \"%s\"", dir);
	return rc;
}

static char *
os_user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw ? pg_strdup(pw->pw_name) : NULL;
}

/* the pg_hba.conf of --hba-file (checked), or the safe default */
static int
choose_hba(RepmgrContext *ctx, Witness *w)
{
	w->os_user = os_user_name();
	if (ctx->opts->hba_file != NULL)
		return file_read(ctx->opts->hba_file, &w->hba);	/* judged later */
	w->hba = psprintf("# pg_hba.conf of the witness, written by \"repmgr witness create\"\n"
					  "#\n"
					  "# Local connections: peer authentication; map %s in\n"
					  "# pg_ident.conf lets the owner of the data directory connect as\n"
					  "# the superuser and the repmgr user too.  TCP: passwords only.\n"
					  "#\n"
					  "# TYPE  DATABASE  USER  ADDRESS    METHOD\n"
					  "local   all       all              peer map=%s\n"
					  "host    all       all   0.0.0.0/0  scram-sha-256\n"
					  "host    all       all   ::/0       scram-sha-256\n",
					  WITNESS_IDENT_MAP, WITNESS_IDENT_MAP);
	return SUCCESS;
}

/* name as a double-quoted token of pg_ident.conf */
static char *
ident_token(const char *name)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (p = name; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(&buf, '"');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '"');
	return buf.data;
}

/* pg_hba.conf and pg_ident.conf into the new data directory */
static int
write_auth_files(Witness *w)
{
	char		path[MAXPGPATH];
	StringInfoData ident;
	int			rc;

	if (!path_join(path, sizeof(path), w->datadir, "pg_hba.conf"))
		return ERR_STR_OVERFLOW;
	rc = file_write(path, w->hba);
	if (rc != SUCCESS)
		return rc;

	initStringInfo(&ident);
	appendStringInfoString(&ident,
						   "# pg_ident.conf of the witness, written by \"repmgr witness create\"\n"
						   "# MAPNAME        SYSTEM-USERNAME  PG-USERNAME\n");
	if (w->os_user != NULL)
	{
		appendStringInfo(&ident, "%s  %s  %s\n", WITNESS_IDENT_MAP,
						 ident_token(w->os_user), ident_token(w->superuser));
		appendStringInfo(&ident, "%s  %s  %s\n", WITNESS_IDENT_MAP,
						 ident_token(w->os_user), ident_token(w->user));
	}
	appendStringInfo(&ident, "%s  /^(.*)$  \\1\n", WITNESS_IDENT_MAP);
	if (!path_join(path, sizeof(path), w->datadir, "pg_ident.conf"))
		return ERR_STR_OVERFLOW;
	return file_write(path, ident.data);
}

/* ----------
 * Addresses
 * ----------
 */

/* the first directory of the primary's unix_socket_directories, if ours */
static char *
primary_socket_dir(PGconn *pconn)
{
	char	   *dirs = NULL;
	char	   *end;

	if (db_query_value(pconn, &dirs,
					   "SELECT pg_catalog.current_setting('unix_socket_directories')",
					   0, NULL) != SUCCESS || dirs == NULL)
		return NULL;
	end = strchr(dirs, ',');
	if (end)
		*end = '\0';
	while (*dirs == ' ')
		dirs++;
	if (dirs[0] != '/' || access(dirs, W_OK | X_OK) != 0)
		return NULL;
	return dirs;
}

static void
choose_addresses(Witness *w, PGconn *pconn)
{
	char	   *hostaddr = conninfo_get(w->conninfo, "hostaddr");

	if (w->host != NULL && w->host[0] == '/')
	{
		w->listen = "";
		w->socket_dir = w->host;
		return;
	}
	w->listen = hostaddr ? hostaddr : (w->host ? w->host : "");
	if (w->host == NULL && hostaddr == NULL)
		w->socket_dir = NULL;	/* libpq's default, where conninfo looks */
	else
	{
		w->socket_dir = primary_socket_dir(pconn);
		if (w->socket_dir == NULL)
			w->socket_dir = "/tmp";
	}
}

/* conninfo for the tool's own sessions on the new witness: its socket */
static char *
local_conninfo(Witness *w, const char *user, const char *dbname)
{
	char	   *c = conninfo_set(w->conninfo, "hostaddr", NULL);

	c = conninfo_set(c, "host", w->socket_dir);
	c = conninfo_set(c, "user", user);
	c = conninfo_set(c, "dbname", dbname);
	if (w->password)
		c = conninfo_set(c, "password", w->password);
	return c;
}

static int
describe_witness(RepmgrContext *ctx, Witness *w, PGconn *pconn)
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
	if (rc == SUCCESS)
		rc = choose_hba(ctx, w);
	if (rc != SUCCESS)
		return rc;
	choose_addresses(w, pconn);

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
		log_error("a server is already running at \"%s\"", conninfo_mask(w->conninfo));
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
	/* never trust, not even until our pg_hba.conf replaces initdb's */
	appendStringInfoString(&cmd, " --auth-local=peer --auth-host=scram-sha-256");
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
configure_witness(RepmgrContext *ctx, Witness *w)
{
	GucSetting *worker;
	GucSetting *all;
	int			nworker = config_server_settings(ctx->config, &worker);
	int			n = 0;
	int			i;
	int			rc;

	all = pg_malloc0(sizeof(GucSetting) * (nworker + 6));
	all[n].name = "port";
	all[n++].value = w->port;
	all[n].name = "listen_addresses";
	all[n++].value = w->listen;
	if (w->socket_dir)
	{
		all[n].name = "unix_socket_directories";
		all[n++].value = w->socket_dir;
	}
	all[n].name = "shared_preload_libraries";
	all[n++].value = "repmgr";
	all[n].name = "repmgr.database";
	all[n++].value = w->dbname;
	for (i = 0; i < nworker; i++)
		all[n++] = worker[i];

	rc = write_auth_files(w);
	if (rc != SUCCESS)
		return rc;
	if (ctx->opts->hba_file == NULL)
		log_hint("The other nodes connect to the witness with a password over TCP (-P, and ~/.pgpass on each node), or as the user of the same name over its socket.");
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
create_witness(RepmgrContext *ctx, Witness *w, PGconn *pconn, const char *primary_conninfo,
			   bool *refused)
{
	PGconn	   *conn;
	char	   *superconn;
	int			rc;

	rc = run_initdb(ctx, w);
	if (rc == SUCCESS)
		rc = configure_witness(ctx, w);
	if (rc != SUCCESS)
		return rc;
	/* the operator's pg_hba.conf, as the new instance reads it, before it starts */
	if (ctx->opts->hba_file != NULL &&
		(rc = hba_judge(ctx, w->datadir, NULL, ctx->opts->hba_file)) != SUCCESS)
	{
		if (datadir_empty_out(w->datadir))
			log_notice("the new instance in \"%s\" was removed", w->datadir);
		*refused = true;
		return rc;
	}
	if (service_run(ctx->config, w->datadir, SERVICE_START) != 0)
		return ERR_NO_RESTART;

	superconn = local_conninfo(w, w->superuser, "postgres");
	conn = db_connect(superconn, &rc);
	if (conn == NULL)
		return rc;
	rc = create_users_and_extension(conn, w);
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	conn = db_connect(local_conninfo(w, w->user, w->dbname), &rc);
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
	bool		refused = false;
	int			rc;

	memset(&w, 0, sizeof(w));
	rc = connect_primary(ctx, &pconn, &primary_conninfo);
	if (rc != SUCCESS)
		return rc;
	rc = describe_witness(ctx, &w, pconn);
	if (rc == SUCCESS && ctx->opts->dry_run && ctx->opts->hba_file != NULL)
		rc = hba_judge_scratch(ctx, ctx->opts->hba_file);
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

	rc = create_witness(ctx, &w, pconn, primary_conninfo, &refused);
	if (refused)
	{
		PQfinish(pconn);
		return rc;
	}
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
			   config->cluster, config->node_id, conninfo_mask(w.conninfo));
	return SUCCESS;
}
