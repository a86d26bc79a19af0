/*-------------------------------------------------------------------------
 *
 * standby_clone.c
 *	  "repmgr standby clone": copy the data directory of the primary (or of
 *	  an upstream standby, for cascading) and make it a standby of that
 *	  node.
 *
 * The copy is made by pg_basebackup (showing its progress), or with
 * -r/--rsync-only by rsync --checksum (over ssh when the upstream is on
 * another host) between pg_backup_start() and pg_backup_stop().  With
 * use_replication_slots the slot repmgr_slot_<node> is created on the
 * upstream first, so that it retains the WAL the clone needs.  The new
 * data directory gets standby.signal and, in postgresql.auto.conf,
 * primary_conninfo (application_name = node_name), primary_slot_name,
 * repmgr.node_id and the worker's settings of repmgr.conf.  The event
 * standby_clone is recorded on the upstream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

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

/* what the tool learns about the upstream before copying anything */
typedef struct Upstream
{
	char	   *conninfo;
	bool		local;			/* reachable through a Unix socket here */
	char	   *host;			/* for ssh and rsync when not local */
	char	   *datadir;
	char	   *files[3];		/* config_file, hba_file, ident_file */
	bool		has_extension;
	bool		knows_repmgr_gucs;
	bool		slot_exists;
} Upstream;

static const char *const file_settings[3] = {"config_file", "hba_file", "ident_file"};

/* ----------
 * Checks
 * ----------
 */

static int
check_upstream(RepmgrContext *ctx, PGconn *conn, Upstream *up)
{
	RepmgrConfig *config = ctx->config;
	PGresult   *res;
	int			rc;
	int			i;

	rc = db_query(conn, &res,
				  "SELECT current_setting('server_version_num')::integer / 10000, "
				  "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), "
				  "current_setting('wal_level'), current_setting('max_wal_senders')::integer, "
				  "current_setting('max_replication_slots')::integer, "
				  "current_setting('data_directory'), current_setting('config_file'), "
				  "current_setting('hba_file'), current_setting('ident_file'), "
				  "current_setting('repmgr.node_id', true), "
				  "(SELECT count(*) FROM pg_catalog.pg_tablespace "
				  " WHERE spcname NOT IN ('pg_default', 'pg_global'))",
				  0, NULL);
	if (rc != SUCCESS)
		return rc;

	if (atoi(PQgetvalue(res, 0, 0)) != PG_VERSION_NUM / 10000)
	{
		log_error("the upstream server runs PostgreSQL %s, this repmgr is built for %d",
				  PQgetvalue(res, 0, 0), PG_VERSION_NUM / 10000);
		rc = ERR_BAD_CONFIG;
	}
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		log_error("user \"%s\" is not a superuser on the upstream server", PQuser(conn));
		log_hint("standby clone reads the upstream's settings and files: connect as a superuser (-U).");
		rc = ERR_BAD_CONFIG;
	}
	else if (strcmp(PQgetvalue(res, 0, 2), "minimal") == 0 ||
			 atoi(PQgetvalue(res, 0, 3)) < 1)
	{
		log_error("the upstream server is not configured for replication (wal_level = %s, max_wal_senders = %s)",
				  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
		log_hint("Set wal_level = replica and max_wal_senders > 0 on the upstream.");
		rc = ERR_BAD_CONFIG;
	}
	else if (config->use_replication_slots && atoi(PQgetvalue(res, 0, 4)) < 1)
	{
		log_error("use_replication_slots is set but max_replication_slots is 0 on the upstream");
		rc = ERR_BAD_CONFIG;
	}
	else if (config->upstream_node > 0 && !PQgetisnull(res, 0, 9) &&
			 atoi(PQgetvalue(res, 0, 9)) != config->upstream_node &&
			 atoi(PQgetvalue(res, 0, 9)) != 0)
	{
		log_error("upstream_node is %d, but the server to clone is node %s",
				  config->upstream_node, PQgetvalue(res, 0, 9));
		log_hint("Clone from the node named by upstream_node, or correct upstream_node.");
		rc = ERR_BAD_CONFIG;
	}
	else if (ctx->opts->rsync_only && atoi(PQgetvalue(res, 0, 10)) > 0)
	{
		log_error("the upstream server has tablespaces, which --rsync-only does not clone");
		log_hint("Clone with pg_basebackup (and tablespace_mapping in repmgr.conf).");
		rc = ERR_BAD_CONFIG;
	}
	if (rc == SUCCESS)
	{
		up->datadir = pg_strdup(PQgetvalue(res, 0, 5));
		for (i = 0; i < 3; i++)
			up->files[i] = pg_strdup(PQgetvalue(res, 0, 6 + i));
	}
	PQclear(res);
	if (rc != SUCCESS)
		return rc;

	if (!db_has_extension(conn, &up->has_extension))
		return ERR_DB_QUERY;
	/* the repmgr.* settings are defined once the library is loaded */
	(void) PQclear(PQexec(conn, "LOAD 'repmgr'"));
	{
		char	   *known;

		rc = db_query_value(conn, &known,
							"SELECT count(*) FROM pg_catalog.pg_settings WHERE name = 'repmgr.node_id'",
							0, NULL);
		if (rc != SUCCESS)
			return rc;
		up->knows_repmgr_gucs = (strcmp(known, "0") != 0);
	}

	/* a replication connection, as pg_basebackup and the standby will use */
	{
		char	   *error = NULL;
		PGconn	   *repl = db_connect_quiet(conninfo_set(up->conninfo, "replication", "true"),
											0, &error);

		if (repl == NULL)
		{
			log_error("could not open a replication connection to the upstream server: %s", error);
			log_hint("pg_hba.conf of the upstream must allow replication connections for this user.");
			return ERR_DB_CON;
		}
		PQfinish(repl);
	}

	if (config->use_replication_slots)
	{
		const char *params[1] = {slot_name_for(config->node_id)};
		char	   *active;

		rc = db_query_value(conn, &active,
							"SELECT active::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
							1, params);
		if (rc != SUCCESS)
			return rc;
		if (active != NULL && strcmp(active, "true") == 0)
		{
			log_error("replication slot \"%s\" exists on the upstream and is in use", params[0]);
			log_hint("Is node %d already running as a standby?", config->node_id);
			return ERR_BAD_CONFIG;
		}
		up->slot_exists = (active != NULL);
	}
	return SUCCESS;
}

/* the destination: missing, empty, or non-empty with -F and no server */
static int
check_destination(RepmgrContext *ctx, Upstream *up, const char *dest)
{
	long		pid;

	if (up->local && strcmp(dest, up->datadir) == 0)
	{
		log_error("destination directory \"%s\" is the data directory of the upstream server", dest);
		log_hint("Give the data directory of the new standby with -D/--data-dir.");
		return ERR_BAD_CONFIG;
	}
	switch (datadir_state(dest))
	{
		case DIR_MISSING:
		case DIR_EMPTY:
			return SUCCESS;
		case DIR_ERROR:
			log_error("could not open destination directory \"%s\": %m", dest);
			return ERR_BAD_CONFIG;
		case DIR_NOT_EMPTY:
			break;
	}
	if (postmaster_running(dest, &pid))
	{
		log_error("a PostgreSQL server (PID %ld) is running in destination directory \"%s\"",
				  pid, dest);
		return ERR_BAD_CONFIG;
	}
	if (!ctx->opts->force)
	{
		log_error("destination directory \"%s\" exists and is not empty", dest);
		log_hint("Use -F/--force to overwrite it%s.",
				 ctx->opts->rsync_only ? " (rsync updates it in place)" : "");
		return ERR_BAD_CONFIG;
	}
	log_notice("destination directory \"%s\" is not empty and will be %s", dest,
			   ctx->opts->rsync_only ? "updated by rsync" : "emptied");
	return SUCCESS;
}

/* ----------
 * Copying
 * ----------
 */

static int
run_pg_basebackup(RepmgrContext *ctx, Upstream *up, const char *dest)
{
	RepmgrConfig *config = ctx->config;
	StringInfoData cmd;
	char	   *conninfo;
	char	   *secret_file;
	int			i;
	int			status;

	/* a password goes to pg_basebackup in a private file, not in argv */
	conninfo = conninfo_for_command(up->conninfo, &secret_file);
	if (conninfo == NULL)
		return ERR_BAD_CONFIG;
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -l 'repmgr base backup' --progress -D ",
					 pg_program(config, "pg_basebackup"));
	append_shell_quoted(&cmd, dest);
	appendStringInfoString(&cmd, " -d ");
	append_shell_quoted(&cmd, conninfo);
	if (ctx->opts->fast_checkpoint)
		appendStringInfoString(&cmd, " -c fast");
	if (config->use_replication_slots)
	{
		appendStringInfoString(&cmd, " -S ");
		append_shell_quoted(&cmd, slot_name_for(config->node_id));
	}
	for (i = 0; i < config->tablespace_mapping.count; i++)
	{
		appendStringInfoString(&cmd, " -T ");
		append_shell_quoted(&cmd, config->tablespace_mapping.items[i]);
	}
	if (config->pg_basebackup_options && config->pg_basebackup_options[0])
	{
		/* the documents' "--xlog-method" is "--wal-method" since PostgreSQL 10 */
		const char *opt = config->pg_basebackup_options;
		const char *old = strstr(opt, "--xlog-method");

		if (old != NULL)
			appendStringInfo(&cmd, " %.*s--wal-method%s", (int) (old - opt), opt,
							 old + strlen("--xlog-method"));
		else
			appendStringInfo(&cmd, " %s", opt);
	}

	log_notice("starting backup (using pg_basebackup)...");
	if (!ctx->opts->fast_checkpoint)
		log_hint("this may take some time; consider using the -c/--fast-checkpoint option");
	status = run_command(cmd.data, NULL);
	secret_file_remove(secret_file);
	if (status != 0)
	{
		log_error("pg_basebackup failed with exit status %d", status);
		return ERR_BAD_BASEBACKUP;
	}
	return SUCCESS;
}

static char *
rsync_source(RepmgrContext *ctx, Upstream *up, const char *path)
{
	if (up->local)
		return pg_strdup(path);
	if (ctx->opts->remote_user)
		return psprintf("%s@%s:%s", ctx->opts->remote_user, up->host, path);
	return psprintf("%s:%s", up->host, path);
}

/* rsync from up (through ssh if remote) to to; exit status 24 is fine */
static int
run_rsync(RepmgrContext *ctx, Upstream *up, const char *from, const char *to,
		  const char *extra)
{
	RepmgrConfig *config = ctx->config;
	const char *options = config->rsync_options;
	StringInfoData cmd;
	int			status;

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "rsync %s --checksum",
					 options && options[0] ? options : "--archive --compress");
	if (!up->local && (options == NULL ||
					   (strstr(options, "--rsh") == NULL && strstr(options, "-e ") == NULL)))
	{
		StringInfoData rsh;

		initStringInfo(&rsh);
		appendStringInfoString(&rsh, "ssh -o BatchMode=yes");
		if (config->ssh_options && config->ssh_options[0])
			appendStringInfo(&rsh, " %s", config->ssh_options);
		appendStringInfoString(&cmd, " --rsh=");
		append_shell_quoted(&cmd, rsh.data);
	}
	if (extra)
		appendStringInfo(&cmd, " %s", extra);
	/* "--" ends rsync's options: neither path may be read as one */
	appendStringInfoString(&cmd, " -- ");
	append_shell_quoted(&cmd, rsync_source(ctx, up, from));
	appendStringInfoChar(&cmd, ' ');
	append_shell_quoted(&cmd, to);

	status = run_command(cmd.data, NULL);
	if (status != 0 && status != 24)
	{
		log_error("rsync failed with exit status %d", status);
		return status == 255 ? ERR_BAD_SSH : ERR_BAD_RSYNC;
	}
	return SUCCESS;
}

static int
write_text_file(const char *dir, const char *name, const char *text)
{
	char		path[MAXPGPATH];
	FILE	   *f;

	if (!path_join(path, sizeof(path), dir, name))
		return ERR_STR_OVERFLOW;
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
	{
		log_error("could not write \"%s\": %m", path);
		return ERR_BAD_RSYNC;
	}
	return SUCCESS;
}

static int
run_rsync_clone(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest)
{
	static const char *const excludes =
		"--delete --exclude=postmaster.pid --exclude=postmaster.opts "
		"--exclude=standby.signal --exclude=recovery.signal --exclude=backup_label "
		"--exclude=tablespace_map --exclude=current_logfiles --exclude=pg_internal.init "
		"--exclude='pg_wal/*' --exclude='pg_replslot/*' --exclude='pg_stat_tmp/*' "
		"--exclude='pg_dynshmem/*' --exclude='pg_notify/*' --exclude='pg_serial/*' "
		"--exclude='pg_snapshots/*' --exclude='pg_subtrans/*' --exclude='log/*' "
		"--exclude='pg_log/*'";
	const char *params[2] = {"repmgr base backup", ctx->opts->fast_checkpoint ? "true" : "false"};
	char		path[MAXPGPATH];
	PGresult   *res;
	int			rc;

	/* stale WAL of an old node would be replayed before the upstream's */
	if (path_join(path, sizeof(path), dest, "pg_wal") && datadir_state(path) == DIR_NOT_EMPTY)
		(void) datadir_empty_out(path);

	log_notice("starting backup (using rsync)...");
	rc = db_command(conn, "SELECT pg_catalog.pg_backup_start($1, $2::boolean)", 2, params);
	if (rc != SUCCESS)
		return rc;
	rc = run_rsync(ctx, up, psprintf("%s/", up->datadir), psprintf("%s/", dest), excludes);
	if (rc == SUCCESS)
		rc = db_query(conn, &res,
					  "SELECT labelfile, spcmapfile FROM pg_catalog.pg_backup_stop(false)",
					  0, NULL);
	else
		(void) PQclear(PQexec(conn, "SELECT pg_catalog.pg_backup_stop(false)"));
	if (rc != SUCCESS)
		return rc;

	rc = write_text_file(dest, "backup_label", PQgetvalue(res, 0, 0));
	if (rc == SUCCESS && !PQgetisnull(res, 0, 1) && PQgetvalue(res, 0, 1)[0] != '\0')
		rc = write_text_file(dest, "tablespace_map", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (rc != SUCCESS)
		return rc;

	/* the WAL written during the copy */
	return run_rsync(ctx, up, psprintf("%s/pg_wal/", up->datadir),
					 psprintf("%s/pg_wal/", dest), "--exclude='archive_status/*'");
}

/*
 * postgresql.conf, pg_hba.conf and pg_ident.conf of the upstream that live
 * outside its data directory are copied into the new one, and the copied
 * postgresql.conf no longer points at the upstream's files.
 */
static int
copy_external_config_files(RepmgrContext *ctx, Upstream *up, const char *dest)
{
	static const char *const defaults[3] = {"postgresql.conf", "pg_hba.conf", "pg_ident.conf"};
	const char *neutralize[5];
	int			n = 0;
	char		conf[MAXPGPATH];
	char	   *prefix = psprintf("%s/", up->datadir);
	int			i;
	int			rc;

	for (i = 0; i < 3; i++)
	{
		char		target[MAXPGPATH];

		if (strncmp(up->files[i], prefix, strlen(prefix)) == 0)
			continue;
		if (ctx->opts->ignore_external_config_files)
		{
			log_notice("not copying \"%s\" (outside the data directory): --ignore-external-config-files",
					   up->files[i]);
			continue;
		}
		if (!path_join(target, sizeof(target), dest, defaults[i]))
			return ERR_STR_OVERFLOW;
		log_notice("copying external configuration file \"%s\" to \"%s\"", up->files[i], target);
		rc = up->local ? file_copy(up->files[i], target)
			: run_rsync(ctx, up, up->files[i], target, NULL);
		if (rc != SUCCESS)
			return rc;
		neutralize[n++] = file_settings[i];
		if (i == 0)
		{
			neutralize[n++] = "data_directory";
			neutralize[n++] = "external_pid_file";
		}
	}
	if (n == 0)
		return SUCCESS;
	neutralize[n] = NULL;
	if (!path_join(conf, sizeof(conf), dest, "postgresql.conf"))
		return ERR_STR_OVERFLOW;
	return conf_file_neutralize(conf, neutralize);
}

/* ----------
 * The standby's settings
 * ----------
 */

static bool
guc_known(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	char	   *n = NULL;

	return db_query_value(conn, &n,
						  "SELECT count(*) FROM pg_catalog.pg_settings WHERE name = $1",
						  1, params) == SUCCESS && n != NULL && strcmp(n, "0") != 0;
}

static int
write_standby_settings(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest)
{
	RepmgrConfig *config = ctx->config;
	GucSetting *worker;
	GucSetting *all;
	char	   *primary_conninfo;
	int			nworker;
	int			n = 0;
	int			i;
	int			rc;

	nworker = config_server_settings(config, &worker);
	all = pg_malloc0(sizeof(GucSetting) * (nworker + 4));

	primary_conninfo = conninfo_set(up->conninfo, "dbname", NULL);
	if (config->node_name)
		primary_conninfo = conninfo_set(primary_conninfo, "application_name", config->node_name);
	primary_conninfo = primary_conninfo_for(primary_conninfo, dest);
	if (primary_conninfo == NULL)
		return ERR_BAD_CONFIG;
	all[n].name = "primary_conninfo";
	all[n++].value = primary_conninfo;
	all[n].name = "primary_slot_name";
	all[n++].value = config->use_replication_slots ? slot_name_for(config->node_id) : NULL;
	if (ctx->opts->recovery_min_apply_delay)
	{
		all[n].name = "recovery_min_apply_delay";
		all[n++].value = ctx->opts->recovery_min_apply_delay;
	}
	if (config->restore_command)
	{
		all[n].name = "restore_command";
		all[n++].value = config->restore_command;
	}
	for (i = 0; i < nworker; i++)
	{
		if (up->knows_repmgr_gucs && !guc_known(conn, worker[i].name))
		{
			log_notice("\"%s\" of repmgr.conf is not written: the server has no setting \"%s\"",
					   worker[i].from_key, worker[i].name);
			continue;
		}
		all[n++] = worker[i];
	}

	rc = auto_conf_set(dest, all, n);
	if (rc == SUCCESS)
		rc = standby_signal_write(dest);
	return rc;
}

/* ----------
 * The command
 * ----------
 */

static char *
clone_details(RepmgrContext *ctx, Upstream *up)
{
	char	   *host = conninfo_get(up->conninfo, "host");
	char	   *port = conninfo_get(up->conninfo, "port");

	return psprintf("Cloned from host '%s', port %s; backup method: %s; --force: %s",
					host ? host : "(default)", port ? port : "5432",
					ctx->opts->rsync_only ? "rsync" : "pg_basebackup",
					ctx->opts->force ? "Y" : "N");
}

static int
prepare_destination(RepmgrContext *ctx, const char *dest)
{
	DirState	state = datadir_state(dest);

	if (state == DIR_NOT_EMPTY && !ctx->opts->rsync_only && !datadir_empty_out(dest))
		return ERR_BAD_CONFIG;
	if (!datadir_create(dest))
		return ERR_BAD_CONFIG;
	return SUCCESS;
}

static int
create_slot(PGconn *conn, int node_id)
{
	const char *params[1] = {slot_name_for(node_id)};

	log_notice("creating replication slot \"%s\" on the upstream node", params[0]);
	return db_command(conn,
					  "SELECT pg_catalog.pg_create_physical_replication_slot($1, true)",
					  1, params);
}

static int
clone_into(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest)
{
	int			rc = SUCCESS;

	if (ctx->config->use_replication_slots && !up->slot_exists)
		rc = create_slot(conn, ctx->config->node_id);
	if (rc == SUCCESS)
		rc = prepare_destination(ctx, dest);
	if (rc == SUCCESS)
		rc = ctx->opts->rsync_only ? run_rsync_clone(ctx, conn, up, dest)
			: run_pg_basebackup(ctx, up, dest);
	if (rc == SUCCESS)
		rc = copy_external_config_files(ctx, up, dest);
	if (rc == SUCCESS)
		rc = write_standby_settings(ctx, conn, up, dest);
	return rc;
}

int
do_standby_clone(RepmgrContext *ctx)
{
	RuntimeOptions *opts = ctx->opts;
	RepmgrConfig *config = ctx->config;
	Upstream	up;
	PGconn	   *conn;
	char	   *dest;
	int			rc;

	memset(&up, 0, sizeof(up));
	if (opts->extra != NULL)
	{
		if (opts->host != NULL && strcmp(opts->host, opts->extra) != 0)
		{
			log_error("two upstream hosts given: \"%s\" (-h) and \"%s\"", opts->host, opts->extra);
			return ERR_BAD_CONFIG;
		}
		opts->host = opts->extra;
	}
	if (!connection_options_given(opts))
	{
		log_error("no upstream server given");
		log_hint("Use -h/--host (and -p, -U, -d) or name the host after \"standby clone\".");
		return ERR_BAD_CONFIG;
	}
	if (config->use_replication_slots && config->node_id <= 0)
	{
		log_error("use_replication_slots needs \"node\" in the configuration file: the slot is named after it");
		return ERR_BAD_CONFIG;
	}

	up.conninfo = conninfo_from_options(opts, DEFAULT_DBNAME);
	up.local = conninfo_is_local(up.conninfo);
	up.host = conninfo_get(up.conninfo, "host");
	conn = db_connect(up.conninfo, &rc);
	if (conn == NULL)
		return rc;
	rc = check_upstream(ctx, conn, &up);
	if (rc == SUCCESS)
	{
		if (opts->data_dir == NULL && config->data_directory == NULL)
			opts->data_dir = up.datadir;
		rc = resolve_data_directory(ctx, NULL, &dest);
	}
	if (rc == SUCCESS)
		rc = check_destination(ctx, &up, dest);
	if (rc == SUCCESS && opts->rsync_only && !up.local)
		rc = ssh_check(config, up.host, opts->remote_user);
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}
	log_notice("destination directory '%s' provided", dest);

	if (opts->dry_run)
	{
		log_notice("prerequisites for cloning are met");
		log_detail("would clone \"%s\" (%s) into \"%s\" using %s%s", up.datadir, conninfo_mask(up.conninfo),
				   dest, opts->rsync_only ? "rsync" : "pg_basebackup",
				   config->use_replication_slots ? psprintf(", with replication slot \"%s\"",
															slot_name_for(config->node_id)) : "");
		PQfinish(conn);
		return SUCCESS;
	}

	rc = clone_into(ctx, conn, &up, dest);
	if (up.has_extension && config->node_id > 0)
		(void) record_event(conn, config->node_id, "standby_clone", rc == SUCCESS,
							clone_details(ctx, &up));
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	log_notice("standby clone (using %s) complete", opts->rsync_only ? "rsync" : "pg_basebackup");
	log_notice("you can now start your PostgreSQL server");
	log_hint("for example : pg_ctl -D %s start", dest);
	if (config->node_id > 0)
		log_hint("then register it with \"repmgr%s%s standby register\"",
				 config->config_file ? " -f " : "",
				 config->config_file ? config->config_file : "");
	return SUCCESS;
}
